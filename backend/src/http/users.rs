//! `/v1/users`: the signed-in wallet's standing in each asset's plan.

use alloy::primitives::Address;
use axum::extract::State;
use serde::Serialize;

use utoipa_axum::{router::OpenApiRouter, routes};

use super::calls::WalletCalls;
use super::error::ErrorBody;
use super::extract::{Path, Query};
use super::page::{Page, page_limit};
use super::profile::{Profile, profile_of};
use super::types::{AssetAmount, WalletTransaction, hex_bytes, rfc3339_secs, show_address};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AuthUser, Json};
use ledger::withdrawals::{self, CancelRefusal, WithdrawRefusal};

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(referrals))
        .routes(routes!(tree))
        .routes(routes!(history))
        .routes(routes!(withdraw))
        .routes(routes!(withdrawals))
        .routes(routes!(cancel_withdrawal))
        .routes(routes!(claim))
}

/// The signed-in wallet's profile across assets.
#[utoipa::path(get, path = "/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Profile)))]
pub async fn me(State(ctx): State<ApiContext>, user: AuthUser) -> Result<Json<Profile>, ApiError> {
    Ok(Json(profile_of(&ctx.db, user.wallet).await?))
}

/// Deepest sponsor tree served, and most nodes in one answer.
pub const MAX_TREE_DEPTH: u32 = 5;
/// Most users below the root in one sponsor-tree answer; beyond it the answer is cut (`truncated`).
pub const MAX_TREE_NODES: i64 = 1000;

/// Asset `asset_id`'s unit; 404 for an unknown asset.
async fn asset_of(ctx: &ApiContext, asset_id: i32) -> Result<ledger::AssetInfo, ApiError> {
    ledger::asset_info(&ctx.db, asset_id).await?.ok_or(ApiError::NotFound)
}

/// The caller's user number in `asset_id`; 404 for an unknown asset, `None` when the wallet
/// is not registered in it.
async fn my_user_no(
    ctx: &ApiContext,
    asset_id: i32,
    wallet: alloy::primitives::Address,
) -> Result<Option<i32>, ApiError> {
    Ok(my_user_no_on(ctx, asset_id, wallet).await?.0)
}

/// As [`my_user_no`], with the asset's chain (how its addresses are shown).
async fn my_user_no_on(
    ctx: &ApiContext,
    asset_id: i32,
    wallet: alloy::primitives::Address,
) -> Result<(Option<i32>, u64), ApiError> {
    let found = ledger::members::membership(&ctx.db, asset_id, wallet).await?.ok_or(ApiError::NotFound)?;
    Ok((found.user_no, found.chain_id))
}

/// A page of the caller's direct referrals in one asset.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReferralsQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i32>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// A direct referral of the caller.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Referral {
    /// Its user number in the asset (the page cursor).
    pub user_no: i32,
    /// 0x EIP-55.
    pub address: String,
    /// Block of its registration.
    pub registered_block: Option<i64>,
    /// Its own direct referrals.
    pub direct_referrals: i64,
    /// Whether it has made a retopup.
    pub has_retopup: bool,
}

/// The caller's direct referrals in one asset, in registration order (keyset pages).
#[utoipa::path(get, path = "/v1/users/referrals", tag = "users", security(("bearer" = [])), params(ReferralsQuery),
    responses((status = 200, body = Page<Referral>), (status = 404, body = ErrorBody)))]
pub async fn referrals(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<ReferralsQuery>,
) -> Result<Json<Page<Referral>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let (Some(me), chain_id) = my_user_no_on(&ctx, q.asset_id, user.wallet).await? else {
        return Ok(Json(Page { items: vec![], next_cursor: None }));
    };
    let rows = ledger::members::referrals(&ctx.db, q.asset_id, me, q.cursor.unwrap_or(-1), limit + 1).await?;
    let items: Vec<Referral> = rows
        .into_iter()
        .map(|r| Referral {
            user_no: r.user_no,
            address: show_address(chain_id, &r.address),
            registered_block: r.registered_block,
            direct_referrals: r.direct_count,
            has_retopup: r.has_retopup,
        })
        .collect();
    Ok(Json(Page::keyset(items, limit, |r| i64::from(r.user_no))))
}

