//! The sales plan of PLAN-SALES.md as a pure state machine: registrations that pay the company only, sales to
//! customers and members with a retail commission `maturing` until the buyer's refund window has passed, refunds the
//! buyer takes while a sale is open, and period closes that pay unilevel commissions by rank (PV, GV and the
//! customer share) within the reserve the period's sales set aside. No I/O, integer base units, whole pv points.
//!
//! Where each rule lives:
//! - §0 parameters and validation: [`SalesParams`] (`params`).
//! - §1 members, customers and their attributed member, sellers: [`SalesEngine::apply`] (`sale`).
//! - §2 a registration, §3 a sale, §4 a refund: [`SalesEngine::apply`].
//! - §3's due items (maturities, then closes, in the order of their due time) and §5's closes:
//!   [`SalesEngine::advance`], with the close's record ([`SalesClose`], [`CloseLine`]).
//!
//! Readings where PLAN-SALES.md is silent, each chosen to keep §8's invariants:
//! - A sale whose seller has left (PLAN.md §5) still makes its RETAIL row `maturing` (it is a liability the
//!   contract's floor counts through the committed root, so a refund can always be paid); at maturity that row
//!   is the company's, as §5 says of a row still maturing at a leave. Reversed if the sale is taken back.
//! - An applied refund, registration or sale counts as an applied event; a quarantined one does not. A refused
//!   sale is remembered (its id is never used again, and its buyer may take it back inside its window, which
//!   releases its suspense) — the one refusal that leaves a trace in the engine.
//! - Chain time never goes backwards: an event whose block time is before the last one seen is refused
//!   (`period_order`).

mod params;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alloy::primitives::Address;

pub use params::{Rank, SalesParams};

use super::binary::mul_div;
use super::params::PlanSchedule;
use super::vocabulary::*;
use params::BPS;

/// Points of volume (pv, PV, CV, GV), whole points.
pub type Points = u128;

/// An event the sales plan consumes, already mapped to this asset: every plan's events, of which this plan alone
/// applies sales and refunds (§3, §4); a retopup it refuses (§2).
pub type SalesEvent = PlanEvent;

/// Where a sale stands (§1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleState {
    /// The buyer may still take it back.
    Open,
    /// Its window passed: it counts in its period.
    Final,
    /// Taken back while open: it counts nowhere.
    Refunded,
}

/// A sale the plan applied (§3 step 3's record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// Its id (the payload's nonce).
    pub id: u64,
    /// Its position among the asset's applied events (chain order).
    pub seq: u64,
    /// Its block.
    pub block: u64,
    /// Its block's time.
    pub time: u64,
    /// The period containing that time.
    pub period: u64,
    /// B.
    pub buyer: Address,
    /// m: the seller (B itself for a member sale).
    pub seller: UserNo,
    /// A sale to a customer (not a member of the asset when applied).
    pub customer: bool,
    /// a.
    pub amount: Amount,
    /// v.
    pub pv: u64,
    /// r: the seller's retail commission (0 for a member sale and for genesis).
    pub retail: Amount,
    /// q: its share of the period's commission reserve.
    pub reserve: Amount,
    /// T.
    pub refundable_until: u64,
    /// Open, final or refunded.
    pub state: SaleState,
    /// The RETAIL row (`None` when r = 0).
    pub retail_reward: Option<u64>,
}

/// A sale the plan refused, remembered for its id and for its buyer's refund (§3, §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedSale {
    /// Its id.
    pub id: u64,
    /// Who paid; the refund goes back to them.
    pub buyer: Address,
    /// What it paid, held in suspense.
    pub amount: Amount,
    /// Its T as carried: the buyer may take it back while the block time is before it.
    pub refundable_until: u64,
    /// Its suspense was released to the buyer (once).
    pub released: bool,
}

