//! POST /v1/users/register and /v1/users/retopup against the REAL signer service, started
//! in-process (anvil dev key #1, insecure flag, temporary SQLite store).

use alloy::primitives::{Address, Signature, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use backend::config::ChainSettings;
use serde_json::{Value, json};

use crate::common::{ASSET, BNB, CHAIN, genesis, named};
use crate::helpers::{Chain, TestApp, spawn_app_configured};
pub(crate) use crate::signer_service::{DEV_ADDRESS, SETTLEMENT, SignerService, spawn_signer};

/// The API wired to a fresh signer, with the Settlement contract of the test chain.
pub(crate) async fn spawn_with_signer() -> (TestApp, SignerService) {
    let service = spawn_signer(SETTLEMENT, vec![]).await;
    let signer = service.settings();
    let app = spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.signer = Some(signer);
        s.chains = vec![ChainSettings::new(CHAIN, SETTLEMENT)];
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
    let a = app
        .post_as(
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
    assert_eq!(b["tron_payload"], Value::Null, "TRON forms only on a TRON chain");
    assert_eq!(b["transaction"]["value"], (20 * BNB).to_string());
    assert_eq!(b["approve"], json!(null), "the native coin needs no approval");
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
    let a = app.post_as("/v1/users/retopup", tokens["access_token"].as_str(), json!({ "asset_id": ASSET })).await;
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
    let mut second = crate::common::asset(ledger::plan::PlanParams::defaults(18));
    second.id = 2;
    second.token = Address::repeat_byte(0x55);
    second.symbol = "USDT".into();
    second.genesis = named("G2");
    ledger::create_asset(&app.db.pool, &second).await.unwrap();
    ledger::admin::freeze(&app.db.pool, ASSET, frozen.address(), "test", "test").await.unwrap();
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
        let a = app.post_as(path, token, body.clone()).await;
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
    let a = app.post_as("/v1/users/retopup", tokens["access_token"].as_str(), json!({ "asset_id": 1 })).await;
    assert_eq!((a.status, a.code()), (503, "chain_not_configured"), "{}", a.body);
    assert!(transactions(&app).await.is_empty());
}

/// Applies `Registered(user, sponsor, amount, nonce)` at `block` (log index 0) through a fresh ledger.
pub(crate) async fn registered_on_chain(
    app: &TestApp,
    block: u64,
    user: Address,
    sponsor: Address,
    amount: U256,
    nonce: U256,
) {
    let mut ledger = ledger::ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let event = ledger::events::ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: ledger::events::EventKey {
            chain_id: CHAIN,
            tx_hash: alloy::primitives::keccak256(block.to_be_bytes()),
            log_index: 0,
        },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: ledger::events::EventBody::Registered { user, sponsor, token: Address::ZERO, amount, nonce },
    };
    ledger.apply_block(&[event]).await.unwrap();
}

pub(crate) async fn confirm(app: &TestApp, token: Option<&str>, nonce: &serde_json::Value) -> crate::helpers::Answer {
    app.post_as("/v1/users/register/confirm", token, json!({ "nonce": nonce })).await
}

#[tokio::test]
async fn confirm_reports_waiting_then_applied_from_the_ledger() {
    let (app, _signer) = spawn_with_signer().await;
    let sponsor = PrivateKeySigner::random();
    // The sponsor's first referral (x) earns a DIRECT; the wallet is the second: its fee is the sponsor's pool entry.
    app.register_in_ledger(&[(sponsor.address(), genesis()), (named("x"), sponsor.address())]).await;
    let wallet = PrivateKeySigner::random();
    let token = app.signin(Chain::Evm, &wallet).await["access_token"].as_str().unwrap().to_owned();
    let body = json!({ "asset_id": ASSET, "sponsor": sponsor.address().to_string() });
    let signed = app.post_as("/v1/users/register", Some(&token), body).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    let nonce = signed.body["nonce"].clone();

    let a = confirm(&app, Some(&token), &nonce).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "waiting");
    assert_eq!(a.body["transaction_id"], signed.body["transaction_id"]);
    assert_eq!(a.body["deadline"], signed.body["deadline"]);
    assert_eq!((a.body["user"].clone(), a.body["event"].clone()), (serde_json::Value::Null, serde_json::Value::Null));

    // Another wallet cannot look at this payload.
    let other = app.signin(Chain::Evm, &PrivateKeySigner::random()).await["access_token"].as_str().unwrap().to_owned();
    let a = confirm(&app, Some(&other), &nonce).await;
    assert_eq!((a.status, a.code()), (404, "not_found"), "{}", a.body);

    let n: U256 = nonce.as_str().unwrap().parse().unwrap();
    registered_on_chain(&app, 40, wallet.address(), sponsor.address(), U256::from(20 * BNB), n).await;
    let a = confirm(&app, Some(&token), &nonce).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "applied");
    assert_eq!(
        a.body["user"],
        json!({ "user_no": 3, "status": "active", "sponsor": sponsor.address().to_checksum(None), "registered_block": 40 })
    );
    assert_eq!(a.body["event"]["block"], 40);
    assert_eq!(a.body["event"]["this_payload"], true);
    assert_eq!(a.body["event"]["tx_hash"], format!("{:#x}", alloy::primitives::keccak256(40u64.to_be_bytes())));
    // The sponsor's first level-1 node, at q=0.
    assert_eq!(a.body["sponsor_pool_entry"], json!({ "level": 1, "q": 0 }));
}

