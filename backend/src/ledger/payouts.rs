//! The payout lifecycle in the ledger: pending rewards → a batch (per-user sums, within caps; two concurrent
//! builds never take the same reward) → signed (its contract nonce recorded) → settled from the contract's
//! `PayoutDeferred` / `PayoutBatchExecuted` events, inside the listener's transaction.
//!
//! Reward statuses live only in Postgres (the plan engine never reads them), so this is plain SQL beside it.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, U256};
use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::{events::EventBody, plan::Amount};

type Tx = Transaction<'static, Postgres>;

#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("unknown asset {0}")]
    UnknownAsset(i32),
    #[error("batch {0} is not waiting for a signature")]
    NotBuilding(i64),
    #[error("batch {0} does not match its rewards: {1}")]
    Inconsistent(i64, String),
}

/// A batch just built: entries in the order they must be signed and paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltBatch {
    pub id: i64,
    pub asset_id: i32,
    pub chain_id: u64,
    pub token: Address,
    pub entries: Vec<(Address, Amount)>,
    pub total: Amount,
}

/// NUMERIC(78,0) travels as text (no decimal type in between).
fn numeric(v: Amount) -> String {
    v.to_string()
}

fn amount(text: &str) -> Amount {
    text.parse().expect("ledger amounts are non-negative integers below 2^128")
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
    let pending_after: String =
        sqlx::query_scalar("SELECT COALESCE(sum(pending), 0)::text FROM user_balances WHERE asset_id = $1")
            .bind(asset_id)
            .fetch_one(&mut *tx)
            .await?;
    let pending_before = amount(&pending_after) + built.total;
    let before = serde_json::json!({ "pending_total": pending_before.to_string() });
    let after = serde_json::json!({
        "batch_id": built.id, "status": "building", "total": built.total.to_string(),
        "entries": built.entries.len(), "pending_total": pending_after,
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
        "SELECT reward_no, beneficiary_no, amount::text FROM rewards
         WHERE asset_id = $1 AND status = 'pending' ORDER BY beneficiary_no, reward_no FOR UPDATE SKIP LOCKED",
    )
    .bind(asset_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut per_user: BTreeMap<i32, (Amount, Vec<i64>)> = BTreeMap::new();
    for row in &rows {
        let entry = per_user.entry(row.get(1)).or_default();
        entry.0 += amount(row.get::<&str, _>(2));
        entry.1.push(row.get(0));
    }
    let (mut users, mut sums, mut reward_nos, mut total) = (Vec::new(), Vec::new(), Vec::new(), 0 as Amount);
    for (user_no, (sum, rewards)) in per_user {
        if users.len() == max_entries || total + sum > max_total {
            break;
        }
        total += sum;
        users.push(user_no);
        sums.push(numeric(sum));
        reward_nos.extend(rewards);
    }
    if users.is_empty() {
        return Ok(None);
    }

    let id: i64 = sqlx::query_scalar(
        "INSERT INTO payout_batches (asset_id, status, total) VALUES ($1, 'building', $2::numeric) RETURNING id",
    )
    .bind(asset_id)
    .bind(numeric(total))
    .fetch_one(&mut **tx)
    .await?;
    let positions: Vec<i32> = (0..users.len() as i32).collect();
    sqlx::query(
        "INSERT INTO payout_batch_items (batch_id, asset_id, user_no, amount, position)
         SELECT $1, $2, u, a::numeric, p FROM unnest($3::int4[], $4::text[], $5::int4[]) AS t(u, a, p)",
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
        "UPDATE user_balances b SET pending = b.pending - t.a::numeric, batched = b.batched + t.a::numeric
         FROM unnest($2::int4[], $3::text[]) AS t(u, a) WHERE b.asset_id = $1 AND b.user_no = t.u",
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
    let entries = addresses.iter().zip(&sums).map(|(a, s)| (Address::from_slice(a), amount(s))).collect();
    Ok(Some(BuiltBatch { id, asset_id, chain_id: chain_id as u64, token: Address::from_slice(&token), entries, total }))
}

/// Records the signed version of a batch; from now on only this nonce, hash, deadline and signature are sent.
pub async fn record_signed(
    pool: &PgPool,
    batch_id: i64,
    nonce: U256,
    payouts_hash: B256,
    deadline: u64,
    signature: &[u8],
) -> Result<(), PayoutError> {
    let mut tx = pool.begin().await?;
    record_signed_in(&mut tx, batch_id, nonce, payouts_hash, deadline, signature).await?;
    tx.commit().await?;
    Ok(())
}

async fn record_signed_in(
    tx: &mut Tx,
    batch_id: i64,
    nonce: U256,
    payouts_hash: B256,
    deadline: u64,
    signature: &[u8],
) -> Result<(), PayoutError> {
    let updated = sqlx::query(
        "UPDATE payout_batches SET status = 'signed', chain_nonce = $2::numeric, payouts_hash = $3, deadline = $4,
                signature = $5
         WHERE id = $1 AND status = 'building'",
    )
    .bind(batch_id)
    .bind(nonce.to_string())
    .bind(payouts_hash.as_slice())
    .bind(deadline as i64)
    .bind(signature)
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(PayoutError::NotBuilding(batch_id));
    }
    Ok(())
}

/// Appends an `audit_logs` row at the asset's current ledger position.
pub(super) async fn audit(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    asset_id: i32,
    target: &str,
    before: serde_json::Value,
    after: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_logs (actor, action, asset_id, target, before, after, applied_events)
         SELECT $1, $2, id, $4, $5, $6, applied_events FROM assets WHERE id = $3",
    )
    .bind(actor)
    .bind(action)
    .bind(asset_id)
    .bind(target)
    .bind(sqlx::types::Json(before))
    .bind(sqlx::types::Json(after))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Contract nonces the backend chooses itself sit at 2^255 and above, far from the signer's own counter (which
/// starts at 0 for register and retopup payloads), so the two never meet.
const PAYOUT_NONCE_BASE: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);
/// Treasury transfers: 2^255 + 2^254 + transfer id.
pub const TREASURY_NONCE_BASE: U256 = U256::from_limbs([0, 0, 0, 3 << 62]);

/// The contract nonce of signing attempt `attempt` (0..=255) of batch `batch_id`: fixed by the batch, so a
/// retried sign call asks for the same nonce. Batches are only ever signed with attempt 0 (a fixed nonce is never
/// replaced, see [`prepare_signing`]); the low byte stays reserved, and cancellation still checks every attempt
/// nonce an older database may hold.
pub fn batch_nonce(batch_id: i64, attempt: u8) -> U256 {
    PAYOUT_NONCE_BASE + (U256::from(batch_id as u64) << 8) + U256::from(attempt)
}

/// A batch as it will be (or was) signed: entries in signing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPayload {
    pub id: i64,
    pub asset_id: i32,
    pub chain_id: u64,
    pub token: Address,
    pub entries: Vec<(Address, Amount)>,
    pub total: Amount,
    pub nonce: U256,
    pub deadline: u64,
}

