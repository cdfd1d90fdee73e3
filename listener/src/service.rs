//! One chain's listener: the follower's confirmed blocks into the ledger, one transaction per poll (all the
//! events of whole blocks and the block cursor together), one active instance per chain. Between polls it
//! serves operators' replay requests (`ops_requests` of kind `replay` for its chain).

use std::{sync::Arc, time::Duration};

use alloy::providers::Provider;
use ledger::events::ChainEvent;
use ledger::{BlockCursor, ChainLedger, LedgerError, ops};
use serde::Serialize;
use sqlx::{PgPool, Postgres, pool::PoolConnection};

use crate::{
    decode::ledger_events,
    follower::{BlockRef, ChainFollower, FollowError, ProviderFault},
    metrics::ListenerMetrics,
};

/// Why following a chain, or a replay of its blocks, failed or was refused.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    /// The chain's ledger failed or refused (see [`LedgerError`]).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A database query failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// The chain is halted (a deep reorg, recorded in the database) until a person clears it.
    #[error("listener for chain {chain_id} is halted: {reason}")]
    Halted {
        /// The halted chain.
        chain_id: u64,
        /// Why it halted, as recorded.
        reason: String,
    },
    /// Reading the chain failed.
    #[error(transparent)]
    Follow(#[from] FollowError),
    /// A replay request the listener will not carry out (see [`ChainListener::replay`]).
    #[error("replay refused: {0}")]
    ReplayRefused(String),
    /// A contract was added to the chain spec after the listener passed its deployment block, and the ledger lacks
    /// events of it that it applies ([`crate::contracts`]): the chain is not followed until a person decides.
    #[error(
        "chain {chain_id}: contract {contract} has {missing} event(s) in blocks {first_block}..={last_block} that the \
         ledger never applied: it was added to the chain spec after the listener had passed them (cursor {cursor}), and \
         they cannot be applied out of chain order. Name every contract of the chain in the chain spec before it is used \
         (ops/upgrades.md); to take these in, rebuild the ledger from the chain"
    )]
    ContractNotFollowed {
        /// The chain.
        chain_id: u64,
        /// The contract added late.
        contract: alloy::primitives::Address,
        /// Its events the ledger lacks.
        missing: usize,
        /// The first one's block.
        first_block: u64,
        /// The last one's block.
        last_block: u64,
        /// The listener's cursor when it found them.
        cursor: u64,
    },
}

impl ListenerError {
    /// A bounded name for the metrics' `kind` label.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Follow(FollowError::Provider { kind, .. }) => match kind {
                ProviderFault::RangeTooLarge => "range_too_large",
                ProviderFault::RateLimited => "rate_limited",
                ProviderFault::Timeout => "timeout",
                ProviderFault::Other => "provider",
            },
            Self::Follow(FollowError::Inconsistent(_)) => "inconsistent",
            Self::Follow(FollowError::DeepReorg { .. }) | Self::Halted { .. } => "halted",
            Self::Db(_) | Self::Ledger(LedgerError::Db(_)) => "database",
            _ => "other",
        }
    }

    /// Worth retrying the same poll: a provider fault, or the database went away or aborted the transaction
    /// (deadlock, serialization) — nothing of the poll was committed and the ledger reloads its engines.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Follow(e) => e.is_transient(),
            Self::Db(_) | Self::Ledger(LedgerError::Db(_)) => true,
            _ => false,
        }
    }
}

/// What a replay of a block range found: every contract event the chain has there, split by what the ledger
/// had of it. Stored as the request's `result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// The first block read.
    pub from_block: u64,
    /// The last block read: the requested end, capped at the listener's confirmed block.
    pub to_block: u64,
    /// The end of the range as requested.
    pub requested_to_block: u64,
    /// Whether `to_block` is below the requested end.
    pub capped: bool,
    /// Contract events found in the blocks read.
    pub events_found: usize,
    /// Of those, events the ledger had applied.
    pub already_applied: usize,
    /// Stored earlier, but quarantined (refused by the ledger, or missed and found by an earlier replay).
    pub already_quarantined: usize,
    /// Events the ledger never saw; recorded now as quarantined (`missed_event`), never applied.
    pub missing: usize,
    /// Each missing event, with its exact key.
    pub missing_events: Vec<MissingEvent>,
}

