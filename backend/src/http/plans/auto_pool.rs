//! The auto-pool plan's API view (PLAN.md): its public plan (`/v1/public/plan`'s `assets`), and `/v1/pool`: each
//! asset's level trees (summary, queue snapshot, nodes) and the admin's manual placement. Queue snapshots are cached in Redis under the asset's ledger position
//! (`applied_events`, `admin_seq`), so a snapshot of an older ledger is never served.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::bounded;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::extract::{AuthUser, Json, Staff, need};
use crate::http::extract::{Query, parse_address};
use crate::http::page::page_limit;
use crate::http::types::AssetAmount;
use abi::tron::show;
use ledger::plan::{MATRIX_SLOTS, PlanParams};

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(summary)).routes(routes!(queue)).routes(routes!(nodes)).routes(routes!(place))
}

/// Queue positions shown by default and at most.
const DEFAULT_QUEUE: u32 = 14;
const MAX_QUEUE: u32 = 64;
/// How long a cached snapshot is kept (it is keyed by ledger position, so this only bounds memory).
const QUEUE_CACHE_TTL_SECS: u64 = 300;

/// The ledger position of an asset: events applied and admin actions so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerPosition {
    /// Confirmed chain events applied to the asset.
    pub applied_events: i64,
    /// Admin actions taken on the asset.
    pub admin_seq: i64,
}

impl From<ledger::pools::Position> for LedgerPosition {
    fn from(p: ledger::pools::Position) -> Self {
        Self { applied_events: p.applied_events, admin_seq: p.admin_seq }
    }
}

/// A pool read of an unknown asset is a 404.
fn found<T>(read: Option<T>) -> Result<T, ApiError> {
    read.ok_or(ApiError::NotFound)
}

fn check_level(params: &PlanParams, level: u32) -> Result<(), ApiError> {
    if level == 0 || level > params.top_level() {
        return Err(ApiError::bad_request("invalid_level", format!("level must be in 1..={}", params.top_level())));
    }
    Ok(())
}

/// The asset whose pool summary to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
}

/// Every level of one asset's trees, at one ledger position.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoolSummary {
    /// The asset.
    pub asset_id: i32,
    /// Ledger position the figures are at.
    pub position: LedgerPosition,
    /// Every level of the plan in force, level 1 first (empty levels too).
    pub levels: Vec<LevelSummary>,
}

/// One level's tree in a pool summary.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LevelSummary {
    /// Level, 1 first.
    pub level: u32,
    /// Nodes placed in the level's tree.
    pub nodes: i64,
    /// Heap index the next placement in this level gets (= nodes).
    pub next_index: i64,
    /// Nodes whose 14-slot matrix is full.
    pub completed_matrices: i64,
    /// Price of a node in this level under the plan in force.
    pub price: AssetAmount,
}

/// Per level of one asset: nodes, next index, completed matrices and price.
#[utoipa::path(get, path = "/v1/pool/summary", tag = "pool", security(("bearer" = [])), params(SummaryQuery),
    responses((status = 200, body = PoolSummary), (status = 404, body = ErrorBody)))]
pub async fn summary(
    State(ctx): State<ApiContext>,
    _user: AuthUser,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<PoolSummary>, ApiError> {
    let (asset, rows) = found(ledger::pools::summary(&ctx.db, q.asset_id).await?)?;
    let levels = (1..=asset.params.top_level())
        .map(|level| {
            let (nodes, completed) = rows.iter().find(|r| r.level == level).map_or((0, 0), |r| (r.nodes, r.completed));
            LevelSummary {
                level,
                nodes,
                next_index: nodes,
                completed_matrices: completed,
                price: AssetAmount::new(asset.params.price(level).unwrap_or(0), asset.decimals, &asset.symbol),
            }
        })
        .collect();
    Ok(Json(PoolSummary { asset_id: q.asset_id, position: asset.position.into(), levels }))
}

/// One level's queue of one asset, and how many positions to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// Level, 1 up to the plan's top level (400 `invalid_level` otherwise).
    pub level: u32,
    /// Positions to show, 1..=64, default 14.
    pub count: Option<u32>,
}

/// The next positions of one level's tree and whose matrices they feed, at one ledger position.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueueSnapshot {
    /// The asset.
    pub asset_id: i32,
    /// The level.
    pub level: u32,
    /// Ledger position the snapshot is of.
    pub position: LedgerPosition,
    /// Heap index the next placement in this level gets (= nodes placed).
    pub next_index: i64,
    /// The oldest node whose matrix is still open (the next to complete); none for an empty tree.
    pub next_to_complete: Option<OpenMatrix>,
    /// The next `count` placements in order: heap index and the ancestors they credit.
    pub upcoming: Vec<QueuePosition>,
    /// True when this answer came from the cache.
    #[serde(default)]
    #[schema(required = true)]
    pub cached: bool,
}

