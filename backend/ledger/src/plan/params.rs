//! Plan parameters (PLAN.md §0) and the versions in force per block (§6).

use serde::{Deserialize, Serialize};

use super::Amount;

/// Basis-point denominator: a share is `amount * bps / BPS_DENOMINATOR`, rounded down.
pub const BPS_DENOMINATOR: u128 = 10_000;
/// Number of slots in a node's matrix (three layers below it).
pub const MATRIX_SLOTS: u64 = 14;
/// Upper bound on any fee or price, so `amount * bps` can never overflow a u128.
pub const MAX_AMOUNT: Amount = u128::MAX / BPS_DENOMINATOR;

/// The parameters of one asset's plan, in base units of that asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanParams {
    /// Exact amount a registration must pay; also the level-1 node price.
    #[serde(with = "amount_str")]
    pub registration_fee: Amount,
    /// DIRECT reward to the sponsor of a registration that is not a pool entry; the rest goes to the company.
    #[serde(with = "amount_str")]
    pub direct_amount: Amount,
    /// Every n-th direct referral's fee is the sponsor's level-1 pool entry instead of a DIRECT reward.
    pub pool_entry_every: u32,
    /// Most nodes one user may hold in one level; no pool entry or auto-progression goes beyond it.
    pub max_nodes_per_level: u32,
    /// `level_price[L-1]` is the price of a node in level L; its length is the top level.
    #[serde(with = "amount_vec_str")]
    pub level_price: Vec<Amount>,
    /// POOL_L1/L2/L3 shares of a placement for the parent, grandparent and great-grandparent node.
    pub layer_bps: [u32; 3],
    /// How many of the last matrix slots reserve the POOL_L3 credit towards the next level.
    pub reserve_slots: u32,
    /// Exact amount a retopup must pay; shared out as LEVEL rewards up the sponsor chain.
    #[serde(with = "amount_str")]
    pub retopup_fee: Amount,
    /// `level_bps[i-1]` is the LEVEL share of the i-th sponsor up the chain.
    pub level_bps: Vec<u32>,
}

/// Why a parameter set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPlan {
    /// `level_price` must name between 1 and 64 levels.
    #[error("level_price must have 1..=64 levels, got {0}")]
    LevelCount(usize),
    /// A level-1 node must cost exactly the registration fee (a pool entry is a whole fee).
    #[error("level_price[1] ({price}) must equal registration_fee ({fee})")]
    FirstPriceNotFee {
        /// `level_price[0]`: the level-1 node price given, in base units.
        price: Amount,
        /// `registration_fee` given, in base units.
        fee: Amount,
    },
    /// The DIRECT reward cannot exceed the fee it is paid from.
    #[error("direct_amount ({direct}) exceeds registration_fee ({fee})")]
    DirectAboveFee {
        /// `direct_amount` given: the DIRECT reward to the sponsor, in base units.
        direct: Amount,
        /// `registration_fee` given, in base units.
        fee: Amount,
    },
    /// POOL_L1 + POOL_L2 + POOL_L3 shares exceed the whole placement.
    #[error("sum of layer_bps is {0} > 10000")]
    LayerBps(u128),
    /// LEVEL shares exceed the whole retopup fee.
    #[error("sum of level_bps is {0} > 10000")]
    LevelBps(u128),
    /// More than 64 LEVEL generations.
    #[error("level_bps must have at most 64 entries, got {0}")]
    LevelDepth(usize),
    /// More reserve slots than layer 3 of the matrix holds (8).
    #[error("reserve_slots is {0} > 8")]
    ReserveSlots(u32),
    /// `pool_entry_every` of 0: the every-n-th-referral rule of PLAN.md §2 needs n ≥ 1.
    #[error("pool_entry_every must be at least 1")]
    PoolEntryEvery,
    /// A fee or price of 0, or above [`MAX_AMOUNT`] where share arithmetic could overflow.
    #[error("every fee and price must be in 1..={MAX_AMOUNT}")]
    AmountRange,
    /// The generation plan's parameters break PLAN-GENERATION.md §0.
    #[error("invalid generation plan: {0}")]
    Generation(String),
    /// A binary-plan parameter set broke PLAN-BINARY.md §0's rules.
    #[error("invalid binary plan: {0}")]
    Binary(String),
    /// A sales-plan parameter set broke PLAN-SALES.md §0's rules.
    #[error("invalid sales plan: {0}")]
    Sales(String),
}