/// An event on the chain that the ledger had not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingEvent {
    /// The event's name (e.g. `Registered`).
    pub name: String,
    /// Its block.
    pub block_number: u64,
    /// 0x-prefixed.
    pub tx_hash: String,
    /// Its log index.
    pub log_index: u64,
}

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Confirmed blocks applied.
    pub blocks: usize,
    /// Events in them the ledger stored, applied or quarantined.
    pub events: usize,
    /// Of those, events stored as quarantined (ledger unchanged).
    pub quarantined: usize,
}

/// Holds the chain's advisory lock for as long as it lives (the lock is the connection's).
pub struct ChainLock {
    _connection: PoolConnection<Postgres>,
}

/// Takes the chain's listener lock, waiting as a standby while another instance holds it.
pub async fn acquire_chain_lock(pool: &PgPool, chain_id: u64, retry_every: Duration) -> Result<ChainLock, sqlx::Error> {
    loop {
        if let Some(lock) = try_chain_lock(pool, chain_id).await? {
            return Ok(lock);
        }
        tracing::info!(chain_id, "another listener is active on this chain; standing by");
        tokio::time::sleep(retry_every).await;
    }
}

/// Takes the chain's listener lock if no other instance holds it; `None` when one does.
pub async fn try_chain_lock(pool: &PgPool, chain_id: u64) -> Result<Option<ChainLock>, sqlx::Error> {
    let mut connection = pool.acquire().await?;
    let locked = ledger::try_listener_lock(&mut connection, chain_id).await?;
    Ok(locked.then_some(ChainLock { _connection: connection }))
}

/// One chain's listener: applies the follower's confirmed blocks to the chain's ledger.
pub struct ChainListener<P> {
    follower: ChainFollower<P>,
    ledger: ChainLedger,
    start_block: u64,
    metrics: Arc<ListenerMetrics>,
    /// The contracts followed with their deployment blocks, the live one first.
    contracts: Vec<(alloy::primitives::Address, u64)>,
    /// Whether [`Self::follow_contracts`] has recorded them in this run.
    contracts_recorded: bool,
}

impl<P: Provider> ChainListener<P> {
    /// `start_block`: where to begin when the ledger has applied nothing on this chain (the first contract's
    /// deployment block). The follower's contracts are taken as deployed at `start_block` unless
    /// [`with_contracts`](Self::with_contracts) says otherwise.
    pub fn new(follower: ChainFollower<P>, ledger: ChainLedger, start_block: u64) -> Self {
        let contracts = follower.config().contracts().into_iter().map(|c| (c, start_block)).collect();
        Self { follower, ledger, start_block, metrics: Arc::default(), contracts, contracts_recorded: false }
    }

    /// The deployment block of each contract the follower reads (the chain spec's [`contracts`]); recorded at the
    /// first poll ([`crate::contracts`]).
    ///
    /// [`contracts`]: service_kit::chain_spec::ChainSpec::contracts
    pub fn with_contracts(mut self, contracts: Vec<(alloy::primitives::Address, u64)>) -> Self {
        self.contracts = contracts;
        self
    }

    /// The contracts followed with their deployment blocks, the live one first.
    pub fn contracts(&self) -> &[(alloy::primitives::Address, u64)] {
        &self.contracts
    }

    /// The follower this listener reads the chain through.
    pub fn follower(&self) -> &ChainFollower<P> {
        &self.follower
    }

    /// Counts what this listener applies and every failed poll in `metrics` (served by [`crate::metrics::serve`]).
    pub fn with_metrics(mut self, metrics: Arc<ListenerMetrics>) -> Self {
        metrics.follow(self.ledger.chain_id());
        self.metrics = metrics;
        self
    }

    /// The ledger this listener applies to.
    pub fn ledger(&self) -> &ChainLedger {
        &self.ledger
    }

