//! The HTTP API (axum): one module per resource, a shared [`ApiContext`] in axum state,
//! [`ApiError`] for every failure, and [`AuthUser`]/[`AdminUser`] extractors for auth.

pub mod admin;
pub mod auth;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod monitoring;
pub mod payouts;
pub mod pool;
pub mod public;
pub mod rate_limit;
pub mod register;
pub mod treasury;
pub mod users;
pub mod web;

use std::sync::Arc;

use alloy::primitives::Address;
use axum::Router;
use sqlx::PgPool;

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
    pub signer: Option<signer::client::SignerClient>,
    /// The caller for treasury transfers: `[signer.treasury_caller]`, else the main caller.
    pub treasury_signer: Option<signer::client::SignerClient>,
    /// Settlement contract per chain id, from `[[chains]]`.
    pub settlements: Arc<std::collections::HashMap<u64, Address>>,
    /// RPC access (and the operator key, if any) per chain id, for chains with an `rpc_url`.
    pub chains: Arc<std::collections::HashMap<u64, payouts::ChainAccess>>,
}

/// All routes of the API; unknown paths and methods answer JSON errors too.
pub fn router(ctx: ApiContext) -> Router {
    Router::new()
        .merge(health::router())
        .merge(auth::router(ctx.clone()))
        .merge(public::router())
        .merge(users::router())
        .merge(register::router())
        .merge(admin::router())
        .merge(pool::router())
        .merge(payouts::router())
        .merge(treasury::router())
        .merge(monitoring::router())
        .merge(docs::router())
        .merge(web::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ctx)
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::bad_request("method_not_allowed", "method not allowed on this path")
}
