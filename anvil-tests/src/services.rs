//! The services as the processes they run as in production (`listener`, `reconciler`, `signer`, `backend`
//! binaries of this workspace), for end-to-end tests: built once per test run, started with a config file in
//! a scratch directory, logs to a file there, stopped (or killed with SIGKILL) by their own handle.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sqlx::PgPool;

/// The workspace binaries the tests start.
pub const SERVICE_BINARIES: [&str; 9] = [
    "listener",
    "reconciler",
    "signer",
    "backend",
    "solvency-verify",
    "referral-deploy",
    "preflight",
    "referral-asset",
    "referral-notifier",
];

/// `target/<profile>` of the running test executable (`target/<profile>/deps/<test>`).
fn profile_dir() -> eyre::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let deps = exe.parent().ok_or_else(|| eyre::eyre!("test executable has no directory"))?;
    Ok(deps.parent().ok_or_else(|| eyre::eyre!("test executable is not in target/<profile>/deps"))?.to_path_buf())
}

/// Path of workspace binary `name`, built first (once per test process, for all [`SERVICE_BINARIES`]) with
/// the profile of the running tests, so a test never runs a stale binary.
pub fn service_binary(name: &str) -> eyre::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT
        .get_or_init(|| {
            let dir = profile_dir().map_err(|e| e.to_string())?;
            let target = dir.parent().ok_or("no target directory")?.to_path_buf();
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build.current_dir(abi::toolchain::workspace_root()).env("CARGO_TARGET_DIR", &target).arg("build");
            // Cargo gives the running test its package's variables (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, …). Build
            // scripts that declare them with `rerun-if-env-changed` (ring's do) would see other values here than in
            // the `cargo test` that built this test: the nested build would rebuild them and every crate above them,
            // and the next outer build would rebuild them back (minutes each). So the nested build runs without them.
            for (name, _) in std::env::vars_os() {
                let name = name.to_string_lossy();
                let set_for_tests =
                    ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_", "CARGO_CRATE_"].iter().any(|p| name.starts_with(p))
                        || matches!(&*name, "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR" | "OUT_DIR");
                if set_for_tests {
                    build.env_remove(&*name);
                }
            }
            if dir.file_name().is_some_and(|p| p == "release") {
                build.arg("--release");
            }
            for bin in SERVICE_BINARIES {
                build.args(["--bin", bin]);
            }
            let status = build.status().map_err(|e| format!("running cargo build: {e}"))?;
            if !status.success() {
                return Err(format!("cargo build of {SERVICE_BINARIES:?} ended with {status}"));
            }
            Ok(dir)
        })
        .as_ref()
        .map_err(|e| eyre::eyre!("{e}"))?;
    Ok(dir.join(name))
}

/// A scratch directory for one test's configs and logs; removed when dropped, unless the test panicked or
/// `ANVIL_TESTS_KEEP` is set (then its path is printed so the logs can be read).
#[derive(Debug)]
pub struct WorkDir {
    /// The directory.
    pub path: PathBuf,
}

