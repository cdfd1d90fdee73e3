//! The sales plan's parameters (PLAN-SALES.md §0) and their validation. Periods follow the binary plan's calendar
//! (PLAN-BINARY.md §3: calendar months in UTC block time, or weeks from `week_origin`).

use serde::{Deserialize, Serialize};

use super::super::binary::PeriodKind;
use super::super::kind::PlanKind;
use super::super::params::{InvalidPlan, MAX_AMOUNT, PlanRules, amount_str};
use super::super::vocabulary::Amount;

/// Basis points' denominator.
pub(super) const BPS: u128 = 10_000;
const DAY_SECS: u64 = 86_400;

/// A rank (§0): what a member's period needs to hold it, and how many levels up its sponsor chain it is paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rank {
    /// Its name, as the member reads it ("Associate").
    pub name: String,
    /// PV(X, p) it needs, in whole points.
    pub min_pv: u64,
    /// GV(X, p) it needs, in whole points.
    pub min_gv: u64,
    /// Levels of unilevel commission it earns (level k is paid when depth ≥ k).
    pub depth: u32,
}

/// The plan's parameters (§0), amounts in base units, pv in whole points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesParams {
    /// The only amount a registration may carry; all of it to the company.
    #[serde(with = "amount_str")]
    pub join_fee: Amount,
    /// The seller's retail commission on a customer sale.
    pub retail_bps: u32,
    /// The share of a member sale's amount on which sponsors are paid unilevel.
    pub member_sale_bps: u32,
    /// `level_bps[k-1]`: the unilevel commission k levels up the seller's sponsor chain.
    pub level_bps: Vec<u32>,
    /// From the lowest rank to the highest.
    pub ranks: Vec<Rank>,
    /// The least share of a member's PV that must come from customers for any rank (0: no such rule).
    pub min_customer_bps: u32,
    /// What the signer signs into each sale (seconds); the ledger never reads it.
    pub refund_window: u64,
    /// The share of each sale set aside for its period's unilevel commissions.
    pub max_payout_bps: u32,
    /// Months or weeks; never changes between versions.
    pub period: PeriodKind,
    /// Unix time of week 0's start (used when `period` is `week`); never changes between versions.
    pub week_origin: u64,
    /// The company's share of each payout entry (PLAN-GENERATION.md §4).
    pub withdrawal_fee_bps: u32,
}

impl SalesParams {
    /// The defaults of §0 for a token of `decimals` decimals (USDT: 6).
    pub fn defaults(decimals: u32) -> Self {
        Self::defaults_in(10u128.pow(decimals))
    }

    /// The defaults of §0 counted in `unit` base units (the join fee is 0 whatever the unit).
    pub fn defaults_in(unit: u128) -> Self {
        let _ = unit;
        let rank = |name: &str, min_pv, min_gv, depth| Rank { name: name.to_owned(), min_pv, min_gv, depth };
        Self {
            join_fee: 0,
            retail_bps: 2000,
            member_sale_bps: 0,
            level_bps: vec![500, 300, 200, 100, 100],
            ranks: vec![
                rank("Associate", 100, 0, 1),
                rank("Manager", 100, 1_000, 2),
                rank("Director", 200, 5_000, 3),
                rank("Executive", 200, 20_000, 5),
            ],
            min_customer_bps: 5000,
            refund_window: 14 * DAY_SECS,
            max_payout_bps: 4000,
            period: PeriodKind::Month,
            week_origin: 345_600,
            withdrawal_fee_bps: 0,
        }
    }

    /// §0's validation, plus bounds that keep the integer arithmetic exact.
    pub fn validate(&self) -> Result<(), InvalidPlan> {
        let bad = |why: &str| Err(InvalidPlan::Sales(why.to_owned()));
        // Amounts are multiplied by at most 10000 × 10000 and summed over many sales: keep them far inside u128.
        if self.join_fee > MAX_AMOUNT / 1_000_000_000 {
            return bad("join_fee is too large");
        }
        if self.retail_bps > 5_000 {
            return bad("retail_bps must be at most 5000");
        }
        if self.max_payout_bps > 10_000 || u64::from(self.retail_bps) + u64::from(self.max_payout_bps) > 10_000 {
            return bad("retail_bps + max_payout_bps must be at most 10000");
        }
        if self.member_sale_bps > 10_000 {
            return bad("member_sale_bps must be at most 10000");
        }
        if self.level_bps.is_empty() || self.level_bps.len() > 10 {
            return bad("level_bps must have 1 to 10 entries");
        }
        let levels: u64 = self.level_bps.iter().map(|b| u64::from(*b)).sum();
        if u64::from(self.retail_bps) + levels > 8_000 {
            return bad("retail_bps + the sum of level_bps must be at most 8000");
        }
        if self.ranks.is_empty() || self.ranks.len() > 32 {
            return bad("ranks must have 1 to 32 entries");
        }
        for (i, r) in self.ranks.iter().enumerate() {
            if r.name.trim().is_empty() || r.name.len() > 64 {
                return bad("every rank needs a name of 1 to 64 bytes");
            }
            if r.depth == 0 || r.depth as usize > self.level_bps.len() {
                return bad("every rank's depth must be in 1..=len(level_bps)");
            }
            if let Some(before) = i.checked_sub(1).map(|j| &self.ranks[j]) {
                if r.depth <= before.depth {
                    return bad("ranks must be strictly increasing in depth");
                }
                if r.min_pv < before.min_pv || r.min_gv < before.min_gv {
                    return bad("ranks' min_pv and min_gv must not decrease");
                }
            }
        }
        if self.min_customer_bps > 10_000 {
            return bad("min_customer_bps must be at most 10000");
        }
        if !(DAY_SECS..=90 * DAY_SECS).contains(&self.refund_window) {
            return bad("refund_window must be between 1 day and 90 days (in seconds)");
        }
        if self.withdrawal_fee_bps > 2_000 {
            return bad("withdrawal_fee_bps must be at most 2000");
        }
        Ok(())
    }