impl BatchPayload {
    pub fn payouts(&self) -> Vec<abi::Payout> {
        self.entries
            .iter()
            .map(|(recipient, a)| abi::Payout { recipient: *recipient, amount: U256::from(*a) })
            .collect()
    }

    /// The EIP-712 struct the signer signs and the contract executes.
    pub fn payout_batch(&self) -> abi::PayoutBatch {
        abi::PayoutBatch {
            token: self.token,
            total: U256::from(self.total),
            payouts: self.payouts(),
            nonce: self.nonce,
            deadline: U256::from(self.deadline),
        }
    }
}

/// What the sign step must do for a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignStep {
    /// Ask the signer for this payload (its nonce and deadline are stored already).
    Sign(BatchPayload),
    /// Already signed: this payload and signature, unchanged.
    Signed(BatchPayload, Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum SignStepError {
    #[error(transparent)]
    Payout(#[from] PayoutError),
    #[error("no batch {0}")]
    UnknownBatch(i64),
    #[error("batch {0} is {1} and was never signed")]
    NotSignable(i64, String),
    #[error("batch {0}'s signature expired at {1}: cancel the batch and build it again")]
    Expired(i64, u64),
}

/// Fixes the nonce and deadline of batch `batch_id` before anything is signed (so every retry of the sign call
/// asks for the same payload), or returns the stored signature when it was signed already.
pub async fn prepare_signing(pool: &PgPool, batch_id: i64, now: u64, ttl_secs: u64) -> Result<SignStep, SignStepError> {
    let mut tx = pool.begin().await.map_err(PayoutError::from)?;
    let row = sqlx::query(
        "SELECT status, chain_nonce::text, deadline, signature FROM payout_batches WHERE id = $1 FOR UPDATE",
    )
    .bind(batch_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(PayoutError::from)?
    .ok_or(SignStepError::UnknownBatch(batch_id))?;
    let status: String = row.get(0);
    let stored_nonce: Option<U256> = row.get::<Option<&str>, _>(1).map(|n| n.parse().expect("nonce is a uint256"));
    let stored_deadline: Option<i64> = row.get(2);
    let signature: Option<Vec<u8>> = row.get(3);
    if status == "cancelled" {
        return Err(SignStepError::NotSignable(batch_id, status));
    }
    if status != "building" {
        let signature = signature.ok_or_else(|| SignStepError::NotSignable(batch_id, status))?;
        let payload = load_payload(&mut tx, batch_id).await.map_err(PayoutError::from)?;
        return Ok(SignStep::Signed(payload, signature));
    }
    // Once fixed, a batch's nonce and deadline never change: the signer may have signed them even though no
    // signature was recorded (a crash between its answer and our commit), and a second nonce for the same
    // rewards could then execute beside the first. After the deadline the batch can only be cancelled (with the
    // chain's proof that it expired) and built again.
    match (stored_nonce, stored_deadline) {
        (Some(_), Some(deadline)) if deadline as u64 <= now => {
            return Err(SignStepError::Expired(batch_id, deadline as u64));
        }
        (Some(_), Some(_)) => {}
        _ => {
            sqlx::query("UPDATE payout_batches SET chain_nonce = $2::numeric, deadline = $3 WHERE id = $1")
                .bind(batch_id)
                .bind(batch_nonce(batch_id, 0).to_string())
                .bind((now + ttl_secs) as i64)
                .execute(&mut *tx)
                .await
                .map_err(PayoutError::from)?;
        }
    }
    let payload = load_payload(&mut tx, batch_id).await.map_err(PayoutError::from)?;
    tx.commit().await.map_err(PayoutError::from)?;
    Ok(SignStep::Sign(payload))
}

/// The batch with its stored nonce and deadline (both set), entries by position.
async fn load_payload(tx: &mut Tx, batch_id: i64) -> Result<BatchPayload, sqlx::Error> {
    let head = sqlx::query(
        "SELECT b.asset_id, a.chain_id, a.token, b.total::text, b.chain_nonce::text, b.deadline
         FROM payout_batches b JOIN assets a ON a.id = b.asset_id WHERE b.id = $1",
    )
    .bind(batch_id)
    .fetch_one(&mut **tx)
    .await?;
    let items = sqlx::query(
        "SELECT u.address, i.amount::text FROM payout_batch_items i
         JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
         WHERE i.batch_id = $1 ORDER BY i.position",
    )
    .bind(batch_id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(BatchPayload {
        id: batch_id,
        asset_id: head.get(0),
        chain_id: head.get::<i64, _>(1) as u64,
        token: Address::from_slice(head.get::<&[u8], _>(2)),
        total: amount(head.get::<&str, _>(3)),
        nonce: head.get::<Option<&str>, _>(4).map(|n| n.parse().expect("nonce is a uint256")).unwrap_or_default(),
        deadline: head.get::<Option<i64>, _>(5).unwrap_or_default() as u64,
        entries: items
            .iter()
            .map(|r| (Address::from_slice(r.get::<&[u8], _>(0)), amount(r.get::<&str, _>(1))))
            .collect(),
    })
}

/// Stores the signer's answer for `payload` (the nonce and deadline [`prepare_signing`] fixed): the signed
/// echo as a `transactions` row, the batch as signed, and an audit row. `Ok(None)`: that attempt is no longer
/// the batch's (it was signed meanwhile, or superseded); read the batch again.
pub async fn store_signature(
    pool: &PgPool,
    payload: &BatchPayload,
    signature: &[u8],
    signed_echo: &serde_json::Value,
    actor: &str,
) -> Result<Option<()>, PayoutError> {
    let mut tx = pool.begin().await?;
    let current: Option<(String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT status, chain_nonce::text, deadline FROM payout_batches WHERE id = $1 FOR UPDATE")
            .bind(payload.id)
            .fetch_optional(&mut *tx)
            .await?;
    let ours = Some(("building".to_string(), Some(payload.nonce.to_string()), Some(payload.deadline as i64)));
    if current != ours {
        return Ok(None);
    }
    let transaction_id: i64 = sqlx::query_scalar(
        "INSERT INTO transactions (asset_id, kind, nonce, payload, signature, deadline)
         VALUES ($1, 'payout_batch', $2::numeric, $3, $4, $5) RETURNING id",
    )
    .bind(payload.asset_id)
    .bind(payload.nonce.to_string())
    .bind(sqlx::types::Json(signed_echo))
    .bind(signature)
    .bind(payload.deadline as i64)
    .fetch_one(&mut *tx)
    .await?;
    let hash = abi::payouts_hash(&payload.payouts());
    record_signed_in(&mut tx, payload.id, payload.nonce, hash, payload.deadline, signature).await?;
    sqlx::query("UPDATE payout_batches SET transaction_id = $2 WHERE id = $1")
        .bind(payload.id)
        .bind(transaction_id)
        .execute(&mut *tx)
        .await?;
    let after = serde_json::json!({
        "status": "signed", "nonce": payload.nonce.to_string(), "deadline": payload.deadline,
        "payouts_hash": hash.to_string(), "total": payload.total.to_string(),
    });
    let before = serde_json::json!({ "status": "building" });
    audit(&mut tx, actor, "payout_batch_sign", payload.asset_id, &format!("batch:{}", payload.id), before, after)
        .await?;
    tx.commit().await?;
    Ok(Some(()))
}

/// A batch's sending state: status and the last transaction hash sent for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendState {
    pub status: String,
    pub tx_hash: Option<B256>,
    pub signature: Option<Vec<u8>>,
}

/// Locks batch `batch_id` for a send decision (held until the returned transaction ends).
pub async fn lock_for_send(pool: &PgPool, batch_id: i64) -> Result<Option<(Tx, SendState)>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT b.status, t.tx_hash, b.signature FROM payout_batches b
         LEFT JOIN transactions t ON t.id = b.transaction_id WHERE b.id = $1 FOR UPDATE OF b",
    )
    .bind(batch_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let tx_hash: Option<Vec<u8>> = row.get(1);
    let state = SendState { status: row.get(0), tx_hash: tx_hash.map(|h| B256::from_slice(&h)), signature: row.get(2) };
    Ok(Some((tx, state)))
}

/// The payload of a signed batch (inside a [`lock_for_send`] transaction).
pub async fn signed_payload(tx: &mut Tx, batch_id: i64) -> Result<BatchPayload, sqlx::Error> {
    load_payload(tx, batch_id).await
}

/// Records that `tx_hash` was sent for the batch (status `submitted`) with an audit row, and commits.
pub async fn record_sent(
    mut tx: Tx,
    batch_id: i64,
    asset_id: i32,
    previous: &SendState,
    tx_hash: B256,
    action: &str,
    actor: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payout_batches SET status = 'submitted' WHERE id = $1")
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE transactions t SET status = 'submitted', tx_hash = $2 FROM payout_batches b
         WHERE b.id = $1 AND t.id = b.transaction_id",
    )
    .bind(batch_id)
    .bind(tx_hash.as_slice())
    .execute(&mut *tx)
    .await?;
    let before = serde_json::json!({
        "status": previous.status, "tx_hash": previous.tx_hash.map(|h| h.to_string()),
    });
    let after = serde_json::json!({ "status": "submitted", "tx_hash": tx_hash.to_string() });
    audit(&mut tx, actor, action, asset_id, &format!("batch:{batch_id}"), before, after).await?;
    tx.commit().await
}

/// What a cancellation must find under the lock: the batch as the caller checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelState {
    pub asset_id: i32,
    pub status: String,
    /// The contract nonce of the current signing attempt (`None`: never sent to the signer).
    pub nonce: Option<U256>,
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
    let row: Option<(i32, String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT asset_id, status, chain_nonce::text, deadline FROM payout_batches WHERE id = $1")
            .bind(batch_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(asset_id, status, nonce, deadline)| CancelState {
        asset_id,
        status,
        nonce: nonce.map(|n| n.parse().expect("nonce is a uint256")),
        deadline: deadline.map(|d| d as u64),
    }))
}

/// asset_id, status, chain_nonce, deadline, total of a batch row.
type CancelRow = (i32, String, Option<String>, Option<i64>, String);

/// What a cancellation moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    pub rewards: i64,
    pub users: i64,
    pub total: Amount,
}

