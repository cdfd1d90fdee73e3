//! The sales plan's catalogue in the API (issue 69): the products a sales-plan asset offers, for anyone (the shop);
//! every product with the catalogue's history, for staff; a product set by the `catalogue` role, each change a new
//! catalogue version, audited (`ledger::plan::sales::catalogue`).

use axum::extract::State;
use ledger::plan::sales::catalogue::{self, CatalogueError, MAX_SKU, Product, ProductChange};
use ledger::plan::sales::orders;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::context::ApiContext;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{AdminUser, Json, Path, Staff, need};
use crate::http::types::{AssetAmount, parse_amount};

/// The catalogue's routes, each with its OpenAPI entry.
pub fn routes() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new()
        .routes(routes!(public_catalogue))
        .routes(routes!(admin_catalogue))
        .routes(routes!(put_product))
        .routes(routes!(signing))
        .routes(routes!(sign_version))
}

/// Versions of the catalogue's history the staff view lists.
const HISTORY: i64 = 50;

/// A product offered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    /// Its stock-keeping unit.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Its price.
    pub price: AssetAmount,
    /// Its points (PV), whole.
    pub pv: u64,
    /// Offered (always true in the public catalogue).
    pub active: bool,
    /// The catalogue version that last changed it.
    pub version: u32,
}

/// A sales-plan asset's catalogue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CatalogueView {
    /// The asset.
    pub asset_id: i32,
    /// Its symbol.
    pub symbol: String,
    /// Its decimals.
    pub decimals: i16,
    /// The catalogue's current version (0: no product yet): an order is priced against one version.
    pub version: u32,
    /// Its products by SKU: only the active ones publicly, every one for staff.
    pub products: Vec<ProductView>,
}

/// One change of the catalogue: the version it made.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CatalogueVersionView {
    /// The version.
    pub version: u32,
    /// The product it changed.
    pub sku: String,
    /// The staff wallet that made it.
    pub actor: String,
    /// Why, in their words.
    pub reason: String,
    /// When (unix seconds).
    pub at: i64,
}

/// The catalogue for staff: every product, inactive ones included, and the newest changes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminCatalogueView {
    /// The catalogue.
    #[serde(flatten)]
    pub catalogue: CatalogueView,
    /// Its newest versions, newest first (at most 50).
    pub history: Vec<CatalogueVersionView>,
}

/// What a product is set to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    /// Its name as buyers read it: 1 to 120 characters, trimmed, no control characters.
    #[serde(deserialize_with = "crate::http::bounded::product_name")]
    pub name: String,
    /// Its price in the asset's base units, a decimal string: 1 to 2^112 − 1.
    #[serde(deserialize_with = "crate::http::bounded::amount")]
    pub price: String,
    /// Its points, 0 to 1,000,000,000.
    pub pv: u64,
    /// Offered: only active products are priced into orders.
    pub active: bool,
    /// Why, in the staff member's words (1 to 500 characters): recorded with the version and in the audit log.
    #[serde(deserialize_with = "crate::http::bounded::reason")]
    pub reason: String,
}

impl From<CatalogueError> for ApiError {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::Db(e) => e.into(),
            CatalogueError::UnknownAsset(_) => ApiError::NotFound,
            CatalogueError::NotSales(id) => ApiError::Missing {
                code: "no_catalogue",
                message: format!("asset {id} does not run the sales plan: it has no catalogue"),
            },
            CatalogueError::Invalid { field, message } => {
                ApiError::unprocessable("invalid_product", format!("{field}: {message}"))
            }
            CatalogueError::NoChange(sku) => ApiError::Conflict {
                code: "no_change",
                message: format!("product {sku} is already exactly that: nothing changed"),
            },
            e @ CatalogueError::Full => ApiError::Conflict { code: "catalogue_full", message: e.to_string() },
            e @ CatalogueError::Empty(_) => ApiError::Conflict { code: "catalogue_empty", message: e.to_string() },
            e @ CatalogueError::VersionMoved { .. } => {
                ApiError::Conflict { code: "version_moved", message: e.to_string() }
            }
        }
    }
}

async fn view(ctx: &ApiContext, asset_id: i32, active_only: bool) -> Result<CatalogueView, ApiError> {
    let (version, products) = catalogue::products(&ctx.db, asset_id, active_only).await?;
    let info = ledger::asset_info(&ctx.db, asset_id).await?.ok_or(ApiError::NotFound)?;
    Ok(CatalogueView {
        asset_id,
        symbol: info.symbol.clone(),
        decimals: info.decimals,
        version,
        products: products.into_iter().map(|p| product_view(p, &info)).collect(),
    })
}

fn product_view(p: Product, info: &ledger::AssetInfo) -> ProductView {
    ProductView {
        price: AssetAmount::new(p.price, info.decimals, &info.symbol),
        sku: p.sku,
        name: p.name,
        pv: p.pv,
        active: p.active,
        version: p.version,
    }
}

