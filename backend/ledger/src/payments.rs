//! The signed payloads handed to users' wallets (registrations and retopups), and the rule that keeps a wallet
//! from paying twice: while a payload of the wallet's is out — unexpired and not yet seen on chain — asking again
//! gives back that same payload (same nonce), so that at most one of the wallet's payments of that kind can
//! execute. Asking is serialised per (asset, wallet, kind) by a transaction-scoped advisory lock, so two tabs or
//! a double click cannot both get a fresh payload.

use alloy::primitives::{Address, U256};
use sqlx::{PgPool, Postgres, Transaction};

use crate::money::Money;

/// A payment a user makes from their own wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    /// `Settlement.register`: the fee that makes the wallet a user of the asset.
    Register,
    /// `Settlement.retopup`: a further payment of a user.
    Retopup,
}

impl PaymentKind {
    /// The `transactions.kind` value, and the API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::Register => "register",
            PaymentKind::Retopup => "retopup",
        }
    }

    /// The contract event that records such a payment.
    pub fn event(self) -> &'static str {
        match self {
            PaymentKind::Register => "Registered",
            PaymentKind::Retopup => "Retopped",
        }
    }

    /// Reads a stored `transactions.kind`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "register" => Some(PaymentKind::Register),
            "retopup" => Some(PaymentKind::Retopup),
            _ => None,
        }
    }
}

/// A payload as it was stored when it was handed out.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPayment {
    /// Its `transactions` row.
    pub id: i64,
    /// The asset it pays into.
    pub asset_id: i32,
    /// What it pays for.
    pub kind: PaymentKind,
    /// The contract nonce it spends: one payment per nonce, ever.
    pub nonce: U256,
    /// The intent as the signer signed it (its request JSON).
    pub payload: serde_json::Value,
    /// The signer's 65-byte signature.
    pub signature: Vec<u8>,
    /// Unix seconds after which the contract refuses it.
    pub deadline: i64,
}

/// A stored payload's `transactions` row as it is read.
struct StoredRow {
    id: i64,
    asset_id: i32,
    kind: String,
    nonce: Money,
    payload: serde_json::Value,
    signature: Vec<u8>,
    deadline: Option<i64>,
}

/// The [`StoredRow`] of stored payloads; `$tail` (from `FROM`) picks them.
macro_rules! query_stored {
    ($tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            StoredRow,
            r#"SELECT t.id, t.asset_id, t.kind, t.nonce AS "nonce: Money", t.payload, t.signature, t.deadline "#
                + $tail
            $(, $arg)*
        )
    };
}

/// A wallet's newest payload of one kind that may still execute (see [`open_slot`]). The event name is written
/// into the text (`$event`) so that the partial index `chain_events_payment_nonce` serves the look-up under a
/// generic plan too.
macro_rules! query_outstanding {
    ($event:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            StoredRow,
            r#"SELECT t.id, t.asset_id, t.kind, t.nonce AS "nonce: Money", t.payload, t.signature, t.deadline
                 FROM transactions t JOIN assets a ON a.id = t.asset_id
                WHERE t.asset_id = $1 AND t.wallet = $2 AND t.kind = $3 AND t.deadline + $5 >= $4
                  AND NOT EXISTS (
                      SELECT 1 FROM chain_events c
                       WHERE c.chain_id = a.chain_id AND c.name = '"# + $event + r#"'
                         AND uint_text_to_numeric(c.payload->>'nonce') = t.nonce)
                ORDER BY t.id DESC LIMIT 1"#
            $(, $arg)*
        )
    };
}

impl StoredPayment {
    fn from_row(row: StoredRow) -> Option<Self> {
        Some(Self {
            id: row.id,
            asset_id: row.asset_id,
            kind: PaymentKind::parse(&row.kind)?,
            nonce: row.nonce.0,
            payload: row.payload,
            signature: row.signature,
            deadline: row.deadline.unwrap_or(0),
        })
    }
}

/// The chain time a payload's deadline is compared with may lag the API's clock: a payload counts as out until
/// this long after its deadline, so a transaction mined just before the deadline is never paid for twice.
pub const DEADLINE_GRACE_SECS: i64 = 120;

/// Where a wallet stands for a new payload of one kind, inside the lock that makes the answer hold.
#[derive(Debug)]
pub enum PaymentSlot {
    /// A payload is out: give it back (its transaction commits nothing).
    Outstanding(StoredPayment),
    /// None is out: sign one and [`FreeSlot::store`] it before anyone else may ask.
    Free(FreeSlot),
}

