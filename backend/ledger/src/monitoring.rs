//! The reconciler's findings as the API shows them: a run (the latest, or one by id) with every asset's
//! figures, and the alerts firing now; and the reconciler's write side of the same tables (a run recorded, the
//! outbox of messages to its alert sinks) and the figures of its metrics.

use alloy::primitives::{Address, I256, U256};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::figures::LedgerFigures;

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
    /// Members' leaves (contracts/EXIT.md §12).
    pub leaves: String,
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

/// Run `run_id` (the latest when `None`) with its per-asset figures; `None` when there is no such run.
pub async fn run(pool: &PgPool, run_id: Option<i64>) -> Result<Option<(Run, Vec<AssetFigures>)>, sqlx::Error> {
    let run = sqlx::query!(
        r#"SELECT id, rfc3339(started_at) AS "started_at!", rfc3339(finished_at) AS finished_at, alerts, errors
         FROM reconciler_runs WHERE ($1::int8 IS NULL OR id = $1) ORDER BY id DESC LIMIT 1"#,
        run_id
    )
    .fetch_optional(pool)
    .await?;
    let Some(run) = run else { return Ok(None) };
    let figures = sqlx::query_as!(
        AssetFigures,
        r#"SELECT chain_id, token, block_number, onchain_balance::text AS "onchain_balance!",
                inflows::text AS "inflows!", payouts_executed::text AS "payouts_executed!", claims::text AS "claims!",
                treasury_transfers::text AS "treasury_transfers!", leaves::text AS "leaves!",
                liabilities::text AS "liabilities!",
                expected_balance::text AS "expected_balance!", variance::text AS "variance!",
                solvency_margin::text AS "solvency_margin!", alerts
         FROM reconciler_results WHERE run_id = $1 ORDER BY chain_id, token"#,
        run.id
    )
    .fetch_all(pool)
    .await?;
    let run = Run {
        id: run.id,
        started_at: run.started_at,
        finished_at: run.finished_at,
        alerts: run.alerts,
        errors: run.errors,
    };
    Ok(Some((run, figures)))
}

/// The alerts firing now, by key.
pub async fn firing(pool: &PgPool) -> Result<Vec<Firing>, sqlx::Error> {
    sqlx::query_as!(
        Firing,
        r#"SELECT dedup_key, alert, rfc3339(since) AS "since!" FROM reconciler_firing ORDER BY dedup_key"#
    )
    .fetch_all(pool)
    .await
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
    /// How far the run read each contract's admin events (a cursor only moves forward).
    pub cursors: Vec<LogCursor>,
}

/// The last block whose admin events the reconciler has read (and paged) for one contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCursor {
    /// The chain.
    pub chain_id: u64,
    /// The Settlement contract.
    pub contract: Address,
    /// Every block up to this one has been read.
    pub block: u64,
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
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('reconciler_firing'))").execute(&mut *tx).await?;
    sqlx::query_scalar!("SELECT alert FROM reconciler_firing ORDER BY dedup_key").fetch_all(&mut *tx).await
}

