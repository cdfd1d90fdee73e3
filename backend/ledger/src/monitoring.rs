//! The reconciler's findings as the API shows them: a run (the latest, or one by id) with every asset's
//! figures, and the alerts firing now. The reconciler writes these tables; this is their read side.

use serde_json::Value;
use sqlx::PgPool;
use sqlx::types::Json as SqlJson;

/// One reconciliation run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Its id.
    pub id: i64,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC; none while it runs.
    pub finished_at: Option<String>,
    /// Every alert the run found.
    pub alerts: Value,
    /// Chains the run could not read.
    pub errors: Value,
}

/// Custody and solvency of one asset in a run, amounts as decimal strings (some may be negative).
#[derive(Debug, Clone, PartialEq)]
pub struct AssetFigures {
    /// The chain.
    pub chain_id: i64,
    /// The token (zero address: the native coin).
    pub token: Vec<u8>,
    /// The block the figures are at.
    pub block_number: i64,
    /// Custody on-chain.
    pub onchain_balance: String,
    /// Money in.
    pub inflows: String,
    /// Payout batches executed.
    pub payouts_executed: String,
    /// Claims.
    pub claims: String,
    /// Treasury transfers.
    pub treasury_transfers: String,
    /// What is owed.
    pub liabilities: String,
    /// What custody should hold.
    pub expected_balance: String,
    /// On-chain − expected.
    pub variance: String,
    /// Custody − liabilities.
    pub solvency_margin: String,
    /// The asset's alerts in the run.
    pub alerts: Value,
}

/// An alert firing now.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// Its key.
    pub dedup_key: String,
    /// The alert.
    pub alert: Value,
    /// RFC 3339, UTC.
    pub since: String,
}

type RunRow = (i64, String, Option<String>, SqlJson<Value>, SqlJson<Value>);
type ResultRow =
    (i64, Vec<u8>, i64, String, String, String, String, String, String, String, String, String, SqlJson<Value>);

/// Run `run_id` (the latest when `None`) with its per-asset figures; `None` when there is no such run.
pub async fn run(pool: &PgPool, run_id: Option<i64>) -> Result<Option<(Run, Vec<AssetFigures>)>, sqlx::Error> {
    let run: Option<RunRow> = sqlx::query_as(concat!(
        "SELECT id, ",
        utc!("started_at"),
        ", ",
        utc!("finished_at"),
        ", alerts, errors FROM reconciler_runs WHERE ($1::int8 IS NULL OR id = $1) ORDER BY id DESC LIMIT 1"
    ))
    .bind(run_id)
    .fetch_optional(pool)
    .await?;
    let Some((id, started_at, finished_at, SqlJson(alerts), SqlJson(errors))) = run else { return Ok(None) };
    let rows: Vec<ResultRow> = sqlx::query_as(
        "SELECT chain_id, token, block_number, onchain_balance::text, inflows::text, payouts_executed::text,
                claims::text, treasury_transfers::text, liabilities::text, expected_balance::text, variance::text,
                solvency_margin::text, alerts
         FROM reconciler_results WHERE run_id = $1 ORDER BY chain_id, token",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let figures = rows
        .into_iter()
        .map(|r| AssetFigures {
            chain_id: r.0,
            token: r.1,
            block_number: r.2,
            onchain_balance: r.3,
            inflows: r.4,
            payouts_executed: r.5,
            claims: r.6,
            treasury_transfers: r.7,
            liabilities: r.8,
            expected_balance: r.9,
            variance: r.10,
            solvency_margin: r.11,
            alerts: r.12.0,
        })
        .collect();
    Ok(Some((Run { id, started_at, finished_at, alerts, errors }, figures)))
}

/// The alerts firing now, by key.
pub async fn firing(pool: &PgPool) -> Result<Vec<Firing>, sqlx::Error> {
    let rows: Vec<(String, SqlJson<Value>, String)> = sqlx::query_as(concat!(
        "SELECT dedup_key, alert, ",
        utc!("since"),
        " FROM reconciler_firing ORDER BY dedup_key"
    ))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(dedup_key, SqlJson(alert), since)| Firing { dedup_key, alert, since }).collect())
}
