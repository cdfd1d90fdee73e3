//! `reconciler <config.toml>`: reconciles every configured chain on a schedule and on request until Ctrl-C or SIGTERM.

use reconciler::config::ReconcilerConfig;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    service_kit::telemetry::init(service_kit::telemetry::format_from_env());
    let path = std::env::args().nth(1).ok_or_else(|| eyre::eyre!("usage: reconciler <config.toml>"))?;
    let config = ReconcilerConfig::load(std::path::Path::new(&path))?;
    reconciler::startup::run(config, service_kit::shutdown_signal()).await
}
