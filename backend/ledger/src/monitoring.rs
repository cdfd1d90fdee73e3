//! The reconciler's findings as the API shows them: a run (the latest, or one by id) with every asset's
//! figures, and the alerts firing now; and the reconciler's write side of the same tables (a run recorded, the
//! outbox of messages to its alert sinks) and the figures of its metrics.

use alloy::primitives::{Address, I256, U256};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::figures::LedgerFigures;
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

// The reconciler's write side: a run's decision on what fires, recorded in the caller's transaction, and the
// outbox of messages owed to the alert sinks.

/// One asset's custody result in a run, as recorded.
#[derive(Debug, Clone)]
pub struct ResultRecord<'a> {
    /// The chain.
    pub chain_id: u64,
    /// The token (zero address: the native coin).
    pub token: Address,
    /// The block the figures are at.
    pub block: u64,
    /// Custody on-chain at that block.
    pub onchain_balance: U256,
    /// The ledger's figures at that block.
    pub ledger: &'a LedgerFigures,
    /// What custody should hold.
    pub expected_balance: I256,
    /// On-chain − expected.
    pub variance: I256,
    /// Custody − liabilities.
    pub solvency_margin: I256,
    /// The asset's alerts in the run.
    pub alerts: Value,
}

/// What a run decided: every alert it found, the chains it could not read, each asset's result, the alerts that
/// stop firing (by key) and those that start or change, and the messages owed to the sinks.
#[derive(Debug, Clone, Default)]
pub struct RunRecord<'a> {
    /// Every alert the run found.
    pub alerts: Value,
    /// Chains the run could not read.
    pub errors: Value,
    /// Per asset.
    pub results: Vec<ResultRecord<'a>>,
    /// Keys of the alerts that resolve.
    pub resolve: Vec<String>,
    /// (key, alert) of the alerts that fire (again, or changed).
    pub fire: Vec<(String, Value)>,
    /// Messages owed to the sinks.
    pub outbox: Vec<OutboxMessage>,
}

/// A message owed to one alert sink.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// The sink's id.
    pub sink: String,
    /// The alert's key.
    pub dedup_key: String,
    /// `fire` or `resolve`.
    pub transition: String,
    /// The alert.
    pub alert: Value,
}

/// Takes the run lock (one run at a time decides what fires; held until the transaction ends) and returns the
/// alerts firing now, by key.
pub async fn lock_firing(tx: &mut PgConnection) -> Result<Vec<Value>, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('reconciler_firing'))").execute(&mut *tx).await?;
    let firing: Vec<SqlJson<Value>> =
        sqlx::query_scalar("SELECT alert FROM reconciler_firing ORDER BY dedup_key").fetch_all(&mut *tx).await?;
    Ok(firing.into_iter().map(|SqlJson(a)| a).collect())
}

/// Records `run` in the caller's transaction (taken with [`lock_firing`]): the run and its results, the firing
/// set changed, the messages queued; returns the run's id.
pub async fn record_run(tx: &mut PgConnection, run: &RunRecord<'_>) -> Result<i64, sqlx::Error> {
    let run_id: i64 = sqlx::query_scalar("INSERT INTO reconciler_runs (alerts, errors) VALUES ($1, $2) RETURNING id")
        .bind(SqlJson(&run.alerts))
        .bind(SqlJson(&run.errors))
        .fetch_one(&mut *tx)
        .await?;
    for r in &run.results {
        let l = r.ledger;
        sqlx::query(
            "INSERT INTO reconciler_results (run_id, chain_id, token, block_number, onchain_balance, inflows,
                payouts_executed, claims, treasury_transfers, liabilities, expected_balance, variance,
                solvency_margin, alerts)
             VALUES ($1, $2, $3, $4, $5::numeric, $6::numeric, $7::numeric, $8::numeric, $9::numeric,
                $10::numeric, $11::numeric, $12::numeric, $13::numeric, $14)",
        )
        .bind(run_id)
        .bind(r.chain_id as i64)
        .bind(r.token.as_slice())
        .bind(r.block as i64)
        .bind(r.onchain_balance.to_string())
        .bind(l.inflows.to_string())
        .bind(l.payouts_executed.to_string())
        .bind(l.claims.to_string())
        .bind(l.treasury_transfers.to_string())
        .bind(l.liabilities.to_string())
        .bind(r.expected_balance.to_string())
        .bind(r.variance.to_string())
        .bind(r.solvency_margin.to_string())
        .bind(SqlJson(&r.alerts))
        .execute(&mut *tx)
        .await?;
    }
    for key in &run.resolve {
        sqlx::query("DELETE FROM reconciler_firing WHERE dedup_key = $1").bind(key).execute(&mut *tx).await?;
    }
    for (key, alert) in &run.fire {
        sqlx::query(
            "INSERT INTO reconciler_firing (dedup_key, alert) VALUES ($1, $2)
             ON CONFLICT (dedup_key) DO UPDATE SET alert = EXCLUDED.alert, updated_at = now()",
        )
        .bind(key)
        .bind(SqlJson(alert))
        .execute(&mut *tx)
        .await?;
    }
    for m in &run.outbox {
        sqlx::query("INSERT INTO reconciler_outbox (sink, dedup_key, transition, alert) VALUES ($1, $2, $3, $4)")
            .bind(&m.sink)
            .bind(&m.dedup_key)
            .bind(&m.transition)
            .bind(SqlJson(&m.alert))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE reconciler_runs SET finished_at = now() WHERE id = $1").bind(run_id).execute(&mut *tx).await?;
    Ok(run_id)
}

