//! The writer: one thread with its own store connection that decides groups of admitted requests in one store
//! transaction each and hands each group's answers, once it is committed, to the sync stage (`durable`), which
//! lets them leave once the WAL is synced; the writer meanwhile decides the next group.

use std::collections::{HashMap, HashSet, hash_map::Entry};
use std::sync::{Arc, mpsc::SendError};

use alloy::primitives::{Address, B256, Signature, U256};
use tokio::sync::{mpsc, oneshot};

use super::durable::{self, Answer, Committed};
use super::nonces::{Counter, RESERVE_BATCH, RESERVE_LOW, Reserved};
use super::{HeldKey, Inner, SignError, Signed};
use crate::{
    auth::Authenticated,
    intent::{Action, Intent, Target},
    key::{KeyError, KeySource},
    policy::{Admission, DAILY_WINDOW_SECS, Policy, RefundOnChain, SignedEpoch, SignedRefund, unexplained_fall},
    store::{NewRecord, StoreError, WriteTx, WriterConnection},
};

/// A request signed before the writer saw it, on a reserved nonce.
pub(super) struct Presigned {
    pub(super) nonce: U256,
    pub(super) digest: B256,
    pub(super) signature: Signature,
    /// The payload as answered, serialised here rather than on the writer's serial path.
    pub(super) echo: Box<serde_json::value::RawValue>,
}

/// Why what a refund needs of the chain could not be read before the writer.
#[derive(Clone, Debug)]
pub(super) enum ReadFailure {
    /// The signer has no node of the chain: refunds are refused there.
    NoNode,
    /// The node did not answer (503).
    Node(String),
    /// The store's earlier refunds could not be read (500).
    Store(String),
}

/// What the chain said that the writer's rules need for one request, read from the signer's own node before.
#[derive(Clone, Debug)]
pub(super) struct OnChain {
    /// For a liability root: the timestamp of the chain's latest block, the clock of its epoch rule.
    pub(super) latest_timestamp: Option<u64>,
    /// For a refund: the payment and the earlier refunds as the chain shows them.
    pub(super) refund: Option<Result<RefundOnChain, ReadFailure>>,
    /// For a liability root: the token's latest committed total and what the chain paid members since.
    pub(super) floor: Option<crate::node::Floor>,
}

/// One admitted request, and where its answer goes once its group's records are committed and synced.
pub(super) struct Job {
    pub(super) caller: Authenticated,
    pub(super) intent: Intent,
    pub(super) admission: Admission,
    /// The host's time: when the record is signed, and the clock of the rolling daily cap (the signer's own
    /// accounting).
    pub(super) now: u64,
    pub(super) on_chain: OnChain,
    /// A liability root's forfeits whose staff signatures checked: (id, amount).
    pub(super) forfeits: Vec<(u64, U256)>,
    pub(super) presigned: Option<Presigned>,
    /// The key that signs it: the only one, or the one its contract's `signer()` names.
    pub(super) key: HeldKey,
    pub(super) answer: oneshot::Sender<Result<Signed, SignError>>,
}

/// Most messages (one per HTTP request, of up to `MAX_MANY` intents) decided in one store transaction (one commit).
pub(super) const MAX_GROUP: usize = 256;

