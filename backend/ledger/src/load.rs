//! Rebuilding plan engines from the ledger tables.

use alloy::primitives::Address;
use sqlx::{Postgres, Transaction};

use super::LedgerError;
use crate::money::Money;
use crate::plan::generation::{GenerationEngine, GenerationParams, StoredMember};
use crate::plan::{
    Amount, PlanEngine, PlanKind, PlanRules, PlanSchedule, PlanVersion, PoolNode, RewardPlan, RowCounters, UserState,
};

/// One asset's plan and the counters it was loaded at.
#[derive(Debug)]
pub(crate) struct AssetBook {
    pub(crate) id: i32,
    pub(crate) token: Address,
    pub(crate) engine: Box<dyn RewardPlan>,
    pub(crate) admin_seq: i64,
    /// The newest `audit_logs` id of this asset the engine reflects (to notice manual placements).
    pub(crate) audit_seen: i64,
}

type Tx = Transaction<'static, Postgres>;

/// The stored plan versions of an asset, with the parameters of its plan kind.
pub(super) async fn schedule<P: PlanRules + serde::de::DeserializeOwned>(
    tx: &mut Tx,
    asset_id: i32,
) -> Result<PlanSchedule<P>, LedgerError> {
    let rows = sqlx::query!(
        "SELECT version, effective_from_block, params FROM plan_versions WHERE asset_id = $1 ORDER BY version",
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for r in rows {
        let params = serde_json::from_value(r.params).map_err(|e| {
            LedgerError::Corrupt(format!("asset {asset_id}: plan version {} does not parse: {e}", r.version))
        })?;
        versions.push(PlanVersion {
            version: r.version as u32,
            effective_from_block: r.effective_from_block as u64,
            params,
        });
    }
    Ok(PlanSchedule::from_versions(versions)?)
}

/// The next company-credit number of an asset.
async fn next_credit_no(tx: &mut Tx, asset_id: i32) -> Result<u64, LedgerError> {
    let n = sqlx::query_scalar!(
        r#"SELECT COALESCE(MAX(credit_no) + 1, 0) AS "next!" FROM company_credits WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(n as u64)
}

/// Loads every asset of a chain (asset rows must already be locked or stable).
pub(super) async fn chain_assets(tx: &mut Tx, chain_id: u64) -> Result<Vec<AssetBook>, LedgerError> {
    let rows = sqlx::query!(
        "SELECT id, token, applied_events, admin_seq, plan_kind, next_period, last_block FROM assets
         WHERE chain_id = $1 ORDER BY id",
        chain_id as i64
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut books = Vec::with_capacity(rows.len());
    for r in rows {
        let (id, admin_seq) = (r.id, r.admin_seq);
        let token = Address::from_slice(&r.token);
        let applied_events = r.applied_events as u64;
        let kind = PlanKind::parse(&r.plan_kind)
            .ok_or_else(|| LedgerError::Corrupt(format!("asset {id}: unknown plan kind {}", r.plan_kind)))?;
        let engine: Box<dyn RewardPlan> = match kind {
            PlanKind::AutoPool => Box::new(asset_engine(tx, id, applied_events).await?),
            PlanKind::Generation => {
                let at = Position {
                    applied_events,
                    next_period: r.next_period.map(|p| p as u64),
                    last_block: r.last_block.unwrap_or(0) as u64,
                };
                Box::new(generation_engine(tx, id, at).await?)
            }
            PlanKind::Binary => {
                return Err(LedgerError::Corrupt(format!("asset {id}: the binary plan's rows are not stored yet")));
            }
        };
        let audit_seen = last_audit_id(tx, id).await?;
        books.push(AssetBook { id, token, engine, admin_seq, audit_seen });
    }
    Ok(books)
}

/// The users of an asset in number order, as the plans see them.
async fn users(tx: &mut Tx, asset_id: i32) -> Result<Vec<UserState>, LedgerError> {
    let user_rows = sqlx::query!(
        "SELECT user_no, address, sponsor_no, direct_count, has_retopup, retopup_count, frozen
         FROM users WHERE asset_id = $1 ORDER BY user_no",
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut users = Vec::with_capacity(user_rows.len());
    for (i, r) in user_rows.into_iter().enumerate() {
        if r.user_no as usize != i {
            return Err(LedgerError::Corrupt(format!("asset {asset_id}: user numbers have a gap at {i}")));
        }
        let mut u = UserState::new(Address::from_slice(&r.address), r.sponsor_no.map(|s| s as u32));
        u.direct_count = r.direct_count as u64;
        u.has_retopup = r.has_retopup;
        u.retopup_count = r.retopup_count as u64;
        u.frozen = r.frozen;
        users.push(u);
    }
    Ok(users)
}

async fn asset_engine(tx: &mut Tx, asset_id: i32, applied_events: u64) -> Result<PlanEngine, LedgerError> {
    let schedule = schedule(tx, asset_id).await?;
    let users = users(tx, asset_id).await?;
    let node_rows = sqlx::query!(
        r#"SELECT level, q, owner_no, status = 'completed' AS "completed!" FROM placements
         WHERE asset_id = $1 ORDER BY level, q"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut levels: Vec<Vec<PoolNode>> = Vec::new();
    for r in node_rows {
        let level = r.level as usize;
        if levels.len() < level {
            levels.resize_with(level, Vec::new);
        }
        let tree = &mut levels[level - 1];
        if r.q as usize != tree.len() {
            return Err(LedgerError::Corrupt(format!("asset {asset_id}: level {level} has a gap")));
        }
        tree.push(PoolNode { owner: r.owner_no as u32, completed: r.completed });
    }
    let reserve_rows = sqlx::query!(
        r#"SELECT user_no, level, amount AS "amount: Money" FROM user_reserves WHERE asset_id = $1 AND amount > 0"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut reserves = Vec::with_capacity(reserve_rows.len());
    for r in reserve_rows {
        reserves.push((r.user_no as u32, r.level as u32, r.amount.to_amount()?));
    }
    // The next number of each numbered table, in one statement.
    let next = sqlx::query!(
        r#"SELECT (SELECT COALESCE(MAX(reward_no) + 1, 0) FROM rewards WHERE asset_id = $1) AS "reward!",
                  (SELECT COALESCE(MAX(placement_no) + 1, 0) FROM placements WHERE asset_id = $1) AS "placement!",
                  (SELECT COALESCE(MAX(credit_no) + 1, 0) FROM company_credits WHERE asset_id = $1) AS "credit!",
                  (SELECT COALESCE(MAX(movement_no) + 1, 0) FROM reserve_movements WHERE asset_id = $1) AS "movement!",
                  (SELECT COALESCE(MAX(retopup_no) + 1, 0) FROM chain_events WHERE asset_id = $1 AND retopup_no IS NOT NULL)
                    AS "retopup!""#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let counters = RowCounters {
        applied_events,
        reward: next.reward as u64,
        placement: next.placement as u64,
        company_credit: next.credit as u64,
        reserve_movement: next.movement as u64,
        retopup: next.retopup as u64,
    };
    Ok(PlanEngine::restore(schedule, users, levels, reserves, counters))
}

/// Where a generation asset's ledger stands: events applied, the next week to close, the last event's block.
struct Position {
    applied_events: u64,
    next_period: Option<u64>,
    last_block: u64,
}

/// A generation asset's plan: users, what each paid in, the cap of every purchase under its version, what each
/// earned, and the company's balance (its credits less treasury transfers executed).
async fn generation_engine(tx: &mut Tx, asset_id: i32, at: Position) -> Result<GenerationEngine, LedgerError> {
    let schedule = schedule::<GenerationParams>(tx, asset_id).await?;
    let users = users(tx, asset_id).await?;
    let mut stored = vec![StoredMember::default(); users.len()];
    let count = users.len();
    let member = |u: i32| {
        usize::try_from(u)
            .ok()
            .filter(|u| *u < count)
            .ok_or_else(|| LedgerError::Corrupt(format!("asset {asset_id}: figures for unknown user {u}")))
    };
    let paid = sqlx::query!(
        r#"SELECT user_no, paid_in AS "paid_in: Money" FROM users WHERE asset_id = $1 AND paid_in > 0"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in paid {
        stored[member(r.user_no)?].paid_in = r.paid_in.to_amount()?;
    }
    // The cap of each purchase under the version of its block, rounded down per purchase.
    let purchases = sqlx::query!(
        r#"SELECT user_no AS "user_no!", plan_version AS "plan_version!", amount AS "amount!: Money", count(*) AS "count!"
         FROM chain_events WHERE asset_id = $1 GROUP BY user_no, plan_version, amount"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in purchases {
        let u = member(r.user_no)?;
        let version = schedule.versions().iter().find(|v| v.version as i32 == r.plan_version).ok_or_else(|| {
            LedgerError::Corrupt(format!("asset {asset_id}: an event of unknown plan version {}", r.plan_version))
        })?;
        let cap = r.amount.to_amount()? * u128::from(version.params.cap_bps) / 10_000;
        stored[u].cap += cap * r.count as Amount;
    }
    let earned = sqlx::query!(
        r#"SELECT beneficiary_no, sum(amount) AS "earned!: Money" FROM rewards
         WHERE asset_id = $1 AND kind IN ('GENERATION', 'RANK_BONUS') GROUP BY beneficiary_no"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    for r in earned {
        stored[member(r.beneficiary_no)?].earned = r.earned.to_amount()?;
    }
    let company = company_balance(tx, asset_id).await?;
    let next = sqlx::query!(
        r#"SELECT (SELECT COALESCE(MAX(reward_no) + 1, 0) FROM rewards WHERE asset_id = $1) AS "reward!",
                  (SELECT COALESCE(MAX(credit_no) + 1, 0) FROM company_credits WHERE asset_id = $1) AS "credit!",
                  (SELECT COALESCE(MAX(retopup_no) + 1, 0) FROM chain_events WHERE asset_id = $1 AND retopup_no IS NOT NULL)
                    AS "retopup!""#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let counters = RowCounters {
        applied_events: at.applied_events,
        reward: next.reward as u64,
        company_credit: next.credit as u64,
        retopup: next.retopup as u64,
        ..RowCounters::default()
    };
    Ok(GenerationEngine::restore(schedule, users, &stored, company, at.next_period, at.last_block, counters))
}

/// The company's balance a generation asset's rank bonuses are scaled to (PLAN-GENERATION.md §3): everything
/// credited to it less what it paid (`company_total`), less treasury transfers executed (refunds of quarantined
/// inflows were never the company's).
pub(super) async fn company_balance(tx: &mut Tx, asset_id: i32) -> Result<Amount, LedgerError> {
    let c = sqlx::query_scalar!(
        r#"SELECT GREATEST(company_total - (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                                          WHERE t.asset_id = a.id AND t.status = 'executed'
                                            AND t.refund_tx_hash IS NULL), 0) AS "c!: Money"
         FROM assets a WHERE id = $1"#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(c.to_amount()?)
}

/// Re-reads what admin actions change: frozen flags, plan versions, company-credit numbers.
pub(super) async fn refresh_admin_state(tx: &mut Tx, book: &mut AssetBook) -> Result<(), LedgerError> {
    let admin_seq =
        sqlx::query_scalar!("SELECT admin_seq FROM assets WHERE id = $1", book.id).fetch_one(&mut **tx).await?;
    let frozen = sqlx::query_scalar!("SELECT user_no FROM users WHERE asset_id = $1 AND frozen", book.id)
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
    let any = engine.as_any_mut();
    if let Some(e) = any.downcast_mut::<PlanEngine>() {
        *e.schedule_mut() = schedule(tx, book.id).await?;
    } else if let Some(e) = any.downcast_mut::<GenerationEngine>() {
        *e.schedule_mut() = schedule(tx, book.id).await?;
        // Forfeits credit the company: the balance bonuses are scaled to follows.
        e.set_company_balance(company_balance(tx, book.id).await?);
    }
    let next_credit = next_credit_no(tx, book.id).await?;
    engine.set_company_credit_counter(next_credit);
    book.admin_seq = admin_seq;
    book.audit_seen = last_audit_id(tx, book.id).await?;
    Ok(())
}

async fn last_audit_id(tx: &mut Tx, asset_id: i32) -> Result<i64, LedgerError> {
    Ok(sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) AS "last!" FROM audit_logs WHERE asset_id = $1"#, asset_id)
        .fetch_one(&mut **tx)
        .await?)
}
