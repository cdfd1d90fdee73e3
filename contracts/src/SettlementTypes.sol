// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

/// @notice A user's paid entry into the plan; `user` must be msg.sender so nobody else can use it.
struct Registration {
    address user;
    address sponsor;
    address token;
    uint256 amount;
    uint256 nonce;
    uint256 deadline;
}

/// @notice A user's paid retopup; `user` must be msg.sender.
struct Retopup {
    address user;
    address token;
    uint256 amount;
    uint256 nonce;
    uint256 deadline;
}

/// @notice One recipient's share of a payout batch (already summed per user by the backend).
struct Payout {
    address recipient;
    uint256 amount;
}

/// @notice A batch of payouts in one asset; `nonce` identifies the batch, so only one version of it can ever execute.
struct PayoutBatch {
    address token;
    uint256 total;
    Payout[] payouts;
    uint256 nonce;
    uint256 deadline;
}

/// @notice A transfer of the company's share out of custody.
struct TreasuryTransfer {
    address token;
    address to;
    uint256 amount;
    uint256 nonce;
    uint256 deadline;
}

/// @notice The ledger's liabilities in `token` at confirmed block `asOfBlock`: the root of the epoch's Merkle-sum tree
///         (one leaf per user, zero balances included), its sum `total`, its `leafCount` leaves and the plan version
///         they were computed under (`planHash`). Signed by the signer, committed by the operator (SOLVENCY.md).
struct LiabilityRoot {
    address token;
    uint64 epoch;
    uint64 asOfBlock;
    bytes32 root;
    uint128 total;
    uint32 leafCount;
    bytes32 planHash;
    uint256 nonce;
    uint256 deadline;
}

/// @notice EIP-712 type strings and struct hashes; the Rust `abi` crate checks its hashes against these.
/// @notice What a Settlement is deployed with; every bound is fixed for the contract's life.
/// @notice A sale (PLAN-SALES.md §3): `buyer` pays `amount` of `token` for the order `orderRef` priced from the
///         operator's catalogue (`pv` points), naming `seller`, whose retail commission is `retail` (so that the
///         contract knows what of the amount a refund takes from the company: amount - retail). The buyer may take
///         it back until the sale's block time + `refundWindow` (seconds). `nonce` is the sale's id.
struct Sale {
    address buyer;
    address seller;
    address token;
    uint256 amount;
    uint256 retail;
    uint256 pv;
    bytes32 orderRef;
    uint256 refundWindow;
    uint256 nonce;
    uint256 deadline;
}

struct SettlementConfig {
    /// @dev The default admin (a multisig in production): schedules and cancels delayed changes.
    address admin;
    /// @dev The backend signer whose EIP-712 signatures authorise every payload.
    address signer;
    /// @dev Holders of OPERATOR_ROLE, TREASURER_ROLE and PAUSER_ROLE from the start (later changes wait the delay).
    address[] operators;
    address[] treasurers;
    address[] pausers;
    /// @dev Assets accepted for register and retopup from the start (address(0) = the native coin).
    address[] tokens;
    uint256 nativePushGas;
    uint256 tokenPushGas;
    /// @dev Seconds every change of signer, money role, allowed token or push gas waits, and the default admin
    ///      transfer's initial delay.
    uint48 delay;
    /// @dev Most blocks a liability commitment's `asOfBlock` may trail the block it is committed in.
    uint64 maxAsOfLag;
    /// @dev Most seconds since the token's latest liability commitment for a treasury transfer to be allowed.
    uint64 treasuryCommitmentMaxAge;
    /// @dev Seconds without a liability commitment of a token (or of uninterrupted pause) after which anyone may open
    ///      the token's members' exit (EXIT.md; 14 days by default, at least 7 on a mainnet: the deploy tool's rule).
    uint64 exitAfter;
}

/// @notice A member's leaf of the latest liabilities commitment (SOLVENCY.md "The tree"): the five ledger components
///         at its `asOfBlock` and the salt the backend gave its owner. The rest of the leaf (chain, contract, token,
///         epoch) the exit knows.
struct ExitLeaf {
    address member;
    uint128 reserved;
    uint128 held;
    uint128 pending;
    uint128 batched;
    uint128 claimable;
    bytes32 salt;
}

/// @notice A sibling of a Merkle-sum proof: its hash and the sum of its subtree (below 2^128, checked).
struct SumNode {
    bytes32 hash;
    uint256 sum;
}

/// @notice An executed payout batch as `foldBatches` replays it: its nonce (in its PayoutBatchExecuted event), its
///         entries (in the executing transaction's calldata) and `previous`, the running hash of the batches before
///         it since the commitment (0 for the first).
struct FoldedBatch {
    bytes32 previous;
    uint256 nonce;
    Payout[] payouts;
}

