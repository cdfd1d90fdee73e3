// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {TronCompatibleEIP712} from "./TronCompatibleEIP712.sol";
import {UnorderedNonces} from "./UnorderedNonces.sol";
import {DelayedChanges, ChangeKind} from "./DelayedChanges.sol";
import {SettlementExit} from "./SettlementExit.sol";
import {SettlementSales} from "./SettlementSales.sol";
import {SettlementState, IOpenSales} from "./SettlementState.sol";
import {SettlementViews} from "./SettlementViews.sol";
import {
    Registration,
    Retopup,
    Payout,
    PayoutBatch,
    TreasuryTransfer,
    LiabilityRoot,
    SettlementConfig,
    SettlementHashes
} from "./SettlementTypes.sol";

/// @title Settlement
/// @notice Custody of the referral plan's money on BSC and TRON. Every inflow and outflow carries an EIP-712
///         authorisation from the backend signer; the ledger lives off-chain and is rebuilt from these events.
/// @dev The native coin is `token == address(0)`. Token transfers are checked by balance delta (TRON USDT
///      returns false on success) and fee-on-transfer tokens are refused. The default admin changes hands only
///      through begin/accept after `defaultAdminDelay()`; every change of the signer, a money role (operator,
///      treasurer, pauser), an allowed token or the push gas waits `changeDelay` (DelayedChanges). No outflow but
///      paying members (payout entries, claims) may take custody below the floor: the latest committed liabilities
///      less what members were paid since that commitment; a treasury transfer's floor adds the whole amount of every
///      sale buyers may still take back (`salesDesk`, a SettlementSales this contract deploys; SALES.md). If the
///      operator stops committing (or the contract stays paused) for `exitAfter`, anyone may open a token's members'
///      exit (EXIT.md): the token is then frozen but for claims, and the balance not claimable goes to `exits`, a
///      SettlementExit this contract deploys, from which each member takes their share of the latest commitment with
///      the proof of their leaf. While any change of power is pending (a scheduled change, or a default admin
///      transfer), each member may leave alone, at once, with the same proof (`exits`' `leave`, paid here by
///      `payLeave`; EXIT.md §12): no change can take effect before the members have had `changeDelay` to go.
contract Settlement is
    TronCompatibleEIP712,
    UnorderedNonces,
    AccessControlDefaultAdminRules,
    Pausable,
    ReentrancyGuard,
    DelayedChanges,
    SettlementState
{
    using SettlementHashes for Registration;
    using SettlementHashes for Retopup;
    using SettlementHashes for TreasuryTransfer;
    using SettlementHashes for PayoutBatch;
    using SettlementHashes for LiabilityRoot;

    address public constant NATIVE = address(0);
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");

    bytes32 public constant REGISTRATION_TYPEHASH = SettlementHashes.REGISTRATION_TYPEHASH;
    bytes32 public constant RETOPUP_TYPEHASH = SettlementHashes.RETOPUP_TYPEHASH;
    bytes32 public constant PAYOUT_TYPEHASH = SettlementHashes.PAYOUT_TYPEHASH;
    bytes32 public constant PAYOUT_BATCH_TYPEHASH = SettlementHashes.PAYOUT_BATCH_TYPEHASH;
    bytes32 public constant TREASURY_TRANSFER_TYPEHASH = SettlementHashes.TREASURY_TRANSFER_TYPEHASH;
    bytes32 public constant LIABILITY_ROOT_TYPEHASH = SettlementHashes.LIABILITY_ROOT_TYPEHASH;

    /// @dev Bounds of the push gas caps: below, not even a warm token transfer completes; above, each hostile
    ///      recipient could burn a large share of a block.
    uint256 private constant MIN_PUSH_GAS = 10_000;
    uint256 private constant MAX_PUSH_GAS = 1_000_000;

    /// @dev Longest `exitAfter` accepted: an exit that opens only after a year of silence protects nobody.
    uint256 private constant MAX_EXIT_AFTER = 365 days;

    /// @notice Most blocks a liability commitment's `asOfBlock` may trail the block it is committed in.
    uint256 public immutable maxAsOfLag;
    /// @notice Most seconds since a token's latest liability commitment for a treasury transfer of it.
    uint256 public immutable treasuryCommitmentMaxAge;
    /// @notice Seconds without a liability commitment of a token (a token never committed: since it was first
    ///         allowed), or of uninterrupted pause, after which anyone may open the token's members' exit.
    uint256 public immutable exitAfter;
    /// @notice The SettlementExit deployed with this contract: anyone opens a token's exit there, folds the batches
    ///         since the latest commitment, and members exit there; it alone may call `beginExit`.
    address public immutable exits;
    /// @notice The SettlementSales deployed with this contract: buyers pay sales there into this custody and take them
    ///         back there while open (PLAN-SALES.md §3-4); it alone may call `authoriseSale` and `payRefund`.
    address public immutable salesDesk;
    /// @dev The SettlementViews deployed with this contract: the fallback delegatecalls it for the read-only functions
    ///      that no longer fit here (issue 69).
    address private immutable _views;
    event Registered(
        address indexed user, address indexed sponsor, address indexed token, uint256 amount, uint256 nonce
    );
    event Retopped(address indexed user, address indexed token, uint256 amount, uint256 nonce);
    /// @notice Every entry of the batch not named by a PayoutDeferred event was paid in full.
    event PayoutBatchExecuted(
        uint256 indexed nonce,
        address indexed token,
        bytes32 payoutsHash,
        uint256 total,
        uint256 count,
        uint256 deferredCount,
        uint256 deferredTotal
    );
    /// @notice Entry `index` of batch `batchNonce` could not be pushed; its amount is now claimable by `recipient`.
    event PayoutDeferred(
        uint256 indexed batchNonce, address indexed recipient, address indexed token, uint256 index, uint256 amount
    );
    event Claimed(address indexed account, address indexed token, address to, uint256 amount);
    event TreasuryTransferred(uint256 indexed nonce, address indexed token, address indexed to, uint256 amount);
    /// @notice The ledger's liabilities in `token` at block `asOfBlock` (root and sum of the epoch's Merkle-sum tree,
    ///         SOLVENCY.md) beside `custody`, this contract's whole balance of `token` read in the same transaction.
    ///         custody < total is committed all the same: insolvency shows here rather than as a failed transaction.
    event LiabilitiesCommitted(
        address indexed token,
        uint64 indexed epoch,
        uint64 asOfBlock,
        bytes32 root,
        uint128 total,
        uint32 leafCount,
        bytes32 planHash,
        uint256 custody
    );
    event SignerRotated(address indexed previousSigner, address indexed newSigner);
    /// @notice A token's allowance for register and retopup changed (allowing waits the change delay; disallowing
    ///         takes effect at once).
    event TokenAllowed(address indexed token, bool allowed);
    event PushGasSet(
        uint256 previousNativePushGas, uint256 newNativePushGas, uint256 previousTokenPushGas, uint256 newTokenPushGas
    );
    /// @notice `token`'s members' exit opened, for good: `custody` (the balance less what is claimable) went to
    ///         `exits`, which pays the members their share of the latest commitment (SettlementExit's Opened event).
    event ExitOpened(address indexed token, uint256 custody);
    /// @notice `member` left `token` while a change of power was pending (EXIT.md §12): `amount` went to `to` for
    ///         `due` (their leaf of the latest commitment less what payout batches since paid them; `amount` is less
    ///         only when custody is short), and the floor fell by `due`. No batch pays them in `token` again.
    event MemberLeft(address indexed member, address indexed token, address to, uint256 amount, uint256 due);

    error InvalidSignature();
    error Expired(uint256 deadline);
    error WrongSender(address expected, address actual);
    error WrongValue(uint256 expected, uint256 actual);
    error TokenNotAllowed(address token);
    /// @notice `user` has already registered in `token`; a second registration would charge the fee twice.
    error AlreadyRegistered(address user, address token);
    error InboundTransferMismatch(uint256 expected, uint256 received);
    error InsufficientFunds(uint256 available, uint256 required);
    error BatchTotalMismatch(uint256 signedTotal, uint256 entriesSum);
    error OutboundTransferFailed();
    error NothingToClaim();
    error ZeroAddress();
    /// @notice A payout entry, claim or treasury transfer would pay this contract (on TRON that aborts the whole
    ///         transaction; on BSC a pushed payment would become a claim nobody can make).
    error SelfPayment();
    error PushGasOutOfBounds(uint256 pushGas, uint256 min, uint256 max);
    /// @notice Epochs of a token are committed one after another, from 1.
    error EpochOutOfOrder(uint64 expected, uint64 given);
    /// @notice A commitment's block must follow the latest one's (`latestAsOfBlock`) and precede this block.
    error AsOfBlockOutOfRange(uint64 asOfBlock, uint64 latestAsOfBlock, uint256 blockNumber);
    /// @notice A commitment's `asOfBlock` may trail the block it is committed in by `maxAsOfLag` blocks at most:
    ///         older liabilities beside today's custody would flatter.
    error AsOfBlockTooOld(uint64 asOfBlock, uint256 blockNumber, uint256 maxAsOfLag);
    /// @notice Liabilities are committed only for a token the contract has allowed at some time.
    error TokenNeverAllowed(address token);
    /// @notice A treasury transfer needs a liability commitment of its token no older than `treasuryCommitmentMaxAge`
    ///         (`commitTime` 0: none yet).
    error CommitmentTooOld(uint256 commitTime, uint256 maxAge, uint256 now_);
    /// @notice The transfer would leave custody below the floor: what the latest commitment says members are owed,
    ///         less what payout entries and claims paid them since, plus the whole amount of the open sales.
    error BelowFloor(uint256 custodyAfter, uint256 floor);
    /// @notice Money roles (operator, treasurer, pauser) change only through a scheduled change.
    error RoleChangeNeedsDelay(bytes32 role);
    /// @notice A scheduled role change names a role that is not one of the money roles.
    error NotAMoneyRole(bytes32 role);
    error InvalidBound(string name);
    /// @notice `token`'s members' exit is open: nothing moves it any more but claims and exits.
    error ExitOpen(address token);
    /// @notice The exit of `token` may be opened from `opensAt` (unix seconds): `exitAfter` past its latest
    ///         commitment (or first allowance), or past the start of a pause still in force.
    error ExitNotDue(address token, uint256 opensAt);
    /// @notice A payout batch (or a member's leave) executed in block `batchBlock`, after the commitment's
    ///         `asOfBlock`: the commitment's leaves would not count it, and an exit would pay it again (EXIT.md T2).
    error BatchAfterAsOfBlock(uint256 batchBlock, uint64 asOfBlock);
    /// @notice Members leave alone only while a change of power is pending (`leaveOpen`).
    error NoChangePending();
    /// @notice Entry `index` of the batch pays `recipient`, who left the token (a batch signed before they left).
    error RecipientLeft(uint256 index, address recipient);

    constructor(SettlementConfig memory config)
        TronCompatibleEIP712("ReferralSettlement", "1")
        AccessControlDefaultAdminRules(config.delay, config.admin)
        DelayedChanges(config.delay)
    {
        if (config.signer == address(0)) {
            revert ZeroAddress();
        }
        if (config.maxAsOfLag == 0) revert InvalidBound("maxAsOfLag");
        if (config.treasuryCommitmentMaxAge == 0) revert InvalidBound("treasuryCommitmentMaxAge");
        if (config.exitAfter == 0 || config.exitAfter > MAX_EXIT_AFTER) revert InvalidBound("exitAfter");
        maxAsOfLag = config.maxAsOfLag;
        treasuryCommitmentMaxAge = config.treasuryCommitmentMaxAge;
        exitAfter = config.exitAfter;
        exits = address(new SettlementExit());
        salesDesk = address(new SettlementSales());
        _views = address(new SettlementViews(config.exitAfter, salesDesk));
        _signer = config.signer;
        emit SignerRotated(address(0), config.signer);
        _grantAll(OPERATOR_ROLE, config.operators);
        _grantAll(TREASURER_ROLE, config.treasurers);
        _grantAll(PAUSER_ROLE, config.pausers);
        for (uint256 i; i < config.tokens.length; ++i) {
            _allowToken(config.tokens[i]);
        }
        _setPushGas(config.nativePushGas, config.tokenPushGas);
    }

    // ───────────────────────────── user actions ─────────────────────────────

    /// @notice Pays the registration fee authorised by the signer for msg.sender under `r.sponsor`, once per user
    ///         and asset: a second registration in the same token reverts (AlreadyRegistered) before anything moves.
    function register(Registration calldata r, bytes calldata signature) external payable whenNotPaused nonReentrant {
        _checkUserPayload(r.user, r.token, r.deadline);
        _authorise(r.hash(), r.nonce, signature);
        _markRegistered(r.user, r.token);
        _collect(r.token, r.amount);
        emit Registered(r.user, r.sponsor, r.token, r.amount, r.nonce);
    }

    /// @notice Pays a retopup authorised by the signer for msg.sender.
    function retopup(Retopup calldata r, bytes calldata signature) external payable whenNotPaused nonReentrant {
        _checkUserPayload(r.user, r.token, r.deadline);
        _authorise(r.hash(), r.nonce, signature);
        _collect(r.token, r.amount);
        emit Retopped(r.user, r.token, r.amount, r.nonce);
    }

    /// @notice Pulls what failed pushes left for msg.sender, to `to` (so a contract that rejects pushes can redirect).
    /// @dev Not whenNotPaused: a pause stops new money in and the operator's money out, never a member taking what is
    ///      already theirs.
    function claim(address token, address to) external nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        if (to == address(this)) revert SelfPayment();
        uint256 amount = _claimable[token][msg.sender];
        if (amount == 0) revert NothingToClaim();
        _claimable[token][msg.sender] = 0;
        _totalClaimable[token] -= amount;
        _addPaidToMembers(token, amount);
        _sendOrRevert(token, to, amount);
        emit Claimed(msg.sender, token, to, amount);
    }

    /// @notice Called by `salesDesk` for each sale it takes: checks the token (allowed, its exit not open) and that the
    ///         contract is not paused, verifies the signer's signature over the sale and spends its nonce (a sale's id
    ///         shares the nonce space of every payload). The native coin's amount comes with the call.
    function authoriseSale(address token, bytes32 structHash, uint256 nonce, bytes calldata signature)
        external
        payable
        whenNotPaused
    {
        if (msg.sender != salesDesk) revert WrongSender(salesDesk, msg.sender);
        _checkToken(token);
        _authorise(structHash, nonce, signature);
    }

    /// @notice Called by `salesDesk` when a buyer takes an open sale back: pays them the sale's whole amount from
    ///         custody.
    /// @dev Not whenNotPaused, and works after the token's exit opened (which left open sales' money here): the
    ///      buyer's right needs nobody's consent.
    function payRefund(address token, address to, uint256 amount) external nonReentrant {
        if (msg.sender != salesDesk) revert WrongSender(salesDesk, msg.sender);
        _sendOrRevert(token, to, amount);
    }

    // ───────────────────────────── operator actions ─────────────────────────────

    /// @notice Pushes every payout of a signed batch; a recipient that reverts or runs out of the gas cap gets a
    ///         claim instead. Reverts whole only when custody cannot cover the batch total (or it is not authorised).
    function executePayoutBatch(PayoutBatch calldata batch, bytes calldata signature)
        external
        onlyRole(OPERATOR_ROLE)
        whenNotPaused
        nonReentrant
    {
        Payout[] calldata payouts = batch.payouts;
        address token = batch.token;
        if (_tokens[token] & EXIT_OPEN != 0) revert ExitOpen(token);
        (bytes32 payoutsHash, uint256 sum) = _authoriseBatch(batch, payouts, signature);
        if (block.timestamp <= _lastLeaveAt[token] + LEAVE_RACE) _refuseLeft(token, payouts);

        uint256 free = _available(token);
        if (free < sum) revert InsufficientFunds(free, sum);

        (uint256 deferredCount, uint256 deferredTotal) =
            token == NATIVE ? _pushNative(payouts, batch.nonce) : _pushToken(token, payouts, batch.nonce);
        _recordBatch(token, batch.nonce, payoutsHash, sum - deferredTotal);
        emit PayoutBatchExecuted(batch.nonce, token, payoutsHash, sum, payouts.length, deferredCount, deferredTotal);
    }

    /// @notice Moves company funds (or a refund of a payment the plan refused) out of custody. The signer only
    ///         authorises the company's ledger share; the contract additionally never lets it touch what recipients
    ///         can claim, nor take custody below the floor (`floor`, plus the open sales' amount: SettlementSales's
    ///         `openSales`), and only while the token's latest liability commitment is at most
    ///         `treasuryCommitmentMaxAge` seconds old.
    function transferTreasury(TreasuryTransfer calldata t, bytes calldata signature)
        external
        onlyRole(TREASURER_ROLE)
        whenNotPaused
        nonReentrant
    {
        if (block.timestamp > t.deadline) revert Expired(t.deadline);
        if (t.to == address(0)) revert ZeroAddress();
        if (t.to == address(this)) revert SelfPayment();
        uint256 tokenWord = _tokens[t.token];
        if (tokenWord & EXIT_OPEN != 0) revert ExitOpen(t.token);
        _authorise(t.hash(), t.nonce, signature);
        LiabilityCommitment storage latest = _liabilities[t.token];
        uint256 commitTime = latest.commitTime;
        if (commitTime == 0 || block.timestamp - commitTime > treasuryCommitmentMaxAge) {
            revert CommitmentTooOld(commitTime, treasuryCommitmentMaxAge, block.timestamp);
        }
        uint256 balance = _balanceOf(t.token);
        uint256 owed = _totalClaimable[t.token];
        uint256 free = balance > owed ? balance - owed : 0;
        if (free < t.amount) revert InsufficientFunds(free, t.amount);
        // the whole amount of every open sale, not only a - r: a sale after the latest commitment has its retail in no
        // committed total, and its refund takes it back all the same (contracts/SALES.md §3)
        (, uint256 openSales) = IOpenSales(salesDesk).openSales(t.token);
        uint256 floor_ = _floor(latest.total, tokenWord) + openSales;
        // (a transfer of nothing takes nothing, even from custody already below the floor)
        if (t.amount != 0 && balance - t.amount < floor_) revert BelowFloor(balance - t.amount, floor_);
        _sendOrRevert(t.token, t.to, t.amount);
        emit TreasuryTransferred(t.nonce, t.token, t.to, t.amount);
    }

    /// @notice Publishes the signed root and total of the ledger's liabilities in `c.token` at block `c.asOfBlock`
    ///         beside the custody this contract reads now: its whole balance (liabilities include what is claimable).
    ///         Epochs of a token follow one another from 1, each at a later block, below the current one.
    /// @dev Not whenNotPaused: a paused contract still owes its users, so the proof goes on. Never reverts because
    ///      custody < total (insolvency must show, not hide behind a failed transaction), nor because the token is
    ///      no longer allowed (liabilities in a token since disallowed still exist) - but only for a token allowed at
    ///      some time, and only for liabilities at most `maxAsOfLag` blocks old. A token whose balanceOf reverts makes
    ///      the commit revert: there is then no custody figure to put beside the total. No reentrancy guard (5,100
    ///      gas of a 120,000 budget): the only external call is a staticcall, and a commit re-entered from a payout
    ///      or transfer would read a custody between the one before it and the one after, which flatters nothing.
    ///      Clears what members were paid since the previous commitment: the new total already counts it. Refused
    ///      while a payout batch executed after `asOfBlock` (its leaves would not count it, and the running hash an
    ///      exit subtracts would no longer hold it), and for good once the token's exit is open.
    function commitLiabilities(LiabilityRoot calldata c, bytes calldata signature) external onlyRole(OPERATOR_ROLE) {
        if (block.timestamp > c.deadline) revert Expired(c.deadline);
        uint256 tokenWord = _tokens[c.token];
        if (tokenWord & KNOWN == 0) revert TokenNeverAllowed(c.token);
        if (tokenWord & EXIT_OPEN != 0) revert ExitOpen(c.token);
        {
            uint256 batchBlock = (tokenWord >> BATCH_BLOCK_SHIFT) & UINT32;
            uint256 leaveBlock = (tokenWord >> LEAVE_BLOCK_SHIFT) & UINT32;
            if (leaveBlock > batchBlock) batchBlock = leaveBlock;
            if (batchBlock > c.asOfBlock) revert BatchAfterAsOfBlock(batchBlock, c.asOfBlock);
        }
        LiabilityCommitment storage latest = _liabilities[c.token];
        uint64 expectedEpoch = latest.epoch + 1;
        if (c.epoch != expectedEpoch) revert EpochOutOfOrder(expectedEpoch, c.epoch);
        uint64 latestAsOfBlock = latest.asOfBlock;
        if (c.asOfBlock <= latestAsOfBlock || c.asOfBlock >= block.number) {
            revert AsOfBlockOutOfRange(c.asOfBlock, latestAsOfBlock, block.number);
        }
        if (block.number - c.asOfBlock > maxAsOfLag) revert AsOfBlockTooOld(c.asOfBlock, block.number, maxAsOfLag);
        _authorise(c.hash(), c.nonce, signature);
        if (tokenWord >> BATCH_BLOCK_SHIFT != 0) _tokens[c.token] = tokenWord & KEPT_BY_COMMIT;
        uint256 custody = _balanceOf(c.token);
        latest.root = c.root;
        (latest.total, latest.epoch, latest.asOfBlock) = (c.total, c.epoch, c.asOfBlock);
        (latest.custody, latest.commitBlock, latest.commitTime) =
        (_saturate128(custody), uint64(block.number), uint64(block.timestamp));
        emit LiabilitiesCommitted(c.token, c.epoch, c.asOfBlock, c.root, c.total, c.leafCount, c.planHash, custody);
    }

    // ───────────────────────────── admin actions ─────────────────────────────

    /// @notice Stops registrations, retopups, payout batches and treasury transfers; claims and commitments go on.
    ///         Paused time counts toward the members' exit (`exitOpensAt`): `exitAfter` of it lets anyone open it,
    ///         and a pause begun less than `exitAfter` after the previous one ended goes on from that one's count.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
        uint64 now_ = uint64(block.timestamp);
        if (now_ - _unpausedAt >= exitAfter) _pausedBefore = 0;
        _pausedSince = now_;
    }

    /// @notice Ends the pause at once, with a pauser's own consent (a false alarm, an incident over). The admin's way
    ///         is `scheduleUnpause`, which waits `changeDelay` like any change, members free to leave meanwhile: an
    ///         admin cannot undo a pause the moment a pauser pulls it (issue 65).
    function unpause() external onlyRole(PAUSER_ROLE) {
        _endPause();
    }

    /// @notice Schedules ending the pause after `changeDelay` (applied while still paused; a pauser may end it before).
    function scheduleUnpause() external onlyRole(DEFAULT_ADMIN_ROLE) returns (bytes32) {
        return _schedule(ChangeKind.Unpause, "");
    }

    // ───────────────────────────── the members' exit (EXIT.md) ─────────────────────────────

    /// @notice Opens `token`'s exit for good, once it is due (see exitOpensAt), and hands the exits their custody:
    ///         the balance less what is claimable, sent to `exits`. The token then refuses registrations, retopups,
    ///         payout batches, treasury transfers and commitments; claims go on, paid from what stays here. Called by
    ///         `exits` (SettlementExit.openExit, open to anyone), which reads the rest of the opening's figures here.
    /// @dev nonReentrant: opened from within a batch's push, the batch would escape the running hash returned.
    /// @return custody What was sent to `exits`.
    /// @return batchesHead The running hash of the payout batches since the latest commitment (0: none).
    function beginExit(address token) external nonReentrant returns (uint256 custody, bytes32 batchesHead) {
        if (msg.sender != exits) revert WrongSender(exits, msg.sender);
        uint256 word = _tokens[token];
        if (word & KNOWN == 0) revert TokenNeverAllowed(token);
        if (word & EXIT_OPEN != 0) revert ExitOpen(token);
        uint256 opensAt = _exitOpensAt(token, word, exitAfter);
        if (block.timestamp < opensAt) revert ExitNotDue(token, opensAt);
        _tokens[token] = word | EXIT_OPEN;
        if ((word >> BATCH_BLOCK_SHIFT) & UINT32 != 0) batchesHead = _batchesSince[token];
        custody = _forMembers(token, salesDesk);
        if (custody != 0) _sendOrRevert(token, exits, custody);
        emit ExitOpened(token, custody);
    }

    /// @notice Pays `member`, who leaves `token` while a change of power is pending (`leaveOpen`; EXIT.md §12): `amount`
    ///         to `to` for `due`. Called by `exits` once it has checked the member's leaf in the latest commitment and
    ///         what the payout batches since paid them (`due` is the rest), and has set `amount`: `due`, or the exit's
    ///         fraction of it when custody is short. Lowers the floor by the whole `due` (the member's dues are settled;
    ///         what a short custody did not pay stays for the others), never touches what is claimable, and marks the
    ///         member as left `token` for good: no payout batch pays them in it again.
    function payLeave(address token, address member, address to, uint256 amount, uint256 due) external nonReentrant {
        if (msg.sender != exits) revert WrongSender(exits, msg.sender);
        if (!leaveOpen()) revert NoChangePending();
        uint256 word = _tokens[token];
        if (word & EXIT_OPEN != 0) revert ExitOpen(token);
        uint256 free = _forMembers(token, salesDesk);
        if (amount > free) revert InsufficientFunds(free, amount);
        _registrations[token][member] |= LEFT;
        _lastLeaveAt[token] = block.timestamp;
        _tokens[token] = (word & KEPT_BY_LEAVE) | (uint256(SafeCast.toUint32(block.number)) << LEAVE_BLOCK_SHIFT)
            | (_addPaid(word, due) << PAID_SHIFT);
        _sendOrRevert(token, to, amount);
        emit MemberLeft(member, token, to, amount, due);
    }

    /// @notice Schedules replacing the signer after `changeDelay`; until then the current key signs. Once applied,
    ///         payloads signed by the old key stop being accepted at once.
    function scheduleSignerRotation(address newSigner) external onlyRole(DEFAULT_ADMIN_ROLE) returns (bytes32) {
        return _schedule(ChangeKind.SignerRotation, abi.encode(newSigner));
    }

    /// @notice Schedules granting (`grant`) or revoking a money role (OPERATOR, TREASURER or PAUSER) after
    ///         `changeDelay`. A holder may still renounce its own role at once.
    function scheduleRoleChange(bytes32 role, address account, bool grant)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (bytes32)
    {
        return _schedule(grant ? ChangeKind.RoleGrant : ChangeKind.RoleRevocation, abi.encode(role, account));
    }

    /// @notice Schedules allowing `token` for registrations and retopups after `changeDelay`.
    function scheduleTokenAllowance(address token) external onlyRole(DEFAULT_ADMIN_ROLE) returns (bytes32) {
        return _schedule(ChangeKind.TokenAllowance, abi.encode(token));
    }

    /// @notice Schedules new gas caps for each pushed native and token payment after `changeDelay`; a payment that
    ///         needs more is deferred to `claimable`. Each must lie in [10_000, 1_000_000].
    /// @dev On TRON (energy ~ gas) a TRC20 USDT transfer costs ~130k energy to an address that has never held
    ///      USDT and ~64k to an existing holder, so an EVM-tuned token cap (~100k) would defer every payout to a
    ///      fresh TRON address. Suggested TRON token cap: 200_000 (headroom over 130k; a transfer only uses what
    ///      it needs, and the payout token is signed, so the cap guards against a broken token, not a recipient).
    function schedulePushGas(uint256 nativePushGas_, uint256 tokenPushGas_)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (bytes32)
    {
        return _schedule(ChangeKind.PushGas, abi.encode(nativePushGas_, tokenPushGas_));
    }

    /// @notice Applies a scheduled change whose delay has passed.
    function applyChange(bytes32 id) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _apply(id);
    }

    /// @notice Cancels a scheduled change before it is applied.
    function cancelChange(bytes32 id) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _cancel(id);
    }

    /// @notice Stops registrations and retopups in `token` at once (what is owed in it is still paid and committed).
    function disallowToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _tokens[token] &= ~ALLOWED;
        emit TokenAllowed(token, false);
    }

    /// @dev Money roles change only through scheduled changes; the default admin role only through OpenZeppelin's
    ///      delayed transfer (which reverts here as before).
    function grantRole(bytes32 role, address account) public override {
        if (role != DEFAULT_ADMIN_ROLE) revert RoleChangeNeedsDelay(role);
        super.grantRole(role, account);
    }

    /// @dev As grantRole: a revocation of a money role waits the delay too.
    function revokeRole(bytes32 role, address account) public override {
        if (role != DEFAULT_ADMIN_ROLE) revert RoleChangeNeedsDelay(role);
        super.revokeRole(role, account);
    }

    /// @dev The default admin transfer waits `changeDelay` for good: a shorter delay would let the admin change hands
    ///      before the members had their window to leave (issue 65).
    function changeDefaultAdminDelay(uint48) public pure override {
        revert InvalidBound("defaultAdminDelay");
    }

    /// @notice Burns outstanding nonces so that payloads already signed with them can never execute. The nonces it
    ///         spends while free are told apart from spent payloads (`isNonceCancelled`): a refund is signed only
    ///         for a payment.
    function cancelNonces(uint256 wordPos, uint256 mask) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _cancelNonces(wordPos, mask);
    }

    // ───────────────────────────── views ─────────────────────────────

    /// @notice Whether members may leave alone now: a change is pending (`pendingChanges`), or a default admin
    ///         transfer (`pendingDefaultAdmin`). No change takes effect before `changeDelay` has passed since it was
    ///         scheduled, so every member has that long to leave (EXIT.md §12).
    function leaveOpen() public view returns (bool) {
        (, uint48 schedule) = pendingDefaultAdmin();
        return pendingCount() != 0 || schedule != 0;
    }

    /// @notice EIP-712 digest of a struct hash under this contract's domain (for off-chain cross-checks).
    function hashTypedData(bytes32 structHash) external view returns (bytes32) {
        return _hashTypedData(structHash);
    }

    /// @notice Every read-only function this contract's code has no room for (SettlementViews: `signer`, `floor`,
    ///         `latestLiabilities`, `exitOpensAt`, `claimable`, ...), run in this contract's storage. Not payable: a
    ///         plain payment is refused as before.
    fallback() external {
        address views = _views;
        // writes memory from 0 and never returns to Solidity code: not memory-safe, and need not be
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), views, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _setPushGas(uint256 nativePushGas_, uint256 tokenPushGas_) private {
        _checkPushGas(nativePushGas_);
        _checkPushGas(tokenPushGas_);
        emit PushGasSet(_nativePushGas, nativePushGas_, _tokenPushGas, tokenPushGas_);
        _nativePushGas = SafeCast.toUint48(nativePushGas_);
        _tokenPushGas = SafeCast.toUint48(tokenPushGas_);
    }

    function _saturate128(uint256 x) private pure returns (uint128) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return x > type(uint128).max ? type(uint128).max : uint128(x);
    }

    function _grantAll(bytes32 role, address[] memory accounts) private {
        for (uint256 i; i < accounts.length; ++i) {
            if (accounts[i] == address(0)) revert ZeroAddress();
            _grantRole(role, accounts[i]);
        }
    }

    /// @dev The first allowance starts the token's exit clock (a token never committed counts from it), and sets the
    ///      token's running hash non-zero (a value no batch reads), so that no payout batch ever pays to set it from zero.
    function _allowToken(address token) private {
        uint256 word = _tokens[token];
        if (word & KNOWN == 0) {
            word |= block.timestamp << KNOWN_SINCE_SHIFT;
            _batchesSince[token] = bytes32(uint256(1));
        }
        _tokens[token] = word | ALLOWED | KNOWN;
        emit TokenAllowed(token, true);
    }

    /// @dev Adds `amount` to what members were paid since the latest commitment (saturating: past the committed
    ///      total the floor is 0 whatever the excess).
    function _addPaidToMembers(address token, uint256 amount) private {
        if (amount == 0) return;
        uint256 word = _tokens[token];
        _tokens[token] = (word & BELOW_PAID) | (_addPaid(word, amount) << PAID_SHIFT);
    }

    function _addPaid(uint256 word, uint256 amount) private pure returns (uint256) {
        uint256 before = word >> PAID_SHIFT;
        return amount >= type(uint128).max - before ? type(uint128).max : before + amount;
    }

    /// @dev Records an executed batch in the token's word (its block, what it paid) and in the running hash of the
    ///      batches since the latest commitment, which starts afresh when the word records no batch since.
    function _recordBatch(address token, uint256 nonce, bytes32 payoutsHash, uint256 paid) private {
        uint256 word = _tokens[token];
        bytes32 previous = (word >> BATCH_BLOCK_SHIFT) & UINT32 == 0 ? bytes32(0) : _batchesSince[token];
        _batchesSince[token] = SettlementHashes.chainBatch(previous, nonce, payoutsHash);
        _tokens[token] = (word & KEPT_BY_BATCH) | (uint256(SafeCast.toUint32(block.number)) << BATCH_BLOCK_SHIFT)
            | (_addPaid(word, paid) << PAID_SHIFT);
    }

    /// @dev Ends the pause in force, its time counted toward the exit should another begin within `exitAfter`.
    function _endPause() private {
        _unpause();
        uint64 now_ = uint64(block.timestamp);
        _pausedBefore += now_ - _pausedSince;
        (_unpausedAt, _pausedSince) = (now_, 0);
    }

    /// @dev Refuses a batch paying a member who left `token` (it was signed before they left).
    function _refuseLeft(address token, Payout[] calldata payouts) private view {
        mapping(address user => uint256 registered) storage registeredIn = _registrations[token];
        for (uint256 i; i < payouts.length; ++i) {
            address recipient = payouts[i].recipient;
            if (registeredIn[recipient] & LEFT != 0) revert RecipientLeft(i, recipient);
        }
    }

    function _checkChange(ChangeKind kind, bytes memory args) internal pure override {
        if (kind == ChangeKind.Unpause) return;
        if (kind == ChangeKind.SignerRotation) {
            if (abi.decode(args, (address)) == address(0)) revert ZeroAddress();
        } else if (kind == ChangeKind.RoleGrant || kind == ChangeKind.RoleRevocation) {
            (bytes32 role, address account) = abi.decode(args, (bytes32, address));
            if (role != OPERATOR_ROLE && role != TREASURER_ROLE && role != PAUSER_ROLE) revert NotAMoneyRole(role);
            if (account == address(0)) revert ZeroAddress();
        } else if (kind == ChangeKind.TokenAllowance) {
            abi.decode(args, (address));
        } else {
            (uint256 nativeGas, uint256 tokenGas) = abi.decode(args, (uint256, uint256));
            _checkPushGas(nativeGas);
            _checkPushGas(tokenGas);
        }
    }

    function _applyChange(ChangeKind kind, bytes memory args) internal override {
        if (kind == ChangeKind.SignerRotation) {
            address newSigner = abi.decode(args, (address));
            emit SignerRotated(_signer, newSigner);
            _signer = newSigner;
        } else if (kind == ChangeKind.RoleGrant) {
            (bytes32 role, address account) = abi.decode(args, (bytes32, address));
            _grantRole(role, account);
        } else if (kind == ChangeKind.RoleRevocation) {
            (bytes32 role, address account) = abi.decode(args, (bytes32, address));
            _revokeRole(role, account);
        } else if (kind == ChangeKind.TokenAllowance) {
            _allowToken(abi.decode(args, (address)));
        } else if (kind == ChangeKind.Unpause) {
            // a pauser may have ended the pause since
            if (paused()) _endPause();
        } else {
            (uint256 nativeGas, uint256 tokenGas) = abi.decode(args, (uint256, uint256));
            _setPushGas(nativeGas, tokenGas);
        }
    }

    function _checkPushGas(uint256 pushGas) private pure {
        if (pushGas < MIN_PUSH_GAS || pushGas > MAX_PUSH_GAS) {
            revert PushGasOutOfBounds(pushGas, MIN_PUSH_GAS, MAX_PUSH_GAS);
        }
    }

    /// @dev Checks the batch (deadline; no entry pays this contract, which on TRON would abort the whole transaction
    ///      and on BSC would lock the amount as this contract's claim; entries sum to the signed total), verifies
    ///      the signature and spends the nonce. Returns the payouts hash and the sum.
    function _authoriseBatch(PayoutBatch calldata batch, Payout[] calldata payouts, bytes calldata signature)
        private
        returns (bytes32 payoutsHash, uint256 sum)
    {
        if (block.timestamp > batch.deadline) revert Expired(batch.deadline);
        bool paysItself;
        (payoutsHash, sum, paysItself) = SettlementHashes.hashPayouts(payouts, address(this));
        if (paysItself) revert SelfPayment();
        if (sum != batch.total) revert BatchTotalMismatch(batch.total, sum);
        _authorise(batch.hash(payoutsHash), batch.nonce, signature);
    }

    function _checkUserPayload(address user, address token, uint256 deadline) private view {
        if (msg.sender != user) revert WrongSender(user, msg.sender);
        if (block.timestamp > deadline) revert Expired(deadline);
        _checkToken(token);
    }

    function _checkToken(address token) private view {
        uint256 word = _tokens[token];
        if (word & EXIT_OPEN != 0) revert ExitOpen(token);
        if (word & ALLOWED == 0) revert TokenNotAllowed(token);
    }

    /// @dev Verifies the signer's signature over `structHash` and spends `nonce` before any external call.
    function _authorise(bytes32 structHash, uint256 nonce, bytes calldata signature) private {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedData(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != _signer) revert InvalidSignature();
        _useNonce(nonce);
    }

    /// @dev The API may hand out a second payload while the first is in flight (a reload); only one may charge.
    ///      Called after `_authorise`, so a replayed payload is refused by its nonce, as for every payload kind.
    function _markRegistered(address user, address token) private {
        mapping(address user => uint256 registered) storage registeredIn = _registrations[token];
        if (registeredIn[user] != 0) revert AlreadyRegistered(user, token);
        registeredIn[user] = block.number;
    }

    function _collect(address token, uint256 amount) private {
        if (token == NATIVE) {
            if (msg.value != amount) revert WrongValue(amount, msg.value);
            return;
        }
        if (msg.value != 0) revert WrongValue(0, msg.value);
        uint256 before = _balanceOf(token);
        // Return value ignored on purpose (TRON USDT's transfer returns false on success, so no token's return
        // value is trusted); the balance delta decides.
        (bool ok,) = token.call(abi.encodeCall(IERC20.transferFrom, (msg.sender, address(this), amount)));
        uint256 received = _balanceOf(token) - before;
        if (!ok || received != amount) revert InboundTransferMismatch(amount, ok ? received : 0);
    }

    function _defer(address token, address recipient, uint256 amount, uint256 batchNonce, uint256 index) private {
        _claimable[token][recipient] += amount;
        _totalClaimable[token] += amount;
        emit PayoutDeferred(batchNonce, recipient, token, index, amount);
    }

    function _pushNative(Payout[] calldata payouts, uint256 batchNonce)
        private
        returns (uint256 deferredCount, uint256 deferredTotal)
    {
        for (uint256 i = _pushNativeFrom(payouts, 0); i < payouts.length; i = _pushNativeFrom(payouts, i + 1)) {
            uint256 amount = payouts[i].amount;
            _defer(NATIVE, payouts[i].recipient, amount, batchNonce, i);
            unchecked {
                ++deferredCount;
                deferredTotal += amount;
            }
        }
    }

    /// @dev Pushes entries `from`.. with at most `_nativePushGas` each and returns the index of the first that failed
    ///      (`payouts.length` if none did). Assembly because this loop is the per-recipient cost; no return data is
    ///      copied, so a hostile recipient cannot make us pay for a large return. An address with dirty upper bits
    ///      cannot get here: it hashes differently from what the signer signed.
    function _pushNativeFrom(Payout[] calldata payouts, uint256 from) private returns (uint256 failed) {
        uint256 gasCap = _nativePushGas;
        assembly ("memory-safe") {
            let end := add(payouts.offset, shl(6, payouts.length))
            let p := add(payouts.offset, shl(6, from))
            for {} lt(p, end) { p := add(p, 0x40) } {
                if iszero(call(gasCap, calldataload(p), calldataload(add(p, 0x20)), 0, 0, 0, 0)) { break }
            }
            failed := shr(6, sub(p, payouts.offset))
        }
    }

    /// @dev A transfer that reverts is deferred. One that returns false is judged by the custody balance (TRON
    ///      USDT returns false on success); the final balance check makes the whole batch revert if a token
    ///      ever reported a payment it did not make.
    function _pushToken(address token, Payout[] calldata payouts, uint256 batchNonce)
        private
        returns (uint256 deferredCount, uint256 deferredTotal)
    {
        (uint256 i, uint256 expected) = _pushTokenFrom(token, payouts, 0, _balanceOf(token));
        while (i < payouts.length) {
            uint256 amount = payouts[i].amount;
            _defer(token, payouts[i].recipient, amount, batchNonce, i);
            unchecked {
                ++deferredCount;
                deferredTotal += amount;
            }
            (i, expected) = _pushTokenFrom(token, payouts, i + 1, expected);
        }
        if (_balanceOf(token) != expected) revert OutboundTransferFailed();
    }

    /// @dev `_pushNativeFrom` for `token.transfer` with `_tokenPushGas`, also returning the custody balance expected
    ///      after the paid entries. A push fails if it reverts within the cap, or returns false and the custody
    ///      balance did not fall by its amount. `expected` never underflows: it starts at or above the batch total (checked).
    function _pushTokenFrom(address token, Payout[] calldata payouts, uint256 from, uint256 expected)
        private
        returns (uint256 failed, uint256)
    {
        uint256 gasCap = _tokenPushGas;
        assembly ("memory-safe") {
            // transfer(recipient, amount): a Payout entry is laid out exactly as the two arguments
            let data := mload(0x40)
            mstore(data, 0xa9059cbb00000000000000000000000000000000000000000000000000000000)
            let end := add(payouts.offset, shl(6, payouts.length))
            let p := add(payouts.offset, shl(6, from))
            for {} lt(p, end) { p := add(p, 0x40) } {
                calldatacopy(add(data, 0x04), p, 0x40)
                if iszero(call(gasCap, token, 0, data, 0x44, 0x00, 0x20)) { break }
                if and(gt(returndatasize(), 0x1f), iszero(mload(0x00))) {
                    // returned false: paid only if custody fell by exactly the amount (balanceOf(this))
                    mstore(0x00, 0x70a0823100000000000000000000000000000000000000000000000000000000)
                    mstore(0x04, address())
                    if iszero(staticcall(gas(), token, 0x00, 0x24, 0x00, 0x20)) {
                        returndatacopy(0x00, 0x00, returndatasize())
                        revert(0x00, returndatasize())
                    }
                    if lt(returndatasize(), 0x20) { revert(0x00, 0x00) }
                    if iszero(eq(mload(0x00), sub(expected, calldataload(add(p, 0x20))))) { break }
                }
                expected := sub(expected, calldataload(add(p, 0x20)))
            }
            failed := shr(6, sub(p, payouts.offset))
        }
        return (failed, expected);
    }

    /// @dev Full-gas transfer that must succeed (claims and treasury transfers); tokens checked by balance delta.
    function _sendOrRevert(address token, address to, uint256 amount) private {
        if (token == NATIVE) {
            (bool sent,) = to.call{value: amount}("");
            if (!sent) revert OutboundTransferFailed();
            return;
        }
        uint256 before = _balanceOf(token);
        (bool ok,) = token.call(abi.encodeCall(IERC20.transfer, (to, amount)));
        if (!ok || before - _balanceOf(token) != amount) revert OutboundTransferFailed();
    }
}