/// What an applied sale did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleOutcome {
    /// Position among the asset's applied events.
    pub seq: u64,
    /// The version in force at the sale's block (its retail_bps and max_payout_bps).
    pub plan_version: u32,
    /// The sale's record.
    pub sale: Sale,
    /// Set when the sale made its buyer a customer of a member (their first applied customer sale).
    pub attributed: Option<UserNo>,
    /// The RETAIL credit, `maturing` (none when r = 0).
    pub credits: Vec<Credit>,
    /// The company's a − r.
    pub company: Vec<CompanyCredit>,
}

/// What an applied refund did (§4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    /// Position among the asset's applied events.
    pub seq: u64,
    /// The sale taken back.
    pub sale_id: u64,
    /// Who was paid back, and how much (a).
    pub buyer: Address,
    /// a.
    pub amount: Amount,
    /// The RETAIL row now `reversed` (none when r was 0).
    pub reversed: Option<u64>,
    /// What the company is debited: a − r.
    pub company_debit: Amount,
}

/// What an applied event did under the sales plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SalesOutcome {
    /// A registration: the company is credited the join fee; nobody else.
    Registered(EventOutcome),
    /// A sale.
    Sold(SaleOutcome),
    /// A refund of an open sale.
    Refunded(RefundOutcome),
    /// A refund of a quarantined sale inside its window: its suspense goes back to its buyer (the ledger's
    /// quarantine rows say how); the plan's balances do not move.
    SuspenseReleased(QuarantinedSale),
}

/// A sale that became final (§3's maturity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maturity {
    /// The sale.
    pub sale_id: u64,
    /// Its T: when it matured.
    pub at: u64,
    /// Its RETAIL row, the seller and r, with the status it moves to: `pending`, `held` (the seller is frozen)
    /// or `forfeited` (the seller has left: the company's, `company` below).
    pub retail: Option<(u64, UserNo, Amount, RewardStatus)>,
    /// The company's credit of a RETAIL row whose seller has left.
    pub company: Vec<CompanyCredit>,
}

/// One member's line of a close (§5's record), for members with PV > 0, GV > 0 or u > 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseLine {
    /// The member.
    pub user: UserNo,
    /// PV(X, p).
    pub pv: Points,
    /// CV(X, p).
    pub cv: Points,
    /// GV(X, p).
    pub gv: Points,
    /// The rank held (its index in the version's ranks), if any.
    pub rank: Option<usize>,
    /// u(X) before scaling.
    pub earned: Amount,
    /// u(X) after scaling: what was credited (0 for a member who has left: it stays with the company).
    pub credited: Amount,
}

/// What closing one period did (§5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesClose {
    /// The period.
    pub period: u64,
    /// Its first second.
    pub start: u64,
    /// end(p): the first second of the next.
    pub end: u64,
    /// E_p: when it closed.
    pub due: u64,
    /// The version it closed under.
    pub plan_version: u32,
    /// S_p: Σ a over its final sales.
    pub sales: Amount,
    /// Q_p: Σ q over its final sales (the budget).
    pub budget: Amount,
    /// C before the close.
    pub company_before: Amount,
    /// U: Σ u(X) before scaling.
    pub earned: Amount,
    /// Members with PV > 0, GV > 0 or u > 0, in number order.
    pub lines: Vec<CloseLine>,
    /// The UNILEVEL credits (pending, or held while frozen), numbered like every reward.
    pub credits: Vec<Credit>,
}

impl SalesClose {
    /// Σ credited: the company's debit.
    pub fn credited(&self) -> Amount {
        self.credits.iter().map(|c| c.amount).sum()
    }
}

/// A due item processed when the ledger learnt of a confirmed block (§3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// A sale became final.
    Matured(Maturity),
    /// A period closed.
    Closed(SalesClose),
}

/// A period not closed yet: its sales in chain order and what its close needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PeriodBook {
    /// Ids of its applied sales, in chain order.
    sales: Vec<u64>,
    /// The largest T among them (refunded ones included).
    last_due: u64,
    /// Σ q over its final sales.
    reserve: Amount,
}

/// A member's figures for one period (§1).
#[derive(Debug, Clone, Copy, Default)]
struct Volume {
    pv: Points,
    cv: Points,
    gv: Points,
}

