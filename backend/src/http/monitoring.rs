//! Monitoring (admin role): the reconciler's results and firing alerts, each chain's listener position and lag,
//! and operators' requests for work done by the services that own it — a listener replaying a block range,
//! the reconciler running now (`ops_requests`; the services take them with `FOR UPDATE SKIP LOCKED`).
//! Every request made here is audited.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ErrorBody;
use super::extract::{Path, Query};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AdminUser, Json, Staff, need};
use ledger::{ListenerStatus, listener_statuses};
use ledger::{monitoring, ops};

/// The widest block range one replay request may ask for (each block's header is re-read).
pub const MAX_REPLAY_BLOCKS: u64 = 10_000;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(reconciliation))
        .routes(routes!(listeners))
        .routes(routes!(request_replay))
        .routes(routes!(request_reconcile))
        .routes(routes!(ops_request))
}

/// Which reconciliation run to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReconciliationQuery {
    /// A run's id; the latest run when absent.
    pub run_id: Option<i64>,
}

/// One reconciliation run: per-asset figures and the alerts firing now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    /// The run.
    pub run: ReconcilerRun,
    /// Each asset's figures in the run, by chain and token.
    pub results: Vec<AssetResult>,
    /// Alerts firing now (after the latest run), whichever run was asked for.
    pub firing: Vec<FiringAlert>,
}

/// A reconciliation run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReconcilerRun {
    /// The run's id (`run_id`).
    pub id: i64,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC; null while the run is in progress.
    pub finished_at: Option<String>,
    /// Every alert the run found.
    #[schema(value_type = Vec<Object>)]
    pub alerts: Value,
    /// Chains the run could not read.
    #[schema(value_type = Vec<String>)]
    pub errors: Value,
}

/// Custody and solvency of one asset at the listener's confirmed block. Amounts are base-unit integers as
/// decimal strings; `expected_balance`, `variance` and `solvency_margin` may be negative.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetResult {
    /// The asset's chain.
    pub chain_id: i64,
    /// 0x hex; the zero address is the native coin.
    pub token: String,
    /// The block both the ledger and the chain were read at.
    pub block_number: i64,
    /// Custody on-chain: the settlement contract's balance of the token at that block.
    pub onchain_balance: String,
    /// Σ registrations and retopups paid into custody, quarantined ones too.
    pub inflows: String,
    /// Σ executed payout batches' totals, less what they left claimable in the contract.
    pub payouts_executed: String,
    /// Σ claims paid out of custody.
    pub claims: String,
    /// Σ treasury transfers out of custody.
    pub treasury_transfers: String,
    /// Σ members' leaves paid out of custody while a change of power was pending (contracts/EXIT.md §12).
    pub leaves: String,
    /// What is owed: reserved, held, pending and batched rewards, and what users can claim from the contract.
    pub liabilities: String,
    /// What custody should hold: inflows − payouts_executed − claims − treasury_transfers − leaves.
    pub expected_balance: String,
    /// On-chain − expected: zero when chain and ledger agree.
    pub variance: String,
    /// On-chain − liabilities: negative when custody is short of what is owed.
    pub solvency_margin: String,
    /// The alerts this run found for the asset.
    #[schema(value_type = Vec<Object>)]
    pub alerts: Value,
}

/// An alert firing now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FiringAlert {
    /// The alert's stable key: its check, then its chain and asset where it has them (e.g. `custody:56:0x…`).
    pub dedup_key: String,
    /// The alert as last fired: its check, severity, summary and figures.
    #[schema(value_type = Object)]
    pub alert: Value,
    /// RFC 3339, UTC.
    pub since: String,
}

/// The latest reconciliation run (or `run_id`'s): every asset's figures and variance, and the alerts firing.
#[utoipa::path(get, path = "/v1/admin/monitoring/reconciliation", tag = "monitoring", security(("bearer" = [])),
    params(ReconciliationQuery),
    responses((status = 200, body = Reconciliation), (status = 404, body = ErrorBody)))]
