//! Why the ledger could not apply a batch.

use crate::plan::{ConservationError, InvalidPlan, InvalidVersion};

/// Why the ledger could not apply a batch; nothing of the batch was stored.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The database failed; the transaction rolled back and the batch can be retried.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// An event at or before the stored cursor: chain order would break, so nothing is applied.
    #[error("event at {position:?} is not after the chain cursor {cursor:?}")]
    OutOfOrder {
        /// (block number, log index) of the offending event, or the confirmed block the cursor could not move to.
        position: (u64, u64),
        /// Position it must come after: the stored cursor, the batch's previous event or the confirmed block's end.
        cursor: Option<(u64, u64)>,
    },
    /// An event of another chain; each chain has its own ledger.
    #[error("event of chain {got} given to the ledger of chain {expected}")]
    WrongChain {
        /// Chain id this ledger owns.
        expected: u64,
        /// Chain id in the event's key.
        got: u64,
    },
    /// Plan parameters that break the validation rules of PLAN.md §0.
    #[error(transparent)]
    InvalidPlan(#[from] InvalidPlan),
    /// A plan version change that cannot apply (e.g. not from a future block).
    #[error(transparent)]
    InvalidVersion(#[from] InvalidVersion),
    /// An applied event's credits do not sum to its amount (invariant 1): a bug, nothing stored.
    #[error(transparent)]
    Conservation(#[from] ConservationError),
    /// Stored rows contradict each other or cannot be parsed; needs a person.
    #[error("stored ledger is inconsistent: {0}")]
    Corrupt(String),
}
