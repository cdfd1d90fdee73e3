//! The durable double-sign record (SQLite). Thin: the decisions live in `signing`; this module only reads and
//! writes rows inside one serialised write transaction.

use std::{borrow::Cow, path::Path, str::FromStr, time::Duration};

use alloy::primitives::{Address, B256, Signature, U256};
use prometheus_client::metrics::histogram::Histogram;
use sqlx::{
    Row, SqliteConnection,
    migrate::{Migration, MigrationType, Migrator},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};
use sqlx::{SqlStr, Sqlite, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use crate::intent::{Kind, Target};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unreadable row: {0}")]
    Corrupt(String),
    #[error("chain id {0} does not fit the store")]
    ChainIdTooLarge(u64),
    #[error("another writer signed this nonce first")]
    NonceTaken,
    /// The store transaction of a group of requests failed; every request of the group gets it.
    #[error("the group's store transaction failed: {0}")]
    GroupFailed(String),
    /// The writer task is gone (the service is shutting down).
    #[error("the signer's writer stopped")]
    WriterGone,
}

impl StoreError {
    /// The same failure, for each request of a group that shares it.
    pub fn duplicate(&self) -> StoreError {
        StoreError::GroupFailed(self.to_string())
    }
}

fn migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        Cow::Borrowed("signed_payloads"),
        MigrationType::Simple,
        SqlStr::from_static(include_str!("../migrations/0001_signed_payloads.sql")),
        false,
    )])
}

/// The record of every signed nonce; one writer at a time in this process, `BEGIN IMMEDIATE` against others.
#[derive(Debug)]
pub struct Store {
    pool: SqlitePool,
    writer: Mutex<()>,
    /// How long each commit of a signature record took (seconds); shown as `signer_store_commit_seconds`.
    commit_seconds: Histogram,
}

/// A payload already signed for a (chain, contract, nonce).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord {
    pub digest: B256,
    pub signature: Signature,
    pub deadline: u64,
}

/// Everything recorded about one signature.
#[derive(Clone, Debug)]
pub struct NewRecord<'a> {
    pub target: Target,
    pub nonce: U256,
    pub kind: Kind,
    pub digest: B256,
    pub signature: Signature,
    pub asset: Address,
    pub amount: U256,
    pub deadline: u64,
    pub caller: &'a str,
    pub request_mac: &'a str,
    pub signed_at: u64,
    pub payload: &'a serde_json::Value,
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

fn unix_i64(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A signature may only leave once its record is on disk, even across a power cut.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        migrator().run(&pool).await?;
        Ok(Store { pool, writer: Mutex::new(()), commit_seconds: crate::metrics::Metrics::commit_histogram() })
    }

    /// Starts the one write transaction allowed at a time; everything that decides a signature happens inside it.
    pub async fn begin_write(&self) -> Result<WriteTx<'_>, StoreError> {
        let guard = self.writer.lock().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { _guard: guard, tx, commit_seconds: &self.commit_seconds })
    }

    /// The commit times this store records, for the metrics registry.
    pub fn commit_histogram(&self) -> Histogram {
        self.commit_seconds.clone()
    }

    /// Number of signatures ever recorded.
    pub async fn count_signed(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signed_payloads").fetch_one(&self.pool).await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Request MACs of signatures made at or after `since`, to refuse replays of them after a restart.
    pub async fn request_macs_since(&self, since: u64) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query("SELECT request_mac, signed_at FROM signed_payloads WHERE signed_at >= ?")
            .bind(unix_i64(since))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, u64::try_from(r.try_get::<i64, _>(1)?).unwrap_or_default())))
            .collect()
    }

    /// Outflows of `asset` on `chain_id` signed at or after `since`, as (signed_at, amount), oldest first. Read
    /// outside the write lock: a view for the policy endpoint, not a decision.
    pub async fn outflows_since(
        &self,
        chain_id: u64,
        asset: Address,
        since: u64,
    ) -> Result<Vec<(u64, U256)>, StoreError> {
        let rows = sqlx::query(
            "SELECT signed_at, amount FROM signed_payloads
             WHERE chain_id = ? AND asset = ? AND outflow = 1 AND signed_at >= ? ORDER BY signed_at",
        )
        .bind(chain_key(chain_id)?)
        .bind(address_key(asset))
        .bind(unix_i64(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let at = u64::try_from(r.try_get::<i64, _>(0)?).unwrap_or_default();
                Ok((at, parse_u256_key(&r.try_get::<String, _>(1)?)?))
            })
            .collect()
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The serialised write transaction: holds the in-process writer lock and SQLite's write lock until dropped.
#[derive(Debug)]
pub struct WriteTx<'a> {
    _guard: MutexGuard<'a, ()>,
    tx: Transaction<'static, Sqlite>,
    commit_seconds: &'a Histogram,
}

