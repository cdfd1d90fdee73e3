// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {console} from "../utils/Console.sol";
import {BareLoop} from "./BareLoop.sol";
import {GasBench} from "./GasBench.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Settlement} from "../../src/Settlement.sol";
import {SettlementViews} from "../../src/SettlementViews.sol";
import {Payout, PayoutBatch, SettlementHashes} from "../../src/SettlementTypes.sol";

/// @notice Exposes the batch hashing alone, to split the per-entry overhead into hashing and pushing.
contract PayoutsHashHarness {
    function hashPayouts(Payout[] calldata payouts) external view returns (bytes32 h, uint256 sum) {
        (h, sum,) = SettlementHashes.hashPayouts(payouts, address(this));
    }

    function noop(Payout[] calldata payouts) external pure returns (bytes32 h, uint256 sum) {
        return (bytes32(0), payouts.length);
    }
}

/// @notice Gas per recipient of `executePayoutBatch` beside a bare loop of the same transfers, measured in the same
///         test. Run: `forge test --match-path 'test/bench/*' -vv`.
/// @dev Each side pays its own, distinct set of recipients, so both see them cold. "Existing" recipients get their
///      balance in setUp(), a separate transaction, so they are cold (but non-empty) when measured. The token and
///      both senders are cooled before each measurement. Custody is funded by registrations in setUp(), which also
///      leaves the nonce bitmap words non-zero, as they are in steady state (nonces are handed out sequentially).
///      Each case also measures both sides with no entries (same state, cooled again): the difference is the loop.
contract PayoutGasBench is GasBench {
    uint256 internal constant MAX = 500;
    /// @dev The loop (whole call minus the same call with no entries, on each side), per recipient: within 3%.
    uint256 internal constant LOOP_LIMIT_BPS = 10_300;
    /// @dev The whole call, per recipient: within 5% for fresh recipients (issue 42).
    uint256 internal constant FRESH_LIMIT_BPS = 10_500;
    /// @dev The whole call, every case: at most 200 bps above its ratio before the members' exit (EXIT.md §6: the
    ///      running hash of the batches since the commitment, one SSTORE of ~5,000 gas per batch). The baselines
    ///      are each test's "ratio ours/bare (bps)" at commit 269dd60 (optimizer_runs 20000), measured with this
    ///      command; they replace issue 42's whole-call limits for existing recipients (3% for 500, 6% for 100),
    ///      which that commit met by 5 and 17 bps.
    uint256 internal constant EXIT_GROWTH_BPS = 200;
    /// @dev Nonces of the measured batch and of the empty one, in different words that setUp() left non-zero, so
    ///      each call's nonce write costs what it costs in steady state.
    uint256 internal constant BATCH_NONCE = 2;
    uint256 internal constant EMPTY_BATCH_NONCE = 256 + 4;

    BareLoop internal bare;

    function setUp() public override {
        super.setUp();
        bare = new BareLoop();
        address funder = makeAddr("funder");
        _doRegister(funder, NATIVE, 1_000_000 ether, 0);
        _doRegister(funder, address(erc20), 1e30, 1);
        _doRegister(funder, address(usdt), 1e30, 256 + 3);
        usdt.mint(address(bare), 1e30);
        vm.deal(address(bare), 1_000_000 ether);
        erc20.mint(address(bare), 1e30);
        for (uint256 i; i < MAX; ++i) {
            vm.deal(_recipient("existing-native-ours", i), 1);
            vm.deal(_recipient("existing-native-bare", i), 1);
            erc20.mint(_recipient("existing-token-ours", i), 1);
            erc20.mint(_recipient("existing-token-bare", i), 1);
        }
    }

    function test_gas_native_fresh_100() public {
        _bench(NATIVE, 100, false, 10_159);
    }

    function test_gas_native_fresh_500() public {
        _bench(NATIVE, 500, false, 10_080);
    }

    function test_gas_native_existing_100() public {
        _bench(NATIVE, 100, true, 10_583);
    }

    function test_gas_native_existing_500() public {
        _bench(NATIVE, 500, true, 10_295);
    }

    function test_gas_token_fresh_100() public {
        _bench(address(erc20), 100, false, 10_024);
    }

    function test_gas_token_fresh_500() public {
        _bench(address(erc20), 500, false, 9_917);
    }

    function test_gas_token_existing_100() public {
        _bench(address(erc20), 100, true, 10_071);
    }

    function test_gas_token_existing_500() public {
        _bench(address(erc20), 500, true, 9_754);
    }

    /// @notice Informational (not one of the eight): TRON's USDT returns false, so each entry also reads the
    ///         custody balance to tell success from failure. EVM gas; TRON's energy schedule differs.
    function test_gas_tronUsdt_fresh_100() public {
        _bench(address(usdt), 100, false, 10_327);
    }

    /// @dev Where our per-entry overhead goes: the EIP-712 array hash of the entries, measured on its own.
    function test_gas_breakdown_payoutsHashPerEntry() public {
        PayoutsHashHarness h = new PayoutsHashHarness();
        Payout[] memory p = _payouts("fresh-native-ours", MAX, NATIVE);
        uint256 withHash =
            _measure(address(h), abi.encodeCall(PayoutsHashHarness.hashPayouts, (p)), NATIVE, address(this));
        uint256 without = _measure(address(h), abi.encodeCall(PayoutsHashHarness.noop, (p)), NATIVE, address(this));
        uint256 perEntry = (withHash - without) / MAX;
        console.log("breakdown: EIP-712 payouts hash + sum, gas per entry (500 entries)", perEntry);
        assertLt(perEntry, 400, "hashing stays a small share of a ~9k-35k transfer");
    }

    /// @dev Sanity check of the method: an account touched in setUp() is cold in the test's transaction.
    function test_gas_setUpAccountsAreColdInTheTest() public view {
        address a = _recipient("existing-native-ours", 0);
        uint256 g = gasleft();
        uint256 bal = a.balance;
        uint256 used = g - gasleft();
        assertEq(bal, 1, "funded in setUp");
        assertGe(used, 2600, "cold account access");
    }

    // ───────────── measurement ─────────────

    struct Case {
        string label;
        Payout[] ours;
        Payout[] floor;
        bytes oursCall;
        bytes bareCall;
        bytes oursEmptyCall;
        bytes bareEmptyCall;
    }

    function _bench(address token, uint256 n, bool existing, uint256 baselineBps) internal {
        Case memory c = _prepare(token, n, existing);
        uint256 gasBare = _measure(address(bare), c.bareCall, token, address(this));
        uint256 gasOurs = _measure(address(settlement), c.oursCall, token, operator);
        // the same calls with no entries, measured after (so nothing they touch is warm for the main ones)
        uint256 fixedBare = _measure(address(bare), c.bareEmptyCall, token, address(this));
        uint256 fixedOurs = _measure(address(settlement), c.oursEmptyCall, token, operator);

        // both really paid every recipient
        uint256 base = existing ? 1 : 0;
        for (uint256 i; i < n; i += n - 1) {
            assertEq(_balance(token, c.ours[i].recipient), base + c.ours[i].amount, "ours paid");
            assertEq(_balance(token, c.floor[i].recipient), base + c.floor[i].amount, "bare paid");
        }
        assertEq(views().totalClaimable(token), 0, "nothing deferred");

        Figures memory f = Figures(gasOurs, gasBare, fixedOurs, fixedBare, gasOurs - fixedOurs, gasBare - fixedBare);
        _report(c, n, f);
        uint256 ratio = gasOurs * 10_000 / gasBare;
        console.log(string.concat(c.label, "ratio before the exit (bps)"), baselineBps);
        if (token == address(usdt)) return; // informational
        assertLe(f.loopOurs * 10_000 / f.loopBare, LOOP_LIMIT_BPS, "loop within 3% of the bare loop");
        if (!existing) assertLe(ratio, FRESH_LIMIT_BPS, "whole call within 5% of the bare loop");
        assertLe(ratio, baselineBps + EXIT_GROWTH_BPS, "whole call at most 200 bps above its ratio before the exit");
    }

    struct Figures {
        uint256 ours;
        uint256 bare;
        uint256 fixedOurs;
        uint256 fixedBare;
        uint256 loopOurs;
        uint256 loopBare;
    }

    function _prepare(address token, uint256 n, bool existing) internal view returns (Case memory c) {
        string memory asset = token == NATIVE ? "native" : token == address(usdt) ? "tron-usdt" : "token";
        string memory kind = string.concat(asset, existing ? " existing " : " fresh ");
        c.label = string.concat(kind, vm.toString(n), " recipients: ");
        string memory prefix = string.concat(existing ? "existing-" : "fresh-", asset, "-");
        c.ours = _payouts(string.concat(prefix, "ours"), n, token);
        c.floor = _payouts(string.concat(prefix, "bare"), n, token);
        c.oursCall = _batchCall(token, c.ours, BATCH_NONCE);
        c.oursEmptyCall = _batchCall(token, new Payout[](0), EMPTY_BATCH_NONCE);
        c.bareCall = _bareCall(token, c.floor);
        c.bareEmptyCall = _bareCall(token, new Payout[](0));
    }

    function _batchCall(address token, Payout[] memory payouts, uint256 nonce) internal view returns (bytes memory) {
        PayoutBatch memory b = _batch(token, payouts, nonce);
        return abi.encodeCall(Settlement.executePayoutBatch, (b, _sign(b)));
    }

    function _bareCall(address token, Payout[] memory payouts) internal pure returns (bytes memory) {
        return token == NATIVE
            ? abi.encodeCall(BareLoop.sendNative, (payouts))
            : abi.encodeCall(BareLoop.sendToken, (IERC20(token), payouts));
    }

    function _report(Case memory c, uint256 n, Figures memory f) internal view {
        string memory label = c.label;
        console.log(string.concat(label, "gas/recipient ours"), f.ours / n);
        console.log(string.concat(label, "gas/recipient bare"), f.bare / n);
        console.log(string.concat(label, "ratio ours/bare (bps)"), f.ours * 10_000 / f.bare);
        console.log(string.concat(label, "fixed per call: ours"), f.fixedOurs);
        console.log(string.concat(label, "fixed per call: bare"), f.fixedBare);
        console.log(string.concat(label, "loop gas/recipient ours"), f.loopOurs / n);
        console.log(string.concat(label, "loop gas/recipient bare"), f.loopBare / n);
        console.log(string.concat(label, "loop ratio ours/bare (bps)"), f.loopOurs * 10_000 / f.loopBare);
        console.log(string.concat(label, "incl. 21000 + calldata: ours"), (f.ours + _intrinsic(c.oursCall)) / n);
        console.log(string.concat(label, "incl. 21000 + calldata: bare"), (f.bare + _intrinsic(c.bareCall)) / n);
    }

    function _recipient(string memory set, uint256 i) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode(set, i)))));
    }

    function _payouts(string memory set, uint256 n, address token) internal pure returns (Payout[] memory p) {
        p = new Payout[](n);
        uint256 unit = token == NATIVE ? 0.01 ether : 20e18;
        for (uint256 i; i < n; ++i) {
            p[i] = Payout(_recipient(set, i), unit + i);
        }
    }
}
