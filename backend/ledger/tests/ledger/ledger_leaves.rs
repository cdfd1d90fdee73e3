//! A member's leave (`MemberLeft`, contracts/EXIT.md §12) in the ledger against a real Postgres (PLAN.md §5): what
//! the leave paid settles the member's rewards oldest first and a short leave forfeits the rest to the company; the
//! member is exited for good, and every later credit that would be theirs is the company's, also after the ledger is
//! loaded again; an open batch paying them is cancelled, so a batch signed before the leave never pays them twice; a
//! leave the ledger cannot account for is quarantined; the member is told; re-applying changes nothing.

use crate::common;

use crate::common::*;
use alloy::primitives::{Address, B256, U256, keccak256};
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::{Amount, PlanParams};
use ledger::{ApplySummary, BlockCursor, ChainLedger, digest, figures, payouts};
use sqlx::PgPool;

const CONTRACT: Address = Address::repeat_byte(0xc0);

fn event(block: u64, log_index: u64, body: EventBody) -> ChainEvent {
    ChainEvent {
        contract: CONTRACT,
        key: EventKey {
            chain_id: CHAIN,
            tx_hash: keccak256([b"leaves".as_slice(), &block.to_be_bytes(), &log_index.to_be_bytes()].concat()),
            log_index,
        },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body,
    }
}

fn left(block: u64, member: &str, amount: Amount, due: Amount) -> ChainEvent {
    let body = EventBody::MemberLeft {
        member: named(member),
        token: Address::ZERO,
        to: named("cold"),
        amount: U256::from(amount),
        due: U256::from(due),
    };
    event(block, 0, body)
}

/// (reserved + held + pending + batched, settled, forfeited, exited block) of `who`.
async fn standing(pool: &PgPool, who: &str) -> (Amount, Amount, Amount, Option<i64>) {
    let row: (String, String, String, Option<i64>) = sqlx::query_as(
        "SELECT (reserved + held + pending + batched)::text, settled::text, forfeited::text, exited_block FROM users
         WHERE address = $1",
    )
    .bind(named(who).as_slice())
    .fetch_one(pool)
    .await
    .unwrap();
    (row.0.parse().unwrap(), row.1.parse().unwrap(), row.2.parse().unwrap(), row.3)
}

/// (status, amount, paid, exit_paid) of every reward of `who`, oldest first.
async fn rewards_of(pool: &PgPool, who: &str) -> Vec<(String, Amount, Amount, Amount)> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT r.status, r.amount::text, r.paid::text, r.exit_paid::text FROM rewards r
         JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
         WHERE u.address = $1 ORDER BY r.reward_no",
    )
    .bind(named(who).as_slice())
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|r| (r.0, r.1.parse().unwrap(), r.2.parse().unwrap(), r.3.parse().unwrap())).collect()
}

/// (reason, amount) of every company credit, in order.
async fn company_credits(pool: &PgPool) -> Vec<(String, Amount)> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT reason, amount::text FROM company_credits ORDER BY credit_no")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter().map(|r| (r.0, r.1.parse().unwrap())).collect()
}

async fn company_total(pool: &PgPool) -> Amount {
    text(pool, "SELECT company_total::text FROM assets").await.parse().unwrap()
}

/// A registers under G, then B, C and D under A: A's 1st and 3rd referrals pay A its DIRECT, the 2nd funds A's pool
/// entry. Returns the ledger and what A is owed.
async fn a_with_two_directs() -> (ledger::db::ScratchDatabase, ChainLedger, Amount) {
    let params = PlanParams::defaults(18);
    let fee = params.registration_fee;
    let (db, mut ledger) = common::ledger(params).await;
    for (block, user) in [(10, "A"), (11, "B"), (12, "C"), (13, "D")] {
        let sponsor = if user == "A" { "G" } else { "A" };
        let summary = ledger.apply_block(&[registered(block, 0, user, sponsor, fee)]).await.unwrap();
        assert_eq!(summary.applied, 1);
    }
    let (owed, _, _, exited) = standing(&db.pool, "A").await;
    assert_eq!((owed, exited), (36 * BNB, None), "A's two DIRECTs");
    (db, ledger, owed)
}

