//! The binary plan's parameters (PLAN-BINARY.md §0), their validation and its periods (calendar months in UTC
//! block time, or weeks from `week_origin`).

use serde::{Deserialize, Serialize};

use super::super::kind::PlanKind;
use super::super::params::{InvalidPlan, MAX_AMOUNT, PlanRules, amount_str, amount_vec_str};
use super::super::vocabulary::Amount;

/// Basis points' denominator.
pub(super) const BPS: u128 = 10_000;
/// Seconds in a week.
pub const WEEK_SECS: u64 = 604_800;
const DAY_SECS: u64 = 86_400;

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    /// A calendar month in UTC block time: [00:00:00 on its first day, 00:00:00 on the next month's first day).
    Month,
    /// A week of 604,800 s from `week_origin`.
    Week,
}

/// The plan's parameters (§0), amounts in base units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryParams {
    /// The only amounts a registration or purchase may have, strictly increasing.
    #[serde(with = "amount_vec_str")]
    pub packages: Vec<Amount>,
    /// A purchase of P carries volume ⌊P × pv_bps / 10000⌋.
    pub pv_bps: u32,
    /// The sponsor's DIRECT share of each purchase.
    pub direct_bps: u32,
    /// Volume on each leg that makes one pair.
    #[serde(with = "amount_str")]
    pub pair_volume: Amount,
    /// Paid per pair.
    #[serde(with = "amount_str")]
    pub pair_bonus: Amount,
    /// Pairs paid per user per period.
    pub max_pairs: u32,
    /// A user's first pairs (lifetime) exempt from retention.
    pub free_pairs: u32,
    /// paid_in at which a user becomes an active buyer.
    #[serde(with = "amount_str")]
    pub active_paid_in: Amount,
    /// Share of a pair's bonus reserved while the user is not an active buyer.
    pub retention_bps: u32,
    /// A period's pair bonuses never exceed this share of the period's volume.
    pub max_payout_bps: u32,
    /// Months or weeks; never changes between versions.
    pub period: PeriodKind,
    /// Unix time of week 0's start (used when `period` is `week`); never changes between versions.
    pub week_origin: u64,
    /// The company's share of each payout entry (PLAN-GENERATION.md §4).
    pub withdrawal_fee_bps: u32,
}

impl BinaryParams {
    /// The defaults of §0 for a token of `decimals` decimals (USDT: 6).
    pub fn defaults(decimals: u32) -> Self {
        Self::defaults_in(10u128.pow(decimals))
    }

    /// The defaults of §0 counted in `unit` base units (packages of 100, 500, 1000 and 5000 `unit`s, …).
    pub fn defaults_in(unit: u128) -> Self {
        Self {
            packages: [100, 500, 1000, 5000].iter().map(|p| p * unit).collect(),
            pv_bps: 10_000,
            direct_bps: 1000,
            pair_volume: 100 * unit,
            pair_bonus: 10 * unit,
            max_pairs: 10,
            free_pairs: 5,
            active_paid_in: 500 * unit,
            retention_bps: 2000,
            max_payout_bps: 5000,
            period: PeriodKind::Month,
            week_origin: 345_600,
            withdrawal_fee_bps: 0,
        }
    }

    /// §0's validation, plus bounds that keep the integer arithmetic exact.
    pub fn validate(&self) -> Result<(), InvalidPlan> {
        let bad = |why: &str| Err(InvalidPlan::Binary(why.to_owned()));
        if self.packages.is_empty() || self.packages[0] == 0 || self.packages.windows(2).any(|w| w[0] >= w[1]) {
            return bad("packages must be non-empty, above 0 and strictly increasing");
        }
        if self.packages.len() > 32 {
            return bad("at most 32 packages");
        }
        // Amounts are multiplied by at most 10000 × 10000 and summed over many purchases: keep them far inside u128.
        let limit = MAX_AMOUNT / 1_000_000_000;
        let amounts = [self.pair_volume, self.pair_bonus, self.active_paid_in];
        if self.packages.iter().chain(amounts.iter()).any(|a| *a > limit) {
            return bad("an amount is too large");
        }
        if !(1..=10_000).contains(&self.pv_bps) {
            return bad("pv_bps must be in 1..=10000");
        }
        if self.direct_bps > 5_000 {
            return bad("direct_bps must be at most 5000");
        }
        if self.pair_volume == 0 || self.pair_bonus == 0 {
            return bad("pair_volume and pair_bonus must be above 0");
        }
        if !(1..=1_000_000).contains(&self.max_pairs) {
            return bad("max_pairs must be in 1..=1000000");
        }
        if self.free_pairs > 1_000_000 {
            return bad("free_pairs must be at most 1000000");
        }
        if self.retention_bps > 10_000 || self.max_payout_bps > 10_000 {
            return bad("retention_bps and max_payout_bps must be at most 10000");
        }
        if self.withdrawal_fee_bps > 2_000 {
            return bad("withdrawal_fee_bps must be at most 2000");
        }
        Ok(())
    }

    /// The volume a purchase of `amount` carries.
    pub fn pv(&self, amount: Amount) -> Amount {
        amount * u128::from(self.pv_bps) / BPS
    }

    /// The period a block of unix time `timestamp` belongs to: months since January 1970, or weeks since
    /// `week_origin` (a block at a period's end is in the next).
    pub fn period_of(&self, timestamp: u64) -> u64 {
        self.period.period_of(self.week_origin, timestamp)
    }

    /// Period `period`'s bounds (unix time): its first second and the first second of the next.
    pub fn bounds(&self, period: u64) -> (u64, u64) {
        self.period.bounds(self.week_origin, period)
    }

