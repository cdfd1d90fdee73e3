//! Admin routes (admin role): freeze/unfreeze a user, the audit log.

use alloy::primitives::Address;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::bounded;
use super::error::ErrorBody;
use super::extract::{Path, Query, parse_address};
use super::page::{Page, page_limit};
use super::profile::{Profile, profile_of};
use super::types::AssetMeta;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AdminUser, Json, Staff, need};
use ledger::admin::AdminError;
use ledger::console::AckRefusal;
use ledger::plan::PlanKind;

/// The admin ping's answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminPing {
    /// The caller's wallet, 0x EIP-55.
    pub admin: String,
    /// The staff roles it holds now (`viewer`, `support`, `finance`, `approver`, `admin`): what the console shows.
    pub roles: Vec<String>,
}

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(ping))
        .routes(routes!(member))
        .routes(routes!(freeze))
        .routes(routes!(unfreeze))
        .routes(routes!(audit))
        .routes(routes!(audit_actions))
        .routes(routes!(plan_versions, new_plan_version))
        .routes(routes!(create_asset))
        .routes(routes!(logs))
        .routes(routes!(ack_alert))
        .routes(routes!(withdrawals))
}

/// Answers with the caller's wallet and staff roles when it holds any (403 for other users).
#[utoipa::path(get, path = "/v1/admin/ping", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = AdminPing)))]
pub async fn ping(Staff(user, _): Staff<need::Viewer>) -> Json<AdminPing> {
    Json(AdminPing { admin: user.wallet.to_checksum(None), roles: user.roles.names() })
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        crate::refusal::Refusal::from(e).into()
    }
}

/// Body of a freeze or unfreeze: the asset it applies to, and why (in the audit log).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetRequest {
    /// The asset the user is frozen or unfrozen in.
    pub asset_id: i32,
    /// Why, in the staff member's words (1 to 500 characters): recorded with the change in the audit log.
    #[serde(deserialize_with = "crate::http::bounded::reason")]
    pub reason: String,
}

/// A user's frozen state in one asset, after the change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FrozenState {
    /// The asset.
    pub asset_id: i32,
    /// In the asset chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub address: String,
    /// Whether the user is frozen now.
    pub frozen: bool,
}

/// A member looked up by staff: the wallet's standing in every asset it is registered in, as the member's own
/// dashboard reads it (`GET /v1/users/me`); `assets` is empty for a wallet registered nowhere.
#[utoipa::path(get, path = "/v1/admin/users/{address}", tag = "admin", security(("bearer" = [])),
    params(("address" = String, Path, description = "0x or TRON base58")),
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn member(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Path(address): Path<String>,
) -> Result<Json<Profile>, ApiError> {
    let wallet = parse_address(&address, "address")?;
    Ok(Json(profile_of(&ctx.db, wallet).await?))
}

/// Freezes a user in one asset: new credits are held, no payload is signed for them (audited).
#[utoipa::path(post, path = "/v1/admin/users/{address}/freeze", tag = "admin", security(("bearer" = [])),
    params(("address" = String, Path, description = "0x or TRON base58")), request_body = AssetRequest,
    responses((status = 200, body = FrozenState), (status = 409, body = ErrorBody)))]
pub async fn freeze(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Support>,
    Path(address): Path<String>,
    Json(req): Json<AssetRequest>,
) -> Result<Json<FrozenState>, ApiError> {
    set_frozen(&ctx, admin.wallet, &address, &req, true).await
}

/// Unfreezes a user in one asset: their held rewards become pending (audited).
#[utoipa::path(post, path = "/v1/admin/users/{address}/unfreeze", tag = "admin", security(("bearer" = [])),
    params(("address" = String, Path, description = "0x or TRON base58")), request_body = AssetRequest,
    responses((status = 200, body = FrozenState), (status = 409, body = ErrorBody)))]
