// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "./utils/SettlementFixture.sol";
import {EIP712Reference} from "./utils/EIP712Reference.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {UnorderedNonces} from "../src/UnorderedNonces.sol";
import {Registration, Retopup, Payout, PayoutBatch, TreasuryTransfer} from "../src/SettlementTypes.sol";
import {Vm} from "./utils/Vm.sol";
import {RevertingRecipient} from "./mocks/HostileRecipients.sol";

/// @notice Fuzzed amounts, nonces, batch shapes and deadlines.
contract SettlementFuzzTest is SettlementFixture {
    // ───────────── amounts ─────────────

    function testFuzz_register_nativeTakesExactlyTheSignedAmount(uint256 amount) public {
        amount = bound(amount, 0, 1e32);
        _doRegister(alice, NATIVE, amount, 1);
        assertEq(address(settlement).balance, amount, "custody");
        assertEq(alice.balance, 0, "payer");
        assertEq(views().available(NATIVE), amount, "available");
    }

    function testFuzz_register_tronUsdtTakesExactlyTheSignedAmount(uint256 amount) public {
        amount = bound(amount, 0, 1e30);
        _doRegister(alice, address(usdt), amount, 1);
        assertEq(usdt.balanceOf(address(settlement)), amount, "custody");
        assertEq(usdt.balanceOf(alice), 0, "payer");
    }

    function testFuzz_retopup_nativeAndTokenTakeExactlyTheSignedAmount(uint256 amount, bool native) public {
        amount = bound(amount, 0, 1e32);
        address token = native ? NATIVE : address(usdt);
        Retopup memory r = _top(alice, token, amount, 9);
        bytes memory sig = _sign(r);
        _fund(alice, token, amount);
        vm.expectEmit(address(settlement));
        emit Settlement.Retopped(alice, token, amount, 9);
        vm.prank(alice);
        settlement.retopup{value: native ? amount : 0}(r, sig);
        assertEq(_balance(token, address(settlement)), amount, "custody");
        assertEq(_balance(token, alice), 0, "payer");
    }

    function testFuzz_register_nativeRejectsAnyOtherValue(uint256 amount, uint256 value) public {
        amount = bound(amount, 0, 1e32);
        value = bound(value, 0, 1e32);
        vm.assume(value != amount);
        Registration memory r = _reg(alice, NATIVE, amount, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, value);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongValue.selector, amount, value));
        vm.prank(alice);
        settlement.register{value: value}(r, sig);
    }

    function testFuzz_register_rejectsAnyAmountOtherThanSigned(uint256 signed, uint256 paid) public {
        signed = bound(signed, 0, 1e30);
        paid = bound(paid, 0, 1e30);
        vm.assume(signed != paid);
        Registration memory r = _reg(alice, address(usdt), signed, 1);
        bytes memory sig = _sign(r);
        r.amount = paid;
        _fund(alice, address(usdt), paid);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(alice);
        settlement.register(r, sig);
    }

    // ───────────── one registration per user and asset ─────────────

    /// @dev Two users and three assets, so fuzzed pairs often coincide.
    function _pair(uint256 seed) internal view returns (address user, address asset, uint256 unit) {
        user = seed % 2 == 0 ? alice : bob;
        uint256 pick = (seed >> 1) % 3;
        asset = pick == 0 ? NATIVE : pick == 1 ? address(usdt) : address(erc20);
        unit = pick == 0 ? 1 ether : pick == 1 ? 1e6 : 1e18;
    }

    /// @notice After one registration, another is accepted iff it is another user or another asset; a refused one
    ///         moves nothing and spends no nonce.
    function testFuzz_register_secondAcceptedIffAnotherUserOrAsset(
        uint256 firstSeed,
        uint256 secondSeed,
        uint256 firstFee,
        uint256 secondFee
    ) public {
        (address user1, address asset1, uint256 unit1) = _pair(firstSeed);
        (address user2, address asset2, uint256 unit2) = _pair(secondSeed);
        firstFee = bound(firstFee, 0, 1e6 * unit1);
        secondFee = bound(secondFee, 0, 1e6 * unit2);
        _doRegister(user1, asset1, firstFee, 1);

        Registration memory r = _reg(user2, asset2, secondFee, 2);
        bytes memory sig = _sign(r);
        _fund(user2, asset2, secondFee);
        uint256 payerBefore = _balance(asset2, user2);
        uint256 custodyBefore = _balance(asset2, address(settlement));
        bool same = user1 == user2 && asset1 == asset2;
        if (same) vm.expectRevert(abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, user2, asset2));
        vm.prank(user2);
        settlement.register{value: asset2 == NATIVE ? secondFee : 0}(r, sig);

        uint256 charged = same ? 0 : secondFee;
        assertEq(_balance(asset2, user2), payerBefore - charged, "payer charged iff accepted");
        assertEq(_balance(asset2, address(settlement)), custodyBefore + charged, "custody took it iff accepted");
        assertEq(settlement.isNonceUsed(2), !same, "nonce spent iff accepted");
        assertTrue(views().isRegistered(user1, asset1) && views().isRegistered(user2, asset2), "both marked");
    }

    /// @notice No second registration in the same asset gets through, whatever its amount, sponsor or nonce.
    function testFuzz_register_secondInTheSameAssetAlwaysRefused(
        uint256 fee,
        address otherSponsor,
        uint256 nonceSeed,
        bool native
    ) public {
        address asset = native ? NATIVE : address(usdt);
        fee = bound(fee, 0, 1e30);
        _doRegister(alice, asset, 20e6, 0);
        uint256 nonce = _edgyNonce(nonceSeed);
        vm.assume(nonce != 0);

        Registration memory r = _reg(alice, asset, fee, nonce);
        r.sponsor = otherSponsor;
        bytes memory sig = _sign(r);
        _fund(alice, asset, fee);
        vm.expectRevert(abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, alice, asset));
        vm.prank(alice);
        settlement.register{value: native ? fee : 0}(r, sig);

        assertEq(_balance(asset, alice), fee, "payer keeps the second fee");
        assertEq(_balance(asset, address(settlement)), 20e6, "custody holds the first fee only");
        assertFalse(settlement.isNonceUsed(nonce), "nonce not spent");
    }

    // ───────────── nonces ─────────────

    /// @dev Biases a fuzzed nonce to the word edges (bit 0, 255, and the 255/256 crossing) half of the time.
    function _edgyNonce(uint256 seed) internal pure returns (uint256) {
        uint256 word = (seed >> 8) % (1 << 200);
        uint256 pick = seed % 8;
        if (pick == 0) return word << 8; // bit 0
        if (pick == 1) return (word << 8) | 255; // bit 255
        if (pick == 2) return 255;
        if (pick == 3) return 256;
        if (pick == 4) return type(uint256).max;
        return seed;
    }

    function testFuzz_nonce_spendsExactlyItsOwnBitOnce(uint256 seed) public {
        uint256 nonce = _edgyNonce(seed);
        uint256 word = nonce >> 8;
        uint256 bit = nonce & 0xff;
        _doRegister(alice, NATIVE, 1 ether, nonce);

        assertTrue(settlement.isNonceUsed(nonce), "spent");
        assertEq(settlement.nonceBitmap(word), 1 << bit, "exactly one bit in its word");
        if (bit == 255 && word < type(uint256).max >> 8) {
            assertEq(settlement.nonceBitmap(word + 1), 0, "next word untouched");
            assertFalse(settlement.isNonceUsed(nonce + 1), "nonce + 1 free");
        }
        if (bit == 0 && word > 0) {
            assertEq(settlement.nonceBitmap(word - 1), 0, "previous word untouched");
            assertFalse(settlement.isNonceUsed(nonce - 1), "nonce - 1 free");
        }

        Retopup memory again = _top(alice, NATIVE, 1 ether, nonce);
        bytes memory sig = _sign(again);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, nonce));
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(again, sig);
    }

    function test_nonce_wordBoundary255And256AreIndependent() public {
        _doRegister(alice, NATIVE, 1 ether, 255);
        assertEq(settlement.nonceBitmap(0), 1 << 255, "word 0 top bit");
        assertEq(settlement.nonceBitmap(1), 0, "word 1 empty");
        assertFalse(settlement.isNonceUsed(256), "256 free");
        _doRegister(bob, NATIVE, 1 ether, 256);
        assertEq(settlement.nonceBitmap(1), 1, "word 1 bit 0");
        assertEq(settlement.nonceBitmap(0), 1 << 255, "word 0 unchanged");
        _doRegister(carol, NATIVE, 1 ether, 254);
        assertEq(settlement.nonceBitmap(0), (1 << 255) | (1 << 254), "word 0 two bits");
    }

    function testFuzz_nonce_twoDistinctNoncesAreIndependent(uint256 a, uint256 b) public {
        a = _edgyNonce(a);
        b = _edgyNonce(b);
        vm.assume(a != b);
        _doRegister(alice, NATIVE, 1 ether, a);
        assertFalse(settlement.isNonceUsed(b), "b free after a");
        _doRegister(bob, NATIVE, 1 ether, b);
        assertTrue(settlement.isNonceUsed(a) && settlement.isNonceUsed(b), "both spent");
        assertEq(address(settlement).balance, 2 ether, "both paid");
    }

    // ───────────── batches ─────────────

    function testFuzz_batch_paysEveryEntryOfAnySizeAndShape(uint256 n, uint256 seed) public {
        n = bound(n, 0, 40);
        Payout[] memory p = new Payout[](n);
        for (uint256 i; i < n; ++i) {
            // a few repeated recipients: the backend sums per user, but the contract must cope either way
            uint256 who = uint256(keccak256(abi.encode(seed, i))) % (n + 3);
            p[i] = Payout(_eoa(who), uint256(keccak256(abi.encode(seed, i, "amt"))) % 1e24);
        }
        PayoutBatch memory b = _batch(NATIVE, p, 5);
        vm.deal(address(settlement), b.total + 1 ether);
        uint256[] memory before = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            before[i] = p[i].recipient.balance;
        }

        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(5, NATIVE, EIP712Reference.hashPayouts(p), b.total, n, 0, 0);
        _execute(b);

        assertEq(address(settlement).balance, 1 ether, "custody lost exactly the total");
        // every recipient gained exactly the sum of its entries
        for (uint256 i; i < n; ++i) {
            uint256 due;
            for (uint256 j; j < n; ++j) {
                if (p[j].recipient == p[i].recipient) due += p[j].amount;
            }
            assertEq(p[i].recipient.balance, before[i] + due, "entries paid");
        }
        assertEq(views().totalClaimable(NATIVE), 0, "nothing deferred");
    }

    /// @dev Distinct plain accounts, well above the precompiles.
    function _eoa(uint256 i) internal pure returns (address) {
        return address(bytes20(keccak256(abi.encode("eoa", i))));
    }

    /// @dev The push loops stop at a failed entry and resume after it: whatever the positions of the failures
    ///      (first, last, runs of them), exactly the failing entries are deferred, with their own index and amount.
    function testFuzz_batch_exactlyTheFailingEntriesAreDeferredWherever(uint256 n, uint256 failMask, bool token)
        public
    {
        n = bound(n, 1, 24);
        address asset = token ? address(blToken) : NATIVE;
        Payout[] memory p = new Payout[](n);
        uint256 failedTotal;
        uint256 failedCount;
        for (uint256 i; i < n; ++i) {
            bool fails = (failMask >> i) & 1 == 1;
            address who = _eoa(100 + i);
            if (fails && token) blToken.setBlacklisted(who, true);
            if (fails && !token) who = address(new RevertingRecipient());
            p[i] = Payout(who, 1e6 + i);
            if (fails) {
                failedTotal += p[i].amount;
                ++failedCount;
            }
        }
        PayoutBatch memory b = _batch(asset, p, 5);
        if (token) blToken.mint(address(settlement), b.total);
        else vm.deal(address(settlement), b.total);

        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(
            5, asset, EIP712Reference.hashPayouts(p), b.total, n, failedCount, failedTotal
        );
        vm.recordLogs();
        _execute(b);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 seen;
        for (uint256 k; k < logs.length; ++k) {
            if (logs[k].emitter != address(settlement) || logs[k].topics[0] != Settlement.PayoutDeferred.selector) {
                continue;
            }
            (uint256 index, uint256 amount) = abi.decode(logs[k].data, (uint256, uint256));
            assertTrue((failMask >> index) & 1 == 1, "only failing entries deferred");
            assertEq(address(uint160(uint256(logs[k].topics[2]))), p[index].recipient, "deferred recipient");
            assertEq(amount, p[index].amount, "deferred amount");
            ++seen;
        }
        assertEq(seen, failedCount, "every failing entry deferred once");
        for (uint256 i; i < n; ++i) {
            bool fails = (failMask >> i) & 1 == 1;
            assertEq(_balance(asset, p[i].recipient), fails ? 0 : p[i].amount, "paid unless failing");
            assertEq(views().claimable(asset, p[i].recipient), fails ? p[i].amount : 0, "claim iff failing");
        }
        assertEq(views().totalClaimable(asset), failedTotal, "total claimable");
        assertEq(_balance(asset, address(settlement)), failedTotal, "custody keeps exactly the claims");
    }

    function testFuzz_batch_tokenPaysAnyAmounts(uint256 a, uint256 c) public {
        a = bound(a, 0, 1e30);
        c = bound(c, 0, 1e30);
        PayoutBatch memory b = _batch(address(usdt), _payouts2(alice, a, carol, c), 5);
        usdt.mint(address(settlement), a + c);
        _execute(b);
        assertEq(usdt.balanceOf(alice), a, "alice");
        assertEq(usdt.balanceOf(carol), c, "carol");
        assertEq(usdt.balanceOf(address(settlement)), 0, "custody");
    }

    function testFuzz_batch_anyShortfallRevertsWhole(uint256 total, uint256 shortBy) public {
        total = bound(total, 1, 1e30);
        shortBy = bound(shortBy, 1, total);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, total / 2, bob, total - total / 2), 5);
        vm.deal(address(settlement), total - shortBy);
        bytes memory sig = _sign(b);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InsufficientFunds.selector, total - shortBy, total));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
    }

    function testFuzz_batch_anyWrongTotalRejected(uint256 x, uint256 y, uint256 claimed) public {
        x = bound(x, 0, 1e30);
        y = bound(y, 0, 1e30);
        vm.assume(claimed != x + y);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, x, bob, y), 5);
        b.total = claimed;
        bytes memory sig = _sign(b);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BatchTotalMismatch.selector, claimed, x + y));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
    }

    // ───────────── deadlines ─────────────

    /// @dev For every payload kind: accepted iff block.timestamp <= deadline.
    function testFuzz_deadline_expiredAlwaysRejectedOthersAccepted(uint256 deadline, uint8 kind) public {
        deadline = bound(deadline, block.timestamp - 3 days, block.timestamp + 3 days);
        kind = uint8(bound(kind, 0, 3));
        bool expired = block.timestamp > deadline;
        _seed(NATIVE, 10 ether, 900);
        vm.deal(alice, 1 ether);
        if (kind == 3) _commitTotal(NATIVE, 0); // a treasury transfer needs a recent commitment

        if (expired) vm.expectRevert(abi.encodeWithSelector(Settlement.Expired.selector, deadline));
        if (kind == 0) {
            Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
            r.deadline = deadline;
            bytes memory sig = _sign(r);
            vm.prank(alice);
            settlement.register{value: 1 ether}(r, sig);
        } else if (kind == 1) {
            Retopup memory r = _top(alice, NATIVE, 1 ether, 1);
            r.deadline = deadline;
            bytes memory sig = _sign(r);
            vm.prank(alice);
            settlement.retopup{value: 1 ether}(r, sig);
        } else if (kind == 2) {
            PayoutBatch memory b = _batch(NATIVE, _payouts2(bob, 1 ether, carol, 0), 1);
            b.deadline = deadline;
            bytes memory sig = _sign(b);
            vm.prank(operator);
            settlement.executePayoutBatch(b, sig);
        } else {
            TreasuryTransfer memory t = _tt(NATIVE, carol, 1 ether, 1);
            t.deadline = deadline;
            bytes memory sig = _sign(t);
            vm.prank(treasurer);
            settlement.transferTreasury(t, sig);
        }
        assertEq(settlement.isNonceUsed(1), !expired, "spent iff accepted");
    }

    function testFuzz_deadline_signedPayloadDiesAfterItsDeadline(uint256 wait) public {
        wait = bound(wait, 1, 3650 days);
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);
        vm.warp(r.deadline + wait);
        vm.expectRevert(abi.encodeWithSelector(Settlement.Expired.selector, r.deadline));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
    }
}
