//! Sending a signed payout batch, one use case for every driver: the first send of a signed batch, and the
//! follow-up of a submitted one (still in flight → nothing; executed → reported; dropped or reverted → the same
//! signed batch again, never a new batch nonce, so at most one version can execute; on EVM, in flight longer than
//! the chain's fee policy allows → replaced by the same signed batch with the same account nonce and higher fees).
//! A proof of solvency's commitment is sent the same way ([`SendJob`]: what the ledger keeps of each payload).
//!
//! On a chain whose family keeps signed bytes (TRON), the transaction is signed first and kept in the ledger,
//! committed, before it is broadcast; a follow-up broadcasts exactly those bytes again while they may still be
//! included, and signs a new transaction only once the chain proves them dead (or they failed).
//!
//! Every decision is taken under the batch's row lock ([`ledger::payouts::lock_for_send`]), so two drivers (an
//! admin and the worker, or two instances) never send for the same batch at once. Outcomes and refusals are
//! typed: no caller matches on a chain's error text.

use std::time::Duration;

use ::ledger::payouts::{self as ledger, BatchChain, BatchStatus, KeptTransaction, SendState};
use alloy::primitives::{B256, Bytes};
use payout_chain::{
    BatchOutcome, Broadcast, PayoutChain, Prepared, Replacement, SignedCall, SignedTransaction, SubmitError,
};
use sqlx::PgPool;

/// Longest wait for one chain call.
pub const CHAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The send decision's database transaction.
pub type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

/// What the driver asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// The first send of a signed batch (the admin's submit).
    Submit,
    /// The follow-up of a submitted batch (the admin's retry).
    Retry,
    /// Whichever is due (the worker): a signed batch is sent, a submitted one followed up.
    Advance,
}

/// What the previous transaction of a batch turned out to be when a follow-up looked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Previous {
    /// The node no longer knows it (EVM): nothing was paid.
    Dropped,
    /// Mined and reverted: nothing was paid.
    Reverted,
    /// Provably dead (TRON): a solidified block is past its expiration and it is in no block.
    Expired,
    /// In no block yet and not provably dead (TRON): its kept bytes were broadcast again.
    Unseen,
    /// Unmined longer than the fee policy allows (EVM): replaced with the same account nonce and higher fees.
    Stuck,
    /// Unmined longer than the fee policy allows (EVM), but the fee ceiling leaves no room for a higher fee: it
    /// waits as it is.
    AtFeeCeiling,
}

impl Previous {
    /// The name the API shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Previous::Dropped => "dropped",
            Previous::Reverted => "reverted",
            Previous::Expired => "expired",
            Previous::Unseen => "unseen",
            Previous::Stuck => "stuck",
            Previous::AtFeeCeiling => "at_fee_ceiling",
        }
    }
}

/// What a send or follow-up did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A transaction is on its way.
    Sent,
    /// The last transaction is still in flight: nothing sent.
    Pending,
    /// The batch executed on-chain in `block`: nothing sent.
    Executed {
        /// Block of the execution.
        block: u64,
    },
    /// TRON: the kept bytes of the last transaction, in no block yet and not provably dead, were broadcast again.
    Rebroadcast,
    /// EVM: the last transaction, unmined too long, was replaced by one with the same account nonce and higher
    /// fees.
    Replaced,
}

/// The result of a send or follow-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// What was done.
    pub outcome: Outcome,
    /// The transaction sent, still pending, or that executed the batch.
    pub tx: B256,
    /// What happened to the previous transaction, on a follow-up that sent.
    pub previous: Option<Previous>,
}

impl Sent {
    /// Whether this call put a transaction on its way.
    pub fn sent(&self) -> bool {
        matches!(self.outcome, Outcome::Sent | Outcome::Rebroadcast | Outcome::Replaced)
    }
}