/// The lock of a wallet's payments of one kind in one asset, held until its payload is stored.
#[derive(Debug)]
pub struct FreeSlot {
    tx: Transaction<'static, Postgres>,
    asset_id: i32,
    wallet: Address,
    kind: PaymentKind,
}

/// Takes the lock of `wallet`'s `kind` payments in `asset_id` and looks for a payload of theirs that may still
/// execute: not past its deadline (with [`DEADLINE_GRACE_SECS`]) at `now`, and whose nonce no confirmed event
/// of the asset's chain has used.
pub async fn open_slot(
    db: &PgPool,
    asset_id: i32,
    wallet: Address,
    kind: PaymentKind,
    now: i64,
) -> Result<PaymentSlot, sqlx::Error> {
    let mut tx = db.begin().await?;
    // Not a checked query: pg_advisory_xact_lock returns void, a type the query macros cannot describe.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("payment:{asset_id}:{wallet:#x}:{}", kind.as_str()))
        .execute(&mut *tx)
        .await?;
    let args = (asset_id, wallet.as_slice(), kind.as_str(), now, DEADLINE_GRACE_SECS);
    let row = match kind {
        PaymentKind::Register => {
            query_outstanding!("Registered", args.0, args.1, args.2, args.3, args.4).fetch_optional(&mut *tx).await?
        }
        PaymentKind::Retopup => {
            query_outstanding!("Retopped", args.0, args.1, args.2, args.3, args.4).fetch_optional(&mut *tx).await?
        }
    };
    match row.and_then(StoredPayment::from_row) {
        Some(outstanding) => {
            tx.commit().await?;
            Ok(PaymentSlot::Outstanding(outstanding))
        }
        None => Ok(PaymentSlot::Free(FreeSlot { tx, asset_id, wallet, kind })),
    }
}

impl FreeSlot {
    /// Stores the payload just signed and lets the next request of this wallet see it.
    pub async fn store(
        mut self,
        nonce: U256,
        payload: &serde_json::Value,
        signature: &[u8],
        deadline: i64,
    ) -> Result<StoredPayment, sqlx::Error> {
        let id = sqlx::query_scalar!(
            "INSERT INTO transactions (asset_id, kind, wallet, nonce, payload, signature, deadline)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            self.asset_id,
            self.kind.as_str(),
            self.wallet.as_slice(),
            Money(nonce) as _,
            payload,
            signature,
            deadline
        )
        .fetch_one(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(StoredPayment {
            id,
            asset_id: self.asset_id,
            kind: self.kind,
            nonce,
            payload: payload.clone(),
            signature: signature.to_vec(),
            deadline,
        })
    }
}

/// One of a wallet's payloads and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRecord {
    /// The payload as handed out.
    pub payment: StoredPayment,
    /// What became of it.
    pub outcome: PaymentOutcome,
}

/// What became of a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// A confirmed event used it and the ledger applied it.
    Applied {
        /// The paying transaction.
        tx_hash: Vec<u8>,
        /// The event's index in its block.
        log_index: i64,
        /// Its block.
        block: i64,
    },
    /// A confirmed event used it and the ledger refused it: the money is in custody, not credited.
    Quarantined {
        /// The paying transaction.
        tx_hash: Vec<u8>,
        /// The event's index in its block.
        log_index: i64,
        /// Its block.
        block: i64,
        /// What the wallet paid, in base units.
        amount: U256,
        /// Why the ledger refused it: a stable code …
        reason_code: String,
        /// … and its words.
        reason: String,
    },
    /// No confirmed event yet; it may still execute until its deadline.
    Waiting,
    /// Past its deadline with no confirmed event: it can never execute.
    Expired,
}

/// The confirmed event that used a payload's nonce, as it is read; `$event` is the event's name, written into the
/// text as in [`query_outstanding`].
macro_rules! query_record_event {
    ($event:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            r#"SELECT c.tx_hash, c.log_index, c.block_number, c.outcome,
                      coalesce(c.payload->>'amount', '0') AS "amount!", q.reason_code AS "reason_code?",
                      q.reason AS "reason?"
                 FROM chain_events c
                 JOIN assets a ON a.chain_id = c.chain_id AND a.id = $1
                 LEFT JOIN quarantine q
                   ON q.chain_id = c.chain_id AND q.tx_hash = c.tx_hash AND q.log_index = c.log_index
                WHERE c.name = '"# + $event + r#"' AND uint_text_to_numeric(c.payload->>'nonce') = $2
                ORDER BY c.block_number LIMIT 1"#
            $(, $arg)*
        )
    };
}

