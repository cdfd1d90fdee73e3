//! `/v1/auth`: wallet sign-in (nonce → signed EIP-4361 message → tokens), refresh, logout.
//!
//! Two ways to hold the refresh token. API clients get it in the JSON answer and send it back in the body.
//! Browsers ask at sign-in for a cookie session (`refresh_token_in: "cookie"`): the refresh token then travels
//! only in an `HttpOnly; Secure; SameSite=Strict` cookie scoped to `/v1/auth/` (refresh and logout read it; nonce
//! and sign-in ignore it), never in a body script can read; refresh and logout take it from the cookie when the
//! body names no token. Every answer here says `Cache-Control: no-store`: tokens are never kept by a cache.
//!
//! Cross-site request forgery against the cookie: a request the API acts on with the cookie (a) carries it only
//! when sent from this site (SameSite=Strict: no cross-site navigation, form or fetch gets it) and only to
//! `/v1/auth/*`; (b) must be `Content-Type: application/json`, which a cross-site form cannot send and a
//! cross-site fetch can send only after a CORS preflight this API never grants (it has no CORS layer); (c) must
//! carry an `Origin` equal to the configured site (`[auth] uri`), which browsers set on every POST and pages
//! cannot forge. (c) is checked before anything is read or rotated, (b) by the JSON extractor before the handler
//! runs; each alone stops a forged request, so one browser bug does not open the session.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Deserializer, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::bounded;
use super::error::{ErrorBody, ErrorDetail};
use super::rate_limit;
use crate::auth::nonce::NonceError;
use crate::auth::refresh::{self, RefreshError};
use crate::auth::siwe::{Expected, SiweError, SiweMessage, WalletChain, parse_signature};
use crate::auth::{Role, StaffRoles};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::Json;
use crate::metrics::SignInOutcome;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes(ctx: ApiContext) -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(issue_nonce))
        .routes(routes!(signin))
        .route_layer(axum::middleware::from_fn_with_state(ctx, rate_limit::signin_per_ip))
        .routes(routes!(refresh_tokens))
        .routes(routes!(logout))
        .layer(axum::extract::DefaultBodyLimit::max(AUTH_BODY_LIMIT))
        .layer(axum::middleware::map_response(no_store))
}

/// Every answer of the auth routes (tokens, nonces, refusals) is kept by no cache, shared or private.
async fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The cookie that holds a browser session's refresh token.
pub const REFRESH_COOKIE: &str = "referral_refresh";
/// Where the browser sends it: the auth routes only. Refresh and logout read it (one cookie, so the two can never
/// disagree about which token is current); nonce and sign-in never look at it; no other route receives it.
pub const REFRESH_COOKIE_PATH: &str = "/v1/auth/";

/// Largest body the auth routes read (a sign-in is under 1 KiB); larger ones answer 413 unread.
pub const AUTH_BODY_LIMIT: usize = 8 * 1024;

/// Asks for a sign-in nonce for a wallet.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NonceRequest {
    /// 0x address (EVM) or base58 `T…` address (TRON).
    #[serde(deserialize_with = "bounded::address")]
    pub address: String,
    /// The wallet's family: `evm` or `tron`; `address` must be in its form.
    pub chain: WalletChain,
}

/// A single-use nonce and the message to sign with it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NonceResponse {
    /// The single-use nonce the message carries.
    pub nonce: String,
    /// The exact EIP-4361 text to sign (`personal_sign`; TRON: `signMessageV2`).
    pub message: String,
    /// When the nonce and its message expire, RFC 3339 UTC (to the second).
    pub expires_at: String,
}

/// A signed sign-in message.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SigninRequest {
    /// The message text from `POST /v1/auth/nonce`, exactly as signed.
    #[serde(deserialize_with = "bounded::signin_message")]
    pub message: String,
    /// 65-byte signature, hex.
    #[serde(deserialize_with = "bounded::signature")]
    pub signature: String,
    /// Where the session's refresh token goes: `body` (default, API clients) in the answer; `cookie` (browsers)
    /// only in an `HttpOnly; Secure; SameSite=Strict` cookie on `/v1/auth/`, left out of the answer — then the
    /// request's `Origin` must be the configured site.
    #[serde(default)]
    pub refresh_token_in: RefreshTokenIn,
}

/// Where a session's refresh token is handed out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RefreshTokenIn {
    /// In the JSON answer (`refresh_token`).
    #[default]
    Body,
    /// Only in the `HttpOnly` session cookie (browsers).
    Cookie,
}

/// The refresh token to act on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    /// The refresh token. Left out (`{}`) by a cookie session: the cookie's is used, and the request's `Origin`
    /// must be the configured site. Without it and without the cookie the body is invalid (422).
    #[serde(default, deserialize_with = "present_token")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
}

/// A token field that may be left out but, when given, is a bounded string (`null` is refused like any other
/// non-string).
fn present_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    bounded::token(d).map(Some)
}