/// Everything a sales engine is rebuilt from (see [`SalesEngine::restore`]); a ledger keeps each part in its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSales {
    /// Every customer with an attributed member (wallets that registered since are not listed).
    pub customers: Vec<(Address, UserNo)>,
    /// The sales of periods not closed yet, in any order.
    pub sales: Vec<Sale>,
    /// Every sale id ever applied (of closed periods too).
    pub sale_ids: Vec<u64>,
    /// Every refused sale.
    pub quarantined: Vec<QuarantinedSale>,
    /// The last block seen in each period not closed yet (and the one before the next to close, if any).
    pub last_blocks: Vec<(u64, u64)>,
    /// The next period to close.
    pub next_period: Option<u64>,
    /// The latest block time seen.
    pub last_time: u64,
    /// C.
    pub company: Amount,
    /// Next row numbers.
    pub counters: RowCounters,
}

/// One asset's sales plan; see the module documentation. Genesis is user 0.
#[derive(Debug, Clone)]
pub struct SalesEngine {
    schedule: PlanSchedule<SalesParams>,
    users: Vec<UserState>,
    by_address: HashMap<Address, UserNo>,
    /// A customer's attributed member, from its first applied customer sale until it registers.
    attributed: HashMap<Address, UserNo>,
    /// The sales of periods not closed yet, by id.
    sales: HashMap<u64, Sale>,
    /// Every sale id ever applied.
    ids: BTreeSet<u64>,
    /// Refused sales, by id.
    quarantined: HashMap<u64, QuarantinedSale>,
    /// Open sales by due time: (T, seq, id).
    maturing: BTreeSet<(u64, u64, u64)>,
    /// Periods from the next to close on, each with its sales.
    periods: BTreeMap<u64, PeriodBook>,
    /// The last block seen in each period not closed yet (an event's or a confirmed head's): the version in force
    /// at the last one before a period's end closes it.
    last_block_in: BTreeMap<u64, u64>,
    /// The next period to close, from the first applied event's period on.
    next_period: Option<u64>,
    /// The latest block time seen.
    last_time: u64,
    /// C: the company's balance as the plan counts it.
    company: Amount,
    /// Σ (a − r) over open sales.
    open_refunds: Amount,
    counters: RowCounters,
}

impl SalesEngine {
    /// An asset whose only member is the genesis user.
    pub fn new(genesis: Address, schedule: PlanSchedule<SalesParams>) -> Self {
        Self {
            schedule,
            users: vec![UserState::new(genesis, None)],
            by_address: HashMap::from([(genesis, 0)]),
            attributed: HashMap::new(),
            sales: HashMap::new(),
            ids: BTreeSet::new(),
            quarantined: HashMap::new(),
            maturing: BTreeSet::new(),
            periods: BTreeMap::new(),
            last_block_in: BTreeMap::new(),
            next_period: None,
            last_time: 0,
            company: 0,
            open_refunds: 0,
            counters: RowCounters::default(),
        }
    }

