//! The generation plan of PLAN-GENERATION.md in its room: its rules as a pure state machine ([`GenerationEngine`]),
//! its rows and their loader (`book`), and its reads for the API ([`reads`]). The rules: fixed
//! packages, a 20-level generation income up the sponsor chain (each level open to sponsors with enough direct
//! referrals), every user's earnings capped at `cap_bps` of what they paid in, and weekly rank bonuses from leg
//! volumes, funded from the company's balance and closed on block time. No I/O, integer base units.
//!
//! Where each rule lives:
//! - §0 parameters and validation: [`GenerationParams`]; versions per block: `PlanSchedule<GenerationParams>`.
//! - §1 paid_in, cap (each purchase with the `cap_bps` of its block's version), earned, room, directs, legs, rank:
//!   `Member` and [`GenerationEngine::standing`], `rank_of`.
//! - §2 registration and purchase: `apply` and `buy` (a wrong amount is [`Rejection::NotAPackage`], which the
//!   ledger quarantines).
//! - §3 weeks and rank bonuses: `close_through` and `close`, with the version in force at the last event applied
//!   before the week's end.
//! - §4 the withdrawal fee: [`GenerationParams::withdrawal_fee`].

use std::collections::HashMap;

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use super::kind::{PlanKind, RewardPlan};
use super::params::{InvalidPlan, MAX_AMOUNT, PlanRules, PlanSchedule, amount_str, amount_vec_str};
use super::vocabulary::*;

mod book;
pub mod reads;

pub(crate) use book::ROOM;

/// Levels of generation income.
pub const LEVELS: usize = 20;
/// Seconds in a week.
pub const WEEK_SECS: u64 = 604_800;
/// Basis points' denominator.
const BPS: u128 = 10_000;

/// One ranked user at a period's close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranked {
    /// The user.
    pub user: UserNo,
    /// The rank's number, 1 for the first (lowest) rank.
    pub rank: u32,
    /// Their largest leg at the close.
    #[serde(with = "crate::plan::params::amount_str")]
    pub main: Amount,
    /// The sum of their other legs at the close.
    #[serde(with = "crate::plan::params::amount_str")]
    pub other: Amount,
}

/// What closing one period did (PLAN-GENERATION.md §3): the users ranked, Σ of their bonuses, the company's
/// balance before, and the credits (each debited from the company).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodClose {
    /// The period (a week number).
    pub period: u64,
    /// The plan version the period closed under.
    pub plan_version: u32,
    /// The period's end (unix time): the first second of the next.
    pub period_end: u64,
    /// The ranked users, in registration order.
    pub ranked: Vec<Ranked>,
    /// Σ of the ranks' bonuses, before scaling (B).
    pub bonuses: Amount,
    /// The company's balance before the close (C).
    pub company_before: Amount,
    /// The credits, in registration order; numbered like every reward.
    pub credits: Vec<Credit>,
}

impl PeriodClose {
    /// Σ credited: the company's debit.
    pub fn credited(&self) -> Amount {
        self.credits.iter().map(|c| c.amount).sum()
    }
}

/// One rank: the main-leg and other-legs thresholds and the weekly bonus (base units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rank {
    /// The rank's name (`Connector` …).
    pub name: String,
    /// Least volume of the largest leg.
    #[serde(with = "amount_str")]
    pub main: Amount,
    /// Least volume of all the other legs together.
    #[serde(with = "amount_str")]
    pub other: Amount,
    /// The weekly bonus.
    #[serde(with = "amount_str")]
    pub bonus: Amount,
}

/// The plan's parameters (§0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationParams {
    /// The only amounts a registration or purchase may have, strictly increasing.
    #[serde(with = "amount_vec_str")]
    pub packages: Vec<Amount>,
    /// Level i's share of a purchase, basis points (`gen_bps[i - 1]`).
    pub gen_bps: [u32; LEVELS],
    /// Level i's least number of direct referrals (`direct_req[i - 1]`).
    pub direct_req: [u32; LEVELS],
    /// A user may earn at most `cap_bps` / 10000 of what they paid in.
    pub cap_bps: u32,
    /// The ranks, increasing.
    pub ranks: Vec<Rank>,
    /// Unix time of week 0's start.
    pub week_origin: u64,
    /// The company's share of each payout entry, basis points.
    pub withdrawal_fee_bps: u32,
}

