//! The reward plan of PLAN.md as a pure state machine: no I/O, no async, integer base units.
//!
//! # Design
//!
//! [`PlanEngine`] holds everything a plan decision depends on for one asset: users (sponsor,
//! direct-referral count, retopup flag, frozen flag, nodes per level, reserve per level), the
//! breadth-first tree of every level (owner and completion of each node), the plan versions,
//! and the counters that number ledger rows. It does *not* hold balances or reward statuses
//! after creation: those only matter to the ledger, never to a later decision.
//!
//! The same engine serves the tests and the service. Property tests drive an engine built in
//! memory; the Postgres ledger (`crate::ledger`) loads an engine from its tables at startup and
//! keeps it in step: every applied event goes through the engine and then into the database in
//! the same call, and before each database transaction the ledger compares the asset row's
//! counters with its own, reloading the frozen flags and plan versions when an admin action
//! (which happens outside the event stream, possibly in another process) has bumped them, and
//! the whole engine when events were applied elsewhere. So the frozen flag the engine sees is
//! the one committed at the moment the event is applied.
//!
//! An event either is refused with a typed [`Rejection`] before anything changes, or yields an
//! [`EventOutcome`]: every credit, company credit, placement and reserve movement it caused,
//! numbered, so conservation can be checked per event and per auto-progression
//! ([`EventOutcome::check_conservation`]) and the ledger can write the rows as they are.

mod params;

use std::collections::HashMap;

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

pub use params::{
    BPS_DENOMINATOR, InvalidPlan, InvalidVersion, MATRIX_SLOTS, MAX_AMOUNT, PlanParams, PlanSchedule, PlanVersion,
    share,
};

/// An amount in base units of one asset (wei, 10^-6 USDT).
pub type Amount = u128;
/// A user's number within one asset's plan: genesis is 0, then registration order.
pub type UserNo = u32;

/// What kind of credit a reward is (PLAN.md §2–§4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RewardKind {
    /// DIRECT: `direct_amount` to the sponsor of a registration that was not a pool entry (§2.3).
    Direct,
    /// POOL_L1: parent node's `layer_bps[0]` share of a placement (§3.2).
    PoolL1,
    /// POOL_L2: grandparent node's `layer_bps[1]` share of a placement.
    PoolL2,
    /// POOL_L3: great-grandparent's `layer_bps[2]` share; reserved towards the next level in the last slots.
    PoolL3,
    /// LEVEL: a sponsor's `level_bps[i]` share of a retopup, only if that sponsor has retopped (§4.2).
    Level,
}

impl RewardKind {
    /// The name stored in `rewards.kind` (`DIRECT`, `POOL_L1`, …), as PLAN.md writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "DIRECT",
            Self::PoolL1 => "POOL_L1",
            Self::PoolL2 => "POOL_L2",
            Self::PoolL3 => "POOL_L3",
            Self::Level => "LEVEL",
        }
    }

    fn pool(depth: u32) -> Self {
        match depth {
            1 => Self::PoolL1,
            2 => Self::PoolL2,
            _ => Self::PoolL3,
        }
    }
}

/// Status of a reward (PLAN.md §5). The engine only creates the first three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RewardStatus {
    /// Saved towards the owner's next level; never paid out, only spent by auto-progression.
    Reserved,
    /// Credited while the owner is frozen; becomes pending on unfreeze, or forfeited by an admin.
    Held,
    /// Payable: waiting for the next payout batch.
    Pending,
    /// In a payout batch that has not executed yet; at most one such batch per reward.
    Batched,
    /// Paid on-chain, or credited to the user's claimable balance when the push failed.
    Settled,
    /// A held reward an admin moved to the company (audited).
    Forfeited,
}

impl RewardStatus {
    /// The name stored in `rewards.status` (`pending`, `held`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Held => "held",
            Self::Pending => "pending",
            Self::Batched => "batched",
            Self::Settled => "settled",
            Self::Forfeited => "forfeited",
        }
    }
}

