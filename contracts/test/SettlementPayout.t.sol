// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {SettlementFixture} from "./utils/SettlementFixture.sol";
import {Vm} from "./utils/Vm.sol";
import {EIP712Reference} from "./utils/EIP712Reference.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {UnorderedNonces} from "../src/UnorderedNonces.sol";
import {Payout, PayoutBatch, TreasuryTransfer, SettlementConfig, SettlementHashes} from "../src/SettlementTypes.sol";
import {
    RevertingRecipient,
    GasBurningRecipient,
    ReentrantRecipient,
    StoringRecipient
} from "./mocks/HostileRecipients.sol";

/// @notice Payout batches, hostile recipients, claims and treasury transfers.
contract SettlementPayoutTest is SettlementFixture {
    RevertingRecipient internal reverter;
    GasBurningRecipient internal burner;

    function setUp() public override {
        super.setUp();
        reverter = new RevertingRecipient();
        burner = new GasBurningRecipient();
    }

    // ───────────── happy paths ─────────────

    function test_batch_native_paysEveryRecipientAndEmitsExecuted() public {
        _seed(NATIVE, 10 ether, 900);
        Payout[] memory p = new Payout[](3);
        p[0] = Payout(alice, 1 ether);
        p[1] = Payout(bob, 2 ether);
        p[2] = Payout(carol, 3 ether);
        PayoutBatch memory b = _batch(NATIVE, p, 1);
        bytes memory sig = _sign(b);

        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(1, NATIVE, EIP712Reference.hashPayouts(p), 6 ether, 3, 0, 0);
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);

        assertEq(alice.balance, 1 ether, "alice");
        assertEq(bob.balance, 2 ether, "bob");
        assertEq(carol.balance, 3 ether, "carol");
        assertEq(address(settlement).balance, 4 ether, "custody");
        assertTrue(settlement.isNonceUsed(1), "batch nonce spent");
        assertEq(views().totalClaimable(NATIVE), 0, "nothing deferred");
    }

    function test_batch_tronUsdt_falseReturningTransfersArePaidNotDeferred() public {
        _seed(address(usdt), 100e6, 900);
        PayoutBatch memory b = _batch(address(usdt), _payouts2(alice, 30e6, bob, 45e6), 1);

        vm.recordLogs();
        _execute(b);
        assertEq(_count(vm.getRecordedLogs(), Settlement.PayoutDeferred.selector), 0, "no deferrals");
        assertEq(usdt.balanceOf(alice), 30e6, "alice");
        assertEq(usdt.balanceOf(bob), 45e6, "bob");
        assertEq(usdt.balanceOf(address(settlement)), 25e6, "custody");
        assertEq(views().totalClaimable(address(usdt)), 0, "claimable");
    }

    function test_batch_erc20_paysEveryRecipient() public {
        _seed(address(erc20), 10e18, 900);
        PayoutBatch memory b = _batch(address(erc20), _payouts2(alice, 4e18, bob, 6e18), 1);
        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(1, address(erc20), EIP712Reference.hashPayouts(b.payouts), 10e18, 2, 0, 0);
        _execute(b);
        assertEq(erc20.balanceOf(alice), 4e18, "alice");
        assertEq(erc20.balanceOf(bob), 6e18, "bob");
        assertEq(erc20.balanceOf(address(settlement)), 0, "custody");
    }

    function test_batch_emptyBatchSpendsItsNonce() public {
        PayoutBatch memory b = _batch(NATIVE, new Payout[](0), 3);
        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(3, NATIVE, keccak256(""), 0, 0, 0, 0);
        _execute(b);
        assertTrue(settlement.isNonceUsed(3), "spent");
    }

    // ───────────── revert paths ─────────────

    function test_batch_rejectsTotalMismatch() public {
        _seed(NATIVE, 10 ether, 900);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, 1 ether, bob, 2 ether), 1);
        b.total = 2 ether; // signed total disagrees with the entries
        bytes memory sig = _sign(b);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BatchTotalMismatch.selector, 2 ether, 3 ether));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
    }

    function test_batch_rejectsEntrySumOverflow() public {
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, 1, bob, 0), 1);
        b.payouts[1].amount = type(uint256).max;
        b.total = 0; // the wrapped sum
        bytes memory sig = _sign(b);
        vm.expectRevert(SettlementHashes.PayoutSumOverflow.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
    }

    /// @notice An entry paying the Settlement itself (wherever it sits) refuses the whole batch before anything is
    ///         paid: on TRON the push would abort the transaction, on BSC it would lock the amount as a claim of
    ///         the contract's own that nobody can make.
    function test_batch_entryPayingTheSettlementRefusesTheBatchBeforeAnyPush() public {
        _seed(NATIVE, 10 ether, 900);
        for (uint256 at; at < 3; ++at) {
            Payout[] memory p = new Payout[](3);
            p[0] = Payout(alice, 1 ether);
            p[1] = Payout(bob, 1 ether);
            p[2] = Payout(carol, 1 ether);
            p[at].recipient = address(settlement);
            PayoutBatch memory b = _batch(NATIVE, p, 1);
            bytes memory sig = _sign(b);
            vm.expectRevert(Settlement.SelfPayment.selector);
            vm.prank(operator);
            settlement.executePayoutBatch(b, sig);
        }
        assertEq(alice.balance + bob.balance + carol.balance, 0, "nobody paid");
        assertEq(address(settlement).balance, 10 ether, "custody intact");
        assertEq(views().totalClaimable(NATIVE), 0, "no claim of its own");
        assertFalse(settlement.isNonceUsed(1), "nonce kept");
    }

    function test_batch_tokenEntryPayingTheSettlementRefusesTheBatch() public {
        _seed(address(usdt), 10e6, 900);
        PayoutBatch memory b = _batch(address(usdt), _payouts2(alice, 1e6, address(settlement), 2e6), 1);
        bytes memory sig = _sign(b);
        vm.expectRevert(Settlement.SelfPayment.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
        assertEq(usdt.balanceOf(alice), 0, "nobody paid");
        assertEq(views().totalClaimable(address(usdt)), 0, "no claim of its own");
    }

    /// @dev The hash loop handles entries in pairs after an odd one: a self-payment or an overflow is caught at
    ///      any position of a batch of any length, and a self-payment is reported even when the sum also overflows.
    function testFuzz_batch_selfPaymentAndSumOverflowCaughtAtAnyPosition(uint256 n, uint256 at, bool overflow) public {
        n = bound(n, 1, 9);
        at = bound(at, 0, n - 1);
        Payout[] memory p = new Payout[](n);
        for (uint256 i; i < n; ++i) {
            p[i] = Payout(address(bytes20(keccak256(abi.encode("entry", i)))), 1);
        }
        if (overflow && n > 1) p[n - 1 - at].amount = type(uint256).max;
        PayoutBatch memory b = _batch(NATIVE, new Payout[](0), 1);
        b.payouts = p;
        unchecked {
            for (uint256 i; i < n; ++i) {
                b.total += p[i].amount; // the wrapped sum, if it overflows
            }
        }
        vm.deal(address(settlement), 100);

        if (overflow && n > 1) {
            bytes memory sig = _sign(b);
            vm.expectRevert(SettlementHashes.PayoutSumOverflow.selector);
            vm.prank(operator);
            settlement.executePayoutBatch(b, sig);
        }
        p[at].recipient = address(settlement);
        bytes memory selfSig = _sign(b);
        vm.expectRevert(Settlement.SelfPayment.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, selfSig);
    }

    function test_batch_insufficientFundsRevertsWholeAndKeepsNonce() public {
        _seed(NATIVE, 2 ether, 900);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, 1 ether, bob, 1 ether + 1), 1);
        bytes memory sig = _sign(b);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InsufficientFunds.selector, 2 ether, 2 ether + 1));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
        assertEq(alice.balance, 0, "first entry not paid");
        assertFalse(settlement.isNonceUsed(1), "nonce kept for a retry");

        _seed(NATIVE, 1, 901); // top up custody by one wei: the same signed batch now executes
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
        assertEq(bob.balance, 1 ether + 1, "paid after top-up");
    }

    function test_batch_tokenInsufficientFundsRevertsWhole() public {
        _seed(address(usdt), 5e6, 900);
        PayoutBatch memory b = _batch(address(usdt), _payouts2(alice, 3e6, bob, 3e6), 1);
        bytes memory sig = _sign(b);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InsufficientFunds.selector, 5e6, 6e6));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
        assertEq(usdt.balanceOf(alice), 0, "not paid");
    }

    function test_batch_cannotSpendWhatRecipientsCanClaim() public {
        _seed(NATIVE, 10 ether, 900);
        _execute(_batch(NATIVE, _payouts2(address(reverter), 4 ether, alice, 1 ether), 1));
        assertEq(views().totalClaimable(NATIVE), 4 ether, "claimable");
        assertEq(views().available(NATIVE), 5 ether, "available");

        PayoutBatch memory b = _batch(NATIVE, _payouts2(bob, 5 ether, carol, 1), 2);
        bytes memory sig = _sign(b);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InsufficientFunds.selector, 5 ether, 5 ether + 1));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
    }

    function test_batch_rejectsReplay() public {
        _seed(NATIVE, 10 ether, 900);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, 1 ether, bob, 1 ether), 1);
        bytes memory sig = _sign(b);
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 1));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
        assertEq(alice.balance, 1 ether, "paid once");
    }

    function test_batch_rejectsOtherVersionOfAnExecutedBatch() public {
        _seed(NATIVE, 10 ether, 900);
        _execute(_batch(NATIVE, _payouts2(alice, 1 ether, bob, 1 ether), 1));
        // a differently composed batch signed with the same nonce can never execute
        PayoutBatch memory v2 = _batch(NATIVE, _payouts2(alice, 2 ether, carol, 1 ether), 1);
        bytes memory sig = _sign(v2);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 1));
        vm.prank(operator);
        settlement.executePayoutBatch(v2, sig);
        assertEq(carol.balance, 0, "v2 not paid");
    }

    function test_batch_rejectsExpired() public {
        _seed(NATIVE, 10 ether, 900);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, 1 ether, bob, 1 ether), 1);
        bytes memory sig = _sign(b);
        vm.warp(b.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(Settlement.Expired.selector, b.deadline));
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
    }

    function test_batch_rejectsBadSignerAndTamperedEntries() public {
        _seed(NATIVE, 10 ether, 900);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, 1 ether, bob, 1 ether), 1);
        bytes memory good = _sign(b);
        bytes memory bad = _signDigest(OTHER_KEY, EIP712Reference.digest(_domain(), EIP712Reference.hash(b)));
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, bad);

        // redirect one entry, keeping the total: the payouts hash changes
        b.payouts[1].recipient = carol;
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, good);

        // reorder the entries: EIP-712 arrays are ordered
        b.payouts[1].recipient = bob;
        (b.payouts[0], b.payouts[1]) = (b.payouts[1], b.payouts[0]);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, good);
        assertEq(carol.balance + bob.balance + alice.balance, 0, "nobody paid");
    }

    // ───────────── hostile recipients ─────────────

    function test_batch_revertingAndGasBurningRecipientsAreDeferredOthersPaid() public {
        _seed(NATIVE, 20 ether, 900);
        Payout[] memory p = new Payout[](5);
        p[0] = Payout(alice, 1 ether);
        p[1] = Payout(address(reverter), 2 ether);
        p[2] = Payout(bob, 3 ether);
        p[3] = Payout(address(burner), 4 ether);
        p[4] = Payout(carol, 5 ether);
        PayoutBatch memory b = _batch(NATIVE, p, 7);
        bytes memory sig = _sign(b);

        vm.expectEmit(address(settlement));
        emit Settlement.PayoutDeferred(7, address(reverter), NATIVE, 1, 2 ether);
        vm.expectEmit(address(settlement));
        emit Settlement.PayoutDeferred(7, address(burner), NATIVE, 3, 4 ether);
        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(7, NATIVE, EIP712Reference.hashPayouts(p), 15 ether, 5, 2, 6 ether);
        vm.prank(operator);
        settlement.executePayoutBatch{gas: 1_000_000}(b, sig);

        assertEq(alice.balance, 1 ether, "alice");
        assertEq(bob.balance, 3 ether, "bob");
        assertEq(carol.balance, 5 ether, "carol");
        assertEq(address(reverter).balance, 0, "reverter unpaid");
        assertEq(address(burner).balance, 0, "burner unpaid");
        assertEq(views().claimable(NATIVE, address(reverter)), 2 ether, "reverter claim");
        assertEq(views().claimable(NATIVE, address(burner)), 4 ether, "burner claim");
        assertEq(views().totalClaimable(NATIVE), 6 ether, "total claimable");
        assertEq(address(settlement).balance, 11 ether, "custody holds the claims");
        assertEq(views().available(NATIVE), 5 ether, "available");
    }

    function test_batch_gasBurnerCostsAtMostTheCap() public {
        _seed(NATIVE, 2 ether, 900);
        Payout[] memory p = new Payout[](1);
        p[0] = Payout(address(burner), 1 ether);
        PayoutBatch memory b = _batch(NATIVE, p, 1);
        bytes memory sig = _sign(b);
        vm.prank(operator);
        uint256 before = gasleft();
        settlement.executePayoutBatch(b, sig);
        uint256 used = before - gasleft();
        // cap + stipend + the deferral's storage writes and the batch overhead (the exit's running hash included);
        // never the whole gas limit
        assertLt(used, NATIVE_PUSH_GAS + 2300 + 125_000, "bounded by the cap");
        assertEq(views().claimable(NATIVE, address(burner)), 1 ether, "deferred");
    }

    function test_batch_tokenBlacklistedRecipientIsDeferredOthersPaid() public {
        blToken.mint(address(settlement), 10e18);
        blToken.setBlacklisted(bob, true);
        Payout[] memory p = new Payout[](3);
        p[0] = Payout(alice, 1e18);
        p[1] = Payout(bob, 2e18);
        p[2] = Payout(carol, 3e18);
        PayoutBatch memory b = _batch(address(blToken), p, 4);
        bytes memory sig = _sign(b);

        vm.expectEmit(address(settlement));
        emit Settlement.PayoutDeferred(4, bob, address(blToken), 1, 2e18);
        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(4, address(blToken), EIP712Reference.hashPayouts(p), 6e18, 3, 1, 2e18);
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);

        assertEq(blToken.balanceOf(alice), 1e18, "alice");
        assertEq(blToken.balanceOf(carol), 3e18, "carol");
        assertEq(blToken.balanceOf(bob), 0, "bob");
        assertEq(views().claimable(address(blToken), bob), 2e18, "bob claim");
        assertEq(views().totalClaimable(address(blToken)), 2e18, "total");
        assertEq(blToken.balanceOf(address(settlement)), 6e18, "custody");

        // bob claims to a clean address of his
        address bobCold = makeAddr("bobCold");
        vm.expectEmit(address(settlement));
        emit Settlement.Claimed(bob, address(blToken), bobCold, 2e18);
        vm.prank(bob);
        settlement.claim(address(blToken), bobCold);
        assertEq(blToken.balanceOf(bobCold), 2e18, "claimed");
        assertEq(views().totalClaimable(address(blToken)), 0, "total after claim");
    }

    /// @notice A batch forwards the cap in force when it executes: a contract wallet needing ~22k gas is deferred
    ///         under a 10k native cap and paid once the admin raises it.
    function test_batch_nativeUsesTheCapSetByTheAdmin() public {
        _seed(NATIVE, 10 ether, 900);
        StoringRecipient wallet = new StoringRecipient();
        Payout[] memory p = new Payout[](1);
        p[0] = Payout(address(wallet), 1 ether);

        _setPushGasNow(settlement, 10_000, TOKEN_PUSH_GAS);
        _execute(_batch(NATIVE, p, 1));
        assertEq(address(wallet).balance, 0, "deferred under the small cap");
        assertEq(views().claimable(NATIVE, address(wallet)), 1 ether, "claimable");

        _setPushGasNow(settlement, 50_000, TOKEN_PUSH_GAS);
        _execute(_batch(NATIVE, p, 2));
        assertEq(address(wallet).balance, 1 ether, "paid under the raised cap");
        assertEq(wallet.received(), 1 ether, "its receive ran");
        assertEq(views().totalClaimable(NATIVE), 1 ether, "only the first deferred");
    }

    /// @notice The TRON case in small: a token cap below what a transfer to a fresh holder costs defers it; the
    ///         admin raises the cap and the next batch pays.
    function test_batch_tokenUsesTheCapSetByTheAdmin() public {
        erc20.mint(address(settlement), 10e18);
        Payout[] memory p = new Payout[](1);
        p[0] = Payout(alice, 1e18); // alice has never held the token: the transfer writes a fresh balance slot

        _setPushGasNow(settlement, NATIVE_PUSH_GAS, 10_000);
        _execute(_batch(address(erc20), p, 1));
        assertEq(erc20.balanceOf(alice), 0, "deferred under the small cap");
        assertEq(views().claimable(address(erc20), alice), 1e18, "claimable");

        _setPushGasNow(settlement, NATIVE_PUSH_GAS, 200_000);
        _execute(_batch(address(erc20), p, 2));
        assertEq(erc20.balanceOf(alice), 1e18, "paid under the raised cap");
        assertEq(erc20.balanceOf(address(settlement)), 9e18, "custody");
        assertEq(views().totalClaimable(address(erc20)), 1e18, "only the first deferred");
    }

    function test_batch_lyingTokenRevertsWhole() public {
        lyingToken.mint(address(settlement), 10e18);
        lyingToken.setLying(true);
        PayoutBatch memory b = _batch(address(lyingToken), _payouts2(alice, 1e18, bob, 2e18), 1);
        bytes memory sig = _sign(b);
        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
        assertFalse(settlement.isNonceUsed(1), "nonce kept");
        assertEq(views().totalClaimable(address(lyingToken)), 0, "no claims invented");
    }

    function test_batch_reentrantRecipientCannotReenterClaim() public {
        Settlement s = _highGasSettlement();
        ReentrantRecipient rr = new ReentrantRecipient(s);
        vm.deal(address(s), 10 ether);
        rr.arm(ReentrantRecipient.Mode.Claim, false);

        PayoutBatch memory b = _batch(NATIVE, _payouts2(address(rr), 1 ether, alice, 1 ether), 1);
        vm.prank(operator);
        s.executePayoutBatch(b, _signFor(s, b));

        assertTrue(rr.attempted(), "tried to re-enter");
        assertFalse(rr.reentered(), "re-entry blocked");
        assertEq(
            rr.lastRevert(), abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector), "guard"
        );
        assertEq(address(rr).balance, 1 ether, "paid exactly once");
        assertEq(alice.balance, 1 ether, "others paid");
        assertEq(address(s).balance, 8 ether, "custody");
    }

    function test_batch_reentrantRecipientCannotReenterExecuteBatch() public {
        Settlement s = _highGasSettlement();
        ReentrantRecipient rr = new ReentrantRecipient(s);
        _grantNow(s, s.OPERATOR_ROLE(), address(rr)); // even an operator cannot nest a batch
        vm.deal(address(s), 10 ether);

        PayoutBatch memory inner = _batch(NATIVE, _payouts2(bob, 1 ether, carol, 1 ether), 2);
        rr.setBatch(inner, _signFor(s, inner));
        rr.arm(ReentrantRecipient.Mode.ExecuteBatch, true); // bubble: the push fails and is deferred

        PayoutBatch memory outer = _batch(NATIVE, _payouts2(address(rr), 1 ether, alice, 1 ether), 1);
        vm.expectEmit(address(s));
        emit Settlement.PayoutDeferred(1, address(rr), NATIVE, 0, 1 ether);
        vm.prank(operator);
        s.executePayoutBatch(outer, _signFor(s, outer));

        assertEq(bob.balance + carol.balance, 0, "inner batch did not run");
        assertFalse(s.isNonceUsed(2), "inner nonce unspent");
        assertEq(SettlementViews(address(s)).claimable(NATIVE, address(rr)), 1 ether, "deferred");
        assertEq(alice.balance, 1 ether, "others paid");
    }

    function test_claim_reentrantClaimerIsPaidOnce() public {
        Settlement s = _highGasSettlement();
        ReentrantRecipient rr = new ReentrantRecipient(s);
        vm.deal(address(s), 10 ether);
        rr.arm(ReentrantRecipient.Mode.Claim, true); // fail the push
        PayoutBatch memory b = _batch(NATIVE, _payouts2(address(rr), 3 ether, alice, 1 ether), 1);
        vm.prank(operator);
        s.executePayoutBatch(b, _signFor(s, b));
        assertEq(SettlementViews(address(s)).claimable(NATIVE, address(rr)), 3 ether, "deferred");

        rr.arm(ReentrantRecipient.Mode.Claim, false); // now accept, but try to claim again from receive
        rr.claim(NATIVE, address(rr));
        assertFalse(rr.reentered(), "re-entry blocked");
        assertEq(
            rr.lastRevert(), abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector), "guard"
        );
        assertEq(address(rr).balance, 3 ether, "paid once");
        assertEq(SettlementViews(address(s)).claimable(NATIVE, address(rr)), 0, "claim cleared");
        assertEq(SettlementViews(address(s)).totalClaimable(NATIVE), 0, "total cleared");
        assertEq(address(s).balance, 6 ether, "custody");
    }

    function test_claim_revertsWhenReentrantClaimerBubblesTheGuard() public {
        Settlement s = _highGasSettlement();
        ReentrantRecipient rr = new ReentrantRecipient(s);
        vm.deal(address(s), 10 ether);
        rr.arm(ReentrantRecipient.Mode.Claim, true);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(address(rr), 3 ether, alice, 1 ether), 1);
        vm.prank(operator);
        s.executePayoutBatch(b, _signFor(s, b));

        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        rr.claim(NATIVE, address(rr));
        assertEq(SettlementViews(address(s)).claimable(NATIVE, address(rr)), 3 ether, "claim intact");
    }

    // ───────────── claim ─────────────

    function test_claim_paysDeferredAmountToAnotherAddress() public {
        _seed(NATIVE, 10 ether, 900);
        _execute(_batch(NATIVE, _payouts2(address(reverter), 4 ether, alice, 1 ether), 1));

        vm.expectEmit(address(settlement));
        emit Settlement.Claimed(address(reverter), NATIVE, bob, 4 ether);
        reverter.claim(settlement, NATIVE, bob);

        assertEq(bob.balance, 4 ether, "redirected claim");
        assertEq(views().claimable(NATIVE, address(reverter)), 0, "cleared");
        assertEq(views().totalClaimable(NATIVE), 0, "total cleared");
        assertEq(address(settlement).balance, 5 ether, "custody");
    }

    function test_claim_paysSelfWhenRecipientAcceptsLater() public {
        _seed(NATIVE, 10 ether, 900);
        _execute(_batch(NATIVE, _payouts2(address(burner), 2 ether, alice, 1 ether), 1));
        // alice is blacklisted while the batch runs, then cleared: she pulls to herself
        blToken.mint(address(settlement), 5e18);
        blToken.setBlacklisted(alice, true);
        _execute(_batch(address(blToken), _payouts2(alice, 5e18, bob, 0), 2));
        blToken.setBlacklisted(alice, false);

        vm.prank(alice);
        settlement.claim(address(blToken), alice);
        assertEq(blToken.balanceOf(alice), 5e18, "claimed to self");
        assertEq(views().claimable(address(blToken), alice), 0, "cleared");
        assertEq(views().claimable(NATIVE, address(burner)), 2 ether, "other asset untouched");
    }

    function test_claim_rejectsNothingToClaim() public {
        vm.expectRevert(Settlement.NothingToClaim.selector);
        vm.prank(alice);
        settlement.claim(NATIVE, alice);
        vm.expectRevert(Settlement.NothingToClaim.selector);
        vm.prank(alice);
        settlement.claim(address(usdt), alice);
    }

    function test_claim_rejectsZeroDestination() public {
        _seed(NATIVE, 10 ether, 900);
        _execute(_batch(NATIVE, _payouts2(address(reverter), 4 ether, alice, 1 ether), 1));
        vm.expectRevert(Settlement.ZeroAddress.selector);
        reverter.claim(settlement, NATIVE, address(0));
        assertEq(views().claimable(NATIVE, address(reverter)), 4 ether, "intact");
    }

    function test_claim_rejectsTheSettlementAsDestination() public {
        _seed(NATIVE, 10 ether, 900);
        _execute(_batch(NATIVE, _payouts2(address(reverter), 4 ether, alice, 1 ether), 1));
        vm.expectRevert(Settlement.SelfPayment.selector);
        reverter.claim(settlement, NATIVE, address(settlement));
        assertEq(views().claimable(NATIVE, address(reverter)), 4 ether, "intact");
        assertEq(views().totalClaimable(NATIVE), 4 ether, "total intact");
    }

    function test_claim_revertsWhenDestinationRejects() public {
        _seed(NATIVE, 10 ether, 900);
        _execute(_batch(NATIVE, _payouts2(address(reverter), 4 ether, alice, 1 ether), 1));
        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        reverter.claim(settlement, NATIVE, address(reverter));
        assertEq(views().claimable(NATIVE, address(reverter)), 4 ether, "intact");
    }

    // ───────────── treasury ─────────────

    function test_treasury_native_transfersAndEmits() public {
        _seed(NATIVE, 10 ether, 900);
        _commitTotal(NATIVE, 0);
        TreasuryTransfer memory t = _tt(NATIVE, carol, 3 ether, 1);
        bytes memory sig = _sign(t);
        vm.expectEmit(address(settlement));
        emit Settlement.TreasuryTransferred(1, NATIVE, carol, 3 ether);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
        assertEq(carol.balance, 3 ether, "to");
        assertEq(address(settlement).balance, 7 ether, "custody");
    }

    function test_treasury_tronUsdt_transfersByBalanceDelta() public {
        _seed(address(usdt), 10e6, 900);
        _commitTotal(address(usdt), 0);
        TreasuryTransfer memory t = _tt(address(usdt), carol, 4e6, 1);
        bytes memory sig = _sign(t);
        vm.expectEmit(address(settlement));
        emit Settlement.TreasuryTransferred(1, address(usdt), carol, 4e6);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
        assertEq(usdt.balanceOf(carol), 4e6, "to");
        assertEq(usdt.balanceOf(address(settlement)), 6e6, "custody");
    }

    function test_treasury_cannotTouchClaimable() public {
        _seed(NATIVE, 10 ether, 900);
        _commitTotal(NATIVE, 0);
        _execute(_batch(NATIVE, _payouts2(address(reverter), 4 ether, alice, 1 ether), 1));
        TreasuryTransfer memory t = _tt(NATIVE, carol, 5 ether + 1, 2);
        bytes memory sig = _sign(t);
        vm.expectRevert(abi.encodeWithSelector(Settlement.InsufficientFunds.selector, 5 ether, 5 ether + 1));
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);

        TreasuryTransfer memory ok = _tt(NATIVE, carol, 5 ether, 3);
        bytes memory okSig = _sign(ok);
        vm.prank(treasurer);
        settlement.transferTreasury(ok, okSig);
        assertEq(address(settlement).balance, 4 ether, "exactly the claims remain");
        assertEq(views().available(NATIVE), 0, "nothing free");
    }

    function test_treasury_rejectsZeroDestination() public {
        _seed(NATIVE, 10 ether, 900);
        TreasuryTransfer memory t = _tt(NATIVE, address(0), 1 ether, 1);
        bytes memory sig = _sign(t);
        vm.expectRevert(Settlement.ZeroAddress.selector);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
    }

    function test_treasury_rejectsTheSettlementAsDestination() public {
        _seed(NATIVE, 10 ether, 900);
        _seed(address(usdt), 10e6, 901);
        address[2] memory assets = [NATIVE, address(usdt)];
        for (uint256 i; i < assets.length; ++i) {
            TreasuryTransfer memory t = _tt(assets[i], address(settlement), 1, 1);
            bytes memory sig = _sign(t);
            vm.expectRevert(Settlement.SelfPayment.selector);
            vm.prank(treasurer);
            settlement.transferTreasury(t, sig);
        }
        assertFalse(settlement.isNonceUsed(1), "nonce kept");
    }

    function test_treasury_rejectsExpiredReplayAndBadSigner() public {
        _seed(NATIVE, 10 ether, 900);
        _commitTotal(NATIVE, 0);
        TreasuryTransfer memory t = _tt(NATIVE, carol, 1 ether, 1);
        bytes memory sig = _sign(t);
        bytes memory bad = _signDigest(OTHER_KEY, EIP712Reference.digest(_domain(), EIP712Reference.hash(t)));

        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(treasurer);
        settlement.transferTreasury(t, bad);

        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 1));
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);

        TreasuryTransfer memory late = _tt(NATIVE, carol, 1 ether, 2);
        bytes memory lateSig = _sign(late);
        vm.warp(late.deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(Settlement.Expired.selector, late.deadline));
        vm.prank(treasurer);
        settlement.transferTreasury(late, lateSig);
        assertEq(carol.balance, 1 ether, "paid once");
    }

    function test_treasury_revertsWhenDestinationRejects() public {
        _seed(NATIVE, 10 ether, 900);
        _commitTotal(NATIVE, 0);
        TreasuryTransfer memory t = _tt(NATIVE, address(reverter), 1 ether, 1);
        bytes memory sig = _sign(t);
        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
        assertFalse(settlement.isNonceUsed(1), "nonce kept");
    }

    function test_treasury_lyingTokenReverts() public {
        _allowTokenNow(settlement, address(lyingToken));
        _commitTotal(address(lyingToken), 0);
        lyingToken.mint(address(settlement), 10e18);
        lyingToken.setLying(true);
        TreasuryTransfer memory t = _tt(address(lyingToken), carol, 1e18, 1);
        bytes memory sig = _sign(t);
        vm.expectRevert(Settlement.OutboundTransferFailed.selector);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
    }

    // ───────────── helpers ─────────────

    /// @dev A Settlement whose push cap lets a contract recipient run real code (to exercise re-entry).
    function _highGasSettlement() internal returns (Settlement s) {
        SettlementConfig memory c = _config(new address[](1));
        (c.nativePushGas, c.tokenPushGas) = (1_000_000, 1_000_000);
        s = new Settlement(c);
    }

    function _signFor(Settlement s, PayoutBatch memory b) internal pure returns (bytes memory) {
        return _signDigest(
            SIGNER_KEY,
            EIP712Reference.digest(EIP712Reference.domainSeparator(31337, address(s)), EIP712Reference.hash(b))
        );
    }

    function _count(Vm.Log[] memory logs, bytes32 topic0) internal pure returns (uint256 n) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics.length > 0 && logs[i].topics[0] == topic0) ++n;
        }
    }
}
