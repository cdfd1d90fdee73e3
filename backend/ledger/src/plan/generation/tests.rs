//! The generation plan against PLAN-GENERATION.md: the defaults (§0), the worked example row by row (§7), weeks
//! and rank bonuses (§3), and the invariants of §6 on random sequences.

use alloy::primitives::Address;
use proptest::prelude::*;

use super::*;

const USDT: Amount = 1_000_000;
const T0: u64 = 345_600 + 2_900 * WEEK_SECS;

fn addr(n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&(n + 1).to_be_bytes());
    Address::from(b)
}

fn engine(params: GenerationParams) -> GenerationEngine {
    GenerationEngine::new(addr(0), PlanSchedule::new(params).expect("a valid plan"))
}

fn register(e: &mut GenerationEngine, user: u64, sponsor: u64, amount: Amount, t: u64) -> EventOutcome {
    e.apply(1, t, &PlanEvent::Registration { user: addr(user), sponsor: addr(sponsor), amount }).expect("applied")
}

fn buy(e: &mut GenerationEngine, user: u64, amount: Amount, t: u64) -> EventOutcome {
    e.apply(1, t, &PlanEvent::Retopup { user: addr(user), amount }).expect("applied")
}

/// (beneficiary, level, whole USDT) of each credit, and the company's credit in whole USDT.
fn rows(o: &EventOutcome) -> (Vec<(UserNo, u32, Amount)>, Amount) {
    assert!(o.credits.iter().all(|c| c.kind == RewardKind::Generation));
    o.check_conservation().expect("P = Σ credits + company credit");
    let company: Amount = o.company.iter().map(|c| c.amount).sum();
    (o.credits.iter().map(|c| (c.beneficiary, c.level, c.amount / USDT)).collect(), company / USDT)
}

#[test]
fn the_defaults_are_the_specs() {
    let p = GenerationParams::defaults(6);
    assert_eq!(p.gen_bps.iter().sum::<u32>(), 3150);
    assert_eq!(p.direct_req, [0, 0, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10]);
    assert_eq!(&p.gen_bps[..6], &[1000, 500, 300, 250, 200, 100]);
    assert_eq!((p.gen_bps[9], p.gen_bps[10], p.gen_bps[14], p.gen_bps[15], p.gen_bps[19]), (100, 50, 50, 30, 30));
    assert_eq!(p.withdrawal_fee(100 * USDT), 5 * USDT);
    assert_eq!(p.withdrawal_fee(1), 1, "rounded up: the dust is the company's");
    // Week 0 starts on Monday 1970-01-05; a block at a week's end belongs to the next week.
    assert_eq!((p.week_of(345_599), p.week_of(345_600), p.week_of(345_600 + WEEK_SECS)), (0, 0, 1));
    let stored: GenerationParams = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(stored, p, "parameters survive their JSON form");
    let mut bad = p.clone();
    bad.direct_req[5] = 1;
    assert!(bad.validate().is_err());
    let mut bad = p.clone();
    bad.packages = vec![500 * USDT, 100 * USDT];
    assert!(bad.validate().is_err());
    let mut bad = p.clone();
    bad.gen_bps[0] = 8000;
    assert!(bad.validate().is_err(), "Σ gen_bps above 10000");
    let mut bad = p.clone();
    bad.withdrawal_fee_bps = 2001;
    assert!(bad.validate().is_err());
    let mut bad = p.clone();
    bad.ranks.swap(0, 1);
    assert!(bad.validate().is_err());
    let mut bad = p;
    bad.cap_bps = 9_999;
    assert!(bad.validate().is_err());
}

