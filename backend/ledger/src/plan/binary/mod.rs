//! The binary plan of PLAN-BINARY.md as a pure state machine: packages, placement in the sponsor's weaker leg
//! breadth-first, legs and carries, DIRECT credits, and period closes that match pairs between the legs with a
//! pair limit, a budget and retention `reserved` until the member is an active buyer. No I/O, integer base units.
//!
//! Where each rule lives:
//! - §0 parameters, validation and periods: [`BinaryParams`] (`params`).
//! - §1 the binary tree, legs and volume; §2 placement: [`BinaryTree`] (`tree`), every query O(log n) whatever
//!   the tree's shape, so a purchase never costs its depth.
//! - §1 paid_in, active buyers, carries (leg − what the member's pairs consumed, the same on both sides), and §2
//!   a registration and a purchase: [`BinaryEngine::apply`].
//! - §3 period closes: [`BinaryEngine::close_through`], with the close records ([`BinaryClose`], [`PairLine`]).

mod params;
mod tree;

use std::collections::HashMap;

use alloy::primitives::{Address, U256};

pub use params::{BinaryParams, PeriodKind, WEEK_SECS};
pub use tree::{BinaryTree, Node, Side};

use super::params::PlanSchedule;
use super::vocabulary::*;
use params::BPS;

mod book;
pub mod reads;
pub(crate) use book::ROOM;

/// ⌊a × b / c⌋ without overflow (c > 0); the sales plan uses it too.
pub(in crate::plan) fn mul_div(a: Amount, b: Amount, c: Amount) -> Amount {
    let q = U256::from(a) * U256::from(b) / U256::from(c);
    q.try_into().expect("a quotient no larger than a or b fits")
}

/// What the plan keeps of a user beyond [`UserState`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Member {
    /// Σ of the user's registration and purchases.
    pub paid_in: Amount,
    /// Became an active buyer (never stops being one).
    pub active: bool,
    /// Volume the user's pairs consumed on each side, lifetime: carry(X, s) = leg(X, s) − consumed.
    pub consumed: Amount,
    /// Pairs paid before now, lifetime (k of §3.5; pairs scaled to zero included).
    pub pairs_paid: u64,
    /// Σ of the user's BINARY_PAIR credits still `reserved`.
    pub reserved: Amount,
}

/// Where a registration placed its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// The binary parent.
    pub parent: UserNo,
    /// The side under it.
    pub side: Side,
}

/// Reserved BINARY_PAIR credits released when their owner became an active buyer (§2.1): every one of the
/// user's reserved rows moves to `status`, amounts unchanged, in one movement recording their total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// The new active buyer.
    pub user: UserNo,
    /// Σ released.
    pub amount: Amount,
    /// `pending`, or `held` when the user is frozen.
    pub status: RewardStatus,
}

/// Everything one applied event did under the binary plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryOutcome {
    /// The credits and company credit (P = DIRECT + the company's part).
    pub event: EventOutcome,
    /// A registration's placement.
    pub placed: Option<Placed>,
    /// Reserved credits released by this purchase.
    pub release: Option<Release>,
}

/// One user's line of a close (§3's per-user record), for users with a non-zero carry before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairLine {
    /// The user.
    pub user: UserNo,
    /// Carries before the close, left and right.
    pub carry_before: [Amount; 2],
    /// Carries after.
    pub carry_after: [Amount; 2],
    /// Pairs formed (n).
    pub pairs: u128,
    /// Pairs paid: min(n, max_pairs).
    pub paid: u64,
    /// Pairs matched and paid to nobody: n − paid.
    pub flushed: u128,
    /// Pairs paid before this close, lifetime (k).
    pub pairs_before: u64,
    /// Of the paid pairs, those exempt from retention (full).
    pub full: u64,
    /// paid × pair_bonus, before scaling.
    pub bonus: Amount,
    /// The bonus after the budget's scaling (b).
    pub scaled: Amount,
    /// Credited `reserved` (r).
    pub reserved: Amount,
    /// Credited b − r, with `status`.
    pub rest: Amount,
    /// `pending`, or `held` when the user is frozen.
    pub status: RewardStatus,
}

