// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {
    Registration,
    Retopup,
    Payout,
    PayoutBatch,
    TreasuryTransfer,
    LiabilityRoot,
    Sale
} from "../../src/SettlementTypes.sol";

/// @notice EIP-712 hashing written from the specification, independently of the contract's own code: type
///         strings are assembled from member lists, structs are `abi.encode`d, arrays of structs are the keccak
///         of the concatenated struct hashes, and the domain is built from scratch with TIP-712's chain id mask.
library EIP712Reference {
    string internal constant NAME = "ReferralSettlement";
    string internal constant VERSION = "1";

    /// @dev encodeType for a struct without references: `Name(type1 name1,type2 name2,...)`.
    function encodeType(string memory name, string[] memory members) internal pure returns (string memory s) {
        s = string.concat(name, "(");
        for (uint256 i; i < members.length; ++i) {
            s = string.concat(s, i == 0 ? "" : ",", members[i]);
        }
        s = string.concat(s, ")");
    }

    function _list(string memory a, string memory b) private pure returns (string[] memory l) {
        l = new string[](2);
        (l[0], l[1]) = (a, b);
    }

    function _list(string memory a, string memory b, string memory c, string memory d, string memory e)
        private
        pure
        returns (string[] memory l)
    {
        l = new string[](5);
        (l[0], l[1], l[2], l[3], l[4]) = (a, b, c, d, e);
    }

    function saleType() internal pure returns (string memory) {
        string[] memory m = new string[](10);
        (m[0], m[1], m[2], m[3], m[4]) =
        ("address buyer", "address seller", "address token", "uint256 amount", "uint256 retail");
        (m[5], m[6], m[7], m[8], m[9]) =
        ("uint256 pv", "bytes32 orderRef", "uint256 refundWindow", "uint256 nonce", "uint256 deadline");
        return encodeType("Sale", m);
    }

    function hash(Sale memory s) internal pure returns (bytes32) {
        bytes memory head = abi.encode(keccak256(bytes(saleType())), s.buyer, s.seller, s.token, s.amount, s.retail);
        return keccak256(bytes.concat(head, abi.encode(s.pv, s.orderRef, s.refundWindow, s.nonce, s.deadline)));
    }

    function domainType() internal pure returns (string memory) {
        string[] memory m = new string[](4);
        (m[0], m[1], m[2], m[3]) = ("string name", "string version", "uint256 chainId", "address verifyingContract");
        return encodeType("EIP712Domain", m);
    }

    function registrationType() internal pure returns (string memory) {
        string[] memory m = new string[](6);
        (m[0], m[1], m[2], m[3], m[4], m[5]) =
        ("address user", "address sponsor", "address token", "uint256 amount", "uint256 nonce", "uint256 deadline");
        return encodeType("Registration", m);
    }

    function retopupType() internal pure returns (string memory) {
        return encodeType(
            "Retopup", _list("address user", "address token", "uint256 amount", "uint256 nonce", "uint256 deadline")
        );
    }

    function payoutType() internal pure returns (string memory) {
        return encodeType("Payout", _list("address recipient", "uint256 amount"));
    }

    /// @dev A struct's encodeType is followed by the encodeTypes of the structs it references, sorted by name.
    function payoutBatchType() internal pure returns (string memory) {
        return string.concat(
            encodeType(
                "PayoutBatch",
                _list("address token", "uint256 total", "Payout[] payouts", "uint256 nonce", "uint256 deadline")
            ),
            payoutType()
        );
    }

    function treasuryTransferType() internal pure returns (string memory) {
        return encodeType(
            "TreasuryTransfer",
            _list("address token", "address to", "uint256 amount", "uint256 nonce", "uint256 deadline")
        );
    }

    function liabilityRootType() internal pure returns (string memory) {
        string[] memory m = new string[](9);
        m[0] = "address token";
        m[1] = "uint64 epoch";
        m[2] = "uint64 asOfBlock";
        m[3] = "bytes32 root";
        m[4] = "uint128 total";
        m[5] = "uint32 leafCount";
        m[6] = "bytes32 planHash";
        m[7] = "uint256 nonce";
        m[8] = "uint256 deadline";
        return encodeType("LiabilityRoot", m);
    }

    function domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256(bytes(domainType())),
                keccak256(bytes(NAME)),
                keccak256(bytes(VERSION)),
                chainId & 0xffffffff,
                verifyingContract
            )
        );
    }

    function digest(bytes32 domain, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", domain, structHash));
    }

    function hash(Registration memory r) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(keccak256(bytes(registrationType())), r.user, r.sponsor, r.token, r.amount, r.nonce, r.deadline)
        );
    }

    function hash(Retopup memory r) internal pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(retopupType())), r.user, r.token, r.amount, r.nonce, r.deadline));
    }

    function hash(Payout memory p) internal pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(bytes(payoutType())), p.recipient, p.amount));
    }

    function hashPayouts(Payout[] memory payouts) internal pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](payouts.length);
        for (uint256 i; i < payouts.length; ++i) {
            hashes[i] = hash(payouts[i]);
        }
        // encodePacked of a bytes32[] is the plain concatenation of its elements.
        return keccak256(abi.encodePacked(hashes));
    }

    function hash(PayoutBatch memory b) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256(bytes(payoutBatchType())), b.token, b.total, hashPayouts(b.payouts), b.nonce, b.deadline
            )
        );
    }

    function hash(TreasuryTransfer memory t) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(keccak256(bytes(treasuryTransferType())), t.token, t.to, t.amount, t.nonce, t.deadline)
            );
    }

    /// @dev Atomic members are encoded as 32-byte words: uintN zero-extended, address left-padded, bytes32 as is.
    function hash(LiabilityRoot memory c) internal pure returns (bytes32) {
        bytes memory encoded = abi.encodePacked(
            keccak256(bytes(liabilityRootType())),
            bytes32(uint256(uint160(c.token))),
            bytes32(uint256(c.epoch)),
            bytes32(uint256(c.asOfBlock)),
            c.root,
            bytes32(uint256(c.total)),
            bytes32(uint256(c.leafCount)),
            c.planHash,
            bytes32(c.nonce),
            bytes32(c.deadline)
        );
        return keccak256(encoded);
    }
}
