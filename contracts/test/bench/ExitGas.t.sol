// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {console} from "../utils/Console.sol";
import {GasBench} from "./GasBench.sol";
import {ExitFixture} from "../utils/ExitFixture.sol";
import {SettlementFixture} from "../utils/SettlementFixture.sol";
import {MerkleSum} from "../utils/MerkleSum.sol";
import {SettlementExit} from "../../src/SettlementExit.sol";
import {ExitLeaf, SumNode, Payout} from "../../src/SettlementTypes.sol";

/// @notice Gas of the members' exit (EXIT.md §9, §13): `openExit`, a claim (`exit`) with a depth-17 proof (a tree of
///         131,072 leaves) then its `payOut`, beside the one-step `exit` they replace, `foldBatches` per entry.
///         Run: `forge test --match-path 'test/bench/*' -vv`.
/// @dev As the other benchmarks: state set up in setUp() (a separate transaction) is cold in the test, and each
///      measurement cools its target and token again. "As a transaction" adds 21000 and the calldata to the call.
abstract contract ExitGasBench is GasBench, ExitFixture {
    function setUp() public virtual override(SettlementFixture, ExitFixture) {
        ExitFixture.setUp();
        address funder = makeAddr("funder");
        _doRegister(funder, NATIVE, 1_000 ether, 0);
        _doRegister(funder, address(erc20), 1e24, 1);
        _doRegister(funder, address(usdt), 1e12, 2);
    }

    function _report(string memory label, uint256 gas, bytes memory data) internal view {
        console.log(string.concat(label, ": gas of the call"), gas);
        console.log(string.concat(label, ": as a transaction"), gas - 100 + _intrinsic(data));
    }
}

/// @notice `openExit`: the Settlement's checks and its transfer of the custody to the exits, the exits' records.
contract ExitOpenGasBench is ExitGasBench {
    function setUp() public override {
        super.setUp();
        address[3] memory assets = [NATIVE, address(erc20), address(usdt)];
        for (uint256 i; i < 3; ++i) {
            _commitTree(assets[i], _accounts(_owing(alice, 1e6), _owing(bob, 2e6)));
        }
        // and, in USDT, a batch since the commitment (the opening then reads the running hash)
        vm.roll(block.number + 1);
        _executeKept(address(usdt), _payouts1(carol, 1e6), 3);
        vm.warp(block.timestamp + EXIT_AFTER);
    }

    function test_gas_openExit_native() public {
        _bench("openExit native", NATIVE);
    }

    function test_gas_openExit_token() public {
        _bench("openExit token", address(erc20));
    }

    function test_gas_openExit_tronUsdt_withABatchSince() public {
        _bench("openExit tron-usdt, a batch since", address(usdt));
    }

    function _bench(string memory label, address token) internal {
        bytes memory data = abi.encodeCall(SettlementExit.openExit, (token));
        if (token != NATIVE) vm.cool(address(settlement));
        uint256 gas = _measure(address(exits), data, token, alice);
        (bool open,,,,,,,) = exits.opening(token);
        assertTrue(open, "opened");
        _report(label, gas, data);
    }
}

