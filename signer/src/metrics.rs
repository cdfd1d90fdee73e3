//! The signer's Prometheus metrics (`ops/metrics.md`, job `signer`): decisions by intent kind and outcome, the time
//! from an authenticated request to its decision, the time each group of double-sign records takes to commit
//! and each sync of the store's WAL that makes them durable, and a PKCS#11 key's token failures.

use std::time::Duration;

use crate::key::pkcs11::KeyMetrics;
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Decision {
    kind: &'static str,
    outcome: &'static str,
}

/// Buckets from 0.1 ms to ~3.3 s: a signature takes well under a millisecond, a commit or an fsync a few.
fn buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.0001, 2.0, 16)
}

/// Request outcomes by (kind, outcome), decision and store-commit times.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    decisions: Family<Decision, Counter>,
    decision_seconds: Histogram,
    many_intents: Histogram,
}

impl Metrics {
    /// The metrics of a signer whose store records commit times in `store_commits` and WAL sync times in
    /// `store_syncs`, and whose token keys (if any) count their failures in `key`.
    pub fn new(store_commits: Histogram, store_syncs: Histogram, key: KeyMetrics) -> Self {
        let mut registry = Registry::default();
        service_kit::stall::register(&mut registry);
        let decisions = Family::<Decision, Counter>::default();
        let decision_seconds = Histogram::new(buckets());
        registry.register("signer_requests", "Sign requests by intent kind and outcome", decisions.clone());
        registry.register(
            "signer_decision_seconds",
            "Time from authenticated request to decision",
            decision_seconds.clone(),
        );
        registry.register(
            "signer_store_commit_seconds",
            "Time to commit a group of signature records to the double-sign store (WAL written, not yet synced)",
            store_commits,
        );
        registry.register(
            "signer_store_sync_seconds",
            "Time to fdatasync the double-sign store's WAL, after which the groups committed before it are answered",
            store_syncs,
        );
        registry.register(
            "signer_key_failures",
            "Failed calls into the PKCS#11 token holding a signing key (signing, or connecting again); each is logged with its reason",
            key.failures,
        );
        registry.register(
            "signer_key_unavailable",
            "1 while the PKCS#11 token of the key with this address cannot sign (its last attempt failed)",
            key.unavailable,
        );
        let many_intents = Histogram::new(exponential_buckets(1.0, 2.0, 7));
        registry.register(
            "signer_many_intents",
            "Intents per POST /v1/sign/many request: signing calls a client sent together",
            many_intents.clone(),
        );
        Metrics { registry, decisions, decision_seconds, many_intents }
    }

    /// A histogram for [`crate::store::Store`] to record its commit or WAL sync times in.
    pub fn store_histogram() -> Histogram {
        Histogram::new(buckets())
    }

    /// `kind` is the intent kind (or "any" before parsing); `outcome` a stable code such as "signed".
    pub fn record(&self, kind: &'static str, outcome: &'static str) {
        self.decisions.get_or_create(&Decision { kind, outcome }).inc();
    }

    /// One request's time from its authenticated body to its decisions (`signer_decision_seconds`).
    pub fn observe_signing(&self, elapsed: Duration) {
        self.decision_seconds.observe(elapsed.as_secs_f64());
    }

    /// One `POST /v1/sign/many` request carrying `intents` intents.
    pub fn observe_many(&self, intents: usize) {
        self.many_intents.observe(intents as f64);
    }

    /// Every metric in Prometheus text format, for `GET /metrics`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(Metrics::store_histogram(), Metrics::store_histogram(), KeyMetrics::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_prometheus_text_format() {
        let (commits, syncs) = (Metrics::store_histogram(), Metrics::store_histogram());
        let key = KeyMetrics::default();
        let m = Metrics::new(commits.clone(), syncs.clone(), key.clone());
        key.failures.inc();
        key.unavailable.get_or_create(&crate::key::pkcs11::KeyLabels { address: "0x01".into() }).set(0);
        m.record("register", "signed");
        m.record("register", "signed");
        m.record("payout_batch", "policy.per_batch_cap");
        m.observe_signing(Duration::from_millis(2));
        m.observe_many(5);
        commits.observe(0.004);
        syncs.observe(0.0002);
        syncs.observe(0.0002);
        let text = m.render();
        assert!(text.contains("signer_requests_total{kind=\"register\",outcome=\"signed\"} 2\n"), "{text}");
        assert!(text.contains("signer_requests_total{kind=\"payout_batch\",outcome=\"policy.per_batch_cap\"} 1\n"));
        assert!(text.contains("signer_decision_seconds_count 1\n"), "{text}");
        assert!(text.contains("signer_store_commit_seconds_count 1\n"), "{text}");
        assert!(text.contains("signer_store_commit_seconds_bucket{le=\"0.0064\"} 1\n"), "{text}");
        assert!(text.contains("signer_store_sync_seconds_count 2\n"), "{text}");
        assert!(text.contains("signer_many_intents_bucket{le=\"4.0\"} 0\n"), "{text}");
        assert!(text.contains("signer_many_intents_bucket{le=\"8.0\"} 1\n"), "{text}");
        assert!(text.contains("signer_key_failures_total 1\n"), "{text}");
        assert!(text.contains("signer_key_unavailable{address=\"0x01\"} 0\n"), "{text}");
    }
}
