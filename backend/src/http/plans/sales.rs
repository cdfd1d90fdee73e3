//! The sales plan's API view (PLAN-SALES.md): its public plan (the join fee, what a seller earns on a customer's
//! purchase and when, the unilevel levels and ranks, the customer share rule, the refund window, the budget) with the
//! odds its members and buyers have had, a member's standing (customers, this period's sales with PV, CV and GV so
//! far, the rank they would hold, what is maturing and when, their lines of the last closes), and the closed periods
//! for staff. The figures are read from the ledger's tables (`ledger::plan::sales::reads`).

use axum::extract::State;
use ledger::plan::sales::{SalesParams, reads};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{bps_percent, period_name};
use crate::http::context::ApiContext;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{AdminUser, AuthUser, Json, Query};
use crate::http::types::AssetAmount;

/// This plan's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(standing)).routes(routes!(closes))
}

/// A rank of the sales plan (PLAN-SALES.md §0).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SalesRankView {
    /// Its name.
    pub name: String,
    /// The PV a period needs (the member's own final sales, whole points).
    pub min_pv: u64,
    /// The GV a period needs (their downline's final sales and theirs, whole points).
    pub min_gv: u64,
    /// Levels of unilevel commission it is paid.
    pub depth: u32,
}

/// One sales-plan asset's newest parameters (PLAN-SALES.md §0), in words where they matter, and the odds so far.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SalesAssetPlan {
    /// The asset's id.
    pub asset_id: i32,
    /// The chain the asset lives on.
    pub chain_id: i64,
    /// Token contract in the chain's form.
    pub token: String,
    /// The asset's symbol.
    pub symbol: String,
    /// Decimals of the asset's base unit.
    pub decimals: i16,
    /// The plan version's number.
    pub version: i32,
    /// First block whose events this version governs.
    pub effective_from_block: i64,
    /// What joining costs: all of it the company's. Nobody earns anything on anyone's joining.
    pub join_fee: AssetAmount,
    /// A seller's retail commission on a customer's purchase, basis points: payable once the buyer can no longer
    /// take the sale back. Nothing on a member's own purchases.
    pub retail_bps: u32,
    /// The share of a member's own purchase their sponsors are paid unilevel on, basis points (0: none).
    pub member_sale_bps: u32,
    /// `level_bps[k-1]`: the unilevel commission k levels up the seller's sponsor chain, at each period's close.
    pub level_bps: Vec<u32>,
    /// The ranks, lowest first: a member is paid as many levels as their rank's depth.
    pub ranks: Vec<SalesRankView>,
    /// The least share of a member's PV that must come from customers for any rank, basis points.
    pub min_customer_bps: u32,
    /// How long a buyer may take a sale back (seconds), by the chain's clock, with nobody's consent.
    pub refund_window: u64,
    /// The share of each sale set aside for its period's unilevel commissions (the most a close pays), bps.
    pub max_payout_bps: u32,
    /// `month` (calendar months in UTC block time) or `week`.
    pub period: String,
    /// Unix time of week 0's start (when `period` is `week`).
    pub week_origin: u64,
    /// The withdrawal fee, basis points of each payout entry (rounded up).
    pub withdrawal_fee_bps: u32,
    /// The rules in words: what a member earns on and what never.
    pub rules: Vec<String>,
    /// The odds so far.
    pub odds: SalesOdds,
}

/// What a sales asset's members and buyers have had so far, for anyone deciding whether to join or buy.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SalesOdds {
    /// Members other than genesis.
    pub members: i64,
    /// Sales paid.
    pub sales: i64,
    /// Of them, taken back by their buyers.
    pub refunded: i64,
    /// Refunded over sales, basis points (0 without sales).
    pub refund_rate_bps: u32,
    /// Σ of the sales that can no longer be taken back.
    pub final_sales: AssetAmount,
    /// Of it, bought by customers (the rest: members' own purchases).
    pub to_customers: AssetAmount,
    /// To customers over final sales, basis points (0 without sales).
    pub customer_share_bps: u32,
    /// Σ of the retail commissions of final sales.
    pub retail_commissions: AssetAmount,
    /// Periods closed.
    pub periods_closed: i64,
    /// Σ of the unilevel commissions the closes credited.
    pub unilevel_commissions: AssetAmount,
    /// Members credited at least one unilevel commission.
    pub members_paid_unilevel: i64,
    /// Closes whose commissions were scaled down to the budget.
    pub periods_scaled: i64,
}

fn share_bps(part: u128, whole: u128) -> u32 {
    part.saturating_mul(10_000).checked_div(whole).map_or(0, |bps| bps as u32)
}