    /// Rebuilds an engine from what the ledger stores ([`StoredSales`]) and the members in number order (genesis
    /// first); an inconsistent record is refused.
    pub fn restore(
        schedule: PlanSchedule<SalesParams>,
        users: Vec<UserState>,
        stored: StoredSales,
    ) -> Result<Self, String> {
        let StoredSales {
            customers,
            sales,
            sale_ids,
            quarantined,
            last_blocks,
            next_period,
            last_time,
            company,
            counters,
        } = stored;
        if users.is_empty() || users[0].sponsor.is_some() {
            return Err("genesis must come first".into());
        }
        for (i, u) in users.iter().enumerate().skip(1) {
            if u.sponsor.is_none_or(|s| s as usize >= i) {
                return Err(format!("member {i}: its sponsor must be a member numbered before it"));
            }
        }
        let by_address: HashMap<Address, UserNo> =
            users.iter().enumerate().map(|(i, u)| (u.address, i as UserNo)).collect();
        let mut engine = Self::new(users[0].address, schedule);
        engine.users = users;
        engine.by_address = by_address;
        for (customer, member) in customers {
            if engine.by_address.contains_key(&customer) || member as usize >= engine.users.len() {
                return Err(format!("customer {customer}: a member, or attributed to no member"));
            }
            engine.attributed.insert(customer, member);
        }
        engine.ids = sale_ids.into_iter().collect();
        for q in quarantined {
            if engine.ids.contains(&q.id) {
                return Err(format!("sale {}: both applied and quarantined", q.id));
            }
            engine.quarantined.insert(q.id, q);
        }
        let mut sales = sales;
        sales.sort_by_key(|s| s.seq);
        for sale in sales {
            let known = engine.ids.contains(&sale.id) && (sale.seller as usize) < engine.users.len();
            if !known || next_period.is_none_or(|next| sale.period < next) {
                return Err(format!("sale {}: unknown, of an unknown seller, or of a closed period", sale.id));
            }
            if sale.state == SaleState::Open && sale.refundable_until <= last_time {
                return Err(format!("sale {}: open after its window", sale.id));
            }
            let book = engine.periods.entry(sale.period).or_default();
            book.sales.push(sale.id);
            book.last_due = book.last_due.max(sale.refundable_until);
            match sale.state {
                SaleState::Open => {
                    engine.open_refunds += sale.amount - sale.retail;
                    engine.maturing.insert((sale.refundable_until, sale.seq, sale.id));
                }
                SaleState::Final => book.reserve += sale.reserve,
                SaleState::Refunded => {}
            }
            engine.sales.insert(sale.id, sale);
        }
        engine.last_block_in = last_blocks.into_iter().collect();
        engine.next_period = next_period;
        engine.last_time = last_time;
        engine.company = company;
        engine.counters = counters;
        Ok(engine)
    }

    /// What the ledger stores to rebuild this engine ([`restore`](Self::restore)), each list in a fixed order.
    pub fn stored(&self) -> StoredSales {
        let mut customers: Vec<(Address, UserNo)> = self.attributed.iter().map(|(a, m)| (*a, *m)).collect();
        customers.sort();
        let mut sales: Vec<Sale> = self.sales.values().cloned().collect();
        sales.sort_by_key(|s| s.seq);
        let mut quarantined: Vec<QuarantinedSale> = self.quarantined.values().cloned().collect();
        quarantined.sort_by_key(|q| q.id);
        StoredSales {
            customers,
            sales,
            sale_ids: self.ids.iter().copied().collect(),
            quarantined,
            last_blocks: self.last_block_in.iter().map(|(p, b)| (*p, *b)).collect(),
            next_period: self.next_period,
            last_time: self.last_time,
            company: self.company,
            counters: self.counters,
        }
    }

    /// Every member in number order, genesis first.
    pub fn users(&self) -> &[UserState] {
        &self.users
    }

    /// The number of the member with this wallet.
    pub fn user_no(&self, address: &Address) -> Option<UserNo> {
        self.by_address.get(address).copied()
    }

    /// The member a customer is attributed to (`None` for a member, or a wallet that bought nothing yet).
    pub fn attributed(&self, customer: &Address) -> Option<UserNo> {
        self.attributed.get(customer).copied()
    }

    /// A sale of a period not closed yet.
    pub fn sale(&self, id: u64) -> Option<&Sale> {
        self.sales.get(&id)
    }

    /// A refused sale.
    pub fn quarantined_sale(&self, id: u64) -> Option<&QuarantinedSale> {
        self.quarantined.get(&id)
    }

    /// The plan versions.
    pub fn schedule(&self) -> &PlanSchedule<SalesParams> {
        &self.schedule
    }

    /// Lets the ledger swap in the stored schedule after an admin added a version.
    pub fn schedule_mut(&mut self) -> &mut PlanSchedule<SalesParams> {
        &mut self.schedule
    }

