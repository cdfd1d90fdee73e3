//! Admin plan versions (GET/POST /v1/admin/plan), the operational log and alert acknowledgement.

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use ledger::events::{ChainEvent, EventBody, EventKey};
use serde_json::{Value, json};

use crate::common::{BNB, CHAIN, genesis, named};
use crate::helpers::{Chain, TestApp, spawn_app};

/// A registration of `n` BNB (the plan wants 20) at `block`: quarantined with an alert.
async fn wrong_amount_registration(app: &TestApp, block: u64, n: u128) {
    let mut ledger = ledger::ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let event = ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: alloy::primitives::keccak256(block.to_be_bytes()), log_index: 3 },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: EventBody::Registered {
            user: named(&format!("X{block}")),
            sponsor: genesis(),
            token: Address::ZERO,
            amount: U256::from(n * BNB),
            nonce: U256::from(block),
        },
    };
    assert_eq!(ledger.apply_block(&[event]).await.unwrap().quarantined, 1);
}

/// Bearer, path, body, allowed statuses, code ("" = a JSON body error).
type PostCase<'a> = (Option<&'a str>, String, String, &'a [u16], &'a str);

fn params_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut p = serde_json::to_value(ledger::plan::PlanParams::defaults(18)).unwrap();
    change(&mut p);
    p
}

#[tokio::test]
async fn admin_reads_plan_versions_and_adds_one_from_a_future_block() {
    let app = spawn_app().await;
    app.register_in_ledger(&[(named("A"), genesis())]).await; // block 10
    let token = app.admin_token().await;
    let a = app.get("/v1/admin/plan?asset_id=1", Some(&token)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let versions = a.body["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!((versions[0]["version"].as_i64(), versions[0]["effective_from_block"].as_i64()), (Some(1), Some(0)));
    assert_eq!(versions[0]["params"]["registration_fee"], (20 * BNB).to_string());
    assert_eq!(a.body["first_allowed_block"], 11, "after the last applied block");

    let before = app.db_state().await;
    let refusals = [
        // Not after the last applied block (10): the answer names the first allowed block.
        (
            json!({ "asset_id": 1, "from_block": 10, "params": params_with(|_| {}) }),
            422,
            "from_block_too_early",
            "the first allowed block is 11",
        ),
        (
            json!({ "asset_id": 1, "from_block": 50, "params": params_with(|p| p["registration_fee"] = json!("1")) }),
            422,
            "invalid_plan",
            "level_price[1]",
        ),
        (
            json!({ "asset_id": 1, "from_block": 50, "params": params_with(|p| p["layer_bps"] = json!([9000, 900, 101])) }),
            422,
            "invalid_plan",
            "layer_bps",
        ),
        (
            json!({ "asset_id": 1, "from_block": 50, "params": params_with(|p| p["retopup_fee"] = json!("-40")) }),
            422,
            "invalid_plan",
            "params",
        ),
        (
            json!({ "asset_id": 1, "from_block": 50, "params": params_with(|p| p["retopup_fees"] = json!("40")) }),
            422,
            "invalid_plan",
            "retopup_fees",
        ),
        (
            json!({ "asset_id": 1, "from_block": 50, "params": params_with(|p| { p.as_object_mut().unwrap().remove("level_bps"); }) }),
            422,
            "invalid_plan",
            "level_bps",
        ),
        (json!({ "asset_id": 4, "from_block": 50, "params": params_with(|_| {}) }), 422, "unknown_asset", ""),
    ];
    for (body, status, code, reason) in refusals {
        let a = app.post_as("/v1/admin/plan", Some(&token), body.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {}", a.body);
        assert!(a.body["error"]["message"].as_str().unwrap().contains(reason), "{}", a.body);
    }
    assert_eq!(app.db_state().await, before);

    let new = params_with(|p| p["retopup_fee"] = json!((50 * BNB).to_string()));
    let a =
        app.post_as("/v1/admin/plan", Some(&token), json!({ "asset_id": 1, "from_block": 50, "params": new })).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, json!({ "asset_id": 1, "version": 2, "effective_from_block": 50 }));
    let a = app.get("/v1/admin/plan?asset_id=1", Some(&token)).await;
    assert_eq!(a.body["versions"][1]["params"]["retopup_fee"], (50 * BNB).to_string());
    assert_eq!(a.body["versions"][1]["effective_from_block"], 50);
    let log = app.get("/v1/admin/audit?limit=1", Some(&token)).await;
    let entry = &log.body["items"][0];
    assert_eq!(entry["action"], "new_plan_version");
    assert_eq!(entry["before"]["params"]["retopup_fee"], (40 * BNB).to_string());
    assert_eq!(entry["after"]["params"]["retopup_fee"], (50 * BNB).to_string());
    assert_eq!(entry["actor"], app.admin.address().to_checksum(None));
    // The public plan shows the new fee too.
    let public = app.get("/v1/public/plan", None).await;
    assert_eq!(public.status, 200, "{}", public.body);
    let a = app.get("/v1/admin/plan?asset_id=3", Some(&token)).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));
}

