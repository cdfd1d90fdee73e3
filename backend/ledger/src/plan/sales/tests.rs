//! The sales plan against PLAN-SALES.md: both worked examples of §9 row by row, the quarantine and refund rules of
//! §3–§4, the order of due items, and the invariants of §8 on random sequences of registrations, sales, refunds,
//! freezes, leaves and the passing of time.

use std::collections::HashMap;

use alloy::primitives::Address;
use proptest::prelude::*;

use super::*;
use crate::plan::binary::PeriodKind;
use crate::plan::params::{PlanSchedule, PlanVersion};

const USDT: Amount = 1_000_000;
const DAY: u64 = 86_400;
const WINDOW: u64 = 14 * DAY;
/// 2026-11-01, 2026-12-01 and 2027-01-01 at 00:00:00 UTC.
const NOV: u64 = 1_793_491_200;
const DEC: u64 = 1_796_083_200;
const JAN: u64 = 1_798_761_600;

fn addr(n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&(n + 1).to_be_bytes());
    Address::from(b)
}

/// Wallets of customers: never members in these tests unless they register.
fn customer(n: u64) -> Address {
    addr(1_000_000 + n)
}

/// The engine with its confirmed blocks: every event comes in a new block, after the block's due items.
struct Chain {
    e: SalesEngine,
    block: u64,
    due: Vec<Due>,
    next_sale: u64,
}

impl Chain {
    fn new(params: SalesParams) -> Self {
        Self {
            e: SalesEngine::new(addr(0), PlanSchedule::new(params).expect("a valid plan")),
            block: 0,
            due: Vec::new(),
            next_sale: 1,
        }
    }

    /// A confirmed block at `t` with no event (a head): its due items.
    fn head(&mut self, t: u64) -> Vec<Due> {
        self.block += 1;
        let due = self.e.advance(self.block, t);
        self.due.extend(due.clone());
        due
    }

    fn event(&mut self, t: u64, event: &SalesEvent) -> Result<SalesOutcome, Rejection> {
        self.head(t);
        self.e.apply(self.block, t, event)
    }

    fn register(&mut self, t: u64, user: u64, sponsor: u64) {
        let event = SalesEvent::Registration { user: addr(user), sponsor: addr(sponsor), amount: 0 };
        let SalesOutcome::Registered(out) = self.event(t, &event).expect("applied") else { panic!("a registration") };
        assert!(out.credits.is_empty(), "§2: no credit comes from a registration");
        out.check_conservation().unwrap();
    }

    /// The sale the signer would sign: the r the plan gives it at this block (§3 step 1).
    fn signed(&self, buyer: Address, seller: Address, usdt: Amount, pv: u64, t: u64) -> SaleEvent {
        let amount = usdt * USDT;
        let customer = self.e.user_no(&buyer).is_none();
        let m = if customer { self.e.attributed(&buyer).or(self.e.user_no(&seller)) } else { None };
        let retail =
            if customer && m != Some(0) { self.e.schedule().at(self.block + 1).params.retail(amount) } else { 0 };
        SaleEvent {
            buyer,
            named_seller: seller,
            amount,
            pv,
            retail,
            sale_id: self.next_sale,
            refundable_until: t + WINDOW,
        }
    }

    fn sell(&mut self, t: u64, buyer: Address, seller: u64, usdt: Amount, pv: u64) -> SaleOutcome {
        let sale = self.signed(buyer, addr(seller), usdt, pv, t);
        self.next_sale += 1;
        let SalesOutcome::Sold(out) = self.event(t, &SalesEvent::Sale(sale)).expect("applied") else {
            panic!("a sale")
        };
        out
    }

    fn refund(&mut self, t: u64, sale_id: u64) -> Result<SalesOutcome, Rejection> {
        self.event(t, &SalesEvent::Refund { sale_id })
    }
}

/// (seller, whole USDT of its RETAIL row or 0, the company's whole USDT, q in whole USDT) of a sale.
fn sold(o: &SaleOutcome) -> (UserNo, Amount, Amount, Amount) {
    assert!(o.credits.iter().all(|c| c.kind == RewardKind::Retail && c.status == RewardStatus::Maturing));
    let company: Amount = o.company.iter().map(|c| c.amount).sum();
    let retail: Amount = o.credits.iter().map(|c| c.amount).sum();
    assert_eq!(retail + company, o.sale.amount, "§8.2: a = r + the company's credit");
    (o.sale.seller, retail / USDT, company / USDT, o.sale.reserve / USDT)
}

