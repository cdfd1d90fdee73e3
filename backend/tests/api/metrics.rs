//! `GET /metrics` on `[application] metrics_address` (never the public port): request counters by route
//! template, latency, sign-in outcomes, and the ledger's business gauges — each moving when the thing happens.

use alloy::signers::local::PrivateKeySigner;
use serde_json::json;

use crate::common::ASSET;
use crate::helpers::Chain;
use crate::payouts::{SETTLEMENT, chain_settings, seed_chain, spawn_admin_app, spawn_signer};

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status_apart_from_the_public_port() {
    let app = crate::helpers::spawn_app().await;
    let health = r#"http_requests_total{route="/health",method="GET",status="200"}"#;
    let before = app.metric(health).await;
    for _ in 0..3 {
        assert_eq!(app.get("/health", None).await.status, 200);
    }
    assert_eq!(app.metric(health).await, before + 3.0);
    // A concrete path is counted under its template, an unknown one as `unmatched`: no unbounded labels.
    app.get(&format!("/v1/public/plan?asset_id={ASSET}"), None).await;
    assert_eq!(app.get("/v1/admin/payouts/batches/987654", None).await.status, 401);
    app.get("/no/such/path/0xabc", None).await;
    let text = app.metrics().await;
    assert!(text.contains(r#"route="/v1/public/plan",method="GET",status="200"}"#), "{text}");
    assert!(text.contains(r#"route="/v1/admin/payouts/batches/{id}",method="GET",status="401"} 1"#), "{text}");
    assert!(text.contains(r#"http_requests_total{route="unmatched",method="GET",status="404"} 1"#), "{text}");
    assert!(!text.contains("987654") && !text.contains("0xabc"), "no concrete path in a label");
    assert!(text.contains(r#"http_request_duration_seconds_count{route="/health",method="GET"}"#));
    assert!(text.contains("http_requests_in_flight "));
    // The public port does not serve them.
    assert_eq!(app.get("/metrics", None).await.status, 404);
}

#[tokio::test]
async fn sign_in_outcomes_are_counted() {
    let app = crate::helpers::spawn_app().await;
    let ok = r#"api_sign_ins_total{outcome="ok"}"#;
    let bad = r#"api_sign_ins_total{outcome="bad_signature"}"#;
    let wallet = PrivateKeySigner::random();
    app.signin(Chain::Evm, &wallet).await;
    let message = app.nonce(Chain::Evm, &wallet).await;
    let other = PrivateKeySigner::random();
    let refused = app.signin_with(&message, &Chain::Evm.sign(&other, &message)).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!((app.metric(ok).await, app.metric(bad).await), (1.0, 1.0));
}

#[tokio::test]
async fn business_gauges_follow_the_ledger_as_rewards_are_batched() {
    let signer = spawn_signer(SETTLEMENT, vec![]).await;
    let app = spawn_admin_app(&signer, chain_settings(SETTLEMENT)).await;
    seed_chain(&app, 3).await; // 18 BNB pending for each of three users
    let symbol: String = sqlx::query_scalar("SELECT symbol FROM assets WHERE id = $1")
        .bind(ASSET)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let series = |name: &str, extra: &str| format!(r#"{name}{{asset_id="{ASSET}",symbol="{symbol}"{extra}}}"#);
    let pending = series("ledger_liabilities", r#",status="pending""#);
    let batched = series("ledger_liabilities", r#",status="batched""#);
    let building = series("payout_batches", r#",status="building""#);
    assert!(app.metrics().await.contains(&format!("{building} 0")), "every status is shown, 0 included");
    assert_eq!(app.metric(&pending).await, 54.0);
    assert_eq!(app.metric(&series("payout_queue_users", "")).await, 3.0);
    assert!(app.metric(&series("ledger_oldest_pending_reward_age_seconds", "")).await > 0.0);
    let token = app.admin_token().await;
    let built =
        app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET, "max_entries": 2 })).await;
    assert_eq!(built.status, 201, "{}", built.body);
    assert_eq!((app.metric(&pending).await, app.metric(&batched).await), (18.0, 36.0));
    assert_eq!(app.metric(&building).await, 1.0);
    assert_eq!(app.metric(&series("payout_queue_users", "")).await, 1.0);
    assert_eq!(app.metric(&series("payout_transactions_total", r#",outcome="mined""#)).await, 0.0);
    assert_eq!(app.metric(&series("payout_oldest_open_batch_age_seconds", "")).await, 0.0, "not signed yet");

    // Proposed for staff approval and left waiting: its age since the proposal.
    let waiting = series("authorisations_waiting_seconds", "");
    assert_eq!(app.metric(&waiting).await, 0.0, "nothing proposed yet");
    let id = built.body["id"].as_i64().unwrap();
    let proposal = json!({ "kind": "payout_batch", "subject": id });
    let p = app.post_admin("/v1/admin/authorisations", &token, proposal).await;
    assert_eq!(p.status, 200, "{}", p.body);
    sqlx::query("UPDATE authorisations SET proposed_at = now() - interval '1 hour'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let age = app.metric(&waiting).await;
    assert!((3600.0..3700.0).contains(&age), "{age}");
}