/// The caller's sponsor tree in one asset, to a depth.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TreeQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// Levels below the caller, 1..=5, default 3.
    pub depth: Option<u32>,
}

/// The sponsor tree below the caller in one asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SponsorTree {
    /// The caller; none when not registered in the asset.
    pub root: Option<TreeNode>,
    /// Users below the root up to `depth`, breadth-first (depth, then user number).
    pub nodes: Vec<TreeNode>,
    /// The depth served (the query's `depth`, default 3).
    pub depth: u32,
    /// True when more than 1000 nodes were below and the answer was cut.
    pub truncated: bool,
}

/// A user in the sponsor tree.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TreeNode {
    /// Its user number in the asset.
    pub user_no: i32,
    /// Its wallet, in the asset chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub address: String,
    /// Sponsor's user number; none for genesis.
    pub sponsor_no: Option<i32>,
    /// 0 for the root.
    pub depth: i32,
    /// Its direct referrals (all of them, whether shown here or not).
    pub direct_referrals: i64,
}

/// The sponsor tree below the caller, bounded in depth and size.
#[utoipa::path(get, path = "/v1/users/tree", tag = "users", security(("bearer" = [])), params(TreeQuery),
    responses((status = 200, body = SponsorTree), (status = 404, body = ErrorBody)))]
pub async fn tree(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<TreeQuery>,
) -> Result<Json<SponsorTree>, ApiError> {
    let depth = q.depth.unwrap_or(3);
    if !(1..=MAX_TREE_DEPTH).contains(&depth) {
        return Err(ApiError::bad_request("invalid_depth", format!("depth must be in 1..={MAX_TREE_DEPTH}")));
    }
    let (Some(me), chain_id) = my_user_no_on(&ctx, q.asset_id, user.wallet).await? else {
        return Ok(Json(SponsorTree { root: None, nodes: vec![], depth, truncated: false }));
    };
    let rows = ledger::members::tree(&ctx.db, q.asset_id, me, depth, MAX_TREE_NODES + 2).await?;
    let mut nodes: Vec<TreeNode> = rows
        .into_iter()
        .map(|m| TreeNode {
            user_no: m.user_no,
            address: show_address(chain_id, &m.address),
            sponsor_no: m.sponsor_no,
            depth: m.depth,
            direct_referrals: m.direct_count,
        })
        .collect();
    let root = if nodes.is_empty() { None } else { Some(nodes.remove(0)) };
    let truncated = nodes.len() as i64 > MAX_TREE_NODES;
    nodes.truncate(MAX_TREE_NODES as usize);
    Ok(Json(SponsorTree { root, nodes, depth, truncated }))
}

/// A page of the caller's rewards in one asset.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// One reward (credit) to the caller.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RewardEntry {
    /// The reward's number in the asset (the page cursor).
    pub reward_no: i64,
    /// DIRECT, POOL_L1, POOL_L2, POOL_L3, LEVEL, GENERATION, RANK_BONUS or BINARY_PAIR.
    pub kind: String,
    /// Pool level (POOL_*), sponsor level (LEVEL, GENERATION) or rank (RANK_BONUS); 0 otherwise.
    pub level: i32,
    /// What the credit earned; never changes.
    pub amount: AssetAmount,
    /// Where the unpaid rest is: reserved, held, pending or forfeited — or, with nothing left, batched (a part is
    /// in a payout batch not settled yet) or settled (every part paid).
    pub status: String,
    /// Parts paid on-chain (a reward above the signer's per-entry cap is paid in parts across batches).
    pub paid: AssetAmount,
    /// Parts in payout batches not settled or cancelled yet.
    pub in_flight: AssetAmount,
    /// Block of the event that made the credit; for a period's bonus (RANK_BONUS, BINARY_PAIR), the block whose time
    /// closed its period.
    pub block: Option<i64>,
    /// The period a RANK_BONUS (weeks) or BINARY_PAIR (the binary plan's periods) was credited at the close of.
    pub period: Option<i64>,
    /// When the credit was made: `block`'s time as the chain stamped it (RFC 3339, UTC); for a period closed by a
    /// block the ledger holds no event of, the period's end. Null for a credit no chain event caused (an admin's
    /// manual placement).
    pub credited_at: Option<String>,
    /// The transaction of the event that made the credit (0x hex); null for a RANK_BONUS (a week's close) and an
    /// admin's manual placement.
    pub tx_hash: Option<String>,
    /// Plan version the credit was computed under.
    pub plan_version: i32,
    /// Each part of this reward in a payout batch that was not cancelled, oldest first: the batch, its
    /// transaction and, once executed, whether the push paid the wallet or left the part claimable.
    pub payments: Vec<RewardPayment>,
}

