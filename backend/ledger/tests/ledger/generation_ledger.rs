//! The generation plan (PLAN-GENERATION.md) through the Postgres ledger: an asset created with the plan, the
//! worked example of §7 as stored rows, weeks closed by an event's block or by the confirmed head's time, a wrong
//! amount quarantined, the engine reloaded from the tables, and replays with different batching reproducing every
//! credit and every close (the digest).

use crate::common::{count, named, text};
use alloy::primitives::{Address, B256, U256, keccak256};
use ledger::db::ScratchDatabase;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::payouts;
use ledger::plan::generation::{GenerationParams, Rank, WEEK_SECS};
use ledger::plan::{Amount, RewardPlan};
use ledger::{AssetSpec, BlockCursor, ChainLedger, create_asset, digest};
use sqlx::PgPool;

const CHAIN: u64 = 31_337;
const ASSET: i32 = 7;
const USDT: Amount = 1_000_000;
/// Monday of week 2,900 (2025-08-04), the time of block 0.
const T0: u64 = 345_600 + 2_900 * WEEK_SECS;

fn token() -> Address {
    named("USDT")
}

fn params() -> GenerationParams {
    let mut p = GenerationParams::defaults(6);
    // One rank within reach of a handful of users.
    p.ranks = vec![
        Rank { name: "Connector".into(), main: 1000 * USDT, other: 1000 * USDT, bonus: 50 * USDT },
        Rank { name: "Builder".into(), main: 5000 * USDT, other: 5000 * USDT, bonus: 200 * USDT },
    ];
    p
}

async fn ledger(p: GenerationParams) -> (ScratchDatabase, ChainLedger) {
    let db = ScratchDatabase::create("generation_test").await.unwrap();
    let spec = AssetSpec {
        id: ASSET,
        chain_id: CHAIN,
        token: token(),
        symbol: "USDT".into(),
        decimals: 6,
        genesis: named("G"),
        params: p,
    };
    create_asset(&db.pool, &spec).await.unwrap();
    let ledger = ChainLedger::open(db.pool.clone(), CHAIN).await.unwrap();
    (db, ledger)
}

fn key(block: u64, log_index: u64) -> EventKey {
    EventKey {
        chain_id: CHAIN,
        tx_hash: B256::from(keccak256([block.to_be_bytes(), log_index.to_be_bytes()].concat())),
        log_index,
    }
}

/// Block `block` is `secs` seconds after T0 (the tests choose times that never go backwards).
fn registered(block: u64, secs: u64, user: &str, sponsor: &str, amount: Amount) -> ChainEvent {
    ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: key(block, 0),
        block_number: block,
        block_timestamp: T0 + secs,
        body: EventBody::Registered {
            user: named(user),
            sponsor: named(sponsor),
            token: token(),
            amount: U256::from(amount),
            nonce: U256::from(block),
        },
    }
}

fn bought(block: u64, secs: u64, user: &str, amount: Amount) -> ChainEvent {
    ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: key(block, 0),
        block_number: block,
        block_timestamp: T0 + secs,
        body: EventBody::Retopped {
            user: named(user),
            token: token(),
            amount: U256::from(amount),
            nonce: U256::from(block),
        },
    }
}

fn head(number: u64) -> BlockCursor {
    BlockCursor { number, hash: B256::from(keccak256(number.to_be_bytes())) }
}

/// (beneficiary user_no, kind, level, whole USDT) of the rewards an event caused.
async fn credits_of(pool: &PgPool, seq: i64) -> Vec<(i32, String, i32, i64)> {
    sqlx::query_as(
        "SELECT beneficiary_no, kind, level, (div(amount, 1000000))::int8 FROM rewards WHERE asset_id = $1 AND event_seq = $2
         ORDER BY reward_no",
    )
    .bind(ASSET)
    .bind(seq)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn company_of(pool: &PgPool, seq: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(amount) / 1000000, 0)::int8 FROM company_credits WHERE asset_id = $1 AND event_seq = $2",
    )
    .bind(ASSET)
    .bind(seq)
    .fetch_one(pool)
    .await
    .unwrap()
}