/// Cancels batch `batch_id` if it still is exactly `expected` (the state the caller proved cannot execute):
/// status `cancelled`, its rewards `pending` again (balances batched → pending), its signed payload
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
    sqlx::query("SELECT id FROM assets WHERE id = $1 FOR UPDATE").bind(expected.asset_id).execute(&mut *tx).await?;
    let row: Option<CancelRow> = sqlx::query_as(
        "SELECT asset_id, status, chain_nonce::text, deadline, total::text FROM payout_batches
         WHERE id = $1 FOR UPDATE",
    )
    .bind(batch_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((asset_id, status, nonce, deadline, total)) = row else { return Ok(None) };
    let now = CancelState {
        asset_id,
        status,
        nonce: nonce.map(|n| n.parse().expect("nonce is a uint256")),
        deadline: deadline.map(|d| d as u64),
    };
    if &now != expected || !matches!(now.status.as_str(), "building" | "signed" | "submitted" | "failed") {
        return Ok(None);
    }
    let (pending_before, batched_before): (String, String) = sqlx::query_as(
        "SELECT COALESCE(sum(pending), 0)::text, COALESCE(sum(batched), 0)::text FROM user_balances WHERE asset_id = $1",
    )
    .bind(asset_id)
    .fetch_one(&mut *tx)
    .await?;
    // Balance rows in user order, as `build_in` takes them: the two never wait on each other in a circle.
    sqlx::query(
        "SELECT 1 FROM user_balances WHERE asset_id = $1
           AND user_no IN (SELECT user_no FROM payout_batch_items WHERE batch_id = $2) ORDER BY user_no FOR UPDATE",
    )
    .bind(asset_id)
    .bind(batch_id)
    .execute(&mut *tx)
    .await?;
    let (moved, rewards, users, items_total, items): (String, i64, i64, String, i64) = sqlx::query_as(
        "WITH moved AS (
             UPDATE rewards SET status = 'pending', batch_id = NULL
             WHERE asset_id = $1 AND batch_id = $2 AND status = 'batched' RETURNING beneficiary_no, amount),
         per_user AS (SELECT beneficiary_no AS user_no, sum(amount) AS amount, count(*) AS n FROM moved GROUP BY 1),
         updated AS (
             UPDATE user_balances b SET pending = b.pending + p.amount, batched = b.batched - p.amount
             FROM per_user p WHERE b.asset_id = $1 AND b.user_no = p.user_no RETURNING p.user_no, p.amount, p.n)
         SELECT COALESCE(sum(amount), 0)::text, COALESCE(sum(n), 0)::int8, count(*),
                (SELECT COALESCE(sum(amount), 0)::text FROM payout_batch_items WHERE batch_id = $2),
                (SELECT count(*) FROM payout_batch_items i WHERE i.batch_id = $2
                   AND i.amount = (SELECT p.amount FROM per_user p WHERE p.user_no = i.user_no))
         FROM updated",
    )
    .bind(asset_id)
    .bind(batch_id)
    .fetch_one(&mut *tx)
    .await?;
    if moved != total || items_total != total || items != users {
        // Rolled back on drop: the batch and its rewards disagree, a person must look.
        return Err(PayoutError::Inconsistent(
            batch_id,
            format!(
                "total {total}, items {items_total}, rewards moved {moved} ({users} users, {items} matching items)"
            ),
        ));
    }
    sqlx::query("UPDATE payout_batches SET status = 'cancelled' WHERE id = $1")
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
    // Withdraw requests this batch answered are open again — unless the user has since made a new one, which
    // then stands alone (one open request per user).
    sqlx::query(
        "UPDATE withdraw_requests w
            SET status = CASE WHEN EXISTS (SELECT 1 FROM withdraw_requests o WHERE o.asset_id = w.asset_id
                                             AND o.user_no = w.user_no AND o.status = 'open')
                              THEN 'cancelled' ELSE 'open' END,
                batch_id = NULL, updated_at = now()
          WHERE w.batch_id = $1 AND w.status = 'batched'",
    )
    .bind(batch_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE transactions t SET status = 'expired' FROM payout_batches b
         WHERE b.id = $1 AND t.id = b.transaction_id AND t.status IN ('signed', 'submitted')",
    )
    .bind(batch_id)
    .execute(&mut *tx)
    .await?;
    let total = amount(&total);
    let before = serde_json::json!({
        "status": now.status, "nonce": now.nonce.map(|n| n.to_string()), "deadline": now.deadline,
        "total": total.to_string(), "pending_total": pending_before, "batched_total": batched_before,
    });
    let after = serde_json::json!({
        "status": "cancelled", "rewards_released": rewards, "users": users,
        "pending_total": (amount(&pending_before) + total).to_string(),
        "batched_total": (amount(&batched_before) - total).to_string(), "proof": proof,
    });
    audit(&mut tx, actor, "payout_batch_cancel", asset_id, &format!("batch:{batch_id}"), before, after).await?;
    tx.commit().await?;
    Ok(Some(Cancelled { rewards, users, total }))
}

