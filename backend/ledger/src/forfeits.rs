//! Forfeits as two-person approved actions the signer sees (issue 65, item 4; backend/SOLVENCY.md §1).
//!
//! A forfeit (PLAN.md §5) moves every held reward's rest of a member to the company. A finance wallet proposes it
//! ([`propose`]): the member, the rewards and their sum are fixed then, stored `proposed` with an authorisation of
//! kind [`OutflowKind::Forfeit`] whose payload is the [`abi::approval::Forfeit`] digest — so the proposer's and approvers' wallet
//! signatures cover exactly this member, amount and id. Once approved it is applied ([`apply`]) before its deadline
//! (the chain's clock), and only while the member's held rewards are still exactly those proposed (else `failed`:
//! propose again). Each liability root from the first round whose snapshot shows it applied carries it, with its
//! staff signatures, to the signer ([`carried`]), which checks them against its own list and lets the root's total
//! fall by it once. Nothing here can lower a root beyond what two staff wallets signed.

use alloy::primitives::{Address, U256};
use serde_json::json;
use sqlx::PgPool;

use crate::admin::{self, AdminError};
use crate::authorisations::{
    self as auth, Authorisation, AuthorisationError, AuthorisationStatus, OutflowKind, OutflowStatus, Proposal,
};
use crate::money::Money;

/// The most forfeits one liability root carries (the signer's own bound).
pub const MAX_CARRIED: i64 = 64;

