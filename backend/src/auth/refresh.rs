//! Rotating refresh tokens: random, stored only as their SHA-256, grouped in a family per
//! sign-in. Each refresh spends the token and issues the next of its family; presenting a
//! spent token means it was stolen or replayed, so its whole family is revoked.

use alloy::primitives::Address;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// Why a refresh token was refused (all map to 401).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RefreshError {
    /// No refresh token with this value was ever issued.
    #[error("unknown refresh token")]
    Unknown,
    /// The token's lifetime has passed.
    #[error("refresh token expired")]
    Expired,
    /// Its session was ended (logout, or an earlier reuse).
    #[error("refresh token revoked")]
    Revoked,
    /// The token was already spent: its whole session is now revoked.
    #[error("refresh token reused; its session has been revoked")]
    Reused,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn new_token() -> String {
    super::random_hex::<32>()
}

/// Starts a new family (a sign-in) for `wallet`; returns the token to hand out and the family's id.
pub async fn start_family(pool: &PgPool, wallet: Address, ttl_secs: u64) -> Result<(String, String), sqlx::Error> {
    let token = new_token();
    let family: String = sqlx::query_scalar(
        "INSERT INTO refresh_tokens (wallet, family, token_hash, expires_at)
         VALUES ($1, gen_random_uuid(), $2, now() + make_interval(secs => $3)) RETURNING family::text",
    )
    .bind(wallet.as_slice())
    .bind(hash(&token))
    .bind(ttl_secs as f64)
    .fetch_one(pool)
    .await?;
    Ok((token, family))
}

/// Whether the session `family` was revoked (logout, or a refresh token used twice): its access tokens stop
/// working too. One indexed lookup per authenticated request.
pub async fn family_revoked(pool: &PgPool, family: &str) -> Result<bool, sqlx::Error> {
    // Our own signed tokens only carry UUIDs; anything else is treated as revoked rather than sent to SQL.
    let is_uuid = family.len() == 36 && family.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !is_uuid {
        return Ok(true);
    }
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE family = $1::uuid AND revoked_at IS NOT NULL)",
    )
    .bind(family)
    .fetch_one(pool)
    .await
}

/// Spends `token` and returns (wallet, next token of the same family, the family).
pub async fn rotate(
    pool: &PgPool,
    token: &str,
    ttl_secs: u64,
) -> Result<Result<(Address, String, String), RefreshError>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row: Option<(i64, Vec<u8>, String, bool, bool, bool)> = sqlx::query_as(
        "SELECT id, wallet, family::text, used_at IS NOT NULL, revoked_at IS NOT NULL, expires_at <= now()
         FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, wallet, family, used, revoked, expired)) = row else {
        return Ok(Err(RefreshError::Unknown));
    };
    if revoked {
        return Ok(Err(RefreshError::Revoked));
    }
    if used {
        revoke_family_in(&mut tx, &family).await?;
        tx.commit().await?;
        return Ok(Err(RefreshError::Reused));
    }
    if expired {
        return Ok(Err(RefreshError::Expired));
    }
    sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1").bind(id).execute(&mut *tx).await?;
    let next = new_token();
    sqlx::query(
        "INSERT INTO refresh_tokens (wallet, family, token_hash, expires_at)
         VALUES ($1, $2::uuid, $3, now() + make_interval(secs => $4))",
    )
    .bind(&wallet)
    .bind(&family)
    .bind(hash(&next))
    .bind(ttl_secs as f64)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok((Address::from_slice(&wallet), next, family)))
}

/// Revokes the family of `token` (logout); `Unknown` if no such token exists.
pub async fn revoke(pool: &PgPool, token: &str) -> Result<Result<(), RefreshError>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let family: Option<String> =
        sqlx::query_scalar("SELECT family::text FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE")
            .bind(hash(token))
            .fetch_optional(&mut *tx)
            .await?;
    let Some(family) = family else {
        return Ok(Err(RefreshError::Unknown));
    };
    revoke_family_in(&mut tx, &family).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

async fn revoke_family_in(tx: &mut sqlx::PgConnection, family: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE refresh_tokens SET revoked_at = now() WHERE family = $1::uuid AND revoked_at IS NULL")
        .bind(family)
        .execute(tx)
        .await?;
    Ok(())
}