    /// The company's fee of a payout entry of `amount`: rounded up (PLAN-GENERATION.md §4).
    pub fn withdrawal_fee(&self, amount: Amount) -> Amount {
        (amount * u128::from(self.withdrawal_fee_bps)).div_ceil(BPS)
    }
}

impl PlanRules for BinaryParams {
    const KIND: PlanKind = PlanKind::Binary;
    fn validate(&self) -> Result<(), InvalidPlan> {
        BinaryParams::validate(self)
    }
    /// Periods are numbered and closed in order: a version changing their length or origin would renumber periods
    /// already closed, so both stay the first version's.
    fn may_follow(&self, before: &Self) -> Result<(), InvalidPlan> {
        self.period.may_follow(self.week_origin, (before.period, before.week_origin)).map_err(InvalidPlan::Binary)
    }
}

impl PeriodKind {
    /// What a new version of a plan with periods may not change: periods are numbered and closed in order, so a
    /// version changing their length or origin would renumber periods already closed. `Err` says why.
    pub(in crate::plan) fn may_follow(self, origin: u64, before: (Self, u64)) -> Result<(), String> {
        if (self, origin) != before {
            return Err("period and week_origin cannot change in a new version: periods already closed are numbered \
                        from them"
                .to_owned());
        }
        Ok(())
    }

    /// The period a block of unix time `timestamp` belongs to: months since January 1970, or weeks since
    /// `week_origin` (a block at a period's end is in the next). The binary and the sales plan share this calendar.
    pub fn period_of(self, week_origin: u64, timestamp: u64) -> u64 {
        match self {
            Self::Month => {
                let (y, m, _) = civil_from_days((timestamp / DAY_SECS) as i64);
                ((y - 1970) * 12 + i64::from(m) - 1).max(0) as u64
            }
            Self::Week => timestamp.saturating_sub(week_origin) / WEEK_SECS,
        }
    }

    /// Period `period`'s bounds (unix time): its first second and the first second of the next.
    pub fn bounds(self, week_origin: u64, period: u64) -> (u64, u64) {
        match self {
            Self::Month => (month_start(period), month_start(period + 1)),
            Self::Week => (week_origin + period * WEEK_SECS, week_origin + (period + 1) * WEEK_SECS),
        }
    }
}

/// Unix time of the first second of month `index` (months since January 1970).
fn month_start(index: u64) -> u64 {
    let (y, m) = (1970 + (index / 12) as i64, (index % 12) as u32 + 1);
    days_from_civil(y, m, 1) as u64 * DAY_SECS
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of day `z` since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_calendar_months_in_utc() {
        let p = BinaryParams::defaults(6);
        // 2026-11-01T00:00:00Z = 1793491200; 2026-12-01 = 1796083200; 2027-01-01 = 1798761600.
        let nov = p.period_of(1_793_491_200);
        assert_eq!(nov, (2026 - 1970) * 12 + 10);
        assert_eq!(p.bounds(nov), (1_793_491_200, 1_796_083_200));
        assert_eq!(p.period_of(1_796_083_199), nov, "the last second of November");
        assert_eq!(p.period_of(1_796_083_200), nov + 1, "a block at the end belongs to the next month");
        assert_eq!(p.bounds(nov + 1).1, 1_798_761_600, "December has 31 days");
        // February of a leap year (2028-02-01 = 1832976000, 2028-03-01 = 1835481600: 29 days).
        let feb = p.period_of(1_832_976_000);
        assert_eq!(p.bounds(feb), (1_832_976_000, 1_835_481_600));
        assert_eq!(p.period_of(0), 0);
        for day in (0..40_000i64).step_by(7) {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn weeks_count_from_the_origin() {
        let p = BinaryParams { period: PeriodKind::Week, ..BinaryParams::defaults(6) };
        assert_eq!((p.period_of(345_599), p.period_of(345_600), p.period_of(345_600 + WEEK_SECS)), (0, 0, 1));
        assert_eq!(p.bounds(2), (345_600 + 2 * WEEK_SECS, 345_600 + 3 * WEEK_SECS));
    }

    #[test]
    fn validation_refuses_what_section_0_refuses() {
        let p = BinaryParams::defaults(6);
        p.validate().unwrap();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["pair_volume"], "100000000");
        assert_eq!(json["period"], "month");
        assert_eq!(serde_json::from_value::<BinaryParams>(json).unwrap(), p);
        let refused = |f: &dyn Fn(&mut BinaryParams)| {
            let mut q = p.clone();
            f(&mut q);
            assert!(q.validate().is_err(), "{q:?} should be refused");
        };
        refused(&|q| q.packages = vec![]);
        refused(&|q| q.packages = vec![500, 100]);
        refused(&|q| q.pv_bps = 0);
        refused(&|q| q.pv_bps = 10_001);
        refused(&|q| q.direct_bps = 5_001);
        refused(&|q| q.pair_volume = 0);
        refused(&|q| q.pair_bonus = 0);
        refused(&|q| q.max_pairs = 0);
        refused(&|q| q.retention_bps = 10_001);
        refused(&|q| q.max_payout_bps = 10_001);
        refused(&|q| q.withdrawal_fee_bps = 2_001);
        let weekly = BinaryParams { period: PeriodKind::Week, ..p.clone() };
        assert!(weekly.may_follow(&p).is_err(), "the period cannot change");
        let moved = BinaryParams { week_origin: 0, ..p.clone() };
        assert!(moved.may_follow(&p).is_err(), "nor the week origin");
        let richer = BinaryParams { pair_bonus: 20, ..p.clone() };
        assert!(richer.may_follow(&p).is_ok());
    }
}
