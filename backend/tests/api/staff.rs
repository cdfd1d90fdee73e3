//! Staff roles (issue 45, backend/STAFF.md §2): the seed, changes proposed by an admin and approved by another
//! approver, the last admin, a role revoked stopping at once, and every admin route checking its role.

use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::helpers::{Chain, TestApp, spawn_app};

struct Wallet {
    key: PrivateKeySigner,
    token: String,
}

impl Wallet {
    fn address(&self) -> String {
        self.key.address().to_checksum(None)
    }
}

async fn signed_in(app: &TestApp, key: PrivateKeySigner) -> Wallet {
    let pair = app.signin(Chain::Evm, &key).await;
    Wallet { key, token: pair["access_token"].as_str().unwrap().to_owned() }
}

async fn propose(app: &TestApp, by: &Wallet, action: &str, wallet: &str, role: &str) -> crate::helpers::Answer {
    let body = json!({ "action": action, "wallet": wallet, "role": role, "reason": format!("{action} {role}") });
    app.post_as("/v1/admin/staff/changes", Some(&by.token), body).await
}

async fn decide(app: &TestApp, by: &Wallet, id: i64, what: &str, body: Value) -> crate::helpers::Answer {
    app.post_as(&format!("/v1/admin/staff/changes/{id}/{what}"), Some(&by.token), body).await
}

