//! The binary plan's API view (PLAN-BINARY.md): its public plan (packages, pair volume and bonus, the limits, the
//! retention rule, the budget) with the odds its members have had, a member's standing (binary parent and side,
//! legs, carries, pairs this period and lifetime, paid in, active buyer or how far from it, reserved and why), the
//! tree around a member (bounded depth, paged by choosing a node below as the next root), and the closed periods for
//! staff. The figures are read from the ledger's tables (`ledger::plan::binary::reads`).

use axum::extract::State;
use ledger::plan::binary::reads::{self, NodeRef};
use ledger::plan::binary::{BinaryParams, Side};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{bps_percent, period_name};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::extract::{AdminUser, AuthUser, Json, Query};
use crate::http::types::AssetAmount;

/// This plan's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(standing)).routes(routes!(tree)).routes(routes!(closes))
}

/// Deepest tree a request may ask for below its root (2^(n+1) − 1 nodes at most).
pub const MAX_TREE_DEPTH: i32 = 4;

/// One binary-plan asset's newest parameters (PLAN-BINARY.md §0) and the odds its members have had.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryAssetPlan {
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
    /// A purchase of P carries volume ⌊P × pv_bps / 10000⌋ up every binary ancestor's leg.
    pub pv_bps: u32,
    /// The sponsor's direct bonus on each purchase, basis points.
    pub direct_bps: u32,
    /// Volume on each leg that makes one pair.
    pub pair_volume: AssetAmount,
    /// Paid per pair.
    pub pair_bonus: AssetAmount,
    /// Pairs paid per member per period; more are matched and paid to nobody (flushed).
    pub max_pairs: u32,
    /// A member's first pairs (lifetime) are exempt from retention.
    pub free_pairs: u32,
    /// A member is an active buyer once their registration and purchases reach this.
    pub active_paid_in: AssetAmount,
    /// Of a later pair's bonus, the share reserved until the member is an active buyer, basis points.
    pub retention_bps: u32,
    /// A period's pair bonuses never exceed this share of the period's volume (nor the company's balance), bps.
    pub max_payout_bps: u32,
    /// `month` (calendar months in UTC block time) or `week`.
    pub period: String,
    /// Unix time of week 0's start (when `period` is `week`).
    pub week_origin: u64,
    /// The withdrawal fee, basis points of each payout entry (rounded up).
    pub withdrawal_fee_bps: u32,
    /// The odds so far: what the asset's closed periods paid.
    pub odds: BinaryOdds,
}

/// What a binary asset's members have had so far, for anyone deciding whether to pay.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryOdds {
    /// Members other than genesis.
    pub members: i64,
    /// Members credited at least one pair bonus.
    pub members_paid_pairs: i64,
    /// Periods closed.
    pub periods_closed: i64,
    /// Σ of the pair bonuses the closes credited.
    pub pair_bonuses: AssetAmount,
    /// Of them, still reserved (their members are not yet active buyers).
    pub reserved: AssetAmount,
    /// Closes whose bonuses were scaled down to the budget.
    pub periods_scaled: i64,
}

/// Every binary asset's public plan, by asset id (for `GET /v1/public/plan`).
pub async fn public_plans(ctx: &ApiContext) -> Result<Vec<BinaryAssetPlan>, ApiError> {
    let mut out = Vec::new();
    for r in reads::plans(&ctx.db).await? {
        let (d, sym) = (r.info.decimals, r.info.symbol.as_str());
        let amount = |a: u128| AssetAmount::new(a, d, sym);
        let o = reads::odds(&ctx.db, r.asset_id).await?;
        let p: BinaryParams = r.params;
        out.push(BinaryAssetPlan {
            asset_id: r.asset_id,
            chain_id: r.info.chain_id as i64,
            token: abi::tron::show(r.info.chain_id, r.info.token),
            decimals: d,
            version: r.version,
            effective_from_block: r.effective_from_block,
            packages: p.packages.iter().map(|a| amount(*a)).collect(),
            pv_bps: p.pv_bps,
            direct_bps: p.direct_bps,
            pair_volume: amount(p.pair_volume),
            pair_bonus: amount(p.pair_bonus),
            max_pairs: p.max_pairs,
            free_pairs: p.free_pairs,
            active_paid_in: amount(p.active_paid_in),
            retention_bps: p.retention_bps,
            max_payout_bps: p.max_payout_bps,
            period: period_name(p.period).into(),
            week_origin: p.week_origin,
            withdrawal_fee_bps: p.withdrawal_fee_bps,
            odds: BinaryOdds {
                members: o.members,
                members_paid_pairs: o.members_paid_pairs,
                periods_closed: o.periods_closed,
                pair_bonuses: amount(o.pair_bonuses),
                reserved: amount(o.reserved),
                periods_scaled: o.periods_scaled,
            },
            symbol: r.info.symbol,
        });
    }
    Ok(out)
}

