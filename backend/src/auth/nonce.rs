//! Single-use sign-in nonces in Redis: issued with `SET NX EX` (bound to the wallet), spent
//! with `GETDEL`, so a nonce signs in at most once even under concurrent requests.
//! While Redis is down, sign-in is unavailable (503 `auth_unavailable`); every other route
//! works, and sign-in resumes when Redis answers again.

use alloy::primitives::Address;
use redis::aio::ConnectionManager;

use super::siwe::WalletChain;

/// Issues and spends sign-in nonces in Redis, under the configured key prefix; unavailable without Redis.
#[derive(Clone)]
pub struct NonceStore {
    redis: Option<ConnectionManager>,
    prefix: String,
}

impl std::fmt::Debug for NonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceStore").field("redis", &self.redis.is_some()).field("prefix", &self.prefix).finish()
    }
}

/// Why a nonce could not be issued or spent.
#[derive(Debug, thiserror::Error)]
pub enum NonceError {
    /// Redis is not configured or did not answer (the Redis error, if it answered with one).
    #[error("nonce store unavailable")]
    Unavailable(#[source] Option<redis::RedisError>),
}

fn binding(chain: WalletChain, wallet: Address) -> String {
    format!("{}:{wallet:#x}", chain.as_str())
}

impl NonceStore {
    /// A store over `redis` (`None`: sign-in unavailable) whose keys start with `prefix`.
    pub fn new(redis: Option<ConnectionManager>, prefix: &str) -> Self {
        Self { redis, prefix: prefix.to_owned() }
    }

    fn key(&self, nonce: &str) -> String {
        format!("{}:siwe-nonce:{nonce}", self.prefix)
    }

    fn connection(&self) -> Result<ConnectionManager, NonceError> {
        self.redis.clone().ok_or(NonceError::Unavailable(None))
    }

    /// A fresh nonce (32 alphanumeric characters) reserved for `wallet` for `ttl_secs`.
    pub async fn issue(&self, chain: WalletChain, wallet: Address, ttl_secs: u64) -> Result<String, NonceError> {
        let mut conn = self.connection()?;
        loop {
            let nonce = super::random::random_hex::<16>();
            let set: Option<String> = redis::cmd("SET")
                .arg(self.key(&nonce))
                .arg(binding(chain, wallet))
                .arg("NX")
                .arg("EX")
                .arg(ttl_secs.max(1))
                .query_async(&mut conn)
                .await
                .map_err(|e| NonceError::Unavailable(Some(e)))?;
            if set.is_some() {
                return Ok(nonce);
            }
        }
    }

    /// Spends `nonce` if it was issued to `wallet` and has not expired or been spent; true
    /// when this call spent it.
    pub async fn consume(&self, nonce: &str, chain: WalletChain, wallet: Address) -> Result<bool, NonceError> {
        let mut conn = self.connection()?;
        let bound: Option<String> = redis::cmd("GETDEL")
            .arg(self.key(nonce))
            .query_async(&mut conn)
            .await
            .map_err(|e| NonceError::Unavailable(Some(e)))?;
        Ok(bound.as_deref() == Some(binding(chain, wallet).as_str()))
    }
}
