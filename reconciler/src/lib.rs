//! The reconciler: on a schedule and on demand, compares each asset's on-chain custody with what the ledger
//! says it should be, and pages on-call staff through [`alerts`] when they disagree.
//!
//! [`checks`] are pure; [`figures`] reads what they need (Postgres and the chain at the listener's confirmed
//! block); [`service`] runs them, stores results and firing state, and delivers alert changes. [`changes`] judges
//! the contract's admin powers — every pending change, and the admin events since the last run — as [`watch`]
//! reads them at the same block. The preflight's checks run at start and on their own schedule, never stopping the
//! reconciler; [`preflight_watch`] pages their findings.

pub mod alerts;
pub mod changes;
pub mod checks;
pub mod config;
pub mod figures;
pub mod metrics;
pub mod preflight_watch;
pub mod service;
pub mod startup;
pub mod target;
pub mod watch;
