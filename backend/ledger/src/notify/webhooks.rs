//! The operators' webhook endpoints and their deliveries: endpoints managed by the admin role (audited), deliveries
//! taken by a notifier under a lease (the next attempt's time moves past the lease, so a notifier that dies leaves
//! the delivery to be taken again, with the same id), every attempt logged, retried with backoff until the endpoint
//! has failed for the retry window, then dead — and the endpoint disabled with an alert to the admins.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::audit::{self, AuditEntry};

/// One endpoint as the console shows it (never its secrets).
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its id.
    pub id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The operator's note.
    pub description: String,
    /// The event types it receives; empty: all.
    pub kinds: Vec<String>,
    /// Whether deliveries go to it.
    pub enabled: bool,
    /// Why it was disabled (by an admin, or after persistent failure).
    pub disabled_reason: Option<String>,
    /// Until when the previous secret also signs (a rotation in progress), RFC 3339.
    pub previous_until: Option<String>,
    /// The admin who created it.
    pub created_by: String,
    /// When, RFC 3339.
    pub created_at: String,
    /// Deliveries waiting, and dead ones.
    pub pending: i64,
    /// Deliveries given up on.
    pub dead: i64,
}

macro_rules! endpoint_select {
    ($where:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            Endpoint,
            r#"SELECT e.id, e.url, e.description, e.kinds, e.enabled, e.disabled_reason,
                      CASE WHEN e.previous_until > now() THEN rfc3339(e.previous_until) END AS previous_until,
                      e.created_by, rfc3339(e.created_at) AS "created_at!",
                      (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending') AS "pending!",
                      (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'dead') AS "dead!"
                 FROM webhook_endpoints e "# + $where
            $(, $arg)*
        )
    };
}

/// Every endpoint, oldest first.
pub async fn endpoints(db: &PgPool) -> Result<Vec<Endpoint>, sqlx::Error> {
    endpoint_select!("ORDER BY e.id").fetch_all(db).await
}

/// One endpoint.
pub async fn endpoint(db: &PgPool, id: i64) -> Result<Option<Endpoint>, sqlx::Error> {
    endpoint_select!("WHERE e.id = $1", id).fetch_optional(db).await
}

/// Creates an endpoint with its (sealed) secret; audited.
pub async fn create(
    db: &PgPool,
    actor: &str,
    url: &str,
    description: &str,
    kinds: &[String],
    secret_sealed: &[u8],
) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO webhook_endpoints (url, description, kinds, secret_sealed, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        url,
        description,
        kinds,
        secret_sealed,
        actor
    )
    .fetch_one(&mut *tx)
    .await?;
    let after = json!({ "url": url, "description": description, "kinds": kinds });
    record(&mut tx, actor, "webhook_endpoint_create", id, None, after).await?;
    tx.commit().await?;
    Ok(id)
}

/// What an admin changes of an endpoint (absent: unchanged).
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    /// A new URL.
    pub url: Option<String>,
    /// A new note.
    pub description: Option<String>,
    /// New event types (empty: all).
    pub kinds: Option<Vec<String>>,
    /// Enable or disable; enabling clears the reason it was disabled.
    pub enabled: Option<bool>,
}

