// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {SettlementFixture} from "./utils/SettlementFixture.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {DelayedChanges, ChangeKind, PendingChange} from "../src/DelayedChanges.sol";
import {Payout, PayoutBatch, TreasuryTransfer, LiabilityRoot} from "../src/SettlementTypes.sol";
import {RevertingRecipient} from "./mocks/HostileRecipients.sol";

/// @notice What the contract guarantees members against insiders (issue "Nobody can take members' money"): every
///         attack tried from outside against the previous build, as a test that fails on it. A stolen admin key
///         changes nothing at once; the treasurer with the signer cannot take custody below the committed
///         liabilities; a commitment cannot flatter (a token never allowed, liabilities older than the bound,
///         borrowed custody); a pause never locks a member out of a claim.
contract SettlementGuaranteesTest is SettlementFixture {
    uint256 internal constant THIEF_KEY = 0x7415F;

    address internal thief;
    RevertingRecipient internal reverter;

    function setUp() public override {
        super.setUp();
        thief = vm.addr(THIEF_KEY);
        reverter = new RevertingRecipient();
    }

    // ───────────── the admin key alone ─────────────

    /// @notice The attack: with the admin key alone, rotate the signer to one's own key, grant oneself the treasurer
    ///         role and sign a transfer of all custody (510 to 0 in three transactions before). Now both changes wait
    ///         the delay in public view, and the rightful admin cancels them.
    function test_attack_adminKeyAloneCannotDrainCustody() public {
        _seed(NATIVE, 510 ether, 900);
        _commitTotal(NATIVE, 270 ether);

        bytes32 treasurerRole = settlement.TREASURER_ROLE();
        vm.startPrank(admin); // the stolen key
        bytes32 rotation = settlement.scheduleSignerRotation(thief);
        bytes32 grant = settlement.scheduleRoleChange(treasurerRole, thief, true);
        vm.expectRevert(abi.encodeWithSelector(Settlement.RoleChangeNeedsDelay.selector, treasurerRole));
        settlement.grantRole(treasurerRole, thief);
        vm.expectRevert(
            abi.encodeWithSelector(
                DelayedChanges.ChangeNotReady.selector, rotation, block.timestamp + DELAY, block.timestamp
            )
        );
        settlement.applyChange(rotation);
        vm.stopPrank();
        assertEq(views().signer(), signerAddr, "signer unchanged");
        assertFalse(settlement.hasRole(settlement.TREASURER_ROLE(), thief), "no role yet");

        // the thief's self-signed transfer is refused: neither the role nor the key is theirs
        TreasuryTransfer memory t = _tt(NATIVE, thief, 510 ether, 1);
        bytes memory sig = _signDigest(THIEF_KEY, _digest(t));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, thief, settlement.TREASURER_ROLE()
            )
        );
        vm.prank(thief);
        settlement.transferTreasury(t, sig);

        // every member's wallet sees both changes, with when they could apply
        PendingChange[] memory pending = settlement.pendingChanges();
        assertEq(pending.length, 2, "both announced");
        assertEq(pending[0].id, rotation, "rotation listed");
        assertEq(uint256(pending[0].kind), uint256(ChangeKind.SignerRotation), "its kind");
        assertEq(abi.decode(pending[0].args, (address)), thief, "its new signer");
        assertEq(pending[0].readyAt, block.timestamp + DELAY, "ready after the delay");
        assertEq(pending[1].id, grant, "grant listed");

        // within the delay, the rightful admin cancels both
        vm.warp(block.timestamp + DELAY - 1);
        vm.startPrank(admin);
        settlement.cancelChange(rotation);
        settlement.cancelChange(grant);
        vm.stopPrank();
        vm.warp(block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(DelayedChanges.ChangeNotPending.selector, rotation));
        vm.prank(admin);
        settlement.applyChange(rotation);
        assertEq(settlement.pendingChanges().length, 0, "nothing pending");
        assertEq(address(settlement).balance, 510 ether, "custody intact");
    }

    /// @notice Even if nobody cancels them, the changes give the thief the company's share at most: the floor keeps
    ///         what the latest commitment says members are owed.
    function test_attack_adminKeyAloneAfterTheDelayStillStopsAtTheFloor() public {
        _seed(NATIVE, 510 ether, 900);
        vm.startPrank(admin);
        bytes32 rotation = settlement.scheduleSignerRotation(thief);
        bytes32 grant = settlement.scheduleRoleChange(settlement.TREASURER_ROLE(), thief, true);
        vm.stopPrank();
        vm.warp(block.timestamp + DELAY);
        vm.startPrank(admin);
        settlement.applyChange(rotation);
        settlement.applyChange(grant);
        vm.stopPrank();
        assertEq(views().signer(), thief, "applied after the delay");

        // the operator commits with its own signer's key... which is now the thief's: a commitment it signs need not
        // be true, but the honest commitment made before the rotation already bounds the first transfer
        vm.roll(block.number + 2);
        LiabilityRoot memory c = _liab(NATIVE, 1, 270 ether, 7);
        bytes memory csig = _signDigest(THIEF_KEY, _digest(c));
        vm.prank(operator);
        settlement.commitLiabilities(c, csig);

        TreasuryTransfer memory all = _tt(NATIVE, thief, 510 ether, 1);
        bytes memory sig = _signDigest(THIEF_KEY, _digest(all));
        vm.expectRevert(abi.encodeWithSelector(Settlement.BelowFloor.selector, 0, 270 ether));
        vm.prank(thief);
        settlement.transferTreasury(all, sig);
        assertEq(address(settlement).balance, 510 ether, "custody intact");
    }

    // ───────────── the treasurer with the signer ─────────────

    /// @notice The attack: the treasurer with the signer's key left custody at 10 against a committed total of 270,
    ///         bounded only by the signer's caps. Now the floor stops it at 270.
    function test_attack_treasurerWithSignerStopsAtTheCommittedLiabilities() public {
        _seed(NATIVE, 510 ether, 900);
        _commitTotal(NATIVE, 270 ether);
        (uint256 floor_, uint256 total, uint256 paid) = views().floor(NATIVE);
        assertEq(floor_, 270 ether, "floor");
        assertEq(total, 270 ether, "committed total");
        assertEq(paid, 0, "nothing paid since");

        TreasuryTransfer memory t = _tt(NATIVE, treasurer, 500 ether, 1);
        bytes memory sig = _sign(t);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BelowFloor.selector, 10 ether, 270 ether));
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);

        // the company's share goes, to the last wei, and not one more
        TreasuryTransfer memory share = _tt(NATIVE, treasurer, 240 ether, 2);
        bytes memory shareSig = _sign(share);
        vm.prank(treasurer);
        settlement.transferTreasury(share, shareSig);
        TreasuryTransfer memory oneMore = _tt(NATIVE, treasurer, 1, 3);
        bytes memory oneMoreSig = _sign(oneMore);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BelowFloor.selector, 270 ether - 1, 270 ether));
        vm.prank(treasurer);
        settlement.transferTreasury(oneMore, oneMoreSig);
        assertEq(address(settlement).balance, 270 ether, "custody = what members are owed");
    }

    /// @notice The same on a token (TRON's false-returning USDT).
    function test_attack_treasurerWithSignerStopsAtTheFloorInTronUsdt() public {
        _seed(address(usdt), 510e6, 900);
        _commitTotal(address(usdt), 270e6);
        TreasuryTransfer memory t = _tt(address(usdt), treasurer, 240e6 + 1, 1);
        bytes memory sig = _sign(t);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BelowFloor.selector, 270e6 - 1, 270e6));
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
        TreasuryTransfer memory ok = _tt(address(usdt), treasurer, 240e6, 2);
        bytes memory okSig = _sign(ok);
        vm.prank(treasurer);
        settlement.transferTreasury(ok, okSig);
        assertEq(usdt.balanceOf(address(settlement)), 270e6, "custody = the floor");
    }

    /// @notice Refunds are treasury transfers: they come out of what is above the floor too.
    function test_floor_bindsRefundsAsEveryTreasuryTransfer() public {
        _seed(NATIVE, 100 ether, 900);
        _commitTotal(NATIVE, 100 ether);
        TreasuryTransfer memory refund = _tt(NATIVE, alice, 5 ether, 1);
        bytes memory sig = _sign(refund);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BelowFloor.selector, 95 ether, 100 ether));
        vm.prank(treasurer);
        settlement.transferTreasury(refund, sig);
        // the refunded payment itself arrived (a quarantined payment is custody above the liabilities)
        vm.deal(address(settlement), 105 ether);
        vm.prank(treasurer);
        settlement.transferTreasury(refund, sig);
        assertEq(alice.balance, 5 ether, "refunded from above the floor");
    }

    // ───────────── the floor's bookkeeping ─────────────

    /// @notice Payout entries and claims pay members what the ledger owes them: they lower the floor by what they paid;
    ///         a deferred entry pays nobody yet (it stays owed, as a claim) and lowers nothing; a commitment sets it
    ///         afresh from its total.
    function test_floor_fallsByWhatMembersWerePaidAndResetsAtEachCommitment() public {
        _seed(NATIVE, 100 ether, 900);
        _commitTotal(NATIVE, 60 ether);

        Payout[] memory p = _payouts2(alice, 10 ether, address(reverter), 5 ether);
        _execute(_batch(NATIVE, p, 1));
        (uint256 floor_,, uint256 paid) = views().floor(NATIVE);
        assertEq(paid, 10 ether, "the paid entry counts, the deferred one not");
        assertEq(floor_, 50 ether, "60 - 10");

        reverter.claim(settlement, NATIVE, bob);
        (floor_,, paid) = views().floor(NATIVE);
        assertEq(paid, 15 ether, "the claim counts");
        assertEq(floor_, 45 ether, "60 - 15");

        // custody 85 against a floor of 45: 40 may go, not 41
        TreasuryTransfer memory t = _tt(NATIVE, treasurer, 41 ether, 2);
        bytes memory sig = _sign(t);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BelowFloor.selector, 44 ether, 45 ether));
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);

        _commitTotal(NATIVE, 80 ether);
        (floor_,, paid) = views().floor(NATIVE);
        assertEq(floor_, 80 ether, "a commitment sets the floor to its total");
        assertEq(paid, 0, "and clears what was paid since the last");
    }

    /// @notice Paid since the commitment beyond its total leaves a floor of 0, never an underflow; the counter
    ///         saturates instead of overflowing.
    function test_floor_isZeroOncePaidReachesTheTotal() public {
        _seed(NATIVE, 100 ether, 900);
        _commitTotal(NATIVE, 10 ether);
        _execute(_batch(NATIVE, _payouts2(alice, 30 ether, bob, 0), 1));
        (uint256 floor_,, uint256 paid) = views().floor(NATIVE);
        assertEq(floor_, 0, "no floor left");
        assertEq(paid, 30 ether, "paid since");
    }

    /// @notice A treasury transfer needs a commitment of its token, at most treasuryCommitmentMaxAge seconds old.
    function test_treasury_needsARecentCommitment() public {
        _seed(NATIVE, 100 ether, 900);
        TreasuryTransfer memory t = _tt(NATIVE, treasurer, 1 ether, 1);
        bytes memory sig = _sign(t);
        vm.expectRevert(
            abi.encodeWithSelector(Settlement.CommitmentTooOld.selector, 0, TREASURY_MAX_AGE, block.timestamp)
        );
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);

        _commitTotal(NATIVE, 0);
        uint256 committedAt = block.timestamp;
        vm.warp(committedAt + TREASURY_MAX_AGE + 1);
        t = _tt(NATIVE, treasurer, 1 ether, 2);
        sig = _sign(t);
        vm.expectRevert(
            abi.encodeWithSelector(Settlement.CommitmentTooOld.selector, committedAt, TREASURY_MAX_AGE, block.timestamp)
        );
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);

        vm.warp(committedAt + TREASURY_MAX_AGE);
        t = _tt(NATIVE, treasurer, 1 ether, 3);
        sig = _sign(t);
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
        assertEq(treasurer.balance, 1 ether, "at the bound itself it goes");
        assertEq(views().latestCommitTime(NATIVE), committedAt, "the commit's time");
    }

    // ───────────── commitments that cannot flatter ─────────────

    /// @notice The attack: custody short of the liabilities, tokens transferred in, committed ("solvent"), then
    ///         transferred out again. The floor keeps the borrowed tokens in custody once committed.
    function test_attack_borrowedCustodyCannotLeaveAfterTheCommitment() public {
        _seed(address(erc20), 100e18, 900); // owed 300, held 100
        erc20.mint(address(settlement), 200e18); // borrowed
        _commitTotal(address(erc20), 300e18);
        (,,,,, uint256 custody) = views().latestLiabilities(address(erc20));
        assertEq(custody, 300e18, "committed as solvent");

        TreasuryTransfer memory giveBack = _tt(address(erc20), treasurer, 200e18, 1);
        bytes memory sig = _sign(giveBack);
        vm.expectRevert(abi.encodeWithSelector(Settlement.BelowFloor.selector, 100e18, 300e18));
        vm.prank(treasurer);
        settlement.transferTreasury(giveBack, sig);
        assertEq(erc20.balanceOf(address(settlement)), 300e18, "the borrowed tokens back what members are owed");
    }

    /// @notice The attack: liabilities "as of block 1" committed with the head far ahead. Refused beyond maxAsOfLag.
    function test_attack_oldLiabilitiesAreRefused() public {
        vm.roll(5_000);
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        c.asOfBlock = 1;
        bytes memory sig = _sign(c);
        vm.expectRevert(abi.encodeWithSelector(Settlement.AsOfBlockTooOld.selector, 1, 5_000, MAX_AS_OF_LAG));
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);

        c.asOfBlock = uint64(5_000 - MAX_AS_OF_LAG); // exactly the bound
        sig = _sign(c);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
        (,, uint64 epoch, uint64 asOf,,) = views().latestLiabilities(NATIVE);
        assertEq(epoch, 1, "committed");
        assertEq(asOf, 5_000 - MAX_AS_OF_LAG, "as of the oldest block allowed");
    }

    /// @notice The attack's anchor: a commitment of a token the contract never allowed (anyone can send the contract
    ///         a token of their own and have a "solvent" tree committed for it).
    function test_attack_aTokenNeverAllowedHasNoCommitment() public {
        vm.roll(10);
        LiabilityRoot memory c = _liab(address(lyingToken), 1, 1, 1);
        bytes memory sig = _sign(c);
        vm.expectRevert(abi.encodeWithSelector(Settlement.TokenNeverAllowed.selector, address(lyingToken)));
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    // ───────────── claims while paused ─────────────

    /// @notice The attack: a pause locked members out of their claimable balances until the admin unpaused. A pause
    ///         stops new money in and the operator's money out; a claim goes on.
    function test_attack_pauseDoesNotLockMembersOutOfTheirClaims() public {
        _seed(NATIVE, 10 ether, 900);
        _execute(_batch(NATIVE, _payouts2(address(reverter), 4 ether, alice, 1 ether), 1));
        vm.prank(pauser);
        settlement.pause();
        reverter.claim(settlement, NATIVE, carol);
        assertEq(carol.balance, 4 ether, "claimed while paused");
        assertEq(views().totalClaimable(NATIVE), 0, "nothing left claimable");

        // and the operator's money out stays stopped
        _commitTotal(NATIVE, 0);
        TreasuryTransfer memory t = _tt(NATIVE, treasurer, 1 ether, 2);
        bytes memory sig = _sign(t);
        vm.expectRevert();
        vm.prank(treasurer);
        settlement.transferTreasury(t, sig);
    }

    // ───────────── delayed changes ─────────────

    function test_changes_eachKindWaitsTheDelayThenApplies() public {
        vm.startPrank(admin);
        bytes32 rotation = settlement.scheduleSignerRotation(alice);
        bytes32 grant = settlement.scheduleRoleChange(settlement.OPERATOR_ROLE(), bob, true);
        bytes32 revoke = settlement.scheduleRoleChange(settlement.PAUSER_ROLE(), pauser, false);
        bytes32 token = settlement.scheduleTokenAllowance(address(blToken));
        bytes32 gas = settlement.schedulePushGas(60_000, 300_000);
        vm.stopPrank();
        assertEq(settlement.pendingChanges().length, 5, "five pending");

        // nothing has changed yet
        assertEq(views().signer(), signerAddr, "views().signer(), signerAddr");
        assertFalse(
            settlement.hasRole(settlement.OPERATOR_ROLE(), bob), "settlement.hasRole(settlement.OPERATOR_ROLE(), bob)"
        );
        assertTrue(
            settlement.hasRole(settlement.PAUSER_ROLE(), pauser), "settlement.hasRole(settlement.PAUSER_ROLE(), pauser)"
        );
        assertFalse(views().isAllowedToken(address(blToken)), "views().isAllowedToken(address(blToken))");
        assertEq(views().nativePushGas(), NATIVE_PUSH_GAS, "views().nativePushGas(), NATIVE_PUSH_GAS");

        vm.warp(block.timestamp + DELAY);
        vm.startPrank(admin);
        vm.expectEmit(address(settlement));
        emit DelayedChanges.ChangeApplied(rotation, ChangeKind.SignerRotation, abi.encode(alice));
        settlement.applyChange(rotation);
        settlement.applyChange(grant);
        settlement.applyChange(revoke);
        settlement.applyChange(token);
        settlement.applyChange(gas);
        vm.stopPrank();
        assertEq(views().signer(), alice, "views().signer(), alice");
        assertTrue(
            settlement.hasRole(settlement.OPERATOR_ROLE(), bob), "settlement.hasRole(settlement.OPERATOR_ROLE(), bob)"
        );
        assertFalse(
            settlement.hasRole(settlement.PAUSER_ROLE(), pauser), "settlement.hasRole(settlement.PAUSER_ROLE(), pauser)"
        );
        assertTrue(
            views().isAllowedToken(address(blToken)) && views().wasEverAllowed(address(blToken)),
            "views().isAllowedToken(address(blToken)) && settlement.wa"
        );
        assertEq(views().nativePushGas(), 60_000, "views().nativePushGas(), 60_000");
        assertEq(views().tokenPushGas(), 300_000, "views().tokenPushGas(), 300_000");
        assertEq(settlement.pendingChanges().length, 0, "none left");
    }

    function test_changes_areAnnouncedWithWhenTheyApply() public {
        bytes32 role = settlement.TREASURER_ROLE();
        bytes memory args = abi.encode(role, carol);
        bytes32 id = settlement.changeId(ChangeKind.RoleGrant, args);
        vm.expectEmit(address(settlement));
        emit DelayedChanges.ChangeScheduled(id, ChangeKind.RoleGrant, args, block.timestamp + DELAY);
        vm.prank(admin);
        assertEq(settlement.scheduleRoleChange(role, carol, true), id, "the id");

        vm.expectEmit(address(settlement));
        emit DelayedChanges.ChangeCancelled(id, ChangeKind.RoleGrant, args);
        vm.prank(admin);
        settlement.cancelChange(id);
    }

    function test_changes_refuseTwinsUnknownIdsAndInvalidArguments() public {
        bytes32 operatorRole = settlement.OPERATOR_ROLE();
        vm.startPrank(admin);
        bytes32 id = settlement.scheduleSignerRotation(alice);
        vm.expectRevert(abi.encodeWithSelector(DelayedChanges.ChangeAlreadyPending.selector, id));
        settlement.scheduleSignerRotation(alice);
        vm.expectRevert(abi.encodeWithSelector(DelayedChanges.ChangeNotPending.selector, bytes32(uint256(1))));
        settlement.cancelChange(bytes32(uint256(1)));
        vm.expectRevert(abi.encodeWithSelector(Settlement.NotAMoneyRole.selector, bytes32(0)));
        settlement.scheduleRoleChange(bytes32(0), alice, true); // the admin role has its own delayed transfer
        vm.expectRevert(Settlement.ZeroAddress.selector);
        settlement.scheduleRoleChange(operatorRole, address(0), true);
        vm.expectRevert(abi.encodeWithSelector(Settlement.PushGasOutOfBounds.selector, 1, 10_000, 1_000_000));
        settlement.schedulePushGas(1, 100_000);
        vm.stopPrank();

        // a cancelled change may be scheduled again, and waits a whole delay from then
        vm.warp(block.timestamp + DELAY - 10);
        vm.startPrank(admin);
        settlement.cancelChange(id);
        settlement.scheduleSignerRotation(alice);
        vm.warp(block.timestamp + 10);
        vm.expectRevert(
            abi.encodeWithSelector(
                DelayedChanges.ChangeNotReady.selector, id, block.timestamp - 10 + DELAY, block.timestamp
            )
        );
        settlement.applyChange(id);
        vm.stopPrank();
    }

    /// @notice A holder may still give up its own money role at once (that only takes power away).
    function test_changes_aHolderRenouncesItsOwnRoleAtOnce() public {
        bytes32 role = settlement.OPERATOR_ROLE();
        vm.prank(operator);
        settlement.renounceRole(role, operator);
        assertFalse(settlement.hasRole(role, operator), "settlement.hasRole(role, operator)");
    }

    // ───────────── helpers ─────────────

    function _digest(TreasuryTransfer memory t) internal view returns (bytes32) {
        return settlement.hashTypedData(
            keccak256(abi.encode(settlement.TREASURY_TRANSFER_TYPEHASH(), t.token, t.to, t.amount, t.nonce, t.deadline))
        );
    }

    function _digest(LiabilityRoot memory c) internal view returns (bytes32) {
        return settlement.hashTypedData(
            keccak256(
                abi.encode(
                    settlement.LIABILITY_ROOT_TYPEHASH(),
                    c.token,
                    c.epoch,
                    c.asOfBlock,
                    c.root,
                    c.total,
                    c.leafCount,
                    c.planHash,
                    c.nonce,
                    c.deadline
                )
            )
        );
    }
}
