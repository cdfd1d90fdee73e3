//! The binary plan (PLAN-BINARY.md) through the Postgres ledger: an asset created with the plan, the worked example
//! of §7 (both parts) as stored rows — placements, DIRECT credits, the closes' records and lines, BINARY_PAIR rows
//! reserved and released, balances — periods closed by an event's block or by the confirmed head's time, the engine
//! reloaded from the tables, and replays with different batching reproducing every row (the digest).

use crate::common::{count, named, text};
use alloy::primitives::{Address, B256, U256, keccak256};
use ledger::db::ScratchDatabase;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::Amount;
use ledger::plan::binary::{BinaryEngine, BinaryParams};
use ledger::{AssetSpec, BlockCursor, ChainLedger, create_asset, digest};
use sqlx::PgPool;

const CHAIN: u64 = 31_337;
const ASSET: i32 = 9;
const USDT: Amount = 1_000_000;
/// 2026-11-01, 2026-12-01 and 2027-01-01 at 00:00:00 UTC: periods 1, 2 and 3 of the worked example.
const NOV: u64 = 1_793_491_200;
const DEC: u64 = 1_796_083_200;
const JAN: u64 = 1_798_761_600;

fn token() -> Address {
    named("USDT")
}

async fn ledger(p: BinaryParams) -> (ScratchDatabase, ChainLedger) {
    let db = ScratchDatabase::create("binary_test").await.unwrap();
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

fn key(block: u64) -> EventKey {
    EventKey { chain_id: CHAIN, tx_hash: B256::from(keccak256(block.to_be_bytes())), log_index: 0 }
}

fn registered(block: u64, time: u64, user: &str, sponsor: &str, usdt: Amount) -> ChainEvent {
    ChainEvent {
        contract: Address::ZERO,
        key: key(block),
        block_number: block,
        block_timestamp: time,
        body: EventBody::Registered {
            user: named(user),
            sponsor: named(sponsor),
            token: token(),
            amount: U256::from(usdt * USDT),
            nonce: U256::from(block),
        },
    }
}

fn bought(block: u64, time: u64, user: &str, usdt: Amount) -> ChainEvent {
    ChainEvent {
        contract: Address::ZERO,
        key: key(block),
        block_number: block,
        block_timestamp: time,
        body: EventBody::Retopped {
            user: named(user),
            token: token(),
            amount: U256::from(usdt * USDT),
            nonce: U256::from(block),
        },
    }
}

fn head(number: u64) -> BlockCursor {
    BlockCursor { number, hash: B256::from(keccak256(number.to_be_bytes())) }
}

/// "beneficiary:whole USDT" of the DIRECT credits of event `seq`, and the company's credit in whole USDT.
async fn event_rows(pool: &PgPool, seq: i64) -> (String, String) {
    let credits = sqlx::query_scalar(
        "SELECT COALESCE(string_agg(beneficiary_no || ':' || kind || ':' || div(amount, 1000000), ' ' ORDER BY reward_no), '-')
         FROM rewards WHERE asset_id = $1 AND event_seq = $2",
    )
    .bind(ASSET)
    .bind(seq)
    .fetch_one(pool)
    .await
    .unwrap();
    let company = sqlx::query_scalar(
        "SELECT div(COALESCE(sum(amount), 0), 1000000)::text || ' ' || string_agg(reason, ',') FROM company_credits
         WHERE asset_id = $1 AND event_seq = $2",
    )
    .bind(ASSET)
    .bind(seq)
    .fetch_one(pool)
    .await
    .unwrap();
    (credits, company)
}

/// "user_no<parent/side" of every placed member.
async fn placements(pool: &PgPool) -> String {
    text(
        pool,
        "SELECT string_agg(user_no || '<' || parent_no || '/' || side, ' ' ORDER BY user_no) FROM binary_nodes
         WHERE parent_no IS NOT NULL",
    )
    .await
}

fn engine(l: &ChainLedger) -> &BinaryEngine {
    l.plan_engine::<BinaryEngine>(ASSET).expect("a binary asset")
}

/// §7, first part, as stored rows: each event's placement, DIRECT credit and company rest; period 1 closed by the
/// first event of December, period 2 by the confirmed head's time with no event, each with its record and lines; A's
/// 12 USDT reserved and released when A becomes an active buyer; the balances and the company's total after event 10;
/// and a ledger reopened from the tables holding the same plan.
#[tokio::test]
async fn the_worked_example_is_stored_row_by_row() {
    let (db, mut l) = ledger(BinaryParams::defaults(6)).await;
    let pool = &db.pool;
    let t = NOV + 86_400;
    let period_1 = [
        registered(1, t, "A", "G", 100),
        registered(2, t + 1, "B", "G", 500),
        registered(3, t + 2, "C", "A", 1000),
        registered(4, t + 3, "D", "A", 100),
        registered(5, t + 4, "E", "G", 100),
        bought(6, t + 5, "B", 1000),
    ];
    let s = l.apply_block(&period_1).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (6, 0));
    // A=1 B=2 C=3 D=4 E=5: A left of G, B right of G, C left of A, D right of A, E left of B.
    assert_eq!(placements(pool).await, "1<0/left 2<0/right 3<1/left 4<1/right 5<2/left");
    let expected = [
        ("0:DIRECT:10", "90 binary_rest"),
        ("0:DIRECT:50", "450 binary_rest"),
        ("1:DIRECT:100", "900 binary_rest"),
        ("1:DIRECT:10", "90 binary_rest"),
        ("0:DIRECT:10", "90 binary_rest"),
        ("0:DIRECT:100", "900 binary_rest"),
    ];
    for (seq, (credits, company)) in expected.into_iter().enumerate() {
        assert_eq!(event_rows(pool, seq as i64).await, (credits.to_owned(), company.to_owned()), "#{}", seq + 1);
    }
    assert_eq!(count(pool, "binary_closes").await, 0, "November is open");
    assert_eq!(text(pool, "SELECT div(volume, 1000000)::text FROM binary_periods").await, "2800");

    // Period 2's first event closes period 1 first (at its block), then applies.
    let t = DEC + 86_400;
    let period_2 = [bought(7, t, "C", 5000), registered(8, t + 1, "F", "D", 500), bought(9, t + 2, "D", 1000)];
    l.apply_block(&period_2).await.unwrap();
    let close = "SELECT period_start || '-' || period_end || ' v' || plan_version || ' at ' || closing_block
                        || ' V=' || div(volume, 1000000) || ' C=' || div(company_before, 1000000)
                        || ' budget=' || div(budget, 1000000) || ' B=' || div(bonuses, 1000000)
                        || ' credited=' || div(credited, 1000000) || ' reserved=' || div(reserved, 1000000)
                 FROM binary_closes WHERE period = (SELECT min(period) FROM binary_closes) + $1";
    let first: String = sqlx::query_scalar(close).bind(0i64).fetch_one(pool).await.unwrap();
    assert_eq!(first, format!("{NOV}-{DEC} v1 at 7 V=2800 C=2520 budget=1400 B=10 credited=10 reserved=0"));
    let lines = "SELECT string_agg(user_no || ' ' || div(carry_left_before, 1000000) || '/' || div(carry_right_before, 1000000)
                           || '>' || div(carry_left_after, 1000000) || '/' || div(carry_right_after, 1000000)
                           || ' n=' || pairs || ' paid=' || paid || ' flushed=' || flushed || ' k=' || pairs_before
                           || ' full=' || full_pairs || ' bonus=' || div(bonus, 1000000) || ' b=' || div(scaled, 1000000)
                           || ' r=' || div(reserved, 1000000) || ' ' || div(rest, 1000000) || ' ' || rest_status,
                           '; ' ORDER BY user_no)
                 FROM binary_pair_lines WHERE period = (SELECT min(period) FROM binary_closes) + $1";
    let first: String = sqlx::query_scalar(lines).bind(0i64).fetch_one(pool).await.unwrap();
    assert_eq!(
        first,
        "1 1000/100>900/0 n=1 paid=1 flushed=0 k=0 full=1 bonus=10 b=10 r=0 10 pending; \
         2 100/0>100/0 n=0 paid=0 flushed=0 k=0 full=0 bonus=0 b=0 r=0 0 pending"
    );
    assert_eq!(
        event_rows(pool, 6).await,
        ("1:DIRECT:500".to_owned(), "4500 binary_rest".to_owned()),
        "#7 after the close's credits"
    );

    // No event in January's first days: the confirmed head's time closes December.
    l.apply_confirmed(&[], head(20), JAN - 1).await.unwrap();
    assert_eq!(count(pool, "binary_closes").await, 1, "December is open until its last second has passed");
    l.apply_confirmed(&[], head(21), JAN + 60).await.unwrap();
    let second: String = sqlx::query_scalar(close).bind(1i64).fetch_one(pool).await.unwrap();
    assert_eq!(second, format!("{DEC}-{JAN} v1 at 21 V=6500 C=8360 budget=3250 B=100 credited=100 reserved=12"));
    let second: String = sqlx::query_scalar(lines).bind(1i64).fetch_one(pool).await.unwrap();
    assert_eq!(
        second,
        "1 5900/1500>4400/0 n=15 paid=10 flushed=5 k=1 full=4 bonus=100 b=100 r=12 88 pending; \
         2 100/0>100/0 n=0 paid=0 flushed=0 k=0 full=0 bonus=0 b=0 r=0 0 pending; \
         4 500/0>500/0 n=0 paid=0 flushed=0 k=0 full=0 bonus=0 b=0 r=0 0 pending"
    );
    let pair_rows =
        "SELECT string_agg(beneficiary_no || ':' || div(amount, 1000000) || ':' || status, ' ' ORDER BY reward_no)
                     FROM rewards WHERE kind = 'BINARY_PAIR'";
    assert_eq!(text(pool, pair_rows).await, "1:10:pending 1:12:reserved 1:88:pending");
    let a =
        "SELECT div(paid_in, 1000000) || ' pending=' || div(pending, 1000000) || ' reserved=' || div(reserved, 1000000)
             FROM users WHERE user_no = 1";
    assert_eq!(text(pool, a).await, "100 pending=808 reserved=12");
    assert_eq!(text(pool, "SELECT active || ' ' || pairs_paid FROM binary_nodes WHERE user_no = 1").await, "false 11");

    // Period 3: A buys 500 and becomes an active buyer; its 12 reserved are released to pending in one movement.
    l.apply_block(&[bought(22, JAN + 86_400, "A", 500)]).await.unwrap();
    assert_eq!(event_rows(pool, 9).await, ("0:DIRECT:50".to_owned(), "450 binary_rest".to_owned()), "#10");
    assert_eq!(text(pool, pair_rows).await, "1:10:pending 1:12:pending 1:88:pending");
    assert_eq!(
        text(pool, "SELECT user_no || ' ' || div(amount, 1000000) || ' ' || status || ' seq ' || event_seq || ' at ' || block || ' ' || rewards::text FROM binary_releases").await,
        "1 12 pending seq 9 at 22 {10}"
    );
    // A: DIRECT 710 and BINARY_PAIR 110, all pending.
    assert_eq!(text(pool, a).await, "600 pending=820 reserved=0");
    assert_eq!(text(pool, "SELECT active || ' ' || pairs_paid FROM binary_nodes WHERE user_no = 1").await, "true 11");
    let standing = engine(&l).standing(1).unwrap();
    assert_eq!(standing.carries.map(|c| c / USDT), [4400, 0]);
    assert_eq!(engine(&l).standing(0).unwrap().legs.map(|c| c / USDT), [8200, 1600]);
    // The company: Σ rests less Σ credited at closes = 8710.
    assert_eq!(text(pool, "SELECT div(company_total, 1000000)::text FROM assets").await, "8710");
    assert_eq!(engine(&l).company() / USDT, 8710);

    // A ledger opened from the tables holds the same plan.
    let reopened = ChainLedger::open(pool.clone(), CHAIN).await.unwrap();
    let (e1, e2) = (engine(&l), engine(&reopened));
    for u in 0..e1.users().len() as u32 {
        assert_eq!(e1.standing(u), e2.standing(u), "user {u}");
    }
    assert_eq!(e1.stored(), e2.stored());
}

