//! Settings of the API service: a TOML file overlaid with `APP_…` environment variables
//! (`APP_AUTH__JWT_SECRET=…` sets `auth.jwt_secret`), so one binary runs everywhere.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use secrecy::SecretString;
use serde::Deserialize;
use service_kit::chain_spec::{ChainSpec, ChainSpecs, beside};

/// Everything the service needs to start; secrets print as `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `[application]`: where the API listens and how it limits slow or excess clients.
    pub application: ApplicationSettings,
    /// `[database]`: the Postgres ledger.
    pub database: DatabaseSettings,
    /// `[redis]`: nonces, rate-limit windows and caches; absent, `redis://127.0.0.1:6379`.
    #[serde(default)]
    pub redis: RedisSettings,
    /// `[auth]`: wallet sign-in and tokens.
    pub auth: AuthSettings,
    /// `[rate_limits]`: request allowances per client IP and per wallet; absent, the defaults.
    #[serde(default)]
    pub rate_limits: RateLimitSettings,
    /// `[signer]`: the signing service; absent, endpoints that need a signature answer 503 `signer_unavailable`.
    #[serde(default)]
    pub signer: Option<SignerSettings>,
    /// The chain spec ([`service_kit::chain_spec`]): every chain the API serves, with its Settlement contract,
    /// RPC, confirmations and (TRON) endpoints. A relative path is read beside this file; unset, no chain is served
    /// (payload routes answer 503 `chain_not_configured`).
    #[serde(default)]
    pub chain_spec: Option<PathBuf>,
    /// `[[chains]]`: the API's tuning of chains of the spec, keyed by `chain_id` (operator key, signature
    /// lifetime, TRON fee limits, what the pages show).
    #[serde(default, rename = "chains")]
    pub chain_tuning: Vec<ChainTuning>,
    /// The chains served: each chain of the spec with its tuning (or the defaults), resolved when the settings are
    /// read; code may set it directly.
    #[serde(skip)]
    pub chains: Vec<ChainSettings>,
    /// WalletConnect for the dApp (`[walletconnect] project_id = "…"`); absent, the page offers only the wallets
    /// in the browser (and links that open it in a wallet app).
    #[serde(default)]
    pub walletconnect: Option<WalletConnectSettings>,
    /// Payout batches (`[payouts.worker]`: the worker that finishes batches nobody is moving).
    #[serde(default)]
    pub payouts: PayoutSettings,
    /// `[solvency]`: the public proof of solvency (SOLVENCY.md); absent, no epoch is built and proofs answer 404.
    #[serde(default)]
    pub solvency: Option<SolvencySettings>,
    /// `[operator]`: who runs this deployment and on what terms, shown one click from every pay button
    /// (`GET /v1/public/operator`); absent, the pages say the operator has published no identity.
    #[serde(default)]
    pub operator: Option<OperatorSettings>,
    /// `[prices]`: on-chain price feeds (Chainlink's aggregator interface) the pages show amounts and network fees in
    /// a fiat currency with (`GET /v1/public/prices`); absent, amounts are shown in their asset only.
    #[serde(default)]
    pub prices: Option<PriceSettings>,
    /// `[notifications]`: members' notification centre, e-mail and operators' webhooks (the notifier,
    /// `referral-notifier`, delivers them); absent, notifications are still written and shown in the centre, but no
    /// e-mail address or webhook endpoint can be set (503 `notifications_not_configured`).
    #[serde(default)]
    pub notifications: Option<NotificationsSettings>,
}

/// `[notifications]`: what the notifier needs, and the API to keep addresses and secrets sealed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsSettings {
    /// The 32-byte secret (64 hex digits, `0x` allowed) members' e-mail addresses and webhook secrets are sealed
    /// with and e-mail links are signed with; from the environment (`APP_NOTIFICATIONS__KEY`). Losing it loses the
    /// stored addresses and secrets (members set theirs again; endpoints are given new secrets).
    pub key: SecretString,
    /// The site members open (the dApp, which also serves this API): e-mail links point there.
    pub public_url: String,
    /// `[notifications.smtp]`: the mail server; absent, no e-mail is sent (addresses cannot be set).
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    /// `[notifications.webhooks]`: where endpoints may be, and retries.
    #[serde(default)]
    pub webhooks: WebhookSettings,
    /// Milliseconds between the notifier's idle rounds.
    #[serde(default = "default_notify_interval_ms")]
    pub interval_ms: u64,
    /// `[notifications.confirmations]`: how many confirmation e-mails a wallet, and an address, may ask for.
    #[serde(default)]
    pub confirmations: ConfirmationSettings,
}

fn default_notify_interval_ms() -> u64 {
    500
}

/// Confirmation e-mails (`PUT /v1/users/email`) per wallet and per address within a window, counted in the
/// database (they hold with Redis down): past either, 429 `rate_limited` and nothing is sent (issue 65).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationSettings {
    /// Per wallet (5 by default).
    #[serde(default = "default_confirmations_per_wallet")]
    pub per_wallet: u32,
    /// Per address, whichever wallets ask (3 by default).
    #[serde(default = "default_confirmations_per_address")]
    pub per_address: u32,
    /// The window, in seconds (a day by default).
    #[serde(default = "default_confirmation_window_secs")]
    pub window_secs: u64,
}

fn default_confirmations_per_wallet() -> u32 {
    5
}

fn default_confirmations_per_address() -> u32 {
    3
}

fn default_confirmation_window_secs() -> u64 {
    24 * 60 * 60
}

impl Default for ConfirmationSettings {
    fn default() -> Self {
        Self {
            per_wallet: default_confirmations_per_wallet(),
            per_address: default_confirmations_per_address(),
            window_secs: default_confirmation_window_secs(),
        }
    }
}

impl NotificationsSettings {
    /// The key's 32 bytes.
    pub fn key(&self) -> eyre::Result<[u8; 32]> {
        use secrecy::ExposeSecret;
        let text = self.key.expose_secret();
        let text = text.strip_prefix("0x").unwrap_or(text);
        eyre::ensure!(text.len() == 64, "notifications.key must be 32 bytes as 64 hex digits");
        let mut key = [0u8; 32];
        alloy::hex::decode_to_slice(text, &mut key).map_err(|_| eyre::eyre!("notifications.key is not hex"))?;
        Ok(key)
    }

