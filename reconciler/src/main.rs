//! `reconciler <config.toml>`: reconciles every chain of the chain spec on a schedule and on request until Ctrl-C or
//! SIGTERM.

use reconciler::config::ReconcilerConfig;

const RECONCILER_USAGE: &str = "reconciler <config.toml>\n\nReconciles every chain of the chain spec on a schedule \
and on request, and pages. The file as reconciler/reconciler.example.toml; RECONCILER_<KEY> variables override its \
keys (RECONCILER_DATABASE_URL, RECONCILER_SOLVENCY_SALT_KEY…). Logs: JSON lines (LOG_FORMAT=text), level from RUST_LOG.";

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let load = || ReconcilerConfig::load(&service_kit::config_argument(RECONCILER_USAGE)?);
    service_kit::main(load, reconciler::startup::run).await
}