/// One part of a reward in a payout batch. A batch pays each user one entry that settles E of their rewards, oldest
/// first, and keeps the withdrawal fee ⌈E × withdrawal_fee_bps / 10000⌉ (the generation and binary plans; 0 on the auto-pool plan). The entry's
/// fee is shared over its parts in settling order: a part settling `amount` after the entry's earlier parts settled B
/// bears ⌊(B + amount) × fee / E⌋ − ⌊B × fee / E⌋. So over an entry the parts' `fee`s sum to its fee and their `net`s
/// to what the contract paid, exactly, and `amount` = `fee` + `net` for every part.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RewardPayment {
    /// What this part settles of the reward (gross: its fee included).
    pub amount: AssetAmount,
    /// This part's share of its entry's withdrawal fee, kept by the company.
    pub fee: AssetAmount,
    /// What this part pays the wallet (pushed, or left claimable): `amount` − `fee`.
    pub net: AssetAmount,
    /// The payout batch carrying the part.
    pub batch: BatchRef,
    /// Once executed: `paid` (pushed to the wallet) or `claimable` (the push failed; claim it from the contract).
    pub outcome: Option<String>,
}

/// A payout batch as its users see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchRef {
    /// The batch's id.
    pub id: i64,
    /// building, signed, submitted, executed or failed (a failed one is retried or cancelled by the operator).
    pub status: String,
    /// The batch's transaction as last sent; once executed, the one that paid.
    pub tx_hash: Option<String>,
    /// Block of the confirmed execution.
    pub executed_block: Option<i64>,
    /// That block's time (RFC 3339, UTC).
    pub executed_at: Option<String>,
}

/// The caller's rewards in one asset, newest first (keyset pages).
#[utoipa::path(get, path = "/v1/users/history", tag = "users", security(("bearer" = [])), params(HistoryQuery),
    responses((status = 200, body = Page<RewardEntry>), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Page<RewardEntry>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let Some(me) = my_user_no(&ctx, q.asset_id, user.wallet).await? else {
        return Ok(Json(Page { items: vec![], next_cursor: None }));
    };
    let ledger::AssetInfo { symbol, decimals, .. } = asset_of(&ctx, q.asset_id).await?;
    let rows = ledger::members::rewards(&ctx.db, q.asset_id, me, q.cursor.unwrap_or(i64::MAX), limit + 1).await?;
    let reward_nos: Vec<i64> = rows.iter().map(|r| r.reward_no).collect();
    let mut parts = ledger::paid::reward_parts(&ctx.db, q.asset_id, &reward_nos).await?.into_iter().peekable();
    let mut items: Vec<RewardEntry> = rows
        .into_iter()
        .map(|r| RewardEntry {
            reward_no: r.reward_no,
            kind: r.kind,
            level: r.level,
            amount: AssetAmount::new(r.amount, decimals, &symbol),
            status: r.status,
            paid: AssetAmount::new(r.paid, decimals, &symbol),
            in_flight: AssetAmount::new(r.in_flight, decimals, &symbol),
            block: r.block,
            period: r.period,
            credited_at: r.credited_at,
            tx_hash: hex_bytes(r.tx_hash),
            plan_version: r.plan_version,
            payments: Vec::new(),
        })
        .collect();
    // Parts come ordered by reward_no ascending; the page is descending.
    for item in items.iter_mut().rev() {
        while let Some(part) = parts.next_if(|p| p.reward_no == item.reward_no) {
            item.payments.push(RewardPayment {
                amount: AssetAmount::new(part.amount, decimals, &symbol),
                fee: AssetAmount::new(part.fee, decimals, &symbol),
                net: AssetAmount::new(part.net, decimals, &symbol),
                batch: BatchRef {
                    id: part.batch_id,
                    status: part.batch_status,
                    tx_hash: hex_bytes(part.tx_hash),
                    executed_block: part.executed_block,
                    executed_at: part.executed_at,
                },
                outcome: part.outcome,
            });
        }
    }
    Ok(Json(Page::keyset(items, limit, |r| r.reward_no)))
}

