//! A payout batch as an outflow: its payload fixed once (nonce, contract, deadline) in the ledger before anything
//! signs it, so a retried sign returns the stored signature and a batch never gets a second nonce; proposed for staff
//! approval with that payload; signed through the signer carrying the stored staff signatures; the signer's answer
//! checked to be for exactly that payload before it is stored.

use alloy::primitives::{Address, U256};
use ledger::authorisations::{self, Authorisation, AuthorisationError, OutflowKind, Proposal, RefusedOutflow};
use ledger::payouts::{self as batches, BatchPayload, SignStep, SignStepError};
use signer_client::api::AssetApprovals;
use signer_client::intent::{Addr, Amount as SignerAmount, PayoutBatchIntent, PayoutEntry};

use super::context::OutflowContext;
use super::outflow::{Outflow, OutflowFuture, Recipients};
use super::signer::{signer_call_raw, signer_refusal, staff_signatures};
use crate::chains::{Chain, read_view};
use crate::refusal::Refusal;

/// Gas of a payout batch's transaction besides its entries: the 21,000 of any transaction, the signature check and
/// the batch's bookkeeping (`PayoutGasBench`: 28,345 beside 100 entries at the optimizer's 200 runs; 15,636 at 1,000;
/// the whole benchmark test, 100 fresh native entries, needs 52,226 with 105,957 an entry since its own reads of the
/// Settlement's views go through the fallback, issue 69).
pub const BASE_GAS: u64 = 55_000;
/// Gas of one payout entry to a recipient never paid before, the most an entry costs: `PayoutGasBench` native, 100
/// and 500 fresh recipients, (53,006,645 − 10,624,045) / 400 = 105,957 at the optimizer's 200 runs (issue 65; the
/// whole benchmark test, bare loop included, not our entry alone; the token and TRON USDT entries cost less).
pub const ENTRY_GAS: u64 = 105_957;

fn sign_step_refusal(e: SignStepError) -> Refusal {
    match e {
        SignStepError::Payout(batches::PayoutError::Db(e)) => e.into(),
        SignStepError::UnknownBatch(_) => Refusal::NotFound,
        SignStepError::NotSignable(id, status) => {
            Refusal::conflict("batch_not_signable", format!("batch {id} is {status}"))
        }
        SignStepError::Expired(id, deadline) => Refusal::conflict(
            "signature_expired",
            format!(
                "batch {id} was prepared for signing with deadline {deadline}, now past; it keeps its nonce: \
                 cancel it (once the chain shows the deadline passed) and build a new batch"
            ),
        ),
        other => Refusal::Internal(eyre::Report::new(other)),
    }
}

fn authorisation_refusal(e: AuthorisationError) -> Refusal {
    match e {
        AuthorisationError::Db(e) => e.into(),
        e @ AuthorisationError::Closed { .. } => Refusal::conflict("authorisation_closed", e.to_string()),
        other => Refusal::Internal(eyre::Report::new(other)),
    }
}

/// Signs batch `id` through the signer for finance wallet `wallet` and records the signature (nonce, payouts hash,
/// deadline). A batch signed already is left as it is: never a second nonce for one batch. A batch with a proposed
/// authorisation carries its staff signatures (a closed one stops here); the signer's refusal of them is audited.
pub async fn sign(cx: &OutflowContext, wallet: Address, id: i64) -> Result<(), Refusal> {
    let (chain, step) = fix_payload(cx, id, |chain| chain.signature_ttl_secs).await?;
    let payload = match step {
        SignStep::Signed(..) => return Ok(()),
        SignStep::Sign(payload) => payload,
    };
    let (chain_id, client) = (payload.chain_id, cx.signer()?);
    let authorisation =
        authorisations::signatures_for(&cx.db, OutflowKind::PayoutBatch, id).await.map_err(authorisation_refusal)?;
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
        Err(e) => {
            let audited = authorisation.as_ref().map(|a| RefusedOutflow::Authorised(a.id));
            return Err(signer_refusal(cx, audited, wallet, e).await);
        }
    };
    check_signed(&signed, &payload, contract)?;
    let actor = wallet.to_checksum(None);
    let stored =
        batches::store_signature(&cx.db, &payload, &signed.signature, &signed.payload, &actor).await.map_err(|e| {
            match e {
                batches::PayoutError::Db(e) => Refusal::from(e),
                other => Refusal::Internal(eyre::Report::new(other)),
            }
        })?;
    if stored.is_none() {
        // A concurrent call recorded its signature first (same nonce, same payload).
        tracing::info!(batch = id, "batch signed by a concurrent request");
    }
    Ok(())
}