/// What closing one period did (§3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryClose {
    /// The period (months since January 1970, or weeks since the origin).
    pub period: u64,
    /// Its first second.
    pub start: u64,
    /// Its end: the first second of the next.
    pub end: u64,
    /// The plan version it closed under.
    pub plan_version: u32,
    /// V: Σ pv of the period's purchases.
    pub volume: Amount,
    /// C: the company's balance before the close.
    pub company_before: Amount,
    /// min(C, V × max_payout_bps / 10000).
    pub budget: Amount,
    /// B: Σ bonus before scaling.
    pub bonuses: Amount,
    /// Users with a non-zero carry before the close, in registration order.
    pub lines: Vec<PairLine>,
    /// The BINARY_PAIR credits (reserved first, then the rest, per user), numbered like every reward.
    pub credits: Vec<Credit>,
}

impl BinaryClose {
    /// Σ credited, reserved included: the company's debit.
    pub fn credited(&self) -> Amount {
        self.credits.iter().map(|c| c.amount).sum()
    }

    /// Σ credited `reserved`.
    pub fn reserved(&self) -> Amount {
        self.credits.iter().filter(|c| c.status == RewardStatus::Reserved).map(|c| c.amount).sum()
    }
}

/// A user's standing under the plan (for the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The binary parent and side (`None` for genesis).
    pub placed: Option<Placed>,
    /// The children, left and right.
    pub children: [Option<UserNo>; 2],
    /// leg(X, left), leg(X, right).
    pub legs: [Amount; 2],
    /// carry(X, left), carry(X, right).
    pub carries: [Amount; 2],
    /// The user's figures.
    pub member: Member,
}

/// Everything a binary engine is rebuilt from (see [`BinaryEngine::restore`]); a ledger keeps each part in its rows:
/// placements and own volumes from the registrations and purchases, members from the closes and releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBinary {
    /// Where users 1, 2, … were placed, in number order.
    pub placements: Vec<Placed>,
    /// Every user's figures, by number (genesis first).
    pub members: Vec<Member>,
    /// Every user's own volume (Σ pv of their purchases), by number.
    pub own_volume: Vec<Amount>,
    /// The company's balance (C).
    pub company: Amount,
    /// V of the open period so far.
    pub volume: Amount,
    /// The next period to close.
    pub next_period: Option<u64>,
    /// The last block seen before the open period's end.
    pub last_block: u64,
    /// Next row numbers.
    pub counters: RowCounters,
}

/// One asset's binary plan; see the module documentation. Genesis is user 0, the root of the tree.
#[derive(Debug, Clone)]
pub struct BinaryEngine {
    schedule: PlanSchedule<BinaryParams>,
    users: Vec<UserState>,
    by_address: HashMap<Address, UserNo>,
    tree: BinaryTree,
    members: Vec<Member>,
    company: Amount,
    /// V of the open period.
    volume: Amount,
    /// The next period to close, from the first event's period on.
    next_period: Option<u64>,
    /// The last block seen before the open period's end (an event's or a confirmed head's): its version closes it.
    last_block: u64,
    counters: RowCounters,
}

impl BinaryEngine {
    /// An asset whose only user is the genesis user.
    pub fn new(genesis: Address, schedule: PlanSchedule<BinaryParams>) -> Self {
        Self {
            schedule,
            users: vec![UserState::new(genesis, None)],
            by_address: HashMap::from([(genesis, 0)]),
            tree: BinaryTree::new(),
            members: vec![Member::default()],
            company: 0,
            volume: 0,
            next_period: None,
            last_block: 0,
            counters: RowCounters::default(),
        }
    }

    /// Rebuilds an engine from what the ledger stores ([`StoredBinary`]): the users in number order (genesis first),
    /// each placement in number order (user 1's first), each user's figures and own volume, the company's balance,
    /// the open period's volume, the next period to close, the last block seen and the row counters. The tree is
    /// rebuilt by attaching each user where it was placed; an inconsistent record is refused.
    pub fn restore(
        schedule: PlanSchedule<BinaryParams>,
        users: Vec<UserState>,
        stored: StoredBinary,
    ) -> Result<Self, String> {
        let StoredBinary { placements, members, own_volume, company, volume, next_period, last_block, counters } =
            stored;
        if users.is_empty() || placements.len() + 1 != users.len() {
            return Err(format!("{} users but {} placements", users.len(), placements.len()));
        }
        if members.len() != users.len() || own_volume.len() != users.len() {
            return Err("one member record and one volume per user are needed".into());
        }
        let mut tree = BinaryTree::with_capacity(users.len());
        for (i, p) in placements.iter().enumerate() {
            let taken = (p.parent as usize) > i || tree.child(p.parent, p.side).is_some();
            if taken {
                return Err(format!("user {}: slot {}/{} is unknown or taken", i + 1, p.parent, p.side.as_str()));
            }
            tree.attach(p.parent, p.side);
        }
        for (u, pv) in own_volume.iter().enumerate() {
            tree.add_volume(u as UserNo, *pv);
        }
        let engine = Self {
            schedule,
            by_address: users.iter().enumerate().map(|(i, u)| (u.address, i as UserNo)).collect(),
            users,
            tree,
            members,
            company,
            volume,
            next_period,
            last_block,
            counters,
        };
        for x in 1..engine.users.len() as UserNo {
            let [l, r] = [engine.tree.leg(x, Side::Left), engine.tree.leg(x, Side::Right)];
            if engine.members[x as usize].consumed > l.min(r) {
                return Err(format!("user {x}: pairs consumed more volume than its weaker leg holds"));
            }
        }
        Ok(engine)
    }