/// Why nothing could be sent; the batch is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No such batch.
    #[error("no batch {0}")]
    NotFound(i64),
    /// The batch is still being built (not signed).
    #[error("batch {0} is not signed yet")]
    NotSigned(i64),
    /// A first send of a batch that was sent already.
    #[error("batch {0} was sent already; use retry")]
    AlreadySubmitted(i64),
    /// A first send of a batch that executed already.
    #[error("batch {0} executed already")]
    AlreadyExecuted(i64),
    /// A follow-up of a batch that was never sent.
    #[error("batch {0} was never sent; use submit")]
    NotSubmitted(i64),
    /// The batch's status allows no sending (cancelled, failed).
    #[error("batch {0} is {1}")]
    NotSendable(i64, BatchStatus),
    /// TRON: the batch was sent without keeping its signed transaction.
    #[error("batch {0} was sent without keeping its signed transaction; it cannot be broadcast again")]
    NoKeptTransaction(i64),
    /// TRON: the kept transaction is past its expiration, but no solidified block is past it yet.
    #[error(
        "the last transaction of batch {batch_id} expired at {expiration_ms} (unix ms) but is not provably dead \
         until a solidified block is past that: retry in about a minute"
    )]
    NotYetDead {
        /// The batch.
        batch_id: i64,
        /// The kept transaction's expiration (unix milliseconds).
        expiration_ms: i64,
    },
    /// The chain refused or could not be asked.
    #[error(transparent)]
    Chain(#[from] SubmitError),
    /// The chain did not answer within [`CHAIN_TIMEOUT`].
    #[error("the chain's RPC did not answer in time")]
    ChainTimeout,
    /// A chain call answered what it never should (a bug in a family).
    #[error("{0}")]
    Unexpected(String),
    /// A signed batch without its stored signature (a bug, or a damaged row).
    #[error("batch {0} is signed but has no stored signature")]
    NoSignature(i64),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Who drives a send, for the audit trail and the metrics.
pub struct Driver<'a> {
    /// The `audit_logs` actor: an admin's checksummed wallet, or [`super::worker::ACTOR`].
    pub actor: &'a str,
    /// Called with what a follow-up found before it sends a replacement (dropped, expired, reverted or stuck), and
    /// when a stuck transaction cannot be replaced below the fee ceiling.
    pub found: &'a (dyn Fn(&BatchChain, Previous) + Sync),
}

/// What the ledger keeps of one signed payload the operator sends, and records of each transaction sent for it:
/// a payout batch, or a proof of solvency's epoch. The send decisions are the same for both.
pub trait SendJob: Sync {
    /// The payload's row id (a batch's, an epoch's), for messages.
    fn id(&self) -> i64;
    /// Its chain and asset.
    fn chain(&self) -> &BatchChain;
    /// The audit action of a first send, a retry and a replacement.
    fn actions(&self) -> [&'static str; 3];
    /// The signed payload, read inside the send decision's transaction.
    fn payload(&self, tx: &mut Tx) -> impl Future<Output = Result<SignedCall, sqlx::Error>> + std::marker::Send;
    /// Records that `hash` was sent for it, and commits.
    fn record_sent(
        &self,
        tx: Tx,
        state: &SendState,
        hash: B256,
        action: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + std::marker::Send;
    /// Records a signed transaction **before** its broadcast (TRON), and commits.
    fn record_kept(
        &self,
        tx: Tx,
        state: &SendState,
        kept: &KeptTransaction,
        action: &str,
        actor: &str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + std::marker::Send;
}

/// A payout batch as the sender drives it.
pub struct PayoutJob<'a> {
    /// The batch.
    pub batch_id: i64,
    /// Its chain and asset.
    pub chain: &'a BatchChain,
}

impl SendJob for PayoutJob<'_> {
    fn id(&self) -> i64 {
        self.batch_id
    }

    fn chain(&self) -> &BatchChain {
        self.chain
    }

    fn actions(&self) -> [&'static str; 3] {
        ["payout_batch_submit", "payout_batch_retry", "payout_batch_replace"]
    }

    async fn payload(&self, tx: &mut Tx) -> Result<SignedCall, sqlx::Error> {
        Ok(SignedCall::Payout(ledger::signed_payload(tx, self.batch_id).await?.payout_batch()))
    }

    async fn record_sent(
        &self,
        tx: Tx,
        state: &SendState,
        hash: B256,
        action: &str,
        actor: &str,
    ) -> Result<(), sqlx::Error> {
        ledger::record_sent(tx, self.batch_id, self.chain.asset_id, state, hash, action, actor).await
    }

    async fn record_kept(
        &self,
        tx: Tx,
        state: &SendState,
        kept: &KeptTransaction,
        action: &str,
        actor: &str,
    ) -> Result<(), sqlx::Error> {
        ledger::record_kept(tx, self.batch_id, self.chain.asset_id, state, kept, action, actor).await
    }
}

/// Sends or follows up batch `batch_id` (on `batch`'s chain, through `chain`), waiting for anyone else deciding
/// on it.
pub async fn send(
    db: &PgPool,
    chain: &dyn PayoutChain,
    batch_id: i64,
    batch: &BatchChain,
    request: Request,
    driver: &Driver<'_>,
) -> Result<Sent, SendError> {
    let (tx, state) = ledger::lock_for_send(db, batch_id).await?.ok_or(SendError::NotFound(batch_id))?;
    decide(&PayoutJob { batch_id, chain: batch }, chain, driver, tx, state, request).await
}

/// The worker's step: as [`send`] with [`Request::Advance`], only when nobody has moved the batch for `idle` and
/// nobody holds it now; `None` otherwise.
pub async fn advance_if_idle(
    db: &PgPool,
    chain: &dyn PayoutChain,
    batch_id: i64,
    batch: &BatchChain,
    idle: Duration,
    driver: &Driver<'_>,
) -> Result<Option<Sent>, SendError> {
    let Some((tx, state)) = ledger::lock_idle_for_send(db, batch_id, idle).await? else { return Ok(None) };
    decide(&PayoutJob { batch_id, chain: batch }, chain, driver, tx, state, Request::Advance).await.map(Some)
}

/// One send decision on `job`, locked by `tx` in `state`: the first send of a signed payload, or the follow-up of a
/// sent one, as `request` asks.
pub async fn decide<J: SendJob>(
    job: &J,
    chain: &dyn PayoutChain,
    driver: &Driver<'_>,
    tx: Tx,
    state: SendState,
    request: Request,
) -> Result<Sent, SendError> {
    Send { job, chain, driver }.decide(tx, state, request).await
}

/// A chain call, bounded by [`CHAIN_TIMEOUT`].
async fn bounded<T>(call: impl Future<Output = Result<T, SubmitError>>) -> Result<T, SendError> {
    match tokio::time::timeout(CHAIN_TIMEOUT, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(SendError::ChainTimeout),
    }
}

/// One send decision on a locked payload.
struct Send<'a, J> {
    job: &'a J,
    chain: &'a dyn PayoutChain,
    driver: &'a Driver<'a>,
}