/// Why the company received an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanyReason {
    /// Registration fee minus the DIRECT reward.
    RegistrationRest,
    /// Placement price minus the layer shares (missing ancestors, the rest, dust).
    PoolRest,
    /// Retopup minus the LEVEL incomes (sponsors without retopup, the rest, dust).
    LevelRest,
    /// A held reward forfeited by an admin.
    Forfeit,
}

impl CompanyReason {
    /// The name stored in `company_credits.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegistrationRest => "registration_rest",
            Self::PoolRest => "pool_rest",
            Self::LevelRest => "level_rest",
            Self::Forfeit => "forfeit",
        }
    }
}

/// An event the plan consumes, already mapped to this asset (PLAN.md §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanEvent {
    /// A `Registered` event: `user` paid `amount` to join under `sponsor` (§2).
    Registration {
        /// Wallet joining the asset; must not be a user yet.
        user: Address,
        /// Existing user the new one registers under, who gets the DIRECT reward or a pool entry.
        sponsor: Address,
        /// Base units paid; must equal the `registration_fee` of the plan version in force.
        amount: Amount,
    },
    /// A `Retopped` event: `user` paid `amount` as a retopup (§4).
    Retopup {
        /// Existing user paying; from now on they earn LEVEL income.
        user: Address,
        /// Base units paid; must equal the `retopup_fee` of the plan version in force.
        amount: Amount,
    },
}

impl PlanEvent {
    /// What the user paid, in base units: the event's inflow.
    pub fn amount(&self) -> Amount {
        match self {
            Self::Registration { amount, .. } | Self::Retopup { amount, .. } => *amount,
        }
    }
}

/// Why an event was not applied; the caller quarantines it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Rejection {
    /// The amount is not the fee of the plan version in force at the event's block.
    #[error("amount {got} differs from the plan's {expected}")]
    WrongAmount {
        /// Registration or retopup fee of the plan version in force, in base units.
        expected: Amount,
        /// Base units the event actually paid.
        got: Amount,
    },
    /// A registration of a wallet that is already a user of this asset.
    #[error("user {0} is already registered")]
    DuplicateUser(Address),
    /// A registration under a sponsor who is not a user of this asset.
    #[error("sponsor {0} is not registered")]
    UnknownSponsor(Address),
    /// A retopup by a wallet that is not a user of this asset.
    #[error("user {0} is not registered")]
    UnknownUser(Address),
}

impl Rejection {
    /// Stable code stored with the quarantined event.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongAmount { .. } => "wrong_amount",
            Self::DuplicateUser(_) => "duplicate_user",
            Self::UnknownSponsor(_) => "unknown_sponsor",
            Self::UnknownUser(_) => "unknown_user",
        }
    }
}

/// Why a placement happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementCause {
    /// A sponsor's pool entry funded by a registration fee (§2.2).
    PoolEntry,
    /// Bought with the owner's reserve; `parent` is the placement whose credit filled it.
    AutoProgression {
        /// Index into [`EventOutcome::placements`] of the placement whose reserved POOL_L3 credit triggered it.
        parent: usize,
    },
}

/// One credit to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    /// Number of the reward within the asset, in creation order (the `rewards` row key).
    pub reward_no: u64,
    /// User credited.
    pub beneficiary: UserNo,
    /// DIRECT, POOL_L1/L2/L3 or LEVEL.
    pub kind: RewardKind,
    /// Pool level for POOL_L*, depth up the sponsor chain for LEVEL, 0 for DIRECT.
    pub level: u32,
    /// Base units; never 0 (zero shares make no row).
    pub amount: Amount,
    /// As created: `pending`, `held` (frozen owner) or `reserved`; the ledger moves it on from there.
    pub status: RewardStatus,
    /// Index into [`EventOutcome::placements`] of the placement that made this credit.
    pub placement: Option<usize>,
}

/// One credit to the company account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyCredit {
    /// Number of the company credit within the asset (the `company_credits` row key).
    pub credit_no: u64,
    /// Base units; never 0.
    pub amount: Amount,
    /// Which rest or forfeit this is.
    pub reason: CompanyReason,
    /// Index into [`EventOutcome::placements`] for a placement's rest; `None` for the event's own rest.
    pub placement: Option<usize>,
}

