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

use super::error::ErrorBody;
use super::extract::parse_address;
use super::signing::{signer, signer_error};
use super::types::{AssetAmount, DEFAULT_FEE_LIMIT_SUN, TronApprove, TronCall, WalletTransaction, tron_call};
use super::{ApiContext, ApiError, AuthUser, Json};
use ledger::eligibility::{self, Ineligible, PaymentTerms};
use ledger::money::Money;

/// This resource's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(register)).routes(routes!(confirm)).routes(routes!(retopup))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub asset_id: i32,
    /// Sponsor's wallet: 0x hex or TRON base58.
    pub sponsor: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetopupRequest {
    pub asset_id: i32,
}

/// A signed authorisation and the transaction that uses it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedPayment {
    /// Row id in the backend's `transactions`.
    pub transaction_id: i64,
    /// `register` or `retopup`.
    pub kind: &'static str,
    pub asset_id: i32,
    pub chain_id: u64,
    /// Settlement contract in the chain's form: 0x EIP-55, `T…` on a TRON chain.
    pub contract: String,
    /// The EIP-712 struct as signed (`Registration` or `Retopup`); integers as decimal strings.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// 65 bytes r ‖ s ‖ v, 0x hex.
    pub signature: String,
    pub nonce: String,
    /// Unix seconds after which the contract refuses the payload.
    pub deadline: u64,
    /// The EIP-712 digest the signature is over, 0x hex.
    pub digest: String,
    pub amount: AssetAmount,
    /// What an EIP-1193 wallet sends (`eth_sendTransaction`, 0x addresses). On a TRON chain a wallet sends `tron`.
    pub transaction: WalletTransaction,
    /// On a TRON chain: the same call as a TronWeb client (TronLink) sends it — `triggerSmartContract(contract,
    /// function_selector, {feeLimit, callValue}, …)` with the raw `parameter` — and, for a token, the approve first.
    pub tron: Option<TronCall>,
}

/// A refusal of the ledger's eligibility rules as the API answers it (409 for an existing registration, else 422).
fn refused(refusal: Ineligible) -> ApiError {
    match refusal {
        Ineligible::AlreadyRegistered => ApiError::Conflict { code: refusal.code(), message: refusal.to_string() },
        other => ApiError::unprocessable(other.code(), other.to_string()),
    }
}