pub async fn unfreeze(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Support>,
    Path(address): Path<String>,
    Json(req): Json<AssetRequest>,
) -> Result<Json<FrozenState>, ApiError> {
    set_frozen(&ctx, admin.wallet, &address, &req, false).await
}

async fn set_frozen(
    ctx: &ApiContext,
    admin: Address,
    address: &str,
    req: &AssetRequest,
    frozen: bool,
) -> Result<Json<FrozenState>, ApiError> {
    let user = parse_address(address, "address")?;
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::unprocessable("reason_required", "say why: `reason` must not be empty"));
    }
    let (actor, asset_id) = (admin.to_checksum(None), req.asset_id);
    if frozen {
        ledger::admin::freeze(&ctx.db, asset_id, user, &actor, reason).await?;
    } else {
        ledger::admin::unfreeze(&ctx.db, asset_id, user, &actor, reason).await?;
    }
    let chain_id = AssetMeta::load(ctx, asset_id).await?.chain_id;
    Ok(Json(FrozenState { asset_id, address: abi::tron::show(chain_id, user), frozen }))
}

/// A page of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// Only this action (its code, e.g. `freeze`: lower-case letters, digits, `_` and `.`).
    #[serde(default, deserialize_with = "bounded::optional_audit_action")]
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// Only this actor: a staff wallet (0x, any case) or a service's name (e.g. `solvency-worker`).
    #[serde(default, deserialize_with = "bounded::optional_actor")]
    #[param(max_length = 64)]
    pub actor: Option<String>,
    /// `staff`: only people's actions (a staff wallet acted); `services`: only the services' automatic ones (the
    /// solvency worker's approvals, the payout worker's); default both.
    #[param(inline)]
    pub by: Option<AuditBy>,
}

/// Who acted, for the audit log's filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditBy {
    /// A staff wallet.
    Staff,
    /// A service, acting on its own.
    Services,
}

impl AuditBy {
    fn people(by: Option<Self>) -> Option<bool> {
        by.map(|b| b == Self::Staff)
    }
}

/// An action code or actor a filter names: lower-case letters, digits and `_ . -` (an action, a service's name), or
/// a 0x wallet; 400 otherwise.
fn audit_word<'a>(field: &str, value: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
    let Some(v) = value else { return Ok(None) };
    let wallet = v.len() == 42 && v.starts_with("0x") && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
    let word = !v.is_empty()
        && v.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'));
    if wallet || word {
        Ok(Some(v))
    } else {
        Err(ApiError::bad_request(
            "invalid_query",
            format!("{field}: a 0x wallet or a lower-case code (letters, digits, _ . -), not {v:?}"),
        ))
    }
}

/// The actions in the audit log, for the console's filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditActionsQuery {
    /// As the log's `by`.
    #[param(inline)]
    pub by: Option<AuditBy>,
}

/// Every action the audit log holds, most frequent first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditActions {
    /// Each action's code and how many entries it has.
    pub actions: Vec<AuditActionCount>,
}

/// An action and how often it was recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditActionCount {
    /// Its code, as `AuditEntry.action`.
    pub action: String,
    /// Its entries (of the actors `by` names).
    pub count: i64,
}

/// The actions of the audit log with their counts, for its filter: people's, the services' or both.
#[utoipa::path(get, path = "/v1/admin/audit/actions", tag = "admin", security(("bearer" = [])),
    params(AuditActionsQuery), responses((status = 200, body = AuditActions), (status = 400, body = ErrorBody)))]
pub async fn audit_actions(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<AuditActionsQuery>,
) -> Result<Json<AuditActions>, ApiError> {
    let actions = ledger::console::audit_actions(&ctx.db, AuditBy::people(q.by)).await?;
    Ok(Json(AuditActions {
        actions: actions.into_iter().map(|(action, count)| AuditActionCount { action, count }).collect(),
    }))
}

