//! What a member reads beside a pay button, over HTTP: `/v1/public/prices` reads a real aggregator (the devnet's
//! stand-in, Chainlink's interface) on anvil and judges its answer by the chain's clock — current, stale, invalid —,
//! the network fee is the chain's gas price × the payment's gas; `/v1/public/operator` says who runs the service;
//! `/v1/public/sponsor` what anyone may know of a referral link's sponsor; `/v1/admin/users/{address}` shows staff a
//! member's standing as the member's own dashboard reads it.

use alloy::network::EthereumWallet;
use alloy::primitives::{I256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use backend::config::{OperatorSettings, PriceFeed, PriceSettings};
use backend::http::prices::{fiat_of, gas};
use serde_json::json;

use crate::common::{ASSET, CHAIN, genesis, named};
use crate::helpers::{spawn_app, spawn_app_configured};
use crate::payouts::{anvil_settlement, chain_settings};

#[tokio::test]
async fn a_price_is_the_feeds_answer_while_fresh_by_the_chains_clock_and_the_fee_is_gas_times_its_price() {
    let (anvil, settlement, _) = anvil_settlement(0).await;
    let owner = PrivateKeySigner::from(anvil.keys()[5].clone());
    let provider =
        ProviderBuilder::new().wallet(EthereumWallet::from(owner)).connect_http(anvil.endpoint_url()).erased();
    let feed =
        abi::StandInAggregator::deploy(&provider, 8, "BNB / USD".into(), I256::try_from(61_234_000_000i64).unwrap())
            .await
            .unwrap();
    let mut chain = chain_settings(settlement);
    chain.spec.rpc_url = Some(anvil.endpoint());
    let app = spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.chains = vec![chain];
        s.prices = Some(PriceSettings {
            currency: "USD".into(),
            max_age_secs: 3_600,
            cache_secs: 1,
            feeds: vec![PriceFeed {
                chain_id: CHAIN,
                feed: *feed.address(),
                assets: vec![ASSET],
                native_of: vec![CHAIN],
            }],
        });
    })
    .await;
    app.register_in_ledger(&[]).await;

    let a = app.get("/v1/public/prices", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["currency"], "USD");
    let asset = &a.body["assets"][0];
    assert_eq!(asset["asset_id"], ASSET);
    assert_eq!(asset["price"]["state"], "current", "{}", a.body);
    assert_eq!(asset["price"]["value"], "612.34000000");
    assert_eq!(asset["price"]["round_id"], "1");
    assert_eq!(asset["price"]["feed"], feed.address().to_checksum(None));
    // The fee: the chain's gas price now × a native registration's gas, in BNB and in dollars.
    let gas_price: u128 = a.body["chains"][0]["gas_price"].as_str().unwrap().parse().unwrap();
    assert!(gas_price > 0 && gas_price <= provider.get_gas_price().await.unwrap() * 2, "{gas_price}");
    let first = &asset["first_payment_fee"];
    assert_eq!(first["gas"], gas::REGISTER_NATIVE);
    let fee = gas_price * u128::from(gas::REGISTER_NATIVE);
    assert_eq!(first["fee"]["base"], fee.to_string());
    assert_eq!(first["fiat"], fiat_of(fee, 18, "612.34000000").unwrap());
    assert_eq!(asset["later_payment_fee"]["gas"], gas::RETOPUP);

    // Two hours old by the chain's clock (the host's does not count): stale, no price, no fee in dollars.
    let now = provider.get_block_by_number(Default::default()).await.unwrap().unwrap().header.timestamp;
    feed.setAnswerAt(I256::try_from(60_000_000_000i64).unwrap(), U256::from(now - 7_200))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let stale = prices_once(&app, "stale").await;
    let asset = &stale["assets"][0];
    assert_eq!(asset["price"]["state"], "stale", "{stale}");
    assert!(asset["price"].get("value").is_none(), "{stale}");
    assert_eq!(asset["price"]["updated_at"], now - 7_200);
    assert!(asset["first_payment_fee"].get("fiat").is_none(), "no dollars from a stale price: {stale}");
    assert!(asset["first_payment_fee"]["fee"]["base"].as_str().is_some(), "the fee in BNB stays");

    // A negative answer is no price at all.
    feed.setAnswer(I256::try_from(-1i64).unwrap()).send().await.unwrap().get_receipt().await.unwrap();
    let invalid = prices_once(&app, "invalid").await;
    assert_eq!(invalid["assets"][0]["price"]["state"], "invalid", "{invalid}");
    drop(anvil);
    // The chain gone: the feed is unavailable, the fee unknown, and the answer still 200.
    let gone = prices_once(&app, "unavailable").await;
    assert!(gone["assets"][0].get("first_payment_fee").is_none(), "{gone}");
}

