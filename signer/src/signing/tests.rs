//! The fsync pipeline, with the sync thread held back at a gate the test controls: no signature leaves before the
//! sync of the WAL after its group's commit has returned, the writer decides the next groups meanwhile, and a failed
//! sync lets no signature leave.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    primitives::{Address, U256},
    signers::local::PrivateKeySigner,
};
use tokio::task::JoinHandle;

use super::{SignError, Signed, SigningService};
use crate::{
    auth::{Authenticated, Permissions},
    intent::{Addr, Amount, Intent, RegisterIntent, Target},
    policy::{Policy, PolicyConfig},
    store::{Store, StoreError, SyncGate},
};

const CHAIN: u64 = 31_337;
const CONTRACT: Address = Address::repeat_byte(0xcc);
/// anvil's well-known dev key #1 (public knowledge; never a real key).
const DEV_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// How long an answer that must not come is waited for, and the most an awaited condition may take.
const QUIET: Duration = Duration::from_millis(300);
const PATIENCE: Duration = Duration::from_secs(10);

fn target() -> Target {
    Target { chain_id: CHAIN, contract: CONTRACT }
}

fn caller() -> Authenticated {
    Authenticated { caller: "backend".into(), mac: "mac".into(), permissions: Permissions::ALL }
}

/// A registration on `nonce`, the same payload at every call.
fn register(nonce: u64) -> Intent {
    payment(nonce, 20)
}

/// Another payload on `nonce`.
fn conflicting(nonce: u64) -> Intent {
    payment(nonce, 21)
}