#[test]
fn the_first_worked_example_row_by_row() {
    let mut c = Chain::new(SalesParams::defaults(6));
    let (g, a, b, cc) = (0, 1, 2, 3);
    let (x, y, z) = (customer(1), customer(2), customer(3));
    // Rows 1–3: registrations pay the company the fee of 0 and nobody else.
    c.register(NOV + DAY, a, g);
    c.register(NOV + 2 * DAY, b, a);
    c.register(NOV + 3 * DAY, cc, b);
    assert_eq!(c.e.company(), 0);
    // Row 4: X buys 300 naming C: C's customer from now on.
    let s4 = c.sell(NOV + 4 * DAY, x, cc, 300, 300);
    assert_eq!(sold(&s4), (3, 60, 240, 120));
    assert!(s4.sale.customer);
    assert_eq!(s4.attributed, Some(3));
    assert_eq!(c.e.attributed(&x), Some(3));
    // Row 5: C buys 100 for itself: a member sale, no commission.
    let s5 = c.sell(NOV + 5 * DAY, addr(cc), cc, 100, 100);
    assert_eq!(sold(&s5), (3, 0, 100, 40));
    assert!(!s5.sale.customer);
    // Row 6: Y buys 500 naming B.
    let s6 = c.sell(NOV + 6 * DAY, y, b, 500, 500);
    assert_eq!(sold(&s6), (2, 100, 400, 200));
    // Row 7: X buys 200 naming A: C's sale, X being C's customer.
    let s7 = c.sell(NOV + 7 * DAY, x, a, 200, 200);
    assert_eq!(sold(&s7), (3, 40, 160, 80));
    assert_eq!(s7.attributed, None, "the attribution was fixed by row 4");
    // Row 8: Y takes sale 6 back inside its window.
    let SalesOutcome::Refunded(r8) = c.refund(NOV + 8 * DAY, s6.sale.id).expect("open") else { panic!() };
    assert_eq!((r8.buyer, r8.amount, r8.company_debit), (y, 500 * USDT, 400 * USDT));
    assert_eq!(r8.reversed, s6.sale.retail_reward);
    // Row 9: Z buys 1000 naming A.
    let s9 = c.sell(NOV + 9 * DAY, z, a, 1000, 1000);
    assert_eq!(sold(&s9), (1, 200, 800, 400));
    assert_eq!(c.e.company(), 1_300 * USDT);
    // H: a − r of the open sales 4, 5, 7 and 9; no final sale yet.
    assert_eq!(c.e.held(), (240 + 100 + 160 + 800) * USDT);

    // Each sale matures 14 days after its block: C's 60 and 40 and A's 200 become pending.
    let due = c.head(NOV + 4 * DAY + WINDOW);
    assert_eq!(due.len(), 1);
    let Due::Matured(m4) = &due[0] else { panic!() };
    assert_eq!(m4.retail, Some((s4.sale.retail_reward.unwrap(), 3, 60 * USDT, RewardStatus::Pending)));
    let due = c.head(NOV + 9 * DAY + WINDOW);
    let matured: Vec<u64> = due
        .iter()
        .map(|d| match d {
            Due::Matured(m) => m.sale_id,
            Due::Closed(_) => panic!("the month has not ended"),
        })
        .collect();
    assert_eq!(matured, vec![s5.sale.id, s7.sale.id, s9.sale.id], "in the order of T; sale 6 was taken back");
    assert_eq!(c.e.held(), (120 + 40 + 80 + 400) * USDT, "every sale final: H is the reserve Q_1");
    assert!(matches!(c.refund(NOV + 24 * DAY, s9.sale.id), Err(Rejection::RefundNotOpen { .. })), "final");

    // The close, at E_1 = the month's end (later than every T).
    let due = c.head(DEC);
    let [Due::Closed(close)] = due.as_slice() else { panic!("one close: {due:?}") };
    assert_eq!((close.start, close.end, close.due), (NOV, DEC, DEC));
    assert_eq!(close.budget, 640 * USDT, "Q_1 = 120 + 40 + 80 + 400: sale 6's 200 left with its refund");
    assert_eq!(close.sales, 1_600 * USDT);
    assert_eq!(close.earned, 15 * USDT, "A: 9 on sale 4 and 6 on sale 7, at level 2");
    let line = |u: UserNo| close.lines.iter().find(|l| l.user == u).cloned();
    let l = line(3).unwrap();
    assert_eq!((l.pv, l.cv, l.gv, l.rank), (600, 500, 600, Some(0)), "C: Associate");
    let l = line(2).unwrap();
    assert_eq!((l.pv, l.gv, l.rank, l.earned), (0, 600, None, 0), "B: no rank, its only sale taken back");
    let l = line(1).unwrap();
    assert_eq!((l.pv, l.cv, l.gv, l.rank), (1_000, 1_000, 1_600, Some(1)), "A: Manager");
    assert_eq!((l.earned, l.credited), (15 * USDT, 15 * USDT));
    let l = line(0).unwrap();
    assert_eq!((l.gv, l.rank, l.earned), (1_600, None, 0), "genesis earns nothing");
    assert_eq!(close.credits.len(), 1);
    assert_eq!(
        (close.credits[0].beneficiary, close.credits[0].kind, close.credits[0].status),
        (1, RewardKind::Unilevel, RewardStatus::Pending)
    );
    assert_eq!(c.e.company(), 1_285 * USDT);
    assert_eq!(c.e.held(), 0);
    assert_eq!(c.e.next_period(), Some(close.period + 1));
}

