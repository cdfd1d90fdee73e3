//! The admin's submit and retry of a signed batch: each is one call to the payout sender
//! ([`crate::payouts::sender`]), which the worker uses too; here only the answer and the errors are shaped.

use axum::extract::State;
use ledger::payouts::BatchChain;
use payout_chain::SubmitError;
use serde::Serialize;

use super::batches::conflict;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::extract::Path;
use crate::http::extract::{Json, Staff, need};
use crate::payouts::sender::{self, Driver, Outcome, Previous, Request, SendError, Sent};
use crate::payouts::worker::{count_replacements, count_underfunded};

/// What a send or retry did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SendResult {
    /// The batch sent or retried.
    pub batch_id: i64,
    /// `sent` (a transaction is on its way), `pending` (the last one is still in flight: nothing sent),
    /// `executed` (the batch already executed on-chain: nothing sent), `rebroadcast` (TRON: the kept bytes of the
    /// last transaction, in no block yet and not provably dead, were broadcast again), `replaced` (EVM: the last
    /// transaction, unmined longer than the chain's `payout_replace_after_secs`, was replaced by one with the same
    /// account nonce and higher fees; whichever is mined, the batch executes once).
    pub outcome: &'static str,
    /// True when this call sent a transaction.
    pub sent: bool,
    /// The transaction sent, still pending, or that executed the batch (0x hex).
    pub tx_hash: String,
    /// What happened to the previous transaction (retry): `dropped` or `reverted`; on TRON `expired` (provably
    /// dead: a solidified block is past its expiration and it is in no block) or `unseen` (rebroadcast); on EVM
    /// `stuck` (unmined too long: replaced) or `at_fee_ceiling` (unmined too long, and the chain's
    /// `payout_max_fee_per_gas_wei` leaves no room for a higher fee: nothing sent, it waits).
    pub previous: Option<&'static str>,
    /// Block of the execution, when executed.
    pub executed_block: Option<u64>,
}

impl SendResult {
    fn of(batch_id: i64, sent: Sent) -> Self {
        let (outcome, executed_block) = match sent.outcome {
            Outcome::Sent => ("sent", None),
            Outcome::Pending => ("pending", None),
            Outcome::Executed { block } => ("executed", Some(block)),
            Outcome::Rebroadcast => ("rebroadcast", None),
            Outcome::Replaced => ("replaced", None),
        };
        Self {
            batch_id,
            outcome,
            sent: sent.sent(),
            tx_hash: sent.tx.to_string(),
            previous: sent.previous.map(Previous::as_str),
            executed_block,
        }
    }
}

impl From<SendError> for ApiError {
    fn from(e: SendError) -> Self {
        let message = e.to_string();
        match e {
            SendError::NotFound(_) => ApiError::NotFound,
            SendError::NotSigned(_) => conflict("not_signed", message),
            SendError::AlreadySubmitted(_) => conflict("already_submitted", message),
            SendError::AlreadyExecuted(_) => conflict("already_executed", message),
            SendError::NotSubmitted(_) => conflict("not_submitted", message),
            SendError::NotSendable(..) => conflict("batch_not_sendable", message),
            SendError::NoKeptTransaction(_) => conflict("no_kept_transaction", message),
            SendError::NotYetDead { .. } => conflict("transaction_not_yet_dead", message),
            SendError::Chain(SubmitError::Refused(reason)) => {
                ApiError::unprocessable("chain_refused", crate::chains::refusal_in_words(&reason))
            }
            SendError::Chain(SubmitError::Underfunded(_)) => ApiError::unavailable("operator_underfunded", message),
            SendError::Chain(SubmitError::Provider(message)) => {
                tracing::warn!(%message, "chain call failed");
                ApiError::unavailable("chain_unavailable", "the chain's RPC could not be reached")
            }
            SendError::ChainTimeout => ApiError::unavailable("chain_unavailable", message),
            SendError::Db(e) => e.into(),
            SendError::Unexpected(_) | SendError::NoSignature(_) => ApiError::Internal(eyre::eyre!(message)),
        }
    }
}

/// Sends or follows up batch `id` for an admin.
async fn drive(
    ctx: &ApiContext,
    admin: &Staff<need::Finance>,
    id: i64,
    request: Request,
) -> Result<Json<SendResult>, ApiError> {
    let batch: BatchChain = ledger::payouts::batch_chain(&ctx.db, id).await?.ok_or(ApiError::NotFound)?;
    let chain = ctx.chains.chain(batch.chain_id)?;
    let submitter = chain.submitter_for(chain.batch_contract(batch.contract))?;
    let actor = admin.0.wallet.to_checksum(None);
    let found = count_replacements(ctx.metrics.clone());
    let driver = Driver { actor: &actor, found: &found };
    let sent = sender::send(&ctx.db, &*submitter, id, &batch, request, &driver).await;
    count_underfunded(&ctx.metrics, &batch, &sent);
    Ok(Json(SendResult::of(id, sent?)))
}

/// Sends a signed batch with the operator key (status `submitted`, transaction hash stored). A batch that
/// already executed on-chain is reported, not sent again. 503 when the chain has no RPC or operator key, and 503
/// `operator_underfunded` when the operator cannot pay the transaction's fees (TRON: TRX for its fee limit and the
/// bandwidth beyond the free allowance): nothing is sent, and the same call goes through after a top-up.
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/submit", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SendResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(batch = id))]
pub(super) async fn submit(
    State(ctx): State<ApiContext>,
    admin: Staff<need::Finance>,
    Path(id): Path<i64>,
) -> Result<Json<SendResult>, ApiError> {
    drive(&ctx, &admin, id, Request::Submit).await
}

/// Checks the last transaction of a submitted batch on-chain: still pending → nothing sent; executed →
/// says so, nothing sent; dropped or reverted → sends the same signed batch again (same nonce). 503
/// `operator_underfunded` as for submit: a kept TRON transaction stays and is broadcast once the operator can pay.
#[utoipa::path(post, path = "/v1/admin/payouts/batches/{id}/retry", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SendResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(batch = id))]
pub(super) async fn retry(
    State(ctx): State<ApiContext>,
    admin: Staff<need::Finance>,
    Path(id): Path<i64>,
) -> Result<Json<SendResult>, ApiError> {
    drive(&ctx, &admin, id, Request::Retry).await
}
