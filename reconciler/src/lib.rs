//! The reconciler: on a schedule and on demand, compares each asset's on-chain custody with what the ledger
//! says it should be, and pages on-call staff through [`alerts`] when they disagree.
//!
//! [`checks`] are pure; [`figures`] reads what they need (Postgres and the chain at the listener's confirmed
//! block); [`service`] runs them, stores results and firing state, and delivers alert changes.

pub mod alerts;
pub mod checks;
pub mod config;
pub mod figures;
pub mod metrics;
pub mod service;
pub mod startup;
