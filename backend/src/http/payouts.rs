//! Admin payouts: pending rewards per user, payout batches built from them, signed through the signer (one
//! nonce per batch, fixed before signing), sent on-chain with the operator key and retried with the same
//! signed batch when the last transaction was dropped or reverted. Settlement (batched → settled, claimable)
//! comes from the contract's events through the listener, not from here. A batch that provably can no longer
//! execute (never signed, or expired on-chain with its nonces unused) can be cancelled: its rewards are
//! pending again for a new batch.
//!
//! Every state change writes an `audit_logs` row in the same transaction.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use signer::client::ClientError;
use signer::intent::{Addr, Amount as SignerAmount, PayoutBatchIntent, PayoutEntry};
use utoipa::OpenApi;

use super::error::ErrorBody;
use super::extract::{Path, Query, parse_address};
use super::public::AssetAmount;
use super::{AdminUser, ApiContext, ApiError, Json};
use crate::config::ChainSettings;
use crate::ledger::payouts::{self as ledger, BatchPayload, SignStep, SignStepError};
use crate::payout_submit::{BatchOutcome, PayoutSubmitter, SubmitError};
use crate::plan::Amount;

/// This module's part of the OpenAPI document (merged in `docs`).
#[derive(OpenApi)]
#[openapi(paths(pending, build, list, detail, sign, submit, retry, cancel))]
pub struct Api;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/v1/admin/payouts/pending", get(pending))
        .route("/v1/admin/payouts/batches", get(list).post(build))
        .route("/v1/admin/payouts/batches/{id}", get(detail))
        .route("/v1/admin/payouts/batches/{id}/sign", post(sign))
        .route("/v1/admin/payouts/batches/{id}/submit", post(submit))
        .route("/v1/admin/payouts/batches/{id}/retry", post(retry))
        .route("/v1/admin/payouts/batches/{id}/cancel", post(cancel))
}

/// Entries of a batch when the request names no `max_entries`.
pub const DEFAULT_MAX_ENTRIES: u32 = 100;
/// Most entries one batch may have (gas of one transaction; the signer may allow fewer).
pub const MAX_ENTRIES: u32 = 500;
/// Longest wait for the signer.
const SIGNER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for one chain call.
const CHAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// RPC access to one chain: a provider (with the operator key as its wallet, when one is configured).
#[derive(Clone)]
pub struct ChainAccess {
    pub provider: DynProvider,
    /// Address of the operator key (OPERATOR_ROLE); `None`: read-only, batches cannot be sent.
    pub operator: Option<Address>,
    pub confirmations: u64,
}

impl std::fmt::Debug for ChainAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainAccess")
            .field("operator", &self.operator)
            .field("confirmations", &self.confirmations)
            .finish_non_exhaustive()
    }
}

impl ChainAccess {
    /// `None` when the chain has no `rpc_url`; an error for an unusable URL or key.
    pub fn from_settings(chain: &ChainSettings) -> eyre::Result<Option<Self>> {
        let Some(url) = &chain.rpc_url else { return Ok(None) };
        let url: alloy::transports::http::reqwest::Url =
            url.parse().map_err(|e| eyre::eyre!("chains: rpc_url of chain {}: {e}", chain.chain_id))?;
        let key = match (&chain.operator_keystore, &chain.operator_key) {
            (Some(path), _) => {
                let passphrase = chain.operator_keystore_passphrase.as_ref().ok_or_else(|| {
                    eyre::eyre!(
                        "chains: operator_keystore of chain {} needs operator_keystore_passphrase",
                        chain.chain_id
                    )
                })?;
                Some(PrivateKeySigner::decrypt_keystore(path, passphrase.expose_secret())?)
            }
            (None, Some(_)) if !chain.insecure_operator_key => {
                eyre::bail!(
                    "chains: a raw operator_key (chain {}) is for development only: set insecure_operator_key = true, or use operator_keystore",
                    chain.chain_id
                )
            }
            (None, Some(hex)) => {
                tracing::warn!(chain_id = chain.chain_id, "using a raw operator key: development only");
                Some(hex.expose_secret().parse::<PrivateKeySigner>()?)
            }
            (None, None) => None,
        };
        let operator = key.as_ref().map(|k| k.address());
        let provider = match key {
            Some(key) => ProviderBuilder::new().wallet(EthereumWallet::from(key)).connect_http(url).erased(),
            None => ProviderBuilder::new().connect_http(url).erased(),
        };
        Ok(Some(Self { provider, operator, confirmations: chain.confirmations }))
    }
}

