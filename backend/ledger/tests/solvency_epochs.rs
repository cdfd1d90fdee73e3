//! Epochs of the proof of solvency against a real Postgres: built from one snapshot at the listener's confirmed
//! block with every user (zero balances too, the company never), their total the reconciler's liabilities; every
//! user's stored proof folds to the stored root; the payload's nonce is fixed before signing; the chain's
//! LiabilitiesCommitted event commits exactly the epoch it names (a forged one commits nothing); epochs come due by
//! the cadence, and a failed attempt's number is built again.

mod common;

use alloy::primitives::{Address, B256, U256, keccak256};
use common::*;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::PlanParams;
use ledger::solvency::tree::{Node, TreeContext, fold, leaf_hash, salt};
use ledger::solvency::{self, Cadence, EpochStatus, Next};
use ledger::{BlockCursor, ChainLedger};

const CONTRACT: Address = Address::repeat_byte(0xcc);
const KEY: [u8; 32] = [9; 32];
const CADENCE: Cadence = Cadence { interval_blocks: 10, payout_gap_blocks: 3 };

fn cursor(number: u64) -> BlockCursor {
    BlockCursor { number, hash: B256::from(keccak256(number.to_be_bytes())) }
}

async fn confirm(ledger: &mut ChainLedger, events: &[ChainEvent], through: u64) {
    ledger.apply_confirmed(events, cursor(through), 1_700_000_000 + through).await.unwrap();
}

fn committed(block: u64, epoch: u64, root: B256, total: u128, custody: U256) -> ChainEvent {
    committed_on(CONTRACT, block, epoch, root, total, custody)
}

/// `LiabilitiesCommitted` as `contract` emits it in `block`.
fn committed_on(contract: Address, block: u64, epoch: u64, root: B256, total: u128, custody: U256) -> ChainEvent {
    ChainEvent {
        contract,
        key: EventKey {
            chain_id: CHAIN,
            tx_hash: keccak256([b"commit".as_slice(), &block.to_be_bytes(), contract.as_slice()].concat()),
            log_index: 0,
        },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: EventBody::LiabilitiesCommitted {
            token: Address::ZERO,
            epoch,
            as_of_block: block - 1,
            root,
            total: U256::from(total),
            leaf_count: 4,
            plan_hash: B256::ZERO,
            custody,
        },
    }
}

