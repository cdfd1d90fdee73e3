//! Pending (payable) rewards summed per user: what the next batches can take.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::http::bounded;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::extract::{AdminUser, Json};
use crate::http::extract::{Query, parse_address};
use crate::http::page::{Page, page_limit};
use crate::http::types::{AssetAmount, AssetMeta, parse_amount, show_address};
use ::ledger::money::Money;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct PendingQuery {
    pub asset_id: i32,
    /// Only this user (0x or TRON base58).
    #[serde(default, deserialize_with = "bounded::optional_address")]
    pub user: Option<String>,
    /// Only users whose pending sum is at least this (base units, decimal string).
    #[serde(default, deserialize_with = "bounded::optional_amount")]
    pub min_amount: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub after: Option<i32>,
    /// `true`: only users with an open withdraw request for the asset; `false`: only users without one.
    pub requested: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingUser {
    pub user_no: i32,
    /// 0x EIP-55.
    pub address: String,
    pub amount: AssetAmount,
    /// Pending rewards summed.
    pub rewards: i64,
    /// Id of the user's open withdraw request for the asset, if any.
    pub withdraw_request: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingTotals {
    /// Users matching the filters (all pages).
    pub users: i64,
    pub rewards: i64,
    pub amount: AssetAmount,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingPage {
    pub asset_id: i32,
    /// By user number.
    pub items: Vec<PendingUser>,
    pub next_cursor: Option<i64>,
    pub totals: PendingTotals,
}

/// user_no, address, amount, rewards, open withdraw request.
type PendingRow = (i32, Vec<u8>, Money, i64, Option<i64>);

const PENDING_PER_USER: &str = "WITH per_user AS (
        SELECT r.beneficiary_no AS user_no, sum(r.amount - r.paid - r.in_flight) AS amount, count(*) AS rewards
        FROM rewards r
        WHERE r.asset_id = $1 AND r.status = 'pending'
          AND ($2::bytea IS NULL OR r.beneficiary_no = (SELECT user_no FROM users WHERE asset_id = $1 AND address = $2))
          AND ($4::bool IS NULL OR $4 = EXISTS (SELECT 1 FROM withdraw_requests w
                WHERE w.asset_id = $1 AND w.user_no = r.beneficiary_no AND w.status = 'open'))
        GROUP BY r.beneficiary_no HAVING sum(r.amount - r.paid - r.in_flight) >= $3::numeric)";

/// Pending (payable) rewards summed per user, keyset pages by user number, with totals over all pages.
#[utoipa::path(get, path = "/v1/admin/payouts/pending", tag = "payouts", security(("bearer" = [])), params(PendingQuery),
    responses((status = 200, body = PendingPage), (status = 422, body = ErrorBody)))]
pub(super) async fn pending(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<PendingQuery>,
) -> Result<Json<PendingPage>, ApiError> {
    let limit = page_limit(q.limit)?;
    let user = q.user.as_deref().map(|u| parse_address(u, "user")).transpose()?;
    let min_amount = q.min_amount.as_deref().map(|m| parse_amount(m, "min_amount")).transpose()?.unwrap_or_default();
    let AssetMeta { symbol, decimals, chain_id, .. } = AssetMeta::load(&ctx, q.asset_id).await?;
    let user_bytes = user.map(|u| u.to_vec());
    let rows: Vec<PendingRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PENDING_PER_USER}
         SELECT p.user_no, u.address, p.amount, p.rewards,
                (SELECT w.id FROM withdraw_requests w WHERE w.asset_id = $1 AND w.user_no = p.user_no
                   AND w.status = 'open')
         FROM per_user p JOIN users u ON u.asset_id = $1 AND u.user_no = p.user_no
         WHERE p.user_no > $5 ORDER BY p.user_no LIMIT $6"
    )))
    .bind(q.asset_id)
    .bind(&user_bytes)
    .bind(min_amount.to_string())
    .bind(q.requested)
    .bind(q.after.unwrap_or(-1))
    .bind(limit + 1)
    .fetch_all(&ctx.db)
    .await?;
    let (users, rewards, total): (i64, i64, Money) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PENDING_PER_USER}
         SELECT count(*), COALESCE(sum(rewards), 0)::int8, COALESCE(sum(amount), 0) FROM per_user"
    )))
    .bind(q.asset_id)
    .bind(&user_bytes)
    .bind(min_amount.to_string())
    .bind(q.requested)
    .fetch_one(&ctx.db)
    .await?;
    let items: Vec<PendingUser> = rows
        .into_iter()
        .map(|(user_no, address, amount, rewards, withdraw_request)| PendingUser {
            user_no,
            address: show_address(chain_id, &address),
            amount: AssetAmount::new(amount, decimals, &symbol),
            rewards,
            withdraw_request,
        })
        .collect();
    let Page { items, next_cursor } = Page::keyset(items, limit, |i| i64::from(i.user_no));
    Ok(Json(PendingPage {
        asset_id: q.asset_id,
        items,
        next_cursor,
        totals: PendingTotals { users, rewards, amount: AssetAmount::new(total, decimals, &symbol) },
    }))
}