/// Changes an endpoint; audited with its state before and after. `None` when there is no such endpoint.
pub async fn change(db: &PgPool, actor: &str, id: i64, change: &EndpointChange) -> Result<Option<()>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let Some(before) =
        sqlx::query!("SELECT url, description, kinds, enabled FROM webhook_endpoints WHERE id = $1 FOR UPDATE", id)
            .fetch_optional(&mut *tx)
            .await?
    else {
        return Ok(None);
    };
    let after = sqlx::query!(
        "UPDATE webhook_endpoints SET url = coalesce($2, url), description = coalesce($3, description),
                kinds = coalesce($4, kinds), enabled = coalesce($5, enabled),
                disabled_reason = CASE WHEN coalesce($5, enabled) THEN NULL
                                       WHEN $5 = false THEN 'disabled by ' || $6 ELSE disabled_reason END
          WHERE id = $1 RETURNING url, description, kinds, enabled",
        id,
        change.url.as_deref(),
        change.description.as_deref(),
        change.kinds.as_deref(),
        change.enabled,
        actor
    )
    .fetch_one(&mut *tx)
    .await?;
    if change.enabled == Some(true) && !before.enabled {
        // Enabled again: what waited (or failed before it was disabled) gets a fresh retry window, at once.
        sqlx::query!(
            "UPDATE webhook_deliveries SET first_attempt_at = NULL, next_attempt_at = now()
              WHERE endpoint_id = $1 AND status = 'pending'",
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    let before = json!({ "url": before.url, "description": before.description, "kinds": before.kinds,
                         "enabled": before.enabled });
    let after = json!({ "url": after.url, "description": after.description, "kinds": after.kinds,
                        "enabled": after.enabled });
    record(&mut tx, actor, "webhook_endpoint_change", id, Some(before), after).await?;
    tx.commit().await?;
    Ok(Some(()))
}

/// Rotates an endpoint's secret: the new one signs from now on, the current one with it until `overlap_secs` from
/// now (receivers switch in that window). Audited (never the secrets). `None` when there is no such endpoint.
pub async fn rotate(
    db: &PgPool,
    actor: &str,
    id: i64,
    new_sealed: &[u8],
    overlap_secs: i64,
) -> Result<Option<String>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let until = sqlx::query_scalar!(
        r#"UPDATE webhook_endpoints SET previous_sealed = secret_sealed, secret_sealed = $2,
                previous_until = now() + make_interval(secs => $3)
          WHERE id = $1 RETURNING rfc3339(previous_until) AS "until!""#,
        id,
        new_sealed,
        overlap_secs as f64
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(until) = until else { return Ok(None) };
    record(&mut tx, actor, "webhook_secret_rotate", id, None, json!({ "previous_valid_until": until })).await?;
    tx.commit().await?;
    Ok(Some(until))
}

async fn record(
    conn: &mut sqlx::PgConnection,
    actor: &str,
    action: &str,
    id: i64,
    before: Option<Value>,
    after: Value,
) -> Result<(), sqlx::Error> {
    let target = format!("webhook_endpoint:{id}");
    audit::record(conn, AuditEntry { actor, action, target: &target, asset_id: None, before, after }).await
}

/// A delivery a notifier took: the notification, the endpoint and its sealed secrets.
#[derive(Debug, Clone)]
pub struct DueWebhook {
    /// The notification's id (the `webhook-id`).
    pub notification_id: String,
    /// Its kind (the payload's `type`).
    pub kind: String,
    /// When it was written (the payload's `timestamp`), RFC 3339.
    pub created_at: String,
    /// Its asset.
    pub asset_id: i32,
    /// The member, if any.
    pub user_no: Option<i32>,
    /// The member's wallet, if any.
    pub address: Option<Vec<u8>>,
    /// Its facts.
    pub data: Value,
    /// The endpoint.
    pub endpoint_id: i64,
    /// Its URL.
    pub url: String,
    /// Its secret, sealed.
    pub secret_sealed: Vec<u8>,
    /// The previous secret while a rotation's overlap lasts.
    pub previous_sealed: Option<Vec<u8>>,
    /// This attempt's number (1 for the first).
    pub attempt: i32,
    /// Seconds since the first attempt (0 on the first).
    pub failing_for_secs: f64,
}

/// Takes up to `limit` due deliveries of enabled endpoints for `lease_secs` (their next attempt moves past it).
pub async fn take_due(db: &PgPool, limit: i64, lease_secs: f64) -> Result<Vec<DueWebhook>, sqlx::Error> {
    sqlx::query_as!(
        DueWebhook,
        r#"WITH due AS (
               SELECT d.notification_id, d.endpoint_id FROM webhook_deliveries d
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
                WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED)
           UPDATE webhook_deliveries d
              SET attempts = d.attempts + 1, first_attempt_at = coalesce(d.first_attempt_at, now()),
                  lease_until = now() + make_interval(secs => $2), next_attempt_at = now() + make_interval(secs => $2)
             FROM due, notifications n, webhook_endpoints e
            WHERE d.notification_id = due.notification_id AND d.endpoint_id = due.endpoint_id
              AND n.id = d.notification_id AND e.id = d.endpoint_id
           RETURNING d.notification_id AS "notification_id!", n.kind AS "kind!", rfc3339(n.created_at) AS "created_at!",
                     n.asset_id AS "asset_id!", n.user_no AS "user_no?", n.address AS "address?", n.data AS "data!",
                     d.endpoint_id AS "endpoint_id!", e.url AS "url!", e.secret_sealed AS "secret_sealed!",
                     CASE WHEN e.previous_until > now() THEN e.previous_sealed END AS previous_sealed,
                     d.attempts AS "attempt!",
                     extract(epoch FROM now() - coalesce(d.first_attempt_at, now()))::float8 AS "failing_for_secs!""#,
        limit,
        lease_secs
    )
    .fetch_all(db)
    .await
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The HTTP status the endpoint answered, if it answered.
    pub status_code: Option<i32>,
    /// Why it failed (a non-2xx answer, a refused address, a timeout), `None` when delivered.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i32,
}

/// What the delivery does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Delivered: done.
    Delivered,
    /// Failed: tried again after this many seconds.
    RetryIn(f64),
    /// Failed for the whole retry window: dead, and the endpoint is disabled.
    Dead,
}

