// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A USDT-like token whose owner can blacklist accounts: transfers to a blacklisted account revert.
contract BlacklistToken is ERC20 {
    mapping(address => bool) public isBlacklisted;

    error Blacklisted(address account);

    constructor() ERC20("Blacklist USD", "BUSD") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlacklisted(address account, bool value) external {
        isBlacklisted[account] = value;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (isBlacklisted[to]) revert Blacklisted(to);
        super._update(from, to, value);
    }
}
