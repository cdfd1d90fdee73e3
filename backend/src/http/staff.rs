//! `/v1/admin/staff`: who holds which staff role, and the changes of roles (`backend/STAFF.md` §2). An admin proposes
//! a grant or a revocation; an approver other than the proposer approves or rejects it; the proposer may withdraw it.
//! The rules (the last admin, a team of one, who may decide) are the ledger's (`ledger::staff`), checked in the
//! change's own transaction; this module maps them to answers.

use axum::extract::State;
use axum::http::StatusCode;
use ledger::staff::{self, ChangeAction, Decision, RoleChange, StaffError, StaffRole};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::bounded;
use crate::http::context::ApiContext;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{AdminUser, Json, Path, Query, Staff, need, parse_address};

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(list_staff))
        .routes(routes!(list_changes, propose_change))
        .routes(routes!(approve_change))
        .routes(routes!(reject_change))
        .routes(routes!(withdraw_change))
}

/// One staff wallet and its roles.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffMember {
    /// The wallet, 0x EIP-55.
    pub wallet: String,
    /// Its roles, each with the change that granted it.
    pub roles: Vec<HeldRole>,
}

/// A role a wallet holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HeldRole {
    /// `viewer`, `support`, `finance`, `approver` or `admin`.
    pub role: String,
    /// The change that granted it.
    pub change_id: i64,
    /// When, RFC 3339 UTC.
    pub granted_at: String,
}

/// Every staff wallet, and the changes waiting for an approver.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffList {
    /// Staff wallets, by address.
    pub members: Vec<StaffMember>,
    /// Changes proposed and not yet decided, newest first.
    pub open_changes: Vec<RoleChangeView>,
}

/// A proposed or decided change of one role of one wallet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleChangeView {
    /// The change's id.
    pub id: i64,
    /// `grant` or `revoke`.
    pub action: String,
    /// The wallet whose role changes, 0x EIP-55.
    pub wallet: String,
    /// The role.
    pub role: String,
    /// Why, in the proposer's words.
    pub reason: String,
    /// Who proposed it, 0x EIP-55; null for the configuration's seed.
    pub proposer: Option<String>,
    /// When, RFC 3339 UTC.
    pub proposed_at: String,
    /// `proposed`, `applied`, `rejected` or `withdrawn`.
    pub status: String,
    /// Who decided it: the approver, the rejecting approver, or the proposer (withdrawn, or a team of one).
    pub decided_by: Option<String>,
    /// When it was decided, RFC 3339 UTC.
    pub decided_at: Option<String>,
    /// A rejection's reason, or why it applied without a second person.
    pub decision_reason: Option<String>,
}

impl From<RoleChange> for RoleChangeView {
    fn from(c: RoleChange) -> Self {
        Self {
            id: c.id,
            action: c.action.as_str().to_owned(),
            wallet: c.wallet.to_checksum(None),
            role: c.role.as_str().to_owned(),
            reason: c.reason,
            proposer: c.proposer.map(|a| a.to_checksum(None)),
            proposed_at: c.proposed_at,
            status: c.status,
            decided_by: c.decided_by.map(|a| a.to_checksum(None)),
            decided_at: c.decided_at,
            decision_reason: c.decision_reason,
        }
    }
}

impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        let message = e.to_string();
        match e {
            StaffError::Db(e) => e.into(),
            StaffError::Unknown(_) => ApiError::Missing { code: "unknown_change", message },
            StaffError::NotOpen(..) => ApiError::Conflict { code: "change_decided", message },
            StaffError::NoChange(_) => ApiError::Conflict { code: "no_change", message },
            StaffError::AlreadyProposed { .. } => ApiError::Conflict { code: "change_proposed", message },
            StaffError::LastAdmin(_) => ApiError::Conflict { code: "last_admin", message },
            StaffError::OwnProposal(_) => ApiError::Forbidden { code: "own_proposal", message },
            StaffError::NotPermitted(_) => ApiError::Forbidden { code: "forbidden", message },
        }
    }
}

/// Every staff wallet with its roles, and the role changes waiting for an approver.
#[utoipa::path(get, path = "/v1/admin/staff", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = StaffList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_staff(State(ctx): State<ApiContext>, _staff: AdminUser) -> Result<Json<StaffList>, ApiError> {
    let mut members: Vec<StaffMember> = Vec::new();
    for g in staff::granted(&ctx.db).await? {
        let held = HeldRole { role: g.role.as_str().to_owned(), change_id: g.change_id, granted_at: g.granted_at };
        let wallet = g.wallet.to_checksum(None);
        match members.last_mut() {
            Some(last) if last.wallet == wallet => last.roles.push(held),
            _ => members.push(StaffMember { wallet, roles: vec![held] }),
        }
    }
    let open = staff::changes(&ctx.db, true, None, MAX_PAGE).await?;
    Ok(Json(StaffList { members, open_changes: open.into_iter().map(Into::into).collect() }))
}

const MAX_PAGE: i64 = 100;

/// A page of role changes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// Only the changes still proposed (default: every change).
    #[serde(default)]
    pub open: bool,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// Role changes, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangesPage {
    /// The changes.
    pub items: Vec<RoleChangeView>,
    /// The cursor of the next page; null on the last.
    pub next_cursor: Option<i64>,
}

