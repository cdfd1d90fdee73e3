//! The sales plan (PLAN-SALES.md) through the Postgres ledger: the first worked example of §9 as stored rows — sales,
//! RETAIL rows maturing, reversed and matured, members' `maturing` balances, the refund's debit, the close's record
//! and lines, the custody figures — a quarantined sale its buyer takes back (under this plan and another), the engine
//! reloaded from the tables, replays with different batching reproducing every row (the digest), and the write guard
//! on maturing rows.

use crate::common::{count, named, text};
use alloy::primitives::{Address, B256, U256, keccak256};
use ledger::db::ScratchDatabase;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::Amount;
use ledger::plan::binary::BinaryParams;
use ledger::plan::sales::{SalesEngine, SalesParams};
use ledger::{AssetSpec, BlockCursor, ChainLedger, create_asset, digest};
use sqlx::PgPool;

const CHAIN: u64 = 31_337;
const ASSET: i32 = 11;
const USDT: Amount = 1_000_000;
const DAY: u64 = 86_400;
const WINDOW: u64 = 14 * DAY;
/// 2026-11-01 and 2026-12-01 at 00:00:00 UTC: period 1 of the worked example, and the next.
const NOV: u64 = 1_793_491_200;
const DEC: u64 = 1_796_083_200;

fn token() -> Address {
    named("USDT")
}

/// The test's asset (USDT, genesis G) on plan parameters `params`.
fn spec<P>(params: P) -> AssetSpec<P> {
    AssetSpec {
        id: ASSET,
        chain_id: CHAIN,
        token: token(),
        symbol: "USDT".into(),
        decimals: 6,
        genesis: named("G"),
        params,
    }
}

async fn scratch<P: ledger::plan::PlanRules + serde::Serialize>(p: P) -> (ScratchDatabase, ChainLedger) {
    let db = ScratchDatabase::create("sales_test").await.unwrap();
    create_asset(&db.pool, &spec(p)).await.unwrap();
    let ledger = ChainLedger::open(db.pool.clone(), CHAIN).await.unwrap();
    (db, ledger)
}

fn event(block: u64, time: u64, body: EventBody) -> ChainEvent {
    ChainEvent {
        contract: named("desk"),
        key: EventKey { chain_id: CHAIN, tx_hash: B256::from(keccak256(block.to_be_bytes())), log_index: 0 },
        block_number: block,
        block_timestamp: time,
        body,
    }
}

fn registered(block: u64, time: u64, user: &str, sponsor: &str) -> ChainEvent {
    let body = EventBody::Registered {
        user: named(user),
        sponsor: named(sponsor),
        token: token(),
        amount: U256::ZERO,
        nonce: U256::from(block),
    };
    event(block, time, body)
}

/// Sale `id` of `usdt` (pv the same) bought by `buyer` naming `seller`, with the signed retail commission `retail`
/// (whole USDT), refundable for 14 days.
fn sold(block: u64, time: u64, id: u64, buyer: &str, seller: &str, usdt: Amount, retail: Amount) -> ChainEvent {
    let body = EventBody::Sold {
        id: U256::from(id),
        buyer: named(buyer),
        seller: named(seller),
        token: token(),
        amount: U256::from(usdt * USDT),
        retail: U256::from(retail * USDT),
        pv: U256::from(usdt),
        order_ref: B256::from(keccak256(id.to_be_bytes())),
        refundable_until: U256::from(time + WINDOW),
    };
    event(block, time, body)
}

fn refunded(block: u64, time: u64, id: u64, buyer: &str, usdt: Amount) -> ChainEvent {
    let body = EventBody::Refunded {
        id: U256::from(id),
        buyer: named(buyer),
        token: token(),
        amount: U256::from(usdt * USDT),
    };
    event(block, time, body)
}

fn head(number: u64) -> BlockCursor {
    BlockCursor { number, hash: B256::from(keccak256(number.to_be_bytes())) }
}

fn engine(l: &ChainLedger) -> &SalesEngine {
    l.plan_engine::<SalesEngine>(ASSET).expect("a sales asset")
}

/// "user:KIND:whole USDT:status" of every reward, in number order.
async fn rewards(pool: &PgPool) -> String {
    text(
        pool,
        "SELECT string_agg(beneficiary_no || ':' || kind || ':' || div(amount, 1000000) || ':' || status, ' '
                           ORDER BY reward_no) FROM rewards",
    )
    .await
}

