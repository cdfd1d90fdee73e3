//! Alerts and the sinks that page people: Prometheus Alertmanager's webhook format and PagerDuty Events v2.
//!
//! An alert is identified by a stable dedup key built from what it is about (check, chain, asset), never
//! from the values it reports, so a condition that persists updates one incident instead of opening many,
//! and clears it with a `resolved` / `resolve` message when it goes away.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How urgent an alert is; sent as the `severity` label (Alertmanager) or field (PagerDuty).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Sent as `warning` (e.g. listener lag, quarantined events).
    Warning,
    /// Sent as `critical` (e.g. a custody variance, insolvency, a halted listener, a stuck batch).
    Critical,
}

/// A condition that needs a person, as found by one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable identity: `check:chain:asset` (e.g. `custody:56:0x0000…`).
    pub dedup_key: String,
    /// The check that raised it (custody, solvency, listener_lag, listener_halted, quarantine, stuck_batch,
    /// pending_change, admin_event…).
    pub check: String,
    /// How urgent it is.
    pub severity: Severity,
    /// One line for the person paged (Alertmanager `summary` annotation, PagerDuty `payload.summary`).
    pub summary: String,
    /// Exact figures (variance in base units, block, lag…), shown to the person paged.
    pub details: BTreeMap<String, String>,
    /// The runbook of this check (`ops/runbooks/`), set when it is sent if a `runbook_base` is configured; not
    /// part of what decides a re-send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
}

impl Alert {
    /// An alert of `check` about `scope` (chain, asset…), keyed `check:scope…`, with no details yet.
    pub fn new(check: &str, scope: &[&str], severity: Severity, summary: impl Into<String>) -> Self {
        let mut dedup_key = check.to_owned();
        for part in scope {
            dedup_key.push(':');
            dedup_key.push_str(part);
        }
        Self {
            dedup_key,
            check: check.to_owned(),
            severity,
            summary: summary.into(),
            details: BTreeMap::new(),
            runbook_url: None,
        }
    }

    /// This alert with the URL of its check's runbook under `base` (`ops/runbooks/<Alert>.md`, the page of the
    /// Prometheus alert that watches the same condition).
    pub fn with_runbook(mut self, base: Option<&str>) -> Self {
        self.runbook_url = base.map(|base| format!("{}/{}.md", base.trim_end_matches('/'), runbook_of(&self.check)));
        self
    }

    /// This alert with detail `key` set to `value`.
    pub fn detail(mut self, key: &str, value: impl ToString) -> Self {
        self.details.insert(key.to_owned(), value.to_string());
        self
    }

    /// This alert as sent at `now` (unix seconds): one with a `ready_at` detail (a pending change) still to come
    /// says in how long, in its summary and as `applies_in`. Not stored: the countdown moves with every run, and
    /// would otherwise re-send the alert each time.
    pub fn with_countdown(mut self, now: u64) -> Self {
        let ready_at = self.details.get("ready_at").and_then(|r| r.parse::<u64>().ok());
        if let Some(ready_at) = ready_at.filter(|r| *r > now) {
            let left = span(ready_at - now);
            self.summary = format!("{} (in {left})", self.summary);
            self.details.insert("applies_in".to_owned(), left);
        }
        self
    }
}

/// The runbook page (`ops/runbooks/<name>.md`) for a reconciler check.
pub fn runbook_of(check: &str) -> &'static str {
    match check {
        "custody" => "CustodyVariance",
        "solvency" => "SolvencyMarginLow",
        "listener_lag" => "ListenerLagBlocksHigh",
        "listener_halted" => "ListenerHalted",
        "stuck_batch" => "PayoutBatchStuck",
        "solvency_commitment" => "SolvencyCommitmentMismatch",
        "solvency_insolvent" => "SolvencyCommitmentInsolvent",
        "solvency_proof" => "SolvencyProofInvalid",
        "solvency_stale" => "SolvencyCommitmentStale",
        "pending_change" => "SettlementChangePending",
        "admin_event" => "SettlementAdminEvent",
        "preflight" => "PreflightFinding",
        "exit_open" => "MembersExitOpen",
        _ => "ReconcilerCheckFiring",
    }
}

/// Details that move with every run without the condition changing (the block it was read at, how far behind
/// the listener is, when an admin event was first seen): shown when an alert is sent, but a change in them alone
/// does not re-send it.
pub const VOLATILE_DETAILS: [&str; 4] = ["block", "last_applied_block", "lag_blocks", "seen_at"];

impl Alert {
    /// What a re-send is decided on: everything but the [`VOLATILE_DETAILS`].
    fn material(&self) -> (&str, Severity, &str, BTreeMap<&str, &str>) {
        let details = self
            .details
            .iter()
            .filter(|(k, _)| !VOLATILE_DETAILS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        (&self.check, self.severity, &self.summary, details)
    }
}

/// What to send after a check run, given the alerts that were firing before it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AlertChanges {
    /// New conditions, and firing ones whose figures changed (re-sent under the same key).
    pub fire: Vec<Alert>,
    /// Conditions that were firing and are gone.
    pub resolve: Vec<Alert>,
}

