// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Behaves like an ERC20 until `lying` is switched on; then `transfer` returns true and moves nothing.
contract LyingToken is ERC20 {
    bool public lying;

    constructor() ERC20("Lying Token", "LIE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setLying(bool value) external {
        lying = value;
    }

    function transfer(address to, uint256 amount) public override returns (bool) {
        if (lying) return true;
        return super.transfer(to, amount);
    }
}
