use alloy::primitives::Address;

use super::*;
use crate::plan::*;

const BNB: Amount = 1_000_000_000_000_000_000;

fn addr(n: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&n.to_be_bytes());
    b[0] = 0xaa;
    Address::from(b)
}

fn engine(params: PlanParams) -> PlanEngine {
    PlanEngine::new(addr(0), PlanSchedule::new(params).unwrap())
}

fn register(e: &mut PlanEngine, user: u64, sponsor: u64) -> PoolOutcome {
    let amount = e.schedule().latest().params.registration_fee;
    let out = e.apply(1, &PlanEvent::Registration { user: addr(user), sponsor: addr(sponsor), amount }).unwrap();
    out.check_conservation().unwrap();
    out
}

fn retopup(e: &mut PlanEngine, user: u64) -> PoolOutcome {
    let amount = e.schedule().latest().params.retopup_fee;
    let out = e.apply(1, &PlanEvent::Retopup { user: addr(user), amount }).unwrap();
    out.check_conservation().unwrap();
    out
}

/// (beneficiary, kind, amount, status) of every credit.
fn credits(out: &PoolOutcome) -> Vec<(UserNo, RewardKind, Amount, RewardStatus)> {
    out.credits.iter().map(|c| (c.beneficiary, c.kind, c.amount, c.status)).collect()
}

fn company(out: &PoolOutcome) -> Amount {
    out.company.iter().map(|c| c.amount).sum()
}

fn owners(e: &PlanEngine, level: u32) -> Vec<UserNo> {
    e.tree(level).iter().map(|n| n.owner).collect()
}

use RewardKind::*;
use RewardStatus::*;

#[test]
fn worked_example_of_plan_section_8() {
    let mut e = engine(PlanParams::defaults(18));
    // Users by number (registration order): G=0, A=1, B=2, C=3, D=4, E=5, F=6, H=7, I=8.
    let (g, a, b) = (0, 1, 2);
    type Row = (u64, u64, Vec<(UserNo, RewardKind, Amount, RewardStatus)>, Amount, Vec<UserNo>);
    let rows: Vec<Row> = vec![
        (1, 0, vec![(g, Direct, 18 * BNB, Pending)], 2 * BNB, vec![]),
        (2, 0, vec![], 20 * BNB, vec![g]),
        (3, 1, vec![(a, Direct, 18 * BNB, Pending)], 2 * BNB, vec![g]),
        (4, 1, vec![(g, PoolL1, 10 * BNB, Pending)], 10 * BNB, vec![g, a]),
        (5, 2, vec![(b, Direct, 18 * BNB, Pending)], 2 * BNB, vec![g, a]),
        (6, 2, vec![(g, PoolL1, 10 * BNB, Pending)], 10 * BNB, vec![g, a, b]),
        (7, 0, vec![(g, Direct, 18 * BNB, Pending)], 2 * BNB, vec![g, a, b]),
        (8, 0, vec![(a, PoolL1, 10 * BNB, Pending), (g, PoolL2, 5 * BNB, Pending)], 5 * BNB, vec![g, a, b, g]),
    ];
    for (i, (user, sponsor, want, want_company, want_tree)) in rows.into_iter().enumerate() {
        let out = register(&mut e, user, sponsor);
        assert_eq!(credits(&out), want, "event {}", i + 1);
        assert_eq!(company(&out), want_company, "event {}", i + 1);
        assert_eq!(owners(&e, 1), want_tree, "event {}", i + 1);
    }
    let out = retopup(&mut e, 1);
    assert_eq!(credits(&out), vec![]);
    assert_eq!(company(&out), 40 * BNB);
    let out = retopup(&mut e, 3);
    assert_eq!(credits(&out), vec![(a, Level, 12 * BNB, Pending)]);
    assert_eq!(out.credits[0].level, 1);
    assert_eq!(company(&out), 28 * BNB);
    assert_eq!(owners(&e, 1), vec![g, a, b, g]);
    assert_eq!(e.user(g).direct_count, 4);
    assert_eq!(e.user(g).nodes_in(1), 2);
}