    /// C: the company's balance as the plan counts it.
    pub fn company(&self) -> Amount {
        self.company
    }

    /// Tells the plan the company's balance as the ledger knows it (credits less treasury transfers).
    pub fn set_company_balance(&mut self, balance: Amount) {
        self.company = balance;
    }

    /// H (§1): Σ (a − r) over open sales, plus Σ q over the final sales of periods not closed yet. A treasury
    /// transfer may take at most C − H (§4).
    pub fn held(&self) -> Amount {
        self.open_refunds + self.periods.values().map(|p| p.reserve).sum::<Amount>()
    }

    /// The next period to close (`None` before the first applied event).
    pub fn next_period(&self) -> Option<u64> {
        self.next_period
    }

    /// Next row numbers.
    pub fn counters(&self) -> RowCounters {
        self.counters
    }

    /// The latest block time seen.
    pub fn last_time(&self) -> u64 {
        self.last_time
    }

    /// The last block seen in each period not closed yet (and the one before the next to close, if any), in period
    /// order: what [`StoredSales::last_blocks`] keeps.
    pub fn last_blocks(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.last_block_in.iter().map(|(p, b)| (*p, *b))
    }

    /// Sets the frozen flag (an admin action): a frozen member's new credits, and RETAIL rows maturing while
    /// they are frozen, are `held`.
    pub fn set_frozen(&mut self, user: UserNo, frozen: bool) {
        if let Some(u) = self.users.get_mut(user as usize) {
            u.frozen = frozen;
        }
    }

    /// Marks `user` exited (PLAN.md §5, PLAN-SALES.md §5): their RETAIL rows still maturing become the company's
    /// when they mature, and every later credit that would be theirs stays with the company.
    pub fn exit(&mut self, user: UserNo) {
        if let Some(u) = self.users.get_mut(user as usize) {
            u.exited = true;
        }
    }

    /// Admin forfeits number company credits too.
    pub fn set_company_credit_counter(&mut self, next: u64) {
        self.counters.company_credit = next;
    }

    /// Processes the due items of a confirmed block `block` at time `timestamp` (§3), before any event of that
    /// block: every sale with T ≤ timestamp matures and every period with E_p ≤ timestamp closes, in the order of
    /// their due times (maturities first at the same time; a period waits for the one before it).
    pub fn advance(&mut self, block: u64, timestamp: u64) -> Vec<Due> {
        let mut due = Vec::new();
        loop {
            let maturity = self.maturing.first().copied().filter(|(t, _, _)| *t <= timestamp);
            let close = self.next_period.map(|p| (p, self.due_time(p))).filter(|(_, e)| *e <= timestamp);
            match (maturity, close) {
                (Some((t, _, id)), Some((_, e))) if t <= e => due.push(Due::Matured(self.mature(id))),
                (Some((_, _, id)), None) => due.push(Due::Matured(self.mature(id))),
                (_, Some((p, e))) => due.push(Due::Closed(self.close(p, e))),
                (None, None) => break,
            }
        }
        self.see(block, timestamp);
        due
    }

    /// E_p of a period whose sales are all known: max(end(p), the largest T among its sales).
    fn due_time(&self, period: u64) -> u64 {
        let end = self.params().bounds(period).1;
        end.max(self.periods.get(&period).map_or(0, |p| p.last_due))
    }

    /// Notes block `block` at `timestamp` as seen (the version of the last block seen before a period's end closes
    /// it).
    fn see(&mut self, block: u64, timestamp: u64) {
        self.last_time = self.last_time.max(timestamp);
        if self.next_period.is_some() {
            let period = self.params().period_of(timestamp);
            let last = self.last_block_in.entry(period).or_insert(block);
            *last = (*last).max(block);
        }
    }

    fn params(&self) -> &SalesParams {
        // Periods never change between versions: the first version's count for every one.
        &self.schedule.versions()[0].params
    }

    fn status_of(&self, user: UserNo) -> RewardStatus {
        if self.users[user as usize].frozen { RewardStatus::Held } else { RewardStatus::Pending }
    }

