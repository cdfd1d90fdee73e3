//! The auto-pool plan's engine (PLAN.md): users, the breadth-first tree of every level, plan versions and row
//! counters of one asset, and the decisions each event takes on them.

use std::collections::HashMap;

use alloy::primitives::Address;

use super::{Placement, PlacementCause, PoolOutcome, ReserveChange, ReserveMovement};
use crate::plan::params::{MATRIX_SLOTS, PlanParams, PlanSchedule, share};
use crate::plan::vocabulary::*;

/// A node of a level's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolNode {
    /// User who holds the node (one user may hold several per level).
    pub owner: UserNo,
    /// All 14 slots of its matrix are filled (§3.5).
    pub completed: bool,
}

/// The plan state of one asset; see the module documentation.
#[derive(Debug, Clone)]
pub struct PlanEngine {
    schedule: PlanSchedule,
    users: Vec<UserState>,
    by_address: HashMap<Address, UserNo>,
    /// `levels[L-1]` is the tree of level L in heap order.
    levels: Vec<Vec<PoolNode>>,
    counters: RowCounters,
}

impl PlanEngine {
    /// A fresh plan whose only user is the active genesis user (number 0).
    pub fn new(genesis: Address, schedule: PlanSchedule) -> Self {
        let mut engine = Self {
            schedule,
            users: Vec::new(),
            by_address: HashMap::new(),
            levels: Vec::new(),
            counters: RowCounters::default(),
        };
        engine.push_user(UserState::new(genesis, None));
        engine
    }

    /// Rebuilds an engine from stored state: users in number order (genesis first), the trees
    /// per level in heap order, reserves as (user, level, amount), and the row counters.
    pub fn restore(
        schedule: PlanSchedule,
        users: Vec<UserState>,
        levels: Vec<Vec<PoolNode>>,
        reserves: impl IntoIterator<Item = (UserNo, u32, Amount)>,
        counters: RowCounters,
    ) -> Self {
        let mut engine = Self {
            schedule,
            users: Vec::with_capacity(users.len()),
            by_address: HashMap::with_capacity(users.len()),
            levels,
            counters,
        };
        for u in users {
            engine.push_user(u);
        }
        for (l, tree) in engine.levels.iter().enumerate() {
            for node in tree {
                *UserState::slot(&mut engine.users[node.owner as usize].nodes, l as u32 + 1) += 1;
            }
        }
        for (user, level, amount) in reserves {
            *UserState::slot(&mut engine.users[user as usize].reserve, level) = amount;
        }
        engine
    }

    fn push_user(&mut self, user: UserState) -> UserNo {
        let no = self.users.len() as UserNo;
        self.by_address.insert(user.address, no);
        self.users.push(user);
        no
    }

    /// The asset's plan versions; the one in force at an event's block prices it.
    pub fn schedule(&self) -> &PlanSchedule {
        &self.schedule
    }

    /// Lets the ledger swap in the stored schedule after an admin added a plan version.
    pub fn schedule_mut(&mut self) -> &mut PlanSchedule {
        &mut self.schedule
    }

    /// Next row numbers; the ledger compares `applied_events` with the asset row to detect drift.
    pub fn counters(&self) -> RowCounters {
        self.counters
    }

    /// The user numbered `no`; panics if there is none (numbers come from this engine).
    pub fn user(&self, no: UserNo) -> &UserState {
        &self.users[no as usize]
    }

    /// Every user in number order, genesis first.
    pub fn users(&self) -> &[UserState] {
        &self.users
    }

    /// The number of the user with this wallet, if registered in the asset.
    pub fn user_no(&self, address: &Address) -> Option<UserNo> {
        self.by_address.get(address).copied()
    }

    /// The tree of `level` in heap order (empty if nothing was placed there).
    pub fn tree(&self, level: u32) -> &[PoolNode] {
        self.levels.get(level as usize - 1).map_or(&[], |t| t.as_slice())
    }

    /// Admin forfeits number company credits too; the ledger moves the counter past them.
    pub fn set_company_credit_counter(&mut self, next: u64) {
        self.counters.company_credit = next;
    }

    /// Sets the frozen flag (an admin action, applied by the ledger outside the event stream).
    pub fn set_frozen(&mut self, user: UserNo, frozen: bool) {
        self.users[user as usize].frozen = frozen;
    }

    /// Marks `user` exited (PLAN.md §5), their reserve left as it is ([`exit`](Self::exit) also clears it).
    pub fn set_exited(&mut self, user: UserNo) {
        if let Some(u) = self.users.get_mut(user as usize) {
            u.exited = true;
        }
    }

