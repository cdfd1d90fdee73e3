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

/// One user's payable rewards of the asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingUser {
    /// The user's number.
    pub user_no: i32,
    /// 0x EIP-55.
    pub address: String,
    /// What is payable to them: each reward's amount less what was paid or is in flight, summed.
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

/// One page of users with pending rewards, and totals over all pages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingPage {
    /// The asset the rewards are in.
    pub asset_id: i32,
    /// By user number.
    pub items: Vec<PendingUser>,
    /// Pass as `after` to get the next page; null on the last one.
    pub next_cursor: Option<i64>,
    /// Totals over every user the filters keep (all pages).
    pub totals: PendingTotals,
}

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
    let filter = ::ledger::payouts::PendingFilter { user, min_amount, requested: q.requested };
    let (rows, totals) =
        ::ledger::payouts::pending(&ctx.db, q.asset_id, filter, q.after.unwrap_or(-1), limit + 1).await?;
    let items: Vec<PendingUser> = rows
        .into_iter()
        .map(|p| PendingUser {
            user_no: p.user_no,
            address: show_address(chain_id, &p.address),
            amount: AssetAmount::new(p.amount, decimals, &symbol),
            rewards: p.rewards,
            withdraw_request: p.withdraw_request,
        })
        .collect();
    let Page { items, next_cursor } = Page::keyset(items, limit, |i| i64::from(i.user_no));
    Ok(Json(PendingPage {
        asset_id: q.asset_id,
        items,
        next_cursor,
        totals: PendingTotals {
            users: totals.users,
            rewards: totals.rewards,
            amount: AssetAmount::new(totals.amount, decimals, &symbol),
        },
    }))
}
