//! Wallet sign-in, refresh rotation with reuse detection, logout, Redis down.

use alloy::signers::local::PrivateKeySigner;
use backend::auth::siwe::SiweMessage;
use serde_json::json;

use crate::helpers::{Chain, DOMAIN, EVM_CHAIN_ID, TRON_CHAIN_ID, URI, spawn_app, spawn_app_with_redis};

#[tokio::test]
async fn evm_wallet_signs_in_with_an_eip4361_message() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let message = app.nonce(Chain::Evm, &wallet).await;
    let parsed = SiweMessage::parse(&message).unwrap();
    assert_eq!(parsed.domain, DOMAIN);
    assert_eq!(parsed.uri, URI);
    assert_eq!(parsed.chain_id, EVM_CHAIN_ID);
    assert_eq!(parsed.address, wallet.address());
    assert!(message.starts_with(&format!(
        "{DOMAIN} wants you to sign in with your Ethereum account:\n{}\n\n",
        wallet.address().to_checksum(None)
    )));
    assert!(message.contains("\nVersion: 1\n"));

    let a = app.signin_with(&message, &Chain::Evm.sign(&wallet, &message)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["address"], wallet.address().to_checksum(None));
    assert_eq!(a.body["role"], "user");
    assert_eq!(a.body["token_type"], "Bearer");
    let me = app.get("/v1/users/me", a.body["access_token"].as_str()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["address"], wallet.address().to_checksum(None));
    // The refresh token is stored only hashed.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT token_hash FROM refresh_tokens").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(stored.len(), 1);
    let raw = a.body["refresh_token"].as_str().unwrap();
    assert_ne!(stored[0], raw.as_bytes());
    assert_ne!(alloy::hex::encode(&stored[0]), raw);
}

#[tokio::test]
async fn tron_wallet_signs_in_with_tron_prefix_and_base58_address() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let message = app.nonce(Chain::Tron, &wallet).await;
    let parsed = SiweMessage::parse(&message).unwrap();
    assert_eq!(parsed.chain_id, TRON_CHAIN_ID);
    assert!(message.contains(&format!("\n{}\n", abi::tron::to_base58(wallet.address()))));
    // An EIP-191 signature of the TRON message is not TRON's format: refused.
    let wrong = app.signin_with(&message, &Chain::Evm.sign(&wallet, &message)).await;
    assert_eq!((wrong.status, wrong.code()), (401, "signin_bad_signature"));
    let a = app.signin_with(&message, &Chain::Tron.sign(&wallet, &message)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["address"], wallet.address().to_checksum(None));
}

/// TronWeb's `signMessageV2` over `message` with `wallet`'s key (`scripts/tron/sign-message.mjs`): what TronLink
/// answers, from an implementation independent of ours.
fn tronweb_signature(wallet: &PrivateKeySigner, message: &str) -> String {
    use std::io::Write;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/tron/sign-message.mjs");
    let mut node = std::process::Command::new("node")
        .arg(script)
        .arg(alloy::hex::encode(wallet.to_bytes()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    node.stdin.take().unwrap().write_all(message.as_bytes()).unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "tronweb signMessageV2 ended with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn a_tronweb_signmessagev2_signature_signs_a_tron_wallet_in() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let message = app.nonce(Chain::Tron, &wallet).await;
    // Another wallet's TronWeb signature of this message is refused, and spends nothing.
    let other = tronweb_signature(&PrivateKeySigner::random(), &message);
    let refused = app.signin_with(&message, &other).await;
    assert_eq!((refused.status, refused.code()), (401, "signin_bad_signature"), "{}", refused.body);
    let signature = tronweb_signature(&wallet, &message);
    assert_eq!(signature, Chain::Tron.sign(&wallet, &message), "TronWeb and our TRON message hash agree");
    let a = app.signin_with(&message, &signature).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["address"], wallet.address().to_checksum(None));
}

#[tokio::test]
async fn admin_wallet_gets_admin_role() {
    let app = spawn_app().await;
    let tokens = app.signin(Chain::Evm, &app.admin.clone()).await;
    assert_eq!(tokens["role"], "admin");
    let ping = app.get("/v1/admin/ping", tokens["access_token"].as_str()).await;
    assert_eq!(ping.status, 200, "{}", ping.body);
    assert_eq!(ping.body["admin"], app.admin.address().to_checksum(None));
}

#[tokio::test]
async fn replayed_signin_is_refused() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let message = app.nonce(Chain::Evm, &wallet).await;
    let signature = Chain::Evm.sign(&wallet, &message);
    assert_eq!(app.signin_with(&message, &signature).await.status, 200);
    let replay = app.signin_with(&message, &signature).await;
    assert_eq!((replay.status, replay.code()), (401, "signin_nonce_invalid"));
    assert_eq!(crate::common::count(&app.db.pool, "refresh_tokens").await, 1);
}

