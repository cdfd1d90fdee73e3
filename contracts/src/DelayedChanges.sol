// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

/// @notice The kinds of change to the contract's powers over money that wait `changeDelay` before they take effect.
enum ChangeKind {
    /// args: abi.encode(address newSigner)
    SignerRotation,
    /// args: abi.encode(bytes32 role, address account): OPERATOR, TREASURER or PAUSER
    RoleGrant,
    /// args: abi.encode(bytes32 role, address account)
    RoleRevocation,
    /// args: abi.encode(address token): allowing a token for registrations and retopups
    TokenAllowance,
    /// args: abi.encode(uint256 nativePushGas, uint256 tokenPushGas)
    PushGas,
    /// args: empty. The admin's way to end a pause (a pauser ends its own at once): issue 65.
    Unpause
}

/// @notice A scheduled change as `pendingChanges()` lists it.
struct PendingChange {
    bytes32 id;
    ChangeKind kind;
    bytes args;
    /// @dev Unix seconds (the chain's clock) from which `applyChange(id)` may apply it.
    uint64 readyAt;
}

/// @title DelayedChanges
/// @notice Every change to who may move money, or how, is announced and waits a delay fixed at deployment before it
///         can take effect; the admin may cancel it until it is applied. A stolen admin key can therefore not rotate
///         the signer or grant itself a money role without every watcher (members, the reconciler) seeing it for the
///         whole delay. The list of pending changes is readable on chain, so a wallet shows it without our servers.
/// @dev Implementers check and apply each kind (`_checkChange`, `_applyChange`) and gate scheduling, applying and
///      cancelling on their admin role.
abstract contract DelayedChanges {
    /// @notice Seconds between scheduling a change and the earliest moment it may be applied.
    uint256 public immutable changeDelay;

    mapping(bytes32 id => PendingChange) private _changes;
    /// @dev Ids of the pending changes; `_position[id]` is the index + 1 (0 = not pending).
    bytes32[] private _pendingIds;
    mapping(bytes32 id => uint256) private _position;

    /// @notice Most changes pending at once: `pendingChanges()` stays readable by any wallet (issue 65: 4,001 pending
    ///         changes took 92.6M gas to read).
    uint256 public constant MAX_PENDING_CHANGES = 32;

    event ChangeScheduled(bytes32 indexed id, ChangeKind indexed kind, bytes args, uint256 readyAt);
    event ChangeCancelled(bytes32 indexed id, ChangeKind indexed kind, bytes args);
    event ChangeApplied(bytes32 indexed id, ChangeKind indexed kind, bytes args);

    /// @notice This exact change is already waiting its delay.
    error ChangeAlreadyPending(bytes32 id);
    /// @notice No change with this id is pending (never scheduled, cancelled or applied already).
    error ChangeNotPending(bytes32 id);
    /// @notice The change's delay has not passed yet.
    error ChangeNotReady(bytes32 id, uint256 readyAt, uint256 now_);
    /// @notice `MAX_PENDING_CHANGES` changes are pending already: apply or cancel one first.
    error TooManyPendingChanges(uint256 max);

    constructor(uint256 delay) {
        changeDelay = delay;
    }

    /// @notice Every change waiting its delay (in no particular order; cancelled and applied ones are removed).
    function pendingChanges() external view returns (PendingChange[] memory changes) {
        uint256 n = _pendingIds.length;
        changes = new PendingChange[](n);
        for (uint256 i; i < n; ++i) {
            changes[i] = _changes[_pendingIds[i]];
        }
    }

    /// @notice How many changes are pending (at most `MAX_PENDING_CHANGES`): while any is, members may leave
    ///         (Settlement's `leaveOpen`).
    function pendingCount() public view returns (uint256) {
        return _pendingIds.length;
    }

    /// @notice The id a change of `kind` with `args` has while pending.
    function changeId(ChangeKind kind, bytes memory args) public pure returns (bytes32) {
        return keccak256(abi.encode(kind, args));
    }

    function _schedule(ChangeKind kind, bytes memory args) internal returns (bytes32 id) {
        _checkChange(kind, args);
        id = changeId(kind, args);
        if (_position[id] != 0) revert ChangeAlreadyPending(id);
        if (_pendingIds.length >= MAX_PENDING_CHANGES) revert TooManyPendingChanges(MAX_PENDING_CHANGES);
        // forge-lint: disable-next-line(unsafe-typecast)
        uint64 readyAt = uint64(block.timestamp + changeDelay); // a uint48 delay after a 2026 timestamp fits
        _changes[id] = PendingChange(id, kind, args, readyAt);
        _pendingIds.push(id);
        _position[id] = _pendingIds.length;
        emit ChangeScheduled(id, kind, args, readyAt);
    }

    function _cancel(bytes32 id) internal {
        PendingChange memory change = _remove(id);
        emit ChangeCancelled(id, change.kind, change.args);
    }

    function _apply(bytes32 id) internal {
        PendingChange storage pending = _changes[id];
        if (_position[id] == 0) revert ChangeNotPending(id);
        if (block.timestamp < pending.readyAt) revert ChangeNotReady(id, pending.readyAt, block.timestamp);
        PendingChange memory change = _remove(id);
        _checkChange(change.kind, change.args);
        _applyChange(change.kind, change.args);
        emit ChangeApplied(id, change.kind, change.args);
    }

    function _remove(bytes32 id) private returns (PendingChange memory change) {
        uint256 position = _position[id];
        if (position == 0) revert ChangeNotPending(id);
        change = _changes[id];
        uint256 last = _pendingIds.length;
        if (position != last) {
            bytes32 moved = _pendingIds[last - 1];
            _pendingIds[position - 1] = moved;
            _position[moved] = position;
        }
        _pendingIds.pop();
        delete _position[id];
        delete _changes[id];
    }

    /// @dev Reverts when `args` are not a valid change of `kind` (checked when scheduled and again when applied).
    function _checkChange(ChangeKind kind, bytes memory args) internal view virtual;

    /// @dev Makes the change take effect.
    function _applyChange(ChangeKind kind, bytes memory args) internal virtual;
}