impl GenerationParams {
    /// The defaults of §0 for a token of `decimals` decimals (USDT: 6).
    pub fn defaults(decimals: u32) -> Self {
        Self::defaults_in(10u128.pow(decimals))
    }

    /// The defaults of §0 counted in `unit` base units (packages of 100, 500, 1000 and 5000 `unit`s, …).
    pub fn defaults_in(unit: u128) -> Self {
        let mut gen_bps = [0; LEVELS];
        let mut direct_req = [0; LEVELS];
        for (i, (bps, req)) in gen_bps.iter_mut().zip(direct_req.iter_mut()).enumerate() {
            let level = i + 1;
            *bps = match level {
                1 => 1000,
                2 => 500,
                3 => 300,
                4 => 250,
                5 => 200,
                6..=10 => 100,
                11..=15 => 50,
                _ => 30,
            };
            // L1–L2 0, then 2, 3, … 10 for each following pair of levels.
            *req = if level <= 2 { 0 } else { (level as u32).div_ceil(2) };
        }
        let rank = |name: &str, main: u128, bonus: u128| Rank {
            name: name.to_owned(),
            main: main * unit,
            other: main * unit,
            bonus: bonus * unit,
        };
        Self {
            packages: [100, 500, 1000, 5000].iter().map(|p| p * unit).collect(),
            gen_bps,
            direct_req,
            cap_bps: 30_000,
            ranks: vec![
                rank("Connector", 5_000, 50),
                rank("Builder", 10_000, 200),
                rank("Professional", 20_000, 500),
                rank("Executive", 50_000, 1_000),
                rank("Director", 100_000, 2_000),
                rank("Crown", 200_000, 5_000),
            ],
            week_origin: 345_600,
            withdrawal_fee_bps: 500,
        }
    }

    /// §0's validation, plus bounds that keep the integer arithmetic exact.
    pub fn validate(&self) -> Result<(), InvalidPlan> {
        let bad = |why: &str| Err(InvalidPlan::Generation(why.to_owned()));
        if self.packages.is_empty() || self.packages[0] == 0 || self.packages.windows(2).any(|w| w[0] >= w[1]) {
            return bad("packages must be non-empty, above 0 and strictly increasing");
        }
        if self.packages.len() > 32 || self.ranks.len() > 32 {
            return bad("at most 32 packages and 32 ranks");
        }
        // Amounts are multiplied by at most 10000 × cap_bps; keep every product inside u128.
        let limit = MAX_AMOUNT / 100_000;
        if self.packages.iter().chain(self.ranks.iter().flat_map(|r| [&r.main, &r.other, &r.bonus])).any(|a| *a > limit)
        {
            return bad("an amount is too large");
        }
        if self.gen_bps.iter().map(|b| u128::from(*b)).sum::<u128>() > BPS {
            return bad("the levels' shares add up to more than 10000 bps");
        }
        if self.direct_req.windows(2).any(|w| w[0] > w[1]) {
            return bad("direct_req must not decrease from one level to the next");
        }
        if !(10_000..=1_000_000).contains(&self.cap_bps) {
            return bad("cap_bps must be at least 10000 (and at most 1000000)");
        }
        if self.ranks.windows(2).any(|w| w[0].main >= w[1].main || w[0].other >= w[1].other) {
            return bad("ranks must increase strictly in both thresholds");
        }
        if self.ranks.iter().any(|r| r.name.is_empty() || r.name.len() > 64) {
            return bad("every rank needs a name of 1 to 64 bytes");
        }
        if self.withdrawal_fee_bps > 2_000 {
            return bad("withdrawal_fee_bps must be at most 2000");
        }
        Ok(())
    }