#[tokio::test]
async fn concurrent_signins_with_one_nonce_let_exactly_one_through() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let message = app.nonce(Chain::Evm, &wallet).await;
    let signature = Chain::Evm.sign(&wallet, &message);
    let attempts = (0..8).map(|_| app.signin_with(&message, &signature));
    let answers = futures::future::join_all(attempts).await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 1);
    assert!(answers.iter().filter(|a| a.status != 200).all(|a| a.code() == "signin_nonce_invalid"));
}

/// Re-signs the server's message after `edit`; the wallet signs whatever it is shown.
fn edited(message: &str, edit: impl FnOnce(&mut SiweMessage)) -> String {
    let mut m = SiweMessage::parse(message).unwrap();
    edit(&mut m);
    m.to_text()
}

#[tokio::test]
async fn expired_foreign_or_misbound_messages_are_refused_without_spending_the_nonce() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let other = PrivateKeySigner::random();
    let message = app.nonce(Chain::Evm, &wallet).await;
    let past = chrono::Utc::now() - chrono::Duration::seconds(10);
    let cases: Vec<(String, &PrivateKeySigner, &str)> = vec![
        (edited(&message, |m| m.expiration_time = past), &wallet, "signin_expired"),
        (edited(&message, |m| m.domain = "evil.example".into()), &wallet, "signin_wrong_domain"),
        (edited(&message, |m| m.uri = "https://evil.example".into()), &wallet, "signin_wrong_domain"),
        (edited(&message, |m| m.chain_id = 1), &wallet, "signin_wrong_chain"),
        (
            edited(&message, |m| m.issued_at = chrono::Utc::now() + chrono::Duration::hours(1)),
            &wallet,
            "signin_not_yet_valid",
        ),
        // Someone else's signature over the wallet's message.
        (message.clone(), &other, "signin_bad_signature"),
    ];
    for (text, signer, code) in cases {
        let a = app.signin_with(&text, &Chain::Evm.sign(signer, &text)).await;
        assert_eq!((a.status, a.code()), (401, code), "{text}");
    }
    // Another wallet cannot use this wallet's nonce in its own message.
    let stolen = edited(&message, |m| m.address = other.address());
    let a = app.signin_with(&stolen, &Chain::Evm.sign(&other, &stolen)).await;
    assert_eq!((a.status, a.code()), (401, "signin_nonce_invalid"));
    assert_eq!(crate::common::count(&app.db.pool, "refresh_tokens").await, 0);
    // A nonce never issued is refused too.
    let made_up =
        edited(&app.nonce(Chain::Evm, &wallet).await, |m| m.nonce = "0123456789abcdef0123456789abcdef".into());
    let a = app.signin_with(&made_up, &Chain::Evm.sign(&wallet, &made_up)).await;
    assert_eq!((a.status, a.code()), (401, "signin_nonce_invalid"));
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let first = app.signin(Chain::Evm, &wallet).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();

    let second = app.post("/v1/auth/refresh", json!({ "refresh_token": r1 })).await;
    assert_eq!(second.status, 200, "{}", second.body);
    let r2 = second.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    let me = app.get("/v1/users/me", second.body["access_token"].as_str()).await;
    assert_eq!(me.status, 200);

    // r1 again: reuse → the whole family is revoked, r2 included.
    let reuse = app.post("/v1/auth/refresh", json!({ "refresh_token": r1 })).await;
    assert_eq!((reuse.status, reuse.code()), (401, "refresh_token_reused"));
    let after = app.post("/v1/auth/refresh", json!({ "refresh_token": r2 })).await;
    assert_eq!((after.status, after.code()), (401, "refresh_token_revoked"));
    // The family's access tokens stop working too, the first and the rotated one.
    for access in [first["access_token"].as_str(), second.body["access_token"].as_str()] {
        let me = app.get("/v1/users/me", access).await;
        assert_eq!((me.status, me.code()), (401, "token_revoked"), "{}", me.body);
    }

    // Another session of the same wallet is untouched.
    let other_session = app.signin(Chain::Evm, &wallet).await;
    let a = app.post("/v1/auth/refresh", json!({ "refresh_token": other_session["refresh_token"] })).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(app.get("/v1/users/me", other_session["access_token"].as_str()).await.status, 200);
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let r1 = tokens["refresh_token"].as_str().unwrap().to_owned();
    let rotated = app.post("/v1/auth/refresh", json!({ "refresh_token": r1 })).await;
    let r2 = rotated.body["refresh_token"].as_str().unwrap().to_owned();

    let out =
        app.send(app.client.post(format!("{}/v1/auth/logout", app.base)).json(&json!({ "refresh_token": r2 }))).await;
    assert_eq!(out.status, 204);
    let a = app.post("/v1/auth/refresh", json!({ "refresh_token": r2 })).await;
    assert_eq!((a.status, a.code()), (401, "refresh_token_revoked"));
    // The session's access tokens end with it; another session of the wallet goes on.
    let me = app.get("/v1/users/me", rotated.body["access_token"].as_str()).await;
    assert_eq!((me.status, me.code()), (401, "token_revoked"), "{}", me.body);
    let revoked: i64 = sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(revoked, 2);
    let unknown = app.post("/v1/auth/logout", json!({ "refresh_token": "00".repeat(32) })).await;
    assert_eq!((unknown.status, unknown.code()), (401, "invalid_refresh_token"));
}

