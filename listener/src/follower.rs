//! Reads the Settlement contract's logs (and those of the contracts it replaced, still followed while wound down)
//! from one chain's RPC provider, only from blocks at least
//! `confirmations` deep, in order, and proves each answer consistent before handing it on:
//!
//! * every block's parent hash links to the block before it, and the first one to the caller's cursor —
//!   a break at the cursor means the chain changed below the confirmation depth ([`FollowError::DeepReorg`]);
//! * every log's block hash is the canonical one the headers show;
//! * a block whose logs bloom names the contract but for which the range query returned nothing is asked
//!   again by block hash (a lagging node behind a load balancer answers `[]` instead of failing).
//!
//! Provider faults shrink the query range ([`AdaptiveRange`]) and are returned for the caller to retry.
//!
//! On a TRON chain ([`TronFinality`]) the head is the solidified block (irreversible; confirmations add nothing),
//! a log query spans at most [`TRON_MAX_LOG_RANGE`] blocks, and since TRON's blocks carry an empty bloom the
//! bloom check cannot see a silently empty answer: instead every successful direct call to the contract in a
//! block must have its logs in the answer, or its receipt is read and a missing log fails the poll.

use std::collections::BTreeMap;

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, B256, Bloom, BloomInput},
    providers::Provider,
    rpc::types::{Filter, Log},
};
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use crate::range::AdaptiveRange;

const HEADER_ATTEMPTS: u32 = 3;
/// java-tron's `eth_getLogs` refuses `to − from > 5000`; a query here spans at most this many blocks.
pub const TRON_MAX_LOG_RANGE: u64 = 5_000;

/// How a TRON chain's listener learns the solidified (irreversible) head; declared in the chain spec.
pub use service_kit::chain_spec::TronFinality;
const HEADER_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// Per-chain settings of the follower.
#[derive(Clone, Debug)]
pub struct FollowerConfig {
    /// The chain's id.
    pub chain_id: u64,
    /// The Settlement contract whose logs are read: the chain's live one.
    pub contract: Address,
    /// The contracts it replaced, still followed while they are wound down (the chain spec's `[[chains.previous]]`):
    /// their logs are read with the live one's, in one query, and checked the same way.
    pub previous: Vec<Address>,
    /// The sales desks of those contracts (each Settlement's `salesDesk`, contracts/SALES.md): the desk emits the
    /// sales and refunds the Settlement's custody pays; read with the Settlements' logs, checked the same way.
    pub sales_desks: Vec<Address>,
    /// Blocks below the head that must exist before a block is applied (BSC ≈ 15–24, anvil small).
    pub confirmations: u64,
    /// Blocks the first log query spans (default 500).
    pub initial_range: u64,
    /// Fewest blocks a log query shrinks to on refusals (default 1).
    pub min_range: u64,
    /// Most blocks a log query spans (default 5,000; at most [`TRON_MAX_LOG_RANGE`] on TRON).
    pub max_range: u64,
    /// Block headers fetched at once while checking a range.
    pub header_concurrency: usize,
    /// `Some` on a TRON chain: how the solidified head is read (see the module's notes).
    pub tron: Option<TronFinality>,
}

impl FollowerConfig {
    /// Settings for `contract` on `chain_id` with the default ranges and 16 header fetches at once; not
    /// a TRON chain (see [`on_tron`](Self::on_tron)).
    pub fn new(chain_id: u64, contract: Address, confirmations: u64) -> Self {
        Self {
            chain_id,
            contract,
            previous: Vec::new(),
            sales_desks: Vec::new(),
            confirmations,
            initial_range: 500,
            min_range: 1,
            max_range: 5_000,
            header_concurrency: 16,
            tron: None,
        }
    }

    /// This configuration also following the `previous` contracts an upgrade replaced.
    pub fn with_previous(mut self, previous: Vec<Address>) -> Self {
        self.previous = previous;
        self
    }

    /// This configuration also following the Settlements' sales desks.
    pub fn with_sales_desks(mut self, desks: Vec<Address>) -> Self {
        self.sales_desks = desks;
        self
    }

    /// Every contract followed, the live one first, then those it replaced, then their sales desks.
    pub fn contracts(&self) -> Vec<Address> {
        std::iter::once(self.contract)
            .chain(self.previous.iter().copied())
            .chain(self.sales_desks.iter().copied())
            .collect()
    }

