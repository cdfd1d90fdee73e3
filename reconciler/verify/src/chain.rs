//! The commitment read from the chain itself (`latestLiabilities`), through any JSON-RPC endpoint: an EVM node, or
//! TRON's JSON-RPC (whose `eth_call` answers at its latest block: the solidified one on a Solidity node). Read at the
//! contract the auditor gives, never at one a proof names, with what the auditor's own node says of its chain and of
//! the token.

use std::time::Duration;

use abi::Settlement;
use alloy::{
    primitives::Address,
    providers::{Provider, ProviderBuilder},
};

use crate::Commitment;

/// What the auditor's node says: its chain, its head, and the contract's commitment of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The node's chain id (`eth_chainId`).
    pub chain_id: u64,
    /// The node's head block, read after the commitment (never below its blocks).
    pub head: u64,
    /// The token's latest commitment at the contract (`latestLiabilities`).
    pub commitment: Commitment,
    /// Whether the contract ever allowed the token (`wasEverAllowed`).
    pub token_ever_allowed: bool,
}

fn provider(rpc_url: &str) -> Result<impl Provider, String> {
    let url = rpc_url.parse().map_err(|e| format!("RPC URL {rpc_url:.100}: {e}"))?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().map_err(|e| e.to_string())?;
    Ok(ProviderBuilder::new().connect_reqwest(http, url))
}

/// The chain id the node at `rpc_url` answers (`eth_chainId`).
pub async fn chain_id(rpc_url: &str) -> Result<u64, String> {
    provider(rpc_url)?.get_chain_id().await.map_err(|e| format!("eth_chainId: {e}"))
}

/// Reads, from the node at `rpc_url`, its chain id, then `token`'s latest commitment at `contract` and whether the
/// contract ever allowed `token`, then the head. An address without code, or one that does not answer as the
/// Settlement contract, is an error (nothing to verify against).
pub async fn read(rpc_url: &str, contract: Address, token: Address) -> Result<Reading, String> {
    let provider = provider(rpc_url)?;
    let chain_id = provider.get_chain_id().await.map_err(|e| format!("eth_chainId: {e}"))?;
    let code = provider.get_code_at(contract).await.map_err(|e| format!("eth_getCode({contract}): {e}"))?;
    if code.is_empty() {
        return Err(format!("no contract at {contract} on chain {chain_id}: is it the deployment's Settlement?"));
    }
    let settlement = Settlement::new(contract, &provider);
    let latest = settlement.latestLiabilities(token).call().await.map_err(|e| {
        format!("latestLiabilities({token}) at {contract}: {e} (is it the deployment's Settlement, of this build?)")
    })?;
    let token_ever_allowed = settlement
        .wasEverAllowed(token)
        .call()
        .await
        .map_err(|e| format!("wasEverAllowed({token}) at {contract}: {e}"))?;
    let head = provider.get_block_number().await.map_err(|e| format!("eth_blockNumber: {e}"))?;
    let commitment = Commitment {
        root: latest.root,
        total: latest.total,
        epoch: latest.epoch,
        as_of_block: latest.asOfBlock,
        commit_block: latest.commitBlock,
        custody: latest.custody,
    };
    Ok(Reading { chain_id, head, commitment, token_ever_allowed })
}
