//! Monitoring: reconciliation results, listener lag, replay and reconcile requests (queued, audited, reported),
//! and the hostile-input table for these routes.

use alloy::primitives::{B256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use ledger::{BlockCursor, ChainLedger};
use serde_json::{Value, json};

use crate::common::{CHAIN, count, genesis, named};
use crate::helpers::{Answer, Chain, TestApp, spawn_app};

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT actor, action, target FROM audit_logs WHERE action <> 'staff_seed' ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn replay_and_reconcile_requests_are_queued_audited_and_readable() {
    let app = spawn_app().await;
    app.register_in_ledger(&[(named("A"), genesis())]).await;
    let token = app.admin_token().await;
    let t = Some(token.as_str());
    let actor = app.admin.address().to_checksum(None);

    let a = app
        .post_as("/v1/admin/monitoring/replay", t, json!({ "chain_id": CHAIN, "from_block": 5, "to_block": 9 }))
        .await;
    assert_eq!(a.status, 202, "{}", a.body);
    let replay_id = a.body["id"].as_i64().unwrap();
    assert_eq!(
        (&a.body["kind"], &a.body["status"], &a.body["chain_id"], &a.body["from_block"], &a.body["to_block"]),
        (&json!("replay"), &json!("queued"), &json!(CHAIN), &json!(5), &json!(9))
    );
    assert_eq!(a.body["requested_by"], actor);
    assert_eq!(a.body["result"], Value::Null);

    let a = app.post_as("/v1/admin/monitoring/reconcile", t, json!({})).await;
    assert_eq!(a.status, 202, "{}", a.body);
    let reconcile_id = a.body["id"].as_i64().unwrap();
    assert_eq!((&a.body["kind"], &a.body["chain_id"]), (&json!("reconcile"), &Value::Null));

    // What the services see, and what they report back through the same row.
    let queued: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT kind, chain_id FROM ops_requests WHERE status = 'queued' ORDER BY id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(queued, [("replay".to_owned(), Some(CHAIN as i64)), ("reconcile".to_owned(), None)]);
    sqlx::query(
        "UPDATE ops_requests SET status = 'done', started_at = now(), finished_at = now(),
                result = '{\"events_found\": 3, \"already_applied\": 3, \"missing\": 0}' WHERE id = $1",
    )
    .bind(replay_id)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let a = app.get(&format!("/v1/admin/monitoring/requests/{replay_id}"), t).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "done");
    assert_eq!(a.body["result"]["already_applied"], 3);
    assert!(a.body["finished_at"].as_str().unwrap().ends_with('Z'));
    let a = app.get(&format!("/v1/admin/monitoring/requests/{reconcile_id}"), t).await;
    assert_eq!((a.status, &a.body["status"]), (200, &json!("queued")));
    let a = app.get("/v1/admin/monitoring/requests/999999", t).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));

    assert_eq!(
        audit_actions(&app).await,
        [
            (actor.clone(), "replay_requested".to_owned(), format!("ops_request:{replay_id}")),
            (actor, "reconcile_requested".to_owned(), format!("ops_request:{reconcile_id}")),
        ]
    );
}

#[tokio::test]
async fn a_replay_request_is_validated_before_anything_is_queued() {
    let app = spawn_app().await;
    app.register_in_ledger(&[(named("A"), genesis())]).await;
    let token = app.admin_token().await;
    let t = Some(token.as_str());
    let replay = |chain: u64, from: u64, to: u64| json!({ "chain_id": chain, "from_block": from, "to_block": to });
    let before = app.db_state().await;
    for (body, code) in [
        (replay(999, 1, 2), "unknown_chain"),
        (replay(u64::MAX, 1, 2), "unknown_chain"),
        (replay(CHAIN, 10, 9), "invalid_range"),
        (replay(CHAIN, 0, 10_000), "range_too_large"),
        (replay(CHAIN, u64::MAX - 1, u64::MAX), "invalid_range"),
    ] {
        let a = app.post_as("/v1/admin/monitoring/replay", t, body.clone()).await;
        assert_eq!((a.status, a.code()), (422, code), "{body}: {}", a.body);
    }
    assert_eq!(app.db_state().await, before);
    assert_eq!(count(&app.db.pool, "ops_requests").await, 0);
    // The widest allowed range is accepted.
    let a = app.post_as("/v1/admin/monitoring/replay", t, replay(CHAIN, 0, 9_999)).await;
    assert_eq!(a.status, 202, "{}", a.body);
}

