//! Admin routes (admin role): freeze/unfreeze a user, the audit log.

use alloy::primitives::Address;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::extract::{Path, Query};
use super::{AdminUser, ApiContext, ApiError, Json};
use crate::auth::siwe::WalletChain;
use crate::ledger::admin::AdminError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminPing {
    pub admin: String,
}

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/v1/admin/ping", get(ping))
        .route("/v1/admin/users/{address}/freeze", post(freeze))
        .route("/v1/admin/users/{address}/unfreeze", post(unfreeze))
        .route("/v1/admin/audit", get(audit))
}

#[utoipa::path(get, path = "/v1/admin/ping", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = AdminPing), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn ping(AdminUser(user): AdminUser) -> Json<AdminPing> {
    Json(AdminPing { admin: user.wallet.to_checksum(None) })
}

/// A path address: 0x hex (any case) or TRON base58.
fn parse_address(text: &str) -> Result<Address, ApiError> {
    WalletChain::Evm
        .parse_address(text)
        .or_else(|| WalletChain::Tron.parse_address(text))
        .ok_or_else(|| ApiError::unprocessable("invalid_address", "not a 0x or TRON address"))
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Db(e) => e.into(),
            AdminError::UnknownAsset(id) => ApiError::unprocessable("unknown_asset", format!("no asset {id}")),
            AdminError::UnknownUser(a) => ApiError::unprocessable(
                "unknown_user",
                format!("{} is not registered in this asset", a.to_checksum(None)),
            ),
            AdminError::NoChange(what) => {
                ApiError::Conflict { code: "no_change", message: format!("nothing to do: {what}") }
            }
            other => ApiError::Internal(eyre::Report::new(other)),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetRequest {
    pub asset_id: i32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FrozenState {
    pub asset_id: i32,
    /// 0x EIP-55.
    pub address: String,
    pub frozen: bool,
}

/// Freezes a user in one asset: new credits are held, no payload is signed for them (audited).
#[utoipa::path(post, path = "/v1/admin/users/{address}/freeze", tag = "admin", security(("bearer" = [])),
    params(("address" = String, Path, description = "0x or TRON base58")), request_body = AssetRequest,
    responses((status = 200, body = FrozenState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn freeze(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(address): Path<String>,
    Json(req): Json<AssetRequest>,
) -> Result<Json<FrozenState>, ApiError> {
    set_frozen(&ctx, admin.wallet, &address, req.asset_id, true).await
}

/// Unfreezes a user in one asset: their held rewards become pending (audited).
#[utoipa::path(post, path = "/v1/admin/users/{address}/unfreeze", tag = "admin", security(("bearer" = [])),
    params(("address" = String, Path, description = "0x or TRON base58")), request_body = AssetRequest,
    responses((status = 200, body = FrozenState), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn unfreeze(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(address): Path<String>,
    Json(req): Json<AssetRequest>,
) -> Result<Json<FrozenState>, ApiError> {
    set_frozen(&ctx, admin.wallet, &address, req.asset_id, false).await
}

async fn set_frozen(
    ctx: &ApiContext,
    admin: Address,
    address: &str,
    asset_id: i32,
    frozen: bool,
) -> Result<Json<FrozenState>, ApiError> {
    let user = parse_address(address)?;
    let actor = admin.to_checksum(None);
    if frozen {
        crate::ledger::admin::freeze(&ctx.db, asset_id, user, &actor).await?;
    } else {
        crate::ledger::admin::unfreeze(&ctx.db, asset_id, user, &actor).await?;
    }
    Ok(Json(FrozenState { asset_id, address: user.to_checksum(None), frozen }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub asset_id: Option<i32>,
    pub target: Option<String>,
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
    /// Ledger position (events applied) when the action took effect.
    pub applied_events: Option<i64>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

type AuditRow = (
    i64,
    String,
    String,
    Option<i32>,
    Option<String>,
    Option<sqlx::types::Json<serde_json::Value>>,
    Option<sqlx::types::Json<serde_json::Value>>,
    Option<i64>,
    String,
);

/// The append-only audit log, newest first (keyset pages).
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = super::users::page_limit(q.limit)?;
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, actor, action, asset_id, target, before, after, applied_events,
                to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
         FROM audit_logs WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(q.cursor.unwrap_or(i64::MAX))
    .bind(limit + 1)
    .fetch_all(&ctx.db)
    .await?;
    let mut items: Vec<AuditEntry> = rows
        .into_iter()
        .map(|(id, actor, action, asset_id, target, before, after, applied_events, created_at)| AuditEntry {
            id,
            actor,
            action,
            asset_id,
            target,
            before: before.map(|j| j.0),
            after: after.map(|j| j.0),
            applied_events,
            created_at,
        })
        .collect();
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| r.id)
    } else {
        None
    };
    Ok(Json(AuditPage { items, next_cursor }))
}
