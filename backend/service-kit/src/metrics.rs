//! A small HTTP endpoint for metrics apart from a service's public port (API, listener, reconciler): `GET /metrics`
//! answers what `render` returns (OpenMetrics text), `GET /health` answers `ok`, anything else 404.

use std::{convert::Infallible, future::Future, sync::Arc};

use http_body_util::Full;
use hyper::{
    Method, Request, Response, StatusCode,
    body::{Bytes, Incoming},
    header::CONTENT_TYPE,
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::{TokioIo, TokioTimer};

/// The content type of the OpenMetrics text format, which `prometheus-client` writes (ending with `# EOF`).
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `listener` until the task is dropped. `render` produces the metrics text, or `None` when they cannot
/// be read now (answered 503).
pub async fn serve<F, Fut>(listener: tokio::net::TcpListener, render: F) -> std::io::Result<()>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<String>> + Send + 'static,
{
    crate::stall::start();
    let render = Arc::new(render);
    loop {
        let (stream, _) = listener.accept().await?;
        let render = render.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let render = render.clone();
                async move { Ok::<_, Infallible>(answer(&req, render.as_ref()).await) }
            });
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "metrics connection ended");
            }
        });
    }
}

async fn answer<F, Fut>(req: &Request<Incoming>, render: &F) -> Response<Full<Bytes>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<String>>,
{
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => match render().await {
            Some(text) => (StatusCode::OK, OPENMETRICS_TEXT, text),
            None => (StatusCode::SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", "metrics unavailable\n".into()),
        },
        (&Method::GET, "/health") => (StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into()),
        _ => (StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "not found\n".into()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, content_type.parse().expect("a valid header value"));
    response
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn metrics_health_and_unknown_paths() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let seen = calls.clone();
        tokio::spawn(super::serve(listener, move || {
            let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { (n == 0).then(|| "up 1\n".to_owned()) }
        }));
        let client = reqwest::Client::new();
        let first = client.get(format!("http://{addr}/metrics")).send().await.unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()["content-type"], super::OPENMETRICS_TEXT);
        assert_eq!(first.text().await.unwrap(), "up 1\n");
        assert_eq!(client.get(format!("http://{addr}/metrics")).send().await.unwrap().status(), 503);
        assert_eq!(client.get(format!("http://{addr}/health")).send().await.unwrap().status(), 200);
        assert_eq!(client.get(format!("http://{addr}/other")).send().await.unwrap().status(), 404);
    }
}
