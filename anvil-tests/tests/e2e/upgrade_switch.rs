//! The upgrade switch end to end (contracts/UPGRADES.md §5), every service a process, in the runbook's order: a
//! member pays the first contract; a successor is deployed; the chain spec names it live and the first one previous,
//! the listener restarts first, the signer allows both (the old one wound down), the API restarts. Then a new member's
//! payment goes to the new contract, a payout batch drains the old contract first and the listener settles it, and a
//! round of the proof of solvency is committed on both contracts: the old one's next epoch and the new one's first,
//! the same block and total, their custody together covering it.

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
        BackendChain, NativeCaps, Service, WorkDir, chain_spec, ledger_database, listener_config, service_binary,
        start_backend_configured, start_signer_with, wait_healthy, wait_listener_through,
    },
};
use serde_json::{Value, json};

use crate::{BNB, CHAIN, CONFIRMATIONS, LIMIT, start_listener};

/// The salts' key of this test (a test value, not a secret of any deployment).
const SALT_KEY: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";
/// Blocks between rounds (anvil mines one a second).
const INTERVAL: u64 = 6;

/// The contract a payment's transaction goes to.
fn paid_to(payment: &Value) -> eyre::Result<Address> {
    Ok(payment["transaction"]["to"].as_str().ok_or_else(|| eyre::eyre!("no transaction: {payment}"))?.parse()?)
}

/// A new wallet (1,000 BNB for gas) registers in the native asset under `sponsor` through the API and pays from its
/// own key: the wallet, the contract its payment went to, and the payment's block.
async fn register(
    chain: &DevChain,
    api: &ApiClient,
    sponsor: Address,
) -> eyre::Result<(PrivateKeySigner, Address, u64)> {
    let wallet = PrivateKeySigner::random();
    chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
    let access = api.sign_in(&wallet).await?;
    let payment = api.register_payload(&access, NATIVE_ASSET, sponsor).await?;
    let to = paid_to(&payment)?;
    let block = pay(&wallet_provider(&chain.rpc_url(), &wallet)?, &payment).await?;
    Ok((wallet, to, block))
}

