//! `preflight`: checks the live configuration the API would start with (`APP_CONFIG`, default
//! `backend/configuration.toml`, overlaid with `APP_…` variables, and the chain spec it names) against the chains:
//! chain ids, the deployed Settlement, its signer against the signer service's key, each payout operator's role and
//! balance, a multisig admin on mainnet, the family's push gas, TRON's Solidity endpoints and their network, the
//! start block, anvil's well-known keys, one key in two money roles on mainnet, the signer's own nodes, TLS on
//! mainnet. Prints one line per finding (URLs redacted), skipped checks included with why; exits 0 only when nothing
//! failed and nothing was left unchecked (`--json`: the findings as JSON).

use std::process::ExitCode;

use backend::{chains::ChainRegistry, config::Settings};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("preflight: {}", service_kit::redact::text(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

async fn run() -> eyre::Result<bool> {
    let json = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--json") => true,
        Some(other) => eyre::bail!("unknown argument {other:?}; usage: preflight [--json]"),
    };
    let settings = Settings::load()?;
    let chains = ChainRegistry::from_settings(&settings.chains)?;
    let signer = settings
        .signer
        .as_ref()
        .map(|s| signer_client::SignerClient::new(s.url.clone(), s.caller_id.clone(), s.caller_secret.clone()));
    let findings = backend::preflight::check(&settings, &chains, signer.as_ref()).await;
    let (text, pass) = preflight::render(&findings);
    if json {
        println!("{}", serde_json::json!({ "pass": pass, "findings": findings }));
    } else {
        print!("{text}");
    }
    Ok(pass)
}
