//! The plan interface: what the ledger asks of every reward plan, whichever an asset runs.
//!
//! An asset names its plan kind when it is created. The ledger keeps one `Box<dyn RewardPlan>` per asset and
//! hands it, in chain order, every confirmed block time it learns (so that periods close on block time even when
//! no event comes) and every plan event (registration, retopup). A plan answers with the shared vocabulary: an
//! [`EventOutcome`] per event (credits, company credits, and for the auto-pool plan its placements and reserve
//! movements), a [`PeriodClose`] per closed period, or a [`Rejection`] that quarantines the event. Everything it
//! answers is a pure function of the events, the block times and its plan versions, so a replay reproduces it.

use std::any::Any;

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use super::engine::{PlanEngine, PoolNode, RowCounters, UserState};
use super::vocabulary::{Amount, Credit, EventOutcome, PlanEvent, Rejection, UserNo};

/// The plan an asset runs, fixed when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// PLAN.md: direct income, the auto-pool matrices, level income on retopups.
    AutoPool,
    /// PLAN-GENERATION.md: packages, 20-level generation income, the cap, weekly rank bonuses.
    Generation,
    /// PLAN-BINARY.md: packages, placement in the weaker leg, pairs matched per period, retention.
    Binary,
}

impl PlanKind {
    /// The name stored in `assets.plan_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AutoPool => "auto_pool",
            Self::Generation => "generation",
            Self::Binary => "binary",
        }
    }

    /// The kind named `s` in `assets.plan_kind`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto_pool" => Some(Self::AutoPool),
            "generation" => Some(Self::Generation),
            "binary" => Some(Self::Binary),
            _ => None,
        }
    }
}

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

/// A reward plan as the ledger drives it; see the module documentation. A new plan implements this trait and
/// its loader in the ledger; the plans already here do not change.
pub trait RewardPlan: std::fmt::Debug + Send + Sync {
    /// Which plan this is.
    fn kind(&self) -> PlanKind;

    /// Every user in number order, genesis (number 0) first.
    fn users(&self) -> &[UserState];

    /// The number of the user with this wallet, if registered in the asset.
    fn user_no(&self, address: &Address) -> Option<UserNo>;

    /// Next row numbers; `applied_events` is compared with the asset row to detect drift.
    fn counters(&self) -> RowCounters;

    /// Sets the frozen flag (an admin action): a frozen user's new credits are `held`.
    fn set_frozen(&mut self, user: UserNo, frozen: bool);

    /// Admin forfeits number company credits too; the ledger moves the counter past them.
    fn set_company_credit_counter(&mut self, next: u64);

    /// Closes every period that ends at or before `timestamp`, the time of confirmed block `block`; the ledger
    /// calls it before applying any event of that block, and with the confirmed head when no event comes. Plans
    /// without periods close nothing.
    fn close_through(&mut self, block: u64, timestamp: u64) -> Vec<PeriodClose> {
        let _ = (block, timestamp);
        Vec::new()
    }

    /// The next period to close (`None` for plans without periods, or before the first event).
    fn next_period(&self) -> Option<u64> {
        None
    }

    /// Whether the plan pays from the company's balance (then the ledger keeps it told through
    /// [`set_company_balance`](Self::set_company_balance)); plans that never spend it need not be told.
    fn follows_company_balance(&self) -> bool {
        false
    }

    /// The company's balance the plan pays periodic bonuses from, as the ledger knows it (its credits, less
    /// what left it outside the plan: treasury transfers). Plans that never spend the company's money ignore it.
    fn set_company_balance(&mut self, balance: Amount) {
        let _ = balance;
    }

    /// Checks `event`, of block `block` at time `timestamp`, against the plan version of that block and applies
    /// it, or refuses it without changing anything.
    fn apply(&mut self, block: u64, timestamp: u64, event: &PlanEvent) -> Result<EventOutcome, Rejection>;

    /// The tree of a pool level in heap order (plans without pools have none).
    fn tree(&self, level: u32) -> &[PoolNode] {
        let _ = level;
        &[]
    }

    /// The plan itself, for code that knows which plan it holds (its loader, its API).
    fn as_any(&self) -> &dyn Any;

    /// The plan itself, mutable.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl RewardPlan for PlanEngine {
    fn kind(&self) -> PlanKind {
        PlanKind::AutoPool
    }

    fn users(&self) -> &[UserState] {
        PlanEngine::users(self)
    }

    fn user_no(&self, address: &Address) -> Option<UserNo> {
        PlanEngine::user_no(self, address)
    }

    fn counters(&self) -> RowCounters {
        PlanEngine::counters(self)
    }

    fn set_frozen(&mut self, user: UserNo, frozen: bool) {
        PlanEngine::set_frozen(self, user, frozen)
    }

    fn set_company_credit_counter(&mut self, next: u64) {
        PlanEngine::set_company_credit_counter(self, next)
    }

    fn apply(&mut self, block: u64, _timestamp: u64, event: &PlanEvent) -> Result<EventOutcome, Rejection> {
        PlanEngine::apply(self, block, event)
    }

    fn tree(&self, level: u32) -> &[PoolNode] {
        PlanEngine::tree(self, level)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
