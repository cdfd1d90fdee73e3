//! Fixed-window request counters in Redis (`SET NX EX` + `INCR` in one transaction). Without Redis the limits
//! are skipped with a warning: the API stays up rather than refusing everyone. The limits themselves (per client
//! IP, per wallet) are in [`super::rate_limit`].

use redis::aio::ConnectionManager;

use crate::http::error::ApiError;

/// Fixed-window request counters in Redis; every check passes while Redis is absent or down.
#[derive(Clone)]
pub struct RateLimiter {
    redis: Option<ConnectionManager>,
    prefix: String,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("redis", &self.redis.is_some()).field("prefix", &self.prefix).finish()
    }
}

impl RateLimiter {
    /// Counters over `redis` (`None`: limits skipped) whose keys start with `prefix`.
    pub fn new(redis: Option<ConnectionManager>, prefix: &str) -> Self {
        Self { redis, prefix: prefix.to_owned() }
    }

    /// Counts one request of `subject` in `scope`; 429 `rate_limited` past `limit` per window.
    pub async fn check(&self, scope: &str, subject: &str, limit: u32, window_secs: u64) -> Result<(), ApiError> {
        let Some(mut conn) = self.redis.clone() else {
            return Ok(());
        };
        let key = format!("{}:rate:{scope}:{subject}", self.prefix);
        let counted: Result<(u64,), _> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("EX")
            .arg(window_secs.max(1))
            .arg("NX")
            .ignore()
            .cmd("INCR")
            .arg(&key)
            .query_async(&mut conn)
            .await;
        match counted {
            Ok((n,)) if n > u64::from(limit) => Err(ApiError::RateLimited { retry_after_secs: window_secs }),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, scope, "rate limit skipped: Redis unavailable");
                Ok(())
            }
        }
    }
}
