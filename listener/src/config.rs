//! Listener configuration: a TOML file overlaid with `LISTENER_…` variables ([`service_kit::config`]):
//! `LISTENER_DATABASE_URL` sets the database, `LISTENER_METRICS_ADDRESS` the metrics address.

use std::{net::SocketAddr, path::Path, time::Duration};

use alloy::primitives::Address;
use serde::Deserialize;

use crate::follower::TronFinality;

/// The listener's configuration file (TOML), overlaid with `LISTENER_…` variables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// The ledger's Postgres database (`LISTENER_DATABASE_URL` overrides it).
    pub database_url: String,
    /// The chains to follow, each behind its own advisory lock; at least one.
    pub chains: Vec<ChainConfig>,
    /// Where to serve Prometheus metrics (`GET /metrics`: each chain's head, cursor, lag); none when unset.
    #[serde(default)]
    pub metrics_address: Option<SocketAddr>,
}

/// One chain to follow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The chain's id.
    pub chain_id: u64,
    /// The chain's JSON-RPC endpoint (on TRON, see `tron`).
    pub rpc_url: String,
    /// The Settlement contract whose events are followed.
    pub contract: Address,
    /// Blocks below the head before a block is applied (BSC ≈ 15–24, anvil small).
    pub confirmations: u64,
    /// The Settlement deployment block: where an empty ledger starts reading.
    pub start_block: u64,
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
    /// Set for a TRON chain: `solidity_latest` (`rpc_url` is a Solidity node's JSON-RPC, whose `latest` is the
    /// solidified block) or `finalized_tag` (java-tron ≥ 4.8.0). Blocks are applied once solidified (set
    /// `confirmations = 0`: a solidified block is irreversible), log queries span at most 5,000 blocks, and a log
    /// answer that leaves out a direct call's logs is detected.
    #[serde(default)]
    pub tron: Option<TronFinality>,
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

impl ChainConfig {
    /// `poll_interval_ms` as a duration.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
}

impl ListenerConfig {
    /// Reads `path` overlaid with `LISTENER_…` variables; fails when no chain is configured, and warns of a
    /// TRON chain id configured without `tron`.
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let config: Self = service_kit::config::load(path, "LISTENER_")?;
        eyre::ensure!(!config.chains.is_empty(), "no chains configured");
        for chain in config
            .chains
            .iter()
            .filter(|c| c.tron.is_none() && abi::chain::Family::of(c.chain_id) == abi::chain::Family::Tron)
        {
            // Read as an EVM chain, a TRON chain's blocks are applied `confirmations` below the head, not once
            // solidified: right only for an EVM stand-in with a TRON chain id (the devnet's).
            tracing::warn!(chain_id = chain.chain_id, "a TRON chain id without `tron = …`: read as an EVM chain");
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_address_is_optional_and_parsed_when_given() {
        let chain = r#"
[[chains]]
chain_id = 31337
rpc_url = "http://127.0.0.1:8545"
contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
confirmations = 2
start_block = 1
"#;
        let without: ListenerConfig = toml::from_str(&format!("database_url = \"postgres://x\"\n{chain}")).unwrap();
        assert_eq!(without.metrics_address, None);
        let with: ListenerConfig =
            toml::from_str(&format!("database_url = \"postgres://x\"\nmetrics_address = \"127.0.0.1:9102\"\n{chain}"))
                .unwrap();
        assert_eq!(with.metrics_address, Some("127.0.0.1:9102".parse().unwrap()));
        assert!(
            toml::from_str::<ListenerConfig>(&format!("database_url = \"x\"\nmetrics_address = \"nope\"\n{chain}"))
                .is_err()
        );
    }

    #[test]
    fn a_tron_chain_names_how_its_solidified_head_is_read() {
        let chain = |tron: &str| {
            format!(
                "database_url = \"postgres://x\"\n[[chains]]\nchain_id = 3448148188\nrpc_url = \"http://127.0.0.1:8555\"\n\
                 contract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\nconfirmations = 0\nstart_block = 1\n{tron}"
            )
        };
        let parse = |tron: &str| toml::from_str::<ListenerConfig>(&chain(tron)).map(|c| c.chains[0].tron);
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("tron = \"solidity_latest\"").unwrap(), Some(TronFinality::SolidityLatest));
        assert_eq!(parse("tron = \"finalized_tag\"").unwrap(), Some(TronFinality::FinalizedTag));
        assert!(parse("tron = \"latest\"").is_err());
    }

    #[test]
    fn the_example_config_parses_and_the_environment_overrides_it() {
        let text = include_str!("../listener.example.toml");
        let config: ListenerConfig = service_kit::config::from_sources(text, "LISTENER_", std::iter::empty()).unwrap();
        assert_eq!(config.chains[0].confirmations, 2);
        assert_eq!(config.metrics_address, Some("127.0.0.1:9102".parse().unwrap()));
        let env = [("LISTENER_DATABASE_URL".to_string(), "postgres://elsewhere/db".to_string())];
        let config: ListenerConfig = service_kit::config::from_sources(text, "LISTENER_", env).unwrap();
        assert_eq!(config.database_url, "postgres://elsewhere/db");
    }
}