/// @notice A claim (`exit`) with a proof of depth 17 (131,072 leaves) — the proof's 17 hashes, the member's fresh
///         claim slot, the claims' sum — then, once the window has closed, its `payOut` — the fraction's figures, the
///         member's claim and books, the payment; beside the one-step `exit` of before the claim window (EXIT.md §13).
/// @dev Each is the first of its token (its claims' sum and payouts' sum go from 0), as the one-step exit measured
///      was. The claim is measured in setUp() (a transaction of its own, after the openings, which write none of the
///      slots it writes; the exits cooled first), so that the payout, measured in the test, finds the claim's slots
///      written by an earlier transaction, as it does on chain.
contract ExitProofGasBench is ExitGasBench {
    uint256 internal constant DEPTH = 17;
    uint256 internal constant INDEX = 0x15a5a; // below 2^17, both sides at various levels

    mapping(address token => ExitLeaf) internal _leaf;
    SumNode[] internal _siblings;
    /// @dev Each token's claim: gas of the call and as a transaction.
    mapping(address token => uint256) internal _claimGas;
    mapping(address token => uint256) internal _claimTx;

    function setUp() public override {
        super.setUp();
        MerkleSum.Node[] memory siblings = new MerkleSum.Node[](DEPTH);
        for (uint256 k; k < DEPTH; ++k) {
            siblings[k] = MerkleSum.Node(keccak256(abi.encode("sibling", k)), (k + 1) * 1e6);
            _siblings.push(SumNode(siblings[k].hash, siblings[k].sum));
        }
        address[3] memory assets = [NATIVE, address(erc20), address(usdt)];
        for (uint256 i; i < 3; ++i) {
            address token = assets[i];
            address member = makeAddr(string.concat("member-", vm.toString(i)));
            MerkleSum.Account memory a = _account(member, 1e6, 2e6, 3e6, 4e6, 5e6);
            _leaf[token] = ExitLeaf(member, 1e6, 2e6, 3e6, 4e6, 5e6, a.salt);
            _rollForCommit(token);
            MerkleSum.Context memory ctx = _nextContext(token);
            MerkleSum.Node memory root = MerkleSum.fold(MerkleSum.leaf(ctx, a), INDEX, siblings);
            _commitRoot(token, ctx.epoch, root.hash, root.sum);
        }
        vm.warp(block.timestamp + EXIT_AFTER);
        for (uint256 i; i < 3; ++i) {
            exits.openExit(assets[i]);
        }
        for (uint256 i; i < 3; ++i) {
            address token = assets[i];
            ExitLeaf memory leaf = _leaf[token];
            bytes memory data = abi.encodeCall(SettlementExit.exit, (token, leaf, INDEX, _siblings, leaf.member));
            // the token stays warm: a claim does not touch it, and cooling an account in the transaction that
            // changed it (setUp's) would leave those changes out of the state the test starts from
            uint256 gas = _measure(address(exits), data, NATIVE, leaf.member);
            (uint256 due,,) = exits.claimOf(token, leaf.member);
            assertEq(due, 10e6, "claimed reserved + held + pending + batched");
            (_claimGas[token], _claimTx[token]) = (gas, gas - 100 + _intrinsic(data));
        }
        _closeClaimWindow(NATIVE); // one window for all three: opened in the same block
    }

    /// @dev The one-step `exit` (commit 85db952, this benchmark before the claim window): gas of the call and as a
    ///      transaction, native / token / TRON-like USDT.
    function test_gas_claimThenPayOut_depth17_native() public {
        _bench("exit depth 17 native", NATIVE, 115_708, 150_756);
    }

    function test_gas_claimThenPayOut_depth17_token() public {
        _bench("exit depth 17 token", address(erc20), 119_238, 154_526);
    }

    function test_gas_claimThenPayOut_depth17_tronUsdt() public {
        _bench("exit depth 17 tron-usdt", address(usdt), 128_449, 163_737);
    }

    function _bench(string memory label, address token, uint256 oneStepCall, uint256 oneStepTx) internal {
        address member = _leaf[token].member;
        bytes memory data = abi.encodeCall(SettlementExit.payOut, (token, member));
        uint256 gas = _measure(address(exits), data, token, member);
        assertEq(_balance(token, member), 10e6, "paid reserved + held + pending + batched");
        uint256 tx_ = gas - 100 + _intrinsic(data);
        uint256 claimGas = _claimGas[token];
        uint256 claimTx = _claimTx[token];
        console.log(string.concat(label, ": claim (exit), gas of the call"), claimGas);
        console.log(string.concat(label, ": payOut, gas of the call"), gas);
        console.log(string.concat(label, ": claim + payOut, gas of the calls"), claimGas + gas);
        console.log(string.concat(label, ": one-step exit before (85db952), gas of the call"), oneStepCall);
        console.log(
            string.concat(label, ": claim + payOut over the one-step exit, calls (bps)"),
            (claimGas + gas) * 10_000 / oneStepCall
        );
        console.log(string.concat(label, ": claim, as a transaction"), claimTx);
        console.log(string.concat(label, ": payOut, as a transaction"), tx_);
        console.log(string.concat(label, ": claim + payOut, as two transactions"), claimTx + tx_);
        console.log(string.concat(label, ": one-step exit before (85db952), as a transaction"), oneStepTx);
        console.log(
            string.concat(label, ": claim + payOut over the one-step exit, transactions (bps)"),
            (claimTx + tx_) * 10_000 / oneStepTx
        );
    }
}