/// Builds, signs and submits a batch of every pending reward of the native asset through the admin API, and waits for
/// the listener to settle it: the contract it was signed for and its total.
async fn pay_out(api: &ApiClient, admin: &str) -> eyre::Result<(Address, U256)> {
    let built = api.post("/v1/admin/payouts/batches", Some(admin), json!({ "asset_id": NATIVE_ASSET })).await?;
    let built = built.ok("POST /v1/admin/payouts/batches")?;
    let id = built["id"].as_i64().expect("batch id");
    let total: U256 = built["total"]["base"].as_str().expect("total").parse()?;
    let signed = api.post(&format!("/v1/admin/payouts/batches/{id}/sign"), Some(admin), json!({})).await?;
    let signed = signed.ok("sign")?;
    let contract: Address = signed["contract"].as_str().ok_or_else(|| eyre::eyre!("no contract: {signed}"))?.parse()?;
    let sent = api.post(&format!("/v1/admin/payouts/batches/{id}/submit"), Some(admin), json!({})).await?;
    assert_eq!(sent.ok("submit")?["outcome"], "sent");
    wait_for("the batch settled by the listener", LIMIT, || async {
        let view = api.get(&format!("/v1/admin/payouts/batches/{id}"), Some(admin)).await?.ok("batch")?;
        Ok((view["status"] == "executed").then_some(()))
    })
    .await?;
    Ok((contract, total))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_switch_payments_go_to_the_new_contract_payouts_drain_the_old_and_rounds_commit_on_both()
-> eyre::Result<()> {
    let mut chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("upgrade-switch")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (mut signer, signer_url, _) = start_signer_with(&dir, &chain, &secret, &NativeCaps::default()).await?;
    let solvency = format!(
        "[solvency]\nsalt_key = \"{SALT_KEY}\"\ninterval_secs = 1\nidle_secs = 5\n\
         [[solvency.chains]]\nchain_id = {CHAIN}\ninterval_blocks = {INTERVAL}\npayout_gap_blocks = 2\n"
    );
    let (backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, BackendChain::default(), &solvency).await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let api = ApiClient::new(api_url);

    // Before the switch: W1, W2 and W3 register under genesis (the admin), paying the only contract 20 BNB each; its
    // epoch 1 is committed.
    let old = chain.settlement;
    let provider = chain.provider.clone();
    let on_old = Settlement::new(old, &provider);
    let mut block = 0;
    let mut first = Vec::new();
    for _ in 0..3 {
        let (wallet, to, paid) = register(&chain, &api, chain.admin.address()).await?;
        assert_eq!(to, old);
        block = paid;
        first.push(wallet);
    }
    wait_listener_through(&db.pool, CHAIN, block, LIMIT, &mut listener).await?;
    wait_for("epoch 1 committed on the first contract", LIMIT, || async {
        Ok((on_old.latestLiabilities(Address::ZERO).call().await?.epoch >= 1).then_some(()))
    })
    .await?;

    // The switch. 1: the successor, with the same holders, tokens and bounds.
    let (new, new_block) = chain.deploy_successor().await?;
    let on_new = Settlement::new(new, &provider);
    // 2: the chain spec names it live and the first contract previous; the listener restarts before anything is
    // signed for the new contract (it takes a contract named late only while it holds no event).
    let upgraded = |confirmations: u64| {
        format!(
            "{}[[chains.previous]]\nsettlement = \"{old}\"\nstart_block = {}\n",
            chain_spec(CHAIN, new, &chain.rpc_url(), confirmations, new_block, None),
            chain.deploy_block
        )
    };
    let (listener_spec, backend_spec) = (upgraded(CONFIRMATIONS), upgraded(1));
    listener.kill9()?;
    let spec = dir.write("listener-upgraded-chains.toml", &listener_spec)?;
    let config = dir.write("listener-upgraded.toml", &listener_config(&url, &spec, CHAIN, "poll_interval_ms = 100"))?;
    let mut listener = Service::start(&dir, "listener-upgraded", "listener", &[config.to_str().expect("utf-8")], &[])?;
    // 3: the signer allows both contracts, the old one wound down.
    let signer_config = dir.path.join("signer.toml");
    let text = std::fs::read_to_string(&signer_config)?;
    let listed = format!("contracts = [\"{old}\"]");
    assert!(text.contains(&listed), "{text}");
    let text = text.replace(&listed, &format!("contracts = [\"{new}\", \"{old}\"]\nwound_down = [\"{old}\"]"));
    std::fs::write(&signer_config, text)?;
    signer.restart()?;
    wait_healthy(&format!("{signer_url}/health"), &mut signer, LIMIT).await?;
    // 4: the API, on the new chain spec.
    drop(backend);
    chain.use_contract(new);
    let spec = dir.write("backend-upgraded-chains.toml", &backend_spec)?;
    let backend_chain = BackendChain { spec: Some(spec), ..BackendChain::default() };
    let (_backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, backend_chain, &solvency).await?;
    let api = ApiClient::new(api_url);

    // After the switch, payouts drain the old contract first: genesis's rewards (its 1st and 3rd referrals' 18 BNB
    // each; the 2nd funded its pool entry, PLAN.md §2), which the old contract's 60 cover.
    let admin = api.sign_in(&chain.admin).await?;
    let old_before = chain.provider.get_balance(old).await?;
    let (contract, total) = pay_out(&api, &admin).await?;
    assert_eq!(contract, old, "the old contract pays while it can ({total})");
    assert!(total >= U256::from(36 * BNB), "{total}");
    assert_eq!(chain.provider.get_balance(old).await? + total, old_before, "the old contract paid it");

    // New members' payments go to the new contract: one under each of the first three.
    let mut block = 0;
    let mut second = Vec::new();
    for sponsor in &first {
        let (wallet, to, paid) = register(&chain, &api, sponsor.address()).await?;
        assert_eq!(to, new, "payments go to the live contract");
        block = paid;
        second.push(wallet);
    }
    wait_listener_through(&db.pool, CHAIN, block, LIMIT, &mut listener).await?;
    // Their sponsors' 3 × 18 BNB: what the old contract has left (24 BNB at most) cannot cover it, so the new one pays.
    let new_before = chain.provider.get_balance(new).await?;
    let (contract, total) = pay_out(&api, &admin).await?;
    assert_eq!(contract, new, "{total}");
    assert!(total >= U256::from(54 * BNB), "{total}");
    assert_eq!(chain.provider.get_balance(new).await? + total, new_before, "the new contract paid it");

    // Something stays owed after the payouts: a member under one of the new ones (its sponsor's first referral, 18
    // BNB, not paid out). A round that closed after both payouts and before this payment would commit a total of 0.
    let (_, to, owed_from) = register(&chain, &api, second[0].address()).await?;
    assert_eq!(to, new);
    wait_listener_through(&db.pool, CHAIN, owed_from, LIMIT, &mut listener).await?;

    // A round on both contracts: the old one's next epoch and the new one's first, one snapshot, past that payment.
    let (on_old_latest, on_new_latest) = wait_for("a round committed on both contracts", LIMIT, || async {
        let (a, b) = (
            on_old.latestLiabilities(Address::ZERO).call().await?,
            on_new.latestLiabilities(Address::ZERO).call().await?,
        );
        let same = b.epoch >= 1 && a.asOfBlock == b.asOfBlock && a.total == b.total;
        Ok((same && b.asOfBlock >= owed_from).then_some((a, b)))
    })
    .await?;
    assert!(on_old_latest.epoch >= 2, "the old contract went on from its own epoch 1");
    assert_ne!(on_old_latest.root, on_new_latest.root, "each contract's leaves name it");
    assert!(on_new_latest.total > 0);
    assert!(
        on_old_latest.custody + on_new_latest.custody >= U256::from(on_new_latest.total),
        "custody of both covers what members are owed"
    );
    // The ledger holds the new contract's commitment once the listener applied its event (confirmations behind).
    wait_for("the ledger holds the new contract's commitment", LIMIT, || async {
        let rounds: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM solvency_epochs
              WHERE status = 'committed' AND epoch = $1 AND contract = $2 AND asset_id = $3",
        )
        .bind(on_new_latest.epoch as i64)
        .bind(new.as_slice())
        .bind(NATIVE_ASSET)
        .fetch_one(&db.pool)
        .await?;
        Ok((rounds == 1).then_some(()))
    })
    .await?;

    // The public view: both contracts, the live one first, and the round judged on their custody together.
    let asset = wait_for("the round in the public overview", LIMIT, || async {
        let all = api.get("/v1/public/solvency", None).await?.ok("GET /v1/public/solvency")?;
        let asset = all["assets"].as_array().and_then(|a| a.iter().find(|x| x["asset_id"] == NATIVE_ASSET).cloned());
        Ok(asset.filter(|a| a["round"]["as_of_block"].as_u64() >= Some(on_new_latest.asOfBlock)))
    })
    .await?;
    let hex = |v: &Value| v.as_str().unwrap_or_default().to_lowercase();
    let contracts = asset["contracts"].as_array().cloned().unwrap_or_default();
    assert_eq!(contracts.len(), 2, "{asset}");
    assert_eq!((hex(&contracts[0]["contract_hex"]), &contracts[0]["live"]), (format!("{new:#x}"), &json!(true)));
    assert_eq!((hex(&contracts[1]["contract_hex"]), &contracts[1]["live"]), (format!("{old:#x}"), &json!(false)));
    let round = &asset["round"];
    let epochs = round["epochs"].as_array().cloned().unwrap_or_default();
    assert_eq!(epochs.len(), 2, "{round}");
    assert_eq!(hex(&epochs[0]["contract"]), format!("{new:#x}"));
    assert_eq!(hex(&epochs[1]["contract"]), format!("{old:#x}"));
    let custody = |e: &Value| e["custody"]["base"].as_str().unwrap_or("0").parse::<U256>().unwrap_or_default();
    let sum = custody(&epochs[0]) + custody(&epochs[1]);
    assert_eq!(round["custody"]["base"], json!(sum.to_string()), "the round's custody is both contracts' together");
    assert_eq!(round["total"]["base"], epochs[0]["total"]["base"]);
    assert_eq!(round["total"]["base"], epochs[1]["total"]["base"]);
    assert_eq!(
        round["covered"],
        json!(sum >= U256::from(epochs[0]["total"]["base"].as_str().unwrap_or("x").parse::<u128>()?))
    );

    // A member of before the switch has a leaf in each contract's tree; each proof verifies at its own contract, and
    // the auditor's verifier judges custody on both contracts of the round. The worker commits a round every few
    // blocks: a proof the chain has moved past is fetched again.
    let member = &first[0];
    let token = api.sign_in(member).await?;
    let stranger = format!("/v1/users/solvency-proof?asset_id={NATIVE_ASSET}&contract={}", Address::repeat_byte(7));
    let stranger = api.get(&stranger, Some(&token)).await?;
    assert_eq!((stranger.status, &stranger.body["error"]["code"]), (404, &json!("unknown_contract")));
    let verify = |file: &std::path::Path, contract: Address, previous: Address| -> eyre::Result<(i32, Value)> {
        let out = std::process::Command::new(service_binary("solvency-verify")?)
            .args([file.to_str().expect("utf-8 path"), "--rpc", &chain.rpc_url(), "--contract", &contract.to_string()])
            .args(["--previous", &previous.to_string(), "--max-age-blocks", "100000", "--json"])
            .output()?;
        let printed = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        let parsed = serde_json::from_slice(&out.stdout);
        let (code, printed) = anvil_tests::process::code_and_text(out.status, printed);
        Ok((code, parsed.map_err(|e| eyre::eyre!("solvency-verify printed no JSON ({e}):\n{printed}"))?))
    };
    let deadline = std::time::Instant::now() + LIMIT;
    let mut verified = 0;
    while verified < 2 {
        assert!(std::time::Instant::now() < deadline, "no round stayed on chain long enough to verify both proofs");
        verified = 0;
        for (contract, other) in [(new, old), (old, new)] {
            let path = format!("/v1/users/solvency-proof?asset_id={NATIVE_ASSET}&contract={contract}");
            let proof = api.get(&path, Some(&token)).await?.ok("GET /v1/users/solvency-proof")?;
            assert_eq!(hex(&proof["contract"]), format!("{contract:#x}"));
            let file = dir.write(&format!("proof-{contract:#x}.json"), &proof.to_string())?;
            let (code, verdict) = verify(&file, contract, other)?;
            if verdict["epoch"] != proof["epoch"] || verdict["previous"][0]["as_of_block"] != verdict["as_of_block"] {
                break; // A newer commitment landed meanwhile on one contract: try the next round.
            }
            assert_eq!((code, &verdict["verified"], &verdict["solvent"]), (0, &json!(true), &json!(true)), "{verdict}");
            let held: U256 = verdict["custody"].as_str().unwrap_or("0").parse()?;
            let also: U256 = verdict["previous"][0]["custody"].as_str().unwrap_or("0").parse()?;
            assert!(held + also >= U256::from(verdict["total"].as_str().unwrap_or("0").parse::<u128>()?), "{verdict}");
            verified += 1;
        }
    }
    Ok(())
}
