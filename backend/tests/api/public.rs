//! GET /v1/public/plan and /v1/public/disclosure: no login, exact values.

use crate::common::{genesis, named};
use crate::helpers::spawn_app;

#[tokio::test]
async fn plan_shows_each_assets_parameters_in_base_units_and_human_form() {
    let app = spawn_app().await;
    let empty = app.get("/v1/public/plan", None).await;
    assert_eq!(
        (empty.status, &empty.body),
        (200, &serde_json::json!({ "assets": [], "generation": [], "binary": [], "sales": [] }))
    );

    app.register_in_ledger(&[]).await;
    let a = app.get("/v1/public/plan", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let assets = a.body["assets"].as_array().unwrap();
    assert_eq!(assets.len(), 1, "{}", a.body);
    let p = &assets[0];
    assert_eq!(p["asset_id"], crate::common::ASSET);
    assert_eq!(p["chain_id"], crate::common::CHAIN);
    assert_eq!(p["token"], "0x0000000000000000000000000000000000000000");
    assert_eq!(p["symbol"], "BNB");
    assert_eq!(p["decimals"], 18);
    assert_eq!(p["version"], 1);
    assert_eq!(p["effective_from_block"], 0);
    assert_eq!(p["registration_fee"], serde_json::json!({ "base": "20000000000000000000", "human": "20 BNB" }));
    assert_eq!(p["direct_amount"], serde_json::json!({ "base": "18000000000000000000", "human": "18 BNB" }));
    assert_eq!(p["retopup_fee"], serde_json::json!({ "base": "40000000000000000000", "human": "40 BNB" }));
    assert_eq!(p["pool_entry_every"], 2);
    assert_eq!(p["max_nodes_per_level"], 15);
    assert_eq!(p["reserve_slots"], 4);
    assert_eq!(p["layer_bps"], serde_json::json!([5000, 2500, 1500]));
    assert_eq!(p["level_bps"], serde_json::json!([3000, 1500, 1000, 500, 500, 500, 500, 500, 1000, 1000]));
    let prices = p["level_price"].as_array().unwrap();
    assert_eq!(prices.len(), 15);
    assert_eq!(prices[0]["human"], "20 BNB");
    assert_eq!(prices[1]["human"], "40 BNB");
    assert_eq!(prices[14]["human"], format!("{} BNB", 20u128 << 14));
    assert_eq!(prices[14]["base"], (20u128 << 14).checked_mul(crate::common::BNB).unwrap().to_string());
}

#[tokio::test]
async fn disclosure_shows_participants_outcomes() {
    let app = spawn_app().await;
    let (a, b, c, d, e) = (named("A"), named("B"), named("C"), named("D"), named("E"));
    // PLAN.md §8 events 1–4, then E under A (A's 3rd: DIRECT).
    app.register_in_ledger(&[(a, genesis()), (b, genesis()), (c, a), (d, a), (e, a)]).await;
    let r = app.get("/v1/public/disclosure", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A: 18 + 18 − 20 = 16; B, C, D, E: −20 each. Company: 2 + 20 + 2 + 10 + 2 = 36.
    assert_eq!(
        r.body,
        serde_json::json!({ "assets": [{
            "asset_id": 1,
            "symbol": "BNB",
            "participants": 5,
            "received_at_least_paid_in": 1,
            "median_net": { "base": "-20000000000000000000", "human": "-20 BNB" },
            "company_total": { "base": "36000000000000000000", "human": "36 BNB" },
            "users_at_cap": null,
        }]})
    );
}

#[tokio::test]
async fn chains_name_the_signin_site_and_each_chain_as_configured() {
    let mut bsc = backend::config::ChainSettings::new(56, alloy::primitives::Address::repeat_byte(7));
    bsc.tuning.name = Some("BNB Smart Chain".into());
    bsc.tuning.public_rpc_url = Some("https://rpc.example".into());
    bsc.tuning.explorer_url = Some("https://bscscan.example/".into());
    bsc.tuning.native_currency =
        Some(backend::config::NativeCurrency { name: "BNB".into(), symbol: "BNB".into(), decimals: 18 });
    let bare = backend::config::ChainSettings::new(97, alloy::primitives::Address::repeat_byte(8));
    let app = crate::helpers::spawn_app_configured("redis://127.0.0.1:6379", |s| s.chains = vec![bsc, bare]).await;
    let a = app.get("/v1/public/chains", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["signin_uri"], crate::helpers::URI);
    assert_eq!(a.body["signin_domain"], crate::helpers::DOMAIN);
    let mut chains = a.body["chains"].as_array().unwrap().clone();
    chains.sort_by_key(|c| c["chain_id"].as_u64());
    assert_eq!(
        chains,
        vec![
            serde_json::json!({ "chain_id": 56, "name": "BNB Smart Chain", "public_rpc_url": "https://rpc.example",
                "explorer_url": "https://bscscan.example",
                "native_currency": { "name": "BNB", "symbol": "BNB", "decimals": 18 } }),
            serde_json::json!({ "chain_id": 97 }),
        ]
    );
}

/// WalletConnect is offered only when configured: its project id and relay are public, and the pages' security
/// policy then lets them reach that relay and the EVM chains' public RPCs, nothing else.
#[tokio::test]
async fn walletconnect_is_announced_and_allowed_only_when_configured() {
    let plain = crate::helpers::spawn_app().await;
    let a = plain.get("/v1/public/chains", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.get("walletconnect").is_none(), "{}", a.body);

    let mut bsc = backend::config::ChainSettings::new(56, alloy::primitives::Address::repeat_byte(7));
    bsc.tuning.public_rpc_url = Some("https://rpc.example/x".into());
    let app = crate::helpers::spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.chains = vec![bsc];
        s.walletconnect = Some(backend::config::WalletConnectSettings {
            project_id: "0123456789abcdef0123456789abcdef".into(),
            relay_url: "wss://relay.example".into(),
        });
    })
    .await;
    let a = app.get("/v1/public/chains", None).await;
    assert_eq!(
        a.body["walletconnect"],
        serde_json::json!({ "project_id": "0123456789abcdef0123456789abcdef", "relay_url": "wss://relay.example" })
    );
    let page = app.client.get(format!("{}/", app.base)).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("connect-src 'self' wss://relay.example https://rpc.example;"), "{csp}");
    let plain_page = plain.client.get(format!("{}/", plain.base)).send().await.unwrap();
    assert!(plain_page.headers()["content-security-policy"].to_str().unwrap().contains("connect-src 'self';"));
}
