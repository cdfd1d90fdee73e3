//! The durable double-sign record (SQLite). Thin: the decisions live in `signing`; this module only reads and
//! writes rows. The signing service's one writer owns a [`WriterConnection`] on a thread of its own and runs a
//! group's statements on it directly — a statement costs microseconds, not a hand-off to a driver thread and back
//! — inside one `BEGIN IMMEDIATE` transaction; reads for the HTTP side go through a second connection.
//!
//! Durability: the file is in WAL mode with `synchronous=NORMAL`, so a commit writes its frames to the `-wal` file
//! without waiting for the disk; a commit is durable once the WAL is synced (SQLite's checkpoints sync the WAL before
//! they copy it and the database file after). The signing service syncs the WAL itself after each group's commit,
//! through a [`WalSync`] on a thread of its own, and answers the group only once that sync has returned. A sync that
//! fails stops every later signature until the signer is restarted ([`StoreError::SyncFailed`]).

use std::{
    fs::File,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    str::FromStr,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use alloy::primitives::{Address, B256, Signature, U256};
use prometheus_client::metrics::histogram::Histogram;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::intent::{Kind, Target};
use crate::policy::{SignedEpoch, SignedPayment, SignedRefund};

/// Why the double-sign store could not read or record.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A stored row could not be read back as what it should hold.
    #[error("unreadable row: {0}")]
    Corrupt(String),
    /// A chain id above `i64::MAX`, which the store's integer column cannot hold.
    #[error("chain id {0} does not fit the store")]
    ChainIdTooLarge(u64),
    /// A record's (chain, contract, nonce) is already recorded.
    #[error("another writer signed this nonce first")]
    NonceTaken,
    /// The store transaction of a group of requests failed; every request of the group gets it.
    #[error("the group's store transaction failed: {0}")]
    GroupFailed(String),
    /// The writer is gone (the service is shutting down).
    #[error("the signer's writer stopped")]
    WriterGone,
    /// Syncing the WAL failed, now or earlier in this process: a record committed since the last sync that
    /// succeeded may not be on disk, and a later sync's success would not say that it is (the kernel may have
    /// dropped the pages it failed to write). No signature leaves until the signer is restarted; opening the store
    /// writes what the WAL holds into the database file and syncs it.
    #[error("the double-sign store's WAL could not be synced ({0}); no signature leaves until the signer restarts")]
    SyncFailed(String),
    /// The store's files could not be synced when it was opened.
    #[error("syncing the store's files: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// The same failure, for each request of a group that shares it.
    pub fn duplicate(&self) -> StoreError {
        match self {
            StoreError::SyncFailed(why) => StoreError::SyncFailed(why.clone()),
            StoreError::WriterGone => StoreError::WriterGone,
            other => StoreError::GroupFailed(other.to_string()),
        }
    }
}

/// The schema, by version (`PRAGMA user_version`). Version 1 was first applied by sqlx's migrator, whose files
/// hold the same tables: `IF NOT EXISTS` lets either kind of file come up to date.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_signed_payloads.sql"),
    include_str!("../migrations/0002_refunds.sql"),
    include_str!("../migrations/0003_liability_roots.sql"),
    include_str!("../migrations/0004_root_falls.sql"),
    include_str!("../migrations/0005_forfeits.sql"),
    include_str!("../migrations/0006_sales.sql"),
];

/// How long a writer waits for another process's write transaction on the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The record of every signed nonce: opens the file, migrates it, and serves reads; the writer's connection is
/// [`Store::writer`].
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    reader: Arc<Mutex<Connection>>,
    /// How long each commit of a signature record took (seconds); shown as `signer_store_commit_seconds`.
    commit_seconds: Histogram,
    /// How long each sync of the WAL took (seconds); shown as `signer_store_sync_seconds`.
    sync_seconds: Histogram,
    /// Why a sync of the WAL failed, once one has: from then on nothing is signed (see [`StoreError::SyncFailed`]).
    sync_failure: Arc<OnceLock<String>>,
    /// Holds back or fails the syncs of the WAL, in tests.
    #[cfg(test)]
    sync_gate: Option<Arc<SyncGate>>,
}

/// A payload already signed for a (chain, contract, nonce).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord {
    /// The EIP-712 digest signed.
    pub digest: B256,
    /// The signature over it.
    pub signature: Signature,
    /// The payload's deadline, unix seconds.
    pub deadline: u64,
}

