// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Settlement} from "../../src/Settlement.sol";
import {PayoutBatch} from "../../src/SettlementTypes.sol";

/// @notice Rejects every native payment.
contract RevertingRecipient {
    error NoThanks();

    /// @notice Pulls what the Settlement owes this contract to `to` (pushes to it always fail).
    function claim(Settlement settlement, address token, address to) external {
        settlement.claim(token, to);
    }

    receive() external payable {
        revert NoThanks();
    }
}

/// @notice Burns all gas it is given on every native payment.
contract GasBurningRecipient {
    uint256 public counter;

    /// @notice Pulls what the Settlement owes this contract to `to` (pushes to it always run out of gas).
    function claim(Settlement settlement, address token, address to) external {
        settlement.claim(token, to);
    }

    receive() external payable {
        while (true) {
            ++counter;
        }
    }
}

/// @notice On receiving the native coin, tries to re-enter the Settlement (claim or a stored payout batch).
///         Each attempt's outcome is recorded; with `bubble` set, a blocked attempt makes the receive revert.
contract ReentrantRecipient {
    enum Mode {
        None,
        Claim,
        ExecuteBatch
    }

    Settlement public immutable settlement;
    Mode public mode;
    bool public bubble;
    bool public attempted;
    bool public reentered;
    bytes public lastRevert;

    PayoutBatch private _batch;
    bytes private _signature;

    constructor(Settlement settlement_) {
        settlement = settlement_;
    }

    function arm(Mode mode_, bool bubble_) external {
        mode = mode_;
        bubble = bubble_;
    }

    function setBatch(PayoutBatch calldata batch, bytes calldata signature) external {
        _batch.token = batch.token;
        _batch.total = batch.total;
        _batch.nonce = batch.nonce;
        _batch.deadline = batch.deadline;
        delete _batch.payouts;
        for (uint256 i; i < batch.payouts.length; ++i) {
            _batch.payouts.push(batch.payouts[i]);
        }
        _signature = signature;
    }

    function claim(address token, address to) external {
        settlement.claim(token, to);
    }

    receive() external payable {
        if (mode == Mode.None) return;
        attempted = true;
        bool ok;
        bytes memory ret;
        if (mode == Mode.Claim) {
            (ok, ret) = address(settlement).call(abi.encodeCall(Settlement.claim, (address(0), address(this))));
        } else {
            (ok, ret) = address(settlement).call(abi.encodeCall(Settlement.executePayoutBatch, (_batch, _signature)));
        }
        reentered = ok;
        lastRevert = ret;
        if (!ok && bubble) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}

/// @notice Not hostile: a contract wallet whose receive records each payment in storage (~22k gas the first
///         time), more than a small push cap forwards and well within a generous one.
contract StoringRecipient {
    uint256 public received;

    receive() external payable {
        received += msg.value;
    }
}
