//! Claims and treasury transfers in the ledger against a real Postgres: a claim spends exactly the claimable a
//! deferred payout left; a claim the ledger cannot account for is quarantined with an alert saying the money is
//! gone; a treasury transfer executes its signed row, an unsigned one is recorded from the chain with an alert,
//! a signed one past its deadline expires; re-applying any of it changes nothing.

use crate::common;

use crate::common::*;
use alloy::primitives::{Address, B256, U256, keccak256};
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::{Amount, PlanParams};
use ledger::{ApplySummary, BlockCursor, ChainLedger, digest, payouts};
use sqlx::PgPool;

const PAYOUTS_HASH: B256 = B256::repeat_byte(0x5a);

fn event(block: u64, log_index: u64, body: EventBody) -> ChainEvent {
    ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey {
            chain_id: CHAIN,
            tx_hash: keccak256([b"claims".as_slice(), &block.to_be_bytes(), &log_index.to_be_bytes()].concat()),
            log_index,
        },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body,
    }
}

fn claimed(block: u64, account: Address, amount: Amount) -> ChainEvent {
    event(block, 0, EventBody::Claimed { account, token: Address::ZERO, to: named("cold"), amount: U256::from(amount) })
}

fn treasury(block: u64, nonce: u64, to: Address, amount: Amount) -> ChainEvent {
    event(
        block,
        0,
        EventBody::TreasuryTransferred {
            nonce: U256::from(nonce),
            token: Address::ZERO,
            to,
            amount: U256::from(amount),
        },
    )
}

