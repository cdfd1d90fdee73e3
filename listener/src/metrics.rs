//! The listener's lag as Prometheus text (`GET /metrics`), read from the database so that any instance — the
//! active one or a standby — reports the chain as the ledger has it.

use std::fmt::Write;

use ledger::{ListenerStatus, listener_statuses};
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
    family("listener_lag_blocks", "Confirmed blocks (head minus confirmation depth) not yet applied.", &|s| {
        s.lag_blocks.map(|v| v as f64)
    });
    family("listener_head_age_seconds", "Seconds since the listener last saw the chain head.", &|s| s.head_age_seconds);
    family("listener_halted", "1 when the listener stopped itself on this chain.", &|s| {
        Some(if s.halted_reason.is_some() { 1.0 } else { 0.0 })
    });
    out
}

/// Serves `GET /metrics` (and `/health`) on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, pool: PgPool, chains: Vec<u64>) -> std::io::Result<()> {
    service_kit::metrics::serve(listener, move || {
        let (pool, chains) = (pool.clone(), chains.clone());
        async move {
            match listener_statuses(&pool).await {
                Ok(statuses) => Some(render(&statuses, &chains)),
                Err(e) => {
                    tracing::error!(error = %e, "metrics: database unavailable");
                    None
                }
            }
        }
    })
    .await
}
