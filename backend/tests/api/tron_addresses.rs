//! An asset on a TRON chain shows every address in TRON's base58check form (`T…`), in the user's views, the admin's
//! payout views, the pool and the public plan; the same 20-byte addresses are `0x…` on EVM assets.

use abi::tron::to_base58;
use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use ledger::plan::PlanParams;
use serde_json::Value;

use crate::common::genesis;
use crate::helpers::{Answer, Chain, TestApp, registration_event, spawn_app};

/// A TRON chain (Nile): its addresses are T…; a mainnet signer would need staff approvals these tests do not give.
const TRON_CHAIN: u64 = anvil_tests::devchain::NILE_CHAIN_ID;
const USDT: Address = Address::repeat_byte(0x55);

/// A USDT asset (6 decimals) on TRON mainnet's chain id, with `registrations` (user, sponsor) applied in order.
async fn tron_asset(app: &TestApp, registrations: &[(Address, Address)]) {
    tron_asset_of(app, USDT, registrations).await
}

/// As [`tron_asset`], for `token` (zero: TRX, the native coin).
async fn tron_asset_of(app: &TestApp, token: Address, registrations: &[(Address, Address)]) {
    let params = PlanParams::defaults(6);
    let spec = ledger::AssetSpec {
        id: 1,
        chain_id: TRON_CHAIN,
        token,
        symbol: if token == Address::ZERO { "TRX".into() } else { "USDT".into() },
        decimals: 6,
        genesis: genesis(),
        params: params.clone(),
    };
    ledger::create_asset(&app.db.pool, &spec).await.unwrap();
    apply_registrations(app, token, 10, registrations).await;
}

/// `registrations` (user, sponsor) of `token` on the TRON asset, applied from chain events in blocks `first`, …
async fn apply_registrations(app: &TestApp, token: Address, first: u64, registrations: &[(Address, Address)]) {
    let params = PlanParams::defaults(6);
    let mut chain = ledger::ChainLedger::open(app.db.pool.clone(), TRON_CHAIN).await.unwrap();
    for (i, &(user, sponsor)) in registrations.iter().enumerate() {
        let block = first + i as u64;
        let fee = U256::from(params.registration_fee);
        chain
            .apply_block(&[registration_event(TRON_CHAIN, block, user, sponsor, token, fee, U256::from(block))])
            .await
            .unwrap();
    }
}

