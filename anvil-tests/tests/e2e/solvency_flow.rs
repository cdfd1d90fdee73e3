//! The public proof of solvency end to end, every service a process: wallets register through the API in both
//! assets; the API's worker builds each asset's epoch from the ledger, the signer signs it (reading the chain's head
//! itself), the operator commits it and the listener marks it committed; every user downloads their proof from the
//! API and the auditors' command line verifies it against the root read from the chain, a tampered copy refused;
//! the reconciler stays quiet while the chain and the ledger agree, and pages within one run when a commitment the
//! ledger never built appears on chain.

use abi::{LiabilityRoot, Settlement};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::{Provider, ext::AnvilApi},
    signers::{SignerSync, local::PrivateKeySigner},
};
use anvil_tests::{
    api::{ApiClient, pay, wait_for, wallet_provider},
    devchain::{DevChain, NATIVE_ASSET, USDT_ASSET},
    services::{
        BackendChain, Service, WorkDir, ledger_database, service_binary, start_backend_configured, start_signer,
        wait_listener_through,
    },
    webhook::WebhookInbox,
};
use serde_json::Value;

use crate::{BNB, CHAIN, LIMIT, USDT, reconciler_spec, start_listener};

/// The salts' key of this test (a test value, not a secret of any deployment).
const SALT_KEY: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
/// Blocks between epochs (anvil mines one a second).
const INTERVAL: u64 = 6;

/// The latest committed epoch of `asset_id` as the API shows it, once it is as of `block` or later.
async fn committed_since(api: &ApiClient, asset_id: i32, block: u64) -> eyre::Result<Value> {
    wait_for(&format!("asset {asset_id}: an epoch committed as of block {block} or later"), LIMIT, || async {
        let all = api.get("/v1/public/solvency", None).await?.ok("GET /v1/public/solvency")?;
        let asset = all["assets"].as_array().and_then(|a| a.iter().find(|x| x["asset_id"] == asset_id).cloned());
        Ok(asset.filter(|a| a["latest"]["as_of_block"].as_u64().is_some_and(|b| b >= block)))
    })
    .await
}

