// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ExitFixture} from "./utils/ExitFixture.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementExit} from "../src/SettlementExit.sol";
import {ExitLeaf, SumNode, SettlementConfig} from "../src/SettlementTypes.sol";
import {MockERC20} from "./mocks/MockERC20.sol";

/// @notice The exit's own proof check against the golden vectors of the proof of solvency (abi/vectors/
///         solvency-tree.json, written by the TypeScript side and recomputed in Rust and in SolvencyVectors.t.sol):
///         every proof of every case folds, in the exit contract's code, to the case's root and total; and, on a
///         Settlement deployed at each case's contract address and chain, every member of the case claims with the
///         file's proof and, once the claim window has closed, receives reserved + held + pending + batched.
///         The sales plan's cases (users with `maturing`: 0x03 leaves of six figures, SOLVENCY.md) are not the exit's
///         yet — `ExitLeaf` has five figures and foldProof hashes a 0x00 leaf (contracts/SALES.md §6) — so their leaves
///         and folds are checked here by the spec's own rules, and the exit's fold of their five figures is shown not
///         to reach their root; they are not exited end to end.
contract SettlementExitVectorsTest is ExitFixture {
    string internal constant VECTORS = "../abi/vectors/solvency-tree.json";
    /// @dev Cases whose epoch is at most this are also committed and exited end to end (epochs are committed one
    ///      after another from 1; the file has one with epoch 2^40 + 7, checked by foldProof only).
    uint64 internal constant MAX_EPOCH_END_TO_END = 16;
    /// @dev Every leaf value and every sum of the tree is below 2^128 (SOLVENCY.md).
    uint256 internal constant SUM_LIMIT = 1 << 128;

    string internal json;

    function setUp() public override {
        super.setUp();
        json = vm.readFile(VECTORS);
    }

    /// @notice foldProof (the code `exit` runs) gives every proof's leaf hash, the case's root and its total; a sales
    ///         plan's proof (0x03) folds by the spec's rules written here instead.
    function test_vectors_theExitsProofCheckAcceptsEveryProof() public view {
        uint256 n = _count(".cases");
        uint256 proofs;
        uint256 salesProofs;
        for (uint256 i; i < n; ++i) {
            string memory key = string.concat(".cases[", vm.toString(i), "]");
            bool sales = _isSales(key);
            uint256 m = _count(string.concat(key, ".proofs"));
            for (uint256 p; p < m; ++p) {
                if (sales) {
                    _checkSalesFold(key, p);
                    ++salesProofs;
                } else {
                    _checkFold(key, p);
                }
                ++proofs;
            }
        }
        assertGe(proofs, 30, "the file's proofs were all checked");
        assertGe(salesProofs, 7, "the sales plan's proofs were checked too");
    }

    /// @dev A case of the sales plan: its users have `maturing` (every user or none: one asset, one plan).
    function _isSales(string memory key) internal view returns (bool) {
        return vm.keyExistsJson(json, string.concat(key, ".users[0].maturing"));
    }

    /// @dev A 0x03 proof: the leaf keccak256(0x03 ‖ chainId u64 ‖ contract ‖ token ‖ epoch u64 ‖ user ‖ the five u128 ‖
    ///      maturing u128 ‖ salt) of value the six's sum, folded with parent = keccak256(0x01 ‖ hashL ‖ sumL u128 ‖
    ///      hashR ‖ sumR u128), every sum below 2^128, to the case's root and total. The exit's foldProof, given the
    ///      five figures (what an ExitLeaf holds), hashes a 0x00 leaf: never this one, never this root.
    function _checkSalesFold(string memory key, uint256 p) internal view {
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings, bytes32 leafHash) = _proof(key, p);
        Context memory c = _context(key);
        uint128 maturing = _maturingOf(key, leaf.member);
        bytes32 h = _salesLeafHash(c, leaf, maturing);
        assertEq(h, leafHash, string.concat(key, ": 0x03 leaf hash"));
        uint256 value = uint256(leaf.reserved) + leaf.held + leaf.pending + leaf.batched + leaf.claimable + maturing;
        (bytes32 root, uint256 total) = _fold(key, h, value, index, siblings);
        bytes32 caseRoot = vm.parseJsonBytes32(json, string.concat(key, ".root"));
        assertEq(root, caseRoot, string.concat(key, ": 0x03 proof folds to the root"));
        assertEq(total, _uint(string.concat(key, ".total")), string.concat(key, ": 0x03 proof folds to the total"));
        _checkExitCannotProve(key, c, leaf, index, siblings, caseRoot);
    }

    function _salesLeafHash(Context memory c, ExitLeaf memory leaf, uint128 maturing) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                abi.encodePacked(bytes1(0x03), c.chainId, c.settlement, c.token, c.epoch, leaf.member),
                abi.encodePacked(
                    leaf.reserved, leaf.held, leaf.pending, leaf.batched, leaf.claimable, maturing, leaf.salt
                )
            )
        );
    }

    /// @dev The parent rule, bottom-up: at level k the node is the right child when bit k of `index` is set.
    function _fold(string memory key, bytes32 h, uint256 value, uint256 index, SumNode[] memory siblings)
        internal
        pure
        returns (bytes32 root, uint256 total)
    {
        assertLt(value, SUM_LIMIT, string.concat(key, ": the six's sum below 2^128"));
        (root, total) = (h, value);
        for (uint256 k; k < siblings.length; ++k) {
            SumNode memory s = siblings[k];
            assertLt(s.sum, SUM_LIMIT, string.concat(key, ": sibling sum below 2^128"));
            // both below 2^128: the casts are exact
            // forge-lint: disable-next-line(unsafe-typecast)
            (uint128 nodeSum, uint128 sibSum) = (uint128(total), uint128(s.sum));
            root = (index >> k) & 1 == 0
                ? keccak256(abi.encodePacked(bytes1(0x01), root, nodeSum, s.hash, sibSum))
                : keccak256(abi.encodePacked(bytes1(0x01), s.hash, sibSum, root, nodeSum));
            total += s.sum;
            assertLt(total, SUM_LIMIT, string.concat(key, ": every sum below 2^128"));
        }
    }

    /// @dev The exit's foldProof, given the five figures an ExitLeaf holds, hashes a 0x00 leaf: never the case's root.
    function _checkExitCannotProve(
        string memory key,
        Context memory c,
        ExitLeaf memory leaf,
        uint256 index,
        SumNode[] memory siblings,
        bytes32 caseRoot
    ) internal view {
        try exits.foldProof(c.chainId, c.settlement, c.token, c.epoch, leaf, index, siblings) returns (
            bytes32, bytes32 exitRoot, uint256
        ) {
            assertTrue(exitRoot != caseRoot, string.concat(key, ": the exit cannot prove a 0x03 leaf yet"));
        } catch {
            // A refusal is no proof either.
        }
    }

    /// @dev The `maturing` of `member` in the case's users (0x03 cases only).
    function _maturingOf(string memory key, address member) internal view returns (uint128) {
        uint256 users = _count(string.concat(key, ".users"));
        for (uint256 u; u < users; ++u) {
            string memory uk = string.concat(key, ".users[", vm.toString(u), "]");
            if (vm.parseJsonAddress(json, string.concat(uk, ".user")) != member) continue;
            return _u128(_uint(string.concat(uk, ".maturing")));
        }
        revert("a proof for a user not in the case");
    }

    function _checkFold(string memory key, uint256 p) internal view {
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings, bytes32 leafHash) = _proof(key, p);
        Context memory c = _context(key);
        (bytes32 h, bytes32 root, uint256 total) =
            exits.foldProof(c.chainId, c.settlement, c.token, c.epoch, leaf, index, siblings);
        assertEq(h, leafHash, string.concat(key, ": leaf hash"));
        assertEq(root, vm.parseJsonBytes32(json, string.concat(key, ".root")), string.concat(key, ": root"));
        assertEq(total, _uint(string.concat(key, ".total")), string.concat(key, ": total"));
    }

    struct Context {
        uint64 chainId;
        address settlement;
        address token;
        uint64 epoch;
    }

    function _context(string memory key) internal view returns (Context memory) {
        return Context(
            _u64(_uint(string.concat(key, ".chain_id"))),
            vm.parseJsonAddress(json, string.concat(key, ".contract")),
            vm.parseJsonAddress(json, string.concat(key, ".token")),
            _u64(_uint(string.concat(key, ".epoch")))
        );
    }

    /// @notice End to end: each case's root committed on a Settlement at the case's address and chain, the exit
    ///         opened, every member claiming with the file's proof, and each paid once the window has closed.
    function test_vectors_everyMemberExitsWithTheFilesProof() public {
        uint256 n = _count(".cases");
        uint256 exited;
        for (uint256 i; i < n; ++i) {
            string memory key = string.concat(".cases[", vm.toString(i), "]");
            if (_u64(_uint(string.concat(key, ".epoch"))) > MAX_EPOCH_END_TO_END) continue;
            if (_count(string.concat(key, ".proofs")) == 0) continue;
            // The sales plan's 0x03 leaves: no exit takes them yet (see the contract's notice above).
            if (_isSales(key)) continue;
            uint256 snapshot = vm.snapshotState();
            exited += _exitCase(key);
            vm.revertToState(snapshot);
        }
        assertGe(exited, 15, "members exited");
    }

    function _exitCase(string memory key) internal returns (uint256 exited) {
        vm.chainId(_uint(string.concat(key, ".chain_id")));
        address token = vm.parseJsonAddress(json, string.concat(key, ".token"));
        uint64 epoch = _u64(_uint(string.concat(key, ".epoch")));
        uint256 total = _uint(string.concat(key, ".total"));
        if (token != NATIVE && token.code.length == 0) vm.etch(token, address(new MockERC20("Vector", "VEC")).code);
        address[] memory allowed = new address[](1);
        allowed[0] = token;
        settlement = _deployAt(vm.parseJsonAddress(json, string.concat(key, ".contract")), _config(allowed));
        exits = SettlementExit(payable(settlement.exits()));

        for (uint64 e = 1; e < epoch; ++e) {
            _rollForCommit(token);
            _commitRoot(token, e, keccak256(abi.encode("an earlier epoch", e)), 0);
        }
        _rollForCommit(token);
        _commitRoot(token, epoch, vm.parseJsonBytes32(json, string.concat(key, ".root")), total);
        if (token == NATIVE) vm.deal(address(settlement), total);
        else MockERC20(token).mint(address(settlement), total);
        _openExit(token);

        uint256 m = _count(string.concat(key, ".proofs"));
        address[] memory claimed = new address[](m);
        uint256[] memory dues = new uint256[](m);
        for (uint256 p; p < m; ++p) {
            (claimed[exited], dues[exited]) = _claimWithProof(key, token, p);
            if (dues[exited] != 0) ++exited;
        }
        _closeClaimWindow(token);
        for (uint256 k; k < exited; ++k) {
            uint256 before = _balance(token, claimed[k]);
            exits.payOut(token, claimed[k]);
            assertEq(_balance(token, claimed[k]) - before, dues[k], string.concat(key, ": received"));
        }
    }

    /// @dev The member of proof `p` claims with it when owed anything (the preview checks the proof either way).
    function _claimWithProof(string memory key, address token, uint256 p) internal returns (address, uint256) {
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings,) = _proof(key, p);
        uint256 due = uint256(leaf.reserved) + leaf.held + leaf.pending + leaf.batched;
        (uint256 entitlement,, uint256 amount) = exits.previewExit(token, leaf, index, siblings);
        assertEq(entitlement, due, string.concat(key, ": entitlement"));
        assertEq(amount, due, string.concat(key, ": custody covers the total: paid in full"));
        if (due == 0) return (leaf.member, 0);
        vm.prank(leaf.member);
        assertEq(exits.exit(token, leaf, index, siblings, leaf.member), due, string.concat(key, ": claimed"));
        return (leaf.member, due);
    }

    /// @dev Deploys a Settlement at `target` (the constructor run in place, as forge-std's deployCodeTo does), so
    ///      that the leaves of a case, which name its contract, are this Settlement's.
    function _deployAt(address target, SettlementConfig memory c) internal returns (Settlement) {
        vm.etch(target, abi.encodePacked(type(Settlement).creationCode, abi.encode(c)));
        (bool ok, bytes memory runtime) = target.call("");
        require(ok, "constructor reverted");
        vm.etch(target, runtime);
        return Settlement(target);
    }

    // ───────────── reading the file ─────────────

    function _proof(string memory key, uint256 p)
        internal
        view
        returns (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings, bytes32 leafHash)
    {
        string memory k = string.concat(key, ".proofs[", vm.toString(p), "]");
        address user = vm.parseJsonAddress(json, string.concat(k, ".user"));
        index = _uint(string.concat(k, ".index"));
        uint256 depth = _count(string.concat(k, ".siblings"));
        siblings = new SumNode[](depth);
        for (uint256 s; s < depth; ++s) {
            string memory sk = string.concat(k, ".siblings[", vm.toString(s), "]");
            siblings[s] =
                SumNode(vm.parseJsonBytes32(json, string.concat(sk, ".hash")), _uint(string.concat(sk, ".sum")));
        }
        uint256 users = _count(string.concat(key, ".users"));
        for (uint256 u; u < users; ++u) {
            string memory uk = string.concat(key, ".users[", vm.toString(u), "]");
            if (vm.parseJsonAddress(json, string.concat(uk, ".user")) != user) continue;
            leaf = ExitLeaf({
                member: user,
                reserved: _u128(_uint(string.concat(uk, ".reserved"))),
                held: _u128(_uint(string.concat(uk, ".held"))),
                pending: _u128(_uint(string.concat(uk, ".pending"))),
                batched: _u128(_uint(string.concat(uk, ".batched"))),
                claimable: _u128(_uint(string.concat(uk, ".claimable"))),
                salt: vm.parseJsonBytes32(json, string.concat(uk, ".salt"))
            });
            leafHash = vm.parseJsonBytes32(json, string.concat(uk, ".leaf"));
            return (leaf, index, siblings, leafHash);
        }
        revert("a proof for a user not in the case");
    }

    function _count(string memory key) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, string.concat(key, "[", vm.toString(n), "]"))) ++n;
    }

    /// @dev A decimal string (the file's amounts) or a JSON number (its counts and ids).
    function _uint(string memory key) internal view returns (uint256 v) {
        try vm.parseJsonString(json, key) returns (string memory s) {
            bytes memory b = bytes(s);
            for (uint256 i; i < b.length; ++i) {
                v = v * 10 + (uint8(b[i]) - 0x30);
            }
        } catch {
            v = vm.parseJsonUint(json, key);
        }
    }

    function _u64(uint256 v) internal pure returns (uint64) {
        require(v <= type(uint64).max, "u64");
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(v);
    }

    function _u128(uint256 v) internal pure returns (uint128) {
        require(v <= type(uint128).max, "u128");
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint128(v);
    }
}
