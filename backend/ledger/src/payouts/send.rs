//! Sending: a batch locked for the send decision, and each transaction sent for it recorded.

use alloy::primitives::B256;
use sqlx::{PgPool, Row};

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