/// Body of a withdraw request: the asset to be paid in.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    /// The asset whose pending balance is to be paid.
    pub asset_id: i32,
}

/// A recorded withdraw request, and what the wallet can pull from the contract itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WithdrawAnswer {
    /// The request as recorded (status `open`).
    pub request: WithdrawRequestView,
    /// What the contract holds claimable for this wallet (failed pushes of executed batches), as the ledger
    /// recorded it from confirmed events.
    pub claimable: AssetAmount,
    /// `Settlement.claim(token, wallet)`, when `claimable` > 0 and the chain's contract is configured.
    pub claim_transaction: Option<WalletTransaction>,
    /// On a TRON chain, with `claim_transaction`: the same call as a TronWeb client (TronLink) sends it.
    pub claim_tron: Option<crate::http::types::TronCall>,
}

/// A withdraw request of the caller.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WithdrawRequestView {
    /// The request's id (the page cursor).
    pub id: i64,
    /// The asset.
    pub asset_id: i32,
    /// In the asset chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub address: String,
    /// Pending balance when the request was made.
    pub amount: AssetAmount,
    /// `open`, `batched` or `cancelled`.
    pub status: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// With `cancelled`: `member` (the wallet cancelled it, `POST /v1/users/withdrawals/{id}/cancel`) or `operator`
    /// (a cancelled payout batch handed it back while a newer request of the wallet was open).
    pub cancelled_by: Option<String>,
    /// With `cancelled`: when (RFC 3339, UTC).
    pub cancelled_at: Option<String>,
    /// The payout batch that took the pending rewards for it (with `batched`).
    pub batch: Option<BatchRef>,
}

/// Asks to be paid the pending balance of one asset: recorded for the next payout batch (one open request
/// per user and asset). Also returns the on-chain claimable amount and the `claim` transaction for it.
#[utoipa::path(post, path = "/v1/users/withdraw", tag = "users", security(("bearer" = [])),
    request_body = WithdrawRequest,
    responses((status = 200, body = WithdrawAnswer), (status = 409, body = ErrorBody)))]
pub async fn withdraw(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<WithdrawRequest>,
) -> Result<Json<WithdrawAnswer>, ApiError> {
    // After the members' exit opened no batch pays anyone: the member exits with their proof instead.
    super::exits::refuse_if_open(&ctx, req.asset_id).await?;
    let requested = withdrawals::request(&ctx.db, req.asset_id, user.wallet).await.map_err(|refusal| {
        let message = refusal.to_string();
        match refusal {
            WithdrawRefusal::UnknownAsset(_) => ApiError::unprocessable("unknown_asset", message),
            WithdrawRefusal::NotRegistered => ApiError::unprocessable("not_registered", message),
            WithdrawRefusal::Frozen => ApiError::unprocessable("user_frozen", message),
            WithdrawRefusal::Open(_) => ApiError::Conflict { code: "withdraw_request_open", message },
            WithdrawRefusal::NothingPending => ApiError::unprocessable("nothing_pending", message),
            WithdrawRefusal::Db(e) => e.into(),
        }
    })?;
    let withdrawals::Requested { id, amount: pending, claimable, chain_id, token, symbol, decimals, created_at } =
        requested;
    let token = Address::from_slice(&token);
    let target = match ctx.chains.get(chain_id) {
        // The claim is a side offer here: a chain read that fails leaves it out, never the request.
        Some(chain) if !claimable.0.is_zero() => claim_target(chain, token, user.wallet, claimable.0).await.ok(),
        _ => None,
    };
    let (claim_transaction, claim_tron) = match target {
        Some(target) => {
            let (transaction, tron) =
                WalletCalls::new(&ctx.chains, chain_id, target.contract).claim(token, user.wallet);
            (Some(transaction), tron)
        }
        None => (None, None),
    };
    Ok(Json(WithdrawAnswer {
        request: WithdrawRequestView {
            id,
            asset_id: req.asset_id,
            address: abi::tron::show(chain_id, user.wallet),
            amount: AssetAmount::new(pending, decimals, &symbol),
            status: "open".into(),
            created_at,
            cancelled_by: None,
            cancelled_at: None,
            batch: None,
        },
        claimable: AssetAmount::new(claimable, decimals, &symbol),
        claim_transaction,
        claim_tron,
    }))
}