/// A plan's parameters: what a [`PlanSchedule`] holds, one set per version.
pub trait PlanRules: Clone + PartialEq {
    /// The plan these parameters are for.
    const KIND: super::PlanKind;
    /// The plan's own validation rules.
    fn validate(&self) -> Result<(), InvalidPlan>;
    /// What a new version may not change of the version before it (default: anything may change).
    fn may_follow(&self, _before: &Self) -> Result<(), InvalidPlan> {
        Ok(())
    }
}

impl PlanRules for PlanParams {
    const KIND: super::PlanKind = super::PlanKind::AutoPool;
    fn validate(&self) -> Result<(), InvalidPlan> {
        PlanParams::validate(self)
    }
}

impl PlanParams {
    /// PLAN.md §0 defaults for an asset with `decimals` decimals (20 units fee, 18 direct, …).
    pub fn defaults(decimals: u32) -> Self {
        Self::defaults_in(10u128.pow(decimals))
    }

    /// PLAN.md §0 defaults counted in `unit` base units (20 `unit`s a registration, 18 direct, …): a whole token, or
    /// a fraction of a coin whose whole unit is worth far more (`backend::assets::default_unit`).
    pub fn defaults_in(unit: u128) -> Self {
        Self {
            registration_fee: 20 * unit,
            direct_amount: 18 * unit,
            pool_entry_every: 2,
            max_nodes_per_level: 15,
            level_price: (0..15).map(|l| (20 * unit) << l).collect(),
            layer_bps: [5000, 2500, 1500],
            reserve_slots: 4,
            retopup_fee: 40 * unit,
            level_bps: vec![3000, 1500, 1000, 500, 500, 500, 500, 500, 1000, 1000],
        }
    }

    /// The checks of PLAN.md §0, plus bounds that keep the integer arithmetic exact.
    pub fn validate(&self) -> Result<(), InvalidPlan> {
        let levels = self.level_price.len();
        if levels == 0 || levels > 64 {
            return Err(InvalidPlan::LevelCount(levels));
        }
        if self.level_price[0] != self.registration_fee {
            return Err(InvalidPlan::FirstPriceNotFee { price: self.level_price[0], fee: self.registration_fee });
        }
        if self.direct_amount > self.registration_fee {
            return Err(InvalidPlan::DirectAboveFee { direct: self.direct_amount, fee: self.registration_fee });
        }
        let layer: u128 = self.layer_bps.iter().map(|&b| u128::from(b)).sum();
        if layer > BPS_DENOMINATOR {
            return Err(InvalidPlan::LayerBps(layer));
        }
        if self.level_bps.len() > 64 {
            return Err(InvalidPlan::LevelDepth(self.level_bps.len()));
        }
        let level: u128 = self.level_bps.iter().map(|&b| u128::from(b)).sum();
        if level > BPS_DENOMINATOR {
            return Err(InvalidPlan::LevelBps(level));
        }
        if self.reserve_slots > 8 {
            return Err(InvalidPlan::ReserveSlots(self.reserve_slots));
        }
        if self.pool_entry_every == 0 {
            return Err(InvalidPlan::PoolEntryEvery);
        }
        let in_range = |a: &Amount| (1..=MAX_AMOUNT).contains(a);
        if !in_range(&self.registration_fee) || !in_range(&self.retopup_fee) || !self.level_price.iter().all(in_range) {
            return Err(InvalidPlan::AmountRange);
        }
        Ok(())
    }

    /// The highest level; placements there never reserve.
    pub fn top_level(&self) -> u32 {
        self.level_price.len() as u32
    }

    /// Price of a node in `level` (1-based), if that level exists.
    pub fn price(&self, level: u32) -> Option<Amount> {
        self.level_price.get(level.checked_sub(1)? as usize).copied()
    }
}

/// `amount * bps / 10000`, rounded down. Parameters are validated so this cannot overflow.
pub fn share(amount: Amount, bps: u32) -> Amount {
    amount * u128::from(bps) / BPS_DENOMINATOR
}

/// One parameter set and the first block it governs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanVersion<P = PlanParams> {
    /// 1 for the asset's first plan, then one more per admin change.
    pub version: u32,
    /// First block whose events this version governs; earlier events keep their version.
    pub effective_from_block: u64,
    /// The parameters in force from that block.
    pub params: P,
}

