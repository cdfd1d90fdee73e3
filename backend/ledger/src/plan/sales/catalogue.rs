//! The sales plan's catalogue (issue 69; PLAN-SALES.md §1: a sale's amount and pv are signed from the operator's
//! catalogue): per sales-plan asset, its products — a SKU, a name, a price in the asset's base units, pv in whole
//! points, active or not. Each change is a new version of the asset's catalogue, numbered from 1, naming who made it
//! and why, and audited with the product before and after (`catalogue_product_put`); an order is priced against one
//! version. Kept by the `catalogue` staff role (the API checks it), never by the ledger's plan engines: a sale's
//! amount and pv reach the ledger from the chain, as signed.

use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use crate::money::Money;
use crate::plan::{Amount, PlanKind};

/// Longest SKU: letters, digits, `.`, `_`, `-`, starting with a letter or digit.
pub const MAX_SKU: usize = 32;
/// Longest product name, in characters.
pub const MAX_NAME: usize = 120;
/// Largest pv of one product.
pub const MAX_PV: u64 = 1_000_000_000;
/// Every price is below 2^112: the most one sale may carry (SettlementSales).
pub const PRICE_LIMIT: Amount = 1 << 112;
/// Most products one asset's catalogue holds (inactive ones included): what a signed version lists.
pub const MAX_PRODUCTS: i64 = 500;

/// A product as the catalogue holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// Its stock-keeping unit, unique in the asset.
    pub sku: String,
    /// Its name as buyers read it.
    pub name: String,
    /// Its price in the asset's base units.
    pub price: Amount,
    /// Its points (PLAN-SALES.md's v).
    pub pv: u64,
    /// Offered: only active products are priced into orders.
    pub active: bool,
    /// The catalogue version that last changed it.
    pub version: u32,
}

/// What staff set a product to (created when its SKU is new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductChange {
    /// The SKU.
    pub sku: String,
    /// The name (trimmed, 1 to [`MAX_NAME`] characters).
    pub name: String,
    /// The price, 1 to 2^112 − 1 base units.
    pub price: Amount,
    /// The points, 0 to [`MAX_PV`].
    pub pv: u64,
    /// Whether it is offered.
    pub active: bool,
}

/// One version of an asset's catalogue: the change that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The version, from 1.
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

/// Why a catalogue read or change was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The database failed; the transaction rolled back.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// No such asset.
    #[error("unknown asset {0}")]
    UnknownAsset(i32),
    /// The asset does not run the sales plan: it has no catalogue.
    #[error("asset {0} does not run the sales plan: it has no catalogue")]
    NotSales(i32),
    /// A field is out of its bounds (`field` names it).
    #[error("{message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong, in words.
        message: String,
    },
    /// The product is already exactly that: no version is made, nothing is audited.
    #[error("product {0} is already exactly that: nothing changed")]
    NoChange(String),
    /// The catalogue holds [`MAX_PRODUCTS`] already.
    #[error("the catalogue holds {MAX_PRODUCTS} products already")]
    Full,
    /// The catalogue has no product yet: there is no version to sign or price from.
    #[error("asset {0}'s catalogue has no product yet")]
    Empty(i32),
    /// The version asked for is no longer the catalogue's newest (or the plan's retail_bps or refund window changed
    /// since it was read): read it again.
    #[error("catalogue version {asked} is not the newest any more (version {newest} is): read it again and sign that")]
    VersionMoved {
        /// The version asked for.
        asked: u32,
        /// The newest.
        newest: u32,
    },
}

