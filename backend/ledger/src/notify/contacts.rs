//! Members' e-mail addresses (opt-in, double opt-in) and the e-mails sent to them. The address is the only personal
//! data kept: sealed by the caller (the ledger never sees it in the clear), shown masked, erased on request. A
//! pending e-mail is checked against the contact when it is sent: one whose address was erased, changed (not
//! confirmed yet), unsubscribed or no longer wants its kind is cancelled, never sent.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::audit::{self, AuditEntry};

/// A member's contact, as stored.
#[derive(Debug, Clone)]
pub struct Contact {
    /// The address, sealed.
    pub email_sealed: Vec<u8>,
    /// The address masked (`a•••e@e•••.test`).
    pub email_masked: String,
    /// The language of the messages (a catalogue's code).
    pub language: String,
    /// The kinds of notification sent by e-mail.
    pub kinds: Vec<String>,
    /// The nonce the links' MACs cover (replaced at each new address).
    pub token_nonce: Vec<u8>,
    /// When the member last set the address, RFC 3339.
    pub requested_at: String,
    /// When they confirmed it (from the link), RFC 3339.
    pub confirmed_at: Option<String>,
    /// When they unsubscribed (from a message's link), RFC 3339.
    pub unsubscribed_at: Option<String>,
}

/// The member's contact.
pub async fn get(db: &PgPool, address: &[u8]) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as!(
        Contact,
        r#"SELECT email_sealed, email_masked, language, kinds, token_nonce, rfc3339(requested_at) AS "requested_at!",
                  rfc3339(confirmed_at) AS confirmed_at, rfc3339(unsubscribed_at) AS unsubscribed_at
             FROM member_contacts WHERE address = $1"#,
        address
    )
    .fetch_optional(db)
    .await
}

/// How many confirmation e-mails a wallet, and an address (by its keyed digest), may ask for within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmationLimits {
    /// Per wallet.
    pub per_wallet: u32,
    /// Per address, whichever wallets ask.
    pub per_address: u32,
    /// The window, in seconds.
    pub window_secs: u64,
}

/// What [`set_address`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAddress {
    /// The address is set and its confirmation e-mail queued under this id.
    Queued(String),
    /// Refused by a limit (nothing changed, nothing queued): the wallet's (`by_wallet`) or the address's.
    Limited {
        /// The wallet's limit (else the address's).
        by_wallet: bool,
    },
}

