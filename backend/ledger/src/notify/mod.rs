//! The outbox of what members and operators are told (issue 49; migration `0036_notifications`).
//!
//! Notifications are written by database triggers in the transaction of the ledger change that causes them, each
//! with an id derived from its cause, so none is lost or doubled whatever crashes or runs twice. This room reads them
//! for the members' notification centre ([`member_page`], [`unread`], [`mark_read`]), fans them out to their sinks
//! ([`fanout`]) and keeps the sinks' state: the operators' webhook endpoints and their deliveries ([`webhooks`]),
//! the members' e-mail addresses and the e-mails sent ([`contacts`]).

pub mod contacts;
pub mod fanout;
pub mod webhooks;

use serde_json::Value;
use sqlx::PgPool;

/// Every kind of notification, as webhooks name their event types and members choose what they receive by e-mail.
pub const KINDS: &[&str] = &[
    "payment.applied",
    "payment.expired",
    "reward.credited",
    "period.bonus",
    "rank.reached",
    "payout.sent",
    "payout.paid",
    "payout.deferred",
    "account.frozen",
    "account.unfrozen",
    "solvency.committed",
    "exit.opened",
    "member.left",
];

/// Whether `kind` is one of [`KINDS`].
pub fn is_kind(kind: &str) -> bool {
    KINDS.contains(&kind)
}

/// What the centre filters notifications by (issue 66): money moving for the member (payments, rewards, payouts,
/// their leave, the members' exit opening), their account's standing (rank, freezes), and news of the whole asset (a
/// proof of solvency committed, every few minutes: off by default, the latest one said in one line).
pub const GROUPS: &[&str] = &["money", "account", "news"];

/// The groups the centre shows unless asked otherwise.
pub const DEFAULT_GROUPS: &[&str] = &["money", "account"];

/// The group of `kind` (one of [`GROUPS`]).
pub fn group_of(kind: &str) -> &'static str {
    match kind {
        "rank.reached" | "account.frozen" | "account.unfrozen" => "account",
        "solvency.committed" => "news",
        _ => "money",
    }
}

/// Every kind of the groups named.
pub fn kinds_of(groups: &[&str]) -> Vec<String> {
    KINDS.iter().filter(|k| groups.contains(&group_of(k))).map(|k| k.to_string()).collect()
}

/// One notification.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Its id, derived from its cause (the webhook's `webhook-id`, the e-mail's Message-ID).
    pub id: String,
    /// Order of writing (the centre's page cursor).
    pub seq: i64,
    /// One of [`KINDS`].
    pub kind: String,
    /// The asset it is about.
    pub asset_id: i32,
    /// The member it is about; `None` for news of the whole asset.
    pub user_no: Option<i32>,
    /// The member's wallet (`None` for news of the whole asset, and for a member's row before its fan-out).
    pub address: Option<Vec<u8>>,
    /// News of the whole asset (every member of it sees it), not about one member.
    pub news: bool,
    /// Its facts (amounts as decimal strings of base units, hashes as 0x hex).
    pub data: Value,
    /// When it was written, RFC 3339 UTC.
    pub created_at: String,
    /// Whether the member read it (always false where no member is asking).
    pub read: bool,
}

/// The member's notifications of `kinds` (their own and their assets' news), newest first, below `before_seq`.
pub async fn member_page(
    db: &PgPool,
    address: &[u8],
    before_seq: i64,
    unread_only: bool,
    kinds: &[String],
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH mark AS (SELECT coalesce((SELECT through_seq FROM notification_read_marks WHERE address = $1), 0) AS through),
                own AS (SELECT n.*, (n.seq <= (SELECT through FROM mark) OR EXISTS (
                                       SELECT 1 FROM notification_reads r WHERE r.address = $1 AND r.seq = n.seq)) AS read
                          FROM notifications n
                         WHERE n.seq < $2 AND n.kind = ANY($5)
                           AND (n.address = $1
                                OR (n.user_no IS NOT NULL
                                    AND (n.asset_id, n.user_no) IN (SELECT asset_id, user_no FROM users WHERE address = $1)))),
                news AS (SELECT n.*, (n.seq <= (SELECT through FROM mark) OR EXISTS (
                                        SELECT 1 FROM notification_reads r WHERE r.address = $1 AND r.seq = n.seq)) AS read
                           FROM notifications n
                          WHERE n.address IS NULL AND n.user_no IS NULL AND n.seq < $2 AND n.kind = ANY($5)
                            AND n.asset_id IN (SELECT asset_id FROM users WHERE address = $1))
           SELECT id AS "id!", seq AS "seq!", kind AS "kind!", asset_id AS "asset_id!", user_no, address,
                  (user_no IS NULL AND address IS NULL) AS "news!",
                  data AS "data!", rfc3339(created_at) AS "created_at!", read AS "read!"
             FROM ((SELECT * FROM own WHERE NOT ($3 AND read) ORDER BY seq DESC LIMIT $4)
                   UNION ALL
                   (SELECT * FROM news WHERE NOT ($3 AND read) ORDER BY seq DESC LIMIT $4)) v
            ORDER BY seq DESC LIMIT $4"#,
        address,
        before_seq,
        unread_only,
        limit,
        kinds
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Notification {
            id: r.id,
            seq: r.seq,
            kind: r.kind,
            asset_id: r.asset_id,
            user_no: r.user_no,
            address: r.address,
            news: r.news,
            data: r.data,
            created_at: r.created_at,
            read: r.read,
        })
        .collect())
}

