//! `reconciler <config.toml>`: chains to watch, where alerts go, how often; `RECONCILER_DATABASE_URL` overrides
//! the database.

use std::{path::Path, time::Duration};

use alloy::primitives::Address;
use serde::Deserialize;

use crate::alerts::{AlertSink, AlertmanagerWebhook, PagerDuty};

/// The reconciler's configuration file (TOML), overlaid with `RECONCILER_…` variables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcilerConfig {
    /// The ledger's Postgres database (`RECONCILER_DATABASE_URL` overrides it).
    pub database_url: String,
    /// The chains to reconcile; at least one.
    pub chains: Vec<ChainConfig>,
    /// Where alert changes are sent (each to every sink); none by default.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// Confirmed blocks the listener may be behind before `listener_lag` fires.
    #[serde(default = "default_max_lag")]
    pub max_lag_blocks: u64,
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
}

/// One chain to reconcile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The chain's id.
    pub chain_id: u64,
    /// The chain's JSON-RPC endpoint (on TRON, see `tron`).
    pub rpc_url: String,
    /// The Settlement contract (custody).
    pub contract: Address,
    /// The listener's confirmation depth on this chain (for the lag check).
    pub confirmations: u64,
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
    /// A TRON chain: `rpc_url` must be a Solidity node's JSON-RPC (java-tron serves no historical state; its
    /// Solidity node's `latest` is the solidified block, which custody is compared at). Set `confirmations = 0`
    /// as for the listener.
    #[serde(default)]
    pub tron: bool,
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

fn default_max_lag() -> u64 {
    20
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

impl ReconcilerConfig {
    /// Reads `path` overlaid with `RECONCILER_…` variables ([`service_kit::config`]).
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| eyre::eyre!("reading {}: {e}", path.display()))?;
        Self::from_sources(&text, std::env::vars())
    }

    /// The file text alone.
    pub fn parse(text: &str) -> eyre::Result<Self> {
        Self::from_sources(text, std::iter::empty())
    }

    /// The file text overlaid with `RECONCILER_DATABASE_URL`-style pairs.
    pub fn from_sources(text: &str, env: impl IntoIterator<Item = (String, String)>) -> eyre::Result<Self> {
        let config: Self = service_kit::config::from_sources(text, "RECONCILER_", env)?;
        eyre::ensure!(!config.chains.is_empty(), "no chains configured");
        eyre::ensure!(config.interval_secs > 0, "interval_secs must be positive");
        Ok(config)
    }

    /// `interval_secs` as a duration: the time between scheduled runs.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval_secs)
    }

    /// `request_poll_ms` as a duration (at least 1 ms).
    pub fn request_poll(&self) -> Duration {
        Duration::from_millis(self.request_poll_ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chains_and_both_sink_kinds() {
        let config = ReconcilerConfig::parse(
            r#"
            database_url = "postgres://x"
            max_lag_blocks = 5
            [[chains]]
            chain_id = 31337
            rpc_url = "http://127.0.0.1:8545"
            contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            confirmations = 2
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
        )
        .unwrap();
        assert_eq!(config.chains[0].assets, [Address::ZERO]);
        assert_eq!(config.interval_secs, 60);
        assert!(matches!(config.sinks[1].sink(), AlertSink::PagerDuty(_)));
    }

    #[test]
    fn the_example_config_parses() {
        let config = ReconcilerConfig::parse(include_str!("../reconciler.example.toml")).unwrap();
        assert_eq!(config.sinks.len(), 2);
        assert!(config.chains[0].assets.is_empty());
    }
}
