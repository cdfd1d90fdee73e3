//! Writing a batch of outcomes: the rows every plan shares (raw events, users, rewards, company credits, the
//! assets' counters). Rows are gathered per table as column arrays, then written by one statement with an
//! `INSERT … SELECT FROM UNNEST(…)` CTE per table, so a batch costs the same few round trips whatever its size;
//! then each asset's plan writes the rows only it has ([`crate::plan::room::PlanBook::flush`]). Updates select
//! rows by primary key (upserts or `= ANY`), so cached generic plans stay index lookups as the tables grow.

use std::collections::{BTreeMap, HashSet};

use alloy::primitives::B256;
use sqlx::{Postgres, Transaction};

use super::load::AssetBook;
use crate::error::LedgerError;
use crate::events::ChainEvent;
use crate::money::Money;
use crate::plan::room::{Applied, AppliedKind, At, Due, Moved};
use crate::plan::{Amount, CompanyCredit, Credit, RewardStatus, UserNo};

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

#[derive(Default)]
struct CompanyRows {
    asset: Vec<i32>,
    no: Vec<i64>,
    amount: Vec<Money>,
    reason: Vec<&'static str>,
    placement: Vec<Option<i64>>,
    /// The causing event; `None` for a credit of a maturity (it names its reward).
    seq: Vec<Option<i64>>,
    reward: Vec<Option<i64>>,
}

/// Rewards of earlier rows whose status the batch moves (maturities, reversals), written after the batch's new
/// rewards (a sale and its maturity may be in the same batch).
#[derive(Default)]
struct MovedRows {
    asset: Vec<i32>,
    no: Vec<i64>,
    from: Vec<&'static str>,
    to: Vec<&'static str>,
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
    /// RETAIL commissions credited maturing, and those that left maturing (matured or reversed).
    maturing_in: Amount,
    maturing_out: Amount,
    forfeited: Amount,
}

struct Quarantined {
    asset_id: Option<i32>,
    tx_hash: Vec<u8>,
    log_index: i64,
    code: &'static str,
    reason: String,
    payload: String,
    /// A quarantined sale: its id, buyer, amount and T (its buyer may take it back inside its window).
    sale: Option<QuarantinedSold>,
    /// The `Refunded` event (tx hash, log index, block time) that gave its suspense back to the buyer.
    taken_back: Option<(Vec<u8>, i64, u64)>,
}

/// What a quarantined `Sold` event says of its sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuarantinedSold {
    /// The sale's id.
    pub id: u64,
    /// Who paid.
    pub buyer: alloy::primitives::Address,
    /// What it paid.
    pub amount: alloy::primitives::U256,
    /// T.
    pub refundable_until: u64,
}

impl QuarantinedSold {
    /// The sale of a `Sold` event.
    pub(crate) fn of(body: &crate::events::EventBody) -> Option<Self> {
        match body {
            crate::events::EventBody::Sold { id, buyer, amount, refundable_until, .. } => Some(Self {
                id: crate::events::sale_id(id),
                buyer: *buyer,
                amount: *amount,
                refundable_until: u64::try_from(*refundable_until).unwrap_or(u64::MAX),
            }),
            _ => None,
        }
    }
}

