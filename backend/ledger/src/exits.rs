//! The members' exit as the ledger knows it (contracts/EXIT.md): a contract's `ExitOpened`, recorded by the listener
//! in its transaction. An asset whose exit opened on any of its chain's contracts takes no payment, payout or
//! transfer any more (the contract refuses them; the API says so first), and its custody is the exit contract's to
//! pay out to members, not the ledger's to reconcile.

use alloy::primitives::{Address, B256, U256};
use sqlx::PgPool;

use crate::money::Money;
use crate::payouts::Tx;

/// An opened exit of an asset on one contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitOpening {
    /// The asset.
    pub asset_id: i32,
    /// Its chain.
    pub chain_id: u64,
    /// Its token (zero: the native coin).
    pub token: Address,
    /// The Settlement contract whose exit opened.
    pub contract: Address,
    /// The block of the opening.
    pub block: u64,
    /// Its transaction.
    pub tx_hash: B256,
    /// What went to the exit contract: the balance less what was claimable.
    pub custody: U256,
}

/// Records `contract`'s opening of `asset_id`'s exit (once: the event is applied once, and the row never changes).
pub(crate) async fn record_opening(
    tx: &mut Tx,
    asset_id: i32,
    contract: Address,
    block: u64,
    tx_hash: B256,
    custody: U256,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO settlement_exits (asset_id, contract, opened_block, opened_tx, custody)
         VALUES ($1, $2, $3, $4, $5::text::numeric) ON CONFLICT (asset_id, contract) DO NOTHING",
        asset_id,
        contract.as_slice(),
        block as i64,
        tx_hash.as_slice(),
        custody.to_string()
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The openings of `asset_id`'s exit (one per contract at most), oldest first; empty while none opened.
pub async fn openings(pool: &PgPool, asset_id: i32) -> Result<Vec<ExitOpening>, sqlx::Error> {
    openings_of(pool, Some(asset_id)).await
}

/// Every opening of every asset, oldest first.
pub async fn all_openings(pool: &PgPool) -> Result<Vec<ExitOpening>, sqlx::Error> {
    openings_of(pool, None).await
}

async fn openings_of(pool: &PgPool, asset_id: Option<i32>) -> Result<Vec<ExitOpening>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT e.asset_id, a.chain_id, a.token, e.contract, e.opened_block, e.opened_tx, e.custody AS "custody: Money"
           FROM settlement_exits e JOIN assets a ON a.id = e.asset_id
           WHERE $1::int IS NULL OR e.asset_id = $1 ORDER BY e.opened_block, e.asset_id"#,
        asset_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ExitOpening {
            asset_id: r.asset_id,
            chain_id: r.chain_id as u64,
            token: Address::from_slice(&r.token),
            contract: Address::from_slice(&r.contract),
            block: r.opened_block as u64,
            tx_hash: B256::from_slice(&r.opened_tx),
            custody: r.custody.0,
        })
        .collect())
}