impl WriteTx<'_> {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    /// The counter of `target`: the next nonce to hand out when an intent names none (1 when none was handed out).
    pub async fn next_nonce(&mut self, target: Target) -> Result<U256, StoreError> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT next_nonce FROM nonce_allocator WHERE chain_id = ? AND contract = ?")
                .bind(chain_key(target.chain_id)?)
                .bind(address_key(target.contract))
                .fetch_optional(self.conn())
                .await?;
        stored.map_or(Ok(U256::from(1)), |s| parse_u256_key(&s))
    }

    /// Moves the counter of `target` to `next`; never backwards.
    pub async fn advance_nonce(&mut self, target: Target, next: U256) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nonce_allocator (chain_id, contract, next_nonce) VALUES (?, ?, ?)
             ON CONFLICT (chain_id, contract) DO UPDATE SET next_nonce = max(next_nonce, excluded.next_nonce)",
        )
        .bind(chain_key(target.chain_id)?)
        .bind(address_key(target.contract))
        .bind(u256_key(next))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The first `limit` nonces of `target` at or above `from` that hold a record, ascending (nonces callers
    /// chose themselves, which the counter skips).
    pub async fn used_nonces_from(&mut self, target: Target, from: U256, limit: u32) -> Result<Vec<U256>, StoreError> {
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT nonce FROM signed_payloads WHERE chain_id = ? AND contract = ? AND nonce >= ? ORDER BY nonce LIMIT ?",
        )
        .bind(chain_key(target.chain_id)?)
        .bind(address_key(target.contract))
        .bind(u256_key(from))
        .bind(limit)
        .fetch_all(self.conn())
        .await?;
        keys.iter().map(|k| parse_u256_key(k)).collect()
    }

    /// What was signed for this nonce, if anything.
    pub async fn find(&mut self, target: Target, nonce: U256) -> Result<Option<SignedRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT digest, signature, deadline FROM signed_payloads WHERE chain_id = ? AND contract = ? AND nonce = ?",
        )
        .bind(chain_key(target.chain_id)?)
        .bind(address_key(target.contract))
        .bind(u256_key(nonce))
        .fetch_optional(self.conn())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let digest: String = row.try_get(0)?;
        let signature: String = row.try_get(1)?;
        let deadline: i64 = row.try_get(2)?;
        Ok(Some(SignedRecord {
            digest: B256::from_str(&digest).map_err(|e| StoreError::Corrupt(format!("digest: {e}")))?,
            signature: Signature::from_str(&signature).map_err(|e| StoreError::Corrupt(format!("signature: {e}")))?,
            deadline: u64::try_from(deadline).unwrap_or_default(),
        }))
    }

    /// Sum of outflows of `asset` on `chain_id` signed at or after `since`.
    pub async fn outflow_since(&mut self, chain_id: u64, asset: Address, since: u64) -> Result<U256, StoreError> {
        let amounts: Vec<String> = sqlx::query_scalar(
            "SELECT amount FROM signed_payloads WHERE chain_id = ? AND asset = ? AND outflow = 1 AND signed_at >= ?",
        )
        .bind(chain_key(chain_id)?)
        .bind(address_key(asset))
        .bind(unix_i64(since))
        .fetch_all(self.conn())
        .await?;
        amounts.iter().try_fold(U256::ZERO, |sum, a| Ok(sum.saturating_add(parse_u256_key(a)?)))
    }

    /// Records `records` in one statement. A nonce already recorded fails the whole statement with `NonceTaken`.
    pub async fn insert_many(&mut self, records: &[NewRecord<'_>]) -> Result<(), StoreError> {
        // 14 parameters a row; SQLite allows 32 766 in one statement.
        for chunk in records.chunks(2_000) {
            let mut query = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO signed_payloads (chain_id, contract, nonce, kind, digest, signature, asset, amount, outflow,
                                              deadline, caller, request_mac, signed_at, payload) ",
            );
            let mut rows = Vec::with_capacity(chunk.len());
            for record in chunk {
                rows.push((chain_key(record.target.chain_id)?, record));
            }
            query.push_values(rows, |mut row, (chain_id, record)| {
                row.push_bind(chain_id)
                    .push_bind(address_key(record.target.contract))
                    .push_bind(u256_key(record.nonce))
                    .push_bind(record.kind.as_str())
                    .push_bind(record.digest.to_string())
                    .push_bind(alloy::hex::encode_prefixed(record.signature.as_bytes()))
                    .push_bind(address_key(record.asset))
                    .push_bind(u256_key(record.amount))
                    .push_bind(record.kind.is_outflow())
                    .push_bind(unix_i64(record.deadline))
                    .push_bind(record.caller.to_owned())
                    .push_bind(record.request_mac.to_owned())
                    .push_bind(unix_i64(record.signed_at))
                    .push_bind(record.payload.to_string());
            });
            match query.build().execute(self.conn()).await {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(StoreError::NonceTaken),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Makes the record durable; only then may the signature be returned.
    pub async fn commit(self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.tx.commit().await?;
        self.commit_seconds.observe(started.elapsed().as_secs_f64());
        Ok(())
    }
}
