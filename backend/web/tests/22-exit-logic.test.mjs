// The members' exit page's pure logic (src/exit/logic.js; contracts/EXIT.md §7), without browser or devnet:
// - a proof file (the API's `download=true` JSON) read into `exit`'s `ExitLeaf`, index and `SumNode[]`, which fold —
//   by an encoding of the test's own, SettlementExit.foldProof's byte for byte (viem's encodePacked) — to the tree's
//   root and total, and encode into `exit`'s calldata as the contract's ABI types it; malformed files refused in words;
//   a sales-plan proof (a 0x03 leaf, with `maturing`), which this exit contract cannot take, refused in words of its
//   own before anything is sent;
// - the build's contracts only: a proof naming the live contract or one it replaced is taken, any other contract, a
//   chain without a record, or a wallet on another chain is refused;
// - the payout batches since the commitment rebuilt from logs and calldata: entries checked against the log's
//   payoutsHash (EIP-712's array of Payout struct hashes, computed here with encodeAbiParameters), linked newest first
//   with `previous` the running hash keccak256(previous ‖ nonce ‖ payoutsHash) computed here independently, up to the
//   exit's `batchesToFold` (whole, or what a partial fold left), same-block batches of unknown order (TronLink) put in
//   the order the hash needs, a missing batch or a forged calldata refused, a call through another contract named;
//   chunks for several transactions;
// - reverts named in plain words from every shape a wallet gives them (EIP-1193 `data`, nested `data.data`, viem's
//   `cause`, a message), for each of the exit's and the Settlement's custom errors the page can meet, the claim
//   window's too (contracts/EXIT.md §13);
// - the claim window's figures: each claim's payout (due × min(1, custody/proven), rounded down, as SettlementExit's
//   `_share` — the same share whatever the order, never more than custody in all), the member's stage (claim, claimed,
//   payable, paid, missed, left) from the chain's reads, and a payout's recipient refused as the contract refuses it.
//   cd backend/web && node --test tests/22-exit-logic.test.mjs
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  concat,
  decodeFunctionData,
  encodeAbiParameters,
  encodeErrorResult,
  encodeFunctionData,
  encodePacked,
  getAddress,
  keccak256,
  numberToHex,
  stringToHex,
  toEventSelector,
} from "viem";
import { buildTree, proofJson } from "../src/lib/solvency.js";
import {
  ExitInputError,
  SalesLeafError,
  ZERO_HASH,
  batchLogOf,
  buildContracts,
  contractOfProof,
  executedBatch,
  foldChunks,
  foldPlan,
  fractionOf,
  memberStage,
  payoutsHash,
  readProof,
  recipientRefusal,
  revertDataOf,
  revertWords,
  shareOf,
  spanText,
  utcText,
} from "../src/exit/logic.js";

const artifact = (name) => JSON.parse(readFileSync(new URL(`../../../abi/artifacts/${name}.json`, import.meta.url), "utf8")).abi;
const SETTLEMENT = artifact("Settlement");
const EXIT = artifact("SettlementExit");
const fn = (abi, name) => abi.filter((x) => x.type === "function" && x.name === name);
const EXECUTE = fn(SETTLEMENT, "executePayoutBatch");
const ERRORS = [...SETTLEMENT, ...EXIT].filter((x) => x.type === "error");
const BATCH_TOPIC = toEventSelector(SETTLEMENT.find((x) => x.type === "event" && x.name === "PayoutBatchExecuted"));

