//! The binary plan against PLAN-BINARY.md: the worked example of §7 row by row (both parts), placement against a
//! breadth-first search, and the invariants of §6 on random sequences.

use std::collections::VecDeque;

use alloy::primitives::Address;
use proptest::prelude::*;

use super::*;
use crate::plan::params::PlanSchedule;

const USDT: Amount = 1_000_000;
/// 2026-11-01, 2026-12-01 and 2027-01-01 at 00:00:00 UTC: periods 1, 2 and 3 of the worked example.
const NOV: u64 = 1_793_491_200;
const DEC: u64 = 1_796_083_200;
const JAN: u64 = 1_798_761_600;

fn addr(n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&(n + 1).to_be_bytes());
    Address::from(b)
}

fn engine(params: BinaryParams) -> BinaryEngine {
    BinaryEngine::new(addr(0), PlanSchedule::new(params).expect("a valid plan"))
}

fn register(e: &mut BinaryEngine, user: u64, sponsor: u64, usdt: Amount, t: u64) -> BinaryOutcome {
    let event = PlanEvent::Registration { user: addr(user), sponsor: addr(sponsor), amount: usdt * USDT };
    let out = e.apply(1, t, &event).expect("applied");
    out.event.check_conservation().expect("P = DIRECT + the company's credit");
    out
}

fn buy(e: &mut BinaryEngine, user: u64, usdt: Amount, t: u64) -> BinaryOutcome {
    let out = e.apply(1, t, &PlanEvent::Retopup { user: addr(user), amount: usdt * USDT }).expect("applied");
    out.event.check_conservation().expect("P = DIRECT + the company's credit");
    out
}

/// (beneficiary, whole USDT) of each DIRECT credit, and the company's credit in whole USDT.
fn credits(o: &BinaryOutcome) -> (Vec<(UserNo, Amount)>, Amount) {
    assert!(o.event.credits.iter().all(|c| c.kind == RewardKind::Direct));
    let company: Amount = o.event.company.iter().map(|c| c.amount).sum();
    (o.event.credits.iter().map(|c| (c.beneficiary, c.amount / USDT)).collect(), company / USDT)
}

fn legs(e: &BinaryEngine, u: UserNo) -> [Amount; 2] {
    e.standing(u).expect("a user").legs.map(|l| l / USDT)
}

fn carries(e: &BinaryEngine, u: UserNo) -> [Amount; 2] {
    e.standing(u).expect("a user").carries.map(|l| l / USDT)
}

fn placed(o: &BinaryOutcome) -> (UserNo, Side) {
    let p = o.placed.expect("a registration is placed");
    (p.parent, p.side)
}

/// (user, whole-USDT amount, status) of every credit of a close.
fn close_credits(c: &BinaryClose) -> Vec<(UserNo, Amount, RewardStatus)> {
    assert!(c.credits.iter().all(|c| c.kind == RewardKind::BinaryPair));
    c.credits.iter().map(|c| (c.beneficiary, c.amount / USDT, c.status)).collect()
}

