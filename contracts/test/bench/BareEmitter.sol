// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {LiabilityRoot} from "../../src/SettlementTypes.sol";

/// @notice The floor a liabilities commitment is measured against: the same calldata, and an event of the same shape
///         (two indexed topics, six data words), with no role, signature, nonce, checks, custody read or storage.
contract BareEmitter {
    event LiabilitiesCommitted(
        address indexed token,
        uint64 indexed epoch,
        uint64 asOfBlock,
        bytes32 root,
        uint128 total,
        uint32 leafCount,
        bytes32 planHash,
        uint256 custody
    );

    /// @dev `signature` is taken, so the calldata is the commitment's, and ignored.
    function emitLiabilities(LiabilityRoot calldata c, bytes calldata signature) external {
        signature;
        emit LiabilitiesCommitted(c.token, c.epoch, c.asOfBlock, c.root, c.total, c.leafCount, c.planHash, c.total);
    }
}
