//! Starting the app and signing in with real wallets.

use alloy::primitives::{Address, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use backend::config::{NotificationsSettings, Settings, SmtpSettings, SmtpTls, WebhookSettings};
use backend::startup::Application;
use ledger::db::ScratchDatabase;
use ledger::events::{ChainEvent, EventBody, EventKey};
use serde_json::{Value, json};

pub(crate) const DOMAIN: &str = "app.test:8443";
pub(crate) const URI: &str = "https://app.test:8443";
pub(crate) const EVM_CHAIN_ID: u64 = 56;
pub(crate) const TRON_CHAIN_ID: u64 = 728126428;

pub(crate) struct TestApp {
    pub base: String,
    /// The API's clock: tests move it instead of sleeping.
    pub clock: backend::http::types::Clock,
    pub client: reqwest::Client,
    pub db: ScratchDatabase,
    pub admin: PrivateKeySigner,
    /// `GET /metrics` of this app (`[application] metrics_address`, a free loopback port).
    pub metrics_url: Option<String>,
    /// Every API route the app's router serves, (method, path template).
    pub routes: Vec<(String, String)>,
    /// The OpenAPI document the app serves: [`send`](Self::send) checks every answer against it.
    pub doc: std::sync::Arc<Value>,
}

/// Settings of a test app: the real `backend/configuration.toml` with the test's overrides layered on top the
/// way a deployment sets them (`APP_…` variables): port 0, the given Redis under a fresh key prefix, a test JWT
/// secret, the test's sign-in domain and chain ids, one admin wallet, generous rate limits.
pub(crate) fn settings(redis_url: &str, admin: Address) -> Settings {
    let prefix = format!("test-{}", backend_random());
    let overrides = [
        ("APP_APPLICATION__PORT", "0".to_owned()),
        ("APP_APPLICATION__METRICS_ADDRESS", "127.0.0.1:0".to_owned()),
        ("APP_DATABASE__URL", "postgres://unused".to_owned()),
        ("APP_REDIS__URL", redis_url.to_owned()),
        ("APP_REDIS__KEY_PREFIX", prefix),
        ("APP_AUTH__JWT_SECRET", "test-secret-0123456789abcdef-0123456789".to_owned()),
        ("APP_AUTH__DOMAIN", DOMAIN.to_owned()),
        ("APP_AUTH__URI", URI.to_owned()),
        ("APP_AUTH__EVM_CHAIN_ID", EVM_CHAIN_ID.to_string()),
        ("APP_AUTH__TRON_CHAIN_ID", TRON_CHAIN_ID.to_string()),
        ("APP_AUTH__NONCE_TTL_SECS", "120".to_owned()),
        ("APP_AUTH__ACCESS_TTL_SECS", "600".to_owned()),
        ("APP_AUTH__REFRESH_TTL_SECS", "3600".to_owned()),
        ("APP_AUTH__ADMINS", format!("[\"{admin:#x}\"]")),
        ("APP_RATE_LIMITS__SIGNIN_PER_IP", "10000".to_owned()),
        ("APP_RATE_LIMITS__SIGNIN_PER_WALLET", "1000".to_owned()),
        ("APP_RATE_LIMITS__SIGNING_PER_WALLET", "10000".to_owned()),
        ("APP_RATE_LIMITS__ADMIN_SIGNING_PER_WALLET", "10000".to_owned()),
    ];
    let file = include_str!("../../configuration.toml");
    Settings::from_sources(file, overrides.into_iter().map(|(k, v)| (k.to_owned(), v))).unwrap()
}

fn backend_random() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    )
}

