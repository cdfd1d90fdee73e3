//! The sales plan's rows and how the ledger drives it: every applied sale and where it stands (`sales`), customers'
//! attributed members (`sales_customers`), where the asset stands between events (`sales_state`, `sales_periods`),
//! each close's record and lines (`sales_closes`, `sales_close_lines`); and the loader that rebuilds the engine from
//! them, from the shared tables and from the quarantined sales (`quarantine` rows of `Sold` events).
//!
//! Maturities and refunds move RETAIL rows the ledger wrote earlier ([`Moved`]); the shared rows (rewards' statuses,
//! members' `maturing`, `pending`, `held` and `forfeited`, the company's credits and debits) are the ledger's, this
//! room writes only its own.

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::Address;
use futures::FutureExt;
use futures::future::BoxFuture;

use super::{
    Due as SalesDue, Maturity, QuarantinedSale, Sale, SaleState, SalesClose, SalesEngine, SalesOutcome, SalesParams,
    StoredSales,
};
use crate::error::LedgerError;
use crate::events::EventBody;
use crate::money::Money;
use crate::plan::kind::{PlanKind, RewardPlan};
use crate::plan::room::{Applied, AppliedKind, AssetAt, At, Closed, Due, Moved, PlanBook, PlanRoom, Tx};
use crate::plan::{Amount, EventOutcome, PlanEvent, Rejection, RewardStatus, RowCounters, UserNo, UserState};
use crate::stored;

/// The sales plan's entry in the registry.
pub(crate) static ROOM: Room = Room;

/// See [`ROOM`].
pub(crate) struct Room;

impl PlanRoom for Room {
    fn kind(&self) -> PlanKind {
        PlanKind::Sales
    }

    fn digest_tables(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            // matured_block is the confirmed block whose time matured a sale: it depends on the heads the listener
            // saw, as a close's closing_block does; the state does not.
            (
                "sales",
                "asset_id, sale_id, event_seq, block, sale_time, period, buyer, seller_no, customer, amount, pv, \
                 retail, reserve, refundable_until, state, retail_reward, refund_seq",
                "asset_id, sale_id",
            ),
            ("sales_customers", "*", "asset_id, address"),
            (
                "sales_closes",
                "asset_id, period, period_start, period_end, due, plan_version, applied_events, sales, budget, \
                 company_before, earned, credited",
                "asset_id, period",
            ),
            ("sales_close_lines", "*", "asset_id, period, user_no"),
        ]
    }

    fn load<'a>(&'a self, tx: &'a mut Tx, at: AssetAt) -> BoxFuture<'a, Result<Box<dyn PlanBook>, LedgerError>> {
        async move {
            let engine = load_engine(tx, at).await?;
            Ok(Box::new(SalesBook { engine, rows: SalesRows::default() }) as Box<dyn PlanBook>)
        }
        .boxed()
    }
}

/// A sales asset's engine and the rows of the batch being applied.
#[derive(Debug)]
struct SalesBook {
    engine: SalesEngine,
    rows: SalesRows,
}

/// A period closed in the batch, with the block that closed it and the events applied by then.
#[derive(Debug)]
struct ClosedPeriod {
    close: SalesClose,
    closing_block: u64,
    applied_events: u64,
}

/// Where a sale of the batch moved to.
#[derive(Debug)]
enum SaleMove {
    /// Its window passed at the confirmed block `block`.
    Final { block: u64 },
    /// Taken back by the event `seq`.
    Refunded { seq: u64 },
}

#[derive(Debug, Default)]
struct SalesRows {
    /// Sales applied in the batch, as applied (open).
    sales: Vec<Sale>,
    /// Sales (of this batch or earlier) that matured or were taken back, in order.
    moves: Vec<(u64, SaleMove)>,
    /// Customers attributed in the batch.
    customers: Vec<(Address, UserNo)>,
    /// Wallets that registered in the batch: no longer customers.
    registered: Vec<Address>,
    closes: Vec<ClosedPeriod>,
    /// Whether the latest time or a period's last block moved.
    seen: bool,
}

impl SalesBook {
    fn sold(&mut self, out: super::SaleOutcome) -> Result<Applied, LedgerError> {
        let sale = out.sale;
        let outcome = EventOutcome {
            seq: out.seq,
            plan_version: out.plan_version,
            user: sale.seller,
            amount: sale.amount,
            registration: None,
            retopup_no: None,
            credits: out.credits,
            company: out.company,
        };
        outcome.check_conservation()?;
        if let Some(member) = out.attributed {
            self.rows.customers.push((sale.buyer, member));
        }
        self.rows.sales.push(sale);
        Ok(Applied {
            outcome,
            placement_nos: Vec::new(),
            users: Vec::new(),
            kind: AppliedKind::Sale,
            moved: Vec::new(),
            company_debit: 0,
        })
    }

