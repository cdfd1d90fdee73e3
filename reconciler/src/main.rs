//! `reconciler <config.toml>`: reconciles every chain of the chain spec on a schedule and on request until Ctrl-C or
//! SIGTERM.

use reconciler::config::ReconcilerConfig;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let load = || ReconcilerConfig::load(&service_kit::config_argument("reconciler <config.toml>")?);
    service_kit::main(load, reconciler::startup::run).await
}
