//! Staff roles (issue 45, `backend/STAFF.md` §2): which wallet may do what in the API, written only through approved
//! changes. A change (grant or revoke one role of one wallet) is proposed by an admin and applied when a wallet holding
//! `approver` other than the proposer approves it; it can be rejected with a reason or withdrawn by its proposer. While
//! no wallet but the proposer holds `approver` (a team of one, right after the configuration's seed) there is no second
//! person to ask, and a change applies at once — audited as such. The last admin cannot be removed.
//!
//! Every change runs under `LOCK TABLE staff_roles IN EXCLUSIVE MODE` (roles are changed rarely; readers are not
//! blocked), so the checks it makes — the last admin, who else approves — hold when it commits. Every step is an
//! `audit_logs` entry in the same transaction.

use alloy::primitives::Address;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::audit::{self, AuditEntry};

/// A staff role (STAFF.md §2). Any role lets a wallet read every console page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StaffRole {
    /// Reads every console page; changes nothing.
    Viewer,
    /// Looks members up, freezes and unfreezes them with a reason.
    Support,
    /// Proposes payout batches, treasury transfers and refunds.
    Finance,
    /// Approves or rejects what another proposed.
    Approver,
    /// Plan versions, assets, manual placement, monitoring requests and staff roles.
    Admin,
    /// The sales plan's catalogue: products, their prices and pv (a role of its own: merchandising moves no money,
    /// and an admin does not hold it unless granted; the configuration's first admin is seeded with every role).
    Catalogue,
}

impl StaffRole {
    /// Every role, in the order the console lists them.
    pub const ALL: [StaffRole; 6] = [
        StaffRole::Viewer,
        StaffRole::Support,
        StaffRole::Finance,
        StaffRole::Approver,
        StaffRole::Admin,
        StaffRole::Catalogue,
    ];

    /// Its name, as stored and as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Viewer => "viewer",
            StaffRole::Support => "support",
            StaffRole::Finance => "finance",
            StaffRole::Approver => "approver",
            StaffRole::Admin => "admin",
            StaffRole::Catalogue => "catalogue",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// Whether a change gives a role or takes it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// The wallet gets the role.
    Grant,
    /// The wallet loses the role.
    Revoke,
}

impl ChangeAction {
    /// Its name, as stored and as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Grant => "grant",
            ChangeAction::Revoke => "revoke",
        }
    }
}

/// Why a role change was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// The database failed; the transaction rolled back.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No change with this id.
    #[error("no role change {0}")]
    Unknown(i64),
    /// The change was decided already.
    #[error("role change {0} is {1}, no longer proposed")]
    NotOpen(i64, String),
    /// The change would change nothing (the wallet holds the role already, or does not hold it).
    #[error("{0}")]
    NoChange(String),
    /// A change of the same wallet and role is proposed already.
    #[error("a change of {role} for {wallet} is proposed already (change {id})")]
    AlreadyProposed {
        /// The open change's id.
        id: i64,
        /// The wallet, EIP-55.
        wallet: String,
        /// The role.
        role: &'static str,
    },
    /// Revoking it would leave no admin.
    #[error("{0} is the last admin: grant admin to another wallet first")]
    LastAdmin(String),
    /// The proposer may not approve or reject their own change.
    #[error("role change {0} was proposed by this wallet: another approver must decide it")]
    OwnProposal(i64),
    /// The wallet acting lacks the role the step needs (roles may have changed since it signed in).
    #[error("this wallet does not hold the {0} role")]
    NotPermitted(&'static str),
}

/// One role of one wallet, and the change that granted it.
#[derive(Debug, Clone)]
pub struct Granted {
    /// The wallet.
    pub wallet: Address,
    /// The role.
    pub role: StaffRole,
    /// The change that granted it.
    pub change_id: i64,
    /// When it was granted, RFC 3339 UTC.
    pub granted_at: String,
}

/// A proposed or decided role change.
#[derive(Debug, Clone)]
pub struct RoleChange {
    /// Its id.
    pub id: i64,
    /// Grant or revoke.
    pub action: ChangeAction,
    /// The wallet whose role changes.
    pub wallet: Address,
    /// The role.
    pub role: StaffRole,
    /// Why, in the proposer's words.
    pub reason: String,
    /// Who proposed it; `None` for the configuration's seed.
    pub proposer: Option<Address>,
    /// When, RFC 3339 UTC.
    pub proposed_at: String,
    /// `proposed`, `applied`, `rejected` or `withdrawn`.
    pub status: String,
    /// Who decided it (the approver, the rejecting approver, the proposer who withdrew, or the proposer of a team of
    /// one's change); `None` while proposed and for the seed.
    pub decided_by: Option<Address>,
    /// When it was decided, RFC 3339 UTC.
    pub decided_at: Option<String>,
    /// A rejection's reason, or why it applied without a second person.
    pub decision_reason: Option<String>,
}