/// Why a new plan version was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidVersion {
    /// The new parameters themselves are invalid.
    #[error(transparent)]
    Params(#[from] InvalidPlan),
    /// The version would start at or before an applied block or the latest version, changing past events.
    #[error("a version must take effect after block {after}, got {from}")]
    NotInFuture {
        /// First block the refused version was to govern.
        from: u64,
        /// Latest of the last applied block and the newest version's start; `from` must exceed it.
        after: u64,
    },
}

/// The plan versions of one asset, ordered by first block; the first starts at block 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSchedule<P = PlanParams> {
    versions: Vec<PlanVersion<P>>,
}

impl<P: PlanRules> PlanSchedule<P> {
    /// A schedule whose version 1 governs every block from 0.
    pub fn new(params: P) -> Result<Self, InvalidPlan> {
        params.validate()?;
        Ok(Self { versions: vec![PlanVersion { version: 1, effective_from_block: 0, params }] })
    }

    /// Rebuilds a schedule from stored versions (any order); they must be valid and distinct.
    pub fn from_versions(mut versions: Vec<PlanVersion<P>>) -> Result<Self, InvalidVersion> {
        versions.sort_by_key(|v| v.effective_from_block);
        for v in &versions {
            v.params.validate()?;
        }
        if versions.first().map(|v| v.effective_from_block) != Some(0) {
            return Err(InvalidVersion::NotInFuture { from: 0, after: 0 });
        }
        Ok(Self { versions })
    }

    /// Adds a version effective from `from_block`, which must be later than both the last
    /// applied block and the start of the latest version, so no applied event changes meaning.
    pub fn push(
        &mut self,
        from_block: u64,
        last_applied_block: Option<u64>,
        params: P,
    ) -> Result<&PlanVersion<P>, InvalidVersion> {
        params.validate()?;
        let latest = self.latest();
        params.may_follow(&latest.params)?;
        let after = last_applied_block.unwrap_or(0).max(latest.effective_from_block);
        if from_block <= after {
            return Err(InvalidVersion::NotInFuture { from: from_block, after });
        }
        let version = latest.version + 1;
        self.versions.push(PlanVersion { version, effective_from_block: from_block, params });
        Ok(self.latest())
    }

    /// The version governing events of `block`.
    pub fn at(&self, block: u64) -> &PlanVersion<P> {
        let i = self.versions.partition_point(|v| v.effective_from_block <= block);
        // The first version starts at block 0, so i >= 1.
        &self.versions[i.saturating_sub(1)]
    }

    /// The newest version: what new payloads are priced with (it may not be in force yet).
    pub fn latest(&self) -> &PlanVersion<P> {
        self.versions.last().expect("a schedule has at least one version")
    }

    /// Every version, oldest first: the asset's plan history (PLAN.md §6).
    pub fn versions(&self) -> &[PlanVersion<P>] {
        &self.versions
    }
}

