//! The signer service: turns a typed intent into an EIP-712 signature for the Settlement contract, after
//! authenticating the caller, checking policy and recording the nonce so that it is never signed twice.
//!
//! Pure logic (`intent`, `policy`) has no I/O; `store` (SQLite), `key` and `http` are thin layers around it,
//! joined in `signing`. `client` is what other services use to call it.

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod http;
pub mod intent;
pub mod key;
pub mod metrics;
pub mod policy;
pub mod signing;
pub mod startup;
pub mod store;
pub mod telemetry;