#[test]
fn first_nodes_of_a_level_send_missing_ancestor_shares_to_the_company() {
    let mut p = PlanParams::defaults(18);
    p.pool_entry_every = 1;
    let mut e = engine(p);
    // Each registration under G places G at level 1, so positions are 0, 1, 2, ...
    let q0 = register(&mut e, 1, 0);
    assert_eq!(credits(&q0), vec![]);
    assert_eq!(company(&q0), 20 * BNB);
    let q1 = register(&mut e, 2, 0);
    assert_eq!(credits(&q1), vec![(0, PoolL1, 10 * BNB, Pending)]);
    assert_eq!(company(&q1), 10 * BNB);
    let q2 = register(&mut e, 3, 0);
    assert_eq!(company(&q2), 10 * BNB);
    let q3 = register(&mut e, 4, 0);
    assert_eq!(credits(&q3), vec![(0, PoolL1, 10 * BNB, Pending), (0, PoolL2, 5 * BNB, Pending)]);
    assert_eq!(company(&q3), 5 * BNB);
    for u in 5..=7 {
        register(&mut e, u, 0);
    }
    let q7 = register(&mut e, 8, 0);
    assert_eq!(q7.placements[0].position, 7);
    assert_eq!(credits(&q7).len(), 3);
    assert_eq!(q7.credits[2].kind, PoolL3);
    assert_eq!(q7.credits[2].status, Pending, "slot 7 is not reserved");
    assert_eq!(company(&q7), 2 * BNB);
}

/// Slot of every descendant by explicit BFS over children 2q+1, 2q+2 (independent of §3.3).
fn bfs_matrix(a: u64) -> Vec<u64> {
    let mut layer = vec![a];
    let mut out = Vec::new();
    for _ in 0..3 {
        layer = layer.iter().flat_map(|&x| [2 * x + 1, 2 * x + 2]).collect();
        out.extend(&layer);
    }
    out
}

#[test]
fn reserve_takes_the_last_slots_and_slot_14_completes() {
    let mut p = PlanParams::defaults(18);
    p.pool_entry_every = 1;
    p.max_nodes_per_level = 1000;
    let mut e = engine(p);
    // Every referral is a pool entry, so 40 registrations under G give G nodes 0..40.
    for u in 1..=40u64 {
        register(&mut e, 1000 + u, 0);
    }
    // The slot formula of §3.3 agrees with an explicit BFS over each node's descendants.
    for a in 0..3u64 {
        let m = bfs_matrix(a);
        for (slot0, q) in m.iter().enumerate() {
            let slot = slot0 as u64 + 1;
            let d = if slot <= 2 {
                1
            } else if slot <= 6 {
                2
            } else {
                3
            };
            let span = 1u64 << d;
            assert_eq!((span - 1) + (q - (span * a + span - 1)), slot);
        }
        assert!(e.tree(1)[a as usize].completed, "node {a} has its slot 14 filled");
    }
    let completed = e.tree(1).iter().filter(|n| n.completed).count();
    let last = 39u64;
    let want = (0..=last).filter(|&a| bfs_matrix(a)[13] <= last).count();
    assert_eq!(completed, want);
    let out = register(&mut e, 2000, 0);
    assert_eq!(out.placements[0].position, 40);
    // q=40: ancestors 19, 9, 4; slot of 40 in 4 is 7 + (40 - 39) = 8 → payable.
    assert_eq!(out.credits[2].status, Pending);
    // q=41..=46 → slots 9..14 of node 4 (positions 39..=46): 41,42 payable; 43..=46 reserved.
    let mut statuses = Vec::new();
    for u in 2001..=2006 {
        let out = register(&mut e, u, 0);
        statuses.push(out.credits[2].status);
    }
    assert_eq!(statuses, [Pending, Pending, Reserved, Reserved, Reserved, Reserved]);
    assert!(e.tree(1)[4].completed);
}

