//! The members' exit as the API answers it (contracts/EXIT.md): once a contract's exit of an asset is open, the
//! contract refuses every payment, payout batch, treasury transfer and refund of it — so does the API, before anything
//! is signed, saying why and where members go instead.

use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::types::show_address;

/// 409 `exit_open` when `asset_id`'s members' exit has opened on any contract of its chain.
pub async fn refuse_if_open(ctx: &ApiContext, asset_id: i32) -> Result<(), ApiError> {
    let openings = ledger::exits::openings(&ctx.db, asset_id).await?;
    let Some(opened) = openings.first() else { return Ok(()) };
    Err(ApiError::Conflict {
        code: "exit_open",
        message: format!(
            "the members' exit of this asset opened at block {} on contract {} (no commitment for too long): nothing \
             is paid in or out of it any more but claims and members' exits with their proofs (the exit page, or \
             solvency-verify exit)",
            opened.block,
            show_address(opened.chain_id, opened.contract.as_slice())
        ),
    })
}
