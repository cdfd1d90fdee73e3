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
//! referral-asset params --plan generation [--decimals 6]
//! referral-asset list
//! ```
//!
//! The parameter file (backend/PLAN-PARAMS.md) is the plan's parameters as JSON with one more field,
//! `"amounts_in"`: `"token"` — every amount in the asset's own units (`"20"`, `"0.05"`), converted with the decimals
//! read from the token — or `"base"` — base units, as the API and `GET /v1/admin/plan` have them. A file without it
//! is refused: the same digits mean 10^decimals times more in one than in the other. `params` prints a plan's
//! defaults as such a file (in token units), and a dry run prints the asset's parameters as one
//! (`"params_file"`), to save and edit.

use std::process::ExitCode;

use backend::{assets, chains::ChainAccess, config::Settings};
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
        /// The plan the asset runs, for good: auto_pool (PLAN.md), generation (PLAN-GENERATION.md) or binary
        /// (PLAN-BINARY.md).
        #[arg(long, value_parser = parse_plan)]
        plan: PlanKind,
        /// A JSON file with the plan's complete parameter set and `"amounts_in": "token"` (amounts in the asset's
        /// own units) or `"base"` (base units) (backend/PLAN-PARAMS.md; `referral-asset params` writes one); default:
        /// the plan's defaults in the coin's unit (a whole token; a thousandth of BNB, 4 TRX on a real network).
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
    /// Prints a plan's defaults as a parameter file in token units (`"amounts_in": "token"`), to save and edit.
    Params {
        /// The plan: auto_pool, generation or binary.
        #[arg(long, value_parser = parse_plan)]
        plan: PlanKind,
        /// The token's decimals (USDT: 6 on TRON, 18 on BSC): amounts are written in whole tokens either way, the
        /// decimals only bound how finely.
        #[arg(long, default_value_t = 18)]
        decimals: u8,
    },
    /// Lists every asset.
    List,
}

fn parse_plan(text: &str) -> Result<PlanKind, String> {
    PlanKind::parse(text).ok_or_else(|| format!("{text:?} is no plan: {}", PlanKind::names()))
}

/// The field of a parameter file that says what its amounts count in.
const AMOUNTS_IN: &str = "amounts_in";

/// A parameter file's contents as the API takes them (base units), read with the token's `decimals`.
fn params_from_file(plan: PlanKind, file: serde_json::Value, decimals: u8) -> eyre::Result<serde_json::Value> {
    let serde_json::Value::Object(mut fields) = file else {
        eyre::bail!("the parameter file is not a JSON object (backend/PLAN-PARAMS.md)")
    };
    let room = ledger::plan::params_of(plan);
    let refused = |e: ledger::plan::InvalidParams| eyre::eyre!("invalid_plan: {e}");
    match fields.remove(AMOUNTS_IN).as_ref().and_then(|v| v.as_str()) {
        Some("token") => room.read_token_units(u32::from(decimals), &fields.into()).map_err(refused),
        Some("base") => room.read(&fields.into()).map_err(refused),
        _ => eyre::bail!(
            "the parameter file must say what its amounts count in: \"{AMOUNTS_IN}\": \"token\" (the asset's own \
             units, \"20\" or \"0.05\") or \"base\" (base units, as the API shows them); the same digits differ by \
             10^decimals (backend/PLAN-PARAMS.md)"
        ),
    }
}

/// `stored` parameters as a parameter file in token units.
fn params_file(plan: PlanKind, stored: &serde_json::Value, decimals: u8) -> eyre::Result<serde_json::Value> {
    let in_units = ledger::plan::params_of(plan)
        .to_token_units(u32::from(decimals), stored)
        .map_err(|e| eyre::eyre!("invalid_plan: {e}"))?;
    let mut file = serde_json::Map::new();
    file.insert(AMOUNTS_IN.into(), "token".into());
    file.extend(in_units.as_object().cloned().unwrap_or_default());
    Ok(file.into())
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
    if let Command::Params { plan, decimals } = cli.command {
        let stored = ledger::plan::params_of(plan).defaults(u32::from(decimals));
        println!("{}", serde_json::to_string_pretty(&params_file(plan, &stored, decimals)?)?);
        return Ok(());
    }
    let settings = Settings::load()?;
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(secrecy::ExposeSecret::expose_secret(&settings.database.url))
        .await?;
    ledger::db::migrate(&db).await?;
    match cli.command {
        Command::Params { .. } => unreachable!("answered before the configuration is read"),
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
            let file: Option<serde_json::Value> = match params {
                Some(path) => {
                    let size = std::fs::metadata(&path)?.len();
                    eyre::ensure!(size <= PARAMS_MAX_BYTES, "{} is over {PARAMS_MAX_BYTES} bytes", path.display());
                    Some(serde_json::from_str(&std::fs::read_to_string(&path)?)?)
                }
                None => None,
            };
            let address = |text: &str, field: &str| {
                backend::auth::siwe::parse_address(text, field).map_err(|e| eyre::eyre!("{e}"))
            };
            let token = if token == "native" { alloy::primitives::Address::ZERO } else { address(&token, "token")? };
            let refused = |e: backend::refusal::Refusal| eyre::eyre!("{}: {e}", e.code());
            // A file's amounts in token units are read at the token's decimals.
            let params = match file {
                Some(file) => {
                    let (decimals, _) =
                        assets::token_metadata(chain, &access.provider, token).await.map_err(refused)?;
                    Some(params_from_file(plan, file, decimals)?)
                }
                None => None,
            };
            let request = assets::AssetRequest {
                id,
                chain_id,
                token,
                symbol,
                genesis: address(&genesis, "genesis")?,
                plan,
                params,
            };
            let asset = assets::check(&db, chain, &access.provider, &request).await.map_err(refused)?;
            if !dry_run {
                let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
                assets::create(&db, &asset, &format!("referral-asset ({user})")).await.map_err(refused)?;
            }
            let params_file = params_file(plan, &asset.params, asset.decimals)?;
            println!("{}", serde_json::json!({ "created": !dry_run, "asset": asset, "params_file": params_file }));
            Ok(())
        }
    }
}