/// §7, second part: scaling to the budget, a frozen member's pair bonus held and its retained part reserved, then
/// released as held when the member becomes an active buyer; the freeze is an admin action the close sees.
#[tokio::test]
async fn scaling_freezing_and_retention_are_stored_and_the_release_is_held() {
    let p = BinaryParams { max_payout_bps: 100, free_pairs: 2, ..BinaryParams::defaults(6) };
    let (db, mut l) = ledger(p).await;
    let pool = &db.pool;
    let t = NOV + 86_400;
    let events = [
        registered(1, t, "A", "G", 1000),
        registered(2, t, "B", "G", 100),
        registered(3, t, "A1", "A", 1000),
        registered(4, t, "A2", "A", 1000),
        registered(5, t, "B1", "B", 500),
        registered(6, t, "B2", "B", 500),
    ];
    l.apply_block(&events).await.unwrap();
    ledger::admin::freeze(pool, ASSET, named("B"), "admin", "the worked example").await.unwrap();
    l.apply_confirmed(&[], head(7), DEC).await.unwrap();
    assert_eq!(
        text(pool, "SELECT div(volume, 1000000) || ' ' || div(company_before, 1000000) || ' ' || div(budget, 1000000) || ' ' || div(bonuses, 1000000) || ' ' || credited || ' ' || reserved FROM binary_closes").await,
        "4100 3690 41 150 40999999 1639999"
    );
    assert_eq!(
        text(pool, "SELECT string_agg(beneficiary_no || ':' || amount || ':' || status, ' ' ORDER BY reward_no) FROM rewards WHERE kind = 'BINARY_PAIR'").await,
        "1:27333333:pending 2:1639999:reserved 2:12026667:held"
    );
    assert_eq!(
        text(pool, "SELECT held || ' ' || reserved || ' ' || pending FROM users WHERE user_no = 2").await,
        "112026667 1639999 0",
        "B: its DIRECT from B1 and B2 (held by the freeze) and the pair bonus's held part; the reserved part"
    );
    // B buys 500: paid_in 600 ≥ 500, the reserved part is released as held (B is still frozen).
    l.apply_block(&[bought(8, DEC + 60, "B", 500)]).await.unwrap();
    assert_eq!(
        text(pool, "SELECT held || ' ' || reserved FROM users WHERE user_no = 2").await,
        format!("{} 0", 112_026_667 + 1_639_999)
    );
    assert_eq!(text(pool, "SELECT status || ' ' || amount FROM binary_releases").await, "held 1639999");
    assert_eq!(count(pool, "rewards WHERE status = 'reserved'").await, 0);
}