/// Compares the alerts firing before a run with the ones the run found.
pub fn diff(firing_before: &[Alert], found_now: &[Alert]) -> AlertChanges {
    let before: BTreeMap<&str, &Alert> = firing_before.iter().map(|a| (a.dedup_key.as_str(), a)).collect();
    let now: BTreeMap<&str, &Alert> = found_now.iter().map(|a| (a.dedup_key.as_str(), a)).collect();
    AlertChanges {
        fire: now
            .iter()
            .filter(|(k, a)| before.get(*k).map(|b| b.material()) != Some(a.material()))
            .map(|(_, a)| (*a).clone())
            .collect(),
        resolve: before.iter().filter(|(k, _)| !now.contains_key(*k)).map(|(_, a)| (*a).clone()).collect(),
    }
}

/// Whether a sink message opens or clears an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The condition is new or its figures changed: Alertmanager `firing`, PagerDuty `trigger`.
    Fire,
    /// The condition is gone: Alertmanager `resolved`, PagerDuty `resolve`.
    Resolve,
}

/// A Prometheus Alertmanager-compatible webhook receiver (the body Alertmanager itself would POST).
#[derive(Clone, Debug)]
pub struct AlertmanagerWebhook {
    /// Where the webhook body is POSTed.
    pub url: String,
    /// The `receiver` named in the body.
    pub receiver: String,
}

/// A PagerDuty Events API v2 endpoint and the integration's routing key.
#[derive(Clone, Debug)]
pub struct PagerDuty {
    /// The Events API endpoint (e.g. `https://events.pagerduty.com/v2/enqueue`).
    pub url: String,
    /// The integration's routing key, sent with every event.
    pub routing_key: String,
    /// `source` field: which deployment is paging.
    pub source: String,
}

/// Where alerts go; one run sends each change to every sink.
#[derive(Clone, Debug)]
pub enum AlertSink {
    /// An Alertmanager-compatible webhook receiver.
    Alertmanager(AlertmanagerWebhook),
    /// A PagerDuty Events API v2 integration.
    PagerDuty(PagerDuty),
}

/// A sink did not take an alert message: the request failed or the answer was not 2xx.
#[derive(Debug, thiserror::Error)]
#[error("alert sink {sink} refused {dedup_key}: {reason}")]
pub struct SinkError {
    /// The sink's URL.
    pub sink: String,
    /// The alert's dedup key.
    pub dedup_key: String,
    /// The transport error, or `HTTP <status>`.
    pub reason: String,
}

impl AlertSink {
    /// The JSON body this sink expects for `alert` at `transition`; `at` is RFC 3339.
    pub fn body(&self, alert: &Alert, transition: Transition, at: &str) -> Value {
        match self {
            Self::Alertmanager(am) => alertmanager_body(am, alert, transition, at),
            Self::PagerDuty(pd) => pagerduty_body(pd, alert, transition, at),
        }
    }

    /// Stable name of this sink (kind and URL): what it is still owed is kept under this name.
    pub fn id(&self) -> String {
        match self {
            Self::Alertmanager(am) => format!("alertmanager:{}", am.url),
            Self::PagerDuty(pd) => format!("pagerduty:{}", pd.url),
        }
    }

    fn url(&self) -> &str {
        match self {
            Self::Alertmanager(am) => &am.url,
            Self::PagerDuty(pd) => &pd.url,
        }
    }

    /// POSTs the [`body`](Self::body) for `alert` at `transition` to this sink; a non-2xx answer is an error.
    pub async fn send(
        &self,
        client: &reqwest::Client,
        alert: &Alert,
        transition: Transition,
        at: &str,
    ) -> Result<(), SinkError> {
        let error =
            |reason: String| SinkError { sink: self.url().to_owned(), dedup_key: alert.dedup_key.clone(), reason };
        let response = client
            .post(self.url())
            .json(&self.body(alert, transition, at))
            .send()
            .await
            .map_err(|e| error(e.to_string()))?;
        if !response.status().is_success() {
            return Err(error(format!("HTTP {}", response.status())));
        }
        Ok(())
    }
}

fn alertmanager_body(am: &AlertmanagerWebhook, alert: &Alert, transition: Transition, at: &str) -> Value {
    let status = match transition {
        Transition::Fire => "firing",
        Transition::Resolve => "resolved",
    };
    let mut labels = BTreeMap::from([
        ("alertname".to_owned(), format!("referral_{}", alert.check)),
        ("severity".to_owned(), format!("{:?}", alert.severity).to_lowercase()),
        ("dedup_key".to_owned(), alert.dedup_key.clone()),
    ]);
    labels.extend(
        alert
            .details
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "chain_id" | "asset"))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let description = alert.details.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    let ends_at = if transition == Transition::Resolve { at } else { "0001-01-01T00:00:00Z" };
    let mut annotations = json!({ "summary": alert.summary, "description": description });
    if let Some(url) = &alert.runbook_url {
        annotations["runbook_url"] = json!(url);
    }
    json!({
        "version": "4",
        "groupKey": format!("{{}}:{{dedup_key=\"{}\"}}", alert.dedup_key),
        "truncatedAlerts": 0,
        "status": status,
        "receiver": am.receiver,
        "groupLabels": { "dedup_key": alert.dedup_key },
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [{
            "status": status,
            "labels": labels,
            "annotations": annotations,
            "startsAt": at,
            "endsAt": ends_at,
            "generatorURL": "",
            "fingerprint": fingerprint(&alert.dedup_key),
        }],
    })
}