/// How many of the member's notifications are unread, per kind (kinds with none left out).
pub async fn unread_by_kind(db: &PgPool, address: &[u8]) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"WITH mark AS (SELECT coalesce((SELECT through_seq FROM notification_read_marks WHERE address = $1), 0) AS through)
           SELECT n.kind AS "kind!", count(*) AS "n!" FROM notifications n
            WHERE n.seq > (SELECT through FROM mark)
              AND (n.address = $1
                   OR (n.user_no IS NOT NULL
                       AND (n.asset_id, n.user_no) IN (SELECT asset_id, user_no FROM users WHERE address = $1))
                   OR (n.address IS NULL AND n.user_no IS NULL
                       AND n.asset_id IN (SELECT asset_id FROM users WHERE address = $1)))
              AND NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.address = $1 AND r.seq = n.seq)
            GROUP BY n.kind ORDER BY n.kind"#,
        address
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.n)).collect())
}

/// The newest news of each of the member's assets (a proof of solvency committed), whatever was read: the one line
/// the centre shows of news while they are off.
pub async fn latest_news(db: &PgPool, address: &[u8]) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query_as!(
        Notification,
        r#"WITH mark AS (SELECT coalesce((SELECT through_seq FROM notification_read_marks WHERE address = $1), 0) AS through)
           SELECT DISTINCT ON (n.asset_id) n.id, n.seq, n.kind, n.asset_id, NULL::int AS "user_no?", NULL::bytea AS "address?",
                  true AS "news!", n.data, rfc3339(n.created_at) AS "created_at!",
                  (n.seq <= (SELECT through FROM mark) OR EXISTS (
                      SELECT 1 FROM notification_reads r WHERE r.address = $1 AND r.seq = n.seq)) AS "read!"
             FROM notifications n
            WHERE n.address IS NULL AND n.user_no IS NULL AND n.kind = ANY($2)
              AND n.asset_id IN (SELECT asset_id FROM users WHERE address = $1)
            ORDER BY n.asset_id, n.seq DESC"#,
        address,
        &kinds_of(&["news"])
    )
    .fetch_all(db)
    .await
}

