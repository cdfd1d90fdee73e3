//! Reads of the sales plan (PLAN-SALES.md) for the API, from the ledger's tables as of its last batch: each sales
//! asset's newest parameters and the odds its members have had, a member's standing (customers, this period's sales
//! with PV, CV and GV so far, the rank they would hold, what is maturing and when, their lines of the last closes), and
//! the closed periods for staff. GV sums a member's whole downline (the sponsor tree), so a standing costs the size
//! of the member's subtree, as the binary plan's legs do.

use alloy::primitives::Address;
use sqlx::PgPool;

use super::SalesParams;
use crate::money::Money;
use crate::plan::{Amount, PlanKind};

/// A sales asset with its newest plan version.
pub type SalesPlan = crate::assets::NewestPlan<SalesParams>;

fn amount(m: Money) -> Result<Amount, sqlx::Error> {
    m.to_amount().map_err(|e| sqlx::Error::Decode(e.to_string().into()))
}

fn whole(m: Money) -> Result<u64, sqlx::Error> {
    u64::try_from(m.0).map_err(|_| sqlx::Error::Decode(format!("{} is beyond 64 bits", m.0).into()))
}

/// Points (PV, CV, GV) as stored: NUMERIC(40), below 2^128 by the engine's arithmetic; saturated all the same.
fn points(m: Money) -> u128 {
    u128::try_from(m.0).unwrap_or(u128::MAX)
}

/// Every sales asset with its newest plan version, by asset id.
pub async fn plans(pool: &PgPool) -> Result<Vec<SalesPlan>, sqlx::Error> {
    crate::assets::newest_plans(pool, PlanKind::Sales).await
}

/// The newest parameters of sales asset `asset_id`, if it is one.
pub async fn params(pool: &PgPool, asset_id: i32) -> Result<Option<SalesParams>, sqlx::Error> {
    crate::assets::newest_params(pool, asset_id, PlanKind::Sales).await
}

/// One applied sale, as its seller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleRow {
    /// Its id (the signed payload's nonce).
    pub id: u64,
    /// Its block's time.
    pub time: i64,
    /// Its period.
    pub period: i64,
    /// Who paid.
    pub buyer: Address,
    /// A customer's purchase (else the member's own).
    pub customer: bool,
    /// a.
    pub amount: Amount,
    /// v.
    pub pv: u64,
    /// r: the seller's retail commission (0 for a member's own purchase).
    pub retail: Amount,
    /// T: the buyer may take it back until then.
    pub refundable_until: u64,
    /// `open`, `final` or `refunded`.
    pub state: String,
}

/// A member's line of one close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberLine {
    /// The period.
    pub period: i64,
    /// Its end (unix time).
    pub period_end: i64,
    /// PV, CV and GV of the period.
    pub pv: u128,
    /// CV.
    pub cv: u128,
    /// GV.
    pub gv: u128,
    /// The rank held (its index in the version's ranks).
    pub rank: Option<i32>,
    /// u before scaling.
    pub earned: Amount,
    /// What was credited.
    pub credited: Amount,
}

/// A member's standing under the sales plan, from the ledger's tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The member.
    pub user_no: i32,
    /// Frozen by an admin: new credits are held.
    pub frozen: bool,
    /// Customers attributed to them (§1).
    pub customers: i64,
    /// The open period (the next to close), if the asset has had an event.
    pub period: Option<i64>,
    /// Their sales of the open period, newest first (at most 50).
    pub sales: Vec<SaleRow>,
    /// PV and CV of the open period's final sales so far, and GV (their downline's final PV and theirs).
    pub pv: u128,
    /// CV so far.
    pub cv: u128,
    /// GV so far.
    pub gv: u128,
    /// PV and CV of the open period's sales still open (they count once final).
    pub pv_open: u128,
    /// CV still open.
    pub cv_open: u128,
    /// Σ of their RETAIL commissions maturing.
    pub maturing: Amount,
    /// Their open sales with a commission, each with its r and T, soonest first (at most 50).
    pub maturing_sales: Vec<(u64, Amount, u64)>,
    /// Their lines of the newest closes, newest first (at most 12).
    pub lines: Vec<MemberLine>,
}

