// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "../utils/SettlementFixture.sol";
import {console} from "../utils/Console.sol";
import {BareLoop} from "./BareLoop.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Settlement} from "../../src/Settlement.sol";
import {Payout, PayoutBatch, SettlementHashes} from "../../src/SettlementTypes.sol";

/// @notice Exposes the batch hashing alone, to split the per-entry overhead into hashing and pushing.
contract PayoutsHashHarness {
    function hashPayouts(Payout[] calldata payouts) external pure returns (bytes32 h, uint256 sum) {
        return SettlementHashes.hashPayouts(payouts);
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
///      leaves the nonce bitmap word non-zero, as it is in steady state (nonces are handed out sequentially).
contract PayoutGasBench is SettlementFixture {
    uint256 internal constant MAX = 500;
    /// @dev Target: within 5% of the bare loop for fresh recipients.
    uint256 internal constant FRESH_LIMIT_BPS = 10_500;

    BareLoop internal bare;

    function setUp() public override {
        super.setUp();
        bare = new BareLoop();
        address funder = makeAddr("funder");
        _doRegister(funder, NATIVE, 1_000_000 ether, 0);
        _doRegister(funder, address(erc20), 1e30, 1);
        _doRegister(funder, address(usdt), 1e30, 3);
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
        _bench(NATIVE, 100, false);
    }

    function test_gas_native_fresh_500() public {
        _bench(NATIVE, 500, false);
    }

    function test_gas_native_existing_100() public {
        _bench(NATIVE, 100, true);
    }

    function test_gas_native_existing_500() public {
        _bench(NATIVE, 500, true);
    }

    function test_gas_token_fresh_100() public {
        _bench(address(erc20), 100, false);
    }

    function test_gas_token_fresh_500() public {
        _bench(address(erc20), 500, false);
    }

    function test_gas_token_existing_100() public {
        _bench(address(erc20), 100, true);
    }

    function test_gas_token_existing_500() public {
        _bench(address(erc20), 500, true);
    }

    /// @notice Informational (not one of the eight): TRON's USDT returns false, so each entry also reads the
    ///         custody balance to tell success from failure. EVM gas; TRON's energy schedule differs.
    function test_gas_tronUsdt_fresh_100() public {
        _bench(address(usdt), 100, false);
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
    }

    function _bench(address token, uint256 n, bool existing) internal {
        Case memory c = _prepare(token, n, existing);
        uint256 gasBare = _measure(address(bare), c.bareCall, token, address(this));
        uint256 gasOurs = _measure(address(settlement), c.oursCall, token, operator);

        // both really paid every recipient
        uint256 base = existing ? 1 : 0;
        for (uint256 i; i < n; i += n - 1) {
            assertEq(_balance(token, c.ours[i].recipient), base + c.ours[i].amount, "ours paid");
            assertEq(_balance(token, c.floor[i].recipient), base + c.floor[i].amount, "bare paid");
        }
        assertEq(settlement.totalClaimable(token), 0, "nothing deferred");

        _report(c.label, n, gasOurs, gasBare, gasOurs + _intrinsic(c.oursCall), gasBare + _intrinsic(c.bareCall));
        if (!existing && token != address(usdt)) {
            assertLe(gasOurs * 10_000 / gasBare, FRESH_LIMIT_BPS, "within 5% of the bare loop");
        }
    }

    function _prepare(address token, uint256 n, bool existing) internal view returns (Case memory c) {
        string memory asset = token == NATIVE ? "native" : token == address(usdt) ? "tron-usdt" : "token";
        string memory kind = string.concat(asset, existing ? " existing " : " fresh ");
        c.label = string.concat(kind, vm.toString(n), " recipients: ");
        string memory prefix = string.concat(existing ? "existing-" : "fresh-", asset, "-");
        c.ours = _payouts(string.concat(prefix, "ours"), n, token);
        c.floor = _payouts(string.concat(prefix, "bare"), n, token);
        PayoutBatch memory b = _batch(token, c.ours, 2);
        c.oursCall = abi.encodeCall(Settlement.executePayoutBatch, (b, _sign(b)));
        c.bareCall = token == NATIVE
            ? abi.encodeCall(BareLoop.sendNative, (c.floor))
            : abi.encodeCall(BareLoop.sendToken, (IERC20(token), c.floor));
    }

    function _report(string memory label, uint256 n, uint256 ours, uint256 floor, uint256 txOurs, uint256 txBare)
        internal
        view
    {
        console.log(string.concat(label, "gas/recipient ours"), ours / n);
        console.log(string.concat(label, "gas/recipient bare"), floor / n);
        console.log(string.concat(label, "ratio ours/bare (bps)"), ours * 10_000 / floor);
        console.log(string.concat(label, "incl. 21000 + calldata: ours"), txOurs / n);
        console.log(string.concat(label, "incl. 21000 + calldata: bare"), txBare / n);
    }

    /// @dev Gas of one call (the CALL opcode, cold access to `target` included, and all it executes); argument
    ///      encoding happens before and is not counted.
    function _measure(address target, bytes memory data, address token, address caller)
        internal
        returns (uint256 used)
    {
        vm.cool(target);
        if (token != NATIVE) vm.cool(token);
        vm.prank(caller);
        bool ok;
        // Assembly, so the call reads `data` in place: Solidity's `target.call(data)` would first copy it to
        // fresh memory and bill this (already large) test frame's memory expansion to the measurement.
        assembly ("memory-safe") {
            let g := gas()
            ok := call(gas(), target, 0, add(data, 0x20), mload(data), 0, 0)
            used := sub(g, gas())
        }
        assertTrue(ok, "measured call succeeded");
    }

    /// @dev What a transaction pays before execution: 21000 plus 16 per non-zero and 4 per zero calldata byte.
    function _intrinsic(bytes memory data) internal pure returns (uint256 cost) {
        cost = 21_000;
        for (uint256 i; i < data.length; ++i) {
            cost += data[i] == 0 ? 4 : 16;
        }
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
