//! Settling payout batches from the contract's `PayoutDeferred` and `PayoutBatchExecuted` events, inside the
//! listener's transaction (beside the other event handlers).

use alloy::primitives::{Address, B256, U256};

use crate::events::{ChainEvent, EventBody};
use crate::money::Money;
use crate::payouts::{BatchStatus, Tx};
use crate::plan::Amount;

use crate::exits::Refusal;

/// Applies a `PayoutDeferred`, `PayoutBatchExecuted`, `LiabilitiesCommitted` or `ExitOpened` event of `chain_id` in the ledger's
/// transaction. `Ok(Err(_))`: the event does not match the ledger and must be quarantined. `Ok(Ok(fees))`: the
/// withdrawal fees the batch's entries kept (PLAN-GENERATION.md §4), credited to the company as company credit
/// `credit_no` when above 0 (the caller moves its counter past it).
pub(super) async fn apply_settlement(
    tx: &mut Tx,
    chain_id: u64,
    event: &ChainEvent,
    asset_id: i32,
    credit_no: u64,
) -> Result<Result<Amount, Refusal>, sqlx::Error> {
    let block = event.block_number;
    match &event.body {
        EventBody::LiabilitiesCommitted { epoch, root, total, custody, .. } => {
            let commitment = crate::solvency::Commitment {
                epoch: *epoch,
                root: *root,
                total: *total,
                custody: *custody,
                block,
                tx_hash: event.key.tx_hash,
            };
            crate::solvency::record_commitment(tx, asset_id, event.contract, &commitment).await?;
            Ok(Ok(0))
        }
        EventBody::ExitOpened { custody, .. } => {
            crate::exits::record_opening(tx, asset_id, event.contract, block, event.key.tx_hash, *custody).await?;
            Ok(Ok(0))
        }
        EventBody::PayoutDeferred { batch_nonce, recipient, index, amount, .. } => {
            sqlx::query!(
                "INSERT INTO payout_deferrals (chain_id, batch_nonce, entry_index, recipient, amount)
                 VALUES ($1, $2::text::numeric, $3, $4, $5::text::numeric)",
                chain_id as i64,
                batch_nonce.to_string(),
                index.to::<u64>() as i64,
                recipient.as_slice(),
                amount.to_string()
            )
            .execute(&mut **tx)
            .await?;
            Ok(Ok(0))
        }
        EventBody::PayoutBatchExecuted { nonce, token, payouts_hash, total, .. } => {
            let executed = Executed {
                nonce: *nonce,
                token: *token,
                payouts_hash: *payouts_hash,
                total: *total,
                tx_hash: event.key.tx_hash,
            };
            settle_batch(tx, chain_id, block, executed, credit_no).await
        }
        _ => Ok(Ok(0)),
    }
}

/// What a `PayoutBatchExecuted` event says.
struct Executed {
    nonce: U256,
    token: Address,
    payouts_hash: B256,
    total: U256,
    /// The transaction that executed it (the members' payout notices link it).
    tx_hash: B256,
}