    /// Marks `user` exited (PLAN.md §5): later credits that would be theirs, reserved ones included, are the
    /// company's, so they never auto-progress again. Their reserve, paid out by the leave, goes to 0: one movement
    /// number per level that held some, returned as (level, amount, movement number) for the ledger to record.
    pub fn exit(&mut self, user: UserNo) -> Vec<(u32, Amount, u64)> {
        let Some(u) = self.users.get_mut(user as usize) else { return Vec::new() };
        u.exited = true;
        let taken: Vec<(u32, Amount)> = u.reserves().collect();
        u.reserve.clear();
        taken
            .into_iter()
            .map(|(level, amount)| {
                let no = self.counters.reserve_movement;
                self.counters.reserve_movement += 1;
                (level, amount, no)
            })
            .collect()
    }

    /// Checks `event` against the plan version of `block` and applies it, or refuses it
    /// without changing anything.
    pub fn apply(&mut self, block: u64, event: &PlanEvent) -> Result<PoolOutcome, Rejection> {
        event.check_not_a_sale()?;
        let version = self.schedule.at(block).clone();
        let params = &version.params;
        match *event {
            PlanEvent::Registration { user, sponsor, amount } => {
                if amount != params.registration_fee {
                    return Err(Rejection::WrongAmount { expected: params.registration_fee, got: amount });
                }
                if self.by_address.contains_key(&user) {
                    return Err(Rejection::DuplicateUser(user));
                }
                let sponsor_no = self.user_no(&sponsor).ok_or(Rejection::UnknownSponsor(sponsor))?;
                let user_no = self.push_user(UserState::new(user, Some(sponsor_no)));
                let s = &mut self.users[sponsor_no as usize];
                s.direct_count += 1;
                let k = s.direct_count;
                let mut out = self.outcome(version.version, user_no, amount);
                out.registration = Some(RegistrationFacts { sponsor: sponsor_no, referral_number: k });
                if k.is_multiple_of(u64::from(params.pool_entry_every))
                    && self.user(sponsor_no).nodes_in(1) < params.max_nodes_per_level
                {
                    self.place(&mut out, params, sponsor_no, 1, amount, PlacementCause::PoolEntry);
                } else {
                    self.credit(&mut out, sponsor_no, RewardKind::Direct, 0, params.direct_amount, None);
                    self.company(&mut out, amount - params.direct_amount, CompanyReason::RegistrationRest, None);
                }
                Ok(out)
            }
            PlanEvent::Retopup { user, amount } => {
                if amount != params.retopup_fee {
                    return Err(Rejection::WrongAmount { expected: params.retopup_fee, got: amount });
                }
                let user_no = self.user_no(&user).ok_or(Rejection::UnknownUser(user))?;
                let u = &mut self.users[user_no as usize];
                u.has_retopup = true;
                u.retopup_count += 1;
                let mut out = self.outcome(version.version, user_no, amount);
                out.retopup_no = Some(self.counters.retopup);
                self.counters.retopup += 1;
                let mut rest = amount;
                let mut ancestor = self.user(user_no).sponsor;
                for (i, &bps) in params.level_bps.iter().enumerate() {
                    let Some(a) = ancestor else { break };
                    let cut = share(amount, bps);
                    if self.user(a).has_retopup {
                        rest -= cut;
                        self.credit(&mut out, a, RewardKind::Level, i as u32 + 1, cut, None);
                    }
                    ancestor = self.user(a).sponsor;
                }
                self.company(&mut out, rest, CompanyReason::LevelRest, None);
                Ok(out)
            }
            PlanEvent::Sale(_) | PlanEvent::Refund { .. } => unreachable!("refused above"),
        }
    }

    /// An admin's manual placement (not in PLAN.md; see `ledger::admin::manual_placement`): PLACE(owner,
    /// level, level_price[level]) under the plan version of `block`, with the auto-progressions it triggers,
    /// paid by the company. Not an event: the applied-event count stays, `seq` is the count so far, and the
    /// placement is the outcome's group 0 (its credits and company part sum to `amount`, the price). `None`
    /// when the level does not exist, the owner is unknown or already holds `max_nodes_per_level` nodes there.
    pub fn place_for_company(&mut self, block: u64, owner: UserNo, level: u32) -> Option<PoolOutcome> {
        let version = self.schedule.at(block).clone();
        let params = &version.params;
        let price = params.price(level)?;
        if owner as usize >= self.users.len() || self.user(owner).nodes_in(level) >= params.max_nodes_per_level {
            return None;
        }
        let mut out = PoolOutcome::new(self.counters.applied_events, version.version, owner, price);
        self.place(&mut out, params, owner, level, price, PlacementCause::PoolEntry);
        Some(out)
    }

    fn outcome(&mut self, plan_version: u32, user: UserNo, amount: Amount) -> PoolOutcome {
        let seq = self.counters.applied_events;
        self.counters.applied_events += 1;
        PoolOutcome::new(seq, plan_version, user, amount)
    }

