//! The company's share of an asset and the treasury transfers that move it out of custody (PLAN.md §0: the
//! operator may move the company's balance, never more).
//!
//! A transfer is checked and recorded in one transaction under the asset's row lock, with the signature asked
//! for inside it: two concurrent requests cannot both pass the check, and a signature whose row was not stored
//! (the transaction failed) was never handed out, so it cannot execute.

use std::future::Future;

use alloy::primitives::{Address, U256};
use sqlx::{PgPool, Postgres, Row, Transaction};

use super::payouts::audit;
use crate::money::Money;

type Tx = Transaction<'static, Postgres>;

/// The treasury of one asset, in base units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreasuryPosition {
    /// Asset the figures are for.
    pub asset_id: i32,
    /// Chain of the asset's Settlement contract.
    pub chain_id: u64,
    /// The asset's token (zero address for the native coin).
    pub token: Address,
    /// Display symbol, e.g. `BNB`.
    pub symbol: String,
    /// Decimals of the base unit, for display only.
    pub decimals: i16,
    /// Everything the company was ever credited (`assets.company_total`).
    pub company_total: U256,
    /// Treasury transfers executed on-chain.
    pub transferred: U256,
    /// Signed transfers that may still execute.
    pub reserved: U256,
    /// What a new transfer may take: company_total − transferred − reserved (0 if that is negative).
    pub available: U256,
    /// Σ reserved + held + pending + batched + claimable of all users: what custody owes them.
    pub liabilities: U256,
}

/// With `lock`, takes the asset's row lock first, in its own statement: the sums are then read by a later
/// statement, whose snapshot (READ COMMITTED) includes whatever the previous lock holder committed.
async fn read_position(tx: &mut Tx, asset_id: i32, lock: bool) -> Result<Option<TreasuryPosition>, sqlx::Error> {
    if lock {
        let found = sqlx::query("SELECT 1 FROM assets WHERE id = $1 FOR UPDATE")
            .bind(asset_id)
            .fetch_optional(&mut **tx)
            .await?;
        if found.is_none() {
            return Ok(None);
        }
    }
    let sql = String::from(
        "SELECT a.chain_id, a.token, a.symbol, a.decimals, a.company_total,
                (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                 WHERE t.asset_id = a.id AND t.status = 'executed'),
                (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                 WHERE t.asset_id = a.id AND t.status = 'signed'),
                (SELECT COALESCE(sum(reserved + held + pending + batched + claimable), 0) FROM user_balances b
                 WHERE b.asset_id = a.id)
         FROM assets a WHERE a.id = $1",
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(asset_id).fetch_optional(&mut **tx).await? else {
        return Ok(None);
    };
    let money = |i: usize| row.try_get::<Money, _>(i).map(|m| m.0);
    let (company_total, transferred, reserved, liabilities) = (money(4)?, money(5)?, money(6)?, money(7)?);
    Ok(Some(TreasuryPosition {
        asset_id,
        chain_id: row.get::<i64, _>(0) as u64,
        token: Address::from_slice(row.get::<&[u8], _>(1)),
        symbol: row.get(2),
        decimals: row.get(3),
        company_total,
        transferred,
        reserved,
        available: company_total.saturating_sub(transferred.saturating_add(reserved)),
        liabilities,
    }))
}

/// The treasury of `asset_id`; `None` for an unknown asset.
pub async fn position(pool: &PgPool, asset_id: i32) -> Result<Option<TreasuryPosition>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let position = read_position(&mut tx, asset_id, false).await?;
    tx.commit().await?;
    Ok(position)
}

/// What the signer is asked to authorise: the nonce is fixed here, from the transfer's own row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    /// Chain of the asset's Settlement contract.
    pub chain_id: u64,
    /// The asset's token (zero address for the native coin).
    pub token: Address,
    /// Operator wallet that receives the company funds.
    pub to: Address,
    /// Base units; already checked to be within the available company share.
    pub amount: U256,
    /// Treasury-space contract nonce of the transfer's row id ([`abi::nonces::treasury_nonce`]).
    pub nonce: U256,
}

/// The signer's answer for a [`TransferRequest`].
#[derive(Debug, Clone)]
pub struct TransferSignature {
    /// Unix seconds after which the signed transfer can no longer execute (then it expires).
    pub deadline: u64,
    /// 65-byte signature the contract's `transferTreasury` verifies.
    pub signature: Vec<u8>,
}

/// A stored treasury transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreasuryTransferRow {
    /// Row id; the transfer's contract nonce is derived from it.
    pub id: i64,
    /// Asset whose company share the transfer takes.
    pub asset_id: i32,
    /// Contract nonce the signature spends.
    pub nonce: U256,
    /// Wallet that receives (or received) the funds.
    pub to: Address,
    /// Base units moved out of custody.
    pub amount: U256,
    /// `api` when signed through the API; `chain` when an unknown execution was found on-chain (alerted).
    pub origin: String,
    /// Unix seconds the signature is valid until; `None` for an origin-`chain` row.
    pub deadline: Option<u64>,
    /// The signature handed out; `None` for an origin-`chain` row.
    pub signature: Option<Vec<u8>>,
    /// Admin who requested it (audit actor); `None` for an origin-`chain` row.
    pub requested_by: Option<String>,
    /// `signed` (may still execute), `executed`, or `expired` (a confirmed block passed its deadline).
    pub status: String,
    /// Block of the `TreasuryTransferred` event, once executed.
    pub executed_block: Option<u64>,
    /// Transaction of the `TreasuryTransferred` event, once executed.
    pub tx_hash: Option<Vec<u8>>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// Why a treasury transfer was not signed and stored; `E` is the signer's error.