/// A node whose matrix is still open.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenMatrix {
    /// Heap index of the node.
    pub q: i64,
    /// 0x EIP-55.
    pub owner: String,
    /// Slots of its 14 already filled.
    pub filled_slots: u64,
}

/// One upcoming placement and the ancestors' matrices it feeds.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QueuePosition {
    /// Heap index the placement will get.
    pub q: i64,
    /// Ancestors at depth 1, 2, 3 that exist or will exist by then (an ancestor may itself be upcoming).
    pub feeds: Vec<MatrixFeed>,
}

/// One ancestor's matrix that an upcoming placement fills a slot of.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MatrixFeed {
    /// 1 = parent (POOL_L1), 2 = grandparent, 3 = great-grandparent.
    pub depth: u32,
    /// Heap index of the ancestor node.
    pub ancestor_q: i64,
    /// Owner of the ancestor node; none when that node is upcoming too (owner not known yet).
    pub owner: Option<String>,
    /// Slot 1..14 of the ancestor's matrix this position fills.
    pub slot: u64,
    /// The credit is reserved towards the next level (one of the last `reserve_slots` slots, below the top level).
    pub reserved: bool,
    /// This position fills slot 14: the ancestor's matrix completes.
    pub completes: bool,
}

/// Slots of node `a`'s matrix filled when the tree has `n` nodes.
fn filled_slots(a: u64, n: u64) -> u64 {
    (1..=3u32)
        .map(|d| {
            let span = 1u64 << d;
            let first = span * a + span - 1;
            n.saturating_sub(first).min(span)
        })
        .sum()
}

fn queue_key(prefix: &str, asset_id: i32, level: u32, count: u32, pos: LedgerPosition) -> String {
    format!("{prefix}:pool-queue:{asset_id}:{level}:{count}:{}:{}", pos.applied_events, pos.admin_seq)
}

async fn cached_queue(ctx: &ApiContext, key: &str) -> Option<QueueSnapshot> {
    let mut conn = ctx.redis.clone()?;
    let got: Result<Option<String>, _> = redis::cmd("GET").arg(key).query_async(&mut conn).await;
    match got {
        Ok(Some(text)) => serde_json::from_str(&text).ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "queue snapshot uncached: Redis unavailable");
            None
        }
    }
}

async fn store_queue(ctx: &ApiContext, key: &str, snapshot: &QueueSnapshot) {
    let Some(mut conn) = ctx.redis.clone() else {
        return;
    };
    let Ok(text) = serde_json::to_string(snapshot) else { return };
    let set: Result<(), _> =
        redis::cmd("SET").arg(key).arg(text).arg("EX").arg(QUEUE_CACHE_TTL_SECS).query_async(&mut conn).await;
    if let Err(e) = set {
        tracing::warn!(error = %e, "queue snapshot not cached: Redis unavailable");
    }
}

/// The queue of one level: the next positions to be filled and whose matrices they complete or feed.
/// Cached in Redis per ledger position; without Redis it is computed every time.
#[utoipa::path(get, path = "/v1/pool/queue", tag = "pool", security(("bearer" = [])), params(QueueQuery),
    responses((status = 200, body = QueueSnapshot), (status = 404, body = ErrorBody)))]
