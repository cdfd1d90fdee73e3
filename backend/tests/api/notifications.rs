//! Issue 49: the outbox the ledger's triggers write, the members' notification centre, webhooks signed per the
//! Standard Webhooks specification to a real HTTP receiver on loopback, and e-mail through the real SMTP server
//! (`scripts/mail.sh`, Postfix) read back from its Maildir — confirm and unsubscribe from the delivered links.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use axum::http::HeaderMap;
use backend::config::{NotificationsSettings, Settings};
use backend::notify::Notifier;
use serde_json::{Value, json};

use anvil_tests::mail::{header, link, mailbox};

use crate::common::{ASSET, genesis, named};
use crate::helpers::{Chain, TestApp, notifications, spawn_app_configured};

async fn app_with(allow_local: bool) -> TestApp {
    spawn_app_configured("redis://127.0.0.1:6379", |s| s.notifications = Some(notifications(allow_local, 3600))).await
}

/// A notifier over the app's database with `[notifications]` as given.
fn notifier(app: &TestApp, settings: NotificationsSettings) -> Notifier {
    let mut all: Settings = crate::helpers::settings("redis://127.0.0.1:6379", app.admin.address());
    all.notifications = Some(settings);
    Notifier::from_settings(&all, app.db.pool.clone()).unwrap()
}

/// Runs notifier rounds until `done` holds (polled), at most 20 s.
async fn rounds_until(notifier: &Notifier, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "not within 20 s: {what}");
        notifier.round().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ids_of(app: &TestApp, sql: &'static str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(&app.db.pool).await.unwrap()
}

