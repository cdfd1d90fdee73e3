//! Signing a built batch through the signer: the nonce and deadline are fixed in the ledger first, so a retried
//! sign returns the stored signature and a batch never gets a second nonce.

use ::ledger::payouts::{self as ledger, BatchPayload, SignStep, SignStepError};
use alloy::primitives::Address;
use axum::extract::State;
use signer_client::intent::{Addr, Amount as SignerAmount, PayoutBatchIntent, PayoutEntry};

use super::batch_chain;
use super::batches::{BatchView, load_batch};
use crate::http::chains::read_view;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::extract::Path;
use crate::http::extract::{Json, Staff, need};
use crate::http::signing::{approvals_refused, signer, signer_call_raw, signer_error, staff_signatures};
use ::ledger::authorisations::{self, AuthorisationError, Proposal};
use signer_client::ClientError;

fn sign_step_error(e: SignStepError) -> ApiError {
    match e {
        SignStepError::Payout(ledger::PayoutError::Db(e)) => e.into(),
        SignStepError::UnknownBatch(_) => ApiError::NotFound,
        SignStepError::NotSignable(id, status) => {
            ApiError::Conflict { code: "batch_not_signable", message: format!("batch {id} is {status}") }
        }
        SignStepError::Expired(id, deadline) => ApiError::Conflict {
            code: "signature_expired",
            message: format!(
                "batch {id} was prepared for signing with deadline {deadline}, now past; it keeps its nonce: \
                 cancel it (once the chain shows the deadline passed) and build a new batch"
            ),
        },
        other => ApiError::Internal(eyre::Report::new(other)),
    }
}

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

/// Signs batch `id` for finance wallet `wallet` (the batch sign route's, and an approved authorisation's sign).
pub(crate) async fn sign_batch(ctx: &ApiContext, wallet: Address, id: i64) -> Result<BatchView, ApiError> {
    let limit = ctx.settings.rate_limits.admin_signing_per_wallet;
    crate::http::rate_limit::signing_per_wallet(ctx, "payout-batch", wallet, limit).await?;
    let (chain, step) = fix_payload(ctx, id, |chain| chain.signature_ttl_secs).await?;
    let payload = match step {
        SignStep::Signed(..) => return load_batch(ctx, id).await,
        SignStep::Sign(payload) => payload,
    };
    let (chain_id, client) = (payload.chain_id, signer(ctx)?);
    // An authorisation proposed for the batch: its signatures go with the intent (a closed one stops here).
    let authorisation =
        authorisations::signatures_for(&ctx.db, "payout_batch", id).await.map_err(authorisation_error)?;
    let contract = chain.batch_contract(payload.contract);
    let approvals = authorisation.as_ref().map(staff_signatures).unwrap_or_default();
    let intent = PayoutBatchIntent {
        chain_id,
        contract: Addr(contract),
        token: Addr(payload.token),
        payouts: payload
            .entries
            .iter()
            .map(|(recipient, amount)| PayoutEntry { recipient: Addr(*recipient), amount: SignerAmount::from(*amount) })
            .collect(),
        total: Some(SignerAmount::from(payload.total)),
        nonce: Some(SignerAmount(payload.nonce)),
        deadline: Some(payload.deadline),
        approvals,
    };
    let signed = match signer_call_raw(client.sign_payout_batch(&intent)).await? {
        Ok(signed) => signed,
        Err(ClientError::Refused { body, .. }) if approvals_refused(&body.code, &body.message).is_some() => {
            if let Some(a) = &authorisation {
                authorisations::record_refusal(&ctx.db, a.id, wallet, &body.code, &body.message)
                    .await
                    .map_err(authorisation_error)?;
            }
            return Err(approvals_refused(&body.code, &body.message).expect("checked"));
        }
        Err(e) => return Err(signer_error(e)),
    };
    check_signed(&signed, &payload, contract)?;
    let actor = wallet.to_checksum(None);
    let stored =
        ledger::store_signature(&ctx.db, &payload, &signed.signature, &signed.payload, &actor).await.map_err(|e| {
            match e {
                ledger::PayoutError::Db(e) => ApiError::from(e),
                other => ApiError::Internal(eyre::Report::new(other)),
            }
        })?;
    if stored.is_none() {
        // A concurrent call recorded its signature first (same nonce, same payload): answer with it.
        tracing::info!(batch = id, "batch signed by a concurrent request");
    }
    let view = load_batch(ctx, id).await?;
    if view.signature.is_none() {
        return Err(ApiError::Conflict {
            code: "sign_in_progress",
            message: format!("batch {id} is being signed by another request; try again"),
        });
    }
    Ok(view)
}

