//! The OpenAPI document, collected from the routers of the resources (so a route cannot be missing from it),
//! served as JSON; its interactive page, `/docs`, is part of the web front (`web`).

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{ApiContext, error};

/// What the document says besides its paths (which each resource's router contributes).
#[derive(OpenApi)]
#[openapi(
    info(title = "Referral platform API", description = "Wallet sign-in, users, pools, payouts and admin."),
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

/// The document is built and serialised once, at start-up.
pub fn router(doc: utoipa::openapi::OpenApi) -> Router<ApiContext> {
    let json: std::sync::Arc<str> = doc.to_json().expect("the OpenAPI document serialises").into();
    Router::new().route(
        "/api-docs/openapi.json",
        get(move || {
            let json = json.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], json.to_string()) }
        }),
    )
}
