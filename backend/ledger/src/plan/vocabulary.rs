//! The plan's vocabulary: what an engine takes (events) and gives (credits, company credits, placements, reserve
//! movements, or a typed refusal), with the conservation check every outcome must pass.

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

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
    /// Generation income of a purchase at a level of the buyer's sponsor chain (PLAN-GENERATION.md §2); the
    /// credit's `level` is that level.
    Generation,
    /// A week's rank bonus (PLAN-GENERATION.md §3); the credit's `level` is the rank's number (1 for the first).
    RankBonus,
    /// A period's pair bonus (PLAN-BINARY.md §3), `reserved` while its owner is not an active buyer.
    BinaryPair,
    /// A seller's retail commission on a customer sale (PLAN-SALES.md §3), `maturing` while the buyer may take
    /// the sale back.
    Retail,
    /// A unilevel commission at a period close (PLAN-SALES.md §5); the credit's `level` is 0 (one row per member
    /// and close, summed over levels).
    Unilevel,
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
            Self::Generation => "GENERATION",
            Self::RankBonus => "RANK_BONUS",
            Self::BinaryPair => "BINARY_PAIR",
            Self::Retail => "RETAIL",
            Self::Unilevel => "UNILEVEL",
        }
    }

    pub(super) fn pool(depth: u32) -> Self {
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
    /// A RETAIL commission whose sale the buyer can still take back (PLAN-SALES.md §3): a liability, never paid.
    Maturing,
    /// A RETAIL commission whose sale was taken back: never a liability again, never paid.
    Reversed,
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
            Self::Maturing => "maturing",
            Self::Reversed => "reversed",
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
    /// What a generation-plan purchase leaves to the company: missing levels, unqualified and capped parts, dust.
    GenerationRest,
    /// What a binary-plan purchase leaves after the sponsor's DIRECT (PLAN-BINARY.md §2.4).
    BinaryRest,
    /// A held reward forfeited by an admin.
    Forfeit,
    /// What a member's leave did not pay of what they were owed (PLAN.md §5: a pro-rata leave's shortfall, and
    /// rewards the leave's proof did not know yet).
    ExitForfeit,
    /// A credit that would have been an exited member's (PLAN.md §5).
    ExitedMember,
    /// What a sale leaves the company: a − r (PLAN-SALES.md §3), q of it the period's commission reserve.
    SaleRest,
    /// A registration's join fee under the sales plan: all of it the company's (PLAN-SALES.md §2).
    JoinFee,
}

impl CompanyReason {
    /// The name stored in `company_credits.reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegistrationRest => "registration_rest",
            Self::PoolRest => "pool_rest",
            Self::LevelRest => "level_rest",
            Self::GenerationRest => "generation_rest",
            Self::BinaryRest => "binary_rest",
            Self::Forfeit => "forfeit",
            Self::ExitForfeit => "exit_forfeit",
            Self::ExitedMember => "exited_member",
            Self::SaleRest => "sale_rest",
            Self::JoinFee => "join_fee",
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
    /// A `Sold` event of the sales desk (PLAN-SALES.md §3). Only the sales plan has a rule for it; the others hold
    /// it in suspense, and its buyer may take it back inside its window.
    Sale(SaleEvent),
    /// A `Refunded` event of the sales desk: the buyer took sale `sale_id` back, paid its whole amount (§4).
    Refund {
        /// The sale's id.
        sale_id: u64,
    },
}

/// A sale as the contract's event carries it (PLAN-SALES.md §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleEvent {
    /// B: the wallet that paid.
    pub buyer: Address,
    /// N: the seller the payload names (used only for a customer with no attributed member yet).
    pub named_seller: Address,
    /// a: base units paid.
    pub amount: Amount,
    /// v: whole points.
    pub pv: u64,
    /// r as signed (the contract keeps a − r for the buyer's refund).
    pub retail: Amount,
    /// The payload's nonce: never used twice.
    pub sale_id: u64,
    /// T: the block's time plus the signed refund window.
    pub refundable_until: u64,
}

