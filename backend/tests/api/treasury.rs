//! Admin treasury over HTTP with the REAL signer: the company's share, transfers up to exactly what is
//! available (never more, also under concurrent requests), the transfer list.

use alloy::primitives::{Address, Signature, U256};
use serde_json::{Value, json};

use crate::common::{ASSET, BNB, CHAIN, named};
use crate::helpers::TestApp;
use crate::payouts::{
    DEV_ADDRESS, SETTLEMENT, chain_settings, payout_state, seed_chain, spawn_admin_app, spawn_signer,
};

fn base(v: &Value) -> u128 {
    v["base"].as_str().unwrap_or_else(|| panic!("no base amount in {v}")).parse().unwrap()
}

async fn company_total(app: &TestApp) -> u128 {
    crate::common::text(&app.db.pool, "SELECT company_total::text FROM assets WHERE id = 1").await.parse().unwrap()
}

fn treasury_address() -> Address {
    named("company treasury")
}

#[tokio::test]
async fn transfers_take_exactly_what_is_available_and_never_more() {
    let signer = spawn_signer(SETTLEMENT, vec![treasury_address()]).await;
    let app = spawn_admin_app(&signer, chain_settings(SETTLEMENT)).await;
    seed_chain(&app, 5).await;
    let company = company_total(&app).await;
    assert!(company > 0);
    let token = app.admin_token().await;
    let t = Some(token.as_str());

    let s = app.get("/v1/admin/treasury?asset_id=1", t).await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(base(&s.body["company_total"]), company);
    assert_eq!((base(&s.body["transferred"]), base(&s.body["reserved"])), (0, 0));
    assert_eq!(base(&s.body["available"]), company);
    let liabilities: String = crate::common::text(
        &app.db.pool,
        "SELECT sum(reserved + held + pending + batched + claimable)::text FROM user_balances WHERE asset_id = 1",
    )
    .await;
    assert_eq!(s.body["liabilities"]["base"], liabilities);
    assert_eq!(base(&s.body["liabilities"]), 18 * BNB * 5, "five DIRECT rewards pending");
    assert_eq!(s.body["contract_balance"], Value::Null);
    assert!(s.body["chain_note"].as_str().unwrap().contains("rpc_url"), "{}", s.body);

    // available + 1 is refused, nothing stored; exactly available passes.
    let to = treasury_address().to_checksum(None);
    let before = payout_state(&app).await;
    let a = app
        .post_admin(
            "/v1/admin/treasury/transfers",
            &token,
            json!({ "asset_id": ASSET, "to": to, "amount": (company + 1).to_string() }),
        )
        .await;
    assert_eq!((a.status, a.code()), (422, "exceeds_available"), "{}", a.body);
    assert_eq!(payout_state(&app).await, before);
    let a = app
        .post_admin(
            "/v1/admin/treasury/transfers",
            &token,
            json!({ "asset_id": ASSET, "to": abi::tron::to_base58(treasury_address()), "amount": company.to_string() }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!((a.body["status"].as_str(), a.body["origin"].as_str()), (Some("signed"), Some("api")));
    assert_eq!(a.body["to"], to);
    assert_eq!(a.body["amount"], company.to_string());
    let id = a.body["id"].as_i64().unwrap();
    let nonce: U256 = a.body["nonce"].as_str().unwrap().parse().unwrap();
    assert_eq!(nonce, abi::nonces::treasury_nonce(id as u64));
    let payload = abi::TreasuryTransfer {
        token: Address::ZERO,
        to: treasury_address(),
        amount: U256::from(company),
        nonce,
        deadline: U256::from(a.body["deadline"].as_u64().unwrap()),
    };
    let digest = abi::SettlementDomain::new(CHAIN, SETTLEMENT).digest(&payload);
    let signature = alloy::hex::decode(a.body["signature"].as_str().unwrap()).unwrap();
    let signature = Signature::try_from(signature.as_slice()).unwrap();
    assert_eq!(signature.recover_address_from_prehash(&digest).unwrap(), DEV_ADDRESS);
    assert_eq!(a.body["transaction"]["to"], SETTLEMENT.to_checksum(None));

    let s = app.get("/v1/admin/treasury?asset_id=1", t).await;
    assert_eq!((base(&s.body["reserved"]), base(&s.body["available"])), (company, 0));
    let a = app
        .post_admin("/v1/admin/treasury/transfers", &token, json!({ "asset_id": ASSET, "to": to, "amount": "1" }))
        .await;
    assert_eq!((a.status, a.code()), (422, "exceeds_available"), "{}", a.body);

    // As the listener records the execution: transferred, no longer reserved; available unchanged.
    sqlx::query("UPDATE treasury_transfers SET status = 'executed', executed_block = 99 WHERE id = $1")
        .bind(id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let s = app.get("/v1/admin/treasury?asset_id=1", t).await;
    assert_eq!((base(&s.body["transferred"]), base(&s.body["reserved"]), base(&s.body["available"])), (company, 0, 0));

    let list = app.get("/v1/admin/treasury/transfers?asset_id=1", t).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((items[0]["id"].as_i64(), items[0]["status"].as_str()), (Some(id), Some("executed")));
    assert_eq!(items[0]["transaction"], Value::Null, "an executed transfer needs no transaction");
    let audit: (i64, Value, Value) =
        sqlx::query_as("SELECT count(*) OVER (), before, after FROM audit_logs WHERE action = 'treasury_transfer'")
            .fetch_one(&app.db.pool)
            .await
            .map(|(n, b, a): (i64, sqlx::types::Json<Value>, sqlx::types::Json<Value>)| (n, b.0, a.0))
            .unwrap();
    assert_eq!(audit.0, 1);
    assert_eq!(audit.1["available"], company.to_string());
    assert_eq!(audit.2["available"], "0");
    assert_eq!(audit.2["transfer"]["id"], id);
}

#[tokio::test]
async fn two_concurrent_transfers_that_together_exceed_available_one_passes() {
    let signer = spawn_signer(SETTLEMENT, vec![treasury_address()]).await;
    let app = spawn_admin_app(&signer, chain_settings(SETTLEMENT)).await;
    seed_chain(&app, 5).await;
    let company = company_total(&app).await;
    let token = app.admin_token().await;
    let half_plus_one = (company / 2 + 1).to_string();
    let body = json!({ "asset_id": ASSET, "to": treasury_address().to_checksum(None), "amount": half_plus_one });
    let (a, b) = tokio::join!(
        app.post_admin("/v1/admin/treasury/transfers", &token, body.clone()),
        app.post_admin("/v1/admin/treasury/transfers", &token, body.clone()),
    );
    let mut statuses = [(a.status, a.code().to_owned()), (b.status, b.code().to_owned())];
    statuses.sort();
    assert_eq!(statuses[0].0, 201, "{} / {}", a.body, b.body);
    assert_eq!(statuses[1], (422, "exceeds_available".to_owned()), "{} / {}", a.body, b.body);
    let (rows, reserved): (i64, String) = sqlx::query_as("SELECT count(*), sum(amount)::text FROM treasury_transfers")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!((rows, reserved), (1, (company / 2 + 1).to_string()));
}

#[tokio::test]
async fn a_recipient_the_signer_does_not_allow_is_refused_and_nothing_is_stored() {
    let signer = spawn_signer(SETTLEMENT, vec![treasury_address()]).await;
    let app = spawn_admin_app(&signer, chain_settings(SETTLEMENT)).await;
    seed_chain(&app, 3).await;
    let token = app.admin_token().await;
    let before = payout_state(&app).await;
    let a = app
        .post_admin(
            "/v1/admin/treasury/transfers",
            &token,
            json!({ "asset_id": ASSET, "to": named("stranger").to_checksum(None), "amount": "1" }),
        )
        .await;
    // Refused before anything is signed or stored, as a client error naming the signer's recipients (issue 65: it
    // was a 503, the signer's refusal passed on).
    assert_eq!((a.status, a.code()), (422, "recipient_not_allowed"), "{}", a.body);
    let message = a.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&treasury_address().to_checksum(None)), "names the allowed recipient: {message}");
    assert_eq!(payout_state(&app).await, before);
    // Proposed for approval, the same: a proposal that could never be signed is not stored.
    let proposal = app
        .post_admin(
            "/v1/admin/authorisations",
            &token,
            json!({ "kind": "treasury_transfer", "asset_id": ASSET, "to": named("stranger").to_checksum(None), "amount": "1" }),
        )
        .await;
    assert_eq!((proposal.status, proposal.code()), (422, "recipient_not_allowed"), "{}", proposal.body);
    assert_eq!(payout_state(&app).await, before);
}

#[tokio::test]
async fn hostile_payout_and_treasury_inputs_get_4xx_with_a_stable_code_and_change_nothing() {
    let signer = spawn_signer(SETTLEMENT, vec![treasury_address()]).await;
    let app = spawn_admin_app(&signer, chain_settings(SETTLEMENT)).await;
    seed_chain(&app, 3).await;
    let token = app.admin_token().await;
    // One building batch, so a wrongly accepted sign/submit would show.
    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET, "max_entries": 1 })).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_i64().unwrap();
    let user = app.signin(crate::helpers::Chain::Evm, &alloy::signers::local::PrivateKeySigner::random()).await;
    let user_token = user["access_token"].as_str().unwrap().to_owned();
    let sqli = "'; DROP TABLE payout_batches; --";
    let xss = "<script>alert(1)</script>";
    let huge = "9".repeat(400);
    let to = treasury_address().to_checksum(None);
    let batches = "/v1/admin/payouts/batches";
    let transfers = "/v1/admin/treasury/transfers";

    // (path, raw body, allowed statuses, code; "" = any JSON body error code)
    let posts: Vec<(String, String, &[u16], &str)> = vec![
        (batches.into(), "{".into(), &[400], "malformed_json"),
        (batches.into(), "[]".into(), &[422], "invalid_body"),
        (batches.into(), "{}".into(), &[422], "invalid_body"),
        (batches.into(), json!({ "asset_id": "1" }).to_string(), &[422], "invalid_body"),
        (batches.into(), json!({ "asset_id": ASSET, "max_entries": -1 }).to_string(), &[422], "invalid_body"),
        (batches.into(), json!({ "asset_id": ASSET, "max_entries": 1.5 }).to_string(), &[422], "invalid_body"),
        (batches.into(), format!("{{\"asset_id\": 1, \"max_entries\": {huge}}}"), &[400, 422], ""),
        (batches.into(), json!({ "asset_id": ASSET, "max_total": 5 }).to_string(), &[422], "invalid_body"),
        (batches.into(), json!({ "asset_id": ASSET, "max_total": "-5" }).to_string(), &[422], "invalid_cap"),
        (batches.into(), json!({ "asset_id": ASSET, "max_total": huge }).to_string(), &[422], "invalid_cap"),
        (batches.into(), json!({ "asset_id": ASSET, "max_total": sqli }).to_string(), &[422], "invalid_cap"),
        (batches.into(), json!({ "asset_id": ASSET, "admin": true }).to_string(), &[422], "invalid_body"),
        (transfers.into(), "not json".into(), &[400], "malformed_json"),
        (transfers.into(), json!({ "asset_id": ASSET, "to": to }).to_string(), &[422], "invalid_body"),
        (transfers.into(), json!({ "asset_id": ASSET, "to": to, "amount": 1 }).to_string(), &[422], "invalid_body"),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": to, "amount": "-1" }).to_string(),
            &[422],
            "invalid_amount",
        ),
        (transfers.into(), json!({ "asset_id": ASSET, "to": to, "amount": "0" }).to_string(), &[422], "invalid_amount"),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": to, "amount": "1.5" }).to_string(),
            &[422],
            "invalid_amount",
        ),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": to, "amount": "1e18" }).to_string(),
            &[422],
            "invalid_amount",
        ),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": to, "amount": huge }).to_string(),
            &[422],
            "invalid_amount",
        ),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": to, "amount": sqli }).to_string(),
            &[422],
            "invalid_amount",
        ),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": sqli, "amount": "1" }).to_string(),
            &[422],
            "invalid_address",
        ),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": xss, "amount": "1" }).to_string(),
            &[422],
            "invalid_address",
        ),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": Address::ZERO.to_string(), "amount": "1" }).to_string(),
            &[422],
            "invalid_address",
        ),
        (transfers.into(), json!({ "asset_id": 77, "to": to, "amount": "1" }).to_string(), &[422], "unknown_asset"),
        (
            transfers.into(),
            json!({ "asset_id": ASSET, "to": to, "amount": "1", "nonce": "1" }).to_string(),
            &[422],
            "invalid_body",
        ),
        (format!("{batches}/abc/sign"), "{}".into(), &[400], "invalid_path"),
        (format!("{batches}/{huge}/sign"), "{}".into(), &[400], "invalid_path"),
        (format!("{batches}/-1/submit"), "{}".into(), &[404], "not_found"),
        (format!("{batches}/{id}/submit"), "{}".into(), &[503], "chain_rpc_not_configured"),
        (format!("{batches}/{id}/retry"), "{}".into(), &[503], "chain_rpc_not_configured"),
        (format!("{batches}/abc/cancel"), "{}".into(), &[400], "invalid_path"),
        (format!("{batches}/{huge}/cancel"), "{}".into(), &[400], "invalid_path"),
        (format!("{batches}/1%27%20OR%201%3D1/cancel"), "{}".into(), &[400], "invalid_path"),
        (format!("{batches}/-1/cancel"), "{}".into(), &[404], "not_found"),
    ];
    let gets: Vec<(String, u16, &str)> = vec![
        ("/v1/admin/payouts/pending".into(), 400, "invalid_query"),
        ("/v1/admin/payouts/pending?asset_id=abc".into(), 400, "invalid_query"),
        ("/v1/admin/payouts/pending?asset_id=1&limit=0".into(), 400, "invalid_limit"),
        ("/v1/admin/payouts/pending?asset_id=1&min_amount=-1".into(), 422, "invalid_amount"),
        (format!("/v1/admin/payouts/pending?asset_id=1&min_amount={huge}"), 422, "invalid_amount"),
        ("/v1/admin/payouts/pending?asset_id=1&user=%3Cscript%3E".into(), 422, "invalid_address"),
        ("/v1/admin/payouts/pending?asset_id=1&user=%27%20OR%201%3D1".into(), 422, "invalid_address"),
        ("/v1/admin/payouts/pending?asset_id=1&drop=1".into(), 400, "invalid_query"),
        ("/v1/admin/payouts/pending?asset_id=1&requested=maybe".into(), 400, "invalid_query"),
        ("/v1/admin/payouts/pending?asset_id=1&requested=1%20OR%201".into(), 400, "invalid_query"),
        ("/v1/admin/payouts/pending?asset_id=99".into(), 422, "unknown_asset"),
        ("/v1/admin/payouts/batches?status=%27%3B%20DROP".into(), 422, "invalid_status"),
        ("/v1/admin/payouts/batches?cursor=x".into(), 400, "invalid_query"),
        ("/v1/admin/payouts/batches/abc".into(), 400, "invalid_path"),
        ("/v1/admin/treasury".into(), 400, "invalid_query"),
        ("/v1/admin/treasury?asset_id=99".into(), 422, "unknown_asset"),
        (format!("/v1/admin/treasury?asset_id={huge}"), 400, "invalid_query"),
        ("/v1/admin/treasury/transfers?limit=1000".into(), 400, "invalid_limit"),
    ];

    let before = payout_state(&app).await;
    for (path, body, statuses, code) in &posts {
        let req = app
            .client
            .post(format!("{}{path}", app.base))
            .bearer_auth(&token)
            .header("content-type", "application/json");
        let a = app.send(req.body(body.clone())).await;
        assert!(statuses.contains(&a.status), "{path} {body}: {} {}", a.status, a.body);
        assert!(code.is_empty() || a.code() == *code, "{path} {body}: {}", a.body);
        assert!(a.body["error"]["code"].is_string(), "{path} {body}: no JSON error");
    }
    for (path, status, code) in &gets {
        let a = app.get(path, Some(&token)).await;
        assert_eq!((a.status, a.code()), (*status, *code), "{path}: {}", a.body);
    }

    // Roles: no token → 401, a user's token → 403, on every route.
    let routes: Vec<(&str, String)> = vec![
        ("GET", "/v1/admin/payouts/pending?asset_id=1".into()),
        ("GET", batches.into()),
        ("POST", batches.into()),
        ("GET", format!("{batches}/{id}")),
        ("POST", format!("{batches}/{id}/sign")),
        ("POST", format!("{batches}/{id}/submit")),
        ("POST", format!("{batches}/{id}/retry")),
        ("POST", format!("{batches}/{id}/cancel")),
        ("GET", "/v1/admin/treasury?asset_id=1".into()),
        ("GET", transfers.into()),
        ("POST", transfers.into()),
    ];
    let body = json!({ "asset_id": ASSET, "to": to, "amount": "1" });
    for (method, path) in &routes {
        for (token, status, code) in [(None, 401, "missing_token"), (Some(user_token.as_str()), 403, "forbidden")] {
            let mut req = if *method == "GET" {
                app.client.get(format!("{}{path}", app.base))
            } else {
                app.client.post(format!("{}{path}", app.base)).json(&body)
            };
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let a = app.send(req).await;
            assert_eq!((a.status, a.code()), (status, code), "{method} {path}: {}", a.body);
        }
    }
    assert_eq!(payout_state(&app).await, before);
}

