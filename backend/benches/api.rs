//! API latency under a fixed open-loop load, on loopback: the real app (scratch Postgres database, real
//! Redis, the real signer in-process) serving `GET /health` (baseline), `GET /v1/users/me` and
//! `POST /v1/users/register`, each at a fixed request rate from signed-in wallets. Prints p50/p90/p99/max
//! latency and the achieved rate per endpoint, the ratio of `/v1/users/me` to the baseline, and `/v1/users/me` on
//! the same app without its metrics layer (no `metrics_address`), run at the same time as the app with it (A/B):
//! what the layer costs. Then the proof of solvency's `GET /v1/users/solvency-proof` at `proof_rate` from the
//! signed-in wallets, each a leaf of a committed epoch of `leaves` users, beside `GET /health` at the same rate.
//!
//! `cargo bench -p backend --bench api -- [me_rate] [seconds] [register_rate] [wallets] [proof_rate] [leaves]`
//! (under `cargo test --all-targets` a one-second smoke run) (defaults 500 req/s, 10 s, 50 req/s, 200 wallets,
//! 200 req/s, 100000 leaves; `DATABASE_URL` selects the Postgres server, `REDIS_URL` the Redis server, default
//! 127.0.0.1).
//!
//! Latency is measured from the moment a request was due, not when it was sent, so a client that falls
//! behind shows up as latency (no coordinated omission). Requests still in flight after a 5 s timeout count
//! as errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, address};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use backend::config::Settings;
use backend::startup::Application;
use eyre::{Context, ContextCompat};
use ledger::db::ScratchDatabase;
use ledger::plan::PlanParams;
use ledger::{AssetSpec, create_asset};
use secrecy::SecretString;
use serde_json::{Value, json};
use signer::auth::Caller;
use signer::config::Settings as SignerConfig;
use signer::policy::PolicyConfig;

/// BSC's testnet: its signer runs without staff approvals, as a mainnet's never may (issue 65).
const CHAIN: u64 = 97;
const SETTLEMENT: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
/// Anvil's dev key #1: a benchmark-only signing key (the signer runs with its insecure flag).
const DEV_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const CALLER: &str = "bench";
const CALLER_SECRET: &str = "bench-only-caller-secret-0123456789abcdef";
const DOMAIN: &str = "bench.local";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The proof of solvency's salts' key in this benchmark (not a key of any deployment).
const SALT_KEY: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";
/// Most requests in flight at once; a request due beyond this is counted as an error, not queued.
const MAX_IN_FLIGHT: usize = 4_096;

struct Args {
    me_rate: u32,
    seconds: u32,
    register_rate: u32,
    wallets: usize,
    proof_rate: u32,
    leaves: usize,
}

fn args() -> eyre::Result<Args> {
    // `cargo bench` adds `--bench`; without it (`cargo test --all-targets`) a short smoke run proves it works.
    let full = std::env::args().any(|a| a == "--bench");
    // Under `cargo test` (no `--bench`) the words after `--` are test-name filters, not figures.
    let a: Vec<String> = std::env::args().skip(1).filter(|a| full && !a.starts_with("--")).collect();
    let get = |i: usize, default: u64, max: u64| -> eyre::Result<u64> {
        let v = a.get(i).map(|s| s.parse::<u64>()).transpose().context("arguments are integers")?.unwrap_or(default);
        eyre::ensure!((1..=max).contains(&v), "argument {} must be in 1..={max}", i + 1);
        Ok(v)
    };
    Ok(Args {
        me_rate: get(0, if full { 500 } else { 50 }, 5_000)? as u32,
        seconds: get(1, if full { 10 } else { 1 }, 60)? as u32,
        register_rate: get(2, if full { 50 } else { 10 }, 1_000)? as u32,
        wallets: get(3, if full { 200 } else { 20 }, 2_000)? as usize,
        proof_rate: get(4, if full { 200 } else { 20 }, 5_000)? as u32,
        leaves: get(5, if full { 100_000 } else { 1_000 }, 10_000_000)? as usize,
    })
}

/// The signer service on a loopback port, with a store in a fresh directory (removed at the end).
async fn start_signer(store_dir: &std::path::Path) -> eyre::Result<(String, tokio::sync::oneshot::Sender<()>)> {
    let bnb: u128 = 1_000_000_000_000_000_000;
    // Registrations are inflows; the daily cap is on outflows.
    let policy = PolicyConfig::native_only(CHAIN, SETTLEMENT, vec![], 1_000 * bnb, 10_000 * bnb, 100_000 * bnb);
    let callers = vec![Caller::new(CALLER, SecretString::from(CALLER_SECRET))];
    let config =
        SignerConfig::development(store_dir.join("signer.sqlite"), SecretString::from(DEV_KEY), callers, policy);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, server) = signer::startup::run_until(config, async {
        let _ = stopped.await;
    })
    .await?;
    tokio::spawn(server);
    Ok((format!("http://{addr}"), stop))
}

