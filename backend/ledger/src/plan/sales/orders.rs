//! Orders of the sales plan (issue 69, contracts/SALES.md §7): what makes the signer, not the API, decide a sale's
//! price. A catalogue wallet signs the catalogue's newest version (`abi::catalogue::CatalogueVersion`: every product,
//! the plan's retail_bps and refund window), kept here as signed; an order is priced from the newest signed version
//! and carries it to the signer, which prices it again. An order is stored once its `Sale` payload is signed, under
//! the lock of its buyer's orders in the asset: one that may still be paid is handed back instead of a second (a
//! double click, a reload or a second tab never charges twice), the same `Idempotency-Key` answers the same order.
//! Where an order stands comes from the chain's events and the ledger's `sales` row, never from the client.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};

use super::catalogue::{CatalogueError, check_sales};
use crate::money::Money;
use crate::payments::DEADLINE_GRACE_SECS;
use crate::plan::Amount;

/// A product of a signed catalogue version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedProduct {
    /// Its SKU.
    pub sku: String,
    /// Its price in base units, a decimal string.
    #[serde(with = "decimal")]
    pub price: Amount,
    /// Its pv.
    pub pv: u64,
    /// For sale in this version.
    pub active: bool,
}

mod decimal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A catalogue version as a catalogue wallet signs it: the asset's chain and token, the version, the plan's
/// retail_bps and refund window, every product in ascending SKU order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The asset.
    pub asset_id: i32,
    /// Its chain.
    pub chain_id: u64,
    /// Its token (zero: the native coin).
    pub token: Address,
    /// The version.
    pub version: u32,
    /// The retail commission of the plan's newest version, basis points.
    pub retail_bps: u32,
    /// Its refund window, seconds.
    pub refund_window: u64,
    /// Every product, ascending SKU.
    pub products: Vec<SignedProduct>,
}

impl Snapshot {
    /// The typed data the catalogue wallet signs.
    pub fn typed(&self) -> abi::catalogue::CatalogueVersion {
        abi::catalogue::CatalogueVersion {
            token: self.token,
            version: U256::from(self.version),
            retailBps: U256::from(self.retail_bps),
            refundWindow: U256::from(self.refund_window),
            products: self
                .products
                .iter()
                .map(|p| abi::catalogue::CatalogueProduct {
                    sku: p.sku.clone(),
                    price: U256::from(p.price),
                    pv: U256::from(p.pv),
                    active: p.active,
                })
                .collect(),
        }
    }
}

/// A version as signed: the snapshot, the wallet and its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCatalogue {
    /// What was signed.
    pub snapshot: Snapshot,
    /// The catalogue wallet that signed it.
    pub wallet: Address,
    /// Its signature, 65 bytes.
    pub signature: Vec<u8>,
    /// When it was recorded (unix seconds).
    pub signed_at: i64,
}

/// The catalogue's newest version as a catalogue wallet would sign it now. [`CatalogueError::Empty`] before the
/// first product.
pub async fn current(pool: &PgPool, asset_id: i32) -> Result<Snapshot, CatalogueError> {
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let snapshot = read_current(&mut tx, asset_id, false).await?;
    tx.commit().await?;
    Ok(snapshot)
}

