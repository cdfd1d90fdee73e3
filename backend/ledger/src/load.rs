//! Rebuilding plan engines from the ledger tables.

use alloy::primitives::Address;
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};

use super::LedgerError;
use crate::money::Money;
use crate::plan::{PlanEngine, PlanParams, PlanSchedule, PlanVersion, PoolNode, RowCounters, UserState};

/// One asset's engine and the counters it was loaded at.
#[derive(Debug)]
pub(crate) struct AssetBook {
    pub(crate) id: i32,
    pub(crate) token: Address,
    pub(crate) engine: PlanEngine,
    pub(crate) admin_seq: i64,
    /// The newest `audit_logs` id of this asset the engine reflects (to notice manual placements).
    pub(crate) audit_seen: i64,
}

type Tx = Transaction<'static, Postgres>;

pub(super) async fn schedule(tx: &mut Tx, asset_id: i32) -> Result<PlanSchedule, LedgerError> {
    let rows = sqlx::query(
        "SELECT version, effective_from_block, params FROM plan_versions
         WHERE asset_id = $1 ORDER BY version",
    )
    .bind(asset_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for r in rows {
        let params: sqlx::types::Json<PlanParams> = r.try_get(2)?;
        versions.push(PlanVersion {
            version: r.get::<i32, _>(0) as u32,
            effective_from_block: r.get::<i64, _>(1) as u64,
            params: params.0,
        });
    }
    Ok(PlanSchedule::from_versions(versions)?)
}

async fn next_no(tx: &mut Tx, table: &'static str, column: &str, asset_id: i32) -> Result<u64, LedgerError> {
    // `table` and `column` are literals of this module.
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COALESCE(MAX({column}) + 1, 0) FROM {table} WHERE asset_id = $1"
    )))
    .bind(asset_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n as u64)
}

/// Loads every asset of a chain (asset rows must already be locked or stable).
pub(super) async fn chain_assets(tx: &mut Tx, chain_id: u64) -> Result<Vec<AssetBook>, LedgerError> {
    let rows = sqlx::query("SELECT id, token, applied_events, admin_seq FROM assets WHERE chain_id = $1 ORDER BY id")
        .bind(chain_id as i64)
        .fetch_all(&mut **tx)
        .await?;
    let mut books = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i32 = r.get(0);
        let token = Address::from_slice(r.get::<&[u8], _>(1));
        let applied_events = r.get::<i64, _>(2) as u64;
        let admin_seq: i64 = r.get(3);
        let engine = asset_engine(tx, id, applied_events).await?;
        let audit_seen = last_audit_id(tx, id).await?;
        books.push(AssetBook { id, token, engine, admin_seq, audit_seen });
    }
    Ok(books)
}

async fn asset_engine(tx: &mut Tx, asset_id: i32, applied_events: u64) -> Result<PlanEngine, LedgerError> {
    let schedule = schedule(tx, asset_id).await?;
    let user_rows = sqlx::query(
        "SELECT user_no, address, sponsor_no, direct_count, has_retopup, retopup_count, frozen
         FROM users WHERE asset_id = $1 ORDER BY user_no",
    )
    .bind(asset_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut users = Vec::with_capacity(user_rows.len());
    for (i, r) in user_rows.iter().enumerate() {
        if r.get::<i32, _>(0) as usize != i {
            return Err(LedgerError::Corrupt(format!("asset {asset_id}: user numbers have a gap at {i}")));
        }
        let mut u =
            UserState::new(Address::from_slice(r.get::<&[u8], _>(1)), r.get::<Option<i32>, _>(2).map(|s| s as u32));
        u.direct_count = r.get::<i64, _>(3) as u64;
        u.has_retopup = r.get(4);
        u.retopup_count = r.get::<i64, _>(5) as u64;
        u.frozen = r.get(6);
        users.push(u);
    }
    let node_rows = sqlx::query(
        "SELECT level, q, owner_no, status = 'completed' FROM pool_nodes
         WHERE asset_id = $1 ORDER BY level, q",
    )
    .bind(asset_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut levels: Vec<Vec<PoolNode>> = Vec::new();
    for r in node_rows {
        let level = r.get::<i32, _>(0) as usize;
        if levels.len() < level {
            levels.resize_with(level, Vec::new);
        }
        let tree = &mut levels[level - 1];
        if r.get::<i64, _>(1) as usize != tree.len() {
            return Err(LedgerError::Corrupt(format!("asset {asset_id}: level {level} has a gap")));
        }
        tree.push(PoolNode { owner: r.get::<i32, _>(2) as u32, completed: r.get(3) });
    }
    let reserve_rows =
        sqlx::query("SELECT user_no, level, amount FROM user_reserves WHERE asset_id = $1 AND amount > 0")
            .bind(asset_id)
            .fetch_all(&mut **tx)
            .await?;
    let mut reserves = Vec::with_capacity(reserve_rows.len());
    for r in reserve_rows {
        reserves.push((r.get::<i32, _>(0) as u32, r.get::<i32, _>(1) as u32, r.try_get::<Money, _>(2)?.to_amount()?));
    }
    let counters = RowCounters {
        applied_events,
        reward: next_no(tx, "rewards", "reward_no", asset_id).await?,
        placement: next_no(tx, "placements", "placement_no", asset_id).await?,
        company_credit: next_no(tx, "company_credits", "credit_no", asset_id).await?,
        reserve_movement: next_no(tx, "reserve_movements", "movement_no", asset_id).await?,
        retopup: next_no(tx, "retopups", "retopup_no", asset_id).await?,
    };
    Ok(PlanEngine::restore(schedule, users, levels, reserves, counters))
}

/// Re-reads what admin actions change: frozen flags, plan versions, company-credit numbers.
pub(super) async fn refresh_admin_state(tx: &mut Tx, book: &mut AssetBook) -> Result<(), LedgerError> {
    let row = sqlx::query("SELECT admin_seq FROM assets WHERE id = $1").bind(book.id).fetch_one(&mut **tx).await?;
    let frozen: Vec<i32> = sqlx::query_scalar("SELECT user_no FROM users WHERE asset_id = $1 AND frozen")
        .bind(book.id)
        .fetch_all(&mut **tx)
        .await?;
    let engine = &mut book.engine;
    let count = engine.users().len() as u32;
    for u in 0..count {
        engine.set_frozen(u, false);
    }
    for u in frozen {
        if u as u32 >= count {
            return Err(LedgerError::Corrupt(format!("frozen user {u} unknown to the engine")));
        }
        engine.set_frozen(u as u32, true);
    }
    *engine.schedule_mut() = schedule(tx, book.id).await?;
    let next_credit = next_no(tx, "company_credits", "credit_no", book.id).await?;
    engine.set_company_credit_counter(next_credit);
    book.admin_seq = row.get(0);
    book.audit_seen = last_audit_id(tx, book.id).await?;
    Ok(())
}

async fn last_audit_id(tx: &mut Tx, asset_id: i32) -> Result<i64, LedgerError> {
    Ok(sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM audit_logs WHERE asset_id = $1")
        .bind(asset_id)
        .fetch_one(&mut **tx)
        .await?)
}
