// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

import {SettlementFixture} from "./utils/SettlementFixture.sol";
import {EIP712Reference} from "./utils/EIP712Reference.sol";
import {console} from "./utils/Console.sol";
import {Settlement} from "../src/Settlement.sol";
import {
    Registration,
    Retopup,
    Payout,
    PayoutBatch,
    TreasuryTransfer,
    LiabilityRoot,
    SettlementHashes
} from "../src/SettlementTypes.sol";

/// @notice Exposes the contract's own LiabilityRoot struct hash (calldata), to compare with the reference.
contract LiabilityRootHashHarness {
    function hash(LiabilityRoot calldata c) external pure returns (bytes32) {
        return SettlementHashes.hash(c);
    }
}

/// @notice The contract's EIP-712 encoding against one written from the specification, a fixed vector for the
///         Rust side, and TRON's TIP-712 chain id.
contract EIP712Test is SettlementFixture {
    using EIP712Reference for Registration;
    using EIP712Reference for Retopup;
    using EIP712Reference for PayoutBatch;
    using EIP712Reference for TreasuryTransfer;
    using EIP712Reference for LiabilityRoot;

    /// @dev TRON mainnet's TIP-712 chain id, and a block.chainid whose low 32 bits are it (TVM returns more bits).
    uint256 internal constant TRON_CHAIN_ID = 0x2b6653dc;
    uint256 internal constant TVM_BLOCK_CHAINID = 0xcd8690dc_2b6653dc;

    // ───────────── type hashes ─────────────

    function test_typeStrings_areTheCanonicalEncodeType() public pure {
        // spelled out once by hand, so a mistake in the member-list builder cannot hide a wrong type string
        assertEq(
            EIP712Reference.registrationType(),
            "Registration(address user,address sponsor,address token,uint256 amount,uint256 nonce,uint256 deadline)",
            "registration"
        );
        assertEq(
            EIP712Reference.payoutBatchType(),
            "PayoutBatch(address token,uint256 total,Payout[] payouts,uint256 nonce,uint256 deadline)Payout(address recipient,uint256 amount)",
            "batch"
        );
        assertEq(
            EIP712Reference.liabilityRootType(),
            "LiabilityRoot(address token,uint64 epoch,uint64 asOfBlock,bytes32 root,uint128 total,uint32 leafCount,bytes32 planHash,uint256 nonce,uint256 deadline)",
            "liability root"
        );
    }

    function test_typeHashes_matchCanonicalEncoding() public view {
        assertEq(
            settlement.REGISTRATION_TYPEHASH(),
            keccak256(bytes(EIP712Reference.registrationType())),
            "REGISTRATION_TYPEHASH"
        );
        assertEq(settlement.RETOPUP_TYPEHASH(), keccak256(bytes(EIP712Reference.retopupType())), "RETOPUP_TYPEHASH");
        assertEq(settlement.PAYOUT_TYPEHASH(), keccak256(bytes(EIP712Reference.payoutType())), "PAYOUT_TYPEHASH");
        assertEq(
            settlement.PAYOUT_BATCH_TYPEHASH(),
            keccak256(bytes(EIP712Reference.payoutBatchType())),
            "PAYOUT_BATCH_TYPEHASH"
        );
        assertEq(
            settlement.TREASURY_TRANSFER_TYPEHASH(),
            keccak256(bytes(EIP712Reference.treasuryTransferType())),
            "TREASURY_TRANSFER_TYPEHASH"
        );
        assertEq(
            settlement.LIABILITY_ROOT_TYPEHASH(),
            keccak256(bytes(EIP712Reference.liabilityRootType())),
            "LIABILITY_ROOT_TYPEHASH"
        );
    }

    /// @notice The contract's LiabilityRoot struct hash is the canonical encodeData (each member a zero-extended
    ///         32-byte word) for any values, the narrow ones at their extremes included.
    function testFuzz_liabilityRootStructHash_matchesReference(
        address token,
        uint64 epoch,
        uint64 asOfBlock,
        bytes32 root,
        uint128 total,
        uint32 leafCount,
        bytes32 planHash,
        uint256 nonce,
        uint256 deadline
    ) public {
        LiabilityRootHashHarness h = new LiabilityRootHashHarness();
        LiabilityRoot memory c =
            LiabilityRoot(token, epoch, asOfBlock, root, total, leafCount, planHash, nonce, deadline);
        assertEq(h.hash(c), c.hash(), "struct hash");
        LiabilityRoot memory max = LiabilityRoot(
            address(type(uint160).max),
            type(uint64).max,
            type(uint64).max,
            bytes32(type(uint256).max),
            type(uint128).max,
            type(uint32).max,
            bytes32(type(uint256).max),
            type(uint256).max,
            type(uint256).max
        );
        assertEq(h.hash(max), max.hash(), "struct hash at the maxima");
    }

    /// @dev A calldata word with bits above a member's width is not a LiabilityRoot: the ABI decoder refuses it
    ///      before anything is hashed (so no two encodings of one struct can hash differently).
    function test_liabilityRootStructHash_refusesDirtyNarrowMembers() public {
        LiabilityRootHashHarness h = new LiabilityRootHashHarness();
        LiabilityRoot memory c = LiabilityRoot(alice, 1, 2, bytes32(uint256(3)), 4, 5, bytes32(uint256(6)), 7, 8);
        bytes memory good = abi.encodeCall(LiabilityRootHashHarness.hash, (c));
        (bool ok, bytes memory ret) = address(h).call(good);
        assertTrue(ok, "clean encoding accepted");
        assertEq(abi.decode(ret, (bytes32)), c.hash(), "clean hash");
        // word 1 is epoch (uint64), word 4 total (uint128), word 5 leafCount (uint32)
        uint256[3] memory words = [uint256(1), 4, 5];
        for (uint256 i; i < words.length; ++i) {
            bytes memory dirty = bytes.concat(good);
            uint256 at = 4 + 32 * words[i];
            dirty[at] = 0x01; // the word's top byte
            (ok,) = address(h).call(dirty);
            assertFalse(ok, "dirty narrow member refused");
        }
    }

    // ───────────── domain ─────────────

    function test_domainSeparator_builtFromScratch() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ReferralSettlement"),
                keccak256("1"),
                block.chainid,
                address(settlement)
            )
        );
        assertEq(settlement.domainSeparator(), expected, "domain separator");
    }

    function test_eip712Domain_reportsTheSigningDomain() public view {
        (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = settlement.eip712Domain();
        assertEq(uint256(uint8(fields)), 0x0f, "fields: name, version, chainId, verifyingContract");
        assertEq(name, "ReferralSettlement", "name");
        assertEq(version, "1", "version");
        assertEq(chainId, 31337, "chainId");
        assertEq(verifyingContract, address(settlement), "verifyingContract");
        assertEq(salt, bytes32(0), "salt");
        assertEq(extensions.length, 0, "extensions");
    }

    // ───────────── digests ─────────────

    function test_hashTypedData_matchesHandBuiltDigestForEveryPayloadKind() public view {
        bytes32 domain = _domain();
        Registration memory r = Registration(alice, sponsor, address(usdt), 20_500_000, 513, 1_800_000_000);
        Retopup memory t = Retopup(alice, NATIVE, 0.3 ether, 514, 1_800_000_000);
        TreasuryTransfer memory tt = TreasuryTransfer(address(usdt), carol, 9e6, 515, 1_800_000_000);
        PayoutBatch memory b = _batch(address(usdt), _payouts2(alice, 1e6, bob, 2e6), 516);
        LiabilityRoot memory l = LiabilityRoot(
            address(usdt), 3, 1_234_567, keccak256("root"), 1e12, 4_321, keccak256("plan"), 517, 1_800_000_000
        );

        assertEq(settlement.hashTypedData(r.hash()), EIP712Reference.digest(domain, r.hash()), "registration");
        assertEq(settlement.hashTypedData(t.hash()), EIP712Reference.digest(domain, t.hash()), "retopup");
        assertEq(settlement.hashTypedData(tt.hash()), EIP712Reference.digest(domain, tt.hash()), "treasury");
        assertEq(settlement.hashTypedData(b.hash()), EIP712Reference.digest(domain, b.hash()), "batch");
        assertEq(settlement.hashTypedData(l.hash()), EIP712Reference.digest(domain, l.hash()), "liability root");
    }

    /// @dev Array of structs = keccak256 of the concatenated struct hashes; the empty array is keccak256("").
    function test_payoutsArrayEncoding_isKeccakOfConcatenatedStructHashes() public pure {
        bytes32 payoutType = keccak256("Payout(address recipient,uint256 amount)");
        address a = address(0x4444444444444444444444444444444444444444);
        address c = address(0x5555555555555555555555555555555555555555);
        bytes32 h0 = keccak256(abi.encode(payoutType, a, uint256(1)));
        bytes32 h1 = keccak256(abi.encode(payoutType, c, uint256(2)));
        assertEq(EIP712Reference.hashPayouts(_payouts2(a, 1, c, 2)), keccak256(abi.encodePacked(h0, h1)), "two");
        assertEq(EIP712Reference.hashPayouts(new Payout[](0)), keccak256(""), "empty");
    }

    /// @dev The contract accepts a batch signed over the reference encoding and reports the same payouts hash.
    function test_batch_payoutsHashInEventEqualsReference() public {
        _seed(address(usdt), 10e6, 900);
        Payout[] memory p = new Payout[](3);
        p[0] = Payout(alice, 1e6);
        p[1] = Payout(bob, 2e6);
        p[2] = Payout(carol, 3e6);
        PayoutBatch memory b = _batch(address(usdt), p, 1);
        vm.expectEmit(address(settlement));
        emit Settlement.PayoutBatchExecuted(1, address(usdt), EIP712Reference.hashPayouts(p), 6e6, 3, 0, 0);
        _execute(b);
    }

    // ───────────── fixed vector for the Rust `abi` crate ─────────────

    address internal constant VECTOR_CONTRACT = 0x7000000000000000000000000000000000000007;
    address internal constant V_USER = 0x1111111111111111111111111111111111111111;
    address internal constant V_SPONSOR = 0x2222222222222222222222222222222222222222;
    address internal constant V_TOKEN = 0x3333333333333333333333333333333333333333;
    address internal constant V_R1 = 0x4444444444444444444444444444444444444444;
    address internal constant V_R2 = 0x5555555555555555555555555555555555555555;
    uint256 internal constant V_DEADLINE = 1_750_003_600;

    /// @notice Fixed inputs (chain id 31337, contract 0x7000…0007) with their digests printed for cross-checks.
    function test_knownVector_digestsAreStable() public {
        vm.chainId(31337);
        vm.etch(VECTOR_CONTRACT, address(settlement).code); // immutables travel with the code
        Settlement v = Settlement(payable(VECTOR_CONTRACT));

        Registration memory r = Registration(V_USER, V_SPONSOR, V_TOKEN, 20_500_000, 258, V_DEADLINE);
        Retopup memory t = Retopup(V_USER, NATIVE, 0.25 ether, 259, V_DEADLINE);
        PayoutBatch memory b =
            PayoutBatch(V_TOKEN, 3_500_000, _payouts2(V_R1, 1_000_000, V_R2, 2_500_000), 260, V_DEADLINE);
        TreasuryTransfer memory tt = TreasuryTransfer(V_TOKEN, V_SPONSOR, 7_000_000, 261, V_DEADLINE);

        bytes32 domain = EIP712Reference.domainSeparator(31337, VECTOR_CONTRACT);
        assertEq(v.domainSeparator(), domain, "vector domain");
        bytes32 dReg = v.hashTypedData(r.hash());
        bytes32 dTop = v.hashTypedData(t.hash());
        bytes32 dBatch = v.hashTypedData(b.hash());
        bytes32 dTt = v.hashTypedData(tt.hash());
        assertEq(dReg, EIP712Reference.digest(domain, r.hash()), "vector registration");
        assertEq(dTop, EIP712Reference.digest(domain, t.hash()), "vector retopup");
        assertEq(dBatch, EIP712Reference.digest(domain, b.hash()), "vector batch");
        assertEq(dTt, EIP712Reference.digest(domain, tt.hash()), "vector treasury");

        console.log("EIP-712 vector: chainId 31337, verifyingContract", VECTOR_CONTRACT);
        console.log("  domainSeparator", domain);
        console.log(
            "  Registration(user 0x11..11, sponsor 0x22..22, token 0x33..33, 20500000, nonce 258, deadline 1750003600)"
        );
        console.log("    structHash", r.hash());
        console.log("    digest    ", dReg);
        console.log("  Retopup(user 0x11..11, native, 0.25e18, nonce 259, deadline 1750003600)");
        console.log("    structHash", t.hash());
        console.log("    digest    ", dTop);
        console.log("  PayoutBatch(token 0x33..33, total 3500000, [(0x44..44,1000000),(0x55..55,2500000)], nonce 260)");
        console.log("    payoutsHash", EIP712Reference.hashPayouts(b.payouts));
        console.log("    structHash", b.hash());
        console.log("    digest    ", dBatch);
        console.log("  TreasuryTransfer(token 0x33..33, to 0x22..22, 7000000, nonce 261, deadline 1750003600)");
        console.log("    structHash", tt.hash());
        console.log("    digest    ", dTt);

        // pinned: a change here breaks every signature the backend has issued
        assertEq(domain, VECTOR_DOMAIN, "pinned domain");
        assertEq(dReg, VECTOR_REGISTRATION, "pinned registration");
        assertEq(dTop, VECTOR_RETOPUP, "pinned retopup");
        assertEq(dBatch, VECTOR_BATCH, "pinned batch");
        assertEq(dTt, VECTOR_TREASURY, "pinned treasury");
        assertEq(_signDigest(SIGNER_KEY, dBatch), VECTOR_BATCH_SIGNATURE, "alloy typed-data signature");
    }

    bytes32 internal constant V_ROOT = 0xabababababababababababababababababababababababababababababababab;
    bytes32 internal constant V_PLAN_HASH = 0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd;

    /// @notice The LiabilityRoot vector (same chain and contract), printed and pinned like the others.
    function test_knownVector_liabilityRootDigestIsStable() public {
        vm.chainId(31337);
        vm.etch(VECTOR_CONTRACT, address(settlement).code);
        Settlement v = Settlement(payable(VECTOR_CONTRACT));
        LiabilityRoot memory l =
            LiabilityRoot(V_TOKEN, 7, 48_000_000, V_ROOT, 123_456_789_000, 1_001, V_PLAN_HASH, 262, V_DEADLINE);
        bytes32 domain = EIP712Reference.domainSeparator(31337, VECTOR_CONTRACT);
        bytes32 d = v.hashTypedData(l.hash());
        assertEq(d, EIP712Reference.digest(domain, l.hash()), "vector liability root");

        console.log(
            "  LiabilityRoot(token 0x33..33, epoch 7, asOfBlock 48000000, root 0xab..ab, total 123456789000, leafCount 1001, planHash 0xcd..cd, nonce 262, deadline 1750003600)"
        );
        console.log("    structHash", l.hash());
        console.log("    digest    ", d);
        console.log("    signature ", vm.toString(_signDigest(SIGNER_KEY, d)));

        assertEq(d, VECTOR_LIABILITY_ROOT, "pinned liability root");
        assertEq(_signDigest(SIGNER_KEY, d), VECTOR_LIABILITY_ROOT_SIGNATURE, "alloy typed-data signature");
    }

    /// @dev Pinned values, cross-checked outside Solidity: the domain with `cast keccak`/`cast abi-encode`, and each
    ///      digest by signing the equivalent typed-data JSON with `cast wallet sign --data` (alloy's EIP-712) and
    ///      the digest with `cast wallet sign --no-hash` under SIGNER_KEY: the signatures are identical (pinned below).
    bytes32 internal constant VECTOR_DOMAIN = 0xba1a873e43e762928c179c44477915355343d758063725dbcb53a432e622fef9;
    bytes32 internal constant VECTOR_REGISTRATION = 0x34130cf17fe94f00b6d72fe88feb0eb7bf6bc179327b042122d826621ae73ca9;
    bytes32 internal constant VECTOR_RETOPUP = 0x8f87d0adc16925ca78b7b965ef88e7f1a7596cb6adfa95b29868a67ab5405553;
    bytes32 internal constant VECTOR_BATCH = 0x9c379777d188b4de959755d6f6e72e3dc60752f14a5df49e8c558f8ce3c3d323;
    bytes32 internal constant VECTOR_TREASURY = 0xb4728d18650cf4d73dad2110dc65f8768af27fedcef2d9cd573bb281dfe977f4;
    bytes32 internal constant VECTOR_LIABILITY_ROOT =
        0xcca539276cb7cfcf323954d5c52679a95ef16198e7c1b519574fd637c1fff7b6;
    bytes internal constant VECTOR_LIABILITY_ROOT_SIGNATURE =
        hex"6c0be567680a886a5d29cadc8dedbcfef1be046d795673d46de22e17af50b9635f659dd072f0ce5457edd4a0f1bf318a175882f15ff3ede4b4a4ed03cba64cc31c";
    bytes internal constant VECTOR_BATCH_SIGNATURE =
        hex"ef8e1f2a2ad7fb29c01ad9704db0c60cc5ff70417e0e7c959668405718998c57098ac85b384b118bf74897b3ab925b61b3b4f890c7f4e4ecb72a622a4506cc8f1c";

    // ───────────── TRON ─────────────

    function test_tronDomain_usesLow32BitsOfChainId() public {
        assertLt(uint256(type(uint32).max), TVM_BLOCK_CHAINID, "chain id above 2^32");
        vm.chainId(TVM_BLOCK_CHAINID);
        assertEq(block.chainid, TVM_BLOCK_CHAINID, "chainid set");

        bytes32 masked = EIP712Reference.domainSeparator(TRON_CHAIN_ID, address(settlement));
        assertEq(settlement.domainSeparator(), masked, "masked domain");
        bytes32 unmasked = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ReferralSettlement"),
                keccak256("1"),
                TVM_BLOCK_CHAINID,
                address(settlement)
            )
        );
        assertTrue(settlement.domainSeparator() != unmasked, "not the full chainid");
        (,,, uint256 chainId,,,) = settlement.eip712Domain();
        assertEq(chainId, TRON_CHAIN_ID, "eip712Domain reports the masked id");
    }

    function test_tronDomain_deployedOnTronAcceptsTip712Signature() public {
        vm.chainId(TVM_BLOCK_CHAINID);
        address[] memory allowed = new address[](1);
        Settlement s = new Settlement(_config(allowed));
        assertEq(s.domainSeparator(), EIP712Reference.domainSeparator(TRON_CHAIN_ID, address(s)), "cached masked");

        Registration memory r = _reg(alice, NATIVE, 100e6, 1);
        // a TIP-712 wallet signs with chainId = 0x2b6653dc
        bytes32 d = EIP712Reference.digest(EIP712Reference.domainSeparator(TRON_CHAIN_ID, address(s)), r.hash());
        bytes memory sig = _signDigest(SIGNER_KEY, d);
        vm.deal(alice, 100e6);
        vm.prank(alice);
        s.register{value: 100e6}(r, sig);
        assertEq(address(s).balance, 100e6, "accepted on TRON");
    }

    function test_tronDomain_rejectsSignatureOverTheFullChainId() public {
        vm.chainId(TVM_BLOCK_CHAINID);
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes32 full = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ReferralSettlement"),
                keccak256("1"),
                TVM_BLOCK_CHAINID,
                address(settlement)
            )
        );
        bytes memory sig = _signDigest(SIGNER_KEY, EIP712Reference.digest(full, r.hash()));
        vm.deal(alice, 1 ether);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
    }

    function test_crossChainSignatureRejected() public {
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r); // signed for chain 31337
        vm.chainId(56);
        assertEq(settlement.domainSeparator(), EIP712Reference.domainSeparator(56, address(settlement)), "rebuilt");
        vm.deal(alice, 1 ether);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(alice);
        settlement.register{value: 1 ether}(r, sig);
    }

    function test_otherContractSignatureRejected() public {
        address[] memory allowed = new address[](1);
        Settlement twin = new Settlement(_config(allowed));
        Registration memory r = _reg(alice, NATIVE, 1 ether, 1);
        bytes memory sig = _sign(r); // for `settlement`
        vm.deal(alice, 1 ether);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(alice);
        twin.register{value: 1 ether}(r, sig);
    }

    // ───────────── malleability ─────────────

    function test_highSSignatureRejectedForEveryPayloadKind() public {
        _seed(NATIVE, 10 ether, 900);
        PayoutBatch memory b = _batch(NATIVE, _payouts2(alice, 1 ether, bob, 1 ether), 1);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(operator);
        settlement.executePayoutBatch(b, _highS(EIP712Reference.digest(_domain(), b.hash())));

        TreasuryTransfer memory tt = _tt(NATIVE, carol, 1 ether, 2);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(treasurer);
        settlement.transferTreasury(tt, _highS(EIP712Reference.digest(_domain(), tt.hash())));

        vm.roll(10);
        LiabilityRoot memory l = _liab(NATIVE, 1, 10 ether, 4);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(operator);
        settlement.commitLiabilities(l, _highS(EIP712Reference.digest(_domain(), l.hash())));

        Retopup memory t = _top(alice, NATIVE, 1 ether, 3);
        bytes memory tSig = _highS(EIP712Reference.digest(_domain(), t.hash()));
        vm.deal(alice, 1 ether);
        vm.expectRevert(Settlement.InvalidSignature.selector);
        vm.prank(alice);
        settlement.retopup{value: 1 ether}(t, tSig);
    }

    function _highS(bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_KEY, digest);
        return abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }
}
