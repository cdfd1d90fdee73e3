//! Liability roots (the proof of solvency's commitment): signed only as of a block the signer itself reads as
//! confirmed from its own node (a real anvil with the contract deployed here), no further below the head than the
//! contract's `maxAsOfLag()`, for ever higher epochs of a token, with the same double-sign protection as every kind;
//! refused on a chain without a node, and 503 while the node does not answer.

use abi::{LiabilityRoot, Settlement};
use alloy::{
    primitives::{Address, B256, U256},
    providers::{Provider, ext::AnvilApi},
};
use anvil_tests::devchain::DevChain;
use signer::{
    intent::{Addr, Amount, LiabilityRootIntent},
    policy::NodeConfig,
};

use crate::support::*;

const CONFIRMATIONS: u64 = 2;

fn root(epoch: u64, as_of_block: u64, byte: u8, seq: u64, deadline: Option<u64>) -> LiabilityRootIntent {
    LiabilityRootIntent {
        chain_id: CHAIN_ID,
        contract: Addr(CONTRACT),
        token: Addr(USDT),
        epoch,
        as_of_block,
        root: B256::repeat_byte(byte),
        total: Amount::from(1_000_000u128),
        leaf_count: 9,
        plan_hash: B256::repeat_byte(0xcd),
        nonce: Some(Amount(abi::nonces::liability_nonce(seq))),
        deadline,
        forfeits: Vec::new(),
    }
}

/// A root for `chain`'s Settlement contract.
fn root_on(chain: &DevChain, epoch: u64, as_of_block: u64, byte: u8, seq: u64) -> LiabilityRootIntent {
    LiabilityRootIntent { contract: Addr(chain.settlement), ..root(epoch, as_of_block, byte, seq, None) }
}

/// A signer whose own node is `rpc_url`, allowing `contract` on the test chain.
async fn app_with_node(rpc_url: String, contract: Address, dir: &tempfile::TempDir) -> TestApp {
    let mut settings = settings(dir.path().join("signer.sqlite"));
    settings.policy = policy(CHAIN_ID, contract);
    settings.policy.chains[0].node = Some(NodeConfig { rpc_url, confirmations: CONFIRMATIONS });
    TestApp::spawn(settings).await
}

/// The development chain, its contract's signer the tests' key (anvil's key #1, or the SoftHSM2 key when the suite
/// runs with it: the contract is then rotated onto it at once, its delay passed on anvil's clock).
async fn dev_chain() -> eyre::Result<DevChain> {
    let chain = DevChain::start().await?;
    if chain.backend_signer.address() != signer_address() {
        let rotate = Settlement::scheduleSignerRotationCall { newSigner: signer_address() };
        anvil_tests::devchain::change_now(&chain.provider, chain.settlement, rotate).await?;
    }
    Ok(chain)
}

/// The timestamp of `chain`'s latest block.
async fn chain_time(chain: &DevChain) -> u64 {
    chain.provider.get_block_by_number(Default::default()).await.unwrap().unwrap().header.timestamp
}

