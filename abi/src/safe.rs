//! The Safe multisig as the contract's admin, as the deploy tool and the preflight both judge it: what makes a
//! contract a Safe (it answers `VERSION()`, `getOwners()` and `getThreshold()` as one, [`SafeInfo::from_answers`]),
//! and what a mainnet asks of it ([`SafeInfo::mainnet_refusal`]: at least [`MAINNET_MIN_THRESHOLD`] of at least as
//! many owners). One rule, so that the preflight never passes an admin the deploy tool refuses.

use alloy::{
    primitives::{Address, U256},
    sol_types::SolCall,
};

alloy::sol! {
    /// The Safe's (v1.4.1) views that say what it is.
    interface ISafeViews {
        function getOwners() external view returns (address[] memory);
        function getThreshold() external view returns (uint256);
        function VERSION() external view returns (string memory);
    }
}

/// The fewest owners' signatures a mainnet admin Safe may need: one key alone must never administer the contract.
pub const MAINNET_MIN_THRESHOLD: u64 = 2;

/// What a Safe is: its version, its owners and how many of them must sign.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SafeInfo {
    /// What its `VERSION()` answers (e.g. `1.4.1`).
    #[serde(default)]
    pub version: String,
    /// Its owners.
    pub owners: Vec<Address>,
    /// Signatures an action needs.
    pub threshold: u64,
}

impl SafeInfo {
    /// The Safe whose views answered `version`, `owners` and `threshold`; `None` when no Safe answers so (a Safe has
    /// a version, owners, and a threshold within them).
    pub fn from_answers(version: String, owners: Vec<Address>, threshold: U256) -> Option<Self> {
        if version.is_empty() || owners.is_empty() || threshold.is_zero() || threshold > U256::from(owners.len()) {
            return None;
        }
        Some(SafeInfo { version, owners, threshold: threshold.saturating_to() })
    }

    /// Reads the Safe at `at` with `call` (an `eth_call` of the given data at `at`: the answer's bytes, `None` when
    /// the call reverted or could not be made); `None` when the contract there does not answer as a Safe does (a
    /// token, any other contract, or no contract at all).
    pub async fn read<F, Fut>(at: Address, call: F) -> Option<Self>
    where
        F: Fn(Address, Vec<u8>) -> Fut,
        Fut: Future<Output = Option<Vec<u8>>>,
    {
        let version =
            ISafeViews::VERSIONCall::abi_decode_returns(&call(at, ISafeViews::VERSIONCall {}.abi_encode()).await?);
        let owners =
            ISafeViews::getOwnersCall::abi_decode_returns(&call(at, ISafeViews::getOwnersCall {}.abi_encode()).await?);
        let threshold = ISafeViews::getThresholdCall::abi_decode_returns(
            &call(at, ISafeViews::getThresholdCall {}.abi_encode()).await?,
        );
        Self::from_answers(version.ok()?, owners.ok()?, threshold.ok()?)
    }

    /// Why this Safe may not administer a mainnet deployment (`None`: it may): it needs fewer than
    /// [`MAINNET_MIN_THRESHOLD`] signatures, or has fewer owners than that.
    pub fn mainnet_refusal(&self) -> Option<String> {
        let (threshold, owners) = (self.threshold, self.owners.len());
        (threshold < MAINNET_MIN_THRESHOLD || (owners as u64) < MAINNET_MIN_THRESHOLD).then(|| {
            format!(
                "it needs {threshold} of {owners} owners' signatures; on mainnet at least {MAINNET_MIN_THRESHOLD} of at \
                 least {MAINNET_MIN_THRESHOLD} (one key alone must not administer the contract)"
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_safe_answers_a_version_owners_and_a_threshold_within_them_and_mainnet_needs_two() {
        let owners = |n: u8| (1..=n).map(Address::repeat_byte).collect::<Vec<_>>();
        assert_eq!(SafeInfo::from_answers(String::new(), owners(2), U256::from(1)), None);
        assert_eq!(SafeInfo::from_answers("1.4.1".into(), vec![], U256::from(1)), None);
        assert_eq!(SafeInfo::from_answers("1.4.1".into(), owners(2), U256::ZERO), None);
        assert_eq!(SafeInfo::from_answers("1.4.1".into(), owners(2), U256::from(3)), None);
        let one_of_one = SafeInfo::from_answers("1.4.1".into(), owners(1), U256::from(1)).unwrap();
        assert!(one_of_one.mainnet_refusal().unwrap().contains("it needs 1 of 1 owners' signatures"));
        let one_of_three = SafeInfo::from_answers("1.4.1".into(), owners(3), U256::from(1)).unwrap();
        assert!(one_of_three.mainnet_refusal().is_some());
        let two_of_three = SafeInfo::from_answers("1.4.1".into(), owners(3), U256::from(2)).unwrap();
        assert_eq!(two_of_three.mainnet_refusal(), None);
    }
}
