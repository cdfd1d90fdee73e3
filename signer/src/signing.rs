//! The one path from an authenticated intent to a signature: policy, then — in the writer's store transaction —
//! nonce, double-sign check, rolling cap, signature, record, commit. Concurrent requests share one transaction
//! and one fsync (group commit), and each is answered only after it is committed: a signature never leaves
//! before its record is on disk. The writer runs on a thread of its own with its own store connection, so a
//! group's statements run there directly. Every decision goes to the audit log.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque, hash_map::Entry};
use std::sync::{Arc, Mutex};

use alloy::primitives::{Address, B256, Signature, U256};
use tokio::sync::{mpsc, oneshot};

use crate::{
    api::{AssetPolicy, OutflowRelease},
    auth::Authenticated,
    intent::{Action, Addr, Amount, Intent, Kind, Target},
    key::{KeyError, KeySource},
    policy::{Admission, DAILY_WINDOW_SECS, Policy, Refusal, SignedRefund},
    store::{NewRecord, Store, StoreError, WriteTx, WriterConnection},
};

/// A signature the caller may use, with everything that went into it.
#[derive(Clone, Debug)]
pub struct Signed {
    pub kind: Kind,
    pub target: Target,
    pub nonce: U256,
    pub deadline: u64,
    pub digest: B256,
    pub signature: Signature,
    /// False when the same payload had been signed before and its recorded signature is returned.
    pub fresh: bool,
    pub payload: Box<serde_json::value::RawValue>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("nonce {nonce} of contract {contract} on chain {chain_id} was already signed for a different payload")]
    NonceConflict { chain_id: u64, contract: Address, nonce: U256 },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("key: {0}")]
    Key(#[from] KeyError),
}

impl SignError {
    /// The stable code clients see and the audit log records.
    pub fn code(&self) -> &'static str {
        match self {
            SignError::Refused(r) => r.rule.code(),
            SignError::NonceConflict { .. } => "nonce_conflict",
            SignError::Store(_) | SignError::Key(_) => "internal",
        }
    }
}

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
}

/// Nonces the writer reserved for requests that name none: the store's counter was moved past them in the
/// transaction that reserved them, so no other writer hands them out. A request takes one and is signed at once,
/// beside the others, instead of on the writer's serial path; the writer records it only if the nonce is still
/// free (a caller may have chosen it meanwhile), and otherwise allocates and signs as for any request. A restart
/// forgets them: gaps in an unordered nonce space cost nothing.
#[derive(Default)]
struct Reserved(Mutex<HashMap<Target, VecDeque<U256>>>);

/// How many nonces the writer reserves for a contract at a time, and below how many left it reserves more.
const RESERVE_BATCH: usize = 256;
const RESERVE_LOW: usize = 64;

impl Reserved {
    fn take(&self, target: Target) -> Option<U256> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get_mut(&target)?.pop_front()
    }

    fn len(&self, target: Target) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&target).map_or(0, VecDeque::len)
    }

    fn add(&self, target: Target, nonces: Vec<U256>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(target).or_default().extend(nonces);
    }
}

/// A request signed before the writer saw it, on a reserved nonce.
struct Presigned {
    nonce: U256,
    digest: B256,
    signature: Signature,
    /// The payload as answered, serialised here rather than on the writer's serial path.
    echo: Box<serde_json::value::RawValue>,
}

/// One admitted request, and where its answer goes once its group's records are committed.
struct Job {
    caller: Authenticated,
    intent: Intent,
    admission: Admission,
    now: u64,
    presigned: Option<Presigned>,
    answer: oneshot::Sender<Result<Signed, SignError>>,
}

/// Most messages (one per HTTP request, of up to `MAX_MANY` intents) decided in one store transaction (one fsync).
const MAX_GROUP: usize = 256;

impl std::fmt::Debug for SigningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningService").field("address", &self.inner.address).finish_non_exhaustive()
    }
}

