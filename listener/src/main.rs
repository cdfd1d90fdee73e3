//! `listener <config.toml>`: follows every chain of the chain spec into the ledger; a second instance stands by.

use listener::config::ListenerConfig;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let load = || ListenerConfig::load(&service_kit::config_argument("listener <config.toml>")?);
    service_kit::main(load, listener::startup::run).await
}
