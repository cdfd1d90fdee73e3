//! One chain's listener: the follower's confirmed blocks into the ledger, one transaction per poll (all the
//! events of whole blocks and the block cursor together), one active instance per chain.

use std::time::Duration;

use alloy::providers::Provider;
use backend::ledger::{BlockCursor, ChainLedger, LedgerError};
use sqlx::{PgPool, Postgres, pool::PoolConnection};

use crate::{
    decode::ledger_events,
    follower::{BlockRef, ChainFollower, FollowError},
};

/// First key of the listener's advisory lock (second key: the chain id); distinct from the ledger's row locks.
const LISTENER_LOCK_CLASS: i32 = 0x4c53_4e52; // "LSNR"

#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("listener for chain {chain_id} is halted: {reason}")]
    Halted { chain_id: u64, reason: String },
    #[error(transparent)]
    Follow(#[from] FollowError),
}

/// What one poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub blocks: usize,
    pub events: usize,
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

pub async fn try_chain_lock(pool: &PgPool, chain_id: u64) -> Result<Option<ChainLock>, sqlx::Error> {
    let mut connection = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(LISTENER_LOCK_CLASS)
        .bind(chain_id as u32 as i32)
        .fetch_one(&mut *connection)
        .await?;
    Ok(locked.then_some(ChainLock { _connection: connection }))
}

pub struct ChainListener<P> {
    follower: ChainFollower<P>,
    ledger: ChainLedger,
    start_block: u64,
}

impl<P: Provider> ChainListener<P> {
    /// `start_block`: where to begin when the ledger has applied nothing on this chain (the deployment block).
    pub fn new(follower: ChainFollower<P>, ledger: ChainLedger, start_block: u64) -> Self {
        Self { follower, ledger, start_block }
    }

    pub fn ledger(&self) -> &ChainLedger {
        &self.ledger
    }

    /// One poll: reads the next confirmed blocks and applies them. A deep reorg halts the chain for good
    /// (recorded in the database, so a restarted listener stays halted until a person clears it).
    pub async fn step(&mut self) -> Result<Progress, ListenerError> {
        let chain_id = self.ledger.chain_id();
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
        let Some(last) = blocks.last() else { return Ok(Progress::default()) };
        let events: Vec<_> = blocks.iter().flat_map(|b| ledger_events(chain_id, b)).collect();
        let through = BlockCursor { number: last.number, hash: last.hash };
        let summary = self.ledger.apply_confirmed(&events, through).await?;
        Ok(Progress {
            blocks: blocks.len(),
            events: summary.applied + summary.quarantined,
            quarantined: summary.quarantined,
        })
    }

    /// Polls until `shutdown` resolves or the chain halts; provider faults are retried with a growing pause.
    pub async fn run(
        &mut self,
        poll_every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ListenerError> {
        tokio::pin!(shutdown);
        let mut backoff = poll_every;
        loop {
            let pause = match self.step().await {
                Ok(progress) if progress.blocks > 0 => {
                    backoff = poll_every;
                    Duration::ZERO
                }
                Ok(_) => {
                    if let Ok(head) = self.follower.head().await {
                        self.ledger.record_chain_head(head).await?;
                    }
                    poll_every
                }
                Err(ListenerError::Follow(e)) if e.is_transient() => {
                    tracing::warn!(chain_id = self.ledger.chain_id(), error = %e, "provider fault; retrying");
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