fn settings(redis_url: &str, signer_url: &str, metrics: bool) -> eyre::Result<Settings> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let file = format!(
        r#"
[application]
host = "127.0.0.1"
port = 0
{metrics}
[database]
url = "postgres://unused"
max_connections = 16
[redis]
url = "{redis_url}"
key_prefix = "bench-{pid}-{nanos}"
[auth]
jwt_secret = "bench-only-secret-0123456789abcdef"
domain = "{DOMAIN}"
uri = "https://{DOMAIN}"
statement = "Sign in to the referral platform."
evm_chain_id = {CHAIN}
tron_chain_id = 728126428
nonce_ttl_secs = 120
access_ttl_secs = 3600
refresh_ttl_secs = 3600
[rate_limits]
window_secs = 60
signin_per_ip = 1000000
signin_per_wallet = 1000000
signing_per_wallet = 1000000
admin_signing_per_wallet = 1000000
[signer]
url = "{signer_url}"
caller_id = "{CALLER}"
caller_secret = "{CALLER_SECRET}"
[solvency]
salt_key = "{SALT_KEY}"
worker = false
"#,
        pid = std::process::id(),
        metrics = if metrics { "metrics_address = \"127.0.0.1:0\"" } else { "" },
    );
    let mut settings = Settings::from_sources(&file, std::iter::empty())?;
    settings.chains = vec![backend::config::ChainSettings::new(CHAIN, SETTLEMENT)];
    Ok(settings)
}

async fn post_json(client: &reqwest::Client, url: &str, body: &Value, token: Option<&str>) -> eyre::Result<Value> {
    let mut req = client.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await?;
    let status = res.status();
    let body: Value = res.json().await?;
    eyre::ensure!(status.is_success(), "{url}: {status} {body}");
    Ok(body)
}

/// Signs a wallet in through the API (nonce, EIP-4361 message signed by the wallet); returns its access token.
async fn sign_in(client: &reqwest::Client, base: &str, wallet: &PrivateKeySigner) -> eyre::Result<String> {
    let nonce = post_json(
        client,
        &format!("{base}/v1/auth/nonce"),
        &json!({ "address": wallet.address().to_checksum(None), "chain": "evm" }),
        None,
    )
    .await?;
    let message = nonce["message"].as_str().context("nonce answer has a message")?;
    let signature = alloy::hex::encode_prefixed(wallet.sign_message_sync(message.as_bytes())?.as_bytes());
    let tokens = post_json(
        client,
        &format!("{base}/v1/auth/signin"),
        &json!({ "message": message, "signature": signature }),
        None,
    )
    .await?;
    Ok(tokens["access_token"].as_str().context("signin answer has an access token")?.to_owned())
}

/// One request of a run: which wallet's token (if any) and the body (if a POST).
type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

struct RunResult {
    name: String,
    rate: u32,
    sent: usize,
    ok: usize,
    errors: usize,
    elapsed: Duration,
    /// Latencies of successful requests, microseconds, sorted.
    micros: Vec<u64>,
}

impl RunResult {
    fn percentile(&self, p: f64) -> f64 {
        if self.micros.is_empty() {
            return f64::NAN;
        }
        let rank = ((p * self.micros.len() as f64).ceil() as usize).clamp(1, self.micros.len());
        self.micros[rank - 1] as f64 / 1_000.0
    }

    fn print(&self) {
        println!(
            "{:<26} {:>6} {:>6} {:>6} {:>5} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            self.name,
            self.rate,
            self.sent,
            self.ok,
            self.errors,
            self.ok as f64 / self.elapsed.as_secs_f64(),
            self.percentile(0.50),
            self.percentile(0.90),
            self.percentile(0.99),
            self.micros.last().map_or(f64::NAN, |m| *m as f64 / 1_000.0),
        );
    }
}

/// Sends `rate` requests per second for `seconds`, each at its due time whatever the earlier ones are doing.
async fn open_loop(client: &reqwest::Client, name: &str, rate: u32, seconds: u32, make: MakeRequest) -> RunResult {
    let total = (rate * seconds) as usize;
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total);
    let mut refused = 0;
    for i in 0..total {
        let due = start + period * i as u32;
        tokio::time::sleep_until(due).await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            refused += 1;
            continue;
        };
        let req = make(client, i).timeout(REQUEST_TIMEOUT);
        let due = due.into_std();
        tasks.push(tokio::spawn(async move {
            let ok = match req.send().await {
                Ok(res) => {
                    let status = res.status();
                    // Read the whole body: the latency includes it.
                    res.bytes().await.is_ok() && status.is_success()
                }
                Err(_) => false,
            };
            drop(permit);
            ok.then(|| due.elapsed())
        }));
    }
    let mut micros = Vec::with_capacity(total);
    let mut errors = refused;
    for t in tasks {
        match t.await {
            Ok(Some(latency)) => micros.push(latency.as_micros() as u64),
            _ => errors += 1,
        }
    }
    let elapsed = start.elapsed();
    micros.sort_unstable();
    RunResult { name: name.to_owned(), rate, sent: total, ok: micros.len(), errors, elapsed, micros }
}