/// "user maturing/pending" in whole USDT of every member with either, in number order.
async fn balances(pool: &PgPool) -> String {
    text(
        pool,
        "SELECT string_agg(user_no || ' ' || div(maturing, 1000000) || '/' || div(pending, 1000000), ', ' ORDER BY user_no)
         FROM users WHERE maturing > 0 OR pending > 0",
    )
    .await
}

async fn figures(pool: &PgPool) -> ledger::figures::LedgerFigures {
    let snapshot = ledger::figures::read_at(pool, CHAIN, &[token()], None).await.unwrap();
    snapshot.assets.into_iter().next().expect("the asset's figures").1
}

/// PLAN-SALES.md §9's first example: rows 1–9 as stored rows, the maturities and the close at E_1, the custody
/// figures on the way, and a ledger reopened from its tables holding the same plan.
#[tokio::test]
async fn the_worked_example_is_stored_row_by_row() {
    let (db, mut l) = scratch(SalesParams::defaults(6)).await;
    let pool = &db.pool;
    let events = [
        registered(1, NOV + DAY, "A", "G"),
        registered(2, NOV + 2 * DAY, "B", "A"),
        registered(3, NOV + 3 * DAY, "C", "B"),
        sold(4, NOV + 4 * DAY, 4, "X", "C", 300, 60),
        sold(5, NOV + 5 * DAY, 5, "C", "C", 100, 0),
        sold(6, NOV + 6 * DAY, 6, "Y", "B", 500, 100),
        sold(7, NOV + 7 * DAY, 7, "X", "A", 200, 40),
        refunded(8, NOV + 8 * DAY, 6, "Y", 500),
        sold(9, NOV + 9 * DAY, 9, "Z", "A", 1000, 200),
    ];
    let s = l.apply_confirmed(&events, head(9), NOV + 9 * DAY).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (9, 0));
    // A=1 B=2 C=3. Every RETAIL row maturing but B's, reversed by the refund.
    assert_eq!(
        rewards(pool).await,
        "3:RETAIL:60:maturing 2:RETAIL:100:reversed 3:RETAIL:40:maturing 1:RETAIL:200:maturing"
    );
    assert_eq!(balances(pool).await, "1 200/0, 3 100/0");
    assert_eq!(
        text(pool, "SELECT string_agg(sale_id || ':' || seller_no || ':' || customer || ':' || state, ' ' ORDER BY sale_id) FROM sales").await,
        "4:3:true:open 5:3:false:open 6:2:true:refunded 7:3:true:open 9:1:true:open"
    );
    assert_eq!(
        text(
            pool,
            "SELECT string_agg(encode(address, 'hex') || '>' || member_no, ' ' ORDER BY member_no) FROM sales_customers"
        )
        .await,
        format!("{}>1 {}>2 {}>3", hex(named("Z")), hex(named("Y")), hex(named("X")))
    );
    // The events' records: a sale's user is its seller; the refund's amount is what left custody.
    assert_eq!(
        text(pool, "SELECT string_agg(kind || ':' || user_no || ':' || div(amount, 1000000), ' ' ORDER BY event_seq) FROM ledger_events").await,
        "registration:1:0 registration:2:0 registration:3:0 sale:3:300 sale:3:100 sale:2:500 sale:3:200 refund:2:500 sale:1:1000"
    );
    // Company: +240 +100 +400 +160 −400 +800.
    assert_eq!(text(pool, "SELECT div(company_total, 1000000)::text FROM assets").await, "1300");
    // Custody: 2100 in, 500 refunded; owed: the 300 still maturing.
    let f = figures(pool).await;
    assert_eq!((f.inflows, f.refunds), (U256::from(2100 * USDT), U256::from(500 * USDT)));
    assert_eq!(f.expected_balance(), alloy::primitives::I256::try_from(1600 * USDT).unwrap());
    assert_eq!(f.liabilities, U256::from(300 * USDT));

    // Sale 4 matures at its T (day 18) and nothing else; the head after day 23 (sale 9's T) matures every sale and
    // closes period 1 at E_1 = max(December 1st, day 23) = December 1st.
    l.apply_confirmed(&[], head(10), NOV + 18 * DAY).await.unwrap();
    assert_eq!(
        rewards(pool).await,
        "3:RETAIL:60:pending 2:RETAIL:100:reversed 3:RETAIL:40:maturing 1:RETAIL:200:maturing"
    );
    assert_eq!(balances(pool).await, "1 200/0, 3 40/60");
    assert_eq!(text(pool, "SELECT state || ' at ' || matured_block FROM sales WHERE sale_id = 4").await, "final at 10");
    l.apply_confirmed(&[], head(11), NOV + 24 * DAY).await.unwrap();
    assert_eq!(count(pool, "sales_closes").await, 0, "period 1 closes at the month's end");
    l.apply_confirmed(&[], head(12), DEC).await.unwrap();
    assert_eq!(
        rewards(pool).await,
        "3:RETAIL:60:pending 2:RETAIL:100:reversed 3:RETAIL:40:pending 1:RETAIL:200:pending 1:UNILEVEL:15:pending"
    );
    assert_eq!(balances(pool).await, "1 0/215, 3 0/100");
    assert_eq!(
        text(pool, "SELECT period_start || '-' || period_end || ' due ' || due || ' v' || plan_version || ' at ' || closing_block
                       || ' S=' || div(sales, 1000000) || ' Q=' || div(budget, 1000000) || ' C=' || div(company_before, 1000000)
                       || ' U=' || div(earned, 1000000) || ' credited=' || div(credited, 1000000) FROM sales_closes").await,
        format!("{NOV}-{DEC} due {DEC} v1 at 12 S=1600 Q=640 C=1300 U=15 credited=15")
    );
    assert_eq!(
        text(pool, "SELECT string_agg(user_no || ' pv=' || pv || ' cv=' || cv || ' gv=' || gv || ' rank=' || coalesce(rank::text, '-')
                               || ' u=' || div(earned, 1000000) || '/' || div(credited, 1000000), '; ' ORDER BY user_no)
                    FROM sales_close_lines").await,
        "0 pv=0 cv=0 gv=1600 rank=- u=0/0; 1 pv=1000 cv=1000 gv=1600 rank=1 u=15/15; 2 pv=0 cv=0 gv=600 rank=- u=0/0; \
         3 pv=600 cv=500 gv=600 rank=0 u=0/0"
    );
    assert_eq!(text(pool, "SELECT div(company_total, 1000000)::text FROM assets").await, "1285");
    assert_eq!(figures(pool).await.liabilities, U256::from(315 * USDT));
    assert_eq!(engine(&l).company() / USDT, 1285);
    // The disclosure nets members' own purchases: C received 100 and bought 100 for itself (net 0), B nothing, A 215.
    let d = ledger::disclosure::disclosure(pool, ASSET).await.unwrap();
    assert_eq!((d.participants, d.received_at_least_paid_in, d.median_net), (3, 3, Some(0)));

    // A ledger opened from the tables holds the same plan.
    let reopened = ChainLedger::open(pool.clone(), CHAIN).await.unwrap();
    assert_eq!(engine(&l).stored(), engine(&reopened).stored());
}

