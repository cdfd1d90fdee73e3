//! Admin ledger actions (PLAN.md §5–§6). Each runs in one transaction under the asset's row
//! lock, bumps `assets.admin_seq` (so running ledgers re-read frozen flags and plan versions
//! before their next event) and appends an `audit_logs` row with before/after values and the
//! ledger position, so a replay can interleave the action at the same place.

use alloy::primitives::Address;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row, Transaction};

use super::load;
use crate::plan::{Amount, InvalidVersion, PlanParams};

type Tx = Transaction<'static, Postgres>;

/// Why an admin action was refused; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("unknown asset {0}")]
    UnknownAsset(i32),
    #[error("user {0} is not registered in this asset")]
    UnknownUser(Address),
    #[error("nothing to do: {0}")]
    NoChange(&'static str),
    #[error(transparent)]
    InvalidVersion(#[from] InvalidVersion),
    #[error(transparent)]
    Ledger(#[from] super::LedgerError),
}

/// Locks the asset row; returns (applied_events, last block the chain's ledger has passed,
/// counting quarantined events too).
async fn lock_asset(tx: &mut Tx, asset_id: i32) -> Result<(i64, Option<i64>), AdminError> {
    let row = sqlx::query(
        "SELECT applied_events,
                GREATEST(last_block, (SELECT s.last_block FROM blockchain_sync s WHERE s.chain_id = a.chain_id))
         FROM assets a WHERE id = $1 FOR UPDATE",
    )
    .bind(asset_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AdminError::UnknownAsset(asset_id))?;
    Ok((row.get(0), row.get(1)))
}

async fn user_no(tx: &mut Tx, asset_id: i32, user: Address) -> Result<i32, AdminError> {
    sqlx::query_scalar("SELECT user_no FROM users WHERE asset_id = $1 AND address = $2 FOR UPDATE")
        .bind(asset_id)
        .bind(user.as_slice())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(AdminError::UnknownUser(user))
}

async fn user_snapshot(tx: &mut Tx, asset_id: i32, user_no: i32) -> Result<Value, AdminError> {
    Ok(sqlx::query_scalar(
        "SELECT jsonb_build_object('frozen', u.frozen, 'pending', b.pending::text,
                'held', b.held::text, 'forfeited', b.forfeited::text)
         FROM users u JOIN user_balances b USING (asset_id, user_no)
         WHERE u.asset_id = $1 AND u.user_no = $2",
    )
    .bind(asset_id)
    .bind(user_no)
    .fetch_one(&mut **tx)
    .await?)
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    mut tx: Tx,
    asset_id: i32,
    actor: &str,
    action: &str,
    target: &str,
    before: Value,
    after: Value,
    applied_events: i64,
) -> Result<(), AdminError> {
    sqlx::query("UPDATE assets SET admin_seq = admin_seq + 1 WHERE id = $1").bind(asset_id).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO audit_logs (actor, action, asset_id, target, before, after, applied_events)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(actor)
    .bind(action)
    .bind(asset_id)
    .bind(target)
    .bind(before)
    .bind(after)
    .bind(applied_events)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Freezes a user: their pending rewards become held, and later credits arrive held.
pub async fn freeze(pool: &PgPool, asset_id: i32, user: Address, actor: &str) -> Result<(), AdminError> {
    set_frozen(pool, asset_id, user, actor, true).await
}

/// Unfreezes a user: their held rewards become pending (payable).
pub async fn unfreeze(pool: &PgPool, asset_id: i32, user: Address, actor: &str) -> Result<(), AdminError> {
    set_frozen(pool, asset_id, user, actor, false).await
}

async fn set_frozen(pool: &PgPool, asset_id: i32, user: Address, actor: &str, frozen: bool) -> Result<(), AdminError> {
    let mut tx = pool.begin().await?;
    let (applied, _) = lock_asset(&mut tx, asset_id).await?;
    let no = user_no(&mut tx, asset_id, user).await?;
    let before = user_snapshot(&mut tx, asset_id, no).await?;
    if before["frozen"] == json!(frozen) {
        return Err(AdminError::NoChange(if frozen { "already frozen" } else { "not frozen" }));
    }
    let (from, to) = if frozen { ("pending", "held") } else { ("held", "pending") };
    sqlx::query("UPDATE rewards SET status = $4 WHERE asset_id = $1 AND beneficiary_no = $2 AND status = $3")
        .bind(asset_id)
        .bind(no)
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    // `from` and `to` are the two literals above.
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE user_balances SET {to} = {to} + {from}, {from} = 0 WHERE asset_id = $1 AND user_no = $2"
    )))
    .bind(asset_id)
    .bind(no)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE users SET frozen = $3 WHERE asset_id = $1 AND user_no = $2")
        .bind(asset_id)
        .bind(no)
        .bind(frozen)
        .execute(&mut *tx)
        .await?;
    let after = user_snapshot(&mut tx, asset_id, no).await?;
    let action = if frozen { "freeze" } else { "unfreeze" };
    finish(tx, asset_id, actor, action, &user.to_string(), before, after, applied).await
}

