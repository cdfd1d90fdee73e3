//! `signer --config signer.toml [--insecure-dev-key]`: parses configuration and runs the service.

use std::path::PathBuf;

use clap::Parser;
use signer::config::{FileConfig, ProcessEnv};

#[derive(Debug, Parser)]
#[command(about = "Signs EIP-712 authorisations for the Settlement contract, after policy checks")]
struct Args {
    /// TOML config file (see signer.example.toml); `SIGNER_BIND`, `SIGNER_STORE_PATH`, `SIGNER_KEYSTORE` override it.
    #[arg(long, env = "SIGNER_CONFIG")]
    config: PathBuf,
    /// Sign with the raw key named by `[key] insecure_dev_key` instead of the keystore. Development only.
    #[arg(long)]
    insecure_dev_key: bool,
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    signer::telemetry::init();
    let args = Args::parse();
    let settings = FileConfig::load(&args.config)?.resolve(&ProcessEnv, args.insecure_dev_key)?;
    let (_, server) = signer::startup::run_until(settings, service_kit::shutdown_signal()).await?;
    server.await?;
    Ok(())
}