#[test]
fn the_worked_example_row_by_row() {
    let mut e = engine(BinaryParams::defaults(6));
    let (g, a, b, c, d, ee, f) = (0, 1, 2, 3, 4, 5, 6);
    let t = NOV + 86_400;
    // Period 1.
    let o = register(&mut e, 1, 0, 100, t);
    assert_eq!((placed(&o), credits(&o)), ((g, Side::Left), (vec![(g, 10)], 90)), "#1");
    assert_eq!(legs(&e, g), [100, 0]);
    let o = register(&mut e, 2, 0, 500, t);
    assert_eq!((placed(&o), credits(&o)), ((g, Side::Right), (vec![(g, 50)], 450)), "#2");
    assert_eq!(legs(&e, g), [100, 500]);
    let o = register(&mut e, 3, 1, 1000, t);
    assert_eq!((placed(&o), credits(&o)), ((a, Side::Left), (vec![(a, 100)], 900)), "#3");
    assert_eq!((legs(&e, a), legs(&e, g)), ([1000, 0], [1100, 500]));
    let o = register(&mut e, 4, 1, 100, t);
    assert_eq!((placed(&o), credits(&o)), ((a, Side::Right), (vec![(a, 10)], 90)), "#4");
    assert_eq!((legs(&e, a), legs(&e, g)), ([1000, 100], [1200, 500]));
    let o = register(&mut e, 5, 0, 100, t);
    assert_eq!((placed(&o), credits(&o)), ((b, Side::Left), (vec![(g, 10)], 90)), "#5: G's right is B; E is B's left");
    assert_eq!((legs(&e, b), legs(&e, g)), ([100, 0], [1200, 600]));
    let o = buy(&mut e, 2, 1000, t);
    assert_eq!((o.placed, credits(&o)), (None, (vec![(g, 100)], 900)), "#6");
    assert_eq!(legs(&e, g), [1200, 1600]);
    assert!(e.close_through(2, DEC - 1).is_empty(), "November is open until its last second has passed");
    // Close of period 1, at the first block of December.
    let closes = e.close_through(3, DEC);
    assert_eq!(closes.len(), 1);
    let p1 = &closes[0];
    assert_eq!((p1.start, p1.end, p1.plan_version), (NOV, DEC, 1));
    assert_eq!((p1.volume / USDT, p1.company_before / USDT, p1.budget / USDT), (2800, 2520, 1400));
    assert_eq!(p1.bonuses / USDT, 10);
    let lines: Vec<_> = p1.lines.iter().map(|l| (l.user, l.carry_before.map(|c| c / USDT))).collect();
    assert_eq!(lines, [(a, [1000, 100]), (b, [100, 0])], "users with a carry, in registration order");
    let la = &p1.lines[0];
    assert_eq!((la.pairs, la.paid, la.flushed, la.pairs_before, la.full), (1, 1, 0, 0, 1));
    assert_eq!(la.carry_after.map(|c| c / USDT), [900, 0]);
    assert_eq!((la.bonus / USDT, la.scaled / USDT, la.reserved, la.rest / USDT), (10, 10, 0, 10));
    assert_eq!((p1.lines[1].pairs, p1.lines[1].bonus), (0, 0), "B: carries 100/0, no pair");
    assert_eq!(close_credits(p1), [(a, 10, RewardStatus::Pending)]);
    assert_eq!(e.company() / USDT, 2510);
    // Period 2.
    let t = DEC + 86_400;
    let o = buy(&mut e, 3, 5000, t);
    assert_eq!(credits(&o), (vec![(a, 500)], 4500), "#7");
    assert_eq!((legs(&e, a), legs(&e, g)), ([6000, 100], [6200, 1600]));
    let o = register(&mut e, 6, 4, 500, t);
    assert_eq!((placed(&o), credits(&o)), ((d, Side::Left), (vec![(d, 50)], 450)), "#8");
    assert_eq!((legs(&e, d), legs(&e, a), legs(&e, g)), ([500, 0], [6000, 600], [6700, 1600]));
    let o = buy(&mut e, 4, 1000, t);
    assert_eq!(credits(&o), (vec![(a, 100)], 900), "#9");
    assert_eq!((legs(&e, a), legs(&e, g)), ([6000, 1600], [7700, 1600]));
    let closes = e.close_through(4, JAN);
    assert_eq!(closes.len(), 1);
    let p2 = &closes[0];
    assert_eq!((p2.volume / USDT, p2.company_before / USDT, p2.budget / USDT), (6500, 8360, 3250));
    let la = &p2.lines[0];
    assert_eq!((la.user, la.carry_before.map(|c| c / USDT)), (a, [5900, 1500]));
    assert_eq!((la.pairs, la.paid, la.flushed, la.pairs_before, la.full), (15, 10, 5, 1, 4));
    assert_eq!(la.carry_after.map(|c| c / USDT), [4400, 0]);
    assert_eq!((la.bonus / USDT, la.scaled / USDT), (100, 100));
    assert_eq!((la.reserved / USDT, la.rest / USDT), (12, 88), "r = ⌊100 × 6 × 2000 / (10 × 10000)⌋");
    let others: Vec<_> = p2.lines[1..].iter().map(|l| (l.user, l.carry_before.map(|c| c / USDT), l.pairs)).collect();
    assert_eq!(others, [(b, [100, 0], 0), (d, [500, 0], 0)]);
    assert_eq!(close_credits(p2), [(a, 12, RewardStatus::Reserved), (a, 88, RewardStatus::Pending)]);
    assert_eq!((p2.bonuses / USDT, p2.credited() / USDT, p2.reserved() / USDT), (100, 100, 12));
    assert_eq!(e.company() / USDT, 8260);
    assert_eq!(e.standing(a).unwrap().member.reserved / USDT, 12);
    // Period 3: A becomes an active buyer and its 12 reserved are released.
    let o = buy(&mut e, 1, 500, JAN + 86_400);
    assert_eq!(credits(&o), (vec![(g, 50)], 450), "#10");
    assert_eq!(o.release, Some(Release { user: a, amount: 12 * USDT, status: RewardStatus::Pending }));
    let sa = e.standing(a).unwrap();
    assert!(sa.member.active);
    assert_eq!((sa.member.reserved, sa.member.paid_in / USDT), (0, 600));
    assert_eq!((carries(&e, a), legs(&e, g)), ([4400, 0], [8200, 1600]));
    assert_eq!(e.company() / USDT, 8710);
    let _ = (c, ee, f);
}

