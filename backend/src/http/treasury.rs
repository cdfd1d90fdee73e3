//! Admin treasury: the company's share of an asset (what a treasury transfer may take: company total −
//! executed − signed-not-executed), the users' liabilities, the contract's balance on-chain, and signed
//! treasury transfers (never more than available, checked and stored under the asset's row lock: the use cases are
//! [`crate::outflows::treasury`]'s; this module shapes requests and answers).
//!
//! The listener marks transfers `executed` from `TreasuryTransferred` events (or `expired` past their deadline).

use ::ledger::authorisations::OutflowKind;
use ::ledger::events::EventKey;
use ::ledger::treasury::{self as ledger, TreasuryTransferRow};
use alloy::primitives::{Address, Bytes, U256};
use alloy::sol_types::SolCall;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::bounded;
use super::error::ErrorBody;
use super::extract::{Path, Query, parse_address};
use super::page::{Page, page_limit};
use super::types::{AssetAmount, AssetMeta, parse_amount};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AdminUser, Json, Staff, need};
use crate::outflows::treasury::{self, Mode};

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(list_transfers, create_transfer))
        .routes(routes!(refund_quarantined))
        .routes(routes!(sign_transfer_route))
}

/// Which asset's treasury to show.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TreasuryQuery {
    /// The asset.
    pub asset_id: i32,
}

/// The treasury of one asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TreasurySummary {
    /// The asset.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: u64,
    /// Everything the company was credited.
    pub company_total: AssetAmount,
    /// Treasury transfers executed on-chain.
    pub transferred: AssetAmount,
    /// Signed transfers not executed (nor expired) yet.
    pub reserved: AssetAmount,
    /// What the sales plan keeps of the company's balance (PLAN-SALES.md §4's H): a − r of every sale its buyer may
    /// still take back, and the commission reserve of final sales whose period has not closed; 0 under other plans.
    pub held_for_sales: AssetAmount,
    /// company_total − transferred − reserved − held_for_sales: the most a new transfer may take.
    pub available: AssetAmount,
    /// Refunds of quarantined payments executed on-chain (the payers' money, never the company's: outside the
    /// figures above).
    pub refunded: AssetAmount,
    /// Signed refunds not executed (nor expired) yet.
    pub refunds_reserved: AssetAmount,
    /// Σ reserved + held + pending + batched + claimable (+ maturing retail commissions under the sales plan) of all
    /// users.
    pub liabilities: AssetAmount,
    /// The contract's balance of the asset on-chain; null when it could not be read (see `chain_note`).
    pub contract_balance: Option<AssetAmount>,
    /// The contract's `available(token)`: balance minus what recipients can claim and the open sales' amount.
    pub contract_available: Option<AssetAmount>,
    /// The contract's floor for this asset: the latest committed liabilities (proof of solvency) less what payouts
    /// and claims paid members since, plus the whole amount of the sales buyers may still take back; no treasury
    /// transfer or refund may take custody below it.
    pub contract_floor: Option<AssetAmount>,
    /// What a treasury transfer or refund may take on chain now: the least of `contract_available` and the balance
    /// above `contract_floor`; 0 while the latest commitment is older than the contract allows
    /// (`commitment_fresh_until`).
    pub contract_transferable: Option<AssetAmount>,
    /// Unix seconds (the chain's clock) until which the latest liabilities commitment lets a treasury transfer go:
    /// its commit time plus the contract's `treasuryCommitmentMaxAge`; null before the first commitment.
    pub commitment_fresh_until: Option<u64>,
    /// Why the on-chain figures are null.
    pub chain_note: Option<String>,
}

/// The company's share, what left or may leave custody, the users' liabilities and the contract's balance.
#[utoipa::path(get, path = "/v1/admin/treasury", tag = "treasury", security(("bearer" = [])), params(TreasuryQuery),
    responses((status = 200, body = TreasurySummary), (status = 422, body = ErrorBody)))]