/// The one writer: waits for a request, takes every other one already waiting (up to [`MAX_GROUP`] messages), decides
/// them in order in one store transaction — each sees the records of those before it (nonces, the rolling
/// window) — commits, and hands the answers to the sync stage, which sends them once the WAL is synced after that
/// commit; the writer goes on with the next group meanwhile. A failed commit answers every signature of the group
/// with the error: none of them left, none is recorded. After a failed sync no group is decided any more.
/// It stops when the service is dropped (the sync stage then answers what it holds and stops too).
pub(super) async fn writer(
    inner: Arc<Inner>,
    mut queue: mpsc::Receiver<Vec<Job>>,
    mut connection: WriterConnection,
    workers: tokio::runtime::Handle,
    committed: Committed,
) {
    let mut messages = Vec::with_capacity(MAX_GROUP);
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut messages, MAX_GROUP).await > 0 {
        group.extend(messages.drain(..).flatten());
        let decided = match inner.store.sync_failure() {
            // The store can no longer say that a record is on disk: nothing is decided, nothing recorded.
            Some(failed) => group.iter().map(|_| Err(SignError::Store(failed.duplicate()))).collect(),
            None => decide_group(&inner, &mut connection, &workers, &mut group).await,
        };
        let answers: Vec<Answer> = group.drain(..).map(|job| job.answer).zip(decided).collect();
        // A sync stage that is gone cannot vouch for these records: their signatures do not leave.
        if let Err(SendError(answers)) = committed.send(answers) {
            durable::answer(answers, Some(StoreError::WriterGone));
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
    // 2. The fresh digests not signed yet, and those a rotated contract needs signed again, signed in parallel.
    let fresh: Vec<(Arc<dyn KeySource>, B256)> = plans
        .iter()
        .zip(group.iter())
        .filter_map(|(p, job)| match p {
            Ok(Plan::Fresh(f)) if f.signature.is_none() => Some((job.key.source.clone(), f.digest)),
            Ok(Plan::Resign(signed)) => Some((job.key.source.clone(), signed.digest)),
            _ => None,
        })
        .collect();
    let mut signatures = sign_all(workers, fresh).await.into_iter();
    let mut results: Vec<Result<Signed, SignError>> = Vec::with_capacity(group.len());
    let mut recorded = Vec::new();
    let mut resigned = Vec::new();
    for (job, plan) in group.iter().zip(plans) {
        results.push(match plan {
            Err(e) => Err(e),
            Ok(Plan::Again(signed)) => Ok(signed),
            Ok(Plan::Resign(signed)) => match signatures.next().expect("one signature per payload signed again") {
                Err(e) => Err(SignError::Key(e)),
                Ok(signature) => {
                    resigned.push((signed.target, signed.nonce, signature));
                    Ok(Signed { signature, signer: job.key.address, ..signed })
                }
            },
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
                        signer: job.key.address,
                        fresh: true,
                        payload: f.echo,
                    })
                }
            },
        });
    }
    let records: Vec<NewRecord<'_>> = recorded
        .iter()
        .filter_map(|&i| results[i].as_ref().ok().map(|signed| (i, &group[i], signed)))
        .map(|(i, job, signed)| NewRecord {
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
            epoch: job.intent.action.epoch(),
            root_fall: view.falls.iter().find(|f| f.index == i).map(|f| f.amount),
            catalogue_version: job.intent.action.catalogue_version(),
        })
        .collect();
    // The forfeits the signed roots counted first, against the commitment they were measured from.
    let counted: Vec<(&CountedForfeit, u64)> = view
        .counted
        .iter()
        .filter(|(i, _)| recorded.contains(i) && results[*i].is_ok())
        .map(|(i, f)| (f, group[*i].now))
        .collect();
    // 3. Every record written, the counters moved, one commit; the answers leave once the WAL is synced after it.
    let written = (|| {
        tx.insert_many(&records)?;
        for (forfeit, at) in &counted {
            tx.count_forfeit(forfeit.chain_id, forfeit.asset, forfeit.id, forfeit.amount, forfeit.commit_block, *at)?;
        }
        for (target, nonce, signature) in &resigned {
            tx.replace_signature(*target, *nonce, *signature)?;
        }
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
    /// The same payload was signed before by a key its contract no longer accepts (a rotation applied since): the
    /// same digest signed again by the key it names now, which replaces the recorded signature.
    Resign(Signed),
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
    /// Liability roots this group signs: ((target, token), the epoch).
    epochs: Vec<((Target, Address), SignedEpoch)>,
    /// Unexplained falls of liability roots signed in the store since a moment, per (chain, asset, since).
    fall_windows: HashMap<(u64, Address, u64), U256>,
    /// Unexplained falls of the liability roots this group signs.
    falls: Vec<Fall>,
    /// Forfeits counted, by (chain, asset, id): the commitment block each is counted against (the store's, or this
    /// group's).
    forfeit_bases: HashMap<(u64, Address, u64), u64>,
    /// Forfeits this group counts first: (the request, the forfeit).
    counted: Vec<(usize, CountedForfeit)>,
    /// The catalogue versions of the sales this group signs: ((target, token), version).
    catalogues: Vec<((Target, Address), u32)>,
}

/// An approved forfeit a liability root of the group counts first, against the commitment at `commit_block`.
struct CountedForfeit {
    chain_id: u64,
    asset: Address,
    id: u64,
    amount: U256,
    commit_block: u64,
}

/// A liability root of the group that falls below what the chain explains (backend/SOLVENCY.md §1).
struct Fall {
    /// The request's index in the group.
    index: usize,
    chain_id: u64,
    asset: Address,
    /// When it is signed (the host's time: the daily window's clock, as for outflows).
    at: u64,
    amount: U256,
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
        if previous.digest != digest {
            return Err(conflict(target, nonce));
        }
        let signed = Signed {
            kind: intent.kind(),
            target,
            nonce,
            deadline,
            digest,
            signature: previous.signature,
            signer: job.key.address,
            fresh: false,
            payload: intent.echo(nonce, deadline),
        };
        // Recorded by the key the contract names now (always, but across a rotation): the same signature again.
        let by = previous.signature.recover_address_from_prehash(&digest).ok();
        return Ok(if by == Some(job.key.address) { Plan::Again(signed) } else { Plan::Resign(signed) });
    }
    let (token, amount) = (intent.action.token(), intent.action.total());
    if let Action::TreasuryTransfer { to, refund_of: Some(payment), .. } = intent.action {
        Policy::check_refund_payment(to, token, amount, tx.payment(target, payment)?)?;
        // What the store holds, and the refunds this group signs before this one (same target and payment): each
        // must be one the chain was read for, and dead there.
        let mut refunds = tx.refunds_of(target, payment)?;
        refunds.extend(view.refunds.iter().filter(|r| r.0 == (target, payment)).map(|r| r.1));
        let chain = match &job.on_chain.refund {
            Some(Ok(read)) => Some(read),
            Some(Err(ReadFailure::NoNode)) => None,
            Some(Err(ReadFailure::Node(e))) => return Err(SignError::NodeUnavailable(e.clone())),
            Some(Err(ReadFailure::Store(e))) => return Err(StoreError::GroupFailed(e.clone()).into()),
            None => return Err(SignError::NodeUnavailable("the refund's chain state was not read".into())),
        };
        Policy::check_refund_on_chain(chain, &refunds)?;
    }
    if let Action::LiabilityRoot { epoch, total, .. } = intent.action {
        // What the store holds at the token's highest epoch, and the roots this group signs before this one.
        let mut signed = tx.liability_epochs(target, token)?;
        signed.extend(view.epochs.iter().filter(|e| e.0 == (target, token)).map(|e| e.1));
        let chain_now = job.on_chain.latest_timestamp.ok_or_else(|| {
            SignError::NodeUnavailable("the chain's latest block was not read for the liability root".into())
        })?;
        Policy::check_epoch(epoch, &signed, chain_now)?;
        // No root cuts what members are owed on the caller's word: it falls below the latest committed total by
        // what the chain paid them since (and the fees kept of it), or within the asset's daily allowance.
        let floor = job.on_chain.floor.ok_or_else(|| {
            SignError::NodeUnavailable("the contract's floor was not read for the liability root".into())
        })?;
        let Some(caps) = job.admission.root_fall else {
            return Err(SignError::NodeUnavailable("the liability root was admitted without its fall caps".into()));
        };
        // Each approved forfeit explains a fall once: toward the roots measured from the commitment it was first
        // counted against, never again once a later commitment is in (backend/SOLVENCY.md §1).
        let mut forfeited = U256::ZERO;
        for &(id, amount) in &job.forfeits {
            let key = (target.chain_id, token, id);
            let base = match view.forfeit_bases.get(&key) {
                Some(base) => Some(*base),
                None => tx.forfeit_base(target.chain_id, token, id)?,
            };
            match base {
                Some(base) if base != floor.commit_block => continue,
                Some(_) => {}
                None => {
                    view.forfeit_bases.insert(key, floor.commit_block);
                    let counted = CountedForfeit {
                        chain_id: target.chain_id,
                        asset: token,
                        id,
                        amount,
                        commit_block: floor.commit_block,
                    };
                    view.counted.push((index, counted));
                }
            }
            forfeited = forfeited.saturating_add(amount);
        }
        let fall =
            unexplained_fall(floor.committed_total, floor.paid_since, caps.withdrawal_fee_bps, U256::from(total))
                .saturating_sub(forfeited);
        if !fall.is_zero() {
            let since = now.saturating_sub(DAILY_WINDOW_SECS);
            let stored = match view.fall_windows.entry((target.chain_id, token, since)) {
                Entry::Occupied(w) => *w.get(),
                Entry::Vacant(w) => *w.insert(tx.root_fall_since(target.chain_id, token, since)?),
            };
            let in_group = view
                .falls
                .iter()
                .filter(|f| f.chain_id == target.chain_id && f.asset == token && f.at >= since)
                .fold(U256::ZERO, |sum, f| sum.saturating_add(f.amount));
            Policy::check_root_fall(
                &caps,
                stored.saturating_add(in_group),
                fall,
                floor.committed_total,
                floor.paid_since,
                forfeited,
            )?;
            view.falls.push(Fall { index, chain_id: target.chain_id, asset: token, at: now, amount: fall });
        }
    }
    if let Some(version) = intent.action.catalogue_version() {
        let in_group = view.catalogues.iter().filter(|c| c.0 == (target, token)).map(|c| c.1).max();
        let newest = tx.newest_catalogue(target, token)?.max(in_group);
        Policy::check_catalogue_version(version, newest)?;
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
    if let Some(epoch) = intent.action.epoch() {
        view.epochs.push(((target, token), SignedEpoch { epoch, deadline }));
    }
    if let Some(version) = intent.action.catalogue_version() {
        view.catalogues.push(((target, token), version));
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

/// Signs each digest with its key, in order, spread over the machine's cores (ECDSA is the CPU cost of a group; a
/// token's keys sign on blocking threads of their own): the first share on the calling thread (the writer's, or a
/// request's task), the others on the runtime's `workers`.
pub(super) async fn sign_all(
    workers: &tokio::runtime::Handle,
    digests: Vec<(Arc<dyn KeySource>, B256)>,
) -> Vec<Result<Signature, KeyError>> {
    let cores = cores();
    if digests.len() < 2 || cores < 2 {
        let mut out = Vec::with_capacity(digests.len());
        for (key, digest) in digests {
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
            let share = share.to_vec();
            let size = share.len();
            let task = workers.spawn(async move {
                let mut out = Vec::with_capacity(share.len());
                for (key, digest) in share {
                    out.push(key.sign_hash(digest).await);
                }
                out
            });
            (task, size)
        })
        .collect();
    let mut out = Vec::with_capacity(digests.len());
    for (key, digest) in first {
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