// ───────────────────────────── shared with `treasury` ─────────────────────────────

pub(super) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Symbol, decimals, chain and token of an asset; 422 `unknown_asset`.
pub(super) async fn asset_meta(ctx: &ApiContext, asset_id: i32) -> Result<(String, i16, u64, Address), ApiError> {
    let row: Option<(String, i16, i64, Vec<u8>)> =
        sqlx::query_as("SELECT symbol, decimals, chain_id, token FROM assets WHERE id = $1")
            .bind(asset_id)
            .fetch_optional(&ctx.db)
            .await?;
    let (symbol, decimals, chain_id, token) =
        row.ok_or_else(|| ApiError::unprocessable("unknown_asset", format!("no asset {asset_id}")))?;
    Ok((symbol, decimals, chain_id as u64, Address::from_slice(&token)))
}

pub(super) fn settlement(ctx: &ApiContext, chain_id: u64) -> Result<Address, ApiError> {
    ctx.settlements.get(&chain_id).copied().ok_or_else(|| {
        ApiError::unavailable("chain_not_configured", format!("no Settlement contract configured for chain {chain_id}"))
    })
}

pub(super) fn signer_client(ctx: &ApiContext) -> Result<&signer::client::SignerClient, ApiError> {
    ctx.signer.as_ref().ok_or_else(|| ApiError::unavailable("signer_unavailable", "no signer is configured"))
}

pub(super) fn signer_error(e: ClientError) -> ApiError {
    match e {
        ClientError::Refused { status, body } => {
            tracing::warn!(status, code = %body.code, message = %body.message, "signer refused an intent");
            ApiError::unavailable("signer_refused", format!("the signer refused: {}", body.code))
        }
        other => {
            tracing::error!(error = %other, "signer call failed");
            ApiError::unavailable("signer_unavailable", "the signer could not be reached")
        }
    }
}

/// `call` to the signer, bounded in time: the treasury waits for it under the asset's row lock.
pub(super) async fn signer_call<T>(call: impl Future<Output = Result<T, ClientError>>) -> Result<T, ApiError> {
    match tokio::time::timeout(SIGNER_TIMEOUT, call).await {
        Ok(answer) => answer.map_err(signer_error),
        Err(_) => Err(ApiError::unavailable("signer_unavailable", "the signer did not answer in time")),
    }
}

/// Signature lifetime configured for the chain.
pub(super) fn signature_ttl(ctx: &ApiContext, chain_id: u64) -> u64 {
    ctx.settings.chains.iter().find(|c| c.chain_id == chain_id).map_or(1_800, |c| c.signature_ttl_secs)
}

/// RPC access of a chain; 503 `chain_rpc_not_configured`.
pub(super) fn chain_access(ctx: &ApiContext, chain_id: u64) -> Result<&ChainAccess, ApiError> {
    ctx.chains.get(&chain_id).ok_or_else(|| {
        ApiError::unavailable("chain_rpc_not_configured", format!("no rpc_url configured for chain {chain_id}"))
    })
}

/// A base-unit amount: a decimal string of digits that fits in uint256; 422 `invalid_amount`.
pub(super) fn parse_amount(text: &str, field: &str) -> Result<U256, ApiError> {
    text.parse::<SignerAmount>()
        .map(|a| a.0)
        .map_err(|e| ApiError::unprocessable("invalid_amount", format!("{field}: {e}")))
}

fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Refused(reason) => {
            ApiError::unprocessable("chain_refused", format!("the contract refuses this batch: {reason}"))
        }
        SubmitError::Provider(message) => {
            tracing::warn!(%message, "chain call failed");
            ApiError::unavailable("chain_unavailable", "the chain's RPC could not be reached")
        }
    }
}

async fn on_chain<T>(f: impl Future<Output = Result<T, SubmitError>>) -> Result<T, ApiError> {
    match tokio::time::timeout(CHAIN_TIMEOUT, f).await {
        Ok(r) => r.map_err(submit_error),
        Err(_) => Err(ApiError::unavailable("chain_unavailable", "the chain's RPC did not answer in time")),
    }
}

// ───────────────────────────── pending ─────────────────────────────

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PendingQuery {
    pub asset_id: i32,
    /// Only this user (0x or TRON base58).
    pub user: Option<String>,
    /// Only users whose pending sum is at least this (base units, decimal string).
    pub min_amount: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub after: Option<i32>,
    /// `true`: only users with an open withdraw request for the asset; `false`: only users without one.
    pub requested: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingUser {
    pub user_no: i32,
    /// 0x EIP-55.
    pub address: String,
    pub amount: AssetAmount,
    /// Pending rewards summed.
    pub rewards: i64,
    /// Id of the user's open withdraw request for the asset, if any.
    pub withdraw_request: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingTotals {
    /// Users matching the filters (all pages).
    pub users: i64,
    pub rewards: i64,
    pub amount: AssetAmount,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingPage {
    pub asset_id: i32,
    /// By user number.
    pub items: Vec<PendingUser>,
    pub next_cursor: Option<i32>,
    pub totals: PendingTotals,
}

/// user_no, address, amount, rewards, open withdraw request.
type PendingRow = (i32, Vec<u8>, String, i64, Option<i64>);

const PENDING_PER_USER: &str = "WITH per_user AS (
        SELECT r.beneficiary_no AS user_no, sum(r.amount) AS amount, count(*) AS rewards
        FROM rewards r
        WHERE r.asset_id = $1 AND r.status = 'pending'
          AND ($2::bytea IS NULL OR r.beneficiary_no = (SELECT user_no FROM users WHERE asset_id = $1 AND address = $2))
          AND ($4::bool IS NULL OR $4 = EXISTS (SELECT 1 FROM withdraw_requests w
                WHERE w.asset_id = $1 AND w.user_no = r.beneficiary_no AND w.status = 'open'))
        GROUP BY r.beneficiary_no HAVING sum(r.amount) >= $3::numeric)";

/// Pending (payable) rewards summed per user, keyset pages by user number, with totals over all pages.
#[utoipa::path(get, path = "/v1/admin/payouts/pending", tag = "payouts", security(("bearer" = [])), params(PendingQuery),
    responses((status = 200, body = PendingPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn pending(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<PendingQuery>,
) -> Result<Json<PendingPage>, ApiError> {
    let limit = super::users::page_limit(q.limit)?;
    let user = q.user.as_deref().map(|u| parse_address(u, "user")).transpose()?;
    let min_amount = q.min_amount.as_deref().map(|m| parse_amount(m, "min_amount")).transpose()?.unwrap_or_default();
    let (symbol, decimals, ..) = asset_meta(&ctx, q.asset_id).await?;
    let user_bytes = user.map(|u| u.to_vec());
    let rows: Vec<PendingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PENDING_PER_USER}
         SELECT p.user_no, u.address, p.amount::text, p.rewards,
                (SELECT w.id FROM withdraw_requests w WHERE w.asset_id = $1 AND w.user_no = p.user_no
                   AND w.status = 'open')
         FROM per_user p JOIN users u ON u.asset_id = $1 AND u.user_no = p.user_no
         WHERE p.user_no > $5 ORDER BY p.user_no LIMIT $6"
    )))
    .bind(q.asset_id)
    .bind(&user_bytes)
    .bind(min_amount.to_string())
    .bind(q.requested)
    .bind(q.after.unwrap_or(-1))
    .bind(limit + 1)
    .fetch_all(&ctx.db)
    .await?;
    let (users, rewards, total): (i64, i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PENDING_PER_USER}
         SELECT count(*), COALESCE(sum(rewards), 0)::int8, COALESCE(sum(amount), 0)::text FROM per_user"
    )))
    .bind(q.asset_id)
    .bind(&user_bytes)
    .bind(min_amount.to_string())
    .bind(q.requested)
    .fetch_one(&ctx.db)
    .await?;
    let mut items: Vec<PendingUser> = rows
        .into_iter()
        .map(|(user_no, address, amount, rewards, withdraw_request)| PendingUser {
            user_no,
            address: Address::from_slice(&address).to_checksum(None),
            amount: AssetAmount::new(amount, decimals, &symbol),
            rewards,
            withdraw_request,
        })
        .collect();
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|i| i.user_no)
    } else {
        None
    };
    Ok(Json(PendingPage {
        asset_id: q.asset_id,
        items,
        next_cursor,
        totals: PendingTotals { users, rewards, amount: AssetAmount::new(total, decimals, &symbol) },
    }))
}