const CHAIN = 31337;
const CONTRACT = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";
const OLD = "0x1111111111111111111111111111111111111111";
const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const addr = (n) => `0x${n.toString(16).padStart(40, "0")}`;
const NETWORKS = [
  { name: "devnet-anvil", chainId: CHAIN, settlement: CONTRACT, settlementTron: null, previous: [{ settlement: OLD, settlementTron: null }] },
  { name: "devnet-tron", chainId: 3448148188, settlement: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", settlementTron: "TX7cLPN5XdNGBzyF9ti4nsHCPZhq7qqJ7C", previous: [] },
];
const label = (id) => `chain ${id}`;

/** A real tree of a few members (the page's tree module), and one member's proof as the API serves it. */
function sampleTree(contract = CONTRACT) {
  const users = [3, 7, 11, 15].map((i) => addr(0xa000 + i));
  const salt = (u) => `0x${createHmac("sha256", "key").update(u).digest("hex")}`;
  const tree = buildTree({
    chainId: CHAIN,
    contract: contract.toLowerCase(),
    token: TOKEN.toLowerCase(),
    epoch: 9,
    leaves: users.map((user, i) => ({
      user,
      salt: salt(user),
      balances: { reserved: BigInt(i) * 7n, held: i === 2 ? 5n : 0n, pending: 1000n + BigInt(i), batched: 40n, claimable: 3n },
    })),
  });
  return tree;
}

/** SettlementExit.foldProof, written here from EXIT.md §11 and SOLVENCY.md with viem's encodePacked. */
function foldLikeTheContract(chainId, settlement, token, epoch, leaf, index, siblings) {
  let hash = keccak256(
    encodePacked(
      ["bytes1", "uint64", "address", "address", "uint64", "address", "uint128", "uint128", "uint128", "uint128", "uint128", "bytes32"],
      ["0x00", BigInt(chainId), settlement, token, BigInt(epoch), leaf.member, leaf.reserved, leaf.held, leaf.pending, leaf.batched, leaf.claimable, leaf.salt],
    ),
  );
  let sum = leaf.reserved + leaf.held + leaf.pending + leaf.batched + leaf.claimable;
  siblings.forEach((s, k) => {
    const right = (index >> BigInt(k)) & 1n;
    hash = keccak256(
      right
        ? encodePacked(["bytes1", "bytes32", "uint128", "bytes32", "uint128"], ["0x01", s.hash, s.sum, hash, sum])
        : encodePacked(["bytes1", "bytes32", "uint128", "bytes32", "uint128"], ["0x01", hash, sum, s.hash, s.sum]),
    );
    sum += s.sum;
  });
  return { root: hash, total: sum };
}

// ── the proof file ───────────────────────────────────────────────────────────────────────────────────────────────

test("a proof file becomes exit's ExitLeaf, index and SumNode[], which fold like SettlementExit.foldProof to the tree's root and total", () => {
  const tree = sampleTree();
  for (let i = 0; i < tree.leafCount; i++) {
    const json = { ...proofJson(tree, i, 1234), symbol: "USDT", decimals: 6, asset_id: 2 };
    const p = readProof(JSON.stringify(json));
    assert.equal(p.chainId, CHAIN);
    assert.equal(p.contract, CONTRACT);
    assert.equal(p.member.toLowerCase(), tree.leaves[i].user);
    assert.equal(p.leaf.member, p.member);
    assert.equal(p.epoch, 9n);
    assert.equal(p.asOfBlock, 1234n);
    assert.equal(p.symbol, "USDT");
    assert.equal(p.decimals, 6);
    const b = tree.leaves[i].balances;
    assert.deepEqual(
      [p.leaf.reserved, p.leaf.held, p.leaf.pending, p.leaf.batched, p.leaf.claimable],
      [b.reserved, b.held, b.pending, b.batched, b.claimable],
    );
    // What the exit counts: everything but claimable (EXIT.md §4).
    assert.equal(p.entitlement, b.reserved + b.held + b.pending + b.batched);
    assert.equal(p.value, p.entitlement + b.claimable);
    const folded = foldLikeTheContract(CHAIN, CONTRACT, TOKEN, 9n, p.leaf, p.index, p.siblings);
    assert.equal(folded.root, tree.root, `leaf ${i} folds to the root`);
    assert.equal(folded.total, tree.total, `leaf ${i} folds to the total`);
    // The arguments encode as the contract's ABI types them, and decode back the same.
    const data = encodeFunctionData({ abi: fn(EXIT, "exit"), functionName: "exit", args: [p.token, p.leaf, p.index, p.siblings, p.member] });
    const back = decodeFunctionData({ abi: fn(EXIT, "exit"), data });
    assert.deepEqual(back.args[1], { ...p.leaf, member: p.member });
    assert.equal(back.args[2], p.index);
    assert.deepEqual(back.args[3], p.siblings);
    encodeFunctionData({ abi: fn(EXIT, "previewExit"), functionName: "previewExit", args: [p.token, p.leaf, p.index, p.siblings] });
  }
});

test("a file that is no usable proof is refused, in words that say what is wrong", () => {
  const good = proofJson(sampleTree(), 1, 1234);
  const refused = (change, pattern) => {
    const json = typeof change === "function" ? change(structuredClone(good)) : change;
    assert.throws(() => readProof(typeof json === "string" ? json : JSON.stringify(json)), (e) => e instanceof ExitInputError && pattern.test(e.message), String(pattern));
  };
  refused("{not json", /not JSON/);
  refused("[1,2]", /no JSON object/);
  refused((p) => ({ ...p, version: "solvency/v0" }), /version/);
  refused((p) => ({ ...p, contract: "0x1234" }), /contract is not a 0x address/);
  refused((p) => ({ ...p, user: undefined }), /user is not a 0x address/);
  refused((p) => ({ ...p, epoch: 0 }), /epoch is 0/);
  refused((p) => ({ ...p, balances: { ...p.balances, held: "-1" } }), /balances\.held is not a whole amount/);
  refused((p) => ({ ...p, balances: { ...p.balances, pending: (1n << 128n).toString() } }), /balances\.pending is 2\^128 or more/);
  refused((p) => ({ ...p, balances: { ...p.balances, pending: ((1n << 128n) - 1n).toString() } }), /add up to 2\^128 or more/);
  refused((p) => ({ ...p, salt: "0x12" }), /salt is not 32 bytes/);
  refused((p) => ({ ...p, siblings: [...p.siblings, { hash: ZERO_HASH, sum: "0" }] }), /depth says 2 but it lists 3/);
  refused((p) => ({ ...p, siblings: p.siblings.map((s, i) => (i === 0 ? { ...s, sum: "x" } : s)) }), /sibling 0's sum/);
  refused((p) => ({ ...p, index: 4 }), /index 4 is outside a tree of 2 levels/);
  refused((p) => ({ ...p, depth: 33, siblings: Array(33).fill({ hash: ZERO_HASH, sum: "0" }) }), /no tree is deeper than 32/);
  // A malformed `maturing` is a malformed file, said as such (not as a sales-plan leaf).
  refused((p) => ({ ...p, balances: { ...p.balances, maturing: "1.5" } }), /balances\.maturing is not a whole amount/);
  refused((p) => ({ ...p, balances: { ...p.balances, maturing: null } }), /balances\.maturing is not a whole amount/);
  refused((p) => ({ ...p, balances: { ...p.balances, maturing: ((1n << 128n) - 1n).toString() } }), /add up to 2\^128 or more/);
});

test("a sales-plan proof (a 0x03 leaf, with maturing) is refused before anything is sent: this exit contract takes five-figure leaves", () => {
  // A real sales-plan tree: its proofs carry `maturing` (one of them 0: the key, not the value, makes the leaf 0x03).
  const users = [3, 7, 11].map((i) => addr(0xb000 + i));
  const salt = (u) => `0x${createHmac("sha256", "key").update(u).digest("hex")}`;
  const tree = buildTree({
    chainId: CHAIN,
    contract: CONTRACT.toLowerCase(),
    token: TOKEN.toLowerCase(),
    epoch: 9,
    leaves: users.map((user, i) => ({
      user,
      salt: salt(user),
      balances: { reserved: 0n, held: 0n, pending: 1000n + BigInt(i), batched: 0n, claimable: 3n, maturing: BigInt(i) * 60n },
    })),
  });
  for (let i = 0; i < tree.leafCount; i++) {
    const json = { ...proofJson(tree, i, 1234), symbol: "USDT", decimals: 6, asset_id: 2 };
    assert.ok("maturing" in json.balances);
    assert.throws(
      () => readProof(JSON.stringify(json)),
      (e) => e instanceof SalesLeafError && e instanceof ExitInputError && /exit with sales commissions is not available in this version of the contract/.test(e.message),
      `leaf ${i}`,
    );
    // Why: read as an ExitLeaf (the five figures), it would not fold to the tree's root — the contract would revert
    // with InvalidProof, as if the proof were altered.
    const five = structuredClone(json);
    delete five.balances.maturing;
    const p = readProof(JSON.stringify(five));
    assert.notEqual(foldLikeTheContract(CHAIN, CONTRACT, TOKEN, 9n, p.leaf, p.index, p.siblings).root, tree.root, `leaf ${i}: five figures do not fold`);
  }
  // A five-figure proof given `maturing: "0"` is a sales-plan proof too.
  const plain = proofJson(sampleTree(), 1, 1234);
  assert.throws(() => readProof({ ...plain, balances: { ...plain.balances, maturing: "0" } }), SalesLeafError);
  assert.equal(readProof(plain).member.toLowerCase(), plain.user);
});

// ── the build's contracts ────────────────────────────────────────────────────────────────────────────────────────

test("only a contract this build carries for the wallet's chain: the live one or one it replaced, never one the proof alone names", () => {
  assert.deepEqual(
    buildContracts(NETWORKS, CHAIN).map((c) => [c.settlement, c.live]),
    [
      [CONTRACT, true],
      [OLD, false],
    ],
  );
  assert.equal(buildContracts(NETWORKS, 56), null);
  const live = contractOfProof(NETWORKS, CHAIN, { chainId: CHAIN, contract: CONTRACT.toLowerCase() }, label);
  assert.ok(live.ok && live.contract.live && live.contract.settlement === CONTRACT);
  const replaced = contractOfProof(NETWORKS, CHAIN, { chainId: CHAIN, contract: OLD }, label);
  assert.ok(replaced.ok && !replaced.contract.live, "a replaced contract has its own exit");
  const other = contractOfProof(NETWORKS, CHAIN, { chainId: CHAIN, contract: addr(0xbad) }, label);
  assert.ok(!other.ok && /not one this page was built with/.test(other.why) && other.why.includes(CONTRACT), other.why);
  const elsewhere = contractOfProof(NETWORKS, 56, { chainId: 56, contract: CONTRACT }, label);
  assert.ok(!elsewhere.ok && /built without a Settlement contract on chain 56/.test(elsewhere.why));
  const wrongChain = contractOfProof(NETWORKS, 3448148188, { chainId: CHAIN, contract: CONTRACT }, label);
  assert.ok(!wrongChain.ok && /your wallet is on chain 3448148188/.test(wrongChain.why));
});

// ── the batches since the commitment ─────────────────────────────────────────────────────────────────────────────

const PAYOUT_TYPEHASH = keccak256(stringToHex("Payout(address recipient,uint256 amount)"));
/** The log's payoutsHash, computed here: keccak256 of the entries' EIP-712 struct hashes. */
const hashOfEntries = (payouts) =>
  keccak256(concat(payouts.map((p) => keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "address" }, { type: "uint256" }], [PAYOUT_TYPEHASH, p.recipient, p.amount])))));
