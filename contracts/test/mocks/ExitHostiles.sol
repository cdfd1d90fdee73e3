// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Records one armed call's outcome: made from inside a payment, it tells whether re-entry went through.
abstract contract ArmedCall {
    address public target;
    bytes public data;
    bool public attempted;
    bool public reentered;
    bytes public lastRevert;

    function arm(address target_, bytes calldata data_) external {
        target = target_;
        data = data_;
    }

    /// @dev Makes the armed call once (disarming first, so it does not recurse), recording instead of reverting.
    function _fire() internal {
        address t = target;
        if (t == address(0)) return;
        target = address(0);
        attempted = true;
        (reentered, lastRevert) = t.call(data);
    }
}

/// @notice A member's contract wallet that, when paid in the native coin, makes its armed call (another exit, a
///         fold, an opening, a claim) from inside the payment.
contract ReenteringRecipient is ArmedCall {
    receive() external payable {
        _fire();
    }
}

/// @notice An ERC20 whose `transfer` makes its armed call before moving the tokens: a hostile token.
contract ReenteringToken is ERC20, ArmedCall {
    constructor() ERC20("Reentering", "RE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function transfer(address to, uint256 amount) public override returns (bool) {
        _fire();
        return super.transfer(to, amount);
    }
}
