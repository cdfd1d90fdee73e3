//! The preflight's findings, paged (issue 44): the reconciler never refuses to start on a finding — after a
//! compromise a monitor that stops on restart switches monitoring off exactly when it matters — it runs the checks
//! at start and every `preflight_interval_secs` after ([`watch`]), and every run pages each finding as a `preflight`
//! alert ([`alerts`]): critical for a proven misconfiguration ([`preflight::Level::Fail`]), a warning for what could
//! not be checked or needs a person; resolved once the check passes. Keyed `preflight:<chain>:<check>[:<subject>]`.
//!
//! Skipped checks are not paged (they were listed at start), nor what the reconciler pages itself: `pending_change`
//! (its own alert, with its countdown) and `rpc` (a chain the checks could not read, whose earlier `preflight` alerts
//! stay firing: no resolve without evidence, as `reconciler_blind`).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, RwLock},
    time::Duration,
};

use alloy::primitives::U256;
use preflight::{Expectations, Finding, Level};

use crate::{
    alerts::{Alert, Severity},
    config::ReconcilerConfig,
};

/// The check the preflight's findings are paged under.
pub const PREFLIGHT: &str = "preflight";

/// The latest findings of the preflight, shared between the task that runs it and the reconciler's runs; `None`
/// until the first has finished. The reconciler runs again as soon as the first have come ([`Self::first`]): a
/// finding at start is paged at once, not one interval after the run that raced the checks.
#[derive(Clone, Debug, Default)]
pub struct PreflightFindings(Arc<RwLock<Option<Vec<Finding>>>>, Arc<tokio::sync::Notify>);

impl PreflightFindings {
    /// Findings known from the start (tests, or a caller that ran the checks itself).
    pub fn known(findings: Vec<Finding>) -> Self {
        Self(Arc::new(RwLock::new(Some(findings))), Arc::default())
    }

    /// Replaces the findings with those of a newer run.
    pub fn set(&self, findings: Vec<Finding>) {
        *self.0.write().expect("preflight findings lock") = Some(findings);
        self.1.notify_waiters();
    }

    /// The latest findings, once the checks have run.
    pub fn get(&self) -> Option<Vec<Finding>> {
        self.0.read().expect("preflight findings lock").clone()
    }

    /// Resolves once the checks' first run has finished (at once if it has).
    pub async fn first(&self) {
        loop {
            // Waiting from before the look: a run finishing between the two still wakes this one.
            let finished = self.1.notified();
            if self.get().is_some() {
                return;
            }
            finished.await;
        }
    }
}

/// The alerts of `findings`, and the chains the checks could not read (whose earlier alerts stand).
pub fn alerts(findings: &[Finding]) -> (Vec<Alert>, BTreeSet<String>) {
    let unread = findings.iter().filter(|f| f.check == "rpc").map(|f| f.chain_id.to_string()).collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut alerts = Vec::new();
    for f in findings.iter().filter(|f| f.level != Level::Skipped && !matches!(f.check, "rpc" | "pending_change")) {
        let chain = f.chain_id.to_string();
        let mut scope = vec![chain.as_str(), f.check];
        if !f.subject.is_empty() {
            scope.push(&f.subject);
        }
        let severity = if f.level == Level::Fail { Severity::Critical } else { Severity::Warning };
        let mut alert = Alert::new(PREFLIGHT, &scope, severity, format!("chain {chain} {}: {}", f.check, f.message))
            .detail("chain_id", f.chain_id)
            .detail("finding", f.check)
            .detail("level", format!("{:?}", f.level).to_lowercase());
        // Two findings of one check without a subject: keyed apart by their order.
        let n = seen.entry(alert.dedup_key.clone()).or_default();
        *n += 1;
        if *n > 1 {
            alert.dedup_key = format!("{}:{n}", alert.dedup_key);
        }
        alerts.push(alert);
    }
    (alerts, unread)
}

/// What the reconciler checks its chains against: each chain's operator (its role; its gas is the metrics'), and
/// the signer service's key and nodes when `signer_url` names it.
#[derive(Clone, Debug)]
pub struct Checker {
    specs: Vec<service_kit::chain_spec::ChainSpec>,
    operators: BTreeMap<u64, alloy::primitives::Address>,
    signer_url: Option<String>,
}

impl Checker {
    /// The checks of `config`'s chains.
    pub fn from_config(config: &ReconcilerConfig) -> Self {
        Self {
            specs: config.chains.iter().map(|c| c.spec.clone()).collect(),
            operators: config.chains.iter().filter_map(|c| Some((c.spec.chain_id, c.tuning.operator?))).collect(),
            signer_url: config.signer_url.clone(),
        }
    }

    /// One run of the checks: the signer service asked first (a finding of its own when it does not answer).
    pub async fn run(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        let signer = match &self.signer_url {
            None => None,
            Some(url) => match preflight::ask_signer(url).await {
                Ok(info) => Some(info),
                Err(e) => {
                    let chain_id = self.specs.first().map_or(0, |s| s.chain_id);
                    let message = format!("the signer service at {url} could not be asked its key: {e}");
                    findings.push(Finding::new(chain_id, "signer", Level::Unverified, message));
                    None
                }
            },
        };
        let address = signer.as_ref().map(|s| s.address.0);
        let expect = |chain_id: u64| Expectations {
            signer: address,
            operator: self.operators.get(&chain_id).map(|operator| (*operator, U256::ZERO)),
        };
        findings.extend(preflight::check_all_with(&self.specs, expect, signer.as_ref()).await);
        findings
    }
}

/// Runs the checks now (logging every finding) and every `every` after (`None`: never again), keeping `shared`
/// up to date for the reconciler's runs.
pub async fn watch(checker: Checker, shared: PreflightFindings, every: Option<Duration>) {
    let findings = checker.run().await;
    preflight::log("reconciler", &findings);
    if findings.iter().any(|f| f.level == Level::Fail) {
        tracing::error!(
            "preflight: the chains disagree with the configuration; reconciling on and paging each finding"
        );
    }
    shared.set(findings);
    let Some(every) = every else { return };
    loop {
        tokio::time::sleep(every).await;
        shared.set(checker.run().await);
    }
}
