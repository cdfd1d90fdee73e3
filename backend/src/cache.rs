//! Redis: a connection that reconnects on demand, and whether it answers now. Redis holds only what may be
//! lost (sign-in nonces, rate-limit windows, cached snapshots), so the API degrades without it.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::Settings;

/// A Redis connection that (re)connects on demand, so Redis may start, stop and come back
/// while the API runs: while it is down, calls fail fast and their callers degrade (sign-in
/// 503, limits skipped). `None` only when no Redis is configured or its URL is invalid.
pub async fn connect(settings: &Settings) -> Option<ConnectionManager> {
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
    if !answers(&manager).await {
        tracing::warn!("Redis unreachable at start: sign-in unavailable and no cache until it answers");
    }
    Some(manager)
}

/// Whether Redis answers a PING within a second.
pub async fn answers(manager: &ConnectionManager) -> bool {
    let mut conn = manager.clone();
    let cmd = redis::cmd("PING");
    let ping = cmd.query_async::<String>(&mut conn);
    matches!(tokio::time::timeout(Duration::from_secs(1), ping).await, Ok(Ok(_)))
}
