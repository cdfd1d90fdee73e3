//! The apply path: a [`ChainLedger`] owns the plan engine of every asset of one chain and applies runs of
//! confirmed events in one database transaction each (see the crate documentation).

use alloy::primitives::B256;
use sqlx::PgPool;

use crate::error::LedgerError;
use crate::events::{ChainEvent, EventKey};
use crate::load::{self, AssetBook};
use crate::plan::generation::GenerationEngine;
use crate::plan::room::At;
use crate::plan::{PlanEngine, RewardPlan};
use crate::sync::{BlockCursor, write_block_cursor};
use crate::{outflows, settlement, stored, write};

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

    /// The plan of asset `id`, as of the last applied batch.
    pub fn plan(&self, asset_id: i32) -> Option<&dyn RewardPlan> {
        self.assets.iter().find(|a| a.id == asset_id).map(|a| a.plan.plan())
    }

    /// The engine of asset `id` if its plan's engine is an `E`, as of the last applied batch; `None` for another
    /// plan. For code that knows which plan it asks for (the tests, a plan's own reads).
    pub fn plan_engine<E: 'static>(&self, asset_id: i32) -> Option<&E> {
        self.assets.iter().find(|a| a.id == asset_id)?.plan.engine_any().downcast_ref()
    }

    /// The auto-pool engine of asset `id` (PLAN.md), as of the last applied batch; `None` for another plan.
    pub fn engine(&self, asset_id: i32) -> Option<&PlanEngine> {
        self.plan_engine(asset_id)
    }

    /// The generation engine of asset `id` (PLAN-GENERATION.md), as of the last applied batch.
    pub fn generation(&self, asset_id: i32) -> Option<&GenerationEngine> {
        self.plan_engine(asset_id)
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
        sqlx::query!(
            "INSERT INTO blockchain_sync AS s (chain_id) VALUES ($1)
             ON CONFLICT (chain_id) DO UPDATE SET chain_id = s.chain_id",
            self.chain_id as i64
        )
        .execute(&mut *tx)
        .await?;
        let known = write::known_events(&mut tx, self.chain_id, events).await?;
        let mut rows = write::Rows::new(self.chain_id);
        let mut recorded = Vec::new();
        for e in events.iter().filter(|e| !known.contains(&(e.key.tx_hash, e.key.log_index))) {
            rows.event(e);
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
        rows.flush(&mut tx, &mut self.assets).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// The listener's cursor and halt reason on this chain.
    pub async fn listener_state(&self) -> Result<(Option<BlockCursor>, Option<String>), LedgerError> {
        let row = sqlx::query!(
            "SELECT listener_block, listener_block_hash, halted_reason FROM blockchain_sync WHERE chain_id = $1",
            self.chain_id as i64
        )
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok((None, None)) };
        let (block, hash, halted) = (row.listener_block, row.listener_block_hash, row.halted_reason);
        let cursor = block.zip(hash).map(|(n, h)| BlockCursor { number: n as u64, hash: B256::from_slice(&h) });
        Ok((cursor, halted))
    }

    /// Records that the listener stopped itself on this chain (a deep reorg); it stays stopped until cleared.
    pub async fn halt_listener(&self, reason: &str) -> Result<(), LedgerError> {
        // The halt and its critical alert in one transaction (the reconciler pages on the halt too); a listener
        // restarted while halted does not add another alert.
        let mut tx = self.pool.begin().await?;
        let previous = sqlx::query_scalar!(
            "SELECT halted_reason FROM blockchain_sync WHERE chain_id = $1 FOR UPDATE",
            self.chain_id as i64
        )
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO blockchain_sync AS s (chain_id, halted_reason) VALUES ($1, $2)
             ON CONFLICT (chain_id) DO UPDATE SET halted_reason = $2, updated_at = now()",
            self.chain_id as i64,
            reason
        )
        .execute(&mut *tx)
        .await?;
        if previous.flatten().as_deref() != Some(reason) {
            sqlx::query!(
                "INSERT INTO alerts (kind, message, details)
                 VALUES ('listener_halted', $1, jsonb_build_object('chain_id', $2::int8, 'severity', 'critical'))",
                reason,
                self.chain_id as i64
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The chain head the listener last saw and the confirmation depth it applies blocks at (for the
    /// [`confirmed_lag`] the API, the listener's metrics and the reconciler report).
    pub async fn record_chain_head(&self, head: u64, confirmations: u64) -> Result<(), LedgerError> {
        sqlx::query!(
            "INSERT INTO blockchain_sync AS s (chain_id, chain_head, confirmations, chain_head_seen_at)
             VALUES ($1, $2, $3, now())
             ON CONFLICT (chain_id) DO UPDATE SET chain_head = $2, confirmations = $3, chain_head_seen_at = now()",
            self.chain_id as i64,
            head as i64,
            confirmations as i64
        )
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
        let mut result = self.apply_in_transaction(events, through, false).await;
        if result.as_ref().is_err_and(stored_past_cursors) {
            // An event was stored past the cursors (no path of the ledger stores one): the batch is applied again,
            // every event looked up, from engines reloaded (they hold the rolled-back changes).
            self.stale = true;
            result = self.apply_in_transaction(events, through, true).await;
        }
        if result.is_err() {
            // The engines may hold changes the database rolled back.
            self.stale = true;
        }
        result
    }

    /// `look_up_all`: look every event up among the stored ones, not only those at or below the cursors.
    async fn apply_in_transaction(
        &mut self,
        events: &[ChainEvent],
        through: Option<(BlockCursor, u64)>,
        look_up_all: bool,
    ) -> Result<ApplySummary, LedgerError> {
        let mut tx = self.pool.begin().await?;
        // Lock the chain's cursor row (creating it if needed) and read the cursor, in one
        // statement: the upsert waits for any other transaction on this chain.
        let sync = sqlx::query!(
            "INSERT INTO blockchain_sync AS s (chain_id) VALUES ($1)
             ON CONFLICT (chain_id) DO UPDATE SET chain_id = s.chain_id
             RETURNING last_block, last_log_index, listener_block",
            self.chain_id as i64
        )
        .fetch_one(&mut *tx)
        .await?;
        let cursor = sync.last_block.zip(sync.last_log_index).map(|(b, l)| (b as u64, l as u64));
        self.sync_engines(&mut tx).await?;

        // Only an event at or below the last applied event's block or the listener's block cursor can be stored
        // already: every batch stores its events up to the cursors it moves, and a missed event is recorded below
        // the listener's. Events come in chain order, so those are a prefix, looked up (none on the listener's
        // usual path). A stored event past both fails the batch at its insert, which is then applied again with
        // every event looked up (`apply_checked`): never applied twice.
        let seen = sync.last_block.max(sync.listener_block).map(|b| b as u64);
        let stored_before = if look_up_all {
            events.len()
        } else {
            events.partition_point(|e| seen.is_some_and(|b| e.block_number <= b))
        };
        let known = write::known_events(&mut tx, self.chain_id, &events[..stored_before]).await?;
        let mut summary = ApplySummary::default();
        let mut rows = write::Rows::new(self.chain_id);
        let mut last = None;
        for e in events {
            if known.contains(&(e.key.tx_hash, e.key.log_index)) {
                summary.duplicates += 1;
                continue;
            }
            if cursor.is_some_and(|c| e.position() <= c) {
                return Err(LedgerError::OutOfOrder { position: e.position(), cursor });
            }
            if matches!(e.body, crate::events::EventBody::MemberLeft { .. }) {
                // A leave settles the member's rewards in the database: the periods that ended before its block
                // close first, and every row gathered so far is written before it.
                rows.close_periods(&mut self.assets, At { block: e.block_number, timestamp: e.block_timestamp });
                std::mem::replace(&mut rows, write::Rows::new(self.chain_id)).flush(&mut tx, &mut self.assets).await?;
            }
            last = Some(e.position());
            rows.event(e);
            // Every period that ended before this block closes first (PLAN-GENERATION.md §3).
            rows.close_periods(&mut self.assets, At { block: e.block_number, timestamp: e.block_timestamp });
            let Some(asset) = self.assets.iter_mut().position(|a| a.token == e.body.token()) else {
                rows.quarantine(e, None, "unknown_asset", "no asset for this token on this chain");
                summary.quarantined += 1;
                continue;
            };
            let book = &mut self.assets[asset];
            if let Some(applied) = outflows::apply(&mut tx, self.chain_id, book.id, e).await? {
                match applied {
                    Ok(()) => {
                        summary.applied += 1;
                        // A treasury transfer leaves the company's balance that bonuses are scaled to (a claim
                        // does not touch it); only a plan that pays from it is told, so the hot path of the
                        // others gains no query.
                        let transfer = matches!(e.body, crate::events::EventBody::TreasuryTransferred { .. });
                        if transfer && book.plan.plan().follows_company_balance() {
                            let stored = stored::company_balance(&mut tx, book.id).await?;
                            book.plan.plan_mut().set_company_balance(rows.with_unwritten_company(asset, stored));
                        }
                    }
                    Err((code, reason)) => {
                        rows.quarantine(e, Some(book.id), code, &reason);
                        summary.quarantined += 1;
                    }
                }
                continue;
            }
            if let crate::events::EventBody::MemberLeft { member, to, amount, due, .. } = e.body {
                let credit_no = book.plan.plan().counters().company_credit;
                let leave = crate::exits::Leave { member, to, amount, due };
                match crate::exits::apply_leave(&mut tx, book.id, e, leave, credit_no).await? {
                    Ok(left) => {
                        summary.applied += 1;
                        book.plan.exit(&mut tx, book.id, left.user, e.block_number).await?;
                        let plan = book.plan.plan_mut();
                        plan.set_company_credit_counter(credit_no + left.forfeits);
                        if plan.follows_company_balance() {
                            let stored = stored::company_balance(&mut tx, book.id).await?;
                            book.plan.plan_mut().set_company_balance(stored);
                        }
                    }
                    Err((code, reason)) => {
                        rows.quarantine(e, Some(book.id), code, &reason);
                        summary.quarantined += 1;
                    }
                }
                continue;
            }
            if matches!(e.body, crate::events::EventBody::Refunded { .. }) {
                // A quarantined sale taken back by its buyer resolves its suspense, under every plan.
                if let Some(taken) = crate::suspense::take_back(&mut tx, &mut rows, book.id, e).await? {
                    match taken {
                        Ok(()) => summary.applied += 1,
                        Err((code, reason)) => {
                            rows.quarantine(e, Some(book.id), code, &reason);
                            summary.quarantined += 1;
                        }
                    }
                    continue;
                }
            }
            let Some(plan_event) = e.body.plan_event() else {
                let credit_no = book.plan.plan().counters().company_credit;
                match settlement::apply_settlement(&mut tx, self.chain_id, e, book.id, credit_no).await? {
                    Ok(fees) => {
                        summary.applied += 1;
                        if fees > 0 {
                            // The fees are the company's (PLAN-GENERATION.md §4): numbered, and in the balance
                            // rank bonuses are scaled to.
                            let plan = book.plan.plan_mut();
                            plan.set_company_credit_counter(credit_no + 1);
                            if plan.follows_company_balance() {
                                let stored = stored::company_balance(&mut tx, book.id).await?;
                                book.plan.plan_mut().set_company_balance(rows.with_unwritten_company(asset, stored));
                            }
                        }
                    }
                    Err((code, reason)) => {
                        rows.quarantine(e, Some(book.id), code, &reason);
                        summary.quarantined += 1;
                    }
                }
                continue;
            };
            let at = At { block: e.block_number, timestamp: e.block_timestamp };
            match book.plan.apply(at, &plan_event)? {
                Ok(applied) => {
                    rows.applied(asset, book.id, e, &applied);
                    summary.applied += 1;
                }
                Err(rejection) => {
                    rows.quarantine(e, Some(book.id), rejection.code(), &rejection.to_string());
                    summary.quarantined += 1;
                }
            }
        }
        if let Some((through, timestamp)) = through {
            // The confirmed head's time closes the periods that ended with no event after them.
            rows.close_periods(&mut self.assets, At { block: through.number, timestamp });
        }
        rows.flush(&mut tx, &mut self.assets).await?;
        if let Some((block, log_index)) = last {
            sqlx::query!(
                "UPDATE blockchain_sync SET last_block = $2, last_log_index = $3, updated_at = now()
                 WHERE chain_id = $1",
                self.chain_id as i64,
                block as i64,
                log_index as i64
            )
            .execute(&mut *tx)
            .await?;
        }
        let passed = events.iter().map(|e| e.block_timestamp).chain(through.map(|t| t.1)).max();
        if let Some(timestamp) = passed {
            outflows::expire_treasury_transfers(&mut tx, self.chain_id, timestamp).await?;
            crate::notify::expire_payments(&mut tx, self.chain_id, timestamp).await?;
        }
        if let Some((through, _)) = through {
            write_block_cursor(&mut tx, self.chain_id, through).await?;
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Brings the engines in line with the locked asset rows (see the module documentation).
    async fn sync_engines(&mut self, tx: &mut sqlx::Transaction<'static, sqlx::Postgres>) -> Result<(), LedgerError> {
        let rows = sqlx::query!(
            "SELECT id, applied_events, admin_seq, next_period FROM assets WHERE chain_id = $1 ORDER BY id FOR UPDATE",
            self.chain_id as i64
        )
        .fetch_all(&mut **tx)
        .await?;
        let in_step = !self.stale
            && rows.len() == self.assets.len()
            && rows.iter().zip(&self.assets).all(|(r, a)| {
                r.id == a.id
                    && r.applied_events as u64 == a.plan.plan().counters().applied_events
                    && r.next_period.map(|p| p as u64) == a.plan.plan().next_period()
            });
        if !in_step {
            self.assets = load::chain_assets(tx, self.chain_id).await?;
            self.stale = false;
            return Ok(());
        }
        for (r, book) in rows.iter().zip(self.assets.iter_mut()) {
            if r.admin_seq == book.admin_seq {
                continue;
            }
            // Freezes, plan versions and forfeits only change what `refresh_admin_state` re-reads; a manual
            // placement changes pools, reserves and counters, so the whole engine is reloaded after one.
            let placed = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM audit_logs WHERE asset_id = $1 AND action = 'manual_placement'
                                   AND id > $2) AS "placed!""#,
                book.id,
                book.audit_seen
            )
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

/// Whether `e` is the insert of an event already stored (the raw events' primary key).
fn stored_past_cursors(e: &LedgerError) -> bool {
    matches!(e, LedgerError::Db(sqlx::Error::Database(d)) if d.constraint() == Some("chain_events_pkey"))
}
