//! The outbox's triggers (issue 49) against the real apply path: what a stream of events writes, that nothing is
//! written twice when the same events come again, that rewards are told per member and block with the ledger's own
//! sums, and that a payment's expiry is told once, by the chain's clock, only for payloads no event used.

use crate::common;

use std::collections::BTreeMap;

use crate::common::{ASSET, CHAIN, ledger, named, registered, replay, stream};
use ledger::plan::PlanParams;
use sqlx::PgPool;

async fn notifications(pool: &PgPool) -> Vec<(String, String, serde_json::Value)> {
    sqlx::query_as("SELECT id, kind, data FROM notifications ORDER BY id").fetch_all(pool).await.unwrap()
}

/// Σ of each member's rewards that events caused, by the ledger's rows and by the notifications.
async fn reward_sums(pool: &PgPool) -> (BTreeMap<i32, String>, BTreeMap<i32, String>) {
    let ledger: Vec<(i32, String)> = sqlx::query_as(
        "SELECT beneficiary_no, sum(amount)::text FROM rewards WHERE period IS NULL GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let told: Vec<(i32, String)> = sqlx::query_as(
        "SELECT user_no, sum((data ->> 'amount')::numeric)::text FROM notifications
          WHERE kind = 'reward.credited' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (ledger.into_iter().collect(), told.into_iter().collect())
}

#[tokio::test]
async fn a_stream_is_told_with_the_ledgers_sums_once_per_member_and_block_and_a_second_delivery_adds_nothing() {
    let params = PlanParams::defaults(18);
    let mut s = stream(49, &params, 3);
    let ops: Vec<_> = (0..400).map(|_| s.next_op()).collect();
    let (db, mut chain) = ledger(params.clone()).await;
    replay(&mut chain, &ops, true).await;
    let (ledger_sums, told) = reward_sums(&db.pool).await;
    assert!(!ledger_sums.is_empty());
    assert_eq!(ledger_sums, told, "every credit told, to its member, with the ledger's amount");
    // Every reward row told once (an admin action between two events of a block splits it: two notifications).
    let (rows, told_rows): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM rewards WHERE period IS NULL),
                (SELECT coalesce(sum((data ->> 'rewards')::int8), 0)::int8 FROM notifications WHERE kind = 'reward.credited')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(rows, told_rows);
    let payments: i64 =
        sqlx::query_scalar("SELECT count(*) FROM chain_events WHERE outcome = 'applied' AND kind IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let told_payments: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE kind = 'payment.applied'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(payments, told_payments, "every applied payment told once; a quarantined one not at all");
    let freezes: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action IN ('freeze', 'unfreeze')")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let told_freezes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notifications WHERE kind IN ('account.frozen', 'account.unfrozen')")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(freezes, told_freezes, "each freeze and unfreeze told");

    // The same events again (a listener restarted below its cursor, a replay): nothing new.
    let before = notifications(&db.pool).await;
    let events: Vec<_> = ops
        .iter()
        .filter_map(|op| match op {
            ledger::synthetic::StreamOp::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    let mut again = ledger::ChainLedger::open(db.pool.clone(), CHAIN).await.unwrap();
    for block in events.chunk_by(|a, b| a.block_number == b.block_number) {
        let summary = again.apply_block(block).await;
        assert!(summary.is_err() || summary.unwrap().applied == 0);
    }
    assert_eq!(notifications(&db.pool).await, before, "a second delivery of the events tells nothing new");
}

#[tokio::test]
async fn a_payments_expiry_is_told_once_by_the_chains_clock_and_never_for_a_payload_that_was_used() {
    let params = PlanParams::defaults(18);
    let (db, mut chain) = ledger(params.clone()).await;
    let fee = params.registration_fee;
    // Two payloads with deadlines at block 5's time: one used (block 4's registration, nonce 4), one not.
    for (wallet, nonce) in [(named("A"), 4u64), (named("late"), 900)] {
        sqlx::query(
            "INSERT INTO transactions (asset_id, kind, wallet, nonce, payload, signature, deadline)
             VALUES ($1, 'register', $2, $3::text::numeric, $4, '\\x00', $5)",
        )
        .bind(ASSET)
        .bind(wallet.as_slice())
        .bind(nonce.to_string())
        .bind(serde_json::json!({ "amount": fee.to_string() }))
        .bind(1_700_000_005i64)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    chain.apply_block(&[registered(4, 0, "A", "G", fee)]).await.unwrap();
    let expired = || async {
        let rows: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT id, address FROM notifications WHERE kind = 'payment.expired'")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        rows
    };
    assert!(expired().await.is_empty(), "block 4 is before the deadline");
    // Block 5's time equals the deadline: still payable.
    chain.apply_block(&[registered(5, 0, "B", "A", fee)]).await.unwrap();
    assert!(expired().await.is_empty());
    chain.apply_block(&[registered(6, 0, "C", "A", fee)]).await.unwrap();
    let told = expired().await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        (told[0].0.as_str(), told[0].1.as_slice()),
        (format!("payment.expired:{CHAIN}:900").as_str(), named("late").as_slice())
    );
    let data: serde_json::Value = sqlx::query_scalar("SELECT data FROM notifications WHERE kind = 'payment.expired'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(data["amount"], fee.to_string());
    assert_eq!(data["payment"], "registration");
    chain.apply_block(&[registered(7, 0, "D", "A", fee)]).await.unwrap();
    assert_eq!(expired().await.len(), 1, "told once");
}

#[tokio::test]
async fn blocks_applied_whole_tell_each_member_once_per_block_not_once_per_reward() {
    let params = PlanParams::defaults(18);
    let mut s = ledger::synthetic::EventStream::new(ledger::synthetic::StreamConfig {
        seed: 7,
        chain_id: CHAIN,
        token: alloy::primitives::Address::ZERO,
        genesis: common::genesis(),
        registration_fee: params.registration_fee,
        retopup_fee: params.retopup_fee,
        events_per_block: 4,
        retopup_per_mille: 250,
        invalid_per_mille: 20,
        freeze_per_mille: 0,
        place_per_mille: 0,
    });
    let ops: Vec<_> = (0..300).map(|_| s.next_op()).collect();
    let (db, mut chain) = ledger(params).await;
    replay(&mut chain, &ops, true).await;
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (
           SELECT r.beneficiary_no, count(DISTINCT e.block_number) AS blocks FROM rewards r
             JOIN chain_events e ON e.asset_id = r.asset_id AND e.event_seq = r.event_seq
            WHERE r.period IS NULL GROUP BY 1) b
         FULL JOIN (SELECT user_no, count(*) AS told FROM notifications WHERE kind = 'reward.credited' GROUP BY 1) t
           ON t.user_no = b.beneficiary_no
         WHERE b.blocks IS DISTINCT FROM t.told",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(mismatched, 0, "one notification per member and block");
    let (rows, told): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM rewards), (SELECT count(*) FROM notifications WHERE kind = 'reward.credited')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(told < rows, "fewer notifications ({told}) than reward rows ({rows})");
}
