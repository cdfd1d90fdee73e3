// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

/// @notice Permit2-style unordered nonces: one bit per nonce, so the signer can hand out many payloads at once.
abstract contract UnorderedNonces {
    /// @notice word position (nonce >> 8) => bitmap of used nonces.
    mapping(uint256 => uint256) public nonceBitmap;

    event NoncesCancelled(uint256 indexed wordPos, uint256 mask);

    error NonceAlreadyUsed(uint256 nonce);

    function isNonceUsed(uint256 nonce) public view returns (bool) {
        return nonceBitmap[nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @dev Spends `nonce` or reverts; callers do this before any external call.
    function _useNonce(uint256 nonce) internal {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 flipped = nonceBitmap[nonce >> 8] ^= bit;
        if (flipped & bit == 0) revert NonceAlreadyUsed(nonce);
    }

    /// @dev Marks every nonce in `mask` of word `wordPos` used, so signed payloads holding them can never execute.
    function _cancelNonces(uint256 wordPos, uint256 mask) internal {
        nonceBitmap[wordPos] |= mask;
        emit NoncesCancelled(wordPos, mask);
    }
}
