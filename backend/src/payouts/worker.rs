//! The payout worker: every `interval_secs`, each signed or submitted batch that nobody has signed, sent or
//! re-sent for `idle_secs` is driven one step towards its outcome with [`sender::advance_if_idle`] — a signed
//! batch is sent, a submitted one followed up (its transaction resent once dropped or reverted, its kept TRON
//! bytes broadcast again, a new transaction once they are provably dead). A batch left `signed` or `submitted`
//! by a crash or by an admin who walked away is finished by the machine; the reconciler only pages.
//!
//! The idle wait keeps the worker off batches a person is working on, and `SKIP LOCKED` off one another: any
//! number of API instances may run it. Exactly-once rests on the contract (one execution per batch nonce), not on
//! the worker being alone.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use super::sender::{self, Driver, Outcome, Previous, SendError};
use crate::chains::ChainRegistry;
use crate::metrics::{ApiMetrics, PayoutTxOutcome};

/// The `audit_logs` actor of the worker's sends.
pub const ACTOR: &str = "payout-worker";

/// Batches looked at per round (the rest wait for the next round).
const BATCHES_PER_ROUND: i64 = 100;

/// What the worker needs: the ledger, the chains (with their operator keys) and the metrics.
#[derive(Debug, Clone)]
pub struct PayoutWorker {
    /// The ledger.
    pub db: PgPool,
    /// The configured chains; batches of a chain without an operator key are skipped.
    pub chains: Arc<ChainRegistry>,
    /// Where replaced transactions are counted (`payout_transactions_total`).
    pub metrics: Arc<ApiMetrics>,
    /// How long a batch must have been left alone before the worker moves it (`idle_secs`).
    pub idle: Duration,
}

/// One batch the worker moved (or tried to).
#[derive(Debug)]
pub struct Step {
    /// The batch.
    pub batch_id: i64,
    /// What the step did, or why the batch could not be moved.
    pub result: Result<sender::Sent, SendError>,
}

impl PayoutWorker {
    /// Runs rounds every `interval` until `stop` fires (the worker kit, [`service_kit::work`]); a round that fails is
    /// logged and the next one tries again.
    pub async fn run(self, interval: Duration, stop: service_kit::work::Stop) {
        tracing::info!(idle_secs = self.idle.as_secs(), "payout worker started");
        let this = &self;
        service_kit::work::run("payouts", interval, stop, move || async move {
            // Every round waits the interval: a batch that cannot move would otherwise be retried in a tight loop.
            this.round().await.map(|_| service_kit::work::Round::Idle)
        })
        .await;
    }

    /// One round: every batch due, one step each.
    pub async fn round(&self) -> Result<Vec<Step>, sqlx::Error> {
        let due = ledger::payouts::batches_to_drive(&self.db, self.idle, BATCHES_PER_ROUND).await?;
        let mut steps = Vec::new();
        for (batch_id, chain_id) in due {
            let Some(chain) = self.chains.get(chain_id) else {
                tracing::warn!(batch_id, chain_id, "payout worker: the batch's chain is not configured here");
                continue;
            };
            let Some(batch) = ledger::payouts::batch_chain(&self.db, batch_id).await? else { continue };
            let contract = chain.batch_contract(batch.contract);
            let submitter = match chain.submitter_for(contract) {
                Ok(submitter) => submitter,
                Err(e) => {
                    tracing::warn!(batch_id, chain_id, error = %e, "payout worker: cannot send on this chain");
                    continue;
                }
            };
            if self.cancel_if_expired(chain, contract, batch_id).await? {
                continue;
            }
            let found = count_replacements(self.metrics.clone());
            let driver = Driver { actor: ACTOR, found: &found };
            let result = sender::advance_if_idle(&self.db, &*submitter, batch_id, &batch, self.idle, &driver).await;
            let result = match result {
                Ok(None) => continue,
                Ok(Some(sent)) => Ok(sent),
                Err(e) => Err(e),
            };
            count_underfunded(&self.metrics, &batch, &result);
            log_step(batch_id, &result);
            steps.push(Step { batch_id, result });
        }
        Ok(steps)
    }
}

