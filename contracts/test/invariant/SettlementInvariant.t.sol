// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "../utils/SettlementFixture.sol";
import {console} from "../utils/Console.sol";
import {Settlement} from "../../src/Settlement.sol";
import {SettlementViews} from "../../src/SettlementViews.sol";
import {SettlementHandler} from "./SettlementHandler.sol";

/// @notice Properties that hold after any sequence of handler actions (register, second registrations, retopup,
///         batches with hostile recipients, claims, treasury transfers, replays, expired payloads, time warps, and
///         the TRON-like USDT paused, blacklisting the Settlement or a user, or charging a fee).
contract SettlementInvariantTest is SettlementFixture {
    SettlementHandler internal handler;

    function setUp() public override {
        super.setUp();
        address[] memory allowed = new address[](3);
        (allowed[0], allowed[1], allowed[2]) = (NATIVE, address(usdt), address(blToken));
        settlement = _deploy(allowed);
        handler = new SettlementHandler(settlement, usdt, blToken, SIGNER_KEY, operator, treasurer);
        usdt.transferOwnership(address(handler)); // the handler flips the token's pause, blacklist and fee
        targetContract(address(handler));
    }

    function _custody(address asset) internal view returns (uint256) {
        return _balance(asset, address(settlement));
    }

    /// @notice Custody balance = Σ inflows − Σ outflows, per asset.
    function invariant_balanceEqualsInflowsMinusOutflows() public view {
        for (uint256 i; i < handler.assetCount(); ++i) {
            address asset = handler.assets(i);
            assertEq(_custody(asset), handler.ghostInflow(asset) - handler.ghostOutflow(asset), "balance = in - out");
        }
    }

    /// @notice Custody always covers what recipients can claim.
    function invariant_balanceCoversClaimable() public view {
        for (uint256 i; i < handler.assetCount(); ++i) {
            address asset = handler.assets(i);
            assertGe(_custody(asset), views().totalClaimable(asset), "balance >= claimable");
        }
    }

    /// @notice totalClaimable = Σ claimable of the known accounts = the model's claims, per account.
    function invariant_totalClaimableIsTheSumOfClaims() public view {
        for (uint256 i; i < handler.assetCount(); ++i) {
            address asset = handler.assets(i);
            uint256 sum;
            for (uint256 j; j < handler.claimantCount(); ++j) {
                address who = handler.claimants(j);
                uint256 c = views().claimable(asset, who);
                assertEq(c, handler.ghostClaimable(asset, who), "claim matches model");
                sum += c;
            }
            assertEq(views().totalClaimable(asset), sum, "total = sum of claims");
        }
    }

    /// @notice No nonce, payload or batch is ever accepted twice.
    function invariant_noNonceOrBatchAcceptedTwice() public view {
        assertEq(handler.ghostReplayAccepted(), 0, "replays accepted");
        assertEq(handler.ghostDoubleAccepted(), 0, "nonces accepted twice");
        assertEq(handler.ghostWrongReplayError(), 0, "replay refused for the wrong reason");
    }

    /// @notice A registration or retopup is never accepted when less than signed arrives (paused or blacklisting
    ///         token, or its fee switched on).
    function invariant_shortInflowsNeverAccepted() public view {
        assertEq(handler.ghostShortInflowAccepted(), 0, "short inflow accepted");
    }

    /// @notice No user registers twice in an asset (each refusal says AlreadyRegistered), and the contract's
    ///         registry is the model's: every (user, asset) registered exactly when a registration was accepted.
    function invariant_noUserRegisteredTwiceInAnAsset() public view {
        assertEq(handler.ghostSecondRegistrationAccepted(), 0, "second registration accepted");
        assertEq(handler.ghostWrongSecondRegistrationError(), 0, "second registration refused for the wrong reason");
        for (uint256 i; i < handler.assetCount(); ++i) {
            address asset = handler.assets(i);
            for (uint256 j; j < handler.userCount(); ++j) {
                address user = handler.userAt(j);
                assertEq(views().isRegistered(user, asset), handler.ghostRegistered(asset, user), "registry = model");
            }
        }
    }

    /// @notice No treasury transfer leaves custody below the floor, and the contract's floor is the model's: the latest
    ///         committed total less what payout entries and claims paid members since.
    function invariant_treasuryNeverBreaksTheFloor() public view {
        assertEq(handler.ghostBelowFloorAccepted(), 0, "treasury transfer below the floor");
        for (uint256 i; i < handler.assetCount(); ++i) {
            address asset = handler.assets(i);
            (uint256 floor_, uint256 total, uint256 paid) = views().floor(asset);
            assertEq(floor_, handler.modelFloor(asset), "floor = model");
            assertEq(total, handler.ghostCommitTotal(asset), "committed total = model");
            assertEq(paid, handler.ghostPaidSince(asset), "paid since = model");
        }
    }

    /// @notice Expired payloads are never accepted.
    function invariant_expiredPayloadsNeverAccepted() public view {
        assertEq(handler.ghostExpiredAccepted(), 0, "expired accepted");
    }

    /// @notice Nothing beyond the available balance ever leaves; every valid payload and every claim goes through.
    function invariant_noOverdraftAndNoValidPayloadRefused() public view {
        assertEq(handler.ghostOverdraftAccepted(), 0, "overdraft accepted");
        assertEq(handler.ghostValidRejected(), 0, "valid payload refused");
        assertEq(handler.ghostClaimFailed(), 0, "claim refused or short");
    }

    function afterInvariant() external view {
        console.log("accepted payloads", handler.acceptedCount());
        console.log("calls: register", handler.calls("register"));
        console.log("calls: register again", handler.calls("registerAgain"));
        console.log("second registrations refused", handler.calls("secondRegistrationRefused"));
        console.log("calls: batch executed", handler.calls("batchExecuted"));
        console.log("entries deferred", handler.calls("deferred"));
        console.log("calls: treasury", handler.calls("treasury"));
        console.log("calls: treasury without a recent commitment", handler.calls("treasuryStale"));
        console.log("calls: commit", handler.calls("commit"));
        console.log("calls: claim", handler.calls("claim"));
        console.log("calls: replay", handler.calls("replay"));
        console.log("calls: expired", handler.calls("expired"));
        console.log("calls: usdt switches", handler.calls("usdtPause") + handler.calls("usdtFee"));
        console.log("short inflows refused", handler.calls("shortInflowRefused"));
        console.log("claims refused (token blocked)", handler.calls("claimRefusedTokenBlocked"));
    }
}

