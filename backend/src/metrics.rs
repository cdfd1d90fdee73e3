//! The API's Prometheus metrics (`ops/metrics.md`, job `api`), served on `[application] metrics_address` — never on
//! the public port. Requests are counted in process by route template (`route_layer`), with latency, requests in
//! flight, rate-limit refusals and sign-in outcomes (unknown paths as `unmatched`); the business gauges (liabilities, payout queue and pipeline,
//! oldest unpaid reward) are read from the ledger at scrape time, so every instance reports the same values.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;

use ledger::authorisations::OutflowKind;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sqlx::PgPool;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) route: String,
    pub(crate) method: String,
    pub(crate) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) route: String,
    pub(crate) method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteOnly {
    pub(crate) route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AssetLabels {
    asset_id: i32,
    symbol: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AssetStatus {
    asset_id: i32,
    symbol: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AssetOutcome {
    asset_id: i32,
    symbol: String,
    outcome: &'static str,
}

/// A signed intent that can never execute, for `signed_intents_failed_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct IntentFailure {
    kind: &'static str,
    reason: &'static str,
}

/// The kinds of signed intent the API drives to an outcome itself, for `signed_intents_failed_total` (a treasury
/// transfer or refund is sent by the treasurer: the listener marks it `expired` once a block past its deadline is
/// applied, its amount free again for the admin to ask anew).
pub const INTENT_KINDS: [OutflowKind; 2] = [OutflowKind::PayoutBatch, OutflowKind::SolvencyCommitment];

/// The `kind` label of an intent of `kind`: a solvency commitment's intent is its liability root.
fn intent_label(kind: OutflowKind) -> &'static str {
    match kind {
        OutflowKind::SolvencyCommitment => "liability_root",
        other => other.as_str(),
    }
}

/// How a sign-in attempt ended, for `api_sign_ins_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    /// Signed in (`ok`).
    Ok,
    /// The signature was malformed or not by the message's wallet (`bad_signature`).
    BadSignature,
    /// The message had expired, or its nonce was unknown, expired or spent (`expired_nonce`).
    ExpiredNonce,
    /// Refused by a rate limit (`rate_limited`).
    RateLimited,
    /// Refused for any other reason (`refused`).
    Refused,
}

/// Routes behind a rate limit (per IP on the sign-in routes, per wallet on sign-in and every route the signer signs for).
const RATE_LIMITED_ROUTES: [&str; 7] = [
    "/v1/auth/nonce",
    "/v1/auth/signin",
    "/v1/users/register",
    "/v1/users/retopup",
    "/v1/admin/payouts/batches/{id}/sign",
    "/v1/admin/treasury/transfers",
    "/v1/admin/quarantine/{chain_id}/{tx_hash}/{log_index}/refund",
];

impl SignInOutcome {
    const ALL: [SignInOutcome; 5] = [
        SignInOutcome::Ok,
        SignInOutcome::BadSignature,
        SignInOutcome::ExpiredNonce,
        SignInOutcome::RateLimited,
        SignInOutcome::Refused,
    ];

    fn as_str(self) -> &'static str {
        match self {
            SignInOutcome::Ok => "ok",
            SignInOutcome::BadSignature => "bad_signature",
            SignInOutcome::ExpiredNonce => "expired_nonce",
            SignInOutcome::RateLimited => "rate_limited",
            SignInOutcome::Refused => "refused",
        }
    }
}

/// What an earlier payout transaction turned out to be when a retry looked, for `payout_transactions_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayoutTxOutcome {
    /// Mined and reverted (`reverted`).
    Reverted,
    /// Not mined: dropped by the node (EVM), or found in no block (TRON) (`dropped`).
    Dropped,
    /// Unmined too long (EVM): replaced with higher fees (`replaced`).
    Replaced,
    /// Unmined too long (EVM), and the fee ceiling leaves no room for a higher fee (`at_fee_ceiling`): pages.
    AtFeeCeiling,
    /// Not sent: the operator account cannot pay the transaction's fees (`underfunded`, TRON: TRX for the fee limit
    /// and the bandwidth); the same send goes through after a top-up. Pages.
    Underfunded,
}

