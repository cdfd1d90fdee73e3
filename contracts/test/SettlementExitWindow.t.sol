// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ExitFixture} from "./utils/ExitFixture.sol";
import {ExitTree} from "./utils/ExitTree.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {SettlementExit} from "../src/SettlementExit.sol";
import {ExitLeaf, SumNode, SettlementConfig} from "../src/SettlementTypes.sol";

/// @notice The same share for every member (issue 65, item 3; EXIT.md §13): members claim during a window of the
///         longer of `exitAfter` and 30 days from the opening, then every claim is paid the same fraction
///         min(1, custody/proven) whatever the order, and only then does the custody beyond the claims go back to
///         the Settlement's admin.
contract SettlementExitWindowTest is ExitFixture {
    using ExitTree for ExitTree.Tree;

    address internal constant OUTSIDER = address(0x0075);

    function _end(address token) internal view returns (uint256 end) {
        (end,,,,) = exits.claimWindow(token);
    }

    // ═════════════════════════════ the attack ═════════════════════════════

    /// @notice The exit race after a batch to a non-member. After the latest commitment (alice 120, bob 60, carol
    ///         120; custody 300) a payout batch pays 150 of members' money to an outsider who has no leaf. The
    ///         opening's `owed` (the floor less what is claimable: 150) then understates what the exits must pay
    ///         (300): custody 150 covers `owed`, so before the claim window the first exit took its whole due and the
    ///         last got nothing — alice, bob, carol in that order were paid 120, 30 and 0 (NothingToExit), carol
    ///         first 120, bob 30, alice 0. Now each is paid half of their due (custody 150 over the claims' 300),
    ///         whatever the order of the claims and of the payouts.
    function test_attack_theExitRaceAfterABatchToANonMember_everyMemberGetsTheSameFractionInAnyOrder() public {
        _race(NATIVE, 300 ether, 1 ether);
    }

    /// @notice The same race in TRON's USDT (its transfer returns false on success: judged by balance delta).
    function test_attack_theExitRaceAfterABatchToANonMember_tronUsdt() public {
        _race(address(usdt), 300e6, 1e6);
    }

    function _race(address token, uint256 custody, uint128 unit) internal {
        _fundCustody(token, custody);
        ExitTree.Tree memory t =
            _commitTree(token, _accounts(_owing(alice, 120 * unit), _owing(bob, 60 * unit), _owing(carol, 120 * unit)));
        vm.roll(block.number + 1);
        _executeKept(token, _payouts1(OUTSIDER, 150 * unit), 1);
        _openExit(token);
        _foldAll(token);
        (,,,, uint128 owed, uint128 custodyAtOpening,,) = exits.opening(token);
        assertEq(owed, 150 * unit, "owed: the floor, 300 less the 150 paid since");
        assertEq(custodyAtOpening, 150 * unit, "custody: 150, which covers owed");

        address[3][3] memory claimOrders = [[alice, bob, carol], [carol, bob, alice], [bob, carol, alice]];
        address[3][3] memory payOrders = [[alice, bob, carol], [carol, alice, bob], [bob, alice, carol]];
        for (uint256 o; o < 3; ++o) {
            uint256 snapshot = vm.snapshotState();
            for (uint256 i; i < 3; ++i) {
                _claim(t, claimOrders[o][i]);
            }
            (,, uint256 proven,,) = exits.claimWindow(token);
            assertEq(proven, 300 * unit, "the claims add up to the members' dues");
            _closeClaimWindow(token);
            for (uint256 i; i < 3; ++i) {
                _payOut(token, payOrders[o][i]);
            }
            assertEq(_balance(token, alice), 60 * unit, "alice: 120 x 150/300, in every order");
            assertEq(_balance(token, bob), 30 * unit, "bob: 60 x 150/300, in every order");
            assertEq(_balance(token, carol), 60 * unit, "carol: 120 x 150/300, in every order");
            assertEq(_balance(token, address(exits)), 0, "custody shared out");
            assertEq(exits.returnSurplus(token), 0, "no surplus");
            vm.revertToState(snapshot);
        }
    }

    // ═════════════════════════════ the surplus ═════════════════════════════

    /// @notice The custody beyond the claims — custody − min(custody, proven) — goes to the Settlement's default admin,
    ///         only once the window has closed, exactly once; every payout is still paid in full after it left.
    function test_surplus_goesToTheAdminOnceOnlyAfterTheWindowAndLeavesEveryPayoutPayable() public {
        address token = address(erc20);
        _fundCustody(token, 1_000e18);
        ExitTree.Tree memory t =
            _commitTree(token, _accounts(_owing(alice, 300e18), _owing(bob, 200e18), _owing(carol, 100e18)));
        _openExit(token);
        _claim(t, alice);
        _claim(t, bob); // carol never claims
        uint256 end = _end(token);
        (,,, uint256 surplus,) = exits.claimWindow(token);
        assertEq(surplus, 500e18, "1000 less the 500 claimed");

        bytes memory early = abi.encodeWithSelector(SettlementExit.ClaimWindowOpen.selector, token, end);
        vm.expectRevert(early);
        exits.returnSurplus(token);
        vm.warp(end - 1);
        vm.expectRevert(early);
        exits.returnSurplus(token);

        vm.warp(end);
        vm.expectEmit(address(exits));
        emit SettlementExit.SurplusReturned(token, admin, 500e18);
        vm.prank(makeAddr("anyone"));
        assertEq(exits.returnSurplus(token), 500e18, "custody - proven");
        assertEq(erc20.balanceOf(admin), 500e18, "to the admin");
        assertEq(erc20.balanceOf(address(exits)), 500e18, "the claims' part stays");
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.SurplusAlreadyReturned.selector, token));
        exits.returnSurplus(token);
        (,,,, bool returned) = exits.claimWindow(token);
        assertTrue(returned, "returned");

        assertEq(_payOut(token, alice), 300e18, "alice in full after the surplus left");
        assertEq(_payOut(token, bob), 200e18, "bob in full");
        assertEq(erc20.balanceOf(address(exits)), 0, "nothing stranded");
        (,,,,,,, uint128 paid) = exits.opening(token);
        assertEq(paid, 500e18, "the payouts' books");
    }

    /// @notice The surplus is the same whether it leaves before or after the payouts (with custody short of the
    ///         claims there is none: SettlementExit.t.sol, T6).
    function test_surplus_isTheSameBeforeOrAfterThePayouts() public {
        _fundCustody(NATIVE, 10 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 3 ether), _owing(bob, 4 ether)));
        _openExit(NATIVE);
        _claim(t, alice);
        _claim(t, bob);
        _closeClaimWindow(NATIVE);
        uint256 snapshot = vm.snapshotState();
        assertEq(exits.returnSurplus(NATIVE), 3 ether, "first");
        _payOut(NATIVE, alice);
        _payOut(NATIVE, bob);
        vm.revertToState(snapshot);
        _payOut(NATIVE, alice);
        _payOut(NATIVE, bob);
        assertEq(exits.returnSurplus(NATIVE), 3 ether, "last");
        assertEq(admin.balance, 3 ether, "the admin's either way");
        assertEq(address(exits).balance, 0, "nothing left");
    }

    /// @notice A member who did not claim in the window gets nothing and cannot claim after it; their due is part of
    ///         the surplus.
    function test_window_aMemberWhoDidNotClaimGetsNothingAndCannotClaimAfter() public {
        _fundCustody(NATIVE, 10 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 3 ether), _owing(bob, 4 ether)));
        _openExit(NATIVE);
        _claim(t, alice);
        uint256 end = _end(NATIVE);
        vm.warp(end - 1);
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(bob));
        (,, uint256 preview) = exits.previewExit(NATIVE, leaf, index, siblings);
        assertEq(preview, 4 ether, "the last second: bob could still claim his 4");

        vm.warp(end);
        bytes memory closed = abi.encodeWithSelector(SettlementExit.ClaimWindowClosed.selector, NATIVE, end);
        _expectExitRevert(NATIVE, leaf, index, siblings, closed);
        vm.expectRevert(closed);
        vm.prank(carol);
        exits.exit(NATIVE, leaf, index, siblings, bob);
        vm.expectRevert(closed);
        exits.previewExit(NATIVE, leaf, index, siblings);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.NotClaimed.selector, NATIVE, bob));
        exits.payOut(NATIVE, bob);
        (uint256 due,, bool paid) = exits.claimOf(NATIVE, bob);
        assertEq(due, 0, "no claim");
        assertFalse(paid, "nothing paid");

        assertEq(_payOut(NATIVE, alice), 3 ether, "alice in full");
        assertEq(exits.returnSurplus(NATIVE), 7 ether, "bob's 4 and the company's 3 go to the admin");
        assertEq(bob.balance, 0, "bob: nothing");
    }

    /// @notice The window is the longer of `exitAfter` and MIN_CLAIM_WINDOW (30 days) from the opening: claims up to
    ///         its last second, payouts from its end.
    function test_window_isTheLongerOfExitAfterAndThirtyDays() public {
        assertEq(exits.MIN_CLAIM_WINDOW(), 30 days, "30 days");
        _fundCustody(NATIVE, 10 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 3 ether), _owing(bob, 4 ether)));
        _openExit(NATIVE);
        uint256 openedAt = block.timestamp;
        assertEq(_end(NATIVE), openedAt + 30 days, "exitAfter is 14 days: 30");

        vm.warp(openedAt + 30 days - 1);
        _claim(t, alice); // the last second
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.ClaimWindowOpen.selector, NATIVE, openedAt + 30 days));
        exits.payOut(NATIVE, alice);
        vm.warp(openedAt + 30 days);
        assertEq(_payOut(NATIVE, alice), 3 ether, "paid from the end");

        // a Settlement whose exitAfter is longer: its window is exitAfter
        SettlementConfig memory c = _config(new address[](1));
        c.exitAfter = 60 days;
        settlement = new Settlement(c);
        exits = SettlementExit(payable(settlement.exits()));
        vm.warp(views().exitOpensAt(NATIVE));
        exits.openExit(NATIVE);
        assertEq(_end(NATIVE), block.timestamp + 60 days, "exitAfter: 60 days");
    }

    // ═════════════════════════════ payouts ═════════════════════════════

    /// @notice Every refusal of `payOut`: before the window closes, a member who never claimed, a second payout.
    function test_payOut_refusals() public {
        ExitTree.Tree memory t = _openedTree();
        _claim(t, alice);
        uint256 end = _end(NATIVE);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.ClaimWindowOpen.selector, NATIVE, end));
        exits.payOut(NATIVE, alice);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.ClaimWindowOpen.selector, NATIVE, end));
        exits.payOutMany(NATIVE, _list(alice));
        _closeClaimWindow(NATIVE);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.NotClaimed.selector, NATIVE, bob));
        exits.payOut(NATIVE, bob);
        assertEq(_payOut(NATIVE, alice), 3 ether, "paid");
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.AlreadyPaid.selector, NATIVE, alice));
        exits.payOut(NATIVE, alice);
        assertEq(alice.balance, 3 ether, "once");
    }

    /// @notice `payOutMany` pays every listed claim once, skipping those already paid (a member listed twice, an
    ///         overlapping sweep); a member who never claimed reverts the whole call.
    function test_payOutMany_skipsThePaidAndRevertsOnAMemberWhoNeverClaimed() public {
        _fundCustody(address(erc20), 6e18);
        ExitTree.Tree memory t =
            _commitTree(address(erc20), _accounts(_owing(alice, 3e18), _owing(bob, 4e18), _owing(carol, 2e18)));
        _openExit(address(erc20));
        _claim(t, alice);
        _claim(t, bob);
        _claim(t, carol);
        _closeClaimWindow(address(erc20));
        _payOut(address(erc20), alice); // 3 x 6/9 = 2

        address[] memory withAStranger = new address[](3);
        (withAStranger[0], withAStranger[1], withAStranger[2]) = (bob, carol, dave());
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.NotClaimed.selector, address(erc20), dave()));
        exits.payOutMany(address(erc20), withAStranger);
        assertEq(erc20.balanceOf(bob), 0, "nothing paid by the reverted sweep");

        address[] memory list = new address[](4);
        (list[0], list[1], list[2], list[3]) = (alice, bob, bob, carol);
        vm.prank(makeAddr("sweeper"));
        uint256 total = exits.payOutMany(address(erc20), list);
        assertEq(total, uint256(4e18) * 6 / 9 + uint256(2e18) * 6 / 9, "bob's and carol's, once each");
        assertEq(erc20.balanceOf(alice), 2e18, "alice once");
        assertEq(erc20.balanceOf(bob), uint256(4e18) * 6 / 9, "bob once");
        assertEq(erc20.balanceOf(carol), uint256(2e18) * 6 / 9, "carol");
        assertEq(exits.payOutMany(address(erc20), list), 0, "a second sweep pays nothing, refuses nothing");
    }

    // ═════════════════════════════ redirections ═════════════════════════════

    /// @notice Only the member redirects their claim's payout (it is msg.sender's claim that moves), never to zero,
    ///         the Settlement or the exit contract, any time before it is paid.
    function test_redirect_rules() public {
        ExitTree.Tree memory t = _openedTree();
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.NotClaimed.selector, NATIVE, alice));
        vm.prank(alice);
        exits.redirect(NATIVE, dave());

        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(t.find(alice));
        vm.prank(carol); // a relayer claims for alice, to alice
        exits.exit(NATIVE, leaf, index, siblings, alice);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.NotClaimed.selector, NATIVE, carol));
        vm.prank(carol); // the relayer has no claim of its own to move, and cannot move alice's
        exits.redirect(NATIVE, carol);

        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.ZeroAddress.selector));
        exits.redirect(NATIVE, address(0));
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.SelfPayment.selector));
        exits.redirect(NATIVE, address(settlement));
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.SelfPayment.selector));
        exits.redirect(NATIVE, address(exits));
        vm.expectEmit(address(exits));
        emit SettlementExit.Redirected(alice, NATIVE, dave());
        exits.redirect(NATIVE, dave());
        vm.stopPrank();
        (uint256 due, address to,) = exits.claimOf(NATIVE, alice);
        assertEq(due, 3 ether, "the due unchanged");
        assertEq(to, dave(), "redirected in the window");

        _closeClaimWindow(NATIVE);
        vm.prank(alice);
        exits.redirect(NATIVE, bob); // and after it, before the payout
        (, to,) = exits.claimOf(NATIVE, alice);
        assertEq(to, bob, "redirected after the window");
        vm.expectEmit(address(exits));
        emit SettlementExit.Exited(alice, NATIVE, bob, 3 ether, 3 ether, 0);
        _payOut(NATIVE, alice);
        assertEq(bob.balance, 3 ether, "paid where alice said last");
        assertEq(dave().balance, 0, "not to the earlier address");
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.AlreadyPaid.selector, NATIVE, alice));
        vm.prank(alice);
        exits.redirect(NATIVE, alice);
    }

    // ═════════════════════════════ the admin ═════════════════════════════

    /// @notice The surplus goes to whoever is the Settlement's default admin when it is returned; with none (the role
    ///         renounced) it stays, refused (ZeroAddress) rather than burnt.
    function test_surplus_followsTheDefaultAdminAndStaysWithoutOne() public {
        _fundCustody(NATIVE, 10 ether);
        ExitTree.Tree memory t = _commitTree(NATIVE, _accounts(_owing(alice, 3 ether), _owing(bob, 4 ether)));
        _openExit(NATIVE);
        _claim(t, alice);
        _closeClaimWindow(NATIVE);
        uint256 snapshot = vm.snapshotState();

        address next = makeAddr("nextAdmin");
        vm.prank(admin);
        settlement.beginDefaultAdminTransfer(next);
        vm.warp(block.timestamp + DELAY + 1);
        vm.prank(next);
        settlement.acceptDefaultAdminTransfer();
        assertEq(exits.returnSurplus(NATIVE), 7 ether, "bob's 4 and the company's 3");
        assertEq(next.balance, 7 ether, "to the admin in office");
        vm.revertToState(snapshot);

        vm.prank(admin);
        settlement.beginDefaultAdminTransfer(address(0));
        vm.warp(block.timestamp + DELAY + 1);
        bytes32 adminRole = settlement.DEFAULT_ADMIN_ROLE();
        vm.prank(admin);
        settlement.renounceRole(adminRole, admin);
        assertEq(settlement.defaultAdmin(), address(0), "renounced");
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.ZeroAddress.selector));
        exits.returnSurplus(NATIVE);
        assertEq(_payOut(NATIVE, alice), 3 ether, "the claims are paid all the same");
    }

    // ═════════════════════════════ helpers ═════════════════════════════

    function dave() internal pure returns (address) {
        return address(0xDA7E);
    }

    /// @dev Custody 10 ether; alice 3, bob 4, carol 2; the exit opened.
    function _openedTree() internal returns (ExitTree.Tree memory t) {
        _fundCustody(NATIVE, 10 ether);
        t = _commitTree(NATIVE, _accounts(_owing(alice, 3 ether), _owing(bob, 4 ether), _owing(carol, 2 ether)));
        _openExit(NATIVE);
    }
}