impl PlanEvent {
    /// What the user paid, in base units: the event's inflow (0 for a refund, which pays out).
    pub fn amount(&self) -> Amount {
        match self {
            Self::Registration { amount, .. } | Self::Retopup { amount, .. } => *amount,
            Self::Sale(sale) => sale.amount,
            Self::Refund { .. } => 0,
        }
    }

    /// A plan without sales refuses a sale or a refund before anything changes (held in suspense, PLAN-SALES.md
    /// §3: the buyer may still take the sale back inside its window).
    pub fn check_not_a_sale(&self) -> Result<(), Rejection> {
        match self {
            Self::Sale(_) => Err(Rejection::NotInThisPlan { event: "sale" }),
            Self::Refund { .. } => Err(Rejection::NotInThisPlan { event: "refund" }),
            Self::Registration { .. } | Self::Retopup { .. } => Ok(()),
        }
    }

    /// A package plan's checks before anything changes (PLAN-GENERATION.md §2, PLAN-BINARY.md §2): the amount is
    /// one of `packages`, a registration's wallet is new and its sponsor a user, a purchase's buyer a user. Returns
    /// the buyer's number for a purchase, `None` for a registration.
    pub fn check_purchase(
        &self,
        packages: &[Amount],
        user_no: impl Fn(&Address) -> Option<UserNo>,
    ) -> Result<Option<UserNo>, Rejection> {
        self.check_not_a_sale()?;
        let amount = self.amount();
        if !packages.contains(&amount) {
            return Err(Rejection::NotAPackage { got: amount, packages: packages.to_vec() });
        }
        match *self {
            Self::Registration { user, sponsor, .. } => {
                if user_no(&user).is_some() {
                    return Err(Rejection::DuplicateUser(user));
                }
                user_no(&sponsor).ok_or(Rejection::UnknownSponsor(sponsor))?;
                Ok(None)
            }
            Self::Retopup { user, .. } => Ok(Some(user_no(&user).ok_or(Rejection::UnknownUser(user))?)),
            Self::Sale(_) | Self::Refund { .. } => unreachable!("refused above"),
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
    /// An amount that is none of the plan's packages (PLAN-GENERATION.md §2): held in suspense until refunded.
    #[error("amount {got} is not one of the plan's packages {packages:?}")]
    NotAPackage {
        /// The amount paid.
        got: Amount,
        /// The packages of the plan version in force at the event's block.
        packages: Vec<Amount>,
    },
    /// An event in a period that is already closed, or not yet reached by the closes: chain time went backwards.
    #[error("block time {timestamp} is outside the plan's open period")]
    PeriodOrder {
        /// The event's block time.
        timestamp: u64,
    },
    /// An event the asset's plan has no rule for (a retopup under the sales plan, PLAN-SALES.md §2; a sale or a
    /// refund under another plan): held in suspense.
    #[error("the asset's plan takes no {event}")]
    NotInThisPlan {
        /// The event's kind ("retopup").
        event: &'static str,
    },
    /// A sale of no amount (PLAN-SALES.md §3).
    #[error("a sale must carry an amount above 0")]
    SaleAmount,
    /// A sale whose id (its payload's nonce) was used before, by an applied or a quarantined sale.
    #[error("sale id {sale_id} was used before")]
    SaleIdReused {
        /// The id.
        sale_id: u64,
    },
    /// A sale whose refundable_until is not after its block's time.
    #[error("refundable_until {until} is not after the sale block's time {timestamp}")]
    RefundWindow {
        /// T as the event carries it.
        until: u64,
        /// The sale block's time.
        timestamp: u64,
    },
    /// A customer sale with no attributed member yet, naming a seller who is not a member (or the buyer).
    #[error("seller {seller} is not a member")]
    UnknownSeller {
        /// N as the sale names it.
        seller: Address,
    },
    /// A sale whose signed retail commission is not the one the plan gives it at its block.
    #[error("signed retail commission {signed} differs from the plan's {expected}")]
    RetailMismatch {
        /// r as signed.
        signed: Amount,
        /// r of PLAN-SALES.md §3 step 1.
        expected: Amount,
    },
    /// A refund of a sale that is not open (final, refunded, or unknown): paged.
    #[error("sale {sale_id} is not open: nothing to take back")]
    RefundNotOpen {
        /// The id the refund names.
        sale_id: u64,
    },
}

impl Rejection {
    /// Stable code stored with the quarantined event.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongAmount { .. } => "wrong_amount",
            Self::DuplicateUser(_) => "duplicate_user",
            Self::UnknownSponsor(_) => "unknown_sponsor",
            Self::UnknownUser(_) => "unknown_user",
            Self::NotAPackage { .. } => "not_a_package",
            Self::PeriodOrder { .. } => "period_order",
            Self::NotInThisPlan { .. } => "not_in_this_plan",
            Self::SaleAmount => "sale_amount",
            Self::SaleIdReused { .. } => "sale_id_reused",
            Self::RefundWindow { .. } => "refund_window",
            Self::UnknownSeller { .. } => "unknown_seller",
            Self::RetailMismatch { .. } => "retail_mismatch",
            Self::RefundNotOpen { .. } => "refund_not_open",
        }
    }
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
    /// Index into [`PoolOutcome::placements`] of the placement that made this credit.
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
    /// Index into [`PoolOutcome::placements`] for a placement's rest; `None` for the event's own rest.
    pub placement: Option<usize>,
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
    /// Set for a retopup: its number within the asset (`chain_events.retopup_no`; the view `retopups` shows them).
    pub retopup_no: Option<u64>,
    /// Every user credit, including those of triggered auto-progressions, in creation order.
    pub credits: Vec<Credit>,
    /// Every company credit (rests and dust), in creation order.
    pub company: Vec<CompanyCredit>,
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
    /// An outcome with no rows yet, of event `seq` under `plan_version`, by `user` paying `amount`.
    pub fn new(seq: u64, plan_version: u32, user: UserNo, amount: Amount) -> Self {
        Self {
            seq,
            plan_version,
            user,
            amount,
            registration: None,
            retopup_no: None,
            credits: Vec::new(),
            company: Vec::new(),
        }
    }

