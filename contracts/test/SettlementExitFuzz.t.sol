// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ExitFixture} from "./utils/ExitFixture.sol";
import {ExitTree} from "./utils/ExitTree.sol";
import {MerkleSum} from "./utils/MerkleSum.sol";
import {SettlementExit} from "../src/SettlementExit.sol";
import {ExitLeaf, SumNode, Payout} from "../src/SettlementTypes.sol";

/// @notice Random members claim their exit in random order (some never do) after random payouts (paid or deferred,
///         to members and to an outsider with no leaf), claims and new inflows, before and after the commitment, in
///         TRON's USDT (transfer returns false; its pause defers pushes); once the window closes, the claims are paid
///         in another random order and the surplus returned at a random point among them. Whatever happens: the exits
///         never pay more than the custody handed to them, never pay a member twice, pay each member exactly the rule
///         of EXIT.md §4 and §13 (the due times min(1, custody/proven), the same fraction for all), return exactly
///         custody − min(custody, proven), and leave every claim payable.
contract SettlementExitFuzzTest is ExitFixture {
    using ExitTree for ExitTree.Tree;

    uint256 internal constant MEMBERS = 6;
    uint256 internal constant UNIT = 1e6;

    address internal outsider = address(0x0075);
    uint256 internal _nonces = 900_000;
    uint256 internal _fuzzSeed;

    function _rand(string memory tag) internal returns (uint256) {
        return uint256(keccak256(abi.encode(_fuzzSeed, tag, _nonces++)));
    }

    function _member(uint256 i) internal pure returns (address) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return address(uint160(0xE1000 + i));
    }

    function testFuzz_exitsNeverPayMoreThanCustodyNorAMemberTwice(uint256 seed) public {
        _run(seed);
    }

    /// @notice The fuzz run is not vacuous: over 40 seeds, custody is short of the claims and in surplus, batches
    ///         after the commitment are folded (in several chunks), payouts pay, some claims are of nothing, some
    ///         members never claim, a surplus goes back, and `owed` understates the claims while custody covers it
    ///         (the exit race of EXIT.md §13).
    function test_fuzz_theRunsReachEveryCase() public {
        Coverage memory total;
        for (uint256 seed = 1; seed <= 40; ++seed) {
            uint256 snapshot = vm.snapshotState();
            Coverage memory c = _run(seed);
            vm.revertToState(snapshot);
            total.short += c.short;
            total.surplus += c.surplus;
            total.folded += c.folded;
            total.paidExits += c.paidExits;
            total.nothingExits += c.nothingExits;
            total.unclaimed += c.unclaimed;
            total.surplusReturned += c.surplusReturned;
            total.owedUnderstated += c.owedUnderstated;
        }
        assertGe(total.short, 5, "custody short of the claims");
        assertGe(total.surplus, 5, "custody in surplus");
        assertGe(total.folded, 10, "batches folded");
        assertGe(total.paidExits, 100, "payouts paid");
        assertGe(total.nothingExits, 5, "claims of nothing refused");
        assertGe(total.unclaimed, 5, "members who never claimed");
        assertGe(total.surplusReturned, 5, "a surplus returned");
        assertGe(total.owedUnderstated, 1, "owed covered, the claims not: the race");
    }

    struct Coverage {
        uint256 short;
        uint256 surplus;
        uint256 folded;
        uint256 paidExits;
        uint256 nothingExits;
        uint256 unclaimed;
        uint256 surplusReturned;
        uint256 owedUnderstated;
    }

    Coverage internal _coverage;

    function _run(uint256 seed) internal returns (Coverage memory) {
        delete _coverage;
        _fuzzSeed = seed;
        address token = address(usdt);

        // before the commitment: custody, and pushes deferred to members (their claims)
        _fundCustody(token, _rand("custody0") % (40_000 * UNIT));
        if (_rand("deferBefore") % 2 == 0) _randomBatch(token, true, false);

        // the commitment: random leaves, each member's claimable as the contract holds it
        MerkleSum.Account[] memory accounts = new MerkleSum.Account[](MEMBERS);
        for (uint256 i; i < MEMBERS; ++i) {
            address m = _member(i);
            uint256 r = _rand("leaf");
            accounts[i] = _account(
                m,
                uint128((r % 4 == 0 ? 0 : r >> 8) % (3_000 * UNIT)),
                uint128((r % 5 == 0 ? r >> 40 : 0) % (1_000 * UNIT)),
                uint128((r >> 80) % (4_000 * UNIT)),
                uint128((r % 3 == 0 ? r >> 120 : 0) % (2_000 * UNIT)),
                uint128(views().claimable(token, m))
            );
        }
        ExitTree.Tree memory t = _commitTree(token, accounts);

        // after it: batches (paid or deferred, sometimes to the outsider), claims, new inflows
        vm.roll(block.number + 1);
        uint256 actions = _rand("actions") % 7;
        for (uint256 a; a < actions; ++a) {
            uint256 kind = _rand("kind") % 4;
            if (kind == 0) _randomBatch(token, false, true);
            else if (kind == 1) _randomBatch(token, true, true);
            else if (kind == 2) _randomClaim(token);
            else _fundCustody(token, _rand("inflow") % (2_000 * UNIT));
        }

        _openExit(token);
        _foldInRandomChunks(token);
        _exitAllInRandomOrder(t, token);
        return _coverage;
    }

    // ───────────── the exits ─────────────

    struct Books {
        uint256 owed;
        uint256 custody;
        uint256 proven;
        uint256 paid;
        uint256 surplus;
    }

    function _exitAllInRandomOrder(ExitTree.Tree memory t, address token) internal {
        Books memory b;
        (,,,, uint128 owed, uint128 custody,,) = exits.opening(token);
        (b.owed, b.custody) = (owed, custody);
        assertEq(usdt.balanceOf(address(exits)), b.custody, "the exits hold what the opening recorded");

        // the window: members claim in random order, one in five never does
        uint256[] memory dues = new uint256[](MEMBERS);
        uint256[] memory order = _permutation(MEMBERS);
        for (uint256 k; k < MEMBERS; ++k) {
            dues[order[k]] = _claimOne(t, token, order[k]);
            b.proven += dues[order[k]];
        }
        (,, uint256 proven,,) = exits.claimWindow(token);
        assertEq(proven, b.proven, "the claims' sum");
        if (b.custody < b.proven) ++_coverage.short;
        else ++_coverage.surplus;
        if (b.custody >= b.owed && b.custody < b.proven) ++_coverage.owedUnderstated;

        // after it: no claim; the payouts in another random order, the surplus returned among them
        _closeClaimWindow(token);
        for (uint256 i; i < MEMBERS; ++i) {
            if (dues[i] != 0) continue;
            (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(i);
            vm.expectPartialRevert(SettlementExit.ClaimWindowClosed.selector);
            vm.prank(_member(i));
            exits.exit(token, leaf, index, siblings, _member(i));
        }
        order = _permutation(MEMBERS);
        uint256 surplusAt = _rand("surplusAt") % (MEMBERS + 1);
        for (uint256 k; k <= MEMBERS; ++k) {
            if (k == surplusAt) b.surplus = _returnSurplus(token, b);
            if (k < MEMBERS) b.paid += _payOne(token, order[k], dues[order[k]], b);
        }

        assertLe(b.paid + b.surplus, b.custody, "never more than the custody at opening");
        (,,,,,,, uint128 paid) = exits.opening(token);
        assertEq(paid, b.paid, "the exits' books");
        assertEq(usdt.balanceOf(address(exits)), b.custody - b.paid - b.surplus, "the rest (dust) stays");
        // every claim is still payable after the exits
        assertGe(usdt.balanceOf(address(settlement)), views().totalClaimable(token), "claims covered");
        for (uint256 i; i <= MEMBERS; ++i) {
            address m = i == MEMBERS ? outsider : _member(i);
            uint256 c = views().claimable(token, m);
            if (c == 0) continue;
            vm.prank(m);
            settlement.claim(token, m);
        }
        assertEq(views().totalClaimable(token), 0, "every claim paid");
    }

    /// @dev Member `i` claims (sent by themselves or a relayer) exactly the rule's due, and cannot claim again; or
    ///      never claims (one in five); or is refused a claim of nothing. Returns the due recorded.
    function _claimOne(ExitTree.Tree memory t, address token, uint256 i) internal returns (uint256) {
        address m = _member(i);
        uint256 expected = _due(t.accounts[i], token, m);
        (ExitLeaf memory leaf, uint256 index, SumNode[] memory siblings) = t.proof(i);
        address sender = _rand("relayer") % 2 == 0 ? m : makeAddr("relayer");
        if (expected == 0) {
            ++_coverage.nothingExits;
            vm.expectRevert(abi.encodeWithSelector(SettlementExit.NothingToExit.selector, token, m));
            vm.prank(sender);
            exits.exit(token, leaf, index, siblings, m);
            return 0;
        }
        if (_rand("absent") % 5 == 0) {
            ++_coverage.unclaimed;
            return 0;
        }
        uint256 before = usdt.balanceOf(m);
        vm.prank(sender);
        assertEq(exits.exit(token, leaf, index, siblings, m), expected, "EXIT.md section 4: the due");
        assertEq(usdt.balanceOf(m), before, "nothing paid in the window");
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.AlreadyExited.selector, token, m));
        vm.prank(_rand("again") % 2 == 0 ? m : makeAddr("relayer"));
        exits.exit(token, leaf, index, siblings, m);
        return expected;
    }

    /// @dev Member `i`'s claim is paid (by anyone) exactly due × min(1, custody/proven), once; a member who never
    ///      claimed is refused.
    function _payOne(address token, uint256 i, uint256 due, Books memory b) internal returns (uint256 amount) {
        address m = _member(i);
        if (due == 0) {
            vm.expectRevert(abi.encodeWithSelector(SettlementExit.NotClaimed.selector, token, m));
            exits.payOut(token, m);
            return 0;
        }
        uint256 expected = b.custody >= b.proven ? due : due * b.custody / b.proven;
        uint256 before = usdt.balanceOf(m);
        vm.prank(makeAddr("payer"));
        amount = exits.payOut(token, m);
        assertEq(amount, expected, "EXIT.md section 13: the same fraction for every claim");
        assertEq(usdt.balanceOf(m) - before, amount, "received");
        if (amount != 0) ++_coverage.paidExits;
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.AlreadyPaid.selector, token, m));
        exits.payOut(token, m);
    }

    /// @dev The surplus goes to the admin: exactly custody − min(custody, proven), once.
    function _returnSurplus(address token, Books memory b) internal returns (uint256 amount) {
        uint256 expected = b.custody > b.proven ? b.custody - b.proven : 0;
        uint256 before = usdt.balanceOf(admin);
        amount = exits.returnSurplus(token);
        assertEq(amount, expected, "custody - min(custody, proven)");
        assertEq(usdt.balanceOf(admin) - before, amount, "to the admin");
        if (amount != 0) ++_coverage.surplusReturned;
        vm.expectRevert(abi.encodeWithSelector(SettlementExit.SurplusAlreadyReturned.selector, token));
        exits.returnSurplus(token);
    }

    /// @dev The rule: reserved + held + pending + batched − what was paid or deferred since, floored at 0.
    function _due(MerkleSum.Account memory a, address token, address m) internal view returns (uint256) {
        (uint256 paidAfter,) = exits.memberExit(token, m);
        uint256 entitlement = ExitTree.entitlement(a);
        return entitlement > paidAfter ? entitlement - paidAfter : 0;
    }

    function _foldInRandomChunks(address token) internal {
        uint256 n = _sinceCommit[token].length;
        if (n > 0) ++_coverage.folded;
        uint256 end = n;
        while (end > 0) {
            uint256 from = end - 1 - _rand("chunk") % end;
            vm.prank(makeAddr("folder"));
            exits.foldBatches(token, _keptNewestFirst(token, from, end));
            end = from;
        }
        (,,,,,, bytes32 left,) = exits.opening(token);
        assertEq(left, bytes32(0), "all folded");
    }

    // ───────────── before the opening ─────────────

    /// @dev A batch of 1-4 random entries within what is available; `deferred`: the token is paused, so every
    ///      entry becomes a claim. Kept for folding when after the commitment.
    function _randomBatch(address token, bool deferred, bool keep) internal {
        uint256 free = views().available(token);
        if (free == 0) return;
        uint256 size = 1 + _rand("size") % 4;
        Payout[] memory p = new Payout[](size);
        for (uint256 i; i < size; ++i) {
            uint256 who = _rand("who") % (MEMBERS + 1);
            p[i] = Payout(who == MEMBERS ? outsider : _member(who), _rand("amount") % (free / size + 1));
        }
        if (deferred) usdt.pause();
        if (keep) _executeKept(token, p, _nonces++);
        else _execute(_batch(token, p, _nonces++));
        if (deferred) usdt.unpause();
    }

    function _randomClaim(address token) internal {
        uint256 start = _rand("claimant");
        for (uint256 k; k <= MEMBERS; ++k) {
            uint256 who = (start + k) % (MEMBERS + 1);
            address m = who == MEMBERS ? outsider : _member(who);
            if (views().claimable(token, m) == 0) continue;
            vm.prank(m);
            settlement.claim(token, m);
            return;
        }
    }

    function _permutation(uint256 n) internal returns (uint256[] memory order) {
        order = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            order[i] = i;
        }
        for (uint256 i = n - 1; i > 0; --i) {
            uint256 j = _rand("shuffle") % (i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