/// `[notifications]` of a test app: a fixed test key, e-mail through the local Postfix (`scripts/mail.sh`), webhooks to
/// loopback endpoints when `allow_local`, a retry window of `retry_window_secs`.
pub(crate) fn notifications(allow_local: bool, retry_window_secs: u64) -> NotificationsSettings {
    NotificationsSettings {
        key: "0x1111111111111111111111111111111111111111111111111111111111111111".to_owned().into(),
        public_url: "https://app.test:8443".into(),
        smtp: Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port: anvil_tests::mail::smtp_port(),
            tls: SmtpTls::None,
            from: "Referral Test <notices@operator.test>".into(),
            username: None,
            password: None,
            timeout_secs: 10,
        }),
        webhooks: WebhookSettings { allow_local, retry_window_secs, timeout_secs: 5, rotation_overlap_secs: 3600 },
        interval_ms: 50,
        confirmations: Default::default(),
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with_redis("redis://127.0.0.1:6379").await
}

pub(crate) async fn spawn_app_with_redis(redis_url: &str) -> TestApp {
    spawn_app_configured(redis_url, |_| {}).await
}

/// A test app whose settings `adjust` changes first.
pub(crate) async fn spawn_app_configured(redis_url: &str, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    backend::startup::init_telemetry();
    let db = ScratchDatabase::create("api_test").await.unwrap();
    let admin = PrivateKeySigner::random();
    let mut settings = settings(redis_url, admin.address());
    adjust(&mut settings);
    let app = Application::build_with_pool(settings, db.pool.clone()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let clock = app.clock();
    let metrics_url = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}/metrics"));
    let routes = app.routes().to_vec();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let doc = client.get(format!("{base}/api-docs/openapi.json")).send().await.unwrap().json().await.unwrap();
    TestApp { base, clock, client, db, admin, metrics_url, routes, doc: std::sync::Arc::new(doc) }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chain {
    Evm,
    Tron,
}

impl Chain {
    pub(crate) fn address(self, wallet: &PrivateKeySigner) -> String {
        match self {
            Chain::Evm => wallet.address().to_checksum(None),
            Chain::Tron => abi::tron::to_base58(wallet.address()),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Chain::Evm => "evm",
            Chain::Tron => "tron",
        }
    }

    /// The wallet's signature over `message` in this chain's signed-message format, hex.
    pub(crate) fn sign(self, wallet: &PrivateKeySigner, message: &str) -> String {
        let signature = match self {
            Chain::Evm => wallet.sign_message_sync(message.as_bytes()).unwrap(),
            Chain::Tron => wallet.sign_hash_sync(&abi::tron::signed_message_hash(message.as_bytes())).unwrap(),
        };
        alloy::hex::encode_prefixed(signature.as_bytes())
    }
}

/// Status and JSON body (Null when empty or not JSON).
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub(crate) fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error code>")
    }
}

impl TestApp {
    /// The app's Prometheus text.
    pub(crate) async fn metrics(&self) -> String {
        let url = self.metrics_url.as_deref().expect("metrics_address is set");
        let response = self.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// The value of the series `series` (name and labels exactly as exported), 0 when absent.
    pub(crate) async fn metric(&self, series: &str) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .map_or(0.0, |v| v.trim().parse().unwrap())
    }