/// The standing of `wallet` under sales asset `asset_id`; `None` when it is not a member.
pub async fn standing(pool: &PgPool, asset_id: i32, wallet: Address) -> Result<Option<Standing>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let member = sqlx::query!(
        r#"SELECT u.user_no, u.frozen, u.maturing AS "maturing: Money", a.next_period,
                  (SELECT count(*) FROM sales_customers c WHERE c.asset_id = u.asset_id AND c.member_no = u.user_no)
                    AS "customers!"
           FROM users u JOIN assets a ON a.id = u.asset_id WHERE u.asset_id = $1 AND u.address = $2"#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(m) = member else { return Ok(None) };
    let period = m.next_period;
    let sale_rows = sqlx::query!(
        r#"SELECT sale_id AS "id: Money", sale_time, period, buyer, customer, amount AS "amount: Money",
                  pv AS "pv: Money", retail AS "retail: Money", refundable_until AS "until: Money", state
           FROM sales WHERE asset_id = $1 AND seller_no = $2 AND period = $3
           ORDER BY event_seq DESC LIMIT 50"#,
        asset_id,
        m.user_no,
        period.unwrap_or(-1)
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut sales = Vec::with_capacity(sale_rows.len());
    for r in sale_rows {
        sales.push(SaleRow {
            id: whole(r.id)?,
            time: r.sale_time,
            period: r.period,
            buyer: Address::from_slice(&r.buyer),
            customer: r.customer,
            amount: amount(r.amount)?,
            pv: whole(r.pv)?,
            retail: amount(r.retail)?,
            refundable_until: whole(r.until)?,
            state: r.state,
        });
    }
    // PV and CV over all their sales of the period (not only the 50 shown), and GV over their downline.
    let v = sqlx::query!(
        r#"WITH RECURSIVE down AS (
             SELECT user_no FROM users WHERE asset_id = $1 AND user_no = $2
             UNION ALL
             SELECT u.user_no FROM users u JOIN down d ON u.sponsor_no = d.user_no WHERE u.asset_id = $1)
           SELECT COALESCE(sum(pv) FILTER (WHERE seller_no = $2 AND state = 'final'), 0) AS "pv!: Money",
                  COALESCE(sum(pv) FILTER (WHERE seller_no = $2 AND state = 'final' AND customer), 0) AS "cv!: Money",
                  COALESCE(sum(pv) FILTER (WHERE state = 'final'), 0) AS "gv!: Money",
                  COALESCE(sum(pv) FILTER (WHERE seller_no = $2 AND state = 'open'), 0) AS "pv_open!: Money",
                  COALESCE(sum(pv) FILTER (WHERE seller_no = $2 AND state = 'open' AND customer), 0)
                    AS "cv_open!: Money"
           FROM sales WHERE asset_id = $1 AND period = $3 AND seller_no IN (SELECT user_no FROM down)"#,
        asset_id,
        m.user_no,
        period.unwrap_or(-1)
    )
    .fetch_one(&mut *tx)
    .await?;
    let maturing_rows = sqlx::query!(
        r#"SELECT sale_id AS "id: Money", retail AS "retail: Money", refundable_until AS "until: Money"
           FROM sales WHERE asset_id = $1 AND seller_no = $2 AND state = 'open' AND retail > 0
           ORDER BY refundable_until, event_seq LIMIT 50"#,
        asset_id,
        m.user_no
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut maturing_sales = Vec::with_capacity(maturing_rows.len());
    for r in maturing_rows {
        maturing_sales.push((whole(r.id)?, amount(r.retail)?, whole(r.until)?));
    }
    let line_rows = sqlx::query!(
        r#"SELECT l.period, c.period_end, l.pv AS "pv: Money", l.cv AS "cv: Money", l.gv AS "gv: Money", l.rank,
                  l.earned AS "earned: Money", l.credited AS "credited: Money"
           FROM sales_close_lines l JOIN sales_closes c USING (asset_id, period)
           WHERE l.asset_id = $1 AND l.user_no = $2 ORDER BY l.period DESC LIMIT 12"#,
        asset_id,
        m.user_no
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut lines = Vec::with_capacity(line_rows.len());
    for r in line_rows {
        lines.push(MemberLine {
            period: r.period,
            period_end: r.period_end,
            pv: points(r.pv),
            cv: points(r.cv),
            gv: points(r.gv),
            rank: r.rank,
            earned: amount(r.earned)?,
            credited: amount(r.credited)?,
        });
    }
    tx.commit().await?;
    Ok(Some(Standing {
        user_no: m.user_no,
        frozen: m.frozen,
        customers: m.customers,
        period,
        sales,
        pv: points(v.pv),
        cv: points(v.cv),
        gv: points(v.gv),
        pv_open: points(v.pv_open),
        cv_open: points(v.cv_open),
        maturing: amount(m.maturing)?,
        maturing_sales,
        lines,
    }))
}

/// One closed period (§5's record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The period.
    pub period: i64,
    /// Its first second.
    pub period_start: i64,
    /// The first second of the next.
    pub period_end: i64,
    /// E_p: when it closed.
    pub due: i64,
    /// The version it closed under.
    pub plan_version: i32,
    /// The confirmed block whose time closed it.
    pub closing_block: i64,
    /// S_p.
    pub sales: Amount,
    /// Q_p.
    pub budget: Amount,
    /// C before the close.
    pub company_before: Amount,
    /// U, before scaling.
    pub earned: Amount,
    /// Σ credited.
    pub credited: Amount,
    /// Members with a line.
    pub lines: i64,
}

/// The closes of `asset_id` before period `before` (all when `None`), newest first, at most `limit`.
pub async fn closes(pool: &PgPool, asset_id: i32, before: Option<i64>, limit: i64) -> Result<Vec<Close>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT c.period, c.period_start, c.period_end, c.due, c.plan_version, c.closing_block,
                  c.sales AS "sales: Money", c.budget AS "budget: Money", c.company_before AS "company_before: Money",
                  c.earned AS "earned: Money", c.credited AS "credited: Money",
                  (SELECT count(*) FROM sales_close_lines l WHERE l.asset_id = c.asset_id AND l.period = c.period)
                    AS "lines!"
           FROM sales_closes c WHERE c.asset_id = $1 AND ($2::int8 IS NULL OR c.period < $2)
           ORDER BY c.period DESC LIMIT $3"#,
        asset_id,
        before,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Close {
                period: r.period,
                period_start: r.period_start,
                period_end: r.period_end,
                due: r.due,
                plan_version: r.plan_version,
                closing_block: r.closing_block,
                sales: amount(r.sales)?,
                budget: amount(r.budget)?,
                company_before: amount(r.company_before)?,
                earned: amount(r.earned)?,
                credited: amount(r.credited)?,
                lines: r.lines,
            })
        })
        .collect()
}