#[derive(Debug, thiserror::Error)]
pub enum TransferError<E> {
    /// The database failed; nothing was stored, and no signature was handed out.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No asset with this id.
    #[error("unknown asset {0}")]
    UnknownAsset(i32),
    /// More than the company's available share: the treasury never takes users' money (solvency).
    #[error("{requested} exceeds the available company share {available}")]
    ExceedsAvailable {
        /// Base units the company may still move: all it was credited, less transfers executed or still signed.
        available: U256,
        /// Base units the transfer asked for.
        requested: U256,
    },
    /// The signer refused or failed; nothing was stored.
    #[error("signing failed")]
    Sign(E),
}

/// Signs (through `sign`) and stores a transfer of `amount` of `asset_id` to `to`, if it fits in what is
/// available, with an audit row by `actor` — all under the asset's row lock.
pub async fn transfer<E, F, Fut>(
    pool: &PgPool,
    asset_id: i32,
    to: Address,
    amount: U256,
    actor: &str,
    sign: F,
) -> Result<TreasuryTransferRow, TransferError<E>>
where
    F: FnOnce(TransferRequest) -> Fut,
    Fut: Future<Output = Result<TransferSignature, E>>,
{
    let mut tx = pool.begin().await?;
    let before = read_position(&mut tx, asset_id, true).await?.ok_or(TransferError::UnknownAsset(asset_id))?;
    if amount > before.available {
        return Err(TransferError::ExceedsAvailable { available: before.available, requested: amount });
    }
    // The row id is taken first so the nonce is known before signing; a rolled-back id is never reused.
    let id: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('treasury_transfers', 'id'))")
        .fetch_one(&mut *tx)
        .await?;
    let nonce = abi::nonces::treasury_nonce(id as u64);
    let request = TransferRequest { chain_id: before.chain_id, token: before.token, to, amount, nonce };
    let signed = sign(request).await.map_err(TransferError::Sign)?;
    sqlx::query(
        "INSERT INTO treasury_transfers (id, asset_id, chain_nonce, recipient, amount, deadline, signature, requested_by)
         VALUES ($1, $2, $3::numeric, $4, $5::numeric, $6, $7, $8)",
    )
    .bind(id)
    .bind(asset_id)
    .bind(nonce.to_string())
    .bind(to.as_slice())
    .bind(amount.to_string())
    .bind(signed.deadline as i64)
    .bind(&signed.signature)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    let after = read_position(&mut tx, asset_id, false).await?.ok_or(TransferError::UnknownAsset(asset_id))?;
    let snapshot = |p: &TreasuryPosition| serde_json::json!({ "available": p.available.to_string(), "reserved": p.reserved.to_string() });
    let mut after_json = snapshot(&after);
    after_json["transfer"] = serde_json::json!({
        "id": id, "to": to.to_checksum(None), "amount": amount.to_string(), "nonce": nonce.to_string(),
        "deadline": signed.deadline,
    });
    audit(
        &mut tx,
        actor,
        "treasury_transfer",
        asset_id,
        &format!("treasury_transfer:{id}"),
        snapshot(&before),
        after_json,
    )
    .await?;
    let row = fetch(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

const COLUMNS: &str = "id, asset_id, chain_nonce, recipient, amount, origin, deadline, signature, requested_by,
     status, executed_block, tx_hash, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

fn from_row(r: &sqlx::postgres::PgRow) -> TreasuryTransferRow {
    TreasuryTransferRow {
        id: r.get(0),
        asset_id: r.get(1),
        nonce: r.get::<Money, _>(2).0,
        to: Address::from_slice(r.get::<&[u8], _>(3)),
        amount: r.get::<Money, _>(4).0,
        origin: r.get(5),
        deadline: r.get::<Option<i64>, _>(6).map(|d| d as u64),
        signature: r.get(7),
        requested_by: r.get(8),
        status: r.get(9),
        executed_block: r.get::<Option<i64>, _>(10).map(|b| b as u64),
        tx_hash: r.get(11),
        created_at: r.get(12),
    }
}

async fn fetch(tx: &mut Tx, id: i64) -> Result<TreasuryTransferRow, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM treasury_transfers WHERE id = $1");
    Ok(from_row(&sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut **tx).await?))
}

/// Transfers newest first, optionally of one asset, with ids below `before` (keyset pages).
pub async fn list(
    pool: &PgPool,
    asset_id: Option<i32>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<TreasuryTransferRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM treasury_transfers WHERE ($1::int4 IS NULL OR asset_id = $1) AND id < $2
         ORDER BY id DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(asset_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(from_row).collect())
}