/// Batch `id` proposed for staff approval: its nonce, contract and deadline fixed now (the deadline the chain's time
/// plus `approval_window_secs`; a batch fixed already keeps its own), and its Settlement digest.
pub async fn proposal(cx: &OutflowContext, id: i64) -> Result<Proposal, Refusal> {
    let (chain, step) = fix_payload(cx, id, |chain| chain.approval_window_secs).await?;
    let payload = match step {
        SignStep::Signed(..) => {
            return Err(Refusal::conflict(
                "batch_not_signable",
                format!("batch {id} is signed already: nothing is left to approve"),
            ));
        }
        SignStep::Sign(payload) => payload,
    };
    let contract = chain.batch_contract(payload.contract);
    Ok(Proposal {
        kind: OutflowKind::PayoutBatch,
        subject: id,
        asset_id: payload.asset_id,
        chain_id: payload.chain_id,
        contract,
        token: payload.token,
        payload: abi::SettlementDomain::new(payload.chain_id, contract).digest(&payload.payout_batch()),
        total: U256::from(payload.total),
        nonce: payload.nonce,
        deadline: payload.deadline,
    })
}

/// Batch `id`'s payload with its nonce, contract and deadline (the chain's time plus `ttl`) fixed once, as signing and
/// proposing it both need: not found for no batch, `exit_open` once the members' exit is open, unavailable without a
/// signer (nothing could ever sign it, so no nonce is fixed) or when a replaced contract's custody cannot be read.
async fn fix_payload(cx: &OutflowContext, id: i64, ttl: fn(&Chain) -> u64) -> Result<(&Chain, SignStep), Refusal> {
    let batch = batches::batch_chain(&cx.db, id).await?.ok_or(Refusal::NotFound)?;
    super::context::refuse_if_exit_open(&cx.db, batch.asset_id).await?;
    let chain = cx.chains.chain(batch.chain_id)?;
    cx.signer()?;
    let choice = contract_choice(cx, chain, batch.asset_id, batch.contract).await?;
    let now = chain.now(&cx.clock).await;
    let step = batches::prepare_signing_for(&cx.db, id, now, ttl(chain), &choice).await.map_err(sign_step_refusal)?;
    Ok((chain, step))
}

/// Where a batch of `asset_id` may be signed for ([`batches::ContractChoice`]): the chain's live contract and, after
/// an upgrade, each previous contract with its available custody read from the chain now (unavailable when it cannot
/// be read: the old contract is drained first, and a guess could sign for the wrong one). No read when the batch's
/// contract is fixed already or the chain has one contract.
async fn contract_choice(
    cx: &OutflowContext,
    chain: &Chain,
    asset_id: i32,
    fixed: Option<Address>,
) -> Result<batches::ContractChoice, Refusal> {
    let mut choice = batches::ContractChoice { live: chain.settlement, wound_down: Vec::new() };
    if chain.previous.is_empty() || fixed.is_some() {
        return Ok(choice);
    }
    let token = super::context::asset(&cx.db, asset_id).await?.token;
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
) -> Result<(), Refusal> {
    let digest = abi::SettlementDomain::new(payload.chain_id, contract).digest(&payload.payout_batch());
    if !signed.is_for(payload.chain_id, contract, digest, payload.nonce, payload.deadline) {
        return Err(Refusal::Internal(eyre::eyre!(
            "signer answer does not match batch {} (digest {} vs {digest})",
            payload.id,
            signed.digest
        )));
    }
    Ok(())
}

/// A payout batch.
#[derive(Debug, Clone, Copy)]
pub struct PayoutBatch;

impl Outflow for PayoutBatch {
    fn kind(&self) -> OutflowKind {
        OutflowKind::PayoutBatch
    }

    /// The policy's payout approvals, or a higher tier's for a larger total.
    fn approvals_required(&self, a: &Authorisation, p: &AssetApprovals) -> u64 {
        p.payout_tiers.iter().filter(|t| a.total > t.above.0).map(|t| t.approvals).fold(p.payout_batch, u64::max)
    }

    fn signing_bucket(&self) -> Option<&'static str> {
        Some("payout-batch")
    }

    fn gas(&self, entries: usize) -> u64 {
        BASE_GAS.saturating_add(ENTRY_GAS.saturating_mul(entries as u64))
    }

    fn recipients<'a>(&'a self, _cx: &'a OutflowContext, _a: &'a Authorisation) -> OutflowFuture<'a, Recipients> {
        Box::pin(async { Ok(Recipients::Batch) })
    }

    fn sign<'a>(&'a self, cx: &'a OutflowContext, staff: Address, a: &'a Authorisation) -> OutflowFuture<'a, ()> {
        Box::pin(sign(cx, staff, a.subject))
    }
}
