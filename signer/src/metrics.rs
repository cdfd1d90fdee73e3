//! Prometheus counters in the text exposition format; a handful of series does not need a metrics library.

use std::{collections::BTreeMap, fmt::Write, sync::Mutex, time::Duration};

/// Request outcomes by (kind, outcome), plus the time spent deciding signed requests.
#[derive(Debug, Default)]
pub struct Metrics {
    decisions: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    signing: Mutex<(u64, f64)>,
}

impl Metrics {
    /// `kind` is the intent kind (or "unknown" before parsing); `outcome` a stable code such as "signed".
    pub fn record(&self, kind: &'static str, outcome: &'static str) {
        *self.decisions.lock().unwrap_or_else(|p| p.into_inner()).entry((kind, outcome)).or_default() += 1;
    }

    pub fn observe_signing(&self, elapsed: Duration) {
        let mut s = self.signing.lock().unwrap_or_else(|p| p.into_inner());
        s.0 += 1;
        s.1 += elapsed.as_secs_f64();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP signer_requests_total Sign requests by intent kind and outcome.\n");
        out.push_str("# TYPE signer_requests_total counter\n");
        for ((kind, outcome), n) in self.decisions.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "signer_requests_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}");
        }
        let (count, sum) = *self.signing.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP signer_decision_seconds Time from authenticated request to decision.\n");
        out.push_str("# TYPE signer_decision_seconds summary\n");
        let _ = writeln!(out, "signer_decision_seconds_sum {sum}");
        let _ = writeln!(out, "signer_decision_seconds_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_text_format() {
        let m = Metrics::default();
        m.record("register", "signed");
        m.record("register", "signed");
        m.record("payout_batch", "policy.per_batch_cap");
        let text = m.render();
        assert!(text.contains("signer_requests_total{kind=\"register\",outcome=\"signed\"} 2\n"), "{text}");
        assert!(text.contains("signer_requests_total{kind=\"payout_batch\",outcome=\"policy.per_batch_cap\"} 1\n"));
    }
}
