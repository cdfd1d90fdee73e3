//! The whole flow, per asset (native coin and test USDT), with every service a real process: wallets sign in,
//! ask the API for register payloads and send their own transactions; the listener applies them (users
//! active, placed, rewards pending); the admin builds, signs and submits a payout batch through the API; the
//! money arrives on-chain; the listener settles the rewards; the reconciler reports zero variance.

use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::{DevChain, NATIVE_ASSET, USDT_ASSET},
    services::{WorkDir, free_port, ledger_database, start_backend_with_metrics, start_signer, wait_listener_through},
};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{BNB, CHAIN, LIMIT, USDT, metrics_catalogue, sample, scrape, start_listener_with_metrics};

/// Balance of `who` in `token` (zero = native coin).
async fn balance(provider: &DynProvider, token: Address, who: Address) -> eyre::Result<U256> {
    if token == Address::ZERO {
        Ok(provider.get_balance(who).await?)
    } else {
        Ok(abi::TestUSDT::new(token, provider).balanceOf(who).call().await?)
    }
}

fn amount(v: &Value) -> U256 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a decimal amount: {v}"))
}

/// Pending rewards per wallet of `asset_id`, from the admin's pending view.
async fn pending(api: &ApiClient, admin: &str, asset_id: i32) -> eyre::Result<BTreeMap<Address, U256>> {
    let page = api.get(&format!("/v1/admin/payouts/pending?asset_id={asset_id}&limit=100"), Some(admin)).await?;
    let page = page.ok("GET /v1/admin/payouts/pending")?;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    Ok(items.iter().map(|i| (i["address"].as_str().unwrap().parse().unwrap(), amount(&i["amount"]["base"]))).collect())
}

