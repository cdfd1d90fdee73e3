//! Calling the signer service from a handler: the configured client, a bounded wait, and refusals mapped to
//! 503s that name the rule without leaking the signer's internals.

use std::time::Duration;

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
