//! Orders of the sales plan in the API (issue 69, contracts/SALES.md §7): a buyer — a member, or a customer from a
//! member's link — orders products; the API prices the order from the newest catalogue version a catalogue wallet
//! signed, names the seller (the buyer for a member's own purchase; a customer's attributed member once it has one;
//! else the member whose link it came from) and asks the signer for the `Sale` payload, which the signer prices
//! again from that signed version. The answer is the order with the wallet call that pays it (to the Settlement's
//! sales desk) and, while the sale is open, the call that takes it back.
//!
//! Never charged twice: an order is stored under the lock of its buyer's orders in the asset; the same
//! `Idempotency-Key` answers the same order, and while another order of the buyer may still be paid the same lines
//! answer that order (a second tab, a reload) and other lines a 409 `order_outstanding` (pay it or let it expire).

use alloy::primitives::{Address, Bytes, U256};
use alloy::sol_types::SolCall;
use axum::extract::State;
use axum::http::HeaderMap;
use ledger::plan::sales::catalogue::CatalogueError;
use ledger::plan::sales::orders::{self, NewOrder, Order, OrderSlot, OrderState};
use serde::{Deserialize, Serialize};
use signer_client::intent::{
    Addr, Amount as SignerAmount, CatalogueEntry, OrderLine, SaleIntent, SignedCatalogue, Sku, WalletSignature,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::calls::{Payment, WalletCalls};
use crate::http::context::ApiContext;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{AuthUser, Json, Path, Query, parse_address};
use crate::http::types::{AssetAmount, TronCall, WalletTransaction, show_address};
use crate::outflows::signer::signer_error;

/// The orders' routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(create_order, list_orders)).routes(routes!(get_order))
}

/// The longest `Idempotency-Key` read.
pub const IDEMPOTENCY_KEY_MAX_LEN: usize = 128;
/// Most orders one list answers.
const LIST_LIMIT: i64 = 50;

/// One line of an order.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineView {
    /// The product's SKU (1 to 32 letters, digits, '.', '_' or '-').
    #[serde(deserialize_with = "sku")]
    pub sku: String,
    /// How many, 1 to 10,000.
    pub quantity: u32,
}

fn sku<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    // Bounded before it is kept: a SKU is at most 32 bytes.
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    if text.len() > abi::catalogue::MAX_SKU || !abi::catalogue::is_sku(&text) {
        return Err(serde::de::Error::custom("sku: 1 to 32 letters, digits, '.', '_' or '-'"));
    }
    Ok(text.into_owned())
}

/// An order asked for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// A sales-plan asset.
    pub asset_id: i32,
    /// The member whose link the buyer came from (0x hex or TRON base58). Ignored for a member's own purchase and for
    /// a customer already attributed to a member (the attributed member is named); required otherwise.
    #[serde(default, deserialize_with = "crate::http::bounded::optional_address")]
    pub seller: Option<String>,
    /// The products and quantities, 1 to 50 lines, each SKU once.
    pub lines: Vec<OrderLineView>,
}

/// A confirmed chain event of an order's sale.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SaleEventView {
    /// Its transaction, 0x hex.
    pub tx_hash: String,
    /// Its block.
    pub block: i64,
    /// Its log index.
    pub log_index: i64,
}

