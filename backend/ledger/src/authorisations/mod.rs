//! One authorisation lifecycle for outflows (issue 45, `backend/STAFF.md` §3), outside HTTP: a finance wallet proposes
//! an outflow whose Settlement payload is fixed already (nonce, deadline, every entry); the proposer's own wallet
//! signs `propose` and approvers' wallets sign `approve` over that payload ([`abi::approval::StaffApproval`]); each
//! signature is recovered here as the signer service will recover it, so a bad one is refused at once.
//!
//! `proposed → approved` (the proposer's and enough approvers' signatures are in), or `rejected` (an approver, with a
//! reason) or `expired` (the deadline passed by the chain's clock before signing). After approval the outflow's own row
//! says the rest (`signed`, `sent`, `executed`, `failed`, `cancelled`): [`Authorisation::stage`] reads both.
//!
//! The signer service holds its own list of proposers and approvers and checks every signature again: nothing here can
//! get an outflow signed that its approvers did not sign. What is here is the queue, the audit trail and the early
//! refusals.
//!
//! Solvency commitments are the system-approved kind ([`OutflowKind::SolvencyCommitment`]): the solvency worker records one
//! [`record_system`] `approved` at once, proposed by the zero address, with no staff signatures, when it fixes an
//! epoch's nonce and deadline; the epoch's own status says the rest. No staff member signs off or rejects one.

use alloy::primitives::{Address, B256, Signature, U256};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::audit::{self, AuditEntry};
use crate::money::Money;
use crate::staff::{self, StaffRole};

pub mod names;

pub use names::{AuthorisationStatus, OutflowKind, OutflowStatus, SignAction, Stage};

/// Why a step of the lifecycle is refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthorisationError {
    /// A database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No authorisation with this id.
    #[error("no authorisation {0}")]
    Unknown(i64),
    /// The outflow has an authorisation already that cannot take this step (rejected or expired).
    #[error("the {kind} {subject} has authorisation {id}, {status}: build a new one")]
    Closed {
        /// The authorisation.
        id: i64,
        /// Its kind.
        kind: OutflowKind,
        /// Its outflow.
        subject: i64,
        /// `rejected` or `expired`.
        status: AuthorisationStatus,
    },
    /// The step needs an open authorisation: its status or stage.
    #[error("authorisation {0} is {1}")]
    NotOpen(i64, &'static str),
    /// The deadline passed (by the chain's clock) before the outflow was signed.
    #[error("authorisation {0} expired at {1} (unix seconds, the chain's clock): its outflow can no longer be signed")]
    Expired(i64, u64),
    /// A system-approved authorisation (a solvency commitment): no staff member signs, approves or rejects it.
    #[error("authorisation {0} is a {1}, the system's: approved when recorded, no staff signs it off or rejects it")]
    System(i64, OutflowKind),
    /// A system authorisation recorded already for the same outflow with another payload.
    #[error("authorisation {0} approved another payload for its {1} {2}: not signed")]
    PayloadDiffers(i64, OutflowKind, i64),
    /// A signature that does not recover to the wallet of the staff member giving it.
    #[error("the signature is not {0}'s over this authorisation's {1} approval")]
    BadSignature(String, SignAction),
    /// The proposer may not approve or reject their own proposal; only the proposer signs `propose`.
    #[error("{0}")]
    NotPermitted(String),
}

/// A signature stored with an authorisation.
#[derive(Debug, Clone)]
pub struct StaffSigned {
    /// The staff wallet that signed.
    pub wallet: Address,
    /// What it does.
    pub action: SignAction,
    /// 65 bytes r ‖ s ‖ v.
    pub signature: Vec<u8>,
    /// When it was given, RFC 3339 UTC.
    pub signed_at: String,
}

/// Who proposes a system-approved authorisation: no staff wallet, the zero address.
pub const SYSTEM: Address = Address::ZERO;