/// The asset of a binary-plan request.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BinaryQuery {
    /// A binary-plan asset; 404 when there is none with this id.
    pub asset_id: i32,
}

/// A member of the tree, by wallet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryMember {
    /// Their number in the asset (0 is the operator's genesis wallet).
    pub user_no: i32,
    /// Their wallet, in the chain's form.
    pub address: String,
}

/// A member's line of one closed period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryLineView {
    /// The period.
    pub period: i64,
    /// Its end (unix time).
    pub period_end: i64,
    /// Pairs formed.
    pub pairs: String,
    /// Pairs paid (at most `max_pairs`).
    pub paid: i64,
    /// Pairs matched and paid to nobody.
    pub flushed: String,
    /// The pair bonus after the budget's scaling.
    pub bonus: AssetAmount,
    /// Of it, reserved until the member is an active buyer.
    pub reserved: AssetAmount,
    /// The rest, credited with `rest_status`.
    pub rest: AssetAmount,
    /// `pending`, or `held` while the member was frozen.
    pub rest_status: String,
}

/// The signed-in member's standing under a binary-plan asset (PLAN-BINARY.md §1–§3).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryStanding {
    /// The asset.
    pub asset_id: i32,
    /// The member's number (0 is genesis).
    pub user_no: i32,
    /// The binary parent; absent for genesis, the root.
    pub parent: Option<BinaryMember>,
    /// `left` or `right` under the parent; absent for genesis.
    pub side: Option<String>,
    /// The child on the left, if any.
    pub left_child: Option<BinaryMember>,
    /// The child on the right, if any.
    pub right_child: Option<BinaryMember>,
    /// Σ pv of every purchase in the left subtree.
    pub left_leg: AssetAmount,
    /// Σ pv of every purchase in the right subtree.
    pub right_leg: AssetAmount,
    /// Unmatched volume on the left: what the next closes can pair.
    pub left_carry: AssetAmount,
    /// Unmatched volume on the right.
    pub right_carry: AssetAmount,
    /// Pairs the carries make now: what the open period's close would match (before `max_pairs`).
    pub pairs_this_period: String,
    /// Of them, those it would pay (at most `max_pairs`).
    pub pairs_payable_this_period: u64,
    /// Pairs paid so far, lifetime.
    pub pairs_lifetime: i64,
    /// Of the next pairs, those still exempt from retention (`free_pairs` − lifetime, at least 0).
    pub free_pairs_left: u64,
    /// Σ of the member's registration and purchases.
    pub paid_in: AssetAmount,
    /// The member's own volume (it counts in their ancestors' legs, not in theirs).
    pub own_volume: AssetAmount,
    /// Whether the member is an active buyer (then nothing of their pair bonuses is reserved).
    pub active_buyer: bool,
    /// What they must still pay in to become one (0 when they are).
    pub to_active_buyer: AssetAmount,
    /// Σ of their pair bonuses reserved: released, as one movement, when they become an active buyer.
    pub reserved: AssetAmount,
    /// Why anything is reserved, in words.
    pub reserved_why: String,
    /// Frozen by an admin: new credits are held.
    pub frozen: bool,
    /// Their lines of the newest closes, newest first (at most 12).
    pub closes: Vec<BinaryLineView>,
}

fn member(chain_id: u64, m: &NodeRef) -> BinaryMember {
    BinaryMember { user_no: m.user_no, address: abi::tron::show(chain_id, m.address) }
}

