//! `signer --config signer.toml [--insecure-dev-key]`: parses configuration and runs the service until Ctrl-C or
//! SIGTERM. `signer hsm-keygen …`: the key ceremony — creates the signing key in a PKCS#11 token and prints its
//! address, never the key.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand};
use signer::{
    config::{FileConfig, ProcessEnv, SecretRef, token_pin},
    key::pkcs11::{self, TokenRef},
};

#[derive(Debug, Parser)]
#[command(about = "Signs EIP-712 authorisations for the Settlement contract, after policy checks")]
#[command(args_conflicts_with_subcommands = true)]
struct Args {
    /// TOML config file (see signer.example.toml); `SIGNER_BIND`, `SIGNER_STORE_PATH`, `SIGNER_KEYSTORE` override it.
    #[arg(long, env = "SIGNER_CONFIG")]
    config: Option<PathBuf>,
    /// Sign with the raw key named by `[key] insecure_dev_key` instead of the configured key. Tests only: the devnet
    /// signs through SoftHSM2, production through its HSM (`[key.pkcs11]`).
    #[arg(long)]
    insecure_dev_key: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The key ceremony: generates a secp256k1 key pair in a PKCS#11 token — sensitive, never extractable — and
    /// prints its address (the `address` of `[key.pkcs11]`, and the contract's signer). Refuses a label in use.
    HsmKeygen(Keygen),
}

#[derive(Debug, ClapArgs)]
struct Keygen {
    /// The PKCS#11 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so).
    #[arg(long)]
    module: PathBuf,
    /// The token's label.
    #[arg(long, conflicts_with = "slot", required_unless_present = "slot")]
    token_label: Option<String>,
    /// The token's slot id.
    #[arg(long)]
    slot: Option<u64>,
    /// The new key pair's label.
    #[arg(long)]
    key_label: String,
    /// The environment variable holding the user PIN.
    #[arg(long, default_value = "SIGNER_HSM_PIN", conflicts_with = "pin_file")]
    pin_env: String,
    /// A file holding the user PIN (mode 0600 or stricter), instead of `--pin-env`.
    #[arg(long)]
    pin_file: Option<PathBuf>,
}

fn keygen(args: Keygen) -> eyre::Result<()> {
    let source = match args.pin_file {
        Some(file) => SecretRef { env: None, file: Some(file) },
        None => SecretRef { env: Some(args.pin_env), file: None },
    };
    let pin = token_pin(&source, &ProcessEnv)?;
    let token = match (args.token_label, args.slot) {
        (Some(label), _) => TokenRef::Label(label),
        (None, Some(slot)) => TokenRef::Slot(slot),
        (None, None) => eyre::bail!("give --token-label or --slot"),
    };
    let address = pkcs11::generate(&args.module, &token, &args.key_label, &pin)?;
    // Only the address: the key never leaves the token, and nothing else is needed to configure or rotate to it.
    println!("{address}");
    Ok(())
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let args = Args::parse();
    if let Some(Command::HsmKeygen(keygen_args)) = args.command {
        let made = keygen(keygen_args);
        pkcs11::finalise_all();
        return made;
    }
    let load = move || {
        let config = args.config.ok_or_else(|| eyre::eyre!("--config (or SIGNER_CONFIG) is required"))?;
        Ok(FileConfig::load(&config)?.resolve(&ProcessEnv, args.insecure_dev_key)?)
    };
    let ended = service_kit::main(load, signer::startup::serve).await;
    // The service has stopped (its writer, holding the keys, with it): the token's library is finalised before the
    // process's exit handlers tear it down, whatever might still hold a session.
    pkcs11::finalise_all();
    ended
}
