// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "../utils/SettlementFixture.sol";

/// @notice How the benchmarks measure one call. State set up in setUp() (a separate transaction) is cold in the
///         test; each measurement cools its target and token again. Slots a measured call writes must not have
///         been written earlier in the same test: they would be charged as dirty (100 gas), not as in steady state.
abstract contract GasBench is SettlementFixture {
    /// @dev Gas of one call (the CALL opcode, cold access to `target` included, and all it executes, before
    ///      refunds); argument encoding happens before and is not counted.
    function _measure(address target, bytes memory data, address token, address caller)
        internal
        returns (uint256 used)
    {
        return _measure(target, data, token, caller, 0);
    }

    /// @dev `_measure` of a call that sends `value` of the native coin (from `caller`).
    function _measure(address target, bytes memory data, address token, address caller, uint256 value)
        internal
        returns (uint256 used)
    {
        vm.cool(target);
        if (token != address(0)) vm.cool(token);
        vm.prank(caller);
        bool ok;
        // Assembly, so the call reads `data` in place: Solidity's `target.call(data)` would first copy it to
        // fresh memory and bill this (already large) test frame's memory expansion to the measurement.
        assembly ("memory-safe") {
            let g := gas()
            ok := call(gas(), target, value, add(data, 0x20), mload(data), 0, 0)
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
}
