//! Writing a batch of outcomes. Rows are gathered per table as column arrays, then written by
//! one statement with an `INSERT … SELECT FROM UNNEST(…)` CTE per table, so a batch costs the
//! same few round trips whatever its size. Updates select rows by primary key (upserts or
//! `= ANY`), so cached generic plans stay index lookups as the tables grow.

use std::collections::{BTreeMap, BTreeSet};

use std::collections::HashSet;

use alloy::primitives::B256;
use sqlx::{Postgres, Transaction};

use super::LedgerError;
use super::load::AssetBook;
use crate::events::ChainEvent;
use crate::money::Money;
use crate::plan::{Amount, Credit, EventOutcome, PeriodClose, PlacementCause, ReserveChange, RewardStatus, UserNo};

type Tx = Transaction<'static, Postgres>;

/// The batch's new raw events, one row each, written once the batch is applied: its outcome and, for an applied
/// registration or retopup, the ledger's record of it (asset, number, payer, amount, plan version, and a retopup's
/// number among the asset's retopups).
#[derive(Default)]
struct EventRows {
    tx_hash: Vec<Vec<u8>>,
    contract: Vec<Vec<u8>>,
    log_index: Vec<i64>,
    block: Vec<i64>,
    time: Vec<i64>,
    name: Vec<&'static str>,
    payload: Vec<String>,
    outcome: Vec<&'static str>,
    asset: Vec<Option<i32>>,
    seq: Vec<Option<i64>>,
    kind: Vec<Option<&'static str>>,
    user: Vec<Option<i32>>,
    amount: Vec<Option<Money>>,
    plan_version: Vec<Option<i32>>,
    retopup: Vec<Option<i64>>,
}

#[derive(Default)]
struct RewardRows {
    asset: Vec<i32>,
    no: Vec<i64>,
    beneficiary: Vec<i32>,
    kind: Vec<&'static str>,
    level: Vec<i32>,
    amount: Vec<Money>,
    status: Vec<&'static str>,
    placement: Vec<Option<i64>>,
    /// The causing event; `None` for a period's close.
    seq: Vec<Option<i64>>,
    plan_version: Vec<i32>,
    /// The closed period of a RANK_BONUS.
    period: Vec<Option<i64>>,
}

/// What caused a reward row: an event (and the placement of it), or a period's close.
struct RewardCause {
    seq: Option<i64>,
    placement: Option<i64>,
    period: Option<i64>,
}

/// A period closed in this batch (PLAN-GENERATION.md §3), written to `period_closes`.
struct ClosedPeriod {
    asset_id: i32,
    close: PeriodClose,
    closing_block: u64,
    applied_events: u64,
}

#[derive(Default)]
struct PlacementRows {
    asset: Vec<i32>,
    no: Vec<i64>,
    owner: Vec<i32>,
    level: Vec<i32>,
    q: Vec<i64>,
    amount: Vec<Money>,
    cause: Vec<&'static str>,
    parent: Vec<Option<i64>>,
    completed_q: Vec<Option<i64>>,
    seq: Vec<i64>,
    plan_version: Vec<i32>,
    /// The node's completion (block, timestamp), if a later placement of the batch completed it.
    completed_block: Vec<Option<i64>>,
    completed_time: Vec<Option<i64>>,
}

#[derive(Default)]
struct MovementRows {
    asset: Vec<i32>,
    no: Vec<i64>,
    user: Vec<i32>,
    level: Vec<i32>,
    delta: Vec<String>,
    balance_after: Vec<Money>,
    reward: Vec<Option<i64>>,
    placement: Vec<Option<i64>>,
    seq: Vec<i64>,
}

#[derive(Default)]
struct CompanyRows {
    asset: Vec<i32>,
    no: Vec<i64>,
    amount: Vec<Money>,
    reason: Vec<&'static str>,
    placement: Vec<Option<i64>>,
    seq: Vec<i64>,
}

/// Nodes of one (asset, level) completed by this batch but stored by an earlier one.
#[derive(Default)]
struct Completions {
    q: Vec<i64>,
    block: Vec<i64>,
    time: Vec<i64>,
}

