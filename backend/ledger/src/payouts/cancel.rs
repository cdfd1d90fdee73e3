//! Cancelling a batch that can no longer execute: its rewards pending again, in one transaction.

use alloy::primitives::U256;
use sqlx::PgPool;

use super::{BatchStatus, PayoutError, audit, batch_nonce};
use crate::money::Money;
use crate::plan::Amount;

/// What a cancellation must find under the lock: the batch as the caller checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelState {
    /// Asset of the batch; its row is locked first (the ledger's lock order).
    pub asset_id: i32,
    /// Status the caller saw; any change meanwhile aborts the cancellation.
    pub status: BatchStatus,
    /// The contract nonce of the current signing attempt (`None`: never sent to the signer).
    pub nonce: Option<U256>,
    /// Unix seconds after which no signature of the batch can execute (`None`: never fixed).
    pub deadline: Option<u64>,
}

impl CancelState {
    /// Every nonce a signature of this batch may carry: signing attempts 0 ..= the current one (earlier
    /// attempts were superseded before being recorded, but the signer may have signed them).
    pub fn attempt_nonces(&self, batch_id: i64) -> Vec<U256> {
        let Some(nonce) = self.nonce else { return Vec::new() };
        let first = batch_nonce(batch_id, 0);
        if nonce < first || nonce - first > U256::from(u8::MAX) {
            return vec![nonce];
        }
        (0..=(nonce - first).to::<u8>()).map(|a| batch_nonce(batch_id, a)).collect()
    }
}

/// The batch as a cancellation sees it (no lock: [`cancel_batch`] checks it again under the lock).
pub async fn cancel_state(pool: &PgPool, batch_id: i64) -> Result<Option<CancelState>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT asset_id, status AS "status: BatchStatus", chain_nonce AS "nonce: Money", deadline
           FROM payout_batches WHERE id = $1"#,
        batch_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| CancelState {
        asset_id: r.asset_id,
        status: r.status,
        nonce: r.nonce.map(|n| n.0),
        deadline: r.deadline.map(|d| d as u64),
    }))
}

/// Pending, batched and held totals of an asset.
async fn balance_totals(tx: &mut super::Tx, asset_id: i32) -> Result<(Money, Money, Money), sqlx::Error> {
    let totals = sqlx::query!(
        r#"SELECT COALESCE(sum(pending), 0) AS "pending!: Money", COALESCE(sum(batched), 0) AS "batched!: Money",
                  COALESCE(sum(held), 0) AS "held!: Money"
           FROM users WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok((totals.pending, totals.batched, totals.held))
}

/// What a cancellation moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    /// Reward parts returned to their rewards' rest (pending, or held for a frozen user).
    pub rewards: i64,
    /// Users those rewards belong to.
    pub users: i64,
    /// Base units returned to pending or held; equals the batch total.
    pub total: Amount,
}

