//! Money leaving custody outside payout batches, applied inside the listener's transaction: a user's `Claimed`
//! (what a deferred payout left them) and the company's `TreasuryTransferred`. Neither goes through the plan
//! engine: claims only move `users.claimable`, treasury transfers only `treasury_transfers` rows (and a
//! refund's execution resolves the quarantined event it refunds).
//!
//! The chain has already moved the money when these arrive, so a refusal here never undoes anything: it
//! quarantines the event and raises an alert saying the ledger and custody now disagree.

use alloy::primitives::{Address, B256, U256};
use serde_json::json;
use sqlx::{Postgres, Transaction};

use crate::authorisations::OutflowStatus;
use crate::events::{ChainEvent, EventBody};
use crate::exits::Refusal;

type Tx = Transaction<'static, Postgres>;

/// Applies a `Claimed` or `TreasuryTransferred` event of asset `asset_id`; `None` for other events.
/// `Some(Err(_))`: the event does not match the ledger and must be quarantined.
pub(super) async fn apply(
    tx: &mut Tx,
    chain_id: u64,
    asset_id: i32,
    e: &ChainEvent,
) -> Result<Option<Result<(), Refusal>>, sqlx::Error> {
    match &e.body {
        EventBody::Claimed { account, to, amount, .. } => {
            Ok(Some(apply_claim(tx, asset_id, *account, *to, *amount).await?))
        }
        EventBody::TreasuryTransferred { nonce, to, amount, .. } => {
            let executed = Execution { block: e.block_number, timestamp: e.block_timestamp, tx_hash: e.key.tx_hash };
            Ok(Some(apply_treasury_transfer(tx, chain_id, asset_id, executed, *nonce, *to, *amount).await?))
        }
        _ => Ok(None),
    }
}

/// The claimant's `claimable` decreases by the amount; an unknown claimant or a claim above what the ledger
/// holds claimable for them is refused (the contract paid it anyway, so the refusal says so).
async fn apply_claim(
    tx: &mut Tx,
    asset_id: i32,
    account: Address,
    to: Address,
    amount: U256,
) -> Result<Result<(), Refusal>, sqlx::Error> {
    let already_paid = format!("the contract already paid {amount} to {to}, so custody and the ledger now differ");
    let row = sqlx::query!(
        r#"SELECT u.user_no, u.claimable AS "claimable: crate::money::Money" FROM users u
         WHERE u.asset_id = $1 AND u.address = $2 FOR UPDATE"#,
        asset_id,
        account.as_slice()
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(Err(("unknown_claimant", format!("claim by {account}, who is not in the ledger: {already_paid}"))));
    };
    let (user_no, claimable) = (row.user_no, row.claimable.0);
    if amount > claimable {
        return Ok(Err((
            "claim_exceeds_claimable",
            format!("claim of {amount} by {account} exceeds the ledger's claimable {claimable}: {already_paid}"),
        )));
    }
    sqlx::query!(
        "UPDATE users SET claimable = claimable - $3::text::numeric WHERE asset_id = $1 AND user_no = $2",
        asset_id,
        user_no,
        amount.to_string()
    )
    .execute(&mut **tx)
    .await?;
    Ok(Ok(()))
}

/// Where a `TreasuryTransferred` event was emitted.
#[derive(Clone, Copy)]
struct Execution {
    block: u64,
    timestamp: u64,
    tx_hash: B256,
}