/// Marks read the member's notifications among `ids` (others' are ignored), or all of them up to now when `ids` is
/// `None`. Returns how many are still unread, per kind ([`unread_by_kind`]).
pub async fn mark_read(db: &PgPool, address: &[u8], ids: Option<&[String]>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let mut tx = db.begin().await?;
    match ids {
        Some(ids) => {
            sqlx::query!(
                "INSERT INTO notification_reads (address, seq)
                 SELECT $1, n.seq FROM notifications n
                  WHERE n.id = ANY($2)
                    AND (n.address = $1
                         OR (n.user_no IS NOT NULL
                             AND (n.asset_id, n.user_no) IN (SELECT asset_id, user_no FROM users WHERE address = $1))
                         OR (n.address IS NULL AND n.user_no IS NULL
                             AND n.asset_id IN (SELECT asset_id FROM users WHERE address = $1)))
                 ON CONFLICT DO NOTHING",
                address,
                ids
            )
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query!(
                "INSERT INTO notification_read_marks AS m (address, through_seq)
                 VALUES ($1, (SELECT coalesce(max(seq), 0) FROM notifications))
                 ON CONFLICT (address) DO UPDATE SET through_seq = greatest(m.through_seq, excluded.through_seq)",
                address
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!("DELETE FROM notification_reads WHERE address = $1", address).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    unread_by_kind(db, address).await
}

/// The outbox's figures for the metrics: notifications not yet fanned out, deliveries pending and dead per sink.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxDepth {
    /// Notifications whose deliveries are not created yet.
    pub to_fan_out: i64,
    /// The oldest of those, in seconds (0 when none).
    pub oldest_to_fan_out_secs: f64,
    /// Webhook deliveries waiting (first try or a retry).
    pub webhooks_pending: i64,
    /// Webhook deliveries given up (dead letters).
    pub webhooks_dead: i64,
    /// E-mails waiting.
    pub emails_pending: i64,
    /// E-mails given up.
    pub emails_dead: i64,
}

/// Reads [`OutboxDepth`].
pub async fn depth(db: &PgPool) -> Result<OutboxDepth, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM notifications WHERE fanned_out_at IS NULL) AS "to_fan_out!",
             (SELECT coalesce(extract(epoch FROM now() - min(created_at))::float8, 0)
                FROM notifications WHERE fanned_out_at IS NULL) AS "oldest!",
             (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS "wh_pending!",
             (SELECT count(*) FROM webhook_deliveries WHERE status = 'dead') AS "wh_dead!",
             (SELECT count(*) FROM email_deliveries WHERE status = 'pending') AS "em_pending!",
             (SELECT count(*) FROM email_deliveries WHERE status = 'dead') AS "em_dead!""#
    )
    .fetch_one(db)
    .await?;
    Ok(OutboxDepth {
        to_fan_out: r.to_fan_out,
        oldest_to_fan_out_secs: r.oldest,
        webhooks_pending: r.wh_pending,
        webhooks_dead: r.wh_dead,
        emails_pending: r.em_pending,
        emails_dead: r.em_dead,
    })
}

/// An asset's symbol and decimals (to write its amounts).
pub async fn asset_label(db: &PgPool, asset_id: i32) -> Result<(String, i16), sqlx::Error> {
    let r = sqlx::query!("SELECT symbol, decimals FROM assets WHERE id = $1", asset_id).fetch_one(db).await?;
    Ok((r.symbol, r.decimals))
}

/// Payments (register and retopup payloads) of `chain_id` whose deadline passed by `timestamp` — the time of a
/// confirmed block the ledger applied in this transaction — and that no confirmed event used: one `payment.expired`
/// notification each, to the wallet that asked. Each deadline is looked at once (a cursor per chain, moved here).
pub(crate) async fn expire_payments(
    tx: &mut sqlx::PgConnection,
    chain_id: u64,
    timestamp: u64,
) -> Result<u64, sqlx::Error> {
    let now = timestamp.min(i64::MAX as u64) as i64;
    let found = sqlx::query_scalar!(
        r#"WITH prev AS (
               SELECT coalesce((SELECT through FROM notify_expiry_cursors WHERE chain_id = $1 FOR UPDATE), -1) AS through),
           found AS (
               INSERT INTO notifications (id, kind, asset_id, address, data)
               SELECT 'payment.expired:' || a.chain_id || ':' || t.nonce::text, 'payment.expired', t.asset_id, t.wallet,
                      jsonb_build_object('payment', CASE t.kind WHEN 'register' THEN 'registration' ELSE 'retopup' END,
                                         'amount', t.payload ->> 'amount', 'deadline', t.deadline,
                                         'chain_id', a.chain_id, 'nonce', t.nonce::text)
                 FROM transactions t JOIN assets a ON a.id = t.asset_id AND a.chain_id = $1
                WHERE t.kind IN ('register', 'retopup') AND t.wallet IS NOT NULL
                  AND t.deadline > (SELECT through FROM prev) AND t.deadline < $2
                  AND NOT EXISTS (
                      SELECT 1 FROM chain_events c
                       WHERE c.chain_id = a.chain_id
                         AND c.name = CASE t.kind WHEN 'register' THEN 'Registered' ELSE 'Retopped' END
                         AND uint_text_to_numeric(c.payload ->> 'nonce') = t.nonce)
               ON CONFLICT (id) DO NOTHING RETURNING 1),
           moved AS (
               INSERT INTO notify_expiry_cursors AS k (chain_id, through) VALUES ($1, $2 - 1)
               ON CONFLICT (chain_id) DO UPDATE SET through = greatest(k.through, excluded.through) RETURNING 1)
           SELECT (SELECT count(*) FROM found) + 0 * (SELECT count(*) FROM moved) AS "found!""#,
        chain_id as i64,
        now
    )
    .fetch_one(tx)
    .await?;
    Ok(found as u64)
}