#[test]
fn the_worked_example_scaling_freezing_and_retention() {
    let p = BinaryParams { max_payout_bps: 100, free_pairs: 2, ..BinaryParams::defaults(6) };
    let mut e = engine(p);
    let t = NOV + 86_400;
    register(&mut e, 1, 0, 1000, t); // A
    register(&mut e, 2, 0, 100, t); // B
    register(&mut e, 3, 1, 1000, t); // A1
    register(&mut e, 4, 1, 1000, t); // A2
    register(&mut e, 5, 2, 500, t); // B1
    register(&mut e, 6, 2, 500, t); // B2
    e.set_frozen(2, true);
    let closes = e.close_through(2, DEC);
    let c = &closes[0];
    assert_eq!((c.volume / USDT, c.company_before / USDT, c.budget / USDT), (4100, 3690, 41));
    assert_eq!(c.bonuses / USDT, 150, "A 10 pairs from 1000/1000, B 5 from 500/500");
    let (la, lb) = (&c.lines[0], &c.lines[1]);
    assert_eq!((la.user, la.paid, la.scaled, la.reserved), (1, 10, 27_333_333, 0), "A is an active buyer");
    assert_eq!((lb.user, lb.paid, lb.full, lb.scaled), (2, 5, 2, 13_666_666));
    assert_eq!((lb.reserved, lb.rest, lb.status), (1_639_999, 12_026_667, RewardStatus::Held));
    let credited: Vec<_> = c.credits.iter().map(|c| (c.beneficiary, c.amount, c.status)).collect();
    assert_eq!(
        credited,
        [
            (1, 27_333_333, RewardStatus::Pending),
            (2, 1_639_999, RewardStatus::Reserved),
            (2, 12_026_667, RewardStatus::Held)
        ]
    );
    assert_eq!(c.budget - c.credited(), 1, "0.000001 stays with the company");
    // B buys 500: paid_in 600, an active buyer; the reserved 1.639999 is released as held (B is frozen).
    let o = buy(&mut e, 2, 500, DEC + 86_400);
    assert_eq!(o.release, Some(Release { user: 2, amount: 1_639_999, status: RewardStatus::Held }));
}

