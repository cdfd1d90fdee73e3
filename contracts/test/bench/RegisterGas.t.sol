// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {console} from "../utils/Console.sol";
import {GasBench} from "./GasBench.sol";
import {Settlement} from "../../src/Settlement.sol";
import {Registration, Retopup} from "../../src/SettlementTypes.sol";
import {MockERC20} from "../mocks/MockERC20.sol";

/// @notice Gas of a user's `register` and `retopup` as the dApp sends them. Run: `forge test --match-path
///         'test/bench/*' -vv`.
/// @dev Steady state, set up in setUp() (a separate transaction, so all of it is cold in the test): custody already
///      holds each asset and the nonce words of the measured payloads are non-zero (nonces are handed out
///      sequentially); each payer was funded with twice the fee and, for a token, approved exactly the fee, as the
///      dApp does. The Settlement account is warm, as a transaction's `to` is (vm.cool cools its storage, not the
///      account); "as a transaction" replaces the CALL's own cost by the transaction's 21000 + calldata. One measured call per test,
///      except the native case, whose retopup (the control: a payment without a registration) and registration
///      write no common slot.
contract RegisterGasBench is GasBench {
    uint256 internal constant FEE_NATIVE = 20 ether;
    uint256 internal constant FEE_TOKEN = 20e18;
    uint256 internal constant FEE_TRON_USDT = 20e6;
    /// @dev What the measuring CALL costs beyond the callee (warm access; for value, 9000 less the 2300 stipend
    ///      the callee gets for free) and a transaction does not pay.
    uint256 internal constant CALL_OVERHEAD = 100;
    uint256 internal constant CALL_VALUE_OVERHEAD = 9000 - 2300;
    /// @dev register − retopup in the same asset: one more field hashed and one more indexed topic (~650 gas), and
    ///      the once-per-asset flag: one cold slot written from zero (2,100 + 20,000) and its mapping keys. A second
    ///      such slot would add another ~22,100.
    uint256 internal constant REGISTRATION_OVER_RETOPUP_LIMIT = 23_500;
    /// @dev In words 0 and 1, both left non-zero by setUp().
    uint256 internal constant NONCE = 1;
    uint256 internal constant SECOND_NONCE = 256 + 1;

    address internal payerNative;
    address internal payerRetopupNative;
    address internal payerToken;
    address internal payerTronUsdt;
    /// @dev Registered in the native coin in setUp(); registers in the token in the test.
    address internal returning;

    function setUp() public override {
        super.setUp();
        address earlier = makeAddr("earlier-user");
        _doRegister(earlier, NATIVE, FEE_NATIVE, 0);
        _doRegister(earlier, address(erc20), FEE_TOKEN, 256);
        _doRegister(earlier, address(usdt), FEE_TRON_USDT, 512);

        payerNative = makeAddr("payer-native");
        payerRetopupNative = makeAddr("payer-retopup-native");
        payerToken = makeAddr("payer-token");
        payerTronUsdt = makeAddr("payer-tron-usdt");
        returning = makeAddr("returning");
        vm.deal(payerNative, 2 * FEE_NATIVE);
        vm.deal(payerRetopupNative, 2 * FEE_NATIVE);
        _fundAndApproveFee(payerToken, address(erc20), FEE_TOKEN);
        _fundAndApproveFee(payerTronUsdt, address(usdt), FEE_TRON_USDT);
        _doRegister(returning, NATIVE, FEE_NATIVE, 2);
        _fundAndApproveFee(returning, address(erc20), FEE_TOKEN);
    }

    function test_gas_register_native() public {
        bytes memory retopupCall = _retopupCall(payerRetopupNative, NATIVE, FEE_NATIVE, SECOND_NONCE);
        bytes memory registerCall = _registerCall(payerNative, NATIVE, FEE_NATIVE, NONCE);
        uint256 retopupGas = _measureTx(retopupCall, NATIVE, payerRetopupNative, FEE_NATIVE);
        uint256 registerGas = _measureTx(registerCall, NATIVE, payerNative, FEE_NATIVE);

        assertEq(payerNative.balance, FEE_NATIVE, "register paid the fee");
        assertEq(payerRetopupNative.balance, FEE_NATIVE, "retopup paid the fee");
        assertEq(address(settlement).balance, 4 * FEE_NATIVE, "custody took both");
        _report("register native", registerGas, registerCall, FEE_NATIVE);
        _report("retopup native", retopupGas, retopupCall, FEE_NATIVE);
        console.log("register - retopup native (the registration's own cost)", registerGas - retopupGas);
        assertLe(registerGas - retopupGas, REGISTRATION_OVER_RETOPUP_LIMIT, "one cold slot written from zero");
    }

    function test_gas_register_token() public {
        bytes memory call = _registerCall(payerToken, address(erc20), FEE_TOKEN, NONCE);
        uint256 used = _measureTx(call, address(erc20), payerToken, 0);
        assertEq(erc20.balanceOf(payerToken), FEE_TOKEN, "paid the fee");
        _report("register token", used, call, 0);
    }

    function test_gas_retopup_token() public {
        bytes memory call = _retopupCall(payerToken, address(erc20), FEE_TOKEN, NONCE);
        uint256 used = _measureTx(call, address(erc20), payerToken, 0);
        assertEq(erc20.balanceOf(payerToken), FEE_TOKEN, "paid the fee");
        _report("retopup token", used, call, 0);
    }

    /// @notice Informational: TRON's USDT (6 decimals, false-returning transfer). EVM gas; TRON's energy differs.
    function test_gas_register_tronUsdt() public {
        bytes memory call = _registerCall(payerTronUsdt, address(usdt), FEE_TRON_USDT, NONCE);
        uint256 used = _measureTx(call, address(usdt), payerTronUsdt, 0);
        assertEq(usdt.balanceOf(payerTronUsdt), FEE_TRON_USDT, "paid the fee");
        _report("register tron-usdt", used, call, 0);
    }

    /// @notice A user already registered in the native coin registers in the token (another asset).
    function test_gas_register_tokenByUserRegisteredInNative() public {
        bytes memory call = _registerCall(returning, address(erc20), FEE_TOKEN, NONCE);
        uint256 used = _measureTx(call, address(erc20), returning, 0);
        assertEq(erc20.balanceOf(returning), FEE_TOKEN, "paid the fee");
        _report("register token, user registered in native", used, call, 0);
    }

    // ───────────── helpers ─────────────

    /// @dev `_measure` of a call to the Settlement with its account warm, as the `to` of a transaction is.
    function _measureTx(bytes memory data, address token, address payer, uint256 value) internal returns (uint256) {
        assertGe(address(settlement).balance, FEE_NATIVE, "custody holds native coin"); // warms the account
        return _measure(address(settlement), data, token, payer, value);
    }

    function _fundAndApproveFee(address payer, address token, uint256 fee) internal {
        MockERC20(token).mint(payer, 2 * fee);
        vm.prank(payer);
        MockERC20(token).approve(address(settlement), fee);
    }

    function _registerCall(address user, address token, uint256 amount, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        Registration memory r = _reg(user, token, amount, nonce);
        return abi.encodeCall(Settlement.register, (r, _sign(r)));
    }

    function _retopupCall(address user, address token, uint256 amount, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        Retopup memory r = _top(user, token, amount, nonce);
        return abi.encodeCall(Settlement.retopup, (r, _sign(r)));
    }

    function _report(string memory label, uint256 used, bytes memory call, uint256 value) internal view {
        uint256 overhead = CALL_OVERHEAD + (value == 0 ? 0 : CALL_VALUE_OVERHEAD);
        console.log(string.concat(label, ": gas of the call"), used);
        console.log(string.concat(label, ": as a transaction, before refunds"), used - overhead + _intrinsic(call));
    }
}
