//! Admin freeze/unfreeze and the audit log; role checks.

use alloy::signers::local::PrivateKeySigner;
use serde_json::json;

use crate::common::{ASSET, genesis, named};
use crate::helpers::{Chain, spawn_app};

#[tokio::test]
async fn admin_freezes_and_unfreezes_a_user_and_the_audit_log_shows_it() {
    let app = spawn_app().await;
    let w = named("W");
    app.register_in_ledger(&[(w, genesis()), (named("R1"), w)]).await;
    let admin = app.signin(Chain::Evm, &app.admin).await;
    let token = admin["access_token"].as_str();
    let admin_addr = app.admin.address().to_checksum(None);
    let lower = format!("{w:#x}");

    let a = app
        .post_as(
            &format!("/v1/admin/users/{lower}/freeze"),
            token,
            json!({ "asset_id": ASSET, "reason": "support ticket 1" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, json!({ "asset_id": ASSET, "address": w.to_checksum(None), "frozen": true }));
    let (frozen, held): (bool, String) = sqlx::query_as(
        "SELECT u.frozen, b.held::text FROM users u JOIN user_balances b USING (asset_id, user_no) WHERE u.address = $1",
    )
    .bind(w.as_slice())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((frozen, held.as_str()), (true, "18000000000000000000"));

    // Again: nothing to do. Unknown user and asset: 422. All without new audit rows.
    let a = app
        .post_as(
            &format!("/v1/admin/users/{lower}/freeze"),
            token,
            json!({ "asset_id": ASSET, "reason": "support ticket 1" }),
        )
        .await;
    assert_eq!((a.status, a.code()), (409, "no_change"), "{}", a.body);
    let stranger = format!("{:#x}", named("nobody"));
    let a = app
        .post_as(
            &format!("/v1/admin/users/{stranger}/freeze"),
            token,
            json!({ "asset_id": ASSET, "reason": "support ticket 1" }),
        )
        .await;
    assert_eq!((a.status, a.code()), (422, "unknown_user"), "{}", a.body);
    let a = app
        .post_as(
            &format!("/v1/admin/users/{lower}/freeze"),
            token,
            json!({ "asset_id": 77, "reason": "support ticket 1" }),
        )
        .await;
    assert_eq!((a.status, a.code()), (422, "unknown_asset"), "{}", a.body);

    // TRON form of the same wallet.
    let tron = abi::tron::to_base58(w);
    let a = app
        .post_as(
            &format!("/v1/admin/users/{tron}/unfreeze"),
            token,
            json!({ "asset_id": ASSET, "reason": "support ticket 1" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["frozen"], false);

    let log = app.get("/v1/admin/audit", token).await;
    assert_eq!(log.status, 200, "{}", log.body);
    let items = log.body["items"].as_array().unwrap();
    // The oldest entry is the admin's seed from the configuration (every role, on the empty staff table).
    assert_eq!(items.len(), 3, "{}", log.body);
    assert_eq!(log.body["next_cursor"], serde_json::Value::Null);
    assert_eq!(items[0]["action"], "unfreeze");
    assert_eq!(items[1]["action"], "freeze");
    assert_eq!((items[2]["action"].as_str(), items[2]["actor"].as_str()), (Some("staff_seed"), Some("configuration")));
    assert_eq!(items[2]["target"], format!("staff:{admin_addr}"));
    for item in &items[..2] {
        assert_eq!(item["actor"], admin_addr);
        assert_eq!(item["asset_id"], ASSET);
        assert_eq!(item["applied_events"], 2);
        assert!(item["created_at"].as_str().unwrap().ends_with('Z'), "{item}");
    }
    assert_eq!(items[1]["before"]["frozen"], false);
    assert_eq!(items[1]["after"]["frozen"], true);
    assert_eq!(items[1]["after"]["held"], "18000000000000000000");
    assert_eq!(items[0]["after"]["pending"], "18000000000000000000");
    assert_eq!(items[1]["after"]["reason"], "support ticket 1");

    // Keyset pages of one.
    let first = app.get("/v1/admin/audit?limit=1", token).await;
    assert_eq!(first.body["items"][0]["action"], "unfreeze");
    let cursor = first.body["next_cursor"].as_i64().unwrap();
    let second = app.get(&format!("/v1/admin/audit?limit=1&cursor={cursor}"), token).await;
    assert_eq!(second.body["items"][0]["action"], "freeze");
    assert!(second.body["next_cursor"].is_i64(), "the seed's entry is older: {}", second.body);

    // Filters (the console's, issue 66): one action, one actor (a wallet in any case, or a service), people or
    // services; pages of a filter keep to it.
    let actions_of = |body: &serde_json::Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(|i| i["action"].as_str().unwrap().to_owned()).collect()
    };
    let a = app.get("/v1/admin/audit?action=freeze", token).await;
    assert_eq!((a.status, actions_of(&a.body)), (200, vec!["freeze".to_owned()]), "{}", a.body);
    let a = app.get("/v1/admin/audit?by=staff", token).await;
    assert_eq!(actions_of(&a.body), ["unfreeze", "freeze"], "{}", a.body);
    let a = app.get("/v1/admin/audit?by=services", token).await;
    assert_eq!(actions_of(&a.body), ["staff_seed"], "{}", a.body);
    let lower = admin_addr.to_lowercase();
    let a = app.get(&format!("/v1/admin/audit?actor={lower}&limit=1"), token).await;
    assert_eq!(actions_of(&a.body), ["unfreeze"], "{}", a.body);
    let cursor = a.body["next_cursor"].as_i64().unwrap();
    let a = app.get(&format!("/v1/admin/audit?actor={lower}&limit=1&cursor={cursor}"), token).await;
    assert_eq!(actions_of(&a.body), ["freeze"], "{}", a.body);
    assert_eq!(a.body["next_cursor"], serde_json::Value::Null, "the filter's last page: {}", a.body);
    let a = app.get("/v1/admin/audit?actor=configuration&action=staff_seed", token).await;
    assert_eq!(actions_of(&a.body), ["staff_seed"], "{}", a.body);
    let a = app.get("/v1/admin/audit?action=freeze&by=services", token).await;
    assert_eq!(actions_of(&a.body), Vec::<String>::new(), "{}", a.body);
    // Every action with its count, for the filter's list.
    let a = app.get("/v1/admin/audit/actions", token).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["actions"],
        json!([{ "action": "freeze", "count": 1 }, { "action": "staff_seed", "count": 1 }, { "action": "unfreeze", "count": 1 }])
    );
    let a = app.get("/v1/admin/audit/actions?by=staff", token).await;
    assert_eq!(a.body["actions"], json!([{ "action": "freeze", "count": 1 }, { "action": "unfreeze", "count": 1 }]));
    // A filter that is no code, no wallet or too long is refused, and nothing is read.
    let long = "a".repeat(65);
    for bad in [
        "action=Freeze".to_owned(),
        "action=freeze%20or%201%3D1".to_owned(),
        "actor=0x12".to_owned(),
        "by=robots".to_owned(),
    ] {
        let a = app.get(&format!("/v1/admin/audit?{bad}"), token).await;
        assert_eq!((a.status, a.code()), (400, "invalid_query"), "{bad}: {}", a.body);
    }
    // Longer than its bound: refused while the query is read (422, as every over-long field), before any check.
    for bad in [format!("action={long}"), format!("actor={long}")] {
        let a = app.get(&format!("/v1/admin/audit?{bad}"), token).await;
        assert_eq!((a.status, a.code()), (422, "invalid_query"), "{bad}: {}", a.body);
    }
    let a = app.get("/v1/admin/audit/actions?by=robots", token).await;
    assert_eq!((a.status, a.code()), (400, "invalid_query"), "{}", a.body);
}

#[tokio::test]
async fn admin_routes_need_the_admin_role() {
    let app = spawn_app().await;
    let w = named("W");
    app.register_in_ledger(&[(w, genesis())]).await;
    let user = app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
    let before = app.db_state().await;
    for action in ["freeze", "unfreeze"] {
        let path = format!("/v1/admin/users/{w:#x}/{action}");
        let a = app.post_as(&path, None, json!({ "asset_id": ASSET })).await;
        assert_eq!((a.status, a.code()), (401, "missing_token"), "{path}");
        let a = app.post_as(&path, user["access_token"].as_str(), json!({ "asset_id": ASSET })).await;
        assert_eq!((a.status, a.code()), (403, "forbidden"), "{path}");
    }
    let a = app.get("/v1/admin/audit", None).await;
    assert_eq!((a.status, a.code()), (401, "missing_token"));
    let a = app.get("/v1/admin/audit", user["access_token"].as_str()).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"));
    assert_eq!(app.db_state().await, before);
}
