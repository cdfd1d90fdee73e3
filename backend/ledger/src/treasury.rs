//! The company's share of an asset and the treasury transfers that move it out of custody (PLAN.md §0: the
//! operator may move the company's balance, never more), and the refunds of quarantined inflows: a treasury
//! transfer that gives the money of one `Registered` or `Retopped` event the plan refused back to its payer.
//!
//! A transfer is checked and recorded in one transaction under the asset's row lock, with the signature asked
//! for inside it: two concurrent requests cannot both pass the check, and a signature whose row was not stored
//! (the transaction failed) was never handed out, so it cannot execute. A refund goes the same way ([`refund`]),
//! but it takes nothing from the company: the money it returns was never credited to anyone, so the company's
//! share leaves refunds out, signed or executed.

use std::future::Future;

use alloy::primitives::{Address, B256, U256};
use sqlx::{PgPool, Postgres, Transaction};

use super::payouts::audit;
use crate::authorisations::{self, AuthorisationError, OutflowKind, OutflowStatus, Proposal};
use crate::events::{EventBody, EventKey};
use crate::money::Money;

type Tx = Transaction<'static, Postgres>;

/// The treasury of one asset, in base units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreasuryPosition {
    /// Asset the figures are for.
    pub asset_id: i32,
    /// Chain of the asset's Settlement contract.
    pub chain_id: u64,
    /// The asset's token (zero address for the native coin).
    pub token: Address,
    /// Display symbol, e.g. `BNB`.
    pub symbol: String,
    /// Decimals of the base unit, for display only.
    pub decimals: i16,
    /// Everything the company was ever credited (`assets.company_total`).
    pub company_total: U256,
    /// Treasury transfers executed on-chain, refunds left out.
    pub transferred: U256,
    /// Transfers proposed for approval or signed that may still execute, refunds left out.
    pub reserved: U256,
    /// What the sales plan keeps of the company's balance (PLAN-SALES.md §1's H): a − r of every open sale (its buyer
    /// may take it back) and the commission reserve of the final sales of periods not closed yet; 0 under the other
    /// plans.
    pub held_for_sales: U256,
    /// What a new transfer may take: company_total − transferred − reserved − held_for_sales (0 if that is
    /// negative): PLAN-SALES.md §4's C − H.
    pub available: U256,
    /// Refunds of quarantined inflows executed on-chain (not the company's money: outside the figures above).
    pub refunded: U256,
    /// Refunds proposed for approval or signed that may still execute.
    pub refunds_reserved: U256,
    /// Σ reserved + held + pending + batched + claimable + maturing of all users: what custody owes them.
    pub liabilities: U256,
}

