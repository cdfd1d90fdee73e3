//! Serving HTTP/1 the way every service with an API does (the backend and the signer): at most
//! `max_connections` at once (further clients wait in the listen backlog), a connection that has not sent a
//! whole request head within `header_read_timeout` is closed, and on shutdown the server stops accepting and
//! lets requests in flight finish (for at most `shutdown_grace`). Whole-request and body timeouts belong to the
//! application's own middleware (they answer 408), since only it knows its routes.

use std::{convert::Infallible, future::Future, net::SocketAddr, sync::Arc, time::Duration};

use hyper::{Request, Response, body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use serde::Deserialize;
use tokio::sync::Semaphore;

/// Limits that keep slow or many clients from holding the server.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerLimits {
    /// Seconds a connection may take to send a request head (also the idle time between keep-alive requests).
    pub header_read_timeout_secs: u64,
    /// Seconds a request may take from its head to the end of its answer, body included (the application's
    /// middleware enforces it with a 408).
    pub request_timeout_secs: u64,
    /// Connections served at once.
    pub max_connections: usize,
    /// Seconds requests in flight get to finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self { header_read_timeout_secs: 10, request_timeout_secs: 30, max_connections: 1024, shutdown_grace_secs: 30 }
    }
}

impl ServerLimits {
    /// [`request_timeout_secs`](Self::request_timeout_secs) as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }
}

/// Serves `listener` with the service `per_connection` makes for each client address, until `shutdown`.
pub async fn serve<M, S, B>(
    listener: tokio::net::TcpListener,
    limits: ServerLimits,
    per_connection: M,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    M: Fn(SocketAddr) -> S,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let header_timeout = Duration::from_secs(limits.header_read_timeout_secs.max(1));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers go out as soon as they are written: a small response must not wait for the client's ACK.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, %peer, "TCP_NODELAY not set");
        }
        let service = TowerToHyperService::new(per_connection(peer));
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    let grace = Duration::from_secs(limits.shutdown_grace_secs);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            grace_secs = limits.shutdown_grace_secs,
            "requests still running at the end of the grace period"
        );
    }
    Ok(())
}