// ───────────────────────────── batches ─────────────────────────────

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
pub struct BatchQuery {
    pub asset_id: Option<i32>,
    /// One of the batch statuses.
    pub status: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchPage {
    /// Newest first.
    pub items: Vec<BatchView>,
    pub next_cursor: Option<i64>,
}

type BatchRow = (
    i64,
    i32,
    i64,
    String,
    String,
    Option<String>,
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

const BATCH_SELECT: &str = "SELECT b.id, b.asset_id, a.chain_id, b.status, b.total::text, b.chain_nonce::text,
        b.deadline, b.payouts_hash, b.signature, t.tx_hash, b.executed_block,
        to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), a.symbol, a.decimals,
        (SELECT count(*) FROM payout_batch_items i WHERE i.batch_id = b.id)
     FROM payout_batches b JOIN assets a ON a.id = b.asset_id LEFT JOIN transactions t ON t.id = b.transaction_id";

fn hex(bytes: Option<Vec<u8>>) -> Option<String> {
    bytes.map(alloy::hex::encode_prefixed)
}

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
        nonce,
        deadline,
        payouts_hash: hex(hash),
        signature: hex(signature),
        tx_hash: hex(tx_hash),
        executed_block: executed,
        created_at: created,
        entries: Vec::new(),
    }
}

/// One batch with its entries; 404 when it does not exist.
async fn load_batch(ctx: &ApiContext, id: i64) -> Result<BatchView, ApiError> {
    let row: Option<BatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{BATCH_SELECT} WHERE b.id = $1")))
        .bind(id)
        .fetch_optional(&ctx.db)
        .await?;
    let mut view = batch_view(row.ok_or(ApiError::NotFound)?);
    let decimals_symbol: (i16, String) = sqlx::query_as("SELECT decimals, symbol FROM assets WHERE id = $1")
        .bind(view.asset_id)
        .fetch_one(&ctx.db)
        .await?;
    let items: Vec<(i32, Vec<u8>, String, Option<String>)> = sqlx::query_as(
        "SELECT i.position, u.address, i.amount::text, i.outcome FROM payout_batch_items i
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
pub async fn build(
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
    asset_meta(&ctx, req.asset_id).await?;
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

const STATUSES: [&str; 6] = ["building", "signed", "submitted", "executed", "failed", "cancelled"];

/// Batches, newest first (keyset pages), optionally of one asset and status.
#[utoipa::path(get, path = "/v1/admin/payouts/batches", tag = "payouts", security(("bearer" = [])), params(BatchQuery),
    responses((status = 200, body = BatchPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<BatchQuery>,
) -> Result<Json<BatchPage>, ApiError> {
    let limit = super::users::page_limit(q.limit)?;
    if let Some(status) = &q.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::unprocessable("invalid_status", format!("status must be one of {STATUSES:?}")));
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
    let mut items: Vec<BatchView> = rows.into_iter().map(batch_view).collect();
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|b| b.id)
    } else {
        None
    };
    Ok(Json(BatchPage { items, next_cursor }))
}

/// One batch with its entries (their outcome once settled), nonce, signature and last transaction.
#[utoipa::path(get, path = "/v1/admin/payouts/batches/{id}", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    Ok(Json(load_batch(&ctx, id).await?))
}

