// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ExitFixture} from "./utils/ExitFixture.sol";
import {EIP712Reference} from "./utils/EIP712Reference.sol";
import {Settlement} from "../src/Settlement.sol";
import {SettlementViews} from "../src/SettlementViews.sol";
import {SettlementSales} from "../src/SettlementSales.sol";
import {UnorderedNonces} from "../src/UnorderedNonces.sol";
import {Sale, TreasuryTransfer} from "../src/SettlementTypes.sol";
import {MockERC20} from "./mocks/MockERC20.sol";

/// @notice Sales and refunds of the sales plan (PLAN-SALES.md §3-4, issue 69): a buyer pays a signed sale into custody
///         and takes it back, once, while it is open by the chain's clock, with nobody's consent; the treasury floor,
///         the members' exit and their leave keep what open sales may need.
contract SettlementSalesTest is ExitFixture {
    uint256 internal constant WINDOW = 14 days;
    uint256 internal constant SALE_NONCE = 1 << 180;

    SettlementSales internal sales;
    address internal buyer;
    address internal seller;
    uint256 internal _saleNonces;

    function setUp() public virtual override {
        super.setUp();
        sales = SettlementSales(settlement.salesDesk());
        buyer = makeAddr("buyer");
        seller = makeAddr("seller");
    }

    function _sale(address token, uint256 amount, uint256 retail) internal returns (Sale memory s) {
        s = Sale({
            buyer: buyer,
            seller: seller,
            token: token,
            amount: amount,
            retail: retail,
            pv: amount / 1e6,
            orderRef: keccak256(abi.encode("order", _saleNonces)),
            refundWindow: WINDOW,
            nonce: SALE_NONCE + _saleNonces++,
            deadline: block.timestamp + 1 hours
        });
    }

    function _signSale(Sale memory s) internal view returns (bytes memory) {
        return _signDigest(SIGNER_KEY, EIP712Reference.digest(_domain(), EIP712Reference.hash(s)));
    }

    /// @dev Funds the buyer with the sale's amount (approved to the sales contract) and pays it; returns its
    ///      `refundableUntil`.
    function _buy(Sale memory s) internal returns (uint256 until) {
        _fundSale(s);
        return _pay(s);
    }

    function _pay(Sale memory s) internal returns (uint256 until) {
        bytes memory sig = _signSale(s);
        vm.prank(s.buyer);
        sales.sell{value: s.token == NATIVE ? s.amount : 0}(s, sig);
        return block.timestamp + s.refundWindow;
    }

    function _fundSale(Sale memory s) internal {
        if (s.token == NATIVE) {
            vm.deal(s.buyer, s.buyer.balance + s.amount);
        } else {
            MockERC20(s.token).mint(s.buyer, s.amount);
            vm.prank(s.buyer);
            MockERC20(s.token).approve(address(sales), type(uint256).max);
        }
    }

    function _refund(Sale memory s, uint256 until) internal {
        vm.prank(s.buyer);
        sales.refund(s.nonce, s.token, s.amount, s.retail, until);
    }

    function _expectRefundRevert(Sale memory s, uint256 until, bytes memory reason) internal {
        vm.expectRevert(reason);
        vm.prank(s.buyer);
        sales.refund(s.nonce, s.token, s.amount, s.retail, until);
    }

    function _expectSellRevert(Sale memory s, bytes memory sig, uint256 value, bytes memory reason) internal {
        vm.expectRevert(reason);
        vm.prank(s.buyer);
        sales.sell{value: value}(s, sig);
    }

    function _treasury(address token, uint256 amount, uint256 nonce) internal returns (bytes memory revertData) {
        TreasuryTransfer memory t = _tt(token, treasurer, amount, nonce);
        bytes memory sig = _sign(t);
        vm.prank(treasurer);
        (bool ok, bytes memory ret) = address(settlement).call(abi.encodeCall(Settlement.transferTreasury, (t, sig)));
        return ok ? bytes("") : ret;
    }

    // ═════════════════════════════ a sale ═════════════════════════════

    function test_sale_paysIntoCustodyAndTellsItsRefundDeadline() public {
        for (uint256 i; i < 2; ++i) {
            address token = i == 0 ? NATIVE : address(usdt);
            Sale memory s = _sale(token, 300e6, 60e6);
            uint256 custodyBefore = _balance(token, address(settlement));
            _fundSale(s);
            vm.expectEmit(address(sales));
            emit SettlementSales.Sold(
                s.nonce, buyer, seller, token, 300e6, 60e6, 300, s.orderRef, block.timestamp + WINDOW
            );
            _pay(s);
            assertEq(_balance(token, address(settlement)) - custodyBefore, 300e6, "custody took the whole amount");
            assertEq(_balance(token, address(sales)), 0, "the sales contract keeps nothing");
            assertEq(sales.saleState(s.nonce), 2, "made");
            assertTrue(settlement.isNonceUsed(s.nonce), "the sale's id spent the Settlement's nonce");
            (uint256 companyPart, uint256 open) = sales.openSales(token);
            assertEq(companyPart, 240e6, "a - r counts");
            assertEq(open, 300e6, "a counts");
        }
    }

    /// @notice Every refusal of a sale, each changing nothing: not the buyer, expired, another key, a replayed id (also
    ///         one a registration spent), paused, a token not allowed, retail above the amount, no amount, a window
    ///         out of bounds, the wrong value, a fee-on-transfer token.
    function test_sale_refusals() public {
        Sale memory s = _sale(address(usdt), 100e6, 20e6);
        bytes memory sig = _signSale(s);
        MockERC20(address(usdt)).mint(buyer, 1_000e6);
        vm.prank(buyer);
        usdt.approve(address(sales), type(uint256).max);

        vm.expectRevert(abi.encodeWithSelector(SettlementSales.WrongSender.selector, buyer, address(this)));
        sales.sell(s, sig);

        {
            Sale memory late = _sale(address(usdt), 100e6, 20e6);
            late.deadline = block.timestamp - 1;
            _expectSellRevert(
                late, _signSale(late), 0, abi.encodeWithSelector(SettlementSales.Expired.selector, late.deadline)
            );
        }
        {
            bytes memory forged = _signDigest(OTHER_KEY, EIP712Reference.digest(_domain(), EIP712Reference.hash(s)));
            _expectSellRevert(s, forged, 0, abi.encodeWithSelector(Settlement.InvalidSignature.selector));
        }
        {
            // a signature over other terms: the seller's retail lowered after signing
            Sale memory changed = _sale(address(usdt), 100e6, 20e6);
            (changed.nonce, changed.orderRef) = (s.nonce, s.orderRef);
            changed.retail = 0;
            _expectSellRevert(changed, sig, 0, abi.encodeWithSelector(Settlement.InvalidSignature.selector));
        }
        {
            _doRegister(makeAddr("member"), address(usdt), 10e6, 77);
            Sale memory reused = _sale(address(usdt), 100e6, 20e6);
            reused.nonce = 77;
            _expectSellRevert(
                reused, _signSale(reused), 0, abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, 77)
            );
        }
        {
            vm.prank(pauser);
            settlement.pause();
            _expectSellRevert(s, sig, 0, abi.encodeWithSelector(Pausable.EnforcedPause.selector));
            vm.prank(pauser);
            settlement.unpause();
        }
        {
            Sale memory other = _sale(address(blToken), 100e6, 20e6);
            _expectSellRevert(
                other,
                _signSale(other),
                0,
                abi.encodeWithSelector(Settlement.TokenNotAllowed.selector, address(blToken))
            );
        }
        {
            Sale memory tooMuch = _sale(address(usdt), 100e6, 100e6 + 1);
            _expectSellRevert(
                tooMuch, _signSale(tooMuch), 0, abi.encodeWithSelector(SettlementSales.InvalidSale.selector)
            );
            Sale memory nothing = _sale(address(usdt), 0, 0);
            _expectSellRevert(
                nothing, _signSale(nothing), 0, abi.encodeWithSelector(SettlementSales.InvalidSale.selector)
            );
            Sale memory short_ = _sale(address(usdt), 100e6, 0);
            short_.refundWindow = 1 days - 1;
            _expectSellRevert(
                short_, _signSale(short_), 0, abi.encodeWithSelector(SettlementSales.InvalidSale.selector)
            );
            Sale memory long_ = _sale(address(usdt), 100e6, 0);
            long_.refundWindow = 90 days + 1;
            _expectSellRevert(long_, _signSale(long_), 0, abi.encodeWithSelector(SettlementSales.InvalidSale.selector));
        }
        {
            vm.deal(buyer, 1 ether);
            _expectSellRevert(s, sig, 1, abi.encodeWithSelector(SettlementSales.WrongValue.selector, 0, 1));
            Sale memory native = _sale(NATIVE, 100e6, 0);
            bytes memory nativeSig = _signSale(native);
            vm.deal(buyer, 1 ether);
            _expectSellRevert(
                native,
                nativeSig,
                100e6 - 1,
                abi.encodeWithSelector(SettlementSales.WrongValue.selector, 100e6, 100e6 - 1)
            );
        }
        {
            Sale memory fee = _sale(address(feeToken), 100e6, 0);
            MockERC20(address(feeToken)).mint(buyer, 100e6);
            vm.prank(buyer);
            feeToken.approve(address(sales), type(uint256).max);
            _expectSellRevert(
                fee,
                _signSale(fee),
                0,
                abi.encodeWithSelector(SettlementSales.InboundTransferMismatch.selector, 100e6, 99e6)
            );
        }

        assertEq(_balance(address(usdt), address(settlement)), 10e6, "only the registration is in custody");
        assertEq(sales.saleState(s.nonce), 0, "no sale made");
        assertFalse(settlement.isNonceUsed(s.nonce), "the refused sale's id is still free");
        (uint256 companyPart, uint256 open) = sales.openSales(address(usdt));
        assertEq(companyPart + open, 0, "no open sale counted");

        // the right payload, once: then its id is spent
        vm.prank(buyer);
        sales.sell(s, sig);
        _expectSellRevert(s, sig, 0, abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, s.nonce));
    }

    /// @notice Only the Settlement's own sales contract may authorise a sale or have a refund paid.
    function test_attack_theHooksAnswerOnlyTheSalesContract() public {
        _seed(address(usdt), 1_000e6, 1);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongSender.selector, address(sales), address(this)));
        settlement.payRefund(address(usdt), address(this), 1_000e6);
        vm.expectRevert(abi.encodeWithSelector(Settlement.WrongSender.selector, address(sales), address(this)));
        settlement.authoriseSale(address(usdt), bytes32(0), 5, "");
        assertEq(_balance(address(usdt), address(settlement)), 1_000e6, "custody untouched");
    }

    // ═════════════════════════════ a refund ═════════════════════════════

    function test_refund_theWholeAmountOnceInsideTheWindow() public {
        Sale memory s = _sale(address(usdt), 300e6, 60e6);
        uint256 until = _buy(s);
        vm.warp(until - 1);
        vm.expectEmit(address(sales));
        emit SettlementSales.Refunded(s.nonce, buyer, address(usdt), 300e6);
        _refund(s, until);
        assertEq(usdt.balanceOf(buyer), 300e6, "the buyer has the whole amount back");
        assertEq(usdt.balanceOf(address(settlement)), 0, "custody paid it");
        assertEq(sales.saleState(s.nonce), 1, "refunded");
        (uint256 companyPart, uint256 open) = sales.openSales(address(usdt));
        assertEq(companyPart + open, 0, "no longer counted");
        _expectRefundRevert(s, until, abi.encodeWithSelector(SettlementSales.NoSuchSale.selector, s.nonce));
    }

    function test_refund_closedAtTheDeadlineByTheChainsClock() public {
        Sale memory s = _sale(NATIVE, 1 ether, 0.2 ether);
        uint256 until = _buy(s);
        vm.warp(until);
        _expectRefundRevert(
            s, until, abi.encodeWithSelector(SettlementSales.RefundWindowClosed.selector, s.nonce, until)
        );
        assertEq(address(settlement).balance, 1 ether, "the sale is final: custody keeps it");
    }

    /// @notice Someone else, or the buyer with other terms (a larger amount, a later deadline, no retail), gets
    ///         nothing.
    function test_attack_aRefundOnlyForTheBuyerOnItsOwnTerms() public {
        _seed(address(usdt), 5_000e6, 1);
        Sale memory s = _sale(address(usdt), 300e6, 60e6);
        uint256 until = _buy(s);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(SettlementSales.NoSuchSale.selector, s.nonce));
        sales.refund(s.nonce, address(usdt), 300e6, 60e6, until);
        vm.startPrank(buyer);
        vm.expectRevert(abi.encodeWithSelector(SettlementSales.NoSuchSale.selector, s.nonce));
        sales.refund(s.nonce, address(usdt), 3_000e6, 60e6, until);
        vm.expectRevert(abi.encodeWithSelector(SettlementSales.NoSuchSale.selector, s.nonce));
        sales.refund(s.nonce, address(usdt), 300e6, 60e6, until + 30 days);
        vm.expectRevert(abi.encodeWithSelector(SettlementSales.NoSuchSale.selector, s.nonce));
        sales.refund(s.nonce, address(usdt), 300e6, 0, until);
        vm.expectRevert(abi.encodeWithSelector(SettlementSales.NoSuchSale.selector, s.nonce + 1));
        sales.refund(s.nonce + 1, address(usdt), 300e6, 60e6, until);
        vm.stopPrank();
        assertEq(usdt.balanceOf(address(settlement)), 5_300e6, "custody untouched");
    }

    function test_refund_whilePaused() public {
        Sale memory s = _sale(address(usdt), 300e6, 60e6);
        uint256 until = _buy(s);
        vm.prank(pauser);
        settlement.pause();
        _refund(s, until);
        assertEq(usdt.balanceOf(buyer), 300e6, "refunded while paused");
    }

    // ═════════════════════════════ what open sales keep ═════════════════════════════

    /// @notice The treasurer, with a transfer the signer signed, tries to take the company's whole balance while a sale
    ///         made after the latest commitment is open: refused below the floor, which counts the sale's whole amount.
    ///         Counting only a - r (its retail being in no commitment yet) would have let 660 go, and the buyer's refund
    ///         would then have come out of the members' 400. What is above the floor moves; the refund is paid in full
    ///         and the members' money stays whole. Once a sale is final (its day ended), its amount moves too.
    function test_attack_aTreasuryTransferCannotTakeAnOpenSalesMoney() public {
        _seed(address(usdt), 1_000e6, 1);
        _commitTotal(address(usdt), 400e6);
        // custody 1,000 = members 400 + company 600; then a sale of 300 with retail 60
        Sale memory s = _sale(address(usdt), 300e6, 60e6);
        uint256 until = _buy(s);
        assertEq(
            _treasury(address(usdt), 660e6, 11),
            abi.encodeWithSelector(Settlement.BelowFloor.selector, 640e6, 700e6),
            "the floor: the committed 400 and the open sale's 300"
        );
        assertEq(_treasury(address(usdt), 600e6, 12), "", "the company's 600 moves");
        _refund(s, until);
        assertEq(usdt.balanceOf(buyer), 300e6, "the buyer is paid back in full");
        assertEq(usdt.balanceOf(address(settlement)), 400e6, "custody: the members' 400, whole");

        // a sale the next commitment holds (its retail 20 as a maturing liability), kept until its day ends
        Sale memory t = _sale(address(usdt), 100e6, 20e6);
        uint256 untilT = _buy(t);
        _commitTotal(address(usdt), 420e6);
        assertEq(
            _treasury(address(usdt), 1, 13),
            abi.encodeWithSelector(Settlement.BelowFloor.selector, 500e6 - 1, 520e6),
            "counted while open"
        );
        vm.warp(untilT);
        _commitTotal(address(usdt), 420e6);
        assertEq(
            _treasury(address(usdt), 1, 14),
            abi.encodeWithSelector(Settlement.BelowFloor.selector, 500e6 - 1, 520e6),
            "still counted until its day ends"
        );
        vm.warp((untilT / 1 days + 1) * 1 days);
        _commitTotal(address(usdt), 420e6);
        assertEq(_treasury(address(usdt), 80e6, 15), "", "the final sale's company part moves");
        assertEq(usdt.balanceOf(address(settlement)), 420e6, "custody down to the committed liabilities");
    }

    /// @notice Open sales' sums across days: each counts until its window's day ends, refunds come off it, and a sale
    ///         after every earlier one ended starts afresh.
    function test_openSales_countEachSaleUntilItsDayEnds() public {
        Sale memory a = _sale(address(usdt), 100e6, 10e6);
        uint256 untilA = _buy(a);
        vm.warp(block.timestamp + 3 days);
        Sale memory b = _sale(address(usdt), 200e6, 50e6);
        b.refundWindow = 2 days;
        uint256 untilB = _buy(b);
        vm.warp(block.timestamp + 1 hours);
        Sale memory c = _sale(address(usdt), 400e6, 0);
        uint256 untilC = _buy(c);
        _assertOpen(address(usdt), 90e6 + 150e6 + 400e6, 700e6);
        vm.warp((untilB / 1 days + 1) * 1 days);
        _assertOpen(address(usdt), 90e6 + 400e6, 500e6);
        _refund(c, untilC);
        _assertOpen(address(usdt), 90e6, 100e6);
        vm.warp((untilA / 1 days + 1) * 1 days);
        _assertOpen(address(usdt), 0, 0);
        vm.warp(block.timestamp + 200 days);
        Sale memory d = _sale(address(usdt), 5e6, 1e6);
        _buy(d);
        _assertOpen(address(usdt), 4e6, 5e6);
    }

    function _assertOpen(address token, uint256 companyPart, uint256 amount) internal view {
        (uint256 c, uint256 a) = sales.openSales(token);
        assertEq(c, companyPart, "open sales' a - r");
        assertEq(a, amount, "open sales' a");
    }

    /// @notice The members' exit opens with an open sale: the exits get custody less the sale's whole amount, and the
    ///         buyer still takes it back from what stayed.
    function test_exit_leavesOpenSalesMoneyForTheirRefunds() public {
        _fundCustody(address(usdt), 1_000e6);
        _commitTree(address(usdt), _accounts(_owing(alice, 400e6), _owing(bob, 100e6)));
        Sale memory s = _sale(address(usdt), 300e6, 60e6);
        s.refundWindow = 90 days;
        s.deadline = block.timestamp + 1 hours;
        uint256 until = _buy(s);
        _openExit(address(usdt));
        assertEq(usdt.balanceOf(address(exits)), 1_000e6, "the exits got custody less the open sale");
        assertEq(usdt.balanceOf(address(settlement)), 300e6, "the open sale's amount stayed");
        assertLt(block.timestamp, until, "still open");
        _refund(s, until);
        assertEq(usdt.balanceOf(buyer), 300e6, "refunded after the exit opened");
    }

    /// @notice The Settlement's `available`, which sets an exit's and a leave's fraction, leaves open sales out.
    function test_available_leavesOpenSalesOut() public {
        _fundCustody(address(usdt), 1_000e6);
        Sale memory s = _sale(address(usdt), 300e6, 60e6);
        _buy(s);
        assertEq(views().available(address(usdt)), 1_000e6, "custody less the open sale");
    }

    /// @notice Random sales, refunds and time: the contract's open sums equal a model's at every step, and every
    ///         refund inside a window is paid.
    function testFuzz_openSalesMatchAModel(uint256 seed) public {
        uint256 n = 12;
        Sale[] memory made = new Sale[](n);
        uint256[] memory until = new uint256[](n);
        bool[] memory refunded = new bool[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            vm.warp(block.timestamp + r % 5 days);
            if (r % 3 == 0 && i > 0) {
                uint256 j = (r >> 8) % i;
                if (!refunded[j] && block.timestamp < until[j]) {
                    _refund(made[j], until[j]);
                    refunded[j] = true;
                }
            }
            Sale memory s = _sale(address(usdt), 1 + (r >> 16) % 1_000e6, 0);
            s.retail = (r >> 64) % (s.amount + 1);
            s.refundWindow = 1 days + (r >> 96) % 89 days;
            s.buyer = makeAddr(string.concat("buyer-", vm.toString(i)));
            made[i] = s;
            until[i] = _buy(s);
            uint256 wantCompany;
            uint256 wantAmount;
            for (uint256 k; k <= i; ++k) {
                if (!refunded[k] && block.timestamp / 1 days <= until[k] / 1 days) {
                    wantCompany += made[k].amount - made[k].retail;
                    wantAmount += made[k].amount;
                }
            }
            _assertOpen(address(usdt), wantCompany, wantAmount);
        }
    }
}