/// A queued message taken for sending.
#[derive(Debug, Clone, PartialEq)]
pub struct Owed {
    /// Its id.
    pub id: i64,
    /// The message.
    pub message: OutboxMessage,
    /// When it was queued (RFC 3339, UTC, seconds).
    pub at: String,
}

/// The oldest unsent message for `sink` whose key is not in `blocked` and has no older unsent message, locked
/// (`FOR UPDATE SKIP LOCKED`) in the caller's transaction: several senders share the work and never send a message
/// twice or out of order.
pub async fn next_owed(tx: &mut PgConnection, sink: &str, blocked: &[String]) -> Result<Option<Owed>, sqlx::Error> {
    let row: Option<(i64, String, String, SqlJson<Value>, String)> = sqlx::query_as(
        "SELECT id, dedup_key, transition, alert,
                to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
           FROM reconciler_outbox o
          WHERE sink = $1 AND sent_at IS NULL AND dedup_key <> ALL($2)
            AND NOT EXISTS (SELECT 1 FROM reconciler_outbox p
                             WHERE p.sink = o.sink AND p.dedup_key = o.dedup_key
                               AND p.sent_at IS NULL AND p.id < o.id)
          ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind(sink)
    .bind(blocked)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|(id, dedup_key, transition, SqlJson(alert), at)| Owed {
        id,
        message: OutboxMessage { sink: sink.to_owned(), dedup_key, transition, alert },
        at,
    }))
}

/// Message `id` was delivered.
pub async fn sent(tx: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE reconciler_outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Message `id` was refused with `error`; it stays owed.
pub async fn refused(tx: &mut PgConnection, id: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE reconciler_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(tx)
        .await?;
    Ok(())
}

/// Unsent messages for `sink` with a key in `keys`.
pub async fn unsent(pool: &PgPool, sink: &str, keys: &[String]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM reconciler_outbox WHERE sink = $1 AND sent_at IS NULL AND dedup_key = ANY($2)",
    )
    .bind(sink)
    .bind(keys)
    .fetch_one(pool)
    .await
}

/// The latest result of every asset, figures in whole units: (asset id, symbol, when (unix seconds), variance,
/// solvency margin).
pub async fn latest_results(pool: &PgPool) -> Result<Vec<(i32, String, f64, f64, f64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.symbol, extract(epoch FROM r.at)::float8,
                (r.variance / 10::numeric ^ a.decimals)::float8, (r.solvency_margin / 10::numeric ^ a.decimals)::float8
         FROM assets a
         JOIN LATERAL (SELECT at, variance, solvency_margin FROM reconciler_results r
                       WHERE r.chain_id = a.chain_id AND r.token = a.token ORDER BY r.run_id DESC LIMIT 1) r ON true
         ORDER BY a.id",
    )
    .fetch_all(pool)
    .await
}

/// Alerts firing now per check: (check, count), for the checks that have some.
pub async fn firing_by_check(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT alert->>'check', count(*) FROM reconciler_firing GROUP BY 1").fetch_all(pool).await
}
