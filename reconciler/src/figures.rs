//! Reads the figures the pure checks need for one chain, all at one block: the ledger's sums from Postgres (one
//! consistent snapshot) and the Settlement contract's balances from the chain.
//!
//! On an EVM chain that block is the listener's confirmed block, read historically. A TRON node serves no
//! historical state: its Solidity node's `latest` *is* the solidified block, so the balances are read at
//! `latest` between two readings of the solidified block number and count only when both agree, against the
//! ledger as of that block ([`read_tron_chain`]). Where only a full node's JSON-RPC is offered (TronGrid), the
//! solidified block is its `finalized` one and custody is read at `latest`, counting only when no log between the
//! two touched custody ([`read_tron_chain_finalized`]).

use alloy::{
    eips::{BlockId, BlockNumberOrTag},
    primitives::{Address, B256, U256},
    providers::{DynProvider, Provider},
    rpc::types::Filter,
    sol_types::SolEvent,
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

/// What `contracts` together hold of `token` at `at`: the chain's custody, the live Settlement's balance and those of
/// the contracts it replaced that are still wound down (the ledger's books are the chain's, whichever contract a
/// payment went through).
pub async fn custody_of(
    provider: &DynProvider,
    chain_id: u64,
    contracts: &[Address],
    token: Address,
    at: BlockId,
) -> Result<U256, FiguresError> {
    let mut total = U256::ZERO;
    for contract in contracts {
        total += custody_balance(provider, chain_id, *contract, token, at).await?;
    }
    Ok(total)
}

/// Everything one chain's checks need: ledger snapshot first (it fixes the block), then the chain at that block;
/// custody is what `contracts` (the live one and those still wound down) hold together.
pub async fn read_chain(
    pool: &PgPool,
    provider: &DynProvider,
    chain_id: u64,
    contracts: &[Address],
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
            onchain.push(custody_of(provider, chain_id, contracts, *token, BlockId::number(block)).await?);
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

/// The contract's balance of each of `ledger`'s assets at `latest`, in the ledger's order (TRON: no historical state).
async fn custody_at_latest(
    provider: &DynProvider,
    chain_id: u64,
    contracts: &[Address],
    ledger: &LedgerSnapshot,
) -> Result<Vec<U256>, FiguresError> {
    let mut onchain = Vec::with_capacity(ledger.assets.len());
    for (token, _) in &ledger.assets {
        onchain.push(custody_of(provider, chain_id, contracts, *token, BlockId::latest()).await?);
    }
    Ok(onchain)
}

/// A TRON chain's figures when custody is not compared this time: the listener's position at `head`, no assets.
fn not_compared(chain_id: u64, head: u64, confirmations: u64, mut ledger: LedgerSnapshot) -> ChainFigures {
    let listener = listener_status(chain_id, head, confirmations, &ledger);
    ledger.assets.clear();
    ChainFigures { chain_id, listener, custody_block: None, ledger, onchain: Vec::new() }
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
    contracts: &[Address],
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
        let ledger = read_ledger_at(pool, chain_id, tokens, Some(head)).await?;
        if ledger.listener_block.is_some_and(|applied| applied >= head) {
            let onchain = custody_at_latest(provider, chain_id, contracts, &ledger).await?;
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
            return Ok(not_compared(chain_id, head, confirmations, ledger));
        }
        attempt += 1;
        tokio::time::sleep(TRON_RETRY_PAUSE).await;
        head = solidified().await?;
    }
}

/// [`read_chain`] for a TRON chain read through a full node's JSON-RPC only (the chain spec's
/// `finality = "finalized_tag"`): the solidified block `f` is the node's `finalized` block; once the listener has
/// applied `f`, the ledger is read as of `f` and the balances at `latest`, then the head `h`; they are custody at `f`
/// when no log in `(f, h]` touched custody — none of the contract's own events (every payment in or out emits one),
/// none of the other contracts the listener follows (a sales desk's sale or refund) and no `Transfer` of a reconciled
/// token to or from them. Otherwise, or while the listener is behind, it tries
/// again a few times and then does not compare this time (`custody_block` is `None`).
pub async fn read_tron_chain_finalized(
    pool: &PgPool,
    provider: &DynProvider,
    chain_id: u64,
    contracts: &[Address],
    confirmations: u64,
    tokens: &[Address],
) -> Result<ChainFigures, FiguresError> {
    let rpc = |what: &str, e: String| FiguresError::Rpc { chain_id, reason: format!("{what}: {e}") };
    let finalized = || async {
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Finalized)
            .await
            .map_err(|e| rpc("finalized block", e.to_string()))?
            .ok_or_else(|| rpc("finalized block", "the node has none".into()))?;
        Ok::<u64, FiguresError>(block.header.number)
    };
    // Custody moves through the contracts the listener follows beside them too: a sales desk takes a sale's coin and
    // passes it to the Settlement within its call, its own `Sold` the only log of it (contracts/SALES.md).
    let mut watched = contracts.to_vec();
    for followed in ledger::followed_contracts(pool, chain_id).await? {
        if !watched.contains(&followed.contract) {
            watched.push(followed.contract);
        }
    }
    let mut attempt = 1;
    loop {
        let at = finalized().await?;
        let ledger = read_ledger_at(pool, chain_id, tokens, Some(at)).await?;
        if ledger.listener_block.is_some_and(|applied| applied >= at) {
            let onchain = custody_at_latest(provider, chain_id, contracts, &ledger).await?;
            let head = provider.get_block_number().await.map_err(|e| rpc("block number", e.to_string()))?;
            let assets: Vec<Address> = ledger.assets.iter().map(|(token, _)| *token).collect();
            if !custody_touched(provider, chain_id, &watched, &assets, at, head).await? {
                let listener = listener_status(chain_id, at, confirmations, &ledger);
                return Ok(ChainFigures { chain_id, listener, custody_block: Some(at), ledger, onchain });
            }
        }
        if attempt == TRON_ATTEMPTS {
            tracing::info!(
                chain_id,
                at,
                "TRON custody not compared this time: custody moved after the finalized block"
            );
            return Ok(not_compared(chain_id, at, confirmations, ledger));
        }
        attempt += 1;
        tokio::time::sleep(TRON_RETRY_PAUSE).await;
    }
}

/// Whether a log in blocks `(after, to]` touched the custody of `contracts`: any event of one of them, or a `Transfer`
/// of one of `tokens` from or to one of them.
async fn custody_touched(
    provider: &DynProvider,
    chain_id: u64,
    contracts: &[Address],
    tokens: &[Address],
    after: u64,
    to: u64,
) -> Result<bool, FiguresError> {
    if to <= after {
        return Ok(false);
    }
    let logs = |filter: Filter| async move {
        provider
            .get_logs(&filter)
            .await
            .map_err(|e| FiguresError::Rpc { chain_id, reason: format!("logs after the finalized block: {e}") })
    };
    let range = Filter::new().from_block(after + 1).to_block(to);
    if !logs(range.clone().address(contracts.to_vec())).await?.is_empty() {
        return Ok(true);
    }
    let tokens: Vec<Address> = tokens.iter().copied().filter(|t| *t != Address::ZERO).collect();
    if tokens.is_empty() {
        return Ok(false);
    }
    let transfer = range.address(tokens).event_signature(abi::TestUSDT::Transfer::SIGNATURE_HASH);
    let holders: Vec<B256> = contracts.iter().map(|c| B256::left_padding_from(c.as_slice())).collect();
    let moved =
        logs(transfer.clone().topic1(holders.clone())).await?.len() + logs(transfer.topic2(holders)).await?.len();
    Ok(moved > 0)
}
