//! The members' exit end to end on anvil (contracts/EXIT.md, issue 46), every service a process: members register
//! and a reward is paid; each member's proof of the latest commitment is downloaded; a payout batch pays a member
//! after that commitment; then the operator walks away — the API, the listener and the signer are killed — the
//! chain's clock moves past `exitAfter`, an outside wallet opens the exit with `solvency-verify open`, and every member
//! claims with `solvency-verify exit` and their proof alone during the claim window (the outside wallet sends each
//! claim; contracts/EXIT.md §13), each claim being their leaf's reserved + held + pending + batched less what the batch
//! after the commitment paid them; once the window has closed the same command pays each claim its share of custody,
//! once; the surplus goes back to the admin, once; nothing else moves the token any more.

use std::collections::BTreeMap;
use std::process::Command;

use abi::{Settlement, SettlementExit};
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
use serde_json::{Value, json};

use crate::{BNB, LIMIT, start_listener};

/// The salts' key of this test (a test value, not a secret of any deployment).
const SALT_KEY: &str = "0x3333333333333333333333333333333333333333333333333333333333333333";
/// Blocks between commitments (anvil mines one a second): long enough to pay a batch between two of them.
const INTERVAL: u64 = 40;

/// A new wallet (1,000 BNB for gas) registers in the native asset under `sponsor`: the wallet and its block.
async fn register(chain: &DevChain, api: &ApiClient, sponsor: Address) -> eyre::Result<(PrivateKeySigner, u64)> {
    let wallet = PrivateKeySigner::random();
    chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
    let access = api.sign_in(&wallet).await?;
    let payment = api.register_payload(&access, NATIVE_ASSET, sponsor).await?;
    let block = pay(&wallet_provider(&chain.rpc_url(), &wallet)?, &payment).await?;
    Ok((wallet, block))
}

/// Builds, signs and submits a batch of one pending native reward; its id and entries (recipient → amount).
async fn pay_out(api: &ApiClient, admin: &str) -> eyre::Result<(i64, BTreeMap<Address, U256>)> {
    // One entry: the others stay owed, so that their exits pay their pending rewards in full.
    let request = json!({ "asset_id": NATIVE_ASSET, "max_entries": 1 });
    let built = api.post("/v1/admin/payouts/batches", Some(admin), request).await?;
    let id = built.ok("POST /v1/admin/payouts/batches")?["id"].as_i64().expect("batch id");
    api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(admin), json!({})).await?.ok("sign")?;
    let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(admin)).await?.ok("batch")?;
    let mut entries = BTreeMap::new();
    for e in view["entries"].as_array().cloned().unwrap_or_default() {
        let to: Address = e["address"].as_str().expect("address").parse()?;
        let amount: U256 = e["amount"]["base"].as_str().expect("amount").parse()?;
        *entries.entry(to).or_default() += amount;
    }
    let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(admin), json!({})).await?;
    assert_eq!(sent.ok("submit")?["outcome"], "sent");
    Ok((id, entries))
}

/// Runs `solvency-verify` with `args`, the outside wallet's key in its environment: (exit code, what it printed).
fn cli(args: &[&str]) -> eyre::Result<(i32, String)> {
    let out =
        Command::new(service_binary("solvency-verify")?).args(args).env("EXIT_DRILL_KEY", OUTSIDER_KEY).output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok(anvil_tests::process::code_and_text(out.status, text))
}