#[test]
fn the_second_worked_example_the_customer_rule_and_scaling() {
    let params = SalesParams { max_payout_bps: 100, member_sale_bps: 5_000, ..SalesParams::defaults(6) };
    let mut c = Chain::new(params);
    let (g, a, b, d) = (0, 1, 2, 3);
    let (w, v) = (customer(1), customer(2));
    c.register(NOV + DAY, a, g);
    c.register(NOV + DAY, b, a);
    c.register(NOV + DAY, d, b);
    assert_eq!(sold(&c.sell(NOV + 2 * DAY, addr(d), d, 2_000, 2_000)), (3, 0, 2_000, 20));
    assert_eq!(sold(&c.sell(NOV + 3 * DAY, w, b, 500, 500)), (2, 100, 400, 5));
    assert_eq!(sold(&c.sell(NOV + 4 * DAY, v, a, 100, 100)), (1, 20, 80, 1));
    assert_eq!(c.e.company(), 2_480 * USDT);
    let due = c.head(DEC);
    assert_eq!(due.len(), 4, "three maturities, then the close: {due:?}");
    let Due::Closed(close) = &due[3] else { panic!() };
    let line = |u: UserNo| close.lines.iter().find(|l| l.user == u).cloned().unwrap();
    let l = line(d as UserNo);
    assert_eq!((l.pv, l.cv, l.gv, l.rank), (2_000, 0, 2_000, None), "D: its CV is under half its PV");
    let l = line(b as UserNo);
    assert_eq!((l.pv, l.cv, l.gv, l.rank), (500, 500, 2_500, Some(1)), "B: Manager");
    let l = line(a as UserNo);
    assert_eq!((l.pv, l.cv, l.gv, l.rank), (100, 100, 2_600, Some(1)), "A: Manager");
    assert_eq!(line(b as UserNo).earned, 50 * USDT);
    assert_eq!(line(a as UserNo).earned, 55 * USDT, "30 on D's sale at level 2, 25 on W's at level 1");
    assert_eq!((close.earned, close.budget), (105 * USDT, 26 * USDT));
    assert_eq!(line(b as UserNo).credited, 12_380_952, "⌊50 × 26 / 105⌋ in base units");
    assert_eq!(line(a as UserNo).credited, 13_619_047);
    assert_eq!(close.credited(), 25_999_999);
    assert_eq!(c.e.company(), 2_454 * USDT + 1, "2,454.000001");
}