/// The first free slot breadth-first under `from`, by a queue, as §2 words it.
#[test]
fn an_exited_members_credits_are_the_companys_and_what_was_retained_for_them_is_gone() {
    // The second example's tree: B's 5 pairs retain 1.639999 of its bonus; B then leaves (PLAN.md §5).
    let p = BinaryParams { max_payout_bps: 100, free_pairs: 2, ..BinaryParams::defaults(6) };
    let mut twin = engine(p.clone());
    let mut e = engine(p);
    for x in [&mut twin, &mut e] {
        let t = NOV + 86_400;
        for (user, sponsor, usdt) in [(1, 0, 1000), (2, 0, 100), (3, 1, 1000), (4, 1, 1000), (5, 2, 500), (6, 2, 500)] {
            register(x, user, sponsor, usdt, t);
        }
    }
    e.exit(2);
    assert!(e.users()[2].exited);
    // Its closes: B's line is worked out as if (its pairs count in the budget's scaling, A's share is the same) and
    // nothing is credited to it; what would have been its bonus stays with the company it is paid from.
    let (mine, theirs) = (&e.close_through(2, DEC)[0], &twin.close_through(2, DEC)[0]);
    assert_eq!(mine.bonuses, theirs.bonuses);
    assert_eq!(mine.lines[0].scaled, theirs.lines[0].scaled, "A is scaled alike");
    assert_eq!((mine.lines[1].user, mine.lines[1].scaled), (2, theirs.lines[1].scaled));
    assert_eq!((mine.lines[1].reserved, mine.lines[1].rest), (0, 0));
    assert!(mine.credits.iter().all(|c| c.beneficiary != 2), "{:?}", mine.credits);
    assert_eq!(e.company() - twin.company(), theirs.credited() - mine.credited());
    assert_eq!(e.standing(2).unwrap().member.reserved, 0, "nothing retained for B");
    // B's sponsor's DIRECT of a purchase under B: the company's, as `exited_member`; B becomes an active buyer and
    // nothing is released to it.
    let o = register(&mut e, 7, 2, 1000, DEC + 86_400);
    assert!(o.event.credits.is_empty(), "{:?}", o.event.credits);
    let reasons: Vec<_> = o.event.company.iter().map(|c| (c.reason, c.amount / USDT)).collect();
    assert_eq!(reasons, [(CompanyReason::ExitedMember, 100), (CompanyReason::BinaryRest, 900)]);
    let o = buy(&mut e, 2, 500, DEC + 86_400);
    assert_eq!(o.release, None, "nothing was retained for a member who left");
    assert!(e.standing(2).unwrap().member.active);
}

fn bfs_slot(children: &[[Option<UserNo>; 2]], from: UserNo) -> (UserNo, Side) {
    let mut queue = VecDeque::from([from]);
    while let Some(n) = queue.pop_front() {
        match children[n as usize] {
            [None, _] => return (n, Side::Left),
            [_, None] => return (n, Side::Right),
            [Some(l), Some(r)] => queue.extend([l, r]),
        }
    }
    unreachable!("a tree always has a free slot")
}

#[derive(Debug, Clone)]
enum Step {
    Register { sponsor: usize, package: usize },
    Buy { user: usize, package: usize },
    Freeze { user: usize },
    NextPeriod,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (any::<usize>(), 0usize..4).prop_map(|(sponsor, package)| Step::Register { sponsor, package }),
        3 => (any::<usize>(), 0usize..4).prop_map(|(user, package)| Step::Buy { user, package }),
        1 => any::<usize>().prop_map(|user| Step::Freeze { user }),
        1 => Just(Step::NextPeriod),
    ]
}

fn small_params() -> BinaryParams {
    BinaryParams {
        packages: vec![100, 500, 1000, 5000],
        pair_volume: 300,
        pair_bonus: 70,
        max_pairs: 3,
        free_pairs: 2,
        active_paid_in: 1100,
        max_payout_bps: 3000,
        ..BinaryParams::defaults(0)
    }
}