#[tokio::test]
async fn without_redis_signin_answers_503_and_the_rest_works() {
    // Nothing listens on port 1.
    let app = spawn_app_with_redis("redis://127.0.0.1:1").await;
    let health = app.get("/health", None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["redis"], false);
    assert_eq!(health.body["status"], "degraded");
    assert_eq!(health.body["database"], true);
    let wallet = PrivateKeySigner::random();
    let a = app.post("/v1/auth/nonce", json!({ "address": Chain::Evm.address(&wallet), "chain": "evm" })).await;
    assert_eq!((a.status, a.code()), (503, "auth_unavailable"));
    let me = app.get("/v1/users/me", None).await;
    assert_eq!((me.status, me.code()), (401, "missing_token"));
}

#[tokio::test]
async fn expired_refresh_token_is_refused() {
    let app = spawn_app().await;
    let tokens = app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
    // Time passes for the database's clock only: the token's expiry moves into the past.
    let moved = sqlx::query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(moved, 1);
    let a = app.post("/v1/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!((a.status, a.code()), (401, "refresh_token_expired"));
}

/// A free TCP port on loopback (bound then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn signin_resumes_when_redis_comes_back() {
    let port = free_port();
    let app = spawn_app_with_redis(&format!("redis://127.0.0.1:{port}")).await;
    let wallet = PrivateKeySigner::random();
    let ask = || app.post("/v1/auth/nonce", json!({ "address": Chain::Evm.address(&wallet), "chain": "evm" }));
    assert_eq!(ask().await.code(), "auth_unavailable");

    let mut redis = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server is installed (scripts/setup.sh)");
    let mut status = 0;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        status = ask().await.status;
        if status == 200 {
            break;
        }
    }
    let health = app.get("/health", None).await;
    let redis_state = match redis.try_wait() {
        Ok(Some(ended)) => format!("the test's redis-server ended with {ended}"),
        _ => "the test's redis-server was running".to_owned(),
    };
    let _ = redis.kill();
    let _ = redis.wait();
    assert_eq!(status, 200, "sign-in did not resume after Redis came up ({redis_state})");
    assert_eq!(health.body["redis"], true);
    assert_eq!(health.body["status"], "ok");
}

#[tokio::test]
async fn a_jwt_secret_under_32_bytes_refuses_to_start() {
    let db = ledger::db::ScratchDatabase::create("short_jwt").await.unwrap();
    let mut settings = crate::helpers::settings("redis://127.0.0.1:6379", PrivateKeySigner::random().address());
    let short = "31-bytes-secret-0123456789abcde";
    assert_eq!(short.len(), 31);
    settings.auth.jwt_secret = Some(secrecy::SecretString::from(short));
    let err = backend::startup::Application::build_with_pool(settings.clone(), db.pool.clone()).await.unwrap_err();
    assert!(err.to_string().contains("at least 32"), "{err}");
    settings.auth.jwt_secret = Some(secrecy::SecretString::from(format!("{short}f")));
    assert!(backend::startup::Application::build_with_pool(settings, db.pool.clone()).await.is_ok());
}

