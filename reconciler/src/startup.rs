//! Running the reconciler service: connect and migrate, serve metrics, then reconcile on the schedule and on
//! request until a shutdown signal.

use std::future::Future;

use sqlx::PgPool;

use crate::{config::ReconcilerConfig, service::Reconciler};

/// Runs until `shutdown` completes.
pub async fn run(config: ReconcilerConfig, shutdown: impl Future<Output = ()>) -> eyre::Result<()> {
    let pool = PgPool::connect(&config.database_url).await?;
    ledger::db::migrate(&pool).await?;
    let specs: Vec<_> = config.chains.iter().map(|c| c.spec.clone()).collect();
    preflight::at_start("reconciler", &specs, |_| preflight::Expectations::default()).await?;
    if let Some(address) = config.metrics_address {
        let socket = tokio::net::TcpListener::bind(address).await?;
        tracing::info!(%address, "serving metrics");
        let metrics = crate::metrics::ReconcilerMetrics::from_config(pool.clone(), &config)?;
        tokio::spawn(service_kit::metrics::serve(socket, move || {
            let metrics = metrics.clone();
            async move { metrics.render().await }
        }));
    }
    let reconciler = Reconciler::from_config(pool, &config)?;
    reconciler.run(config.interval(), config.request_poll(), shutdown).await;
    Ok(())
}
