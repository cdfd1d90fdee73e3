//! A catalogue version of the sales plan (issue 69, contracts/SALES.md §7): what a catalogue staff wallet signs so
//! that the signer service, not the API, decides a sale's price. The wallet signs the version itself as EIP-712
//! typed data under the staff approvals' domain ([`crate::approval::approval_domain`]: never a Settlement payload),
//! every product listed, so that the person signing sees each price in their wallet.
//!
//! A version names its asset (the domain's chain and Settlement, the token), its number, the plan's `retail_bps` and
//! refund window in force, and every product of the asset by SKU in ascending byte order: SKU, price in base units, pv
//! in whole points, active. The signer checks a sale against the version it is given: amount = Σ price × quantity,
//! pv = Σ pv × quantity over active products, the window the version's, the retail commission from its `retail_bps`.

use alloy::{
    primitives::{Address, B256, Signature, U256},
    sol,
    sol_types::SolStruct,
};

use crate::approval::approval_domain;

/// Most products one asset's catalogue holds (the backend's `MAX_PRODUCTS`).
pub const MAX_PRODUCTS: usize = 500;
/// Longest SKU, in bytes (ASCII letters, digits, `.`, `_`, `-`).
pub const MAX_SKU: usize = 32;
/// Most lines one order (one sale) carries.
pub const MAX_ORDER_LINES: usize = 50;
/// Most units of one product one order line carries.
pub const MAX_QUANTITY: u32 = 10_000;
/// The largest pv of one product (the backend's `MAX_PV`).
pub const MAX_PV: u64 = 1_000_000_000;

sol! {
    /// One product of a catalogue version.
    #[derive(Debug, PartialEq, Eq)]
    struct CatalogueProduct {
        string sku;
        uint256 price;
        uint256 pv;
        bool active;
    }

    /// A catalogue version as a catalogue wallet signs it.
    #[derive(Debug, PartialEq, Eq)]
    struct CatalogueVersion {
        address token;
        uint256 version;
        uint256 retailBps;
        uint256 refundWindow;
        CatalogueProduct[] products;
    }
}

/// Whether `sku` is a SKU: 1 to [`MAX_SKU`] bytes, a letter or digit first, then letters, digits, `.`, `_` or `-`.
pub fn is_sku(sku: &str) -> bool {
    let bytes = sku.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_SKU
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Why a catalogue version is not one a wallet may have signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadCatalogue(pub String);

/// Why an order cannot be priced from a catalogue version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unpriced {
    /// An order names no product, or more lines than [`MAX_ORDER_LINES`].
    #[error("an order has 1 to {MAX_ORDER_LINES} lines, not {0}")]
    Lines(usize),
    /// A line's quantity is outside 1..=[`MAX_QUANTITY`].
    #[error("line {0}: a quantity is 1 to {MAX_QUANTITY}")]
    Quantity(usize),
    /// The same SKU on two lines.
    #[error("line {0}: SKU {1} is on an earlier line")]
    Repeated(usize, String),
    /// A SKU the version does not list.
    #[error("line {0}: no product {1} in catalogue version {2}")]
    Unknown(usize, String, u64),
    /// A product the version lists as inactive.
    #[error("line {0}: product {1} is not for sale in catalogue version {2}")]
    Inactive(usize, String, u64),
    /// The order's amount reaches 2^112, the most one sale may carry.
    #[error("the order's amount reaches 2^112, the most one sale may carry")]
    TooLarge,
}

/// An order's price from a version: the sale's amount and pv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priced {
    /// Σ price × quantity, base units, below 2^112.
    pub amount: U256,
    /// Σ pv × quantity.
    pub pv: U256,
}

impl CatalogueVersion {
    /// The digest a catalogue wallet signs for `contract` on `chain_id`.
    pub fn digest(&self, chain_id: u64, contract: Address) -> B256 {
        self.eip712_signing_hash(&approval_domain(chain_id, contract))
    }

