//! A member leaves while a change of power is pending (contracts/EXIT.md §12, issue 65), end to end on anvil with every
//! service a process: with no change pending the command line refuses to leave; the admin schedules a signer rotation;
//! member A downloads their proof of the latest commitment and an outside wallet sends A's leave with
//! `solvency-verify leave` (nobody's signature): A receives exactly their leaf; the listener applies `MemberLeft`, so the
//! ledger has A exited, owed nothing, and tells A; a later referral's DIRECT that would be A's is the company's; the
//! ledger's expected custody is the contract's balance; and once the delay has run the rotation applies.

use abi::Settlement;
use alloy::{
    primitives::{Address, U256},
    providers::{Provider, ext::AnvilApi},
    signers::local::PrivateKeySigner,
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::{DevChain, NATIVE_ASSET},
    services::{
        BackendChain, WorkDir, ledger_database, service_binary, start_backend_configured, start_signer,
        wait_listener_through,
    },
};
use serde_json::Value;

use crate::{BNB, LIMIT, start_listener};

/// The salts' key of this test (a test value, not a secret of any deployment).
const SALT_KEY: &str = "0x4444444444444444444444444444444444444444444444444444444444444444";
/// Blocks between commitments (anvil mines one a second): long enough to leave with the latest one's proof.
const INTERVAL: u64 = 30;
/// anvil's account 9: neither the operator nor a member — it sends A's leave (anyone may send a leave to the member).
const OUTSIDER_KEY: &str = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";

/// A new wallet (1,000 BNB for gas) registers in the native asset under `sponsor`: the wallet and its block.
async fn register(chain: &DevChain, api: &ApiClient, sponsor: Address) -> eyre::Result<(PrivateKeySigner, u64)> {
    let wallet = PrivateKeySigner::random();
    chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
    let access = api.sign_in(&wallet).await?;
    let payment = api.register_payload(&access, NATIVE_ASSET, sponsor).await?;
    let block = pay(&wallet_provider(&chain.rpc_url(), &wallet)?, &payment).await?;
    Ok((wallet, block))
}

