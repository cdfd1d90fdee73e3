//! What every reward plan answers, whichever an asset runs: its kind, its users and row counters, its periods, and
//! what an admin tells it (frozen flags, company credit numbers, the company's balance). How a plan applies events
//! and closes periods is its room's ([`super::room::PlanBook`]): each plan's outcome is its own.

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};

use super::vocabulary::{Amount, RowCounters, UserNo, UserState};

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
    /// PLAN-SALES.md: retail commissions on sales to customers, maturing after the refund window, unilevel
    /// commissions by rank at period closes. The ledger stores it (`super::sales`, its room in the registry); the
    /// audited asset creation refuses it until the members' exit can pay maturing commissions
    /// ([`crate::admin::create_asset`]; the proof of solvency counts them: 0x03 leaves).
    Sales,
}

impl PlanKind {
    /// Every plan, in the order they were added: what a command names when it lists the plans.
    pub const ALL: [PlanKind; 4] = [Self::AutoPool, Self::Generation, Self::Binary, Self::Sales];

    /// Every plan's name, for a message: `auto_pool, generation, binary, sales`.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }

    /// The name stored in `assets.plan_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AutoPool => "auto_pool",
            Self::Generation => "generation",
            Self::Binary => "binary",
            Self::Sales => "sales",
        }
    }

    /// The kind named `s` in `assets.plan_kind`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto_pool" => Some(Self::AutoPool),
            "generation" => Some(Self::Generation),
            "binary" => Some(Self::Binary),
            "sales" => Some(Self::Sales),
            _ => None,
        }
    }
}

/// A reward plan as the ledger sees every plan; see the module documentation.
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

    /// Marks `user` exited (PLAN.md §5; the ledger settled what they were owed): every later credit that would be
    /// theirs goes to the company. Placements never change. What the plan saved for them is the room's to clear
    /// ([`super::room::PlanBook::exit`], which the ledger calls).
    fn set_exited(&mut self, user: UserNo);

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
}