    fn next_seq(&mut self) -> u64 {
        let seq = self.counters.applied_events;
        self.counters.applied_events += 1;
        seq
    }

    /// Checks `event`, of block `block` at time `timestamp`, against the version of that block and applies it, or
    /// refuses it. The ledger processes the block's due items first ([`advance`](Self::advance)). A refused sale
    /// is remembered as quarantined (its id, its buyer's refund); nothing else changes on a refusal.
    pub fn apply(&mut self, block: u64, timestamp: u64, event: &SalesEvent) -> Result<SalesOutcome, Rejection> {
        if timestamp < self.last_time {
            return Err(Rejection::PeriodOrder { timestamp });
        }
        let outcome = match event {
            SalesEvent::Registration { user, sponsor, amount } => self.register(block, *user, *sponsor, *amount),
            SalesEvent::Retopup { .. } => Err(Rejection::NotInThisPlan { event: "retopup" }),
            SalesEvent::Sale(sale) => {
                let outcome = self.sell(block, timestamp, sale);
                if outcome.is_err() && !self.ids.contains(&sale.sale_id) {
                    self.quarantined.entry(sale.sale_id).or_insert(QuarantinedSale {
                        id: sale.sale_id,
                        buyer: sale.buyer,
                        amount: sale.amount,
                        refundable_until: sale.refundable_until,
                        released: false,
                    });
                }
                outcome
            }
            SalesEvent::Refund { sale_id } => self.refund(timestamp, *sale_id),
        }?;
        if self.next_period.is_none() && !matches!(outcome, SalesOutcome::SuspenseReleased(_)) {
            self.next_period = Some(self.params().period_of(timestamp));
        }
        self.see(block, timestamp);
        Ok(outcome)
    }

    /// §2.
    fn register(
        &mut self,
        block: u64,
        user: Address,
        sponsor: Address,
        amount: Amount,
    ) -> Result<SalesOutcome, Rejection> {
        let version = self.schedule.at(block);
        let (plan_version, fee) = (version.version, version.params.join_fee);
        if amount != fee {
            return Err(Rejection::WrongAmount { expected: fee, got: amount });
        }
        if self.by_address.contains_key(&user) {
            return Err(Rejection::DuplicateUser(user));
        }
        let sponsor_no = self.user_no(&sponsor).ok_or(Rejection::UnknownSponsor(sponsor))?;
        let seq = self.next_seq();
        let no = self.users.len() as UserNo;
        self.users.push(UserState::new(user, Some(sponsor_no)));
        self.by_address.insert(user, no);
        self.attributed.remove(&user);
        let s = &mut self.users[sponsor_no as usize];
        s.direct_count += 1;
        let mut out = EventOutcome::new(seq, plan_version, no, amount);
        out.registration = Some(RegistrationFacts { sponsor: sponsor_no, referral_number: s.direct_count });
        self.company += amount;
        self.counters.push_company(&mut out.company, amount, CompanyReason::JoinFee, None);
        Ok(SalesOutcome::Registered(out))
    }

