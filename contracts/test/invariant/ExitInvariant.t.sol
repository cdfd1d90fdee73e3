// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "../utils/SettlementFixture.sol";
import {console} from "../utils/Console.sol";
import {SettlementConfig} from "../../src/SettlementTypes.sol";
import {Settlement} from "../../src/Settlement.sol";
import {SettlementViews} from "../../src/SettlementViews.sol";
import {SettlementExit} from "../../src/SettlementExit.sol";
import {ExitHandler} from "./ExitHandler.sol";

/// @notice Properties of the members' exit after any sequence of ExitHandler actions: registrations, payouts (paid
///         or deferred), claims, commitments of real trees, pauses, time, openings (early and on time), folds,
///         claims in the exit's window (twice, for nothing, by relayers, too late), payouts after it (early, twice,
///         unclaimed), the surplus's return, and every operator action after the opening.
abstract contract ExitInvariantBase is SettlementFixture {
    /// @dev Shorter than the fixture's 14 days, so that a campaign's warps reach the opening often.
    uint64 internal constant INVARIANT_EXIT_AFTER = 5 days;

    ExitHandler internal handler;
    SettlementExit internal exits;

    function _deployWithHandler() internal returns (ExitHandler h) {
        address[] memory allowed = new address[](1);
        allowed[0] = address(usdt);
        SettlementConfig memory c = _config(allowed);
        c.exitAfter = INVARIANT_EXIT_AFTER;
        settlement = new Settlement(c);
        h = new ExitHandler(settlement, usdt, SIGNER_KEY, operator, pauser, admin);
        usdt.transferOwnership(address(h)); // the handler pauses the token to defer payouts
    }

    /// @notice The exits never pay more than the custody handed to them (payouts and the surplus together), and hold
    ///         exactly the rest.
    function _check_exitsNeverPayMoreThanTheirCustody() internal view {
        if (!handler.opened()) return;
        uint256 custody = handler.ghostCustodyAtOpening();
        uint256 out = handler.ghostExitPaid() + handler.ghostSurplus();
        assertLe(out, custody, "paid + surplus <= custody at opening");
        assertEq(usdt.balanceOf(address(exits)), custody - out, "the exits hold the rest");
        (,,,,,,, uint128 paid) = exits.opening(address(usdt));
        assertEq(paid, handler.ghostExitPaid(), "the exits' books");
        (,, uint256 proven,,) = exits.claimWindow(address(usdt));
        assertEq(proven, handler.ghostProven(), "the claims' sum");
    }

    /// @notice Every claim not yet paid stays payable in full of its share, before and after the surplus left; the
    ///         surplus leaves only after the window, once, exactly custody − min(custody, proven).
    function _check_claimsStayPayableAfterTheSurplus() internal view {
        assertGe(usdt.balanceOf(address(exits)), handler.outstanding(), "the claims' shares are held");
        assertEq(handler.ghostWrongSurplus(), 0, "a surplus early, twice, or of the wrong amount");
    }

    /// @notice What members can claim is always in the Settlement, before and after the opening.
    function _check_claimsAreAlwaysCovered() internal view {
        assertGe(usdt.balanceOf(address(settlement)), views().totalClaimable(address(usdt)), "claims covered");
        assertEq(handler.ghostClaimFailed(), 0, "a claim refused");
    }

    /// @notice No member claims or is paid twice; every claim records EXIT.md §4's due and every payout pays §13's
    ///         share, or is refused for its reason.
    function _check_eachMemberExitsOnceForTheRightAmount() internal view {
        assertEq(handler.ghostPaidTwice(), 0, "paid twice");
        assertEq(handler.ghostWrongExit(), 0, "an exit paid the wrong amount or was refused wrongly");
    }

    /// @notice Once open, nothing moves the token but claims and exits.
    function _check_nothingMovesAnOpenTokenButClaimsAndExits() internal view {
        assertEq(handler.ghostMovedAfterOpening(), 0, "accepted after the opening");
        assertEq(handler.ghostWrongRefusal(), 0, "refused for a reason not modelled");
    }

    /// @notice The exit opens when due (no commitment, or a pause, for exitAfter) and never before.
    function _check_theExitOpensOnlyWhenDue() internal view {
        assertEq(handler.ghostOpenedEarly(), 0, "opened early");
        assertEq(handler.ghostDueRefused(), 0, "refused when due");
        (uint256 opensAt) = views().exitOpensAt(address(usdt));
        assertEq(opensAt, handler.modelOpensAt(), "exitOpensAt = model");
    }
}

