//! A minimal HTTP/1 server on 127.0.0.1 for test doubles of remote peers (an RPC proxy, an alert receiver):
//! every request goes to one async handler that sees its method, path and body — read whole, or up to a
//! [`BodyLimit`] — in plaintext, or over TLS ([`LoopbackServer::start_tls`]).

use std::{convert::Infallible, future::Future, net::SocketAddr, sync::Arc};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::{Request, Response, body::Bytes, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;

/// One request as the handler sees it.
#[derive(Debug)]
pub struct Received {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The request path, without the query.
    pub path: String,
    /// The body as read; empty if it could not be read.
    pub body: Bytes,
    /// The request's headers.
    pub headers: hyper::HeaderMap,
}

/// What the handler answers: status, content type, body.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The HTTP status code (one out of range is sent as 502).
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The response body.
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer with `status`.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self { status, content_type: "application/json", body: value.to_string().into_bytes() }
    }

    /// A UTF-8 plain-text answer with `status`.
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Self { status, content_type: "text/plain; charset=utf-8", body: text.into().into_bytes() }
    }
}

/// How much of a request body a server reads: at most `max` bytes. A longer body is answered `over` as soon as
/// it passes the limit, without reading the rest or calling the handler.
#[derive(Clone, Debug)]
pub struct BodyLimit {
    /// Most body bytes read.
    pub max: usize,
    /// The answer to a longer body.
    pub over: Answer,
}

fn response(answer: Answer) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(answer.content_type));
    response
}

/// A running server; dropping it stops accepting.
pub struct LoopbackServer {
    /// The address it listens on, with the port the OS chose.
    pub addr: SocketAddr,
    /// Whether it serves TLS.
    tls: bool,
    task: tokio::task::JoinHandle<()>,
}

impl LoopbackServer {
    /// Binds a free port on 127.0.0.1 and serves every request with `handler`.
    pub async fn start<F, Fut>(handler: F) -> std::io::Result<Self>
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), handler).await
    }

    /// As [`start`](Self::start), on `addr`.
    pub async fn start_on<F, Fut>(addr: SocketAddr, handler: F) -> std::io::Result<Self>
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        Self::serve(addr, None, None, handler).await
    }

    /// As [`start_on`](Self::start_on), reading at most `limit.max` bytes of a body.
    pub async fn start_limited<F, Fut>(addr: SocketAddr, limit: BodyLimit, handler: F) -> std::io::Result<Self>
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        Self::serve(addr, Some(limit), None, handler).await
    }

    /// As [`start_limited`](Self::start_limited), over TLS with `identity` only: a client that does not complete
    /// the handshake is dropped.
    pub async fn start_tls<F, Fut>(
        addr: SocketAddr,
        limit: BodyLimit,
        identity: &crate::tls::Identity,
        handler: F,
    ) -> std::io::Result<Self>
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let config = identity.server_config().map_err(std::io::Error::other)?;
        Self::serve(addr, Some(limit), Some(tokio_rustls::TlsAcceptor::from(config)), handler).await
    }

    async fn serve<F, Fut>(
        addr: SocketAddr,
        limit: Option<BodyLimit>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        handler: F,
    ) -> std::io::Result<Self>
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let handler = Arc::new(handler);
        let limit = Arc::new(limit);
        let secure = tls.is_some();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                let limit = limit.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let handler = handler.clone();
                        let limit = limit.clone();
                        async move {
                            let method = req.method().to_string();
                            let path = req.uri().path().to_owned();
                            let headers = req.headers().clone();
                            let body = match limit.as_ref() {
                                None => req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default(),
                                Some(limit) => match Limited::new(req.into_body(), limit.max).collect().await {
                                    Ok(body) => body.to_bytes(),
                                    Err(e) if e.is::<LengthLimitError>() => {
                                        return Ok::<_, Infallible>(response(limit.over.clone()));
                                    }
                                    Err(_) => Bytes::new(),
                                },
                            };
                            Ok(response(handler(Received { method, path, body, headers }).await))
                        }
                    });
                    match tls {
                        None => {
                            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                        }
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    }
                });
            }
        });
        Ok(Self { addr, tls: secure, task })
    }

    /// `http://127.0.0.1:PORT`, or `https://` over TLS.
    pub fn url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
