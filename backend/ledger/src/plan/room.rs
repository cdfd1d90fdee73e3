//! The one interface between the ledger and a plan's room. The ledger stores what every plan shares (the raw
//! events, users, rewards, company credits, the asset's counters) and asks each asset's plan, through
//! [`PlanBook`], to apply events, close periods and store the rows only that plan has; it finds an asset's plan by
//! its kind in the registry ([`super::registry`]), whose [`PlanRoom`] loads it. Nothing outside a room names a
//! plan's engine, outcome or tables.

use std::any::Any;
use std::fmt::Debug;

use futures::future::BoxFuture;
use sqlx::{Postgres, Transaction};

use super::kind::{PlanKind, RewardPlan};
use super::vocabulary::{Amount, CompanyCredit, Credit, EventOutcome, PlanEvent, Rejection, RewardStatus, UserNo};
use crate::error::LedgerError;

/// The transaction every ledger write runs in.
pub(crate) type Tx = Transaction<'static, Postgres>;

/// Where the ledger stands on an asset when it loads the asset's plan (from the asset's row).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AssetAt {
    /// The asset.
    pub id: i32,
    /// Events applied to it.
    pub applied_events: u64,
    /// The next period to close, for plans with periods (`None` before the first event).
    pub next_period: Option<u64>,
    /// The block of the last event applied (0 before any).
    pub last_block: u64,
}

/// A confirmed block: an event's, or the head's when periods close with no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At {
    /// Its number.
    pub block: u64,
    /// Its time (unix seconds): plans' periods follow it, never the host's clock.
    pub timestamp: u64,
}

/// What an applied event gives the ledger's shared rows.
#[derive(Debug)]
pub(crate) struct Applied {
    /// Its credits, company credits and facts.
    pub outcome: EventOutcome,
    /// The number of each placement the outcome's credits refer to by index (plans that place nodes).
    pub placement_nos: Vec<u64>,
    /// Users whose row changes other than by the outcome's credits (their reserve moved): the ledger rewrites
    /// their `reserved`.
    pub users: Vec<UserNo>,
    /// What kind of plan event it was (`chain_events.kind`). A registration or a retopup adds its amount to the
    /// payer's `paid_in`; a sale's or a refund's `outcome.user` is the seller, whose `paid_in` does not move.
    pub kind: AppliedKind,
    /// Rewards of earlier events whose status the event moved (a refund reverses its sale's RETAIL row).
    pub moved: Vec<Moved>,
    /// What the event took from the company's balance (a refund: a − r, PLAN-SALES.md §4).
    pub company_debit: Amount,
}

impl Applied {
    /// A registration or a retopup (by `outcome.registration`) that moved no earlier reward.
    pub(crate) fn payment(outcome: EventOutcome, placement_nos: Vec<u64>, users: Vec<UserNo>) -> Self {
        let kind = if outcome.registration.is_some() { AppliedKind::Registration } else { AppliedKind::Retopup };
        Self { outcome, placement_nos, users, kind, moved: Vec::new(), company_debit: 0 }
    }
}

/// The kinds of applied plan events, as `chain_events.kind` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppliedKind {
    /// A registration.
    Registration,
    /// A retopup (a package's purchase).
    Retopup,
    /// A sale (PLAN-SALES.md §3).
    Sale,
    /// A refund of a sale (§4).
    Refund,
}

impl AppliedKind {
    /// The name stored in `chain_events.kind`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Retopup => "retopup",
            Self::Sale => "sale",
            Self::Refund => "refund",
        }
    }
}

/// A reward an earlier row created whose status the plan moved: a RETAIL row maturing (to pending, held or
/// forfeited) or reversed (PLAN-SALES.md §3, §4). The ledger moves the owner's balances with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Moved {
    /// The reward.
    pub reward_no: u64,
    /// Its owner.
    pub user: UserNo,
    /// Its amount.
    pub amount: Amount,
    /// The status it must have (checked when written).
    pub from: RewardStatus,
    /// The status it moves to.
    pub to: RewardStatus,
}

