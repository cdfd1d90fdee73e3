//! Ledger of the referral plan: the pure plan engine of PLAN.md ([`plan`]) and the Postgres
//! ledger that applies confirmed chain events to it ([`ledger`]); the HTTP API over them
//! ([`http`], wallet sign-in in [`auth`], wiring in [`startup`]); sending signed payout batches on-chain
//! ([`payout_submit`]).

pub mod auth;
pub mod config;
pub mod db;
pub mod events;
pub mod http;
pub mod ledger;
pub mod payout_submit;
pub mod plan;
pub mod startup;
pub mod synthetic;