    fn refunded(&mut self, at: At, out: super::RefundOutcome) -> Result<Applied, LedgerError> {
        let sale = self.engine.sale(out.sale_id).ok_or_else(|| {
            LedgerError::Corrupt(format!("sale {} was refunded but the engine does not keep it", out.sale_id))
        })?;
        let (seller, retail, plan_version) = (sale.seller, sale.retail, self.engine.schedule().at(at.block).version);
        let moved = out
            .reversed
            .map(|reward_no| Moved {
                reward_no,
                user: seller,
                amount: retail,
                from: RewardStatus::Maturing,
                to: RewardStatus::Reversed,
            })
            .into_iter()
            .collect();
        self.rows.moves.push((out.sale_id, SaleMove::Refunded { seq: out.seq }));
        // The event's record: what left custody, the seller its user; no credit, the company debited a − r.
        let outcome = EventOutcome::new(out.seq, plan_version, seller, out.amount);
        Ok(Applied {
            outcome,
            placement_nos: Vec::new(),
            users: Vec::new(),
            kind: AppliedKind::Refund,
            moved,
            company_debit: out.company_debit,
        })
    }

    fn matured(&mut self, at: At, m: Maturity) -> Due {
        self.rows.moves.push((m.sale_id, SaleMove::Final { block: at.block }));
        let moved = m
            .retail
            .map(|(reward_no, user, amount, to)| Moved { reward_no, user, amount, from: RewardStatus::Maturing, to })
            .into_iter()
            .collect::<Vec<_>>();
        let reward = moved.first().map(|m| m.reward_no);
        let company = m.company.into_iter().filter_map(|c| reward.map(|r| (c, r))).collect();
        Due::Moved { moved, company }
    }
}

impl PlanBook for SalesBook {
    fn plan(&self) -> &dyn RewardPlan {
        &self.engine
    }

    fn plan_mut(&mut self) -> &mut dyn RewardPlan {
        &mut self.engine
    }

    fn apply(&mut self, at: At, event: &PlanEvent) -> Result<Result<Applied, Rejection>, LedgerError> {
        let out = match self.engine.apply(at.block, at.timestamp, event) {
            Ok(out) => out,
            Err(rejection) => return Ok(Err(rejection)),
        };
        self.rows.seen = true;
        let applied = match out {
            SalesOutcome::Registered(outcome) => {
                outcome.check_conservation()?;
                if let PlanEvent::Registration { user, .. } = event {
                    self.rows.registered.push(*user);
                }
                Applied::payment(outcome, Vec::new(), Vec::new())
            }
            SalesOutcome::Sold(out) => self.sold(out)?,
            SalesOutcome::Refunded(out) => self.refunded(at, out)?,
            SalesOutcome::SuspenseReleased(q) => {
                // The ledger takes a quarantined sale back before asking the plan (`crate::sales`), from the
                // quarantine rows the engine's record comes from.
                return Err(LedgerError::Corrupt(format!(
                    "the refund of quarantined sale {} reached the sales plan: its quarantine row is missing",
                    q.id
                )));
            }
        };
        Ok(Ok(applied))
    }

    fn close_through(&mut self, at: At) -> Vec<Due> {
        let seen = (self.engine.last_time(), self.engine.last_blocks().last());
        let due = self.engine.advance(at.block, at.timestamp);
        // Written with the batch's other rows of the asset (a head with nothing due touches no row, as for the
        // other plans' periods).
        self.rows.seen |= !due.is_empty() || (self.engine.last_time(), self.engine.last_blocks().last()) != seen;
        let applied_events = self.engine.counters().applied_events;
        due.into_iter()
            .map(|item| match item {
                SalesDue::Matured(m) => self.matured(at, m),
                SalesDue::Closed(close) => {
                    let closed = Closed {
                        period: close.period,
                        plan_version: close.plan_version,
                        credits: close.credits.clone(),
                    };
                    self.rows.closes.push(ClosedPeriod { close, closing_block: at.block, applied_events });
                    Due::Closed(closed)
                }
            })
            .collect()
    }

    fn flush<'a>(&'a mut self, tx: &'a mut Tx, asset_id: i32) -> BoxFuture<'a, Result<(), LedgerError>> {
        async move {
            let rows = std::mem::take(&mut self.rows);
            rows.write(tx, asset_id, &self.engine).await
        }
        .boxed()
    }