/// Records an attempt and what follows it, in one transaction; a dead delivery disables its endpoint and raises an
/// alert (once: an endpoint already disabled raises none).
pub async fn record_attempt(
    db: &PgPool,
    notification_id: &str,
    endpoint_id: i64,
    result: &AttemptResult,
    next: Next,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query!(
        "INSERT INTO webhook_attempts (notification_id, endpoint_id, status_code, error, duration_ms)
         VALUES ($1, $2, $3, $4, $5)",
        notification_id,
        endpoint_id,
        result.status_code,
        result.error.as_deref(),
        result.duration_ms
    )
    .execute(&mut *tx)
    .await?;
    let (status, retry_in) = match next {
        Next::Delivered => ("delivered", 0.0),
        Next::RetryIn(secs) => ("pending", secs),
        Next::Dead => ("dead", 0.0),
    };
    sqlx::query!(
        "UPDATE webhook_deliveries SET status = $3, last_error = $4, lease_until = NULL,
                delivered_at = CASE WHEN $3 = 'delivered' THEN now() END,
                next_attempt_at = now() + make_interval(secs => $5)
          WHERE notification_id = $1 AND endpoint_id = $2",
        notification_id,
        endpoint_id,
        status,
        result.error.as_deref(),
        retry_in
    )
    .execute(&mut *tx)
    .await?;
    if next == Next::Dead {
        let disabled = sqlx::query_scalar!(
            "UPDATE webhook_endpoints SET enabled = false,
                    disabled_reason = 'persistent failure: ' || left(coalesce($2, 'no answer'), 200)
              WHERE id = $1 AND enabled RETURNING url",
            endpoint_id,
            result.error.as_deref()
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(url) = disabled {
            sqlx::query!(
                "INSERT INTO alerts (kind, message, details) VALUES ('webhook_endpoint_disabled', $1, $2)",
                format!("webhook endpoint {endpoint_id} ({url}) was disabled after failing for the whole retry window"),
                json!({ "endpoint_id": endpoint_id, "url": url, "notification_id": notification_id,
                        "error": result.error })
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

/// One delivery in an endpoint's log.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The notification's id (the `webhook-id`).
    pub notification_id: String,
    /// Its kind.
    pub kind: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was delivered, RFC 3339.
    pub delivered_at: Option<String>,
    /// When the next attempt is due (pending ones), RFC 3339.
    pub next_attempt_at: Option<String>,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// The page cursor (the notification's seq).
    pub seq: i64,
}

/// An endpoint's deliveries, newest first, below `before_seq`.
pub async fn deliveries(
    db: &PgPool,
    endpoint_id: i64,
    before_seq: i64,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    sqlx::query_as!(
        Delivery,
        r#"SELECT d.notification_id, n.kind, d.status, d.attempts, d.last_error,
                  rfc3339(d.delivered_at) AS delivered_at,
                  CASE WHEN d.status = 'pending' THEN rfc3339(d.next_attempt_at) END AS next_attempt_at,
                  rfc3339(d.created_at) AS "created_at!", n.seq
             FROM webhook_deliveries d JOIN notifications n ON n.id = d.notification_id
            WHERE d.endpoint_id = $1 AND n.seq < $2
            ORDER BY n.seq DESC LIMIT $3"#,
        endpoint_id,
        before_seq,
        limit
    )
    .fetch_all(db)
    .await
}

/// One attempt of a delivery.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When, RFC 3339.
    pub at: String,
    /// The HTTP status answered, if any.
    pub status_code: Option<i32>,
    /// Why it failed.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i32,
}

/// A delivery's attempts, oldest first (at most the last 100).
pub async fn attempts(db: &PgPool, notification_id: &str, endpoint_id: i64) -> Result<Vec<Attempt>, sqlx::Error> {
    sqlx::query_as!(
        Attempt,
        r#"SELECT rfc3339(at) AS "at!", status_code, error, duration_ms FROM (
               SELECT * FROM webhook_attempts WHERE notification_id = $1 AND endpoint_id = $2
                ORDER BY id DESC LIMIT 100) a ORDER BY id"#,
        notification_id,
        endpoint_id
    )
    .fetch_all(db)
    .await
}

/// Sends a delivery again (a replay): pending now, with a fresh retry window, under the same id. Audited. `None`
/// when there is no such delivery.
pub async fn replay(
    db: &PgPool,
    actor: &str,
    notification_id: &str,
    endpoint_id: i64,
) -> Result<Option<()>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let before = sqlx::query_scalar!(
        "UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), first_attempt_at = NULL,
                lease_until = NULL
           FROM webhook_deliveries old
          WHERE d.notification_id = $1 AND d.endpoint_id = $2
            AND old.notification_id = d.notification_id AND old.endpoint_id = d.endpoint_id
          RETURNING old.status",
        notification_id,
        endpoint_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(before) = before else { return Ok(None) };
    let after = json!({ "notification_id": notification_id, "status": "pending" });
    let before = json!({ "notification_id": notification_id, "status": before });
    record(&mut tx, actor, "webhook_replay", endpoint_id, Some(before), after).await?;
    tx.commit().await?;
    Ok(Some(()))
}
