//! The ledger's money figures of one chain at a block, read in one snapshot: what custody should hold by the
//! confirmed chain events, what is owed, what is quarantined and which payout batches are open. The reconciler
//! compares them with the contract's balances; a proof of solvency commits to the same figures.

use alloy::primitives::{Address, I256, U256};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::money::Money;

/// One asset's money as the ledger records it up to `block` (PLAN.md §7, invariants 3 and 4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerFigures {
    /// Σ registrations, retopups and sales paid into custody (quarantined ones too).
    pub inflows: U256,
    /// Σ executed payout batches' totals less what they deferred (deferred stays in custody as claimable).
    pub payouts_executed: U256,
    /// Σ claims paid out of custody.
    pub claims: U256,
    /// Σ treasury transfers out of custody.
    pub treasury_transfers: U256,
    /// Σ members' leaves paid out of custody (`MemberLeft`, contracts/EXIT.md §12).
    #[serde(default)]
    pub leaves: U256,
    /// Σ sales its buyers took back, paid out of custody by the sales desk (`Refunded`, PLAN-SALES.md §4).
    #[serde(default)]
    pub refunds: U256,
    /// Σ reserved + held + pending + batched + maturing rewards, and what the contract holds claimable for users.
    pub liabilities: U256,
}

impl LedgerFigures {
    /// What custody should hold: Σ inflows − Σ payouts − Σ claims − Σ treasury transfers − Σ leaves − Σ refunds
    /// (PLAN-SALES.md §8.7).
    pub fn expected_balance(&self) -> I256 {
        let signed = |v: U256| I256::try_from(v).unwrap_or(I256::MAX);
        signed(self.inflows)
            - signed(self.payouts_executed)
            - signed(self.claims)
            - signed(self.treasury_transfers)
            - signed(self.leaves)
            - signed(self.refunds)
    }
}

/// A payout batch sent on-chain but not settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenBatch {
    /// Its chain.
    pub chain_id: u64,
    /// Its contract nonce.
    pub batch_nonce: U256,
    /// The signed deadline (unix seconds) after which the contract refuses it.
    pub deadline: u64,
}

/// Chain events that bring money into custody; their payload's `amount` is the inflow. Quarantined ones count:
/// the contract holds their money whether or not the plan applied them.
pub const INFLOW_EVENTS: [&str; 3] = ["Registered", "Retopped", "Sold"];

/// What the ledger says about one chain, read in one snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerSnapshot {
    /// The last confirmed block the listener applied in full (`blockchain_sync.listener_block`).
    pub listener_block: Option<u64>,
    /// Why the listener stopped applying this chain, when it did.
    pub halted_reason: Option<String>,
    /// Unresolved quarantined events.
    pub quarantined: u64,
    /// Payout batches submitted and not settled, by batch id.
    pub open_batches: Vec<OpenBatch>,
    /// Per asset, in the order asked; empty when the listener has no confirmed block yet.
    pub assets: Vec<(Address, LedgerFigures)>,
}

fn token_text(token: Address) -> String {
    format!("0x{}", alloy::hex::encode(token))
}

/// The tokens of `chain_id` the ledger has assets for.
pub async fn chain_tokens(pool: &PgPool, chain_id: u64) -> Result<Vec<Address>, sqlx::Error> {
    let rows = sqlx::query_scalar!("SELECT token FROM assets WHERE chain_id = $1 ORDER BY id", chain_id as i64)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(|t| Address::from_slice(t)).collect())
}

/// The ledger's figures for `tokens` of `chain_id` at the listener's confirmed block, in one read-only snapshot.
pub async fn read(pool: &PgPool, chain_id: u64, tokens: &[Address]) -> Result<LedgerSnapshot, sqlx::Error> {
    read_at(pool, chain_id, tokens, None).await
}

