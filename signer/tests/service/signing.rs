//! Signatures for every intent kind: right digest, recover to the signer, nonces and deadlines as documented.

use abi::{Payout, PayoutBatch, Registration, Retopup, SettlementDomain, TreasuryTransfer};
use alloy::primitives::{Address, B256, U256};
use signer::api::SignResponse;

use crate::support::*;

fn expect_digest(response: &SignResponse, expected: B256) {
    assert_eq!(response.digest, expected);
    assert_eq!(recovered(response), signer_address());
    assert_eq!(response.signer.0, signer_address());
}

#[tokio::test]
async fn every_intent_kind_is_signed_over_the_abi_struct_and_recovers_to_the_signer() {
    let (app, _dir) = TestApp::fresh().await;
    let domain = SettlementDomain::new(CHAIN_ID, CONTRACT);

    let r = app.client.sign_register(&register(700, Some(10))).await.unwrap();
    let expected = Registration {
        user: USER,
        sponsor: SPONSOR,
        token: Address::ZERO,
        amount: U256::from(700),
        nonce: U256::from(10),
        deadline: U256::from(r.deadline),
    };
    expect_digest(&r, domain.digest(&expected));
    assert_eq!(r.nonce.0, U256::from(10));

    let r = app.client.sign_retopup(&retopup(300, Some(11))).await.unwrap();
    let expected = Retopup {
        user: USER,
        token: USDT,
        amount: U256::from(300),
        nonce: U256::from(11),
        deadline: U256::from(r.deadline),
    };
    expect_digest(&r, domain.digest(&expected));

    let r = app.client.sign_payout_batch(&payout_batch(&[100, 250], Some(12))).await.unwrap();
    let expected = PayoutBatch {
        token: USDT,
        total: U256::from(350),
        payouts: vec![
            Payout { recipient: Address::with_last_byte(1), amount: U256::from(100) },
            Payout { recipient: Address::with_last_byte(2), amount: U256::from(250) },
        ],
        nonce: abi::nonces::batch_nonce(12, 0),
        deadline: U256::from(r.deadline),
    };
    expect_digest(&r, domain.digest(&expected));
    assert_eq!(r.payload["total"], "350");

    let r = app.client.sign_treasury_transfer(&treasury_transfer(TREASURY, 900, Some(13))).await.unwrap();
    let expected = TreasuryTransfer {
        token: USDT,
        to: TREASURY,
        amount: U256::from(900),
        nonce: abi::nonces::treasury_nonce(13),
        deadline: U256::from(r.deadline),
    };
    expect_digest(&r, domain.digest(&expected));

    assert_eq!(app.signed_count().await, 4);
    app.stop().await;
}

#[tokio::test]
async fn missing_deadline_gets_the_default_ttl_and_an_explicit_one_is_kept() {
    let (app, _dir) = TestApp::fresh().await;
    let before = now();
    let r = app.client.sign_register(&register(1, None)).await.unwrap();
    assert!(r.deadline >= before + DEFAULT_TTL && r.deadline <= now() + DEFAULT_TTL, "{}", r.deadline);

    let mut intent = register(1, None);
    intent.deadline = Some(now() + 1_234);
    let r = app.client.sign_register(&intent).await.unwrap();
    assert_eq!(r.deadline, intent.deadline.unwrap());
    assert_eq!(r.payload["deadline"], intent.deadline.unwrap());
    app.stop().await;
}

/// A nonce reserved ahead (and signed on at once) that a caller chose meanwhile is not signed twice: the request
/// gets another nonce, and the caller's record stands.
#[tokio::test]
async fn a_reserved_nonce_a_caller_chose_meanwhile_is_not_signed_twice() {
    let (app, _dir) = TestApp::fresh().await;
    let first = app.client.sign_register(&register(10, None)).await.unwrap().nonce.0;
    assert_eq!(first, U256::from(1));
    // That group reserved the next free nonces, 2 first; a caller takes 2 for itself.
    let chosen = app.client.sign_register(&register(20, Some(2))).await.unwrap();
    assert_eq!(chosen.nonce.0, U256::from(2));
    let third = app.client.sign_register(&register(30, None)).await.unwrap();
    let fourth = app.client.sign_register(&register(40, None)).await.unwrap();
    assert!(third.nonce.0 != U256::from(2) && third.nonce.0 != first, "{}", third.nonce.0);
    assert!(fourth.nonce.0 != third.nonce.0 && fourth.nonce.0 > U256::from(2), "{}", fourth.nonce.0);
    // Each answer is the signature of its own payload on its own nonce, and nonce 2 still holds the caller's.
    let target = signer::intent::Target { chain_id: CHAIN_ID, contract: CONTRACT };
    let store = signer::store::Store::open(&app.store_path).await.unwrap();
    for answer in [&chosen, &third, &fourth] {
        let record = store.find(target, answer.nonce.0).await.unwrap().expect("recorded");
        assert_eq!(record.digest, answer.digest);
        assert_eq!(recovered(answer), signer_address());
    }
    assert_eq!(app.signed_count().await, 4);
    app.stop().await;
}

#[tokio::test]
async fn allocated_nonces_are_fresh_and_skip_nonces_callers_chose() {
    let (app, _dir) = TestApp::fresh().await;
    app.client.sign_register(&register(1, Some(2))).await.unwrap();
    let mut nonces = Vec::new();
    for _ in 0..3 {
        nonces.push(app.client.sign_register(&register(1, None)).await.unwrap().nonce.0.to::<u64>());
    }
    assert_eq!(nonces, vec![1, 3, 4]);
    // A different contract has its own nonce space.
    assert_eq!(app.signed_count().await, 4);
    app.stop().await;
}

#[tokio::test]
async fn signer_address_health_and_metrics_are_served() {
    let (app, _dir) = TestApp::fresh().await;
    assert_eq!(app.client.signer_address().await.unwrap(), signer_address());

    let health = app.http.get(format!("{}/health", app.base_url)).send().await.unwrap();
    assert_eq!(health.status(), 200);

    app.client.sign_register(&register(1, None)).await.unwrap();
    let _ = app.client.sign_register(&register(PER_PAYLOAD_CAP + 1, None)).await;
    let metrics = app.http.get(format!("{}/metrics", app.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("signer_requests_total{kind=\"register\",outcome=\"signed\"} 1"), "{metrics}");
    assert!(
        metrics.contains("signer_requests_total{kind=\"register\",outcome=\"policy.per_payload_cap\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("signer_decision_seconds_count 2"), "{metrics}");
    // One record committed (the refused intent wrote nothing), its time in the histogram.
    assert!(metrics.contains("signer_store_commit_seconds_count 1"), "{metrics}");
    assert!(metrics.contains("signer_store_commit_seconds_bucket{le=\"+Inf\"} 1"), "{metrics}");
    app.stop().await;
}
