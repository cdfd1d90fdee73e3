//! The signer's own node of each chain (`[policy.chains.node]`), read over JSON-RPC: the chain's head and blocks
//! (`eth_getBlockByNumber`: number and timestamp) and the Settlement contract's views (`eth_call` of
//! `isNonceUsed(uint256)`, `maxAsOfLag()`, `floor(address)` and, while the signer holds two keys, `signer()`). The signer decides what only the chain can tell — that a liability
//! root is as of a confirmed block, that a refunded payment happened and was not refunded yet, what time it is on
//! the chain — from what it reads here itself, never from the caller's word. Every answer is bounded in size and
//! time; a read that fails is an error, never a guess.
//!
//! TRON's JSON-RPC (java-tron) serves no historical state: there the node is the Solidity port, whose `latest` is
//! already solidified, and the contract's state is read at `latest`; blocks are read by number as on EVM chains.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use abi::{Settlement, chain::Family};
use alloy::{
    primitives::{Address, Bytes, U256},
    sol_types::SolCall,
};
use serde_json::{Value, json};

use crate::policy::NodeConfig;

/// Longest wait for a node's answer.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer read for a call (an `eth_call` of a view returning one word is under 200 bytes).
const MAX_CALL_ANSWER_BYTES: usize = 4096;
/// Largest answer read for a block (its transactions as hashes: a few hundred KB on a busy BSC block).
const MAX_BLOCK_ANSWER_BYTES: usize = 4 << 20;
/// Most characters of a node's error message quoted in ours.
const QUOTED: usize = 200;

/// The block a state read is made at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The node's latest block (on TRON's Solidity port: the latest solidified one).
    Latest,
    /// A block by number.
    Number(u64),
}

impl At {
    fn tag(self) -> String {
        match self {
            At::Latest => "latest".into(),
            At::Number(n) => format!("{n:#x}"),
        }
    }
}

/// A block's number and timestamp (unix seconds), as the node answered them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Its number.
    pub number: u64,
    /// Its timestamp: the chain's time, as the contract's `block.timestamp` sees it.
    pub timestamp: u64,
}

/// The chain's head and its confirmed block, with where confirmed state is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confirmed {
    /// The node's latest block.
    pub head: Block,
    /// The block `confirmations` below it.
    pub block: Block,
    /// Where state as of the confirmed block is read: that block by number, or `latest` on TRON (no historical
    /// state; its `latest` is solidified, so final).
    pub state_at: At,
}

/// A token's latest committed liabilities total and what the chain paid its members since (`floor(token)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Floor {
    /// The total of the latest committed liability root (0 before the first).
    pub committed_total: U256,
    /// What left custody to members since that commitment: payout entries pushed (a deferred entry counts once
    /// claimed), claims, and the dues members who left were settled for.
    pub paid_since: U256,
    /// The block of the latest commitment (0 before the first): which commitment `committed_total` is. (Set where the
    /// floor is read across a chain's contracts; 0 from [`Nodes::floor`] alone.)
    pub commit_block: u64,
}

/// Why the node of a chain could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The signer has no node of that chain.
    #[error("the signer has no node of chain {0}")]
    NoNode(u64),
    /// The node did not answer, or not as expected.
    #[error("{0}")]
    Unavailable(String),
}

struct Source {
    config: NodeConfig,
    /// State is read at `latest` only (TRON's JSON-RPC).
    latest_state_only: bool,
}

/// The node of each chain the signer has one of, and the contracts' immutables read from them.
pub struct Nodes {
    sources: HashMap<u64, Source>,
    http: reqwest::Client,
    /// `maxAsOfLag()` of each (chain, contract): an immutable, read once.
    max_as_of_lags: Mutex<HashMap<(u64, Address), u64>>,
    /// The chain id each node answered (`eth_chainId`): it does not change, read once it answered.
    chain_ids: Mutex<HashMap<u64, u64>>,
}

impl std::fmt::Debug for Nodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut chains: Vec<_> = self.sources.keys().collect();
        chains.sort();
        f.debug_struct("Nodes").field("chains", &chains).finish_non_exhaustive()
    }
}

impl Nodes {
    /// The nodes of the chains that have one.
    pub fn new(sources: Vec<(u64, NodeConfig)>) -> Self {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build().unwrap_or_default();
        let sources = sources
            .into_iter()
            .map(|(id, config)| (id, Source { config, latest_state_only: Family::of(id) == Family::Tron }))
            .collect();
        Nodes { sources, http, max_as_of_lags: Mutex::default(), chain_ids: Mutex::default() }
    }

