// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementState} from "./SettlementState.sol";

/// @dev Pads SettlementViews to the slots the Settlement's bases take (TronCompatibleEIP712, UnorderedNonces,
///      AccessControlDefaultAdminRules, Pausable, ReentrancyGuard, DelayedChanges: 12 slots), so that SettlementState
///      starts where it does in the Settlement. test/SettlementViews.t.sol checks it.
abstract contract SettlementBasesGap {
    uint256[12] private __gap;
}

/// @title SettlementViews
/// @notice The Settlement's read-only functions, moved out of its runtime code to make room under EIP-170 (issue 69:
///         the sales' hooks and floor, contracts/SALES.md). The Settlement's fallback delegatecalls this contract
///         for every selector it does not know, so these functions are called at the Settlement's address, read its
///         storage, and belong to its ABI (abi-codegen merges them into abi/artifacts/Settlement.json).
/// @dev Only `view` functions and no fallback: a delegatecall into this code can write nothing. Deployed by the
///      Settlement's constructor with the Settlement's own immutables it needs.
contract SettlementViews is SettlementBasesGap, SettlementState {
    /// @dev The Settlement's `exitAfter` and `sales`.
    uint256 private immutable exitAfter;
    address private immutable sales;

    constructor(uint256 exitAfter_, address sales_) {
        (exitAfter, sales) = (exitAfter_, sales_);
    }

    /// @notice The backend signer whose EIP-712 signatures authorise every payload.
    function signer() external view returns (address) {
        return _signer;
    }

    /// @notice Unix time (the chain's clock) of the pause in force, 0 while not paused.
    function pausedSince() external view returns (uint64) {
        return _pausedSince;
    }

    /// @notice What failed pushes left for `account` to pull with `claim`.
    function claimable(address token, address account) external view returns (uint256) {
        return _claimable[token][account];
    }

    /// @notice Σ claimable per asset: money in custody that belongs to named recipients.
    function totalClaimable(address token) external view returns (uint256) {
        return _totalClaimable[token];
    }

    /// @notice Custody balance not owed to claimants nor to buyers who may take an open sale back: what an exit or a
    ///         leave may pay members.
    function available(address token) external view returns (uint256) {
        return _forMembers(token, sales);
    }

    /// @notice Whether `user` has registered in `token` (address(0) = native coin) at this contract.
    function isRegistered(address user, address token) external view returns (bool) {
        return _registrations[token][user] & ~LEFT != 0;
    }

    /// @notice The block `user` registered in `token` in (0: not registered).
    function registeredAt(address user, address token) external view returns (uint256) {
        return _registrations[token][user] & ~LEFT;
    }

    /// @notice Whether `member` left `token` while a change of power was pending (EXIT.md §12).
    function hasLeft(address member, address token) external view returns (bool) {
        return _registrations[token][member] & LEFT != 0;
    }

    /// @notice Whether `token` (address(0) = native coin) is accepted for register and retopup now.
    function isAllowedToken(address token) external view returns (bool) {
        return _tokens[token] & ALLOWED != 0;
    }

    /// @notice Whether `token` was ever allowed: only such a token's liabilities may be committed.
    function wasEverAllowed(address token) external view returns (bool) {
        return _tokens[token] & KNOWN != 0;
    }

    /// @notice The floor of `token`'s custody for outflows other than paying members: the latest committed
    ///         liabilities total less what payout entries and claims paid members since that commitment (0 before
    ///         the first commitment, and once members were paid at least the total).
    function floor(address token) external view returns (uint256 floor_, uint256 committedTotal, uint256 paidSince) {
        uint256 word = _tokens[token];
        committedTotal = _liabilities[token].total;
        paidSince = word >> PAID_SHIFT;
        floor_ = _floor(committedTotal, word);
    }

    /// @notice Unix time (the chain's clock) of `token`'s latest liability commitment, 0 before the first.
    function latestCommitTime(address token) external view returns (uint256) {
        return _liabilities[token].commitTime;
    }

    /// @notice From when anyone may open `token`'s exit (unix seconds; see `exitAfter`).
    function exitOpensAt(address token) external view returns (uint256) {
        return _exitOpensAt(token, _tokens[token], exitAfter);
    }

    /// @notice The running hash of the payout batches executed in `token` since its latest commitment and the block
    ///         of the latest of them (both 0: none): the next commitment's asOfBlock may not precede that block.
    function batchesSinceCommitment(address token) external view returns (bytes32 head, uint256 lastBatchBlock) {
        lastBatchBlock = (_tokens[token] >> BATCH_BLOCK_SHIFT) & UINT32;
        if (lastBatchBlock != 0) head = _batchesSince[token];
    }

    /// @notice Gas forwarded to each pushed native payment; a recipient that needs more (or reverts) gets a claim.
    function nativePushGas() external view returns (uint256) {
        return _nativePushGas;
    }

    /// @notice Gas forwarded to each pushed token transfer; one that needs more (or reverts) becomes a claim.
    function tokenPushGas() external view returns (uint256) {
        return _tokenPushGas;
    }

    /// @notice The latest liabilities commitment of `token` (address(0) = native coin); all zero before the first.
    ///         `custody` is the balance read by the commit (saturated at 2^128 - 1; LiabilitiesCommitted has it exact).
    function latestLiabilities(address token)
        external
        view
        returns (bytes32 root, uint128 total, uint64 epoch, uint64 asOfBlock, uint64 commitBlock, uint256 custody)
    {
        LiabilityCommitment storage l = _liabilities[token];
        return (l.root, l.total, l.epoch, l.asOfBlock, l.commitBlock, l.custody);
    }
}
