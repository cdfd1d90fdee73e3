// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

/// @notice Permit2-style unordered nonces: one bit per nonce, so the signer can hand out many payloads at once.
abstract contract UnorderedNonces {
    /// @notice word position (nonce >> 8) => bitmap of used nonces.
    mapping(uint256 => uint256) public nonceBitmap;
    /// @dev word position => the nonces of that word that `cancelNonces` spent while they were free: spent, but by no
    ///      payload (issue 65: a refund is signed only for a payment, and a cancelled nonce is none).
    mapping(uint256 => uint256) private _cancelledBitmap;

    event NoncesCancelled(uint256 indexed wordPos, uint256 mask);

    error NonceAlreadyUsed(uint256 nonce);

    function isNonceUsed(uint256 nonce) public view returns (bool) {
        return nonceBitmap[nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @notice Whether `nonce` was spent by `cancelNonces` while still free (so no payload ever used it).
    function isNonceCancelled(uint256 nonce) external view returns (bool) {
        return _cancelledBitmap[nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @dev Spends `nonce` or reverts; callers do this before any external call.
    function _useNonce(uint256 nonce) internal {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 flipped = nonceBitmap[nonce >> 8] ^= bit;
        if (flipped & bit == 0) revert NonceAlreadyUsed(nonce);
    }

    /// @dev Marks every nonce in `mask` of word `wordPos` used, so signed payloads holding them can never execute.
    function _cancelNonces(uint256 wordPos, uint256 mask) internal {
        uint256 used = nonceBitmap[wordPos];
        _cancelledBitmap[wordPos] |= mask & ~used;
        nonceBitmap[wordPos] = used | mask;
        emit NoncesCancelled(wordPos, mask);
    }
}
