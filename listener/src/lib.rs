//! The listener: follows the Settlement contract's logs on each chain, only blocks at least
//! `confirmations` deep and in order, checking the parent-hash chain so that a reorg deeper than the
//! confirmation depth stops it instead of silently rewriting the ledger.
//!
//! `follower` talks to the RPC provider and knows nothing of the ledger; `range` is the pure controller
//! of how many blocks one `eth_getLogs` asks for.

pub mod config;
pub mod contracts;
pub mod decode;
pub mod follower;
pub mod metrics;
pub mod range;
pub mod service;
pub mod startup;

pub use follower::{BlockRef, ChainFollower, ConfirmedBlock, FollowError, FollowerConfig};
pub use range::AdaptiveRange;
