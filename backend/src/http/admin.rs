//! Admin routes (admin role). Only `ping` exists yet: the role check every admin route uses.

use axum::Router;
use axum::routing::get;
use serde::Serialize;

use super::{AdminUser, ApiContext, Json};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminPing {
    pub admin: String,
}

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/admin/ping", get(ping))
}

#[utoipa::path(get, path = "/v1/admin/ping", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = AdminPing), (status = 401, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody)))]
pub async fn ping(AdminUser(user): AdminUser) -> Json<AdminPing> {
    Json(AdminPing { admin: user.wallet.to_checksum(None) })
}