async fn settle_batch(
    tx: &mut Tx,
    chain_id: u64,
    block: u64,
    executed: Executed,
    credit_no: u64,
) -> Result<Result<Amount, Refusal>, sqlx::Error> {
    let Executed { nonce, token, payouts_hash, total, tx_hash } = executed;
    let batch = sqlx::query!(
        r#"SELECT b.id, b.asset_id, b.status AS "status: BatchStatus", b.total::text AS "total!", b.payouts_hash FROM payout_batches b
         JOIN assets a ON a.id = b.asset_id
         WHERE a.chain_id = $1 AND a.token = $2 AND b.chain_nonce = $3::text::numeric FOR UPDATE OF b"#,
        chain_id as i64,
        token.as_slice(),
        nonce.to_string()
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(batch) = batch else {
        return Ok(Err(("unknown_batch", format!("no batch of this asset was signed with nonce {nonce}"))));
    };
    let (id, asset_id, status) = (batch.id, batch.asset_id, batch.status);
    let (stored_total, stored_hash) = (batch.total, batch.payouts_hash);
    if !matches!(status, BatchStatus::Signed | BatchStatus::Submitted) {
        return Ok(Err(("batch_not_open", format!("batch {id} is {status}"))));
    }
    if stored_total != total.to_string() || stored_hash.as_deref() != Some(payouts_hash.as_slice()) {
        return Ok(Err((
            "batch_mismatch",
            format!("executed batch (total {total}, hash {payouts_hash}) is not batch {id} as signed"),
        )));
    }
    // Every deferred entry must be the entry at that position, with its amount.
    let mismatched = sqlx::query_scalar!(
        r#"SELECT count(*) AS "mismatched!" FROM payout_deferrals d
         LEFT JOIN payout_batch_items i ON i.batch_id = $3 AND i.position = d.entry_index
         LEFT JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
         WHERE d.chain_id = $1 AND d.batch_nonce = $2::text::numeric
           AND (u.address IS DISTINCT FROM d.recipient OR i.amount IS DISTINCT FROM d.amount)"#,
        chain_id as i64,
        nonce.to_string(),
        id
    )
    .fetch_one(&mut **tx)
    .await?;
    if mismatched > 0 {
        return Ok(Err(("deferral_mismatch", format!("{mismatched} deferred entries do not match batch {id}"))));
    }
    sqlx::query!(
        "UPDATE payout_batch_items i SET outcome = CASE WHEN d.entry_index IS NULL THEN 'paid' ELSE 'claimable' END
         FROM payout_batch_items i2
         LEFT JOIN payout_deferrals d
           ON d.chain_id = $2 AND d.batch_nonce = $3::text::numeric AND d.entry_index = i2.position
         WHERE i.batch_id = $1 AND i2.batch_id = i.batch_id AND i2.user_no = i.user_no",
        id,
        chain_id as i64,
        nonce.to_string()
    )
    .execute(&mut **tx)
    .await?;
    // Each part this batch carried is paid; a reward with no rest and nothing else in flight is settled.
    sqlx::query!(
        "UPDATE rewards r SET paid = r.paid + p.amount, in_flight = r.in_flight - p.amount,
                status = CASE WHEN r.status = 'batched' AND r.in_flight = p.amount THEN 'settled' ELSE r.status END
         FROM payout_batch_rewards p WHERE p.batch_id = $2 AND r.asset_id = $1 AND r.reward_no = p.reward_no",
        asset_id,
        id
    )
    .execute(&mut **tx)
    .await?;
    // An entry settles amount + fee of the user's rewards; the contract paid (or left claimable) the amount.
    sqlx::query!(
        "UPDATE users b SET batched = b.batched - (i.amount + i.fee), settled = b.settled + (i.amount + i.fee),
                claimable = b.claimable + CASE WHEN i.outcome = 'claimable' THEN i.amount ELSE 0 END
         FROM payout_batch_items i WHERE i.batch_id = $1 AND b.asset_id = i.asset_id AND b.user_no = i.user_no",
        id
    )
    .execute(&mut **tx)
    .await?;
    // The fees stay in custody as the company's, also for entries deferred to claimable.
    let fees = sqlx::query_scalar!(
        r#"SELECT COALESCE(sum(fee), 0) AS "fees!: Money" FROM payout_batch_items WHERE batch_id = $1"#,
        id
    )
    .fetch_one(&mut **tx)
    .await?
    .to_amount()?;
    if fees > 0 {
        sqlx::query!(
            "INSERT INTO company_credits (asset_id, credit_no, amount, reason, batch_id)
             VALUES ($1, $2, $3::text::numeric, 'withdrawal_fee', $4)",
            asset_id,
            credit_no as i64,
            fees.to_string(),
            id
        )
        .execute(&mut **tx)
        .await?;
        sqlx::query!(
            "UPDATE assets SET company_total = company_total + $2::text::numeric WHERE id = $1",
            asset_id,
            fees.to_string()
        )
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query!(
        "UPDATE payout_batches SET status = 'executed', executed_block = $2, executed_tx = $3 WHERE id = $1",
        id,
        block as i64,
        tx_hash.as_slice()
    )
    .execute(&mut **tx)
    .await?;
    Ok(Ok(fees))
}
