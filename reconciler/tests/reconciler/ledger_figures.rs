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

/// A payment the plan refused stays in custody until its refund executes: the ledger counts it in (a quarantined
/// inflow) and the refund out (a `TreasuryTransferred`), so custody reconciles at every step, and the quarantined
/// event stops counting once its refund resolves it.
#[tokio::test]
async fn a_quarantined_payment_and_its_refund_net_to_zero_variance() -> eyre::Result<()> {
    use alloy::primitives::{I256, keccak256};
    use alloy::signers::{SignerSync, local::PrivateKeySigner};
    use ledger::events::{ChainEvent, EventBody, EventKey};
    use ledger::{BlockCursor, ChainLedger, treasury};
    use reconciler::checks::custody;

    let genesis = Address::repeat_byte(0x11);
    let (payer, fee) = (Address::repeat_byte(0x22), U256::from(20u128 * 10u128.pow(18)));
    let db = native_ledger_db(CHAIN, genesis).await?;
    let pool = &db.pool;
    let mut ledger = ChainLedger::open(pool.clone(), CHAIN).await?;
    let event = |block: u64, body| ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: keccak256(block.to_be_bytes()), log_index: 0 },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body,
    };
    let registered = |block: u64| EventBody::Registered {
        user: payer,
        sponsor: genesis,
        token: Address::ZERO,
        amount: fee,
        nonce: U256::from(block),
    };
    let cursor = |n: u64| BlockCursor { number: n, hash: keccak256(n.to_be_bytes()) };
    // The custody the contract holds after each step, and what the reconciler finds then.
    let reconcile = |onchain: U256| async move {
        let snapshot = read_ledger(pool, CHAIN, &[Address::ZERO]).await.unwrap();
        let block = snapshot.listener_block.unwrap();
        let (result, _) = custody(CHAIN, Address::ZERO, block, onchain, &snapshot.assets[0].1);
        (result.variance, snapshot.quarantined)
    };

    // The payer registers, then pays a second registration: refused as a duplicate, its fee still held.
    ledger.apply_confirmed(&[event(10, registered(10))], cursor(10), 1_700_000_010).await?;
    let duplicate = event(11, registered(11));
    ledger.apply_confirmed(std::slice::from_ref(&duplicate), cursor(11), 1_700_000_011).await?;
    assert_eq!(reconcile(fee + fee).await, (I256::ZERO, 1), "the refused fee is in custody and counted in");

    // The refund is signed: nothing has moved yet.
    let key = PrivateKeySigner::random();
    let refund = treasury::refund(pool, duplicate.key, "test-admin", |r| {
        let key = key.clone();
        async move {
            let payload = abi::TreasuryTransfer {
                token: r.token,
                to: r.to,
                amount: r.amount,
                nonce: r.nonce,
                deadline: U256::from(1_800_000_000u64),
            };
            let digest = abi::SettlementDomain::new(r.chain_id, Address::repeat_byte(0xcc)).digest(&payload);
            let signature = key.sign_hash_sync(&digest).map_err(|e| e.to_string())?;
            Ok::<_, String>(treasury::Authorised::Signed(treasury::TransferSignature {
                deadline: 1_800_000_000,
                signature: signature.as_bytes().to_vec(),
            }))
        }
    })
    .await?;
    assert_eq!((refund.to, refund.amount), (payer, fee));
    assert_eq!(reconcile(fee + fee).await, (I256::ZERO, 1));

    // It executes: the fee leaves custody and the event is resolved.
    let executed =
        event(12, EventBody::TreasuryTransferred { nonce: refund.nonce, token: Address::ZERO, to: payer, amount: fee });
    ledger.apply_confirmed(&[executed], cursor(12), 1_700_000_012).await?;
    assert_eq!(reconcile(fee).await, (I256::ZERO, 0), "refunded: custody is the first fee, nothing quarantined");
    let snapshot = read_ledger(pool, CHAIN, &[Address::ZERO]).await?;
    let figures = &snapshot.assets[0].1;
    assert_eq!((figures.inflows, figures.treasury_transfers), (fee + fee, fee));
    Ok(())
}