    /// One poll: reads the next confirmed blocks and applies them. A deep reorg halts the chain for good
    /// (recorded in the database, so a restarted listener stays halted until a person clears it).
    pub async fn step(&mut self) -> Result<Progress, ListenerError> {
        let chain_id = self.ledger.chain_id();
        if !self.contracts_recorded {
            self.follow_contracts().await?;
            self.contracts_recorded = true;
        }
        let (cursor, halted) = self.ledger.listener_state().await?;
        if let Some(reason) = halted {
            return Err(ListenerError::Halted { chain_id, reason });
        }
        let cursor = match cursor {
            Some(c) => BlockRef { number: c.number, hash: c.hash },
            None => self.follower.genesis_cursor(self.start_block).await?,
        };
        let blocks = match self.follower.poll(cursor).await {
            Ok(blocks) => blocks,
            Err(FollowError::DeepReorg { block, recorded, chain_parent }) => {
                let reason = format!(
                    "reorg below the confirmation depth: block {block} has parent {chain_parent}, the ledger applied {recorded} at block {}",
                    block - 1
                );
                tracing::error!(chain_id, %reason, "listener halted");
                self.ledger.halt_listener(&reason).await?;
                return Err(ListenerError::Halted { chain_id, reason });
            }
            Err(other) => return Err(other.into()),
        };
        if let Some(head) = self.follower.last_head() {
            self.ledger.record_chain_head(head, self.follower.config().confirmations).await?;
        }
        let Some(last) = blocks.last() else { return Ok(Progress::default()) };
        let events: Vec<_> = blocks.iter().flat_map(|b| ledger_events(chain_id, b)).collect();
        let through = BlockCursor { number: last.number, hash: last.hash };
        let summary = self.ledger.apply_confirmed(&events, through, last.timestamp).await?;
        self.metrics.applied(chain_id, blocks.len(), last.timestamp, &events);
        Ok(Progress {
            blocks: blocks.len(),
            events: summary.applied + summary.quarantined,
            quarantined: summary.quarantined,
        })
    }

    /// Re-reads blocks `from..=to` from the node and compares their events with what the ledger stored. Only
    /// blocks the listener has already passed are read: the range is capped at its confirmed block (blocks above
    /// it are applied by the normal follow, in order), and a range starting above it is refused. An event found
    /// there that the ledger never stored cannot be applied without breaking chain order: it is recorded as
    /// quarantined (`missed_event`, with an alert) and reported with its exact key. Nothing else changes, so a
    /// replay of a range the ledger has in full changes no ledger row.
    pub async fn replay(&mut self, from: u64, to: u64) -> Result<ReplayReport, ListenerError> {
        let chain_id = self.ledger.chain_id();
        if to < from {
            return Err(ListenerError::ReplayRefused(format!("range {from}..={to} is empty")));
        }
        let (cursor, _) = self.ledger.listener_state().await?;
        let Some(cursor) = cursor else {
            return Err(ListenerError::ReplayRefused(
                "the listener has not applied any block of this chain yet".into(),
            ));
        };
        if from > cursor.number {
            return Err(ListenerError::ReplayRefused(format!(
                "range starts above the listener's confirmed block {}; those blocks are applied by the listener in order",
                cursor.number
            )));
        }
        let read_to = to.min(cursor.number);
        let blocks = self.follower.blocks_in_range(from, read_to).await?;
        // The blocks read must be the ones the ledger applied (the cursor's, and the recent ones it remembers):
        // events of another fork are not "missing", they are a reorg the listener halts on.
        let mut applied = ledger::applied_blocks(self.ledger.pool(), chain_id, from, read_to).await?;
        applied.insert(cursor.number, cursor.hash);
        if let Some(b) = blocks.iter().find(|b| applied.get(&b.number).is_some_and(|h| *h != b.hash)) {
            return Err(ListenerError::ReplayRefused(format!(
                "block {} on the chain ({}) is not the block the ledger applied: a reorg below the confirmation depth",
                b.number, b.hash
            )));
        }
        let events: Vec<ChainEvent> = blocks.iter().flat_map(|b| ledger_events(chain_id, b)).collect();

        let keys: Vec<_> = events.iter().map(|e| e.key).collect();
        let stored = ledger::event_outcomes(self.ledger.pool(), chain_id, &keys).await?;
        let outcome = |e: &ChainEvent| stored.get(&e.key);
        let missing: Vec<ChainEvent> = events.iter().filter(|e| outcome(e).is_none()).cloned().collect();
        let already_applied = events.iter().filter(|e| outcome(e).is_some_and(|o| o == "applied")).count();
        let already_quarantined = events.iter().filter(|e| outcome(e).is_some_and(|o| o == "quarantined")).count();
        if !missing.is_empty() {
            let recorded = self.ledger.record_missed(&missing).await?;
            tracing::error!(
                chain_id,
                missing = recorded.len(),
                from,
                to = read_to,
                "replay found events the ledger never applied"
            );
        }
        Ok(ReplayReport {
            from_block: from,
            to_block: read_to,
            requested_to_block: to,
            capped: read_to < to,
            events_found: events.len(),
            already_applied,
            already_quarantined,
            missing: missing.len(),
            missing_events: missing
                .iter()
                .map(|e| MissingEvent {
                    name: e.body.name().to_owned(),
                    block_number: e.block_number,
                    tx_hash: format!("{:#x}", e.key.tx_hash),
                    log_index: e.key.log_index,
                })
                .collect(),
        })
    }

