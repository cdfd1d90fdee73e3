//! Sending: a batch locked for the send decision, and each transaction sent for it recorded.

use alloy::primitives::{Address, B256};
use sqlx::PgPool;

use super::{BatchPayload, BatchStatus, Tx, audit};

use super::load_payload;

/// A batch's sending state: status and the last transaction hash sent for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendState {
    /// Status under the lock: a `signed` batch may be sent, a `submitted` one retried, nothing else.
    pub status: BatchStatus,
    /// Last transaction sent for the batch, to track before sending again.
    pub tx_hash: Option<B256>,
    /// The stored signature; every (re)send uses this one, never a new one.
    pub signature: Option<Vec<u8>>,
    /// The last transaction's signed bytes, when the chain's family keeps them (TRON).
    pub kept: Option<KeptTransaction>,
    /// How long nobody has signed, sent or re-sent the batch: how long its last transaction has waited.
    pub idle: std::time::Duration,
}

/// A signed chain transaction kept before its broadcast (TRON), to broadcast the identical bytes again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptTransaction {
    /// Its id (stored as the transaction hash).
    pub id: B256,
    /// The bytes to broadcast.
    pub raw: Vec<u8>,
    /// Unix milliseconds after which no block can include it.
    pub expiration_ms: i64,
    /// The fee limit it carries (SUN).
    pub fee_limit: i64,
}

/// The chain and asset a batch pays on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchChain {
    /// The asset's chain.
    pub chain_id: u64,
    /// The asset paid out.
    pub asset_id: i32,
    /// The asset's symbol (for metrics and messages).
    pub symbol: String,
    /// The contract the batch is signed for; `None` before it is signed, or when it was signed before contracts were
    /// recorded (the chain's oldest contract, migration 0027).
    pub contract: Option<Address>,
}

/// The chain and asset of batch `batch_id`; `None` when there is no such batch.
pub async fn batch_chain(pool: &PgPool, batch_id: i64) -> Result<Option<BatchChain>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT a.chain_id, a.id, a.symbol, b.contract FROM payout_batches b JOIN assets a ON a.id = b.asset_id
         WHERE b.id = $1",
        batch_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| BatchChain {
        chain_id: r.chain_id as u64,
        asset_id: r.id,
        symbol: r.symbol,
        contract: r.contract.as_deref().map(Address::from_slice),
    }))
}

/// The send state of batch `$1` ([`SendRow`]); `$tail` adds conditions and the lock.
macro_rules! query_send_state {
    ($tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            SendRow,
            r#"SELECT b.status AS "status: BatchStatus", t.tx_hash AS "tx_hash?", b.signature,
                      t.chain_tx_raw AS "raw?", t.chain_tx_expiration_ms AS "expiration_ms?",
                      t.chain_tx_fee_limit AS "fee_limit?",
                      EXTRACT(EPOCH FROM now() - COALESCE(b.last_step_at, b.created_at))::float8 AS "idle_secs!"
               FROM payout_batches b
               LEFT JOIN transactions t ON t.id = b.transaction_id WHERE b.id = $1 "#
                + $tail
            $(, $arg)*
        )
    };
}

/// A batch's send state as it is read.
struct SendRow {
    status: BatchStatus,
    tx_hash: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
    raw: Option<Vec<u8>>,
    expiration_ms: Option<i64>,
    fee_limit: Option<i64>,
    idle_secs: f64,
}

/// Locks batch `batch_id` for a send decision (held until the returned transaction ends), waiting for anyone
/// else deciding on it.
pub async fn lock_for_send(pool: &PgPool, batch_id: i64) -> Result<Option<(Tx, SendState)>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = query_send_state!("FOR UPDATE OF b", batch_id).fetch_optional(&mut *tx).await?;
    Ok(row.map(|row| (tx, row.into())))
}

/// Locks batch `batch_id` for a send decision only if it is signed or submitted, nobody has signed, sent or
/// re-sent it for `idle` (so a person working on it is never raced) and nobody holds it now; `None` otherwise.
pub async fn lock_idle_for_send(
    pool: &PgPool,
    batch_id: i64,
    idle: std::time::Duration,
) -> Result<Option<(Tx, SendState)>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = query_send_state!(
        "AND b.status IN ('signed', 'submitted')
          AND COALESCE(b.last_step_at, b.created_at) <= now() - make_interval(secs => $2)
         FOR UPDATE OF b SKIP LOCKED",
        batch_id,
        idle.as_secs_f64()
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|row| (tx, row.into())))
}