async fn claimable(pool: &PgPool, who: Address) -> String {
    sqlx::query_scalar(
        "SELECT b.claimable::text FROM user_balances b JOIN users u USING (asset_id, user_no) WHERE u.address = $1",
    )
    .bind(who.as_slice())
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn quarantine_codes(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT reason_code FROM quarantine ORDER BY created_at, log_index")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// A ledger where A registered under G and G's whole pending share was paid by batch nonce 7, deferred (the
/// push failed), so it is claimable; returns the ledger and G's claimable amount.
async fn deferred_payout_ledger() -> (ledger::db::ScratchDatabase, ChainLedger, Amount) {
    let params = PlanParams::defaults(18);
    let fee = params.registration_fee;
    let (db, mut ledger) = common::ledger(params).await;
    ledger.apply_block(&[registered(10, 0, "A", "G", fee)]).await.unwrap();
    let built = payouts::build_batch(&db.pool, ASSET, &payouts::BuildLimits::new(10, Amount::MAX))
        .await
        .unwrap()
        .expect("G has pending rewards");
    let position = built.entries.iter().position(|e| e.0 == genesis()).expect("G is paid");
    let g_amount = built.entries[position].1;
    payouts::record_signed(&db.pool, built.id, U256::from(7), PAYOUTS_HASH, 1_800_000_000, &[1; 65]).await.unwrap();
    let deferred = event(
        11,
        0,
        EventBody::PayoutDeferred {
            batch_nonce: U256::from(7),
            recipient: genesis(),
            token: Address::ZERO,
            index: U256::from(position),
            amount: U256::from(g_amount),
        },
    );
    let executed = event(
        11,
        1,
        EventBody::PayoutBatchExecuted {
            nonce: U256::from(7),
            token: Address::ZERO,
            payouts_hash: PAYOUTS_HASH,
            total: U256::from(built.total),
            count: U256::from(built.entries.len()),
            deferred_count: U256::from(1),
            deferred_total: U256::from(g_amount),
        },
    );
    let summary = ledger.apply_block(&[deferred, executed]).await.unwrap();
    assert_eq!(summary.applied, 2, "the settlement applies");
    assert_eq!(claimable(&db.pool, genesis()).await, g_amount.to_string());
    (db, ledger, g_amount)
}

#[tokio::test]
async fn a_claim_spends_exactly_the_claimable_a_deferred_payout_left() {
    let (db, mut ledger, owed) = deferred_payout_ledger().await;
    let pool = &db.pool;
    let first = owed / 3;
    let summary = ledger.apply_block(&[claimed(12, genesis(), first)]).await.unwrap();
    assert_eq!(summary, ApplySummary { applied: 1, quarantined: 0, duplicates: 0 });
    assert_eq!(claimable(pool, genesis()).await, (owed - first).to_string());
    ledger.apply_block(&[claimed(13, genesis(), owed - first)]).await.unwrap();
    assert_eq!(claimable(pool, genesis()).await, "0");
    // Settled stays what the batch paid: a claim only moves money out of custody, not out of the user's history.
    let settled: String = sqlx::query_scalar(
        "SELECT b.settled::text FROM user_balances b JOIN users u USING (asset_id, user_no) WHERE u.address = $1",
    )
    .bind(genesis().as_slice())
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(settled, owed.to_string());
    let stored: (String, String, String) =
        sqlx::query_as("SELECT name, outcome, payload->>'amount' FROM chain_events WHERE block_number = 13")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((stored.0.as_str(), stored.1.as_str()), ("Claimed", "applied"));
    assert_eq!(stored.2.parse::<U256>().unwrap(), U256::from(owed - first), "the reconciler sums this field");

    // The same logs again: nothing changes.
    let before = digest(pool).await.unwrap();
    let again = ledger.apply_block(&[claimed(12, genesis(), first), claimed(13, genesis(), owed - first)]).await;
    assert_eq!(again.unwrap(), ApplySummary { applied: 0, quarantined: 0, duplicates: 2 });
    assert_eq!(digest(pool).await.unwrap(), before);
}

#[tokio::test]
async fn a_claim_the_ledger_cannot_account_for_is_quarantined_and_the_alert_says_the_money_is_gone() {
    let (db, mut ledger, owed) = deferred_payout_ledger().await;
    let pool = &db.pool;
    let balances_before: String =
        sqlx::query_scalar("SELECT string_agg(b::text, ';' ORDER BY user_no) FROM user_balances b")
            .fetch_one(pool)
            .await
            .unwrap();
    // One wei more than claimable, and a claim by a wallet the ledger has never seen.
    let summary = ledger.apply_block(&[claimed(12, genesis(), owed + 1)]).await.unwrap();
    assert_eq!(summary, ApplySummary { applied: 0, quarantined: 1, duplicates: 0 });
    let summary = ledger.apply_block(&[claimed(13, named("stranger"), 5)]).await.unwrap();
    assert_eq!(summary.quarantined, 1);

    assert_eq!(quarantine_codes(pool).await, ["claim_exceeds_claimable", "unknown_claimant"]);
    let balances_after: String =
        sqlx::query_scalar("SELECT string_agg(b::text, ';' ORDER BY user_no) FROM user_balances b")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(balances_after, balances_before, "no balance moved");
    let messages: Vec<String> =
        sqlx::query_scalar("SELECT message FROM alerts WHERE kind = 'event_quarantined' ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(|m| m.contains("already paid")), "{messages:?}");
    assert!(messages[0].contains(&(owed + 1).to_string()), "{}", messages[0]);
    // The event is stored (the reconciler counts the money as gone) but as quarantined.
    let outcomes: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM chain_events WHERE name = 'Claimed' ORDER BY block_number")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(outcomes, ["quarantined", "quarantined"]);

    // The rightful claim still applies afterwards.
    ledger.apply_block(&[claimed(14, genesis(), owed)]).await.unwrap();
    assert_eq!(claimable(pool, genesis()).await, "0");
}

async fn insert_signed(pool: &PgPool, nonce: u64, to: Address, amount: Amount, deadline: i64) {
    sqlx::query(
        "INSERT INTO treasury_transfers (asset_id, chain_nonce, recipient, amount, deadline, signature, requested_by)
         VALUES ($1, $2::numeric, $3, $4::numeric, $5, '\\x01', 'test-admin')",
    )
    .bind(ASSET)
    .bind(nonce.to_string())
    .bind(to.as_slice())
    .bind(amount.to_string())
    .bind(deadline)
    .execute(pool)
    .await
    .unwrap();
}

type TransferRow = (String, String, String, Option<i64>, Option<Vec<u8>>, String);

async fn transfers(pool: &PgPool) -> Vec<TransferRow> {
    sqlx::query_as(
        "SELECT chain_nonce::text, status, origin, executed_block, tx_hash, amount::text
         FROM treasury_transfers ORDER BY chain_nonce",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn treasury_transfers_execute_their_signed_row_or_are_recorded_from_the_chain_with_an_alert() {
    let (db, mut ledger) = common::ledger(PlanParams::defaults(18)).await;
    let pool = &db.pool;
    let cold = named("treasury-cold");
    insert_signed(pool, 900, cold, 5 * BNB, 1_700_001_000).await;
    insert_signed(pool, 902, cold, 3 * BNB, 1_700_001_000).await;

    let signed = treasury(20, 900, cold, 5 * BNB);
    let unsigned = treasury(21, 901, named("somewhere"), 2 * BNB);
    let tampered = treasury(22, 902, cold, 4 * BNB);
    let summary = ledger.apply_block(&[signed.clone(), unsigned.clone(), tampered.clone()]).await.unwrap();
    assert_eq!(summary, ApplySummary { applied: 2, quarantined: 1, duplicates: 0 });

    let rows = transfers(pool).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        (
            "900".into(),
            "executed".into(),
            "api".into(),
            Some(20),
            Some(signed.key.tx_hash.to_vec()),
            (5 * BNB).to_string()
        )
    );
    assert_eq!(
        rows[1],
        (
            "901".into(),
            "executed".into(),
            "chain".into(),
            Some(21),
            Some(unsigned.key.tx_hash.to_vec()),
            (2 * BNB).to_string()
        )
    );
    assert_eq!((rows[2].1.as_str(), rows[2].3), ("signed", None), "a mismatching execution is not taken as this row");
    assert_eq!(quarantine_codes(pool).await, ["treasury_mismatch"]);
    let unknown: Vec<String> =
        sqlx::query_scalar("SELECT message FROM alerts WHERE kind = 'treasury_transfer_unknown'")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0].contains("901") && unknown[0].contains(&(2 * BNB).to_string()), "{}", unknown[0]);

    // Re-applied: nothing changes, no second chain row, no second alert.
    let before = (digest(pool).await.unwrap(), transfers(pool).await);
    let again = ledger.apply_block(&[signed, unsigned, tampered]).await.unwrap();
    assert_eq!(again.duplicates, 3);
    assert_eq!((digest(pool).await.unwrap(), transfers(pool).await), before);
}

#[tokio::test]
async fn a_signed_transfer_expires_once_a_confirmed_block_is_past_its_deadline() {
    let (db, mut ledger) = common::ledger(PlanParams::defaults(18)).await;
    let pool = &db.pool;
    let cold = named("treasury-cold");
    // Block b has timestamp 1_700_000_000 + b.
    insert_signed(pool, 1, cold, BNB, 1_700_000_030).await;
    insert_signed(pool, 2, cold, BNB, 1_700_000_031).await;
    insert_signed(pool, 3, cold, BNB, 1_700_000_100).await;

    // At block 30 (time …030) nothing has passed its deadline: the contract still accepts all three.
    let hash = |n: u64| B256::from(keccak256(n.to_be_bytes()));
    ledger.apply_confirmed(&[], BlockCursor { number: 30, hash: hash(30) }, 1_700_000_030).await.unwrap();
    let status = |rows: Vec<TransferRow>| rows.into_iter().map(|r| r.1).collect::<Vec<_>>();
    assert_eq!(status(transfers(pool).await), ["signed", "signed", "signed"]);
    // Block 31 passes the first deadline only.
    ledger.apply_confirmed(&[], BlockCursor { number: 31, hash: hash(31) }, 1_700_000_031).await.unwrap();
    assert_eq!(status(transfers(pool).await), ["expired", "signed", "signed"]);
    // An event's block counts as passed too; the third executes before its deadline.
    let executed = treasury(40, 3, cold, BNB);
    ledger.apply_confirmed(&[executed], BlockCursor { number: 40, hash: hash(40) }, 1_700_000_040).await.unwrap();
    assert_eq!(status(transfers(pool).await), ["expired", "expired", "executed"]);
    let before = transfers(pool).await;
    ledger.apply_confirmed(&[], BlockCursor { number: 41, hash: hash(41) }, 1_700_000_041).await.unwrap();
    assert_eq!(transfers(pool).await, before, "expired and executed rows stay as they are");
}
