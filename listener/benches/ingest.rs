//! Listener ingestion benchmark: registrations from distinct wallets mined into blocks on anvil, followed into
//! the Postgres ledger. Prints events/s beside the raw rate of reading and decoding the same logs with the
//! same provider (a ratio, one run), and the delay from a block reaching the confirmation depth to its rows
//! being in the ledger (blocks made deep at moments spread evenly over the listener's poll period).
//!
//! Then the same for the TRON path: the same chain read through TRON's JSON-RPC (the stand-in of
//! `tron_devnode::jsonrpc`, a Solidity node's port) by a listener in TRON mode — blocks with their transactions,
//! the direct-call check, solidified = head − 19 — into a second ledger, beside the EVM figures of the same run.
//!
//! `cargo bench -p listener --bench ingest` runs 10,000 registrations; under `cargo test` it is a smoke run.

use std::time::{Duration, Instant};

use abi::{NATIVE_TOKEN, Registration, Settlement};
use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    rpc::types::{Filter, TransactionRequest},
    sol_types::SolCall,
};
use anvil_tests::{
    devchain::{DevChain, native_ledger_db},
    tron_rpc::{SOLIDIFY_DEPTH, TronFaults, TronRpc},
};
use futures::{StreamExt, TryStreamExt, stream};
use ledger::{ChainLedger, db::ScratchDatabase};
use listener::{ChainFollower, FollowerConfig, follower::TronFinality, service::ChainListener};

const BNB: u128 = 1_000_000_000_000_000_000;
const CHAIN: u64 = 31337;
const CONFIRMATIONS: u64 = 3;
const PER_BLOCK: usize = 200;
const POLL: Duration = Duration::from_millis(100);

struct Bench {
    chain: DevChain,
    /// No wallet: anvil signs for impersonated users.
    unsigned: DynProvider,
    users: Vec<Address>,
}

fn user(i: usize) -> Address {
    Address::from_slice(&keccak256((i as u64).to_be_bytes())[12..])
}

impl Bench {
    /// Registers users `from..to` (sponsors registered in earlier blocks) and mines them into blocks.
    async fn register_range(&mut self, from: usize, to: usize) -> eyre::Result<()> {
        let fee = U256::from(20 * BNB);
        for chunk_start in (from..to).step_by(PER_BLOCK) {
            let chunk_end = (chunk_start + PER_BLOCK).min(to);
            let deadline = self.chain.deadline().await?;
            let requests: Vec<TransactionRequest> = (chunk_start..chunk_end)
                .map(|i| {
                    let me = user(i);
                    let sponsor = if chunk_start == 0 {
                        self.chain.admin.address()
                    } else {
                        self.users[(i * 7919) % chunk_start]
                    };
                    let payload = Registration {
                        user: me,
                        sponsor,
                        token: NATIVE_TOKEN,
                        amount: fee,
                        nonce: U256::from(i + 1),
                        deadline,
                    };
                    let call = Settlement::registerCall { r: payload.clone(), signature: self.chain.sign(&payload) };
                    TransactionRequest::default()
                        .with_from(me)
                        .with_to(self.chain.settlement)
                        .with_value(fee)
                        .with_input(call.abi_encode())
                        .with_nonce(0)
                        .with_gas_limit(250_000)
                        .with_max_fee_per_gas(10_000_000_000)
                        .with_max_priority_fee_per_gas(1)
                })
                .collect();
            for i in chunk_start..chunk_end {
                self.chain.provider.anvil_set_balance(user(i), U256::from(21 * BNB)).await?;
            }
            let unsigned = &self.unsigned;
            stream::iter(requests)
                .map(|tx| async move { unsigned.send_transaction(tx).await.map(|_| ()) })
                .buffered(32)
                .try_collect::<Vec<_>>()
                .await?;
            self.chain.provider.evm_mine(None).await?;
            self.users.extend((chunk_start..chunk_end).map(user));
        }
        Ok(())
    }
}

