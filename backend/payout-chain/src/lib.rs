//! Sends signed payout batches — and the proof of solvency's commitments, the other payload the operator sends
//! ([`SignedCall`]) — with the operator key, tracks them, and retries a dropped or failed transaction with the same
//! signed payload, never a new nonce, so at most one version can execute.
//!
//! Before any (re)send the batch nonce is checked on-chain: a batch that already executed is reported from
//! its `PayoutBatchExecuted` event instead of being sent again.
//!
//! What a payout chain must do is the [`PayoutChain`] trait — send, say where a transaction stands, find a batch's
//! execution, prove a signed batch dead — so that the backend holds a chain family behind one interface.
//! [`PayoutSubmitter`] is the EVM family (BSC, anvil) over alloy; [`tron::TronPayoutChain`] is TRON's, over
//! java-tron's gRPC API with `tronic`.
//!
//! The families differ in what "send again" means. An EVM transaction is replaced by one with the same account
//! nonce; a TRON transaction has no account nonce, only a reference block and an expiration, so the family
//! signs first ([`PayoutChain::prepare`]), the caller keeps the signed bytes, then broadcasts them
//! ([`PayoutChain::broadcast`]) and broadcasts exactly those again until the chain proves them dead
//! ([`PayoutChain::signed_status`]); only then may a new transaction carry the same signed batch.
//!
//! An EVM transaction left unmined longer than its [`fees::FeePolicy`] allows is replaced
//! ([`PayoutChain::replace`]): the same account nonce, the same signed batch, fees raised within the policy's
//! ceiling. Whichever of the two is mined, the batch executes once.

#![warn(missing_docs)]

use std::{future::Future, pin::Pin, time::Duration};

use abi::{LiabilityRoot, PayoutBatch, Settlement};
use alloy::{
    consensus::Transaction as _,
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, Log as PrimitiveLog, U256},
    providers::Provider,
    rpc::types::{Filter, TransactionReceipt, TransactionRequest},
    sol_types::{SolCall, SolEvent},
};

/// A payload the signer signed that the operator sends to the Settlement contract: both go the same way — simulated,
/// sent, followed up, sent again with the same signature, found by their execution — so the chain families hold one
/// send path for both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedCall {
    /// `executePayoutBatch(batch, signature)`: rewards pushed from custody.
    Payout(PayoutBatch),
    /// `commitLiabilities(root, signature)`: a proof of solvency's root committed beside custody.
    Commitment(LiabilityRoot),
}

impl From<PayoutBatch> for SignedCall {
    fn from(batch: PayoutBatch) -> Self {
        SignedCall::Payout(batch)
    }
}

impl SignedCall {
    /// The payload's contract nonce.
    pub fn nonce(&self) -> U256 {
        match self {
            SignedCall::Payout(b) => b.nonce,
            SignedCall::Commitment(c) => c.nonce,
        }
    }

    /// What it is, for messages ("batch", "commitment").
    pub fn what(&self) -> &'static str {
        match self {
            SignedCall::Payout(_) => "batch",
            SignedCall::Commitment(_) => "commitment",
        }
    }

    /// The call's ABI-encoded data, with the signer's signature.
    pub fn calldata(&self, signature: &Bytes) -> Vec<u8> {
        match self {
            SignedCall::Payout(batch) => {
                Settlement::executePayoutBatchCall { batch: batch.clone(), signature: signature.clone() }.abi_encode()
            }
            SignedCall::Commitment(root) => {
                Settlement::commitLiabilitiesCall { c: root.clone(), signature: signature.clone() }.abi_encode()
            }
        }
    }

    /// The event that proves the call executed, and its indexed topics (the batch's nonce; the commitment's token
    /// and epoch): how its execution is found by a log search.
    fn execution_filter(&self, settlement: Address) -> Filter {
        let filter = Filter::new().address(settlement).from_block(0);
        match self {
            SignedCall::Payout(b) => {
                filter.event_signature(Settlement::PayoutBatchExecuted::SIGNATURE_HASH).topic1(B256::from(b.nonce))
            }
            SignedCall::Commitment(c) => filter
                .event_signature(Settlement::LiabilitiesCommitted::SIGNATURE_HASH)
                .topic1(c.token.into_word())
                .topic2(B256::from(U256::from(c.epoch))),
        }
    }

    /// Its execution in the Settlement contract's logs of a successful transaction (`logs`: only the contract's).
    pub fn executed(&self, tx: B256, block: u64, logs: &[PrimitiveLog]) -> Option<BatchOutcome> {
        match self {
            SignedCall::Payout(_) => {
                let mut total = None;
                let mut deferred = Vec::new();
                for log in logs {
                    if let Ok(e) = Settlement::PayoutBatchExecuted::decode_log_data(&log.data) {
                        total = Some(e.total);
                    } else if let Ok(e) = Settlement::PayoutDeferred::decode_log_data(&log.data) {
                        deferred.push(DeferredPayout {
                            index: e.index.to::<u64>(),
                            recipient: e.recipient,
                            amount: e.amount,
                        });
                    }
                }
                Some(BatchOutcome::Executed { tx, block, total: total?, deferred })
            }
            SignedCall::Commitment(c) => logs.iter().find_map(|log| {
                let e = Settlement::LiabilitiesCommitted::decode_log_data(&log.data).ok()?;
                (e.token == c.token && e.epoch == c.epoch).then(|| BatchOutcome::Executed {
                    tx,
                    block,
                    total: U256::from(e.total),
                    deferred: Vec::new(),
                })
            }),
        }
    }
}

