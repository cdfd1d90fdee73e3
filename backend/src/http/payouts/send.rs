//! Sending a signed batch with the operator key, and retrying with the same signed batch (same nonce) when the
//! last transaction was dropped or reverted; a batch that executed already is reported, never sent again.
//!
//! On a chain whose family keeps signed bytes (TRON), the transaction is signed first and kept in the ledger,
//! committed, before it is broadcast; a retry broadcasts exactly those bytes again while they may still be
//! included, and signs a new transaction only once the chain proves them dead (or they failed).

use ::ledger::payouts::{self as ledger, BatchStatus, KeptTransaction};
use abi::PayoutBatch;
use alloy::primitives::{B256, Bytes};
use axum::extract::State;
use payout_chain::{BatchOutcome, PayoutChain, Prepared, SignedTransaction, SubmitError};
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
    /// `executed` (the batch already executed on-chain: nothing sent), `rebroadcast` (TRON: the kept bytes of the
    /// last transaction, in no block yet and not provably dead, were broadcast again).
    pub outcome: &'static str,
    /// True when this call sent a transaction.
    pub sent: bool,
    /// The transaction sent, still pending, or that executed the batch (0x hex).
    pub tx_hash: String,
    /// What happened to the previous transaction (retry): `dropped` or `reverted`; on TRON `expired` (provably
    /// dead: a solidified block is past its expiration and it is in no block) or `unseen` (rebroadcast).
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
    responses((status = 200, body = SendResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
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
    let actor = admin.wallet.to_checksum(None);
    if submitter.keeps_signed_bytes() {
        let send = KeptSend { id, asset_id, state: &state, actor: &actor, action: "payout_batch_submit" };
        return send.sign_keep_broadcast(tx, &*submitter, &payload.payout_batch(), &signature, None).await.map(Json);
    }
    let outcome = on_chain(submitter.submit(&payload.payout_batch(), &signature)).await?;
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
    responses((status = 200, body = SendResult), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
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
    if submitter.keeps_signed_bytes() {
        let actor = admin.wallet.to_checksum(None);
        let send = KeptSend { id, asset_id, state: &state, actor: &actor, action: "payout_batch_retry" };
        return send.retry(&ctx, tx, &*submitter, &batch).await.map(Json);
    }
    let previous = match on_chain(submitter.status(&batch, last)).await? {
        BatchOutcome::Pending { tx: hash } | BatchOutcome::Unseen { tx: hash, .. } => {
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

/// A send on a chain that keeps signed bytes (TRON).
struct KeptSend<'a> {
    id: i64,
    asset_id: i32,
    state: &'a ledger::SendState,
    actor: &'a str,
    action: &'static str,
}

fn signed_of(kept: &KeptTransaction) -> SignedTransaction {
    SignedTransaction {
        id: kept.id,
        raw: kept.raw.clone(),
        expiration_ms: kept.expiration_ms,
        fee_limit: kept.fee_limit,
    }
}

impl KeptSend<'_> {
    /// Signs a new transaction for the batch, keeps it (committed), then broadcasts it. A broadcast that fails
    /// after the commit leaves the kept bytes for a retry to broadcast again.
    async fn sign_keep_broadcast(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Postgres>,
        chain: &dyn PayoutChain,
        batch: &PayoutBatch,
        signature: &Bytes,
        previous: Option<&'static str>,
    ) -> Result<SendResult, ApiError> {
        match on_chain(chain.prepare(batch, signature)).await? {
            Prepared::Executed(BatchOutcome::Executed { tx: hash, block, .. }) => {
                ledger::record_sent(tx, self.id, self.asset_id, self.state, hash, self.action, self.actor).await?;
                Ok(executed(self.id, hash, block, previous))
            }
            Prepared::Executed(other) => Err(ApiError::Internal(eyre::eyre!("prepare answered {other:?}"))),
            Prepared::Signed(signed) => {
                let kept = KeptTransaction {
                    id: signed.id,
                    raw: signed.raw.clone(),
                    expiration_ms: signed.expiration_ms,
                    fee_limit: signed.fee_limit,
                };
                ledger::record_kept(tx, self.id, self.asset_id, self.state, &kept, self.action, self.actor).await?;
                on_chain(chain.broadcast(&signed)).await?;
                Ok(sent(self.id, signed.id, previous))
            }
        }
    }

    /// Where the kept transaction stands: still in flight → nothing sent; unseen → its bytes again; executed →
    /// reported; provably dead or failed → a new transaction with the same signed batch.
    async fn retry(
        &self,
        ctx: &ApiContext,
        tx: sqlx::Transaction<'static, sqlx::Postgres>,
        chain: &dyn PayoutChain,
        batch: &PayoutBatch,
    ) -> Result<SendResult, ApiError> {
        let id = self.id;
        let Some(kept) = &self.state.kept else {
            return Err(conflict(
                "no_kept_transaction",
                format!("batch {id} was sent without keeping its signed transaction; it cannot be broadcast again"),
            ));
        };
        let signed = signed_of(kept);
        let previous = match on_chain(chain.signed_status(batch, &signed)).await? {
            BatchOutcome::Pending { tx: hash } => {
                return Ok(SendResult { outcome: "pending", sent: false, ..sent(id, hash, None) });
            }
            BatchOutcome::Executed { tx: hash, block, .. } => return Ok(executed(id, hash, block, None)),
            BatchOutcome::Unseen { tx: hash, expiration_ms } => {
                return match chain.broadcast(&signed).await {
                    Err(SubmitError::Refused(reason)) if reason.contains("TransactionExpirationError") => {
                        Err(conflict(
                            "transaction_not_yet_dead",
                            format!(
                                "the last transaction of batch {id} expired at {expiration_ms} (unix ms) but is not \
                             provably dead until a solidified block is past that: retry in about a minute"
                            ),
                        ))
                    }
                    other => {
                        on_chain(async { other }).await?;
                        Ok(SendResult { outcome: "rebroadcast", ..sent(id, hash, Some("unseen")) })
                    }
                };
            }
            BatchOutcome::Dropped { .. } => "expired",
            BatchOutcome::Reverted { .. } => "reverted",
        };
        let outcome = if previous == "expired" { PayoutTxOutcome::Dropped } else { PayoutTxOutcome::Reverted };
        ctx.metrics.payout_retry(self.asset_id, &AssetMeta::load(ctx, self.asset_id).await?.symbol, outcome);
        let signature = signature_of(self.state)?;
        self.sign_keep_broadcast(tx, chain, batch, &signature, Some(previous)).await
    }
}
