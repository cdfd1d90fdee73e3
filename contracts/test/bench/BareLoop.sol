// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Payout} from "../../src/SettlementTypes.sol";

/// @notice The floor the payout loop is measured against: the same transfers, same calldata layout, no hashing,
///         no signature, no checks.
contract BareLoop {
    /// @dev Native: a plain CALL with value, all gas forwarded, no return data copied.
    function sendNative(Payout[] calldata payouts) external {
        assembly ("memory-safe") {
            let end := add(payouts.offset, shl(6, payouts.length))
            for { let p := payouts.offset } lt(p, end) { p := add(p, 0x40) } {
                pop(call(gas(), calldataload(p), calldataload(add(p, 0x20)), 0, 0, 0, 0))
            }
        }
    }

    /// @dev Token: a plain `transfer` call per entry.
    function sendToken(IERC20 token, Payout[] calldata payouts) external {
        for (uint256 i; i < payouts.length; ++i) {
            // forge-lint: disable-next-line(erc20-unchecked-transfer)
            token.transfer(payouts[i].recipient, payouts[i].amount);
        }
    }
}