/// A page of the caller's withdraw requests in one asset.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalsQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
}

/// The caller's withdraw requests in one asset, newest first, and how that asset's payout batches have run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Withdrawals {
    /// The requests, newest first; empty when the wallet is not registered in the asset.
    pub items: Vec<WithdrawRequestView>,
    /// Pass as `cursor` to get the next page; absent on the last one.
    pub next_cursor: Option<i64>,
    /// How the asset's payout batches have run.
    pub payouts: PayoutCadence,
}

/// How an asset's payout batches have run: the operator builds them; this is the record to go by.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PayoutCadence {
    /// Batches executed among those built in the last 30 days.
    pub executed_last_30_days: i64,
    /// Batches built and not yet executed or cancelled.
    pub in_progress: i64,
    /// The newest executed batch.
    pub last_executed: Option<ExecutedBatch>,
    /// When the next batch is expected (RFC 3339, UTC): the operator's next scheduled payout time
    /// (`[payouts.schedule]`) at or after now by the asset chain's clock. Null when the operator configures no
    /// schedule, or the asset's chain is not served here. An open request is paid by the first batch built after it
    /// (every batch takes every member's pending rewards, within its caps).
    pub expected_next_batch_at: Option<String>,
    /// The schedule's interval in seconds (604800: weekly); null without a schedule.
    pub schedule_every_secs: Option<u64>,
}

/// An executed payout batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExecutedBatch {
    /// The batch's id.
    pub id: i64,
    /// When it was built (RFC 3339, UTC).
    pub built_at: String,
    /// Block of its confirmed execution.
    pub executed_block: Option<i64>,
    /// When its block was made (RFC 3339, UTC).
    pub executed_at: Option<String>,
    /// Its transaction hash (0x hex): the one that executed it.
    pub tx_hash: Option<String>,
}

/// The caller's withdraw requests in one asset (keyset pages), each with the payout batch that took it and its
/// transaction, and how often that asset's batches have run.
#[utoipa::path(get, path = "/v1/users/withdrawals", tag = "users", security(("bearer" = [])), params(WithdrawalsQuery),
    responses((status = 200, body = Withdrawals), (status = 404, body = ErrorBody)))]
pub async fn withdrawals(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<WithdrawalsQuery>,
) -> Result<Json<Withdrawals>, ApiError> {
    let limit = page_limit(q.limit)?;
    let (me, chain_id) = my_user_no_on(&ctx, q.asset_id, user.wallet).await?;
    let cadence = ledger::paid::payout_cadence(&ctx.db, q.asset_id).await?;
    let schedule = ctx.settings.payouts.schedule;
    let expected_next_batch_at = match (schedule, ctx.chains.get(chain_id)) {
        (Some(schedule), Some(chain)) => Some(rfc3339_secs(schedule.next_at(chain.now(&ctx.clock).await))),
        _ => None,
    };
    let payouts = PayoutCadence {
        expected_next_batch_at,
        schedule_every_secs: schedule.map(|s| s.every_secs),
        executed_last_30_days: cadence.executed_last_30_days,
        in_progress: cadence.in_progress,
        last_executed: cadence.last_executed.map(|b| ExecutedBatch {
            id: b.id,
            built_at: b.built_at,
            executed_block: b.executed_block,
            executed_at: b.executed_at,
            tx_hash: hex_bytes(b.tx_hash),
        }),
    };
    let Some(me) = me else {
        return Ok(Json(Withdrawals { items: vec![], next_cursor: None, payouts }));
    };
    let ledger::AssetInfo { symbol, decimals, .. } = asset_of(&ctx, q.asset_id).await?;
    let rows =
        ledger::paid::withdraw_requests(&ctx.db, q.asset_id, me, q.cursor.unwrap_or(i64::MAX), limit + 1).await?;
    let address = abi::tron::show(chain_id, user.wallet);
    let items = rows
        .into_iter()
        .map(|r| WithdrawRequestView {
            id: r.id,
            asset_id: q.asset_id,
            address: address.clone(),
            amount: AssetAmount::new(r.amount, decimals, &symbol),
            status: r.status,
            created_at: r.created_at,
            cancelled_by: r.cancelled_by,
            cancelled_at: r.cancelled_at,
            batch: r.batch_id.map(|id| BatchRef {
                id,
                status: r.batch_status.unwrap_or_default(),
                tx_hash: hex_bytes(r.tx_hash),
                executed_block: r.executed_block,
                executed_at: r.executed_at,
            }),
        })
        .collect();
    let page = Page::keyset(items, limit, |r: &WithdrawRequestView| r.id);
    Ok(Json(Withdrawals { items: page.items, next_cursor: page.next_cursor, payouts }))
}

