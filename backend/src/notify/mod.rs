//! The notifier (issue 49): delivers the outbox the ledger's triggers write (`ledger::notify`). Each round fans new
//! notifications out to their sinks, then delivers what is due — webhooks (signed per the Standard Webhooks
//! specification, [`webhook`]) and e-mails ([`email`], in the member's language, [`texts`]) — each under a lease,
//! so any number of notifiers may run and one killed at any point leaves its work to be taken again with the same
//! id. Failures are retried with backoff; a webhook failing for the whole retry window is dead and its endpoint
//! disabled with an alert; an e-mail the server refuses for good is dead. It runs on the worker kit
//! ([`service_kit::work`]) in its own process (`referral-notifier`).

pub mod email;
pub mod keys;
pub mod texts;
pub mod webhook;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use service_kit::work::Round;
use sqlx::PgPool;

use crate::config::{NotificationsSettings, OperatorSettings, Settings};
use email::AssetLabel;
use keys::{LinkPurpose, NotifyKeys};
use ledger::notify::contacts::{DueEmail, EmailNext};
use ledger::notify::webhooks::{AttemptResult, DueWebhook, Next};

/// Deliveries taken per sink and round.
const PER_ROUND: i64 = 16;
/// Notifications fanned out per round.
const FAN_OUT_PER_ROUND: i64 = 500;
/// How long an e-mail is retried before it is dead.
const EMAIL_RETRY_WINDOW_ATTEMPTS: i32 = 12;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkOutcome {
    sink: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabel {
    sink: &'static str,
}

/// The notifier's metrics (`ops/metrics.md`, job `notifier`).
#[derive(Debug)]
pub struct NotifyMetrics {
    registry: Registry,
    attempts: Family<SinkOutcome, Counter>,
    latency: Family<SinkLabel, Histogram>,
}

impl Default for NotifyMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let attempts = Family::<SinkOutcome, Counter>::default();
        let latency =
            Family::<SinkLabel, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.05, 2.0, 16)));
        registry.register(
            "notify_deliveries",
            "Delivery attempts by sink (webhook, email) and outcome (delivered, retry, dead, cancelled)",
            attempts.clone(),
        );
        registry.register(
            "notify_delivery_latency_seconds",
            "From a notification's writing to its delivery, by sink",
            latency.clone(),
        );
        Self { registry, attempts, latency }
    }
}

impl NotifyMetrics {
    fn count(&self, sink: &'static str, outcome: &'static str) {
        self.attempts.get_or_create(&SinkOutcome { sink, outcome }).inc();
    }

    /// The metrics text, with the outbox's depth read now.
    pub async fn render(&self, db: &PgPool) -> Option<String> {
        let depth = match ledger::notify::depth(db).await {
            Ok(depth) => depth,
            Err(e) => {
                tracing::warn!(error = %e, "notifier metrics: the outbox could not be read");
                return None;
            }
        };
        let mut now = Registry::default();
        let waiting = Family::<SinkLabel, Gauge>::default();
        let dead = Family::<SinkLabel, Gauge>::default();
        let to_fan_out = Gauge::<i64>::default();
        let oldest = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        waiting.get_or_create(&SinkLabel { sink: "webhook" }).set(depth.webhooks_pending);
        waiting.get_or_create(&SinkLabel { sink: "email" }).set(depth.emails_pending);
        dead.get_or_create(&SinkLabel { sink: "webhook" }).set(depth.webhooks_dead);
        dead.get_or_create(&SinkLabel { sink: "email" }).set(depth.emails_dead);
        to_fan_out.set(depth.to_fan_out);
        oldest.set(depth.oldest_to_fan_out_secs);
        now.register("notify_outbox_pending", "Deliveries waiting (first try or retry), by sink", waiting);
        now.register("notify_outbox_dead", "Deliveries given up (dead letters), by sink", dead);
        now.register("notify_outbox_unfanned", "Notifications not yet fanned out to their sinks", to_fan_out);
        now.register(
            "notify_outbox_oldest_unfanned_seconds",
            "Age of the oldest notification not yet fanned out",
            oldest,
        );
        let mut out = String::new();
        let mut first = String::new();
        encode(&mut first, &self.registry).ok()?;
        out.push_str(first.strip_suffix("# EOF\n").unwrap_or(&first));
        encode(&mut out, &now).ok()?;
        Some(out)
    }
}

