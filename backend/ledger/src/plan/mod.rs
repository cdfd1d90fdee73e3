//! The reward plans, each in its room (`auto_pool`: PLAN.md; `generation`: PLAN-GENERATION.md; `binary`:
//! PLAN-BINARY.md; `sales`: PLAN-SALES.md, its engine only so far), the vocabulary they share, and the one interface
//! (`room`) and registry (`registry`) the ledger knows them through. A plan's rules are pure state machines: no I/O,
//! no async, integer base units; its room adds its rows, their loader and its reads. What follows describes the
//! auto-pool plan's engine, the first.
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
//! [`PoolOutcome`]: every credit, company credit, placement and reserve movement it caused,
//! numbered, so conservation can be checked per event and per auto-progression
//! ([`PoolOutcome::check_conservation`]) and the ledger can write the rows as they are.
//!
//! Every plan answers [`RewardPlan`] (in `kind`) and is driven by the ledger through its room's book
//! (`room::PlanBook`), found by kind in the registry. The vocabulary every plan speaks (amounts, reward kinds and
//! statuses, events, rejections, users, credits and the shared outcome with its conservation check) is in
//! `vocabulary`; plan versions and the auto-pool plan's parameters in `params`.

pub mod auto_pool;
pub mod binary;
pub mod generation;
mod kind;
mod params;
mod params_room;
pub(crate) mod registry;
pub(crate) mod room;
pub mod sales;
mod vocabulary;

pub use auto_pool::{Placement, PlacementCause, PlanEngine, PoolNode, PoolOutcome, ReserveChange, ReserveMovement};
pub use generation::{PeriodClose, Ranked};
pub use kind::{PlanKind, RewardPlan};
pub use params::{
    BPS_DENOMINATOR, InvalidPlan, InvalidVersion, MATRIX_SLOTS, MAX_AMOUNT, PlanParams, PlanRules, PlanSchedule,
    PlanVersion, format_token_units, in_token_units, parse_token_units, share,
};
pub use params_room::{InvalidParams, ParamsRules, PlanParamsRoom};
pub use registry::params_of;
pub use vocabulary::*;
