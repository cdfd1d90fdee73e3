//! Operators' webhook endpoints (issue 49), managed by the admin role: create (the `whsec_` secret is shown once),
//! change, enable or disable, rotate the secret (both sign during the overlap), the delivery log with each attempt,
//! and replay. Every staff role may read; every change is audited. An endpoint must be `https` and resolve only to
//! public addresses (checked here and again at every delivery); the devnet allows its own on loopback.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::bounded;
use super::error::ErrorBody;
use super::extract::{Json, Path, Query};
use super::page::{Page, page_limit};
use crate::config::NotificationsSettings;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AdminUser, Staff, need};
use crate::notify::keys::NotifyKeys;
use crate::notify::webhook;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(change))
        .routes(routes!(rotate))
        .routes(routes!(deliveries))
        .routes(routes!(attempts))
        .routes(routes!(replay))
}

/// One endpoint (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    /// Its id.
    pub id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The operator's note.
    pub description: String,
    /// The event types it receives; empty: all.
    pub kinds: Vec<String>,
    /// Whether deliveries go to it.
    pub enabled: bool,
    /// Why it is disabled.
    pub disabled_reason: Option<String>,
    /// Until when the previous secret also signs (a rotation in progress).
    pub previous_secret_until: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: String,
    /// Deliveries waiting.
    pub pending: i64,
    /// Deliveries given up on.
    pub dead: i64,
}

impl From<ledger::notify::webhooks::Endpoint> for EndpointView {
    fn from(e: ledger::notify::webhooks::Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            kinds: e.kinds,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            previous_secret_until: e.previous_until,
            created_by: e.created_by,
            created_at: e.created_at,
            pending: e.pending,
            dead: e.dead,
        }
    }
}

/// The endpoints and the event types there are.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Endpoints {
    /// Every endpoint, oldest first.
    pub endpoints: Vec<EndpointView>,
    /// Every event type.
    pub kinds: Vec<String>,
}

/// Every endpoint.
#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Endpoints)))]
pub async fn list(State(ctx): State<ApiContext>, _staff: AdminUser) -> Result<Json<Endpoints>, ApiError> {
    let endpoints = ledger::notify::webhooks::endpoints(&ctx.db).await?.into_iter().map(Into::into).collect();
    Ok(Json(Endpoints { endpoints, kinds: ledger::notify::KINDS.iter().map(|k| k.to_string()).collect() }))
}

/// `POST /v1/admin/webhooks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://…` (at most 2000 characters).
    #[serde(deserialize_with = "bounded::url")]
    pub url: String,
    /// A note (at most 200 characters).
    #[serde(default, deserialize_with = "bounded::optional_note")]
    pub description: Option<String>,
    /// Event types to receive; empty or absent: all.
    #[serde(default)]
    pub kinds: Vec<String>,
}

/// A new endpoint or secret: the secret is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WithSecret {
    /// The endpoint.
    pub endpoint: EndpointView,
    /// Its signing secret (`whsec_…`): give it to the receiver now; it is never shown again.
    pub secret: String,
}

fn configured(ctx: &ApiContext) -> Result<(&NotificationsSettings, NotifyKeys), ApiError> {
    let settings = ctx.settings.notifications.as_ref().ok_or_else(|| {
        ApiError::unavailable("notifications_not_configured", "this deployment has no [notifications]")
    })?;
    Ok((settings, NotifyKeys::new(&settings.key().map_err(ApiError::Internal)?)))
}

async fn check_url(settings: &NotificationsSettings, url: &str) -> Result<(), ApiError> {
    let policy = settings.webhooks.policy();
    let parsed = webhook::check_form(url, policy).map_err(|e| ApiError::unprocessable("invalid_url", e.to_string()))?;
    webhook::resolve(&parsed, policy).await.map_err(|e| ApiError::unprocessable("invalid_url", e.to_string()))?;
    Ok(())
}

fn check_kinds(kinds: &[String]) -> Result<Vec<String>, ApiError> {
    if kinds.len() > 64 || kinds.iter().any(|k| !ledger::notify::is_kind(k)) {
        return Err(ApiError::unprocessable(
            "invalid_kinds",
            format!("kinds must be among {:?}", ledger::notify::KINDS),
        ));
    }
    Ok(ledger::notify::KINDS.iter().filter(|k| kinds.iter().any(|c| c == *k)).map(|k| k.to_string()).collect())
}

async fn view(ctx: &ApiContext, id: i64) -> Result<EndpointView, ApiError> {
    ledger::notify::webhooks::endpoint(&ctx.db, id).await?.map(Into::into).ok_or(ApiError::NotFound)
}

/// Creates an endpoint; its secret is in the answer, once.
#[utoipa::path(post, path = "/v1/admin/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = NewEndpoint, responses((status = 201, body = WithSecret), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn create(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Json(req): Json<NewEndpoint>,
) -> Result<(StatusCode, Json<WithSecret>), ApiError> {
    let (settings, keys) = configured(&ctx)?;
    check_url(settings, &req.url).await?;
    let kinds = check_kinds(&req.kinds)?;
    let secret = webhook::new_secret();
    let actor = admin.wallet.to_checksum(None);
    let description = req.description.unwrap_or_default();
    let id = ledger::notify::webhooks::create(
        &ctx.db,
        &actor,
        &req.url,
        &description,
        &kinds,
        &keys.seal(secret.as_bytes()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(WithSecret { endpoint: view(&ctx, id).await?, secret })))
}