/// The products a sales-plan asset offers now (the shop's list), by SKU, with the catalogue's version. 404
/// `not_found` for an unknown asset, `no_catalogue` for an asset on another plan.
#[utoipa::path(get, path = "/v1/public/catalogue/{asset_id}", tag = "public",
    params(("asset_id" = i32, Path, description = "A sales-plan asset")),
    responses((status = 200, body = CatalogueView), (status = 404, body = ErrorBody)))]
pub async fn public_catalogue(
    State(ctx): State<ApiContext>,
    Path(asset_id): Path<i32>,
) -> Result<Json<CatalogueView>, ApiError> {
    Ok(Json(view(&ctx, asset_id, true).await?))
}

/// Every product of a sales-plan asset's catalogue, inactive ones included, and its newest changes (any staff role).
#[utoipa::path(get, path = "/v1/admin/catalogue/{asset_id}", tag = "admin", security(("bearer" = [])),
    params(("asset_id" = i32, Path, description = "A sales-plan asset")),
    responses((status = 200, body = AdminCatalogueView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn admin_catalogue(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Path(asset_id): Path<i32>,
) -> Result<Json<AdminCatalogueView>, ApiError> {
    let catalogue = view(&ctx, asset_id, false).await?;
    let history = catalogue::versions(&ctx.db, asset_id, HISTORY)
        .await?
        .into_iter()
        .map(|v| CatalogueVersionView { version: v.version, sku: v.sku, actor: v.actor, reason: v.reason, at: v.at })
        .collect();
    Ok(Json(AdminCatalogueView { catalogue, history }))
}

/// Sets a product of a sales-plan asset's catalogue, creating it when its SKU is new (the `catalogue` role): a new
/// catalogue version, audited with the product before and after. 409 `no_change` when it is exactly that already
/// (no version is made), `catalogue_full` at 500 products; 422 `invalid_product` naming a field out of bounds.
#[utoipa::path(put, path = "/v1/admin/catalogue/{asset_id}/products/{sku}", tag = "admin", security(("bearer" = [])),
    params(("asset_id" = i32, Path, description = "A sales-plan asset"),
        ("sku" = String, Path, description = "1 to 32 letters, digits, '.', '_' or '-'")),
    request_body = ProductRequest,
    responses((status = 200, body = ProductView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_product(
    State(ctx): State<ApiContext>,
    Staff(staff, _): Staff<need::Catalogue>,
    Path((asset_id, sku)): Path<(i32, String)>,
    Json(req): Json<ProductRequest>,
) -> Result<Json<ProductView>, ApiError> {
    if sku.len() > MAX_SKU {
        return Err(ApiError::unprocessable("invalid_product", format!("sku: at most {MAX_SKU} characters")));
    }
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::unprocessable("reason_required", "say why: `reason` must not be empty"));
    }
    let price = parse_amount(&req.price, "price")?;
    let price = u128::try_from(price)
        .map_err(|_| ApiError::unprocessable("invalid_product", "price: 1 to 2^112 − 1 base units"))?;
    let change = ProductChange { sku, name: req.name, price, pv: req.pv, active: req.active };
    let actor = staff.wallet.to_checksum(None);
    let p = catalogue::put_product(&ctx.db, asset_id, &change, &actor, reason).await?;
    let info = ledger::asset_info(&ctx.db, asset_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(product_view(p, &info)))
}

/// The newest signed version of a catalogue, as the signer will be handed it with every order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedVersionView {
    /// The version.
    pub version: u32,
    /// The catalogue wallet that signed it (0x EIP-55).
    pub wallet: String,
    /// When it was recorded (unix seconds).
    pub signed_at: i64,
}

/// What a catalogue wallet signs for the catalogue's newest version, and the newest version signed so far.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SigningView {
    /// The catalogue's newest version: what `typed_data` lists.
    pub version: u32,
    /// EIP-712 typed data to sign with `eth_signTypedData_v4` (`CatalogueVersion`, abi::catalogue): every product
    /// with its price in base units, the plan's retail_bps and refund window, under the staff approvals' domain of
    /// the asset's chain and Settlement. Integers are decimal strings.
    #[schema(value_type = Object)]
    pub typed_data: serde_json::Value,
    /// The newest version signed, which orders are priced from now (null: none, orders are refused).
    pub signed: Option<SignedVersionView>,
}

/// The typed data a catalogue wallet signs for `snapshot` of the Settlement `contract`.
fn typed_data(snapshot: &orders::Snapshot, contract: alloy::primitives::Address) -> serde_json::Value {
    let field = |name: &str, ty: &str| serde_json::json!({ "name": name, "type": ty });
    let products: Vec<serde_json::Value> = snapshot
        .products
        .iter()
        .map(|p| {
            serde_json::json!({"sku": p.sku, "price": p.price.to_string(), "pv": p.pv.to_string(),
                                    "active": p.active})
        })
        .collect();
    serde_json::json!({
        "types": {
            "EIP712Domain": [field("name", "string"), field("version", "string"), field("chainId", "uint256"),
                field("verifyingContract", "address")],
            "CatalogueVersion": [field("token", "address"), field("version", "uint256"), field("retailBps", "uint256"),
                field("refundWindow", "uint256"), field("products", "CatalogueProduct[]")],
            "CatalogueProduct": [field("sku", "string"), field("price", "uint256"), field("pv", "uint256"),
                field("active", "bool")],
        },
        "primaryType": "CatalogueVersion",
        "domain": {
            "name": abi::approval::APPROVAL_DOMAIN_NAME,
            "version": abi::approval::APPROVAL_DOMAIN_VERSION,
            "chainId": abi::signing_chain_id(snapshot.chain_id),
            "verifyingContract": contract.to_checksum(None),
        },
        "message": {
            "token": snapshot.token.to_checksum(None),
            "version": snapshot.version.to_string(),
            "retailBps": snapshot.retail_bps.to_string(),
            "refundWindow": snapshot.refund_window.to_string(),
            "products": products,
        },
    })
}