#[tokio::test]
async fn listeners_show_cursor_head_lag_and_halt_reason() {
    let app = spawn_app().await;
    app.register_in_ledger(&[(named("A"), genesis())]).await;
    let token = app.admin_token().await;
    let t = Some(token.as_str());

    let a = app.get("/v1/admin/monitoring/listeners", t).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(a.body["items"][0]["chain_id"], CHAIN);
    assert_eq!(a.body["items"][0]["confirmed_block"], Value::Null, "the test ledger was fed without a listener");

    let mut ledger = ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let hash = B256::from(keccak256(b"block 120"));
    ledger.apply_confirmed(&[], BlockCursor { number: 120, hash }, 1_700_000_120).await.unwrap();
    ledger.record_chain_head(133, 0).await.unwrap();
    let a = app.get("/v1/admin/monitoring/listeners", t).await;
    let item = &a.body["items"][0];
    assert_eq!(
        (&item["confirmed_block"], &item["chain_head"], &item["lag_blocks"]),
        (&json!(120), &json!(133), &json!(13))
    );
    let age = item["head_age_seconds"].as_f64().unwrap();
    assert!((0.0..60.0).contains(&age), "{age}");
    assert_eq!(item["halted_reason"], Value::Null);

    ledger.halt_listener("reorg below the confirmation depth at 118").await.unwrap();
    let a = app.get("/v1/admin/monitoring/listeners", t).await;
    assert_eq!(a.body["items"][0]["halted_reason"], "reorg below the confirmation depth at 118");
}

/// A run as the reconciler stores it (the reconciler crate writes these; the API only reads them).
async fn store_run(app: &TestApp, variance: &str, onchain: &str) -> i64 {
    let pool = &app.db.pool;
    let run: i64 =
        sqlx::query_scalar("INSERT INTO reconciler_runs (finished_at, alerts) VALUES (now(), $1) RETURNING id")
            .bind(sqlx::types::Json(json!([{ "dedup_key": format!("custody:{CHAIN}:0x00"), "severity": "critical" }])))
            .fetch_one(pool)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO reconciler_results (run_id, chain_id, token, block_number, onchain_balance, inflows,
            payouts_executed, claims, treasury_transfers, liabilities, expected_balance, variance, solvency_margin)
         VALUES ($1, $4, '\\x0000000000000000000000000000000000000000', 77, $2::numeric, 100, 10, 3, 2, 50, 85,
                 $3::numeric, 35)",
    )
    .bind(run)
    .bind(onchain)
    .bind(variance)
    .bind(CHAIN as i64)
    .execute(pool)
    .await
    .unwrap();
    run
}