/// With `lock`, takes the asset's row lock first, in its own statement: the sums are then read by a later
/// statement, whose snapshot (READ COMMITTED) includes whatever the previous lock holder committed.
async fn read_position(tx: &mut Tx, asset_id: i32, lock: bool) -> Result<Option<TreasuryPosition>, sqlx::Error> {
    if lock {
        let found = sqlx::query_scalar!("SELECT id FROM assets WHERE id = $1 FOR UPDATE", asset_id)
            .fetch_optional(&mut **tx)
            .await?;
        if found.is_none() {
            return Ok(None);
        }
    }
    let row = sqlx::query!(
        r#"SELECT a.chain_id, a.token, a.symbol, a.decimals, a.company_total AS "company_total: Money",
                (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                 WHERE t.asset_id = a.id AND t.status = 'executed' AND t.refund_tx_hash IS NULL) AS "transferred!: Money",
                (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                 WHERE t.asset_id = a.id AND t.status IN ('proposed', 'signed') AND t.refund_tx_hash IS NULL)
                   AS "reserved!: Money",
                (SELECT COALESCE(sum(reserved + held + pending + batched + claimable + maturing), 0) FROM users b
                 WHERE b.asset_id = a.id) AS "liabilities!: Money",
                (SELECT COALESCE(sum(amount - retail) FILTER (WHERE state = 'open'), 0)
                        + COALESCE(sum(reserve) FILTER (WHERE state = 'final' AND period >= a.next_period), 0)
                 FROM sales s WHERE s.asset_id = a.id) AS "held_for_sales!: Money",
                (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                 WHERE t.asset_id = a.id AND t.status = 'executed' AND t.refund_tx_hash IS NOT NULL) AS "refunded!: Money",
                (SELECT COALESCE(sum(amount), 0) FROM treasury_transfers t
                 WHERE t.asset_id = a.id AND t.status IN ('proposed', 'signed') AND t.refund_tx_hash IS NOT NULL)
                   AS "refunds_reserved!: Money"
         FROM assets a WHERE a.id = $1"#,
        asset_id
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (company_total, transferred, reserved, liabilities) =
        (row.company_total.0, row.transferred.0, row.reserved.0, row.liabilities.0);
    let (refunded, refunds_reserved, held_for_sales) = (row.refunded.0, row.refunds_reserved.0, row.held_for_sales.0);
    Ok(Some(TreasuryPosition {
        asset_id,
        chain_id: row.chain_id as u64,
        token: Address::from_slice(&row.token),
        symbol: row.symbol,
        decimals: row.decimals,
        company_total,
        transferred,
        reserved,
        held_for_sales,
        available: company_total.saturating_sub(transferred.saturating_add(reserved).saturating_add(held_for_sales)),
        refunded,
        refunds_reserved,
        liabilities,
    }))
}

/// The treasury of `asset_id`; `None` for an unknown asset.
pub async fn position(pool: &PgPool, asset_id: i32) -> Result<Option<TreasuryPosition>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let position = read_position(&mut tx, asset_id, false).await?;
    tx.commit().await?;
    Ok(position)
}

/// What the signer is asked to authorise: the nonce is fixed here, from the transfer's own row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRequest {
    /// Chain of the asset's Settlement contract.
    pub chain_id: u64,
    /// The asset's token (zero address for the native coin).
    pub token: Address,
    /// Operator wallet that receives the company funds, or the payer a refund returns their money to.
    pub to: Address,
    /// Base units; already checked to be within the available company share (a refund: the refunded amount).
    pub amount: U256,
    /// Treasury-space contract nonce of the transfer's row id ([`abi::nonces::treasury_nonce`]).
    pub nonce: U256,
    /// For a refund: the contract nonce of the register or retopup payload whose payment it returns (the signer
    /// checks it signed that payload for `to`, `token` and `amount`); `None` for a company transfer.
    pub refund_of: Option<U256>,
}

/// The signer's answer for a [`TransferRequest`].
#[derive(Debug, Clone)]
pub struct TransferSignature {
    /// Unix seconds after which the signed transfer can no longer execute (then it expires).
    pub deadline: u64,
    /// 65-byte signature the contract's `transferTreasury` verifies.
    pub signature: Vec<u8>,
}

/// What the caller's `sign` step gives a new transfer: the signer's signature at once, or a proposal for staff
/// approval ([`crate::authorisations`]), stored `proposed` and signed later by [`sign_proposed`].
#[derive(Debug, Clone)]
pub enum Authorised {
    /// Signed now (no approvals needed).
    Signed(TransferSignature),
    /// Proposed for approval: nothing is signed yet.
    Proposed(ProposedTransfer),
}

/// A transfer proposed for staff approval: what its authorisation fixes.
#[derive(Debug, Clone)]
pub struct ProposedTransfer {
    /// Unix seconds (the chain's clock) after which it can no longer be signed or executed.
    pub deadline: u64,
    /// The Settlement contract it will be signed for.
    pub contract: Address,
    /// Its Settlement EIP-712 digest (of the transfer with this deadline): what the staff signatures cover.
    pub payload: B256,
    /// The finance wallet proposing it.
    pub proposer: Address,
}