/// The reason recorded on a change that applied at once because nobody but its proposer holds `approver`.
pub const TEAM_OF_ONE: &str = "applied at once: no wallet but the proposer holds the approver role (a team of one)";

fn address(bytes: &[u8]) -> Address {
    Address::from_slice(bytes)
}

fn role_of(name: &str) -> Result<StaffRole, sqlx::Error> {
    StaffRole::parse(name).ok_or_else(|| sqlx::Error::Decode(format!("unknown staff role {name:?}").into()))
}

/// The roles `wallet` holds now, in [`StaffRole::ALL`]'s order; empty for a member.
pub async fn roles_of(pool: &PgPool, wallet: Address) -> Result<Vec<StaffRole>, sqlx::Error> {
    let names = sqlx::query_scalar!("SELECT role FROM staff_roles WHERE wallet = $1", wallet.as_slice())
        .fetch_all(pool)
        .await?;
    let mut roles = names.iter().map(|n| role_of(n)).collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    Ok(roles)
}

/// Every role held now, by wallet then role.
pub async fn granted(pool: &PgPool) -> Result<Vec<Granted>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT wallet, role, change_id, rfc3339(granted_at) AS "granted_at!" FROM staff_roles ORDER BY wallet, role"#
    )
    .fetch_all(pool)
    .await?;
    let mut all = rows
        .into_iter()
        .map(|r| {
            Ok(Granted {
                wallet: address(&r.wallet),
                role: role_of(&r.role)?,
                change_id: r.change_id,
                granted_at: r.granted_at,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    all.sort_by_key(|g| (g.wallet, g.role));
    Ok(all)
}

/// Gives each of `admins` every role, once, on an empty table (the configuration's `[auth] admins` at start-up: a new
/// deployment can operate from its first minute, and its admin then grants roles to its staff and gives up what it
/// should not keep). Returns how many roles it granted: none once any role exists.
pub async fn seed(pool: &PgPool, admins: &[Address]) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    lock(&mut tx).await?;
    let any = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM staff_roles) AS "any!""#).fetch_one(&mut *tx).await?;
    if any || admins.is_empty() {
        return Ok(0);
    }
    let mut count = 0;
    for wallet in admins {
        for role in StaffRole::ALL {
            let id = sqlx::query_scalar!(
                "INSERT INTO staff_role_changes (action, wallet, role, reason, status, decided_at)
                 VALUES ('grant', $1, $2, 'seeded from the configuration''s [auth] admins', 'applied', now())
                 RETURNING id",
                wallet.as_slice(),
                role.as_str()
            )
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query!(
                "INSERT INTO staff_roles (wallet, role, change_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                wallet.as_slice(),
                role.as_str(),
                id
            )
            .execute(&mut *tx)
            .await?;
            count += 1;
        }
        audit::record(
            &mut tx,
            AuditEntry {
                actor: "configuration",
                action: "staff_seed",
                target: &format!("staff:{}", wallet.to_checksum(None)),
                asset_id: None,
                before: None,
                after: json!({ "roles": StaffRole::ALL.map(StaffRole::as_str) }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(count)
}

async fn lock(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("LOCK TABLE staff_roles IN EXCLUSIVE MODE").execute(conn).await?;
    Ok(())
}

pub(crate) async fn holds(conn: &mut PgConnection, wallet: Address, role: StaffRole) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM staff_roles WHERE wallet = $1 AND role = $2) AS "held!""#,
        wallet.as_slice(),
        role.as_str()
    )
    .fetch_one(conn)
    .await
}

/// How many wallets other than `except` hold `role`.
async fn others_holding(conn: &mut PgConnection, role: StaffRole, except: Address) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM staff_roles WHERE role = $1 AND wallet <> $2"#,
        role.as_str(),
        except.as_slice()
    )
    .fetch_one(conn)
    .await
}

