//! `referral-deploy`: deploys the Settlement contract to a real network from a profile and records it in the
//! chain spec (see the `deploy` crate). The deployer's key comes from an encrypted keystore whose passphrase is in
//! `DEPLOYER_KEYSTORE_PASSPHRASE`; a raw key (`--insecure-deployer-key`) is for local networks only and refused on
//! a mainnet profile.
//!
//! ```text
//! referral-deploy --profile bsc-testnet --rpc-url https://… --admin <safe> --signer <key address> \
//!   --operator <address> --treasurer <address> --pauser <address> --deployer-keystore deployer.json \
//!   --spec chains.toml --record deployments/bsc-testnet.json [--dry-run]
//! ```

use std::{path::PathBuf, process::ExitCode};

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use clap::Parser;
use deploy::{Keys, Options, TronEndpoints, deploy, profile};

/// Deploys the Settlement contract from a profile (bsc-mainnet, bsc-testnet, tron-mainnet, tron-nile).
#[derive(Parser, Debug)]
#[command(name = "referral-deploy")]
struct Cli {
    /// bsc-mainnet, bsc-testnet, tron-mainnet or tron-nile.
    #[arg(long)]
    profile: String,
    /// The network's JSON-RPC (TRON: the full node's); recorded in the chain spec.
    #[arg(long)]
    rpc_url: String,
    /// TRON: the full node's gRPC (java-tron's Wallet), which the deployment sends through.
    #[arg(long)]
    tron_grpc_url: Option<String>,
    /// TRON: the Solidity node's gRPC (WalletSolidity).
    #[arg(long)]
    tron_solidity_grpc_url: Option<String>,
    /// TRON: the Solidity node's JSON-RPC.
    #[arg(long)]
    tron_solidity_rpc_url: Option<String>,
    /// TRON: the environment variable holding the provider's API key (sent as TRON-PRO-API-KEY, recorded as the
    /// chain spec's api_key_env).
    #[arg(long)]
    tron_api_key_env: Option<String>,
    /// The contract's admin: a Safe on mainnet (0x…, or T… on TRON).
    #[arg(long)]
    admin: String,
    /// The signer service's key address.
    #[arg(long)]
    signer: String,
    /// The payout operator (OPERATOR_ROLE).
    #[arg(long)]
    operator: String,
    /// The treasurer (TREASURER_ROLE).
    #[arg(long)]
    treasurer: String,
    /// The pauser (PAUSER_ROLE).
    #[arg(long)]
    pauser: String,
    /// Another USDT than the profile's (testnets only).
    #[arg(long)]
    usdt: Option<String>,
    /// The deployer's encrypted JSON keystore (passphrase in DEPLOYER_KEYSTORE_PASSPHRASE).
    #[arg(long)]
    deployer_keystore: Option<PathBuf>,
    /// A raw hex deployer key: local networks only (refused on a mainnet profile).
    #[arg(long, env = "DEPLOYER_KEY", hide_env_values = true)]
    insecure_deployer_key: Option<String>,
    /// Seconds every change of the signer, a money role, an allowed token or the push gas waits (default: the
    /// profile's, 3 days; at least 2 days on mainnet).
    #[arg(long)]
    delay_secs: Option<u64>,
    /// The chain spec the deployment is appended to.
    #[arg(long)]
    spec: PathBuf,
    /// Where the JSON record is written.
    #[arg(long)]
    record: PathBuf,
    /// Check and print every step; send nothing.
    #[arg(long)]
    dry_run: bool,
}

fn address(field: &str, text: &str) -> eyre::Result<Address> {
    text.parse::<Address>()
        .ok()
        .or_else(|| abi::tron::from_base58(text).ok())
        .ok_or_else(|| eyre::eyre!("--{field}: not an address: {text}"))
}

fn raw_key(text: &str) -> eyre::Result<PrivateKeySigner> {
    Ok(text.trim().parse::<PrivateKeySigner>()?)
}

async fn run(cli: Cli) -> eyre::Result<()> {
    let profile = profile(&cli.profile)?;
    let deployer = match (&cli.deployer_keystore, &cli.insecure_deployer_key) {
        (Some(path), None) => {
            let passphrase = std::env::var("DEPLOYER_KEYSTORE_PASSPHRASE")
                .map_err(|_| eyre::eyre!("DEPLOYER_KEYSTORE_PASSPHRASE is not set"))?;
            PrivateKeySigner::decrypt_keystore(path, passphrase)?
        }
        (None, Some(key)) => {
            eyre::ensure!(!profile.mainnet, "{}: a raw deployer key is refused on mainnet", profile.name);
            raw_key(key)?
        }
        _ => eyre::bail!("give exactly one of --deployer-keystore and --insecure-deployer-key"),
    };
    let tron = match (cli.tron_grpc_url, cli.tron_solidity_rpc_url) {
        (Some(grpc_url), Some(solidity_rpc_url)) => Some(TronEndpoints {
            grpc_url,
            solidity_grpc_url: cli.tron_solidity_grpc_url,
            solidity_rpc_url,
            api_key_env: cli.tron_api_key_env,
        }),
        (None, None) => None,
        _ => eyre::bail!("a TRON deployment needs both --tron-grpc-url and --tron-solidity-rpc-url"),
    };
    let options = Options {
        profile,
        rpc_url: cli.rpc_url,
        tron,
        admin: address("admin", &cli.admin)?,
        signer: address("signer", &cli.signer)?,
        operator: address("operator", &cli.operator)?,
        treasurer: address("treasurer", &cli.treasurer)?,
        pauser: address("pauser", &cli.pauser)?,
        usdt: cli.usdt.as_deref().map(|u| address("usdt", u)).transpose()?,
        delay_secs: cli.delay_secs,
        dry_run: cli.dry_run,
        spec: cli.spec,
        record: cli.record,
    };
    let outcome = deploy(&options, &Keys { deployer }).await?;
    print!("{}", outcome.steps);
    if let Some(record) = outcome.record {
        println!("{}", serde_json::to_string_pretty(&record)?);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("referral-deploy: {e:#}");
            ExitCode::FAILURE
        }
    }
}