/// A stored treasury transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreasuryTransferRow {
    /// Row id; the transfer's contract nonce is derived from it.
    pub id: i64,
    /// Asset whose company share the transfer takes.
    pub asset_id: i32,
    /// Contract nonce the signature spends.
    pub nonce: U256,
    /// Wallet that receives (or received) the funds.
    pub to: Address,
    /// Base units moved out of custody.
    pub amount: U256,
    /// `api` when signed through the API; `chain` when an unknown execution was found on-chain (alerted).
    pub origin: String,
    /// Unix seconds the signature is valid until; `None` for an origin-`chain` row.
    pub deadline: Option<u64>,
    /// The signature handed out; `None` for an origin-`chain` row.
    pub signature: Option<Vec<u8>>,
    /// Admin who requested it (audit actor); `None` for an origin-`chain` row.
    pub requested_by: Option<String>,
    /// `proposed` (awaiting staff approval, unsigned), `signed` (may still execute), `executed`, `expired` (a confirmed
    /// block passed its deadline) or `rejected` (by an approver, never signed).
    pub status: OutflowStatus,
    /// Block of the `TreasuryTransferred` event, once executed.
    pub executed_block: Option<u64>,
    /// Transaction of the `TreasuryTransferred` event, once executed.
    pub tx_hash: Option<Vec<u8>>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// For a refund: the quarantined inflow event whose money it returns to its payer.
    pub refund_of: Option<EventKey>,
    /// Its authorisation, when it was proposed for staff approval.
    pub authorisation_id: Option<i64>,
}