    /// The week a block of unix time `timestamp` belongs to (a block at a week's end is in the next).
    pub fn week_of(&self, timestamp: u64) -> u64 {
        timestamp.saturating_sub(self.week_origin) / WEEK_SECS
    }

    /// The end of week `week` (unix time): the first second of the next.
    pub fn week_end(&self, week: u64) -> u64 {
        self.week_origin + (week + 1) * WEEK_SECS
    }

    /// The company's fee of a payout entry of `amount`: rounded up (§4).
    pub fn withdrawal_fee(&self, amount: Amount) -> Amount {
        (amount * u128::from(self.withdrawal_fee_bps)).div_ceil(BPS)
    }
}

impl PlanRules for GenerationParams {
    const KIND: PlanKind = PlanKind::Generation;
    fn validate(&self) -> Result<(), InvalidPlan> {
        GenerationParams::validate(self)
    }
    /// Weeks are numbered from `week_origin` and closed in order: a version moving it would renumber weeks already
    /// closed (closing one twice, or skipping one), so it stays the first version's.
    fn may_follow(&self, before: &Self) -> Result<(), InvalidPlan> {
        if self.week_origin != before.week_origin {
            return Err(InvalidPlan::Generation(format!(
                "week_origin cannot change in a new version (it is {}): weeks already closed are numbered from it",
                before.week_origin
            )));
        }
        Ok(())
    }
}

/// What the plan knows of a user beyond [`UserState`].
#[derive(Debug, Clone, Default)]
struct Member {
    directs: Vec<UserNo>,
    paid_in: Amount,
    cap: Amount,
    earned: Amount,
    /// paid_in of this user and everyone below.
    leg: Amount,
}

/// A user's standing under the plan (§1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Σ of the user's registration and purchases.
    pub paid_in: Amount,
    /// Σ over purchases of P × cap_bps / 10000; `None` for genesis, who has no cap.
    pub cap: Option<Amount>,
    /// Σ of every credit received under the plan.
    pub earned: Amount,
    /// Direct referrals.
    pub directs: u64,
    /// The user's own leg (their paid_in and everyone's below).
    pub leg: Amount,
    /// The largest leg among their directs (0 without directs).
    pub main: Amount,
    /// The other directs' legs together.
    pub other: Amount,
    /// The rank held now (1 for the first), if any.
    pub rank: Option<u32>,
}

impl Standing {
    /// cap − earned; `None` (no bound) for genesis.
    pub fn room(&self) -> Option<Amount> {
        self.cap.map(|c| c.saturating_sub(self.earned))
    }
}

/// A user's stored figures, to rebuild an engine (paid_in, cap, earned).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredMember {
    /// Σ paid in.
    pub paid_in: Amount,
    /// Σ of the caps of their purchases.
    pub cap: Amount,
    /// Σ of their credits under the plan.
    pub earned: Amount,
}

/// One asset's generation plan: users, their chain, what they paid and earned, the company's balance, and the
/// next week to close. Genesis is user 0 and has no cap.
#[derive(Debug, Clone)]
pub struct GenerationEngine {
    schedule: PlanSchedule<GenerationParams>,
    users: Vec<UserState>,
    by_address: HashMap<Address, UserNo>,
    members: Vec<Member>,
    company: Amount,
    /// The next week to close, from the first event's week on.
    next_week: Option<u64>,
    /// The block of the last event applied: its version governs the closes that follow.
    last_event_block: u64,
    counters: RowCounters,
}

impl GenerationEngine {
    /// An asset whose only user is the genesis user.
    pub fn new(genesis: Address, schedule: PlanSchedule<GenerationParams>) -> Self {
        Self::restore(schedule, vec![UserState::new(genesis, None)], &[], 0, None, 0, RowCounters::default())
    }

