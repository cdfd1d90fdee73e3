//! Batches: built from payable rewards within the admin's caps and the signer's policy for the asset (asked of
//! the signer itself at every build), listed, and shown with their entries, the entries paid in part and the
//! users left out, each with the reason.

use ::ledger::payouts::{self as ledger, BatchStatus};
use ::ledger::plan::Amount;
use alloy::primitives::U256;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use signer_client::api::AssetPolicy;

use crate::http::bounded;
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::extract::{AdminUser, Json, Staff, need};
use crate::http::extract::{Path, Query};
use crate::http::page::{Page, page_limit};
use crate::http::types::{AssetAmount, AssetMeta, hex_bytes, parse_amount, show_address};
use crate::outflows::signer::signer_call;

/// Asks for a new payout batch of one asset.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildRequest {
    /// The asset to pay out.
    pub asset_id: i32,
    /// Users in the batch, 1..=500 (default 100).
    pub max_entries: Option<u32>,
    /// Most the batch may pay in total (base units, decimal string, > 0; default no limit).
    #[serde(default, deserialize_with = "bounded::optional_cap")]
    pub max_total: Option<String>,
}

/// One payment of a batch.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchEntry {
    /// Index in the signed payouts array.
    pub position: i32,
    /// As the asset's chain shows it: 0x EIP-55, or `T…` base58check on TRON.
    pub address: String,
    /// What this entry pays the wallet.
    pub amount: AssetAmount,
    /// The withdrawal fee the company keeps from the entry (0 on a plan without one): it settles `amount` + `fee` of
    /// what the user was owed.
    pub fee: AssetAmount,
    /// What the user was owed (payable) when the batch was built; more than `amount` when paid in part.
    pub owed: AssetAmount,
    /// Why the entry pays less than `owed` (`per_entry_cap`, `batch_total`, `daily_outflow_cap`); the rest stays
    /// pending for a later batch. Absent when paid in full.
    pub limited_by: Option<String>,
    /// Once settled: `paid`, or `claimable` when the contract could not push it.
    pub outcome: Option<String>,
}

/// A user with payable rewards that the build did not take.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeftOutEntry {
    /// As the asset's chain shows it: 0x EIP-55, or `T…` base58check on TRON.
    pub address: String,
    /// Everything payable to them when the batch was built.
    pub owed: AssetAmount,
    /// `max_entries`, `batch_total`, `daily_outflow_cap` or `recipient_not_allowed` (the signer refuses it).
    pub reason: String,
}

/// Users left out for one reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeftOutSummary {
    /// Why they were left out (as `reason` on the left-out users).
    pub reason: String,
    /// How many users were left out for it.
    pub users: i64,
    /// Everything payable to them when the batch was built.
    pub owed: AssetAmount,
}

/// A payout batch and where it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchView {
    /// The batch's id.
    pub id: i64,
    /// The asset it pays.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: u64,
    /// `building`, `signed`, `submitted`, `executed`, `failed`, `cancelled`.
    pub status: String,
    /// What the batch pays in all: the sum of its entries.
    pub total: AssetAmount,
    /// Number of entries (users paid).
    pub entry_count: i64,
    /// Contract nonce (decimal string), fixed before signing.
    pub nonce: Option<String>,
    /// The Settlement contract the batch is signed for (in the chain's form), fixed with its nonce: after an upgrade,
    /// the replaced contract while its custody covers the batch, else the live one (contracts/UPGRADES.md).
    pub contract: Option<String>,
    /// Unix seconds after which the contract refuses the batch.
    pub deadline: Option<i64>,
    /// EIP-712 hash of the payouts array, as emitted by `PayoutBatchExecuted` (0x hex).
    pub payouts_hash: Option<String>,
    /// 65 bytes r ‖ s ‖ v (0x hex).
    pub signature: Option<String>,
    /// Last transaction sent for the batch (0x hex).
    pub tx_hash: Option<String>,
    /// Block of the batch's confirmed execution; null until it executed.
    pub executed_block: Option<i64>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Entries paying less than their user was owed (see `limited_by` on the entries).
    pub partial_count: i64,
    /// Users with payable rewards the build left out (all of them; `left_out` lists the first ones).
    pub left_out_count: i64,
    /// Only in single-batch answers (empty in lists).
    pub entries: Vec<BatchEntry>,
    /// Only in single-batch answers: left-out users per reason.
    pub left_out_by_reason: Vec<LeftOutSummary>,
    /// Only in single-batch answers: the first left-out users by user number (at most 200).
    pub left_out: Vec<LeftOutEntry>,
}