    /// §3.
    fn sell(&mut self, block: u64, timestamp: u64, e: &SaleEvent) -> Result<SalesOutcome, Rejection> {
        let version = self.schedule.at(block);
        let (plan_version, full_retail, reserve) =
            (version.version, version.params.retail(e.amount), version.params.reserve(e.amount));
        if e.amount == 0 {
            return Err(Rejection::SaleAmount);
        }
        if self.ids.contains(&e.sale_id) || self.quarantined.contains_key(&e.sale_id) {
            return Err(Rejection::SaleIdReused { sale_id: e.sale_id });
        }
        if e.refundable_until <= timestamp {
            return Err(Rejection::RefundWindow { until: e.refundable_until, timestamp });
        }
        let (seller, customer, attributed) = match self.user_no(&e.buyer) {
            Some(member) => (member, false, None),
            None => match self.attributed.get(&e.buyer) {
                Some(m) => (*m, true, None),
                None => {
                    let named = self
                        .user_no(&e.named_seller)
                        .filter(|_| e.named_seller != e.buyer)
                        .ok_or(Rejection::UnknownSeller { seller: e.named_seller })?;
                    (named, true, Some(named))
                }
            },
        };
        let retail = if customer && seller != 0 { full_retail } else { 0 };
        if e.retail != retail {
            return Err(Rejection::RetailMismatch { signed: e.retail, expected: retail });
        }
        let seq = self.next_seq();
        let period = self.params().period_of(timestamp);
        if let Some(m) = attributed {
            self.attributed.insert(e.buyer, m);
        }
        let mut credits = Vec::new();
        let retail_reward = (retail > 0).then(|| {
            let no = self.counters.reward;
            credits.push(Credit {
                reward_no: no,
                beneficiary: seller,
                kind: RewardKind::Retail,
                level: 0,
                amount: retail,
                status: RewardStatus::Maturing,
                placement: None,
            });
            self.counters.reward += 1;
            no
        });
        let mut company = Vec::new();
        let rest = e.amount - retail;
        self.company += rest;
        self.open_refunds += rest;
        self.counters.push_company(&mut company, rest, CompanyReason::SaleRest, None);
        let sale = Sale {
            id: e.sale_id,
            seq,
            block,
            time: timestamp,
            period,
            buyer: e.buyer,
            seller,
            customer,
            amount: e.amount,
            pv: e.pv,
            retail,
            reserve,
            refundable_until: e.refundable_until,
            state: SaleState::Open,
            retail_reward,
        };
        self.ids.insert(e.sale_id);
        self.maturing.insert((e.refundable_until, seq, e.sale_id));
        let book = self.periods.entry(period).or_default();
        book.sales.push(e.sale_id);
        book.last_due = book.last_due.max(e.refundable_until);
        self.sales.insert(e.sale_id, sale.clone());
        Ok(SalesOutcome::Sold(SaleOutcome { seq, plan_version, sale, attributed, credits, company }))
    }

    /// §4.
    fn refund(&mut self, timestamp: u64, sale_id: u64) -> Result<SalesOutcome, Rejection> {
        if let Some(q) = self.quarantined.get_mut(&sale_id) {
            if q.released || timestamp >= q.refundable_until {
                return Err(Rejection::RefundNotOpen { sale_id });
            }
            q.released = true;
            return Ok(SalesOutcome::SuspenseReleased(q.clone()));
        }
        let open = self.sales.get(&sale_id).is_some_and(|s| s.state == SaleState::Open);
        if !open {
            return Err(Rejection::RefundNotOpen { sale_id });
        }
        let seq = self.next_seq();
        let sale = self.sales.get_mut(&sale_id).expect("an open sale is kept");
        sale.state = SaleState::Refunded;
        let debit = sale.amount - sale.retail;
        self.maturing.remove(&(sale.refundable_until, sale.seq, sale_id));
        let out = RefundOutcome {
            seq,
            sale_id,
            buyer: sale.buyer,
            amount: sale.amount,
            reversed: sale.retail_reward,
            company_debit: debit,
        };
        self.company -= debit;
        self.open_refunds -= debit;
        Ok(SalesOutcome::Refunded(out))
    }

    /// §3's maturity of open sale `id`.
    fn mature(&mut self, id: u64) -> Maturity {
        let sale = self.sales.get_mut(&id).expect("a maturing sale is kept");
        self.maturing.remove(&(sale.refundable_until, sale.seq, id));
        sale.state = SaleState::Final;
        let (seller, retail, reserve, period, at) =
            (sale.seller, sale.retail, sale.reserve, sale.period, sale.refundable_until);
        let row = sale.retail_reward;
        self.open_refunds -= sale.amount - retail;
        self.periods.get_mut(&period).expect("an open sale's period is not closed").reserve += reserve;
        let mut company = Vec::new();
        let retail = row.map(|no| {
            let status = if self.users[seller as usize].exited {
                self.company += retail;
                self.counters.push_company(&mut company, retail, CompanyReason::ExitedMember, None);
                RewardStatus::Forfeited
            } else {
                self.status_of(seller)
            };
            (no, seller, retail, status)
        });
        Maturity { sale_id: id, at, retail, company }
    }