/// Everything a batch writes, gathered before any statement runs.
#[derive(Default)]
pub(super) struct Rows {
    events: EventRows,
    rewards: RewardRows,
    company: CompanyRows,
    moved: MovedRows,
    quarantined: Vec<Quarantined>,
    /// (asset index, user) whose user row (counters, reserve or balances) changed.
    users: BTreeMap<(usize, UserNo), UserChange>,
    /// Company credits less what closes paid out, per asset index.
    company_total: BTreeMap<usize, i128>,
    /// Assets whose row changes, with the last block of an event applied in the batch (if any).
    touched: BTreeMap<usize, Option<u64>>,
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
            sale: QuarantinedSold::of(&e.body),
            taken_back: None,
        });
    }

    /// The sale `id` of asset `asset_id` this batch quarantined, if any: its row's index, what its `Sold` event
    /// said, and whether someone took it back already.
    pub(super) fn quarantined_sale(&self, asset_id: i32, id: u64) -> Option<(usize, QuarantinedSold, bool)> {
        self.quarantined.iter().enumerate().find_map(|(i, q)| {
            let sale = q.sale.filter(|s| q.asset_id == Some(asset_id) && s.id == id)?;
            Some((i, sale, q.taken_back.is_some()))
        })
    }

    /// Marks the quarantined sale of row `index` taken back by the `Refunded` event `e`.
    pub(super) fn take_back_quarantined(&mut self, index: usize, e: &ChainEvent) {
        self.quarantined[index].taken_back = Some((e.key.tx_hash.to_vec(), e.key.log_index as i64, e.block_timestamp));
    }

    /// Gathers the shared rows of one applied event of asset `asset` (index) with id `asset_id`.
    pub(super) fn applied(&mut self, asset: usize, asset_id: i32, e: &ChainEvent, applied: &Applied) {
        let out = &applied.outcome;
        let seq = out.seq as i64;
        let i = self.event_row(e);
        let r = &mut self.events;
        r.asset[i] = Some(asset_id);
        r.seq[i] = Some(seq);
        r.kind[i] = Some(applied.kind.as_str());
        r.user[i] = Some(out.user as i32);
        r.amount[i] = Some(Money::from(out.amount));
        r.plan_version[i] = Some(out.plan_version as i32);
        r.retopup[i] = out.retopup_no.map(|n| n as i64);

        let payer = self.users.entry((asset, out.user)).or_default();
        if matches!(applied.kind, AppliedKind::Registration | AppliedKind::Retopup) {
            payer.paid_in += out.amount;
        }
        if let Some(reg) = out.registration {
            payer.registered = Some(e.block_number);
            self.users.entry((asset, reg.sponsor)).or_default();
        }
        let placement_no = |i: Option<usize>| i.map(|i| applied.placement_nos[i] as i64);
        for c in &out.credits {
            let cause = RewardCause { seq: Some(seq), placement: placement_no(c.placement), period: None };
            self.reward(asset, asset_id, c, out.plan_version, cause);
        }
        for c in &out.company {
            self.company_credit(asset, asset_id, c, placement_no(c.placement), Some(seq), None);
        }
        for &u in &applied.users {
            self.users.entry((asset, u)).or_default();
        }
        for m in &applied.moved {
            self.move_reward(asset, asset_id, m);
        }
        *self.company_total.entry(asset).or_default() -= applied.company_debit as i128;
        self.touched.insert(asset, Some(e.block_number));
    }

    /// A company credit row, caused by event `seq` (and `placement`) or by reward `reward` maturing.
    fn company_credit(
        &mut self,
        asset: usize,
        asset_id: i32,
        c: &CompanyCredit,
        placement: Option<i64>,
        seq: Option<i64>,
        reward: Option<u64>,
    ) {
        let r = &mut self.company;
        r.asset.push(asset_id);
        r.no.push(c.credit_no as i64);
        r.amount.push(Money::from(c.amount));
        r.reason.push(c.reason.as_str());
        r.placement.push(placement);
        r.seq.push(seq);
        r.reward.push(reward.map(|n| n as i64));
        *self.company_total.entry(asset).or_default() += c.amount as i128;
    }

    /// A reward of an earlier row moving status, and its owner's balances with it.
    fn move_reward(&mut self, asset: usize, asset_id: i32, m: &Moved) {
        let r = &mut self.moved;
        r.asset.push(asset_id);
        r.no.push(m.reward_no as i64);
        r.from.push(m.from.as_str());
        r.to.push(m.to.as_str());
        let b = self.users.entry((asset, m.user)).or_default();
        let to = match m.to {
            RewardStatus::Pending => Some(&mut b.pending),
            RewardStatus::Held => Some(&mut b.held),
            RewardStatus::Maturing => Some(&mut b.maturing_in),
            RewardStatus::Forfeited => Some(&mut b.forfeited),
            _ => None,
        };
        if let Some(to) = to {
            *to += m.amount;
        }
        // Only a maturing row moves here: it leaves `maturing`.
        if m.from == RewardStatus::Maturing {
            b.maturing_out += m.amount;
        }
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
            RewardStatus::Maturing => b.maturing_in += c.amount,
            _ => {}
        }
    }

    /// Closes, in every asset's plan, the periods that ended at or before confirmed block `at`, and gathers their
    /// shared rows: each credit, and the company's debit (the plan keeps its own record of the close).
    pub(super) fn close_periods(&mut self, books: &mut [AssetBook], at: At) {
        for (asset, book) in books.iter_mut().enumerate() {
            let closes = book.plan.close_through(at);
            if closes.is_empty() {
                continue;
            }
            self.touched.entry(asset).or_insert(None);
            for due in closes {
                match due {
                    Due::Closed(close) => {
                        for c in &close.credits {
                            let cause = RewardCause { seq: None, placement: None, period: Some(close.period as i64) };
                            self.reward(asset, book.id, c, close.plan_version, cause);
                        }
                        let credited: Amount = close.credits.iter().map(|c| c.amount).sum();
                        *self.company_total.entry(asset).or_default() -= credited as i128;
                    }
                    Due::Moved { moved, company } => {
                        for m in &moved {
                            self.move_reward(asset, book.id, m);
                        }
                        for (c, reward) in &company {
                            self.company_credit(asset, book.id, c, None, None, Some(*reward));
                        }
                    }
                }
            }
        }
    }

    /// The company's balance of asset index `asset` once this batch is written: `stored` (what the database
    /// holds) plus the batch's company credits less its closes' debits.
    pub(super) fn with_unwritten_company(&self, asset: usize, stored: Amount) -> Amount {
        let delta = self.company_total.get(&asset).copied().unwrap_or(0);
        (stored as i128 + delta).max(0) as Amount
    }

    /// Runs the batch's statements in `tx`, reading the users' final state from `books`, then has every asset's
    /// plan write its own rows.
    pub(super) async fn flush(self, tx: &mut Tx, books: &mut [AssetBook]) -> Result<(), LedgerError> {
        self.write_events(tx).await?;
        for q in &self.quarantined {
            let taken_back = q.taken_back.as_ref();
            sqlx::query!(
                "INSERT INTO quarantine (chain_id, tx_hash, log_index, asset_id, reason_code, reason, payload,
                                         resolved_at, taken_back_tx, taken_back_log)
                 VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, to_timestamp($8), $9, $10)",
                self.chain_id,
                &q.tx_hash,
                q.log_index,
                q.asset_id,
                q.code,
                &q.reason,
                &q.payload,
                taken_back.map(|t| t.2 as f64),
                taken_back.map(|t| t.0.as_slice()),
                taken_back.map(|t| t.1)
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
        for &asset in self.touched.keys() {
            let book = &mut books[asset];
            book.plan.flush(tx, book.id).await?;
        }
        Ok(())
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

    /// Every shared row of the batch in one statement (one round trip): a CTE per table, each inserting from
    /// arrays, so an empty array simply inserts nothing.
    async fn write_ledger(&self, tx: &mut Tx, books: &[AssetBook]) -> Result<(), LedgerError> {
        // Users: new ones inserted, known ones have their counters and reserve set (as of the batch end) and their
        // balances incremented; one row per user, however many of the batch's events touched it.
        let users: Vec<_> = self
            .users
            .iter()
            .map(|(&(a, u), change)| {
                let plan = &books[a].plan;
                (books[a].id, u as i32, &plan.plan().users()[u as usize], change, plan.reserved(u))
            })
            .collect();
        // (id, applied events, last event block, company delta, next period) of each asset row to update.
        type AssetRow = (i32, i64, Option<i64>, String, Option<i64>);
        let assets: Vec<AssetRow> = self
            .touched
            .iter()
            .map(|(&a, &block)| {
                let company = self.company_total.get(&a).copied().unwrap_or(0);
                let plan = books[a].plan.plan();
                let next_period = plan.next_period().map(|p| p as i64);
                (
                    books[a].id,
                    plan.counters().applied_events as i64,
                    block.map(|b| b as i64),
                    company.to_string(),
                    next_period,
                )
            })
            .collect();
        let (rw, cc) = (&self.rewards, &self.company);
        // Checked against the schema like every query; the arguments pass `as _` (37 arrays, one per column
        // of each table, typed by the casts in the text).
        sqlx::query!(
            "WITH
             -- reserved is absolute (from the plan), like the counters; the other balances are increments.
             users_w AS (
               -- maturing grows here by the RETAIL rows credited (what left it is taken off after: write_moved);
               -- forfeited grows.
               INSERT INTO users (asset_id, user_no, address, sponsor_no, direct_count, has_retopup, retopup_count, registered_block,
                                  paid_in, pending, held, reserved, maturing, forfeited)
               SELECT a, n, ad, s, d, h, r, b, p, pe, he, re, ma, f
               FROM UNNEST($1::int4[], $2::int4[], $3::bytea[], $4::int4[], $5::int8[], $6::bool[], $7::int8[], $8::int8[],
                           $9::numeric[], $10::numeric[], $11::numeric[], $12::numeric[], $35::numeric[], $36::numeric[])
                 AS x(a, n, ad, s, d, h, r, b, p, pe, he, re, ma, f)
               ON CONFLICT (asset_id, user_no) DO UPDATE
               SET direct_count = EXCLUDED.direct_count, has_retopup = EXCLUDED.has_retopup,
                   retopup_count = EXCLUDED.retopup_count,
                   paid_in = users.paid_in + EXCLUDED.paid_in,
                   pending = users.pending + EXCLUDED.pending,
                   held = users.held + EXCLUDED.held,
                   reserved = EXCLUDED.reserved,
                   maturing = users.maturing + EXCLUDED.maturing,
                   forfeited = users.forfeited + EXCLUDED.forfeited),
             rewards_w AS (
               INSERT INTO rewards (asset_id, reward_no, beneficiary_no, kind, level, amount, status, placement_no, event_seq, plan_version, period)
               SELECT a, n, b, k, l, m, s, p, e, v, w
               FROM UNNEST($13::int4[], $14::int8[], $15::int4[], $16::text[], $17::int4[], $18::numeric[], $19::text[], $20::int8[], $21::int8[], $22::int4[], $23::int8[])
                 AS x(a, n, b, k, l, m, s, p, e, v, w)),
             company_w AS (
               INSERT INTO company_credits (asset_id, credit_no, amount, reason, placement_no, event_seq, reward_no)
               SELECT a, n, m, r, p, e, w
               FROM UNNEST($24::int4[], $25::int8[], $26::numeric[], $27::text[], $28::int8[], $29::int8[], $37::int8[])
                 AS x(a, n, m, r, p, e, w))
             UPDATE assets SET applied_events = x.e, last_block = COALESCE(x.b, assets.last_block),
                               company_total = company_total + x.c::numeric, next_period = x.p
             FROM UNNEST($30::int4[], $31::int8[], $32::int8[], $33::text[], $34::int8[]) AS x(id, e, b, c, p)
             WHERE assets.id = x.id",
            users.iter().map(|u| u.0).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.1).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.address.as_slice()).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.sponsor.map(|s| s as i32)).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.direct_count as i64).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.has_retopup).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.2.retopup_count as i64).collect::<Vec<_>>() as _,
            users.iter().map(|u| u.3.registered.map(|b| b as i64)).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.3.paid_in)).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.3.pending)).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.3.held)).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.4)).collect::<Vec<_>>() as _,
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
            &rw.period as _,
            &cc.asset as _,
            &cc.no as _,
            &cc.amount as _,
            &cc.reason as _,
            &cc.placement as _,
            &cc.seq as _,
            assets.iter().map(|a| a.0).collect::<Vec<_>>() as _,
            assets.iter().map(|a| a.1).collect::<Vec<_>>() as _,
            assets.iter().map(|a| a.2).collect::<Vec<_>>() as _,
            assets.iter().map(|a| a.3.as_str()).collect::<Vec<_>>() as _,
            assets.iter().map(|a| a.4).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.3.maturing_in)).collect::<Vec<_>>() as _,
            users.iter().map(|u| Money::from(u.3.forfeited)).collect::<Vec<_>>() as _,
            &cc.reward as _
        )
        .execute(&mut **tx)
        .await?;
        self.write_moved(
            tx,
            &users.iter().filter(|u| u.3.maturing_out > 0).map(|u| (u.0, u.1, u.3.maturing_out)).collect::<Vec<_>>(),
        )
        .await
    }

    /// The batch's status moves of earlier rewards, each only from the status the plan says it has (a row found in
    /// another status is a broken invariant: the batch fails).
    /// `matured`: (asset, user, amount) that left members' `maturing`, taken off once the batch's credits are in.
    async fn write_moved(&self, tx: &mut Tx, matured: &[(i32, i32, Amount)]) -> Result<(), LedgerError> {
        let m = &self.moved;
        if m.no.is_empty() {
            return Ok(());
        }
        sqlx::query!(
            "UPDATE users u SET maturing = u.maturing - x.m
             FROM UNNEST($1::int4[], $2::int4[], $3::numeric[]) AS x(a, n, m)
             WHERE u.asset_id = x.a AND u.user_no = x.n",
            &matured.iter().map(|m| m.0).collect::<Vec<_>>(),
            &matured.iter().map(|m| m.1).collect::<Vec<_>>(),
            &matured.iter().map(|m| Money::from(m.2)).collect::<Vec<_>>() as _
        )
        .execute(&mut **tx)
        .await?;
        let moved = sqlx::query!(
            "UPDATE rewards r SET status = x.t
             FROM UNNEST($1::int4[], $2::int8[], $3::text[], $4::text[]) AS x(a, n, f, t)
             WHERE r.asset_id = x.a AND r.reward_no = x.n AND r.status = x.f",
            &m.asset as _,
            &m.no as _,
            &m.from as _,
            &m.to as _
        )
        .execute(&mut **tx)
        .await?;
        if moved.rows_affected() != m.no.len() as u64 {
            return Err(LedgerError::Corrupt(format!(
                "{} of {} rewards to move were not in the status the plan holds",
                m.no.len() as u64 - moved.rows_affected(),
                m.no.len()
            )));
        }
        Ok(())
    }
}
