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
use super::signing::signer_call;
use super::types::{AssetAmount, AssetMeta, parse_amount};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AdminUser, Json, Staff, need};
use ::ledger::events::EventKey;
use ::ledger::treasury::{self as ledger, RefundError, TransferError, TransferSignature, TreasuryTransferRow};

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(list_transfers, create_transfer))
        .routes(routes!(refund_quarantined))
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
    let (chain, note) = match on_chain(&ctx, p.chain_id, p.token).await {
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

/// The Settlement contract's custody figures in `token`, or why they could not be read.
async fn on_chain(ctx: &ApiContext, chain_id: u64, token: Address) -> Result<OnChain, String> {
    let chain = ctx.chains.get(chain_id).ok_or("no Settlement contract configured for this chain")?;
    let contract = chain.settlement;
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
        Ok::<_, String>(OnChain { balance, available, floor, fresh_until, chain_now: latest.header.timestamp })
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
    /// `signed`, `executed` or `expired`.
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
        (status = 503, body = ErrorBody)))]
pub async fn create_transfer(
    State(ctx): State<ApiContext>,
    Staff(admin, _): Staff<need::Finance>,
    Json(req): Json<TransferRequest>,
) -> Result<(StatusCode, Json<TreasuryTransferView>), ApiError> {
    let limit = ctx.settings.rate_limits.admin_signing_per_wallet;
    super::rate_limit::signing_per_wallet(&ctx, "treasury-transfer", admin.wallet, limit).await?;
    let to = parse_address(&req.to, "to")?;
    if to == Address::ZERO {
        return Err(ApiError::unprocessable("invalid_address", "to must not be the zero address"));
    }
    let amount = parse_amount(&req.amount, "amount")?;
    if amount.is_zero() {
        return Err(ApiError::unprocessable("invalid_amount", "amount must be greater than zero"));
    }
    let meta = AssetMeta::load(&ctx, req.asset_id).await?;
    let (chain_id, token) = (meta.chain_id, meta.token);
    super::exits::refuse_if_open(&ctx, req.asset_id).await?;
    check_floor(&ctx, &meta, amount).await?;
    let chain = ctx.chains.chain(chain_id)?;
    let contract = chain.settlement;
    let client = ctx
        .treasury_signer
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("signer_unavailable", "no signer is configured"))?;
    let deadline = chain.now(&ctx.clock).await + chain.signature_ttl_secs;
    let actor = admin.wallet.to_checksum(None);
    let sign = |r: ledger::TransferRequest| sign_transfer(client, contract, deadline, r);
    let row = ledger::transfer(&ctx.db, req.asset_id, to, amount, &actor, sign).await.map_err(|e| match e {
        TransferError::Db(e) => e.into(),
        TransferError::UnknownAsset(id) => ApiError::unprocessable("unknown_asset", format!("no asset {id}")),
        TransferError::ExceedsAvailable { available, requested } => ApiError::unprocessable(
            "exceeds_available",
            format!("{requested} exceeds the company share available for transfer ({available})"),
        ),
        TransferError::Sign(e) => e,
    })?;
    Ok((StatusCode::CREATED, Json(view(row, chain_id, token, Some(contract)))))
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
    let limit = ctx.settings.rate_limits.admin_signing_per_wallet;
    super::rate_limit::signing_per_wallet(&ctx, "treasury-transfer", admin.wallet, limit).await?;
    let bad_hash = || ApiError::bad_request("invalid_path", "tx_hash must be 0x followed by 64 hex digits");
    if !abi::limits::within(&tx_hash, abi::limits::HASH_MAX_LEN) || !tx_hash.starts_with("0x") {
        return Err(bad_hash());
    }
    let tx_hash: alloy::primitives::B256 = tx_hash.parse().map_err(|_| bad_hash())?;
    if i64::try_from(chain_id).is_err() || i64::try_from(log_index).is_err() {
        return Err(ApiError::NotFound);
    }
    let event = EventKey { chain_id, tx_hash, log_index };
    let asset = ::ledger::treasury::quarantined_asset(&ctx.db, &event).await?;
    let asset = asset.ok_or(ApiError::NotFound)?;
    if let Some(asset_id) = asset {
        super::exits::refuse_if_open(&ctx, asset_id).await?;
    }
    let meta = match asset {
        Some(asset_id) => Some(AssetMeta::load(&ctx, asset_id).await?),
        None => None, // `no_asset`: refused below before anything is signed.
    };
    let token = meta.as_ref().map_or(Address::ZERO, |m| m.token);
    let actor = admin.wallet.to_checksum(None);
    // The signer, contract and deadline are looked up once the ledger found the event refundable: 409 before 503.
    let (context, meta) = (&ctx, meta.as_ref());
    let sign = |r: ledger::TransferRequest| async move {
        if let Some(meta) = meta {
            check_floor(context, meta, r.amount).await?;
        }
        let client = super::signing::treasury_signer(context)?;
        let chain = context.chains.chain(r.chain_id)?;
        let deadline = chain.now(&context.clock).await + chain.signature_ttl_secs;
        sign_transfer(client, chain.settlement, deadline, r).await
    };
    let row = ledger::refund(&ctx.db, event, &actor, sign).await.map_err(|e| match e {
        RefundError::Db(e) => e.into(),
        RefundError::UnknownEvent(_) => ApiError::NotFound,
        RefundError::NotRefundable { code, message } => ApiError::Conflict { code, message },
        RefundError::Sign(e) => e,
    })?;
    let contract = ctx.chains.get(chain_id).map(|c| c.settlement);
    Ok((StatusCode::CREATED, Json(view(row, chain_id, token, contract))))
}

/// Refuses, before anything is signed, a transfer or refund of `amount` that the contract would refuse now: one that
/// would take custody below the floor (the latest committed liabilities less what members were paid since) or come
/// without a recent enough commitment (the contract is the authority; this only spares the admin a signature that
/// cannot execute). When the chain cannot be read, nothing is refused here: the contract still checks.
async fn check_floor(ctx: &ApiContext, meta: &AssetMeta, amount: U256) -> Result<(), ApiError> {
    let chain = match on_chain(ctx, meta.chain_id, meta.token).await {
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

/// Has the signer sign `r` as a treasury transfer on `contract`, valid until `deadline` (a refund names the
/// payment it returns), and checks that its answer is for exactly that transfer: the one way the API asks for a
/// treasury transfer's signature.
async fn sign_transfer(
    client: &signer_client::SignerClient,
    contract: Address,
    deadline: u64,
    r: ledger::TransferRequest,
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
        approvals: Vec::new(),
    };
    let signed = signer_call(client.sign_treasury_transfer(&intent)).await?;
    let payload = abi::TreasuryTransfer {
        token: r.token,
        to: r.to,
        amount: r.amount,
        nonce: r.nonce,
        deadline: U256::from(deadline),
    };
    let digest = abi::SettlementDomain::new(r.chain_id, contract).digest(&payload);
    if signed.digest != digest || signed.nonce.0 != r.nonce || signed.deadline != deadline {
        return Err(ApiError::Internal(eyre::eyre!(
            "signer answer does not match the treasury transfer (digest {} vs {digest})",
            signed.digest
        )));
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
