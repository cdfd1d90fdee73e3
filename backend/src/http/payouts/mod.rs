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
use crate::http::error::ApiError;

pub(crate) use batches::load_batch;
pub use batches::{BatchEntry, BatchView, BuildAnswer, BuildLimitsView, BuildRequest, LeftOutEntry, LeftOutSummary};
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

/// Entries of a batch when the request names no `max_entries`.
pub const DEFAULT_MAX_ENTRIES: u32 = 100;
/// Most entries one batch may have (gas of one transaction; the signer may allow fewer).
pub const MAX_ENTRIES: u32 = 500;

/// Chain and asset of a batch; 404 when it does not exist.
async fn batch_chain(ctx: &ApiContext, id: i64) -> Result<ledger::payouts::BatchChain, ApiError> {
    ledger::payouts::batch_chain(&ctx.db, id).await?.ok_or(ApiError::NotFound)
}

fn conflict(code: &'static str, message: String) -> ApiError {
    ApiError::Conflict { code, message }
}