/// The signing view of `snapshot`, the catalogue's newest version, with the newest version signed so far.
async fn signing_view(ctx: &ApiContext, snapshot: &orders::Snapshot) -> Result<SigningView, ApiError> {
    let contract = ctx.chains.settlement(snapshot.chain_id)?;
    let signed = orders::newest_signed(&ctx.db, snapshot.asset_id).await?.map(|s| SignedVersionView {
        version: s.snapshot.version,
        wallet: s.wallet.to_checksum(None),
        signed_at: s.signed_at,
    });
    Ok(SigningView { version: snapshot.version, typed_data: typed_data(snapshot, contract), signed })
}

/// What a catalogue wallet signs so that orders are priced from the catalogue's newest version, and the newest version
/// signed so far (any staff role reads it; the `catalogue` role signs). 409 `catalogue_empty` before the first
/// product.
#[utoipa::path(get, path = "/v1/admin/catalogue/{asset_id}/signing", tag = "admin", security(("bearer" = [])),
    params(("asset_id" = i32, Path, description = "A sales-plan asset")),
    responses((status = 200, body = SigningView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn signing(
    State(ctx): State<ApiContext>,
    _staff: AdminUser,
    Path(asset_id): Path<i32>,
) -> Result<Json<SigningView>, ApiError> {
    let snapshot = orders::current(&ctx.db, asset_id).await?;
    Ok(Json(signing_view(&ctx, &snapshot).await?))
}

/// A catalogue wallet's signature of a catalogue version.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueSignatureRequest {
    /// The version signed: the catalogue's newest (`GET …/signing`).
    pub version: u32,
    /// The signed-in wallet's signature of its `typed_data`, 65 bytes 0x hex.
    #[serde(deserialize_with = "crate::http::bounded::signature")]
    pub signature: String,
}

/// Records the signed-in catalogue wallet's signature of the catalogue's newest version (the `catalogue` role): from
/// then on orders are priced from it, and the signer prices each again from it — it signs sales only from versions
/// signed by a wallet its policy lists (`[policy.catalogue] signers`). Audited (`catalogue_signed`). 422
/// `invalid_signature` when the signature is not this wallet's over that version's typed data; 409 `version_moved`
/// when a product changed since (or the plan's retail_bps or window did): read it again.
#[utoipa::path(post, path = "/v1/admin/catalogue/{asset_id}/signatures", tag = "admin", security(("bearer" = [])),
    params(("asset_id" = i32, Path, description = "A sales-plan asset")),
    request_body = CatalogueSignatureRequest,
    responses((status = 200, body = SigningView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn sign_version(
    State(ctx): State<ApiContext>,
    Staff(staff, _): Staff<need::Catalogue>,
    Path(asset_id): Path<i32>,
    Json(req): Json<CatalogueSignatureRequest>,
) -> Result<Json<SigningView>, ApiError> {
    let signature = alloy::hex::decode(req.signature.trim())
        .ok()
        .and_then(|bytes| alloy::primitives::Signature::try_from(bytes.as_slice()).ok())
        .ok_or_else(|| ApiError::unprocessable("invalid_signature", "a signature is 65 bytes, 0x hex"))?;
    let snapshot = orders::current(&ctx.db, asset_id).await?;
    if snapshot.version != req.version {
        return Err(CatalogueError::VersionMoved { asked: req.version, newest: snapshot.version }.into());
    }
    let contract = ctx.chains.settlement(snapshot.chain_id)?;
    // Up to 500 products hashed and a key recovered: off the async workers.
    let typed = snapshot.typed();
    let chain_id = snapshot.chain_id;
    let by = tokio::task::spawn_blocking(move || typed.signed_by(chain_id, contract, &signature))
        .await
        .map_err(|e| ApiError::Internal(eyre::eyre!("checking a catalogue signature: {e}")))?;
    if by != Some(staff.wallet) {
        return Err(ApiError::unprocessable(
            "invalid_signature",
            format!(
                "the signature is not {}'s over catalogue version {} of this asset's typed data",
                staff.wallet.to_checksum(None),
                snapshot.version
            ),
        ));
    }
    let actor = staff.wallet.to_checksum(None);
    orders::record_signature(&ctx.db, &snapshot, staff.wallet, &signature.as_bytes(), &actor).await?;
    Ok(Json(signing_view(&ctx, &snapshot).await?))
}