    /// What the ledger stores to rebuild this engine ([`restore`](Self::restore)).
    pub fn stored(&self) -> StoredBinary {
        StoredBinary {
            placements: (1..self.users.len() as UserNo)
                .map(|u| {
                    let (parent, side) = self.tree.node(u).parent.expect("every user but genesis is placed");
                    Placed { parent, side }
                })
                .collect(),
            members: self.members.clone(),
            own_volume: (0..self.users.len() as UserNo).map(|u| self.tree.own_volume(u)).collect(),
            company: self.company,
            volume: self.volume,
            next_period: self.next_period,
            last_block: self.last_block,
            counters: self.counters,
        }
    }

    /// User `u`'s figures (`None` for an unknown user).
    pub fn member(&self, u: UserNo) -> Option<&Member> {
        self.members.get(u as usize)
    }

    /// Where user `u` was placed (`None` for genesis or an unknown user).
    pub fn placed(&self, u: UserNo) -> Option<Placed> {
        let node = (u as usize) < self.users.len();
        node.then(|| self.tree.node(u).parent).flatten().map(|(parent, side)| Placed { parent, side })
    }

    /// The last block seen before the open period's end (its version closes the period).
    pub fn last_block(&self) -> u64 {
        self.last_block
    }

    /// The plan versions.
    pub fn schedule(&self) -> &PlanSchedule<BinaryParams> {
        &self.schedule
    }

    /// Lets the ledger swap in the stored schedule after an admin added a version.
    pub fn schedule_mut(&mut self) -> &mut PlanSchedule<BinaryParams> {
        &mut self.schedule
    }

    /// Every user in number order, genesis first.
    pub fn users(&self) -> &[UserState] {
        &self.users
    }

    /// The number of the user with this wallet.
    pub fn user_no(&self, address: &Address) -> Option<UserNo> {
        self.by_address.get(address).copied()
    }

    /// The binary tree.
    pub fn tree(&self) -> &BinaryTree {
        &self.tree
    }

    /// The company's balance as the plan counts it (C of §3).
    pub fn company(&self) -> Amount {
        self.company
    }

    /// Tells the plan the company's balance as the ledger knows it (credits less treasury transfers).
    pub fn set_company_balance(&mut self, balance: Amount) {
        self.company = balance;
    }

    /// V of the open period so far.
    pub fn period_volume(&self) -> Amount {
        self.volume
    }

    /// The next period to close (`None` before the first event).
    pub fn next_period(&self) -> Option<u64> {
        self.next_period
    }

    /// Next row numbers.
    pub fn counters(&self) -> RowCounters {
        self.counters
    }

    /// Sets the frozen flag (an admin action): a frozen user's new credits are `held`.
    pub fn set_frozen(&mut self, user: UserNo, frozen: bool) {
        if let Some(u) = self.users.get_mut(user as usize) {
            u.frozen = frozen;
        }
    }

    /// Marks `user` exited (PLAN.md §5): their DIRECT credits are the company's, their pair bonuses stay with the
    /// company they would have been paid from, and what was retained for them (paid out by the leave) is gone.
    pub fn exit(&mut self, user: UserNo) {
        if let (Some(u), Some(m)) = (self.users.get_mut(user as usize), self.members.get_mut(user as usize)) {
            u.exited = true;
            m.reserved = 0;
        }
    }

    /// Admin forfeits number company credits too.
    pub fn set_company_credit_counter(&mut self, next: u64) {
        self.counters.company_credit = next;
    }

