// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {SettlementFixture} from "./utils/SettlementFixture.sol";
import {EIP712Reference} from "./utils/EIP712Reference.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {TestUSDT} from "../src/dev/TestUSDT.sol";
import {Registration, Retopup, Payout, PayoutBatch, TreasuryTransfer} from "../src/SettlementTypes.sol";

/// @notice The contract against TRON USDT's owner switches (pause, blacklist, transfer fee), using the devnet's
///         TestUSDT: whatever the token does, nothing is lost, a batch is never blocked by it, refusals are clean
///         (nonce kept, funds where they were), and custody keeps covering what recipients can claim.
contract SettlementTronUsdtTest is SettlementFixture {
    function setUp() public override {
        super.setUp();
        _seed(address(usdt), 100e6, 900);
    }

    function _assertCovered() internal view {
        assertGe(usdt.balanceOf(address(settlement)), views().totalClaimable(address(usdt)), "custody >= claims");
    }

    // ───────────── paused token ─────────────

    function test_tronUsdt_pausedTokenDefersEveryPayoutWithoutBlockingTheBatch() public {
        usdt.pause();
        Payout[] memory p = _payouts2(alice, 30e6, bob, 45e6);
        PayoutBatch memory b = _batch(address(usdt), p, 1);

        vm.expectEmit(address(settlement));
        emit Settlement.PayoutDeferred(1, alice, address(usdt), 0, 30e6);
        vm.expectEmit(address(settlement));
        emit Settlement.PayoutDeferred(1, bob, address(usdt), 1, 45e6);
        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(1, address(usdt), EIP712Reference.hashPayouts(p), 75e6, 2, 2, 75e6);
        _execute(b);

        assertEq(usdt.balanceOf(address(settlement)), 100e6, "custody kept every deferred amount");
        assertEq(views().claimable(address(usdt), alice), 30e6, "alice claim");
        assertEq(views().claimable(address(usdt), bob), 45e6, "bob claim");
        assertEq(views().available(address(usdt)), 25e6, "available excludes the claims");
        _assertCovered();

        usdt.unpause();
        vm.prank(alice);
        settlement.claim(address(usdt), alice);
        assertEq(usdt.balanceOf(alice), 30e6, "alice claimed after unpause");
        _assertCovered();
    }

    function test_tronUsdt_pausedTokenRefusesRegistrationAndRetopupCleanly() public {
        usdt.pause();
        Registration memory r = _reg(alice, address(usdt), 20e6, 1);
        bytes memory rSig = _sign(r);
        _fund(alice, address(usdt), 40e6);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 20e6, 0));
        vm.prank(alice);
        settlement.register(r, rSig);

        Retopup memory t = _top(alice, address(usdt), 20e6, 2);
        bytes memory tSig = _sign(t);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 20e6, 0));
        vm.prank(alice);
        settlement.retopup(t, tSig);

        assertFalse(settlement.isNonceUsed(1) || settlement.isNonceUsed(2), "nonces kept");
        assertEq(usdt.balanceOf(alice), 40e6, "payer keeps her funds");
        assertEq(usdt.balanceOf(address(settlement)), 100e6, "custody unchanged");
        assertFalse(views().isRegistered(alice, address(usdt)), "a refused registration does not count");

        usdt.unpause(); // the same signed payload goes through once the token runs again
        vm.prank(alice);
        settlement.register(r, rSig);
        assertEq(usdt.balanceOf(address(settlement)), 120e6, "registered after unpause");
    }

    /// @notice A second registration is refused before the token is asked for anything: with the token paused it
    ///         still says AlreadyRegistered, not InboundTransferMismatch; once unpaused, it is refused all the same.
    function test_tronUsdt_secondRegistrationIsRefusedBeforeTheTokenIsCalled() public {
        _doRegister(alice, address(usdt), 20e6, 1);
        Registration memory again = _reg(alice, address(usdt), 20e6, 2);
        bytes memory sig = _sign(again);
        usdt.mint(alice, 20e6);
        usdt.pause();
        vm.expectRevert(abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, alice, address(usdt)));
        vm.prank(alice);
        settlement.register(again, sig);

        usdt.unpause();
        vm.expectRevert(abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, alice, address(usdt)));
        vm.prank(alice);
        settlement.register(again, sig);
        assertEq(usdt.balanceOf(alice), 20e6, "second fee stays with the user");
        assertEq(usdt.balanceOf(address(settlement)), 120e6, "custody: the seed and one fee");
        assertFalse(settlement.isNonceUsed(2), "second nonce not spent");
    }

    function test_tronUsdt_pausedTokenMakesClaimAndTreasuryRevertCleanly() public {
        usdt.pause();
        _execute(_batch(address(usdt), _payouts2(alice, 30e6, bob, 0), 1)); // alice's 30 become claimable

        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        vm.prank(alice);
        settlement.claim(address(usdt), alice);
        assertEq(views().claimable(address(usdt), alice), 30e6, "claim intact");
        assertEq(views().totalClaimable(address(usdt)), 30e6, "total intact");

        _commitTotal(address(usdt), 0);
        TreasuryTransfer memory t = _tt(address(usdt), treasurer, 10e6, 2);
        bytes memory sig = _sign(t);
        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
        assertFalse(settlement.isNonceUsed(2), "treasury nonce kept");
        assertEq(usdt.balanceOf(address(settlement)), 100e6, "custody unchanged");
        _assertCovered();
    }

    // ───────────── blacklist ─────────────

    /// @notice TRON USDT blacklists senders: with the Settlement blacklisted, nothing can leave custody, so every
    ///         payout is deferred and claims and treasury transfers revert, while users can still pay in.
    function test_tronUsdt_blacklistedSettlementDefersPayoutsAndRefusesOutflows() public {
        usdt.addBlackList(address(settlement));
        _execute(_batch(address(usdt), _payouts2(alice, 30e6, bob, 45e6), 1));
        assertEq(views().totalClaimable(address(usdt)), 75e6, "both deferred");
        assertEq(usdt.balanceOf(address(settlement)), 100e6, "custody kept them");

        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        vm.prank(alice);
        settlement.claim(address(usdt), alice);

        _commitTotal(address(usdt), 0);
        TreasuryTransfer memory t = _tt(address(usdt), treasurer, 25e6, 2);
        bytes memory sig = _sign(t);
        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);

        _doRegister(carol, address(usdt), 5e6, 3); // inflows still work: carol is the sender
        assertEq(usdt.balanceOf(address(settlement)), 105e6, "inflow accepted");
        _assertCovered();

        usdt.removeBlackList(address(settlement));
        vm.prank(alice);
        settlement.claim(address(usdt), alice);
        assertEq(usdt.balanceOf(alice), 30e6, "claimed once cleared");
        _assertCovered();
    }

    /// @notice A blacklisted user cannot pay in (refused cleanly); being paid is not blocked by TRON USDT.
    function test_tronUsdt_blacklistedUserCannotRegisterButCanStillBePaid() public {
        usdt.addBlackList(alice);
        Registration memory r = _reg(alice, address(usdt), 20e6, 1);
        bytes memory sig = _sign(r);
        _fund(alice, address(usdt), 20e6);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 20e6, 0));
        vm.prank(alice);
        settlement.register(r, sig);
        assertFalse(settlement.isNonceUsed(1), "nonce kept");
        assertEq(usdt.balanceOf(alice), 20e6, "her funds untouched");

        _execute(_batch(address(usdt), _payouts2(alice, 30e6, bob, 0), 2));
        assertEq(usdt.balanceOf(alice), 50e6, "paid");
        assertEq(views().totalClaimable(address(usdt)), 0, "nothing deferred");
    }

    // ───────────── fee switch ─────────────

    /// @notice With the fee on, what arrives is short of the signed amount: register and retopup are refused.
    function test_tronUsdt_feeSwitchOnRefusesShortInflows() public {
        usdt.setParams(10, 40); // 0.1%, at most 40 USDT
        uint256 fee = usdt.calcFee(20_500_000);
        assertEq(fee, 20_500, "fee");

        Registration memory r = _reg(alice, address(usdt), 20_500_000, 1);
        bytes memory rSig = _sign(r);
        _fund(alice, address(usdt), 41_000_000);
        vm.expectRevert(
            abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 20_500_000, 20_500_000 - fee)
        );
        vm.prank(alice);
        settlement.register(r, rSig);

        Retopup memory t = _top(alice, address(usdt), 20_500_000, 2);
        bytes memory tSig = _sign(t);
        vm.expectRevert(
            abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 20_500_000, 20_500_000 - fee)
        );
        vm.prank(alice);
        settlement.retopup(t, tSig);

        assertFalse(settlement.isNonceUsed(1) || settlement.isNonceUsed(2), "nonces kept");
        assertEq(usdt.balanceOf(alice), 41_000_000, "payer keeps her funds");
        assertEq(usdt.balanceOf(address(settlement)), 100e6, "custody unchanged");
    }

    /// @notice With the fee on, an outflow still takes exactly its amount out of custody (the sender pays the
    ///         fee out of the amount): custody accounting stays exact and the recipient bears the token's fee.
    function test_tronUsdt_feeSwitchOnOutflowsTakeExactlyTheirAmountFromCustody() public {
        usdt.setParams(10, 40);
        address owner = address(this);
        uint256 ownerBefore = usdt.balanceOf(owner);
        _execute(_batch(address(usdt), _payouts2(alice, 30e6, bob, 45e6), 1));
        assertEq(usdt.balanceOf(address(settlement)), 25e6, "custody fell by the batch total");
        assertEq(usdt.balanceOf(alice), 30e6 - usdt.calcFee(30e6), "alice bears the fee");
        assertEq(usdt.balanceOf(bob), 45e6 - usdt.calcFee(45e6), "bob bears the fee");
        assertEq(usdt.balanceOf(owner) - ownerBefore, usdt.calcFee(30e6) + usdt.calcFee(45e6), "fees to owner");
        assertEq(views().totalClaimable(address(usdt)), 0, "nothing deferred");

        _commitTotal(address(usdt), 0);
        TreasuryTransfer memory t = _tt(address(usdt), treasurer, 25e6, 2);
        bytes memory sig = _sign(t);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
        assertEq(usdt.balanceOf(address(settlement)), 0, "treasury took exactly its amount");
    }

    // ───────────── push gas cap on TRON-like transfers ─────────────

    /// @notice The TRON cap story on the EVM: with a token cap between what a transfer to an existing holder and
    ///         one to a fresh address cost, holders are paid (each false return checked against custody) and
    ///         fresh addresses are deferred, wherever they sit in the batch.
    function test_tronUsdt_capBetweenHolderAndFreshTransferCostDefersOnlyFreshAddresses() public {
        address[4] memory who = [makeAddr("holder1"), makeAddr("fresh1"), makeAddr("holder2"), makeAddr("fresh2")];
        usdt.mint(who[0], 1);
        usdt.mint(who[2], 1);
        _setPushGasNow(settlement, NATIVE_PUSH_GAS, 22_000); // a fresh balance slot alone costs 22_100
        Payout[] memory p = new Payout[](4);
        for (uint256 i; i < 4; ++i) {
            p[i] = Payout(who[i], (i + 1) * 1e6);
        }
        PayoutBatch memory b = _batch(address(usdt), p, 1);

        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(1, address(usdt), EIP712Reference.hashPayouts(p), 10e6, 4, 2, 6e6);
        _execute(b);
        assertEq(usdt.balanceOf(who[0]), 1 + 1e6, "holder1 paid");
        assertEq(usdt.balanceOf(who[2]), 1 + 3e6, "holder2 paid");
        assertEq(views().claimable(address(usdt), who[1]), 2e6, "fresh1 deferred");
        assertEq(views().claimable(address(usdt), who[3]), 4e6, "fresh2 deferred");
        assertEq(usdt.balanceOf(address(settlement)), 96e6, "custody = seed - paid");
        _assertCovered();
    }

    // ───────────── the token's own switches ─────────────

    function test_testUsdt_onlyTheOwnerFlipsItsSwitchesAndFeesAreBounded() public {
        bytes memory notOwner = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, alice);
        vm.startPrank(alice);
        vm.expectRevert(notOwner);
        usdt.pause();
        vm.expectRevert(notOwner);
        usdt.addBlackList(bob);
        vm.expectRevert(notOwner);
        usdt.setParams(1, 1);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(TestUSDT.FeeParamsTooHigh.selector, 20, 1));
        usdt.setParams(20, 1);
        vm.expectRevert(abi.encodeWithSelector(TestUSDT.FeeParamsTooHigh.selector, 1, 50));
        usdt.setParams(1, 50);
        assertFalse(usdt.paused() || usdt.isBlackListed(bob), "switches untouched");
        assertEq(usdt.basisPointsRate() + usdt.maximumFee(), 0, "fee off");
    }
}
