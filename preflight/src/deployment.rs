//! `start_block`: the chain spec's `start_block` must be at or before the contract's deployment block, where an empty
//! ledger starts reading: a later one and the events between — the constructor's role grants, and any registration
//! or payment — never reach the ledger.
//!
//! The deployment block is the block of the constructor's `SignerRotated(0, signer)` (no later rotation has a zero
//! previous signer), looked for within [`LOG_WINDOW`] blocks on each side of `start_block`; when the node does not
//! show it there, the first block with the contract's code, by binary search on `eth_getCode` (a node with historical
//! state; TRON's JSON-RPC serves none). When neither tells, the check is listed as skipped.

use abi::Settlement;
use alloy::{
    eips::BlockId,
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEvent,
};

use crate::{Chain, Findings, Level};

/// Most blocks one `eth_getLogs` spans here (TRON's JSON-RPC refuses more than 5,000; providers cap about as much).
pub const LOG_WINDOW: u64 = 5_000;

/// What the node said of where the contract was deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    /// At this block.
    At(u64),
    /// At or before this block (its code was there; how much earlier, the node did not tell).
    AtOrBefore(u64),
    /// At or after this block (no code there).
    AtOrAfter(u64),
    /// The node does not tell.
    Unknown,
}

impl Chain<'_> {
    /// `start_block`, and the contract's deployment block when it was found (where its first holders were granted
    /// their roles, [`crate::keys`]).
    pub(crate) async fn deployment(&self, found: &mut Findings) -> Result<Option<u64>, String> {
        let start = self.spec.start_block;
        let head = self.provider.get_block_number().await.map_err(|e| format!("eth_blockNumber: {e}"))?;
        let mut deployed = self.constructor_event(start, head).await;
        if matches!(deployed, Found::Unknown) {
            deployed = self.first_code(start, head).await;
        }
        let fix = "events between would never reach the ledger (the constructor's role grants, any registration or \
                   payment); set start_block in the chain spec to the deployment block";
        match deployed {
            Found::At(block) if block < start => found.push(
                "start_block",
                Level::Fail,
                format!("start_block {start} is after the contract's deployment block {block}: the {fix} ({block})"),
            ),
            Found::AtOrBefore(block) if block < start => found.push(
                "start_block",
                Level::Fail,
                format!(
                    "start_block {start} is after the contract's deployment, at or before block {block} (its code is \
                     there): the {fix}"
                ),
            ),
            Found::Unknown => found.push(
                "start_block",
                Level::Skipped,
                format!(
                    "the node shows neither the contract's deployment event within {LOG_WINDOW} blocks of start_block \
                     {start} nor historical state: whether start_block is at or before the deployment block is \
                     unchecked; compare it with the deployment record"
                ),
            ),
            _ => {}
        }
        Ok(match deployed {
            Found::At(block) => Some(block),
            _ => None,
        })
    }

    /// The block of the constructor's `SignerRotated(0, …)`, looked for in the [`LOG_WINDOW`] blocks before
    /// `start` and from `start` on.
    async fn constructor_event(&self, start: u64, head: u64) -> Found {
        let before = (start > 0).then(|| (start.saturating_sub(LOG_WINDOW), start - 1));
        let after = (start <= head).then(|| (start, head.min(start.saturating_add(LOG_WINDOW - 1))));
        for (from, to) in before.into_iter().chain(after) {
            let filter = Filter::new()
                .address(self.spec.settlement)
                .event_signature(Settlement::SignerRotated::SIGNATURE_HASH)
                .topic1(B256::from(Address::ZERO.into_word()))
                .from_block(from)
                .to_block(to);
            match self.provider.get_logs(&filter).await {
                Ok(logs) => {
                    if let Some(block) = logs.iter().filter_map(|l| l.block_number).min() {
                        return Found::At(block);
                    }
                }
                Err(e) => tracing::debug!(from, to, error = %e, "preflight: the deployment event could not be read"),
            }
        }
        Found::Unknown
    }

    /// The first block with the contract's code: below `start` when it is there at `start - 1`, else at or after
    /// `start`; as far as the node's historical state tells.
    async fn first_code(&self, start: u64, head: u64) -> Found {
        let has_code = |block: u64| async move {
            let code = self.provider.get_code_at(self.spec.settlement).block_id(BlockId::number(block)).await;
            code.map(|c| !c.is_empty()).map_err(|e| e.to_string())
        };
        let (mut low, mut high, bound) = if start == 0 {
            (0, head, Found::AtOrAfter(0))
        } else {
            match has_code(start - 1).await {
                Ok(true) => (0, start - 1, Found::AtOrBefore(start - 1)),
                Ok(false) => (start, head, Found::AtOrAfter(start)),
                Err(_) if start > head => return Found::AtOrBefore(head), // It is there now, and start is ahead.
                Err(_) => return Found::Unknown,
            }
        };
        // The lowest block in [low, high] with code (there is code at `high`: the code check passed at the head).
        while low < high {
            let mid = low + (high - low) / 2;
            match has_code(mid).await {
                Ok(true) => high = mid,
                Ok(false) => low = mid + 1,
                Err(_) => return bound,
            }
        }
        Found::At(low)
    }
}