/// The in-process metrics of one API instance.
#[derive(Debug)]
pub struct ApiMetrics {
    registry: Registry,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) duration: Family<RouteLabels, Histogram>,
    pub(crate) in_flight: Gauge,
    pub(crate) rate_limited: Family<RouteOnly, Counter>,
    sign_ins: Family<OutcomeLabel, Counter>,
    /// Payout transactions a retry found reverted or dropped, by (asset, symbol, outcome).
    retried_transactions: std::sync::Mutex<std::collections::BTreeMap<(i32, String, &'static str), u64>>,
    /// Signed intents failed because they can never execute, by kind and reason.
    intent_failures: Family<IntentFailure, Counter>,
}

impl Default for ApiMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        service_kit::stall::register(&mut registry);
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.0005, 2.0, 16))) as fn() -> Histogram,
        );
        let in_flight = Gauge::default();
        let rate_limited = Family::<RouteOnly, Counter>::default();
        let sign_ins = Family::<OutcomeLabel, Counter>::default();
        registry.register("http_requests", "Requests answered, by route template, method and status", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time from request head to response, by route template and method",
            duration.clone(),
        );
        registry.register("http_requests_in_flight", "Requests being handled now", in_flight.clone());
        registry.register("api_rate_limited", "Requests refused with 429 by the rate limits", rate_limited.clone());
        registry.register("api_sign_ins", "Sign-in attempts by outcome", sign_ins.clone());
        let intent_failures = Family::<IntentFailure, Counter>::default();
        registry.register(
            "signed_intents_failed",
            "Signed intents (payout batches, liability roots) failed because they can never execute - past their \
             deadline by the chain's clock (expired), or refused by the contract for good (refused) - and built again",
            intent_failures.clone(),
        );
        for kind in INTENT_KINDS {
            for reason in ["expired", "refused"] {
                intent_failures.get_or_create(&IntentFailure { kind: intent_label(kind), reason }).inc_by(0);
            }
        }
        // The bounded label values start at 0, so that rules see a zero rather than no series.
        for route in RATE_LIMITED_ROUTES {
            rate_limited.get_or_create(&RouteOnly { route: route.to_owned() }).inc_by(0);
        }
        for outcome in SignInOutcome::ALL {
            sign_ins.get_or_create(&OutcomeLabel { outcome: outcome.as_str() }).inc_by(0);
        }
        ApiMetrics {
            registry,
            requests,
            duration,
            in_flight,
            rate_limited,
            sign_ins,
            retried_transactions: Default::default(),
            intent_failures,
        }
    }
}

impl ApiMetrics {
    /// Counts a signed intent of `kind` (one of [`INTENT_KINDS`]) failed because it can never execute: `expired`
    /// (past its deadline by the chain's clock, its nonce unused) or `refused` (the contract refuses it for good).
    pub fn intent_failed(&self, kind: OutflowKind, expired: bool) {
        let reason = if expired { "expired" } else { "refused" };
        self.intent_failures.get_or_create(&IntentFailure { kind: intent_label(kind), reason }).inc();
    }

    /// Counts one sign-in attempt.
    pub fn sign_in(&self, outcome: SignInOutcome) {
        self.sign_ins.get_or_create(&OutcomeLabel { outcome: outcome.as_str() }).inc();
    }

    /// Counts a payout transaction a retry found reverted or dropped.
    pub fn payout_retry(&self, asset_id: i32, symbol: &str, outcome: PayoutTxOutcome) {
        let outcome = match outcome {
            PayoutTxOutcome::Reverted => "reverted",
            PayoutTxOutcome::Dropped => "dropped",
            PayoutTxOutcome::Replaced => "replaced",
            PayoutTxOutcome::AtFeeCeiling => "at_fee_ceiling",
            PayoutTxOutcome::Underfunded => "underfunded",
        };
        let mut counts = self.retried_transactions.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry((asset_id, symbol.to_owned(), outcome)).or_default() += 1;
    }

    /// Everything, in Prometheus' text format: the in-process metrics and the ledger's gauges (`None` when the
    /// ledger cannot be read: the scrape fails rather than reporting zeros).
    pub async fn render(&self, db: &PgPool) -> Option<String> {
        let business = match business_registry(db, self).await {
            Ok(registry) => registry,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the ledger could not be read");
                return None;
            }
        };
        let mut out = String::new();
        encode_without_eof(&mut out, &self.registry)?;
        encode(&mut out, &business).ok()?;
        Some(out)
    }
}

/// `encode` ends with `# EOF`; the first of two registries must not.
fn encode_without_eof(out: &mut String, registry: &Registry) -> Option<()> {
    let mut text = String::new();
    encode(&mut text, registry).ok()?;
    let text = text.strip_suffix("# EOF\n").unwrap_or(&text);
    out.write_str(text).ok()
}