fn generation(user: i32, level: i32, usdt: i64) -> (i32, String, i32, i64) {
    (user, "GENERATION".into(), level, usdt)
}

/// §7 as stored rows, a week closed by the confirmed head with a rank bonus, and the engine rebuilt from the
/// tables giving the same answers as the one that wrote them.
#[tokio::test]
async fn the_worked_example_is_stored_row_by_row_and_a_week_closes_on_the_heads_time() {
    let (db, mut l) = ledger(params()).await;
    let pool = &db.pool;
    let events = [
        registered(1, 10, "A", "G", 100 * USDT),
        registered(2, 20, "B", "A", 500 * USDT),
        registered(3, 30, "C", "B", 1000 * USDT),
        registered(4, 40, "D", "G", 100 * USDT),
        bought(5, 50, "C", 1000 * USDT),
        bought(6, 60, "C", 5000 * USDT),
    ];
    let s = l.apply_block(&events).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (6, 0));
    let expected = [
        (vec![generation(0, 1, 10)], 90),
        (vec![generation(1, 1, 50), generation(0, 2, 25)], 425),
        (vec![generation(2, 1, 100), generation(1, 2, 50)], 850),
        (vec![generation(0, 1, 10)], 90),
        (vec![generation(2, 1, 100), generation(1, 2, 50), generation(0, 3, 30)], 820),
        (vec![generation(2, 1, 500), generation(1, 2, 150), generation(0, 3, 150)], 4200),
    ];
    for (seq, (credits, company)) in expected.into_iter().enumerate() {
        assert_eq!(credits_of(pool, seq as i64).await, credits, "event {}", seq + 1);
        assert_eq!(company_of(pool, seq as i64).await, company, "event {}", seq + 1);
    }
    // A earned 300 = cap, B 700 of 1500: the balances say so too.
    assert_eq!(
        text(pool, "SELECT string_agg(user_no || ':' || div(paid_in, 1000000) || '/' || div(pending, 1000000), ' ' ORDER BY user_no) FROM user_balances").await,
        "0:0/225 1:100/300 2:500/700 3:7000/0 4:100/0"
    );
    let g = l.generation(ASSET).expect("a generation asset");
    let a = g.standing(1).unwrap();
    assert_eq!((a.cap, a.earned, a.room()), (Some(300 * USDT), 300 * USDT, Some(0)));
    assert_eq!((g.standing(0).unwrap().main, g.standing(0).unwrap().other), (7600 * USDT, 100 * USDT));
    assert!(l.engine(ASSET).is_none(), "not an auto-pool asset");

    // A wrong amount is quarantined and changes nothing.
    let before = digest(pool).await.unwrap();
    let s = l.apply_block(&[bought(7, 70, "B", 200 * USDT)]).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (0, 1));
    assert_eq!(
        text(pool, "SELECT reason_code FROM quarantine").await,
        "not_a_package",
        "held in suspense like any invalid event"
    );
    let reason = text(pool, "SELECT reason FROM quarantine").await;
    assert!(reason.contains("[100000000, 500000000, 1000000000, 5000000000]"), "{reason}");
    assert_eq!(count(pool, "rewards").await, 12);
    assert_ne!(before, digest(pool).await.unwrap(), "the raw event and its quarantine are stored");

    // B's legs: C's 7000 only, so B has no rank; A's: B's leg 7500 as main, nothing other. Give A a second leg.
    l.apply_block(&[registered(8, 80, "E", "A", 1000 * USDT)]).await.unwrap();
    // The week has not ended at the head's time: nothing closes.
    l.apply_confirmed(&[], head(9), T0 + WEEK_SECS - 1).await.unwrap();
    assert_eq!(count(pool, "period_closes").await, 0);
    let company_before = text(pool, "SELECT company_total::text FROM assets").await;
    // The head passes the week's end with no event: week 2900 closes.
    l.apply_confirmed(&[], head(10), T0 + WEEK_SECS).await.unwrap();
    assert_eq!(
        text(pool, "SELECT period || ' v' || plan_version || ' B=' || div(bonuses, 1000000) || ' C=' || company_before || ' paid=' || div(credited, 1000000) || ' ' || ranked::text FROM period_closes").await,
        format!(
            "2900 v1 B=50 C={company_before} paid=0 [{{\"main\": \"7500000000\", \"rank\": 1, \"user\": 1, \"other\": \"1000000000\"}}]"
        ),
    );
    // A is at its cap (E's registration paid it nothing at L1 either): the bonus is bounded by its room.
    let rank_bonus = text(
        pool,
        "SELECT COALESCE(string_agg(beneficiary_no || ':' || div(amount, 1000000) || ':' || period || ':' || status, ' '), '-')
         FROM rewards WHERE kind = 'RANK_BONUS'",
    )
    .await;
    let a = l.generation(ASSET).unwrap().standing(1).unwrap();
    assert_eq!(a.earned, a.cap.unwrap(), "A stays at its cap");
    assert_eq!(rank_bonus, "-", "A had no room: the bonus stays with the company, nothing is carried forward");
    assert_eq!(text(pool, "SELECT credited::text FROM period_closes").await, "0");
    // A buys 1000: room 3000; the next week's close pays its 50.
    l.apply_confirmed(&[bought(11, WEEK_SECS + 100, "A", 1000 * USDT)], head(11), T0 + WEEK_SECS + 100).await.unwrap();
    l.apply_confirmed(&[], head(12), T0 + 2 * WEEK_SECS + 5).await.unwrap();
    assert_eq!(
        text(pool, "SELECT string_agg(beneficiary_no || ':' || div(amount, 1000000) || ':' || period || ':' || status, ' ') FROM rewards WHERE kind = 'RANK_BONUS'").await,
        "1:50:2901:pending"
    );
    // The company paid exactly the bonuses: company_total = Σ company credits − Σ credited at closes.
    assert_eq!(
        text(pool, "SELECT ((SELECT sum(amount) FROM company_credits) - (SELECT sum(credited) FROM period_closes) - company_total)::text FROM assets").await,
        "0"
    );
    assert_eq!(text(pool, "SELECT next_period::text FROM assets").await, "2902");

    // A ledger opened from the tables holds the same plan: same standing, and the same next answers.
    let reopened = ChainLedger::open(pool.clone(), CHAIN).await.unwrap();
    let (g1, g2) = (l.generation(ASSET).unwrap(), reopened.generation(ASSET).unwrap());
    for u in 0..g1.users().len() as u32 {
        assert_eq!(g1.standing(u), g2.standing(u), "user {u}");
    }
    assert_eq!((g1.company(), g1.next_week(), g1.counters()), (g2.company(), g2.next_week(), g2.counters()));
}

