//! The generation plan (PLAN-GENERATION.md) end to end on its own token, every service a real process: wallets
//! buy packages through the API and their own transactions (PLAN-GENERATION.md §7's example, so that A reaches its
//! cap), the listener applies them; A gets a second leg and buys again; anvil's clock moves on to the week's end
//! (the asset's weeks end minutes after it is created) and the listener's confirmed head closes the week with A's
//! rank bonus; the admin pays everything out through the API,
//! each entry less the 5 % withdrawal fee rounded up, the fees credited to the company; the reconciler finds custody
//! and the ledger equal.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::{DevChain, GENERATION_ASSET},
    services::{WorkDir, free_port, ledger_database, start_backend_with_metrics, start_signer, wait_listener_through},
};
use serde_json::{Value, json};

use crate::{BNB, CHAIN, LIMIT, USDT, start_listener_with_metrics};

fn amount(v: &Value) -> U256 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a decimal amount: {v}"))
}

struct Buyer {
    wallet: PrivateKeySigner,
    token: String,
    purchases: i64,
}

/// `b` pays `package` whole USDT-like units: a registration under `sponsor`, or a purchase without one; returns
/// the block once the listener has applied it.
async fn buy(api: &ApiClient, rpc: &str, b: &mut Buyer, sponsor: Option<Address>, package: u128) -> eyre::Result<u64> {
    let payment = match sponsor {
        Some(s) => api.register_package(&b.token, GENERATION_ASSET, s, package * USDT).await?,
        None => api.buy_package(&b.token, GENERATION_ASSET, package * USDT).await?,
    };
    assert_eq!(amount(&payment["amount"]["base"]), U256::from(package * USDT), "the package asked for");
    let block = pay(&wallet_provider(rpc, &b.wallet)?, &payment).await?;
    if sponsor.is_none() {
        b.purchases += 1;
    }
    let purchases = b.purchases;
    wait_for(&format!("{} applied", b.wallet.address()), LIMIT, || async {
        let s = api.standing(&b.token, GENERATION_ASSET).await?;
        Ok(s.filter(|s| s["retopups"].as_i64() >= Some(purchases)))
    })
    .await?;
    Ok(block)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_the_cap_a_week_closed_by_the_head_a_rank_bonus_and_a_payout_less_the_fee() -> eyre::Result<()> {
    let mut chain = DevChain::start_mining().await?;
    let gusdt = chain.add_generation_token().await?;
    let dir = WorkDir::new("generation-flow")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let (_backend, api_url, _) = start_backend_with_metrics(&dir, &chain, &url, &signer_url, &secret).await?;
    let mut listener =
        start_listener_with_metrics(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100", None)?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;
    let rpc = chain.rpc_url();

    let mut buyers: BTreeMap<char, Buyer> = BTreeMap::new();
    for name in ['A', 'B', 'C', 'D', 'E'] {
        let wallet = PrivateKeySigner::random();
        chain.provider.anvil_set_balance(wallet.address(), U256::from(10 * BNB)).await?;
        let token = abi::TestUSDT::new(gusdt, wallet_provider(&rpc, &wallet)?);
        token.mint(wallet.address(), U256::from(20_000 * USDT)).send().await?.get_receipt().await?;
        let token = api.sign_in(&wallet).await?;
        buyers.insert(name, Buyer { wallet, token, purchases: 0 });
    }

    // §7, one payment at a time (a wallet's next payload waits until its last one is applied).
    let steps: [(char, Option<char>, u128); 7] = [
        ('A', Some('G'), 100),
        ('B', Some('A'), 500),
        ('C', Some('B'), 1000),
        ('D', Some('G'), 100),
        ('C', None, 1000),
        ('C', None, 5000),
        // A's second leg (E's 5000), then A buys again so that it has room for the week's bonus.
        ('E', Some('A'), 5000),
    ];
    let mut last_block = 0;
    for (name, sponsor, package) in steps {
        let sponsor = sponsor.map(|s| if s == 'G' { chain.admin.address() } else { buyers[&s].wallet.address() });
        let b = buyers.get_mut(&name).expect("a buyer");
        last_block = buy(&api, &rpc, b, sponsor, package).await?;
        if name == 'C' && package == 5000 {
            // After §7's six events: A earned 300 = its cap, B 700 of 1500.
            let a = api.get("/v1/users/generation?asset_id=4", Some(&buyers[&'A'].token)).await?.ok("standing")?;
            assert_eq!(
                (amount(&a["earned"]["base"]), amount(&a["room"]["base"])),
                (U256::from(300 * USDT), U256::ZERO)
            );
            let b = api.get("/v1/users/generation?asset_id=4", Some(&buyers[&'B'].token)).await?.ok("standing")?;
            assert_eq!(amount(&b["earned"]["base"]), U256::from(700 * USDT), "{b}");
        }
    }
    let disclosure = api.get("/v1/public/disclosure", None).await?.ok("disclosure")?;
    let asset = disclosure["assets"].as_array().unwrap().iter().find(|a| a["asset_id"] == 4).cloned().unwrap();
    assert_eq!(asset["users_at_cap"], 1, "A is at its cap: {asset}");
    last_block = last_block.max(buy(&api, &rpc, buyers.get_mut(&'A').expect("A"), None, 1000).await?);
    let a = api.get("/v1/users/generation?asset_id=4", Some(&buyers[&'A'].token)).await?.ok("standing")?;
    assert_eq!(
        (a["rank_name"].as_str(), amount(&a["room"]["base"])),
        (Some("Connector"), U256::from(3000 * USDT)),
        "{a}"
    );
    wait_listener_through(&db.pool, CHAIN, last_block, LIMIT, &mut listener).await?;

    // A week later by anvil's clock, with no event: the listener's confirmed head closes the week.
    assert!(
        api.get("/v1/admin/weeks?asset_id=4", Some(&admin)).await?.ok("weeks")?["weeks"].as_array().unwrap().is_empty()
    );
    let plan = api.get("/v1/public/plan", None).await?.ok("plan")?;
    let origin = plan["generation"][0]["week_origin"].as_u64().expect("the generation asset's weeks");
    let end = chain.mine_at_week_end(origin).await?;
    assert!(end > 0);
    let weeks = wait_for("the week closed by the confirmed head", LIMIT, || async {
        let w = api.get("/v1/admin/weeks?asset_id=4", Some(&admin)).await?.ok("weeks")?;
        Ok(w["weeks"].as_array().filter(|w| !w.is_empty()).cloned())
    })
    .await?;
    let week = &weeks[0];
    assert_eq!(amount(&week["credited"]["base"]), U256::from(50 * USDT), "A's Connector bonus: {week}");
    assert_eq!(week["ranked"][0]["rank"], 1);
    let a = api.get("/v1/users/generation?asset_id=4", Some(&buyers[&'A'].token)).await?.ok("standing")?;
    assert_eq!(a["bonuses"][0]["amount"]["base"], (50 * USDT).to_string(), "{a}");

    // Everything pending is paid, each entry less ⌈5 %⌉; the fees stay in custody as the company's.
    let page = api.get("/v1/admin/payouts/pending?asset_id=4&limit=100", Some(&admin)).await?.ok("pending")?;
    let owed: BTreeMap<Address, U256> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["address"].as_str().unwrap().parse().unwrap(), amount(&i["amount"]["base"])))
        .collect();
    let fee = |e: U256| (e * U256::from(500) + U256::from(9_999)) / U256::from(10_000);
    let fees: U256 = owed.values().map(|e| fee(*e)).sum();
    let token = abi::TestUSDT::new(gusdt, chain.provider.clone());
    let mut before = BTreeMap::new();
    for who in owed.keys() {
        before.insert(*who, token.balanceOf(*who).call().await?);
    }
    let custody_before = token.balanceOf(chain.settlement).call().await?;
    let built = api.post("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": 4 })).await?.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    let total: U256 = owed.values().copied().sum::<U256>() - fees;
    assert_eq!(amount(&built["total"]["base"]), total, "the batch pays what is owed less the fees");
    api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&admin), json!({})).await?.ok("sign")?;
    let sent =
        api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(&admin), json!({})).await?.ok("submit")?;
    assert_eq!(sent["outcome"], "sent", "{sent}");
    wait_for("the batch settled", LIMIT, || async {
        let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(&admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    for (who, e) in &owed {
        let after = token.balanceOf(*who).call().await?;
        assert_eq!(after, before[who] + *e - fee(*e), "{who} received its rewards less the fee");
    }
    assert_eq!(token.balanceOf(chain.settlement).call().await? + total, custody_before, "custody paid the net");
    let company_fee: String = sqlx::query_scalar(
        "SELECT amount::text FROM company_credits WHERE asset_id = 4 AND reason = 'withdrawal_fee' AND batch_id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    assert_eq!(company_fee, fees.to_string(), "the fees are the company's");

    // The reconciler finds custody and the ledger equal for the generation asset.
    let head = chain.provider.get_block_number().await?;
    wait_listener_through(&db.pool, CHAIN, head, LIMIT, &mut listener).await?;
    let _reconciler = crate::start_reconciler_with_metrics(&dir, &chain, &url, Some(free_port()?))?;
    let (block, variance) = wait_for("a reconciliation after the payout", LIMIT, || async {
        Ok(sqlx::query_as::<_, (i64, String)>(
            "SELECT block_number, variance::text FROM reconciler_results WHERE token = $1 ORDER BY run_id DESC LIMIT 1",
        )
        .bind(gusdt.as_slice())
        .fetch_optional(&db.pool)
        .await?
        .filter(|(b, _)| *b as u64 >= head))
    })
    .await?;
    assert_eq!(variance, "0", "GUSDT at block {block}: custody equals the ledger");
    Ok(())
}
