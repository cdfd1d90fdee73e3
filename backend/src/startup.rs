//! Building and running the API service: telemetry, connections, router, listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::jwt::AccessTokens;
use crate::auth::nonce::NonceStore;
use crate::auth::siwe::WalletChain;
use crate::chains::ChainRegistry;
use crate::config::Settings;
use crate::http::rate_limit::RateLimiter;
use crate::http::types::Clock;
use crate::http::{self, ApiContext};
use crate::payouts::worker::PayoutWorker;
use crate::solvency::worker::SolvencyWorker;

/// Installs the global `tracing` subscriber ([`service_kit::telemetry`]); later calls are no-ops, so tests may
/// call it freely.
pub fn init_telemetry() {
    service_kit::telemetry::init(service_kit::telemetry::format_from_env());
}

/// A bound, ready-to-serve API.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    clock: Clock,
    routes: Vec<(String, String)>,
    server: std::pin::Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

/// Serves the API as `settings` say until `shutdown` completes, then lets requests in flight finish (the service's
/// `main`, through [`service_kit::main`]).
pub async fn run(settings: Settings, shutdown: service_kit::Shutdown) -> eyre::Result<()> {
    let db = Application::connect(&settings).await?;
    Application::build_until(settings, db, shutdown).await?.run_until_stopped().await?;
    Ok(())
}

impl Application {
    /// Connects to Postgres (and migrates), to Redis if it answers, and binds the port; serves until Ctrl-C or
    /// SIGTERM.
    pub async fn build(settings: Settings) -> eyre::Result<Self> {
        let db = Self::connect(&settings).await?;
        Self::build_with_pool(settings, db).await
    }

