//! The OpenAPI document, collected from the routers of the resources (so a route cannot be missing from it),
//! served as JSON; its interactive page, `/docs`, is part of the web front (`web`).
//!
//! Each route's `responses(...)` lists its success and the errors particular to it (404, 409, 429, 503, a 422 of a
//! query value…); the errors every route shares are added here, once, from what the route takes ([`complete`]).

use axum::Router;
use axum::routing::get;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Object, Ref, RefOr, Type};
use utoipa::{Modify, OpenApi};

use super::error;
use crate::http::context::ApiContext;

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

/// Routes that answer whatever happens (their body reports what is down): no 500.
const NEVER_FAIL: &[&str] = &["/health"];

/// The error statuses a route answers because of what it takes or of the layers around every route, each with
/// the one error envelope ([`error::ErrorBody`]):
///
/// * every route: 408 (the request timeout), 429 (a client behind a trusted proxy with too many requests at once;
///   some routes also count each wallet's or address's requests) and 500 (an internal error; not on [`NEVER_FAIL`]);
/// * a route with path or query parameters or a body: 400 (an unparsable path, query or JSON);
/// * a route with a JSON body: 413 (too large), 415 (not `Content-Type: application/json`), 422 (a field missing,
///   of the wrong type or out of bounds);
/// * a route that takes a bearer token: 401 (missing, invalid, expired or revoked);
/// * under `/v1/admin/`: 403 (the wallet lacks the staff role the route needs; backend/STAFF.md §2).
pub fn common_errors(path: &str, operation: &Operation) -> Vec<u16> {
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let has_body = operation.request_body.is_some();
    let needs_token = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut statuses = Vec::new();
    if has_params || has_body {
        statuses.push(400);
    }
    if needs_token {
        statuses.push(401);
    }
    if path.starts_with("/v1/admin/") {
        statuses.push(403);
    }
    statuses.push(408);
    if has_body {
        statuses.extend([413, 415, 422]);
    }
    statuses.push(429);
    if !NEVER_FAIL.contains(&path) {
        statuses.push(500);
    }
    statuses
}

/// What an error status means on any route (a route's own text, when it gives one, is kept).
fn meaning(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "malformed request: an unparsable path or query parameter, or malformed JSON",
        401 => "missing, invalid, expired or revoked credentials",
        403 => "not allowed: this action needs the admin role",
        404 => "not found",
        408 => "the request (its body included) took longer than the server's limit",
        409 => "conflicts with the resource's current state, or a cap is used up for now (`Retry-After` when known)",
        413 => "request body too large",
        415 => "unsupported media type: send `Content-Type: application/json`",
        422 => "well-formed but invalid: a field missing, of the wrong type or out of bounds, or a value refused",
        429 => "too many requests: `Retry-After` says when to try again",
        500 => "an internal error (logged; no detail is shown)",
        503 => "a service this request needs (the signer, a chain's RPC, Redis) is unavailable or refused it",
        _ => return None,
    })
}

/// An error answer: the shared envelope (its description and headers are filled in by [`complete`]).
fn error_response() -> Response {
    ResponseBuilder::new().content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody")))).build()
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

/// Adds the [`common_errors`] to every operation of `doc`, and a description to every answer that has none (the
/// OpenAPI format requires one): the status's meaning for an error, its reason phrase otherwise.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for operation in operations(item) {
            for status in common_errors(path, operation) {
                operation.responses.responses.entry(status.to_string()).or_insert_with(|| error_response().into());
            }
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else { continue };
                let code = status.parse::<u16>().unwrap_or_default();
                if response.description.is_empty() {
                    response.description = match meaning(code) {
                        Some(text) if code >= 400 => text.to_owned(),
                        _ => axum::http::StatusCode::from_u16(code)
                            .ok()
                            .and_then(|s| s.canonical_reason())
                            .unwrap_or("answer")
                            .to_owned(),
                    };
                }
                if code == 429 && !response.headers.contains_key("Retry-After") {
                    response
                        .headers
                        .insert("Retry-After".into(), RefOr::T(Header::new(Object::with_type(Type::Integer))));
                }
            }
        }
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
