// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {console} from "../utils/Console.sol";
import {BareEmitter} from "./BareEmitter.sol";
import {GasBench} from "./GasBench.sol";
import {Settlement} from "../../src/Settlement.sol";
import {SettlementViews} from "../../src/SettlementViews.sol";
import {LiabilityRoot} from "../../src/SettlementTypes.sol";

/// @notice Gas of `commitLiabilities` beside a bare emission of an event of the same shape with the same calldata
///         (BareEmitter), measured in the same test. Run: `forge test --match-path 'test/bench/*' -vv`.
/// @dev Steady state, set up in setUp() (a separate transaction, so all of it is cold in the test): custody holds each
///      asset (through registrations, which also leave the nonce words of the measured commitments non-zero, as
///      nonces are handed out sequentially). The Settlement and the emitter accounts are warm, as a transaction's
///      `to` is; the token is cold. "As a transaction" replaces the CALL's own cost by the transaction's 21000 +
///      calldata; a commitment earns no refund (no slot returns to its original value), so that is a receipt's gasUsed.
///      A first commitment writes its token's three slots from zero; a following one overwrites them.
abstract contract CommitGasBench is GasBench {
    /// @dev SOLVENCY.md: commitLiabilities ≤ 120,000 gas on anvil (a transaction's gas).
    uint256 internal constant COMMIT_TX_LIMIT = 120_000;
    /// @dev What the measuring CALL costs beyond the callee (warm access) and a transaction does not pay.
    uint256 internal constant CALL_OVERHEAD = 100;
    /// @dev In word 0, left non-zero by setUp().
    uint256 internal constant NONCE = 9;
    /// @dev The first nonce of a word nothing has touched: one payload in 256 (nonces are sequential) pays to set
    ///      a bitmap word from zero, 17,100 gas more.
    uint256 internal constant FRESH_WORD_NONCE = 7 * 256;
    uint64 internal constant START_BLOCK = 1_000_000;

    BareEmitter internal bare;

    function setUp() public virtual override {
        super.setUp();
        vm.roll(START_BLOCK);
        bare = new BareEmitter();
        address funder = makeAddr("funder");
        _doRegister(funder, NATIVE, 1_000 ether, 0);
        _doRegister(funder, address(erc20), 1e24, 1);
        _doRegister(funder, address(usdt), 1e12, 2);
    }

    /// @dev Measures the commitment of `epoch` in `token` and the bare emission of the same calldata, and reports.
    function _bench(string memory label, address token, uint64 epoch) internal {
        _bench(label, token, epoch, NONCE, COMMIT_TX_LIMIT);
    }

    function _bench(string memory label, address token, uint64 epoch, uint256 nonce, uint256 limit) internal {
        vm.roll(START_BLOCK + 100 * epoch);
        LiabilityRoot memory c = _liab(token, epoch, uint128(_balance(token, address(settlement)) - 1), nonce);
        bytes memory ours = abi.encodeCall(Settlement.commitLiabilities, (c, _sign(c)));
        bytes memory floor = abi.encodeCall(BareEmitter.emitLiabilities, (c, _sign(c)));

        assertGe(address(bare).balance + address(settlement).balance, 0, "warm both, as a transaction's `to`");
        uint256 gasBare = _measure(address(bare), floor, address(0), address(this));
        uint256 gasOurs = _measure(address(settlement), ours, token, operator);

        (,, uint64 committed,,,) = views().latestLiabilities(token);
        assertEq(committed, epoch, "committed");
        uint256 txOurs = gasOurs - CALL_OVERHEAD + _intrinsic(ours);
        uint256 txBare = gasBare - CALL_OVERHEAD + _intrinsic(floor);
        console.log(string.concat(label, ": gas of the call, ours"), gasOurs);
        console.log(string.concat(label, ": gas of the call, bare emission"), gasBare);
        console.log(string.concat(label, ": ratio ours/bare (bps)"), gasOurs * 10_000 / gasBare);
        console.log(string.concat(label, ": as a transaction, ours"), txOurs);
        console.log(string.concat(label, ": as a transaction, bare emission"), txBare);
        console.log(string.concat(label, ": as a transaction, ratio ours/bare (bps)"), txOurs * 10_000 / txBare);
        assertLe(txOurs, limit, "within its budget");
    }
}

/// @notice The first commitment of each asset.
contract CommitGasFirstBench is CommitGasBench {
    function test_gas_commit_native_first() public {
        _bench("commit native, first", NATIVE, 1);
    }

    function test_gas_commit_token_first() public {
        _bench("commit token, first", address(erc20), 1);
    }

    /// @notice The worst case: a token's first commitment on the first nonce of a fresh bitmap word (one payload in
    ///         256 of any kind pays for that word). Held to the budget plus that word's 17,100 only.
    function test_gas_commit_token_first_freshNonceWord() public {
        _bench("commit token, first, fresh nonce word", address(erc20), 1, FRESH_WORD_NONCE, COMMIT_TX_LIMIT + 17_100);
    }
}

/// @notice A following commitment (epoch 2): setUp() committed epoch 1 of each asset.
contract CommitGasFollowingBench is CommitGasBench {
    function setUp() public override {
        super.setUp();
        address[3] memory assets = [NATIVE, address(erc20), address(usdt)];
        for (uint256 i; i < assets.length; ++i) {
            LiabilityRoot memory c = _liab(assets[i], 1, 1, 3 + i);
            bytes memory sig = _sign(c);
            vm.prank(operator);
            settlement.commitLiabilities(c, sig);
        }
    }

    function test_gas_commit_native_following() public {
        _bench("commit native, following", NATIVE, 2);
    }

    function test_gas_commit_token_following() public {
        _bench("commit token, following", address(erc20), 2);
    }

    /// @notice Informational: TRON's USDT (EVM gas; TRON's energy differs).
    function test_gas_commit_tronUsdt_following() public {
        _bench("commit tron-usdt, following", address(usdt), 2);
    }
}