/// One row of the append-only audit log: who did what to what, with the state before and after.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// The entry's id (the page cursor).
    pub id: i64,
    /// Who acted: an admin's wallet (0x EIP-55), or a service such as `payout-worker`.
    pub actor: String,
    /// What was done, e.g. `freeze`, `new_plan_version`, `ack_alert`.
    pub action: String,
    /// The asset concerned; null when the action concerns no one asset.
    pub asset_id: Option<i32>,
    /// What it was done to (a wallet, `alert 7`, `batch:12`…), as the action names it.
    pub target: Option<String>,
    /// The state before the action; null when none was recorded.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The state after the action.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Ledger position (events applied) when the action took effect.
    pub applied_events: Option<i64>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// The append-only audit log, newest first (keyset pages), filtered by action, actor, or people and services.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn audit(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let filter = ledger::console::AuditFilter {
        action: audit_word("action", q.action.as_deref())?,
        actor: audit_word("actor", q.actor.as_deref())?,
        people: AuditBy::people(q.by),
    };
    let rows = ledger::console::audit_log(&ctx.db, q.cursor.unwrap_or(i64::MAX), limit + 1, filter).await?;
    let items: Vec<AuditEntry> = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            actor: r.actor,
            action: r.action,
            asset_id: r.asset_id,
            target: r.target,
            before: r.before,
            after: r.after,
            applied_events: r.applied_events,
            created_at: r.created_at,
        })
        .collect();
    Ok(Json(Page::keyset(items, limit, |r| r.id)))
}

/// The asset whose plan versions to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    /// The asset; 404 when it has no plan versions (an unknown asset).
    pub asset_id: i32,
}

/// An asset's plan versions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanVersions {
    /// The asset.
    pub asset_id: i32,
    /// Oldest first; each governs events from its block until the next one's.
    pub versions: Vec<PlanVersionView>,
    /// The first block a new version may take effect from now: the block after the listener's confirmed head (the
    /// last block of the chain it applied), the last applied event and the latest version's start, whichever is
    /// latest. It moves on as blocks are confirmed; `POST /v1/admin/plan` refuses an earlier `from_block` with 422
    /// `from_block_too_early`, naming it.
    pub first_allowed_block: u64,
}

/// One plan version of an asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanVersionView {
    /// The version's number, 1 first.
    pub version: i32,
    /// First block whose events it governs.
    pub effective_from_block: i64,
    /// The parameters as stored (amounts in base units, decimal strings).
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// When it was added (RFC 3339, UTC).
    pub created_at: String,
}

/// The plan versions of an asset.
#[utoipa::path(get, path = "/v1/admin/plan", tag = "admin", security(("bearer" = [])), params(PlanQuery),
    responses((status = 200, body = PlanVersions), (status = 404, body = ErrorBody)))]
pub async fn plan_versions(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<PlanQuery>,
) -> Result<Json<PlanVersions>, ApiError> {
    let rows = ledger::console::plan_versions(&ctx.db, q.asset_id).await?;
    if rows.is_empty() {
        return Err(ApiError::NotFound);
    }
    let versions = rows
        .into_iter()
        .map(|v| PlanVersionView {
            version: v.version,
            effective_from_block: v.effective_from_block,
            params: v.params,
            created_at: v.created_at,
        })
        .collect();
    let first_allowed_block = ledger::admin::first_allowed_block(&ctx.db, q.asset_id).await?;
    Ok(Json(PlanVersions { asset_id: q.asset_id, versions, first_allowed_block }))
}

