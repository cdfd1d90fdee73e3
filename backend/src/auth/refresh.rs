//! Rotating refresh tokens: random, handed out once and stored only as their SHA-256 ([`ledger::sessions`] keeps
//! them, grouped in a family per sign-in). Each refresh spends the token and issues the next of its family;
//! presenting a spent token means it was stolen or replayed, so its whole family is revoked.

use alloy::primitives::Address;
pub use ledger::sessions::RefreshError;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn new_token() -> String {
    super::random::random_hex::<32>()
}

/// Starts a new family (a sign-in) for `wallet`; returns the token to hand out and the family's id.
pub async fn start_family(pool: &PgPool, wallet: Address, ttl_secs: u64) -> Result<(String, String), sqlx::Error> {
    let token = new_token();
    let family = ledger::sessions::start_family(pool, wallet, &hash(&token), ttl_secs).await?;
    Ok((token, family))
}

/// Whether the session `family` was revoked (logout, or a refresh token used twice): its access tokens stop
/// working too.
pub async fn family_revoked(pool: &PgPool, family: &str) -> Result<bool, sqlx::Error> {
    ledger::sessions::family_revoked(pool, family).await
}

/// Spends `token` and returns (wallet, next token of the same family, the family).
pub async fn rotate(
    pool: &PgPool,
    token: &str,
    ttl_secs: u64,
) -> Result<Result<(Address, String, String), RefreshError>, sqlx::Error> {
    let next = new_token();
    let rotated = ledger::sessions::rotate(pool, &hash(token), &hash(&next), ttl_secs).await?;
    Ok(rotated.map(|(wallet, family)| (wallet, next, family)))
}

/// Revokes the family of `token` (logout); `Unknown` if no such token exists.
pub async fn revoke(pool: &PgPool, token: &str) -> Result<Result<(), RefreshError>, sqlx::Error> {
    ledger::sessions::revoke(pool, &hash(token)).await
}