#[tokio::test]
async fn a_plan_version_from_a_block_the_listener_confirmed_is_refused_naming_the_first_allowed_block() {
    // Issue 43: "from block 302" was accepted with block 364 confirmed and applied (blocks without events).
    let app = spawn_app().await;
    app.register_in_ledger(&[(named("A"), genesis())]).await; // block 10
    let mut ledger = ledger::ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let head = ledger::BlockCursor { number: 364, hash: alloy::primitives::B256::repeat_byte(0x64) };
    ledger.apply_confirmed(&[], head, 1_700_000_364).await.unwrap();
    let token = app.admin_token().await;
    let plan = app.get("/v1/admin/plan?asset_id=1", Some(&token)).await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert_eq!(plan.body["first_allowed_block"], 365, "{}", plan.body);

    let before = app.db_state().await;
    for from in [302, 364] {
        let body = json!({ "asset_id": 1, "from_block": from, "params": params_with(|_| {}) });
        let a = app.post_as("/v1/admin/plan", Some(&token), body).await;
        assert_eq!((a.status, a.code()), (422, "from_block_too_early"), "{from}: {}", a.body);
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("the first allowed block is 365"), "{message}");
    }
    assert_eq!(app.db_state().await, before, "a refused version changes nothing");
    let offered = plan.body["first_allowed_block"].as_u64().unwrap();
    let a = app
        .post_as(
            "/v1/admin/plan",
            Some(&token),
            json!({ "asset_id": 1, "from_block": offered, "params": params_with(|_| {}) }),
        )
        .await;
    assert_eq!((a.status, a.body["effective_from_block"].as_u64()), (200, Some(365)), "{}", a.body);
    let plan = app.get("/v1/admin/plan?asset_id=1", Some(&token)).await;
    assert_eq!(plan.body["first_allowed_block"], 366, "after the new version's start");
}