#[tokio::test]
async fn confirm_reports_quarantined_and_expired_payloads() {
    let (app, _signer) = spawn_with_signer().await;
    let sponsor = PrivateKeySigner::random();
    app.register_in_ledger(&[(sponsor.address(), genesis())]).await;
    let (w1, w2) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let t1 = app.signin(Chain::Evm, &w1).await["access_token"].as_str().unwrap().to_owned();
    let t2 = app.signin(Chain::Evm, &w2).await["access_token"].as_str().unwrap().to_owned();
    let body = json!({ "asset_id": ASSET, "sponsor": sponsor.address().to_string() });
    let s1 = app.post_as("/v1/users/register", Some(&t1), body.clone()).await;
    let s2 = app.post_as("/v1/users/register", Some(&t2), body).await;
    assert_eq!((s1.status, s2.status), (200, 200));
    // w1's transaction paid the wrong amount: the plan refused it.
    let n1: U256 = s1.body["nonce"].as_str().unwrap().parse().unwrap();
    registered_on_chain(&app, 40, w1.address(), sponsor.address(), U256::from(19 * BNB), n1).await;
    let a = confirm(&app, Some(&t1), &s1.body["nonce"]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "quarantined");
    assert!(a.body["quarantine_reason"].as_str().unwrap().starts_with("wrong_amount"), "{}", a.body);
    assert_eq!(a.body["event"]["block"], 40);
    // w2's payload passes its deadline without a confirmed event.
    sqlx::query("UPDATE transactions SET deadline = 1000 WHERE wallet = $1")
        .bind(w2.address().as_slice())
        .execute(&app.db.pool)
        .await
        .unwrap();
    let a = confirm(&app, Some(&t2), &s2.body["nonce"]).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("expired")), "{}", a.body);

    // Hostile nonces: 4xx with a stable code, nothing written.
    let before = app.db_state().await;
    let huge = "9".repeat(100);
    for (nonce, status, code) in [
        (json!(""), 422, "invalid_nonce"),
        (json!("  "), 422, "invalid_nonce"),
        (json!("abc"), 422, "invalid_nonce"),
        (json!("-1"), 422, "invalid_nonce"),
        (json!(huge), 422, "invalid_nonce"),
        (json!("1; DROP TABLE transactions"), 422, "invalid_nonce"),
        (json!("<script>"), 422, "invalid_nonce"),
        (json!("12345"), 404, "not_found"),
        (json!(5), 422, "invalid_body"),
        (json!(null), 422, "invalid_body"),
    ] {
        let a = confirm(&app, Some(&t2), &nonce).await;
        assert_eq!((a.status, a.code()), (status, code), "{nonce}: {}", a.body);
    }
    let a = app.post_as("/v1/users/register/confirm", Some(&t2), json!({ "nonce": "1", "tx_hash": "0x" })).await;
    assert_eq!((a.status, a.code()), (422, "invalid_body"));
    let a = confirm(&app, None, &s2.body["nonce"]).await;
    assert_eq!((a.status, a.code()), (401, "missing_token"));
    assert_eq!(app.db_state().await, before);
}