/// A fresh TRON wallet, signed in with TRON's message, asks for a registration payload under genesis on a TRON
/// asset of `token` (zero: TRX), from an app with the real signer (returned too: dropping it stops the signer).
async fn tron_register_answer(
    token: Address,
) -> (crate::signer_service::SignerService, TestApp, PrivateKeySigner, String, Answer) {
    use crate::payouts::{SETTLEMENT, spawn_admin_app};
    let signer = crate::signer_service::spawn_signer_on(TRON_CHAIN, SETTLEMENT, &[USDT]).await;
    let chain = backend::config::ChainSettings::new(TRON_CHAIN, SETTLEMENT);
    let app = spawn_admin_app(&signer, chain).await;
    tron_asset_of(&app, token, &[]).await;
    let user = PrivateKeySigner::random();
    let access = app.signin(Chain::Tron, &user).await["access_token"].as_str().unwrap().to_owned();
    let body = serde_json::json!({ "asset_id": 1, "sponsor": to_base58(genesis()) });
    let answer = app.post_as("/v1/users/register", Some(&access), body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    (signer, app, user, access, answer)
}

/// TronWeb's ABI encoding of `args` for `function` (`scripts/tron/encode-call.mjs`), hex without 0x.
fn tronweb_encode(function: &Value, args: &Value) -> String {
    use std::io::Write;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/tron/encode-call.mjs");
    let mut node = std::process::Command::new("node")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    let input = serde_json::json!({ "function": function, "args": args });
    node.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "tronweb encode ended with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn addresses(list: &Value, field: &str) -> Vec<String> {
    list.as_array().unwrap().iter().map(|i| i[field].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_tron_assets_addresses_are_shown_in_base58check_everywhere() {
    let app = spawn_app().await;
    let (u1, u2, u3) = (PrivateKeySigner::random(), PrivateKeySigner::random(), PrivateKeySigner::random());
    let g = genesis();
    // G ← U1 ← U2, and U3 under G (G's second: its pool entry).
    tron_asset(&app, &[(u1.address(), g), (u2.address(), u1.address()), (u3.address(), g)]).await;
    let u1_token = app.signin(Chain::Tron, &u1).await["access_token"].as_str().unwrap().to_owned();
    let t = Some(u1_token.as_str());

    let me = app.get("/v1/users/me", t).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["assets"][0]["chain_id"], TRON_CHAIN);
    assert_eq!(me.body["assets"][0]["sponsor"], to_base58(g));
    let referrals = app.get("/v1/users/referrals?asset_id=1", t).await;
    assert_eq!(addresses(&referrals.body["items"], "address"), [to_base58(u2.address())], "{}", referrals.body);
    let tree = app.get("/v1/users/tree?asset_id=1", t).await;
    assert_eq!(tree.body["root"]["address"], to_base58(u1.address()), "{}", tree.body);
    assert_eq!(addresses(&tree.body["nodes"], "address"), [to_base58(u2.address())]);

    let admin = app.admin_token().await;
    let pending = app.get("/v1/admin/payouts/pending?asset_id=1", Some(&admin)).await;
    assert_eq!(pending.status, 200, "{}", pending.body);
    let payable = addresses(&pending.body["items"], "address");
    assert!(payable.contains(&to_base58(u1.address())), "{payable:?}");
    assert!(payable.iter().all(|a| abi::tron::from_base58(a).is_ok()), "{payable:?}");
    // A filter given in either form finds the same user.
    for form in [to_base58(u1.address()), u1.address().to_checksum(None)] {
        let one = app.get(&format!("/v1/admin/payouts/pending?asset_id=1&user={form}"), Some(&admin)).await;
        assert_eq!(addresses(&one.body["items"], "address"), [to_base58(u1.address())], "{form}");
    }

    let nodes = app.get("/v1/pool/nodes?asset_id=1&level=1", Some(&admin)).await;
    assert_eq!(nodes.status, 200, "{}", nodes.body);
    assert_eq!(addresses(&nodes.body["items"], "owner"), [to_base58(g)]);
    let plan = app.get("/v1/public/plan", None).await;
    assert_eq!(plan.body["assets"][0]["token"], to_base58(USDT), "{}", plan.body);
    // (The profile's own `address` names the signed-in wallet across assets and stays 0x; its per-asset parts do not.)
    let text = [me.body["assets"].clone(), referrals.body, tree.body, pending.body, nodes.body]
        .map(|b| b.to_string())
        .join(" ");
    for user in [g, u1.address(), u2.address()] {
        assert!(!text.to_lowercase().contains(&format!("{user:#x}")), "no 0x form of {user} on a TRON asset");
    }
}

#[tokio::test]
async fn a_tron_assets_payout_batch_lists_its_entries_and_left_out_users_in_base58check() {
    use crate::payouts::{SETTLEMENT, spawn_admin_app};
    let signer = crate::signer_service::spawn_signer_on(TRON_CHAIN, SETTLEMENT, &[USDT]).await;
    let chain = backend::config::ChainSettings::new(TRON_CHAIN, SETTLEMENT);
    let app = spawn_admin_app(&signer, chain).await;
    let (u1, u2) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    tron_asset_of(&app, Address::ZERO, &[(u1.address(), genesis()), (u2.address(), u1.address())]).await;
    let admin = app.admin_token().await;
    let built = app
        .post_admin("/v1/admin/payouts/batches", &admin, serde_json::json!({ "asset_id": 1, "max_entries": 1 }))
        .await;
    assert_eq!(built.status, 201, "{}", built.body);
    let paid = addresses(&built.body["entries"], "address");
    let left = addresses(&built.body["left_out"], "address");
    assert_eq!((paid.len(), left.len()), (1, 1), "{}", built.body);
    for a in paid.iter().chain(&left) {
        assert!(a.starts_with('T') && abi::tron::from_base58(a).is_ok(), "{a}");
    }
    let detail = app.get(&format!("/v1/admin/payouts/batches/{}", built.body["id"]), Some(&admin)).await;
    assert_eq!(addresses(&detail.body["entries"], "address"), paid);
}

#[tokio::test]
async fn a_tron_register_answer_carries_the_call_as_tronweb_sends_it() {
    use crate::payouts::SETTLEMENT;
    let (_signer, _app, user, _access, a) = tron_register_answer(Address::ZERO).await;
    assert_eq!(a.body["contract"], to_base58(SETTLEMENT), "the answer's contract in the chain's form");
    // Issue 43: every address a TRON wallet or integrator is shown is `T…`; the signed struct keeps its own 0x
    // encoding (the digest is computed from it as it is), and its T… forms are `tron_payload`.
    assert_eq!(a.body["transaction"]["to"], to_base58(SETTLEMENT), "the contract called, in TRON's form");
    let (payload, shown) = (&a.body["payload"], &a.body["tron_payload"]);
    let signed = [("contract", SETTLEMENT), ("user", user.address()), ("sponsor", genesis()), ("token", Address::ZERO)];
    for (field, address) in signed {
        assert_eq!(payload[field], address.to_checksum(None), "payload.{field} as signed");
        assert_eq!(shown[field], to_base58(address), "tron_payload.{field}");
    }
    for field in ["chain_id", "amount", "nonce", "deadline"] {
        assert_eq!(shown[field], payload[field], "tron_payload.{field} as in payload");
    }
    let digest = abi::SettlementDomain::new(TRON_CHAIN, SETTLEMENT).digest(&abi::Registration {
        user: user.address(),
        sponsor: genesis(),
        token: Address::ZERO,
        amount: payload["amount"].as_str().unwrap().parse().unwrap(),
        nonce: a.body["nonce"].as_str().unwrap().parse().unwrap(),
        deadline: U256::from(a.body["deadline"].as_u64().unwrap()),
    });
    assert_eq!(a.body["digest"], format!("{digest:#x}"), "the digest is the payload's, as it is");
    let tron = &a.body["tron"];
    assert_eq!(tron["contract"], to_base58(SETTLEMENT));
    let signature = "register((address,address,address,uint256,uint256,uint256),bytes)";
    assert_eq!(tron["function_selector"], signature);
    // TronWeb's selector and raw parameter are the EVM calldata split: keccak(signature)[..4] ‖ parameter.
    let data = a.body["transaction"]["data"].as_str().unwrap();
    let selector = alloy::hex::encode(&alloy::primitives::keccak256(signature.as_bytes())[..4]);
    assert_eq!(&data[2..10], selector);
    assert_eq!(tron["parameter"].as_str().unwrap(), &data[10..]);
    // TronWeb encodes the same arguments, given in TRON's own form, to the same parameter.
    let payload = &a.body["payload"];
    let register = serde_json::json!({ "name": "register", "type": "function", "inputs": [
        { "name": "r", "type": "tuple", "components": [
            { "name": "user", "type": "address" }, { "name": "sponsor", "type": "address" },
            { "name": "token", "type": "address" }, { "name": "amount", "type": "uint256" },
            { "name": "nonce", "type": "uint256" }, { "name": "deadline", "type": "uint256" } ] },
        { "name": "signature", "type": "bytes" } ] });
    let tron_form = |field: &str| to_base58(payload[field].as_str().unwrap().parse::<Address>().unwrap());
    let number = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    let args = serde_json::json!([
        [
            tron_form("user"),
            tron_form("sponsor"),
            tron_form("token"),
            number(&payload["amount"]),
            number(&payload["nonce"]),
            number(&payload["deadline"])
        ],
        a.body["signature"],
    ]);
    assert_eq!(tronweb_encode(&register, &args), tron["parameter"].as_str().unwrap());
    // 20 TRX in SUN (6 decimals) sent with the call, a bounded fee limit, no approve for the native coin.
    assert_eq!(tron["call_value"], "20000000");
    assert_eq!(tron["call_value"], a.body["amount"]["base"]);
    assert_eq!(tron["fee_limit"], 150_000_000);
    assert_eq!(tron["approve"], Value::Null);
}

#[tokio::test]
async fn a_tron_usdt_register_answer_asks_for_the_approve_first() {
    use crate::payouts::SETTLEMENT;
    let (_signer, _app, _user, _access, a) = tron_register_answer(USDT).await;
    let tron = &a.body["tron"];
    assert_eq!(tron["call_value"], "0", "a token payment sends no TRX");
    let approve = &tron["approve"];
    assert_eq!(approve["contract"], to_base58(USDT));
    assert_eq!(approve["function_selector"], "approve(address,uint256)");
    // (Settlement, 20 USDT) ABI-encoded: the spender word, then the amount word.
    let parameter = approve["parameter"].as_str().unwrap();
    assert_eq!(parameter.len(), 128);
    assert_eq!(&parameter[24..64], alloy::hex::encode(SETTLEMENT));
    assert_eq!(U256::from_str_radix(&parameter[64..], 16).unwrap(), U256::from(20_000_000u64));
    // The same approve as a transaction: the token in TRON's form (issue 43: it was 0x), no value, selector and
    // parameter.
    let evm = &a.body["approve"];
    assert_eq!((evm["to"].as_str(), evm["value"].as_str()), (Some(to_base58(USDT).as_str()), Some("0")));
    assert_eq!(a.body["tron_payload"]["token"], to_base58(USDT));
    assert_eq!(a.body["payload"]["token"], USDT.to_checksum(None), "the signed struct keeps its 0x encoding");
    assert_eq!(evm["data"].as_str().unwrap(), format!("0x095ea7b3{parameter}"));
}

#[tokio::test]
async fn a_tron_claim_answer_carries_the_claim_as_tronweb_sends_it() {
    use crate::payouts::{SETTLEMENT, spawn_admin_app};
    let signer = crate::signer_service::spawn_signer_on(TRON_CHAIN, SETTLEMENT, &[]).await;
    let chain = backend::config::ChainSettings::new(TRON_CHAIN, SETTLEMENT);
    let app = spawn_admin_app(&signer, chain).await;
    let (w, r1) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    tron_asset_of(&app, Address::ZERO, &[(w.address(), genesis()), (r1.address(), w.address())]).await;
    // W's reward paid by a batch whose push to W failed, settled from the contract's events.
    let amount = app.settle_with_failed_push(TRON_CHAIN, 1, w.address()).await;

    let token = app.signin(Chain::Tron, &w).await["access_token"].as_str().unwrap().to_owned();
    let a = app.get("/v1/users/claim?asset_id=1", Some(&token)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["claimable"]["base"], amount.to_string());
    let tron = &a.body["tron"];
    assert_eq!(tron["contract"], to_base58(SETTLEMENT));
    assert_eq!(tron["function_selector"], "claim(address,address)");
    assert_eq!(tron["call_value"], "0");
    let data = a.body["transaction"]["data"].as_str().unwrap();
    assert_eq!(tron["parameter"].as_str().unwrap(), &data[10..]);
    let claim = serde_json::json!({ "name": "claim", "type": "function", "inputs": [
        { "name": "token", "type": "address" }, { "name": "to", "type": "address" } ] });
    let args = serde_json::json!([to_base58(Address::ZERO), to_base58(w.address())]);
    assert_eq!(tronweb_encode(&claim, &args), tron["parameter"].as_str().unwrap(), "TronWeb encodes the same claim");
    assert_eq!(a.body["to"], to_base58(w.address()));

    // To another address, named as a TRON user names it (T…): the API builds that call, as TronWeb would.
    let cold = PrivateKeySigner::random().address();
    let elsewhere = app.get(&format!("/v1/users/claim?asset_id=1&to={}", to_base58(cold)), Some(&token)).await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["to"], to_base58(cold));
    let args = serde_json::json!([to_base58(Address::ZERO), to_base58(cold)]);
    assert_eq!(tronweb_encode(&claim, &args), elsewhere.body["tron"]["parameter"].as_str().unwrap());

    // With something pending again (W's third referral: DIRECT), a withdraw request's answer names the wallet in
    // T… form and offers the same claim as TronLink sends it.
    let (r2, r3) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    apply_registrations(&app, Address::ZERO, 1_000, &[(r2.address(), w.address()), (r3.address(), w.address())]).await;
    let withdraw = app.post_as("/v1/users/withdraw", Some(&token), serde_json::json!({ "asset_id": 1 })).await;
    assert_eq!(withdraw.status, 200, "{}", withdraw.body);
    assert_eq!(withdraw.body["request"]["address"], to_base58(w.address()));
    assert_eq!(withdraw.body["claim_tron"], a.body["tron"], "{}", withdraw.body);
    assert_eq!(withdraw.body["claim_transaction"], a.body["transaction"]);
    let admin = app.admin_token().await;
    let listed = app.get("/v1/admin/withdrawals?asset_id=1", Some(&admin)).await;
    assert_eq!(addresses(&listed.body["items"], "address"), [to_base58(w.address())], "{}", listed.body);
}

#[tokio::test]
async fn admin_answers_about_a_tron_user_name_it_in_base58check() {
    let app = spawn_app().await;
    let (u1, u2) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    tron_asset(&app, &[(u1.address(), genesis()), (u2.address(), genesis())]).await;
    let admin = app.admin_token().await;
    // Given in either form, the freeze answer shows the TRON form.
    for (form, path) in [(to_base58(u1.address()), "freeze"), (u1.address().to_checksum(None), "unfreeze")] {
        let a = app
            .post_admin(
                &format!("/v1/admin/users/{form}/{path}"),
                &admin,
                serde_json::json!({ "asset_id": 1, "reason": "tron form" }),
            )
            .await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.body["address"], to_base58(u1.address()), "{path}");
    }
    let placed = app
        .post_admin(
            "/v1/admin/pool/placements",
            &admin,
            serde_json::json!({ "asset_id": 1, "user": u2.address().to_checksum(None), "level": 1 }),
        )
        .await;
    assert_eq!(placed.status, 200, "{}", placed.body);
    assert_eq!(placed.body["owner"], to_base58(u2.address()));
}

#[tokio::test]
async fn a_tron_registrations_confirmation_names_the_sponsor_in_base58check() {
    let (_signer, app, user, token, asked) = tron_register_answer(USDT).await;
    // The chain's event, as the listener applies it, for the payload this wallet was given.
    let nonce: U256 = asked.body["nonce"].as_str().unwrap().parse().unwrap();
    let mut chain = ledger::ChainLedger::open(app.db.pool.clone(), TRON_CHAIN).await.unwrap();
    let fee = U256::from(PlanParams::defaults(6).registration_fee);
    let event = registration_event(TRON_CHAIN, 50, user.address(), genesis(), USDT, fee, nonce);
    chain.apply_block(&[event]).await.unwrap();
    let confirmed = app
        .post_as("/v1/users/register/confirm", Some(&token), serde_json::json!({ "nonce": nonce.to_string() }))
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.body["status"], "applied", "{}", confirmed.body);
    assert_eq!(confirmed.body["user"]["sponsor"], to_base58(genesis()));
}