    /// This configuration on a TRON chain: the solidified head read as `finality` says, log ranges capped at
    /// [`TRON_MAX_LOG_RANGE`].
    pub fn on_tron(mut self, finality: TronFinality) -> Self {
        self.tron = Some(finality);
        self.max_range = self.max_range.min(TRON_MAX_LOG_RANGE);
        self.initial_range = self.initial_range.min(self.max_range);
        self
    }
}

/// A block the ledger has applied (the cursor) or is about to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// A confirmed block and the contract's logs in it, in log-index order.
#[derive(Clone, Debug)]
pub struct ConfirmedBlock {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// The parent block's hash (checked to link to the block before).
    pub parent_hash: B256,
    /// Block timestamp (unix seconds).
    pub timestamp: u64,
    /// The contract's logs in this block.
    pub logs: Vec<Log>,
}

/// What a block's header says about the contract's logs before they are read.
#[derive(Clone, Debug, Default)]
struct LogWitness {
    /// The header's logs bloom (all zeros on TRON, where it is not kept).
    bloom: Bloom,
    /// TRON: transactions in the block that call the contract directly.
    direct_calls: Vec<B256>,
}

impl ConfirmedBlock {
    /// This block's number and hash, as a cursor.
    pub fn block_ref(&self) -> BlockRef {
        BlockRef { number: self.number, hash: self.hash }
    }
}

/// Why reading the chain failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The chain no longer contains the block the ledger was built on: a reorg deeper than the confirmation
    /// depth. The listener must stop for this chain and page someone; the ledger is never rewritten silently.
    #[error("reorg below the confirmation depth: block {block} now has parent {chain_parent}, ledger has {recorded}")]
    DeepReorg {
        /// The first block after the cursor, whose parent hash is no longer the cursor's.
        block: u64,
        /// The hash the ledger applied at the cursor (block `block - 1`).
        recorded: B256,
        /// The parent hash the chain now gives `block`.
        chain_parent: B256,
    },
    /// The provider failed (timeout, rate limit, refused range, transport); retry after a pause.
    #[error("provider fault ({kind:?}): {message}")]
    Provider {
        /// What kind of fault, read from the message.
        kind: ProviderFault,
        /// The provider's error.
        message: String,
    },
    /// The provider's answers disagree with each other (a node behind, the head moving); retry.
    #[error("inconsistent provider answer: {0}")]
    Inconsistent(String),
}

impl FollowError {
    /// Whether waiting and asking again can help.
    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::DeepReorg { .. })
    }
}

/// What kind of provider fault, read from the error's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderFault {
    /// The query spanned too many blocks or matched too many logs; the range shrinks.
    RangeTooLarge,
    /// HTTP 429 or a rate-limit refusal.
    RateLimited,
    /// The request timed out; the range shrinks too.
    Timeout,
    /// Any other failure (transport, server error).
    Other,
}

/// Providers word these differently; the message is all they have in common.
fn classify(message: &str) -> ProviderFault {
    let m = message.to_ascii_lowercase();
    if m.contains("429") || m.contains("rate limit") || m.contains("too many requests") {
        ProviderFault::RateLimited
    } else if m.contains("timed out") || m.contains("timeout") || m.contains("deadline") {
        ProviderFault::Timeout
    } else if m.contains("range")
        || m.contains("too large")
        || m.contains("-32005")
        || m.contains("more than")
        || m.contains("limit exceeded")
        || m.contains("too many")
    {
        ProviderFault::RangeTooLarge
    } else {
        ProviderFault::Other
    }
}

fn provider_error(err: impl std::fmt::Display) -> FollowError {
    let message = err.to_string();
    FollowError::Provider { kind: classify(&message), message }
}

/// Blocks `from..=to` in consecutive slices of at most `span` blocks (at least 1), as `(first, last)`.
fn slices(from: u64, to: u64, span: u64) -> impl Iterator<Item = (u64, u64)> {
    let mut next = (from <= to).then_some(from);
    std::iter::from_fn(move || {
        let start = next?;
        let end = to.min(start.saturating_add(span.max(1) - 1));
        next = end.checked_add(1).filter(|n| *n <= to);
        Some((start, end))
    })
}

/// Follows one chain through one provider.
pub struct ChainFollower<P> {
    provider: P,
    config: FollowerConfig,
    range: AdaptiveRange,
    /// The head the last poll saw (for the lag the listener reports).
    last_head: Option<u64>,
}

