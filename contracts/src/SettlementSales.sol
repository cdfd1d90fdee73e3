// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {Sale, SettlementHashes} from "./SettlementTypes.sol";

/// @notice What SettlementSales needs of the Settlement that deployed it.
interface ISaleCustody {
    function authoriseSale(address token, bytes32 structHash, uint256 nonce, bytes calldata signature) external payable;

    function payRefund(address token, address to, uint256 amount) external;
}

/// @title SettlementSales
/// @notice Sales and refunds of the sales plan (PLAN-SALES.md §3, §4), deployed by the Settlement whose custody they
///         use: a buyer pays a sale the signer authorised (its signature and nonce checked by the Settlement, in its
///         EIP-712 domain and nonce space) straight into the Settlement's custody, and may take it back - the whole
///         amount, once, with no signature from anyone - while its block time is before `refundableUntil` = the sale
///         block's time + the signed window. The Settlement keeps what open sales may need: its treasury floor adds
///         the whole amount of the open sales (`openSales`), and the members' exit and their leave leave it in
///         custody, so that no transfer of the company's money can take a refund's.
/// @dev Lives beside the Settlement because the Settlement has no room left under EIP-170 (contracts/SALES.md).
///      A sale keeps one slot: the hash of what its refund needs (buyer, token, amount, retail, refundableUntil),
///      given back by the buyer from the Sold event; 1 once refunded. Open sales are summed per UTC day (chain clock)
///      of their `refundableUntil`: a day's sum stops counting once that day has ended, so an open sale counts until
///      the end of the day its window ends in, never less.
contract SettlementSales is ReentrancyGuard {
    address private constant NATIVE = address(0);
    uint256 private constant DAY = 1 days;
    /// @dev Longest refund window a sale may carry (PLAN-SALES.md §0 bounds the plan's to 1 to 90 days).
    uint256 public constant MAX_REFUND_WINDOW = 90 days;
    uint256 public constant MIN_REFUND_WINDOW = 1 days;
    bytes32 private constant REFUNDED = bytes32(uint256(1));

    /// @notice The Settlement that deployed this contract and holds the sales' money.
    ISaleCustody public immutable settlement;

    /// @dev Per sale id (its payload's nonce): keccak256 of (buyer, token, amount, retail, refundableUntil) while it
    ///      was made and not refunded, REFUNDED once refunded, 0 for no sale.
    mapping(uint256 id => bytes32) private _sales;

    /// @dev Per token, the sums over open sales whose days have not ended (each below 2^112, one slot): Σ (amount -
    ///      retail), Σ amount, the first day (unix day, chain clock) not yet subtracted.
    struct Open {
        uint112 companyPart;
        uint112 amount;
        uint32 fromDay;
    }

    mapping(address token => Open) private _open;
    /// @dev Per token and day: Σ (amount - retail) and Σ amount of the sales whose `refundableUntil` falls in that day
    ///      and that were not refunded.
    mapping(address token => mapping(uint256 day => Open)) private _byDay;
    /// @dev Per token, the latest day any sale's window ends in: once it has passed, no sale is open.
    mapping(address token => uint256) private _lastDay;

    /// @notice `buyer` paid `amount` of `token` for sale `id` (order `orderRef`, `pv` points) naming `seller`, whose
    ///         retail commission is `retail`; the buyer may take it back while the block time is before
    ///         `refundableUntil`.
    event Sold(
        uint256 indexed id,
        address indexed buyer,
        address indexed seller,
        address token,
        uint256 amount,
        uint256 retail,
        uint256 pv,
        bytes32 orderRef,
        uint256 refundableUntil
    );
    /// @notice `buyer` took sale `id` back: `amount` of `token` paid back to them.
    event Refunded(uint256 indexed id, address indexed buyer, address indexed token, uint256 amount);

    error WrongSender(address expected, address actual);
    error Expired(uint256 deadline);
    error WrongValue(uint256 expected, uint256 actual);
    error InboundTransferMismatch(uint256 expected, uint256 received);
    /// @notice A sale's amount must be positive and below 2^112, its retail commission at most its amount, its window
    ///         within [MIN_REFUND_WINDOW, MAX_REFUND_WINDOW], its seller not the zero address.
    error InvalidSale();
    /// @notice No open sale `id` of this buyer with these terms: unknown, refunded already, or terms not the sale's.
    error NoSuchSale(uint256 id);
    /// @notice Sale `id` could be taken back only before `refundableUntil` (the chain's clock).
    error RefundWindowClosed(uint256 id, uint256 refundableUntil);

    constructor() {
        settlement = ISaleCustody(msg.sender);
    }

    /// @notice Pays sale `s` from msg.sender (its buyer, member or not) into the Settlement's custody: the native coin
    ///         as msg.value, a token by transferFrom (approve this contract), checked by the Settlement's balance.
    function sell(Sale calldata s, bytes calldata signature) external payable nonReentrant {
        if (msg.sender != s.buyer) revert WrongSender(s.buyer, msg.sender);
        if (block.timestamp > s.deadline) revert Expired(s.deadline);
        uint256 amount = s.amount;
        if (
            amount == 0 || amount > type(uint112).max || s.retail > amount || s.seller == address(0)
                || s.refundWindow < MIN_REFUND_WINDOW || s.refundWindow > MAX_REFUND_WINDOW
        ) revert InvalidSale();
        address token = s.token;
        uint256 until = block.timestamp + s.refundWindow;
        _sales[s.nonce] = _terms(s.buyer, token, amount, s.retail, until);
        _add(token, until / DAY, amount - s.retail, amount);
        if (token == NATIVE) {
            if (msg.value != amount) revert WrongValue(amount, msg.value);
            // checks the token, the pause, the signature and spends the nonce
            settlement.authoriseSale{value: amount}(token, SettlementHashes.hash(s), s.nonce, signature);
        } else {
            if (msg.value != 0) revert WrongValue(0, msg.value);
            settlement.authoriseSale(token, SettlementHashes.hash(s), s.nonce, signature);
            uint256 before = IERC20(token).balanceOf(address(settlement));
            // the return value is ignored (TRON USDT returns false on success): the balance delta decides
            (bool ok,) = token.call(abi.encodeCall(IERC20.transferFrom, (msg.sender, address(settlement), amount)));
            uint256 received = IERC20(token).balanceOf(address(settlement)) - before;
            if (!ok || received != amount) revert InboundTransferMismatch(amount, ok ? received : 0);
        }
        emit Sold(s.nonce, s.buyer, s.seller, token, amount, s.retail, s.pv, s.orderRef, until);
    }

    /// @notice Takes sale `id` back: msg.sender, its buyer, gives the terms the Sold event carried and is paid
    ///         `amount` back by the Settlement, once, while the block time is before `refundableUntil`. Needs nobody's
    ///         consent: works while the Settlement is paused and after its exit opened.
    function refund(uint256 id, address token, uint256 amount, uint256 retail, uint256 refundableUntil)
        external
        nonReentrant
    {
        bytes32 recorded = _sales[id];
        if (recorded == REFUNDED || recorded != _terms(msg.sender, token, amount, retail, refundableUntil)) {
            revert NoSuchSale(id);
        }
        if (block.timestamp >= refundableUntil) revert RefundWindowClosed(id, refundableUntil);
        _sales[id] = REFUNDED;
        // the sale's day has not ended (block time < refundableUntil), so its sums still hold it
        uint256 day = refundableUntil / DAY;
        Open memory d = _byDay[token][day];
        Open memory o = _advanced(token);
        uint112 companyPart = uint112(amount - retail);
        uint112 whole = uint112(amount);
        (d.companyPart, d.amount) = (d.companyPart - companyPart, d.amount - whole);
        (o.companyPart, o.amount) = (o.companyPart - companyPart, o.amount - whole);
        _byDay[token][day] = d;
        _open[token] = o;
        settlement.payRefund(token, msg.sender, amount);
        emit Refunded(id, msg.sender, token, amount);
    }

    /// @notice What `token`'s open sales may need now: Σ (amount - retail), the part their refunds take from the
    ///         company's balance (the ledger's share of H, PLAN-SALES.md §1), and Σ amount, what their refunds take
    ///         from custody (the Settlement's treasury floor adds it, its exit and leaves leave it). A sale counts until
    ///         the end of the UTC day (chain clock) its window ends in.
    function openSales(address token) external view returns (uint256 companyPart, uint256 amount) {
        Open memory o = _advanced(token);
        return (o.companyPart, o.amount);
    }

    /// @notice The state of sale `id`: 0 none, 1 refunded, 2 made and not refunded (open while the block time is
    ///         before its `refundableUntil`, final after).
    function saleState(uint256 id) external view returns (uint8) {
        bytes32 recorded = _sales[id];
        return recorded == 0 ? 0 : recorded == REFUNDED ? 1 : 2;
    }

    function _terms(address buyer, address token, uint256 amount, uint256 retail, uint256 until)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(buyer, token, amount, retail, until));
    }

    /// @dev Counts a new sale ending in `day` in the token's sums (after subtracting the days that have ended).
    function _add(address token, uint256 day, uint256 companyPart, uint256 amount) private {
        Open memory o = _advanced(token);
        o.companyPart = SafeCast.toUint112(o.companyPart + companyPart);
        o.amount = SafeCast.toUint112(o.amount + amount);
        _open[token] = o;
        Open storage d = _byDay[token][day];
        (d.companyPart, d.amount) =
        (SafeCast.toUint112(d.companyPart + companyPart), SafeCast.toUint112(d.amount + amount));
        if (day > _lastDay[token]) _lastDay[token] = day;
    }

    /// @dev The token's sums with every ended day subtracted: none left once the latest window's day has ended; else
    ///      one read per day since the latest sale or refund (≤ 91: that day is within 90 days before the latest
    ///      window's end).
    function _advanced(address token) private view returns (Open memory o) {
        o = _open[token];
        uint256 today = block.timestamp / DAY;
        if (o.amount == 0 || today > _lastDay[token]) return Open(0, 0, uint32(today));
        mapping(uint256 day => Open) storage byDay = _byDay[token];
        for (uint256 day = o.fromDay; day < today; ++day) {
            Open memory d = byDay[day];
            (o.companyPart, o.amount) = (o.companyPart - d.companyPart, o.amount - d.amount);
        }
        o.fromDay = uint32(today);
    }
}