pub async fn queue(
    State(ctx): State<ApiContext>,
    _user: AuthUser,
    Query(q): Query<QueueQuery>,
) -> Result<Json<QueueSnapshot>, ApiError> {
    let count = q.count.unwrap_or(DEFAULT_QUEUE);
    if !(1..=MAX_QUEUE).contains(&count) {
        return Err(ApiError::bad_request("invalid_count", format!("count must be in 1..={MAX_QUEUE}")));
    }
    let asset = found(ledger::pools::asset(&ctx.db, q.asset_id).await?)?;
    check_level(&asset.params, q.level)?;
    let prefix = &ctx.settings.redis.key_prefix;
    if let Some(mut hit) =
        cached_queue(&ctx, &queue_key(prefix, q.asset_id, q.level, count, asset.position.into())).await
    {
        hit.cached = true;
        return Ok(Json(hit));
    }
    // Position and tree read in one snapshot, so the cache key matches the content.
    let ledger::pools::QueueRead { asset, nodes: n, next_open, ancestors } =
        found(ledger::pools::queue(&ctx.db, q.asset_id, q.level).await?)?;
    let position = LedgerPosition::from(asset.position);
    let owner_of = |a: i64| ancestors.iter().find(|node| node.q == a).map(|node| show(asset.chain_id, node.owner));
    let params = &asset.params;
    let reserves_here = q.level < params.top_level();
    let first_reserved = MATRIX_SLOTS - u64::from(params.reserve_slots) + 1;
    let upcoming = (0..i64::from(count))
        .map(|i| {
            let pos = (n + i) as u64;
            let feeds = (1..=3u32)
                .filter_map(|d| {
                    let span = 1u64 << d;
                    if pos + 1 < span {
                        return None;
                    }
                    let a = ((pos + 1) >> d) - 1;
                    let slot = (span - 1) + (pos - (span * a + span - 1));
                    Some(MatrixFeed {
                        depth: d,
                        ancestor_q: a as i64,
                        owner: owner_of(a as i64),
                        slot,
                        reserved: reserves_here && slot >= first_reserved,
                        completes: slot == MATRIX_SLOTS,
                    })
                })
                .collect();
            QueuePosition { q: pos as i64, feeds }
        })
        .collect();
    let snapshot = QueueSnapshot {
        asset_id: q.asset_id,
        level: q.level,
        position,
        next_index: n,
        next_to_complete: next_open.map(|open| OpenMatrix {
            q: open.q,
            owner: show(asset.chain_id, open.owner),
            filled_slots: filled_slots(open.q as u64, n as u64),
        }),
        upcoming,
        cached: false,
    };
    store_queue(&ctx, &queue_key(prefix, q.asset_id, q.level, count, position), &snapshot).await;
    Ok(Json(snapshot))
}

/// A page of one level's nodes, optionally of one owner.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NodesQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// Level, 1 up to the plan's top level (400 `invalid_level` otherwise).
    pub level: u32,
    /// Only nodes of this wallet (0x or TRON base58).
    #[serde(default, deserialize_with = "bounded::optional_address")]
    pub owner: Option<String>,
    /// Heap index of the last node of the previous page (`next_after`).
    pub after: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// A page of one level's nodes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NodesPage {
    /// In heap order.
    pub items: Vec<PoolNodeView>,
    /// Pass as `after` for the next page; none on the last page.
    pub next_after: Option<i64>,
}

/// A node of a level's tree.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoolNodeView {
    /// Heap index in the level's tree (the page cursor).
    pub q: i64,
    /// The owner's wallet, in the asset chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub owner: String,
    /// Number of the placement that made the node, within the asset.
    pub placement_no: i64,
    /// `active` or `completed`.
    pub status: String,
    /// Slots of its 14-slot matrix filled.
    pub filled_slots: u64,
    /// Block in which its matrix completed; null while active.
    pub completed_block: Option<i64>,
}

/// Nodes of one level in heap order (keyset pages), optionally of one owner.
#[utoipa::path(get, path = "/v1/pool/nodes", tag = "pool", security(("bearer" = [])), params(NodesQuery),
    responses((status = 200, body = NodesPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn nodes(
    State(ctx): State<ApiContext>,
    _user: AuthUser,
    Query(q): Query<NodesQuery>,
) -> Result<Json<NodesPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let owner = match q.owner.as_deref() {
        None => None,
        Some(text) => Some(parse_address(text, "owner")?),
    };
    let ledger::pools::NodesRead { asset, nodes: n, rows } =
        found(ledger::pools::nodes(&ctx.db, q.asset_id, q.level, owner, q.after.unwrap_or(-1), limit + 1).await?)?;
    check_level(&asset.params, q.level)?;
    let mut items: Vec<PoolNodeView> = rows
        .into_iter()
        .map(|node| PoolNodeView {
            q: node.q,
            owner: show(asset.chain_id, node.owner),
            placement_no: node.placement_no,
            status: node.status,
            filled_slots: filled_slots(node.q as u64, n as u64),
            completed_block: node.completed_block,
        })
        .collect();
    let next_after = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|r| r.q)
    } else {
        None
    };
    Ok(Json(NodesPage { items, next_after }))
}

/// Body of a manual placement: the asset, the user to own the new node and its level.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementRequest {
    /// The asset.
    pub asset_id: i32,
    /// The wallet to own the new node: 0x or TRON base58, a user of the asset.
    #[serde(deserialize_with = "bounded::address")]
    pub user: String,
    /// Level of the tree to place the node in.
    pub level: u32,
}

