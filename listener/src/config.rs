//! Listener configuration: a TOML file overlaid with `LISTENER_…` variables ([`service_kit::config`]):
//! `LISTENER_DATABASE_URL` sets the database, `LISTENER_METRICS_ADDRESS` the metrics address. The chains come from
//! the chain spec the file names ([`service_kit::chain_spec`]); the file keeps only the listener's tuning of each.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use service_kit::chain_spec::{ChainSpec, ChainSpecs, beside};

/// The listener's configuration file (TOML), overlaid with `LISTENER_…` variables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerFile {
    /// The ledger's Postgres database (`LISTENER_DATABASE_URL` overrides it).
    pub database_url: String,
    /// The chain spec ([`service_kit::chain_spec`]): every chain it declares is followed, each behind its own
    /// advisory lock. A relative path is read beside this file.
    pub chain_spec: PathBuf,
    /// The listener's tuning per chain, keyed by `chain_id`; a chain without an entry gets the defaults.
    #[serde(default)]
    pub chains: Vec<ChainTuning>,
    /// Where to serve Prometheus metrics (`GET /metrics`: each chain's head, cursor, lag); none when unset.
    #[serde(default)]
    pub metrics_address: Option<SocketAddr>,
}

/// The listener's tuning of one chain (`[[chains]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainTuning {
    /// The chain, as the chain spec declares it.
    pub chain_id: u64,
    /// Milliseconds to wait after a poll that found no new confirmed block (default 1,000); after a transient
    /// fault the pause doubles from this, up to 30 s.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// Most blocks one `eth_getLogs` spans (default 2,000; at most 5,000 on TRON).
    #[serde(default = "default_range")]
    pub max_log_range: u64,
    /// Seconds before an RPC request is abandoned (a hung provider must not stall the chain).
    #[serde(default = "default_rpc_timeout")]
    pub rpc_timeout_secs: u64,
}

impl ChainTuning {
    /// The defaults for `chain_id`.
    pub fn defaults(chain_id: u64) -> Self {
        Self {
            chain_id,
            poll_interval_ms: default_poll_ms(),
            max_log_range: default_range(),
            rpc_timeout_secs: default_rpc_timeout(),
        }
    }
}

fn default_poll_ms() -> u64 {
    1_000
}
fn default_range() -> u64 {
    2_000
}
fn default_rpc_timeout() -> u64 {
    10
}

/// One chain to follow: its spec and the listener's tuning of it.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// The chain as the chain spec declares it.
    pub spec: ChainSpec,
    /// How the listener polls it.
    pub tuning: ChainTuning,
}

impl ChainConfig {
    /// `poll_interval_ms` as a duration.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.tuning.poll_interval_ms)
    }
}

/// The listener's configuration with its chains resolved from the chain spec.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// The ledger's Postgres database.
    pub database_url: String,
    /// The chains to follow; at least one, each with an RPC endpoint.
    pub chains: Vec<ChainConfig>,
    /// Where to serve Prometheus metrics; none when unset.
    pub metrics_address: Option<SocketAddr>,
}

impl ListenerConfig {
    /// Reads `path` overlaid with `LISTENER_…` variables, and the chain spec it names; fails when a chain has no
    /// RPC endpoint or a tuning entry names a chain the spec does not declare.
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let file: ListenerFile = service_kit::config::load(path, "LISTENER_")?;
        let specs = ChainSpecs::load(&beside(path, &file.chain_spec))?;
        Self::resolve(file, &specs)
    }

    /// `file` with its chains taken from `specs`.
    pub fn resolve(file: ListenerFile, specs: &ChainSpecs) -> eyre::Result<Self> {
        let chains = specs.join(file.chains, |t| t.chain_id, ChainTuning::defaults)?;
        for (spec, _) in &chains {
            spec.final_rpc_url("listener")?;
        }
        let chains = chains.into_iter().map(|(spec, tuning)| ChainConfig { spec, tuning }).collect();
        Ok(Self { database_url: file.database_url, chains, metrics_address: file.metrics_address })
    }
}

#[cfg(test)]
mod tests {
    use service_kit::chain_spec::TronFinality;

    use super::*;

    const SPEC: &str = r#"
[[chains]]
chain_id = 31337
settlement = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
rpc_url = "http://127.0.0.1:8545"
confirmations = 2
start_block = 1
[[chains]]
chain_id = 3448148188
settlement = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
rpc_url = "http://127.0.0.1:8555"
confirmations = 0
start_block = 3
[chains.tron]
grpc_url = "http://127.0.0.1:50051"
solidity_rpc_url = "http://127.0.0.1:8556"
"#;

    fn resolve(file: &str) -> eyre::Result<ListenerConfig> {
        let file: ListenerFile = service_kit::config::from_sources(file, "LISTENER_", std::iter::empty())?;
        ListenerConfig::resolve(file, &ChainSpecs::parse(SPEC)?)
    }

    #[test]
    fn every_chain_of_the_spec_is_followed_with_its_tuning_or_the_defaults() {
        let config = resolve(
            "database_url = \"postgres://x\"\nchain_spec = \"chains.toml\"\nmetrics_address = \"127.0.0.1:9102\"\n\
             [[chains]]\nchain_id = 3448148188\nmax_log_range = 5000\n",
        )
        .unwrap();
        assert_eq!(config.metrics_address, Some("127.0.0.1:9102".parse().unwrap()));
        let [evm, tron] = &config.chains[..] else { panic!("two chains") };
        assert_eq!(
            (evm.spec.confirmations, evm.tuning.max_log_range, evm.poll_interval()),
            (2, 2_000, Duration::from_secs(1))
        );
        assert_eq!(tron.tuning.max_log_range, 5_000);
        assert_eq!(
            tron.spec.final_rpc_url("listener").unwrap(),
            ("http://127.0.0.1:8556", Some(TronFinality::SolidityLatest))
        );
        assert!(resolve("database_url = \"x\"\nchain_spec = \"c\"\nmetrics_address = \"nope\"\n").is_err());
    }

    #[test]
    fn a_tuning_entry_for_an_undeclared_chain_and_the_old_chain_fields_are_refused() {
        let stray = resolve("database_url = \"x\"\nchain_spec = \"c\"\n[[chains]]\nchain_id = 56\n").unwrap_err();
        assert!(stray.to_string().contains("does not declare"), "{stray}");
        let old =
            resolve("database_url = \"x\"\nchain_spec = \"c\"\n[[chains]]\nchain_id = 31337\nconfirmations = 2\n")
                .unwrap_err();
        assert!(old.to_string().contains("confirmations"), "{old}");
    }

    #[test]
    fn the_example_config_and_spec_load_and_the_environment_overrides_them() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = ListenerConfig::load(&dir.join("listener.example.toml")).unwrap();
        assert_eq!(config.chains[0].spec.confirmations, 2);
        assert_eq!(config.metrics_address, Some("127.0.0.1:9102".parse().unwrap()));
        let text = include_str!("../listener.example.toml");
        let env = [("LISTENER_DATABASE_URL".to_string(), "postgres://elsewhere/db".to_string())];
        let file: ListenerFile = service_kit::config::from_sources(text, "LISTENER_", env).unwrap();
        assert_eq!(file.database_url, "postgres://elsewhere/db");
    }
}