/// A user row the batch writes: its counters and reserve as the engine holds them at the batch end, and these
/// increments of its balances.
#[derive(Default, Clone, Copy)]
struct UserChange {
    /// The registration block of a user new in this batch.
    registered: Option<u64>,
    paid_in: Amount,
    pending: Amount,
    held: Amount,
}

struct Quarantined {
    asset_id: Option<i32>,
    tx_hash: Vec<u8>,
    log_index: i64,
    code: &'static str,
    reason: String,
    payload: String,
}

/// Everything a batch writes, gathered before any statement runs.
#[derive(Default)]
pub(super) struct Rows {
    events: EventRows,
    rewards: RewardRows,
    placements: PlacementRows,
    movements: MovementRows,
    company: CompanyRows,
    quarantined: Vec<Quarantined>,
    /// (asset index, level, q) → the placement row of a node placed in this batch.
    new_nodes: BTreeMap<(usize, u32, u64), usize>,
    /// (asset index, level, q) → (block, timestamp) for nodes stored before this batch.
    completed_old: BTreeMap<(usize, u32, u64), (u64, u64)>,
    /// (asset index, user) whose user row (counters, reserve or balances) changed.
    users: BTreeMap<(usize, UserNo), UserChange>,
    reserves: BTreeSet<(usize, UserNo, u32)>,
    levels: BTreeSet<(usize, u32)>,
    /// Company credits less what closes paid out, per asset index.
    company_total: BTreeMap<usize, i128>,
    /// Assets whose row changes, with the last block of an event applied in the batch (if any).
    touched: BTreeMap<usize, Option<u64>>,
    closes: Vec<ClosedPeriod>,
    chain_id: i64,
}

fn payload(e: &ChainEvent) -> String {
    serde_json::to_string(&e.body).expect("event bodies serialize")
}

/// The keys of `events` already stored (the primary key makes a second delivery of an event a no-op: it is
/// skipped). The caller holds the chain's lock, so no other transaction stores one of them before this one ends.
pub(super) async fn known_events(
    tx: &mut Tx,
    chain_id: u64,
    events: &[ChainEvent],
) -> Result<HashSet<(B256, u64)>, LedgerError> {
    if events.is_empty() {
        return Ok(HashSet::new());
    }
    let hashes: Vec<&[u8]> = events.iter().map(|e| e.key.tx_hash.as_slice()).collect();
    let logs: Vec<i64> = events.iter().map(|e| e.key.log_index as i64).collect();
    let rows = sqlx::query!(
        "SELECT c.tx_hash, c.log_index FROM chain_events c
         JOIN UNNEST($2::bytea[], $3::int8[]) AS k(h, i) ON c.tx_hash = k.h AND c.log_index = k.i
         WHERE c.chain_id = $1",
        chain_id as i64,
        &hashes as _,
        &logs
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(|r| (B256::from_slice(&r.tx_hash), r.log_index as u64)).collect())
}

impl Rows {
    pub(super) fn new(chain_id: u64) -> Self {
        Self { chain_id: chain_id as i64, ..Self::default() }
    }

    /// A new event of the batch, stored as `applied` unless the batch quarantines it; called once per event,
    /// before the batch's other rows of it.
    pub(super) fn event(&mut self, e: &ChainEvent) {
        let r = &mut self.events;
        r.tx_hash.push(e.key.tx_hash.to_vec());
        r.contract.push(e.contract.to_vec());
        r.log_index.push(e.key.log_index as i64);
        r.block.push(e.block_number as i64);
        r.time.push(e.block_timestamp as i64);
        r.name.push(e.body.name());
        r.payload.push(payload(e));
        r.outcome.push("applied");
        r.asset.push(None);
        r.seq.push(None);
        r.kind.push(None);
        r.user.push(None);
        r.amount.push(None);
        r.plan_version.push(None);
        r.retopup.push(None);
    }