    /// The standing of `user`, or `None` if there is no such user.
    pub fn standing(&self, user: UserNo) -> Option<Standing> {
        let member = *self.members.get(user as usize)?;
        let node = self.tree.node(user);
        let legs = [self.tree.leg(user, Side::Left), self.tree.leg(user, Side::Right)];
        let carries = if user == 0 { legs } else { legs.map(|l| l - member.consumed) };
        Some(Standing {
            placed: node.parent.map(|(parent, side)| Placed { parent, side }),
            children: node.children,
            legs,
            carries,
            member,
        })
    }

    fn params(&self) -> &BinaryParams {
        // Periods never change between versions: the first version's count for every one.
        &self.schedule.versions()[0].params
    }

    fn status_of(&self, user: UserNo) -> RewardStatus {
        if self.users[user as usize].frozen { RewardStatus::Held } else { RewardStatus::Pending }
    }

    fn credit(
        &mut self,
        credits: &mut Vec<Credit>,
        user: UserNo,
        kind: RewardKind,
        amount: Amount,
        status: RewardStatus,
    ) {
        if amount == 0 {
            return;
        }
        credits.push(Credit {
            reward_no: self.counters.reward,
            beneficiary: user,
            kind,
            level: 0,
            amount,
            status,
            placement: None,
        });
        self.counters.reward += 1;
    }

    /// Checks `event`, of block `block` at time `timestamp`, against the version of that block and applies it, or
    /// refuses it without changing anything. The ledger closes every period ending at or before `timestamp` first
    /// ([`close_through`](Self::close_through)).
    pub fn apply(&mut self, block: u64, timestamp: u64, event: &PlanEvent) -> Result<BinaryOutcome, Rejection> {
        let version = self.schedule.at(block).clone();
        let params = &version.params;
        let amount = event.amount();
        let user = event.check_purchase(&params.packages, |a| self.by_address.get(a).copied())?;
        let period = self.params().period_of(timestamp);
        match self.next_period {
            Some(next) if period != next => return Err(Rejection::PeriodOrder { timestamp }),
            _ => self.next_period = Some(period),
        }
        self.last_block = self.last_block.max(block);
        let seq = self.counters.applied_events;
        self.counters.applied_events += 1;
        let (mut event_out, placed) = match (event, user) {
            (&PlanEvent::Registration { user, sponsor, .. }, _) => {
                let sponsor_no = self.by_address[&sponsor];
                let (parent, side) = self.tree.slot_under(sponsor_no);
                let no = self.tree.attach(parent, side);
                self.by_address.insert(user, no);
                self.users.push(UserState::new(user, Some(sponsor_no)));
                self.members.push(Member::default());
                let s = &mut self.users[sponsor_no as usize];
                s.direct_count += 1;
                let referral_number = s.direct_count;
                let mut out = EventOutcome::new(seq, version.version, no, amount);
                out.registration = Some(RegistrationFacts { sponsor: sponsor_no, referral_number });
                (out, Some(Placed { parent, side }))
            }
            (PlanEvent::Retopup { .. }, Some(no)) => {
                let u = &mut self.users[no as usize];
                u.has_retopup = true;
                u.retopup_count += 1;
                let mut out = EventOutcome::new(seq, version.version, no, amount);
                out.retopup_no = Some(self.counters.retopup);
                self.counters.retopup += 1;
                (out, None)
            }
            (PlanEvent::Retopup { .. }, None) => unreachable!("a retopup's user was resolved above"),
            (PlanEvent::Sale(_) | PlanEvent::Refund { .. }, _) => unreachable!("a sale is refused above"),
        };
        let user = event_out.user;
        // §2.1: paid_in, and becoming an active buyer releases what was reserved.
        let member = &mut self.members[user as usize];
        member.paid_in += amount;
        let mut release = None;
        if !member.active && member.paid_in >= params.active_paid_in {
            member.active = true;
            let amount = std::mem::take(&mut member.reserved);
            if amount > 0 {
                release = Some(Release { user, amount, status: self.status_of(user) });
            }
        }
        // §2.2: the volume joins every ancestor's leg through the user's own volume (see `tree`).
        let pv = params.pv(amount);
        self.tree.add_volume(user, pv);
        self.volume += pv;
        // §2.3–2.4: DIRECT to the sponsor, the rest to the company.
        let direct = match self.users[user as usize].sponsor {
            Some(s) => {
                let d = amount * u128::from(params.direct_bps) / BPS;
                if self.users[s as usize].exited {
                    self.company += d;
                    self.counters.push_company(&mut event_out.company, d, CompanyReason::ExitedMember, None);
                } else {
                    let status = self.status_of(s);
                    self.credit(&mut event_out.credits, s, RewardKind::Direct, d, status);
                }
                d
            }
            None => 0,
        };
        let rest = amount - direct;
        self.company += rest;
        self.counters.push_company(&mut event_out.company, rest, CompanyReason::BinaryRest, None);
        Ok(BinaryOutcome { event: event_out, placed, release })
    }