/// A node placed in a level's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Number of the placement within the asset (the `placements` row key).
    pub placement_no: u64,
    /// User who owns the new node.
    pub owner: UserNo,
    /// Level of the tree the node is placed in (1-based).
    pub level: u32,
    /// Heap index of the new node in the level's tree.
    pub position: u64,
    /// Price paid for the node; its credits and company part sum to it.
    pub amount: Amount,
    /// Pool entry or auto-progression.
    pub cause: PlacementCause,
    /// Heap index of the ancestor whose matrix this placement completed (slot 14).
    pub completed: Option<u64>,
}

/// A change of a user's reserve towards `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveMovement {
    /// Number of the movement within the asset (the `reserve_movements` row key).
    pub movement_no: u64,
    /// Owner of the reserve.
    pub user: UserNo,
    /// The level the reserve saves towards.
    pub level: u32,
    /// Credit added or price taken.
    pub change: ReserveChange,
    /// The reserve after this movement.
    pub balance_after: Amount,
}

/// Why a reserve moved: a reserved credit added to it, or an auto-progression's price taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReserveChange {
    /// A reserved POOL_L3 credit (index into [`EventOutcome::credits`]).
    Credit {
        /// Index into [`EventOutcome::credits`] of the reserved POOL_L3 credit.
        credit: usize,
        /// Base units added to the reserve: the whole credit.
        amount: Amount,
    },
    /// The price of an auto-progression (index into [`EventOutcome::placements`]).
    Take {
        /// Index into [`EventOutcome::placements`] of the auto-progression the price paid for.
        placement: usize,
        /// Base units taken from the reserve: the `level_price` of the level placed in.
        amount: Amount,
    },
}

/// Everything one applied event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOutcome {
    /// Position of this event among the asset's applied events, from 0.
    pub seq: u64,
    /// Plan version in force at the event's block, whose parameters were used.
    pub plan_version: u32,
    /// The paying user (new for a registration).
    pub user: UserNo,
    /// What the event paid (or the price of a manual placement): the input conservation checks.
    pub amount: Amount,
    /// Set for a registration.
    pub registration: Option<RegistrationFacts>,
    /// Set for a retopup: its number within the asset (the `retopups` row key).
    pub retopup_no: Option<u64>,
    /// Every user credit, including those of triggered auto-progressions, in creation order.
    pub credits: Vec<Credit>,
    /// Every company credit (rests and dust), in creation order.
    pub company: Vec<CompanyCredit>,
    /// Every node placed: the pool entry first, then auto-progressions depth-first.
    pub placements: Vec<Placement>,
    /// Every reserve credit and price taken, in order.
    pub reserve_movements: Vec<ReserveMovement>,
}

/// The registration part of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationFacts {
    /// The sponsor the new user registered under.
    pub sponsor: UserNo,
    /// The sponsor's direct-referral count including this one.
    pub referral_number: u64,
}

/// A broken conservation law (must never happen; tests and the ledger check it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("conservation broken for {what}: in {input}, out {output}")]
pub struct ConservationError {
    /// Which event, auto-progression or reserve movement broke it.
    pub what: String,
    /// What came in (the event amount or the price taken).
    pub input: Amount,
    /// What the credits and company credits add up to.
    pub output: Amount,
}

