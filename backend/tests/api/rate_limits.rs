//! Sign-in rate limits per wallet and per client IP.

use alloy::signers::local::PrivateKeySigner;
use serde_json::json;

use crate::helpers::{Chain, spawn_app_configured};

const REDIS: &str = "redis://127.0.0.1:6379";

#[tokio::test]
async fn verified_signins_past_the_wallet_limit_get_429() {
    let app = spawn_app_configured(REDIS, |s| s.rate_limits.signin_per_wallet = 3).await;
    let wallet = PrivateKeySigner::random();
    // Nonces never use the wallet's allowance; three verified sign-ins do.
    for _ in 0..5 {
        app.nonce(Chain::Evm, &wallet).await;
    }
    for _ in 0..3 {
        app.signin(Chain::Evm, &wallet).await;
    }
    let message = app.nonce(Chain::Evm, &wallet).await;
    let refused = app.signin_with(&message, &Chain::Evm.sign(&wallet, &message)).await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{}", refused.body);
    // The limit is per wallet: another wallet still signs in.
    app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
}

#[tokio::test]
async fn nobody_without_the_key_can_lock_the_admin_out() {
    // The API behind a proxy on loopback: clients are told apart by the proxy's X-Forwarded-For.
    let app = spawn_app_configured(REDIS, |s| {
        s.rate_limits.signin_per_wallet = 5;
        s.rate_limits.signin_per_ip = 50;
        s.rate_limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let admin = Chain::Evm.address(&app.admin);
    let attacker = PrivateKeySigner::random();
    let post_from = |ip: &'static str, path: &'static str, body: serde_json::Value| {
        app.send(app.client.post(format!("{}{path}", app.base)).header("x-forwarded-for", ip).json(&body))
    };
    // 200 calls for the admin's public address from another client: nonces, and sign-ins signed by someone else.
    let message = post_from("192.0.2.50", "/v1/auth/nonce", json!({ "address": admin, "chain": "evm" })).await;
    let message = message.body["message"].as_str().unwrap().to_owned();
    let forged = Chain::Evm.sign(&attacker, &message);
    let mut limited = 0;
    for i in 0..200 {
        let a = if i % 2 == 0 {
            post_from("203.0.113.7", "/v1/auth/nonce", json!({ "address": admin, "chain": "evm" })).await
        } else {
            post_from("203.0.113.7", "/v1/auth/signin", json!({ "message": message, "signature": forged })).await
        };
        match a.status {
            429 => limited += 1,
            200 | 401 => {}
            other => panic!("unexpected answer {other}: {}", a.body),
        }
    }
    assert!(limited >= 100, "the attacker's address is limited ({limited} refusals)");
    // The admin, from its own address, signs in as often as its allowance says.
    for _ in 0..5 {
        let message = post_from("198.51.100.2", "/v1/auth/nonce", json!({ "address": admin, "chain": "evm" })).await;
        assert_eq!(message.status, 200, "{}", message.body);
        let message = message.body["message"].as_str().unwrap().to_owned();
        let signature = Chain::Evm.sign(&app.admin, &message);
        let a =
            post_from("198.51.100.2", "/v1/auth/signin", json!({ "message": message, "signature": signature })).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["role"], "admin", "{}", a.body);
    }
}

#[tokio::test]
async fn a_forwarded_for_header_from_an_untrusted_peer_changes_nothing() {
    let app = spawn_app_configured(REDIS, |s| s.rate_limits.signin_per_ip = 3).await;
    let wallet = PrivateKeySigner::random();
    let body = json!({ "address": Chain::Evm.address(&wallet), "chain": "evm" });
    for i in 0..3 {
        let spoofed = format!("198.51.100.{i}");
        let a = app
            .send(app.client.post(format!("{}/v1/auth/nonce", app.base)).header("x-forwarded-for", spoofed).json(&body))
            .await;
        assert_eq!(a.status, 200);
    }
    let a = app
        .send(app.client.post(format!("{}/v1/auth/nonce", app.base)).header("x-forwarded-for", "192.0.2.1").json(&body))
        .await;
    assert_eq!((a.status, a.code()), (429, "rate_limited"), "a client cannot pick the address it is counted under");
}

#[tokio::test]
async fn signin_requests_past_the_ip_limit_get_429_even_when_malformed() {
    let app = spawn_app_configured(REDIS, |s| s.rate_limits.signin_per_ip = 4).await;
    for _ in 0..2 {
        app.nonce(Chain::Evm, &PrivateKeySigner::random()).await;
    }
    for _ in 0..2 {
        assert_eq!(app.post("/v1/auth/signin", json!({ "message": "x" })).await.status, 422);
    }
    let a = app
        .post("/v1/auth/nonce", json!({ "address": Chain::Evm.address(&PrivateKeySigner::random()), "chain": "evm" }))
        .await;
    assert_eq!((a.status, a.code()), (429, "rate_limited"));
    let res = app.client.post(format!("{}/v1/auth/signin", app.base)).body("{").send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "60");
    // Routes outside sign-in are not limited.
    assert_eq!(app.get("/health", None).await.status, 200);
    let r = app.post("/v1/auth/refresh", json!({ "refresh_token": "x" })).await;
    assert_eq!(r.code(), "invalid_refresh_token");
}

#[tokio::test]
async fn register_requests_past_the_wallet_limit_get_429() {
    let app = spawn_app_configured(REDIS, |s| s.rate_limits.signing_per_wallet = 2).await;
    let wallet = PrivateKeySigner::random();
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let ask = || {
        app.post_as(
            "/v1/users/register",
            tokens["access_token"].as_str(),
            json!({ "asset_id": 9, "sponsor": Chain::Evm.address(&PrivateKeySigner::random()) }),
        )
    };
    for _ in 0..2 {
        let a = ask().await;
        assert_eq!((a.status, a.code()), (422, "unknown_asset"), "{}", a.body);
    }
    let refused = ask().await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{}", refused.body);
    // Per wallet: another wallet is not limited.
    let other = app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
    let a = app
        .post_as(
            "/v1/users/register",
            other["access_token"].as_str(),
            json!({ "asset_id": 9, "sponsor": Chain::Evm.address(&wallet) }),
        )
        .await;
    assert_eq!(a.code(), "unknown_asset");
}

#[tokio::test]
async fn retopup_requests_past_the_wallet_limit_get_429() {
    let app = spawn_app_configured(REDIS, |s| s.rate_limits.signing_per_wallet = 2).await;
    let wallet = PrivateKeySigner::random();
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let ask = || app.post_as("/v1/users/retopup", tokens["access_token"].as_str(), json!({ "asset_id": 9 }));
    for _ in 0..2 {
        let a = ask().await;
        assert_eq!((a.status, a.code()), (422, "unknown_asset"), "{}", a.body);
    }
    let refused = ask().await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{}", refused.body);
    // Retopup has its own window: the same wallet may still ask for a register payload.
    let register = app
        .post_as(
            "/v1/users/register",
            tokens["access_token"].as_str(),
            json!({ "asset_id": 9, "sponsor": Chain::Evm.address(&PrivateKeySigner::random()) }),
        )
        .await;
    assert_eq!(register.code(), "unknown_asset");
}
