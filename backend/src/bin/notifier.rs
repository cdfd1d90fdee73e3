//! `referral-notifier`: delivers the outbox (issue 49) — fans each new notification out to its sinks and delivers
//! webhooks and e-mails with retries ([`backend::notify`]) — until Ctrl-C or SIGTERM, stopping between rounds.
//! Reads the API's configuration (`APP_CONFIG`, default `backend/configuration.toml`, with `APP_…` variables); its
//! `[notifications]` is required. Its metrics are served on `NOTIFIER_METRICS_ADDRESS` when set (`ops/metrics.md`,
//! job `notifier`). Any number may run side by side.

use std::time::Duration;

use backend::config::Settings;
use backend::notify::Notifier;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    service_kit::main(|| Ok(Settings::load()?), run).await
}

async fn run(settings: Settings, shutdown: service_kit::Shutdown) -> eyre::Result<()> {
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect(settings.database.url.expose_secret())
        .await?;
    ledger::db::migrate(&db).await?;
    let notifier = Notifier::from_settings(&settings, db.clone())?;
    if let Some(address) = std::env::var("NOTIFIER_METRICS_ADDRESS").ok().filter(|a| !a.is_empty()) {
        let listener = tokio::net::TcpListener::bind(address.as_str()).await?;
        tracing::info!(address = %listener.local_addr()?, "notifier metrics listening");
        let metrics = notifier.metrics.clone();
        tokio::spawn(service_kit::metrics::serve(listener, move || {
            let (metrics, db) = (metrics.clone(), db.clone());
            async move { metrics.render(&db).await }
        }));
    }
    let (stop, _) = service_kit::work::split(shutdown);
    notifier.run(stop).await;
    Ok(())
}
