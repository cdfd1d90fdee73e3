//! Double-sign protection: one payload per (chain, contract, nonce), ever — across restarts and under races.

use std::sync::Arc;

use alloy::primitives::U256;

use crate::support::*;

#[tokio::test]
async fn the_same_payload_gets_the_same_signature_and_another_payload_on_that_nonce_gets_409() {
    let (app, _dir) = TestApp::fresh().await;
    let mut intent = register(500, Some(42));
    intent.deadline = Some(now() + 900);
    let first = app.client.sign_register(&intent).await.unwrap();
    let again = app.client.sign_register(&intent).await.unwrap();
    assert_eq!(again, first, "idempotent: identical response, same signature");

    let mut other = intent.clone();
    other.amount = signer::intent::Amount::from(501);
    assert_eq!(refusal(app.client.sign_register(&other).await), (409, "nonce_conflict".into()));
    // Another kind of payload on the same nonce: the contract has one nonce space, so this conflicts too.
    assert_eq!(refusal(app.client.sign_retopup(&retopup(500, Some(42))).await), (409, "nonce_conflict".into()));
    assert_eq!(app.signed_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn the_record_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signer.sqlite");
    let mut intent = payout_batch(&[100, 200], Some(7));
    intent.deadline = Some(now() + 900);

    let app = TestApp::spawn(settings(path.clone())).await;
    let first = app.client.sign_payout_batch(&intent).await.unwrap();
    let allocated = app.client.sign_register(&register(1, None)).await.unwrap().nonce;
    app.stop().await;

    let app = TestApp::spawn(settings(path)).await;
    let again = app.client.sign_payout_batch(&intent).await.unwrap();
    assert_eq!(again.signature, first.signature);
    assert_eq!(again.digest, first.digest);

    let mut other = intent.clone();
    other.payouts[1].amount = signer::intent::Amount::from(201);
    assert_eq!(refusal(app.client.sign_payout_batch(&other).await), (409, "nonce_conflict".into()));

    // The allocator carries on after a restart instead of handing out a nonce again.
    let next = app.client.sign_register(&register(1, None)).await.unwrap().nonce;
    assert!(next.0 > allocated.0, "{next} after {allocated}");
    assert_ne!(next.0, U256::from(7));
    assert_eq!(app.signed_count().await, 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_share_commits_and_every_answered_signature_is_recorded() {
    let (app, _dir) = TestApp::fresh().await;
    let client = Arc::new(app.client.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let client = client.clone();
        tasks.spawn(async move { client.sign_register(&register(1, None)).await.unwrap() });
    }
    let answers = tasks.join_all().await;
    assert_eq!(answers.len(), 64);
    let metrics = app.http.get(format!("{}/metrics", app.base_url)).send().await.unwrap().text().await.unwrap();
    let commits: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("signer_store_commit_seconds_count "))
        .map(|v| v.trim().parse().unwrap())
        .unwrap();
    assert!(commits < 64, "64 concurrent requests were committed in groups, not one by one: {commits} commits");
    // Every answered signature is in the store, the same one, after a restart of the service.
    let path = app.store_path.clone();
    app.stop().await;
    let store = signer::store::Store::open(&path).await.unwrap();
    for answer in &answers {
        let target = signer::intent::Target { chain_id: CHAIN_ID, contract: CONTRACT };
        let record = store.find(target, answer.nonce.0).await.unwrap().expect("recorded");
        assert_eq!((record.digest, record.signature.as_bytes().to_vec()), (answer.digest, answer.signature.to_vec()));
    }
    assert_eq!(store.count_signed().await.unwrap(), 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_requests_for_one_nonce_with_different_payloads_yield_exactly_one_signature() {
    let (app, _dir) = TestApp::fresh().await;
    let deadline = now() + 900;
    let client = Arc::new(app.client.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16u128 {
        let client = client.clone();
        let mut intent = payout_batch(&[10 + i], Some(99));
        intent.deadline = Some(deadline);
        tasks.spawn(async move { client.sign_payout_batch(&intent).await });
    }
    let (mut signed, mut conflicts) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(_) => signed += 1,
            Err(e) => {
                assert_eq!(refusal(Err(e)), (409, "nonce_conflict".into()));
                conflicts += 1;
            }
        }
    }
    assert_eq!((signed, conflicts), (1, 15));
    assert_eq!(app.signed_count().await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_without_a_nonce_all_get_distinct_nonces() {
    let (app, _dir) = TestApp::fresh().await;
    let client = Arc::new(app.client.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let client = client.clone();
        tasks.spawn(async move { client.sign_register(&register(1, None)).await.unwrap().nonce.0 });
    }
    let mut nonces = tasks.join_all().await;
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 16);
    assert_eq!(app.signed_count().await, 16);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_store_racing_for_a_nonce_still_sign_once() {
    // Two services sharing the SQLite file stand in for two processes: only the store's write lock and
    // primary key stand between them, not the in-process mutex.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signer.sqlite");
    let first = TestApp::spawn(settings(path.clone())).await;
    let second = TestApp::spawn(settings(path)).await;
    let deadline = now() + 900;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16u128 {
        let client = if i % 2 == 0 { first.client.clone() } else { second.client.clone() };
        let mut intent = payout_batch(&[10 + i], Some(5));
        intent.deadline = Some(deadline);
        tasks.spawn(async move { client.sign_payout_batch(&intent).await });
    }
    let results = tasks.join_all().await;
    let signed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(signed, 1);
    for result in results.into_iter().filter(|r| r.is_err()) {
        assert_eq!(refusal(result), (409, "nonce_conflict".into()));
    }
    assert_eq!(first.signed_count().await, 1);
    first.stop().await;
    second.stop().await;
}