/// PLAN-GENERATION.md §7, row by row.
#[test]
fn the_worked_example_row_by_row() {
    let mut e = engine(GenerationParams::defaults(6));
    let (g, a, b, c, d) = (0u32, 1u32, 2u32, 3u32, 4u32);
    let o = register(&mut e, 1, 0, 100 * USDT, T0);
    assert_eq!((o.user, rows(&o)), (a, (vec![(g, 1, 10)], 90)));
    let o = register(&mut e, 2, 1, 500 * USDT, T0);
    assert_eq!((o.user, rows(&o)), (b, (vec![(a, 1, 50), (g, 2, 25)], 425)));
    let o = register(&mut e, 3, 2, 1000 * USDT, T0);
    assert_eq!((o.user, rows(&o)), (c, (vec![(b, 1, 100), (a, 2, 50)], 850)), "G L3: 1 direct < 2");
    let o = register(&mut e, 4, 0, 100 * USDT, T0);
    assert_eq!((o.user, rows(&o)), (d, (vec![(g, 1, 10)], 90)), "G now has 2 directs");
    let o = buy(&mut e, 3, 1000 * USDT, T0);
    assert_eq!(rows(&o), (vec![(b, 1, 100), (a, 2, 50), (g, 3, 30)], 820));
    let o = buy(&mut e, 3, 5000 * USDT, T0);
    assert_eq!(rows(&o), (vec![(b, 1, 500), (a, 2, 150), (g, 3, 150)], 4200), "A reaches 3 × 100");
    // After event 6: A earned 300 = cap, B earned 700 of 1500, legs under G: A's 7600, D's 100.
    let sa = e.standing(a).unwrap();
    assert_eq!((sa.paid_in, sa.cap, sa.earned, sa.room()), (100 * USDT, Some(300 * USDT), 300 * USDT, Some(0)));
    let sb = e.standing(b).unwrap();
    assert_eq!((sb.paid_in, sb.cap, sb.earned), (500 * USDT, Some(1500 * USDT), 700 * USDT));
    let sg = e.standing(g).unwrap();
    assert_eq!((sg.main, sg.other, sg.directs, sg.cap), (7600 * USDT, 100 * USDT, 2, None));
    assert_eq!(e.users_at_cap(), 1);
    assert_eq!(e.open_levels(g), vec![1, 2, 3, 4], "two directs open L1–L4");
    // A at its cap earns nothing more until it buys again.
    let o = buy(&mut e, 2, 100 * USDT, T0);
    assert_eq!(rows(&o).0, vec![(g, 2, 5)], "A has no room: its L1 share stays with the company");
    let o = buy(&mut e, 1, 500 * USDT, T0);
    assert_eq!(rows(&o).0, vec![(g, 1, 50)]);
    let o = buy(&mut e, 2, 100 * USDT, T0);
    assert_eq!(rows(&o).0, vec![(a, 1, 10), (g, 2, 5)], "A's purchase raised its cap by 1500");
    let refused = e.apply(1, T0, &PlanEvent::Retopup { user: addr(3), amount: 200 * USDT });
    assert_eq!(
        refused.map(|_| ()),
        Err(Rejection::NotAPackage { got: 200 * USDT, packages: e.schedule().latest().params.packages.clone() })
    );
    // A frozen sponsor's credits are held.
    e.set_frozen(b, true);
    let o = buy(&mut e, 3, 100 * USDT, T0);
    assert_eq!((o.credits[0].beneficiary, o.credits[0].status), (b, RewardStatus::Held));
    assert!(o.credits[1..].iter().all(|c| c.status == RewardStatus::Pending));
}