/// Moves every held reward of a user to the company (status forfeited); returns the total.
pub async fn forfeit_held(pool: &PgPool, asset_id: i32, user: Address, actor: &str) -> Result<Amount, AdminError> {
    let mut tx = pool.begin().await?;
    let (applied, _) = lock_asset(&mut tx, asset_id).await?;
    let no = user_no(&mut tx, asset_id, user).await?;
    let held: Vec<(i64, String)> = sqlx::query_as(
        "SELECT reward_no, amount::text FROM rewards
         WHERE asset_id = $1 AND beneficiary_no = $2 AND status = 'held' ORDER BY reward_no FOR UPDATE",
    )
    .bind(asset_id)
    .bind(no)
    .fetch_all(&mut *tx)
    .await?;
    if held.is_empty() {
        return Err(AdminError::NoChange("no held rewards"));
    }
    let mut total: Amount = 0;
    for (_, a) in &held {
        total += load::parse_amount(a)?;
    }
    let company_before: String = sqlx::query_scalar("SELECT company_total::text FROM assets WHERE id = $1")
        .bind(asset_id)
        .fetch_one(&mut *tx)
        .await?;
    let mut before = user_snapshot(&mut tx, asset_id, no).await?;
    before["company_total"] = json!(company_before);
    let next: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(credit_no) + 1, 0) FROM company_credits WHERE asset_id = $1")
            .bind(asset_id)
            .fetch_one(&mut *tx)
            .await?;
    let rewards: Vec<i64> = held.iter().map(|(n, _)| *n).collect();
    let amounts: Vec<&str> = held.iter().map(|(_, a)| a.as_str()).collect();
    sqlx::query(
        "INSERT INTO company_credits (asset_id, credit_no, amount, reason, reward_no)
         SELECT $1, $2 + o - 1, m::numeric, 'forfeit', r
         FROM UNNEST($3::int8[], $4::text[]) WITH ORDINALITY AS x(r, m, o)",
    )
    .bind(asset_id)
    .bind(next)
    .bind(&rewards)
    .bind(&amounts)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE rewards SET status = 'forfeited' WHERE asset_id = $1 AND reward_no = ANY($2)")
        .bind(asset_id)
        .bind(&rewards)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE user_balances SET forfeited = forfeited + $3::numeric, held = held - $3::numeric
         WHERE asset_id = $1 AND user_no = $2",
    )
    .bind(asset_id)
    .bind(no)
    .bind(total.to_string())
    .execute(&mut *tx)
    .await?;
    let company_after: String = sqlx::query_scalar(
        "UPDATE assets SET company_total = company_total + $2::numeric WHERE id = $1
         RETURNING company_total::text",
    )
    .bind(asset_id)
    .bind(total.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let mut after = user_snapshot(&mut tx, asset_id, no).await?;
    after["company_total"] = json!(company_after);
    after["forfeited_rewards"] = json!(rewards);
    finish(tx, asset_id, actor, "forfeit_held", &user.to_string(), before, after, applied).await?;
    Ok(total)
}

/// Adds a plan version effective from `from_block` (after every applied event); returns its
/// version number.
pub async fn new_plan_version(
    pool: &PgPool,
    asset_id: i32,
    from_block: u64,
    params: PlanParams,
    actor: &str,
) -> Result<u32, AdminError> {
    let mut tx = pool.begin().await?;
    let (applied, last_block) = lock_asset(&mut tx, asset_id).await?;
    let mut schedule = load::schedule(&mut tx, asset_id).await?;
    let before = serde_json::to_value(schedule.latest().params.clone()).expect("params serialize");
    let before = json!({ "version": schedule.latest().version, "effective_from_block": schedule.latest().effective_from_block, "params": before });
    let v = schedule.push(from_block, last_block.map(|b| b as u64), params)?.clone();
    sqlx::query("INSERT INTO plan_versions (asset_id, version, effective_from_block, params) VALUES ($1, $2, $3, $4)")
        .bind(asset_id)
        .bind(v.version as i32)
        .bind(v.effective_from_block as i64)
        .bind(sqlx::types::Json(&v.params))
        .execute(&mut *tx)
        .await?;
    let after = json!({ "version": v.version, "effective_from_block": v.effective_from_block, "params": v.params });
    finish(tx, asset_id, actor, "new_plan_version", &format!("asset {asset_id}"), before, after, applied).await?;
    Ok(v.version)
}