impl EventOutcome {
    /// PLAN.md §7.1: the event's amount equals its own credits plus its company credit, and
    /// every auto-progression's price equals that placement's credits plus company credit; the
    /// reserve movements match the reserved credits and the prices taken.
    pub fn check_conservation(&self) -> Result<(), ConservationError> {
        // Group 0 is the event itself; group i+1 is auto-progression placement i.
        let group = |placement: Option<usize>| match placement {
            Some(i) => match self.placements[i].cause {
                PlacementCause::PoolEntry => 0,
                PlacementCause::AutoProgression { .. } => i + 1,
            },
            None => 0,
        };
        let mut out = vec![0u128; self.placements.len() + 1];
        for c in &self.credits {
            out[group(c.placement)] += c.amount;
        }
        for c in &self.company {
            out[group(c.placement)] += c.amount;
        }
        let mut input = vec![0u128; self.placements.len() + 1];
        input[0] = self.amount;
        for (i, p) in self.placements.iter().enumerate() {
            if let PlacementCause::AutoProgression { .. } = p.cause {
                input[i + 1] = p.amount;
            }
        }
        for (g, (i, o)) in input.iter().zip(&out).enumerate() {
            if i != o {
                return Err(ConservationError {
                    what: if g == 0 {
                        format!("event {}", self.seq)
                    } else {
                        format!("auto-progression {}", self.placements[g - 1].placement_no)
                    },
                    input: *i,
                    output: *o,
                });
            }
        }
        for m in &self.reserve_movements {
            let ok = match m.change {
                ReserveChange::Credit { credit, amount } => {
                    let c = &self.credits[credit];
                    c.status == RewardStatus::Reserved && c.amount == amount && c.beneficiary == m.user
                }
                ReserveChange::Take { placement, amount } => {
                    let p = &self.placements[placement];
                    p.amount == amount && p.owner == m.user && p.level == m.level
                }
            };
            if !ok {
                return Err(ConservationError {
                    what: format!("reserve movement {}", m.movement_no),
                    input: 0,
                    output: 0,
                });
            }
        }
        let reserved_credits = self.credits.iter().filter(|c| c.status == RewardStatus::Reserved).count();
        let credit_moves =
            self.reserve_movements.iter().filter(|m| matches!(m.change, ReserveChange::Credit { .. })).count();
        if reserved_credits != credit_moves {
            return Err(ConservationError {
                what: "reserved credits without reserve movement".into(),
                input: reserved_credits as u128,
                output: credit_moves as u128,
            });
        }
        Ok(())
    }

    /// Σ of user credits plus company credits of the whole outcome (including cascades).
    pub fn total_out(&self) -> Amount {
        self.credits.iter().map(|c| c.amount).sum::<Amount>() + self.company.iter().map(|c| c.amount).sum::<Amount>()
    }
}

/// A user as the plan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserState {
    /// The user's wallet; unique within the asset.
    pub address: Address,
    /// The referrer fixed at registration; `None` only for genesis.
    pub sponsor: Option<UserNo>,
    /// Direct referrals so far; every `pool_entry_every`-th one funds a pool entry (while below the node cap).
    pub direct_count: u64,
    /// Retopped at least once; only such sponsors receive LEVEL income. Never reset.
    pub has_retopup: bool,
    /// Retopups paid so far.
    pub retopup_count: u64,
    /// Frozen by an admin: new credits are `held` instead of `pending`.
    pub frozen: bool,
    /// `nodes[L-1]`: nodes held in level L (grown on demand).
    nodes: Vec<u32>,
    /// `reserve[L-1]`: reserve saved towards level L (grown on demand).
    reserve: Vec<Amount>,
}

impl UserState {
    /// A newly registered user: no referrals, no retopup, not frozen, no nodes or reserve.
    pub fn new(address: Address, sponsor: Option<UserNo>) -> Self {
        Self {
            address,
            sponsor,
            direct_count: 0,
            has_retopup: false,
            retopup_count: 0,
            frozen: false,
            nodes: Vec::new(),
            reserve: Vec::new(),
        }
    }

    /// Nodes the user holds in `level` (1-based); capped by `max_nodes_per_level`.
    pub fn nodes_in(&self, level: u32) -> u32 {
        self.nodes.get(level as usize - 1).copied().unwrap_or(0)
    }

    /// Reserve saved towards `level` (1-based) from reserved POOL_L3 credits one level below.
    pub fn reserve_towards(&self, level: u32) -> Amount {
        self.reserve.get(level as usize - 1).copied().unwrap_or(0)
    }

    /// Every non-zero reserve as (level, amount).
    pub fn reserves(&self) -> impl Iterator<Item = (u32, Amount)> + '_ {
        self.reserve.iter().enumerate().filter(|(_, a)| **a > 0).map(|(i, a)| (i as u32 + 1, *a))
    }

    fn slot<T: Default + Clone>(v: &mut Vec<T>, level: u32) -> &mut T {
        let i = level as usize - 1;
        if v.len() <= i {
            v.resize(i + 1, T::default());
        }
        &mut v[i]
    }
}