#[tokio::test]
async fn the_centre_shows_a_members_notifications_pages_them_and_marks_them_read() {
    let app = app_with(true).await;
    let alice = PrivateKeySigner::random();
    let bob = PrivateKeySigner::random();
    app.register_in_ledger(&[
        (alice.address(), genesis()),
        (bob.address(), alice.address()),
        (named("C"), bob.address()),
    ])
    .await;
    let token = app.signin(Chain::Evm, &alice).await["access_token"].as_str().unwrap().to_owned();
    let page = app.get("/v1/users/notifications?limit=100", Some(&token)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let items = page.body["items"].as_array().unwrap().clone();
    let kinds: Vec<&str> = items.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"payment.applied"), "{kinds:?}");
    // Her rewards: one notification per block, their sum what the ledger credited her.
    let credited: Vec<u128> = items
        .iter()
        .filter(|n| n["kind"] == "reward.credited")
        .map(|n| n["data"]["amount"].as_str().unwrap().parse().unwrap())
        .collect();
    let ledger_sum: String = sqlx::query_scalar(
        "SELECT coalesce(sum(r.amount), 0)::text FROM rewards r JOIN users u
           ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no WHERE u.address = $1",
    )
    .bind(alice.address().as_slice())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(!credited.is_empty());
    assert_eq!(credited.iter().sum::<u128>().to_string(), ledger_sum);
    let blocks: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT e.block_number FROM rewards r JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
           JOIN chain_events e ON e.asset_id = r.asset_id AND e.event_seq = r.event_seq WHERE u.address = $1",
    )
    .bind(alice.address().as_slice())
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        credited.len(),
        blocks.len(),
        "one notification per member and block (each applied alone), not per reward row"
    );
    // Nobody else's personal notification is hers.
    assert!(items.iter().all(|n| n["news"] == false));
    let payment = items.iter().find(|n| n["kind"] == "payment.applied").unwrap();
    assert_eq!(payment["data"]["payment"], "registration");
    assert!(payment["data"]["tx_hash"].as_str().unwrap().starts_with("0x"));

    let unread = page.body["unread"].as_i64().unwrap();
    assert_eq!(unread, items.len() as i64);
    // Pages: one at a time, newest first, the cursor continuing below.
    let first = app.get("/v1/users/notifications?limit=1", Some(&token)).await;
    assert_eq!(first.body["items"][0]["id"], items[0]["id"]);
    let cursor = first.body["next_cursor"].as_i64().unwrap();
    let second = app.get(&format!("/v1/users/notifications?limit=1&cursor={cursor}"), Some(&token)).await;
    assert_eq!(second.body["items"][0]["id"], items[1]["id"]);

    // Marking one read; another member's id is ignored; then all.
    let bob_ids: Vec<String> = sqlx::query_scalar(
        "SELECT n.id FROM notifications n JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.user_no
          WHERE u.address = $1",
    )
    .bind(bob.address().as_slice())
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(!bob_ids.is_empty());
    let a =
        app.post_as("/v1/users/notifications/read", Some(&token), json!({ "ids": [items[0]["id"], bob_ids[0]] })).await;
    assert_eq!((a.status, a.body["unread"].as_i64()), (200, Some(unread - 1)), "{}", a.body);
    let bob_token = app.signin(Chain::Evm, &bob).await["access_token"].as_str().unwrap().to_owned();
    let bobs = app.get("/v1/users/notifications", Some(&bob_token)).await;
    assert_eq!(bobs.body["unread"].as_i64(), Some(bob_ids.len() as i64), "her marking does not read his");
    let unread_only = app.get("/v1/users/notifications?unread=true&limit=100", Some(&token)).await;
    assert_eq!(unread_only.body["items"].as_array().unwrap().len() as i64, unread - 1);
    assert!(unread_only.body["items"].as_array().unwrap().iter().all(|n| n["read"] == false));
    for bad in [
        json!({ "ids": ["x"], "all": true }),
        json!({}),
        json!({ "ids": vec!["x"; 101] }),
        json!({ "ids": ["x".repeat(201)] }),
    ] {
        let a = app.post_as("/v1/users/notifications/read", Some(&token), bad.clone()).await;
        assert_eq!(a.status, 422, "{bad}: {}", a.body);
    }
    let a = app.post_as("/v1/users/notifications/read", Some(&token), json!({ "all": true })).await;
    assert_eq!(a.body["unread"].as_i64(), Some(0));

    // A freeze is a new, unread notification of its own.
    let admin = app.admin_token().await;
    let lower = format!("{:#x}", alice.address());
    let a = app
        .post_admin(
            &format!("/v1/admin/users/{lower}/freeze"),
            &admin,
            json!({ "asset_id": ASSET, "reason": "ticket 7" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let page = app.get("/v1/users/notifications", Some(&token)).await;
    assert_eq!(
        (page.body["items"][0]["kind"].as_str(), page.body["unread"].as_i64()),
        (Some("account.frozen"), Some(1))
    );
    // News of her asset (two proofs of solvency committed, as the ledger's trigger writes them): not among the default
    // groups nor in the badge's count, the latest one named in `latest_news`; `groups=news` lists them (issue 66).
    for epoch in [1, 2] {
        sqlx::query(
            "INSERT INTO notifications (id, kind, asset_id, data)
             VALUES ($1, 'solvency.committed', $2, jsonb_build_object('epoch', $3::int))",
        )
        .bind(format!("solvency.committed:{ASSET}:{epoch}"))
        .bind(ASSET)
        .bind(epoch)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    let page = app.get("/v1/users/notifications?limit=100", Some(&token)).await;
    assert!(page.body["items"].as_array().unwrap().iter().all(|n| n["kind"] != "solvency.committed"), "{}", page.body);
    assert_eq!(page.body["unread"].as_i64(), Some(1), "the freeze; news is not counted");
    assert_eq!(page.body["unread_by_group"], json!({ "money": 0, "account": 1, "news": 2 }));
    let latest = page.body["latest_news"].as_array().unwrap();
    assert_eq!((latest.len(), &latest[0]["data"]["epoch"], &latest[0]["news"]), (1, &json!(2), &json!(true)));
    let news = app.get("/v1/users/notifications?groups=news", Some(&token)).await;
    let kinds: Vec<&str> = news.body["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!((kinds, news.body["unread"].as_i64()), (vec!["solvency.committed"; 2], Some(2)));
    let both = app.get("/v1/users/notifications?groups=account,news", Some(&token)).await;
    assert_eq!((both.body["items"].as_array().unwrap().len(), both.body["unread"].as_i64()), (3, Some(3)));
    for (bad, status) in [("gossip", 400), ("money,", 400), (&*"x".repeat(40), 422)] {
        let a = app.get(&format!("/v1/users/notifications?groups={bad}"), Some(&token)).await;
        assert_eq!((a.status, a.body["error"]["code"].as_str()), (status, Some("invalid_query")), "{bad}: {}", a.body);
    }
    let a = app.post_as("/v1/users/notifications/read", Some(&token), json!({ "all": true })).await;
    assert_eq!((a.body["unread"].as_i64(), &a.body["unread_by_group"]["news"]), (Some(0), &json!(0)));
    // Without a token: 401.
    assert_eq!(app.get("/v1/users/notifications", None).await.status, 401);
}

/// A loopback receiver: every request's headers and body, answered with `status`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    status: Arc<std::sync::atomic::AtomicU16>,
}

impl Receiver {
    async fn start() -> (Self, String) {
        let receiver = Receiver::default();
        receiver.status.store(204, std::sync::atomic::Ordering::SeqCst);
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    state.got.lock().unwrap().push((headers, body));
                    axum::http::StatusCode::from_u16(state.status.load(std::sync::atomic::Ordering::SeqCst)).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    fn answer(&self, status: u16) {
        self.status.store(status, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Whether `signature` (the header, maybe several) holds one valid signature under `secret`.
fn verifies(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let key = backend::notify::webhook::secret_key(secret).unwrap();
    let id = headers["webhook-id"].to_str().unwrap();
    let ts: i64 = headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
    let expected = backend::notify::webhook::sign(&key, id, ts, body);
    headers["webhook-signature"].to_str().unwrap().split(' ').any(|s| s == expected)
}

#[tokio::test]
async fn webhooks_are_signed_retried_rotated_replayed_and_never_sent_twice_under_two_ids() {
    let app = app_with(true).await;
    let (receiver, url) = Receiver::start().await;
    let admin = app.admin_token().await;
    let created = app.post_admin("/v1/admin/webhooks", &admin, json!({ "url": url, "description": "CRM" })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let endpoint = created.body["endpoint"]["id"].as_i64().unwrap();
    assert!(secret.starts_with("whsec_"));
    // The secret is never shown again, nor stored in the clear.
    let listed = app.get("/v1/admin/webhooks", Some(&admin)).await;
    assert!(!listed.body.to_string().contains(&secret[6..]));
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT secret_sealed FROM webhook_endpoints").fetch_one(&app.db.pool).await.unwrap();
    assert!(!stored.windows(8).any(|w| secret.as_bytes().windows(8).any(|s| s == w)));

    app.register_in_ledger(&[(named("A"), genesis()), (named("B"), named("A"))]).await;
    let notifier = notifier(&app, notifications(true, 3600));
    let expected = ids_of(&app, "SELECT id FROM notifications ORDER BY seq").await;
    assert!(expected.len() >= 4, "{expected:?}");
    rounds_until(&notifier, "every notification delivered", || receiver.count() >= expected.len()).await;
    // A few more rounds: nothing more arrives.
    for _ in 0..3 {
        notifier.round().await.unwrap();
    }
    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), expected.len(), "each notification once");
    let mut ids: Vec<String> = got.iter().map(|(h, _)| h["webhook-id"].to_str().unwrap().to_owned()).collect();
    ids.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(ids, want, "the webhook-id is the notification's id");
    for (headers, body) in &got {
        assert!(verifies(&secret, headers, body), "signature of {body}");
        assert!(!verifies(&backend::notify::webhook::new_secret(), headers, body));
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["data"]["id"], headers["webhook-id"].to_str().unwrap());
        assert!(body["type"].is_string() && body["timestamp"].is_string());
    }

    // A failing endpoint: retried with the same id, each attempt logged; then delivered.
    receiver.answer(500);
    let admin_wallet = app.admin.address();
    let lower = format!("{:#x}", named("A"));
    let a = app
        .post_admin(
            &format!("/v1/admin/users/{lower}/freeze"),
            &admin,
            json!({ "asset_id": ASSET, "reason": "ticket" }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let before = receiver.count();
    rounds_until(&notifier, "a failed attempt", || receiver.count() > before).await;
    let log = app.get(&format!("/v1/admin/webhooks/{endpoint}/deliveries"), Some(&admin)).await;
    let first = &log.body["items"][0];
    assert_eq!(
        (first["kind"].as_str(), first["status"].as_str()),
        (Some("account.frozen"), Some("pending")),
        "{}",
        log.body
    );
    let frozen_id = first["notification_id"].as_str().unwrap().to_owned();
    receiver.answer(200);
    rounds_until(&notifier, "the retry delivered", || receiver.count() > before + 1).await;
    let attempts =
        app.get(&format!("/v1/admin/webhooks/{endpoint}/deliveries/{frozen_id}/attempts"), Some(&admin)).await;
    let codes: Vec<i64> =
        attempts.body.as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
    assert_eq!(codes, vec![500, 200]);
    let got = receiver.got.lock().unwrap().clone();
    let frozen: Vec<_> = got.iter().filter(|(h, _)| h["webhook-id"] == frozen_id.as_str()).collect();
    assert_eq!(frozen.len(), 2, "the retry carries the same id");

    // Rotation: both secrets sign during the overlap.
    let rotated = app.post_admin(&format!("/v1/admin/webhooks/{endpoint}/rotate"), &admin, json!({})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    assert!(rotated.body["endpoint"]["previous_secret_until"].is_string());
    let replay = app
        .post_admin(&format!("/v1/admin/webhooks/{endpoint}/deliveries/{frozen_id}/replay"), &admin, json!({}))
        .await;
    assert_eq!(replay.status, 202, "{}", replay.body);
    let before = receiver.count();
    rounds_until(&notifier, "the replay delivered", || receiver.count() > before).await;
    let (headers, body) = receiver.got.lock().unwrap().last().unwrap().clone();
    assert_eq!(headers["webhook-id"], frozen_id.as_str(), "a replay keeps the id");
    assert!(verifies(&secret, &headers, &body) && verifies(&new_secret, &headers, &body));
    assert_eq!(headers["webhook-signature"].to_str().unwrap().split(' ').count(), 2);

    // Bad input changes nothing: unknown kinds, unknown endpoint, a viewer's change.
    let a = app.post_admin("/v1/admin/webhooks", &admin, json!({ "url": url, "kinds": ["payout.stolen"] })).await;
    assert_eq!((a.status, a.code()), (422, "invalid_kinds"));
    let a = app.post_admin("/v1/admin/webhooks/999/rotate", &admin, json!({})).await;
    assert_eq!(a.status, 404);
    let member = app.user_token().await;
    let a = app.post_as("/v1/admin/webhooks", Some(&member), json!({ "url": url })).await;
    assert_eq!(a.status, 403);
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action LIKE 'webhook%' AND actor = $1")
        .bind(admin_wallet.to_checksum(None))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(audit, 3, "create, rotate and replay are audited");
}

#[tokio::test]
async fn an_endpoint_failing_for_the_whole_window_is_disabled_and_the_admins_alerted() {
    let app = app_with(true).await;
    let (receiver, url) = Receiver::start().await;
    receiver.answer(503);
    let admin = app.admin_token().await;
    let created =
        app.post_admin("/v1/admin/webhooks", &admin, json!({ "url": url, "kinds": ["payment.applied"] })).await;
    let endpoint = created.body["endpoint"]["id"].as_i64().unwrap();
    app.register_in_ledger(&[(named("A"), genesis())]).await;
    // A one-second window: the first failure's retry would fall outside it.
    let notifier = notifier(&app, notifications(true, 1));
    rounds_until(&notifier, "one attempt", || receiver.count() >= 1).await;
    let shown = app.get("/v1/admin/webhooks", Some(&admin)).await;
    let e = &shown.body["endpoints"][0];
    assert_eq!((e["enabled"].as_bool(), e["dead"].as_i64()), (Some(false), Some(1)), "{}", shown.body);
    assert!(e["disabled_reason"].as_str().unwrap().contains("503"));
    let alerts: i64 = sqlx::query_scalar("SELECT count(*) FROM alerts WHERE kind = 'webhook_endpoint_disabled'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(alerts, 1);
    // Disabled: nothing more is sent to it; enabled again by the admin, a replay goes.
    app.register_in_ledger_more(&[(named("B"), named("A"))]).await;
    for _ in 0..3 {
        notifier.round().await.unwrap();
    }
    assert_eq!(receiver.count(), 1);
    receiver.answer(200);
    let a = app
        .send(
            app.client
                .patch(format!("{}/v1/admin/webhooks/{endpoint}", app.base))
                .bearer_auth(&admin)
                .json(&json!({ "enabled": true })),
        )
        .await;
    assert_eq!((a.status, a.body["enabled"].as_bool()), (200, Some(true)), "{}", a.body);
    let notifier = self::notifier(&app, notifications(true, 3600));
    rounds_until(&notifier, "the waiting delivery once enabled", || receiver.count() >= 2).await;
}

#[tokio::test]
async fn outside_the_devnet_an_endpoint_must_be_https_and_public() {
    let app = app_with(false).await;
    let admin = app.admin_token().await;
    for url in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://localhost:8443/in",
        "https://10.1.2.3/",
        "https://169.254.169.254/latest",
        "https://[::1]/",
        "https://user:pw@hooks.example.com/",
        "not a url",
    ] {
        let a = app.post_admin("/v1/admin/webhooks", &admin, json!({ "url": url })).await;
        assert_eq!((a.status, a.code()), (422, "invalid_url"), "{url}: {}", a.body);
    }
    let long = format!("https://hooks.example.com/{}", "x".repeat(2100));
    let a = app.post_admin("/v1/admin/webhooks", &admin, json!({ "url": long })).await;
    assert_eq!(a.status, 422);
    let endpoints: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(endpoints, 0, "nothing was saved");
    // An endpoint saved while its name was public and now resolving to loopback is refused at delivery: the check
    // runs at every delivery.
    let sealed =
        backend::notify::keys::NotifyKeys::new(&[0x11; 32]).seal(backend::notify::webhook::new_secret().as_bytes());
    sqlx::query(
        "INSERT INTO webhook_endpoints (url, secret_sealed, created_by) VALUES ('https://localhost:9/x', $1, 'test')",
    )
    .bind(sealed)
    .execute(&app.db.pool)
    .await
    .unwrap();
    app.register_in_ledger(&[(named("A"), genesis())]).await;
    let notifier = notifier(&app, notifications(false, 3600));
    let pool = app.db.pool.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        notifier.round().await.unwrap();
        let errors: Vec<Option<String>> =
            sqlx::query_scalar("SELECT error FROM webhook_attempts").fetch_all(&pool).await.unwrap();
        if let Some(error) = errors.first() {
            let error = error.clone().unwrap();
            assert!(error.contains("not a public address"), "{error}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no attempt was recorded");
    }
}

#[tokio::test]
async fn email_is_double_opt_in_in_the_members_language_and_unsubscribes_in_one_click() {
    let app = app_with(true).await;
    let alice = PrivateKeySigner::random();
    app.register_in_ledger(&[(alice.address(), genesis())]).await;
    let token = app.signin(Chain::Evm, &alice).await["access_token"].as_str().unwrap().to_owned();
    let email = format!("Member-{}-x@Example.test", &alloy::hex::encode(alice.address())[..10]);
    let put =
        |body: Value| app.send(app.client.put(format!("{}/v1/users/email", app.base)).bearer_auth(&token).json(&body));
    for bad in [
        json!({ "email": "not-an-address", "language": "es", "kinds": [] }),
        json!({ "email": email, "language": "xx", "kinds": [] }),
        json!({ "email": email, "language": "es", "kinds": ["payout.stolen"] }),
        json!({ "email": format!("{}@example.test", "a".repeat(260)), "language": "es", "kinds": [] }),
    ] {
        let a = put(bad.clone()).await;
        assert_eq!(a.status, 422, "{bad}: {}", a.body);
    }
    let a = put(json!({ "email": email, "language": "es", "kinds": ["account.frozen", "account.unfrozen"] })).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!((a.body["confirmed"].as_bool(), a.body["address"].as_str()), (Some(false), Some("M•••x@E•••.test")));
    // Only the masked form leaves, and the stored form is sealed.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT email_sealed FROM member_contacts").fetch_one(&app.db.pool).await.unwrap();
    assert!(!String::from_utf8_lossy(&stored).to_lowercase().contains("example"));

    let notifier = notifier(&app, notifications(true, 3600));
    rounds_until(&notifier, "the confirmation in the mailbox", || mailbox(&email).len() == 1).await;
    let confirmation = mailbox(&email).remove(0);
    assert!(confirmation.contains("Confirma tu direcci"), "Spanish: {confirmation}");
    let confirm = link(&confirmation, "#email-confirm=");

    // Before the confirmation nothing but it is sent: a freeze now is not e-mailed.
    let admin = app.admin_token().await;
    let lower = format!("{:#x}", alice.address());
    app.post_admin(&format!("/v1/admin/users/{lower}/freeze"), &admin, json!({ "asset_id": ASSET, "reason": "t" }))
        .await;
    for _ in 0..5 {
        notifier.round().await.unwrap();
    }
    assert_eq!(mailbox(&email).len(), 1);

    // A forged or altered token is refused; the real one confirms.
    let mut forged = confirm.clone();
    forged.replace_range(forged.len() - 2.., "00");
    let a = app.post("/v1/public/email/confirm", json!({ "token": forged })).await;
    assert_eq!((a.status, a.code()), (400, "invalid_token"));
    let a = app.post("/v1/public/email/confirm", json!({ "token": confirm })).await;
    assert_eq!(a.status, 200, "{} {confirm}", a.body);
    let unfreeze = app
        .post_admin(&format!("/v1/admin/users/{lower}/unfreeze"), &admin, json!({ "asset_id": ASSET, "reason": "t" }))
        .await;
    assert_eq!(unfreeze.status, 200);
    rounds_until(&notifier, "the unfreeze e-mail", || mailbox(&email).len() == 2).await;
    let message = mailbox(&email).remove(1);
    let id: String = sqlx::query_scalar("SELECT id FROM notifications WHERE kind = 'account.unfrozen'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(header(&message, "Message-ID").unwrap().contains(&id.replace(':', ".")), "{message}");
    assert_eq!(header(&message, "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert!(message.contains("descongelada"), "in Spanish: {message}");
    assert!(message.contains("Referral Test") || message.contains("notices@operator.test"));
    let one_click = header(&message, "List-Unsubscribe").unwrap().trim_matches(['<', '>']).to_owned();
    let path = one_click.strip_prefix("https://app.test:8443").unwrap().to_owned();
    assert!(path.starts_with("/v1/public/email/unsubscribe?token="), "{path}");

    // The one-click unsubscribe (what a mail client POSTs); afterwards nothing is sent.
    let a = app
        .send(
            app.client
                .post(format!("{}{path}", app.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("List-Unsubscribe=One-Click"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    app.post_admin(&format!("/v1/admin/users/{lower}/freeze"), &admin, json!({ "asset_id": ASSET, "reason": "t" }))
        .await;
    for _ in 0..5 {
        notifier.round().await.unwrap();
    }
    assert_eq!(mailbox(&email).len(), 2, "unsubscribed: no more e-mail");
    let settings = app.get("/v1/users/email", Some(&token)).await;
    assert_eq!(settings.body["unsubscribed"].as_bool(), Some(true));

    // Erasure: gone, audited without the address; the old links are dead.
    let a = app.send(app.client.delete(format!("{}/v1/users/email", app.base)).bearer_auth(&token)).await;
    assert_eq!((a.status, a.body["erased"].as_bool()), (200, Some(true)));
    let settings = app.get("/v1/users/email", Some(&token)).await;
    assert!(settings.body["address"].is_null());
    let (count, after): (i64, String) =
        sqlx::query_as("SELECT count(*), max(after::text) FROM audit_logs WHERE action = 'email_erase'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(count, 1);
    assert!(!after.to_lowercase().contains("example"));
    let a = app.post("/v1/public/email/confirm", json!({ "token": confirm })).await;
    assert_eq!((a.status, a.code()), (409, "link_expired"));
}

/// Issue 65: `PUT /v1/users/email` had no limit, so anyone could have the operator's mail server write to any
/// address once per notifier round, from as many wallets as they liked. One wallet asking 100 times gets its 5
/// confirmations (`[notifications.confirmations]`'s defaults) and 429 for the rest, one address is mailed at most 3
/// times whichever wallets ask, and a refused request changes nothing; the mailbox holds exactly what was accepted.
#[tokio::test]
async fn confirmation_emails_are_limited_per_wallet_and_per_address() {
    let app = app_with(true).await;
    let run = alloy::hex::encode(PrivateKeySigner::random().address())[..10].to_owned();
    let put = |token: String, email: String| {
        let body = json!({ "email": email, "language": "en", "kinds": [] });
        app.send(app.client.put(format!("{}/v1/users/email", app.base)).bearer_auth(token).json(&body))
    };
    // One wallet, 100 requests for 100 addresses; six more wallets for one address.
    let spammer = PrivateKeySigner::random();
    let wallets: Vec<PrivateKeySigner> = (0..6).map(|_| PrivateKeySigner::random()).collect();
    let members: Vec<_> = std::iter::once(&spammer).chain(&wallets).map(|w| (w.address(), genesis())).collect();
    app.register_in_ledger(&members).await;
    let token = app.signin(Chain::Evm, &spammer).await["access_token"].as_str().unwrap().to_owned();
    let victim = |i: usize| format!("victim-{run}-{i}@example.test");
    let mut statuses = Vec::new();
    for i in 0..100 {
        let a = put(token.clone(), victim(i)).await;
        if a.status == 429 {
            assert_eq!(a.code(), "rate_limited", "{}", a.body);
        }
        statuses.push(a.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 5, "five per wallet: {statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "then refused: {statuses:?}");
    // The refused requests changed nothing: the contact is the fifth address's.
    let settings = app.get("/v1/users/email", Some(&token)).await;
    assert_eq!(settings.body["address"], json!(backend::http::notifications::mask(&victim(4))), "{}", settings.body);

    // One address, asked for by many wallets: three confirmations, then refused.
    let target = format!("target-{run}@example.test");
    let mut accepted = 0;
    for wallet in &wallets {
        let token = app.signin(Chain::Evm, wallet).await["access_token"].as_str().unwrap().to_owned();
        let a = put(token, target.clone()).await;
        match a.status {
            202 => accepted += 1,
            status => assert_eq!((status, a.code()), (429, "rate_limited"), "{}", a.body),
        }
    }
    assert_eq!(accepted, 3, "three per address");
    let requests: i64 =
        sqlx::query_scalar("SELECT count(*) FROM email_confirmation_requests").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(requests, 8, "what was accepted is counted, nothing else");

    // The mail server receives exactly what was accepted: the last address of the spamming wallet (each new address
    // cancels the earlier one's pending confirmation) and the target's three, one per wallet.
    let notifier = notifier(&app, notifications(true, 3600));
    rounds_until(&notifier, "the confirmations", || mailbox(&target).len() == 3).await;
    for _ in 0..5 {
        notifier.round().await.unwrap();
    }
    assert_eq!(mailbox(&target).len(), 3, "never a fourth to the same address");
    assert_eq!(mailbox(&victim(4)).len(), 1);
    assert!((5..100).all(|i| mailbox(&victim(i)).is_empty()), "nothing to the refused addresses");
}
