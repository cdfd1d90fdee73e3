//! Sign-in rate limits per wallet and per client IP.

use alloy::signers::local::PrivateKeySigner;
use serde_json::json;

use crate::helpers::{Chain, spawn_app_configured};

const REDIS: &str = "redis://127.0.0.1:6379";

#[tokio::test]
async fn signin_requests_past_the_wallet_limit_get_429() {
    let app = spawn_app_configured(REDIS, |s| s.rate_limits.signin_per_wallet = 3).await;
    let wallet = PrivateKeySigner::random();
    let ask = || app.post("/v1/auth/nonce", json!({ "address": Chain::Evm.address(&wallet), "chain": "evm" }));
    // Two nonces and one sign-in use the wallet's 3 requests.
    let message = app.nonce(Chain::Evm, &wallet).await;
    assert_eq!(ask().await.status, 200);
    assert_eq!(app.signin_with(&message, &Chain::Evm.sign(&wallet, &message)).await.status, 200);
    let refused = ask().await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"), "{}", refused.body);
    // The limit is per wallet: another wallet still signs in.
    app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
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
    let app = spawn_app_configured(REDIS, |s| s.rate_limits.register_per_wallet = 2).await;
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