impl<P: Provider> ChainFollower<P> {
    /// A follower reading through `provider` with `config`, starting at its `initial_range`.
    pub fn new(provider: P, config: FollowerConfig) -> Self {
        let range = AdaptiveRange::new(config.initial_range, config.min_range, config.max_range);
        Self { provider, config, range, last_head: None }
    }

    /// The settings this follower runs with.
    pub fn config(&self) -> &FollowerConfig {
        &self.config
    }

    /// The log-query range controller, as it stands.
    pub fn range(&self) -> &AdaptiveRange {
        &self.range
    }

    /// The head block number the last poll saw, if any.
    pub fn last_head(&self) -> Option<u64> {
        self.last_head
    }

    /// The provider's current head block number: on TRON, the solidified block's.
    pub async fn head(&self) -> Result<u64, FollowError> {
        if self.config.tron == Some(TronFinality::FinalizedTag) {
            let block = self
                .provider
                .get_block_by_number(BlockNumberOrTag::Finalized)
                .await
                .map_err(provider_error)?
                .ok_or_else(|| FollowError::Inconsistent("provider knows no finalized block".into()))?;
            return Ok(block.header.number);
        }
        self.provider.get_block_number().await.map_err(provider_error)
    }

    /// The block just before `start_block`: the cursor of a ledger that has applied nothing yet.
    pub async fn genesis_cursor(&self, start_block: u64) -> Result<BlockRef, FollowError> {
        if start_block == 0 {
            return Ok(BlockRef { number: 0, hash: B256::ZERO });
        }
        let (block, _) = self.header(start_block - 1).await?;
        Ok(block.block_ref())
    }

    /// The next confirmed blocks after `cursor` (possibly none), each with the contract's logs.
    pub async fn poll(&mut self, cursor: BlockRef) -> Result<Vec<ConfirmedBlock>, FollowError> {
        let head = self.head().await?;
        self.last_head = Some(head);
        let safe = head.saturating_sub(self.config.confirmations);
        if safe <= cursor.number {
            return Ok(Vec::new());
        }
        let from = cursor.number + 1;
        let to = safe.min(from + self.range.current() - 1);
        let span = to - from + 1;

        let filter = Filter::new().address(self.config.contracts()).from_block(from).to_block(to);
        let logs = match self.provider.get_logs(&filter).await {
            Ok(logs) => logs,
            Err(err) => {
                let err = provider_error(err);
                if let FollowError::Provider { kind: ProviderFault::RangeTooLarge | ProviderFault::Timeout, .. } = err {
                    self.range.refused(span);
                }
                return Err(err);
            }
        };
        let headers = self.headers(from, to).await?;
        let blocks = self.assemble(cursor, headers, logs).await?;
        self.range.succeeded(span);
        Ok(blocks)
    }

    /// Re-reads blocks `from..=to` (already confirmed) with the contract's logs, checked as a poll checks them
    /// (parent links inside the range, log hashes, blooms), in slices of at most `max_range` blocks.
    pub async fn blocks_in_range(&self, from: u64, to: u64) -> Result<Vec<ConfirmedBlock>, FollowError> {
        let mut blocks: Vec<ConfirmedBlock> = Vec::new();
        for (start, end) in slices(from, to, self.config.max_range) {
            let cursor = match blocks.last() {
                Some(b) => b.block_ref(),
                None if start == 0 => BlockRef { number: 0, hash: B256::ZERO },
                None => self.header_with_retry(start - 1).await?.0.block_ref(),
            };
            let filter = Filter::new().address(self.config.contracts()).from_block(start).to_block(end);
            let logs = self.provider.get_logs(&filter).await.map_err(provider_error)?;
            let headers = self.headers(start, end).await?;
            let slice = self.assemble(cursor, headers, logs).await.map_err(|e| match e {
                // Inside a re-read, a broken link is the provider's answers moving, not the ledger's cursor.
                FollowError::DeepReorg { block, .. } => {
                    FollowError::Inconsistent(format!("block {block} does not link to the block before it"))
                }
                other => other,
            })?;
            blocks.extend(slice);
        }
        Ok(blocks)
    }