/// An authorisation with its signatures and its outflow's status.
#[derive(Debug, Clone)]
pub struct Authorisation {
    /// Its id.
    pub id: i64,
    /// What it authorises.
    pub kind: OutflowKind,
    /// The outflow's row: `payout_batches.id`, `treasury_transfers.id` (a transfer or refund), `solvency_epochs.id`.
    pub subject: i64,
    /// The asset it moves.
    pub asset_id: i32,
    /// The chain and contract the payload is signed for.
    pub chain_id: u64,
    /// The Settlement contract.
    pub contract: Address,
    /// The asset's token (zero: the native coin).
    pub token: Address,
    /// The outflow's Settlement EIP-712 digest (a solvency commitment's: its LiabilityRoot's).
    pub payload: B256,
    /// What leaves custody (a solvency commitment's: the liabilities it commits; nothing leaves).
    pub total: U256,
    /// The outflow's contract nonce.
    pub nonce: U256,
    /// Unix seconds (the chain's clock) after which the contract refuses the outflow.
    pub deadline: u64,
    /// As stored.
    pub status: AuthorisationStatus,
    /// The finance wallet that proposed it ([`SYSTEM`], the zero address, for a solvency commitment).
    pub proposer: Address,
    /// RFC 3339 UTC.
    pub proposed_at: String,
    /// When enough signatures were in, RFC 3339 UTC.
    pub approved_at: Option<String>,
    /// Who rejected it (or the proposer's wallet, when it expired).
    pub decided_by: Option<Address>,
    /// When it was rejected or found expired.
    pub decided_at: Option<String>,
    /// The rejection's reason.
    pub decision_reason: Option<String>,
    /// The outflow's own status, in one vocabulary ([`OutflowStatus`]).
    pub outflow_status: OutflowStatus,
    /// The withdrawal fee the contract keeps of `total` (a payout batch's entries' fees).
    pub fee: U256,
    /// Every staff signature, in the order given.
    pub signatures: Vec<StaffSigned>,
}

impl Authorisation {
    /// Where the outflow stands in the one lifecycle: `proposed`, `approved`, `signed`, `sent`, `executed`, or
    /// `rejected`, `expired`, `failed`, `cancelled`. `now` is the chain's clock: an open proposal past its deadline is
    /// `expired` even before a step stores it.
    pub fn stage(&self, now: u64) -> Stage {
        use {AuthorisationStatus as A, OutflowStatus as O};
        match (self.status, self.outflow_status) {
            (A::Rejected, _) | (_, O::Rejected) => Stage::Rejected,
            (A::Expired, _) | (_, O::Expired) => Stage::Expired,
            (_, O::Signed) => Stage::Signed,
            (_, O::Submitted) => Stage::Sent,
            (_, O::Executed) => Stage::Executed,
            (_, O::Failed) => Stage::Failed,
            (_, O::Cancelled) => Stage::Cancelled,
            _ if self.deadline <= now => Stage::Expired,
            (A::Approved, _) => Stage::Approved,
            (A::Proposed, _) => Stage::Proposed,
        }
    }

    /// The typed data a staff wallet signs to `action` this authorisation.
    pub fn approval(&self, action: SignAction) -> abi::approval::StaffApproval {
        abi::approval::StaffApproval::new(
            action.as_str(),
            self.kind.as_str(),
            self.payload,
            self.token,
            self.total,
            self.nonce,
            self.deadline,
        )
    }

    /// Whether the system approved it (a solvency commitment): no staff signature is asked for or taken.
    pub fn is_system(&self) -> bool {
        self.kind.is_system()
    }

    /// Whether the outflow still awaits its signature (a batch `building`, a solvency epoch built, a transfer or
    /// refund `proposed`).
    pub fn outflow_open(&self) -> bool {
        self.outflow_status.is_open()
    }

    /// The proposer's signature and the approvals of wallets other than the proposer.
    pub fn approvals(&self) -> (bool, usize) {
        let proposed = self.signatures.iter().any(|s| s.action == SignAction::Propose && s.wallet == self.proposer);
        let approvals =
            self.signatures.iter().filter(|s| s.action == SignAction::Approve && s.wallet != self.proposer).count();
        (proposed, approvals)
    }
}

