//! The payout lifecycle in the ledger: pending rewards → a batch (per-user sums, within caps; two concurrent
//! builds never take the same reward) → signed (its contract nonce recorded) → settled from the contract's
//! `PayoutDeferred` / `PayoutBatchExecuted` events, inside the listener's transaction.
//!
//! Reward statuses live only in Postgres (the plan engine never reads them), so this is plain SQL beside it.

mod build;
mod cancel;
mod send;
mod sign;
mod views;

pub use build::{
    BuildLimits, BuiltBatch, LeftOut, LeftOutReason, NotBuilt, PartLimit, PartialEntry, build_batch,
    build_batch_audited,
};
pub(crate) use cancel::cancel_locked;
pub use cancel::{CancelState, Cancelled, cancel_batch, cancel_state};
pub use send::{
    BatchChain, KeptTransaction, SendState, batch_chain, batches_to_drive, lock_for_send, lock_idle_for_send,
    record_kept, record_sent, signed_payload,
};
pub use sign::{
    ContractChoice, SignStep, SignStepError, prepare_signing, prepare_signing_for, record_signed, store_signature,
};
pub use views::{
    BatchDetail, BatchItem, BatchSummary, LeftOutSum, LeftOutUser, PendingFilter, PendingTotals, PendingUser, batch,
    batches, pending,
};

use alloy::primitives::{Address, U256};
use sqlx::{Postgres, Transaction};

use crate::money::Money;
use crate::plan::Amount;

pub(crate) type Tx = Transaction<'static, Postgres>;

/// Why a payout step on the ledger side failed; its transaction rolled back.
#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No asset with this id.
    #[error("unknown asset {0}")]
    UnknownAsset(i32),
    /// The batch is no longer `building`, so a signature cannot be recorded for it.
    #[error("batch {0} is not waiting for a signature")]
    NotBuilding(i64),
    /// The batch's stored items or total disagree with its rewards; rolled back, a person must look.
    #[error("batch {0} does not match its rewards: {1}")]
    Inconsistent(i64, String),
}

/// Where a payout batch stands. The only ways forward: building → signed (its nonce fixed and signed) →
/// submitted (a transaction sent) → executed (the contract's event settled it); any batch not executed may be
/// cancelled once no signature of it can execute any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchStatus {
    /// Rewards taken; not signed yet (a nonce may be fixed already by a sign attempt).
    Building,
    /// Signed; never sent.
    Signed,
    /// Sent at least once; not settled yet.
    Submitted,
    /// Settled from the contract's `PayoutBatchExecuted` event.
    Executed,
    /// A send failed for good (kept for databases that have it; nothing sets it today).
    Failed,
    /// Its rewards went back to pending.
    Cancelled,
}

impl BatchStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [BatchStatus; 6] = [
        BatchStatus::Building,
        BatchStatus::Signed,
        BatchStatus::Submitted,
        BatchStatus::Executed,
        BatchStatus::Failed,
        BatchStatus::Cancelled,
    ];

    /// The name stored in `payout_batches.status` and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Building => "building",
            BatchStatus::Signed => "signed",
            BatchStatus::Submitted => "submitted",
            BatchStatus::Executed => "executed",
            BatchStatus::Failed => "failed",
            BatchStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether a batch in this status may move to `next`.
    pub fn may_become(self, next: BatchStatus) -> bool {
        use BatchStatus::*;
        match (self, next) {
            (Building, Signed) | (Signed, Submitted) | (Submitted, Submitted) => true,
            // The contract's event settles whatever was signed, sent by us or not.
            (Signed | Submitted, Executed) => true,
            (Building | Signed | Submitted | Failed, Cancelled) => true,
            _ => false,
        }
    }
}

impl sqlx::Type<Postgres> for BatchStatus {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <&str as sqlx::Type<Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for BatchStatus {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let name = <&str as sqlx::Decode<Postgres>>::decode(value)?;
        BatchStatus::parse(name).ok_or_else(|| format!("unknown payout batch status {name:?}").into())
    }
}

