//! The ledger's figures as the API's `/metrics` shows them (`ops/metrics.md`): per asset what is owed by status,
//! the payout queue and the age of what waits longest, and payout batches by status. Read now, every scrape.

use sqlx::PgPool;

use crate::payouts::BatchStatus;

/// One asset's figures, money in whole units of the asset.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetGauges {
    /// The asset.
    pub asset_id: i32,
    /// Its ticker (a label).
    pub symbol: String,
    /// Owed and payable.
    pub pending: f64,
    /// In payout batches not settled yet.
    pub batched: f64,
    /// Held back under the plan's rules.
    pub held: f64,
    /// Reserved towards next levels.
    pub reserved: f64,
    /// Left claimable in the contract.
    pub claimable: f64,
    /// Users with pending rewards.
    pub queue_users: i64,
    /// Age of the oldest signed or submitted batch (seconds; 0 when none).
    pub oldest_open_batch_secs: f64,
    /// Age of the oldest pending reward since its block (seconds; 0 when none).
    pub oldest_pending_reward_secs: f64,
}

/// Every asset's figures, by asset id.
pub async fn assets(db: &PgPool) -> Result<Vec<AssetGauges>, sqlx::Error> {
    sqlx::query_as!(
        AssetGauges,
        r#"SELECT a.id AS asset_id, a.symbol,
                (COALESCE(sum(b.pending), 0) / 10::numeric ^ a.decimals)::float8 AS "pending!",
                (COALESCE(sum(b.batched), 0) / 10::numeric ^ a.decimals)::float8 AS "batched!",
                (COALESCE(sum(b.held), 0) / 10::numeric ^ a.decimals)::float8 AS "held!",
                (COALESCE(sum(b.reserved), 0) / 10::numeric ^ a.decimals)::float8 AS "reserved!",
                (COALESCE(sum(b.claimable), 0) / 10::numeric ^ a.decimals)::float8 AS "claimable!",
                count(*) FILTER (WHERE b.pending > 0) AS "queue_users!",
                GREATEST(COALESCE((SELECT extract(epoch FROM now() - min(p.created_at)) FROM payout_batches p
                          WHERE p.asset_id = a.id AND p.status IN ('signed', 'submitted')), 0)::float8, 0)
                    AS "oldest_open_batch_secs!",
                GREATEST(COALESCE((SELECT extract(epoch FROM now()) - c.block_timestamp FROM chain_events c
                          WHERE c.asset_id = a.id AND c.event_seq = (SELECT min(r.event_seq) FROM rewards r
                                WHERE r.asset_id = a.id AND r.status = 'pending')), 0)::float8, 0)
                    AS "oldest_pending_reward_secs!"
         FROM assets a LEFT JOIN users b ON b.asset_id = a.id
         GROUP BY a.id ORDER BY a.id"#
    )
    .fetch_all(db)
    .await
}

/// Payout batches per asset and status: (asset id, symbol, status, count), for the statuses some batch has.
pub async fn batches_by_status(db: &PgPool) -> Result<Vec<(i32, String, BatchStatus, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT a.id, a.symbol, b.status AS "status: BatchStatus", count(*) AS "n!" FROM payout_batches b JOIN assets a ON a.id = b.asset_id
         GROUP BY a.id, a.symbol, b.status"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.symbol, r.status, r.n)).collect())
}

/// Per asset, the age in seconds of the oldest payout batch proposed for staff approval and not approved yet (its
/// batch still building), 0 when none: `authorisations_waiting_seconds`.
pub async fn authorisations_waiting(db: &PgPool) -> Result<Vec<(i32, f64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT a.id, GREATEST(COALESCE((SELECT extract(epoch FROM now() - min(z.proposed_at))
                FROM authorisations z JOIN payout_batches b ON z.kind = 'payout_batch' AND b.id = z.subject
                WHERE z.asset_id = a.id AND z.status = 'proposed' AND b.status = 'building'), 0)::float8, 0)
                AS "secs!"
         FROM assets a ORDER BY a.id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.secs)).collect())
}
