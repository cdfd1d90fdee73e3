//! `tron_network`: every TRON endpoint of a chain is a node of the chain's network. java-tron's chain id is the last
//! 4 bytes of its network's genesis block id, so each endpoint — the JSON-RPC full and Solidity nodes, the gRPC
//! `Wallet` payouts are broadcast through and `WalletSolidity` — is asked for block 0: an id ending in another TRON
//! network's chain id, or a genesis block other than `rpc_url`'s (whose `eth_chainId` the `chain_id` check
//! verified), is a node of another network. Genesis blocks are compared by their hash part (bytes 8–31): the first
//! eight bytes of a TRON block id are its number.

use alloy::{eips::BlockNumberOrTag, primitives::B256, providers::Provider};

use crate::{
    Chain, Findings, Level, TIMEOUT,
    grpc::{self, Service},
};

pub use abi::tron::chain_id_of_genesis;

/// A TRON network's name, by chain id.
fn network(chain_id: u64) -> Option<&'static str> {
    match chain_id {
        abi::chain::TRON_MAINNET => Some("mainnet"),
        abi::chain::TRON_NILE => Some("Nile"),
        abi::chain::TRON_SHASTA => Some("Shasta"),
        _ => None,
    }
}

impl Chain<'_> {
    /// `tron_network` of a TRON chain's endpoints.
    pub(crate) async fn tron_network(&self, found: &mut Findings) -> Result<(), String> {
        let Some(tron) = &self.spec.tron else { return Ok(()) };
        let id = self.spec.chain_id;
        let key = tron.api_key().map_err(|e| e.to_string())?;
        let json_genesis = |provider: alloy::providers::DynProvider, field: &'static str| async move {
            let block = provider
                .get_block_by_number(BlockNumberOrTag::Number(0))
                .await
                .map_err(|e| format!("block 0 of {field}: {e}"))?
                .ok_or_else(|| format!("{field} has no block 0"))?;
            Ok::<B256, String>(block.header.hash)
        };
        let mut genesis = vec![("rpc_url", json_genesis(self.provider.clone(), "rpc_url").await?)];
        if Some(tron.solidity_rpc_url.as_str()) != self.spec.rpc_url.as_deref() {
            let solidity = crate::provider(self.spec, &tron.solidity_rpc_url)?;
            genesis.push(("tron.solidity_rpc_url", json_genesis(solidity, "tron.solidity_rpc_url").await?));
        }
        let grpc = [("tron.grpc_url", &tron.grpc_url, Service::Wallet)];
        let solidity_grpc = [("tron.solidity_grpc_url", &tron.solidity_grpc_url, Service::WalletSolidity)];
        for (field, url, service) in grpc.into_iter().chain(solidity_grpc) {
            let Some(url) = url else { continue };
            match grpc::block_id(url, service, 0, key.as_deref(), TIMEOUT).await {
                Ok(block) => genesis.push((field, block)),
                // A full node's port given as the Solidity one: `solidity_trails` says so.
                Err(e) if e.contains("Unimplemented") => {}
                Err(e) => found.push_about(
                    "tron_network",
                    field,
                    Level::Unverified,
                    format!("block 0 of {field} could not be read ({e}): its network is unchecked"),
                ),
            }
        }
        let reference = genesis[0].1;
        for (field, block) in genesis {
            let carried = chain_id_of_genesis(block);
            if let Some(name) = network(carried).filter(|_| carried != id) {
                found.push_about(
                    "tron_network",
                    field,
                    Level::Fail,
                    format!(
                        "{field} is a node of TRON {name} (its genesis block {block} ends in chain id {carried}), the \
                         chain spec declares chain {id}: point {field} at a node of chain {id}"
                    ),
                );
            } else if block[8..] != reference[8..] {
                found.push_about(
                    "tron_network",
                    field,
                    Level::Fail,
                    format!(
                        "{field} answers genesis block {block}, rpc_url (which answers chain id {id}) {reference}: they \
                         are nodes of different networks; point {field} at a node of chain {id}"
                    ),
                );
            }
        }
        Ok(())
    }
}
