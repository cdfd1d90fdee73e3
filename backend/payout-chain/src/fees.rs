//! The EVM fee policy of payout transactions: EIP-1559 fees as the node suggests them, never above a configured
//! ceiling, and the replacement of a transaction left unmined too long by one with the same account nonce and
//! fees raised enough for nodes to accept it (geth and BSC refuse a replacement that raises either fee by less
//! than 10 %).
//!
//! Pure arithmetic: [`crate::PayoutSubmitter`] reads the node and the pending transaction, this module decides.

use std::time::Duration;

/// The least raise, in percent, that nodes accept for a replacement (geth's and BSC's `txpool.pricebump`).
pub const NODE_MIN_BUMP_PERCENT: u128 = 10;

/// The two EIP-1559 fees of a transaction, in wei per gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fees {
    /// The most the transaction pays per gas, base fee and tip together.
    pub max_fee_per_gas: u128,
    /// The tip to the block producer per gas, at most.
    pub max_priority_fee_per_gas: u128,
}

/// How payout transactions are priced and when a stuck one is replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeePolicy {
    /// The most a payout transaction may offer per gas (wei); neither a first send nor a replacement goes above.
    pub max_fee_per_gas_ceiling: u128,
    /// How long a transaction may stay unmined before a follow-up replaces it.
    pub replace_after: Duration,
    /// How much a replacement raises both fees at least, in percent; at least [`NODE_MIN_BUMP_PERCENT`].
    pub bump_percent: u128,
}

impl Default for FeePolicy {
    /// A ceiling of 100 gwei, a replacement after 3 minutes, raising by 12 %.
    fn default() -> Self {
        Self { max_fee_per_gas_ceiling: 100_000_000_000, replace_after: Duration::from_secs(180), bump_percent: 12 }
    }
}

/// `value` raised by `percent`, rounded up (a node compares against the exact product).
fn raised(value: u128, percent: u128) -> u128 {
    value.saturating_mul(100 + percent).div_ceil(100)
}

impl FeePolicy {
    /// Refuses a policy nodes would defeat: a zero ceiling, or a bump below [`NODE_MIN_BUMP_PERCENT`].
    pub fn validate(&self) -> Result<(), String> {
        if self.max_fee_per_gas_ceiling == 0 {
            return Err("the max fee per gas ceiling must be above 0".into());
        }
        if self.bump_percent < NODE_MIN_BUMP_PERCENT {
            return Err(format!(
                "a replacement must raise fees by at least {NODE_MIN_BUMP_PERCENT} % (nodes refuse less), not {} %",
                self.bump_percent
            ));
        }
        Ok(())
    }

    /// The fees of a first send: the node's suggestion, the max fee capped at the ceiling and the tip at the max fee.
    pub fn first(&self, node: Fees) -> Fees {
        let max_fee_per_gas = node.max_fee_per_gas.min(self.max_fee_per_gas_ceiling);
        Fees { max_fee_per_gas, max_priority_fee_per_gas: node.max_priority_fee_per_gas.min(max_fee_per_gas) }
    }

    /// The fees of a replacement of a transaction paying `old`: each raised by the bump, or to the node's current
    /// suggestion when that is higher; `None` when the ceiling leaves no room for a raise the node would accept.
    pub fn replacement(&self, old: Fees, node: Fees) -> Option<Fees> {
        let least_max = raised(old.max_fee_per_gas, self.bump_percent);
        let least_tip = raised(old.max_priority_fee_per_gas, self.bump_percent);
        let tip = least_tip.max(node.max_priority_fee_per_gas);
        let max = least_max.max(node.max_fee_per_gas).max(tip).min(self.max_fee_per_gas_ceiling);
        let tip = tip.min(max);
        (max >= least_max && tip >= least_tip).then_some(Fees { max_fee_per_gas: max, max_priority_fee_per_gas: tip })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GWEI: u128 = 1_000_000_000;

    fn fees(max: u128, tip: u128) -> Fees {
        Fees { max_fee_per_gas: max * GWEI, max_priority_fee_per_gas: tip * GWEI }
    }

    fn policy(ceiling_gwei: u128) -> FeePolicy {
        FeePolicy { max_fee_per_gas_ceiling: ceiling_gwei * GWEI, ..FeePolicy::default() }
    }

    #[test]
    fn a_first_send_takes_the_node_fees_below_the_ceiling() {
        assert_eq!(policy(100).first(fees(3, 1)), fees(3, 1));
        assert_eq!(policy(2).first(fees(3, 1)), fees(2, 1));
        assert_eq!(policy(2).first(fees(5, 4)), fees(2, 2), "the tip never exceeds the max fee");
    }

    #[test]
    fn a_replacement_raises_both_fees_by_the_bump_or_to_the_node() {
        let p = policy(100);
        // 12 % of 10 gwei and of 1 gwei.
        assert_eq!(
            p.replacement(fees(10, 1), fees(3, 1)),
            Some(Fees { max_fee_per_gas: 11_200_000_000, max_priority_fee_per_gas: 1_120_000_000 })
        );
        // The node asks more now: its figures win.
        assert_eq!(p.replacement(fees(10, 1), fees(40, 5)), Some(fees(40, 5)));
        // Rounded up: 12 % of 1 wei is still a raise of 1.
        let tiny = Fees { max_fee_per_gas: 1, max_priority_fee_per_gas: 1 };
        assert_eq!(p.replacement(tiny, tiny), Some(Fees { max_fee_per_gas: 2, max_priority_fee_per_gas: 2 }));
    }

    #[test]
    fn the_ceiling_caps_a_replacement_and_refuses_one_without_room() {
        // The node asks 200 gwei; the ceiling is 100: capped, still a raise of the old 50.
        assert_eq!(
            policy(100).replacement(fees(50, 2), fees(200, 2)),
            Some(Fees { max_fee_per_gas: 100 * GWEI, max_priority_fee_per_gas: 2_240_000_000 })
        );
        // At 95 of a ceiling of 100, a 12 % raise does not fit.
        assert_eq!(policy(100).replacement(fees(95, 2), fees(3, 1)), None);
    }

    #[test]
    fn a_policy_nodes_would_defeat_is_refused() {
        assert!(FeePolicy::default().validate().is_ok());
        assert!(
            FeePolicy { bump_percent: 9, ..FeePolicy::default() }.validate().unwrap_err().contains("at least 10 %")
        );
        assert!(FeePolicy { max_fee_per_gas_ceiling: 0, ..FeePolicy::default() }.validate().is_err());
    }
}