/// Role changes, newest first (all of them, or only those waiting for an approver).
#[utoipa::path(get, path = "/v1/admin/staff/changes", tag = "staff", security(("bearer" = [])), params(ChangesQuery),
    responses((status = 200, body = ChangesPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_changes(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Query(q): Query<ChangesQuery>,
) -> Result<Json<ChangesPage>, ApiError> {
    let limit = i64::from(q.limit.unwrap_or(20));
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", format!("limit must be 1..={MAX_PAGE}")));
    }
    let mut items = staff::changes(&ctx.db, q.open, q.cursor, limit + 1).await?;
    let next_cursor = (items.len() as i64 > limit).then(|| {
        items.truncate(limit as usize);
        items.last().map_or(0, |c| c.id)
    });
    Ok(Json(ChangesPage { items: items.into_iter().map(Into::into).collect(), next_cursor }))
}

/// A proposed change of one role of one wallet.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    /// `grant` or `revoke`.
    pub action: ChangeActionName,
    /// The wallet, 0x or TRON base58.
    #[serde(deserialize_with = "bounded::address")]
    pub wallet: String,
    /// `viewer`, `support`, `finance`, `approver` or `admin`.
    pub role: RoleName,
    /// Why (1 to 500 characters), shown to the approver and kept in the audit log.
    #[serde(deserialize_with = "bounded::reason")]
    pub reason: String,
}

/// `grant` or `revoke`.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeActionName {
    /// The wallet gets the role.
    Grant,
    /// The wallet loses the role.
    Revoke,
}

/// A staff role's name.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Reads every console page.
    Viewer,
    /// Member look-up, freeze and unfreeze.
    Support,
    /// Proposes payout batches, treasury transfers and refunds.
    Finance,
    /// Approves or rejects what another proposed.
    Approver,
    /// Plan versions, assets, placements, staff roles.
    Admin,
    /// The sales plan's catalogue: products, prices, pv.
    Catalogue,
}

impl From<RoleName> for StaffRole {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Viewer => StaffRole::Viewer,
            RoleName::Support => StaffRole::Support,
            RoleName::Finance => StaffRole::Finance,
            RoleName::Approver => StaffRole::Approver,
            RoleName::Admin => StaffRole::Admin,
            RoleName::Catalogue => StaffRole::Catalogue,
        }
    }
}

fn reason_of(text: &str) -> Result<&str, ApiError> {
    let reason = text.trim();
    if reason.is_empty() {
        return Err(ApiError::unprocessable("reason_required", "say why: `reason` must not be empty"));
    }
    Ok(reason)
}

/// Proposes granting or revoking a role (admins). It waits for an approver other than the proposer — or applies at
/// once when no other wallet holds `approver` (a team of one; its `decision_reason` says so). Revoking the last
/// admin's `admin` is refused (409 `last_admin`).
#[utoipa::path(post, path = "/v1/admin/staff/changes", tag = "staff", security(("bearer" = [])),
    request_body = ChangeRequest,
    responses((status = 201, body = RoleChangeView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn propose_change(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Json(req): Json<ChangeRequest>,
) -> Result<(StatusCode, Json<RoleChangeView>), ApiError> {
    let wallet = parse_address(req.wallet.trim(), "wallet")?;
    let reason = reason_of(&req.reason)?;
    let action = match req.action {
        ChangeActionName::Grant => ChangeAction::Grant,
        ChangeActionName::Revoke => ChangeAction::Revoke,
    };
    let change = staff::propose(&ctx.db, admin.wallet, action, wallet, req.role.into(), reason).await?;
    tracing::info!(change = change.id, status = %change.status, "staff role change proposed");
    Ok((StatusCode::CREATED, Json(change.into())))
}

/// Body of an approval: nothing to say.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {}

/// Approves a proposed role change (approvers other than its proposer: 403 `own_proposal`); it applies at once.
#[utoipa::path(post, path = "/v1/admin/staff/changes/{id}/approve", tag = "staff", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ApproveRequest,
    responses((status = 200, body = RoleChangeView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_change(
    State(ctx): State<ApiContext>,
    Staff(approver, _): Staff<need::Approver>,
    Path(id): Path<i64>,
    Json(_req): Json<ApproveRequest>,
) -> Result<Json<RoleChangeView>, ApiError> {
    Ok(Json(staff::decide(&ctx.db, id, approver.wallet, Decision::Apply(None)).await?.into()))
}

/// Why a change is rejected.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Why (1 to 500 characters), shown to the proposer and kept in the audit log.
    #[serde(deserialize_with = "bounded::reason")]
    pub reason: String,
}

/// Rejects a proposed role change with a reason (approvers other than its proposer).
#[utoipa::path(post, path = "/v1/admin/staff/changes/{id}/reject", tag = "staff", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RejectRequest,
    responses((status = 200, body = RoleChangeView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reject_change(
    State(ctx): State<ApiContext>,
    Staff(approver, _): Staff<need::Approver>,
    Path(id): Path<i64>,
    Json(req): Json<RejectRequest>,
) -> Result<Json<RoleChangeView>, ApiError> {
    let reason = reason_of(&req.reason)?;
    Ok(Json(staff::decide(&ctx.db, id, approver.wallet, Decision::Reject(reason)).await?.into()))
}

/// Withdraws a proposed role change (its proposer only).
#[utoipa::path(post, path = "/v1/admin/staff/changes/{id}/withdraw", tag = "staff", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ApproveRequest,
    responses((status = 200, body = RoleChangeView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn withdraw_change(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Path(id): Path<i64>,
    Json(_req): Json<ApproveRequest>,
) -> Result<Json<RoleChangeView>, ApiError> {
    Ok(Json(staff::decide(&ctx.db, id, admin.wallet, Decision::Withdraw).await?.into()))
}
