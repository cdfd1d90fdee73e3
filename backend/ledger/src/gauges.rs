//! The ledger's figures as the API's `/metrics` shows them (`ops/metrics.md`): per asset what is owed by status,
//! the payout queue and the age of what waits longest, and payout batches by status. Read now, every scrape.

use sqlx::PgPool;

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
    type Row = (i32, String, f64, f64, f64, f64, f64, i64, f64, f64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.symbol,
                (COALESCE(sum(b.pending), 0) / 10::numeric ^ a.decimals)::float8,
                (COALESCE(sum(b.batched), 0) / 10::numeric ^ a.decimals)::float8,
                (COALESCE(sum(b.held), 0) / 10::numeric ^ a.decimals)::float8,
                (COALESCE(sum(b.reserved), 0) / 10::numeric ^ a.decimals)::float8,
                (COALESCE(sum(b.claimable), 0) / 10::numeric ^ a.decimals)::float8,
                count(*) FILTER (WHERE b.pending > 0),
                COALESCE((SELECT extract(epoch FROM now() - min(p.created_at)) FROM payout_batches p
                          WHERE p.asset_id = a.id AND p.status IN ('signed', 'submitted')), 0)::float8,
                COALESCE((SELECT extract(epoch FROM now()) - c.block_timestamp FROM ledger_events e
                          JOIN chain_events c USING (chain_id, tx_hash, log_index)
                          WHERE e.asset_id = a.id AND e.event_seq = (SELECT min(r.event_seq) FROM rewards r
                                WHERE r.asset_id = a.id AND r.status = 'pending')), 0)::float8
         FROM assets a LEFT JOIN user_balances b ON b.asset_id = a.id
         GROUP BY a.id ORDER BY a.id",
    )
    .fetch_all(db)
    .await?;
    let rows = rows.into_iter().map(|r| AssetGauges {
        asset_id: r.0,
        symbol: r.1,
        pending: r.2,
        batched: r.3,
        held: r.4,
        reserved: r.5,
        claimable: r.6,
        queue_users: r.7,
        oldest_open_batch_secs: r.8.max(0.0),
        oldest_pending_reward_secs: r.9.max(0.0),
    });
    Ok(rows.collect())
}

/// Payout batches per asset and status: (asset id, symbol, status, count), for the statuses some batch has.
pub async fn batches_by_status(db: &PgPool) -> Result<Vec<(i32, String, String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.symbol, b.status, count(*) FROM payout_batches b JOIN assets a ON a.id = b.asset_id
         GROUP BY a.id, a.symbol, b.status",
    )
    .fetch_all(db)
    .await
}
