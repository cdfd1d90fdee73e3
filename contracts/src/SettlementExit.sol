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

    function exitAfter() external view returns (uint256);

    /// @dev AccessControlDefaultAdminRules' view: who receives the exits' surplus once the claim window has closed.
    function defaultAdmin() external view returns (address);
}

/// @title SettlementExit
/// @notice The members' exit of a Settlement (EXIT.md): when the operator has stopped committing liabilities (or the
///         contract has stayed paused) for the Settlement's `exitAfter`, anyone opens a token's exit; anyone folds
///         the payout batches executed since the latest commitment; then, during the claim window (the longer of
///         `exitAfter` and `MIN_CLAIM_WINDOW` from the opening), each member claims, once, what their leaf of that
///         commitment says the plan owes them (reserved + held + pending + batched; `claimable` stays for `claim`),
///         less what those batches paid or deferred to them (`exit`). Once the window has closed, every claim is paid
///         the same fraction min(1, custody/proven) — proven being the sum of the claims — whatever the order
///         (`payOut`, by anyone; EXIT.md §13), and what custody holds beyond the claims goes back to the Settlement's
///         default admin (`returnSurplus`).
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

    /// @notice The shortest claim window (EXIT.md §13): members claim for the longer of this and the Settlement's
    ///         `exitAfter` from the opening, before anything is paid.
    uint256 public constant MIN_CLAIM_WINDOW = 30 days;

    IExitCustody public immutable settlement;

    /// @dev A token's opened exit: the commitment it rests on, the end of its claim window and the figures of EXIT.md
    ///      §4, fixed at opening; what is left to fold; what the claims add up to and what payouts paid. Slots 0-3
    ///      are written at opening; a claim writes slot 4 (and reads 0, 1, 3), a payout slot 4 (and reads 1, 2), the
    ///      surplus's return slot 5.
    struct Opening {
        bytes32 root;
        uint128 total;
        uint64 epoch;
        /// @dev When the claim window closes (unix seconds, the chain's clock); 0: the exit is not open.
        uint64 claimEnd;
        /// @dev What the exits owe by the opening's figures (the Settlement's floor less what was claimable): the
        ///      Opened event's and `opening`'s, no longer the fraction's (that is custody/proven, §13).
        uint128 owed;
        /// @dev What the Settlement sent at opening (its balance less what was claimable; saturated at 2^128 - 1):
        ///      the exits never pay more.
        uint128 custody;
        /// @dev The running hash of the batches not folded yet (0: every batch since the commitment is folded).
        bytes32 batchesToFold;
        /// @dev The sum of the dues claimed in the window (below the committed total < 2^128: one claim per member,
        ///      each a distinct leaf of the tree).
        uint128 proven;
        /// @dev What payouts have paid so far.
        uint128 paid;
        /// @dev Whether custody beyond the claims went back to the Settlement's admin (`returnSurplus`).
        bool surplusReturned;
    }

    /// @dev One slot per (token, member): what the batches since the commitment paid or deferred to the member
    ///      (folded, saturated), and whether the member left (EXIT.md §12). A claim is recorded apart (`Claim`), so
    ///      that claiming writes no slot but the claim's own: "exited" is left or claimed.
    struct MemberExit {
        uint248 paidAfterCommitment;
        bool exited;
    }

    /// @dev One slot per (token, member) who claimed in the window: the due (> 0: a claim of nothing is refused),
    ///      whether it was paid, and whether it is paid elsewhere than to the member (then `_payTo`).
    struct Claim {
        uint128 due;
        bool paid;
        bool elsewhere;
    }

    mapping(address token => Opening) private _openings;
    mapping(address token => mapping(address member => MemberExit)) private _members;
    mapping(address token => mapping(address member => Claim)) private _claims;
    /// @dev Where a claim is paid when not to the member (written only then: a claim to oneself costs no slot here).
    mapping(address token => mapping(address member => address)) private _payTo;

    /// @notice `token`'s exit opened on its latest commitment (`epoch`, `root`, `total`): by the opening's figures the
    ///         exits owe `owed` (the Settlement's floor less what was claimable: the committed total less what members
    ///         were paid since and what they can claim), from `custody` (what the Settlement sent here; every claim is
    ///         paid the same fraction min(1, custody/proven) after the claim window, ClaimWindowOpened).
    ///         `batchesToFold` is the running hash of the payout batches since the commitment, to be folded before
    ///         anyone claims (0: none).
    event Opened(
        address indexed token,
        uint64 indexed epoch,
        bytes32 root,
        uint256 total,
        uint256 owed,
        uint256 custody,
        bytes32 batchesToFold
    );
    /// @notice `token`'s claim window runs from the opening until `end` (unix seconds, the chain's clock): members claim
    ///         (`exit`) before it, payouts and the surplus's return come from it on.
    event ClaimWindowOpened(address indexed token, uint256 end);
    /// @notice `member` claimed in `token`'s claim window, to be paid to `to` once it closes: `due` = `entitlement`
    ///         (reserved + held + pending + batched of their leaf) less `subtracted` (what batches since the
    ///         commitment paid or deferred to them), of which `payOut` pays min(1, custody/proven).
    event Claimed(
        address indexed member, address indexed token, address to, uint256 due, uint256 entitlement, uint256 subtracted
    );
    /// @notice `member` will be paid in `token` to `to` from now on (their claim's payout is redirected).
    event Redirected(address indexed member, address indexed token, address to);
    /// @notice `member` exited `token` (their claim paid once the window closed): `amount` went to `to`, out of
    ///         `entitlement` (reserved + held + pending + batched of their leaf) less `subtracted` (what batches since
    ///         the commitment paid or deferred to them), times min(1, custody/proven). An amount of 0 (custody so
    ///         short that the share rounds to nothing) settles the claim without a transfer.
    event Exited(
        address indexed member,
        address indexed token,
        address to,
        uint256 amount,
        uint256 entitlement,
        uint256 subtracted
    );
    /// @notice After `token`'s claim window, `amount` — the custody beyond what the claims add up to — went to `to`,
    ///         the Settlement's default admin.
    event SurplusReturned(address indexed token, address to, uint256 amount);
    /// @notice `count` batches were folded into per-recipient totals, `entriesTotal` in all; `batchesToFold` is the
    ///         running hash of those still to fold (0: all folded, claims may start).
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
    /// @notice Claims wait until every payout batch since the commitment is folded (`foldBatches`).
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
    /// @notice The claim would be of nothing: the leaf owes nothing beyond what was paid since.
    error NothingToExit(address token, address member);
    /// @notice `token`'s claim window closed at `end`: no claim any more.
    error ClaimWindowClosed(address token, uint256 end);
    /// @notice `token`'s claim window closes at `end`: nothing is paid (nor the surplus returned) before.
    error ClaimWindowOpen(address token, uint256 end);
    /// @notice `member` made no claim in `token`'s window.
    error NotClaimed(address token, address member);
    /// @notice `member`'s claim in `token` was paid.
    error AlreadyPaid(address token, address member);
    error SurplusAlreadyReturned(address token);
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
        uint256 owed = _owedNow(token);
        Opening storage o = _openings[token];
        (o.root, o.total, o.epoch, o.claimEnd) = (root, total, epoch, _claimEnd());
        // forge-lint: disable-next-line(unsafe-typecast)
        (o.owed, o.custody) = (uint128(owed), _saturate128(custody));
        o.batchesToFold = batchesHead;
        emit Opened(token, epoch, root, total, owed, custody, batchesHead);
        emit ClaimWindowOpened(token, o.claimEnd);
    }

    /// @notice Folds payout batches executed since the commitment into what each recipient was paid (or deferred)
    ///         since: `batches` newest first, continuing from where the previous call stopped, each checked against
    ///         the running hash. Anyone may; a batch that fitted in a block folds in one (folding costs less than
    ///         paying), so the operator cannot price the exits out by stuffing batches.
    function foldBatches(address token, FoldedBatch[] calldata batches) external nonReentrant {
        Opening storage o = _openings[token];
        if (o.claimEnd == 0) revert ExitNotOpen(token);
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

    /// @notice Claims `leaf.member`'s exit, during the claim window (EXIT.md §13): records their due — reserved +
    ///         held + pending + batched of the leaf, less what the batches since the commitment paid or deferred to
    ///         them — to be paid to `to` once the window closes (`payOut`), the same fraction of it as every other
    ///         claim's. Anyone may claim paying the member's own address (a friend paying the gas, an auditor), only
    ///         the member elsewhere (an address that can receive, when their own cannot). `index` and `siblings` are
    ///         the leaf's proof in the latest commitment's tree (SOLVENCY.md). Once per member.
    /// @return due What was recorded (see previewExit for what it will pay).
    function exit(address token, ExitLeaf calldata leaf, uint256 index, SumNode[] calldata siblings, address to)
        external
        nonReentrant
        returns (uint256 due)
    {
        _checkRecipient(leaf.member, to);
        Opening storage o = _openings[token];
        Claim storage c = _openForClaims(token, o, leaf.member);
        (uint256 entitlement, uint256 subtracted) = _figures(token, o, leaf, index, siblings);
        due = entitlement - subtracted;
        if (due == 0) revert NothingToExit(token, leaf.member);
        // due < 2^128 (a leaf's value); the sum of every member's below the committed total (checked all the same)
        // forge-lint: disable-next-line(unsafe-typecast)
        c.due = uint128(due);
        if (to != leaf.member) {
            c.elsewhere = true;
            _payTo[token][leaf.member] = to;
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        o.proven += uint128(due);
        emit Claimed(leaf.member, token, to, due, entitlement, subtracted);
    }

    /// @notice Pays `member`'s claim in `token` once the claim window has closed: its due times min(1, custody/proven),
    ///         rounded down — the same fraction for every member, whatever the order — to where the claim says.
    ///         Anyone may. Once per claim; a share that rounds to 0 is settled without a transfer.
    /// @return amount What was paid.
    function payOut(address token, address member) external nonReentrant returns (uint256 amount) {
        Opening storage o = _openings[token];
        _checkClosed(token, o.claimEnd);
        Claim storage c = _claims[token][member];
        if (c.paid) revert AlreadyPaid(token, member);
        return _payOut(token, o, c, member);
    }

    /// @notice `payOut` for each of `members`, skipping those already paid (two sweeps that overlap do not undo each
    ///         other, nor does a member listed twice); a member who never claimed reverts the whole call (`NotClaimed`:
    ///         a list built wrong), as does a payment that fails.
    /// @return total What was paid in all.
    function payOutMany(address token, address[] calldata members) external nonReentrant returns (uint256 total) {
        Opening storage o = _openings[token];
        _checkClosed(token, o.claimEnd);
        mapping(address member => Claim) storage claims = _claims[token];
        for (uint256 i; i < members.length; ++i) {
            Claim storage c = claims[members[i]];
            if (!c.paid) total += _payOut(token, o, c, members[i]);
        }
    }

    /// @notice The member (only them) sends their claim's payout in `token` to `to` instead, any time before it is
    ///         paid: during the window, or after it when the address first given cannot receive.
    function redirect(address token, address to) external nonReentrant {
        address member = msg.sender;
        _checkRecipient(member, to);
        Claim storage c = _claims[token][member];
        if (c.due == 0) revert NotClaimed(token, member);
        if (c.paid) revert AlreadyPaid(token, member);
        bool elsewhere = to != member;
        c.elsewhere = elsewhere;
        if (elsewhere) _payTo[token][member] = to;
        emit Redirected(member, token, to);
    }

    /// @notice Once `token`'s claim window has closed, sends the custody beyond what the claims add up to —
    ///         custody − min(custody, proven) — to the Settlement's default admin (the company's share: what no member
    ///         claimed in the window). Anyone may; once. Every claim stays payable in full of its share: the
    ///         payouts add up to at most min(custody, proven).
    /// @return amount What was sent.
    function returnSurplus(address token) external nonReentrant returns (uint256 amount) {
        Opening storage o = _openings[token];
        _checkClosed(token, o.claimEnd);
        if (o.surplusReturned) revert SurplusAlreadyReturned(token);
        address admin = settlement.defaultAdmin();
        if (admin == address(0)) revert ZeroAddress();
        o.surplusReturned = true;
        amount = _surplus(o);
        if (amount != 0) _send(token, admin, amount);
        emit SurplusReturned(token, admin, amount);
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
        _checkRecipient(member, to);
        if (_openings[token].claimEnd != 0) revert ExitOpen(token);
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

    /// @notice What `payOut` would pay this leaf's member now (reverting as `exit` would on a bad proof or before
    ///         the batches are folded): `entitlement` = reserved + held + pending + batched; `subtracted` = what the
    ///         batches since the commitment paid or deferred to the member, at most the entitlement; `amount` = the
    ///         rest times min(1, custody/proven), rounded down, proven counting this member's due when they have not
    ///         claimed yet. During the window the fraction can only fall as others claim; once it has closed it is
    ///         final (a member who claimed: what their payout pays or paid; one who did not: ClaimWindowClosed).
    function previewExit(address token, ExitLeaf calldata leaf, uint256 index, SumNode[] calldata siblings)
        external
        view
        returns (uint256 entitlement, uint256 subtracted, uint256 amount)
    {
        Opening storage o = _openings[token];
        // a member who claimed: what their payout pays (or paid); otherwise as `exit` would check it
        bool claimed = _claims[token][leaf.member].due != 0;
        if (!claimed) _openForClaims(token, o, leaf.member);
        (entitlement, subtracted) = _figures(token, o, leaf, index, siblings);
        uint256 due = entitlement - subtracted;
        // not claimed yet: the claims' sum as it would be with this one
        amount = _share(due, o.custody, claimed ? o.proven : o.proven + due);
    }

    /// @notice `token`'s exit: whether it is open, the commitment it rests on, the figures fixed at opening, what is
    ///         left to fold, and what payouts paid so far. The claim window's figures: `claimWindow`.
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
        return (o.claimEnd != 0, o.epoch, o.root, o.total, o.owed, o.custody, o.batchesToFold, o.paid);
    }

    /// @notice `token`'s claim window (EXIT.md §13): when it ends (0: the exit is not open), whether it has closed
    ///         (by the chain's clock), what the claims add up to, the surplus — custody − min(custody, proven), what
    ///         `returnSurplus` sends once it has closed (before: as it would be if it closed now) — and whether it
    ///         was returned.
    function claimWindow(address token)
        external
        view
        returns (uint64 end, bool closed, uint256 proven, uint256 surplus, bool surplusReturned)
    {
        Opening storage o = _openings[token];
        end = o.claimEnd;
        return (end, end != 0 && block.timestamp >= end, o.proven, _surplus(o), o.surplusReturned);
    }

    /// @notice `member`'s claim in `token`: the due recorded (0: no claim), where it is paid (0: no claim), and
    ///         whether it was paid.
    function claimOf(address token, address member) external view returns (uint256 due, address to, bool paid) {
        Claim storage c = _claims[token][member];
        due = c.due;
        if (due != 0) to = c.elsewhere ? _payTo[token][member] : member;
        paid = c.paid;
    }

    /// @notice What the folded batches paid or deferred to `member` in `token` since the commitment, and whether the
    ///         member has exited: claimed in the exit's window, or left (EXIT.md §12).
    function memberExit(address token, address member)
        external
        view
        returns (uint256 paidAfterCommitment, bool exited)
    {
        MemberExit storage m = _members[token][member];
        return (m.paidAfterCommitment, m.exited || _claims[token][member].due != 0);
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
        uint256 owed = _owedNow(token);
        // due and owed below 2^128 (owed ≤ a committed total): the product fits
        amount = free >= owed ? due : due * free / owed;
        if (amount > free) amount = free;
    }

    /// @dev What the exits owe by the Settlement's figures now (EXIT.md §4): its floor (≤ the committed total <
    ///      2^128) less what is claimable.
    function _owedNow(address token) private view returns (uint256) {
        (uint256 floor_,,) = settlement.floor(token);
        uint256 claimable_ = settlement.totalClaimable(token);
        return floor_ > claimable_ ? floor_ - claimable_ : 0;
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

    /// @dev Checks the leaf (_checkLeaf), then its figures: `entitlement` = reserved + held + pending + batched,
    ///      `subtracted` = what the folded batches paid or deferred to the member, at most the entitlement.
    function _figures(
        address token,
        Opening storage o,
        ExitLeaf calldata leaf,
        uint256 index,
        SumNode[] calldata siblings
    ) private view returns (uint256 entitlement, uint256 subtracted) {
        _checkLeaf(token, o, leaf, index, siblings);
        // below 2^128: the leaf's value, checked by foldProof, is this plus `claimable`
        entitlement = uint256(leaf.reserved) + leaf.held + leaf.pending + leaf.batched;
        uint256 paidAfter = _members[token][leaf.member].paidAfterCommitment;
        subtracted = paidAfter < entitlement ? paidAfter : entitlement;
    }

    /// @dev Every batch since the commitment is folded, and the proof folds to the committed root and total in this
    ///      Settlement's tree of the token and epoch (the exit is open: the caller checked).
    function _checkLeaf(
        address token,
        Opening storage o,
        ExitLeaf calldata leaf,
        uint256 index,
        SumNode[] calldata siblings
    ) private view {
        bytes32 batchesToFold = o.batchesToFold;
        if (batchesToFold != 0) revert BatchesNotFolded(token, batchesToFold);
        (, bytes32 provenRoot, uint256 provenTotal) =
            foldProof(uint64(block.chainid & 0xffffffff), address(settlement), token, o.epoch, leaf, index, siblings);
        if (provenRoot != o.root || provenTotal != o.total) {
            revert InvalidProof(o.root, o.total, provenRoot, provenTotal);
        }
    }

    /// @dev The end of a claim window opening now: the longer of `exitAfter` (at most 365 days, the Settlement's
    ///      bound) and MIN_CLAIM_WINDOW past the chain's clock.
    function _claimEnd() private view returns (uint64) {
        uint256 window = settlement.exitAfter();
        if (window < MIN_CLAIM_WINDOW) window = MIN_CLAIM_WINDOW;
        // a unix time a year ahead: far below 2^64
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(block.timestamp + window);
    }

    /// @dev Anyone may pay a member's own address, only the member elsewhere; never zero, the Settlement or here.
    function _checkRecipient(address member, address to) private view {
        if (to != member && msg.sender != member) revert WrongSender(member, msg.sender);
        if (to == address(0)) revert ZeroAddress();
        if (to == address(settlement) || to == address(this)) revert SelfPayment();
    }

    /// @dev The exit is open, its claim window has not closed, and `member` has neither left nor claimed; their
    ///      claim's slot.
    function _openForClaims(address token, Opening storage o, address member) private view returns (Claim storage c) {
        uint256 end = o.claimEnd;
        if (end == 0) revert ExitNotOpen(token);
        if (block.timestamp >= end) revert ClaimWindowClosed(token, end);
        c = _claims[token][member];
        if (_members[token][member].exited || c.due != 0) revert AlreadyExited(token, member);
    }

    /// @dev The exit is open and its claim window has closed.
    function _checkClosed(address token, uint256 end) private view {
        if (end == 0) revert ExitNotOpen(token);
        if (block.timestamp < end) revert ClaimWindowOpen(token, end);
    }

    /// @dev Pays claim `c` of `member` (not paid yet; the window closed: the caller checked) its share.
    function _payOut(address token, Opening storage o, Claim storage c, address member)
        private
        returns (uint256 amount)
    {
        uint256 due = c.due;
        if (due == 0) revert NotClaimed(token, member);
        c.paid = true;
        amount = _share(due, o.custody, o.proven);
        // Σ shares ≤ min(custody, proven) < 2^128
        // forge-lint: disable-next-line(unsafe-typecast)
        o.paid += uint128(amount);
        address to = c.elsewhere ? _payTo[token][member] : member;
        if (amount != 0) _send(token, to, amount);
        // a claim's due is above 0, so what the batches paid the member (final once the first claim came: every
        // batch was folded) was below the entitlement: exactly what was subtracted
        uint256 subtracted = _members[token][member].paidAfterCommitment;
        emit Exited(member, token, to, amount, due + subtracted, subtracted);
    }

    /// @dev `due` times min(1, custody/proven), rounded down: the same fraction for every claim. Both factors below
    ///      2^128, so the product fits; summed over the claims (Σ due = proven) at most min(custody, proven).
    function _share(uint256 due, uint256 custody, uint256 proven) private pure returns (uint256) {
        return custody >= proven ? due : due * custody / proven;
    }

    /// @dev What custody holds beyond what the claims add up to.
    function _surplus(Opening storage o) private view returns (uint256) {
        (uint256 custody, uint256 proven) = (o.custody, o.proven);
        return custody > proven ? custody - proven : 0;
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