/// Body of a new asset: everything but the decimals, which are read from the token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAsset {
    /// The ledger id; omitted: one above the highest.
    pub id: Option<i32>,
    /// The chain whose Settlement contract holds the asset (a chain of the chain spec).
    pub chain_id: u64,
    /// The token, 0x or TRON base58; `native` (or the zero address) for the chain's native coin. It must be
    /// allowed on the chain's Settlement contract.
    pub token: String,
    /// The symbol shown beside amounts; omitted: the token's own `symbol()`.
    pub symbol: Option<String>,
    /// The operator's root wallet: user 0, active without paying, sponsor of the first members.
    pub genesis: String,
    /// The plan the asset runs, for good: `auto_pool` (PLAN.md), `generation` (PLAN-GENERATION.md) or `binary`
    /// (PLAN-BINARY.md); `sales` (PLAN-SALES.md) is refused with 422 `plan_not_offered` for now.
    #[schema(value_type = String)]
    pub plan: PlanKind,
    /// The plan's complete parameter set in the form `GET /v1/admin/plan` shows (amounts in base units, decimal
    /// strings), checked by the plan's own rules; omitted: the plan's defaults in the coin's unit (a whole token; on a
    /// real network's own coin a thousandth of BNB, 4 TRX).
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    /// Only check and show what would be created (decimals and symbol read, parameters filled in); create nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The asset created, or with `dry_run` the one that would be.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedAsset {
    /// Whether it was created (false for a dry run).
    pub created: bool,
    /// The asset, every field checked.
    pub asset: crate::assets::CheckedAsset,
}

/// Creates an asset (audited `create_asset`): its decimals (and symbol, unless given) read from the token, the token
/// checked to be allowed on the chain's Settlement contract, the plan's parameters checked by the plan's rules, plan
/// version 1 from block 0 and the genesis user created with it. 201 when created, 200 for a dry run; 409
/// `asset_exists` / `token_has_asset` when the id or the token has an asset (so a request sent twice creates one);
/// 422 with a stable code for every refusal.
#[utoipa::path(post, path = "/v1/admin/assets", tag = "admin", security(("bearer" = [])), request_body = NewAsset,
    responses((status = 201, body = CreatedAsset), (status = 200, body = CreatedAsset),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create_asset(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Json(req): Json<NewAsset>,
) -> Result<(axum::http::StatusCode, Json<CreatedAsset>), ApiError> {
    if req.plan == PlanKind::Sales {
        // Before anything is asked of the chain: the ledger's audited creation refuses it too.
        return Err(ApiError::unprocessable(
            "plan_not_offered",
            "the sales plan is not offered yet: the members' exit cannot pay maturing retail commissions yet \
             (contracts/EXIT.md §14)",
        ));
    }
    let settings = ctx.settings.chains.iter().find(|c| c.spec.chain_id == req.chain_id).ok_or_else(|| {
        ApiError::unprocessable("unknown_chain", format!("chain {} is not in the chain spec", req.chain_id))
    })?;
    let token = match req.token.as_str() {
        "native" => Address::ZERO,
        other => parse_address(other, "token")?,
    };
    let request = crate::assets::AssetRequest {
        id: req.id,
        chain_id: req.chain_id,
        token,
        symbol: req.symbol,
        genesis: parse_address(&req.genesis, "genesis")?,
        plan: req.plan,
        params: req.params,
    };
    let provider = &ctx.chains.chain(req.chain_id)?.access()?.provider;
    let asset = crate::assets::check(&ctx.db, settings, provider, &request).await?;
    if req.dry_run {
        return Ok((axum::http::StatusCode::OK, Json(CreatedAsset { created: false, asset })));
    }
    crate::assets::create(&ctx.db, &asset, &admin.wallet.to_checksum(None)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(CreatedAsset { created: true, asset })))
}

/// Body of a new plan version: the asset, the first block it governs and a complete parameter set.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlanVersion {
    /// The asset to give the new version.
    pub asset_id: i32,
    /// First block the new parameters govern: at least `first_allowed_block` of `GET /v1/admin/plan` (after the
    /// listener's confirmed head, every applied event and the latest version's start); an earlier one is refused
    /// with 422 `from_block_too_early`, whose message names the first allowed block.
    pub from_block: u64,
    /// A complete parameter set, in the form `GET /v1/admin/plan` shows (amounts as decimal strings).
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
}