async fn read_current(
    tx: &mut Transaction<'static, Postgres>,
    asset_id: i32,
    lock: bool,
) -> Result<Snapshot, CatalogueError> {
    check_sales(&mut **tx, asset_id, lock).await?;
    let asset = sqlx::query!("SELECT chain_id, token FROM assets WHERE id = $1", asset_id).fetch_one(&mut **tx).await?;
    let version = sqlx::query_scalar!(
        r#"SELECT coalesce(max(version), 0) AS "v!" FROM catalogue_versions WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_one(&mut **tx)
    .await?;
    if version == 0 {
        return Err(CatalogueError::Empty(asset_id));
    }
    let rows = sqlx::query!(
        r#"SELECT sku, price AS "price: Money", pv, active FROM catalogue_products WHERE asset_id = $1
           ORDER BY sku COLLATE "C""#,
        asset_id
    )
    .fetch_all(&mut **tx)
    .await?;
    let products = rows
        .into_iter()
        .map(|r| Ok(SignedProduct { sku: r.sku, price: r.price.to_amount()?, pv: r.pv as u64, active: r.active }))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let params = crate::assets::newest_params::<super::SalesParams>(&mut **tx, asset_id, crate::plan::PlanKind::Sales)
        .await?
        .ok_or(CatalogueError::NotSales(asset_id))?;
    Ok(Snapshot {
        asset_id,
        chain_id: asset.chain_id as u64,
        token: Address::from_slice(&asset.token),
        version: version as u32,
        retail_bps: params.retail_bps,
        refund_window: params.refund_window,
        products,
    })
}

/// Records `wallet`'s `signature` of `snapshot` (checked by the caller: it recovers to `wallet`), audited
/// (`catalogue_signed`), under the asset's row lock: refused ([`CatalogueError::VersionMoved`]) unless the
/// snapshot is still the catalogue's newest version with the plan's newest retail_bps and window. A version signed
/// already keeps its first signature (`Ok(false)`).
pub async fn record_signature(
    pool: &PgPool,
    snapshot: &Snapshot,
    wallet: Address,
    signature: &[u8],
    actor: &str,
) -> Result<bool, CatalogueError> {
    let mut tx = pool.begin().await?;
    let now = read_current(&mut tx, snapshot.asset_id, true).await?;
    if now != *snapshot {
        return Err(CatalogueError::VersionMoved { asked: snapshot.version, newest: now.version });
    }
    let products = serde_json::to_value(&snapshot.products).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    let inserted = sqlx::query!(
        "INSERT INTO catalogue_signatures (asset_id, version, wallet, signature, retail_bps, refund_window, products)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (asset_id, version) DO NOTHING",
        snapshot.asset_id,
        snapshot.version as i32,
        wallet.as_slice(),
        signature,
        snapshot.retail_bps as i32,
        snapshot.refund_window as i64,
        products
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        let target = format!("catalogue:{}:v{}", snapshot.asset_id, snapshot.version);
        let after = json!({"version": snapshot.version, "wallet": wallet.to_checksum(None),
                           "retail_bps": snapshot.retail_bps, "refund_window": snapshot.refund_window,
                           "products": snapshot.products.len()});
        crate::audit::record(
            &mut tx,
            crate::audit::AuditEntry {
                actor,
                action: "catalogue_signed",
                target: &target,
                asset_id: Some(snapshot.asset_id),
                before: None,
                after,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// The newest signed version of the asset's catalogue, if any.
pub async fn newest_signed(pool: &PgPool, asset_id: i32) -> Result<Option<SignedCatalogue>, CatalogueError> {
    let row = sqlx::query!(
        r#"SELECT s.version, s.wallet, s.signature, s.retail_bps, s.refund_window, s.products,
                  extract(epoch FROM s.signed_at)::bigint AS "signed_at!", a.chain_id, a.token
           FROM catalogue_signatures s JOIN assets a ON a.id = s.asset_id
           WHERE s.asset_id = $1 ORDER BY s.version DESC LIMIT 1"#,
        asset_id
    )
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let products: Vec<SignedProduct> =
        serde_json::from_value(r.products).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(Some(SignedCatalogue {
        snapshot: Snapshot {
            asset_id,
            chain_id: r.chain_id as u64,
            token: Address::from_slice(&r.token),
            version: r.version as u32,
            retail_bps: r.retail_bps as u32,
            refund_window: r.refund_window as u64,
            products,
        },
        wallet: Address::from_slice(&r.wallet),
        signature: r.signature,
        signed_at: r.signed_at,
    }))
}

/// Who the buyer and a would-be seller are in the asset, as the ledger knows them now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties {
    /// The buyer is registered in the asset (its purchases are member sales).
    pub buyer_registered: bool,
    /// The customer's attributed member (PLAN-SALES.md §1), when it has one.
    pub attributed: Option<Address>,
}

/// The buyer's standing in the asset: registered, or the member it is attributed to.
pub async fn parties(pool: &PgPool, asset_id: i32, buyer: Address) -> Result<Parties, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE asset_id = $1 AND address = $2 AND registered_block IS NOT NULL)
                    AS "registered!",
                  (SELECT u.address FROM sales_customers c
                     JOIN users u ON u.asset_id = c.asset_id AND u.user_no = c.member_no
                    WHERE c.asset_id = $1 AND c.address = $2) AS attributed"#,
        asset_id,
        buyer.as_slice()
    )
    .fetch_one(pool)
    .await?;
    Ok(Parties { buyer_registered: row.registered, attributed: row.attributed.map(|a| Address::from_slice(&a)) })
}

/// Whether `wallet` is registered in the asset (genesis is not: it earns nothing under this plan).
pub async fn is_registered(pool: &PgPool, asset_id: i32, wallet: Address) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE asset_id = $1 AND address = $2 AND registered_block IS NOT NULL)
           AS "registered!""#,
        asset_id,
        wallet.as_slice()
    )
    .fetch_one(pool)
    .await
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id.
    pub id: i64,
    /// The asset.
    pub asset_id: i32,
    /// Who pays.
    pub buyer: Address,
    /// The seller the payload names.
    pub seller: Address,
    /// The buyer's key for it.
    pub idempotency_key: String,
    /// (SKU, quantity), as asked.
    pub lines: Vec<(String, u32)>,
    /// The signed catalogue version it was priced from.
    pub catalogue_version: u32,
    /// a.
    pub amount: Amount,
    /// r.
    pub retail: Amount,
    /// v.
    pub pv: u64,
    /// keccak256(abi.encode(asset_id, id)).
    pub order_ref: B256,
    /// The payload's nonce: the sale's id.
    pub sale_id: U256,
    /// The signed refund window, seconds.
    pub refund_window: u64,
    /// When the payload stops being valid (chain time).
    pub deadline: i64,
    /// The signer's signature.
    pub signature: Vec<u8>,
    /// When it was asked for (unix seconds).
    pub created_at: i64,
}

