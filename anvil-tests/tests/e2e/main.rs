//! End-to-end tests: the real binaries (listener, reconciler, signer, backend) as processes against anvil,
//! Postgres and Redis. Each test has its own anvil, scratch databases, ports and Redis key prefix.

mod full_flow;
mod listener_crash;
mod reconciler_variance;
mod rpc_faults;
mod service_crash;

use std::time::Duration;

use alloy::{
    primitives::{Address, U256},
    providers::ext::AnvilApi,
    signers::local::PrivateKeySigner,
};
use anvil_tests::devchain::DevChain;
use anvil_tests::services::{Service, WorkDir, listener_config};
use sqlx::PgPool;

pub const CHAIN: u64 = 31337;
pub const CONFIRMATIONS: u64 = 2;
pub const BNB: u128 = 1_000_000_000_000_000_000;
pub const USDT: u128 = 1_000_000;
/// Upper bound on any wait for the services (they are debug builds on a shared machine).
pub const LIMIT: Duration = Duration::from_secs(120);

/// What a registration stream sent.
#[derive(Debug)]
pub struct Sent {
    /// Block of the last transaction.
    pub last_block: u64,
    pub native: usize,
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
    let config =
        listener_config(database_url, CHAIN, rpc_url, chain.settlement, chain.deploy_block, CONFIRMATIONS, tuning);
    let path = dir.write(&format!("{name}.toml"), &config)?;
    Service::start(dir, name, "listener", &[path.to_str().expect("utf-8 path")], &[])
}
