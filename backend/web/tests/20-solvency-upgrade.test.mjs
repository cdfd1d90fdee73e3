// The proof of solvency after an upgrade (contracts/UPGRADES.md §7), without browser or devnet: what the build carries
// of a deployment record's `previous` (scripts/deployments.mjs: the contracts the deployment replaced, checked like
// `settlement`, and nothing new for a record without them), the API's list of contracts against the build's
// (`listedProblems`), how the contracts' latest commitments stand together (`judgeRound`: one round, its custody
// summed; a round being committed; a contract lagging past the maximum age; two totals for one block; a contract the
// API no longer lists; one that never allowed the token), and one member's proofs in every contract's tree merged
// (`mergeRound`, over lib/solvency.js's `verifyProof`: the round's custody, not one contract's, decides solvency; the
// same balances in every tree; a lowered balance in one tree is refused and named by its contract).
//   cd backend/web && node --test tests/20-solvency-upgrade.test.mjs
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DEPLOYMENTS_DIR, MAX_PREVIOUS, buildNetworks, deploymentsDirByEnvironment, networkOf } from "../scripts/deployments.mjs";
import { buildTree, proofJson, verifyProof } from "../src/lib/solvency.js";
import { judgeRound, listedProblems, mergeRound } from "../src/lib/solvency-round.js";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/** An address's TRON form (base58check of 0x41 ‖ its 20 bytes). */
function tronOf(hex) {
  const body = Buffer.from(`41${hex.slice(2)}`, "hex");
  const sha = (b) => createHash("sha256").update(b).digest();
  const bytes = Buffer.concat([body, sha(sha(body)).subarray(0, 4)]);
  let n = BigInt(`0x${bytes.toString("hex")}`);
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  return out;
}
const addr = (byte) => `0x${byte.repeat(20)}`;

// ── deployment records: `previous` ───────────────────────────────────────────────────────────────────────────────

