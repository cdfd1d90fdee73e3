// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "./utils/SettlementFixture.sol";
import {Settlement} from "../src/Settlement.sol";

/// @notice The Settlement's read-only functions are served by SettlementViews through its fallback (issue 69): both
///         must lay the Settlement's own storage out alike, and the fallback must add no way in.
contract SettlementViewsTest is SettlementFixture {
    /// @dev Where SettlementState begins in the Settlement: after its bases' 12 slots (`forge inspect Settlement
    ///      storageLayout`); SettlementViews pads to the same slot.
    uint256 internal constant STATE_SLOT = 12;

    /// @notice The signer (the state's first word, with the push gas packed beside it) as the Settlement's own code
    ///         keeps it, read raw, equals what the views read; after a rotation too. Every other view of the state
    ///         reads the slots after it, which the same base lays out alike in both.
    function test_layout_theViewsReadTheSettlementsOwnSlots() public {
        bytes32 word = vm.load(address(settlement), bytes32(STATE_SLOT));
        assertEq(address(uint160(uint256(word))), signerAddr, "the Settlement keeps the signer at slot 12");
        assertEq(views().signer(), signerAddr, "the views read it there");
        assertEq(uint256(word) >> 160 & type(uint48).max, NATIVE_PUSH_GAS, "the native push gas packed beside it");
        assertEq(views().nativePushGas(), NATIVE_PUSH_GAS, "the views read the push gas there");
        address next = makeAddr("next-signer");
        _rotateSignerNow(settlement, next);
        assertEq(views().signer(), next, "a rotation read through the views");
    }

    /// @notice The fallback takes no money (a plain payment is refused, as before it existed) and an unknown selector
    ///         reverts.
    function test_fallback_refusesPaymentsAndUnknownSelectors() public {
        vm.deal(address(this), 1 ether);
        (bool paid,) = address(settlement).call{value: 1 ether}("");
        assertFalse(paid, "a plain payment is refused");
        (bool known,) = address(settlement).call(abi.encodeWithSignature("drain(address)", address(this)));
        assertFalse(known, "an unknown selector reverts");
        (bool viewPaid,) = address(settlement).call{value: 1}(abi.encodeWithSignature("signer()"));
        assertFalse(viewPaid, "a view called with value is refused");
        assertEq(address(settlement).balance, 0, "nothing arrived");
    }
}
