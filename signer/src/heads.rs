//! The chains' confirmed heads, as the signer reads them itself from its own node (`[policy.chains.solvency]`): a
//! liability root may only be as of a confirmed block, and the caller's word for the head would make that check
//! meaningless. Read once per request that carries a liability root; never on the path of the other kinds.

use std::{collections::HashMap, time::Duration};

use crate::policy::SolvencyConfig;

/// Longest wait for a node's answer.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer read from a node (an `eth_blockNumber` answer is under 100 bytes).
const MAX_ANSWER_BYTES: usize = 4096;

/// Where each chain's head is read.
#[derive(Debug, Clone, Default)]
pub struct Heads {
    sources: HashMap<u64, SolvencyConfig>,
    http: reqwest::Client,
}

impl Heads {
    /// The head sources of the chains that allow liability roots.
    pub fn new(sources: Vec<(u64, SolvencyConfig)>) -> Self {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build().unwrap_or_default();
        Heads { sources: sources.into_iter().collect(), http }
    }

    /// The confirmed head of `chain_id`: the node's `eth_blockNumber` less the configured confirmations.
    pub async fn confirmed(&self, chain_id: u64) -> Result<u64, String> {
        let source = self.sources.get(&chain_id).ok_or_else(|| format!("no head source for chain {chain_id}"))?;
        let request = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": [] });
        let answer = self
            .http
            .post(&source.rpc_url)
            .json(&request)
            .send()
            .await
            .map_err(|e| format!("chain {chain_id}'s node: {e}"))?;
        let bytes = answer.bytes().await.map_err(|e| format!("chain {chain_id}'s node: {e}"))?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(format!("chain {chain_id}'s node answered {} bytes to eth_blockNumber", bytes.len()));
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("chain {chain_id}'s node: not JSON: {e}"))?;
        let head = value["result"]
            .as_str()
            .and_then(|h| h.strip_prefix("0x"))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("chain {chain_id}'s node: no block number in {:.200}", value.to_string()))?;
        Ok(head.saturating_sub(source.confirmations))
    }
}