/// An access token and the session's next refresh token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// The access token, sent as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The next refresh token; absent in a cookie session (it is in the `Set-Cookie` header only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// The wallet, 0x EIP-55.
    pub address: String,
    /// `admin` when the wallet holds any staff role (it may open the console), else `user`.
    pub role: Role,
    /// The staff roles it holds (`viewer`, `support`, `finance`, `approver`, `admin`); empty for a member. Each admin
    /// route checks its own role when called, so a role revoked since sign-in stops working at once.
    pub roles: Vec<String>,
}

fn nonce_unavailable(e: NonceError) -> ApiError {
    tracing::warn!(error = ?e, "sign-in nonce store unavailable");
    ApiError::unavailable("auth_unavailable", "sign-in is temporarily unavailable; try again later")
}

/// A single-use nonce and the message to sign with it.
#[utoipa::path(post, path = "/v1/auth/nonce", tag = "auth", request_body = NonceRequest,
    responses((status = 200, body = NonceResponse),
        (status = 403, body = ErrorBody, description = "sent by a page of another site than the one sign-in messages name"),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn issue_nonce(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    Json(req): Json<NonceRequest>,
) -> Result<Json<NonceResponse>, Refusal> {
    // A page of another site (or this one under another host name, `127.0.0.1` for `localhost`) would have the
    // wallet sign a message naming a site that is not the page's: wallets warn of exactly that. API clients send
    // no Origin and are served.
    if headers.contains_key(header::ORIGIN) {
        from_this_site(&ctx, &headers)?;
    }
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
    responses(
        (status = 200, body = TokenPair, headers(("Set-Cookie" = String, description = "`refresh_token_in: cookie` \
            only: the refresh token, `HttpOnly; Secure; SameSite=Strict; Path=/v1/auth/`"))),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "cookie session asked from another site"),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn signin(State(ctx): State<ApiContext>, headers: HeaderMap, Json(req): Json<SigninRequest>) -> Response {
    let delivery = req.refresh_token_in;
    let answer = async {
        if delivery == RefreshTokenIn::Cookie {
            // Before the signature or the nonce is looked at: a forged request spends nothing.
            from_this_site(&ctx, &headers)?;
        }
        Ok::<_, Refusal>(verify_and_start(&ctx, req).await?)
    }
    .await;
    ctx.metrics.sign_in(match &answer {
        Ok(_) => SignInOutcome::Ok,
        Err(Refusal::Api(e)) => match e.code() {
            "signin_bad_signature" | "invalid_signature" => SignInOutcome::BadSignature,
            "signin_nonce_invalid" | "signin_expired" => SignInOutcome::ExpiredNonce,
            "rate_limited" => SignInOutcome::RateLimited,
            _ => SignInOutcome::Refused,
        },
        Err(Refusal::ForeignOrigin { .. }) => SignInOutcome::Refused,
    });
    match answer {
        Ok(pair) => deliver(&ctx, pair, delivery),
        Err(e) => e.into_response(),
    }
}

async fn verify_and_start(ctx: &ApiContext, req: SigninRequest) -> Result<TokenPair, ApiError> {
    if !abi::limits::within(&req.message, abi::limits::SIGNIN_MESSAGE_MAX_LEN) {
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
    // An ECDSA recovery is ~0.1 ms: a burst of sign-ins must not hold the async workers, so it runs on a
    // blocking thread.
    let (message, signer) = tokio::task::spawn_blocking(move || {
        let signer = message.recover_signer(&req.message, &signature);
        (message, signer)
    })
    .await
    .map_err(|e| ApiError::Internal(eyre::eyre!("signature recovery did not finish: {e}")))?;
    let signer = signer.map_err(siwe_refusal)?;
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
    token_pair(ctx, message.address, refresh_token, &family).await
}

async fn token_pair(
    ctx: &ApiContext,
    wallet: alloy::primitives::Address,
    refresh_token: String,
    family: &str,
) -> Result<TokenPair, ApiError> {
    let roles: StaffRoles = ledger::staff::roles_of(&ctx.db, wallet).await?.into_iter().collect();
    let role = if roles.is_staff() { Role::Admin } else { Role::User };
    let access_token = ctx.access_tokens.issue(wallet, role, Some(family)).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in: ctx.access_tokens.ttl_secs(),
        refresh_token: Some(refresh_token),
        address: wallet.to_checksum(None),
        role,
        roles: roles.names(),
    })
}

/// The pair as JSON; in a cookie session the refresh token moves from the body into the cookie.
fn deliver(ctx: &ApiContext, mut pair: TokenPair, delivery: RefreshTokenIn) -> Response {
    let cookie = match delivery {
        RefreshTokenIn::Body => None,
        RefreshTokenIn::Cookie => pair.refresh_token.take(),
    };
    let mut response = Json(pair).into_response();
    if let Some(token) = cookie {
        let max_age = ctx.settings.auth.refresh_ttl_secs;
        set_cookie(&mut response, &format!("{REFRESH_COOKIE}={token}; Max-Age={max_age}"));
    }
    response
}

/// `Set-Cookie` of the refresh cookie with its fixed attributes after `value` (`name=…; Max-Age=…`).
fn set_cookie(response: &mut Response, value: &str) {
    let cookie = format!("{value}; Path={REFRESH_COOKIE_PATH}; HttpOnly; Secure; SameSite=Strict");
    let value = HeaderValue::from_str(&cookie).expect("tokens are hex: a valid header value");
    response.headers_mut().append(header::SET_COOKIE, value);
}

/// Removes the refresh cookie from the browser (logout).
fn clear_cookie(response: &mut Response) {
    set_cookie(response, &format!("{REFRESH_COOKIE}=; Max-Age=0"));
}

/// The value of cookie `name` in the request (the first, if the browser sent several).
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name && !v.is_empty()).then_some(v))
}

