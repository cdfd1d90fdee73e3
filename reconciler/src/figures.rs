//! Reads the figures the pure checks need for one chain, all at one block: the ledger's sums from Postgres (one
//! consistent snapshot) and the Settlement contract's balances from the chain.
//!
//! On an EVM chain that block is the listener's confirmed block, read historically. A TRON node serves no
//! historical state: its Solidity node's `latest` *is* the solidified block, so the balances are read at
//! `latest` between two readings of the solidified block number and count only when both agree, against the
//! ledger as of that block ([`read_tron_chain`]).

use alloy::{
    eips::BlockId,
    primitives::{Address, U256},
    providers::{DynProvider, Provider},
};
use ledger::money::Money;
use sqlx::PgPool;

use crate::checks::{LedgerFigures, ListenerStatus, OpenBatch};

/// Chain events that bring money into custody; their payload's `amount` is the inflow. Quarantined ones count:
/// the contract holds their money whether or not the plan applied them.
pub const INFLOW_EVENTS: [&str; 2] = ["Registered", "Retopped"];

#[derive(Debug, thiserror::Error)]
pub enum FiguresError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("chain {chain_id}: {reason}")]
    Rpc { chain_id: u64, reason: String },
}

/// What the ledger says about one chain, read in one snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerSnapshot {
    /// The last confirmed block the listener applied in full (`blockchain_sync.listener_block`).
    pub listener_block: Option<u64>,
    pub halted_reason: Option<String>,
    /// Unresolved quarantined events.
    pub quarantined: u64,
    pub open_batches: Vec<OpenBatch>,
    /// Per asset, in the order asked; empty when the listener has no confirmed block yet.
    pub assets: Vec<(Address, LedgerFigures)>,
}

/// One chain's figures: the ledger snapshot, the chain head, and custody balances at one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainFigures {
    pub chain_id: u64,
    pub listener: ListenerStatus,
    pub ledger: LedgerSnapshot,
    /// The block at which `ledger.assets` and `onchain` are both read; `None`: custody not compared this time.
    pub custody_block: Option<u64>,
    /// On-chain balance of the contract per asset at `custody_block`, same order as `ledger.assets`.
    pub onchain: Vec<U256>,
}

fn token_text(token: Address) -> String {
    format!("0x{}", alloy::hex::encode(token))
}

/// The tokens of `chain_id` the ledger has assets for.
pub async fn ledger_assets(pool: &PgPool, chain_id: u64) -> Result<Vec<Address>, FiguresError> {
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token FROM assets WHERE chain_id = $1 ORDER BY id")
        .bind(chain_id as i64)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(|t| Address::from_slice(t)).collect())
}

/// The ledger's figures for `tokens` of `chain_id` at the listener's confirmed block, in one read-only snapshot.
pub async fn read_ledger(pool: &PgPool, chain_id: u64, tokens: &[Address]) -> Result<LedgerSnapshot, FiguresError> {
    read_ledger_at(pool, chain_id, tokens, None).await
}

/// As [`read_ledger`], with the asset figures as of block `at` instead (`None`: the listener's block); none when
/// the listener has not applied `at` yet (the ledger does not know that block's events).
pub async fn read_ledger_at(
    pool: &PgPool,
    chain_id: u64,
    tokens: &[Address],
    at: Option<u64>,
) -> Result<LedgerSnapshot, FiguresError> {
    let chain = chain_id as i64;
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let sync: Option<(Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT listener_block, halted_reason FROM blockchain_sync WHERE chain_id = $1")
            .bind(chain)
            .fetch_optional(&mut *tx)
            .await?;
    let (listener_block, halted_reason) = sync.unwrap_or((None, None));
    let listener_block = listener_block.map(|b| b as u64);
    let quarantined: i64 =
        sqlx::query_scalar("SELECT count(*) FROM quarantine WHERE chain_id = $1 AND resolved_at IS NULL")
            .bind(chain)
            .fetch_one(&mut *tx)
            .await?;
    let batches: Vec<(Money, i64)> = sqlx::query_as(
        "SELECT p.chain_nonce, p.deadline FROM payout_batches p
           JOIN assets a ON a.id = p.asset_id
          WHERE a.chain_id = $1 AND p.status = 'submitted'
            AND p.chain_nonce IS NOT NULL AND p.deadline IS NOT NULL
          ORDER BY p.id",
    )
    .bind(chain)
    .fetch_all(&mut *tx)
    .await?;
    let open_batches = batches
        .into_iter()
        .map(|(nonce, deadline)| Ok(OpenBatch { chain_id, batch_nonce: nonce.0, deadline: deadline.max(0) as u64 }))
        .collect::<Result<_, FiguresError>>()?;

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
) -> Result<LedgerFigures, FiguresError> {
    // Every movement of custody is a chain event of the asset up to the block, whatever its outcome.
    // Payout batches move `total` out, except what they deferred (it stays in custody as claimable).
    let (inflows, payouts, deferred, claims, treasury): (Money, Money, Money, Money, Money) = sqlx::query_as(
        "SELECT
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = ANY($4)), 0),
            coalesce(sum(uint_text_to_numeric(payload->>'total')) FILTER (WHERE name = 'PayoutBatchExecuted'), 0),
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = 'PayoutDeferred'), 0),
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = 'Claimed'), 0),
            coalesce(sum(uint_text_to_numeric(payload->>'amount')) FILTER (WHERE name = 'TreasuryTransferred'), 0)
           FROM chain_events
          WHERE chain_id = $1 AND block_number <= $2 AND lower(payload->>'token') = $3",
    )
    .bind(chain)
    .bind(block)
    .bind(token_text(token))
    .bind(INFLOW_EVENTS.map(str::to_owned).to_vec())
    .fetch_one(&mut *tx)
    .await?;
    let liabilities: Money = sqlx::query_scalar(
        "SELECT coalesce(sum(b.reserved + b.held + b.pending + b.batched + b.claimable), 0)
           FROM user_balances b JOIN assets a ON a.id = b.asset_id
          WHERE a.chain_id = $1 AND a.token = $2",
    )
    .bind(chain)
    .bind(token.as_slice())
    .fetch_one(&mut *tx)
    .await?;
    let (payouts, deferred) = (payouts.0, deferred.0);
    Ok(LedgerFigures {
        inflows: inflows.0,
        // A deferral without its batch cannot be; saturate rather than wrap if the rows say otherwise.
        payouts_executed: payouts.saturating_sub(deferred),
        claims: claims.0,
        treasury_transfers: treasury.0,
        liabilities: liabilities.0,
    })
}