    /// The logs of `contract` alone in blocks `from..=to` (already confirmed), in slices of at most `max_range`
    /// blocks, unchecked against headers: read once per contract added to the chain spec after the listener passed
    /// its deployment block, to learn whether the ledger lacks events of it ([`crate::contracts`]).
    pub async fn contract_logs(&self, contract: Address, from: u64, to: u64) -> Result<Vec<Log>, FollowError> {
        let mut logs = Vec::new();
        for (start, end) in slices(from, to, self.config.max_range) {
            let filter = Filter::new().address(contract).from_block(start).to_block(end);
            logs.extend(self.provider.get_logs(&filter).await.map_err(provider_error)?);
        }
        Ok(logs)
    }

    async fn header(&self, number: u64) -> Result<(ConfirmedBlock, LogWitness), FollowError> {
        if self.config.tron.is_some() {
            return self.tron_header(number).await;
        }
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(provider_error)?
            .ok_or_else(|| FollowError::Inconsistent(format!("provider does not know block {number} yet")))?;
        let confirmed = ConfirmedBlock {
            number,
            hash: block.header.hash,
            parent_hash: block.header.parent_hash,
            timestamp: block.header.timestamp,
            logs: Vec::new(),
        };
        Ok((confirmed, LogWitness { bloom: block.header.logs_bloom, direct_calls: Vec::new() }))
    }

