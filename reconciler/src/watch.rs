//! Reads what [`crate::changes`] judges: the Settlement contract's pending changes at the chain's confirmed block,
//! and its admin events in the blocks after the last one read (the cursor in `reconciler_log_cursors`), up to that
//! block.
//!
//! The confirmed block is the one custody is read at ([`crate::figures`]): on an EVM chain the listener's confirmed
//! block, read historically; on a TRON chain, which serves no historical state, the Solidity node's `latest` (the
//! solidified block) — or with `finalized_tag`, the full node's `finalized` block, the state then read at its
//! `latest`. Logs are read from the chain spec's `start_block` at the earliest, in ranges of `max_log_range`
//! blocks, at most [`MAX_LOG_REQUESTS`] a run: a long history is caught up over several runs.

use alloy::{
    eips::{BlockId, BlockNumberOrTag},
    primitives::Address,
    providers::Provider,
    rpc::types::Filter,
    sol_types::SolEventInterface,
};
use ledger::monitoring::LogCursor;
use sqlx::PgPool;

use crate::{
    changes::{AdminEvent, AdminLog, AdminTransfer, Change, PendingChange, PendingFigures, admin_event_signatures},
    figures::{ChainFigures, FiguresError},
    target::{ChainTarget, Watched},
};

/// `eth_getLogs` requests one run makes at most per chain.
pub const MAX_LOG_REQUESTS: u64 = 50;

/// What one run read of a chain's admin powers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchFigures {
    /// The pending changes at the confirmed block.
    pub pending: PendingFigures,
    /// The admin events of the blocks read this run, in chain order.
    pub logs: Vec<AdminLog>,
    /// How far the events have been read once this run is recorded.
    pub cursor: LogCursor,
}

/// Where a chain's admin powers are read this run: the confirmed block and its timestamp, and where the state is
/// read (that block, or on TRON `latest`).
struct ReadAt {
    block: u64,
    time: u64,
    state: BlockId,
}

async fn read_at(
    chain: &ChainTarget,
    watched: Watched,
    figures: &ChainFigures,
) -> Result<Option<ReadAt>, FiguresError> {
    let rpc = |what: &str, e: String| FiguresError::Rpc { chain_id: chain.chain_id, reason: format!("{what}: {e}") };
    let header = |tag: BlockNumberOrTag| async move {
        let block = chain
            .provider
            .get_block_by_number(tag)
            .await
            .map_err(|e| rpc(&format!("block {tag}"), e.to_string()))?
            .ok_or_else(|| rpc(&format!("block {tag}"), "the node has none".into()))?;
        Ok::<_, FiguresError>((block.header.number, block.header.timestamp))
    };
    let at = if abi::chain::Family::of(chain.chain_id) == abi::chain::Family::Tron {
        // No historical state: the state at `latest`, the logs up to the solidified block.
        let tag = if chain.finalized_tag { BlockNumberOrTag::Finalized } else { BlockNumberOrTag::Latest };
        let (block, time) = header(tag).await?;
        ReadAt { block, time, state: BlockId::latest() }
    } else {
        // The listener's confirmed block, as custody: none yet, nothing is read (its lag pages).
        let Some(block) = figures.ledger.listener_block else { return Ok(None) };
        let (block, time) = header(BlockNumberOrTag::Number(block)).await?;
        ReadAt { block, time, state: BlockId::number(block) }
    };
    // Before the contract exists there is nothing to read.
    Ok((at.block >= watched.start_block).then_some(at))
}

/// `watched`'s pending changes and the admin events not yet read, at the block [`crate::figures`] read `figures`
/// at; `None` when there is no such block yet (the listener has applied nothing, or not the deployment block).
pub async fn read(
    pool: &PgPool,
    chain: &ChainTarget,
    watched: Watched,
    figures: &ChainFigures,
) -> Result<Option<WatchFigures>, FiguresError> {
    let Some(at) = read_at(chain, watched, figures).await? else { return Ok(None) };
    let pending = pending_at(chain, watched.contract, &at).await?;
    let cursor = ledger::monitoring::log_cursor(pool, chain.chain_id, watched.contract).await?;
    let from = cursor.map_or(watched.start_block, |c| c + 1).max(watched.start_block);
    let (logs, read_to) = admin_logs(chain, watched.contract, from, at.block).await?;
    let block = read_to.or(cursor).unwrap_or(watched.start_block.saturating_sub(1));
    Ok(Some(WatchFigures {
        pending,
        logs,
        cursor: LogCursor { chain_id: chain.chain_id, contract: watched.contract, block },
    }))
}

