//! Operational endpoints: signer address, health, metrics. Unauthenticated: they reveal nothing secret.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};

use super::AppState;
use crate::{api::SignerInfo, intent::Addr};

pub(super) async fn signer(State(state): State<AppState>) -> Json<SignerInfo> {
    Json(SignerInfo { address: Addr(state.service.address()) })
}

/// Healthy when the store answers (the key is loaded before the server starts).
pub(super) async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match state.service.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: store unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
}

pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
