//! EIP-712 domain of the Settlement contract, right on BSC and on TRON (TIP-712).

use alloy::{
    primitives::{Address, B256},
    sol_types::{Eip712Domain, SolStruct, eip712_domain},
};

/// Must equal the name passed to `TronCompatibleEIP712` in `Settlement`'s constructor.
pub const DOMAIN_NAME: &str = "ReferralSettlement";
/// Must equal the version passed to `TronCompatibleEIP712` in `Settlement`'s constructor.
pub const DOMAIN_VERSION: &str = "1";

/// The chain id signatures commit to: TIP-712 uses `block.chainid & 0xffffffff`; a no-op on BSC (56) and anvil.
pub const fn signing_chain_id(chain_id: u64) -> u64 {
    chain_id & 0xffff_ffff
}

/// One deployed Settlement contract: the domain every payload for it is signed under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementDomain {
    domain: Eip712Domain,
}

impl SettlementDomain {
    /// Domain of the Settlement contract at `contract` on `chain_id` (masked to 32 bits, as TRON's contract sees it).
    pub fn new(chain_id: u64, contract: Address) -> Self {
        Self {
            domain: eip712_domain! {
                name: DOMAIN_NAME,
                version: DOMAIN_VERSION,
                chain_id: signing_chain_id(chain_id),
                verifying_contract: contract,
            },
        }
    }

    /// EIP-712 domain separator; must equal the contract's `DOMAIN_SEPARATOR()`.
    pub fn separator(&self) -> B256 {
        self.domain.separator()
    }

    /// The digest the signer signs and the contract recovers from: keccak256(0x1901 ‖ separator ‖ hashStruct).
    pub fn digest<T: SolStruct>(&self, payload: &T) -> B256 {
        payload.eip712_signing_hash(&self.domain)
    }

    /// The chain id signatures commit to (already masked by `signing_chain_id`).
    pub fn chain_id(&self) -> u64 {
        self.domain.chain_id.map(|c| c.to::<u64>()).unwrap_or_default()
    }

    /// Address of the Settlement contract that verifies signatures under this domain.
    pub fn contract(&self) -> Address {
        self.domain.verifying_contract.unwrap_or_default()
    }

    /// The underlying alloy domain, for APIs that take one directly.
    pub fn as_eip712(&self) -> &Eip712Domain {
        &self.domain
    }
}

/// keccak256 of the concatenated `Payout` struct hashes: the EIP-712 encoding of the array, and the
/// `payoutsHash` the contract emits with `PayoutBatchExecuted`.
pub fn payouts_hash(payouts: &[crate::Payout]) -> B256 {
    let concatenated: Vec<u8> = payouts.iter().flat_map(|p| p.eip712_hash_struct().0).collect();
    alloy::primitives::keccak256(concatenated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LiabilityRoot, Payout, PayoutBatch, Registration, Retopup, TreasuryTransfer};
    use alloy::primitives::keccak256;

    #[test]
    fn type_strings_are_the_canonical_eip712_encoding() {
        assert_eq!(
            Registration::eip712_encode_type(),
            "Registration(address user,address sponsor,address token,uint256 amount,uint256 nonce,uint256 deadline)"
        );
        assert_eq!(
            Retopup::eip712_encode_type(),
            "Retopup(address user,address token,uint256 amount,uint256 nonce,uint256 deadline)"
        );
        assert_eq!(
            PayoutBatch::eip712_encode_type(),
            "PayoutBatch(address token,uint256 total,Payout[] payouts,uint256 nonce,uint256 deadline)Payout(address recipient,uint256 amount)"
        );
        assert_eq!(
            TreasuryTransfer::eip712_encode_type(),
            "TreasuryTransfer(address token,address to,uint256 amount,uint256 nonce,uint256 deadline)"
        );
        assert_eq!(Payout::eip712_encode_type(), "Payout(address recipient,uint256 amount)");
        assert_eq!(
            LiabilityRoot::eip712_encode_type(),
            "LiabilityRoot(address token,uint64 epoch,uint64 asOfBlock,bytes32 root,uint128 total,uint32 leafCount,bytes32 planHash,uint256 nonce,uint256 deadline)"
        );
    }

    #[test]
    fn payout_array_hashes_as_keccak_of_concatenated_struct_hashes() {
        let payouts = vec![
            Payout { recipient: Address::repeat_byte(1), amount: alloy::primitives::U256::from(5) },
            Payout { recipient: Address::repeat_byte(2), amount: alloy::primitives::U256::from(7) },
        ];
        let batch = PayoutBatch {
            token: Address::ZERO,
            total: alloy::primitives::U256::from(12),
            payouts: payouts.clone(),
            nonce: alloy::primitives::U256::from(9),
            deadline: alloy::primitives::U256::from(1_000),
        };
        let mut concatenated = Vec::new();
        for p in &payouts {
            concatenated.extend_from_slice(p.eip712_hash_struct().as_slice());
        }
        let mut encoded = Vec::new();
        encoded.extend_from_slice(keccak256(PayoutBatch::eip712_encode_type().as_bytes()).as_slice());
        encoded.extend_from_slice(B256::left_padding_from(Address::ZERO.as_slice()).as_slice());
        encoded.extend_from_slice(&alloy::primitives::U256::from(12).to_be_bytes::<32>());
        encoded.extend_from_slice(keccak256(&concatenated).as_slice());
        encoded.extend_from_slice(&alloy::primitives::U256::from(9).to_be_bytes::<32>());
        encoded.extend_from_slice(&alloy::primitives::U256::from(1_000).to_be_bytes::<32>());
        assert_eq!(batch.eip712_hash_struct(), keccak256(&encoded));
        assert_eq!(payouts_hash(&payouts), keccak256(&concatenated));
    }

    #[test]
    fn the_liability_root_digest_is_the_one_the_solidity_tests_pin() {
        // contracts/test/EIP712.t.sol, test_knownVector_liabilityRootDigestIsStable.
        let domain = SettlementDomain::new(31_337, "0x7000000000000000000000000000000000000007".parse().unwrap());
        let root = LiabilityRoot {
            token: Address::repeat_byte(0x33),
            epoch: 7,
            asOfBlock: 48_000_000,
            root: B256::repeat_byte(0xab),
            total: 123_456_789_000,
            leafCount: 1_001,
            planHash: B256::repeat_byte(0xcd),
            nonce: alloy::primitives::U256::from(262),
            deadline: alloy::primitives::U256::from(1_750_003_600),
        };
        assert_eq!(
            domain.digest(&root).to_string(),
            "0xcca539276cb7cfcf323954d5c52679a95ef16198e7c1b519574fd637c1fff7b6"
        );
    }

    #[test]
    fn tron_domain_masks_the_chain_id_to_32_bits() {
        let contract = Address::repeat_byte(0x42);
        let tron_like = SettlementDomain::new(0x1_2b66_53dc, contract);
        assert_eq!(tron_like.chain_id(), 0x2b66_53dc);
        assert_eq!(tron_like, SettlementDomain::new(0x2b66_53dc, contract));
        assert_eq!(SettlementDomain::new(56, contract).chain_id(), 56);
    }
}
