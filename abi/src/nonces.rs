//! How the contract's one unordered nonce space is shared, so that two payloads never meet on a nonce:
//! the signer's own counter (register and retopup payloads) counts up from 0, payout batches use
//! 2^255 + (batch id << 8) (the low byte reserved), treasury transfers 2^255 + 2^254 + transfer id, liability roots
//! (the proof of solvency) 2^255 + 2^254 + 2^253 + a sequence number. The backend chooses batch, treasury and
//! liability nonces; the signer signs every kind only on a nonce of its own space ([`NonceSpace`]; refused as
//! `policy.nonce_space`), so that one kind can never burn another's nonce.

use alloy::primitives::U256;

/// First nonce of the payout-batch space (2^255).
pub const PAYOUT_NONCE_BASE: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);
/// First nonce of the treasury-transfer space (2^255 + 2^254).
pub const TREASURY_NONCE_BASE: U256 = U256::from_limbs([0, 0, 0, 3 << 62]);
/// First nonce of the liability-root space (2^255 + 2^254 + 2^253). Consecutive commitments take consecutive
/// nonces, so 255 of every 256 spend a bit of a bitmap word already written (5,000 gas instead of 22,100).
pub const LIABILITY_NONCE_BASE: U256 = U256::from_limbs([0, 0, 0, 7 << 61]);

/// Which payload kind a nonce belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceSpace {
    /// Below 2^255: the signer's counter, for register and retopup payloads.
    SignerCounter,
    /// 2^255 up to 2^255 + 2^254: payout batches.
    PayoutBatch,
    /// 2^255 + 2^254 up to 2^255 + 2^254 + 2^253: treasury transfers.
    TreasuryTransfer,
    /// From 2^255 + 2^254 + 2^253: liability roots.
    LiabilityRoot,
}

impl NonceSpace {
    /// The space `nonce` lies in.
    pub fn of(nonce: U256) -> Self {
        if nonce >= LIABILITY_NONCE_BASE {
            NonceSpace::LiabilityRoot
        } else if nonce >= TREASURY_NONCE_BASE {
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

/// The nonce of the `seq`-th liability root signed (every signing attempt takes the next one).
pub fn liability_nonce(seq: u64) -> U256 {
    LIABILITY_NONCE_BASE + U256::from(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_spaces_are_disjoint_and_each_helper_stays_in_its_own() {
        assert_eq!(NonceSpace::of(U256::ZERO), NonceSpace::SignerCounter);
        assert_eq!(NonceSpace::of(PAYOUT_NONCE_BASE - U256::from(1)), NonceSpace::SignerCounter);
        assert_eq!(NonceSpace::of(batch_nonce(0, 0)), NonceSpace::PayoutBatch);
        assert_eq!(NonceSpace::of(batch_nonce(i64::MAX as u64, 255)), NonceSpace::PayoutBatch);
        assert_eq!(NonceSpace::of(treasury_nonce(0)), NonceSpace::TreasuryTransfer);
        assert_eq!(NonceSpace::of(treasury_nonce(u64::MAX)), NonceSpace::TreasuryTransfer);
        assert_eq!(NonceSpace::of(LIABILITY_NONCE_BASE - U256::from(1)), NonceSpace::TreasuryTransfer);
        assert_eq!(NonceSpace::of(liability_nonce(0)), NonceSpace::LiabilityRoot);
        assert_eq!(NonceSpace::of(U256::MAX), NonceSpace::LiabilityRoot);
    }
}