#[tokio::test]
async fn an_epoch_holds_every_user_its_proofs_fold_to_its_root_and_the_chain_commits_exactly_it() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let pool = db.pool.clone();
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Wait, "nothing confirmed yet");
    let fee = PlanParams::defaults(18).registration_fee;
    confirm(
        &mut ledger,
        &[registered(2, 0, "A", "G", fee), registered(3, 0, "B", "A", fee), registered(4, 0, "C", "A", fee)],
        5,
    )
    .await;
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Build { round: 1 });

    let epoch = solvency::build(&pool, ASSET, 1, CONTRACT, KEY).await.unwrap().expect("built");
    assert_eq!((epoch.epoch, epoch.as_of_block, epoch.status), (1, 5, EpochStatus::Built));
    // G, A, B, C: every user, C with nothing owed yet; the company is no leaf.
    assert_eq!(epoch.leaf_count, 4);
    assert_eq!(epoch.depth, 2);
    let figures = ledger::figures::read(&pool, CHAIN, &[Address::ZERO]).await.unwrap();
    assert_eq!(U256::from(epoch.total), figures.assets[0].1.liabilities, "the tree's total is the reconciler's");
    assert!(epoch.total > 0);
    // A second build while one is in flight is refused.
    assert!(matches!(solvency::build(&pool, ASSET, 1, CONTRACT, KEY).await, Err(solvency::SolvencyError::InFlight)));
    let Next::Drive(in_flight) = solvency::next(&pool, ASSET, CADENCE).await.unwrap() else { panic!("drive it") };
    assert_eq!(in_flight.id, epoch.id);

    // Every user's stored proof folds to the stored root, with the salt the key gives them.
    let ctx = TreeContext { chain_id: CHAIN, contract: CONTRACT, token: Address::ZERO, epoch: 1 };
    let mut sum = 0u128;
    for who in ["G", "A", "B", "C"] {
        let user = named(who);
        let proof = solvency::proof_in(&pool, epoch.clone(), user).await.unwrap().expect("every user has a leaf");
        let value = proof.balances.value().unwrap();
        sum += value;
        let leaf = Node { hash: leaf_hash(&ctx, user, &proof.balances, salt(&KEY, &ctx, user)), sum: value };
        assert_eq!(
            fold(leaf, proof.index, &proof.siblings),
            Some(Node { hash: epoch.root, sum: epoch.total }),
            "{who}"
        );
        let owed: String = sqlx::query_scalar(
            "SELECT (b.reserved + b.held + b.pending + b.batched + b.claimable)::text
             FROM user_balances b JOIN users u USING (asset_id, user_no) WHERE u.address = $1",
        )
        .bind(user.as_slice())
        .fetch_optional(&pool)
        .await
        .unwrap()
        .unwrap_or_else(|| "0".into());
        assert_eq!(value.to_string(), owed, "{who}'s leaf holds their balances");
    }
    assert_eq!(sum, epoch.total);
    assert!(solvency::proof_in(&pool, epoch.clone(), named("stranger")).await.unwrap().is_none());
    assert!(
        solvency::proof(&pool, ASSET, CONTRACT, None, named("A")).await.unwrap().is_none(),
        "nothing committed yet"
    );
    assert_eq!(solvency::sample_users(&pool, epoch.id, 3).await.unwrap().len(), 3);

    // The nonce is fixed (in the liability space) before the signer is asked; asked again, the same one.
    let (nonce, deadline) = solvency::choose_nonce(&pool, epoch.id, 1_900_000_000).await.unwrap();
    assert!(nonce >= abi::nonces::LIABILITY_NONCE_BASE);
    assert_eq!(solvency::choose_nonce(&pool, epoch.id, 1_999_999_999).await.unwrap(), (nonce, deadline));
    assert_eq!(deadline, 1_900_000_000);
    assert!(solvency::mark_signed(&pool, epoch.id, &[7; 65]).await.unwrap());
    let (tx, locked) = solvency::lock_for_send(&pool, epoch.id).await.unwrap().unwrap();
    assert_eq!(locked.status, EpochStatus::Signed);
    let payload = locked.payload().unwrap();
    assert_eq!((payload.epoch, payload.root, payload.nonce, payload.total), (1, epoch.root, nonce, epoch.total));
    solvency::record_sent(tx, epoch.id, B256::repeat_byte(0x77)).await.unwrap();

    // A commitment of another root for epoch 1 (someone else's) commits nothing of ours.
    confirm(&mut ledger, &[committed(6, 1, B256::repeat_byte(0xee), epoch.total, U256::ZERO)], 6).await;
    assert_eq!(solvency::in_flight(&pool, ASSET).await.unwrap().unwrap().status, EpochStatus::Sent);
    // Ours: committed, with the custody the contract read.
    let custody = U256::from(epoch.total) * U256::from(2);
    confirm(&mut ledger, &[committed(7, 1, epoch.root, epoch.total, custody)], 7).await;
    let done = solvency::committed(&pool, ASSET, CONTRACT, None).await.unwrap().expect("committed");
    assert_eq!((done.id, done.committed_block, done.custody), (epoch.id, Some(7), Some(custody)));
    assert!(solvency::in_flight(&pool, ASSET).await.unwrap().is_none());
    let proof =
        solvency::proof(&pool, ASSET, CONTRACT, None, named("B")).await.unwrap().expect("B's proof of the latest");
    assert_eq!(proof.epoch.id, epoch.id);

    // Due again only after the interval (or sooner after an executed payout).
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Wait);
    confirm(&mut ledger, &[], 14).await;
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Wait, "9 blocks after epoch 1's");
    confirm(&mut ledger, &[retopped(15, 0, "B", PlanParams::defaults(18).retopup_fee)], 15).await;
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Build { round: 2 });
    let second = solvency::build(&pool, ASSET, 2, CONTRACT, KEY).await.unwrap().unwrap();
    assert_eq!(second.as_of_block, 15);
    assert_ne!(second.root, epoch.root);
    // An attempt that can never execute fails; the same epoch number is built again from fresh figures.
    solvency::mark_failed(&pool, second.id, "deadline passed unexecuted").await.unwrap();
    assert!(solvency::proof_in(&pool, second.clone(), named("B")).await.unwrap().is_none(), "its tree is dropped");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM solvency_levels WHERE epoch_id = $1")
        .bind(second.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 0);
    confirm(&mut ledger, &[], 16).await;
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Build { round: 2 });
    let again = solvency::build(&pool, ASSET, 2, CONTRACT, KEY).await.unwrap().unwrap();
    assert_eq!((again.epoch, again.as_of_block), (2, 16));
    let history = solvency::history(&pool, ASSET, None, 10).await.unwrap();
    assert_eq!(
        history.iter().map(|e| (e.epoch, e.status)).collect::<Vec<_>>(),
        vec![(2, EpochStatus::Built), (2, EpochStatus::Failed), (1, EpochStatus::Committed)]
    );
    assert_eq!(solvency::history_count(&pool, ASSET).await.unwrap(), 3);
}

/// Signs (a made-up signature: the contract is not involved here) and sends epoch row `id`.
async fn sign_and_send(pool: &sqlx::PgPool, id: i64) {
    solvency::choose_nonce(pool, id, 1_900_000_000).await.unwrap();
    assert!(solvency::mark_signed(pool, id, &[7; 65]).await.unwrap());
    let (tx, _) = solvency::lock_for_send(pool, id).await.unwrap().unwrap();
    solvency::record_sent(tx, id, B256::from(keccak256(id.to_be_bytes()))).await.unwrap();
}