/// Why a treasury transfer was not signed and stored; `E` is the signer's error.
#[derive(Debug, thiserror::Error)]
pub enum TransferError<E> {
    /// The database failed; nothing was stored, and no signature was handed out.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No asset with this id.
    #[error("unknown asset {0}")]
    UnknownAsset(i32),
    /// More than the company's available share: the treasury never takes users' money (solvency).
    #[error("{requested} exceeds the available company share {available}")]
    ExceedsAvailable {
        /// Base units the company may still move: all it was credited, less transfers executed or still signed.
        available: U256,
        /// Base units the transfer asked for.
        requested: U256,
    },
    /// The signer refused or failed; nothing was stored.
    #[error("signing failed")]
    Sign(E),
    /// The proposal was refused (its proposer holds no finance role); nothing was stored.
    #[error(transparent)]
    Authorisation(#[from] AuthorisationError),
}

/// Signs (through `sign`) and stores a transfer of `amount` of `asset_id` to `to`, if it fits in what is
/// available, with an audit row by `actor` — all under the asset's row lock.
pub async fn transfer<E, F, Fut>(
    pool: &PgPool,
    asset_id: i32,
    to: Address,
    amount: U256,
    actor: &str,
    sign: F,
) -> Result<TreasuryTransferRow, TransferError<E>>
where
    F: FnOnce(TransferRequest) -> Fut,
    Fut: Future<Output = Result<Authorised, E>>,
{
    let mut tx = pool.begin().await?;
    let before = read_position(&mut tx, asset_id, true).await?.ok_or(TransferError::UnknownAsset(asset_id))?;
    if amount > before.available {
        return Err(TransferError::ExceedsAvailable { available: before.available, requested: amount });
    }
    let outgoing = Outgoing { to, amount, refund: None };
    sign_and_store(tx, &before, outgoing, actor, sign).await.map_err(|e| match e {
        Stored::Db(e) => TransferError::Db(e),
        Stored::Sign(e) => TransferError::Sign(e),
        Stored::Authorisation(e) => TransferError::Authorisation(e),
    })
}

/// What leaves custody, and for a refund what it refunds.
struct Outgoing {
    to: Address,
    amount: U256,
    refund: Option<Refunded>,
}

/// The quarantined event a refund returns, as the audit row describes it.
struct Refunded {
    key: EventKey,
    /// Contract nonce of the refunded payment's payload.
    payment_nonce: U256,
    /// The quarantine row as it was (reason, amount, payer).
    before: serde_json::Value,
}

/// Why [`sign_and_store`] failed.
enum Stored<E> {
    Db(sqlx::Error),
    Sign(E),
    Authorisation(AuthorisationError),
}

impl<E> From<sqlx::Error> for Stored<E> {
    fn from(e: sqlx::Error) -> Self {
        Stored::Db(e)
    }
}

/// The one way a treasury transfer is signed and stored, in `tx` (which holds the asset's row lock and in which
/// the caller made its checks): a row id is taken for the nonce, the signature asked for, the row stored, the
/// audit row written, and the transaction committed; nothing is stored when signing fails.
async fn sign_and_store<E, F, Fut>(
    mut tx: Tx,
    before: &TreasuryPosition,
    outgoing: Outgoing,
    actor: &str,
    sign: F,
) -> Result<TreasuryTransferRow, Stored<E>>
where
    F: FnOnce(TransferRequest) -> Fut,
    Fut: Future<Output = Result<Authorised, E>>,
{
    let (asset_id, to, amount) = (before.asset_id, outgoing.to, outgoing.amount);
    // The row id is taken first so the nonce is known before signing; a rolled-back id is never reused.
    let id = sqlx::query_scalar!(r#"SELECT nextval(pg_get_serial_sequence('treasury_transfers', 'id')) AS "id!""#)
        .fetch_one(&mut *tx)
        .await?;
    let nonce = abi::nonces::treasury_nonce(id as u64);
    let refund_of = outgoing.refund.as_ref().map(|r| r.payment_nonce);
    let request = TransferRequest { chain_id: before.chain_id, token: before.token, to, amount, nonce, refund_of };
    let authorised = sign(request).await.map_err(Stored::Sign)?;
    let (deadline, signature, status) = match &authorised {
        Authorised::Signed(s) => (s.deadline, Some(s.signature.as_slice()), OutflowStatus::Signed),
        Authorised::Proposed(p) => (p.deadline, None, OutflowStatus::Proposed),
    };
    let key = outgoing.refund.as_ref().map(|r| r.key);
    sqlx::query!(
        "INSERT INTO treasury_transfers (id, asset_id, chain_nonce, recipient, amount, deadline, signature, requested_by,
                                         refund_chain_id, refund_tx_hash, refund_log_index, status)
         VALUES ($1, $2, $3::text::numeric, $4, $5::text::numeric, $6, $7, $8, $9, $10, $11, $12)",
        id,
        asset_id,
        nonce.to_string(),
        to.as_slice(),
        amount.to_string(),
        deadline as i64,
        signature,
        actor,
        key.map(|k| k.chain_id as i64),
        key.map(|k| k.tx_hash.to_vec()),
        key.map(|k| k.log_index as i64),
        status.as_str()
    )
    .execute(&mut *tx)
    .await?;
    if let Authorised::Proposed(p) = &authorised {
        let proposal = Proposal {
            kind: if outgoing.refund.is_some() { OutflowKind::Refund } else { OutflowKind::TreasuryTransfer },
            subject: id,
            asset_id,
            chain_id: before.chain_id,
            contract: p.contract,
            token: before.token,
            payload: p.payload,
            total: amount,
            nonce,
            deadline,
        };
        authorisations::propose_in(&mut tx, &proposal, p.proposer).await.map_err(Stored::Authorisation)?;
    }
    let after = read_position(&mut tx, asset_id, false).await?.ok_or(sqlx::Error::RowNotFound)?;
    let snapshot = |p: &TreasuryPosition| {
        let mut figures =
            serde_json::json!({ "available": p.available.to_string(), "reserved": p.reserved.to_string() });
        if outgoing.refund.is_some() {
            figures["refunds_reserved"] = serde_json::json!(p.refunds_reserved.to_string());
        }
        figures
    };
    let mut before_json = snapshot(before);
    let mut after_json = snapshot(&after);
    after_json["transfer"] = serde_json::json!({
        "id": id, "to": to.to_checksum(None), "amount": amount.to_string(), "nonce": nonce.to_string(),
        "deadline": deadline, "status": status,
    });
    let action = match &outgoing.refund {
        None => "treasury_transfer",
        Some(r) => {
            before_json["event"] = r.before.clone();
            after_json["transfer"]["refund_of"] = event_json(&r.key);
            after_json["transfer"]["payment_nonce"] = serde_json::json!(r.payment_nonce.to_string());
            "quarantine_refund"
        }
    };
    let action = if status == OutflowStatus::Proposed { format!("{action}_propose") } else { action.to_owned() };
    let target = audit_target(id, outgoing.refund.as_ref().map(|r| &r.key));
    audit(&mut tx, actor, &action, asset_id, &target, before_json, after_json).await?;
    let row = fetch(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// What an audit row of transfer `id` names: the quarantined event a refund returns, else the transfer.
fn audit_target(id: i64, refund_of: Option<&EventKey>) -> String {
    match refund_of {
        Some(key) => format!("quarantine:{}", event_target(key)),
        None => format!("treasury_transfer:{id}"),
    }
}

/// `chain_id:0xtx_hash:log_index`, the form an event key takes in audit targets and messages.
fn event_target(key: &EventKey) -> String {
    format!("{}:{:#x}:{}", key.chain_id, key.tx_hash, key.log_index)
}

fn event_json(key: &EventKey) -> serde_json::Value {
    serde_json::json!({ "chain_id": key.chain_id, "tx_hash": format!("{:#x}", key.tx_hash), "log_index": key.log_index })
}

/// Why a quarantined event was not refunded; `E` is the signer's error.
#[derive(Debug, thiserror::Error)]
pub enum RefundError<E> {
    /// The database failed; nothing was stored, and no signature was handed out.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No quarantined event has this key.
    #[error("no quarantined event {0:?}")]
    UnknownEvent(EventKey),
    /// The event cannot be refunded (see [`refund`]); `code` is stable.
    #[error("{message}")]
    NotRefundable {
        /// `not_an_inflow`, `no_asset`, `not_refused_by_plan`, `already_resolved` or `refund_exists`.
        code: &'static str,
        /// Says why, for the admin.
        message: String,
    },
    /// The signer refused or failed; nothing was stored.
    #[error("signing failed")]
    Sign(E),
    /// The proposal was refused (its proposer holds no finance role); nothing was stored.
    #[error(transparent)]
    Authorisation(#[from] AuthorisationError),
}

/// Why the plan refuses an inflow for good (the quarantine codes of [`crate::plan::Rejection`]): only those are
/// refunded. An event quarantined for another reason is not: `unknown_asset` (its token is no asset of the ledger,
/// so no asset row, lock or company share to sign it under, and its `TreasuryTransferred` would be quarantined
/// too: add the asset instead), `missed_event` (the ledger diverged and a rebuild may yet apply it).
pub const REFUNDABLE_CODES: [&str; 4] = ["wrong_amount", "duplicate_user", "unknown_sponsor", "unknown_user"];

/// The asset a quarantined `event` paid into: `None` when no such event is quarantined, `Some(None)` when its token
/// is no asset of the ledger.
pub async fn quarantined_asset(pool: &PgPool, event: &EventKey) -> Result<Option<Option<i32>>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT asset_id FROM quarantine WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3",
        event.chain_id as i64,
        event.tx_hash.as_slice(),
        event.log_index as i64
    )
    .fetch_optional(pool)
    .await
}

/// Signs (through `sign`) and stores the refund of the quarantined inflow `event` to its payer: a treasury transfer
/// of exactly the event's amount, in the event's token, to the wallet that paid it, marked as the refund of that
/// event, with an audit row by `actor` (the quarantine row before, the transfer after) — all under the row lock of
/// the event's asset, as [`transfer`]. It does not take from the company's available share.
///
/// Refused ([`RefundError::NotRefundable`]) unless the event is a `Registered` or `Retopped` of an asset that the
/// plan refused ([`REFUNDABLE_CODES`]), not resolved, with no refund of it signed or executed (one that expired
/// unexecuted may be replaced). The listener resolves the quarantine row when the refund executes.
pub async fn refund<E, F, Fut>(
    pool: &PgPool,
    event: EventKey,
    actor: &str,
    sign: F,
) -> Result<TreasuryTransferRow, RefundError<E>>
where
    F: FnOnce(TransferRequest) -> Fut,
    Fut: Future<Output = Result<Authorised, E>>,
{
    let refused = |code, message: String| RefundError::NotRefundable { code, message };
    let (chain, hash, log) = (event.chain_id as i64, event.tx_hash.to_vec(), event.log_index as i64);
    let mut tx = pool.begin().await?;
    // The asset first (the lock every transfer of it takes, before anything else), then the event's row.
    let asset = sqlx::query_scalar!(
        "SELECT asset_id FROM quarantine WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3",
        chain,
        &hash,
        log
    )
    .fetch_optional(&mut *tx)
    .await?;
    let asset_id = asset.ok_or(RefundError::UnknownEvent(event))?.ok_or_else(|| {
        refused("no_asset", "the event's token is no asset of the ledger: there is nothing to refund it from".into())
    })?;
    let before = read_position(&mut tx, asset_id, true).await?.ok_or(sqlx::Error::RowNotFound)?;
    let row = sqlx::query!(
        r#"SELECT c.name, q.reason_code, q.reason, q.payload, q.resolved_at IS NOT NULL AS "resolved!"
         FROM quarantine q JOIN chain_events c USING (chain_id, tx_hash, log_index)
         WHERE q.chain_id = $1 AND q.tx_hash = $2 AND q.log_index = $3 FOR UPDATE OF q"#,
        chain,
        &hash,
        log
    )
    .fetch_one(&mut *tx)
    .await?;
    let (name, code, reason, payload, resolved) = (row.name, row.reason_code, row.reason, row.payload, row.resolved);
    let (user, token, amount, payment_nonce) = match serde_json::from_value::<EventBody>(payload) {
        Ok(
            EventBody::Registered { user, token, amount, nonce, .. }
            | EventBody::Retopped { user, token, amount, nonce },
        ) => (user, token, amount, nonce),
        _ => {
            return Err(refused(
                "not_an_inflow",
                format!("{name} brought no payment into custody: only a Registered or Retopped event is refunded"),
            ));
        }
    };
    if resolved {
        return Err(refused("already_resolved", "the event's quarantine is already resolved".into()));
    }
    if !REFUNDABLE_CODES.contains(&code.as_str()) {
        return Err(refused(
            "not_refused_by_plan",
            format!("the event is quarantined as {code}, not refused by the plan: it is not refunded"),
        ));
    }
    if token != before.token || amount.is_zero() || user == Address::ZERO {
        return Err(refused("not_an_inflow", format!("the event paid {amount} of {token} from {user}")));
    }
    let live = sqlx::query!(
        "SELECT id, status FROM treasury_transfers
         WHERE refund_chain_id = $1 AND refund_tx_hash = $2 AND refund_log_index = $3
           AND status IN ('proposed', 'signed', 'executed')
         ORDER BY id DESC LIMIT 1",
        chain,
        &hash,
        log
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(live) = live {
        return Err(refused("refund_exists", format!("refund {} of this event is already {}", live.id, live.status)));
    }
    let refund = Refunded {
        key: event,
        payment_nonce,
        before: serde_json::json!({
            "event": name, "reason_code": code, "reason": reason, "payer": user.to_checksum(None),
            "amount": amount.to_string(), "resolved": false,
        }),
    };
    let outgoing = Outgoing { to: user, amount, refund: Some(refund) };
    sign_and_store(tx, &before, outgoing, actor, sign).await.map_err(|e| match e {
        Stored::Db(e) => RefundError::Db(e),
        Stored::Sign(e) => RefundError::Sign(e),
        Stored::Authorisation(e) => RefundError::Authorisation(e),
    })
}

/// A treasury transfer's row as [`TreasuryTransferRow`] holds it; `$tail` (from `FROM`) picks the rows.
macro_rules! query_transfers {
    ($tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            TransferColumns,
            r#"SELECT id, asset_id, chain_nonce AS "chain_nonce: Money", recipient, amount AS "amount: Money", origin,
                      deadline, signature, requested_by, status AS "status: OutflowStatus", executed_block, tx_hash,
                      rfc3339(created_at) AS "created_at!", refund_chain_id, refund_tx_hash, refund_log_index,
                      (SELECT a.id FROM authorisations a WHERE a.kind IN ('treasury_transfer', 'refund')
                       AND a.subject = treasury_transfers.id) AS authorisation_id "#
                + $tail
            $(, $arg)*
        )
    };
}

/// A `treasury_transfers` row as it is read.
struct TransferColumns {
    id: i64,
    asset_id: i32,
    chain_nonce: Money,
    recipient: Vec<u8>,
    amount: Money,
    origin: String,
    deadline: Option<i64>,
    signature: Option<Vec<u8>>,
    requested_by: Option<String>,
    status: OutflowStatus,
    executed_block: Option<i64>,
    tx_hash: Option<Vec<u8>>,
    created_at: String,
    refund_chain_id: Option<i64>,
    refund_tx_hash: Option<Vec<u8>>,
    refund_log_index: Option<i64>,
    authorisation_id: Option<i64>,
}

impl From<TransferColumns> for TreasuryTransferRow {
    fn from(r: TransferColumns) -> Self {
        Self {
            id: r.id,
            asset_id: r.asset_id,
            nonce: r.chain_nonce.0,
            to: Address::from_slice(&r.recipient),
            amount: r.amount.0,
            origin: r.origin,
            deadline: r.deadline.map(|d| d as u64),
            signature: r.signature,
            requested_by: r.requested_by,
            status: r.status,
            executed_block: r.executed_block.map(|b| b as u64),
            tx_hash: r.tx_hash,
            created_at: r.created_at,
            refund_of: match (r.refund_chain_id, r.refund_tx_hash, r.refund_log_index) {
                (Some(chain_id), Some(tx_hash), Some(log_index)) => Some(EventKey {
                    chain_id: chain_id as u64,
                    tx_hash: B256::from_slice(&tx_hash),
                    log_index: log_index as u64,
                }),
                _ => None,
            },
            authorisation_id: r.authorisation_id,
        }
    }
}

async fn fetch(tx: &mut Tx, id: i64) -> Result<TreasuryTransferRow, sqlx::Error> {
    Ok(query_transfers!("FROM treasury_transfers WHERE id = $1", id).fetch_one(&mut **tx).await?.into())
}

/// Treasury transfer `id`, if there is one.
pub async fn transfer_row(pool: &PgPool, id: i64) -> Result<Option<TreasuryTransferRow>, sqlx::Error> {
    Ok(query_transfers!("FROM treasury_transfers WHERE id = $1", id).fetch_optional(pool).await?.map(Into::into))
}

/// Transfers newest first, optionally of one asset, with ids below `before` (keyset pages).
pub async fn list(
    pool: &PgPool,
    asset_id: Option<i32>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<TreasuryTransferRow>, sqlx::Error> {
    let rows = query_transfers!(
        "FROM treasury_transfers WHERE ($1::int4 IS NULL OR asset_id = $1) AND id < $2 ORDER BY id DESC LIMIT $3",
        asset_id,
        before.unwrap_or(i64::MAX),
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Why a proposed transfer or refund was not signed; `E` is the signer's error.
#[derive(Debug, thiserror::Error)]
pub enum SignProposedError<E> {
    /// The database failed; nothing was stored.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No transfer with this id.
    #[error("no treasury transfer {0}")]
    Unknown(i64),
    /// Not awaiting its signature: `rejected`, `expired`, or one signed without approval.
    #[error("treasury transfer {0} is {1}")]
    NotProposed(i64, OutflowStatus),
    /// The signer refused or failed; nothing was stored.
    #[error("signing failed")]
    Sign(E),
}

/// Signs (through `sign`) treasury transfer or refund `id`, proposed for approval, once, under its row lock: `sign`
/// gets the transfer as the signer is asked for it (a refund with its payment's nonce) and the deadline fixed at
/// proposal, and carries the approvals (the signer checks them). The row becomes `signed` with an audit row by
/// `actor`. One signed already is answered as it is (a retried request); nothing is stored when signing fails.
pub async fn sign_proposed<E, F, Fut>(
    pool: &PgPool,
    id: i64,
    actor: &str,
    sign: F,
) -> Result<TreasuryTransferRow, SignProposedError<E>>
where
    F: FnOnce(TransferRequest, u64) -> Fut,
    Fut: Future<Output = Result<TransferSignature, E>>,
{
    let mut tx = pool.begin().await?;
    let row: TreasuryTransferRow = query_transfers!("FROM treasury_transfers WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(SignProposedError::Unknown(id))?
        .into();
    match row.status {
        OutflowStatus::Proposed => {}
        OutflowStatus::Signed | OutflowStatus::Executed if row.authorisation_id.is_some() => return Ok(row),
        other => return Err(SignProposedError::NotProposed(id, other)),
    }
    let asset =
        sqlx::query!("SELECT chain_id, token FROM assets WHERE id = $1", row.asset_id).fetch_one(&mut *tx).await?;
    let refund_of = match &row.refund_of {
        Some(key) => Some(payment_nonce(&mut tx, key).await?),
        None => None,
    };
    let request = TransferRequest {
        chain_id: asset.chain_id as u64,
        token: Address::from_slice(&asset.token),
        to: row.to,
        amount: row.amount,
        nonce: row.nonce,
        refund_of,
    };
    let deadline = row.deadline.ok_or(sqlx::Error::RowNotFound)?;
    let signed = sign(request, deadline).await.map_err(SignProposedError::Sign)?;
    sqlx::query!(
        "UPDATE treasury_transfers SET status = 'signed', signature = $2 WHERE id = $1",
        id,
        &signed.signature
    )
    .execute(&mut *tx)
    .await?;
    let target = audit_target(id, row.refund_of.as_ref());
    let state = |status: &str| {
        serde_json::json!({ "transfer": { "id": id, "status": status, "nonce": row.nonce.to_string(),
            "amount": row.amount.to_string(), "to": row.to.to_checksum(None), "deadline": deadline,
            "authorisation_id": row.authorisation_id } })
    };
    audit(&mut tx, actor, "treasury_transfer_sign", row.asset_id, &target, state("proposed"), state("signed")).await?;
    let row = fetch(&mut tx, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// The contract nonce of the register or retopup payload whose payment the refund of `key` returns.
async fn payment_nonce(tx: &mut Tx, key: &EventKey) -> Result<U256, sqlx::Error> {
    let payload = sqlx::query_scalar!(
        "SELECT payload FROM quarantine WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3",
        key.chain_id as i64,
        key.tx_hash.as_slice(),
        key.log_index as i64
    )
    .fetch_one(&mut **tx)
    .await?;
    match serde_json::from_value::<EventBody>(payload) {
        Ok(EventBody::Registered { nonce, .. } | EventBody::Retopped { nonce, .. }) => Ok(nonce),
        _ => Err(sqlx::Error::Protocol(format!("quarantined event {key:?} is no payment"))),
    }
}
