// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {Vm} from "../utils/Vm.sol";
import {EIP712Reference} from "../utils/EIP712Reference.sol";
import {Settlement} from "../../src/Settlement.sol";
import {SettlementViews} from "../../src/SettlementViews.sol";
import {UnorderedNonces} from "../../src/UnorderedNonces.sol";
import {
    Registration,
    Retopup,
    Payout,
    PayoutBatch,
    TreasuryTransfer,
    LiabilityRoot
} from "../../src/SettlementTypes.sol";
import {TestUSDT} from "../../src/dev/TestUSDT.sol";
import {BlacklistToken} from "../mocks/BlacklistToken.sol";
import {RevertingRecipient, GasBurningRecipient} from "../mocks/HostileRecipients.sol";

/// @notice Drives the Settlement through random sequences of every action, keeping an independent model:
///         per-asset inflow/outflow sums, per-account claims, and counters of things that must never happen.
///         It also owns the TRON-like USDT and flips its switches (pause, blacklist, fee), which the model
///         knows: outflows blocked -> every payout deferred, claims and treasury refused; short inflows refused. It
///         models who registered in which asset, and tries second registrations (a reload's second payload).
contract SettlementHandler {
    using EIP712Reference for Registration;
    using EIP712Reference for Retopup;
    using EIP712Reference for PayoutBatch;
    using EIP712Reference for TreasuryTransfer;
    using EIP712Reference for LiabilityRoot;

    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    address internal constant NATIVE = address(0);
    uint256 internal constant N_USERS = 4;

    Settlement public immutable settlement;

    /// @dev The Settlement's read-only functions (SettlementViews, served by its fallback) at its address.
    function views() internal view returns (SettlementViews) {
        return SettlementViews(address(settlement));
    }
    TestUSDT public immutable usdt;
    BlacklistToken public immutable blToken;
    uint256 internal immutable signerKey;
    address internal immutable operator;
    address internal immutable treasurer;

    RevertingRecipient public immutable reverter;
    GasBurningRecipient public immutable burner;
    address public immutable blocked; // blacklisted by blToken
    address public immutable claimSink;
    address public immutable treasurySink;

    address[3] public assets;
    address[] public claimants;

    // ───────────── ghost state ─────────────
    mapping(address asset => uint256) public ghostInflow;
    mapping(address asset => uint256) public ghostOutflow;
    mapping(address asset => mapping(address account => uint256)) public ghostClaimable;
    mapping(uint256 nonce => uint256) public ghostAcceptedCount;
    mapping(address asset => mapping(address user => bool)) public ghostRegistered;

    uint256 public ghostReplayAccepted; // replays of used nonces or executed batches that went through
    uint256 public ghostDoubleAccepted; // any nonce accepted more than once
    uint256 public ghostExpiredAccepted; // payloads accepted after their deadline
    uint256 public ghostOverdraftAccepted; // batches or treasury transfers beyond what is available
    uint256 public ghostValidRejected; // well-formed, funded, in-time payloads that were refused
    uint256 public ghostWrongReplayError; // a replay refused for a reason other than its nonce or deadline
    uint256 public ghostClaimFailed; // a claim of a modelled debt that was refused or paid a different amount
    uint256 public ghostShortInflowAccepted; // a register/retopup accepted although less than signed arrived
    uint256 public ghostSecondRegistrationAccepted; // a (user, asset) registered twice
    uint256 public ghostBelowFloorAccepted; // a treasury transfer that left custody below the modelled floor
    // the floor's model: the latest commitment's total and time, and what members were paid since
    mapping(address asset => uint64) public ghostEpoch;
    mapping(address asset => uint256) public ghostCommitTotal;
    mapping(address asset => uint256) public ghostCommitTime;
    mapping(address asset => uint256) public ghostPaidSince;
    uint256 public ghostWrongSecondRegistrationError; // a second registration refused other than AlreadyRegistered

    mapping(bytes32 => uint256) public calls;
    uint256 internal nonceCounter;

    // stored accepted payloads, for replays
    Registration[] internal doneRegs;
    bytes[] internal doneRegSigs;
    Retopup[] internal doneTops;
    bytes[] internal doneTopSigs;
    PayoutBatch[] internal doneBatches;
    bytes[] internal doneBatchSigs;
    TreasuryTransfer[] internal doneTts;
    bytes[] internal doneTtSigs;
    // signed but not yet submitted registrations
    Registration[] internal pendingRegs;

    constructor(
        Settlement settlement_,
        TestUSDT usdt_,
        BlacklistToken blToken_,
        uint256 signerKey_,
        address operator_,
        address treasurer_
    ) {
        settlement = settlement_;
        usdt = usdt_;
        blToken = blToken_;
        signerKey = signerKey_;
        operator = operator_;
        treasurer = treasurer_;
        reverter = new RevertingRecipient();
        burner = new GasBurningRecipient();
        blocked = address(0xB10C);
        claimSink = address(0xC1A1);
        treasurySink = address(0x7EA5);
        blToken_.setBlacklisted(blocked, true);
        assets = [NATIVE, address(usdt_), address(blToken_)];
        claimants.push(address(reverter));
        claimants.push(address(burner));
        claimants.push(blocked);
        // any recipient's payout is deferred while the USDT cannot leave custody
        for (uint256 i; i < 5; ++i) {
            claimants.push(_recipient(i));
        }
    }

    // ───────────── helpers ─────────────

    function _user(uint256 seed) internal pure returns (address) {
        address[N_USERS] memory users = [address(0xA0000), address(0xA0001), address(0xA0002), address(0xA0003)];
        return users[seed % N_USERS];
    }

    function _asset(uint256 seed) internal view returns (address) {
        return assets[seed % assets.length];
    }

    /// @dev Fresh nonces, spread over bitmap words and bits (a prime stride).
    function _nextNonce() internal returns (uint256) {
        return ++nonceCounter * 7919;
    }

    function _sign(bytes32 structHash) internal view returns (bytes memory) {
        bytes32 digest =
            EIP712Reference.digest(EIP712Reference.domainSeparator(block.chainid, address(settlement)), structHash);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, digest);
        return abi.encodePacked(r, s, v);
    }

    function _fund(address user, address asset, uint256 amount) internal {
        if (asset == NATIVE) {
            vm.deal(user, amount);
        } else {
            TestUSDT(asset).mint(user, amount); // same selector on both mocks
            vm.prank(user);
            TestUSDT(asset).approve(address(settlement), type(uint256).max);
        }
    }

    function _maxAmount(address asset) internal view returns (uint256) {
        return asset == NATIVE ? 100 ether : asset == address(usdt) ? 1e12 : 1e24;
    }

    function _accepted(uint256 nonce, uint256 deadline) internal {
        if (++ghostAcceptedCount[nonce] > 1) ++ghostDoubleAccepted;
        if (block.timestamp > deadline) ++ghostExpiredAccepted;
    }

    function _isHostile(address asset, address recipient) internal view returns (bool) {
        if (asset == NATIVE) return recipient == address(reverter) || recipient == address(burner);
        if (asset == address(blToken)) return recipient == blocked;
        return _outflowsBlocked(asset);
    }

    /// @dev TRON USDT blacklists senders: paused, or the Settlement blacklisted, nothing leaves custody.
    function _outflowsBlocked(address asset) internal view returns (bool) {
        return asset == address(usdt) && (usdt.paused() || usdt.isBlackListed(address(settlement)));
    }

    /// @dev Less than `amount` would arrive from `user` (or nothing at all): the contract must refuse it.
    function _inflowShort(address asset, address user, uint256 amount) internal view returns (bool) {
        return asset == address(usdt) && (usdt.paused() || usdt.isBlackListed(user) || usdt.calcFee(amount) > 0);
    }

    function _feeOf(address asset, uint256 amount) internal view returns (uint256) {
        return asset == address(usdt) ? usdt.calcFee(amount) : 0;
    }

    function _recipient(uint256 seed) internal view returns (address) {
        uint256 pick = seed % 8;
        if (pick == 5) return address(reverter);
        if (pick == 6) return address(burner);
        if (pick == 7) return blocked;
        address[5] memory eoas =
            [address(0xE0000), address(0xE0001), address(0xE0002), address(0xE0003), address(0xE0004)];
        return eoas[pick]; // plain EOAs
    }

    function _isReplayError(bytes memory err, uint256 nonce, uint256 deadline) internal pure returns (bool) {
        return keccak256(err) == keccak256(abi.encodeWithSelector(UnorderedNonces.NonceAlreadyUsed.selector, nonce))
            || keccak256(err) == keccak256(abi.encodeWithSelector(Settlement.Expired.selector, deadline));
    }

    // ───────────── inflows ─────────────

    function register(uint256 userSeed, uint256 assetSeed, uint256 amount, uint256 ttl) external {
        ++calls["register"];
        address user = _user(userSeed);
        address asset = _asset(assetSeed);
        amount = amount % (_maxAmount(asset) + 1);
        Registration memory r =
            Registration(user, address(0x5B0), asset, amount, _nextNonce(), block.timestamp + ttl % 2 hours);
        bytes memory sig = _sign(r.hash());
        _fund(user, asset, amount);
        bool short = _inflowShort(asset, user, amount);
        bool again = ghostRegistered[asset][user];
        vm.prank(user);
        try settlement.register{value: asset == NATIVE ? amount : 0}(r, sig) {
            if (short) ++ghostShortInflowAccepted;
            _registered(r, sig);
        } catch (bytes memory err) {
            if (again) _refusedAsRegistered(err, user, asset); // checked before the token is asked for anything
            else if (short) ++calls["shortInflowRefused"];
            else ++ghostValidRejected;
        }
    }

    /// @dev A fresh, validly signed and funded registration of a (user, asset) that has registered: the API handing
    ///      out a second payload (a reload) while the first was in flight. Must be refused, whatever its amount.
    function registerAgain(uint256 seed, uint256 amount) external {
        if (doneRegs.length == 0) return;
        ++calls["registerAgain"];
        Registration memory first = doneRegs[seed % doneRegs.length];
        amount = amount % (_maxAmount(first.token) + 1);
        Registration memory r =
            Registration(first.user, first.sponsor, first.token, amount, _nextNonce(), block.timestamp + 1 hours);
        bytes memory sig = _sign(r.hash());
        _fund(r.user, r.token, amount);
        vm.prank(r.user);
        try settlement.register{value: r.token == NATIVE ? amount : 0}(r, sig) {
            _registered(r, sig);
        } catch (bytes memory err) {
            _refusedAsRegistered(err, r.user, r.token);
        }
    }

    /// @dev Models an accepted registration.
    function _registered(Registration memory r, bytes memory sig) internal {
        if (ghostRegistered[r.token][r.user]) ++ghostSecondRegistrationAccepted;
        ghostRegistered[r.token][r.user] = true;
        _accepted(r.nonce, r.deadline);
        ghostInflow[r.token] += r.amount;
        doneRegs.push(r);
        doneRegSigs.push(sig);
    }

    /// @dev A registration of a (user, asset) that has registered was refused: it must say so.
    function _refusedAsRegistered(bytes memory err, address user, address asset) internal {
        ++calls["secondRegistrationRefused"];
        bytes memory expected = abi.encodeWithSelector(Settlement.AlreadyRegistered.selector, user, asset);
        if (keccak256(err) != keccak256(expected)) ++ghostWrongSecondRegistrationError;
    }

    function retopup(uint256 userSeed, uint256 assetSeed, uint256 amount, uint256 ttl) external {
        ++calls["retopup"];
        address user = _user(userSeed);
        address asset = _asset(assetSeed);
        amount = amount % (_maxAmount(asset) + 1);
        Retopup memory r = Retopup(user, asset, amount, _nextNonce(), block.timestamp + ttl % 2 hours);
        bytes memory sig = _sign(r.hash());
        _fund(user, asset, amount);
        bool short = _inflowShort(asset, user, amount);
        vm.prank(user);
        try settlement.retopup{value: asset == NATIVE ? amount : 0}(r, sig) {
            if (short) ++ghostShortInflowAccepted;
            _accepted(r.nonce, r.deadline);
            ghostInflow[asset] += amount;
            doneTops.push(r);
            doneTopSigs.push(sig);
        } catch {
            if (short) ++calls["shortInflowRefused"];
            else ++ghostValidRejected;
        }
    }

    /// @dev Signs a registration now; `submitPending` sends it later, after time may have passed its deadline.
    function signPendingRegistration(uint256 userSeed, uint256 amount, uint256 ttl) external {
        ++calls["signPending"];
        amount = amount % 10 ether;
        pendingRegs.push(
            Registration(_user(userSeed), address(0x5B0), NATIVE, amount, _nextNonce(), block.timestamp + ttl % 1 hours)
        );
    }

    function submitPending(uint256 seed) external {
        if (pendingRegs.length == 0) return;
        ++calls["submitPending"];
        uint256 i = seed % pendingRegs.length;
        Registration memory r = pendingRegs[i];
        pendingRegs[i] = pendingRegs[pendingRegs.length - 1];
        pendingRegs.pop();
        bytes memory sig = _sign(r.hash());
        _fund(r.user, NATIVE, r.amount);
        bool late = block.timestamp > r.deadline;
        bool again = ghostRegistered[NATIVE][r.user]; // registered since this payload was signed
        vm.prank(r.user);
        try settlement.register{value: r.amount}(r, sig) {
            _registered(r, sig);
        } catch (bytes memory err) {
            if (late) {
                if (keccak256(err) != keccak256(abi.encodeWithSelector(Settlement.Expired.selector, r.deadline))) {
                    ++ghostWrongReplayError;
                }
            } else if (again) {
                _refusedAsRegistered(err, r.user, NATIVE);
            } else {
                ++ghostValidRejected;
            }
        }
    }

    // ───────────── payouts ─────────────

    /// @dev One call in eight deliberately asks for one unit more than is available.
    function executeBatch(uint256 assetSeed, uint256 size, uint256 seed) external {
        bool overdraw = seed % 8 == 0;
        assetSeed %= assets.length;
        address asset = _asset(assetSeed);
        uint256 free = views().available(asset);
        for (uint256 k = 1; k < assets.length && free == 0; ++k) {
            asset = _asset(assetSeed + k);
            free = views().available(asset);
        }
        if (free == 0 && !overdraw) return;
        if (overdraw) ++calls["batchOverdraw"];
        else ++calls["batch"];
        size = 1 + size % 6;
        Payout[] memory p = new Payout[](size);
        uint256 total;
        for (uint256 i; i < size; ++i) {
            uint256 amount = uint256(keccak256(abi.encode(seed, i))) % (free / size + 1);
            p[i] = Payout(_recipient(uint256(keccak256(abi.encode(seed, i, "r")))), amount);
            total += amount;
        }
        if (overdraw) {
            p[0].amount += free - total + 1; // one more than custody can spare
            total = free + 1;
        }
        PayoutBatch memory b = PayoutBatch(asset, total, p, _nextNonce(), block.timestamp + 1 hours);
        bytes memory sig = _sign(b.hash());
        vm.prank(operator);
        try settlement.executePayoutBatch(b, sig) {
            if (overdraw) ++ghostOverdraftAccepted;
            _accepted(b.nonce, b.deadline);
            for (uint256 i; i < size; ++i) {
                if (_isHostile(asset, p[i].recipient)) {
                    ghostClaimable[asset][p[i].recipient] += p[i].amount;
                    ++calls["deferred"];
                } else {
                    ghostOutflow[asset] += p[i].amount;
                    ghostPaidSince[asset] += p[i].amount;
                }
            }
            _storeBatch(b, sig);
            ++calls["batchExecuted"];
        } catch {
            if (!overdraw) ++ghostValidRejected;
        }
    }

    function _storeBatch(PayoutBatch memory b, bytes memory sig) internal {
        PayoutBatch storage s = doneBatches.push();
        s.token = b.token;
        s.total = b.total;
        s.nonce = b.nonce;
        s.deadline = b.deadline;
        for (uint256 i; i < b.payouts.length; ++i) {
            s.payouts.push(b.payouts[i]);
        }
        doneBatchSigs.push(sig);
    }

    function claim(uint256 claimantSeed, uint256 assetSeed) external {
        // the first (claimant, asset) pair with something owed, starting from the seeds
        claimantSeed %= claimants.length;
        assetSeed %= assets.length;
        address who;
        address asset;
        uint256 owed;
        for (uint256 k; k < claimants.length * assets.length && owed == 0; ++k) {
            who = claimants[(claimantSeed + k) % claimants.length];
            asset = _asset(assetSeed + k / claimants.length);
            owed = ghostClaimable[asset][who];
        }
        if (owed == 0) return;
        ++calls["claim"];
        bool blockedOut = _outflowsBlocked(asset);
        uint256 custodyBefore = _custody(asset);
        uint256 sinkBefore = asset == NATIVE ? claimSink.balance : TestUSDT(asset).balanceOf(claimSink);
        bool ok;
        if (who == address(reverter)) {
            try reverter.claim(settlement, asset, claimSink) {
                ok = true;
            } catch {}
        } else if (who == address(burner)) {
            try burner.claim(settlement, asset, claimSink) {
                ok = true;
            } catch {}
        } else {
            vm.prank(who);
            try settlement.claim(asset, claimSink) {
                ok = true;
            } catch {}
        }
        uint256 sinkAfter = asset == NATIVE ? claimSink.balance : TestUSDT(asset).balanceOf(claimSink);
        if (!ok && blockedOut) {
            ++calls["claimRefusedTokenBlocked"]; // expected, and the debt stays owed
            return;
        }
        // a refused claim, or one taking from custody (or delivering, net of the token's own fee) other than
        // what the model owes, is a failure of the claim path
        uint256 taken = custodyBefore - _custody(asset);
        if (!ok || taken != owed || sinkAfter - sinkBefore != owed - _feeOf(asset, owed)) ++ghostClaimFailed;
        if (!ok) return;
        ghostClaimable[asset][who] = 0;
        ghostOutflow[asset] += taken;
        ghostPaidSince[asset] += taken;
    }

    function _custody(address asset) internal view returns (uint256) {
        return asset == NATIVE ? address(settlement).balance : TestUSDT(asset).balanceOf(address(settlement));
    }

    /// @notice The floor the model expects: the latest committed total less what members were paid since.
    function modelFloor(address asset) public view returns (uint256) {
        uint256 total = ghostCommitTotal[asset];
        uint256 paid = ghostPaidSince[asset];
        return total > paid ? total - paid : 0;
    }

    /// @dev The operator commits the asset's next epoch at the previous block, with a total that is sometimes above
    ///      custody (an insolvent commitment is committed all the same, and then no treasury transfer may leave).
    function commit(uint256 assetSeed, uint256 total) external {
        ++calls["commit"];
        address asset = _asset(assetSeed);
        vm.roll(block.number + 1);
        total %= 2 * _custody(asset) + 2;
        LiabilityRoot memory c = LiabilityRoot({
            token: asset,
            epoch: ghostEpoch[asset] + 1,
            asOfBlock: uint64(block.number - 1),
            root: keccak256(abi.encode(asset, total, block.number)),
            total: uint128(total),
            leafCount: 1,
            planHash: bytes32(0),
            nonce: _nextNonce(),
            deadline: block.timestamp + 1 hours
        });
        bytes memory sig = _sign(c.hash());
        vm.prank(operator);
        try settlement.commitLiabilities(c, sig) {
            _accepted(c.nonce, c.deadline);
            ghostEpoch[asset] = c.epoch;
            ghostCommitTotal[asset] = total;
            ghostCommitTime[asset] = block.timestamp;
            ghostPaidSince[asset] = 0;
        } catch {
            ++ghostValidRejected;
        }
    }

    /// @dev One call in eight deliberately asks for more than is available or than the floor leaves; a transfer
    ///      without a recent commitment must be refused.
    function transferTreasury(uint256 assetSeed, uint256 amount) external {
        bool overdraw = amount % 8 == 0;
        address asset = _asset(assetSeed);
        uint256 custody = _custody(asset);
        uint256 floor_ = modelFloor(asset);
        uint256 room = views().available(asset);
        if (custody < floor_ + room) room = custody > floor_ ? custody - floor_ : 0;
        bool fresh =
            ghostEpoch[asset] > 0 && block.timestamp - ghostCommitTime[asset] <= settlement.treasuryCommitmentMaxAge();
        if (overdraw) ++calls["treasuryOverdraw"];
        else if (!fresh) ++calls["treasuryStale"];
        else ++calls["treasury"];
        amount = overdraw ? room + 1 + (amount >> 3) % 1e18 : (amount >> 3) % (room + 1);
        TreasuryTransfer memory t =
            TreasuryTransfer(asset, treasurySink, amount, _nextNonce(), block.timestamp + 1 hours);
        bytes memory sig = _sign(t.hash());
        vm.prank(treasurer);
        try settlement.transferTreasury(t, sig) {
            if (overdraw || !fresh) ++ghostOverdraftAccepted;
            if (amount > 0 && _custody(asset) < floor_) ++ghostBelowFloorAccepted;
            _accepted(t.nonce, t.deadline);
            ghostOutflow[asset] += amount;
            doneTts.push(t);
            doneTtSigs.push(sig);
        } catch {
            if (!overdraw && fresh && !_outflowsBlocked(asset)) ++ghostValidRejected;
        }
    }

    // ───────────── the TRON-like token's owner switches ─────────────

    /// @dev Toggles USDT's pause, the Settlement's or a user's blacklisting, or sets the fee (on or off).
    function flipUsdtSwitch(uint256 seed) external {
        uint256 kind = seed % 4;
        seed >>= 2;
        if (kind == 0) {
            ++calls["usdtPause"];
            if (usdt.paused()) usdt.unpause();
            else usdt.pause();
        } else if (kind == 1 || kind == 2) {
            address who = kind == 1 ? address(settlement) : _user(seed);
            if (kind == 1) ++calls["usdtBlacklistSettlement"];
            else ++calls["usdtBlacklistUser"];
            if (usdt.isBlackListed(who)) usdt.removeBlackList(who);
            else usdt.addBlackList(who);
        } else {
            ++calls["usdtFee"];
            bool on = seed % 2 == 1;
            usdt.setParams(on ? 1 + (seed >> 1) % 19 : 0, on ? 1 + (seed >> 6) % 49 : 0);
        }
    }

    // ───────────── attacks ─────────────

    /// @dev Resubmits an accepted payload (funding the user again, so only the nonce or deadline can stop it).
    function replay(uint256 kind, uint256 seed) external {
        kind %= 4;
        if (kind == 0 && doneRegs.length > 0) {
            uint256 i = seed % doneRegs.length;
            Registration memory r = doneRegs[i];
            _fund(r.user, r.token, r.amount);
            vm.prank(r.user);
            try settlement.register{value: r.token == NATIVE ? r.amount : 0}(r, doneRegSigs[i]) {
                ++ghostReplayAccepted;
            } catch (bytes memory err) {
                if (!_isReplayError(err, r.nonce, r.deadline)) ++ghostWrongReplayError;
            }
        } else if (kind == 1 && doneTops.length > 0) {
            uint256 i = seed % doneTops.length;
            Retopup memory r = doneTops[i];
            _fund(r.user, r.token, r.amount);
            vm.prank(r.user);
            try settlement.retopup{value: r.token == NATIVE ? r.amount : 0}(r, doneTopSigs[i]) {
                ++ghostReplayAccepted;
            } catch (bytes memory err) {
                if (!_isReplayError(err, r.nonce, r.deadline)) ++ghostWrongReplayError;
            }
        } else if (kind == 2 && doneBatches.length > 0) {
            uint256 i = seed % doneBatches.length;
            PayoutBatch memory b = doneBatches[i];
            vm.prank(operator);
            try settlement.executePayoutBatch(b, doneBatchSigs[i]) {
                ++ghostReplayAccepted;
            } catch (bytes memory err) {
                if (!_isReplayError(err, b.nonce, b.deadline)) ++ghostWrongReplayError;
            }
        } else if (kind == 3 && doneTts.length > 0) {
            uint256 i = seed % doneTts.length;
            TreasuryTransfer memory t = doneTts[i];
            vm.prank(treasurer);
            try settlement.transferTreasury(t, doneTtSigs[i]) {
                ++ghostReplayAccepted;
            } catch (bytes memory err) {
                if (!_isReplayError(err, t.nonce, t.deadline)) ++ghostWrongReplayError;
            }
        } else {
            return;
        }
        ++calls["replay"];
    }

    /// @dev A new, validly signed batch reusing an executed batch's nonce (a "second version" of it).
    function replayBatchNewVersion(uint256 seed) external {
        if (doneBatches.length == 0) return;
        ++calls["batchVersion"];
        PayoutBatch memory old = doneBatches[seed % doneBatches.length];
        Payout[] memory p = new Payout[](1);
        p[0] = Payout(address(0xE0001), 0);
        PayoutBatch memory b = PayoutBatch(old.token, 0, p, old.nonce, block.timestamp + 1 hours);
        bytes memory sig = _sign(b.hash());
        vm.prank(operator);
        try settlement.executePayoutBatch(b, sig) {
            ++ghostReplayAccepted;
        } catch (bytes memory err) {
            if (!_isReplayError(err, b.nonce, b.deadline)) ++ghostWrongReplayError;
        }
    }

    /// @dev A fresh, validly signed and funded payload whose deadline has passed.
    function submitExpired(uint256 kind, uint256 ago, uint256 assetSeed) external {
        ++calls["expired"];
        address asset = _asset(assetSeed);
        uint256 deadline = block.timestamp - 1 - ago % 1 days;
        address user = _user(ago);
        kind %= 4;
        bool ok;
        if (kind == 0) {
            Registration memory r = Registration(user, address(0x5B0), asset, 1, _nextNonce(), deadline);
            bytes memory sig = _sign(r.hash());
            _fund(user, asset, 1);
            vm.prank(user);
            try settlement.register{value: asset == NATIVE ? 1 : 0}(r, sig) {
                ok = true;
            } catch {}
        } else if (kind == 1) {
            Retopup memory r = Retopup(user, asset, 1, _nextNonce(), deadline);
            bytes memory sig = _sign(r.hash());
            _fund(user, asset, 1);
            vm.prank(user);
            try settlement.retopup{value: asset == NATIVE ? 1 : 0}(r, sig) {
                ok = true;
            } catch {}
        } else if (kind == 2) {
            Payout[] memory p = new Payout[](1);
            p[0] = Payout(address(0xE0002), 0);
            PayoutBatch memory b = PayoutBatch(asset, 0, p, _nextNonce(), deadline);
            bytes memory sig = _sign(b.hash());
            vm.prank(operator);
            try settlement.executePayoutBatch(b, sig) {
                ok = true;
            } catch {}
        } else {
            TreasuryTransfer memory t = TreasuryTransfer(asset, treasurySink, 0, _nextNonce(), deadline);
            bytes memory sig = _sign(t.hash());
            vm.prank(treasurer);
            try settlement.transferTreasury(t, sig) {
                ok = true;
            } catch {}
        }
        if (ok) ++ghostExpiredAccepted;
    }

    function warp(uint256 secs) external {
        ++calls["warp"];
        vm.warp(block.timestamp + secs % 2 hours);
    }

    // ───────────── views for the invariants ─────────────

    function userCount() external pure returns (uint256) {
        return N_USERS;
    }

    function userAt(uint256 i) external pure returns (address) {
        return _user(i);
    }

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    function claimantCount() external view returns (uint256) {
        return claimants.length;
    }

    function acceptedCount() external view returns (uint256) {
        return doneRegs.length + doneTops.length + doneBatches.length + doneTts.length;
    }
}