#[test]
fn reserve_feeds_auto_progression_and_keeps_the_remainder() {
    // Every referral of G is a pool entry, so G owns every node and every reserved credit.
    let mut p = PlanParams::defaults(18);
    p.pool_entry_every = 1;
    p.max_nodes_per_level = 10_000;
    let mut e = engine(p);
    let mut reserved = 0u128;
    let mut progression = None;
    for u in 1..=200u64 {
        let out = register(&mut e, u, 0);
        for c in &out.credits {
            if c.status == Reserved && c.level == 1 {
                reserved += c.amount;
            }
        }
        if out.placements.len() > 1 && progression.is_none() {
            progression = Some((u, out));
        }
    }
    let (_, out) = progression.expect("an auto-progression happens");
    // 14 reserved credits of 3 BNB = 42 ≥ 40: one level-2 placement, 2 BNB stays in reserve.
    let auto = &out.placements[1];
    assert_eq!(auto.level, 2);
    assert_eq!(auto.position, 0);
    assert_eq!(auto.amount, 40 * BNB);
    assert_eq!(auto.cause, PlacementCause::AutoProgression { parent: 0 });
    assert_eq!(out.reserve_movements.last().unwrap().change, ReserveChange::Take { placement: 1, amount: 40 * BNB });
    assert_eq!(out.reserve_movements.last().unwrap().balance_after, 2 * BNB);
    // Level-2 first node: no ancestors → all 40 to the company, in the auto-progression group.
    let auto_company: Amount = out.company.iter().filter(|c| c.placement == Some(1)).map(|c| c.amount).sum();
    assert_eq!(auto_company, 40 * BNB);
    let taken: Amount = e.tree(2).len() as u128 * 40 * BNB;
    assert_eq!(e.user(0).reserve_towards(2), reserved - taken);
}

/// A plan where every level-3-layer share is the whole price and always reserved, so one
/// registration can cascade through several levels.
fn cascading_plan() -> PlanParams {
    PlanParams {
        registration_fee: 100,
        direct_amount: 90,
        pool_entry_every: 1,
        max_nodes_per_level: 1_000_000,
        level_price: vec![100, 200, 400],
        layer_bps: [0, 0, 10_000],
        reserve_slots: 8,
        retopup_fee: 7,
        level_bps: vec![10_000],
    }
}

#[test]
fn auto_progressions_cascade_depth_first_up_to_the_top_level() {
    let mut e = engine(cascading_plan());
    let mut cascade = None;
    for u in 1..=200u64 {
        let out = register(&mut e, u, 0);
        if out.placements.iter().any(|p| p.level == 3) && cascade.is_none() {
            cascade = Some(out);
        }
    }
    let out = cascade.expect("a registration cascades to level 3");
    let levels: Vec<u32> = out.placements.iter().map(|p| p.level).collect();
    assert_eq!(levels, vec![1, 2, 3]);
    assert_eq!(out.placements[2].cause, PlacementCause::AutoProgression { parent: 1 });
    // Level 3 is the top level: its slot-7+ credits are payable, never reserved.
    for u in 201..=2000u64 {
        let out = register(&mut e, u, 0);
        for c in &out.credits {
            if c.level == 3 {
                assert_eq!(c.status, Pending);
            }
        }
    }
    assert!(e.tree(3).len() > 8, "top level reached slot 7+ of node 0");
    assert!(e.user(0).reserves().all(|(l, _)| l <= 3));
}

#[test]
fn the_top_level_pays_its_last_slots() {
    let mut p = cascading_plan();
    p.level_price = vec![100];
    let mut e = engine(p);
    for u in 1..=15u64 {
        let out = register(&mut e, u, 0);
        for c in &out.credits {
            assert_eq!(c.status, Pending);
        }
        assert_eq!(out.placements.len(), 1);
    }
    assert!(e.tree(1)[0].completed);
    assert_eq!(e.user(0).reserves().count(), 0);
}

