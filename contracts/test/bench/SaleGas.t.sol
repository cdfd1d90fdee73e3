// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {console} from "../utils/Console.sol";
import {GasBench} from "./GasBench.sol";
import {EIP712Reference} from "../utils/EIP712Reference.sol";
import {SettlementSales} from "../../src/SettlementSales.sol";
import {Sale} from "../../src/SettlementTypes.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Gas of a buyer's `sell` and `refund` (PLAN-SALES.md §3-4, issue 69) beside a plain transfer of the same
///         token by the same kind of holder, measured in the same run: the ratio is the figure. Run: `forge test
///         --match-path 'test/bench/SaleGas.t.sol' -vv`.
/// @dev Steady state, set up in setUp() (a separate transaction, so all of it is cold in the test): custody holds the
///      token, an earlier sale made today and the nonce words of the measured payloads are non-zero; each buyer holds
///      twice the amount and approved the sales contract. The plain transfer sends the same amount from a funded holder
///      to an address that already holds the token (custody's case), cold as the sale's are.
contract SaleGasBench is GasBench {
    uint256 internal constant AMOUNT = 300e18;
    uint256 internal constant RETAIL = 60e18;
    uint256 internal constant AMOUNT_USDT = 300e6;
    uint256 internal constant NONCE = 1;
    uint256 internal constant WINDOW = 14 days;

    SettlementSales internal sales;
    address internal buyer;
    address internal holder;
    address internal seller;
    uint256 internal madeAt;

    function setUp() public override {
        super.setUp();
        sales = SettlementSales(settlement.salesDesk());
        _doRegister(makeAddr("earlier-user"), address(erc20), 20e18, 0);
        _doRegister(makeAddr("earlier-user-usdt"), address(usdt), 20e6, 256);
        buyer = makeAddr("buyer");
        holder = makeAddr("holder");
        seller = makeAddr("seller");
        _fundBuyer(address(erc20), 4 * AMOUNT);
        _fundBuyer(address(usdt), 4 * AMOUNT_USDT);
        vm.deal(buyer, 4 * AMOUNT);
        MockERC20(address(erc20)).mint(holder, 2 * AMOUNT);
        MockERC20(address(usdt)).mint(holder, 2 * AMOUNT_USDT);
        // an earlier sale of the day in each asset: the day's sums are non-zero, as in steady trade
        _sell(_sale(address(erc20), AMOUNT, RETAIL, 2));
        _sell(_sale(address(usdt), AMOUNT_USDT, 0, 3));
        _sell(_sale(NATIVE, AMOUNT, RETAIL, 4));
        madeAt = block.timestamp;
    }

    function test_gas_sale_token() public {
        _compare("sale token", address(erc20), AMOUNT, _sale(address(erc20), AMOUNT, RETAIL, NONCE));
    }

    /// @notice Informational: TRON's USDT (6 decimals, false-returning transfer). EVM gas; TRON's energy differs.
    function test_gas_sale_tronUsdt() public {
        _compare("sale tron-usdt", address(usdt), AMOUNT_USDT, _sale(address(usdt), AMOUNT_USDT, 0, NONCE));
    }

    function test_gas_sale_native() public {
        Sale memory s = _sale(NATIVE, AMOUNT, RETAIL, NONCE);
        bytes memory call = abi.encodeCall(SettlementSales.sell, (s, _signSale(s)));
        uint256 sale = _measure(address(sales), call, NATIVE, buyer, AMOUNT);
        vm.deal(holder, AMOUNT);
        address receiver = makeAddr("receiver");
        vm.deal(receiver, 1);
        uint256 plain = _measure(receiver, "", NATIVE, holder, AMOUNT);
        assertEq(address(settlement).balance, 2 * AMOUNT, "custody took both sales");
        _report("sale native", sale, call, plain, "");
    }

    function test_gas_refund_token() public {
        Sale memory s = _sale(address(erc20), AMOUNT, RETAIL, 2);
        bytes memory call =
            abi.encodeCall(SettlementSales.refund, (s.nonce, address(erc20), AMOUNT, RETAIL, madeAt + WINDOW));
        uint256 before = erc20.balanceOf(buyer);
        uint256 refund = _measure(address(sales), call, address(erc20), buyer);
        assertEq(erc20.balanceOf(buyer) - before, AMOUNT, "refunded in full");
        _report("refund token", refund, call, _plainTransfer(address(erc20), AMOUNT), _plainCall(AMOUNT));
    }

    // ───────────── helpers ─────────────

    function _compare(string memory label, address token, uint256 amount, Sale memory s) internal {
        bytes memory call = abi.encodeCall(SettlementSales.sell, (s, _signSale(s)));
        uint256 custody = IERC20(token).balanceOf(address(settlement));
        uint256 sale = _measure(address(sales), call, token, buyer);
        assertEq(IERC20(token).balanceOf(address(settlement)) - custody, amount, "custody took the sale");
        _report(label, sale, call, _plainTransfer(token, amount), _plainCall(amount));
    }

    function _plainTransfer(address token, uint256 amount) internal returns (uint256) {
        return _measure(token, _plainCall(amount), token, holder);
    }

    function _plainCall(uint256 amount) internal view returns (bytes memory) {
        return abi.encodeCall(IERC20.transfer, (address(settlement), amount));
    }

    /// @dev The calls' gas, then as transactions (plus 21,000 and calldata, `_intrinsic`), and their ratios.
    function _report(string memory label, uint256 ours, bytes memory ourCall, uint256 plain, bytes memory plainCall)
        internal
        view
    {
        console.log(string.concat(label, ": gas of the call"), ours);
        console.log(string.concat(label, ": a plain transfer of the same amount, gas of the call"), plain);
        console.log(string.concat(label, ": ratio ours/plain, calls (bps)"), ours * 10_000 / plain);
        uint256 ourTx = ours + _intrinsic(ourCall);
        uint256 plainTx = plain + _intrinsic(plainCall);
        console.log(string.concat(label, ": as a transaction"), ourTx);
        console.log(string.concat(label, ": a plain transfer as a transaction"), plainTx);
        console.log(string.concat(label, ": ratio ours/plain, transactions (bps)"), ourTx * 10_000 / plainTx);
    }

    function _fundBuyer(address token, uint256 amount) internal {
        MockERC20(token).mint(buyer, amount);
        vm.prank(buyer);
        MockERC20(token).approve(address(sales), type(uint256).max);
    }

    function _sale(address token, uint256 amount, uint256 retail, uint256 nonce) internal view returns (Sale memory) {
        return Sale({
            buyer: buyer,
            seller: seller,
            token: token,
            amount: amount,
            retail: retail,
            pv: 300,
            orderRef: keccak256(abi.encode("order", nonce)),
            refundWindow: WINDOW,
            nonce: nonce,
            deadline: block.timestamp + 1 hours
        });
    }

    function _signSale(Sale memory s) internal view returns (bytes memory) {
        return _signDigest(SIGNER_KEY, EIP712Reference.digest(_domain(), EIP712Reference.hash(s)));
    }

    function _sell(Sale memory s) internal {
        bytes memory sig = _signSale(s);
        vm.prank(buyer);
        sales.sell{value: s.token == NATIVE ? s.amount : 0}(s, sig);
    }
}