/// A new address for the member (or the same one again): unconfirmed until its link is followed, with a new nonce
/// (earlier links die) and its confirmation e-mail queued in the same transaction — unless the wallet or the address
/// (`email_digest`, a keyed digest of it) has asked for `limits` confirmations within the window already: then
/// nothing changes.
#[allow(clippy::too_many_arguments)]
pub async fn set_address(
    db: &PgPool,
    address: &[u8],
    email_sealed: &[u8],
    email_masked: &str,
    email_digest: &[u8],
    language: &str,
    kinds: &[String],
    token_nonce: &[u8],
    limits: ConfirmationLimits,
) -> Result<SetAddress, sqlx::Error> {
    let mut tx = db.begin().await?;
    let window = i64::try_from(limits.window_secs).unwrap_or(i64::MAX).max(1) as f64;
    // One request of a wallet, and of an address, counted at a time (the wallet's lock first, always).
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('email-confirm-wallet:' || encode($1, 'hex'), 0)),
                pg_advisory_xact_lock(hashtextextended('email-confirm-address:' || encode($2, 'hex'), 0))",
        address,
        email_digest
    )
    .execute(&mut *tx)
    .await?;
    let counted = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM email_confirmation_requests
                    WHERE address = $1 AND requested_at > now() - make_interval(secs => $3)) AS "by_wallet!",
                  (SELECT count(*) FROM email_confirmation_requests
                    WHERE email_digest = $2 AND requested_at > now() - make_interval(secs => $3)) AS "by_address!""#,
        address,
        email_digest,
        window
    )
    .fetch_one(&mut *tx)
    .await?;
    if counted.by_wallet >= i64::from(limits.per_wallet) || counted.by_address >= i64::from(limits.per_address) {
        tx.rollback().await?;
        return Ok(SetAddress::Limited { by_wallet: counted.by_wallet >= i64::from(limits.per_wallet) });
    }
    sqlx::query!(
        "INSERT INTO email_confirmation_requests (address, email_digest) VALUES ($1, $2)",
        address,
        email_digest
    )
    .execute(&mut *tx)
    .await?;
    // What left every window long ago goes, a bounded number at a time.
    sqlx::query!(
        "DELETE FROM email_confirmation_requests WHERE id IN (
             SELECT id FROM email_confirmation_requests
              WHERE requested_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 100)",
        2.0 * window
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO member_contacts (address, email_sealed, email_masked, language, kinds, token_nonce)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (address) DO UPDATE SET email_sealed = excluded.email_sealed, email_masked = excluded.email_masked,
             language = excluded.language, kinds = excluded.kinds, token_nonce = excluded.token_nonce,
             requested_at = now(), confirmed_at = NULL, unsubscribed_at = NULL",
        address,
        email_sealed,
        email_masked,
        language,
        kinds,
        token_nonce
    )
    .execute(&mut *tx)
    .await?;
    let id = format!("confirm:{}:{}", alloy::hex::encode(address), alloy::hex::encode(token_nonce));
    sqlx::query!(
        "UPDATE email_deliveries SET status = 'cancelled', last_error = 'a newer address was set'
          WHERE address = $1 AND purpose = 'confirm' AND status = 'pending'",
        address
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("INSERT INTO email_deliveries (id, address, purpose) VALUES ($1, $2, 'confirm')", id, address)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(SetAddress::Queued(id))
}

