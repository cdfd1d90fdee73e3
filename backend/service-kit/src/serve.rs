//! Serving HTTP/1 the way every service with an API does (the backend and the signer): at most
//! `max_connections` at once and at most `max_connections_per_client` from one client address, a connection that
//! has not sent a whole request head within `header_read_timeout` is closed, and on shutdown the server stops
//! accepting and lets requests in flight finish (for at most `shutdown_grace`). Whole-request and body timeouts
//! belong to the application's own middleware (they answer 408), since only it knows its routes.
//!
//! When every slot is taken, a new client does not wait behind idle keep-alive sockets: the connection idle the
//! longest (no request in progress) is closed to make room, so a client that opens many sockets and sends nothing
//! cannot keep others (a load balancer's health check, the backend calling the signer) out.

use std::{
    collections::HashMap,
    convert::Infallible,
    future::Future,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use hyper::{Request, Response, body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use serde::Deserialize;
use tokio::sync::{Notify, Semaphore, watch};

use crate::stall;

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
    /// Connections served at once from one client address (a trusted proxy's connections count only towards
    /// `max_connections`: the application limits the clients behind it by their forwarded address). A client at
    /// its limit has further connections closed at once.
    pub max_connections_per_client: usize,
    /// Seconds requests in flight get to finish after a shutdown signal.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 1024,
            max_connections_per_client: 128,
            shutdown_grace_secs: 30,
        }
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
    serve_behind(listener, limits, Vec::new(), per_connection, shutdown).await
}

/// [`serve`], for a server behind the proxies `trusted_proxies`, whose connections are not capped per address.
pub async fn serve_behind<M, S, B>(
    listener: tokio::net::TcpListener,
    limits: ServerLimits,
    trusted_proxies: Vec<IpAddr>,
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
    stall::start();
    let max = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let table = Arc::new(Connections::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let header_timeout = Duration::from_secs(limits.header_read_timeout_secs.max(1));
    let per_client = limits.max_connections_per_client.max(1);
    tokio::pin!(shutdown);
    loop {
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
        let trusted = trusted_proxies.contains(&peer.ip());
        if !trusted && table.count_of(peer.ip()) >= per_client {
            tracing::debug!(%peer, per_client, "connection refused: the client holds its limit of connections");
            drop(stream);
            continue;
        }
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // Full: close the connection idle the longest, then wait for a slot (or for shutdown).
                table.evict_idlest();
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        // Answers go out as soon as they are written: a small response must not wait for the client's ACK.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, %peer, "TCP_NODELAY not set");
        }
        let entry = table.open(peer.ip());
        let service = TowerToHyperService::new(Tracked { inner: per_connection(peer), entry: entry.clone() });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let table = table.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(stall::timed_polls("connection", async move {
            tokio::pin!(connection);
            // Either signal asks the connection to finish the request in progress, if any, and close.
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = entry.evict.notified() => { connection.as_mut().graceful_shutdown(); connection.await }
                () = stopping(&mut stop) => { connection.as_mut().graceful_shutdown(); connection.await }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
            table.close(&entry);
            drop(slot);
        }));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let grace = Duration::from_secs(limits.shutdown_grace_secs);
    // Every connection holds a slot until it ends: all slots back means all connections done.
    let all_done = slots.acquire_many(u32::try_from(max).unwrap_or(u32::MAX));
    if tokio::time::timeout(grace, all_done).await.is_err() {
        tracing::warn!(
            grace_secs = limits.shutdown_grace_secs,
            "requests still running at the end of the grace period"
        );
    }
    Ok(())
}

/// Resolves when the server is shutting down.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: dropped here, not held across the connection's await.
    let _ = stop.wait_for(|stopping| *stopping).await.map(|_| ());
}

/// The open connections: how many each client address holds, and which are idle.
#[derive(Default)]
struct Connections {
    next_id: AtomicU64,
    open: Mutex<OpenConnections>,
}

#[derive(Default)]
struct OpenConnections {
    by_id: HashMap<u64, Arc<Entry>>,
    per_client: HashMap<IpAddr, usize>,
}

/// One open connection.
struct Entry {
    id: u64,
    client: IpAddr,
    /// Requests of this connection being served.
    in_flight: AtomicUsize,
    /// When the last request ended (or the connection opened), for choosing the idlest.
    idle_since: Mutex<Instant>,
    evict: Notify,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, OpenConnections> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count_of(&self, client: IpAddr) -> usize {
        self.lock().per_client.get(&client).copied().unwrap_or(0)
    }