/// Everything recorded about one signature.
#[derive(Clone, Debug)]
pub struct NewRecord<'a> {
    /// The chain and contract signed for.
    pub target: Target,
    /// The payload's nonce.
    pub nonce: U256,
    /// The payload's kind.
    pub kind: Kind,
    /// The EIP-712 digest signed.
    pub digest: B256,
    /// The signature over it.
    pub signature: Signature,
    /// The token the payload moves; `0x000…0` for the native coin.
    pub asset: Address,
    /// The total the payload moves, in base units.
    pub amount: U256,
    /// The payload's deadline, unix seconds.
    pub deadline: u64,
    /// The caller that asked for it.
    pub caller: &'a str,
    /// The request's MAC (hex), so that replay protection survives a restart.
    pub request_mac: &'a str,
    /// When it was signed, unix seconds.
    pub signed_at: u64,
    /// The intent as signed, JSON.
    pub payload: &'a str,
    /// A refund's refunded payment nonce (same target).
    pub refund_of: Option<U256>,
    /// A liability root's epoch.
    pub epoch: Option<u64>,
    /// A liability root's fall below what the chain explained when it was signed (backend/SOLVENCY.md §1), when it fell.
    pub root_fall: Option<U256>,
    /// A sale's catalogue version, the one its price was checked against.
    pub catalogue_version: Option<u32>,
}

fn u256_key(v: U256) -> String {
    hex::encode(v.to_be_bytes::<32>())
}

fn parse_u256_key(s: &str) -> Result<U256, StoreError> {
    let bytes = hex::decode(s).map_err(|e| StoreError::Corrupt(format!("uint256 {s:?}: {e}")))?;
    if bytes.len() != 32 {
        return Err(StoreError::Corrupt(format!("uint256 {s:?} is not 32 bytes")));
    }
    Ok(U256::from_be_slice(&bytes))
}

fn address_key(a: Address) -> String {
    format!("{a:#x}")
}

fn chain_key(chain_id: u64) -> Result<i64, StoreError> {
    i64::try_from(chain_id).map_err(|_| StoreError::ChainIdTooLarge(chain_id))
}

fn forfeit_key(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::Corrupt(format!("forfeit id {id} is above 2^63")))
}

fn unix_i64(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

fn unix_u64(secs: i64) -> u64 {
    u64::try_from(secs).unwrap_or_default()
}

/// A connection with the settings every one of ours uses.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // A commit writes the WAL and does not wait for the disk; a signature still leaves only once its record is on
    // disk, even across a power cut: the signing service syncs the WAL after each group's commit ([`WalSync`]) and
    // answers the group after that. Checkpoints sync the WAL before copying it, and the database file after.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// The WAL beside the database file at `path` (SQLite's name for it).
fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Syncs the directory holding `path`, so that a file created in it (a new WAL) is found after a crash.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

/// Makes every record the file holds durable before anything is read from it: a process that committed without
/// syncing (this signer killed between a commit and its sync, or one whose sync failed) may have left records that
/// are readable but not on disk. A `TRUNCATE` checkpoint copies the whole WAL into the database file — pages written
/// afresh, then synced — and empties the WAL; should another connection keep it from finishing, the WAL is synced as
/// it is. Then the WAL, the database file and their directory are synced.
fn make_durable(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        tracing::warn!(store = %path.display(), "another connection kept the opening checkpoint from finishing");
    }
    match File::open(wal_path(path)) {
        Ok(wal) => wal.sync_data()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    File::open(path)?.sync_data()?;
    sync_parent(path)?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (applied, sql) in (1i64..).zip(MIGRATIONS).skip(usize::try_from(version).unwrap_or(usize::MAX)) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", applied)?;
    }
    tx.commit()?;
    Ok(())
}

fn find_record(conn: &Connection, target: Target, nonce: U256) -> Result<Option<SignedRecord>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT digest, signature, deadline FROM signed_payloads WHERE chain_id = ?1 AND contract = ?2 AND nonce = ?3",
    )?;
    let row = statement
        .query_row(params![chain_key(target.chain_id)?, address_key(target.contract), u256_key(nonce)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })
        .optional()?;
    let Some((digest, signature, deadline)) = row else { return Ok(None) };
    Ok(Some(SignedRecord {
        digest: B256::from_str(&digest).map_err(|e| StoreError::Corrupt(format!("digest: {e}")))?,
        signature: Signature::from_str(&signature).map_err(|e| StoreError::Corrupt(format!("signature: {e}")))?,
        deadline: unix_u64(deadline),
    }))
}

