//! Calling the signer service for an outflow: a bounded wait, and refusals mapped to `Unavailable` refusals that
//! name the rule without leaking the signer's internals; an authorisation's staff signatures as an intent carries
//! them, and the refusals for a lifecycle step or the signer refused.

use std::time::Duration;

use alloy::primitives::Address;
use ledger::authorisations::{self, Authorisation, AuthorisationError, RefusedOutflow};
use signer_client::ClientError;
use signer_client::intent::{Addr, StaffAction, StaffSignature, WalletSignature};

use super::context::OutflowContext;
use crate::refusal::Refusal;

/// Longest wait for the signer (the treasury waits for it under an asset row lock).
const SIGNER_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed signer call as the API answers it: 503 `signer_refused` (with the signer's rule code) or
/// `signer_unavailable`.
pub fn signer_error(e: ClientError) -> Refusal {
    match e {
        ClientError::Refused { status, body } => {
            tracing::warn!(status, code = %body.code, message = %body.message, "signer refused an intent");
            Refusal::unavailable("signer_refused", format!("the signer refused: {}", body.code))
        }
        other => {
            tracing::error!(error = %other, "signer call failed");
            Refusal::unavailable("signer_unavailable", "the signer could not be reached")
        }
    }
}

/// `call` to the signer, bounded in time.
pub async fn signer_call<T>(call: impl Future<Output = Result<T, ClientError>>) -> Result<T, Refusal> {
    match tokio::time::timeout(SIGNER_TIMEOUT, call).await {
        Ok(answer) => answer.map_err(signer_error),
        Err(_) => Err(Refusal::unavailable("signer_unavailable", "the signer did not answer in time")),
    }
}

/// As [`signer_call`], leaving the signer's own refusal to the caller (an approvals refusal is answered in words).
pub async fn signer_call_raw<T>(
    call: impl Future<Output = Result<T, ClientError>>,
) -> Result<Result<T, ClientError>, Refusal> {
    tokio::time::timeout(SIGNER_TIMEOUT, call)
        .await
        .map_err(|_| Refusal::unavailable("signer_unavailable", "the signer did not answer in time"))
}

/// A step of the authorisation lifecycle refused, as the API answers it.
pub fn authorisation_refusal(e: AuthorisationError) -> Refusal {
    use AuthorisationError as E;
    match e {
        E::Db(e) => e.into(),
        E::Unknown(_) => Refusal::NotFound,
        E::Closed { .. } => Refusal::conflict("authorisation_closed", e.to_string()),
        E::NotOpen(..) => Refusal::conflict("authorisation_not_open", e.to_string()),
        E::Expired(..) => Refusal::conflict("authorisation_expired", e.to_string()),
        E::BadSignature(..) => Refusal::unprocessable("invalid_signature", e.to_string()),
        E::NotPermitted(message) => Refusal::Forbidden { code: "forbidden", message },
        E::System(..) => Refusal::conflict("system_authorisation", e.to_string()),
        E::PayloadDiffers(..) => Refusal::Internal(eyre::Report::new(e)),
    }
}

/// The stored staff signatures of an authorisation as the signer's intent carries them.
pub fn staff_signatures(a: &Authorisation) -> Vec<StaffSignature> {
    a.signatures
        .iter()
        .filter_map(|s| {
            let action = match s.action.as_str() {
                "propose" => StaffAction::Propose,
                "approve" => StaffAction::Approve,
                _ => return None,
            };
            let signature = alloy::primitives::Signature::try_from(s.signature.as_slice()).ok()?;
            Some(StaffSignature { wallet: Addr(s.wallet), action, signature: WalletSignature(signature) })
        })
        .collect()
}

/// The signer's refusal of an outflow's approvals, as the API answers it: 409 `approvals_missing` in the signer's words,
/// its rule's code said once (the signer's message starts with it; the answer's own code follows in the console).
pub fn approvals_refused(code: &str, message: &str) -> Option<Refusal> {
    matches!(code, "policy.approvals_missing" | "policy.approval_invalid" | "policy.nonce_space").then(|| {
        let detail = message.strip_prefix(code).and_then(|rest| rest.strip_prefix(": ")).unwrap_or(message);
        Refusal::Conflict { code: "approvals_missing", message: format!("the signer refused ({code}): {detail}") }
    })
}

/// The signer's refusal `e` of an outflow asked for by staff wallet `wallet`: a refusal of its approvals is
/// `approvals_missing` in the signer's words, audited against `audited` when given; any other is [`signer_error`]'s.
pub async fn signer_refusal(
    cx: &OutflowContext,
    audited: Option<RefusedOutflow>,
    wallet: Address,
    e: ClientError,
) -> Refusal {
    let ClientError::Refused { body, .. } = &e else { return signer_error(e) };
    let Some(refusal) = approvals_refused(&body.code, &body.message) else { return signer_error(e) };
    if let Some(outflow) = audited
        && let Err(e) = authorisations::record_signer_refusal(&cx.db, outflow, wallet, &body.code, &body.message).await
    {
        return authorisation_refusal(e);
    }
    refusal
}
