//! POST /v1/users/register and /v1/users/retopup against the REAL signer service, started
//! in-process (anvil dev key #1, insecure flag, temporary SQLite store).

use alloy::primitives::{Address, Signature, U256, address};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use backend::config::{ChainSettings, SignerSettings};
use secrecy::SecretString;
use serde_json::json;
use signer::auth::Caller;
use signer::config::{KeySettings, Settings as SignerConfig};
use signer::intent::{Addr, Amount};
use signer::policy::{AssetConfig, ChainConfig, PolicyConfig};

use crate::admin::post_as;
use crate::common::{ASSET, BNB, CHAIN, genesis, named};
use crate::helpers::{Chain, TestApp, spawn_app_configured};

pub const SETTLEMENT: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
const DEV_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const DEV_ADDRESS: Address = address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
const CALLER: &str = "backend";
const SECRET: &str = "test-only-caller-secret";

/// The signer on port 0 and its store directory; stops when dropped with the runtime.
pub struct SignerService {
    pub url: String,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn spawn_signer() -> SignerService {
    let dir = tempfile::tempdir().unwrap();
    let caps = |token| AssetConfig {
        token: Addr(token),
        per_payload_cap: Amount::from(1_000 * BNB),
        per_batch_cap: Amount::from(10_000 * BNB),
        daily_outflow_cap: Amount::from(100_000 * BNB),
    };
    let config = SignerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        store_path: dir.path().join("signer.sqlite"),
        key: KeySettings::InsecureDevKey(SecretString::from(DEV_KEY)),
        callers: vec![Caller { id: CALLER.into(), secret: SecretString::from(SECRET) }],
        auth_window_secs: 30,
        policy: PolicyConfig {
            default_ttl_secs: 600,
            max_deadline_horizon_secs: 3_600,
            max_batch_entries: 50,
            chains: vec![ChainConfig {
                chain_id: CHAIN,
                contracts: vec![Addr(SETTLEMENT)],
                treasury_recipients: vec![],
                assets: vec![caps(Address::ZERO)],
            }],
        },
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, server) = signer::startup::run_until(config, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    tokio::spawn(server);
    SignerService { url: format!("http://{addr}"), _dir: dir, _stop: stop }
}

/// The API wired to a fresh signer, with the Settlement contract of the test chain.
pub async fn spawn_with_signer() -> (TestApp, SignerService) {
    let service = spawn_signer().await;
    let url = service.url.clone();
    let app = spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.signer = Some(SignerSettings { url, caller_id: CALLER.into(), caller_secret: SecretString::from(SECRET) });
        s.chains = vec![ChainSettings { chain_id: CHAIN, settlement: format!("{SETTLEMENT:#x}") }];
    })
    .await;
    (app, service)
}

fn hex_bytes(v: &serde_json::Value) -> Vec<u8> {
    alloy::hex::decode(v.as_str().unwrap()).unwrap()
}

/// The returned signature is the dev key's over the EIP-712 digest of the returned payload.
fn check_signature(body: &serde_json::Value, digest: alloy::primitives::B256) {
    assert_eq!(body["digest"], format!("{digest:#x}"));
    let sig = Signature::try_from(hex_bytes(&body["signature"]).as_slice()).unwrap();
    assert_eq!(sig.recover_address_from_prehash(&digest).unwrap(), DEV_ADDRESS);
}

