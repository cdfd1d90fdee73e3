//! `POST /v1/users/register` and `/v1/users/retopup`: after the checks, the signer authorises
//! the caller's payment; the signed payload is stored in `transactions` and returned with the
//! transaction the wallet must send to the Settlement contract.
//!
//! Nothing here changes the ledger: a payload that is never mined changes nothing (PLAN.md §1).

use alloy::primitives::{Address, Bytes, U256};
use alloy::sol_types::SolCall;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use signer_client::intent::{Addr, Amount as SignerAmount, RegisterIntent, RetopupIntent};

use utoipa_axum::{router::OpenApiRouter, routes};

use super::bounded;
use super::calls::{Payment, WalletCalls};
use super::error::ErrorBody;
use super::extract::parse_address;
use super::rate_limit;
use super::types::{AssetAmount, TronCall, WalletTransaction, parse_amount};
use crate::http::context::ApiContext;
use crate::http::error::ApiError;
use crate::http::extract::{AuthUser, Json};
use crate::outflows::signer::signer_error;
use ledger::eligibility::{self, Ineligible, PaymentTerms};
use ledger::payments::{self, PaymentKind, PaymentOutcome, PaymentSlot, StoredPayment};
use ledger::plan::Amount;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(confirm))
        .routes(routes!(retopup))
        .routes(routes!(list_payments))
}

/// Asks for a signed registration payload for the caller's wallet.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The asset to register in.
    pub asset_id: i32,
    /// Sponsor's wallet: 0x hex or TRON base58.
    #[serde(deserialize_with = "bounded::address")]
    pub sponsor: String,
    /// For an asset of the generation plan: the package to buy, base units as a decimal string (one of the plan's
    /// `packages` in `/v1/public/plan`). Absent for an asset with a fixed registration fee.
    #[serde(default, deserialize_with = "bounded::optional_amount")]
    pub package: Option<String>,
}

/// Asks for a signed retopup payload for the caller's wallet.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetopupRequest {
    /// The asset to retopup in.
    pub asset_id: i32,
    /// For an asset of the generation plan: the package to buy (a purchase), base units as a decimal string.
    /// Absent for an asset with a fixed retopup fee.
    #[serde(default, deserialize_with = "bounded::optional_amount")]
    pub package: Option<String>,
}

/// A signed authorisation and the transaction that uses it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedPayment {
    /// Row id in the backend's `transactions`.
    pub transaction_id: i64,
    /// `register` or `retopup`.
    pub kind: &'static str,
    /// The asset paid in.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: u64,
    /// Settlement contract in the chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub contract: String,
    /// The signed struct exactly as the signer signed it (`Registration` or `Retopup`, with its domain's `chain_id`
    /// and `contract`): integers as decimal strings, and its addresses — `contract`, `user`, `sponsor` (a
    /// registration), `token` — in the signed struct's own 0x encoding on EVERY chain, TRON included: the EIP-712
    /// (TIP-712) digest is computed from it as it is. On a TRON chain their `T…` forms are in `tron_payload`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// On a TRON chain: `payload` with its addresses (`contract`, `user`, `sponsor`, `token`) in TRON's `T…`
    /// base58check form, as TronWeb shows and ABI-encodes them; every other field as in `payload`. The same values
    /// the signature covers, in TRON's form. Absent on other chains.
    #[schema(value_type = Option<Object>)]
    pub tron_payload: Option<serde_json::Value>,
    /// 65 bytes r ‖ s ‖ v, 0x hex.
    pub signature: String,
    /// Contract nonce the payload spends (decimal string); the contract accepts each nonce once.
    pub nonce: String,
    /// Unix seconds after which the contract refuses the payload.
    pub deadline: u64,
    /// The EIP-712 digest the signature is over, 0x hex.
    pub digest: String,
    /// What the wallet pays: the registration or retopup fee the payload was signed for.
    pub amount: AssetAmount,
    /// What an EIP-1193 wallet sends (`eth_sendTransaction`). On a TRON chain a wallet sends `tron`; `to` is then
    /// the contract's `T…` form.
    pub transaction: WalletTransaction,
    /// For a token: `approve(Settlement, amount)` on the token, to send before `transaction` unless the allowance
    /// already covers the amount (absent for the native coin). On a TRON chain a wallet sends `tron.approve`; `to`
    /// is then the token's `T…` form.
    pub approve: Option<WalletTransaction>,
    /// True when this is the payload the wallet was already given and that is still out (same nonce): paying it
    /// again after a reload cannot charge twice, since the contract accepts a nonce once.
    pub reissued: bool,
    /// On a TRON chain: the same call as a TronWeb client (TronLink) sends it — `triggerSmartContract(contract,
    /// function_selector, {feeLimit, callValue}, …)` with the raw `parameter` — and, for a token, the approve first.
    pub tron: Option<TronCall>,
}