    /// Rebuilds an engine from stored state: users in number order (genesis first) with their stored figures (by
    /// number; missing ones are zero), the company's balance, the next week to close, the block of the last event
    /// applied and the row counters. Legs and directs follow from the sponsors and paid_in.
    pub fn restore(
        schedule: PlanSchedule<GenerationParams>,
        users: Vec<UserState>,
        stored: &[StoredMember],
        company: Amount,
        next_week: Option<u64>,
        last_event_block: u64,
        counters: RowCounters,
    ) -> Self {
        let mut members: Vec<Member> = (0..users.len())
            .map(|i| {
                let s = stored.get(i).copied().unwrap_or_default();
                Member { directs: Vec::new(), paid_in: s.paid_in, cap: s.cap, earned: s.earned, leg: s.paid_in }
            })
            .collect();
        // Sponsors have lower numbers than their referrals: one pass from the last user up adds every leg to its
        // sponsor's, and one pass down lists directs in registration order.
        for u in (1..users.len()).rev() {
            if let Some(s) = users[u].sponsor {
                let leg = members[u].leg;
                members[s as usize].leg += leg;
            }
        }
        for (u, user) in users.iter().enumerate() {
            if let Some(s) = user.sponsor {
                members[s as usize].directs.push(u as UserNo);
            }
        }
        let by_address = users.iter().enumerate().map(|(i, u)| (u.address, i as UserNo)).collect();
        Self { schedule, users, by_address, members, company, next_week, last_event_block, counters }
    }

    /// The plan versions; the one in force at a purchase's block prices it.
    pub fn schedule(&self) -> &PlanSchedule<GenerationParams> {
        &self.schedule
    }

    /// Lets the ledger swap in the stored schedule after an admin added a plan version.
    pub fn schedule_mut(&mut self) -> &mut PlanSchedule<GenerationParams> {
        &mut self.schedule
    }

    /// The company's balance in this asset, as the plan counts it (C of §3).
    pub fn company(&self) -> Amount {
        self.company
    }

    /// The next week to close (`None` before the first event).
    pub fn next_week(&self) -> Option<u64> {
        self.next_week
    }

    /// The standing of `user` (§1), or `None` if there is no such user.
    pub fn standing(&self, user: UserNo) -> Option<Standing> {
        let m = self.members.get(user as usize)?;
        let (main, other) = self.legs_below(user);
        Some(Standing {
            paid_in: m.paid_in,
            cap: (user != 0).then_some(m.cap),
            earned: m.earned,
            directs: m.directs.len() as u64,
            leg: m.leg,
            main,
            other,
            rank: self.rank_of(user, self.schedule.latest().params.ranks.as_slice()).map(|r| r.rank),
        })
    }

    /// The levels open to `user` under the latest plan version: those whose direct requirement they meet.
    pub fn open_levels(&self, user: UserNo) -> Vec<u32> {
        let directs = self.members.get(user as usize).map_or(0, |m| m.directs.len() as u64);
        let p = &self.schedule.latest().params;
        (1..=LEVELS as u32).filter(|l| directs >= u64::from(p.direct_req[*l as usize - 1])).collect()
    }

    /// Users other than genesis whose room is 0 (at their cap).
    pub fn users_at_cap(&self) -> usize {
        self.members.iter().skip(1).filter(|m| m.cap > 0 && m.earned >= m.cap).count()
    }

    fn room(&self, user: UserNo) -> Amount {
        let m = &self.members[user as usize];
        if user == 0 { Amount::MAX } else { m.cap.saturating_sub(m.earned) }
    }

    /// Credits `min(amount, room)` to `user`; no row when that is 0. An exited user's credit is not made: what it
    /// would have been is returned, the company's (PLAN.md §5); 0 otherwise.
    fn credit(
        &mut self,
        credits: &mut Vec<Credit>,
        user: UserNo,
        kind: RewardKind,
        level: u32,
        amount: Amount,
    ) -> Amount {
        let amount = amount.min(self.room(user));
        if amount == 0 {
            return 0;
        }
        self.members[user as usize].earned += amount;
        if self.users[user as usize].exited {
            return amount;
        }
        let status = if self.users[user as usize].frozen { RewardStatus::Held } else { RewardStatus::Pending };
        credits.push(Credit {
            reward_no: self.counters.reward,
            beneficiary: user,
            kind,
            level,
            amount,
            status,
            placement: None,
        });
        self.counters.reward += 1;
        0
    }