/// The caller cancels their own withdraw request while it is `open`; answers the request as it now stands. A second
/// cancel, or one of a request the operator already cancelled, answers the same and changes nothing. 409
/// `withdraw_request_batched` once a payout batch took the request (the batch pays it; nothing changes); 404
/// `withdraw_request_not_found` for an id that is not one of the caller's requests (someone else's included).
/// Cancelling withdraws the ask only: a payout batch takes every member's pending rewards, requested or not.
#[utoipa::path(post, path = "/v1/users/withdrawals/{id}/cancel", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The request's id")),
    responses((status = 200, body = WithdrawRequestView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_withdrawal(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<WithdrawRequestView>, ApiError> {
    let asset_id = withdrawals::cancel(&ctx.db, id, user.wallet).await.map_err(|refusal| {
        let message = refusal.to_string();
        match refusal {
            CancelRefusal::NotFound(_) => ApiError::Missing { code: "withdraw_request_not_found", message },
            CancelRefusal::Batched(..) => ApiError::Conflict { code: "withdraw_request_batched", message },
            CancelRefusal::Db(e) => e.into(),
        }
    })?;
    let (Some(me), chain_id) = my_user_no_on(&ctx, asset_id, user.wallet).await? else {
        return Err(ApiError::NotFound);
    };
    let ledger::AssetInfo { symbol, decimals, .. } = asset_of(&ctx, asset_id).await?;
    let row = ledger::paid::withdraw_requests(&ctx.db, asset_id, me, id.saturating_add(1), 1)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(ApiError::NotFound)?;
    Ok(Json(WithdrawRequestView {
        id: row.id,
        asset_id,
        address: abi::tron::show(chain_id, user.wallet),
        amount: AssetAmount::new(row.amount, decimals, &symbol),
        status: row.status,
        created_at: row.created_at,
        cancelled_by: row.cancelled_by,
        cancelled_at: row.cancelled_at,
        batch: None,
    }))
}

/// The asset to claim in, and where the claim pays.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClaimQuery {
    /// The asset; 404 when unknown.
    pub asset_id: i32,
    /// Where the claim pays (0x, or `T…` on a TRON chain); default the caller's wallet. The contract pays whoever
    /// the caller names: a wallet that refused the push can claim to another address it controls.
    #[serde(default, deserialize_with = "crate::http::bounded::optional_address")]
    pub to: Option<String>,
}

/// What the wallet can pull from the contract itself, and the transaction that does it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimAnswer {
    /// The asset.
    pub asset_id: i32,
    /// The asset's chain, where the transaction is sent.
    pub chain_id: u64,
    /// What `transaction` claims: the wallet's claimable (failed pushes of executed batches) as the ledger recorded it
    /// from confirmed events — or, on a chain with contracts an upgrade replaced, what the contract `transaction`
    /// goes to holds for it now (the oldest that holds any; claim again for the next one).
    pub claimable: AssetAmount,
    /// The Settlement contract `transaction` goes to, in the chain's form.
    pub contract: String,
    /// Every contract of the chain that holds something claimable for the wallet, oldest first, with the amount (the
    /// chain's own figures after an upgrade; the ledger's with one contract).
    pub contracts: Vec<ContractClaimable>,
    /// Who the claim pays, in the chain's form (0x EIP-55, `T…` on TRON): the query's `to`, else the wallet.
    pub to: String,
    /// `Settlement.claim(token, to)`, as an EIP-1193 wallet sends it.
    pub transaction: WalletTransaction,
    /// On a TRON chain: the same call as a TronWeb client (TronLink) sends it.
    pub tron: Option<crate::http::types::TronCall>,
}

/// The claim of a claimable balance, for any registered wallet that has one — pending rewards or not. 422
/// `nothing_claimable` when there is none, `not_registered` for a wallet not in the asset; 503
/// `chain_not_configured` when the asset's Settlement is unknown here.
#[utoipa::path(get, path = "/v1/users/claim", tag = "users", security(("bearer" = [])), params(ClaimQuery),
    responses((status = 200, body = ClaimAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn claim(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(q): Query<ClaimQuery>,
) -> Result<Json<ClaimAnswer>, ApiError> {
    let ledger::members::Claimable { amount: claimable, chain_id, token, symbol, decimals } =
        ledger::members::claimable(&ctx.db, q.asset_id, user.wallet).await?.ok_or(ApiError::NotFound)?;
    let claimable = claimable
        .ok_or_else(|| ApiError::unprocessable("not_registered", "this wallet is not registered in this asset"))?;
    if claimable.0.is_zero() {
        return Err(ApiError::unprocessable("nothing_claimable", "nothing is claimable for this wallet in this asset"));
    }
    let to = match q.to.as_deref().map(str::trim) {
        Some(text) => super::extract::parse_address(text, "to")?,
        None => user.wallet,
    };
    if to.is_zero() {
        return Err(ApiError::unprocessable("invalid_address", "to: the zero address cannot be paid"));
    }
    let chain = ctx.chains.chain(chain_id)?;
    let target = claim_target(chain, token, user.wallet, claimable.0).await?;
    let (transaction, tron) = WalletCalls::new(&ctx.chains, chain_id, target.contract).claim(token, to);
    let contracts = target
        .holding
        .iter()
        .map(|(contract, amount)| ContractClaimable {
            contract: abi::tron::show(chain_id, *contract),
            claimable: AssetAmount::new(amount, decimals, &symbol),
        })
        .collect();
    Ok(Json(ClaimAnswer {
        asset_id: q.asset_id,
        chain_id,
        to: abi::tron::show(chain_id, to),
        claimable: AssetAmount::new(target.amount, decimals, &symbol),
        contract: abi::tron::show(chain_id, target.contract),
        contracts,
        transaction,
        tron,
    }))
}

/// What one contract holds claimable for a wallet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContractClaimable {
    /// The Settlement contract, in the chain's form.
    pub contract: String,
    /// What it holds claimable for the wallet.
    pub claimable: AssetAmount,
}

/// Where a wallet's claim goes ([`claim_target`]).
struct ClaimTarget {
    /// The contract the claim goes to.
    contract: alloy::primitives::Address,
    /// What it claims there.
    amount: alloy::primitives::U256,
    /// Every contract holding something for the wallet, oldest first.
    holding: Vec<(alloy::primitives::Address, alloy::primitives::U256)>,
}

/// Where `wallet`'s claim of `token` goes. With one contract: the live one, for what the ledger records (`recorded`),
/// without a chain read. After an upgrade a deferred payout is claimable on the contract that deferred it, so each
/// contract's `claimable(token, wallet)` is read from the chain (503 when it cannot be) and the claim goes to the
/// oldest that holds any; 422 `nothing_claimable` when none does (a claim already mined, not yet confirmed).
async fn claim_target(
    chain: &crate::chains::Chain,
    token: alloy::primitives::Address,
    wallet: alloy::primitives::Address,
    recorded: alloy::primitives::U256,
) -> Result<ClaimTarget, ApiError> {
    if chain.previous.is_empty() {
        let live = chain.settlement;
        return Ok(ClaimTarget { contract: live, amount: recorded, holding: vec![(live, recorded)] });
    }
    let provider = &chain.access()?.provider;
    let mut holding = Vec::new();
    for contract in chain.contracts() {
        let settlement = abi::Settlement::new(contract, provider);
        let read = settlement.claimable(token, wallet);
        let amount = crate::chains::read_view(chain.chain_id, contract, "claimable", read.call()).await?;
        if !amount.is_zero() {
            holding.push((contract, amount));
        }
    }
    let Some(&(contract, amount)) = holding.first() else {
        return Err(ApiError::unprocessable(
            "nothing_claimable",
            "no contract of this chain holds anything claimable for this wallet now (a claim may be awaiting \
             confirmation)",
        ));
    };
    Ok(ClaimTarget { contract, amount, holding })
}
