// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {Vm} from "./utils/Vm.sol";
import {SettlementFixture} from "./utils/SettlementFixture.sol";
import {EIP712Reference} from "./utils/EIP712Reference.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {UnorderedNonces} from "../src/UnorderedNonces.sol";
import {LiabilityRoot, Payout, PayoutBatch, Registration, Retopup} from "../src/SettlementTypes.sol";
import {RevertingRecipient} from "./mocks/HostileRecipients.sol";

/// @notice A token whose balanceOf reports whether the Settlement had already spent `nonce` when it was asked:
///         1 if so, 0 if not (so the custody a commit reads tells when its nonce was spent).
contract NonceProbeToken {
    Settlement public immutable settlement;
    uint256 public immutable nonce;

    constructor(Settlement settlement_, uint256 nonce_) {
        settlement = settlement_;
        nonce = nonce_;
    }

    function balanceOf(address) external view returns (uint256) {
        return settlement.isNonceUsed(nonce) ? 1 : 0;
    }
}

/// @notice A token whose balanceOf always reverts.
contract BrokenBalanceToken {
    error Broken();

    function balanceOf(address) external pure returns (uint256) {
        revert Broken();
    }
}

/// @notice Holds the operator role and, when paid in the native coin, commits liabilities from inside the payout
///         push; it records the outcome instead of reverting, so the push itself succeeds either way.
contract CommittingRecipient {
    Settlement public immutable settlement;
    bool public attempted;
    bool public committed;
    bytes public lastRevert;
    bytes private _call;

    constructor(Settlement settlement_) {
        settlement = settlement_;
    }

    function arm(LiabilityRoot calldata c, bytes calldata signature) external {
        _call = abi.encodeCall(Settlement.commitLiabilities, (c, signature));
    }

    receive() external payable {
        if (_call.length == 0) return;
        attempted = true;
        (committed, lastRevert) = address(settlement).call(_call);
    }
}