/// Checks a change's fields against their bounds (the database checks them again).
pub fn check(change: &ProductChange) -> Result<(), CatalogueError> {
    let invalid = |field, message: String| Err(CatalogueError::Invalid { field, message });
    let sku = change.sku.as_bytes();
    let sku_ok = !sku.is_empty()
        && sku.len() <= MAX_SKU
        && sku[0].is_ascii_alphanumeric()
        && sku.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !sku_ok {
        return invalid(
            "sku",
            format!("a SKU is 1 to {MAX_SKU} letters, digits, '.', '_' or '-', starting with a letter or digit"),
        );
    }
    let chars = change.name.chars().count();
    if chars == 0 || chars > MAX_NAME || change.name.trim() != change.name || change.name.chars().any(char::is_control)
    {
        return invalid("name", format!("a name is 1 to {MAX_NAME} characters, no control characters, trimmed"));
    }
    if change.price == 0 || change.price >= PRICE_LIMIT {
        return invalid("price", "a price is 1 to 2^112 − 1 base units".into());
    }
    if change.pv > MAX_PV {
        return invalid("pv", format!("pv is 0 to {MAX_PV}"));
    }
    Ok(())
}

/// The asset's plan must be the sales plan.
pub(super) async fn check_sales<'c, E: sqlx::PgExecutor<'c>>(
    db: E,
    asset_id: i32,
    lock: bool,
) -> Result<(), CatalogueError> {
    let kind = if lock {
        sqlx::query_scalar!("SELECT plan_kind FROM assets WHERE id = $1 FOR UPDATE", asset_id)
            .fetch_optional(db)
            .await?
    } else {
        sqlx::query_scalar!("SELECT plan_kind FROM assets WHERE id = $1", asset_id).fetch_optional(db).await?
    };
    match kind.as_deref().map(PlanKind::parse) {
        None => Err(CatalogueError::UnknownAsset(asset_id)),
        Some(Some(PlanKind::Sales)) => Ok(()),
        Some(_) => Err(CatalogueError::NotSales(asset_id)),
    }
}

