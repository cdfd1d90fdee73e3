//! Admin treasury: the company's share of an asset (what a treasury transfer may take: company total −
//! executed − signed-not-executed), the users' liabilities, the contract's balance on-chain, and signed
//! treasury transfers (never more than available, checked and stored under the asset's row lock).
//!
//! The listener marks transfers `executed` from `TreasuryTransferred` events (or `expired` past their deadline).

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use signer_client::intent::{Addr, Amount as SignerAmount, TreasuryTransferIntent};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::bounded;
use super::error::ErrorBody;
use super::extract::{Path, Query, parse_address};
use super::page::{Page, page_limit};
use super::signing::{approvals_refused, signer_call_raw, signer_error};
use super::types::{AssetAmount, AssetMeta, parse_amount};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AdminUser, Json, Staff, need};
use ::ledger::authorisations::Authorisation;
use ::ledger::events::EventKey;
use ::ledger::treasury::{self as ledger, RefundError, TransferError, TransferSignature, TreasuryTransferRow};
use ::ledger::treasury::{Authorised, ProposedTransfer, SignProposedError};
use signer_client::ClientError;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(list_transfers, create_transfer))
        .routes(routes!(refund_quarantined))
        .routes(routes!(sign_transfer_route))
}

alloy::sol! {
    /// The one ERC-20 view the treasury reads (custody balance of a token asset).
    #[sol(rpc)]
    interface Erc20Balance {
        function balanceOf(address account) external view returns (uint256);
    }
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
    /// company_total − transferred − reserved: the most a new transfer may take.
    pub available: AssetAmount,
    /// Refunds of quarantined payments executed on-chain (the payers' money, never the company's: outside the
    /// figures above).
    pub refunded: AssetAmount,
    /// Signed refunds not executed (nor expired) yet.
    pub refunds_reserved: AssetAmount,
    /// Σ reserved + held + pending + batched + claimable of all users.
    pub liabilities: AssetAmount,
    /// The contract's balance of the asset on-chain; null when it could not be read (see `chain_note`).
    pub contract_balance: Option<AssetAmount>,
    /// The contract's `available(token)`: balance minus what recipients can claim.
    pub contract_available: Option<AssetAmount>,
    /// The contract's floor for this asset: the latest committed liabilities (proof of solvency) less what payouts
    /// and claims paid members since; no treasury transfer or refund may take custody below it.
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
    let (chain, note) = match on_chain(&ctx, p.chain_id, contract, p.token).await {
        Ok(chain) => (Some(chain), None),
        Err(note) => (None, Some(note)),
    };
    Ok(Json(TreasurySummary {
        asset_id: p.asset_id,
        chain_id: p.chain_id,
        company_total: amount(p.company_total),
        transferred: amount(p.transferred),
        reserved: amount(p.reserved),
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

/// What the Settlement contract lets leave custody in one token, as read from the chain.
#[derive(Debug, Clone, Copy)]
struct OnChain {
    /// The contract's balance.
    balance: U256,
    /// Balance minus what recipients can claim.
    available: U256,
    /// The latest committed liabilities less what members were paid since.
    floor: U256,
    /// Commit time + treasuryCommitmentMaxAge; `None` before the first commitment.
    fresh_until: Option<u64>,
    /// The latest block's timestamp: the chain's now.
    chain_now: u64,
    /// The latest committed liabilities' total (proof of solvency) and epoch (0 before the first).
    committed: (U256, u64),
    /// The chain's gas price now (on TRON's JSON-RPC, the energy price in SUN).
    gas_price: U256,
}

impl OnChain {
    /// The most a treasury transfer or refund may take now (the contract's own checks).
    fn transferable(&self) -> U256 {
        if self.fresh_until.is_none_or(|until| self.chain_now > until) {
            return U256::ZERO;
        }
        self.available.min(self.balance.saturating_sub(self.floor))
    }

    /// Why the contract would refuse a transfer of `amount` now, in words an admin acts on; `None` when it would not.
    fn refusal(&self, amount: U256, units: impl Fn(U256) -> String) -> Option<ApiError> {
        match self.fresh_until {
            None => {
                return Some(ApiError::Conflict {
                    code: "no_recent_commitment",
                    message: "the contract takes a treasury transfer only after a proof of solvency of this asset has \
                              been committed: wait for the first commitment"
                        .into(),
                });
            }
            Some(until) if self.chain_now > until => {
                return Some(ApiError::Conflict {
                    code: "no_recent_commitment",
                    message: format!(
                        "the latest proof of solvency of this asset is too old for a treasury transfer (it allowed \
                         them until {until}, the chain's time is {}): wait for the next commitment",
                        self.chain_now
                    ),
                });
            }
            Some(_) => {}
        }
        let transferable = self.transferable();
        (amount > transferable).then(|| {
            ApiError::unprocessable(
                "below_floor",
                format!(
                    "{} would take custody below what members are owed: the contract lets {} leave now (balance {}, \
                     floor {} = the latest committed liabilities less what members were paid since)",
                    units(amount),
                    units(transferable),
                    units(self.balance),
                    units(self.floor)
                ),
            )
        })
    }
}

/// The custody figures in `token` of Settlement `contract` (the chain's live one when `None`), or why they could not
/// be read.
async fn on_chain(
    ctx: &ApiContext,
    chain_id: u64,
    contract: Option<Address>,
    token: Address,
) -> Result<OnChain, String> {
    let chain = ctx.chains.get(chain_id).ok_or("no Settlement contract configured for this chain")?;
    let contract = contract.unwrap_or(chain.settlement);
    let access = chain.access().map_err(|e| e.to_string())?;
    let provider = &access.provider;
    let read = async {
        let e = |e: alloy::contract::Error| e.to_string();
        let balance = if token == abi::NATIVE_TOKEN {
            provider.get_balance(contract).await.map_err(|e| e.to_string())?
        } else {
            Erc20Balance::new(token, provider).balanceOf(contract).call().await.map_err(e)?
        };
        let settlement = abi::Settlement::new(contract, provider);
        let available = settlement.available(token).call().await.map_err(e)?;
        let floor = settlement.floor(token).call().await.map_err(e)?.floor_;
        let committed: u64 = settlement.latestCommitTime(token).call().await.map_err(e)?.try_into().unwrap_or(u64::MAX);
        let max_age: u64 =
            settlement.treasuryCommitmentMaxAge().call().await.map_err(e)?.try_into().unwrap_or(u64::MAX);
        let latest = provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the node has no latest block")?;
        let fresh_until = (committed != 0).then(|| committed.saturating_add(max_age));
        let liabilities = settlement.latestLiabilities(token).call().await.map_err(e)?;
        let committed = (U256::from(liabilities.total), liabilities.epoch);
        let gas_price = U256::from(provider.get_gas_price().await.map_err(|e| e.to_string())?);
        let chain_now = latest.header.timestamp;
        Ok::<_, String>(OnChain { balance, available, floor, fresh_until, chain_now, committed, gas_price })
    };
    match tokio::time::timeout(std::time::Duration::from_secs(10), read).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(chain_id, error = %e, "reading the contract's custody figures failed");
            Err("the chain's RPC could not be read".into())
        }
        Err(_) => Err("the chain's RPC did not answer in time".into()),
    }
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

/// Gas of a payout batch's transaction besides its entries: the 21,000 of any transaction, the signature check and
/// the batch's bookkeeping (`PayoutGasBench`: 28,345 beside 100 entries at the optimizer's 200 runs; 15,636 at 1,000).
pub(crate) const PAYOUT_BASE_GAS: u64 = 50_000;
/// Gas of one payout entry to a recipient never paid before, the most an entry costs: `PayoutGasBench` native, 100
/// and 500 fresh recipients, (53,006,645 − 10,624,045) / 400 = 105,957 at the optimizer's 200 runs (issue 65; the
/// whole benchmark test, bare loop included, not our entry alone; the token and TRON USDT entries cost less).
pub(crate) const PAYOUT_ENTRY_GAS: u64 = 105_957;
/// Gas of a treasury transfer or refund: 21,000 and `TreasuryGasBench`'s token transfer, 114,790 (at the optimizer's
/// 200 runs; 114,269 at 1,000).
pub(crate) const TREASURY_TRANSFER_GAS: u64 = 135_790;
/// Gas of a solvency commitment's transaction: the budget `CommitGasBench` holds `commitLiabilities` to as a
/// transaction (`COMMIT_TX_LIMIT`, 120,000), plus the 17,100 of the one payload in 256 that sets a fresh nonce word
/// (`contracts/test/bench/CommitGas.t.sol`; the snapshot's figures are whole tests, a bare emission measured beside).
pub(crate) const SOLVENCY_COMMITMENT_GAS: u64 = 137_100;

/// `meta`'s custody at `contract` on `chain_id` in the terms an approver weighs, and the chain's gas price now: `Err`
/// says why the chain could not be read.
pub(crate) async fn custody(
    ctx: &ApiContext,
    chain_id: u64,
    contract: Address,
    meta: &AssetMeta,
) -> Result<(CustodyView, U256), String> {
    let c = on_chain(ctx, chain_id, Some(contract), meta.token).await?;
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
        (Some(signature), Some(deadline), Some(contract)) if row.status == "signed" => {
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
        status: row.status,
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
    let (row, meta) = new_transfer(&ctx, admin.wallet, &req, Mode::Sign).await?;
    let contract = ctx.chains.get(meta.chain_id).map(|c| c.settlement);
    Ok((StatusCode::CREATED, Json(view(row, meta.chain_id, meta.token, contract))))
}

/// The rate at which one staff wallet may ask for treasury transfers and refunds to be proposed or signed.
async fn signing_limit(ctx: &ApiContext, staff: Address) -> Result<(), ApiError> {
    let limit = ctx.settings.rate_limits.admin_signing_per_wallet;
    super::rate_limit::signing_per_wallet(ctx, "treasury-transfer", staff, limit).await
}

/// How a new transfer or refund is authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Signed at once (a signer that asks for no staff approvals).
    Sign,
    /// Proposed for staff approval: stored `proposed` with its authorisation, its deadline the chain's time plus the
    /// chain's `approval_window_secs`; signed once approved ([`sign_proposed_transfer`]).
    Propose,
}

/// Checks and stores a transfer of company funds by finance wallet `staff`, signed or proposed (`mode`): never more
/// than `available` (checked and stored under the asset's row lock) nor below the contract's floor.
pub(crate) async fn new_transfer(
    ctx: &ApiContext,
    staff: Address,
    req: &TransferRequest,
    mode: Mode,
) -> Result<(TreasuryTransferRow, AssetMeta), ApiError> {
    signing_limit(ctx, staff).await?;
    let to = parse_address(&req.to, "to")?;
    if to == Address::ZERO {
        return Err(ApiError::unprocessable("invalid_address", "to must not be the zero address"));
    }
    let amount = parse_amount(&req.amount, "amount")?;
    if amount.is_zero() {
        return Err(ApiError::unprocessable("invalid_amount", "amount must be greater than zero"));
    }
    let meta = AssetMeta::load(ctx, req.asset_id).await?;
    super::exits::refuse_if_open(ctx, req.asset_id).await?;
    check_floor(ctx, &meta, amount).await?;
    let chain = ctx.chains.chain(meta.chain_id)?;
    let client = super::signing::treasury_signer(ctx)?;
    check_recipient(client, &meta, chain.settlement, to).await?;
    let now = chain.now(&ctx.clock).await;
    let actor = staff.to_checksum(None);
    let authorise = |r: ledger::TransferRequest| authorise(ctx, client, chain, now, r, staff, mode);
    let row = ledger::transfer(&ctx.db, req.asset_id, to, amount, &actor, authorise).await.map_err(|e| match e {
        TransferError::Db(e) => e.into(),
        TransferError::UnknownAsset(id) => ApiError::unprocessable("unknown_asset", format!("no asset {id}")),
        TransferError::ExceedsAvailable { available, requested } => ApiError::unprocessable(
            "exceeds_available",
            format!("{requested} exceeds the company share available for transfer ({available})"),
        ),
        TransferError::Sign(e) => e,
        TransferError::Authorisation(e) => super::signing::authorisation_refusal(e),
    })?;
    Ok((row, meta))
}

/// A new transfer `r`'s authorisation on `chain` at the chain's time `now`: the signer's signature (valid for the
/// chain's `signature_ttl_secs`), or the proposal staff will approve (valid for its `approval_window_secs`).
async fn authorise(
    ctx: &ApiContext,
    client: &signer_client::SignerClient,
    chain: &crate::http::chains::Chain,
    now: u64,
    r: ledger::TransferRequest,
    staff: Address,
    mode: Mode,
) -> Result<Authorised, ApiError> {
    let contract = chain.settlement;
    match mode {
        Mode::Sign => {
            let deadline = now + chain.signature_ttl_secs;
            sign_transfer(ctx, client, contract, deadline, r, None, staff).await.map(Authorised::Signed)
        }
        Mode::Propose => {
            let deadline = now + chain.approval_window_secs;
            let payload = abi::SettlementDomain::new(r.chain_id, contract).digest(&settlement_transfer(&r, deadline));
            Ok(Authorised::Proposed(ProposedTransfer { deadline, contract, payload, proposer: staff }))
        }
    }
}

/// The Settlement payload of transfer `r` valid until `deadline`.
fn settlement_transfer(r: &ledger::TransferRequest, deadline: u64) -> abi::TreasuryTransfer {
    abi::TreasuryTransfer { token: r.token, to: r.to, amount: r.amount, nonce: r.nonce, deadline: U256::from(deadline) }
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
    let event = refund_key(chain_id, &tx_hash, log_index)?;
    let (row, token) = new_refund(&ctx, admin.wallet, event, Mode::Sign).await?;
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

/// Checks and stores the refund of quarantined `event` by finance wallet `staff`, signed or proposed (`mode`); answers
/// the row and the asset's token.
pub(crate) async fn new_refund(
    ctx: &ApiContext,
    staff: Address,
    event: EventKey,
    mode: Mode,
) -> Result<(TreasuryTransferRow, Address), ApiError> {
    signing_limit(ctx, staff).await?;
    let asset = ::ledger::treasury::quarantined_asset(&ctx.db, &event).await?;
    let asset = asset.ok_or(ApiError::NotFound)?;
    if let Some(asset_id) = asset {
        super::exits::refuse_if_open(ctx, asset_id).await?;
    }
    let meta = match asset {
        Some(asset_id) => Some(AssetMeta::load(ctx, asset_id).await?),
        None => None, // `no_asset`: refused below before anything is signed.
    };
    let token = meta.as_ref().map_or(Address::ZERO, |m| m.token);
    let actor = staff.to_checksum(None);
    // The signer, contract and deadline are looked up once the ledger found the event refundable: 409 before 503.
    let meta = meta.as_ref();
    let authorise = |r: ledger::TransferRequest| async move {
        if let Some(meta) = meta {
            check_floor(ctx, meta, r.amount).await?;
        }
        let client = super::signing::treasury_signer(ctx)?;
        let chain = ctx.chains.chain(r.chain_id)?;
        let now = chain.now(&ctx.clock).await;
        authorise(ctx, client, chain, now, r, staff, mode).await
    };
    let row = ledger::refund(&ctx.db, event, &actor, authorise).await.map_err(|e| match e {
        RefundError::Db(e) => e.into(),
        RefundError::UnknownEvent(_) => ApiError::NotFound,
        RefundError::NotRefundable { code, message } => ApiError::Conflict { code, message },
        RefundError::Sign(e) => e,
        RefundError::Authorisation(e) => super::signing::authorisation_refusal(e),
    })?;
    Ok((row, token))
}

/// Signs treasury transfer or refund `id`, proposed for approval, for finance wallet `staff`: the stored staff
/// signatures go to the signer with it (it checks them against its own list), at the contract and deadline fixed at
/// proposal. 409 when it was not proposed (`not_proposed`), its authorisation is closed (`authorisation_closed`), the
/// signer finds its approvals short (`approvals_missing`, audited) or the exit is open; a retry answers it as signed.
pub(crate) async fn sign_proposed_transfer(
    ctx: &ApiContext,
    staff: Address,
    id: i64,
) -> Result<TreasuryTransferView, ApiError> {
    signing_limit(ctx, staff).await?;
    let row = ledger::transfer_row(&ctx.db, id).await?.ok_or(ApiError::NotFound)?;
    let kind = if row.refund_of.is_some() { "refund" } else { "treasury_transfer" };
    let not_proposed = || ApiError::Conflict {
        code: "not_proposed",
        message: format!("treasury transfer {id} was not proposed for approval: nothing of it is signed here"),
    };
    let a = ::ledger::authorisations::signatures_for(&ctx.db, kind, id)
        .await
        .map_err(super::signing::authorisation_refusal)?
        .ok_or_else(not_proposed)?;
    let meta = AssetMeta::load(ctx, row.asset_id).await?;
    if row.status == "proposed" {
        super::exits::refuse_if_open(ctx, row.asset_id).await?;
        check_floor(ctx, &meta, row.amount).await?;
    }
    let client = super::signing::treasury_signer(ctx)?;
    let actor = staff.to_checksum(None);
    let a = &a;
    let sign =
        |r: ledger::TransferRequest, deadline: u64| sign_transfer(ctx, client, a.contract, deadline, r, Some(a), staff);
    let row = ledger::sign_proposed(&ctx.db, id, &actor, sign).await.map_err(|e| match e {
        SignProposedError::Db(e) => e.into(),
        SignProposedError::Unknown(_) => ApiError::NotFound,
        SignProposedError::NotProposed(id, status) => ApiError::Conflict {
            code: "not_proposed",
            message: format!("treasury transfer {id} is {status}: it can no longer be signed"),
        },
        SignProposedError::Sign(e) => e,
    })?;
    Ok(view(row, meta.chain_id, meta.token, Some(a.contract)))
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
    Ok(Json(sign_proposed_transfer(&ctx, finance.wallet, id).await?))
}

/// Refuses, before anything is signed, a transfer or refund of `amount` that the contract would refuse now: one that
/// would take custody below the floor (the latest committed liabilities less what members were paid since) or come
/// without a recent enough commitment (the contract is the authority; this only spares the admin a signature that
/// cannot execute). When the chain cannot be read, nothing is refused here: the contract still checks.
async fn check_floor(ctx: &ApiContext, meta: &AssetMeta, amount: U256) -> Result<(), ApiError> {
    let contract = ctx.chains.get(meta.chain_id).map(|c| c.settlement);
    let chain = match on_chain(ctx, meta.chain_id, contract, meta.token).await {
        Ok(chain) => chain,
        Err(note) => {
            tracing::warn!(chain_id = meta.chain_id, note, "the floor could not be read before signing");
            return Ok(());
        }
    };
    match chain.refusal(amount, |v| AssetAmount::new(v, meta.decimals, &meta.symbol).human) {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

/// Refuses, before anything is stored or proposed, a transfer to an address the signer never sends company funds to
/// (its `treasury_recipients` for the asset, from `GET /v1/policy`): such a transfer could never be signed, and a
/// proposal of it would wait for approvals in vain (issue 65). 422 `recipient_not_allowed`.
async fn check_recipient(
    client: &signer_client::SignerClient,
    meta: &AssetMeta,
    contract: Address,
    to: Address,
) -> Result<(), ApiError> {
    let policy = super::signing::signer_call(client.policy(meta.chain_id, contract, meta.token)).await?;
    if policy.treasury_recipients.iter().any(|r| r.0 == to) {
        return Ok(());
    }
    let allowed: Vec<String> = policy.treasury_recipients.iter().map(|r| abi::tron::show(meta.chain_id, r.0)).collect();
    Err(ApiError::unprocessable(
        "recipient_not_allowed",
        format!(
            "the signer sends company funds only to its treasury recipients on chain {} ({}); {} is not one",
            meta.chain_id,
            if allowed.is_empty() { "none configured".to_owned() } else { allowed.join(", ") },
            abi::tron::show(meta.chain_id, to)
        ),
    ))
}

/// Has the signer sign `r` as a treasury transfer on `contract`, valid until `deadline` (a refund names the
/// payment it returns), with `authorisation`'s staff signatures when it was proposed, and checks that its answer is
/// for exactly that transfer: the one way the API asks for a treasury transfer's signature. A refusal for want of
/// approvals is 409 `approvals_missing` and is audited with `staff` as the actor.
async fn sign_transfer(
    ctx: &ApiContext,
    client: &signer_client::SignerClient,
    contract: Address,
    deadline: u64,
    r: ledger::TransferRequest,
    authorisation: Option<&Authorisation>,
    staff: Address,
) -> Result<TransferSignature, ApiError> {
    let intent = TreasuryTransferIntent {
        chain_id: r.chain_id,
        contract: Addr(contract),
        token: Addr(r.token),
        to: Addr(r.to),
        amount: SignerAmount(r.amount),
        nonce: Some(SignerAmount(r.nonce)),
        deadline: Some(deadline),
        refund_of: r.refund_of.map(SignerAmount),
        approvals: authorisation.map(super::signing::staff_signatures).unwrap_or_default(),
    };
    let signed = match signer_call_raw(client.sign_treasury_transfer(&intent)).await? {
        Ok(signed) => signed,
        Err(ClientError::Refused { body, .. }) if approvals_refused(&body.code, &body.message).is_some() => {
            let kind = if r.refund_of.is_some() { "refund" } else { "treasury_transfer" };
            let subject = authorisation.map(|a| a.id);
            ::ledger::authorisations::record_signer_refusal(&ctx.db, subject, kind, staff, &body.code, &body.message)
                .await
                .map_err(super::signing::authorisation_refusal)?;
            return Err(approvals_refused(&body.code, &body.message).expect("checked"));
        }
        Err(e) => return Err(signer_error(e)),
    };
    let digest = abi::SettlementDomain::new(r.chain_id, contract).digest(&settlement_transfer(&r, deadline));
    if !signed.is_for(r.chain_id, contract, digest, r.nonce, deadline) {
        return Err(ApiError::Internal(eyre::eyre!(
            "signer answer does not match the treasury transfer (digest {} vs {digest})",
            signed.digest
        )));
    }
    if authorisation.is_some_and(|a| a.payload != digest) {
        return Err(ApiError::Internal(eyre::eyre!("treasury transfer {} differs from what was approved", r.nonce)));
    }
    Ok(TransferSignature { deadline, signature: signed.signature.to_vec() })
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

#[cfg(test)]
mod tests {
    use super::{PAYOUT_BASE_GAS, PAYOUT_ENTRY_GAS, SOLVENCY_COMMITMENT_GAS, TREASURY_TRANSFER_GAS};

    /// `name`'s gas in the contracts' benchmark snapshot.
    fn measured(name: &str) -> u64 {
        let snapshot = include_str!("../../../contracts/.gas-snapshot");
        let line = snapshot.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no {name} in the snapshot"));
        line.rsplit("gas: ").next().unwrap().trim_end_matches(')').parse().unwrap()
    }

    #[test]
    fn the_network_fee_estimates_cover_what_the_gas_benchmarks_measure() {
        for kind in ["native", "token"] {
            let (small, large) =
                (measured(&format!("test_gas_{kind}_fresh_100()")), measured(&format!("test_gas_{kind}_fresh_500()")));
            let per_entry = (large - small).div_ceil(400);
            assert!(PAYOUT_ENTRY_GAS >= per_entry, "{kind}: {per_entry} gas per fresh entry");
            assert!(PAYOUT_BASE_GAS + 100 * PAYOUT_ENTRY_GAS >= small + 21_000, "{kind}: 100 fresh entries");
            assert!(PAYOUT_BASE_GAS + 500 * PAYOUT_ENTRY_GAS >= large + 21_000, "{kind}: 500 fresh entries");
        }
        assert!(PAYOUT_BASE_GAS + 100 * PAYOUT_ENTRY_GAS >= measured("test_gas_tronUsdt_fresh_100()") + 21_000);
        for kind in ["native", "token"] {
            assert!(TREASURY_TRANSFER_GAS >= measured(&format!("test_gas_treasury_{kind}()")) + 21_000, "{kind}");
        }
    }

    #[test]
    fn the_commitment_estimate_is_the_budget_the_gas_benchmark_holds_a_commitment_to() {
        let bench = include_str!("../../../contracts/test/bench/CommitGas.t.sol");
        assert!(bench.contains("COMMIT_TX_LIMIT = 120_000;"), "the benchmark's budget changed");
        assert!(bench.contains("COMMIT_TX_LIMIT + 17_100"), "the fresh nonce word's allowance changed");
        assert_eq!(SOLVENCY_COMMITMENT_GAS, 120_000 + 17_100);
    }
}