/// The wallet's payloads in `asset_id` (newest first, at most `limit`), with what became of each at `now`.
pub async fn history(
    db: &PgPool,
    asset_id: i32,
    wallet: Address,
    now: i64,
    limit: i64,
) -> Result<Vec<PaymentRecord>, sqlx::Error> {
    let rows = query_stored!(
        "FROM transactions t
          WHERE t.asset_id = $1 AND t.wallet = $2 AND t.kind IN ('register', 'retopup')
          ORDER BY t.id DESC LIMIT $3",
        asset_id,
        wallet.as_slice(),
        limit
    )
    .fetch_all(db)
    .await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(payment) = StoredPayment::from_row(row) else { continue };
        let outcome = outcome(db, &payment, now).await?;
        records.push(PaymentRecord { payment, outcome });
    }
    Ok(records)
}

/// The wallet's payload with `nonce` in any asset, with what became of it; `None` when it is not theirs.
pub async fn by_nonce(
    db: &PgPool,
    wallet: Address,
    nonce: U256,
    now: i64,
) -> Result<Option<PaymentRecord>, sqlx::Error> {
    let row = query_stored!(
        "FROM transactions t
          WHERE t.wallet = $1 AND t.nonce = $2 AND t.kind IN ('register', 'retopup')
          ORDER BY t.id DESC LIMIT 1",
        wallet.as_slice(),
        Money(nonce) as _
    )
    .fetch_optional(db)
    .await?;
    let Some(payment) = row.and_then(StoredPayment::from_row) else { return Ok(None) };
    let outcome = outcome(db, &payment, now).await?;
    Ok(Some(PaymentRecord { payment, outcome }))
}

async fn outcome(db: &PgPool, payment: &StoredPayment, now: i64) -> Result<PaymentOutcome, sqlx::Error> {
    let (asset_id, nonce) = (payment.asset_id, Money(payment.nonce));
    macro_rules! found {
        ($event:literal) => {
            query_record_event!($event, asset_id, nonce as _)
                .fetch_optional(db)
                .await?
                .map(|e| (e.tx_hash, e.log_index, e.block_number, e.outcome, e.amount, e.reason_code, e.reason))
        };
    }
    let event = match payment.kind {
        PaymentKind::Register => found!("Registered"),
        PaymentKind::Retopup => found!("Retopped"),
    };
    Ok(match event {
        Some((tx_hash, log_index, block, outcome, _, _, _)) if outcome == "applied" => {
            PaymentOutcome::Applied { tx_hash, log_index, block }
        }
        Some((tx_hash, log_index, block, _, amount, reason_code, reason)) => PaymentOutcome::Quarantined {
            tx_hash,
            log_index,
            block,
            amount: amount.parse().unwrap_or_default(),
            reason_code: reason_code.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
        },
        None if now > payment.deadline => PaymentOutcome::Expired,
        None => PaymentOutcome::Waiting,
    })
}

/// A wallet's registration in an asset, as a confirmed `Registered` event made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The user's number in the asset.
    pub user_no: i32,
    /// Frozen by an admin.
    pub frozen: bool,
    /// The sponsor's wallet (20 bytes); none for genesis.
    pub sponsor: Option<Vec<u8>>,
    /// The block of the registration; none for genesis.
    pub registered_block: Option<i64>,
}

/// `wallet`'s registration in `asset_id`, if it is registered.
pub async fn registration(pool: &PgPool, asset_id: i32, wallet: Address) -> Result<Option<Registration>, sqlx::Error> {
    sqlx::query_as!(
        Registration,
        r#"SELECT u.user_no, u.frozen, s.address AS "sponsor?", u.registered_block
         FROM users u LEFT JOIN users s ON s.asset_id = u.asset_id AND s.user_no = u.sponsor_no
         WHERE u.asset_id = $1 AND u.address = $2"#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(pool)
    .await
}

/// The pool node `user_no`'s registration funded for its sponsor, as (level, queue position), if it funded one.
pub async fn sponsor_pool_entry(pool: &PgPool, asset_id: i32, user_no: i32) -> Result<Option<(i32, i64)>, sqlx::Error> {
    let entry = sqlx::query!(
        "SELECT p.level, p.q FROM placements p JOIN chain_events e
             ON e.asset_id = p.asset_id AND e.event_seq = p.event_seq
          WHERE e.asset_id = $1 AND e.user_no = $2 AND e.kind = 'registration' AND p.cause = 'pool_entry'",
        asset_id,
        user_no
    )
    .fetch_optional(pool)
    .await?;
    Ok(entry.map(|e| (e.level, e.q)))
}
