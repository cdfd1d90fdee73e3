//! Who may be handed a register or retopup payload, decided from the ledger before anything is signed. The plan
//! engine refuses the same things again when the event arrives (and quarantines it); refusing early spares the
//! user a payment that would be quarantined.

use alloy::primitives::Address;
use sqlx::PgPool;

use crate::plan::{Amount, PlanKind};

/// What a payload for an asset is built from: the asset and its newest plan version.
#[derive(Debug, Clone)]
pub struct PaymentTerms {
    /// Asset the payload pays into.
    pub asset_id: i32,
    /// Chain of the asset's Settlement contract (selects the signing domain).
    pub chain_id: u64,
    /// Zero address for the chain's native coin.
    pub token: Address,
    /// Display symbol, e.g. `BNB`, `USDT`.
    pub symbol: String,
    /// Decimals of the base unit (18 for BNB, 6 for USDT), for display only.
    pub decimals: i16,
    /// What a registration or retopup pays, by the asset's plan.
    pub pricing: Pricing,
}

/// How an asset's newest plan version prices a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// The auto-pool plan (PLAN.md): one registration fee and one retopup fee.
    Fixed {
        /// `registration_fee`.
        registration: Amount,
        /// `retopup_fee`.
        retopup: Amount,
    },
    /// The generation plan (PLAN-GENERATION.md): the payer picks one of the packages, for a registration and a
    /// purchase (retopup) alike.
    Packages(Vec<Amount>),
    /// The sales plan (PLAN-SALES.md §2): a registration pays the join fee (0 by default); there is nothing to
    /// retop (members buy products as sales, through the sales desk).
    JoinOnly(Amount),
}

impl PaymentTerms {
    /// What a registration (`register`) or retopup pays: the plan's fixed fee, or `package`, which must then be one
    /// of the plan's packages. A package for a fixed-price asset, a missing package or one that is not offered is
    /// refused, naming what is.
    pub fn price(&self, register: bool, package: Option<Amount>) -> Result<Amount, Ineligible> {
        match (&self.pricing, package) {
            (Pricing::Fixed { registration, .. }, None) if register => Ok(*registration),
            (Pricing::Fixed { retopup, .. }, None) => Ok(*retopup),
            (Pricing::Fixed { .. } | Pricing::JoinOnly(_), Some(_)) => Err(Ineligible::FixedPrice),
            (Pricing::JoinOnly(fee), None) if register => Ok(*fee),
            (Pricing::JoinOnly(_), None) => Err(Ineligible::NoRetopup),
            (Pricing::Packages(packages), None) => Err(Ineligible::PackageRequired(packages.clone())),
            (Pricing::Packages(packages), Some(p)) if packages.contains(&p) => Ok(p),
            (Pricing::Packages(packages), Some(p)) => {
                Err(Ineligible::NotAPackage { got: p, packages: packages.clone() })
            }
        }
    }
}

/// Why no payload is handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ineligible {
    /// No asset with this id.
    #[error("no asset {0}")]
    UnknownAsset(i32),
    /// The wallet named itself as sponsor.
    #[error("a wallet cannot sponsor itself")]
    SelfSponsor,
    /// The wallet is already a user of this asset; a second registration would be quarantined.
    #[error("this wallet is already registered in this asset")]
    AlreadyRegistered,
    /// The wallet is frozen (in any asset, for a registration).
    #[error("this wallet is frozen")]
    Frozen,
    /// The sponsor is not a user of this asset; the event would be quarantined.
    #[error("the sponsor is not registered in this asset")]
    UnknownSponsor,
    /// The sponsor is frozen, so no new referrals are accepted under it.
    #[error("the sponsor is frozen")]
    SponsorFrozen,
    /// Retopup by a wallet that is not a user of this asset.
    #[error("this wallet is not registered in this asset")]
    NotRegistered,
    /// The asset's plan sells packages and the request named none.
    #[error("this asset sells packages: name one of {0:?} (base units) as `package`")]
    PackageRequired(Vec<Amount>),
    /// The request named an amount that is not one of the plan's packages.
    #[error("{got} is not one of this asset's packages {packages:?} (base units)")]
    NotAPackage {
        /// The amount asked for.
        got: Amount,
        /// The packages of the plan's newest version.
        packages: Vec<Amount>,
    },
    /// The request named a package for an asset whose plan has fixed fees.
    #[error("this asset's plan has fixed fees: send no `package`")]
    FixedPrice,
    /// A retopup of an asset whose plan takes none (the sales plan: members buy products instead).
    #[error("this asset's plan takes no retopup: members buy products from the shop")]
    NoRetopup,
}

