//! The auditors' command line against anvil: it trusts only the auditor's sources. A one-leaf tree committed under a
//! contract the attacker deployed (issue 42's forged proof, which printed VERIFIED when the command read the contract
//! the proof names) is refused against the deployment's contract; so is a proof naming another contract or token, a
//! token the contract never allowed, a node of another chain holding the same tree at the same address, and
//! liabilities older than the maximum however recently they were committed.

use std::process::Command;

use abi::{LiabilityRoot, Settlement};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    signers::{SignerSync, local::PrivateKeySigner},
};
use anvil_tests::devchain::{DevChain, deploy_stack};
use serde_json::{Value, json};
use solvency_verify::{LeafBalances, Proof, leaf};

const ETH: u128 = 1_000_000_000_000_000_000;

/// The member whose balance the trees hold (any address: nothing is sent from it).
fn member() -> Address {
    Address::repeat_byte(0x4d)
}

/// A one-leaf proof of `member()` owing `pending` base units, under `chain_id`, `contract` and `token`, as the API
/// would serve it: depth 0, the root is the leaf itself.
fn one_leaf(chain_id: u64, contract: Address, token: Address, epoch: u64, as_of_block: u64, pending: u128) -> Value {
    let balances = LeafBalances { pending, ..LeafBalances::default() };
    let proof = Proof {
        chain_id,
        contract,
        token,
        epoch,
        as_of_block,
        user: member(),
        balances,
        salt: B256::repeat_byte(0x5a),
        index: 0,
        depth: 0,
        leaf_count: 1,
        siblings: Vec::new(),
        root: None,
        total: None,
    };
    let root = leaf(&proof);
    json!({
        "version": solvency_verify::VERSION, "chain_id": chain_id, "contract": contract, "token": token,
        "epoch": epoch, "as_of_block": as_of_block, "user": member(),
        "balances": { "reserved": "0", "held": "0", "pending": pending.to_string(), "batched": "0", "claimable": "0" },
        "salt": proof.salt, "index": 0, "depth": 0, "leaf_count": 1, "siblings": [],
        "root": root, "total": pending.to_string(),
    })
}

/// Commits `proof`'s tree at `settlement` on the chain `provider` sends to (its wallet holds the operator role),
/// signed by `signer` under the domain of `chain_id` and `settlement`.
async fn commit(
    provider: &DynProvider,
    chain_id: u64,
    settlement: Address,
    signer: &PrivateKeySigner,
    proof: &Value,
    seq: u64,
) -> eyre::Result<u64> {
    let root: B256 = proof["root"].as_str().unwrap().parse()?;
    let total: u128 = proof["total"].as_str().unwrap().parse()?;
    let token: Address = proof["token"].as_str().unwrap().parse()?;
    let latest = provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
    let now = latest.ok_or_else(|| eyre::eyre!("no latest block"))?.header.timestamp;
    let payload = LiabilityRoot {
        token,
        epoch: proof["epoch"].as_u64().unwrap(),
        asOfBlock: proof["as_of_block"].as_u64().unwrap(),
        root,
        total,
        leafCount: 1,
        planHash: B256::ZERO,
        nonce: abi::nonces::liability_nonce(seq),
        deadline: U256::from(now + 3_600),
    };
    let digest = abi::SettlementDomain::new(chain_id, settlement).digest(&payload);
    let signature = Bytes::from(signer.sign_hash_sync(&digest)?.as_bytes().to_vec());
    let receipt =
        Settlement::new(settlement, provider).commitLiabilities(payload, signature).send().await?.get_receipt().await?;
    eyre::ensure!(receipt.status(), "commitLiabilities reverted");
    Ok(receipt.block_number.unwrap_or_default())
}

