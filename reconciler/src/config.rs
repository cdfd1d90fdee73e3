//! `reconciler <config.toml>`: where alerts go, how often, and the reconciler's tuning of each chain of the chain
//! spec the file names ([`service_kit::chain_spec`]); `RECONCILER_DATABASE_URL` overrides the database.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::primitives::Address;
use serde::Deserialize;
use service_kit::chain_spec::{ChainSpec, ChainSpecs, beside};

use crate::alerts::{AlertSink, AlertmanagerWebhook, PagerDuty};

/// The reconciler's configuration file (TOML), overlaid with `RECONCILER_…` variables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcilerFile {
    /// The ledger's Postgres database (`RECONCILER_DATABASE_URL` overrides it).
    pub database_url: String,
    /// The chain spec: every chain it declares is reconciled. A relative path is read beside this file.
    pub chain_spec: PathBuf,
    /// The reconciler's tuning per chain, keyed by `chain_id`; a chain without an entry gets the defaults.
    #[serde(default)]
    pub chains: Vec<ChainTuning>,
    /// Where alert changes are sent (each to every sink); none by default.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// Confirmed blocks the listener may be behind before `listener_lag` fires.
    #[serde(default = "default_max_lag")]
    pub max_lag_blocks: u64,
    /// Runs in a row without a custody comparison on a chain before `custody_uncompared` pages (a TRON chain
    /// compares only when the ledger has reached the Solidity node's solidified block).
    #[serde(default = "default_max_uncompared_runs")]
    pub max_uncompared_runs: u64,
    /// Seconds between scheduled runs.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Milliseconds between looks for on-demand reconcile requests (`ops_requests`).
    #[serde(default = "default_request_poll")]
    pub request_poll_ms: u64,
    /// Where `GET /metrics` (OpenMetrics text, `ops/metrics.md`) is served; none when absent.
    #[serde(default)]
    pub metrics_address: Option<std::net::SocketAddr>,
    /// Where `ops/runbooks/` is published: every alert sent links its runbook (`runbook_url` annotation for
    /// Alertmanager, `links` for PagerDuty), e.g. `https://git.example/referral/blob/main/ops/runbooks`.
    #[serde(default)]
    pub runbook_base: Option<String>,
    /// The proof of solvency's salts' key K (the API's `[solvency] salt_key`, from `RECONCILER_SOLVENCY_SALT_KEY`):
    /// with it, every run verifies sampled users' proofs against the chain's root; without it, only the
    /// commitment itself is checked.
    #[serde(default)]
    pub solvency_salt_key: Option<secrecy::SecretString>,
    /// Seconds an `admin_event` alert (a change applied or cancelled, a pause, an admin transfer begun…) stays
    /// firing after it was first seen, before the reconciler resolves it (default 86,400: a day, so that every
    /// shift sees it).
    #[serde(default = "default_admin_event_hold")]
    pub admin_event_hold_secs: u64,
    /// The signer service's base URL (`http://127.0.0.1:8700`): its `GET /v1/signer` (unauthenticated) says the key
    /// the contract must hold as signer and the node of its own it reads each chain from, both then checked by the
    /// preflight; absent, those checks are listed as skipped.
    #[serde(default)]
    pub signer_url: Option<String>,
    /// Seconds between runs of the preflight checks (`preflight`), each finding paged as a `preflight` alert and
    /// resolved once its check passes (default 600); 0: run only at start.
    #[serde(default = "default_preflight_interval")]
    pub preflight_interval_secs: u64,
}

/// The reconciler's tuning of one chain (`[[chains]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainTuning {
    /// The chain, as the chain spec declares it.
    pub chain_id: u64,
    /// Tokens to reconcile (zero address = native coin); empty = every asset of the chain in the ledger.
    #[serde(default)]
    pub assets: Vec<Address>,
    /// Seconds before an RPC request is abandoned (default 10).
    #[serde(default = "default_rpc_timeout")]
    pub rpc_timeout_secs: u64,
    /// The payout operator's address, whose native balance (gas) the metrics show as `operator_balance`.
    #[serde(default)]
    pub operator: Option<Address>,
    /// Decimals of the chain's native coin (18 on EVM chains; TRX has 6).
    #[serde(default = "default_native_decimals")]
    pub native_decimals: u32,
    /// The API's epoch interval on this chain (`[[solvency.chains]] interval_blocks`): with it, every run checks
    /// the chain's proof-of-solvency commitments, and one older than twice this is stale.
    #[serde(default)]
    pub solvency_interval_blocks: Option<u64>,
    /// Most blocks one `eth_getLogs` of the contract's admin events spans (default 2,000; at most 5,000 on TRON).
    #[serde(default = "default_log_range")]
    pub max_log_range: u64,
}

impl ChainTuning {
    /// The defaults for `chain_id`: every asset, no operator, 18 decimals.
    pub fn defaults(chain_id: u64) -> Self {
        Self {
            chain_id,
            assets: Vec::new(),
            rpc_timeout_secs: default_rpc_timeout(),
            operator: None,
            native_decimals: default_native_decimals(),
            solvency_interval_blocks: None,
            max_log_range: default_log_range(),
        }
    }
}

