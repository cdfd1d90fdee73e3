//! Sign-in sessions: rotating refresh tokens, stored only as their hashes, grouped in a family per sign-in. Each
//! refresh spends the token and stores the next of its family; presenting a spent token means it was stolen or
//! replayed, so its whole family is revoked. The API makes the tokens and hashes them (`backend::auth::refresh`).

use alloy::primitives::Address;
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

/// Starts a new family (a sign-in) for `wallet` with the token hashed as `token_hash`, valid for `ttl_secs`;
/// returns the family's id.
pub async fn start_family(
    pool: &PgPool,
    wallet: Address,
    token_hash: &[u8],
    ttl_secs: u64,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO refresh_tokens (wallet, family, token_hash, expires_at)
           VALUES ($1, gen_random_uuid(), $2, now() + make_interval(secs => $3)) RETURNING family::text AS "family!""#,
        wallet.as_slice(),
        token_hash,
        ttl_secs as f64
    )
    .fetch_one(pool)
    .await
}

/// Whether the session `family` was revoked (logout, or a refresh token used twice): its access tokens stop
/// working too. One indexed lookup per authenticated request.
pub async fn family_revoked(pool: &PgPool, family: &str) -> Result<bool, sqlx::Error> {
    // The API's own signed tokens only carry UUIDs; anything else is treated as revoked rather than sent to SQL.
    let is_uuid = family.len() == 36 && family.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !is_uuid {
        return Ok(true);
    }
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE family = $1::text::uuid AND revoked_at IS NOT NULL)
             AS "revoked!""#,
        family
    )
    .fetch_one(pool)
    .await
}

/// Spends the token hashed as `token_hash` and stores its successor `next_hash` in the same family, valid for
/// `ttl_secs`; returns the wallet and the family. A spent token revokes its family.
pub async fn rotate(
    pool: &PgPool,
    token_hash: &[u8],
    next_hash: &[u8],
    ttl_secs: u64,
) -> Result<Result<(Address, String), RefreshError>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"SELECT id, wallet, family::text AS "family!", used_at IS NOT NULL AS "used!",
                  revoked_at IS NOT NULL AS "revoked!", expires_at <= now() AS "expired!"
           FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE"#,
        token_hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(Err(RefreshError::Unknown));
    };
    if row.revoked {
        return Ok(Err(RefreshError::Revoked));
    }
    if row.used {
        revoke_family_in(&mut tx, &row.family).await?;
        tx.commit().await?;
        return Ok(Err(RefreshError::Reused));
    }
    if row.expired {
        return Ok(Err(RefreshError::Expired));
    }
    sqlx::query!("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", row.id).execute(&mut *tx).await?;
    sqlx::query!(
        "INSERT INTO refresh_tokens (wallet, family, token_hash, expires_at)
         VALUES ($1, $2::text::uuid, $3, now() + make_interval(secs => $4))",
        &row.wallet,
        &row.family,
        next_hash,
        ttl_secs as f64
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok((Address::from_slice(&row.wallet), row.family)))
}

/// Revokes the family of the token hashed as `token_hash` (logout); `Unknown` if no such token exists.
pub async fn revoke(pool: &PgPool, token_hash: &[u8]) -> Result<Result<(), RefreshError>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let family = sqlx::query_scalar!(
        r#"SELECT family::text AS "family!" FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE"#,
        token_hash
    )
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
    sqlx::query!(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family = $1::text::uuid AND revoked_at IS NULL",
        family
    )
    .execute(tx)
    .await?;
    Ok(())
}
