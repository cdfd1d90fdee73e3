//! Time from the chain (issue 43): every deadline the API and the signer put in a payload follows the chain's clock,
//! never the host's, and "this can no longer execute" is judged by it. On an anvil whose clock runs days ahead of the
//! machine's, and on one days behind, the whole flow goes through with every service a process: wallets register
//! through the API's payloads, the listener applies them, a payout batch is built, signed, sent and executed, the
//! solvency worker commits an epoch, and a treasury transfer signed through the API executes.

use alloy::{
    primitives::{Address, Bytes, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::{DevChain, NATIVE_ASSET},
    services::{BackendChain, WorkDir, ledger_database, start_backend_configured, start_signer, wait_listener_through},
};
use serde_json::{Value, json};

use crate::{BNB, CHAIN, LIMIT, start_listener};

/// Three days, in seconds.
const DAYS_3: i64 = 3 * 24 * 60 * 60;

async fn the_whole_flow_on_a_chain_whose_clock_is(offset_secs: i64, label: &str) -> eyre::Result<()> {
    let chain = DevChain::start_mining_offset(offset_secs).await?;
    let host = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let latest = chain.provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
    let chain_now = latest.map(|b| b.header.timestamp as i64).unwrap_or_default();
    assert!((chain_now - host - offset_secs).abs() < 120, "the chain's clock is {offset_secs} s off the host's");

    let dir = WorkDir::new(label)?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let solvency = format!(
        "[solvency]\nsalt_key = \"0x{}\"\ninterval_secs = 1\nidle_secs = 5\n\
         [[solvency.chains]]\nchain_id = {CHAIN}\ninterval_blocks = 5\npayout_gap_blocks = 2\n",
        "22".repeat(32)
    );
    let (_backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, BackendChain::default(), &solvency).await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;

    // Registrations: each payload's deadline is the chain's time plus its lifetime, and the contract takes it.
    let mut sponsor = chain.admin.address();
    let mut last_block = 0;
    for _ in 0..3 {
        let wallet = PrivateKeySigner::random();
        chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
        let access = api.sign_in(&wallet).await?;
        let payment = api.register_payload(&access, NATIVE_ASSET, sponsor).await?;
        let deadline = payment["deadline"].as_i64().expect("a deadline");
        assert!(
            deadline > chain_now && deadline - chain_now < 2 * 3_600,
            "the chain's clock: {deadline} vs {chain_now}"
        );
        last_block = pay(&wallet_provider(&chain.rpc_url(), &wallet)?, &payment).await?;
        wait_listener_through(&db.pool, CHAIN, last_block, LIMIT, &mut listener).await?;
        sponsor = wallet.address();
    }

    // A payout batch, signed with a deadline on the chain's clock, sent and executed.
    let built = api.post("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": NATIVE_ASSET })).await?;
    let id = built.ok("build")?["id"].as_i64().expect("batch id");
    let signed =
        api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&admin), json!({})).await?.ok("sign")?;
    let deadline = signed["deadline"].as_i64().expect("the batch's deadline");
    assert!(deadline > chain_now, "signed on the chain's clock: {deadline} vs {chain_now}");
    let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(&admin), json!({})).await?;
    assert_eq!(sent.ok("submit")?["outcome"], "sent");
    wait_for("the batch to execute and settle", LIMIT, || async {
        let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(&admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(()))
    })
    .await?;

    // The solvency worker commits an epoch (its deadline on the chain's clock too).
    let committed = wait_for("an epoch committed on chain", LIMIT, || async {
        let all = api.get("/v1/public/solvency", None).await?.ok("solvency")?;
        let asset = all["assets"].as_array().and_then(|a| a.iter().find(|x| x["asset_id"] == NATIVE_ASSET).cloned());
        Ok(asset.filter(|a| a["latest"]["as_of_block"].as_u64().is_some_and(|b| b >= last_block)))
    })
    .await?;
    let epoch = committed["latest"]["epoch"].as_u64().expect("an epoch");
    let onchain =
        abi::Settlement::new(chain.settlement, &chain.provider).latestLiabilities(Address::ZERO).call().await?;
    assert!(onchain.epoch >= epoch, "the chain holds it");

    // A treasury transfer of part of the company's share: signed through the API, sent by the treasurer, executed.
    let transfer =
        json!({ "asset_id": NATIVE_ASSET, "to": chain.admin.address().to_string(), "amount": BNB.to_string() });
    let signed = api.post("/v1/admin/treasury/transfers", Some(&admin), transfer).await?;
    let signed: Value = signed.ok("treasury transfer")?;
    assert!(signed["deadline"].as_i64().is_some_and(|d| d > chain_now), "{signed}");
    let data: Bytes = signed["transaction"]["data"].as_str().expect("calldata").parse()?;
    let request = alloy::rpc::types::TransactionRequest::default().to(chain.settlement).input(data.into());
    let receipt = chain.provider.send_transaction(request).await?.get_receipt().await?;
    assert!(receipt.status(), "the treasury transfer executed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_goes_through_on_a_chain_three_days_ahead_of_the_host() -> eyre::Result<()> {
    the_whole_flow_on_a_chain_whose_clock_is(DAYS_3, "clock-ahead").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_goes_through_on_a_chain_three_days_behind_the_host() -> eyre::Result<()> {
    the_whole_flow_on_a_chain_whose_clock_is(-DAYS_3, "clock-behind").await
}
