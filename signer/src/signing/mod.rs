//! The one path from an authenticated intent to a signature: what the chain says (read from the signer's own node:
//! the chain's clock, head and the contract's state, where an intent's rules need them), policy, then — in the
//! writer's store transaction — nonce, double-sign check, rolling cap, refund and epoch rules, signature, record,
//! commit, then the sync of the store's WAL. Concurrent requests share one transaction (group commit) and one fsync,
//! and each is answered only after its record is committed and the WAL synced after that commit: a signature never
//! leaves before its record is on disk. The writer runs on a thread of its own with its own store connection, so a
//! group's statements run there directly; the sync runs on another, so the writer decides the next group while the
//! disk makes the last one durable. Every decision goes to the audit log. The chain is read before the writer, never
//! in it: the writer's serial path waits on no node.
//!
//! Rooms: this module is the service (the façade callers use); `writer` decides and commits groups, `durable` syncs
//! the WAL and lets the answers go, `nonces` keeps the nonce counters and the reserved nonces, `audit` writes the
//! decisions.

mod audit;
mod durable;
mod keys;
mod nonces;
#[cfg(test)]
mod tests;
mod writer;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use alloy::primitives::{Address, B256, Signature, U256};
use tokio::sync::{mpsc, oneshot, watch};

use crate::{
    api::{AssetPolicy, OutflowRelease},
    approvals::SignedOff,
    auth::Authenticated,
    clock::ChainClocks,
    intent::{Action, Addr, Amount, Intent, Kind, Target},
    key::{KeyError, KeySource},
    node::{At, Confirmed, Nodes},
    policy::{Admission, DAILY_WINDOW_SECS, MAX_REFUNDS_PER_PAYMENT, Policy, RefundOnChain, Refusal},
    store::{Store, StoreError},
};
use audit::{audit, audit_approvals, audit_forfeit};
pub(crate) use keys::HeldKey;
use keys::Keyring;
use nonces::Reserved;
use writer::{Job, MAX_GROUP, OnChain, Presigned, ReadFailure, sign_all, writer};

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
    /// The key that made it: the contract's `signer()` must be it.
    pub signer: Address,
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
    /// The signing key failed: 503 `key_unavailable` when its token failed mid-flight, else 500 `internal`.
    #[error("key: {0}")]
    Key(#[from] KeyError),
    /// During a rotation, the contract's `signer()` names a key the signer does not hold (503 `key_not_held`):
    /// its signature would be refused on chain.
    #[error(
        "the contract {contract} on chain {chain_id} accepts payloads signed by {signer}, a key this signer does not hold"
    )]
    KeyNotHeld {
        /// The chain.
        chain_id: u64,
        /// The contract.
        contract: Address,
        /// Its `signer()`.
        signer: Address,
    },
    /// The signer's own node of the chain could not be read: its head, its clock or the contract's state, where
    /// the intent's rules need them (503 `head_unavailable`). Nothing is signed on a guess.
    #[error("the signer's node of the chain could not be read: {0}")]
    NodeUnavailable(String),
}

impl SignError {
    /// The same failure, for another intent of the request that shares it (the key of one contract).
    fn duplicate(&self) -> SignError {
        match self {
            SignError::KeyNotHeld { chain_id, contract, signer } => {
                SignError::KeyNotHeld { chain_id: *chain_id, contract: *contract, signer: *signer }
            }
            SignError::NodeUnavailable(why) => SignError::NodeUnavailable(why.clone()),
            other => SignError::NodeUnavailable(other.to_string()),
        }
    }

    /// The stable code clients see and the audit log records.
    pub fn code(&self) -> &'static str {
        match self {
            SignError::Refused(r) => r.rule.code(),
            SignError::NonceConflict { .. } => "nonce_conflict",
            SignError::Key(KeyError::Unavailable(_)) => "key_unavailable",
            SignError::KeyNotHeld { .. } => "key_not_held",
            SignError::Store(_) | SignError::Key(_) => "internal",
            SignError::NodeUnavailable(_) => "head_unavailable",
        }
    }
}