/// Deterministic pseudo-random generation events over several weeks (xorshift).
fn stream(seed: u64, events: usize) -> Vec<ChainEvent> {
    let p = params();
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut users = vec!["G".to_owned()];
    let mut out = Vec::with_capacity(events);
    let mut secs = 0;
    for i in 0..events {
        let block = i as u64 + 1;
        secs += next() % (WEEK_SECS / 5);
        let package = p.packages[(next() % 4) as usize];
        let e = match next() % 10 {
            0..=4 => {
                let sponsor = users[(next() % users.len() as u64) as usize].clone();
                let user = format!("u{i}");
                users.push(user.clone());
                registered(block, secs, &user, &sponsor, package)
            }
            5 => bought(block, secs, &users[(next() % users.len() as u64) as usize], 300 * USDT),
            _ => bought(block, secs, &users[(next() % users.len() as u64) as usize], package),
        };
        out.push(e);
    }
    out
}

/// Invariants of §6 on the stored rows: per event P = Σ credits + company credit; per close Σ RANK_BONUS =
/// credited ≤ C; company_total = Σ company credits − Σ credited; earned ≤ cap for everyone but genesis.
async fn check_invariants(pool: &PgPool) {
    let broken = text(
        pool,
        "SELECT count(*)::text FROM ledger_events e
         WHERE e.amount <> (SELECT COALESCE(sum(amount), 0) FROM rewards r WHERE r.asset_id = e.asset_id AND r.event_seq = e.event_seq)
                         + (SELECT COALESCE(sum(amount), 0) FROM company_credits c WHERE c.asset_id = e.asset_id AND c.event_seq = e.event_seq)",
    )
    .await;
    assert_eq!(broken, "0", "an event whose credits do not add up to its amount");
    let broken = text(
        pool,
        "SELECT count(*)::text FROM period_closes p
         WHERE p.credited <> (SELECT COALESCE(sum(amount), 0) FROM rewards r WHERE r.asset_id = p.asset_id AND r.period = p.period)
            OR p.credited > p.company_before",
    )
    .await;
    assert_eq!(broken, "0", "a close whose credits are not its debit, or above the company's balance");
    assert_eq!(
        text(pool, "SELECT ((SELECT COALESCE(sum(amount), 0) FROM company_credits) - (SELECT COALESCE(sum(credited), 0) FROM period_closes) - company_total)::text FROM assets").await,
        "0"
    );
    // cap(U) = Σ over U's purchases of P × 30000 / 10000 (one plan version here).
    let above = text(
        pool,
        "SELECT count(*)::text FROM (SELECT e.user_no, sum(e.amount * 3) cap FROM ledger_events e GROUP BY e.user_no) c
         JOIN (SELECT beneficiary_no, sum(amount) earned FROM rewards GROUP BY beneficiary_no) r ON r.beneficiary_no = c.user_no
         WHERE c.user_no <> 0 AND r.earned > c.cap",
    )
    .await;
    assert_eq!(above, "0", "a user earned above their cap");
}

