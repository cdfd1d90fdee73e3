//! The one path from an authenticated intent to a signature: policy, then — in the writer's store transaction —
//! nonce, double-sign check, rolling cap, signature, record, commit, then the sync of the store's WAL. Concurrent
//! requests share one transaction (group commit) and one fsync, and each is answered only after its record is
//! committed and the WAL synced after that commit: a signature never leaves before its record is on disk. The writer
//! runs on a thread of its own with its own store connection, so a group's statements run there directly; the sync
//! runs on another, so the writer decides the next group while the disk makes the last one durable. Every decision
//! goes to the audit log.
//!
//! Rooms: this module is the service (the façade callers use); `writer` decides and commits groups, `durable` syncs
//! the WAL and lets the answers go, `nonces` keeps the nonce counters and the reserved nonces, `audit` writes the
//! decisions.

mod audit;
mod durable;
mod nonces;
#[cfg(test)]
mod tests;
mod writer;

use std::collections::HashMap;
use std::sync::Arc;

use alloy::primitives::{Address, B256, Signature, U256};
use tokio::sync::{mpsc, oneshot};

use crate::{
    api::{AssetPolicy, OutflowRelease},
    auth::Authenticated,
    heads::Heads,
    intent::{Action, Addr, Amount, Intent, Kind, Target},
    key::{KeyError, KeySource},
    policy::{Admission, DAILY_WINDOW_SECS, Policy, Refusal},
    store::{Store, StoreError},
};
use audit::audit;
use nonces::Reserved;
use writer::{Job, MAX_GROUP, Presigned, sign_all, writer};

/// A signature the caller may use, with everything that went into it.
#[derive(Clone, Debug)]
pub struct Signed {
    /// The payload's kind.
    pub kind: Kind,
    /// The chain and contract it is signed for.
    pub target: Target,
    /// The payload's nonce, in the contract's one nonce space.
    pub nonce: U256,
    /// When the payload stops being valid, unix seconds.
    pub deadline: u64,
    /// The EIP-712 digest signed.
    pub digest: B256,
    /// The signature over `digest`.
    pub signature: Signature,
    /// False when the same payload had been signed before and its recorded signature is returned.
    pub fresh: bool,
    /// The intent exactly as signed, with its nonce and deadline: resent, it retries idempotently.
    pub payload: Box<serde_json::value::RawValue>,
}

/// Why an intent was not signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A policy rule refused it (403 `policy.<rule>`).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The nonce was already signed for a different payload (409 `nonce_conflict`).
    #[error("nonce {nonce} of contract {contract} on chain {chain_id} was already signed for a different payload")]
    NonceConflict {
        /// The chain.
        chain_id: u64,
        /// The contract whose nonce it is.
        contract: Address,
        /// The nonce.
        nonce: U256,
    },
    /// The double-sign store failed (500 `internal`).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The signing key failed (500 `internal`).
    #[error("key: {0}")]
    Key(#[from] KeyError),
    /// The chain's head could not be read to check a liability root's block (503 `head_unavailable`).
    #[error("the chain's confirmed head could not be read: {0}")]
    HeadUnavailable(String),
}

impl SignError {
    /// The stable code clients see and the audit log records.
    pub fn code(&self) -> &'static str {
        match self {
            SignError::Refused(r) => r.rule.code(),
            SignError::NonceConflict { .. } => "nonce_conflict",
            SignError::Store(_) | SignError::Key(_) => "internal",
            SignError::HeadUnavailable(_) => "head_unavailable",
        }
    }
}

/// Turns authenticated intents into signatures: static policy here, then the writer's group commit.
pub struct SigningService {
    inner: Arc<Inner>,
    /// Requests that passed the static policy, waiting for the writer's next group: those of one HTTP request in one
    /// message, so that the writer takes them together.
    jobs: mpsc::Sender<Vec<Job>>,
}

struct Inner {
    policy: Policy,
    store: Store,
    key: Arc<dyn KeySource>,
    address: Address,
    reserved: Reserved,
    heads: Heads,
}