thread_local! {
    /// The decimals of the asset whose own units plan amounts are read and written in on this thread
    /// ([`in_token_units`]); `None`: base units, as stored and as the API takes them.
    static TOKEN_UNITS: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every amount of every plan's parameters read and written in the asset's own units (`"20"`,
/// `"0.05"` of a token of `decimals` decimals) instead of base units: the parameter file an operator writes
/// (`referral-asset --params`). The amounts are the ones the types mark (`amount_str`, `amount_vec_str`), so no
/// plan's file can list an amount the conversion misses.
pub fn in_token_units<R>(decimals: u32, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u32>);
    impl Drop for Restore {
        fn drop(&mut self) {
            TOKEN_UNITS.with(|units| units.set(self.0));
        }
    }
    let _restore = Restore(TOKEN_UNITS.with(|units| units.replace(Some(decimals))));
    f()
}

/// Longest amount in token units read (a u128 has 39 digits, a point and up to 77 decimals besides).
const UNITS_MAX_LEN: usize = 120;

/// `text`, an amount in the units of a token of `decimals` decimals (`"20"`, `"0.05"`, no sign, no exponent, at
/// most `decimals` digits after the point), in base units.
pub fn parse_token_units(text: &str, decimals: u32) -> Result<Amount, String> {
    if text.len() > UNITS_MAX_LEN {
        return Err(format!("an amount of {} characters: at most {UNITS_MAX_LEN}", text.len()));
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (text.contains('.') && fraction.is_empty()) {
        return Err(format!("{text:?} is not an amount in token units (digits, and a point: \"20\", \"0.05\")"));
    }
    if fraction.len() > decimals as usize {
        return Err(format!("{text:?} has {} decimals; the token has {decimals}", fraction.len()));
    }
    let too_large = || format!("{text:?} is too large");
    let scale = 10u128.checked_pow(decimals).ok_or_else(too_large)?;
    let whole: u128 = whole.parse().map_err(|_| too_large())?;
    let padded = format!("{fraction:0<width$}", width = decimals as usize);
    let fraction: u128 = if padded.is_empty() { 0 } else { padded.parse().map_err(|_| too_large())? };
    whole.checked_mul(scale).and_then(|w| w.checked_add(fraction)).ok_or_else(too_large)
}

/// `amount` (base units) in the units of a token of `decimals` decimals, without trailing zeros (`"20"`, `"0.05"`).
pub fn format_token_units(amount: Amount, decimals: u32) -> String {
    let Some(scale) = 10u128.checked_pow(decimals) else { return amount.to_string() };
    let (whole, fraction) = (amount / scale, amount % scale);
    if fraction == 0 {
        return whole.to_string();
    }
    let fraction = format!("{fraction:0>width$}", width = decimals as usize);
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// One amount as it travels in JSON: a decimal string, in base units or, within [`in_token_units`], token units.
fn amount_text(v: u128) -> String {
    match TOKEN_UNITS.with(std::cell::Cell::get) {
        Some(decimals) => format_token_units(v, decimals),
        None => v.to_string(),
    }
}

fn amount_of(text: &str) -> Result<u128, String> {
    match TOKEN_UNITS.with(std::cell::Cell::get) {
        Some(decimals) => parse_token_units(text, decimals),
        None => text.parse().map_err(|e| format!("{text:?}: {e} (amounts are decimal strings of base units)")),
    }
}

/// Amounts travel as decimal strings in JSON: u128 does not survive JSON numbers.
pub(crate) mod amount_str {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::amount_text(*v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        super::amount_of(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

pub(crate) mod amount_vec_str {
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser::SerializeSeq};

    pub(crate) fn serialize<S: Serializer>(v: &[u128], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for a in v {
            seq.serialize_element(&super::amount_text(*a))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u128>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|s| super::amount_of(s).map_err(D::Error::custom)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip_through_json() {
        let p = PlanParams::defaults(18);
        p.validate().unwrap();
        assert_eq!(p.level_price[14], 20 * 10u128.pow(18) * (1 << 14));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["registration_fee"], "20000000000000000000");
        let back: PlanParams = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn validation_refuses_each_broken_rule() {
        let ok = PlanParams::defaults(6);
        let mut p = ok.clone();
        p.level_price[0] += 1;
        assert!(matches!(p.validate(), Err(InvalidPlan::FirstPriceNotFee { .. })));
        let mut p = ok.clone();
        p.direct_amount = p.registration_fee + 1;
        assert!(matches!(p.validate(), Err(InvalidPlan::DirectAboveFee { .. })));
        let mut p = ok.clone();
        p.layer_bps = [5000, 5000, 1];
        assert_eq!(p.validate(), Err(InvalidPlan::LayerBps(10001)));
        let mut p = ok.clone();
        p.level_bps[0] = 3001;
        assert_eq!(p.validate(), Err(InvalidPlan::LevelBps(10001)));
        let mut p = ok.clone();
        p.reserve_slots = 9;
        assert_eq!(p.validate(), Err(InvalidPlan::ReserveSlots(9)));
        let mut p = ok.clone();
        p.pool_entry_every = 0;
        assert_eq!(p.validate(), Err(InvalidPlan::PoolEntryEvery));
        let mut p = ok;
        p.retopup_fee = u128::MAX;
        assert_eq!(p.validate(), Err(InvalidPlan::AmountRange));
    }

    #[test]
    fn schedule_picks_the_version_in_force_and_refuses_the_past() {
        let mut s = PlanSchedule::new(PlanParams::defaults(18)).unwrap();
        let mut p2 = PlanParams::defaults(18);
        p2.retopup_fee = 50;
        assert!(matches!(s.push(100, Some(100), p2.clone()), Err(InvalidVersion::NotInFuture { .. })));
        assert_eq!(s.push(101, Some(100), p2.clone()).unwrap().version, 2);
        assert_eq!(s.at(100).version, 1);
        assert_eq!(s.at(101).version, 2);
        assert_eq!(s.at(u64::MAX).params, p2);
        assert!(s.push(101, None, p2).is_err());
    }
}