/// Changes what the member receives and in which language (no new confirmation). False when they have no contact.
pub async fn set_preferences(
    db: &PgPool,
    address: &[u8],
    language: &str,
    kinds: &[String],
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE member_contacts SET language = $2, kinds = $3, unsubscribed_at = NULL WHERE address = $1",
        address,
        language,
        kinds
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirms the address the link with `token_nonce` was sent for. False when that is not the member's current
/// address (changed or erased since): the link is dead.
pub async fn confirm(db: &PgPool, address: &[u8], token_nonce: &[u8]) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE member_contacts SET confirmed_at = coalesce(confirmed_at, now()), unsubscribed_at = NULL
          WHERE address = $1 AND token_nonce = $2",
        address,
        token_nonce
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Unsubscribes the address the link with `token_nonce` was sent for (no e-mail is sent to it any more; pending ones
/// are cancelled). False when that is not the member's current address.
pub async fn unsubscribe(db: &PgPool, address: &[u8], token_nonce: &[u8]) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query!(
        "UPDATE member_contacts SET unsubscribed_at = coalesce(unsubscribed_at, now())
          WHERE address = $1 AND token_nonce = $2",
        address,
        token_nonce
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        cancel_pending(&mut tx, address, "unsubscribed").await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// Erases the member's address (the row deleted, pending e-mails cancelled) and audits that it was erased — by whom
/// and when, never what it was. False when there was none.
pub async fn erase(db: &PgPool, address: &[u8], actor: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let erased = sqlx::query_scalar!(
        "DELETE FROM member_contacts WHERE address = $1 RETURNING confirmed_at IS NOT NULL",
        address
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(was_confirmed) = erased else { return Ok(false) };
    cancel_pending(&mut tx, address, "the address was erased").await?;
    let target = format!("member:0x{}", alloy::hex::encode(address));
    let after = json!({ "email": "erased", "was_confirmed": was_confirmed });
    audit::record(
        &mut tx,
        AuditEntry { actor, action: "email_erase", target: &target, asset_id: None, before: None, after },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

async fn cancel_pending(tx: &mut sqlx::PgConnection, address: &[u8], why: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE email_deliveries SET status = 'cancelled', last_error = $2 WHERE address = $1 AND status = 'pending'",
        address,
        why
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// An e-mail a notifier took, with what it needs to write it.
#[derive(Debug, Clone)]
pub struct DueEmail {
    /// The delivery's id (the Message-ID's left part).
    pub id: String,
    /// `notification` or `confirm`.
    pub purpose: String,
    /// The member's wallet.
    pub address: Vec<u8>,
    /// The notification's kind, facts, asset and time (notification e-mails).
    pub kind: Option<String>,
    /// Its facts.
    pub data: Option<Value>,
    /// Its asset.
    pub asset_id: Option<i32>,
    /// When it was written, RFC 3339.
    pub created_at: Option<String>,
    /// The contact now (`None`: erased since).
    pub email_sealed: Option<Vec<u8>>,
    /// Its language.
    pub language: Option<String>,
    /// Its kinds.
    pub kinds: Option<Vec<String>>,
    /// Its links' nonce.
    pub token_nonce: Option<Vec<u8>>,
    /// Whether it is confirmed.
    pub confirmed: Option<bool>,
    /// Whether it unsubscribed.
    pub unsubscribed: Option<bool>,
    /// This attempt's number.
    pub attempt: i32,
}

/// Takes up to `limit` due e-mails for `lease_secs`.
pub async fn take_due(db: &PgPool, limit: i64, lease_secs: f64) -> Result<Vec<DueEmail>, sqlx::Error> {
    sqlx::query_as!(
        DueEmail,
        r#"WITH due AS (
               SELECT id FROM email_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),
           taken AS (
               UPDATE email_deliveries d SET attempts = d.attempts + 1,
                      lease_until = now() + make_interval(secs => $2), next_attempt_at = now() + make_interval(secs => $2)
                 FROM due WHERE d.id = due.id
               RETURNING d.id, d.purpose, d.address, d.notification_id, d.attempts)
           SELECT t.id AS "id!", t.purpose AS "purpose!", t.address AS "address!", n.kind AS "kind?",
                  n.data AS "data?", n.asset_id AS "asset_id?", rfc3339(n.created_at) AS "created_at?",
                  c.email_sealed AS "email_sealed?", c.language AS "language?", c.kinds AS "kinds?",
                  c.token_nonce AS "token_nonce?", (c.confirmed_at IS NOT NULL) AS "confirmed?",
                  (c.unsubscribed_at IS NOT NULL) AS "unsubscribed?", t.attempts AS "attempt!"
             FROM taken t
             LEFT JOIN notifications n ON n.id = t.notification_id
             LEFT JOIN member_contacts c ON c.address = t.address"#,
        limit,
        lease_secs
    )
    .fetch_all(db)
    .await
}

/// What became of an e-mail.
#[derive(Debug, Clone, PartialEq)]
pub enum EmailNext {
    /// The SMTP server took it.
    Sent,
    /// Failed; tried again after this many seconds.
    RetryIn(f64, String),
    /// Failed for good (refused permanently, or past the retry window).
    Dead(String),
    /// Not to be sent any more (erased, unsubscribed, the kind no longer wanted).
    Cancelled(String),
}

/// Records what became of an e-mail.
pub async fn record_email(db: &PgPool, id: &str, next: &EmailNext) -> Result<(), sqlx::Error> {
    let (status, retry, error) = match next {
        EmailNext::Sent => ("sent", 0.0, None),
        EmailNext::RetryIn(secs, e) => ("pending", *secs, Some(e.as_str())),
        EmailNext::Dead(e) => ("dead", 0.0, Some(e.as_str())),
        EmailNext::Cancelled(e) => ("cancelled", 0.0, Some(e.as_str())),
    };
    sqlx::query!(
        "UPDATE email_deliveries SET status = $2, last_error = $3, lease_until = NULL,
                sent_at = CASE WHEN $2 = 'sent' THEN now() END, next_attempt_at = now() + make_interval(secs => $4)
          WHERE id = $1",
        id,
        status,
        error,
        retry
    )
    .execute(db)
    .await?;
    Ok(())
}