/// Why a settlement event could not be applied (it is quarantined, and an alert raised).
pub(super) type Refusal = (&'static str, String);

/// Applies a `PayoutDeferred` or `PayoutBatchExecuted` event of `chain_id` at `block` in the ledger's
/// transaction. `Ok(Err(_))`: the event does not match the ledger and must be quarantined.
pub(super) async fn apply_settlement(
    tx: &mut Tx,
    chain_id: u64,
    block: u64,
    body: &EventBody,
) -> Result<Result<(), Refusal>, sqlx::Error> {
    match body {
        EventBody::PayoutDeferred { batch_nonce, recipient, index, amount, .. } => {
            sqlx::query(
                "INSERT INTO payout_deferrals (chain_id, batch_nonce, entry_index, recipient, amount)
                 VALUES ($1, $2::numeric, $3, $4, $5::numeric)",
            )
            .bind(chain_id as i64)
            .bind(batch_nonce.to_string())
            .bind(index.to::<u64>() as i64)
            .bind(recipient.as_slice())
            .bind(amount.to_string())
            .execute(&mut **tx)
            .await?;
            Ok(Ok(()))
        }
        EventBody::PayoutBatchExecuted { nonce, token, payouts_hash, total, .. } => {
            settle_batch(tx, chain_id, block, *nonce, *token, *payouts_hash, *total).await
        }
        _ => Ok(Ok(())),
    }
}

async fn settle_batch(
    tx: &mut Tx,
    chain_id: u64,
    block: u64,
    nonce: U256,
    token: Address,
    payouts_hash: B256,
    total: U256,
) -> Result<Result<(), Refusal>, sqlx::Error> {
    let batch = sqlx::query(
        "SELECT b.id, b.asset_id, b.status, b.total::text, b.payouts_hash FROM payout_batches b
         JOIN assets a ON a.id = b.asset_id
         WHERE a.chain_id = $1 AND a.token = $2 AND b.chain_nonce = $3::numeric FOR UPDATE OF b",
    )
    .bind(chain_id as i64)
    .bind(token.as_slice())
    .bind(nonce.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(batch) = batch else {
        return Ok(Err(("unknown_batch", format!("no batch of this asset was signed with nonce {nonce}"))));
    };
    let (id, asset_id, status): (i64, i32, String) = (batch.get(0), batch.get(1), batch.get(2));
    let stored_total: String = batch.get(3);
    let stored_hash: Option<Vec<u8>> = batch.get(4);
    if !matches!(status.as_str(), "signed" | "submitted") {
        return Ok(Err(("batch_not_open", format!("batch {id} is {status}"))));
    }
    if stored_total != total.to_string() || stored_hash.as_deref() != Some(payouts_hash.as_slice()) {
        return Ok(Err((
            "batch_mismatch",
            format!("executed batch (total {total}, hash {payouts_hash}) is not batch {id} as signed"),
        )));
    }
    // Every deferred entry must be the entry at that position, with its amount.
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payout_deferrals d
         LEFT JOIN payout_batch_items i ON i.batch_id = $3 AND i.position = d.entry_index
         LEFT JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
         WHERE d.chain_id = $1 AND d.batch_nonce = $2::numeric
           AND (u.address IS DISTINCT FROM d.recipient OR i.amount IS DISTINCT FROM d.amount)",
    )
    .bind(chain_id as i64)
    .bind(nonce.to_string())
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    if mismatched > 0 {
        return Ok(Err(("deferral_mismatch", format!("{mismatched} deferred entries do not match batch {id}"))));
    }
    sqlx::query(
        "UPDATE payout_batch_items i SET outcome = CASE WHEN d.entry_index IS NULL THEN 'paid' ELSE 'claimable' END
         FROM payout_batch_items i2
         LEFT JOIN payout_deferrals d ON d.chain_id = $2 AND d.batch_nonce = $3::numeric AND d.entry_index = i2.position
         WHERE i.batch_id = $1 AND i2.batch_id = i.batch_id AND i2.user_no = i.user_no",
    )
    .bind(id)
    .bind(chain_id as i64)
    .bind(nonce.to_string())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE rewards SET status = 'settled' WHERE asset_id = $1 AND batch_id = $2")
        .bind(asset_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE user_balances b SET batched = b.batched - i.amount, settled = b.settled + i.amount,
                claimable = b.claimable + CASE WHEN i.outcome = 'claimable' THEN i.amount ELSE 0 END
         FROM payout_batch_items i WHERE i.batch_id = $1 AND b.asset_id = i.asset_id AND b.user_no = i.user_no",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE payout_batches SET status = 'executed', executed_block = $2 WHERE id = $1")
        .bind(id)
        .bind(block as i64)
        .execute(&mut **tx)
        .await?;
    Ok(Ok(()))
}
