//! Liveness: the process answers and the database is reachable.

use axum::extract::State;
use serde::Serialize;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::Json;

/// Whether the service and its dependencies answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when the database and Redis both answer, else `degraded`.
    pub status: &'static str,
    /// Whether the database answered.
    pub database: bool,
    /// False when running without Redis (sign-in unavailable, no cache).
    pub redis: bool,
}

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Liveness: always 200 while the process runs; the body says whether the database and Redis answer.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health(State(ctx): State<ApiContext>) -> Result<Json<Health>, ApiError> {
    let database = ledger::db::answers(&ctx.db).await;
    let redis = match &ctx.redis {
        Some(manager) => crate::cache::answers(manager).await,
        None => false,
    };
    Ok(Json(Health { status: if database && redis { "ok" } else { "degraded" }, database, redis }))
}