/// What a locked batch's status allows.
enum Step {
    First,
    FollowUp(B256),
}

fn step(batch_id: i64, request: Request, state: &SendState) -> Result<Step, SendError> {
    use BatchStatus::*;
    match (request, state.status, state.tx_hash) {
        (_, Building, _) => Err(SendError::NotSigned(batch_id)),
        (Request::Submit | Request::Advance, Signed, _) => Ok(Step::First),
        (Request::Submit, Submitted, _) => Err(SendError::AlreadySubmitted(batch_id)),
        (Request::Submit, Executed, _) => Err(SendError::AlreadyExecuted(batch_id)),
        (Request::Retry, Signed, _) => Err(SendError::NotSubmitted(batch_id)),
        (Request::Retry, Submitted | Executed, Some(last)) | (Request::Advance, Submitted, Some(last)) => {
            Ok(Step::FollowUp(last))
        }
        (_, status, _) => Err(SendError::NotSendable(batch_id, status)),
    }
}

impl<J: SendJob> Send<'_, J> {
    async fn decide(&self, mut tx: Tx, state: SendState, request: Request) -> Result<Sent, SendError> {
        let step = step(self.job.id(), request, &state)?;
        let batch = self.job.payload(&mut tx).await?;
        let keeps = self.chain.keeps_signed_bytes();
        match step {
            Step::First => {
                let signature = self.signature(&state)?;
                let action = self.job.actions()[0];
                if keeps {
                    self.sign_keep_broadcast(tx, &state, &batch, &signature, None, action).await
                } else {
                    self.submit(tx, &state, &batch, &signature, None, action).await
                }
            }
            Step::FollowUp(_) if keeps => self.follow_up_kept(tx, &state, &batch).await,
            Step::FollowUp(last) => self.follow_up(tx, &state, &batch, last).await,
        }
    }

    fn signature(&self, state: &SendState) -> Result<Bytes, SendError> {
        state.signature.clone().map(Bytes::from).ok_or(SendError::NoSignature(self.job.id()))
    }

    fn result(outcome: Outcome, tx: B256, previous: Option<Previous>) -> Sent {
        Sent { outcome, tx, previous }
    }

    /// Sends in one step (EVM) and records the transaction.
    async fn submit(
        &self,
        tx: Tx,
        state: &SendState,
        batch: &SignedCall,
        signature: &Bytes,
        previous: Option<Previous>,
        action: &str,
    ) -> Result<Sent, SendError> {
        let (hash, outcome) = match bounded(self.chain.submit(batch, signature)).await? {
            BatchOutcome::Pending { tx: hash } => (hash, Outcome::Sent),
            BatchOutcome::Executed { tx: hash, block, .. } => (hash, Outcome::Executed { block }),
            other => return Err(SendError::Unexpected(format!("submit answered {other:?}"))),
        };
        self.job.record_sent(tx, state, hash, action, self.driver.actor).await?;
        Ok(Self::result(outcome, hash, previous))
    }

    /// Follows up the last transaction `last` (EVM): still in flight or executed → nothing sent; dropped or
    /// reverted → the same signed batch again.
    async fn follow_up(&self, tx: Tx, state: &SendState, batch: &SignedCall, last: B256) -> Result<Sent, SendError> {
        let previous = match bounded(self.chain.status(batch, last)).await? {
            BatchOutcome::Pending { tx: hash }
                if self.chain.replace_after().is_some_and(|after| state.idle >= after) =>
            {
                return self.replace(tx, state, batch, hash).await;
            }
            BatchOutcome::Pending { tx: hash } | BatchOutcome::Unseen { tx: hash, .. } => {
                return Ok(Self::result(Outcome::Pending, hash, None));
            }
            BatchOutcome::Executed { tx: hash, block, .. } => {
                return Ok(Self::result(Outcome::Executed { block }, hash, None));
            }
            BatchOutcome::Dropped { .. } => Previous::Dropped,
            BatchOutcome::Reverted { .. } => Previous::Reverted,
        };
        (self.driver.found)(self.job.chain(), previous);
        let signature = self.signature(state)?;
        self.submit(tx, state, batch, &signature, Some(previous), self.job.actions()[1]).await
    }

    /// Replaces the transaction `last`, in flight longer than the fee policy allows (EVM), and records the
    /// replacement; at the fee ceiling nothing is sent and the caller is told.
    async fn replace(&self, tx: Tx, state: &SendState, batch: &SignedCall, last: B256) -> Result<Sent, SendError> {
        let signature = self.signature(state)?;
        match bounded(self.chain.replace(batch, &signature, last)).await? {
            Replacement::Replaced { tx: hash, fees } => {
                tracing::info!(
                    id = self.job.id(), what = batch.what(), %last, replacement = %hash,
                    max_fee_per_gas = fees.max_fee_per_gas, max_priority_fee_per_gas = fees.max_priority_fee_per_gas,
                    "stuck transaction replaced"
                );
                (self.driver.found)(self.job.chain(), Previous::Stuck);
                self.job.record_sent(tx, state, hash, self.job.actions()[2], self.driver.actor).await?;
                Ok(Self::result(Outcome::Replaced, hash, Some(Previous::Stuck)))
            }
            Replacement::AtCeiling { fees } => {
                tracing::warn!(
                    id = self.job.id(), what = batch.what(), tx = %last, max_fee_per_gas = fees.max_fee_per_gas,
                    "transaction stuck at the fee ceiling: raise the ceiling or wait for fees to fall"
                );
                (self.driver.found)(self.job.chain(), Previous::AtFeeCeiling);
                Ok(Self::result(Outcome::Pending, last, Some(Previous::AtFeeCeiling)))
            }
            Replacement::NotPending => Ok(Self::result(Outcome::Pending, last, None)),
        }
    }

    /// Signs a new transaction for the batch, keeps it (committed), then broadcasts it (TRON). A broadcast that
    /// fails after the commit leaves the kept bytes for a follow-up to broadcast again.
    async fn sign_keep_broadcast(
        &self,
        tx: Tx,
        state: &SendState,
        batch: &SignedCall,
        signature: &Bytes,
        previous: Option<Previous>,
        action: &str,
    ) -> Result<Sent, SendError> {
        let (id, actor) = (self.job.id(), self.driver.actor);
        match bounded(self.chain.prepare(batch, signature)).await? {
            Prepared::Executed(BatchOutcome::Executed { tx: hash, block, .. }) => {
                self.job.record_sent(tx, state, hash, action, actor).await?;
                Ok(Self::result(Outcome::Executed { block }, hash, previous))
            }
            Prepared::Executed(other) => Err(SendError::Unexpected(format!("prepare answered {other:?}"))),
            Prepared::Signed(signed) => {
                let kept = KeptTransaction {
                    id: signed.id,
                    raw: signed.raw.clone(),
                    expiration_ms: signed.expiration_ms,
                    fee_limit: signed.fee_limit,
                };
                self.job.record_kept(tx, state, &kept, action, actor).await?;
                match bounded(self.chain.broadcast(&signed)).await? {
                    Broadcast::Accepted | Broadcast::AlreadyKnown => {
                        Ok(Self::result(Outcome::Sent, signed.id, previous))
                    }
                    Broadcast::Expired => {
                        Err(SendError::NotYetDead { batch_id: id, expiration_ms: signed.expiration_ms })
                    }
                }
            }
        }
    }

    /// Follows up the kept transaction (TRON): still in flight → nothing sent; unseen → its bytes again;
    /// executed → reported; provably dead or failed → a new transaction with the same signed batch.
    async fn follow_up_kept(&self, tx: Tx, state: &SendState, batch: &SignedCall) -> Result<Sent, SendError> {
        let kept = state.kept.as_ref().ok_or(SendError::NoKeptTransaction(self.job.id()))?;
        let signed = signed_of(kept);
        let previous = match bounded(self.chain.signed_status(batch, &signed)).await? {
            BatchOutcome::Pending { tx: hash } => return Ok(Self::result(Outcome::Pending, hash, None)),
            BatchOutcome::Executed { tx: hash, block, .. } => {
                return Ok(Self::result(Outcome::Executed { block }, hash, None));
            }
            BatchOutcome::Unseen { tx: hash, expiration_ms } => {
                return match bounded(self.chain.broadcast(&signed)).await? {
                    Broadcast::Expired => Err(SendError::NotYetDead { batch_id: self.job.id(), expiration_ms }),
                    Broadcast::Accepted | Broadcast::AlreadyKnown => {
                        Ok(Self::result(Outcome::Rebroadcast, hash, Some(Previous::Unseen)))
                    }
                };
            }
            BatchOutcome::Dropped { .. } => Previous::Expired,
            BatchOutcome::Reverted { .. } => Previous::Reverted,
        };
        (self.driver.found)(self.job.chain(), previous);
        let signature = self.signature(state)?;
        self.sign_keep_broadcast(tx, state, batch, &signature, Some(previous), self.job.actions()[1]).await
    }
}

