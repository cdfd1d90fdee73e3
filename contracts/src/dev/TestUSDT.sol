// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @notice Development and test token only, behaving like TRON's USDT (TetherToken) so that every local run and
///         every forge test exercises the contract against it: 6 decimals; `transfer` returns false on success
///         (its fee-charging parent has no `return`) while `transferFrom` returns true; the owner can pause
///         transfers, blacklist senders and switch on a transfer fee paid to the owner. Anyone may mint.
/// @dev Function names follow TetherToken (addBlackList, isBlackListed, setParams, basisPointsRate, maximumFee).
///      As on mainnet, the blacklist stops an account from sending (transfer, or being `from` in transferFrom),
///      not from receiving.
contract TestUSDT is ERC20, Ownable, Pausable {
    /// @notice Accounts that may not send.
    mapping(address account => bool) public isBlackListed;
    /// @notice Transfer fee in basis points of the amount, paid by the sender to the owner; 0 = off.
    uint256 public basisPointsRate;
    /// @notice Ceiling of one transfer's fee, in token units.
    uint256 public maximumFee;

    event AddedBlackList(address indexed account);
    event RemovedBlackList(address indexed account);
    event Params(uint256 feeBasisPoints, uint256 maxFee);

    error BlackListed(address account);
    error FeeParamsTooHigh(uint256 basisPoints, uint256 maxFeeWholeTokens);

    constructor() ERC20("Test Tether USD", "USDT") Ownable(msg.sender) {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function pause() external onlyOwner {
        _pause();
    }

    function unpause() external onlyOwner {
        _unpause();
    }

    function addBlackList(address account) external onlyOwner {
        isBlackListed[account] = true;
        emit AddedBlackList(account);
    }

    function removeBlackList(address account) external onlyOwner {
        isBlackListed[account] = false;
        emit RemovedBlackList(account);
    }

    /// @notice The fee switch, with TetherToken's ceilings: under 20 basis points, under 50 whole tokens a transfer.
    function setParams(uint256 newBasisPoints, uint256 newMaxFeeWholeTokens) external onlyOwner {
        if (newBasisPoints >= 20 || newMaxFeeWholeTokens >= 50) {
            revert FeeParamsTooHigh(newBasisPoints, newMaxFeeWholeTokens);
        }
        basisPointsRate = newBasisPoints;
        maximumFee = newMaxFeeWholeTokens * 10 ** decimals();
        emit Params(basisPointsRate, maximumFee);
    }

    /// @notice The fee a transfer of `value` pays; the recipient gets `value` minus it (TetherToken's calcFee).
    function calcFee(uint256 value) public view returns (uint256 fee) {
        fee = value * basisPointsRate / 10_000;
        if (fee > maximumFee) fee = maximumFee;
    }

    /// @dev Moves the funds and returns false, like TRON USDT.
    function transfer(address to, uint256 value) public override whenNotPaused returns (bool) {
        if (isBlackListed[msg.sender]) revert BlackListed(msg.sender);
        _transferWithFee(msg.sender, to, value);
        return false;
    }

    function transferFrom(address from, address to, uint256 value) public override whenNotPaused returns (bool) {
        if (isBlackListed[from]) revert BlackListed(from);
        _spendAllowance(from, msg.sender, value);
        _transferWithFee(from, to, value);
        return true;
    }

    function _transferWithFee(address from, address to, uint256 value) private {
        uint256 fee = calcFee(value);
        _transfer(from, to, value - fee);
        if (fee > 0) _transfer(from, owner(), fee);
    }
}