/// Cancels batch `batch_id` if it still is exactly `expected` (the state the caller proved cannot execute):
/// status `cancelled`, the reward parts it carried back in their rewards' rest (balances batched → pending,
/// or held for a user frozen meanwhile), its signed payload
/// `expired`; `payout_batch_rewards` and the items stay for history. One transaction, with the asset row
/// (the ledger's lock order: asset, then batch) and the batch row locked, and an audit row with `proof`.
/// `Ok(None)`: the batch changed meanwhile (signed, sent, settled, cancelled): nothing done.
pub async fn cancel_batch(
    pool: &PgPool,
    batch_id: i64,
    expected: &CancelState,
    proof: serde_json::Value,
    actor: &str,
) -> Result<Option<Cancelled>, PayoutError> {
    let mut tx = pool.begin().await?;
    sqlx::query_scalar!("SELECT id FROM assets WHERE id = $1 FOR UPDATE", expected.asset_id)
        .fetch_optional(&mut *tx)
        .await?;
    let row = sqlx::query!(
        r#"SELECT asset_id, status AS "status: BatchStatus", chain_nonce AS "nonce: Money", deadline,
                  total AS "total: Money"
           FROM payout_batches WHERE id = $1 FOR UPDATE"#,
        batch_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (asset_id, total) = (row.asset_id, row.total);
    let now = CancelState {
        asset_id,
        status: row.status,
        nonce: row.nonce.map(|n| n.0),
        deadline: row.deadline.map(|d| d as u64),
    };
    if &now != expected || !now.status.may_become(BatchStatus::Cancelled) {
        return Ok(None);
    }
    let cancelled = cancel_locked(&mut tx, batch_id, &now, total, proof, actor).await?;
    tx.commit().await?;
    Ok(Some(cancelled))
}

/// Cancels batch `batch_id`, found as `now` (whose total is `total`) under the locks of the asset and the batch row,
/// in the caller's transaction: what [`cancel_batch`] does once it has checked the batch. A member's leave cancels
/// the open batches paying them this way, in the listener's transaction (the contract refuses them).
pub(crate) async fn cancel_locked(
    tx: &mut super::Tx,
    batch_id: i64,
    now: &CancelState,
    total: Money,
    proof: serde_json::Value,
    actor: &str,
) -> Result<Cancelled, PayoutError> {
    let asset_id = now.asset_id;
    let (pending_before, batched_before, held_before) = balance_totals(tx, asset_id).await?;
    // Balance rows in user order, as `build_in` takes them: the two never wait on each other in a circle.
    sqlx::query_scalar!(
        "SELECT user_no FROM users WHERE asset_id = $1
           AND user_no IN (SELECT user_no FROM payout_batch_items WHERE batch_id = $2) ORDER BY user_no FOR UPDATE",
        asset_id,
        batch_id
    )
    .fetch_all(&mut **tx)
    .await?;
    // Each part the batch carried goes back to its reward's rest: pending, or held when the user is frozen now.
    let found = sqlx::query!(
        r#"WITH parts AS (SELECT reward_no, amount FROM payout_batch_rewards WHERE batch_id = $2 AND asset_id = $1),
         moved AS (
             UPDATE rewards r SET in_flight = r.in_flight - parts.amount,
                    status = CASE WHEN r.status <> 'batched' THEN r.status WHEN u.frozen THEN 'held' ELSE 'pending' END,
                    batch_id = CASE WHEN r.batch_id = $2 THEN NULL ELSE r.batch_id END
             FROM parts, users u
             WHERE r.asset_id = $1 AND r.reward_no = parts.reward_no AND u.asset_id = $1 AND u.user_no = r.beneficiary_no
             RETURNING r.beneficiary_no, parts.amount, r.status),
         per_user AS (
             SELECT beneficiary_no AS user_no, sum(amount) AS amount, count(*) AS n,
                    COALESCE(sum(amount) FILTER (WHERE status = 'pending'), 0) AS to_pending,
                    COALESCE(sum(amount) FILTER (WHERE status = 'held'), 0) AS to_held
             FROM moved GROUP BY 1),
         updated AS (
             UPDATE users b SET pending = b.pending + p.to_pending, held = b.held + p.to_held,
                    batched = b.batched - p.amount
             FROM per_user p WHERE b.asset_id = $1 AND b.user_no = p.user_no RETURNING p.user_no, p.amount, p.n)
         SELECT COALESCE(sum(amount), 0) AS "moved!: Money", COALESCE(sum(n), 0)::int8 AS "rewards!",
                count(*) AS "users!",
                (SELECT COALESCE(sum(amount), 0) FROM payout_batch_items WHERE batch_id = $2) AS "items_total!: Money",
                (SELECT COALESCE(sum(fee), 0) FROM payout_batch_items WHERE batch_id = $2) AS "fees!: Money",
                (SELECT count(*) FROM payout_batch_items i WHERE i.batch_id = $2
                   AND i.amount + i.fee = (SELECT p.amount FROM per_user p WHERE p.user_no = i.user_no)) AS "items!",
                (SELECT count(*) FROM moved WHERE status NOT IN ('pending', 'held')) AS "stray!"
         FROM updated"#,
        asset_id,
        batch_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let (moved, rewards, users, items_total, items, stray) =
        (found.moved, found.rewards, found.users, found.items_total, found.items, found.stray);
    // The batch's total is what the contract would have paid; its parts settle that plus the entries' fees.
    let settles = Money(items_total.0 + found.fees.0);
    if moved != settles || items_total != total || items != users || stray != 0 {
        // Rolled back on drop: the batch and its rewards disagree, a person must look.
        return Err(PayoutError::Inconsistent(
            batch_id,
            format!(
                "total {total}, items {items_total} (fees {}), parts moved {moved} ({users} users, {items} matching items, \
                 {stray} parts of rewards neither pending nor held)",
                found.fees
            ),
        ));
    }
    sqlx::query!("UPDATE payout_batches SET status = 'cancelled' WHERE id = $1", batch_id).execute(&mut **tx).await?;
    // Withdraw requests this batch answered are open again — unless the user has since made a new one, which
    // then stands alone (one open request per user).
    sqlx::query!(
        "UPDATE withdraw_requests w
            SET status = CASE WHEN EXISTS (SELECT 1 FROM withdraw_requests o WHERE o.asset_id = w.asset_id
                                             AND o.user_no = w.user_no AND o.status = 'open')
                              THEN 'cancelled' ELSE 'open' END,
                cancelled_by = CASE WHEN EXISTS (SELECT 1 FROM withdraw_requests o WHERE o.asset_id = w.asset_id
                                                   AND o.user_no = w.user_no AND o.status = 'open')
                                    THEN 'operator' END,
                batch_id = NULL, updated_at = now()
          WHERE w.batch_id = $1 AND w.status = 'batched'",
        batch_id
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "UPDATE transactions t SET status = 'expired' FROM payout_batches b
         WHERE b.id = $1 AND t.id = b.transaction_id AND t.status IN ('signed', 'submitted')",
        batch_id
    )
    .execute(&mut **tx)
    .await?;
    let total = total.to_amount()?;
    let (pending_after, batched_after, held_after) = balance_totals(tx, asset_id).await?;
    let before = serde_json::json!({
        "status": now.status, "nonce": now.nonce.map(|n| n.to_string()), "deadline": now.deadline,
        "total": total.to_string(), "pending_total": pending_before.to_string(),
        "batched_total": batched_before.to_string(), "held_total": held_before.to_string(),
    });
    let after = serde_json::json!({
        "status": "cancelled", "rewards_released": rewards, "users": users,
        "pending_total": pending_after.to_string(), "batched_total": batched_after.to_string(),
        "held_total": held_after.to_string(), "proof": proof,
    });
    audit(tx, actor, "payout_batch_cancel", asset_id, &format!("batch:{batch_id}"), before, after).await?;
    Ok(Cancelled { rewards, users, total })
}