/// An entry the contract could not push; its amount is now claimable by `recipient`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeferredPayout {
    /// Position of the entry in the signed batch's `payouts`.
    pub index: u64,
    /// User whose push failed; they claim the amount from the contract themselves.
    pub recipient: Address,
    /// Base units now in the recipient's claimable balance (settled in the ledger).
    pub amount: U256,
}

/// Where a batch stands on-chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Sent, not yet mined (or mined above the confirmation depth).
    Pending {
        /// Hash of the operator's transaction carrying the batch.
        tx: B256,
    },
    /// Executed: every entry not in `deferred` was paid; `deferred` entries became claimable.
    Executed {
        /// Transaction that executed the batch; may be an earlier send found by the batch nonce.
        tx: B256,
        /// Block that included that transaction.
        block: u64,
        /// Batch total in base units from `PayoutBatchExecuted`, pushed and deferred entries together.
        total: U256,
        /// Entries whose push failed, now in their recipients' claimable balances.
        deferred: Vec<DeferredPayout>,
    },
    /// Mined and reverted: nothing was paid; the batch can be sent again.
    Reverted {
        /// Hash of the reverted transaction.
        tx: B256,
    },
    /// The node no longer knows the transaction (evicted or replaced): nothing was paid; send again. On TRON:
    /// the transaction is provably dead (a solidified block is past its expiration and it is in no block).
    Dropped {
        /// Hash of the transaction the node lost.
        tx: B256,
    },
    /// Broadcast, in no block yet, and not provably dead (TRON): it may still be included; broadcast the same
    /// signed bytes again, never a new transaction.
    Unseen {
        /// Id of the transaction.
        tx: B256,
        /// Its expiration (unix milliseconds): once a solidified block is past it, it is dead.
        expiration_ms: i64,
    },
}

/// A transaction signed with the operator key, kept by the caller **before** it is broadcast, so that the
/// identical bytes can be broadcast again (TRON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTransaction {
    /// Transaction id (TRON: SHA-256 of the raw data).
    pub id: B256,
    /// What [`PayoutChain::broadcast`] sends, in the family's own encoding.
    pub raw: Vec<u8>,
    /// Unix milliseconds after which no block can include it.
    pub expiration_ms: i64,
    /// The fee limit it carries (TRON: SUN), estimated by a constant call and within the chain's cap.
    pub fee_limit: i64,
}

/// What [`PayoutChain::prepare`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prepared {
    /// The batch executed already: nothing to send.
    Executed(BatchOutcome),
    /// A signed transaction to keep, then broadcast.
    Signed(SignedTransaction),
}

/// What a node said to a broadcast that it did not refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broadcast {
    /// Accepted.
    Accepted,
    /// The node has it already (pending or in a block): nothing more to do.
    AlreadyKnown,
    /// The node refuses the bytes because their expiration has passed, but no solidified block is past it yet, so
    /// they are not provably dead: wait, then ask [`PayoutChain::signed_status`] again.
    Expired,
}

