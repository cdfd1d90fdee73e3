// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "../utils/SettlementFixture.sol";
import {EIP712Reference} from "../utils/EIP712Reference.sol";
import {Vm} from "../utils/Vm.sol";
import {Settlement} from "../../src/Settlement.sol";
import {SettlementViews} from "../../src/SettlementViews.sol";
import {SettlementSales} from "../../src/SettlementSales.sol";
import {Sale, TreasuryTransfer, LiabilityRoot} from "../../src/SettlementTypes.sol";
import {TestUSDT} from "../../src/dev/TestUSDT.sol";

/// @notice Drives sales, refunds, commitments of any total the signer would sign, greedy treasury transfers (each
///         asking for more than the company's share, the way an insider holding the treasurer's key and a signature
///         would) and time, on one token; keeps a model of the sales.
contract SalesHandler {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 private constant DAY = 1 days;

    Settlement public immutable settlement;
    SettlementSales public immutable sales;
    TestUSDT public immutable usdt;
    uint256 private immutable signerKey;
    address private immutable operator;
    address private immutable treasurer;

    Sale[] internal made;
    uint256[] internal until;
    bool[] internal refunded;
    uint256 internal nonce = 1 << 190;
    uint64 internal epoch;

    uint256 public ghostIn;
    uint256 public ghostOut;
    /// @notice Refunds asked inside their window that failed: must stay 0.
    uint256 public refundsRefusedInsideTheWindow;
    /// @notice Refunds asked at or after their deadline that were paid: must stay 0.
    uint256 public refundsPaidAfterTheWindow;
    uint256 public refundsPaid;
    uint256 public treasuryMoved;

    constructor(Settlement s, TestUSDT token, uint256 key, address operator_, address treasurer_) {
        (settlement, usdt, signerKey, operator, treasurer) = (s, token, key, operator_, treasurer_);
        sales = SettlementSales(s.salesDesk());
    }

    function _digest(bytes32 structHash) internal view returns (bytes memory) {
        bytes32 d =
            EIP712Reference.digest(EIP712Reference.domainSeparator(block.chainid, address(settlement)), structHash);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, d);
        return abi.encodePacked(r, s, v);
    }

    function sell(uint256 amount, uint256 retailBps, uint256 window, uint256 buyerSeed) external {
        amount = 1 + amount % 5_000e6;
        Sale memory s = Sale({
            buyer: address(uint160(0xB000 + buyerSeed % 8)),
            seller: address(0x5e11),
            token: address(usdt),
            amount: amount,
            retail: amount * (retailBps % 5_001) / 10_000,
            pv: amount / 1e6,
            orderRef: bytes32(nonce),
            refundWindow: 1 days + window % 89 days,
            nonce: nonce++,
            deadline: block.timestamp + 1 hours
        });
        bytes memory sig = _digest(EIP712Reference.hash(s));
        usdt.mint(s.buyer, amount);
        vm.prank(s.buyer);
        usdt.approve(address(sales), amount);
        vm.prank(s.buyer);
        sales.sell(s, sig);
        made.push(s);
        until.push(block.timestamp + s.refundWindow);
        refunded.push(false);
        ghostIn += amount;
    }

    function refund(uint256 index) external {
        if (made.length == 0) return;
        index %= made.length;
        if (refunded[index]) return;
        Sale memory s = made[index];
        uint256 before = usdt.balanceOf(s.buyer);
        vm.prank(s.buyer);
        try sales.refund(s.nonce, s.token, s.amount, s.retail, until[index]) {
            if (block.timestamp >= until[index]) ++refundsPaidAfterTheWindow;
            require(usdt.balanceOf(s.buyer) - before == s.amount, "refund pays the whole amount");
            refunded[index] = true;
            ghostOut += s.amount;
            ++refundsPaid;
        } catch {
            if (block.timestamp < until[index]) ++refundsRefusedInsideTheWindow;
        }
    }

    /// @dev A commitment of any total at most custody (what the signer signs is the ledger's figure; the contract
    ///      takes any).
    function commit(uint256 total) external {
        vm.roll(block.number + 2);
        uint256 custody = usdt.balanceOf(address(settlement));
        LiabilityRoot memory c = LiabilityRoot({
            token: address(usdt),
            epoch: ++epoch,
            asOfBlock: uint64(block.number - 1),
            root: bytes32(uint256(epoch)),
            total: uint128(custody == 0 ? 0 : total % (custody + 1)),
            leafCount: 1,
            planHash: bytes32(0),
            nonce: nonce++,
            deadline: block.timestamp + 1 hours
        });
        bytes memory sig = _digest(EIP712Reference.hash(c));
        vm.prank(operator);
        settlement.commitLiabilities(c, sig);
    }

    /// @dev Asks for `extra` more than custody less the committed total: whatever the floor lets go, goes.
    function treasury(uint256 extra) external {
        uint256 custody = usdt.balanceOf(address(settlement));
        (, uint128 total,,,,) = SettlementViews(address(settlement)).latestLiabilities(address(usdt));
        uint256 ask = custody > total ? custody - total : 0;
        ask = extra % 2 == 0 ? ask : ask * (extra % 100) / 100;
        if (ask == 0) return;
        TreasuryTransfer memory t =
            TreasuryTransfer(address(usdt), address(0x7e), ask, nonce++, block.timestamp + 1 hours);
        bytes memory sig = _digest(EIP712Reference.hash(t));
        vm.prank(treasurer);
        try settlement.transferTreasury(t, sig) {
            ghostOut += ask;
            treasuryMoved += ask;
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + seconds_ % 20 days);
    }

    /// @notice Σ amount and Σ (amount - retail) over the sales the model holds open (not refunded, their day not over).
    function modelOpen() public view returns (uint256 companyPart, uint256 amount) {
        for (uint256 i; i < made.length; ++i) {
            if (!refunded[i] && block.timestamp / DAY <= until[i] / DAY) {
                companyPart += made[i].amount - made[i].retail;
                amount += made[i].amount;
            }
        }
    }

    /// @notice Σ amount over the sales still open by the chain's clock (a refund may still be asked).
    function stillRefundable() public view returns (uint256 amount) {
        for (uint256 i; i < made.length; ++i) {
            if (!refunded[i] && block.timestamp < until[i]) amount += made[i].amount;
        }
    }
}