async fn roles(app: &TestApp, who: &Wallet) -> Vec<String> {
    let ping = app.get("/v1/admin/ping", Some(&who.token)).await;
    if ping.status == 403 {
        return Vec::new();
    }
    assert_eq!(ping.status, 200, "{}", ping.body);
    serde_json::from_value(ping.body["roles"].clone()).unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT actor, action, target FROM audit_logs WHERE action LIKE 'staff%' ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn roles_change_only_through_an_approver_other_than_the_proposer() {
    let app = spawn_app().await;
    // The configured admin holds every role, seeded once; its sign-in says so.
    let pair = app.signin(Chain::Evm, &app.admin).await;
    assert_eq!(pair["role"], "admin");
    assert_eq!(pair["roles"], json!(["viewer", "support", "finance", "approver", "admin", "catalogue"]));
    let admin = Wallet { key: app.admin.clone(), token: pair["access_token"].as_str().unwrap().to_owned() };
    let member = app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
    assert_eq!((member["role"].as_str(), member["roles"].clone()), (Some("user"), json!([])));

    let finance = signed_in(&app, PrivateKeySigner::random()).await;
    let approver = signed_in(&app, PrivateKeySigner::random()).await;
    let viewer = signed_in(&app, PrivateKeySigner::random()).await;

    // A team of one: no wallet but the proposer holds approver, so the first grants apply at once, and say why.
    let a = propose(&app, &admin, "grant", &finance.address(), "finance").await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["status"], "applied");
    assert!(a.body["decision_reason"].as_str().unwrap().contains("team of one"), "{}", a.body);
    let a = propose(&app, &admin, "grant", &approver.address(), "approver").await;
    assert_eq!(a.body["status"], "applied", "{}", a.body);
    assert_eq!(roles(&app, &finance).await, ["finance"], "a role granted works with the token already issued");
    assert_eq!(roles(&app, &approver).await, ["approver"]);

    // From now on a second person decides. The proposer cannot approve or reject their own change.
    let a = propose(&app, &admin, "grant", &viewer.address(), "viewer").await;
    assert_eq!((a.status, a.body["status"].as_str()), (201, Some("proposed")), "{}", a.body);
    let id = a.body["id"].as_i64().unwrap();
    assert!(roles(&app, &viewer).await.is_empty(), "nothing applies before the approval");
    let again = propose(&app, &admin, "grant", &viewer.address(), "viewer").await;
    assert_eq!((again.status, again.code()), (409, "change_proposed"), "{}", again.body);
    let own = decide(&app, &admin, id, "approve", json!({})).await;
    assert_eq!((own.status, own.code()), (403, "own_proposal"), "{}", own.body);
    let own = decide(&app, &admin, id, "reject", json!({ "reason": "no" })).await;
    assert_eq!((own.status, own.code()), (403, "own_proposal"), "{}", own.body);
    // Neither finance nor a member may decide or propose.
    let a = decide(&app, &finance, id, "approve", json!({})).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "{}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("the approver role"), "{}", a.body);
    let a = propose(&app, &finance, "grant", &finance.address(), "admin").await;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "{}", a.body);
    // The open change is listed with who proposed it.
    let list = app.get("/v1/admin/staff", Some(&approver.token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["open_changes"][0]["id"], id);
    assert_eq!(list.body["open_changes"][0]["proposer"], admin.address());
    // The approver approves: the viewer reads every console page.
    let a = decide(&app, &approver, id, "approve", json!({})).await;
    assert_eq!((a.status, a.body["status"].as_str()), (200, Some("applied")), "{}", a.body);
    assert_eq!(a.body["decided_by"], approver.address());
    assert_eq!(roles(&app, &viewer).await, ["viewer"]);
    let twice = decide(&app, &approver, id, "approve", json!({})).await;
    assert_eq!((twice.status, twice.code()), (409, "change_decided"), "{}", twice.body);
    let unknown = decide(&app, &approver, 999_999, "approve", json!({})).await;
    assert_eq!((unknown.status, unknown.code()), (404, "unknown_change"), "{}", unknown.body);

    // A rejection needs a reason; a withdrawal is the proposer's only.
    let a = propose(&app, &admin, "grant", &viewer.address(), "support").await;
    let id = a.body["id"].as_i64().unwrap();
    let a = decide(&app, &approver, id, "reject", json!({ "reason": "  " })).await;
    assert_eq!((a.status, a.code()), (422, "reason_required"), "{}", a.body);
    let a = decide(&app, &approver, id, "reject", json!({ "reason": "support is full" })).await;
    assert_eq!(
        (a.body["status"].as_str(), a.body["decision_reason"].as_str()),
        (Some("rejected"), Some("support is full"))
    );
    assert_eq!(roles(&app, &viewer).await, ["viewer"]);
    let a = propose(&app, &admin, "grant", &viewer.address(), "support").await;
    let id = a.body["id"].as_i64().unwrap();
    let a = decide(&app, &approver, id, "withdraw", json!({})).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "{}", a.body);
    let a = decide(&app, &admin, id, "withdraw", json!({})).await;
    assert_eq!(a.body["status"], "withdrawn", "{}", a.body);

    // A revocation approved stops the role at once, on the token issued before.
    let a = propose(&app, &admin, "revoke", &viewer.address(), "viewer").await;
    let id = a.body["id"].as_i64().unwrap();
    assert_eq!(app.get("/v1/admin/audit", Some(&viewer.token)).await.status, 200);
    decide(&app, &approver, id, "approve", json!({})).await;
    let a = app.get("/v1/admin/audit", Some(&viewer.token)).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"), "{}", a.body);

    // Nothing to do, a bad role, a bad wallet, no reason: refused, nothing recorded.
    let before = app.db_state().await;
    let a = propose(&app, &admin, "revoke", &viewer.address(), "viewer").await;
    assert_eq!((a.status, a.code()), (409, "no_change"), "{}", a.body);
    let a = propose(&app, &admin, "grant", &finance.address(), "finance").await;
    assert_eq!((a.status, a.code()), (409, "no_change"), "{}", a.body);
    let a = propose(&app, &admin, "grant", &finance.address(), "root").await;
    assert_eq!((a.status, a.code()), (422, "invalid_body"), "{}", a.body);
    let a = propose(&app, &admin, "grant", "0x1234", "viewer").await;
    assert_eq!((a.status, a.code()), (422, "invalid_address"), "{}", a.body);
    let body = json!({ "action": "grant", "wallet": finance.address(), "role": "viewer", "reason": "" });
    let a = app.post_as("/v1/admin/staff/changes", Some(&admin.token), body).await;
    assert_eq!((a.status, a.code()), (422, "reason_required"), "{}", a.body);
    let body = json!({ "action": "grant", "wallet": finance.address(), "role": "viewer", "reason": "x".repeat(501) });
    let a = app.post_as("/v1/admin/staff/changes", Some(&admin.token), body).await;
    assert_eq!((a.status, a.code()), (422, "invalid_body"), "{}", a.body);
    assert_eq!(app.db_state().await, before);

    // Every step is in the audit log, by who took it.
    let log = audit_actions(&app).await;
    let steps: Vec<&str> = log.iter().map(|(_, action, _)| action.as_str()).collect();
    assert_eq!(steps[0], "staff_seed");
    assert_eq!(steps.iter().filter(|a| **a == "staff_role_propose").count(), 6, "{steps:?}");
    assert_eq!(steps.iter().filter(|a| **a == "staff_role_apply").count(), 4, "{steps:?}");
    assert_eq!(steps.iter().filter(|a| **a == "staff_role_reject").count(), 1, "{steps:?}");
    assert_eq!(steps.iter().filter(|a| **a == "staff_role_withdraw").count(), 1, "{steps:?}");
    let approved = log.iter().find(|(_, a, t)| a == "staff_role_apply" && t.ends_with(":viewer")).unwrap();
    assert_eq!(approved.0, approver.address());
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed_even_by_two_approvals_at_once() {
    let app = spawn_app().await;
    let admin = signed_in(&app, app.admin.clone()).await;
    let second = signed_in(&app, PrivateKeySigner::random()).await;
    let approver = signed_in(&app, PrivateKeySigner::random()).await;
    // Alone, the admin cannot revoke its own admin role.
    let a = propose(&app, &admin, "revoke", &admin.address(), "admin").await;
    assert_eq!((a.status, a.code()), (409, "last_admin"), "{}", a.body);
    propose(&app, &admin, "grant", &approver.address(), "approver").await;
    let a = propose(&app, &admin, "grant", &second.address(), "admin").await;
    decide(&app, &approver, a.body["id"].as_i64().unwrap(), "approve", json!({})).await;
    assert!(roles(&app, &second).await.contains(&"admin".to_owned()));

    // Each admin proposes to revoke the other; the approver approves both at the same moment: one applies, the
    // other finds the last admin.
    let one = propose(&app, &admin, "revoke", &second.address(), "admin").await;
    let two = propose(&app, &second, "revoke", &admin.address(), "admin").await;
    assert_eq!((one.body["status"].as_str(), two.body["status"].as_str()), (Some("proposed"), Some("proposed")));
    let (x, y) = tokio::join!(
        decide(&app, &approver, one.body["id"].as_i64().unwrap(), "approve", json!({})),
        decide(&app, &approver, two.body["id"].as_i64().unwrap(), "approve", json!({})),
    );
    let mut outcomes = [(x.status, x.code().to_owned()), (y.status, y.code().to_owned())];
    outcomes.sort();
    assert_eq!(outcomes[0].0, 200, "{outcomes:?}");
    assert_eq!(outcomes[1], (409, "last_admin".to_owned()), "{outcomes:?}");
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM staff_roles WHERE role = 'admin'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(admins, 1);
    // Below the API, the table refuses it too.
    let deleted = sqlx::query("DELETE FROM staff_roles WHERE role = 'admin'").execute(&app.db.pool).await;
    assert!(deleted.unwrap_err().to_string().contains("the last admin cannot be removed"));
}

