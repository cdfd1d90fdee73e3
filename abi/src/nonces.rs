//! How the contract's one unordered nonce space is shared, so that two payloads never meet on a nonce:
//! the signer's own counter (register and retopup payloads) counts up from 0, payout batches use
//! 2^255 + (batch id << 8) (the low byte reserved), treasury transfers 2^255 + 2^254 + transfer id. The backend
//! chooses batch and treasury nonces; the signer checks that each payload kind stays in its space.

use alloy::primitives::U256;

/// First nonce of the payout-batch space (2^255).
pub const PAYOUT_NONCE_BASE: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);
/// First nonce of the treasury-transfer space (2^255 + 2^254).
pub const TREASURY_NONCE_BASE: U256 = U256::from_limbs([0, 0, 0, 3 << 62]);

/// Which payload kind a nonce belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceSpace {
    /// Below 2^255: the signer's counter, for register and retopup payloads.
    SignerCounter,
    /// 2^255 up to 2^255 + 2^254: payout batches.
    PayoutBatch,
    /// From 2^255 + 2^254: treasury transfers.
    TreasuryTransfer,
}

impl NonceSpace {
    /// The space `nonce` lies in.
    pub fn of(nonce: U256) -> Self {
        if nonce >= TREASURY_NONCE_BASE {
            NonceSpace::TreasuryTransfer
        } else if nonce >= PAYOUT_NONCE_BASE {
            NonceSpace::PayoutBatch
        } else {
            NonceSpace::SignerCounter
        }
    }
}

/// The nonce of signing attempt `attempt` of payout batch `batch_id`: fixed by the batch, so a retried sign call
/// asks for the same nonce.
pub fn batch_nonce(batch_id: u64, attempt: u8) -> U256 {
    PAYOUT_NONCE_BASE + (U256::from(batch_id) << 8) + U256::from(attempt)
}

/// The nonce of treasury transfer `transfer_id`.
pub fn treasury_nonce(transfer_id: u64) -> U256 {
    TREASURY_NONCE_BASE + U256::from(transfer_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_spaces_are_disjoint_and_each_helper_stays_in_its_own() {
        assert_eq!(NonceSpace::of(U256::ZERO), NonceSpace::SignerCounter);
        assert_eq!(NonceSpace::of(PAYOUT_NONCE_BASE - U256::from(1)), NonceSpace::SignerCounter);
        assert_eq!(NonceSpace::of(batch_nonce(0, 0)), NonceSpace::PayoutBatch);
        assert_eq!(NonceSpace::of(batch_nonce(i64::MAX as u64, 255)), NonceSpace::PayoutBatch);
        assert_eq!(NonceSpace::of(treasury_nonce(0)), NonceSpace::TreasuryTransfer);
        assert_eq!(NonceSpace::of(U256::MAX), NonceSpace::TreasuryTransfer);
    }
}