/// @notice The on-chain half of the public proof of solvency (SOLVENCY.md): `commitLiabilities` and
///         `latestLiabilities`. Commitments are signed over digests built by EIP712Reference, so each accepted one
///         also checks the contract's LiabilityRoot hashing.
contract SettlementSolvencyTest is SettlementFixture {
    using EIP712Reference for LiabilityRoot;

    /// @dev TRON mainnet's TIP-712 chain id, and a block.chainid whose low 32 bits are it (TVM returns more bits).
    uint256 internal constant TRON_CHAIN_ID = 0x2b6653dc;
    uint256 internal constant TVM_BLOCK_CHAINID = 0xcd8690dc_2b6653dc;
    uint64 internal constant START_BLOCK = 1_000;

    function setUp() public override {
        super.setUp();
        vm.roll(START_BLOCK); // room below the current block for asOfBlock
    }

    // ───────────── helpers ─────────────

    function _commit(LiabilityRoot memory c) internal {
        bytes memory sig = _sign(c);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    function _expectCommitRevert(LiabilityRoot memory c, bytes memory sig, bytes memory reason) internal {
        vm.expectRevert(reason);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    struct Latest {
        bytes32 root;
        uint128 total;
        uint64 epoch;
        uint64 asOfBlock;
        uint64 commitBlock;
        uint256 custody;
    }

    function _latest(address token) internal view returns (Latest memory l) {
        (l.root, l.total, l.epoch, l.asOfBlock, l.commitBlock, l.custody) = views().latestLiabilities(token);
    }

    function _assertLatest(address token, LiabilityRoot memory c, uint256 commitBlock, uint256 custody) internal view {
        Latest memory l = _latest(token);
        assertEq(l.root, c.root, "root");
        assertEq(l.total, c.total, "total");
        assertEq(l.epoch, c.epoch, "epoch");
        assertEq(l.asOfBlock, c.asOfBlock, "asOfBlock");
        assertEq(l.commitBlock, commitBlock, "commitBlock");
        assertEq(l.custody, custody, "custody");
    }

    function _assertNoCommitment(address token) internal view {
        Latest memory l = _latest(token);
        assertEq(l.root, bytes32(0), "root");
        assertEq(l.total, 0, "total");
        assertEq(l.epoch, 0, "epoch");
        assertEq(l.asOfBlock, 0, "asOfBlock");
        assertEq(l.commitBlock, 0, "commitBlock");
        assertEq(l.custody, 0, "custody");
    }

    function _expectCommitted(LiabilityRoot memory c, uint256 custody) internal {
        vm.expectEmit(address(settlement));
        emit Settlement.LiabilitiesCommitted(
            c.token, c.epoch, c.asOfBlock, c.root, c.total, c.leafCount, c.planHash, custody
        );
    }

    // ───────────── the commitment and its event ─────────────

    function test_latestLiabilities_allZeroBeforeTheFirstCommit() public view {
        _assertNoCommitment(NATIVE);
        _assertNoCommitment(address(erc20));
        _assertNoCommitment(address(usdt));
    }

    function test_commit_emitsEverySignedFieldBesideTheCustodyItRead() public {
        _seed(NATIVE, 30 ether, 900);
        LiabilityRoot memory c = LiabilityRoot({
            token: NATIVE,
            epoch: 1,
            asOfBlock: 990,
            root: keccak256("a root"),
            total: 29 ether,
            leafCount: 123_456,
            planHash: keccak256("plan v3"),
            nonce: 1,
            deadline: block.timestamp + 1 hours
        });
        _expectCommitted(c, 30 ether);
        _commit(c);

        _assertLatest(NATIVE, c, START_BLOCK, 30 ether);
        assertTrue(settlement.isNonceUsed(1), "nonce spent");
    }

    function test_commit_eventTopicsAreTokenAndEpoch() public {
        LiabilityRoot memory c = _liab(address(erc20), 1, 5e18, 1);
        vm.recordLogs();
        _commit(c);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "one event");
        assertEq(logs[0].emitter, address(settlement), "emitter");
        assertEq(logs[0].topics.length, 3, "signature + two indexed");
        assertEq(
            logs[0].topics[0],
            keccak256("LiabilitiesCommitted(address,uint64,uint64,bytes32,uint128,uint32,bytes32,uint256)"),
            "event signature"
        );
        assertEq(logs[0].topics[1], bytes32(uint256(uint160(address(erc20)))), "token topic");
        assertEq(logs[0].topics[2], bytes32(uint256(1)), "epoch topic");
        assertEq(
            logs[0].data,
            abi.encode(c.asOfBlock, c.root, c.total, c.leafCount, c.planHash, uint256(0)),
            "data: asOfBlock, root, total, leafCount, planHash, custody"
        );
    }

    function test_commit_recordsTheBlockItWasCommittedIn() public {
        _commit(_liab(NATIVE, 1, 0, 1));
        assertEq(_latest(NATIVE).commitBlock, START_BLOCK, "first");
        vm.roll(START_BLOCK + 77);
        _commit(_liab(NATIVE, 2, 0, 2));
        assertEq(_latest(NATIVE).commitBlock, START_BLOCK + 77, "second");
        assertEq(_latest(NATIVE).asOfBlock, START_BLOCK + 76, "asOfBlock of the second");
    }

    function test_commit_latestLiabilitiesFollowsEachEpoch() public {
        _seed(address(erc20), 50e18, 900);
        LiabilityRoot memory first = _liab(address(erc20), 1, 40e18, 1);
        _commit(first);
        _assertLatest(address(erc20), first, START_BLOCK, 50e18);

        vm.roll(START_BLOCK + 10);
        _seed(address(erc20), 5e18, 901);
        LiabilityRoot memory second = _liab(address(erc20), 2, 44e18, 2);
        _commit(second);
        _assertLatest(address(erc20), second, START_BLOCK + 10, 55e18);
    }

    function test_commit_tokensAreIndependent() public {
        _seed(NATIVE, 3 ether, 900);
        _seed(address(erc20), 7e18, 901);
        LiabilityRoot memory n1 = _liab(NATIVE, 1, 2 ether, 1);
        _commit(n1);
        _assertNoCommitment(address(erc20));

        LiabilityRoot memory t1 = _liab(address(erc20), 1, 6e18, 2); // epoch 1 again, in another token
        _commit(t1);
        vm.roll(START_BLOCK + 5);
        LiabilityRoot memory n2 = _liab(NATIVE, 2, 2.5 ether, 3);
        _commit(n2);

        _assertLatest(NATIVE, n2, START_BLOCK + 5, 3 ether);
        _assertLatest(address(erc20), t1, START_BLOCK, 7e18);
        _assertNoCommitment(address(usdt));
        // the token's next epoch is 2, whatever the native coin's is
        vm.roll(START_BLOCK + 6);
        _commit(_liab(address(erc20), 2, 6e18, 4));
        assertEq(_latest(address(erc20)).epoch, 2, "token epoch 2");
        assertEq(_latest(NATIVE).epoch, 2, "native epoch unchanged");
    }

    // ───────────── custody: the whole balance, read in the commit ─────────────

    /// @dev Liabilities include what is claimable, so custody beside them is the whole balance, not `available`.
    function test_commit_nativeCustodyIsTheWholeBalanceClaimableIncluded() public {
        _seed(NATIVE, 10 ether, 900);
        RevertingRecipient rejecting = new RevertingRecipient();
        _execute(_batch(NATIVE, _payouts2(alice, 1 ether, address(rejecting), 2 ether), 1));
        assertEq(views().claimable(NATIVE, address(rejecting)), 2 ether, "a claim is left");
        assertEq(views().available(NATIVE), 7 ether, "available excludes it");
        vm.roll(block.number + 1); // a commitment's asOfBlock may not precede a batch (EXIT.md T2)

        LiabilityRoot memory c = _liab(NATIVE, 1, 9 ether, 2);
        _expectCommitted(c, 9 ether);
        _commit(c);
        assertEq(_latest(NATIVE).custody, 9 ether, "whole balance");
    }

    /// @dev Whatever reaches the contract counts, also a plain transfer nobody registered.
    function test_commit_tokenCustodyIsBalanceOfThisContract() public {
        _seed(address(erc20), 20e18, 900);
        erc20.mint(address(settlement), 3e18);
        LiabilityRoot memory c = _liab(address(erc20), 1, 20e18, 1);
        _expectCommitted(c, 23e18);
        _commit(c);
        assertEq(_latest(address(erc20)).custody, 23e18, "balanceOf(this)");
    }

    function test_commit_tokenCustodyIncludesClaimable() public {
        _allowTokenNow(settlement, address(blToken));
        _seed(address(blToken), 10e18, 900);
        blToken.setBlacklisted(bob, true);
        _execute(_batch(address(blToken), _payouts2(alice, 1e18, bob, 4e18), 1));
        assertEq(views().claimable(address(blToken), bob), 4e18, "bob's push deferred");
        assertEq(views().available(address(blToken)), 5e18, "available excludes it");
        vm.roll(block.number + 1); // a commitment's asOfBlock may not precede a batch (EXIT.md T2)

        LiabilityRoot memory c = _liab(address(blToken), 1, 9e18, 2);
        _expectCommitted(c, 9e18);
        _commit(c);
        assertEq(_latest(address(blToken)).custody, 9e18, "whole balance");
    }

    /// @notice TRON's USDT: custody taken in by balance delta, a payout whose transfer returned false (success on
    ///         TRON), deferred pushes while the token was paused; the commit reads balanceOf all the same.
    function test_commit_tronUsdtCustodyAfterFalseReturningTransfersAndClaims() public {
        _seed(address(usdt), 100e6, 900);
        _execute(_batch(address(usdt), _payouts2(alice, 10e6, bob, 15e6), 1)); // transfer returns false: paid
        assertEq(usdt.balanceOf(alice), 10e6, "paid despite false");
        usdt.pause();
        _execute(_batch(address(usdt), _payouts2(carol, 20e6, bob, 5e6), 2)); // both deferred
        assertEq(views().totalClaimable(address(usdt)), 25e6, "claims");
        vm.roll(block.number + 1); // a commitment's asOfBlock may not precede a batch (EXIT.md T2)

        LiabilityRoot memory c = _liab(address(usdt), 1, 75e6, 3);
        _expectCommitted(c, 75e6);
        _commit(c); // while the token itself is paused: balanceOf still answers
        assertEq(_latest(address(usdt)).custody, 75e6, "whole balance");
    }

    /// @dev The custody is read in the commit itself, not taken from the signed payload.
    function test_commit_readsCustodyAtCommitNotAtSigning() public {
        _seed(NATIVE, 5 ether, 900);
        LiabilityRoot memory c = _liab(NATIVE, 1, 5 ether, 1);
        bytes memory sig = _sign(c);
        _seed(NATIVE, 2 ether, 901); // arrives after signing
        _expectCommitted(c, 7 ether);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    /// @dev The custody stored for the view saturates at 2^192 - 1 instead of reverting; the event has it exact.
    function test_commit_custodyAbove128BitsIsExactInTheEventAndSaturatedInTheView() public {
        uint256 huge = uint256(1) << 200;
        vm.deal(address(settlement), huge);
        LiabilityRoot memory c = _liab(NATIVE, 1, type(uint128).max, 1);
        _expectCommitted(c, huge);
        _commit(c);
        assertEq(_latest(NATIVE).custody, type(uint128).max, "saturated");
    }

    // ───────────── insolvency shows ─────────────

    function test_commit_insolventDoesNotRevertAndTheEventShowsCustodyBelowTotal() public {
        _seed(NATIVE, 4 ether, 900);
        LiabilityRoot memory c = _liab(NATIVE, 1, 6 ether, 1);
        _expectCommitted(c, 4 ether);
        _commit(c);
        Latest memory l = _latest(NATIVE);
        assertLt(l.custody, l.total, "custody < total, on-chain");
        assertEq(l.total, 6 ether, "total");
    }

    function test_commit_emptyCustodyWithLiabilitiesIsCommitted() public {
        LiabilityRoot memory c = _liab(address(usdt), 1, 1e6, 1);
        _expectCommitted(c, 0);
        _commit(c);
        assertEq(_latest(address(usdt)).custody, 0, "nothing in custody");
    }

    // ───────────── when it may run ─────────────

    function test_commit_worksWhilePaused() public {
        _seed(NATIVE, 1 ether, 900);
        vm.prank(pauser);
        settlement.pause();
        assertTrue(settlement.paused(), "paused");
        LiabilityRoot memory c = _liab(NATIVE, 1, 1 ether, 1);
        _expectCommitted(c, 1 ether);
        _commit(c);
    }

    /// @dev Liabilities in a token that was later disallowed still exist and are committed; a token never allowed has
    ///      none, and a commitment of it (a forged proof's anchor: anyone can mint such a token to the contract) is
    ///      refused.
    function test_commit_disallowedTokenIsCommittedNeverAllowedTokenIsRefused() public {
        _seed(address(erc20), 2e18, 900);
        vm.prank(admin);
        settlement.disallowToken(address(erc20));
        _commit(_liab(address(erc20), 1, 2e18, 1));
        assertEq(_latest(address(erc20)).custody, 2e18, "disallowed token");

        assertFalse(views().wasEverAllowed(address(lyingToken)), "never allowed");
        lyingToken.mint(address(settlement), 3);
        LiabilityRoot memory c = _liab(address(lyingToken), 1, 3, 2);
        _expectCommitRevert(
            c, _sign(c), abi.encodeWithSelector(Settlement.TokenNeverAllowed.selector, address(lyingToken))
        );
        assertEq(_latest(address(lyingToken)).epoch, 0, "nothing committed");
        assertFalse(settlement.isNonceUsed(2), "nonce kept");
    }

    /// @dev A token that cannot report a balance gives no custody figure: the commit reverts (documented).
    function test_commit_revertsWhenBalanceOfReverts() public {
        BrokenBalanceToken broken = new BrokenBalanceToken();
        address noCode = makeAddr("no-code");
        _allowTokenNow(settlement, address(broken));
        _allowTokenNow(settlement, noCode);
        LiabilityRoot memory c = _liab(address(broken), 1, 1, 1);
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(BrokenBalanceToken.Broken.selector));

        LiabilityRoot memory d = _liab(noCode, 1, 1, 2);
        bytes memory sig = _sign(d);
        vm.expectRevert();
        vm.prank(operator);
        settlement.commitLiabilities(d, sig);
    }

    // ───────────── who may commit ─────────────

    function test_commit_onlyTheOperator() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        bytes memory sig = _sign(c);
        bytes32 role = settlement.OPERATOR_ROLE();
        address[5] memory others = [admin, alice, pauser, treasurer, signerAddr];
        for (uint256 i; i < others.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, others[i], role)
            );
            vm.prank(others[i]);
            settlement.commitLiabilities(c, sig);
        }
        assertFalse(settlement.isNonceUsed(1), "nonce not spent");
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
        assertEq(_latest(NATIVE).epoch, 1, "the operator's went through");
    }

    function test_commit_revokedOperatorRefused() public {
        bytes32 role = settlement.OPERATOR_ROLE();
        _revokeNow(settlement, role, operator);
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        _expectCommitRevert(
            c,
            _sign(c),
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, operator, role)
        );
    }

    // ───────────── signature ─────────────

    function test_commit_rejectsGarbageSignature() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        _expectCommitRevert(c, hex"deadbeef", abi.encodeWithSelector(Settlement.InvalidSignature.selector));
        _expectCommitRevert(c, new bytes(65), abi.encodeWithSelector(Settlement.InvalidSignature.selector));
        assertFalse(settlement.isNonceUsed(1), "nonce not spent");
    }

    function test_commit_rejectsWrongSigner() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        bytes memory sig = _signDigest(OTHER_KEY, EIP712Reference.digest(_domain(), c.hash()));
        _expectCommitRevert(c, sig, abi.encodeWithSelector(Settlement.InvalidSignature.selector));
    }

    function test_commit_rejectsRotatedOutSigner() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        c.deadline = block.timestamp + settlement.changeDelay() + 1 hours; // still valid after the rotation
        bytes memory sig = _sign(c);
        _rotateSignerNow(settlement, vm.addr(OTHER_KEY));
        _expectCommitRevert(c, sig, abi.encodeWithSelector(Settlement.InvalidSignature.selector));
    }

    /// @dev Every field is signed: changing any one after signing breaks the signature.
    function test_commit_rejectsEveryTamperedField() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 5 ether, 1);
        bytes memory sig = _sign(c);
        bytes memory invalid = abi.encodeWithSelector(Settlement.InvalidSignature.selector);
        for (uint256 field; field < 9; ++field) {
            LiabilityRoot memory t = _liab(NATIVE, 1, 5 ether, 1);
            if (field == 0) t.token = address(erc20);
            if (field == 1) continue; // epoch: any other value fails its own check first (below)
            if (field == 2) t.asOfBlock -= 1;
            if (field == 3) t.root = bytes32(uint256(t.root) ^ 1);
            if (field == 4) t.total -= 1; // a lowered total
            if (field == 5) t.leafCount -= 1; // a user left out
            if (field == 6) t.planHash = bytes32(uint256(t.planHash) ^ 1);
            if (field == 7) t.nonce += 1;
            if (field == 8) t.deadline += 1;
            _expectCommitRevert(t, sig, invalid);
        }
        // the epoch too is signed: a payload signed for epoch 2, presented as epoch 1
        LiabilityRoot memory e2 = _liab(NATIVE, 2, 5 ether, 1);
        LiabilityRoot memory asE1 = _liab(NATIVE, 1, 5 ether, 1);
        (asE1.root, asE1.leafCount, asE1.planHash) = (e2.root, e2.leafCount, e2.planHash);
        _expectCommitRevert(asE1, _sign(e2), invalid);
        _commit(c);
    }

    /// @dev A high-s twin of a valid signature (ECDSA malleability) is refused.
    function test_commit_rejectsHighSSignature() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_KEY, EIP712Reference.digest(_domain(), c.hash()));
        bytes memory twin = abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        _expectCommitRevert(c, twin, abi.encodeWithSelector(Settlement.InvalidSignature.selector));
    }

    // ───────────── nonces: one space with every other payload kind ─────────────

    function test_commit_rejectsANonceAlreadySpentByAnotherCommitment() public {
        _commit(_liab(NATIVE, 1, 0, 5));
        vm.roll(START_BLOCK + 1);
        LiabilityRoot memory again = _liab(NATIVE, 2, 0, 5); // correctly signed, next epoch, same nonce
        _expectCommitRevert(again, _sign(again), abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 5));
        // and in another token
        LiabilityRoot memory other = _liab(address(erc20), 1, 0, 5);
        _expectCommitRevert(other, _sign(other), abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 5));
    }

    function test_commit_rejectsANonceSpentByAnotherPayloadKind() public {
        _doRegister(alice, NATIVE, 1 ether, 42);
        LiabilityRoot memory c = _liab(NATIVE, 1, 1 ether, 42);
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 42));

        _execute(_batch(NATIVE, _payouts2(bob, 0.1 ether, carol, 0.1 ether), 43));
        vm.roll(block.number + 1); // a commitment's asOfBlock may not precede a batch (EXIT.md T2)
        LiabilityRoot memory d = _liab(NATIVE, 1, 1 ether, 43);
        _expectCommitRevert(d, _sign(d), abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 43));
    }

    function test_commit_rejectsACancelledNonce() public {
        vm.prank(admin);
        settlement.cancelNonces(1, 1 << 3); // nonce 256 + 3
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 256 + 3);
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 256 + 3));
    }

    /// @dev The other way round: a nonce a commitment spent cannot pay a registration.
    function test_commit_spendsItsNonceForEveryOtherPayloadKind() public {
        _commit(_liab(NATIVE, 1, 0, 77));
        Registration memory r = _reg(alice, NATIVE, 1 ether, 77);
        bytes memory sig = _sign(r);
        vm.deal(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 77));
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
        Retopup memory t = _top(alice, NATIVE, 1 ether, 77);
        bytes memory tSig = _sign(t);
        vm.expectRevert(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 77));
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(t, tSig);
    }

    /// @dev The token is asked for its balance only after the nonce is spent (custody 1 = "already spent").
    function test_commit_spendsTheNonceBeforeReadingTheTokenBalance() public {
        NonceProbeToken probe = new NonceProbeToken(settlement, 9);
        _allowTokenNow(settlement, address(probe));
        assertEq(probe.balanceOf(address(settlement)), 0, "not spent yet");
        LiabilityRoot memory c = _liab(address(probe), 1, 0, 9);
        _expectCommitted(c, 1);
        _commit(c);
    }

    // ───────────── deadline ─────────────

    function test_commit_rejectsExpiredPayload() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        bytes memory sig = _sign(c);
        vm.warp(c.deadline + 1);
        _expectCommitRevert(c, sig, abi.encodeWithSelector(Settlement.Expired.selector, c.deadline));
    }

    function test_commit_acceptsAtTheDeadline() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        bytes memory sig = _sign(c);
        vm.warp(c.deadline);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    // ───────────── epochs ─────────────

    function test_commit_rejectsEpochZero() public {
        LiabilityRoot memory c = _liab(NATIVE, 0, 0, 1);
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(Settlement.EpochOutOfOrder.selector, 1, 0));
    }

    function test_commit_firstEpochOfATokenIsOne() public {
        LiabilityRoot memory c = _liab(NATIVE, 2, 0, 1);
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(Settlement.EpochOutOfOrder.selector, 1, 2));
        _commit(_liab(NATIVE, 1, 0, 2));
    }

    function test_commit_rejectsASkippedEpoch() public {
        _commit(_liab(NATIVE, 1, 0, 1));
        vm.roll(START_BLOCK + 1);
        LiabilityRoot memory c = _liab(NATIVE, 3, 0, 2);
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(Settlement.EpochOutOfOrder.selector, 2, 3));
    }

    function test_commit_rejectsARepeatedEpoch() public {
        _commit(_liab(NATIVE, 1, 0, 1));
        vm.roll(START_BLOCK + 1);
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 2); // a later block, a fresh nonce: still epoch 1 again
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(Settlement.EpochOutOfOrder.selector, 2, 1));
    }

    function test_commit_rejectsAnEarlierEpoch() public {
        _commit(_liab(NATIVE, 1, 0, 1));
        vm.roll(START_BLOCK + 1);
        _commit(_liab(NATIVE, 2, 0, 2));
        vm.roll(START_BLOCK + 2);
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 3);
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(Settlement.EpochOutOfOrder.selector, 3, 1));
    }

    // ───────────── asOfBlock ─────────────

    function test_commit_rejectsAsOfBlockZeroForTheFirstEpoch() public {
        LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
        c.asOfBlock = 0;
        _expectCommitRevert(
            c, _sign(c), abi.encodeWithSelector(Settlement.AsOfBlockOutOfRange.selector, 0, 0, START_BLOCK)
        );
    }

    function test_commit_rejectsAsOfBlockNotAfterTheLatest() public {
        _commit(_liab(NATIVE, 1, 0, 1)); // asOfBlock START_BLOCK - 1
        uint64 latest = START_BLOCK - 1;
        vm.roll(START_BLOCK + 10);
        for (uint64 asOf = latest - 1; asOf <= latest; ++asOf) {
            LiabilityRoot memory c = _liab(NATIVE, 2, 0, 2);
            c.asOfBlock = asOf;
            _expectCommitRevert(
                c,
                _sign(c),
                abi.encodeWithSelector(Settlement.AsOfBlockOutOfRange.selector, asOf, latest, START_BLOCK + 10)
            );
        }
        LiabilityRoot memory next = _liab(NATIVE, 2, 0, 2);
        next.asOfBlock = latest + 1;
        _commit(next);
    }

    function test_commit_rejectsAsOfBlockAtOrAfterTheCurrentBlock() public {
        for (uint64 asOf = START_BLOCK; asOf <= START_BLOCK + 1; ++asOf) {
            LiabilityRoot memory c = _liab(NATIVE, 1, 0, 1);
            c.asOfBlock = asOf;
            _expectCommitRevert(
                c, _sign(c), abi.encodeWithSelector(Settlement.AsOfBlockOutOfRange.selector, asOf, 0, START_BLOCK)
            );
        }
        LiabilityRoot memory ok = _liab(NATIVE, 1, 0, 1);
        assertEq(ok.asOfBlock, START_BLOCK - 1, "the previous block is the latest allowed");
        _commit(ok);
    }

    // ───────────── the order of the checks ─────────────

    /// @dev deadline, then epoch, then asOfBlock, then the signature and nonce: each error names the first failure.
    function test_commit_checksDeadlineThenEpochThenAsOfBlockThenSignature() public {
        _commit(_liab(NATIVE, 1, 0, 1)); // spends nonce 1
        bytes memory badSig = hex"00";
        LiabilityRoot memory c = _liab(NATIVE, 5, 0, 1); // wrong epoch
        c.asOfBlock = START_BLOCK; // and the current block
        c.deadline = block.timestamp - 1; // and expired
        _expectCommitRevert(c, badSig, abi.encodeWithSelector(Settlement.Expired.selector, c.deadline));
        c.deadline = block.timestamp;
        _expectCommitRevert(c, badSig, abi.encodeWithSelector(Settlement.EpochOutOfOrder.selector, 2, 5));
        c.epoch = 2;
        _expectCommitRevert(
            c,
            badSig,
            abi.encodeWithSelector(Settlement.AsOfBlockOutOfRange.selector, START_BLOCK, START_BLOCK - 1, START_BLOCK)
        );
        vm.roll(START_BLOCK + 1);
        _expectCommitRevert(c, badSig, abi.encodeWithSelector(Settlement.InvalidSignature.selector));
        _expectCommitRevert(c, _sign(c), abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 1));
    }

    // ───────────── reentrancy ─────────────

    /// @dev No reentrancy guard, and none needed: an operator contract paid by a batch may commit from inside the push,
    ///      and the custody it reads lies between the custody before the batch and after it (flattering nothing).
    function test_commit_insideAPayoutReadsACustodyBetweenBeforeAndAfter() public {
        _setPushGasNow(settlement, 200_000, TOKEN_PUSH_GAS); // room for a commit inside the push
        CommittingRecipient r = new CommittingRecipient(settlement);
        _grantNow(settlement, settlement.OPERATOR_ROLE(), address(r));
        LiabilityRoot memory c = _liab(NATIVE, 1, 9 ether, 7);
        r.arm(c, _sign(c));
        _seed(NATIVE, 10 ether, 900);

        Payout[] memory p = new Payout[](3);
        (p[0], p[1], p[2]) = (Payout(alice, 1 ether), Payout(address(r), 0.01 ether), Payout(bob, 2 ether));
        _expectCommitted(c, 10 ether - 1.01 ether);
        _execute(_batch(NATIVE, p, 1));

        assertTrue(r.attempted() && r.committed(), "committed from inside the push");
        Latest memory l = _latest(NATIVE);
        assertLe(l.custody, 10 ether, "at most the custody before");
        assertGe(l.custody, address(settlement).balance, "at least the custody after");
        assertEq(address(settlement).balance, 10 ether - 3.01 ether, "the batch paid everyone");
    }

    // ───────────── TRON ─────────────

    /// @notice The same code on TRON: a commitment signed under TIP-712's chain id, custody in TRON's USDT.
    function test_commit_onTronWithTip712SignatureAndTronUsdt() public {
        vm.chainId(TVM_BLOCK_CHAINID);
        address[] memory allowed = new address[](1);
        allowed[0] = address(usdt);
        Settlement s = _deploy(allowed);
        usdt.mint(address(s), 12e6);

        LiabilityRoot memory c = _liab(address(usdt), 1, 13e6, 1); // insolvent by 1 USDT
        bytes32 d = EIP712Reference.digest(EIP712Reference.domainSeparator(TRON_CHAIN_ID, address(s)), c.hash());
        bytes memory sig = _signDigest(SIGNER_KEY, d);
        vm.expectEmit(address(s));
        emit Settlement.LiabilitiesCommitted(
            c.token, c.epoch, c.asOfBlock, c.root, c.total, c.leafCount, c.planHash, 12e6
        );
        vm.prank(operator);
        s.commitLiabilities(c, sig);
        (,,,,, uint256 custody) = SettlementViews(address(s)).latestLiabilities(address(usdt));
        assertEq(custody, 12e6, "custody");
    }

    // ───────────── fuzz ─────────────

    /// @notice Any sequence of epochs at increasing blocks below the current one is accepted, and the view follows.
    function testFuzz_commit_epochsFollowOneAnotherAtIncreasingBlocks(uint256 seed, uint8 rounds) public {
        rounds = uint8(bound(rounds, 1, 12));
        uint64 latestAsOf;
        uint256 nonce = uint256(keccak256(abi.encode(seed)));
        for (uint64 epoch = 1; epoch <= rounds; ++epoch) {
            uint256 r = uint256(keccak256(abi.encode(seed, epoch)));
            // forge-lint: disable-next-line(unsafe-typecast)
            uint64 asOf = latestAsOf + 1 + uint64(r % 1_000_000);
            vm.roll(uint256(asOf) + 1 + (r >> 128) % 1_000);
            // forge-lint: disable-next-line(unsafe-typecast)
            LiabilityRoot memory c = _liab(NATIVE, epoch, uint128(r >> 200), nonce + epoch);
            c.asOfBlock = asOf;
            _expectCommitted(c, 0);
            _commit(c);
            _assertLatest(NATIVE, c, block.number, 0);
            latestAsOf = asOf;
        }
    }

    /// @notice Given a latest commitment, a candidate is accepted exactly when epoch = latest + 1,
    ///         latest asOfBlock < asOfBlock < block.number and block.number - asOfBlock <= maxAsOfLag; otherwise it
    ///         reverts with the matching error.
    function testFuzz_commit_acceptsExactlyTheNextEpochInTheOpenBlockRange(
        uint64 latestAsOf,
        uint64 epoch,
        uint64 asOf,
        uint64 ahead
    ) public {
        latestAsOf = uint64(bound(latestAsOf, 1, type(uint64).max - 2_000));
        ahead = uint64(bound(ahead, 1, MAX_AS_OF_LAG + 5));
        uint256 blockNumber = uint256(latestAsOf) + ahead + 1;
        vm.roll(uint256(latestAsOf) + 1);
        _commit(_liab(NATIVE, 1, 0, 1)); // latest: epoch 1 at latestAsOf
        vm.roll(blockNumber);
        epoch = uint64(bound(epoch, 0, 4));
        asOf = uint64(bound(asOf, latestAsOf > 3 ? latestAsOf - 3 : 0, blockNumber + 3));

        LiabilityRoot memory c = _liab(NATIVE, epoch, 0, 2);
        c.asOfBlock = asOf;
        bytes memory sig = _sign(c);
        if (epoch != 2) {
            _expectCommitRevert(c, sig, abi.encodeWithSelector(Settlement.EpochOutOfOrder.selector, 2, epoch));
        } else if (asOf <= latestAsOf || asOf >= blockNumber) {
            _expectCommitRevert(
                c, sig, abi.encodeWithSelector(Settlement.AsOfBlockOutOfRange.selector, asOf, latestAsOf, blockNumber)
            );
        } else if (blockNumber - asOf > MAX_AS_OF_LAG) {
            _expectCommitRevert(
                c, sig, abi.encodeWithSelector(Settlement.AsOfBlockTooOld.selector, asOf, blockNumber, MAX_AS_OF_LAG)
            );
        } else {
            _commit(c);
            assertEq(_latest(NATIVE).asOfBlock, asOf, "accepted");
        }
    }
}