fn hex(a: Address) -> String {
    alloy::hex::encode(a)
}

/// A sale the plan refuses (a customer naming a seller who is no member) is held in suspense; its buyer takes it
/// back inside the window: the quarantine row is resolved by the refund, no balance moves, and a second refund of it
/// is quarantined. Under another plan (binary) every sale is refused the same way, and taken back the same way.
#[tokio::test]
async fn a_quarantined_sale_is_taken_back_by_its_buyer_under_any_plan() {
    for plan in ["sales", "binary"] {
        let (db, mut l) = match plan {
            "sales" => scratch(SalesParams::defaults(6)).await,
            _ => scratch(BinaryParams::defaults(6)).await,
        };
        let pool = &db.pool;
        let t = NOV + DAY;
        // In the same batch as the sale, and in a later one.
        let first = [sold(1, t, 1, "X", "nobody", 100, 20), refunded(2, t + 1, 1, "X", 100)];
        let s = l.apply_confirmed(&first, head(2), t + 1).await.unwrap();
        assert_eq!((s.applied, s.quarantined), (1, 1), "{plan}: the sale quarantined, its refund applied");
        l.apply_confirmed(&[sold(3, t + 2, 3, "X", "nobody", 50, 10)], head(3), t + 2).await.unwrap();
        let s = l.apply_confirmed(&[refunded(4, t + 3, 3, "X", 50)], head(4), t + 3).await.unwrap();
        assert_eq!((s.applied, s.quarantined), (1, 0), "{plan}");
        let quarantine = "SELECT string_agg(reason_code || ':' || (resolved_at IS NOT NULL) || ':' || coalesce(taken_back_log::text, '-'), ' '
                                     ORDER BY tx_hash) FROM quarantine";
        let expected = if plan == "sales" { "unknown_seller" } else { "not_in_this_plan" };
        assert_eq!(text(pool, quarantine).await, format!("{expected}:true:0 {expected}:true:0"), "{plan}");
        // A second refund of the same sale (the contract refuses one; a forged log would not be refused here).
        let s = l.apply_confirmed(&[refunded(5, t + 4, 3, "X", 50)], head(5), t + 4).await.unwrap();
        assert_eq!((s.applied, s.quarantined), (0, 1), "{plan}");
        assert_eq!(count(pool, "quarantine WHERE reason_code = 'refund_not_open' AND resolved_at IS NULL").await, 1);
        assert_eq!(count(pool, "rewards").await, 0, "{plan}: no credit");
        assert_eq!(text(pool, "SELECT company_total::text FROM assets").await, "0", "{plan}");
        // Custody: 150 in, 150 out (the forged second refund counts as custody moved: the reconciler compares).
        let f = figures(pool).await;
        assert_eq!((f.inflows, f.refunds), (U256::from(150 * USDT), U256::from(200 * USDT)), "{plan}");
    }
}