    /// §2 for a purchase of `amount` by `user` under `params`.
    fn buy(&mut self, out: &mut EventOutcome, params: &GenerationParams) {
        let (user, amount) = (out.user, out.amount);
        {
            let m = &mut self.members[user as usize];
            m.paid_in += amount;
            m.cap += amount * u128::from(params.cap_bps) / BPS;
        }
        let mut at = Some(user);
        while let Some(u) = at {
            self.members[u as usize].leg += amount;
            at = self.users[u as usize].sponsor;
        }
        let mut sponsor = self.users[user as usize].sponsor;
        let mut exited = 0;
        for level in 1..=LEVELS {
            let Some(s) = sponsor else { break };
            let share = amount * u128::from(params.gen_bps[level - 1]) / BPS;
            if self.members[s as usize].directs.len() as u64 >= u64::from(params.direct_req[level - 1]) {
                exited += self.credit(&mut out.credits, s, RewardKind::Generation, level as u32, share);
            }
            sponsor = self.users[s as usize].sponsor;
        }
        let company = amount - out.credits.iter().map(|c| c.amount).sum::<Amount>() - exited;
        self.company += company + exited;
        self.counters.push_company(&mut out.company, company, CompanyReason::GenerationRest, None);
        self.counters.push_company(&mut out.company, exited, CompanyReason::ExitedMember, None);
    }

    /// Main and other legs of `user`'s directs.
    fn legs_below(&self, user: UserNo) -> (Amount, Amount) {
        let m = &self.members[user as usize];
        let main = m.directs.iter().map(|d| self.members[*d as usize].leg).max().unwrap_or(0);
        let all: Amount = m.directs.iter().map(|d| self.members[*d as usize].leg).sum();
        (main, all - main)
    }

    /// The rank `user` holds under `ranks`: the highest whose thresholds their main and other legs meet.
    fn rank_of(&self, user: UserNo, ranks: &[Rank]) -> Option<Ranked> {
        if self.members[user as usize].directs.is_empty() {
            return None;
        }
        let (main, other) = self.legs_below(user);
        let i = ranks.iter().rposition(|r| main >= r.main && other >= r.other)?;
        Some(Ranked { user, rank: i as u32 + 1, main, other })
    }

    /// §3 for week `week` under the version in force at the last event applied.
    fn close(&mut self, week: u64) -> PeriodClose {
        let version = self.schedule.at(self.last_event_block).clone();
        let ranks = &version.params.ranks;
        let ranked: Vec<Ranked> = (1..self.members.len() as UserNo).filter_map(|u| self.rank_of(u, ranks)).collect();
        let bonuses: Amount = ranked.iter().map(|r| ranks[r.rank as usize - 1].bonus).sum();
        let company_before = self.company;
        let mut credits = Vec::new();
        for r in &ranked {
            let bonus = ranks[r.rank as usize - 1].bonus;
            let bonus = if bonuses > company_before { bonus * company_before / bonuses } else { bonus };
            // An exited member's bonus stays with the company it would have been paid from.
            self.credit(&mut credits, r.user, RewardKind::RankBonus, r.rank, bonus);
        }
        let close = PeriodClose {
            period: week,
            plan_version: version.version,
            period_end: version.params.week_end(week),
            ranked,
            bonuses,
            company_before,
            credits,
        };
        self.company -= close.credited();
        close
    }

    fn new_outcome(&mut self, plan_version: u32, user: UserNo, amount: Amount) -> EventOutcome {
        let seq = self.counters.applied_events;
        self.counters.applied_events += 1;
        EventOutcome::new(seq, plan_version, user, amount)
    }
}