async fn latest_reconciliation(pool: &PgPool, token: Address) -> eyre::Result<Option<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT block_number, variance::text FROM reconciler_results WHERE token = $1 ORDER BY run_id DESC LIMIT 1",
    )
    .bind(token.as_slice())
    .fetch_optional(pool)
    .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_asset_from_sign_in_to_payout_on_chain_and_a_balanced_reconciliation() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("full-flow")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let (_backend, api_url, api_metrics) = start_backend_with_metrics(&dir, &chain, &url, &signer_url, &secret).await?;
    let listener_metrics = free_port()?;
    let mut listener = start_listener_with_metrics(
        &dir,
        "listener",
        &chain,
        &url,
        &chain.rpc_url(),
        "poll_interval_ms = 100",
        Some(listener_metrics),
    )?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;
    let genesis = chain.admin.address();

    for (asset_id, token, unit) in [(NATIVE_ASSET, Address::ZERO, BNB), (USDT_ASSET, chain.usdt, USDT)] {
        // Three wallets: A under genesis, then B and C under A.
        let wallets: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
        for w in &wallets {
            chain.provider.anvil_set_balance(w.address(), U256::from(1_000 * BNB)).await?;
            if token != Address::ZERO {
                // Anyone may mint the test token; the admin's key is the backend's operator, so not from it.
                let usdt = abi::TestUSDT::new(token, wallet_provider(&chain.rpc_url(), w)?);
                usdt.mint(w.address(), U256::from(100 * USDT)).send().await?.get_receipt().await?;
            }
        }
        let sponsors = [genesis, wallets[0].address(), wallets[0].address()];
        let mut last_block = 0;
        let mut tokens = Vec::new();
        for (wallet, sponsor) in wallets.iter().zip(sponsors) {
            let token_of_user = api.sign_in(wallet).await?;
            let payment = api.register_payload(&token_of_user, asset_id, sponsor).await?;
            assert_eq!(amount(&payment["amount"]["base"]), U256::from(20 * unit), "the plan's registration fee");
            let paid_before = balance(&chain.provider, token, chain.settlement).await?;
            last_block = pay(&wallet_provider(&chain.rpc_url(), wallet)?, &payment).await?;
            let paid_after = balance(&chain.provider, token, chain.settlement).await?;
            assert_eq!(paid_after - paid_before, U256::from(20 * unit), "custody took the fee");
            // The sponsor must be in the ledger before the next registration under it is authorised.
            let what = format!("asset {asset_id}: {} active", wallet.address());
            let standing = wait_for(&what, LIMIT, || async {
                Ok(api.standing(&token_of_user, asset_id).await?.filter(|s| s["status"] == "active"))
            })
            .await?;
            assert_eq!(standing["sponsor"].as_str().map(|s| s.parse::<Address>().unwrap()), Some(sponsor));
            assert_eq!(standing["registered_block"].as_u64(), Some(last_block));
            assert_eq!(amount(&standing["balances"]["paid_in"]), U256::from(20 * unit));
            tokens.push(token_of_user);
        }
        wait_listener_through(&db.pool, CHAIN, last_block, LIMIT, &mut listener).await?;
        let placed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM placements p JOIN users u ON u.asset_id = p.asset_id AND u.user_no = p.owner_no
             WHERE p.asset_id = $1 AND u.user_no > 0",
        )
        .bind(asset_id)
        .fetch_one(&db.pool)
        .await?;
        assert!(placed > 0, "asset {asset_id}: the new users are placed in the pool");
        let me_a = api.standing(&tokens[0], asset_id).await?.expect("A registered");
        assert_eq!(me_a["direct_referrals"].as_i64(), Some(2));
        assert_eq!(amount(&me_a["balances"]["pending"]), U256::from(18 * unit), "A: the direct reward of B");

        // Rewards → batch → signature → transaction, all through the admin API.
        let owed = pending(&api, &admin, asset_id).await?;
        assert_eq!(owed.get(&wallets[0].address()), Some(&U256::from(18 * unit)));
        let total: U256 = owed.values().copied().sum();
        let built = api.post("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": asset_id })).await?;
        let built = built.ok("POST /v1/admin/payouts/batches")?;
        let id = built["id"].as_i64().expect("batch id");
        assert_eq!(amount(&built["total"]["base"]), total, "the batch takes every pending reward");
        let signed = api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&admin), json!({})).await?;
        let signed = signed.ok("sign")?;
        assert!(signed["signature"].as_str().is_some_and(|s| s.len() == 132), "{signed}");
        let before: Vec<U256> = {
            let mut v = Vec::new();
            for who in owed.keys() {
                v.push(balance(&chain.provider, token, *who).await?);
            }
            v
        };
        let custody_before = balance(&chain.provider, token, chain.settlement).await?;
        let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(&admin), json!({})).await?;
        let sent = sent.ok("submit")?;
        assert_eq!(sent["outcome"], "sent", "{sent}");
        let tx: B256 = sent["tx_hash"].as_str().expect("tx hash").parse()?;

        let executed = wait_for("the batch to be settled by the listener", LIMIT, || async {
            let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(&admin)).await?.ok("batch")?;
            Ok((view["status"] == "executed").then_some(view))
        })
        .await?;
        let receipt = chain.provider.get_transaction_receipt(tx).await?.expect("mined");
        assert!(receipt.status());
        assert_eq!(executed["executed_block"].as_u64(), receipt.block_number);
        let gas = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
        for ((who, owed), before) in owed.iter().zip(before) {
            let after = balance(&chain.provider, token, *who).await?;
            // The operator (the contract admin, also genesis here) paid the gas of the batch in the native coin.
            let fee = if token == Address::ZERO && *who == receipt.from { gas } else { U256::ZERO };
            assert_eq!(after + fee, before + *owed, "{who} received exactly its rewards on-chain");
        }
        assert_eq!(balance(&chain.provider, token, chain.settlement).await? + total, custody_before);
        assert!(executed["entries"].as_array().is_some_and(|e| e.iter().all(|e| e["outcome"] == "paid")), "{executed}");
        let after_a = api.standing(&tokens[0], asset_id).await?.expect("A registered");
        assert_eq!(amount(&after_a["balances"]["pending"]), U256::ZERO);
        assert_eq!(amount(&after_a["balances"]["settled"]), U256::from(18 * unit), "A's reward is settled");
        assert!(pending(&api, &admin, asset_id).await?.is_empty(), "nothing left pending");
    }

    // The reconciler, run after all of it, finds custody and ledger equal for both assets.
    let head = chain.provider.get_block_number().await?;
    wait_listener_through(&db.pool, CHAIN, head, LIMIT, &mut listener).await?;
    let reconciler_metrics = free_port()?;
    let _reconciler = crate::start_reconciler_with_metrics(&dir, &chain, &url, Some(reconciler_metrics))?;
    for token in [Address::ZERO, chain.usdt] {
        let (block, variance) = wait_for("a reconciliation after the payouts", LIMIT, || async {
            Ok(latest_reconciliation(&db.pool, token).await?.filter(|(b, _)| *b as u64 >= head))
        })
        .await?;
        assert_eq!(variance, "0", "{token} at block {block}: custody equals the ledger");
    }
    let firing: i64 = sqlx::query_scalar("SELECT count(*) FROM reconciler_firing").fetch_one(&db.pool).await?;
    assert_eq!(firing, 0, "no alert fires");

    // Every service's /metrics, after all of it: every metric of the catalogue is exported by one of them, and
    // the figures moved with what happened.
    let api = scrape(&api_metrics).await?;
    let signer = scrape(&format!("{signer_url}/metrics")).await?;
    let listener_text = scrape(&format!("http://127.0.0.1:{listener_metrics}/metrics")).await?;
    let reconciler_text = wait_for("the reconciler's metrics", LIMIT, || async {
        let text = scrape(&format!("http://127.0.0.1:{reconciler_metrics}/metrics")).await?;
        Ok(text.contains("reconciler_variance{").then_some(text))
    })
    .await?;
    let all = [api.as_str(), signer.as_str(), listener_text.as_str(), reconciler_text.as_str()].join("\n");
    // `up` is Prometheus' own, written per scrape target; everything else is a service's, and all of it is there
    // but `reconciler_pending_change_ready_seconds`, absent while no change is pending (ops/metrics.md; the
    // reconciler's tests/reconciler/admin_changes.rs reads it with a change pending).
    let absent_when_idle = ["up", "reconciler_pending_change_ready_seconds"];
    // The notifier's (`notify_*`) are its own process's, which this flow does not run: the API's tests run it.
    let not_run = |name: &str| name.starts_with("notify_");
    for (name, kind) in
        metrics_catalogue().into_iter().filter(|(name, _)| !absent_when_idle.contains(&name.as_str()) && !not_run(name))
    {
        let family = if kind == "counter" { name.strip_suffix("_total").unwrap_or(&name) } else { name.as_str() };
        assert!(all.contains(&format!("# TYPE {family} {kind}\n")), "{name} ({kind}) is exported by no service");
    }
    for (asset_id, symbol) in [(NATIVE_ASSET, "BNB"), (USDT_ASSET, "USDT")] {
        let labels = format!("asset_id=\"{asset_id}\",symbol=\"{symbol}\"");
        assert_eq!(sample(&api, &format!("payout_batches{{{labels},status=\"executed\"}}")), Some(1.0), "{api}");
        assert_eq!(sample(&api, &format!("payout_transactions_total{{{labels},outcome=\"mined\"}}")), Some(1.0));
        assert_eq!(sample(&api, &format!("ledger_liabilities{{{labels},status=\"pending\"}}")), Some(0.0));
        assert_eq!(sample(&api, &format!("payout_queue_users{{{labels}}}")), Some(0.0));
        assert_eq!(
            sample(&reconciler_text, &format!("reconciler_variance{{{labels}}}")),
            Some(0.0),
            "{reconciler_text}"
        );
        assert!(sample(&reconciler_text, &format!("reconciler_last_run_timestamp_seconds{{{labels}}}")) > Some(0.0));
    }
    let built = "http_requests_total{route=\"/v1/admin/payouts/batches\",method=\"POST\",status=\"201\"}";
    assert_eq!(sample(&api, built), Some(2.0), "{api}");
    assert!(sample(&api, "api_sign_ins_total{outcome=\"ok\"}") >= Some(7.0), "{api}");
    assert_eq!(
        sample(&signer, "signer_requests_total{kind=\"payout_batch\",outcome=\"signed\"}"),
        Some(2.0),
        "{signer}"
    );
    assert!(
        sample(&signer, "signer_store_commit_seconds_count") >= Some(8.0),
        "6 registrations and 2 batches: {signer}"
    );
    let chain_label = format!("chain_id=\"{CHAIN}\"");
    let executed = format!("listener_events_applied_total{{{chain_label},kind=\"PayoutBatchExecuted\"}}");
    assert_eq!(sample(&listener_text, &executed), Some(2.0), "{listener_text}");
    assert_eq!(
        sample(&listener_text, &format!("listener_events_applied_total{{{chain_label},kind=\"Registered\"}}")),
        Some(6.0)
    );
    assert!(sample(&listener_text, &format!("listener_blocks_applied_total{{{chain_label}}}")) > Some(0.0));
    assert!(sample(&reconciler_text, &format!("operator_balance{{{chain_label}}}")) > Some(0.0), "{reconciler_text}");
    assert_eq!(sample(&reconciler_text, "reconciler_alerts_firing{check=\"custody\"}"), Some(0.0));
    Ok(())
}
