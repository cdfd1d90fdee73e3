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
        .spawn()
        .expect("node runs");
    node.stdin.take().unwrap().write_all(message.as_bytes()).unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "tronweb signMessageV2 failed");
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
    let _ = redis.kill();
    let _ = redis.wait();
    assert_eq!(status, 200, "sign-in did not resume after Redis came up");
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