    /// The wallet that signed this version for `contract` on `chain_id`, if `signature` is a valid one.
    pub fn signed_by(&self, chain_id: u64, contract: Address, signature: &Signature) -> Option<Address> {
        signature.recover_address_from_prehash(&self.digest(chain_id, contract)).ok()
    }

    /// Checks what no signed version may break: a version ≥ 1, at most [`MAX_PRODUCTS`] products in ascending SKU
    /// order (so each SKU once), each SKU well-formed, each price in 1..2^112 and pv at most [`MAX_PV`], retail_bps at
    /// most 5000.
    pub fn check(&self) -> Result<(), BadCatalogue> {
        let bad = |s: String| Err(BadCatalogue(s));
        if self.version.is_zero() || self.version > U256::from(u32::MAX) {
            return bad(format!("version {} is not in 1..2^32", self.version));
        }
        if self.retailBps > U256::from(5_000) {
            return bad(format!("retail_bps {} is above 5000", self.retailBps));
        }
        if self.products.len() > MAX_PRODUCTS {
            return bad(format!("{} products: a catalogue holds at most {MAX_PRODUCTS}", self.products.len()));
        }
        let limit = U256::from(1) << 112;
        for (i, p) in self.products.iter().enumerate() {
            if !is_sku(&p.sku) {
                return bad(format!("products[{i}]: {:?} is not a SKU", p.sku.chars().take(40).collect::<String>()));
            }
            if i > 0 && self.products[i - 1].sku.as_bytes() >= p.sku.as_bytes() {
                return bad(format!("products[{i}]: SKUs are listed once each, in ascending order"));
            }
            if p.price.is_zero() || p.price >= limit {
                return bad(format!("products[{i}]: price {} is not in 1..2^112", p.price));
            }
            if p.pv > U256::from(MAX_PV) {
                return bad(format!("products[{i}]: pv {} is above {MAX_PV}", p.pv));
            }
        }
        Ok(())
    }

    /// The price of an order of `lines` (SKU, quantity) from this version (checked by [`Self::check`] first).
    pub fn price(&self, lines: &[(String, u32)]) -> Result<Priced, Unpriced> {
        if lines.is_empty() || lines.len() > MAX_ORDER_LINES {
            return Err(Unpriced::Lines(lines.len()));
        }
        let version = u64::try_from(self.version).unwrap_or(u64::MAX);
        let (mut amount, mut pv) = (U256::ZERO, U256::ZERO);
        for (i, (sku, quantity)) in lines.iter().enumerate() {
            if *quantity == 0 || *quantity > MAX_QUANTITY {
                return Err(Unpriced::Quantity(i));
            }
            if lines[..i].iter().any(|(earlier, _)| earlier == sku) {
                return Err(Unpriced::Repeated(i, sku.clone()));
            }
            let product = self
                .products
                .binary_search_by(|p| p.sku.as_bytes().cmp(sku.as_bytes()))
                .map(|at| &self.products[at])
                .map_err(|_| Unpriced::Unknown(i, sku.clone(), version))?;
            if !product.active {
                return Err(Unpriced::Inactive(i, sku.clone(), version));
            }
            // Each price is below 2^112 and each quantity at most 10^4, 50 lines: no sum nears 2^256.
            amount += product.price * U256::from(*quantity);
            pv += product.pv * U256::from(*quantity);
        }
        if amount >= U256::from(1) << 112 {
            return Err(Unpriced::TooLarge);
        }
        Ok(Priced { amount, pv })
    }

