// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @notice EIP-712 domain that is right on BSC and on TRON: TIP-712 signs with `block.chainid & 0xffffffff`.
/// @dev OpenZeppelin's EIP712 hashes the full `block.chainid`, which on TRON is not the chain id wallets sign
///      with, and its domain builder is private; this mirrors it (cached separator, ERC-5267) with the mask.
abstract contract TronCompatibleEIP712 is IERC5267 {
    bytes32 private constant TYPE_HASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    bytes32 private immutable _hashedName;
    bytes32 private immutable _hashedVersion;
    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;
    address private immutable _cachedThis;
    string private _name;
    string private _version;

    constructor(string memory name, string memory version) {
        _name = name;
        _version = version;
        _hashedName = keccak256(bytes(name));
        _hashedVersion = keccak256(bytes(version));
        _cachedChainId = _signingChainId();
        _cachedThis = address(this);
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @notice The chain id that signatures for this contract commit to (TIP-712 on TRON, plain on EVM chains).
    function _signingChainId() internal view returns (uint256) {
        return block.chainid & 0xffffffff;
    }

    function domainSeparator() public view returns (bytes32) {
        if (address(this) == _cachedThis && _signingChainId() == _cachedChainId) return _cachedDomainSeparator;
        return _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(TYPE_HASH, _hashedName, _hashedVersion, _signingChainId(), address(this)));
    }

    function _hashTypedData(bytes32 structHash) internal view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(domainSeparator(), structHash);
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", _name, _version, _signingChainId(), address(this), bytes32(0), new uint256[](0));
    }
}