pub async fn reconciliation(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<ReconciliationQuery>,
) -> Result<Json<Reconciliation>, ApiError> {
    let (run, figures) = monitoring::run(&ctx.db, q.run_id).await?.ok_or(ApiError::NotFound)?;
    let results = figures
        .into_iter()
        .map(|r| AssetResult {
            chain_id: r.chain_id,
            token: format!("0x{}", alloy::hex::encode(&r.token)),
            block_number: r.block_number,
            onchain_balance: r.onchain_balance,
            inflows: r.inflows,
            payouts_executed: r.payouts_executed,
            claims: r.claims,
            treasury_transfers: r.treasury_transfers,
            leaves: r.leaves,
            liabilities: r.liabilities,
            expected_balance: r.expected_balance,
            variance: r.variance,
            solvency_margin: r.solvency_margin,
            alerts: r.alerts,
        })
        .collect();
    let firing = monitoring::firing(&ctx.db)
        .await?
        .into_iter()
        .map(|f| FiringAlert { dedup_key: f.dedup_key, alert: f.alert, since: f.since })
        .collect();
    let run = ReconcilerRun {
        id: run.id,
        started_at: run.started_at,
        finished_at: run.finished_at,
        alerts: run.alerts,
        errors: run.errors,
    };
    Ok(Json(Reconciliation { run, results, firing }))
}

/// Every chain's listener.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListenersPage {
    /// One per chain the ledger has assets on or a listener has written, by chain id.
    pub items: Vec<ListenerView>,
}

/// One chain's listener as the ledger has it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListenerView {
    /// The chain.
    pub chain_id: u64,
    /// The last confirmed block applied in full.
    pub confirmed_block: Option<u64>,
    /// The chain head the listener last saw.
    pub chain_head: Option<u64>,
    /// The confirmation depth the listener applies blocks at.
    pub confirmations: Option<u64>,
    /// Confirmed blocks (head − confirmations) not yet applied; 0 when caught up. The same figure as the
    /// listener's `listener_lag_blocks` metric and the reconciler's `listener_lag` alert.
    pub lag_blocks: Option<u64>,
    /// Seconds since the listener last saw the head (a stalled listener or provider shows here).
    pub head_age_seconds: Option<f64>,
    /// Set when the listener stopped itself; it stays stopped until a person clears it.
    pub halted_reason: Option<String>,
}

impl From<ListenerStatus> for ListenerView {
    fn from(s: ListenerStatus) -> Self {
        Self {
            chain_id: s.chain_id,
            confirmed_block: s.confirmed_block,
            chain_head: s.chain_head,
            confirmations: s.confirmations,
            lag_blocks: s.lag_blocks,
            head_age_seconds: s.head_age_seconds,
            halted_reason: s.halted_reason,
        }
    }
}

/// Each chain's listener: confirmed cursor, the head it last saw, lag in blocks and seconds, halt reason.
#[utoipa::path(get, path = "/v1/admin/monitoring/listeners", tag = "monitoring", security(("bearer" = [])),
    responses((status = 200, body = ListenersPage)))]
pub async fn listeners(State(ctx): State<ApiContext>, _admin: AdminUser) -> Result<Json<ListenersPage>, ApiError> {
    Ok(Json(ListenersPage { items: listener_statuses(&ctx.db).await?.into_iter().map(ListenerView::from).collect() }))
}

/// Body of a replay request: a chain and the block range its listener is to re-read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// The chain: one the API has a settlement contract on, or the ledger has an asset on.
    pub chain_id: u64,
    /// First block to re-read; not above `to_block`.
    pub from_block: u64,
    /// Inclusive; at most `MAX_REPLAY_BLOCKS` (10 000) blocks from `from_block`. The listener caps it at its
    /// confirmed block.
    pub to_block: u64,
}

/// An operator's request, as the owning service reports on it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpsRequest {
    /// The request's id (the `{id}` of `GET /v1/admin/monitoring/requests/{id}`).
    pub id: i64,
    /// `replay` or `reconcile`.
    pub kind: String,
    /// A replay's chain; null for a reconcile.
    pub chain_id: Option<i64>,
    /// A replay's first block; null for a reconcile.
    pub from_block: Option<i64>,
    /// A replay's last block (inclusive); null for a reconcile.
    pub to_block: Option<i64>,
    /// Who asked: the admin's wallet, 0x EIP-55.
    pub requested_by: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// A replay's report (events found, already applied, missing with their keys) or a reconcile's run id.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// Why it failed (status `failed`); null otherwise.
    pub error: Option<String>,
    /// RFC 3339, UTC.
    pub requested_at: String,
    /// When a service took it (RFC 3339, UTC); null while queued.
    pub started_at: Option<String>,
    /// When it was done or failed (RFC 3339, UTC); null before.
    pub finished_at: Option<String>,
}

