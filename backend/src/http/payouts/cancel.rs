//! Cancelling a batch that provably can no longer execute (never signed, or expired on-chain with every nonce
//! unused): its rewards are pending again for a new batch.

use ::ledger::payouts::{self as ledger, BatchStatus};
use alloy::primitives::U256;
use axum::extract::State;
use payout_chain::Liveness;
use serde::Serialize;

use super::batches::{BatchView, load_batch};
use super::batches::{batch_chain, conflict};
use crate::chains::on_chain;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::extract::Path;
use crate::http::extract::{Json, Staff, need};

/// Why the chain says a signed batch can no longer execute.
#[derive(Debug, Serialize)]
struct ExpiryProof {
    /// A block `confirmations` deep whose timestamp is past the deadline: no later block can execute it.
    block: u64,
    block_timestamp: u64,
    head: u64,
    deadline: u64,
    /// Nonces of every signing attempt of the batch, all unused on-chain.
    unused_nonces: Vec<String>,
}

/// Proves on-chain that no signature of the batch can execute any more; 409 `batch_may_still_execute` or
/// `batch_nonce_used` otherwise.
async fn prove_expired(
    ctx: &ApiContext,
    batch: &ledger::BatchChain,
    id: i64,
    state: &ledger::CancelState,
) -> Result<ExpiryProof, ApiError> {
    let chain = ctx.chains.chain(batch.chain_id)?;
    let deadline =
        state.deadline.ok_or_else(|| ApiError::Internal(eyre::eyre!("batch {id} has a nonce but no deadline")))?;
    let nonces = state.attempt_nonces(id);
    let reader = chain.reader_for(chain.batch_contract(batch.contract))?;
    match on_chain(reader.liveness(&nonces, deadline)).await? {
        Liveness::Dead(proof) => Ok(ExpiryProof {
            block: proof.block,
            block_timestamp: proof.block_timestamp,
            head: proof.head,
            deadline: proof.deadline,
            unused_nonces: proof.unused_nonces.iter().map(U256::to_string).collect(),
        }),
        Liveness::MayStillExecute => Err(conflict(
            "batch_may_still_execute",
            format!(
                "batch {id} can execute until {deadline} (unix seconds): cancel it once a block {} deep is later",
                chain.confirmations
            ),
        )),
        Liveness::NonceUsed(nonce) => Err(conflict(
            "batch_nonce_used",
            format!("nonce {nonce} of batch {id} is used on-chain: it may have executed; let the listener settle it"),
        )),
    }
}

/// Cancels a batch that can no longer execute and gives its rewards back to pending (a new batch takes
/// them, with a new nonce). Allowed for a `building` batch never sent to the signer, and for any batch with a
/// nonce (`building` after a sign attempt, `signed`, `submitted`) only when the chain proves it cannot
/// execute: its deadline is below the timestamp of a block `confirmations` deep and none of its nonces is
/// used. 409 `batch_may_still_execute` before that, `batch_nonce_used` when a nonce is spent,
/// `already_executed` / `already_cancelled`, `batch_changed` when it changed during the checks.
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/cancel", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(batch = id))]
pub(super) async fn cancel(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Finance>,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    let batch = batch_chain(&ctx, id).await?;
    let state = ledger::cancel_state(&ctx.db, id).await?.ok_or(ApiError::NotFound)?;
    let proof = match (state.status, state.nonce) {
        (BatchStatus::Executed, _) => return Err(conflict("already_executed", format!("batch {id} executed"))),
        (BatchStatus::Cancelled, _) => {
            return Err(conflict("already_cancelled", format!("batch {id} is cancelled already")));
        }
        // Never sent to the signer: no signature can exist.
        (BatchStatus::Building, None) => serde_json::json!({ "reason": "never_signed" }),
        // A sign call may have reached the signer (the nonce is fixed before): treat it as signed.
        (_, Some(_)) => {
            let proof = prove_expired(&ctx, &batch, id, &state).await?;
            serde_json::json!({ "reason": "expired", "chain": proof })
        }
        (other, None) => return Err(conflict("batch_not_cancellable", format!("batch {id} is {other}"))),
    };
    let actor = admin.wallet.to_checksum(None);
    let cancelled = ledger::cancel_batch(&ctx.db, id, &state, proof, &actor).await.map_err(|e| match e {
        ledger::PayoutError::Db(e) => ApiError::from(e),
        other => ApiError::Internal(eyre::Report::new(other)),
    })?;
    if cancelled.is_none() {
        return Err(conflict("batch_changed", format!("batch {id} changed during the checks; look at it again")));
    }
    Ok(Json(load_batch(&ctx, id).await?))
}