/// Runs the auditors' verifier on `proof` against `rpc`, at the deployment's `contract`: (exit code, what it printed).
fn verify_cli(dir: &WorkDir, name: &str, proof: &Value, rpc: &str, contract: Address) -> eyre::Result<(i32, String)> {
    let file = dir.write(name, &proof.to_string())?;
    let contract = contract.to_string();
    let out = std::process::Command::new(service_binary("solvency-verify")?)
        .args([file.to_str().expect("utf-8 path"), "--rpc", rpc, "--contract", &contract, "--max-age-blocks", "1000"])
        .output()?;
    Ok(anvil_tests::process::code_and_text(out.status, String::from_utf8_lossy(&out.stdout).into_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epochs_are_committed_every_users_proof_verifies_and_a_forged_commitment_pages_in_one_run() -> eyre::Result<()>
{
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("solvency-flow")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    let secret = format!("e2e-caller-secret-of-at-least-32-bytes-{}", std::process::id());
    let (_signer, signer_url) = start_signer(&dir, &chain, &secret).await?;
    let solvency = format!(
        "[solvency]\nsalt_key = \"{SALT_KEY}\"\ninterval_secs = 1\nidle_secs = 5\n\
         [[solvency.chains]]\nchain_id = {CHAIN}\ninterval_blocks = {INTERVAL}\npayout_gap_blocks = 2\n"
    );
    let (_backend, api_url, _) =
        start_backend_configured(&dir, &chain, &url, &signer_url, &secret, BackendChain::default(), &solvency).await?;
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), "poll_interval_ms = 100")?;
    let inbox = WebhookInbox::start().await?;
    let spec = dir.write("reconciler-chains.toml", &reconciler_spec(&chain))?;
    let reconciler = format!(
        "database_url = \"{url}\"\ninterval_secs = 1\nmax_lag_blocks = 50\nchain_spec = \"{}\"\n\
         solvency_salt_key = \"{SALT_KEY}\"\n\n[[chains]]\nchain_id = {CHAIN}\nsolvency_interval_blocks = {INTERVAL}\n\n\
         [[sinks]]\nkind = \"alertmanager\"\nurl = \"{}/hook\"\nreceiver = \"e2e\"\n",
        spec.display(),
        inbox.url
    );
    let reconciler = dir.write("reconciler.toml", &reconciler)?;
    let _reconciler =
        Service::start(&dir, "reconciler", "reconciler", &[reconciler.to_str().expect("utf-8 path")], &[])?;
    let api = ApiClient::new(api_url.clone());

    // Three wallets per asset register through the API and pay from their own keys.
    let mut members: Vec<(i32, PrivateKeySigner)> = Vec::new();
    let mut last_block = 0;
    for (asset_id, token, unit) in [(NATIVE_ASSET, Address::ZERO, BNB), (USDT_ASSET, chain.usdt, USDT)] {
        let mut sponsor = chain.admin.address();
        for _ in 0..3 {
            let wallet = PrivateKeySigner::random();
            chain.provider.anvil_set_balance(wallet.address(), U256::from(1_000 * BNB)).await?;
            if token != Address::ZERO {
                let usdt = abi::TestUSDT::new(token, wallet_provider(&chain.rpc_url(), &wallet)?);
                usdt.mint(wallet.address(), U256::from(100 * unit)).send().await?.get_receipt().await?;
            }
            let access = api.sign_in(&wallet).await?;
            let payment = api.register_payload(&access, asset_id, sponsor).await?;
            last_block = pay(&wallet_provider(&chain.rpc_url(), &wallet)?, &payment).await?;
            wait_listener_through(&db.pool, CHAIN, last_block, LIMIT, &mut listener).await?;
            sponsor = wallet.address();
            members.push((asset_id, wallet));
        }
    }

    // Each asset's epoch covering every registration is committed: the chain holds the root the API shows.
    let settlement = Settlement::new(chain.settlement, &chain.provider);
    for (asset_id, token) in [(NATIVE_ASSET, Address::ZERO), (USDT_ASSET, chain.usdt)] {
        let asset = committed_since(&api, asset_id, last_block).await?;
        let latest = &asset["latest"];
        assert_eq!(latest["leaf_count"].as_u64(), Some(4), "genesis and three users, the company no leaf");
        let onchain = settlement.latestLiabilities(token).call().await?;
        // A later epoch may have been committed meanwhile: compare with the chain's own epoch when equal.
        if onchain.epoch == latest["epoch"].as_u64().unwrap() {
            assert_eq!(onchain.root.to_string(), latest["root"].as_str().unwrap());
            assert_eq!(onchain.total.to_string(), latest["total"]["base"].as_str().unwrap());
        }
        assert!(onchain.custody >= U256::from(onchain.total), "custody covers the committed total");
    }

    // Every user's proof, downloaded as a file, verifies with the auditors' command line against the chain.
    let http = reqwest::Client::new();
    for (i, (asset_id, wallet)) in members.iter().enumerate() {
        let access = api.sign_in(wallet).await?;
        // The proof of the epoch the chain holds right now.
        let proof = wait_for("a proof of the chain's latest epoch", LIMIT, || async {
            let answer = http
                .get(format!("{api_url}/v1/users/solvency-proof?asset_id={asset_id}&download=true"))
                .bearer_auth(&access)
                .send()
                .await?;
            assert_eq!(answer.status(), 200);
            let disposition = answer.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_owned());
            assert!(disposition.is_some_and(|d| d.starts_with("attachment; filename=\"solvency-proof-")));
            let proof: Value = answer.json().await?;
            let token = if *asset_id == NATIVE_ASSET { Address::ZERO } else { chain.usdt };
            let onchain = settlement.latestLiabilities(token).call().await?;
            Ok((proof["epoch"].as_u64() == Some(onchain.epoch)).then_some(proof))
        })
        .await?;
        assert_eq!(proof["user"].as_str().unwrap(), format!("{:#x}", wallet.address()));
        let (code, out) = verify_cli(&dir, &format!("proof-{i}.json"), &proof, &chain.rpc_url(), chain.settlement)?;
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("VERIFIED"), "{out}");
        // A copy with a lowered balance is refused by the same command.
        let mut tampered = proof.clone();
        let pending = tampered["balances"]["pending"].as_str().unwrap().parse::<u128>()?;
        let claimable = tampered["balances"]["claimable"].as_str().unwrap().parse::<u128>()?;
        tampered["balances"]["pending"] = (pending + claimable + 1).to_string().into();
        tampered["balances"]["claimable"] = "0".into();
        let (code, out) =
            verify_cli(&dir, &format!("tampered-{i}.json"), &tampered, &chain.rpc_url(), chain.settlement)?;
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("REFUSED") && out.contains("root"), "{out}");
    }
    // A wallet that is no user of the asset has no leaf.
    let stranger = api.sign_in(&PrivateKeySigner::random()).await?;
    let none = api.get(&format!("/v1/users/solvency-proof?asset_id={NATIVE_ASSET}"), Some(&stranger)).await?;
    assert_eq!((none.status, none.code()), (404, "not_in_epoch"));
    // An epoch number the ledger cannot hold is no epoch (it must not wrap to "the latest").
    let member = api.sign_in(&members[0].1).await?;
    for epoch in ["0", "18446744073709551615", "9223372036854775808"] {
        let path = format!("/v1/users/solvency-proof?asset_id={NATIVE_ASSET}&epoch={epoch}");
        let answer = api.get(&path, Some(&member)).await?;
        assert_eq!((answer.status, answer.code()), (404, "no_epoch"), "epoch {epoch}");
    }
    assert!(
        !inbox.received().iter().any(|(_, b)| b.to_string().contains("solvency_")),
        "nothing about solvency paged while the chain and the ledger agree: {:?}",
        inbox.received()
    );

    // A commitment the ledger never built: signed with the signer's key and sent with the operator's, as a
    // compromised backend could.
    let onchain = settlement.latestLiabilities(Address::ZERO).call().await?;
    let head = chain.provider.get_block_number().await?;
    let forged = LiabilityRoot {
        token: Address::ZERO,
        epoch: onchain.epoch + 1,
        asOfBlock: head - 1,
        root: B256::repeat_byte(0xf0),
        total: 1,
        leafCount: 1,
        planHash: B256::ZERO,
        nonce: abi::nonces::liability_nonce(1 << 40),
        deadline: U256::from(u64::MAX),
    };
    let digest = abi::SettlementDomain::new(CHAIN, chain.settlement).digest(&forged);
    let signature = Bytes::from(chain.backend_signer.sign_hash_sync(&digest)?.as_bytes().to_vec());
    let operator = Settlement::new(chain.settlement, wallet_provider(&chain.rpc_url(), &chain.admin)?);
    let receipt = operator.commitLiabilities(forged, signature).send().await?.get_receipt().await?;
    assert!(receipt.status());
    let forged_block = receipt.block_number.unwrap();
    wait_listener_through(&db.pool, CHAIN, forged_block, LIMIT, &mut listener).await?;
    let runs_before: i64 =
        sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM reconciler_runs").fetch_one(&db.pool).await?;
    let key = format!("solvency_commitment:{CHAIN}:{}", Address::ZERO);
    wait_for("the forged commitment paged", LIMIT, || async {
        Ok(inbox
            .received()
            .iter()
            .any(|(_, b)| {
                b["alerts"].as_array().is_some_and(|alerts| {
                    alerts.iter().any(|a| a["status"] == "firing" && a["labels"]["dedup_key"] == key.as_str())
                })
            })
            .then_some(()))
    })
    .await?;
    let first: i64 =
        sqlx::query_scalar("SELECT min(id) FROM reconciler_runs WHERE alerts::text LIKE '%solvency_commitment%'")
            .fetch_one(&db.pool)
            .await?;
    // The run in progress when the listener applied it may have read the chain before; the next one pages.
    assert!(first <= runs_before + 2, "paged by run {first}, the ledger knew it by run {runs_before}");
    Ok(())
}
