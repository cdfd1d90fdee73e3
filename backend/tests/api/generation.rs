//! The generation plan through the API: its parameters in `/v1/public/plan`, users at their cap in the
//! disclosure, a user's standing, register and retopup with a package (422 naming the packages otherwise), the
//! admin's week closes and a new plan version of the generation plan's own parameters.

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::generation::{GenerationParams, Rank};
use ledger::{AssetSpec, BlockCursor, ChainLedger, create_asset};
use serde_json::json;

use crate::common::{ASSET, CHAIN, genesis};
use crate::helpers::{Chain, TestApp, registration_event, spawn_app_configured};
use crate::signer_service::{SETTLEMENT, SignerService, spawn_signer_on};

const GEN: i32 = 2;
const USDT: u128 = 1_000_000;

fn usdt() -> Address {
    Address::repeat_byte(0x0d)
}

fn params() -> GenerationParams {
    let mut p = GenerationParams::defaults(6);
    p.ranks.insert(0, Rank { name: "Starter".into(), main: 1000 * USDT, other: 100 * USDT, bonus: 20 * USDT });
    p
}

fn bought(block: u64, user: Address, amount: u128) -> ChainEvent {
    ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: alloy::primitives::keccak256(block.to_be_bytes()), log_index: 0 },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: EventBody::Retopped { user, token: usdt(), amount: U256::from(amount), nonce: U256::from(block) },
    }
}

/// The auto-pool asset 1 (with `sponsor` registered) and generation asset 2 holding §7's six events: A under G,
/// B under A, C under B, D under G, then C buys 1000 and 5000.
async fn seed(app: &TestApp, sponsor: Address, a: Address) -> ChainLedger {
    app.register_in_ledger(&[(sponsor, genesis())]).await;
    let spec = AssetSpec {
        id: GEN,
        chain_id: CHAIN,
        token: usdt(),
        symbol: "USDT".into(),
        decimals: 6,
        genesis: genesis(),
        params: params(),
    };
    create_asset(&app.db.pool, &spec).await.unwrap();
    let mut ledger = ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let (b, c, d) = (Address::repeat_byte(0xb0), Address::repeat_byte(0xc0), Address::repeat_byte(0xd0));
    let reg = |block, user, sponsor, amount: u128| {
        registration_event(CHAIN, block, user, sponsor, usdt(), U256::from(amount), U256::from(block))
    };
    let events = [
        reg(20, a, genesis(), 100 * USDT),
        reg(21, b, a, 500 * USDT),
        reg(22, c, b, 1000 * USDT),
        reg(23, d, genesis(), 100 * USDT),
        bought(24, c, 1000 * USDT),
        bought(25, c, 5000 * USDT),
    ];
    let s = ledger.apply_block(&events).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (6, 0));
    ledger
}

/// The API wired to a signer that signs for the native coin and the generation asset's token.
async fn spawn_with_signer() -> (TestApp, SignerService) {
    let service = spawn_signer_on(CHAIN, SETTLEMENT, &[usdt()]).await;
    let signer = service.settings();
    let app = spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.signer = Some(signer);
        s.chains = vec![backend::config::ChainSettings::new(CHAIN, SETTLEMENT)];
    })
    .await;
    (app, service)
}

