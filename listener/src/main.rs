//! `listener <config.toml>`: follows every chain of the chain spec into the ledger; a second instance stands by.

use listener::config::ListenerConfig;

const LISTENER_USAGE: &str = "listener <config.toml>\n\nFollows every chain of the chain spec into the ledger; a second \
instance stands by. The file as listener/listener.example.toml; LISTENER_<KEY> variables override its keys \
(LISTENER_DATABASE_URL, LISTENER_METRICS_ADDRESS…). Logs: JSON lines (LOG_FORMAT=text), level from RUST_LOG.";

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let load = || ListenerConfig::load(&service_kit::config_argument(LISTENER_USAGE)?);
    service_kit::main(load, listener::startup::run).await
}