/// The plan version created.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedPlanVersion {
    /// The asset.
    pub asset_id: i32,
    /// The new version's number.
    pub version: u32,
    /// First block it governs (the request's `from_block`).
    pub effective_from_block: u64,
}

/// Creates a plan version of an asset effective from a future block (audited with old and new values): 422
/// `from_block_too_early` for a block at or below the chain's confirmed head, naming the first allowed block.
#[utoipa::path(post, path = "/v1/admin/plan", tag = "admin", security(("bearer" = [])), request_body = NewPlanVersion,
    responses((status = 200, body = CreatedPlanVersion)))]
pub async fn new_plan_version(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Json(req): Json<NewPlanVersion>,
) -> Result<Json<CreatedPlanVersion>, ApiError> {
    if i64::try_from(req.from_block).is_err() {
        return Err(ApiError::unprocessable("invalid_plan", "from_block is out of range"));
    }
    let actor = admin.wallet.to_checksum(None);
    // The parameters of the asset's own plan.
    let kind = ledger::plan_kind(&ctx.db, req.asset_id).await?.ok_or(AdminError::UnknownAsset(req.asset_id))?;
    let room = ledger::plan::params_of(kind);
    let params = room.read(&req.params).map_err(crate::assets::invalid_plan)?;
    let version = room.new_version(&ctx.db, req.asset_id, req.from_block, params, &actor).await?;
    Ok(Json(CreatedPlanVersion { asset_id: req.asset_id, version, effective_from_block: req.from_block }))
}

/// Which operational log to page through, and from where.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    /// `alerts` (default): open alerts, newest first; `quarantine`: unresolved quarantined events, newest first.
    #[param(inline)]
    pub kind: Option<LogKind>,
    /// Alerts: include acknowledged ones too. Quarantine: include resolved events too (e.g. refunded).
    pub all: Option<bool>,
    /// `next_cursor` of the previous page.
    #[serde(default, deserialize_with = "bounded::optional_cursor")]
    pub cursor: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// An operational log of `GET /v1/admin/logs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// Alerts: the open ones, or every one with `all`.
    Alerts,
    /// Quarantined chain events: the unresolved ones, or every one with `all`.
    Quarantine,
}

/// One page of an operational log: alerts or quarantined events, as `kind` asked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogPage {
    /// With `kind=alerts`: the alerts, newest first; empty otherwise.
    pub alerts: Vec<AlertEntry>,
    /// With `kind=quarantine`: the quarantined events, newest first; empty otherwise.
    pub quarantined: Vec<QuarantinedEvent>,
    /// Pass as `cursor` (with the same `kind`) for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// An alert of the operational log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertEntry {
    /// The alert's id (the `{id}` of `POST /v1/admin/alerts/{id}/ack`).
    pub id: i64,
    /// What kind of trouble it reports.
    pub kind: String,
    /// What happened, for people.
    pub message: String,
    /// The figures behind it.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// When it was raised (RFC 3339, UTC).
    pub created_at: String,
    /// When an admin acknowledged it (RFC 3339, UTC); null while open.
    pub acknowledged_at: Option<String>,
}

/// A quarantined chain event, with its newest refund.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuarantinedEvent {
    /// The event's chain.
    pub chain_id: i64,
    /// The event's transaction hash, 0x hex.
    pub tx_hash: String,
    /// The event's log index.
    pub log_index: i64,
    /// The block the event is in.
    pub block: i64,
    /// The asset it paid into; null when its token is no asset of the ledger.
    pub asset_id: Option<i32>,
    /// Why it was quarantined, as a code (e.g. `wrong_amount`, `unknown_sponsor`).
    pub reason_code: String,
    /// Why it was quarantined, for people.
    pub reason: String,
    /// The raw event as decoded.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// When it was quarantined (RFC 3339, UTC).
    pub created_at: String,
    /// For a payment (`Registered`, `Retopped`): the wallet that paid, in the chain's form (0x EIP-55 or `T…`).
    pub payer: Option<String>,
    /// For a payment: what it paid, base units, decimal string.
    pub amount: Option<String>,
    /// Whether `POST /v1/admin/quarantine/{chain_id}/{tx_hash}/{log_index}/refund` would refund it now: a payment
    /// of an asset the plan refused, unresolved, with no refund signed or executed.
    pub refundable: bool,
    /// The latest refund of this event, if one was signed.
    pub refund: Option<QuarantineRefund>,
    /// RFC 3339, UTC; null while unresolved.
    pub resolved_at: Option<String>,
}

