//! Signing: the nonce and deadline are fixed before the signer is asked, and its answer stored once.

use alloy::primitives::{Address, B256, U256};
use sqlx::PgPool;

use super::{BatchPayload, BatchStatus, PayoutError, Tx, audit, batch_nonce};

use super::load_payload;
use crate::money::Money;

/// Records the signed version of a batch; from now on only this nonce, hash, deadline and signature are sent.
pub async fn record_signed(
    pool: &PgPool,
    batch_id: i64,
    nonce: U256,
    payouts_hash: B256,
    deadline: u64,
    signature: &[u8],
) -> Result<(), PayoutError> {
    let mut tx = pool.begin().await?;
    record_signed_in(&mut tx, batch_id, nonce, payouts_hash, deadline, signature).await?;
    tx.commit().await?;
    Ok(())
}

async fn record_signed_in(
    tx: &mut Tx,
    batch_id: i64,
    nonce: U256,
    payouts_hash: B256,
    deadline: u64,
    signature: &[u8],
) -> Result<(), PayoutError> {
    let updated = sqlx::query!(
        "UPDATE payout_batches SET status = 'signed', chain_nonce = $2::text::numeric, payouts_hash = $3, deadline = $4,
                signature = $5, last_step_at = now()
         WHERE id = $1 AND status = 'building'",
        batch_id,
        nonce.to_string(),
        payouts_hash.as_slice(),
        deadline as i64,
        signature
    )
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(PayoutError::NotBuilding(batch_id));
    }
    Ok(())
}

/// What the sign step must do for a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignStep {
    /// Ask the signer for this payload (its nonce and deadline are stored already).
    Sign(BatchPayload),
    /// Already signed: this payload and signature, unchanged.
    Signed(BatchPayload, Vec<u8>),
}

/// Why [`prepare_signing`] cannot give a payload to sign.
#[derive(Debug, thiserror::Error)]
pub enum SignStepError {
    /// A ledger-side failure (database, inconsistent batch).
    #[error(transparent)]
    Payout(#[from] PayoutError),
    /// No batch with this id.
    #[error("no batch {0}")]
    UnknownBatch(i64),
    /// The batch was cancelled, or left `building` without a stored signature.
    #[error("batch {0} is {1} and was never signed")]
    NotSignable(i64, String),
    /// The fixed deadline has passed; the nonce is never replaced, so cancel and build again.
    #[error("batch {0}'s signature expired at {1}: cancel the batch and build it again")]
    Expired(i64, u64),
}

/// Where a batch may be signed for, on a chain with contracts an upgrade replaced (contracts/UPGRADES.md §3): the
/// live contract, and each wound-down one, oldest first, with its available custody as the chain reads it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractChoice {
    /// The chain's live contract: what a batch is signed for when no wound-down one can cover it.
    pub live: Address,
    /// The wound-down contracts, oldest first, each with its `available(token)` (custody less claimable).
    pub wound_down: Vec<(Address, U256)>,
}

/// Fixes the nonce and deadline of batch `batch_id` before anything is signed (so every retry of the sign call
/// asks for the same payload), or returns the stored signature when it was signed already. The contract is left
/// unnamed (the chain's only contract); [`prepare_signing_for`] names it.
pub async fn prepare_signing(pool: &PgPool, batch_id: i64, now: u64, ttl_secs: u64) -> Result<SignStep, SignStepError> {
    prepare(pool, batch_id, now, ttl_secs, None).await
}

/// As [`prepare_signing`], fixing also the contract the batch is signed for, once, with its nonce: the oldest
/// wound-down contract of `choice` whose available custody, less the totals of the chain's batches of the same token
/// already fixed to it and not settled, covers the batch's total; the live contract otherwise. The choice is made
/// under a lock per chain, so two batches signed at once never both count on the same custody.
pub async fn prepare_signing_for(
    pool: &PgPool,
    batch_id: i64,
    now: u64,
    ttl_secs: u64,
    choice: &ContractChoice,
) -> Result<SignStep, SignStepError> {
    prepare(pool, batch_id, now, ttl_secs, Some(choice)).await
}

/// Namespace of the per-chain advisory lock the contract choice takes (high bits; the chain id is the low ones).
const CONTRACT_CHOICE_LOCK: i64 = 0x5061_7943_0000_0000;

/// The contract a batch of `total` in `token` on `chain_id` is signed for ([`prepare_signing_for`]).
async fn choose_contract(
    tx: &mut Tx,
    batch_id: i64,
    chain_id: i64,
    token: &[u8],
    total: U256,
    choice: &ContractChoice,
) -> Result<Address, sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", CONTRACT_CHOICE_LOCK ^ (chain_id & 0xFFFF_FFFF))
        .execute(&mut **tx)
        .await?;
    for (i, (contract, available)) in choice.wound_down.iter().enumerate() {
        // Batches fixed before contracts were recorded (NULL) count against the oldest contract.
        let in_flight = sqlx::query_scalar!(
            r#"SELECT coalesce(sum(b.total), 0)::text AS "sum!" FROM payout_batches b JOIN assets a ON a.id = b.asset_id
               WHERE a.chain_id = $1 AND a.token = $2 AND b.id <> $3 AND b.chain_nonce IS NOT NULL
                 AND b.status IN ('building', 'signed', 'submitted')
                 AND (b.contract = $4 OR (b.contract IS NULL AND $5))"#,
            chain_id,
            token,
            batch_id,
            contract.as_slice(),
            i == 0
        )
        .fetch_one(&mut **tx)
        .await?;
        let in_flight: U256 = in_flight.parse().unwrap_or(U256::MAX);
        if available.saturating_sub(in_flight) >= total {
            return Ok(*contract);
        }
    }
    Ok(choice.live)
}