impl From<ops::OpsRequest> for OpsRequest {
    fn from(r: ops::OpsRequest) -> Self {
        Self {
            id: r.id,
            kind: r.kind.as_str().to_owned(),
            chain_id: r.chain_id,
            from_block: r.from_block,
            to_block: r.to_block,
            requested_by: r.requested_by,
            status: r.status.as_str().to_owned(),
            result: r.result,
            error: r.error,
            requested_at: r.requested_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// Queues the request with its audit row (one ledger transaction): 202 with the request as stored.
async fn queue_request(
    ctx: &ApiContext,
    admin: &Staff<need::Acting>,
    ask: ops::Ask,
) -> Result<(StatusCode, Json<OpsRequest>), ApiError> {
    let request = ops::enqueue(&ctx.db, ask, &admin.0.wallet.to_checksum(None)).await?;
    Ok((StatusCode::ACCEPTED, Json(request.into())))
}

/// Asks the chain's listener to re-read a block range and report what the ledger has of it (audited).
#[utoipa::path(post, path = "/v1/admin/monitoring/replay", tag = "monitoring", security(("bearer" = [])),
    request_body = ReplayRequest,
    responses((status = 202, body = OpsRequest)))]
pub async fn request_replay(
    State(ctx): State<ApiContext>,
    admin: Staff<need::Acting>,
    Json(req): Json<ReplayRequest>,
) -> Result<(StatusCode, Json<OpsRequest>), ApiError> {
    if req.from_block > req.to_block {
        return Err(ApiError::unprocessable("invalid_range", "from_block must not be above to_block"));
    }
    if req.to_block > i64::MAX as u64 {
        return Err(ApiError::unprocessable("invalid_range", "to_block is beyond any chain"));
    }
    if req.to_block - req.from_block >= MAX_REPLAY_BLOCKS {
        return Err(ApiError::unprocessable(
            "range_too_large",
            format!("a replay covers at most {MAX_REPLAY_BLOCKS} blocks"),
        ));
    }
    // A chain is known when the API has its settlement contract or the ledger has an asset on it.
    let chain_id = i64::try_from(req.chain_id).ok();
    let known = match chain_id {
        Some(_) if ctx.chains.get(req.chain_id).is_some() => true,
        Some(id) => ops::chain_has_assets(&ctx.db, id).await?,
        None => false,
    };
    let Some(chain_id) = chain_id.filter(|_| known) else {
        return Err(ApiError::unprocessable(
            "unknown_chain",
            format!("no ledger or settlement on chain {}", req.chain_id),
        ));
    };
    let ask = ops::Ask::Replay { chain_id, from: req.from_block as i64, to: req.to_block as i64 };
    queue_request(&ctx, &admin, ask).await
}

/// Body of a reconcile request: nothing to say yet, but a JSON object keeps the door open.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconcileRequest {}

/// Asks the running reconciler to reconcile now (audited); the request's `result` names the run.
#[utoipa::path(post, path = "/v1/admin/monitoring/reconcile", tag = "monitoring", security(("bearer" = [])),
    request_body = ReconcileRequest,
    responses((status = 202, body = OpsRequest)))]
pub async fn request_reconcile(
    State(ctx): State<ApiContext>,
    admin: Staff<need::Acting>,
    Json(_req): Json<ReconcileRequest>,
) -> Result<(StatusCode, Json<OpsRequest>), ApiError> {
    queue_request(&ctx, &admin, ops::Ask::Reconcile).await
}

/// A replay or reconcile request: its status and, once done, what it found.
#[utoipa::path(get, path = "/v1/admin/monitoring/requests/{id}", tag = "monitoring", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the request's id, as the POST answered")),
    responses((status = 200, body = OpsRequest), (status = 404, body = ErrorBody)))]
pub async fn ops_request(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<OpsRequest>, ApiError> {
    Ok(Json(ops::request(&ctx.db, id).await?.ok_or(ApiError::NotFound)?.into()))
}