type F64Gauge = Gauge<f64, AtomicU64>;

/// The ledger's figures as gauges, read now. Money in whole asset units (`ops/metrics.md`).
async fn business_registry(db: &PgPool, metrics: &ApiMetrics) -> Result<Registry, sqlx::Error> {
    let mut registry = Registry::default();
    let liabilities = Family::<AssetStatus, F64Gauge>::default();
    let queue = Family::<AssetLabels, Gauge>::default();
    let batches = Family::<AssetStatus, Gauge>::default();
    let oldest_batch = Family::<AssetLabels, F64Gauge>::default();
    let oldest_reward = Family::<AssetLabels, F64Gauge>::default();
    let waiting = Family::<AssetLabels, F64Gauge>::default();
    let waiting_by_asset: std::collections::HashMap<i32, f64> =
        ledger::gauges::authorisations_waiting(db).await?.into_iter().collect();
    let transactions = Family::<AssetOutcome, Counter>::default();

    for figures in ledger::gauges::assets(db).await? {
        let ledger::gauges::AssetGauges { asset_id, symbol, .. } = figures.clone();
        let asset = AssetLabels { asset_id, symbol: symbol.clone() };
        for (status, value) in [
            ("pending", figures.pending),
            ("batched", figures.batched),
            ("held", figures.held),
            ("reserved", figures.reserved),
            ("claimable", figures.claimable),
        ] {
            let labels = AssetStatus { asset_id, symbol: symbol.clone(), status: status.into() };
            liabilities.get_or_create(&labels).set(value);
        }
        queue.get_or_create(&asset).set(figures.queue_users);
        oldest_batch.get_or_create(&asset).set(figures.oldest_open_batch_secs);
        oldest_reward.get_or_create(&asset).set(figures.oldest_pending_reward_secs);
        waiting.get_or_create(&asset).set(waiting_by_asset.get(&asset_id).copied().unwrap_or(0.0));
        for status in ledger::payouts::BatchStatus::ALL {
            // Every status is shown, 0 when no batch has it (an absent series is not a zero).
            batches
                .get_or_create(&AssetStatus { asset_id, symbol: symbol.clone(), status: status.as_str().into() })
                .set(0);
        }
        for outcome in ["mined", "reverted", "dropped"] {
            transactions.get_or_create(&AssetOutcome { asset_id, symbol: symbol.clone(), outcome }).inc_by(0);
        }
    }
    let by_status = ledger::gauges::batches_by_status(db).await?;
    for (asset_id, symbol, status, n) in by_status {
        if status == ledger::payouts::BatchStatus::Executed {
            let labels = AssetOutcome { asset_id, symbol: symbol.clone(), outcome: "mined" };
            transactions.get_or_create(&labels).inc_by(n as u64);
        }
        batches.get_or_create(&AssetStatus { asset_id, symbol, status: status.as_str().into() }).set(n);
    }
    for (labels, counter) in metrics.retried_transactions_snapshot() {
        transactions.get_or_create(&labels).inc_by(counter);
    }
    registry.register("ledger_liabilities", "What the ledger owes users by balance status (whole units)", liabilities);
    registry.register("payout_queue_users", "Users with pending (payable) rewards", queue);
    registry.register("payout_batches", "Payout batches by status", batches);
    registry.register(
        "payout_oldest_open_batch_age_seconds",
        "Age of the oldest signed or submitted batch; 0 when none",
        oldest_batch,
    );
    registry.register(
        "ledger_oldest_pending_reward_age_seconds",
        "Age of the oldest pending reward (since its block was seen); 0 when none",
        oldest_reward,
    );
    registry.register(
        "authorisations_waiting_seconds",
        "Age of the oldest payout batch proposed for staff approval and not approved yet; 0 when none",
        waiting,
    );
    registry.register("payout_transactions", "Payout transactions by outcome", transactions);
    Ok(registry)
}

impl ApiMetrics {
    fn retried_transactions_snapshot(&self) -> Vec<(AssetOutcome, u64)> {
        let counts = self.retried_transactions.lock().unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .map(|((asset_id, symbol, outcome), n)| {
                (AssetOutcome { asset_id: *asset_id, symbol: symbol.clone(), outcome }, *n)
            })
            .collect()
    }
}
