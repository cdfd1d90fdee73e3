//! The API's request metrics: every request runs through [`track`] (route template, method, status, latency, in
//! flight, rate-limit refusals) into the process's [`ApiMetrics`].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::metrics::gauge::Gauge;

use crate::metrics::{ApiMetrics, RequestLabels, RouteLabels, RouteOnly};

/// Known methods keep their name; anything else is `other` (bounded labels).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Keeps `http_requests_in_flight` right even when a request's future is dropped (client gone).
struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The middleware every request runs through (`Router::layer`, so the matched route template is known; the
/// fallback's requests have none and are counted as `unmatched`).
pub async fn track(State(metrics): State<Arc<ApiMetrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = method_label(request.method()).to_owned();
    metrics.in_flight.inc();
    let guard = InFlight(&metrics.in_flight);
    let start = Instant::now();
    let response = next.run(request).await;
    drop(guard);
    let status = response.status().as_u16();
    metrics
        .duration
        .get_or_create(&RouteLabels { route: route.clone(), method: method.clone() })
        .observe(start.elapsed().as_secs_f64());
    if status == 429 {
        metrics.rate_limited.get_or_create(&RouteOnly { route: route.clone() }).inc();
    }
    metrics.requests.get_or_create(&RequestLabels { route, method, status }).inc();
    response
}
