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
use sqlx::PgPool;

use crate::checks::ListenerStatus;
pub use ledger::figures::{INFLOW_EVENTS, LedgerSnapshot};

/// Why a chain's figures could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FiguresError {
    /// The ledger's database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The chain's RPC provider failed.
    #[error("chain {chain_id}: {reason}")]
    Rpc {
        /// The chain whose provider failed.
        chain_id: u64,
        /// What was being read, and the provider's error.
        reason: String,
    },
}

/// One chain's figures: the ledger snapshot, the chain head, and custody balances at one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainFigures {
    /// The chain.
    pub chain_id: u64,
    /// The listener's position on the chain, from the ledger snapshot and the chain head read with it.
    pub listener: ListenerStatus,
    /// The ledger's figures for the chain's assets (one consistent snapshot).
    pub ledger: LedgerSnapshot,
    /// The block at which `ledger.assets` and `onchain` are both read; `None`: custody not compared this time.
    pub custody_block: Option<u64>,
    /// On-chain balance of the contract per asset at `custody_block`, same order as `ledger.assets`.
    pub onchain: Vec<U256>,
}

/// The tokens of `chain_id` the ledger has assets for.
pub async fn ledger_assets(pool: &PgPool, chain_id: u64) -> Result<Vec<Address>, FiguresError> {
    Ok(ledger::figures::chain_tokens(pool, chain_id).await?)
}

/// The ledger's figures for `tokens` of `chain_id` at the listener's confirmed block ([`ledger::figures::read`]).
pub async fn read_ledger(pool: &PgPool, chain_id: u64, tokens: &[Address]) -> Result<LedgerSnapshot, FiguresError> {
    Ok(ledger::figures::read(pool, chain_id, tokens).await?)
}

/// As [`read_ledger`], as of block `at` ([`ledger::figures::read_at`]).
pub async fn read_ledger_at(
    pool: &PgPool,
    chain_id: u64,
    tokens: &[Address],
    at: Option<u64>,
) -> Result<LedgerSnapshot, FiguresError> {
    Ok(ledger::figures::read_at(pool, chain_id, tokens, at).await?)
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
