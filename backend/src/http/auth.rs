//! `/v1/auth`: wallet sign-in (nonce → signed EIP-4361 message → tokens), refresh, logout.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ErrorBody;
use super::metrics::SignInOutcome;
use super::{ApiContext, ApiError, Json, rate_limit};
use crate::auth::Role;
use crate::auth::nonce::NonceError;
use crate::auth::refresh::{self, RefreshError};
use crate::auth::siwe::{Expected, SiweError, SiweMessage, WalletChain, parse_signature};

/// Longest sign-in message accepted; ours are ~400 bytes.
const MAX_MESSAGE_LEN: usize = 2048;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes(ctx: ApiContext) -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(issue_nonce))
        .routes(routes!(signin))
        .route_layer(axum::middleware::from_fn_with_state(ctx, rate_limit::signin_per_ip))
        .routes(routes!(refresh_tokens))
        .routes(routes!(logout))
        .layer(axum::extract::DefaultBodyLimit::max(AUTH_BODY_LIMIT))
}

/// Largest body the auth routes read (a sign-in is under 1 KiB); larger ones answer 413 unread.
pub const AUTH_BODY_LIMIT: usize = 8 * 1024;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NonceRequest {
    /// 0x address (EVM) or base58 `T…` address (TRON).
    pub address: String,
    pub chain: WalletChain,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NonceResponse {
    pub nonce: String,
    /// The exact EIP-4361 text to sign (`personal_sign`; TRON: `signMessageV2`).
    pub message: String,
    pub expires_at: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SigninRequest {
    pub message: String,
    /// 65-byte signature, hex.
    pub signature: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    /// The wallet, 0x EIP-55.
    pub address: String,
    pub role: Role,
}

fn nonce_unavailable(e: NonceError) -> ApiError {
    tracing::warn!(error = ?e, "sign-in nonce store unavailable");
    ApiError::unavailable("auth_unavailable", "sign-in is temporarily unavailable; try again later")
}

/// A single-use nonce and the message to sign with it.
#[utoipa::path(post, path = "/v1/auth/nonce", tag = "auth", request_body = NonceRequest,
    responses((status = 200, body = NonceResponse), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn issue_nonce(
    State(ctx): State<ApiContext>,
    Json(req): Json<NonceRequest>,
) -> Result<Json<NonceResponse>, ApiError> {
    let address = req.chain.parse_address(req.address.trim()).ok_or_else(|| {
        ApiError::unprocessable("invalid_address", format!("not a valid {} address", req.chain.as_str()))
    })?;
    let auth = &ctx.settings.auth;
    let nonce = ctx.nonces.issue(req.chain, address, auth.nonce_ttl_secs).await.map_err(nonce_unavailable)?;
    let issued_at = Utc::now();
    let expiration_time = issued_at + chrono::Duration::seconds(i64::try_from(auth.nonce_ttl_secs).unwrap_or(3600));
    let message = SiweMessage {
        domain: auth.domain.clone(),
        chain: req.chain,
        address,
        statement: auth.statement.clone(),
        uri: auth.uri.clone(),
        chain_id: match req.chain {
            WalletChain::Evm => auth.evm_chain_id,
            WalletChain::Tron => auth.tron_chain_id,
        },
        nonce: nonce.clone(),
        issued_at,
        expiration_time,
    };
    Ok(Json(NonceResponse {
        nonce,
        message: message.to_text(),
        expires_at: expiration_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }))
}

/// Charges `wallet`'s sign-in allowance: only for sign-ins whose signature verified, so that nobody without the
/// wallet's key can use it up (the admin's address is public).
async fn limit_wallet(ctx: &ApiContext, wallet: alloy::primitives::Address) -> Result<(), ApiError> {
    let limits = &ctx.settings.rate_limits;
    ctx.rate_limiter.check("signin-wallet", &format!("{wallet:#x}"), limits.signin_per_wallet, limits.window_secs).await
}

fn siwe_refusal(e: SiweError) -> ApiError {
    let message = e.to_string();
    match e {
        SiweError::Malformed(_) => ApiError::unprocessable("invalid_message", message),
        SiweError::WrongDomain => ApiError::unauthorized("signin_wrong_domain", message),
        SiweError::WrongChain => ApiError::unauthorized("signin_wrong_chain", message),
        SiweError::Expired => ApiError::unauthorized("signin_expired", message),
        SiweError::NotYetValid => ApiError::unauthorized("signin_not_yet_valid", message),
        SiweError::BadSignature => ApiError::unauthorized("signin_bad_signature", message),
    }
}

/// Verifies the signed message, spends its nonce, and starts a session.
#[utoipa::path(post, path = "/v1/auth/signin", tag = "auth", request_body = SigninRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn signin(
    State(ctx): State<ApiContext>,
    Json(req): Json<SigninRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let answer = verify_and_start(&ctx, req).await;
    ctx.metrics.sign_in(match &answer {
        Ok(_) => SignInOutcome::Ok,
        Err(e) => match e.code() {
            "signin_bad_signature" | "invalid_signature" => SignInOutcome::BadSignature,
            "signin_nonce_invalid" | "signin_expired" => SignInOutcome::ExpiredNonce,
            "rate_limited" => SignInOutcome::RateLimited,
            _ => SignInOutcome::Refused,
        },
    });
    answer
}

async fn verify_and_start(ctx: &ApiContext, req: SigninRequest) -> Result<Json<TokenPair>, ApiError> {
    if req.message.len() > MAX_MESSAGE_LEN {
        return Err(ApiError::unprocessable("invalid_message", "sign-in message too long"));
    }
    let message = SiweMessage::parse(&req.message).map_err(siwe_refusal)?;
    let auth = &ctx.settings.auth;
    let expected = Expected {
        domain: &auth.domain,
        uri: &auth.uri,
        evm_chain_id: auth.evm_chain_id,
        tron_chain_id: auth.tron_chain_id,
    };
    message.check(&expected, Utc::now()).map_err(siwe_refusal)?;
    let signature = parse_signature(req.signature.trim())
        .map_err(|_| ApiError::unprocessable("invalid_signature", "signature must be 65 bytes of hex"))?;
    let signer = message.recover_signer(&req.message, &signature).map_err(siwe_refusal)?;
    if signer != message.address {
        return Err(siwe_refusal(SiweError::BadSignature));
    }
    limit_wallet(ctx, message.address).await?;
    // Spent last, so a refused attempt does not burn the wallet's nonce.
    if !ctx.nonces.consume(&message.nonce, message.chain, message.address).await.map_err(nonce_unavailable)? {
        return Err(ApiError::unauthorized("signin_nonce_invalid", "nonce unknown, expired or already used"));
    }
    let (refresh_token, family) = refresh::start_family(&ctx.db, message.address, auth.refresh_ttl_secs).await?;
    tracing::info!(wallet = %message.address, chain = message.chain.as_str(), "signed in");
    token_pair(ctx, message.address, refresh_token, &family).map(Json)
}

fn token_pair(
    ctx: &ApiContext,
    wallet: alloy::primitives::Address,
    refresh_token: String,
    family: &str,
) -> Result<TokenPair, ApiError> {
    let role = if ctx.admins.contains(&wallet) { Role::Admin } else { Role::User };
    let access_token = ctx.access_tokens.issue(wallet, role, Some(family)).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in: ctx.access_tokens.ttl_secs(),
        refresh_token,
        address: wallet.to_checksum(None),
        role,
    })
}

fn refresh_refusal(e: RefreshError) -> ApiError {
    let code = match e {
        RefreshError::Unknown => "invalid_refresh_token",
        RefreshError::Expired => "refresh_token_expired",
        RefreshError::Revoked => "refresh_token_revoked",
        RefreshError::Reused => "refresh_token_reused",
    };
    ApiError::unauthorized(code, e.to_string())
}

/// Exchanges a refresh token for a new pair; a reused token revokes its whole session.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody)))]
pub async fn refresh_tokens(
    State(ctx): State<ApiContext>,
    Json(req): Json<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let (wallet, next, family) = refresh::rotate(&ctx.db, &req.refresh_token, ctx.settings.auth.refresh_ttl_secs)
        .await?
        .map_err(refresh_refusal)?;
    token_pair(&ctx, wallet, next, &family).map(Json)
}

/// Ends the session of a refresh token (its whole family), and with it the session's access tokens.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(ctx): State<ApiContext>, Json(req): Json<RefreshRequest>) -> Result<StatusCode, ApiError> {
    refresh::revoke(&ctx.db, &req.refresh_token).await?.map_err(refresh_refusal)?;
    Ok(StatusCode::NO_CONTENT)
}