async fn prepare(
    pool: &PgPool,
    batch_id: i64,
    now: u64,
    ttl_secs: u64,
    choice: Option<&ContractChoice>,
) -> Result<SignStep, SignStepError> {
    let mut tx = pool.begin().await.map_err(PayoutError::from)?;
    let row = sqlx::query!(
        r#"SELECT status AS "status: BatchStatus", chain_nonce AS "nonce: Money", deadline, signature
           FROM payout_batches WHERE id = $1 FOR UPDATE"#,
        batch_id
    )
    .fetch_optional(&mut *tx)
    .await
    .map_err(PayoutError::from)?
    .ok_or(SignStepError::UnknownBatch(batch_id))?;
    let (status, stored_deadline, signature) = (row.status, row.deadline, row.signature);
    let stored_nonce: Option<U256> = row.nonce.map(|n| n.0);
    if status == BatchStatus::Cancelled {
        return Err(SignStepError::NotSignable(batch_id, status.to_string()));
    }
    if status != BatchStatus::Building {
        let signature = signature.ok_or_else(|| SignStepError::NotSignable(batch_id, status.to_string()))?;
        let payload = load_payload(&mut tx, batch_id).await.map_err(PayoutError::from)?;
        return Ok(SignStep::Signed(payload, signature));
    }
    // Once fixed, a batch's nonce and deadline never change: the signer may have signed them even though no
    // signature was recorded (a crash between its answer and our commit), and a second nonce for the same
    // rewards could then execute beside the first. After the deadline the batch can only be cancelled (with the
    // chain's proof that it expired) and built again.
    match (stored_nonce, stored_deadline) {
        (Some(_), Some(deadline)) if deadline as u64 <= now => {
            return Err(SignStepError::Expired(batch_id, deadline as u64));
        }
        (Some(_), Some(_)) => {}
        _ => {
            let contract = match choice {
                Some(choice) => {
                    let head = sqlx::query!(
                        r#"SELECT a.chain_id, a.token, b.total::text AS "total!" FROM payout_batches b
                           JOIN assets a ON a.id = b.asset_id WHERE b.id = $1"#,
                        batch_id
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(PayoutError::from)?;
                    let total: U256 = head.total.parse().unwrap_or(U256::MAX);
                    let chosen = choose_contract(&mut tx, batch_id, head.chain_id, &head.token, total, choice)
                        .await
                        .map_err(PayoutError::from)?;
                    Some(chosen)
                }
                None => None,
            };
            sqlx::query!(
                "UPDATE payout_batches SET chain_nonce = $2::text::numeric, deadline = $3, contract = $4 WHERE id = $1",
                batch_id,
                batch_nonce(batch_id, 0).to_string(),
                (now + ttl_secs) as i64,
                contract.as_ref().map(|c| c.as_slice())
            )
            .execute(&mut *tx)
            .await
            .map_err(PayoutError::from)?;
        }
    }
    let payload = load_payload(&mut tx, batch_id).await.map_err(PayoutError::from)?;
    tx.commit().await.map_err(PayoutError::from)?;
    Ok(SignStep::Sign(payload))
}

/// Stores the signer's answer for `payload` (the nonce and deadline [`prepare_signing`] fixed): the signed
/// echo as a `transactions` row, the batch as signed, and an audit row. `Ok(None)`: that attempt is no longer
/// the batch's (it was signed meanwhile, or superseded); read the batch again.
pub async fn store_signature(
    pool: &PgPool,
    payload: &BatchPayload,
    signature: &[u8],
    signed_echo: &serde_json::Value,
    actor: &str,
) -> Result<Option<()>, PayoutError> {
    let mut tx = pool.begin().await?;
    let current = sqlx::query!(
        r#"SELECT status AS "status: BatchStatus", chain_nonce AS "nonce: Money", deadline
           FROM payout_batches WHERE id = $1 FOR UPDATE"#,
        payload.id
    )
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| (r.status, r.nonce, r.deadline));
    let ours = Some((BatchStatus::Building, Some(Money(payload.nonce)), Some(payload.deadline as i64)));
    if current != ours {
        return Ok(None);
    }
    let transaction_id = sqlx::query_scalar!(
        "INSERT INTO transactions (asset_id, kind, nonce, payload, signature, deadline)
         VALUES ($1, 'payout_batch', $2::text::numeric, $3, $4, $5) RETURNING id",
        payload.asset_id,
        payload.nonce.to_string(),
        signed_echo,
        signature,
        payload.deadline as i64
    )
    .fetch_one(&mut *tx)
    .await?;
    let hash = abi::payouts_hash(&payload.payouts());
    record_signed_in(&mut tx, payload.id, payload.nonce, hash, payload.deadline, signature).await?;
    sqlx::query!("UPDATE payout_batches SET transaction_id = $2 WHERE id = $1", payload.id, transaction_id)
        .execute(&mut *tx)
        .await?;
    let after = serde_json::json!({
        "status": "signed", "nonce": payload.nonce.to_string(), "deadline": payload.deadline,
        "payouts_hash": hash.to_string(), "total": payload.total.to_string(),
    });
    let before = serde_json::json!({ "status": "building" });
    audit(&mut tx, actor, "payout_batch_sign", payload.asset_id, &format!("batch:{}", payload.id), before, after)
        .await?;
    tx.commit().await?;
    Ok(Some(()))
}
