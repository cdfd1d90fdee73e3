// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "./utils/Test.sol";
import {MerkleSum} from "./utils/MerkleSum.sol";

/// @notice A sales-plan user's leaf (SOLVENCY.md, "The tree"): keccak256(0x03 ‖ chainId u64 ‖ contract 20B ‖ token 20B ‖
///         epoch u64 ‖ user 20B ‖ reserved u128 ‖ held u128 ‖ pending u128 ‖ batched u128 ‖ claimable u128 ‖
///         maturing u128 ‖ salt 32B) — 205 bytes — and its value, the sum of the six, invalid at 2^128 or above. Its
///         own first byte, so that a five-component verifier refuses it. Written here from the spec rather than in
///         MerkleSum (whose leaf is the 0x00 one SettlementExit folds): the contracts take no 0x03 leaf yet.
library SalesLeaf {
    bytes1 internal constant SALES_LEAF_TAG = 0x03;

    function leafHash(MerkleSum.Context memory ctx, MerkleSum.Account memory a, uint128 maturing)
        internal
        pure
        returns (bytes32)
    {
        bytes memory head = abi.encodePacked(SALES_LEAF_TAG, ctx.chainId, ctx.settlement, ctx.token, ctx.epoch, a.user);
        bytes memory tail = abi.encodePacked(a.reserved, a.held, a.pending, a.batched, a.claimable, maturing, a.salt);
        return keccak256(bytes.concat(head, tail));
    }

    function leafValue(MerkleSum.Account memory a, uint128 maturing) internal pure returns (uint256 value) {
        value = uint256(a.reserved) + a.held + a.pending + a.batched + a.claimable + maturing;
        if (value >= MerkleSum.SUM_LIMIT) revert MerkleSum.SumOutOfRange(value);
    }

    function leaf(MerkleSum.Context memory ctx, MerkleSum.Account memory a, uint128 maturing)
        internal
        pure
        returns (MerkleSum.Node memory)
    {
        return MerkleSum.Node(leafHash(ctx, a, maturing), leafValue(a, maturing));
    }
}

/// @notice Calls MerkleSum externally, so that its reverts can be expected.
contract MerkleSumHarness {
    function parent(MerkleSum.Node memory l, MerkleSum.Node memory r) external pure returns (MerkleSum.Node memory) {
        return MerkleSum.parent(l, r);
    }

    function leafValue(MerkleSum.Account memory a) external pure returns (uint256) {
        return MerkleSum.leafValue(a);
    }

    function salesLeafValue(MerkleSum.Account memory a, uint128 maturing) external pure returns (uint256) {
        return SalesLeaf.leafValue(a, maturing);
    }

    function fold(MerkleSum.Node memory node, uint256 index, MerkleSum.Node[] memory siblings)
        external
        pure
        returns (MerkleSum.Node memory)
    {
        return MerkleSum.fold(node, index, siblings);
    }
}