/// Payload for registering the caller under `sponsor` (checks: asset, sponsor an active user
/// of it, not self, caller not yet registered, caller frozen in no asset).
#[utoipa::path(post, path = "/v1/users/register", tag = "users", security(("bearer" = [])), request_body = RegisterRequest,
    responses((status = 200, body = SignedPayment), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn register(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<RegisterRequest>,
) -> Result<Json<SignedPayment>, ApiError> {
    let limits = &ctx.settings.rate_limits;
    ctx.rate_limiter
        .check("register-wallet", &format!("{:#x}", user.wallet), limits.register_per_wallet, limits.window_secs)
        .await?;
    let sponsor = parse_address(&req.sponsor, "sponsor")?;
    let asset = eligibility::registration(&ctx.db, req.asset_id, user.wallet, sponsor).await?.map_err(refused)?;
    let contract = ctx.chains.settlement(asset.chain_id)?;
    let amount = U256::from(asset.params.registration_fee);
    let intent = RegisterIntent {
        chain_id: asset.chain_id,
        contract: Addr(contract),
        user: Addr(user.wallet),
        sponsor: Addr(sponsor),
        token: Addr(asset.token),
        amount: SignerAmount(amount),
        nonce: None,
        deadline: None,
    };
    let signed = signer(&ctx)?.sign_register(&intent).await.map_err(signer_error)?;
    let payload = abi::Registration {
        user: user.wallet,
        sponsor,
        token: asset.token,
        amount,
        nonce: signed.nonce.0,
        deadline: U256::from(signed.deadline),
    };
    let digest = abi::SettlementDomain::new(asset.chain_id, contract).digest(&payload);
    let call = abi::Settlement::registerCall { r: payload, signature: signed.signature.clone() };
    finish(&ctx, "register", req.asset_id, &asset, contract, user.wallet, amount, signed, digest, call.abi_encode())
        .await
}

/// Payload for a retopup by the caller (checks: registered in the asset, not frozen).
#[utoipa::path(post, path = "/v1/users/retopup", tag = "users", security(("bearer" = [])), request_body = RetopupRequest,
    responses((status = 200, body = SignedPayment), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn retopup(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Json(req): Json<RetopupRequest>,
) -> Result<Json<SignedPayment>, ApiError> {
    let asset = eligibility::retopup(&ctx.db, req.asset_id, user.wallet).await?.map_err(refused)?;
    let contract = ctx.chains.settlement(asset.chain_id)?;
    let amount = U256::from(asset.params.retopup_fee);
    let intent = RetopupIntent {
        chain_id: asset.chain_id,
        contract: Addr(contract),
        user: Addr(user.wallet),
        token: Addr(asset.token),
        amount: SignerAmount(amount),
        nonce: None,
        deadline: None,
    };
    let signed = signer(&ctx)?.sign_retopup(&intent).await.map_err(signer_error)?;
    let payload = abi::Retopup {
        user: user.wallet,
        token: asset.token,
        amount,
        nonce: signed.nonce.0,
        deadline: U256::from(signed.deadline),
    };
    let digest = abi::SettlementDomain::new(asset.chain_id, contract).digest(&payload);
    let call = abi::Settlement::retopupCall { r: payload, signature: signed.signature.clone() };
    finish(&ctx, "retopup", req.asset_id, &asset, contract, user.wallet, amount, signed, digest, call.abi_encode())
        .await
}

/// Checks the signer's answer against the payload built here, stores it, builds the answer.
#[allow(clippy::too_many_arguments)]
async fn finish(
    ctx: &ApiContext,
    kind: &'static str,
    asset_id: i32,
    asset: &PaymentTerms,
    contract: Address,
    wallet: Address,
    amount: U256,
    signed: signer_client::api::SignResponse,
    digest: alloy::primitives::B256,
    calldata: Vec<u8>,
) -> Result<Json<SignedPayment>, ApiError> {
    if signed.digest != digest || signed.chain_id != asset.chain_id || signed.contract.0 != contract {
        return Err(ApiError::Internal(eyre::eyre!(
            "signer answer does not match the payload asked for (digest {} vs {digest})",
            signed.digest
        )));
    }
    let nonce = signed.nonce.0.to_string();
    let deadline = i64::try_from(signed.deadline).map_err(|_| eyre::eyre!("deadline out of range"))?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO transactions (asset_id, kind, wallet, nonce, payload, signature, deadline)
         VALUES ($1, $2, $3, $4::numeric, $5, $6, $7) RETURNING id",
    )
    .bind(asset_id)
    .bind(kind)
    .bind(wallet.as_slice())
    .bind(&nonce)
    .bind(&signed.payload)
    .bind(signed.signature.to_vec())
    .bind(deadline)
    .fetch_one(&ctx.db)
    .await?;
    let native = asset.token == Address::ZERO;
    let tron = abi::tron::is_tron_chain(asset.chain_id).then(|| {
        let fee_limit = ctx.chains.get(asset.chain_id).map_or(DEFAULT_FEE_LIMIT_SUN, |c| c.fee_limit_sun);
        let signature = if kind == "register" {
            "register((address,address,address,uint256,uint256,uint256),bytes)"
        } else {
            "retopup((address,address,uint256,uint256,uint256),bytes)"
        };
        let value = if native { amount } else { U256::ZERO };
        let mut call = tron_call(contract, signature, &calldata, value, fee_limit);
        if !native {
            let approve = abi::TestUSDT::approveCall { spender: contract, value: amount }.abi_encode();
            call.approve = Some(TronApprove {
                contract: abi::tron::to_base58(asset.token),
                function_selector: "approve(address,uint256)".into(),
                parameter: alloy::hex::encode(&approve[4..]),
                fee_limit,
            });
        }
        call
    });
    Ok(Json(SignedPayment {
        transaction_id: id,
        kind,
        asset_id,
        chain_id: asset.chain_id,
        contract: abi::tron::show(asset.chain_id, contract),
        payload: signed.payload,
        signature: alloy::hex::encode_prefixed(&signed.signature),
        nonce,
        deadline: signed.deadline,
        digest: format!("{digest:#x}"),
        amount: AssetAmount::new(amount, asset.decimals, &asset.symbol),
        transaction: WalletTransaction {
            to: contract.to_checksum(None),
            value: if native { amount.to_string() } else { "0".into() },
            data: alloy::hex::encode_prefixed(Bytes::from(calldata)),
        },
        tron,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The `nonce` of a registration payload this wallet was given (decimal string).
    pub nonce: String,
}

/// Where a registration payload stands, from the ledger tables (never from the client).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationStatus {
    pub transaction_id: i64,
    pub asset_id: i32,
    pub nonce: String,
    pub deadline: i64,
    /// `applied` (the wallet is a user of the asset), `quarantined` (the chain event of this payload was
    /// refused by the plan), `waiting` (no confirmed event yet, deadline not passed) or `expired` (deadline
    /// passed and no confirmed event; a transaction mined just before the deadline still shows `applied`
    /// once its block is confirmed).
    pub status: &'static str,
    /// The wallet's standing once applied.
    pub user: Option<RegisteredUser>,
    /// The confirmed chain event that registered the wallet (or was quarantined).
    pub event: Option<SeenEvent>,
    /// Why the event was quarantined.
    pub quarantine_reason: Option<String>,
    /// The pool node the registration fee bought for the sponsor (every `pool_entry_every`-th referral).
    pub sponsor_pool_entry: Option<PoolEntry>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisteredUser {
    pub user_no: i32,
    /// `active` or `frozen`.
    pub status: &'static str,
    /// 0x EIP-55.
    pub sponsor: Option<String>,
    pub registered_block: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeenEvent {
    pub tx_hash: String,
    pub log_index: i64,
    pub block: i64,
    /// False when the wallet was registered by another payload of its own (another nonce).
    pub this_payload: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoolEntry {
    pub level: i32,
    pub q: i64,
}

type StoredPayload = (i64, i32, Money, Option<i64>, i64);
type UserRow = (i32, bool, Option<Vec<u8>>, Option<i64>);
type EventRow = (i64, Vec<u8>, i64, i64, bool);

/// Status of a registration payload the caller was given (looked up by its nonce): applied by the listener,
/// quarantined, still waiting, or expired.
#[utoipa::path(post, path = "/v1/users/register/confirm", tag = "users", security(("bearer" = [])),
    request_body = ConfirmRequest,
    responses((status = 200, body = RegistrationStatus), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
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
    let nonce = nonce.to_string();
    // Only the caller's own payloads: another wallet's nonce is "not found".
    let stored: Option<StoredPayload> = sqlx::query_as(
        "SELECT t.id, t.asset_id, t.nonce, t.deadline, a.chain_id
         FROM transactions t JOIN assets a ON a.id = t.asset_id
         WHERE t.wallet = $1 AND t.kind = 'register' AND t.nonce = $2::numeric
         ORDER BY t.id DESC LIMIT 1",
    )
    .bind(user.wallet.as_slice())
    .bind(&nonce)
    .fetch_optional(&ctx.db)
    .await?;
    let (transaction_id, asset_id, nonce, deadline, chain_id) = stored.ok_or(ApiError::NotFound)?;
    let deadline = deadline.unwrap_or(0);
    let mut answer = RegistrationStatus {
        transaction_id,
        asset_id,
        nonce: nonce.to_string(),
        deadline,
        status: "waiting",
        user: None,
        event: None,
        quarantine_reason: None,
        sponsor_pool_entry: None,
    };
    let registered: Option<UserRow> = sqlx::query_as(
        "SELECT u.user_no, u.frozen, s.address, u.registered_block
         FROM users u LEFT JOIN users s ON s.asset_id = u.asset_id AND s.user_no = u.sponsor_no
         WHERE u.asset_id = $1 AND u.address = $2",
    )
    .bind(asset_id)
    .bind(user.wallet.as_slice())
    .fetch_optional(&ctx.db)
    .await?;
    if let Some((user_no, frozen, sponsor, registered_block)) = registered {
        answer.status = "applied";
        answer.user = Some(RegisteredUser {
            user_no,
            status: if frozen { "frozen" } else { "active" },
            sponsor: sponsor.map(|s| crate::http::types::show_address(chain_id as u64, &s)),
            registered_block,
        });
        let event: Option<EventRow> = sqlx::query_as(
            "SELECT e.event_seq, e.tx_hash, e.log_index, e.block_number,
                    COALESCE(uint_text_to_numeric(c.payload->>'nonce') = $3::numeric, false)
             FROM ledger_events e
             LEFT JOIN chain_events c ON c.chain_id = e.chain_id AND c.tx_hash = e.tx_hash AND c.log_index = e.log_index
             WHERE e.asset_id = $1 AND e.user_no = $2 AND e.kind = 'registration'",
        )
        .bind(asset_id)
        .bind(user_no)
        .bind(&answer.nonce)
        .fetch_optional(&ctx.db)
        .await?;
        if let Some((event_seq, tx_hash, log_index, block, this_payload)) = event {
            answer.event =
                Some(SeenEvent { tx_hash: alloy::hex::encode_prefixed(&tx_hash), log_index, block, this_payload });
            let entry: Option<(i32, i64)> = sqlx::query_as(
                "SELECT level, q FROM placements WHERE asset_id = $1 AND event_seq = $2 AND cause = 'pool_entry'",
            )
            .bind(asset_id)
            .bind(event_seq)
            .fetch_optional(&ctx.db)
            .await?;
            answer.sponsor_pool_entry = entry.map(|(level, q)| PoolEntry { level, q });
        }
        return Ok(Json(answer));
    }
    let quarantined: Option<(Vec<u8>, i64, i64, String, String)> = sqlx::query_as(
        "SELECT q.tx_hash, q.log_index, c.block_number, q.reason_code, q.reason
         FROM quarantine q JOIN chain_events c USING (chain_id, tx_hash, log_index)
         WHERE q.chain_id = $1 AND q.payload->>'event' = 'Registered' AND lower(q.payload->>'user') = $2
           AND uint_text_to_numeric(q.payload->>'nonce') = $3::numeric
         ORDER BY c.block_number DESC, q.log_index DESC LIMIT 1",
    )
    .bind(chain_id)
    .bind(format!("{:#x}", user.wallet))
    .bind(&answer.nonce)
    .fetch_optional(&ctx.db)
    .await?;
    if let Some((tx_hash, log_index, block, code, reason)) = quarantined {
        answer.status = "quarantined";
        answer.event =
            Some(SeenEvent { tx_hash: alloy::hex::encode_prefixed(&tx_hash), log_index, block, this_payload: true });
        answer.quarantine_reason = Some(format!("{code}: {reason}"));
        return Ok(Json(answer));
    }
    let now = chrono::Utc::now().timestamp();
    if now > deadline {
        answer.status = "expired";
    }
    Ok(Json(answer))
}
