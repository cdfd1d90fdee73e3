// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

/// @notice The Merkle-sum tree of the proof of solvency, written from SOLVENCY.md "The tree" (test only: the contract
///         stores the root and total, it never folds a proof). Integers are fixed-width big-endian, so each hash is
///         `abi.encodePacked` of the members at exactly the spec's widths; salts come from the vectors (HMAC is off-chain).
library MerkleSum {
    /// @dev Every value and sum must be below 2^128 (encoded as u128 in the parent); a larger one is invalid.
    uint256 internal constant SUM_LIMIT = 1 << 128;

    bytes1 internal constant LEAF_TAG = 0x00;
    bytes1 internal constant PARENT_TAG = 0x01;
    bytes1 internal constant PADDING_TAG = 0x02;

    struct Node {
        bytes32 hash;
        uint256 sum;
    }

    /// @notice What every leaf of one tree shares: the chain, the Settlement contract, the asset and the epoch.
    struct Context {
        uint64 chainId;
        address settlement;
        address token;
        uint64 epoch;
    }

    /// @notice One user's liabilities: the five ledger components of PLAN.md §7 invariant 4, and the user's salt.
    struct Account {
        address user;
        uint128 reserved;
        uint128 held;
        uint128 pending;
        uint128 batched;
        uint128 claimable;
        bytes32 salt;
    }

    error SumOutOfRange(uint256 sum);
    error IndexOutOfRange(uint256 index, uint256 depth);

    /// @notice keccak256(0x00 ‖ chainId u64 ‖ contract 20B ‖ token 20B ‖ epoch u64 ‖ user 20B ‖ reserved u128 ‖
    ///         held u128 ‖ pending u128 ‖ batched u128 ‖ claimable u128 ‖ salt 32B).
    function leafHash(Context memory ctx, Account memory a) internal pure returns (bytes32) {
        bytes memory head = abi.encodePacked(LEAF_TAG, ctx.chainId, ctx.settlement, ctx.token, ctx.epoch, a.user);
        bytes memory tail = abi.encodePacked(a.reserved, a.held, a.pending, a.batched, a.claimable, a.salt);
        return keccak256(bytes.concat(head, tail));
    }

    /// @notice The leaf's value: the sum of the five components, invalid at 2^128 or above.
    function leafValue(Account memory a) internal pure returns (uint256 value) {
        value = uint256(a.reserved) + a.held + a.pending + a.batched + a.claimable;
        if (value >= SUM_LIMIT) revert SumOutOfRange(value);
    }

    function leaf(Context memory ctx, Account memory a) internal pure returns (Node memory) {
        return Node(leafHash(ctx, a), leafValue(a));
    }

    /// @notice keccak256(0x01 ‖ hashL ‖ sumL u128 ‖ hashR ‖ sumR u128), sum = sumL + sumR; both children's sums are
    ///         hashed (so no sibling can report max(vL, vR)), and any sum at 2^128 or above is invalid.
    function parent(Node memory l, Node memory r) internal pure returns (Node memory) {
        if (l.sum >= SUM_LIMIT) revert SumOutOfRange(l.sum);
        if (r.sum >= SUM_LIMIT) revert SumOutOfRange(r.sum);
        uint256 sum = l.sum + r.sum;
        if (sum >= SUM_LIMIT) revert SumOutOfRange(sum);
        // forge-lint: disable-next-line(unsafe-typecast)
        bytes memory packed = abi.encodePacked(PARENT_TAG, l.hash, uint128(l.sum), r.hash, uint128(r.sum));
        return Node(keccak256(packed), sum);
    }

    /// @notice The padding leaf at `index` (leafCount ≤ index < 2^depth): keccak256(0x02 ‖ chainId u64 ‖ token 20B ‖
    ///         epoch u64 ‖ index u32), value 0.
    function padding(Context memory ctx, uint32 index) internal pure returns (Node memory) {
        return Node(keccak256(abi.encodePacked(PADDING_TAG, ctx.chainId, ctx.token, ctx.epoch, index)), 0);
    }

    /// @notice Folds a proof bottom-up: at level k the node is the right child when bit k of `index` is set.
    function fold(Node memory node, uint256 index, Node[] memory siblings) internal pure returns (Node memory) {
        if (siblings.length < 256 && index >> siblings.length != 0) revert IndexOutOfRange(index, siblings.length);
        for (uint256 k; k < siblings.length; ++k) {
            node = (index >> k) & 1 == 0 ? parent(node, siblings[k]) : parent(siblings[k], node);
        }
        return node;
    }
}