/// @notice The golden vectors of the proof of solvency's tree (abi/vectors/solvency-tree.json, written by the
///         TypeScript side) recomputed from SOLVENCY.md in Solidity: every user's leaf and value, every level's
///         nodes from the leaves up, the padding, the root, the total, and every proof folding to the root. The
///         salts are taken from the file (HMAC is off-chain only). A user with `maturing` (the sales plan's cases) has
///         a 0x03 leaf, written out here from SOLVENCY.md (MerkleSum knows the five-component 0x00 leaf only); the
///         levels above it are the same parents and padding.
contract SolvencyVectorsTest is Test {
    string internal constant VECTORS = "../abi/vectors/solvency-tree.json";

    string internal json;

    function setUp() public {
        json = vm.readFile(VECTORS);
    }

    /// @notice Every case of the file, from its leaves to its root and back down every proof.
    function test_vectors_everyCaseRecomputesFromTheLeavesUp() public view {
        uint256 n = _count(".cases");
        assertGe(n, 1, "at least one case");
        uint256 sales;
        for (uint256 i; i < n; ++i) {
            string memory key = string.concat(".cases[", vm.toString(i), "]");
            _checkCase(key);
            if (vm.keyExistsJson(json, string.concat(key, ".users[0].maturing"))) ++sales;
        }
        assertGe(sales, 3, "the sales plan's cases (0x03 leaves) were checked too");
    }

    // ───────────── one case ─────────────

    struct Case {
        string key;
        string name;
        MerkleSum.Context ctx;
        uint256 depth;
        uint256 leafCount;
        MerkleSum.Node[] leaves; // the users' leaves, in the file's order of users
        address[] users;
        MerkleSum.Node root;
    }

    function _checkCase(string memory key) internal view {
        Case memory c;
        c.key = key;
        c.name = vm.parseJsonString(json, string.concat(key, ".name"));
        c.ctx = MerkleSum.Context({
            chainId: _u64(_uint(string.concat(key, ".chain_id")), "chain_id"),
            settlement: vm.parseJsonAddress(json, string.concat(key, ".contract")),
            token: vm.parseJsonAddress(json, string.concat(key, ".token")),
            epoch: _u64(_uint(string.concat(key, ".epoch")), "epoch")
        });
        c.depth = _uint(string.concat(key, ".depth"));
        c.leafCount = _uint(string.concat(key, ".leaf_count"));
        assertLe(c.depth, 32, _msg(c, "depth (the index is a u32)"));
        _checkUsers(c);
        MerkleSum.Node[] memory level = _checkLeafLevel(c);
        c.root = _checkLevels(c, level);
        assertEq(c.root.hash, vm.parseJsonBytes32(json, string.concat(key, ".root")), _msg(c, "root"));
        assertEq(c.root.sum, _uint(string.concat(key, ".total")), _msg(c, "total"));
        _checkProofs(c);
    }

    /// @dev Each user's leaf hash and value, recomputed from the components and the given salt: a 0x00 leaf of five,
    ///      or, for a user with `maturing` (whatever its value, 0 included), a 0x03 leaf of six. Every user of a case
    ///      has the same kind of leaf (one asset, one plan).
    function _checkUsers(Case memory c) internal view {
        uint256 n = _count(string.concat(c.key, ".users"));
        assertEq(n, c.leafCount, _msg(c, "one leaf per user: users = leaf_count"));
        c.leaves = new MerkleSum.Node[](n);
        c.users = new address[](n);
        bool sales = n > 0 && vm.keyExistsJson(json, string.concat(c.key, ".users[0].maturing"));
        for (uint256 u; u < n; ++u) {
            string memory k = string.concat(c.key, ".users[", vm.toString(u), "]");
            MerkleSum.Account memory a = MerkleSum.Account({
                user: vm.parseJsonAddress(json, string.concat(k, ".user")),
                reserved: _u128(_uint(string.concat(k, ".reserved")), "reserved"),
                held: _u128(_uint(string.concat(k, ".held")), "held"),
                pending: _u128(_uint(string.concat(k, ".pending")), "pending"),
                batched: _u128(_uint(string.concat(k, ".batched")), "batched"),
                claimable: _u128(_uint(string.concat(k, ".claimable")), "claimable"),
                salt: vm.parseJsonBytes32(json, string.concat(k, ".salt"))
            });
            for (uint256 v; v < u; ++v) {
                assertTrue(c.users[v] != a.user, _msg(c, string.concat("user listed twice: ", vm.toString(a.user))));
            }
            c.users[u] = a.user;
            string memory maturingKey = string.concat(k, ".maturing");
            assertEq(vm.keyExistsJson(json, maturingKey), sales, _msg(c, "every user of a case has maturing, or none"));
            c.leaves[u] =
                sales ? SalesLeaf.leaf(c.ctx, a, _u128(_uint(maturingKey), "maturing")) : MerkleSum.leaf(c.ctx, a);
            string memory who = string.concat("user ", vm.toString(u), " leaf");
            assertEq(c.leaves[u].hash, vm.parseJsonBytes32(json, string.concat(k, ".leaf")), _msg(c, who));
            assertEq(
                c.leaves[u].sum,
                _uint(string.concat(k, ".value")),
                _msg(c, sales ? "user value = sum of the six" : "user value = sum of the five")
            );
            // The five figures hashed as a 0x00 leaf (a five-component reader's) are never a sales user's leaf.
            if (sales) assertTrue(MerkleSum.leafHash(c.ctx, a) != c.leaves[u].hash, _msg(c, "0x03 is not 0x00"));
        }
    }

    /// @dev levels[0]: the users' leaves sorted ascending by hash (as uint256), then the padding leaves at indexes
    ///      leaf_count..2^depth-1; 2^depth is the smallest power of two holding every leaf.
    function _checkLeafLevel(Case memory c) internal view returns (MerkleSum.Node[] memory level) {
        uint256 width = 1 << c.depth;
        assertLe(c.leafCount, width, _msg(c, "leaf_count <= 2^depth"));
        if (c.depth > 0) assertLt(width / 2, c.leafCount, _msg(c, "2^depth is the smallest power of two"));
        level = _readLevel(c, 0, width);

        MerkleSum.Node[] memory sorted = _sortedByHash(c.leaves);
        for (uint256 i; i < c.leafCount; ++i) {
            string memory at = string.concat("levels[0][", vm.toString(i), "]");
            if (i > 0) assertLt(uint256(sorted[i - 1].hash), uint256(sorted[i].hash), _msg(c, "distinct leaves"));
            assertEq(level[i].hash, sorted[i].hash, _msg(c, string.concat(at, " is the user leaf of that rank")));
            assertEq(level[i].sum, sorted[i].sum, _msg(c, string.concat(at, " sum")));
        }
        for (uint256 i = c.leafCount; i < width; ++i) {
            string memory at = string.concat("levels[0][", vm.toString(i), "]");
            // forge-lint: disable-next-line(unsafe-typecast)
            MerkleSum.Node memory pad = MerkleSum.padding(c.ctx, uint32(i));
            assertEq(level[i].hash, pad.hash, _msg(c, string.concat(at, " padding hash")));
            assertEq(level[i].sum, 0, _msg(c, string.concat(at, " padding sum")));
        }
    }

    /// @dev Every level from its children below; returns the root (the single node of levels[depth]).
    function _checkLevels(Case memory c, MerkleSum.Node[] memory level) internal view returns (MerkleSum.Node memory) {
        assertEq(_count(string.concat(c.key, ".levels")), c.depth + 1, _msg(c, "levels: depth + 1"));
        for (uint256 k = 1; k <= c.depth; ++k) {
            MerkleSum.Node[] memory up = _readLevel(c, k, level.length / 2);
            for (uint256 j; j < up.length; ++j) {
                MerkleSum.Node memory p = MerkleSum.parent(level[2 * j], level[2 * j + 1]);
                string memory at = string.concat("levels[", vm.toString(k), "][", vm.toString(j), "]");
                assertEq(up[j].hash, p.hash, _msg(c, string.concat(at, " hash")));
                assertEq(up[j].sum, p.sum, _msg(c, string.concat(at, " sum")));
            }
            level = up;
        }
        assertEq(level.length, 1, _msg(c, "the last level is [root]"));
        return level[0];
    }

    /// @dev One proof per user; each starts at that user's leaf, its siblings are the tree's, and it folds to the root.
    function _checkProofs(Case memory c) internal view {
        uint256 n = _count(string.concat(c.key, ".proofs"));
        assertEq(n, c.leafCount, _msg(c, "a proof for every user"));
        MerkleSum.Node[] memory leaves = _readLevel(c, 0, 1 << c.depth);
        for (uint256 p; p < n; ++p) {
            string memory k = string.concat(c.key, ".proofs[", vm.toString(p), "]");
            address user = vm.parseJsonAddress(json, string.concat(k, ".user"));
            uint256 index = _uint(string.concat(k, ".index"));
            assertLt(index, c.leafCount, _msg(c, "a proof's index is a user leaf's"));
            uint256 u = _userIndex(c, user);
            assertEq(leaves[index].hash, c.leaves[u].hash, _msg(c, "the proof's index holds its user's leaf"));

            uint256 m = _count(string.concat(k, ".siblings"));
            assertEq(m, c.depth, _msg(c, "one sibling per level"));
            MerkleSum.Node[] memory siblings = new MerkleSum.Node[](m);
            for (uint256 s; s < m; ++s) {
                siblings[s] = _node(string.concat(k, ".siblings[", vm.toString(s), "]"));
                MerkleSum.Node memory expected = _readNode(c, s, (index >> s) ^ 1);
                assertEq(siblings[s].hash, expected.hash, _msg(c, "sibling is the tree's node"));
                assertEq(siblings[s].sum, expected.sum, _msg(c, "sibling sum is the tree's"));
            }
            MerkleSum.Node memory top = MerkleSum.fold(c.leaves[u], index, siblings);
            assertEq(top.hash, c.root.hash, _msg(c, string.concat("proof ", vm.toString(p), " folds to the root")));
            assertEq(top.sum, c.root.sum, _msg(c, string.concat("proof ", vm.toString(p), " folds to the total")));
        }
    }

    // ───────────── reading the file ─────────────

    function _readLevel(Case memory c, uint256 k, uint256 width) internal view returns (MerkleSum.Node[] memory level) {
        string memory key = string.concat(c.key, ".levels[", vm.toString(k), "]");
        assertEq(_count(key), width, _msg(c, string.concat("width of levels[", vm.toString(k), "]")));
        level = new MerkleSum.Node[](width);
        for (uint256 j; j < width; ++j) {
            level[j] = _node(string.concat(key, "[", vm.toString(j), "]"));
        }
    }

    function _readNode(Case memory c, uint256 k, uint256 j) internal view returns (MerkleSum.Node memory) {
        return _node(string.concat(c.key, ".levels[", vm.toString(k), "][", vm.toString(j), "]"));
    }

    function _node(string memory key) internal view returns (MerkleSum.Node memory) {
        return MerkleSum.Node(vm.parseJsonBytes32(json, string.concat(key, ".hash")), _uint(string.concat(key, ".sum")));
    }

    /// @dev Length of the array at `key` (0 if empty).
    function _count(string memory key) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(key, "[", vm.toString(n), "]"))) ++n;
    }

    /// @dev A decimal string (the file's amounts) or a JSON number (its counts and ids).
    function _uint(string memory key) internal view returns (uint256) {
        try vm.parseJsonString(json, key) returns (string memory s) {
            return _decimal(s, key);
        } catch {
            return vm.parseJsonUint(json, key);
        }
    }

    /// @dev Strict: one or more ASCII digits, nothing else (no sign, no 0x, no exponent), below 2^256.
    function _decimal(string memory s, string memory key) internal pure returns (uint256 v) {
        bytes memory b = bytes(s);
        assertGe(b.length, 1, string.concat(key, ": empty number"));
        for (uint256 i; i < b.length; ++i) {
            uint8 d = uint8(b[i]);
            assertTrue(d >= 0x30 && d <= 0x39, string.concat(key, ": not a decimal string: ", s));
            v = v * 10 + (d - 0x30);
        }
    }

    function _u64(uint256 v, string memory what) internal pure returns (uint64) {
        assertLe(v, type(uint64).max, string.concat(what, " fits u64"));
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(v);
    }

    function _u128(uint256 v, string memory what) internal pure returns (uint128) {
        assertLt(v, MerkleSum.SUM_LIMIT, string.concat(what, " fits u128"));
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint128(v);
    }

    function _userIndex(Case memory c, address user) internal pure returns (uint256 u) {
        for (; u < c.users.length; ++u) {
            if (c.users[u] == user) return u;
        }
        fail(_msg(c, string.concat("proof for a user not in the case: ", vm.toString(user))));
    }

    function _sortedByHash(MerkleSum.Node[] memory nodes) internal pure returns (MerkleSum.Node[] memory sorted) {
        sorted = new MerkleSum.Node[](nodes.length);
        for (uint256 i; i < nodes.length; ++i) {
            MerkleSum.Node memory x = nodes[i];
            uint256 j = i;
            for (; j > 0 && uint256(sorted[j - 1].hash) > uint256(x.hash); --j) {
                sorted[j] = sorted[j - 1];
            }
            sorted[j] = x;
        }
    }

    function _msg(Case memory c, string memory what) internal pure returns (string memory) {
        return string.concat(c.name, " (", c.key, "): ", what);
    }
}