async fn pending_at(chain: &ChainTarget, contract: Address, at: &ReadAt) -> Result<PendingFigures, FiguresError> {
    let rpc = |what: &str, e: String| FiguresError::Rpc { chain_id: chain.chain_id, reason: format!("{what}: {e}") };
    let contract = abi::Settlement::new(contract, &chain.provider);
    let listed = contract
        .pendingChanges()
        .block(at.state)
        .call()
        .await
        .map_err(|e| rpc(&format!("pendingChanges() at {}", at.block), e.to_string()))?;
    let changes = listed
        .into_iter()
        .map(|c| PendingChange { id: c.id, change: Change::decode(c.kind, &c.args), ready_at: c.readyAt })
        .collect();
    let admin = contract
        .pendingDefaultAdmin()
        .block(at.state)
        .call()
        .await
        .map_err(|e| rpc(&format!("pendingDefaultAdmin() at {}", at.block), e.to_string()))?;
    let admin_transfer = (!admin.newAdmin.is_zero() || admin.schedule.to::<u64>() != 0)
        .then(|| AdminTransfer { new_admin: admin.newAdmin, accept_from: admin.schedule.to() });
    Ok(PendingFigures { chain_id: chain.chain_id, block: at.block, block_time: at.time, changes, admin_transfer })
}

/// The contract's admin events in blocks `from..=to`, in ranges of `max_log_range` blocks, at most
/// [`MAX_LOG_REQUESTS`] of them; and the last block read (none when `from > to`).
async fn admin_logs(
    chain: &ChainTarget,
    contract: Address,
    from: u64,
    to: u64,
) -> Result<(Vec<AdminLog>, Option<u64>), FiguresError> {
    let range = chain.max_log_range.max(1);
    let mut logs = Vec::new();
    let mut read_to = None;
    let mut start = from;
    let mut requests = 0;
    while start <= to && requests < MAX_LOG_REQUESTS {
        let end = to.min(start.saturating_add(range - 1));
        let filter =
            Filter::new().address(contract).event_signature(admin_event_signatures()).from_block(start).to_block(end);
        let found = chain.provider.get_logs(&filter).await.map_err(|e| FiguresError::Rpc {
            chain_id: chain.chain_id,
            reason: format!("admin events in blocks {start}..={end}: {e}"),
        })?;
        for log in found {
            logs.push(admin_log(chain.chain_id, contract, &log)?);
        }
        read_to = Some(end);
        requests += 1;
        start = end + 1;
    }
    if start <= to {
        tracing::info!(chain_id = chain.chain_id, read_to = ?read_to, to, "admin events: catching up over several runs");
    }
    logs.sort_by_key(|l| (l.block, l.log_index));
    Ok((logs, read_to))
}

fn admin_log(chain_id: u64, contract: Address, log: &alloy::rpc::types::Log) -> Result<AdminLog, FiguresError> {
    let bad = |why: &str| FiguresError::Rpc { chain_id, reason: format!("admin event log of {contract}: {why}") };
    let (Some(block), Some(tx), Some(log_index)) = (log.block_number, log.transaction_hash, log.log_index) else {
        return Err(bad("without block, transaction or index"));
    };
    let decoded =
        abi::Settlement::SettlementEvents::decode_log(&log.inner).map_err(|e| bad(&format!("undecodable ({e})")))?.data;
    let event = AdminEvent::from_event(decoded).ok_or_else(|| bad("not an admin event"))?;
    Ok(AdminLog { block, tx, log_index, event })
}
