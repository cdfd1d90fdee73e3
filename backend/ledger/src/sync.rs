//! The listener's sync state: the block cursor it has applied through (moved only forward, inside the apply
//! transaction) with the recent block hashes a reorg is detected by, and every chain's listener position as the
//! API and the listener's metrics report it.

use alloy::primitives::B256;
use sqlx::PgPool;

use crate::error::LedgerError;

/// A confirmed block the listener has applied through: number and hash (the next block must link to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCursor {
    /// Height of the last block applied in full.
    pub number: u64,
    /// Block hash; a next block whose parent differs reveals a reorg.
    pub hash: B256,
}

/// How many recent applied-block hashes are kept per chain.
const RECENT_BLOCKS_KEPT: i64 = 256;

/// One chain's listener position, as the API and the listener's metrics report it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListenerStatus {
    /// Chain the listener follows.
    pub chain_id: u64,
    /// The last confirmed block applied in full.
    pub confirmed_block: Option<u64>,
    /// The chain head the listener last saw.
    pub chain_head: Option<u64>,
    /// The confirmation depth the listener applies blocks at.
    pub confirmations: Option<u64>,
    /// Confirmed blocks not yet applied ([`confirmed_lag`]); 0 when the listener is caught up.
    pub lag_blocks: Option<u64>,
    /// Seconds since the listener last saw the head (a stalled listener or provider shows here).
    pub head_age_seconds: Option<f64>,
    /// Set when the listener stopped itself; it stays stopped until a person clears it.
    pub halted_reason: Option<String>,
}

/// The one meaning of listener lag: blocks deep enough to apply (`head − confirmations`) that the ledger has not
/// applied yet. 0 when caught up; it grows with every block mined while the listener stands still.
pub fn confirmed_lag(head: u64, confirmations: u64, applied_through: u64) -> u64 {
    head.saturating_sub(confirmations).saturating_sub(applied_through)
}

/// The listener position of every chain the ledger has assets on or a listener has written, by chain id.
pub async fn listener_statuses(pool: &PgPool) -> Result<Vec<ListenerStatus>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT c.chain_id AS "chain_id!", s.listener_block AS "listener_block?", s.chain_head AS "chain_head?",
                s.confirmations AS "confirmations?",
                extract(epoch FROM now() - s.chain_head_seen_at)::float8 AS "head_age?",
                s.halted_reason AS "halted_reason?"
         FROM (SELECT chain_id FROM assets UNION SELECT chain_id FROM blockchain_sync) c
         LEFT JOIN blockchain_sync s ON s.chain_id = c.chain_id
         ORDER BY c.chain_id"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let confirmed_block = r.listener_block.map(|b| b as u64);
            let chain_head = r.chain_head.map(|h| h as u64);
            let confirmations = r.confirmations.map(|c| c as u64);
            ListenerStatus {
                chain_id: r.chain_id as u64,
                confirmed_block,
                chain_head,
                confirmations,
                lag_blocks: chain_head
                    .map(|h| confirmed_lag(h, confirmations.unwrap_or(0), confirmed_block.unwrap_or(0))),
                head_age_seconds: r.head_age.map(|a| a.max(0.0)),
                halted_reason: r.halted_reason,
            }
        })
        .collect())
}

/// Moves the listener's block cursor forward to `through` (never back) and remembers its hash.
pub(crate) async fn write_block_cursor(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    chain_id: u64,
    through: BlockCursor,
) -> Result<(), LedgerError> {
    let moved = sqlx::query!(
        "UPDATE blockchain_sync SET listener_block = $2, listener_block_hash = $3, updated_at = now()
         WHERE chain_id = $1 AND (listener_block IS NULL OR listener_block < $2)",
        chain_id as i64,
        through.number as i64,
        through.hash.as_slice()
    )
    .execute(&mut **tx)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(LedgerError::OutOfOrder { position: (through.number, 0), cursor: None });
    }
    sqlx::query!(
        "INSERT INTO listener_blocks (chain_id, block_number, block_hash) VALUES ($1, $2, $3)",
        chain_id as i64,
        through.number as i64,
        through.hash.as_slice()
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        "DELETE FROM listener_blocks WHERE chain_id = $1 AND block_number < (
             SELECT min(block_number) FROM (SELECT block_number FROM listener_blocks WHERE chain_id = $1
                                            ORDER BY block_number DESC LIMIT $2) newest)",
        chain_id as i64,
        RECENT_BLOCKS_KEPT
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The advisory lock class of the listener's per-chain lock ("LSNR").
const LISTENER_LOCK_CLASS: i32 = 0x4c53_4e52;