impl std::fmt::Debug for SigningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningService").field("address", &self.inner.address).finish_non_exhaustive()
    }
}

impl SigningService {
    /// The service, its writer and its sync stage: the writer takes every request waiting and decides them in one
    /// store transaction (group commit); the sync stage answers them once the WAL is synced after that commit.
    pub async fn new(policy: Policy, store: Store, key: Arc<dyn KeySource>) -> Result<Self, SignError> {
        let address = key.address().await?;
        let connection = store.writer()?;
        let committed = durable::spawn(store.wal_sync())
            .map_err(|e| StoreError::GroupFailed(format!("starting the WAL sync thread: {e}")))?;
        let heads = Heads::new(policy.solvency_heads());
        let inner = Arc::new(Inner { policy, store, key, address, reserved: Reserved::default(), heads });
        let (jobs, queue) = mpsc::channel(4 * MAX_GROUP);
        // The writer's thread signs part of each group itself and hands the rest to this runtime's workers.
        let (writer_inner, workers) = (inner.clone(), tokio::runtime::Handle::current());
        std::thread::Builder::new()
            .name("signer-writer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                match runtime {
                    Ok(runtime) => runtime.block_on(writer(writer_inner, queue, connection, workers, committed)),
                    Err(e) => tracing::error!(error = %e, "the signer's writer could not start"),
                }
            })
            .map_err(|e| StoreError::GroupFailed(format!("starting the writer thread: {e}")))?;
        Ok(SigningService { inner, jobs })
    }

    /// The address the contract must hold as `signer`.
    pub fn address(&self) -> Address {
        self.inner.address
    }

    /// The double-sign store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The policy of `token` on `target` and what its rolling window holds at `now`, for a caller that may ask
    /// for outflows (payout batches or treasury transfers): the same limits `sign` applies, from the one policy.
    pub async fn asset_policy(
        &self,
        caller: &Authenticated,
        target: Target,
        token: Address,
        now: u64,
    ) -> Result<AssetPolicy, SignError> {
        if !caller.permissions.allows(Kind::PayoutBatch) {
            Policy::permit(caller, Kind::TreasuryTransfer)?;
        }
        let view = self.inner.policy.asset(target, token)?;
        let since = now.saturating_sub(DAILY_WINDOW_SECS);
        let outflows = self.inner.store.outflows_since(target.chain_id, token, since).await?;
        let used = outflows.iter().fold(U256::ZERO, |sum, (_, amount)| sum.saturating_add(*amount));
        let mut releases: Vec<OutflowRelease> = Vec::new();
        for (signed_at, amount) in outflows {
            let at = signed_at.saturating_add(DAILY_WINDOW_SECS);
            match releases.last_mut() {
                Some(last) if last.at == at => last.amount = Amount(last.amount.0.saturating_add(amount)),
                _ => releases.push(OutflowRelease { at, amount: Amount(amount) }),
            }
        }
        Ok(AssetPolicy {
            chain_id: target.chain_id,
            contract: Addr(target.contract),
            token: Addr(token),
            per_payload_cap: Amount(view.caps.per_payload),
            per_entry_cap: Amount(view.caps.per_entry),
            per_batch_cap: Amount(view.caps.per_batch),
            max_batch_entries: view.max_batch_entries as u64,
            daily_outflow_cap: Amount(view.caps.daily_outflow),
            daily_window_secs: DAILY_WINDOW_SECS,
            daily_outflow_used: Amount(used),
            releases,
            refused_payout_recipients: view.refused_payout_recipients.into_iter().map(Addr).collect(),
            treasury_recipients: view.treasury_recipients.into_iter().map(Addr).collect(),
            as_of: now,
        })
    }

    /// Signs `intent` for `caller` at time `now`, or says which rule refused it. Audit-logs the decision.
    pub async fn sign(&self, caller: &Authenticated, intent: &Intent, now: u64) -> Result<Signed, SignError> {
        let mut results = self.sign_many(caller, std::slice::from_ref(intent), now).await;
        results.pop().expect("one result per intent")
    }

    /// Signs each of `intents` for `caller` at time `now`, or says which rule refused it, exactly as [`Self::sign`]
    /// would one by one, in this order; they reach the writer together, so they share a commit. Audit-logs each.
    pub async fn sign_many(
        &self,
        caller: &Authenticated,
        intents: &[Intent],
        now: u64,
    ) -> Vec<Result<Signed, SignError>> {
        let heads = self.confirmed_heads(intents).await;
        let admitted: Vec<_> = intents.iter().map(|intent| self.admit(caller, intent, now, &heads)).collect();
        // Those on reserved nonces are signed here, spread over the cores, instead of on the writer's serial path.
        let digests = admitted.iter().filter_map(|a| Some(a.as_ref().ok()?.1?.1)).collect();
        let mut signatures = sign_all(&self.inner.key, &tokio::runtime::Handle::current(), digests).await.into_iter();
        let mut jobs = Vec::with_capacity(intents.len());
        let mut answers = Vec::with_capacity(intents.len());
        for (intent, admitted) in intents.iter().zip(admitted) {
            answers.push(admitted.map(|(admission, reserved)| {
                let presigned = reserved.and_then(|(nonce, digest)| {
                    // A key that fails here is asked again by the writer, which answers its error.
                    let signature = signatures.next().expect("one signature per reserved nonce").ok()?;
                    Some(Presigned { nonce, digest, signature, echo: intent.echo(nonce, admission.deadline) })
                });
                let (answer, answered) = oneshot::channel();
                let (caller, intent) = (caller.clone(), intent.clone());
                jobs.push(Job { caller, intent, admission, now, presigned, answer });
                answered
            }));
        }
        let sent = jobs.is_empty() || self.jobs.send(jobs).await.is_ok();
        let mut results = Vec::with_capacity(intents.len());
        for (intent, answer) in intents.iter().zip(answers) {
            let result = match answer {
                Ok(answered) if sent => answered.await.unwrap_or_else(|_| Err(StoreError::WriterGone.into())),
                Ok(_) => Err(StoreError::WriterGone.into()),
                Err(e) => Err(e),
            };
            audit(caller, intent, &result);
            results.push(result);
        }
        results
    }

    /// The confirmed head of each chain a liability root of `intents` is for, read from the signer's own node; no
    /// read for the other kinds.
    async fn confirmed_heads(&self, intents: &[Intent]) -> HashMap<u64, Result<u64, String>> {
        let mut heads = HashMap::new();
        for intent in intents.iter().filter(|i| i.kind() == Kind::LiabilityRoot) {
            let chain_id = intent.target.chain_id;
            if let std::collections::hash_map::Entry::Vacant(e) = heads.entry(chain_id) {
                e.insert(self.inner.heads.confirmed(chain_id).await);
            }
        }
        heads
    }

    /// The policy's admission of one intent, with a reserved nonce and its digest where it can have one (see
    /// [`Reserved`]). Outflows never take one: their rolling cap is decided in the writer's transaction.
    fn admit(
        &self,
        caller: &Authenticated,
        intent: &Intent,
        now: u64,
        heads: &HashMap<u64, Result<u64, String>>,
    ) -> Result<(Admission, Option<(U256, B256)>), SignError> {
        // The HTTP layer checks this before parsing; checked again here, on the one path to a signature.
        Policy::permit(caller, intent.kind())?;
        let admission = self.inner.policy.admit(intent, now)?;
        if let Action::LiabilityRoot { as_of_block, .. } = intent.action {
            let head = heads.get(&intent.target.chain_id).cloned();
            let confirmed = head.unwrap_or_else(|| Err("not read".into())).map_err(SignError::HeadUnavailable)?;
            Policy::check_as_of_block(as_of_block, confirmed)?;
        }
        if intent.nonce.is_some() || intent.kind().is_outflow() {
            return Ok((admission, None));
        }
        let target = intent.target;
        let reserved = self
            .inner
            .reserved
            .take(target)
            .map(|nonce| (nonce, intent.payload(nonce, admission.deadline).digest(&target.domain())));
        Ok((admission, reserved))
    }
}
