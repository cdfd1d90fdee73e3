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
    let asset = sqlx::query("SELECT chain_id, token FROM assets WHERE id = $1")
        .bind(asset_id)
        .fetch_optional(&mut *tx)
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
    .fetch_all(&mut *tx)
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
    .fetch_one(&mut *tx)
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
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO payout_batch_rewards (batch_id, asset_id, reward_no) SELECT $1, $2, unnest($3::int8[])")
        .bind(id)
        .bind(asset_id)
        .bind(&reward_nos)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE rewards SET status = 'batched', batch_id = $1 WHERE asset_id = $2 AND reward_no = ANY($3)")
        .bind(id)
        .bind(asset_id)
        .bind(&reward_nos)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE user_balances b SET pending = b.pending - t.a::numeric, batched = b.batched + t.a::numeric
         FROM unnest($2::int4[], $3::text[]) AS t(u, a) WHERE b.asset_id = $1 AND b.user_no = t.u",
    )
    .bind(asset_id)
    .bind(&users)
    .bind(&sums)
    .execute(&mut *tx)
    .await?;
    let addresses: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT u.address FROM unnest($2::int4[]) WITH ORDINALITY AS t(n, o) JOIN users u ON u.asset_id = $1 AND u.user_no = t.n ORDER BY t.o")
            .bind(asset_id)
            .bind(&users)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
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
    .execute(pool)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(PayoutError::NotBuilding(batch_id));
    }
    Ok(())
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
