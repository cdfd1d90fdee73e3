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
//!
//! Every plan implements [`RewardPlan`] (in `kind`): the ledger drives each asset's plan through it. The
//! generation plan of PLAN-GENERATION.md is [`generation::GenerationEngine`].
//!
//! Rooms: the vocabulary every plan speaks (amounts, reward kinds and statuses, events, rejections, credits and
//! outcomes with their conservation check) in `vocabulary`, apart from this plan's engine in `engine` and its
//! parameters in `params`.

pub mod binary;
mod engine;
pub mod generation;
mod kind;
mod params;
mod vocabulary;

pub use engine::{PlanEngine, PoolNode, RowCounters, UserState};
pub use kind::{PeriodClose, PlanKind, Ranked, RewardPlan};
pub use params::{
    BPS_DENOMINATOR, InvalidPlan, InvalidVersion, MATRIX_SLOTS, MAX_AMOUNT, PlanParams, PlanRules, PlanSchedule,
    PlanVersion, share,
};
pub use vocabulary::*;

#[cfg(test)]
mod tests;
