//! `reconciler <config.toml>`: reconciles every configured chain on a schedule and on request until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use reconciler::{config::ReconcilerConfig, service::Reconciler};
use sqlx::PgPool;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).json().init();
    let path: PathBuf = std::env::args().nth(1).ok_or_else(|| eyre::eyre!("usage: reconciler <config.toml>"))?.into();
    let config = ReconcilerConfig::load(&path)?;
    let pool = PgPool::connect(&config.database_url).await?;
    backend::db::migrate(&pool).await?;
    let reconciler = Reconciler::from_config(pool, &config)?;
    reconciler.run(config.interval(), config.request_poll(), backend::startup::shutdown_signal()).await;
    Ok(())
}