/// A refund (treasury transfer) of a quarantined event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuarantineRefund {
    /// The treasury transfer (`GET /v1/admin/treasury/transfers`).
    pub transfer_id: i64,
    /// `signed` (may still execute), `executed` (the event is refunded and resolved) or `expired`.
    pub status: String,
    /// Block of its execution.
    pub executed_block: Option<i64>,
}

/// Parses a quarantine cursor `block:log_index:chain_id`.
fn quarantine_cursor(text: &str) -> Option<(i64, i64, i64)> {
    let mut parts = text.split(':').map(|p| p.parse::<i64>().ok());
    let cursor = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(cursor)
}

/// Operational log: open alerts, or quarantined events (keyset pages, newest first).
#[utoipa::path(get, path = "/v1/admin/logs", tag = "admin", security(("bearer" = [])), params(LogsQuery),
    responses((status = 200, body = LogPage)))]
pub async fn logs(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<LogsQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let bad_cursor = || ApiError::bad_request("invalid_cursor", "cursor is not one this endpoint returned");
    if q.kind.unwrap_or(LogKind::Alerts) == LogKind::Alerts {
        let cursor = match q.cursor.as_deref() {
            None => i64::MAX,
            Some(c) => c.parse::<i64>().map_err(|_| bad_cursor())?,
        };
        let rows = ledger::console::alerts(&ctx.db, cursor, q.all.unwrap_or(false), limit + 1).await?;
        let mut alerts: Vec<AlertEntry> = rows
            .into_iter()
            .map(|r| AlertEntry {
                id: r.id,
                kind: r.kind,
                message: r.message,
                details: r.details,
                created_at: r.created_at,
                acknowledged_at: r.acknowledged_at,
            })
            .collect();
        let next_cursor = if alerts.len() as i64 > limit {
            alerts.truncate(limit as usize);
            alerts.last().map(|a| a.id.to_string())
        } else {
            None
        };
        return Ok(Json(LogPage { alerts, quarantined: vec![], next_cursor }));
    }
    let cursor = match q.cursor.as_deref() {
        None => (i64::MAX, i64::MAX, i64::MAX),
        Some(c) => quarantine_cursor(c).ok_or_else(bad_cursor)?,
    };
    // Refundable as `ledger::treasury::refund` decides it (which checks again under the asset's lock).
    let rows = ledger::console::quarantined(&ctx.db, cursor, q.all.unwrap_or(false), limit + 1).await?;
    let mut quarantined: Vec<QuarantinedEvent> = rows
        .into_iter()
        .map(|row| {
            let paid = match serde_json::from_value::<ledger::events::EventBody>(row.payload.clone()) {
                Ok(
                    ledger::events::EventBody::Registered { user, amount, .. }
                    | ledger::events::EventBody::Retopped { user, amount, .. },
                ) => Some((abi::tron::show(row.chain_id as u64, user), amount.to_string())),
                _ => None,
            };
            QuarantinedEvent {
                chain_id: row.chain_id,
                tx_hash: alloy::hex::encode_prefixed(&row.tx_hash),
                log_index: row.log_index,
                block: row.block,
                asset_id: row.asset_id,
                reason_code: row.reason_code,
                reason: row.reason,
                payload: row.payload,
                created_at: row.created_at,
                payer: paid.as_ref().map(|p| p.0.clone()),
                amount: paid.map(|p| p.1),
                refundable: row.refundable,
                refund: row.refund.map(|(transfer_id, status, executed_block)| QuarantineRefund {
                    transfer_id,
                    status,
                    executed_block,
                }),
                resolved_at: row.resolved_at,
            }
        })
        .collect();
    let next_cursor = if quarantined.len() as i64 > limit {
        quarantined.truncate(limit as usize);
        quarantined.last().map(|e| format!("{}:{}:{}", e.block, e.log_index, e.chain_id))
    } else {
        None
    };
    Ok(Json(LogPage { alerts: vec![], quarantined, next_cursor }))
}

