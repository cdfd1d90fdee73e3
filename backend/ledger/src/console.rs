//! What the admin console reads and acknowledges (the API's `/v1/admin` logs): the audit log, an asset's plan
//! versions, alerts, quarantined events with their refunds, and users' withdraw requests. Pages are keyset pages,
//! newest first; times are RFC 3339 in UTC.

use serde_json::Value;
use sqlx::PgPool;

use crate::audit::{self, AuditEntry};
use crate::money::Money;

/// A row of the audit log.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// Its id (the page cursor).
    pub id: i64,
    /// Who acted.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// The asset concerned.
    pub asset_id: Option<i32>,
    /// What it was done to.
    pub target: Option<String>,
    /// The state before.
    pub before: Option<Value>,
    /// The state after.
    pub after: Option<Value>,
    /// The asset's ledger position when it took effect.
    pub applied_events: Option<i64>,
    /// When.
    pub created_at: String,
}

/// Which audit rows a page holds: each filter `None` lets every row through.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter<'a> {
    /// Only this action.
    pub action: Option<&'a str>,
    /// Only this actor (a wallet compared case-insensitively, or a service's name).
    pub actor: Option<&'a str>,
    /// `Some(true)`: only people's actions (a staff wallet acted); `Some(false)`: only the services'.
    pub people: Option<bool>,
}

/// Up to `limit` audit rows with an id below `before` that `filter` lets through, newest first.
pub async fn audit_log(
    db: &PgPool,
    before: i64,
    limit: i64,
    filter: AuditFilter<'_>,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as!(
        AuditRow,
        r#"SELECT id, actor, action, asset_id, target, before, after, applied_events,
                rfc3339(created_at) AS "created_at!"
         FROM audit_logs
         WHERE id < $1
           AND ($3::text IS NULL OR action = $3)
           AND ($4::text IS NULL OR lower(actor) = lower($4))
           AND ($5::bool IS NULL OR (actor ~ '^0x[0-9a-fA-F]{40}$') = $5)
         ORDER BY id DESC LIMIT $2"#,
        before,
        limit,
        filter.action,
        filter.actor,
        filter.people
    )
    .fetch_all(db)
    .await
}

/// Every action in the audit log, with how many rows it has, of people's actions only (`Some(true)`), the services'
/// (`Some(false)`) or everyone's; most frequent first.
pub async fn audit_actions(db: &PgPool, people: Option<bool>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT action, count(*) AS "count!" FROM audit_logs
           WHERE ($1::bool IS NULL OR (actor ~ '^0x[0-9a-fA-F]{40}$') = $1)
           GROUP BY action ORDER BY count(*) DESC, action"#,
        people
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.action, r.count)).collect())
}

/// A plan version as stored.
#[derive(Debug, Clone)]
pub struct PlanVersionRow {
    /// Its number, 1 first.
    pub version: i32,
    /// First block it governs.
    pub effective_from_block: i64,
    /// The parameters as stored (amounts as decimal strings).
    pub params: Value,
    /// When it was added.
    pub created_at: String,
}

/// Every plan version of `asset_id`, oldest first (empty for an unknown asset).
pub async fn plan_versions(db: &PgPool, asset_id: i32) -> Result<Vec<PlanVersionRow>, sqlx::Error> {
    sqlx::query_as!(
        PlanVersionRow,
        r#"SELECT version, effective_from_block, params, rfc3339(created_at) AS "created_at!"
         FROM plan_versions WHERE asset_id = $1 ORDER BY version"#,
        asset_id
    )
    .fetch_all(db)
    .await
}

/// An alert as stored.
#[derive(Debug, Clone)]
pub struct AlertRow {
    /// Its id (the page cursor).
    pub id: i64,
    /// What kind of trouble.
    pub kind: String,
    /// What happened, for people.
    pub message: String,
    /// The figures behind it.
    pub details: Value,
    /// When it was raised.
    pub created_at: String,
    /// When an admin acknowledged it.
    pub acknowledged_at: Option<String>,
}

/// Up to `limit` alerts with an id below `before`, newest first: the open ones, or every one with `all`.
pub async fn alerts(db: &PgPool, before: i64, all: bool, limit: i64) -> Result<Vec<AlertRow>, sqlx::Error> {
    sqlx::query_as!(
        AlertRow,
        r#"SELECT id, kind, message, details, rfc3339(created_at) AS "created_at!",
                rfc3339(acknowledged_at) AS acknowledged_at
         FROM alerts WHERE id < $1 AND ($2 OR acknowledged_at IS NULL) ORDER BY id DESC LIMIT $3"#,
        before,
        all,
        limit
    )
    .fetch_all(db)
    .await
}

/// Why an alert was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum AckRefusal {
    /// No alert has that id.
    #[error("no such alert")]
    Unknown,
    /// It was acknowledged before.
    #[error("nothing to do: already acknowledged")]
    Already,
    /// The database failed; nothing changed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Acknowledges open alert `id` as `actor`, audited in the same transaction; returns when.
