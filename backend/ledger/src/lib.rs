//! The reward ledger: the pure plan engine of PLAN.md ([`plan`]), the chain events it consumes ([`events`]),
//! the Postgres schema of every service ([`db`] migrates it) and the writes that apply confirmed events.
//!
//! A [`ChainLedger`] owns the [`PlanEngine`] of every asset of one chain, loaded from the
//! database when opened. [`ChainLedger::apply_block`] applies a run of events in chain order
//! (one event, one block, or several blocks when catching up) in one database transaction that
//! stores the raw events, every ledger row they caused and the chain's sync cursor together. An event already stored (same chain, tx hash
//! and log index) is skipped, so re-application changes nothing; an event the plan refuses
//! (or whose token is no asset) is stored with outcome `quarantined`, a quarantine row and an
//! alert, and changes no ledger row.
//!
//! The engine is kept in step with the database: each transaction locks the chain's cursor row
//! and the asset rows `FOR UPDATE`, then compares their counters with the engine's. An
//! admin action (which bumps `admin_seq`, see [`admin`]) makes the ledger re-read the frozen
//! flags, plan versions and company-credit counter; any other difference (events applied by
//! another process, or a failed transaction here) makes it reload the engine entirely.
//!
//! Admin actions are not chain events; each audit row records the ledger position
//! (`applied_events`) it took effect at, so a replay from the raw events can interleave them.

#![warn(missing_docs)]

pub mod db;
pub mod events;
pub mod plan;
#[cfg(feature = "test-utils")]
pub mod synthetic;

pub mod admin;
pub mod audit;
pub mod disclosure;
pub mod eligibility;
mod load;
pub mod money;
mod outflows;
pub mod paid;
pub mod payments;
pub mod payouts;
mod settlement;
pub mod treasury;
mod write;

use alloy::primitives::{Address, B256};
use sqlx::{AssertSqlSafe, PgPool, Row};

use crate::events::{ChainEvent, EventKey};
use crate::plan::{ConservationError, InvalidPlan, InvalidVersion, PlanEngine, PlanParams};

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

/// An asset to create: one currency on one chain, with its genesis user and first plan.
#[derive(Debug, Clone)]
pub struct AssetSpec {
    /// Ledger id of the asset, chosen by the operator.
    pub id: i32,
    /// Chain whose Settlement contract holds this asset.
    pub chain_id: u64,
    /// Zero address for the chain's native coin.
    pub token: Address,
    /// Display symbol, e.g. `BNB`, `USDT`.
    pub symbol: String,
    /// Decimals of the base unit (18 for BNB, 6 for TRON USDT), for display only.
    pub decimals: u8,
    /// The operator's root wallet: user 0, active without paying, sponsor of the first users.
    pub genesis: Address,
    /// Plan version 1, in force from block 0.
    pub params: PlanParams,
}

/// Creates an asset with plan version 1 from block 0 and its active genesis user.
pub async fn create_asset(pool: &PgPool, spec: &AssetSpec) -> Result<(), LedgerError> {
    spec.params.validate()?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO assets (id, chain_id, token, symbol, decimals, genesis)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(spec.id)
    .bind(spec.chain_id as i64)
    .bind(spec.token.as_slice())
    .bind(&spec.symbol)
    .bind(i16::from(spec.decimals))
    .bind(spec.genesis.as_slice())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO plan_versions (asset_id, version, effective_from_block, params)
         VALUES ($1, 1, 0, $2)",
    )
    .bind(spec.id)
    .bind(sqlx::types::Json(&spec.params))
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO users (asset_id, user_no, address) VALUES ($1, 0, $2)")
        .bind(spec.id)
        .bind(spec.genesis.as_slice())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO user_balances (asset_id, user_no) VALUES ($1, 0)").bind(spec.id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A confirmed block the listener has applied through: number and hash (the next block must link to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCursor {
    /// Height of the last block applied in full.
    pub number: u64,
    /// Block hash; a next block whose parent differs reveals a reorg.
    pub hash: B256,
}