/// The answer to a build: the batch, and the limits it was built within.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BuildAnswer {
    /// The new batch (its fields inline), as `GET /v1/admin/payouts/batches/{id}` shows it.
    #[serde(flatten)]
    pub batch: BatchView,
    /// The limits the build applied.
    pub limits: BuildLimitsView,
}

/// The limits a build applied: the request's caps and the signer's policy for the asset at that moment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BuildLimitsView {
    /// Lower of the request's `max_entries` and the signer's batch-size limit.
    pub max_entries: u64,
    /// Lower of the request's `max_total` and the signer's per-batch cap.
    pub max_total: AssetAmount,
    /// The signer's per-entry cap: a user owed more is paid in parts across batches.
    pub max_entry: AssetAmount,
    /// The signer's rolling 24 h outflow cap, what it has signed in the window, and the room left before this
    /// build (batches built but not signed yet count against it too).
    pub daily_outflow_cap: AssetAmount,
    /// What the signer has signed of the asset in the rolling 24 h window.
    pub daily_outflow_used: AssetAmount,
    /// `daily_outflow_cap` minus `daily_outflow_used`.
    pub daily_room: AssetAmount,
    /// When the next signed outflow leaves the window (unix seconds), if any.
    pub daily_room_grows_at: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct BatchQuery {
    pub asset_id: Option<i32>,
    /// One of the batch statuses.
    #[serde(default, deserialize_with = "bounded::optional_name")]
    pub status: Option<String>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

fn batch_view(row: ledger::BatchSummary) -> BatchView {
    BatchView {
        id: row.id,
        asset_id: row.asset_id,
        chain_id: row.chain_id as u64,
        status: row.status,
        total: AssetAmount::new(row.total, row.decimals, &row.symbol),
        entry_count: row.entry_count,
        nonce: row.nonce.map(|n| n.to_string()),
        contract: row.contract.as_deref().map(|c| show_address(row.chain_id as u64, c)),
        deadline: row.deadline,
        payouts_hash: hex_bytes(row.payouts_hash),
        signature: hex_bytes(row.signature),
        tx_hash: hex_bytes(row.tx_hash),
        executed_block: row.executed_block,
        created_at: row.created_at,
        partial_count: row.partial_count,
        left_out_count: row.left_out_count,
        entries: Vec::new(),
        left_out_by_reason: Vec::new(),
        left_out: Vec::new(),
    }
}

/// Left-out users listed in a single-batch answer (the count and the per-reason sums cover all of them).
const LEFT_OUT_SHOWN: i64 = 200;

/// One batch with its entries; 404 when it does not exist.
pub(crate) async fn load_batch(ctx: &ApiContext, id: i64) -> Result<BatchView, ApiError> {
    let detail = ledger::batch(&ctx.db, id, LEFT_OUT_SHOWN).await?.ok_or(ApiError::NotFound)?;
    let (decimals, symbol) = (detail.summary.decimals, detail.summary.symbol.clone());
    let symbol = symbol.as_str();
    let mut view = batch_view(detail.summary);
    view.entries = detail
        .items
        .into_iter()
        .map(|i| BatchEntry {
            position: i.position,
            address: show_address(view.chain_id, &i.address),
            amount: AssetAmount::new(i.amount, decimals, symbol),
            fee: AssetAmount::new(i.fee, decimals, symbol),
            owed: AssetAmount::new(i.owed, decimals, symbol),
            limited_by: i.limited_by,
            outcome: i.outcome,
        })
        .collect();
    view.left_out_by_reason = detail
        .left_out_by_reason
        .into_iter()
        .map(|l| LeftOutSummary { reason: l.reason, users: l.users, owed: AssetAmount::new(l.owed, decimals, symbol) })
        .collect();
    view.left_out = detail
        .left_out
        .into_iter()
        .map(|l| LeftOutEntry {
            address: show_address(view.chain_id, &l.address),
            owed: AssetAmount::new(l.owed, decimals, symbol),
            reason: l.reason,
        })
        .collect();
    Ok(view)
}

/// Takes payable rewards of an asset into a new batch that the signer's policy accepts: the policy for the asset
/// (per-entry cap, per-batch cap, batch size, rolling 24 h outflow room, refused recipients) is asked of the signer
/// first; a user owed more than the per-entry cap is paid that much now and the rest in later batches. The answer
/// lists who was paid in part or left out, and why. 409 `nothing_payable` when nothing can be paid; 409
/// `daily_outflow_cap_reached` (with `Retry-After`) when the rolling cap leaves no room; 503 when the signer
/// cannot be asked.
#[utoipa::path(post, path = "/v1/admin/payouts/batches", tag = "payouts", security(("bearer" = [])),
    request_body = BuildRequest,
    responses((status = 201, body = BuildAnswer), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(asset_id = req.asset_id))]