/// @notice `leave` (EXIT.md §12) with a proof of depth 17 (131,072 leaves), while a change is pending: the proof, the
///         Settlement's figures for the fraction, the member's marks, the payment; with no batch since the commitment
///         and with one of 10 entries (the member's own among them), folded in the same call.
contract LeaveGasBench is ExitGasBench {
    uint256 internal constant DEPTH = 17;
    uint256 internal constant INDEX = 0x15a5a;

    mapping(address token => ExitLeaf) internal _leaf;
    SumNode[] internal _siblings;

    function setUp() public override {
        super.setUp();
        MerkleSum.Node[] memory siblings = new MerkleSum.Node[](DEPTH);
        for (uint256 k; k < DEPTH; ++k) {
            siblings[k] = MerkleSum.Node(keccak256(abi.encode("sibling", k)), (k + 1) * 1e6);
            _siblings.push(SumNode(siblings[k].hash, siblings[k].sum));
        }
        address[3] memory assets = [NATIVE, address(erc20), address(usdt)];
        for (uint256 i; i < 3; ++i) {
            address token = assets[i];
            address member = makeAddr(string.concat("member-", vm.toString(i)));
            MerkleSum.Account memory a = _account(member, 1e6, 2e6, 3e6, 4e6, 5e6);
            _leaf[token] = ExitLeaf(member, 1e6, 2e6, 3e6, 4e6, 5e6, a.salt);
            _rollForCommit(token);
            MerkleSum.Context memory ctx = _nextContext(token);
            MerkleSum.Node memory root = MerkleSum.fold(MerkleSum.leaf(ctx, a), INDEX, siblings);
            _commitRoot(token, ctx.epoch, root.hash, root.sum);
        }
        // in USDT a batch of 10 since the commitment, 1 of them to the member
        vm.roll(block.number + 1);
        Payout[] memory ten = new Payout[](10);
        for (uint256 i; i < 10; ++i) {
            ten[i] = Payout(i == 4 ? _leaf[address(usdt)].member : makeAddr(string.concat("paid-", vm.toString(i))), 1);
        }
        _executeKept(address(usdt), ten, 3);
        vm.prank(admin);
        settlement.scheduleSignerRotation(carol);
    }

    function test_gas_leave_depth17_native() public {
        _bench("leave depth 17 native", NATIVE, 10e6);
    }

    function test_gas_leave_depth17_token() public {
        _bench("leave depth 17 token", address(erc20), 10e6);
    }

    function test_gas_leave_depth17_tronUsdt_aBatchOf10Since() public {
        _bench("leave depth 17 tron-usdt, a batch of 10 since", address(usdt), 10e6);
    }

    function _bench(string memory label, address token, uint256 due) internal {
        ExitLeaf memory leaf = _leaf[token];
        bytes memory data = abi.encodeCall(
            SettlementExit.leave,
            (token, leaf, INDEX, _siblings, _keptNewestFirst(token, 0, _sinceCommit[token].length), leaf.member)
        );
        vm.cool(address(settlement)); // the custody's contract pays: cold as the exits and the token
        uint256 gas = _measure(address(exits), data, token, leaf.member);
        assertEq(_balance(token, leaf.member), due, "its leaf in all: what the batch paid and the leave");
        _report(label, gas, data);
    }
}

/// @notice `foldBatches` per entry: the same fold of one executed batch with 100 fresh recipients and with one,
///         each measured from the same state (snapshots); per entry = the difference / 99.
contract ExitFoldGasBench is ExitGasBench {
    function setUp() public override {
        super.setUp();
        _commitTree(NATIVE, _accounts(_owing(alice, 1 ether), _owing(bob, 2 ether)));
        vm.roll(block.number + 1);
    }

    function test_gas_foldBatches_perEntry() public {
        uint256 snapshot = vm.snapshotState();
        uint256 gas100 = _fold(100);
        vm.revertToState(snapshot);
        uint256 gas1 = _fold(1);
        console.log("foldBatches, a batch of 100 fresh recipients: gas of the call", gas100);
        console.log("foldBatches, a batch of 1: gas of the call", gas1);
        console.log("foldBatches: gas per entry", (gas100 - gas1) / 99);
        assertLt((gas100 - gas1) / 99, 30_000, "an entry folds for less than a push costs");
    }

    function _fold(uint256 n) internal returns (uint256 gas) {
        Payout[] memory p = new Payout[](n);
        for (uint256 i; i < n; ++i) {
            p[i] = Payout(address(uint160(uint256(keccak256(abi.encode("fold", i))))), 1e12 + i);
        }
        _executeKept(NATIVE, p, 7);
        vm.warp(block.timestamp + EXIT_AFTER);
        exits.openExit(NATIVE);
        bytes memory data = abi.encodeCall(SettlementExit.foldBatches, (NATIVE, _keptNewestFirst(NATIVE, 0, 1)));
        gas = _measure(address(exits), data, NATIVE, alice);
        (uint256 folded,) = exits.memberExit(NATIVE, p[n - 1].recipient);
        assertEq(folded, p[n - 1].amount, "folded");
    }
}