/// What a proposal fixes: the outflow and its Settlement payload, as built by its kind.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// What it authorises (a solvency commitment only through [`record_system`]).
    pub kind: OutflowKind,
    /// The outflow's row (`payout_batches.id`, `treasury_transfers.id` for a transfer or refund, `solvency_epochs.id`).
    pub subject: i64,
    /// Its asset.
    pub asset_id: i32,
    /// Its chain.
    pub chain_id: u64,
    /// The contract it is signed for.
    pub contract: Address,
    /// The asset's token.
    pub token: Address,
    /// Its Settlement digest.
    pub payload: B256,
    /// What it moves out.
    pub total: U256,
    /// Its nonce.
    pub nonce: U256,
    /// Its deadline (the chain's clock).
    pub deadline: u64,
}

fn address(bytes: &[u8]) -> Address {
    Address::from_slice(bytes)
}

fn target(id: i64) -> String {
    format!("authorisation:{id}")
}

fn state(a: &Authorisation) -> serde_json::Value {
    json!({
        "status": a.status, "kind": a.kind, "subject": a.subject, "payload": a.payload.to_string(),
        "total": a.total.to_string(), "nonce": a.nonce.to_string(), "deadline": a.deadline,
        "proposer": a.proposer.to_checksum(None),
        "signatures": a.signatures.iter().map(|s| json!({ "wallet": s.wallet.to_checksum(None), "action": s.action }))
            .collect::<Vec<_>>(),
        "decision_reason": a.decision_reason,
    })
}

async fn record(
    conn: &mut PgConnection,
    actor: Address,
    action: &str,
    before: Option<&Authorisation>,
    after: &Authorisation,
) -> Result<(), sqlx::Error> {
    record_as(conn, &actor.to_checksum(None), action, before, after).await
}

/// As [`record`], by a service (`solvency-worker`) rather than a staff wallet.
async fn record_as(
    conn: &mut PgConnection,
    actor: &str,
    action: &str,
    before: Option<&Authorisation>,
    after: &Authorisation,
) -> Result<(), sqlx::Error> {
    let entry = AuditEntry {
        actor,
        action,
        target: &target(after.id),
        asset_id: Some(after.asset_id),
        before: before.map(state),
        after: state(after),
    };
    audit::record(conn, entry).await
}

/// Authorisation `id` with its signatures, locked for the caller's transaction when `lock`.
async fn load_in(conn: &mut PgConnection, id: i64, lock: bool) -> Result<Authorisation, AuthorisationError> {
    if lock {
        sqlx::query!("SELECT id FROM authorisations WHERE id = $1 FOR UPDATE", id).fetch_optional(&mut *conn).await?;
    }
    let row = sqlx::query!(
        r#"SELECT a.id, a.kind AS "kind: OutflowKind", a.subject, a.asset_id, a.chain_id, a.contract, a.token, a.payload,
                a.total AS "total: Money", a.nonce AS "nonce: Money", a.deadline,
                a.status AS "status: AuthorisationStatus", a.proposer,
                rfc3339(a.proposed_at) AS "proposed_at!", rfc3339(a.approved_at) AS approved_at, a.decided_by,
                rfc3339(a.decided_at) AS decided_at, a.decision_reason,
                coalesce(b.status::text, t.status,
                         CASE e.status WHEN 'built' THEN 'building' WHEN 'sent' THEN 'submitted'
                                       WHEN 'committed' THEN 'executed' ELSE e.status END,
                         f.status, 'unknown') AS "outflow_status!: OutflowStatus",
                coalesce((SELECT sum(i.fee) FROM payout_batch_items i WHERE a.kind = 'payout_batch'
                          AND i.batch_id = a.subject), 0) AS "fee!: Money"
         FROM authorisations a LEFT JOIN payout_batches b ON a.kind = 'payout_batch' AND b.id = a.subject
         LEFT JOIN treasury_transfers t ON a.kind IN ('treasury_transfer', 'refund') AND t.id = a.subject
         LEFT JOIN solvency_epochs e ON a.kind = 'solvency_commitment' AND e.id = a.subject
         LEFT JOIN forfeits f ON a.kind = 'forfeit' AND f.id = a.subject
         WHERE a.id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AuthorisationError::Unknown(id))?;
    let signatures = sqlx::query!(
        r#"SELECT wallet, action AS "action: SignAction", signature, rfc3339(signed_at) AS "signed_at!" FROM authorisation_signatures
         WHERE authorisation_id = $1 ORDER BY signed_at, action DESC, wallet"#,
        id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|s| StaffSigned {
        wallet: address(&s.wallet),
        action: s.action,
        signature: s.signature,
        signed_at: s.signed_at,
    })
    .collect();
    Ok(Authorisation {
        id: row.id,
        kind: row.kind,
        subject: row.subject,
        asset_id: row.asset_id,
        chain_id: row.chain_id as u64,
        contract: address(&row.contract),
        token: address(&row.token),
        payload: B256::from_slice(&row.payload),
        total: row.total.0,
        nonce: row.nonce.0,
        deadline: row.deadline as u64,
        status: row.status,
        proposer: address(&row.proposer),
        proposed_at: row.proposed_at,
        approved_at: row.approved_at,
        decided_by: row.decided_by.as_deref().map(address),
        decided_at: row.decided_at,
        decision_reason: row.decision_reason,
        outflow_status: row.outflow_status,
        fee: row.fee.0,
        signatures,
    })
}