    /// Closes every period that ends at or before `timestamp`, the time of confirmed block `block`; the ledger
    /// calls it before applying any event of that block, and with the confirmed head when no event comes.
    pub fn close_through(&mut self, block: u64, timestamp: u64) -> Vec<BinaryClose> {
        let mut closes = Vec::new();
        while let Some(period) = self.next_period {
            if self.params().bounds(period).1 > timestamp {
                break;
            }
            closes.push(self.close(period));
            self.next_period = Some(period + 1);
        }
        // A confirmed block inside the open period: the version in force there governs its close.
        if self.next_period.is_some() {
            self.last_block = self.last_block.max(block);
        }
        closes
    }

    /// §3 for `period`, under the version in force at the last block seen before its end.
    fn close(&mut self, period: u64) -> BinaryClose {
        let version = self.schedule.at(self.last_block).clone();
        let p = &version.params;
        let (start, end) = p.bounds(period);
        let volumes = self.tree.subtree_volumes();
        let leg = |x: UserNo, side: Side| self.tree.child(x, side).map_or(0, |c| volumes[c as usize]);
        // Steps 1–3 for every user but genesis, in registration order.
        let mut lines = Vec::new();
        for x in 1..self.members.len() as UserNo {
            let m = &self.members[x as usize];
            let before = [leg(x, Side::Left) - m.consumed, leg(x, Side::Right) - m.consumed];
            if before == [0, 0] {
                continue;
            }
            let pairs = (before[0] / p.pair_volume).min(before[1] / p.pair_volume);
            let used = pairs * p.pair_volume;
            let paid = pairs.min(u128::from(p.max_pairs)) as u64;
            lines.push(PairLine {
                user: x,
                carry_before: before,
                carry_after: before.map(|c| c - used),
                pairs,
                paid,
                flushed: pairs - u128::from(paid),
                pairs_before: m.pairs_paid,
                full: 0,
                bonus: u128::from(paid) * p.pair_bonus,
                scaled: 0,
                reserved: 0,
                rest: 0,
                status: RewardStatus::Pending,
            });
        }
        // Step 4: the budget, and scaling when the bonuses exceed it.
        let bonuses: Amount = lines.iter().map(|l| l.bonus).sum();
        let company_before = self.company;
        let budget = company_before.min(mul_div(self.volume, u128::from(p.max_payout_bps), BPS));
        // Steps 5–6.
        let mut credits = Vec::new();
        for line in &mut lines {
            let x = line.user as usize;
            self.members[x].consumed += line.pairs * p.pair_volume;
            line.scaled = if bonuses > budget { mul_div(line.bonus, budget, bonuses) } else { line.bonus };
            let free_left = u64::from(p.free_pairs).saturating_sub(line.pairs_before);
            line.full = line.paid.min(free_left);
            line.reserved = if self.members[x].active || line.full == line.paid {
                0
            } else {
                let kept = u128::from(line.paid - line.full) * u128::from(p.retention_bps);
                mul_div(line.scaled, kept, u128::from(line.paid) * BPS)
            };
            line.rest = line.scaled - line.reserved;
            line.status = self.status_of(line.user);
            self.members[x].pairs_paid += line.paid;
            if self.users[x].exited {
                // What would have been theirs stays with the company it is paid from (PLAN.md §5).
                (line.reserved, line.rest) = (0, 0);
                continue;
            }
            self.members[x].reserved += line.reserved;
            let (user, reserved, rest, status) = (line.user, line.reserved, line.rest, line.status);
            self.credit(&mut credits, user, RewardKind::BinaryPair, reserved, RewardStatus::Reserved);
            self.credit(&mut credits, user, RewardKind::BinaryPair, rest, status);
        }
        let close = BinaryClose {
            period,
            start,
            end,
            plan_version: version.version,
            volume: self.volume,
            company_before,
            budget,
            bonuses,
            lines,
            credits,
        };
        self.company -= close.credited();
        self.volume = 0;
        close
    }
}

#[cfg(test)]
mod tests;
