//! Operational endpoints: signer address, health, metrics — unauthenticated; health and metrics answer loopback
//! clients only (a signer exposed beyond loopback by mistake shows its counters to no one) — and, to an
//! authenticated caller, what it may ask for.

use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{AppState, AuthenticatedRequest};
use crate::{
    api::{CallerInfo, SignerInfo},
    intent::Addr,
};

/// `GET /v1/caller`: the authenticated caller and the payload kinds it may ask for (a caller learns only its own).
pub(super) async fn caller(request: AuthenticatedRequest) -> Json<CallerInfo> {
    let caller = request.caller;
    Json(CallerInfo { kinds: caller.permissions.kinds().collect(), caller: caller.caller })
}

pub(super) async fn signer(State(state): State<AppState>) -> Json<SignerInfo> {
    let keys = state.service.addresses().into_iter().map(Addr).collect();
    Json(SignerInfo {
        address: Addr(state.service.signing_address().await),
        keys,
        nodes: state.service.node_infos().await,
        approvals: state.service.approvals_required(),
    })
}

/// Whether operational endpoints answer `peer`: loopback clients only (the scraper and probes run on the host).
pub(super) fn ops_allowed(peer: SocketAddr) -> bool {
    peer.ip().is_loopback() || peer.ip().to_canonical().is_loopback()
}

/// Healthy when the store answers (the key is loaded before the server starts).
pub(super) async fn health(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    if !ops_allowed(peer) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.service.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: store unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
    }
    .into_response()
}

pub(super) async fn metrics(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    if !ops_allowed(peer) {
        return StatusCode::NOT_FOUND.into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], state.metrics.render())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::ops_allowed;

    #[test]
    fn only_loopback_clients_see_health_and_metrics() {
        for allowed in ["127.0.0.1:1", "127.9.9.9:1", "[::1]:1", "[::ffff:127.0.0.1]:1"] {
            assert!(ops_allowed(allowed.parse().unwrap()), "{allowed}");
        }
        for refused in ["10.0.0.5:1", "192.0.2.1:1", "[2001:db8::1]:1", "[::ffff:192.0.2.1]:1"] {
            assert!(!ops_allowed(refused.parse().unwrap()), "{refused}");
        }
    }
}
