//! End-to-end tests: the real binaries (listener, reconciler, signer, backend) as processes against anvil,
//! Postgres and Redis. Each test has its own anvil, scratch databases, ports and Redis key prefix.

mod backup_restore;
mod chain_clock;
mod exit_drill;
mod floor;
mod full_flow;
mod generation_flow;
mod guides;
mod hsm;
mod leave;
mod listener_crash;
mod notify_crash;
mod payout_caps;
mod reconciler_variance;
mod rehearsal;
mod rpc_faults;
mod sales_flow;
mod service_crash;
mod signer_rotation;
mod solvency_flow;
mod tron_exit_drill;
mod tron_flow;
mod upgrade_switch;

use std::time::Duration;

use alloy::{
    primitives::{Address, U256},
    providers::ext::AnvilApi,
    signers::local::PrivateKeySigner,
};
use anvil_tests::devchain::DevChain;
use anvil_tests::services::{Service, WorkDir, chain_spec, listener_config};
use sqlx::PgPool;

/// anvil's chain id.
pub const CHAIN: u64 = 31337;
/// The confirmation depth the listener and the reconciler are started with.
pub const CONFIRMATIONS: u64 = 2;
/// Base units of one native coin (18 decimals).
pub const BNB: u128 = 1_000_000_000_000_000_000;
/// Base units of one test USDT (6 decimals).
pub const USDT: u128 = 1_000_000;
/// Upper bound on any wait for the services (they are debug builds on a shared machine).
pub const LIMIT: Duration = Duration::from_secs(120);

/// What a registration stream sent.
#[derive(Debug)]
pub struct Sent {
    /// Block of the last transaction.
    pub last_block: u64,
    /// Wallets that registered with the native coin.
    pub native: usize,
    /// Wallets that registered with test USDT.
    pub usdt: usize,
}

/// `count` new wallets register one after another, `pace` apart, alternating native coin (20 BNB) and test
/// USDT (20 USDT); in each asset the first is sponsored by genesis and the k-th by the ((k-1)/2)-th, so the
/// tree has depth. Nonces start at `first_nonce`.
pub async fn registration_stream(
    chain: &DevChain,
    count: usize,
    pace: Duration,
    first_nonce: u64,
) -> eyre::Result<Sent> {
    let genesis = chain.admin.address();
    let (mut native, mut usdt): (Vec<Address>, Vec<Address>) = (Vec::new(), Vec::new());
    let mut last_block = 0;
    for i in 0..count {
        let user = PrivateKeySigner::random();
        chain.provider.anvil_set_balance(user.address(), U256::from(100 * BNB)).await?;
        let nonce = first_nonce + i as u64;
        let in_native = i % 2 == 0;
        let members = if in_native { &mut native } else { &mut usdt };
        let sponsor = if members.is_empty() { genesis } else { members[(members.len() - 1) / 2] };
        last_block = if in_native {
            chain.register_native(&user, sponsor, U256::from(20 * BNB), nonce).await?
        } else {
            chain.register_usdt(&user, sponsor, U256::from(20 * USDT), nonce).await?
        };
        members.push(user.address());
        tokio::time::sleep(pace).await;
    }
    Ok(Sent { last_block, native: native.len(), usdt: usdt.len() })
}