fn refunds_of(conn: &Connection, target: Target, nonce: U256) -> Result<Vec<SignedRefund>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT nonce, deadline FROM signed_payloads WHERE chain_id = ?1 AND contract = ?2 AND refund_of = ?3",
    )?;
    let rows = statement
        .query_map(params![chain_key(target.chain_id)?, address_key(target.contract), u256_key(nonce)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
    rows.map(|row| {
        let (refund, deadline) = row?;
        Ok(SignedRefund { nonce: parse_u256_key(&refund)?, deadline: unix_u64(deadline) })
    })
    .collect()
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut reader = connect(&path)?;
            migrate(&mut reader)?;
            make_durable(&reader, &path)?;
            Ok(Store {
                path,
                reader: Arc::new(Mutex::new(reader)),
                commit_seconds: crate::metrics::Metrics::store_histogram(),
                sync_seconds: crate::metrics::Metrics::store_histogram(),
                sync_failure: Arc::default(),
                #[cfg(test)]
                sync_gate: None,
            })
        })
        .await
        .map_err(|_| StoreError::WriterGone)?
    }

    /// A connection for the one writer of this store in this process; `BEGIN IMMEDIATE` keeps writers of other
    /// processes out while a group is decided.
    pub fn writer(&self) -> Result<WriterConnection, StoreError> {
        Ok(WriterConnection { conn: connect(&self.path)?, commit_seconds: self.commit_seconds.clone() })
    }

    /// The commit times this store records, for the metrics registry.
    pub fn commit_histogram(&self) -> Histogram {
        self.commit_seconds.clone()
    }

    /// The WAL sync times this store records, for the metrics registry.
    pub fn sync_histogram(&self) -> Histogram {
        self.sync_seconds.clone()
    }

    /// What syncs this store's WAL for the one writer of this process (see [`WalSync`]): its own handle on the WAL
    /// file, for a thread of its own.
    pub fn wal_sync(&self) -> WalSync {
        WalSync {
            wal_path: wal_path(&self.path),
            db_path: self.path.clone(),
            file: None,
            sync_seconds: self.sync_seconds.clone(),
            failure: self.sync_failure.clone(),
            #[cfg(test)]
            gate: self.sync_gate.clone(),
        }
    }

    /// Why syncing the WAL failed, if it has in this process: then nothing may be signed until a restart.
    pub fn sync_failure(&self) -> Option<StoreError> {
        self.sync_failure.get().map(|why| StoreError::SyncFailed(why.clone()))
    }

    /// The same store, with every sync of its WAL passing through `gate` first.
    #[cfg(test)]
    pub(crate) fn with_sync_gate(mut self, gate: Arc<SyncGate>) -> Self {
        self.sync_gate = Some(gate);
        self
    }

    /// Runs `read` on the reader connection, off the async workers.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || read(&reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner())))
            .await
            .map_err(|_| StoreError::WriterGone)?
    }

    /// Number of signatures ever recorded.
    pub async fn count_signed(&self) -> Result<u64, StoreError> {
        self.read(|c| Ok(unix_u64(c.query_row("SELECT COUNT(*) FROM signed_payloads", [], |r| r.get(0))?))).await
    }

    /// What was signed for this nonce, if anything (committed records only).
    pub async fn find(&self, target: Target, nonce: U256) -> Result<Option<SignedRecord>, StoreError> {
        self.read(move |c| find_record(c, target, nonce)).await
    }

    /// The refunds of payment `nonce` of `target` committed so far (read outside the writer's transaction: what
    /// the chain is read for before the writer decides, which accepts only refunds read then).
    pub async fn refunds_of(&self, target: Target, nonce: U256) -> Result<Vec<SignedRefund>, StoreError> {
        self.read(move |c| refunds_of(c, target, nonce)).await
    }

    /// Request MACs of signatures made at or after `since`, to refuse replays of them after a restart.
    pub async fn request_macs_since(&self, since: u64) -> Result<Vec<(String, u64)>, StoreError> {
        self.read(move |c| {
            let mut statement =
                c.prepare("SELECT request_mac, signed_at FROM signed_payloads WHERE signed_at >= ?1")?;
            let rows = statement.query_map([unix_i64(since)], |r| Ok((r.get(0)?, unix_u64(r.get(1)?))))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Outflows of `asset` on `chain_id` signed at or after `since`, as (signed_at, amount), oldest first. Read
    /// outside the writer's transaction: a view for the policy endpoint, not a decision.
    pub async fn outflows_since(
        &self,
        chain_id: u64,
        asset: Address,
        since: u64,
    ) -> Result<Vec<(u64, U256)>, StoreError> {
        let chain = chain_key(chain_id)?;
        self.read(move |c| {
            let mut statement = c.prepare_cached(
                "SELECT signed_at, amount FROM signed_payloads
                 WHERE chain_id = ?1 AND asset = ?2 AND outflow = 1 AND signed_at >= ?3 ORDER BY signed_at",
            )?;
            let rows = statement.query_map(params![chain, address_key(asset), unix_i64(since)], |r| {
                Ok((unix_u64(r.get(0)?), r.get::<_, String>(1)?))
            })?;
            rows.map(|row| {
                let (at, amount) = row?;
                Ok((at, parse_u256_key(&amount)?))
            })
            .collect()
        })
        .await
    }

    /// Succeeds when the store answers a trivial query and no sync of its WAL has failed (`GET /health`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        if let Some(failed) = self.sync_failure() {
            return Err(failed);
        }
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(|_| ())?)).await
    }
}