fn pagerduty_body(pd: &PagerDuty, alert: &Alert, transition: Transition, at: &str) -> Value {
    match transition {
        Transition::Resolve => json!({
            "routing_key": pd.routing_key,
            "event_action": "resolve",
            "dedup_key": alert.dedup_key,
        }),
        Transition::Fire => json!({
            "routing_key": pd.routing_key,
            "event_action": "trigger",
            "dedup_key": alert.dedup_key,
            "links": alert.runbook_url.iter().map(|href| json!({ "href": href, "text": "Runbook" })).collect::<Vec<_>>(),
            "payload": {
                "summary": alert.summary,
                "source": pd.source,
                "severity": match alert.severity { Severity::Critical => "critical", Severity::Warning => "warning" },
                "timestamp": at,
                "component": "settlement",
                "group": alert.details.get("chain_id").cloned().unwrap_or_default(),
                "class": alert.check,
                "custom_details": alert.details,
            },
        }),
    }
}

/// Alertmanager fingerprints are 16 hex digits; ours is stable per dedup key (FNV-1a).
fn fingerprint(key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// A span of `secs` seconds as on-call reads it: `2d 23h 59m`, `1h 5m`, `4m 10s`, `9s`.
pub fn span(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custody(variance: &str) -> Alert {
        Alert::new(
            "custody",
            &["31337", "0x0000000000000000000000000000000000000000"],
            Severity::Critical,
            "custody mismatch",
        )
        .detail("variance", variance)
    }

    #[test]
    fn dedup_key_names_the_condition_not_its_figures() {
        assert_eq!(custody("5").dedup_key, custody("7").dedup_key);
        assert_eq!(custody("5").dedup_key, "custody:31337:0x0000000000000000000000000000000000000000");
    }

    #[test]
    fn diff_fires_new_and_changed_resolves_cleared_and_is_quiet_otherwise() {
        let lag = Alert::new("listener_lag", &["31337"], Severity::Warning, "lag");
        let changes = diff(&[], &[custody("5")]);
        assert_eq!(changes, AlertChanges { fire: vec![custody("5")], resolve: vec![] });
        assert_eq!(diff(&[custody("5")], &[custody("5")]), AlertChanges::default());
        assert_eq!(diff(&[custody("5")], &[custody("9")]).fire, vec![custody("9")]);
        // The same mismatch read at a later block is not news.
        assert_eq!(
            diff(&[custody("5").detail("block", 10)], &[custody("5").detail("block", 11)]),
            AlertChanges::default()
        );
        let changes = diff(&[custody("5"), lag.clone()], &[lag]);
        assert_eq!(changes.resolve, vec![custody("5")]);
        assert!(changes.fire.is_empty());
    }

    #[test]
    fn a_pending_change_says_in_how_long_when_sent_and_nothing_once_ready() {
        let alert = Alert::new("pending_change", &["1", "0xid"], Severity::Critical, "signer rotation")
            .detail("ready_at", 1_000_000);
        let sent = alert.clone().with_countdown(1_000_000 - 3 * 86_400 + 60);
        assert_eq!(sent.summary, "signer rotation (in 2d 23h 59m)");
        assert_eq!(sent.details["applies_in"], "2d 23h 59m");
        assert_eq!(alert.clone().with_countdown(1_000_000), alert);
        let custody = custody("5");
        assert_eq!(custody.clone().with_countdown(0), custody);
    }

    #[test]
    fn pagerduty_resolve_carries_only_the_key() {
        let pd =
            AlertSink::PagerDuty(PagerDuty { url: String::new(), routing_key: "rk".into(), source: "test".into() });
        let body = pd.body(&custody("5"), Transition::Resolve, "2026-01-01T00:00:00Z");
        assert_eq!(body, json!({"routing_key": "rk", "event_action": "resolve", "dedup_key": custody("5").dedup_key}));
    }
}

#[cfg(test)]
mod runbook_tests {
    use super::runbook_of;

    #[test]
    fn every_check_links_a_runbook_that_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/runbooks");
        for check in [
            "custody",
            "solvency",
            "listener_lag",
            "listener_halted",
            "quarantine",
            "stuck_batch",
            "solvency_commitment",
            "solvency_insolvent",
            "solvency_proof",
            "solvency_stale",
            "pending_change",
            "admin_event",
            "preflight",
            "exit_open",
            "other",
        ] {
            let page = dir.join(format!("{}.md", runbook_of(check)));
            assert!(page.is_file(), "{check}: {} is missing", page.display());
        }
    }
}