#[tokio::test]
async fn a_leave_settles_what_the_member_is_owed_and_every_later_credit_of_theirs_is_the_companys() {
    let (db, mut ledger, owed) = a_with_two_directs().await;
    let pool = &db.pool;
    let company_before = company_total(pool).await;
    let summary = ledger.apply_block(&[left(20, "A", owed, owed)]).await.unwrap();
    assert_eq!(summary, ApplySummary { applied: 1, quarantined: 0, duplicates: 0 });
    assert_eq!(standing(pool, "A").await, (0, owed, 0, Some(20)), "settled by the leave, exited from its block");
    let rewards = rewards_of(pool, "A").await;
    assert_eq!(rewards.len(), 2);
    assert!(rewards.iter().all(|r| r.0 == "settled" && r.2 == 0 && r.3 == r.1), "{rewards:?}");
    assert_eq!(company_total(pool).await, company_before, "a whole leave forfeits nothing");
    let stored: (String, String, String, String, Vec<i64>) = sqlx::query_as(
        "SELECT amount::text, due::text, owed::text, forfeited::text, cancelled_batches FROM member_exits",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(stored, (owed.to_string(), owed.to_string(), owed.to_string(), "0".into(), vec![]));
    // The member is told, with what the leave paid and where to.
    let told: (String, serde_json::Value) =
        sqlx::query_as("SELECT kind, data FROM notifications WHERE address = $1 AND kind = 'member.left'")
            .bind(named("A").as_slice())
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(told.1["amount"], owed.to_string());
    assert_eq!(told.1["to"], format!("{:#x}", named("cold")));
    // Custody fell by the leave: the reconciler's expected balance follows it.
    let through = BlockCursor { number: 20, hash: B256::repeat_byte(20) };
    ledger.apply_confirmed(&[], through, 1_700_000_000 + 20).await.unwrap();
    let snapshot = figures::read(pool, CHAIN, &[Address::ZERO]).await.unwrap();
    let asset = &snapshot.assets[0].1;
    assert_eq!(asset.leaves, U256::from(owed));
    assert_eq!(asset.expected_balance(), alloy::primitives::I256::try_from(U256::from(4 * 20 * BNB - owed)).unwrap());

    // A's 5th referral would pay A a DIRECT: the company's now, and A stays owed nothing.
    let fee = PlanParams::defaults(18).registration_fee;
    ledger.apply_block(&[registered(21, 0, "E", "A", fee)]).await.unwrap();
    ledger.apply_block(&[registered(22, 0, "F", "A", fee)]).await.unwrap();
    assert_eq!(standing(pool, "A").await, (0, owed, 0, Some(20)));
    let credits = company_credits(pool).await;
    let exited: Vec<Amount> = credits.iter().filter(|c| c.0 == "exited_member").map(|c| c.1).collect();
    // The 5th referral's DIRECT (the 4th funded A's pool entry; its node's layer shares, should one of A's own
    // nodes be above it, are the company's too).
    assert!(exited.contains(&(18 * BNB)), "{credits:?}");

    // Loaded again from the tables, the ledger still knows A left.
    let mut reloaded = ChainLedger::open(pool.clone(), CHAIN).await.unwrap();
    reloaded.apply_block(&[registered(23, 0, "H", "A", fee), registered(24, 0, "I", "A", fee)]).await.unwrap();
    assert_eq!(standing(pool, "A").await, (0, owed, 0, Some(20)));
    let again = company_credits(pool).await;
    let exited_again: Vec<Amount> = again.iter().filter(|c| c.0 == "exited_member").map(|c| c.1).collect();
    assert!(exited_again.len() > exited.len() && exited_again.ends_with(&[18 * BNB]), "{again:?}");

    // The same logs again: nothing changes.
    let before = digest(pool).await.unwrap();
    let again = reloaded.apply_block(&[left(20, "A", owed, owed)]).await.unwrap();
    assert_eq!(again, ApplySummary { applied: 0, quarantined: 0, duplicates: 1 });
    assert_eq!(digest(pool).await.unwrap(), before);
}

#[tokio::test]
async fn a_short_leave_settles_oldest_first_and_forfeits_the_rest_audited_with_its_fraction() {
    let (db, mut ledger, owed) = a_with_two_directs().await;
    let pool = &db.pool;
    let company_before = company_total(pool).await;
    // Custody was short: the leave paid three quarters of the due.
    let paid = owed * 3 / 4;
    ledger.apply_block(&[left(20, "A", paid, owed)]).await.unwrap();
    assert_eq!(standing(pool, "A").await, (0, paid, owed - paid, Some(20)));
    let rewards = rewards_of(pool, "A").await;
    assert_eq!(
        rewards,
        [("settled".to_owned(), 18 * BNB, 0, 18 * BNB), ("forfeited".to_owned(), 18 * BNB, 0, paid - 18 * BNB),],
        "the older DIRECT whole, the newer in part"
    );
    let credits = company_credits(pool).await;
    assert_eq!(credits.last(), Some(&("exit_forfeit".to_owned(), owed - paid)));
    assert_eq!(company_total(pool).await, company_before + (owed - paid));
    let audit: serde_json::Value =
        sqlx::query_scalar("SELECT after FROM audit_logs WHERE action = 'member_left'").fetch_one(pool).await.unwrap();
    assert_eq!(audit["fraction"], format!("{paid}/{owed}"));
    assert_eq!(audit["forfeited"], (owed - paid).to_string());
}

#[tokio::test]
async fn a_batch_signed_before_the_leave_is_cancelled_and_never_pays_the_member_twice() {
    let (db, mut ledger, owed) = a_with_two_directs().await;
    let pool = &db.pool;
    let built = payouts::build_batch(pool, ASSET, &payouts::BuildLimits::new(10, Amount::MAX))
        .await
        .unwrap()
        .expect("G and A have pending rewards");
    assert!(built.entries.iter().any(|e| e.0 == named("A")), "A is paid by the batch");
    let hash = B256::repeat_byte(0x5a);
    payouts::record_signed(pool, built.id, U256::from(7), hash, 1_800_000_000, &[1; 65]).await.unwrap();
    assert_eq!(standing(pool, "A").await.0, owed, "batched is still owed");

    ledger.apply_block(&[left(20, "A", owed, owed)]).await.unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM payout_batches WHERE id = $1")
        .bind(built.id)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(status, "cancelled", "the contract refuses a batch paying a member who left");
    assert_eq!(standing(pool, "A").await, (0, owed, 0, Some(20)));
    let g_after = text(pool, "SELECT (pending + batched)::text FROM users WHERE user_no = 0").await;
    assert_ne!(g_after, "0", "G is owed again, for the next batch");
    assert_eq!(text(pool, "SELECT batched::text FROM users WHERE user_no = 0").await, "0");
    let cancelled: Vec<i64> =
        sqlx::query_scalar("SELECT cancelled_batches FROM member_exits").fetch_one(pool).await.unwrap();
    assert_eq!(cancelled, [built.id]);

    // Should the batch still execute, the ledger pays nobody from it: it is quarantined.
    let executed = event(
        21,
        0,
        EventBody::PayoutBatchExecuted {
            nonce: U256::from(7),
            token: Address::ZERO,
            payouts_hash: hash,
            total: U256::from(built.total),
            count: U256::from(built.entries.len()),
            deferred_count: U256::ZERO,
            deferred_total: U256::ZERO,
        },
    );
    let summary = ledger.apply_block(&[executed]).await.unwrap();
    assert_eq!(summary.quarantined, 1);
    assert_eq!(standing(pool, "A").await, (0, owed, 0, Some(20)), "paid once, by the leave");
    // A new batch pays G and not A.
    let next = payouts::build_batch(pool, ASSET, &payouts::BuildLimits::new(10, Amount::MAX)).await.unwrap().unwrap();
    assert!(next.entries.iter().all(|e| e.0 != named("A")), "{:?}", next.entries);
    assert!(next.entries.iter().any(|e| e.0 == genesis()));
}

#[tokio::test]
async fn a_leave_the_ledger_cannot_account_for_is_quarantined_and_changes_no_balance() {
    let (db, mut ledger, owed) = a_with_two_directs().await;
    let pool = &db.pool;
    let balances = || async {
        sqlx::query_scalar::<_, String>("SELECT string_agg(u::text, ';' ORDER BY user_no) FROM user_balances u")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let before = balances().await;
    ledger.apply_block(&[left(20, "A", owed + 1, owed + 1)]).await.unwrap();
    ledger.apply_block(&[left(21, "stranger", 5, 5)]).await.unwrap();
    assert_eq!(balances().await, before, "no balance moved");
    assert_eq!(standing(pool, "A").await.3, None, "A is not exited by a leave the ledger refused");
    // The rightful leave applies; a second leave of the same member is refused.
    ledger.apply_block(&[left(22, "A", owed, owed)]).await.unwrap();
    ledger.apply_block(&[left(23, "A", 0, 0)]).await.unwrap();
    let codes: Vec<String> = sqlx::query_scalar("SELECT reason_code FROM quarantine ORDER BY created_at, tx_hash")
        .fetch_all(pool)
        .await
        .unwrap();
    let mut codes = codes;
    codes.sort();
    assert_eq!(codes, ["already_exited", "leave_exceeds_owed", "unknown_member"]);
    let messages: Vec<String> = sqlx::query_scalar("SELECT message FROM alerts WHERE kind = 'event_quarantined'")
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(messages.iter().all(|m| m.contains("already paid")), "{messages:?}");
    assert_eq!(count(pool, "member_exits").await, 1);
}