/// How many recent applied-block hashes are kept per chain.
const RECENT_BLOCKS_KEPT: i64 = 256;

/// What a call to [`ChainLedger::apply_block`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApplySummary {
    /// Events that changed the ledger.
    pub applied: usize,
    /// Events stored as quarantined (refused by the plan, or of no asset); ledger unchanged.
    pub quarantined: usize,
    /// Events already stored by an earlier call; skipped.
    pub duplicates: usize,
}

/// One asset's engine and the counters it was loaded at.
#[derive(Debug)]
pub(crate) struct AssetBook {
    pub(crate) id: i32,
    pub(crate) token: Address,
    pub(crate) engine: PlanEngine,
    pub(crate) admin_seq: i64,
    /// The newest `audit_logs` id of this asset the engine reflects (to notice manual placements).
    pub(crate) audit_seen: i64,
}

/// The ledger of one chain; see the module documentation.
#[derive(Debug)]
pub struct ChainLedger {
    pool: PgPool,
    chain_id: u64,
    assets: Vec<AssetBook>,
    /// Set when the engines may be ahead of the database (a failed transaction).
    stale: bool,
}

impl ChainLedger {
    /// Loads the engines of every asset of `chain_id`.
    pub async fn open(pool: PgPool, chain_id: u64) -> Result<Self, LedgerError> {
        let mut ledger = Self { pool, chain_id, assets: Vec::new(), stale: true };
        let mut tx = ledger.pool.begin().await?;
        ledger.assets = load::chain_assets(&mut tx, chain_id).await?;
        tx.commit().await?;
        ledger.stale = false;
        Ok(ledger)
    }

    /// The chain whose events this ledger applies.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The database the ledger writes to, for readers sharing its connections.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The engine of asset `id`, as of the last applied batch.
    pub fn engine(&self, asset_id: i32) -> Option<&PlanEngine> {
        self.assets.iter().find(|a| a.id == asset_id).map(|a| &a.engine)
    }

    /// Applies confirmed events, in chain order, in one database transaction.
    #[tracing::instrument(skip_all, fields(chain_id = self.chain_id, events = events.len()))]
    pub async fn apply_block(&mut self, events: &[ChainEvent]) -> Result<ApplySummary, LedgerError> {
        self.check_batch(events)?;
        if events.is_empty() {
            return Ok(ApplySummary::default());
        }
        self.apply_checked(events, None).await
    }

    /// Applies the events of confirmed blocks up to and including `through` (whose block time is
    /// `through_timestamp`), and moves the listener's block cursor there, in one transaction; `events` may be
    /// empty (blocks without contract logs). Signed treasury transfers whose deadline is below that time expire.
    #[tracing::instrument(skip_all, fields(chain_id = self.chain_id, through = through.number, events = events.len()))]
    pub async fn apply_confirmed(
        &mut self,
        events: &[ChainEvent],
        through: BlockCursor,
        through_timestamp: u64,
    ) -> Result<ApplySummary, LedgerError> {
        if let Some(e) = events.iter().find(|e| e.block_number > through.number) {
            return Err(LedgerError::OutOfOrder { position: e.position(), cursor: Some((through.number, u64::MAX)) });
        }
        self.check_batch(events)?;
        self.apply_checked(events, Some((through, through_timestamp))).await
    }

