//! What checking staff approvals costs (issue 45): `Approvals::check` of a 500-entry payout batch carrying a
//! proposer's and two approvers' signatures, beside the work the signer does for that batch anyway — its EIP-712
//! digest and one ECDSA signature — measured in the same run, each the median of five rounds. Also the worst case the
//! async workers are spared: 16 signatures, checked off them (`spawn_blocking`).
//!
//!     cargo bench -p signer --bench approvals
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs a few iterations only, as a smoke test.

use std::time::{Duration, Instant};

use alloy::{
    primitives::Address,
    signers::{SignerSync, local::PrivateKeySigner},
};
use signer::{
    approvals::{Approvals, ApprovalsConfig, staff_approval},
    intent::{Addr, Amount, Intent, PayoutBatchIntent, PayoutEntry, StaffAction, StaffSignature, WalletSignature},
};

const CHAIN_ID: u64 = 31_337;
const CONTRACT: Address = Address::repeat_byte(0xcc);
const ENTRIES: usize = 500;
const ROUNDS: usize = 5;

fn batch() -> PayoutBatchIntent {
    PayoutBatchIntent {
        chain_id: CHAIN_ID,
        contract: Addr(CONTRACT),
        token: Addr(Address::ZERO),
        payouts: (0..ENTRIES)
            .map(|j| PayoutEntry {
                recipient: Addr(Address::left_padding_from(&(j as u64 + 1).to_be_bytes())),
                amount: Amount::from(1_000_000_000_000_000u128 + j as u128),
            })
            .collect(),
        total: None,
        nonce: Some(Amount(abi::nonces::batch_nonce(1, 0))),
        deadline: Some(2_000_000_000),
        approvals: Vec::new(),
    }
}

fn signed(intent: &Intent, wallet: &PrivateKeySigner, action: StaffAction) -> StaffSignature {
    let (nonce, deadline) = (intent.nonce.unwrap(), intent.deadline.unwrap());
    let digest = staff_approval(intent, action, nonce, deadline).unwrap().digest(CHAIN_ID, CONTRACT);
    StaffSignature {
        wallet: Addr(wallet.address()),
        action,
        signature: WalletSignature(wallet.sign_hash_sync(&digest).unwrap()),
    }
}

/// The median of `ROUNDS` rounds of `iterations` calls of `f`, per call.
fn median(iterations: usize, mut f: impl FnMut()) -> Duration {
    let mut rounds: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                f();
            }
            start.elapsed() / iterations as u32
        })
        .collect();
    rounds.sort();
    rounds[ROUNDS / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let iterations = if full { 200 } else { 2 };
    let proposer = PrivateKeySigner::random();
    let approvers: Vec<PrivateKeySigner> = (0..15).map(|_| PrivateKeySigner::random()).collect();
    let key = PrivateKeySigner::random();
    let approvals = Approvals::try_from(ApprovalsConfig {
        proposers: vec![Addr(proposer.address())],
        approvers: approvers.iter().map(|a| Addr(a.address())).collect(),
        payout_batch: 2,
        treasury_transfer: 2,
        refund: 2,
        forfeit: 1,
        payout_tiers: Vec::new(),
    })
    .unwrap();

    let mut intent = Intent::try_from(batch()).unwrap();
    intent.approvals = vec![
        signed(&intent, &proposer, StaffAction::Propose),
        signed(&intent, &approvers[0], StaffAction::Approve),
        signed(&intent, &approvers[1], StaffAction::Approve),
    ];
    let mut worst = intent.clone();
    worst.approvals = std::iter::once(signed(&worst, &proposer, StaffAction::Propose))
        .chain(approvers.iter().map(|a| signed(&worst, a, StaffAction::Approve)))
        .collect();
    assert_eq!(worst.approvals.len(), 16);

    let (nonce, deadline) = (intent.nonce.unwrap(), intent.deadline.unwrap());
    let baseline = median(iterations, || {
        let digest = intent.payload(nonce, deadline).digest(&intent.target.domain());
        std::hint::black_box(key.sign_hash_sync(&digest).unwrap());
    });
    let three = median(iterations, || assert!(approvals.check(&intent).unwrap().is_some()));
    let sixteen = median(iterations, || assert!(approvals.check(&worst).unwrap().is_some()));
    println!("payout batch of {ENTRIES} entries, median of {ROUNDS} rounds of {iterations}:");
    println!("  baseline (its digest + one signature): {baseline:>10.1?}");
    println!(
        "  approvals, 3 signatures:              {three:>10.1?}  ratio {:.2}",
        three.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "  approvals, 16 signatures (worst):     {sixteen:>10.1?}  ratio {:.2}  (checked off the async workers)",
        sixteen.as_secs_f64() / baseline.as_secs_f64()
    );
}