/// The caller's standing under a binary-plan asset: their place in the tree, legs and carries, pairs, what they
/// paid in, whether they are an active buyer or how far from it, and what is reserved and why. 404 for an asset that
/// is not of the binary plan, 422 `not_registered` for a wallet that is not a member of it.
#[utoipa::path(get, path = "/v1/users/binary", tag = "users", security(("bearer" = [])), params(BinaryQuery),
    responses((status = 200, body = BinaryStanding), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn standing(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<BinaryQuery>,
) -> Result<Json<BinaryStanding>, ApiError> {
    let params = reads::params(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let info = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let s = reads::standing(&ctx.db, q.asset_id, user.wallet)
        .await?
        .ok_or_else(|| ApiError::unprocessable("not_registered", "this wallet is not registered in this asset"))?;
    let amount = |a: u128| AssetAmount::new(a, info.decimals, &info.symbol);
    let pairs = (s.carries[0] / params.pair_volume).min(s.carries[1] / params.pair_volume);
    let payable = pairs.min(u128::from(params.max_pairs)) as u64;
    let free_left = u64::from(params.free_pairs).saturating_sub(s.pairs_paid.max(0) as u64);
    let to_active = if s.active { 0 } else { params.active_paid_in.saturating_sub(s.paid_in) };
    let reserved_why = match (s.reserved > 0, s.active) {
        (false, true) => "nothing is reserved: you are an active buyer, so your pair bonuses are paid in full".into(),
        (false, false) if free_left > 0 => format!(
            "nothing is reserved: your next {free_left} pairs are exempt; after them {} of each pair's bonus is \
             reserved until you are an active buyer",
            bps_percent(params.retention_bps)
        ),
        (false, false) => format!(
            "nothing is reserved yet: {} of each later pair's bonus will be until you are an active buyer",
            bps_percent(params.retention_bps)
        ),
        (true, _) => format!(
            "{} of each pair's bonus after your first {} pairs is reserved until you are an active buyer (paid in \
             at least {}); it is released to you in full when you are",
            bps_percent(params.retention_bps),
            params.free_pairs,
            amount(params.active_paid_in).human
        ),
    };
    let [left, right] = &s.children;
    Ok(Json(BinaryStanding {
        asset_id: q.asset_id,
        user_no: s.user_no,
        parent: s.parent.as_ref().map(|(p, _)| member(info.chain_id, p)),
        side: s.parent.as_ref().map(|(_, side)| side.as_str().into()),
        left_child: left.as_ref().map(|c| member(info.chain_id, c)),
        right_child: right.as_ref().map(|c| member(info.chain_id, c)),
        left_leg: amount(s.legs[Side::Left.index()]),
        right_leg: amount(s.legs[Side::Right.index()]),
        left_carry: amount(s.carries[Side::Left.index()]),
        right_carry: amount(s.carries[Side::Right.index()]),
        pairs_this_period: pairs.to_string(),
        pairs_payable_this_period: payable,
        pairs_lifetime: s.pairs_paid,
        free_pairs_left: free_left,
        paid_in: amount(s.paid_in),
        own_volume: amount(s.own_volume),
        active_buyer: s.active,
        to_active_buyer: amount(to_active),
        reserved: amount(s.reserved),
        reserved_why,
        frozen: s.frozen,
        closes: s
            .lines
            .iter()
            .map(|l| BinaryLineView {
                period: l.period,
                period_end: l.period_end,
                pairs: l.pairs.to_string(),
                paid: l.paid,
                flushed: l.flushed.to_string(),
                bonus: amount(l.scaled),
                reserved: amount(l.reserved),
                rest: amount(l.rest),
                rest_status: l.rest_status.clone(),
            })
            .collect(),
    }))
}

/// Which part of a member's binary tree to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TreeQuery {
    /// A binary-plan asset; 404 when there is none with this id.
    pub asset_id: i32,
    /// The node to show the tree under: the caller (default) or a member of the caller's subtree, by number (a
    /// node's `user_no` from an earlier page: the next page down).
    pub root: Option<i32>,
    /// Levels below the root, 1..=4 (default 3).
    pub depth: Option<i32>,
}

/// A node of the binary tree.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryTreeNode {
    /// The member.
    pub user_no: i32,
    /// Their wallet, in the chain's form.
    pub address: String,
    /// Their parent's number; absent for the page's root.
    pub parent_no: Option<i32>,
    /// `left` or `right` under the parent; absent for the page's root.
    pub side: Option<String>,
    /// Levels below the page's root.
    pub depth: i32,
    /// Their own volume.
    pub own_volume: AssetAmount,
    /// Whether they are an active buyer.
    pub active_buyer: bool,
    /// Whether they have children (below this page's depth too: ask again with them as `root`).
    pub has_children: bool,
}

/// A page of the binary tree: the nodes under `root`, breadth-first, left before right.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryTreePage {
    /// The asset.
    pub asset_id: i32,
    /// The page's root.
    pub root: i32,
    /// The depth shown below it.
    pub depth: i32,
    /// The nodes.
    pub nodes: Vec<BinaryTreeNode>,
}

