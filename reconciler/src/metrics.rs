//! The reconciler's metrics (`ops/metrics.md`, job `reconciler`) on `metrics_address`: per asset, when it last
//! reconciled, the custody variance and the solvency margin of its latest result (whole units), the alerts firing
//! by check, the contract's pending changes per chain and kind and the seconds until the earliest may apply, and
//! each configured operator's native balance — read at scrape time from the ledger (so they show what the
//! reconciler last recorded) and from the chain.

use std::{collections::BTreeMap, sync::atomic::AtomicU64, time::Duration};

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{family::Family, gauge::Gauge},
    registry::Registry,
};
use sqlx::PgPool;

use crate::{alerts::Alert, config::ReconcilerConfig};

type F64Gauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AssetLabels {
    asset_id: i32,
    symbol: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabel {
    check: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainLabel {
    chain_id: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChangeLabels {
    chain_id: u64,
    kind: String,
}

/// The checks an alert can come from: each is shown, 0 when nothing of it fires (an absent series is no zero).
const CHECKS: [&str; 16] = [
    "custody",
    "custody_uncompared",
    "solvency",
    "listener_lag",
    "listener_halted",
    "quarantine",
    "stuck_batch",
    "reconciler_blind",
    "solvency_commitment",
    "solvency_insolvent",
    "solvency_proof",
    "solvency_stale",
    "pending_change",
    "admin_event",
    "preflight",
    "exit_open",
];

/// What a scrape reads: the ledger and, per chain with an `operator`, its provider.
#[derive(Debug, Clone)]
pub struct ReconcilerMetrics {
    pool: PgPool,
    operators: Vec<(u64, Address, u32, DynProvider)>,
    /// Every chain reconciled: each shows its pending changes, 0 of each kind when none.
    chains: Vec<u64>,
}

impl ReconcilerMetrics {
    /// Metrics over the ledger at `pool`, with an RPC provider for each chain of `config` that names an
    /// `operator`.
    pub fn from_config(pool: PgPool, config: &ReconcilerConfig) -> eyre::Result<Self> {
        let mut operators = Vec::new();
        for chain in &config.chains {
            if let Some(operator) = chain.tuning.operator {
                let http = chain.spec.http_client(Duration::from_secs(chain.tuning.rpc_timeout_secs))?;
                // The operator's balance at the head: any node's JSON-RPC (on TRON the full node's, else the
                // Solidity node's).
                let url = match (&chain.spec.rpc_url, &chain.spec.tron) {
                    (Some(url), _) => url.as_str(),
                    (None, Some(tron)) => tron.solidity_rpc_url.as_str(),
                    (None, None) => chain.spec.require_rpc_url("reconciler")?,
                };
                let provider = ProviderBuilder::new().connect_reqwest(http, url.parse()?).erased();
                operators.push((chain.spec.chain_id, operator, chain.tuning.native_decimals, provider));
            }
        }
        let chains = config.chains.iter().map(|c| c.spec.chain_id).collect();
        Ok(Self { pool, operators, chains })
    }

    /// Everything in OpenMetrics text; `None` when the ledger cannot be read (the scrape fails, no zeros).
    pub async fn render(&self) -> Option<String> {
        match self.registry().await {
            Ok(registry) => {
                let mut out = String::new();
                encode(&mut out, &registry).ok()?;
                Some(out)
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the ledger could not be read");
                None
            }
        }
    }

    async fn registry(&self) -> Result<Registry, sqlx::Error> {
        let mut registry = Registry::default();
        service_kit::stall::register(&mut registry);
        let last_run = Family::<AssetLabels, F64Gauge>::default();
        let variance = Family::<AssetLabels, F64Gauge>::default();
        let margin = Family::<AssetLabels, F64Gauge>::default();
        let firing = Family::<CheckLabel, Gauge>::default();
        let balances = Family::<ChainLabel, F64Gauge>::default();
        let pending = Family::<ChangeLabels, Gauge>::default();
        let ready_in = Family::<ChainLabel, Gauge>::default();
        // The latest result of every asset; figures in whole units.
        let rows = ledger::monitoring::latest_results(&self.pool).await?;
        for (asset_id, symbol, at, v, m) in rows {
            let labels = AssetLabels { asset_id, symbol };
            last_run.get_or_create(&labels).set(at);
            variance.get_or_create(&labels).set(v);
            margin.get_or_create(&labels).set(m);
        }
        let counts = ledger::monitoring::firing_by_check(&self.pool).await?;
        let mut by_check: BTreeMap<String, i64> = CHECKS.iter().map(|c| ((*c).to_owned(), 0)).collect();
        by_check.extend(counts);
        for (check, n) in by_check {
            firing.get_or_create(&CheckLabel { check }).set(n);
        }
        let alerts: Vec<Alert> = ledger::monitoring::firing(&self.pool)
            .await?
            .into_iter()
            .filter_map(|f| serde_json::from_value(f.alert).ok())
            .collect();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let (counts, earliest) = pending_changes(&self.chains, &alerts, now);
        for ((chain_id, kind), n) in counts {
            pending.get_or_create(&ChangeLabels { chain_id, kind }).set(n);
        }
        for (chain_id, secs) in earliest {
            ready_in.get_or_create(&ChainLabel { chain_id }).set(secs);
        }
        for (chain_id, operator, decimals, provider) in &self.operators {
            match provider.get_balance(*operator).await {
                Ok(wei) => {
                    balances.get_or_create(&ChainLabel { chain_id: *chain_id }).set(whole_units(wei, *decimals));
                }
                Err(e) => tracing::warn!(chain_id, error = %e, "metrics: operator balance unavailable"),
            }
        }
        registry.register("reconciler_last_run_timestamp_seconds", "When the asset was last reconciled", last_run);
        registry.register("reconciler_variance", "Custody minus what the ledger expects (whole units)", variance);
        registry.register("reconciler_solvency_margin", "Custody minus user liabilities (whole units)", margin);
        registry.register("reconciler_alerts_firing", "Alerts firing after the last run, by check", firing);
        registry.register("operator_balance", "The payout operator's native balance (whole units)", balances);
        registry.register(
            "reconciler_pending_changes",
            "Changes of the contract's powers waiting their delay, by chain and kind",
            pending,
        );
        registry.register(
            "reconciler_pending_change_ready_seconds",
            "Seconds until the earliest pending change of the chain may be applied (negative: it may already)",
            ready_in,
        );
        Ok(registry)
    }
}

/// From the `pending_change` alerts firing: the pending changes per (chain, kind) — every kind of every chain in
/// `chains` shown, 0 when none — and per chain with any, seconds from `now` until the earliest may apply.
fn pending_changes(chains: &[u64], alerts: &[Alert], now: u64) -> (BTreeMap<(u64, String), i64>, BTreeMap<u64, i64>) {
    let mut counts: BTreeMap<(u64, String), i64> = chains
        .iter()
        .flat_map(|chain| crate::changes::KINDS.iter().map(move |kind| ((*chain, (*kind).to_owned()), 0)))
        .collect();
    let mut earliest: BTreeMap<u64, i64> = BTreeMap::new();
    for alert in alerts.iter().filter(|a| a.check == crate::changes::PENDING_CHANGE) {
        let detail = |k: &str| alert.details.get(k);
        let Some(chain) = detail("chain_id").and_then(|c| c.parse::<u64>().ok()) else { continue };
        let kind = detail("kind").cloned().unwrap_or_else(|| "unknown".to_owned());
        *counts.entry((chain, kind)).or_default() += 1;
        if let Some(ready_at) = detail("ready_at").and_then(|r| r.parse::<i64>().ok()) {
            let secs = ready_at - i64::try_from(now).unwrap_or(i64::MAX);
            earliest.entry(chain).and_modify(|e| *e = (*e).min(secs)).or_insert(secs);
        }
    }
    (counts, earliest)
}

/// `v` base units in whole units of a coin with `decimals`, as a float (exact enough for dashboards and thresholds).
fn whole_units(v: U256, decimals: u32) -> f64 {
    let scale = U256::from(10).pow(U256::from(decimals));
    let (int, frac) = (v / scale, v % scale);
    f64::from(int) + f64::from(frac) / f64::from(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_changes_are_counted_by_chain_and_kind_with_the_earliest_countdown() {
        use crate::alerts::Severity;
        let change = |chain: u64, kind: &str, ready_at: u64| {
            Alert::new("pending_change", &[&chain.to_string(), kind], Severity::Critical, "x")
                .detail("chain_id", chain)
                .detail("kind", kind)
                .detail("ready_at", ready_at)
        };
        let custody = Alert::new("custody", &["1"], Severity::Critical, "x").detail("chain_id", 1);
        let alerts = [change(1, "signer_rotation", 1_500), change(1, "push_gas", 900), custody];
        let (counts, earliest) = pending_changes(&[1, 2], &alerts, 1_000);
        assert_eq!(counts.len(), 14, "every kind of every chain: {counts:?}");
        assert_eq!(counts[&(1, "signer_rotation".to_owned())], 1);
        assert_eq!(counts[&(1, "push_gas".to_owned())], 1);
        assert_eq!(counts[&(2, "role_grant".to_owned())], 0);
        assert_eq!(earliest, BTreeMap::from([(1, -100)]), "one may already be applied");
    }

    #[test]
    fn base_units_become_whole_units() {
        assert_eq!(whole_units(U256::from(1_500_000_000_000_000_000u128), 18), 1.5);
        assert_eq!(whole_units(U256::ZERO, 18), 0.0);
        assert_eq!(whole_units(U256::from(7u8), 0), 7.0);
    }
}