/// Where a chain's transactions are shown.
#[derive(Debug, Clone)]
pub struct Explorer {
    /// The explorer's base URL.
    pub base: String,
    /// TRON's link form (`#/transaction/…`).
    pub tron: bool,
}

impl Explorer {
    /// The page of transaction `hash`.
    pub fn transaction(&self, hash: &str) -> String {
        let base = self.base.trim_end_matches('/');
        if self.tron {
            format!("{base}/#/transaction/{}", hash.trim_start_matches("0x"))
        } else {
            format!("{base}/tx/{hash}")
        }
    }
}

/// The notifier.
pub struct Notifier {
    /// The ledger.
    pub db: PgPool,
    /// Sealing and link keys.
    pub keys: NotifyKeys,
    /// `[notifications]`.
    pub settings: NotificationsSettings,
    /// `[operator]`: the identity every e-mail carries.
    pub operator: Option<OperatorSettings>,
    /// Explorers by chain id.
    pub explorers: HashMap<i64, Explorer>,
    /// The SMTP transport and the sender, when e-mail is configured.
    pub smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    /// Metrics.
    pub metrics: Arc<NotifyMetrics>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("email", &self.smtp.is_some()).finish_non_exhaustive()
    }
}

impl Notifier {
    /// From the API's settings (their `[notifications]` is required).
    pub fn from_settings(settings: &Settings, db: PgPool) -> eyre::Result<Self> {
        let notifications =
            settings.notifications.clone().ok_or_else(|| eyre::eyre!("[notifications] is not configured"))?;
        notifications.app_url()?;
        let keys = NotifyKeys::new(&notifications.key()?);
        let smtp = match &notifications.smtp {
            None => None,
            Some(smtp) => {
                let from: Mailbox =
                    smtp.from.parse().map_err(|e| eyre::eyre!("notifications.smtp.from is not a mailbox: {e}"))?;
                Some((email::transport(smtp)?, from))
            }
        };
        let explorers = settings
            .chains
            .iter()
            .filter_map(|c| {
                let base = c.tuning.explorer_url.clone()?;
                Some((c.spec.chain_id as i64, Explorer { base, tron: c.spec.family() == abi::chain::Family::Tron }))
            })
            .collect();
        Ok(Self {
            db,
            keys,
            settings: notifications,
            operator: settings.operator.clone(),
            explorers,
            smtp,
            metrics: Arc::default(),
        })
    }

    /// Runs rounds until `stop` fires.
    pub async fn run(self, stop: service_kit::work::Stop) {
        let interval = Duration::from_millis(self.settings.interval_ms.max(10));
        let this = &self;
        service_kit::work::run("notifier", interval, stop, move || this.round()).await;
    }

    /// One round: fan out, then deliver what is due. `Busy` when it did anything.
    pub async fn round(&self) -> Result<Round, sqlx::Error> {
        let fanned = ledger::notify::fanout::fan_out(&self.db, FAN_OUT_PER_ROUND).await?;
        let webhook_lease = (self.settings.webhooks.timeout_secs + 30) as f64;
        let hooks = ledger::notify::webhooks::take_due(&self.db, PER_ROUND, webhook_lease).await?;
        let delivered = futures::future::join_all(hooks.iter().map(|due| self.deliver_webhook(due))).await;
        for result in delivered {
            result?;
        }
        let mut emails = Vec::new();
        if let (Some(_), Some(smtp)) = (&self.smtp, &self.settings.smtp) {
            let lease = (smtp.timeout_secs + 30) as f64;
            emails = ledger::notify::contacts::take_due(&self.db, PER_ROUND, lease).await?;
        }
        // Side by side (the transport keeps a pool of connections): one slow exchange does not hold up the rest.
        for result in futures::future::join_all(emails.iter().map(|due| self.deliver_email(due))).await {
            result?;
        }
        let busy = fanned.notifications > 0 || !hooks.is_empty() || !emails.is_empty();
        Ok(if busy { Round::Busy } else { Round::Idle })
    }

