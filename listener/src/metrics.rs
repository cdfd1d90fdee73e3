//! The listener's metrics as Prometheus text (`GET /metrics`): what this process counted while following (blocks,
//! events, poll errors, range sizes) and the chain as the ledger has it, read from the database so that any
//! instance — the active one or a standby — reports the same lag.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{Arc, Mutex},
};

use ledger::{ListenerStatus, events::ChainEvent, listener_statuses};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use sqlx::PgPool;

/// The metrics of `chains` (every chain the ledger knows when empty), in Prometheus' text format.
fn render_statuses(statuses: &[ListenerStatus], chains: &[u64]) -> String {
    let shown: Vec<&ListenerStatus> =
        statuses.iter().filter(|s| chains.is_empty() || chains.contains(&s.chain_id)).collect();
    let mut out = String::new();
    let mut family = |name: &str, help: &str, value: &dyn Fn(&ListenerStatus) -> Option<f64>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for s in &shown {
            if let Some(v) = value(s) {
                let _ = writeln!(out, "{name}{{chain_id=\"{}\"}} {v}", s.chain_id);
            }
        }
    };
    family("listener_chain_head", "Chain head block the listener last saw.", &|s| s.chain_head.map(|v| v as f64));
    family("listener_confirmed_block", "Last confirmed block applied in full.", &|s| {
        s.confirmed_block.map(|v| v as f64)
    });
    family("listener_lag_blocks", "Confirmed blocks (head minus confirmation depth) not yet applied.", &|s| {
        s.lag_blocks.map(|v| v as f64)
    });
    family("listener_head_age_seconds", "Seconds since the listener last saw the chain head.", &|s| s.head_age_seconds);
    family("listener_halted", "1 when the listener stopped itself on this chain.", &|s| {
        Some(if s.halted_reason.is_some() { 1.0 } else { 0.0 })
    });
    out
}

/// What this process counted while following its chains (`ops/metrics.md`): blocks and events applied, poll
/// errors by kind, blocks per applied poll, and the timestamp of the last block it applied.
#[derive(Debug)]
pub struct ListenerMetrics {
    registry: Registry,
    blocks: Family<ChainLabel, Counter>,
    events: Family<ChainKind, Counter>,
    poll_errors: Family<ChainKind, Counter>,
    range: Family<ChainLabel, Histogram>,
    last_applied_timestamp: Mutex<BTreeMap<u64, u64>>,
}

/// The values of `listener_poll_errors_total`'s `kind` ([`crate::service::ListenerError::kind`]).
const POLL_ERROR_KINDS: [&str; 8] =
    ["range_too_large", "rate_limited", "timeout", "provider", "inconsistent", "halted", "database", "other"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainLabel {
    chain_id: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChainKind {
    chain_id: u64,
    kind: &'static str,
}

impl Default for ListenerMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        service_kit::stall::register(&mut registry);
        let blocks = Family::<ChainLabel, Counter>::default();
        let events = Family::<ChainKind, Counter>::default();
        let poll_errors = Family::<ChainKind, Counter>::default();
        let range = Family::<ChainLabel, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(1.0, 2.0, 14))) as fn() -> Histogram,
        );
        registry.register("listener_blocks_applied", "Confirmed blocks applied", blocks.clone());
        registry.register("listener_events_applied", "Contract events stored (applied or quarantined)", events.clone());
        registry.register("listener_poll_errors", "Failed polls by kind", poll_errors.clone());
        registry.register("listener_range_blocks", "Blocks applied per poll that applied any", range.clone());
        ListenerMetrics { registry, blocks, events, poll_errors, range, last_applied_timestamp: Mutex::default() }
    }
}

impl ListenerMetrics {
    /// One poll applied `blocks` blocks through one whose timestamp is `last_timestamp`, with `events`.
    pub fn applied(&self, chain_id: u64, blocks: usize, last_timestamp: u64, events: &[ChainEvent]) {
        self.blocks.get_or_create(&ChainLabel { chain_id }).inc_by(blocks as u64);
        self.range.get_or_create(&ChainLabel { chain_id }).observe(blocks as f64);
        for event in events {
            self.events.get_or_create(&ChainKind { chain_id, kind: event.body.name() }).inc();
        }
        self.last_applied_timestamp.lock().unwrap_or_else(|p| p.into_inner()).insert(chain_id, last_timestamp);
    }

    /// Shows every poll-error kind of `chain_id` at 0 (rules then see a zero, not an absent series).
    pub fn follow(&self, chain_id: u64) {
        for kind in POLL_ERROR_KINDS {
            self.poll_errors.get_or_create(&ChainKind { chain_id, kind }).inc_by(0);
        }
        self.blocks.get_or_create(&ChainLabel { chain_id }).inc_by(0);
    }

    /// A poll failed with an error of `kind` (bounded: `range_too_large`, `rate_limited`, `timeout`, `provider`,
    /// `inconsistent`, `database`, `other`).
    pub fn poll_error(&self, chain_id: u64, kind: &'static str) {
        self.poll_errors.get_or_create(&ChainKind { chain_id, kind }).inc();
    }

    /// The counters, then the ledger's view of each chain (`statuses`) with the lag in seconds: how long ago the
    /// last block this process applied was mined, while confirmed blocks wait; 0 when caught up.
    pub fn render(&self, statuses: &[ListenerStatus], chains: &[u64], now: u64) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        let counters = out.strip_suffix("# EOF\n").unwrap_or(&out).to_owned();
        let mut text = counters + &render_statuses(statuses, chains);
        let last = self.last_applied_timestamp.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let _ = writeln!(
            text,
            "# HELP listener_lag_seconds Age of the last applied block while confirmed blocks wait; 0 when caught up.\n\
             # TYPE listener_lag_seconds gauge"
        );
        for s in statuses.iter().filter(|s| chains.is_empty() || chains.contains(&s.chain_id)) {
            let lag = match (s.lag_blocks, last.get(&s.chain_id)) {
                (Some(0), _) => Some(0),
                (Some(_), Some(t)) => Some(now.saturating_sub(*t)),
                _ => None,
            };
            if let Some(lag) = lag {
                let _ = writeln!(text, "listener_lag_seconds{{chain_id=\"{}\"}} {lag}", s.chain_id);
            }
        }
        text.push_str("# EOF\n");
        text
    }
}

/// Serves `GET /metrics` (and `/health`) on `listener` until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    pool: PgPool,
    chains: Vec<u64>,
    metrics: Arc<ListenerMetrics>,
) -> std::io::Result<()> {
    service_kit::metrics::serve(listener, move || {
        let (pool, chains, metrics) = (pool.clone(), chains.clone(), metrics.clone());
        async move {
            match listener_statuses(&pool).await {
                Ok(statuses) => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or_default();
                    Some(metrics.render(&statuses, &chains, now))
                }
                Err(e) => {
                    tracing::error!(error = %e, "metrics: database unavailable");
                    None
                }
            }
        }
    })
    .await
}