    /// Records confirmed events found below the listener's cursor that the ledger never stored (a replay found
    /// them): each is stored as `quarantined` with a `missed_event` quarantine row and an alert, and nothing else
    /// changes — applying them now would break chain order, so the ledger has diverged and needs a person.
    /// Returns the keys newly recorded (events already stored are left as they are).
    pub async fn record_missed(&mut self, events: &[ChainEvent]) -> Result<Vec<EventKey>, LedgerError> {
        self.check_batch(events)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO blockchain_sync AS s (chain_id) VALUES ($1)
             ON CONFLICT (chain_id) DO UPDATE SET chain_id = s.chain_id",
        )
        .bind(self.chain_id as i64)
        .execute(&mut *tx)
        .await?;
        let new = write::insert_raw_events(&mut tx, self.chain_id, events).await?;
        let mut rows = write::Rows::new(self.chain_id);
        let mut recorded = Vec::new();
        for e in events.iter().filter(|e| new.contains(&(e.key.tx_hash, e.key.log_index))) {
            let asset = self.assets.iter().find(|a| a.token == e.body.token()).map(|a| a.id);
            let reason = format!(
                "{} at block {} log {} is on the chain below the listener's cursor but was never applied: the ledger \
                 has diverged from the chain and must be rebuilt by a replay",
                e.body.name(),
                e.block_number,
                e.key.log_index
            );
            rows.quarantine(e, asset, "missed_event", &reason);
            recorded.push(e.key);
        }
        rows.flush(&mut tx, &self.assets).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// The listener's cursor and halt reason on this chain.
    pub async fn listener_state(&self) -> Result<(Option<BlockCursor>, Option<String>), LedgerError> {
        type ListenerRow = (Option<i64>, Option<Vec<u8>>, Option<String>);
        let row: Option<ListenerRow> = sqlx::query_as(
            "SELECT listener_block, listener_block_hash, halted_reason FROM blockchain_sync WHERE chain_id = $1",
        )
        .bind(self.chain_id as i64)
        .fetch_optional(&self.pool)
        .await?;
        let Some((block, hash, halted)) = row else { return Ok((None, None)) };
        let cursor = block.zip(hash).map(|(n, h)| BlockCursor { number: n as u64, hash: B256::from_slice(&h) });
        Ok((cursor, halted))
    }