impl serde::Serialize for BatchStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::BatchStatus::{self, *};

    #[test]
    fn names_round_trip_and_only_the_lifecycle_moves_are_allowed() {
        for s in BatchStatus::ALL {
            assert_eq!(BatchStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(BatchStatus::parse("paid"), None);
        assert!(Building.may_become(Signed) && Signed.may_become(Submitted) && Submitted.may_become(Executed));
        assert!(Signed.may_become(Executed), "a signed batch someone else sent still settles");
        assert!(!Executed.may_become(Cancelled) && !Cancelled.may_become(Signed) && !Building.may_become(Executed));
        assert!(!Cancelled.may_become(Cancelled) && !Executed.may_become(Executed));
    }
}

/// Appends an `audit_logs` row about batch work on `asset_id`.
pub(crate) async fn audit(
    tx: &mut Tx,
    actor: &str,
    action: &str,
    asset_id: i32,
    target: &str,
    before: serde_json::Value,
    after: serde_json::Value,
) -> Result<(), sqlx::Error> {
    crate::audit::record(
        tx,
        crate::audit::AuditEntry { actor, action, target, asset_id: Some(asset_id), before: Some(before), after },
    )
    .await
}

/// The contract nonce of signing attempt `attempt` (0..=255) of batch `batch_id` ([`abi::nonces`]). Batches are
/// only ever signed with attempt 0 (a fixed nonce is never replaced, see [`prepare_signing`]); the low byte stays
/// reserved, and cancellation still checks every attempt nonce an older database may hold.
pub fn batch_nonce(batch_id: i64, attempt: u8) -> U256 {
    abi::nonces::batch_nonce(batch_id as u64, attempt)
}

/// A batch as it will be (or was) signed: entries in signing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPayload {
    /// Ledger row id of the batch; also the high bits of its contract nonce.
    pub id: i64,
    /// Asset whose pending rewards the batch pays.
    pub asset_id: i32,
    /// Chain of the asset's Settlement contract.
    pub chain_id: u64,
    /// The asset's token (zero address for the native coin).
    pub token: Address,
    /// One (recipient, summed rewards) per user, in signing order.
    pub entries: Vec<(Address, Amount)>,
    /// Sum of the entries; what leaves custody when the batch executes.
    pub total: Amount,
    /// Contract nonce fixed for the batch ([`batch_nonce`]); never replaced.
    pub nonce: U256,
    /// Unix seconds after which the contract refuses the signed batch.
    pub deadline: u64,
    /// The Settlement contract the batch is signed for, fixed with its nonce; `None` for a batch fixed before
    /// contracts were recorded (the chain's oldest contract, see migration 0027) or by [`prepare_signing`].
    pub contract: Option<Address>,
}

impl BatchPayload {
    /// The entries as the contract's `Payout` structs, in signing order.
    pub fn payouts(&self) -> Vec<abi::Payout> {
        self.entries
            .iter()
            .map(|(recipient, a)| abi::Payout { recipient: *recipient, amount: U256::from(*a) })
            .collect()
    }

    /// The EIP-712 struct the signer signs and the contract executes.
    pub fn payout_batch(&self) -> abi::PayoutBatch {
        abi::PayoutBatch {
            token: self.token,
            total: U256::from(self.total),
            payouts: self.payouts(),
            nonce: self.nonce,
            deadline: U256::from(self.deadline),
        }
    }
}

/// The batch with its stored nonce and deadline (both set), entries by position.
pub(super) async fn load_payload(tx: &mut Tx, batch_id: i64) -> Result<BatchPayload, sqlx::Error> {
    let head = sqlx::query!(
        r#"SELECT b.asset_id, a.chain_id, a.token, b.total AS "total: Money", b.chain_nonce AS "nonce: Money", b.deadline,
                  b.contract
         FROM payout_batches b JOIN assets a ON a.id = b.asset_id WHERE b.id = $1"#,
        batch_id
    )
    .fetch_one(&mut **tx)
    .await?;
    let items = sqlx::query!(
        r#"SELECT u.address, i.amount AS "amount: Money" FROM payout_batch_items i
         JOIN users u ON u.asset_id = i.asset_id AND u.user_no = i.user_no
         WHERE i.batch_id = $1 ORDER BY i.position"#,
        batch_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut entries = Vec::with_capacity(items.len());
    for r in &items {
        entries.push((Address::from_slice(&r.address), r.amount.to_amount()?));
    }
    Ok(BatchPayload {
        id: batch_id,
        asset_id: head.asset_id,
        chain_id: head.chain_id as u64,
        token: Address::from_slice(&head.token),
        total: head.total.to_amount()?,
        nonce: head.nonce.map(|n| n.0).unwrap_or_default(),
        deadline: head.deadline.unwrap_or_default() as u64,
        entries,
        contract: head.contract.as_deref().map(Address::from_slice),
    })
}
