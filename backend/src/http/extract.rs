//! Request extractors whose rejections are [`ApiError`]s: JSON bodies and the bearer token.

use alloy::primitives::Address;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use std::marker::PhantomData;

use ledger::staff::StaffRole;

use crate::auth::{Role, StaffRoles};
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
    /// `admin` when the wallet holds any staff role now, else `user`.
    pub role: Role,
    /// The staff roles the wallet holds now (read with the request, not from the token).
    pub roles: StaffRoles,
}

/// What a staff route needs: the roles any one of which lets a wallet through (`backend/STAFF.md` §2).
pub trait Needs: Send + Sync + 'static {
    /// Any one of these suffices.
    const ANY_OF: &'static [StaffRole];
    /// The need in words, for the 403.
    const WHAT: &'static str;
}

/// The needs of the staff routes.
pub mod need {
    use super::{Needs, StaffRole};

    /// Any staff role: every console page reads with it.
    #[derive(Debug, Clone, Copy)]
    pub struct Viewer;
    impl Needs for Viewer {
        const ANY_OF: &'static [StaffRole] = &StaffRole::ALL;
        const WHAT: &'static str = "a staff role";
    }

    /// Freezing and unfreezing members.
    #[derive(Debug, Clone, Copy)]
    pub struct Support;
    impl Needs for Support {
        const ANY_OF: &'static [StaffRole] = &[StaffRole::Support];
        const WHAT: &'static str = "the support role";
    }

    /// Proposing (building, signing, sending, cancelling) payout batches, treasury transfers and refunds.
    #[derive(Debug, Clone, Copy)]
    pub struct Finance;
    impl Needs for Finance {
        const ANY_OF: &'static [StaffRole] = &[StaffRole::Finance];
        const WHAT: &'static str = "the finance role";
    }

    /// Approving or rejecting what another proposed.
    #[derive(Debug, Clone, Copy)]
    pub struct Approver;
    impl Needs for Approver {
        const ANY_OF: &'static [StaffRole] = &[StaffRole::Approver];
        const WHAT: &'static str = "the approver role";
    }

    /// Plan versions, assets, manual placement, monitoring requests, staff roles.
    #[derive(Debug, Clone, Copy)]
    pub struct Admin;
    impl Needs for Admin {
        const ANY_OF: &'static [StaffRole] = &[StaffRole::Admin];
        const WHAT: &'static str = "the admin role";
    }

    /// The sales plan's catalogue: its products, prices and pv.
    #[derive(Debug, Clone, Copy)]
    pub struct Catalogue;
    impl Needs for Catalogue {
        const ANY_OF: &'static [StaffRole] = &[StaffRole::Catalogue];
        const WHAT: &'static str = "the catalogue role";
    }

    /// Signing off an outflow: its proposer (finance) or an approver.
    #[derive(Debug, Clone, Copy)]
    pub struct SignsOff;
    impl Needs for SignsOff {
        const ANY_OF: &'static [StaffRole] = &[StaffRole::Finance, StaffRole::Approver];
        const WHAT: &'static str = "the finance or approver role";
    }

    /// Any role but a viewer's alone: acknowledging an alert is an act, not a read.
    #[derive(Debug, Clone, Copy)]
    pub struct Acting;
    impl Needs for Acting {
        const ANY_OF: &'static [StaffRole] =
            &[StaffRole::Support, StaffRole::Finance, StaffRole::Approver, StaffRole::Admin, StaffRole::Catalogue];
        const WHAT: &'static str = "a staff role other than viewer";
    }
}

/// An [`AuthUser`] holding a role of `N` ([`need`]); 403 `forbidden` naming the role for other wallets.
#[derive(Debug, Clone, Copy)]
pub struct Staff<N>(pub AuthUser, pub PhantomData<N>);

/// A staff route any staff role may use (every console page reads with it).
pub type AdminUser = Staff<need::Viewer>;

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
        let roles: StaffRoles = ledger::staff::roles_of(&ctx.db, verified.wallet).await?.into_iter().collect();
        let role = if roles.is_staff() { Role::Admin } else { Role::User };
        Ok(Self { wallet: verified.wallet, role, roles })
    }
}

impl<N: Needs> FromRequestParts<ApiContext> for Staff<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, ctx).await?;
        if !user.roles.any_of(N::ANY_OF) {
            let held = user.roles.names();
            let held = if held.is_empty() { "none".to_owned() } else { held.join(", ") };
            let message = format!("this action needs {}; this wallet's staff roles: {held}", N::WHAT);
            return Err(ApiError::Forbidden { code: "forbidden", message });
        }
        Ok(Self(user, PhantomData))
    }
}

/// An address given in a path, query or body field ([`crate::auth::siwe::parse_address`]); 422 `invalid_address`.
pub fn parse_address(text: &str, field: &str) -> Result<Address, ApiError> {
    Ok(crate::auth::siwe::parse_address(text, field)?)
}