    /// `public_url` without a trailing slash, checked to be an http(s) URL.
    pub fn app_url(&self) -> eyre::Result<String> {
        let url = self.public_url.trim_end_matches('/');
        eyre::ensure!(
            (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 200,
            "notifications.public_url must be an http(s) URL"
        );
        Ok(url.to_owned())
    }
}

/// `[notifications.smtp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The server's host.
    pub host: String,
    /// Its port.
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `none` (a server on this machine only), `starttls` or `tls`.
    #[serde(default)]
    pub tls: SmtpTls,
    /// The sender: `Operator <notices@example.com>`.
    pub from: String,
    /// Login, when the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Its password (`APP_NOTIFICATIONS__SMTP__PASSWORD`).
    #[serde(default)]
    pub password: Option<SecretString>,
    /// Seconds an SMTP exchange may take.
    #[serde(default = "default_smtp_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_smtp_port() -> u16 {
    25
}

fn default_smtp_timeout_secs() -> u64 {
    20
}

/// How the notifier talks to the SMTP server.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: only for a server on this machine.
    None,
    /// STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the start (port 465).
    Tls,
}

/// `[notifications.webhooks]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// `http://` endpoints and loopback, private and link-local addresses: the devnet's own endpoint only.
    #[serde(default)]
    pub allow_local: bool,
    /// Seconds a delivery is retried before it is dead and its endpoint disabled (three days).
    #[serde(default = "default_webhook_retry_secs")]
    pub retry_window_secs: u64,
    /// Seconds an endpoint has to answer.
    #[serde(default = "default_webhook_timeout_secs")]
    pub timeout_secs: u64,
    /// Seconds the previous secret also signs after a rotation.
    #[serde(default = "default_webhook_overlap_secs")]
    pub rotation_overlap_secs: u64,
}

fn default_webhook_retry_secs() -> u64 {
    3 * 24 * 3600
}

fn default_webhook_timeout_secs() -> u64 {
    10
}

fn default_webhook_overlap_secs() -> u64 {
    24 * 3600
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_local: false,
            retry_window_secs: default_webhook_retry_secs(),
            timeout_secs: default_webhook_timeout_secs(),
            rotation_overlap_secs: default_webhook_overlap_secs(),
        }
    }
}

impl WebhookSettings {
    /// The address policy of [`crate::notify::webhook`].
    pub fn policy(&self) -> crate::notify::webhook::Policy {
        crate::notify::webhook::Policy { allow_http: self.allow_local, allow_private: self.allow_local }
    }
}

/// `[operator]`: the operator's identity and terms, as members read them before paying. Every field is shown as
/// written; the devnet's are examples.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorSettings {
    /// The name members know the service by.
    pub name: String,
    /// The legal entity that operates it and holds the custody contract's admin keys.
    pub legal_name: String,
    /// Its registration (registry and number), where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub registration: Option<String>,
    /// Its postal address.
    pub address: String,
    /// Where members reach it (an e-mail address).
    pub contact_email: String,
    /// The jurisdiction whose law governs the terms.
    pub jurisdiction: String,
    /// The terms members accept by paying: an `https://` URL, or a path on this site (`/terms.html`).
    pub terms_url: String,
    /// The privacy notice, where one is published: an `https://` URL or a path on this site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub privacy_url: Option<String>,
}

impl OperatorSettings {
    /// Every text 1–200 characters, printable; the links `https://` (or a site path), the contact an e-mail address.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |why: String| Err(ConfigError::Invalid(format!("operator.{why}")));
        let texts = [
            ("name", Some(&self.name)),
            ("legal_name", Some(&self.legal_name)),
            ("registration", self.registration.as_ref()),
            ("address", Some(&self.address)),
            ("contact_email", Some(&self.contact_email)),
            ("jurisdiction", Some(&self.jurisdiction)),
            ("terms_url", Some(&self.terms_url)),
            ("privacy_url", self.privacy_url.as_ref()),
        ];
        for (key, text) in texts {
            if let Some(text) = text
                && (text.trim().is_empty() || text.chars().count() > 200 || text.chars().any(char::is_control))
            {
                return invalid(format!("{key} must be 1-200 printable characters"));
            }
        }
        let email = self.contact_email.split_once('@');
        if !matches!(email, Some((user, host)) if !user.is_empty() && host.contains('.') && !self.contact_email.contains(' '))
        {
            return invalid("contact_email must be an e-mail address".into());
        }
        for (key, link) in [("terms_url", Some(&self.terms_url)), ("privacy_url", self.privacy_url.as_ref())] {
            if let Some(link) = link
                && !(link.starts_with("https://") || (link.starts_with('/') && !link.starts_with("//")))
            {
                return invalid(format!("{key} must be an https:// URL or a path on this site"));
            }
        }
        Ok(())
    }
}

/// `[prices]`: the fiat currency the pages show beside amounts, and the feeds that price each asset and each chain's
/// native coin (for network fees). A feed is any contract with Chainlink's AggregatorV3Interface
/// (`decimals()`, `latestRoundData()`), read on a configured chain; the devnet deploys stand-ins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceSettings {
    /// The currency the feeds quote, ISO 4217 (`USD`).
    pub currency: String,
    /// An answer older than this by the feed chain's clock is not shown as a price (the page says the price is not
    /// current); default 90000 (25 hours: Chainlink's slowest BSC heartbeats are 24 hours).
    #[serde(default = "default_price_max_age_secs")]
    pub max_age_secs: u64,
    /// Seconds the API keeps an answer before reading the feeds again; default 30.
    #[serde(default = "default_price_cache_secs")]
    pub cache_secs: u64,
    /// `[[prices.feeds]]`.
    #[serde(default)]
    pub feeds: Vec<PriceFeed>,
}

