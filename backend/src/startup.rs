//! Building and running the API service: telemetry, connections, router, listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tower_http::trace::TraceLayer;

use crate::auth::jwt::AccessTokens;
use crate::auth::nonce::NonceStore;
use crate::auth::siwe::WalletChain;
use crate::config::Settings;
use crate::http::rate_limit::RateLimiter;
use crate::http::{self, ApiContext};

/// Installs the global `tracing` subscriber (env filter `RUST_LOG`, default info); later
/// calls are no-ops, so tests may call it freely.
pub fn init_telemetry() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// A bound, ready-to-serve API.
pub struct Application {
    port: u16,
    server: std::pin::Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Connects to Postgres (and migrates), to Redis if it answers, and binds the port.
    pub async fn build(settings: Settings) -> eyre::Result<Self> {
        let db = PgPoolOptions::new()
            .max_connections(settings.database.max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(settings.database.url.expose_secret())
            .await?;
        crate::db::migrate(&db).await?;
        Self::build_with_pool(settings, db).await
    }

    /// As [`build`](Self::build) on an existing, migrated pool (tests use a scratch database).
    pub async fn build_with_pool(settings: Settings, db: PgPool) -> eyre::Result<Self> {
        let redis = connect_redis(&settings).await;
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
        let settlements = settings
            .chains
            .iter()
            .map(|c| {
                let address = WalletChain::Evm
                    .parse_address(&c.settlement)
                    .ok_or_else(|| eyre::eyre!("chains: settlement of chain {} is not a 0x address", c.chain_id))?;
                Ok((c.chain_id, address))
            })
            .collect::<eyre::Result<std::collections::HashMap<_, _>>>()?;
        let chains = settings
            .chains
            .iter()
            .filter_map(|c| http::payouts::ChainAccess::from_settings(c).transpose().map(|a| Ok((c.chain_id, a?))))
            .collect::<eyre::Result<std::collections::HashMap<_, _>>>()?;
        let signer = settings
            .signer
            .as_ref()
            .map(|s| signer::client::SignerClient::new(s.url.clone(), s.caller_id.clone(), s.caller_secret.clone()));
        let treasury_signer = settings.signer.as_ref().map(|s| match &s.treasury_caller {
            Some(t) => signer::client::SignerClient::new(s.url.clone(), t.caller_id.clone(), t.caller_secret.clone()),
            None => signer::client::SignerClient::new(s.url.clone(), s.caller_id.clone(), s.caller_secret.clone()),
        });
        let ctx = ApiContext {
            signer,
            treasury_signer,
            settlements: Arc::new(settlements),
            chains: Arc::new(chains),
            nonces: NonceStore::new(redis.clone(), &settings.redis.key_prefix),
            rate_limiter: RateLimiter::new(redis.clone(), &settings.redis.key_prefix),
            access_tokens: AccessTokens::new(&jwt_key(&settings), settings.auth.access_ttl_secs),
            admins: Arc::new(admins),
            redis,
            db,
            settings: Arc::new(settings),
        };
        let listener =
            tokio::net::TcpListener::bind((ctx.settings.application.host.as_str(), ctx.settings.application.port))
                .await?;
        let port = listener.local_addr()?.port();
        let app = http::router(ctx).layer(TraceLayer::new_for_http());
        tracing::info!(port, "API listening");
        let server = Box::pin(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
                .with_graceful_shutdown(shutdown_signal())
                .await
        });
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Ctrl-C or SIGTERM (what `kill` and service managers send): the API stops accepting and finishes the requests
/// in flight; the listener and reconciler binaries stop between transactions.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// A Redis connection that (re)connects on demand, so Redis may start, stop and come back
/// while the API runs: while it is down, calls fail fast and their callers degrade (sign-in
/// 503, limits skipped). `None` only when no Redis is configured or its URL is invalid.
async fn connect_redis(settings: &Settings) -> Option<ConnectionManager> {
    let url = settings.redis.url.as_deref()?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_secs(1)))
        .set_number_of_retries(1);
    let manager = match redis::Client::open(url).and_then(|c| ConnectionManager::new_lazy_with_config(c, config)) {
        Ok(manager) => manager,
        Err(e) => {
            tracing::warn!(error = %e, "invalid Redis settings: running without Redis");
            return None;
        }
    };
    if !redis_answers(&manager).await {
        tracing::warn!("Redis unreachable at start: sign-in unavailable and no cache until it answers");
    }
    Some(manager)
}

/// Whether Redis answers a PING within a second.
pub async fn redis_answers(manager: &ConnectionManager) -> bool {
    let mut conn = manager.clone();
    let cmd = redis::cmd("PING");
    let ping = cmd.query_async::<String>(&mut conn);
    matches!(tokio::time::timeout(Duration::from_secs(1), ping).await, Ok(Ok(_)))
}

/// The configured access-token key, or a random one for a development run (with a warning).
fn jwt_key(settings: &Settings) -> Vec<u8> {
    if let Some(secret) = &settings.auth.jwt_secret {
        return secret.expose_secret().as_bytes().to_vec();
    }
    tracing::warn!("no auth.jwt_secret configured: using a random key; access tokens will not survive a restart");
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).expect("the OS random source is available");
    key
}
