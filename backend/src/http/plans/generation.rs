//! The generation plan's API view (PLAN-GENERATION.md): its public plan (`/v1/public/plan`'s `generation`), a
//! member's standing (paid in, cap, earned, levels, legs, rank, weekly bonuses) and the closed weeks for staff.

use axum::extract::State;
use ledger::plan::PlanKind;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::extract::{AdminUser, AuthUser, Json, Query};
use crate::http::types::AssetAmount;

/// This plan's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(generation)).routes(routes!(week_closes))
}

/// One level of the generation plan: its share of a purchase and who it is open to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationLevel {
    /// 1 for the buyer's sponsor, 2 for theirs, … 20.
    pub level: u32,
    /// The level's share of each purchase, basis points.
    pub bps: u32,
    /// Direct referrals a sponsor needs for this level to pay them.
    pub directs_required: u32,
}

/// One rank of the generation plan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationRank {
    /// 1 for the first (lowest) rank.
    pub rank: u32,
    /// Its name.
    pub name: String,
    /// Least volume of the largest leg (the largest direct referral's team, themselves included).
    pub main_leg: AssetAmount,
    /// Least volume of all the other legs together.
    pub other_legs: AssetAmount,
    /// What the rank pays each week, scaled down when the company's balance cannot pay every bonus, and never
    /// above the user's room under their cap.
    pub weekly_bonus: AssetAmount,
}

/// The generation plan of one asset (its newest version): what a purchase pays up the chain, the cap, the ranks
/// and the withdrawal fee, exactly as the ledger applies them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationAssetPlan {
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
    /// The only amounts a registration or purchase may pay; any other amount is held in suspense until refunded.
    pub packages: Vec<AssetAmount>,
    /// The 20 levels of generation income.
    pub levels: Vec<GenerationLevel>,
    /// A user earns at most `cap_bps` / 10000 of what they paid in (30000: three times).
    pub cap_bps: u32,
    /// The weekly ranks, lowest first.
    pub ranks: Vec<GenerationRank>,
    /// Unix time of week 0's start; weeks are `week_seconds` long and close on block time.
    pub week_origin: u64,
    /// Seconds in a week.
    pub week_seconds: u64,
    /// The company keeps ⌈entry × `withdrawal_fee_bps` / 10000⌉ of each payout entry.
    pub withdrawal_fee_bps: u32,
}

/// Every generation asset's newest plan version, by asset id (`/v1/public/plan`'s `generation`).
pub async fn public_plans(ctx: &ApiContext) -> Result<Vec<GenerationAssetPlan>, ApiError> {
    Ok(ledger::generation::plans(&ctx.db).await?.into_iter().map(generation_plan).collect())
}

fn generation_plan(r: ledger::generation::GenerationPlan) -> GenerationAssetPlan {
    let (d, sym) = (r.info.decimals, r.info.symbol.as_str());
    let p = r.params;
    let amount = |a: u128| AssetAmount::new(a, d, sym);
    GenerationAssetPlan {
        asset_id: r.asset_id,
        chain_id: r.info.chain_id as i64,
        token: abi::tron::show(r.info.chain_id, r.info.token),
        decimals: d,
        version: r.version,
        effective_from_block: r.effective_from_block,
        packages: p.packages.iter().map(|a| amount(*a)).collect(),
        levels: (0..p.gen_bps.len())
            .map(|i| GenerationLevel { level: i as u32 + 1, bps: p.gen_bps[i], directs_required: p.direct_req[i] })
            .collect(),
        cap_bps: p.cap_bps,
        ranks: p
            .ranks
            .iter()
            .enumerate()
            .map(|(i, k)| GenerationRank {
                rank: i as u32 + 1,
                name: k.name.clone(),
                main_leg: amount(k.main),
                other_legs: amount(k.other),
                weekly_bonus: amount(k.bonus),
            })
            .collect(),
        week_origin: p.week_origin,
        week_seconds: ledger::plan::generation::WEEK_SECS,
        withdrawal_fee_bps: p.withdrawal_fee_bps,
        symbol: r.info.symbol,
    }
}

/// The asset of a generation-plan standing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GenerationQuery {
    /// A generation-plan asset; 404 when there is none with this id.
    pub asset_id: i32,
}

/// One direct referral's leg.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationLeg {
    /// The direct referral's wallet.
    pub direct: String,
    /// What they and everyone below them paid in.
    pub volume: AssetAmount,
}

/// One week's rank bonus.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationBonus {
    /// The week (weeks count from the plan's `week_origin`).
    pub week: i64,
    /// The rank that paid it (1 for the first).
    pub rank: i32,
    /// What was credited, after scaling to the company's balance and the cap.
    pub amount: AssetAmount,
    /// The reward's status (`pending`, `held`, `batched`, `settled`, `forfeited`).
    pub status: String,
}

/// The signed-in wallet's standing under an asset's generation plan (PLAN-GENERATION.md §1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GenerationStanding {
    /// The asset.
    pub asset_id: i32,
    /// The user's number in the asset (0 is the operator's genesis wallet).
    pub user_no: i32,
    /// Σ of the registration and purchases.
    pub paid_in: AssetAmount,
    /// The most the user may earn: Σ over purchases of the package × the cap of its plan version. Absent for
    /// genesis, which has no cap.
    pub cap: Option<AssetAmount>,
    /// Every credit received under the plan (generation income and rank bonuses, any status).
    pub earned: AssetAmount,
    /// cap − earned: what the user can still earn before another purchase. Absent for genesis.
    pub room: Option<AssetAmount>,
    /// Direct referrals.
    pub directs: u64,
    /// Levels whose generation income the user receives now (their directs meet the level's requirement).
    pub open_levels: Vec<u32>,
    /// Every direct's leg, largest first.
    pub legs: Vec<GenerationLeg>,
    /// The largest leg.
    pub main_leg: AssetAmount,
    /// The other legs together.
    pub other_legs: AssetAmount,
    /// The rank held now (1 for the first), if any; it pays each week until the cap.
    pub rank: Option<u32>,
    /// The rank's name.
    pub rank_name: Option<String>,
    /// The newest weekly bonuses, newest first (at most 52).
    pub bonuses: Vec<GenerationBonus>,
}