/// The prices once the first asset's price reads `state` (the API keeps an answer `cache_secs`, here 1 s), each
/// answer 200; fails after ten seconds.
async fn prices_once(app: &crate::helpers::TestApp, state: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let a = app.get("/v1/public/prices", None).await;
        assert_eq!(a.status, 200, "{}", a.body);
        if a.body["assets"][0]["price"]["state"] == state {
            return a.body;
        }
        assert!(std::time::Instant::now() < deadline, "the price never read {state}: {}", a.body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn without_a_price_source_or_an_operator_the_answers_say_so() {
    let app = spawn_app().await;
    app.register_in_ledger(&[]).await;
    let p = app.get("/v1/public/prices", None).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.get("currency").is_none(), "{}", p.body);
    assert!(p.body["assets"][0].get("price").is_none(), "{}", p.body);
    let o = app.get("/v1/public/operator", None).await;
    assert_eq!((o.status, &o.body), (200, &json!({})));
}

#[tokio::test]
async fn the_operator_is_shown_as_configured_and_a_bad_one_refuses_to_start() {
    let operator = OperatorSettings {
        name: "Example".into(),
        legal_name: "Example Ltd".into(),
        registration: None,
        address: "1 Example Street".into(),
        contact_email: "support@example.com".into(),
        jurisdiction: "England and Wales".into(),
        terms_url: "/terms.html".into(),
        privacy_url: Some("https://example.com/privacy".into()),
    };
    assert!(operator.validate().is_ok());
    for bad in [
        OperatorSettings { terms_url: "javascript:alert(1)".into(), ..operator.clone() },
        OperatorSettings { terms_url: "//evil.example/terms".into(), ..operator.clone() },
        OperatorSettings { contact_email: "nobody".into(), ..operator.clone() },
        OperatorSettings { name: "x".repeat(201), ..operator.clone() },
        OperatorSettings { address: "line\nbreak".into(), ..operator.clone() },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
    let shown = operator.clone();
    let app = spawn_app_configured("redis://127.0.0.1:6379", |s| s.operator = Some(shown)).await;
    let o = app.get("/v1/public/operator", None).await;
    assert_eq!(o.status, 200);
    assert_eq!(o.body["operator"]["legal_name"], "Example Ltd");
    assert_eq!(o.body["operator"]["terms_url"], "/terms.html");
    assert!(o.body["operator"].get("registration").is_none());
}

#[tokio::test]
async fn a_sponsor_is_a_member_with_a_number_and_referrals_or_not_a_member_and_staff_look_members_up() {
    let app = spawn_app().await;
    let (a, b, stranger) = (named("A"), named("B"), named("stranger"));
    app.register_in_ledger(&[(a, genesis()), (b, a)]).await;
    let s = app.get(&format!("/v1/public/sponsor?asset_id={ASSET}&address={a}"), None).await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["registered"], true);
    assert_eq!(s.body["user_no"], 1);
    assert_eq!(s.body["direct_referrals"], 1);
    assert_eq!(s.body["frozen"], false);
    assert!(s.body["registered_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{}", s.body);
    let g = app.get(&format!("/v1/public/sponsor?asset_id={ASSET}&address={}", genesis()), None).await;
    assert_eq!((g.body["user_no"].as_i64(), g.body["direct_referrals"].as_i64()), (Some(0), Some(1)), "{}", g.body);
    let n = app.get(&format!("/v1/public/sponsor?asset_id={ASSET}&address={stranger}"), None).await;
    assert_eq!((n.status, &n.body["registered"]), (200, &json!(false)));
    assert!(n.body.get("user_no").is_none());
    assert_eq!(app.get(&format!("/v1/public/sponsor?asset_id=99&address={a}"), None).await.status, 404);
    let long = app.get(&format!("/v1/public/sponsor?asset_id={ASSET}&address={}", "f".repeat(300)), None).await;
    assert_eq!((long.status, long.code()), (422, "invalid_address"));
    assert_eq!(app.get(&format!("/v1/public/sponsor?asset_id={ASSET}"), None).await.status, 400);

    // Staff: the member's profile as their own dashboard reads it; nobody else may ask.
    let admin = app.admin_token().await;
    let p = app.get(&format!("/v1/admin/users/{a}"), Some(&admin)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["address"], a.to_checksum(None));
    assert_eq!(p.body["assets"][0]["user_no"], 1);
    assert_eq!(p.body["assets"][0]["direct_referrals"], 1);
    assert_eq!(p.body["assets"][0]["balances"]["paid_in"], "20000000000000000000");
    let none = app.get(&format!("/v1/admin/users/{stranger}"), Some(&admin)).await;
    assert_eq!((none.status, &none.body["assets"]), (200, &json!([])));
    assert_eq!(app.get("/v1/admin/users/nope", Some(&admin)).await.status, 422);
    let user = app.user_token().await;
    assert_eq!(app.get(&format!("/v1/admin/users/{a}"), Some(&user)).await.status, 403);
    assert_eq!(app.get(&format!("/v1/admin/users/{a}"), None).await.status, 401);
}
