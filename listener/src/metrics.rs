//! The listener's lag as Prometheus text (`GET /metrics`), read from the database so that any instance — the
//! active one or a standby — reports the chain as the ledger has it.

use std::fmt::Write;

use axum::{
    Router, extract::State, http::StatusCode, http::header::CONTENT_TYPE, response::IntoResponse, routing::get,
};
use backend::ledger::{ListenerStatus, listener_statuses};
use sqlx::PgPool;

/// The metrics of `chains` (every chain the ledger knows when empty), in Prometheus' text format.
pub fn render(statuses: &[ListenerStatus], chains: &[u64]) -> String {
    let shown: Vec<&ListenerStatus> =
        statuses.iter().filter(|s| chains.is_empty() || chains.contains(&s.chain_id)).collect();
    let mut out = String::new();
    let mut family = |name: &str, help: &str, value: &dyn Fn(&ListenerStatus) -> Option<f64>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for s in &shown {
            if let Some(v) = value(s) {
                let _ = writeln!(out, "{name}{{chain_id=\"{}\"}} {v}", s.chain_id);
            }
        }
    };
    family("listener_chain_head", "Chain head block the listener last saw.", &|s| s.chain_head.map(|v| v as f64));
    family("listener_confirmed_block", "Last confirmed block applied in full.", &|s| {
        s.confirmed_block.map(|v| v as f64)
    });
    family("listener_lag_blocks", "Chain head minus the confirmed cursor.", &|s| s.lag_blocks.map(|v| v as f64));
    family("listener_head_age_seconds", "Seconds since the listener last saw the chain head.", &|s| s.head_age_seconds);
    family("listener_halted", "1 when the listener stopped itself on this chain.", &|s| {
        Some(if s.halted_reason.is_some() { 1.0 } else { 0.0 })
    });
    out
}

#[derive(Clone)]
struct MetricsState {
    pool: PgPool,
    chains: Vec<u64>,
}

async fn metrics(State(state): State<MetricsState>) -> impl IntoResponse {
    match listener_statuses(&state.pool).await {
        Ok(statuses) => (
            StatusCode::OK,
            [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            render(&statuses, &state.chains),
        ),
        Err(e) => {
            tracing::error!(error = %e, "metrics: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, [(CONTENT_TYPE, "text/plain; charset=utf-8")], String::new())
        }
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, pool: PgPool, chains: Vec<u64>) -> std::io::Result<()> {
    let app = Router::new().route("/metrics", get(metrics)).with_state(MetricsState { pool, chains });
    axum::serve(listener, app).await
}