/// The outstanding payload, when it pays what was asked now. A different package while one is out is a 409: the
/// wallet must pay (or let expire) the payload it holds first, since handing it another amount would let one
/// request pay twice and handing it the old one would pay what it did not ask for.
fn same_amount(stored: StoredPayment, asked: Amount, asset: &PaymentTerms) -> Result<StoredPayment, ApiError> {
    let out = stored.payload.get("amount").and_then(|a| a.as_str()).and_then(|a| a.parse::<Amount>().ok());
    if out == Some(asked) {
        return Ok(stored);
    }
    let until = chrono::DateTime::from_timestamp(stored.deadline, 0);
    let until_text =
        until.map_or_else(|| stored.deadline.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    let amount = out.map(|a| AssetAmount::new(a, asset.decimals, &asset.symbol));
    Err(ApiError::ConflictWith {
        code: "payment_outstanding",
        message: format!(
            "a payment of {} signed for this wallet is still outstanding until {until_text}: pay it or wait until then \
             before asking for another amount",
            amount.as_ref().map_or("another amount", |a| a.human.as_str()),
        ),
        // The same facts as data, for a page that writes them in its reader's language and time zone.
        details: serde_json::json!({
            "amount": amount,
            "until": until.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        }),
    })
}

/// The `package` field in base units, if given.
fn package(text: Option<&str>) -> Result<Option<Amount>, ApiError> {
    text.map(|t| {
        let amount = parse_amount(t, "package")?;
        Amount::try_from(amount).map_err(|_| ApiError::unprocessable("not_a_package", "package is too large"))
    })
    .transpose()
}

/// A refusal of the ledger's eligibility rules as the API answers it (409 for an existing registration, else 422).
fn refused(refusal: Ineligible) -> ApiError {
    match refusal {
        Ineligible::AlreadyRegistered => ApiError::Conflict { code: refusal.code(), message: refusal.to_string() },
        other => ApiError::unprocessable(other.code(), other.to_string()),
    }
}

/// Payload for registering the caller under `sponsor` (checks: asset, sponsor an active user
/// of it, not self, caller not yet registered, caller frozen in no asset; for a generation asset, a `package` of
/// the plan: a missing or unknown one is a 422 naming the packages). A payment of another amount still outstanding
/// for the wallet is a 409 `payment_outstanding` whose `error.details` give its `amount` and `until` (RFC 3339 UTC).
#[utoipa::path(post, path = "/v1/users/register", tag = "users", security(("bearer" = [])), request_body = RegisterRequest,
    responses((status = 200, body = SignedPayment), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn register(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<RegisterRequest>,
) -> Result<Json<SignedPayment>, ApiError> {
    rate_limit::signing_per_wallet(&ctx, "register", user.wallet, ctx.settings.rate_limits.signing_per_wallet).await?;
    let sponsor = parse_address(&req.sponsor, "sponsor")?;
    let package = package(req.package.as_deref())?;
    let asset = eligibility::registration(&ctx.db, req.asset_id, user.wallet, sponsor).await?.map_err(refused)?;
    super::exits::refuse_if_open(&ctx, req.asset_id).await?;
    let price = asset.price(true, package).map_err(refused)?;
    let contract = ctx.chains.settlement(asset.chain_id)?;
    let now = ctx.chain_now(asset.chain_id).await as i64;
    let (stored, reissued) =
        match payments::open_slot(&ctx.db, req.asset_id, user.wallet, PaymentKind::Register, now).await? {
            // Still out: the same payload again, so that paying after a reload cannot charge the wallet twice.
            PaymentSlot::Outstanding(stored) => (same_amount(stored, price, &asset)?, true),
            PaymentSlot::Free(slot) => {
                let intent = RegisterIntent {
                    chain_id: asset.chain_id,
                    contract: Addr(contract),
                    user: Addr(user.wallet),
                    sponsor: Addr(sponsor),
                    token: Addr(asset.token),
                    amount: SignerAmount(U256::from(price)),
                    nonce: None,
                    deadline: None,
                };
                let signed = ctx.signer_client()?.sign_register(&intent).await.map_err(signer_error)?;
                let stored = stored_form(&asset, contract, signed)?;
                (slot.store(stored.nonce, &stored.payload, &stored.signature, stored.deadline).await?, false)
            }
        };
    answer(&ctx, &asset, contract, stored, reissued)
}

/// Payload for a retopup by the caller (checks: registered in the asset, not frozen; for a generation asset, a
/// `package` of the plan: a missing or unknown one is a 422 naming the packages; another amount still outstanding:
/// 409 `payment_outstanding` with `error.details`, as for a registration).
#[utoipa::path(post, path = "/v1/users/retopup", tag = "users", security(("bearer" = [])), request_body = RetopupRequest,
    responses((status = 200, body = SignedPayment), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn retopup(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<RetopupRequest>,
) -> Result<Json<SignedPayment>, ApiError> {
    rate_limit::signing_per_wallet(&ctx, "retopup", user.wallet, ctx.settings.rate_limits.signing_per_wallet).await?;
    let package = package(req.package.as_deref())?;
    let asset = eligibility::retopup(&ctx.db, req.asset_id, user.wallet).await?.map_err(refused)?;
    super::exits::refuse_if_open(&ctx, req.asset_id).await?;
    let price = asset.price(false, package).map_err(refused)?;
    let contract = ctx.chains.settlement(asset.chain_id)?;
    let now = ctx.chain_now(asset.chain_id).await as i64;
    let (stored, reissued) =
        match payments::open_slot(&ctx.db, req.asset_id, user.wallet, PaymentKind::Retopup, now).await? {
            PaymentSlot::Outstanding(stored) => (same_amount(stored, price, &asset)?, true),
            PaymentSlot::Free(slot) => {
                let intent = RetopupIntent {
                    chain_id: asset.chain_id,
                    contract: Addr(contract),
                    user: Addr(user.wallet),
                    token: Addr(asset.token),
                    amount: SignerAmount(U256::from(price)),
                    nonce: None,
                    deadline: None,
                };
                let signed = ctx.signer_client()?.sign_retopup(&intent).await.map_err(signer_error)?;
                let stored = stored_form(&asset, contract, signed)?;
                (slot.store(stored.nonce, &stored.payload, &stored.signature, stored.deadline).await?, false)
            }
        };
    answer(&ctx, &asset, contract, stored, reissued)
}

/// The signer's answer as it is stored, once checked against what was asked (chain, contract, and the digest
/// of the payload it names, recomputed here).
fn stored_form(
    asset: &PaymentTerms,
    contract: Address,
    signed: signer_client::api::SignResponse,
) -> Result<StoredPayment, ApiError> {
    let kind =
        if signed.kind == signer_client::intent::Kind::Register { PaymentKind::Register } else { PaymentKind::Retopup };
    let deadline = i64::try_from(signed.deadline).map_err(|_| eyre::eyre!("deadline out of range"))?;
    let stored = StoredPayment {
        id: 0,
        asset_id: 0,
        kind,
        nonce: signed.nonce.0,
        payload: signed.payload,
        signature: signed.signature.to_vec(),
        deadline,
    };
    let call = PaymentCall::of(&stored, asset.chain_id, contract)?;
    if signed.digest != call.digest || signed.chain_id != asset.chain_id || signed.contract.0 != contract {
        return Err(ApiError::Internal(eyre::eyre!(
            "signer answer does not match the payload asked for (digest {} vs {})",
            signed.digest,
            call.digest
        )));
    }
    Ok(stored)
}

/// A stored payload as the contract call it authorises: its digest and calldata, rebuilt from what was signed.
struct PaymentCall {
    digest: alloy::primitives::B256,
    calldata: Vec<u8>,
    amount: U256,
}

impl PaymentCall {
    fn of(stored: &StoredPayment, chain_id: u64, contract: Address) -> Result<Self, ApiError> {
        let domain = abi::SettlementDomain::new(chain_id, contract);
        let signature = Bytes::from(stored.signature.clone());
        let unreadable = |e: serde_json::Error| ApiError::Internal(eyre::eyre!("stored payload unreadable: {e}"));
        Ok(match stored.kind {
            PaymentKind::Register => {
                let intent: RegisterIntent = serde_json::from_value(stored.payload.clone()).map_err(unreadable)?;
                let payload = abi::Registration {
                    user: intent.user.0,
                    sponsor: intent.sponsor.0,
                    token: intent.token.0,
                    amount: intent.amount.0,
                    nonce: stored.nonce,
                    deadline: U256::from(stored.deadline),
                };
                let digest = domain.digest(&payload);
                let calldata = abi::Settlement::registerCall { r: payload, signature }.abi_encode();
                Self { digest, calldata, amount: intent.amount.0 }
            }
            PaymentKind::Retopup => {
                let intent: RetopupIntent = serde_json::from_value(stored.payload.clone()).map_err(unreadable)?;
                let payload = abi::Retopup {
                    user: intent.user.0,
                    token: intent.token.0,
                    amount: intent.amount.0,
                    nonce: stored.nonce,
                    deadline: U256::from(stored.deadline),
                };
                let digest = domain.digest(&payload);
                let calldata = abi::Settlement::retopupCall { r: payload, signature }.abi_encode();
                Self { digest, calldata, amount: intent.amount.0 }
            }
        })
    }
}

/// The answer for a stored payload: the payload, its signature and the transaction that uses it.
fn answer(
    ctx: &ApiContext,
    asset: &PaymentTerms,
    contract: Address,
    stored: StoredPayment,
    reissued: bool,
) -> Result<Json<SignedPayment>, ApiError> {
    let PaymentCall { digest, calldata, amount } = PaymentCall::of(&stored, asset.chain_id, contract)?;
    let kind = stored.kind.as_str();
    let payment = match stored.kind {
        PaymentKind::Register => Payment::Register,
        PaymentKind::Retopup => Payment::Retopup,
    };
    let calls = WalletCalls::new(&ctx.chains, asset.chain_id, contract).payment(payment, calldata, asset.token, amount);
    Ok(Json(SignedPayment {
        transaction_id: stored.id,
        kind,
        asset_id: stored.asset_id,
        chain_id: asset.chain_id,
        contract: abi::tron::show(asset.chain_id, contract),
        tron_payload: tron_payload(asset.chain_id, &stored.payload),
        payload: stored.payload,
        signature: alloy::hex::encode_prefixed(&stored.signature),
        nonce: stored.nonce.to_string(),
        deadline: u64::try_from(stored.deadline).unwrap_or_default(),
        digest: format!("{digest:#x}"),
        amount: AssetAmount::new(amount, asset.decimals, &asset.symbol),
        transaction: calls.transaction,
        approve: calls.approve,
        tron: calls.tron,
        reissued,
    }))
}

/// On a TRON chain, `payload` with its addresses in TRON's `T…` form (see [`SignedPayment::tron_payload`]).
fn tron_payload(chain_id: u64, payload: &serde_json::Value) -> Option<serde_json::Value> {
    if abi::chain::Family::of(chain_id) != abi::chain::Family::Tron {
        return None;
    }
    let mut shown = payload.clone();
    for field in ["contract", "user", "sponsor", "token"] {
        if let Some(value) = shown.get_mut(field)
            && let Some(address) = value.as_str().and_then(|a| a.parse::<Address>().ok())
        {
            *value = serde_json::Value::String(abi::tron::to_base58(address));
        }
    }
    Some(shown)
}

/// Names a payload by its nonce.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The `nonce` of a registration payload this wallet was given (decimal string).
    #[serde(deserialize_with = "bounded::nonce")]
    pub nonce: String,
}

/// Where a registration payload stands, from the ledger tables (never from the client).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationStatus {
    /// Row id in the backend's `transactions`.
    pub transaction_id: i64,
    /// `register` or `retopup`: any payload of the caller's is looked up by its nonce.
    pub kind: &'static str,
    /// The asset paid in.
    pub asset_id: i32,
    /// Contract nonce of the payload (decimal string).
    pub nonce: String,
    /// Unix seconds after which the contract refuses the payload.
    pub deadline: i64,
    /// Of THIS payload: `applied` (a confirmed event used it and the ledger credited it), `quarantined` (a
    /// confirmed event used it and the ledger refused it — the amount is in custody, not credited; the reason is
    /// in `quarantine_reason`), `waiting` (no confirmed event yet, deadline not passed) or `expired` (deadline
    /// passed and no confirmed event; a transaction mined just before the deadline still shows `applied` once
    /// its block is confirmed). A wallet registered by another of its payloads shows in `user`, not here.
    pub status: &'static str,
    /// What this payment pays (for a quarantined one, what the wallet actually paid).
    pub amount: AssetAmount,
    /// The wallet's standing once applied.
    pub user: Option<RegisteredUser>,
    /// The confirmed chain event that registered the wallet (or was quarantined).
    pub event: Option<SeenEvent>,
    /// Why the event was quarantined.
    pub quarantine_reason: Option<String>,
    /// The pool node the registration fee bought for the sponsor (every `pool_entry_every`-th referral).
    pub sponsor_pool_entry: Option<PoolEntry>,
}

/// The wallet's registration in the asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisteredUser {
    /// The user's number in the asset.
    pub user_no: i32,
    /// `active` or `frozen`.
    pub status: &'static str,
    /// In the chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub sponsor: Option<String>,
    /// Block of the registration; null for genesis.
    pub registered_block: Option<i64>,
}