    /// Each node as `GET /v1/signer` shows it, by chain id: the chain it answers (asked once it has answered), and
    /// whether it is reached over TLS or on this machine. Never its URL.
    pub async fn infos(&self) -> Vec<crate::api::NodeInfo> {
        let mut infos = Vec::new();
        for chain_id in self.chains() {
            let url = self.sources[&chain_id].config.rpc_url.parse::<reqwest::Url>().ok();
            let loopback = url.as_ref().and_then(|u| u.host_str()).is_some_and(|host| {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                host.eq_ignore_ascii_case("localhost")
                    || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
            });
            let known = self.chain_ids.lock().expect("chain ids lock").get(&chain_id).copied();
            let answered = match known {
                Some(id) => Ok(id),
                None => self.rpc(chain_id, "eth_chainId", json!([]), MAX_CALL_ANSWER_BYTES).await.and_then(|v| {
                    quantity(&v).ok_or_else(|| NodeError::Unavailable(format!("eth_chainId answered {v:.100}")))
                }),
            };
            if let Ok(id) = answered {
                self.chain_ids.lock().expect("chain ids lock").insert(chain_id, id);
            }
            infos.push(crate::api::NodeInfo {
                chain_id,
                tls: url.as_ref().is_some_and(|u| u.scheme() == "https"),
                loopback,
                answers_chain_id: answered.as_ref().ok().copied(),
                confirmations: Some(self.sources[&chain_id].config.confirmations),
                error: answered.err().map(|e| e.to_string()),
            });
        }
        infos
    }

    /// Whether the signer has a node of `chain_id`.
    pub fn has(&self, chain_id: u64) -> bool {
        self.sources.contains_key(&chain_id)
    }

    /// The chains the signer has a node of, by id.
    pub fn chains(&self) -> Vec<u64> {
        let mut chains: Vec<u64> = self.sources.keys().copied().collect();
        chains.sort_unstable();
        chains
    }

    fn source(&self, chain_id: u64) -> Result<&Source, NodeError> {
        self.sources.get(&chain_id).ok_or(NodeError::NoNode(chain_id))
    }