pub async fn summary(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<TreasuryQuery>,
) -> Result<Json<TreasurySummary>, ApiError> {
    let p = ledger::position(&ctx.db, q.asset_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable("unknown_asset", format!("no asset {}", q.asset_id)))?;
    let amount = |v: U256| AssetAmount::new(v, p.decimals, &p.symbol);
    let contract = ctx.chains.get(p.chain_id).map(|c| c.settlement);
    let (chain, note) = match treasury::on_chain(&ctx.chains, p.chain_id, contract, p.token).await {
        Ok(chain) => (Some(chain), None),
        Err(note) => (None, Some(note)),
    };
    Ok(Json(TreasurySummary {
        asset_id: p.asset_id,
        chain_id: p.chain_id,
        company_total: amount(p.company_total),
        transferred: amount(p.transferred),
        reserved: amount(p.reserved),
        held_for_sales: amount(p.held_for_sales),
        available: amount(p.available),
        refunded: amount(p.refunded),
        refunds_reserved: amount(p.refunds_reserved),
        liabilities: amount(p.liabilities),
        contract_balance: chain.as_ref().map(|c| amount(c.balance)),
        contract_available: chain.as_ref().map(|c| amount(c.available)),
        contract_floor: chain.as_ref().map(|c| amount(c.floor)),
        contract_transferable: chain.as_ref().map(|c| amount(c.transferable())),
        commitment_fresh_until: chain.as_ref().and_then(|c| c.fresh_until),
        chain_note: note,
    }))
}

/// An asset's custody as an approver weighs an outflow of it, read from the chain now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustodyView {
    /// The latest committed liabilities (the proof of solvency's total): what members were owed at that epoch.
    pub committed_liabilities: AssetAmount,
    /// That commitment's epoch; 0 before the first.
    pub committed_epoch: u64,
    /// The contract's balance of the asset.
    pub contract_balance: AssetAmount,
    /// The committed liabilities less what members were paid since: no treasury transfer or refund takes custody
    /// below it.
    pub floor: AssetAmount,
    /// What a treasury transfer or refund may take now (0 while the latest commitment is too old).
    pub transferable: AssetAmount,
}

/// The network fee an outflow's transaction is estimated to cost the wallet that sends it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NetworkFeeView {
    /// Gas (energy on TRON) the transaction is estimated to use at most: from the contracts' gas benchmarks
    /// (`contracts/.gas-snapshot`), every payout entry priced as a recipient paid for the first time.
    pub gas: u64,
    /// The chain's gas price now, in the native coin's base units (wei; SUN per energy on TRON).
    pub gas_price: String,
    /// gas × gas_price, in the native coin.
    pub fee: AssetAmount,
}

/// `meta`'s custody at `contract` on `chain_id` in the terms an approver weighs, and the chain's gas price now: `Err`
/// says why the chain could not be read.
pub(crate) async fn custody(
    ctx: &ApiContext,
    chain_id: u64,
    contract: Address,
    meta: &AssetMeta,
) -> Result<(CustodyView, U256), String> {
    let c = treasury::on_chain(&ctx.chains, chain_id, Some(contract), meta.token).await?;
    let custody = CustodyView {
        committed_liabilities: meta.amount(c.committed.0),
        committed_epoch: c.committed.1,
        contract_balance: meta.amount(c.balance),
        floor: meta.amount(c.floor),
        transferable: meta.amount(c.transferable()),
    };
    Ok((custody, c.gas_price))
}

/// The fee of a transaction of `gas` on `chain_id` at `gas_price`, in its native coin (BNB on an EVM chain, TRX on
/// TRON).
pub(crate) fn network_fee(chain_id: u64, gas: u64, gas_price: U256) -> NetworkFeeView {
    let (decimals, coin) = match abi::chain::Family::of(chain_id) {
        abi::chain::Family::Evm => (18, "BNB"),
        abi::chain::Family::Tron => (6, "TRX"),
    };
    NetworkFeeView {
        gas,
        gas_price: gas_price.to_string(),
        fee: AssetAmount::new(gas_price.saturating_mul(U256::from(gas)), decimals, coin),
    }
}