/// Runs `steps` on a fresh engine, checking §6 at every step against a naive model (explicit ancestor walks and a
/// queue for placement); returns every outcome and close, for the determinism check.
fn run(steps: &[Step], params: &BinaryParams) -> (Vec<BinaryOutcome>, Vec<BinaryClose>) {
    let mut e = engine(params.clone());
    let mut children: Vec<[Option<UserNo>; 2]> = vec![[None, None]];
    let mut parent: Vec<Option<(UserNo, Side)>> = vec![None];
    let mut own: Vec<Amount> = vec![0];
    let mut consumed: Vec<Amount> = vec![0];
    let mut outcomes = Vec::new();
    let mut closes = Vec::new();
    let mut period = 0u64;
    let time = |period: u64| params.bounds(params.period_of(NOV) + period).0 + 3_600;
    let (mut block, mut company): (u64, Amount) = (1, 0);
    let naive_leg = |own: &[Amount], children: &[[Option<UserNo>; 2]], x: UserNo, s: Side| -> Amount {
        let mut total = 0;
        let mut stack: Vec<UserNo> = children[x as usize][s.index()].into_iter().collect();
        while let Some(n) = stack.pop() {
            total += own[n as usize];
            stack.extend(children[n as usize].iter().flatten());
        }
        total
    };
    for s in steps {
        block += 1;
        let users = e.users().len();
        match *s {
            Step::Register { sponsor, package } => {
                let sponsor = (sponsor % users) as UserNo;
                // The weaker leg by the naive legs, then the queue.
                let [l, r] = [Side::Left, Side::Right].map(|side| naive_leg(&own, &children, sponsor, side));
                let side = if r < l { Side::Right } else { Side::Left };
                let expected = match children[sponsor as usize][side.index()] {
                    None => (sponsor, side),
                    Some(c) => bfs_slot(&children, c),
                };
                let amount = params.packages[package];
                let event = PlanEvent::Registration {
                    user: addr(users as u64),
                    sponsor: e.users()[sponsor as usize].address,
                    amount,
                };
                let o = e.apply(block, time(period), &event).expect("applied");
                let p = o.placed.expect("placed");
                assert_eq!((p.parent, p.side), expected, "placement is the first free slot breadth-first");
                children.push([None, None]);
                children[p.parent as usize][p.side.index()] = Some(users as UserNo);
                parent.push(Some((p.parent, p.side)));
                own.push(params.pv(amount));
                consumed.push(0);
                company += o.event.company.iter().map(|c| c.amount).sum::<Amount>();
                o.event.check_conservation().expect("§6.1 per purchase");
                outcomes.push(o);
            }
            Step::Buy { user, package } => {
                let user = (user % users) as UserNo;
                let amount = params.packages[package];
                let event = PlanEvent::Retopup { user: e.users()[user as usize].address, amount };
                let o = e.apply(block, time(period), &event).expect("applied");
                own[user as usize] += params.pv(amount);
                company += o.event.company.iter().map(|c| c.amount).sum::<Amount>();
                o.event.check_conservation().expect("§6.1 per purchase");
                outcomes.push(o);
            }
            Step::Freeze { user } => {
                let user = (user % users) as UserNo;
                let frozen = e.users()[user as usize].frozen;
                e.set_frozen(user, !frozen);
            }
            Step::NextPeriod => {
                period += 1;
                for c in e.close_through(block, time(period)) {
                    assert!(c.credited() <= c.budget && c.budget <= c.company_before, "§6.1 per close");
                    assert_eq!(c.company_before, company);
                    company -= c.credited();
                    for side in [Side::Left, Side::Right] {
                        let down: Amount =
                            c.lines.iter().map(|l| l.carry_before[side.index()] - l.carry_after[side.index()]).sum();
                        let pairs: Amount = c.lines.iter().map(|l| l.pairs * params.pair_volume).sum();
                        assert_eq!(down, pairs, "§6.3 per close and side");
                    }
                    for l in &c.lines {
                        assert!(l.paid <= u64::from(params.max_pairs), "§6.4");
                        assert_eq!(u128::from(l.paid) + l.flushed, l.pairs);
                        assert_eq!(l.scaled, l.reserved + l.rest);
                        consumed[l.user as usize] += l.pairs * params.pair_volume;
                    }
                    closes.push(c);
                }
            }
        }
        assert_eq!(e.company(), company, "the company's balance never goes below zero, and is what it was credited");
        // §6.2 and §6.3 for every node, against the naive legs.
        for x in 0..e.users().len() as UserNo {
            let st = e.standing(x).unwrap();
            for side in [Side::Left, Side::Right] {
                let naive = naive_leg(&own, &children, x, side);
                assert_eq!(st.legs[side.index()], naive, "leg({x}, {side:?})");
                assert!(st.carries[side.index()] <= naive, "carry ≤ leg");
                if x > 0 {
                    assert_eq!(st.carries[side.index()], naive - consumed[x as usize]);
                }
            }
            assert_eq!(st.carries[0] as i128 - st.carries[1] as i128, st.legs[0] as i128 - st.legs[1] as i128);
            assert_eq!(st.placed.map(|p| (p.parent, p.side)), parent[x as usize]);
        }
    }
    (outcomes, closes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn invariants_hold_on_random_sequences(steps in prop::collection::vec(step(), 1..120)) {
        let params = small_params();
        let first = run(&steps, &params);
        // §6.5: a replay reproduces every placement, credit and close.
        prop_assert_eq!(first, run(&steps, &params));
    }

    #[test]
    fn weekly_periods_hold_them_too(steps in prop::collection::vec(step(), 1..60)) {
        let params = BinaryParams { period: PeriodKind::Week, retention_bps: 10_000, ..small_params() };
        run(&steps, &params);
    }
}

#[test]
fn a_chain_of_members_costs_a_purchase_no_more_than_a_balanced_tree() {
    // Each member sponsors the next: with no child, the sponsor's left slot is free, so the tree is a chain of
    // left children 20,000 deep. Legs stay exact at the top and bottom.
    let mut e = engine(small_params());
    let n = 20_000u64;
    for u in 1..=n {
        let event = PlanEvent::Registration { user: addr(u), sponsor: addr(u - 1), amount: 100 };
        let o = e.apply(u, NOV + 60, &event).expect("applied");
        assert_eq!(o.placed, Some(Placed { parent: (u - 1) as UserNo, side: Side::Left }));
    }
    assert_eq!(e.standing(0).unwrap().legs, [100 * Amount::from(n), 0]);
    assert_eq!(e.standing((n - 1) as UserNo).unwrap().legs, [100, 0]);
    let event = PlanEvent::Retopup { user: addr(n), amount: 5000 };
    e.apply(n + 1, NOV + 60, &event).expect("applied");
    assert_eq!(e.standing(0).unwrap().legs, [100 * Amount::from(n) + 5000, 0]);
    assert_eq!(e.standing(1).unwrap().legs, [100 * Amount::from(n - 1) + 5000, 0]);
}

#[test]
fn refusals_change_nothing() {
    let mut e = engine(BinaryParams::defaults(6));
    let t = NOV + 60;
    register(&mut e, 1, 0, 100, t);
    let before = (e.counters(), e.company(), e.users().len());
    let not_a_package = PlanEvent::Registration { user: addr(2), sponsor: addr(0), amount: 101 * USDT };
    assert!(matches!(e.apply(2, t, &not_a_package), Err(Rejection::NotAPackage { .. })));
    let twice = PlanEvent::Registration { user: addr(1), sponsor: addr(0), amount: 100 * USDT };
    assert!(matches!(e.apply(2, t, &twice), Err(Rejection::DuplicateUser(_))));
    let stranger = PlanEvent::Registration { user: addr(2), sponsor: addr(9), amount: 100 * USDT };
    assert!(matches!(e.apply(2, t, &stranger), Err(Rejection::UnknownSponsor(_))));
    let nobody = PlanEvent::Retopup { user: addr(9), amount: 100 * USDT };
    assert!(matches!(e.apply(2, t, &nobody), Err(Rejection::UnknownUser(_))));
    let earlier = PlanEvent::Retopup { user: addr(1), amount: 100 * USDT };
    assert!(matches!(e.apply(2, NOV - 60, &earlier), Err(Rejection::PeriodOrder { .. })), "October after November");
    assert_eq!((e.counters(), e.company(), e.users().len()), before);
}

#[test]
fn a_version_closes_the_period_it_is_in_force_at_the_end_of() {
    // Version 2 (pair bonus 20) from block 10: a confirmed head at block 10 inside November makes it November's.
    let mut schedule = PlanSchedule::new(BinaryParams::defaults(6)).unwrap();
    schedule.push(10, Some(3), BinaryParams { pair_bonus: 20 * USDT, ..BinaryParams::defaults(6) }).unwrap();
    let mut e = BinaryEngine::new(addr(0), schedule.clone());
    let t = NOV + 60;
    for (u, s) in [(1, 0), (2, 0), (3, 1), (4, 1)] {
        let event = PlanEvent::Registration { user: addr(u), sponsor: addr(s), amount: 500 * USDT };
        e.apply(3, t, &event).expect("applied");
    }
    assert!(e.close_through(10, DEC - 1).is_empty());
    let c = &e.close_through(11, DEC)[0];
    assert_eq!((c.plan_version, c.lines[0].bonus), (2, 5 * 20 * USDT));
    // Without the head inside November, version 1 (block 3) closes it.
    let mut e = BinaryEngine::new(addr(0), schedule);
    for (u, s) in [(1, 0), (2, 0), (3, 1), (4, 1)] {
        let event = PlanEvent::Registration { user: addr(u), sponsor: addr(s), amount: 500 * USDT };
        e.apply(3, t, &event).expect("applied");
    }
    let c = &e.close_through(11, DEC)[0];
    assert_eq!((c.plan_version, c.lines[0].bonus), (1, 5 * 10 * USDT));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// What the ledger will store rebuilds the same engine: the rest of a sequence applied to the restored engine
    /// and to the original gives the same outcomes and closes.
    #[test]
    fn a_restored_engine_goes_on_as_the_original(steps in prop::collection::vec(step(), 2..100), cut in 0.0f64..1.0) {
        let params = small_params();
        let cut = ((steps.len() as f64) * cut) as usize;
        let mut original = engine(params.clone());
        let mut block = 1;
        let time = |period: u64| params.bounds(params.period_of(NOV) + period).0 + 3_600;
        let mut period = 0;
        let drive = |e: &mut BinaryEngine, s: &Step, block: u64, period: &mut u64| -> String {
            let users = e.users().len();
            match *s {
                Step::Register { sponsor, package } => {
                    let sponsor = e.users()[sponsor % users].address;
                    let event = PlanEvent::Registration { user: addr(users as u64), sponsor, amount: params.packages[package] };
                    format!("{:?}", e.apply(block, time(*period), &event))
                }
                Step::Buy { user, package } => {
                    let event = PlanEvent::Retopup { user: e.users()[user % users].address, amount: params.packages[package] };
                    format!("{:?}", e.apply(block, time(*period), &event))
                }
                Step::Freeze { user } => {
                    let frozen = e.users()[user % users].frozen;
                    e.set_frozen((user % users) as UserNo, !frozen);
                    String::new()
                }
                Step::NextPeriod => {
                    *period += 1;
                    format!("{:?}", e.close_through(block, time(*period)))
                }
            }
        };
        for s in &steps[..cut] {
            block += 1;
            drive(&mut original, s, block, &mut period);
        }
        let mut restored =
            BinaryEngine::restore(original.schedule().clone(), original.users().to_vec(), original.stored()).unwrap();
        prop_assert_eq!(restored.stored(), original.stored());
        let mut period_r = period;
        for s in &steps[cut..] {
            block += 1;
            let a = drive(&mut original, s, block, &mut period);
            let b = drive(&mut restored, s, block, &mut period_r);
            prop_assert_eq!(a, b);
        }
    }
}

#[test]
fn an_inconsistent_record_is_refused() {
    let mut e = engine(BinaryParams::defaults(6));
    register(&mut e, 1, 0, 100, NOV + 60);
    register(&mut e, 2, 0, 100, NOV + 60);
    let mut stored = e.stored();
    stored.placements[1] = stored.placements[0];
    assert!(BinaryEngine::restore(e.schedule().clone(), e.users().to_vec(), stored).is_err(), "a slot taken twice");
    let mut stored = e.stored();
    stored.members[1].consumed = 1;
    assert!(BinaryEngine::restore(e.schedule().clone(), e.users().to_vec(), stored).is_err(), "A has no right leg");
    let stored = e.stored();
    assert!(BinaryEngine::restore(e.schedule().clone(), e.users()[..2].to_vec(), stored).is_err(), "a user missing");
}