    /// Records a payable (or held) credit; zero amounts make no row.
    fn credit(
        &mut self,
        out: &mut PoolOutcome,
        to: UserNo,
        kind: RewardKind,
        level: u32,
        amount: Amount,
        placement: Option<usize>,
    ) {
        if amount == 0 {
            return;
        }
        if self.user(to).exited {
            self.company(out, amount, CompanyReason::ExitedMember, placement);
            return;
        }
        let status = if self.user(to).frozen { RewardStatus::Held } else { RewardStatus::Pending };
        self.push_credit(out, to, kind, level, amount, status, placement);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_credit(
        &mut self,
        out: &mut PoolOutcome,
        to: UserNo,
        kind: RewardKind,
        level: u32,
        amount: Amount,
        status: RewardStatus,
        placement: Option<usize>,
    ) -> usize {
        out.credits.push(Credit {
            reward_no: self.counters.reward,
            beneficiary: to,
            kind,
            level,
            amount,
            status,
            placement,
        });
        self.counters.reward += 1;
        out.credits.len() - 1
    }

    fn company(&mut self, out: &mut PoolOutcome, amount: Amount, reason: CompanyReason, placement: Option<usize>) {
        self.counters.push_company(&mut out.company, amount, reason, placement);
    }

    /// PLACE(owner, level, price) of PLAN.md §3, including the auto-progressions it triggers.
    fn place(
        &mut self,
        out: &mut PoolOutcome,
        params: &PlanParams,
        owner: UserNo,
        level: u32,
        price: Amount,
        cause: PlacementCause,
    ) {
        let li = level as usize - 1;
        if self.levels.len() <= li {
            self.levels.resize_with(li + 1, Vec::new);
        }
        let q = self.levels[li].len() as u64;
        self.levels[li].push(PoolNode { owner, completed: false });
        *UserState::slot(&mut self.users[owner as usize].nodes, level) += 1;
        let p = out.placements.len();
        out.placements.push(Placement {
            placement_no: self.counters.placement,
            owner,
            level,
            position: q,
            amount: price,
            cause,
            completed: None,
        });
        self.counters.placement += 1;

        let reserves_here = level < params.top_level();
        let first_reserved_slot = MATRIX_SLOTS - u64::from(params.reserve_slots) + 1;
        let mut rest = price;
        let mut reserved_for = None;
        for d in 1..=3u32 {
            let span = 1u64 << d;
            if q + 1 < span {
                break; // no ancestor at this depth: its share stays with the company
            }
            let a = ((q + 1) >> d) - 1;
            let slot = (span - 1) + (q - (span * a + span - 1));
            if slot == MATRIX_SLOTS {
                self.levels[li][a as usize].completed = true;
                out.placements[p].completed = Some(a);
            }
            let cut = share(price, params.layer_bps[d as usize - 1]);
            if cut == 0 {
                continue;
            }
            rest -= cut;
            let a_owner = self.levels[li][a as usize].owner;
            // An exited owner saves nothing: the share is the company's (`credit`).
            if reserves_here && slot >= first_reserved_slot && !self.users[a_owner as usize].exited {
                let c =
                    self.push_credit(out, a_owner, RewardKind::pool(d), level, cut, RewardStatus::Reserved, Some(p));
                let r = UserState::slot(&mut self.users[a_owner as usize].reserve, level + 1);
                *r += cut;
                let balance_after = *r;
                self.reserve_movement(
                    out,
                    a_owner,
                    level + 1,
                    ReserveChange::Credit { credit: c, amount: cut },
                    balance_after,
                );
                reserved_for = Some(a_owner);
            } else {
                self.credit(out, a_owner, RewardKind::pool(d), level, cut, Some(p));
            }
        }
        self.company(out, rest, CompanyReason::PoolRest, Some(p));
        if let Some(user) = reserved_for {
            self.progress(out, params, user, level + 1, p);
        }
    }

    /// Auto-progression (§3.6): while the reserve towards `level` covers its price and the
    /// user may hold another node there, take the price and place. Depth-first: each placement
    /// finishes its own cascade before the next one starts.
    fn progress(&mut self, out: &mut PoolOutcome, params: &PlanParams, user: UserNo, level: u32, parent: usize) {
        let Some(price) = params.price(level) else {
            return;
        };
        loop {
            let u = &mut self.users[user as usize];
            if u.reserve_towards(level) < price || u.nodes_in(level) >= params.max_nodes_per_level {
                return;
            }
            let r = UserState::slot(&mut u.reserve, level);
            *r -= price;
            let balance_after = *r;
            let p = out.placements.len();
            self.reserve_movement(out, user, level, ReserveChange::Take { placement: p, amount: price }, balance_after);
            self.place(out, params, user, level, price, PlacementCause::AutoProgression { parent });
        }
    }

    fn reserve_movement(
        &mut self,
        out: &mut PoolOutcome,
        user: UserNo,
        level: u32,
        change: ReserveChange,
        balance_after: Amount,
    ) {
        out.reserve_movements.push(ReserveMovement {
            movement_no: self.counters.reserve_movement,
            user,
            level,
            change,
            balance_after,
        });
        self.counters.reserve_movement += 1;
    }
}
