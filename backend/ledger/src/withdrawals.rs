//! Withdraw requests: a user asks to be paid the pending balance of one asset; the request is recorded for the
//! next payout batch (one open request per user and asset). The user's row is locked while deciding, so two
//! requests at once cannot both pass the checks.

use alloy::primitives::Address;
use sqlx::PgPool;

use crate::money::Money;

/// A request recorded, with what the user holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    /// The request's id.
    pub id: i64,
    /// The pending balance when it was made (what it asks for).
    pub amount: Money,
    /// What the contract holds claimable for the wallet (failed pushes), as the ledger recorded it.
    pub claimable: Money,
    /// The asset's chain.
    pub chain_id: u64,
    /// The asset's token (20 bytes; zero: the native coin).
    pub token: Vec<u8>,
    /// The asset's symbol.
    pub symbol: String,
    /// The asset's decimals.
    pub decimals: i16,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// Why no request was recorded; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawRefusal {
    /// No such asset.
    #[error("no asset {0}")]
    UnknownAsset(i32),
    /// The wallet is not registered in the asset.
    #[error("this wallet is not registered in this asset")]
    NotRegistered,
    /// The user is frozen.
    #[error("this wallet is frozen")]
    Frozen,
    /// A request of the user in this asset is still open.
    #[error("request {0} for this asset is still open")]
    Open(i64),
    /// Nothing is pending.
    #[error("no pending balance to withdraw in this asset")]
    NothingPending,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Records `wallet`'s request to be paid its pending balance of `asset_id`.
pub async fn request(pool: &PgPool, asset_id: i32, wallet: Address) -> Result<Requested, WithdrawRefusal> {
    let mut tx = pool.begin().await?;
    let known = sqlx::query_scalar!("SELECT id FROM assets WHERE id = $1", asset_id).fetch_optional(&mut *tx).await?;
    if known.is_none() {
        return Err(WithdrawRefusal::UnknownAsset(asset_id));
    }
    let row = sqlx::query!(
        r#"SELECT u.user_no, u.frozen, u.pending AS "pending: Money", u.claimable AS "claimable: Money", a.chain_id,
                a.token, a.symbol, a.decimals
         FROM users u JOIN assets a ON a.id = u.asset_id
         WHERE u.asset_id = $1 AND u.address = $2 FOR UPDATE OF u"#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(&mut *tx)
    .await?;
    let user = row.ok_or(WithdrawRefusal::NotRegistered)?;
    if user.frozen {
        return Err(WithdrawRefusal::Frozen);
    }
    let open = sqlx::query_scalar!(
        "SELECT id FROM withdraw_requests WHERE asset_id = $1 AND user_no = $2 AND status = 'open'",
        asset_id,
        user.user_no
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = open {
        return Err(WithdrawRefusal::Open(id));
    }
    let pending = user.pending;
    if pending.0.is_zero() {
        return Err(WithdrawRefusal::NothingPending);
    }
    let created = sqlx::query!(
        r#"INSERT INTO withdraw_requests (asset_id, user_no, amount) VALUES ($1, $2, $3)
           RETURNING id, rfc3339(created_at) AS "created_at!""#,
        asset_id,
        user.user_no,
        pending as _
    )
    .fetch_one(&mut *tx)
    .await?;
    let (id, created_at) = (created.id, created.created_at);
    let (claimable, chain_id, token, symbol, decimals) =
        (user.claimable, user.chain_id, user.token, user.symbol, user.decimals);
    tx.commit().await?;
    Ok(Requested { id, amount: pending, claimable, chain_id: chain_id as u64, token, symbol, decimals, created_at })
}

/// Why a member's cancel changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum CancelRefusal {
    /// No request with this id is the wallet's (someone else's answers the same: their requests are not shown).
    #[error("no withdraw request {0} of this wallet")]
    NotFound(i64),
    /// A payout batch took the request: the batch is paying it.
    #[error("withdraw request {0} is already in payout batch {1}")]
    Batched(i64, i64),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// `wallet` cancels its own withdraw request `id` while it is open; returns the request's asset. Cancelling one
/// already cancelled (by the member or the operator) changes nothing and answers the same. A build taking the
/// request at the same moment is serialised on the request's row: whichever commits first wins, the other sees it.
pub async fn cancel(pool: &PgPool, id: i64, wallet: Address) -> Result<i32, CancelRefusal> {
    // A request reopened by a batch cancel between the two statements is tried again; three tries bound the loop.
    for _ in 0..3 {
        let cancelled = sqlx::query_scalar!(
            "UPDATE withdraw_requests w SET status = 'cancelled', cancelled_by = 'member', updated_at = now()
             FROM users u
             WHERE w.id = $1 AND w.status = 'open' AND u.asset_id = w.asset_id AND u.user_no = w.user_no
               AND u.address = $2
             RETURNING w.asset_id",
            id,
            wallet.as_slice()
        )
        .fetch_optional(pool)
        .await?;
        if let Some(asset_id) = cancelled {
            return Ok(asset_id);
        }
        let found = sqlx::query!(
            "SELECT w.asset_id, w.status, w.batch_id FROM withdraw_requests w
             JOIN users u ON u.asset_id = w.asset_id AND u.user_no = w.user_no
             WHERE w.id = $1 AND u.address = $2",
            id,
            wallet.as_slice()
        )
        .fetch_optional(pool)
        .await?
        .ok_or(CancelRefusal::NotFound(id))?;
        match found.status.as_str() {
            "cancelled" => return Ok(found.asset_id),
            "batched" => return Err(CancelRefusal::Batched(id, found.batch_id.unwrap_or_default())),
            _ => continue,
        }
    }
    Err(CancelRefusal::Db(sqlx::Error::Protocol(format!("withdraw request {id} kept changing while being cancelled"))))
}