/// Replays from an empty database reproduce every credit and every close: one batch of everything (weeks closed
/// by events' blocks), block by block with the confirmed head closing weeks between events, and the same split
/// across a reopened ledger, all give one digest; the stored rows keep §6.
#[tokio::test]
async fn replays_with_any_batching_reproduce_every_credit_and_close() {
    let events = stream(0x9e37_79b9, 400);
    let (one, mut by_batch) = ledger(params()).await;
    for chunk in events.chunks(100) {
        by_batch.apply_block(chunk).await.unwrap();
    }
    let (two, mut by_head) = ledger(params()).await;
    for (i, e) in events.iter().enumerate() {
        // The head just before the next event's time: the weeks that ended in between close on the head's time,
        // before the event that would have closed them in the other ledger.
        let time = events.get(i + 1).map_or(e.block_timestamp, |n| n.block_timestamp - 1).max(e.block_timestamp);
        by_head.apply_confirmed(std::slice::from_ref(e), head(e.block_number), time).await.unwrap();
        if i == 200 {
            by_head = ChainLedger::open(two.pool.clone(), CHAIN).await.unwrap();
        }
    }
    // Both end at the last event's block time: the head ledger may have closed nothing more.
    let closes = count(&one.pool, "period_closes").await;
    assert!(closes >= 5, "the stream spans several weeks: {closes} closes");
    assert!(count(&one.pool, "rewards WHERE kind = 'RANK_BONUS'").await > 0, "ranks were reached and paid");
    assert!(count(&one.pool, "quarantine").await > 0, "wrong amounts were quarantined");
    assert_eq!(digest(&one.pool).await.unwrap(), digest(&two.pool).await.unwrap());
    check_invariants(&one.pool).await;
}

