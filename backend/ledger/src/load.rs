//! Rebuilding every asset's plan from the ledger tables, each by its room (found in the registry).

use alloy::primitives::Address;

use crate::error::LedgerError;
use crate::plan::PlanKind;
use crate::plan::registry;
use crate::plan::room::{AssetAt, PlanBook, Tx};
use crate::stored;

/// One asset's plan and the counters it was loaded at.
#[derive(Debug)]
pub(crate) struct AssetBook {
    pub(crate) id: i32,
    pub(crate) token: Address,
    pub(crate) plan: Box<dyn PlanBook>,
    pub(crate) admin_seq: i64,
    /// The newest `audit_logs` id of this asset the engine reflects (to notice manual placements).
    pub(crate) audit_seen: i64,
}

/// Loads every asset of a chain (asset rows must already be locked or stable).
pub(super) async fn chain_assets(tx: &mut Tx, chain_id: u64) -> Result<Vec<AssetBook>, LedgerError> {
    let rows = sqlx::query!(
        "SELECT id, token, applied_events, admin_seq, plan_kind, next_period, last_block FROM assets
         WHERE chain_id = $1 ORDER BY id",
        chain_id as i64
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut books = Vec::with_capacity(rows.len());
    for r in rows {
        let (id, admin_seq) = (r.id, r.admin_seq);
        let token = Address::from_slice(&r.token);
        let kind = PlanKind::parse(&r.plan_kind)
            .ok_or_else(|| LedgerError::Corrupt(format!("asset {id}: unknown plan kind {}", r.plan_kind)))?;
        let at = AssetAt {
            id,
            applied_events: r.applied_events as u64,
            next_period: r.next_period.map(|p| p as u64),
            last_block: r.last_block.unwrap_or(0) as u64,
        };
        let plan = registry::room(kind).load(tx, at).await?;
        let audit_seen = last_audit_id(tx, id).await?;
        books.push(AssetBook { id, token, plan, admin_seq, audit_seen });
    }
    Ok(books)
}

/// Re-reads what admin actions change: frozen flags, company-credit numbers, and what the plan itself re-reads.
pub(super) async fn refresh_admin_state(tx: &mut Tx, book: &mut AssetBook) -> Result<(), LedgerError> {
    let admin_seq =
        sqlx::query_scalar!("SELECT admin_seq FROM assets WHERE id = $1", book.id).fetch_one(&mut **tx).await?;
    let frozen = sqlx::query_scalar!("SELECT user_no FROM users WHERE asset_id = $1 AND frozen", book.id)
        .fetch_all(&mut **tx)
        .await?;
    let plan = book.plan.plan_mut();
    let count = plan.users().len() as u32;
    for u in 0..count {
        plan.set_frozen(u, false);
    }
    for u in frozen {
        if u as u32 >= count {
            return Err(LedgerError::Corrupt(format!("frozen user {u} unknown to the engine")));
        }
        plan.set_frozen(u as u32, true);
    }
    let next_credit = stored::next_credit_no(tx, book.id).await?;
    plan.set_company_credit_counter(next_credit);
    // Plan versions, and the company's balance for plans paying from it (forfeits credit the company).
    book.plan.refresh(tx, book.id).await?;
    book.admin_seq = admin_seq;
    book.audit_seen = last_audit_id(tx, book.id).await?;
    Ok(())
}

async fn last_audit_id(tx: &mut Tx, asset_id: i32) -> Result<i64, LedgerError> {
    Ok(sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) AS "last!" FROM audit_logs WHERE asset_id = $1"#, asset_id)
        .fetch_one(&mut **tx)
        .await?)
}
