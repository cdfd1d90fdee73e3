//! The ledger figures query on a scratch Postgres ledger: every custody movement comes from chain_events by
//! name, whatever its outcome, up to the listener's block and for the asked token only; uint256 payloads are
//! read as alloy writes them (hex) or as decimal.

use alloy::primitives::{Address, U256, address};
use anvil_tests::devchain::native_ledger_db;
use reconciler::figures::read_ledger;
use serde_json::json;
use sqlx::PgPool;

const CHAIN: u64 = 31337;
const USDT: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");

async fn event(pool: &PgPool, n: u8, block: i64, name: &str, outcome: &str, payload: serde_json::Value) {
    sqlx::query(
        "INSERT INTO chain_events (chain_id, tx_hash, log_index, block_number, block_timestamp, name, payload, outcome)
         VALUES ($1, $2, 0, $3, 0, $4, $5, $6)",
    )
    .bind(CHAIN as i64)
    .bind([n; 32].as_slice())
    .bind(block)
    .bind(name)
    .bind(sqlx::types::Json(payload))
    .bind(outcome)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn custody_movements_are_summed_by_event_name_up_to_the_listener_block() -> eyre::Result<()> {
    let db = native_ledger_db(CHAIN, Address::repeat_byte(0x11)).await?;
    let pool = &db.pool;
    let native = Address::ZERO.to_string();
    let hex = |v: u64| format!("0x{v:x}");
    event(pool, 1, 10, "Registered", "applied", json!({"event": "Registered", "token": native, "amount": hex(1000)}))
        .await;
    event(pool, 2, 11, "Retopped", "quarantined", json!({"event": "Retopped", "token": native, "amount": "500"})).await;
    event(
        pool,
        3,
        12,
        "PayoutBatchExecuted",
        "applied",
        json!({"event": "PayoutBatchExecuted", "token": native, "total": hex(300), "deferred_total": hex(40)}),
    )
    .await;
    event(
        pool,
        4,
        12,
        "PayoutDeferred",
        "applied",
        json!({"event": "PayoutDeferred", "token": native, "amount": hex(40)}),
    )
    .await;
    event(pool, 5, 13, "Claimed", "applied", json!({"event": "Claimed", "token": native, "amount": hex(15)})).await;
    event(
        pool,
        6,
        14,
        "TreasuryTransferred",
        "applied",
        json!({"event": "TreasuryTransferred", "token": native, "amount": hex(100)}),
    )
    .await;
    // Another asset, and a block the listener has not confirmed: neither counts.
    event(
        pool,
        7,
        14,
        "Registered",
        "applied",
        json!({"event": "Registered", "token": USDT.to_string(), "amount": hex(7)}),
    )
    .await;
    event(pool, 8, 15, "Registered", "applied", json!({"event": "Registered", "token": native, "amount": hex(9)}))
        .await;
    sqlx::query("INSERT INTO blockchain_sync (chain_id, listener_block, listener_block_hash) VALUES ($1, 14, $2)")
        .bind(CHAIN as i64)
        .bind([0xab_u8; 32].as_slice())
        .execute(pool)
        .await?;

    let snapshot = read_ledger(pool, CHAIN, &[Address::ZERO, USDT]).await?;
    assert_eq!(snapshot.listener_block, Some(14));
    let (_, native) = &snapshot.assets[0];
    assert_eq!(native.inflows, U256::from(1500), "quarantined money is in custody too");
    assert_eq!(native.payouts_executed, U256::from(260), "a deferred entry stays in custody");
    assert_eq!(native.claims, U256::from(15));
    assert_eq!(native.treasury_transfers, U256::from(100));
    assert_eq!(snapshot.assets[1].1.inflows, U256::from(7));
    Ok(())
}