/// What a manual placement did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ManualPlacement {
    /// The asset.
    pub asset_id: i32,
    /// In the asset chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub owner: String,
    /// Level of the tree the node was placed in.
    pub level: u32,
    /// Heap index of the new node.
    pub q: i64,
    /// Number of the placement within the asset.
    pub placement_no: i64,
    /// level_price[level], taken from the company's share.
    pub price: AssetAmount,
    /// Ledger position the placement took effect at (as in its audit row).
    pub position: LedgerPosition,
    /// Placements in all (this one and any auto-progressions it triggered).
    pub placements: usize,
    /// Credits to users it caused, reserved ones included.
    pub credits: usize,
}

/// Admin: places a node for a user at level L, paid from the company's share (`level_price[L]`),
/// through the plan engine at the current ledger position (audited).
#[utoipa::path(post, path = "/v1/admin/pool/placements", tag = "admin", security(("bearer" = [])),
    request_body = PlacementRequest,
    responses((status = 200, body = ManualPlacement)))]
pub async fn place(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Admin>,
    Json(req): Json<PlacementRequest>,
) -> Result<Json<ManualPlacement>, ApiError> {
    let user = parse_address(&req.user, "user")?;
    let actor = admin.wallet.to_checksum(None);
    let done = ledger::admin::manual_placement(&ctx.db, req.asset_id, user, req.level, &actor).await?;
    let asset = found(ledger::asset_info(&ctx.db, req.asset_id).await?)?;
    Ok(Json(ManualPlacement {
        asset_id: req.asset_id,
        owner: show(asset.chain_id, user),
        level: req.level,
        q: done.q as i64,
        placement_no: done.placement_no as i64,
        price: AssetAmount::new(done.price, asset.decimals, &asset.symbol),
        position: LedgerPosition { applied_events: done.applied_events, admin_seq: done.admin_seq },
        placements: done.placements,
        credits: done.credits,
    }))
}

/// The plan version of one asset with the highest number (the one new events apply under
/// once their block reaches `effective_from_block`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetPlan {
    /// The asset's id.
    pub asset_id: i32,
    /// The chain the asset lives on.
    pub chain_id: i64,
    /// Token contract (0x hex); the zero address for the chain's native coin.
    pub token: String,
    /// The asset's symbol (`USDT`, `BNB`).
    pub symbol: String,
    /// Decimals of the asset's base unit.
    pub decimals: i16,
    /// The plan version's number: 1 for the asset's first plan, then one more per change.
    pub version: i32,
    /// First block whose events this version governs; earlier events keep their version.
    pub effective_from_block: i64,
    /// Exact amount a registration must pay; also the level-1 node price.
    pub registration_fee: AssetAmount,
    /// DIRECT reward to the sponsor of a registration that is not a pool entry; the rest goes to the company.
    pub direct_amount: AssetAmount,
    /// Every n-th direct referral's fee is the sponsor's level-1 pool entry instead of a DIRECT reward.
    pub pool_entry_every: u32,
    /// Most nodes one user may hold in one level.
    pub max_nodes_per_level: u32,
    /// Price of a node per level, level 1 first.
    pub level_price: Vec<AssetAmount>,
    /// Parent, grandparent, great-grandparent shares of a pool placement, basis points.
    pub layer_bps: [u32; 3],
    /// How many of the last matrix slots reserve the POOL_L3 credit towards the next level.
    pub reserve_slots: u32,
    /// Exact amount a retopup must pay; shared out as LEVEL rewards up the sponsor chain.
    pub retopup_fee: AssetAmount,
    /// Shares of a retopup for the sponsors 1..n up the chain, basis points.
    pub level_bps: Vec<u32>,
}

/// Every auto-pool asset's newest plan version, by asset id (`/v1/public/plan`'s `assets`).
pub async fn public_plans(ctx: &ApiContext) -> Result<Vec<AssetPlan>, ApiError> {
    let rows = ledger::plans(&ctx.db).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (d, sym) = (r.info.decimals, r.info.symbol.as_str());
            let p = r.params;
            AssetPlan {
                asset_id: r.asset_id,
                chain_id: r.info.chain_id as i64,
                token: abi::tron::show(r.info.chain_id, r.info.token),
                decimals: d,
                version: r.version,
                effective_from_block: r.effective_from_block,
                registration_fee: AssetAmount::new(p.registration_fee, d, sym),
                direct_amount: AssetAmount::new(p.direct_amount, d, sym),
                pool_entry_every: p.pool_entry_every,
                max_nodes_per_level: p.max_nodes_per_level,
                level_price: p.level_price.iter().map(|x| AssetAmount::new(x, d, sym)).collect(),
                layer_bps: p.layer_bps,
                reserve_slots: p.reserve_slots,
                retopup_fee: AssetAmount::new(p.retopup_fee, d, sym),
                level_bps: p.level_bps,
                symbol: r.info.symbol,
            }
        })
        .collect())
}
