//! The chains' clocks: "now" for the deadlines of a chain's payloads is the chain's time where the signer has a
//! node of the chain — the contract compares a deadline with `block.timestamp`, which need not be the host's time
//! (a host whose clock drifts, an anvil moved a week on). Without a node, the host's clock.
//!
//! To keep a registration free of a node round trip, each chain's clock is kept as an offset from the host's:
//! a task per chain reads the chain's latest block every [`REFRESH`]; when it sees a block it had not seen, it takes
//! that block as just made, and the offset as its timestamp less the host's time then. "Now" on the chain is the
//! host's time plus that offset: never before the latest block's timestamp, and behind the chain's real time by at
//! most the time between a block and the read that first sees it (about one block interval). The first block read
//! after a start is taken as just made too: on a chain that makes no block for long (an idle anvil without a block
//! time) the clock stays behind until its next block. A reading older than [`MAX_AGE`] is not used: the request
//! reads the node itself, and a node that does not answer then refuses the request (503), never a guess.
//!
//! The rules that decide that a signed payload is dead (an expired refund, an expired liability root) do not use
//! this estimate: they read a block's own timestamp at each such request.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use crate::node::{At, Block, Nodes};

/// How often each chain's latest block is read in the background.
pub const REFRESH: Duration = Duration::from_secs(1);
/// Oldest reading a request uses; an older one is read again on the request's path.
pub const MAX_AGE: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
struct Reading {
    /// The latest block seen.
    block: Block,
    /// The chain's time less the host's, in seconds, as of when `block` was first seen.
    offset: i64,
    /// When the node last answered.
    checked: Instant,
}

#[derive(Default)]
struct Cell {
    reading: Mutex<Option<Reading>>,
    /// One read at a time per chain on the request path.
    reading_now: tokio::sync::Mutex<()>,
}

impl Cell {
    fn fresh(&self) -> Option<Reading> {
        let reading = *self.reading.lock().unwrap_or_else(|p| p.into_inner());
        reading.filter(|r| r.checked.elapsed() < MAX_AGE)
    }

    /// Takes in a read of the latest block, made when the host's time was `host_now`.
    fn observe(&self, block: Block, host_now: u64) -> Reading {
        let mut reading = self.reading.lock().unwrap_or_else(|p| p.into_inner());
        let offset = match *reading {
            Some(seen) if seen.block == block => seen.offset,
            _ => block.timestamp as i64 - host_now as i64,
        };
        let updated = Reading { block, offset, checked: Instant::now() };
        *reading = Some(updated);
        updated
    }
}

/// The clock of each chain the signer has a node of.
pub struct ChainClocks {
    nodes: Arc<Nodes>,
    cells: HashMap<u64, Cell>,
}

impl std::fmt::Debug for ChainClocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainClocks").field("nodes", &self.nodes).finish_non_exhaustive()
    }
}

fn host_time() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

impl ChainClocks {
    /// The clocks of the chains of `nodes`, and a task per chain that keeps each one read (it stops once the clocks
    /// are dropped). Needs a Tokio runtime.
    pub fn start(nodes: Arc<Nodes>) -> Arc<Self> {
        let cells = nodes.chains().into_iter().map(|id| (id, Cell::default())).collect();
        let clocks = Arc::new(ChainClocks { nodes, cells });
        for &chain_id in clocks.cells.keys() {
            tokio::spawn(refresh(Arc::downgrade(&clocks), chain_id));
        }
        clocks
    }

    /// Takes in `block`, the latest block of `chain_id` as a request just read it.
    pub fn observe(&self, chain_id: u64, block: Block) {
        if let Some(cell) = self.cells.get(&chain_id) {
            cell.observe(block, host_time());
        }
    }

    /// The chain's time at host time `host_now`: `None` when the signer has no node of the chain (the host's clock
    /// applies), an error when its node could not be read lately nor now.
    pub async fn now(&self, chain_id: u64, host_now: u64) -> Option<Result<u64, String>> {
        let cell = self.cells.get(&chain_id)?;
        let at = |r: Reading| host_now.saturating_add_signed(r.offset).max(r.block.timestamp);
        if let Some(reading) = cell.fresh() {
            return Some(Ok(at(reading)));
        }
        let _one = cell.reading_now.lock().await;
        if let Some(reading) = cell.fresh() {
            return Some(Ok(at(reading)));
        }
        Some(match self.nodes.block(chain_id, At::Latest).await {
            Ok(block) => Ok(at(cell.observe(block, host_time()))),
            Err(e) => Err(format!("the chain's clock: {e}")),
        })
    }
}

/// How far the offset must move from the one last logged to be logged again (block times jitter it by a second or
/// two at every block).
const LOGGED_MOVE_SECS: i64 = 10;

/// Reads the latest block of `chain_id` every [`REFRESH`] while the clocks live; logs the offset when it first reads
/// it and when it moves (the chain's clock jumped, or the host's), and when the node stops and starts answering.
async fn refresh(clocks: Weak<ChainClocks>, chain_id: u64) {
    let mut ticks = tokio::time::interval(REFRESH);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut failing, mut logged) = (false, None::<i64>);
    loop {
        ticks.tick().await;
        let Some(clocks) = clocks.upgrade() else { return };
        let Some(cell) = clocks.cells.get(&chain_id) else { return };
        match clocks.nodes.block(chain_id, At::Latest).await {
            Ok(block) => {
                let reading = cell.observe(block, host_time());
                if failing || logged.is_none_or(|l| (l - reading.offset).abs() >= LOGGED_MOVE_SECS) {
                    tracing::info!(
                        chain_id,
                        block = block.number,
                        block_timestamp = block.timestamp,
                        offset_secs = reading.offset,
                        "the chain's clock read from the signer's node: chain time less host time"
                    );
                    logged = Some(reading.offset);
                }
                failing = false;
            }
            Err(e) if !failing => {
                tracing::warn!(chain_id, error = %e, "the chain's clock could not be read from the signer's node");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_seen_again_keeps_its_offset_and_a_new_one_sets_it() {
        let cell = Cell::default();
        let first = cell.observe(Block { number: 5, timestamp: 1_000 }, 900);
        assert_eq!(first.offset, 100);
        // The same block read later: still made at host time 900, the chain's clock went on with the host's.
        assert_eq!(cell.observe(Block { number: 5, timestamp: 1_000 }, 990).offset, 100);
        // A new block, a week on: the offset follows.
        assert_eq!(cell.observe(Block { number: 6, timestamp: 605_800 }, 1_000).offset, 604_800);
        // A chain days behind the host.
        assert_eq!(cell.observe(Block { number: 7, timestamp: 700 }, 260_000).offset, -259_300);
        assert!(cell.fresh().is_some());
    }
}
