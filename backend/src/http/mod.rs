//! The HTTP API (axum): one module per resource, a shared [`ApiContext`] in axum state,
//! [`ApiError`] for every failure, and [`AuthUser`]/[`AdminUser`] extractors for auth. Resources share only
//! the modules of the shared layer (chains, signer calls, pages, amounts, errors, extractors, rate limits, metrics).

// Resources: one module per group of routes; none imports another.
pub mod admin;
pub mod auth;
pub mod docs;
pub mod health;
pub mod monitoring;
pub mod payouts;
pub mod pool;
pub mod public;
pub mod register;
pub mod treasury;
pub mod users;
pub mod web;

// The shared layer every resource builds on.
pub mod bounded;
pub mod chains;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod page;
pub mod rate_limit;
pub mod signing;
pub mod types;

use std::sync::Arc;

use alloy::primitives::Address;
use axum::Router;
use sqlx::PgPool;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::ApiError;
pub use extract::{AdminUser, AuthUser, Json};

use crate::auth::jwt::AccessTokens;
use crate::auth::nonce::NonceStore;
use crate::config::Settings;

/// What every handler can reach: settings, the database, Redis-backed stores, token keys.
#[derive(Clone, Debug)]
pub struct ApiContext {
    pub settings: Arc<Settings>,
    pub db: PgPool,
    /// `None` when no Redis is configured; otherwise reconnects on demand (see `startup`).
    pub redis: Option<redis::aio::ConnectionManager>,
    pub nonces: NonceStore,
    pub rate_limiter: rate_limit::RateLimiter,
    pub access_tokens: AccessTokens,
    /// Admin wallets, parsed once from settings.
    pub admins: Arc<Vec<Address>>,
    /// The signing service; `None` when no `[signer]` is configured (payload endpoints 503).
    pub signer: Option<signer_client::SignerClient>,
    /// The caller for treasury transfers: `[signer.treasury_caller]`, else the main caller.
    pub treasury_signer: Option<signer_client::SignerClient>,
    /// Every configured chain (`[[chains]]`), parsed once at start.
    pub chains: Arc<chains::ChainRegistry>,
    /// The clock deadlines are computed from.
    pub clock: types::Clock,
    /// Request counters and the rest of `GET /metrics` (on `[application] metrics_address`).
    pub metrics: Arc<metrics::ApiMetrics>,
}

/// All routes of the API; unknown paths and methods answer JSON errors too.
pub fn router(ctx: ApiContext) -> Router {
    let (routes, mut doc) = api(ctx.clone()).split_for_parts();
    docs::complete(&mut doc);
    let metrics = ctx.settings.application.metrics_address.is_some().then(|| ctx.metrics.clone());
    let router = routes
        // Every body is bounded before it is read (the auth routes bound theirs tighter); 413 past it.
        .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT))
        .merge(web::router(&doc, &ctx.settings))
        .merge(docs::router(doc))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // Requests are counted only where something serves the counts (`[application] metrics_address`).
    let router = match metrics {
        Some(metrics) => router.layer(axum::middleware::from_fn_with_state(metrics, metrics::track)),
        None => router,
    };
    router.with_state(ctx)
}

/// Largest body any API route reads: a plan version's parameters, the largest, are a few kB.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// Every resource's routes with their OpenAPI entries (the state is supplied by [`router`]).
fn api(ctx: ApiContext) -> OpenApiRouter<ApiContext> {
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(health::routes())
        .merge(auth::routes(ctx))
        .merge(public::routes())
        .merge(users::routes())
        .merge(register::routes())
        .merge(admin::routes())
        .merge(pool::routes())
        .merge(payouts::routes())
        .merge(treasury::routes())
        .merge(monitoring::routes())
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::bad_request("method_not_allowed", "method not allowed on this path")
}