async fn batch_chain(ctx: &ApiContext, id: i64) -> Result<(u64, i32), ApiError> {
    let row: Option<(i64, i32)> = sqlx::query_as(
        "SELECT a.chain_id, a.id FROM payout_batches b JOIN assets a ON a.id = b.asset_id WHERE b.id = $1",
    )
    .bind(id)
    .fetch_optional(&ctx.db)
    .await?;
    let (chain_id, asset_id) = row.ok_or(ApiError::NotFound)?;
    Ok((chain_id as u64, asset_id))
}

fn sign_step_error(e: SignStepError) -> ApiError {
    match e {
        SignStepError::Payout(ledger::PayoutError::Db(e)) => e.into(),
        SignStepError::UnknownBatch(_) => ApiError::NotFound,
        SignStepError::NotSignable(id, status) => {
            ApiError::Conflict { code: "batch_not_signable", message: format!("batch {id} is {status}") }
        }
        SignStepError::Expired(id, deadline) => ApiError::Conflict {
            code: "signature_expired",
            message: format!(
                "batch {id} was prepared for signing with deadline {deadline}, now past; it keeps its nonce: \
                 cancel it (once the chain shows the deadline passed) and build a new batch"
            ),
        },
        other => ApiError::Internal(eyre::Report::new(other)),
    }
}

/// Signs a built batch through the signer and records it (nonce, payouts hash, deadline, signature). Signing
/// a signed batch again returns the stored signature: never a second nonce for one batch.
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/sign", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn sign(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    let (chain_id, _) = batch_chain(&ctx, id).await?;
    let contract = settlement(&ctx, chain_id)?;
    let client = signer_client(&ctx)?;
    let ttl = signature_ttl(&ctx, chain_id);
    let payload = match ledger::prepare_signing(&ctx.db, id, unix_now(), ttl).await.map_err(sign_step_error)? {
        SignStep::Signed(..) => return Ok(Json(load_batch(&ctx, id).await?)),
        SignStep::Sign(payload) => payload,
    };
    let intent = PayoutBatchIntent {
        chain_id,
        contract: Addr(contract),
        token: Addr(payload.token),
        payouts: payload
            .entries
            .iter()
            .map(|(recipient, amount)| PayoutEntry { recipient: Addr(*recipient), amount: SignerAmount::from(*amount) })
            .collect(),
        total: Some(SignerAmount::from(payload.total)),
        nonce: Some(SignerAmount(payload.nonce)),
        deadline: Some(payload.deadline),
    };
    let signed = signer_call(client.sign_payout_batch(&intent)).await?;
    check_signed(&signed, &payload, contract)?;
    let actor = admin.wallet.to_checksum(None);
    let stored =
        ledger::store_signature(&ctx.db, &payload, &signed.signature, &signed.payload, &actor).await.map_err(|e| {
            match e {
                ledger::PayoutError::Db(e) => ApiError::from(e),
                other => ApiError::Internal(eyre::Report::new(other)),
            }
        })?;
    if stored.is_none() {
        // A concurrent call recorded its signature first (same nonce, same payload): answer with it.
        tracing::info!(batch = id, "batch signed by a concurrent request");
    }
    let view = load_batch(&ctx, id).await?;
    if view.signature.is_none() {
        return Err(ApiError::Conflict {
            code: "sign_in_progress",
            message: format!("batch {id} is being signed by another request; try again"),
        });
    }
    Ok(Json(view))
}

