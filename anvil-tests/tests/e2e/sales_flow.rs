//! The sales plan's orders end to end (issue 69, contracts/SALES.md §7), every service a real process: the catalogue
//! role sets products through the API and signs the catalogue's version with its wallet; a customer orders from a
//! member's link (a double click, a second tab: one order), pays the sales desk from its own wallet, takes the sale
//! back inside its window and is paid back in full; a second sale matures once anvil's clock passes its window. The
//! signer priced every sale itself from the signed version.

use alloy::{
    primitives::{Address, U256},
    providers::ext::AnvilApi,
    signers::{SignerSync, local::PrivateKeySigner},
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::DevChain,
    services::{WorkDir, ledger_database, start_backend_with_metrics, start_signer_extra},
};
use serde_json::{Value, json};

use crate::{BNB, LIMIT, USDT, start_listener_with_metrics};

const SALES_ASSET: i32 = 6;
const DAY: u64 = 86_400;

fn text<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str().unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

/// The catalogue version the API's typed data describes, as `abi::catalogue` builds it, and the domain's chain and
/// contract: what a wallet signs when it shows the person signing every price.
fn signed_typed_data(wallet: &PrivateKeySigner, typed: &Value) -> eyre::Result<String> {
    let m = &typed["message"];
    let number = |v: &Value, what: &str| -> eyre::Result<U256> { Ok(text(v, what).parse()?) };
    let products = m["products"]
        .as_array()
        .ok_or_else(|| eyre::eyre!("no products"))?
        .iter()
        .map(|p| {
            Ok(abi::catalogue::CatalogueProduct {
                sku: text(&p["sku"], "sku").to_owned(),
                price: number(&p["price"], "price")?,
                pv: number(&p["pv"], "pv")?,
                active: p["active"].as_bool().ok_or_else(|| eyre::eyre!("active"))?,
            })
        })
        .collect::<eyre::Result<Vec<_>>>()?;
    let version = abi::catalogue::CatalogueVersion {
        token: text(&m["token"], "token").parse()?,
        version: number(&m["version"], "version")?,
        retailBps: number(&m["retailBps"], "retailBps")?,
        refundWindow: number(&m["refundWindow"], "refundWindow")?,
        products,
    };
    let chain_id = typed["domain"]["chainId"].as_u64().ok_or_else(|| eyre::eyre!("chainId"))?;
    let contract: Address = text(&typed["domain"]["verifyingContract"], "verifyingContract").parse()?;
    let signature = wallet.sign_hash_sync(&version.digest(chain_id, contract))?;
    Ok(alloy::hex::encode_prefixed(signature.as_bytes()))
}

async fn order_state(api: &ApiClient, token: &str, id: i64) -> eyre::Result<Value> {
    api.get(&format!("/v1/orders/{id}"), Some(token)).await?.ok("GET /v1/orders/{id}")
}