#[tokio::test]
async fn reconciliation_serves_the_latest_run_or_an_older_one_with_exact_figures() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let t = Some(token.as_str());
    let a = app.get("/v1/admin/monitoring/reconciliation", t).await;
    assert_eq!((a.status, a.code()), (404, "not_found"), "no run yet");

    let huge = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    let first = store_run(&app, "-5", "80").await;
    let second = store_run(&app, "0", huge).await;
    sqlx::query("INSERT INTO reconciler_firing (dedup_key, alert) VALUES ('custody:56:0x00', '{\"summary\": \"x\"}')")
        .execute(&app.db.pool)
        .await
        .unwrap();

    let a = app.get("/v1/admin/monitoring/reconciliation", t).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["run"]["id"], second);
    let r = &a.body["results"][0];
    assert_eq!(r["onchain_balance"], huge, "2^256 - 1 exactly");
    assert_eq!(
        (&r["variance"], &r["claims"], &r["token"]),
        (&json!("0"), &json!("3"), &json!(format!("0x{}", "0".repeat(40))))
    );
    assert_eq!(a.body["firing"][0]["dedup_key"], "custody:56:0x00");
    assert_eq!(a.body["run"]["alerts"][0]["severity"], "critical");

    let a = app.get(&format!("/v1/admin/monitoring/reconciliation?run_id={first}"), t).await;
    assert_eq!((a.status, &a.body["run"]["id"]), (200, &json!(first)));
    assert_eq!(a.body["results"][0]["variance"], "-5");
    for (query, status, code) in [
        ("?run_id=424242", 404, "not_found"),
        ("?run_id=abc", 400, "invalid_query"),
        ("?run_id=99999999999999999999999", 400, "invalid_query"),
        ("?run=1", 400, "invalid_query"),
    ] {
        let a = app.get(&format!("/v1/admin/monitoring/reconciliation{query}"), t).await;
        assert_eq!((a.status, a.code()), (status, code), "{query}: {}", a.body);
    }
}

/// Path, token, content type, body, allowed statuses, code ("" = any JSON body error).
type PostCase<'a> = (&'a str, Option<&'a str>, Option<&'a str>, String, &'a [u16], &'a str);