/// The asset's catalogue: its current version (0 before the first product) and its products by SKU, only the active
/// ones when `active_only`.
pub async fn products(pool: &PgPool, asset_id: i32, active_only: bool) -> Result<(u32, Vec<Product>), CatalogueError> {
    check_sales(pool, asset_id, false).await?;
    let mut tx = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let version = sqlx::query_scalar!(
        r#"SELECT coalesce(max(version), 0) AS "v!" FROM catalogue_versions WHERE asset_id = $1"#,
        asset_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let rows = sqlx::query!(
        r#"SELECT sku, name, price AS "price: Money", pv, active, version FROM catalogue_products
           WHERE asset_id = $1 AND (active OR NOT $2) ORDER BY sku"#,
        asset_id,
        active_only
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let products = rows
        .into_iter()
        .map(|r| {
            Ok(Product {
                sku: r.sku,
                name: r.name,
                price: r.price.to_amount()?,
                pv: r.pv as u64,
                active: r.active,
                version: r.version as u32,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((version as u32, products))
}

/// The asset's newest catalogue versions, newest first (at most `limit`).
pub async fn versions(pool: &PgPool, asset_id: i32, limit: i64) -> Result<Vec<Version>, CatalogueError> {
    check_sales(pool, asset_id, false).await?;
    let rows = sqlx::query!(
        r#"SELECT version, sku, actor, reason, extract(epoch FROM created_at)::bigint AS "at!"
           FROM catalogue_versions WHERE asset_id = $1 ORDER BY version DESC LIMIT $2"#,
        asset_id,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Version { version: r.version as u32, sku: r.sku, actor: r.actor, reason: r.reason, at: r.at })
        .collect())
}

/// Sets product `change.sku` of the asset's catalogue (creating it when new) as a new version, audited
/// (`catalogue_product_put`, the product before and after) in one transaction under the asset's row lock, so two
/// changes at once get two versions in order. Refused, changing nothing: a field out of bounds, an asset not on the
/// sales plan, a change to exactly what the product is, a new product beyond [`MAX_PRODUCTS`].
pub async fn put_product(
    pool: &PgPool,
    asset_id: i32,
    change: &ProductChange,
    actor: &str,
    reason: &str,
) -> Result<Product, CatalogueError> {
    check(change)?;
    let mut tx = pool.begin().await?;
    check_sales(&mut *tx, asset_id, true).await?;
    let before = sqlx::query!(
        r#"SELECT name, price AS "price: Money", pv, active, version FROM catalogue_products
           WHERE asset_id = $1 AND sku = $2"#,
        asset_id,
        change.sku
    )
    .fetch_optional(&mut *tx)
    .await?;
    let before = match before {
        Some(b) => {
            let price = b.price.to_amount()?;
            if b.name == change.name && price == change.price && b.pv as u64 == change.pv && b.active == change.active {
                return Err(CatalogueError::NoChange(change.sku.clone()));
            }
            Some(json!({"name": b.name, "price": price.to_string(), "pv": b.pv, "active": b.active,
                        "version": b.version}))
        }
        None => {
            let held =
                sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM catalogue_products WHERE asset_id = $1"#, asset_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if held >= MAX_PRODUCTS {
                return Err(CatalogueError::Full);
            }
            None
        }
    };
    let version = sqlx::query_scalar!(
        r#"INSERT INTO catalogue_versions (asset_id, version, sku, actor, reason)
           SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4 FROM catalogue_versions WHERE asset_id = $1
           RETURNING version"#,
        asset_id,
        change.sku,
        actor,
        reason
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO catalogue_products (asset_id, sku, name, price, pv, active, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (asset_id, sku) DO UPDATE
            SET name = EXCLUDED.name, price = EXCLUDED.price, pv = EXCLUDED.pv, active = EXCLUDED.active,
                version = EXCLUDED.version",
        asset_id,
        change.sku,
        change.name,
        Money::from(change.price) as Money,
        change.pv as i64,
        change.active,
        version
    )
    .execute(&mut *tx)
    .await?;
    let product = Product {
        sku: change.sku.clone(),
        name: change.name.clone(),
        price: change.price,
        pv: change.pv,
        active: change.active,
        version: version as u32,
    };
    let after = json!({"name": product.name, "price": product.price.to_string(), "pv": product.pv,
                       "active": product.active, "version": product.version, "reason": reason});
    let target = format!("catalogue:{asset_id}:{}", change.sku);
    crate::audit::record(
        &mut tx,
        crate::audit::AuditEntry {
            actor,
            action: "catalogue_product_put",
            target: &target,
            asset_id: Some(asset_id),
            before,
            after,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(product)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(sku: &str, name: &str, price: Amount, pv: u64) -> ProductChange {
        ProductChange { sku: sku.into(), name: name.into(), price, pv, active: true }
    }

    #[test]
    fn fields_out_of_bounds_are_refused_by_name() {
        let field = |c: ProductChange| match check(&c) {
            Err(CatalogueError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert!(check(&change("TEA-1", "Green tea, 100 g", 1, 0)).is_ok());
        assert!(check(&change(&"A".repeat(MAX_SKU), &"n".repeat(MAX_NAME), PRICE_LIMIT - 1, MAX_PV)).is_ok());
        assert!(check(&change("شاي", "x", 1, 0)).is_err(), "a SKU is ASCII");
        for sku in ["", "-A", "A B", "A/B", &"A".repeat(MAX_SKU + 1)] {
            assert_eq!(field(change(sku, "n", 1, 0)), "sku", "{sku:?}");
        }
        for name in ["", " tea", "tea ", "a\u{0}b", &"n".repeat(MAX_NAME + 1)] {
            assert_eq!(field(change("A", name, 1, 0)), "name", "{name:?}");
        }
        assert!(check(&change("A", "चाय — हरी", 1, 0)).is_ok(), "any script");
        assert_eq!(field(change("A", "n", 0, 0)), "price");
        assert_eq!(field(change("A", "n", PRICE_LIMIT, 0)), "price");
        assert_eq!(field(change("A", "n", 1, MAX_PV + 1)), "pv");
    }
}