/// The order reference of order `id` of `asset_id`, as the `Sale` payload carries it.
pub fn order_ref(asset_id: i32, id: i64) -> B256 {
    keccak256((U256::from(asset_id as u32), U256::from(id as u64)).abi_encode())
}

/// What is priced and signed for a new order.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The seller named.
    pub seller: Address,
    /// (SKU, quantity).
    pub lines: Vec<(String, u32)>,
    /// The version priced from.
    pub catalogue_version: u32,
    /// a.
    pub amount: Amount,
    /// r.
    pub retail: Amount,
    /// v.
    pub pv: u64,
    /// The payload's nonce.
    pub sale_id: U256,
    /// The signed window.
    pub refund_window: u64,
    /// The payload's deadline.
    pub deadline: i64,
    /// The signature.
    pub signature: Vec<u8>,
}

/// Where a buyer stands for a new order, inside the lock that makes the answer hold.
#[derive(Debug)]
pub enum OrderSlot {
    /// The order this key named before, whatever became of it.
    Same(Order),
    /// Another order of the buyer may still be paid: pay it or let it expire first.
    Outstanding(Order),
    /// None: price and sign one, then [`FreeOrder::store`] it before anyone else may ask.
    Free(FreeOrder),
}

/// The lock of a buyer's orders in one asset, held until the new order is stored, with its id reserved.
#[derive(Debug)]
pub struct FreeOrder {
    tx: Transaction<'static, Postgres>,
    /// The new order's id: its `order_ref` is known before the payload is signed.
    pub id: i64,
    asset_id: i32,
    buyer: Address,
    key: String,
}

macro_rules! order_row {
    ($where:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            r#"SELECT o.id, o.asset_id, o.buyer, o.seller, o.idempotency_key, o.lines, o.catalogue_version,
                      o.amount AS "amount: Money", o.retail AS "retail: Money", o.pv AS "pv: Money", o.order_ref,
                      o.sale_id AS "sale_id: Money", o.refund_window, o.deadline, o.signature,
                      extract(epoch FROM o.created_at)::bigint AS "created_at!"
               FROM orders o JOIN assets a ON a.id = o.asset_id "# + $where
            $(, $arg)*
        )
    };
}

macro_rules! to_order {
    ($r:expr) => {{
        let r = $r;
        let lines: Vec<(String, u32)> = serde_json::from_value::<Vec<LineJson>>(r.lines)
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?
            .into_iter()
            .map(|l| (l.sku, l.quantity))
            .collect();
        Order {
            id: r.id,
            asset_id: r.asset_id,
            buyer: Address::from_slice(&r.buyer),
            seller: Address::from_slice(&r.seller),
            idempotency_key: r.idempotency_key,
            lines,
            catalogue_version: r.catalogue_version as u32,
            amount: r.amount.to_amount()?,
            retail: r.retail.to_amount()?,
            pv: u64::try_from(r.pv.0).unwrap_or(u64::MAX),
            order_ref: B256::from_slice(&r.order_ref),
            sale_id: r.sale_id.0,
            refund_window: r.refund_window as u64,
            deadline: r.deadline,
            signature: r.signature,
            created_at: r.created_at,
        }
    }};
}