/// Syncs the store's WAL (`fdatasync` of the `-wal` file beside it) with a handle of its own: what makes the
/// commits before it durable under `synchronous=NORMAL`. The signing service's sync thread owns it.
///
/// SQLite keeps the WAL file while any connection has the database open — it writes it again from its start after a
/// complete checkpoint, or truncates it, but keeps its inode — and removes it only when the last connection closes,
/// after checkpointing all of it into the database file and syncing that. So before each sync the handle is checked
/// against the file at the WAL's path and opened again when that is another file (its directory synced too, so that
/// a new WAL's name survives a crash); with no WAL at all, every commit is in the database file, which is synced.
#[derive(Debug)]
pub struct WalSync {
    wal_path: PathBuf,
    db_path: PathBuf,
    /// The WAL file open, and its (device, inode).
    file: Option<(File, (u64, u64))>,
    sync_seconds: Histogram,
    failure: Arc<OnceLock<String>>,
    #[cfg(test)]
    gate: Option<Arc<SyncGate>>,
}

impl WalSync {
    /// Syncs the WAL: once this returns `Ok`, every transaction committed to the store before it was called is on
    /// disk. A failure is final for this process (see [`StoreError::SyncFailed`]): this and every later call fail,
    /// and so does [`Store::ping`].
    pub fn sync(&mut self) -> Result<(), StoreError> {
        if let Some(why) = self.failure.get() {
            return Err(StoreError::SyncFailed(why.clone()));
        }
        let started = Instant::now();
        let synced = self.sync_wal();
        self.sync_seconds.observe(started.elapsed().as_secs_f64());
        synced.map_err(|e| {
            tracing::error!(
                error = %e,
                wal = %self.wal_path.display(),
                "syncing the double-sign store's WAL failed: no signature leaves until the signer is restarted"
            );
            let _ = self.failure.set(e.to_string());
            StoreError::SyncFailed(self.failure.get().cloned().unwrap_or_else(|| e.to_string()))
        })
    }

    fn sync_wal(&mut self) -> std::io::Result<()> {
        #[cfg(test)]
        if let Some(gate) = &self.gate {
            gate.pass()?;
        }
        let at_path = match std::fs::metadata(&self.wal_path) {
            Ok(meta) => (meta.dev(), meta.ino()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.file = None;
                return File::open(&self.db_path)?.sync_data();
            }
            Err(e) => return Err(e),
        };
        let wal = match &mut self.file {
            Some((wal, identity)) if *identity == at_path => wal,
            stale => {
                let wal = File::open(&self.wal_path)?;
                let meta = wal.metadata()?;
                sync_parent(&self.wal_path)?;
                &stale.insert((wal, (meta.dev(), meta.ino()))).0
            }
        };
        wal.sync_data()
    }
}

/// Holds back the syncs of a store's WAL while held, or fails the next one: tests' view of the sync thread.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct SyncGate {
    state: Mutex<GateState>,
    changed: std::sync::Condvar,
}

#[cfg(test)]
#[derive(Debug, Default)]
struct GateState {
    held: bool,
    /// Syncs waiting at the gate now.
    waiting: usize,
    /// Syncs that went through it.
    passed: usize,
    fail_next: Option<String>,
}

#[cfg(test)]
impl SyncGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Syncs from now on wait at the gate until [`Self::release`].
    pub(crate) fn hold(&self) {
        self.lock().held = true;
    }

    /// Lets the syncs waiting, and those to come, through.
    pub(crate) fn release(&self) {
        self.lock().held = false;
        self.changed.notify_all();
    }

    /// The next sync through the gate fails with `why` instead of syncing.
    pub(crate) fn fail_next(&self, why: &str) {
        self.lock().fail_next = Some(why.to_owned());
    }

    /// Syncs waiting at the gate now.
    pub(crate) fn waiting(&self) -> usize {
        self.lock().waiting
    }

    /// Syncs that went through the gate so far.
    pub(crate) fn passed(&self) -> usize {
        self.lock().passed
    }

    fn pass(&self) -> std::io::Result<()> {
        let mut state = self.lock();
        state.waiting += 1;
        while state.held {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.waiting -= 1;
        state.passed += 1;
        state.fail_next.take().map_or(Ok(()), |why| Err(std::io::Error::other(why)))
    }
}

/// The writer's own connection (see the module documentation).
#[derive(Debug)]
pub struct WriterConnection {
    conn: Connection,
    commit_seconds: Histogram,
}

impl WriterConnection {
    /// Starts the write transaction in which a group is decided: `BEGIN IMMEDIATE`, so that what the group reads
    /// cannot change under it until it commits.
    pub fn begin(&mut self) -> Result<WriteTx<'_>, StoreError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(WriteTx { tx, commit_seconds: &self.commit_seconds })
    }
}

/// The writer's transaction; dropped without [`WriteTx::commit`], it rolls back.
#[derive(Debug)]
pub struct WriteTx<'c> {
    tx: Transaction<'c>,
    commit_seconds: &'c Histogram,
}