    /// The retail commission of a sale of `amount` under this version: ⌊amount × retail_bps / 10000⌋ for a customer
    /// sale (the buyer not registered in the token, the seller registered), 0 otherwise (PLAN-SALES.md §1, §3).
    pub fn retail(&self, amount: U256, buyer_registered: bool, seller_registered: bool) -> U256 {
        if buyer_registered || !seller_registered {
            return U256::ZERO;
        }
        amount * self.retailBps / U256::from(10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::{SignerSync, local::PrivateKeySigner};

    fn product(sku: &str, price: u64, pv: u64, active: bool) -> CatalogueProduct {
        CatalogueProduct { sku: sku.into(), price: U256::from(price), pv: U256::from(pv), active }
    }

    fn version() -> CatalogueVersion {
        CatalogueVersion {
            token: Address::ZERO,
            version: U256::from(3),
            retailBps: U256::from(2_000),
            refundWindow: U256::from(30 * 86_400),
            products: vec![product("A-1", 1_000, 10, true), product("B", 333, 3, true), product("C", 5, 1, false)],
        }
    }

    #[test]
    fn the_type_string_lists_every_product_field() {
        assert_eq!(
            CatalogueVersion::eip712_encode_type(),
            "CatalogueVersion(address token,uint256 version,uint256 retailBps,uint256 refundWindow,CatalogueProduct[] \
             products)CatalogueProduct(string sku,uint256 price,uint256 pv,bool active)"
        );
    }

    #[test]
    fn an_order_is_priced_from_active_products_only() {
        let v = version();
        assert_eq!(v.check(), Ok(()));
        let priced = v.price(&[("B".into(), 3), ("A-1".into(), 2)]).unwrap();
        assert_eq!((priced.amount, priced.pv), (U256::from(2_999), U256::from(29)));
        assert_eq!(v.price(&[("C".into(), 1)]), Err(Unpriced::Inactive(0, "C".into(), 3)));
        assert_eq!(v.price(&[("Z".into(), 1)]), Err(Unpriced::Unknown(0, "Z".into(), 3)));
        assert_eq!(v.price(&[("B".into(), 1), ("B".into(), 1)]), Err(Unpriced::Repeated(1, "B".into())));
        assert_eq!(v.price(&[("B".into(), 0)]), Err(Unpriced::Quantity(0)));
        assert_eq!(v.price(&[]), Err(Unpriced::Lines(0)));
        let huge = CatalogueVersion { products: vec![product("X", 1, 0, true)], ..version() };
        let mut big = huge.clone();
        big.products[0].price = (U256::from(1) << 112) - U256::from(1);
        assert_eq!(big.price(&[("X".into(), 2)]), Err(Unpriced::TooLarge));
    }

    #[test]
    fn retail_is_paid_on_a_customer_sale_to_a_member_only() {
        let v = version();
        assert_eq!(v.retail(U256::from(2_999), false, true), U256::from(599));
        assert_eq!(v.retail(U256::from(2_999), true, true), U256::ZERO);
        assert_eq!(v.retail(U256::from(2_999), false, false), U256::ZERO);
    }

    #[test]
    fn unordered_repeated_or_malformed_products_are_no_version() {
        let mut v = version();
        v.products.swap(0, 1);
        assert!(v.check().is_err());
        let mut v = version();
        v.products[1].sku = "A-1".into();
        assert!(v.check().is_err());
        for sku in ["", "-A", "a b", &"x".repeat(33)] {
            let mut v = version();
            v.products[0].sku = sku.into();
            assert!(v.check().is_err(), "{sku:?}");
        }
        let mut v = version();
        v.products[0].price = U256::ZERO;
        assert!(v.check().is_err());
        let mut v = version();
        v.retailBps = U256::from(5_001);
        assert!(v.check().is_err());
    }

    #[test]
    fn the_signature_names_the_wallet_and_binds_chain_contract_and_every_price() {
        let wallet = PrivateKeySigner::random();
        let contract = Address::repeat_byte(7);
        let v = version();
        let signature = wallet.sign_hash_sync(&v.digest(56, contract)).unwrap();
        assert_eq!(v.signed_by(56, contract, &signature), Some(wallet.address()));
        assert_ne!(v.signed_by(97, contract, &signature), Some(wallet.address()));
        let mut cheaper = v.clone();
        cheaper.products[0].price = U256::from(999);
        assert_ne!(cheaper.signed_by(56, contract, &signature), Some(wallet.address()));
    }
}