/// Batch `id`'s payload with its nonce, contract and deadline (the chain's time plus `ttl`) fixed once, as signing and
/// proposing it both need: 404 for no batch, 409 once the members' exit is open, 503 without a signer (nothing could
/// ever sign it, so no nonce is fixed) or when a replaced contract's custody cannot be read.
async fn fix_payload(
    ctx: &ApiContext,
    id: i64,
    ttl: fn(&crate::http::chains::Chain) -> u64,
) -> Result<(&crate::http::chains::Chain, SignStep), ApiError> {
    let batch = batch_chain(ctx, id).await?;
    crate::http::exits::refuse_if_open(ctx, batch.asset_id).await?;
    let chain = ctx.chains.chain(batch.chain_id)?;
    signer(ctx)?;
    let choice = contract_choice(chain, ctx, batch.asset_id, batch.contract).await?;
    let now = chain.now(&ctx.clock).await;
    let step = ledger::prepare_signing_for(&ctx.db, id, now, ttl(chain), &choice).await.map_err(sign_step_error)?;
    Ok((chain, step))
}

/// Where a batch of `asset_id` may be signed for ([`ledger::ContractChoice`]): the chain's live contract and, after an
/// upgrade, each previous contract with its available custody read from the chain now (503 when it cannot be read:
/// the old contract is drained first, and a guess could sign for the wrong one). No read when the batch's contract is
/// fixed already or the chain has one contract.
async fn contract_choice(
    chain: &crate::http::chains::Chain,
    ctx: &ApiContext,
    asset_id: i32,
    fixed: Option<Address>,
) -> Result<ledger::ContractChoice, ApiError> {
    let mut choice = ledger::ContractChoice { live: chain.settlement, wound_down: Vec::new() };
    if chain.previous.is_empty() || fixed.is_some() {
        return Ok(choice);
    }
    let token = crate::http::types::AssetMeta::load(ctx, asset_id).await?.token;
    let provider = &chain.access()?.provider;
    for contract in &chain.previous {
        let settlement = abi::Settlement::new(*contract, provider);
        let read = settlement.available(token);
        let available = read_view(chain.chain_id, *contract, "available", read.call()).await?;
        choice.wound_down.push((*contract, available));
    }
    Ok(choice)
}

/// The signer's answer must be for exactly the payload asked for.
fn check_signed(
    signed: &signer_client::api::SignResponse,
    payload: &BatchPayload,
    contract: Address,
) -> Result<(), ApiError> {
    let digest = abi::SettlementDomain::new(payload.chain_id, contract).digest(&payload.payout_batch());
    if !signed.is_for(payload.chain_id, contract, digest, payload.nonce, payload.deadline) {
        return Err(ApiError::Internal(eyre::eyre!(
            "signer answer does not match batch {} (digest {} vs {digest})",
            payload.id,
            signed.digest
        )));
    }
    Ok(())
}

fn authorisation_error(e: AuthorisationError) -> ApiError {
    match e {
        AuthorisationError::Db(e) => e.into(),
        e @ AuthorisationError::Closed { .. } => {
            ApiError::Conflict { code: "authorisation_closed", message: e.to_string() }
        }
        other => ApiError::Internal(eyre::Report::new(other)),
    }
}

/// Batch `id` proposed for staff approval: its nonce, contract and deadline fixed now (the deadline the chain's time
/// plus `approval_window_secs`; a batch fixed already keeps its own), and its Settlement digest.
pub(crate) async fn proposal(ctx: &ApiContext, id: i64) -> Result<Proposal, ApiError> {
    let (chain, step) = fix_payload(ctx, id, |chain| chain.approval_window_secs).await?;
    let payload = match step {
        SignStep::Signed(..) => {
            return Err(ApiError::Conflict {
                code: "batch_not_signable",
                message: format!("batch {id} is signed already: nothing is left to approve"),
            });
        }
        SignStep::Sign(payload) => payload,
    };
    let contract = chain.batch_contract(payload.contract);
    Ok(Proposal {
        kind: "payout_batch",
        subject: id,
        asset_id: payload.asset_id,
        chain_id: payload.chain_id,
        contract,
        token: payload.token,
        payload: abi::SettlementDomain::new(payload.chain_id, contract).digest(&payload.payout_batch()),
        total: alloy::primitives::U256::from(payload.total),
        nonce: payload.nonce,
        deadline: payload.deadline,
    })
}