    /// The row of event `e`, the last one [`Rows::event`] gathered.
    fn event_row(&self, e: &ChainEvent) -> usize {
        let r = &self.events;
        let i = r.tx_hash.len().checked_sub(1).expect("an event's row is gathered before its outcome");
        assert!(
            r.tx_hash[i] == e.key.tx_hash.as_slice() && r.log_index[i] == e.key.log_index as i64,
            "an event's outcome follows its row"
        );
        i
    }

    pub(super) fn quarantine(&mut self, e: &ChainEvent, asset_id: Option<i32>, code: &'static str, reason: &str) {
        let i = self.event_row(e);
        self.events.outcome[i] = "quarantined";
        self.quarantined.push(Quarantined {
            asset_id,
            tx_hash: e.key.tx_hash.to_vec(),
            log_index: e.key.log_index as i64,
            code,
            reason: reason.to_owned(),
            payload: payload(e),
        });
    }

    /// Gathers the rows of one applied event of asset `asset` (index) with id `asset_id`.
    pub(super) fn applied(&mut self, asset: usize, asset_id: i32, e: &ChainEvent, out: &EventOutcome) {
        let seq = out.seq as i64;
        let i = self.event_row(e);
        let r = &mut self.events;
        r.asset[i] = Some(asset_id);
        r.seq[i] = Some(seq);
        r.kind[i] = Some(if out.registration.is_some() { "registration" } else { "retopup" });
        r.user[i] = Some(out.user as i32);
        r.amount[i] = Some(Money::from(out.amount));
        r.plan_version[i] = Some(out.plan_version as i32);
        r.retopup[i] = out.retopup_no.map(|n| n as i64);

        let payer = self.users.entry((asset, out.user)).or_default();
        payer.paid_in += out.amount;
        if let Some(reg) = out.registration {
            payer.registered = Some(e.block_number);
            self.users.entry((asset, reg.sponsor)).or_default();
        }
        let placement_no = |i: Option<usize>| i.map(|i| out.placements[i].placement_no as i64);
        for c in &out.credits {
            let cause = RewardCause { seq: Some(seq), placement: placement_no(c.placement), period: None };
            self.reward(asset, asset_id, c, out.plan_version, cause);
        }
        for c in &out.company {
            let r = &mut self.company;
            r.asset.push(asset_id);
            r.no.push(c.credit_no as i64);
            r.amount.push(Money::from(c.amount));
            r.reason.push(c.reason.as_str());
            r.placement.push(placement_no(c.placement));
            r.seq.push(seq);
            *self.company_total.entry(asset).or_default() += c.amount as i128;
        }
        for p in &out.placements {
            let r = &mut self.placements;
            r.asset.push(asset_id);
            r.no.push(p.placement_no as i64);
            r.owner.push(p.owner as i32);
            r.level.push(p.level as i32);
            r.q.push(p.position as i64);
            r.amount.push(Money::from(p.amount));
            match p.cause {
                PlacementCause::PoolEntry => {
                    r.cause.push("pool_entry");
                    r.parent.push(None);
                }
                PlacementCause::AutoProgression { parent } => {
                    r.cause.push("auto_progression");
                    r.parent.push(Some(out.placements[parent].placement_no as i64));
                }
            }
            r.completed_q.push(p.completed.map(|q| q as i64));
            r.seq.push(seq);
            r.plan_version.push(out.plan_version as i32);
            r.completed_block.push(None);
            r.completed_time.push(None);
            self.new_nodes.insert((asset, p.level, p.position), r.no.len() - 1);
            if let Some(a) = p.completed {
                let when = (e.block_number, e.block_timestamp);
                match self.new_nodes.get(&(asset, p.level, a)) {
                    Some(&i) => {
                        r.completed_block[i] = Some(when.0 as i64);
                        r.completed_time[i] = Some(when.1 as i64);
                    }
                    None => {
                        self.completed_old.insert((asset, p.level, a), when);
                    }
                }
            }
            self.levels.insert((asset, p.level));
        }
        for m in &out.reserve_movements {
            let r = &mut self.movements;
            r.asset.push(asset_id);
            r.no.push(m.movement_no as i64);
            r.user.push(m.user as i32);
            r.level.push(m.level as i32);
            match m.change {
                ReserveChange::Credit { credit, amount } => {
                    r.delta.push(amount.to_string());
                    r.reward.push(Some(out.credits[credit].reward_no as i64));
                    r.placement.push(None);
                }
                ReserveChange::Take { placement, amount } => {
                    r.delta.push(format!("-{amount}"));
                    r.reward.push(None);
                    r.placement.push(Some(out.placements[placement].placement_no as i64));
                }
            }
            r.balance_after.push(Money::from(m.balance_after));
            r.seq.push(seq);
            self.reserves.insert((asset, m.user, m.level));
            self.users.entry((asset, m.user)).or_default();
        }
        self.touched.insert(asset, Some(e.block_number));
    }