/** The running hash, computed here: keccak256(previous ‖ nonce ‖ payoutsHash). */
const link = (previous, nonce, hash) => keccak256(encodePacked(["bytes32", "uint256", "bytes32"], [previous, nonce, hash]));

/** Executed batches as the chain holds them: each one's calldata and its PayoutBatchExecuted log. */
function executedOnChain(specs) {
  return specs.map(({ nonce, payouts, block, logIndex = 0, token = TOKEN }) => {
    const total = payouts.reduce((a, p) => a + p.amount, 0n);
    const input = encodeFunctionData({
      abi: EXECUTE,
      functionName: "executePayoutBatch",
      args: [{ token, total, payouts, nonce, deadline: 9_999_999_999n }, "0x1234"],
    });
    const hash = hashOfEntries(payouts);
    const raw = {
      topics: [BATCH_TOPIC, numberToHex(nonce, { size: 32 }), `0x${token.slice(2).toLowerCase().padStart(64, "0")}`],
      data: encodeAbiParameters(
        [{ type: "bytes32" }, { type: "uint256" }, { type: "uint256" }, { type: "uint256" }, { type: "uint256" }],
        [hash, total, BigInt(payouts.length), 0n, 0n],
      ),
      blockNumber: BigInt(block),
      logIndex,
      txid: `0x${nonce.toString(16).padStart(64, "a")}`,
    };
    return { raw, input, hash };
  });
}