    /// §5 for `period`, due at `due`.
    fn close(&mut self, period: u64, due: u64) -> SalesClose {
        let last_block = self.last_block_in.range(..=period).next_back().map_or(0, |(_, b)| *b);
        let version = self.schedule.at(last_block).clone();
        let p = &version.params;
        let (start, end) = p.bounds(period);
        let book = self.periods.remove(&period).unwrap_or_default();
        let sales: Vec<Sale> =
            book.sales.iter().filter_map(|id| self.sales.remove(id)).filter(|s| s.state == SaleState::Final).collect();
        // Step 1: PV, CV and GV (members are numbered after their sponsors: one pass from the last member up).
        let n = self.users.len();
        let mut volume = vec![Volume::default(); n];
        for s in &sales {
            let v = &mut volume[s.seller as usize];
            v.pv += Points::from(s.pv);
            if s.customer {
                v.cv += Points::from(s.pv);
            }
        }
        for x in (0..n).rev() {
            volume[x].gv += volume[x].pv;
            if let Some(sponsor) = self.users[x].sponsor {
                let gv = volume[x].gv;
                volume[sponsor as usize].gv += gv;
            }
        }
        let rank = |x: usize| -> Option<usize> {
            if x == 0 {
                return None;
            }
            let v = volume[x];
            p.rank(v.pv, v.cv, v.gv)
        };
        let depth: Vec<u32> = (0..n).map(|x| rank(x).map_or(0, |r| p.ranks[r].depth)).collect();
        // Step 2: each final sale, in chain order, up its seller's sponsor chain.
        let mut earned = vec![0 as Amount; n];
        for s in &sales {
            let base = if s.customer { s.amount } else { mul_div(s.amount, u128::from(p.member_sale_bps), BPS) };
            let mut at = self.users[s.seller as usize].sponsor;
            for (k, bps) in p.level_bps.iter().enumerate() {
                let Some(a) = at else { break };
                if depth[a as usize] as usize > k {
                    earned[a as usize] += mul_div(base, u128::from(*bps), BPS);
                }
                at = self.users[a as usize].sponsor;
            }
        }
        // Step 3: the budget.
        let total: Amount = earned.iter().sum();
        let budget = book.reserve;
        let scaled = |u: Amount| if total > budget { mul_div(u, budget, total) } else { u };
        // Step 4: the credits.
        let company_before = self.company;
        let mut lines = Vec::new();
        let mut credits = Vec::new();
        for x in 0..n {
            let (v, u) = (volume[x], earned[x]);
            if v.pv == 0 && v.gv == 0 && u == 0 {
                continue;
            }
            let user = x as UserNo;
            let credited = if self.users[x].exited { 0 } else { scaled(u) };
            if credited > 0 {
                credits.push(Credit {
                    reward_no: self.counters.reward,
                    beneficiary: user,
                    kind: RewardKind::Unilevel,
                    level: 0,
                    amount: credited,
                    status: self.status_of(user),
                    placement: None,
                });
                self.counters.reward += 1;
            }
            lines.push(CloseLine { user, pv: v.pv, cv: v.cv, gv: v.gv, rank: rank(x), earned: u, credited });
        }
        let close = SalesClose {
            period,
            start,
            end,
            due,
            plan_version: version.version,
            sales: sales.iter().map(|s| s.amount).sum(),
            budget,
            company_before,
            earned: total,
            lines,
            credits,
        };
        self.company -= close.credited();
        self.next_period = Some(period + 1);
        self.last_block_in = self.last_block_in.split_off(&period);
        close
    }
}

mod book;
pub mod catalogue;
pub mod orders;
pub mod reads;
#[cfg(test)]
mod tests;

pub(crate) use book::ROOM;