    fn refresh<'a>(&'a mut self, tx: &'a mut Tx, asset_id: i32) -> BoxFuture<'a, Result<(), LedgerError>> {
        async move {
            let (schedule, company) = stored::versions_and_company(tx, asset_id).await?;
            *self.engine.schedule_mut() = schedule;
            self.engine.set_company_balance(company);
            Ok(())
        }
        .boxed()
    }

    fn engine_any(&self) -> &dyn std::any::Any {
        &self.engine
    }
}

impl SalesRows {
    async fn write(self, tx: &mut Tx, asset_id: i32, engine: &SalesEngine) -> Result<(), LedgerError> {
        let s = &self.sales;
        if !s.is_empty() {
            let money = |f: fn(&Sale) -> Amount| s.iter().map(|x| Money::from(f(x))).collect::<Vec<_>>();
            sqlx::query!(
                "INSERT INTO sales (asset_id, sale_id, event_seq, block, sale_time, period, buyer, seller_no, customer,
                                    amount, pv, retail, reserve, refundable_until, state, retail_reward)
                 SELECT $1, i, e, b, t, p, bu, se, c, a, v, r, q, u, 'open', w
                 FROM UNNEST($2::numeric[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::bytea[], $8::int4[],
                             $9::bool[], $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[],
                             $15::int8[])
                   AS x(i, e, b, t, p, bu, se, c, a, v, r, q, u, w)",
                asset_id,
                &money(|x| u128::from(x.id)) as _,
                &s.iter().map(|x| x.seq as i64).collect::<Vec<_>>(),
                &s.iter().map(|x| x.block as i64).collect::<Vec<_>>(),
                &s.iter().map(|x| x.time as i64).collect::<Vec<_>>(),
                &s.iter().map(|x| x.period as i64).collect::<Vec<_>>(),
                &s.iter().map(|x| x.buyer.to_vec()).collect::<Vec<_>>(),
                &s.iter().map(|x| x.seller as i32).collect::<Vec<_>>(),
                &s.iter().map(|x| x.customer).collect::<Vec<_>>(),
                &money(|x| x.amount) as _,
                &money(|x| u128::from(x.pv)) as _,
                &money(|x| x.retail) as _,
                &money(|x| x.reserve) as _,
                &money(|x| u128::from(x.refundable_until)) as _,
                &s.iter().map(|x| x.retail_reward.map(|n| n as i64)).collect::<Vec<_>>() as _
            )
            .execute(&mut **tx)
            .await?;
        }
        for (id, to) in &self.moves {
            let (state, matured, refund) = match *to {
                SaleMove::Final { block } => ("final", Some(block as i64), None),
                SaleMove::Refunded { seq } => ("refunded", None, Some(seq as i64)),
            };
            let moved = sqlx::query!(
                "UPDATE sales SET state = $3, matured_block = $4, refund_seq = $5
                 WHERE asset_id = $1 AND sale_id = $2::text::numeric AND state = 'open'",
                asset_id,
                id.to_string(),
                state,
                matured,
                refund
            )
            .execute(&mut **tx)
            .await?;
            if moved.rows_affected() != 1 {
                return Err(LedgerError::Corrupt(format!(
                    "asset {asset_id}: sale {id} was not open when it became {state}"
                )));
            }
        }
        if !self.customers.is_empty() {
            sqlx::query!(
                "INSERT INTO sales_customers (asset_id, address, member_no)
                 SELECT $1, a, m FROM UNNEST($2::bytea[], $3::int4[]) AS x(a, m)",
                asset_id,
                &self.customers.iter().map(|(a, _)| a.to_vec()).collect::<Vec<_>>(),
                &self.customers.iter().map(|(_, m)| *m as i32).collect::<Vec<_>>()
            )
            .execute(&mut **tx)
            .await?;
        }
        if !self.registered.is_empty() {
            sqlx::query!(
                "DELETE FROM sales_customers WHERE asset_id = $1 AND address = ANY($2::bytea[])",
                asset_id,
                &self.registered.iter().map(|a| a.to_vec()).collect::<Vec<_>>()
            )
            .execute(&mut **tx)
            .await?;
        }
        for c in &self.closes {
            write_close(tx, asset_id, c).await?;
        }
        if self.seen || !self.closes.is_empty() {
            let blocks: Vec<(u64, u64)> = engine.last_blocks().collect();
            sqlx::query!(
                "WITH state AS (
                   INSERT INTO sales_state (asset_id, last_time) VALUES ($1, $2)
                   ON CONFLICT (asset_id) DO UPDATE SET last_time = EXCLUDED.last_time),
                 gone AS (
                   DELETE FROM sales_periods WHERE asset_id = $1 AND NOT (period = ANY($3::int8[])))
                 INSERT INTO sales_periods (asset_id, period, last_block)
                 SELECT $1, p, b FROM UNNEST($3::int8[], $4::int8[]) AS x(p, b)
                 ON CONFLICT (asset_id, period) DO UPDATE SET last_block = EXCLUDED.last_block",
                asset_id,
                engine.last_time() as i64,
                &blocks.iter().map(|(p, _)| *p as i64).collect::<Vec<_>>(),
                &blocks.iter().map(|(_, b)| *b as i64).collect::<Vec<_>>()
            )
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

/// A close's record and its lines (rare: one a period).
async fn write_close(tx: &mut Tx, asset_id: i32, c: &ClosedPeriod) -> Result<(), LedgerError> {
    let close = &c.close;
    sqlx::query!(
        "INSERT INTO sales_closes (asset_id, period, period_start, period_end, due, plan_version, closing_block,
                                   applied_events, sales, budget, company_before, earned, credited)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::numeric, $10::text::numeric, $11::text::numeric,
                 $12::text::numeric, $13::text::numeric)",
        asset_id,
        close.period as i64,
        close.start as i64,
        close.end as i64,
        close.due as i64,
        close.plan_version as i32,
        c.closing_block as i64,
        c.applied_events as i64,
        close.sales.to_string(),
        close.budget.to_string(),
        close.company_before.to_string(),
        close.earned.to_string(),
        close.credited().to_string()
    )
    .execute(&mut **tx)
    .await?;
    let l = &close.lines;
    let points = |f: fn(&super::CloseLine) -> u128| l.iter().map(|x| Money::from(f(x))).collect::<Vec<_>>();
    sqlx::query!(
        "INSERT INTO sales_close_lines (asset_id, period, user_no, pv, cv, gv, rank, earned, credited)
         SELECT $1, $2, u, p, c, g, r, e, k
         FROM UNNEST($3::int4[], $4::numeric[], $5::numeric[], $6::numeric[], $7::int4[], $8::numeric[], $9::numeric[])
           AS x(u, p, c, g, r, e, k)",
        asset_id,
        close.period as i64,
        &l.iter().map(|x| x.user as i32).collect::<Vec<_>>(),
        &points(|x| x.pv) as _,
        &points(|x| x.cv) as _,
        &points(|x| x.gv) as _,
        &l.iter().map(|x| x.rank.map(|r| r as i32)).collect::<Vec<_>>() as _,
        &points(|x| x.earned) as _,
        &points(|x| x.credited) as _
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl RewardPlan for SalesEngine {
    fn kind(&self) -> PlanKind {
        PlanKind::Sales
    }

    fn users(&self) -> &[UserState] {
        SalesEngine::users(self)
    }

    fn user_no(&self, address: &Address) -> Option<UserNo> {
        SalesEngine::user_no(self, address)
    }

    fn counters(&self) -> RowCounters {
        SalesEngine::counters(self)
    }

    fn set_frozen(&mut self, user: UserNo, frozen: bool) {
        SalesEngine::set_frozen(self, user, frozen)
    }

    fn set_company_credit_counter(&mut self, next: u64) {
        SalesEngine::set_company_credit_counter(self, next)
    }

    fn set_exited(&mut self, user: UserNo) {
        SalesEngine::exit(self, user)
    }

    fn next_period(&self) -> Option<u64> {
        SalesEngine::next_period(self)
    }

    fn follows_company_balance(&self) -> bool {
        true
    }

    fn set_company_balance(&mut self, balance: Amount) {
        SalesEngine::set_company_balance(self, balance)
    }
}

/// A sales asset's engine from its rows: the members, the customers, the sales of periods not closed yet and every
/// sale id, the quarantined sales, where the asset stands, the company's balance and the row counters.
async fn load_engine(tx: &mut Tx, at: AssetAt) -> Result<SalesEngine, LedgerError> {
    let asset_id = at.id;
    let corrupt = |what: String| LedgerError::Corrupt(format!("asset {asset_id}: {what}"));
    let schedule = stored::schedule::<SalesParams>(tx, asset_id).await?;
    let users = stored::users(tx, asset_id).await?;
    let customers = sqlx::query!("SELECT address, member_no FROM sales_customers WHERE asset_id = $1", asset_id)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|r| (Address::from_slice(&r.address), r.member_no as UserNo))
        .collect();
    let ids = sqlx::query_scalar!(
        r#"SELECT sale_id AS "sale_id: Money" FROM sales WHERE asset_id = $1 ORDER BY sale_id"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let sale_ids = ids.into_iter().map(|m| sale_no(m, &corrupt)).collect::<Result<BTreeSet<u64>, _>>()?;
    let mut sales = Vec::new();
    if let Some(next) = at.next_period {
        let rows = sqlx::query!(
            r#"SELECT sale_id AS "sale_id: Money", event_seq, block, sale_time, period, buyer, seller_no, customer,
                      amount AS "amount: Money", pv AS "pv: Money", retail AS "retail: Money",
                      reserve AS "reserve: Money", refundable_until AS "until: Money", state, retail_reward
               FROM sales WHERE asset_id = $1 AND period >= $2 ORDER BY event_seq"#,
            asset_id,
            next as i64
        )
        .fetch_all(&mut **tx)
        .await?;
        for r in rows {
            let state = match r.state.as_str() {
                "open" => SaleState::Open,
                "final" => SaleState::Final,
                "refunded" => SaleState::Refunded,
                other => return Err(corrupt(format!("a sale in state {other}"))),
            };
            sales.push(Sale {
                id: sale_no(r.sale_id, &corrupt)?,
                seq: r.event_seq as u64,
                block: r.block as u64,
                time: r.sale_time as u64,
                period: r.period as u64,
                buyer: Address::from_slice(&r.buyer),
                seller: r.seller_no as UserNo,
                customer: r.customer,
                amount: r.amount.to_amount()?,
                pv: sale_no(r.pv, &corrupt)?,
                retail: r.retail.to_amount()?,
                reserve: r.reserve.to_amount()?,
                refundable_until: sale_no(r.until, &corrupt)?,
                state,
                retail_reward: r.retail_reward.map(|n| n as u64),
            });
        }
    }
    let quarantined = quarantined_sales(tx, asset_id, &sale_ids).await?;
    let last_blocks = sqlx::query!("SELECT period, last_block FROM sales_periods WHERE asset_id = $1", asset_id)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|r| (r.period as u64, r.last_block as u64))
        .collect();
    let last_time = sqlx::query_scalar!("SELECT last_time FROM sales_state WHERE asset_id = $1", asset_id)
        .fetch_optional(&mut **tx)
        .await?
        .unwrap_or(0) as u64;
    let next = stored::next_numbers(tx, asset_id).await?;
    let counters = RowCounters { applied_events: at.applied_events, ..next };
    let company = stored::company_balance(tx, asset_id).await?;
    let record = StoredSales {
        customers,
        sales,
        sale_ids: sale_ids.into_iter().collect(),
        quarantined,
        last_blocks,
        next_period: at.next_period,
        last_time,
        company,
        counters,
    };
    SalesEngine::restore(schedule, users, record).map_err(corrupt)
}

fn sale_no(m: Money, corrupt: &impl Fn(String) -> LedgerError) -> Result<u64, LedgerError> {
    u64::try_from(m.0).map_err(|_| corrupt(format!("a sale's number {} is beyond 64 bits", m.0)))
}

/// The sales the plan refused, in chain order, the first of each id only and none whose id an applied sale has (the
/// engine remembers a refused sale only then): their `Sold` events' quarantine rows, taken back or not.
async fn quarantined_sales(
    tx: &mut Tx,
    asset_id: i32,
    applied: &BTreeSet<u64>,
) -> Result<Vec<QuarantinedSale>, LedgerError> {
    let rows = sqlx::query!(
        r#"SELECT c.payload, q.taken_back_tx IS NOT NULL AS "taken_back!"
           FROM quarantine q
           JOIN chain_events c ON (c.chain_id, c.tx_hash, c.log_index) = (q.chain_id, q.tx_hash, q.log_index)
           WHERE q.asset_id = $1 AND c.name = 'Sold' AND q.reason_code <> 'missed_event'
           ORDER BY c.block_number, c.log_index"#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut seen = BTreeMap::new();
    for r in rows {
        let body: EventBody = serde_json::from_value(r.payload)
            .map_err(|e| LedgerError::Corrupt(format!("asset {asset_id}: a quarantined sale does not parse: {e}")))?;
        let EventBody::Sold { id, buyer, amount, refundable_until, .. } = body else { continue };
        let id = crate::events::sale_id(&id);
        if applied.contains(&id) {
            continue;
        }
        seen.entry(id).or_insert(QuarantinedSale {
            id,
            buyer,
            amount: Amount::try_from(amount).unwrap_or(Amount::MAX),
            refundable_until: u64::try_from(refundable_until).unwrap_or(u64::MAX),
            released: r.taken_back,
        });
    }
    Ok(seen.into_values().collect())
}