/// The `i64` that query `sql` returns; panics when it fails.
pub async fn scalar_i64(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

/// Users registered per asset (genesis excluded), and chain events not applied.
pub async fn ledger_counts(pool: &PgPool) -> (i64, i64, i64) {
    (
        scalar_i64(pool, "SELECT count(*) FROM users WHERE asset_id = 1 AND user_no > 0").await,
        scalar_i64(pool, "SELECT count(*) FROM users WHERE asset_id = 2 AND user_no > 0").await,
        scalar_i64(pool, "SELECT count(*) FROM chain_events WHERE outcome <> 'applied'").await,
    )
}

/// The listener binary as process `name` (config `<name>.toml` in `dir`), following `chain`'s Settlement through
/// `rpc_url` (anvil's own, or a proxy in front of it) into the database at `database_url`.
pub fn start_listener(
    dir: &WorkDir,
    name: &str,
    chain: &DevChain,
    database_url: &str,
    rpc_url: &str,
    tuning: &str,
) -> eyre::Result<Service> {
    start_listener_with_metrics(dir, name, chain, database_url, rpc_url, tuning, None)
}

/// As [`start_listener`], serving `GET /metrics` on `metrics_port` when given (`LISTENER_METRICS_ADDRESS`).
pub fn start_listener_with_metrics(
    dir: &WorkDir,
    name: &str,
    chain: &DevChain,
    database_url: &str,
    rpc_url: &str,
    tuning: &str,
    metrics_port: Option<u16>,
) -> eyre::Result<Service> {
    let spec = chain_spec(CHAIN, chain.settlement, rpc_url, CONFIRMATIONS, chain.deploy_block, None);
    let spec = dir.write(&format!("{name}-chains.toml"), &spec)?;
    let path = dir.write(&format!("{name}.toml"), &listener_config(database_url, &spec, CHAIN, tuning))?;
    let address = metrics_port.map(|p| format!("127.0.0.1:{p}"));
    let envs: Vec<(&str, &str)> = address.iter().map(|a| ("LISTENER_METRICS_ADDRESS", a.as_str())).collect();
    Service::start(dir, name, "listener", &[path.to_str().expect("utf-8 path")], &envs)
}

/// The reconciler binary as process `reconciler`, checking `chain`'s Settlement every second against the ledger at
/// `database_url`.
pub fn start_reconciler(dir: &WorkDir, chain: &DevChain, database_url: &str) -> eyre::Result<Service> {
    start_reconciler_with_metrics(dir, chain, database_url, None)
}

/// As [`start_reconciler`], serving `GET /metrics` on `metrics_port` when given (with the operator — the contract
/// admin — for `operator_balance`).
pub fn start_reconciler_with_metrics(
    dir: &WorkDir,
    chain: &DevChain,
    database_url: &str,
    metrics_port: Option<u16>,
) -> eyre::Result<Service> {
    let metrics = match metrics_port {
        Some(port) => format!("metrics_address = \"127.0.0.1:{port}\"\n"),
        None => String::new(),
    };
    let spec = dir.write("reconciler-chains.toml", &reconciler_spec(chain))?;
    let config = format!(
        "database_url = \"{database_url}\"\ninterval_secs = 1\nchain_spec = \"{}\"\n{metrics}\n[[chains]]\n\
         chain_id = {CHAIN}\noperator = \"{}\"\n",
        spec.display(),
        chain.admin.address()
    );
    let path = dir.write("reconciler.toml", &config)?;
    Service::start(dir, "reconciler", "reconciler", &[path.to_str().expect("utf-8 path")], &[])
}

/// The chain spec the reconciler reads `chain` through: its anvil, the listener's confirmations.
pub fn reconciler_spec(chain: &DevChain) -> String {
    chain_spec(CHAIN, chain.settlement, &chain.rpc_url(), CONFIRMATIONS, chain.deploy_block, None)
}

/// The metrics catalogue (`ops/metrics.md`): every metric a service must export, as (name, type).
pub fn metrics_catalogue() -> Vec<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/metrics.md");
    let text = std::fs::read_to_string(&path).expect("ops/metrics.md");
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let kind = *cells.get(2)?;
            ["counter", "gauge", "histogram"].contains(&kind).then(|| (name.to_owned(), kind.to_owned()))
        })
        .collect()
}

/// `GET url` as text.
pub async fn scrape(url: &str) -> eyre::Result<String> {
    let response = reqwest::get(url).await?;
    eyre::ensure!(response.status().is_success(), "{url}: HTTP {}", response.status());
    Ok(response.text().await?)
}

/// The value of the sample `series` (name with its labels, exactly as exported).
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}
