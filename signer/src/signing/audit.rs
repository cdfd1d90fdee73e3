//! The audit log of every decision (`signer::audit` target): who asked for what, and what was decided.

use super::{SignError, Signed};
use crate::approvals::SignedOff;
use crate::{auth::Authenticated, intent::Intent};

pub(super) fn audit(caller: &Authenticated, intent: &Intent, result: &Result<Signed, SignError>) {
    let (kind, target, token, amount) = (intent.kind(), intent.target, intent.action.token(), intent.action.total());
    match result {
        Ok(s) => tracing::info!(
            target: "signer::audit",
            caller = %caller.caller,
            kind = %kind,
            chain_id = target.chain_id,
            contract = %target.contract,
            token = %token,
            amount = %amount,
            nonce = %s.nonce,
            deadline = s.deadline,
            digest = %s.digest,
            decision = if s.fresh { "signed" } else { "resigned_same_payload" },
            "signature issued"
        ),
        Err(e) => {
            let detail = e.to_string();
            if matches!(
                e,
                SignError::Store(_) | SignError::Key(_) | SignError::KeyNotHeld { .. } | SignError::NodeUnavailable(_)
            ) {
                tracing::error!(
                    target: "signer::audit",
                    caller = %caller.caller, kind = %kind, chain_id = target.chain_id, contract = %target.contract,
                    token = %token, amount = %amount, nonce = ?intent.nonce, deadline = ?intent.deadline,
                    decision = "error", rule = e.code(), %detail,
                    "signing failed"
                );
            } else {
                tracing::warn!(
                    target: "signer::audit",
                    caller = %caller.caller, kind = %kind, chain_id = target.chain_id, contract = %target.contract,
                    token = %token, amount = %amount, nonce = ?intent.nonce, deadline = ?intent.deadline,
                    decision = "refused", rule = e.code(), %detail,
                    "signature refused"
                );
            }
        }
    }
}

/// The staff who signed off an outflow, as the signer verified them; the outflow's own decision follows.
pub(super) fn audit_approvals(caller: &Authenticated, intent: &Intent, off: &SignedOff) {
    let approvers: Vec<String> = off.approvers.iter().map(ToString::to_string).collect();
    tracing::info!(
        target: "signer::audit",
        caller = %caller.caller,
        kind = %intent.kind(),
        chain_id = intent.target.chain_id,
        contract = %intent.target.contract,
        nonce = ?intent.nonce,
        proposer = %off.proposer,
        approvers = %approvers.join(","),
        "outflow signed off by staff"
    );
}

/// Logs a forfeit a liability root carries whose staff signatures checked: who proposed and approved it.
pub(super) fn audit_forfeit(
    caller: &Authenticated,
    intent: &Intent,
    id: u64,
    amount: alloy::primitives::U256,
    off: &SignedOff,
) {
    let approvers: Vec<String> = off.approvers.iter().map(ToString::to_string).collect();
    tracing::info!(
        target: "signer::audit",
        caller = %caller.caller,
        kind = %intent.kind(),
        chain_id = intent.target.chain_id,
        contract = %intent.target.contract,
        forfeit = id,
        amount = %amount,
        proposer = %off.proposer,
        approvers = %approvers.join(","),
        "forfeit signed off by staff"
    );
}
