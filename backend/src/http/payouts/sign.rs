//! `POST /v1/admin/payouts/batches/{id}/sign`: signing a built batch through the signer
//! ([`crate::outflows::payout_batch`]: the nonce and deadline are fixed in the ledger first, so a retried sign returns
//! the stored signature and a batch never gets a second nonce).

use alloy::primitives::Address;
use axum::extract::State;

use super::batches::{BatchView, load_batch};
use crate::http::context::ApiContext;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Json, Path, Staff, need};

/// Signs a built batch through the signer and records it (nonce, payouts hash, deadline, signature). Signing
/// a signed batch again returns the stored signature: never a second nonce for one batch.
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/sign", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(batch = id))]
pub(super) async fn sign(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Finance>,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    Ok(Json(sign_batch(&ctx, admin.wallet, id).await?))
}

/// Signs batch `id` for finance wallet `wallet` ([`crate::outflows::payout_batch::sign`], rate-limited per wallet)
/// and answers the batch; 409 `sign_in_progress` while another request is signing it.
async fn sign_batch(ctx: &ApiContext, wallet: Address, id: i64) -> Result<BatchView, ApiError> {
    let kind = ledger::authorisations::OutflowKind::PayoutBatch;
    crate::http::rate_limit::outflow_signing(ctx, kind, wallet).await?;
    crate::outflows::payout_batch::sign(&ctx.outflows(), wallet, id).await?;
    let view = load_batch(ctx, id).await?;
    if view.signature.is_none() {
        return Err(ApiError::Conflict {
            code: "sign_in_progress",
            message: format!("batch {id} is being signed by another request; try again"),
        });
    }
    Ok(view)
}