    fn open(&self, client: IpAddr) -> Arc<Entry> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let entry = Arc::new(Entry {
            id,
            client,
            in_flight: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            evict: Notify::new(),
        });
        let mut open = self.lock();
        open.by_id.insert(id, entry.clone());
        *open.per_client.entry(client).or_default() += 1;
        entry
    }

    fn close(&self, entry: &Entry) {
        let mut open = self.lock();
        if open.by_id.remove(&entry.id).is_some()
            && let Some(n) = open.per_client.get_mut(&entry.client)
        {
            *n -= 1;
            if *n == 0 {
                open.per_client.remove(&entry.client);
            }
        }
    }

    /// Asks the connection idle the longest to close; none when every connection is serving a request.
    fn evict_idlest(&self) {
        let open = self.lock();
        let idlest = open
            .by_id
            .values()
            .filter(|e| e.in_flight.load(Ordering::Acquire) == 0)
            .min_by_key(|e| *e.idle_since.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(entry) = idlest {
            tracing::debug!(client = %entry.client, "all connection slots taken: closing the idlest connection");
            entry.evict.notify_one();
        }
    }
}

/// The connection's service, counting its requests in progress so that an idle connection can be told apart.
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    entry: Arc<Entry>,
}

impl<S, R> tower_service::Service<R> for Tracked<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let entry = self.entry.clone();
        entry.in_flight.fetch_add(1, Ordering::AcqRel);
        let response = self.inner.call(request);
        Box::pin(async move {
            let _done = RequestDone(entry);
            response.await
        })
    }
}

/// Marks the end of a request (also when its future is dropped).
struct RequestDone(Arc<Entry>);

impl Drop for RequestDone {
    fn drop(&mut self) {
        *self.0.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::{convert::Infallible, time::Duration};

    use http_body_util::Full;
    use hyper::{Response, body::Bytes};
    use tokio::{io::AsyncReadExt, io::AsyncWriteExt, net::TcpStream};

    use super::{ServerLimits, serve};

    async fn start(limits: ServerLimits) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = tower_service_fn();
        tokio::spawn(serve(listener, limits, move |_| service.clone(), std::future::pending()));
        addr
    }

    #[derive(Clone)]
    struct Ok200;

    impl tower_service::Service<hyper::Request<hyper::body::Incoming>> for Ok200 {
        type Response = Response<Full<Bytes>>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;
        fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: hyper::Request<hyper::body::Incoming>) -> Self::Future {
            std::future::ready(Ok(Response::new(Full::new(Bytes::from_static(b"ok")))))
        }
    }

    fn tower_service_fn() -> Ok200 {
        Ok200
    }

    /// One GET on a new connection; the status line, or `None` when the server closed the connection unanswered.
    async fn get(addr: std::net::SocketAddr) -> Option<String> {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.ok()?;
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.ok()?.ok()?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        text.lines().next().filter(|l| !l.is_empty()).map(str::to_owned)
    }

    #[tokio::test]
    async fn idle_sockets_filling_every_slot_do_not_keep_a_new_client_out() {
        let limits = ServerLimits { max_connections: 8, max_connections_per_client: 1000, ..ServerLimits::default() };
        let addr = start(limits).await;
        // Eight sockets that connect and send nothing hold every slot.
        let mut idle = Vec::new();
        for _ in 0..8 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        let answer = get(addr).await;
        assert_eq!(answer.as_deref(), Some("HTTP/1.1 200 OK"));
        // Well within the 10 s header timeout that used to be the only way a slot came back (with room for a busy
        // machine: the answer itself takes milliseconds).
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_client_past_its_connection_limit_is_refused_while_others_are_served() {
        let limits = ServerLimits { max_connections: 64, max_connections_per_client: 4, ..ServerLimits::default() };
        let addr = start(limits).await;
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The fifth connection from the same address is closed unanswered.
        assert_eq!(get(addr).await, None);
        drop(held);
        // Once the client's sockets are gone it is served again (poll with a deadline: the server sees the close).
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            if get(addr).await.as_deref() == Some("HTTP/1.1 200 OK") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "never served again");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
