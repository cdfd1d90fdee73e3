// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Payout, ExitLeaf, SumNode, FoldedBatch, SettlementHashes} from "./SettlementTypes.sol";

/// @notice What a SettlementExit asks of the Settlement that deployed it (Settlement's own functions).
interface IExitCustody {
    function beginExit(address token) external returns (uint256 custody, bytes32 batchesHead);

    function latestLiabilities(address token)
        external
        view
        returns (bytes32 root, uint128 total, uint64 epoch, uint64 asOfBlock, uint64 commitBlock, uint256 custody);

    function floor(address token) external view returns (uint256 floor_, uint256 committedTotal, uint256 paidSince);

    function totalClaimable(address token) external view returns (uint256);

    function available(address token) external view returns (uint256);

    function batchesSinceCommitment(address token) external view returns (bytes32 head, uint256 lastBatchBlock);

    function payLeave(address token, address member, address to, uint256 amount, uint256 due) external;
}

/// @title SettlementExit
/// @notice The members' exit of a Settlement (EXIT.md): when the operator has stopped committing liabilities (or the
///         contract has stayed paused) for the Settlement's `exitAfter`, anyone opens a token's exit; anyone folds
///         the payout batches executed since the latest commitment; then each member takes, once, what their leaf of
///         that commitment says the plan owes them (reserved + held + pending + batched; `claimable` stays for
///         `claim`), less what those batches paid or deferred to them, times custody/owed when custody is short.
///         While a change of power is pending at the Settlement (its `leaveOpen`), each member may also leave alone,
///         at once (`leave`, EXIT.md §12): the same proof of the latest commitment, the batches since folded in the
///         same call, paid by the Settlement.
/// @dev Deployed by its Settlement's constructor, which it trusts for the opening's figures. At opening the
///      Settlement sends it the token's balance less what is claimable (claims are then paid from what stays there),
///      so the exits can never pay more, nor touch a claim. Apart from the Settlement so that the Settlement stays
///      under the 24,576-byte code limit (EIP-170). Transfers are checked by balance delta, as the Settlement's
///      (TRON USDT returns false on success).
contract SettlementExit is ReentrancyGuard {
    address private constant NATIVE = address(0);
    /// @dev Every value and sum of the Merkle-sum tree is below 2^128 (SOLVENCY.md: encoded as u128).
    uint256 private constant SUM_LIMIT = 1 << 128;
    /// @dev The tree's leaf index is a u32 (SOLVENCY.md's padding), so no proof is deeper.
    uint256 private constant MAX_DEPTH = 32;
    bytes1 private constant LEAF_TAG = 0x00;
    bytes1 private constant PARENT_TAG = 0x01;

    IExitCustody public immutable settlement;

    /// @dev A token's opened exit: the commitment it rests on and the figures of EXIT.md §4, fixed at opening, and
    ///      what is left to fold and what exits paid. Five slots, written at opening.
    struct Opening {
        bytes32 root;
        uint128 total;
        uint64 epoch;
        bool open;
        /// @dev What the exits may pay in all (the Settlement's floor less what was claimable at opening).
        uint128 owed;
        /// @dev What the Settlement sent at opening (its balance less what was claimable; saturated at 2^128 - 1):
        ///      exits never pay more.
        uint128 custody;
        /// @dev The running hash of the batches not folded yet (0: every batch since the commitment is folded).
        bytes32 batchesToFold;
        /// @dev What exits have paid so far.
        uint128 paid;
    }

    /// @dev One slot per (token, member): what the batches since the commitment paid or deferred to the member
    ///      (folded, saturated), and whether the member has exited.
    struct MemberExit {
        uint248 paidAfterCommitment;
        bool exited;
    }

    mapping(address token => Opening) private _openings;
    mapping(address token => mapping(address member => MemberExit)) private _members;

    /// @notice `token`'s exit opened on its latest commitment (`epoch`, `root`, `total`): the exits may pay `owed` in
    ///         all (the Settlement's floor less what was claimable: the committed total less what members were paid
    ///         since and what they can claim), from `custody` (what the Settlement sent here), each member the same
    ///         fraction custody/owed when custody is short. `batchesToFold` is the running hash of the payout batches
    ///         since the commitment, to be folded before anyone exits (0: none).
    event Opened(
        address indexed token,
        uint64 indexed epoch,
        bytes32 root,
        uint256 total,
        uint256 owed,
        uint256 custody,
        bytes32 batchesToFold
    );
    /// @notice `member` exited `token`: `amount` went to `to`, out of `entitlement` (reserved + held + pending +
    ///         batched of their leaf) less `subtracted` (what batches since the commitment paid or deferred to them).
    event Exited(
        address indexed member,
        address indexed token,
        address to,
        uint256 amount,
        uint256 entitlement,
        uint256 subtracted
    );
    /// @notice `count` batches were folded into per-recipient totals, `entriesTotal` in all; `batchesToFold` is the
    ///         running hash of those still to fold (0: all folded, exits may start).
    event BatchesFolded(address indexed token, uint256 count, uint256 entriesTotal, bytes32 batchesToFold);
    /// @notice `member` left `token` alone on its commitment `epoch` while a change of power was pending (EXIT.md §12):
    ///         `amount` went to `to`, out of `entitlement` (reserved + held + pending + batched of their leaf) less
    ///         `subtracted` (what payout batches since the commitment paid or deferred to them). The Settlement's
    ///         MemberLeft says the same of its custody.
    event Left(
        address indexed member,
        address indexed token,
        uint64 indexed epoch,
        address to,
        uint256 amount,
        uint256 entitlement,
        uint256 subtracted
    );

    error ExitNotOpen(address token);
    /// @notice Exits wait until every payout batch since the commitment is folded (`foldBatches`).
    error BatchesNotFolded(address token, bytes32 batchesToFold);
    error NothingToFold(address token);
    /// @notice Batch `index` of the call (newest first) is not the one the running hash `expected` ends with.
    error BatchNotInChain(uint256 index, bytes32 expected, bytes32 given);
    error AlreadyExited(address token, address member);
    /// @notice The proof does not fold to the committed root and total.
    error InvalidProof(bytes32 root, uint256 total, bytes32 provenRoot, uint256 provenTotal);
    /// @notice A leaf value or a sum is 2^128 or more (it would wrap in the tree's u128 encoding).
    error SumOutOfRange(uint256 sum);
    error IndexOutOfRange(uint256 index, uint256 depth);
    error ProofTooDeep(uint256 depth);
    /// @notice The exit would pay nothing: the leaf owes nothing beyond what was paid since, or the exits' custody is spent.
    error NothingToExit(address token, address member);
    /// @notice Only the member may send their exit elsewhere than to their own address.
    error WrongSender(address expected, address actual);
    error ZeroAddress();
    /// @notice An exit would pay the Settlement or this contract.
    error SelfPayment();
    /// @notice A payment did not leave exactly its amount (a token that failed, or lied about, a transfer).
    error OutboundTransferFailed();
    /// @notice `token`'s exit is open: its members exit there (`exit`), nobody leaves alone any more.
    error ExitOpen(address token);
    /// @notice `token` has no liabilities commitment yet: there is no leaf to leave with.
    error NoCommitment(address token);
    /// @notice The batches given end before the commitment: `remaining` is the running hash of those left out.
    error BatchesMissing(address token, bytes32 remaining);

    constructor() {
        settlement = IExitCustody(msg.sender);
    }

    /// @notice Only the Settlement sends the native coin here (its custody at opening).
    receive() external payable {
        if (msg.sender != address(settlement)) revert WrongSender(address(settlement), msg.sender);
    }

    // ───────────────────────────── actions ─────────────────────────────

    /// @notice Opens `token`'s exit for good, on its latest commitment, once the Settlement says it is due (no
    ///         commitment for `exitAfter`, or a pause that long): anyone may, an auditor without a proof as well.
    function openExit(address token) external nonReentrant {
        uint256 before = _balanceOf(token);
        (, bytes32 batchesHead) = settlement.beginExit(token);
        // what arrived (a fee-on-transfer token delivers less than was sent)
        uint256 custody = _balanceOf(token) - before;
        (bytes32 root, uint128 total, uint64 epoch,,,) = settlement.latestLiabilities(token);
        (uint256 floor_,,) = settlement.floor(token);
        uint256 claimable_ = settlement.totalClaimable(token);
        // the floor (≤ the committed total < 2^128) less what is claimable
        uint256 owed = floor_ > claimable_ ? floor_ - claimable_ : 0;
        Opening storage o = _openings[token];
        (o.root, o.total, o.epoch, o.open) = (root, total, epoch, true);
        // forge-lint: disable-next-line(unsafe-typecast)
        (o.owed, o.custody) = (uint128(owed), _saturate128(custody));
        o.batchesToFold = batchesHead;
        emit Opened(token, epoch, root, total, owed, custody, batchesHead);
    }

    /// @notice Folds payout batches executed since the commitment into what each recipient was paid (or deferred)
    ///         since: `batches` newest first, continuing from where the previous call stopped, each checked against
    ///         the running hash. Anyone may; a batch that fitted in a block folds in one (folding costs less than
    ///         paying), so the operator cannot price the exits out by stuffing batches.
    function foldBatches(address token, FoldedBatch[] calldata batches) external nonReentrant {
        Opening storage o = _openings[token];
        if (!o.open) revert ExitNotOpen(token);
        bytes32 head = o.batchesToFold;
        if (head == 0) revert NothingToFold(token);
        mapping(address member => MemberExit) storage members = _members[token];
        uint256 entriesTotal;
        for (uint256 i; i < batches.length; ++i) {
            FoldedBatch calldata b = batches[i];
            Payout[] calldata payouts = b.payouts;
            (bytes32 payoutsHash, uint256 sum,) = SettlementHashes.hashPayouts(payouts, address(settlement));
            bytes32 link = SettlementHashes.chainBatch(b.previous, b.nonce, payoutsHash);
            if (link != head) revert BatchNotInChain(i, head, link);
            for (uint256 j; j < payouts.length; ++j) {
                MemberExit storage m = members[payouts[j].recipient];
                m.paidAfterCommitment = _addSaturated(m.paidAfterCommitment, payouts[j].amount);
            }
            unchecked {
                entriesTotal += sum; // the event's figure only: never a reason to refuse a fold
            }
            head = b.previous;
        }
        o.batchesToFold = head;
        emit BatchesFolded(token, batches.length, entriesTotal, head);
    }

    /// @notice Pays `leaf.member`'s exit to `to`: anyone may send it to the member's own address (a friend paying the
    ///         gas, an auditor), only the member elsewhere (an address that can receive, when their own cannot).
    ///         `index` and `siblings` are the leaf's proof in the latest commitment's tree (SOLVENCY.md).
    /// @return amount What left custody: see previewExit.
    function exit(address token, ExitLeaf calldata leaf, uint256 index, SumNode[] calldata siblings, address to)
        external
        nonReentrant
        returns (uint256 amount)
    {
        address member = leaf.member;
        if (to != member && msg.sender != member) revert WrongSender(member, msg.sender);
        if (to == address(0)) revert ZeroAddress();
        if (to == address(settlement) || to == address(this)) revert SelfPayment();
        Opening storage o = _openings[token];
        MemberExit storage m = _members[token][member];
        uint256 entitlement;
        uint256 subtracted;
        (entitlement, subtracted, amount) = _due(token, o, m, leaf, index, siblings);
        if (amount == 0) revert NothingToExit(token, member);
        m.exited = true;
        // amount ≤ custody - paid (_due), both below 2^128
        // forge-lint: disable-next-line(unsafe-typecast)
        o.paid += uint128(amount);
        _send(token, to, amount);
        emit Exited(member, token, to, amount, entitlement, subtracted);
    }

    /// @notice Leaves `token` at once, while a change of power is pending at the Settlement (`leaveOpen`; EXIT.md
    ///         §12): pays `leaf.member`, to `to`, what the exit would pay them on the latest commitment — their leaf's
    ///         reserved + held + pending + batched, less what the payout batches executed since paid or deferred to
    ///         them, all of it unless custody is short (then the exit's fraction: custody not claimable over the floor
    ///         less what is claimable). `batches` are every payout batch of `token` since the commitment, newest first,
    ///         as `foldBatches` takes them (empty when there was none). Anyone may send it to the member's own address,
    ///         only the member elsewhere; once per member and token, for good (it is also their exit, should the
    ///         token's exit open later).
    /// @return amount What the Settlement paid.
    function leave(
        address token,
        ExitLeaf calldata leaf,
        uint256 index,
        SumNode[] calldata siblings,
        FoldedBatch[] calldata batches,
        address to
    ) external nonReentrant returns (uint256 amount) {
        address member = leaf.member;
        if (to != member && msg.sender != member) revert WrongSender(member, msg.sender);
        if (to == address(0)) revert ZeroAddress();
        if (to == address(settlement) || to == address(this)) revert SelfPayment();
        if (_openings[token].open) revert ExitOpen(token);
        MemberExit storage m = _members[token][member];
        if (m.exited) revert AlreadyExited(token, member);
        uint64 epoch;
        uint256 entitlement;
        uint256 subtracted;
        (epoch, entitlement, subtracted, amount) = _leaveDue(token, leaf, index, siblings, batches);
        if (amount == 0) revert NothingToExit(token, member);
        m.exited = true;
        settlement.payLeave(token, member, to, amount, entitlement - subtracted);
        emit Left(member, token, epoch, to, amount, entitlement, subtracted);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice What `leave` would pay now (reverting as it would on a bad proof or an incomplete list of batches):
    ///         `entitlement` = reserved + held + pending + batched of the leaf, `subtracted` = what the batches since
    ///         the commitment paid or deferred to the member (at most the entitlement), `amount` = the rest, times the
    ///         exit's fraction when custody is short. It does not say whether leaving is open (`leaveOpen`).
    function previewLeave(
        address token,
        ExitLeaf calldata leaf,
        uint256 index,
        SumNode[] calldata siblings,
        FoldedBatch[] calldata batches
    ) external view returns (uint256 entitlement, uint256 subtracted, uint256 amount) {
        (, entitlement, subtracted, amount) = _leaveDue(token, leaf, index, siblings, batches);
    }

    /// @notice What `exit` would pay for this leaf now (reverting as it would on a bad proof or before the batches
    ///         are folded): `entitlement` = reserved + held + pending + batched; `subtracted` = what the batches since
    ///         the commitment paid or deferred to the member, at most the entitlement; `amount` = the rest times
    ///         custody/owed when custody is short (rounded down), at most what is left of the exits' custody.
    function previewExit(address token, ExitLeaf calldata leaf, uint256 index, SumNode[] calldata siblings)
        external
        view
        returns (uint256 entitlement, uint256 subtracted, uint256 amount)
    {
        return _due(token, _openings[token], _members[token][leaf.member], leaf, index, siblings);
    }

    /// @notice `token`'s exit: whether it is open, the commitment it rests on, the figures fixed at opening, what is
    ///         left to fold, and what exits paid so far.
    function opening(address token)
        external
        view
        returns (
            bool open,
            uint64 epoch,
            bytes32 root,
            uint128 total,
            uint128 owed,
            uint128 custody,
            bytes32 batchesToFold,
            uint128 paid
        )
    {
        Opening storage o = _openings[token];
        return (o.open, o.epoch, o.root, o.total, o.owed, o.custody, o.batchesToFold, o.paid);
    }

    /// @notice What the folded batches paid or deferred to `member` in `token` since the commitment, and whether the
    ///         member has exited.
    function memberExit(address token, address member)
        external
        view
        returns (uint256 paidAfterCommitment, bool exited)
    {
        MemberExit storage m = _members[token][member];
        return (m.paidAfterCommitment, m.exited);
    }

    /// @notice The leaf hash, and the root and sum a Merkle-sum proof folds to, in the tree of (`chainId`,
    ///         `settlement_`, `token`, `epoch`) (SOLVENCY.md, byte for byte: both children's sums hashed, every sum
    ///         below 2^128; at level k the node is the right child when bit k of `index` is set).
    function foldProof(
        uint64 chainId,
        address settlement_,
        address token,
        uint64 epoch,
        ExitLeaf calldata leaf,
        uint256 index,
        SumNode[] calldata siblings
    ) public pure returns (bytes32 leafHash, bytes32 root, uint256 total) {
        leafHash = _leafHash(chainId, settlement_, token, epoch, leaf);
        uint256 value = uint256(leaf.reserved) + leaf.held + leaf.pending + leaf.batched + leaf.claimable;
        if (value >= SUM_LIMIT) revert SumOutOfRange(value);
        uint256 depth = siblings.length;
        if (depth > MAX_DEPTH) revert ProofTooDeep(depth);
        if (index >> depth != 0) revert IndexOutOfRange(index, depth);
        (root, total) = (leafHash, value);
        for (uint256 k; k < depth; ++k) {
            (bytes32 siblingHash, uint256 siblingSum) = (siblings[k].hash, siblings[k].sum);
            if (siblingSum >= SUM_LIMIT) revert SumOutOfRange(siblingSum);
            // both below 2^128: the casts are exact
            // forge-lint: disable-next-line(unsafe-typecast)
            (uint128 nodeSum, uint128 sibSum) = (uint128(total), uint128(siblingSum));
            root = (index >> k) & 1 == 0
                ? keccak256(abi.encodePacked(PARENT_TAG, root, nodeSum, siblingHash, sibSum))
                : keccak256(abi.encodePacked(PARENT_TAG, siblingHash, sibSum, root, nodeSum));
            total += siblingSum;
            if (total >= SUM_LIMIT) revert SumOutOfRange(total);
        }
    }

    // ───────────────────────────── internals ─────────────────────────────

    /// @dev A leave's figures (see previewLeave), the leaf checked in the latest commitment's tree.
    function _leaveDue(
        address token,
        ExitLeaf calldata leaf,
        uint256 index,
        SumNode[] calldata siblings,
        FoldedBatch[] calldata batches
    ) private view returns (uint64 epoch, uint256 entitlement, uint256 subtracted, uint256 amount) {
        epoch = _checkLatest(token, leaf, index, siblings);
        (bytes32 head,) = settlement.batchesSinceCommitment(token);
        uint256 paidAfter = _paidSince(token, leaf.member, head, batches);
        // below 2^128: the leaf's value, checked by foldProof, is this plus `claimable`
        entitlement = uint256(leaf.reserved) + leaf.held + leaf.pending + leaf.batched;
        subtracted = paidAfter < entitlement ? paidAfter : entitlement;
        amount = _shareNow(token, entitlement - subtracted);
    }

    /// @dev The epoch of `token`'s latest commitment, in whose tree the proof of `leaf` must fold to the root and total.
    function _checkLatest(address token, ExitLeaf calldata leaf, uint256 index, SumNode[] calldata siblings)
        private
        view
        returns (uint64 epoch)
    {
        (bytes32 root, uint128 total, uint64 epoch_,,,) = settlement.latestLiabilities(token);
        if (epoch_ == 0) revert NoCommitment(token);
        (, bytes32 provenRoot, uint256 provenTotal) =
            foldProof(uint64(block.chainid & 0xffffffff), address(settlement), token, epoch_, leaf, index, siblings);
        if (provenRoot != root || provenTotal != total) revert InvalidProof(root, total, provenRoot, provenTotal);
        return epoch_;
    }

    /// @dev What of `due` the Settlement can pay now: all of it, or the exit's fraction as an opening now would fix it
    ///      (custody not claimable over the floor less what is claimable), never more than that custody.
    function _shareNow(address token, uint256 due) private view returns (uint256 amount) {
        uint256 free = settlement.available(token);
        (uint256 floor_,,) = settlement.floor(token);
        uint256 claimable_ = settlement.totalClaimable(token);
        uint256 owed = floor_ > claimable_ ? floor_ - claimable_ : 0;
        // due and owed below 2^128 (owed ≤ a committed total): the product fits
        amount = free >= owed ? due : due * free / owed;
        if (amount > free) amount = free;
    }

    /// @dev What `batches` — every payout batch since the commitment, newest first, whose running hash is `head` —
    ///      paid or deferred to `member` (saturated).
    function _paidSince(address token, address member, bytes32 head, FoldedBatch[] calldata batches)
        private
        view
        returns (uint256 paid)
    {
        for (uint256 i; i < batches.length; ++i) {
            FoldedBatch calldata b = batches[i];
            Payout[] calldata payouts = b.payouts;
            (bytes32 payoutsHash,,) = SettlementHashes.hashPayouts(payouts, address(settlement));
            bytes32 link = SettlementHashes.chainBatch(b.previous, b.nonce, payoutsHash);
            if (link != head) revert BatchNotInChain(i, head, link);
            for (uint256 j; j < payouts.length; ++j) {
                if (payouts[j].recipient == member) paid = _addSaturated(uint248(paid), payouts[j].amount);
            }
            head = b.previous;
        }
        if (head != 0) revert BatchesMissing(token, head);
    }

    /// @dev Checks the exit (_checkLeaf), then computes the payment (see previewExit).
    function _due(
        address token,
        Opening storage o,
        MemberExit storage m,
        ExitLeaf calldata leaf,
        uint256 index,
        SumNode[] calldata siblings
    ) private view returns (uint256 entitlement, uint256 subtracted, uint256 amount) {
        _checkLeaf(token, o, m, leaf, index, siblings);
        // below 2^128: the leaf's value, checked by foldProof, is this plus `claimable`
        entitlement = uint256(leaf.reserved) + leaf.held + leaf.pending + leaf.batched;
        uint256 paidAfter = m.paidAfterCommitment;
        subtracted = paidAfter < entitlement ? paidAfter : entitlement;
        uint256 due = entitlement - subtracted;
        (uint256 owed, uint256 custody) = (o.owed, o.custody);
        // the same fraction for every member, fixed at opening, never above 1; both factors below 2^128
        amount = custody >= owed ? due : due * custody / owed;
        // owed can understate what the exits pay (a member paid since beyond their leaf is floored at 0, not counted
        // negative), so the exits' custody is also a hard cap: claims are never starved
        uint256 left = custody - o.paid;
        if (amount > left) amount = left;
    }

    /// @dev The exit is open and folded, the member has not exited, and the proof folds to the committed root and
    ///      total in this Settlement's tree of the token and epoch.
    function _checkLeaf(
        address token,
        Opening storage o,
        MemberExit storage m,
        ExitLeaf calldata leaf,
        uint256 index,
        SumNode[] calldata siblings
    ) private view {
        if (!o.open) revert ExitNotOpen(token);
        bytes32 batchesToFold = o.batchesToFold;
        if (batchesToFold != 0) revert BatchesNotFolded(token, batchesToFold);
        if (m.exited) revert AlreadyExited(token, leaf.member);
        (, bytes32 provenRoot, uint256 provenTotal) =
            foldProof(uint64(block.chainid & 0xffffffff), address(settlement), token, o.epoch, leaf, index, siblings);
        if (provenRoot != o.root || provenTotal != o.total) {
            revert InvalidProof(o.root, o.total, provenRoot, provenTotal);
        }
    }

    /// @dev keccak256(0x00 ‖ chainId u64 ‖ contract 20B ‖ token 20B ‖ epoch u64 ‖ member 20B ‖ reserved u128 ‖
    ///      held u128 ‖ pending u128 ‖ batched u128 ‖ claimable u128 ‖ salt 32B), 189 bytes.
    function _leafHash(uint64 chainId, address settlement_, address token, uint64 epoch, ExitLeaf calldata leaf)
        private
        pure
        returns (bytes32)
    {
        bytes memory head = abi.encodePacked(LEAF_TAG, chainId, settlement_, token, epoch, leaf.member);
        bytes memory tail = abi.encodePacked(leaf.reserved, leaf.held, leaf.pending, leaf.batched, leaf.claimable);
        return keccak256(bytes.concat(head, tail, leaf.salt));
    }

    /// @dev Full-gas transfer that must succeed; tokens checked by balance delta (the return value is not trusted:
    ///      TRON USDT returns false on success).
    function _send(address token, address to, uint256 amount) private {
        if (token == NATIVE) {
            (bool sent,) = to.call{value: amount}("");
            if (!sent) revert OutboundTransferFailed();
            return;
        }
        uint256 before = _balanceOf(token);
        (bool ok,) = token.call(abi.encodeCall(IERC20.transfer, (to, amount)));
        if (!ok || before - _balanceOf(token) != amount) revert OutboundTransferFailed();
    }

    function _balanceOf(address token) private view returns (uint256) {
        return token == NATIVE ? address(this).balance : IERC20(token).balanceOf(address(this));
    }

    function _addSaturated(uint248 a, uint256 b) private pure returns (uint248) {
        uint256 sum = uint256(a) + (b > type(uint248).max ? type(uint248).max : b);
        // forge-lint: disable-next-line(unsafe-typecast)
        return sum > type(uint248).max ? type(uint248).max : uint248(sum);
    }

    function _saturate128(uint256 x) private pure returns (uint128) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return x > type(uint128).max ? type(uint128).max : uint128(x);
    }
}