/// Authorisation `id`.
pub async fn load(pool: &PgPool, id: i64) -> Result<Authorisation, AuthorisationError> {
    load_in(&mut *pool.acquire().await?, id, false).await
}

/// The authorisation of an outflow, if one was proposed.
pub async fn of_subject(
    pool: &PgPool,
    kind: OutflowKind,
    subject: i64,
) -> Result<Option<Authorisation>, AuthorisationError> {
    let id =
        sqlx::query_scalar!("SELECT id FROM authorisations WHERE kind = $1 AND subject = $2", kind.as_str(), subject)
            .fetch_optional(pool)
            .await?;
    match id {
        Some(id) => Ok(Some(load(pool, id).await?)),
        None => Ok(None),
    }
}

/// Which authorisations a page of [`list`] holds.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only the open ones (`proposed`, `approved`).
    pub open: bool,
    /// Only the one of this outflow (`payout_batches.id` for a payout batch).
    pub subject: Option<i64>,
    /// Only those this wallet proposed, signed (proposing or approving) or decided.
    pub wallet: Option<Address>,
}

/// Authorisations of `kinds` newest first that `filter` lets through; `before` is the previous page's last id.
pub async fn list(
    pool: &PgPool,
    kinds: &[OutflowKind],
    filter: &ListFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Authorisation>, AuthorisationError> {
    let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_owned()).collect();
    let wallet = filter.wallet.map(|w| w.to_vec());
    let ids = sqlx::query_scalar!(
        "SELECT a.id FROM authorisations a
          WHERE a.kind = ANY($1) AND ($2 = false OR a.status IN ('proposed', 'approved'))
            AND ($3::bigint IS NULL OR a.id < $3)
            AND ($5::bigint IS NULL OR a.subject = $5)
            AND ($6::bytea IS NULL OR a.proposer = $6 OR a.decided_by = $6
                 OR EXISTS (SELECT 1 FROM authorisation_signatures s WHERE s.authorisation_id = a.id AND s.wallet = $6))
          ORDER BY a.id DESC LIMIT $4",
        &kinds,
        filter.open,
        before,
        limit,
        filter.subject,
        wallet
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    let mut conn = pool.acquire().await?;
    for id in ids {
        out.push(load_in(&mut conn, id, false).await?);
    }
    Ok(out)
}

/// Proposes `proposal` by `proposer` (a finance wallet: checked here, in the proposal's transaction). Proposing the
/// same outflow again answers the open authorisation unchanged (a retried request); one rejected or expired is
/// [`AuthorisationError::Closed`]: its outflow is built again.
pub async fn propose(
    pool: &PgPool,
    proposal: &Proposal,
    proposer: Address,
) -> Result<Authorisation, AuthorisationError> {
    let mut tx = pool.begin().await?;
    let a = propose_in(&mut tx, proposal, proposer).await?;
    tx.commit().await?;
    Ok(a)
}

/// [`propose`] in the caller's transaction (a treasury transfer's, which stores the transfer and its proposal at once).
pub async fn propose_in(
    tx: &mut PgConnection,
    proposal: &Proposal,
    proposer: Address,
) -> Result<Authorisation, AuthorisationError> {
    if proposal.kind.is_system() {
        return Err(AuthorisationError::NotPermitted(
            "a solvency commitment is the system's: no staff wallet proposes it".into(),
        ));
    }
    if !staff::holds(&mut *tx, proposer, StaffRole::Finance).await? {
        return Err(AuthorisationError::NotPermitted("proposing an outflow needs the finance role".into()));
    }
    let Some(id) = insert(&mut *tx, proposal, proposer).await? else {
        let existing = existing(&mut *tx, proposal).await?;
        if existing.status.is_closed() {
            return Err(AuthorisationError::Closed {
                id: existing.id,
                kind: existing.kind,
                subject: existing.subject,
                status: existing.status,
            });
        }
        return Ok(existing);
    };
    let created = load_in(&mut *tx, id, true).await?;
    record(&mut *tx, proposer, "authorisation_propose", None, &created).await?;
    Ok(created)
}

/// Records the system's own authorisation of `proposal` (a [`OutflowKind::SolvencyCommitment`]) in the caller's transaction:
/// `approved` at once, proposed by [`SYSTEM`], with no staff signatures, audited as `actor`'s (the service that
/// records it). Recording the same outflow again answers the row stored (a retry after a crash records nothing
/// twice); one stored with another payload is [`AuthorisationError::PayloadDiffers`]: what is signed is what was
/// recorded.
pub async fn record_system(
    conn: &mut PgConnection,
    proposal: &Proposal,
    actor: &str,
) -> Result<Authorisation, AuthorisationError> {
    if !proposal.kind.is_system() {
        return Err(AuthorisationError::NotPermitted(format!("a {} is proposed and approved by staff", proposal.kind)));
    }
    let Some(id) = insert(&mut *conn, proposal, SYSTEM).await? else {
        let existing = existing(&mut *conn, proposal).await?;
        if existing.payload != proposal.payload {
            return Err(AuthorisationError::PayloadDiffers(existing.id, existing.kind, existing.subject));
        }
        return Ok(existing);
    };
    let created = load_in(&mut *conn, id, true).await?;
    record_as(&mut *conn, actor, "authorisation_system_approved", None, &created).await?;
    Ok(created)
}

/// Stores `proposal` by `proposer`: `proposed`, or `approved` at once when the proposer is [`SYSTEM`]. `None` when
/// its outflow has an authorisation already.
async fn insert(conn: &mut PgConnection, proposal: &Proposal, proposer: Address) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO authorisations (kind, subject, asset_id, chain_id, contract, token, payload, total, nonce,
                                     deadline, proposer, status, approved_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9::text::numeric, $10, $11,
                 CASE WHEN $12 THEN 'approved' ELSE 'proposed' END, CASE WHEN $12 THEN now() END)
         ON CONFLICT (kind, subject) DO NOTHING RETURNING id",
        proposal.kind.as_str(),
        proposal.subject,
        proposal.asset_id,
        proposal.chain_id as i64,
        proposal.contract.as_slice(),
        proposal.token.as_slice(),
        proposal.payload.as_slice(),
        proposal.total.to_string(),
        proposal.nonce.to_string(),
        proposal.deadline as i64,
        proposer.as_slice(),
        proposer == SYSTEM
    )
    .fetch_optional(conn)
    .await
}