    /// A reward row, and the beneficiary's pending or held balance.
    fn reward(&mut self, asset: usize, asset_id: i32, c: &Credit, plan_version: u32, cause: RewardCause) {
        let r = &mut self.rewards;
        r.asset.push(asset_id);
        r.no.push(c.reward_no as i64);
        r.beneficiary.push(c.beneficiary as i32);
        r.kind.push(c.kind.as_str());
        r.level.push(c.level as i32);
        r.amount.push(Money::from(c.amount));
        r.status.push(c.status.as_str());
        r.placement.push(cause.placement);
        r.seq.push(cause.seq);
        r.plan_version.push(plan_version as i32);
        r.period.push(cause.period);
        let b = self.users.entry((asset, c.beneficiary)).or_default();
        match c.status {
            RewardStatus::Pending => b.pending += c.amount,
            RewardStatus::Held => b.held += c.amount,
            _ => {}
        }
    }

    /// Closes, in every asset's plan, the periods that ended at or before `timestamp` (the time of confirmed block
    /// `block`), and gathers their rows: the close, each RANK_BONUS credit, and the company's debit.
    pub(super) fn close_periods(&mut self, books: &mut [AssetBook], block: u64, timestamp: u64) {
        for (asset, book) in books.iter_mut().enumerate() {
            let closes = book.engine.close_through(block, timestamp);
            if closes.is_empty() {
                continue;
            }
            let applied_events = book.engine.counters().applied_events;
            self.touched.entry(asset).or_insert(None);
            for close in closes {
                for c in &close.credits {
                    let cause = RewardCause { seq: None, placement: None, period: Some(close.period as i64) };
                    self.reward(asset, book.id, c, close.plan_version, cause);
                }
                *self.company_total.entry(asset).or_default() -= close.credited() as i128;
                self.closes.push(ClosedPeriod { asset_id: book.id, close, closing_block: block, applied_events });
            }
        }
    }

    /// The company's balance of asset index `asset` once this batch is written: `stored` (what the database
    /// holds) plus the batch's company credits less its closes' debits.
    pub(super) fn with_unwritten_company(&self, asset: usize, stored: Amount) -> Amount {
        let delta = self.company_total.get(&asset).copied().unwrap_or(0);
        (stored as i128 + delta).max(0) as Amount
    }