async fn wait_state(api: &ApiClient, token: &str, id: i64, state: &str) -> eyre::Result<Value> {
    wait_for(&format!("order {id} {state}"), LIMIT, || async {
        let order = order_state(api, token, id).await?;
        Ok((order["state"] == state).then_some(order))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_orders_from_a_link_pays_once_takes_it_back_and_a_second_sale_matures() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let token = *chain.spare_tokens.last().ok_or_else(|| eyre::eyre!("no spare token"))?;
    let dir = WorkDir::new("sales-flow")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let mut params = ledger::plan::sales::SalesParams::defaults(6);
    params.refund_window = 2 * DAY;
    let spec = ledger::AssetSpec {
        id: SALES_ASSET,
        chain_id: chain.deployment().chain_id,
        token,
        symbol: "SUSDT".into(),
        decimals: 6,
        genesis: chain.admin.address(),
        params,
    };
    ledger::create_asset(&db.pool, &spec).await?;
    // The admin holds every staff role, `catalogue` too: its wallet is the signer's catalogue wallet.
    let extra = format!(
        "[[policy.chains.assets]]\ntoken = \"{token}\"\nper_payload_cap = \"1000000000\"\nper_batch_cap = \
         \"50000000000\"\ndaily_outflow_cap = \"100000000000\"\n[policy.catalogue]\nsigners = [\"{}\"]\n",
        chain.admin.address()
    );
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer_extra(&dir, &chain, &secret, &extra).await?;
    let (_backend, api_url, _) = start_backend_with_metrics(&dir, &chain, &url, &signer_url, &secret).await?;
    let _listener =
        start_listener_with_metrics(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100", None)?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;
    let rpc = chain.rpc_url();

    for (sku, name, price, pv) in [("BOOK", "A book", 10 * USDT, 10), ("MUG", "A mug", 5 * USDT / 2, 2)] {
        let body = json!({"name": name, "price": price.to_string(), "pv": pv, "active": true, "reason": "first stock"});
        let put = api
            .request(
                reqwest::Method::PUT,
                &format!("/v1/admin/catalogue/{SALES_ASSET}/products/{sku}"),
                Some(&admin),
                Some(body),
            )
            .await?;
        put.ok("PUT product")?;
    }

    // M joins (the plan's fee: 0) under genesis; C is a customer with tokens and gas.
    let (m, c) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    for w in [&m, &c] {
        chain.provider.anvil_set_balance(w.address(), U256::from(10 * BNB)).await?;
    }
    let usdt = abi::TestUSDT::new(token, wallet_provider(&rpc, &c)?);
    usdt.mint(c.address(), U256::from(1_000 * USDT)).send().await?.get_receipt().await?;
    let m_token = api.sign_in(&m).await?;
    let joined = api.register_payload(&m_token, SALES_ASSET, chain.admin.address()).await?;
    pay(&wallet_provider(&rpc, &m)?, &joined).await?;
    wait_for("M registered", LIMIT, || async {
        let s = api.standing(&m_token, SALES_ASSET).await?;
        Ok(s.filter(|s| s["user_no"].as_i64().is_some()))
    })
    .await?;

    let c_token = api.sign_in(&c).await?;
    let lines = json!([{"sku": "BOOK", "quantity": 2}, {"sku": "MUG", "quantity": 1}]);
    let order_body = json!({"asset_id": SALES_ASSET, "seller": m.address().to_checksum(None), "lines": lines});
    // Before a catalogue wallet signed a version, nothing is sold.
    let early = api.post_keyed("/v1/orders", &c_token, "order-early", order_body.clone()).await?;
    assert_eq!((early.status, early.code()), (409, "catalogue_unsigned"));

    let signing = api.get(&format!("/v1/admin/catalogue/{SALES_ASSET}/signing"), Some(&admin)).await?.ok("signing")?;
    assert!(signing["signed"].is_null());
    let signature = signed_typed_data(&chain.admin, &signing["typed_data"])?;
    let body = json!({"version": signing["version"], "signature": signature});
    let signed = api.post(&format!("/v1/admin/catalogue/{SALES_ASSET}/signatures"), Some(&admin), body).await?;
    let signed = signed.ok("POST signatures")?;
    assert_eq!(signed["signed"]["version"], signing["version"]);
    // Another wallet's signature is refused.
    let forged = signed_typed_data(&PrivateKeySigner::random(), &signing["typed_data"])?;
    let body = json!({"version": signing["version"], "signature": forged});
    let refused = api.post(&format!("/v1/admin/catalogue/{SALES_ASSET}/signatures"), Some(&admin), body).await?;
    assert_eq!((refused.status, refused.code()), (422, "invalid_signature"));

    // A double click and a second tab: one order, priced from the signed version (2 × 10 + 2.5 = 22.5, pv 22, retail
    // 20 % = 4.5).
    let first = api.post_keyed("/v1/orders", &c_token, "order-1", order_body.clone()).await?.ok("POST /v1/orders")?;
    assert_eq!(
        (
            first["state"].as_str(),
            first["amount"]["base"].as_str(),
            first["retail"]["base"].as_str(),
            first["pv"].as_u64()
        ),
        (Some("waiting"), Some("22500000"), Some("4500000"), Some(22))
    );
    assert_eq!(first["reissued"], false);
    let again = api.post_keyed("/v1/orders", &c_token, "order-1", order_body.clone()).await?.ok("again")?;
    let other_tab = api.post_keyed("/v1/orders", &c_token, "order-1b", order_body.clone()).await?.ok("other tab")?;
    for answer in [&again, &other_tab] {
        assert_eq!(
            (&answer["id"], &answer["sale_id"], answer["reissued"].as_bool()),
            (&first["id"], &first["sale_id"], Some(true))
        );
    }
    let different = json!({"asset_id": SALES_ASSET, "seller": m.address().to_checksum(None),
                           "lines": [{"sku": "MUG", "quantity": 3}]});
    let blocked = api.post_keyed("/v1/orders", &c_token, "order-2", different.clone()).await?;
    assert_eq!((blocked.status, blocked.code()), (409, "order_outstanding"));
    let bad = api
        .post_keyed(
            "/v1/orders",
            &c_token,
            "order-x",
            json!({"asset_id": SALES_ASSET,
        "seller": m.address().to_checksum(None), "lines": [{"sku": "NOPE", "quantity": 1}]}),
        )
        .await?;
    assert_eq!((bad.status, bad.code()), (422, "unknown_product"), "an order is priced before anything else");

    // C pays; the sale is open and may be taken back.
    let id = first["id"].as_i64().expect("an order id");
    let before = usdt.balanceOf(c.address()).call().await?;
    pay(&wallet_provider(&rpc, &c)?, &first).await?;
    let open = wait_state(&api, &c_token, id, "open").await?;
    assert!(open["transaction"].is_null(), "a paid order offers no second payment");
    assert_eq!(usdt.balanceOf(c.address()).call().await?, before - U256::from(22_500_000u64));
    let take_back = &open["take_back"];
    let tx = alloy::rpc::types::TransactionRequest::default()
        .to(text(&take_back["to"], "to").parse()?)
        .input(alloy::primitives::Bytes::from(alloy::hex::decode(text(&take_back["data"], "data"))?).into());
    let receipt =
        alloy::providers::Provider::send_transaction(&wallet_provider(&rpc, &c)?, tx).await?.get_receipt().await?;
    assert!(receipt.status(), "the take-back went through");
    let refunded = wait_state(&api, &c_token, id, "refunded").await?;
    assert!(refunded["take_back"].is_null());
    assert_eq!(usdt.balanceOf(c.address()).call().await?, before, "paid back in full");

    // A second order matures once the chain's clock passes its window.
    let second = api.post_keyed("/v1/orders", &c_token, "order-3", different).await?.ok("second order")?;
    assert_eq!(second["amount"]["base"], "7500000");
    let second_id = second["id"].as_i64().expect("an order id");
    pay(&wallet_provider(&rpc, &c)?, &second).await?;
    let open = wait_state(&api, &c_token, second_id, "open").await?;
    let until = open["refundable_until"].as_u64().expect("a window");
    chain.provider.anvil_set_next_block_timestamp(until + 1).await?;
    chain.provider.evm_mine(None).await?;
    for _ in 0..3 {
        chain.provider.evm_mine(None).await?;
    }
    let final_ = wait_state(&api, &c_token, second_id, "final").await?;
    assert!(final_["take_back"].is_null(), "a final sale is not taken back");
    Ok(())
}
