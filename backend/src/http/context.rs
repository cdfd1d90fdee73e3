//! What every handler can reach, in axum state: settings, the database, Redis-backed stores, token keys, the
//! chains, the signer and the metrics. Built once at start ([`crate::startup`]).

use std::sync::Arc;

use sqlx::PgPool;

use super::limiter;
use crate::auth::jwt::AccessTokens;
use crate::auth::nonce::NonceStore;
use crate::config::Settings;
use crate::outflows::OutflowContext;
use crate::refusal::Refusal;
use crate::{chains, clock, metrics};

/// What every handler can reach: settings, the database, Redis-backed stores, token keys.
#[derive(Clone, Debug)]
pub struct ApiContext {
    /// The settings the service started with.
    pub settings: Arc<Settings>,
    /// The Postgres ledger.
    pub db: PgPool,
    /// `None` when no Redis is configured; otherwise reconnects on demand (see `startup`).
    pub redis: Option<redis::aio::ConnectionManager>,
    /// Single-use sign-in nonces (Redis).
    pub nonces: NonceStore,
    /// Per-IP and per-wallet request counters (Redis).
    pub rate_limiter: limiter::RateLimiter,
    /// Issues and checks access tokens.
    pub access_tokens: AccessTokens,
    /// The signing service; `None` when no `[signer]` is configured (payload endpoints 503).
    pub signer: Option<signer_client::SignerClient>,
    /// The caller for treasury transfers: `[signer.treasury_caller]`, else the main caller.
    pub treasury_signer: Option<signer_client::SignerClient>,
    /// Every configured chain (`[[chains]]`), parsed once at start.
    pub chains: Arc<chains::ChainRegistry>,
    /// The host's clock (which tests move); deadlines follow a chain's clock, [`ApiContext::chain_now`].
    pub clock: clock::Clock,
    /// Request counters and the rest of `GET /metrics` (on `[application] metrics_address`).
    pub metrics: Arc<metrics::ApiMetrics>,
    /// The prices and network fees last read (`GET /v1/public/prices`), kept `[prices] cache_secs`.
    pub prices: Arc<Kept>,
}

impl ApiContext {
    /// What the outflows' use cases run over, from this context (clones share the pool, the chains, the clock and
    /// the metrics).
    pub fn outflows(&self) -> OutflowContext {
        OutflowContext {
            db: self.db.clone(),
            chains: self.chains.clone(),
            signer: self.signer.clone(),
            treasury_signer: self.treasury_signer.clone(),
            clock: self.clock.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// Chain `chain_id`'s time now ([`crate::chains::ChainRegistry::now`]): what deadlines are computed from and expiry
    /// judged by; the host's clock for a chain not configured here.
    pub async fn chain_now(&self, chain_id: u64) -> u64 {
        self.chains.now(chain_id, &self.clock).await
    }

    /// The main signer caller; 503 `signer_unavailable` when none is configured.
    pub fn signer_client(&self) -> Result<&signer_client::SignerClient, Refusal> {
        crate::outflows::context::configured(&self.signer)
    }
}

/// An answer kept for a while, with when it was read: what a public resource reads from the chains (the prices) and
/// hands every visitor until it is old. The resource that keeps it knows its type.
#[derive(Debug, Default)]
pub struct Kept(pub tokio::sync::Mutex<Option<(std::time::Instant, Arc<dyn std::any::Any + Send + Sync>)>>);
