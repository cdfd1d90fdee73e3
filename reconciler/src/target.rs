//! A chain the reconciler reads: its provider, contract and the bounds of its reads, from the configuration.

use std::time::Duration;

use alloy::{
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
};
use service_kit::chain_spec::TronFinality;

use crate::config::ChainConfig;

/// One contract of a chain whose admin powers are read: the live one or one still wound down, with its deployment
/// block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watched {
    /// The Settlement contract.
    pub contract: Address,
    /// Its deployment block: its admin events are read from here on, never from before.
    pub start_block: u64,
}

/// A chain to reconcile.
#[derive(Clone, Debug)]
pub struct ChainTarget {
    /// The chain's id.
    pub chain_id: u64,
    /// The chain's JSON-RPC provider; on a TRON chain ([`abi::chain::Family::of`] its id) a Solidity node's, whose `latest` is
    /// the solidified block custody is read at ([`crate::figures::read_tron_chain`]) — or, with `finalized_tag`, a full
    /// node's.
    pub provider: DynProvider,
    /// On a TRON chain: `provider` is a full node, whose `finalized` block is the solidified one
    /// ([`crate::figures::read_tron_chain_finalized`]; the chain spec's `finality = "finalized_tag"`).
    pub finalized_tag: bool,
    /// The live Settlement contract (custody, admin powers, commitments).
    pub contract: Address,
    /// The contracts it replaced, still wound down (the chain spec's `[[chains.previous]]`), with their deployment
    /// blocks: their custody is counted with the live one's, their admin powers watched as its are.
    pub previous: Vec<(Address, u64)>,
    /// The listener's confirmation depth on this chain (for the lag check).
    pub confirmations: u64,
    /// Empty = every asset the ledger has on this chain.
    pub assets: Vec<Address>,
    /// The API's proof-of-solvency epoch interval on this chain: set, its commitments are checked.
    pub solvency_interval_blocks: Option<u64>,
    /// The contract's deployment block (the chain spec's `start_block`): its admin events are read from here on,
    /// never from before.
    pub start_block: u64,
    /// Most blocks one `eth_getLogs` of the admin events spans (at most 5,000 on TRON).
    pub max_log_range: u64,
}

impl ChainTarget {
    /// Every contract whose custody is the chain's: the live one, then those still wound down.
    pub fn custody_holders(&self) -> Vec<Address> {
        std::iter::once(self.contract).chain(self.previous.iter().map(|(c, _)| *c)).collect()
    }

    /// Every contract whose admin powers are watched: the live one, then those still wound down.
    pub fn watched(&self) -> Vec<Watched> {
        std::iter::once((self.contract, self.start_block))
            .chain(self.previous.iter().copied())
            .map(|(contract, start_block)| Watched { contract, start_block })
            .collect()
    }

    /// The target `chain` describes, its provider (on TRON the spec's Solidity JSON-RPC) abandoning a request after
    /// `rpc_timeout_secs`.
    pub fn from_config(chain: &ChainConfig) -> eyre::Result<Self> {
        let spec = &chain.spec;
        let http = spec.http_client(Duration::from_secs(chain.tuning.rpc_timeout_secs))?;
        let finalized_tag = spec.tron.as_ref().is_some_and(|t| t.finality == TronFinality::FinalizedTag);
        let url = match &spec.tron {
            Some(_) if finalized_tag => spec.require_rpc_url("reconciler")?,
            Some(tron) => tron.solidity_rpc_url.as_str(),
            None => spec.require_rpc_url("reconciler")?,
        };
        let provider = ProviderBuilder::new().connect_reqwest(http, url.parse()?).erased();
        Ok(Self {
            chain_id: spec.chain_id,
            provider,
            finalized_tag,
            contract: spec.settlement,
            previous: spec.previous.iter().map(|p| (p.settlement, p.start_block)).collect(),
            confirmations: spec.confirmations,
            assets: chain.tuning.assets.clone(),
            solvency_interval_blocks: chain.tuning.solvency_interval_blocks,
            start_block: spec.start_block,
            max_log_range: chain.tuning.max_log_range,
        })
    }
}
