//! `referral-asset`: creates the ledger's assets from the command line, by the path the console's
//! `POST /v1/admin/assets` takes ([`backend::assets`]): decimals (and the symbol, unless given) read from the token,
//! the token checked to be allowed on the chain's Settlement contract, the plan's parameters checked by its own rules,
//! created and audited (`create_asset`, the actor `referral-asset (<user>)`). Reads the API's configuration
//! (`APP_CONFIG`, default `backend/configuration.toml`, with `APP_…` variables and the chain spec it names); needs no
//! key. Prints the asset as JSON.
//!
//! ```text
//! referral-asset create --chain-id 97 --token 0x… --genesis 0x… --plan auto_pool [--params plan.json]
//!                       [--symbol USDT] [--id 2] [--dry-run]
//! referral-asset list
//! ```

use std::process::ExitCode;

use backend::{assets, config::Settings, http::chains::ChainAccess};
use clap::{Parser, Subcommand};
use ledger::plan::PlanKind;

#[derive(Parser)]
#[command(name = "referral-asset", about = "Creates and lists the ledger's assets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates an asset (or with --dry-run shows what would be created).
    Create {
        /// The chain whose Settlement contract holds the asset.
        #[arg(long)]
        chain_id: u64,
        /// The token (0x or TRON base58), or `native` for the chain's coin.
        #[arg(long)]
        token: String,
        /// The operator's root wallet: user 0 of the asset.
        #[arg(long)]
        genesis: String,
        /// The plan the asset runs, for good: auto_pool (PLAN.md) or generation (PLAN-GENERATION.md).
        #[arg(long, value_parser = parse_plan)]
        plan: PlanKind,
        /// A JSON file with the plan's complete parameter set (amounts in base units); default: the plan's defaults at
        /// the token's decimals.
        #[arg(long)]
        params: Option<std::path::PathBuf>,
        /// The symbol shown beside amounts; default: the token's own.
        #[arg(long)]
        symbol: Option<String>,
        /// The ledger id; default: one above the highest.
        #[arg(long)]
        id: Option<i32>,
        /// Check and show, create nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Lists every asset.
    List,
}

fn parse_plan(text: &str) -> Result<PlanKind, String> {
    PlanKind::parse(text).ok_or_else(|| format!("{text:?} is no plan: auto_pool, generation or binary"))
}

/// Longest parameter file read (a plan's parameters are a few kilobytes).
const PARAMS_MAX_BYTES: u64 = 64 * 1024;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("referral-asset: {}", service_kit::redact::text(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> eyre::Result<()> {
    let settings = Settings::load()?;
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(secrecy::ExposeSecret::expose_secret(&settings.database.url))
        .await?;
    ledger::db::migrate(&db).await?;
    match cli.command {
        Command::List => {
            for (id, info) in ledger::assets(&db).await? {
                println!(
                    "{}",
                    serde_json::json!({ "id": id, "chain_id": info.chain_id, "token": info.token.to_checksum(None),
                        "symbol": info.symbol, "decimals": info.decimals })
                );
            }
            Ok(())
        }
        Command::Create { chain_id, token, genesis, plan, params, symbol, id, dry_run } => {
            let chain = settings
                .chains
                .iter()
                .find(|c| c.spec.chain_id == chain_id)
                .ok_or_else(|| eyre::eyre!("chain {chain_id} is not in the chain spec"))?;
            let access = ChainAccess::from_settings(chain, None)?
                .ok_or_else(|| eyre::eyre!("chain {chain_id} has no rpc_url in the chain spec"))?;
            let params = match params {
                Some(path) => {
                    let size = std::fs::metadata(&path)?.len();
                    eyre::ensure!(size <= PARAMS_MAX_BYTES, "{} is over {PARAMS_MAX_BYTES} bytes", path.display());
                    Some(serde_json::from_str(&std::fs::read_to_string(&path)?)?)
                }
                None => None,
            };
            let address = |text: &str, field: &str| {
                backend::http::extract::parse_address(text, field).map_err(|e| eyre::eyre!("{e}"))
            };
            let request = assets::AssetRequest {
                id,
                chain_id,
                token: if token == "native" { alloy::primitives::Address::ZERO } else { address(&token, "token")? },
                symbol,
                genesis: address(&genesis, "genesis")?,
                plan,
                params,
            };
            let refused = |e: backend::http::error::ApiError| eyre::eyre!("{}: {e}", e.code());
            let asset = assets::check(&db, chain, &access.provider, &request).await.map_err(refused)?;
            if !dry_run {
                let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
                assets::create(&db, &asset, &format!("referral-asset ({user})")).await.map_err(refused)?;
            }
            println!("{}", serde_json::json!({ "created": !dry_run, "asset": asset }));
            Ok(())
        }
    }
}