/// A seeded stream of registrations, customer and member sales and refunds inside their windows over three months;
/// each sale signed with the retail commission the plan gives it (the signer's job), so none is quarantined.
fn stream(seed: u64, n: usize) -> Vec<ChainEvent> {
    let p = SalesParams::defaults(6);
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut members = vec!["G".to_owned()];
    let mut attributed: std::collections::HashMap<String, String> = Default::default();
    let mut open: Vec<(u64, String, Amount, u64)> = Vec::new();
    let mut out = Vec::new();
    let mut time = NOV + DAY;
    for i in 0..n {
        let block = i as u64 + 1;
        time += next() % (DAY / 2);
        open.retain(|s| s.3 > time);
        let e = match next() % 10 {
            0..=2 => {
                let sponsor = members[(next() % members.len() as u64) as usize].clone();
                let user = format!("M{i}");
                attributed.remove(&user);
                members.push(user.clone());
                registered(block, time, &user, &sponsor)
            }
            3 if !open.is_empty() => {
                let (id, buyer, usdt, _) = open.swap_remove((next() % open.len() as u64) as usize);
                refunded(block, time, id, &buyer, usdt)
            }
            4 => {
                let buyer = members[(next() % members.len() as u64) as usize].clone();
                let usdt = 10 + next() % 500;
                open.push((block, buyer.clone(), usdt as Amount, time + WINDOW));
                sold(block, time, block, &buyer, &buyer, usdt as Amount, 0)
            }
            _ => {
                let buyer = format!("X{}", next() % 40);
                if members.contains(&buyer) {
                    continue;
                }
                let named = members[(next() % members.len() as u64) as usize].clone();
                let seller = attributed.entry(buyer.clone()).or_insert(named.clone()).clone();
                let usdt = (10 + next() % 800) as Amount;
                let retail = if seller == "G" { 0 } else { p.retail(usdt * USDT) };
                open.push((block, buyer.clone(), usdt, time + WINDOW));
                let mut e = sold(block, time, block, &buyer, &named, usdt, 0);
                if let EventBody::Sold { retail: r, .. } = &mut e.body {
                    *r = U256::from(retail);
                }
                e
            }
        };
        out.push(e);
    }
    out
}

/// §8 on the stored rows: a sale's amount = its credits + the company's; a refund reverses exactly its sale's RETAIL
/// row; a RETAIL row is maturing exactly while its sale is open and reversed exactly when it was refunded; every
/// member's maturing balance is the sum of their maturing rows; a close credits its debit, within its budget; the
/// company's total = Σ credits − Σ closes' debits − Σ refunds' debits.
async fn check_invariants(pool: &PgPool) {
    let checks = [
        (
            "a sale whose credits do not add up to its amount",
            "SELECT count(*) FROM ledger_events e WHERE e.kind = 'sale' AND
               e.amount <> (SELECT COALESCE(sum(amount), 0) FROM rewards r WHERE r.asset_id = e.asset_id AND r.event_seq = e.event_seq)
                         + (SELECT COALESCE(sum(amount), 0) FROM company_credits c WHERE c.asset_id = e.asset_id AND c.event_seq = e.event_seq)",
        ),
        (
            "a RETAIL row whose status is not its sale's",
            "SELECT count(*) FROM sales s JOIN rewards r ON (r.asset_id, r.reward_no) = (s.asset_id, s.retail_reward)
             WHERE (s.state = 'open') <> (r.status = 'maturing') OR (s.state = 'refunded') <> (r.status = 'reversed')
                OR r.amount <> s.retail OR r.beneficiary_no <> s.seller_no",
        ),
        (
            "a member's maturing balance is not the sum of their maturing rows",
            "SELECT count(*) FROM users u
             WHERE u.maturing <> (SELECT COALESCE(sum(amount), 0) FROM rewards r
                                  WHERE r.asset_id = u.asset_id AND r.beneficiary_no = u.user_no AND r.status = 'maturing')",
        ),
        (
            "a close whose credits are not its debit, or above its budget",
            "SELECT count(*) FROM sales_closes p
             WHERE p.credited <> (SELECT COALESCE(sum(amount), 0) FROM rewards r WHERE r.asset_id = p.asset_id AND r.period = p.period)
                OR p.credited > p.budget",
        ),
        (
            "the company's total is not its credits less the closes' and the refunds' debits",
            "SELECT count(*) FROM assets a WHERE company_total <> (SELECT COALESCE(sum(amount), 0) FROM company_credits)
                                                             - (SELECT COALESCE(sum(credited), 0) FROM sales_closes)
                                                             - (SELECT COALESCE(sum(amount - retail), 0) FROM sales WHERE state = 'refunded')",
        ),
    ];
    for (what, sql) in checks {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap();
        assert_eq!(n, 0, "{what}");
    }
}

