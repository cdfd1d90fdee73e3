//! `POST /v1/sign/*`: authenticate, parse the typed intent, hand it to the signing service.

use std::time::Instant;

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, Request, State},
    http::header,
};
use serde::de::DeserializeOwned;

use super::{ApiError, AppState, MAX_BODY_BYTES, error::clip, unix_now};

/// The answer as the service writes it: the payload as it was serialised once.
type SignResponse = api::SignResponse<Box<serde_json::value::RawValue>>;
use crate::{
    api,
    auth::{AuthFailure, Authenticated, Credentials, PATH_MAX_LEN},
    intent::{
        Addr, Amount, Intent, Kind, LiabilityRootIntent, Malformed, PayoutBatchIntent, RegisterIntent, RetopupIntent,
        SaleIntent, TreasuryTransferIntent,
    },
    policy::Policy,
    signing::SignError,
};

/// A request whose caller proved it knows its secret, with the exact body bytes the MAC covered.
#[derive(Debug)]
pub struct AuthenticatedRequest {
    /// Who sent it: its caller id, MAC and permissions.
    pub caller: Authenticated,
    /// The body, byte for byte as the MAC covered it.
    pub body: Bytes,
}

impl FromRequest<AppState> for AuthenticatedRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
        let refused = |caller: &str, failure: AuthFailure| {
            tracing::warn!(
                target: "signer::audit",
                caller,
                path = clip(path, PATH_MAX_LEN),
                decision = "refused",
                rule = failure.code(),
                "unauthenticated request"
            );
            state.metrics.record("any", failure.code());
            ApiError::Unauthorized(failure)
        };
        // The headers are authenticated before any byte of the body is read: a stranger makes the signer read none.
        let credentials = Credentials::from_headers(&parts.headers);
        let claimed = credentials.as_ref().map_or("-", |c| c.caller);
        let head = state
            .auth
            .verify_head(credentials, parts.method.as_str(), path, unix_now())
            .map_err(|failure| refused(claimed, failure))?;
        let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let body = match declared {
            Some(length) if length > MAX_BODY_BYTES as u64 => Err(ApiError::BodyUnreadable),
            _ => axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| ApiError::BodyUnreadable),
        };
        let body = body.inspect_err(|e| {
            tracing::warn!(
                target: "signer::audit",
                caller = head.caller(), path = clip(path, PATH_MAX_LEN), decision = "refused", rule = e.code(),
                "request body unreadable"
            );
            state.metrics.record("any", e.code());
        })?;
        let caller_id = head.caller().to_owned();
        let caller = head.with_body(&body).map_err(|failure| refused(&caller_id, failure))?;
        Ok(AuthenticatedRequest { caller, body })
    }
}

pub(super) async fn register(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign_one(&state, &request, Kind::Register).await
}

pub(super) async fn retopup(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign_one(&state, &request, Kind::Retopup).await
}

pub(super) async fn payout_batch(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign_one(&state, &request, Kind::PayoutBatch).await
}

pub(super) async fn treasury_transfer(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign_one(&state, &request, Kind::TreasuryTransfer).await
}

pub(super) async fn liability_root(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign_one(&state, &request, Kind::LiabilityRoot).await
}

