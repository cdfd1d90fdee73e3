//! The HTTP API (axum): the router over one module per resource, a shared [`ApiContext`] in axum state
//! ([`context`]), [`ApiError`] for every failure, and [`AuthUser`]/[`AdminUser`] extractors for auth. Resources
//! share only the modules of the shared layer (context, chains, signer calls, pages, amounts, errors, extractors,
//! rate limits, metrics), never this module: it imports them, they do not import it.

// Resources: one module per group of routes; none imports another.
pub mod admin;
pub mod auth;
pub mod authorisations;
pub mod docs;
pub mod health;
pub mod monitoring;
pub mod notifications;
pub mod payouts;
pub mod prices;
pub mod public;
pub mod register;
pub mod solvency;
pub mod staff;
pub mod statements;
pub mod treasury;
pub mod users;
pub mod web;
pub mod webhooks;

// The shared layer every resource builds on.
pub mod bounded;
pub mod calls;
pub mod context;
pub mod error;
pub mod exits;
pub mod extract;
pub mod headers;
pub mod limiter;
pub mod metrics;
pub mod page;
pub mod plans;
pub mod profile;
pub mod rate_limit;
pub mod types;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use context::ApiContext;
pub use error::ApiError;
pub use extract::{AdminUser, AuthUser, Json};

/// All routes of the API; unknown paths and methods answer JSON errors too.
pub fn router(ctx: ApiContext) -> Router {
    let (routes, mut doc) = api(ctx.clone()).split_for_parts();
    docs::complete(&mut doc);
    let metrics = ctx.settings.application.metrics_address.is_some().then(|| ctx.metrics.clone());
    let router = routes
        // Every body is bounded before it is read (the auth routes bound theirs tighter); 413 past it.
        .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT))
        .merge(web::router(&doc, &ctx.settings))
        .merge(docs::router(doc))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // Requests are counted only where something serves the counts (`[application] metrics_address`).
    let router = match metrics {
        Some(metrics) => router.layer(axum::middleware::from_fn_with_state(metrics, metrics::track)),
        None => router,
    };
    router.with_state(ctx)
}

/// Every API route the router serves, as (method in capitals, path template), read from the same routes
/// [`router`] serves (each added with its OpenAPI entry, so none can be served undocumented): the docs test
/// checks the served document and the live answers against it instead of a hand-kept list.
pub fn route_table(ctx: ApiContext) -> Vec<(String, String)> {
    let (_, doc) = api(ctx).split_for_parts();
    let paths = serde_json::to_value(&doc.paths).unwrap_or_default();
    let mut routes: Vec<(String, String)> = paths
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            let methods = item.as_object().into_iter().flat_map(|item| item.keys());
            methods
                .filter(|m| ["get", "put", "post", "delete", "patch", "head", "options", "trace"].contains(&m.as_str()))
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    routes.sort();
    routes
}

/// Largest body any API route reads: a plan version's parameters, the largest, are a few kB.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// Every resource's routes with their OpenAPI entries (the state is supplied by [`router`]).
fn api(ctx: ApiContext) -> OpenApiRouter<ApiContext> {
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(health::routes())
        .merge(auth::routes(ctx))
        .merge(public::routes())
        .merge(prices::routes())
        .merge(users::routes())
        .merge(statements::routes())
        .merge(register::routes())
        .merge(admin::routes())
        .merge(payouts::routes())
        .merge(treasury::routes())
        .merge(monitoring::routes())
        .merge(solvency::routes())
        .merge(staff::routes())
        .merge(authorisations::routes())
        .merge(plans::routes())
        .merge(notifications::routes())
        .merge(webhooks::routes())
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::bad_request("method_not_allowed", "method not allowed on this path")
}
