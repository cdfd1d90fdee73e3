//! Refunds of quarantined inflows against a real Postgres: a payment the plan refused is returned to its payer,
//! exactly its amount in its token, through a treasury transfer that takes nothing from the company's share; at
//! most one refund of an event may execute at a time (also under concurrent requests), one that expired may be
//! replaced; only inflows the plan refused are refunded; the refund's execution resolves the quarantine row.

use crate::common;

use crate::common::*;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::PlanParams;
use ledger::treasury::{
    self, Authorised, ProposedTransfer, RefundError, SignProposedError, TransferRequest, TransferSignature,
    TreasuryTransferRow,
};
use ledger::{ApplySummary, BlockCursor, digest};
use sqlx::PgPool;

const CONTRACT: Address = Address::repeat_byte(0xcc);
/// Block `b` has the time 1_700_000_000 + b; signatures made here are valid until block 100.
const DEADLINE: u64 = 1_700_000_100;

/// Signs a transfer the way the signer service does (EIP-712 over the Settlement domain), with a local key.
async fn sign(request: TransferRequest, deadline: u64) -> Result<Authorised, String> {
    signature(request, deadline).await.map(Authorised::Signed)
}

/// [`sign`]'s signature alone (a proposed transfer's, signed later).
async fn signature(request: TransferRequest, deadline: u64) -> Result<TransferSignature, String> {
    let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).unwrap();
    let payload = abi::TreasuryTransfer {
        token: request.token,
        to: request.to,
        amount: request.amount,
        nonce: request.nonce,
        deadline: U256::from(deadline),
    };
    let digest = abi::SettlementDomain::new(request.chain_id, CONTRACT).digest(&payload);
    let signature = key.sign_hash_sync(&digest).map_err(|e| e.to_string())?;
    Ok(TransferSignature { deadline, signature: signature.as_bytes().to_vec() })
}

async fn refund(pool: &PgPool, event: EventKey) -> Result<TreasuryTransferRow, RefundError<String>> {
    treasury::refund(pool, event, "test-admin", |r| sign(r, DEADLINE)).await
}

fn code(result: Result<TreasuryTransferRow, RefundError<String>>) -> &'static str {
    match result {
        Err(RefundError::NotRefundable { code, .. }) => code,
        Err(RefundError::UnknownEvent(_)) => "unknown_event",
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn event(block: u64, body: EventBody) -> ChainEvent {
    ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: keccak256(format!("refunds {block}")), log_index: 0 },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body,
    }
}

fn executed(block: u64, row: &TreasuryTransferRow) -> ChainEvent {
    let body =
        EventBody::TreasuryTransferred { nonce: row.nonce, token: Address::ZERO, to: row.to, amount: row.amount };
    event(block, body)
}

type QuarantineState = (Option<f64>, Option<i64>);