#[tokio::test]
async fn the_generation_plan_is_public_a_user_sees_their_cap_and_legs_and_buys_only_packages() {
    let (app, _signer) = spawn_with_signer().await;
    let (sponsor, a) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    let mut ledger = seed(&app, sponsor.address(), a.address()).await;

    // The plan, exactly as the ledger applies it; the auto-pool list is unchanged.
    let plan = app.get("/v1/public/plan", None).await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert_eq!(plan.body["assets"].as_array().unwrap().len(), 1, "asset 1 only: {}", plan.body);
    let g = &plan.body["generation"][0];
    assert_eq!(
        (g["asset_id"].as_i64(), g["symbol"].as_str(), g["decimals"].as_i64()),
        (Some(2), Some("USDT"), Some(6))
    );
    let packages: Vec<&str> = g["packages"].as_array().unwrap().iter().map(|p| p["human"].as_str().unwrap()).collect();
    assert_eq!(packages, ["100 USDT", "500 USDT", "1000 USDT", "5000 USDT"]);
    assert_eq!(g["levels"].as_array().unwrap().len(), 20);
    assert_eq!(g["levels"][2], json!({ "level": 3, "bps": 300, "directs_required": 2 }));
    assert_eq!(g["levels"][19], json!({ "level": 20, "bps": 30, "directs_required": 10 }));
    assert_eq!((g["cap_bps"].as_u64(), g["withdrawal_fee_bps"].as_u64()), (Some(30_000), Some(500)));
    assert_eq!(g["ranks"][1]["name"], "Connector");
    assert_eq!(g["ranks"][1]["weekly_bonus"]["human"], "50 USDT");
    assert_eq!((g["week_origin"].as_u64(), g["week_seconds"].as_u64()), (Some(345_600), Some(604_800)));

    // The odds: A is at its cap.
    let d = app.get("/v1/public/disclosure", None).await;
    assert_eq!(d.status, 200, "{}", d.body);
    let by_id = |id: i64| d.body["assets"].as_array().unwrap().iter().find(|x| x["asset_id"] == id).unwrap().clone();
    assert_eq!(by_id(2)["users_at_cap"], 1);
    assert_eq!(by_id(1)["users_at_cap"], json!(null), "the auto-pool plan has no cap");

    // A's standing: paid 100, cap 300, earned 300, room 0; one direct (B, whose leg is 7500); L1–L2 open.
    let token_a = app.signin(Chain::Evm, &a).await["access_token"].as_str().unwrap().to_owned();
    let s = app.get("/v1/users/generation?asset_id=2", Some(&token_a)).await;
    assert_eq!(s.status, 200, "{}", s.body);
    let human = |v: &serde_json::Value| v["human"].as_str().unwrap().to_owned();
    assert_eq!(
        [human(&s.body["paid_in"]), human(&s.body["cap"]), human(&s.body["earned"]), human(&s.body["room"])],
        ["100 USDT", "300 USDT", "300 USDT", "0 USDT"]
    );
    assert_eq!((s.body["directs"].as_u64(), s.body["open_levels"].clone()), (Some(1), json!([1, 2])));
    assert_eq!(s.body["legs"][0]["direct"], Address::repeat_byte(0xb0).to_checksum(None));
    assert_eq!((human(&s.body["main_leg"]), human(&s.body["other_legs"])), ("7500 USDT".into(), "0 USDT".into()));
    assert_eq!(s.body["rank"], json!(null), "one leg: no other-legs volume");
    assert_eq!(app.get("/v1/users/generation?asset_id=1", Some(&token_a)).await.status, 404, "not a generation asset");
    let stranger = app.user_token().await;
    assert_eq!(app.get("/v1/users/generation?asset_id=2", Some(&stranger)).await.code(), "not_registered");

    // Register with a package: a wrong or missing one is a 422 naming the packages, and nothing is signed.
    let wallet = PrivateKeySigner::random();
    let token = app.signin(Chain::Evm, &wallet).await["access_token"].as_str().unwrap().to_owned();
    let before = app.db_state().await;
    let body = |package: Option<&str>| match package {
        Some(p) => json!({ "asset_id": GEN, "sponsor": a.address().to_string(), "package": p }),
        None => json!({ "asset_id": GEN, "sponsor": a.address().to_string() }),
    };
    let wrong = app.post_as("/v1/users/register", Some(&token), body(Some("200000000"))).await;
    assert_eq!((wrong.status, wrong.code()), (422, "not_a_package"), "{}", wrong.body);
    assert!(
        wrong.body["error"]["message"].as_str().unwrap().contains("[100000000, 500000000, 1000000000, 5000000000]")
    );
    let missing = app.post_as("/v1/users/register", Some(&token), body(None)).await;
    assert_eq!((missing.status, missing.code()), (422, "package_required"), "{}", missing.body);
    let garbage = app.post_as("/v1/users/register", Some(&token), body(Some("5e8"))).await;
    assert_eq!(garbage.status, 422, "{}", garbage.body);
    assert_eq!(app.db_state().await, before, "a refusal changes nothing");
    let ok = app.post_as("/v1/users/register", Some(&token), body(Some("500000000"))).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["amount"], json!({ "base": "500000000", "human": "500 USDT" }));
    assert_eq!(ok.body["payload"]["amount"], "500000000", "the signed payload carries the package");
    assert!(ok.body["approve"].is_object(), "a token payment approves first");
    // While that payload is out, a reload gets it again; another package is refused, not signed as well.
    let again = app.post_as("/v1/users/register", Some(&token), body(Some("500000000"))).await;
    assert_eq!(
        (again.status, again.body["reissued"].as_bool(), again.body["nonce"].clone()),
        (200, Some(true), ok.body["nonce"].clone())
    );
    let other = app.post_as("/v1/users/register", Some(&token), body(Some("100000000"))).await;
    assert_eq!((other.status, other.code()), (409, "payment_outstanding"), "{}", other.body);
    let told = other.body["error"]["message"].as_str().unwrap();
    assert!(
        told.contains("a payment of 500 USDT") && told.contains(" UTC"),
        "names the amount out and its deadline: {told}"
    );
    // The same as data, for a page that writes it in its reader's language and zone: the amount and the deadline.
    let details = &other.body["error"]["details"];
    assert_eq!(details["amount"], json!({ "base": "500000000", "human": "500 USDT" }), "{}", other.body);
    let until = chrono::DateTime::parse_from_rfc3339(details["until"].as_str().unwrap()).unwrap();
    assert_eq!(until.timestamp(), ok.body["deadline"].as_i64().unwrap(), "{}", other.body);
    // A purchase (retopup) takes a package too; the auto-pool asset refuses one.
    let buy =
        app.post_as("/v1/users/retopup", Some(&token_a), json!({ "asset_id": GEN, "package": "100000000" })).await;
    assert_eq!((buy.status, buy.body["amount"]["human"].as_str()), (200, Some("100 USDT")), "{}", buy.body);
    let token_sponsor = app.signin(Chain::Evm, &sponsor).await["access_token"].as_str().unwrap().to_owned();
    let fixed =
        app.post_as("/v1/users/retopup", Some(&token_sponsor), json!({ "asset_id": ASSET, "package": "1" })).await;
    assert_eq!((fixed.status, fixed.code()), (422, "fixed_price"), "{}", fixed.body);

    // A week closes on the confirmed head's time with no event. G's legs (A's 7600, D's 100) would meet Starter,
    // but genesis is never ranked; everyone else has a single leg.
    let week_end = 345_600 + (((1_700_000_000u64 - 345_600) / 604_800) + 1) * 604_800;
    let head = BlockCursor { number: 30, hash: B256::repeat_byte(0x30) };
    ledger.apply_confirmed(&[], head, week_end).await.unwrap();
    let admin = app.admin_token().await;
    let weeks = app.get("/v1/admin/weeks?asset_id=2", Some(&admin)).await;
    assert_eq!(weeks.status, 200, "{}", weeks.body);
    let w = &weeks.body["weeks"][0];
    assert_eq!(
        (w["week"].as_i64(), w["week_end"].as_u64(), w["closing_block"].as_i64()),
        (Some(2810), Some(week_end), Some(30))
    );
    assert_eq!(w["ranked"], json!([]), "genesis is not ranked, and nobody else has two legs");
    assert_eq!((human(&w["bonuses"]), human(&w["credited"])), ("0 USDT".into(), "0 USDT".into()));
    assert_eq!(app.get("/v1/admin/weeks?asset_id=1", Some(&admin)).await.status, 404);
    assert_eq!(app.get("/v1/admin/weeks?asset_id=2&limit=0", Some(&admin)).await.code(), "invalid_limit");
    assert_eq!(app.get("/v1/admin/weeks?asset_id=2", Some(&token_a)).await.status, 403, "admins only");

    // A new version of the generation plan's own parameters; the auto-pool plan's are refused for it.
    let mut next = serde_json::to_value(params()).unwrap();
    next["withdrawal_fee_bps"] = json!(300);
    let v2 =
        app.post_admin("/v1/admin/plan", &admin, json!({ "asset_id": GEN, "from_block": 40, "params": next })).await;
    assert_eq!((v2.status, v2.body["version"].as_u64()), (200, Some(2)), "{}", v2.body);
    let auto = serde_json::to_value(ledger::plan::PlanParams::defaults(6)).unwrap();
    let wrong =
        app.post_admin("/v1/admin/plan", &admin, json!({ "asset_id": GEN, "from_block": 50, "params": auto })).await;
    assert_eq!((wrong.status, wrong.code()), (422, "invalid_plan"), "{}", wrong.body);
    // Weeks already closed are numbered from week_origin: a version may not move it.
    let mut moved = next.clone();
    moved["week_origin"] = json!(345_600 + 86_400);
    let before = app.db_state().await;
    let refused =
        app.post_admin("/v1/admin/plan", &admin, json!({ "asset_id": GEN, "from_block": 50, "params": moved })).await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_plan"), "{}", refused.body);
    assert!(
        refused.body["error"]["message"].as_str().unwrap().contains("week_origin cannot change"),
        "{}",
        refused.body
    );
    assert_eq!(app.db_state().await, before, "a refused version changes nothing");
    let plan = app.get("/v1/public/plan", None).await;
    assert_eq!(plan.body["generation"][0]["withdrawal_fee_bps"], 300);
}