    /// Sends `req` and checks the answer against the app's document and the headers every answer carries
    /// ([`crate::conformance::check_answer`]): a test whose answer drifts from the document fails here.
    pub(crate) async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let (client, req) = req.build_split();
        let req = req.unwrap();
        let (method, path) = (req.method().as_str().to_owned(), req.url().path().to_owned());
        let cookie = req
            .headers()
            .get_all("cookie")
            .iter()
            .any(|c| c.to_str().is_ok_and(|c| c.contains(&format!("{}=", backend::http::auth::REFRESH_COOKIE))));
        let credentials = req.headers().contains_key("authorization") || cookie;
        let res = client.execute(req).await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let json: Option<Value> = serde_json::from_str(&text).ok();
        let wrong =
            crate::conformance::check_answer(&self.doc, &method, &path, credentials, status, &headers, json.as_ref());
        assert!(wrong.is_empty(), "the answer does not match the OpenAPI document: {wrong:#?}\n{text:.2000}");
        Answer { status, body: json.unwrap_or(Value::Null) }
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(self.client.post(format!("{}{path}", self.base)).json(&body)).await
    }

    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        self.send(req).await
    }

    /// POST with an optional bearer token.
    pub(crate) async fn post_as(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        self.send(req).await
    }

    /// PUT with an optional bearer token.
    pub(crate) async fn put_as(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        let mut req = self.client.put(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        self.send(req).await
    }

    /// POST as the signed-in admin (`token` from [`admin_token`](Self::admin_token)).
    pub(crate) async fn post_admin(&self, path: &str, token: &str, body: Value) -> Answer {
        self.post_as(path, Some(token), body).await
    }

    /// An access token of the admin wallet (signed in now).
    pub(crate) async fn admin_token(&self) -> String {
        self.signin(Chain::Evm, &self.admin).await["access_token"].as_str().unwrap().to_owned()
    }

    /// An access token of a fresh wallet with the user role (signed in now).
    pub(crate) async fn user_token(&self) -> String {
        let wallet = PrivateKeySigner::random();
        self.signin(Chain::Evm, &wallet).await["access_token"].as_str().unwrap().to_owned()
    }

    /// A nonce answer for `wallet` (asserted 200): the message to sign.
    pub(crate) async fn nonce(&self, chain: Chain, wallet: &PrivateKeySigner) -> String {
        let a = self.post("/v1/auth/nonce", json!({ "address": chain.address(wallet), "chain": chain.name() })).await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["message"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn signin_with(&self, message: &str, signature: &str) -> Answer {
        self.post("/v1/auth/signin", json!({ "message": message, "signature": signature })).await
    }

    /// Full sign-in; returns the token pair body (asserted 200).
    pub(crate) async fn signin(&self, chain: Chain, wallet: &PrivateKeySigner) -> Value {
        let message = self.nonce(chain, wallet).await;
        let a = self.signin_with(&message, &chain.sign(wallet, &message)).await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    /// Count of rows in tables the API writes, and the ledger digest: "nothing changed".
    pub(crate) async fn db_state(&self) -> (i64, i64, String) {
        let pool = &self.db.pool;
        (
            crate::common::count(pool, "refresh_tokens").await,
            crate::common::count(pool, "audit_logs").await,
            ledger::digest(pool).await.unwrap(),
        )
    }

    /// Creates the test asset and registers `(user, sponsor)` pairs in order through the
    /// ledger, one block each; every registration must apply.
    /// Pays the pending rewards of asset `asset_id` on `chain_id` with one batch whose push to `wallet` fails, settled
    /// as the listener applies the contract's `PayoutDeferred` and `PayoutBatchExecuted`: `wallet`'s share becomes
    /// claimable. Returns that amount.
    pub(crate) async fn settle_with_failed_push(&self, chain_id: u64, asset_id: i32, wallet: Address) -> U256 {
        use alloy::primitives::B256;
        let limits = ledger::payouts::BuildLimits::new(10, u128::MAX);
        let built =
            ledger::payouts::build_batch(&self.db.pool, asset_id, &limits).await.unwrap().expect("pending rewards");
        let hash = B256::repeat_byte(0x44);
        ledger::payouts::record_signed(&self.db.pool, built.id, U256::from(7), hash, 1_800_000_000, &[1; 65])
            .await
            .unwrap();
        self.execute_with_failed_push(chain_id, built.id, wallet).await
    }

    /// Applies, as the listener does, the contract's events for signed batch `batch_id` executed in block 100 with
    /// the push to `wallet` failed (`PayoutDeferred`, then `PayoutBatchExecuted`). Returns what `wallet` was owed.
    pub(crate) async fn execute_with_failed_push(&self, chain_id: u64, batch_id: i64, wallet: Address) -> U256 {
        use alloy::primitives::B256;
        let (nonce, hash, total, token): (String, Vec<u8>, String, Vec<u8>) = sqlx::query_as(
            "SELECT b.chain_nonce::text, b.payouts_hash, b.total::text, a.token
             FROM payout_batches b JOIN assets a ON a.id = b.asset_id WHERE b.id = $1",
        )
        .bind(batch_id)
        .fetch_one(&self.db.pool)
        .await
        .unwrap();
        let entries: Vec<(Vec<u8>, String)> = sqlx::query_as(
            "SELECT u.address, i.amount::text FROM payout_batch_items i
             JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
             WHERE i.batch_id = $1 ORDER BY i.position",
        )
        .bind(batch_id)
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        let nonce: U256 = nonce.parse().unwrap();
        let token = Address::from_slice(&token);
        let position = entries.iter().position(|e| e.0 == wallet.as_slice()).expect("the wallet is paid");
        let amount: U256 = entries[position].1.parse().unwrap();
        let event = |log_index, body| ChainEvent {
            contract: alloy::primitives::Address::ZERO,
            key: EventKey { chain_id, tx_hash: B256::repeat_byte(0x77), log_index },
            block_number: 100,
            block_timestamp: 1_700_000_100,
            body,
        };
        let deferred = EventBody::PayoutDeferred {
            batch_nonce: nonce,
            recipient: wallet,
            token,
            index: U256::from(position),
            amount,
        };
        let executed = EventBody::PayoutBatchExecuted {
            nonce,
            token,
            payouts_hash: B256::from_slice(&hash),
            total: total.parse().unwrap(),
            count: U256::from(entries.len()),
            deferred_count: U256::from(1),
            deferred_total: amount,
        };
        let mut ledger = ledger::ChainLedger::open(self.db.pool.clone(), chain_id).await.unwrap();
        let summary = ledger.apply_block(&[event(0, deferred), event(1, executed)]).await.unwrap();
        assert_eq!(summary.applied, 2, "the settlement applies");
        amount
    }

    pub(crate) async fn register_in_ledger(&self, registrations: &[(Address, Address)]) -> ledger::plan::PlanParams {
        let params = ledger::plan::PlanParams::defaults(18);
        ledger::create_asset(&self.db.pool, &crate::common::asset(params.clone())).await.unwrap();
        let mut ledger = ledger::ChainLedger::open(self.db.pool.clone(), crate::common::CHAIN).await.unwrap();
        for (i, &(user, sponsor)) in registrations.iter().enumerate() {
            let block = 10 + i as u64;
            let fee = U256::from(params.registration_fee);
            let event =
                registration_event(crate::common::CHAIN, block, user, sponsor, Address::ZERO, fee, U256::from(block));
            ledger.apply_block(&[event]).await.unwrap();
        }
        let users = crate::common::count(&self.db.pool, "users").await;
        assert_eq!(users, registrations.len() as i64 + 1, "a seeded registration was not applied");
        params
    }

    /// Registers more `(user, sponsor)` pairs in the asset [`register_in_ledger`](Self::register_in_ledger) made,
    /// one block each after the last applied one.
    pub(crate) async fn register_in_ledger_more(&self, registrations: &[(Address, Address)]) {
        let params = ledger::plan::PlanParams::defaults(18);
        let last: i64 =
            sqlx::query_scalar("SELECT max(block_number) FROM chain_events").fetch_one(&self.db.pool).await.unwrap();
        let mut ledger = ledger::ChainLedger::open(self.db.pool.clone(), crate::common::CHAIN).await.unwrap();
        for (i, &(user, sponsor)) in registrations.iter().enumerate() {
            let block = last as u64 + 1 + i as u64;
            let fee = U256::from(params.registration_fee);
            let event =
                registration_event(crate::common::CHAIN, block, user, sponsor, Address::ZERO, fee, U256::from(block));
            assert_eq!(ledger.apply_block(&[event]).await.unwrap().applied, 1);
        }
    }
}

/// The `Registered` event of `user` under `sponsor` paying `amount` of `token` with payload `nonce`, as the
/// listener hands it to the ledger: in block `block` (its timestamp 1_700_000_000 + block), in a transaction whose
/// hash is derived from the block, log index 0.
pub(crate) fn registration_event(
    chain_id: u64,
    block: u64,
    user: Address,
    sponsor: Address,
    token: Address,
    amount: U256,
    nonce: U256,
) -> ChainEvent {
    ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id, tx_hash: alloy::primitives::keccak256(block.to_be_bytes()), log_index: 0 },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: EventBody::Registered { user, sponsor, token, amount, nonce },
    }
}