/// Replays from an empty database reproduce every sale, maturity, refund and close: one batch per fifty events
/// (due items processed at events' blocks), and event by event with the confirmed head's time passing between events
/// and the ledger reopened from its tables halfway, give one digest; the stored rows keep §8.
#[tokio::test]
async fn replays_with_any_batching_reproduce_every_sale_maturity_and_close() {
    let events = stream(0x5a1e_5eed, 600);
    let (one, mut by_batch) = scratch(SalesParams::defaults(6)).await;
    for chunk in events.chunks(50) {
        by_batch.apply_block(chunk).await.unwrap();
    }
    let (two, mut by_head) = scratch(SalesParams::defaults(6)).await;
    for (i, e) in events.iter().enumerate() {
        let time = events.get(i + 1).map_or(e.block_timestamp, |n| n.block_timestamp - 1).max(e.block_timestamp);
        by_head.apply_confirmed(std::slice::from_ref(e), head(e.block_number), time).await.unwrap();
        if i == 300 {
            by_head = ChainLedger::open(two.pool.clone(), CHAIN).await.unwrap();
        }
    }
    assert_eq!(count(&one.pool, "quarantine").await, 0, "every sale was signed as the plan prices it");
    let closes = count(&one.pool, "sales_closes").await;
    assert!(closes >= 2, "the stream spans several months: {closes} closes");
    assert!(count(&one.pool, "rewards WHERE kind = 'UNILEVEL'").await > 0, "closes paid commissions");
    assert!(count(&one.pool, "sales WHERE state = 'refunded'").await > 0, "sales were taken back");
    assert!(count(&one.pool, "rewards WHERE status = 'reversed'").await > 0, "RETAIL rows were reversed");
    assert_eq!(digest(&one.pool).await.unwrap(), digest(&two.pool).await.unwrap());
    check_invariants(&one.pool).await;
    check_invariants(&two.pool).await;
    let reopened = ChainLedger::open(one.pool.clone(), CHAIN).await.unwrap();
    assert_eq!(engine(&by_batch).stored(), engine(&reopened).stored());
}

/// Insiders with the database cannot make a maturing commission payable before its sale is final, revive a reversed
/// one, or rewrite a close: the guards refuse and nothing changes.
#[tokio::test]
async fn maturing_and_reversed_rows_and_closes_refuse_edits() {
    let (db, mut l) = scratch(SalesParams::defaults(6)).await;
    let pool = &db.pool;
    let events = [
        registered(1, NOV + DAY, "A", "G"),
        sold(2, NOV + 2 * DAY, 2, "X", "A", 100, 20),
        sold(3, NOV + 3 * DAY, 3, "Y", "A", 100, 20),
        refunded(4, NOV + 4 * DAY, 3, "Y", 100),
    ];
    l.apply_block(&events).await.unwrap();
    l.apply_confirmed(&[], head(5), DEC + WINDOW).await.unwrap();
    let before = rewards(pool).await;
    assert_eq!(before, "1:RETAIL:20:pending 1:RETAIL:20:reversed");
    let refused = [
        "UPDATE rewards SET status = 'pending' WHERE status = 'reversed'",
        "UPDATE rewards SET status = 'maturing' WHERE status = 'pending'",
        "UPDATE sales_closes SET credited = 0",
    ];
    for sql in refused {
        let e = sqlx::query(sql).execute(pool).await.expect_err(sql);
        assert!(e.to_string().contains("refused") || e.to_string().contains("not a sale"), "{sql}: {e}");
    }
    assert_eq!(rewards(pool).await, before);
}