/// Runs `solvency-verify` with `args`, the outside wallet's key in its environment: (exit code, what it printed).
fn cli(args: &[&str]) -> eyre::Result<(i32, String)> {
    let out = std::process::Command::new(service_binary("solvency-verify")?)
        .args(args)
        .env("LEAVE_KEY", OUTSIDER_KEY)
        .output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok(anvil_tests::process::code_and_text(out.status, text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_leaves_during_a_pending_rotation_with_exactly_their_leaf_and_the_ledger_has_them_exited()
-> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("leave")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let solvency = format!(
        "[solvency]\nsalt_key = \"{SALT_KEY}\"\ninterval_secs = 1\nidle_secs = 5\n\
         [[solvency.chains]]\nchain_id = {}\ninterval_blocks = {INTERVAL}\npayout_gap_blocks = 2\n",
        crate::CHAIN
    );
    let (_backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, BackendChain::default(), &solvency).await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let api = ApiClient::new(api_url);

    // G ← A ← B: A's first referral pays A its DIRECT (18 BNB, PLAN.md §2).
    let (a, block) = register(&chain, &api, chain.admin.address()).await?;
    wait_listener_through(&db.pool, crate::CHAIN, block, LIMIT, &mut listener).await?;
    let (_b, last) = register(&chain, &api, a.address()).await?;
    wait_listener_through(&db.pool, crate::CHAIN, last, LIMIT, &mut listener).await?;

    // A's proof of a commitment holding the DIRECT.
    let settlement = Settlement::new(chain.settlement, &chain.provider);
    let member = api.sign_in(&a).await?;
    // A's proof of the chain's latest commitment (as of B's registration at least), once the API holds it: leaving
    // takes the latest commitment's proof.
    let latest_proof = || async {
        wait_for("A's proof of the latest commitment, as of B's registration", LIMIT, || async {
            let latest = settlement.latestLiabilities(Address::ZERO).call().await?;
            if latest.epoch < 1 || latest.asOfBlock < last {
                return Ok(None);
            }
            let path = format!("/v1/users/solvency-proof?asset_id={NATIVE_ASSET}&epoch={}&download=true", latest.epoch);
            let answer = api.get(&path, Some(&member)).await?;
            Ok((answer.status == 200).then_some(answer.body))
        })
        .await
    };
    let proof = latest_proof().await?;
    let balances = &proof["balances"];
    let part = |k: &str| balances[k].as_str().unwrap_or("0").parse::<U256>().unwrap_or_default();
    let leaf = part("reserved") + part("held") + part("pending") + part("batched");
    assert_eq!(leaf, U256::from(18 * BNB), "A's DIRECT: {proof}");
    let (rpc, contract) = (chain.rpc_url(), chain.settlement.to_string());
    let leave_with = |proof: &Value| -> eyre::Result<(i32, String)> {
        let file = dir.write("proof-A.json", &proof.to_string())?;
        let file = file.to_str().expect("utf-8 path");
        cli(&["leave", file, "--rpc", &rpc, "--contract", &contract, "--private-key-env", "LEAVE_KEY"])
    };

    // With no change pending, nobody may leave.
    assert!(!settlement.leaveOpen().call().await?);
    let (code, out) = leave_with(&proof)?;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no change of power is pending"), "{out}");

    // The admin schedules a signer rotation: members may leave until it applies.
    let next = PrivateKeySigner::random().address();
    let scheduled = settlement.scheduleSignerRotation(next).send().await?.get_receipt().await?;
    let id = scheduled.decoded_log::<Settlement::ChangeScheduled>().expect("ChangeScheduled").data.id;
    assert!(settlement.leaveOpen().call().await?);
    let before = chain.provider.get_balance(a.address()).await?;
    let custody_before = chain.provider.get_balance(chain.settlement).await?;
    // A commitment landing between the proof's fetch and the leave makes the proof stale (the contract refuses it,
    // nothing is paid): then the newer proof, at most three times.
    let mut tries = Vec::new();
    for _ in 0..3 {
        let (code, out) = leave_with(&latest_proof().await?)?;
        tries.push(out);
        if code == 0 {
            break;
        }
        assert_eq!(chain.provider.get_balance(a.address()).await?, before, "a refused leave pays nothing");
    }
    let out = tries.last().cloned().unwrap_or_default();
    assert!(out.contains("LEFT:"), "{tries:#?}");
    assert_eq!(chain.provider.get_balance(a.address()).await? - before, leaf, "A receives exactly their leaf: {out}");
    assert_eq!(custody_before - chain.provider.get_balance(chain.settlement).await?, leaf);
    let (code, out) = leave_with(&proof)?;
    assert_eq!(code, 1, "a second leave: {out}");
    assert!(out.contains("already"), "{out}");

    // The ledger applies the leave: A exited, owed nothing, settled by the leave, told.
    let left_block = chain.provider.get_block_number().await?;
    wait_listener_through(&db.pool, crate::CHAIN, left_block, LIMIT, &mut listener).await?;
    let row: (Option<i64>, String, String) = sqlx::query_as(
        "SELECT exited_block, (reserved + held + pending + batched)::text, settled::text FROM users WHERE address = $1",
    )
    .bind(a.address().as_slice())
    .fetch_one(&db.pool)
    .await?;
    assert!(row.0.is_some(), "A is exited");
    assert_eq!((row.1.as_str(), row.2.parse::<U256>()?), ("0", leaf));
    let me = api.get("/v1/users/me", Some(&member)).await?.ok("GET /v1/users/me")?;
    let standing = me["assets"].as_array().and_then(|x| x.iter().find(|s| s["asset_id"] == NATIVE_ASSET).cloned());
    assert_eq!(standing.as_ref().map(|s| s["status"].clone()), Some(Value::from("exited")), "{me}");
    let notes = api.get("/v1/users/notifications", Some(&member)).await?.ok("GET /v1/users/notifications")?;
    let told = notes["items"].as_array().and_then(|x| x.iter().find(|n| n["kind"] == "member.left").cloned());
    let told = told.ok_or_else(|| eyre::eyre!("A is not told: {notes}"))?;
    assert_eq!(told["data"]["amount"], Value::from(leaf.to_string()));
    assert_eq!(told["data"]["to"].as_str().map(str::to_lowercase), Some(format!("{:#x}", a.address())));

    // A's next referrals: the 2nd funds A's pool entry, the 3rd's DIRECT is the company's; A stays owed nothing.
    register(&chain, &api, a.address()).await?;
    let (_, last) = register(&chain, &api, a.address()).await?;
    wait_listener_through(&db.pool, crate::CHAIN, last, LIMIT, &mut listener).await?;
    let owed: String =
        sqlx::query_scalar("SELECT (reserved + held + pending + batched)::text FROM users WHERE address = $1")
            .bind(a.address().as_slice())
            .fetch_one(&db.pool)
            .await?;
    assert_eq!(owed, "0");
    let forfeits: Vec<String> = sqlx::query_scalar(
        "SELECT amount::text FROM company_credits WHERE reason = 'exited_member' ORDER BY credit_no",
    )
    .fetch_all(&db.pool)
    .await?;
    assert!(forfeits.contains(&(18 * BNB).to_string()), "{forfeits:?}");

    // The ledger's expected custody is the contract's balance: the leave counted as money out.
    let head = chain.provider.get_block_number().await?;
    wait_listener_through(&db.pool, crate::CHAIN, head - crate::CONFIRMATIONS, LIMIT, &mut listener).await?;
    let snapshot = ledger::figures::read(&db.pool, crate::CHAIN, &[Address::ZERO]).await?;
    let at = snapshot.listener_block.expect("the listener's block");
    let (_, figures) = &snapshot.assets[0];
    assert_eq!(figures.leaves, leaf);
    let onchain = chain.provider.get_balance(chain.settlement).block_id(alloy::eips::BlockId::number(at)).await?;
    assert_eq!(figures.expected_balance(), alloy::primitives::I256::try_from(onchain)?, "{figures:?}");

    // Once the delay has run, the rotation applies.
    let delay: u64 = settlement.changeDelay().call().await?.try_into()?;
    chain.provider.anvil_increase_time(delay).await?;
    chain.provider.evm_mine(None).await?;
    settlement.applyChange(id).send().await?.get_receipt().await?;
    assert_eq!(settlement.signer().call().await?, next);
    assert!(!settlement.leaveOpen().call().await?, "no change pending any more");
    Ok(())
}