/// The binary tree under the caller, or under a member of the caller's subtree (a member sees their own subtree
/// only: 404 for a root outside it), down to `depth` levels (at most 4). 404 for an asset that is not of the binary
/// plan; 422 `not_registered` for a wallet that is not a member of it, `invalid_depth` outside 1..=4.
#[utoipa::path(get, path = "/v1/users/binary/tree", tag = "users", security(("bearer" = [])), params(TreeQuery),
    responses((status = 200, body = BinaryTreePage), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn tree(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<TreeQuery>,
) -> Result<Json<BinaryTreePage>, ApiError> {
    let depth = q.depth.unwrap_or(3);
    if !(1..=MAX_TREE_DEPTH).contains(&depth) {
        return Err(ApiError::unprocessable("invalid_depth", format!("depth must be 1..={MAX_TREE_DEPTH}")));
    }
    let info = ledger::asset_info(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    reads::params(&ctx.db, q.asset_id).await?.ok_or(ApiError::NotFound)?;
    let me = reads::member_no(&ctx.db, q.asset_id, user.wallet)
        .await?
        .ok_or_else(|| ApiError::unprocessable("not_registered", "this wallet is not registered in this asset"))?;
    let root = q.root.unwrap_or(me);
    let nodes = reads::tree(&ctx.db, q.asset_id, me, root, depth).await?.ok_or(ApiError::NotFound)?;
    let amount = |a: u128| AssetAmount::new(a, info.decimals, &info.symbol);
    Ok(Json(BinaryTreePage {
        asset_id: q.asset_id,
        root,
        depth,
        nodes: nodes
            .into_iter()
            .map(|n| BinaryTreeNode {
                user_no: n.node.user_no,
                address: abi::tron::show(info.chain_id, n.node.address),
                parent_no: n.parent.map(|(p, _)| p),
                side: n.parent.map(|(_, s)| s.as_str().into()),
                depth: n.depth,
                own_volume: amount(n.own_volume),
                active_buyer: n.active,
                has_children: n.has_children,
            })
            .collect(),
    }))
}

/// A binary-plan asset's closed periods, newest first.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClosesQuery {
    /// The asset.
    pub asset_id: i32,
    /// Only periods before this one (the last `period` of the previous page).
    pub before: Option<i64>,
    /// At most this many, 1..=100 (default 20).
    pub limit: Option<i64>,
}

/// One closed period's record (PLAN-BINARY.md §3).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryCloseView {
    /// The period (months since January 1970, or weeks since the origin).
    pub period: i64,
    /// Its first second (unix time).
    pub period_start: i64,
    /// Its end: the first second of the next.
    pub period_end: i64,
    /// The plan version it closed under.
    pub plan_version: i32,
    /// The confirmed block whose time closed it.
    pub closing_block: i64,
    /// Events applied when it closed.
    pub applied_events: i64,
    /// V: Σ pv of the period's purchases.
    pub volume: AssetAmount,
    /// C: the company's balance before the close.
    pub company_before: AssetAmount,
    /// min(C, V × max_payout_bps / 10000).
    pub budget: AssetAmount,
    /// B: Σ of the bonuses before scaling.
    pub bonuses: AssetAmount,
    /// Σ credited (the company's debit).
    pub credited: AssetAmount,
    /// Of it, reserved.
    pub reserved: AssetAmount,
    /// Members with a carry before the close (one line each).
    pub lines: i64,
}

/// Closed periods of a binary-plan asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BinaryCloses {
    /// The asset.
    pub asset_id: i32,
    /// Newest first.
    pub closes: Vec<BinaryCloseView>,
}

/// The periods a binary-plan asset has closed, newest first: V, C, the budget, B, Σ credited and reserved. 404 for
/// an asset that is not of the binary plan; 422 `invalid_limit` outside 1..=100.
#[utoipa::path(get, path = "/v1/admin/binary/closes", tag = "admin", security(("bearer" = [])), params(ClosesQuery),
    responses((status = 200, body = BinaryCloses), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn closes(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<ClosesQuery>,
) -> Result<Json<BinaryCloses>, ApiError> {
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
        .map(|c| BinaryCloseView {
            period: c.period,
            period_start: c.bounds.0,
            period_end: c.bounds.1,
            plan_version: c.plan_version,
            closing_block: c.closing_block,
            applied_events: c.applied_events,
            volume: amount(c.volume),
            company_before: amount(c.company_before),
            budget: amount(c.budget),
            bonuses: amount(c.bonuses),
            credited: amount(c.credited),
            reserved: amount(c.reserved),
            lines: c.lines,
        })
        .collect();
    Ok(Json(BinaryCloses { asset_id: q.asset_id, closes }))
}