/// Records `run` in the caller's transaction (taken with [`lock_firing`]): the run and its results, the firing
/// set changed, the messages queued; returns the run's id.
pub async fn record_run(tx: &mut PgConnection, run: &RunRecord<'_>) -> Result<i64, sqlx::Error> {
    let run_id = sqlx::query_scalar!(
        "INSERT INTO reconciler_runs (alerts, errors) VALUES ($1, $2) RETURNING id",
        &run.alerts,
        &run.errors
    )
    .fetch_one(&mut *tx)
    .await?;
    for r in &run.results {
        let l = r.ledger;
        // Amounts go in as decimal text: a U256 or an I256 has no Postgres type of its own.
        sqlx::query!(
            "INSERT INTO reconciler_results (run_id, chain_id, token, block_number, onchain_balance, inflows,
                payouts_executed, claims, treasury_transfers, liabilities, expected_balance, variance,
                solvency_margin, alerts, leaves)
             VALUES ($1, $2, $3, $4, $5::text::numeric, $6::text::numeric, $7::text::numeric, $8::text::numeric,
                $9::text::numeric, $10::text::numeric, $11::text::numeric, $12::text::numeric, $13::text::numeric, $14,
                $15::text::numeric)",
            run_id,
            r.chain_id as i64,
            r.token.as_slice(),
            r.block as i64,
            r.onchain_balance.to_string(),
            l.inflows.to_string(),
            l.payouts_executed.to_string(),
            l.claims.to_string(),
            l.treasury_transfers.to_string(),
            l.liabilities.to_string(),
            r.expected_balance.to_string(),
            r.variance.to_string(),
            r.solvency_margin.to_string(),
            &r.alerts,
            l.leaves.to_string()
        )
        .execute(&mut *tx)
        .await?;
    }
    for key in &run.resolve {
        sqlx::query!("DELETE FROM reconciler_firing WHERE dedup_key = $1", key).execute(&mut *tx).await?;
    }
    for (key, alert) in &run.fire {
        sqlx::query!(
            "INSERT INTO reconciler_firing (dedup_key, alert) VALUES ($1, $2)
             ON CONFLICT (dedup_key) DO UPDATE SET alert = EXCLUDED.alert, updated_at = now()",
            key,
            alert
        )
        .execute(&mut *tx)
        .await?;
    }
    for m in &run.outbox {
        sqlx::query!(
            "INSERT INTO reconciler_outbox (sink, dedup_key, transition, alert) VALUES ($1, $2, $3, $4)",
            &m.sink,
            &m.dedup_key,
            &m.transition,
            &m.alert
        )
        .execute(&mut *tx)
        .await?;
    }
    for c in &run.cursors {
        sqlx::query!(
            "INSERT INTO reconciler_log_cursors (chain_id, contract, block_number) VALUES ($1, $2, $3)
             ON CONFLICT (chain_id, contract) DO UPDATE
                SET block_number = GREATEST(reconciler_log_cursors.block_number, EXCLUDED.block_number),
                    updated_at = now()",
            c.chain_id as i64,
            c.contract.as_slice(),
            c.block as i64
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!("UPDATE reconciler_runs SET finished_at = now() WHERE id = $1", run_id).execute(&mut *tx).await?;
    Ok(run_id)
}

/// The last block whose admin events the reconciler has read for `contract` on `chain_id`; `None` before its first
/// run there.
pub async fn log_cursor(pool: &PgPool, chain_id: u64, contract: Address) -> Result<Option<u64>, sqlx::Error> {
    let block = sqlx::query_scalar!(
        "SELECT block_number FROM reconciler_log_cursors WHERE chain_id = $1 AND contract = $2",
        chain_id as i64,
        contract.as_slice()
    )
    .fetch_optional(pool)
    .await?;
    Ok(block.map(|b| b as u64))
}

/// Which of `keys` have ever fired: firing now, or ever queued to a sink as a fire (whether or not a sink took it).
pub async fn ever_fired(pool: &PgPool, keys: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT dedup_key AS "dedup_key!" FROM reconciler_firing WHERE dedup_key = ANY($1)
           UNION
           SELECT dedup_key FROM reconciler_outbox WHERE dedup_key = ANY($1) AND transition = 'fire'"#,
        keys
    )
    .fetch_all(pool)
    .await
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
    let row = sqlx::query!(
        r#"SELECT id, dedup_key, transition, alert, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "at!"
           FROM reconciler_outbox o
          WHERE sink = $1 AND sent_at IS NULL AND dedup_key <> ALL($2)
            AND NOT EXISTS (SELECT 1 FROM reconciler_outbox p
                             WHERE p.sink = o.sink AND p.dedup_key = o.dedup_key
                               AND p.sent_at IS NULL AND p.id < o.id)
          ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"#,
        sink,
        blocked
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| Owed {
        id: r.id,
        message: OutboxMessage {
            sink: sink.to_owned(),
            dedup_key: r.dedup_key,
            transition: r.transition,
            alert: r.alert,
        },
        at: r.at,
    }))
}

/// Message `id` was delivered.
pub async fn sent(tx: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE reconciler_outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = $1", id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Message `id` was refused with `error`; it stays owed.
pub async fn refused(tx: &mut PgConnection, id: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE reconciler_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1", id, error)
        .execute(tx)
        .await?;
    Ok(())
}

/// Unsent messages for `sink` with a key in `keys`.
pub async fn unsent(pool: &PgPool, sink: &str, keys: &[String]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM reconciler_outbox WHERE sink = $1 AND sent_at IS NULL AND dedup_key = ANY($2)"#,
        sink,
        keys
    )
    .fetch_one(pool)
    .await
}

/// The latest result of every asset, figures in whole units: (asset id, symbol, when (unix seconds), variance,
/// solvency margin).
pub async fn latest_results(pool: &PgPool) -> Result<Vec<(i32, String, f64, f64, f64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT a.id, a.symbol, extract(epoch FROM r.at)::float8 AS "at!",
                (r.variance / 10::numeric ^ a.decimals)::float8 AS "variance!",
                (r.solvency_margin / 10::numeric ^ a.decimals)::float8 AS "margin!"
         FROM assets a
         JOIN LATERAL (SELECT at, variance, solvency_margin FROM reconciler_results r
                       WHERE r.chain_id = a.chain_id AND r.token = a.token ORDER BY r.run_id DESC LIMIT 1) r ON true
         ORDER BY a.id"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.symbol, r.at, r.variance, r.margin)).collect())
}

/// Alerts firing now per check: (check, count), for the checks that have some.
pub async fn firing_by_check(pool: &PgPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows =
        sqlx::query!(r#"SELECT alert->>'check' AS "check!", count(*) AS "n!" FROM reconciler_firing GROUP BY 1"#)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|r| (r.check, r.n)).collect())
}

/// Reconciliation runs recorded since the last one that compared custody on `chain_id` (every run, when none ever
/// did): how long the chain's custody has gone unchecked.
pub async fn runs_since_compared(pool: &PgPool, chain_id: u64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM reconciler_runs
            WHERE id > COALESCE((SELECT max(run_id) FROM reconciler_results WHERE chain_id = $1), 0)"#,
        chain_id as i64
    )
    .fetch_one(pool)
    .await
}
