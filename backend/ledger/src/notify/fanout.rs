//! Fan-out: each new notification becomes one delivery row per sink that wants it — every webhook endpoint
//! subscribed to its kind (a disabled one too: its deliveries wait, and go once it is enabled again, so an outage
//! loses nothing), and the confirmed, subscribed e-mail address of the member it is about (of every member of
//! the asset for the asset's news) that chose its kind. A member's wallet missing from the row (a reward's: the
//! trigger on the hot path joins nothing) is filled in here. One statement per round: the deliveries and the mark that
//! the notification was fanned out commit together, and `SKIP LOCKED` keeps concurrent notifiers apart.

use sqlx::PgPool;

/// What one round of fan-out did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FannedOut {
    /// Notifications fanned out.
    pub notifications: i64,
    /// Webhook deliveries created.
    pub webhooks: i64,
    /// E-mails queued.
    pub emails: i64,
}

/// Fans out up to `limit` notifications, oldest first.
pub async fn fan_out(db: &PgPool, limit: i64) -> Result<FannedOut, sqlx::Error> {
    let r = sqlx::query!(
        r#"WITH batch AS (
               SELECT n.id, n.kind, n.asset_id, n.user_no,
                      coalesce(n.address, (SELECT u.address FROM users u
                                            WHERE u.asset_id = n.asset_id AND u.user_no = n.user_no)) AS who
                 FROM notifications n
                WHERE n.fanned_out_at IS NULL ORDER BY n.seq LIMIT $1 FOR UPDATE OF n SKIP LOCKED),
           hooks AS (
               INSERT INTO webhook_deliveries (notification_id, endpoint_id)
               SELECT b.id, e.id FROM batch b
                 JOIN webhook_endpoints e ON cardinality(e.kinds) = 0 OR b.kind = ANY (e.kinds)
               ON CONFLICT DO NOTHING RETURNING 1),
           mails AS (
               INSERT INTO email_deliveries (id, notification_id, address, purpose)
               SELECT b.id || ':' || encode(c.address, 'hex'), b.id, c.address, 'notification' FROM batch b
                 JOIN member_contacts c
                   ON c.confirmed_at IS NOT NULL AND c.unsubscribed_at IS NULL AND b.kind = ANY (c.kinds)
                  AND (c.address = b.who
                       OR (b.who IS NULL AND b.user_no IS NULL
                           AND EXISTS (SELECT 1 FROM users u WHERE u.address = c.address AND u.asset_id = b.asset_id)))
               ON CONFLICT DO NOTHING RETURNING 1),
           marked AS (
               UPDATE notifications n SET fanned_out_at = now(), address = b.who FROM batch b WHERE n.id = b.id
               RETURNING 1)
           SELECT (SELECT count(*) FROM marked) AS "notifications!", (SELECT count(*) FROM hooks) AS "webhooks!",
                  (SELECT count(*) FROM mails) AS "emails!""#,
        limit
    )
    .fetch_one(db)
    .await?;
    Ok(FannedOut { notifications: r.notifications, webhooks: r.webhooks, emails: r.emails })
}