/// Runs `solvency-verify` on `proof` with `args`: (exit code, what it printed).
fn verify_cli(proof: &Value, args: &[&str]) -> eyre::Result<(i32, String)> {
    let dir = std::env::temp_dir().join(format!("solvency-verify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(format!("proof-{}.json", rand_suffix()));
    std::fs::write(&file, proof.to_string())?;
    let out = Command::new(env!("CARGO_BIN_EXE_solvency-verify")).arg(&file).args(args).output()?;
    let _ = std::fs::remove_file(&file);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    Ok(anvil_tests::process::code_and_text(out.status, text))
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_auditors_contract_token_and_chain_count_and_age_is_the_liabilities() -> eyre::Result<()> {
    // The deployment the auditor was given (its record's contract), with custody to cover the member.
    let chain = DevChain::start().await?;
    let rpc = chain.rpc_url();
    let real = chain.settlement.to_string();
    chain.provider.anvil_set_balance(chain.settlement, U256::from(10 * ETH)).await?;
    let head = chain.provider.get_block_number().await?;
    let honest = one_leaf(31_337, chain.settlement, Address::ZERO, 1, head, ETH);
    commit(&chain.provider, 31_337, chain.settlement, &chain.backend_signer, &honest, 1).await?;
    let (code, out) = verify_cli(&honest, &["--rpc", &rpc, "--contract", &real])?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERIFIED"), "{out}");
    let (code, out) =
        verify_cli(&honest, &["--rpc", &rpc, "--contract", &real, "--token", &Address::ZERO.to_string()])?;
    assert_eq!(code, 0, "the token given is the proof's: {out}");

    // Issue 42's forgery: the attacker deploys a Settlement of their own (admin, signer and operator), commits a
    // one-leaf tree of the member there, and serves its proof. Read at the contract it names, it verifies…
    let attacker = chain.account(5);
    let attacker_provider = DevChain::provider_for(&chain.anvil, &attacker);
    let fake = deploy_stack(&attacker_provider, attacker.address(), attacker.address()).await?.settlement;
    chain.provider.anvil_set_balance(fake, U256::from(10 * ETH)).await?;
    let head = chain.provider.get_block_number().await?;
    let forged = one_leaf(31_337, fake, Address::ZERO, 1, head, ETH);
    commit(&attacker_provider, 31_337, fake, &attacker, &forged, 1).await?;
    let (code, out) = verify_cli(&forged, &["--rpc", &rpc, "--contract", &fake.to_string()])?;
    assert_eq!(code, 0, "the forgery holds together at its own contract: {out}");
    // …and against the deployment's contract it is refused, naming why.
    let (code, out) = verify_cli(&forged, &["--rpc", &rpc, "--contract", &real])?;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED: contract: the proof names contract"), "{out}");
    assert!(!out.contains("VERIFIED"), "{out}");
    let (code, out) = verify_cli(&forged, &["--rpc", &rpc, "--contract", &real, "--json"])?;
    assert_eq!(code, 1, "{out}");
    let verdict: Value = serde_json::from_str(out.trim())?;
    assert_eq!(verdict["verified"], false);
    assert_eq!(verdict["contract"], json!(chain.settlement));
    let failed: Vec<&str> = verdict["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"contract") && failed.contains(&"root"), "{failed:?}");

    // A proof of another token than the one given; a proof of a token the contract never allowed.
    let (code, out) = verify_cli(&honest, &["--rpc", &rpc, "--contract", &real, "--token", &chain.usdt.to_string()])?;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED: token: the proof is for token"), "{out}");
    let never = Address::repeat_byte(0x99);
    let unknown = one_leaf(31_337, chain.settlement, never, 1, head, ETH);
    let (code, out) = verify_cli(&unknown, &["--rpc", &rpc, "--contract", &real])?;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL allowed") && out.contains("never allowed token"), "{out}");

    // A node of another chain: the same deployer makes the same contract address there, and a tree of this chain's
    // leaves committed at it folds to its root; the chain id refuses it before anything is read.
    let other = DevChain::start_on_chain(97).await?;
    assert_eq!(other.settlement, chain.settlement, "the same address on both chains");
    let replayed = one_leaf(31_337, other.settlement, Address::ZERO, 1, other.provider.get_block_number().await?, ETH);
    other.provider.anvil_set_balance(other.settlement, U256::from(10 * ETH)).await?;
    commit(&other.provider, 97, other.settlement, &other.backend_signer, &replayed, 1).await?;
    let onchain = Settlement::new(other.settlement, &other.provider).latestLiabilities(Address::ZERO).call().await?;
    assert_eq!(onchain.root.to_string(), replayed["root"].as_str().unwrap(), "chain 97 holds the proof's root");
    let (code, out) = verify_cli(&replayed, &["--rpc", &other.rpc_url(), "--contract", &real])?;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("REFUSED: chain: the proof is for chain 31337, but the node at") && out.contains("chain 97"),
        "{out}"
    );

    // Old liabilities, freshly committed: epoch 2 as of 60 blocks back, committed in the next block. Judged by the
    // commit block it would be 0 blocks old; its liabilities are 60 behind the head.
    chain.provider.anvil_mine(Some(100), None).await?;
    let head = chain.provider.get_block_number().await?;
    let old = one_leaf(31_337, chain.settlement, Address::ZERO, 2, head - 60, ETH);
    let committed = commit(&chain.provider, 31_337, chain.settlement, &chain.backend_signer, &old, 2).await?;
    assert_eq!(committed, head + 1, "committed in the next block");
    let (code, out) = verify_cli(&old, &["--rpc", &rpc, "--contract", &real, "--max-age-blocks", "30"])?;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED: fresh: the liabilities are as of block"), "{out}");
    assert!(out.contains("61 blocks behind the head"), "{out}");
    let (code, out) = verify_cli(&old, &["--rpc", &rpc, "--contract", &real, "--max-age-blocks", "100"])?;
    assert_eq!(code, 0, "{out}");
    // Without --max-age-blocks the CLI's own maximum applies (a day of blocks), never none.
    let (code, out) = verify_cli(&old, &["--rpc", &rpc, "--contract", &real])?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("at most 115200"), "{out}");
    Ok(())
}