#[test]
fn a_sale_is_quarantined_for_each_reason_of_section_3_and_its_buyer_may_still_take_it_back() {
    let mut c = Chain::new(SalesParams::defaults(6));
    c.register(NOV + DAY, 1, 0);
    let t = NOV + 2 * DAY;
    let good = c.signed(customer(1), addr(1), 100, 100, t);
    let refused_at = |c: &mut Chain, at: u64, sale: SaleEvent| c.event(at, &SalesEvent::Sale(sale)).unwrap_err().code();
    let refused = |c: &mut Chain, sale: SaleEvent| refused_at(c, t, sale);
    let zero = SaleEvent { amount: 0, retail: 0, sale_id: 10, ..good.clone() };
    assert_eq!(refused(&mut c, zero), "sale_amount");
    let late = SaleEvent { refundable_until: t, sale_id: 11, ..good.clone() };
    assert_eq!(refused(&mut c, late), "refund_window");
    let stranger = SaleEvent { named_seller: customer(9), sale_id: 12, ..good.clone() };
    assert_eq!(refused(&mut c, stranger), "unknown_seller");
    let itself = SaleEvent { named_seller: customer(1), sale_id: 13, ..good.clone() };
    assert_eq!(refused(&mut c, itself), "unknown_seller");
    let greedy = SaleEvent { retail: good.retail + 1, sale_id: 14, ..good.clone() };
    assert_eq!(refused(&mut c, greedy), "retail_mismatch");
    let genesis_paid = SaleEvent { named_seller: addr(0), sale_id: 15, ..good.clone() };
    assert_eq!(refused(&mut c, genesis_paid), "retail_mismatch", "genesis earns no retail: r must be 0");
    // A refused id is never used again, and a refused sale changed nothing.
    assert_eq!(c.e.company(), 0);
    assert_eq!(c.e.attributed(&customer(1)), None);
    let reused = SaleEvent { sale_id: 14, ..good.clone() };
    assert_eq!(refused(&mut c, reused), "sale_id_reused");
    // Its buyer takes the quarantined sale 14 back inside its window: once.
    let SalesOutcome::SuspenseReleased(q) = c.refund(t + DAY, 14).unwrap() else { panic!() };
    assert_eq!((q.buyer, q.amount, q.released), (customer(1), 100 * USDT, true));
    assert_eq!(c.refund(t + DAY, 14).unwrap_err().code(), "refund_not_open");
    // After its window, sale 15's suspense stays for the audited quarantine refund.
    assert_eq!(c.refund(t + WINDOW, 15).unwrap_err().code(), "refund_not_open");
    // An unknown id.
    assert_eq!(c.refund(t + WINDOW, 999).unwrap_err().code(), "refund_not_open");
    // The good sale applies, and its id cannot come twice.
    let later = SaleEvent { refundable_until: t + 2 * WINDOW, ..good };
    let SalesOutcome::Sold(s) = c.event(t + WINDOW, &SalesEvent::Sale(later.clone())).unwrap() else { panic!() };
    assert_eq!(s.sale.retail, 20 * USDT);
    assert_eq!(refused_at(&mut c, t + WINDOW, later), "sale_id_reused");
    // A retopup has no rule here; a registration must pay the join fee.
    let retopup = SalesEvent::Retopup { user: addr(1), amount: 5 };
    assert_eq!(c.event(t + WINDOW, &retopup).unwrap_err().code(), "not_in_this_plan");
    let paid = SalesEvent::Registration { user: addr(2), sponsor: addr(1), amount: 1 };
    assert_eq!(c.event(t + WINDOW, &paid).unwrap_err().code(), "wrong_amount");
}

#[test]
fn a_customer_who_registers_buys_as_a_member_and_genesis_earns_nothing() {
    let mut c = Chain::new(SalesParams::defaults(6));
    c.register(NOV + DAY, 1, 0);
    let x = customer(1);
    let first = c.sell(NOV + 2 * DAY, x, 0, 100, 100);
    assert_eq!(sold(&first), (0, 0, 100, 40), "attributed to genesis: r = 0");
    assert_eq!(c.e.attributed(&x), Some(0));
    // Registering ends the attribution: from then on X's sales are member sales.
    let event = SalesEvent::Registration { user: x, sponsor: addr(1), amount: 0 };
    c.event(NOV + 3 * DAY, &event).unwrap();
    assert_eq!(c.e.attributed(&x), None);
    let own = c.sell(NOV + 4 * DAY, x, 1, 100, 100);
    assert_eq!((own.sale.customer, own.sale.retail, own.sale.seller), (false, 0, 2));
}

#[test]
fn maturities_come_before_a_close_due_at_the_same_time_and_a_period_waits_for_its_last_window() {
    let mut c = Chain::new(SalesParams::defaults(6));
    c.register(NOV + DAY, 1, 0);
    // A sale in November's last minute: its T is in mid-December, so November closes then (E_1 = T).
    let late = c.sell(DEC - 60, customer(1), 1, 100, 100);
    let due_at = late.sale.refundable_until;
    // A December sale whose window ends at the same second.
    let mut dec = c.signed(customer(2), addr(1), 100, 100, DEC + 1);
    dec.refundable_until = due_at;
    c.next_sale += 1;
    assert!(matches!(c.event(DEC + 1, &SalesEvent::Sale(dec)), Ok(SalesOutcome::Sold(_))));
    assert_eq!(c.head(DEC + DAY), vec![], "November waits for its last sale's window");
    assert_eq!(c.e.next_period(), Some(late.sale.period));
    let due = c.head(due_at);
    let kinds: Vec<&str> = due
        .iter()
        .map(|d| match d {
            Due::Matured(_) => "maturity",
            Due::Closed(_) => "close",
        })
        .collect();
    assert_eq!(kinds, vec!["maturity", "maturity", "close"], "maturities first at the same due time");
    let Due::Closed(nov) = &due[2] else { panic!() };
    assert_eq!((nov.start, nov.end, nov.due, nov.sales), (NOV, DEC, due_at, 100 * USDT));
    // December closes at its end, January's first block, with its one sale final.
    let due = c.head(JAN);
    let [Due::Closed(d)] = due.as_slice() else { panic!("{due:?}") };
    assert_eq!((d.start, d.due, d.sales), (DEC, JAN, 100 * USDT));
}

