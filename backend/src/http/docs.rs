//! The OpenAPI document, generated from the handlers' annotations (its interactive page, `/docs`, is part of the
//! web front: `web`).

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{ApiContext, admin, auth, error, health, monitoring, payouts, pool, public, register, treasury, users};

#[derive(OpenApi)]
#[openapi(
    info(title = "Referral platform API", description = "Wallet sign-in, users, pools, payouts and admin."),
    paths(
        health::health, auth::issue_nonce, auth::signin, auth::refresh_tokens, auth::logout,
        public::plan, public::disclosure,
        users::me, users::referrals, users::tree, users::history, register::register, register::retopup,
        admin::ping, admin::freeze, admin::unfreeze, admin::audit,
        register::confirm, users::withdraw, admin::plan_versions, admin::new_plan_version, admin::logs,
        admin::ack_alert, admin::withdrawals,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The whole document: the core paths above plus each resource module's own `Api` (so modules add routes
/// without touching this file).
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in [pool::Api::openapi(), payouts::Api::openapi(), treasury::Api::openapi(), monitoring::Api::openapi()] {
        doc.merge(part);
    }
    doc
}

/// The document is built and serialised once, at start-up.
pub fn router() -> Router<ApiContext> {
    let doc = spec();
    let json: std::sync::Arc<str> = doc.to_json().expect("the OpenAPI document serialises").into();
    Router::new().route(
        "/api-docs/openapi.json",
        get(move || {
            let json = json.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], json.to_string()) }
        }),
    )
}