const entries = (n, seed) => Array.from({ length: n }, (_, i) => ({ recipient: addr(0xc000 + seed * 16 + i), amount: BigInt(1000 * (seed + 1) + i) }));

test("payoutsHash is the contract's: keccak256 of the entries' EIP-712 struct hashes (empty list included)", () => {
  for (const n of [0, 1, 2, 5]) assert.equal(payoutsHash(entries(n, n)), hashOfEntries(entries(n, n)));
});

test("the batches since the commitment, rebuilt from logs and calldata, fold newest first with the running hash the exit waits for", () => {
  const specs = [
    { nonce: 501n, payouts: entries(3, 1), block: 100, logIndex: 4 },
    { nonce: 77n, payouts: entries(1, 2), block: 100, logIndex: 9 },
    { nonce: 900n, payouts: entries(4, 3), block: 130, logIndex: 0 },
  ];
  const chain = executedOnChain(specs);
  let head = ZERO_HASH;
  const links = [];
  for (const c of chain) {
    head = link(head, BigInt(c.raw.topics[1]), c.hash);
    links.push(head);
  }
  // The wallet may return logs in any order.
  const executed = [chain[2], chain[0], chain[1]].map((c) => executedBatch(batchLogOf(c.raw, BATCH_TOPIC), c.input, EXECUTE));
  const plan = foldPlan(executed, head);
  assert.deepEqual(
    plan.batches.map((b) => b.nonce),
    [900n, 77n, 501n],
    "newest first",
  );
  assert.deepEqual(
    plan.batches.map((b) => b.previous),
    [links[1], links[0], ZERO_HASH],
    "each with the running hash before it",
  );
  assert.equal(plan.batches[0].link, head);
  assert.equal(plan.entries, 8);
  assert.deepEqual(
    plan.batches[2].payouts,
    specs[0].payouts.map((p) => ({ ...p, recipient: getAddress(p.recipient) })),
  );
  // The argument encodes as foldBatches' FoldedBatch[].
  encodeFunctionData({ abi: fn(EXIT, "foldBatches"), functionName: "foldBatches", args: [TOKEN, plan.batches.map(({ previous, nonce, payouts }) => ({ previous, nonce, payouts }))] });

  // Someone folded the newest batch already: what is left ends at the link before it.
  const rest = foldPlan(executed, links[1]);
  assert.deepEqual(
    rest.batches.map((b) => b.nonce),
    [77n, 501n],
  );
  // Nothing to fold.
  assert.deepEqual(foldPlan(executed, ZERO_HASH).batches, []);

  // Chunks: in sending order, each newest first, a large batch alone.
  const chunks = foldChunks(plan.batches, 4);
  assert.deepEqual(
    chunks.map((c) => c.map((b) => b.nonce)),
    [[900n], [77n, 501n]],
  );
});

