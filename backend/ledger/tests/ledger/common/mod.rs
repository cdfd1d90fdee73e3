//! Shared helpers of the database tests: a scratch database with one asset, and events.
#![allow(dead_code)]

use alloy::primitives::{Address, B256, U256, keccak256};
use ledger::db::ScratchDatabase;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::{Amount, PlanParams};
use ledger::synthetic::{EventStream, StreamConfig, StreamOp};
use ledger::{AssetSpec, ChainLedger, create_asset};
use sqlx::PgPool;

/// BSC testnet's id: the API's tests run anvil under it as a development chain (`development = true`), where
/// anvil's well-known keys may hold the contract's roles and a raw operator key may be used — never on a mainnet's.
pub(crate) const CHAIN: u64 = 97;
pub(crate) const ASSET: i32 = 1;
pub(crate) const BNB: Amount = 1_000_000_000_000_000_000;

pub(crate) fn named(name: &str) -> Address {
    Address::from_slice(&keccak256(name.as_bytes())[12..])
}

pub(crate) fn genesis() -> Address {
    named("G")
}

pub(crate) fn asset(params: PlanParams) -> AssetSpec {
    AssetSpec {
        id: ASSET,
        chain_id: CHAIN,
        token: Address::ZERO,
        symbol: "BNB".into(),
        decimals: 18,
        genesis: genesis(),
        params,
    }
}

/// A scratch database holding one native-coin asset on chain 56, and its ledger.
pub(crate) async fn ledger(params: PlanParams) -> (ScratchDatabase, ChainLedger) {
    let db = ScratchDatabase::create("ledger_test").await.unwrap();
    create_asset(&db.pool, &asset(params)).await.unwrap();
    let ledger = ChainLedger::open(db.pool.clone(), CHAIN).await.unwrap();
    (db, ledger)
}

fn key(block: u64, log_index: u64) -> EventKey {
    EventKey {
        chain_id: CHAIN,
        tx_hash: B256::from(keccak256([block.to_be_bytes(), log_index.to_be_bytes()].concat())),
        log_index,
    }
}

pub(crate) fn registered(block: u64, log_index: u64, user: &str, sponsor: &str, amount: Amount) -> ChainEvent {
    ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: key(block, log_index),
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: EventBody::Registered {
            user: named(user),
            sponsor: named(sponsor),
            token: Address::ZERO,
            amount: U256::from(amount),
            nonce: U256::from(block),
        },
    }
}

pub(crate) fn retopped(block: u64, log_index: u64, user: &str, amount: Amount) -> ChainEvent {
    ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: key(block, log_index),
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: EventBody::Retopped {
            user: named(user),
            token: Address::ZERO,
            amount: U256::from(amount),
            nonce: U256::from(block),
        },
    }
}

pub(crate) async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"))).fetch_one(pool).await.unwrap()
}

pub(crate) async fn text(pool: &PgPool, sql: &'static str) -> String {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

pub(crate) fn stream(seed: u64, p: &PlanParams, events_per_block: u64) -> EventStream {
    EventStream::new(StreamConfig {
        seed,
        chain_id: CHAIN,
        token: Address::ZERO,
        genesis: genesis(),
        registration_fee: p.registration_fee,
        retopup_fee: p.retopup_fee,
        events_per_block,
        retopup_per_mille: 250,
        invalid_per_mille: 20,
        freeze_per_mille: 10,
        place_per_mille: 5,
    })
}

/// Applies `ops` to a ledger: events grouped per block (or one per call), admin actions
/// between them at the same positions either way.
pub(crate) async fn replay(ledger: &mut ChainLedger, ops: &[StreamOp], per_block: bool) {
    let pool = ledger.pool().clone();
    let mut batch: Vec<ChainEvent> = Vec::new();
    for op in ops {
        match op {
            StreamOp::Event(e) => {
                if !per_block {
                    ledger.apply_block(std::slice::from_ref(e)).await.unwrap();
                    continue;
                }
                if batch.last().is_some_and(|b| b.block_number != e.block_number) {
                    ledger.apply_block(&batch).await.unwrap();
                    batch.clear();
                }
                batch.push(e.clone());
            }
            StreamOp::Freeze(a) | StreamOp::Unfreeze(a) => {
                ledger.apply_block(&batch).await.unwrap();
                batch.clear();
                let r = if matches!(op, StreamOp::Freeze(_)) {
                    ledger::admin::freeze(&pool, ASSET, *a, "test", "test").await
                } else {
                    ledger::admin::unfreeze(&pool, ASSET, *a, "test", "test").await
                };
                r.unwrap();
            }
            StreamOp::Place(a, level) => {
                ledger.apply_block(&batch).await.unwrap();
                batch.clear();
                // Refusals (company share too small, level full) come out the same in every replay.
                match ledger::admin::manual_placement(&pool, ASSET, *a, *level, "test").await {
                    Ok(_) | Err(ledger::admin::AdminError::Refused { .. }) => {}
                    Err(e) => panic!("placement of {a} in level {level}: {e}"),
                }
            }
        }
    }
    ledger.apply_block(&batch).await.unwrap();
}