/// `scheme://host[:port]` of a URL or an `Origin` header, lower case, without a default port.
fn origin_of(url: &str) -> Option<String> {
    let uri: axum::http::Uri = url.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let host = authority.host().to_ascii_lowercase();
    match authority.port_u16() {
        Some(port) if !matches!((scheme.as_str(), port), ("https", 443) | ("http", 80)) => {
            Some(format!("{scheme}://{host}:{port}"))
        }
        _ => Some(format!("{scheme}://{host}")),
    }
}

/// A request that acts on the session cookie (or asks for one) must come from the configured site: its
/// `Origin`, which browsers send with every POST and a page cannot set, equals `[auth] uri`'s. Missing is refused
/// too (`null`, from sandboxed frames and the like, never matches).
fn from_this_site(ctx: &ApiContext, headers: &HeaderMap) -> Result<(), Refusal> {
    let expected = origin_of(&ctx.settings.auth.uri);
    let given = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if expected.is_some() && given.and_then(origin_of) == expected {
        return Ok(());
    }
    Err(Refusal::ForeignOrigin { given: given.unwrap_or("none").chars().take(200).collect(), expected })
}

/// A refusal of the auth routes: one of the API's errors, or a cookie request from another site (403).
pub enum Refusal {
    /// One of the API's errors.
    Api(ApiError),
    /// A browser request whose `Origin` is not the configured site (`[auth] uri`): 403 `origin_refused`.
    ForeignOrigin {
        /// The request's `Origin` (its first 200 characters), or `none` when it sent none.
        given: String,
        /// The configured site's origin; `None` when `[auth] uri` is not a usable URL.
        expected: Option<String>,
    },
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(e: sqlx::Error) -> Self {
        Self::Api(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::ForeignOrigin { given, expected } => {
                let message = format!(
                    "sign-in and its session cookie work only from this site ({}); this request's Origin is {given}",
                    expected.as_deref().unwrap_or("no valid [auth] uri configured")
                );
                let body =
                    ErrorBody { error: ErrorDetail { code: "origin_refused".to_owned(), message, details: None } };
                (StatusCode::FORBIDDEN, Json(body)).into_response()
            }
        }
    }
}

/// The refresh token a refresh or logout acts on: the body's (API clients), else the cookie's, only from this
/// site (browsers).
fn presented(ctx: &ApiContext, headers: &HeaderMap, body: Option<String>) -> Result<(String, RefreshTokenIn), Refusal> {
    if let Some(token) = body {
        return Ok((token, RefreshTokenIn::Body));
    }
    let Some(token) = cookie(headers, REFRESH_COOKIE) else {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "missing field `refresh_token` (and no session cookie was sent)",
        )
        .into());
    };
    from_this_site(ctx, headers)?;
    Ok((token.to_owned(), RefreshTokenIn::Cookie))
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

/// Exchanges a refresh token (the body's, else the session cookie's) for a new pair; a reused token revokes its
/// whole session. A cookie session gets the next refresh token as the cookie again.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair, headers(("Set-Cookie" = String, description = "cookie session only: the \
            next refresh token, `HttpOnly; Secure; SameSite=Strict; Path=/v1/auth/`"))),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "session cookie sent from another site"),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refresh_tokens(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    Json(req): Json<RefreshRequest>,
) -> Result<Response, Refusal> {
    let (token, delivery) = presented(&ctx, &headers, req.refresh_token)?;
    let (wallet, next, family) =
        refresh::rotate(&ctx.db, &token, ctx.settings.auth.refresh_ttl_secs).await?.map_err(refresh_refusal)?;
    Ok(deliver(&ctx, token_pair(&ctx, wallet, next, &family).await?, delivery))
}

/// Ends the session of a refresh token (the body's, else the session cookie's, which is then removed): its whole
/// family, and with it the session's access tokens.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "session cookie sent from another site"),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn logout(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    Json(req): Json<RefreshRequest>,
) -> Result<Response, Refusal> {
    let (token, delivery) = presented(&ctx, &headers, req.refresh_token)?;
    let revoked = refresh::revoke(&ctx.db, &token).await?.map_err(refresh_refusal);
    let mut response = match revoked {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    };
    // The cookie goes either way: ended now, or unknown to the server already.
    if delivery == RefreshTokenIn::Cookie {
        clear_cookie(&mut response);
    }
    Ok(response)
}