/// An alert just acknowledged.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AckedAlert {
    /// The alert's id.
    pub id: i64,
    /// When it was acknowledged (RFC 3339, UTC).
    pub acknowledged_at: String,
}

/// Acknowledges an open alert (audited); 409 if it already was.
#[utoipa::path(post, path = "/v1/admin/alerts/{id}/ack", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "alert id")),
    responses((status = 200, body = AckedAlert), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn ack_alert(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Acting>,
    Path(id): Path<i64>,
) -> Result<Json<AckedAlert>, ApiError> {
    let at =
        ledger::console::acknowledge_alert(&ctx.db, id, &admin.wallet.to_checksum(None)).await.map_err(|refusal| {
            match refusal {
                AckRefusal::Unknown => ApiError::NotFound,
                AckRefusal::Already => ApiError::Conflict { code: "no_change", message: refusal.to_string() },
                AckRefusal::Db(e) => e.into(),
            }
        })?;
    Ok(Json(AckedAlert { id, acknowledged_at: at }))
}

/// Filters and page of users' withdraw requests.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalsQuery {
    /// Only requests in this asset; every asset when absent.
    pub asset_id: Option<i32>,
    /// `open`, `batched` or `cancelled`; all when absent.
    #[param(inline)]
    pub status: Option<WithdrawStatus>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// A withdraw request's status.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawStatus {
    /// Waiting for a payout batch (one open request per user and asset).
    Open,
    /// A payout batch took the user's pending rewards for it.
    Batched,
    /// Closed: its payout batch was cancelled while a newer request of the user was open.
    Cancelled,
}

impl WithdrawStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Batched => "batched",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A user's withdraw request, with the user's pending balance now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WithdrawalEntry {
    /// The request's id (the page cursor).
    pub id: i64,
    /// The asset.
    pub asset_id: i32,
    /// The user's number in the asset (0 = genesis).
    pub user_no: i32,
    /// In the asset chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub address: String,
    /// Pending balance when requested (base units).
    pub amount: String,
    /// Pending balance now (base units).
    pub pending_now: String,
    /// `open`, `batched` or `cancelled`.
    pub status: String,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
}

/// Users' withdraw requests, filtered by asset and status (keyset pages, newest first).
#[utoipa::path(get, path = "/v1/admin/withdrawals", tag = "admin", security(("bearer" = [])), params(WithdrawalsQuery),
    responses((status = 200, body = Page<WithdrawalEntry>)))]
pub async fn withdrawals(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<WithdrawalsQuery>,
) -> Result<Json<Page<WithdrawalEntry>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let status = q.status.map(WithdrawStatus::as_str);
    let rows = ledger::console::withdraw_requests(&ctx.db, q.asset_id, status, q.cursor.unwrap_or(i64::MAX), limit + 1)
        .await?;
    let items: Vec<WithdrawalEntry> = rows
        .into_iter()
        .map(|r| WithdrawalEntry {
            id: r.id,
            asset_id: r.asset_id,
            user_no: r.user_no,
            address: crate::http::types::show_address(r.chain_id, &r.address),
            amount: r.amount.to_string(),
            pending_now: r.pending_now.to_string(),
            status: r.status,
            created_at: r.created_at,
        })
        .collect();
    Ok(Json(Page::keyset(items, limit, |r| r.id)))
}
