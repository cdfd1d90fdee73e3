// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice What the Settlement reads of its SettlementSales: what open sales may need (SettlementSales.openSales).
interface IOpenSales {
    function openSales(address token) external view returns (uint256 companyPart, uint256 amount);
}

/// @title SettlementState
/// @notice The Settlement's own storage, the bits of its token word and the reads both the Settlement and its
///         SettlementViews make of them. SettlementViews runs in the Settlement's storage (the Settlement's fallback
///         delegatecalls it), so the two must lay this storage out alike: both inherit it last, the Settlement after
///         its bases' 12 slots, SettlementViews after a gap of 12 (test/SettlementViews.t.sol checks the first slot).
/// @dev No constructor and no base: its slots follow whatever comes before it.
abstract contract SettlementState {
    /// @dev Bits of a token's word (`_tokens`).
    uint256 internal constant ALLOWED = 1;
    uint256 internal constant KNOWN = 2;
    uint256 internal constant EXIT_OPEN = 4;
    uint256 internal constant KNOWN_SINCE_SHIFT = 8;
    uint256 internal constant BATCH_BLOCK_SHIFT = 64;
    uint256 internal constant LEAVE_BLOCK_SHIFT = 96;
    uint256 internal constant PAID_SHIFT = 128;
    uint256 internal constant UINT32 = type(uint32).max;
    /// @dev What a commitment keeps of the word: the flags and the time the token was first allowed.
    uint256 internal constant KEPT_BY_COMMIT = (1 << BATCH_BLOCK_SHIFT) - 1;
    /// @dev What a payout batch keeps of the word besides: the block of the latest leave since the commitment.
    uint256 internal constant KEPT_BY_BATCH = KEPT_BY_COMMIT | (UINT32 << LEAVE_BLOCK_SHIFT);
    /// @dev What a leave keeps: all but the leave's block and what members were paid.
    uint256 internal constant KEPT_BY_LEAVE = (1 << LEAVE_BLOCK_SHIFT) - 1;
    /// @dev Bit of a member's `_registrations` value: the member left the token (EXIT.md §12), for good.
    uint256 internal constant LEFT = 1 << 255;
    /// @dev How long after a member left every payout batch of the token is checked for entries paying a member who
    ///      left (a batch signed before the leave): longer than any payload lives (the signer's deadline horizon)
    ///      plus the confirmations the backend waits before it stops paying a member who left.
    uint256 internal constant LEAVE_RACE = 1 days;
    /// @dev Everything below what members were paid since the latest commitment.
    uint256 internal constant BELOW_PAID = (1 << PAID_SHIFT) - 1;

    /// @notice The backend signer whose EIP-712 signatures authorise every payload.
    address internal _signer;
    /// @dev Gas forwarded to each pushed payment (see setPushGas). Packed with `signer`, which every batch reads
    ///      anyway, so the payout path pays a warm read for them.
    uint48 internal _nativePushGas;
    uint48 internal _tokenPushGas;
    /// @notice Unix time (the chain's clock) of the pause in force, 0 while not paused.
    uint64 internal _pausedSince;
    /// @dev Seconds of earlier pauses that still count toward the exit: a pause that begins less than `exitAfter`
    ///      after the previous one ended goes on counting from there, so that unpausing for a moment cannot keep the
    ///      exit shut (issue 65); and when the latest pause ended.
    uint64 internal _pausedBefore;
    uint64 internal _unpausedAt;

    /// @dev Per asset (address(0) = native coin), one word read by every inflow and written by every payout batch:
    ///      bit 0 allowed now (register/retopup), bit 1 allowed at some time (only such a token has liabilities to
    ///      commit), bit 2 its exit is open (for good), bits 8-63 the time it was first allowed (the exit's clock
    ///      before a first commitment), bits 64-95 the block of the latest payout batch since the latest commitment
    ///      (0: none; a commitment whose asOfBlock precedes it is refused), bits 96-127 the block of the latest leave
    ///      since then (likewise), bits 128-255 what payout entries, claims and leaves paid members since the latest
    ///      commitment (saturated). Each commitment clears bits 64-255. The flag bits keep the word non-zero, so a
    ///      batch never pays a fresh slot.
    mapping(address token => uint256) internal _tokens;
    /// @notice What failed pushes left for each recipient to pull with `claim`.
    mapping(address token => mapping(address account => uint256)) internal _claimable;
    /// @notice Σ claimable per asset: money in custody that belongs to named recipients.
    mapping(address token => uint256) internal _totalClaimable;
    /// @dev The block `user` registered in `token` in, 0 before (read with isRegistered and registeredAt). One slot
    ///      per (asset, user): users have no on-chain index to share bitmap words, and register writes no other
    ///      per-user slot to pack it into. The block, not a flag, at the same cost: a member's wallet reads it to tell
    ///      whether a proof of solvency's epoch should hold them, without asking our servers.
    mapping(address token => mapping(address user => uint256 registeredAt)) internal _registrations;

    /// @dev The latest liabilities commitment of a token (read with latestLiabilities), in three slots, each
    ///      written by every commit: the root; total|epoch|asOfBlock (the two the next commit checks, read in one
    ///      SLOAD); custody|commitBlock|commitTime. leafCount and planHash live only in the signed struct and event.
    struct LiabilityCommitment {
        bytes32 root;
        uint128 total;
        uint64 epoch;
        uint64 asOfBlock;
        /// @dev Saturated at type(uint128).max (3.4e38 base units, beyond any real token's supply) rather than
        ///      reverting, since a revert would hide the commitment; the event carries it exact.
        uint128 custody;
        uint64 commitBlock;
        /// @dev The chain's timestamp of the commit: a treasury transfer needs a recent one.
        uint64 commitTime;
    }

    mapping(address token => LiabilityCommitment) internal _liabilities;

    /// @dev Per asset, the running hash of the payout batches executed since its latest commitment
    ///      (SettlementHashes.chainBatch; an exit subtracts what they paid each member). Valid only while the token
    ///      word records a batch since the commitment: a commitment leaves the stale hash in place (rewriting a
    ///      non-zero slot costs the next batch 17,100 gas less than setting a zeroed one).
    mapping(address token => bytes32) internal _batchesSince;

    /// @dev Per asset, when a member last left it: for `LEAVE_RACE` after, payout batches are checked for members who
    ///      left (one cold read per batch otherwise).
    mapping(address token => uint256) internal _lastLeaveAt;

    // ───────────────────────────── reads shared with SettlementViews ─────────────────────────────

    /// @dev `exitAfter` past the latest commitment (or, before the first, the token's first allowance), or, while
    ///      paused, once `exitAfter` of paused time has passed (the pause in force and the earlier ones that still
    ///      count, see `pause`) if that comes first.
    function _exitOpensAt(address token, uint256 word, uint256 exitAfter) internal view returns (uint256 opensAt) {
        uint256 since = _liabilities[token].commitTime;
        if (since == 0) since = (word & KEPT_BY_COMMIT) >> KNOWN_SINCE_SHIFT;
        opensAt = since + exitAfter;
        uint256 pausedAt = _pausedSince;
        if (pausedAt != 0) {
            uint256 before = _pausedBefore;
            uint256 byPause = before >= exitAfter ? pausedAt : pausedAt + exitAfter - before;
            if (byPause < opensAt) opensAt = byPause;
        }
    }

    function _floor(uint256 committedTotal, uint256 tokenWord) internal pure returns (uint256) {
        uint256 paid = tokenWord >> PAID_SHIFT;
        return committedTotal > paid ? committedTotal - paid : 0;
    }

    /// @dev Zero (not an arithmetic panic) if custody ever holds less than it owes claimants, e.g. after a
    ///      token issuer seized funds: callers then revert with InsufficientFunds and the reconciler alerts.
    function _available(address token) internal view returns (uint256) {
        uint256 balance = _balanceOf(token);
        uint256 owed = _totalClaimable[token];
        return balance > owed ? balance - owed : 0;
    }

    /// @dev `_available` less the whole amount of the open sales (`sales`), which stays for their refunds.
    function _forMembers(address token, address sales) internal view returns (uint256) {
        (, uint256 open) = IOpenSales(sales).openSales(token);
        uint256 free = _available(token);
        return free > open ? free - open : 0;
    }

    function _balanceOf(address token) internal view returns (uint256) {
        return token == address(0) ? address(this).balance : IERC20(token).balanceOf(address(this));
    }
}