impl WorkDir {
    /// Creates `anvil-tests-<label>-<pid>-<n>` in the system temporary directory.
    pub fn new(label: &str) -> eyre::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "anvil-tests-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// Writes `text` to `name` in this directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> eyre::Result<PathBuf> {
        let path = self.path.join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("ANVIL_TESTS_KEEP").is_some() {
            eprintln!("test files and service logs kept in {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A running service process; killed when dropped.
#[derive(Debug)]
pub struct Service {
    /// The name the process was started under; its log is `<name>.log`.
    pub name: String,
    /// The file its stdout and stderr are appended to.
    pub log: PathBuf,
    command: Vec<String>,
    envs: Vec<(String, String)>,
    child: Child,
}

impl Service {
    /// Starts workspace binary `binary` with `args` and `envs`; stdout and stderr are appended to
    /// `<dir>/<name>.log` (kept across restarts under the same name).
    pub fn start(dir: &WorkDir, name: &str, binary: &str, args: &[&str], envs: &[(&str, &str)]) -> eyre::Result<Self> {
        let log = dir.path.join(format!("{name}.log"));
        let mut command = vec![service_binary(binary)?.to_string_lossy().into_owned()];
        command.extend(args.iter().map(|a| a.to_string()));
        let envs: Vec<(String, String)> = envs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let child = spawn(&command, &envs, &log)?;
        Ok(Self { name: name.to_owned(), log, command, envs, child })
    }

    /// Kills the process (SIGKILL) if it still runs and starts the same command again, same log.
    pub fn restart(&mut self) -> eyre::Result<()> {
        let _ = self.child.kill();
        self.child.wait()?;
        self.child = spawn(&self.command, &self.envs, &self.log)?;
        Ok(())
    }

    /// The process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, as a crash or an OOM kill would: no shutdown code runs.
    pub fn kill9(&mut self) -> eyre::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// How the process stands, for failure messages: `running`, or how it ended (`exit status: 1`,
    /// `signal: 11 (SIGSEGV) (core dumped)`).
    pub fn state(&mut self) -> String {
        match self.child.try_wait() {
            Ok(None) => "running".to_owned(),
            Ok(Some(status)) => format!("ended with {status}"),
            Err(e) => format!("unknown ({e})"),
        }
    }

    /// The last `lines` lines of the log (for failure messages).
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

fn spawn(command: &[String], envs: &[(String, String)], log: &std::path::Path) -> eyre::Result<Child> {
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    let mut process = Command::new(&command[0]);
    process.args(&command[1..]).stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
    process.env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()));
    process.envs(envs.iter().map(|(k, v)| (k, v)));
    process.spawn().map_err(|e| eyre::eyre!("starting {}: {e}", command[0]))
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// URL of database `name` on the server the scratch databases use (`DATABASE_URL` or the default).
pub fn database_url(name: &str) -> eyre::Result<String> {
    let server = std::env::var("DATABASE_URL").unwrap_or_else(|_| ledger::db::DEFAULT_SERVER_URL.to_owned());
    let mut url = reqwest::Url::parse(&server)?;
    url.set_path(name);
    Ok(url.to_string())
}

/// A TRON chain's `[chains.tron]` table in a chain spec ([`chain_spec`]).
#[derive(Clone, Copy, Debug)]
pub struct TronEndpoints<'a> {
    /// java-tron's gRPC `Wallet` (the API sends payouts through it); none for a spec only the listener reads.
    pub grpc_url: Option<&'a str>,
    /// java-tron's gRPC `WalletSolidity`.
    pub solidity_grpc_url: Option<&'a str>,
    /// The Solidity node's JSON-RPC.
    pub solidity_rpc_url: &'a str,
}

/// A chain spec (TOML, `service_kit::chain_spec`) declaring one chain: its Settlement deployed at `start_block`,
/// read through `rpc_url` with `confirmations`, and a TRON chain's endpoints (`solidity_latest` finality).
pub fn chain_spec(
    chain_id: u64,
    settlement: alloy::primitives::Address,
    rpc_url: &str,
    confirmations: u64,
    start_block: u64,
    tron: Option<TronEndpoints<'_>>,
) -> String {
    let mut spec = format!(
        "[[chains]]\nchain_id = {chain_id}\nsettlement = \"{settlement}\"\nrpc_url = \"{rpc_url}\"\n\
         confirmations = {confirmations}\nstart_block = {start_block}\n"
    );
    // Tests hold anvil's well-known keys; a chain with another id than anvil's (the TRON stand-in has Nile's) says
    // it is a development chain, which a mainnet id may never.
    if !abi::chain::is_mainnet(chain_id) {
        spec.push_str("development = true\n");
    }
    if let Some(tron) = tron {
        spec.push_str(&format!(
            "[chains.tron]\nsolidity_rpc_url = \"{}\"\nfinality = \"solidity_latest\"\n",
            tron.solidity_rpc_url
        ));
        for (key, url) in [("grpc_url", tron.grpc_url), ("solidity_grpc_url", tron.solidity_grpc_url)] {
            if let Some(url) = url {
                spec.push_str(&format!("{key} = \"{url}\"\n"));
            }
        }
    }
    spec
}

/// A listener config (TOML) following the chains of the chain spec at `spec`, with `tuning` lines added to
/// `chain_id`'s `[[chains]]` entry.
pub fn listener_config(database_url: &str, spec: &std::path::Path, chain_id: u64, tuning: &str) -> String {
    format!(
        "database_url = \"{database_url}\"\nchain_spec = \"{}\"\n\n[[chains]]\nchain_id = {chain_id}\n{tuning}\n",
        spec.display()
    )
}

/// The block through which the listener has applied the chain (`blockchain_sync.listener_block`).
pub async fn listener_block(pool: &PgPool, chain_id: u64) -> eyre::Result<Option<u64>> {
    let block: Option<Option<i64>> =
        sqlx::query_scalar("SELECT listener_block FROM blockchain_sync WHERE chain_id = $1")
            .bind(chain_id as i64)
            .fetch_optional(pool)
            .await?;
    Ok(block.flatten().map(|b| b as u64))
}

/// Waits until the listener has applied the chain through `block`; fails with the listener's log otherwise.
pub async fn wait_listener_through(
    pool: &PgPool,
    chain_id: u64,
    block: u64,
    limit: Duration,
    listener: &mut Service,
) -> eyre::Result<()> {
    let until = tokio::time::Instant::now() + limit;
    loop {
        if listener_block(pool, chain_id).await?.is_some_and(|b| b >= block) {
            return Ok(());
        }
        if !listener.running() {
            let state = listener.state();
            eyre::bail!("the listener {state}:\n{}", listener.log_tail(30));
        }
        eyre::ensure!(
            tokio::time::Instant::now() < until,
            "the listener did not reach block {block} within {limit:?}:\n{}",
            listener.log_tail(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A scratch ledger database with the two assets of `deployment` (see
/// [`create_deployment_assets`](crate::devchain::create_deployment_assets)), and its URL for the services.
pub async fn ledger_database(
    deployment: &crate::devchain::Deployment,
) -> eyre::Result<(ledger::db::ScratchDatabase, String)> {
    let db = ledger::db::ScratchDatabase::create("e2e").await?;
    crate::devchain::create_deployment_assets(&db.pool, deployment).await?;
    let url = database_url(db.name())?;
    Ok((db, url))
}

/// A free TCP port on 127.0.0.1 (bound and released: another process could take it, which a test then
/// reports as a start failure).
pub fn free_port() -> eyre::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until `GET <url>` answers 200, or the service exits, or `limit` passes.
pub async fn wait_healthy(url: &str, service: &mut Service, limit: Duration) -> eyre::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let until = tokio::time::Instant::now() + limit;
    loop {
        if matches!(client.get(url).send().await, Ok(r) if r.status().is_success()) {
            return Ok(());
        }
        if !service.running() {
            let state = service.state();
            eyre::bail!("{} {state}:\n{}", service.name, service.log_tail(30));
        }
        eyre::ensure!(
            tokio::time::Instant::now() < until,
            "{} not healthy at {url} within {limit:?}:\n{}",
            service.name,
            service.log_tail(30)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The signer's limits on the native coin (base units, decimal strings), as its `[[policy.chains.assets]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeCaps {
    /// `per_entry_cap`: the largest single payout entry.
    pub per_entry_cap: String,
    /// `per_batch_cap`: the largest total of one payout batch.
    pub per_batch_cap: String,
    /// `daily_outflow_cap`: the largest sum of outflows signed in any 24 hours.
    pub daily_outflow_cap: String,
}

impl Default for NativeCaps {
    /// 1,000 coins per entry, 50,000 per batch, 100,000 per rolling day.
    fn default() -> Self {
        NativeCaps {
            per_entry_cap: "1000000000000000000000".into(),
            per_batch_cap: "50000000000000000000000".into(),
            daily_outflow_cap: "100000000000000000000000".into(),
        }
    }
}

/// The signer service on the development key of `chain` (anvil's key #1, `--insecure-dev-key`), allowing
/// its Settlement contract, the native coin and its test USDT, and liability roots as of blocks one deep on the
/// chain's own node, with `caller_secret` for the caller `backend`.
pub async fn start_signer(
    dir: &WorkDir,
    chain: &crate::devchain::DevChain,
    caller_secret: &str,
) -> eyre::Result<(Service, String)> {
    let port = free_port()?;
    write_signer_config(dir, chain, caller_secret, port, &NativeCaps::default())?;
    start_signer_on(dir, port).await
}

/// As [`start_signer`], with `native` as the native coin's limits; returns the port too, for
/// [`write_signer_config`] and a restart with other limits.
pub async fn start_signer_with(
    dir: &WorkDir,
    chain: &crate::devchain::DevChain,
    caller_secret: &str,
    native: &NativeCaps,
) -> eyre::Result<(Service, String, u16)> {
    let port = free_port()?;
    write_signer_config(dir, chain, caller_secret, port, native)?;
    let (signer, url) = start_signer_on(dir, port).await?;
    Ok((signer, url, port))
}

/// As [`start_signer`], with `extra` TOML appended to its config (another asset, `[policy.catalogue]`).
pub async fn start_signer_extra(
    dir: &WorkDir,
    chain: &crate::devchain::DevChain,
    caller_secret: &str,
    extra: &str,
) -> eyre::Result<(Service, String)> {
    let port = free_port()?;
    let path = write_signer_config(dir, chain, caller_secret, port, &NativeCaps::default())?;
    let config = std::fs::read_to_string(&path)?;
    dir.write("signer.toml", &format!("{config}{extra}"))?;
    start_signer_on(dir, port).await
}

async fn start_signer_on(dir: &WorkDir, port: u16) -> eyre::Result<(Service, String)> {
    let config = dir.path.join("signer.toml");
    let args = ["--config", config.to_str().expect("utf-8 path"), "--insecure-dev-key"];
    let mut signer = Service::start(dir, "signer", "signer", &args, &[])?;
    let url = format!("http://127.0.0.1:{port}");
    wait_healthy(&format!("{url}/health"), &mut signer, Duration::from_secs(60)).await?;
    Ok((signer, url))
}

/// Writes `signer.toml` in `dir`: the signer on `port` with `native` as the native coin's limits (a running
/// signer reads it again when restarted).
pub fn write_signer_config(
    dir: &WorkDir,
    chain: &crate::devchain::DevChain,
    caller_secret: &str,
    port: u16,
    native: &NativeCaps,
) -> eyre::Result<PathBuf> {
    let key = alloy::hex::encode_prefixed(chain.backend_signer.to_bytes());
    let key_file = dir.write("signer-dev-key", &key)?;
    let secret_file = dir.write("signer-caller-secret", caller_secret)?;
    let deployment = chain.deployment();
    let config = format!(
        r#"[server]
bind = "127.0.0.1:{port}"
[store]
path = "{store}"
[key]
insecure_dev_key = {{ file = "{key_file}" }}
[auth]
callers = [{{ id = "backend", secret = {{ file = "{secret_file}" }} }}]
[policy]
default_ttl_secs = 900
max_deadline_horizon_secs = 3600
max_batch_entries = 500
[[policy.chains]]
chain_id = {chain_id}
contracts = ["{settlement}"]
treasury_recipients = ["{admin}"]
node = {{ rpc_url = "{rpc_url}", confirmations = 1 }}
[[policy.chains.assets]]
token = "0x0000000000000000000000000000000000000000"
per_payload_cap = "1000000000000000000000"
per_entry_cap = "{per_entry_cap}"
per_batch_cap = "{per_batch_cap}"
daily_outflow_cap = "{daily_outflow_cap}"
[[policy.chains.assets]]
token = "{usdt}"
per_payload_cap = "1000000000"
per_batch_cap = "50000000000"
daily_outflow_cap = "100000000000"
"#,
        store = dir.path.join("signer.sqlite").display(),
        key_file = key_file.display(),
        secret_file = secret_file.display(),
        chain_id = deployment.chain_id,
        settlement = deployment.settlement,
        admin = deployment.admin,
        usdt = deployment.usdt,
        per_entry_cap = native.per_entry_cap,
        per_batch_cap = native.per_batch_cap,
        daily_outflow_cap = native.daily_outflow_cap,
        rpc_url = chain.rpc_url(),
    );
    // The generation-plan asset's token, when the chain has one: packages up to 5 000; its roots fall by the
    // withdrawal fees kept of payouts too, up to the 20 % a version of the plan may keep (backend/SOLVENCY.md §1).
    let config = match deployment.generation_token {
        Some(token) => format!(
            "{config}[[policy.chains.assets]]\ntoken = \"{token}\"\nper_payload_cap = \"5000000000\"\n\
             per_batch_cap = \"50000000000\"\ndaily_outflow_cap = \"100000000000\"\nwithdrawal_fee_bps = 2000\n"
        ),
        None => config,
    };
    dir.write("signer.toml", &config)
}

/// The backend API on a free port over `database_url`, with `signer_url`, the chain's Settlement, RPC and
/// operator key (the contract admin, anvil's key #0, which holds OPERATOR_ROLE in development deployments),
/// the contract admin as API admin, and a Redis key prefix of its own.
pub async fn start_backend(
    dir: &WorkDir,
    chain: &crate::devchain::DevChain,
    database_url: &str,
    signer_url: &str,
    caller_secret: &str,
) -> eyre::Result<(Service, String)> {
    let (backend, url, _) = start_backend_with_metrics(dir, chain, database_url, signer_url, caller_secret).await?;
    Ok((backend, url))
}

/// As [`start_backend`]; also returns the URL of its `GET /metrics` (`[application] metrics_address`).
pub async fn start_backend_with_metrics(
    dir: &WorkDir,
    chain: &crate::devchain::DevChain,
    database_url: &str,
    signer_url: &str,
    caller_secret: &str,
) -> eyre::Result<(Service, String, String)> {
    start_backend_for(dir, chain, database_url, signer_url, caller_secret, BackendChain::default()).await
}

/// How a test backend sees its chain: the chain spec it reads (none: one written for the chain's own RPC with one
/// confirmation) and `tuning` fields added to the chain's `APP_CHAINS` entry (e.g. `, signature_ttl_secs = 30`).
#[derive(Clone, Debug, Default)]
pub struct BackendChain<'a> {
    /// The chain spec; none, the chain read through its anvil with one confirmation.
    pub spec: Option<std::path::PathBuf>,
    /// Fields added to the chain's `[[chains]]` tuning (each after a comma).
    pub tuning: &'a str,
    /// More environment for the backend's process (e.g. `SSL_CERT_FILE`, an API key's variable).
    pub env: &'a [(&'a str, &'a str)],
}

/// As [`start_backend_with_metrics`], seeing its chain as `backend_chain` says.
pub async fn start_backend_for(
    dir: &WorkDir,
    chain: &crate::devchain::DevChain,
    database_url: &str,
    signer_url: &str,
    caller_secret: &str,
    backend_chain: BackendChain<'_>,
) -> eyre::Result<(Service, String, String)> {
    start_backend_configured(dir, chain, database_url, signer_url, caller_secret, backend_chain, "").await
}

/// As [`start_backend_for`], with `extra` TOML appended to the backend's configuration file (e.g. a
/// `[payouts.worker]` table).
pub async fn start_backend_configured(
    dir: &WorkDir,
    chain: &crate::devchain::DevChain,
    database_url: &str,
    signer_url: &str,
    caller_secret: &str,
    backend_chain: BackendChain<'_>,
    extra: &str,
) -> eyre::Result<(Service, String, String)> {
    let port = free_port()?;
    let metrics_port = free_port()?;
    let deployment = chain.deployment();
    let spec = match backend_chain.spec {
        Some(spec) => spec,
        None => {
            let spec = chain_spec(deployment.chain_id, chain.settlement, &chain.rpc_url(), 1, chain.deploy_block, None);
            dir.write(&format!("backend-chains-{port}.toml"), &spec)?
        }
    };
    let config = format!(
        r#"chain_spec = "{spec}"
[application]
host = "127.0.0.1"
port = {port}
metrics_address = "127.0.0.1:{metrics_port}"
[database]
url = "{database_url}"
max_connections = 5
[redis]
url = "redis://127.0.0.1:6379"
key_prefix = "e2e-{pid}-{port}"
[auth]
jwt_secret = "e2e-jwt-secret-{pid}-{port}-0123456789"
domain = "localhost:{port}"
uri = "http://localhost:{port}"
statement = "Sign in to the referral platform."
evm_chain_id = {chain_id}
tron_chain_id = 728126428
nonce_ttl_secs = 300
access_ttl_secs = 900
refresh_ttl_secs = 3600
admins = ["{admin}"]
[rate_limits]
window_secs = 60
signin_per_ip = 10000
signin_per_wallet = 1000
signing_per_wallet = 1000
admin_signing_per_wallet = 1000
[signer]
url = "{signer_url}"
caller_id = "backend"
caller_secret = "{caller_secret}"
{extra}
"#,
        spec = spec.display(),
        pid = std::process::id(),
        chain_id = deployment.chain_id,
        admin = deployment.admin,
    );
    let config = dir.write("backend.toml", &config)?;
    // The operator key may not be in the file: the chain's tuning comes through the environment.
    let operator = alloy::hex::encode_prefixed(chain.admin.to_bytes());
    let chains = format!(
        r#"[{{ chain_id = {}, operator_key = "{operator}", insecure_operator_key = true{} }}]"#,
        deployment.chain_id, backend_chain.tuning
    );
    let mut envs = vec![("APP_CONFIG", config.to_str().expect("utf-8 path")), ("APP_CHAINS", chains.as_str())];
    envs.extend_from_slice(backend_chain.env);
    let mut backend = Service::start(dir, "backend", "backend", &[], &envs)?;
    let url = format!("http://127.0.0.1:{port}");
    wait_healthy(&format!("{url}/health"), &mut backend, Duration::from_secs(60)).await?;
    Ok((backend, url, format!("http://127.0.0.1:{metrics_port}/metrics")))
}
