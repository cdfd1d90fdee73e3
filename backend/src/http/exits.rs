//! The members' exit as the API answers it (contracts/EXIT.md): once a contract's exit of an asset is open, the
//! contract refuses every payment, payout batch, treasury transfer and refund of it — so does the API, before anything
//! is signed, saying why and where members go instead.

use crate::http::context::ApiContext;
use crate::http::error::ApiError;

/// 409 `exit_open` when `asset_id`'s members' exit has opened on any contract of its chain.
pub async fn refuse_if_open(ctx: &ApiContext, asset_id: i32) -> Result<(), ApiError> {
    Ok(crate::outflows::refuse_if_exit_open(&ctx.db, asset_id).await?)
}