/// An order, what it costs, the calls that pay it (and take it back), and where it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    /// The order's id.
    pub id: i64,
    /// The asset paid in.
    pub asset_id: i32,
    /// The asset's chain.
    pub chain_id: u64,
    /// `waiting` (signed, not paid yet; its payload valid until `deadline`), `expired` (its deadline passed
    /// unpaid: nothing was charged), `open` (paid; the buyer may take it back until `refundable_until`), `final`
    /// (paid, its window passed), `refunded` (taken back: paid back in full), `quarantined` (paid, held apart by the
    /// ledger — `quarantine_reason`; the buyer may still take it back inside its window).
    pub state: &'static str,
    /// Who pays, in the chain's form.
    pub buyer: String,
    /// The member named as the seller, in the chain's form (the buyer for a member's own purchase).
    pub seller: String,
    /// A customer's purchase (the seller earns a retail commission), else the member's own.
    pub customer_sale: bool,
    /// The products and quantities.
    pub lines: Vec<OrderLineView>,
    /// The signed catalogue version it was priced from.
    pub catalogue_version: u32,
    /// What the buyer pays.
    pub amount: AssetAmount,
    /// The seller's retail commission (maturing until the window passes).
    pub retail: AssetAmount,
    /// Its points.
    pub pv: u64,
    /// The order's reference in the payload, 0x hex (keccak256(abi.encode(asset_id, id))).
    pub order_ref: String,
    /// The sale's id: the payload's nonce (decimal string).
    pub sale_id: String,
    /// The refund window the payload carries, seconds: the buyer may take the sale back until its block's time plus
    /// this.
    pub refund_window: u64,
    /// Until when (unix seconds, the chain's clock) the buyer may take it back, once paid.
    pub refundable_until: Option<u64>,
    /// Unix seconds (the chain's clock) after which the payload can no longer be paid.
    pub deadline: i64,
    /// The `Sale` struct as signed (addresses 0x on every chain; integers decimal strings).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The signer's signature, 65 bytes 0x hex.
    pub signature: String,
    /// The Settlement's sales desk, which takes the payment, in the chain's form.
    pub sales_desk: String,
    /// What an EIP-1193 wallet sends to pay it (`sell(sale, signature)` to the sales desk); null once paid or expired.
    pub transaction: Option<WalletTransaction>,
    /// For a token: `approve(sales desk, amount)`, sent before `transaction` unless the allowance covers it.
    pub approve: Option<WalletTransaction>,
    /// On a TRON chain: the payment as TronLink sends it.
    pub tron: Option<TronCall>,
    /// While the sale may be taken back: `refund(id, token, amount, retail, refundableUntil)` to the sales desk, sent
    /// from the buyer's wallet (no one's consent needed).
    pub take_back: Option<WalletTransaction>,
    /// On a TRON chain: the take-back as TronLink sends it.
    pub tron_take_back: Option<TronCall>,
    /// The sale's confirmed event, once paid.
    pub event: Option<SaleEventView>,
    /// Why the ledger holds a paid sale apart (`code: words`).
    pub quarantine_reason: Option<String>,
    /// True when this order was asked for before (the same key, or the same lines while it may still be paid): paying
    /// it after a reload cannot charge twice, the contract accepting its id once.
    pub reissued: bool,
}

/// The buyer's orders.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrdersView {
    /// Newest first, at most 50.
    pub orders: Vec<OrderView>,
}

/// Which orders to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    /// One asset's only.
    pub asset_id: Option<i32>,
}

/// The `Idempotency-Key` header: 1 to 128 characters of letters, digits, `-`, `_`, `.`, `:`; 400 otherwise.
fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers.get("idempotency-key").ok_or_else(|| {
        ApiError::bad_request(
            "idempotency_key_required",
            "an order needs an Idempotency-Key header (a fresh random value per order, sent again on a retry)",
        )
    })?;
    let bytes = value.as_bytes();
    if bytes.is_empty()
        || bytes.len() > IDEMPOTENCY_KEY_MAX_LEN
        || !bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            format!("Idempotency-Key: 1 to {IDEMPOTENCY_KEY_MAX_LEN} letters, digits, '-', '_', '.' or ':'"),
        ));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn unpriced(e: abi::catalogue::Unpriced) -> ApiError {
    use abi::catalogue::Unpriced;
    let code = match e {
        Unpriced::Unknown(..) => "unknown_product",
        Unpriced::Inactive(..) => "product_unavailable",
        Unpriced::Lines(_) | Unpriced::Quantity(_) | Unpriced::Repeated(..) | Unpriced::TooLarge => "invalid_order",
    };
    ApiError::unprocessable(code, e.to_string())
}

/// The Settlement's sales desk on `chain_id` (an immutable of the Settlement, read from the chain).
async fn sales_desk(ctx: &ApiContext, chain_id: u64) -> Result<(Address, Address), ApiError> {
    let chain = ctx.chains.chain(chain_id)?;
    let contract = chain.settlement;
    let provider = &chain.access()?.provider;
    let read = abi::Settlement::new(contract, provider);
    let desk = crate::chains::read_view(chain_id, contract, "salesDesk", read.salesDesk().call()).await?;
    Ok((contract, desk))
}

