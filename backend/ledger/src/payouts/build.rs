//! Building a batch from pending rewards: per-user sums within the caps; two concurrent builds never take the
//! same reward.

use std::collections::BTreeMap;

use alloy::primitives::Address;
use sqlx::{PgPool, Row};

use super::{PayoutError, Tx, audit};
use crate::money::Money;
use crate::plan::Amount;

/// A batch just built: entries in the order they must be signed and paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltBatch {
    /// Ledger row id of the new batch; also the high bits of its contract nonce.
    pub id: i64,
    /// Asset whose pending rewards were taken.
    pub asset_id: i32,
    /// Chain of the asset's Settlement contract.
    pub chain_id: u64,
    /// The asset's token (zero address for the native coin).
    pub token: Address,
    /// One (recipient, summed pending rewards) per user, lowest user number first.
    pub entries: Vec<(Address, Amount)>,
    /// Sum of the entries; within the build's `max_total`.
    pub total: Amount,
}

/// Takes pending rewards of `asset_id` into a new batch, whole users at a time, lowest user number first,
/// while the batch stays within `max_entries` users and `max_total`. `None` when nothing is payable — or when
/// a concurrent build holds every pending reward for the moment: concurrent builds never share a reward, and
/// building again after they commit takes what they left.
pub async fn build_batch(
    pool: &PgPool,
    asset_id: i32,
    max_entries: usize,
    max_total: Amount,
) -> Result<Option<BuiltBatch>, PayoutError> {
    let mut tx = pool.begin().await?;
    let built = build_in(&mut tx, asset_id, max_entries, max_total).await?;
    tx.commit().await?;
    Ok(built)
}

/// As [`build_batch`], with an `audit_logs` row by `actor` in the same transaction (the admin API).
pub async fn build_batch_audited(
    pool: &PgPool,
    asset_id: i32,
    max_entries: usize,
    max_total: Amount,
    actor: &str,
) -> Result<Option<BuiltBatch>, PayoutError> {
    let mut tx = pool.begin().await?;
    let Some(built) = build_in(&mut tx, asset_id, max_entries, max_total).await? else { return Ok(None) };
    let pending_after: Money =
        sqlx::query_scalar("SELECT COALESCE(sum(pending), 0) FROM user_balances WHERE asset_id = $1")
            .bind(asset_id)
            .fetch_one(&mut *tx)
            .await?;
    let pending_before = pending_after.to_amount()? + built.total;
    let before = serde_json::json!({ "pending_total": pending_before.to_string() });
    let after = serde_json::json!({
        "batch_id": built.id, "status": "building", "total": built.total.to_string(),
        "entries": built.entries.len(), "pending_total": pending_after.to_string(),
    });
    audit(&mut tx, actor, "payout_batch_build", asset_id, &format!("batch:{}", built.id), before, after).await?;
    tx.commit().await?;
    Ok(Some(built))
}

async fn build_in(
    tx: &mut Tx,
    asset_id: i32,
    max_entries: usize,
    max_total: Amount,
) -> Result<Option<BuiltBatch>, PayoutError> {
    // The asset row first, as the listener's transaction and a cancel take it: a build and an event applied at
    // the same time then queue instead of deadlocking on balance rows (concurrent builds queue too).
    let asset = sqlx::query("SELECT chain_id, token FROM assets WHERE id = $1 FOR UPDATE")
        .bind(asset_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(PayoutError::UnknownAsset(asset_id))?;
    let chain_id: i64 = asset.get(0);
    let token: Vec<u8> = asset.get(1);

    // SKIP LOCKED: a concurrent build takes other rewards, never these.
    let rows = sqlx::query(
        "SELECT reward_no, beneficiary_no, amount FROM rewards
         WHERE asset_id = $1 AND status = 'pending' ORDER BY beneficiary_no, reward_no FOR UPDATE SKIP LOCKED",
    )
    .bind(asset_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut per_user: BTreeMap<i32, (Amount, Vec<i64>)> = BTreeMap::new();
    for row in &rows {
        let entry = per_user.entry(row.get(1)).or_default();
        entry.0 += row.try_get::<Money, _>(2)?.to_amount()?;
        entry.1.push(row.get(0));
    }
    let (mut users, mut sums, mut reward_nos, mut total) = (Vec::new(), Vec::new(), Vec::new(), 0 as Amount);
    for (user_no, (sum, rewards)) in per_user {
        if users.len() == max_entries || total + sum > max_total {
            break;
        }
        total += sum;
        users.push(user_no);
        sums.push(Money::from(sum));
        reward_nos.extend(rewards);
    }
    if users.is_empty() {
        return Ok(None);
    }

    let id: i64 = sqlx::query_scalar(
        "INSERT INTO payout_batches (asset_id, status, total) VALUES ($1, 'building', $2) RETURNING id",
    )
    .bind(asset_id)
    .bind(Money::from(total))
    .fetch_one(&mut **tx)
    .await?;
    let positions: Vec<i32> = (0..users.len() as i32).collect();
    sqlx::query(
        "INSERT INTO payout_batch_items (batch_id, asset_id, user_no, amount, position)
         SELECT $1, $2, u, a, p FROM unnest($3::int4[], $4::numeric[], $5::int4[]) AS t(u, a, p)",
    )
    .bind(id)
    .bind(asset_id)
    .bind(&users)
    .bind(&sums)
    .bind(&positions)
    .execute(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO payout_batch_rewards (batch_id, asset_id, reward_no) SELECT $1, $2, unnest($3::int8[])")
        .bind(id)
        .bind(asset_id)
        .bind(&reward_nos)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE rewards SET status = 'batched', batch_id = $1 WHERE asset_id = $2 AND reward_no = ANY($3)")
        .bind(id)
        .bind(asset_id)
        .bind(&reward_nos)
        .execute(&mut **tx)
        .await?;
    // The open withdraw requests of these users are answered by this batch.
    sqlx::query(
        "UPDATE withdraw_requests SET status = 'batched', batch_id = $1, updated_at = now()
         WHERE asset_id = $2 AND user_no = ANY($3) AND status = 'open'",
    )
    .bind(id)
    .bind(asset_id)
    .bind(&users)
    .execute(&mut **tx)
    .await?;
    sqlx::query("SELECT 1 FROM user_balances WHERE asset_id = $1 AND user_no = ANY($2) ORDER BY user_no FOR UPDATE")
        .bind(asset_id)
        .bind(&users)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE user_balances b SET pending = b.pending - t.a, batched = b.batched + t.a
         FROM unnest($2::int4[], $3::numeric[]) AS t(u, a) WHERE b.asset_id = $1 AND b.user_no = t.u",
    )
    .bind(asset_id)
    .bind(&users)
    .bind(&sums)
    .execute(&mut **tx)
    .await?;
    let addresses: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT u.address FROM unnest($2::int4[]) WITH ORDINALITY AS t(n, o) JOIN users u ON u.asset_id = $1 AND u.user_no = t.n ORDER BY t.o")
            .bind(asset_id)
            .bind(&users)
            .fetch_all(&mut **tx)
            .await?;
    let entries = addresses
        .iter()
        .zip(&sums)
        .map(|(a, s)| Ok((Address::from_slice(a), s.to_amount()?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some(BuiltBatch { id, asset_id, chain_id: chain_id as u64, token: Address::from_slice(&token), entries, total }))
}
