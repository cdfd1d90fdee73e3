//! Sending a signed batch with the operator key, and retrying with the same signed batch (same nonce) when the
//! last transaction was dropped or reverted; a batch that executed already is reported, never sent again.

use ::ledger::payouts::{self as ledger, BatchStatus};
use alloy::primitives::{B256, Bytes};
use axum::extract::State;
use payout_chain::BatchOutcome;
use serde::Serialize;

use super::{batch_chain, conflict};
use crate::http::chains::on_chain;
use crate::http::error::ErrorBody;
use crate::http::extract::Path;
use crate::http::metrics::PayoutTxOutcome;
use crate::http::types::AssetMeta;
use crate::http::{AdminUser, ApiContext, ApiError, Json};

/// What a send or retry did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SendResult {
    pub batch_id: i64,
    /// `sent` (a transaction is on its way), `pending` (the last one is still in flight: nothing sent),
    /// `executed` (the batch already executed on-chain: nothing sent).
    pub outcome: &'static str,
    /// True when this call sent a transaction.
    pub sent: bool,
    /// The transaction sent, still pending, or that executed the batch (0x hex).
    pub tx_hash: String,
    /// What happened to the previous transaction (retry): `dropped` or `reverted`.
    pub previous: Option<&'static str>,
    /// Block of the execution, when executed.
    pub executed_block: Option<u64>,
}

fn signature_of(state: &ledger::SendState) -> Result<Bytes, ApiError> {
    state
        .signature
        .clone()
        .map(Bytes::from)
        .ok_or_else(|| ApiError::Internal(eyre::eyre!("a signed batch has no stored signature")))
}

/// Sends a signed batch with the operator key (status `submitted`, transaction hash stored). A batch that
/// already executed on-chain is reported, not sent again. 503 when the chain has no RPC or operator key.
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/submit", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SendResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(batch = id))]
pub(super) async fn submit(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<SendResult>, ApiError> {
    let (chain_id, asset_id) = batch_chain(&ctx, id).await?;
    let submitter = ctx.chains.chain(chain_id)?.submitter()?;
    let (mut tx, state) = ledger::lock_for_send(&ctx.db, id).await?.ok_or(ApiError::NotFound)?;
    match state.status {
        BatchStatus::Signed => {}
        BatchStatus::Building => return Err(conflict("not_signed", format!("batch {id} is not signed yet"))),
        BatchStatus::Submitted => {
            return Err(conflict("already_submitted", format!("batch {id} was sent already; use retry")));
        }
        BatchStatus::Executed => return Err(conflict("already_executed", format!("batch {id} executed already"))),
        other => return Err(conflict("batch_not_sendable", format!("batch {id} is {other}"))),
    }
    let payload = ledger::signed_payload(&mut tx, id).await?;
    let signature = signature_of(&state)?;
    let outcome = on_chain(submitter.submit(&payload.payout_batch(), &signature)).await?;
    let actor = admin.wallet.to_checksum(None);
    let result = match outcome {
        BatchOutcome::Pending { tx: hash } => {
            ledger::record_sent(tx, id, asset_id, &state, hash, "payout_batch_submit", &actor).await?;
            sent(id, hash, None)
        }
        BatchOutcome::Executed { tx: hash, block, .. } => {
            ledger::record_sent(tx, id, asset_id, &state, hash, "payout_batch_submit", &actor).await?;
            executed(id, hash, block, None)
        }
        other => return Err(ApiError::Internal(eyre::eyre!("submit answered {other:?}"))),
    };
    Ok(Json(result))
}

fn sent(batch_id: i64, tx: B256, previous: Option<&'static str>) -> SendResult {
    SendResult { batch_id, outcome: "sent", sent: true, tx_hash: tx.to_string(), previous, executed_block: None }
}

fn executed(batch_id: i64, tx: B256, block: u64, previous: Option<&'static str>) -> SendResult {
    SendResult {
        batch_id,
        outcome: "executed",
        sent: false,
        tx_hash: tx.to_string(),
        previous,
        executed_block: Some(block),
    }
}

/// Checks the last transaction of a submitted batch on-chain: still pending → nothing sent; executed →
/// says so, nothing sent; dropped or reverted → sends the same signed batch again (same nonce).
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/retry", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SendResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(batch = id))]
pub(super) async fn retry(
    State(ctx): State<ApiContext>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<SendResult>, ApiError> {
    let (chain_id, asset_id) = batch_chain(&ctx, id).await?;
    let submitter = ctx.chains.chain(chain_id)?.submitter()?;
    let (mut tx, state) = ledger::lock_for_send(&ctx.db, id).await?.ok_or(ApiError::NotFound)?;
    let last = match (state.status, state.tx_hash) {
        (BatchStatus::Submitted | BatchStatus::Executed, Some(hash)) => hash,
        (BatchStatus::Building, _) => return Err(conflict("not_signed", format!("batch {id} is not signed yet"))),
        (BatchStatus::Signed, _) => {
            return Err(conflict("not_submitted", format!("batch {id} was never sent; use submit")));
        }
        (other, _) => return Err(conflict("batch_not_sendable", format!("batch {id} is {other}"))),
    };
    let payload = ledger::signed_payload(&mut tx, id).await?;
    let batch = payload.payout_batch();
    let previous = match on_chain(submitter.status(&batch, last)).await? {
        BatchOutcome::Pending { tx: hash } => {
            return Ok(Json(SendResult { outcome: "pending", sent: false, ..sent(id, hash, None) }));
        }
        BatchOutcome::Executed { tx: hash, block, .. } => return Ok(Json(executed(id, hash, block, None))),
        BatchOutcome::Dropped { .. } => "dropped",
        BatchOutcome::Reverted { .. } => "reverted",
    };
    let outcome = if previous == "dropped" { PayoutTxOutcome::Dropped } else { PayoutTxOutcome::Reverted };
    ctx.metrics.payout_retry(asset_id, &AssetMeta::load(&ctx, asset_id).await?.symbol, outcome);
    let signature = signature_of(&state)?;
    let actor = admin.wallet.to_checksum(None);
    match on_chain(submitter.submit(&batch, &signature)).await? {
        BatchOutcome::Pending { tx: hash } => {
            ledger::record_sent(tx, id, asset_id, &state, hash, "payout_batch_retry", &actor).await?;
            Ok(Json(sent(id, hash, Some(previous))))
        }
        BatchOutcome::Executed { tx: hash, block, .. } => {
            ledger::record_sent(tx, id, asset_id, &state, hash, "payout_batch_retry", &actor).await?;
            Ok(Json(executed(id, hash, block, Some(previous))))
        }
        other => Err(ApiError::Internal(eyre::eyre!("submit answered {other:?}"))),
    }
}