/// The signer's answer must be for exactly the payload asked for.
fn check_signed(signed: &signer::api::SignResponse, payload: &BatchPayload, contract: Address) -> Result<(), ApiError> {
    let digest = abi::SettlementDomain::new(payload.chain_id, contract).digest(&payload.payout_batch());
    if signed.digest != digest
        || signed.chain_id != payload.chain_id
        || signed.contract.0 != contract
        || signed.nonce.0 != payload.nonce
        || signed.deadline != payload.deadline
    {
        return Err(ApiError::Internal(eyre::eyre!(
            "signer answer does not match batch {} (digest {} vs {digest})",
            payload.id,
            signed.digest
        )));
    }
    Ok(())
}

/// What a send or retry did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SendResult {
    pub batch_id: i64,
    /// `sent` (a transaction is on its way), `pending` (the last one is still in flight: nothing sent),
    /// `executed` (the batch already executed on-chain: nothing sent).
    pub outcome: &'static str,
    /// True when this call sent a transaction.
    pub sent: bool,
    /// The transaction sent, still pending, or that executed the batch (0x hex).
    pub tx_hash: String,
    /// What happened to the previous transaction (retry): `dropped` or `reverted`.
    pub previous: Option<&'static str>,
    /// Block of the execution, when executed.
    pub executed_block: Option<u64>,
}

struct SendContext {
    submitter: PayoutSubmitter<DynProvider>,
}

fn send_context(ctx: &ApiContext, chain_id: u64) -> Result<SendContext, ApiError> {
    let contract = settlement(ctx, chain_id)?;
    let access = chain_access(ctx, chain_id)?;
    let operator = access.operator.ok_or_else(|| {
        ApiError::unavailable("operator_not_configured", format!("no operator key configured for chain {chain_id}"))
    })?;
    Ok(SendContext {
        submitter: PayoutSubmitter::new(access.provider.clone(), operator, contract, access.confirmations),
    })
}

fn signature_of(state: &ledger::SendState) -> Result<Bytes, ApiError> {
    state
        .signature
        .clone()
        .map(Bytes::from)
        .ok_or_else(|| ApiError::Internal(eyre::eyre!("a signed batch has no stored signature")))
}

/// Sends a signed batch with the operator key (status `submitted`, transaction hash stored). A batch that
/// already executed on-chain is reported, not sent again. 503 when the chain has no RPC or operator key.
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/submit", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SendResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn submit(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<SendResult>, ApiError> {
    let (chain_id, asset_id) = batch_chain(&ctx, id).await?;
    let send = send_context(&ctx, chain_id)?;
    let (mut tx, state) = ledger::lock_for_send(&ctx.db, id).await?.ok_or(ApiError::NotFound)?;
    match state.status.as_str() {
        "signed" => {}
        "building" => return Err(conflict("not_signed", format!("batch {id} is not signed yet"))),
        "submitted" => {
            return Err(conflict("already_submitted", format!("batch {id} was sent already; use retry")));
        }
        "executed" => return Err(conflict("already_executed", format!("batch {id} executed already"))),
        other => return Err(conflict("batch_not_sendable", format!("batch {id} is {other}"))),
    }
    let payload = ledger::signed_payload(&mut tx, id).await?;
    let signature = signature_of(&state)?;
    let outcome = on_chain(send.submitter.submit(&payload.payout_batch(), &signature)).await?;
    let actor = admin.wallet.to_checksum(None);
    let result = match outcome {
        BatchOutcome::Pending { tx: hash } => {
            ledger::record_sent(tx, id, asset_id, &state, hash, "payout_batch_submit", &actor).await?;
            sent(id, hash, None)
        }
        BatchOutcome::Executed { tx: hash, block, .. } => {
            ledger::record_sent(tx, id, asset_id, &state, hash, "payout_batch_submit", &actor).await?;
            executed(id, hash, block, None)
        }
        other => return Err(ApiError::Internal(eyre::eyre!("submit answered {other:?}"))),
    };
    Ok(Json(result))
}