fn days(secs: u64) -> String {
    let d = secs / 86_400;
    if secs.is_multiple_of(86_400) { format!("{d} days") } else { format!("{:.1} days", secs as f64 / 86_400.0) }
}

/// The plan's rules in words (the public card).
pub fn rules_in_words(p: &SalesParams, join_fee: &str) -> Vec<String> {
    let mut rules = vec![
        format!("Joining costs {join_fee}, all of it the company's: nobody earns anything when someone joins."),
        format!(
            "A member earns {} of each purchase a customer makes from their link, once the customer can no longer \
             take it back ({}, by the chain's clock).",
            bps_percent(p.retail_bps),
            days(p.refund_window)
        ),
        "A member earns nothing on their own purchases.".to_owned(),
        "A buyer takes a purchase back, in full, within its window, from their own wallet, with nobody's consent; \
         what it would have paid anyone is then never paid."
            .to_owned(),
        format!(
            "At each {}'s close, members are paid unilevel commissions on their downline's final sales ({} from the \
             first level up), as deep as their rank; in all at most {} of the period's sales.",
            period_name(p.period),
            p.level_bps.iter().map(|b| bps_percent(*b)).collect::<Vec<_>>().join(", "),
            bps_percent(p.max_payout_bps)
        ),
    ];
    if p.min_customer_bps > 0 {
        rules.push(format!(
            "No rank without customers: at least {} of a member's own volume must be purchases by customers.",
            bps_percent(p.min_customer_bps)
        ));
    }
    rules
}

/// Every sales asset's public plan, by asset id (for `GET /v1/public/plan`).
pub async fn public_plans(ctx: &ApiContext) -> Result<Vec<SalesAssetPlan>, ApiError> {
    let mut out = Vec::new();
    for r in reads::plans(&ctx.db).await? {
        let (d, sym) = (r.info.decimals, r.info.symbol.as_str());
        let amount = |a: u128| AssetAmount::new(a, d, sym);
        let o = reads::odds(&ctx.db, r.asset_id).await?;
        let p: SalesParams = r.params;
        out.push(SalesAssetPlan {
            asset_id: r.asset_id,
            chain_id: r.info.chain_id as i64,
            token: abi::tron::show(r.info.chain_id, r.info.token),
            decimals: d,
            version: r.version,
            effective_from_block: r.effective_from_block,
            join_fee: amount(p.join_fee),
            retail_bps: p.retail_bps,
            member_sale_bps: p.member_sale_bps,
            level_bps: p.level_bps.clone(),
            ranks: p
                .ranks
                .iter()
                .map(|k| SalesRankView { name: k.name.clone(), min_pv: k.min_pv, min_gv: k.min_gv, depth: k.depth })
                .collect(),
            min_customer_bps: p.min_customer_bps,
            refund_window: p.refund_window,
            max_payout_bps: p.max_payout_bps,
            period: period_name(p.period).into(),
            week_origin: p.week_origin,
            withdrawal_fee_bps: p.withdrawal_fee_bps,
            rules: rules_in_words(&p, &amount(p.join_fee).human),
            odds: SalesOdds {
                members: o.members,
                sales: o.sales,
                refunded: o.refunded,
                refund_rate_bps: share_bps(o.refunded.max(0) as u128, o.sales.max(0) as u128),
                final_sales: amount(o.final_amount),
                to_customers: amount(o.to_customers),
                customer_share_bps: share_bps(o.to_customers, o.final_amount),
                retail_commissions: amount(o.retail),
                periods_closed: o.periods_closed,
                unilevel_commissions: amount(o.unilevel),
                members_paid_unilevel: o.members_paid_unilevel,
                periods_scaled: o.periods_scaled,
            },
            symbol: r.info.symbol,
        });
    }
    Ok(out)
}

/// The asset of a sales-plan request.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SalesQuery {
    /// A sales-plan asset; 404 when there is none with this id.
    pub asset_id: i32,
}

/// One of the member's sales of the open period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SaleView {
    /// The sale's id.
    pub id: String,
    /// When it was paid (unix time, the block's).
    pub time: i64,
    /// Who paid, in the chain's form.
    pub buyer: String,
    /// A customer's purchase; false for the member's own.
    pub customer: bool,
    /// What was paid.
    pub amount: AssetAmount,
    /// Its points.
    pub pv: u64,
    /// The member's retail commission on it (0 on their own purchases).
    pub retail: AssetAmount,
    /// Until when (unix time, the chain's clock) the buyer may take it back.
    pub refundable_until: u64,
    /// `open` (the buyer may take it back), `final` or `refunded`.
    pub state: String,
}

/// A retail commission still maturing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MaturingView {
    /// Its sale's id.
    pub sale_id: String,
    /// The commission.
    pub amount: AssetAmount,
    /// When it becomes payable, unless the buyer takes the sale back first (unix time, the chain's clock).
    pub matures_at: u64,
}