#[test]
fn a_sponsor_at_max_nodes_per_level_gets_direct_rewards_again() {
    let mut e = engine(PlanParams::defaults(18));
    for u in 1..=30u64 {
        let out = register(&mut e, u, 0);
        if u % 2 == 0 {
            assert_eq!(out.placements.len(), 1, "referral {u} is a pool entry");
        }
    }
    assert_eq!(e.user(0).nodes_in(1), 15);
    let out31 = register(&mut e, 31, 0);
    assert_eq!(credits(&out31), vec![(0, Direct, 18 * BNB, Pending)]);
    let out32 = register(&mut e, 32, 0);
    assert!(out32.placements.is_empty(), "16th node refused");
    assert_eq!(credits(&out32), vec![(0, Direct, 18 * BNB, Pending)]);
    assert_eq!(company(&out32), 2 * BNB);
    assert_eq!(e.user(0).nodes_in(1), 15);
}

#[test]
fn max_nodes_per_level_also_stops_auto_progression_and_the_reserve_waits() {
    let mut p = cascading_plan();
    p.max_nodes_per_level = 12;
    p.level_price = vec![100, 200];
    let mut e = engine(p);
    for u in 1..=12u64 {
        register(&mut e, u, 0);
    }
    // G holds 12 level-1 nodes (cap), positions 7..=11 credited 100 each to G's reserve.
    assert_eq!(e.user(0).nodes_in(1), 12);
    assert_eq!(e.user(0).nodes_in(2), 2);
    assert_eq!(e.user(0).reserve_towards(2), 100);
    // With a cap of 2, user 1 owns level-1 nodes 2 and 3, whose slots 7..=14 (positions
    // 23..=38) all reserve 100: 1600 saved, only 2 × 200 taken, 1200 waits in the reserve.
    let mut p2 = cascading_plan();
    p2.level_price = vec![100, 200];
    p2.max_nodes_per_level = 2;
    let mut e = engine(p2);
    for u in 1..=20u64 {
        register(&mut e, u, 0);
    }
    for u in 1..=20u64 {
        register(&mut e, 100 + 2 * u, u);
        register(&mut e, 101 + 2 * u, u);
    }
    assert!(e.users().iter().all(|u| u.nodes_in(1) <= 2 && u.nodes_in(2) <= 2));
    assert_eq!(owners(&e, 1)[2..4], [1, 1]);
    assert_eq!(e.user(1).nodes_in(2), 2);
    assert_eq!(e.user(1).reserve_towards(2), 1200);
}

#[test]
fn rounding_dust_goes_to_the_company_with_an_odd_usdt_fee() {
    let mut p = PlanParams::defaults(6);
    p.registration_fee = 20_000_001;
    p.level_price[0] = 20_000_001;
    p.direct_amount = 18_000_000;
    p.retopup_fee = 40_000_003;
    p.pool_entry_every = 1;
    let mut e = engine(p);
    register(&mut e, 1, 0);
    register(&mut e, 2, 1); // user 1's first referral enters: q=1, parent G
    for u in 3..=4 {
        register(&mut e, u, 0);
    }
    let out = register(&mut e, 5, 0); // q=4: parent 1 (user 1), grandparent 0 (G)
    assert_eq!(out.placements[0].position, 4);
    assert_eq!(credits(&out), vec![(1, PoolL1, 10_000_000, Pending), (0, PoolL2, 5_000_000, Pending)]);
    assert_eq!(company(&out), 20_000_001 - 15_000_000);
    // 20_000_001 * 1500 / 10000 = 3_000_000.15 → 3_000_000, dust .15 to the company.
    for u in 6..=8 {
        register(&mut e, u, 0);
    }
    let out = register(&mut e, 9, 0);
    assert_eq!(out.placements[0].position, 8);
    assert_eq!(out.credits.iter().map(|c| c.amount).collect::<Vec<_>>(), vec![10_000_000, 5_000_000, 3_000_000]);
    assert_eq!(company(&out), 2_000_001);
    // Retopup 40_000_003: 30 % = 12_000_000.9 → 12_000_000.
    retopup(&mut e, 0);
    let out = retopup(&mut e, 1);
    assert_eq!(credits(&out), vec![(0, Level, 12_000_000, Pending)]);
    assert_eq!(company(&out), 28_000_003);
}