/// @notice A fixed walk through every handler path, so a silent no-op in the handler cannot make the invariant
///         campaign vacuous.
contract SettlementHandlerSmokeTest is SettlementFixture {
    function test_handler_everyPathIsReachableAndTheModelTracksTheContract() public {
        address[] memory allowed = new address[](3);
        (allowed[0], allowed[1], allowed[2]) = (NATIVE, address(usdt), address(blToken));
        settlement = _deploy(allowed);
        SettlementHandler h = new SettlementHandler(settlement, usdt, blToken, SIGNER_KEY, operator, treasurer);
        usdt.transferOwnership(address(h));

        h.register(0, 0, 50 ether, 1 hours); // native
        h.register(1, 1, 5e9, 1 hours); // TRON USDT
        h.register(2, 2, 1e21, 1 hours); // blacklist token
        h.retopup(3, 0, 10 ether, 1 hours);
        for (uint256 seed = 1; seed < 40; ++seed) {
            if (seed % 8 != 0) h.executeBatch(seed, 5, seed);
        }
        h.executeBatch(0, 2, 8); // an overdraw attempt
        h.claim(0, 0);
        h.claim(1, 2);
        h.transferTreasury(0, 17); // refused: no commitment yet
        assertEq(h.calls("treasuryStale"), 1, "a transfer before any commitment");
        h.commit(0, 0);
        h.commit(1, 1e30); // an insolvent USDT commitment: nothing may leave USDT custody above the floor
        h.transferTreasury(0, 9); // 9 % 8 != 0: a valid transfer
        h.transferTreasury(1, 16); // an overdraw attempt
        h.transferTreasury(1, 25); // within what is available, but the floor leaves no room: 0 is sent
        assertEq(h.ghostBelowFloorAccepted(), 0, "the floor held");
        h.replay(0, 0);
        h.replay(1, 0);
        h.replay(2, 0);
        h.replay(3, 0);
        h.replayBatchNewVersion(0);
        h.submitExpired(0, 5, 0);
        h.submitExpired(2, 5, 1);
        h.signPendingRegistration(0, 1 ether, 10 minutes);
        h.warp(1 hours);
        h.submitPending(0); // now past its deadline

        // second registrations: a fresh payload for a registered (user, asset), a register call hitting one, and
        // the reload race (two payloads out; the first one sent wins)
        h.registerAgain(0, 3 ether);
        h.register(0, 0, 1 ether, 1 hours); // user 0 already registered in native
        h.signPendingRegistration(3, 2 ether, 1 hours);
        h.register(3, 0, 2 ether, 1 hours); // user 3's other payload lands first
        h.submitPending(0); // refused: user 3 is registered in native
        assertEq(h.calls("secondRegistrationRefused"), 3, "second registrations refused");

        // the TRON-like USDT: paused (payouts deferred to everyone, claims refused), then a fee, then blacklists
        h.flipUsdtSwitch(0); // pause
        uint256 deferredBefore = h.calls("deferred");
        h.executeBatch(1, 3, 11); // USDT
        assertGe(h.calls("deferred"), deferredBefore + 4, "every USDT entry deferred while paused");
        h.claim(3, 1); // first claimant owed USDT: refused while paused
        assertEq(h.calls("claimRefusedTokenBlocked"), 1, "claim refused while paused");
        h.register(0, 1, 1e6, 1 hours); // refused: paused
        h.flipUsdtSwitch(0); // unpause
        h.claim(3, 1); // now paid
        h.flipUsdtSwitch(3 | (1 << 2) | (4 << 3)); // fee on
        h.register(2, 1, 1e9, 1 hours); // refused: short inflow
        h.executeBatch(1, 2, 3); // paid, recipients bear the fee
        h.claim(3, 1);
        h.flipUsdtSwitch(3); // fee off
        h.flipUsdtSwitch(1); // blacklist the Settlement
        h.executeBatch(1, 2, 5); // deferred
        h.transferTreasury(1, 9); // refused: nothing can leave
        h.flipUsdtSwitch(1); // clear it
        h.flipUsdtSwitch(2); // blacklist user 0
        h.register(0, 1, 1e6, 1 hours); // refused: blacklisted sender
        h.register(3, 1, 1e6, 1 hours); // accepted: another user
        assertEq(h.calls("shortInflowRefused"), 3, "short inflows refused");
        assertEq(h.ghostShortInflowAccepted(), 0, "no short inflow accepted");

        assertGe(h.calls("batchExecuted"), 20, "batches executed");
        assertGe(h.calls("deferred"), 5, "hostile entries deferred");
        assertEq(h.calls("claim"), 5, "claims");
        assertEq(h.calls("replay"), 4, "replays");
        assertEq(
            h.ghostReplayAccepted() + h.ghostExpiredAccepted() + h.ghostOverdraftAccepted()
                + h.ghostSecondRegistrationAccepted(),
            0,
            "attacks refused"
        );
        assertEq(
            h.ghostValidRejected() + h.ghostWrongReplayError() + h.ghostDoubleAccepted() + h.ghostClaimFailed()
                + h.ghostWrongSecondRegistrationError(),
            0,
            "no false refusals"
        );
        assertEq(h.calls("secondRegistrationRefused"), 3, "no other second registration tried");
        for (uint256 j; j < h.userCount(); ++j) {
            for (uint256 i; i < 3; ++i) {
                address asset = h.assets(i);
                assertEq(views().isRegistered(h.userAt(j), asset), h.ghostRegistered(asset, h.userAt(j)), "registry");
            }
        }
        assertTrue(views().isRegistered(h.userAt(3), NATIVE), "user 3 registered in native once");
        for (uint256 i; i < 3; ++i) {
            address asset = h.assets(i);
            assertEq(_balance(asset, address(settlement)), h.ghostInflow(asset) - h.ghostOutflow(asset), "in - out");
        }
    }
}
