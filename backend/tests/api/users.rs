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
    ledger::admin::freeze(&app.db.pool, crate::common::ASSET, wallet.address(), "test", "test").await.unwrap();
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
    for path in [
        "/v1/users/me",
        "/v1/admin/ping",
        "/v1/users/referrals?asset_id=1",
        "/v1/users/tree?asset_id=1",
        "/v1/users/history?asset_id=1",
        "/v1/admin/audit",
    ] {
        let a = app.get(path, None).await;
        assert_eq!((a.status, a.code()), (401, "missing_token"), "{path}");
        let a = app.get(path, Some("not-a-jwt")).await;
        assert_eq!((a.status, a.code()), (401, "invalid_token"), "{path}");
    }
    // A token signed with another key is refused.
    let forged = backend::auth::jwt::AccessTokens::new(b"another-secret", 600)
        .issue(app.admin.address(), backend::auth::Role::Admin, None)
        .unwrap();
    let a = app.get("/v1/admin/ping", Some(&forged)).await;
    assert_eq!((a.status, a.code()), (401, "invalid_token"));

    let user = app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
    let a = app.get("/v1/admin/ping", user["access_token"].as_str()).await;
    assert_eq!((a.status, a.code()), (403, "forbidden"));
}

/// W under genesis; R1..R5 under W; S1 under R1; T1 under S1 (blocks 10..=17).
async fn seed_tree(app: &crate::helpers::TestApp, w: alloy::primitives::Address) -> Vec<alloy::primitives::Address> {
    use crate::common::named;
    let r: Vec<_> = (1..=5).map(|i| named(&format!("R{i}"))).collect();
    let (s1, t1) = (named("S1"), named("T1"));
    let mut regs = vec![(w, crate::common::genesis())];
    regs.extend(r.iter().map(|&x| (x, w)));
    regs.extend([(s1, r[0]), (t1, s1)]);
    app.register_in_ledger(&regs).await;
    regs.into_iter().map(|(u, _)| u).collect()
}

#[tokio::test]
async fn referrals_are_paged_by_keyset_in_registration_order() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let users = seed_tree(&app, wallet.address()).await;
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let token = tokens["access_token"].as_str();
    let mut seen = Vec::new();
    let mut path = "/v1/users/referrals?asset_id=1&limit=2".to_owned();
    let mut pages = 0;
    loop {
        let a = app.get(&path, token).await;
        assert_eq!(a.status, 200, "{}", a.body);
        pages += 1;
        for item in a.body["items"].as_array().unwrap() {
            seen.push((item["user_no"].as_i64().unwrap(), item["address"].as_str().unwrap().to_owned()));
            assert_eq!(item["has_retopup"], false);
            assert_eq!(item["registered_block"], 9 + item["user_no"].as_i64().unwrap());
        }
        match a.body["next_cursor"].as_i64() {
            Some(c) => path = format!("/v1/users/referrals?asset_id=1&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<_> = (2..=6).map(|n| (n as i64, users[n - 1].to_checksum(None))).collect();
    assert_eq!(seen, expected);
    // R1 has one referral (S1).
    let all = app.get("/v1/users/referrals?asset_id=1", token).await;
    assert_eq!(all.body["items"][0]["direct_referrals"], 1);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 5);
    // Unknown asset: 404; a wallet not registered: empty.
    let a = app.get("/v1/users/referrals?asset_id=9", token).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));
    let other = app.signin(Chain::Evm, &PrivateKeySigner::random()).await;
    let a = app.get("/v1/users/referrals?asset_id=1", other["access_token"].as_str()).await;
    assert_eq!((a.status, &a.body), (200, &serde_json::json!({ "items": [], "next_cursor": null })));
}

#[tokio::test]
async fn tree_is_bounded_by_depth() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    let users = seed_tree(&app, wallet.address()).await;
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let token = tokens["access_token"].as_str();
    let shape = |body: &serde_json::Value| -> Vec<(i64, i64, i64)> {
        body["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["user_no"].as_i64().unwrap(), n["sponsor_no"].as_i64().unwrap(), n["depth"].as_i64().unwrap()))
            .collect()
    };
    let a = app.get("/v1/users/tree?asset_id=1&depth=1", token).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["root"]["user_no"], 1);
    assert_eq!(a.body["root"]["address"], users[0].to_checksum(None));
    assert_eq!(a.body["root"]["sponsor_no"], 0);
    assert_eq!(a.body["root"]["direct_referrals"], 5);
    assert_eq!(a.body["truncated"], false);
    assert_eq!(shape(&a.body), vec![(2, 1, 1), (3, 1, 1), (4, 1, 1), (5, 1, 1), (6, 1, 1)]);
    let a = app.get("/v1/users/tree?asset_id=1", token).await;
    assert_eq!(a.body["depth"], 3);
    assert_eq!(shape(&a.body), vec![(2, 1, 1), (3, 1, 1), (4, 1, 1), (5, 1, 1), (6, 1, 1), (7, 2, 2), (8, 7, 3)]);
    assert_eq!(a.body["nodes"][6]["address"], users[7].to_checksum(None));
    let a = app.get("/v1/users/tree?asset_id=1&depth=2", token).await;
    assert_eq!(shape(&a.body).len(), 6);
}

#[tokio::test]
async fn history_lists_my_rewards_newest_first() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    seed_tree(&app, wallet.address()).await;
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let token = tokens["access_token"].as_str();
    // R1 (1st): DIRECT; R2 (2nd): W's pool entry q=0; R3: DIRECT; R4: W's second node q=1,
    // whose parent q=0 is W's own: POOL_L1 10; R5: DIRECT.
    let row = |b: &serde_json::Value| {
        (
            b["kind"].as_str().unwrap().to_owned(),
            b["amount"]["human"].as_str().unwrap().to_owned(),
            b["block"].as_i64().unwrap(),
        )
    };
    let first = app.get("/v1/users/history?asset_id=1&limit=2", token).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let items = first.body["items"].as_array().unwrap();
    assert_eq!(
        items.iter().map(row).collect::<Vec<_>>(),
        vec![("DIRECT".into(), "18 BNB".into(), 15), ("POOL_L1".into(), "10 BNB".into(), 14)]
    );
    assert_eq!(items[0]["amount"]["base"], "18000000000000000000");
    assert_eq!(items[1]["level"], 1);
    assert!(items.iter().all(|i| i["status"] == "pending" && i["plan_version"] == 1), "{}", first.body);
    let cursor = first.body["next_cursor"].as_i64().unwrap();
    let second = app.get(&format!("/v1/users/history?asset_id=1&limit=2&cursor={cursor}"), token).await;
    assert_eq!(
        second.body["items"].as_array().unwrap().iter().map(row).collect::<Vec<_>>(),
        vec![("DIRECT".into(), "18 BNB".into(), 13), ("DIRECT".into(), "18 BNB".into(), 11)]
    );
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
}