#[derive(Serialize, Deserialize)]
struct LineJson {
    sku: String,
    quantity: u32,
}

/// Takes the lock of `buyer`'s orders in `asset_id` and looks for the order `key` named, then for one that may still
/// be paid: its payload not past its deadline (with [`DEADLINE_GRACE_SECS`]) at chain time `now`, and no confirmed
/// `Sold` event of its id.
pub async fn open_order(
    pool: &PgPool,
    asset_id: i32,
    buyer: Address,
    key: &str,
    now: i64,
) -> Result<OrderSlot, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Not a checked query: pg_advisory_xact_lock returns void, a type the query macros cannot describe.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("order:{asset_id}:{buyer:#x}"))
        .execute(&mut *tx)
        .await?;
    let same = order_row!(
        "WHERE o.asset_id = $1 AND o.buyer = $2 AND o.idempotency_key = $3",
        asset_id,
        buyer.as_slice(),
        key
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = same {
        let order = to_order!(r);
        tx.commit().await?;
        return Ok(OrderSlot::Same(order));
    }
    let outstanding = order_row!(
        "WHERE o.asset_id = $1 AND o.buyer = $2 AND o.deadline + $4 >= $3
           AND NOT EXISTS (SELECT 1 FROM chain_events c WHERE c.chain_id = a.chain_id AND c.name = 'Sold'
                             AND uint_text_to_numeric(c.payload->>'id') = o.sale_id)
         ORDER BY o.id DESC LIMIT 1",
        asset_id,
        buyer.as_slice(),
        now,
        DEADLINE_GRACE_SECS
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = outstanding {
        let order = to_order!(r);
        tx.commit().await?;
        return Ok(OrderSlot::Outstanding(order));
    }
    let id = sqlx::query_scalar!(r#"SELECT nextval('orders_id_seq') AS "id!""#).fetch_one(&mut *tx).await?;
    Ok(OrderSlot::Free(FreeOrder { tx, id, asset_id, buyer, key: key.to_owned() }))
}

impl FreeOrder {
    /// Stores the order just signed and lets the buyer's next request see it.
    pub async fn store(mut self, new: NewOrder) -> Result<Order, sqlx::Error> {
        let lines: Vec<LineJson> =
            new.lines.iter().map(|(sku, quantity)| LineJson { sku: sku.clone(), quantity: *quantity }).collect();
        let lines = serde_json::to_value(lines).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let order_ref = order_ref(self.asset_id, self.id);
        let created_at = sqlx::query_scalar!(
            r#"INSERT INTO orders (id, asset_id, buyer, seller, idempotency_key, lines, catalogue_version, amount,
                                   retail, pv, order_ref, sale_id, refund_window, deadline, signature)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
               RETURNING extract(epoch FROM created_at)::bigint AS "at!""#,
            self.id,
            self.asset_id,
            self.buyer.as_slice(),
            new.seller.as_slice(),
            self.key,
            lines,
            new.catalogue_version as i32,
            Money::from(new.amount) as Money,
            Money::from(new.retail) as Money,
            Money::from(U256::from(new.pv)) as Money,
            order_ref.as_slice(),
            Money(new.sale_id) as Money,
            new.refund_window as i64,
            new.deadline,
            new.signature
        )
        .fetch_one(&mut *self.tx)
        .await?;
        let id = self.id;
        self.tx.commit().await?;
        Ok(Order {
            id,
            asset_id: self.asset_id,
            buyer: self.buyer,
            seller: new.seller,
            idempotency_key: self.key,
            lines: new.lines,
            catalogue_version: new.catalogue_version,
            amount: new.amount,
            retail: new.retail,
            pv: new.pv,
            order_ref,
            sale_id: new.sale_id,
            refund_window: new.refund_window,
            deadline: new.deadline,
            signature: new.signature,
            created_at,
        })
    }
}

/// Order `id` of `buyer`, if it is theirs.
pub async fn order_of(pool: &PgPool, buyer: Address, id: i64) -> Result<Option<Order>, sqlx::Error> {
    let row = order_row!("WHERE o.id = $1 AND o.buyer = $2", id, buyer.as_slice()).fetch_optional(pool).await?;
    Ok(match row {
        Some(r) => Some(to_order!(r)),
        None => None,
    })
}

/// `buyer`'s orders, newest first, in one asset or all (at most `limit`).
pub async fn orders_of(
    pool: &PgPool,
    buyer: Address,
    asset_id: Option<i32>,
    limit: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    let rows = order_row!(
        "WHERE o.buyer = $1 AND ($2::int IS NULL OR o.asset_id = $2) ORDER BY o.id DESC LIMIT $3",
        buyer.as_slice(),
        asset_id,
        limit
    )
    .fetch_all(pool)
    .await?;
    let mut orders = Vec::with_capacity(rows.len());
    for r in rows {
        orders.push(to_order!(r));
    }
    Ok(orders)
}

/// Where an order's sale stands, from the chain's confirmed events and the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderState {
    /// No confirmed `Sold` event of its id yet, its payload still valid: it may be paid.
    Waiting,
    /// Its payload's deadline passed with no sale: it can never be paid, nothing was charged.
    Expired,
    /// Sold; the buyer may take it back until `refundable_until`.
    Open {
        /// The sale's event.
        event: SaleEvent,
        /// Until when (chain time) the buyer may take it back.
        refundable_until: u64,
    },
    /// Sold, its window passed: final.
    Final {
        /// The sale's event.
        event: SaleEvent,
        /// When its window ended.
        refundable_until: u64,
    },
    /// Taken back by the buyer: paid back in full.
    Refunded {
        /// The sale's event.
        event: SaleEvent,
        /// When its window ended.
        refundable_until: u64,
    },
    /// Sold, but the ledger refused it (held in suspense; the buyer may still take it back inside its window).
    Quarantined {
        /// The sale's event.
        event: SaleEvent,
        /// Why, `code: words`.
        reason: String,
        /// Until when the buyer may take it back (the event's).
        refundable_until: u64,
        /// Taken back already.
        taken_back: bool,
    },
}