/// (resolved_at as unix seconds, refunded_by) of the quarantine row of `key`.
async fn quarantine(pool: &PgPool, key: EventKey) -> QuarantineState {
    sqlx::query_as(
        "SELECT extract(epoch FROM resolved_at)::float8, refunded_by FROM quarantine
         WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3",
    )
    .bind(key.chain_id as i64)
    .bind(key.tx_hash.as_slice())
    .bind(key.log_index as i64)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn status(pool: &PgPool, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM treasury_transfers WHERE id = $1").bind(id).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_refused_payment_is_refunded_to_its_payer_outside_the_company_share_and_resolved_when_it_executes() {
    let params = PlanParams::defaults(18);
    let (fee, retopup_fee) = (params.registration_fee, params.retopup_fee);
    let (db, mut ledger) = common::ledger(params).await;
    let pool = &db.pool;
    let first = registered(10, 0, "A", "G", fee);
    let duplicate = registered(11, 0, "A", "G", fee);
    let wrong_retopup = retopped(12, 0, "A", retopup_fee + 1);
    let claim = event(
        13,
        EventBody::Claimed { account: named("Z"), token: Address::ZERO, to: named("Z"), amount: U256::from(5) },
    );
    let foreign_token = Address::repeat_byte(0x77);
    let foreign = event(
        14,
        EventBody::Registered {
            user: named("F"),
            sponsor: genesis(),
            token: foreign_token,
            amount: U256::from(fee),
            nonce: U256::from(14),
        },
    );
    let events = [first, duplicate.clone(), wrong_retopup.clone(), claim.clone(), foreign.clone()];
    let summary = ledger.apply_block(&events).await.unwrap();
    assert_eq!(summary, ApplySummary { applied: 1, quarantined: 4, duplicates: 0 });
    let before = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert!(before.available > U256::ZERO);

    // Not refundable: no such event; not an inflow; of no asset.
    let unknown = EventKey { tx_hash: B256::repeat_byte(9), ..duplicate.key };
    assert_eq!(code(refund(pool, unknown).await), "unknown_event");
    assert_eq!(code(refund(pool, claim.key).await), "not_an_inflow");
    assert_eq!(code(refund(pool, foreign.key).await), "no_asset");
    assert_eq!(count(pool, "treasury_transfers").await, 0);

    // The duplicate registration: A's own fee, back to A, signed with the registration's nonce named.
    let asked = std::sync::Mutex::new(None);
    let row = treasury::refund(pool, duplicate.key, "test-admin", |r| {
        *asked.lock().unwrap() = Some(r.clone());
        sign(r, DEADLINE)
    })
    .await
    .unwrap();
    let asked = asked.into_inner().unwrap().unwrap();
    assert_eq!((asked.to, asked.amount, asked.token), (named("A"), U256::from(fee), Address::ZERO));
    assert_eq!(asked.refund_of, Some(U256::from(11)), "the payment's payload nonce, for the signer to check");
    assert_eq!(asked.nonce, abi::nonces::treasury_nonce(row.id as u64));
    assert_eq!((row.to, row.amount, row.status.as_str()), (named("A"), U256::from(fee), "signed"));
    assert_eq!(row.refund_of, Some(duplicate.key));

    // The company's share is untouched; the refund is reserved on its own.
    let after = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert_eq!((after.available, after.reserved, after.transferred), (before.available, before.reserved, U256::ZERO));
    assert_eq!((after.refunds_reserved, after.refunded), (U256::from(fee), U256::ZERO));
    // So a company transfer may still take all of it.
    let company = treasury::transfer(pool, ASSET, named("cold"), before.available, "test-admin", |r| sign(r, DEADLINE))
        .await
        .unwrap();
    assert_eq!(treasury::position(pool, ASSET).await.unwrap().unwrap().available, U256::ZERO);

    // One refund of an event at a time.
    assert_eq!(code(refund(pool, duplicate.key).await), "refund_exists");

    // Audited: the quarantined event before, the transfer after.
    let (target, before_json, after_json): (String, serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT target, before, after FROM audit_logs WHERE action = 'quarantine_refund' ORDER BY id")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(target, format!("quarantine:{CHAIN}:{:#x}:0", duplicate.key.tx_hash));
    assert_eq!(before_json["event"]["reason_code"], "duplicate_user");
    assert_eq!(before_json["event"]["payer"], named("A").to_checksum(None));
    assert_eq!(before_json["event"]["amount"], fee.to_string());
    assert_eq!(before_json["refunds_reserved"], "0");
    assert_eq!(after_json["refunds_reserved"], fee.to_string());
    assert_eq!(after_json["available"], before_json["available"]);
    assert_eq!(after_json["transfer"]["id"], row.id);
    assert_eq!(after_json["transfer"]["amount"], fee.to_string());
    assert_eq!(after_json["transfer"]["payment_nonce"], "11");

    // Executed: the transfer and the quarantine row together, at the block's time.
    assert_eq!(quarantine(pool, duplicate.key).await, (None, None));
    let paid = executed(20, &row);
    assert_eq!(ledger.apply_block(std::slice::from_ref(&paid)).await.unwrap().applied, 1);
    assert_eq!(status(pool, row.id).await, "executed");
    assert_eq!(quarantine(pool, duplicate.key).await, (Some(1_700_000_020.0), Some(row.id)));
    let done = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert_eq!((done.refunded, done.refunds_reserved), (U256::from(fee), U256::ZERO));
    assert_eq!((done.transferred, done.reserved), (U256::ZERO, company.amount), "the company's figures unchanged");
    assert_eq!(code(refund(pool, duplicate.key).await), "already_resolved");
    // Re-applied: nothing changes.
    let state = (digest(pool).await.unwrap(), quarantine(pool, duplicate.key).await);
    assert_eq!(ledger.apply_block(&[paid]).await.unwrap().duplicates, 1);
    assert_eq!((digest(pool).await.unwrap(), quarantine(pool, duplicate.key).await), state);
}

#[tokio::test]
async fn a_refund_that_expired_unexecuted_may_be_replaced_and_concurrent_requests_make_one() {
    let params = PlanParams::defaults(18);
    let retopup_fee = params.retopup_fee;
    let (db, mut ledger) = common::ledger(params.clone()).await;
    let pool = &db.pool;
    let wrong = retopped(10, 0, "nobody", retopup_fee);
    ledger.apply_block(std::slice::from_ref(&wrong)).await.unwrap();

    // Two requests at once: one refund, the other refused (the asset's row lock orders them).
    let (a, b) = tokio::join!(refund(pool, wrong.key), refund(pool, wrong.key));
    let (made, refused) = match (a, b) {
        (Ok(made), refused) | (refused, Ok(made)) => (made, refused),
        other => panic!("neither request made the refund: {other:?}"),
    };
    assert_eq!(code(refused), "refund_exists");
    assert_eq!(count(pool, "treasury_transfers").await, 1);
    assert_eq!((made.to, made.amount), (named("nobody"), U256::from(retopup_fee)));

    // Its deadline passes at a confirmed block: it can no longer execute, and another may be signed.
    let hash = |n: u64| B256::from(keccak256(n.to_be_bytes()));
    ledger.apply_confirmed(&[], BlockCursor { number: 101, hash: hash(101) }, DEADLINE + 1).await.unwrap();
    assert_eq!(status(pool, made.id).await, "expired");
    let position = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert_eq!(position.refunds_reserved, U256::ZERO);
    let replacement = treasury::refund(pool, wrong.key, "test-admin", |r| sign(r, DEADLINE + 1_000)).await.unwrap();
    assert_ne!(replacement.nonce, made.nonce);
    assert_eq!(code(refund(pool, wrong.key).await), "refund_exists");

    // The replacement executes and resolves the event; the expired one executing after all is paid again, and
    // an alert says so (the event stays resolved by the first execution).
    ledger.apply_block(&[executed(110, &replacement)]).await.unwrap();
    assert_eq!(quarantine(pool, wrong.key).await.1, Some(replacement.id));
    ledger.apply_block(&[executed(111, &made)]).await.unwrap();
    assert_eq!(quarantine(pool, wrong.key).await.1, Some(replacement.id));
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM alerts WHERE kind <> 'event_quarantined' ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(kinds, ["refund_of_resolved_event", "treasury_transfer_expired_executed"]);
    let position = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert_eq!(position.refunded, U256::from(2 * retopup_fee));
    assert_eq!((position.transferred, position.reserved), (U256::ZERO, U256::ZERO));
}

#[tokio::test]
async fn an_event_the_ledger_missed_is_not_refunded() {
    let params = PlanParams::defaults(18);
    let fee = params.registration_fee;
    let (db, mut ledger) = common::ledger(params).await;
    let pool = &db.pool;
    ledger.apply_block(&[registered(20, 0, "A", "G", fee)]).await.unwrap();
    // Found below the cursor by a replay: quarantined as missed, for a rebuild that may yet apply it.
    let missed = registered(15, 0, "B", "G", fee);
    ledger.record_missed(std::slice::from_ref(&missed)).await.unwrap();
    assert_eq!(code(refund(pool, missed.key).await), "not_refused_by_plan");
    assert_eq!(count(pool, "treasury_transfers").await, 0);
}

/// A refund proposed by `proposer` for staff approval, with the deadline `deadline`.
async fn propose_refund(
    pool: &PgPool,
    event: EventKey,
    proposer: Address,
    deadline: u64,
) -> Result<TreasuryTransferRow, RefundError<String>> {
    treasury::refund(pool, event, "test-finance", |r| async move { Ok(proposed(&r, deadline, proposer)) }).await
}

/// Transfer `r` proposed by `proposer` for approval, valid until `deadline`.
fn proposed(r: &TransferRequest, deadline: u64, proposer: Address) -> Authorised {
    let payload = abi::TreasuryTransfer {
        token: r.token,
        to: r.to,
        amount: r.amount,
        nonce: r.nonce,
        deadline: U256::from(deadline),
    };
    let payload = abi::SettlementDomain::new(r.chain_id, CONTRACT).digest(&payload);
    Authorised::Proposed(ProposedTransfer { deadline, contract: CONTRACT, payload, proposer })
}

#[tokio::test]
async fn a_refund_proposed_for_approval_reserves_its_amount_blocks_a_second_and_is_released_when_rejected() {
    let params = PlanParams::defaults(18);
    let retopup_fee = params.retopup_fee;
    let (db, mut ledger) = common::ledger(params.clone()).await;
    let pool = &db.pool;
    let wrong = retopped(10, 0, "nobody", retopup_fee);
    ledger.apply_block(std::slice::from_ref(&wrong)).await.unwrap();
    let (finance, approver) = (named("finance"), named("approver"));

    // Without the finance role, nothing is proposed or stored.
    let refused = propose_refund(pool, wrong.key, finance, DEADLINE).await;
    assert!(matches!(refused, Err(RefundError::Authorisation(_))), "{refused:?}");
    assert_eq!(count(pool, "treasury_transfers").await, 0);
    assert_eq!(ledger::staff::seed(pool, &[finance, approver]).await.unwrap(), 12, "every role to both");

    // Proposed: stored unsigned, its amount reserved, its authorisation naming it; a second refund is refused.
    let proposed = propose_refund(pool, wrong.key, finance, DEADLINE).await.unwrap();
    assert_eq!((proposed.status.as_str(), proposed.signature.as_ref()), ("proposed", None));
    let auth = proposed.authorisation_id.expect("its authorisation");
    let a = ledger::authorisations::load(pool, auth).await.unwrap();
    assert_eq!(
        (a.kind, a.subject, a.total, a.deadline),
        (ledger::authorisations::OutflowKind::Refund, proposed.id, U256::from(retopup_fee), DEADLINE)
    );
    assert_eq!((a.proposer, a.stage(DEADLINE - 1)), (finance, ledger::authorisations::Stage::Proposed));
    let position = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert_eq!(position.refunds_reserved, U256::from(retopup_fee));
    assert_eq!(code(refund(pool, wrong.key).await), "refund_exists");

    // Rejected by the approver: released, never signed; a new refund may be made.
    ledger::authorisations::reject(pool, auth, approver, "wrong payer").await.unwrap();
    assert_eq!(status(pool, proposed.id).await, "rejected");
    let position = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert_eq!(position.refunds_reserved, U256::ZERO);
    let signed = treasury::sign_proposed(pool, proposed.id, "test-finance", signature).await;
    assert!(
        matches!(signed, Err(SignProposedError::NotProposed(_, s)) if s == ledger::authorisations::OutflowStatus::Rejected),
        "{signed:?}"
    );

    // A second proposal, signed once approved (here: as the API does after the signer checked the approvals).
    let again = propose_refund(pool, wrong.key, finance, DEADLINE).await.unwrap();
    let asked = std::sync::Mutex::new(None);
    let row = treasury::sign_proposed(pool, again.id, "test-finance", |r, deadline| {
        *asked.lock().unwrap() = Some((r.clone(), deadline));
        signature(r, deadline)
    })
    .await
    .unwrap();
    let (asked, deadline) = asked.into_inner().unwrap().unwrap();
    assert_eq!(asked.refund_of, Some(U256::from(10)), "the payment's payload nonce, for the signer to check");
    assert_eq!((asked.nonce, deadline), (again.nonce, DEADLINE), "the nonce and deadline proposed");
    assert_eq!(row.status, ledger::authorisations::OutflowStatus::Signed);
    assert!(row.signature.is_some());
    // A retry answers it as signed, without asking the signer again.
    let retried = treasury::sign_proposed(pool, again.id, "test-finance", |_, _| async {
        Err::<TransferSignature, _>("asked twice".to_owned())
    })
    .await
    .unwrap();
    assert_eq!(retried.signature, row.signature);

    // It executes and resolves the event, as a refund signed at once does.
    ledger.apply_block(&[executed(110, &row)]).await.unwrap();
    assert_eq!(quarantine(pool, wrong.key).await.1, Some(row.id));
}

#[tokio::test]
async fn a_proposed_transfer_past_its_deadline_expires_and_reserves_nothing() {
    let params = PlanParams::defaults(18);
    let (db, mut ledger) = common::ledger(params.clone()).await;
    let pool = &db.pool;
    let fee = params.registration_fee;
    ledger.apply_block(&[registered(10, 0, "A", "G", fee)]).await.unwrap();
    let finance = named("finance");
    ledger::staff::seed(pool, &[finance]).await.unwrap();
    let before = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert!(before.available > U256::ZERO);
    let row = treasury::transfer(pool, ASSET, named("cold"), before.available, "test-finance", |r| async move {
        Ok::<_, String>(proposed(&r, DEADLINE, finance))
    })
    .await
    .unwrap();
    assert_eq!(row.status, ledger::authorisations::OutflowStatus::Proposed);
    let reserved = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert_eq!((reserved.reserved, reserved.available), (before.available, U256::ZERO));

    let hash = |n: u64| B256::from(keccak256(n.to_be_bytes()));
    ledger.apply_confirmed(&[], BlockCursor { number: 101, hash: hash(101) }, DEADLINE + 1).await.unwrap();
    assert_eq!(status(pool, row.id).await, "expired");
    let after = treasury::position(pool, ASSET).await.unwrap().unwrap();
    assert_eq!((after.reserved, after.available), (U256::ZERO, before.available));
    let a = ledger::authorisations::load(pool, row.authorisation_id.unwrap()).await.unwrap();
    let expired = ledger::authorisations::Stage::Expired;
    assert_eq!(a.stage(DEADLINE - 10), expired, "the lifecycle reads the transfer's own status");
}