/// Turns authenticated intents into signatures: static policy here, then the writer's group commit.
pub struct SigningService {
    inner: Arc<Inner>,
    /// Requests that passed the static policy, waiting for the writer's next group: those of one HTTP request in one
    /// message, so that the writer takes them together.
    jobs: mpsc::Sender<Vec<Job>>,
    /// True once the writer's thread and the sync thread have ended ([`SigningService::stopped`]).
    stopped: watch::Receiver<bool>,
}

struct Inner {
    policy: Policy,
    store: Store,
    keys: Keyring,
    reserved: Reserved,
    nodes: Arc<Nodes>,
    clocks: Arc<ChainClocks>,
}

impl std::fmt::Debug for SigningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningService").field("keys", &self.inner.keys.addresses()).finish_non_exhaustive()
    }
}

impl SigningService {
    /// The service, its writer and its sync stage: the writer takes every request waiting and decides them in one
    /// store transaction (group commit); the sync stage answers them once the WAL is synced after that commit.
    pub async fn new(policy: Policy, store: Store, key: Arc<dyn KeySource>) -> Result<Self, SignError> {
        Self::with_keys(policy, store, vec![key]).await
    }

    /// As [`Self::new`], holding `keys`, the current one first: with two (a rotation of the contract's signer under
    /// way), each payload is signed with the one its contract's `signer()` names, read on the signer's own node (a
    /// chain without one answers 503 `head_unavailable`: the start-up refuses such a configuration).
    pub async fn with_keys(policy: Policy, store: Store, keys: Vec<Arc<dyn KeySource>>) -> Result<Self, SignError> {
        let mut held = Vec::with_capacity(keys.len());
        for source in keys {
            held.push(HeldKey { address: source.address().await?, source });
        }
        let keys = Keyring::new(held)?;
        let connection = store.writer()?;
        let (committed, sync_thread) = durable::spawn(store.wal_sync())
            .map_err(|e| StoreError::GroupFailed(format!("starting the WAL sync thread: {e}")))?;
        let nodes = Arc::new(Nodes::new(policy.nodes()));
        let clocks = ChainClocks::start(nodes.clone());
        let inner = Arc::new(Inner { policy, store, keys, reserved: Reserved::default(), nodes, clocks });
        let (jobs, queue) = mpsc::channel(4 * MAX_GROUP);
        // The writer's thread signs part of each group itself and hands the rest to this runtime's workers.
        let (writer_inner, workers) = (inner.clone(), tokio::runtime::Handle::current());
        let (ended, stopped) = watch::channel(false);
        std::thread::Builder::new()
            .name("signer-writer".into())
            .spawn(move || {
                // Everything the writer holds (the service's state, with the keys and their token sessions; the
                // store's connection; the sync stage's sender) is in this future, dropped when it ends.
                let work = writer(writer_inner, queue, connection, workers, committed);
                match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime.block_on(work),
                    Err(e) => {
                        tracing::error!(error = %e, "the signer's writer could not start");
                        drop(work);
                    }
                }
                // The sync stage ends once the writer's sender is gone and every answer is out.
                if sync_thread.join().is_err() {
                    tracing::error!("the signer's WAL sync thread panicked");
                }
                let _ = ended.send(true);
            })
            .map_err(|e| StoreError::GroupFailed(format!("starting the writer thread: {e}")))?;
        Ok(SigningService { inner, jobs, stopped })
    }

    /// Resolves once the service has stopped for good: every handle of it dropped, the writer's thread ended and
    /// with it everything it held — the keys (a token's sessions closed), the store's writing connection — and the
    /// sync stage's last answers sent. A process that signed with a token must not end before (issue 64).
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut stopped = self.stopped.clone();
        async move {
            // An error: the thread ended without saying so (it panicked): it holds nothing any more either.
            let _ = stopped.wait_for(|ended| *ended).await;
        }
    }

    /// The address of the current key (`[key]`): the contract's `signer` unless a rotation is under way.
    pub fn address(&self) -> Address {
        self.inner.keys.current().address
    }

    /// Every key's address, the current one first (two during a rotation).
    pub fn addresses(&self) -> Vec<Address> {
        self.inner.keys.addresses()
    }

    /// The key the signer signs with now, as `GET /v1/signer` shows it to the preflight: the only one, or during a
    /// rotation the held key every contract's `signer()` names now (the current key when they differ).
    pub async fn signing_address(&self) -> Address {
        let targets: Vec<Target> = self.inner.policy.targets().into_iter().map(|(t, _)| t).collect();
        self.inner.keys.signing_now(&self.inner.nodes, &targets).await
    }

    /// The node of its own the signer reads each chain from, as `GET /v1/signer` shows it (the chain it answers,
    /// TLS), for the preflight to check.
    pub async fn node_infos(&self) -> Vec<crate::api::NodeInfo> {
        self.inner.nodes.infos().await
    }

    /// Whether every outflow needs staff approvals (`[policy.approvals]`), as `GET /v1/signer` says.
    pub fn approvals_required(&self) -> bool {
        self.inner.policy.approvals().is_some()
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
            approvals: self.inner.policy.approvals().map(|a| a.view(target.chain_id, token)),
            as_of: now,
        })
    }

    /// Signs `intent` for `caller` at time `now`, or says which rule refused it. Audit-logs the decision.
    pub async fn sign(&self, caller: &Authenticated, intent: &Intent, now: u64) -> Result<Signed, SignError> {
        let mut results = self.sign_many(caller, std::slice::from_ref(intent), now).await;
        results.pop().expect("one result per intent")
    }

    /// Signs each of `intents` for `caller` at host time `now`, or says which rule refused it, exactly as
    /// [`Self::sign`] would one by one, in this order; they reach the writer together, so they share a commit.
    /// Audit-logs each.
    pub async fn sign_many(
        &self,
        caller: &Authenticated,
        intents: &[Intent],
        now: u64,
    ) -> Vec<Result<Signed, SignError>> {
        let mut reads = self.read_chains(caller, intents, now).await;
        reads.catalogues = self.catalogues_signed(caller, intents).await;
        let signed_off = self.signed_off(intents).await;
        let admitted_each: Vec<_> = intents
            .iter()
            .zip(signed_off)
            .enumerate()
            .map(|(i, (intent, signed_off))| {
                let mut admitted = self.admit(caller, intent, now, &reads, i)?;
                let (off, forfeits) = signed_off?;
                if let Some(off) = off {
                    audit_approvals(caller, intent, &off);
                }
                for (id, amount, off) in &forfeits {
                    audit_forfeit(caller, intent, *id, *amount, off);
                }
                admitted.forfeits = forfeits.into_iter().map(|(id, amount, _)| (id, amount)).collect();
                Ok(admitted)
            })
            .collect();
        // The key for each admitted intent's contract: the only one, or during a rotation the one it names now.
        let mut chosen: HashMap<Target, Result<HeldKey, SignError>> = HashMap::new();
        let mut admitted: Vec<Result<(Admitted, HeldKey), SignError>> = Vec::with_capacity(admitted_each.len());
        for (intent, a) in intents.iter().zip(admitted_each) {
            admitted.push(match a {
                Ok(a) => {
                    let target = intent.target;
                    if let std::collections::hash_map::Entry::Vacant(e) = chosen.entry(target) {
                        e.insert(self.inner.keys.for_target(&self.inner.nodes, target).await);
                    }
                    match &chosen[&target] {
                        Ok(key) => Ok((a, key.clone())),
                        Err(e) => Err(e.duplicate()),
                    }
                }
                Err(e) => Err(e),
            });
        }
        // Those on reserved nonces are signed here, spread over the cores, instead of on the writer's serial path.
        let digests = admitted
            .iter()
            .filter_map(|a| {
                let (a, key) = a.as_ref().ok()?;
                Some((key.source.clone(), a.reserved?.1))
            })
            .collect();
        let mut signatures = sign_all(&tokio::runtime::Handle::current(), digests).await.into_iter();
        let mut jobs = Vec::with_capacity(intents.len());
        let mut answers = Vec::with_capacity(intents.len());
        for (intent, admitted) in intents.iter().zip(admitted) {
            answers.push(admitted.map(|(Admitted { admission, reserved, on_chain, forfeits }, key)| {
                let presigned = reserved.and_then(|(nonce, digest)| {
                    // A key that fails here is asked again by the writer, which answers its error.
                    let signature = signatures.next().expect("one signature per reserved nonce").ok()?;
                    Some(Presigned { nonce, digest, signature, echo: intent.echo(nonce, admission.deadline) })
                });
                let (answer, answered) = oneshot::channel();
                let (caller, intent) = (caller.clone(), intent.clone());
                jobs.push(Job { caller, intent, admission, now, on_chain, forfeits, presigned, key, answer });
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

    /// Each sale's catalogue version checked as signed by a catalogue wallet of the policy, by the sale's index, off
    /// the async workers (a version of 500 products is 1,000 hashes and a key recovery).
    async fn catalogues_signed(
        &self,
        caller: &Authenticated,
        intents: &[Intent],
    ) -> HashMap<usize, Result<(), Refusal>> {
        let sales: Vec<(usize, Intent)> = intents
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i.action, Action::Sale(_)) && Policy::permit(caller, i.kind()).is_ok())
            .map(|(index, i)| (index, i.clone()))
            .collect();
        if sales.is_empty() {
            return HashMap::new();
        }
        let inner = self.inner.clone();
        let checked = tokio::task::spawn_blocking(move || {
            sales
                .into_iter()
                .filter_map(|(index, intent)| match &intent.action {
                    Action::Sale(sale) => Some((index, inner.policy.check_catalogue_signer(intent.target, sale))),
                    _ => None,
                })
                .collect()
        });
        checked.await.expect("checking catalogue signatures does not panic")
    }

    /// Each intent's staff signatures checked against `[policy.approvals]` ([`crate::approvals`]), and the forfeits a
    /// liability root carries, off the async workers (each recovers up to 16 signatures an outflow or forfeit);
    /// `(None, [])` where none are needed. Without `[policy.approvals]` (development only) no forfeit can be checked:
    /// none counts, and the root falls by them only within the daily allowance.
    async fn signed_off(&self, intents: &[Intent]) -> Vec<Result<StaffChecked, Refusal>> {
        let none = || intents.iter().map(|_| Ok((None, Vec::new()))).collect();
        let Some(approvals) = self.inner.policy.approvals() else {
            if intents.iter().any(carries_forfeits) {
                tracing::warn!("a liability root carries forfeits, but without [policy.approvals] none can be checked");
            }
            return none();
        };
        if !intents.iter().any(|i| crate::approvals::outflow_kind(&i.action).is_some() || carries_forfeits(i)) {
            return none();
        }
        let contracts: HashMap<u64, Vec<Address>> = intents
            .iter()
            .filter(|i| carries_forfeits(i))
            .map(|i| (i.target.chain_id, self.inner.policy.contracts_of(i.target.chain_id)))
            .collect();
        let (approvals, intents) = (approvals.clone(), intents.to_vec());
        let checked = tokio::task::spawn_blocking(move || {
            intents
                .iter()
                .map(|i| {
                    let off = approvals.check(i).map_err(Refusal::from)?;
                    let allowed = contracts.get(&i.target.chain_id).map_or(&[][..], Vec::as_slice);
                    Ok((off, approvals.check_forfeits(i, allowed).map_err(Refusal::from)?))
                })
                .collect()
        });
        checked.await.expect("checking approvals does not panic")
    }

    /// The floor a liability root of `token` on `chain_id` is held to, across every contract of the chain the policy
    /// allows: after an upgrade each round is committed on each contract with one total, and a payout from any of them
    /// lowers it (backend/SOLVENCY.md §1). The total is the latest commitment's (of the contract that committed last);
    /// what was paid is every contract's since its own latest commitment — exact when all committed the same round,
    /// and when one lags a round its payouts of that round count too (which the total already shows: lenient by them).
    async fn floor_across(
        &self,
        chain_id: u64,
        token: Address,
        at: At,
    ) -> Result<crate::node::Floor, crate::node::NodeError> {
        let nodes = &self.inner.nodes;
        let (mut latest, mut committed_total, mut paid_since) = (None, U256::ZERO, U256::ZERO);
        for contract in self.inner.policy.contracts_of(chain_id) {
            let floor = nodes.floor(chain_id, contract, token, at).await?;
            let block = nodes.commit_block(chain_id, contract, token, at).await?;
            paid_since = paid_since.saturating_add(floor.paid_since);
            if latest.is_none_or(|l| block > l) {
                (latest, committed_total) = (Some(block), floor.committed_total);
            }
        }
        Ok(crate::node::Floor { committed_total, paid_since, commit_block: latest.unwrap_or(0) })
    }

    /// What the signer's own nodes say that `intents` need, read before any of them is decided: the clock of each
    /// chain it has a node of (from the background reading, see [`crate::clock`]); for liability roots, the chain's
    /// head and confirmed block and the contract's `maxAsOfLag()`; for refunds, whether the payment and the refunds
    /// of it signed so far are spent, and the confirmed block's time. Nothing is read for an intent its caller may
    /// not ask for or the policy refuses whatever the chain says, and nothing at all for a registration once the
    /// chain's clock is known.
    async fn read_chains(&self, caller: &Authenticated, intents: &[Intent], host_now: u64) -> ChainReads {
        let policy = &self.inner.policy;
        let mut reads = ChainReads::default();
        let mut confirmed: HashMap<u64, Result<Confirmed, String>> = HashMap::new();
        let mut chains = Vec::new();
        for (index, intent) in intents.iter().enumerate() {
            if Policy::permit(caller, intent.kind()).is_err() || policy.check_rules(intent).is_err() {
                continue;
            }
            let target = intent.target;
            let chain_id = target.chain_id;
            if !chains.contains(&chain_id) {
                chains.push(chain_id);
            }
            if let Action::LiabilityRoot { token, .. } = intent.action {
                let head = self.confirmed(chain_id, &mut confirmed).await;
                // The latest committed total and what the chain paid members since, at the confirmed block: what a
                // root may fall by (backend/SOLVENCY.md §1).
                let floor = match &head {
                    Ok(head) => self.floor_across(chain_id, token, head.state_at).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                reads.floors.insert(index, floor);
                reads.heads.insert(chain_id, head);
                if let std::collections::hash_map::Entry::Vacant(e) = reads.lags.entry((chain_id, target.contract)) {
                    let lag = self.inner.nodes.max_as_of_lag(chain_id, target.contract).await;
                    e.insert(lag.map_err(|e| e.to_string()));
                }
            }
            if let Action::PayoutBatch { token, payouts, .. } = &intent.action
                && self.inner.nodes.has(chain_id)
            {
                reads.left.insert(index, self.read_left(target, *token, payouts).await);
            }
            if let Action::Sale(sale) = &intent.action {
                let nodes = &self.inner.nodes;
                let registered = |user| nodes.is_registered(chain_id, target.contract, user, sale.token);
                let read = match (registered(sale.buyer).await, registered(sale.seller).await) {
                    (Ok(buyer), Ok(seller)) => Ok((buyer, seller)),
                    (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
                };
                reads.registered.insert(index, read);
            }
            if let Some(payment) = intent.action.refund_of() {
                let read = if self.inner.nodes.has(chain_id) {
                    self.read_refund(target, payment, &mut confirmed).await
                } else {
                    Err(ReadFailure::NoNode)
                };
                reads.refunds.insert(index, read);
            }
        }
        // The clocks last: a head just read for a root or a refund sets its chain's clock, so that those intents'
        // deadlines never follow a reading older than their own.
        for (&chain_id, read) in &confirmed {
            if let Ok(read) = read {
                self.inner.clocks.observe(chain_id, read.head);
            }
        }
        for chain_id in chains {
            if let Some(now) = self.inner.clocks.now(chain_id, host_now).await {
                reads.clocks.insert(chain_id, now);
            }
        }
        reads
    }

    /// The head and confirmed block of `chain_id`, read once per request.
    async fn confirmed(
        &self,
        chain_id: u64,
        cache: &mut HashMap<u64, Result<Confirmed, String>>,
    ) -> Result<Confirmed, String> {
        if let Some(read) = cache.get(&chain_id) {
            return read.clone();
        }
        let read = self.inner.nodes.confirmed(chain_id).await.map_err(|e| e.to_string());
        cache.insert(chain_id, read.clone());
        read
    }

    /// The recipients of `payouts` who left `token` at `target` (contracts/EXIT.md §12), each asked once, at the
    /// latest block: a batch signed for one of them would be refused by the contract for a day after the leave, and
    /// paid after that — twice, their leave having settled their dues.
    async fn read_left(&self, target: Target, token: Address, payouts: &[abi::Payout]) -> Result<Vec<Address>, String> {
        let mut asked = HashSet::new();
        let mut left = Vec::new();
        for payout in payouts {
            if asked.insert(payout.recipient)
                && self
                    .inner
                    .nodes
                    .has_left(target.chain_id, target.contract, payout.recipient, token)
                    .await
                    .map_err(|e| e.to_string())?
            {
                left.push(payout.recipient);
            }
        }
        Ok(left)
    }

    /// What the chain says about refunded `payment` on `target` and the refunds of it the store holds now.
    async fn read_refund(
        &self,
        target: Target,
        payment: U256,
        cache: &mut HashMap<u64, Result<Confirmed, String>>,
    ) -> Result<RefundOnChain, ReadFailure> {
        let earlier =
            self.inner.store.refunds_of(target, payment).await.map_err(|e| ReadFailure::Store(e.to_string()))?;
        let confirmed = self.confirmed(target.chain_id, cache).await.map_err(ReadFailure::Node)?;
        let nodes = &self.inner.nodes;
        let node = |e: crate::node::NodeError| ReadFailure::Node(e.to_string());
        let payment_spent =
            nodes.is_nonce_used(target.chain_id, target.contract, payment, confirmed.state_at).await.map_err(node)?;
        // A nonce the admin cancelled while free is spent too, by no payment (issue 65).
        let payment_cancelled = payment_spent
            && nodes
                .is_nonce_cancelled(target.chain_id, target.contract, payment, confirmed.state_at)
                .await
                .map_err(node)?;
        let mut read = RefundOnChain {
            payment_spent,
            payment_cancelled,
            confirmed_timestamp: confirmed.block.timestamp,
            spent: HashSet::new(),
            unspent: HashSet::new(),
        };
        // More than the policy allows are refused whatever the chain says: not read.
        if payment_spent && earlier.len() < MAX_REFUNDS_PER_PAYMENT {
            for refund in earlier {
                // At the latest block: a refund executed in a block not yet confirmed counts as executed.
                let spent = nodes.is_nonce_used(target.chain_id, target.contract, refund.nonce, At::Latest).await;
                if spent.map_err(node)? {
                    read.spent.insert(refund.nonce);
                } else {
                    read.unspent.insert(refund.nonce);
                }
            }
        }
        Ok(read)
    }

    /// The policy's admission of one intent (`index` of the request), with a reserved nonce and its digest where it
    /// can have one (see [`Reserved`]) and what the writer needs of the chain's reads. Outflows never take a
    /// reserved nonce: their rolling cap is decided in the writer's transaction.
    fn admit(
        &self,
        caller: &Authenticated,
        intent: &Intent,
        host_now: u64,
        reads: &ChainReads,
        index: usize,
    ) -> Result<Admitted, SignError> {
        // The HTTP layer checks this before parsing; checked again here, on the one path to a signature.
        Policy::permit(caller, intent.kind())?;
        let policy = &self.inner.policy;
        policy.check_rules(intent)?;
        let chain_id = intent.target.chain_id;
        // Deadlines on the chain's clock where the signer has a node of it; the host's elsewhere.
        let now = match reads.clocks.get(&chain_id) {
            Some(Ok(chain_now)) => *chain_now,
            Some(Err(e)) => return Err(SignError::NodeUnavailable(e.clone())),
            None if policy.has_node(chain_id) => return Err(SignError::NodeUnavailable("not read".into())),
            None => host_now,
        };
        let admission = policy.admit(intent, now)?;
        match reads.left.get(&index) {
            Some(Err(e)) => return Err(SignError::NodeUnavailable(e.clone())),
            Some(Ok(left)) if !left.is_empty() => {
                let names: Vec<String> = left.iter().map(|a| a.to_string()).collect();
                return Err(SignError::Refused(Refusal {
                    rule: crate::policy::Rule::RecipientLeft,
                    detail: format!(
                        "{} left the token at this contract: their dues were settled by their leave",
                        names.join(", ")
                    ),
                }));
            }
            _ => {}
        }
        if let Action::Sale(sale) = &intent.action {
            match reads.catalogues.get(&index) {
                Some(Ok(())) => {}
                Some(Err(refusal)) => return Err(refusal.clone().into()),
                None => return Err(SignError::NodeUnavailable("the catalogue's signature was not checked".into())),
            }
            let read = reads.registered.get(&index).cloned();
            let (buyer, seller) = read.unwrap_or_else(|| Err("not read".into())).map_err(SignError::NodeUnavailable)?;
            Policy::check_sale_retail(sale, buyer, seller)?;
        }
        let mut on_chain = OnChain { latest_timestamp: None, refund: reads.refunds.get(&index).cloned(), floor: None };
        if let Action::LiabilityRoot { as_of_block, .. } = intent.action {
            let unread = || SignError::NodeUnavailable("not read".into());
            let head = reads.heads.get(&chain_id).cloned().ok_or_else(unread)?.map_err(SignError::NodeUnavailable)?;
            let lag = reads.lags.get(&(chain_id, intent.target.contract)).cloned().ok_or_else(unread)?;
            let lag = lag.map_err(SignError::NodeUnavailable)?;
            Policy::check_as_of_block(as_of_block, head.block.number, head.head.number, lag)?;
            on_chain.latest_timestamp = Some(head.head.timestamp);
            let floor = reads.floors.get(&index).cloned().ok_or_else(unread)?;
            on_chain.floor = Some(floor.map_err(SignError::NodeUnavailable)?);
        }
        // A sale's catalogue version is checked in the writer's transaction: it takes no nonce signed in advance.
        if intent.nonce.is_some() || intent.kind().is_outflow() || intent.kind() == Kind::Sale {
            return Ok(Admitted { admission, reserved: None, on_chain, forfeits: Vec::new() });
        }
        let target = intent.target;
        let reserved = self
            .inner
            .reserved
            .take(target)
            .map(|nonce| (nonce, intent.payload(nonce, admission.deadline).digest(&target.domain())));
        Ok(Admitted { admission, reserved, on_chain, forfeits: Vec::new() })
    }
}

/// What an intent's staff signatures said: who signed off an outflow, and a liability root's forfeits that checked
/// (id, amount, who signed each off).
type StaffChecked = (Option<SignedOff>, Vec<(u64, U256, SignedOff)>);

/// Whether `intent` is a liability root that carries forfeits.
fn carries_forfeits(intent: &Intent) -> bool {
    matches!(&intent.action, Action::LiabilityRoot { forfeits, .. } if !forfeits.is_empty())
}

/// An intent the policy admitted: its admission, a reserved nonce and its digest where it has one, and what the
/// writer needs of the chain's reads.
struct Admitted {
    admission: Admission,
    reserved: Option<(U256, B256)>,
    on_chain: OnChain,
    /// A liability root's forfeits whose staff signatures checked: (id, amount).
    forfeits: Vec<(u64, U256)>,
}

/// What the signer's nodes said for the intents of one request ([`SigningService::read_chains`]).
#[derive(Default)]
struct ChainReads {
    /// The chain's time, per chain of the intents that the signer has a node of.
    clocks: HashMap<u64, Result<u64, String>>,
    /// The head and confirmed block, per chain of the liability roots.
    heads: HashMap<u64, Result<Confirmed, String>>,
    /// `maxAsOfLag()`, per (chain, contract) of the liability roots.
    lags: HashMap<(u64, Address), Result<u64, String>>,
    /// What the chain says of each refund's payment and earlier refunds, by the refund's index in the request.
    refunds: HashMap<usize, Result<RefundOnChain, ReadFailure>>,
    /// The recipients of each payout batch (by its index in the request) that left its token (`hasLeft`).
    left: HashMap<usize, Result<Vec<Address>, String>>,
    /// Each liability root's token's latest committed total and what the chain paid members since (`floor`).
    floors: HashMap<usize, Result<crate::node::Floor, String>>,
    /// Whether each sale's buyer and seller are registered in its token (`isRegistered`), by the sale's index.
    registered: HashMap<usize, Result<(bool, bool), String>>,
    /// Whether each sale's catalogue version is signed by a catalogue wallet of the policy, by the sale's index.
    catalogues: HashMap<usize, Result<(), Refusal>>,
}
