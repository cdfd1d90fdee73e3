//! Nothing edits the ledger behind its back (migration 0025, issue 43): as the services' own database user (here the
//! scratch database's owner, a superuser: the strongest DML there is), every write through a compatibility view, and
//! every delete or rewrite of the ledger's own records (`chain_events`, `rewards`, `company_credits`), is refused and
//! changes nothing; the ledger's own writes — a payout batch built, cancelled, built again and settled, a freeze,
//! a forfeit — still go through.

use crate::common::*;
use alloy::primitives::{B256, U256};
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::{Amount, PlanParams};
use ledger::{admin, digest, payouts};
use sqlx::PgPool;

/// Every row of the tables and views the refused writes aim at, and the ledger's digest: "nothing changed".
async fn state(pool: &PgPool) -> Vec<String> {
    let mut all = vec![digest(pool).await.unwrap()];
    for table in [
        "users",
        "user_balances",
        "chain_events",
        "ledger_events",
        "retopups",
        "pool_nodes",
        "placements",
        "rewards",
        "company_credits",
        "quarantine",
    ] {
        let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*)::text || ':' || COALESCE(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t"
        )))
        .fetch_one(pool)
        .await
        .unwrap();
        all.push(format!("{table} {rows}"));
    }
    all
}

#[tokio::test]
async fn every_write_behind_the_ledgers_back_is_refused_and_changes_nothing() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let pool = db.pool.clone();
    let fee = 20 * BNB;
    let mut events = vec![];
    for (i, (user, sponsor)) in
        [("A", "G"), ("B", "G"), ("C", "A"), ("D", "A"), ("E", "B"), ("F", "B")].iter().enumerate()
    {
        events.push(registered(10 + i as u64, 0, user, sponsor, fee));
    }
    events.push(retopped(20, 0, "A", 40 * BNB));
    ledger.apply_block(&events).await.unwrap();
    for (what, n) in [("retopups", 1), ("pool_nodes", 1), ("rewards", 1), ("company_credits", 1)] {
        assert!(count(&pool, what).await >= n, "the ledger has {what} to aim at");
    }
    let before = state(&pool).await;

    let refused = [
        // The compatibility views: issue 43's three, and every other write through them.
        "DELETE FROM user_balances",
        "UPDATE user_balances SET pending = 0",
        "INSERT INTO user_balances (asset_id, user_no, pending) VALUES (1, 999, 1)",
        "DELETE FROM ledger_events",
        "UPDATE ledger_events SET amount = 1",
        "DELETE FROM retopups",
        "UPDATE retopups SET amount = 1",
        "DELETE FROM pool_nodes",
        "UPDATE pool_nodes SET status = 'completed'",
        // The raw chain events and their ledger records: written once.
        "DELETE FROM chain_events",
        "UPDATE chain_events SET payload = jsonb_set(payload, '{amount}', '\"1\"')",
        "UPDATE chain_events SET amount = amount - 1 WHERE amount IS NOT NULL",
        "UPDATE chain_events SET outcome = 'quarantined'",
        "TRUNCATE chain_events CASCADE",
        // Rewards: never deleted; what a reward is and its amount never change; paid only by settling parts in flight.
        "DELETE FROM rewards",
        "UPDATE rewards SET amount = amount - 1",
        "UPDATE rewards SET beneficiary_no = 1 WHERE beneficiary_no <> 1",
        "UPDATE rewards SET paid = amount, status = 'settled' WHERE status = 'pending'",
        "UPDATE rewards SET paid = 1 WHERE status = 'pending'",
        "TRUNCATE rewards CASCADE",
        // Company credits: written once.
        "DELETE FROM company_credits",
        "UPDATE company_credits SET amount = 1",
        "TRUNCATE company_credits",
    ];
    for sql in refused {
        let e = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        let message = e.to_string();
        assert!(
            ["read-only view", "written once", "never deleted", "cannot change", "not a settlement"]
                .iter()
                .any(|m| message.contains(m)),
            "{sql}: refused for another reason: {message}"
        );
        assert_eq!(state(&pool).await, before, "{sql} changed something");
    }
    // A write that changes nothing that the guards look at is not their business: a view refuses every write.
    assert!(sqlx::query("UPDATE user_balances SET pending = pending").execute(&pool).await.is_err());

    // The ledger's own writes still go through: a batch built, cancelled, built again and settled (paid grows by the
    // parts in flight), a freeze, a forfeit (status moves and a company credit).
    let limits = payouts::BuildLimits::new(10, Amount::MAX);
    let built = payouts::build_batch(&pool, ASSET, &limits).await.unwrap().expect("pending rewards");
    let expected = payouts::cancel_state(&pool, built.id).await.unwrap().expect("the batch");
    let cancelled = payouts::cancel_batch(&pool, built.id, &expected, serde_json::json!({}), "ops").await.unwrap();
    assert!(cancelled.is_some(), "an unsigned batch cancels");
    let built = payouts::build_batch(&pool, ASSET, &limits).await.unwrap().expect("pending rewards again");
    payouts::record_signed(&pool, built.id, U256::from(7), B256::repeat_byte(0x33), 1_800_000_000, &[1; 65])
        .await
        .unwrap();
    let executed = ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: B256::repeat_byte(0x77), log_index: 0 },
        block_number: 30,
        block_timestamp: 1_700_000_030,
        body: EventBody::PayoutBatchExecuted {
            nonce: U256::from(7),
            token: alloy::primitives::Address::ZERO,
            payouts_hash: B256::repeat_byte(0x33),
            total: U256::from(built.total),
            count: U256::from(built.entries.len()),
            deferred_count: U256::ZERO,
            deferred_total: U256::ZERO,
        },
    };
    assert_eq!(ledger.apply_block(&[executed]).await.unwrap().applied, 1, "the settlement applies");
    let settled = text(&pool, "SELECT count(*)::text FROM rewards WHERE status = 'settled' AND paid = amount").await;
    assert_ne!(settled, "0");
    ledger.apply_block(&[registered(31, 0, "H", "C", fee)]).await.unwrap();
    admin::freeze(&pool, ASSET, named("C"), "ops", "test").await.unwrap();
    ledger.apply_block(&[registered(32, 0, "I", "C", fee)]).await.unwrap();
    admin::forfeit_held(&pool, ASSET, named("C"), "ops").await.unwrap();
    assert_eq!(text(&pool, "SELECT count(*)::text FROM rewards WHERE status = 'held'").await, "0");
}