#[tokio::test]
async fn a_root_is_signed_only_as_of_a_confirmed_block_and_only_for_a_higher_epoch() -> eyre::Result<()> {
    let chain = dev_chain().await?;
    chain.provider.anvil_mine(Some(6), None).await?;
    let head = chain.provider.get_block_number().await?;
    let confirmed = head - CONFIRMATIONS;
    let dir = tempfile::tempdir()?;
    let app = app_with_node(chain.rpc_url(), chain.settlement, &dir).await;
    let root = |epoch, as_of, byte, seq| root_on(&chain, epoch, as_of, byte, seq);

    // Above the confirmed head: refused, nothing recorded.
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, confirmed + 1, 0xa1, 0)).await),
        (403, "policy.as_of_block_not_confirmed".into())
    );
    assert_eq!(app.signed_count().await, 0);

    // At the confirmed head: signed by the signer's key over the contract's EIP-712 struct.
    let first = app.client.sign_liability_root(&root(1, confirmed, 0xa1, 0)).await.unwrap();
    assert_eq!(recovered(&first), signer_address());
    let signed = LiabilityRoot {
        token: USDT,
        epoch: 1,
        asOfBlock: confirmed,
        root: B256::repeat_byte(0xa1),
        total: 1_000_000,
        leafCount: 9,
        planHash: B256::repeat_byte(0xcd),
        nonce: abi::nonces::liability_nonce(0),
        deadline: U256::from(first.deadline),
    };
    assert_eq!(first.digest, abi::SettlementDomain::new(CHAIN_ID, chain.settlement).digest(&signed));
    assert_eq!(first.kind, signer::intent::Kind::LiabilityRoot);

    // The same payload again: the same signature; another root on that nonce: 409.
    let again = LiabilityRootIntent { deadline: Some(first.deadline), ..root(1, confirmed, 0xa1, 0) };
    assert_eq!(app.client.sign_liability_root(&again).await.unwrap().signature, first.signature);
    let other = LiabilityRootIntent { deadline: Some(first.deadline), ..root(1, confirmed, 0xa2, 0) };
    assert_eq!(refusal(app.client.sign_liability_root(&other).await), (409, "nonce_conflict".into()));
    // Another root for epoch 1 on another nonce, while the first may still execute: refused.
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, confirmed, 0xa2, 1)).await),
        (403, "policy.epoch_not_increasing".into())
    );
    // Epoch 2 is signed; epoch 1 is refused after it, also across a restart.
    app.client.sign_liability_root(&root(2, confirmed, 0xb2, 1)).await.unwrap();
    let store_path = app.store_path.clone();
    app.stop().await;
    let mut settings = settings(store_path);
    settings.policy = policy(CHAIN_ID, chain.settlement);
    settings.policy.chains[0].node = Some(NodeConfig { rpc_url: chain.rpc_url(), confirmations: CONFIRMATIONS });
    let app = TestApp::spawn(settings).await;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, confirmed, 0xa3, 2)).await),
        (403, "policy.epoch_not_increasing".into())
    );
    // Epochs are per token: the native coin's epoch 1 is its own.
    let mut native = root(1, confirmed, 0xa4, 3);
    native.token = Addr(Address::ZERO);
    app.client.sign_liability_root(&native).await.unwrap();
    assert_eq!(app.signed_count().await, 3);

    // An epoch whose only signature expired unused may be signed again (the contract would otherwise never get
    // past it); while it may still execute, it may not. Expired by the chain's clock: anvil's, moved on, not the
    // host's (which never reaches the deadline in this test).
    let short = chain_time(&chain).await + 60;
    let expiring = LiabilityRootIntent { deadline: Some(short), ..root(3, confirmed, 0xc3, 4) };
    app.client.sign_liability_root(&expiring).await.unwrap();
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(3, confirmed, 0xc4, 5)).await),
        (403, "policy.epoch_not_increasing".into())
    );
    chain.provider.anvil_set_next_block_timestamp(short).await?;
    chain.provider.evm_mine(None).await?;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(3, confirmed, 0xc4, 5)).await),
        (403, "policy.epoch_not_increasing".into()),
        "a block at the deadline is still one it could execute in"
    );
    chain.provider.anvil_set_next_block_timestamp(short + 1).await?;
    chain.provider.evm_mine(None).await?;
    let resigned = app.client.sign_liability_root(&root(3, confirmed, 0xc4, 5)).await.unwrap();
    assert!(resigned.deadline > short);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_root_older_than_the_contracts_max_as_of_lag_is_refused_and_one_within_it_commits() -> eyre::Result<()> {
    let chain = dev_chain().await?;
    let contract = Settlement::new(chain.settlement, &chain.provider);
    let lag: u64 = contract.maxAsOfLag().call().await?.try_into()?;
    chain.provider.anvil_mine(Some(lag + 20), None).await?;
    let dir = tempfile::tempdir()?;
    let app = app_with_node(chain.rpc_url(), chain.settlement, &dir).await;
    let head = chain.provider.get_block_number().await?;

    // "As of block 1" with the head far above: the contract would refuse it (`AsOfBlockTooOld`); so does the
    // signer, reading the contract's bound through its own node, before anything is recorded.
    for as_of in [1, head - lag - 1] {
        assert_eq!(
            refusal(app.client.sign_liability_root(&root_on(&chain, 1, as_of, 0xa1, as_of)).await),
            (403, "policy.as_of_block_too_old".into()),
            "as of {as_of} with the head at {head}"
        );
    }
    assert_eq!(app.signed_count().await, 0);

    // One well within it is signed and commits on chain (in the native coin: a token the contract allows).
    let as_of = head - CONFIRMATIONS;
    let native = |epoch, as_of, seq| LiabilityRootIntent {
        token: Addr(Address::ZERO),
        ..root_on(&chain, epoch, as_of, 0xa3, seq)
    };
    let signed = app.client.sign_liability_root(&native(1, as_of, 0)).await.unwrap();
    let commitment = LiabilityRoot {
        token: Address::ZERO,
        epoch: 1,
        asOfBlock: as_of,
        root: B256::repeat_byte(0xa3),
        total: 1_000_000,
        leafCount: 9,
        planHash: B256::repeat_byte(0xcd),
        nonce: abi::nonces::liability_nonce(0),
        deadline: U256::from(signed.deadline),
    };
    let sent = contract.commitLiabilities(commitment, signed.signature.clone()).send().await?.get_receipt().await?;
    assert!(sent.status(), "the signer's root commits");
    // Exactly the bound below the head the signer reads is signed.
    let head = chain.provider.get_block_number().await?;
    app.client.sign_liability_root(&native(2, head - lag, 1)).await.unwrap();
    assert_eq!(
        refusal(app.client.sign_liability_root(&native(2, head - lag - 1, 2)).await),
        (403, "policy.as_of_block_too_old".into())
    );
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn without_a_node_roots_are_refused_and_an_unreachable_node_is_503() {
    let (app, _dir) = TestApp::fresh().await;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, 1, 0xa1, 0, None)).await),
        (403, "policy.liability_roots_not_allowed".into())
    );
    app.stop().await;
    // A node that does not answer: nothing is signed on a guess.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let app = app_with_node(url, CONTRACT, &dir).await;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, 1, 0xa1, 0, None)).await),
        (503, "head_unavailable".into())
    );
    // Nor a registration: its deadline is on the chain's clock, which cannot be read.
    assert_eq!(refusal(app.client.sign_register(&register(1, None)).await), (503, "head_unavailable".into()));
    assert_eq!(app.signed_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn malformed_roots_are_422_and_store_nothing() {
    let (app, _dir) = TestApp::fresh().await;
    let path = signer::api::LIABILITY_ROOT_PATH;
    let good = serde_json::to_value(root(1, 1, 0xa1, 0, None)).unwrap();
    let with = |field: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[field] = value;
        serde_json::to_vec(&v).unwrap()
    };
    let mut no_nonce = good.clone();
    no_nonce.as_object_mut().unwrap().remove("nonce");
    for body in [
        with("epoch", 0.into()),
        with("total", U256::from(1u128 << 127).saturating_mul(U256::from(2)).to_string().into()),
        with("root", "0x1234".into()),
        with("leaf_count", (u64::from(u32::MAX) + 1).into()),
        serde_json::to_vec(&no_nonce).unwrap(),
    ] {
        let answer = app.post_raw(path, &body).await;
        assert_eq!(answer.status(), 422, "{}", String::from_utf8_lossy(&body));
    }
    assert_eq!(app.signed_count().await, 0);
    app.stop().await;
}