async fn ledger_db(genesis: Address) -> eyre::Result<ScratchDatabase> {
    native_ledger_db(CHAIN, genesis).await
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let full = std::env::args().any(|a| a == "--bench");
    let (registrations, delay_samples) = if full { (10_000, 20) } else { (400, 2) };

    let chain = DevChain::start().await?;
    chain.provider.anvil_auto_impersonate_account(true).await?;
    chain.provider.anvil_set_auto_mine(false).await?;
    let unsigned = ProviderBuilder::new().connect_http(chain.anvil.endpoint_url()).erased();
    let mut bench = Bench { chain, unsigned, users: Vec::new() };
    let started = Instant::now();
    bench.register_range(0, registrations).await?;
    bench.chain.provider.anvil_mine(Some(CONFIRMATIONS), None).await?;
    let head = bench.chain.provider.get_block_number().await?;
    println!("mined {registrations} registrations in {} blocks ({:.1} s)", head, started.elapsed().as_secs_f64());

    // Raw: read and decode the same logs in one range with the same provider.
    let raw_started = Instant::now();
    let logs = bench
        .chain
        .provider
        .get_logs(&Filter::new().address(bench.chain.settlement).from_block(1).to_block(head - CONFIRMATIONS))
        .await?;
    let decoded = logs.iter().filter(|l| l.log_decode::<Settlement::Registered>().is_ok()).count();
    let raw_secs = raw_started.elapsed().as_secs_f64();
    assert_eq!(decoded, registrations);

    // Ledger: the listener from an empty database to the confirmed head.
    let db = ledger_db(bench.chain.admin.address()).await?;
    let config =
        FollowerConfig { max_range: 5_000, ..FollowerConfig::new(CHAIN, bench.chain.settlement, CONFIRMATIONS) };
    let follower = ChainFollower::new(bench.chain.provider.clone(), config);
    let listener = ChainListener::new(follower, ChainLedger::open(db.pool.clone(), CHAIN).await?, 1);
    let raw_rate = registrations as f64 / raw_secs;
    let (listener, evm_rate) = ingest("listener → ledger", listener, registrations).await?;
    println!("raw getLogs+decode: {raw_rate:>8.0} events/s ({raw_secs:.2} s)  ledger/raw = {:.2}", evm_rate / raw_rate);
    let evm_delay = delays(&mut bench, listener, &db, CONFIRMATIONS, delay_samples, "confirmation").await?;

    // The TRON path: the same chain through TRON's JSON-RPC, a TRON-mode listener, a ledger of its own.
    let tron = TronRpc::start(&bench.chain.rpc_url(), TronFaults::default()).await?;
    bench.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    let tron_db = ledger_db(bench.chain.admin.address()).await?;
    let solidity = ProviderBuilder::new().connect_http(tron.solidity_url.parse()?).erased();
    let config = FollowerConfig::new(CHAIN, bench.chain.settlement, 0).on_tron(TronFinality::SolidityLatest);
    let listener = ChainListener::new(
        ChainFollower::new(solidity, config),
        ChainLedger::open(tron_db.pool.clone(), CHAIN).await?,
        1,
    );
    let all = bench.users.len();
    let (listener, tron_rate) = ingest("TRON path → ledger", listener, all).await?;
    println!("TRON path / EVM path = {:.2} (events/s, same chain, same run)", tron_rate / evm_rate);
    let tron_delay = delays(&mut bench, listener, &tron_db, SOLIDIFY_DEPTH, delay_samples, "solidified").await?;
    println!("TRON / EVM delay (median) = {:.2}", tron_delay / evm_delay);
    Ok(())
}

/// Steps `listener` from its cursor to the head it can see; asserts `expected` events applied, none quarantined.
/// Prints and returns the rate, and hands the listener back.
async fn ingest(
    label: &str,
    mut listener: ChainListener<DynProvider>,
    expected: usize,
) -> eyre::Result<(ChainListener<DynProvider>, f64)> {
    let started = Instant::now();
    let mut applied = 0;
    loop {
        let progress = listener.step().await?;
        if progress.blocks == 0 {
            break;
        }
        applied += progress.events - progress.quarantined;
        assert_eq!(progress.quarantined, 0, "every registration is valid");
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(applied, expected);
    let rate = expected as f64 / secs;
    println!("{label}: {rate:>9.0} events/s ({secs:.2} s)");
    Ok((listener, rate))
}

/// Blocks of 100 registrations reach `depth` below the head; how long until the ledger has each? Prints the
/// median and the maximum, returns the median (ms).
async fn delays(
    bench: &mut Bench,
    mut listener: ChainListener<DynProvider>,
    db: &ScratchDatabase,
    depth: u64,
    samples: usize,
    what: &str,
) -> eyre::Result<f64> {
    let pool = db.pool.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(async move {
        listener
            .run(POLL, async {
                stopped.await.ok();
            })
            .await
    });
    let mut delays = Vec::new();
    for sample in 0..samples {
        let next = bench.users.len();
        bench.register_range(next, next + 100).await?;
        let block = bench.chain.provider.get_block_number().await?;
        // Each sample starts just after a poll (the last one ended on it), so without this every block would
        // become deep at the same point of the poll period, set by how long the registrations took: the samples
        // are spread evenly over the period instead, and the median is that of a block deep at any moment.
        tokio::time::sleep(POLL * sample as u32 / samples as u32).await;
        bench.chain.provider.anvil_mine(Some(depth), None).await?;
        let deep_at = Instant::now();
        loop {
            let cursor: Option<i64> =
                sqlx::query_scalar("SELECT listener_block FROM blockchain_sync WHERE chain_id = $1")
                    .bind(CHAIN as i64)
                    .fetch_one(&pool)
                    .await?;
            if cursor.is_some_and(|c| c as u64 >= block) {
                break;
            }
            eyre::ensure!(deep_at.elapsed() < Duration::from_secs(30), "block {block} never arrived");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        delays.push(deep_at.elapsed().as_secs_f64() * 1_000.0);
    }
    stop.send(()).ok();
    runner.await??;
    delays.sort_by(f64::total_cmp);
    let median = delays[delays.len() / 2];
    println!(
        "{what} → ledger delay over {} blocks (poll every {} ms): median {median:.0} ms, max {:.0} ms",
        delays.len(),
        POLL.as_millis(),
        delays[delays.len() - 1]
    );
    Ok(median)
}