/// Why a batch could not be sent or its state read.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The contract would revert (expired, bad signature, short of funds…) or the nonce was spent otherwise.
    #[error("the contract refuses this batch: {0}")]
    Refused(String),
    /// The node could not be asked or did not answer; try again later.
    #[error("provider: {0}")]
    Provider(String),
    /// The operator account cannot pay what the transaction may cost in fees (TRON: its fee limit, and the
    /// bandwidth its free allowance does not cover). Nothing was sent; the same send succeeds once the account is
    /// topped up. Never final: it pages.
    #[error("{0}: nothing was sent; top the operator account up and the same send goes through")]
    Underfunded(String),
}

fn provider_err(e: impl std::fmt::Display) -> SubmitError {
    SubmitError::Provider(e.to_string())
}

/// A chain call's future.
pub type ChainFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, SubmitError>> + Send + 'a>>;

/// Why the chain says a signed batch can no longer execute: its deadline is below the timestamp of a block deep
/// enough to be final, and none of its nonces is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadProof {
    /// The final block whose timestamp is past the deadline: no later block can execute the batch.
    pub block: u64,
    /// Its timestamp (unix seconds).
    pub block_timestamp: u64,
    /// The head when asked.
    pub head: u64,
    /// The batch's deadline (unix seconds).
    pub deadline: u64,
    /// Every nonce the batch may have been signed with, all unused on-chain.
    pub unused_nonces: Vec<U256>,
}

/// What [`PayoutChain::replace`] did with a transaction still unmined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// A transaction with the same account nonce and higher fees is on its way.
    Replaced {
        /// The replacement's hash.
        tx: B256,
        /// Its fees.
        fees: fees::Fees,
    },
    /// The fee ceiling leaves no room for a raise nodes accept: nothing sent; the transaction waits as it is.
    AtCeiling {
        /// The fees of the waiting transaction.
        fees: fees::Fees,
    },
    /// The transaction is in a block now, or the node lost it: nothing sent; follow it up again.
    NotPending,
}

/// Whether a signed batch can still execute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// It cannot, ever: it may be cancelled and its rewards built into a new batch.
    Dead(DeadProof),
    /// No final block is past its deadline yet.
    MayStillExecute,
    /// One of its nonces is used: it may have executed; the listener settles it.
    NonceUsed(U256),
}

/// What the backend needs from a payout chain, whatever its family: every call bounded by the caller. Each signed
/// payload ([`SignedCall`]: a payout batch or a commitment) goes the same way.
pub trait PayoutChain: Send + Sync {
    /// Sends the signed payload unless it already executed ([`PayoutSubmitter::submit_call`]).
    fn submit<'a>(&'a self, call: &'a SignedCall, signature: &'a Bytes) -> ChainFuture<'a, BatchOutcome>;
    /// Where the transaction `tx` carrying `call` stands.
    fn status<'a>(&'a self, call: &'a SignedCall, tx: B256) -> ChainFuture<'a, BatchOutcome>;
    /// The execution of `call`, if any.
    fn find_execution<'a>(&'a self, call: &'a SignedCall) -> ChainFuture<'a, Option<BatchOutcome>>;
    /// Whether a batch signed with any of `nonces` and `deadline` can still execute.
    fn liveness<'a>(&'a self, nonces: &'a [U256], deadline: u64) -> ChainFuture<'a, Liveness>;

    /// How long a transaction may stay unmined before [`Self::replace`] is due; `None`: this family never
    /// replaces (TRON has no account nonce: a transaction lives until its expiration).
    fn replace_after(&self) -> Option<Duration> {
        None
    }

    /// Replaces the unmined transaction `tx` carrying `call` by one with the same account nonce and higher fees.
    fn replace<'a>(&'a self, _call: &'a SignedCall, _signature: &'a Bytes, _tx: B256) -> ChainFuture<'a, Replacement> {
        Box::pin(async { Err(SubmitError::Refused("this chain does not replace transactions".into())) })
    }

    /// Whether this family signs first and broadcasts kept bytes ([`Self::prepare`], [`Self::broadcast`],
    /// [`Self::signed_status`]) instead of sending in one step ([`Self::submit`]).
    fn keeps_signed_bytes(&self) -> bool {
        false
    }

    /// Signs a transaction carrying the payload, unless it executed already; nothing is broadcast.
    fn prepare<'a>(&'a self, _call: &'a SignedCall, _signature: &'a Bytes) -> ChainFuture<'a, Prepared> {
        Box::pin(async { Err(SubmitError::Refused("this chain sends in one step: use submit".into())) })
    }

    /// Broadcasts kept signed bytes (again).
    fn broadcast<'a>(&'a self, _signed: &'a SignedTransaction) -> ChainFuture<'a, Broadcast> {
        Box::pin(async { Err(SubmitError::Refused("this chain sends in one step: use submit".into())) })
    }

    /// Where a kept signed transaction stands: [`BatchOutcome::Unseen`] while it may still be included,
    /// [`BatchOutcome::Dropped`] once it is provably dead.
    fn signed_status<'a>(
        &'a self,
        call: &'a SignedCall,
        signed: &'a SignedTransaction,
    ) -> ChainFuture<'a, BatchOutcome> {
        self.status(call, signed.id)
    }
}

