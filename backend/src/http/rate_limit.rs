//! Fixed-window request limits in Redis (`SET NX EX` + `INCR` in one transaction), per
//! client IP and per wallet. Without Redis the limits are skipped with a warning: the API
//! stays up rather than refusing everyone.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use alloy::primitives::Address;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::http::context::ApiContext;
use crate::http::error::ApiError;
pub use crate::http::limiter::RateLimiter;

/// Counts a request that has the signer sign something for `wallet` on `route` (its own window per route): 429
/// `rate_limited` past `limit`, before the signer is asked.
pub async fn signing_per_wallet(ctx: &ApiContext, route: &str, wallet: Address, limit: u32) -> Result<(), ApiError> {
    let window = ctx.settings.rate_limits.window_secs;
    ctx.rate_limiter.check(&format!("sign-{route}-wallet"), &format!("{wallet:#x}"), limit, window).await
}

/// Middleware of the sign-in routes: limits requests per client IP before the body is read.
pub async fn signin_per_ip(State(ctx): State<ApiContext>, request: Request, next: Next) -> Result<Response, ApiError> {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let limits = &ctx.settings.rate_limits;
        let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let client = client_ip(peer.ip(), forwarded, &limits.trusted_proxies);
        ctx.rate_limiter.check("signin-ip", &client.to_string(), limits.signin_per_ip, limits.window_secs).await?;
    }
    Ok(next.run(request).await)
}

/// Requests in progress per client behind a trusted proxy. A direct client is held to
/// `max_connections_per_client` by the server (an HTTP/1 connection carries one request at a time); a proxy's
/// connections carry many clients, so behind one the same number caps each forwarded address's requests.
#[derive(Clone, Debug)]
pub struct ProxiedClients {
    in_flight: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max: usize,
    trusted: Arc<[IpAddr]>,
}

impl ProxiedClients {
    /// At most `max` requests at once (at least 1) per client forwarded by one of the `trusted` proxies.
    pub fn new(max: usize, trusted: &[IpAddr]) -> Self {
        Self { in_flight: Arc::default(), max: max.max(1), trusted: trusted.into() }
    }

    /// Takes one of the client's places, or `None` when it holds all of them.
    fn enter(&self, client: IpAddr) -> Option<InFlight> {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(client).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(InFlight { clients: self.in_flight.clone(), client })
    }
}

/// A request in progress of a proxied client; its place is given back when it is dropped.
struct InFlight {
    clients: Arc<Mutex<HashMap<IpAddr, usize>>>,
    client: IpAddr,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// Middleware of the whole API: behind a trusted proxy, at most `max_connections_per_client` requests of one
/// forwarded address at once (429 `rate_limited`, retry after a second).
pub async fn proxied_client_cap(
    State(clients): State<ProxiedClients>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return Ok(next.run(request).await);
    };
    if !clients.trusted.contains(&peer.ip()) {
        return Ok(next.run(request).await);
    }
    let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = client_ip(peer.ip(), forwarded, &clients.trusted);
    let Some(_place) = clients.enter(client) else {
        return Err(ApiError::RateLimited { retry_after_secs: 1 });
    };
    Ok(next.run(request).await)
}

/// The client a request is counted under: the TCP peer, unless the peer is a trusted proxy; then the right-most
/// address of `X-Forwarded-For` that is not itself a trusted proxy (addresses further left were written by
/// the client and prove nothing). An unreadable header counts the request under the proxy.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else { return peer };
    let mut hops = Vec::new();
    for hop in header.split(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => hops.push(ip),
            Err(_) => return peer,
        }
    }
    hops.iter().rev().find(|ip| !trusted.contains(ip)).copied().unwrap_or(peer)
}

/// The per-wallet signing rate limit of a staff wallet's sign or proposal of an outflow of `kind`
/// ([`crate::outflows::Outflow::signing_bucket`], `[rate_limits] admin_signing_per_wallet`); none for a kind without a
/// bucket.
pub async fn outflow_signing(
    ctx: &ApiContext,
    kind: ledger::authorisations::OutflowKind,
    wallet: Address,
) -> Result<(), ApiError> {
    let Some(bucket) = crate::outflows::of(kind).signing_bucket() else { return Ok(()) };
    signing_per_wallet(ctx, bucket, wallet, ctx.settings.rate_limits.admin_signing_per_wallet).await
}

#[cfg(test)]
mod tests {
    use super::client_ip;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy = "10.0.0.1".parse().unwrap();
        let peer = "192.0.2.9".parse().unwrap();
        let trusted = [proxy];
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // A direct client cannot choose its address.
        assert_eq!(client_ip(peer, Some("203.0.113.7"), &trusted), peer);
        // Behind the proxy: the right-most address the proxy appended, not what the client claimed before it.
        assert_eq!(client_ip(proxy, Some("198.51.100.1, 203.0.113.7"), &trusted), ip("203.0.113.7"));
        assert_eq!(client_ip(proxy, Some("203.0.113.7, 10.0.0.1"), &trusted), ip("203.0.113.7"));
        assert_eq!(client_ip(proxy, None, &trusted), proxy);
        assert_eq!(client_ip(proxy, Some("not-an-ip"), &trusted), proxy);
    }
}