test("batches of one block whose order the node does not tell (TronLink's transaction infos) are put in the order the hash needs", () => {
  const specs = [
    { nonce: 3n, payouts: entries(2, 4), block: 50 },
    { nonce: 1n, payouts: entries(1, 5), block: 50 },
    { nonce: 2n, payouts: entries(2, 6), block: 50 },
    { nonce: 8n, payouts: entries(1, 7), block: 61 },
  ];
  const chain = executedOnChain(specs);
  // The real order in the block: 1, 2, 3 (then 8).
  let head = ZERO_HASH;
  for (const i of [1, 2, 0, 3]) head = link(head, specs[i].nonce, chain[i].hash);
  const executed = chain.map((c) => ({ ...executedBatch(batchLogOf(c.raw, BATCH_TOPIC), c.input, EXECUTE), logIndex: null }));
  assert.deepEqual(
    foldPlan(executed, head).batches.map((b) => b.nonce),
    [8n, 3n, 2n, 1n],
  );
});

test("a batch the node did not give, a forged calldata, another batch's calldata or a call through another contract: refused before anything is sent", () => {
  const specs = [
    { nonce: 10n, payouts: entries(2, 8), block: 70, logIndex: 1 },
    { nonce: 11n, payouts: entries(2, 9), block: 71, logIndex: 1 },
  ];
  const chain = executedOnChain(specs);
  const head = link(link(ZERO_HASH, 10n, chain[0].hash), 11n, chain[1].hash);
  const ok = chain.map((c) => executedBatch(batchLogOf(c.raw, BATCH_TOPIC), c.input, EXECUTE));
  assert.throws(() => foldPlan([ok[1]], head), /do not chain to .* your wallet's node did not give every batch/);
  // Calldata whose entries are not the ones the log hashed (a node lying about the transaction).
  const forged = encodeFunctionData({
    abi: EXECUTE,
    functionName: "executePayoutBatch",
    args: [{ token: TOKEN, total: 1n, payouts: [{ ...specs[0].payouts[0], amount: 1n }], nonce: 10n, deadline: 1n }, "0x"],
  });
  assert.throws(() => executedBatch(batchLogOf(chain[0].raw, BATCH_TOPIC), forged, EXECUTE), /do not hash to the payoutsHash/);
  assert.throws(() => executedBatch(batchLogOf(chain[0].raw, BATCH_TOPIC), chain[1].input, EXECUTE), /is of batch 11/);
  const viaSafe = encodeFunctionData({ abi: fn(EXIT, "openExit"), functionName: "openExit", args: [TOKEN] });
  assert.throws(() => executedBatch(batchLogOf(chain[0].raw, BATCH_TOPIC), viaSafe, EXECUTE), /not by calling executePayoutBatch on the contract itself/);
  // Another event is not a batch.
  assert.equal(batchLogOf({ ...chain[0].raw, topics: [ZERO_HASH, ...chain[0].raw.topics.slice(1)] }, BATCH_TOPIC), null);
});

// ── words ────────────────────────────────────────────────────────────────────────────────────────────────────────

test("reverts are found in every shape a wallet gives them and named in plain words", () => {
  const data = encodeErrorResult({ abi: ERRORS, errorName: "AlreadyExited", args: [TOKEN, addr(0xabc)] });
  for (const shape of [
    { code: 3, message: "execution reverted", data },
    { code: -32603, message: "Internal JSON-RPC error.", data: { code: 3, data } },
    { shortMessage: "reverted", cause: { cause: { data } } },
    { message: `execution reverted: custom error ${data}` },
    { error: { data: { data } } },
  ])
    assert.equal(revertDataOf(shape), data.toLowerCase(), JSON.stringify(shape));
  assert.equal(revertDataOf({ code: 4001, message: "User rejected the request." }), null);

  const words = (name, args) => revertWords(encodeErrorResult({ abi: ERRORS, errorName: name, args }), ERRORS, { amount: (v) => `${v} USDT` });
  const cases = [
    ["ExitNotDue", [TOKEN, 1_800_000_000n], /cannot be opened yet: it opens at 2027-01-15 08:00:00 UTC/],
    ["ExitOpen", [TOKEN], /already open/],
    ["ExitNotOpen", [TOKEN], /not open yet: open it first/],
    ["BatchesNotFolded", [TOKEN, ZERO_HASH], /must be folded first/],
    ["NothingToFold", [TOKEN], /nothing left to fold/],
    ["BatchNotInChain", [0n, ZERO_HASH, ZERO_HASH], /someone folded meanwhile/],
    ["AlreadyExited", [TOKEN, addr(0xabc)], /has already claimed \(or left\) this asset: a claim is made once/],
    ["InvalidProof", [ZERO_HASH, 5n, ZERO_HASH, 6n], /another epoch than the commitment the exit opened on/],
    ["SumOutOfRange", [1n << 128n], /malformed/],
    ["IndexOutOfRange", [9n, 2n], /outside a tree of 2 levels/],
    ["ProofTooDeep", [40n], /malformed/],
    ["NothingToExit", [TOKEN, addr(0xabc)], /Nothing is due/],
    ["ClaimWindowClosed", [TOKEN, 1_800_000_000n], /claim window closed on 2027-01-15 08:00:00 UTC: no claim can be made any more/],
    ["ClaimWindowOpen", [TOKEN, 1_800_000_000n], /claim window is open until 2027-01-15 08:00:00 UTC: payouts and the surplus can be sent only from then on/],
    ["NotClaimed", [TOKEN, addr(0xabc)], /No claim was made for 0x0000000000000000000000000000000000000aBc/],
    ["AlreadyPaid", [TOKEN, addr(0xabc)], /The claim of 0x0000000000000000000000000000000000000aBc is already paid: a claim is paid once/],
    ["SurplusAlreadyReturned", [TOKEN], /surplus was already returned to the Settlement's admin/],
    ["WrongSender", [addr(0xabc), addr(0xdef)], /Only the member .* may send their exit to another address/],
    ["ZeroAddress", [], /zero address/],
    ["SelfPayment", [], /Settlement or to the exit contract itself/],
    ["OutboundTransferFailed", [], /did not go through/],
    ["TokenNeverAllowed", [TOKEN], /never allowed the token/],
    ["InsufficientFunds", [1n, 2n], /holds 1 USDT where 2 USDT is needed/],
  ];
  for (const [name, args, pattern] of cases) {
    const w = words(name, args);
    assert.equal(w.name, name);
    assert.match(w.words, pattern, name);
  }
  assert.match(revertWords("0xdeadbeef", ERRORS).words, /cannot name \(0xdeadbeef\)/);
  // Every custom error the exit contract's ABI declares has its own words (none falls through to "The contract refused").
  for (const e of EXIT.filter((x) => x.type === "error")) {
    const args = e.inputs.map((i) => (i.type === "address" ? TOKEN : i.type === "bytes32" ? ZERO_HASH : 1n));
    assert.doesNotMatch(revertWords(encodeErrorResult({ abi: ERRORS, errorName: e.name, args }), ERRORS).words, /^The contract refused: /, `${e.name} is worded`);
  }
});

// ── the claim window ─────────────────────────────────────────────────────────────────────────────────────────────

test("each claim is paid due × min(1, custody/proven), rounded down: the same share in every order, never more than custody", () => {
  // EXIT.md §13's race: alice 120, bob 60, carol 120 claimed; custody 150 — each is paid half.
  const dues = [120n, 60n, 120n];
  const proven = dues.reduce((a, b) => a + b, 0n);
  assert.deepEqual(dues.map((d) => shareOf(d, 150n, proven)), [60n, 30n, 60n]);
  assert.deepEqual(fractionOf(150n, proven), { full: false, text: "50 %" });
  // Custody covers the claims: each is paid in full, the rest is surplus.
  assert.deepEqual(dues.map((d) => shareOf(d, 1000n, proven)), dues);
  assert.deepEqual(fractionOf(1000n, proven), { full: true, text: "100 %" });
  // Rounded down, at most one unit a claim; the sum never above custody.
  const odd = [1n, 1n, 1n];
  assert.deepEqual(odd.map((d) => shareOf(d, 2n, 3n)), [0n, 0n, 0n]);
  for (let i = 0; i < 200; i++) {
    const claims = Array.from({ length: 1 + (i % 7) }, (_, j) => BigInt(((i + 1) * 7919 * (j + 3)) % 100_003) + 1n);
    const all = claims.reduce((a, b) => a + b, 0n);
    const custody = (all * BigInt(i % 13)) / 10n;
    const paid = claims.map((d) => shareOf(d, custody, all));
    const total = paid.reduce((a, b) => a + b, 0n);
    assert.ok(total <= (custody < all ? custody : all), `paid ${total} of custody ${custody}, claims ${all}`);
    assert.ok((custody < all ? custody : all) - total < BigInt(claims.length), "the rounding's dust: under one unit a claim");
    for (const [j, d] of claims.entries()) assert.equal(paid[j], custody >= all ? d : (d * custody) / all);
  }
  // During the window, the preview of one who has not claimed counts their due: it can only fall as others claim.
  const ceiling = (due, custody, proven) => shareOf(due, custody, proven + due);
  assert.equal(ceiling(100n, 150n, 0n), 100n);
  assert.equal(ceiling(100n, 150n, 100n), 75n);
  assert.ok(ceiling(100n, 150n, 200n) < ceiling(100n, 150n, 100n));
});

test("the member's stage follows the chain: claim, claimed, payable, paid, missed; left and not open first", () => {
  const running = { closed: false };
  const closed = { closed: true };
  const none = { due: 0n, paid: false };
  const claimed = { due: 5n, paid: false };
  const paid = { due: 5n, paid: true };
  assert.equal(memberStage({ open: false, left: false, window: { closed: false }, claim: null }), "not_open");
  assert.equal(memberStage({ open: false, left: true, window: null, claim: null }), "left");
  assert.equal(memberStage({ open: true, left: true, window: running, claim: none }), "left");
  assert.equal(memberStage({ open: true, left: false, window: running, claim: none }), "claim");
  assert.equal(memberStage({ open: true, left: false, window: running, claim: null }), "claim");
  assert.equal(memberStage({ open: true, left: false, window: running, claim: claimed }), "claimed");
  assert.equal(memberStage({ open: true, left: false, window: closed, claim: claimed }), "payable");
  assert.equal(memberStage({ open: true, left: false, window: closed, claim: paid }), "paid");
  assert.equal(memberStage({ open: true, left: false, window: closed, claim: none }), "missed");
});

test("a payout's recipient is refused as the exit contract refuses it: zero, the Settlement or the exit, another's only from the member", () => {
  const member = addr(0xa1);
  const c = { member, sender: addr(0xb2), settlement: CONTRACT, exits: addr(0xe1) };
  assert.equal(recipientRefusal(member, c), null, "anyone may have the member's own address paid");
  assert.equal(recipientRefusal(member.toUpperCase().replace("0X", "0x"), c), null);
  assert.equal(recipientRefusal(addr(0xc3), c), "not_member");
  assert.equal(recipientRefusal(addr(0xc3), { ...c, sender: member }), null, "the member, elsewhere");
  assert.equal(recipientRefusal(addr(0), { ...c, sender: member }), "zero");
  assert.equal(recipientRefusal(CONTRACT.toLowerCase(), { ...c, sender: member }), "contract");
  assert.equal(recipientRefusal(addr(0xe1), { ...c, sender: member }), "contract");
});

test("figures in words: the share custody covers, the chain's time and spans", () => {
  assert.deepEqual(fractionOf(100n, 100n), { full: true, text: "100 %" });
  assert.deepEqual(fractionOf(150n, 100n), { full: true, text: "100 %" });
  assert.deepEqual(fractionOf(0n, 0n), { full: true, text: "100 %" });
  assert.deepEqual(fractionOf(875431n, 1_000_000n), { full: false, text: "87.5431 %" });
  assert.deepEqual(fractionOf(1n, 3n), { full: false, text: "33.333333 %" });
  assert.equal(utcText(0), "1970-01-01 00:00:00 UTC");
  assert.equal(spanText(86_400n), "1 day");
  assert.equal(spanText(14n * 86_400n), "14 days");
  assert.equal(spanText(3 * 3600 + 20 * 60 + 5), "3 hours 20 minutes");
  assert.equal(spanText(45), "45 seconds");
});