library SettlementHashes {
    bytes32 internal constant REGISTRATION_TYPEHASH = keccak256(
        "Registration(address user,address sponsor,address token,uint256 amount,uint256 nonce,uint256 deadline)"
    );
    bytes32 internal constant RETOPUP_TYPEHASH =
        keccak256("Retopup(address user,address token,uint256 amount,uint256 nonce,uint256 deadline)");
    bytes32 internal constant PAYOUT_TYPEHASH = keccak256("Payout(address recipient,uint256 amount)");
    bytes32 internal constant PAYOUT_BATCH_TYPEHASH = keccak256(
        "PayoutBatch(address token,uint256 total,Payout[] payouts,uint256 nonce,uint256 deadline)Payout(address recipient,uint256 amount)"
    );
    bytes32 internal constant TREASURY_TRANSFER_TYPEHASH =
        keccak256("TreasuryTransfer(address token,address to,uint256 amount,uint256 nonce,uint256 deadline)");
    bytes32 internal constant LIABILITY_ROOT_TYPEHASH = keccak256(
        "LiabilityRoot(address token,uint64 epoch,uint64 asOfBlock,bytes32 root,uint128 total,uint32 leafCount,bytes32 planHash,uint256 nonce,uint256 deadline)"
    );

    bytes32 internal constant SALE_TYPEHASH = keccak256(
        "Sale(address buyer,address seller,address token,uint256 amount,uint256 retail,uint256 pv,bytes32 orderRef,uint256 refundWindow,uint256 nonce,uint256 deadline)"
    );

    function hash(Sale calldata s) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                SALE_TYPEHASH,
                s.buyer,
                s.seller,
                s.token,
                s.amount,
                s.retail,
                s.pv,
                s.orderRef,
                s.refundWindow,
                s.nonce,
                s.deadline
            )
        );
    }

    function hash(Registration calldata r) internal pure returns (bytes32) {
        return keccak256(abi.encode(REGISTRATION_TYPEHASH, r.user, r.sponsor, r.token, r.amount, r.nonce, r.deadline));
    }

    function hash(Retopup calldata r) internal pure returns (bytes32) {
        return keccak256(abi.encode(RETOPUP_TYPEHASH, r.user, r.token, r.amount, r.nonce, r.deadline));
    }

    function hash(TreasuryTransfer calldata t) internal pure returns (bytes32) {
        return keccak256(abi.encode(TREASURY_TRANSFER_TYPEHASH, t.token, t.to, t.amount, t.nonce, t.deadline));
    }

    function hash(LiabilityRoot calldata c) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                LIABILITY_ROOT_TYPEHASH,
                c.token,
                c.epoch,
                c.asOfBlock,
                c.root,
                c.total,
                c.leafCount,
                c.planHash,
                c.nonce,
                c.deadline
            )
        );
    }

    /// @dev Struct hash of a batch whose payouts hash was computed by `hashPayouts`.
    function hash(PayoutBatch calldata b, bytes32 payoutsHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(PAYOUT_BATCH_TYPEHASH, b.token, b.total, payoutsHash, b.nonce, b.deadline));
    }

    /// @notice The running hash of a token's payout batches since its latest liabilities commitment after one more
    ///         batch: keccak256(previous ‖ nonce ‖ payoutsHash), 32 bytes each; `previous` is 0 for the first batch.
    /// @dev Scratch memory past the free pointer, which is left where it is.
    function chainBatch(bytes32 previous, uint256 nonce, bytes32 payoutsHash) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, previous)
            mstore(add(m, 0x20), nonce)
            mstore(add(m, 0x40), payoutsHash)
            h := keccak256(m, 0x60)
        }
    }

    /// @notice keccak256 of the concatenated Payout struct hashes (EIP-712 array encoding), the sum (reverts
    ///         PayoutSumOverflow if it overflows), and whether any entry pays `excluded`.
    /// @dev One pass over calldata, the only one that sees every entry before anything is paid; a recipient word
    ///      with dirty upper bits hashes differently from what the signer signed, so it can only fail signature
    ///      verification.
    function hashPayouts(Payout[] calldata payouts, address excluded)
        internal
        pure
        returns (bytes32 payoutsHash, uint256 sum, bool paysExcluded)
    {
        bytes32 typeHash = PAYOUT_TYPEHASH;
        // one flag for both rare cases keeps the loop short; they are told apart only when it is set
        bool suspect;
        assembly ("memory-safe") {
            let n := payouts.length
            let hashes := mload(0x40)
            // [PAYOUT_TYPEHASH, recipient, amount] is hashed in scratch memory just past the hashes
            let scratch := add(hashes, shl(5, n))
            mstore(scratch, typeHash)
            let fields := add(scratch, 0x20)
            let out := hashes
            let p := payouts.offset
            let end := add(p, shl(6, n))
            // two entries per iteration, halving the loop's own cost (~20 gas an entry); an odd one first
            if and(n, 1) {
                calldatacopy(fields, p, 0x40)
                mstore(out, keccak256(scratch, 0x60))
                sum := calldataload(add(p, 0x20))
                suspect := eq(calldataload(p), excluded)
                out := add(hashes, 0x20)
                p := add(p, 0x40)
            }
            for {} lt(p, end) { p := add(p, 0x80) } {
                calldatacopy(fields, p, 0x40)
                mstore(out, keccak256(scratch, 0x60))
                let amount := calldataload(add(p, 0x20))
                sum := add(sum, amount)
                suspect := or(suspect, or(lt(sum, amount), eq(calldataload(p), excluded)))
                calldatacopy(fields, add(p, 0x40), 0x40)
                mstore(add(out, 0x20), keccak256(scratch, 0x60))
                amount := calldataload(add(p, 0x60))
                sum := add(sum, amount)
                suspect := or(suspect, or(lt(sum, amount), eq(calldataload(add(p, 0x40)), excluded)))
                out := add(out, 0x40)
            }
            payoutsHash := keccak256(hashes, shl(5, n))
        }
        if (!suspect) return (payoutsHash, sum, false);
        assembly ("memory-safe") {
            let end := add(payouts.offset, shl(6, payouts.length))
            for { let p := payouts.offset } lt(p, end) { p := add(p, 0x40) } {
                paysExcluded := or(paysExcluded, eq(calldataload(p), excluded))
            }
        }
        if (!paysExcluded) revert PayoutSumOverflow();
    }

    error PayoutSumOverflow();
}