impl From<SendRow> for SendState {
    fn from(row: SendRow) -> Self {
        let tx_hash = row.tx_hash.map(|h| B256::from_slice(&h));
        let kept = match (tx_hash, row.raw, row.expiration_ms, row.fee_limit) {
            (Some(id), Some(raw), Some(expiration_ms), Some(fee_limit)) => {
                Some(KeptTransaction { id, raw, expiration_ms, fee_limit })
            }
            _ => None,
        };
        let idle = std::time::Duration::try_from_secs_f64(row.idle_secs).unwrap_or_default();
        SendState { status: row.status, tx_hash, signature: row.signature, kept, idle }
    }
}

/// Signed or submitted batches nobody has moved for `idle`, oldest first, with their chains: what the payout
/// worker may have to drive (at most `limit`).
pub async fn batches_to_drive(
    pool: &PgPool,
    idle: std::time::Duration,
    limit: i64,
) -> Result<Vec<(i64, u64)>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT b.id, a.chain_id FROM payout_batches b JOIN assets a ON a.id = b.asset_id
          WHERE b.status IN ('signed', 'submitted')
            AND COALESCE(b.last_step_at, b.created_at) <= now() - make_interval(secs => $1)
          ORDER BY b.id LIMIT $2",
        idle.as_secs_f64(),
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.chain_id as u64)).collect())
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
    mark_submitted(&mut tx, batch_id).await?;
    sqlx::query!(
        "UPDATE transactions t SET status = 'submitted', tx_hash = $2 FROM payout_batches b
         WHERE b.id = $1 AND t.id = b.transaction_id",
        batch_id,
        tx_hash.as_slice()
    )
    .execute(&mut *tx)
    .await?;
    let before = serde_json::json!({
        "status": previous.status, "tx_hash": previous.tx_hash.map(|h| h.to_string()),
    });
    let after = serde_json::json!({ "status": "submitted", "tx_hash": tx_hash.to_string() });
    audit(&mut tx, actor, action, asset_id, &format!("batch:{batch_id}"), before, after).await?;
    tx.commit().await
}

/// Records a signed transaction for the batch **before** it is broadcast (status `submitted`, its id as the
/// transaction hash, its bytes kept), with an audit row, and commits: a crash after this loses nothing, and a
/// retry broadcasts the same bytes.
pub async fn record_kept(
    mut tx: Tx,
    batch_id: i64,
    asset_id: i32,
    previous: &SendState,
    kept: &KeptTransaction,
    action: &str,
    actor: &str,
) -> Result<(), sqlx::Error> {
    mark_submitted(&mut tx, batch_id).await?;
    sqlx::query!(
        "UPDATE transactions t SET status = 'submitted', tx_hash = $2, chain_tx_raw = $3,
             chain_tx_expiration_ms = $4, chain_tx_fee_limit = $5
         FROM payout_batches b WHERE b.id = $1 AND t.id = b.transaction_id",
        batch_id,
        kept.id.as_slice(),
        &kept.raw,
        kept.expiration_ms,
        kept.fee_limit
    )
    .execute(&mut *tx)
    .await?;
    let before = serde_json::json!({
        "status": previous.status, "tx_hash": previous.tx_hash.map(|h| h.to_string()),
    });
    let after = serde_json::json!({
        "status": "submitted", "tx_hash": kept.id.to_string(), "expiration_ms": kept.expiration_ms,
        "fee_limit": kept.fee_limit, "kept": true,
    });
    audit(&mut tx, actor, action, asset_id, &format!("batch:{batch_id}"), before, after).await?;
    tx.commit().await
}

/// A batch sent (or kept to be sent): `submitted`, its last step now.
async fn mark_submitted(tx: &mut Tx, batch_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE payout_batches SET status = 'submitted', last_step_at = now() WHERE id = $1", batch_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