contract ExitInvariantTest is ExitInvariantBase {
    function setUp() public override {
        super.setUp();
        handler = _deployWithHandler();
        exits = SettlementExit(payable(settlement.exits()));
        targetContract(address(handler));
    }

    function invariant_exitsNeverPayMoreThanTheirCustody() public view {
        _check_exitsNeverPayMoreThanTheirCustody();
    }

    function invariant_claimsAreAlwaysCovered() public view {
        _check_claimsAreAlwaysCovered();
    }

    function invariant_claimsStayPayableAfterTheSurplus() public view {
        _check_claimsStayPayableAfterTheSurplus();
    }

    function invariant_eachMemberExitsOnceForTheRightAmount() public view {
        _check_eachMemberExitsOnceForTheRightAmount();
    }

    function invariant_nothingMovesAnOpenTokenButClaimsAndExits() public view {
        _check_nothingMovesAnOpenTokenButClaimsAndExits();
    }

    function invariant_theExitOpensOnlyWhenDue() public view {
        _check_theExitOpensOnlyWhenDue();
    }

    function afterInvariant() external view {
        console.log("calls: register", handler.calls("register"));
        console.log("calls: payout", handler.calls("payout"));
        console.log("payouts paid", handler.calls("payoutPaid"));
        console.log("payouts deferred", handler.calls("payoutDeferred"));
        console.log("calls: claim", handler.calls("claim"));
        console.log("calls: commit", handler.calls("commit"));
        console.log("operator left", handler.calls("leave"));
        console.log("opening attempts", handler.calls("openAttempt"));
        console.log("openings", handler.calls("opened"));
        console.log("calls: fold", handler.calls("fold"));
        console.log("exit claim attempts", handler.calls("exitAttempt"));
        console.log("exit claims", handler.calls("claimed"));
        console.log("windows closed", handler.calls("closeWindow"));
        console.log("payout attempts", handler.calls("payOutAttempt"));
        console.log("payouts", handler.calls("paidOut"));
        console.log("surpluses returned", handler.calls("surplusReturned"));
    }
}

/// @notice A fixed walk through every ExitHandler path, so that a silent no-op cannot make the campaign vacuous.
contract ExitHandlerSmokeTest is ExitInvariantBase {
    function test_exitHandler_everyPathIsReachableAndTheModelTracksTheContract() public {
        handler = _deployWithHandler();
        exits = SettlementExit(payable(settlement.exits()));
        handler.register(4_000e6);
        handler.register(3_000e6);
        handler.commit(1);
        handler.payout(1); // paid
        handler.payout(3); // deferred (paused token)
        handler.claim(0);
        handler.openExit(); // early: refused
        handler.warp(3 days);
        handler.commit(2); // resets the clock, the batches since are gone
        handler.payout(4);
        handler.payout(6); // deferred
        handler.payout(7);
        handler.warp(3 days);
        handler.openExit(); // not yet (commitment 3 days ago, exitAfter 5)
        handler.warp(2 days);
        handler.exitMember(0); // not open: nothing happens
        handler.openExit();
        assertTrue(handler.opened(), "opened");
        handler.register(1e6); // refused: ExitOpen
        handler.payout(8); // refused
        handler.commit(3); // refused
        handler.exitMember(1); // refused: batches not folded
        handler.fold(0); // one batch
        handler.fold(2); // the rest
        for (uint256 i; i < 3; ++i) {
            handler.exitMember(i); // members 0-2 claim; 3 and 4 never do
            handler.exitMember(i + 5); // the same member again: refused
        }
        handler.payOutMember(0); // refused: the window is open
        handler.returnSurplus(); // refused
        handler.claim(0); // claims still work
        handler.claim(1);
        handler.flipPause();
        handler.payout(9); // refused: paused
        handler.openExit(); // refused: already open
        handler.flipPause();
        handler.closeWindow();
        handler.exitMember(4); // refused: too late
        handler.payOutMember(0);
        handler.returnSurplus(); // between the payouts
        handler.returnSurplus(); // refused: once
        for (uint256 i; i < 10; ++i) {
            handler.payOutMember(i); // each claim once (the unclaimed refused), then again (refused)
        }

        assertGe(handler.calls("claimed"), 1, "claims");
        assertGe(handler.calls("paidOut"), 1, "payouts");
        assertEq(handler.calls("surplusReturned"), 1, "the surplus, once");
        assertGe(handler.calls("payoutDeferred"), 2, "deferred payouts");
        assertGe(handler.calls("fold"), 2, "folds");
        _check_exitsNeverPayMoreThanTheirCustody();
        _check_claimsAreAlwaysCovered();
        _check_claimsStayPayableAfterTheSurplus();
        _check_eachMemberExitsOnceForTheRightAmount();
        _check_nothingMovesAnOpenTokenButClaimsAndExits();
        _check_theExitOpensOnlyWhenDue();
    }
}