async fn raw_post(app: &TestApp, path: &str, token: Option<&str>, content_type: Option<&str>, body: String) -> Answer {
    let mut req = app.client.post(format!("{}{path}", app.base)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    app.send(req).await
}

#[tokio::test]
async fn hostile_monitoring_inputs_get_4xx_with_a_stable_code_and_change_nothing() {
    let app = spawn_app().await;
    app.register_in_ledger(&[(named("A"), genesis())]).await;
    let admin = app.admin_token().await;
    let user = app.signin(Chain::Evm, &PrivateKeySigner::random()).await["access_token"].as_str().unwrap().to_owned();
    let sqli = "'; DROP TABLE ops_requests; --";
    let xss = "<script>alert(1)</script>";
    let huge = "9".repeat(400);
    let replay = "/v1/admin/monitoring/replay";
    let reconcile = "/v1/admin/monitoring/reconcile";
    let json_ct = Some("application/json");
    let ok = json!({ "chain_id": CHAIN, "from_block": 1, "to_block": 2 }).to_string();

    let cases: Vec<PostCase<'_>> = vec![
        (replay, Some(&admin), json_ct, "{".into(), &[400], "malformed_json"),
        (replay, Some(&admin), json_ct, "".into(), &[400], "malformed_json"),
        (replay, Some(&admin), json_ct, "[]".into(), &[422], "invalid_body"),
        (replay, Some(&admin), json_ct, "null".into(), &[422], "invalid_body"),
        (replay, Some(&admin), json_ct, "{}".into(), &[422], "invalid_body"),
        (
            replay,
            Some(&admin),
            json_ct,
            json!({ "chain_id": "56", "from_block": 1, "to_block": 2 }).to_string(),
            &[422],
            "invalid_body",
        ),
        (
            replay,
            Some(&admin),
            json_ct,
            json!({ "chain_id": CHAIN, "from_block": -1, "to_block": 2 }).to_string(),
            &[422],
            "invalid_body",
        ),
        (
            replay,
            Some(&admin),
            json_ct,
            json!({ "chain_id": CHAIN, "from_block": 1.5, "to_block": 2 }).to_string(),
            &[422],
            "invalid_body",
        ),
        (
            replay,
            Some(&admin),
            json_ct,
            format!("{{\"chain_id\": 56, \"from_block\": {huge}, \"to_block\": 2}}"),
            &[400, 422],
            "",
        ),
        (
            replay,
            Some(&admin),
            json_ct,
            json!({ "chain_id": CHAIN, "from_block": 1, "to_block": 2, "force": true }).to_string(),
            &[422],
            "invalid_body",
        ),
        (
            replay,
            Some(&admin),
            json_ct,
            json!({ "chain_id": sqli, "from_block": 1, "to_block": 2 }).to_string(),
            &[422],
            "invalid_body",
        ),
        (
            replay,
            Some(&admin),
            json_ct,
            json!({ "chain_id": xss, "from_block": 1, "to_block": 2 }).to_string(),
            &[422],
            "invalid_body",
        ),
        (replay, Some(&admin), None, ok.clone(), &[415], "unsupported_media_type"),
        (replay, Some(&admin), Some("text/plain"), ok.clone(), &[415], "unsupported_media_type"),
        (replay, None, json_ct, ok.clone(), &[401], "missing_token"),
        (replay, Some("garbage"), json_ct, ok.clone(), &[401], "invalid_token"),
        (replay, Some(&user), json_ct, ok.clone(), &[403], "forbidden"),
        (reconcile, Some(&admin), json_ct, "{".into(), &[400], "malformed_json"),
        (reconcile, Some(&admin), json_ct, json!({ "now": true }).to_string(), &[422], "invalid_body"),
        // serde_json calls a sequence where a fieldless struct goes a syntax error.
        (reconcile, Some(&admin), json_ct, json!([sqli]).to_string(), &[400, 422], ""),
        (reconcile, Some(&admin), json_ct, json!({ "x": xss }).to_string(), &[422], "invalid_body"),
        (reconcile, None, json_ct, "{}".into(), &[401], "missing_token"),
        (reconcile, Some(&user), json_ct, "{}".into(), &[403], "forbidden"),
    ];
    let before = (app.db_state().await, count(&app.db.pool, "ops_requests").await);
    for (path, token, ct, body, statuses, code) in cases {
        let a = raw_post(&app, path, token, ct, body.clone()).await;
        assert!(statuses.contains(&a.status), "{path} {body}: {} {}", a.status, a.body);
        if code.is_empty() {
            assert!(a.code() == "malformed_json" || a.code() == "invalid_body", "{path} {body}: {}", a.body);
        } else {
            assert_eq!(a.code(), code, "{path} {body}: {}", a.body);
        }
    }
    let encoded_sqli = "%27%3B%20DROP%20TABLE%20ops_requests%3B%20--";
    for (path, token, status, code) in [
        (format!("/v1/admin/monitoring/requests/{encoded_sqli}"), Some(admin.as_str()), 400, "invalid_path"),
        ("/v1/admin/monitoring/requests/-1".to_owned(), Some(admin.as_str()), 404, "not_found"),
        (format!("/v1/admin/monitoring/requests/{huge}"), Some(admin.as_str()), 400, "invalid_path"),
        ("/v1/admin/monitoring/requests/1".to_owned(), Some(user.as_str()), 403, "forbidden"),
        ("/v1/admin/monitoring/requests/1".to_owned(), None, 401, "missing_token"),
        ("/v1/admin/monitoring/listeners".to_owned(), Some(user.as_str()), 403, "forbidden"),
        ("/v1/admin/monitoring/listeners".to_owned(), None, 401, "missing_token"),
        ("/v1/admin/monitoring/reconciliation".to_owned(), Some(user.as_str()), 403, "forbidden"),
        (
            format!("/v1/admin/monitoring/reconciliation?run_id={encoded_sqli}"),
            Some(admin.as_str()),
            400,
            "invalid_query",
        ),
        ("/v1/admin/monitoring/reconciliation?run_id=-1".to_owned(), Some(admin.as_str()), 404, "not_found"),
    ] {
        let a = app.get(&path, token).await;
        assert_eq!((a.status, a.code()), (status, code), "{path}: {}", a.body);
    }
    assert_eq!((app.db_state().await, count(&app.db.pool, "ops_requests").await), before, "nothing changed");
    // The table does still exist and works.
    let a = raw_post(&app, replay, Some(&admin), json_ct, ok).await;
    assert_eq!(a.status, 202, "{}", a.body);
}
