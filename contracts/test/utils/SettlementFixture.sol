// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Test} from "./Test.sol";
import {EIP712Reference} from "./EIP712Reference.sol";
import {Settlement} from "../../src/Settlement.sol";
import {SettlementViews} from "../../src/SettlementViews.sol";
import {
    Registration,
    Retopup,
    Payout,
    PayoutBatch,
    TreasuryTransfer,
    LiabilityRoot,
    SettlementConfig
} from "../../src/SettlementTypes.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {TestUSDT} from "../../src/dev/TestUSDT.sol";
import {FeeOnTransferToken} from "../mocks/FeeOnTransferToken.sol";
import {BlacklistToken} from "../mocks/BlacklistToken.sol";
import {LyingToken} from "../mocks/LyingToken.sol";

/// @notice Deployed Settlement with roles, tokens and signing helpers. Payloads are signed over digests built by
///         EIP712Reference (not by the contract), so every accepted signature also checks the contract's hashing.
abstract contract SettlementFixture is Test {
    using EIP712Reference for Registration;
    using EIP712Reference for Retopup;
    using EIP712Reference for PayoutBatch;
    using EIP712Reference for TreasuryTransfer;
    using EIP712Reference for LiabilityRoot;

    address internal constant NATIVE = address(0);
    uint256 internal constant NATIVE_PUSH_GAS = 50_000;
    /// @dev The bounds of the fixture's deployment: every money power's change waits 3 days (as mainnet's default);
    ///      commitments may trail 1,000 blocks; a treasury transfer needs a commitment from the last day.
    uint48 internal constant DELAY = 3 days;
    uint64 internal constant MAX_AS_OF_LAG = 1_000;
    uint64 internal constant TREASURY_MAX_AGE = 1 days;
    /// @dev The members' exit opens after 14 days without a commitment (the deploy tool's default).
    uint64 internal constant EXIT_AFTER = 14 days;
    /// @dev Nonces `_commitTotal` takes, far from the ones tests pick by hand.
    uint256 internal constant COMMIT_NONCE_BASE = 1 << 200;
    uint256 internal constant TOKEN_PUSH_GAS = 100_000;
    uint256 internal constant SIGNER_KEY = 0x5161E2;
    uint256 internal constant OTHER_KEY = 0xBAD5161E2;
    /// @dev secp256k1 group order, to build high-s (malleable) twins of signatures.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    Settlement internal settlement;
    MockERC20 internal erc20;
    TestUSDT internal usdt;
    FeeOnTransferToken internal feeToken;
    BlacklistToken internal blToken;
    LyingToken internal lyingToken;

    address internal signerAddr;
    address internal admin;
    address internal operator;
    address internal treasurer;
    address internal pauser;
    address internal alice;
    address internal bob;
    address internal carol;
    address internal sponsor;
    uint256 internal _commits;

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        signerAddr = vm.addr(SIGNER_KEY);
        admin = makeAddr("admin");
        operator = makeAddr("operator");
        treasurer = makeAddr("treasurer");
        pauser = makeAddr("pauser");
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        sponsor = makeAddr("sponsor");

        erc20 = new MockERC20("Binance-Peg USD", "USDT");
        usdt = new TestUSDT();
        feeToken = new FeeOnTransferToken(100);
        blToken = new BlacklistToken();
        lyingToken = new LyingToken();

        address[] memory allowed = new address[](4);
        (allowed[0], allowed[1], allowed[2], allowed[3]) = (NATIVE, address(usdt), address(erc20), address(feeToken));
        settlement = _deploy(allowed);
        vm.label(address(settlement), "Settlement");
    }

    /// @dev The Settlement's read-only functions (SettlementViews, served by its fallback) at its address.
    function views() internal view returns (SettlementViews) {
        return SettlementViews(address(settlement));
    }

    function _deploy(address[] memory allowed) internal returns (Settlement s) {
        s = new Settlement(_config(allowed));
    }

    /// @dev The fixture's deployment: its admin, signer and one holder of each money role, `allowed` tokens, the
    ///      fixture's push gas and bounds.
    function _config(address[] memory allowed) internal view returns (SettlementConfig memory c) {
        c.admin = admin;
        c.signer = signerAddr;
        c.operators = _one(operator);
        c.treasurers = _one(treasurer);
        c.pausers = _one(pauser);
        c.tokens = allowed;
        c.nativePushGas = NATIVE_PUSH_GAS;
        c.tokenPushGas = TOKEN_PUSH_GAS;
        c.delay = DELAY;
        c.maxAsOfLag = MAX_AS_OF_LAG;
        c.treasuryCommitmentMaxAge = TREASURY_MAX_AGE;
        c.exitAfter = EXIT_AFTER;
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    // ───────────── delayed changes ─────────────

    /// @dev Applies a change the admin scheduled with `schedule` (an encoded call of one of the schedule functions)
    ///      once its delay has passed: the way every money power changes.
    function _changeNow(Settlement s, bytes memory schedule) internal {
        vm.prank(admin);
        (bool ok, bytes memory ret) = address(s).call(schedule);
        require(ok, "schedule reverted");
        bytes32 id = abi.decode(ret, (bytes32));
        vm.warp(block.timestamp + s.changeDelay());
        vm.prank(admin);
        s.applyChange(id);
    }

    function _rotateSignerNow(Settlement s, address newSigner) internal {
        _changeNow(s, abi.encodeCall(Settlement.scheduleSignerRotation, (newSigner)));
    }

    function _grantNow(Settlement s, bytes32 role, address account) internal {
        _changeNow(s, abi.encodeCall(Settlement.scheduleRoleChange, (role, account, true)));
    }

    function _revokeNow(Settlement s, bytes32 role, address account) internal {
        _changeNow(s, abi.encodeCall(Settlement.scheduleRoleChange, (role, account, false)));
    }

    function _allowTokenNow(Settlement s, address token) internal {
        _changeNow(s, abi.encodeCall(Settlement.scheduleTokenAllowance, (token)));
    }

    function _setPushGasNow(Settlement s, uint256 nativeGas, uint256 tokenGas) internal {
        _changeNow(s, abi.encodeCall(Settlement.schedulePushGas, (nativeGas, tokenGas)));
    }

    /// @dev Commits the next epoch of `token` with liabilities `total` at the previous block (rolling first when
    ///      that block is not after the latest commitment's, or precedes the latest payout batch: EXIT.md T2), on a
    ///      nonce of its own: what a treasury transfer needs before it.
    function _commitTotal(address token, uint128 total) internal {
        if (block.number < 2) vm.roll(2);
        (,, uint64 epoch, uint64 asOf,,) = views().latestLiabilities(token);
        if (asOf >= block.number - 1) vm.roll(asOf + 2);
        (, uint256 lastBatchBlock) = views().batchesSinceCommitment(token);
        if (lastBatchBlock >= block.number) vm.roll(lastBatchBlock + 1);
        LiabilityRoot memory c = _liab(token, epoch + 1, total, COMMIT_NONCE_BASE + _commits++);
        bytes memory sig = _sign(c);
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    // ───────────── payload builders ─────────────

    function _reg(address user, address token, uint256 amount, uint256 nonce)
        internal
        view
        returns (Registration memory)
    {
        return Registration(user, sponsor, token, amount, nonce, block.timestamp + 1 hours);
    }

    function _top(address user, address token, uint256 amount, uint256 nonce) internal view returns (Retopup memory) {
        return Retopup(user, token, amount, nonce, block.timestamp + 1 hours);
    }

    function _batch(address token, Payout[] memory payouts, uint256 nonce)
        internal
        view
        returns (PayoutBatch memory b)
    {
        uint256 total;
        for (uint256 i; i < payouts.length; ++i) {
            total += payouts[i].amount;
        }
        b = PayoutBatch(token, total, payouts, nonce, block.timestamp + 1 hours);
    }

    function _tt(address token, address to, uint256 amount, uint256 nonce)
        internal
        view
        returns (TreasuryTransfer memory)
    {
        return TreasuryTransfer(token, to, amount, nonce, block.timestamp + 1 hours);
    }

    /// @dev A commitment of epoch `epoch` at the previous block (the latest it may name), with figures derived
    ///      from the epoch so that two epochs never look alike.
    function _liab(address token, uint64 epoch, uint128 total, uint256 nonce)
        internal
        view
        returns (LiabilityRoot memory)
    {
        return LiabilityRoot({
            token: token,
            epoch: epoch,
            asOfBlock: uint64(block.number - 1),
            root: keccak256(abi.encode("root", token, epoch)),
            total: total,
            // forge-lint: disable-next-line(unsafe-typecast)
            leafCount: uint32(7 + epoch),
            planHash: keccak256(abi.encode("plan", epoch)),
            nonce: nonce,
            deadline: block.timestamp + 1 hours
        });
    }

    function _payouts2(address a, uint256 x, address b, uint256 y) internal pure returns (Payout[] memory p) {
        p = new Payout[](2);
        p[0] = Payout(a, x);
        p[1] = Payout(b, y);
    }

    // ───────────── signing ─────────────

    function _domain() internal view returns (bytes32) {
        return EIP712Reference.domainSeparator(block.chainid, address(settlement));
    }

    function _signDigest(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _sign(Registration memory r) internal view returns (bytes memory) {
        return _signDigest(SIGNER_KEY, EIP712Reference.digest(_domain(), r.hash()));
    }

    function _sign(Retopup memory r) internal view returns (bytes memory) {
        return _signDigest(SIGNER_KEY, EIP712Reference.digest(_domain(), r.hash()));
    }

    function _sign(PayoutBatch memory b) internal view returns (bytes memory) {
        return _signDigest(SIGNER_KEY, EIP712Reference.digest(_domain(), b.hash()));
    }

    function _sign(TreasuryTransfer memory t) internal view returns (bytes memory) {
        return _signDigest(SIGNER_KEY, EIP712Reference.digest(_domain(), t.hash()));
    }

    function _sign(LiabilityRoot memory c) internal view returns (bytes memory) {
        return _signDigest(SIGNER_KEY, EIP712Reference.digest(_domain(), c.hash()));
    }

    // ───────────── actions ─────────────

    /// @dev Funds `user` with exactly `amount` of `token` (approved to the Settlement) and registers.
    function _doRegister(address user, address token, uint256 amount, uint256 nonce) internal {
        Registration memory r = _reg(user, token, amount, nonce);
        bytes memory sig = _sign(r);
        _fund(user, token, amount);
        vm.prank(user);
        settlement.register{value: token == NATIVE ? amount : 0}(r, sig);
    }

    function _fund(address user, address token, uint256 amount) internal {
        if (token == NATIVE) {
            vm.deal(user, user.balance + amount);
            return;
        }
        MockERC20(token).mint(user, amount);
        vm.prank(user);
        MockERC20(token).approve(address(settlement), type(uint256).max);
    }

    /// @dev Puts `amount` of `token` into custody the way users do: by registering (a user of its own per nonce, as
    ///      a user registers once per asset).
    function _seed(address token, uint256 amount, uint256 nonce) internal {
        _doRegister(makeAddr(string.concat("seeder-", vm.toString(nonce))), token, amount, nonce);
    }

    function _execute(PayoutBatch memory b) internal {
        bytes memory sig = _sign(b);
        vm.prank(operator);
        settlement.executePayoutBatch(b, sig);
    }

    function _balance(address token, address account) internal view returns (uint256) {
        return token == NATIVE ? account.balance : MockERC20(token).balanceOf(account);
    }
}