/// One price feed: where it is read, and what it prices.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFeed {
    /// The chain the feed contract is read on (a configured chain).
    pub chain_id: u64,
    /// The aggregator's address (0x hex).
    pub feed: Address,
    /// The assets (by id) one unit of which the feed's answer prices.
    #[serde(default)]
    pub assets: Vec<i32>,
    /// The chains whose native coin the answer prices (their network fees are shown in the currency with it).
    #[serde(default)]
    pub native_of: Vec<u64>,
}

fn default_price_max_age_secs() -> u64 {
    90_000
}

fn default_price_cache_secs() -> u64 {
    30
}

impl PriceSettings {
    /// A three-letter upper-case currency; a sane age and cache; each asset and each native coin priced once; at most
    /// 64 feeds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |why: &str| Err(ConfigError::Invalid(format!("prices.{why}")));
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return invalid("currency must be an ISO 4217 code such as USD");
        }
        if !(60..=7 * 86_400).contains(&self.max_age_secs) {
            return invalid("max_age_secs must be between 60 and 604800");
        }
        if !(1..=3_600).contains(&self.cache_secs) {
            return invalid("cache_secs must be between 1 and 3600");
        }
        if self.feeds.len() > 64 {
            return invalid("feeds: at most 64");
        }
        let assets: Vec<i32> = self.feeds.iter().flat_map(|f| f.assets.iter().copied()).collect();
        let natives: Vec<u64> = self.feeds.iter().flat_map(|f| f.native_of.iter().copied()).collect();
        let unique = |v: &[i64]| v.iter().collect::<std::collections::HashSet<_>>().len() == v.len();
        if !unique(&assets.iter().map(|&a| i64::from(a)).collect::<Vec<_>>()) {
            return invalid("feeds: an asset is priced by two feeds");
        }
        if !unique(&natives.iter().map(|&c| c as i64).collect::<Vec<_>>()) {
            return invalid("feeds: a chain's native coin is priced by two feeds");
        }
        Ok(())
    }
}

/// `[solvency]`: epochs of the public proof of solvency, built, signed and committed by the API's worker.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolvencySettings {
    /// K, the backend's 32-byte secret the leaves' salts are derived from (64 hex digits, `0x` allowed); from the
    /// environment in production (`APP_SOLVENCY__SALT_KEY`). Changing it changes every later epoch's leaves.
    pub salt_key: SecretString,
    /// The worker: off, epochs are neither built nor sent (proofs of committed ones are still served).
    #[serde(default = "default_enabled")]
    pub worker: bool,
    /// Seconds between the worker's rounds.
    #[serde(default = "default_solvency_round_secs")]
    pub interval_secs: u64,
    /// Seconds a sent commitment waits before the worker follows it up.
    #[serde(default = "default_solvency_idle_secs")]
    pub idle_secs: u64,
    /// How long a signed commitment stays valid; within the signer's deadline horizon.
    #[serde(default = "default_solvency_ttl_secs")]
    pub signature_ttl_secs: u64,
    /// `[[solvency.chains]]`: the chains whose assets get epochs, each with its cadence.
    #[serde(default)]
    pub chains: Vec<SolvencyChain>,
}

/// One chain's epoch cadence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolvencyChain {
    /// The chain (of the chain spec).
    pub chain_id: u64,
    /// Confirmed blocks between two epochs; a commitment older than twice this is stale.
    pub interval_blocks: u64,
    /// After a payout batch executes, the next epoch comes as soon as this many blocks passed since the last one.
    pub payout_gap_blocks: u64,
}

fn default_solvency_round_secs() -> u64 {
    10
}

fn default_solvency_idle_secs() -> u64 {
    30
}

fn default_solvency_ttl_secs() -> u64 {
    1800
}

impl SolvencySettings {
    /// K as bytes: 32 of them, from 64 hex digits.
    pub fn salt_key(&self) -> eyre::Result<[u8; 32]> {
        use secrecy::ExposeSecret;
        let text = self.salt_key.expose_secret();
        let text = text.strip_prefix("0x").unwrap_or(text);
        eyre::ensure!(text.len() == 64, "solvency.salt_key must be 32 bytes as 64 hex digits");
        let mut key = [0u8; 32];
        alloy::hex::decode_to_slice(text, &mut key).map_err(|_| eyre::eyre!("solvency.salt_key is not hex"))?;
        Ok(key)
    }

    /// The cadence of `chain_id`, when it has epochs.
    pub fn chain(&self, chain_id: u64) -> Option<&SolvencyChain> {
        self.chains.iter().find(|c| c.chain_id == chain_id)
    }

    /// A usable key, rounds of at least 1 s, cadences of at least one block, each chain once.
    pub fn validate(&self) -> eyre::Result<()> {
        self.salt_key()?;
        eyre::ensure!(self.interval_secs >= 1, "solvency.interval_secs must be at least 1");
        eyre::ensure!(self.signature_ttl_secs >= 60, "solvency.signature_ttl_secs must be at least 60");
        for c in &self.chains {
            eyre::ensure!(
                c.interval_blocks >= 1 && c.payout_gap_blocks >= 1 && c.payout_gap_blocks <= c.interval_blocks,
                "solvency.chains: chain {} needs 1 <= payout_gap_blocks <= interval_blocks",
                c.chain_id
            );
            eyre::ensure!(
                self.chains.iter().filter(|o| o.chain_id == c.chain_id).count() == 1,
                "solvency.chains: chain {} listed twice",
                c.chain_id
            );
        }
        Ok(())
    }
}

/// `[payouts]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutSettings {
    /// `[payouts.worker]`: the payout worker.
    #[serde(default)]
    pub worker: WorkerSettings,
    /// `[payouts.schedule]`: when the operator means to build payout batches, shown to members as each asset's
    /// `expected_next_batch_at`; unset, no time is promised.
    #[serde(default)]
    pub schedule: Option<PayoutSchedule>,
}