test("a record's previous contracts: embedded checked and lower-cased, oldest first; a record without them carries what it always did", () => {
  const evm = JSON.parse(readFileSync(join(DEPLOYMENTS_DIR, "devnet-anvil.json"), "utf8"));
  const tron = JSON.parse(readFileSync(join(DEPLOYMENTS_DIR, "devnet-tron.json"), "utf8"));
  // Without `previous` (or with an empty list, or null): exactly the fields of before, no `previous` key.
  for (const previous of [undefined, [], null]) {
    const n = networkOf("devnet-anvil.json", { ...evm, previous });
    assert.deepEqual(Object.keys(n).sort(), ["chain_id", "name", "proof_max_age_blocks", "settlement", "settlement_base58"]);
  }
  // EVM: two replaced contracts, checksummed as referral-deploy writes them, T… form null.
  const a = "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B";
  const b = "0x1aD91ee08f21bE3dE0BA2ba6918E714dA6B45836";
  const n = networkOf("x.json", { ...evm, previous: [{ settlement: a, settlement_base58: null }, { settlement: b }] });
  assert.deepEqual(n.previous, [
    { settlement: a.toLowerCase(), settlement_base58: null },
    { settlement: b.toLowerCase(), settlement_base58: null },
  ]);
  // TRON: the T… form is required and must be the same contract's.
  const t = networkOf("t.json", { ...tron, previous: [{ settlement: a, settlement_base58: tronOf(a.toLowerCase()) }] });
  assert.deepEqual(t.previous, [{ settlement: a.toLowerCase(), settlement_base58: tronOf(a.toLowerCase()) }]);
  assert.equal(MAX_PREVIOUS, 4);
  const four = [1, 2, 3, 4].map((i) => ({ settlement: addr(`0${i}`), settlement_base58: null }));
  assert.equal(networkOf("x.json", { ...evm, previous: four }).previous.length, 4);

  const fails = (record, re, why) => assert.throws(() => networkOf("rec.json", record), re, why);
  for (const [why, previous, re] of [
    ["not a list", { settlement: a }, /^Error: rec\.json: previous is not a list/],
    ["five contracts", [...four, { settlement: addr("05") }], /previous lists 5 contracts; at most 4/],
    ["an entry that is no object", [a], /previous\[0\] is not a JSON object/],
    ["an entry that is no address", [{ settlement: "0x12" }], /previous\[0\]\.settlement is not a 0x address/],
    ["the zero address", [{ settlement: addr("00") }], /previous\[0\]\.settlement is the zero address/],
    ["the deployment's own contract", [{ settlement: evm.settlement }], /previous\[0\]\.settlement 0x[0-9a-f]{40} is the deployment's own settlement/],
    ["one contract twice", [{ settlement: a }, { settlement: a.toLowerCase() }], /previous\[1\]\.settlement 0x[0-9a-f]{40} is listed twice/],
    ["a T… form on an EVM chain", [{ settlement: a, settlement_base58: tronOf(a.toLowerCase()) }], /previous\[0\]\.settlement_base58 on chain 31337, which is not TRON's/],
  ])
    fails({ ...evm, previous }, re, why);
  for (const [why, previous, re] of [
    ["no T… form on TRON", [{ settlement: a }], /previous\[0\]\.settlement_base58 is not a T… address: undefined \(chain 3448148188 is TRON's\)/],
    ["the T… form of another contract", [{ settlement: a, settlement_base58: tronOf(b.toLowerCase()) }], /previous\[0\]\.settlement_base58 T\w+ is 0x1ad9[0-9a-f]+, not the previous\[0\]\.settlement 0xab58/],
    ["a bad checksum", [{ settlement: a, settlement_base58: `${tronOf(a.toLowerCase()).slice(0, -1)}1` }], /previous\[0\]\.settlement_base58 is not a T… address/],
    ["the live contract's T… form", [{ settlement: tron.settlement, settlement_base58: tron.settlement_base58 }], /is the deployment's own settlement/],
  ])
    fails({ ...tron, previous }, re, why);
});

test("WEB_DEPLOYMENTS_DIR: the build reads its records from another directory (a test's build of an upgraded deployment)", () => {
  assert.equal(deploymentsDirByEnvironment(""), DEPLOYMENTS_DIR);
  assert.equal(deploymentsDirByEnvironment(undefined), DEPLOYMENTS_DIR);
  const dir = mkdtempSync(join(tmpdir(), "deployments-"));
  try {
    assert.equal(deploymentsDirByEnvironment(` ${dir} `), dir);
    const evm = JSON.parse(readFileSync(join(DEPLOYMENTS_DIR, "devnet-anvil.json"), "utf8"));
    writeFileSync(join(dir, "devnet-anvil.json"), JSON.stringify({ ...evm, previous: [{ settlement: addr("ab"), settlement_base58: null }] }));
    const [n] = buildNetworks({ dir });
    assert.equal(n.name, "devnet-anvil");
    assert.deepEqual(n.previous, [{ settlement: addr("ab"), settlement_base58: null }]);
    // A bad previous names its file.
    writeFileSync(join(dir, "devnet-anvil.json"), JSON.stringify({ ...evm, previous: [{ settlement: evm.settlement }] }));
    assert.throws(() => buildNetworks({ dir }), new RegExp(`${dir}/devnet-anvil\\.json: previous\\[0\\]\\.settlement .* is the deployment's own settlement: a contract does not replace itself \\(deployments/README\\.md\\)`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ── the API's list against the build's ───────────────────────────────────────────────────────────────────────────

test("the API's list of contracts: only the build's, the live one the build's live one", () => {
  const live = addr("11");
  const old = addr("22");
  const build = { live, previous: [old] };
  assert.deepEqual(listedProblems(build, undefined), { ok: true, unknown: [], details: [] }, "an API from before upgrades lists none");
  assert.equal(listedProblems(build, [{ contract_hex: live.toUpperCase().replace("0X", "0x"), live: true }, { contract_hex: old, live: false }]).ok, true);
  assert.equal(listedProblems(build, [{ contract_hex: live, live: true }]).ok, true, "a replaced contract the API no longer lists: nothing wrong here");
  const stranger = listedProblems(build, [{ contract_hex: live, live: true }, { contract_hex: addr("33"), live: false }]);
  assert.equal(stranger.ok, false);
  assert.deepEqual(stranger.unknown, [addr("33")]);
  assert.match(stranger.details[0], /The server lists the contract 0x3333.*, which this page was not built with/);
  // A build without an upgrade: any second contract is one it does not carry.
  assert.deepEqual(listedProblems({ live, previous: [] }, [{ contract_hex: live, live: true }, { contract_hex: old, live: false }]).unknown, [old]);
  const swapped = listedProblems(build, [{ contract_hex: old, live: true }, { contract_hex: live, live: false }]);
  assert.equal(swapped.ok, false);
  assert.match(swapped.details.join(" "), /The server calls 0x2222.* the live contract; this page was built with 0x1111.* as the live one/);
});

// ── the round ────────────────────────────────────────────────────────────────────────────────────────────────────

const LIVE = addr("aa");
const OLD = addr("bb");
const OLDER = addr("cc");
const HEAD = 10_000n;
const MAX = 240n;
/** A contract's latest commitment (as read from the chain), live or replaced. */
const commitment = (contract, c = {}) => ({
  contract,
  live: contract === LIVE,
  listed: true,
  tokenEverAllowed: true,
  root: `0x${"00".repeat(32)}`,
  total: 1_000n,
  epoch: 5n,
  asOfBlock: 9_900n,
  commitBlock: 9_905n,
  custody: 0n,
  ...c,
});

test("one round on both contracts: custody summed against the one total; neither alone covers it", () => {
  const v = judgeRound([commitment(LIVE, { custody: 400n, epoch: 3n }), commitment(OLD, { custody: 600n, epoch: 60n })], HEAD, MAX);
  assert.equal(v.kind, "complete");
  assert.equal(v.asOfBlock, 9_900n);
  assert.equal(v.total, 1_000n);
  assert.equal(v.custody, 1_000n);
  assert.equal(v.solvent, true, "400 + 600 covers 1000, though neither contract alone does");
  assert.equal(v.age, 100n);
  assert.equal(v.stale, false);
  assert.deepEqual(v.members.map((c) => c.contract), [LIVE, OLD]);
  const short = judgeRound([commitment(LIVE, { custody: 400n }), commitment(OLD, { custody: 599n })], HEAD, MAX);
  assert.equal(short.kind, "complete");
  assert.equal(short.solvent, false);
  assert.equal(short.custody, 999n);
  // Old balances, committed everywhere: complete, but stale.
  const old = judgeRound([commitment(LIVE, { asOfBlock: 9_700n }), commitment(OLD, { asOfBlock: 9_700n })], HEAD, MAX);
  assert.equal(old.kind, "complete");
  assert.equal(old.stale, true);
  // Three contracts.
  const three = judgeRound([commitment(LIVE, { custody: 1n }), commitment(OLDER, { custody: 2n }), commitment(OLD, { custody: 997n })], HEAD, MAX);
  assert.equal(three.custody, 1_000n);
  assert.equal(three.solvent, true);
});

test("a round being committed: the contracts on different blocks is a split, not a verdict; past the maximum age it is stale", () => {
  // The old contract has not committed the live one's round yet.
  let v = judgeRound([commitment(LIVE, { asOfBlock: 9_960n }), commitment(OLD, { asOfBlock: 9_900n })], HEAD, MAX);
  assert.equal(v.kind, "split");
  assert.equal(v.asOfBlock, 9_960n, "the round is the newest block committed");
  assert.deepEqual(v.behind.map((c) => c.contract), [OLD]);
  assert.equal(v.lag, 100n);
  assert.equal(v.stale, false);
  // The other way round: the old contract has the newer round.
  v = judgeRound([commitment(LIVE, { asOfBlock: 9_900n }), commitment(OLD, { asOfBlock: 9_960n, total: 1_001n })], HEAD, MAX);
  assert.equal(v.kind, "split");
  assert.equal(v.total, 1_001n, "the round's total is that of the contract that holds it");
  assert.deepEqual(v.behind.map((c) => c.contract), [LIVE]);
  // The lagging contract's balances older than allowed: it is not being committed.
  v = judgeRound([commitment(LIVE, { asOfBlock: 9_960n }), commitment(OLD, { asOfBlock: 9_759n })], HEAD, MAX);
  assert.equal(v.kind, "stale");
  assert.equal(v.lag, 241n);
  // Right after the switch the live contract has committed nothing: a split while the round's first commitment is recent…
  v = judgeRound([commitment(LIVE, { epoch: 0n, asOfBlock: 0n, total: 0n, commitBlock: 0n }), commitment(OLD, { commitBlock: 9_950n })], HEAD, MAX);
  assert.equal(v.kind, "split");
  assert.equal(v.lag, 50n);
  // …stale once that is older than allowed.
  v = judgeRound([commitment(LIVE, { epoch: 0n, asOfBlock: 0n, total: 0n, commitBlock: 0n }), commitment(OLD, { commitBlock: 9_700n })], HEAD, MAX);
  assert.equal(v.kind, "stale");
});

test("two totals for one block are no round; nothing committed anywhere is none", () => {
  const v = judgeRound([commitment(LIVE), commitment(OLD, { total: 999n })], HEAD, MAX);
  assert.equal(v.kind, "conflict");
  assert.deepEqual(v.conflicts.map((c) => c.contract), [OLD]);
  const none = judgeRound([commitment(LIVE, { epoch: 0n, asOfBlock: 0n, total: 0n }), commitment(OLD, { epoch: 0n, asOfBlock: 0n, total: 0n })], HEAD, MAX);
  assert.equal(none.kind, "none");
});

test("a replaced contract the API no longer lists counts only when it committed the round; one that never allowed the token takes no part", () => {
  // Unlisted, on the round: its custody counts.
  let v = judgeRound([commitment(LIVE, { custody: 400n }), commitment(OLD, { custody: 600n, listed: false })], HEAD, MAX);
  assert.equal(v.kind, "complete");
  assert.equal(v.custody, 1_000n);
  // Unlisted, on an older round: not counted, and the round is complete without it (the sum only understates).
  v = judgeRound([commitment(LIVE, { custody: 400n }), commitment(OLD, { custody: 600n, listed: false, asOfBlock: 9_000n })], HEAD, MAX);
  assert.equal(v.kind, "complete");
  assert.equal(v.custody, 400n);
  assert.equal(v.solvent, false);
  assert.deepEqual(v.dropped.map((c) => c.contract), [OLD]);
  // Listed but on an older round: the round is not complete.
  v = judgeRound([commitment(LIVE, { custody: 400n }), commitment(OLD, { custody: 600n, asOfBlock: 9_000n })], HEAD, MAX);
  assert.equal(v.kind, "stale");
  // Never allowed the token: no commitment can be there, and it is left out.
  v = judgeRound([commitment(LIVE, { custody: 1_000n }), commitment(OLD, { tokenEverAllowed: false, epoch: 0n, asOfBlock: 0n, total: 0n })], HEAD, MAX);
  assert.equal(v.kind, "complete");
  assert.deepEqual(v.idle.map((c) => c.contract), [OLD]);
  assert.equal(v.solvent, true);
});

// ── one member's proofs in every tree, merged ────────────────────────────────────────────────────────────────────

const CHAIN_ID = 31337;
const TOKEN = addr("7a");
const USER = addr("5e");
const OTHERS = [addr("01"), addr("02"), addr("03")];
const mine = { reserved: 0n, held: 5n, pending: 12n, batched: 0n, claimable: 1n };
const salt = (i) => `0x${(i + 1).toString(16).padStart(64, "0")}`;

/** A contract's tree of one round (its own epoch), the member's proof in it and its commitment "read from the chain". */
function treeOn(contract, epoch, { balances = mine, custody } = {}) {
  const leaves = [
    { user: USER, balances, salt: salt(9) },
    // The others' leaves of the member's kind: a sales-plan tree's leaves all have `maturing` (one asset, one plan).
    ...OTHERS.map((user, i) => ({
      user,
      balances: { reserved: 0n, held: BigInt(100 * (i + 1)), pending: 0n, batched: 0n, claimable: 0n, ...("maturing" in balances ? { maturing: 0n } : {}) },
      salt: salt(i),
    })),
  ];
  const tree = buildTree({ chainId: CHAIN_ID, contract, token: TOKEN, epoch, leaves });
  const proof = proofJson(tree, tree.leaves.findIndex((l) => l.user === USER), 9_900);
  const chain = {
    root: tree.root,
    total: tree.total,
    epoch: BigInt(epoch),
    asOfBlock: 9_900n,
    commitBlock: 9_905n,
    custody,
    headBlock: HEAD,
    maxAgeBlocks: MAX,
    chainId: CHAIN_ID,
    contract,
    token: TOKEN,
    tokenEverAllowed: true,
    user: USER,
  };
  return { tree, proof, chain };
}
const part = (contract, t, proof = t.proof) => ({
  contract,
  live: contract === LIVE,
  balances: Object.fromEntries(Object.entries(proof.balances).map(([k, v]) => [k, BigInt(v)])),
  result: verifyProof(proof, t.chain),
});
const verdictOf = (...ts) => judgeRound(ts.map(([contract, t]) => commitment(contract, { root: t.tree.root, total: t.tree.total, epoch: BigInt(t.tree.epoch), custody: t.chain.custody })), HEAD, MAX);

test("the member's proofs on both contracts: each against its own root, solvency on the custody together", () => {
  const live = treeOn(LIVE, 2, { custody: 300n });
  const old = treeOn(OLD, 61, { custody: 318n });
  assert.notEqual(live.tree.root, old.tree.root, "a leaf names its contract: two roots");
  assert.equal(live.tree.total, 618n);
  const verdict = verdictOf([LIVE, live], [OLD, old]);
  assert.equal(verdict.kind, "complete");
  // Each alone: its own custody is below the total, so lib/solvency.js's own verdict says not solvent.
  assert.equal(verifyProof(live.proof, live.chain).solvent, false);
  const r = mergeRound([part(LIVE, live), part(OLD, old)], verdict);
  assert.equal(r.ok, true, JSON.stringify(r.checks.filter((c) => !c.ok)));
  assert.equal(r.solvent, true);
  assert.equal(r.leafValue, 18n);
  const solvent = r.checks.filter((c) => c.id === "solvent");
  assert.equal(solvent.length, 1, "one solvent check, the round's");
  assert.equal(solvent[0].contract, null);
  assert.match(solvent[0].detail, /^The custody of both contracts together, 618 \(0xaaaa.*: 300, 0xbbbb.*: 318\), read when each committed the round of block 9900, covers the 618 owed to all users\.$/);
  assert.ok(r.checks.some((c) => c.id === "balances" && c.ok));
  assert.deepEqual([...new Set(r.checks.filter((c) => c.id === "root").map((c) => c.contract))], [LIVE, OLD], "each contract's root checked");
  // Short of the total together: insolvent (information only: the proofs themselves passed).
  const poor = mergeRound([part(LIVE, live), part(OLD, treeOn(OLD, 61, { custody: 317n }))], verdictOf([LIVE, live], [OLD, treeOn(OLD, 61, { custody: 317n })]));
  assert.equal(poor.solvent, false);
  assert.equal(poor.ok, true);
  assert.match(poor.checks.find((c) => c.id === "solvent").detail, /^INSOLVENT: the custody of both contracts together, 617 .*\(short by 1\)\.$/);
});

test("a lowered balance in the replaced contract's tree is refused and named by its contract; a proof of the live tree served for the old contract too", () => {
  const live = treeOn(LIVE, 2, { custody: 618n });
  const old = treeOn(OLD, 61, { custody: 0n });
  const verdict = verdictOf([LIVE, live], [OLD, old]);
  const lowered = structuredClone(old.proof);
  lowered.balances.pending = "11";
  const r = mergeRound([part(LIVE, live), part(OLD, old, lowered)], verdict);
  assert.equal(r.ok, false);
  const failed = r.checks.filter((c) => !c.ok && !c.info);
  assert.ok(failed.some((c) => c.id === "root" && c.contract === OLD), "the old tree's root");
  assert.ok(failed.some((c) => c.id === "balances" && c.contract === null), "not the same balances as in the live tree");
  assert.ok(!failed.some((c) => c.contract === LIVE), "the live tree's proof still passes");
  // The live contract's proof served as the old one's: another contract than the one read.
  const swapped = mergeRound([part(LIVE, live), part(OLD, old, live.proof)], verdict);
  assert.ok(swapped.checks.some((c) => c.id === "contract" && !c.ok && c.contract === OLD));
});

test("a tree of the replaced contract holding other balances for the member (a valid tree, but not the same snapshot) is refused", () => {
  const live = treeOn(LIVE, 2, { custody: 700n });
  const other = treeOn(OLD, 61, { custody: 0n, balances: { ...mine, pending: 2n, held: 15n } });
  // Both trees hold together and total the same; only the member's split of the figures differs.
  assert.equal(other.tree.total, live.tree.total);
  const r = mergeRound([part(LIVE, live), part(OLD, other)], verdictOf([LIVE, live], [OLD, other]));
  assert.equal(r.ok, false);
  const balances = r.checks.find((c) => c.id === "balances");
  assert.equal(balances.ok, false);
  assert.match(balances.detail, /the tree of 0xbbbb.* holds held 15, pending 2 where that of 0xaaaa.* holds held 5, pending 12/);
  assert.ok(r.checks.filter((c) => c.id === "root").every((c) => c.ok), "each proof folds to its own root");
});

test("on the sales plan the trees of a round hold the same maturing too; a 0x03 leaf in one tree and a 0x00 in another differ", () => {
  const six = { ...mine, maturing: 40n };
  const live = treeOn(LIVE, 2, { custody: 700n, balances: six });
  const old = treeOn(OLD, 61, { custody: 0n, balances: six });
  assert.equal(live.proof.balances.maturing, "40");
  const same = mergeRound([part(LIVE, live), part(OLD, old)], verdictOf([LIVE, live], [OLD, old]));
  assert.equal(same.ok, true, JSON.stringify(same.checks.filter((c) => !c.ok)));
  assert.equal(same.leafValue, 58n, "the six figures' sum");
  // Another maturing in the old tree (a valid tree of other figures): refused, and named.
  const less = treeOn(OLD, 61, { custody: 0n, balances: { ...six, maturing: 10n, pending: 42n } });
  const r = mergeRound([part(LIVE, live), part(OLD, less)], verdictOf([LIVE, live], [OLD, less]));
  const balances = r.checks.find((c) => c.id === "balances");
  assert.equal(balances.ok, false);
  assert.match(balances.detail, /holds pending 42, maturing 10 where that of 0xaaaa.* holds pending 12, maturing 40/);
  // The old tree's leaf without `maturing` (a 0x00 leaf of the same five figures): not the same leaf.
  const five = treeOn(OLD, 61, { custody: 0n, balances: mine });
  const r5 = mergeRound([part(LIVE, live), part(OLD, five)], verdictOf([LIVE, live], [OLD, five]));
  const b5 = r5.checks.find((c) => c.id === "balances");
  assert.equal(b5.ok, false);
  assert.match(b5.detail, /holds maturing — where that of 0xaaaa.* holds maturing 40/);
});