impl WriteTx<'_> {
    /// The counter of `target`: the next nonce to hand out when an intent names none (1 when none was handed out).
    /// It never starts below another contract's counter on the same chain: after an upgrade (contracts/UPGRADES.md)
    /// the new contract's payments go on from the old one's nonces, so that a nonce names one payment on the chain
    /// whichever contract took it (the ledger keeps one payload per nonce and asset).
    pub fn next_nonce(&mut self, target: Target) -> Result<U256, StoreError> {
        // Keys are fixed-width hex: the greatest string is the greatest number.
        let stored: Option<String> = self
            .tx
            .prepare_cached("SELECT max(next_nonce) FROM nonce_allocator WHERE chain_id = ?1")?
            .query_row(params![chain_key(target.chain_id)?], |r| r.get(0))?;
        stored.map_or(Ok(U256::from(1)), |s| parse_u256_key(&s))
    }

    /// Moves the counter of `target` to `next`; never backwards.
    pub fn advance_nonce(&mut self, target: Target, next: U256) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO nonce_allocator (chain_id, contract, next_nonce) VALUES (?1, ?2, ?3)
                 ON CONFLICT (chain_id, contract) DO UPDATE SET next_nonce = max(next_nonce, excluded.next_nonce)",
            )?
            .execute(params![chain_key(target.chain_id)?, address_key(target.contract), u256_key(next)])?;
        Ok(())
    }

    /// The first `limit` nonces of `target` at or above `from` that hold a record, ascending (nonces callers
    /// chose themselves, which the counter skips).
    pub fn used_nonces_from(&mut self, target: Target, from: U256, limit: u32) -> Result<Vec<U256>, StoreError> {
        let mut statement = self.tx.prepare_cached(
            "SELECT nonce FROM signed_payloads WHERE chain_id = ?1 AND contract = ?2 AND nonce >= ?3
             ORDER BY nonce LIMIT ?4",
        )?;
        let keys = statement.query_map(
            params![chain_key(target.chain_id)?, address_key(target.contract), u256_key(from), limit],
            |r| r.get::<_, String>(0),
        )?;
        keys.map(|k| parse_u256_key(&k?)).collect()
    }

    /// What was signed for this nonce, if anything.
    pub fn find(&mut self, target: Target, nonce: U256) -> Result<Option<SignedRecord>, StoreError> {
        find_record(&self.tx, target, nonce)
    }

    /// Sum of outflows of `asset` on `chain_id` signed at or after `since`.
    pub fn outflow_since(&mut self, chain_id: u64, asset: Address, since: u64) -> Result<U256, StoreError> {
        let mut statement = self.tx.prepare_cached(
            "SELECT amount FROM signed_payloads WHERE chain_id = ?1 AND asset = ?2 AND outflow = 1 AND signed_at >= ?3",
        )?;
        let amounts = statement
            .query_map(params![chain_key(chain_id)?, address_key(asset), unix_i64(since)], |r| r.get::<_, String>(0))?;
        amounts.into_iter().try_fold(U256::ZERO, |sum, a| Ok(sum.saturating_add(parse_u256_key(&a?)?)))
    }

    /// Sum of the unexplained falls of the liability roots of `asset` on `chain_id` signed at or after `since`.
    pub fn root_fall_since(&mut self, chain_id: u64, asset: Address, since: u64) -> Result<U256, StoreError> {
        let mut statement = self.tx.prepare_cached(
            "SELECT root_fall FROM signed_payloads
             WHERE chain_id = ?1 AND asset = ?2 AND root_fall IS NOT NULL AND signed_at >= ?3",
        )?;
        let falls = statement
            .query_map(params![chain_key(chain_id)?, address_key(asset), unix_i64(since)], |r| r.get::<_, String>(0))?;
        falls.into_iter().try_fold(U256::ZERO, |sum, a| Ok(sum.saturating_add(parse_u256_key(&a?)?)))
    }

    /// The newest catalogue version a sale of `asset` on `target` was signed from (none before the first sale).
    pub fn newest_catalogue(&mut self, target: Target, asset: Address) -> Result<Option<u32>, StoreError> {
        let newest: Option<i64> = self
            .tx
            .prepare_cached(
                "SELECT max(catalogue_version) FROM signed_payloads
                 WHERE chain_id = ?1 AND contract = ?2 AND asset = ?3 AND catalogue_version IS NOT NULL",
            )?
            .query_row(params![chain_key(target.chain_id)?, address_key(target.contract), address_key(asset)], |r| {
                r.get(0)
            })?;
        newest.map(|v| u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("catalogue version {v}")))).transpose()
    }

    /// The block of the commitment forfeit `id` of `asset` on `chain_id` was first counted against, if a signed root
    /// counted it.
    pub fn forfeit_base(&mut self, chain_id: u64, asset: Address, id: u64) -> Result<Option<u64>, StoreError> {
        let base = self
            .tx
            .prepare_cached("SELECT commit_block FROM counted_forfeits WHERE chain_id = ?1 AND asset = ?2 AND id = ?3")?
            .query_row(params![chain_key(chain_id)?, address_key(asset), forfeit_key(id)?], |r| r.get::<_, i64>(0))
            .optional()?;
        base.map(|b| u64::try_from(b).map_err(|_| StoreError::Corrupt(format!("commit block {b}")))).transpose()
    }

    /// Records that a signed root counted forfeit `id` of `amount` against the commitment at `commit_block`, at host
    /// time `at`; one counted already stays as it was.
    pub fn count_forfeit(
        &mut self,
        chain_id: u64,
        asset: Address,
        id: u64,
        amount: U256,
        commit_block: u64,
        at: u64,
    ) -> Result<(), StoreError> {
        let block =
            i64::try_from(commit_block).map_err(|_| StoreError::Corrupt(format!("commit block {commit_block}")))?;
        self.tx
            .prepare_cached(
                "INSERT INTO counted_forfeits (chain_id, asset, id, amount, commit_block, counted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                chain_key(chain_id)?,
                address_key(asset),
                forfeit_key(id)?,
                u256_key(amount),
                block,
                unix_i64(at)
            ])?;
        Ok(())
    }

    /// The register or retopup payload signed for this nonce, if any (any other kind is returned as its kind, with
    /// the payer unknown: zero).
    pub fn payment(&mut self, target: Target, nonce: U256) -> Result<Option<SignedPayment>, StoreError> {
        let row = self
            .tx
            .prepare_cached(
                "SELECT kind, asset, amount, payload FROM signed_payloads
                 WHERE chain_id = ?1 AND contract = ?2 AND nonce = ?3",
            )?
            .query_row(params![chain_key(target.chain_id)?, address_key(target.contract), u256_key(nonce)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
            })
            .optional()?;
        let Some((kind, asset, amount, payload)) = row else { return Ok(None) };
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| StoreError::Corrupt(format!("kind {kind:?}")))?;
        let address = |s: &str| Address::from_str(s).map_err(|e| StoreError::Corrupt(format!("address {s:?}: {e}")));
        // The recorded payload is the signed intent; a register's and a retopup's name the paying wallet `user`.
        let payer = match kind {
            Kind::Register | Kind::Retopup => {
                let intent: serde_json::Value =
                    serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(format!("payload: {e}")))?;
                address(intent["user"].as_str().ok_or_else(|| StoreError::Corrupt("payload without user".into()))?)?
            }
            Kind::PayoutBatch | Kind::TreasuryTransfer | Kind::LiabilityRoot | Kind::Sale => Address::ZERO,
        };
        Ok(Some(SignedPayment { kind, payer, token: address(&asset)?, amount: parse_u256_key(&amount)? }))
    }

    /// The refunds of payment `nonce` of `target` recorded so far.
    pub fn refunds_of(&mut self, target: Target, nonce: U256) -> Result<Vec<SignedRefund>, StoreError> {
        refunds_of(&self.tx, target, nonce)
    }

    /// The liability roots signed for `token` of `target` at the highest epoch signed for it (none before the first).
    pub fn liability_epochs(&mut self, target: Target, token: Address) -> Result<Vec<SignedEpoch>, StoreError> {
        let mut statement = self.tx.prepare_cached(
            "SELECT epoch, deadline FROM signed_payloads
             WHERE chain_id = ?1 AND contract = ?2 AND asset = ?3 AND epoch = (
                 SELECT MAX(epoch) FROM signed_payloads
                 WHERE chain_id = ?1 AND contract = ?2 AND asset = ?3 AND epoch IS NOT NULL)",
        )?;
        let rows = statement
            .query_map(params![chain_key(target.chain_id)?, address_key(target.contract), address_key(token)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })?;
        rows.map(|row| {
            let (epoch, deadline) = row?;
            Ok(SignedEpoch { epoch: unix_u64(epoch), deadline: unix_u64(deadline) })
        })
        .collect()
    }

    /// The recorded signature of `target`'s `nonce` replaced by `signature` over the same digest, by the key the
    /// contract's `signer()` now names (a rotation applied since it was recorded): the payload is the same, so this
    /// authorises nothing new, and the old signature no longer executes.
    pub fn replace_signature(&mut self, target: Target, nonce: U256, signature: Signature) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE signed_payloads SET signature = ?4 WHERE chain_id = ?1 AND contract = ?2 AND nonce = ?3",
            )?
            .execute(params![
                chain_key(target.chain_id)?,
                address_key(target.contract),
                u256_key(nonce),
                alloy::hex::encode_prefixed(signature.as_bytes())
            ])?;
        if changed != 1 {
            return Err(StoreError::Corrupt(format!("no record of nonce {nonce} to sign again")));
        }
        Ok(())
    }

    /// Records `records`. A nonce already recorded fails with `NonceTaken` (and the group rolls back).
    pub fn insert_many(&mut self, records: &[NewRecord<'_>]) -> Result<(), StoreError> {
        let mut statement = self.tx.prepare_cached(
            "INSERT INTO signed_payloads (chain_id, contract, nonce, kind, digest, signature, asset, amount, outflow,
                                          deadline, caller, request_mac, signed_at, payload, refund_of, epoch, root_fall,
                                          catalogue_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )?;
        for record in records {
            let inserted = statement.execute(params![
                chain_key(record.target.chain_id)?,
                address_key(record.target.contract),
                u256_key(record.nonce),
                record.kind.as_str(),
                record.digest.to_string(),
                alloy::hex::encode_prefixed(record.signature.as_bytes()),
                address_key(record.asset),
                u256_key(record.amount),
                record.kind.is_outflow(),
                unix_i64(record.deadline),
                record.caller,
                record.request_mac,
                unix_i64(record.signed_at),
                record.payload,
                record.refund_of.map(u256_key),
                record.epoch.map(unix_i64),
                record.root_fall.map(u256_key),
                record.catalogue_version,
            ]);
            match inserted {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == ErrorCode::ConstraintViolation
                        && e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                {
                    return Err(StoreError::NonceTaken);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Commits the records: visible to every later transaction, and durable once the WAL is synced after this
    /// ([`WalSync::sync`]); only then may their signatures be returned.
    pub fn commit(self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.tx.commit()?;
        self.commit_seconds.observe(started.elapsed().as_secs_f64());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as the signer wrote it before this store: schema by sqlx's migrator (`user_version` 0).
    const SQLX_ERA_FILE: &str = "
        CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL);
        INSERT INTO _sqlx_migrations VALUES (1, 'signed_payloads');
        CREATE TABLE signed_payloads (
            chain_id INTEGER NOT NULL, contract TEXT NOT NULL, nonce TEXT NOT NULL, kind TEXT NOT NULL,
            digest TEXT NOT NULL, signature TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,
            outflow INTEGER NOT NULL, deadline INTEGER NOT NULL, caller TEXT NOT NULL, request_mac TEXT NOT NULL,
            signed_at INTEGER NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (chain_id, contract, nonce));
        CREATE INDEX signed_payloads_outflow_window ON signed_payloads (chain_id, asset, outflow, signed_at);
        CREATE INDEX signed_payloads_signed_at ON signed_payloads (signed_at);
        CREATE TABLE nonce_allocator (chain_id INTEGER NOT NULL, contract TEXT NOT NULL, next_nonce TEXT NOT NULL,
            PRIMARY KEY (chain_id, contract));";

    fn target() -> Target {
        Target { chain_id: 56, contract: Address::repeat_byte(0xcc) }
    }

    #[tokio::test]
    async fn a_store_written_before_keeps_its_records_and_nonce_counter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let (digest, signature) = (B256::repeat_byte(7), Signature::test_signature());
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(SQLX_ERA_FILE).unwrap();
            old.execute(
                "INSERT INTO signed_payloads VALUES (56, ?1, ?2, 'register', ?3, ?4, ?5, ?6, 0, 99, 'api', 'mac', 5, '{}')",
                params![
                    address_key(target().contract),
                    u256_key(U256::from(3)),
                    digest.to_string(),
                    alloy::hex::encode_prefixed(signature.as_bytes()),
                    address_key(Address::ZERO),
                    u256_key(U256::from(20)),
                ],
            )
            .unwrap();
            old.execute(
                "INSERT INTO nonce_allocator VALUES (56, ?1, ?2)",
                params![address_key(target().contract), u256_key(U256::from(4))],
            )
            .unwrap();
        }
        let store = Store::open(&path).await.unwrap();
        assert_eq!(
            store.find(target(), U256::from(3)).await.unwrap(),
            Some(SignedRecord { digest, signature, deadline: 99 })
        );
        let mut writer = store.writer().unwrap();
        let mut tx = writer.begin().unwrap();
        assert_eq!(tx.next_nonce(target()).unwrap(), U256::from(4), "the counter goes on where it was");
        // A new contract on the same chain (an upgrade) goes on from there too; another chain does not.
        let successor = Target { contract: Address::repeat_byte(0x5e), ..target() };
        assert_eq!(tx.next_nonce(successor).unwrap(), U256::from(4));
        assert_eq!(tx.next_nonce(Target { chain_id: 97, ..target() }).unwrap(), U256::from(1));
        assert!(tx.find(target(), U256::from(4)).unwrap().is_none());
        drop(tx);
        // Opened again, the schema is not applied twice.
        drop(store);
        let store = Store::open(&path).await.unwrap();
        assert_eq!(store.count_signed().await.unwrap(), 1);
    }

    fn record(nonce: u64) -> NewRecord<'static> {
        NewRecord {
            target: target(),
            nonce: U256::from(nonce),
            kind: Kind::Register,
            digest: B256::repeat_byte(nonce as u8),
            signature: Signature::test_signature(),
            asset: Address::ZERO,
            amount: U256::from(20),
            deadline: 99,
            caller: "api",
            request_mac: "mac",
            signed_at: 5,
            payload: "{}",
            refund_of: None,
            epoch: None,
            root_fall: None,
            catalogue_version: None,
        }
    }

    fn commit(writer: &mut WriterConnection, nonce: u64) {
        let mut tx = writer.begin().unwrap();
        tx.insert_many(&[record(nonce)]).unwrap();
        tx.commit().unwrap();
    }

    fn identity(path: &Path) -> (u64, u64) {
        let meta = std::fs::metadata(path).unwrap();
        (meta.dev(), meta.ino())
    }

    #[tokio::test]
    async fn the_wal_sync_follows_the_wal_file_and_syncs_the_database_file_while_there_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let store = Store::open(&path).await.unwrap();
        let mut wal = store.wal_sync();
        let mut writer = store.writer().unwrap();
        commit(&mut writer, 1);
        wal.sync().unwrap();
        assert_eq!(wal.file.as_ref().unwrap().1, identity(&wal_path(&path)));
        // Another store on the file checkpoints the whole WAL as it opens and empties it: the same file, kept.
        let other = Store::open(&path).await.unwrap();
        assert_eq!(std::fs::metadata(wal_path(&path)).unwrap().len(), 0);
        commit(&mut writer, 2);
        wal.sync().unwrap();
        assert_eq!(wal.file.as_ref().unwrap().1, identity(&wal_path(&path)));

        // Every connection closed: SQLite checkpoints the WAL into the database file and removes it; the database
        // file is synced instead.
        drop((writer, store, other));
        assert!(!wal_path(&path).exists());
        wal.sync().unwrap();
        assert!(wal.file.is_none());
        // Opened again: a new WAL file, which the next sync opens.
        let store = Store::open(&path).await.unwrap();
        let mut writer = store.writer().unwrap();
        commit(&mut writer, 3);
        wal.sync().unwrap();
        assert_eq!(wal.file.as_ref().unwrap().1, identity(&wal_path(&path)));
        assert_eq!(store.count_signed().await.unwrap(), 3);
    }

    #[tokio::test]
    async fn opening_the_store_writes_what_the_wal_holds_into_the_database_file() {
        // Records committed by a writer that never synced (killed between its commit and its sync) are readable;
        // opening the store makes them durable before it serves anything: checkpointed, synced, the WAL emptied.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        drop(Store::open(&path).await.unwrap());
        let unsynced = Connection::open(&path).unwrap();
        unsynced.pragma_update(None, "synchronous", "OFF").unwrap();
        unsynced.execute("INSERT INTO nonce_allocator VALUES (56, 'c', 'n')", []).unwrap();
        assert!(std::fs::metadata(wal_path(&path)).unwrap().len() > 0);
        let store = Store::open(&path).await.unwrap();
        assert_eq!(std::fs::metadata(wal_path(&path)).unwrap().len(), 0, "checkpointed into the database file");
        let rows: i64 =
            store.read(|c| Ok(c.query_row("SELECT COUNT(*) FROM nonce_allocator", [], |r| r.get(0))?)).await.unwrap();
        assert_eq!(rows, 1);
    }

    #[tokio::test]
    async fn a_failed_sync_fails_every_later_one_and_the_health_check() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Arc::new(SyncGate::default());
        let store = Store::open(&dir.path().join("s.sqlite")).await.unwrap().with_sync_gate(gate.clone());
        let mut wal = store.wal_sync();
        wal.sync().unwrap();
        store.ping().await.unwrap();
        gate.fail_next("injected EIO");
        assert!(matches!(wal.sync(), Err(StoreError::SyncFailed(why)) if why == "injected EIO"));
        assert!(
            matches!(wal.sync(), Err(StoreError::SyncFailed(_))),
            "not tried again: its success would prove nothing"
        );
        assert_eq!(gate.passed(), 2);
        assert!(matches!(store.ping().await, Err(StoreError::SyncFailed(_))));
        assert!(matches!(store.wal_sync().sync(), Err(StoreError::SyncFailed(_))));
        assert!(store.sync_failure().is_some());
    }

    #[tokio::test]
    async fn a_nonce_recorded_by_another_writer_is_nonce_taken_and_the_group_records_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).await.unwrap();
        let (mut first, mut second) = (store.writer().unwrap(), store.writer().unwrap());
        let mut tx = first.begin().unwrap();
        tx.insert_many(&[record(1)]).unwrap();
        tx.commit().unwrap();
        let mut tx = second.begin().unwrap();
        assert!(matches!(tx.insert_many(&[record(2), record(1)]), Err(StoreError::NonceTaken)));
        drop(tx);
        assert_eq!(store.count_signed().await.unwrap(), 1, "nonce 2 rolled back with the group");
    }
}