/// @notice The guarantees of sales (PLAN-SALES.md §4, §8.7, issue 69) after any sequence of sales, refunds,
///         commitments, greedy treasury transfers and time: no refund inside its window ever fails, none after it is
///         paid, custody always holds every open sale's whole amount, and the contract's open sums are the model's.
contract SalesInvariantTest is SettlementFixture {
    SalesHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new SalesHandler(settlement, usdt, SIGNER_KEY, operator, treasurer);
        targetContract(address(handler));
    }

    function invariant_everyRefundInsideItsWindowIsPaid() public view {
        assertEq(handler.refundsRefusedInsideTheWindow(), 0, "a refund inside its window failed");
        assertEq(handler.refundsPaidAfterTheWindow(), 0, "a refund after its window was paid");
    }

    function invariant_custodyHoldsEveryOpenSalesAmount() public view {
        assertGe(usdt.balanceOf(address(settlement)), handler.stillRefundable(), "custody >= open sales' amounts");
    }

    function invariant_openSalesAreTheModels() public view {
        (uint256 companyPart, uint256 amount) = handler.modelOpen();
        (uint256 c, uint256 a) = SettlementSales(settlement.salesDesk()).openSales(address(usdt));
        assertEq(c, companyPart, "open a - r");
        assertEq(a, amount, "open a");
    }

    function invariant_custodyIsInflowsLessOutflows() public view {
        assertEq(usdt.balanceOf(address(settlement)), handler.ghostIn() - handler.ghostOut(), "custody = in - out");
    }
}