    async fn deliver_webhook(&self, due: &DueWebhook) -> Result<(), sqlx::Error> {
        let mut keys = Vec::new();
        for sealed in std::iter::once(&due.secret_sealed).chain(due.previous_sealed.as_ref()) {
            let secret = self.keys.open(sealed).and_then(|s| String::from_utf8(s).ok());
            if let Some(key) = secret.as_deref().and_then(webhook::secret_key) {
                keys.push(key);
            }
        }
        let posted = if keys.is_empty() {
            webhook::Posted {
                status: None,
                error: Some("the endpoint's secret cannot be opened with this key".into()),
                took: Duration::ZERO,
            }
        } else {
            let body = webhook::body(&due.kind, &due.created_at, self.payload(due));
            let timestamp = chrono::Utc::now().timestamp();
            let timeout = Duration::from_secs(self.settings.webhooks.timeout_secs);
            let policy = self.settings.webhooks.policy();
            webhook::post(&due.url, policy, &keys, &due.notification_id, &body, timestamp, timeout).await
        };
        let next = if posted.error.is_none() {
            self.metrics.count("webhook", "delivered");
            self.observe_latency("webhook", &due.created_at);
            Next::Delivered
        } else {
            let wait = webhook::backoff(due.attempt);
            let window = self.settings.webhooks.retry_window_secs as f64;
            if due.failing_for_secs + wait.as_secs_f64() > window {
                self.metrics.count("webhook", "dead");
                Next::Dead
            } else {
                self.metrics.count("webhook", "retry");
                Next::RetryIn(wait.as_secs_f64())
            }
        };
        if let Some(error) = &posted.error {
            tracing::warn!(id = %due.notification_id, endpoint = due.endpoint_id, attempt = due.attempt, %error,
                "webhook not delivered");
        }
        let result = AttemptResult {
            status_code: posted.status.map(i32::from),
            error: posted.error.clone(),
            duration_ms: posted.took.as_millis().min(i32::MAX as u128) as i32,
        };
        ledger::notify::webhooks::record_attempt(&self.db, &due.notification_id, due.endpoint_id, &result, next).await
    }

    /// A webhook's `data`: the notification's facts with what it is about (asset, member, a link to the transaction).
    fn payload(&self, due: &DueWebhook) -> serde_json::Value {
        let mut data = due.data.clone();
        if let Some(object) = data.as_object_mut() {
            object.insert("id".into(), due.notification_id.clone().into());
            object.insert("asset_id".into(), due.asset_id.into());
            if let Some(user_no) = due.user_no {
                object.insert("user_no".into(), user_no.into());
            }
            if let Some(address) = &due.address {
                object.insert("address".into(), format!("0x{}", alloy::hex::encode(address)).into());
            }
            if let Some(link) = self.explorer_link(&due.data) {
                object.insert("explorer_url".into(), link.into());
            }
        }
        data
    }

    fn explorer_link(&self, data: &serde_json::Value) -> Option<String> {
        let chain = data.get("chain_id")?.as_i64()?;
        let hash = data.get("tx_hash")?.as_str()?;
        Some(self.explorers.get(&chain)?.transaction(hash))
    }