    /// Records that the listener stopped itself on this chain (a deep reorg); it stays stopped until cleared.
    pub async fn halt_listener(&self, reason: &str) -> Result<(), LedgerError> {
        // The halt and its critical alert in one transaction (the reconciler pages on the halt too); a listener
        // restarted while halted does not add another alert.
        let mut tx = self.pool.begin().await?;
        let previous: Option<Option<String>> =
            sqlx::query_scalar("SELECT halted_reason FROM blockchain_sync WHERE chain_id = $1 FOR UPDATE")
                .bind(self.chain_id as i64)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO blockchain_sync AS s (chain_id, halted_reason) VALUES ($1, $2)
             ON CONFLICT (chain_id) DO UPDATE SET halted_reason = $2, updated_at = now()",
        )
        .bind(self.chain_id as i64)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        if previous.flatten().as_deref() != Some(reason) {
            sqlx::query(
                "INSERT INTO alerts (kind, message, details)
                 VALUES ('listener_halted', $1, jsonb_build_object('chain_id', $2::int8, 'severity', 'critical'))",
            )
            .bind(reason)
            .bind(self.chain_id as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The chain head the listener last saw and the confirmation depth it applies blocks at (for the
    /// [`confirmed_lag`] the API, the listener's metrics and the reconciler report).
    pub async fn record_chain_head(&self, head: u64, confirmations: u64) -> Result<(), LedgerError> {
        sqlx::query(
            "INSERT INTO blockchain_sync AS s (chain_id, chain_head, confirmations, chain_head_seen_at)
             VALUES ($1, $2, $3, now())
             ON CONFLICT (chain_id) DO UPDATE SET chain_head = $2, confirmations = $3, chain_head_seen_at = now()",
        )
        .bind(self.chain_id as i64)
        .bind(head as i64)
        .bind(confirmations as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    fn check_batch(&self, events: &[ChainEvent]) -> Result<(), LedgerError> {
        for e in events {
            if e.key.chain_id != self.chain_id {
                return Err(LedgerError::WrongChain { expected: self.chain_id, got: e.key.chain_id });
            }
        }
        for w in events.windows(2) {
            if w[1].position() <= w[0].position() {
                return Err(LedgerError::OutOfOrder { position: w[1].position(), cursor: Some(w[0].position()) });
            }
        }
        Ok(())
    }

    async fn apply_checked(
        &mut self,
        events: &[ChainEvent],
        through: Option<(BlockCursor, u64)>,
    ) -> Result<ApplySummary, LedgerError> {
        let result = self.apply_in_transaction(events, through).await;
        if result.is_err() {
            // The engines may hold changes the database rolled back.
            self.stale = true;
        }
        result
    }

    async fn apply_in_transaction(
        &mut self,
        events: &[ChainEvent],
        through: Option<(BlockCursor, u64)>,
    ) -> Result<ApplySummary, LedgerError> {
        let mut tx = self.pool.begin().await?;
        // Lock the chain's cursor row (creating it if needed) and read the cursor, in one
        // statement: the upsert waits for any other transaction on this chain.
        let cursor: (Option<i64>, Option<i64>) = sqlx::query_as(
            "INSERT INTO blockchain_sync AS s (chain_id) VALUES ($1)
             ON CONFLICT (chain_id) DO UPDATE SET chain_id = s.chain_id
             RETURNING last_block, last_log_index",
        )
        .bind(self.chain_id as i64)
        .fetch_one(&mut *tx)
        .await?;
        let cursor = cursor.0.zip(cursor.1).map(|(b, l)| (b as u64, l as u64));
        self.sync_engines(&mut tx).await?;

        let new = write::insert_raw_events(&mut tx, self.chain_id, events).await?;
        let mut summary = ApplySummary::default();
        let mut rows = write::Rows::new(self.chain_id);
        let mut last = None;
        for e in events {
            if !new.contains(&(e.key.tx_hash, e.key.log_index)) {
                summary.duplicates += 1;
                continue;
            }
            if cursor.is_some_and(|c| e.position() <= c) {
                return Err(LedgerError::OutOfOrder { position: e.position(), cursor });
            }
            last = Some(e.position());
            let Some(asset) = self.assets.iter_mut().position(|a| a.token == e.body.token()) else {
                rows.quarantine(e, None, "unknown_asset", "no asset for this token on this chain");
                summary.quarantined += 1;
                continue;
            };
            let book = &mut self.assets[asset];
            if let Some(applied) = outflows::apply(&mut tx, self.chain_id, book.id, e).await? {
                match applied {
                    Ok(()) => summary.applied += 1,
                    Err((code, reason)) => {
                        rows.quarantine(e, Some(book.id), code, &reason);
                        summary.quarantined += 1;
                    }
                }
                continue;
            }
            let Some(plan_event) = e.body.plan_event() else {
                match settlement::apply_settlement(&mut tx, self.chain_id, e.block_number, &e.body).await? {
                    Ok(()) => summary.applied += 1,
                    Err((code, reason)) => {
                        rows.quarantine(e, Some(book.id), code, &reason);
                        summary.quarantined += 1;
                    }
                }
                continue;
            };
            match book.engine.apply(e.block_number, &plan_event) {
                Ok(outcome) => {
                    outcome.check_conservation()?;
                    rows.applied(asset, book.id, e, &outcome);
                    summary.applied += 1;
                }
                Err(rejection) => {
                    rows.quarantine(e, Some(book.id), rejection.code(), &rejection.to_string());
                    summary.quarantined += 1;
                }
            }
        }
        rows.flush(&mut tx, &self.assets).await?;
        if let Some((block, log_index)) = last {
            sqlx::query(
                "UPDATE blockchain_sync SET last_block = $2, last_log_index = $3, updated_at = now()
                 WHERE chain_id = $1",
            )
            .bind(self.chain_id as i64)
            .bind(block as i64)
            .bind(log_index as i64)
            .execute(&mut *tx)
            .await?;
        }
        let passed = events.iter().map(|e| e.block_timestamp).chain(through.map(|t| t.1)).max();
        if let Some(timestamp) = passed {
            outflows::expire_treasury_transfers(&mut tx, self.chain_id, timestamp).await?;
        }
        if let Some((through, _)) = through {
            write_block_cursor(&mut tx, self.chain_id, through).await?;
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Brings the engines in line with the locked asset rows (see the module documentation).
    async fn sync_engines(&mut self, tx: &mut sqlx::Transaction<'static, sqlx::Postgres>) -> Result<(), LedgerError> {
        let rows =
            sqlx::query("SELECT id, applied_events, admin_seq FROM assets WHERE chain_id = $1 ORDER BY id FOR UPDATE")
                .bind(self.chain_id as i64)
                .fetch_all(&mut **tx)
                .await?;
        let in_step = !self.stale
            && rows.len() == self.assets.len()
            && rows.iter().zip(&self.assets).all(|(r, a)| {
                r.get::<i32, _>(0) == a.id && r.get::<i64, _>(1) as u64 == a.engine.counters().applied_events
            });
        if !in_step {
            self.assets = load::chain_assets(tx, self.chain_id).await?;
            self.stale = false;
            return Ok(());
        }
        for (r, book) in rows.iter().zip(self.assets.iter_mut()) {
            let admin_seq: i64 = r.get(2);
            if admin_seq == book.admin_seq {
                continue;
            }
            // Freezes, plan versions and forfeits only change what `refresh_admin_state` re-reads; a manual
            // placement changes pools, reserves and counters, so the whole engine is reloaded after one.
            let placed: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM audit_logs WHERE asset_id = $1 AND action = 'manual_placement'
                                   AND id > $2)",
            )
            .bind(book.id)
            .bind(book.audit_seen)
            .fetch_one(&mut **tx)
            .await?;
            if placed {
                self.assets = load::chain_assets(tx, self.chain_id).await?;
                return Ok(());
            }
            load::refresh_admin_state(tx, book).await?;
        }
        Ok(())
    }
}

/// One chain's listener position, as the API and the listener's metrics report it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListenerStatus {
    /// Chain the listener follows.
    pub chain_id: u64,
    /// The last confirmed block applied in full.
    pub confirmed_block: Option<u64>,
    /// The chain head the listener last saw.
    pub chain_head: Option<u64>,
    /// The confirmation depth the listener applies blocks at.
    pub confirmations: Option<u64>,
    /// Confirmed blocks not yet applied ([`confirmed_lag`]); 0 when the listener is caught up.
    pub lag_blocks: Option<u64>,
    /// Seconds since the listener last saw the head (a stalled listener or provider shows here).
    pub head_age_seconds: Option<f64>,
    /// Set when the listener stopped itself; it stays stopped until a person clears it.
    pub halted_reason: Option<String>,
}

/// The one meaning of listener lag: blocks deep enough to apply (`head − confirmations`) that the ledger has not
/// applied yet. 0 when caught up; it grows with every block mined while the listener stands still.
pub fn confirmed_lag(head: u64, confirmations: u64, applied_through: u64) -> u64 {
    head.saturating_sub(confirmations).saturating_sub(applied_through)
}

/// The listener position of every chain the ledger has assets on or a listener has written, by chain id.
pub async fn listener_statuses(pool: &PgPool) -> Result<Vec<ListenerStatus>, sqlx::Error> {
    type Row = (i64, Option<i64>, Option<i64>, Option<i64>, Option<f64>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.chain_id, s.listener_block, s.chain_head, s.confirmations,
                extract(epoch FROM now() - s.chain_head_seen_at)::float8, s.halted_reason
         FROM (SELECT chain_id FROM assets UNION SELECT chain_id FROM blockchain_sync) c
         LEFT JOIN blockchain_sync s ON s.chain_id = c.chain_id
         ORDER BY c.chain_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(chain_id, block, head, confirmations, age, halted_reason)| {
            let confirmed_block = block.map(|b| b as u64);
            let chain_head = head.map(|h| h as u64);
            let confirmations = confirmations.map(|c| c as u64);
            ListenerStatus {
                chain_id: chain_id as u64,
                confirmed_block,
                chain_head,
                confirmations,
                lag_blocks: chain_head
                    .map(|h| confirmed_lag(h, confirmations.unwrap_or(0), confirmed_block.unwrap_or(0))),
                head_age_seconds: age.map(|a| a.max(0.0)),
                halted_reason,
            }
        })
        .collect())
}

/// Moves the listener's block cursor forward to `through` (never back) and remembers its hash.
async fn write_block_cursor(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    chain_id: u64,
    through: BlockCursor,
) -> Result<(), LedgerError> {
    let moved = sqlx::query(
        "UPDATE blockchain_sync SET listener_block = $2, listener_block_hash = $3, updated_at = now()
         WHERE chain_id = $1 AND (listener_block IS NULL OR listener_block < $2)",
    )
    .bind(chain_id as i64)
    .bind(through.number as i64)
    .bind(through.hash.as_slice())
    .execute(&mut **tx)
    .await?;
    if moved.rows_affected() != 1 {
        return Err(LedgerError::OutOfOrder { position: (through.number, 0), cursor: None });
    }
    sqlx::query("INSERT INTO listener_blocks (chain_id, block_number, block_hash) VALUES ($1, $2, $3)")
        .bind(chain_id as i64)
        .bind(through.number as i64)
        .bind(through.hash.as_slice())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "DELETE FROM listener_blocks WHERE chain_id = $1 AND block_number < (
             SELECT min(block_number) FROM (SELECT block_number FROM listener_blocks WHERE chain_id = $1
                                            ORDER BY block_number DESC LIMIT $2) newest)",
    )
    .bind(chain_id as i64)
    .bind(RECENT_BLOCKS_KEPT)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// SHA-256 over every ledger row (surrogate ids and wall-clock times left out), in key
/// order: two ledgers built from the same events and admin actions have the same digest.
pub async fn digest(pool: &PgPool) -> Result<String, sqlx::Error> {
    const TABLES: &[(&str, &str, &str)] = &[
        (
            "assets",
            "id, chain_id, token, symbol, decimals, genesis, applied_events, last_block, admin_seq, company_total",
            "id",
        ),
        ("plan_versions", "asset_id, version, effective_from_block, params", "asset_id, version"),
        ("users", "*", "asset_id, user_no"),
        ("user_balances", "*", "asset_id, user_no"),
        ("user_reserves", "*", "asset_id, user_no, level"),
        ("pools", "*", "asset_id, level"),
        ("pool_nodes", "*", "asset_id, level, q"),
        ("placements", "*", "asset_id, placement_no"),
        ("rewards", "*", "asset_id, reward_no"),
        ("reserve_movements", "*", "asset_id, movement_no"),
        ("company_credits", "*", "asset_id, credit_no"),
        ("ledger_events", "*", "asset_id, event_seq"),
        ("retopups", "*", "asset_id, retopup_no"),
        ("chain_events", "*", "chain_id, block_number, log_index"),
        ("blockchain_sync", "chain_id, last_block, last_log_index", "chain_id"),
        (
            "quarantine",
            "chain_id, tx_hash, log_index, asset_id, reason_code, reason, payload",
            "chain_id, tx_hash, log_index",
        ),
        ("alerts", "kind, message, details", "id"),
        ("audit_logs", "actor, action, asset_id, target, before, after, applied_events", "id"),
    ];
    let mut parts = Vec::with_capacity(TABLES.len());
    for (table, columns, order) in TABLES {
        let row = if *columns == "*" { format!("{table}::text") } else { format!("ROW({columns})::text") };
        let sql = format!(
            "SELECT encode(sha256(convert_to(coalesce(string_agg(x, E'\\n' ORDER BY {order}), ''), 'UTF8')), 'hex')
             FROM (SELECT {row} AS x, {order} FROM {table}) s"
        );
        // Built from the constant table list above.
        let h: String = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(pool).await?;
        parts.push(format!("{table}:{h}"));
    }
    Ok(parts.join("\n"))
}
