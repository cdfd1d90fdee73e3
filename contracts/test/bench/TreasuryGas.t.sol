// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {console} from "../utils/Console.sol";
import {BareLoop} from "./BareLoop.sol";
import {GasBench} from "./GasBench.sol";
import {Settlement} from "../../src/Settlement.sol";
import {Payout, TreasuryTransfer} from "../../src/SettlementTypes.sol";

/// @notice Gas of `transferTreasury` (signature, nonce, the floor's checks: the latest commitment's total and time,
///         what members were paid since) beside a bare transfer of the same amount to the same kind of recipient
///         (BareLoop with one entry), measured in the same test. Run: `forge test --match-path 'test/bench/*' -vv`.
/// @dev Steady state, set up in setUp(): custody funded by registrations (leaving the nonce word non-zero), a
///      commitment made, a payout batch executed since (so the floor's paid-since counter is non-zero). Recipients
///      hold the asset already (a treasury wallet does).
contract TreasuryGasBench is GasBench {
    uint256 internal constant NONCE = 9;
    BareLoop internal bare;
    address internal treasuryWallet;
    address internal bareWallet;

    function setUp() public override {
        super.setUp();
        bare = new BareLoop();
        treasuryWallet = makeAddr("treasury-wallet");
        bareWallet = makeAddr("bare-wallet");
        address funder = makeAddr("funder");
        _doRegister(funder, NATIVE, 1_000 ether, 0);
        _doRegister(funder, address(erc20), 1e24, 1);
        vm.deal(address(bare), 1_000 ether);
        erc20.mint(address(bare), 1e24);
        for (uint256 i; i < 2; ++i) {
            address token = i == 0 ? NATIVE : address(erc20);
            _commitTotal(token, uint128(_balance(token, address(settlement)) / 2));
            _execute(_batch(token, _payouts2(makeAddr("member"), 1, makeAddr("member2"), 1), 100 + i));
            _fund(treasuryWallet, token, 1);
            _fund(bareWallet, token, 1);
        }
    }

    function test_gas_treasury_native() public {
        _bench("treasury native", NATIVE);
    }

    function test_gas_treasury_token() public {
        _bench("treasury token", address(erc20));
    }

    function _bench(string memory label, address token) internal {
        TreasuryTransfer memory t = _tt(token, treasuryWallet, 1e18, NONCE);
        bytes memory ours = abi.encodeCall(Settlement.transferTreasury, (t, _sign(t)));
        Payout[] memory one = new Payout[](1);
        one[0] = Payout(bareWallet, 1e18);
        bytes memory floor = token == NATIVE
            ? abi.encodeCall(BareLoop.sendNative, (one))
            : abi.encodeCall(BareLoop.sendToken, (erc20, one));
        uint256 gasBare = _measure(address(bare), floor, token, address(this));
        uint256 gasOurs = _measure(address(settlement), ours, token, treasurer);
        assertEq(_balance(token, treasuryWallet), 1e18 + 1, "paid");
        console.log(string.concat(label, ": gas of the call, ours"), gasOurs);
        console.log(string.concat(label, ": gas of the call, bare transfer"), gasBare);
        console.log(string.concat(label, ": ratio ours/bare (bps)"), gasOurs * 10_000 / gasBare);
    }
}
