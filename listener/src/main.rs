//! `listener <config.toml>`: follows every configured chain into the ledger; a second instance stands by.

use listener::config::ListenerConfig;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    service_kit::telemetry::init(service_kit::telemetry::format_from_env());
    let path = std::env::args().nth(1).ok_or_else(|| eyre::eyre!("usage: listener <config.toml>"))?;
    let config = ListenerConfig::load(std::path::Path::new(&path))?;
    listener::startup::run(config, service_kit::shutdown_signal()).await
}