pub(super) async fn build(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Finance>,
    Json(req): Json<BuildRequest>,
) -> Result<(StatusCode, Json<BuildAnswer>), ApiError> {
    let max_entries = req.max_entries.unwrap_or(DEFAULT_MAX_ENTRIES);
    if !(1..=MAX_ENTRIES).contains(&max_entries) {
        return Err(ApiError::unprocessable("invalid_cap", format!("max_entries must be in 1..={MAX_ENTRIES}")));
    }
    let max_total: Amount = match req.max_total.as_deref() {
        None => Amount::MAX,
        Some(text) => {
            let value = parse_amount(text, "max_total").map_err(|_| {
                ApiError::unprocessable("invalid_cap", "max_total must be a decimal string of base units")
            })?;
            match Amount::try_from(value) {
                Ok(v) if v > 0 => v,
                _ => return Err(ApiError::unprocessable("invalid_cap", "max_total must be in 1..=2^128-1")),
            }
        }
    };
    let meta = AssetMeta::load(&ctx, req.asset_id).await?;
    crate::http::exits::refuse_if_open(&ctx, req.asset_id).await?;
    let contract = ctx.chains.settlement(meta.chain_id)?;
    let policy = signer_call(ctx.signer_client()?.policy(meta.chain_id, contract, meta.token)).await?;
    let limits = build_limits(&policy, max_entries, max_total);
    let actor = admin.wallet.to_checksum(None);
    let built = ledger::build_batch_audited(&ctx.db, req.asset_id, &limits, &actor).await.map_err(|e| match e {
        ledger::PayoutError::Db(e) => e.into(),
        ledger::PayoutError::UnknownAsset(id) => ApiError::unprocessable("unknown_asset", format!("no asset {id}")),
        other => ApiError::Internal(eyre::Report::new(other)),
    })?;
    let amount = |a: Amount| AssetAmount::new(a, meta.decimals, &meta.symbol);
    let grows_at = policy.releases.first().map(|r| r.at);
    let built = match built {
        Ok(built) => built,
        Err(ledger::NotBuilt::NothingPayable { left_out }) => {
            let message = if left_out.is_empty() {
                "no pending reward to pay (or concurrent builds hold them; try again)".to_owned()
            } else {
                let owed: Amount = left_out.iter().map(|l| l.owed).sum();
                format!(
                    "{} users are owed {} but the signer refuses them as recipients ({})",
                    left_out.len(),
                    amount(owed).human,
                    left_out.iter().map(|l| abi::tron::show(meta.chain_id, l.address)).collect::<Vec<_>>().join(", ")
                )
            };
            return Err(ApiError::Conflict { code: "nothing_payable", message });
        }
        Err(ledger::NotBuilt::DailyOutflowCap { unsigned_batches }) => {
            let when = match grows_at {
                Some(at) => format!(
                    "room returns at {} (unix {at}), when {} signed then leaves the 24 h window",
                    crate::http::types::rfc3339_secs(at),
                    amount(u256_amount(policy.releases[0].amount.0)).human
                ),
                None => "room returns only when unsigned batches are signed or cancelled".to_owned(),
            };
            return Err(ApiError::CapReached {
                code: "daily_outflow_cap_reached",
                message: format!(
                    "the signer's rolling 24 h outflow cap of {} is used: {} signed in the window, {} in batches \
                     built but not signed; {when}",
                    amount(u256_amount(policy.daily_outflow_cap.0)).human,
                    amount(u256_amount(policy.daily_outflow_used.0)).human,
                    amount(unsigned_batches).human,
                ),
                retry_after_secs: grows_at.map(|at| at.saturating_sub(policy.as_of).max(1)),
            });
        }
    };
    let view = load_batch(&ctx, built.id).await?;
    let answer = BuildAnswer {
        batch: view,
        limits: BuildLimitsView {
            max_entries: limits.max_entries as u64,
            max_total: amount(limits.max_total),
            max_entry: amount(limits.max_entry),
            daily_outflow_cap: amount(u256_amount(policy.daily_outflow_cap.0)),
            daily_outflow_used: amount(u256_amount(policy.daily_outflow_used.0)),
            daily_room: amount(limits.daily_room.unwrap_or(Amount::MAX)),
            daily_room_grows_at: grows_at,
        },
    };
    Ok((StatusCode::CREATED, Json(answer)))
}