/// A member who left (PLAN.md §5): what would be theirs is the company's — their generation shares as
/// `exited_member`, their rank bonus kept by the company it is paid from — and everyone else's stays as it was.
#[test]
fn an_exited_members_shares_and_bonuses_are_the_companys() {
    let mut p = GenerationParams::defaults(6);
    p.ranks = vec![Rank { name: "Test".into(), main: 1000 * USDT, other: 1000 * USDT, bonus: 3000 * USDT }];
    let t0 = 345_600 + 10 * WEEK_SECS + 5;
    let (mut e, mut twin) = (engine(p.clone()), engine(p));
    for x in [&mut e, &mut twin] {
        register(x, 1, 0, 100 * USDT, t0);
    }
    e.set_exited(1);
    assert!(e.users()[1].exited);
    let (mine, theirs) = (register(&mut e, 2, 1, 1000 * USDT, t0), register(&mut twin, 2, 1, 1000 * USDT, t0));
    mine.check_conservation().expect("P = Σ credits + company credits");
    assert_eq!(rows(&theirs).0, vec![(1, 1, 100), (0, 2, 50)], "X's L1 share, G's L2");
    assert_eq!(rows(&mine).0, vec![(0, 2, 50)], "G's share is G's; X's is not X's");
    let reasons: Vec<_> = mine.company.iter().map(|c| (c.reason, c.amount / USDT)).collect();
    assert_eq!(reasons, [(CompanyReason::GenerationRest, 850), (CompanyReason::ExitedMember, 100)]);
    for x in [&mut e, &mut twin] {
        register(x, 3, 1, 1000 * USDT, t0);
    }
    // X ranks in week 10 on both; only the twin pays it.
    let (mine, theirs) = (e.close_through(3, t0 + WEEK_SECS), twin.close_through(3, t0 + WEEK_SECS));
    assert_eq!(mine[0].ranked, theirs[0].ranked, "X still ranks: its place in the tree never changes");
    assert!(theirs[0].credited() > 0);
    assert_eq!(mine[0].credited(), 0);
    assert_eq!(e.company(), twin.company() + theirs[0].credited() + 200 * USDT, "X's two L1 shares and its bonus");
}

/// Weeks close on block time, in order; bonuses are scaled to the company's balance, rounded down each.
#[test]
fn rank_bonuses_close_weekly_and_are_scaled_to_the_company() {
    let mut p = GenerationParams::defaults(6);
    p.ranks = vec![Rank { name: "Test".into(), main: 1000 * USDT, other: 1000 * USDT, bonus: 3000 * USDT }];
    let mut e = engine(p.clone());
    let t0 = 345_600 + 10 * WEEK_SECS + 5;
    register(&mut e, 1, 0, 100 * USDT, t0);
    register(&mut e, 2, 1, 1000 * USDT, t0);
    register(&mut e, 3, 1, 1000 * USDT, t0);
    assert!(e.close_through(2, t0 + WEEK_SECS - 6).is_empty(), "the week has not ended");
    // The company holds 90 (X's registration, after G's 10) + 2 × 850 (Y's and Z's, after X's 100 and G's 50).
    assert_eq!(e.company(), 1790 * USDT);
    let closes = e.close_through(3, t0 + 2 * WEEK_SECS);
    assert_eq!(closes.iter().map(|c| c.period).collect::<Vec<_>>(), vec![10, 11], "a week with no events closes too");
    let first = &closes[0];
    assert_eq!(first.ranked, vec![Ranked { user: 1, rank: 1, main: 1000 * USDT, other: 1000 * USDT }]);
    assert_eq!((first.bonuses, first.company_before, first.period_end), (3000 * USDT, 1790 * USDT, p.week_end(10)));
    // 3000 scaled to the company's 1790, then bounded by X's room: 3 × 100 − 200 earned.
    assert_eq!(first.credits.len(), 1);
    assert_eq!((first.credits[0].amount, first.credits[0].kind), (100 * USDT, RewardKind::RankBonus));
    assert_eq!(closes[1].credited(), 0, "X is at its cap: no row, nothing carried forward");
    assert_eq!(e.company(), 1690 * USDT);
    assert_eq!(e.standing(1).unwrap().room(), Some(0));
    let late = e.apply(4, t0, &PlanEvent::Retopup { user: addr(1), amount: 100 * USDT });
    assert_eq!(late.map(|_| ()), Err(Rejection::PeriodOrder { timestamp: t0 }), "an event of a closed week");
    // A purchase raises the cap: the rank pays again at the next close.
    buy(&mut e, 1, 100 * USDT, t0 + 2 * WEEK_SECS);
    let closes = e.close_through(5, t0 + 3 * WEEK_SECS);
    assert_eq!(closes.iter().map(PeriodClose::credited).collect::<Vec<_>>(), vec![300 * USDT]);
}