/// Asks for a signed transfer of company funds.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The asset whose company share the transfer takes.
    pub asset_id: i32,
    /// Recipient: 0x or TRON base58 (must be on the signer's treasury allowlist).
    #[serde(deserialize_with = "bounded::address")]
    pub to: String,
    /// Base units, decimal string, > 0.
    #[serde(deserialize_with = "bounded::amount")]
    pub amount: String,
}

/// A treasury transfer as stored; `signature` and `transaction` let the treasurer send it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TreasuryTransferView {
    /// The transfer's id (the page cursor); its contract nonce is derived from it.
    pub id: i64,
    /// The asset moved.
    pub asset_id: i32,
    /// As the asset's chain shows it: 0x EIP-55, or `T…` base58check on TRON.
    pub to: String,
    /// Base units, decimal string.
    pub amount: String,
    /// Contract nonce, decimal string.
    pub nonce: String,
    /// `api` (signed here) or `chain` (executed without a transfer signed here).
    pub origin: String,
    /// `proposed` (awaiting staff approval, unsigned), `signed`, `executed`, `expired` or `rejected`.
    pub status: String,
    /// Unix seconds the signature is valid until; null for a `chain` transfer.
    pub deadline: Option<u64>,
    /// 0x hex.
    pub signature: Option<String>,
    /// The admin who requested it (0x EIP-55); null for a `chain` transfer.
    pub requested_by: Option<String>,
    /// Block of the `TreasuryTransferred` event; null until executed.
    pub executed_block: Option<u64>,
    /// Transaction of the `TreasuryTransferred` event (0x hex); null until executed.
    pub tx_hash: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Settlement.transferTreasury(transfer, signature), for the TREASURER_ROLE holder (signed transfers).
    pub transaction: Option<TreasuryTransaction>,
    /// For a refund: the quarantined payment it returns to its payer (`to`); null for a company transfer.
    pub refund_of: Option<RefundedEvent>,
    /// Its authorisation (`/v1/admin/authorisations/{id}`) when it was proposed for staff approval; null when it was
    /// signed at once.
    pub authorisation_id: Option<i64>,
}

/// The chain event whose payment a refund returns.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundedEvent {
    /// The event's chain.
    pub chain_id: u64,
    /// 0x hex.
    pub tx_hash: String,
    /// The event's log index.
    pub log_index: u64,
}

/// The transaction that executes a signed transfer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TreasuryTransaction {
    /// Settlement contract (0x EIP-55).
    pub to: String,
    /// Calldata, 0x hex.
    pub data: String,
}

fn view(row: TreasuryTransferRow, chain_id: u64, token: Address, contract: Option<Address>) -> TreasuryTransferView {
    let transaction = match (&row.signature, row.deadline, contract) {
        (Some(signature), Some(deadline), Some(contract))
            if row.status == ::ledger::authorisations::OutflowStatus::Signed =>
        {
            let call = abi::Settlement::transferTreasuryCall {
                t: abi::TreasuryTransfer {
                    token,
                    to: row.to,
                    amount: row.amount,
                    nonce: row.nonce,
                    deadline: U256::from(deadline),
                },
                signature: Bytes::from(signature.clone()),
            };
            Some(TreasuryTransaction {
                to: contract.to_checksum(None),
                data: alloy::hex::encode_prefixed(call.abi_encode()),
            })
        }
        _ => None,
    };
    TreasuryTransferView {
        id: row.id,
        asset_id: row.asset_id,
        to: abi::tron::show(chain_id, row.to),
        amount: row.amount.to_string(),
        nonce: row.nonce.to_string(),
        origin: row.origin,
        status: row.status.to_string(),
        deadline: row.deadline,
        signature: row.signature.map(alloy::hex::encode_prefixed),
        requested_by: row.requested_by,
        executed_block: row.executed_block,
        tx_hash: row.tx_hash.map(alloy::hex::encode_prefixed),
        created_at: row.created_at,
        transaction,
        authorisation_id: row.authorisation_id,
        refund_of: row.refund_of.map(|k| RefundedEvent {
            chain_id: k.chain_id,
            tx_hash: alloy::hex::encode_prefixed(k.tx_hash),
            log_index: k.log_index,
        }),
    }
}