/// anvil's account 9: neither the operator (account 0) nor a member (fresh keys) — the "outside wallet".
const OUTSIDER_KEY: &str = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_walks_away_and_every_member_exits_with_their_proof_alone() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("exit-drill")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let solvency = format!(
        "[solvency]\nsalt_key = \"{SALT_KEY}\"\ninterval_secs = 1\nidle_secs = 5\n\
         [[solvency.chains]]\nchain_id = {}\ninterval_blocks = {INTERVAL}\npayout_gap_blocks = {INTERVAL}\n",
        crate::CHAIN
    );
    let (backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, BackendChain::default(), &solvency).await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let api = ApiClient::new(api_url);
    let admin = api.sign_in(&chain.admin).await?;

    // G (the admin, genesis) ← A ← B, A ← C, B ← D: A's first referral pays A, B's pays B (PLAN.md §2).
    let genesis = chain.admin.address();
    // (A sponsor must be in the ledger before it sponsors: each level waits for the listener.)
    let (a, block) = register(&chain, &api, genesis).await?;
    wait_listener_through(&db.pool, crate::CHAIN, block, LIMIT, &mut listener).await?;
    let (b, _) = register(&chain, &api, a.address()).await?;
    let (c, block) = register(&chain, &api, a.address()).await?;
    wait_listener_through(&db.pool, crate::CHAIN, block, LIMIT, &mut listener).await?;
    let (d, last) = register(&chain, &api, b.address()).await?;
    wait_listener_through(&db.pool, crate::CHAIN, last, LIMIT, &mut listener).await?;

    // The proofs of a commitment holding every member: the round after the last registration.
    let epoch = wait_for("a commitment as of the last registration", LIMIT, || async {
        let all = api.get("/v1/public/solvency", None).await?.ok("GET /v1/public/solvency")?;
        let asset = all["assets"].as_array().and_then(|a| a.iter().find(|x| x["asset_id"] == NATIVE_ASSET).cloned());
        Ok(asset
            .and_then(|x| x["latest"].clone().as_object().cloned())
            .filter(|l| l.get("as_of_block").and_then(Value::as_u64).is_some_and(|block| block >= last)))
    })
    .await?;
    let epoch = epoch["epoch"].as_u64().expect("epoch");
    let members = [(&chain.admin, "G"), (&a, "A"), (&b, "B"), (&c, "C"), (&d, "D")];
    let mut proofs = Vec::new();
    for (wallet, name) in members {
        let token = api.sign_in(wallet).await?;
        let path = format!("/v1/users/solvency-proof?asset_id={NATIVE_ASSET}&epoch={epoch}&download=true");
        let answer = api.get(&path, Some(&token)).await?;
        if answer.status == 404 && name == "G" {
            continue; // genesis may hold no leaf of its own
        }
        let proof = answer.ok("GET /v1/users/solvency-proof")?;
        let file = dir.write(&format!("proof-{name}.json"), &proof.to_string())?;
        proofs.push((wallet.address(), name, proof, file));
    }

    // After the commitment, a batch pays one member's reward; the operator walks away once the chain executed it,
    // before any further commitment.
    let (_, paid) = pay_out(&api, &admin).await?;
    assert!(!paid.is_empty());
    let on_chain = Settlement::new(chain.settlement, &chain.provider);
    wait_for("the batch executed on chain", LIMIT, || async {
        Ok((on_chain.batchesSinceCommitment(Address::ZERO).call().await?.lastBatchBlock > U256::ZERO).then_some(()))
    })
    .await?;
    drop(backend);
    listener.kill9()?;
    drop(signer);
    assert_eq!(on_chain.latestLiabilities(Address::ZERO).call().await?.epoch, epoch, "no commitment after the batch");
    assert!(!ApiClient::new(api.base.clone()).healthy().await, "the API is gone");

    // Before exitAfter: nobody can open.
    let rpc = chain.rpc_url();
    let contract = chain.settlement.to_string();
    let open =
        ["open", "--token", "0x0000000000000000000000000000000000000000", "--rpc", &rpc, "--contract", &contract];
    let open_args: Vec<&str> = open.iter().copied().chain(["--private-key-env", "EXIT_DRILL_KEY"]).collect();
    let (code, out) = cli(&open_args)?;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not open"), "{out}");

    // A day (the development exitAfter) and a minute later, an outside wallet opens it.
    let exit_after: u64 = on_chain.exitAfter().call().await?.try_into()?;
    chain.provider.anvil_increase_time(exit_after + 60).await?;
    chain.provider.evm_mine(None).await?;
    let custody_before = chain.provider.get_balance(chain.settlement).await?;
    let claimable = on_chain.totalClaimable(Address::ZERO).call().await?;
    let (code, out) = cli(&open_args)?;
    assert_eq!(code, 0, "{out}");
    let exits = on_chain.exits().call().await?;
    let opening = SettlementExit::new(exits, &chain.provider).opening(Address::ZERO).call().await?;
    assert!(opening.open);
    assert_eq!(U256::from(opening.custody), custody_before - claimable, "the custody not claimable went to the exits");
    assert_eq!(opening.batchesToFold, alloy::primitives::B256::ZERO, "the CLI folded the batch since the commitment");

    // Every member claims with their proof during the claim window (contracts/EXIT.md §13); the outside wallet sends
    // each claim, and nothing is paid yet.
    let exit_contract = SettlementExit::new(exits, &chain.provider);
    let exit_cmd = |file: &str| -> eyre::Result<(i32, String)> {
        cli(&["exit", file, "--rpc", &rpc, "--contract", &contract, "--private-key-env", "EXIT_DRILL_KEY"])
    };
    let (mut claims, mut subtracted_any) = (Vec::new(), false);
    for (member, name, proof, file) in &proofs {
        let balances = &proof["balances"];
        let part = |k: &str| balances[k].as_str().unwrap_or("0").parse::<U256>().unwrap_or_default();
        let entitlement = part("reserved") + part("held") + part("pending") + part("batched");
        let subtracted = paid.get(member).copied().unwrap_or_default();
        subtracted_any |= !subtracted.is_zero() && !entitlement.is_zero();
        let due = entitlement.saturating_sub(subtracted);
        let before = chain.provider.get_balance(*member).await?;
        let file = file.to_str().expect("utf-8 path");
        let (code, out) = exit_cmd(file)?;
        if due.is_zero() {
            assert_eq!(code, 1, "{name}: nothing to claim: {out}");
            continue;
        }
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("CLAIMED"), "{name}: {out}");
        assert_eq!(chain.provider.get_balance(*member).await?, before, "{name}: a claim pays nothing yet");
        let claim = exit_contract.claimOf(Address::ZERO, *member).call().await?;
        assert_eq!((claim.due, claim.to, claim.paid), (due, *member, false), "{name}'s claim: {out}");
        // A second run in the window says what was claimed and sends nothing.
        let (code, again) = exit_cmd(file)?;
        assert_eq!(code, 0, "{name}'s second run: {again}");
        assert!(again.contains("CLAIMED already"), "{again}");
        claims.push((*member, *name, file.to_owned(), due));
    }
    assert!(claims.len() >= 2 && subtracted_any, "members claimed ({}), one of them owed less the batch", claims.len());
    let window = exit_contract.claimWindow(Address::ZERO).call().await?;
    let proven: U256 = claims.iter().map(|c| c.3).sum();
    assert_eq!(window.proven, proven, "the claims' sum");
    assert!(!window.closed);

    // A payout before the window has closed is refused; after it, each claim is paid the same share of custody.
    let (code, out) = exit_cmd(&claims[0].2)?;
    assert!(code == 0 && !out.contains("EXITED"), "no payout in the window: {out}");
    let now = chain.provider.get_block_by_number(Default::default()).await?.expect("head").header.timestamp;
    chain.provider.anvil_increase_time(window.end.saturating_sub(now) + 1).await?;
    chain.provider.evm_mine(None).await?;
    let custody = U256::from(opening.custody);
    for (member, name, file, due) in &claims {
        let expected = if custody >= proven { *due } else { *due * custody / proven };
        let before = chain.provider.get_balance(*member).await?;
        let (code, out) = exit_cmd(file)?;
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("EXITED"), "{out}");
        let received = chain.provider.get_balance(*member).await? - before;
        assert_eq!(received, expected, "{name} receives its claim's share: {out}");
        // Once only.
        let (code, out) = exit_cmd(file)?;
        assert_eq!(code, 1, "{name}'s second payout: {out}");
        assert!(out.contains("paid"), "{out}");
    }

    // What no claim needs goes back to the company, once: anyone sends it, the admin receives exactly the surplus.
    let surplus = custody - custody.min(proven);
    assert_eq!(exit_contract.claimWindow(Address::ZERO).call().await?.surplus, surplus);
    let outsider = wallet_provider(&rpc, &OUTSIDER_KEY.parse()?)?;
    let admin_before = chain.provider.get_balance(genesis).await?;
    let returned =
        SettlementExit::new(exits, &outsider).returnSurplus(Address::ZERO).send().await?.get_receipt().await?;
    assert!(returned.status());
    assert_eq!(chain.provider.get_balance(genesis).await? - admin_before, surplus, "the surplus to the admin");
    let again = SettlementExit::new(exits, &outsider).returnSurplus(Address::ZERO).call().await;
    assert!(again.is_err(), "the surplus goes back once");

    // Nothing else moves the token: a payout batch and a commitment are refused whoever signs them.
    let as_admin = Settlement::new(chain.settlement, &chain.provider);
    let batch = Settlement::PayoutBatch {
        token: Address::ZERO,
        payouts: vec![Settlement::Payout { recipient: a.address(), amount: U256::from(1) }],
        total: U256::from(1),
        nonce: U256::from(999_999),
        deadline: U256::MAX,
    };
    let Err(refused) = as_admin.executePayoutBatch(batch, Default::default()).call().await else {
        eyre::bail!("a payout batch was accepted after the exit opened");
    };
    let name = refused.as_decoded_interface_error::<Settlement::SettlementErrors>().map(|e| format!("{e:?}"));
    assert!(name.as_deref().is_some_and(|n| n.contains("ExitOpen")), "{refused}");

    // Should the operator come back: the listener records the opening, and the API shows it and refuses, before
    // anything is signed, whatever would move the asset.
    let mut listener =
        start_listener(&dir, "listener-after", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let head = chain.provider.get_block_number().await?;
    wait_listener_through(&db.pool, crate::CHAIN, head - crate::CONFIRMATIONS, LIMIT, &mut listener).await?;
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let (_backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, BackendChain::default(), &solvency).await?;
    let api = ApiClient::new(api_url);
    let all = api.get("/v1/public/solvency", None).await?.ok("GET /v1/public/solvency")?;
    let asset = all["assets"].as_array().and_then(|a| a.iter().find(|x| x["asset_id"] == NATIVE_ASSET).cloned());
    let exit = asset.map(|a| a["exit"].clone()).unwrap_or_default();
    assert_eq!(exit["custody"]["base"], json!(U256::from(opening.custody).to_string()), "{exit}");
    assert_eq!(exit["contract"].as_str().map(str::to_lowercase), Some(format!("{:#x}", chain.settlement)));
    let member = api.sign_in(&a).await?;
    let retopup = api.post("/v1/users/retopup", Some(&member), json!({ "asset_id": NATIVE_ASSET })).await?;
    assert_eq!((retopup.status, &retopup.body["error"]["code"]), (409, &json!("exit_open")), "{:?}", retopup.body);
    let admin = api.sign_in(&chain.admin).await?;
    let build = api.post("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": NATIVE_ASSET })).await?;
    assert_eq!((build.status, &build.body["error"]["code"]), (409, &json!("exit_open")), "{:?}", build.body);
    let withdraw = api.post("/v1/users/withdraw", Some(&member), json!({ "asset_id": NATIVE_ASSET })).await?;
    assert_eq!(withdraw.status, 409, "{:?}", withdraw.body);
    Ok(())
}