/// A bonus larger than the company's balance is scaled down, each rounded down on its own.
#[test]
fn bonuses_above_the_company_are_scaled_and_rounded_down_each() {
    let mut p = GenerationParams::defaults(0);
    p.cap_bps = 1_000_000;
    p.gen_bps = [0; LEVELS];
    p.ranks = vec![Rank { name: "R".into(), main: 100, other: 100, bonus: 1000 }];
    let mut e = engine(p);
    let t = 345_600;
    for (x, s) in [(1, 0), (2, 1), (3, 1), (4, 0), (5, 4), (6, 4)] {
        register(&mut e, x, s, 100, t);
    }
    e.set_company_balance(1001);
    let closes = e.close_through(2, t + WEEK_SECS);
    let c = &closes[0];
    assert_eq!((c.bonuses, c.company_before), (2000, 1001));
    // ⌊1000 × 1001 / 2000⌋ = 500 each; the unit of dust stays with the company.
    assert_eq!(c.credits.iter().map(|c| c.amount).collect::<Vec<_>>(), vec![500, 500]);
    assert_eq!(e.company(), 1);
}

#[derive(Debug, Clone)]
enum Step {
    Register { sponsor: usize, package: usize },
    Purchase { user: usize, package: usize },
    Advance { secs: u64 },
    Company { amount: u64 },
    Freeze { user: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (any::<usize>(), 0..4usize).prop_map(|(sponsor, package)| Step::Register { sponsor, package }),
        8 => (any::<usize>(), 0..4usize).prop_map(|(user, package)| Step::Purchase { user, package }),
        2 => (0..3 * WEEK_SECS).prop_map(|secs| Step::Advance { secs }),
        1 => (0..1_000u64).prop_map(|amount| Step::Company { amount }),
        1 => any::<usize>().prop_map(|user| Step::Freeze { user }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// §6 on random sequences of thousands of events over several weeks: each purchase adds up to its amount,
    /// each close's credits are the company's debit and never take it below zero, and nobody but genesis earns
    /// above their cap after any event or close.
    #[test]
    fn every_purchase_and_close_conserves_and_nobody_passes_their_cap(steps in prop::collection::vec(step(), 1..3000)) {
        let mut p = GenerationParams::defaults(0);
        // Low thresholds so that ranks are reached within a few hundred purchases.
        p.ranks = vec![
            Rank { name: "R1".into(), main: 500, other: 500, bonus: 100 },
            Rank { name: "R2".into(), main: 2_000, other: 2_000, bonus: 400 },
        ];
        let mut e = engine(p.clone());
        let mut now = 345_600 + 3 * WEEK_SECS;
        let mut block = 1;
        let mut users = 1u64;
        for s in steps {
            let mut closes = Vec::new();
            match s {
                Step::Register { sponsor, package } => {
                    let sponsor = addr(sponsor as u64 % users);
                    let event = PlanEvent::Registration { user: addr(users), sponsor, amount: p.packages[package] };
                    let o = e.apply(block, now, &event).unwrap();
                    prop_assert!(o.check_conservation().is_ok());
                    users += 1;
                }
                Step::Purchase { user, package } => {
                    let event = PlanEvent::Retopup { user: addr(user as u64 % users), amount: p.packages[package] };
                    let o = e.apply(block, now, &event).unwrap();
                    prop_assert!(o.check_conservation().is_ok());
                }
                Step::Advance { secs } => {
                    now += secs;
                    block += 1;
                    let before = e.company();
                    closes = e.close_through(block, now);
                    let debited: Amount = closes.iter().map(PeriodClose::credited).sum();
                    prop_assert_eq!(before - debited, e.company(), "the company paid exactly the bonuses");
                }
                Step::Company { amount } => e.set_company_balance(e.company() + u128::from(amount)),
                Step::Freeze { user } => {
                    let u = (user as u64 % users) as UserNo;
                    let frozen = e.users()[u as usize].frozen;
                    e.set_frozen(u, !frozen);
                }
            }
            for c in &closes {
                prop_assert!(c.credited() <= c.company_before, "a close never takes the company below zero");
                prop_assert!(c.credits.iter().all(|r| r.kind == RewardKind::RankBonus));
            }
            for u in 1..users as UserNo {
                let s = e.standing(u).unwrap();
                prop_assert!(s.earned <= s.cap.unwrap(), "user {} earned {} above its cap {:?}", u, s.earned, s.cap);
            }
        }
    }
}