/// Signs a transfer of company funds, never more than `available`: the check and the insert happen in one
/// transaction under the asset's row lock, so concurrent requests cannot both take the same funds.
/// 422 `exceeds_available`.
#[utoipa::path(post, path = "/v1/admin/treasury/transfers", tag = "treasury", security(("bearer" = [])),
    request_body = TransferRequest,
    responses((status = 201, body = TreasuryTransferView),
        (status = 409, description = "`exit_open`: the asset's members' exit has opened", body = ErrorBody),
        (status = 422, description = "`exceeds_available`, `below_floor`, or `recipient_not_allowed`: `to` is none of \
            the signer's treasury recipients for the asset", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn create_transfer(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Finance>,
    Json(req): Json<TransferRequest>,
) -> Result<(StatusCode, Json<TreasuryTransferView>), ApiError> {
    crate::http::rate_limit::outflow_signing(&ctx, OutflowKind::TreasuryTransfer, admin.wallet).await?;
    let to = parse_address(&req.to, "to")?;
    let amount = parse_amount(&req.amount, "amount")?;
    let (row, asset) = treasury::transfer(&ctx.outflows(), admin.wallet, req.asset_id, to, amount, Mode::Sign).await?;
    let contract = ctx.chains.get(asset.chain_id).map(|c| c.settlement);
    Ok((StatusCode::CREATED, Json(view(row, asset.chain_id, asset.token, contract))))
}

/// Signs the refund of a quarantined payment to the wallet that paid it: a treasury transfer of exactly the
/// event's amount, in its token, to its payer, signed as [`create_transfer`] signs (the signer checks that it
/// authorised that payment, for that wallet and amount) and stored under the asset's row lock with an audit row.
/// It takes nothing from the company's available share. Only a `Registered` or `Retopped` event the plan refused
/// (`wrong_amount`, `duplicate_user`, `unknown_sponsor`, `unknown_user`) and not resolved is refunded, at most one
/// refund of it signed or executed at a time (one that expired unexecuted may be replaced); once the refund's
/// `TreasuryTransferred` is applied, the quarantine is resolved. Answers the signed transfer and its transaction,
/// as a treasury transfer.
#[utoipa::path(post, path = "/v1/admin/quarantine/{chain_id}/{tx_hash}/{log_index}/refund", tag = "treasury",
    security(("bearer" = [])),
    params(("chain_id" = u64, Path, description = "chain of the quarantined event"),
        ("tx_hash" = String, Path, description = "its transaction, 0x + 64 hex"),
        ("log_index" = u64, Path, description = "its log index")),
    responses((status = 201, description = "the refund, signed: send its `transaction`", body = TreasuryTransferView),
        (status = 400, description = "a path value that is not a number or a 0x transaction hash", body = ErrorBody),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no quarantined event with this key", body = ErrorBody),
        (status = 409, description = "not refundable: `not_an_inflow` (not a payment), `no_asset` (a token that is no \
            asset), `not_refused_by_plan` (quarantined for another reason, e.g. `missed_event`), `already_resolved`, \
            `refund_exists` (a refund of it is signed or executed), `exit_open` (the asset's members' exit has opened)",
            body = ErrorBody),
        (status = 503, description = "the signer is not configured, unreachable or refused (`signer_refused`), or the \
            event's chain has no Settlement contract configured", body = ErrorBody)))]
