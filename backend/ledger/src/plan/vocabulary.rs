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
    /// What a generation-plan purchase leaves to the company: missing levels, unqualified and capped parts, dust.
    GenerationRest,
    /// What a binary-plan purchase leaves after the sponsor's DIRECT (PLAN-BINARY.md §2.4).
    BinaryRest,
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
            Self::GenerationRest => "generation_rest",
            Self::BinaryRest => "binary_rest",
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

    /// A package plan's checks before anything changes (PLAN-GENERATION.md §2, PLAN-BINARY.md §2): the amount is
    /// one of `packages`, a registration's wallet is new and its sponsor a user, a purchase's buyer a user. Returns
    /// the buyer's number for a purchase, `None` for a registration.
    pub fn check_purchase(
        &self,
        packages: &[Amount],
        user_no: impl Fn(&Address) -> Option<UserNo>,
    ) -> Result<Option<UserNo>, Rejection> {
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
    /// Set for a retopup: its number within the asset (`chain_events.retopup_no`; the view `retopups` shows them).
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
            placements: Vec::new(),
            reserve_movements: Vec::new(),
        }
    }

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