/// The ledger's build limits from the request's caps and the signer's policy (the ledger also counts batches built
/// but not signed against the daily room).
fn build_limits(policy: &AssetPolicy, max_entries: u32, max_total: Amount) -> ledger::BuildLimits {
    let used = policy.daily_outflow_used.0;
    let room = policy.daily_outflow_cap.0.saturating_sub(used);
    ledger::BuildLimits {
        max_entries: (max_entries as u64).min(policy.max_batch_entries) as usize,
        max_total: max_total.min(u256_amount(policy.per_batch_cap.0)),
        max_entry: u256_amount(policy.per_entry_cap.0),
        daily_room: Some(u256_amount(room)),
        refused_recipients: policy.refused_payout_recipients.iter().map(|a| a.0).collect(),
    }
}

/// A signer amount as a ledger amount, saturating: caps above 2^128 - 1 base units are no cap.
fn u256_amount(v: U256) -> Amount {
    Amount::try_from(v).unwrap_or(Amount::MAX)
}

/// Batches, newest first (keyset pages), optionally of one asset and status.
#[utoipa::path(get, path = "/v1/admin/payouts/batches", tag = "payouts", security(("bearer" = [])), params(BatchQuery),
    responses((status = 200, body = Page<BatchView>), (status = 422, body = ErrorBody)))]
pub(super) async fn list(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<BatchQuery>,
) -> Result<Json<Page<BatchView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    if let Some(status) = &q.status
        && BatchStatus::parse(status).is_none()
    {
        let names: Vec<&str> = BatchStatus::ALL.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::unprocessable("invalid_status", format!("status must be one of {names:?}")));
    }
    let rows =
        ledger::batches(&ctx.db, q.asset_id, q.status.as_deref(), q.cursor.unwrap_or(i64::MAX), limit + 1).await?;
    Ok(Json(Page::keyset(rows.into_iter().map(batch_view).collect(), limit, |b| b.id)))
}

/// One batch with its entries (their outcome once settled), nonce, signature and last transaction.
#[utoipa::path(get, path = "/v1/admin/payouts/batches/{id}", tag = "payouts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BatchView), (status = 404, body = ErrorBody)))]
pub(super) async fn detail(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Path(id): Path<i64>,
) -> Result<Json<BatchView>, ApiError> {
    Ok(Json(load_batch(&ctx, id).await?))
}

/// Entries of a batch when the request names no `max_entries`.
pub const DEFAULT_MAX_ENTRIES: u32 = 100;
/// Most entries one batch may have (gas of one transaction; the signer may allow fewer).
pub const MAX_ENTRIES: u32 = 500;

/// Chain and asset of a batch; 404 when it does not exist.
pub(super) async fn batch_chain(ctx: &ApiContext, id: i64) -> Result<::ledger::payouts::BatchChain, ApiError> {
    ::ledger::payouts::batch_chain(&ctx.db, id).await?.ok_or(ApiError::NotFound)
}

/// A 409 with `code` and `message`.
pub(super) fn conflict(code: &'static str, message: String) -> ApiError {
    ApiError::Conflict { code, message }
}
