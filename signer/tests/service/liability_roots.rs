//! Liability roots (the proof of solvency's commitment): signed only as of a block the signer itself reads as
//! confirmed from its own node (a real anvil here), for ever higher epochs of a token, with the same double-sign
//! protection as every kind; refused on a chain without a head source, and 503 while the node does not answer.

use std::time::Duration;

use abi::{LiabilityRoot, toolchain::foundry_binary};
use alloy::{
    node_bindings::Anvil,
    primitives::{Address, B256, U256},
    providers::{Provider, ProviderBuilder},
};
use signer::{
    intent::{Addr, Amount, LiabilityRootIntent},
    policy::SolvencyConfig,
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
    }
}

async fn app_with_head(rpc_url: String, dir: &tempfile::TempDir) -> TestApp {
    let mut settings = settings(dir.path().join("signer.sqlite"));
    settings.policy.chains[0].solvency = Some(SolvencyConfig { rpc_url, confirmations: CONFIRMATIONS });
    TestApp::spawn(settings).await
}

#[tokio::test]
async fn a_root_is_signed_only_as_of_a_confirmed_block_and_only_for_a_higher_epoch() -> eyre::Result<()> {
    let anvil = Anvil::new().path(foundry_binary("anvil")).try_spawn()?;
    let chain = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    for _ in 0..6 {
        chain.raw_request::<_, String>("evm_mine".into(), ()).await?;
    }
    let head = chain.get_block_number().await?;
    let confirmed = head - CONFIRMATIONS;
    let dir = tempfile::tempdir()?;
    let app = app_with_head(anvil.endpoint_url().to_string(), &dir).await;

    // Above the confirmed head: refused, nothing recorded.
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, confirmed + 1, 0xa1, 0, None)).await),
        (403, "policy.as_of_block_not_confirmed".into())
    );
    assert_eq!(app.signed_count().await, 0);

    // At the confirmed head: signed by the signer's key over the contract's EIP-712 struct.
    let first = app.client.sign_liability_root(&root(1, confirmed, 0xa1, 0, None)).await.unwrap();
    assert_eq!(recovered(&first), DEV_ADDRESS);
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
    assert_eq!(first.digest, abi::SettlementDomain::new(CHAIN_ID, CONTRACT).digest(&signed));
    assert_eq!(first.kind, signer::intent::Kind::LiabilityRoot);

    // The same payload again: the same signature; another root on that nonce: 409.
    let again = app.client.sign_liability_root(&root(1, confirmed, 0xa1, 0, Some(first.deadline))).await.unwrap();
    assert_eq!(again.signature, first.signature);
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, confirmed, 0xa2, 0, Some(first.deadline))).await),
        (409, "nonce_conflict".into())
    );
    // Another root for epoch 1 on another nonce, while the first may still execute: refused.
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, confirmed, 0xa2, 1, None)).await),
        (403, "policy.epoch_not_increasing".into())
    );
    // Epoch 2 is signed; epoch 1 is refused after it, also across a restart.
    app.client.sign_liability_root(&root(2, confirmed, 0xb2, 1, None)).await.unwrap();
    let store_path = app.store_path.clone();
    app.stop().await;
    let mut settings = settings(store_path);
    settings.policy.chains[0].solvency =
        Some(SolvencyConfig { rpc_url: anvil.endpoint_url().to_string(), confirmations: CONFIRMATIONS });
    let app = TestApp::spawn(settings).await;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, confirmed, 0xa3, 2, None)).await),
        (403, "policy.epoch_not_increasing".into())
    );
    // Epochs are per token: the native coin's epoch 1 is its own.
    let mut native = root(1, confirmed, 0xa4, 3, None);
    native.token = Addr(Address::ZERO);
    app.client.sign_liability_root(&native).await.unwrap();
    assert_eq!(app.signed_count().await, 3);

    // An epoch whose only signature expired unused may be signed again (the contract would otherwise never get
    // past it); while it may still execute, it may not.
    let short = now() + 2;
    app.client.sign_liability_root(&root(3, confirmed, 0xc3, 4, Some(short))).await.unwrap();
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(3, confirmed, 0xc4, 5, None)).await),
        (403, "policy.epoch_not_increasing".into())
    );
    let until = std::time::Instant::now() + Duration::from_secs(15);
    let resigned = loop {
        match app.client.sign_liability_root(&root(3, confirmed, 0xc4, 5, None)).await {
            Ok(signed) => break signed,
            Err(e) if std::time::Instant::now() < until => {
                assert!(format!("{e:?}").contains("epoch_not_increasing"), "{e:?}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("epoch 3 was not signed again once its signature expired: {e:?}"),
        }
    };
    assert!(resigned.deadline > short);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn without_a_head_source_roots_are_refused_and_an_unreachable_node_is_503() {
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
    let app = app_with_head(url, &dir).await;
    assert_eq!(
        refusal(app.client.sign_liability_root(&root(1, 1, 0xa1, 0, None)).await),
        (503, "head_unavailable".into())
    );
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
