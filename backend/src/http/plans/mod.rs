//! The plans' API views, one module each, and their registry: the routes every plan's room serves (merged into the
//! API by [`routes`]) and what each adds to the shared public views.

pub mod auto_pool;
pub mod binary;
pub mod generation;
pub mod sales;

use utoipa_axum::router::OpenApiRouter;

use crate::http::context::ApiContext;

/// Every plan's own routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .merge(auto_pool::routes())
        .merge(generation::routes())
        .merge(binary::routes())
        .merge(sales::routes())
}