#[tokio::test]
async fn logs_list_open_alerts_and_quarantined_events_and_ack_closes_an_alert() {
    let app = spawn_app().await;
    app.register_in_ledger(&[(named("A"), genesis())]).await;
    for (block, n) in [(20, 1), (21, 2), (22, 3)] {
        wrong_amount_registration(&app, block, n).await;
    }
    let token = app.admin_token().await;
    let a = app.get("/v1/admin/logs", Some(&token)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let alerts = a.body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 3);
    assert!(alerts.iter().all(|a| a["kind"] == "event_quarantined" && a["acknowledged_at"].is_null()));
    assert_eq!(a.body["quarantined"], json!([]));

    // Quarantine, newest first, two per page.
    let page = app.get("/v1/admin/logs?kind=quarantine&limit=2", Some(&token)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let q = page.body["quarantined"].as_array().unwrap();
    assert_eq!(q.iter().map(|e| e["block"].as_i64().unwrap()).collect::<Vec<_>>(), [22, 21]);
    assert_eq!(q[0]["reason_code"], "wrong_amount");
    assert_eq!(q[0]["asset_id"], 1);
    assert_eq!(q[0]["payload"]["event"], "Registered");
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = app.get(&format!("/v1/admin/logs?kind=quarantine&limit=2&cursor={cursor}"), Some(&token)).await;
    assert_eq!(rest.body["quarantined"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["quarantined"][0]["block"], 20);
    assert_eq!(rest.body["next_cursor"], Value::Null);

    // Ack the newest alert: audited, gone from the open list, shown with `all`.
    let id = alerts[0]["id"].as_i64().unwrap();
    let a = app.post_as(&format!("/v1/admin/alerts/{id}/ack"), Some(&token), json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["id"], id);
    let again = app.post_as(&format!("/v1/admin/alerts/{id}/ack"), Some(&token), json!({})).await;
    assert_eq!((again.status, again.code()), (409, "no_change"));
    let open = app.get("/v1/admin/logs?limit=1", Some(&token)).await;
    assert_eq!(open.body["alerts"].as_array().unwrap().len(), 1);
    assert_ne!(open.body["alerts"][0]["id"], id);
    let cursor = open.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app.get(&format!("/v1/admin/logs?limit=1&cursor={cursor}"), Some(&token)).await;
    assert_eq!(next.body["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(next.body["next_cursor"], Value::Null);
    let all = app.get("/v1/admin/logs?all=true", Some(&token)).await;
    assert_eq!(all.body["alerts"].as_array().unwrap().len(), 3);
    assert!(all.body["alerts"][0]["acknowledged_at"].as_str().unwrap().ends_with('Z'));
    let log = app.get("/v1/admin/audit?limit=1", Some(&token)).await;
    assert_eq!(log.body["items"][0]["action"], "ack_alert");
    assert_eq!(log.body["items"][0]["target"], format!("alert {id}"));
    let missing = app.post_as("/v1/admin/alerts/999999/ack", Some(&token), json!({})).await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
}

#[tokio::test]
async fn hostile_admin_plan_and_log_inputs_get_4xx_and_change_nothing() {
    let app = spawn_app().await;
    app.register_in_ledger(&[(named("A"), genesis())]).await;
    wrong_amount_registration(&app, 20, 1).await;
    let token = app.admin_token().await;
    let user = app.signin(Chain::Evm, &PrivateKeySigner::random()).await["access_token"].as_str().unwrap().to_owned();
    let huge = "9".repeat(80);
    let ok_params = params_with(|_| {});
    let t = Some(token.as_str());
    let posts: Vec<PostCase<'_>> = vec![
        (t, "/v1/admin/plan".into(), "{".into(), &[400], "malformed_json"),
        (t, "/v1/admin/plan".into(), "null".into(), &[422], "invalid_body"),
        (t, "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": -5, "params": ok_params }).to_string(), &[422], "invalid_body"),
        (t, "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": "50", "params": ok_params }).to_string(), &[422], "invalid_body"),
        (t, "/v1/admin/plan".into(), format!("{{\"asset_id\": 1, \"from_block\": {huge}, \"params\": {ok_params}}}"), &[400, 422], ""),
        (t, "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": u64::MAX, "params": ok_params }).to_string(), &[422], "invalid_plan"),
        (t, "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": 50, "params": ok_params, "x": 1 }).to_string(), &[422], "invalid_body"),
        (t, "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": 50, "params": "'; DROP TABLE plan_versions; --" }).to_string(), &[422], "invalid_plan"),
        (t, "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": 50, "params": params_with(|p| p["registration_fee"] = json!("<script>")) }).to_string(), &[422], "invalid_plan"),
        (t, "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": 50, "params": params_with(|p| p["level_price"] = json!([huge])) }).to_string(), &[422], "invalid_plan"),
        (Some(&user), "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": 50, "params": ok_params }).to_string(), &[403], "forbidden"),
        (None, "/v1/admin/plan".into(), json!({ "asset_id": 1, "from_block": 50, "params": ok_params }).to_string(), &[401], "missing_token"),
        (t, "/v1/admin/alerts/abc/ack".into(), "{}".into(), &[400], "invalid_path"),
        (t, format!("/v1/admin/alerts/{huge}/ack"), "{}".into(), &[400], "invalid_path"),
        (t, "/v1/admin/alerts/1%27%3B--/ack".into(), "{}".into(), &[400], "invalid_path"),
        (t, "/v1/admin/alerts/-1/ack".into(), "{}".into(), &[404], "not_found"),
        (Some(&user), "/v1/admin/alerts/1/ack".into(), "{}".into(), &[403], "forbidden"),
        (None, "/v1/admin/alerts/1/ack".into(), "{}".into(), &[401], "missing_token"),
    ];
    let gets: Vec<(&str, String, u16, &str)> = vec![
        (&token, "/v1/admin/plan".into(), 400, "invalid_query"),
        (&token, "/v1/admin/plan?asset_id=x".into(), 400, "invalid_query"),
        (&token, format!("/v1/admin/plan?asset_id={huge}"), 400, "invalid_query"),
        (&token, "/v1/admin/plan?asset_id=1&evil=1".into(), 400, "invalid_query"),
        (&token, "/v1/admin/logs?kind=secrets".into(), 400, "invalid_query"),
        (&token, "/v1/admin/logs?kind=%3Cscript%3E".into(), 400, "invalid_query"),
        (&token, "/v1/admin/logs?all=maybe".into(), 400, "invalid_query"),
        (&token, "/v1/admin/logs?cursor=abc".into(), 400, "invalid_cursor"),
        (&token, "/v1/admin/logs?kind=quarantine&cursor=1:2".into(), 400, "invalid_cursor"),
        (&token, "/v1/admin/logs?kind=quarantine&cursor=1%27%3B--".into(), 400, "invalid_cursor"),
        (&token, format!("/v1/admin/logs?cursor={huge}"), 400, "invalid_cursor"),
        (&token, "/v1/admin/logs?limit=0".into(), 400, "invalid_limit"),
        (&user, "/v1/admin/plan?asset_id=1".into(), 403, "forbidden"),
        (&user, "/v1/admin/logs".into(), 403, "forbidden"),
    ];
    let before = app.db_state().await;
    let open_alerts = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    let open_before = open_alerts().await;
    for (bearer, path, body, status, code) in &posts {
        let mut req = app.client.post(format!("{}{path}", app.base)).header("content-type", "application/json");
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let a = app.send(req.body(body.clone())).await;
        let shown = &body[..body.len().min(100)];
        assert!(status.contains(&a.status), "{path} {shown}: {} {}", a.status, a.body);
        if code.is_empty() {
            assert!(["malformed_json", "invalid_body"].contains(&a.code()), "{path} {shown}: {}", a.body);
        } else {
            assert_eq!(a.code(), *code, "{path} {shown}: {}", a.body);
        }
    }
    for (t, path, status, code) in &gets {
        let a = app.get(path, Some(t)).await;
        assert_eq!((a.status, a.code()), (*status, *code), "{path}: {}", a.body);
    }
    for path in ["/v1/admin/plan?asset_id=1", "/v1/admin/logs"] {
        let a = app.get(path, None).await;
        assert_eq!((a.status, a.code()), (401, "missing_token"), "{path}");
    }
    assert_eq!(app.db_state().await, before);
    assert_eq!(open_alerts().await, open_before);
}
