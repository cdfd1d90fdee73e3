//! The OpenAPI document and the docs page.

use crate::helpers::spawn_app;

#[tokio::test]
async fn openapi_lists_the_routes_and_docs_page_is_served() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/v1/auth/nonce",
        "/v1/auth/signin",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/users/me",
        "/v1/admin/ping",
        "/v1/public/plan",
        "/v1/public/disclosure",
        "/v1/public/chains",
        "/v1/users/referrals",
        "/v1/users/tree",
        "/v1/users/history",
        "/v1/users/register",
        "/v1/users/retopup",
        "/v1/admin/users/{address}/freeze",
        "/v1/admin/users/{address}/unfreeze",
        "/v1/admin/audit",
        "/v1/admin/payouts/pending",
        "/v1/admin/payouts/batches",
        "/v1/admin/payouts/batches/{id}",
        "/v1/admin/payouts/batches/{id}/sign",
        "/v1/admin/payouts/batches/{id}/submit",
        "/v1/admin/payouts/batches/{id}/retry",
        "/v1/admin/payouts/batches/{id}/cancel",
        "/v1/admin/treasury",
        "/v1/admin/treasury/transfers",
        "/v1/admin/monitoring/reconciliation",
        "/v1/admin/monitoring/listeners",
        "/v1/admin/monitoring/replay",
        "/v1/admin/monitoring/reconcile",
        "/v1/admin/monitoring/requests/{id}",
        "/v1/users/register/confirm",
        "/v1/users/withdraw",
        "/v1/pool/summary",
        "/v1/pool/queue",
        "/v1/pool/nodes",
        "/v1/admin/pool/placements",
        "/v1/admin/plan",
        "/v1/admin/logs",
        "/v1/admin/alerts/{id}/ack",
        "/v1/admin/withdrawals",
    ] {
        assert!(paths.contains_key(path), "{path} missing from {:?}", paths.keys().collect::<Vec<_>>());
    }
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
    // The build answer documents the batch and the limits it was built within; entries say why they were cut.
    let schemas = &doc.body["components"]["schemas"];
    let build = serde_json::to_string(&schemas["BuildAnswer"]).unwrap();
    assert!(build.contains("BatchView") && build.contains("limits"), "{build}");
    for field in ["daily_room", "max_entry", "daily_room_grows_at"] {
        assert!(schemas["BuildLimitsView"]["properties"][field].is_object(), "BuildLimitsView.{field}");
    }
    for field in ["owed", "limited_by"] {
        assert!(schemas["BatchEntry"]["properties"][field].is_object(), "BatchEntry.{field}");
    }
    for field in ["left_out", "left_out_by_reason", "left_out_count", "partial_count"] {
        assert!(schemas["BatchView"]["properties"][field].is_object(), "BatchView.{field}");
    }
    let page = app.client.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<html") && html.contains("/v1/auth/signin"), "docs page does not embed the spec");
}

#[tokio::test]
async fn unknown_paths_answer_json_404() {
    let app = spawn_app().await;
    let a = app.get("/v1/nope", None).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));
}
