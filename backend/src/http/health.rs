//! Liveness: the process answers and the database is reachable.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use super::{ApiContext, ApiError, Json};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: bool,
    /// False when running without Redis (sign-in unavailable, no cache).
    pub redis: bool,
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/health", get(health))
}

#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health(State(ctx): State<ApiContext>) -> Result<Json<Health>, ApiError> {
    let database = sqlx::query("SELECT 1").execute(&ctx.db).await.is_ok();
    let redis = match &ctx.redis {
        Some(manager) => crate::startup::redis_answers(manager).await,
        None => false,
    };
    Ok(Json(Health { status: if database && redis { "ok" } else { "degraded" }, database, redis }))
}