    /// Carries out this chain's queued replay requests, oldest first, each taken with `FOR UPDATE SKIP LOCKED`
    /// and finished as `done` (its report in `result`) or `failed` (the reason in `error`). Returns how many.
    pub async fn serve_replay_requests(&mut self) -> Result<usize, ListenerError> {
        let mut served = 0;
        while let Some((id, from, to)) = ops::claim_replay(self.ledger.pool(), self.ledger.chain_id()).await? {
            let finished = match self.replay(from, to).await {
                Ok(report) => ops::Finished::Done(serde_json::to_value(&report).expect("reports serialize")),
                Err(e) => ops::Finished::Failed(e.to_string()),
            };
            let (status, error) = match &finished {
                ops::Finished::Done(_) => ("done", None),
                ops::Finished::Failed(e) => ("failed", Some(e.as_str())),
            };
            tracing::info!(chain_id = self.ledger.chain_id(), request = id, status, error, "replay request served");
            ops::finish(self.ledger.pool(), &[id], &finished).await?;
            served += 1;
        }
        Ok(served)
    }

    /// Puts back replay requests of this chain left `running` by an instance that stopped mid-way (the caller
    /// holds the chain's lock, so no other instance is running them).
    pub async fn requeue_interrupted_replays(&self) -> Result<u64, ListenerError> {
        Ok(ops::requeue_running_replays(self.ledger.pool(), self.ledger.chain_id()).await?)
    }

    /// Polls until `shutdown` resolves or the chain halts; provider faults are retried with a growing pause.
    /// Replay requests are served between polls.
    pub async fn run(
        &mut self,
        poll_every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ListenerError> {
        tokio::pin!(shutdown);
        let mut backoff = poll_every;
        self.requeue_interrupted_replays().await?;
        loop {
            let stepped = self.step().await;
            if !matches!(stepped, Err(ListenerError::Halted { .. }))
                && let Err(e) = self.serve_replay_requests().await
            {
                tracing::error!(chain_id = self.ledger.chain_id(), error = %e, "serving replay requests failed");
            }
            let pause = match stepped {
                Ok(progress) => {
                    // Any answered poll ends a fault streak (an empty one too: the provider works again).
                    backoff = poll_every;
                    if progress.blocks > 0 { Duration::ZERO } else { poll_every }
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(chain_id = self.ledger.chain_id(), error = %e, "transient fault; retrying");
                    self.metrics.poll_error(self.ledger.chain_id(), e.kind());
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    backoff
                }
                Err(other) => return Err(other),
            };
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}