#[test]
fn the_close_follows_the_version_in_force_at_the_last_block_seen_before_the_end() {
    let params = SalesParams::defaults(6);
    let v2 = SalesParams { level_bps: vec![1_000, 300, 200, 100, 100], ..params.clone() };
    // Member 1 holds Manager (its own customer's 100 pv, GV 1,100) and is level 1 of member 2's sale of 1,000:
    // 5 % of it under version 1, 10 % under version 2.
    let earned_with_a_head_in_november_under = |version_2_first: bool| {
        let mut c = Chain::new(params.clone());
        c.register(NOV + DAY, 1, 0);
        c.register(NOV + DAY, 2, 1);
        c.sell(NOV + 2 * DAY, customer(1), 2, 1_000, 1_000);
        c.sell(NOV + 2 * DAY, customer(2), 1, 100, 100);
        let from = c.block + 10;
        *c.e.schedule_mut() = PlanSchedule::from_versions(vec![
            PlanVersion { version: 1, effective_from_block: 0, params: params.clone() },
            PlanVersion { version: 2, effective_from_block: from, params: v2.clone() },
        ])
        .unwrap();
        c.block = from;
        if version_2_first {
            c.head(NOV + 20 * DAY);
        }
        let due = c.head(DEC);
        let Some(Due::Closed(close)) = due.last() else { panic!("{due:?}") };
        (close.plan_version, close.earned / USDT)
    };
    assert_eq!(earned_with_a_head_in_november_under(false), (1, 50), "the last block before the end: version 1's");
    assert_eq!(earned_with_a_head_in_november_under(true), (2, 100), "a confirmed head under version 2 before it");
}

#[test]
fn a_frozen_sellers_commission_matures_held_and_a_leavers_goes_to_the_company() {
    let mut c = Chain::new(SalesParams::defaults(6));
    c.register(NOV + DAY, 1, 0);
    c.register(NOV + DAY, 2, 0);
    let s1 = c.sell(NOV + 2 * DAY, customer(1), 1, 100, 100);
    let s2 = c.sell(NOV + 2 * DAY, customer(2), 2, 100, 100);
    c.e.set_frozen(1, true);
    c.e.exit(2);
    let before = c.e.company();
    let due = c.head(NOV + 2 * DAY + WINDOW);
    let statuses: Vec<_> = due
        .iter()
        .filter_map(|d| match d {
            Due::Matured(m) => m.retail.map(|(_, who, amount, status)| (who, amount, status)),
            Due::Closed(_) => None,
        })
        .collect();
    assert_eq!(statuses, vec![(1, 20 * USDT, RewardStatus::Held), (2, 20 * USDT, RewardStatus::Forfeited)]);
    assert_eq!(c.e.company(), before + 20 * USDT, "the leaver's commission is the company's at maturity");
    assert!(s1.sale.retail_reward.is_some() && s2.sale.retail_reward.is_some());
}

// ── §8 on random sequences ───────────────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Clone)]
enum Step {
    Register { sponsor: usize },
    CustomerSale { customer: u64, seller: usize, amount: Amount, pv: u64, window_days: u64, wrong_r: bool },
    MemberSale { member: usize, amount: Amount, pv: u64 },
    Refund { pick: usize },
    Wait { hours: u64 },
    Freeze { member: usize },
    Exit { member: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => any::<usize>().prop_map(|sponsor| Step::Register { sponsor }),
        5 => (0u64..12, any::<usize>(), 1u128..5_000_000_000, 0u64..3_000, 1u64..30, prop::bool::weighted(0.05)).prop_map(
            |(customer, seller, amount, pv, window_days, wrong_r)| Step::CustomerSale { customer, seller, amount, pv, window_days, wrong_r }
        ),
        2 => (any::<usize>(), 1u128..5_000_000_000, 0u64..3_000).prop_map(|(member, amount, pv)| Step::MemberSale { member, amount, pv }),
        2 => any::<usize>().prop_map(|pick| Step::Refund { pick }),
        3 => (1u64..24 * 20).prop_map(|hours| Step::Wait { hours }),
        1 => any::<usize>().prop_map(|member| Step::Freeze { member }),
        1 => any::<usize>().prop_map(|member| Step::Exit { member }),
    ]
}