/// The audited creation (the console's and `referral-asset`'s) refuses the sales plan while the members' exit cannot
/// pay maturing commissions: nothing is created, nothing audited.
#[tokio::test]
async fn the_audited_creation_refuses_the_sales_plan_for_now() {
    let db = ScratchDatabase::create("sales_test").await.unwrap();
    let refused = ledger::admin::create_asset(&db.pool, &spec(SalesParams::defaults(6)), "admin").await.unwrap_err();
    assert!(matches!(&refused, ledger::admin::AdminError::Refused { code: "plan_not_offered", .. }), "{refused:?}");
    assert_eq!(count(&db.pool, "assets").await, 0);
    assert_eq!(count(&db.pool, "audit_logs").await, 0);
}

/// A sales-plan asset's epoch of the proof of solvency: every leaf a 0x03 one whose sixth component is the member's
/// maturing commissions, the total the reconciler's liabilities (maturing included), every stored proof folding to
/// the stored root only as a six-component leaf.
#[tokio::test]
async fn a_sales_assets_solvency_leaves_count_maturing_commissions() {
    use ledger::solvency::tree::{Node, TreeContext, fold, leaf_hash, salt};
    const CONTRACT: Address = Address::repeat_byte(0xcc);
    const KEY: [u8; 32] = [5; 32];
    let (db, mut l) = scratch(SalesParams::defaults(6)).await;
    let pool = &db.pool;
    let events = [
        registered(1, NOV + DAY, "A", "G"),
        registered(2, NOV + 2 * DAY, "B", "A"),
        sold(3, NOV + 3 * DAY, 3, "X", "B", 300, 60),
        sold(4, NOV + 4 * DAY, 4, "Y", "A", 500, 100),
        refunded(5, NOV + 5 * DAY, 4, "Y", 500),
        sold(6, NOV + 6 * DAY, 6, "Z", "A", 1000, 200),
    ];
    l.apply_confirmed(&events, head(6), NOV + 6 * DAY).await.unwrap();
    let epoch = ledger::solvency::build(pool, ASSET, 1, CONTRACT, KEY).await.unwrap().expect("built");
    let f = figures(pool).await;
    assert_eq!(f.liabilities, U256::from(260 * USDT), "B's 60 and A's 200 maturing; A's 100 reversed");
    assert_eq!(U256::from(epoch.total), f.liabilities, "the tree's total is the reconciler's, maturing included");
    let ctx = TreeContext { chain_id: CHAIN, contract: CONTRACT, token: token(), epoch: 1 };
    for (who, maturing) in [("G", 0), ("A", 200 * USDT), ("B", 60 * USDT)] {
        let user = named(who);
        let proof = ledger::solvency::proof_in(pool, epoch.clone(), user).await.unwrap().expect("a leaf");
        assert_eq!(proof.balances.maturing, Some(maturing), "{who}");
        assert_eq!(proof.balances.leaf_tag(), 0x03);
        let root = Some(Node { hash: epoch.root, sum: epoch.total });
        let leaf = |b| Node { hash: leaf_hash(&ctx, user, &b, salt(&KEY, &ctx, user)), sum: b.value().unwrap() };
        assert_eq!(fold(leaf(proof.balances), proof.index, &proof.siblings), root, "{who}");
        // The same figures as a five-component leaf are not in the tree.
        let five = ledger::solvency::tree::Balances { maturing: None, ..proof.balances };
        assert_ne!(fold(leaf(five), proof.index, &proof.siblings), root, "{who}");
    }
    // At maturity the commissions move to pending: the next epoch's leaves say so, the total unchanged.
    l.apply_confirmed(&[], head(7), NOV + 21 * DAY).await.unwrap();
    ledger::solvency::mark_failed(pool, epoch.id, "replaced by the next round").await.unwrap();
    let second = ledger::solvency::build(pool, ASSET, 1, CONTRACT, KEY).await.unwrap().expect("built");
    assert_eq!(second.total, epoch.total);
    let a = ledger::solvency::proof_in(pool, second, named("A")).await.unwrap().unwrap();
    assert_eq!((a.balances.maturing, a.balances.pending), (Some(0), 200 * USDT));
}