/// The authorisation stored already for `proposal`'s outflow, locked.
async fn existing(conn: &mut PgConnection, proposal: &Proposal) -> Result<Authorisation, AuthorisationError> {
    let id = sqlx::query_scalar!(
        "SELECT id FROM authorisations WHERE kind = $1 AND subject = $2",
        proposal.kind.as_str(),
        proposal.subject
    )
    .fetch_one(&mut *conn)
    .await?;
    load_in(conn, id, true).await
}

/// Stores `wallet`'s signature of `action` on authorisation `id` after recovering it: `propose` from the proposer
/// only, `approve` from an approver (a role checked here) who is not the proposer. The authorisation becomes
/// `approved` once the proposer's signature and `required` approvals are in (the signer's number for the outflow; its
/// own check is the one that counts). Giving the same signature again changes nothing. `now` is the chain's clock.
pub async fn sign(
    pool: &PgPool,
    id: i64,
    wallet: Address,
    action: SignAction,
    signature: &[u8],
    required: usize,
    now: u64,
) -> Result<Authorisation, AuthorisationError> {
    let mut tx = pool.begin().await?;
    let before = load_in(&mut tx, id, true).await?;
    if before.is_system() {
        return Err(AuthorisationError::System(id, before.kind));
    }
    if !before.status.is_open() {
        return Err(AuthorisationError::NotOpen(id, before.status.as_str()));
    }
    if !before.outflow_open() {
        return Err(AuthorisationError::NotOpen(id, before.stage(now).as_str()));
    }
    if before.deadline <= now {
        let expired = expire_in(&mut tx, before, now).await?;
        tx.commit().await?;
        return Err(AuthorisationError::Expired(id, expired.deadline));
    }
    let who = wallet.to_checksum(None);
    match action {
        SignAction::Propose if wallet != before.proposer => {
            return Err(AuthorisationError::NotPermitted(format!(
                "only the proposer, {}, signs this authorisation's proposal",
                before.proposer.to_checksum(None)
            )));
        }
        SignAction::Approve if wallet == before.proposer => {
            return Err(AuthorisationError::NotPermitted(format!(
                "{who} proposed authorisation {id}: another approver must approve it"
            )));
        }
        SignAction::Approve if !staff::holds(&mut tx, wallet, StaffRole::Approver).await? => {
            return Err(AuthorisationError::NotPermitted("approving needs the approver role".into()));
        }
        _ => {}
    }
    let digest = before.approval(action).digest(before.chain_id, before.contract);
    let recovered = Signature::try_from(signature).ok().and_then(|s| s.recover_address_from_prehash(&digest).ok());
    if recovered != Some(wallet) {
        return Err(AuthorisationError::BadSignature(who, action));
    }
    let stored = sqlx::query!(
        "INSERT INTO authorisation_signatures (authorisation_id, wallet, action, signature) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        id,
        wallet.as_slice(),
        action.as_str(),
        signature
    )
    .execute(&mut *tx)
    .await?;
    if stored.rows_affected() == 0 {
        return Ok(before);
    }
    let mut after = load_in(&mut tx, id, false).await?;
    let (proposed, approvals) = after.approvals();
    if after.status == AuthorisationStatus::Proposed && proposed && approvals >= required.max(1) {
        sqlx::query!("UPDATE authorisations SET status = 'approved', approved_at = now() WHERE id = $1", id)
            .execute(&mut *tx)
            .await?;
        after = load_in(&mut tx, id, false).await?;
    }
    record(&mut tx, wallet, &format!("authorisation_{action}_signature"), Some(&before), &after).await?;
    if after.status != before.status {
        record(&mut tx, wallet, "authorisation_approved", Some(&before), &after).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Rejects authorisation `id` with `reason`: an approver who is not its proposer (checked here). Its outflow is never
/// signed through it; a payout batch's rewards return to pending when the batch is cancelled (its nonce was fixed, so
/// the cancellation waits, as any, for the chain to prove the deadline passed).
pub async fn reject(pool: &PgPool, id: i64, by: Address, reason: &str) -> Result<Authorisation, AuthorisationError> {
    let mut tx = pool.begin().await?;
    let before = load_in(&mut tx, id, true).await?;
    if before.is_system() {
        return Err(AuthorisationError::System(id, before.kind));
    }
    if !before.status.is_open() || !before.outflow_open() {
        return Err(AuthorisationError::NotOpen(id, before.status.as_str()));
    }
    if by == before.proposer {
        return Err(AuthorisationError::NotPermitted(format!(
            "{} proposed authorisation {id}: another approver must decide it",
            by.to_checksum(None)
        )));
    }
    if !staff::holds(&mut tx, by, StaffRole::Approver).await? {
        return Err(AuthorisationError::NotPermitted("rejecting needs the approver role".into()));
    }
    sqlx::query!(
        "UPDATE authorisations SET status = 'rejected', decided_by = $2, decided_at = now(), decision_reason = $3
         WHERE id = $1",
        id,
        by.as_slice(),
        reason
    )
    .execute(&mut *tx)
    .await?;
    release(&mut tx, &before, AuthorisationStatus::Rejected).await?;
    let after = load_in(&mut tx, id, false).await?;
    record(&mut tx, by, "authorisation_reject", Some(&before), &after).await?;
    tx.commit().await?;
    Ok(after)
}

/// What a closed authorisation frees: a proposed treasury transfer or refund reserves nothing more, a proposed
/// forfeit is closed with it. (A payout batch
/// keeps its nonce: it is cancelled, as any, once the chain proves its deadline passed.)
async fn release(conn: &mut PgConnection, a: &Authorisation, status: AuthorisationStatus) -> Result<(), sqlx::Error> {
    match a.kind {
        OutflowKind::TreasuryTransfer | OutflowKind::Refund => {
            sqlx::query!(
                "UPDATE treasury_transfers SET status = $2 WHERE id = $1 AND status = 'proposed'",
                a.subject,
                status.as_str()
            )
            .execute(conn)
            .await?;
            Ok(())
        }
        OutflowKind::Forfeit => {
            sqlx::query!(
                "UPDATE forfeits SET status = $2 WHERE id = $1 AND status = 'proposed'",
                a.subject,
                status.as_str()
            )
            .execute(conn)
            .await?;
            Ok(())
        }
        OutflowKind::PayoutBatch | OutflowKind::SolvencyCommitment => Ok(()),
    }
}

async fn expire_in(
    conn: &mut PgConnection,
    before: Authorisation,
    now: u64,
) -> Result<Authorisation, AuthorisationError> {
    sqlx::query!(
        "UPDATE authorisations SET status = 'expired', decided_at = now(), decision_reason = $2
         WHERE id = $1 AND status IN ('proposed', 'approved')",
        before.id,
        format!("the deadline {} passed (chain time {now}) before the outflow was signed", before.deadline)
    )
    .execute(&mut *conn)
    .await?;
    release(conn, &before, AuthorisationStatus::Expired).await?;
    let after = load_in(conn, before.id, false).await?;
    record(conn, before.proposer, "authorisation_expire", Some(&before), &after).await?;
    Ok(after)
}

/// The stored signatures an outflow's sign request carries to the signer: the proposer's `propose` and every other
/// wallet's `approve`. `None` when the outflow has no authorisation; an error when it has one that is closed.
pub async fn signatures_for(
    pool: &PgPool,
    kind: OutflowKind,
    subject: i64,
) -> Result<Option<Authorisation>, AuthorisationError> {
    let Some(a) = of_subject(pool, kind, subject).await? else { return Ok(None) };
    if a.status.is_closed() {
        return Err(AuthorisationError::Closed { id: a.id, kind: a.kind, subject, status: a.status });
    }
    Ok(Some(a))
}

/// An outflow the signer service refused.
#[derive(Debug, Clone, Copy)]
pub enum RefusedOutflow {
    /// One carrying this authorisation's signatures.
    Authorised(i64),
    /// One of this kind asked for without a proposal, which a signer requiring approvals refuses too.
    Unproposed(OutflowKind),
}

/// Stores the signer service's refusal of `outflow` in the audit log.
pub async fn record_signer_refusal(
    pool: &PgPool,
    outflow: RefusedOutflow,
    actor: Address,
    code: &str,
    message: &str,
) -> Result<(), AuthorisationError> {
    let mut tx = pool.begin().await?;
    let (a, target) = match outflow {
        RefusedOutflow::Authorised(id) => (Some(load_in(&mut tx, id, false).await?), target(id)),
        RefusedOutflow::Unproposed(kind) => (None, format!("{kind}:unproposed")),
    };
    let actor = actor.to_checksum(None);
    let entry = AuditEntry {
        actor: &actor,
        action: "authorisation_signer_refused",
        target: &target,
        asset_id: a.as_ref().map(|a| a.asset_id),
        before: a.as_ref().map(state),
        after: json!({ "code": code, "message": message }),
    };
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}