    fn observe_latency(&self, sink: &'static str, created_at: &str) {
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(created_at) {
            let secs = (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_milliseconds() as f64 / 1000.0;
            self.metrics.latency.get_or_create(&SinkLabel { sink }).observe(secs.max(0.0));
        }
    }

    async fn deliver_email(&self, due: &DueEmail) -> Result<(), sqlx::Error> {
        let next = self.email_outcome(due).await;
        let outcome = match &next {
            EmailNext::Sent => "delivered",
            EmailNext::RetryIn(..) => "retry",
            EmailNext::Dead(_) => "dead",
            EmailNext::Cancelled(_) => "cancelled",
        };
        self.metrics.count("email", outcome);
        if let (EmailNext::Sent, Some(at)) = (&next, &due.created_at) {
            self.observe_latency("email", at);
        }
        if let EmailNext::RetryIn(_, e) | EmailNext::Dead(e) = &next {
            tracing::warn!(id = %due.id, attempt = due.attempt, error = %e, "e-mail not sent");
        }
        ledger::notify::contacts::record_email(&self.db, &due.id, &next).await
    }

    async fn email_outcome(&self, due: &DueEmail) -> EmailNext {
        let Some((transport, from)) = &self.smtp else { return EmailNext::RetryIn(60.0, "no SMTP server".into()) };
        let (Some(sealed), Some(language), Some(nonce)) = (&due.email_sealed, &due.language, &due.token_nonce) else {
            return EmailNext::Cancelled("the member's address was erased".into());
        };
        let app = self.settings.app_url().unwrap_or_default();
        let written = if due.purpose == "confirm" {
            // Only the address this confirmation was made for: its id names the nonce.
            if !due.id.ends_with(&alloy::hex::encode(nonce)) {
                return EmailNext::Cancelled("a newer address was set".into());
            }
            let token = self.keys.link_token(LinkPurpose::Confirm, &due.address, nonce);
            email::confirmation(language, format!("{app}/#email-confirm={token}"))
        } else {
            if due.confirmed != Some(true) || due.unsubscribed == Some(true) {
                return EmailNext::Cancelled("the address is not confirmed or unsubscribed".into());
            }
            let (Some(kind), Some(data), Some(asset_id)) = (&due.kind, &due.data, due.asset_id) else {
                return EmailNext::Cancelled("the notification is gone".into());
            };
            if !due.kinds.as_ref().is_some_and(|k| k.contains(kind)) {
                return EmailNext::Cancelled(format!("the member no longer receives {kind}"));
            }
            let asset = match self.asset_label(asset_id).await {
                Ok(asset) => asset,
                Err(e) => return EmailNext::RetryIn(30.0, format!("the asset could not be read: {e}")),
            };
            email::notification(language, kind, data, &asset, self.explorer_link(data), &app)
        };
        let Some(to) = self.keys.open(sealed).and_then(|s| String::from_utf8(s).ok()) else {
            return EmailNext::Dead("the address cannot be opened with this key".into());
        };
        let Ok(to) = to.parse::<Mailbox>() else {
            return EmailNext::Dead("the stored address is not a mailbox".into());
        };
        let unsubscribe = self.keys.link_token(LinkPurpose::Unsubscribe, &due.address, nonce);
        let footer = (due.purpose != "confirm").then(|| email::Footer {
            manage: format!("{app}/#notifications"),
            unsubscribe_page: format!("{app}/#email-unsubscribe={unsubscribe}"),
            unsubscribe_post: format!("{app}/v1/public/email/unsubscribe?token={unsubscribe}"),
        });
        let message =
            match email::message(from, to, &due.id, language, &written, self.operator.as_ref(), footer.as_ref()) {
                Ok(message) => message,
                Err(e) => return EmailNext::Dead(format!("the message could not be built: {e}")),
            };
        match email::send(transport, message).await {
            Ok(()) => EmailNext::Sent,
            Err((true, e)) => EmailNext::Dead(e),
            Err((false, e)) if due.attempt >= EMAIL_RETRY_WINDOW_ATTEMPTS => EmailNext::Dead(e),
            Err((false, e)) => EmailNext::RetryIn(webhook::backoff(due.attempt).as_secs_f64(), e),
        }
    }

    async fn asset_label(&self, asset_id: i32) -> Result<AssetLabel, sqlx::Error> {
        let info = ledger::notify::asset_label(&self.db, asset_id).await?;
        Ok(AssetLabel { symbol: info.0, decimals: info.1 as u32 })
    }
}
