//! Ledger of the referral plan: the pure plan engine of PLAN.md ([`plan`]) and the Postgres
//! ledger that applies confirmed chain events to it ([`ledger`]).

pub mod db;
pub mod events;
pub mod ledger;
pub mod plan;
pub mod synthetic;