#[tokio::test]
async fn a_separate_treasury_caller_signs_transfers_the_main_caller_may_not() {
    use backend::config::SignerCaller;
    use secrecy::SecretString;
    let signer = crate::signer_service::spawn_split_signer(SETTLEMENT, vec![treasury_address()]).await;
    let body = json!({ "asset_id": ASSET, "to": treasury_address().to_checksum(None), "amount": "1000" });

    // Without a treasury caller the backend would ask with its main caller, which the signer refuses: the API's
    // preflight asks the signer what the caller may ask for (GET /v1/caller) and refuses to start, naming it.
    let db = ledger::db::ScratchDatabase::create("api_split_signer").await.unwrap();
    let mut settings = crate::helpers::settings("redis://127.0.0.1:6379", Address::repeat_byte(0xad));
    (settings.signer, settings.chains) = (Some(signer.settings()), vec![chain_settings(SETTLEMENT)]);
    let refused = backend::startup::Application::build_with_pool(settings.clone(), db.pool.clone())
        .await
        .map(|_| ())
        .unwrap_err();
    let said = format!("{refused:#}");
    assert!(
        said.contains(
            "signer_kinds: the signer service refuses caller \"backend\" treasury_transfer (treasury \
                       transfers and refunds): add it to its `kinds`"
        ),
        "{said}"
    );
    // The same when the proof of solvency is on: the main caller's commitments are refused too.
    let solvency = backend::config::SolvencySettings {
        salt_key: SecretString::from("42".repeat(32)),
        worker: true,
        interval_secs: 1,
        idle_secs: 30,
        signature_ttl_secs: 600,
        chains: vec![],
    };
    let main = signer.settings();
    let client = signer_client::SignerClient::new(main.url, main.caller_id, main.caller_secret);
    let findings = backend::preflight::check(
        &backend::config::Settings { solvency: Some(solvency), ..settings },
        &backend::chains::ChainRegistry::from_settings(&[chain_settings(SETTLEMENT)]).unwrap(),
        Some(&client),
    )
    .await;
    let kinds: Vec<_> = findings.iter().filter(|f| f.check == "signer_kinds").collect();
    assert_eq!(kinds.len(), 1, "{findings:#?}");
    assert!(
        kinds[0].message.contains(
            "refuses caller \"backend\" liability_root (the proof of solvency's commitments: without them the floor's \
             age check fails payouts and the members' exit opens), treasury_transfer (treasury transfers and refunds): \
             add them to its `kinds`"
        ),
        "{}",
        kinds[0].message
    );

    // With [signer.treasury_caller] the transfer is signed; the main caller still signs payout batches.
    let mut settings = signer.settings();
    settings.treasury_caller = Some(SignerCaller {
        caller_id: crate::signer_service::TREASURY_CALLER.into(),
        caller_secret: SecretString::from(crate::signer_service::TREASURY_SECRET),
    });
    let chain = chain_settings(SETTLEMENT);
    let app = crate::helpers::spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.signer = Some(settings);
        s.chains = vec![chain];
    })
    .await;
    seed_chain(&app, 3).await;
    let token = app.admin_token().await;
    let a = app.post_admin("/v1/admin/treasury/transfers", &token, body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let payload = abi::TreasuryTransfer {
        token: Address::ZERO,
        to: treasury_address(),
        amount: U256::from(1000),
        nonce: a.body["nonce"].as_str().unwrap().parse().unwrap(),
        deadline: U256::from(a.body["deadline"].as_u64().unwrap()),
    };
    let digest = abi::SettlementDomain::new(CHAIN, SETTLEMENT).digest(&payload);
    let signature = alloy::hex::decode(a.body["signature"].as_str().unwrap()).unwrap();
    let signature = Signature::try_from(signature.as_slice()).unwrap();
    assert_eq!(signature.recover_address_from_prehash(&digest).unwrap(), DEV_ADDRESS);
    let built = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    let id = built.body["id"].as_i64().unwrap();
    let signed = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &token, json!({})).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
}