#[test]
fn a_frozen_user_receives_held_credits_and_reserves_stay_reserved() {
    let mut e = engine(PlanParams::defaults(18));
    e.set_frozen(0, true);
    let out = register(&mut e, 1, 0);
    assert_eq!(credits(&out), vec![(0, Direct, 18 * BNB, Held)]);
    e.set_frozen(0, false);
    let out = register(&mut e, 2, 0);
    assert!(out.credits.is_empty());
    let out = register(&mut e, 3, 0);
    assert_eq!(out.credits[0].status, Pending);
}

#[test]
fn level_income_needs_a_retopup_and_stops_after_ten_sponsors() {
    let mut e = engine(PlanParams::defaults(18));
    // A chain 0 ← 1 ← 2 ← … ← 12; every one retops except user 3.
    for u in 1..=12u64 {
        register(&mut e, u, u - 1);
    }
    for u in 0..=11u64 {
        if u != 3 {
            retopup(&mut e, u);
        }
    }
    let out = retopup(&mut e, 12);
    let got: Vec<(UserNo, u32, Amount)> = out.credits.iter().map(|c| (c.beneficiary, c.level, c.amount)).collect();
    let bps = [3000u128, 1500, 1000, 500, 500, 500, 500, 500, 1000, 1000];
    let want: Vec<(UserNo, u32, Amount)> =
        (1..=10u32).map(|i| (12 - i, i, 40 * BNB * bps[i as usize - 1] / 10_000)).filter(|(u, _, _)| *u != 3).collect();
    assert_eq!(got, want);
    assert_eq!(company(&out), 40 * BNB * 1000 / 10_000, "user 3's 10 % share");
    assert!(e.user(12).has_retopup);
    assert_eq!(e.user(12).retopup_count, 1);
}

#[test]
fn invalid_events_are_refused_without_any_change() {
    let mut e = engine(PlanParams::defaults(18));
    register(&mut e, 1, 0);
    let before = e.clone();
    let cases = [
        (
            PlanEvent::Registration { user: addr(2), sponsor: addr(0), amount: 19 * BNB },
            Rejection::WrongAmount { expected: 20 * BNB, got: 19 * BNB },
        ),
        (
            PlanEvent::Registration { user: addr(1), sponsor: addr(0), amount: 20 * BNB },
            Rejection::DuplicateUser(addr(1)),
        ),
        (
            PlanEvent::Registration { user: addr(0), sponsor: addr(1), amount: 20 * BNB },
            Rejection::DuplicateUser(addr(0)),
        ),
        (
            PlanEvent::Registration { user: addr(2), sponsor: addr(9), amount: 20 * BNB },
            Rejection::UnknownSponsor(addr(9)),
        ),
        (
            PlanEvent::Registration { user: addr(2), sponsor: addr(2), amount: 20 * BNB },
            Rejection::UnknownSponsor(addr(2)),
        ),
        (PlanEvent::Retopup { user: addr(9), amount: 40 * BNB }, Rejection::UnknownUser(addr(9))),
        (
            PlanEvent::Retopup { user: addr(1), amount: 20 * BNB },
            Rejection::WrongAmount { expected: 40 * BNB, got: 20 * BNB },
        ),
    ];
    for (event, want) in cases {
        assert_eq!(e.apply(5, &event), Err(want));
        assert_eq!(e.counters(), before.counters());
        assert_eq!(e.users(), before.users());
        assert_eq!(e.tree(1), before.tree(1));
    }
}

#[test]
fn events_use_the_plan_version_of_their_block() {
    let mut e = engine(PlanParams::defaults(18));
    let mut p2 = PlanParams::defaults(18);
    p2.retopup_fee = 50 * BNB;
    e.schedule_mut().push(100, Some(1), p2).unwrap();
    let old = PlanEvent::Retopup { user: addr(0), amount: 40 * BNB };
    let new = PlanEvent::Retopup { user: addr(0), amount: 50 * BNB };
    assert!(matches!(e.apply(100, &old), Err(Rejection::WrongAmount { .. })));
    let out = e.apply(99, &old).unwrap();
    assert_eq!(out.plan_version, 1);
    let out = e.apply(100, &new).unwrap();
    assert_eq!(out.plan_version, 2);
    assert_eq!(company(&out), 50 * BNB);
}