impl Ineligible {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Ineligible::UnknownAsset(_) => "unknown_asset",
            Ineligible::SelfSponsor => "self_sponsor",
            Ineligible::AlreadyRegistered => "already_registered",
            Ineligible::Frozen => "user_frozen",
            Ineligible::UnknownSponsor => "unknown_sponsor",
            Ineligible::SponsorFrozen => "sponsor_frozen",
            Ineligible::NotRegistered => "not_registered",
            Ineligible::PackageRequired(_) => "package_required",
            Ineligible::NotAPackage { .. } => "not_a_package",
            Ineligible::FixedPrice => "fixed_price",
            Ineligible::NoRetopup => "no_retopup",
        }
    }
}

/// The asset and how its newest plan version prices a payment.
pub async fn terms(pool: &PgPool, asset_id: i32) -> Result<Result<PaymentTerms, Ineligible>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT a.chain_id, a.token, a.symbol, a.decimals, a.plan_kind, v.params
         FROM assets a JOIN plan_versions v ON v.asset_id = a.id
         WHERE a.id = $1 ORDER BY v.version DESC LIMIT 1",
        asset_id
    )
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(Err(Ineligible::UnknownAsset(asset_id))) };
    let bad = |e: serde_json::Error| sqlx::Error::Decode(format!("asset {asset_id}: plan parameters: {e}").into());
    let kind = PlanKind::parse(&r.plan_kind)
        .ok_or_else(|| sqlx::Error::Decode(format!("asset {asset_id}: plan kind {}", r.plan_kind).into()))?;
    let pricing = crate::plan::params_of(kind).pricing(r.params).map_err(bad)?;
    Ok(Ok(PaymentTerms {
        asset_id,
        chain_id: r.chain_id as u64,
        token: Address::from_slice(&r.token),
        symbol: r.symbol,
        decimals: r.decimals,
        pricing,
    }))
}

/// `Some(frozen)` when `wallet` is a user of `asset_id`.
async fn standing(pool: &PgPool, asset_id: i32, wallet: Address) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar!("SELECT frozen FROM users WHERE asset_id = $1 AND address = $2", asset_id, wallet.as_slice())
        .fetch_optional(pool)
        .await
}

/// May `wallet` register in `asset_id` under `sponsor`? The sponsor must be an active user of the asset, not the
/// wallet itself; the wallet must not be registered in the asset yet, nor frozen in any asset.
pub async fn registration(
    pool: &PgPool,
    asset_id: i32,
    wallet: Address,
    sponsor: Address,
) -> Result<Result<PaymentTerms, Ineligible>, sqlx::Error> {
    let terms = match terms(pool, asset_id).await? {
        Ok(terms) => terms,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if sponsor == wallet {
        return Ok(Err(Ineligible::SelfSponsor));
    }
    if standing(pool, asset_id, wallet).await?.is_some() {
        return Ok(Err(Ineligible::AlreadyRegistered));
    }
    let frozen_anywhere = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE address = $1 AND frozen) AS "frozen!""#,
        wallet.as_slice()
    )
    .fetch_one(pool)
    .await?;
    if frozen_anywhere {
        return Ok(Err(Ineligible::Frozen));
    }
    Ok(match standing(pool, asset_id, sponsor).await? {
        None => Err(Ineligible::UnknownSponsor),
        Some(true) => Err(Ineligible::SponsorFrozen),
        Some(false) => Ok(terms),
    })
}

/// May `wallet` retop in `asset_id`? It must be a user of the asset and not frozen.
pub async fn retopup(
    pool: &PgPool,
    asset_id: i32,
    wallet: Address,
) -> Result<Result<PaymentTerms, Ineligible>, sqlx::Error> {
    let terms = match terms(pool, asset_id).await? {
        Ok(terms) => terms,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(match standing(pool, asset_id, wallet).await? {
        None => Err(Ineligible::NotRegistered),
        Some(true) => Err(Ineligible::Frozen),
        Some(false) => Ok(terms),
    })
}