pub mod fees;
pub mod tron;

use fees::{FeePolicy, Fees};

/// Sends and tracks payout batches for one Settlement contract with the operator key: the EVM family.
pub struct PayoutSubmitter<P> {
    /// A provider whose wallet is the operator key (holder of OPERATOR_ROLE).
    provider: P,
    /// The operator key's address; `None`: read-only (status, executions, liveness), nothing can be sent.
    operator: Option<Address>,
    settlement: Address,
    confirmations: u64,
    fees: FeePolicy,
    /// Held from reading the account nonce to sending: two senders sharing the operator key never take one nonce.
    send_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl<P: Provider + Clone> PayoutSubmitter<P> {
    /// Submitter for the contract at `settlement`; an outcome is final `confirmations` blocks after its receipt.
    /// Fees follow [`FeePolicy::default`] until [`Self::with_fees`].
    pub fn new(provider: P, operator: Address, settlement: Address, confirmations: u64) -> Self {
        Self {
            provider,
            operator: Some(operator),
            settlement,
            confirmations,
            fees: FeePolicy::default(),
            send_lock: Default::default(),
        }
    }

    /// A submitter that only reads: status, executions and liveness, no operator key.
    pub fn read_only(provider: P, settlement: Address, confirmations: u64) -> Self {
        Self {
            provider,
            operator: None,
            settlement,
            confirmations,
            fees: FeePolicy::default(),
            send_lock: Default::default(),
        }
    }

    /// The same submitter pricing its transactions by `fees`.
    pub fn with_fees(self, fees: FeePolicy) -> Self {
        Self { fees, ..self }
    }

    /// The same submitter sharing `lock` with the other senders of its operator key in this process.
    pub fn with_send_lock(self, lock: std::sync::Arc<tokio::sync::Mutex<()>>) -> Self {
        Self { send_lock: lock, ..self }
    }

    /// The node's EIP-1559 suggestion (base fee from the fee history, tip from its rewards).
    async fn node_fees(&self) -> Result<Fees, SubmitError> {
        let estimate = self.provider.estimate_eip1559_fees().await.map_err(provider_err)?;
        Ok(Fees {
            max_fee_per_gas: estimate.max_fee_per_gas,
            max_priority_fee_per_gas: estimate.max_priority_fee_per_gas,
        })
    }

    /// The payload's transaction from the operator, refused without spending gas when the contract would revert now.
    async fn simulated(
        &self,
        call: &SignedCall,
        signature: &Bytes,
        operator: Address,
    ) -> Result<TransactionRequest, SubmitError> {
        let request = TransactionRequest::default()
            .with_from(operator)
            .with_to(self.settlement)
            .with_input(call.calldata(signature));
        // At the latest block: a replacement is simulated while the transaction it replaces is still pending.
        if let Err(err) = self.provider.call(request.clone()).block(alloy::eips::BlockId::latest()).await {
            let reason = err
                .as_error_resp()
                .and_then(|e| e.as_decoded_interface_error::<Settlement::SettlementErrors>())
                .map(|e| format!("{e:?}"))
                .unwrap_or_else(|| err.to_string());
            return Err(SubmitError::Refused(reason));
        }
        Ok(request)
    }

    /// Replaces the unmined transaction `tx` carrying `call`: the same account nonce and gas limit, fees raised by
    /// the policy ([`FeePolicy::replacement`]), unless the ceiling leaves no room or `tx` is no longer pending.
    pub async fn replace(&self, call: &SignedCall, signature: &Bytes, tx: B256) -> Result<Replacement, SubmitError> {
        let Some(operator) = self.operator else {
            return Err(SubmitError::Refused("no operator key: this submitter only reads".into()));
        };
        let Some(old) = self.provider.get_transaction_by_hash(tx).await.map_err(provider_err)? else {
            return Ok(Replacement::NotPending);
        };
        if old.block_number.is_some() {
            return Ok(Replacement::NotPending);
        }
        if old.inner.signer() != operator {
            return Err(SubmitError::Refused(format!("{tx} was not sent by the operator {operator}")));
        }
        let max_fee_per_gas = old.max_fee_per_gas();
        let waiting = Fees {
            max_fee_per_gas,
            max_priority_fee_per_gas: old.max_priority_fee_per_gas().unwrap_or(max_fee_per_gas),
        };
        let Some(fees) = self.fees.replacement(waiting, self.node_fees().await?) else {
            return Ok(Replacement::AtCeiling { fees: waiting });
        };
        let request = self
            .simulated(call, signature, operator)
            .await?
            .with_nonce(old.nonce())
            .with_gas_limit(old.gas_limit())
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let pending = self.provider.send_transaction(request).await.map_err(provider_err)?;
        Ok(Replacement::Replaced { tx: *pending.tx_hash(), fees })
    }

    /// Whether a batch signed with any of `nonces` and `deadline` can still execute: dead once a block
    /// `confirmations` deep is later than the deadline and none of the nonces is used.
    pub async fn liveness(&self, nonces: &[U256], deadline: u64) -> Result<Liveness, SubmitError> {
        let head = self.provider.get_block_number().await.map_err(provider_err)?;
        let Some(number) = head.checked_sub(self.confirmations) else { return Ok(Liveness::MayStillExecute) };
        let Some(block) = self.provider.get_block_by_number(number.into()).await.map_err(provider_err)? else {
            return Ok(Liveness::MayStillExecute);
        };
        let block_timestamp = block.header.timestamp;
        if block_timestamp <= deadline {
            return Ok(Liveness::MayStillExecute);
        }
        let settlement = Settlement::new(self.settlement, &self.provider);
        for nonce in nonces {
            if settlement.isNonceUsed(*nonce).call().await.map_err(provider_err)? {
                return Ok(Liveness::NonceUsed(*nonce));
            }
        }
        Ok(Liveness::Dead(DeadProof { block: number, block_timestamp, head, deadline, unused_nonces: nonces.to_vec() }))
    }

    /// Sends the batch unless it already executed; a refusal the contract would give (expired, bad
    /// signature, insufficient funds…) is reported without spending gas.
    pub async fn submit(&self, batch: &PayoutBatch, signature: &Bytes) -> Result<BatchOutcome, SubmitError> {
        self.submit_call(&SignedCall::Payout(batch.clone()), signature).await
    }

    /// Sends the signed payload unless it already executed; a refusal the contract would give is reported without
    /// spending gas.
    pub async fn submit_call(&self, call: &SignedCall, signature: &Bytes) -> Result<BatchOutcome, SubmitError> {
        if let Some(done) = self.find_execution(call).await? {
            return Ok(done);
        }
        let Some(operator) = self.operator else {
            return Err(SubmitError::Refused("no operator key: this submitter only reads".into()));
        };
        let request = self.simulated(call, signature, operator).await?;
        let _sending = self.send_lock.lock().await;
        // The account nonce comes from the node every time: a locally cached one would leave every later
        // transaction stuck behind the gap a dropped one leaves.
        let account_nonce = self.provider.get_transaction_count(operator).pending().await.map_err(provider_err)?;
        let fees = self.fees.first(self.node_fees().await?);
        let request = request
            .with_nonce(account_nonce)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let pending = self.provider.send_transaction(request).await.map_err(provider_err)?;
        Ok(BatchOutcome::Pending { tx: *pending.tx_hash() })
    }

    /// Where the transaction `tx` of `call` stands now.
    pub async fn status(&self, call: &SignedCall, tx: B256) -> Result<BatchOutcome, SubmitError> {
        if let Some(receipt) = self.provider.get_transaction_receipt(tx).await.map_err(provider_err)? {
            let block = receipt.block_number.unwrap_or_default();
            let head = self.provider.get_block_number().await.map_err(provider_err)?;
            if head < block + self.confirmations {
                return Ok(BatchOutcome::Pending { tx });
            }
            if !receipt.status() {
                return Ok(BatchOutcome::Reverted { tx });
            }
            return Ok(self.outcome_from_receipt(call, &receipt).unwrap_or(BatchOutcome::Reverted { tx }));
        }
        if self.provider.get_transaction_by_hash(tx).await.map_err(provider_err)?.is_some() {
            return Ok(BatchOutcome::Pending { tx });
        }
        // Unknown to the node: if another transaction executed the payload, report that one.
        Ok(self.find_execution(call).await?.unwrap_or(BatchOutcome::Dropped { tx }))
    }

    /// The execution of `call` recorded in a receipt, from the Settlement contract's logs.
    fn outcome_from_receipt(&self, call: &SignedCall, receipt: &TransactionReceipt) -> Option<BatchOutcome> {
        let logs: Vec<PrimitiveLog> =
            receipt.inner.logs().iter().filter(|l| l.address() == self.settlement).map(|l| l.inner.clone()).collect();
        call.executed(receipt.transaction_hash, receipt.block_number.unwrap_or_default(), &logs)
    }

    /// Polls [`Self::status`] every `every` until the outcome is final or `limit` has passed (then Pending).
    pub async fn track(
        &self,
        batch: &PayoutBatch,
        tx: B256,
        every: std::time::Duration,
        limit: std::time::Duration,
    ) -> Result<BatchOutcome, SubmitError> {
        let started = std::time::Instant::now();
        let call = SignedCall::Payout(batch.clone());
        loop {
            let outcome = self.status(&call, tx).await?;
            if !matches!(outcome, BatchOutcome::Pending { .. }) || started.elapsed() >= limit {
                return Ok(outcome);
            }
            tokio::time::sleep(every).await;
        }
    }

    /// The execution of `call` on-chain, if any: none while its nonce is unused; else found by its event's indexed
    /// topics (a batch's nonce, a commitment's token and epoch).
    pub async fn find_execution(&self, call: &SignedCall) -> Result<Option<BatchOutcome>, SubmitError> {
        let nonce = call.nonce();
        let contract = Settlement::new(self.settlement, &self.provider);
        if !contract.isNonceUsed(nonce).call().await.map_err(provider_err)? {
            return Ok(None);
        }
        let logs = self.provider.get_logs(&call.execution_filter(self.settlement)).await.map_err(provider_err)?;
        for tx in logs.iter().filter_map(|l| l.transaction_hash) {
            let receipt = self
                .provider
                .get_transaction_receipt(tx)
                .await
                .map_err(provider_err)?
                .ok_or_else(|| SubmitError::Provider(format!("receipt of {tx} not found")))?;
            // A commitment of the same token and epoch under another nonce is not this payload's execution.
            let ours = match call {
                SignedCall::Payout(_) => true,
                SignedCall::Commitment(_) => {
                    let input = self.provider.get_transaction_by_hash(tx).await.map_err(provider_err)?;
                    let input = input.map(|t| t.inner.input().clone()).unwrap_or_default();
                    Settlement::commitLiabilitiesCall::abi_decode(&input).is_ok_and(|c| c.c.nonce == nonce)
                }
            };
            if ours && let Some(outcome) = self.outcome_from_receipt(call, &receipt) {
                return Ok(Some(outcome));
            }
        }
        // The nonce was spent by something else (cancelled, or used by another payload).
        Err(SubmitError::Refused(format!(
            "{} nonce {nonce} is spent but no {} executed with it",
            call.what(),
            call.what()
        )))
    }
}

impl<P: Provider + Clone + Send + Sync> PayoutChain for PayoutSubmitter<P> {
    fn submit<'a>(&'a self, call: &'a SignedCall, signature: &'a Bytes) -> ChainFuture<'a, BatchOutcome> {
        Box::pin(PayoutSubmitter::submit_call(self, call, signature))
    }

    fn status<'a>(&'a self, call: &'a SignedCall, tx: B256) -> ChainFuture<'a, BatchOutcome> {
        Box::pin(PayoutSubmitter::status(self, call, tx))
    }

    fn find_execution<'a>(&'a self, call: &'a SignedCall) -> ChainFuture<'a, Option<BatchOutcome>> {
        Box::pin(PayoutSubmitter::find_execution(self, call))
    }

    fn liveness<'a>(&'a self, nonces: &'a [U256], deadline: u64) -> ChainFuture<'a, Liveness> {
        Box::pin(PayoutSubmitter::liveness(self, nonces, deadline))
    }

    fn replace_after(&self) -> Option<Duration> {
        Some(self.fees.replace_after)
    }

    fn replace<'a>(&'a self, call: &'a SignedCall, signature: &'a Bytes, tx: B256) -> ChainFuture<'a, Replacement> {
        Box::pin(PayoutSubmitter::replace(self, call, signature, tx))
    }
}