    /// A TRON block with its transactions, read as plain JSON (only the fields used here: TRON's transaction
    /// objects are not Ethereum's), and the hashes of those that call the contract directly.
    async fn tron_header(&self, number: u64) -> Result<(ConfirmedBlock, LogWitness), FollowError> {
        let block: Value = self
            .provider
            .raw_request("eth_getBlockByNumber".into(), (BlockNumberOrTag::Number(number), true))
            .await
            .map_err(provider_error)?;
        if block.is_null() {
            return Err(FollowError::Inconsistent(format!("provider does not know block {number} yet")));
        }
        let field = |name: &str| block.get(name).and_then(Value::as_str);
        let hash = |name: &str| {
            field(name)
                .and_then(|s| s.parse::<B256>().ok())
                .ok_or_else(|| FollowError::Inconsistent(format!("block {number} has no valid {name}")))
        };
        let timestamp = field("timestamp")
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .ok_or_else(|| FollowError::Inconsistent(format!("block {number} has no valid timestamp")))?;
        let contracts = self.config.contracts();
        let direct_calls = block
            .get("transactions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|tx| {
                tx.get("to")
                    .and_then(Value::as_str)
                    .and_then(|to| to.parse::<Address>().ok())
                    .is_some_and(|to| contracts.contains(&to))
            })
            .filter_map(|tx| tx.get("hash").and_then(Value::as_str).and_then(|h| h.parse::<B256>().ok()))
            .collect();
        let confirmed = ConfirmedBlock {
            number,
            hash: hash("hash")?,
            parent_hash: hash("parentHash")?,
            timestamp,
            logs: Vec::new(),
        };
        Ok((confirmed, LogWitness { bloom: Bloom::ZERO, direct_calls }))
    }

    /// Whether a successful transaction `tx` emitted logs of a followed contract (its receipt, read as plain JSON).
    async fn emitted_logs(&self, tx: B256) -> Result<bool, FollowError> {
        let receipt: Value =
            self.provider.raw_request("eth_getTransactionReceipt".into(), (tx,)).await.map_err(provider_error)?;
        let contracts = self.config.contracts();
        Ok(receipt.get("status").and_then(Value::as_str) == Some("0x1")
            && receipt.get("logs").and_then(Value::as_array).is_some_and(|logs| {
                logs.iter().any(|l| {
                    l.get("address")
                        .and_then(Value::as_str)
                        .and_then(|a| a.parse::<Address>().ok())
                        .is_some_and(|a| contracts.contains(&a))
                })
            }))
    }

    /// A header fetch retried a few times: one rate-limited request among hundreds should not void a poll.
    async fn header_with_retry(&self, number: u64) -> Result<(ConfirmedBlock, LogWitness), FollowError> {
        let mut attempt = 0;
        loop {
            match self.header(number).await {
                Err(FollowError::Provider { .. }) if attempt < HEADER_ATTEMPTS - 1 => {
                    attempt += 1;
                    tokio::time::sleep(HEADER_RETRY_PAUSE * attempt).await;
                }
                other => return other,
            }
        }
    }

    async fn headers(&self, from: u64, to: u64) -> Result<Vec<(ConfirmedBlock, LogWitness)>, FollowError> {
        stream::iter(from..=to)
            .map(|number| self.header_with_retry(number))
            .buffered(self.config.header_concurrency.max(1))
            .try_collect()
            .await
    }

    /// Checks the parent-hash chain and every log against the headers, and fills each block's logs.
    async fn assemble(
        &self,
        cursor: BlockRef,
        headers: Vec<(ConfirmedBlock, LogWitness)>,
        logs: Vec<Log>,
    ) -> Result<Vec<ConfirmedBlock>, FollowError> {
        let mut by_block: BTreeMap<u64, Vec<Log>> = BTreeMap::new();
        for log in logs {
            let number =
                log.block_number.ok_or_else(|| FollowError::Inconsistent("log without block number".into()))?;
            if log.removed {
                return Err(FollowError::Inconsistent(format!("removed log in block {number}")));
            }
            by_block.entry(number).or_default().push(log);
        }

        let contracts = self.config.contracts();
        let mut blocks = Vec::with_capacity(headers.len());
        let mut previous = cursor;
        for (mut block, witness) in headers {
            if block.parent_hash != previous.hash && !(previous.number == 0 && previous.hash == B256::ZERO) {
                if previous == cursor {
                    return Err(FollowError::DeepReorg {
                        block: block.number,
                        recorded: cursor.hash,
                        chain_parent: block.parent_hash,
                    });
                }
                return Err(FollowError::Inconsistent(format!(
                    "block {} does not link to {}",
                    block.number, previous.number
                )));
            }
            let mut block_logs = by_block.remove(&block.number).unwrap_or_default();
            let unanswered = |contract: &Address| {
                witness.bloom.contains_input(BloomInput::Raw(contract.as_slice()))
                    && !block_logs.iter().any(|l| l.address() == *contract)
            };
            if contracts.iter().any(unanswered) {
                // The bloom says a contract logged here and the answer has none of its logs: ask for exactly this
                // block, by hash.
                let by_hash = Filter::new().address(contracts.clone()).at_block_hash(block.hash);
                block_logs = self.provider.get_logs(&by_hash).await.map_err(provider_error)?;
            }
            // TRON (no bloom): a direct call with none of its logs in the answer is read from its receipt.
            for tx in &witness.direct_calls {
                if !block_logs.iter().any(|l| l.transaction_hash == Some(*tx)) && self.emitted_logs(*tx).await? {
                    return Err(FollowError::Inconsistent(format!(
                        "the log answer left out the logs of transaction {tx} in block {}",
                        block.number
                    )));
                }
            }
            for log in &block_logs {
                if log.block_hash != Some(block.hash) {
                    return Err(FollowError::Inconsistent(format!(
                        "log in block {} has hash {:?}, the chain has {}",
                        block.number, log.block_hash, block.hash
                    )));
                }
            }
            block_logs.sort_by_key(|l| l.log_index);
            block.logs = block_logs;
            previous = block.block_ref();
            blocks.push(block);
        }
        if let Some((number, _)) = by_block.into_iter().next() {
            return Err(FollowError::Inconsistent(format!("log from block {number} outside the queried range")));
        }
        Ok(blocks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ranges_are_read_in_slices_of_at_most_the_span() {
        assert_eq!(slices(3, 9, 3).collect::<Vec<_>>(), [(3, 5), (6, 8), (9, 9)]);
        assert_eq!(slices(5, 5, 0).collect::<Vec<_>>(), [(5, 5)]);
        assert_eq!(slices(6, 5, 3).count(), 0);
        assert_eq!(slices(u64::MAX - 1, u64::MAX, 5).collect::<Vec<_>>(), [(u64::MAX - 1, u64::MAX)]);
    }

    #[test]
    fn classifies_the_usual_provider_messages() {
        assert_eq!(classify("HTTP error 429 with body: rate limit exceeded"), ProviderFault::RateLimited);
        assert_eq!(classify("error sending request: operation timed out"), ProviderFault::Timeout);
        assert_eq!(
            classify("server returned an error response: error code -32005: block range is too large"),
            ProviderFault::RangeTooLarge
        );
        assert_eq!(classify("query returned more than 10000 results"), ProviderFault::RangeTooLarge);
        assert_eq!(classify("connection refused"), ProviderFault::Other);
    }
}