/// `[payouts.schedule]`: the operator's payout cadence, in the chain's time: batches at `origin + k × every_secs`.
/// It promises, it does not build: batches are still built by staff (or their tooling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutSchedule {
    /// Seconds between two scheduled batches: at least an hour, at most 366 days.
    pub every_secs: u64,
    /// A scheduled time, Unix seconds; default 345600 (Monday 1970-01-05 00:00 UTC, the generation plan's week
    /// origin), so `every_secs = 604800` means every Monday 00:00 UTC.
    #[serde(default = "default_schedule_origin")]
    pub origin: u64,
}

fn default_schedule_origin() -> u64 {
    345_600
}

impl PayoutSchedule {
    /// The first scheduled time at or after `now` (Unix seconds, the chain's clock).
    pub fn next_at(&self, now: u64) -> u64 {
        if now <= self.origin {
            return self.origin;
        }
        self.origin + (now - self.origin).div_ceil(self.every_secs) * self.every_secs
    }

    /// An interval of one hour to 366 days.
    pub fn validate(&self) -> eyre::Result<()> {
        eyre::ensure!(
            (3_600..=366 * 86_400).contains(&self.every_secs),
            "payouts.schedule.every_secs must be between 3600 (an hour) and 31622400 (366 days)"
        );
        Ok(())
    }
}

/// `[payouts.worker]`: the payout worker (`crate::payouts::worker`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Off: batches move only when an admin submits or retries them.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Seconds between rounds.
    #[serde(default = "default_interval_secs")]
    pub interval_secs: u64,
    /// Seconds a batch must have been left alone (not signed, sent or re-sent) before the worker moves it.
    #[serde(default = "default_idle_secs")]
    pub idle_secs: u64,
}

fn default_enabled() -> bool {
    true
}

fn default_interval_secs() -> u64 {
    15
}

/// Two minutes: far longer than an admin takes between signing and submitting, or a chain to mine a transaction.
fn default_idle_secs() -> u64 {
    120
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self { enabled: default_enabled(), interval_secs: default_interval_secs(), idle_secs: default_idle_secs() }
    }
}

impl WorkerSettings {
    /// An interval of at least 1 s and an idle wait of at least 1 s.
    pub fn validate(&self) -> eyre::Result<()> {
        eyre::ensure!(self.interval_secs >= 1, "payouts.worker.interval_secs must be at least 1");
        eyre::ensure!(self.idle_secs >= 1, "payouts.worker.idle_secs must be at least 1");
        Ok(())
    }
}

/// WalletConnect v2: the project id (public: every page that offers WalletConnect sends it to the relay) and the
/// relay the page's client connects to. The page loads the client from this origin only when the user picks it.
#[derive(Debug, Clone, Deserialize)]
pub struct WalletConnectSettings {
    /// The WalletConnect project id (1–64 letters, digits or `-`).
    pub project_id: String,
    /// The relay's `wss://` URL (`ws://` only on loopback); default `wss://relay.walletconnect.org`.
    #[serde(default = "default_walletconnect_relay")]
    pub relay_url: String,
}

fn default_walletconnect_relay() -> String {
    "wss://relay.walletconnect.org".into()
}

