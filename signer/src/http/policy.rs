//! `GET /v1/policy`: the limits of one asset and what its rolling window has used, for a payout builder that must
//! only build batches this signer will sign. Authenticated like the sign routes (the MAC covers the query).

use axum::{Json, extract::RawQuery, extract::State};
use serde::Deserialize;

use super::{ApiError, AppState, AuthenticatedRequest, unix_now};
use crate::{
    api::AssetPolicy,
    intent::{Addr, Target},
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyQuery {
    chain_id: u64,
    contract: Addr,
    token: Addr,
}

pub(super) async fn policy(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    request: AuthenticatedRequest,
) -> Result<Json<AssetPolicy>, ApiError> {
    // Parsed only after the caller is authenticated: an unknown caller learns nothing from the query's fate.
    let q: PolicyQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::InvalidIntent(format!("query must be chain_id, contract and token: {e}")))?;
    let target = Target { chain_id: q.chain_id, contract: q.contract.0 };
    let answer = state.service.asset_policy(&request.caller, target, q.token.0, unix_now()).await;
    if let Err(e) = &answer {
        state.metrics.record("policy", e.code());
    }
    Ok(Json(answer?))
}
