//! The backup and restore drill (issue 44, ops/backups.md), with every service a process: a running system is backed
//! up online with scripts/backup.sh, its ledger database and the signer's store are destroyed, scripts/restore.sh
//! brings both back, and everything continues as before: the ledger's digest is the one backed up, the restored
//! signer still refuses a second payload on a nonce it had signed (and gives the first one's signature again), and a
//! payout batch signed before the backup is sent after the restore and pays each user exactly once.

use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::{DevChain, NATIVE_ASSET},
    services::{
        WorkDir, database_url, ledger_database, service_binary, start_backend, start_signer, wait_listener_through,
    },
};
use serde_json::json;
use signer_client::intent::{Addr, Amount, PayoutBatchIntent, PayoutEntry};

use crate::{BNB, CHAIN, LIMIT, start_listener};

/// Runs `script` (a path from the repository root) with `args`; fails with its output unless it exits 0.
/// Runs `script` of the checkout with `args` from the directory `cwd` (an operator's: paths given relative are its).
fn script(script: &str, cwd: &std::path::Path, args: &[&str]) -> eyre::Result<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(root.join(script))
        .current_dir(cwd)
        .args(args)
        .env("SIGNER_STORE_BIN", service_binary("signer-store")?)
        .output()?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    eyre::ensure!(out.status.success(), "{script} ended with {}:\n{said}", out.status);
    Ok(said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_backed_up_destroyed_and_restored_continues_as_before() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("backup-drill")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (mut signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let (mut backend, api_url) = start_backend(&dir, &chain, &url, &signer_url, &secret).await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;

    // Three members pay in; a payout batch of their rewards is built and signed, not sent.
    let mut sponsor = chain.admin.address();
    for _ in 0..3 {
        let wallet = PrivateKeySigner::random();
        chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
        let access = api.sign_in(&wallet).await?;
        let payment = api.register_payload(&access, NATIVE_ASSET, sponsor).await?;
        let block = pay(&wallet_provider(&chain.rpc_url(), &wallet)?, &payment).await?;
        wait_listener_through(&db.pool, CHAIN, block, LIMIT, &mut listener).await?;
        sponsor = wallet.address();
    }
    let built = api.post("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": NATIVE_ASSET })).await?;
    let id = built.ok("build")?["id"].as_i64().expect("batch id");
    let signed =
        api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(&admin), json!({})).await?.ok("sign")?;
    let owed: Vec<(Address, U256)> = signed["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (e["address"].as_str().unwrap().parse().unwrap(), e["amount"]["base"].as_str().unwrap().parse().unwrap())
        })
        .collect();
    assert!(!owed.is_empty(), "{signed}");
    let nonce: U256 = signed["nonce"].as_str().expect("nonce").parse()?;
    let digest = ledger::digest(&db.pool).await?;

    // Backed up online, the services running.
    let backup = dir.path.join("backup");
    let store = dir.path.join("signer.sqlite");
    // From the operator's directory, with paths relative to it (issue 67: they were the checkout's).
    let said = script(
        "scripts/backup.sh",
        &dir.path,
        &["--database-url", &url, "--signer-store", "signer.sqlite", "--out", "backup"],
    )?;
    assert!(said.contains("signed_payloads: 4"), "three payloads and the batch: {said}");
    // The ledger and the signer's record are readable by their owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: std::path::PathBuf| std::fs::metadata(&p).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode(backup.clone())?, 0o700, "the backup directory");
    for file in ["ledger.dump", "signer.sqlite", "manifest.txt"] {
        assert_eq!(mode(backup.join(file))?, 0o600, "{file}");
    }

    // Destroyed: the processes killed, the database dropped and made again empty, the signer's store deleted.
    listener.kill9()?;
    backend.kill9()?;
    signer.kill9()?;
    let name = db.name().to_owned();
    let admin_db = sqlx::PgPool::connect(&database_url("postgres")?).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))).execute(&admin_db).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&admin_db).await?;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", store.display()));
    }

    // Restored, and started again on the restored state.
    script(
        "scripts/restore.sh",
        &dir.path,
        &["--from", "backup", "--database-url", &url, "--signer-store", "signer.sqlite"],
    )?;
    let pool = sqlx::PgPool::connect(&url).await?;
    assert_eq!(ledger::digest(&pool).await?, digest, "the ledger is the one backed up, row for row");
    signer.restart()?;
    backend.restart()?;
    listener.restart()?;
    wait_for("the restored API", LIMIT, || async { Ok(api.healthy().await.then_some(())) }).await?;

    // The restored signer refuses a second payload on the batch's nonce...
    let client = signer_client::client::SignerClient::new(
        signer_url.clone(),
        "backend",
        secrecy::SecretString::from(secret.clone()),
    );
    let intent = PayoutBatchIntent {
        chain_id: CHAIN,
        contract: Addr(chain.settlement),
        token: Addr(Address::ZERO),
        payouts: vec![PayoutEntry { recipient: Addr(Address::repeat_byte(0xbe)), amount: Amount::from(BNB) }],
        total: None,
        nonce: Some(Amount(nonce)),
        deadline: None,
        approvals: Vec::new(),
    };
    let twin = wait_for("the restored signer", LIMIT, || async {
        match client.sign_payout_batch(&intent).await {
            Err(signer_client::client::ClientError::Refused { status, body }) => Ok(Some((status, body.code))),
            Err(_) => Ok(None),
            Ok(answer) => eyre::bail!("a second payload on a signed nonce was signed: {answer:?}"),
        }
    })
    .await?;
    assert_eq!(twin, (409, "nonce_conflict".to_owned()), "the backup's record of the batch's nonce holds");

    // ... and the batch signed before the backup is sent now and pays each user exactly once.
    let before: Vec<U256> = {
        let mut v = Vec::new();
        for (who, _) in &owed {
            v.push(chain.provider.get_balance(*who).await?);
        }
        v
    };
    let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(&admin), json!({})).await?;
    assert_eq!(sent.ok("submit")?["outcome"], "sent");
    wait_for("the batch executed and settled", LIMIT, || async {
        let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(&admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(()))
    })
    .await?;
    let operator = chain.admin.address();
    for ((who, amount), before) in owed.iter().zip(before) {
        let after = chain.provider.get_balance(*who).await?;
        if *who != operator {
            assert_eq!(after, before + *amount, "{who} paid exactly once");
        }
    }
    Ok(())
}