fn payment(nonce: u64, amount: u128) -> Intent {
    static DEADLINE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    Intent::try_from(RegisterIntent {
        chain_id: CHAIN,
        contract: Addr(CONTRACT),
        user: Addr(Address::with_last_byte(nonce as u8)),
        sponsor: Addr(Address::repeat_byte(0x22)),
        token: Addr(Address::ZERO),
        amount: Amount::from(amount),
        nonce: Some(Amount(U256::from(nonce))),
        deadline: Some(*DEADLINE.get_or_init(|| now() + 600)),
    })
    .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A service on the store at `path`, every sync of its WAL passing `gate`.
async fn service(path: &std::path::Path, gate: &Arc<SyncGate>) -> Arc<SigningService> {
    let policy = Policy::try_from(PolicyConfig::native_only(CHAIN, CONTRACT, vec![], 1_000, 1_000, 10_000)).unwrap();
    let store = Store::open(path).await.unwrap().with_sync_gate(gate.clone());
    let key: PrivateKeySigner = DEV_KEY.parse().unwrap();
    Arc::new(SigningService::new(policy, store, Arc::new(key)).await.unwrap())
}

/// Asks for `intents` in one request (one message to the writer: one group) on a task of its own.
fn ask(service: &Arc<SigningService>, intents: Vec<Intent>) -> JoinHandle<Vec<Result<Signed, SignError>>> {
    let service = service.clone();
    tokio::spawn(async move { service.sign_many(&caller(), &intents, now()).await })
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < PATIENCE, "waited {PATIENCE:?} for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn recorded(service: &SigningService, nonce: u64) -> bool {
    service.store().find(target(), U256::from(nonce)).await.unwrap().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_leaves_before_the_wal_sync_after_its_commit_returns_and_the_writer_goes_on_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(SyncGate::default());
    let service = service(&dir.path().join("s.sqlite"), &gate).await;
    gate.hold();

    // The first group: committed, its sync held at the gate, none of its three answers out.
    let first = ask(&service, vec![register(1), register(2), register(3)]);
    until("the first group's sync to reach the gate", async || gate.waiting() == 1).await;
    for nonce in 1..=3 {
        assert!(recorded(&service, nonce).await, "nonce {nonce} is committed before its sync");
    }
    tokio::time::sleep(QUIET).await;
    assert!(!first.is_finished(), "no answer of the group leaves before its sync returns");

    // Meanwhile the writer decides and commits the next groups; their answers wait too.
    let second = ask(&service, vec![register(4)]);
    let third = ask(&service, vec![register(5), conflicting(1)]);
    until("the next groups' commits", async || recorded(&service, 4).await && recorded(&service, 5).await).await;
    tokio::time::sleep(QUIET).await;
    assert!(!first.is_finished() && !second.is_finished() && !third.is_finished());
    assert_eq!(gate.passed(), 0, "no sync returned yet");

    // The sync returns: the answers leave, each group after a sync that began after its commit.
    gate.release();
    let first = first.await.unwrap();
    let (second, third) = (second.await.unwrap(), third.await.unwrap());
    assert_eq!(gate.passed(), 2, "the first group's sync, then one for the two groups committed while it was held");
    for signed in first.iter().chain(&second).chain(&third[..1]) {
        let signed = signed.as_ref().unwrap();
        let record = service.store().find(target(), signed.nonce).await.unwrap().unwrap();
        assert_eq!((record.digest, record.signature), (signed.digest, signed.signature));
        assert!(signed.fresh);
    }
    assert_eq!(third[1].as_ref().unwrap_err().code(), "nonce_conflict", "another payload on nonce 1");
    assert_eq!(service.store().count_signed().await.unwrap(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_signature_given_again_also_waits_for_a_sync() {
    // A group that records nothing may still answer a record committed, by this writer or another process on the
    // same file, after the last sync: it leaves only after a sync too.
    let dir = tempfile::tempdir().unwrap();
    let gate = Arc::new(SyncGate::default());
    let service = service(&dir.path().join("s.sqlite"), &gate).await;
    let signed = ask(&service, vec![register(7)]).await.unwrap().pop().unwrap().unwrap();
    let passed = gate.passed();

    gate.hold();
    let again = ask(&service, vec![register(7)]);
    until("the sync to reach the gate", async || gate.waiting() == 1).await;
    tokio::time::sleep(QUIET).await;
    assert!(!again.is_finished());
    gate.release();
    let again = again.await.unwrap().pop().unwrap().unwrap();
    assert_eq!((again.signature, again.fresh), (signed.signature, false));
    assert_eq!(gate.passed(), passed + 1);

    // Refusals carry no signature: a group of them needs no sync.
    gate.hold();
    let refused = ask(&service, vec![conflicting(7)]).await.unwrap().pop().unwrap();
    assert_eq!(refused.unwrap_err().code(), "nonce_conflict");
    assert_eq!((gate.waiting(), gate.passed()), (0, passed + 1));
    gate.release();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_lets_no_signature_leave_until_a_restart_and_the_record_is_given_again_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let gate = Arc::new(SyncGate::default());
    let service = service(&path, &gate).await;
    gate.fail_next("injected EIO");

    let failed = ask(&service, vec![register(1)]).await.unwrap().pop().unwrap();
    assert!(matches!(failed, Err(SignError::Store(StoreError::SyncFailed(ref why))) if why.contains("injected EIO")));
    assert_eq!(failed.unwrap_err().code(), "internal");
    // The record is committed, but its signature never left.
    assert!(recorded(&service, 1).await);
    // Every later request fails too, retries of the same payload included, and nothing more is recorded: a later
    // sync's success would not prove that the record above reached the disk.
    for intents in [vec![register(1)], vec![register(2)]] {
        let later = ask(&service, intents).await.unwrap().pop().unwrap();
        assert!(matches!(later, Err(SignError::Store(StoreError::SyncFailed(_)))), "{later:?}");
    }
    assert!(!recorded(&service, 2).await);
    assert!(matches!(service.store().ping().await, Err(StoreError::SyncFailed(_))), "health answers 503");
    assert_eq!(gate.passed(), 1, "no sync is tried after the failed one");
    drop(service);

    // Restarted: the store is made durable as it opens, and the same payload gets the recorded signature — never
    // used, since it never left; another payload on that nonce is a conflict as for any record.
    let recorded_before = Store::open(&path).await.unwrap().find(target(), U256::from(1)).await.unwrap().unwrap();
    let service = self::service(&path, &Arc::new(SyncGate::default())).await;
    let again = ask(&service, vec![register(1)]).await.unwrap().pop().unwrap().unwrap();
    assert_eq!((again.signature, again.fresh), (recorded_before.signature, false));
    let refused = ask(&service, vec![conflicting(1)]).await.unwrap().pop().unwrap();
    assert_eq!(refused.unwrap_err().code(), "nonce_conflict");
}