/// Builds and stores a committed epoch of asset 1 whose leaves are `wallets` and synthetic users up to `leaves`, as
/// the API's worker would have built it (the ledger's own builder and store), its commitment marked as the listener
/// marks it.
async fn commit_epoch(pool: &sqlx::PgPool, wallets: &[PrivateKeySigner], leaves: usize) -> eyre::Result<()> {
    use ledger::solvency::tree::{Balances, SolvencyTree, TreeContext};
    let mut users: Vec<(Address, Balances)> = wallets
        .iter()
        .map(|w| (w.address(), Balances { pending: 18_000_000_000_000_000_000, ..Balances::default() }))
        .collect();
    for i in users.len()..leaves {
        let mut a = [0u8; 20];
        a[..8].copy_from_slice(&(i as u64).to_be_bytes());
        users.push((Address::from(a), Balances { pending: i as u128 * 1_000_000_007, ..Balances::default() }));
    }
    let key: [u8; 32] = alloy::hex::decode(SALT_KEY)?.try_into().map_err(|_| eyre::eyre!("32 bytes"))?;
    let ctx = TreeContext { chain_id: CHAIN, contract: SETTLEMENT, token: Address::ZERO, epoch: 1 };
    let tree = tokio::task::spawn_blocking(move || SolvencyTree::build(ctx, &key, &users)).await??;
    let snapshot = ledger::solvency::Snapshot {
        asset_id: 1,
        chain_id: CHAIN,
        token: Address::ZERO,
        as_of_block: 1,
        users: Vec::new(),
        liabilities: alloy::primitives::U256::from(tree.root().sum),
        plan_hash: alloy::primitives::B256::ZERO,
        forfeits: Vec::new(),
    };
    let id = ledger::solvency::store(pool, &snapshot, &tree).await?;
    sqlx::query(
        "UPDATE solvency_epochs SET status = 'committed', signature = '\\x00', chain_nonce = 1, deadline = 1,
                committed_block = 2, custody = total WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let args = args()?;
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let db = ScratchDatabase::create_with("bench_api", 16).await?;
    let genesis = PrivateKeySigner::random();
    let spec = AssetSpec {
        id: 1,
        chain_id: CHAIN,
        token: Address::ZERO,
        symbol: "BNB".into(),
        decimals: 18,
        genesis: genesis.address(),
        params: PlanParams::defaults(18),
    };
    create_asset(&db.pool, &spec).await?;
    let store_dir = std::env::temp_dir().join(format!("bench_api_signer_{}", std::process::id()));
    std::fs::create_dir_all(&store_dir)?;
    let (signer_url, stop_signer) = start_signer(&store_dir).await?;
    let app = Application::build_with_pool(settings(&redis_url, &signer_url, true)?, db.pool.clone()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    // The same app without its metrics layer (no `metrics_address`), to measure what the layer costs.
    let bare = Application::build_with_pool(settings(&redis_url, &signer_url, false)?, db.pool.clone()).await?;
    let bare_base = format!("http://127.0.0.1:{}", bare.port());
    tokio::spawn(bare.run_until_stopped());

    let client = reqwest::Client::builder().pool_max_idle_per_host(MAX_IN_FLIGHT).build()?;
    let wallets: Vec<PrivateKeySigner> = (0..args.wallets).map(|_| PrivateKeySigner::random()).collect();
    let signin_start = Instant::now();
    let mut tokens = Vec::with_capacity(wallets.len());
    for w in &wallets {
        tokens.push(sign_in(&client, &base, w).await?);
    }
    let tokens = Arc::new(tokens);
    println!(
        "{} wallets signed in ({:.0} sign-ins/s, sequential); Redis {redis_url}; database {}",
        wallets.len(),
        wallets.len() as f64 / signin_start.elapsed().as_secs_f64(),
        db.name()
    );

    let health: MakeRequest = {
        let url = format!("{base}/health");
        Arc::new(move |c, _| c.get(&url))
    };
    let me: MakeRequest = {
        let url = format!("{base}/v1/users/me");
        let tokens = tokens.clone();
        Arc::new(move |c, i| c.get(&url).bearer_auth(&tokens[i % tokens.len()]))
    };
    let register: MakeRequest = {
        let url = format!("{base}/v1/users/register");
        let tokens = tokens.clone();
        let body = json!({ "asset_id": 1, "sponsor": genesis.address().to_checksum(None) });
        Arc::new(move |c, i| c.post(&url).bearer_auth(&tokens[i % tokens.len()]).json(&body))
    };
    let me_bare: MakeRequest = {
        let url = format!("{bare_base}/v1/users/me");
        let tokens = tokens.clone();
        Arc::new(move |c, i| c.get(&url).bearer_auth(&tokens[i % tokens.len()]))
    };
    // Warm-up: connections, caches, prepared statements.
    for (make, rate) in [(&health, 200), (&me, 200), (&me_bare, 200), (&register, 20)] {
        let _ = open_loop(&client, "warm-up", rate, 1, make.clone()).await;
    }

    // The metrics layer's cost is measured A/B: both apps at the same rate at the same time, so the machine's
    // state (caches, other load, what ran before) is the same for both.
    let (with_layer, without_layer) = tokio::join!(
        open_loop(&client, "GET /v1/users/me, A/B metrics", args.me_rate, args.seconds, me.clone()),
        open_loop(&client, "GET /v1/users/me, A/B none", args.me_rate, args.seconds, me_bare),
    );
    let runs = [
        open_loop(&client, "GET /health (baseline)", args.me_rate, args.seconds, health.clone()).await,
        open_loop(&client, "GET /v1/users/me", args.me_rate, args.seconds, me).await,
        open_loop(&client, "POST /v1/users/register", args.register_rate, args.seconds, register).await,
        with_layer,
        without_layer,
    ];
    println!(
        "{:<26} {:>6} {:>6} {:>6} {:>5} {:>9} {:>8} {:>8} {:>8} {:>8}",
        "endpoint", "req/s", "sent", "ok", "err", "achieved", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for r in &runs {
        r.print();
    }
    let (base_run, me_run) = (&runs[0], &runs[1]);
    println!(
        "/v1/users/me vs /health at {} req/s: p50 x{:.2}, p90 x{:.2}, p99 x{:.2}",
        args.me_rate,
        me_run.percentile(0.5) / base_run.percentile(0.5),
        me_run.percentile(0.9) / base_run.percentile(0.9),
        me_run.percentile(0.99) / base_run.percentile(0.99),
    );
    let (me_run, bare_run) = (&runs[3], &runs[4]);
    println!(
        "metrics layer: /v1/users/me with vs without, both at {} req/s at once: p50 {:.3} vs {:.3} ms (x{:.2}), p99 {:.3} vs {:.3} ms (x{:.2})",
        args.me_rate,
        me_run.percentile(0.5),
        bare_run.percentile(0.5),
        me_run.percentile(0.5) / bare_run.percentile(0.5),
        me_run.percentile(0.99),
        bare_run.percentile(0.99),
        me_run.percentile(0.99) / bare_run.percentile(0.99),
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM transactions").fetch_one(&db.pool).await?;
    println!("register payloads stored: {stored} (signed by the in-process signer)");

    // The proof of solvency: a committed epoch of `leaves` users, the signed-in wallets among them.
    let started = Instant::now();
    commit_epoch(&db.pool, &wallets, args.leaves).await?;
    println!(
        "epoch of {} leaves built and stored in {:.2} s",
        args.leaves.max(wallets.len()),
        started.elapsed().as_secs_f64()
    );
    let proof: MakeRequest = {
        let url = format!("{base}/v1/users/solvency-proof?asset_id=1");
        let tokens = tokens.clone();
        Arc::new(move |c, i| c.get(&url).bearer_auth(&tokens[i % tokens.len()]))
    };
    let _ = open_loop(&client, "warm-up", args.proof_rate, 1, proof.clone()).await;
    let proof_runs = [
        open_loop(&client, "GET /health (baseline)", args.proof_rate, args.seconds, health).await,
        open_loop(&client, "GET /v1/users/solvency-proof", args.proof_rate, args.seconds, proof).await,
    ];
    for r in &proof_runs {
        r.print();
    }
    println!(
        "/v1/users/solvency-proof vs /health at {} req/s ({} leaves): p50 x{:.2}, p99 x{:.2}; p99 {:.3} ms (SOLVENCY.md: < 20 ms)",
        args.proof_rate,
        args.leaves.max(wallets.len()),
        proof_runs[1].percentile(0.5) / proof_runs[0].percentile(0.5),
        proof_runs[1].percentile(0.99) / proof_runs[0].percentile(0.99),
        proof_runs[1].percentile(0.99),
    );
    let _ = stop_signer.send(());
    let _ = std::fs::remove_dir_all(&store_dir);
    Ok(())
}
