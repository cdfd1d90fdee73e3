//! The commitment read from the chain itself (`latestLiabilities`), through any JSON-RPC endpoint: an EVM node, or
//! TRON's JSON-RPC (whose `eth_call` answers at its latest block: the solidified one on a Solidity node).

use std::time::Duration;

use abi::Settlement;
use alloy::{
    primitives::Address,
    providers::{Provider, ProviderBuilder},
};

use crate::Commitment;

/// Reads `token`'s latest commitment at `contract` and the chain's head from the node at `rpc_url`.
pub async fn read(rpc_url: &str, contract: Address, token: Address) -> Result<(Commitment, u64), String> {
    let url = rpc_url.parse().map_err(|e| format!("RPC URL {rpc_url:.100}: {e}"))?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().map_err(|e| e.to_string())?;
    let provider = ProviderBuilder::new().connect_reqwest(http, url);
    let head = provider.get_block_number().await.map_err(|e| format!("eth_blockNumber: {e}"))?;
    let latest = Settlement::new(contract, &provider)
        .latestLiabilities(token)
        .call()
        .await
        .map_err(|e| format!("latestLiabilities({token}) at {contract}: {e}"))?;
    let commitment = Commitment {
        root: latest.root,
        total: latest.total,
        epoch: latest.epoch,
        as_of_block: latest.asOfBlock,
        commit_block: latest.commitBlock,
        custody: latest.custody,
    };
    Ok((commitment, head))
}
