//! Admin payouts: pending rewards per user, payout batches built from them, signed through the signer (one
//! nonce per batch, fixed before signing), sent on-chain with the operator key and retried with the same
//! signed batch when the last transaction was dropped or reverted (both through [`crate::payouts::sender`], which
//! the payout worker uses too). Settlement (batched → settled, claimable)
//! comes from the contract's events through the listener, not from here. A batch that provably can no longer
//! execute (never signed, or expired on-chain with its nonces unused) can be cancelled: its rewards are
//! pending again for a new batch.
//!
//! Every state change writes an `audit_logs` row in the same transaction.

mod batches;
mod cancel;
mod pending;
mod send;
mod sign;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::context::ApiContext;

pub(crate) use batches::load_batch;
pub use batches::{
    BatchEntry, BatchView, BuildAnswer, BuildLimitsView, BuildRequest, DEFAULT_MAX_ENTRIES, LeftOutEntry,
    LeftOutSummary, MAX_ENTRIES,
};
pub use pending::{PendingPage, PendingUser};
pub use send::SendResult;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(pending::pending))
        .routes(routes!(batches::list, batches::build))
        .routes(routes!(batches::detail))
        .routes(routes!(sign::sign))
        .routes(routes!(send::submit))
        .routes(routes!(send::retry))
        .routes(routes!(cancel::cancel))
}
