//! The sales plan's engine in memory (PLAN-SALES.md): `members` members in a random sponsor tree, then `sales` sales
//! in one month (seven in ten to customers, from a pool of customers three times the members, the rest members'
//! own purchases), every one matured, and the month's close over every member. Beside it in the same run, the
//! baselines: the auto-pool engine (PLAN.md) applying as many retopups among as many members (the apply rate), and
//! one plain pass over the same sales summing every level's share up the sponsor chain with no rank, no rounding
//! per member and no record (what any close must at least do).
//!
//! `cargo bench -p ledger --bench sales_close -- [members=100000] [sales=1000000]` (under `cargo test --all-targets`
//! a small smoke run). Seed 002 asks for commission processing under 5 minutes for 10,000 users.

use std::time::Instant;

use alloy::primitives::Address;
use ledger::plan::SaleEvent;
use ledger::plan::sales::{Due, SalesEngine, SalesEvent, SalesParams};
use ledger::plan::{PlanEngine, PlanEvent, PlanParams, PlanSchedule};

const USDT: u128 = 1_000_000;
/// 2026-11-01 and 2026-12-01 at 00:00:00 UTC.
const NOV: u64 = 1_793_491_200;
const DEC: u64 = 1_796_083_200;

fn addr(n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&(n + 1).to_be_bytes());
    Address::from(b)
}

/// A small deterministic generator (xorshift64*), so every run measures the same stream.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let mut numbers = std::env::args().skip(1).filter(|a| !a.starts_with("--")).filter_map(|a| a.parse::<u64>().ok());
    let members = numbers.next().unwrap_or(if full { 100_000 } else { 2_000 });
    let sales = numbers.next().unwrap_or(if full { 1_000_000 } else { 20_000 });
    let params = SalesParams::defaults(6);
    let mut rng = Rng(0x5eed_5a1e);

    // The sponsor tree, and the sales stream (buyer, named seller, amount, pv), generated before any clock starts.
    let sponsors: Vec<u64> = (1..=members).map(|m| rng.below(m)).collect();
    let stream: Vec<(Address, Address, u128, u64)> = (0..sales)
        .map(|_| {
            let amount = (1 + rng.below(500)) as u128 * USDT;
            let pv = amount as u64 / USDT as u64;
            if rng.below(10) < 7 {
                (addr(10_000_000 + rng.below(3 * members)), addr(1 + rng.below(members)), amount, pv)
            } else {
                let m = addr(1 + rng.below(members));
                (m, m, amount, pv)
            }
        })
        .collect();

    let mut e = SalesEngine::new(addr(0), PlanSchedule::new(params.clone()).unwrap());
    let mut block = 0;
    let step = (DEC - NOV - 20 * 86_400) / (members + sales).max(1);
    let mut t = NOV;
    for (i, s) in sponsors.iter().enumerate() {
        block += 1;
        t += step;
        let event = SalesEvent::Registration { user: addr(i as u64 + 1), sponsor: addr(*s), amount: 0 };
        e.advance(block, t);
        e.apply(block, t, &event).expect("a registration applies");
    }
    let started = Instant::now();
    for (id, (buyer, named, amount, pv)) in stream.iter().enumerate() {
        block += 1;
        t += step;
        let customer = e.user_no(buyer).is_none();
        let seller = if customer { e.attributed(buyer).or(e.user_no(named)) } else { None };
        let retail = if customer && seller != Some(0) { params.retail(*amount) } else { 0 };
        let sale = SaleEvent {
            buyer: *buyer,
            named_seller: *named,
            amount: *amount,
            pv: *pv,
            retail,
            sale_id: id as u64 + 1,
            refundable_until: t + params.refund_window,
        };
        e.advance(block, t);
        e.apply(block, t, &SalesEvent::Sale(sale)).expect("a sale applies");
    }
    let applied = started.elapsed().as_secs_f64();

    // Every sale matures (their windows end before the month does), then the close.
    let started = Instant::now();
    let due = e.advance(block + 1, DEC - 1);
    let matured = started.elapsed().as_secs_f64();
    assert_eq!(due.len() as u64, sales, "every sale matures before the month's end");
    let started = Instant::now();
    let due = e.advance(block + 2, DEC);
    let closing = started.elapsed().as_secs_f64();
    let [Due::Closed(close)] = due.as_slice() else { panic!("one close") };
    let paid = close.credits.len();

    // Baseline 1: the auto-pool engine, as many members, then as many retopups.
    let pool_params = PlanParams::defaults(6);
    let mut pool = PlanEngine::new(addr(0), PlanSchedule::new(pool_params.clone()).unwrap());
    for (i, s) in sponsors.iter().enumerate() {
        let event = PlanEvent::Registration {
            user: addr(i as u64 + 1),
            sponsor: addr(*s),
            amount: pool_params.registration_fee,
        };
        pool.apply(1, &event).expect("a registration applies");
    }
    let started = Instant::now();
    for _ in 0..sales {
        let event = PlanEvent::Retopup { user: addr(1 + rng.below(members)), amount: pool_params.retopup_fee };
        pool.apply(1, &event).expect("a retopup applies");
    }
    let pool_applied = started.elapsed().as_secs_f64();

    // Baseline 2: one pass summing every level's share of every sale up the chain.
    let started = Instant::now();
    let mut earned = vec![0u128; members as usize + 1];
    for (_, named, amount, _) in &stream {
        let mut at = u64::from_be_bytes(named.as_slice()[12..].try_into().unwrap()) - 1;
        for bps in &params.level_bps {
            if at == 0 {
                break;
            }
            at = sponsors[at as usize - 1];
            earned[at as usize] += amount * u128::from(*bps) / 10_000;
        }
    }
    let plain = started.elapsed().as_secs_f64();
    assert!(earned.iter().sum::<u128>() > 0);

    println!("sales plan engine, {members} members, {sales} sales in one month:");
    println!("  sales applied:              {:>10.0} /s ({applied:.2} s)", sales as f64 / applied);
    println!("  auto-pool retopups applied: {:>10.0} /s ({pool_applied:.2} s, baseline)", sales as f64 / pool_applied);
    println!("  ratio sales / auto-pool rate: {:.2}", pool_applied / applied);
    println!("  every sale matured:         {matured:>10.3} s");
    println!("  the month's close:          {closing:>10.3} s ({} lines, {paid} members paid)", close.lines.len());
    println!("  plain pass over the sales:  {plain:>10.3} s (baseline)");
    println!("  ratio close / plain pass:   {:.2}", closing / plain);
    if full {
        println!(
            "  seed 002: commissions for 10,000 users under 5 minutes: this close of {members} members and {sales} \
             sales took {closing:.2} s"
        );
    }
}
