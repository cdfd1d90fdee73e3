//! `signer --config signer.toml [--insecure-dev-key]`: parses configuration and runs the service until Ctrl-C or
//! SIGTERM.

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
    let load = || {
        let args = Args::parse();
        Ok(FileConfig::load(&args.config)?.resolve(&ProcessEnv, args.insecure_dev_key)?)
    };
    service_kit::main(load, signer::startup::serve).await
}
