// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {ExitFixture} from "./utils/ExitFixture.sol";
import {ExitTree} from "./utils/ExitTree.sol";
import {MerkleSum} from "./utils/MerkleSum.sol";
import {EIP712Reference} from "./utils/EIP712Reference.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {SettlementExit} from "../src/SettlementExit.sol";
import {
    ExitLeaf,
    SumNode,
    FoldedBatch,
    Payout,
    PayoutBatch,
    Registration,
    Retopup,
    TreasuryTransfer,
    LiabilityRoot,
    SettlementConfig,
    SettlementHashes
} from "../src/SettlementTypes.sol";
import {MockERC20} from "./mocks/MockERC20.sol";
import {RevertingRecipient} from "./mocks/HostileRecipients.sol";
import {ReenteringRecipient, ReenteringToken} from "./mocks/ExitHostiles.sol";

/// @notice The members' exit (EXIT.md): one test per row of its threat model (§3, T1-T10), then every refusal of the
///         new functions, the freeze of an exited token, the opening's clock, and the tree's exact encoding.
contract SettlementExitTest is ExitFixture {
    using ExitTree for ExitTree.Tree;

    function _opening(address token)
        internal
        view
        returns (bool open, uint256 owed, uint256 custody, bytes32 batchesToFold, uint256 paid)
    {
        uint128 o;
        uint128 c;
        uint128 p;
        (open,,,, o, c, batchesToFold, p) = exits.opening(token);
        return (open, o, c, batchesToFold, p);
    }

    // ═════════════════════════════ the threat model (EXIT.md §3) ═════════════════════════════

    /// @notice T1: a root lowered just before leaving is what the exit pays (the contract cannot know a leaf's right
    ///         value); the previous, honest epoch's proof no longer counts.
    function test_T1_aLoweredLatestRootIsWhatTheExitPays() public {
        _fundCustody(NATIVE, 100 ether);
        ExitTree.Tree memory honest = _commitTree(NATIVE, _accounts(_owing(alice, 60 ether), _owing(bob, 40 ether)));
        vm.warp(block.timestamp + 1 hours);
        ExitTree.Tree memory lowered = _commitTree(NATIVE, _accounts(_owing(alice, 10 ether), _owing(bob, 40 ether)));
        _openExit(NATIVE);

        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = honest.proof(honest.find(alice));
        _expectExitRevert(NATIVE, leaf, index, siblings, abi.encodePacked(SettlementExit.InvalidProof.selector));
        uint256[] memory paid = _exitAll(lowered, _list(alice, bob));
        assertEq(paid[0], 10 ether, "the latest root's figure");
        assertEq(paid[1], 40 ether, "bob's");
        assertEq(address(exits).balance, 50 ether, "the rest stays (for returnSurplus)");
    }

    /// @notice T2: a payout batch executed after the commitment pays a member, who then exits: the exit subtracts it
    ///         (once the batches since the commitment are folded), so the member is not paid twice.
    function test_T2_aBatchAfterTheCommitmentIsSubtractedFromTheExit() public {
        _fundCustody(NATIVE, 100 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 60 ether), _owing(bob, 40 ether)));
        vm.roll(block.number + 1);
        _executeKept(NATIVE, _payouts1(alice, 25 ether), 1);
        assertEq(alice.balance, 25 ether, "paid after the commitment");

        (bytes32 head, uint256 batchBlock) = views().batchesSinceCommitment(NATIVE);
        _openExit(NATIVE);
        (, uint256 owed, uint256 custody, bytes32 toFold,) = _opening(NATIVE);
        assertEq(toFold, head, "the running hash of the batches since");
        assertEq(batchBlock, block.number, "the batch's block is recorded");
        assertEq(owed, 75 ether, "owed: the floor (100 - 25)");
        assertEq(custody, 75 ether, "custody: the balance");

        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        _expectExitRevert(
            NATIVE,
            leaf,
            index,
            siblings,
            abi.encodeWithSelector(SettlementExit.BatchesNotFolded.selector, NATIVE, head)
        );
        _foldAll(NATIVE);
        (uint256 paidAfter, bool exited) = exits.memberExit(NATIVE, alice);
        assertEq(paidAfter, 25 ether, "folded");
        assertFalse(exited, "not yet exited");

        uint256[] memory paid = _exitAll(t, _list(alice, bob));
        assertEq(paid[0], 35 ether, "60 less the 25 paid since");
        assertEq(alice.balance, 60 ether, "exactly the leaf in all");
        assertEq(paid[1], 40 ether, "bob untouched");
    }

    /// @notice T2: a commitment is refused while a batch executed after its asOfBlock; at or after the batch's block
    ///         it goes through, and starts the running hash afresh.
    function test_T2_aCommitmentIsRefusedWhileABatchExecutedAfterItsAsOfBlock() public {
        _fundCustody(NATIVE, 10 ether);
        _commitTotal(NATIVE, 10 ether);
        vm.roll(block.number + 5);
        _execute(_batch(NATIVE, _payouts1(alice, 1 ether), 1));
        uint256 batchBlock = block.number;

        LiabilityRoot memory c = _liab(NATIVE, 2, 9 ether, 2); // asOfBlock = batchBlock - 1
        bytes memory sig = _sign(c);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BatchAfterAsOfBlock.selector, batchBlock, batchBlock - 1));
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);

        vm.roll(batchBlock + 1);
        c = _liab(NATIVE, 2, 9 ether, 2); // asOfBlock = batchBlock: the ledger at that block counts the batch
        sig = _sign(c);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
        (bytes32 head, uint256 last) = views().batchesSinceCommitment(NATIVE);
        assertEq(head, bytes32(0), "no batch since");
        assertEq(last, 0, "no batch block since");
        (uint256 floor_,, uint256 paidSince) = views().floor(NATIVE);
        assertEq(paidSince, 0, "the commitment counts the batch");
        assertEq(floor_, 9 ether, "floor");
    }

    /// @notice T3: a claim after the commitment, then an exit: the leaf's `claimable` is never paid by the exit (the
    ///         contract's own claimable balance is, by `claim`, before and after opening).
    function test_T3_aClaimAfterTheCommitmentIsNotPaidAgainByTheExit() public {
        _fundCustody(address(usdt), 1_000e6);
        usdt.pause();
        _execute(_batch(address(usdt), _payouts1(alice, 100e6), 1)); // deferred: alice's claim
        usdt.unpause();
        vm.roll(block.number + 1);
        ExitTree.Tree memory t =
            _commitTree(address(usdt), _accounts(_account(alice, 0, 0, 50e6, 0, 100e6), _owing(bob, 200e6)));
        vm.prank(alice);
        settlement.claim(address(usdt), alice);
        assertEq(usdt.balanceOf(alice), 100e6, "claimed after the commitment");

        _openExit(address(usdt));
        (, uint256 owed, uint256 custody,,) = _opening(address(usdt));
        assertEq(owed, 250e6, "owed: the total less the claim paid since");
        assertEq(custody, 900e6, "custody");
        assertEq(_exitAll(t, _list(alice))[0], 50e6, "only pending: the claimable component is not the exit's");
        assertEq(usdt.balanceOf(alice), 150e6, "the leaf's 150 in all, not 250");
    }

    /// @notice T3: a payout deferred after the commitment is subtracted like a paid one (it went to `claimable`), and
    ///         its claim still works after the opening.
    function test_T3_aPayoutDeferredAfterTheCommitmentIsSubtractedAndStillClaimable() public {
        _fundCustody(address(usdt), 1_000e6);
        ExitTree.Tree memory t = _commitTree(address(usdt), _accounts(_owing(alice, 100e6), _owing(bob, 1e6)));
        vm.roll(block.number + 1);
        usdt.pause();
        _executeKept(address(usdt), _payouts1(alice, 30e6), 1);
        usdt.unpause();
        assertEq(views().claimable(address(usdt), alice), 30e6, "deferred");

        _openExit(address(usdt));
        assertEq(usdt.balanceOf(address(settlement)), 30e6, "what is claimable stays for the claim");
        _foldAll(address(usdt));
        assertEq(_exitAll(t, _list(alice))[0], 70e6, "100 less the 30 deferred");
        vm.prank(alice);
        settlement.claim(address(usdt), alice);
        assertEq(usdt.balanceOf(alice), 100e6, "the leaf's 100 in all");
    }

    /// @notice T4: one exit per member: a second claim, by the member or a relayer, is refused; the preview then says
    ///         what the claim will pay; a second payout is refused.
    function test_T4_aMemberExitsOnlyOnce() public {
        _fundCustody(NATIVE, 10 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 3 ether), _owing(bob, 4 ether)));
        _openExit(NATIVE);
        assertEq(_claim(t, alice), 3 ether, "first claim");
        (, bool exited) = exits.memberExit(NATIVE, alice);
        assertTrue(exited, "recorded");

        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        bytes memory twice = abi.encodeWithSelector(SettlementExit.AlreadyExited.selector, NATIVE, alice);
        _expectExitRevert(NATIVE, leaf, index, siblings, twice);
        vm.expectRevert(twice);
        vm.prank(carol);
        exits.exit(NATIVE, leaf, index, siblings, alice);
        (,, uint256 amount) = exits.previewExit(NATIVE, leaf, index, siblings);
        assertEq(amount, 3 ether, "the preview of a claim: what it will pay");
        (,, uint256 proven,,) = exits.claimWindow(NATIVE);
        assertEq(proven, 3 ether, "counted once");

        _closeClaimWindow(NATIVE);
        assertEq(_payOut(NATIVE, alice), 3 ether, "paid");
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.AlreadyPaid.selector, NATIVE, alice));
        exits.payOut(NATIVE, alice);
        (,, amount) = exits.previewExit(NATIVE, leaf, index, siblings);
        assertEq(amount, 3 ether, "the preview after: what it paid");
        assertEq(alice.balance, 3 ether, "paid once");
    }

    /// @notice T5: an operator that commits on time can never be front-run: the opening is due only `exitAfter` past
    ///         the latest commitment.
    function test_T5_noOpeningWhileTheOperatorCommitsOnTime() public {
        for (uint256 round; round < 10; ++round) {
            _commitTotal(NATIVE, 0);
            uint256 due = block.timestamp + EXIT_AFTER;
            assertEq(views().exitOpensAt(NATIVE), due, "due exitAfter past the commitment");
            vm.warp(block.timestamp + EXIT_AFTER - 1);
            vm.expectRevert(abi.encodeWithSelector(Settlement.ExitNotDue.selector, NATIVE, due));
            exits.openExit(NATIVE);
        }
        vm.warp(block.timestamp + 1);
        exits.openExit(NATIVE); // the first second the operator is late
        (bool open,,,,) = _opening(NATIVE);
        assertTrue(open, "opened at exitAfter");
    }

    /// @notice T5: a commitment that lands after the deadline but before anyone opened resets the clock (the
    ///         operator is back); one that lands after the opening reverts.
    function test_T5_aLateCommitmentBeforeOpeningResetsTheClockAfterOpeningReverts() public {
        _commitTotal(NATIVE, 0);
        vm.warp(block.timestamp + EXIT_AFTER + 5 days); // late, nobody opened
        _commitTotal(NATIVE, 0);
        uint256 due = block.timestamp + EXIT_AFTER;
        vm.expectRevert(abi.encodeWithSelector(Settlement.ExitNotDue.selector, NATIVE, due));
        exits.openExit(NATIVE);

        vm.warp(due);
        exits.openExit(NATIVE);
        _rollForCommit(NATIVE);
        LiabilityRoot memory c = _liab(NATIVE, 3, 0, 7);
        bytes memory sig = _sign(c);
        vm.expectRevert(abi.encodeWithSelector(Settlement.ExitOpen.selector, NATIVE));
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    /// @notice T6: custody short of what is owed: every member gets the same fraction custody/owed of what is due to
    ///         them, rounded down, whoever exits first; the dust stays; the fraction never exceeds 1.
    function test_T6_custodyShortPaysEveryoneTheSameFractionAndLeavesTheDust() public {
        _fundCustody(address(erc20), 1_000);
        ExitTree.Tree memory t = _commitTree(
            address(erc20),
            _accounts(_account(alice, 100, 200, 400, 1, 0), _account(bob, 0, 333, 0, 0, 0), _owing(carol, 1_001))
        );
        assertEq(t.total, 2_035, "owed twice the custody and more");
        _openExit(address(erc20));
        (, uint256 owed, uint256 custody,,) = _opening(address(erc20));
        assertEq(owed, 2_035, "owed");
        assertEq(custody, 1_000, "custody");

        // the last in the tree claims first, and is paid second: the order changes nothing
        _claim(t, carol);
        _claim(t, bob);
        _claim(t, alice);
        _closeClaimWindow(address(erc20));
        assertEq(_payOut(address(erc20), alice), uint256(701) * 1_000 / 2_035, "alice: 344");
        assertEq(_payOut(address(erc20), carol), uint256(1_001) * 1_000 / 2_035, "carol: 491");
        assertEq(_payOut(address(erc20), bob), uint256(333) * 1_000 / 2_035, "bob: 163");
        assertEq(erc20.balanceOf(address(exits)), 1_000 - 491 - 163 - 344, "the dust (2) stays");
        (,,,, uint256 paid) = _opening(address(erc20));
        assertEq(paid, 998, "paid in all");
        assertEq(exits.returnSurplus(address(erc20)), 0, "no surplus: custody is short");
        assertEq(erc20.balanceOf(address(exits)), 2, "the dust stays for good");
    }

    /// @notice T6: custody above what is owed pays every member in full, never more (the fraction is capped at 1).
    function test_T6_custodyAboveWhatIsOwedPaysInFullNeverMore() public {
        _fundCustody(NATIVE, 50 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 3 ether), _owing(bob, 4 ether)));
        _openExit(NATIVE);
        uint256[] memory paid = _exitAll(t, _list(alice, bob));
        assertEq(paid[0], 3 ether, "in full");
        assertEq(paid[1], 4 ether, "in full");
        assertEq(address(exits).balance, 43 ether, "the company's share stays until it is returned");
        assertEq(exits.returnSurplus(NATIVE), 43 ether, "then goes back to the admin");
        assertEq(admin.balance, 43 ether, "received");
    }

    /// @notice T6, where `owed` understates: a member paid since the commitment beyond their leaf (here a member with no
    ///         leaf, paid from members' money) is floored at 0, not counted negative, so `owed` understates what the
    ///         claims add up to. The fraction is custody/proven, the claims' own sum: every member gets the same share
    ///         of the custody (before the claim window, the first exit took its whole due and the last what was left),
    ///         and nothing claimable is touched.
    function test_T6_owedUnderstatedByAPaymentBeyondALeafStillPaysEveryoneTheSameFraction() public {
        _fundCustody(NATIVE, 100 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 60 ether), _owing(bob, 40 ether)));
        vm.roll(block.number + 1);
        RevertingRecipient rejecting = new RevertingRecipient();
        Payout[] memory p = _payouts2(carol, 10 ether, address(rejecting), 1 ether);
        _executeKept(NATIVE, p, 1); // carol has no leaf; `rejecting` gets a claim
        _openExit(NATIVE);
        _foldAll(NATIVE);
        (, uint256 owed, uint256 custody,,) = _opening(NATIVE);
        assertEq(owed, 89 ether, "owed: the floor (100 - 10 paid since) less the 1 claimable");
        assertEq(custody, 89 ether, "custody: 100 - 10 - 1 claimable");

        uint256[] memory paid = _exitAll(t, _list(alice, bob));
        (,, uint256 proven,,) = exits.claimWindow(NATIVE);
        assertEq(proven, 100 ether, "the claims add up to more than owed");
        assertEq(paid[0], 53.4 ether, "alice: 60 x 89/100, not 60");
        assertEq(paid[1], 35.6 ether, "bob: 40 x 89/100, not what was left (29)");
        assertEq(address(exits).balance, 0, "custody spent");
        vm.prank(address(rejecting));
        settlement.claim(NATIVE, dave());
        assertEq(dave().balance, 1 ether, "the claim is intact");
    }

    function dave() internal pure returns (address) {
        return address(0xDA7E);
    }

    /// @notice T7: a component raised by one unit does not fold to the committed root.
    function test_T7_aTamperedComponentIsRefused() public {
        ExitTree.Tree memory t = _openedTree();
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        leaf.pending += 1;
        _expectInvalid(leaf, index, siblings);
        leaf.pending -= 1;
        leaf.claimable -= 1; // moving a unit from claimable to reserved keeps the value, not the hash
        leaf.reserved += 1;
        _expectInvalid(leaf, index, siblings);
    }

    /// @notice T7: another salt is another leaf.
    function test_T7_aTamperedSaltIsRefused() public {
        ExitTree.Tree memory t = _openedTree();
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        leaf.salt = keccak256("another salt");
        _expectInvalid(leaf, index, siblings);
    }

    /// @notice T7: a sibling's sum lowered (or raised) changes its parent's hash.
    function test_T7_aTamperedSiblingSumIsRefused() public {
        ExitTree.Tree memory t = _openedTree();
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        siblings[1].sum -= 1;
        _expectInvalid(leaf, index, siblings);
        siblings[1].sum += 2;
        _expectInvalid(leaf, index, siblings);
    }

    /// @notice T7: Maxwell's flaw: a subtree reported with max(vL, vR) instead of vL + vR under the same hash.
    function test_T7_theMaxOfTheChildrenSiblingIsRefused() public {
        _fundCustody(NATIVE, 10 ether);
        MerkleSum.Account[] memory four = new MerkleSum.Account[](4); // no padding: every subtree has two sums
        (four[0], four[1], four[2], four[3]) =
        (_owing(alice, 1 ether), _owing(bob, 2 ether), _owing(carol, 3 ether), _owing(dave(), 4 ether));
        ExitTree.Tree memory t = _commitTree(NATIVE, four);
        _openExit(NATIVE);
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        uint256 k = 1;
        uint256 j = (index >> k) ^ 1; // the level-1 sibling's position; its children are at level 0
        MerkleSum.Node memory l = t.levels[0][2 * j];
        MerkleSum.Node memory r = t.levels[0][2 * j + 1];
        assertEq(siblings[k].sum, l.sum + r.sum, "an honest sibling carries the sum");
        siblings[k].sum = l.sum > r.sum ? l.sum : r.sum;
        _expectInvalid(leaf, index, siblings);
    }

    /// @notice T7: sums at or above 2^128 (which would wrap in the tree's u128 encoding) are refused outright: a
    ///         sibling's, a leaf's, and a "negative" sibling wrapped around 2^256.
    function test_T7_aSumOf2To128IsRefused() public {
        ExitTree.Tree memory t = _openedTree();
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        uint256 original = siblings[0].sum;
        siblings[0].sum = uint256(1) << 128;
        _expectExitRevert(
            NATIVE,
            leaf,
            index,
            siblings,
            abi.encodeWithSelector(SettlementExit.SumOutOfRange.selector, uint256(1) << 128)
        );
        siblings[0].sum = type(uint256).max;
        _expectExitRevert(
            NATIVE,
            leaf,
            index,
            siblings,
            abi.encodeWithSelector(SettlementExit.SumOutOfRange.selector, type(uint256).max)
        );
        siblings[0].sum = original;
        // a sum along the path: a sibling just below 2^128 above a non-zero node
        siblings[1].sum = type(uint128).max;
        _expectExitRevert(NATIVE, leaf, index, siblings, abi.encodePacked(SettlementExit.SumOutOfRange.selector));
        (leaf, index, siblings) = t.proof(t.find(alice));
        (leaf.reserved, leaf.held) = (type(uint128).max, 1); // the five components sum to 2^128 or more
        _expectExitRevert(NATIVE, leaf, index, siblings, abi.encodePacked(SettlementExit.SumOutOfRange.selector));
    }

    /// @notice T7: the contract puts its own chain, address, token and the committed epoch in the leaf: a tree built
    ///         for another epoch, contract, token or chain does not verify, even when its root is the one committed.
    function test_T7_aTreeOfAnotherEpochContractTokenOrChainIsRefused() public {
        _fundCustody(NATIVE, 10 ether);
        MerkleSum.Account[] memory accounts = _accounts(_owing(alice, 1 ether), _owing(bob, 2 ether));
        MerkleSum.Context memory right = _nextContext(NATIVE);
        MerkleSum.Context[4] memory wrong = [_copy(right), _copy(right), _copy(right), _copy(right)];
        wrong[0].epoch += 1;
        wrong[1].settlement = address(0xC0FFEE);
        wrong[2].token = address(erc20);
        wrong[3].chainId = 97;
        for (uint256 w; w < wrong.length; ++w) {
            uint256 snapshot = vm.snapshotState();
            ExitTree.Tree memory t = ExitTree.build(wrong[w], accounts);
            _rollForCommit(NATIVE);
            _commitRoot(NATIVE, right.epoch, t.root, t.total); // the operator committed the wrong tree's root
            _openExit(NATIVE);
            (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
            _expectExitRevert(NATIVE, leaf, index, siblings, abi.encodePacked(SettlementExit.InvalidProof.selector));
            vm.revertToState(snapshot);
        }
        // and the right tree verifies
        ExitTree.Tree memory good = _commitTree(NATIVE, accounts);
        _openExit(NATIVE);
        assertEq(_claim(good, alice), 1 ether, "the right tree");
    }

    function _copy(MerkleSum.Context memory c) internal pure returns (MerkleSum.Context memory) {
        return MerkleSum.Context(c.chainId, c.settlement, c.token, c.epoch);
    }

    /// @notice T7: the leaf's position is part of the proof: another index, one beyond the depth, or a deeper proof
    ///         is refused.
    function test_T7_aWrongIndexOrDepthIsRefused() public {
        ExitTree.Tree memory t = _openedTree();
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        _expectInvalid(leaf, index ^ 1, siblings);
        _expectExitRevert(
            NATIVE,
            leaf,
            index | (1 << siblings.length),
            siblings,
            abi.encodeWithSelector(
                SettlementExit.IndexOutOfRange.selector, index | (1 << siblings.length), siblings.length
            )
        );
        SumNode[] memory deep = new SumNode[](33);
        _expectExitRevert(NATIVE, leaf, 0, deep, abi.encodeWithSelector(SettlementExit.ProofTooDeep.selector, 33));
    }

    /// @notice T8: batches stuffed after the commitment are folded once, by anyone, in chunks checked against the
    ///         running hash; each exit then reads one slot.
    function test_T8_stuffedBatchesAreFoldedInChunksByAnyone() public {
        _fundCustody(NATIVE, 100 ether);
        ExitTree.Tree memory t =
            _commitTree(NATIVE, _accounts(_owing(alice, 30 ether), _owing(bob, 30 ether), _owing(carol, 30 ether)));
        vm.roll(block.number + 1);
        for (uint256 i; i < 20; ++i) {
            _executeKept(NATIVE, _payouts2(alice, 0.1 ether, bob, 0.2 ether), 100 + i);
        }
        _openExit(NATIVE);
        address stranger = makeAddr("stranger");
        for (uint256 end = 20; end > 0; end = end > 7 ? end - 7 : 0) {
            uint256 from = end > 7 ? end - 7 : 0;
            vm.prank(stranger);
            exits.foldBatches(NATIVE, _keptNewestFirst(NATIVE, from, end));
            (,,, bytes32 left,) = _opening(NATIVE);
            assertEq(left, from == 0 ? bytes32(0) : _sinceCommit[NATIVE][from].previous, "folded down to the chunk");
        }
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.NothingToFold.selector, NATIVE));
        exits.foldBatches(NATIVE, new FoldedBatch[](0));
        uint256[] memory paid = _exitAll(t, _list(alice, bob, carol));
        assertEq(paid[0], 28 ether, "30 - 20 x 0.1");
        assertEq(paid[1], 26 ether, "30 - 20 x 0.2");
        assertEq(paid[2], 30 ether, "carol untouched");
    }

    /// @notice T8: only the batches of the running hash fold, newest first: another order, an altered entry, a batch
    ///         from before the commitment or a forged one is refused.
    function test_T8_aBatchOutOfTheChainIsRefused() public {
        _fundCustody(NATIVE, 100 ether);
        _executeKept(NATIVE, _payouts1(alice, 1 ether), 1); // before the commitment
        FoldedBatch memory before = _keptNewestFirst(NATIVE, 0, 1)[0];
        _commitTree(NATIVE, _accounts(_owing(alice, 30 ether), _owing(bob, 30 ether)));
        vm.roll(block.number + 1);
        _executeKept(NATIVE, _payouts1(alice, 2 ether), 2);
        _executeKept(NATIVE, _payouts1(bob, 3 ether), 3);
        _openExit(NATIVE);
        (,,, bytes32 head,) = _opening(NATIVE);
        FoldedBatch[] memory good = _keptNewestFirst(NATIVE, 0, 2);

        FoldedBatch[] memory one = new FoldedBatch[](1);
        one[0] = good[1]; // the older first
        _expectFoldRevert(one, abi.encodePacked(SettlementExit.BatchNotInChain.selector));
        one[0] = before;
        _expectFoldRevert(one, abi.encodePacked(SettlementExit.BatchNotInChain.selector));
        one[0] = good[0];
        one[0].payouts[0].amount -= 1; // bob paid less than he was
        _expectFoldRevert(one, abi.encodePacked(SettlementExit.BatchNotInChain.selector));
        one[0].payouts[0].amount += 1;
        one[0].nonce += 1;
        _expectFoldRevert(one, abi.encodePacked(SettlementExit.BatchNotInChain.selector));
        one[0].nonce -= 1;
        bytes32 previous = one[0].previous;
        one[0].previous = bytes32(0); // claiming it was the first
        _expectFoldRevert(one, abi.encodePacked(SettlementExit.BatchNotInChain.selector));
        one[0].previous = previous;
        // entries whose amounts overflow (no executed batch has them) are refused before any hashing matters
        FoldedBatch[] memory overflowing = new FoldedBatch[](1);
        overflowing[0].payouts = _payouts2(alice, type(uint256).max, bob, 1);
        _expectFoldRevert(overflowing, abi.encodeWithSelector(SettlementHashes.PayoutSumOverflow.selector));
        // a valid newest batch followed by a wrong one fails whole
        FoldedBatch[] memory two = new FoldedBatch[](2);
        (two[0], two[1]) = (good[0], before);
        _expectFoldRevert(two, abi.encodePacked(SettlementExit.BatchNotInChain.selector));
        (,,, bytes32 still,) = _opening(NATIVE);
        assertEq(still, head, "nothing folded");
        exits.foldBatches(NATIVE, good);
        (uint256 a,) = exits.memberExit(NATIVE, alice);
        (uint256 b,) = exits.memberExit(NATIVE, bob);
        assertEq(a, 2 ether, "alice: only the batch since the commitment");
        assertEq(b, 3 ether, "bob");
    }

    function _expectFoldRevert(FoldedBatch[] memory batches, bytes memory reason) internal {
        // forge-lint: disable-next-line(unsafe-typecast)
        if (reason.length == 4) vm.expectPartialRevert(bytes4(reason));
        else vm.expectRevert(reason);
        exits.foldBatches(NATIVE, batches);
    }

    /// @notice T9: a member's wallet that re-enters from inside its payout (another payout, a sweep, a redirection,
    ///         the surplus, a claim, a fold, an opening) is refused; the state was written before the payment.
    function test_T9_aRecipientReenteringTheExitIsRefused() public {
        ReenteringRecipient wallet = new ReenteringRecipient();
        _fundCustody(NATIVE, 10 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(address(wallet), 3 ether), _owing(bob, 4 ether)));
        _openExit(NATIVE);
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(address(wallet)));
        vm.prank(bob); // a relayer sends the wallet's claim
        exits.exit(NATIVE, leaf, index, siblings, address(wallet));
        _claim(t, bob);
        _closeClaimWindow(NATIVE);
        bytes[7] memory reentries = [
            abi.encodeCall(SettlementExit.payOut, (NATIVE, address(wallet))),
            abi.encodeCall(SettlementExit.payOutMany, (NATIVE, _list(bob))),
            abi.encodeCall(SettlementExit.redirect, (NATIVE, bob)),
            abi.encodeCall(SettlementExit.returnSurplus, (NATIVE)),
            abi.encodeCall(SettlementExit.exit, (NATIVE, leaf, index, siblings, address(wallet))),
            abi.encodeCall(SettlementExit.foldBatches, (NATIVE, new FoldedBatch[](0))),
            abi.encodeCall(SettlementExit.openExit, (address(erc20)))
        ];
        for (uint256 i; i < reentries.length; ++i) {
            uint256 snapshot = vm.snapshotState();
            wallet.arm(address(exits), reentries[i]);
            vm.prank(bob); // anyone pays the wallet's claim
            exits.payOut(NATIVE, address(wallet));
            assertTrue(wallet.attempted() && !wallet.reentered(), "re-entry refused");
            assertEq(
                wallet.lastRevert(),
                abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector),
                "by the guard"
            );
            assertEq(address(wallet).balance, 3 ether, "paid once");
            assertEq(bob.balance, 0, "bob not paid from inside");
            vm.revertToState(snapshot);
        }
    }

    /// @notice T9: a hostile token re-entering from inside a payout's transfer (another member's payout) is refused;
    ///         and from inside the opening's transfer, the Settlement's own guard holds too.
    function test_T9_aHostileTokenReenteringTheExitIsRefused() public {
        ReenteringToken hostile = new ReenteringToken();
        _allowTokenNow(settlement, address(hostile));
        hostile.mint(address(settlement), 100e18);
        ExitTree.Tree memory t = _commitTree(address(hostile), _accounts(_owing(alice, 1e18), _owing(bob, 2e18)));
        vm.warp(views().exitOpensAt(address(hostile)));

        hostile.arm(address(settlement), abi.encodeCall(Settlement.claim, (address(hostile), alice)));
        exits.openExit(address(hostile)); // the Settlement's transfer to the exits re-enters claim
        assertTrue(hostile.attempted() && !hostile.reentered(), "refused inside the opening");
        assertEq(
            hostile.lastRevert(), abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector), "guard"
        );

        _claim(t, alice);
        _claim(t, bob);
        _closeClaimWindow(address(hostile));
        hostile.arm(address(exits), abi.encodeCall(SettlementExit.payOut, (address(hostile), bob)));
        _payOut(address(hostile), alice);
        assertTrue(hostile.attempted() && !hostile.reentered(), "refused inside the payout");
        assertEq(hostile.balanceOf(bob), 0, "bob not paid from inside alice's payout");
        assertEq(_payOut(address(hostile), bob), 2e18, "bob is paid on his own");
    }

    /// @notice T9: an exit cannot be opened from inside a payout batch's push (the batch would escape the running
    ///         hash taken at opening): the Settlement's guard refuses it.
    function test_T9_anExitCannotBeOpenedFromInsideAPayoutBatch() public {
        _setPushGasNow(settlement, 500_000, TOKEN_PUSH_GAS);
        ReenteringRecipient opener = new ReenteringRecipient();
        _fundCustody(NATIVE, 10 ether);
        _commitTotal(NATIVE, 1 ether);
        vm.warp(views().exitOpensAt(NATIVE)); // due, and the operator still pays
        opener.arm(address(exits), abi.encodeCall(SettlementExit.openExit, (NATIVE)));
        _execute(_batch(NATIVE, _payouts1(address(opener), 1 ether), 1));
        assertTrue(opener.attempted() && !opener.reentered(), "refused");
        assertEq(
            opener.lastRevert(), abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector), "guard"
        );
        (bool open,,,,) = _opening(NATIVE);
        assertFalse(open, "not opened");
    }

    /// @notice T10: TRON's USDT returns false on success: the opening's transfer, each payout and the surplus's are
    ///         judged by balance delta; the leaf carries TRON's masked chain id.
    function test_T10_tronUsdtAndTheMaskedChainId() public {
        vm.chainId(0xcd8690dc_2b6653dc); // a TVM block.chainid: TIP-712 and the leaf use its low 32 bits
        address[] memory allowed = new address[](1);
        allowed[0] = address(usdt);
        settlement = _deploy(allowed);
        exits = SettlementExit(payable(settlement.exits()));
        usdt.mint(address(settlement), 500e6);
        ExitTree.Tree memory t = _commitTreeTron(_accounts(_owing(alice, 120e6), _owing(bob, 80e6)));
        assertEq(t.ctx.chainId, 0x2b6653dc, "TRON mainnet's chain id in the leaf");
        vm.warp(views().exitOpensAt(address(usdt)));
        exits.openExit(address(usdt));
        assertEq(usdt.balanceOf(address(exits)), 500e6, "moved despite transfer returning false");
        uint256[] memory paid = _exitAll(t, _list(alice, bob));
        assertEq(paid[0], 120e6, "alice");
        assertEq(paid[1], 80e6, "bob");
        assertEq(exits.returnSurplus(address(usdt)), 300e6, "the surplus, despite transfer returning false");
        assertEq(usdt.balanceOf(admin), 300e6, "to the admin");
        assertEq(usdt.balanceOf(address(exits)), 0, "nothing left");
    }

    /// @dev _commitTree under TIP-712: the signature's domain uses the masked chain id.
    function _commitTreeTron(MerkleSum.Account[] memory accounts) internal returns (ExitTree.Tree memory t) {
        _rollForCommit(address(usdt));
        t = ExitTree.build(_nextContext(address(usdt)), accounts);
        LiabilityRoot memory c = _liab(address(usdt), t.ctx.epoch, uint128(t.total), 1);
        c.root = t.root;
        bytes32 d = EIP712Reference.digest(
            EIP712Reference.domainSeparator(block.chainid & 0xffffffff, address(settlement)), EIP712Reference.hash(c)
        );
        bytes memory sig = _signDigest(SIGNER_KEY, d);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    /// @notice T10: a token that reports a transfer it did not make cannot fake a payout, nor the surplus's return.
    function test_T10_aTokenLyingAboutAnExitTransferIsRefused() public {
        _allowTokenNow(settlement, address(lyingToken));
        lyingToken.mint(address(settlement), 10e18);
        ExitTree.Tree memory t = _commitTree(address(lyingToken), _accounts(_owing(alice, 1e18), _owing(bob, 1e18)));
        vm.warp(views().exitOpensAt(address(lyingToken)));
        exits.openExit(address(lyingToken));
        _claim(t, alice);
        _closeClaimWindow(address(lyingToken));
        lyingToken.setLying(true);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.OutboundTransferFailed.selector));
        exits.payOut(address(lyingToken), alice);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.OutboundTransferFailed.selector));
        exits.returnSurplus(address(lyingToken));
        lyingToken.setLying(false);
        assertEq(_payOut(address(lyingToken), alice), 1e18, "paid once the token tells the truth");
        assertEq(exits.returnSurplus(address(lyingToken)), 9e18, "and the surplus");
    }

    // ═════════════════════════════ opening ═════════════════════════════

    /// @notice Opening records the commitment and figures, moves the balance less what is claimable to the exits,
    ///         and says so in both contracts' events.
    function test_open_recordsTheFiguresAndHandsTheExitsTheirCustody() public {
        _fundCustody(NATIVE, 100 ether);
        RevertingRecipient rejecting = new RevertingRecipient();
        _execute(_batch(NATIVE, _payouts2(alice, 5 ether, address(rejecting), 7 ether), 1)); // 7 claimable
        ExitTree.Tree memory t =
            _commitTree(NATIVE, _accounts(_owing(alice, 50 ether), _account(address(rejecting), 0, 0, 0, 0, 7 ether)));
        vm.warp(views().exitOpensAt(NATIVE));

        vm.expectEmit(address(settlement));
        emit Settlement.ExitOpened(NATIVE, 88 ether);
        vm.expectEmit(address(exits));
        emit SettlementExit.Opened(NATIVE, t.ctx.epoch, t.root, 57 ether, 50 ether, 88 ether, bytes32(0));
        vm.expectEmit(address(exits));
        emit SettlementExit.ClaimWindowOpened(NATIVE, block.timestamp + 30 days);
        exits.openExit(NATIVE);
        (uint64 end, bool closed, uint256 proven, uint256 surplus, bool returned) = exits.claimWindow(NATIVE);
        assertEq(end, block.timestamp + 30 days, "the window: MIN_CLAIM_WINDOW, longer than exitAfter (14 days)");
        assertFalse(closed, "open");
        assertEq(proven, 0, "nothing claimed yet");
        assertEq(surplus, 88 ether, "all of custody, as long as nobody claims");
        assertFalse(returned, "not returned");

        (
            bool open,
            uint64 epoch,
            bytes32 root,
            uint128 total,
            uint128 owed,
            uint128 custody,
            bytes32 toFold,
            uint128 paid
        ) = exits.opening(NATIVE);
        assertTrue(open, "open");
        assertEq(epoch, t.ctx.epoch, "epoch");
        assertEq(root, t.root, "root");
        assertEq(total, 57 ether, "total");
        assertEq(owed, 50 ether, "owed: the floor less what is claimable");
        assertEq(custody, 88 ether, "custody: the balance less what is claimable");
        assertEq(toFold, bytes32(0), "no batch since");
        assertEq(paid, 0, "nothing paid yet");
        assertEq(address(settlement).balance, 7 ether, "the claim stays in the Settlement");
        assertEq(address(exits).balance, 88 ether, "the rest is the exits'");
    }

    /// @notice An opening whose transfer of the custody fails (here a token reporting a transfer it did not make)
    ///         reverts whole: nothing is opened, and it can be tried again.
    function test_open_aFailedCustodyTransferOpensNothing() public {
        _allowTokenNow(settlement, address(lyingToken));
        lyingToken.mint(address(settlement), 10e18);
        _commitTotal(address(lyingToken), 1e18);
        vm.warp(views().exitOpensAt(address(lyingToken)));
        lyingToken.setLying(true);
        vm.expectRevert(abi.encodeWithSelector(Settlement.OutboundTransferFailed.selector));
        exits.openExit(address(lyingToken));
        (bool open,,,,) = _opening(address(lyingToken));
        assertFalse(open, "not opened");
        _fundCustody(address(erc20), 1); // the Settlement still takes payments in other tokens
        lyingToken.setLying(false);
        exits.openExit(address(lyingToken));
        assertEq(lyingToken.balanceOf(address(exits)), 10e18, "opened once the transfer works");
    }

    /// @notice A token allowed at deployment and never committed counts from the deployment; one allowed later from
    ///         its allowance (else its exit could be opened before its first commitment).
    function test_open_aTokenNeverCommittedCountsFromItsFirstAllowance() public {
        uint256 deployedAt = block.timestamp;
        assertEq(views().exitOpensAt(NATIVE), deployedAt + EXIT_AFTER, "from the deployment");
        _allowTokenNow(settlement, address(blToken));
        uint256 allowedAt = block.timestamp;
        assertEq(views().exitOpensAt(address(blToken)), allowedAt + EXIT_AFTER, "from its allowance");
        vm.prank(admin);
        settlement.disallowToken(address(blToken));
        _allowTokenNow(settlement, address(blToken));
        assertEq(views().exitOpensAt(address(blToken)), allowedAt + EXIT_AFTER, "from its first allowance");

        vm.warp(deployedAt + EXIT_AFTER);
        exits.openExit(NATIVE);
        vm.expectRevert(
            abi.encodeWithSelector(Settlement.ExitNotDue.selector, address(blToken), allowedAt + EXIT_AFTER)
        );
        exits.openExit(address(blToken));
    }

    /// @notice A pause that lasts `exitAfter` opens the exit whatever the commitments; an unpause of `exitAfter` or
    ///         more restarts that clock (a shorter one does not: SettlementLeave.t.sol, pause cycling).
    function test_open_aPauseOfExitAfterOpensItEvenWithFreshCommitments() public {
        vm.prank(pauser);
        settlement.pause();
        uint256 pausedAt = block.timestamp;
        assertEq(views().pausedSince(), pausedAt, "pausedSince");
        vm.warp(pausedAt + EXIT_AFTER - 2 days);
        vm.prank(pauser);
        settlement.unpause();
        assertEq(views().pausedSince(), 0, "cleared");
        vm.warp(block.timestamp + EXIT_AFTER);
        _commitTotal(NATIVE, 0);
        vm.prank(pauser);
        settlement.pause();
        uint256 again = block.timestamp;
        _commitTotal(NATIVE, 0); // commitments go on while paused
        vm.warp(again + EXIT_AFTER - 1);
        _commitTotal(NATIVE, 0);
        vm.expectRevert(abi.encodeWithSelector(Settlement.ExitNotDue.selector, NATIVE, again + EXIT_AFTER));
        exits.openExit(NATIVE);
        vm.warp(again + EXIT_AFTER);
        exits.openExit(NATIVE); // a day-old commitment does not postpone it
        (bool open,,,,) = _opening(NATIVE);
        assertTrue(open, "opened by the pause");
    }

    /// @notice Nothing else postpones it: a pending signer rotation or role change does not.
    function test_open_pendingChangesDoNotPostponeIt() public {
        _commitTotal(NATIVE, 0);
        uint256 due = block.timestamp + EXIT_AFTER;
        vm.startPrank(admin);
        settlement.scheduleSignerRotation(makeAddr("newSigner"));
        settlement.scheduleRoleChange(settlement.OPERATOR_ROLE(), makeAddr("newOperator"), true);
        vm.stopPrank();
        assertEq(views().exitOpensAt(NATIVE), due, "unchanged");
        vm.warp(due);
        exits.openExit(NATIVE);
        (bool open,,,,) = _opening(NATIVE);
        assertTrue(open, "opened");
    }

    function test_open_refusesATokenNeverAllowedAndASecondOpening() public {
        vm.warp(block.timestamp + EXIT_AFTER);
        vm.expectRevert(abi.encodeWithSelector(Settlement.TokenNeverAllowed.selector, address(blToken)));
        exits.openExit(address(blToken));
        exits.openExit(NATIVE);
        vm.expectRevert(abi.encodeWithSelector(Settlement.ExitOpen.selector, NATIVE));
        exits.openExit(NATIVE);
    }

    /// @notice Only the Settlement's own exit contract begins an exit; only the Settlement sends it the native coin.
    function test_open_onlyTheExitContractBeginsOnlyTheSettlementFundsIt() public {
        vm.warp(block.timestamp + EXIT_AFTER);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongSender.selector, address(exits), address(this)));
        settlement.beginExit(NATIVE);
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        (bool ok, bytes memory err) = address(exits).call{value: 1 ether}("");
        assertFalse(ok, "refused");
        assertEq(err, abi.encodeWithSelector(SettlementExit.WrongSender.selector, address(settlement), alice), "why");
    }

    /// @notice `exitAfter` is fixed at deployment: not 0, not above a year.
    function test_constructor_refusesAnExitAfterOfZeroOrAboveAYear() public {
        SettlementConfig memory c = _config(new address[](0));
        c.exitAfter = 0;
        vm.expectRevert(abi.encodeWithSelector(Settlement.InvalidBound.selector, "exitAfter"));
        new Settlement(c);
        c.exitAfter = 365 days + 1;
        vm.expectRevert(abi.encodeWithSelector(Settlement.InvalidBound.selector, "exitAfter"));
        new Settlement(c);
        c.exitAfter = 365 days;
        Settlement s = new Settlement(c);
        assertEq(s.exitAfter(), 365 days, "a year is accepted");
        assertEq(address(SettlementExit(payable(s.exits())).settlement()), address(s), "its own exit contract");
    }

    // ═════════════════════════════ after opening: the token is frozen but for claims ═════════════════════════════

    function test_exitOpen_refusesRegistration() public {
        _openNative();
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.ExitOpen.selector, NATIVE));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
    }

    function test_exitOpen_refusesRetopup() public {
        _openNative();
        Retopup memory r = _top(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.ExitOpen.selector, NATIVE));
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(r, sig);
    }

    function test_exitOpen_refusesPayoutBatch() public {
        _openNative();
        vm.deal(address(settlement), 5 ether); // even with money to pay it
        PayoutBatch memory b = _batch(NATIVE, _payouts1(alice, 1 ether), 1);
        bytes memory sig = _sign(b);
        vm.expectRevert(abi.encodeWithSelector(Settlement.ExitOpen.selector, NATIVE));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
    }

    /// @notice Treasury transfers, refunds included (the same call), and even a transfer of nothing.
    function test_exitOpen_refusesTreasuryTransferAndRefund() public {
        _openNative();
        vm.deal(address(settlement), 5 ether);
        address[2] memory to = [treasurer, alice]; // the company's share, a refund to a member
        for (uint256 i; i < 2; ++i) {
            TreasuryTransfer memory t = _tt(NATIVE, to[i], i, 10 + i);
            bytes memory sig = _sign(t);
            vm.expectRevert(abi.encodeWithSelector(Settlement.ExitOpen.selector, NATIVE));
            vm.prank(treasurer);
            settlement.transferTreasury(t, sig);
        }
    }

    function test_exitOpen_refusesCommitment() public {
        _openNative();
        _rollForCommit(NATIVE);
        LiabilityRoot memory c = _liab(NATIVE, 2, 0, 1);
        bytes memory sig = _sign(c);
        vm.expectRevert(abi.encodeWithSelector(Settlement.ExitOpen.selector, NATIVE));
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    /// @notice Claims keep working after the opening (also while paused), and other tokens are untouched.
    function test_exitOpen_claimStillWorksAndOtherTokensAreUntouched() public {
        _fundCustody(NATIVE, 10 ether);
        RevertingRecipient rejecting = new RevertingRecipient();
        _execute(_batch(NATIVE, _payouts1(address(rejecting), 2 ether), 1));
        _commitTotal(NATIVE, 2 ether);
        _commitTotal(address(erc20), 0);
        vm.warp(views().exitOpensAt(NATIVE));
        exits.openExit(NATIVE);
        vm.prank(pauser);
        settlement.pause();
        rejecting.claim(settlement, NATIVE, dave());
        assertEq(dave().balance, 2 ether, "claimed after the opening, while paused");
        vm.prank(pauser);
        settlement.unpause();

        _commitTotal(address(erc20), 0); // erc20's exit is not open
        _doRegister(alice, address(erc20), 5e18, 77);
        _execute(_batch(address(erc20), _payouts1(bob, 1e18), 78));
        assertEq(erc20.balanceOf(bob), 1e18, "erc20 still pays");
    }

    function _openNative() internal {
        _commitTotal(NATIVE, 0);
        vm.warp(views().exitOpensAt(NATIVE));
        exits.openExit(NATIVE);
    }

    // ═════════════════════════════ exit: who, where, and every refusal ═════════════════════════════

    /// @notice Anyone may send a member's claim paying the member; only the member may send it elsewhere. Anyone pays
    ///         a claim out, to where it says.
    function test_exit_aRelayerPaysTheMemberOnlyTheMemberRedirects() public {
        ExitTree.Tree memory t = _openedTree();
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.WrongSender.selector, alice, carol));
        vm.prank(carol);
        exits.exit(NATIVE, leaf, index, siblings, carol);
        vm.prank(carol);
        uint256 due = exits.exit(NATIVE, leaf, index, siblings, alice);
        assertEq(due, 3 ether, "alice's due");

        (leaf, index, siblings) = t.proof(t.find(bob));
        vm.expectEmit(address(exits));
        emit SettlementExit.Claimed(bob, NATIVE, dave(), 4 ether, 4 ether, 0);
        vm.prank(bob);
        exits.exit(NATIVE, leaf, index, siblings, dave());
        (uint256 recorded, address to, bool paid) = exits.claimOf(NATIVE, bob);
        assertEq(recorded, 4 ether, "due");
        assertEq(to, dave(), "to where bob said");
        assertFalse(paid, "not yet");
        assertEq(dave().balance, 0, "nothing paid in the window");

        _closeClaimWindow(NATIVE);
        vm.expectEmit(address(exits));
        emit SettlementExit.Exited(bob, NATIVE, dave(), 4 ether, 4 ether, 0);
        vm.prank(carol);
        assertEq(exits.payOut(NATIVE, bob), 4 ether, "paid by anyone");
        assertEq(dave().balance, 4 ether, "redirected by the member");
        assertEq(_payOut(NATIVE, alice), 3 ether, "alice to herself");
    }

    function test_exit_refusesTheZeroAddressTheSettlementAndItself() public {
        ExitTree.Tree memory t = _openedTree();
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.ZeroAddress.selector));
        exits.exit(NATIVE, leaf, index, siblings, address(0));
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.SelfPayment.selector));
        exits.exit(NATIVE, leaf, index, siblings, address(settlement));
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.SelfPayment.selector));
        exits.exit(NATIVE, leaf, index, siblings, address(exits));
        vm.stopPrank();
    }

    function test_exit_refusedBeforeTheOpening() public {
        _fundCustody(NATIVE, 10 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 3 ether), _owing(bob, 4 ether)));
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        bytes memory notOpen = abi.encodeWithSelector(SettlementExit.ExitNotOpen.selector, NATIVE);
        _expectExitRevert(NATIVE, leaf, index, siblings, notOpen);
        vm.expectRevert(notOpen);
        exits.previewExit(NATIVE, leaf, index, siblings);
        vm.expectRevert(notOpen);
        exits.foldBatches(NATIVE, new FoldedBatch[](0));
        vm.expectRevert(notOpen);
        exits.payOut(NATIVE, alice);
        vm.expectRevert(notOpen);
        exits.payOutMany(NATIVE, _list(alice));
        vm.expectRevert(notOpen);
        exits.returnSurplus(NATIVE);
        (uint64 end,,,,) = exits.claimWindow(NATIVE);
        assertEq(end, 0, "no window");
    }

    function test_foldBatches_refusesWhenNothingIsLeftToFold() public {
        _openedTree();
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.NothingToFold.selector, NATIVE));
        exits.foldBatches(NATIVE, new FoldedBatch[](0));
    }

    /// @notice A claim of nothing is refused: a zero leaf, a leaf fully paid since, a leaf of only what is claimable.
    function test_exit_refusesAnExitOfNothing() public {
        _fundCustody(NATIVE, 10 ether);
        ExitTree.Tree memory t = _commitTree(
            NATIVE, _accounts(_account(alice, 0, 0, 0, 0, 0), _owing(bob, 4 ether), _account(carol, 0, 0, 0, 0, 9))
        );
        vm.roll(block.number + 1);
        _executeKept(NATIVE, _payouts1(bob, 5 ether), 1); // more than his leaf
        _openExit(NATIVE);
        _foldAll(NATIVE);
        address[3] memory who = [alice, bob, carol]; // nothing; all paid since; only claimable
        for (uint256 i; i < who.length; ++i) {
            (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(who[i]));
            _expectExitRevert(
                NATIVE,
                leaf,
                index,
                siblings,
                abi.encodeWithSelector(SettlementExit.NothingToExit.selector, NATIVE, who[i])
            );
            (uint256 entitlement, uint256 subtracted, uint256 amount) = exits.previewExit(NATIVE, leaf, index, siblings);
            assertEq(amount, 0, "preview: nothing");
            assertEq(subtracted, entitlement, "all subtracted");
        }
    }

    /// @notice Custody spent before the opening (paid out of members' money to a non-member): claims are recorded all
    ///         the same, and each payout is 0 — the claim settled, nothing sent.
    function test_exit_aCustodySpentPaysEveryClaimNothing() public {
        _fundCustody(NATIVE, 1 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 1 ether), _owing(bob, 1 ether)));
        vm.roll(block.number + 1);
        _executeKept(NATIVE, _payouts1(carol, 1 ether), 1); // paid out of members' money to a non-member
        _openExit(NATIVE);
        _foldAll(NATIVE);
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        (,, uint256 preview) = exits.previewExit(NATIVE, leaf, index, siblings);
        assertEq(preview, 0, "preview: nothing");
        assertEq(_claim(t, alice), 1 ether, "the due is recorded");
        _closeClaimWindow(NATIVE);
        vm.expectEmit(address(exits));
        emit SettlementExit.Exited(alice, NATIVE, alice, 0, 1 ether, 0);
        assertEq(_payOut(NATIVE, alice), 0, "nothing to pay");
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.AlreadyPaid.selector, NATIVE, alice));
        exits.payOut(NATIVE, alice);
        assertEq(exits.returnSurplus(NATIVE), 0, "no surplus");
    }

    /// @notice A recipient that rejects the payment fails the payout whole (nothing is recorded); the member
    ///         redirects it, after the window as well, and it is paid.
    function test_exit_aRecipientRejectingThePaymentFailsWholeUntilTheMemberRedirects() public {
        ExitTree.Tree memory t = _openedTree();
        RevertingRecipient rejecting = new RevertingRecipient();
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        vm.prank(alice);
        exits.exit(NATIVE, leaf, index, siblings, address(rejecting));
        _closeClaimWindow(NATIVE);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.OutboundTransferFailed.selector));
        exits.payOut(NATIVE, alice);
        (,, bool paid) = exits.claimOf(NATIVE, alice);
        assertFalse(paid, "nothing recorded");
        vm.expectEmit(address(exits));
        emit SettlementExit.Redirected(alice, NATIVE, alice);
        vm.prank(alice);
        exits.redirect(NATIVE, alice);
        assertEq(_payOut(NATIVE, alice), 3 ether, "then to her own address");
    }

    /// @notice The preview says what the payout will pay: during the window the fraction counts the member's own due
    ///         if not claimed yet, and falls as others claim; once the window closes it is what is paid.
    function test_previewExit_isWhatThePayoutPays() public {
        _fundCustody(NATIVE, 5 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 6 ether), _owing(bob, 4 ether)));
        vm.roll(block.number + 1);
        _executeKept(NATIVE, _payouts1(alice, 1 ether), 1);
        _openExit(NATIVE);
        _foldAll(NATIVE);
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        (uint256 entitlement, uint256 subtracted, uint256 amount) = exits.previewExit(NATIVE, leaf, index, siblings);
        assertEq(entitlement, 6 ether, "entitlement");
        assertEq(subtracted, 1 ether, "subtracted");
        assertEq(amount, 4 ether, "alone: custody 4 over proven 5");
        vm.expectEmit(address(exits));
        emit SettlementExit.Claimed(alice, NATIVE, alice, 5 ether, 6 ether, 1 ether);
        _claim(t, alice);
        (,, amount) = exits.previewExit(NATIVE, leaf, index, siblings);
        assertEq(amount, 4 ether, "claimed: the same until another claims");

        (ExitLeaf memory bobLeaf, uint256 bobIndex, SumNode[] memory bobSiblings) = t.proof(t.find(bob));
        (,, uint256 bobAmount) = exits.previewExit(NATIVE, bobLeaf, bobIndex, bobSiblings);
        assertEq(bobAmount, uint256(4 ether) * 4 ether / 9 ether, "bob: his own due counted, 4/9");
        _claim(t, bob);
        (,, amount) = exits.previewExit(NATIVE, leaf, index, siblings);
        assertEq(amount, uint256(5 ether) * 4 ether / 9 ether, "alice's falls to 4/9 as bob claims");

        _closeClaimWindow(NATIVE);
        vm.expectEmit(address(exits));
        emit SettlementExit.Exited(alice, NATIVE, alice, amount, 6 ether, 1 ether);
        assertEq(_payOut(NATIVE, alice), amount, "the payout pays the preview");
        assertEq(_payOut(NATIVE, bob), bobAmount, "bob's too");
        (,, amount) = exits.previewExit(NATIVE, leaf, index, siblings);
        assertEq(amount, uint256(5 ether) * 4 ether / 9 ether, "after: what was paid");
    }

    // ═════════════════════════════ helpers ═════════════════════════════

    /// @dev Custody 10 ether; alice 3 (spread over the five components), bob 4, carol 2; the exit opened.
    function _openedTree() internal returns (ExitTree.Tree memory t) {
        _fundCustody(NATIVE, 10 ether);
        t = _commitTree(
            NATIVE,
            _accounts(
                _account(alice, 1 ether, 0.5 ether, 1 ether, 0.5 ether, 0.25 ether),
                _owing(bob, 4 ether),
                _owing(carol, 2 ether)
            )
        );
        _openExit(NATIVE);
    }

    function _expectInvalid(ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) internal {
        _expectExitRevert(NATIVE, leaf, index, siblings, abi.encodePacked(SettlementExit.InvalidProof.selector));
    }
}