/// The listener's lock of `chain_id`, taken on `connection` (a session lock: held until that connection closes)
/// when no other session holds it; whether it was taken.
pub async fn try_listener_lock(connection: &mut sqlx::PgConnection, chain_id: u64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_lock($1, $2) AS "locked!""#,
        LISTENER_LOCK_CLASS,
        chain_id as u32 as i32
    )
    .fetch_one(connection)
    .await
}

/// The hashes of the blocks `from..=to` of `chain_id` the listener applied and still remembers (the recent ones).
pub async fn applied_blocks(
    pool: &PgPool,
    chain_id: u64,
    from: u64,
    to: u64,
) -> Result<std::collections::HashMap<u64, B256>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT block_number, block_hash FROM listener_blocks WHERE chain_id = $1 AND block_number BETWEEN $2 AND $3",
        chain_id as i64,
        from as i64,
        to as i64
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.block_number as u64, B256::from_slice(&r.block_hash))).collect())
}

/// The stored outcome (`applied`, `quarantined`, …) of each of `keys` (all of `chain_id`) that is stored.
pub async fn event_outcomes(
    pool: &PgPool,
    chain_id: u64,
    keys: &[crate::events::EventKey],
) -> Result<std::collections::HashMap<crate::events::EventKey, String>, sqlx::Error> {
    let hashes: Vec<Vec<u8>> = keys.iter().map(|k| k.tx_hash.to_vec()).collect();
    let logs: Vec<i64> = keys.iter().map(|k| k.log_index as i64).collect();
    let rows = sqlx::query!(
        "SELECT c.tx_hash, c.log_index, c.outcome FROM chain_events c
         JOIN UNNEST($2::bytea[], $3::int8[]) AS k(h, i) ON c.tx_hash = k.h AND c.log_index = k.i
         WHERE c.chain_id = $1",
        chain_id as i64,
        &hashes,
        &logs
    )
    .fetch_all(pool)
    .await?;
    let outcomes = rows.into_iter().map(|r| {
        let key =
            crate::events::EventKey { chain_id, tx_hash: B256::from_slice(&r.tx_hash), log_index: r.log_index as u64 };
        (key, r.outcome)
    });
    Ok(outcomes.collect())
}

/// A contract a chain's listener follows, as recorded: its deployment block and the first block whose events the
/// listener has read of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowedContract {
    /// The Settlement contract.
    pub contract: alloy::primitives::Address,
    /// Its deployment block, as the chain spec gave it when recorded.
    pub start_block: u64,
    /// The first block whose events of it the ledger has (its deployment block, or the block after the listener's
    /// cursor when it was added to the chain spec later, with no event of it before).
    pub followed_from: u64,
}

/// The contracts `chain_id`'s listener has recorded following, oldest record first.
pub async fn followed_contracts(pool: &PgPool, chain_id: u64) -> Result<Vec<FollowedContract>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT contract, start_block, followed_from FROM chain_contracts WHERE chain_id = $1
         ORDER BY recorded_at, contract",
        chain_id as i64
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FollowedContract {
            contract: alloy::primitives::Address::from_slice(&r.contract),
            start_block: r.start_block as u64,
            followed_from: r.followed_from as u64,
        })
        .collect())
}

/// Records that `chain_id`'s listener follows `followed` (once: a second record of the same contract is ignored).
pub async fn record_followed_contract(
    pool: &PgPool,
    chain_id: u64,
    followed: FollowedContract,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO chain_contracts (chain_id, contract, start_block, followed_from) VALUES ($1, $2, $3, $4)
         ON CONFLICT (chain_id, contract) DO NOTHING",
        chain_id as i64,
        followed.contract.as_slice(),
        followed.start_block as i64,
        followed.followed_from as i64
    )
    .execute(pool)
    .await?;
    Ok(())
}