impl SigningService {
    /// The service and its writer: a task that takes every request waiting, decides them in one store transaction
    /// and answers them only once that transaction is committed (group commit).
    pub async fn new(policy: Policy, store: Store, key: Arc<dyn KeySource>) -> Result<Self, SignError> {
        let address = key.address().await?;
        let connection = store.writer()?;
        let inner = Arc::new(Inner { policy, store, key, address, reserved: Reserved::default() });
        let (jobs, queue) = mpsc::channel(4 * MAX_GROUP);
        // The writer's thread signs part of each group itself and hands the rest to this runtime's workers.
        let (writer_inner, workers) = (inner.clone(), tokio::runtime::Handle::current());
        std::thread::Builder::new()
            .name("signer-writer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                match runtime {
                    Ok(runtime) => runtime.block_on(writer(writer_inner, queue, connection, workers)),
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
        let admitted: Vec<_> = intents.iter().map(|intent| self.admit(caller, intent, now)).collect();
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

    /// The policy's admission of one intent, with a reserved nonce and its digest where it can have one (see
    /// [`Reserved`]). Outflows never take one: their rolling cap is decided in the writer's transaction.
    fn admit(
        &self,
        caller: &Authenticated,
        intent: &Intent,
        now: u64,
    ) -> Result<(Admission, Option<(U256, B256)>), SignError> {
        // The HTTP layer checks this before parsing; checked again here, on the one path to a signature.
        Policy::permit(caller, intent.kind())?;
        let admission = self.inner.policy.admit(intent, now)?;
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

/// The one writer: waits for a request, takes every other one already waiting (up to [`MAX_GROUP`] messages), decides
/// them in order in one store transaction — each sees the records of those before it (nonces, the rolling
/// window) — and answers them after the commit. A failed commit answers every signature of the group with the
/// error: none of them left, none is recorded.
/// It stops when the service is dropped.
async fn writer(
    inner: Arc<Inner>,
    mut queue: mpsc::Receiver<Vec<Job>>,
    mut connection: WriterConnection,
    workers: tokio::runtime::Handle,
) {
    let mut messages = Vec::with_capacity(MAX_GROUP);
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut messages, MAX_GROUP).await > 0 {
        group.extend(messages.drain(..).flatten());
        let decided = decide_group(&inner, &mut connection, &workers, &mut group).await;
        for (job, result) in group.drain(..).zip(decided) {
            let _ = job.answer.send(result);
        }
    }
}

async fn decide_group(
    inner: &Inner,
    connection: &mut WriterConnection,
    workers: &tokio::runtime::Handle,
    group: &mut [Job],
) -> Vec<Result<Signed, SignError>> {
    let mut tx = match connection.begin() {
        Ok(tx) => tx,
        Err(e) => return group.iter().map(|_| Err(SignError::Store(e.duplicate()))).collect(),
    };
    // 1. In order, each request sees the records of the store and of the requests before it in the group.
    let mut view = GroupView::default();
    let mut plans = Vec::with_capacity(group.len());
    for (index, job) in group.iter_mut().enumerate() {
        plans.push(plan(&mut tx, &mut view, index, job));
    }
    // Nonces for the requests to come, where this group's were running low: published once committed.
    let reserving = reserve(&mut tx, &mut view, &inner.reserved);
    // 2. The fresh digests not signed yet, signed in parallel.
    let fresh: Vec<B256> = plans
        .iter()
        .filter_map(|p| match p {
            Ok(Plan::Fresh(f)) if f.signature.is_none() => Some(f.digest),
            _ => None,
        })
        .collect();
    let mut signatures = sign_all(&inner.key, workers, fresh).await.into_iter();
    let mut results: Vec<Result<Signed, SignError>> = Vec::with_capacity(group.len());
    let mut recorded = Vec::new();
    for (job, plan) in group.iter().zip(plans) {
        results.push(match plan {
            Err(e) => Err(e),
            Ok(Plan::Again(signed)) => Ok(signed),
            Ok(Plan::SameAs(earlier)) => match &results[earlier] {
                Ok(first) => {
                    Ok(Signed { fresh: false, payload: job.intent.echo(first.nonce, first.deadline), ..first.clone() })
                }
                Err(e) => Err(SignError::Store(StoreError::GroupFailed(e.to_string()))),
            },
            Ok(Plan::Fresh(f)) => match f
                .signature
                .map_or_else(|| signatures.next().expect("one signature per fresh digest not signed yet"), Ok)
            {
                Err(e) => Err(SignError::Key(e)),
                Ok(signature) => {
                    recorded.push(results.len());
                    Ok(Signed {
                        kind: job.intent.kind(),
                        target: job.intent.target,
                        nonce: f.nonce,
                        deadline: f.deadline,
                        digest: f.digest,
                        signature,
                        fresh: true,
                        payload: f.echo,
                    })
                }
            },
        });
    }
    let records: Vec<NewRecord<'_>> = recorded
        .iter()
        .filter_map(|&i| results[i].as_ref().ok().map(|signed| (&group[i], signed)))
        .map(|(job, signed)| NewRecord {
            target: signed.target,
            nonce: signed.nonce,
            kind: signed.kind,
            digest: signed.digest,
            signature: signed.signature,
            asset: job.intent.action.token(),
            amount: job.intent.action.total(),
            deadline: signed.deadline,
            caller: &job.caller.caller,
            request_mac: &job.caller.mac,
            signed_at: job.now,
            payload: signed.payload.get(),
            refund_of: job.intent.action.refund_of(),
        })
        .collect();
    // 3. Every record written, the counters moved, one commit; only then do the answers leave.
    let written = (|| {
        tx.insert_many(&records)?;
        for (target, counter) in &view.counters {
            if counter.next != counter.stored {
                tx.advance_nonce(*target, counter.next)?;
            }
        }
        tx.commit()
    })();
    if let Err(e) = written {
        tracing::error!(error = %e, requests = group.len(), "recording a group of signatures failed");
        return results
            .into_iter()
            .map(|r| match r {
                Ok(_) => Err(SignError::Store(e.duplicate())),
                refused => refused,
            })
            .collect();
    }
    for (target, nonces) in reserving {
        inner.reserved.add(target, nonces);
    }
    results
}

/// What the first phase decided for one request of a group.
enum Plan {
    /// Sign this digest and record it.
    Fresh(Fresh),
    /// The same payload was signed before: its recorded signature again.
    Again(Signed),
    /// The same payload as an earlier request of this group: its answer.
    SameAs(usize),
}

struct Fresh {
    nonce: U256,
    deadline: u64,
    digest: B256,
    echo: Box<serde_json::value::RawValue>,
    /// Already made, on a reserved nonce.
    signature: Option<Signature>,
}

/// What a group has decided so far, over what the store holds.
#[derive(Default)]
struct GroupView {
    counters: HashMap<Target, Counter>,
    /// Nonces this group signs: (target, nonce) → (the request, its digest).
    taken: HashMap<(Target, U256), (usize, B256)>,
    /// Outflow signed in the store since a moment, per (chain, asset, since).
    windows: HashMap<(u64, Address, u64), U256>,
    /// Outflows this group signs: (chain, asset, signed_at, amount).
    outflows: Vec<(u64, Address, u64, U256)>,
    /// Contracts this group handed out nonces for: where more may be reserved.
    allocating: HashSet<Target>,
    /// Refunds this group signs: ((target, refunded payment nonce), the refund).
    refunds: Vec<((Target, U256), SignedRefund)>,
}

/// A nonce counter as the group moves it, with the nonces callers chose themselves at or above it.
struct Counter {
    /// The counter as stored when the group began.
    stored: U256,
    next: U256,
    /// Store nonces at or above the counter, complete up to `known_to` (to the end when `None`).
    used: BTreeSet<U256>,
    known_to: Option<U256>,
}

/// Nonces read from the store at a time while looking for the next free one.
const USED_NONCES_PAGE: u32 = 256;

impl Counter {
    /// The group's counter of `target`, loaded from the store the first time the group needs it.
    fn of<'v>(
        counters: &'v mut HashMap<Target, Counter>,
        tx: &mut WriteTx<'_>,
        target: Target,
    ) -> Result<&'v mut Counter, StoreError> {
        Ok(match counters.entry(target) {
            Entry::Occupied(c) => c.into_mut(),
            Entry::Vacant(v) => v.insert(Counter::load(tx, target)?),
        })
    }

    fn load(tx: &mut WriteTx<'_>, target: Target) -> Result<Counter, StoreError> {
        let stored = tx.next_nonce(target)?;
        let mut counter = Counter { stored, next: stored, used: BTreeSet::new(), known_to: Some(U256::ZERO) };
        counter.read_used(tx, target, stored)?;
        Ok(counter)
    }

    fn read_used(&mut self, tx: &mut WriteTx<'_>, target: Target, from: U256) -> Result<(), StoreError> {
        let used = tx.used_nonces_from(target, from, USED_NONCES_PAGE)?;
        self.known_to = if used.len() == USED_NONCES_PAGE as usize { used.last().copied() } else { None };
        self.used = used.into_iter().collect();
        Ok(())
    }

    /// The next nonce no record and no earlier request of the group holds.
    fn free(
        &mut self,
        tx: &mut WriteTx<'_>,
        target: Target,
        taken: &HashMap<(Target, U256), (usize, B256)>,
    ) -> Result<U256, StoreError> {
        let mut nonce = self.next;
        loop {
            if self.known_to.is_some_and(|known| nonce > known) {
                self.read_used(tx, target, nonce)?;
                continue;
            }
            if !self.used.contains(&nonce) && !taken.contains_key(&(target, nonce)) {
                return Ok(nonce);
            }
            nonce =
                nonce.checked_add(U256::from(1)).ok_or_else(|| StoreError::Corrupt("nonce space exhausted".into()))?;
        }
    }
}

/// Nonce, double-sign check and rolling cap of one admitted request, over the store and the group before it.
fn plan(tx: &mut WriteTx<'_>, view: &mut GroupView, index: usize, job: &mut Job) -> Result<Plan, SignError> {
    let (intent, now) = (&job.intent, job.now);
    let deadline = job.admission.deadline;
    let target = intent.target;
    let allocated = intent.nonce.is_none();
    if allocated && !intent.kind().is_outflow() {
        view.allocating.insert(target);
    }
    // Signed on a reserved nonce: recorded as it is if nothing holds that nonce now; else allocated as usual.
    if let Some(p) = job.presigned.take()
        && !view.taken.contains_key(&(target, p.nonce))
        && tx.find(target, p.nonce)?.is_none()
    {
        view.taken.insert((target, p.nonce), (index, p.digest));
        return Ok(Plan::Fresh(Fresh {
            nonce: p.nonce,
            deadline,
            digest: p.digest,
            echo: p.echo,
            signature: Some(p.signature),
        }));
    }
    let nonce = match intent.nonce {
        Some(nonce) => nonce,
        None => Counter::of(&mut view.counters, tx, target)?.free(tx, target, &view.taken)?,
    };
    let digest = intent.payload(nonce, deadline).digest(&target.domain());

    if let Some(&(earlier, previous)) = view.taken.get(&(target, nonce)) {
        return if previous == digest { Ok(Plan::SameAs(earlier)) } else { Err(conflict(target, nonce)) };
    }
    if !allocated && let Some(previous) = tx.find(target, nonce)? {
        return if previous.digest == digest {
            Ok(Plan::Again(Signed {
                kind: intent.kind(),
                target,
                nonce,
                deadline,
                digest,
                signature: previous.signature,
                fresh: false,
                payload: intent.echo(nonce, deadline),
            }))
        } else {
            Err(conflict(target, nonce))
        };
    }
    let (token, amount) = (intent.action.token(), intent.action.total());
    if let Action::TreasuryTransfer { to, refund_of: Some(payment), .. } = intent.action {
        // What the store holds, and the refunds this group signs before this one (same target and payment).
        let mut refunds = tx.refunds_of(target, payment)?;
        refunds.extend(view.refunds.iter().filter(|r| r.0 == (target, payment)).map(|r| r.1));
        Policy::check_refund(to, token, amount, tx.payment(target, payment)?, &refunds, now)?;
    }
    if job.admission.daily_outflow_cap.is_some() {
        let since = now.saturating_sub(DAILY_WINDOW_SECS);
        let stored = match view.windows.entry((target.chain_id, token, since)) {
            Entry::Occupied(w) => *w.get(),
            Entry::Vacant(w) => *w.insert(tx.outflow_since(target.chain_id, token, since)?),
        };
        let in_group = view
            .outflows
            .iter()
            .filter(|(chain, asset, at, _)| *chain == target.chain_id && *asset == token && *at >= since)
            .fold(U256::ZERO, |sum, (.., amount)| sum.saturating_add(*amount));
        Policy::check_daily_outflow(&job.admission, stored.saturating_add(in_group), amount)?;
    }
    // Accepted: the nonce is this request's, the counter moves past it, the outflow counts for those after it.
    if allocated && let Some(counter) = view.counters.get_mut(&target) {
        counter.next = nonce.saturating_add(U256::from(1));
    }
    view.taken.insert((target, nonce), (index, digest));
    if intent.kind().is_outflow() {
        view.outflows.push((target.chain_id, token, now, amount));
    }
    if let Some(payment) = intent.action.refund_of() {
        view.refunds.push(((target, payment), SignedRefund { nonce, deadline }));
    }
    Ok(Plan::Fresh(Fresh { nonce, deadline, digest, echo: intent.echo(nonce, deadline), signature: None }))
}

/// Reserves the next free nonces of each contract this group allocated for whose reserve runs low, moving the
/// group's counter past them (so this transaction stores it there); they are handed out once it commits. A read
/// that fails reserves nothing for that contract: the group does not depend on it.
fn reserve(tx: &mut WriteTx<'_>, view: &mut GroupView, reserved: &Reserved) -> Vec<(Target, Vec<U256>)> {
    let mut out = Vec::new();
    for &target in &view.allocating {
        if reserved.len(target) >= RESERVE_LOW {
            continue;
        }
        let Ok(counter) = Counter::of(&mut view.counters, tx, target) else { continue };
        let mut nonces = Vec::with_capacity(RESERVE_BATCH);
        while nonces.len() < RESERVE_BATCH {
            match counter.free(tx, target, &view.taken) {
                Ok(nonce) => {
                    nonces.push(nonce);
                    counter.next = nonce.saturating_add(U256::from(1));
                }
                Err(_) => break,
            }
        }
        out.push((target, nonces));
    }
    out
}

fn conflict(target: Target, nonce: U256) -> SignError {
    SignError::NonceConflict { chain_id: target.chain_id, contract: target.contract, nonce }
}

/// The machine's cores, read once: `available_parallelism` reads the cgroup's files at every call.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Signs `digests` in order, spread over the machine's cores (ECDSA is the CPU cost of a group): the first share
/// on the calling thread (the writer's, or a request's task), the others on the runtime's `workers`.
async fn sign_all(
    key: &Arc<dyn KeySource>,
    workers: &tokio::runtime::Handle,
    digests: Vec<B256>,
) -> Vec<Result<Signature, KeyError>> {
    let cores = cores();
    if digests.len() < 2 || cores < 2 {
        let mut out = Vec::with_capacity(digests.len());
        for digest in digests {
            out.push(key.sign_hash(digest).await);
        }
        return out;
    }
    // The first share is signed here, the others on the runtime's other workers meanwhile.
    let per_task = digests.len().div_ceil(cores);
    let mut shares = digests.chunks(per_task);
    let first = shares.next().unwrap_or_default();
    let others: Vec<_> = shares
        .map(|share| {
            let (key, share) = (key.clone(), share.to_vec());
            let size = share.len();
            let task = workers.spawn(async move {
                let mut out = Vec::with_capacity(share.len());
                for digest in share {
                    out.push(key.sign_hash(digest).await);
                }
                out
            });
            (task, size)
        })
        .collect();
    let mut out = Vec::with_capacity(digests.len());
    for digest in first {
        out.push(key.sign_hash(*digest).await);
    }
    for (task, size) in others {
        match task.await {
            Ok(signed) => out.extend(signed),
            Err(e) => out.extend((0..size).map(|_| Err(KeyError::Signing(format!("signing task failed: {e}"))))),
        }
    }
    out
}

fn audit(caller: &Authenticated, intent: &Intent, result: &Result<Signed, SignError>) {
    let (kind, target, token, amount) = (intent.kind(), intent.target, intent.action.token(), intent.action.total());
    match result {
        Ok(s) => tracing::info!(
            target: "signer::audit",
            caller = %caller.caller,
            kind = %kind,
            chain_id = target.chain_id,
            contract = %target.contract,
            token = %token,
            amount = %amount,
            nonce = %s.nonce,
            deadline = s.deadline,
            digest = %s.digest,
            decision = if s.fresh { "signed" } else { "resigned_same_payload" },
            "signature issued"
        ),
        Err(e) => {
            let detail = e.to_string();
            if matches!(e, SignError::Store(_) | SignError::Key(_)) {
                tracing::error!(
                    target: "signer::audit",
                    caller = %caller.caller, kind = %kind, chain_id = target.chain_id, contract = %target.contract,
                    token = %token, amount = %amount, nonce = ?intent.nonce, deadline = ?intent.deadline,
                    decision = "error", rule = e.code(), %detail,
                    "signing failed"
                );
            } else {
                tracing::warn!(
                    target: "signer::audit",
                    caller = %caller.caller, kind = %kind, chain_id = target.chain_id, contract = %target.contract,
                    token = %token, amount = %amount, nonce = ?intent.nonce, deadline = ?intent.deadline,
                    decision = "refused", rule = e.code(), %detail,
                    "signature refused"
                );
            }
        }
    }
}