/// After an upgrade (contracts/UPGRADES.md §7) one snapshot — a round — is committed on every contract, each with its
/// own tree and its own epoch number; each contract's event commits only its own row; a round one contract failed is
/// incomplete, so the next is due at once, and each contract's epochs go on from its own last one.
#[tokio::test]
async fn a_round_is_committed_on_every_contract_each_with_its_own_epochs() {
    const OLD: Address = CONTRACT;
    const NEW: Address = Address::repeat_byte(0xdd);
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let pool = db.pool.clone();
    let fee = PlanParams::defaults(18).registration_fee;
    confirm(&mut ledger, &[registered(2, 0, "A", "G", fee), registered(3, 0, "B", "A", fee)], 5).await;
    // Before the upgrade: round 1 is epoch 1 of the only contract.
    let first = solvency::build(&pool, ASSET, 1, OLD, KEY).await.unwrap().unwrap();
    assert_eq!((first.epoch, first.round, first.contract), (1, 1, Some(OLD)));
    sign_and_send(&pool, first.id).await;
    confirm(&mut ledger, &[committed_on(OLD, 6, 1, first.root, first.total, U256::from(first.total))], 6).await;
    // Built before contracts were recorded: named the chain's oldest contract.
    sqlx::query("UPDATE solvency_epochs SET contract = NULL WHERE id = $1")
        .bind(first.id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(solvency::adopt_unnamed(&pool, CHAIN, OLD).await.unwrap(), 1);
    assert_eq!(solvency::adopt_unnamed(&pool, CHAIN, OLD).await.unwrap(), 0);

    // The upgrade: round 2 on both contracts — the old one's epoch 2, the new one's epoch 1.
    confirm(&mut ledger, &[], 16).await;
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Build { round: 2 });
    let plan = [(OLD, solvency::last_epoch_on(&pool, ASSET, OLD).await.unwrap() + 1), (NEW, 1)];
    assert_eq!(plan[0].1, 2);
    let built = solvency::build_round(&pool, ASSET, 2, &plan, KEY).await.unwrap().unwrap();
    assert_eq!(
        built.iter().map(|e| (e.contract, e.epoch, e.round, e.as_of_block, e.total)).collect::<Vec<_>>(),
        vec![(Some(OLD), 2, 2, 16, first.total), (Some(NEW), 1, 2, 16, first.total)],
        "one snapshot: the same block and total on both contracts"
    );
    let (old_row, new_row) = (built[0].clone(), built[1].clone());
    assert_ne!(old_row.root, new_row.root, "each contract's leaves name it");
    assert!(matches!(solvency::build_round(&pool, ASSET, 2, &plan, KEY).await, Err(solvency::SolvencyError::InFlight)));
    for row in &built {
        sign_and_send(&pool, row.id).await;
    }
    // The new contract's root emitted by the old contract commits nothing; by the new one, its row.
    confirm(&mut ledger, &[committed_on(OLD, 17, 1, new_row.root, new_row.total, U256::ZERO)], 17).await;
    assert_eq!(solvency::committed(&pool, ASSET, NEW, None).await.unwrap(), None);
    let custody = U256::from(new_row.total);
    confirm(&mut ledger, &[committed_on(NEW, 18, 1, new_row.root, new_row.total, custody)], 18).await;
    let on_new = solvency::committed(&pool, ASSET, NEW, None).await.unwrap().expect("committed on the new one");
    assert_eq!((on_new.id, on_new.custody), (new_row.id, Some(custody)));
    assert_eq!(solvency::committed(&pool, ASSET, OLD, None).await.unwrap().unwrap().epoch, 1);
    assert_eq!(
        solvency::in_flight_all(&pool, ASSET).await.unwrap().iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![old_row.id]
    );

    // The old contract's row fails: round 2 is incomplete, so round 3 is due at once, each contract at its next epoch.
    solvency::mark_failed(&pool, old_row.id, "deadline passed unexecuted").await.unwrap();
    // (The listener confirmed block 18 since round 2's block 16: the contract takes a later block.)
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Build { round: 3 });
    assert_eq!(solvency::last_epoch_on(&pool, ASSET, OLD).await.unwrap(), 1);
    assert_eq!(solvency::last_epoch_on(&pool, ASSET, NEW).await.unwrap(), 1);
    let third = solvency::build_round(&pool, ASSET, 3, &[(OLD, 2), (NEW, 2)], KEY).await.unwrap().unwrap();
    assert_eq!(third.iter().map(|e| (e.epoch, e.round)).collect::<Vec<_>>(), vec![(2, 3), (2, 3)]);
    for row in &third {
        sign_and_send(&pool, row.id).await;
    }
    confirm(
        &mut ledger,
        &[
            committed_on(OLD, 20, 2, third[0].root, third[0].total, U256::ZERO),
            committed_on(NEW, 21, 2, third[1].root, third[1].total, U256::ZERO),
        ],
        21,
    )
    .await;
    // Round 3 complete: the cadence counts from its block again.
    confirm(&mut ledger, &[], 25).await;
    assert_eq!(solvency::next(&pool, ASSET, CADENCE).await.unwrap(), Next::Wait, "7 blocks after round 3's");
    assert_eq!(solvency::committed(&pool, ASSET, OLD, None).await.unwrap().unwrap().epoch, 2);
    assert_eq!(solvency::committed(&pool, ASSET, NEW, None).await.unwrap().unwrap().epoch, 2);
}