/// Deterministic pseudo-random binary events over several months (xorshift): registrations under random sponsors,
/// purchases of random packages, and amounts that are no package (quarantined).
fn stream(seed: u64, events: usize) -> Vec<ChainEvent> {
    let packages = [100, 500, 1000, 5000];
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut users = vec!["G".to_owned()];
    let mut out = Vec::with_capacity(events);
    let mut time = NOV;
    for i in 0..events {
        let block = i as u64 + 1;
        time += next() % 40_000;
        let package = packages[(next() % 4) as usize];
        let e = match next() % 10 {
            0..=5 => {
                let sponsor = users[(next() % users.len() as u64) as usize].clone();
                let user = format!("u{i}");
                users.push(user.clone());
                registered(block, time, &user, &sponsor, package)
            }
            6 => bought(block, time, &users[(next() % users.len() as u64) as usize], 300),
            _ => bought(block, time, &users[(next() % users.len() as u64) as usize], package),
        };
        out.push(e);
    }
    out
}

/// §6 on the stored rows: per event P = DIRECT + the company's credit; per close Σ BINARY_PAIR = credited ≤ budget ≤
/// C, and Σ reserved rows of it = reserved; the company's total = Σ company credits − Σ credited; every member's
/// reserved = Σ of their reserved rows; carries after ≤ before.
async fn check_invariants(pool: &PgPool) {
    let checks = [
        (
            "an event whose credits do not add up to its amount",
            "SELECT count(*) FROM ledger_events e
             WHERE e.amount <> (SELECT COALESCE(sum(amount), 0) FROM rewards r WHERE r.asset_id = e.asset_id AND r.event_seq = e.event_seq)
                             + (SELECT COALESCE(sum(amount), 0) FROM company_credits c WHERE c.asset_id = e.asset_id AND c.event_seq = e.event_seq)",
        ),
        (
            "a close whose credits are not its debit, or above its budget",
            "SELECT count(*) FROM binary_closes p
             WHERE p.credited <> (SELECT COALESCE(sum(amount), 0) FROM rewards r WHERE r.asset_id = p.asset_id AND r.period = p.period)
                OR p.credited > p.budget OR p.budget > p.company_before",
        ),
        (
            "the company's total is not its credits less the closes' debits",
            "SELECT count(*) FROM assets a WHERE company_total <> (SELECT COALESCE(sum(amount), 0) FROM company_credits)
                                                             - (SELECT COALESCE(sum(credited), 0) FROM binary_closes)",
        ),
        (
            "a member's reserved is not the sum of their reserved rows",
            "SELECT count(*) FROM users u
             WHERE u.reserved <> (SELECT COALESCE(sum(amount), 0) FROM rewards r
                                  WHERE r.asset_id = u.asset_id AND r.beneficiary_no = u.user_no AND r.status = 'reserved')
                OR u.reserved <> (SELECT n.reserved FROM binary_nodes n WHERE n.asset_id = u.asset_id AND n.user_no = u.user_no)",
        ),
        (
            "a line whose carries grew or whose pairs are not what the carries lost",
            "SELECT count(*) FROM binary_pair_lines
             WHERE carry_left_after > carry_left_before OR carry_right_after > carry_right_before
                OR carry_left_before - carry_left_after <> carry_right_before - carry_right_after",
        ),
    ];
    for (what, sql) in checks {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap();
        assert_eq!(n, 0, "{what}");
    }
}