/// Orders products (the signed-in wallet pays): priced from the newest signed catalogue version, the seller named,
/// the `Sale` payload signed by the signer, which prices it again. Needs an `Idempotency-Key` header (400 without
/// one): the same key answers the same order (`reissued`), as do the same lines while another order of the buyer may
/// still be paid; other lines then are a 409 `order_outstanding` naming it. 404 `no_catalogue` for an asset on
/// another plan; 409 `catalogue_unsigned` before a catalogue wallet signed a version (or after the plan's retail_bps
/// or window changed since); 422 `unknown_product`, `product_unavailable`, `invalid_order`, `seller_required`,
/// `invalid_seller` (not a member of the asset, or the buyer); 409 `exit_open` once the members' exit opened.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", security(("bearer" = [])), request_body = OrderRequest,
    params(("Idempotency-Key" = String, Header, description = "A fresh random value per order, sent again on a retry")),
    responses((status = 200, body = OrderView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create_order(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    headers: HeaderMap,
    Json(req): Json<OrderRequest>,
) -> Result<Json<OrderView>, ApiError> {
    let key = idempotency_key(&headers)?;
    crate::http::rate_limit::signing_per_wallet(
        &ctx,
        "order",
        user.wallet,
        ctx.settings.rate_limits.signing_per_wallet,
    )
    .await?;
    let lines: Vec<(String, u32)> = req.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
    if lines.is_empty() || lines.len() > abi::catalogue::MAX_ORDER_LINES {
        return Err(unpriced(abi::catalogue::Unpriced::Lines(lines.len())));
    }
    let asset_id = req.asset_id;
    let info = ledger::asset_info(&ctx.db, asset_id).await?.ok_or(ApiError::NotFound)?;
    let signed = orders::newest_signed(&ctx.db, asset_id).await?;
    // An asset on another plan has no catalogue (404 no_catalogue).
    let current = match orders::current(&ctx.db, asset_id).await {
        Ok(current) => Some(current),
        Err(CatalogueError::Empty(_)) => None,
        Err(e) => return Err(e.into()),
    };
    crate::http::exits::refuse_if_open(&ctx, asset_id).await?;
    let signed = signed
        .filter(|s| {
            current
                .as_ref()
                .is_none_or(|c| (c.retail_bps, c.refund_window) == (s.snapshot.retail_bps, s.snapshot.refund_window))
        })
        .ok_or_else(|| ApiError::Conflict {
            code: "catalogue_unsigned",
            message:
                "no catalogue version is signed for the plan in force: a catalogue wallet must sign the catalogue \
                      before anything can be sold"
                    .into(),
        })?;
    let typed = signed.snapshot.typed();
    let priced = typed.price(&lines).map_err(unpriced)?;
    let parties = orders::parties(&ctx.db, asset_id, user.wallet).await?;
    let (seller, seller_registered) = if parties.buyer_registered {
        (user.wallet, true)
    } else if let Some(attributed) = parties.attributed {
        (attributed, true)
    } else {
        let text = req.seller.as_deref().ok_or_else(|| {
            ApiError::unprocessable("seller_required", "a customer's first order names the member whose link it is")
        })?;
        let seller = parse_address(text, "seller")?;
        if seller == user.wallet || !orders::is_registered(&ctx.db, asset_id, seller).await? {
            return Err(ApiError::unprocessable(
                "invalid_seller",
                "the seller must be a member of this asset, and not the buyer",
            ));
        }
        (seller, true)
    };
    let retail = typed.retail(priced.amount, parties.buyer_registered, seller_registered);
    let (contract, desk) = sales_desk(&ctx, info.chain_id).await?;
    let now = ctx.chain_now(info.chain_id).await as i64;
    let (order, reissued) = match orders::open_order(&ctx.db, asset_id, user.wallet, &key, now).await? {
        OrderSlot::Same(order) => (order, true),
        OrderSlot::Outstanding(order) if order.lines == lines => (order, true),
        OrderSlot::Outstanding(order) => {
            return Err(ApiError::ConflictWith {
                code: "order_outstanding",
                message: format!(
                    "order {} of this wallet can still be paid until {} (chain time): pay it or wait until then \
                     before ordering something else",
                    order.id, order.deadline
                ),
                details: serde_json::json!({ "order_id": order.id, "deadline": order.deadline }),
            });
        }
        OrderSlot::Free(slot) => {
            let snapshot = &signed.snapshot;
            let intent = SaleIntent {
                chain_id: info.chain_id,
                contract: Addr(contract),
                buyer: Addr(user.wallet),
                seller: Addr(seller),
                token: Addr(info.token),
                amount: SignerAmount(priced.amount),
                retail: SignerAmount(retail),
                pv: SignerAmount(priced.pv),
                order_ref: orders::order_ref(asset_id, slot.id),
                refund_window: snapshot.refund_window,
                lines: lines
                    .iter()
                    .map(|(sku, quantity)| OrderLine { sku: Sku(sku.clone()), quantity: *quantity })
                    .collect(),
                catalogue: SignedCatalogue {
                    version: snapshot.version,
                    retail_bps: snapshot.retail_bps,
                    refund_window: snapshot.refund_window,
                    products: snapshot
                        .products
                        .iter()
                        .map(|p| CatalogueEntry {
                            sku: Sku(p.sku.clone()),
                            price: SignerAmount(U256::from(p.price)),
                            pv: p.pv,
                            active: p.active,
                        })
                        .collect(),
                    wallet: Addr(signed.wallet),
                    signature: WalletSignature(
                        alloy::primitives::Signature::try_from(signed.signature.as_slice())
                            .map_err(|e| ApiError::Internal(eyre::eyre!("a stored catalogue signature: {e}")))?,
                    ),
                },
                nonce: None,
                deadline: None,
            };
            let answer = ctx.signer_client()?.sign_sale(&intent).await.map_err(signer_error)?;
            // The digest the contract will recover, from the intent as asked with the signer's nonce and deadline
            // (the signer client's own payload): checked before the order is stored, as a registration's is.
            let target = signer_client::intent::Target { chain_id: info.chain_id, contract };
            let asked = signer_client::intent::Intent::try_from(intent)
                .map_err(|e| ApiError::Internal(eyre::eyre!("the sale asked for is malformed: {e}")))?;
            let digest = asked.payload(answer.nonce.0, answer.deadline).digest(&target.domain());
            if digest != answer.digest || answer.contract.0 != contract || answer.chain_id != info.chain_id {
                return Err(ApiError::Internal(eyre::eyre!(
                    "signer answer does not match the sale asked for (digest {} vs {digest})",
                    answer.digest
                )));
            }
            let new = NewOrder {
                seller,
                lines: lines.clone(),
                catalogue_version: snapshot.version,
                amount: u128::try_from(priced.amount).map_err(|_| unpriced(abi::catalogue::Unpriced::TooLarge))?,
                retail: u128::try_from(retail).unwrap_or(u128::MAX),
                pv: u64::try_from(priced.pv).unwrap_or(u64::MAX),
                sale_id: answer.nonce.0,
                refund_window: snapshot.refund_window,
                deadline: i64::try_from(answer.deadline).map_err(|_| eyre::eyre!("deadline out of range"))?,
                signature: answer.signature.to_vec(),
            };
            (slot.store(new).await?, false)
        }
    };
    Ok(Json(view(&ctx, &info, desk, order, now, reissued).await?))
}

/// The `Sale` struct an order's payload is.
fn sale_struct(order: &Order, token: Address) -> abi::SettlementSales::Sale {
    abi::SettlementSales::Sale {
        buyer: order.buyer,
        seller: order.seller,
        token,
        amount: U256::from(order.amount),
        retail: U256::from(order.retail),
        pv: U256::from(order.pv),
        orderRef: order.order_ref,
        refundWindow: U256::from(order.refund_window),
        nonce: order.sale_id,
        deadline: U256::from(order.deadline.max(0) as u64),
    }
}

async fn view(
    ctx: &ApiContext,
    info: &ledger::AssetInfo,
    desk: Address,
    order: Order,
    now: i64,
    reissued: bool,
) -> Result<OrderView, ApiError> {
    let state = orders::state(&ctx.db, &order, now).await?;
    let chain_id = info.chain_id;
    let sale = sale_struct(&order, info.token);
    let calls = WalletCalls::new(&ctx.chains, chain_id, desk);
    let (state_name, refundable_until, event, quarantine_reason, may_take_back) = match &state {
        OrderState::Waiting => ("waiting", None, None, None, false),
        OrderState::Expired => ("expired", None, None, None, false),
        OrderState::Open { event, refundable_until } => {
            ("open", Some(*refundable_until), Some(event.clone()), None, (now as u64) < *refundable_until)
        }
        OrderState::Final { event, refundable_until } => {
            ("final", Some(*refundable_until), Some(event.clone()), None, false)
        }
        OrderState::Refunded { event, refundable_until } => {
            ("refunded", Some(*refundable_until), Some(event.clone()), None, false)
        }
        OrderState::Quarantined { event, reason, refundable_until, taken_back } => (
            if *taken_back { "refunded" } else { "quarantined" },
            Some(*refundable_until),
            Some(event.clone()),
            Some(reason.clone()),
            !taken_back && (now as u64) < *refundable_until,
        ),
    };
    let (transaction, approve, tron) = if state_name == "waiting" {
        let calldata =
            abi::SettlementSales::sellCall { s: sale.clone(), signature: Bytes::from(order.signature.clone()) }
                .abi_encode();
        let paying = calls.payment(Payment::Sale, calldata, info.token, U256::from(order.amount));
        (Some(paying.transaction), paying.approve, paying.tron)
    } else {
        (None, None, None)
    };
    let (take_back, tron_take_back) = match refundable_until {
        Some(until) if may_take_back => {
            let (call, tron) = calls.take_back(
                order.sale_id,
                info.token,
                U256::from(order.amount),
                U256::from(order.retail),
                U256::from(until),
            );
            (Some(call), tron)
        }
        _ => (None, None),
    };
    let amount = |a: u128| AssetAmount::new(a, info.decimals, &info.symbol);
    Ok(OrderView {
        id: order.id,
        asset_id: order.asset_id,
        chain_id,
        state: state_name,
        buyer: show_address(chain_id, order.buyer.as_slice()),
        seller: show_address(chain_id, order.seller.as_slice()),
        customer_sale: order.retail > 0 || order.buyer != order.seller,
        lines: order
            .lines
            .iter()
            .map(|(sku, quantity)| OrderLineView { sku: sku.clone(), quantity: *quantity })
            .collect(),
        catalogue_version: order.catalogue_version,
        amount: amount(order.amount),
        retail: amount(order.retail),
        pv: order.pv,
        order_ref: order.order_ref.to_string(),
        sale_id: order.sale_id.to_string(),
        refund_window: order.refund_window,
        refundable_until,
        deadline: order.deadline,
        payload: serde_json::json!({
            "buyer": sale.buyer.to_checksum(None), "seller": sale.seller.to_checksum(None),
            "token": sale.token.to_checksum(None), "amount": sale.amount.to_string(), "retail": sale.retail.to_string(),
            "pv": sale.pv.to_string(), "orderRef": sale.orderRef.to_string(),
            "refundWindow": sale.refundWindow.to_string(), "nonce": sale.nonce.to_string(),
            "deadline": sale.deadline.to_string(),
        }),
        signature: alloy::hex::encode_prefixed(&order.signature),
        sales_desk: show_address(chain_id, desk.as_slice()),
        transaction,
        approve,
        tron,
        take_back,
        tron_take_back,
        event: event.map(|e| SaleEventView { tx_hash: e.tx_hash.to_string(), block: e.block, log_index: e.log_index }),
        quarantine_reason,
        reissued,
    })
}

/// One of the signed-in wallet's orders, where it stands now (404 for another wallet's).
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = OrderView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn get_order(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<OrderView>, ApiError> {
    let order = orders::order_of(&ctx.db, user.wallet, id).await?.ok_or(ApiError::NotFound)?;
    let info = ledger::asset_info(&ctx.db, order.asset_id).await?.ok_or(ApiError::NotFound)?;
    let (_, desk) = sales_desk(&ctx, info.chain_id).await?;
    let now = ctx.chain_now(info.chain_id).await as i64;
    Ok(Json(view(&ctx, &info, desk, order, now, false).await?))
}

/// The signed-in wallet's orders, newest first (at most 50), in one asset or all.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", security(("bearer" = [])), params(OrdersQuery),
    responses((status = 200, body = OrdersView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_orders(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Query(query): Query<OrdersQuery>,
) -> Result<Json<OrdersView>, ApiError> {
    let found = orders::orders_of(&ctx.db, user.wallet, query.asset_id, LIST_LIMIT).await?;
    let mut views = Vec::with_capacity(found.len());
    let mut desks = std::collections::HashMap::new();
    for order in found {
        let info = ledger::asset_info(&ctx.db, order.asset_id).await?.ok_or(ApiError::NotFound)?;
        let desk = match desks.get(&info.chain_id) {
            Some(desk) => *desk,
            None => {
                let (_, desk) = sales_desk(&ctx, info.chain_id).await?;
                desks.insert(info.chain_id, desk);
                desk
            }
        };
        let now = ctx.chain_now(info.chain_id).await as i64;
        views.push(view(&ctx, &info, desk, order, now, false).await?);
    }
    Ok(Json(OrdersView { orders: views }))
}