/// What a sales asset's members and buyers have had so far, for anyone deciding whether to join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Odds {
    /// Members other than genesis.
    pub members: i64,
    /// Sales applied.
    pub sales: i64,
    /// Of them, taken back by their buyers.
    pub refunded: i64,
    /// Σ a of the final sales.
    pub final_amount: Amount,
    /// Of it, bought by customers (not members for themselves).
    pub to_customers: Amount,
    /// Σ of the RETAIL commissions of final sales.
    pub retail: Amount,
    /// Periods closed.
    pub periods_closed: i64,
    /// Σ of the UNILEVEL commissions the closes credited.
    pub unilevel: Amount,
    /// Members credited at least one UNILEVEL commission.
    pub members_paid_unilevel: i64,
    /// Closes whose commissions were scaled down to the budget.
    pub periods_scaled: i64,
}

/// The odds of sales asset `asset_id`.
pub async fn odds(pool: &PgPool, asset_id: i32) -> Result<Odds, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM users WHERE asset_id = $1 AND user_no <> 0) AS "members!",
                  (SELECT count(*) FROM sales WHERE asset_id = $1) AS "sales!",
                  (SELECT count(*) FROM sales WHERE asset_id = $1 AND state = 'refunded') AS "refunded!",
                  (SELECT COALESCE(sum(amount), 0) FROM sales WHERE asset_id = $1 AND state = 'final')
                    AS "final_amount!: Money",
                  (SELECT COALESCE(sum(amount), 0) FROM sales WHERE asset_id = $1 AND state = 'final' AND customer)
                    AS "to_customers!: Money",
                  (SELECT COALESCE(sum(retail), 0) FROM sales WHERE asset_id = $1 AND state = 'final')
                    AS "retail!: Money",
                  (SELECT count(*) FROM sales_closes WHERE asset_id = $1) AS "periods_closed!",
                  (SELECT COALESCE(sum(credited), 0) FROM sales_closes WHERE asset_id = $1) AS "unilevel!: Money",
                  (SELECT count(DISTINCT beneficiary_no) FROM rewards WHERE asset_id = $1 AND kind = 'UNILEVEL')
                    AS "members_paid_unilevel!",
                  (SELECT count(*) FROM sales_closes WHERE asset_id = $1 AND earned > budget) AS "periods_scaled!""#,
        asset_id
    )
    .fetch_one(pool)
    .await?;
    Ok(Odds {
        members: r.members,
        sales: r.sales,
        refunded: r.refunded,
        final_amount: amount(r.final_amount)?,
        to_customers: amount(r.to_customers)?,
        retail: amount(r.retail)?,
        periods_closed: r.periods_closed,
        unilevel: amount(r.unilevel)?,
        members_paid_unilevel: r.members_paid_unilevel,
        periods_scaled: r.periods_scaled,
    })
}