/// Replays from an empty database reproduce every placement, credit and close: one batch per hundred events
/// (periods closed by events' blocks), and event by event with the confirmed head closing periods between events and
/// the ledger reopened from its tables halfway, give one digest; the stored rows keep §6.
#[tokio::test]
async fn replays_with_any_batching_reproduce_every_placement_credit_and_close() {
    let events = stream(0x51_7cc1_b727, 500);
    let (one, mut by_batch) = ledger(BinaryParams::defaults(6)).await;
    for chunk in events.chunks(100) {
        by_batch.apply_block(chunk).await.unwrap();
    }
    let (two, mut by_head) = ledger(BinaryParams::defaults(6)).await;
    for (i, e) in events.iter().enumerate() {
        let time = events.get(i + 1).map_or(e.block_timestamp, |n| n.block_timestamp - 1).max(e.block_timestamp);
        by_head.apply_confirmed(std::slice::from_ref(e), head(e.block_number), time).await.unwrap();
        if i == 250 {
            by_head = ChainLedger::open(two.pool.clone(), CHAIN).await.unwrap();
        }
    }
    let closes = count(&one.pool, "binary_closes").await;
    assert!(closes >= 3, "the stream spans several months: {closes} closes");
    assert!(count(&one.pool, "rewards WHERE kind = 'BINARY_PAIR'").await > 0, "pairs were matched and paid");
    assert!(count(&one.pool, "binary_releases").await > 0, "reserved pair bonuses were released");
    assert!(count(&one.pool, "quarantine").await > 0, "amounts that are no package were quarantined");
    assert_eq!(digest(&one.pool).await.unwrap(), digest(&two.pool).await.unwrap());
    check_invariants(&one.pool).await;
    check_invariants(&two.pool).await;
    // The engine rebuilt from the tables is the one that wrote them.
    let reopened = ChainLedger::open(one.pool.clone(), CHAIN).await.unwrap();
    assert_eq!(engine(&by_batch).stored(), engine(&reopened).stored());
}