/// The caller's standing under a generation-plan asset: what they paid in, their cap, what they earned and can
/// still earn, the levels open to them, their legs, rank and weekly bonuses. 404 for an asset that is not of the
/// generation plan, 422 `not_registered` for a wallet that is not a user of it.
#[utoipa::path(get, path = "/v1/users/generation", tag = "users", security(("bearer" = [])), params(GenerationQuery),
    responses((status = 200, body = GenerationStanding), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn generation(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<GenerationQuery>,
) -> Result<Json<GenerationStanding>, ApiError> {
    let params = ledger::generation::params(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let info = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let s = ledger::generation::standing(&ctx.db, q.asset_id, &params, user.wallet)
        .await?
        .ok_or_else(|| ApiError::unprocessable("not_registered", "this wallet is not registered in this asset"))?;
    let amount = |a: u128| AssetAmount::new(a, info.decimals, &info.symbol);
    Ok(Json(GenerationStanding {
        asset_id: q.asset_id,
        user_no: s.user_no,
        paid_in: amount(s.paid_in),
        cap: s.cap.map(amount),
        earned: amount(s.earned),
        room: s.room().map(amount),
        directs: s.directs,
        open_levels: s.open_levels.clone(),
        legs: s
            .legs
            .iter()
            .map(|l| GenerationLeg { direct: abi::tron::show(info.chain_id, l.direct), volume: amount(l.volume) })
            .collect(),
        main_leg: amount(s.main),
        other_legs: amount(s.other),
        rank: s.rank,
        rank_name: s.rank.map(|r| params.ranks[r as usize - 1].name.clone()),
        bonuses: s
            .bonuses
            .iter()
            .map(|b| GenerationBonus { week: b.week, rank: b.rank, amount: amount(b.amount), status: b.status.clone() })
            .collect(),
    }))
}

/// A generation-plan asset's closed weeks, newest first.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WeeksQuery {
    /// The asset.
    pub asset_id: i32,
    /// Only weeks before this one (the previous page's last `week`).
    pub before: Option<i64>,
    /// At most this many (1..=100, default 20).
    pub limit: Option<i64>,
}

/// One closed week of a generation-plan asset (PLAN-GENERATION.md §3).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WeekCloseView {
    /// The week (weeks count from the plan's `week_origin`).
    pub week: i64,
    /// The plan version it closed under.
    pub plan_version: i32,
    /// The week's end, unix seconds (the first second of the next week).
    pub week_end: i64,
    /// The confirmed block whose time closed it (an event's block, or the listener's confirmed head).
    pub closing_block: i64,
    /// Ledger events applied before the close: every event before the week's end, none after.
    pub applied_events: i64,
    /// The users ranked at the close, as the ledger stored them (an empty array when nobody was ranked).
    #[schema(value_type = Vec<RankedUserView>)]
    pub ranked: serde_json::Value,
    /// Σ of the ranks' weekly bonuses before scaling (B).
    pub bonuses: AssetAmount,
    /// The company's balance before the close (C); bonuses are scaled down when B > C.
    pub company_before: AssetAmount,
    /// Σ credited as RANK_BONUS: the company's debit (bonuses bounded by each user's room).
    pub credited: AssetAmount,
}

/// A user ranked at a week's close (the document's form of the stored `ranked` entries).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RankedUserView {
    /// The user's number in the asset.
    pub user: u32,
    /// The rank reached, 1 for the plan's first (lowest) rank.
    pub rank: u32,
    /// The user's largest leg at the close, base units as a decimal string.
    pub main: String,
    /// The sum of the user's other legs at the close, base units as a decimal string.
    pub other: String,
}

/// A page of closed weeks.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WeekCloses {
    /// The asset.
    pub asset_id: i32,
    /// Newest first.
    pub weeks: Vec<WeekCloseView>,
}

/// The weeks a generation-plan asset has closed, newest first: who was ranked, B, C and what was credited. 404 for
/// an asset that is not of the generation plan.
#[utoipa::path(get, path = "/v1/admin/weeks", tag = "admin", security(("bearer" = [])), params(WeeksQuery),
    responses((status = 200, body = WeekCloses), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn week_closes(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<WeeksQuery>,
) -> Result<Json<WeekCloses>, ApiError> {
    if ledger::plan_kind(&ctx.db, q.asset_id).await? != Some(PlanKind::Generation) {
        return Err(ApiError::NotFound);
    }
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::unprocessable("invalid_limit", "limit must be 1..=100"));
    }
    let info = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let amount = |a: u128| AssetAmount::new(a, info.decimals, &info.symbol);
    let weeks = ledger::generation::week_closes(&ctx.db, q.asset_id, q.before, limit)
        .await?
        .into_iter()
        .map(|w| WeekCloseView {
            week: w.week,
            plan_version: w.plan_version,
            week_end: w.week_end,
            closing_block: w.closing_block,
            applied_events: w.applied_events,
            ranked: w.ranked,
            bonuses: amount(w.bonuses),
            company_before: amount(w.company_before),
            credited: amount(w.credited),
        })
        .collect();
    Ok(Json(WeekCloses { asset_id: q.asset_id, weeks }))
}
