//! Batches: built from pending rewards within the caps, listed, and shown with their entries.

use ::ledger::money::Money;
use ::ledger::payouts::{self as ledger, BatchStatus};
use ::ledger::plan::Amount;
use alloy::primitives::Address;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_MAX_ENTRIES, MAX_ENTRIES};
use crate::http::error::ErrorBody;
use crate::http::extract::{Path, Query};
use crate::http::page::{Page, page_limit};
use crate::http::types::{AssetAmount, AssetMeta, hex_bytes, parse_amount};
use crate::http::{AdminUser, ApiContext, ApiError, Json};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildRequest {
    pub asset_id: i32,
    /// Users in the batch, 1..=500 (default 100).
    pub max_entries: Option<u32>,
    /// Most the batch may pay in total (base units, decimal string, > 0; default no limit).
    pub max_total: Option<String>,
}

/// One payment of a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchEntry {
    /// Index in the signed payouts array.
    pub position: i32,
    /// 0x EIP-55.
    pub address: String,
    pub amount: AssetAmount,
    /// Once settled: `paid`, or `claimable` when the contract could not push it.
    pub outcome: Option<String>,
}

/// A payout batch and where it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchView {
    pub id: i64,
    pub asset_id: i32,
    pub chain_id: u64,
    /// `building`, `signed`, `submitted`, `executed`, `failed`, `cancelled`.
    pub status: String,
    pub total: AssetAmount,
    pub entry_count: i64,
    /// Contract nonce (decimal string), fixed before signing.
    pub nonce: Option<String>,
    /// Unix seconds after which the contract refuses the batch.
    pub deadline: Option<i64>,
    /// EIP-712 hash of the payouts array, as emitted by `PayoutBatchExecuted` (0x hex).
    pub payouts_hash: Option<String>,
    /// 65 bytes r ‖ s ‖ v (0x hex).
    pub signature: Option<String>,
    /// Last transaction sent for the batch (0x hex).
    pub tx_hash: Option<String>,
    pub executed_block: Option<i64>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Only in single-batch answers (empty in lists).
    pub entries: Vec<BatchEntry>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct BatchQuery {
    pub asset_id: Option<i32>,
    /// One of the batch statuses.
    pub status: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

type BatchRow = (
    i64,
    i32,
    i64,
    String,
    Money,
    Option<Money>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<i64>,
    String,
    String,
    i16,
    i64,
);

const BATCH_SELECT: &str = "SELECT b.id, b.asset_id, a.chain_id, b.status, b.total, b.chain_nonce,
        b.deadline, b.payouts_hash, b.signature, t.tx_hash, b.executed_block,
        to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), a.symbol, a.decimals,
        (SELECT count(*) FROM payout_batch_items i WHERE i.batch_id = b.id)
     FROM payout_batches b JOIN assets a ON a.id = b.asset_id LEFT JOIN transactions t ON t.id = b.transaction_id";

fn batch_view(row: BatchRow) -> BatchView {
    let (
        id,
        asset_id,
        chain_id,
        status,
        total,
        nonce,
        deadline,
        hash,
        signature,
        tx_hash,
        executed,
        created,
        symbol,
        decimals,
        count,
    ) = row;
    BatchView {
        id,
        asset_id,
        chain_id: chain_id as u64,
        status,
        total: AssetAmount::new(total, decimals, &symbol),
        entry_count: count,
        nonce: nonce.map(|n| n.to_string()),
        deadline,
        payouts_hash: hex_bytes(hash),
        signature: hex_bytes(signature),
        tx_hash: hex_bytes(tx_hash),
        executed_block: executed,
        created_at: created,
        entries: Vec::new(),
    }
}

