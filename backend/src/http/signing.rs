//! Calling the signer service from a handler: the configured client, a bounded wait, and refusals mapped to
//! 503s that name the rule without leaking the signer's internals; an authorisation's staff signatures as an intent
//! carries them, and the answers for a lifecycle step or the signer refused.

use std::time::Duration;

use ledger::authorisations::{Authorisation, AuthorisationError};
use signer_client::intent::{Addr, StaffAction, StaffSignature, WalletSignature};
use signer_client::{ClientError, SignerClient};

use crate::http::context::ApiContext;
use crate::http::error::ApiError;

/// Longest wait for the signer (the treasury waits for it under an asset row lock).
const SIGNER_TIMEOUT: Duration = Duration::from_secs(10);

/// The main signer caller; 503 `signer_unavailable` when none is configured.
pub fn signer(ctx: &ApiContext) -> Result<&SignerClient, ApiError> {
    ctx.signer.as_ref().ok_or_else(|| ApiError::unavailable("signer_unavailable", "no signer is configured"))
}

/// The caller for treasury transfers (`[signer.treasury_caller]`, else the main one).
pub fn treasury_signer(ctx: &ApiContext) -> Result<&SignerClient, ApiError> {
    ctx.treasury_signer.as_ref().ok_or_else(|| ApiError::unavailable("signer_unavailable", "no signer is configured"))
}

/// A failed signer call as the API answers it: 503 `signer_refused` (with the signer's rule code) or
/// `signer_unavailable`.
pub fn signer_error(e: ClientError) -> ApiError {
    match e {
        ClientError::Refused { status, body } => {
            tracing::warn!(status, code = %body.code, message = %body.message, "signer refused an intent");
            ApiError::unavailable("signer_refused", format!("the signer refused: {}", body.code))
        }
        other => {
            tracing::error!(error = %other, "signer call failed");
            ApiError::unavailable("signer_unavailable", "the signer could not be reached")
        }
    }
}

/// `call` to the signer, bounded in time.
pub async fn signer_call<T>(call: impl Future<Output = Result<T, ClientError>>) -> Result<T, ApiError> {
    match tokio::time::timeout(SIGNER_TIMEOUT, call).await {
        Ok(answer) => answer.map_err(signer_error),
        Err(_) => Err(ApiError::unavailable("signer_unavailable", "the signer did not answer in time")),
    }
}

/// As [`signer_call`], leaving the signer's own refusal to the caller (an approvals refusal is answered in words).
pub async fn signer_call_raw<T>(
    call: impl Future<Output = Result<T, ClientError>>,
) -> Result<Result<T, ClientError>, ApiError> {
    tokio::time::timeout(SIGNER_TIMEOUT, call)
        .await
        .map_err(|_| ApiError::unavailable("signer_unavailable", "the signer did not answer in time"))
}

/// A step of the authorisation lifecycle refused, as the API answers it.
pub(crate) fn authorisation_refusal(e: AuthorisationError) -> ApiError {
    use AuthorisationError as E;
    match e {
        E::Db(e) => e.into(),
        E::Unknown(_) => ApiError::NotFound,
        E::Closed { .. } => ApiError::Conflict { code: "authorisation_closed", message: e.to_string() },
        E::NotOpen(..) => ApiError::Conflict { code: "authorisation_not_open", message: e.to_string() },
        E::Expired(..) => ApiError::Conflict { code: "authorisation_expired", message: e.to_string() },
        E::BadSignature(..) => ApiError::unprocessable("invalid_signature", e.to_string()),
        E::NotPermitted(message) => ApiError::Forbidden { code: "forbidden", message },
        E::System(..) => ApiError::Conflict { code: "system_authorisation", message: e.to_string() },
        E::PayloadDiffers(..) => ApiError::Internal(eyre::Report::new(e)),
    }
}

/// The stored staff signatures of an authorisation as the signer's intent carries them.
pub(crate) fn staff_signatures(a: &Authorisation) -> Vec<StaffSignature> {
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
pub fn approvals_refused(code: &str, message: &str) -> Option<ApiError> {
    matches!(code, "policy.approvals_missing" | "policy.approval_invalid" | "policy.nonce_space").then(|| {
        let detail = message.strip_prefix(code).and_then(|rest| rest.strip_prefix(": ")).unwrap_or(message);
        ApiError::Conflict { code: "approvals_missing", message: format!("the signer refused ({code}): {detail}") }
    })
}