/// Why a forfeit step was refused; nothing changed, except where it says the forfeit failed or expired.
#[derive(Debug, thiserror::Error)]
pub enum ForfeitError {
    /// The ledger refused (no such member, no held rewards, parts in flight) or the database failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The authorisation refused the step.
    #[error(transparent)]
    Authorisation(#[from] AuthorisationError),
    /// No forfeit with this id.
    #[error("no forfeit {0}")]
    Unknown(i64),
    /// The forfeit is not open, or its authorisation is not approved yet.
    #[error("{0}")]
    NotReady(String),
    /// The member's held rewards changed since the proposal: the forfeit failed, nothing moved.
    #[error("{0}")]
    Changed(String),
}

impl From<sqlx::Error> for ForfeitError {
    fn from(e: sqlx::Error) -> Self {
        Self::Admin(AdminError::Db(e))
    }
}

/// Where a forfeit's approvals are signed: the asset's chain and its Settlement contract now.
#[derive(Debug, Clone, Copy)]
pub struct Domain {
    /// The chain.
    pub chain_id: u64,
    /// The Settlement contract (the staff approvals' verifying contract).
    pub contract: Address,
}

/// A forfeit as stored.
#[derive(Debug, Clone)]
pub struct ForfeitRow {
    /// Its id: the approvals' nonce.
    pub id: i64,
    /// The asset.
    pub asset_id: i32,
    /// The member.
    pub member: Address,
    /// The held rewards it forfeits.
    pub rewards: Vec<i64>,
    /// Their rests' sum when proposed.
    pub amount: U256,
    /// Why, as the proposer wrote it.
    pub reason: String,
    /// `proposed`, `executed`, `rejected`, `expired` or `failed`.
    pub status: OutflowStatus,
    /// Why it failed.
    pub failure: Option<String>,
}

/// Forfeit `id`.
pub async fn load(pool: &PgPool, id: i64) -> Result<ForfeitRow, ForfeitError> {
    let r = sqlx::query!(
        r#"SELECT id, asset_id, member, rewards, amount AS "amount: Money", reason, status AS "status: OutflowStatus", failure
           FROM forfeits WHERE id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(ForfeitError::Unknown(id))?;
    Ok(ForfeitRow {
        id: r.id,
        asset_id: r.asset_id,
        member: Address::from_slice(&r.member),
        rewards: r.rewards,
        amount: r.amount.0,
        reason: r.reason,
        status: r.status,
        failure: r.failure,
    })
}

/// Proposes forfeiting every held reward's rest of `member` in `asset_id` for `reason`, by `proposer` (a finance
/// wallet: checked with the authorisation), approvable until `deadline` (the chain's clock) under `domain`. Refused
/// with nothing stored when the member has no held rewards, has parts of one in flight, or has a forfeit open already
/// (that one is answered instead).
pub async fn propose(
    pool: &PgPool,
    asset_id: i32,
    member: Address,
    reason: &str,
    proposer: Address,
    domain: Domain,
    deadline: u64,
) -> Result<Authorisation, ForfeitError> {
    let mut tx = pool.begin().await?;
    admin::lock_asset(&mut tx, asset_id).await?;
    let open = sqlx::query_scalar!(
        "SELECT a.id FROM forfeits f JOIN authorisations a ON a.kind = 'forfeit' AND a.subject = f.id
          WHERE f.asset_id = $1 AND f.member = $2 AND f.status = 'proposed'",
        asset_id,
        member.as_slice()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(open) = open {
        drop(tx);
        return Ok(auth::load(pool, open).await?);
    }
    let no = admin::user_no(&mut tx, asset_id, member).await?;
    let held = admin::held_rests(&mut tx, asset_id, no).await?;
    let mut amount = U256::ZERO;
    for (_, rest) in &held {
        amount += rest.0;
    }
    let rewards: Vec<i64> = held.iter().map(|(n, _)| *n).collect();
    let token = sqlx::query_scalar!("SELECT token FROM assets WHERE id = $1", asset_id).fetch_one(&mut *tx).await?;
    let token = Address::from_slice(&token);
    let id = sqlx::query_scalar!(
        "INSERT INTO forfeits (asset_id, member, rewards, amount, reason) VALUES ($1, $2, $3, $4::text::numeric, $5)
         RETURNING id",
        asset_id,
        member.as_slice(),
        &rewards,
        amount.to_string(),
        reason
    )
    .fetch_one(&mut *tx)
    .await?;
    let forfeit = abi::approval::Forfeit::new(member, token, amount, id as u64, deadline);
    let proposal = Proposal {
        kind: OutflowKind::Forfeit,
        subject: id,
        asset_id,
        chain_id: domain.chain_id,
        contract: domain.contract,
        token,
        payload: forfeit.digest(domain.chain_id, domain.contract),
        total: amount,
        nonce: U256::from(id as u64),
        deadline,
    };
    let a = auth::propose_in(&mut tx, &proposal, proposer).await?;
    crate::audit::record(
        &mut tx,
        crate::audit::AuditEntry {
            actor: &proposer.to_checksum(None),
            action: "forfeit_propose",
            target: &member.to_string(),
            asset_id: Some(asset_id),
            before: None,
            after: json!({ "forfeit": id, "authorisation": a.id, "rewards": rewards, "amount": amount.to_string(),
                           "reason": reason, "deadline": deadline }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(a)
}

/// Applies approved forfeit `id` (its authorisation approved, the chain's clock `now` before its deadline) as
/// `actor`: the member's held rewards move to the company, in one transaction with the forfeit's `executed`. Applying
/// one applied already answers it unchanged. When the member's held rewards are no longer exactly those proposed the
/// forfeit is `failed` and nothing moves ([`ForfeitError::Changed`]); past its deadline it is `expired`.
pub async fn apply(pool: &PgPool, id: i64, actor: Address, now: u64) -> Result<ForfeitRow, ForfeitError> {
    let a = auth::of_subject(pool, OutflowKind::Forfeit, id).await?.ok_or(ForfeitError::Unknown(id))?;
    let mut tx = pool.begin().await?;
    admin::lock_asset(&mut tx, a.asset_id).await?;
    let status =
        sqlx::query_scalar!(r#"SELECT status AS "status: OutflowStatus" FROM forfeits WHERE id = $1 FOR UPDATE"#, id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(ForfeitError::Unknown(id))?;
    if status == OutflowStatus::Executed {
        drop(tx);
        return load(pool, id).await;
    }
    if status != OutflowStatus::Proposed {
        return Err(ForfeitError::NotReady(format!("forfeit {id} is {status}")));
    }
    if a.status != AuthorisationStatus::Approved {
        return Err(ForfeitError::NotReady(format!(
            "forfeit {id} is not approved yet (authorisation {} is {}): it applies once its approvals are in",
            a.id, a.status
        )));
    }
    if a.deadline <= now {
        let why = format!("the deadline {} passed (chain time {now}) before the forfeit was applied", a.deadline);
        sqlx::query!("UPDATE forfeits SET status = 'expired' WHERE id = $1", id).execute(&mut *tx).await?;
        sqlx::query!(
            "UPDATE authorisations SET status = 'expired', decided_at = now(), decision_reason = $2 WHERE id = $1",
            a.id,
            why
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Err(ForfeitError::NotReady(format!("forfeit {id} expired: {why}")));
    }
    let proposed = load(pool, id).await?;
    let no = admin::user_no(&mut tx, a.asset_id, proposed.member).await?;
    let held = match admin::held_rests(&mut tx, a.asset_id, no).await {
        Ok(held) => held,
        Err(AdminError::NoChange(_)) => Vec::new(),
        Err(AdminError::Refused { message, .. }) => return Err(ForfeitError::NotReady(message)),
        Err(e) => return Err(e.into()),
    };
    let mut now_amount = U256::ZERO;
    for (_, rest) in &held {
        now_amount += rest.0;
    }
    let now_rewards: Vec<i64> = held.iter().map(|(n, _)| *n).collect();
    if now_rewards != proposed.rewards || now_amount != proposed.amount {
        let why = format!(
            "the member's held rewards changed since the proposal ({} in {} rewards then, {now_amount} in {} now): \
             nothing was forfeited; propose again",
            proposed.amount,
            proposed.rewards.len(),
            now_rewards.len()
        );
        sqlx::query!("UPDATE forfeits SET status = 'failed', failure = $2 WHERE id = $1", id, why)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Err(ForfeitError::Changed(why));
    }
    let (_, before, mut after) = admin::forfeit_rewards(&mut tx, a.asset_id, no, &held).await?;
    sqlx::query!("UPDATE forfeits SET status = 'executed', executed_at = now() WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    after["forfeit"] = json!(id);
    after["authorisation"] = json!(a.id);
    let actor = actor.to_checksum(None);
    admin::finish(tx, a.asset_id, &actor, "forfeit_held", &proposed.member.to_string(), before, after).await?;
    load(pool, id).await
}

/// Marks the forfeits of `asset_id` applied as of a snapshot (`ids`) with `round`, the first solvency round that shows
/// them, where no earlier round does.
pub async fn mark_round(
    conn: &mut sqlx::PgConnection,
    asset_id: i32,
    ids: &[i64],
    round: u64,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE forfeits SET first_round = $3 WHERE asset_id = $1 AND id = ANY($2) AND first_round IS NULL",
        asset_id,
        ids,
        round as i64
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An applied forfeit a liability root carries to the signer: the member, and its authorisation (the amount, deadline
/// and contract its staff signed, and their signatures).
#[derive(Debug, Clone)]
pub struct Carried {
    /// The forfeit's id.
    pub id: i64,
    /// The member.
    pub member: Address,
    /// Its authorisation, approved.
    pub authorisation: Authorisation,
}

/// The applied forfeits of `asset_id` that round `round`'s root carries: those the rounds since the latest committed
/// one first showed, up to and including `round` (at most [`MAX_CARRIED`], oldest first).
pub async fn carried(pool: &PgPool, asset_id: i32, round: u64) -> Result<Vec<Carried>, AuthorisationError> {
    let rows = sqlx::query!(
        r#"SELECT f.id, f.member, a.id AS authorisation FROM forfeits f
             JOIN authorisations a ON a.kind = 'forfeit' AND a.subject = f.id
            WHERE f.asset_id = $1 AND f.status = 'executed' AND f.first_round <= $2
              AND f.first_round > coalesce((SELECT max(round) FROM solvency_epochs
                                             WHERE asset_id = $1 AND status = 'committed'), 0)
            ORDER BY f.id LIMIT $3"#,
        asset_id,
        round as i64,
        MAX_CARRIED
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let authorisation = auth::load(pool, r.authorisation).await?;
        out.push(Carried { id: r.id, member: Address::from_slice(&r.member), authorisation });
    }
    Ok(out)
}