/// One batch with its entries; 404 when it does not exist.
pub(super) async fn load_batch(ctx: &ApiContext, id: i64) -> Result<BatchView, ApiError> {
    let row: Option<BatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{BATCH_SELECT} WHERE b.id = $1")))
        .bind(id)
        .fetch_optional(&ctx.db)
        .await?;
    let mut view = batch_view(row.ok_or(ApiError::NotFound)?);
    let decimals_symbol: (i16, String) = sqlx::query_as("SELECT decimals, symbol FROM assets WHERE id = $1")
        .bind(view.asset_id)
        .fetch_one(&ctx.db)
        .await?;
    let items: Vec<(i32, Vec<u8>, Money, Option<String>)> = sqlx::query_as(
        "SELECT i.position, u.address, i.amount, i.outcome FROM payout_batch_items i
         JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
         WHERE i.batch_id = $1 ORDER BY i.position",
    )
    .bind(id)
    .fetch_all(&ctx.db)
    .await?;
    view.entries = items
        .into_iter()
        .map(|(position, address, amount, outcome)| BatchEntry {
            position,
            address: Address::from_slice(&address).to_checksum(None),
            amount: AssetAmount::new(amount, decimals_symbol.0, &decimals_symbol.1),
            outcome,
        })
        .collect();
    Ok(view)
}

/// Takes pending rewards of an asset into a new batch (whole users, lowest user number first, within the
/// caps). 409 `nothing_payable` when no pending reward fits (or concurrent builds hold them all just now).
#[utoipa::path(post, path = "/v1/admin/payouts/batches", tag = "payouts", security(("bearer" = [])),
    request_body = BuildRequest,
    responses((status = 201, body = BatchView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(asset_id = req.asset_id))]
pub(super) async fn build(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Json(req): Json<BuildRequest>,
) -> Result<(StatusCode, Json<BatchView>), ApiError> {
    let max_entries = req.max_entries.unwrap_or(DEFAULT_MAX_ENTRIES);
    if !(1..=MAX_ENTRIES).contains(&max_entries) {
        return Err(ApiError::unprocessable("invalid_cap", format!("max_entries must be in 1..={MAX_ENTRIES}")));
    }
    let max_total: Amount = match req.max_total.as_deref() {
        None => Amount::MAX,
        Some(text) => {
            let value = parse_amount(text, "max_total").map_err(|_| {
                ApiError::unprocessable("invalid_cap", "max_total must be a decimal string of base units")
            })?;
            match Amount::try_from(value) {
                Ok(v) if v > 0 => v,
                _ => return Err(ApiError::unprocessable("invalid_cap", "max_total must be in 1..=2^128-1")),
            }
        }
    };
    AssetMeta::load(&ctx, req.asset_id).await?;
    let actor = admin.wallet.to_checksum(None);
    let built = ledger::build_batch_audited(&ctx.db, req.asset_id, max_entries as usize, max_total, &actor)
        .await
        .map_err(|e| match e {
            ledger::PayoutError::Db(e) => e.into(),
            ledger::PayoutError::UnknownAsset(id) => ApiError::unprocessable("unknown_asset", format!("no asset {id}")),
            other => ApiError::Internal(eyre::Report::new(other)),
        })?;
    let built = built.ok_or_else(|| ApiError::Conflict {
        code: "nothing_payable",
        message: "no pending reward fits the caps (or concurrent builds hold them; try again)".into(),
    })?;
    Ok((StatusCode::CREATED, Json(load_batch(&ctx, built.id).await?)))
}

/// Batches, newest first (keyset pages), optionally of one asset and status.
#[utoipa::path(get, path = "/v1/admin/payouts/batches", tag = "payouts", security(("bearer" = [])), params(BatchQuery),
    responses((status = 200, body = Page<BatchView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn list(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<BatchQuery>,
) -> Result<Json<Page<BatchView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    if let Some(status) = &q.status
        && BatchStatus::parse(status).is_none()
    {
        let names: Vec<&str> = BatchStatus::ALL.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::unprocessable("invalid_status", format!("status must be one of {names:?}")));
    }
    let rows: Vec<BatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BATCH_SELECT} WHERE ($1::int4 IS NULL OR b.asset_id = $1) AND ($2::text IS NULL OR b.status = $2)
           AND b.id < $3 ORDER BY b.id DESC LIMIT $4"
    )))
    .bind(q.asset_id)
    .bind(&q.status)
    .bind(q.cursor.unwrap_or(i64::MAX))
    .bind(limit + 1)
    .fetch_all(&ctx.db)
    .await?;
    Ok(Json(Page::keyset(rows.into_iter().map(batch_view).collect(), limit, |b| b.id)))
}

/// One batch with its entries (their outcome once settled), nonce, signature and last transaction.
#[utoipa::path(get, path = "/v1/admin/payouts/batches/{id}", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn detail(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    Ok(Json(load_batch(&ctx, id).await?))
}