/// A member's line of one close.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SalesLineView {
    /// The period.
    pub period: i64,
    /// Its end (unix time).
    pub period_end: i64,
    /// The member's own final sales' points.
    pub pv: String,
    /// Of them, customers' purchases.
    pub cv: String,
    /// Their downline's and theirs.
    pub gv: String,
    /// The rank held, by name (none: no rank that period).
    pub rank: Option<String>,
    /// The unilevel commission before the budget's scaling.
    pub earned: AssetAmount,
    /// What was credited.
    pub credited: AssetAmount,
}

/// The signed-in member's standing under a sales-plan asset (PLAN-SALES.md §1–§5).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SalesStanding {
    /// The asset.
    pub asset_id: i32,
    /// The member's number (0 is genesis).
    pub user_no: i32,
    /// Frozen by an admin: new credits are held.
    pub frozen: bool,
    /// Customers attributed to them: each customer's purchases are theirs from the customer's first on.
    pub customers: i64,
    /// The open period (the next to close), and its bounds (unix time); absent before the asset's first event.
    pub period: Option<i64>,
    /// The open period's first second.
    pub period_start: Option<u64>,
    /// The open period's end (it closes then, or when its last sale can no longer be taken back).
    pub period_end: Option<u64>,
    /// Their sales of the open period, newest first (at most 50).
    pub sales: Vec<SaleView>,
    /// PV so far: their own final sales' points this period.
    pub pv: String,
    /// CV so far: of them, customers' purchases.
    pub cv: String,
    /// GV so far: their downline's final sales' points and theirs.
    pub gv: String,
    /// Points of their sales still open (they count once final).
    pub pv_open: String,
    /// Of them, customers'.
    pub cv_open: String,
    /// The rank these figures give now (the close decides), by name; none when no rank's PV and GV are reached or
    /// too little comes from customers.
    pub rank_now: Option<String>,
    /// Why no rank, or what the rank pays, in words.
    pub rank_why: String,
    /// Σ of their retail commissions maturing: owed, not payable until their sales are final.
    pub maturing: AssetAmount,
    /// Those commissions, soonest first (at most 50).
    pub maturing_sales: Vec<MaturingView>,
    /// Their lines of the newest closes, newest first (at most 12).
    pub closes: Vec<SalesLineView>,
}

