//! GET /v1/users/me and the role checks.

use alloy::signers::local::PrivateKeySigner;

use crate::helpers::{Chain, spawn_app};

#[tokio::test]
async fn me_shows_the_registered_wallet_per_asset() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let genesis = crate::common::genesis();
    let (r1, r2) = (crate::common::named("R1"), crate::common::named("R2"));
    // Two referrals: the first pays the wallet a direct reward, the second (pool_entry_every =
    // 2) places the wallet in the level-1 pool.
    let params =
        app.register_in_ledger(&[(wallet.address(), genesis), (r1, wallet.address()), (r2, wallet.address())]).await;
    assert_eq!(params.pool_entry_every, 2);
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let me = app.get("/v1/users/me", tokens["access_token"].as_str()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let assets = me.body["assets"].as_array().unwrap();
    assert_eq!(assets.len(), 1, "{}", me.body);
    let bnb = &assets[0];
    assert_eq!(bnb["asset_id"], crate::common::ASSET);
    assert_eq!(bnb["symbol"], "BNB");
    assert_eq!(bnb["status"], "active");
    assert_eq!(bnb["user_no"], 1);
    assert_eq!(bnb["sponsor"], crate::common::genesis().to_checksum(None));
    assert_eq!(bnb["direct_referrals"], 2);
    let owed: u128 = ["pending", "held", "reserved", "claimable"]
        .iter()
        .map(|k| bnb["balances"][k].as_str().unwrap().parse::<u128>().unwrap())
        .sum();
    assert_eq!(owed, params.direct_amount, "{}", me.body);
    assert_eq!(bnb["balances"]["paid_in"], params.registration_fee.to_string());
    // The registration places the wallet in the level-1 pool.
    let nodes = bnb["pool_nodes"].as_array().unwrap();
    assert_eq!(
        nodes.iter().map(|n| n["active"].as_i64().unwrap() + n["completed"].as_i64().unwrap()).sum::<i64>(),
        1,
        "{}",
        me.body
    );
    assert_eq!(nodes[0]["level"], 1);

    // A wallet an admin froze shows as frozen.
    backend::ledger::admin::freeze(&app.db.pool, crate::common::ASSET, wallet.address(), "test").await.unwrap();
    let me = app.get("/v1/users/me", tokens["access_token"].as_str()).await;
    assert_eq!(me.body["assets"][0]["status"], "frozen");
}

#[tokio::test]
async fn me_for_an_unknown_wallet_is_an_empty_profile() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let tokens = app.signin(Chain::Tron, &wallet).await;
    let me = app.get("/v1/users/me", tokens["access_token"].as_str()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["address"], wallet.address().to_checksum(None));
    assert_eq!(me.body["assets"], serde_json::json!([]));
}

#[tokio::test]
async fn no_token_is_401_and_a_user_on_an_admin_route_is_403() {
    let app = spawn_app().await;
    for path in ["/v1/users/me", "/v1/admin/ping"] {
        let a = app.get(path, None).await;
        assert_eq!((a.status, a.code()), (401, "missing_token"), "{path}");
        let a = app.get(path, Some("not-a-jwt")).await;
        assert_eq!((a.status, a.code()), (401, "invalid_token"), "{path}");
    }
    // A token signed with another key is refused.
    let forged = backend::auth::jwt::AccessTokens::new(b"another-secret", 600)
        .issue(app.admin.address(), backend::auth::Role::Admin)
        .unwrap();
    let a = app.get("/v1/admin/ping", Some(&forged)).await;
    assert_eq!((a.status, a.code()), (401, "invalid_token"));

    let user = app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
    let a = app.get("/v1/admin/ping", user["access_token"].as_str()).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"));
}
