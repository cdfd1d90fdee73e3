//! Request extractors whose rejections are [`ApiError`]s: JSON bodies and the bearer token.

use alloy::primitives::Address;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::auth::Role;
use crate::auth::siwe::WalletChain;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;

/// `axum::Json` whose rejections answer 400/415/422 with a stable code.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` whose rejections answer 400 `invalid_query`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state).await.map(|q| Self(q.0)).map_err(|r| {
            let text = r.body_text();
            match super::bounded::refusal_code(&text) {
                // A field refused for its length answers like any other bad value of that field.
                Some(code) => ApiError::unprocessable(code, text),
                None => ApiError::bad_request("invalid_query", text),
            }
        })
    }
}

/// `axum::extract::Path` whose rejections answer 400 `invalid_path`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|r| ApiError::bad_request("invalid_path", r.body_text()))
    }
}

/// A request carrying a valid access token (`Authorization: Bearer …`); 401 otherwise.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    /// The wallet the token was issued to.
    pub wallet: Address,
    /// The token's role.
    pub role: Role,
}

/// An [`AuthUser`] with the admin role; 403 for other users.
#[derive(Debug, Clone, Copy)]
pub struct AdminUser(pub AuthUser);

impl FromRequestParts<ApiContext> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing_token", "an `Authorization: Bearer` token is required"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthorized("invalid_token", "expected `Authorization: Bearer <token>`"))?;
        let verified = ctx
            .access_tokens
            .verify(token.trim())
            .ok_or_else(|| ApiError::unauthorized("invalid_token", "the access token is invalid or expired"))?;
        if let Some(family) = &verified.family
            && crate::auth::refresh::family_revoked(&ctx.db, family).await?
        {
            return Err(ApiError::unauthorized("token_revoked", "this session was ended (logout or a reused token)"));
        }
        Ok(Self { wallet: verified.wallet, role: verified.role })
    }
}

impl FromRequestParts<ApiContext> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, ctx).await?;
        if user.role != Role::Admin {
            return Err(ApiError::Forbidden);
        }
        Ok(Self(user))
    }
}

/// An address given in a path, query or body field: 0x hex (any case) or TRON base58; 422 `invalid_address`.
/// Text longer than any address form is refused before either parser sees it.
pub fn parse_address(text: &str, field: &str) -> Result<Address, ApiError> {
    if !abi::limits::within(text, abi::limits::ADDRESS_MAX_LEN) {
        return Err(ApiError::unprocessable(
            "invalid_address",
            format!("{field} is longer than any address ({} characters at most)", abi::limits::ADDRESS_MAX_LEN),
        ));
    }
    WalletChain::Evm
        .parse_address(text)
        .or_else(|| WalletChain::Tron.parse_address(text))
        .ok_or_else(|| ApiError::unprocessable("invalid_address", format!("{field} is not a 0x or TRON address")))
}