/// A due item a plan processed at a confirmed block: a period's close, or rewards that moved with no event (a
/// sale's maturity, with the company's credit of a RETAIL row whose seller has left).
#[derive(Debug)]
pub(crate) enum Due {
    /// A period closed.
    Closed(Closed),
    /// Rewards moved.
    Moved {
        /// The moves.
        moved: Vec<Moved>,
        /// The company's credits they made, each naming its reward.
        company: Vec<(CompanyCredit, u64)>,
    },
}

/// A period a plan closed: its credits (each debited from the company), under the version it closed under. The
/// plan's own record of the close is its room's row.
#[derive(Debug)]
pub(crate) struct Closed {
    /// The period's number.
    pub period: u64,
    /// The plan version it closed under.
    pub plan_version: u32,
    /// The credits, numbered like every reward.
    pub credits: Vec<Credit>,
}

/// One asset's plan as the ledger keeps it: the plan's engine and the rows only this plan stores, gathered while
/// a batch applies and written by [`flush`](Self::flush) in the batch's transaction. When a batch fails, the
/// ledger drops every book and loads them again, so a book never writes rows of a rolled-back batch.
pub(crate) trait PlanBook: Debug + Send + Sync {
    /// The plan, for what every plan answers (users, counters, periods).
    fn plan(&self) -> &dyn RewardPlan;

    /// The plan, for what every plan is told (frozen flags, company credit numbers, the company's balance).
    fn plan_mut(&mut self) -> &mut dyn RewardPlan;

    /// Applies `event` of confirmed block `at` under the plan version of that block, gathering this plan's own
    /// rows of it; or refuses it (`Ok(Err)`) with nothing changed. `Err` is a broken invariant: nothing is stored.
    fn apply(&mut self, at: At, event: &PlanEvent) -> Result<Result<Applied, Rejection>, LedgerError>;

    /// Processes every item due at or before block `at` (called before any event of that block, and with the
    /// confirmed head when no event comes): closes every period that ended, and moves what matured, gathering the
    /// plan's record of each. Plans without periods close nothing.
    fn close_through(&mut self, at: At) -> Vec<Due> {
        let _ = at;
        Vec::new()
    }

    /// What the plan holds back of `user`'s credits (`users.reserved`; counted in the proof of solvency).
    fn reserved(&self, user: UserNo) -> Amount {
        let _ = user;
        0
    }

    /// Applies `user`'s leave at block `block` to the plan (PLAN.md §5), after the ledger settled their rewards in
    /// the same transaction: marks them exited, and records what the plan saved for them (an auto-pool reserve,
    /// retained pair bonuses) as paid out by the leave. Called with nothing gathered and not flushed.
    fn exit<'a>(
        &'a mut self,
        tx: &'a mut Tx,
        asset_id: i32,
        user: UserNo,
        block: u64,
    ) -> BoxFuture<'a, Result<(), LedgerError>> {
        let _ = (tx, asset_id, block);
        self.plan_mut().set_exited(user);
        Box::pin(async { Ok(()) })
    }

    /// Writes the rows gathered since the last flush (after the shared rows of the same batch).
    fn flush<'a>(&'a mut self, tx: &'a mut Tx, asset_id: i32) -> BoxFuture<'a, Result<(), LedgerError>>;

    /// Re-reads what an admin action outside the event stream changed and the plan depends on: its plan versions,
    /// and for plans that pay from it the company's balance.
    fn refresh<'a>(&'a mut self, tx: &'a mut Tx, asset_id: i32) -> BoxFuture<'a, Result<(), LedgerError>>;

    /// The engine, for code that asks for a plan by its type ([`crate::ChainLedger::plan_engine`]).
    fn engine_any(&self) -> &dyn Any;
}

/// A plan's room as the registry lists it: which kind it serves and how an asset's plan is loaded from the
/// ledger's tables.
pub(crate) trait PlanRoom: Sync {
    /// The kind it serves.
    fn kind(&self) -> PlanKind;

    /// The plan's own tables in the ledger's digest ([`crate::digest`]): (table, columns or `*`, key order). Columns
    /// that depend on when the listener saw a confirmed head rather than on the events are left out.
    fn digest_tables(&self) -> &'static [(&'static str, &'static str, &'static str)];

    /// Loads the plan of the asset at `at` from its rows.
    fn load<'a>(&'a self, tx: &'a mut Tx, at: AssetAt) -> BoxFuture<'a, Result<Box<dyn PlanBook>, LedgerError>>;
}