    /// One JSON-RPC call: its `result`, read within [`TIMEOUT`] and at most `limit` bytes.
    async fn rpc(&self, chain_id: u64, method: &str, params: Value, limit: usize) -> Result<Value, NodeError> {
        let source = self.source(chain_id)?;
        let failed = |what: String| NodeError::Unavailable(format!("chain {chain_id}'s node, {method}: {what}"));
        let request = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let mut answer = self
            .http
            .post(&source.config.rpc_url)
            .json(&request)
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        if !answer.status().is_success() {
            return Err(failed(format!("HTTP {}", answer.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(|e| failed(e.without_url().to_string()))? {
            if body.len() + chunk.len() > limit {
                return Err(failed(format!("an answer of more than {limit} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let mut value: Value = serde_json::from_slice(&body).map_err(|e| failed(format!("not JSON: {e}")))?;
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            let message = error.get("message").and_then(Value::as_str).unwrap_or_default();
            let message = &message[..message.floor_char_boundary(QUOTED)];
            return Err(failed(format!("error {}: {message}", error.get("code").unwrap_or(&Value::Null))));
        }
        Ok(value.get_mut("result").map(Value::take).unwrap_or(Value::Null))
    }

    /// A block's number and timestamp.
    pub async fn block(&self, chain_id: u64, at: At) -> Result<Block, NodeError> {
        let found =
            self.rpc(chain_id, "eth_getBlockByNumber", json!([at.tag(), false]), MAX_BLOCK_ANSWER_BYTES).await?;
        let field = |name: &str| found.get(name).and_then(quantity);
        match (field("number"), field("timestamp")) {
            (Some(number), Some(timestamp)) => Ok(Block { number, timestamp }),
            _ if found.is_null() => Err(NodeError::Unavailable(format!("chain {chain_id}'s node has no block {at:?}"))),
            _ => Err(NodeError::Unavailable(format!(
                "chain {chain_id}'s node answered a block without number or timestamp: {:.200}",
                found.to_string()
            ))),
        }
    }

    /// The chain's head and its confirmed block (the head less the configured confirmations).
    pub async fn confirmed(&self, chain_id: u64) -> Result<Confirmed, NodeError> {
        let (confirmations, latest_state_only) = {
            let source = self.source(chain_id)?;
            (source.config.confirmations, source.latest_state_only)
        };
        let head = self.block(chain_id, At::Latest).await?;
        let number = head.number.saturating_sub(confirmations);
        let block = if number == head.number { head } else { self.block(chain_id, At::Number(number)).await? };
        if block.number != number {
            return Err(NodeError::Unavailable(format!(
                "chain {chain_id}'s node answered block {} for block {number}",
                block.number
            )));
        }
        let state_at = if latest_state_only { At::Latest } else { At::Number(number) };
        Ok(Confirmed { head, block, state_at })
    }

    /// The contract's view `call` at `at` (on TRON: always `latest`), decoded.
    async fn call<C: SolCall>(
        &self,
        chain_id: u64,
        contract: Address,
        call: &C,
        at: At,
    ) -> Result<C::Return, NodeError> {
        let at = if self.source(chain_id)?.latest_state_only { At::Latest } else { at };
        let data = Bytes::from(call.abi_encode());
        let params = json!([{ "to": format!("{contract:#x}"), "data": data.to_string() }, at.tag()]);
        let answer = self.rpc(chain_id, "eth_call", params, MAX_CALL_ANSWER_BYTES).await?;
        let bad = |what: &str| {
            NodeError::Unavailable(format!("chain {chain_id}'s node, {} of {contract}: {what}", C::SIGNATURE))
        };
        let bytes: Bytes = answer.as_str().and_then(|hex| hex.parse().ok()).ok_or_else(|| bad("no data"))?;
        C::abi_decode_returns(&bytes).map_err(|_| bad(&format!("an answer that is no {}: {bytes}", C::SIGNATURE)))
    }

    /// Whether `nonce` is spent on `contract` (`isNonceUsed`) at `at`.
    pub async fn is_nonce_used(
        &self,
        chain_id: u64,
        contract: Address,
        nonce: U256,
        at: At,
    ) -> Result<bool, NodeError> {
        self.call(chain_id, contract, &Settlement::isNonceUsedCall { nonce }, at).await
    }

    /// Whether `nonce` was spent on `contract` by `cancelNonces` while free (`isNonceCancelled`) at `at`: spent, but by
    /// no payload.
    pub async fn is_nonce_cancelled(
        &self,
        chain_id: u64,
        contract: Address,
        nonce: U256,
        at: At,
    ) -> Result<bool, NodeError> {
        self.call(chain_id, contract, &Settlement::isNonceCancelledCall { nonce }, at).await
    }

    /// `floor(token)` of `contract` at `at`: the latest committed liabilities' total and what the chain paid members
    /// of the token since that commitment (payout entries pushed, claims, leaves' dues), as the contract keeps them.
    pub async fn floor(&self, chain_id: u64, contract: Address, token: Address, at: At) -> Result<Floor, NodeError> {
        let read = self.call(chain_id, contract, &Settlement::floorCall { token }, at).await?;
        Ok(Floor { committed_total: read.committedTotal, paid_since: read.paidSince, commit_block: 0 })
    }

    /// The block `contract`'s latest liabilities of `token` were committed in, at `at` (0 before the first).
    pub async fn commit_block(
        &self,
        chain_id: u64,
        contract: Address,
        token: Address,
        at: At,
    ) -> Result<u64, NodeError> {
        let read = self.call(chain_id, contract, &Settlement::latestLiabilitiesCall { token }, at).await?;
        Ok(read.commitBlock)
    }

    /// Whether `member` left `token` at `contract` (`hasLeft`) at the latest block (on TRON the latest solidified one).
    pub async fn has_left(
        &self,
        chain_id: u64,
        contract: Address,
        member: Address,
        token: Address,
    ) -> Result<bool, NodeError> {
        self.call(chain_id, contract, &Settlement::hasLeftCall { member, token }, At::Latest).await
    }

    /// Whether `user` is registered in `token` at `contract` (`isRegistered`) at the latest block (on TRON the latest
    /// solidified one).
    pub async fn is_registered(
        &self,
        chain_id: u64,
        contract: Address,
        user: Address,
        token: Address,
    ) -> Result<bool, NodeError> {
        self.call(chain_id, contract, &Settlement::isRegisteredCall { user, token }, At::Latest).await
    }

    /// `signer()` of `contract` at the latest block (on TRON the latest solidified one): the key the contract
    /// accepts payloads from now.
    pub async fn contract_signer(&self, chain_id: u64, contract: Address) -> Result<Address, NodeError> {
        self.call(chain_id, contract, &Settlement::signerCall {}, At::Latest).await
    }

    /// `maxAsOfLag()` of `contract`: an immutable, read from the node once and remembered.
    pub async fn max_as_of_lag(&self, chain_id: u64, contract: Address) -> Result<u64, NodeError> {
        let cached = self.max_as_of_lags.lock().unwrap_or_else(|p| p.into_inner()).get(&(chain_id, contract)).copied();
        if let Some(lag) = cached {
            return Ok(lag);
        }
        let lag = self.call(chain_id, contract, &Settlement::maxAsOfLagCall {}, At::Latest).await?;
        let lag = u64::try_from(lag).unwrap_or(u64::MAX);
        self.max_as_of_lags.lock().unwrap_or_else(|p| p.into_inner()).insert((chain_id, contract), lag);
        Ok(lag)
    }
}

/// A JSON-RPC quantity (`0x…`, at most 64 bits).
fn quantity(value: &Value) -> Option<u64> {
    let hex = value.as_str()?.strip_prefix("0x")?;
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}