/// As [`read`], with the asset figures as of block `at` instead (`None`: the listener's block); none when
/// the listener has not applied `at` yet (the ledger does not know that block's events).
pub async fn read_at(
    pool: &PgPool,
    chain_id: u64,
    tokens: &[Address],
    at: Option<u64>,
) -> Result<LedgerSnapshot, sqlx::Error> {
    let chain = chain_id as i64;
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let sync = sqlx::query!("SELECT listener_block, halted_reason FROM blockchain_sync WHERE chain_id = $1", chain)
        .fetch_optional(&mut *tx)
        .await?;
    let (listener_block, halted_reason) = sync.map_or((None, None), |s| (s.listener_block, s.halted_reason));
    let listener_block = listener_block.map(|b| b as u64);
    let quarantined = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM quarantine WHERE chain_id = $1 AND resolved_at IS NULL"#,
        chain
    )
    .fetch_one(&mut *tx)
    .await?;
    let batches = sqlx::query!(
        r#"SELECT p.chain_nonce AS "nonce!: Money", p.deadline AS "deadline!" FROM payout_batches p
           JOIN assets a ON a.id = p.asset_id
          WHERE a.chain_id = $1 AND p.status = 'submitted'
            AND p.chain_nonce IS NOT NULL AND p.deadline IS NOT NULL
          ORDER BY p.id"#,
        chain
    )
    .fetch_all(&mut *tx)
    .await?;
    let open_batches = batches
        .into_iter()
        .map(|b| OpenBatch { chain_id, batch_nonce: b.nonce.0, deadline: b.deadline.max(0) as u64 })
        .collect();

    let mut assets = Vec::new();
    let figures_block = match (listener_block, at) {
        (Some(applied), Some(at)) => (at <= applied).then_some(at),
        (applied, None) => applied,
        (None, Some(_)) => None,
    };
    if let Some(block) = figures_block {
        for &token in tokens {
            assets.push((token, asset_figures(&mut tx, chain, block as i64, token).await?));
        }
    }
    tx.commit().await?;
    Ok(LedgerSnapshot { listener_block, halted_reason, quarantined: quarantined as u64, open_batches, assets })
}

async fn asset_figures(
    tx: &mut sqlx::PgConnection,
    chain: i64,
    block: i64,
    token: Address,
) -> Result<LedgerFigures, sqlx::Error> {
    // Every movement of custody is a chain event of the asset up to the block, whatever its outcome.
    // Payout batches move `total` out, except what they deferred (it stays in custody as claimable).
    let moved = sqlx::query!(
        r#"SELECT
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = ANY($4)), 0)
                AS "inflows!: Money",
            coalesce(sum(uint_text_to_numeric(payload->>'total')) FILTER (WHERE name = 'PayoutBatchExecuted'), 0)
                AS "payouts!: Money",
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = 'PayoutDeferred'), 0)
                AS "deferred!: Money",
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = 'Claimed'), 0)
                AS "claims!: Money",
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = 'TreasuryTransferred'), 0)
                AS "treasury!: Money",
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = 'MemberLeft'), 0)
                AS "leaves!: Money",
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = 'Refunded'), 0)
                AS "refunds!: Money"
           FROM chain_events
          WHERE chain_id = $1 AND block_number <= $2 AND lower(payload->>'token') = $3"#,
        chain,
        block,
        token_text(token),
        &INFLOW_EVENTS.map(str::to_owned)[..]
    )
    .fetch_one(&mut *tx)
    .await?;
    let liabilities = asset_liabilities(tx, chain, token).await?;
    let (inflows, claims, treasury) = (moved.inflows, moved.claims, moved.treasury);
    let (payouts, deferred) = (moved.payouts.0, moved.deferred.0);
    Ok(LedgerFigures {
        inflows: inflows.0,
        // A deferral without its batch cannot be; saturate rather than wrap if the rows say otherwise.
        payouts_executed: payouts.saturating_sub(deferred),
        claims: claims.0,
        treasury_transfers: treasury.0,
        leaves: moved.leaves.0,
        refunds: moved.refunds.0,
        liabilities,
    })
}

/// Σ of the asset's users' liabilities (reserved, held, pending, batched, claimable, and maturing retail commissions
/// under the sales plan): PLAN.md invariant 4's, and the total a proof of solvency's tree must have in the same
/// snapshot.
pub(crate) async fn asset_liabilities(
    tx: &mut sqlx::PgConnection,
    chain: i64,
    token: Address,
) -> Result<U256, sqlx::Error> {
    let owed = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(b.reserved + b.held + b.pending + b.batched + b.claimable + b.maturing), 0) AS "owed!: Money"
           FROM users b JOIN assets a ON a.id = b.asset_id
          WHERE a.chain_id = $1 AND a.token = $2"#,
        chain,
        token.as_slice()
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(owed.0)
}