/// One chain to reconcile: its spec (custody is compared `confirmations` below the head, or on TRON at the
/// Solidity node's `latest`) and the reconciler's tuning of it.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// The chain as the chain spec declares it.
    pub spec: ChainSpec,
    /// What the reconciler reads of it.
    pub tuning: ChainTuning,
}

/// The reconciler's configuration with its chains resolved from the chain spec.
#[derive(Debug, Clone)]
pub struct ReconcilerConfig {
    /// The ledger's Postgres database.
    pub database_url: String,
    /// The chains to reconcile; at least one.
    pub chains: Vec<ChainConfig>,
    /// Where alert changes are sent (each to every sink).
    pub sinks: Vec<SinkConfig>,
    /// Confirmed blocks the listener may be behind before `listener_lag` fires.
    pub max_lag_blocks: u64,
    /// Runs in a row without a custody comparison on a chain before `custody_uncompared` pages.
    pub max_uncompared_runs: u64,
    /// Seconds between scheduled runs.
    pub interval_secs: u64,
    /// Milliseconds between looks for on-demand reconcile requests.
    pub request_poll_ms: u64,
    /// Where `GET /metrics` is served; none when absent.
    pub metrics_address: Option<std::net::SocketAddr>,
    /// Where `ops/runbooks/` is published.
    pub runbook_base: Option<String>,
    /// The proof of solvency's salts' key, when sampled proofs are verified.
    pub solvency_salt_key: Option<[u8; 32]>,
    /// Seconds an `admin_event` alert stays firing after it was first seen.
    pub admin_event_hold_secs: u64,
    /// The signer service's base URL, whose key and nodes the preflight checks.
    pub signer_url: Option<String>,
    /// Seconds between runs of the preflight checks; 0: only at start.
    pub preflight_interval_secs: u64,
}

/// An alert sink, chosen by `kind` (`alertmanager` or `pagerduty`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum SinkConfig {
    /// An Alertmanager-compatible webhook receiver ([`AlertmanagerWebhook`]).
    Alertmanager {
        /// Where the webhook body is POSTed.
        url: String,
        /// The `receiver` named in the body.
        receiver: String,
    },
    /// A PagerDuty Events API v2 integration ([`PagerDuty`]).
    Pagerduty {
        /// The Events API endpoint (e.g. `https://events.pagerduty.com/v2/enqueue`).
        url: String,
        /// The integration's routing key.
        routing_key: String,
        /// `source` field: which deployment is paging.
        source: String,
    },
}

impl SinkConfig {
    /// The [`AlertSink`] this entry describes.
    pub fn sink(&self) -> AlertSink {
        match self.clone() {
            Self::Alertmanager { url, receiver } => AlertSink::Alertmanager(AlertmanagerWebhook { url, receiver }),
            Self::Pagerduty { url, routing_key, source } => {
                AlertSink::PagerDuty(PagerDuty { url, routing_key, source })
            }
        }
    }
}

/// K as 32 bytes from 64 hex digits (`0x` allowed).
fn salt_key(secret: &secrecy::SecretString) -> eyre::Result<[u8; 32]> {
    use secrecy::ExposeSecret;
    let text = secret.expose_secret();
    let text = text.strip_prefix("0x").unwrap_or(text);
    let mut key = [0u8; 32];
    eyre::ensure!(text.len() == 64, "solvency_salt_key must be 32 bytes as 64 hex digits");
    alloy::hex::decode_to_slice(text, &mut key).map_err(|_| eyre::eyre!("solvency_salt_key is not hex"))?;
    Ok(key)
}

impl ReconcilerFile {
    /// The file text overlaid with `RECONCILER_DATABASE_URL`-style pairs ([`service_kit::config`]).
    pub fn from_sources(text: &str, env: impl IntoIterator<Item = (String, String)>) -> eyre::Result<Self> {
        let file: Self = service_kit::config::from_sources(text, "RECONCILER_", env)?;
        eyre::ensure!(file.interval_secs > 0, "interval_secs must be positive");
        Ok(file)
    }
}

fn default_max_lag() -> u64 {
    20
}
/// Runs in a row without a custody comparison before `custody_uncompared` pages (10 minutes at the default
/// interval of 60 s).
pub const DEFAULT_MAX_UNCOMPARED_RUNS: u64 = 10;

fn default_max_uncompared_runs() -> u64 {
    DEFAULT_MAX_UNCOMPARED_RUNS
}
fn default_interval() -> u64 {
    60
}
fn default_request_poll() -> u64 {
    1_000
}
fn default_native_decimals() -> u32 {
    18
}
fn default_rpc_timeout() -> u64 {
    10
}
fn default_log_range() -> u64 {
    2_000
}
/// Seconds an `admin_event` alert stays firing after it was first seen: a day, so that every shift sees it.
pub const DEFAULT_ADMIN_EVENT_HOLD_SECS: u64 = 86_400;