    /// The event's amount equals its credits plus its company credits (every plan's first invariant). A plan
    /// whose outcome holds more than the event's own rows (the auto-pool plan's auto-progressions, paid from
    /// reserves) checks its own groups instead.
    pub fn check_conservation(&self) -> Result<(), ConservationError> {
        let output = self.total_out();
        if output != self.amount {
            return Err(ConservationError { what: format!("event {}", self.seq), input: self.amount, output });
        }
        Ok(())
    }

    /// Σ of user credits plus company credits of the whole outcome (including cascades).
    pub fn total_out(&self) -> Amount {
        self.credits.iter().map(|c| c.amount).sum::<Amount>() + self.company.iter().map(|c| c.amount).sum::<Amount>()
    }
}

/// A user as the plans see them. The per-level nodes and reserves are the auto-pool plan's (PLAN.md); the other
/// plans keep their members' own figures in their engines.
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
    /// Took their due out through the contract (a leave, PLAN.md §5): every later credit that would be theirs is
    /// the company's. For good.
    pub exited: bool,
    /// `nodes[L-1]`: nodes held in level L (grown on demand).
    pub(in crate::plan) nodes: Vec<u32>,
    /// `reserve[L-1]`: reserve saved towards level L (grown on demand).
    pub(in crate::plan) reserve: Vec<Amount>,
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
            exited: false,
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

    pub(in crate::plan) fn slot<T: Default + Clone>(v: &mut Vec<T>, level: u32) -> &mut T {
        let i = level as usize - 1;
        if v.len() <= i {
            v.resize(i + 1, T::default());
        }
        &mut v[i]
    }
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

impl RowCounters {
    /// Appends a company credit of `amount`, numbered next (no row for 0): every plan's rests.
    pub fn push_company(
        &mut self,
        to: &mut Vec<CompanyCredit>,
        amount: Amount,
        reason: CompanyReason,
        placement: Option<usize>,
    ) {
        if amount == 0 {
            return;
        }
        to.push(CompanyCredit { credit_no: self.company_credit, amount, reason, placement });
        self.company_credit += 1;
    }
}