/// The contract's balance of `token` (zero = native coin) at `at`.
pub async fn custody_balance(
    provider: &DynProvider,
    chain_id: u64,
    contract: Address,
    token: Address,
    at: BlockId,
) -> Result<U256, FiguresError> {
    let rpc = |e: String| FiguresError::Rpc { chain_id, reason: e };
    if token == Address::ZERO {
        provider.get_balance(contract).block_id(at).await.map_err(|e| rpc(e.to_string()))
    } else {
        abi::TestUSDT::new(token, provider)
            .balanceOf(contract)
            .block(at)
            .call()
            .await
            .map_err(|e| rpc(format!("balanceOf({token}) at {at}: {e}")))
    }
}

/// Everything one chain's checks need: ledger snapshot first (it fixes the block), then the chain at that block.
pub async fn read_chain(
    pool: &PgPool,
    provider: &DynProvider,
    chain_id: u64,
    contract: Address,
    confirmations: u64,
    tokens: &[Address],
) -> Result<ChainFigures, FiguresError> {
    let ledger = read_ledger(pool, chain_id, tokens).await?;
    let head = provider
        .get_block_number()
        .await
        .map_err(|e| FiguresError::Rpc { chain_id, reason: format!("block number: {e}") })?;
    let mut onchain = Vec::with_capacity(ledger.assets.len());
    if let Some(block) = ledger.listener_block {
        for (token, _) in &ledger.assets {
            onchain.push(custody_balance(provider, chain_id, contract, *token, BlockId::number(block)).await?);
        }
    }
    let listener = listener_status(chain_id, head, confirmations, &ledger);
    Ok(ChainFigures { chain_id, listener, custody_block: ledger.listener_block, ledger, onchain })
}

fn listener_status(chain_id: u64, head: u64, confirmations: u64, ledger: &LedgerSnapshot) -> ListenerStatus {
    ListenerStatus {
        chain_id,
        chain_head: head,
        confirmations,
        last_applied_block: ledger.listener_block.unwrap_or(0),
        halted_reason: ledger.halted_reason.clone(),
    }
}

/// Tries at a TRON chain's custody reading: the solidified block moving or the listener not there yet.
const TRON_ATTEMPTS: u32 = 10;
const TRON_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(300);

/// [`read_chain`] for a TRON chain whose `provider` is a Solidity node's JSON-RPC: the solidified block `s` is
/// read, then the ledger as of `s` (once the listener has applied it), then the balances at `latest`, then `s`
/// again; the figures count only if `s` did not move. When the listener does not reach `s` or `s` keeps moving
/// within a few tries, custody is not compared this time (`custody_block` is `None`; the listener-lag check
/// speaks for a listener that is stuck).
pub async fn read_tron_chain(
    pool: &PgPool,
    provider: &DynProvider,
    chain_id: u64,
    contract: Address,
    confirmations: u64,
    tokens: &[Address],
) -> Result<ChainFigures, FiguresError> {
    let solidified = || async {
        provider
            .get_block_number()
            .await
            .map_err(|e| FiguresError::Rpc { chain_id, reason: format!("solidified block number: {e}") })
    };
    let mut head = solidified().await?;
    let mut attempt = 1;
    loop {
        let mut ledger = read_ledger_at(pool, chain_id, tokens, Some(head)).await?;
        if ledger.listener_block.is_some_and(|applied| applied >= head) {
            let mut onchain = Vec::with_capacity(ledger.assets.len());
            for (token, _) in &ledger.assets {
                onchain.push(custody_balance(provider, chain_id, contract, *token, BlockId::latest()).await?);
            }
            if solidified().await? == head {
                let listener = listener_status(chain_id, head, confirmations, &ledger);
                return Ok(ChainFigures { chain_id, listener, custody_block: Some(head), ledger, onchain });
            }
        }
        if attempt == TRON_ATTEMPTS {
            tracing::info!(
                chain_id,
                head,
                "TRON custody not compared this time: the ledger is not at the solidified block"
            );
            let listener = listener_status(chain_id, head, confirmations, &ledger);
            ledger.assets.clear();
            return Ok(ChainFigures { chain_id, listener, custody_block: None, ledger, onchain: Vec::new() });
        }
        attempt += 1;
        tokio::time::sleep(TRON_RETRY_PAUSE).await;
        head = solidified().await?;
    }
}