    /// The ledger's pool, migrated.
    async fn connect(settings: &Settings) -> eyre::Result<PgPool> {
        let db = PgPoolOptions::new()
            .max_connections(settings.database.max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(settings.database.url.expose_secret())
            .await?;
        ledger::db::migrate(&db).await?;
        Ok(db)
    }

    /// As [`build`](Self::build) on an existing, migrated pool (tests use a scratch database).
    pub async fn build_with_pool(settings: Settings, db: PgPool) -> eyre::Result<Self> {
        Self::build_until(settings, db, Box::pin(service_kit::shutdown_signal())).await
    }

    /// As [`build_with_pool`](Self::build_with_pool), serving until `shutdown` completes.
    pub async fn build_until(settings: Settings, db: PgPool, shutdown: service_kit::Shutdown) -> eyre::Result<Self> {
        let redis = crate::cache::connect(&settings).await;
        let admins = settings
            .auth
            .admins
            .iter()
            .map(|a| {
                WalletChain::Evm
                    .parse_address(a)
                    .or_else(|| WalletChain::Tron.parse_address(a))
                    .ok_or_else(|| eyre::eyre!("auth.admins: not an address: {a}"))
            })
            .collect::<eyre::Result<Vec<_>>>()?;
        // The configured admins get every staff role once, on an empty staff table; roles change afterwards only
        // through approved changes (backend/STAFF.md §2), and the list is then ignored.
        let seeded = ledger::staff::seed(&db, &admins).await?;
        if seeded > 0 {
            tracing::info!(wallets = admins.len(), roles = seeded, "staff roles seeded from [auth] admins");
        }
        let chains = ChainRegistry::from_settings(&settings.chains)?;
        settings.payouts.worker.validate()?;
        if let Some(schedule) = &settings.payouts.schedule {
            schedule.validate()?;
        }
        if let Some(solvency) = &settings.solvency {
            solvency.validate()?;
            for chain in &solvency.chains {
                eyre::ensure!(
                    settings.chains.iter().any(|c| c.spec.chain_id == chain.chain_id),
                    "solvency.chains: chain {} is not in the chain spec",
                    chain.chain_id
                );
            }
        }
        for feed in settings.prices.iter().flat_map(|p| &p.feeds) {
            eyre::ensure!(
                settings.chains.iter().any(|c| c.spec.chain_id == feed.chain_id),
                "prices.feeds: feed {} is read on chain {}, which is not in the chain spec",
                feed.feed,
                feed.chain_id
            );
        }
        let signer = settings
            .signer
            .as_ref()
            .map(|s| signer_client::SignerClient::new(s.url.clone(), s.caller_id.clone(), s.caller_secret.clone()));
        crate::preflight::at_start(&settings, &chains, signer.as_ref()).await?;
        let treasury_signer = settings.signer.as_ref().map(|s| match &s.treasury_caller {
            Some(t) => signer_client::SignerClient::new(s.url.clone(), t.caller_id.clone(), t.caller_secret.clone()),
            None => signer_client::SignerClient::new(s.url.clone(), s.caller_id.clone(), s.caller_secret.clone()),
        });
        let ctx = ApiContext {
            signer,
            treasury_signer,
            chains: Arc::new(chains),
            clock: Clock::default(),
            metrics: Arc::new(crate::metrics::ApiMetrics::default()),
            prices: Arc::default(),
            nonces: NonceStore::new(redis.clone(), &settings.redis.key_prefix),
            rate_limiter: RateLimiter::new(redis.clone(), &settings.redis.key_prefix),
            access_tokens: AccessTokens::new(&jwt_key(&settings)?, settings.auth.access_ttl_secs),
            redis,
            db,
            settings: Arc::new(settings),
        };
        // The workers stop between rounds when the server is told to stop (the worker kit).
        let (stop, shutdown) = service_kit::work::split(shutdown);
        if let Some(solvency) = ctx.settings.solvency.clone().filter(|s| s.worker) {
            let worker = SolvencyWorker {
                db: ctx.db.clone(),
                chains: ctx.chains.clone(),
                signer: ctx.signer.clone(),
                key: solvency.salt_key()?,
                settings: solvency,
                metrics: Some(ctx.metrics.clone()),
            };
            tokio::spawn(worker.run(stop.clone()));
        }
        if ctx.settings.payouts.worker.enabled {
            let worker = PayoutWorker {
                db: ctx.db.clone(),
                chains: ctx.chains.clone(),
                metrics: ctx.metrics.clone(),
                idle: Duration::from_secs(ctx.settings.payouts.worker.idle_secs),
            };
            tokio::spawn(worker.run(Duration::from_secs(ctx.settings.payouts.worker.interval_secs), stop.clone()));
        }
        let listener =
            tokio::net::TcpListener::bind((ctx.settings.application.host.as_str(), ctx.settings.application.port))
                .await?;
        let port = listener.local_addr()?.port();
        let clock = ctx.clock.clone();
        let metrics_port = match ctx.settings.application.metrics_address {
            None => None,
            Some(address) => {
                let metrics_listener = tokio::net::TcpListener::bind(address).await?;
                let bound = metrics_listener.local_addr()?.port();
                let (metrics, db) = (ctx.metrics.clone(), ctx.db.clone());
                tokio::spawn(service_kit::metrics::serve(metrics_listener, move || {
                    let (metrics, db) = (metrics.clone(), db.clone());
                    async move { metrics.render(&db).await }
                }));
                tracing::info!(port = bound, "API metrics listening");
                Some(bound)
            }
        };
        let limits = ctx.settings.application.limits;
        let trusted_proxies = ctx.settings.rate_limits.trusted_proxies.clone();
        let proxied = http::rate_limit::ProxiedClients::new(limits.max_connections_per_client, &trusted_proxies);
        // A request (body included) that takes longer than the limit is answered 408 (the error envelope) and its
        // connection closed.
        let routes = http::route_table(ctx.clone());
        let app = http::router(ctx)
            .layer(axum::middleware::from_fn_with_state(proxied, http::rate_limit::proxied_client_cap))
            .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, limits.request_timeout()))
            .layer(axum::middleware::map_response(http::error::timeout_envelope))
            .layer(axum::middleware::from_fn(http::headers::every_answer))
            .layer(TraceLayer::new_for_http());
        tracing::info!(port, "API listening");
        let per_connection = move |peer: std::net::SocketAddr| {
            let app = app.clone();
            tower::ServiceBuilder::new()
                .map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                    request
                })
                .service(app)
        };
        let server =
            Box::pin(service_kit::serve::serve_behind(listener, limits, trusted_proxies, per_connection, shutdown));
        Ok(Self { port, metrics_port, clock, routes, server })
    }

    /// The clock the API computes deadlines from (tests move it instead of sleeping).
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Every API route served, as (method, path template) ([`http::route_table`]).
    pub fn routes(&self) -> &[(String, String)] {
        &self.routes
    }

    /// The port the API is bound to (the one picked when configured as 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `GET /metrics` is served on, when `[application] metrics_address` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish (within `shutdown_grace_secs`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Shortest access-token key accepted: HS256 wants at least the hash's 32 bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// The configured access-token key (refused when shorter than [`MIN_JWT_SECRET_BYTES`]), or a random one for a
/// development run (with a warning).
fn jwt_key(settings: &Settings) -> eyre::Result<Vec<u8>> {
    if let Some(secret) = &settings.auth.jwt_secret {
        let key = secret.expose_secret().as_bytes();
        eyre::ensure!(
            key.len() >= MIN_JWT_SECRET_BYTES,
            "auth.jwt_secret has {} bytes: at least {MIN_JWT_SECRET_BYTES} are needed",
            key.len()
        );
        return Ok(key.to_vec());
    }
    tracing::warn!("no auth.jwt_secret configured: using a random key; access tokens will not survive a restart");
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).expect("the OS random source is available");
    Ok(key)
}