/// The caller's standing under a sales-plan asset: customers, this period's sales with PV, CV and GV so far and the
/// rank they give, what is maturing and when, and their lines of the last closes. 404 for an asset that is not of the
/// sales plan, 422 `not_registered` for a wallet that is not a member of it.
#[utoipa::path(get, path = "/v1/users/sales", tag = "users", security(("bearer" = [])), params(SalesQuery),
    responses((status = 200, body = SalesStanding), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn standing(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<SalesQuery>,
) -> Result<Json<SalesStanding>, ApiError> {
    let params = reads::params(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let info = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let s = reads::standing(&ctx.db, q.asset_id, user.wallet)
        .await?
        .ok_or_else(|| ApiError::unprocessable("not_registered", "this wallet is not registered in this asset"))?;
    let amount = |a: u128| AssetAmount::new(a, info.decimals, &info.symbol);
    let rank_name = |r: Option<usize>| r.and_then(|i| params.ranks.get(i)).map(|k| k.name.clone());
    let rank = if s.user_no == 0 { None } else { params.rank(s.pv, s.cv, s.gv) };
    let customer_ok = params.min_customer_bps == 0
        || s.cv.saturating_mul(10_000) >= s.pv.saturating_mul(u128::from(params.min_customer_bps));
    let rank_why = match rank {
        _ if s.user_no == 0 => "the operator's genesis wallet holds no rank".to_owned(),
        Some(i) => format!(
            "{}: paid unilevel commissions {} level(s) deep at the close, if the figures hold",
            params.ranks[i].name, params.ranks[i].depth
        ),
        None if !customer_ok => format!(
            "no rank: at least {} of your own volume must be purchases by customers",
            bps_percent(params.min_customer_bps)
        ),
        None => {
            let first = &params.ranks[0];
            format!("no rank yet: {} needs {} PV and {} GV this period", first.name, first.min_pv, first.min_gv)
        }
    };
    let bounds = s.period.map(|p| params.bounds(p.max(0) as u64));
    let show = |a: alloy::primitives::Address| abi::tron::show(info.chain_id, a);
    Ok(Json(SalesStanding {
        asset_id: q.asset_id,
        user_no: s.user_no,
        frozen: s.frozen,
        customers: s.customers,
        period: s.period,
        period_start: bounds.map(|b| b.0),
        period_end: bounds.map(|b| b.1),
        sales: s
            .sales
            .iter()
            .map(|x| SaleView {
                id: x.id.to_string(),
                time: x.time,
                buyer: show(x.buyer),
                customer: x.customer,
                amount: amount(x.amount),
                pv: x.pv,
                retail: amount(x.retail),
                refundable_until: x.refundable_until,
                state: x.state.clone(),
            })
            .collect(),
        pv: s.pv.to_string(),
        cv: s.cv.to_string(),
        gv: s.gv.to_string(),
        pv_open: s.pv_open.to_string(),
        cv_open: s.cv_open.to_string(),
        rank_now: rank_name(rank),
        rank_why,
        maturing: amount(s.maturing),
        maturing_sales: s
            .maturing_sales
            .iter()
            .map(|(id, r, t)| MaturingView { sale_id: id.to_string(), amount: amount(*r), matures_at: *t })
            .collect(),
        closes: s
            .lines
            .iter()
            .map(|l| SalesLineView {
                period: l.period,
                period_end: l.period_end,
                pv: l.pv.to_string(),
                cv: l.cv.to_string(),
                gv: l.gv.to_string(),
                rank: l.rank.and_then(|r| usize::try_from(r).ok()).and_then(|r| rank_name(Some(r))),
                earned: amount(l.earned),
                credited: amount(l.credited),
            })
            .collect(),
    }))
}

/// A page of a sales asset's closes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SalesClosesQuery {
    /// The asset.
    pub asset_id: i32,
    /// Only periods before this one (the last `period` of the previous page).
    pub before: Option<i64>,
    /// At most this many, 1..=100 (default 20).
    pub limit: Option<i64>,
}

/// One closed period's record (PLAN-SALES.md §5).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SalesCloseView {
    /// The period.
    pub period: i64,
    /// Its first second (unix time).
    pub period_start: i64,
    /// The first second of the next.
    pub period_end: i64,
    /// E_p: when it closed (its end, or later when its last sale's window ended later).
    pub due: i64,
    /// The plan version it closed under.
    pub plan_version: i32,
    /// The confirmed block whose time closed it.
    pub closing_block: i64,
    /// S_p: Σ of its final sales.
    pub sales: AssetAmount,
    /// Q_p: the budget its final sales set aside.
    pub budget: AssetAmount,
    /// C: the company's balance before the close.
    pub company_before: AssetAmount,
    /// U: Σ of the commissions before scaling.
    pub earned: AssetAmount,
    /// Σ credited (the company's debit).
    pub credited: AssetAmount,
    /// Members with a line.
    pub lines: i64,
}

/// Closed periods of a sales-plan asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SalesCloses {
    /// The asset.
    pub asset_id: i32,
    /// Newest first.
    pub closes: Vec<SalesCloseView>,
}

/// The periods a sales-plan asset has closed, newest first: S, Q, C, U and Σ credited. 404 for an asset that is not
/// of the sales plan; 422 `invalid_limit` outside 1..=100.
#[utoipa::path(get, path = "/v1/admin/sales/closes", tag = "admin", security(("bearer" = [])), params(SalesClosesQuery),
    responses((status = 200, body = SalesCloses), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn closes(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<SalesClosesQuery>,
) -> Result<Json<SalesCloses>, ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::unprocessable("invalid_limit", "limit must be 1..=100"));
    }
    reads::params(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let info = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let amount = |a: u128| AssetAmount::new(a, info.decimals, &info.symbol);
    let closes = reads::closes(&ctx.db, q.asset_id, q.before, limit)
        .await?
        .into_iter()
        .map(|c| SalesCloseView {
            period: c.period,
            period_start: c.period_start,
            period_end: c.period_end,
            due: c.due,
            plan_version: c.plan_version,
            closing_block: c.closing_block,
            sales: amount(c.sales),
            budget: amount(c.budget),
            company_before: amount(c.company_before),
            earned: amount(c.earned),
            credited: amount(c.credited),
            lines: c.lines,
        })
        .collect();
    Ok(Json(SalesCloses { asset_id: q.asset_id, closes }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_say_what_a_member_never_earns_on() {
        let rules = rules_in_words(&SalesParams::defaults(6), "0 USDT");
        assert!(rules[0].contains("nobody earns anything when someone joins"), "{rules:?}");
        assert!(rules[1].contains("20 %") && rules[1].contains("14 days"), "{rules:?}");
        assert!(rules.iter().any(|r| r.contains("nothing on their own purchases")), "{rules:?}");
        assert!(rules.iter().any(|r| r.contains("at least 50 %")), "{rules:?}");
        assert_eq!(share_bps(1, 3), 3333);
        assert_eq!(share_bps(5, 0), 0);
    }
}