/// Refuses a change that would change nothing or remove the last admin (checked when proposed and again when applied).
async fn check_applicable(
    conn: &mut PgConnection,
    action: ChangeAction,
    wallet: Address,
    role: StaffRole,
) -> Result<(), StaffError> {
    let held = holds(conn, wallet, role).await?;
    let who = wallet.to_checksum(None);
    match action {
        ChangeAction::Grant if held => Err(StaffError::NoChange(format!("{who} holds {} already", role.as_str()))),
        ChangeAction::Revoke if !held => Err(StaffError::NoChange(format!("{who} does not hold {}", role.as_str()))),
        ChangeAction::Revoke if role == StaffRole::Admin && others_holding(conn, role, wallet).await? == 0 => {
            Err(StaffError::LastAdmin(who))
        }
        _ => Ok(()),
    }
}

/// A `staff_role_changes` row as stored.
struct ChangeRow {
    id: i64,
    action: String,
    wallet: Vec<u8>,
    role: String,
    reason: String,
    proposer: Option<Vec<u8>>,
    proposed_at: String,
    status: String,
    decided_by: Option<Vec<u8>>,
    decided_at: Option<String>,
    decision_reason: Option<String>,
}

impl TryFrom<ChangeRow> for RoleChange {
    type Error = sqlx::Error;

    fn try_from(row: ChangeRow) -> Result<Self, sqlx::Error> {
        Ok(RoleChange {
            id: row.id,
            action: if row.action == "grant" { ChangeAction::Grant } else { ChangeAction::Revoke },
            wallet: address(&row.wallet),
            role: role_of(&row.role)?,
            reason: row.reason,
            proposer: row.proposer.as_deref().map(address),
            proposed_at: row.proposed_at,
            status: row.status,
            decided_by: row.decided_by.as_deref().map(address),
            decided_at: row.decided_at,
            decision_reason: row.decision_reason,
        })
    }
}

/// Change `id`, locked for the caller's transaction.
async fn load(conn: &mut PgConnection, id: i64) -> Result<RoleChange, StaffError> {
    let row = sqlx::query_as!(
        ChangeRow,
        r#"SELECT id, action, wallet, role, reason, proposer, rfc3339(proposed_at) AS "proposed_at!", status,
                decided_by, rfc3339(decided_at) AS decided_at, decision_reason
         FROM staff_role_changes WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.ok_or(StaffError::Unknown(id))?.try_into()?)
}