impl GenerationEngine {
    /// Closes every week that ended at or before `timestamp` (the time of confirmed block `_block`), under the
    /// version in force at the last event applied before the week's end (§3).
    pub fn close_through(&mut self, _block: u64, timestamp: u64) -> Vec<PeriodClose> {
        let mut closes = Vec::new();
        while let Some(week) = self.next_week {
            if self.schedule.at(self.last_event_block).params.week_end(week) > timestamp {
                break;
            }
            closes.push(self.close(week));
            self.next_week = Some(week + 1);
        }
        closes
    }

    /// Checks `event`, of block `block` at time `timestamp`, against the plan version of that block and applies
    /// it (§2), or refuses it without changing anything.
    pub fn apply(&mut self, block: u64, timestamp: u64, event: &PlanEvent) -> Result<EventOutcome, Rejection> {
        let version = self.schedule.at(block).clone();
        let params = &version.params;
        let amount = event.amount();
        let user = event.check_purchase(&params.packages, |a| self.by_address.get(a).copied())?;
        // Weeks close before any event of a later block (the ledger closes them first); an event of a closed or
        // unreached week means chain time went backwards, and changes nothing.
        let week = params.week_of(timestamp);
        match self.next_week {
            Some(next) if week != next => return Err(Rejection::PeriodOrder { timestamp }),
            _ => self.next_week = Some(week),
        }
        self.last_event_block = block;
        let mut out = match (event, user) {
            (&PlanEvent::Registration { user, sponsor, .. }, _) => {
                let sponsor_no = self.by_address[&sponsor];
                let no = self.users.len() as UserNo;
                self.by_address.insert(user, no);
                self.users.push(UserState::new(user, Some(sponsor_no)));
                self.members.push(Member::default());
                // The new user counts among the sponsor's directs before the income is shared (§2).
                self.members[sponsor_no as usize].directs.push(no);
                let s = &mut self.users[sponsor_no as usize];
                s.direct_count += 1;
                let referral_number = s.direct_count;
                let mut out = self.new_outcome(version.version, no, amount);
                out.registration = Some(RegistrationFacts { sponsor: sponsor_no, referral_number });
                out
            }
            (PlanEvent::Retopup { .. }, Some(no)) => {
                let u = &mut self.users[no as usize];
                u.has_retopup = true;
                u.retopup_count += 1;
                let mut out = self.new_outcome(version.version, no, amount);
                out.retopup_no = Some(self.counters.retopup);
                self.counters.retopup += 1;
                out
            }
            (PlanEvent::Retopup { .. }, None) => unreachable!("a retopup's user was resolved above"),
            (PlanEvent::Sale(_) | PlanEvent::Refund { .. }, _) => unreachable!("a sale is refused above"),
        };
        self.buy(&mut out, params);
        Ok(out)
    }
}

impl RewardPlan for GenerationEngine {
    fn kind(&self) -> PlanKind {
        PlanKind::Generation
    }

    fn users(&self) -> &[UserState] {
        &self.users
    }

    fn user_no(&self, address: &Address) -> Option<UserNo> {
        self.by_address.get(address).copied()
    }

    fn counters(&self) -> RowCounters {
        self.counters
    }

    fn set_frozen(&mut self, user: UserNo, frozen: bool) {
        if let Some(u) = self.users.get_mut(user as usize) {
            u.frozen = frozen;
        }
    }

    fn set_company_credit_counter(&mut self, next: u64) {
        self.counters.company_credit = next;
    }

    fn set_exited(&mut self, user: UserNo) {
        if let Some(u) = self.users.get_mut(user as usize) {
            u.exited = true;
        }
    }

    fn follows_company_balance(&self) -> bool {
        true
    }

    fn set_company_balance(&mut self, balance: Amount) {
        self.company = balance;
    }

    fn next_period(&self) -> Option<u64> {
        self.next_week
    }
}

#[cfg(test)]
mod tests;