/// §4: an entry settles E of the user's rewards and the contract pays E − ⌈E × 5 %⌉; the fee is the company's when
/// the batch settles, also for an entry deferred to claimable (then E − fee is claimable), and it counts in the
/// balance the next close scales bonuses to.
#[tokio::test]
async fn a_payout_pays_each_entry_less_the_fee_rounded_up_and_the_company_gets_the_fees_at_settlement() {
    let (db, mut l) = ledger(params()).await;
    let pool = &db.pool;
    // G is owed 10 + 25 = 35 USDT, A 50 USDT.
    l.apply_block(&[registered(1, 10, "A", "G", 100 * USDT), registered(2, 20, "B", "A", 500 * USDT)]).await.unwrap();
    // 35 USDT × 5 % = 1.75 USDT, 50 USDT × 5 % = 2.5 USDT (the rounding up itself is a unit test of the build).
    let built = payouts::build_batch(pool, ASSET, &payouts::BuildLimits::new(10, Amount::MAX)).await.unwrap().unwrap();
    assert_eq!(built.entries, vec![(named("G"), 33_250_000), (named("A"), 47_500_000)]);
    assert_eq!((built.total, built.fees), (80_750_000, 4_250_000));
    assert_eq!(
        text(
            pool,
            "SELECT string_agg(user_no || ':' || amount || '+' || fee, ' ' ORDER BY position) FROM payout_batch_items"
        )
        .await,
        "0:33250000+1750000 1:47500000+2500000"
    );
    assert_eq!(text(pool, "SELECT sum(batched)::text FROM user_balances").await, "85000000", "E is in flight");
    let hash = B256::repeat_byte(0xab);
    payouts::record_signed(pool, built.id, U256::from(9), hash, 1_900_000_000, &[1; 65]).await.unwrap();
    let company_before = l.generation(ASSET).unwrap().company();
    // A's entry is deferred to claimable; G's is paid.
    let deferred = ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: key(3, 0),
        block_number: 3,
        block_timestamp: T0 + 30,
        body: EventBody::PayoutDeferred {
            batch_nonce: U256::from(9),
            recipient: named("A"),
            token: token(),
            index: U256::from(1),
            amount: U256::from(47_500_000u64),
        },
    };
    let executed = ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: key(3, 1),
        block_number: 3,
        block_timestamp: T0 + 30,
        body: EventBody::PayoutBatchExecuted {
            nonce: U256::from(9),
            token: token(),
            payouts_hash: hash,
            total: U256::from(built.total),
            count: U256::from(2),
            deferred_count: U256::from(1),
            deferred_total: U256::from(47_500_000u64),
        },
    };
    let s = l.apply_block(&[deferred, executed]).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (2, 0));
    assert_eq!(
        text(pool, "SELECT string_agg(user_no || ' settled ' || settled || ' claimable ' || claimable || ' batched ' || batched, ', ' ORDER BY user_no) FROM user_balances WHERE settled > 0").await,
        "0 settled 35000000 claimable 0 batched 0, 1 settled 50000000 claimable 47500000 batched 0"
    );
    assert_eq!(
        text(pool, "SELECT reason || ' ' || amount || ' batch ' || batch_id FROM company_credits WHERE reason = 'withdrawal_fee'").await,
        format!("withdrawal_fee 4250000 batch {}", built.id)
    );
    assert_eq!(l.generation(ASSET).unwrap().company(), company_before + 4_250_000, "C includes the fees");
    assert_eq!(
        text(pool, "SELECT ((SELECT sum(amount) FROM company_credits) - company_total)::text FROM assets").await,
        "0"
    );
    // The reloaded engine reads the same C, and its next company credit number follows the fee's.
    let reopened = ChainLedger::open(pool.clone(), CHAIN).await.unwrap();
    let (g1, g2) = (l.generation(ASSET).unwrap(), reopened.generation(ASSET).unwrap());
    assert_eq!((g1.company(), g1.counters()), (g2.company(), g2.counters()));
}