/// @notice MerkleSum itself, without the file: hand-assembled preimages (pinned with `cast keccak`), the 2^128 bound,
///         and the tampering a verifier must catch.
contract MerkleSumTest is Test {
    MerkleSumHarness internal h = new MerkleSumHarness();

    function _ctx() internal pure returns (MerkleSum.Context memory) {
        return MerkleSum.Context({
            chainId: 56,
            settlement: 0x7000000000000000000000000000000000000007,
            token: 0x3333333333333333333333333333333333333333,
            epoch: 7
        });
    }

    function _account(address user, uint128 x) internal pure returns (MerkleSum.Account memory) {
        return MerkleSum.Account(user, x, 2 * x, 3 * x, 4 * x, 5 * x, keccak256(abi.encode(user)));
    }

    /// @dev The account whose leaves the hand-assembled preimages below write out: figures 1 to 5, a fixed salt.
    function _handAccount() internal pure returns (MerkleSum.Account memory) {
        return MerkleSum.Account({
            user: 0x1111111111111111111111111111111111111111,
            reserved: 1,
            held: 2,
            pending: 3,
            batched: 4,
            claimable: 5,
            salt: 0x5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a
        });
    }

    /// @dev The preimages written out byte by byte (widths of SOLVENCY.md), hashed outside Solidity.
    function test_hashes_matchHandAssembledPreimages() public pure {
        MerkleSum.Account memory a = _handAccount();
        bytes memory leafPreimage = bytes.concat(
            hex"00",
            hex"0000000000000038", // chainId 56, u64
            hex"7000000000000000000000000000000000000007",
            hex"3333333333333333333333333333333333333333",
            hex"0000000000000007", // epoch 7, u64
            hex"1111111111111111111111111111111111111111",
            hex"00000000000000000000000000000001",
            hex"00000000000000000000000000000002",
            hex"00000000000000000000000000000003",
            hex"00000000000000000000000000000004",
            hex"00000000000000000000000000000005",
            hex"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
        );
        assertEq(leafPreimage.length, 1 + 8 + 20 + 20 + 8 + 20 + 5 * 16 + 32, "leaf preimage: 189 bytes");
        assertEq(MerkleSum.leafHash(_ctx(), a), keccak256(leafPreimage), "leaf");
        assertEq(MerkleSum.leafHash(_ctx(), a), PINNED_LEAF, "leaf pinned (cast keccak)");
        assertEq(MerkleSum.leafValue(a), 15, "value");

        MerkleSum.Node memory pad = MerkleSum.padding(_ctx(), 3);
        bytes memory padPreimage = bytes.concat(
            hex"02",
            hex"0000000000000038",
            hex"3333333333333333333333333333333333333333",
            hex"0000000000000007",
            hex"00000003"
        );
        assertEq(padPreimage.length, 41, "padding preimage: 41 bytes");
        assertEq(pad.hash, keccak256(padPreimage), "padding");
        assertEq(pad.hash, PINNED_PADDING, "padding pinned (cast keccak)");
        assertEq(pad.sum, 0, "padding value");

        MerkleSum.Node memory p = MerkleSum.parent(MerkleSum.Node(PINNED_LEAF, 15), pad);
        bytes memory parentPreimage = bytes.concat(
            hex"01",
            PINNED_LEAF,
            hex"0000000000000000000000000000000f",
            PINNED_PADDING,
            hex"00000000000000000000000000000000"
        );
        assertEq(parentPreimage.length, 97, "parent preimage: 97 bytes");
        assertEq(p.hash, keccak256(parentPreimage), "parent");
        assertEq(p.hash, PINNED_PARENT, "parent pinned (cast keccak)");
        assertEq(p.sum, 15, "parent sum");
    }

    bytes32 internal constant PINNED_LEAF = 0x4f5cdb8c2f32e116f3f05c66392140511db20e4823a3711780be090bbd3133cc;
    bytes32 internal constant PINNED_PADDING = 0xb35d602fd05309750d737682694655f5066c0fc58b726792a575190169a69e22;
    bytes32 internal constant PINNED_PARENT = 0xc12609565e0e69527659ff58a4937b96bb6c078722e4a93399d6f3d7f39d8a9a;

    /// @dev A sales-plan leaf written out byte by byte: the 0x00 leaf's preimage with 0x03 first and maturing (6) after
    ///      claimable; pinned with `cast keccak`. The same figures as a 0x00 leaf (maturing dropped) or with maturing 0
    ///      are other leaves.
    function test_salesLeaf_matchesHandAssembledPreimage() public pure {
        MerkleSum.Account memory a = _handAccount();
        bytes memory preimage = bytes.concat(
            hex"03",
            hex"0000000000000038", // chainId 56, u64
            hex"7000000000000000000000000000000000000007",
            hex"3333333333333333333333333333333333333333",
            hex"0000000000000007", // epoch 7, u64
            hex"1111111111111111111111111111111111111111",
            hex"00000000000000000000000000000001",
            hex"00000000000000000000000000000002",
            hex"00000000000000000000000000000003",
            hex"00000000000000000000000000000004",
            hex"00000000000000000000000000000005",
            hex"00000000000000000000000000000006", // maturing
            hex"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
        );
        assertEq(preimage.length, 1 + 8 + 20 + 20 + 8 + 20 + 6 * 16 + 32, "sales leaf preimage: 205 bytes");
        assertEq(SalesLeaf.leafHash(_ctx(), a, 6), keccak256(preimage), "sales leaf");
        assertEq(SalesLeaf.leafHash(_ctx(), a, 6), PINNED_SALES_LEAF, "sales leaf pinned (cast keccak)");
        assertEq(SalesLeaf.leafValue(a, 6), 21, "value: the six");
        assertTrue(MerkleSum.leafHash(_ctx(), a) != PINNED_SALES_LEAF, "not the 0x00 leaf of the five");
        assertTrue(SalesLeaf.leafHash(_ctx(), a, 0) != MerkleSum.leafHash(_ctx(), a), "maturing 0 is still a 0x03 leaf");
    }

    bytes32 internal constant PINNED_SALES_LEAF = 0xa709a0fa591f324eac0ef3581e82b040ca66d9cb2d44d961943e5e05a1557e4e;

    function test_salesLeafValue_refusesASumOf2To128() public {
        MerkleSum.Account memory a = _account(address(1), 0);
        a.reserved = type(uint128).max;
        assertEq(h.salesLeafValue(a, 0), type(uint128).max, "2^128 - 1 is the largest value");
        vm.expectRevert(abi.encodeWithSelector(MerkleSum.SumOutOfRange.selector, uint256(1) << 128));
        h.salesLeafValue(a, 1);
    }

    function test_parent_refusesASumOf2To128() public {
        MerkleSum.Node memory l = MerkleSum.Node(keccak256("l"), 1 << 127);
        MerkleSum.Node memory r = MerkleSum.Node(keccak256("r"), 1 << 127);
        vm.expectRevert(abi.encodeWithSelector(MerkleSum.SumOutOfRange.selector, uint256(1) << 128));
        h.parent(l, r);
        r.sum = (1 << 127) - 1;
        assertEq(h.parent(l, r).sum, type(uint128).max, "2^128 - 1 is the largest sum");
    }

    function test_parent_refusesAChildAtOrAbove2To128() public {
        MerkleSum.Node memory l = MerkleSum.Node(keccak256("l"), 1 << 128);
        MerkleSum.Node memory r = MerkleSum.Node(keccak256("r"), 0);
        vm.expectRevert(abi.encodeWithSelector(MerkleSum.SumOutOfRange.selector, uint256(1) << 128));
        h.parent(l, r);
        // a wrapped "negative" sibling cannot lower a sum either
        r.sum = type(uint256).max;
        l.sum = 5;
        vm.expectRevert(abi.encodeWithSelector(MerkleSum.SumOutOfRange.selector, type(uint256).max));
        h.parent(l, r);
    }

    function test_leafValue_refusesASumOf2To128() public {
        MerkleSum.Account memory a = _account(address(1), 0);
        (a.reserved, a.held) = (type(uint128).max, 1);
        vm.expectRevert(abi.encodeWithSelector(MerkleSum.SumOutOfRange.selector, uint256(1) << 128));
        h.leafValue(a);
    }

    /// @dev Both children's sums are hashed: a sibling reported with another sum (Maxwell's max(vL, vR)) changes
    ///      the parent's hash, as does a swap of left and right.
    function test_parent_bindsBothSumsAndTheOrder() public pure {
        MerkleSum.Node memory l = MerkleSum.Node(keccak256("l"), 40);
        MerkleSum.Node memory r = MerkleSum.Node(keccak256("r"), 60);
        MerkleSum.Node memory p = MerkleSum.parent(l, r);
        assertEq(p.sum, 100, "sum");
        MerkleSum.Node memory lowered = MerkleSum.parent(MerkleSum.Node(l.hash, 0), r);
        assertTrue(lowered.hash != p.hash, "a lowered sibling sum changes the hash");
        MerkleSum.Node memory swapped = MerkleSum.parent(r, l);
        assertTrue(swapped.hash != p.hash, "order matters");
        assertEq(swapped.sum, p.sum, "same sum");
    }

    /// @notice A small tree built here: every leaf's proof folds to the root; a tampered proof does not.
    function test_fold_everyProofOfABuiltTreeReachesTheRootAndTamperingFails() public pure {
        MerkleSum.Context memory ctx = _ctx();
        MerkleSum.Node[] memory level = new MerkleSum.Node[](4);
        level[0] = MerkleSum.leaf(ctx, _account(address(0xA), 1));
        level[1] = MerkleSum.leaf(ctx, _account(address(0xB), 0)); // a zero balance is a leaf too
        level[2] = MerkleSum.leaf(ctx, _account(address(0xC), 7));
        level[3] = MerkleSum.padding(ctx, 3);
        MerkleSum.Node memory a = MerkleSum.parent(level[0], level[1]);
        MerkleSum.Node memory b = MerkleSum.parent(level[2], level[3]);
        MerkleSum.Node memory root = MerkleSum.parent(a, b);
        assertEq(root.sum, 15 + 0 + 105, "total");

        for (uint256 i; i < 4; ++i) {
            MerkleSum.Node[] memory s = new MerkleSum.Node[](2);
            s[0] = level[i ^ 1];
            s[1] = i < 2 ? b : a;
            MerkleSum.Node memory top = MerkleSum.fold(level[i], i, s);
            assertEq(top.hash, root.hash, "folds to the root");
            assertEq(top.sum, root.sum, "folds to the total");
            MerkleSum.Node memory wrongSide = MerkleSum.fold(level[i], i ^ 1, s);
            assertTrue(wrongSide.hash != root.hash, "a swapped position does not");
        }
        // the max(vL, vR) sibling: the right subtree reported with max(105, 0) instead of the sum, same hash
        MerkleSum.Node[] memory t = new MerkleSum.Node[](2);
        (t[0], t[1]) = (level[1], MerkleSum.Node(b.hash, 0));
        MerkleSum.Node memory lowered = MerkleSum.fold(level[0], 0, t);
        assertTrue(lowered.hash != root.hash, "a lowered sibling sum does not fold to the root");
        // a lowered leaf (the user's own balance understated)
        MerkleSum.Node memory less = MerkleSum.leaf(ctx, _account(address(0xC), 6));
        MerkleSum.Node[] memory u = new MerkleSum.Node[](2);
        (u[0], u[1]) = (level[3], a);
        assertTrue(MerkleSum.fold(less, 2, u).hash != root.hash, "a lowered balance does not fold to the root");
        assertEq(MerkleSum.fold(level[2], 2, u).hash, root.hash, "the true one does");
    }

    function test_fold_refusesAnIndexBeyondTheDepth() public {
        MerkleSum.Node[] memory s = new MerkleSum.Node[](2);
        vm.expectRevert(abi.encodeWithSelector(MerkleSum.IndexOutOfRange.selector, 4, 2));
        h.fold(MerkleSum.Node(keccak256("x"), 1), 4, s);
    }

    /// @dev Padding leaves differ by index, chain, token and epoch (never by contract: SOLVENCY.md leaves it out).
    function test_padding_isBoundToIndexChainTokenAndEpoch() public pure {
        MerkleSum.Context memory ctx = _ctx();
        bytes32 base = MerkleSum.padding(ctx, 5).hash;
        assertTrue(MerkleSum.padding(ctx, 6).hash != base, "index");
        ctx.chainId = 97;
        assertTrue(MerkleSum.padding(ctx, 5).hash != base, "chain");
        ctx = _ctx();
        ctx.token = address(0);
        assertTrue(MerkleSum.padding(ctx, 5).hash != base, "token");
        ctx = _ctx();
        ctx.epoch = 8;
        assertTrue(MerkleSum.padding(ctx, 5).hash != base, "epoch");
        ctx = _ctx();
        ctx.settlement = address(0xdead);
        assertEq(MerkleSum.padding(ctx, 5).hash, base, "not the contract");
    }
}