/// A confirmed chain event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeenEvent {
    /// Hash of the transaction that emitted it, 0x hex.
    pub tx_hash: String,
    /// The event's log index.
    pub log_index: i64,
    /// Number of the block it is in.
    pub block: i64,
    /// False when the wallet was registered by another payload of its own (another nonce).
    pub this_payload: bool,
}

/// A node in a pool level.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoolEntry {
    /// The pool level.
    pub level: i32,
    /// Heap index of the node in the level's tree.
    pub q: i64,
}

/// Status of a registration payload the caller was given (looked up by its nonce): applied by the listener,
/// quarantined, still waiting, or expired.
#[utoipa::path(post, path = "/v1/users/register/confirm", tag = "users", security(("bearer" = [])),
    request_body = ConfirmRequest,
    responses((status = 200, body = RegistrationStatus), (status = 404, body = ErrorBody)))]
pub async fn confirm(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<ConfirmRequest>,
) -> Result<Json<RegistrationStatus>, ApiError> {
    let nonce: U256 = req
        .nonce
        .trim()
        .parse()
        .ok()
        .filter(|_| !req.nonce.trim().is_empty() && !req.nonce.trim().starts_with(['-', '+']))
        .ok_or_else(|| ApiError::unprocessable("invalid_nonce", "nonce must be a decimal uint256"))?;
    // Only the caller's own payloads: another wallet's nonce is "not found".
    // Whether it expired is judged by its chain's clock: found first, then read again at that chain's time.
    let found = payments::by_nonce(&ctx.db, user.wallet, nonce, ctx.clock.now() as i64).await?;
    let asset_id = found.ok_or(ApiError::NotFound)?.payment.asset_id;
    let now = asset_now(&ctx, asset_id).await? as i64;
    let record = payments::by_nonce(&ctx.db, user.wallet, nonce, now).await?.ok_or(ApiError::NotFound)?;
    let view = PaymentView::of(&ctx, record).await?;
    let (chain_id, asset_id) = (view.chain_id, view.asset_id);
    let mut answer = RegistrationStatus {
        transaction_id: view.transaction_id,
        kind: view.kind,
        asset_id,
        nonce: view.nonce,
        deadline: view.deadline,
        status: view.status,
        amount: view.amount,
        user: None,
        event: view.event,
        quarantine_reason: view.quarantine_reason,
        sponsor_pool_entry: None,
    };
    if view.kind != PaymentKind::Register.as_str() {
        return Ok(Json(answer));
    }
    // The wallet's standing, whichever of its payloads registered it (`event.this_payload` says whether this one).
    if let Some(registered) = payments::registration(&ctx.db, asset_id, user.wallet).await? {
        answer.user = Some(RegisteredUser {
            user_no: registered.user_no,
            status: if registered.frozen { "frozen" } else { "active" },
            sponsor: registered.sponsor.map(|s| crate::http::types::show_address(chain_id, &s)),
            registered_block: registered.registered_block,
        });
        if answer.status == "applied" {
            let entry = payments::sponsor_pool_entry(&ctx.db, asset_id, registered.user_no).await?;
            answer.sponsor_pool_entry = entry.map(|(level, q)| PoolEntry { level, q });
        }
    }
    Ok(Json(answer))
}