impl PayoutWorker {
    /// A batch whose deadline has passed by the chain's clock can never execute; once the chain proves it (a final
    /// block past the deadline, every signing attempt's nonce unused) it is cancelled here, its rewards pending again
    /// for the next batch, instead of being sent again and again to be refused `Expired`. True when it was cancelled.
    async fn cancel_if_expired(
        &self,
        chain: &crate::chains::Chain,
        contract: alloy::primitives::Address,
        batch_id: i64,
    ) -> Result<bool, sqlx::Error> {
        let Some(state) = ledger::payouts::cancel_state(&self.db, batch_id).await? else { return Ok(false) };
        let Some(deadline) = state.deadline else { return Ok(false) };
        if deadline >= chain.now(&crate::clock::Clock::default()).await {
            return Ok(false);
        }
        let Ok(reader) = chain.reader_for(contract) else { return Ok(false) };
        let nonces = state.attempt_nonces(batch_id);
        let proof = match tokio::time::timeout(sender::CHAIN_TIMEOUT, reader.liveness(&nonces, deadline)).await {
            Ok(Ok(payout_chain::Liveness::Dead(proof))) => proof,
            Ok(Ok(_)) => return Ok(false), // not final yet, or a nonce is used: the listener settles it
            Ok(Err(e)) => {
                tracing::warn!(batch_id, error = %e, "payout worker: the batch's expiry could not be checked");
                return Ok(false);
            }
            Err(_) => return Ok(false),
        };
        let proof = serde_json::json!({
            "reason": "expired",
            "chain": {
                "block": proof.block, "block_timestamp": proof.block_timestamp, "head": proof.head,
                "deadline": proof.deadline,
                "unused_nonces": proof.unused_nonces.iter().map(ToString::to_string).collect::<Vec<_>>(),
            },
        });
        match ledger::payouts::cancel_batch(&self.db, batch_id, &state, proof, ACTOR).await {
            Ok(Some(cancelled)) => {
                tracing::warn!(
                    batch_id,
                    deadline,
                    rewards = cancelled.rewards,
                    "payout worker: the batch passed its deadline unexecuted (the chain's clock); cancelled, its \
                     rewards are pending again for the next batch"
                );
                self.metrics.intent_failed(ledger::authorisations::OutflowKind::PayoutBatch, true);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(ledger::payouts::PayoutError::Db(e)) => Err(e),
            Err(e) => {
                tracing::error!(batch_id, error = %e, "payout worker: cancelling an expired batch failed");
                Ok(false)
            }
        }
    }
}

/// A [`Driver::found`] that counts each transaction a follow-up found gone in `payout_transactions_total`
/// (reverted, or dropped: an EVM drop or a provably dead TRON transaction), replaced (EVM, unmined too long) or
/// left waiting at the fee ceiling, for every driver alike.
pub fn count_replacements(metrics: Arc<ApiMetrics>) -> impl Fn(&ledger::payouts::BatchChain, Previous) + Sync {
    move |batch, previous| {
        let outcome = match previous {
            Previous::Reverted => PayoutTxOutcome::Reverted,
            Previous::Dropped | Previous::Expired | Previous::Unseen => PayoutTxOutcome::Dropped,
            Previous::Stuck => PayoutTxOutcome::Replaced,
            Previous::AtFeeCeiling => PayoutTxOutcome::AtFeeCeiling,
        };
        metrics.payout_retry(batch.asset_id, &batch.symbol, outcome);
    }
}

/// Counts a send the operator account could not pay for (`payout_transactions_total{outcome="underfunded"}`):
/// nothing was sent, the batch is as it was, and the next round (or the admin) sends it once the account is topped
/// up.
pub fn count_underfunded<T>(metrics: &ApiMetrics, batch: &ledger::payouts::BatchChain, result: &Result<T, SendError>) {
    if let Err(SendError::Chain(payout_chain::SubmitError::Underfunded(why))) = result {
        tracing::error!(asset_id = batch.asset_id, %why, "payout not sent: the operator is underfunded");
        metrics.payout_retry(batch.asset_id, &batch.symbol, PayoutTxOutcome::Underfunded);
    }
}

fn log_step(batch_id: i64, result: &Result<sender::Sent, SendError>) {
    match result {
        Ok(sent) if sent.sent() => tracing::info!(
            batch_id, tx = %sent.tx, outcome = ?sent.outcome, previous = sent.previous.map(Previous::as_str),
            "payout worker sent a batch"
        ),
        Ok(sent) if matches!(sent.outcome, Outcome::Executed { .. }) => {
            tracing::info!(batch_id, tx = %sent.tx, "payout worker: the batch executed; the listener settles it")
        }
        Ok(sent) => tracing::debug!(batch_id, tx = %sent.tx, "payout worker: the batch's transaction is in flight"),
        Err(SendError::NotYetDead { .. }) => {
            tracing::info!(batch_id, "payout worker: the kept transaction is not provably dead yet")
        }
        Err(e) => tracing::warn!(batch_id, error = %e, "payout worker could not move a batch"),
    }
}
