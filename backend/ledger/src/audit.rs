//! The append-only audit log: one way to write a row, for the ledger's admin actions and the API's alike. An
//! entry about an asset records the asset's ledger position (`applied_events`) so that a replay from the raw
//! events can interleave the admin actions where they happened.

use serde_json::Value;
use sqlx::PgConnection;

/// One audited action: who did what to which target, with the state before and after.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// The admin's wallet (EIP-55) or the service that acted.
    pub actor: &'a str,
    /// What was done, e.g. `freeze`, `payout_batch_sign`.
    pub action: &'a str,
    /// What it was done to, e.g. `user:0x…`, `payout_batch:7`.
    pub target: &'a str,
    /// The asset concerned, if any (its ledger position is recorded with it).
    pub asset_id: Option<i32>,
    /// The state before; `None` when the action created the target.
    pub before: Option<Value>,
    /// The state the action left; always recorded, unlike `before`.
    pub after: Value,
}

/// Appends `entry` in the caller's transaction.
pub async fn record(conn: &mut PgConnection, entry: AuditEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO audit_logs (actor, action, asset_id, target, before, after, applied_events)
         VALUES ($1, $2, $3, $4, $5, $6, (SELECT applied_events FROM assets WHERE id = $3))",
        entry.actor,
        entry.action,
        entry.asset_id,
        entry.target,
        entry.before,
        entry.after
    )
    .execute(conn)
    .await?;
    Ok(())
}
