//! The signer service: turns a typed intent into an EIP-712 signature for the Settlement contract, after
//! authenticating the caller, checking policy and recording the nonce so that it is never signed twice.
//!
//! Pure logic (`intent`, `policy`) has no I/O; `store` (SQLite), `key`, `node` (the signer's own node of each
//! chain, JSON-RPC), `clock` (the chains' clocks) and `http` are thin layers around it, joined in `signing`. The
//! intents, wire types and the client other services use live in `signer-client` (re-exported here).

pub mod approvals;
pub mod auth;
pub mod clock;
pub mod config;
pub mod http;
pub mod key;
pub mod metrics;
pub mod node;
pub mod policy;
pub mod signing;
pub mod startup;
pub mod store;
pub mod telemetry;

pub use signer_client::{api, client, intent};
