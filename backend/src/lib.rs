//! The HTTP API of the referral platform over the ledger crate: wallet sign-in ([`auth`]), one module per
//! resource over a shared layer ([`http`]), settings ([`config`]), Redis ([`cache`]), payout use cases outside
//! HTTP ([`payouts`]: the sender and the worker), the proof of solvency's epochs ([`solvency`]: their worker) and
//! start-up ([`startup`]).

pub mod assets;
pub mod auth;
pub mod cache;
pub mod chains;
pub mod clock;
pub mod config;
pub mod http;
pub mod metrics;
pub mod notify;
pub mod outflows;
pub mod payouts;
pub mod preflight;
pub mod refusal;
pub mod solvency;
pub mod startup;
pub mod units;