fn conflict(code: &'static str, message: String) -> ApiError {
    ApiError::Conflict { code, message }
}

fn sent(batch_id: i64, tx: B256, previous: Option<&'static str>) -> SendResult {
    SendResult { batch_id, outcome: "sent", sent: true, tx_hash: tx.to_string(), previous, executed_block: None }
}

fn executed(batch_id: i64, tx: B256, block: u64, previous: Option<&'static str>) -> SendResult {
    SendResult {
        batch_id,
        outcome: "executed",
        sent: false,
        tx_hash: tx.to_string(),
        previous,
        executed_block: Some(block),
    }
}

/// Checks the last transaction of a submitted batch on-chain: still pending → nothing sent; executed →
/// says so, nothing sent; dropped or reverted → sends the same signed batch again (same nonce).
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/retry", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SendResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn retry(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<SendResult>, ApiError> {
    let (chain_id, asset_id) = batch_chain(&ctx, id).await?;
    let send = send_context(&ctx, chain_id)?;
    let (mut tx, state) = ledger::lock_for_send(&ctx.db, id).await?.ok_or(ApiError::NotFound)?;
    let last = match (state.status.as_str(), state.tx_hash) {
        ("submitted" | "executed", Some(hash)) => hash,
        ("building", _) => return Err(conflict("not_signed", format!("batch {id} is not signed yet"))),
        ("signed", _) => return Err(conflict("not_submitted", format!("batch {id} was never sent; use submit"))),
        (other, _) => return Err(conflict("batch_not_sendable", format!("batch {id} is {other}"))),
    };
    let payload = ledger::signed_payload(&mut tx, id).await?;
    let batch = payload.payout_batch();
    let previous = match on_chain(send.submitter.status(&batch, last)).await? {
        BatchOutcome::Pending { tx: hash } => {
            return Ok(Json(SendResult { outcome: "pending", sent: false, ..sent(id, hash, None) }));
        }
        BatchOutcome::Executed { tx: hash, block, .. } => return Ok(Json(executed(id, hash, block, None))),
        BatchOutcome::Dropped { .. } => "dropped",
        BatchOutcome::Reverted { .. } => "reverted",
    };
    let signature = signature_of(&state)?;
    let actor = admin.wallet.to_checksum(None);
    match on_chain(send.submitter.submit(&batch, &signature)).await? {
        BatchOutcome::Pending { tx: hash } => {
            ledger::record_sent(tx, id, asset_id, &state, hash, "payout_batch_retry", &actor).await?;
            Ok(Json(sent(id, hash, Some(previous))))
        }
        BatchOutcome::Executed { tx: hash, block, .. } => {
            ledger::record_sent(tx, id, asset_id, &state, hash, "payout_batch_retry", &actor).await?;
            Ok(Json(executed(id, hash, block, Some(previous))))
        }
        other => Err(ApiError::Internal(eyre::eyre!("submit answered {other:?}"))),
    }
}

// ───────────────────────────── cancel ─────────────────────────────

/// Why the chain says a signed batch can no longer execute.
#[derive(Debug, Serialize)]
struct ExpiryProof {
    /// A block `confirmations` deep whose timestamp is past the deadline: no later block can execute it.
    block: u64,
    block_timestamp: u64,
    head: u64,
    deadline: u64,
    /// Nonces of every signing attempt of the batch, all unused on-chain.
    unused_nonces: Vec<String>,
}

