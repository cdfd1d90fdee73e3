// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {
    IAccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {SettlementFixture} from "./utils/SettlementFixture.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {UnorderedNonces} from "../src/UnorderedNonces.sol";
import {
    Registration,
    Retopup,
    Payout,
    PayoutBatch,
    TreasuryTransfer,
    SettlementConfig
} from "../src/SettlementTypes.sol";
import {ChangeKind} from "../src/DelayedChanges.sol";

/// @notice Inflows (register, retopup), authorisation, nonces, pausing, roles and signer rotation.
contract SettlementInflowTest is SettlementFixture {
    // ───────────── register / retopup happy paths ─────────────

    function test_register_native_takesExactValueAndEmitsRegistered() public {
        Registration memory r = _reg(alice, NATIVE, 1.5 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 2 ether);

        vm.expectEmit(address(settlement));
        emit Settlement.Registered(alice, sponsor, NATIVE, 1.5 ether, 1);
        vm.prank(alice);
        settlement.register{value: 1.5 ether}(r, sig);

        assertEq(address(settlement).balance, 1.5 ether, "custody");
        assertEq(alice.balance, 0.5 ether, "payer");
        assertTrue(settlement.isNonceUsed(1), "nonce spent");
        assertEq(views().available(NATIVE), 1.5 ether, "available");
    }

    function test_register_tronUsdt_isTakenByBalanceDeltaNotByReturnValues() public {
        Registration memory r = _reg(alice, address(usdt), 20_500_000, 2); // 20.5 USDT, 6 decimals
        bytes memory sig = _sign(r);
        _fund(alice, address(usdt), 25_000_000);
        // As on TRON mainnet, a successful transfer returns false and a successful transferFrom true.
        vm.prank(alice);
        assertFalse(usdt.transfer(bob, 1), "transfer returns false");
        vm.prank(alice);
        assertTrue(usdt.transferFrom(alice, carol, 0), "transferFrom returns true");

        vm.expectEmit(address(settlement));
        emit Settlement.Registered(alice, sponsor, address(usdt), 20_500_000, 2);
        vm.prank(alice);
        settlement.register(r, sig);

        assertEq(usdt.balanceOf(address(settlement)), 20_500_000, "custody");
        assertEq(usdt.balanceOf(alice), 25_000_000 - 20_500_000 - 1, "payer");
    }

    function test_register_erc20_18Decimals() public {
        Registration memory r = _reg(alice, address(erc20), 20.5e18, 3);
        bytes memory sig = _sign(r);
        _fund(alice, address(erc20), 20.5e18);

        vm.expectEmit(address(settlement));
        emit Settlement.Registered(alice, sponsor, address(erc20), 20.5e18, 3);
        vm.prank(alice);
        settlement.register(r, sig);

        assertEq(erc20.balanceOf(address(settlement)), 20.5e18, "custody");
        assertEq(erc20.balanceOf(alice), 0, "payer");
    }

    function test_retopup_native_takesExactValueAndEmitsRetopped() public {
        Retopup memory r = _top(alice, NATIVE, 0.2 ether, 10);
        bytes memory sig = _sign(r);
        vm.deal(alice, 0.2 ether);

        vm.expectEmit(address(settlement));
        emit Settlement.Retopped(alice, NATIVE, 0.2 ether, 10);
        vm.prank(alice);
        settlement.retopup{value: 0.2 ether}(r, sig);

        assertEq(address(settlement).balance, 0.2 ether, "custody");
        assertEq(alice.balance, 0, "payer");
        assertTrue(settlement.isNonceUsed(10), "nonce spent");
    }

    function test_retopup_tronUsdt_isTakenByBalanceDelta() public {
        Retopup memory r = _top(alice, address(usdt), 7_000_000, 11);
        bytes memory sig = _sign(r);
        _fund(alice, address(usdt), 7_000_000);

        vm.expectEmit(address(settlement));
        emit Settlement.Retopped(alice, address(usdt), 7_000_000, 11);
        vm.prank(alice);
        settlement.retopup(r, sig);

        assertEq(usdt.balanceOf(address(settlement)), 7_000_000, "custody");
        assertEq(usdt.balanceOf(alice), 0, "payer");
    }

    // ───────────── one registration per user and asset ─────────────

    /// @notice The defect of issue 26: a reload gets a second payload while the first is in flight; the wallet sends
    ///         both, and only the first may charge the fee.
    function test_register_twoPayloadsInFlightChargeTheFeeOnce_native() public {
        Registration memory first = _reg(alice, NATIVE, 20 ether, 1);
        Registration memory second = _reg(alice, NATIVE, 20 ether, 2);
        (bytes memory firstSig, bytes memory secondSig) = (_sign(first), _sign(second));
        vm.deal(alice, 40 ether);
        vm.prank(alice);
        settlement.register{value: 20 ether}(first, firstSig);

        vm.expectRevert(abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, alice, NATIVE));
        vm.prank(alice);
        settlement.register{value: 20 ether}(second, secondSig);

        assertEq(alice.balance, 20 ether, "second fee stays with the user");
        assertEq(address(settlement).balance, 20 ether, "custody took one fee");
        assertTrue(settlement.isNonceUsed(1), "first nonce spent");
        assertFalse(settlement.isNonceUsed(2), "second nonce not spent");
        assertTrue(views().isRegistered(alice, NATIVE), "registered");
    }

    function test_register_secondRegistrationInTheSameTokenIsRefusedBeforeTheTokenMoves() public {
        _doRegister(alice, address(erc20), 20e18, 1);
        Registration memory again = _reg(alice, address(erc20), 20e18, 2);
        bytes memory sig = _sign(again);
        erc20.mint(alice, 20e18);
        vm.prank(alice);
        erc20.approve(address(settlement), 20e18); // as the dApp does: exactly the fee

        vm.expectRevert(abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, alice, address(erc20)));
        vm.prank(alice);
        settlement.register(again, sig);

        assertEq(erc20.balanceOf(alice), 20e18, "second fee stays with the user");
        assertEq(erc20.allowance(alice, address(settlement)), 20e18, "allowance untouched: nothing was pulled");
        assertEq(erc20.balanceOf(address(settlement)), 20e18, "custody took one fee");
        assertFalse(settlement.isNonceUsed(2), "second nonce not spent");
    }

    /// @notice The same with TRON's USDT (6 decimals, false-returning transfer): refused before transferFrom.
    function test_register_secondRegistrationInTronUsdtIsRefusedBeforeTheTokenMoves() public {
        _doRegister(alice, address(usdt), 20e6, 1);
        Registration memory again = _reg(alice, address(usdt), 20e6, 2);
        bytes memory sig = _sign(again);
        usdt.mint(alice, 20e6);

        vm.expectRevert(abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, alice, address(usdt)));
        vm.prank(alice);
        settlement.register(again, sig);

        assertEq(usdt.balanceOf(alice), 20e6, "second fee stays with the user");
        assertEq(usdt.balanceOf(address(settlement)), 20e6, "custody took one fee");
        assertFalse(settlement.isNonceUsed(2), "second nonce not spent");
    }

    /// @notice Another asset is another registration: native, TRON USDT and the 18-decimal token each take one.
    function test_register_sameUserMayRegisterOnceInEachAsset() public {
        _doRegister(alice, NATIVE, 20 ether, 1);
        assertFalse(views().isRegistered(alice, address(usdt)), "not yet in usdt");
        _doRegister(alice, address(usdt), 20e6, 2);
        _doRegister(alice, address(erc20), 20e18, 3);

        assertTrue(views().isRegistered(alice, NATIVE), "native");
        assertTrue(views().isRegistered(alice, address(usdt)), "usdt");
        assertTrue(views().isRegistered(alice, address(erc20)), "erc20");
        assertEq(address(settlement).balance, 20 ether, "native fee");
        assertEq(usdt.balanceOf(address(settlement)), 20e6, "usdt fee");
        assertEq(erc20.balanceOf(address(settlement)), 20e18, "erc20 fee");
    }

    function test_register_anotherUserMayRegisterInTheSameAsset() public {
        _doRegister(alice, NATIVE, 20 ether, 1);
        assertFalse(views().isRegistered(bob, NATIVE), "bob not registered by alice's registration");
        _doRegister(bob, NATIVE, 20 ether, 2);
        assertTrue(views().isRegistered(alice, NATIVE) && views().isRegistered(bob, NATIVE), "both");
        assertEq(address(settlement).balance, 40 ether, "two fees");
    }

    /// @notice A registration that was refused (wrong value, short token inflow, bad signature, front-runner) does
    ///         not count: the user can still register.
    function test_register_refusedRegistrationLeavesTheUserFreeToRegister() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);
        vm.deal(bob, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongValue.selector, 1 ether, 0.5 ether));
        vm.prank(alice);
        settlement.register{value: 0.5 ether}(r, sig);
        _expectInvalidRegister(r, _signDigest(OTHER_KEY, _digestOf(r)));
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongSender.selector, alice, bob));
        vm.prank(bob);
        settlement.register{value: 1 ether}(r, sig);
        Registration memory fee = _reg(alice, address(feeToken), 100e18, 2);
        bytes memory feeSig = _sign(fee);
        _fund(alice, address(feeToken), 100e18);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 100e18, 99e18));
        vm.prank(alice);
        settlement.register(fee, feeSig);
        assertFalse(views().isRegistered(alice, NATIVE), "not registered in native");
        assertFalse(views().isRegistered(alice, address(feeToken)), "not registered in the fee token");

        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        assertTrue(views().isRegistered(alice, NATIVE), "registered");
        assertEq(address(settlement).balance, 1 ether, "paid once");
    }

    /// @notice Retopups need no registration on-chain (the ledger checks that) and never count as one.
    function test_retopup_isUnaffectedByRegistration() public {
        Retopup memory t = _top(alice, NATIVE, 1 ether, 1);
        bytes memory tSig = _sign(t);
        vm.deal(alice, 1 ether);
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(t, tSig);
        assertFalse(views().isRegistered(alice, NATIVE), "a retopup is no registration");

        _doRegister(alice, NATIVE, 20 ether, 2);
        for (uint256 nonce = 3; nonce < 5; ++nonce) {
            Retopup memory more = _top(alice, NATIVE, 1 ether, nonce);
            bytes memory sig = _sign(more);
            vm.deal(alice, 1 ether);
            vm.prank(alice);
            settlement.retopup{value: 1 ether}(more, sig);
        }
        assertEq(address(settlement).balance, 23 ether, "every retopup taken");
    }

    // ───────────── authorisation ─────────────

    function test_register_rejectsSignatureByAnotherKey() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _signDigest(OTHER_KEY, _digestOf(r));
        vm.deal(alice, 1 ether);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        assertFalse(settlement.isNonceUsed(1), "nonce untouched");
    }

    function test_retopup_rejectsSignatureByAnotherKey() public {
        Retopup memory r = _top(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _signDigest(OTHER_KEY, _digestOf(r));
        vm.deal(alice, 1 ether);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(r, sig);
    }

    function test_register_rejectsTamperedFields() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 10 ether);

        Registration memory t = _copy(r);
        t.amount = 0.5 ether; // pay less than signed
        _expectInvalidRegister(t, sig);
        t = _copy(r);
        t.sponsor = bob; // re-parent
        _expectInvalidRegister(t, sig);
        t = _copy(r);
        t.deadline += 1; // stretch the deadline
        _expectInvalidRegister(t, sig);
        t = _copy(r);
        t.nonce = 2; // move to an unspent nonce
        _expectInvalidRegister(t, sig);
        t = _copy(r);
        t.token = address(usdt); // switch the asset
        _expectInvalidRegister(t, sig);

        // the untampered payload still goes through
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        assertEq(address(settlement).balance, 1 ether, "custody");
    }

    function test_register_rejectsMalformedSignatures() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);

        bytes memory short = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            short[i] = sig[i];
        }
        _expectInvalidRegister(r, short);
        _expectInvalidRegister(r, "");
        _expectInvalidRegister(r, bytes.concat(sig, hex"00"));
        bytes memory badV = bytes.concat(sig);
        badV[64] = bytes1(uint8(29));
        _expectInvalidRegister(r, badV);
    }

    function test_register_rejectsHighSTwinOfValidSignature() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(SIGNER_KEY, _digestOf(r));
        bytes memory twin = abi.encodePacked(rr, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        // the twin recovers to the signer under plain ecrecover, so only the low-s rule can reject it
        assertEq(ecrecover(_digestOf(r), v == 27 ? 28 : 27, rr, bytes32(SECP256K1_N - uint256(s))), signerAddr, "twin");
        vm.deal(alice, 1 ether);
        _expectInvalidRegister(r, twin);

        vm.prank(alice);
        settlement.register{value: 1 ether}(r, abi.encodePacked(rr, s, v));
        assertTrue(settlement.isNonceUsed(1), "original accepted");
    }

    function test_register_rejectsExpiredPayload() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        r.deadline = block.timestamp - 1;
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.Expired.selector, r.deadline));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
    }

    function test_register_acceptedAtExactDeadlineAndRejectedOneSecondLater() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);

        vm.warp(r.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(Settlement.Expired.selector, r.deadline));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);

        vm.warp(r.deadline);
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        assertEq(address(settlement).balance, 1 ether, "accepted at deadline");
    }

    function test_retopup_rejectsExpiredPayload() public {
        Retopup memory r = _top(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);
        vm.warp(r.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(Settlement.Expired.selector, r.deadline));
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(r, sig);
    }

    function test_register_rejectsReusedNonce() public {
        _doRegister(alice, NATIVE, 1 ether, 42);
        // a second, correctly signed payload with the same nonce
        Registration memory again = _reg(bob, NATIVE, 1 ether, 42);
        bytes memory sig = _sign(again);
        vm.deal(bob, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 42));
        vm.prank(bob);
        settlement.register{value: 1 ether}(again, sig);
        assertEq(bob.balance, 1 ether, "bob kept his money");
    }

    function test_register_rejectsReplayOfSamePayload() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 5);
        bytes memory sig = _sign(r);
        vm.deal(alice, 2 ether);
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 5));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        assertEq(address(settlement).balance, 1 ether, "paid once");
    }

    function test_retopup_rejectsReusedNonce() public {
        Retopup memory r = _top(alice, NATIVE, 1 ether, 6);
        bytes memory sig = _sign(r);
        vm.deal(alice, 2 ether);
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(r, sig);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 6));
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(r, sig);
    }

    /// @dev Nonces are one space shared by every payload kind.
    function test_nonces_areOneSpaceAcrossPayloadKinds() public {
        uint256 n = 777;
        _doRegister(alice, NATIVE, 3 ether, n);

        Retopup memory t = _top(alice, NATIVE, 1 ether, n);
        bytes memory tSig = _sign(t);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, n));
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(t, tSig);

        PayoutBatch memory b = _batch(NATIVE, _payouts2(bob, 1 ether, carol, 1 ether), n);
        bytes memory bSig = _sign(b);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, n));
        vm.prank(operator);
        settlement.executePayoutBatch(b, bSig);

        TreasuryTransfer memory tt = _tt(NATIVE, treasurer, 1 ether, n);
        bytes memory ttSig = _sign(tt);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, n));
        vm.prank(treasurer);
        settlement.transferTreasury(tt, ttSig);

        assertEq(address(settlement).balance, 3 ether, "nothing moved");
    }

    function test_register_rejectsFrontRunnerSubmittingSomeoneElsesPayload() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(bob, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongSender.selector, alice, bob));
        vm.prank(bob);
        settlement.register{value: 1 ether}(r, sig);
        assertFalse(settlement.isNonceUsed(1), "alice's nonce not burnt by bob");
        assertFalse(views().isRegistered(alice, NATIVE), "alice not registered by bob");
    }

    function test_retopup_rejectsFrontRunnerSubmittingSomeoneElsesPayload() public {
        Retopup memory r = _top(alice, address(usdt), 1e6, 1);
        bytes memory sig = _sign(r);
        _fund(bob, address(usdt), 1e6);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongSender.selector, alice, bob));
        vm.prank(bob);
        settlement.retopup(r, sig);
        assertEq(usdt.balanceOf(bob), 1e6, "bob not charged");
    }

    // ───────────── value and token checks ─────────────

    function test_register_native_rejectsWrongMsgValue() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 5 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongValue.selector, 1 ether, 1 ether - 1));
        vm.prank(alice);
        settlement.register{value: 1 ether - 1}(r, sig);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongValue.selector, 1 ether, 2 ether));
        vm.prank(alice);
        settlement.register{value: 2 ether}(r, sig);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongValue.selector, 1 ether, 0));
        vm.prank(alice);
        settlement.register(r, sig);
    }

    function test_retopup_native_rejectsWrongMsgValue() public {
        Retopup memory r = _top(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 5 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongValue.selector, 1 ether, 3 ether));
        vm.prank(alice);
        settlement.retopup{value: 3 ether}(r, sig);
    }

    function test_register_token_rejectsAnyMsgValue() public {
        Registration memory r = _reg(alice, address(usdt), 1e6, 1);
        bytes memory sig = _sign(r);
        _fund(alice, address(usdt), 1e6);
        vm.deal(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongValue.selector, 0, 1));
        vm.prank(alice);
        settlement.register{value: 1}(r, sig);
    }

    function test_retopup_token_rejectsAnyMsgValue() public {
        Retopup memory r = _top(alice, address(usdt), 1e6, 1);
        bytes memory sig = _sign(r);
        _fund(alice, address(usdt), 1e6);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongValue.selector, 0, 1 ether));
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(r, sig);
    }

    function test_register_rejectsTokenNotAllowed() public {
        Registration memory r = _reg(alice, address(blToken), 1e18, 1);
        bytes memory sig = _sign(r);
        _fund(alice, address(blToken), 1e18);
        vm.expectRevert(abi.encodeWithSelector(Settlement.TokenNotAllowed.selector, address(blToken)));
        vm.prank(alice);
        settlement.register(r, sig);
    }

    function test_retopup_rejectsTokenNotAllowed() public {
        Retopup memory r = _top(alice, address(blToken), 1e18, 1);
        bytes memory sig = _sign(r);
        _fund(alice, address(blToken), 1e18);
        vm.expectRevert(abi.encodeWithSelector(Settlement.TokenNotAllowed.selector, address(blToken)));
        vm.prank(alice);
        settlement.retopup(r, sig);
    }

    function test_disallowToken_stopsInflowsAtOnceAndAllowingAgainWaitsTheDelay() public {
        vm.expectEmit(address(settlement));
        emit Settlement.TokenAllowed(NATIVE, false);
        vm.prank(admin);
        settlement.disallowToken(NATIVE);
        assertFalse(views().isAllowedToken(NATIVE), "flag");

        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(Settlement.TokenNotAllowed.selector, NATIVE));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);

        assertTrue(views().wasEverAllowed(NATIVE), "still known: its liabilities may be committed");

        vm.prank(admin);
        settlement.scheduleTokenAllowance(NATIVE);
        vm.expectRevert(abi.encodeWithSelector(Settlement.TokenNotAllowed.selector, NATIVE));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        _allowTokenNow(settlement, address(blToken)); // the delay passes (and another token's allowance applies)
        bytes32 id = settlement.changeId(ChangeKind.TokenAllowance, abi.encode(NATIVE));
        vm.prank(admin);
        settlement.applyChange(id);
        r = _reg(alice, NATIVE, 1 ether, 2);
        sig = _sign(r);
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        assertEq(address(settlement).balance, 1 ether, "re-allowed");
    }

    function test_register_rejectsFeeOnTransferToken() public {
        Registration memory r = _reg(alice, address(feeToken), 100e18, 1);
        bytes memory sig = _sign(r);
        _fund(alice, address(feeToken), 100e18);
        // 1% fee: 99e18 arrives
        vm.expectRevert(abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 100e18, 99e18));
        vm.prank(alice);
        settlement.register(r, sig);
        assertEq(feeToken.balanceOf(alice), 100e18, "refused whole");
    }

    function test_retopup_rejectsFeeOnTransferToken() public {
        Retopup memory r = _top(alice, address(feeToken), 50e18, 1);
        bytes memory sig = _sign(r);
        _fund(alice, address(feeToken), 50e18);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 50e18, 49.5e18));
        vm.prank(alice);
        settlement.retopup(r, sig);
    }

    function test_register_rejectsWhenTransferFromFails() public {
        Registration memory r = _reg(alice, address(usdt), 1e6, 1);
        bytes memory sig = _sign(r);
        usdt.mint(alice, 1e6); // no approval: the token reverts
        vm.expectRevert(abi.encodeWithSelector(Settlement.InboundTransferMismatch.selector, 1e6, 0));
        vm.prank(alice);
        settlement.register(r, sig);
    }

    // ───────────── pause ─────────────

    function test_pause_blocksEveryActionButClaims() public {
        _seed(NATIVE, 10 ether, 900);
        vm.prank(pauser);
        settlement.pause();
        assertTrue(settlement.paused(), "paused");

        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory rSig = _sign(r);
        vm.deal(alice, 2 ether);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, rSig);

        Retopup memory t = _top(alice, NATIVE, 1 ether, 2);
        bytes memory tSig = _sign(t);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(t, tSig);

        PayoutBatch memory b = _batch(NATIVE, _payouts2(bob, 1 ether, carol, 1 ether), 3);
        bytes memory bSig = _sign(b);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, bSig);

        TreasuryTransfer memory tt = _tt(NATIVE, treasurer, 1 ether, 4);
        bytes memory ttSig = _sign(tt);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(treasurer);
        settlement.transferTreasury(tt, ttSig);

        // a member's claim is not stopped by a pause (SettlementGuarantees: claims while paused); alice has none
        vm.expectRevert(Settlement.NothingToClaim.selector);
        vm.prank(alice);
        settlement.claim(NATIVE, alice);

        // unpausing (a pauser at once, the admin only after the delay) restores service with the same signed payloads
        vm.prank(pauser);
        settlement.unpause();
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, rSig);
        vm.prank(operator);
        settlement.executePayoutBatch(b, bSig);
        assertEq(bob.balance, 1 ether, "batch after unpause");
        assertEq(address(settlement).balance, 9 ether, "custody");
    }

    // ───────────── roles ─────────────

    function _expectUnauthorized(address account, bytes32 role) internal {
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role));
    }

    function test_adminActions_rejectNonAdmin() public {
        bytes32 adminRole = settlement.DEFAULT_ADMIN_ROLE();
        address[3] memory outsiders = [operator, pauser, alice];
        for (uint256 i; i < outsiders.length; ++i) {
            address who = outsiders[i];
            vm.startPrank(who);
            _expectUnauthorized(who, adminRole);
            settlement.scheduleSignerRotation(who);
            _expectUnauthorized(who, adminRole);
            settlement.scheduleTokenAllowance(address(blToken));
            _expectUnauthorized(who, adminRole);
            settlement.disallowToken(NATIVE);
            _expectUnauthorized(who, adminRole);
            settlement.cancelNonces(0, 1);
            _expectUnauthorized(who, adminRole);
            settlement.schedulePushGas(200_000, 200_000);
            _expectUnauthorized(who, adminRole);
            settlement.scheduleRoleChange(keccak256("OPERATOR_ROLE"), who, true);
            _expectUnauthorized(who, adminRole);
            settlement.applyChange(bytes32(0));
            _expectUnauthorized(who, adminRole);
            settlement.cancelChange(bytes32(0));
            _expectUnauthorized(who, adminRole);
            settlement.scheduleUnpause();
            vm.expectRevert(
                abi.encodeWithSelector(Settlement.RoleChangeNeedsDelay.selector, keccak256("OPERATOR_ROLE"))
            );
            settlement.grantRole(keccak256("OPERATOR_ROLE"), who);
            vm.stopPrank();
        }
        assertEq(views().signer(), signerAddr, "signer unchanged");
        assertFalse(settlement.isNonceUsed(0), "nonce untouched");
        assertEq(views().tokenPushGas(), TOKEN_PUSH_GAS, "push gas unchanged");
    }

    function test_pause_rejectsNonPauserIncludingAdmin() public {
        bytes32 role = settlement.PAUSER_ROLE();
        _expectUnauthorized(alice, role);
        vm.prank(alice);
        settlement.pause();
        _expectUnauthorized(admin, role);
        vm.prank(admin);
        settlement.pause();
        assertFalse(settlement.paused(), "not paused");
    }

    function test_executePayoutBatch_rejectsNonOperator() public {
        _seed(NATIVE, 2 ether, 900);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(bob, 1 ether, carol, 1 ether), 1);
        bytes memory sig = _sign(b);
        address[3] memory outsiders = [admin, treasurer, bob];
        for (uint256 i; i < outsiders.length; ++i) {
            _expectUnauthorized(outsiders[i], settlement.OPERATOR_ROLE());
            vm.prank(outsiders[i]);
            settlement.executePayoutBatch(b, sig);
        }
        assertEq(bob.balance, 0, "not paid");
    }

    function test_transferTreasury_rejectsNonTreasurer() public {
        _seed(NATIVE, 2 ether, 900);
        TreasuryTransfer memory t = _tt(NATIVE, alice, 1 ether, 1);
        bytes memory sig = _sign(t);
        address[3] memory outsiders = [admin, operator, alice];
        for (uint256 i; i < outsiders.length; ++i) {
            _expectUnauthorized(outsiders[i], settlement.TREASURER_ROLE());
            vm.prank(outsiders[i]);
            settlement.transferTreasury(t, sig);
        }
        assertEq(alice.balance, 0, "not paid");
    }

    function test_roles_adminHandsOverToAMultisigOnlyAfterTheDelay() public {
        address multisig = makeAddr("multisig");
        bytes32 adminRole = settlement.DEFAULT_ADMIN_ROLE();
        uint48 delay = settlement.defaultAdminDelay();
        uint48 schedule = uint48(block.timestamp) + delay;

        vm.expectEmit(address(settlement));
        emit IAccessControlDefaultAdminRules.DefaultAdminTransferScheduled(multisig, schedule);
        vm.prank(admin);
        settlement.beginDefaultAdminTransfer(multisig);
        (address pending, uint48 at) = settlement.pendingDefaultAdmin();
        assertEq(pending, multisig, "pending admin");
        assertEq(at, schedule, "accept schedule");

        // not before the delay has passed, not even at its last second
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, at)
        );
        vm.prank(multisig);
        settlement.acceptDefaultAdminTransfer();
        vm.warp(schedule);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, at)
        );
        vm.prank(multisig);
        settlement.acceptDefaultAdminTransfer();
        assertTrue(settlement.hasRole(adminRole, admin), "old admin keeps the role during the delay");

        vm.warp(schedule + 1);
        vm.prank(multisig);
        settlement.acceptDefaultAdminTransfer();
        assertEq(settlement.defaultAdmin(), multisig, "multisig is the admin");
        assertTrue(settlement.hasRole(adminRole, multisig), "multisig admin");
        assertFalse(settlement.hasRole(adminRole, admin), "old admin lost the role");
        _expectUnauthorized(admin, adminRole);
        vm.prank(admin);
        settlement.scheduleSignerRotation(alice);
        vm.prank(multisig);
        bytes32 id = settlement.scheduleSignerRotation(alice);
        vm.warp(block.timestamp + settlement.changeDelay());
        vm.prank(multisig);
        settlement.applyChange(id);
        assertEq(views().signer(), alice, "multisig rotated");
    }

    function test_roles_onlyThePendingAdminCanAccept() public {
        address multisig = makeAddr("multisig");
        vm.prank(admin);
        settlement.beginDefaultAdminTransfer(multisig);
        vm.warp(block.timestamp + settlement.defaultAdminDelay() + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, alice)
        );
        vm.prank(alice);
        settlement.acceptDefaultAdminTransfer();
        assertEq(settlement.defaultAdmin(), admin, "admin unchanged");
    }

    /// @notice A transfer begun with a stolen admin key can be cancelled by the admin during the delay.
    function test_roles_adminTransferBegunWithAStolenKeyIsCancelledWithinTheDelay() public {
        address thief = makeAddr("thief");
        vm.prank(admin); // the stolen key
        settlement.beginDefaultAdminTransfer(thief);

        vm.warp(block.timestamp + 1 days);
        vm.expectEmit(address(settlement));
        emit IAccessControlDefaultAdminRules.DefaultAdminTransferCanceled();
        vm.prank(admin); // the rightful holder, who noticed the scheduled transfer
        settlement.cancelDefaultAdminTransfer();

        vm.warp(block.timestamp + settlement.defaultAdminDelay() + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, thief)
        );
        vm.prank(thief);
        settlement.acceptDefaultAdminTransfer();
        assertEq(settlement.defaultAdmin(), admin, "admin unchanged");
        assertFalse(settlement.hasRole(settlement.DEFAULT_ADMIN_ROLE(), thief), "thief not admin");
    }

    function test_roles_defaultAdminCannotBeGrantedRevokedOrRenouncedDirectly() public {
        bytes32 adminRole = settlement.DEFAULT_ADMIN_ROLE();
        address multisig = makeAddr("multisig");
        vm.startPrank(admin);
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        settlement.grantRole(adminRole, multisig);
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        settlement.revokeRole(adminRole, admin);
        // renouncing needs a scheduled transfer to address(0) whose delay has passed
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, 0)
        );
        settlement.renounceRole(adminRole, admin);
        vm.stopPrank();
        assertFalse(settlement.hasRole(adminRole, multisig), "not granted");
        assertTrue(settlement.hasRole(adminRole, admin), "not revoked or renounced");
        assertEq(settlement.defaultAdmin(), admin, "admin unchanged");
    }

    function test_roles_onlyTheAdminCanBeginCancelOrChangeTheDelay() public {
        bytes32 adminRole = settlement.DEFAULT_ADMIN_ROLE();
        address[3] memory outsiders = [operator, pauser, alice];
        for (uint256 i; i < outsiders.length; ++i) {
            address who = outsiders[i];
            vm.startPrank(who);
            _expectUnauthorized(who, adminRole);
            settlement.beginDefaultAdminTransfer(who);
            _expectUnauthorized(who, adminRole);
            settlement.cancelDefaultAdminTransfer();
            vm.expectRevert(abi.encodeWithSelector(Settlement.InvalidBound.selector, "defaultAdminDelay"));
            settlement.changeDefaultAdminDelay(0);
            vm.stopPrank();
        }
        // nor the admin itself: the transfer's delay is the members' window to leave (issue 65)
        vm.expectRevert(abi.encodeWithSelector(Settlement.InvalidBound.selector, "defaultAdminDelay"));
        vm.prank(admin);
        settlement.changeDefaultAdminDelay(0);
        (address pending,) = settlement.pendingDefaultAdmin();
        assertEq(pending, address(0), "nothing pending");
        assertEq(settlement.defaultAdminDelay(), 3 days, "delay unchanged");
    }

    /// @notice Operator, treasurer and pauser roles are granted and revoked by the admin only through a change that
    ///         waits the delay; grantRole and revokeRole refuse them.
    function test_roles_operatorTreasurerAndPauserChangeOnlyAfterTheDelay() public {
        bytes32[3] memory roles = [settlement.OPERATOR_ROLE(), settlement.TREASURER_ROLE(), settlement.PAUSER_ROLE()];
        for (uint256 i; i < roles.length; ++i) {
            assertEq(settlement.getRoleAdmin(roles[i]), settlement.DEFAULT_ADMIN_ROLE(), "admin grants it");
            vm.expectRevert(abi.encodeWithSelector(Settlement.RoleChangeNeedsDelay.selector, roles[i]));
            vm.prank(admin);
            settlement.grantRole(roles[i], carol);
            vm.expectRevert(abi.encodeWithSelector(Settlement.RoleChangeNeedsDelay.selector, roles[i]));
            vm.prank(admin);
            settlement.revokeRole(roles[i], operator);
            _grantNow(settlement, roles[i], carol);
            assertTrue(settlement.hasRole(roles[i], carol), "granted after the delay");
        }
        vm.prank(carol);
        settlement.pause();
        assertTrue(settlement.paused(), "new pauser paused");
        vm.prank(carol);
        settlement.unpause();

        _revokeNow(settlement, roles[0], operator);
        _seed(NATIVE, 2 ether, 900);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(bob, 1 ether, alice, 1 ether), 1);
        bytes memory sig = _sign(b);
        _expectUnauthorized(operator, roles[0]);
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
        vm.prank(carol);
        settlement.executePayoutBatch(b, sig);
        assertEq(bob.balance, 1 ether, "new operator executed");
    }

    // ───────────── signer rotation and nonce cancellation ─────────────

    function test_rotateSigner_rejectsOldKeyAndAcceptsNewKey() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory oldSig = _sign(r);
        address newSigner = vm.addr(OTHER_KEY);

        vm.prank(admin);
        bytes32 id = settlement.scheduleSignerRotation(newSigner);
        assertEq(views().signer(), signerAddr, "the old key signs during the delay");
        vm.warp(block.timestamp + settlement.changeDelay());
        r.deadline = block.timestamp + 1 hours;
        oldSig = _sign(r);
        vm.expectEmit(address(settlement));
        emit Settlement.SignerRotated(signerAddr, newSigner);
        vm.prank(admin);
        settlement.applyChange(id);
        assertEq(views().signer(), newSigner, "signer");

        vm.deal(alice, 1 ether);
        _expectInvalidRegister(r, oldSig);
        bytes memory newSig = _signDigest(OTHER_KEY, _digestOf(r));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, newSig);
        assertEq(address(settlement).balance, 1 ether, "new key accepted");
    }

    function test_rotateSigner_rejectsZeroAddress() public {
        vm.expectRevert(Settlement.ZeroAddress.selector);
        vm.prank(admin);
        settlement.scheduleSignerRotation(address(0));
    }

    function test_cancelNonces_burnsOutstandingPayloadsAndEmits() public {
        uint256 nonce = (3 << 8) | 17;
        Registration memory r = _reg(alice, NATIVE, 1 ether, nonce);
        bytes memory sig = _sign(r);
        uint256 mask = (1 << 17) | (1 << 255);

        vm.expectEmit(address(settlement));
        emit UnorderedNonces.NoncesCancelled(3, mask);
        vm.prank(admin);
        settlement.cancelNonces(3, mask);
        assertEq(settlement.nonceBitmap(3), mask, "bitmap");
        assertTrue(settlement.isNonceUsed((3 << 8) | 255), "bit 255 burnt");
        assertFalse(settlement.isNonceUsed((3 << 8) | 16), "neighbour free");

        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, nonce));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
    }

    function test_cancelNonces_neverUnspendsAUsedNonce() public {
        _doRegister(alice, NATIVE, 1 ether, 5);
        vm.prank(admin);
        settlement.cancelNonces(0, 1 << 5); // cancelling an already-used nonce keeps it used
        assertTrue(settlement.isNonceUsed(5), "still used");
        assertEq(settlement.nonceBitmap(0), 1 << 5, "bitmap");
    }

    // ───────────── push gas caps ─────────────

    function test_setPushGas_adminSetsBothCapsAndEmitsOldAndNew() public {
        vm.prank(admin);
        bytes32 id = settlement.schedulePushGas(30_000, 200_000);
        vm.warp(block.timestamp + settlement.changeDelay());
        vm.expectEmit(address(settlement));
        emit Settlement.PushGasSet(NATIVE_PUSH_GAS, 30_000, TOKEN_PUSH_GAS, 200_000);
        vm.prank(admin);
        settlement.applyChange(id);
        assertEq(views().nativePushGas(), 30_000, "native cap");
        assertEq(views().tokenPushGas(), 200_000, "token cap");
    }

    function test_setPushGas_refusesZeroTooLowAndAbsurdCapsAndKeepsTheOldOnes() public {
        uint256[4] memory bad = [uint256(0), 9_999, 1_000_001, type(uint256).max];
        vm.startPrank(admin);
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(Settlement.PushGasOutOfBounds.selector, bad[i], 10_000, 1_000_000));
            settlement.schedulePushGas(bad[i], 100_000);
            vm.expectRevert(abi.encodeWithSelector(Settlement.PushGasOutOfBounds.selector, bad[i], 10_000, 1_000_000));
            settlement.schedulePushGas(50_000, bad[i]);
        }
        vm.stopPrank();
        assertEq(views().nativePushGas(), NATIVE_PUSH_GAS, "native cap kept");
        assertEq(views().tokenPushGas(), TOKEN_PUSH_GAS, "token cap kept");
    }

    function test_setPushGas_acceptsTheBoundsThemselves() public {
        _setPushGasNow(settlement, 10_000, 1_000_000);
        assertEq(views().nativePushGas(), 10_000, "lower bound");
        assertEq(views().tokenPushGas(), 1_000_000, "upper bound");
        _setPushGasNow(settlement, 1_000_000, 10_000);
        assertEq(views().nativePushGas(), 1_000_000, "upper bound");
        assertEq(views().tokenPushGas(), 10_000, "lower bound");
    }

    function test_setPushGas_rejectsOperatorTreasurerAndPauser() public {
        bytes32 adminRole = settlement.DEFAULT_ADMIN_ROLE();
        address[3] memory roleHolders = [operator, treasurer, pauser];
        for (uint256 i; i < roleHolders.length; ++i) {
            _expectUnauthorized(roleHolders[i], adminRole);
            vm.prank(roleHolders[i]);
            settlement.schedulePushGas(200_000, 200_000);
        }
        assertEq(views().nativePushGas(), NATIVE_PUSH_GAS, "native cap kept");
    }

    function test_constructor_refusesPushGasOutOfBounds() public {
        SettlementConfig memory c = _config(new address[](0));
        c.nativePushGas = 0;
        vm.expectRevert(abi.encodeWithSelector(Settlement.PushGasOutOfBounds.selector, 0, 10_000, 1_000_000));
        new Settlement(c);
        (c.nativePushGas, c.tokenPushGas) = (NATIVE_PUSH_GAS, 1e18);
        vm.expectRevert(abi.encodeWithSelector(Settlement.PushGasOutOfBounds.selector, 1e18, 10_000, 1_000_000));
        new Settlement(c);
    }

    // ───────────── constructor ─────────────

    function test_constructor_rejectsZeroAdminOrSigner() public {
        SettlementConfig memory c = _config(new address[](0));
        c.admin = address(0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, address(0)
            )
        );
        new Settlement(c);
        (c.admin, c.signer) = (admin, address(0));
        vm.expectRevert(Settlement.ZeroAddress.selector);
        new Settlement(c);
        c.signer = signerAddr;
        c.operators = _one(address(0));
        vm.expectRevert(Settlement.ZeroAddress.selector);
        new Settlement(c);
        c.operators = _one(operator);
        c.maxAsOfLag = 0;
        vm.expectRevert(abi.encodeWithSelector(Settlement.InvalidBound.selector, "maxAsOfLag"));
        new Settlement(c);
        (c.maxAsOfLag, c.treasuryCommitmentMaxAge) = (MAX_AS_OF_LAG, 0);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InvalidBound.selector, "treasuryCommitmentMaxAge"));
        new Settlement(c);
    }

    function test_constructor_setsRolesTokensAndGasCaps() public view {
        assertTrue(settlement.hasRole(settlement.DEFAULT_ADMIN_ROLE(), admin), "admin");
        assertEq(settlement.defaultAdmin(), admin, "default admin");
        assertEq(settlement.defaultAdminDelay(), 3 days, "admin transfer delay");
        assertFalse(settlement.hasRole(settlement.DEFAULT_ADMIN_ROLE(), address(this)), "deployer not admin");
        assertEq(views().signer(), signerAddr, "signer");
        assertTrue(views().isAllowedToken(NATIVE), "native allowed");
        assertTrue(views().isAllowedToken(address(usdt)), "usdt allowed");
        assertFalse(views().isAllowedToken(address(blToken)), "bl not allowed");
        assertEq(views().nativePushGas(), NATIVE_PUSH_GAS, "native cap");
        assertEq(views().tokenPushGas(), TOKEN_PUSH_GAS, "token cap");
        assertTrue(settlement.hasRole(settlement.OPERATOR_ROLE(), operator), "operator");
        assertTrue(settlement.hasRole(settlement.TREASURER_ROLE(), treasurer), "treasurer");
        assertTrue(settlement.hasRole(settlement.PAUSER_ROLE(), pauser), "pauser");
        assertEq(settlement.changeDelay(), DELAY, "change delay");
        assertEq(settlement.maxAsOfLag(), MAX_AS_OF_LAG, "as-of lag");
        assertEq(settlement.treasuryCommitmentMaxAge(), TREASURY_MAX_AGE, "treasury commitment age");
        assertEq(settlement.pendingChanges().length, 0, "nothing pending");
    }

    function test_constructor_emitsSignerTokenAndPushGasEvents() public {
        address[] memory allowed = new address[](1);
        allowed[0] = address(usdt);
        vm.expectEmit();
        emit Settlement.SignerRotated(address(0), signerAddr);
        vm.expectEmit();
        emit Settlement.TokenAllowed(address(usdt), true);
        vm.expectEmit();
        emit Settlement.PushGasSet(0, NATIVE_PUSH_GAS, 0, TOKEN_PUSH_GAS);
        new Settlement(_config(allowed));
    }

    // ───────────── helpers ─────────────

    function _digestOf(Registration memory r) internal view returns (bytes32) {
        return settlement.hashTypedData(_structHash(r));
    }

    function _digestOf(Retopup memory r) internal view returns (bytes32) {
        return settlement.hashTypedData(
            keccak256(abi.encode(settlement.RETOPUP_TYPEHASH(), r.user, r.token, r.amount, r.nonce, r.deadline))
        );
    }

    function _structHash(Registration memory r) internal view returns (bytes32) {
        return keccak256(
            abi.encode(settlement.REGISTRATION_TYPEHASH(), r.user, r.sponsor, r.token, r.amount, r.nonce, r.deadline)
        );
    }

    function _copy(Registration memory r) internal pure returns (Registration memory) {
        return Registration(r.user, r.sponsor, r.token, r.amount, r.nonce, r.deadline);
    }

    function _expectInvalidRegister(Registration memory r, bytes memory sig) internal {
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(r.user);
        settlement.register{value: r.token == NATIVE ? r.amount : 0}(r, sig);
    }
}