pub async fn acknowledge_alert(db: &PgPool, id: i64, actor: &str) -> Result<String, AckRefusal> {
    let mut tx = db.begin().await?;
    let row = sqlx::query!(
        r#"SELECT kind, message, acknowledged_at IS NOT NULL AS "acknowledged!" FROM alerts WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or(AckRefusal::Unknown)?;
    let (kind, message) = (row.kind, row.message);
    if row.acknowledged {
        return Err(AckRefusal::Already);
    }
    let at = sqlx::query_scalar!(
        r#"UPDATE alerts SET acknowledged_at = now() WHERE id = $1
           RETURNING rfc3339(acknowledged_at) AS "at!""#,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    let target = format!("alert {id}");
    let entry = AuditEntry {
        actor,
        action: "ack_alert",
        target: &target,
        asset_id: None,
        before: Some(serde_json::json!({ "kind": kind, "message": message, "acknowledged_at": null })),
        after: serde_json::json!({ "acknowledged_at": at.clone() }),
    };
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(at)
}

/// A quarantined event, with its newest refund.
#[derive(Debug, Clone)]
pub struct QuarantineRow {
    /// The event's chain.
    pub chain_id: i64,
    /// Its transaction.
    pub tx_hash: Vec<u8>,
    /// Its log index.
    pub log_index: i64,
    /// Its block.
    pub block: i64,
    /// The asset it paid into, when its token is one.
    pub asset_id: Option<i32>,
    /// Why it was quarantined (a code).
    pub reason_code: String,
    /// Why, for people.
    pub reason: String,
    /// The event as decoded.
    pub payload: Value,
    /// When it was quarantined.
    pub created_at: String,
    /// Whether a refund may be signed for it now (as [`crate::treasury::refund`] decides it again under lock).
    pub refundable: bool,
    /// Its newest refund (one not expired first): transfer id, status and execution block.
    pub refund: Option<(i64, String, Option<i64>)>,
    /// When it was resolved.
    pub resolved_at: Option<String>,
}

/// Up to `limit` quarantined events before position `(block, log_index, chain_id)`, newest first: the unresolved
/// ones, or every one with `all`.
pub async fn quarantined(
    db: &PgPool,
    before: (i64, i64, i64),
    all: bool,
    limit: i64,
) -> Result<Vec<QuarantineRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT q.chain_id, q.tx_hash, q.log_index, c.block_number, q.asset_id, q.reason_code, q.reason, q.payload,
                rfc3339(q.created_at) AS "created_at!",
                c.name IN ('Registered', 'Retopped') AND q.asset_id IS NOT NULL AND q.reason_code = ANY($6)
                    AND q.resolved_at IS NULL AND (r.status IS NULL OR r.status IN ('expired', 'rejected'))
                    AS "refundable!",
                r.id AS "refund_id?", r.status AS "refund_status?", r.executed_block AS "refund_block?",
                rfc3339(q.resolved_at) AS resolved_at
         FROM quarantine q JOIN chain_events c USING (chain_id, tx_hash, log_index)
         LEFT JOIN LATERAL (
             SELECT t.id, t.status, t.executed_block FROM treasury_transfers t
             WHERE t.refund_chain_id = q.chain_id AND t.refund_tx_hash = q.tx_hash AND t.refund_log_index = q.log_index
             ORDER BY (t.status IN ('expired', 'rejected')), t.id DESC LIMIT 1) r ON true
         WHERE ($5 OR q.resolved_at IS NULL) AND (c.block_number, q.log_index, q.chain_id) < ($1, $2, $3)
         ORDER BY c.block_number DESC, q.log_index DESC, q.chain_id DESC LIMIT $4"#,
        before.0,
        before.1,
        before.2,
        limit,
        all,
        &crate::treasury::REFUNDABLE_CODES.map(str::to_owned)[..]
    )
    .fetch_all(db)
    .await?;
    let rows = rows.into_iter().map(|row| QuarantineRow {
        chain_id: row.chain_id,
        tx_hash: row.tx_hash,
        log_index: row.log_index,
        block: row.block_number,
        asset_id: row.asset_id,
        reason_code: row.reason_code,
        reason: row.reason,
        payload: row.payload,
        created_at: row.created_at,
        refundable: row.refundable,
        refund: row.refund_id.zip(row.refund_status).map(|(id, status)| (id, status, row.refund_block)),
        resolved_at: row.resolved_at,
    });
    Ok(rows.collect())
}

/// A user's withdraw request, with the user's pending balance now.
#[derive(Debug, Clone)]
pub struct WithdrawRow {
    /// Its id (the page cursor).
    pub id: i64,
    /// The asset.
    pub asset_id: i32,
    /// The user's number.
    pub user_no: i32,
    /// The user's wallet (20 bytes).
    pub address: Vec<u8>,
    /// The asset's chain.
    pub chain_id: u64,
    /// Pending balance when requested.
    pub amount: Money,
    /// Pending balance now.
    pub pending_now: Money,
    /// `open`, `batched` or `cancelled`.
    pub status: String,
    /// When it was made.
    pub created_at: String,
}

/// Up to `limit` withdraw requests with an id below `before`, newest first, optionally of one asset and status.
pub async fn withdraw_requests(
    db: &PgPool,
    asset_id: Option<i32>,
    status: Option<&str>,
    before: i64,
    limit: i64,
) -> Result<Vec<WithdrawRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT w.id, w.asset_id, w.user_no, u.address, w.amount AS "amount: Money", u.pending AS "pending: Money",
                w.status, rfc3339(w.created_at) AS "created_at!", a.chain_id
         FROM withdraw_requests w
         JOIN users u USING (asset_id, user_no)
         JOIN assets a ON a.id = w.asset_id
         WHERE w.id < $1 AND ($2::int4 IS NULL OR w.asset_id = $2) AND ($3::text IS NULL OR w.status = $3)
         ORDER BY w.id DESC LIMIT $4"#,
        before,
        asset_id,
        status,
        limit
    )
    .fetch_all(db)
    .await?;
    let rows = rows.into_iter().map(|r| WithdrawRow {
        id: r.id,
        asset_id: r.asset_id,
        user_no: r.user_no,
        address: r.address,
        chain_id: r.chain_id as u64,
        amount: r.amount,
        pending_now: r.pending,
        status: r.status,
        created_at: r.created_at,
    });
    Ok(rows.collect())
}