pub async fn refund_quarantined(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Finance>,
    Path((chain_id, tx_hash, log_index)): Path<(u64, String, u64)>,
) -> Result<(StatusCode, Json<TreasuryTransferView>), ApiError> {
    crate::http::rate_limit::outflow_signing(&ctx, OutflowKind::Refund, admin.wallet).await?;
    let event = refund_key(chain_id, &tx_hash, log_index)?;
    let (row, token) = treasury::refund(&ctx.outflows(), admin.wallet, event, Mode::Sign).await?;
    let contract = ctx.chains.get(chain_id).map(|c| c.settlement);
    Ok((StatusCode::CREATED, Json(view(row, chain_id, token, contract))))
}

/// The key of a quarantined event as a refund names it: 400 for a hash that is not 0x + 64 hex, 404 for numbers no
/// event can have.
pub(crate) fn refund_key(chain_id: u64, tx_hash: &str, log_index: u64) -> Result<EventKey, ApiError> {
    let bad_hash = || ApiError::bad_request("invalid_path", "tx_hash must be 0x followed by 64 hex digits");
    if !abi::limits::within(tx_hash, abi::limits::HASH_MAX_LEN) || !tx_hash.starts_with("0x") {
        return Err(bad_hash());
    }
    let tx_hash: alloy::primitives::B256 = tx_hash.parse().map_err(|_| bad_hash())?;
    if i64::try_from(chain_id).is_err() || i64::try_from(log_index).is_err() {
        return Err(ApiError::NotFound);
    }
    Ok(EventKey { chain_id, tx_hash, log_index })
}

/// Signs a treasury transfer or refund proposed for approval, once its approvals are in (`POST
/// /v1/admin/authorisations/{id}/sign` does the same from the queue). Signing it again answers the stored signature.
#[utoipa::path(post, path = "/v1/admin/treasury/transfers/{id}/sign", tag = "treasury", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, description = "signed: send its `transaction`", body = TreasuryTransferView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`not_proposed`, `authorisation_closed`, `approvals_missing` (the signer's \
            refusal, in its words), `exit_open`, `no_recent_commitment`", body = ErrorBody),
        (status = 422, description = "`below_floor`", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn sign_transfer_route(
    State(ctx): State<ApiContext>,
    Staff(finance, _): Staff<need::Finance>,
    Path(id): Path<i64>,
) -> Result<Json<TreasuryTransferView>, ApiError> {
    crate::http::rate_limit::outflow_signing(&ctx, OutflowKind::TreasuryTransfer, finance.wallet).await?;
    let (row, asset, contract) = treasury::sign_proposed(&ctx.outflows(), finance.wallet, id).await?;
    Ok(Json(view(row, asset.chain_id, asset.token, Some(contract))))
}

/// Filter and page of the transfer list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// Only transfers of this asset; all assets when absent.
    pub asset_id: Option<i32>,
    /// 1..=100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

/// Treasury transfers, newest first (keyset pages), optionally of one asset.
#[utoipa::path(get, path = "/v1/admin/treasury/transfers", tag = "treasury", security(("bearer" = [])),
    params(TransferQuery),
    responses((status = 200, body = Page<TreasuryTransferView>)))]
pub async fn list_transfers(
    State(ctx): State<ApiContext>,
    _admin: AdminUser,
    Query(q): Query<TransferQuery>,
) -> Result<Json<Page<TreasuryTransferView>>, ApiError> {
    let limit = page_limit(q.limit)?;
    let rows = ledger::list(&ctx.db, q.asset_id, q.cursor, limit + 1).await?;
    let Page { items: rows, next_cursor } = Page::keyset(rows, limit, |r| r.id);
    let assets = ::ledger::assets(&ctx.db).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let (token, chain_id) = assets
                .iter()
                .find(|(id, _)| *id == row.asset_id)
                .map(|(_, a)| (a.token, a.chain_id))
                .unwrap_or_default();
            let contract = ctx.chains.get(chain_id).map(|c| c.settlement);
            view(row, chain_id, token, contract)
        })
        .collect();
    Ok(Json(Page { items, next_cursor }))
}