fn signed_of(kept: &KeptTransaction) -> SignedTransaction {
    SignedTransaction {
        id: kept.id,
        raw: kept.raw.clone(),
        expiration_ms: kept.expiration_ms,
        fee_limit: kept.fee_limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: BatchStatus, tx_hash: Option<B256>) -> SendState {
        SendState { status, tx_hash, signature: Some(vec![1]), kept: None, idle: Duration::ZERO }
    }

    #[test]
    fn each_request_is_allowed_only_from_its_statuses() {
        use BatchStatus::*;
        let h = Some(B256::repeat_byte(7));
        let ok_first = |r, s| matches!(step(1, r, &state(s, None)), Ok(Step::First));
        let ok_follow = |r, s| matches!(step(1, r, &state(s, h)), Ok(Step::FollowUp(_)));
        assert!(ok_first(Request::Submit, Signed) && ok_first(Request::Advance, Signed));
        assert!(ok_follow(Request::Retry, Submitted) && ok_follow(Request::Retry, Executed));
        assert!(ok_follow(Request::Advance, Submitted));
        assert!(matches!(step(1, Request::Advance, &state(Executed, h)), Err(SendError::NotSendable(1, Executed))));
        assert!(matches!(step(1, Request::Submit, &state(Submitted, h)), Err(SendError::AlreadySubmitted(1))));
        assert!(matches!(step(1, Request::Submit, &state(Executed, h)), Err(SendError::AlreadyExecuted(1))));
        assert!(matches!(step(1, Request::Retry, &state(Signed, None)), Err(SendError::NotSubmitted(1))));
        for r in [Request::Submit, Request::Retry, Request::Advance] {
            assert!(matches!(step(1, r, &state(Building, None)), Err(SendError::NotSigned(1))));
            assert!(matches!(step(1, r, &state(Cancelled, h)), Err(SendError::NotSendable(1, Cancelled))));
        }
        assert!(matches!(step(1, Request::Retry, &state(Submitted, None)), Err(SendError::NotSendable(1, _))));
    }
}
