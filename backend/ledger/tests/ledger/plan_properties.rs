//! Property tests of the pure plan engine on long random event streams.

use std::collections::HashMap;

use alloy::primitives::Address;
use ledger::plan::{Amount, PlanEngine, PlanParams, PlanSchedule, PoolOutcome, ReserveChange, RewardStatus, UserNo};
use ledger::synthetic::{EventStream, StreamConfig, StreamOp};
use proptest::prelude::*;

/// Balances of every user as the outcomes describe them, kept independently of the engine.
#[derive(Default)]
struct Book {
    paid_in: Amount,
    company: Amount,
    pending: HashMap<UserNo, Amount>,
    held: HashMap<UserNo, Amount>,
    reserve: HashMap<(UserNo, u32), Amount>,
}

impl Book {
    fn record(&mut self, out: &PoolOutcome) {
        self.paid_in += out.amount;
        self.company += out.company.iter().map(|c| c.amount).sum::<Amount>();
        for c in &out.credits {
            assert!(c.amount > 0, "zero credit row");
            match c.status {
                RewardStatus::Pending => *self.pending.entry(c.beneficiary).or_default() += c.amount,
                RewardStatus::Held => *self.held.entry(c.beneficiary).or_default() += c.amount,
                RewardStatus::Reserved => {}
                s => panic!("engine created status {s:?}"),
            }
        }
        for m in &out.reserve_movements {
            let r = self.reserve.entry((m.user, m.level)).or_default();
            match m.change {
                ReserveChange::Credit { amount, .. } => *r += amount,
                ReserveChange::Take { amount, .. } => *r = r.checked_sub(amount).expect("reserve never goes negative"),
            }
            assert_eq!(*r, m.balance_after);
        }
    }

    fn freeze(&mut self, u: UserNo, frozen: bool) {
        let (from, to) = if frozen { (&mut self.pending, &mut self.held) } else { (&mut self.held, &mut self.pending) };
        if let Some(a) = from.remove(&u) {
            *to.entry(u).or_default() += a;
        }
    }
}

fn params(every: u32, max_nodes: u32, reserve_slots: u32, layer: [u32; 3], odd: bool) -> PlanParams {
    let mut p = PlanParams::defaults(6);
    p.pool_entry_every = every;
    p.max_nodes_per_level = max_nodes;
    p.reserve_slots = reserve_slots;
    p.layer_bps = layer;
    if odd {
        p.registration_fee = 20_000_001;
        p.level_price[0] = 20_000_001;
        p.retopup_fee = 40_000_003;
    }
    p
}

fn stream(seed: u64, p: &PlanParams, invalid: u32, freeze: u32) -> EventStream {
    EventStream::new(StreamConfig {
        seed,
        chain_id: 31337,
        token: Address::ZERO,
        genesis: Address::repeat_byte(0x11),
        registration_fee: p.registration_fee,
        retopup_fee: p.retopup_fee,
        events_per_block: 7,
        retopup_per_mille: 250,
        invalid_per_mille: invalid,
        freeze_per_mille: freeze,
        place_per_mille: 5,
    })
}

/// Runs `ops` operations and checks every invariant the engine alone can show.
fn run(seed: u64, p: PlanParams, ops: usize) -> Vec<PoolOutcome> {
    let mut s = stream(seed, &p, 20, 10);
    let mut e = PlanEngine::new(Address::repeat_byte(0x11), PlanSchedule::new(p.clone()).unwrap());
    let mut book = Book::default();
    let mut outcomes = Vec::new();
    let mut last_block = 0;
    for _ in 0..ops {
        match s.next_op() {
            StreamOp::Event(ev) => {
                last_block = ev.block_number;
                let before = e.counters();
                match e.apply(ev.block_number, &ev.body.plan_event().expect("plan event")) {
                    Ok(out) => {
                        out.check_conservation().unwrap();
                        book.record(&out);
                        outcomes.push(out);
                    }
                    Err(_) => assert_eq!(e.counters(), before, "a refusal changes nothing"),
                }
            }
            op @ (StreamOp::Freeze(a) | StreamOp::Unfreeze(a)) => {
                let no = e.user_no(&a).unwrap();
                let frozen = matches!(op, StreamOp::Freeze(_));
                e.set_frozen(no, frozen);
                book.freeze(no, frozen);
            }
            StreamOp::Place(a, level) => {
                // The company pays the price, as the ledger allows only when its share covers it.
                let no = e.user_no(&a).unwrap();
                let price = p.price(level).unwrap();
                if book.company < price {
                    continue;
                }
                let before = e.counters();
                if let Some(out) = e.place_for_company(last_block, no, level) {
                    out.check_conservation().unwrap();
                    assert_eq!(e.counters().applied_events, before.applied_events, "a placement is not an event");
                    book.company -= price;
                    book.paid_in -= price;
                    book.record(&out);
                    outcomes.push(out);
                }
            }
        }
    }
    // Every unit paid in is payable, the company's, or waiting in a reserve.
    let reserves: Amount = e.users().iter().flat_map(|u| u.reserves().map(|(_, a)| a)).sum();
    let payable: Amount = book.pending.values().chain(book.held.values()).sum();
    assert_eq!(book.paid_in, payable + book.company + reserves);
    for (no, u) in e.users().iter().enumerate() {
        for (level, a) in u.reserves() {
            assert_eq!(book.reserve.get(&(no as UserNo, level)).copied(), Some(a));
        }
        if u.frozen {
            assert!(!book.pending.contains_key(&(no as UserNo)), "frozen user has pending");
        }
    }
    // Trees: node counts per owner match, and completion is exactly "slot 14 filled".
    for level in 1..=15 {
        let tree = e.tree(level);
        let mut count: HashMap<UserNo, u32> = HashMap::new();
        for (a, n) in tree.iter().enumerate() {
            *count.entry(n.owner).or_default() += 1;
            assert_eq!(n.completed, 8 * a + 14 < tree.len(), "level {level} node {a}");
        }
        for (no, u) in e.users().iter().enumerate() {
            let c = count.get(&(no as UserNo)).copied().unwrap_or(0);
            assert_eq!(u.nodes_in(level), c);
        }
    }
    outcomes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_streams_conserve_every_unit(
        seed in any::<u64>(),
        every in 1u32..=4,
        max_nodes in 1u32..=15,
        reserve_slots in 0u32..=8,
        l1 in 0u32..=6000,
        l2 in 0u32..=3000,
        l3 in 0u32..=1000,
        odd in any::<bool>(),
    ) {
        run(seed, params(every, max_nodes, reserve_slots, [l1, l2, l3], odd), 4000);
    }
}

#[test]
fn a_long_stream_with_default_parameters_conserves_and_is_deterministic() {
    let p = params(2, 15, 4, [5000, 2500, 1500], true);
    let a = run(7, p.clone(), 60_000);
    let b = run(7, p, 60_000);
    assert!(a.len() > 50_000);
    assert!(a.iter().any(|o| o.placements.len() > 1), "auto-progressions happened");
    assert_eq!(a, b, "same events, same outcomes");
}