/// Proves on-chain that no signature of the batch can execute any more; 409 `batch_may_still_execute` or
/// `batch_nonce_used` otherwise.
async fn prove_expired(
    ctx: &ApiContext,
    chain_id: u64,
    id: i64,
    state: &ledger::CancelState,
) -> Result<ExpiryProof, ApiError> {
    let contract = settlement(ctx, chain_id)?;
    let access = chain_access(ctx, chain_id)?;
    let deadline =
        state.deadline.ok_or_else(|| ApiError::Internal(eyre::eyre!("batch {id} has a nonce but no deadline")))?;
    let provider = &access.provider;
    let rpc = |e: alloy::transports::TransportError| SubmitError::Provider(e.to_string());
    let (head, confirmed) = on_chain(async {
        let head = provider.get_block_number().await.map_err(rpc)?;
        let Some(number) = head.checked_sub(access.confirmations) else { return Ok((head, None)) };
        let block = provider.get_block_by_number(number.into()).await.map_err(rpc)?;
        Ok((head, block.map(|b| (number, b.header.timestamp))))
    })
    .await?;
    let Some((block, block_timestamp)) = confirmed.filter(|(_, t)| *t > deadline) else {
        return Err(conflict(
            "batch_may_still_execute",
            format!(
                "batch {id} can execute until {deadline} (unix seconds): cancel it once a block {} deep is later",
                access.confirmations
            ),
        ));
    };
    let nonces = state.attempt_nonces(id);
    let settlement = abi::Settlement::new(contract, provider);
    for nonce in &nonces {
        let used = on_chain(async {
            settlement.isNonceUsed(*nonce).call().await.map_err(|e| SubmitError::Provider(e.to_string()))
        })
        .await?;
        if used {
            return Err(conflict(
                "batch_nonce_used",
                format!(
                    "nonce {nonce} of batch {id} is used on-chain: it may have executed; let the listener settle it"
                ),
            ));
        }
    }
    Ok(ExpiryProof {
        block,
        block_timestamp,
        head,
        deadline,
        unused_nonces: nonces.iter().map(U256::to_string).collect(),
    })
}

/// Cancels a batch that can no longer execute and gives its rewards back to pending (a new batch takes
/// them, with a new nonce). Allowed for a `building` batch never sent to the signer, and for any batch with a
/// nonce (`building` after a sign attempt, `signed`, `submitted`) only when the chain proves it cannot
/// execute: its deadline is below the timestamp of a block `confirmations` deep and none of its nonces is
/// used. 409 `batch_may_still_execute` before that, `batch_nonce_used` when a nonce is spent,
/// `already_executed` / `already_cancelled`, `batch_changed` when it changed during the checks.
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/cancel", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn cancel(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    let (chain_id, _) = batch_chain(&ctx, id).await?;
    let state = ledger::cancel_state(&ctx.db, id).await?.ok_or(ApiError::NotFound)?;
    let proof = match (state.status.as_str(), state.nonce) {
        ("executed", _) => return Err(conflict("already_executed", format!("batch {id} executed"))),
        ("cancelled", _) => return Err(conflict("already_cancelled", format!("batch {id} is cancelled already"))),
        // Never sent to the signer: no signature can exist.
        ("building", None) => serde_json::json!({ "reason": "never_signed" }),
        // A sign call may have reached the signer (the nonce is fixed before): treat it as signed.
        (_, Some(_)) => {
            let proof = prove_expired(&ctx, chain_id, id, &state).await?;
            serde_json::json!({ "reason": "expired", "chain": proof })
        }
        (other, None) => return Err(conflict("batch_not_cancellable", format!("batch {id} is {other}"))),
    };
    let actor = admin.wallet.to_checksum(None);
    let cancelled = ledger::cancel_batch(&ctx.db, id, &state, proof, &actor).await.map_err(|e| match e {
        ledger::PayoutError::Db(e) => ApiError::from(e),
        other => ApiError::Internal(eyre::Report::new(other)),
    })?;
    if cancelled.is_none() {
        return Err(conflict("batch_changed", format!("batch {id} changed during the checks; look at it again")));
    }
    Ok(Json(load_batch(&ctx, id).await?))
}
