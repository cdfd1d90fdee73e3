//! Headers of every answer, whatever answered it (a route, the web front's files, the docs, a refusal of a layer):
//! `X-Content-Type-Options: nosniff`, so that no browser runs an answer as another type than it says; and on an
//! answer to a request with credentials (an `Authorization` header, or the refresh cookie), `Cache-Control: no-store`, so that
//! no cache, shared or the browser's own, keeps what one member or the admin was shown (a solvency proof carries the
//! member's salt). The outermost layer of the app, so that nothing answers around it.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The middleware (`axum::middleware::from_fn`).
pub async fn every_answer(request: Request, next: Next) -> Response {
    let refresh_cookie = |v: &HeaderValue| {
        v.to_str()
            .is_ok_and(|c| c.split(';').any(|c| c.trim().starts_with(&format!("{}=", super::auth::REFRESH_COOKIE))))
    };
    let credentials = request.headers().contains_key(header::AUTHORIZATION)
        || request.headers().get_all(header::COOKIE).iter().any(refresh_cookie);
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if credentials {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