/// An answer with its headers.
struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: serde_json::Value,
}

impl Raw {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error code>")
    }

    /// The `Set-Cookie` of the refresh cookie: its value and its attributes (lower-case names).
    fn refresh_cookie(&self) -> Option<(String, Vec<String>)> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|c| {
            let mut parts = c.split(';').map(str::trim);
            let value = parts.next()?.strip_prefix("referral_refresh=")?.to_owned();
            Some((value, parts.map(|a| a.to_ascii_lowercase()).collect()))
        })
    }
}

/// A POST of `body` as raw text with `headers` (a browser's `Origin`, `Cookie`, `Content-Type`).
async fn post_raw(app: &crate::helpers::TestApp, path: &str, body: &str, headers: &[(&str, &str)]) -> Raw {
    let mut req = app.client.post(format!("{}{path}", app.base)).body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    Raw { status, headers, body: serde_json::from_str(&text).unwrap_or_default() }
}

/// The page's origin: the configured `[auth] uri`.
const ORIGIN: &str = URI;
const JSON: (&str, &str) = ("content-type", "application/json");

/// Signs `wallet` in the way the web front does: a cookie session, from the site's origin. Returns the answer and
/// the refresh cookie's value.
async fn browser_signin(app: &crate::helpers::TestApp, wallet: &PrivateKeySigner) -> (Raw, String) {
    let message = app.nonce(Chain::Evm, wallet).await;
    let body =
        json!({ "message": message, "signature": Chain::Evm.sign(wallet, &message), "refresh_token_in": "cookie" });
    let a = post_raw(app, "/v1/auth/signin", &body.to_string(), &[JSON, ("origin", ORIGIN)]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let (cookie, _) = a.refresh_cookie().expect("the refresh cookie is set");
    (a, cookie)
}

/// A cookie refresh as the page's session worker sends it.
async fn cookie_refresh(app: &crate::helpers::TestApp, cookie: &str) -> Raw {
    let cookie = format!("referral_refresh={cookie}");
    post_raw(app, "/v1/auth/refresh", "{}", &[JSON, ("origin", ORIGIN), ("cookie", &cookie)]).await
}

/// (tokens, used, revoked) rows of refresh_tokens.
async fn refresh_rows(app: &crate::helpers::TestApp) -> (i64, i64, i64) {
    sqlx::query_as("SELECT count(*), count(used_at), count(revoked_at) FROM refresh_tokens")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_answer_that_carries_a_token_is_kept_by_no_cache() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let message = app.nonce(Chain::Evm, &wallet).await;
    let signin = json!({ "message": message, "signature": Chain::Evm.sign(&wallet, &message) });
    let pair = post_raw(&app, "/v1/auth/signin", &signin.to_string(), &[JSON]).await;
    assert_eq!(pair.status, 200, "{}", pair.body);
    // The JSON flow of API clients is unchanged: the refresh token in the body, no cookie.
    let refresh_token = pair.body["refresh_token"].as_str().expect("refresh_token in the body").to_owned();
    assert!(pair.refresh_cookie().is_none() && pair.headers.get("set-cookie").is_none());
    let refreshed =
        post_raw(&app, "/v1/auth/refresh", &json!({ "refresh_token": refresh_token }).to_string(), &[JSON]).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(refreshed.body["refresh_token"].is_string() && refreshed.refresh_cookie().is_none());
    let (browser, cookie) = browser_signin(&app, &PrivateKeySigner::random()).await;
    let renewed = cookie_refresh(&app, &cookie).await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let nonce = post_raw(
        &app,
        "/v1/auth/nonce",
        &json!({ "address": Chain::Evm.address(&wallet), "chain": "evm" }).to_string(),
        &[JSON],
    )
    .await;
    let refused =
        post_raw(&app, "/v1/auth/refresh", &json!({ "refresh_token": refresh_token }).to_string(), &[JSON]).await;
    assert_eq!(refused.code(), "refresh_token_reused");
    for (what, a) in
        [("sign-in", &pair), ("refresh", &refreshed), ("cookie sign-in", &browser), ("cookie refresh", &renewed)]
    {
        assert!(a.body["access_token"].is_string(), "{what}: {}", a.body);
        assert_eq!(a.header("cache-control"), "no-store", "{what}");
        assert_eq!(a.header("pragma"), "no-cache", "{what}");
    }
    for (what, a) in [("nonce", &nonce), ("refusal", &refused)] {
        assert_eq!((a.header("cache-control"), a.header("pragma")), ("no-store", "no-cache"), "{what}");
    }
}

#[tokio::test]
async fn a_cookie_session_keeps_the_refresh_token_out_of_every_body_and_still_detects_reuse() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let (first, r1) = browser_signin(&app, &wallet).await;
    assert!(first.body.get("refresh_token").is_none(), "no refresh token in the body: {}", first.body);
    assert_eq!(first.body["address"], wallet.address().to_checksum(None));
    let (_, attributes) = first.refresh_cookie().unwrap();
    assert_eq!(r1.len(), 64, "{r1}");
    for wanted in ["path=/v1/auth/", "max-age=3600", "httponly", "secure", "samesite=strict"] {
        assert!(attributes.iter().any(|a| a == wanted), "{wanted} missing from {attributes:?}");
    }
    assert!(!attributes.iter().any(|a| a.starts_with("domain=")), "a host-only cookie: {attributes:?}");
    let me = app.get("/v1/users/me", first.body["access_token"].as_str()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    // Stored only hashed, like any refresh token.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT token_hash FROM refresh_tokens").fetch_one(&app.db.pool).await.unwrap();
    assert_ne!(alloy::hex::encode(&stored), r1);

    // The cookie rotates: a new cookie, still no token in the body.
    let second = cookie_refresh(&app, &r1).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert!(second.body.get("refresh_token").is_none(), "{}", second.body);
    let (r2, attributes) = second.refresh_cookie().expect("the next refresh token is set as the cookie");
    assert_ne!(r1, r2);
    assert!(attributes.iter().any(|a| a == "httponly") && attributes.iter().any(|a| a == "samesite=strict"));
    assert_eq!(app.get("/v1/users/me", second.body["access_token"].as_str()).await.status, 200);
    assert_eq!(refresh_rows(&app).await, (2, 1, 0));

    // The rotated-away cookie presented again is a reuse: the whole session ends, the current cookie with it.
    let reuse = cookie_refresh(&app, &r1).await;
    assert_eq!((reuse.status, reuse.code()), (401, "refresh_token_reused"), "{}", reuse.body);
    let after = cookie_refresh(&app, &r2).await;
    assert_eq!((after.status, after.code()), (401, "refresh_token_revoked"));
    for access in [first.body["access_token"].as_str(), second.body["access_token"].as_str()] {
        let me = app.get("/v1/users/me", access).await;
        assert_eq!((me.status, me.code()), (401, "token_revoked"), "{}", me.body);
    }
    // A token in the body is the API client's flow, cookie or not: it is the one used.
    let (_, r3) = browser_signin(&app, &wallet).await;
    let cookie = format!("referral_refresh={r2}");
    let body = json!({ "refresh_token": r3 }).to_string();
    let a = post_raw(&app, "/v1/auth/refresh", &body, &[JSON, ("origin", ORIGIN), ("cookie", &cookie)]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body["refresh_token"].is_string() && a.refresh_cookie().is_none());
}

#[tokio::test]
async fn a_cookie_request_from_another_site_or_not_json_is_refused_and_rotates_nothing() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let (_, token) = browser_signin(&app, &wallet).await;
    let cookie = format!("referral_refresh={token}");
    let cookie = ("cookie", cookie.as_str());
    let before = app.db_state().await;
    assert_eq!(refresh_rows(&app).await, (1, 0, 0));
    // JSON with the cookie, from elsewhere than the site (or from nowhere said): 403.
    let origins = [
        ("another site", Some("https://evil.example")),
        ("no Origin", None),
        ("an opaque origin", Some("null")),
        ("the site over http", Some("http://app.test:8443")),
        ("another port", Some("https://app.test")),
        ("a sibling host", Some("https://evil.app.test:8443")),
    ];
    // From the site with the cookie, but what a cross-site form can send without a preflight (never JSON): 415.
    let content_types = [
        ("a form", Some("application/x-www-form-urlencoded")),
        ("a text/plain form", Some("text/plain")),
        ("a multipart form", Some("multipart/form-data; boundary=x")),
        ("no content type", None),
    ];
    let forged = origins
        .iter()
        .map(|&(what, origin)| (what, [Some(JSON), Some(cookie), origin.map(|o| ("origin", o))], 403, "origin_refused"))
        .chain(content_types.iter().map(|&(what, ct)| {
            (
                what,
                [ct.map(|c| ("content-type", c)), Some(cookie), Some(("origin", ORIGIN))],
                415,
                "unsupported_media_type",
            )
        }));
    for path in ["/v1/auth/refresh", "/v1/auth/logout"] {
        for (what, headers, status, code) in forged.clone() {
            let headers: Vec<_> = headers.into_iter().flatten().collect();
            let a = post_raw(&app, path, "{}", &headers).await;
            assert_eq!((a.status, a.code()), (status, code), "{path} from {what}: {}", a.body);
            assert!(a.body.get("access_token").is_none() && a.refresh_cookie().is_none(), "{path} from {what}");
            assert_eq!(a.header("cache-control"), "no-store");
        }
    }
    // Nothing was rotated, used or revoked, and the session goes on.
    assert_eq!(refresh_rows(&app).await, (1, 0, 0));
    assert_eq!(app.db_state().await, before, "a refused request changed the database");
    let a = cookie_refresh(&app, &token).await;
    assert_eq!(a.status, 200, "{}", a.body);

    // A cookie session asked for from another site is refused before the signature or the nonce is looked at.
    let message = app.nonce(Chain::Evm, &wallet).await;
    let signature = Chain::Evm.sign(&wallet, &message);
    let body = json!({ "message": message, "signature": signature, "refresh_token_in": "cookie" }).to_string();
    for origin in [vec![("origin", "https://evil.example")], vec![]] {
        let headers: Vec<_> = [JSON].into_iter().chain(origin).collect();
        let a = post_raw(&app, "/v1/auth/signin", &body, &headers).await;
        assert_eq!((a.status, a.code()), (403, "origin_refused"), "{}", a.body);
        assert!(a.refresh_cookie().is_none());
    }
    let a = post_raw(&app, "/v1/auth/signin", &body, &[JSON, ("origin", ORIGIN)]).await;
    assert_eq!(a.status, 200, "the nonce was not spent: {}", a.body);
}

