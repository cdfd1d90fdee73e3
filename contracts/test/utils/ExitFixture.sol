// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "./SettlementFixture.sol";
import {MerkleSum} from "./MerkleSum.sol";
import {ExitTree} from "./ExitTree.sol";
import {SettlementExit} from "../../src/SettlementExit.sol";
import {ExitLeaf, SumNode, FoldedBatch, Payout, PayoutBatch, LiabilityRoot} from "../../src/SettlementTypes.sol";

/// @notice The Settlement fixture plus what the members' exit needs: real Merkle-sum trees committed as liabilities,
///         the batches executed since the latest commitment kept for `foldBatches`, and proofs handed to the exit.
abstract contract ExitFixture is SettlementFixture {
    using ExitTree for ExitTree.Tree;

    uint64 internal constant EXIT_START_BLOCK = 1_000;

    SettlementExit internal exits;

    /// @dev Per token, the batches executed since its latest commitment (oldest first), as foldBatches replays them.
    mapping(address token => FoldedBatch[]) internal _sinceCommit;
    /// @dev Nonces of the registrations `_fundCustody` makes, far from the ones tests pick by hand.
    uint256 internal _fundingNonce = 1 << 199;

    function setUp() public virtual override {
        super.setUp();
        vm.roll(EXIT_START_BLOCK);
        exits = SettlementExit(payable(settlement.exits()));
        vm.label(address(exits), "SettlementExit");
    }

    /// @dev Puts `amount` into custody the way members do (a registration, by a seeder of its own).
    function _fundCustody(address token, uint256 amount) internal {
        _seed(token, amount, _fundingNonce++);
    }

    // ───────────── accounts and trees ─────────────

    function _account(address user, uint128 reserved, uint128 held, uint128 pending, uint128 batched, uint128 claimable)
        internal
        pure
        returns (MerkleSum.Account memory)
    {
        return MerkleSum.Account(user, reserved, held, pending, batched, claimable, keccak256(abi.encode("salt", user)));
    }

    /// @dev A member owed only `pending`.
    function _owing(address user, uint128 pending) internal pure returns (MerkleSum.Account memory) {
        return _account(user, 0, 0, pending, 0, 0);
    }

    function _accounts(MerkleSum.Account memory a, MerkleSum.Account memory b)
        internal
        pure
        returns (MerkleSum.Account[] memory list)
    {
        list = new MerkleSum.Account[](2);
        (list[0], list[1]) = (a, b);
    }

    function _accounts(MerkleSum.Account memory a, MerkleSum.Account memory b, MerkleSum.Account memory c)
        internal
        pure
        returns (MerkleSum.Account[] memory list)
    {
        list = new MerkleSum.Account[](3);
        (list[0], list[1], list[2]) = (a, b, c);
    }

    /// @dev The tree context of `token`'s next epoch in this fixture's Settlement (TRON's masked chain id, as the
    ///      contract signs with).
    function _nextContext(address token) internal view returns (MerkleSum.Context memory) {
        (,, uint64 epoch,,,) = views().latestLiabilities(token);
        return MerkleSum.Context(uint64(block.chainid & 0xffffffff), address(settlement), token, epoch + 1);
    }

    // ───────────── commitments ─────────────

    /// @dev Rolls to the first block whose previous block may be a commitment's asOfBlock: after the latest
    ///      commitment's and not before the latest batch's (EXIT.md T2).
    function _rollForCommit(address token) internal {
        (,,, uint64 asOf,,) = views().latestLiabilities(token);
        (, uint256 lastBatchBlock) = views().batchesSinceCommitment(token);
        uint256 minBlock = lastBatchBlock + 1 > asOf + 2 ? lastBatchBlock + 1 : asOf + 2;
        if (block.number < minBlock) vm.roll(minBlock);
    }

    /// @dev Builds the tree of `accounts` for `token`'s next epoch and commits its root and total.
    function _commitTree(address token, MerkleSum.Account[] memory accounts) internal returns (ExitTree.Tree memory t) {
        _rollForCommit(token);
        t = ExitTree.build(_nextContext(token), accounts);
        _commitRoot(token, t.ctx.epoch, t.root, t.total);
    }

    function _commitRoot(address token, uint64 epoch, bytes32 root, uint256 total) internal {
        // forge-lint: disable-next-line(unsafe-typecast)
        LiabilityRoot memory c = _liab(token, epoch, uint128(total), COMMIT_NONCE_BASE + _commits++);
        c.root = root;
        bytes memory sig = _sign(c);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
        delete _sinceCommit[token];
    }

    // ───────────── batches since the commitment ─────────────

    /// @dev Executes a signed batch and keeps it (with the running hash before it) for folding.
    function _executeKept(address token, Payout[] memory payouts, uint256 nonce) internal {
        (bytes32 head, uint256 lastBatchBlock) = views().batchesSinceCommitment(token);
        _execute(_batch(token, payouts, nonce));
        FoldedBatch storage kept = _sinceCommit[token].push();
        kept.previous = lastBatchBlock == 0 ? bytes32(0) : head;
        kept.nonce = nonce;
        for (uint256 i; i < payouts.length; ++i) {
            kept.payouts.push(payouts[i]);
        }
    }

    /// @dev The kept batches `from`..`to` (oldest-first positions, `to` excluded), newest first: foldBatches' order.
    function _keptNewestFirst(address token, uint256 from, uint256 to) internal view returns (FoldedBatch[] memory b) {
        FoldedBatch[] storage kept = _sinceCommit[token];
        b = new FoldedBatch[](to - from);
        for (uint256 i; i < b.length; ++i) {
            b[i] = kept[to - 1 - i];
        }
    }

    function _foldAll(address token) internal {
        exits.foldBatches(token, _keptNewestFirst(token, 0, _sinceCommit[token].length));
    }

    // ───────────── opening and exits ─────────────

    function _openExit(address token) internal {
        uint256 opensAt = views().exitOpensAt(token);
        if (block.timestamp < opensAt) vm.warp(opensAt);
        exits.openExit(token);
    }

    /// @dev `t`'s account `user` claims their exit, to their own address, sent by themselves; returns the due
    ///      recorded (what `claimOf` says).
    function _claim(ExitTree.Tree memory t, address user) internal returns (uint256 due) {
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(user));
        vm.prank(user);
        due = exits.exit(t.ctx.token, leaf, index, siblings, user);
        (uint256 recorded, address to, bool paid) = exits.claimOf(t.ctx.token, user);
        assertEq(recorded, due, "the claim's due is recorded");
        assertEq(to, user, "to the member");
        assertFalse(paid, "not paid before the window closes");
    }

    /// @dev Warps to the end of `token`'s claim window: claims are over, payouts may start.
    function _closeClaimWindow(address token) internal {
        (uint64 end,,,,) = exits.claimWindow(token);
        assertTrue(end != 0, "the exit is open");
        if (block.timestamp < end) vm.warp(end);
    }

    /// @dev Pays `member`'s claim (sent by a stranger); returns what arrived where the claim says.
    function _payOut(address token, address member) internal returns (uint256 amount) {
        (, address to,) = exits.claimOf(token, member);
        uint256 before = _balance(token, to);
        vm.prank(makeAddr("payer"));
        amount = exits.payOut(token, member);
        assertEq(_balance(token, to) - before, amount, "the payout's amount arrived");
        (,, bool paid) = exits.claimOf(token, member);
        assertTrue(paid, "paid");
    }

    /// @dev Every one of `users` claims (in that order), the window closes, then each is paid (in the same order):
    ///      what each received.
    function _exitAll(ExitTree.Tree memory t, address[] memory users) internal returns (uint256[] memory amounts) {
        for (uint256 i; i < users.length; ++i) {
            _claim(t, users[i]);
        }
        _closeClaimWindow(t.ctx.token);
        amounts = new uint256[](users.length);
        for (uint256 i; i < users.length; ++i) {
            amounts[i] = _payOut(t.ctx.token, users[i]);
        }
    }

    function _list(address a) internal pure returns (address[] memory l) {
        l = new address[](1);
        l[0] = a;
    }

    function _list(address a, address b) internal pure returns (address[] memory l) {
        l = new address[](2);
        (l[0], l[1]) = (a, b);
    }

    function _list(address a, address b, address c) internal pure returns (address[] memory l) {
        l = new address[](3);
        (l[0], l[1], l[2]) = (a, b, c);
    }

    /// @dev `reason` of 4 bytes: only the error's selector is checked.
    function _expectExitRevert(
        address token,
        ExitLeaf memory leaf,
        uint256 index,
        SumNode[] memory siblings,
        bytes memory reason
    ) internal {
        // forge-lint: disable-next-line(unsafe-typecast)
        if (reason.length == 4) vm.expectPartialRevert(bytes4(reason));
        else vm.expectRevert(reason);
        vm.prank(leaf.member);
        exits.exit(token, leaf, index, siblings, leaf.member);
    }

    function _payouts1(address a, uint256 x) internal pure returns (Payout[] memory p) {
        p = new Payout[](1);
        p[0] = Payout(a, x);
    }
}