    /// Runs the batch's statements in `tx`, reading final user/tree/reserve state from `books`.
    pub(super) async fn flush(self, tx: &mut Tx, books: &[AssetBook]) -> Result<(), LedgerError> {
        self.write_events(tx).await?;
        for q in &self.quarantined {
            sqlx::query!(
                "INSERT INTO quarantine (chain_id, tx_hash, log_index, asset_id, reason_code, reason, payload)
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)",
                self.chain_id,
                &q.tx_hash,
                q.log_index,
                q.asset_id,
                q.code,
                &q.reason,
                &q.payload
            )
            .execute(&mut **tx)
            .await?;
            sqlx::query!(
                "INSERT INTO alerts (kind, message, details)
                 VALUES ('event_quarantined', $1, jsonb_build_object('chain_id', $2::int8, 'tx_hash', encode($3, 'hex'), 'log_index', $4::int8, 'code', $5::text))",
                &q.reason,
                self.chain_id,
                &q.tx_hash,
                q.log_index,
                q.code
            )
            .execute(&mut **tx)
            .await?;
        }
        if self.touched.is_empty() {
            return Ok(());
        }
        self.write_ledger(tx, books).await?;
        self.write_closes(tx).await?;
        self.write_completions(tx, books).await
    }

    /// The batch's new events, one row each, with their outcomes and ledger records. No `ON CONFLICT`: the keys
    /// were looked up under the chain's lock ([`known_events`]), so a conflict is a broken invariant and fails the
    /// batch.
    async fn write_events(&self, tx: &mut Tx) -> Result<(), LedgerError> {
        let r = &self.events;
        if r.tx_hash.is_empty() {
            return Ok(());
        }
        sqlx::query!(
            "INSERT INTO chain_events (chain_id, tx_hash, log_index, block_number, block_timestamp, name, payload, outcome,
                                       asset_id, event_seq, kind, user_no, amount, plan_version, retopup_no, contract)
             SELECT $1, h, i, b, t, n, p::jsonb, o, a, s, k, u, m, v, r, c
             FROM UNNEST($2::bytea[], $3::int8[], $4::int8[], $5::int8[], $6::text[], $7::text[], $8::text[],
                         $9::int4[], $10::int8[], $11::text[], $12::int4[], $13::numeric[], $14::int4[], $15::int8[],
                         $16::bytea[])
               AS x(h, i, b, t, n, p, o, a, s, k, u, m, v, r, c)",
            self.chain_id,
            &r.tx_hash as _,
            &r.log_index as _,
            &r.block as _,
            &r.time as _,
            &r.name as _,
            &r.payload as _,
            &r.outcome as _,
            &r.asset as _,
            &r.seq as _,
            &r.kind as _,
            &r.user as _,
            &r.amount as _,
            &r.plan_version as _,
            &r.retopup as _,
            &r.contract as _
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The batch's closed periods (rare: one per generation asset a week), one row each.
    async fn write_closes(&self, tx: &mut Tx) -> Result<(), LedgerError> {
        for c in &self.closes {
            let close = &c.close;
            sqlx::query!(
                "INSERT INTO period_closes (asset_id, period, plan_version, period_end, closing_block, applied_events,
                                            ranked, bonuses, company_before, credited)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9::text::numeric, $10::text::numeric)",
                c.asset_id,
                close.period as i64,
                close.plan_version as i32,
                close.period_end as i64,
                c.closing_block as i64,
                c.applied_events as i64,
                serde_json::to_value(&close.ranked).expect("ranked users serialize"),
                close.bonuses.to_string(),
                close.company_before.to_string(),
                close.credited().to_string()
            )
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Every ledger row of the batch in one statement (one round trip): a CTE per table, each
    /// inserting from arrays, so an empty array simply inserts nothing.
    async fn write_ledger(&self, tx: &mut Tx, books: &[AssetBook]) -> Result<(), LedgerError> {
        // Users: new ones inserted, known ones have their counters and reserve set (as of the batch end) and their
        // balances incremented; one row per user, however many of the batch's events touched it.
        let users: Vec<_> = self
            .users
            .iter()
            .map(|(&(a, u), change)| (books[a].id, u as i32, &books[a].engine.users()[u as usize], change))
            .collect();
        let levels = &self.levels;
        let reserves = &self.reserves;
        // (id, applied events, last event block, company delta, next period) of each asset row to update.
        type AssetRow = (i32, i64, Option<i64>, String, Option<i64>);
        let assets: Vec<AssetRow> = self
            .touched
            .iter()
            .map(|(&a, &block)| {
                let company = self.company_total.get(&a).copied().unwrap_or(0);
                let engine = &books[a].engine;
                let next_period = engine.next_period().map(|p| p as i64);
                (
                    books[a].id,
                    engine.counters().applied_events as i64,
                    block.map(|b| b as i64),
                    company.to_string(),
                    next_period,
                )
            })
            .collect();
        let (pl, rw, mv, cc) = (&self.placements, &self.rewards, &self.movements, &self.company);
        // Checked against the schema like every query; the arguments pass `as _` (62 arrays, one per column
        // of each table, typed by the casts in the text).
        sqlx::query!(
            "WITH
             -- reserved is absolute (from the engine), like the counters; the other balances are increments.
             users_w AS (
               INSERT INTO users (asset_id, user_no, address, sponsor_no, direct_count, has_retopup, retopup_count, registered_block,
                                  paid_in, pending, held, reserved)
               SELECT * FROM UNNEST($1::int4[], $2::int4[], $3::bytea[], $4::int4[], $5::int8[], $6::bool[], $7::int8[], $8::int8[],
                                    $54::numeric[], $55::numeric[], $56::numeric[], $57::numeric[])
               ON CONFLICT (asset_id, user_no) DO UPDATE
               SET direct_count = EXCLUDED.direct_count, has_retopup = EXCLUDED.has_retopup,
                   retopup_count = EXCLUDED.retopup_count,
                   paid_in = users.paid_in + EXCLUDED.paid_in,
                   pending = users.pending + EXCLUDED.pending,
                   held = users.held + EXCLUDED.held,
                   reserved = EXCLUDED.reserved),
             -- A placement is its pool node: active, or completed by a later placement of the batch.
             placements_w AS (
               INSERT INTO placements (asset_id, placement_no, owner_no, level, q, amount, cause, parent_placement_no, completed_q, event_seq, plan_version,
                                       status, completed_block, completed_at)
               SELECT a, n, o, l, q, m, c, pp, cq, e, v, CASE WHEN b IS NULL THEN 'active' ELSE 'completed' END, b, to_timestamp(t)
               FROM UNNEST($9::int4[], $10::int8[], $11::int4[], $12::int4[], $13::int8[], $14::numeric[], $15::text[], $16::int8[], $17::int8[], $18::int8[], $19::int4[],
                           $20::int8[], $21::int8[])
                 AS x(a, n, o, l, q, m, c, pp, cq, e, v, b, t)),
             pools_w AS (
               INSERT INTO pools (asset_id, level, node_count)
               SELECT * FROM UNNEST($22::int4[], $23::int4[], $24::int8[])
               ON CONFLICT (asset_id, level) DO UPDATE SET node_count = EXCLUDED.node_count),
             reserves_w AS (
               INSERT INTO user_reserves (asset_id, user_no, level, amount)
               SELECT a, u, l, m FROM UNNEST($25::int4[], $26::int4[], $27::int4[], $28::numeric[]) AS x(a, u, l, m)
               ON CONFLICT (asset_id, user_no, level) DO UPDATE SET amount = EXCLUDED.amount),
             rewards_w AS (
               INSERT INTO rewards (asset_id, reward_no, beneficiary_no, kind, level, amount, status, placement_no, event_seq, plan_version, period)
               SELECT a, n, b, k, l, m, s, p, e, v, w
               FROM UNNEST($29::int4[], $30::int8[], $31::int4[], $32::text[], $33::int4[], $34::numeric[], $35::text[], $36::int8[], $37::int8[], $38::int4[], $62::int8[])
                 AS x(a, n, b, k, l, m, s, p, e, v, w)),
             movements_w AS (
               INSERT INTO reserve_movements (asset_id, movement_no, user_no, level, delta, balance_after, reward_no, placement_no, event_seq)
               SELECT a, n, u, l, d::numeric, b, r, p, e
               FROM UNNEST($39::int4[], $40::int8[], $41::int4[], $42::int4[], $43::text[], $44::numeric[], $45::int8[], $46::int8[], $47::int8[])
                 AS x(a, n, u, l, d, b, r, p, e)),
             company_w AS (
               INSERT INTO company_credits (asset_id, credit_no, amount, reason, placement_no, event_seq)
               SELECT a, n, m, r, p, e
               FROM UNNEST($48::int4[], $49::int8[], $50::numeric[], $51::text[], $52::int8[], $53::int8[]) AS x(a, n, m, r, p, e))
             UPDATE assets SET applied_events = x.e, last_block = COALESCE(x.b, assets.last_block),
                               company_total = company_total + x.c::numeric, next_period = x.p
             FROM UNNEST($58::int4[], $59::int8[], $60::int8[], $61::text[], $63::int8[]) AS x(id, e, b, c, p)
             WHERE assets.id = x.id",
            users.iter().map(|u| u.0).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.1).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.address.as_slice()).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.sponsor.map(|s| s as i32)).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.direct_count as i64).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.has_retopup).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.retopup_count as i64).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.3.registered.map(|b| b as i64)).collect::<Vec<_>>() as _,
            &pl.asset as _,
            &pl.no as _,
            &pl.owner as _,
            &pl.level as _,
            &pl.q as _,
            &pl.amount as _,
            &pl.cause as _,
            &pl.parent as _,
            &pl.completed_q as _,
            &pl.seq as _,
            &pl.plan_version as _,
            &pl.completed_block as _,
            &pl.completed_time as _,
            levels.iter().map(|&(a, _)| books[a].id).collect::<Vec<_>>() as _,
            levels.iter().map(|&(_, l)| l as i32).collect::<Vec<_>>() as _,
            levels.iter().map(|&(a, l)| books[a].engine.tree(l).len() as i64).collect::<Vec<_>>() as _,
            reserves.iter().map(|&(a, _, _)| books[a].id).collect::<Vec<_>>() as _,
            reserves.iter().map(|&(_, u, _)| u as i32).collect::<Vec<_>>() as _,
            reserves.iter().map(|&(_, _, l)| l as i32).collect::<Vec<_>>() as _,
            reserves .iter() .map(|&(a, u, l)| Money::from(books[a].engine.users()[u as usize].reserve_towards(l))) .collect::<Vec<_>>() as _,
            &rw.asset as _,
            &rw.no as _,
            &rw.beneficiary as _,
            &rw.kind as _,
            &rw.level as _,
            &rw.amount as _,
            &rw.status as _,
            &rw.placement as _,
            &rw.seq as _,
            &rw.plan_version as _,
            &mv.asset as _,
            &mv.no as _,
            &mv.user as _,
            &mv.level as _,
            &mv.delta as _,
            &mv.balance_after as _,
            &mv.reward as _,
            &mv.placement as _,
            &mv.seq as _,
            &cc.asset as _,
            &cc.no as _,
            &cc.amount as _,
            &cc.reason as _,
            &cc.placement as _,
            &cc.seq as _,
            users.iter().map(|u| Money::from(u.3.paid_in)).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.3.pending)).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.3.held)).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.2.reserves().map(|(_, x)| x).sum::<Amount>())).collect::<Vec<_>>() as _,
            assets.iter().map(|a| a.0).collect::<Vec<_>>() as _,
            assets.iter().map(|a| a.1).collect::<Vec<_>>() as _,
            assets.iter().map(|a| a.2).collect::<Vec<_>>() as _,
            assets.iter().map(|a| a.3.as_str()).collect::<Vec<_>>() as _,
            &rw.period as _,
            assets.iter().map(|a| a.4).collect::<Vec<_>>() as _
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Marks nodes stored by earlier batches as completed: one update per (asset, level),
    /// selecting nodes by their unique key (`q = ANY`), which plans well at any table size.
    async fn write_completions(&self, tx: &mut Tx, books: &[AssetBook]) -> Result<(), LedgerError> {
        let mut completed: BTreeMap<(i32, i32), Completions> = BTreeMap::new();
        for (&(a, level, q), &(b, t)) in &self.completed_old {
            let g = completed.entry((books[a].id, level as i32)).or_default();
            g.q.push(q as i64);
            g.block.push(b as i64);
            g.time.push(t as i64);
        }
        for ((asset_id, level), c) in &completed {
            sqlx::query!(
                "UPDATE placements n
                 SET status = 'completed', completed_block = x.b, completed_at = to_timestamp(x.t)
                 FROM UNNEST($3::int8[], $4::int8[], $5::int8[]) AS x(q, b, t)
                 WHERE n.asset_id = $1 AND n.level = $2 AND n.q = ANY($3) AND n.q = x.q",
                asset_id,
                level,
                &c.q,
                &c.block,
                &c.time
            )
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}
