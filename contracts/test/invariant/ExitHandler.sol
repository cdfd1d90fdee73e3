// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Vm} from "../utils/Vm.sol";
import {EIP712Reference} from "../utils/EIP712Reference.sol";
import {MerkleSum} from "../utils/MerkleSum.sol";
import {ExitTree} from "../utils/ExitTree.sol";
import {Settlement} from "../../src/Settlement.sol";
import {SettlementViews} from "../../src/SettlementViews.sol";
import {SettlementExit} from "../../src/SettlementExit.sol";
import {
    Registration,
    Payout,
    PayoutBatch,
    LiabilityRoot,
    ExitLeaf,
    SumNode,
    FoldedBatch
} from "../../src/SettlementTypes.sol";
import {TestUSDT} from "../../src/dev/TestUSDT.sol";

/// @notice Drives a Settlement's TRON-like USDT through random registrations, payouts (paid, or deferred while the
///         token is paused, to members and to an outsider with no leaf), claims, commitments of real Merkle-sum trees,
///         pauses, time, and the members' exit: opening (early and on time), folding in chunks, claims in the window
///         (by members and relayers, twice, for nothing, too late), payouts after it (before it, twice, unclaimed),
///         the surplus's return, and every operator action after the opening. It models what must happen and counts
///         what must never.
contract ExitHandler {
    using EIP712Reference for Registration;
    using EIP712Reference for PayoutBatch;
    using EIP712Reference for LiabilityRoot;
    using ExitTree for ExitTree.Tree;

    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint256 internal constant MEMBERS = 5;
    uint256 internal constant UNIT = 1e6;

    Settlement public immutable settlement;

    /// @dev The Settlement's read-only functions (SettlementViews, served by its fallback) at its address.
    function views() internal view returns (SettlementViews) {
        return SettlementViews(address(settlement));
    }
    SettlementExit public immutable exits;
    TestUSDT public immutable usdt;
    uint256 internal immutable signerKey;
    address internal immutable operator;
    address internal immutable pauser;
    address internal immutable admin;
    address public constant OUTSIDER = address(0x0075);

    // the latest commitment, as committed
    MerkleSum.Account[] internal _accounts;
    MerkleSum.Context internal _ctx;
    uint256 public ghostCommitTime;
    uint256 public immutable knownSince;
    uint256 public ghostPausedSince;
    /// @dev The model of the paused time that still counts toward the exit (issue 65) and of when the last pause ended.
    uint256 public ghostPausedBefore;
    uint256 public ghostUnpausedAt;
    // batches since the latest commitment, oldest first, and how many of the newest are folded
    FoldedBatch[] internal _kept;
    uint256 internal _folded;
    mapping(address member => uint256) internal _paidAfter;

    /// @dev The operator walked away: no more commitments or payouts (what the exit is for).
    bool public operatorGone;

    // the exit
    bool public opened;
    uint256 public ghostCustodyAtOpening;
    uint256 public ghostOwedAtOpening;
    uint256 public ghostClaimEnd;
    uint256 public ghostProven;
    uint256 public ghostExitPaid;
    uint256 public ghostSurplus;
    bool public surplusReturned;
    mapping(address member => uint256) public ghostDue;
    mapping(address member => bool) public ghostPaidOut;

    // what must never happen
    uint256 public ghostOpenedEarly; // an opening accepted before it was due
    uint256 public ghostDueRefused; // an opening refused when due (and not yet open)
    uint256 public ghostPaidTwice; // a member paid by a second payout, or a second claim recorded
    uint256 public ghostWrongExit; // a claim or payout other than EXIT.md §4 and §13, or refused for a wrong reason
    uint256 public ghostWrongSurplus; // a surplus returned early, twice, or other than custody − min(custody, proven)
    uint256 public ghostMovedAfterOpening; // a registration, payout, commitment accepted for the open token
    uint256 public ghostWrongRefusal; // an action refused for a reason other than the modelled one
    uint256 public ghostClaimFailed; // a claim of what the contract holds for a member refused

    mapping(bytes32 => uint256) public calls;
    uint256 internal _nonce = 1 << 100;

    constructor(
        Settlement settlement_,
        TestUSDT usdt_,
        uint256 signerKey_,
        address operator_,
        address pauser_,
        address admin_
    ) {
        settlement = settlement_;
        exits = SettlementExit(payable(settlement_.exits()));
        usdt = usdt_;
        signerKey = signerKey_;
        operator = operator_;
        pauser = pauser_;
        admin = admin_;
        knownSince = block.timestamp; // the Settlement was deployed (its tokens allowed) in the same block
    }

    function _member(uint256 i) internal pure returns (address) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(0xE2000 + i));
    }

    function _sign(bytes32 structHash) internal view returns (bytes memory) {
        bytes32 digest =
            EIP712Reference.digest(EIP712Reference.domainSeparator(block.chainid, address(settlement)), structHash);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, digest);
        return abi.encodePacked(r, s, v);
    }

    function _isError(bytes memory err, bytes memory expected) internal pure returns (bool) {
        return keccak256(err) == keccak256(expected);
    }

    function _exitOpenError() internal view returns (bytes memory) {
        return abi.encodeWithSelector(Settlement.ExitOpen.selector, address(usdt));
    }

    function _pausedError() internal pure returns (bytes memory) {
        return abi.encodeWithSignature("EnforcedPause()");
    }

    /// @dev A refusal is right when the exit is open (ExitOpen) or, for paused-gated actions, the contract is paused
    ///      (the pause's modifier speaks first).
    function _judgeRefusal(bytes memory err, bool pausable) internal {
        if (pausable && settlement.paused() && _isError(err, _pausedError())) return;
        if (opened && _isError(err, _exitOpenError())) return;
        ++ghostWrongRefusal;
    }

    // ───────────── money in and out ─────────────

    function register(uint256 amount) external {
        ++calls["register"];
        amount = amount % (5_000 * UNIT);
        // forge-lint: disable-next-line(unsafe-typecast)
        address user = address(uint160(0xA10000 + _nonce));
        Registration memory r =
            Registration(user, address(0x5B0), address(usdt), amount, _nonce++, block.timestamp + 1 hours);
        bytes memory sig = _sign(r.hash());
        usdt.mint(user, amount);
        vm.prank(user);
        usdt.approve(address(settlement), amount);
        vm.prank(user);
        try settlement.register(r, sig) {
            if (opened) ++ghostMovedAfterOpening;
        } catch (bytes memory err) {
            _judgeRefusal(err, true);
        }
    }

    /// @dev 1-3 entries within what is available; one in three while the token is paused (every entry deferred).
    function payout(uint256 seed) external {
        if (operatorGone && !opened) return;
        ++calls["payout"];
        uint256 free = views().available(address(usdt));
        uint256 size = 1 + seed % 3;
        Payout[] memory p = new Payout[](size);
        uint256 total;
        for (uint256 i; i < size; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 who = r % (MEMBERS + 1);
            p[i] = Payout(who == MEMBERS ? OUTSIDER : _member(who), (r >> 8) % (free / size + 1));
            total += p[i].amount;
        }
        PayoutBatch memory b = PayoutBatch(address(usdt), total, p, _nonce++, block.timestamp + 1 hours);
        bytes memory sig = _sign(b.hash());
        (bytes32 head, uint256 lastBatchBlock) = views().batchesSinceCommitment(address(usdt));
        bool deferred = seed % 3 == 0;
        if (deferred) usdt.pause();
        vm.prank(operator);
        try settlement.executePayoutBatch(b, sig) {
            if (opened) ++ghostMovedAfterOpening;
            FoldedBatch storage kept = _kept.push();
            (kept.previous, kept.nonce) = (lastBatchBlock == 0 ? bytes32(0) : head, b.nonce);
            for (uint256 i; i < size; ++i) {
                kept.payouts.push(p[i]);
                _paidAfter[p[i].recipient] += p[i].amount;
            }
            if (deferred) ++calls["payoutDeferred"];
            else ++calls["payoutPaid"];
        } catch (bytes memory err) {
            _judgeRefusal(err, true);
        }
        if (deferred) usdt.unpause();
    }

    /// @dev The first member (or the outsider) with something claimable claims it: always, exit open or not.
    function claim(uint256 seed) external {
        seed %= MEMBERS + 1;
        for (uint256 k; k <= MEMBERS; ++k) {
            uint256 who = (seed + k) % (MEMBERS + 1);
            address m = who == MEMBERS ? OUTSIDER : _member(who);
            uint256 owed = views().claimable(address(usdt), m);
            if (owed == 0) continue;
            ++calls["claim"];
            uint256 before = usdt.balanceOf(m);
            vm.prank(m);
            try settlement.claim(address(usdt), m) {
                if (usdt.balanceOf(m) - before != owed) ++ghostClaimFailed;
            } catch {
                ++ghostClaimFailed;
            }
            return;
        }
    }

    // ───────────── the operator's commitments, the pause, time ─────────────

    /// @dev A real tree of random leaves (each member's claimable component as the contract holds it).
    function commit(uint256 seed) external {
        if (operatorGone && !opened) return;
        ++calls["commit"];
        vm.roll(block.number + 1);
        (,, uint64 epoch,,,) = views().latestLiabilities(address(usdt));
        MerkleSum.Context memory ctx =
            MerkleSum.Context(uint64(block.chainid & 0xffffffff), address(settlement), address(usdt), epoch + 1);
        MerkleSum.Account[] memory accounts = new MerkleSum.Account[](MEMBERS);
        for (uint256 i; i < MEMBERS; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            address m = _member(i);
            accounts[i] = MerkleSum.Account(
                m,
                uint128((r % 3 == 0 ? r >> 8 : 0) % (2_000 * UNIT)),
                uint128((r % 7 == 0 ? r >> 40 : 0) % (500 * UNIT)),
                uint128((r >> 80) % (3_000 * UNIT)),
                uint128((r % 2 == 0 ? r >> 120 : 0) % (1_000 * UNIT)),
                uint128(views().claimable(address(usdt), m)),
                keccak256(abi.encode("salt", m, epoch + 1))
            );
        }
        ExitTree.Tree memory t = ExitTree.build(ctx, accounts);
        LiabilityRoot memory c = LiabilityRoot({
            token: address(usdt),
            epoch: epoch + 1,
            asOfBlock: uint64(block.number - 1),
            root: t.root,
            total: uint128(t.total),
            // forge-lint: disable-next-line(unsafe-typecast)
            leafCount: uint32(MEMBERS),
            planHash: bytes32(0),
            nonce: _nonce++,
            deadline: block.timestamp + 1 hours
        });
        bytes memory sig = _sign(c.hash());
        vm.prank(operator);
        try settlement.commitLiabilities(c, sig) {
            if (opened) ++ghostMovedAfterOpening;
            delete _accounts;
            for (uint256 i; i < MEMBERS; ++i) {
                _accounts.push(accounts[i]);
                _paidAfter[accounts[i].user] = 0;
            }
            _paidAfter[OUTSIDER] = 0;
            _ctx = ctx;
            delete _kept;
            _folded = 0;
            ghostCommitTime = block.timestamp;
        } catch (bytes memory err) {
            _judgeRefusal(err, false);
        }
    }

    /// @dev The operator stops: from now on only time, members and outsiders act (an operator action after the
    ///      opening is still tried, and must be refused).
    function leave(uint256 seed) external {
        if (seed % 6 != 0) return; // the operator works a while first
        ++calls["leave"];
        operatorGone = true;
    }

    function flipPause() external {
        ++calls["pause"];
        if (settlement.paused()) {
            vm.prank(pauser);
            settlement.unpause();
            ghostPausedBefore += block.timestamp - ghostPausedSince;
            (ghostUnpausedAt, ghostPausedSince) = (block.timestamp, 0);
        } else {
            vm.prank(pauser);
            settlement.pause();
            if (block.timestamp - ghostUnpausedAt >= settlement.exitAfter()) ghostPausedBefore = 0;
            ghostPausedSince = block.timestamp;
        }
    }

    function warp(uint256 secs) external {
        ++calls["warp"];
        vm.warp(block.timestamp + secs % 4 days);
    }

    // ───────────── the exit ─────────────

    function modelOpensAt() public view returns (uint256 opensAt) {
        uint256 exitAfter = settlement.exitAfter();
        opensAt = (ghostCommitTime == 0 ? knownSince : ghostCommitTime) + exitAfter;
        if (ghostPausedSince != 0) {
            uint256 byPause =
                ghostPausedBefore >= exitAfter ? ghostPausedSince : ghostPausedSince + exitAfter - ghostPausedBefore;
            if (byPause < opensAt) opensAt = byPause;
        }
    }

    function openExit() external {
        ++calls["openAttempt"];
        bool due = block.timestamp >= modelOpensAt();
        try exits.openExit(address(usdt)) {
            if (!due || opened) ++ghostOpenedEarly;
            opened = true;
            ++calls["opened"];
            (,,,, uint128 owed, uint128 custody,,) = exits.opening(address(usdt));
            (ghostOwedAtOpening, ghostCustodyAtOpening) = (owed, custody);
            uint256 window = settlement.exitAfter();
            if (window < exits.MIN_CLAIM_WINDOW()) window = exits.MIN_CLAIM_WINDOW();
            ghostClaimEnd = block.timestamp + window;
        } catch (bytes memory err) {
            if (opened) {
                if (!_isError(err, _exitOpenError())) ++ghostWrongRefusal;
            } else if (due) {
                ++ghostDueRefused;
            } else if (!_isError(
                    err, abi.encodeWithSelector(Settlement.ExitNotDue.selector, address(usdt), modelOpensAt())
                )) {
                ++ghostWrongRefusal;
            }
        }
    }

    function windowClosed() public view returns (bool) {
        return opened && block.timestamp >= ghostClaimEnd;
    }

    /// @dev Jumps to the end of the claim window (a campaign's warps of at most 4 days rarely reach 30 days).
    function closeWindow() external {
        if (!opened || windowClosed()) return;
        ++calls["closeWindow"];
        vm.warp(ghostClaimEnd);
    }

    /// @dev Folds the next 1-3 batches, newest first, from where the previous fold stopped.
    function fold(uint256 chunk) external {
        if (!opened || _folded == _kept.length) return;
        ++calls["fold"];
        uint256 end = _kept.length - _folded;
        uint256 n = 1 + chunk % 3;
        if (n > end) n = end;
        FoldedBatch[] memory b = new FoldedBatch[](n);
        for (uint256 i; i < n; ++i) {
            b[i] = _kept[end - 1 - i];
        }
        try exits.foldBatches(address(usdt), b) {
            _folded += n;
        } catch {
            ++ghostWrongRefusal;
        }
    }

    /// @dev A member's claim (to themselves, by them or a relayer): in the window, once, once folded, of their due.
    function exitMember(uint256 seed) external {
        if (!opened || _accounts.length == 0) return;
        ++calls["exitAttempt"];
        uint256 i = seed % MEMBERS;
        ExitTree.Tree memory t = ExitTree.build(_ctx, _accounts);
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(i);
        address m = leaf.member;
        address sender = (seed >> 8) % 2 == 0 ? m : address(0xBEEF);
        uint256 expected = _expectedDue(_accounts[i]);
        bool folded = _folded == _kept.length;
        bool closed = windowClosed();
        bool claimed = ghostDue[m] != 0;
        uint256 before = usdt.balanceOf(m);
        vm.prank(sender);
        try exits.exit(address(usdt), leaf, index, siblings, m) returns (uint256 due) {
            if (claimed) ++ghostPaidTwice;
            if (closed || !folded || due != expected || usdt.balanceOf(m) != before) ++ghostWrongExit;
            ghostDue[m] = due;
            ghostProven += due;
            ++calls["claimed"];
        } catch (bytes memory err) {
            bytes memory why = closed
                ? abi.encodeWithSelector(SettlementExit.ClaimWindowClosed.selector, address(usdt), ghostClaimEnd)
                : claimed
                    ? abi.encodeWithSelector(SettlementExit.AlreadyExited.selector, address(usdt), m)
                    : !folded
                        ? abi.encodeWithSelector(
                            SettlementExit.BatchesNotFolded.selector, address(usdt), _unfoldedHead()
                        )
                        : abi.encodeWithSelector(SettlementExit.NothingToExit.selector, address(usdt), m);
            if (!_isError(err, why)) ++ghostWrongExit;
            if (!closed && folded && !claimed && expected != 0) ++ghostWrongExit;
        }
    }

    /// @dev A claim paid (by anyone) once the window has closed: its due times min(1, custody/proven), once.
    function payOutMember(uint256 seed) external {
        if (!opened) return;
        ++calls["payOutAttempt"];
        address m = _member(seed % MEMBERS);
        bool closed = windowClosed();
        uint256 expected = _share(ghostDue[m]);
        uint256 before = usdt.balanceOf(m);
        vm.prank(address(0xFEE));
        try exits.payOut(address(usdt), m) returns (uint256 amount) {
            if (ghostPaidOut[m]) ++ghostPaidTwice;
            if (!closed || ghostDue[m] == 0 || amount != expected || usdt.balanceOf(m) - before != amount) {
                ++ghostWrongExit;
            }
            ghostPaidOut[m] = true;
            ghostExitPaid += amount;
            ++calls["paidOut"];
        } catch (bytes memory err) {
            bytes memory why = !closed
                ? abi.encodeWithSelector(SettlementExit.ClaimWindowOpen.selector, address(usdt), ghostClaimEnd)
                : ghostPaidOut[m]
                    ? abi.encodeWithSelector(SettlementExit.AlreadyPaid.selector, address(usdt), m)
                    : abi.encodeWithSelector(SettlementExit.NotClaimed.selector, address(usdt), m);
            if (!_isError(err, why)) ++ghostWrongExit;
            if (closed && ghostDue[m] != 0 && !ghostPaidOut[m]) ++ghostWrongExit;
        }
    }

    /// @dev The custody beyond the claims to the admin: after the window, once, custody − min(custody, proven).
    function returnSurplus() external {
        if (!opened) return;
        ++calls["surplusAttempt"];
        bool closed = windowClosed();
        uint256 expected = ghostCustodyAtOpening > ghostProven ? ghostCustodyAtOpening - ghostProven : 0;
        uint256 before = usdt.balanceOf(admin);
        try exits.returnSurplus(address(usdt)) returns (uint256 amount) {
            if (!closed || surplusReturned || amount != expected || usdt.balanceOf(admin) - before != amount) {
                ++ghostWrongSurplus;
            }
            surplusReturned = true;
            ghostSurplus = amount;
            ++calls["surplusReturned"];
        } catch (bytes memory err) {
            bytes memory why = !closed
                ? abi.encodeWithSelector(SettlementExit.ClaimWindowOpen.selector, address(usdt), ghostClaimEnd)
                : abi.encodeWithSelector(SettlementExit.SurplusAlreadyReturned.selector, address(usdt));
            if (!_isError(err, why) || (closed && !surplusReturned)) ++ghostWrongSurplus;
        }
    }

    /// @notice What the claims not yet paid would be paid now: each due times min(1, custody/proven).
    function outstanding() external view returns (uint256 total) {
        for (uint256 i; i < MEMBERS; ++i) {
            address m = _member(i);
            if (!ghostPaidOut[m]) total += _share(ghostDue[m]);
        }
    }

    function _unfoldedHead() internal view returns (bytes32) {
        (,,,,,, bytes32 head,) = exits.opening(address(usdt));
        return head;
    }

    /// @dev EXIT.md §4: reserved + held + pending + batched − paid or deferred since, floored at 0.
    function _expectedDue(MerkleSum.Account memory a) internal view returns (uint256) {
        uint256 entitlement = ExitTree.entitlement(a);
        uint256 paidAfter = _paidAfter[a.user];
        return entitlement > paidAfter ? entitlement - paidAfter : 0;
    }

    /// @dev EXIT.md §13: `due` times min(1, custody/proven), rounded down.
    function _share(uint256 due) internal view returns (uint256) {
        (uint256 custody, uint256 proven) = (ghostCustodyAtOpening, ghostProven);
        return custody >= proven ? due : due * custody / proven;
    }
}