#[tokio::test]
async fn logout_with_the_cookie_ends_the_session_and_removes_the_cookie() {
    let app = spawn_app().await;
    let (pair, token) = browser_signin(&app, &PrivateKeySigner::random()).await;
    let cookie = format!("referral_refresh={token}");
    let out = post_raw(&app, "/v1/auth/logout", "{}", &[JSON, ("origin", ORIGIN), ("cookie", &cookie)]).await;
    assert_eq!(out.status, 204, "{}", out.body);
    let (value, attributes) = out.refresh_cookie().expect("the cookie is removed");
    assert_eq!(value, "");
    assert!(attributes.iter().any(|a| a == "max-age=0") && attributes.iter().any(|a| a == "path=/v1/auth/"));
    assert_eq!(refresh_rows(&app).await, (1, 0, 1));
    let a = cookie_refresh(&app, &token).await;
    assert_eq!((a.status, a.code()), (401, "refresh_token_revoked"));
    let me = app.get("/v1/users/me", pair.body["access_token"].as_str()).await;
    assert_eq!((me.status, me.code()), (401, "token_revoked"));
    // Without a token in the body or a cookie there is nothing to end.
    let none = post_raw(&app, "/v1/auth/logout", "{}", &[JSON, ("origin", ORIGIN)]).await;
    assert_eq!((none.status, none.code()), (422, "invalid_body"));
}

#[tokio::test]
async fn a_nonce_asked_from_another_site_is_refused_and_from_this_site_or_no_site_given() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let body = json!({ "address": format!("{:#x}", wallet.address()), "chain": "evm" }).to_string();
    // A page of the same server under another host name (127.0.0.1 for localhost) or another site: the wallet
    // would be asked to sign a message naming a site that is not the page's.
    for origin in ["https://evil.example", "http://127.0.0.1:8443", "null"] {
        let a = post_raw(&app, "/v1/auth/nonce", &body, &[JSON, ("origin", origin)]).await;
        assert_eq!((a.status, a.code()), (403, "origin_refused"), "from {origin}: {}", a.body);
        assert!(a.body.get("message").is_none());
    }
    // The site's own page, and API clients (no Origin), get their message.
    for headers in [vec![JSON, ("origin", ORIGIN)], vec![JSON]] {
        let a = post_raw(&app, "/v1/auth/nonce", &body, &headers).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body["message"].as_str().unwrap().contains(URI));
    }
}
