// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ExitFixture} from "./utils/ExitFixture.sol";
import {ExitTree} from "./utils/ExitTree.sol";
import {MerkleSum} from "./utils/MerkleSum.sol";
import {EIP712Reference} from "./utils/EIP712Reference.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {SettlementExit} from "../src/SettlementExit.sol";
import {DelayedChanges, ChangeKind, PendingChange} from "../src/DelayedChanges.sol";
import {UnorderedNonces} from "../src/UnorderedNonces.sol";
import {
    ExitLeaf,
    SumNode,
    FoldedBatch,
    Payout,
    PayoutBatch,
    LiabilityRoot,
    Registration
} from "../src/SettlementTypes.sol";

/// @notice Members leave before any change of power takes effect (issue 65, EXIT.md §12): each attack the issue tried
///         against the operator's own systems, as a test whose outcome it asserts, then every rule of `leave`.
contract SettlementLeaveTest is ExitFixture {
    using ExitTree for ExitTree.Tree;

    uint256 internal constant ATTACKER_KEY = 0xA77AC;

    /// @dev `t`'s account `user` leaves to their own address with the batches since the commitment; returns what
    ///      they received.
    function _leave(ExitTree.Tree memory t, address user) internal returns (uint256 amount) {
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(user));
        address token = t.ctx.token;
        uint256 before = _balance(token, user);
        vm.prank(user);
        amount = exits.leave(token, leaf, index, siblings, _keptNewestFirst(token, 0, _sinceCommit[token].length), user);
        assertEq(_balance(token, user) - before, amount, "the leave's amount arrived");
    }

    function _expectLeaveRevert(ExitTree.Tree memory t, address user, bytes memory reason) internal {
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(user));
        FoldedBatch[] memory batches = _keptNewestFirst(t.ctx.token, 0, _sinceCommit[t.ctx.token].length);
        vm.expectRevert(reason);
        vm.prank(user);
        exits.leave(t.ctx.token, leaf, index, siblings, batches, user);
    }

    function _digestOf(PayoutBatch memory b) internal view returns (bytes32) {
        return EIP712Reference.digest(_domain(), EIP712Reference.hash(b));
    }

    function _scheduleRotation(address to) internal returns (bytes32 id) {
        vm.prank(admin);
        id = settlement.scheduleSignerRotation(to);
    }

    // ═════════════════════════════ the attacks of issue 65 ═════════════════════════════

    /// @notice The admin alone (in production the Safe's threshold) schedules its own signer and the operator role,
    ///         undoes the honest pauser's pause and keeps committing so that the exit never opens; after the delay
    ///         one self-signed batch pays it everything available. Today: during the delay every member leaves with
    ///         their due, and the drain finds only the company's money.
    function test_attack_theAdminAloneDrainsCustody_membersLeaveFirstAndTheDrainFindsOnlyTheCompanysMoney() public {
        _fundCustody(NATIVE, 300 ether);
        ExitTree.Tree memory t = _commitTree(
            NATIVE,
            _accounts(
                _owing(alice, 100 ether), _account(bob, 70 ether, 30 ether, 20 ether, 0, 0), _owing(carol, 50 ether)
            )
        );
        assertEq(t.total, 270 ether, "members are owed 270 of 300");
        assertFalse(settlement.leaveOpen(), "nothing pending: nobody leaves");
        _expectLeaveRevert(t, alice, abi.encodeWithSelector(Settlement.NoChangePending.selector));

        address attacker = vm.addr(ATTACKER_KEY);
        bytes32 rotation = _scheduleRotation(attacker);
        bytes32 operatorRole = settlement.OPERATOR_ROLE();
        vm.prank(admin);
        bytes32 grant = settlement.scheduleRoleChange(operatorRole, admin, true);
        // the honest pauser pauses; the admin cannot undo it at once
        vm.prank(pauser);
        settlement.pause();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, admin, settlement.PAUSER_ROLE()
            )
        );
        vm.prank(admin);
        settlement.unpause();
        assertTrue(settlement.leaveOpen(), "a change of power is pending: members may leave");

        // the operator's changes wait the same delay; so does the admin's way out of the pause
        vm.prank(admin);
        bytes32 unpause = settlement.scheduleUnpause();
        vm.expectRevert(
            abi.encodeWithSelector(
                DelayedChanges.ChangeNotReady.selector, unpause, block.timestamp + DELAY, block.timestamp
            )
        );
        vm.prank(admin);
        settlement.applyChange(unpause);

        // the members leave during the window, paused as it is, each with exactly their due
        assertEq(_leave(t, alice), 100 ether, "alice's pending");
        assertTrue(views().hasLeft(alice, NATIVE), "alice left");
        // the operator keeps committing (the exit never opens): the next root counts alice's leave
        vm.warp(block.timestamp + 1 days);
        vm.roll(block.number + 1);
        ExitTree.Tree memory t2 = _commitTree(
            NATIVE,
            _accounts(_owing(alice, 0), _account(bob, 70 ether, 30 ether, 20 ether, 0, 0), _owing(carol, 50 ether))
        );
        assertEq(_leave(t2, bob), 120 ether, "bob's reserved, held and pending");
        assertEq(_leave(t2, carol), 50 ether, "carol's");
        assertEq(address(settlement).balance, 30 ether, "the company's 30 stay");
        (uint256 floor_,,) = views().floor(NATIVE);
        assertEq(floor_, 0, "nothing is owed to members any more");

        // after the delay the changes apply and the self-signed batch takes what is left: the company's money only
        vm.warp(block.timestamp + DELAY);
        vm.startPrank(admin);
        settlement.applyChange(rotation);
        settlement.applyChange(grant);
        settlement.applyChange(unpause);
        vm.stopPrank();
        assertFalse(settlement.paused(), "unpaused after the delay");
        assertFalse(settlement.leaveOpen(), "nothing pending any more");
        Payout[] memory drain = new Payout[](1);
        drain[0] = Payout(attacker, views().available(NATIVE));
        PayoutBatch memory b = _batch(NATIVE, drain, 77);
        bytes memory sig = _signDigest(ATTACKER_KEY, _digestOf(b));
        vm.prank(admin);
        settlement.executePayoutBatch(b, sig);
        assertEq(attacker.balance, 30 ether, "the drain found the company's 30, not the members' 270");
        assertEq(alice.balance + bob.balance + carol.balance, 270 ether, "every member left with their due");
    }

    /// @notice The pause undone: the admin unpaused in the block the honest pauser paused. Now only a pauser ends a
    ///         pause at once; the admin's way waits the delay, members free to leave meanwhile.
    function test_attack_thePauseUndone_theAdminWaitsTheDelayAndAPauserMayEndItAtOnce() public {
        vm.prank(pauser);
        settlement.pause();
        bytes32 pauserRole = settlement.PAUSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, pauserRole)
        );
        vm.prank(admin);
        settlement.unpause();
        assertTrue(settlement.paused(), "still paused");

        vm.prank(admin);
        bytes32 id = settlement.scheduleUnpause();
        assertTrue(settlement.leaveOpen(), "the admin's unpause is a pending change: members may leave");
        (bytes32 pendingId, ChangeKind kind,, uint64 readyAt) = _onlyPending();
        assertEq(pendingId, id, "listed");
        assertEq(uint8(kind), uint8(ChangeKind.Unpause), "as an unpause");
        assertEq(readyAt, block.timestamp + DELAY, "after the delay");
        vm.warp(block.timestamp + DELAY - 1);
        vm.expectRevert(abi.encodeWithSelector(DelayedChanges.ChangeNotReady.selector, id, readyAt, block.timestamp));
        vm.prank(admin);
        settlement.applyChange(id);
        vm.warp(block.timestamp + 1);
        vm.prank(admin);
        settlement.applyChange(id);
        assertFalse(settlement.paused(), "unpaused by the admin after the delay");
        assertFalse(settlement.leaveOpen(), "nothing pending");

        // a pauser ends its own pause at once; an admin's unpause applied after that changes nothing
        vm.prank(pauser);
        settlement.pause();
        vm.prank(admin);
        id = settlement.scheduleUnpause();
        vm.prank(pauser);
        settlement.unpause();
        assertFalse(settlement.paused(), "a pauser's consent");
        vm.warp(block.timestamp + DELAY);
        vm.prank(admin);
        settlement.applyChange(id);
        assertFalse(settlement.paused(), "still running");
        assertEq(views().pausedSince(), 0, "no pause in force");
    }

    function _onlyPending() internal view returns (bytes32 id, ChangeKind kind, bytes memory args, uint64 readyAt) {
        PendingChange[] memory list = settlement.pendingChanges();
        assertEq(list.length, 1, "one pending change");
        return (list[0].id, list[0].kind, list[0].args, list[0].readyAt);
    }

    /// @notice Pause cycling: paused 42 days with three one-block gaps, committing daily, the exit never opened (each
    ///         unpause restarted the pause's clock). Now the paused time counts across gaps shorter than `exitAfter`:
    ///         the exit opens once 14 days of it have passed, commitments or not.
    function test_attack_pauseCycling_cannotKeepTheExitShut() public {
        _fundCustody(NATIVE, 10 ether);
        _commitTotal(NATIVE, 10 ether);
        uint256 start = block.timestamp;
        vm.prank(pauser);
        settlement.pause();
        bool opened;
        for (uint256 day = 1; day <= 42 && !opened; ++day) {
            vm.warp(start + day * 1 days);
            _commitTotal(NATIVE, 10 ether); // the operator commits daily: the commitment's age never opens it
            if (day % 10 == 0) {
                // a one-block gap
                vm.startPrank(pauser);
                settlement.unpause();
                settlement.pause();
                vm.stopPrank();
            }
            if (block.timestamp >= views().exitOpensAt(NATIVE)) {
                exits.openExit(NATIVE);
                opened = true;
                assertEq(day, 14, "after 14 days of pause, the gaps counted");
            }
        }
        assertTrue(opened, "the exit opened");
        assertEq(views().exitOpensAt(NATIVE), start + EXIT_AFTER, "exitAfter of paused time");
    }

    /// @notice A gap of `exitAfter` or more ends the count: the operator ran normally that long.
    function test_pause_aGapOfExitAfterRestartsTheCount() public {
        _commitTotal(NATIVE, 0);
        vm.prank(pauser);
        settlement.pause();
        vm.warp(block.timestamp + 10 days);
        vm.prank(pauser);
        settlement.unpause();
        vm.warp(block.timestamp + 5 days);
        _commitTotal(NATIVE, 0);
        vm.prank(pauser);
        settlement.pause();
        assertEq(views().exitOpensAt(NATIVE), block.timestamp + EXIT_AFTER - 10 days, "10 of 14 days counted");
        vm.prank(pauser);
        settlement.unpause();
        vm.warp(block.timestamp + EXIT_AFTER);
        _commitTotal(NATIVE, 0);
        vm.prank(pauser);
        settlement.pause();
        assertEq(views().exitOpensAt(NATIVE), block.timestamp + EXIT_AFTER, "a fresh count after 14 days unpaused");
    }

    /// @notice 4,001 scheduled push-gas changes needed 92.6M gas to read. At most 32 are pending; the list stays
    ///         readable and `pendingCount` says how many.
    function test_attack_fourThousandPendingChanges_areCappedAndTheListStaysReadable() public {
        uint256 max = settlement.MAX_PENDING_CHANGES();
        vm.startPrank(admin);
        for (uint256 i; i < max; ++i) {
            settlement.schedulePushGas(100_000 + i, 100_000);
        }
        vm.expectRevert(abi.encodeWithSelector(DelayedChanges.TooManyPendingChanges.selector, max));
        settlement.schedulePushGas(200_000, 100_000);
        vm.stopPrank();
        assertEq(settlement.pendingCount(), max, "pendingCount");
        uint256 gasBefore = gasleft();
        PendingChange[] memory list = settlement.pendingChanges();
        uint256 used = gasBefore - gasleft();
        assertEq(list.length, max, "the whole list");
        assertLt(used, 1_000_000, "readable within any RPC's call cap");
        // cancelling one makes room
        vm.prank(admin);
        settlement.cancelChange(list[0].id);
        vm.prank(admin);
        settlement.schedulePushGas(200_000, 100_000);
        assertEq(settlement.pendingCount(), max, "full again");
    }

    /// @notice `cancelNonces` looked like a payment to the signer's refund rule (`isNonceUsed`). A nonce it spends
    ///         while free is told apart (`isNonceCancelled`); a nonce a payment spent is not, even if cancelled after.
    function test_attack_aCancelledNonceIsToldApartFromAPayment() public {
        _doRegister(alice, NATIVE, 1 ether, 5); // nonce 5: a real payment
        vm.prank(admin);
        settlement.cancelNonces(0, (1 << 5) | (1 << 6)); // 5 (spent already) and 6 (free)
        assertTrue(settlement.isNonceUsed(5) && settlement.isNonceUsed(6), "both spent");
        assertFalse(settlement.isNonceCancelled(5), "5 was a payment");
        assertTrue(settlement.isNonceCancelled(6), "6 was cancelled, never paid");
        assertFalse(settlement.isNonceCancelled(7), "7 untouched");
        // the payload signed with 6 can never execute
        Registration memory r = _reg(bob, NATIVE, 1 ether, 6);
        bytes memory sig = _sign(r);
        vm.deal(bob, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 6));
        vm.prank(bob);
        settlement.register{value: 1 ether}(r, sig);
    }

    // ═════════════════════════════ leaving (EXIT.md §12) ═════════════════════════════

    /// @notice A member is never paid twice: a batch signed before a member left, executed after, is refused whole
    ///         (the operator rebuilds it without them); one without them goes through.
    function test_leave_aBatchSignedBeforeAMemberLeftCannotPayThemAfter() public {
        _fundCustody(NATIVE, 100 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 60 ether), _owing(bob, 40 ether)));
        _scheduleRotation(carol);
        PayoutBatch memory signedBefore = _batch(NATIVE, _payouts2(bob, 10 ether, alice, 60 ether), 11);
        bytes memory sig = _sign(signedBefore);
        assertEq(_leave(t, alice), 60 ether, "alice left with her 60");
        vm.expectRevert(abi.encodeWithSelector(Settlement.RecipientLeft.selector, 1, alice));
        vm.prank(operator);
        settlement.executePayoutBatch(signedBefore, sig);
        _execute(_batch(NATIVE, _payouts1(bob, 10 ether), 12));
        assertEq(alice.balance, 60 ether, "paid once");
        assertEq(bob.balance, 10 ether, "bob's batch went through");
    }

    /// @notice What the batches since the commitment paid or deferred to the member is subtracted; the batches must
    ///         be all of them, each in its place in the running hash.
    function test_leave_subtractsWhatTheBatchesSinceTheCommitmentPaid() public {
        _fundCustody(address(usdt), 1_000e6);
        ExitTree.Tree memory t = _commitTree(address(usdt), _accounts(_owing(alice, 100e6), _owing(bob, 200e6)));
        vm.roll(block.number + 1);
        _executeKept(address(usdt), _payouts2(alice, 30e6, bob, 5e6), 21);
        usdt.pause();
        _executeKept(address(usdt), _payouts1(alice, 20e6), 22); // deferred: a claim, subtracted all the same
        usdt.unpause();
        _scheduleRotation(carol);
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        FoldedBatch[] memory all = _keptNewestFirst(address(usdt), 0, 2);
        FoldedBatch[] memory newestOnly = _keptNewestFirst(address(usdt), 1, 2);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.BatchesMissing.selector, address(usdt), all[0].previous));
        exits.previewLeave(address(usdt), leaf, index, siblings, newestOnly);
        (uint256 entitlement, uint256 subtracted, uint256 amount) =
            exits.previewLeave(address(usdt), leaf, index, siblings, all);
        assertEq(entitlement, 100e6, "her leaf");
        assertEq(subtracted, 50e6, "30 paid and 20 deferred since");
        assertEq(amount, 50e6, "the rest");
        assertEq(_leave(t, alice), 50e6, "paid the rest");
        assertEq(usdt.balanceOf(alice), 80e6, "30 + 50 in her wallet");
        assertEq(views().claimable(address(usdt), alice), 20e6, "her 20 to claim: 100 in all");
    }

    /// @notice When custody is short, every member leaving gets the same fraction, whatever the order: custody not
    ///         claimable over what the floor says members are owed beyond their claims.
    function test_leave_theSameFractionForEveryMemberWhenCustodyIsShort() public {
        _fundCustody(NATIVE, 60 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 60 ether), _owing(bob, 40 ether)));
        _scheduleRotation(carol);
        assertEq(_leave(t, bob), 24 ether, "60% of bob's 40");
        assertEq(_leave(t, alice), 36 ether, "60% of alice's 60");
        assertEq(address(settlement).balance, 0, "custody shared out");
    }

    /// @notice Every refusal: nothing pending, someone else's redirection, this contract or zero as the recipient,
    ///         a token never committed, a forged proof, a second leave, an exit open.
    function test_leave_refusals() public {
        _fundCustody(NATIVE, 100 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 60 ether), _owing(bob, 40 ether)));
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        FoldedBatch[] memory none = new FoldedBatch[](0);
        _expectLeaveRevert(t, alice, abi.encodeWithSelector(Settlement.NoChangePending.selector));
        _scheduleRotation(carol);

        vm.expectRevert(abi.encodeWithSelector(SettlementExit.WrongSender.selector, alice, bob));
        vm.prank(bob);
        exits.leave(NATIVE, leaf, index, siblings, none, bob);
        vm.startPrank(alice);
        vm.expectRevert(SettlementExit.ZeroAddress.selector);
        exits.leave(NATIVE, leaf, index, siblings, none, address(0));
        vm.expectRevert(SettlementExit.SelfPayment.selector);
        exits.leave(NATIVE, leaf, index, siblings, none, address(settlement));
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.NoCommitment.selector, address(erc20)));
        exits.leave(address(erc20), leaf, index, siblings, none, alice);
        ExitLeaf memory inflated =
            ExitLeaf(alice, leaf.reserved, leaf.held, 70 ether, leaf.batched, leaf.claimable, leaf.salt);
        vm.expectRevert(); // InvalidProof, with the roots
        exits.leave(NATIVE, inflated, index, siblings, none, alice);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongSender.selector, address(exits), alice));
        vm.prank(alice);
        settlement.payLeave(NATIVE, alice, alice, 60 ether, 60 ether);

        // anyone may send a member's leave to the member
        vm.prank(bob);
        exits.leave(NATIVE, leaf, index, siblings, none, alice);
        assertEq(alice.balance, 60 ether, "paid to alice");
        _expectLeaveRevert(t, alice, abi.encodeWithSelector(SettlementExit.AlreadyExited.selector, NATIVE, alice));

        // once the token's exit is open, members exit there: a leave is refused, and a member who left is out
        _openExit(NATIVE);
        _expectLeaveRevert(t, bob, abi.encodeWithSelector(Settlement.ExitOpen.selector, NATIVE));
        _expectExitRevert(
            NATIVE, leaf, index, siblings, abi.encodeWithSelector(SettlementExit.AlreadyExited.selector, NATIVE, alice)
        );
    }

    /// @notice A commitment whose asOfBlock precedes a leave would still count the member's leaf: refused, as after a
    ///         batch (EXIT.md T2); at the leave's block it goes through.
    function test_leave_aCommitmentBeforeTheLeavesBlockIsRefused() public {
        _fundCustody(NATIVE, 100 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 60 ether), _owing(bob, 40 ether)));
        _scheduleRotation(carol);
        vm.roll(block.number + 5);
        _leave(t, alice);
        uint256 leaveBlock = block.number;
        LiabilityRoot memory c = _liab(NATIVE, 2, 40 ether, 901); // asOfBlock = leaveBlock - 1
        bytes memory sig = _sign(c);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BatchAfterAsOfBlock.selector, leaveBlock, leaveBlock - 1));
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
        vm.roll(leaveBlock + 1);
        c = _liab(NATIVE, 2, 40 ether, 902);
        sig = _sign(c);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
        (uint256 floor_,, uint256 paidSince) = views().floor(NATIVE);
        assertEq(floor_, 40 ether, "the new root counts the leave");
        assertEq(paidSince, 0, "nothing paid since it");
    }

    /// @notice A pending default admin transfer opens the window too; the admin's delay cannot be shortened.
    function test_leave_openWhileADefaultAdminTransferIsPending() public {
        vm.prank(admin);
        settlement.beginDefaultAdminTransfer(carol);
        assertTrue(settlement.leaveOpen(), "an admin transfer is a change of power");
        vm.prank(admin);
        settlement.cancelDefaultAdminTransfer();
        assertFalse(settlement.leaveOpen(), "cancelled");
    }

    /// @notice A member who left stays registered (placed) but is marked as left for good: no second registration.
    function test_leave_aMemberWhoLeftStaysRegisteredAndCannotRegisterAgain() public {
        _doRegister(alice, NATIVE, 100 ether, 31);
        uint256 registeredIn = views().registeredAt(alice, NATIVE);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 10 ether), _owing(bob, 20 ether)));
        _scheduleRotation(carol);
        _leave(t, alice);
        assertTrue(views().hasLeft(alice, NATIVE), "left");
        assertTrue(views().isRegistered(alice, NATIVE), "still registered");
        assertEq(views().registeredAt(alice, NATIVE), registeredIn, "the same block");
        assertFalse(views().hasLeft(alice, address(erc20)), "in that token only");
        Registration memory r = _reg(alice, NATIVE, 1 ether, 32);
        bytes memory sig = _sign(r);
        vm.deal(alice, alice.balance + 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, alice, NATIVE));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
    }
}
