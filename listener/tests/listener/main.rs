//! The listener's tests, one test binary: each module below is one concern (contracts, the follower, ledger sync,
//! replay, TRON mode).

mod contracts;
mod follower;
mod ledger_sync;
mod replay;
mod sales;
mod tron_mode;