/// `PATCH /v1/admin/webhooks/{id}`: what changes (absent: unchanged).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointChange {
    /// A new URL.
    #[serde(default, deserialize_with = "bounded::optional_url")]
    pub url: Option<String>,
    /// A new note.
    #[serde(default, deserialize_with = "bounded::optional_note")]
    pub description: Option<String>,
    /// New event types (empty: all).
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// Enable (its waiting deliveries go again) or disable.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Changes an endpoint.
#[utoipa::path(patch, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = EndpointChange,
    responses((status = 200, body = EndpointView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn change(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Path(id): Path<i64>,
    Json(req): Json<EndpointChange>,
) -> Result<Json<EndpointView>, ApiError> {
    let (settings, _) = configured(&ctx)?;
    if let Some(url) = &req.url {
        check_url(settings, url).await?;
    }
    let kinds = req.kinds.as_deref().map(check_kinds).transpose()?;
    let change = ledger::notify::webhooks::EndpointChange {
        url: req.url,
        description: req.description,
        kinds,
        enabled: req.enabled,
    };
    let actor = admin.wallet.to_checksum(None);
    ledger::notify::webhooks::change(&ctx.db, &actor, id, &change).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(view(&ctx, id).await?))
}

/// Gives an endpoint a new secret; the previous one keeps signing (a second signature) for
/// `[notifications.webhooks] rotation_overlap_secs`.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/rotate", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = WithSecret), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn rotate(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Path(id): Path<i64>,
) -> Result<Json<WithSecret>, ApiError> {
    let (settings, keys) = configured(&ctx)?;
    let secret = webhook::new_secret();
    let actor = admin.wallet.to_checksum(None);
    let overlap = settings.webhooks.rotation_overlap_secs.min(30 * 24 * 3600) as i64;
    ledger::notify::webhooks::rotate(&ctx.db, &actor, id, &keys.seal(secret.as_bytes()), overlap)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(WithSecret { endpoint: view(&ctx, id).await?, secret }))
}

/// `GET /v1/admin/webhooks/{id}/deliveries`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// One delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The notification's id: the `webhook-id` of every attempt.
    pub notification_id: String,
    /// Its event type.
    pub kind: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<String>,
    /// When the next attempt is due.
    pub next_attempt_at: Option<String>,
    /// When it was queued.
    pub created_at: String,
    /// The page cursor.
    pub seq: i64,
}

/// An endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path), DeliveriesQuery),
    responses((status = 200, body = Page<DeliveryView>), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Path(id): Path<i64>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    view(&ctx, id).await?;
    let rows = ledger::notify::webhooks::deliveries(&ctx.db, id, q.cursor.unwrap_or(i64::MAX), limit + 1).await?;
    let items = rows
        .into_iter()
        .map(|d| DeliveryView {
            notification_id: d.notification_id,
            kind: d.kind,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            seq: d.seq,
        })
        .collect();
    Ok(Json(Page::keyset(items, limit, |d: &DeliveryView| d.seq)))
}

/// One attempt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    /// When.
    pub at: String,
    /// The HTTP status answered.
    pub status_code: Option<i32>,
    /// Why it failed.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i32,
}

/// A delivery's attempts, oldest first (the last 100).
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries/{notification_id}/attempts", tag = "webhooks",
    security(("bearer" = [])), params(("id" = i64, Path), ("notification_id" = String, Path, max_length = 200)),
    responses((status = 200, body = Vec<AttemptView>), (status = 404, body = ErrorBody)))]
pub async fn attempts(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Path((id, notification_id)): Path<(i64, String)>,
) -> Result<Json<Vec<AttemptView>>, ApiError> {
    if notification_id.len() > 200 {
        return Err(ApiError::NotFound);
    }
    let rows = ledger::notify::webhooks::attempts(&ctx.db, &notification_id, id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|a| AttemptView { at: a.at, status_code: a.status_code, error: a.error, duration_ms: a.duration_ms })
            .collect(),
    ))
}

/// What a replay did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Replayed {
    /// The delivery, pending again (same `webhook-id`).
    pub notification_id: String,
}

/// Sends a delivery again, under the same `webhook-id`, with a fresh retry window.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/deliveries/{notification_id}/replay", tag = "webhooks",
    security(("bearer" = [])), params(("id" = i64, Path), ("notification_id" = String, Path, max_length = 200)),
    responses((status = 202, body = Replayed), (status = 404, body = ErrorBody)))]
pub async fn replay(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Path((id, notification_id)): Path<(i64, String)>,
) -> Result<(StatusCode, Json<Replayed>), ApiError> {
    if notification_id.len() > 200 {
        return Err(ApiError::NotFound);
    }
    let actor = admin.wallet.to_checksum(None);
    ledger::notify::webhooks::replay(&ctx.db, &actor, &notification_id, id).await?.ok_or(ApiError::NotFound)?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { notification_id })))
}