async fn transactions(app: &TestApp) -> Vec<(String, Vec<u8>, String, Vec<u8>, i64)> {
    sqlx::query_as("SELECT kind, wallet, nonce::text, signature, deadline FROM transactions ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn register_returns_a_payload_signed_by_the_signer_and_stores_it() {
    let (app, _signer) = spawn_with_signer().await;
    let sponsor = PrivateKeySigner::random();
    app.register_in_ledger(&[(sponsor.address(), genesis())]).await;
    let wallet = PrivateKeySigner::random();
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let a = post_as(
        &app,
        "/v1/users/register",
        tokens["access_token"].as_str(),
        json!({ "asset_id": ASSET, "sponsor": abi::tron::to_base58(sponsor.address()) }),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let b = &a.body;
    assert_eq!(b["kind"], "register");
    assert_eq!((b["asset_id"].as_i64(), b["chain_id"].as_u64()), (Some(1), Some(CHAIN)));
    assert_eq!(b["contract"], SETTLEMENT.to_checksum(None));
    assert_eq!(b["amount"], json!({ "base": (20 * BNB).to_string(), "human": "20 BNB" }));
    assert_eq!(b["transaction"]["to"], SETTLEMENT.to_checksum(None));
    assert_eq!(b["transaction"]["value"], (20 * BNB).to_string());
    let nonce: U256 = b["nonce"].as_str().unwrap().parse().unwrap();
    let deadline = b["deadline"].as_u64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(deadline > now && deadline <= now + 3_600, "deadline {deadline}");
    let payload = abi::Registration {
        user: wallet.address(),
        sponsor: sponsor.address(),
        token: Address::ZERO,
        amount: U256::from(20 * BNB),
        nonce,
        deadline: U256::from(deadline),
    };
    check_signature(b, abi::SettlementDomain::new(CHAIN, SETTLEMENT).digest(&payload));
    // The calldata is Settlement.register(payload, signature).
    let call = abi::Settlement::registerCall::abi_decode(&hex_bytes(&b["transaction"]["data"])).unwrap();
    assert_eq!(call.r, payload);
    assert_eq!(call.signature.to_vec(), hex_bytes(&b["signature"]));
    // Stored: one row with the same nonce, signature and deadline.
    let rows = transactions(&app).await;
    assert_eq!(
        rows,
        vec![(
            "register".into(),
            wallet.address().to_vec(),
            nonce.to_string(),
            hex_bytes(&b["signature"]),
            deadline as i64
        )]
    );
    assert!(b["transaction_id"].as_i64().is_some());
}

#[tokio::test]
async fn retopup_returns_a_signed_payload_for_a_registered_user() {
    let (app, _signer) = spawn_with_signer().await;
    let user = PrivateKeySigner::random();
    app.register_in_ledger(&[(user.address(), genesis())]).await;
    let tokens = app.signin(Chain::Evm, &user).await;
    let a = post_as(&app, "/v1/users/retopup", tokens["access_token"].as_str(), json!({ "asset_id": ASSET })).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let b = &a.body;
    assert_eq!(b["kind"], "retopup");
    assert_eq!(b["amount"]["human"], "40 BNB");
    assert_eq!(b["transaction"]["value"], (40 * BNB).to_string());
    let payload = abi::Retopup {
        user: user.address(),
        token: Address::ZERO,
        amount: U256::from(40 * BNB),
        nonce: b["nonce"].as_str().unwrap().parse().unwrap(),
        deadline: U256::from(b["deadline"].as_u64().unwrap()),
    };
    check_signature(b, abi::SettlementDomain::new(CHAIN, SETTLEMENT).digest(&payload));
    let call = abi::Settlement::retopupCall::abi_decode(&hex_bytes(&b["transaction"]["data"])).unwrap();
    assert_eq!(call.r, payload);
    assert_eq!(transactions(&app).await.len(), 1);
}

#[tokio::test]
async fn refused_registrations_and_retopups_store_nothing() {
    let (app, _signer) = spawn_with_signer().await;
    let member = PrivateKeySigner::random();
    let frozen = PrivateKeySigner::random();
    app.register_in_ledger(&[(member.address(), genesis()), (frozen.address(), genesis())]).await;
    // A second asset, where the frozen wallet is not registered yet.
    let mut second = crate::common::asset(backend::plan::PlanParams::defaults(18));
    second.id = 2;
    second.token = Address::repeat_byte(0x55);
    second.symbol = "USDT".into();
    second.genesis = named("G2");
    backend::ledger::create_asset(&app.db.pool, &second).await.unwrap();
    backend::ledger::admin::freeze(&app.db.pool, ASSET, frozen.address(), "test").await.unwrap();
    let newcomer = PrivateKeySigner::random();
    let t_new = app.signin(Chain::Evm, &newcomer).await;
    let t_member = app.signin(Chain::Evm, &member).await;
    let t_frozen = app.signin(Chain::Evm, &frozen).await;
    let (t_new, t_member, t_frozen) =
        (t_new["access_token"].as_str(), t_member["access_token"].as_str(), t_frozen["access_token"].as_str());
    let before = app.db_state().await;
    let cases = [
        (
            t_new,
            "/v1/users/register",
            json!({ "asset_id": 1, "sponsor": named("nobody").to_string() }),
            422,
            "unknown_sponsor",
        ),
        (
            t_new,
            "/v1/users/register",
            json!({ "asset_id": 1, "sponsor": frozen.address().to_string() }),
            422,
            "sponsor_frozen",
        ),
        (
            t_new,
            "/v1/users/register",
            json!({ "asset_id": 1, "sponsor": newcomer.address().to_string() }),
            422,
            "self_sponsor",
        ),
        (t_new, "/v1/users/register", json!({ "asset_id": 7, "sponsor": genesis().to_string() }), 422, "unknown_asset"),
        (
            t_member,
            "/v1/users/register",
            json!({ "asset_id": 1, "sponsor": genesis().to_string() }),
            409,
            "already_registered",
        ),
        (
            t_frozen,
            "/v1/users/register",
            json!({ "asset_id": 2, "sponsor": named("G2").to_string() }),
            422,
            "user_frozen",
        ),
        (t_new, "/v1/users/retopup", json!({ "asset_id": 1 }), 422, "not_registered"),
        (t_frozen, "/v1/users/retopup", json!({ "asset_id": 1 }), 422, "user_frozen"),
        (t_member, "/v1/users/retopup", json!({ "asset_id": 7 }), 422, "unknown_asset"),
        (None, "/v1/users/register", json!({ "asset_id": 1, "sponsor": genesis().to_string() }), 401, "missing_token"),
        (None, "/v1/users/retopup", json!({ "asset_id": 1 }), 401, "missing_token"),
    ];
    for (token, path, body, status, code) in cases {
        let a = post_as(&app, path, token, body.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{path} {body}: {}", a.body);
    }
    assert_eq!(app.db_state().await, before);
    assert!(transactions(&app).await.is_empty());
}

#[tokio::test]
async fn without_signer_or_chain_config_payloads_are_503_and_nothing_is_stored() {
    let app = crate::helpers::spawn_app().await;
    let user = PrivateKeySigner::random();
    app.register_in_ledger(&[(user.address(), genesis())]).await;
    let tokens = app.signin(Chain::Evm, &user).await;
    let a = post_as(&app, "/v1/users/retopup", tokens["access_token"].as_str(), json!({ "asset_id": 1 })).await;
    assert_eq!((a.status, a.code()), (503, "chain_not_configured"), "{}", a.body);
    assert!(transactions(&app).await.is_empty());
}
