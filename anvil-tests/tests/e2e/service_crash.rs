//! kill -9 of the signer and of the backend around a payout: a restarted signer never reuses a nonce, and a
//! payout batch whose transaction was dropped while the backend was down is sent again with the same nonce and
//! pays every recipient exactly once, however often it is retried; and a batch signed just before the backend
//! died is sent, resent after a drop and paid once by the payout worker, with nobody calling the API again.

use std::collections::BTreeSet;

use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::{DevChain, NATIVE_ASSET},
    services::{
        BackendChain, WorkDir, ledger_database, start_backend, start_backend_configured, start_signer, wait_healthy,
        wait_listener_through,
    },
};
use serde_json::{Value, json};

use crate::{BNB, CHAIN, LIMIT, start_listener};

const SERVICE_START: std::time::Duration = std::time::Duration::from_secs(60);

fn amount(v: &Value) -> U256 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a decimal amount: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signer_and_backend_killed_9_around_a_payout_pay_exactly_once() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("service-crash")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (mut signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let (mut backend, api_url) = start_backend(&dir, &chain, &url, &signer_url, &secret).await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let api = ApiClient::new(api_url.clone());

    // Four users in the native coin, the signer killed and restarted after each payload it signed.
    let genesis = chain.admin.address();
    let wallets: Vec<PrivateKeySigner> = (0..4).map(|_| PrivateKeySigner::random()).collect();
    let mut nonces = BTreeSet::new();
    let mut last_block = 0;
    for (i, wallet) in wallets.iter().enumerate() {
        chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
        let sponsor = if i == 0 { genesis } else { wallets[0].address() };
        let token = api.sign_in(wallet).await?;
        let payment = api.register_payload(&token, NATIVE_ASSET, sponsor).await?;
        assert!(nonces.insert(payment["nonce"].as_str().expect("nonce").to_owned()), "a nonce signed twice");
        signer.kill9()?;
        signer.restart()?;
        wait_healthy(&format!("{signer_url}/health"), &mut signer, SERVICE_START).await?;
        last_block = pay(&wallet_provider(&chain.rpc_url(), wallet)?, &payment).await?;
        wait_for("the registration in the ledger", LIMIT, || async {
            Ok(api.standing(&token, NATIVE_ASSET).await?.filter(|s| s["status"] == "active"))
        })
        .await?;
    }
    wait_listener_through(&db.pool, CHAIN, last_block, LIMIT, &mut listener).await?;

    let admin = api.sign_in(&chain.admin).await?;
    let built = api.post("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": NATIVE_ASSET })).await?;
    let built = built.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    let path = format!("/v1/admin/payouts/batches/{id}");
    let owed: Vec<(Address, U256)> = built["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["address"].as_str().unwrap().parse().unwrap(), amount(&e["amount"]["base"])))
        .collect();
    let total = amount(&built["total"]["base"]);
    assert!(owed.len() >= 2 && !total.is_zero(), "{built}");
    api.post(&format!("{path}/sign"), Some(&admin), json!({})).await?.ok("sign")?;
    // The recipients other than the operator (who pays gas) are checked to the wei.
    let operator = chain.admin.address();
    let watched: Vec<(Address, U256)> = owed.iter().filter(|(a, _)| *a != operator).copied().collect();
    let mut before = Vec::new();
    for (who, _) in &watched {
        before.push(chain.provider.get_balance(*who).await?);
    }
    let custody_before = chain.provider.get_balance(chain.settlement).await?;

    // The chain stops mining; the batch is sent; the backend dies; the transaction is dropped from the pool.
    chain.provider.anvil_set_interval_mining(0).await?;
    chain.provider.anvil_set_auto_mine(false).await?;
    let sent = api.post(&format!("{path}/submit"), Some(&admin), json!({})).await?.ok("submit")?;
    assert_eq!(sent["outcome"], "sent", "{sent}");
    let first: B256 = sent["tx_hash"].as_str().expect("tx").parse()?;
    backend.kill9()?;
    chain.provider.anvil_drop_transaction(first).await?;
    backend.restart()?;
    wait_healthy(&format!("{api_url}/health"), &mut backend, SERVICE_START).await?;
    let admin = api.sign_in(&chain.admin).await?;

    let again = api.post(&format!("{path}/submit"), Some(&admin), json!({})).await?;
    assert_eq!((again.status, again.code()), (409, "already_submitted"), "{}", again.body);
    let retried = api.post(&format!("{path}/retry"), Some(&admin), json!({})).await?.ok("retry")?;
    assert_eq!(
        (retried["outcome"].as_str(), retried["previous"].as_str()),
        (Some("sent"), Some("dropped")),
        "{retried}"
    );
    // The backend dies again right after re-sending; the pending transaction survives it.
    backend.kill9()?;
    backend.restart()?;
    wait_healthy(&format!("{api_url}/health"), &mut backend, SERVICE_START).await?;
    let admin = api.sign_in(&chain.admin).await?;
    let pending = api.post(&format!("{path}/retry"), Some(&admin), json!({})).await?.ok("retry")?;
    assert_eq!((pending["outcome"].as_str(), pending["sent"].as_bool()), (Some("pending"), Some(false)), "{pending}");

    chain.provider.anvil_set_auto_mine(true).await?;
    chain.provider.anvil_mine(Some(1), None).await?;
    chain.provider.anvil_set_interval_mining(1).await?;
    let settled = wait_for("the batch settled by the listener", LIMIT, || async {
        let view = api.get(&path, Some(&admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(view))
    })
    .await?;
    for _ in 0..2 {
        let late = api.post(&format!("{path}/retry"), Some(&admin), json!({})).await?.ok("retry")?;
        assert_eq!((late["outcome"].as_str(), late["sent"].as_bool()), (Some("executed"), Some(false)), "{late}");
    }

    for ((who, owed), before) in watched.iter().zip(before) {
        assert_eq!(chain.provider.get_balance(*who).await?, before + *owed, "{who} paid exactly once");
    }
    assert_eq!(
        chain.provider.get_balance(chain.settlement).await? + total,
        custody_before,
        "custody paid the total once"
    );
    let executions: i64 = sqlx::query_scalar("SELECT count(*) FROM chain_events WHERE name = 'PayoutBatchExecuted'")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(executions, 1, "one execution of the batch on-chain");
    assert!(settled["entries"].as_array().is_some_and(|e| e.iter().all(|e| e["outcome"] == "paid")), "{settled}");
    Ok(())
}

/// The batch's status and its last transaction, read from the ledger (never through the API).
async fn batch_row(pool: &sqlx::PgPool, id: i64) -> eyre::Result<(String, Option<B256>)> {
    let (status, hash): (String, Option<Vec<u8>>) = sqlx::query_as(
        "SELECT b.status, t.tx_hash FROM payout_batches b LEFT JOIN transactions t ON t.id = b.transaction_id
          WHERE b.id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    Ok((status, hash.map(|h| B256::from_slice(&h))))
}

/// The payout worker's audit rows for batch `id`, oldest first.
async fn worker_actions(pool: &sqlx::PgPool, id: i64) -> eyre::Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT action FROM audit_logs WHERE actor = 'payout-worker' AND target = $1 ORDER BY id")
        .bind(format!("batch:{id}"))
        .fetch_all(pool)
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_signed_before_the_backend_died_is_paid_once_by_the_worker_without_the_api() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("payout-worker")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    // The worker moves a batch nobody has touched for 3 s, looking every second.
    let worker = "[payouts.worker]\ninterval_secs = 1\nidle_secs = 3";
    let (mut backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, BackendChain::default(), worker).await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let api = ApiClient::new(api_url.clone());

    let genesis = chain.admin.address();
    let wallets: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
    let mut last_block = 0;
    for (i, wallet) in wallets.iter().enumerate() {
        chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
        let sponsor = if i == 0 { genesis } else { wallets[0].address() };
        let token = api.sign_in(wallet).await?;
        let payment = api.register_payload(&token, NATIVE_ASSET, sponsor).await?;
        last_block = pay(&wallet_provider(&chain.rpc_url(), wallet)?, &payment).await?;
        // The next ones name this one as sponsor: it must be in the ledger first.
        wait_for("the registration in the ledger", LIMIT, || async {
            Ok(api.standing(&token, NATIVE_ASSET).await?.filter(|s| s["status"] == "active"))
        })
        .await?;
    }
    wait_listener_through(&db.pool, CHAIN, last_block, LIMIT, &mut listener).await?;

    let admin = api.sign_in(&chain.admin).await?;
    let built = api.post("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": NATIVE_ASSET })).await?;
    let built = built.ok("build")?;
    let id = built["id"].as_i64().expect("batch id");
    let total = amount(&built["total"]["base"]);
    let operator = chain.admin.address();
    let watched: Vec<(Address, U256)> = built["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["address"].as_str().unwrap().parse().unwrap(), amount(&e["amount"]["base"])))
        .filter(|(a, _)| *a != operator)
        .collect();
    assert!(!watched.is_empty() && !total.is_zero(), "{built}");
    let mut before = Vec::new();
    for (who, _) in &watched {
        before.push(chain.provider.get_balance(*who).await?);
    }
    let custody_before = chain.provider.get_balance(chain.settlement).await?;

    // Signed, and the backend dies before anyone submits; the chain stops mining.
    api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&admin), json!({})).await?.ok("sign")?;
    backend.kill9()?;
    assert_eq!(batch_row(&db.pool, id).await?, ("signed".to_owned(), None));
    chain.provider.anvil_set_interval_mining(0).await?;
    chain.provider.anvil_set_auto_mine(false).await?;

    // From here on nobody calls the API: the restarted backend's worker sends the batch on its own.
    backend.restart()?;
    let first = wait_for("the worker's first send", LIMIT, || async {
        Ok(match batch_row(&db.pool, id).await? {
            (status, Some(hash)) if status == "submitted" => Some(hash),
            _ => None,
        })
    })
    .await?;
    assert_eq!(worker_actions(&db.pool, id).await?, ["payout_batch_submit"]);

    // The backend dies again and the node drops that transaction: the worker sends the same signed batch again.
    backend.kill9()?;
    chain.provider.anvil_drop_transaction(first).await?;
    backend.restart()?;
    assert!(chain.provider.get_transaction_by_hash(first).await?.is_none(), "the node dropped the first send");
    wait_for("the worker's resend", LIMIT, || async {
        Ok((worker_actions(&db.pool, id).await?.len() == 2).then_some(()))
    })
    .await?;
    assert_eq!(worker_actions(&db.pool, id).await?, ["payout_batch_submit", "payout_batch_retry"]);
    // The same signed batch from the same account nonce: on a chain that has not moved, the very same transaction.
    let (status, second) = batch_row(&db.pool, id).await?;
    let second = second.expect("the resend's hash");
    assert_eq!(status, "submitted");
    assert!(chain.provider.get_transaction_by_hash(second).await?.is_some(), "the resend is in the node's pool");

    chain.provider.anvil_set_auto_mine(true).await?;
    chain.provider.anvil_mine(Some(1), None).await?;
    chain.provider.anvil_set_interval_mining(1).await?;
    wait_for("the batch settled by the listener", LIMIT, || async {
        Ok((batch_row(&db.pool, id).await?.0 == "executed").then_some(()))
    })
    .await?;
    // Executed, the batch is no longer one the worker drives, however long it has been left alone.
    let due = ledger::payouts::batches_to_drive(&db.pool, std::time::Duration::ZERO, 1_000).await?;
    assert!(due.iter().all(|(batch, _)| *batch != id), "an executed batch is still due: {due:?}");
    assert_eq!(worker_actions(&db.pool, id).await?, ["payout_batch_submit", "payout_batch_retry"]);

    for ((who, owed), before) in watched.iter().zip(before) {
        assert_eq!(chain.provider.get_balance(*who).await?, before + *owed, "{who} paid exactly once");
    }
    assert_eq!(chain.provider.get_balance(chain.settlement).await? + total, custody_before, "custody paid once");
    let executions: i64 = sqlx::query_scalar("SELECT count(*) FROM chain_events WHERE name = 'PayoutBatchExecuted'")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(executions, 1, "one execution of the batch on-chain");
    Ok(())
}