/// One of the caller's payments: the payload handed out and what became of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentView {
    /// Row id in the backend's `transactions`.
    pub transaction_id: i64,
    /// `register` or `retopup`.
    pub kind: &'static str,
    /// The asset paid in.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: u64,
    /// Contract nonce the payload spends (decimal string).
    pub nonce: String,
    /// Unix seconds after which the contract refuses the payload.
    pub deadline: i64,
    /// `applied` (a confirmed event used this payload and the ledger credited it), `quarantined` (a confirmed
    /// event used it and the ledger refused it: the money is in custody, not credited — see `quarantine_reason`;
    /// an admin can refund it), `waiting` (no confirmed event yet; it may still execute) or `expired` (deadline
    /// passed with no confirmed event: it can never execute, nothing was charged).
    pub status: &'static str,
    /// What this payment pays (for a quarantined one, what the wallet actually paid).
    pub amount: AssetAmount,
    /// The confirmed chain event that used this payload.
    pub event: Option<SeenEvent>,
    /// Why the event was quarantined (`code: words`).
    pub quarantine_reason: Option<String>,
}

impl PaymentView {
    async fn of(ctx: &ApiContext, record: payments::PaymentRecord) -> Result<Self, ApiError> {
        let meta = super::types::AssetMeta::load(ctx, record.payment.asset_id).await?;
        let signed_amount = |p: &StoredPayment| {
            p.payload.get("amount").and_then(|a| a.as_str()).and_then(|a| a.parse::<U256>().ok()).unwrap_or_default()
        };
        let seen = |tx_hash: &[u8], log_index: i64, block: i64| SeenEvent {
            tx_hash: alloy::hex::encode_prefixed(tx_hash),
            log_index,
            block,
            this_payload: true,
        };
        let (status, amount, event, quarantine_reason) = match &record.outcome {
            PaymentOutcome::Applied { tx_hash, log_index, block } => {
                ("applied", signed_amount(&record.payment), Some(seen(tx_hash, *log_index, *block)), None)
            }
            PaymentOutcome::Quarantined { tx_hash, log_index, block, amount, reason_code, reason } => (
                "quarantined",
                *amount,
                Some(seen(tx_hash, *log_index, *block)),
                Some(format!("{reason_code}: {reason}")),
            ),
            PaymentOutcome::Waiting => ("waiting", signed_amount(&record.payment), None, None),
            PaymentOutcome::Expired => ("expired", signed_amount(&record.payment), None, None),
        };
        let p = record.payment;
        Ok(Self {
            transaction_id: p.id,
            kind: p.kind.as_str(),
            asset_id: p.asset_id,
            chain_id: meta.chain_id,
            nonce: p.nonce.to_string(),
            deadline: p.deadline,
            status,
            amount: AssetAmount::new(amount, meta.decimals, &meta.symbol),
            event,
            quarantine_reason,
        })
    }
}