impl WalletConnectSettings {
    /// A project id is 1–64 letters and digits (WalletConnect's are 32 hex digits) and the relay a `wss://`
    /// (or, for a development relay on loopback, `ws://`) URL: both go into the pages' security policy.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let id_ok = (1..=64).contains(&self.project_id.len())
            && self.project_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !id_ok {
            return Err(ConfigError::Invalid("walletconnect.project_id must be 1-64 letters, digits or '-'".into()));
        }
        let url = reqwest::Url::parse(&self.relay_url)
            .map_err(|e| ConfigError::Invalid(format!("walletconnect.relay_url: {e}")))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        let scheme_ok = url.scheme() == "wss" || (url.scheme() == "ws" && loopback);
        if !scheme_ok || url.host_str().is_none() || !url.username().is_empty() || url.query().is_some() {
            return Err(ConfigError::Invalid(
                "walletconnect.relay_url must be a wss:// URL (ws:// only on loopback) without credentials or query"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The API's tuning of one chain of the chain spec (`[[chains]]`, keyed by `chain_id`). Register/retopup payloads
/// for an asset of a chain the spec does not declare answer 503 `chain_not_configured`.
///
/// With the spec's `rpc_url` the admin API reads the contract's balance and, with an operator key, sends payout
/// batches. The operator key comes from an encrypted keystore (`operator_keystore`, passphrase from `APP_…`
/// environment, never the file); a raw hex `operator_key` is accepted only with `insecure_operator_key = true`, for
/// development chains ([`ChainSettings::operator_key`]).
///
/// `APP_CHAINS` (a list of such entries) is merged into the file's entries by `chain_id`, field by field
/// ([`service_kit::config`]): setting the passphrase there keeps the file's fee cap.
///
/// On a TRON chain (the spec's `[chains.tron]`), payouts go through java-tron's gRPC API with `tronic`: the signed
/// transaction is kept before its broadcast and broadcast again until provably dead; its `fee_limit` is estimated
/// and capped by `payout_fee_limit_cap_sun`, its lifetime is `payout_tx_expiration_secs`, and an outcome is final
/// once solidified.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainTuning {
    /// The chain, as the chain spec declares it; each chain may be tuned once.
    pub chain_id: u64,
    /// Path of an encrypted JSON keystore holding the operator key (OPERATOR_ROLE: sends payout batches).
    #[serde(default)]
    pub operator_keystore: Option<String>,
    /// Passphrase of `operator_keystore`; environment only (refused in the file).
    #[serde(default)]
    pub operator_keystore_passphrase: Option<SecretString>,
    /// Raw hex private key; development only (see `insecure_operator_key`).
    #[serde(default)]
    pub operator_key: Option<SecretString>,
    /// Allows a raw `operator_key` (development chains only); default false.
    #[serde(default)]
    pub insecure_operator_key: bool,
    /// Lifetime of payout-batch and treasury-transfer signatures (must be within the signer's horizon).
    #[serde(default = "default_signature_ttl_secs")]
    pub signature_ttl_secs: u64,
    /// Lifetime of an outflow proposed for staff approval (backend/STAFF.md §3): its deadline is fixed when it is
    /// proposed, so approvers have this long to sign it off and the signer to sign it (within the signer's horizon).
    #[serde(default = "default_approval_window_secs")]
    pub approval_window_secs: u64,
    /// On a TRON chain: the `fee_limit` (SUN) suggested to wallets for a register or retopup call.
    #[serde(default = "default_fee_limit_sun")]
    pub fee_limit_sun: u64,
    /// TRON: the highest `fee_limit` (SUN) a payout transaction may carry.
    #[serde(default = "default_payout_fee_limit_cap_sun")]
    pub payout_fee_limit_cap_sun: u64,
    /// TRON: lifetime of a signed payout transaction (seconds, at most 24 h).
    #[serde(default = "default_payout_tx_expiration_secs")]
    pub payout_tx_expiration_secs: u64,
    /// EVM: the most a payout transaction may offer per gas (wei), first send and replacements alike; default
    /// 100 gwei. Fees come from the node's EIP-1559 suggestion below it.
    #[serde(default = "default_payout_max_fee_per_gas_wei")]
    pub payout_max_fee_per_gas_wei: u64,
    /// EVM: how long a payout transaction may stay unmined before a follow-up replaces it (same account nonce,
    /// higher fees); default 180 s.
    #[serde(default = "default_payout_replace_after_secs")]
    pub payout_replace_after_secs: u64,
    /// EVM: how much a replacement raises both fees at least, in percent (10 or more: nodes refuse less);
    /// default 12.
    #[serde(default = "default_payout_fee_bump_percent")]
    pub payout_fee_bump_percent: u64,
    /// What the pages call the chain ("BNB Smart Chain"); unset, the page's own table of known networks names it.
    #[serde(default)]
    pub name: Option<String>,
    /// An RPC URL wallets may use (`wallet_addEthereumChain` when a wallet does not know the chain). Public: never
    /// the spec's `rpc_url`, which may carry a key.
    #[serde(default, alias = "rpc_url_public")]
    pub public_rpc_url: Option<String>,
    /// The chain's block explorer (`https://bscscan.com`, `https://nile.tronscan.org`): the pages link each
    /// transaction and address there (`{base}/tx/…`, `{base}/address/…`; TRONSCAN's `#/transaction/…` on TRON).
    #[serde(default)]
    pub explorer_url: Option<String>,
    /// The native coin as wallets show it (`wallet_addEthereumChain`'s `nativeCurrency`); unset, the page's table.
    #[serde(default)]
    pub native_currency: Option<NativeCurrency>,
}

impl ChainTuning {
    /// The defaults for `chain_id`: no operator key, the default lifetimes and fee limits, nothing for the pages.
    pub fn defaults(chain_id: u64) -> Self {
        Self {
            chain_id,
            operator_keystore: None,
            operator_keystore_passphrase: None,
            operator_key: None,
            insecure_operator_key: false,
            signature_ttl_secs: default_signature_ttl_secs(),
            approval_window_secs: default_approval_window_secs(),
            fee_limit_sun: default_fee_limit_sun(),
            payout_fee_limit_cap_sun: default_payout_fee_limit_cap_sun(),
            payout_tx_expiration_secs: default_payout_tx_expiration_secs(),
            payout_max_fee_per_gas_wei: default_payout_max_fee_per_gas_wei(),
            payout_replace_after_secs: default_payout_replace_after_secs(),
            payout_fee_bump_percent: default_payout_fee_bump_percent(),
            name: None,
            public_rpc_url: None,
            explorer_url: None,
            native_currency: None,
        }
    }
}

/// One chain the API serves: as the chain spec declares it, and as the API is tuned for it.
#[derive(Debug, Clone)]
pub struct ChainSettings {
    /// The chain spec's declaration.
    pub spec: ChainSpec,
    /// The API's `[[chains]]` entry for it, or the defaults.
    pub tuning: ChainTuning,
}

/// A chain's native coin, as EIP-3085 (`wallet_addEthereumChain`) describes it.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct NativeCurrency {
    /// The coin's name, as wallets show it.
    pub name: String,
    /// The coin's ticker symbol (`BNB`).
    pub symbol: String,
    /// Decimals of the coin's base unit (18 for BNB).
    pub decimals: u8,
}

impl ChainSettings {
    /// A chain with its Settlement contract only (no RPC, no operator key), one confirmation, defaults elsewhere.
    pub fn new(chain_id: u64, settlement: Address) -> Self {
        let spec = ChainSpec { confirmations: 1, ..ChainSpec::new(chain_id, settlement) };
        Self { spec, tuning: ChainTuning::defaults(chain_id) }
    }

    /// The operator key, if one is configured: decrypted from `operator_keystore` (an error naming the file, a wrong
    /// passphrase said as such), or a raw `operator_key` — refused without `insecure_operator_key = true`, and on a
    /// mainnet's chain id whatever it says. Either is refused when it is one of anvil's well-known development keys
    /// and the chain spec does not declare the chain a development one ([`ChainSpec::is_development`]).
    pub fn operator_key(&self) -> Result<Option<alloy::signers::local::PrivateKeySigner>, ConfigError> {
        use secrecy::ExposeSecret;
        let (id, tuning) = (self.spec.chain_id, &self.tuning);
        let invalid = |why: String| ConfigError::Invalid(format!("chains: chain {id}: {why}"));
        let key = match (&tuning.operator_keystore, &tuning.operator_key) {
            (Some(path), _) => {
                let passphrase = tuning.operator_keystore_passphrase.as_ref().ok_or_else(|| {
                    invalid(
                        "operator_keystore needs operator_keystore_passphrase (from the environment: APP_CHAINS)"
                            .into(),
                    )
                })?;
                let key = service_kit::keys::decrypt_keystore(Path::new(path), passphrase.expose_secret())
                    .map_err(|e| invalid(format!("operator_keystore: {e}")))?;
                Some(key)
            }
            (None, Some(_)) if abi::chain::is_mainnet(id) => {
                return Err(invalid(
                    "a raw operator_key is refused on a mainnet, whatever insecure_operator_key says: use \
                     operator_keystore"
                        .into(),
                ));
            }
            (None, Some(_)) if !tuning.insecure_operator_key => {
                return Err(invalid(
                    "a raw operator_key is for development only: set insecure_operator_key = true, or use \
                     operator_keystore"
                        .into(),
                ));
            }
            (None, Some(hex)) => {
                let key = hex
                    .expose_secret()
                    .trim()
                    .parse::<alloy::signers::local::PrivateKeySigner>()
                    .map_err(|_| invalid("operator_key is not a hex private key".into()))?;
                tracing::warn!(chain_id = id, "using a raw operator key: development only");
                Some(key)
            }
            (None, None) => None,
        };
        // anvil's accounts' private keys are public: anyone could send with one. Only on a development chain.
        if let Some(key) = &key
            && let Some(index) = service_kit::keys::well_known_dev_key(key.address())
            && !self.spec.is_development()
        {
            return Err(invalid(format!(
                "the operator key is anvil's well-known development account #{index}, whose private key is public; \
                 it is allowed only on a chain declared development = true in the chain spec (never a mainnet)"
            )));
        }
        Ok(key)
    }
}

/// 150 TRX: a register that places a node in a pool and pays shares stays well under it; the wallet pays only
/// what the call burns.
fn default_fee_limit_sun() -> u64 {
    150_000_000
}

/// 1,000 TRX: a payout batch's energy (≈ 64k per USDT transfer to a holder, ≈ 130k to a fresh address, at
/// 100 SUN per energy and tronic's 1.5× margin) stays well under it for batches of the default size.
fn default_payout_fee_limit_cap_sun() -> u64 {
    1_000_000_000
}

/// Ten minutes: long enough for a busy node, short enough that a lost transaction is provably dead soon.
fn default_payout_max_fee_per_gas_wei() -> u64 {
    payout_chain::fees::FeePolicy::default().max_fee_per_gas_ceiling as u64
}

fn default_payout_replace_after_secs() -> u64 {
    payout_chain::fees::FeePolicy::default().replace_after.as_secs()
}

fn default_payout_fee_bump_percent() -> u64 {
    payout_chain::fees::FeePolicy::default().bump_percent as u64
}

impl ChainTuning {
    /// The EVM fee policy of payout transactions this tuning sets.
    pub fn fee_policy(&self) -> payout_chain::fees::FeePolicy {
        payout_chain::fees::FeePolicy {
            max_fee_per_gas_ceiling: u128::from(self.payout_max_fee_per_gas_wei),
            replace_after: std::time::Duration::from_secs(self.payout_replace_after_secs),
            bump_percent: u128::from(self.payout_fee_bump_percent),
        }
    }
}

fn default_payout_tx_expiration_secs() -> u64 {
    600
}

fn default_signature_ttl_secs() -> u64 {
    1_800
}

fn default_approval_window_secs() -> u64 {
    3_000
}

/// Requests allowed per window (Redis fixed windows); skipped when Redis is down.
#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    /// Length of each counting window, in seconds (60 when `[rate_limits]` is absent).
    pub window_secs: u64,
    /// Nonce and sign-in requests per client IP.
    pub signin_per_ip: u32,
    /// Sign-ins per wallet whose signature verified (failed attempts by others never use a wallet's allowance).
    pub signin_per_wallet: u32,
    /// Signed-payload requests per wallet and route (register, retopup); `register_per_wallet` in older configs.
    #[serde(default = "default_register_per_wallet", alias = "register_per_wallet")]
    pub signing_per_wallet: u32,
    /// Admin requests that have the signer sign (a payout batch, a treasury transfer) per admin wallet and route.
    #[serde(default = "default_admin_signing_per_wallet")]
    pub admin_signing_per_wallet: u32,
    /// Reverse proxies whose `X-Forwarded-For` header names the client; from any other peer the header is
    /// ignored (so a client cannot pick the address its requests are counted under).
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

fn default_register_per_wallet() -> u32 {
    10
}

fn default_admin_signing_per_wallet() -> u32 {
    120
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            window_secs: 60,
            signin_per_ip: 60,
            signin_per_wallet: 10,
            signing_per_wallet: default_register_per_wallet(),
            admin_signing_per_wallet: default_admin_signing_per_wallet(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[application]`: the API's listening address and server limits.
#[derive(Debug, Clone, Deserialize)]
pub struct ApplicationSettings {
    /// Interface address the API binds (`127.0.0.1`, `0.0.0.0`).
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Slow and excess clients (`[application.limits]`: header read and request timeouts, connections).
    #[serde(default)]
    pub limits: service_kit::serve::ServerLimits,
    /// Where `GET /metrics` (Prometheus text, `ops/metrics.md`) is served, apart from the public port; none when
    /// absent. Port 0 picks a free port (tests).
    #[serde(default)]
    pub metrics_address: Option<std::net::SocketAddr>,
}

/// `[database]`: the Postgres ledger the API reads and writes.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// May carry a password, hence secret.
    pub url: SecretString,
    /// Most connections the pool opens; default 10.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    10
}

/// `[redis]`: the Redis that holds what may be lost (nonces, rate-limit windows, cached snapshots).
#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    /// `None` runs without Redis (sign-in then answers 503, see `auth::nonce`).
    pub url: Option<String>,
    /// Prefix of every key, so several deployments (or test runs) can share one server.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self { url: Some("redis://127.0.0.1:6379".into()), key_prefix: default_key_prefix() }
    }
}

fn default_key_prefix() -> String {
    "referral".into()
}

/// Wallet sign-in (EIP-4361) and tokens.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// HS256 key of the access tokens. When absent (development), a random key is made at start with a
    /// warning: tokens then do not survive a restart. Set `APP_AUTH__JWT_SECRET` anywhere shared.
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    /// EIP-4361 `domain` (host[:port]) the messages must name.
    pub domain: String,
    /// EIP-4361 `URI` the messages must name.
    pub uri: String,
    /// EIP-4361 statement: the sentence the wallet shows in the message.
    pub statement: String,
    /// `Chain ID` of EVM sign-in messages.
    pub evm_chain_id: u64,
    /// `Chain ID` of TRON sign-in messages (mainnet 728126428).
    pub tron_chain_id: u64,
    /// Seconds a sign-in nonce, and the message issued with it, stays valid.
    pub nonce_ttl_secs: u64,
    /// Seconds an access token stays valid.
    pub access_ttl_secs: u64,
    /// Seconds a refresh token stays valid (each refresh issues a new one); also the session cookie's `Max-Age`.
    pub refresh_ttl_secs: u64,
    /// Wallets (0x hex or TRON base58) seeded with every staff role on an empty staff table (the first start); ignored
    /// once any role exists: roles then change only through approved changes (`backend/STAFF.md` §2).
    #[serde(default)]
    pub admins: Vec<String>,
}

/// How the API reaches the signing service (used by register/payout endpoints).
#[derive(Debug, Clone, Deserialize)]
pub struct SignerSettings {
    /// Base URL of the signing service (`http://127.0.0.1:8700`).
    pub url: String,
    /// The caller id the API signs its requests as, as configured in the signer's `[auth]`.
    pub caller_id: String,
    /// The HMAC secret of `caller_id`.
    pub caller_secret: SecretString,
    /// A second signer caller used only for treasury transfers (give the main caller `kinds` without
    /// `treasury_transfer` in the signer's config, so a leaked main secret cannot move company funds).
    /// Absent: treasury transfers use the main caller.
    #[serde(default)]
    pub treasury_caller: Option<SignerCaller>,
}

/// A signer caller id and its HMAC secret.
#[derive(Debug, Clone, Deserialize)]
pub struct SignerCaller {
    /// The caller id, as configured in the signer's `[auth]`.
    pub caller_id: String,
    /// Its HMAC secret.
    pub caller_secret: SecretString,
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read, or the file with the environment overlaid does not fit the settings.
    #[error(transparent)]
    Layered(#[from] service_kit::config::ConfigError),
    /// The file is not valid TOML.
    #[error("parsing TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// A `[[chains]]` secret (`operator_key`, `operator_keystore_passphrase`) is written in the file.
    #[error("chains.{0} must not be in the configuration file: set it through the environment")]
    SecretInFile(&'static str),
    /// A setting has a value the service refuses (the message says which).
    #[error("{0}")]
    Invalid(String),
}

impl Settings {
    /// Reads `APP_CONFIG` (default `backend/configuration.toml`), overlays `APP_…` variables and reads the chain spec
    /// it names (a relative path beside that file).
    pub fn load() -> Result<Self, ConfigError> {
        let path = std::env::var("APP_CONFIG").unwrap_or_else(|_| "backend/configuration.toml".into());
        let text = std::fs::read_to_string(Path::new(&path))
            .map_err(|e| service_kit::config::ConfigError::Read(path.clone(), e))?;
        Self::read(&text, std::env::vars(), Path::new(&path))
    }

    /// The file text overlaid with `APP_SECTION__KEY=value` pairs ([`service_kit::config`]), a relative
    /// `chain_spec` read from the working directory; operator keys are refused in the file.
    pub fn from_sources(file: &str, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        Self::read(file, env, Path::new("configuration.toml"))
    }

    /// [`Self::from_sources`] for the file at `path`, whose directory a relative `chain_spec` is read from.
    fn read(file: &str, env: impl IntoIterator<Item = (String, String)>, path: &Path) -> Result<Self, ConfigError> {
        let root: toml::Table = file.parse()?;
        // Keys belong in the environment or a keystore, never in a file that is committed or copied around.
        for chain in root.get("chains").and_then(|c| c.as_array()).into_iter().flatten() {
            for secret in ["operator_key", "operator_keystore_passphrase"] {
                if chain.get(secret).is_some() {
                    return Err(ConfigError::SecretInFile(secret));
                }
            }
        }
        let mut settings: Self = service_kit::config::layered(root, "APP_", env)?;
        if let Some(wc) = &settings.walletconnect {
            wc.validate()?;
        }
        if let Some(operator) = &settings.operator {
            operator.validate()?;
        }
        if let Some(prices) = &settings.prices {
            prices.validate()?;
        }
        let specs = match &settings.chain_spec {
            Some(spec) => ChainSpecs::load(&beside(path, spec)).map_err(|e| ConfigError::Invalid(e.to_string()))?,
            None if settings.chain_tuning.is_empty() => return Ok(settings),
            None => {
                return Err(ConfigError::Invalid(
                    "[[chains]] tunes chains, but no chain_spec declares them: set chain_spec".into(),
                ));
            }
        };
        let tuning = std::mem::take(&mut settings.chain_tuning);
        settings.chains = specs
            .join(tuning, |t| t.chain_id, ChainTuning::defaults)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?
            .into_iter()
            .map(|(spec, tuning)| ChainSettings { spec, tuning })
            .collect();
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const FILE: &str = r#"
[application]
host = "127.0.0.1"
port = 8000
[database]
url = "postgres://u:p@h/db"
[auth]
jwt_secret = "file-secret"
domain = "localhost:8000"
uri = "http://localhost:8000"
statement = "Sign in"
evm_chain_id = 56
tron_chain_id = 728126428
nonce_ttl_secs = 300
access_ttl_secs = 900
refresh_ttl_secs = 2592000
"#;

    #[test]
    fn env_overrides_file_and_secrets_do_not_print() {
        let env = [
            ("APP_AUTH__JWT_SECRET".to_string(), "env-secret".to_string()),
            ("APP_APPLICATION__PORT".to_string(), "0".to_string()),
            ("APP_AUTH__ADMINS".to_string(), r#"["0xabc"]"#.to_string()),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let s = Settings::from_sources(FILE, env).unwrap();
        assert_eq!(s.auth.jwt_secret.as_ref().map(|k| k.expose_secret()), Some("env-secret"));
        assert_eq!(s.application.port, 0);
        assert_eq!(s.auth.admins, vec!["0xabc".to_string()]);
        let shown = format!("{s:?}");
        assert!(!shown.contains("env-secret") && !shown.contains("u:p@h"), "{shown}");
    }

    #[test]
    fn a_variable_that_reads_as_a_number_still_sets_a_text_field() {
        let env = [
            ("APP_AUTH__JWT_SECRET".to_string(), "123456".to_string()),
            ("APP_DATABASE__URL".to_string(), "42".to_string()),
            ("APP_AUTH__STATEMENT".to_string(), "true".to_string()),
            ("APP_APPLICATION__PORT".to_string(), "8080".to_string()),
            ("APP_WALLETCONNECT__PROJECT_ID".to_string(), "1234".to_string()),
        ];
        let s = Settings::from_sources(FILE, env).unwrap();
        assert_eq!(s.auth.jwt_secret.as_ref().map(|k| k.expose_secret()), Some("123456"));
        assert_eq!(s.database.url.expose_secret(), "42");
        assert_eq!(s.auth.statement, "true");
        assert_eq!(s.application.port, 8080);
        assert_eq!(s.walletconnect.unwrap().project_id, "1234");
    }

    /// A chain spec of BSC mainnet and testnet written to a scratch directory, and the file with it named.
    fn with_spec(extra: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("chains.toml");
        let chain = |id: u64| {
            format!(
                "[[chains]]\nchain_id = {id}\nsettlement = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\n\
                 confirmations = 15\nstart_block = 1\n"
            )
        };
        std::fs::write(&spec, format!("{}{}", chain(56), chain(97))).unwrap();
        (dir, format!("chain_spec = \"{}\"\n{FILE}{extra}", spec.display()))
    }

    #[test]
    fn app_chains_merges_into_the_files_entries_and_keeps_their_fee_cap() {
        let (_dir, file) = with_spec(
            "[[chains]]\nchain_id = 56\npayout_max_fee_per_gas_wei = 5000000000\nname = \"BSC\"\n\n\
             [[chains]]\nchain_id = 97\npayout_fee_bump_percent = 20\n",
        );
        let env = [(
            "APP_CHAINS".to_string(),
            r#"[{ chain_id = 56, operator_keystore = "/keys/operator.json", operator_keystore_passphrase = "pw" }]"#
                .to_string(),
        )];
        let settings = Settings::from_sources(&file, env).unwrap();
        let bsc = &settings.chains.iter().find(|c| c.spec.chain_id == 56).unwrap().tuning;
        assert_eq!(bsc.payout_max_fee_per_gas_wei, 5_000_000_000, "the file's fee cap survives APP_CHAINS");
        assert_eq!(bsc.name.as_deref(), Some("BSC"));
        assert_eq!(bsc.operator_keystore.as_deref(), Some("/keys/operator.json"));
        assert_eq!(bsc.operator_keystore_passphrase.as_ref().map(|p| p.expose_secret()), Some("pw"));
        let testnet = &settings.chains.iter().find(|c| c.spec.chain_id == 97).unwrap().tuning;
        assert_eq!(testnet.payout_fee_bump_percent, 20, "an entry APP_CHAINS does not name stays as the file has it");
    }

    /// A key no tool knows.
    const OWN_KEY: &str = "0x0101010101010101010101010101010101010101010101010101010101010101";

    #[test]
    fn a_wrong_keystore_passphrase_names_the_keystore() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = alloy::signers::local::PrivateKeySigner::encrypt_keystore(
            dir.path(),
            &mut rand::thread_rng(),
            alloy::hex::decode(OWN_KEY).unwrap(),
            "right",
            Some("operator.json"),
        )
        .unwrap();
        let path = dir.path().join("operator.json").display().to_string();
        let mut chain = ChainSettings::new(56, Address::ZERO);
        chain.tuning.operator_keystore = Some(path.clone());
        chain.tuning.operator_keystore_passphrase = Some(SecretString::from("wrong"));
        let refused = chain.operator_key().unwrap_err().to_string();
        assert!(
            refused.contains(&format!("chain 56: operator_keystore: keystore {path}: the passphrase does not open it")),
            "{refused}"
        );
        chain.tuning.operator_keystore_passphrase = Some(SecretString::from("right"));
        assert_eq!(chain.operator_key().unwrap().map(|k| k.address()), Some(key.address()), "on mainnet, a keystore");
    }

    #[test]
    fn walletconnect_is_optional_and_checked() {
        let none = Settings::from_sources(FILE, []).unwrap();
        assert!(none.walletconnect.is_none());
        let env = |id: &str, relay: &str| {
            [
                ("APP_WALLETCONNECT__PROJECT_ID".to_string(), id.to_string()),
                ("APP_WALLETCONNECT__RELAY_URL".to_string(), relay.to_string()),
            ]
        };
        let s =
            Settings::from_sources(FILE, env("0123456789abcdef0123456789abcdef", "wss://relay.example.org")).unwrap();
        assert_eq!(s.walletconnect.unwrap().relay_url, "wss://relay.example.org");
        let file = format!("{FILE}\n[walletconnect]\nproject_id = \"abc\"\n");
        assert_eq!(
            Settings::from_sources(&file, []).unwrap().walletconnect.unwrap().relay_url,
            "wss://relay.walletconnect.org"
        );
        assert!(Settings::from_sources(FILE, env("devnet", "ws://127.0.0.1:9000")).is_ok());
        for (id, relay) in [
            ("abc", "ws://relay.example.org"),
            ("abc", "https://relay.example.org"),
            ("abc", "wss://relay.example.org/?x=1"),
            ("abc", "wss://u:p@relay.example.org"),
            ("abc", "not a url"),
            ("", "wss://relay.example.org"),
            ("a b;", "wss://relay.example.org"),
        ] {
            let e = Settings::from_sources(FILE, env(id, relay)).unwrap_err();
            assert!(matches!(e, ConfigError::Invalid(_)), "{id} {relay}: {e}");
        }
    }
}