fn random_params() -> impl Strategy<Value = SalesParams> {
    (0u32..=3_000, 0u32..=5_000, 0u32..=10_000, 0u32..=10_000, prop::bool::ANY).prop_map(
        |(retail_bps, max_payout_bps, member_sale_bps, min_customer_bps, weekly)| SalesParams {
            retail_bps,
            max_payout_bps,
            member_sale_bps,
            min_customer_bps,
            ranks: vec![
                Rank { name: "One".into(), min_pv: 0, min_gv: 0, depth: 1 },
                Rank { name: "Two".into(), min_pv: 500, min_gv: 2_000, depth: 3 },
                Rank { name: "Three".into(), min_pv: 1_000, min_gv: 6_000, depth: 5 },
            ],
            period: if weekly { PeriodKind::Week } else { PeriodKind::Month },
            ..SalesParams::defaults(6)
        },
    )
}

/// A reward as the ledger would hold it: (owner, kind, amount, status).
type Row = (UserNo, RewardKind, Amount, RewardStatus);

/// Runs `steps`, checking §8 after each; returns everything the engine said (for the replay check).
fn run(steps: &[Step], params: &SalesParams) -> Vec<String> {
    let mut c = Chain::new(params.clone());
    let mut said = Vec::new();
    let mut t = NOV + 3_600;
    let mut rows: HashMap<u64, Row> = HashMap::new();
    let mut sales: Vec<(u64, Amount, Amount, Option<u64>)> = Vec::new(); // id, a, r, RETAIL row
    let (mut inflow, mut outflow, mut suspense): (Amount, Amount, Amount) = (0, 0, 0);
    let check_due = |due: &[Due], rows: &mut HashMap<u64, Row>, c: &Chain| {
        for d in due {
            match d {
                Due::Matured(m) => {
                    if let Some((no, who, amount, status)) = m.retail {
                        let row = rows.get_mut(&no).expect("a RETAIL row");
                        assert_eq!(row.3, RewardStatus::Maturing, "§8.4: a row matures once, from maturing");
                        assert_eq!((row.0, row.2), (who, amount));
                        row.3 = status;
                    }
                }
                Due::Closed(close) => {
                    // §8.3: Σ credited ≤ Q_p.
                    assert!(close.credited() <= close.budget, "{close:?}");
                    let version = c.e.schedule().versions()[0].params.clone();
                    for l in &close.lines {
                        if l.credited > 0 {
                            assert_ne!(l.user, 0, "§8.1: genesis is credited nothing");
                            // §8.5: the customer share of everyone paid.
                            assert!(l.cv * 10_000 >= l.pv * u128::from(version.min_customer_bps), "{l:?}");
                            assert!(l.credited <= l.earned);
                        }
                    }
                    for cr in &close.credits {
                        assert_eq!(cr.kind, RewardKind::Unilevel);
                        rows.insert(cr.reward_no, (cr.beneficiary, cr.kind, cr.amount, cr.status));
                    }
                }
            }
        }
    };
    for s in steps {
        let members = c.e.users().len();
        match *s {
            Step::Register { sponsor } => {
                let sponsor = c.e.users()[sponsor % members].address;
                let event = SalesEvent::Registration { user: addr(members as u64), sponsor, amount: 0 };
                let out = c.event(t, &event);
                said.push(format!("{out:?}"));
                let SalesOutcome::Registered(o) = out.expect("a registration of the fee applies") else { panic!() };
                assert!(o.credits.is_empty(), "§8.1");
            }
            Step::CustomerSale { customer: who, seller, amount, pv, window_days, wrong_r } => {
                let buyer = customer(who);
                let mut sale = c.signed(buyer, c.e.users()[seller % members].address, amount, pv, t);
                sale.amount = amount;
                sale.retail = if c.e.user_no(&buyer).is_none()
                    && c.e.attributed(&buyer).or(c.e.user_no(&sale.named_seller)) != Some(0)
                {
                    c.e.schedule().at(c.block + 1).params.retail(amount)
                } else {
                    0
                };
                if wrong_r {
                    sale.retail += 1;
                }
                sale.refundable_until = t + window_days * DAY;
                c.next_sale += 1;
                inflow += amount;
                let out = c.event(t, &SalesEvent::Sale(sale.clone()));
                said.push(format!("{out:?}"));
                match out {
                    Ok(SalesOutcome::Sold(o)) => {
                        // §8.2 and §8.1: a = r + the company's credit; RETAIL only on a customer sale, never to
                        // genesis or the buyer.
                        let company: Amount = o.company.iter().map(|x| x.amount).sum();
                        assert_eq!(o.sale.retail + company, amount);
                        if let Some(cr) = o.credits.first() {
                            assert!(o.sale.customer && cr.beneficiary != 0 && cr.kind == RewardKind::Retail);
                            assert_ne!(c.e.users()[cr.beneficiary as usize].address, buyer);
                            rows.insert(cr.reward_no, (cr.beneficiary, cr.kind, cr.amount, cr.status));
                        }
                        sales.push((o.sale.id, amount, o.sale.retail, o.sale.retail_reward));
                    }
                    Err(e) => {
                        assert!(wrong_r, "only a wrong r is refused here: {e}");
                        assert!(c.e.quarantined_sale(sale.sale_id).is_some(), "a refused sale is remembered");
                        suspense += amount;
                    }
                    other => panic!("{other:?}"),
                }
            }
            Step::MemberSale { member, amount, pv } => {
                let buyer = c.e.users()[member % members].address;
                let sale = c.signed(buyer, buyer, 1, pv, t);
                let sale = SaleEvent { amount, ..sale };
                c.next_sale += 1;
                inflow += amount;
                let out = c.event(t, &SalesEvent::Sale(sale));
                said.push(format!("{out:?}"));
                let Ok(SalesOutcome::Sold(o)) = out else { panic!("a member sale applies: {out:?}") };
                assert!(o.credits.is_empty(), "§8.1: nothing for one's own purchase");
                sales.push((o.sale.id, amount, 0, None));
            }
            Step::Refund { pick } => {
                let id = if sales.is_empty() { 424_242 } else { sales[pick % sales.len()].0 };
                let open = c.e.sale(id).is_some_and(|s| s.state == SaleState::Open);
                let out = c.refund(t, id);
                said.push(format!("{out:?}"));
                match out {
                    Ok(SalesOutcome::Refunded(r)) => {
                        assert!(open);
                        outflow += r.amount;
                        let (_, a, retail, row) = sales.iter().find(|s| s.0 == id).copied().unwrap();
                        assert_eq!((r.amount, r.company_debit, r.reversed), (a, a - retail, row));
                        if let Some(no) = row {
                            let row = rows.get_mut(&no).unwrap();
                            assert_eq!(row.3, RewardStatus::Maturing, "§8.4: only a maturing row is reversed");
                            row.3 = RewardStatus::Reversed;
                        }
                    }
                    Err(e) => assert!(!open, "an open sale's refund is refused: {e}"),
                    other => panic!("{other:?}"),
                }
            }
            Step::Wait { hours } => {
                t += hours * 3_600;
                let due = c.head(t);
                said.push(format!("{due:?}"));
            }
            Step::Freeze { member } => {
                let u = (member % members) as UserNo;
                let frozen = c.e.users()[u as usize].frozen;
                c.e.set_frozen(u, !frozen);
            }
            Step::Exit { member } => {
                let u = (member % members) as UserNo;
                if u != 0 && !c.e.users()[u as usize].exited {
                    // The ledger's leave pays what is pending or held; maturing rows stay.
                    for row in rows.values_mut().filter(|r| r.0 == u) {
                        if matches!(row.3, RewardStatus::Pending | RewardStatus::Held) {
                            outflow += row.2;
                            row.3 = RewardStatus::Settled;
                        }
                    }
                    c.e.exit(u);
                }
            }
        }
        // Every due item the steps' blocks processed.
        let due = std::mem::take(&mut c.due);
        check_due(&due, &mut rows, &c);
        // §8.4: a RETAIL row is maturing exactly while its sale is open, reversed exactly when it was refunded.
        for (id, _, _, row) in &sales {
            let (Some(no), Some(sale)) = (row, c.e.sale(*id)) else { continue };
            let status = rows[no].3;
            match sale.state {
                SaleState::Open => assert_eq!(status, RewardStatus::Maturing),
                SaleState::Refunded => assert_eq!(status, RewardStatus::Reversed),
                SaleState::Final => assert!(!matches!(status, RewardStatus::Maturing | RewardStatus::Reversed)),
            }
        }
        // §8.3: C ≥ H.
        assert!(c.e.company() >= c.e.held(), "C {} < H {}", c.e.company(), c.e.held());
        // §8.7: custody = inflows − refunds − what leaves paid, and it is exactly what is owed: the members'
        // maturing, pending and held rows, the company's balance and what waits in suspense (no quarantined sale
        // is taken back here).
        let owed: Amount = rows
            .values()
            .filter(|r| matches!(r.3, RewardStatus::Maturing | RewardStatus::Pending | RewardStatus::Held))
            .map(|r| r.2)
            .sum();
        assert_eq!(inflow - outflow, owed + c.e.company() + suspense);
    }
    said
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn the_invariants_of_section_8_hold_on_random_sequences(
        params in random_params(),
        steps in prop::collection::vec(step(), 1..150),
    ) {
        let first = run(&steps, &params);
        // §8.6: a replay reproduces every credit, maturity and close.
        prop_assert_eq!(first, run(&steps, &params));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// What the ledger will store rebuilds the same engine: the rest of a sequence applied to the restored engine and
    /// to the original gives the same outcomes, maturities and closes.
    #[test]
    fn a_restored_engine_goes_on_as_the_original(
        params in random_params(),
        steps in prop::collection::vec(step(), 2..120),
        cut in 0.0f64..1.0,
    ) {
        let cut = ((steps.len() as f64) * cut) as usize;
        let (original, _) = drive(Chain::new(params), &steps[..cut]);
        let users = original.e.users().to_vec();
        let stored = original.e.stored();
        let restored = SalesEngine::restore(original.e.schedule().clone(), users, stored.clone()).expect("restores");
        prop_assert_eq!(&restored.stored(), &stored);
        let copy = Chain { e: restored, block: original.block, due: Vec::new(), next_sale: original.next_sale };
        let (_, a) = drive(original, &steps[cut..]);
        let (_, b) = drive(copy, &steps[cut..]);
        prop_assert_eq!(a, b);
    }
}

/// Applies `steps` without the invariant checks (see [`run`]); returns the chain and everything the engine said.
fn drive(mut c: Chain, steps: &[Step]) -> (Chain, Vec<String>) {
    let mut said = Vec::new();
    let mut t = c.e.last_time.max(NOV + 3_600);
    for s in steps {
        let members = c.e.users().len();
        let out = match *s {
            Step::Register { sponsor } => {
                let sponsor = c.e.users()[sponsor % members].address;
                format!(
                    "{:?}",
                    c.event(t, &SalesEvent::Registration { user: addr(members as u64), sponsor, amount: 0 })
                )
            }
            Step::CustomerSale { customer: who, seller, amount, pv, window_days, wrong_r } => {
                let buyer = customer(who);
                let named = c.e.users()[seller % members].address;
                let m = c.e.attributed(&buyer).or(c.e.user_no(&named));
                let retail = if m != Some(0) { c.e.schedule().at(c.block + 1).params.retail(amount) } else { 0 };
                let sale = SaleEvent {
                    buyer,
                    named_seller: named,
                    amount,
                    pv,
                    retail: retail + Amount::from(wrong_r),
                    sale_id: c.next_sale,
                    refundable_until: t + window_days * DAY,
                };
                c.next_sale += 1;
                format!("{:?}", c.event(t, &SalesEvent::Sale(sale)))
            }
            Step::MemberSale { member, amount, pv } => {
                let buyer = c.e.users()[member % members].address;
                let sale = SaleEvent {
                    buyer,
                    named_seller: buyer,
                    amount,
                    pv,
                    retail: 0,
                    sale_id: c.next_sale,
                    refundable_until: t + WINDOW,
                };
                c.next_sale += 1;
                format!("{:?}", c.event(t, &SalesEvent::Sale(sale)))
            }
            Step::Refund { pick } => {
                let id = if c.next_sale > 1 { 1 + pick as u64 % (c.next_sale - 1) } else { 77 };
                format!("{:?}", c.refund(t, id))
            }
            Step::Wait { hours } => {
                t += hours * 3_600;
                format!("{:?}", c.head(t))
            }
            Step::Freeze { member } => {
                let u = (member % members) as UserNo;
                let frozen = c.e.users()[u as usize].frozen;
                c.e.set_frozen(u, !frozen);
                String::new()
            }
            Step::Exit { member } => {
                c.e.exit((member % members).max(1).min(members - 1) as UserNo);
                String::new()
            }
        };
        said.push(out);
        said.push(format!("{:?}", std::mem::take(&mut c.due)));
    }
    (c, said)
}
