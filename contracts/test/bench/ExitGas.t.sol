// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {console} from "../utils/Console.sol";
import {GasBench} from "./GasBench.sol";
import {ExitFixture} from "../utils/ExitFixture.sol";
import {SettlementFixture} from "../utils/SettlementFixture.sol";
import {MerkleSum} from "../utils/MerkleSum.sol";
import {SettlementExit} from "../../src/SettlementExit.sol";
import {ExitLeaf, SumNode, Payout} from "../../src/SettlementTypes.sol";

/// @notice Gas of the members' exit (EXIT.md §9): `openExit`, `exit` with a depth-17 proof (a tree of 131,072
///         leaves), `foldBatches` per entry. Run: `forge test --match-path 'test/bench/*' -vv`.
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

/// @notice `exit` with a proof of depth 17 (131,072 leaves): the proof's 17 hashes, the member's fresh slot, the
///         payment.
contract ExitProofGasBench is ExitGasBench {
    uint256 internal constant DEPTH = 17;
    uint256 internal constant INDEX = 0x15a5a; // below 2^17, both sides at various levels

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
        vm.warp(block.timestamp + EXIT_AFTER);
        for (uint256 i; i < 3; ++i) {
            exits.openExit(assets[i]);
        }
    }

    function test_gas_exit_depth17_native() public {
        _bench("exit depth 17 native", NATIVE);
    }

    function test_gas_exit_depth17_token() public {
        _bench("exit depth 17 token", address(erc20));
    }

    function test_gas_exit_depth17_tronUsdt() public {
        _bench("exit depth 17 tron-usdt", address(usdt));
    }

    function _bench(string memory label, address token) internal {
        ExitLeaf memory leaf = _leaf[token];
        bytes memory data = abi.encodeCall(SettlementExit.exit, (token, leaf, INDEX, _siblings, leaf.member));
        uint256 gas = _measure(address(exits), data, token, leaf.member);
        assertEq(_balance(token, leaf.member), 10e6, "paid reserved + held + pending + batched");
        _report(label, gas, data);
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
