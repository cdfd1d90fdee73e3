//! `POST /v1/sign/*`: authenticate, parse the typed intent, hand it to the signing service.

use std::time::Instant;

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, Request, State},
};
use serde::de::DeserializeOwned;

use super::{ApiError, AppState, MAX_BODY_BYTES, unix_now};

/// The answer as the service writes it: the payload as it was serialised once.
type SignResponse = api::SignResponse<Box<serde_json::value::RawValue>>;
use crate::{
    api,
    auth::{Authenticated, CALLER_HEADER, Credentials, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER},
    intent::{
        Addr, Amount, Intent, Kind, Malformed, PayoutBatchIntent, RegisterIntent, RetopupIntent, TreasuryTransferIntent,
    },
    policy::Policy,
    signing::SignError,
};

/// A request whose caller proved it knows its secret, with the exact body bytes the MAC covered.
#[derive(Debug)]
pub struct AuthenticatedRequest {
    pub caller: Authenticated,
    pub body: Bytes,
}

impl FromRequest<AppState> for AuthenticatedRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| ApiError::BodyUnreadable)?;
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let credentials = match (
            header(CALLER_HEADER),
            header(TIMESTAMP_HEADER),
            header(REQUEST_ID_HEADER),
            header(SIGNATURE_HEADER),
        ) {
            (Some(caller), Some(timestamp), Some(request_id), Some(signature)) => {
                Some(Credentials { caller, timestamp, request_id, signature })
            }
            _ => None,
        };
        let path = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
        match state.auth.verify(credentials, parts.method.as_str(), path, &body, unix_now()) {
            Ok(caller) => Ok(AuthenticatedRequest { caller, body }),
            Err(failure) => {
                tracing::warn!(
                    target: "signer::audit",
                    caller = credentials.map(|c| c.caller).unwrap_or("-"),
                    path,
                    decision = "refused",
                    rule = failure.code(),
                    "unauthenticated request"
                );
                state.metrics.record("any", failure.code());
                Err(ApiError::Unauthorized(failure))
            }
        }
    }
}

pub(super) async fn register(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign::<RegisterIntent>(&state, request, Kind::Register).await
}

pub(super) async fn retopup(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign::<RetopupIntent>(&state, request, Kind::Retopup).await
}

pub(super) async fn payout_batch(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign::<PayoutBatchIntent>(&state, request, Kind::PayoutBatch).await
}

pub(super) async fn treasury_transfer(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign::<TreasuryTransferIntent>(&state, request, Kind::TreasuryTransfer).await
}

async fn sign<W>(state: &AppState, request: AuthenticatedRequest, kind: Kind) -> Result<Json<SignResponse>, ApiError>
where
    W: DeserializeOwned + TryInto<Intent, Error = Malformed>,
{
    let started = Instant::now();
    let result = decide::<W>(state, &request, kind).await;
    state.metrics.observe_signing(started.elapsed());
    match &result {
        Ok(response) => {
            state.metrics.record(kind.as_str(), if response.1 { "signed" } else { "resigned_same_payload" })
        }
        Err(e) => {
            state.metrics.record(kind.as_str(), e.code());
            if matches!(e, ApiError::MalformedJson(_) | ApiError::InvalidIntent(_)) {
                tracing::warn!(
                    target: "signer::audit",
                    caller = %request.caller.caller, kind = %kind, decision = "refused", rule = e.code(), detail = %e,
                    "malformed intent"
                );
            }
        }
    }
    result.map(|(response, _)| Json(response))
}

async fn decide<W>(
    state: &AppState,
    request: &AuthenticatedRequest,
    kind: Kind,
) -> Result<(SignResponse, bool), ApiError>
where
    W: DeserializeOwned + TryInto<Intent, Error = Malformed>,
{
    // First, before the body is parsed: a caller learns nothing about kinds it may not ask for.
    if let Err(refusal) = Policy::permit(&request.caller, kind) {
        tracing::warn!(
            target: "signer::audit",
            caller = %request.caller.caller, kind = %kind, decision = "refused", rule = refusal.rule.code(),
            detail = %refusal.detail,
            "kind not permitted for caller"
        );
        return Err(SignError::from(refusal).into());
    }
    let wire: W = serde_json::from_slice(&request.body)?;
    let intent: Intent = wire.try_into()?;
    let signed = state.service.sign(&request.caller, &intent, unix_now()).await?;
    let response = SignResponse {
        kind: signed.kind,
        chain_id: signed.target.chain_id,
        contract: Addr(signed.target.contract),
        signer: Addr(state.service.address()),
        nonce: Amount(signed.nonce),
        deadline: signed.deadline,
        digest: signed.digest,
        signature: signed.signature.as_bytes().to_vec().into(),
        payload: signed.payload,
    };
    Ok((response, signed.fresh))
}