pub(super) async fn sale(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<SignResponse>, ApiError> {
    sign_one(&state, &request, Kind::Sale).await
}

pub(super) async fn many(
    State(state): State<AppState>,
    request: AuthenticatedRequest,
) -> Result<Json<api::ManyResponse<Box<serde_json::value::RawValue>>>, ApiError> {
    let many = serde_json::from_slice::<api::ManyRequest<&serde_json::value::RawValue>>(&request.body)
        .map_err(ApiError::from)
        .and_then(|many| match many.requests.len() {
            1..=api::MAX_MANY => Ok(many),
            n => Err(ApiError::InvalidIntent(format!(
                "requests: {n} intents; one request carries 1 to {}",
                api::MAX_MANY
            ))),
        });
    let many = match many {
        Ok(many) => many,
        Err(e) => {
            state.metrics.record("many", e.code());
            tracing::warn!(
                target: "signer::audit",
                caller = %request.caller.caller, kind = "many", decision = "refused", rule = e.code(), detail = %e,
                "malformed request"
            );
            return Err(e);
        }
    };
    state.metrics.observe_many(many.requests.len());
    let items = many.requests.iter().map(|item| (item.kind, item.intent.get().as_bytes()));
    let results = sign(&state, &request.caller, items)
        .await
        .into_iter()
        .map(|result| match result {
            Ok(response) => api::ManyResult { status: 200, response: Some(response), error: None },
            Err(e) => api::ManyResult { status: e.status().as_u16(), response: None, error: Some(e.body()) },
        })
        .collect();
    Ok(Json(api::ManyResponse { results }))
}

async fn sign_one(
    state: &AppState,
    request: &AuthenticatedRequest,
    kind: Kind,
) -> Result<Json<SignResponse>, ApiError> {
    let mut results = sign(state, &request.caller, [(kind, &request.body[..])]).await;
    results.pop().expect("one result per intent").map(Json)
}

/// Decides each (kind, body) as its route does — the caller's permission for the kind, then the body, then the
/// signing service, which takes every parsed intent at once — counting and logging each decision.
async fn sign<'b>(
    state: &AppState,
    caller: &Authenticated,
    items: impl IntoIterator<Item = (Kind, &'b [u8])>,
) -> Vec<Result<SignResponse, ApiError>> {
    let started = Instant::now();
    let mut intents = Vec::new();
    let parsed: Vec<(Kind, Result<(), ApiError>)> = items
        .into_iter()
        .map(|(kind, body)| (kind, parse(caller, kind, body).map(|intent| intents.push(intent))))
        .collect();
    let mut signed = state.service.sign_many(caller, &intents, unix_now()).await.into_iter();
    let elapsed = started.elapsed();
    let mut results = Vec::with_capacity(parsed.len());
    for (kind, parsed) in parsed {
        let result = parsed.and_then(|_| {
            let signed = signed.next().expect("one result per parsed intent")?;
            Ok((
                SignResponse {
                    kind: signed.kind,
                    chain_id: signed.target.chain_id,
                    contract: Addr(signed.target.contract),
                    signer: Addr(signed.signer),
                    nonce: Amount(signed.nonce),
                    deadline: signed.deadline,
                    digest: signed.digest,
                    signature: signed.signature.as_bytes().to_vec().into(),
                    payload: signed.payload,
                },
                signed.fresh,
            ))
        });
        state.metrics.observe_signing(elapsed);
        match &result {
            Ok((_, fresh)) => {
                state.metrics.record(kind.as_str(), if *fresh { "signed" } else { "resigned_same_payload" })
            }
            Err(e) => {
                state.metrics.record(kind.as_str(), e.code());
                if matches!(e, ApiError::MalformedJson(_) | ApiError::InvalidIntent(_)) {
                    tracing::warn!(
                        target: "signer::audit",
                        caller = %caller.caller, kind = %kind, decision = "refused", rule = e.code(), detail = %e,
                        "malformed intent"
                    );
                }
            }
        }
        results.push(result.map(|(response, _)| response));
    }
    results
}

/// The route's checks before the signing service: first, before the body is parsed, the caller's permission for
/// the kind (a caller learns nothing about kinds it may not ask for); then the body.
fn parse(caller: &Authenticated, kind: Kind, body: &[u8]) -> Result<Intent, ApiError> {
    if let Err(refusal) = Policy::permit(caller, kind) {
        tracing::warn!(
            target: "signer::audit",
            caller = %caller.caller, kind = %kind, decision = "refused", rule = refusal.rule.code(),
            detail = %refusal.detail,
            "kind not permitted for caller"
        );
        return Err(SignError::from(refusal).into());
    }
    fn intent<W: DeserializeOwned + TryInto<Intent, Error = Malformed>>(body: &[u8]) -> Result<Intent, ApiError> {
        let wire: W = serde_json::from_slice(body)?;
        Ok(wire.try_into()?)
    }
    match kind {
        Kind::Register => intent::<RegisterIntent>(body),
        Kind::Retopup => intent::<RetopupIntent>(body),
        Kind::PayoutBatch => intent::<PayoutBatchIntent>(body),
        Kind::TreasuryTransfer => intent::<TreasuryTransferIntent>(body),
        Kind::LiabilityRoot => intent::<LiabilityRootIntent>(body),
        Kind::Sale => intent::<SaleIntent>(body),
    }
}