/// A path of the route table with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{address}", "0x000000000000000000000000000000000000dEaD")
        .replace("{chain_id}", "31337")
        .replace("{tx_hash}", &format!("0x{}", "ab".repeat(32)))
        .replace("{log_index}", "0")
        .replace("{notification_id}", "payment.applied:1:ab:0")
}

#[tokio::test]
async fn every_admin_route_checks_its_role() {
    let app = spawn_app().await;
    let admin = signed_in(&app, app.admin.clone()).await;
    let viewer = signed_in(&app, PrivateKeySigner::random()).await;
    let support = signed_in(&app, PrivateKeySigner::random()).await;
    propose(&app, &admin, "grant", &viewer.address(), "viewer").await;
    propose(&app, &admin, "grant", &support.address(), "support").await;
    let member = signed_in(&app, PrivateKeySigner::random()).await;
    let admin_routes: Vec<&(String, String)> = app.routes.iter().filter(|(_, p)| p.starts_with("/v1/admin/")).collect();
    assert!(admin_routes.len() >= 30, "{admin_routes:?}");
    let before = app.db_state().await;
    for (method, path) in admin_routes {
        let url = format!("{}{}", app.base, concrete(path));
        let send = |token: &str| {
            let req = match method.as_str() {
                "GET" => app.client.get(&url),
                other => app.client.request(other.parse().unwrap(), &url).json(&json!({})),
            };
            app.send(req.bearer_auth(token.to_owned()))
        };
        // A member is refused every admin route.
        let a = send(&member.token).await;
        assert_eq!((a.status, a.code()), (403, "forbidden"), "{method} {path}: {}", a.body);
        // A viewer reads every page and is refused every change, before its body is even read.
        let a = send(&viewer.token).await;
        if method == "GET" {
            assert_ne!(a.status, 403, "{method} {path}: {}", a.body);
        } else {
            assert_eq!((a.status, a.code()), (403, "forbidden"), "{method} {path}: {}", a.body);
        }
    }
    assert_eq!(app.db_state().await, before, "no refused request changed anything");
    // Support changes only a member's frozen state (and, like any role but a viewer's, acknowledges alerts and asks
    // for replays and reconciliations: the one allowed here with an empty body queues a reconciliation).
    for (method, path) in app.routes.iter().filter(|(m, p)| m == "POST" && p.starts_with("/v1/admin/")) {
        let url = format!("{}{}", app.base, concrete(path));
        let a = app.send(app.client.post(&url).json(&json!({})).bearer_auth(&support.token)).await;
        let supports = ["/freeze", "/unfreeze", "/ack", "/monitoring/replay", "/monitoring/reconcile"];
        if supports.iter().any(|s| path.ends_with(s)) {
            assert_ne!(a.status, 403, "{method} {path}: {}", a.body);
        } else {
            assert_eq!((a.status, a.code()), (403, "forbidden"), "{method} {path}: {}", a.body);
        }
    }
}
