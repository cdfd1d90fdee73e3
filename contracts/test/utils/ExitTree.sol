// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {MerkleSum} from "./MerkleSum.sol";
import {ExitLeaf, SumNode} from "../../src/SettlementTypes.sol";

/// @notice Whole Merkle-sum trees of SOLVENCY.md built from accounts with MerkleSum (the test's own reading of the
///         spec, not the contract's code): leaves sorted by hash, padded to a power of two, every level kept, so
///         that any member's proof can be handed to the exit.
library ExitTree {
    struct Tree {
        MerkleSum.Context ctx;
        MerkleSum.Account[] accounts;
        /// @dev levels[0]: the leaves in tree order (sorted user leaves, then padding); levels[depth] = [root].
        MerkleSum.Node[][] levels;
        /// @dev position[i]: where accounts[i]'s leaf sits in levels[0].
        uint256[] position;
        bytes32 root;
        uint256 total;
    }

    function build(MerkleSum.Context memory ctx, MerkleSum.Account[] memory accounts)
        internal
        pure
        returns (Tree memory t)
    {
        t.ctx = ctx;
        t.accounts = accounts;
        uint256 n = accounts.length;
        uint256 depth;
        while ((uint256(1) << depth) < n) ++depth;
        t.levels = new MerkleSum.Node[][](depth + 1);

        MerkleSum.Node[] memory leaves = new MerkleSum.Node[](n);
        for (uint256 i; i < n; ++i) {
            leaves[i] = MerkleSum.leaf(ctx, accounts[i]);
        }
        uint256[] memory order = _sortedOrder(leaves);
        MerkleSum.Node[] memory level = new MerkleSum.Node[](uint256(1) << depth);
        t.position = new uint256[](n);
        for (uint256 r; r < n; ++r) {
            level[r] = leaves[order[r]];
            t.position[order[r]] = r;
        }
        for (uint256 p = n; p < level.length; ++p) {
            // forge-lint: disable-next-line(unsafe-typecast)
            level[p] = MerkleSum.padding(ctx, uint32(p));
        }
        t.levels[0] = level;
        for (uint256 k = 1; k <= depth; ++k) {
            MerkleSum.Node[] memory up = new MerkleSum.Node[](level.length / 2);
            for (uint256 j; j < up.length; ++j) {
                up[j] = MerkleSum.parent(level[2 * j], level[2 * j + 1]);
            }
            t.levels[k] = up;
            level = up;
        }
        (t.root, t.total) = (level[0].hash, level[0].sum);
    }

    /// @notice accounts[i]'s leaf and proof, as `SettlementExit.exit` takes them.
    function proof(Tree memory t, uint256 i)
        internal
        pure
        returns (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings)
    {
        MerkleSum.Account memory a = t.accounts[i];
        leaf = ExitLeaf(a.user, a.reserved, a.held, a.pending, a.batched, a.claimable, a.salt);
        index = t.position[i];
        uint256 depth = t.levels.length - 1;
        siblings = new SumNode[](depth);
        for (uint256 k; k < depth; ++k) {
            MerkleSum.Node memory s = t.levels[k][(index >> k) ^ 1];
            siblings[k] = SumNode(s.hash, s.sum);
        }
    }

    /// @notice Index of `user` among the tree's accounts.
    function find(Tree memory t, address user) internal pure returns (uint256 i) {
        for (; i < t.accounts.length; ++i) {
            if (t.accounts[i].user == user) return i;
        }
        revert("ExitTree: no such user");
    }

    /// @notice reserved + held + pending + batched: what the exit counts of a leaf.
    function entitlement(MerkleSum.Account memory a) internal pure returns (uint256) {
        return uint256(a.reserved) + a.held + a.pending + a.batched;
    }

    function _sortedOrder(MerkleSum.Node[] memory leaves) private pure returns (uint256[] memory order) {
        order = new uint256[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            uint256 j = i;
            for (; j > 0 && uint256(leaves[order[j - 1]].hash) > uint256(leaves[i].hash); --j) {
                order[j] = order[j - 1];
            }
            order[j] = i;
        }
    }
}