/// Which asset's payments to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PaymentsQuery {
    /// The asset.
    pub asset_id: i32,
}

/// The caller's payments in an asset.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentList {
    /// The caller's last 50 payloads in the asset, newest first.
    pub payments: Vec<PaymentView>,
}

/// The caller's payments in an asset and what became of each: a payment that was not applied shows here with
/// its amount and the reason.
#[utoipa::path(get, path = "/v1/users/payments", tag = "users", security(("bearer" = [])), params(PaymentsQuery),
    responses((status = 200, body = PaymentList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_payments(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    super::extract::Query(q): super::extract::Query<PaymentsQuery>,
) -> Result<Json<PaymentList>, ApiError> {
    let now = asset_now(&ctx, q.asset_id).await? as i64;
    let records = payments::history(&ctx.db, q.asset_id, user.wallet, now, 50).await?;
    let mut views = Vec::with_capacity(records.len());
    for record in records {
        views.push(PaymentView::of(&ctx, record).await?);
    }
    Ok(Json(PaymentList { payments: views }))
}

/// The time of `asset_id`'s chain (the host's for an unknown asset, which has no payloads to judge).
async fn asset_now(ctx: &ApiContext, asset_id: i32) -> Result<u64, ApiError> {
    Ok(match ledger::asset_info(&ctx.db, asset_id).await? {
        Some(asset) => ctx.chain_now(asset.chain_id).await,
        None => ctx.clock.now(),
    })
}