/// The binary plan keeps its published withdrawal fee (PLAN-BINARY.md §0, PLAN-GENERATION.md §4; issue 66): an
/// entry settles E of the member's rewards and the contract pays E − ⌈E × withdrawal_fee_bps / 10000⌉, the fee the
/// company's once the batch settles, in the balance the next close scales pair bonuses to. The builder applied the
/// fee to the generation plan only: a binary batch paid E and kept nothing.
#[tokio::test]
async fn a_binary_payout_keeps_the_plans_withdrawal_fee_for_the_company() {
    let (db, mut l) = ledger(BinaryParams { withdrawal_fee_bps: 500, ..BinaryParams::defaults(6) }).await;
    let pool = &db.pool;
    let t = NOV + 86_400;
    // G is owed 10 + 50 = 60 USDT (DIRECT of A's and B's registrations), A 100 USDT (DIRECT of C's).
    let s = l
        .apply_block(&[
            registered(1, t, "A", "G", 100),
            registered(2, t + 1, "B", "G", 500),
            registered(3, t + 2, "C", "A", 1000),
        ])
        .await
        .unwrap();
    assert_eq!((s.applied, s.quarantined), (3, 0));
    // 60 × 5 % = 3, 100 × 5 % = 5.
    let built = ledger::payouts::build_batch(pool, ASSET, &ledger::payouts::BuildLimits::new(10, Amount::MAX))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(built.entries, vec![(named("G"), 57 * USDT), (named("A"), 95 * USDT)]);
    assert_eq!((built.total, built.fees), (152 * USDT, 8 * USDT));
    let hash = B256::repeat_byte(0xab);
    ledger::payouts::record_signed(pool, built.id, U256::from(9), hash, 1_900_000_000, &[1; 65]).await.unwrap();
    let company_before = engine(&l).company();
    let executed = ChainEvent {
        contract: Address::ZERO,
        key: key(4),
        block_number: 4,
        block_timestamp: t + 3,
        body: EventBody::PayoutBatchExecuted {
            nonce: U256::from(9),
            token: token(),
            payouts_hash: hash,
            total: U256::from(built.total),
            count: U256::from(2),
            deferred_count: U256::ZERO,
            deferred_total: U256::ZERO,
        },
    };
    let s = l.apply_block(&[executed]).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (1, 0));
    assert_eq!(
        text(pool, "SELECT string_agg(user_no || ' settled ' || settled, ', ' ORDER BY user_no) FROM user_balances WHERE settled > 0").await,
        "0 settled 60000000, 1 settled 100000000",
        "each entry settles its gross"
    );
    assert_eq!(
        text(pool, "SELECT reason || ' ' || amount || ' batch ' || batch_id FROM company_credits WHERE reason = 'withdrawal_fee'").await,
        format!("withdrawal_fee 8000000 batch {}", built.id)
    );
    assert_eq!(engine(&l).company(), company_before + 8 * USDT, "the fees are in the balance closes are scaled to");
    let reopened = ChainLedger::open(pool.clone(), CHAIN).await.unwrap();
    assert_eq!(engine(&reopened).company(), engine(&l).company());
}
