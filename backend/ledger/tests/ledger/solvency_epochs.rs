//! Epochs of the proof of solvency against a real Postgres: built from one snapshot at the listener's confirmed
//! block with every user (zero balances too, the company never), their total the reconciler's liabilities; every
//! user's stored proof folds to the stored root; the payload's nonce is fixed before signing; the chain's
//! LiabilitiesCommitted event commits exactly the epoch it names (a forged one commits nothing); epochs come due by
//! the cadence, and a failed attempt's number is built again.

use crate::common::*;
use alloy::primitives::{Address, B256, U256, keccak256};
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

/// Solvency commitments are the system-approved kind of the one authorisation lifecycle (backend/STAFF.md §3): fixing
/// an epoch's nonce records its authorisation `approved` at once, by the system (the zero address), with no staff
/// signature, its payload the LiabilityRoot's digest; asked again it records nothing twice. Its stage follows the
/// epoch (approved → signed → sent → executed, or failed); it is listed apart from the staff's kinds; no staff member
/// signs it off, rejects it or proposes one.
#[tokio::test]
async fn a_commitment_is_approved_by_the_system_and_follows_its_epoch_to_executed() {
    use alloy::signers::SignerSync;
    use ledger::authorisations::{self, AuthorisationError, AuthorisationStatus, OutflowKind, SignAction, Stage};
    const NOW: u64 = 1_800_000_000;
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let pool = db.pool.clone();
    let fee = PlanParams::defaults(18).registration_fee;
    confirm(&mut ledger, &[registered(2, 0, "A", "G", fee), registered(3, 0, "B", "A", fee)], 5).await;
    let epoch = solvency::build(&pool, ASSET, 1, CONTRACT, KEY).await.unwrap().unwrap();

    let authorised = solvency::authorise(&pool, &epoch, CONTRACT, 1_900_000_000, "solvency-worker").await.unwrap();
    let a = &authorised.authorisation;
    assert_eq!(
        (a.kind, a.subject, a.status),
        (OutflowKind::SolvencyCommitment, epoch.id, AuthorisationStatus::Approved)
    );
    assert_eq!((a.proposer, a.signatures.len()), (Address::ZERO, 0), "the system's, no staff signature");
    assert!(a.approved_at.is_some() && a.is_system());
    // Its payload is the digest of exactly the LiabilityRoot the signer is asked for, at the nonce fixed.
    let (nonce, deadline) = solvency::choose_nonce(&pool, epoch.id, 1).await.unwrap();
    assert_eq!((a.nonce, a.deadline), (nonce, deadline));
    assert_eq!(
        (deadline, a.total, a.contract, a.token),
        (1_900_000_000, U256::from(epoch.total), CONTRACT, epoch.token)
    );
    let signed_epoch = solvency::by_id(&pool, ASSET, epoch.id).await.unwrap().unwrap();
    let payload = signed_epoch.payload().unwrap();
    assert_eq!(payload, authorised.payload);
    assert_eq!(a.payload, abi::SettlementDomain::new(CHAIN, CONTRACT).digest(&payload));
    assert_eq!((a.stage(NOW), a.outflow_open()), (Stage::Approved, true));

    // A retry (after a crash, say) finds both and records nothing twice; another deadline changes nothing.
    let again = solvency::authorise(&pool, &epoch, CONTRACT, 1_999_999_999, "solvency-worker").await.unwrap();
    assert_eq!((again.authorisation.id, again.digest), (a.id, a.payload));
    let audited = |pool: sqlx::PgPool, id: i64| async move {
        sqlx::query_as::<_, (String, String)>("SELECT actor, action FROM audit_logs WHERE target = $1 ORDER BY id")
            .bind(format!("authorisation:{id}"))
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    assert_eq!(
        audited(pool.clone(), a.id).await,
        [("solvency-worker".to_owned(), "authorisation_system_approved".to_owned())]
    );

    // Staff — every role — cannot sign it off or reject it, nor propose one; nothing changes.
    let staff = alloy::signers::local::PrivateKeySigner::random();
    ledger::staff::seed(&pool, &[staff.address()]).await.unwrap();
    let approval = a.approval(SignAction::Approve).digest(a.chain_id, a.contract);
    let signature = staff.sign_hash_sync(&approval).unwrap().as_bytes();
    let refused = authorisations::sign(&pool, a.id, staff.address(), SignAction::Approve, &signature, 1, NOW).await;
    assert!(matches!(refused, Err(AuthorisationError::System(id, _)) if id == a.id), "{refused:?}");
    let refused = authorisations::reject(&pool, a.id, staff.address(), "not the system's").await;
    assert!(matches!(refused, Err(AuthorisationError::System(..))), "{refused:?}");
    let proposal = authorisations::Proposal {
        kind: OutflowKind::SolvencyCommitment,
        subject: epoch.id + 1,
        asset_id: ASSET,
        chain_id: CHAIN,
        contract: CONTRACT,
        token: Address::ZERO,
        payload: B256::repeat_byte(1),
        total: U256::from(1),
        nonce: U256::from(1),
        deadline: 1_900_000_000,
    };
    let refused = authorisations::propose(&pool, &proposal, staff.address()).await;
    assert!(matches!(refused, Err(AuthorisationError::NotPermitted(_))), "{refused:?}");
    let unchanged = authorisations::load(&pool, a.id).await.unwrap();
    assert_eq!((unchanged.status, unchanged.signatures.len()), (AuthorisationStatus::Approved, 0));
    assert_eq!(audited(pool.clone(), a.id).await.len(), 1);

    // Listed with its kind only: the approvals queue shows the staff's kinds.
    let listed = |kinds: &'static [OutflowKind]| {
        let pool = pool.clone();
        async move {
            authorisations::list(&pool, kinds, &Default::default(), None, 10)
                .await
                .unwrap()
                .iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(&OutflowKind::STAFF[..]).await, Vec::<i64>::new());
    assert_eq!(listed(&[OutflowKind::SolvencyCommitment][..]).await, vec![a.id]);

    // Its stage is the epoch's: signed, sent, then executed once the chain committed it.
    let stage = |id: i64| {
        let pool = pool.clone();
        async move {
            let a = authorisations::load(&pool, id).await.unwrap();
            (a.stage(NOW), a.outflow_open())
        }
    };
    assert!(solvency::mark_signed(&pool, epoch.id, &[7; 65]).await.unwrap());
    assert_eq!(stage(a.id).await, (Stage::Signed, false));
    let (tx, _) = solvency::lock_for_send(&pool, epoch.id).await.unwrap().unwrap();
    solvency::record_sent(tx, epoch.id, B256::repeat_byte(0x77)).await.unwrap();
    assert_eq!(stage(a.id).await, (Stage::Sent, false));
    confirm(&mut ledger, &[committed(6, 1, epoch.root, epoch.total, U256::from(epoch.total))], 6).await;
    assert_eq!(stage(a.id).await, (Stage::Executed, false));
    let refused = authorisations::reject(&pool, a.id, staff.address(), "too late").await;
    assert!(matches!(refused, Err(AuthorisationError::System(..))), "{refused:?}");

    // An attempt that fails is `failed`; its epoch number is built again as a new row, with its own authorisation.
    confirm(&mut ledger, &[retopped(16, 0, "B", PlanParams::defaults(18).retopup_fee)], 16).await;
    let second = solvency::build(&pool, ASSET, 2, CONTRACT, KEY).await.unwrap().unwrap();
    let b = solvency::authorise(&pool, &second, CONTRACT, 1_900_000_000, "solvency-worker").await.unwrap();
    assert_ne!(b.authorisation.id, a.id);
    solvency::mark_failed(&pool, second.id, "its deadline passed unexecuted").await.unwrap();
    assert_eq!(stage(b.authorisation.id).await, (Stage::Failed, false));
    // Recorded again for a payload other than the one approved: refused, nothing signed as recorded.
    let third = solvency::build(&pool, ASSET, 2, CONTRACT, KEY).await.unwrap().unwrap();
    solvency::authorise(&pool, &third, CONTRACT, 1_900_000_000, "solvency-worker").await.unwrap();
    let moved = solvency::authorise(&pool, &third, Address::repeat_byte(0xdd), 1_900_000_000, "solvency-worker").await;
    assert!(matches!(moved, Err(AuthorisationError::PayloadDiffers(..))), "{moved:?}");
    assert_eq!(listed(&[OutflowKind::SolvencyCommitment][..]).await.len(), 3);
}

/// Issue 65, item 4: an approved forfeit is applied once its approvals are in, and the liability roots carry it to the
/// signer from the first round whose snapshot shows it applied until a round is committed — never before it is
/// applied, never after.
#[tokio::test]
async fn an_applied_forfeit_is_carried_from_the_first_round_showing_it_until_a_round_is_committed() {
    use alloy::signers::{SignerSync, local::PrivateKeySigner};
    use ledger::{admin, authorisations, forfeits};
    const NOW: u64 = 1_800_000_000;
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let pool = db.pool.clone();
    let fee = PlanParams::defaults(18).registration_fee;
    confirm(&mut ledger, &[registered(2, 0, "A", "G", fee), registered(3, 0, "B", "A", fee)], 5).await;
    let (finance, approver) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    ledger::staff::seed(&pool, &[finance.address(), approver.address()]).await.unwrap();
    admin::freeze(&pool, ASSET, named("A"), "ops", "fraud review").await.unwrap();
    let held: String = sqlx::query_scalar("SELECT held::text FROM users WHERE address = $1")
        .bind(named("A").as_slice())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_ne!(held, "0", "A's reward is held");

    let domain = forfeits::Domain { chain_id: CHAIN, contract: CONTRACT };
    let a =
        forfeits::propose(&pool, ASSET, named("A"), "fraud ring", finance.address(), domain, NOW + 600).await.unwrap();
    assert_eq!(
        (a.kind, a.status, a.total.to_string()),
        (authorisations::OutflowKind::Forfeit, authorisations::AuthorisationStatus::Proposed, held.clone())
    );
    let id = a.subject;
    let sign = |wallet: &PrivateKeySigner, action: authorisations::SignAction| {
        wallet.sign_hash_sync(&a.approval(action).digest(CHAIN, CONTRACT)).unwrap().as_bytes()
    };
    // Not applied before its approvals are in.
    let early = forfeits::apply(&pool, id, finance.address(), NOW).await;
    assert!(matches!(early, Err(forfeits::ForfeitError::NotReady(_))), "{early:?}");
    use authorisations::{AuthorisationStatus, OutflowStatus, SignAction::*};
    authorisations::sign(&pool, a.id, finance.address(), Propose, &sign(&finance, Propose), 1, NOW).await.unwrap();
    let approved = authorisations::sign(&pool, a.id, approver.address(), Approve, &sign(&approver, Approve), 1, NOW)
        .await
        .unwrap();
    assert_eq!(approved.status, AuthorisationStatus::Approved);

    // A round built before it is applied carries nothing.
    confirm(&mut ledger, &[], 6).await;
    let first = solvency::build(&pool, ASSET, 1, CONTRACT, KEY).await.unwrap().unwrap();
    assert!(forfeits::carried(&pool, ASSET, 1).await.unwrap().is_empty());
    let before_total = first.total;

    let applied = forfeits::apply(&pool, id, approver.address(), NOW).await.unwrap();
    assert_eq!(applied.status, OutflowStatus::Executed);
    let again = forfeits::apply(&pool, id, approver.address(), NOW).await.unwrap();
    assert_eq!(again.status, OutflowStatus::Executed, "once");
    // Round 1 is sent and committed; round 2's snapshot is the first to show the forfeit: it carries it, with both
    // signatures, and its total fell by exactly the forfeit.
    sign_and_send(&pool, first.id).await;
    confirm(&mut ledger, &[committed(7, 1, first.root, first.total, U256::from(first.total))], 7).await;
    confirm(&mut ledger, &[], 20).await;
    let second = solvency::build(&pool, ASSET, 2, CONTRACT, KEY).await.unwrap().unwrap();
    assert_eq!(U256::from(before_total - second.total), U256::from_str_radix(&held, 10).unwrap());
    let carried = forfeits::carried(&pool, ASSET, 2).await.unwrap();
    assert_eq!(carried.len(), 1);
    assert_eq!((carried[0].id, carried[0].member, carried[0].authorisation.signatures.len()), (id, named("A"), 2));
    // A failed attempt of round 2 is built again and still carries it.
    solvency::mark_failed(&pool, second.id, "deadline passed unexecuted").await.unwrap();
    confirm(&mut ledger, &[], 21).await;
    let again = solvency::build(&pool, ASSET, 2, CONTRACT, KEY).await.unwrap().unwrap();
    assert_eq!(forfeits::carried(&pool, ASSET, 2).await.unwrap().len(), 1);
    // Once round 2 is committed, round 3 carries it no more: the committed total shows it.
    sign_and_send(&pool, again.id).await;
    confirm(&mut ledger, &[committed(22, 2, again.root, again.total, U256::from(again.total))], 22).await;
    confirm(&mut ledger, &[], 40).await;
    solvency::build(&pool, ASSET, 3, CONTRACT, KEY).await.unwrap().unwrap();
    assert!(forfeits::carried(&pool, ASSET, 3).await.unwrap().is_empty());
}
