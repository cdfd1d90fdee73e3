//! `/v1/users`: the signed-in wallet's standing in each asset's plan.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use super::error::ErrorBody;
use super::{ApiContext, ApiError, AuthUser, Json};

pub fn router() -> Router<ApiContext> {
    Router::new().route("/v1/users/me", get(me))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// 0x EIP-55.
    pub address: String,
    /// One entry per asset the wallet is registered in; empty for a wallet not registered yet.
    pub assets: Vec<AssetStanding>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssetStanding {
    pub asset_id: i32,
    pub chain_id: i64,
    pub symbol: String,
    pub decimals: i16,
    /// `active`, or `frozen` by an admin.
    pub status: &'static str,
    /// Number of the user in this asset's plan (0 = genesis).
    pub user_no: i32,
    /// Sponsor's address (0x EIP-55); none for the genesis user.
    pub sponsor: Option<String>,
    pub registered_block: Option<i64>,
    pub direct_referrals: i64,
    pub retopups: i64,
    /// Base units of the asset (decimal strings), by status.
    pub balances: Balances,
    /// Per pool level: nodes owned.
    pub pool_nodes: Vec<LevelNodes>,
}

/// Sums per reward status, in base units as decimal strings (exact, up to 78 digits).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Balances {
    pub paid_in: String,
    pub pending: String,
    pub held: String,
    pub batched: String,
    pub settled: String,
    pub forfeited: String,
    pub reserved: String,
    pub claimable: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LevelNodes {
    pub level: i32,
    pub active: i64,
    pub completed: i64,
}

#[derive(sqlx::FromRow)]
struct StandingRow {
    asset_id: i32,
    chain_id: i64,
    symbol: String,
    decimals: i16,
    user_no: i32,
    frozen: bool,
    sponsor: Option<Vec<u8>>,
    registered_block: Option<i64>,
    direct_count: i64,
    retopup_count: i64,
    paid_in: String,
    pending: String,
    held: String,
    batched: String,
    settled: String,
    forfeited: String,
    reserved: String,
    claimable: String,
}

/// The signed-in wallet's profile across assets.
#[utoipa::path(get, path = "/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody)))]
pub async fn me(State(ctx): State<ApiContext>, user: AuthUser) -> Result<Json<Profile>, ApiError> {
    let wallet = user.wallet.as_slice();
    let rows: Vec<StandingRow> = sqlx::query_as(
        "SELECT a.id AS asset_id, a.chain_id, a.symbol, a.decimals, u.user_no, u.frozen, s.address AS sponsor,
                u.registered_block, u.direct_count, u.retopup_count,
                COALESCE(b.paid_in, 0)::text AS paid_in, COALESCE(b.pending, 0)::text AS pending,
                COALESCE(b.held, 0)::text AS held, COALESCE(b.batched, 0)::text AS batched,
                COALESCE(b.settled, 0)::text AS settled, COALESCE(b.forfeited, 0)::text AS forfeited,
                COALESCE(b.reserved, 0)::text AS reserved, COALESCE(b.claimable, 0)::text AS claimable
         FROM users u
         JOIN assets a ON a.id = u.asset_id
         LEFT JOIN users s ON s.asset_id = u.asset_id AND s.user_no = u.sponsor_no
         LEFT JOIN user_balances b ON b.asset_id = u.asset_id AND b.user_no = u.user_no
         WHERE u.address = $1
         ORDER BY a.id",
    )
    .bind(wallet)
    .fetch_all(&ctx.db)
    .await?;
    let node_rows: Vec<(i32, i32, i64, i64)> = sqlx::query_as(
        "SELECT n.asset_id, n.level, count(*) FILTER (WHERE n.status = 'active'),
                count(*) FILTER (WHERE n.status = 'completed')
         FROM users u JOIN pool_nodes n ON n.asset_id = u.asset_id AND n.owner_no = u.user_no
         WHERE u.address = $1
         GROUP BY n.asset_id, n.level ORDER BY n.asset_id, n.level",
    )
    .bind(wallet)
    .fetch_all(&ctx.db)
    .await?;
    let mut nodes: BTreeMap<i32, Vec<LevelNodes>> = BTreeMap::new();
    for (asset_id, level, active, completed) in node_rows {
        nodes.entry(asset_id).or_default().push(LevelNodes { level, active, completed });
    }
    let assets = rows
        .into_iter()
        .map(|r| AssetStanding {
            asset_id: r.asset_id,
            chain_id: r.chain_id,
            symbol: r.symbol,
            decimals: r.decimals,
            status: if r.frozen { "frozen" } else { "active" },
            user_no: r.user_no,
            sponsor: r.sponsor.map(|s| alloy::primitives::Address::from_slice(&s).to_checksum(None)),
            registered_block: r.registered_block,
            direct_referrals: r.direct_count,
            retopups: r.retopup_count,
            balances: Balances {
                paid_in: r.paid_in,
                pending: r.pending,
                held: r.held,
                batched: r.batched,
                settled: r.settled,
                forfeited: r.forfeited,
                reserved: r.reserved,
                claimable: r.claimable,
            },
            pool_nodes: nodes.remove(&r.asset_id).unwrap_or_default(),
        })
        .collect();
    Ok(Json(Profile { address: user.wallet.to_checksum(None), assets }))
}