fn default_admin_event_hold() -> u64 {
    DEFAULT_ADMIN_EVENT_HOLD_SECS
}
fn default_preflight_interval() -> u64 {
    600
}
/// java-tron's `node.jsonrpc.maxBlockRange`: the most blocks one `eth_getLogs` may span on TRON.
pub const TRON_MAX_LOG_RANGE: u64 = 5_000;

impl ReconcilerConfig {
    /// Reads `path` overlaid with `RECONCILER_…` variables, and the chain spec it names.
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| eyre::eyre!("reading {}: {e}", path.display()))?;
        let file = ReconcilerFile::from_sources(&text, std::env::vars())?;
        let specs = ChainSpecs::load(&beside(path, &file.chain_spec))?;
        Self::resolve(file, &specs)
    }

    /// The file's text with its chains taken from the chain spec `specs` (the file's `chain_spec` is not read).
    pub fn parse(text: &str, specs: &ChainSpecs) -> eyre::Result<Self> {
        Self::resolve(ReconcilerFile::from_sources(text, std::iter::empty())?, specs)
    }

    /// `file` with its chains taken from `specs`; each chain needs an RPC endpoint (on TRON, the Solidity node's).
    pub fn resolve(file: ReconcilerFile, specs: &ChainSpecs) -> eyre::Result<Self> {
        let chains = specs.join(file.chains, |t| t.chain_id, ChainTuning::defaults)?;
        for (spec, _) in chains.iter().filter(|(spec, _)| spec.tron.is_none()) {
            spec.require_rpc_url("reconciler")?;
        }
        for (spec, tuning) in &chains {
            eyre::ensure!(tuning.max_log_range > 0, "chain {}: max_log_range must be positive", spec.chain_id);
            eyre::ensure!(
                spec.tron.is_none() || tuning.max_log_range <= TRON_MAX_LOG_RANGE,
                "chain {}: max_log_range is at most {TRON_MAX_LOG_RANGE} on TRON (java-tron refuses more)",
                spec.chain_id
            );
        }
        Ok(Self {
            database_url: file.database_url,
            chains: chains.into_iter().map(|(spec, tuning)| ChainConfig { spec, tuning }).collect(),
            sinks: file.sinks,
            max_lag_blocks: file.max_lag_blocks,
            max_uncompared_runs: file.max_uncompared_runs,
            interval_secs: file.interval_secs,
            request_poll_ms: file.request_poll_ms,
            metrics_address: file.metrics_address,
            runbook_base: file.runbook_base,
            solvency_salt_key: file.solvency_salt_key.as_ref().map(salt_key).transpose()?,
            admin_event_hold_secs: file.admin_event_hold_secs,
            signer_url: file.signer_url,
            preflight_interval_secs: file.preflight_interval_secs,
        })
    }

    /// `interval_secs` as a duration: the time between scheduled runs.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }

    /// `preflight_interval_secs` as a duration; `None`: the checks run only at start.
    pub fn preflight_interval(&self) -> Option<Duration> {
        (self.preflight_interval_secs > 0).then(|| Duration::from_secs(self.preflight_interval_secs))
    }

    /// `request_poll_ms` as a duration (at least 1 ms).
    pub fn request_poll(&self) -> Duration {
        Duration::from_millis(self.request_poll_ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
[[chains]]
chain_id = 31337
settlement = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
rpc_url = "http://127.0.0.1:8545"
confirmations = 2
start_block = 1
"#;

    #[test]
    fn parses_tuning_and_both_sink_kinds() {
        let config = ReconcilerConfig::parse(
            r#"
            database_url = "postgres://x"
            chain_spec = "chains.toml"
            max_lag_blocks = 5
            [[chains]]
            chain_id = 31337
            assets = ["0x0000000000000000000000000000000000000000"]
            [[sinks]]
            kind = "alertmanager"
            url = "http://127.0.0.1:9093/hook"
            receiver = "oncall"
            [[sinks]]
            kind = "pagerduty"
            url = "https://events.pagerduty.com/v2/enqueue"
            routing_key = "k"
            source = "devnet"
            "#,
            &ChainSpecs::parse(SPEC).unwrap(),
        )
        .unwrap();
        assert_eq!(config.chains[0].tuning.assets, [Address::ZERO]);
        assert_eq!(config.chains[0].spec.confirmations, 2);
        assert_eq!(config.interval_secs, 60);
        assert!(matches!(config.sinks[1].sink(), AlertSink::PagerDuty(_)));
        let stray = ReconcilerConfig::parse(
            "database_url = \"x\"\nchain_spec = \"c\"\n[[chains]]\nchain_id = 56\n",
            &ChainSpecs::parse(SPEC).unwrap(),
        )
        .unwrap_err();
        assert!(stray.to_string().contains("does not declare"), "{stray}");
    }

    #[test]
    fn the_example_config_loads_with_its_spec() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reconciler.example.toml");
        let config = ReconcilerConfig::load(&path).unwrap();
        assert_eq!(config.sinks.len(), 2);
        assert!(config.chains[0].tuning.assets.is_empty());
        assert_eq!(config.chains[0].spec.chain_id, 31337);
    }
}