/// A node of a level's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolNode {
    /// User who holds the node (one user may hold several per level).
    pub owner: UserNo,
    /// All 14 slots of its matrix are filled (§3.5).
    pub completed: bool,
}

/// Next number of each kind of ledger row, so replays number rows identically.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounters {
    /// Events applied to the asset; the next event's `seq`.
    pub applied_events: u64,
    /// Next `reward_no`.
    pub reward: u64,
    /// Next `placement_no`.
    pub placement: u64,
    /// Next `credit_no` (admin forfeits take numbers too).
    pub company_credit: u64,
    /// Next `movement_no`.
    pub reserve_movement: u64,
    /// Next `retopup_no`.
    pub retopup: u64,
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

    /// Checks `event` against the plan version of `block` and applies it, or refuses it
    /// without changing anything.
    pub fn apply(&mut self, block: u64, event: &PlanEvent) -> Result<EventOutcome, Rejection> {
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
        }
    }

    /// An admin's manual placement (not in PLAN.md; see `ledger::admin::manual_placement`): PLACE(owner,
    /// level, level_price[level]) under the plan version of `block`, with the auto-progressions it triggers,
    /// paid by the company. Not an event: the applied-event count stays, `seq` is the count so far, and the
    /// placement is the outcome's group 0 (its credits and company part sum to `amount`, the price). `None`
    /// when the level does not exist, the owner is unknown or already holds `max_nodes_per_level` nodes there.
    pub fn place_for_company(&mut self, block: u64, owner: UserNo, level: u32) -> Option<EventOutcome> {
        let version = self.schedule.at(block).clone();
        let params = &version.params;
        let price = params.price(level)?;
        if owner as usize >= self.users.len() || self.user(owner).nodes_in(level) >= params.max_nodes_per_level {
            return None;
        }
        let mut out = EventOutcome {
            seq: self.counters.applied_events,
            plan_version: version.version,
            user: owner,
            amount: price,
            registration: None,
            retopup_no: None,
            credits: Vec::new(),
            company: Vec::new(),
            placements: Vec::new(),
            reserve_movements: Vec::new(),
        };
        self.place(&mut out, params, owner, level, price, PlacementCause::PoolEntry);
        Some(out)
    }

    fn outcome(&mut self, plan_version: u32, user: UserNo, amount: Amount) -> EventOutcome {
        let seq = self.counters.applied_events;
        self.counters.applied_events += 1;
        EventOutcome {
            seq,
            plan_version,
            user,
            amount,
            registration: None,
            retopup_no: None,
            credits: Vec::new(),
            company: Vec::new(),
            placements: Vec::new(),
            reserve_movements: Vec::new(),
        }
    }

    /// Records a payable (or held) credit; zero amounts make no row.
    fn credit(
        &mut self,
        out: &mut EventOutcome,
        to: UserNo,
        kind: RewardKind,
        level: u32,
        amount: Amount,
        placement: Option<usize>,
    ) {
        if amount == 0 {
            return;
        }
        let status = if self.user(to).frozen { RewardStatus::Held } else { RewardStatus::Pending };
        self.push_credit(out, to, kind, level, amount, status, placement);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_credit(
        &mut self,
        out: &mut EventOutcome,
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

    fn company(&mut self, out: &mut EventOutcome, amount: Amount, reason: CompanyReason, placement: Option<usize>) {
        if amount == 0 {
            return;
        }
        out.company.push(CompanyCredit { credit_no: self.counters.company_credit, amount, reason, placement });
        self.counters.company_credit += 1;
    }

    /// PLACE(owner, level, price) of PLAN.md §3, including the auto-progressions it triggers.
    fn place(
        &mut self,
        out: &mut EventOutcome,
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
            if reserves_here && slot >= first_reserved_slot {
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
    fn progress(&mut self, out: &mut EventOutcome, params: &PlanParams, user: UserNo, level: u32, parent: usize) {
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
        out: &mut EventOutcome,
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

#[cfg(test)]
mod tests;