/// The matching signed transfer becomes executed; an execution nobody signed through the API is recorded with
/// origin `chain` and an alert. A refund's execution resolves the quarantined event it refunds, at the block's time.
async fn apply_treasury_transfer(
    tx: &mut Tx,
    chain_id: u64,
    asset_id: i32,
    executed: Execution,
    nonce: U256,
    to: Address,
    amount: U256,
) -> Result<Result<(), Refusal>, sqlx::Error> {
    let Execution { block, tx_hash, .. } = executed;
    if amount.is_zero() {
        return Ok(Err(("zero_treasury_transfer", format!("treasury transfer {nonce} moved nothing"))));
    }
    let row = sqlx::query!(
        r#"SELECT id, status AS "status: OutflowStatus", recipient, amount::text AS "amount!", refund_chain_id, refund_tx_hash, refund_log_index
         FROM treasury_transfers WHERE asset_id = $1 AND chain_nonce = $2::text::numeric FOR UPDATE"#,
        asset_id,
        nonce.to_string()
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        sqlx::query!(
            "INSERT INTO treasury_transfers (asset_id, chain_nonce, recipient, amount, origin, status, executed_block, tx_hash)
             VALUES ($1, $2::text::numeric, $3, $4::text::numeric, 'chain', 'executed', $5, $6)",
            asset_id,
            nonce.to_string(),
            to.as_slice(),
            amount.to_string(),
            block as i64,
            tx_hash.as_slice()
        )
        .execute(&mut **tx)
        .await?;
        // Details name the chain's facts only (no surrogate ids), so a fresh replay raises the same alert.
        alert(
            tx,
            "treasury_transfer_unknown",
            &format!("treasury transfer {nonce} of {amount} to {to} executed on-chain without a transfer signed through the API"),
            json!({ "chain_id": chain_id, "asset_id": asset_id, "nonce": nonce.to_string(),
                    "tx_hash": format!("{tx_hash:x}"), "block": block }),
        )
        .await?;
        return Ok(Ok(()));
    };
    let (id, status, recipient, stored_amount) = (row.id, row.status, row.recipient, row.amount);
    if status == OutflowStatus::Executed {
        return Ok(Err((
            "treasury_already_executed",
            format!("treasury transfer {id} (nonce {nonce}) already executed"),
        )));
    }
    if recipient != to.as_slice() || stored_amount != amount.to_string() {
        return Ok(Err((
            "treasury_mismatch",
            format!(
                "treasury transfer {nonce} paid {amount} to {to}, but transfer {id} was signed for {stored_amount} to 0x{}: the money has left custody",
                alloy::hex::encode(&recipient)
            ),
        )));
    }
    sqlx::query!(
        "UPDATE treasury_transfers SET status = 'executed', executed_block = $2, tx_hash = $3 WHERE id = $1",
        id,
        block as i64,
        tx_hash.as_slice()
    )
    .execute(&mut **tx)
    .await?;
    let refund = (row.refund_chain_id, row.refund_tx_hash, row.refund_log_index);
    if let (Some(event_chain), Some(event_tx), Some(event_log)) = refund {
        resolve_refunded(tx, chain_id, asset_id, id, (event_chain, &event_tx, event_log), executed).await?;
    }
    if status == OutflowStatus::Expired {
        alert(
            tx,
            "treasury_transfer_expired_executed",
            &format!("treasury transfer {id} (nonce {nonce}) was marked expired but executed on-chain"),
            json!({ "chain_id": chain_id, "asset_id": asset_id, "nonce": nonce.to_string(), "block": block }),
        )
        .await?;
    }
    Ok(Ok(()))
}

/// The quarantined event refunded by transfer `id`, which has just executed, is resolved by it. Already resolved
/// (another refund of it executed first, one marked expired that executed after all): this one paid the payer
/// again, which an alert says — the chain has moved the money either way.
async fn resolve_refunded(
    tx: &mut Tx,
    chain_id: u64,
    asset_id: i32,
    id: i64,
    (event_chain, event_tx, event_log): (i64, &[u8], i64),
    executed: Execution,
) -> Result<(), sqlx::Error> {
    let resolved = sqlx::query!(
        "UPDATE quarantine SET resolved_at = to_timestamp($4), refunded_by = $5
         WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3 AND resolved_at IS NULL",
        event_chain,
        event_tx,
        event_log,
        executed.timestamp.min(i64::MAX as u64) as f64,
        id
    )
    .execute(&mut **tx)
    .await?;
    if resolved.rows_affected() == 0 {
        let event = format!("{event_chain}:0x{}:{event_log}", alloy::hex::encode(event_tx));
        alert(
            tx,
            "refund_of_resolved_event",
            &format!(
                "refund {id} of event {event} executed, but that event was already resolved: its payer was paid twice"
            ),
            json!({ "chain_id": chain_id, "asset_id": asset_id, "event": event,
                    "tx_hash": format!("{:x}", executed.tx_hash), "block": executed.block }),
        )
        .await?;
    }
    Ok(())
}

/// Signed transfers of `chain_id` whose deadline is below `timestamp` (the time of a confirmed block the
/// ledger has passed): the contract refuses them from now on, so they no longer count against the company. Proposed
/// ones past their deadline can no longer be signed: they expire too.
pub(super) async fn expire_treasury_transfers(tx: &mut Tx, chain_id: u64, timestamp: u64) -> Result<u64, sqlx::Error> {
    let expired = sqlx::query!(
        "UPDATE treasury_transfers t SET status = 'expired' FROM assets a
         WHERE a.id = t.asset_id AND a.chain_id = $1 AND t.status IN ('proposed', 'signed') AND t.deadline < $2",
        chain_id as i64,
        timestamp.min(i64::MAX as u64) as i64
    )
    .execute(&mut **tx)
    .await?;
    Ok(expired.rows_affected())
}

async fn alert(tx: &mut Tx, kind: &str, message: &str, details: serde_json::Value) -> Result<(), sqlx::Error> {
    sqlx::query!("INSERT INTO alerts (kind, message, details) VALUES ($1, $2, $3)", kind, message, details)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
