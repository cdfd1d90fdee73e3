//! Creating assets (`POST /v1/admin/assets`, issue 44): against a real anvil with the Settlement contract deployed by
//! the deployment command, the decimals and symbol read from the token, the token's allowance on the contract, the
//! plan's rules, a request sent twice, and the audit log.

use alloy::primitives::{Address, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{Provider, ProviderBuilder};
use serde_json::{Value, json};

use crate::common::CHAIN;
use crate::helpers::{TestApp, spawn_app_configured};
use crate::payouts::{anvil_settlement, chain_settings};

async fn asset_rows(app: &TestApp) -> Vec<(i32, String, i16, Vec<u8>)> {
    sqlx::query_as("SELECT id, symbol, decimals, genesis FROM assets ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_creates_assets_whose_decimals_the_token_tells_once_each_audited() {
    let (anvil, settlement, _) = anvil_settlement(0).await;
    let deployer: alloy::signers::local::PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new().wallet(deployer).connect_http(anvil.endpoint_url());
    let usdt = deploy::profile("bsc-testnet").unwrap().usdt;
    let mut chain = chain_settings(settlement);
    chain.spec.rpc_url = Some(anvil.endpoint());
    let app = spawn_app_configured("redis://127.0.0.1:6379", |s| s.chains = vec![chain]).await;
    let token = app.admin_token().await;
    // The profile's USDT holds TestUSDT's code without its constructor's storage: give it a deployed one's (its name
    // and symbol), so that it answers symbol() as a token does.
    let deployed = *abi::TestUSDT::deploy(&provider).await.unwrap().address();
    for slot in 0..16u64 {
        let value = provider.get_storage_at(deployed, U256::from(slot)).await.unwrap();
        provider.anvil_set_storage_at(usdt, U256::from(slot), value.into()).await.unwrap();
    }
    let genesis = Address::repeat_byte(0x61).to_checksum(None);
    let create = |body: Value| {
        let (app, token) = (&app, &token);
        async move { app.post_admin("/v1/admin/assets", token, body).await }
    };

    // A dry run reads the token and fills in the plan's defaults at its decimals, and creates nothing.
    let dry = create(json!({ "chain_id": CHAIN, "token": usdt.to_string(), "genesis": genesis, "plan": "auto_pool",
        "dry_run": true }))
    .await;
    assert_eq!(dry.status, 200, "{:?}", dry.body);
    assert_eq!(dry.body["created"], false);
    assert_eq!(dry.body["asset"]["decimals"], 6);
    assert_eq!(dry.body["asset"]["symbol"], "USDT");
    assert_eq!(dry.body["asset"]["params"]["registration_fee"], "20000000");
    assert!(asset_rows(&app).await.is_empty());

    // Refusals change nothing: an EOA, a contract that is no token, a token the contract does not take, a plan with a
    // key it does not have or breaking its rules, a zero genesis, a chain outside the spec, a member's token.
    let eoa = Address::repeat_byte(0x42);
    let unlisted = Address::repeat_byte(0x43);
    provider.anvil_set_code(unlisted, abi::TestUSDT::DEPLOYED_BYTECODE.clone()).await.unwrap();
    let mut bad_rules = dry.body["asset"]["params"].clone();
    bad_rules["level_price"] = json!([]);
    let mut misspelt = dry.body["asset"]["params"].clone();
    misspelt["registraton_fee"] = json!("1");
    let cases = [
        (json!({ "token": eoa.to_string() }), 422, "not_a_contract"),
        (json!({ "token": settlement.to_string() }), 422, "not_a_token"),
        (json!({ "token": unlisted.to_string() }), 422, "token_not_allowed"),
        (json!({ "params": bad_rules }), 422, "invalid_plan"),
        (json!({ "params": misspelt }), 422, "invalid_plan"),
        (json!({ "genesis": Address::ZERO.to_string() }), 422, "invalid_genesis"),
        (json!({ "chain_id": 1 }), 422, "unknown_chain"),
        (json!({ "symbol": "<script>" }), 422, "invalid_symbol"),
        (json!({ "plan": "binary_forever" }), 422, "invalid_body"),
        (json!({ "token": "x".repeat(10_000) }), 422, "invalid_address"),
    ];
    for (change, status, code) in cases {
        let mut body = json!({ "chain_id": CHAIN, "token": usdt.to_string(), "genesis": genesis, "plan": "auto_pool" });
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let answer = create(body.clone()).await;
        assert_eq!((answer.status, answer.code()), (status, code), "{body}: {:?}", answer.body);
    }
    assert!(asset_rows(&app).await.is_empty());
    let member = app.user_token().await;
    let forbidden = app
        .post_as(
            "/v1/admin/assets",
            Some(&member),
            json!({ "chain_id": CHAIN, "token": "native", "genesis": genesis,
            "plan": "auto_pool" }),
        )
        .await;
    assert_eq!(forbidden.status, 403);

    // Created: 201, the id one above the highest, plan version 1 from block 0, the genesis user, an audit entry.
    let created =
        create(json!({ "chain_id": CHAIN, "token": usdt.to_string(), "genesis": genesis, "plan": "auto_pool" })).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!((created.body["created"].clone(), created.body["asset"]["id"].clone()), (json!(true), json!(1)));
    let rows = asset_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0, rows[0].1.as_str(), rows[0].2), (1, "USDT", 6));
    assert_eq!(rows[0].3, Address::repeat_byte(0x61).to_vec());
    let plan = app.get("/v1/admin/plan?asset_id=1", Some(&token)).await;
    assert_eq!(plan.body["versions"][0]["effective_from_block"], 0);
    assert_eq!(plan.body["versions"][0]["params"]["registration_fee"], "20000000");
    let (actor, after): (String, Value) =
        sqlx::query_as("SELECT actor, after FROM audit_logs WHERE action = 'create_asset' AND asset_id = 1")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(actor, app.admin.address().to_checksum(None));
    assert_eq!((after["decimals"].clone(), after["plan_kind"].clone()), (json!(6), json!("auto_pool")));

    // Sent twice (a double click, a retry): one asset.
    let again =
        create(json!({ "chain_id": CHAIN, "token": usdt.to_string(), "genesis": genesis, "plan": "auto_pool" })).await;
    assert_eq!((again.status, again.code()), (409, "token_has_asset"));
    let dry_again = create(json!({ "chain_id": CHAIN, "token": usdt.to_string(), "genesis": genesis,
        "plan": "auto_pool", "dry_run": true }))
    .await;
    assert_eq!((dry_again.status, dry_again.code()), (409, "token_has_asset"), "a dry run says so too");
    let taken =
        create(json!({ "id": 1, "chain_id": CHAIN, "token": "native", "genesis": genesis, "plan": "auto_pool" })).await;
    assert_eq!((taken.status, taken.code()), (409, "asset_exists"));

    // The binary plan is served: a dry run fills in its own defaults at the native coin's decimals.
    let binary = create(json!({ "chain_id": CHAIN, "token": "native", "genesis": genesis, "plan": "binary",
        "dry_run": true }))
    .await;
    assert_eq!((binary.status, binary.body["created"].clone()), (200, json!(false)), "{:?}", binary.body);
    assert_eq!(binary.body["asset"]["params"]["pair_volume"], "100000000000000000000", "{:?}", binary.body);
    assert_eq!(binary.body["asset"]["params"]["period"], "month");
    // The native coin: the chain's 18 decimals; the generation plan with its own defaults. The public list shows both.
    let native = create(json!({ "id": 5, "chain_id": CHAIN, "token": "native", "genesis": genesis,
        "plan": "generation" }))
    .await;
    assert_eq!(native.status, 201, "{:?}", native.body);
    assert_eq!(
        (native.body["asset"]["decimals"].clone(), native.body["asset"]["symbol"].clone()),
        (json!(18), json!("BNB"))
    );
    assert!(native.body["asset"]["params"]["packages"].is_array());
    assert_eq!(asset_rows(&app).await.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 5]);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'create_asset'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 2);
}
