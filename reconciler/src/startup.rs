//! Running the reconciler service: connect and migrate, serve metrics, then reconcile on the schedule and on
//! request until a shutdown signal. The preflight's checks run beside it ([`crate::preflight_watch`]): whatever they
//! find, the reconciler starts and keeps watching, and pages each finding.

use std::future::Future;

use sqlx::PgPool;

use crate::{
    config::ReconcilerConfig,
    preflight_watch::{self, Checker, PreflightFindings},
    service::Reconciler,
};

/// Runs until `shutdown` completes.
pub async fn run(config: ReconcilerConfig, shutdown: impl Future<Output = ()>) -> eyre::Result<()> {
    let pool = PgPool::connect(&config.database_url).await?;
    ledger::db::migrate(&pool).await?;
    let findings = PreflightFindings::default();
    tokio::spawn(preflight_watch::watch(Checker::from_config(&config), findings.clone(), config.preflight_interval()));
    if let Some(address) = config.metrics_address {
        let socket = tokio::net::TcpListener::bind(address).await?;
        tracing::info!(%address, "serving metrics");
        let metrics = crate::metrics::ReconcilerMetrics::from_config(pool.clone(), &config)?;
        tokio::spawn(service_kit::metrics::serve(socket, move || {
            let metrics = metrics.clone();
            async move { metrics.render().await }
        }));
    }
    let reconciler = Reconciler::from_config(pool, &config)?.with_preflight(findings);
    reconciler.run(config.interval(), config.request_poll(), shutdown).await;
    Ok(())
}
