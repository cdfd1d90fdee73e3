//! The reward ledger: the pure plan engine of PLAN.md ([`plan`]), the chain events it consumes ([`events`]),
//! the Postgres schema of every service ([`db`] migrates it) and the writes that apply confirmed events.
//!
//! A [`ChainLedger`] owns the [`PlanEngine`](plan::PlanEngine) of every asset of one chain, loaded from the
//! database when opened. [`ChainLedger::apply_block`] applies a run of events in chain order
//! (one event, one block, or several blocks when catching up) in one database transaction that
//! stores the raw events, every ledger row they caused and the chain's sync cursor together. An event already stored (same chain, tx hash
//! and log index) is skipped, so re-application changes nothing. Each new event is stored once it is applied, one
//! `chain_events` row with its outcome and, for a registration or retopup, the ledger's record of it (asset, number,
//! payer, amount, plan version, a retopup's number; the views `ledger_events` and `retopups` show those); a user's
//! counters and balances are one `users` row (the view `user_balances` shows the balances), and a pool node is the
//! row of the placement that created it (the view `pool_nodes`). An event the plan refuses
//! (or whose token is no asset) is stored with outcome `quarantined`, a quarantine row and an
//! alert, and changes no ledger row.
//!
//! The engine is kept in step with the database: each transaction locks the chain's cursor row
//! and the asset rows `FOR UPDATE`, then compares their counters with the engine's. An
//! admin action (which bumps `admin_seq`, see [`admin`]) makes the ledger re-read the frozen
//! flags, plan versions and company-credit counter; any other difference (events applied by
//! another process, or a failed transaction here) makes it reload the engine entirely.
//!
//! Admin actions are not chain events; each audit row records the ledger position
//! (`applied_events`) it took effect at, so a replay from the raw events can interleave them.
//!
//! Rooms: the apply path (`apply`, with `load` and `write`), the listener's sync state (`sync`), assets
//! (`assets`) and the digest (`digest`) apart; the payout lifecycle in [`payouts`].

pub mod db;
pub mod events;
pub mod plan;
#[cfg(feature = "test-utils")]
pub mod synthetic;

pub mod admin;
mod apply;
mod assets;
pub mod audit;
pub mod authorisations;
pub mod console;
mod digest;
pub mod disclosure;
pub mod eligibility;
mod error;
pub mod exits;
pub mod figures;
pub mod forfeits;
pub mod gauges;
mod load;
pub mod members;
pub mod money;
pub mod monitoring;
pub mod notify;
pub mod ops;
mod outflows;
pub mod paid;
pub mod payments;
pub mod payouts;
pub mod pools;
pub mod sessions;
mod settlement;
pub mod solvency;
pub mod staff;
pub mod statements;
mod stored;
mod suspense;
mod sync;
pub mod treasury;
pub mod withdrawals;
mod write;

pub use apply::{ApplySummary, ChainLedger};
pub use assets::{AssetInfo, AssetPlan, AssetSpec, NewestPlan, asset_info, assets, create_asset, plan_kind, plans};
pub use digest::digest;
pub use error::LedgerError;
/// Reads of the generation plan for the API (in its room).
pub use plan::generation::reads as generation;
pub use sync::{
    BlockCursor, FollowedContract, ListenerStatus, applied_blocks, confirmed_lag, event_outcomes, followed_contracts,
    listener_statuses, record_followed_contract, try_listener_lock,
};