/// The confirmed `Sold` event of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleEvent {
    /// Its transaction.
    pub tx_hash: B256,
    /// Its block.
    pub block: i64,
    /// Its log index.
    pub log_index: i64,
}

/// Where `order` stands at chain time `now`.
pub async fn state(pool: &PgPool, order: &Order, now: i64) -> Result<OrderState, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT c.tx_hash, c.block_number, c.log_index, c.payload->>'refundable_until' AS until,
                  s.state AS "sale_state?", s.refundable_until::text AS "sale_until?",
                  q.reason_code AS "reason_code?", q.reason AS "reason?", q.taken_back_tx IS NOT NULL AS "taken_back?"
           FROM orders o JOIN assets a ON a.id = o.asset_id
           JOIN chain_events c ON c.chain_id = a.chain_id AND c.name = 'Sold'
                               AND uint_text_to_numeric(c.payload->>'id') = o.sale_id
           LEFT JOIN sales s ON s.asset_id = o.asset_id AND s.sale_id = o.sale_id
           LEFT JOIN quarantine q ON q.chain_id = c.chain_id AND q.tx_hash = c.tx_hash AND q.log_index = c.log_index
           WHERE o.id = $1
           ORDER BY c.block_number, c.log_index LIMIT 1"#,
        order.id
    )
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else {
        return Ok(if order.deadline + DEADLINE_GRACE_SECS < now { OrderState::Expired } else { OrderState::Waiting });
    };
    let event = SaleEvent { tx_hash: B256::from_slice(&r.tx_hash), block: r.block_number, log_index: r.log_index };
    let until = |text: Option<&str>| text.and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
    let refundable_until = until(r.sale_until.as_deref().or(r.until.as_deref()));
    Ok(match r.sale_state.as_deref() {
        Some("final") => OrderState::Final { event, refundable_until },
        Some("refunded") => OrderState::Refunded { event, refundable_until },
        Some(_) => OrderState::Open { event, refundable_until },
        None => match r.reason_code {
            Some(code) => OrderState::Quarantined {
                event,
                reason: format!("{code}: {}", r.reason.unwrap_or_default()),
                refundable_until,
                taken_back: r.taken_back.unwrap_or(false),
            },
            // The event is confirmed and the ledger has not applied it yet: still on its way.
            None => OrderState::Open { event, refundable_until },
        },
    })
}