    /// The retail commission of a customer sale of `amount` (§3 step 1, before the genesis rule).
    pub fn retail(&self, amount: Amount) -> Amount {
        super::mul_div(amount, u128::from(self.retail_bps), BPS)
    }

    /// The sale's share of its period's commission reserve (§3 step 2).
    pub fn reserve(&self, amount: Amount) -> Amount {
        super::mul_div(amount, u128::from(self.max_payout_bps), BPS)
    }

    /// The period a block of unix time `timestamp` belongs to (PLAN-BINARY.md §3's calendar).
    pub fn period_of(&self, timestamp: u64) -> u64 {
        self.period.period_of(self.week_origin, timestamp)
    }

    /// The rank (its index in `ranks`) of a member other than genesis whose period shows `pv`, `cv` and `gv` (§1):
    /// the highest whose PV and GV it reaches, none when its customer share is below `min_customer_bps`.
    pub fn rank(&self, pv: u128, cv: u128, gv: u128) -> Option<usize> {
        let customers = self.min_customer_bps == 0 || cv * BPS >= pv * u128::from(self.min_customer_bps);
        if !customers {
            return None;
        }
        self.ranks.iter().rposition(|r| pv >= u128::from(r.min_pv) && gv >= u128::from(r.min_gv))
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

impl PlanRules for SalesParams {
    const KIND: PlanKind = PlanKind::Sales;
    fn validate(&self) -> Result<(), InvalidPlan> {
        SalesParams::validate(self)
    }
    /// Periods are numbered and closed in order: a version changing their length or origin would renumber periods
    /// already closed, so both stay the first version's.
    fn may_follow(&self, before: &Self) -> Result<(), InvalidPlan> {
        self.period.may_follow(self.week_origin, (before.period, before.week_origin)).map_err(InvalidPlan::Sales)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_refuses_what_section_0_refuses() {
        let p = SalesParams::defaults(6);
        p.validate().unwrap();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["join_fee"], "0");
        assert_eq!(json["period"], "month");
        assert_eq!(json["ranks"][1]["min_gv"], 1000);
        assert_eq!(serde_json::from_value::<SalesParams>(json).unwrap(), p);
        let refused = |f: &dyn Fn(&mut SalesParams)| {
            let mut q = p.clone();
            f(&mut q);
            assert!(q.validate().is_err(), "{q:?} should be refused");
        };
        refused(&|q| q.retail_bps = 5_001);
        refused(&|q| q.max_payout_bps = 8_001);
        refused(&|q| q.member_sale_bps = 10_001);
        refused(&|q| q.level_bps = vec![]);
        refused(&|q| q.level_bps = vec![100; 11]);
        refused(&|q| q.level_bps = vec![3_000, 3_001]);
        refused(&|q| q.ranks = vec![]);
        refused(&|q| q.ranks[1].depth = 1);
        refused(&|q| q.ranks[3].depth = 6);
        refused(&|q| q.ranks[0].depth = 0);
        refused(&|q| q.ranks[2].min_pv = 99);
        refused(&|q| q.ranks[2].min_gv = 999);
        refused(&|q| q.ranks[0].name = " ".into());
        refused(&|q| q.min_customer_bps = 10_001);
        refused(&|q| q.refund_window = DAY_SECS - 1);
        refused(&|q| q.refund_window = 90 * DAY_SECS + 1);
        refused(&|q| q.withdrawal_fee_bps = 2_001);
        // The bounds themselves pass.
        let edge = SalesParams {
            retail_bps: 5_000,
            max_payout_bps: 5_000,
            level_bps: vec![3_000],
            ranks: vec![Rank { name: "Only".into(), min_pv: 0, min_gv: 0, depth: 1 }],
            refund_window: 90 * DAY_SECS,
            ..p.clone()
        };
        edge.validate().unwrap();
        let weekly = SalesParams { period: PeriodKind::Week, ..p.clone() };
        assert!(weekly.may_follow(&p).is_err(), "the period cannot change");
        let moved = SalesParams { week_origin: 0, ..p.clone() };
        assert!(moved.may_follow(&p).is_err(), "nor the week origin");
        let richer = SalesParams { retail_bps: 2_500, ..p.clone() };
        assert!(richer.may_follow(&p).is_ok());
    }

    #[test]
    fn shares_round_down() {
        let p = SalesParams::defaults(6);
        assert_eq!(p.retail(300_000_000), 60_000_000);
        assert_eq!(p.reserve(300_000_000), 120_000_000);
        assert_eq!(p.retail(9), 1, "⌊9 × 2000 / 10000⌋");
        assert_eq!(p.reserve(9), 3, "⌊9 × 4000 / 10000⌋");
    }
}