/// The role changes, newest first: those proposed (`open`), or every one; `before` is the previous page's last id.
pub async fn changes(
    pool: &PgPool,
    open: bool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<RoleChange>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ChangeRow,
        r#"SELECT id, action, wallet, role, reason, proposer, rfc3339(proposed_at) AS "proposed_at!", status,
                decided_by, rfc3339(decided_at) AS decided_at, decision_reason
         FROM staff_role_changes
         WHERE ($1 = false OR status = 'proposed') AND ($2::bigint IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"#,
        open,
        before,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(RoleChange::try_from).collect()
}

fn target(change: &RoleChange) -> String {
    format!("staff:{}:{}", change.wallet.to_checksum(None), change.role.as_str())
}

fn state(change: &RoleChange) -> serde_json::Value {
    json!({
        "change": change.id,
        "action": change.action.as_str(),
        "wallet": change.wallet.to_checksum(None),
        "role": change.role.as_str(),
        "reason": change.reason,
        "status": change.status,
        "decision_reason": change.decision_reason,
    })
}

/// Writes the role itself (grant: inserted; revoke: deleted) for an approved change.
async fn apply(conn: &mut PgConnection, change: &RoleChange) -> Result<(), StaffError> {
    check_applicable(conn, change.action, change.wallet, change.role).await?;
    match change.action {
        ChangeAction::Grant => {
            sqlx::query!(
                "INSERT INTO staff_roles (wallet, role, change_id) VALUES ($1, $2, $3)",
                change.wallet.as_slice(),
                change.role.as_str(),
                change.id
            )
            .execute(&mut *conn)
            .await?;
        }
        ChangeAction::Revoke => {
            sqlx::query!(
                "DELETE FROM staff_roles WHERE wallet = $1 AND role = $2",
                change.wallet.as_slice(),
                change.role.as_str()
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

async fn set_status(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    decided_by: Address,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE staff_role_changes SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4
         WHERE id = $1",
        id,
        status,
        decided_by.as_slice(),
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Proposes a change by `proposer` (an admin: checked here too, in the change's transaction). It applies at once when
/// no wallet but the proposer holds `approver` ([`TEAM_OF_ONE`]); otherwise it waits for an approver.
pub async fn propose(
    pool: &PgPool,
    proposer: Address,
    action: ChangeAction,
    wallet: Address,
    role: StaffRole,
    reason: &str,
) -> Result<RoleChange, StaffError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx).await?;
    if !holds(&mut tx, proposer, StaffRole::Admin).await? {
        return Err(StaffError::NotPermitted("admin"));
    }
    check_applicable(&mut tx, action, wallet, role).await?;
    let open = sqlx::query_scalar!(
        "SELECT id FROM staff_role_changes WHERE wallet = $1 AND role = $2 AND status = 'proposed'",
        wallet.as_slice(),
        role.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = open {
        return Err(StaffError::AlreadyProposed { id, wallet: wallet.to_checksum(None), role: role.as_str() });
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO staff_role_changes (action, wallet, role, reason, proposer) VALUES ($1, $2, $3, $4, $5)
         RETURNING id",
        action.as_str(),
        wallet.as_slice(),
        role.as_str(),
        reason,
        proposer.as_slice()
    )
    .fetch_one(&mut *tx)
    .await?;
    let change = load(&mut tx, id).await?;
    let actor = proposer.to_checksum(None);
    audit::record(
        &mut tx,
        AuditEntry {
            actor: &actor,
            action: "staff_role_propose",
            target: &target(&change),
            asset_id: None,
            before: None,
            after: state(&change),
        },
    )
    .await?;
    let change = if others_holding(&mut tx, StaffRole::Approver, proposer).await? == 0 {
        decide_in(&mut tx, change, proposer, Decision::Apply(Some(TEAM_OF_ONE))).await?
    } else {
        change
    };
    tx.commit().await?;
    Ok(change)
}

/// What an approver (or the proposer) does with a proposed change.
#[derive(Debug, Clone, Copy)]
pub enum Decision<'a> {
    /// Apply it (an approver's approval; the reason is recorded only for a team of one).
    Apply(Option<&'a str>),
    /// Reject it, with the approver's reason.
    Reject(&'a str),
    /// Withdraw it (its proposer).
    Withdraw,
}

async fn decide_in(
    conn: &mut PgConnection,
    before: RoleChange,
    by: Address,
    decision: Decision<'_>,
) -> Result<RoleChange, StaffError> {
    let (status, reason, action) = match decision {
        Decision::Apply(reason) => {
            apply(conn, &before).await?;
            ("applied", reason, "staff_role_apply")
        }
        Decision::Reject(reason) => ("rejected", Some(reason), "staff_role_reject"),
        Decision::Withdraw => ("withdrawn", None, "staff_role_withdraw"),
    };
    set_status(conn, before.id, status, by, reason).await?;
    let after = load(conn, before.id).await?;
    let actor = by.to_checksum(None);
    audit::record(
        conn,
        AuditEntry {
            actor: &actor,
            action,
            target: &target(&after),
            asset_id: None,
            before: Some(state(&before)),
            after: state(&after),
        },
    )
    .await?;
    Ok(after)
}

/// Decides change `id`: an approver other than its proposer approves or rejects it; only its proposer withdraws it.
/// The decider's role is checked here, in the change's transaction.
pub async fn decide(pool: &PgPool, id: i64, by: Address, decision: Decision<'_>) -> Result<RoleChange, StaffError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx).await?;
    let change = load(&mut tx, id).await?;
    if change.status != "proposed" {
        return Err(StaffError::NotOpen(id, change.status));
    }
    let own = change.proposer == Some(by);
    match decision {
        Decision::Withdraw if !own => return Err(StaffError::NotPermitted("proposer of this change")),
        Decision::Withdraw => {}
        Decision::Apply(_) | Decision::Reject(_) if own => return Err(StaffError::OwnProposal(id)),
        Decision::Apply(_) | Decision::Reject(_) => {
            if !holds(&mut tx, by, StaffRole::Approver).await? {
                return Err(StaffError::NotPermitted("approver"));
            }
        }
    }
    let decision = match decision {
        Decision::Apply(_) => Decision::Apply(None),
        other => other,
    };
    let after = decide_in(&mut tx, change, by, decision).await?;
    tx.commit().await?;
    Ok(after)
}
