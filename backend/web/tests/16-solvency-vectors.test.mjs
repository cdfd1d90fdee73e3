// The proof of solvency's tree and its verifier (SOLVENCY.md, solvency/v1), without browser or devnet: the golden
// vectors are current and agree with a second, independent encoding (viem's encodePacked, as Solidity's
// abi.encodePacked); every proof of every case verifies against its case's root and total as the chain's
// commitment; and the tamper suite is refused, each by the check that names why: a user left out, a lowered
// balance, the max(vL, vR) sibling, a sum ≥ 2^128, a swapped order, a stale root or commitment (old liabilities,
// however recently committed), a root served only by the API, a proof of another chain, contract or token or one the
// API names another contract for, a token the contract never allowed, malformed proofs; while an insolvency is
// reported apart (ok, but not solvent). Also what the build carries from the deployment records
// (scripts/deployments.mjs: the devnet's records name the addresses its deployer's nonces give) and the decoder of
// the contract's pending changes (src/lib/solvency-changes.js) against viem's encoder. The sales plan's leaves (0x03,
// a sixth figure `maturing` after `claimable`) too: their vectors, their encoding, and a 0x03 proof read as a 0x00 one
// (its `maturing` dropped), a lowered `maturing`, or a 0x00 proof given `maturing: "0"`, each refused.
//   cd backend/web && node --test tests/16-solvency-vectors.test.mjs
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { encodeAbiParameters, encodeFunctionResult, encodePacked, getContractAddress, keccak256, stringToHex } from "viem";
import { U128_LIMIT, buildTree, leafHash, leafValue, paddingHash, parentHash, parentNode, proofJson, verifyProof } from "../src/lib/solvency.js";
import { decodePendingChanges } from "../src/lib/solvency-changes.js";
import { SPEC, VECTORS_PATH, buildVectors, hmacSalt, renderVectors } from "../scripts/solvency-vectors.mjs";
import { DEPLOYMENTS_DIR, buildNetworks, chosenByEnvironment } from "../scripts/deployments.mjs";

const KEYS = ["reserved", "held", "pending", "batched", "claimable"];
/** A sales-plan leaf's figures (tag 0x03): the five, then `maturing`. */
const SALES_KEYS = [...KEYS, "maturing"];
/** The figures a vector user's leaf commits to: the six when the user has `maturing` (whatever its value). */
const keysOf = (u) => ("maturing" in u ? SALES_KEYS : KEYS);
const SALES_CASES = ["sales-three-users", "sales-total-max-u128", "sales-one-user"];
/** `pendingChanges()` as the contract's build declares it (abi/artifacts, the page's generated types' source). */
const settlementPendingChangesAbi = JSON.parse(readFileSync(new URL("../../../abi/artifacts/Settlement.json", import.meta.url), "utf8")).abi.filter(
  (x) => x.type === "function" && x.name === "pendingChanges",
);
const AS_OF = 1_000;
const COMMIT_BLOCK = 1_010;
const MAX_AGE = 1_200;

const vectors = JSON.parse(readFileSync(VECTORS_PATH, "utf8"));
const caseNamed = (name) => {
  const c = vectors.cases.find((x) => x.name === name);
  assert.ok(c, `case ${name}`);
  return c;
};
const balancesOf = (u) => Object.fromEntries(keysOf(u).map((k) => [k, BigInt(u[k])]));
const flip = (n) => (n % 2 === 0 ? n + 1 : n - 1);
const clone = (x) => JSON.parse(JSON.stringify(x));

/** The API's proof JSON of the vector case's i-th user (input order), made from the vector file alone. */
function vectorProof(c, i) {
  const u = c.users[i];
  const p = c.proofs[i];
  assert.equal(p.user, u.user);
  return {
    version: "solvency/v1",
    chain_id: c.chain_id,
    contract: c.contract,
    token: c.token,
    epoch: c.epoch,
    as_of_block: AS_OF,
    user: u.user,
    balances: Object.fromEntries(keysOf(u).map((k) => [k, u[k]])),
    salt: u.salt,
    index: p.index,
    depth: c.depth,
    leaf_count: c.leaf_count,
    siblings: p.siblings,
    root: c.root,
    total: c.total,
  };
}

/** The chain's commitment of a tree (or a vector case), read "from the chain", with the verifier's context. */
function chainOf(t, extra = {}) {
  const total = BigInt(t.total);
  return {
    root: t.root,
    total,
    epoch: BigInt(t.epoch),
    asOfBlock: BigInt(AS_OF),
    commitBlock: BigInt(COMMIT_BLOCK),
    custody: total,
    headBlock: BigInt(COMMIT_BLOCK),
    maxAgeBlocks: BigInt(MAX_AGE),
    ...extra,
  };
}

/** The vector case's inputs, as buildTree takes them (optionally changed), to rebuild or tamper with its tree. */
function inputsOf(c, { epoch = c.epoch, users = c.users } = {}) {
  return {
    chainId: c.chain_id,
    contract: c.contract,
    token: c.token,
    epoch,
    leaves: users.map((u) => ({
      user: u.user,
      balances: balancesOf(u),
      salt: epoch === c.epoch ? u.salt : hmacSalt(c.salt_key, c.chain_id, c.token, epoch, u.user),
    })),
  };
}

const proofOfUser = (tree, user) => proofJson(tree, tree.leaves.findIndex((l) => l.user === user), AS_OF);

/** Asserts the verdict is a refusal and that the named check is among the failed ones. */
function refused(result, id, why) {
  assert.equal(result.ok, false, `${why}: must be refused`);
  const check = result.checks.find((c) => c.id === id);
  assert.ok(check, `${why}: a "${id}" check (got ${result.checks.map((c) => `${c.id}:${c.ok}`).join(" ")})`);
  assert.equal(check.ok, false, `${why}: the "${id}" check fails`);
  assert.ok(check.detail.length > 20, `${why}: the "${id}" check says why`);
  return check;
}
const checkOf = (result, id) => result.checks.find((c) => c.id === id);

// ── the vectors ──────────────────────────────────────────────────────────────────────────────────────────────────

test("the vector file is current: equal to what the generator computes now", () => {
  assert.ok(existsSync(VECTORS_PATH), VECTORS_PATH);
  assert.equal(readFileSync(VECTORS_PATH, "utf8"), renderVectors(), "run `cd backend/web && node scripts/solvency-vectors.mjs`");
  assert.deepEqual(vectors, buildVectors());
  assert.equal(vectors.spec, SPEC);
  const names = vectors.cases.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, "case names are unique");
  // The cases asked for.
  const sizes = vectors.cases.map((c) => [c.leaf_count, c.depth, c.chain_id]);
  for (const want of [[1, 0], [3, 2], [5, 3], [8, 3], [9, 4]]) assert.ok(sizes.some(([n, d]) => n === want[0] && d === want[1]), `a case of ${want[0]} users, depth ${want[1]}`);
  assert.ok(vectors.cases.some((c) => c.chain_id === 31337 && c.token === "0x0000000000000000000000000000000000000000" && c.leaf_count === 3));
  assert.ok(vectors.cases.some((c) => c.chain_id === 3448148188 && c.leaf_count === 9 && c.token !== "0x0000000000000000000000000000000000000000"));
  assert.equal(BigInt(caseNamed("five-users-total-max-u128").total), U128_LIMIT - 1n);
  const mixed = caseNamed("zero-and-nonzero-mixed").users.map((u) => u.value);
  assert.ok(mixed.includes("0") && mixed.some((v) => v !== "0"));
  assert.ok(caseNamed("one-user-all-zero").users.every((u) => KEYS.every((k) => u[k] === "0")));
  // The sales plan's cases: every user of theirs has `maturing`, nobody else's does; one has maturing 0; the sixth
  // figure takes a total to exactly 2^128 − 1; a single 0x03 leaf is a root.
  for (const c of vectors.cases) {
    const sales = SALES_CASES.includes(c.name);
    assert.equal(c.name.startsWith("sales-"), sales, c.name);
    for (const u of c.users) assert.equal("maturing" in u, sales, `${c.name}: ${u.user} ${sales ? "has" : "has no"} maturing`);
  }
  const three = caseNamed("sales-three-users");
  assert.equal(three.chain_id, 56);
  assert.notEqual(three.token, "0x0000000000000000000000000000000000000000");
  assert.equal(three.leaf_count, 3);
  assert.ok(three.users.some((u) => u.maturing === "0") && three.users.some((u) => u.maturing !== "0"));
  const max = caseNamed("sales-total-max-u128");
  assert.equal(BigInt(max.total), U128_LIMIT - 1n);
  assert.ok(max.users.reduce((s, u) => s + KEYS.reduce((t, k) => t + BigInt(u[k]), 0n), 0n) < U128_LIMIT - 1n, "the five alone fall short");
  const one = caseNamed("sales-one-user");
  assert.deepEqual([one.leaf_count, one.depth, one.root], [1, 0, one.users[0].leaf]);
});

test("the vectors agree with an independent encoding (encodePacked, as Solidity's abi.encodePacked)", () => {
  const hex32 = /^0x[0-9a-f]{64}$/;
  const dec = /^(0|[1-9][0-9]*)$/;
  for (const c of vectors.cases) {
    const why = c.name;
    assert.match(c.contract, /^0x[0-9a-f]{40}$/, why);
    assert.match(c.token, /^0x[0-9a-f]{40}$/, why);
    assert.match(c.salt_key, hex32, why);
    assert.equal(c.leaf_count, c.users.length, why);
    assert.equal(c.depth, c.leaf_count <= 1 ? 0 : Math.ceil(Math.log2(c.leaf_count)), why);
    assert.ok(2 ** c.depth >= c.leaf_count && (c.depth === 0 || 2 ** (c.depth - 1) < c.leaf_count), why);
    const leaves = c.users.map((u) => {
      assert.match(u.user, /^0x[0-9a-f]{40}$/, why);
      const keys = keysOf(u);
      for (const k of [...keys, "value"]) assert.match(u[k], dec, `${why} ${k}`);
      const saltMsg = encodePacked(["string", "uint64", "address", "uint64", "address"], ["solvency/v1", BigInt(c.chain_id), c.token, BigInt(c.epoch), u.user]);
      assert.equal(hexToBuffer(saltMsg).length, 11 + 8 + 20 + 8 + 20);
      const salt = "0x" + createHmac("sha256", hexToBuffer(c.salt_key)).update(hexToBuffer(saltMsg)).digest("hex");
      assert.equal(u.salt, salt, `${why}: salt of ${u.user}`);
      const value = keys.reduce((s, k) => s + BigInt(u[k]), 0n);
      assert.ok(value < U128_LIMIT);
      assert.equal(u.value, value.toString(), `${why}: value of ${u.user}`);
      // 0x00 and five u128 (189 bytes), or a sales-plan leaf's 0x03 and six (205 bytes).
      const sales = keys === SALES_KEYS;
      const packed = encodePacked(
        ["uint8", "uint64", "address", "address", "uint64", "address", ...keys.map(() => "uint128"), "bytes32"],
        [sales ? 3 : 0, BigInt(c.chain_id), c.contract, c.token, BigInt(c.epoch), u.user, ...keys.map((k) => BigInt(u[k])), u.salt],
      );
      assert.equal(hexToBuffer(packed).length, sales ? 205 : 189);
      assert.equal(u.leaf, keccak256(packed), `${why}: leaf of ${u.user}`);
      // The module's own leaf hash agrees.
      assert.equal(leafHash({ chainId: c.chain_id, contract: c.contract, token: c.token, epoch: c.epoch, user: u.user, balances: balancesOf(u), salt: u.salt }), u.leaf);
      return { hash: u.leaf, sum: value };
    });
    // levels[0]: the leaves ascending by hash as uint256, then the padding.
    const sorted = [...leaves].sort((a, b) => (BigInt(a.hash) < BigInt(b.hash) ? -1 : 1));
    for (let i = c.leaf_count; i < 2 ** c.depth; i++) {
      const pad = keccak256(encodePacked(["uint8", "uint64", "address", "uint64", "uint32"], [2, BigInt(c.chain_id), c.token, BigInt(c.epoch), i]));
      assert.equal(pad, paddingHash(c.chain_id, c.token, c.epoch, i));
      sorted.push({ hash: pad, sum: 0n });
    }
    assert.equal(c.levels.length, c.depth + 1, why);
    assert.deepEqual(c.levels[0], sorted.map((n) => ({ hash: n.hash, sum: n.sum.toString() })), `${why}: level 0`);
    for (let k = 1; k <= c.depth; k++) {
      const below = c.levels[k - 1];
      assert.equal(c.levels[k].length, below.length / 2, `${why}: level ${k}'s width`);
      c.levels[k].forEach((n, j) => {
        const [l, r] = [below[2 * j], below[2 * j + 1]];
        const hash = keccak256(encodePacked(["uint8", "bytes32", "uint128", "bytes32", "uint128"], [1, l.hash, BigInt(l.sum), r.hash, BigInt(r.sum)]));
        assert.equal(n.hash, hash, `${why}: level ${k} node ${j}`);
        assert.equal(BigInt(n.sum), BigInt(l.sum) + BigInt(r.sum), `${why}: level ${k} node ${j}'s sum`);
        assert.ok(BigInt(n.sum) < U128_LIMIT);
      });
    }
    const top = c.levels[c.depth];
    assert.equal(top.length, 1);
    assert.deepEqual(top[0], { hash: c.root, sum: c.total }, `${why}: the last level is [root]`);
    if (c.leaf_count === 1) assert.equal(c.root, c.users[0].leaf, "a single leaf is the root");
    if (c.leaf_count === 0) assert.equal(c.root, paddingHash(c.chain_id, c.token, c.epoch, 0), "no users: the root is padding(0)");
    // Proofs: one per user, in input order, the siblings bottom-up.
    assert.equal(c.proofs.length, c.users.length, why);
    c.proofs.forEach((p, i) => {
      assert.equal(p.user, c.users[i].user);
      assert.equal(c.levels[0][p.index].hash, c.users[i].leaf, `${why}: ${p.user}'s index`);
      assert.equal(p.siblings.length, c.depth);
      p.siblings.forEach((s, k) => assert.deepEqual(s, c.levels[k][flip(Math.floor(p.index / 2 ** k))], `${why}: ${p.user}'s sibling ${k}`));
    });
  }
});

function hexToBuffer(h) {
  return Buffer.from(h.slice(2), "hex");
}

test("every proof of every case verifies against its case's root and total as the chain's commitment", () => {
  let n = 0;
  for (const c of vectors.cases) {
    c.users.forEach((u, i) => {
      const proof = vectorProof(c, i);
      const extra = {
        chainId: c.chain_id,
        contract: c.contract,
        token: c.token,
        tokenEverAllowed: true,
        servedContract: c.contract,
        user: u.user,
        leafCount: c.leaf_count,
        balances: balancesOf(u),
      };
      const r = verifyProof(proof, chainOf(c, extra));
      assert.equal(r.ok, true, `${c.name} ${u.user}: ${JSON.stringify(r.checks.filter((x) => !x.ok))}`);
      assert.ok(r.checks.every((x) => x.ok), `${c.name}: every check passes`);
      assert.deepEqual(
        r.checks.map((x) => x.id),
        ["format", "range", "shape", "contract", "allowed", "context", "fold", "layout", "root", "total", "epoch", "fresh", "served", "solvent"],
      );
      assert.equal(r.computedRoot, c.root);
      assert.equal(r.computedTotal, BigInt(c.total));
      assert.equal(r.leafValue, BigInt(u.value));
      assert.equal(r.solvent, true);
      assert.equal(r.stale, false);
      // Without the optional context too, and with checksummed (mixed-case) addresses.
      const mixed = { ...proof, user: u.user.replace(/[a-f]/g, (x) => x.toUpperCase()).replace(/^0X/, "0x") };
      assert.equal(verifyProof(mixed, chainOf(c)).ok, true);
      n++;
    });
  }
  assert.equal(n, vectors.cases.reduce((s, c) => s + c.users.length, 0));
  assert.ok(n >= 30);
  // The module's builder gives the same proofs (proofJson) as the vector file, `maturing` included on the sales plan.
  for (const name of ["nine-users-tron-nile-token", ...SALES_CASES]) {
    const c = caseNamed(name);
    const tree = buildTree(inputsOf(c));
    c.users.forEach((u, i) => assert.deepEqual(proofOfUser(tree, u.user), vectorProof(c, i), name));
  }
});

// ── the sales plan's 0x03 leaves ─────────────────────────────────────────────────────────────────────────────────

test("a 0x03 leaf read as a 0x00 one, a lowered maturing, and a 0x00 leaf given maturing 0 are refused", () => {
  let checked = 0;
  for (const name of SALES_CASES) {
    const c = caseNamed(name);
    c.users.forEach((u, i) => {
      const good = vectorProof(c, i);
      assert.equal(verifyProof(good, chainOf(c)).ok, true, `${name} ${i}: the true proof`);
      // `maturing` dropped: the same five figures hashed as a 0x00 leaf (what a five-component reader computes), and
      // a value short by the maturing part. Never this tree's leaf, even where maturing is 0.
      const five = clone(good);
      delete five.balances.maturing;
      const r = refused(verifyProof(five, chainOf(c)), "root", `${name} ${i}: maturing removed`);
      assert.ok(r.detail.length > 0);
      if (u.maturing !== "0") refused(verifyProof(five, chainOf(c)), "total", `${name} ${i}: maturing removed`);
      const fiveOnly = Object.fromEntries(KEYS.map((k) => [k, BigInt(u[k])]));
      assert.notEqual(leafHash({ chainId: c.chain_id, contract: c.contract, token: c.token, epoch: c.epoch, user: u.user, balances: fiveOnly, salt: u.salt }), u.leaf);
      // `maturing` lowered by one unit (or, at 0, raised: both change the leaf and the sum).
      const lowered = clone(good);
      lowered.balances.maturing = u.maturing === "0" ? "1" : (BigInt(u.maturing) - 1n).toString();
      const rl = verifyProof(lowered, chainOf(c));
      if (u.maturing !== "0") {
        refused(rl, "root", `${name} ${i}: maturing lowered`);
        if (c.depth > 0) refused(rl, "total", `${name} ${i}: maturing lowered`);
      } else {
        // One unit more: under a total of 2^128 − 1 the fold itself overflows, elsewhere the root differs.
        assert.equal(rl.ok, false, `${name} ${i}: maturing raised`);
        assert.ok(checkOf(rl, "fold").ok === false || checkOf(rl, "root")?.ok === false, `${name} ${i}: maturing raised`);
      }
      // Checked against the balances the verifier expects, a dropped maturing is named as such.
      const ctx = refused(verifyProof(five, chainOf(c, { balances: balancesOf(u) })), "context", `${name} ${i}: five shown against six`);
      assert.match(ctx.detail, /maturing: — in the proof/);
      checked++;
    });
  }
  assert.ok(checked >= 7);
  // A 0x00 proof given `maturing: "0"`: the key alone makes it a 0x03 leaf, which this tree does not hold.
  for (const name of ["three-users-anvil-native", "nine-users-tron-nile-token", "one-user-all-zero"]) {
    const c = caseNamed(name);
    c.users.forEach((_, i) => {
      const p = vectorProof(c, i);
      assert.equal(verifyProof(p, chainOf(c)).ok, true);
      const r = verifyProof({ ...p, balances: { ...p.balances, maturing: "0" } }, chainOf(c));
      refused(r, "root", `${name} ${i}: maturing 0 added`);
      assert.equal(checkOf(r, "format").ok, true, "a well-formed proof, of another leaf");
      assert.equal(r.leafValue, BigInt(c.users[i].value), "the same value: only the tag and the sixth word differ");
    });
  }
  // The builder and proofJson keep the key exactly when the leaf has it: maturing 0n is a 0x03 leaf, undefined none.
  const c = caseNamed("three-users-anvil-native");
  const leaves = inputsOf(c).leaves;
  const zeroed = buildTree({ ...inputsOf(c), leaves: leaves.map((l) => ({ ...l, balances: { ...l.balances, maturing: 0n } })) });
  assert.notEqual(zeroed.root, c.root);
  assert.equal(zeroed.total, BigInt(c.total));
  assert.equal(proofJson(zeroed, 0, AS_OF).balances.maturing, "0");
  const absent = buildTree({ ...inputsOf(c), leaves: leaves.map((l) => ({ ...l, balances: { ...l.balances, maturing: undefined } })) });
  assert.equal(absent.root, c.root);
  assert.ok(!("maturing" in proofJson(absent, 0, AS_OF).balances));
  // Leaves of both kinds in one tree are refused (an asset's leaves are all of its plan's kind), as the ledger refuses them.
  assert.throws(() => buildTree({ ...inputsOf(c), leaves: leaves.map((l, i) => (i === 1 ? { ...l, balances: { ...l.balances, maturing: 0n } } : l)) }), /another kind/);
  const s = caseNamed("sales-three-users");
  assert.throws(() => buildTree({ ...inputsOf(s), leaves: inputsOf(s).leaves.map((l, i) => (i === 2 ? { ...l, balances: { ...l.balances, maturing: undefined } } : l)) }), /another kind/);
});

test("a 0x03 proof's maturing: its form, 2^128, and a six-figure sum reaching 2^128", () => {
  const c = caseNamed("sales-total-max-u128");
  const i = c.users.findIndex((u) => u.maturing === "0");
  const base = vectorProof(c, i);
  const set = (v) => ({ ...base, balances: { ...base.balances, maturing: v } });
  for (const [why, v] of [
    ["null", null],
    ["a JSON number", 5],
    ["a fraction", "1.5"],
    ["negative", "-1"],
    ["hex", "0x10"],
    ["empty", ""],
  ]) {
    let r;
    assert.doesNotThrow(() => (r = verifyProof(set(v), chainOf(c))), why);
    refused(r, "format", `maturing ${why}`);
  }
  refused(verifyProof(set(U128_LIMIT.toString()), chainOf(c)), "range", "maturing of 2^128");
  // The five below 2^128 with room to spare; the sixth takes the sum to 2^128.
  const five = KEYS.reduce((s, k) => s + BigInt(base.balances[k]), 0n);
  const r = refused(verifyProof(set((U128_LIMIT - five).toString()), chainOf(c)), "range", "six figures adding up to 2^128");
  assert.match(r.detail, /2\^128|340282366920938463463374607431768211456/);
  assert.equal(verifyProof(set((U128_LIMIT - 1n - five).toString()), chainOf(c)).checks.find((x) => x.id === "range").ok, true, "2^128 − 1 is in range");
  // The builder: a sixth figure that takes a leaf, or the tree, to 2^128.
  assert.throws(() => leafValue({ reserved: U128_LIMIT - 2n, held: 1n, pending: 0n, batched: 0n, claimable: 0n, maturing: 1n }), RangeError);
  assert.equal(leafValue({ reserved: U128_LIMIT - 2n, held: 1n, pending: 0n, batched: 0n, claimable: 0n, maturing: 0n }), U128_LIMIT - 1n);
  const over = c.users.map((u, j) => (j === i ? { ...u, maturing: "1" } : u));
  assert.throws(() => buildTree(inputsOf(c, { users: over })), RangeError);
});

// ── the tamper suite ─────────────────────────────────────────────────────────────────────────────────────────────

test("a user left out: their old proof fails against the new root, and the new root has no leaf of theirs", () => {
  const c = caseNamed("nine-users-tron-nile-token");
  const excluded = 4;
  const x = c.users[excluded];
  const cheat = buildTree(inputsOf(c, { users: c.users.filter((_, i) => i !== excluded) }));
  assert.equal(cheat.leafCount, 8);
  assert.notEqual(cheat.root, c.root);
  assert.equal(cheat.total, BigInt(c.total) - BigInt(x.value), "the left-out user's value is gone from the total");
  assert.ok(!cheat.levels[0].some((n) => n.hash === x.leaf) && !cheat.leaves.some((l) => l.user === x.user), "no leaf of theirs");
  // Everybody else verifies against the chain's (cheating) root: only the excluded one can notice.
  for (const l of cheat.leaves) assert.equal(verifyProof(proofJson(cheat, l.index, AS_OF), chainOf(cheat)).ok, true);
  // Their old proof, against the root on the chain now.
  const r = verifyProof(vectorProof(c, excluded), chainOf(cheat));
  refused(r, "root", "the excluded user's old proof against the new root");
  // Nor does any position of the new tree hold their leaf: their balances with every proof path of the new tree.
  for (const l of cheat.leaves) {
    const forged = { ...proofJson(cheat, l.index, AS_OF), user: x.user, balances: vectorProof(c, excluded).balances, salt: x.salt };
    refused(verifyProof(forged, chainOf(cheat)), "root", `the excluded user at position ${l.index}`);
  }
  // An API that cannot produce a proof for them says so; the badge must not treat "no proof" as fine (a UI rule).
});

test("a lowered balance: in the proof file, or in the committed tree", () => {
  const c = caseNamed("eight-users-power-of-two");
  const i = 2;
  const u = c.users[i];
  // The file's balance lowered by one unit.
  for (const k of KEYS.filter((k) => u[k] !== "0")) {
    const p = vectorProof(c, i);
    p.balances[k] = (BigInt(u[k]) - 1n).toString();
    const r = verifyProof(p, chainOf(c));
    refused(r, "root", `${k} lowered in the file`);
    refused(r, "total", `${k} lowered in the file`);
  }
  // The operator commits a tree where this user's balance is lowered.
  const lowered = c.users.map((v, j) => (j === i ? { ...v, claimable: "0" } : v));
  const cheat = buildTree(inputsOf(c, { users: lowered }));
  assert.equal(cheat.total, BigInt(c.total) - BigInt(u.claimable));
  // A proof with the true balances and the cheating tree's siblings does not reach the committed root.
  const p = proofOfUser(cheat, u.user);
  const truthful = { ...p, balances: vectorProof(c, i).balances };
  refused(verifyProof(truthful, chainOf(cheat)), "root", "the true balances against a tree with them lowered");
  // A proof consistent with the cheating tree shows balances other than the dashboard's.
  refused(verifyProof(p, chainOf(cheat, { balances: balancesOf(u) })), "context", "the proof's balance is lower than the one shown");
});

test("the max(vL, vR) sibling: an operator summing parents as the max is caught by the total or the hash", () => {
  // The cheating tree: every parent hashes both children's (reported) sums, but reports max(sumL, sumR) as its own.
  const maxTree = (tree) => {
    const levels = [tree.levels[0]];
    while (levels[levels.length - 1].length > 1) {
      const below = levels[levels.length - 1];
      const above = [];
      for (let j = 0; j < below.length; j += 2) {
        const [l, r] = [below[j], below[j + 1]];
        above.push({ hash: parentHash(l, r), sum: l.sum > r.sum ? l.sum : r.sum });
      }
      levels.push(above);
    }
    const top = levels[levels.length - 1][0];
    const proofFor = (index) => {
      const honest = proofJson(tree, index, AS_OF);
      const siblings = levels.slice(0, tree.depth).map((level, k) => level[flip(Math.floor(index / 2 ** k))]);
      return { ...honest, siblings: siblings.map((s) => ({ hash: s.hash, sum: s.sum.toString() })), root: top.hash, total: top.sum.toString() };
    };
    return { root: top.hash, total: top.sum, epoch: tree.epoch, proofFor };
  };

  // Two users: the root hashes both real sums, so its hash is right, but the chain's total is the max: the total
  // check catches it.
  const c = caseNamed("eight-users-power-of-two");
  const two = buildTree(inputsOf(c, { users: c.users.slice(0, 2) }));
  const cheat2 = maxTree(two);
  assert.ok(cheat2.total < two.total);
  for (const l of two.leaves) {
    const r = verifyProof(cheat2.proofFor(l.index), chainOf(cheat2));
    assert.equal(checkOf(r, "root").ok, true, "the root's hash is consistent");
    refused(r, "total", "two users, max total");
    assert.equal(r.computedTotal, two.total);
  }

  // Eight users: the first level's parents are right, higher ones hash the maxes; every user's proof is refused,
  // by the root (hash mismatch) or by the total.
  const eight = buildTree(inputsOf(c));
  const cheat8 = maxTree(eight);
  assert.ok(cheat8.total < eight.total);
  let byRoot = 0;
  for (const l of eight.leaves) {
    const r = verifyProof(cheat8.proofFor(l.index), chainOf(cheat8));
    assert.equal(r.ok, false, `user at ${l.index}`);
    assert.ok(!checkOf(r, "root").ok || !checkOf(r, "total").ok, `user at ${l.index}: root or total fails`);
    if (!checkOf(r, "root").ok) byRoot++;
  }
  assert.ok(byRoot > 0, "the hash mismatch is met");

  // The honest tree but a committed total lowered to the max of the root's children: the total check.
  const lowered = eight.levels[eight.depth - 1].reduce((m, n) => (n.sum > m ? n.sum : m), 0n);
  for (const l of eight.leaves) refused(verifyProof(proofJson(eight, l.index, AS_OF), chainOf({ ...eight, total: lowered })), "total", "lowered total");
});

test("sums of 2^128 or more: a sibling's sum, a balance, and a fold that reaches 2^128", () => {
  const c = caseNamed("five-users-total-max-u128");
  const base = vectorProof(c, 1);
  // A sibling's sum of 2^128.
  const big = clone(base);
  big.siblings[1].sum = U128_LIMIT.toString();
  refused(verifyProof(big, chainOf(c)), "range", "a sibling sum of 2^128");
  // A balance of 2^128, and balances each below 2^128 adding up to 2^128.
  const bal = clone(base);
  bal.balances.held = U128_LIMIT.toString();
  refused(verifyProof(bal, chainOf(c)), "range", "a balance of 2^128");
  const sum = clone(base);
  sum.balances.reserved = (U128_LIMIT - 1n).toString();
  sum.balances.held = "1";
  refused(verifyProof(sum, chainOf(c)), "range", "balances adding up to 2^128");
  // Each sibling's sum below 2^128, but the fold reaches 2^128 (the total is 2^128 − 1; one unit more at any level).
  for (let k = 0; k < c.depth; k++) {
    const fold = clone(base);
    fold.siblings[k].sum = (BigInt(fold.siblings[k].sum) + 1n).toString();
    assert.ok(BigInt(fold.siblings[k].sum) < U128_LIMIT);
    const r = verifyProof(fold, chainOf(c));
    refused(r, "fold", `one more unit at level ${k}`);
    assert.equal(checkOf(r, "range").ok, true, "every amount of the file is in range");
    assert.equal(r.computedRoot, null);
  }
  // The builder refuses such a tree too.
  assert.throws(() => parentNode({ hash: c.root, sum: U128_LIMIT - 1n }, { hash: c.root, sum: 1n }), RangeError);
  assert.throws(() => leafValue({ reserved: U128_LIMIT - 1n, held: 1n, pending: 0n, batched: 0n, claimable: 0n }), RangeError);
  assert.throws(() => buildTree(inputsOf(c, { users: [...c.users.slice(0, 4), { ...c.users[4], claimable: (BigInt(c.users[4].claimable) + 1n).toString() }] })), RangeError);
});

test("a swapped order: an index bit flipped, the siblings reversed, a forged sibling", () => {
  const c = caseNamed("eight-users-power-of-two");
  for (let i = 0; i < c.users.length; i++) {
    const p = vectorProof(c, i);
    for (let k = 0; k < c.depth; k++) {
      const flipped = { ...p, index: p.index ^ (1 << k) };
      refused(verifyProof(flipped, chainOf(c)), "root", `user ${i}: index bit ${k} flipped`);
    }
    refused(verifyProof({ ...p, siblings: [...p.siblings].reverse() }, chainOf(c)), "root", `user ${i}: siblings reversed`);
    // Two sums swapped between levels.
    const swapped = clone(p);
    [swapped.siblings[0].sum, swapped.siblings[2].sum] = [swapped.siblings[2].sum, swapped.siblings[0].sum];
    refused(verifyProof(swapped, chainOf(c)), "root", `user ${i}: two sibling sums swapped`);
  }
  // Bit 0 flipped puts the user beside themselves in the wrong order: the layout check says so as well.
  const r = verifyProof({ ...vectorProof(c, 0), index: vectorProof(c, 0).index ^ 1 }, chainOf(c));
  refused(r, "layout", "bottom pair out of order");
  // A forged sibling (another hash, same sum), and the padding beside the last user replaced.
  const f = clone(vectorProof(c, 3));
  f.siblings[1].hash = keccak256(f.siblings[1].hash);
  refused(verifyProof(f, chainOf(c)), "root", "a forged sibling");
  const three = caseNamed("three-users-anvil-native");
  const last = three.users.findIndex((_, i) => three.proofs[i].index === 2);
  const pad = clone(vectorProof(three, last));
  pad.siblings[0].hash = three.levels[0][0].hash;
  const rp = verifyProof(pad, chainOf(three));
  refused(rp, "root", "a real leaf where padding must be");
  refused(rp, "layout", "a real leaf where padding must be");
});

test("a stale root: a proof of an older epoch, and a commitment older than allowed", () => {
  const c = caseNamed("three-users-anvil-native");
  const next = buildTree(inputsOf(c, { epoch: c.epoch + 1 }));
  assert.notEqual(next.root, c.root, "the epoch is in every leaf");
  for (let i = 0; i < c.users.length; i++) {
    const r = verifyProof(vectorProof(c, i), chainOf(next));
    refused(r, "epoch", "a proof of the previous epoch");
    refused(r, "root", "a proof of the previous epoch");
    assert.equal(r.stale, true);
    // Even a commitment with the same root under a later epoch number: the epoch check alone.
    const same = verifyProof(vectorProof(c, i), chainOf(c, { epoch: BigInt(c.epoch + 1) }));
    refused(same, "epoch", "epoch behind the chain's");
    assert.equal(checkOf(same, "root").ok, true);
    assert.equal(same.stale, true);
    // A proof of an epoch the chain has not committed, and a proof naming another block for the same epoch.
    refused(verifyProof(vectorProof(c, i), chainOf(c, { epoch: BigInt(c.epoch - 1) })), "epoch", "epoch ahead of the chain's");
    refused(verifyProof(vectorProof(c, i), chainOf(c, { asOfBlock: BigInt(AS_OF + 1) })), "epoch", "another block");
  }
  // The liabilities' age, the head against the as-of block: at the limit it is fine, one block more is stale.
  const p = vectorProof(c, 0);
  const atLimit = verifyProof(p, chainOf(c, { headBlock: BigInt(AS_OF + MAX_AGE) }));
  assert.equal(atLimit.ok, true);
  assert.equal(atLimit.stale, false);
  const old = verifyProof(p, chainOf(c, { headBlock: BigInt(AS_OF + MAX_AGE + 1) }));
  refused(old, "fresh", "liabilities older than allowed");
  assert.equal(old.stale, true);
  assert.equal(checkOf(old, "root").ok, true, "the proof itself is fine");
  assert.match(checkOf(old, "fresh").detail, new RegExp(`balances of block ${AS_OF}, ${MAX_AGE + 1} blocks ago \\(committed at block ${COMMIT_BLOCK}\\), more than the ${MAX_AGE} allowed`));
  // Old liabilities committed in the head's own block are as old: the commit block is no age.
  const recommitted = verifyProof(p, chainOf(c, { commitBlock: BigInt(AS_OF + MAX_AGE + 1), headBlock: BigInt(AS_OF + MAX_AGE + 1) }));
  refused(recommitted, "fresh", "old liabilities freshly committed");
  // A head behind the as-of block (a lagging provider) is not an age.
  assert.equal(verifyProof(p, chainOf(c, { headBlock: BigInt(AS_OF - 5) })).ok, true);
});

test("a root served only by the API: the chain's root is the one that counts", () => {
  const c = caseNamed("zero-and-nonzero-mixed");
  // The API's own tree (here: another user's balance lowered), its proofs naming its root and total.
  const apiTree = buildTree(inputsOf(c, { users: c.users.map((u, j) => (j === 3 ? { ...u, reserved: "1" } : u)) }));
  assert.notEqual(apiTree.root, c.root);
  for (const u of c.users) {
    const p = proofOfUser(apiTree, u.user);
    assert.equal(verifyProof(p, chainOf(apiTree)).ok, true, "consistent with the API's root");
    const r = verifyProof(p, chainOf(c));
    refused(r, "root", "the API's root is not the chain's");
    const served = checkOf(r, "served");
    assert.equal(served.ok, false);
    assert.equal(served.info, true);
    assert.equal(r.computedRoot, apiTree.root);
  }
  // A proof that reaches the chain's root but whose own "root"/"total" fields say otherwise: those fields are never
  // used, only reported.
  const p = { ...vectorProof(c, 1), root: apiTree.root, total: apiTree.total.toString() };
  const r = verifyProof(p, chainOf(c));
  assert.equal(r.ok, true);
  assert.equal(checkOf(r, "served").ok, false);
  assert.equal(r.computedRoot, c.root);
});

test("insolvency: custody below the total is reported apart, the proof itself verifies", () => {
  const c = caseNamed("nine-users-tron-nile-token");
  const total = BigInt(c.total);
  const r = verifyProof(vectorProof(c, 0), chainOf(c, { custody: total - 1n }));
  assert.equal(r.ok, true);
  assert.equal(r.solvent, false);
  const s = checkOf(r, "solvent");
  assert.equal(s.ok, false);
  assert.equal(s.info, true);
  assert.match(s.detail, /INSOLVENT/);
  assert.equal(verifyProof(vectorProof(c, 0), chainOf(c, { custody: total })).solvent, true);
  assert.equal(verifyProof(vectorProof(c, 0), chainOf(c, { custody: total + 1n })).solvent, true);
  // Insolvency is reported even when the proof is malformed.
  const bad = verifyProof({ ...vectorProof(c, 0), salt: "0x12" }, chainOf(c, { custody: 0n }));
  assert.equal(bad.ok, false);
  assert.equal(bad.solvent, false);
});

test("malformed proofs are refused, each with the check that names why, and never throw", () => {
  const c = caseNamed("nine-users-tron-nile-token");
  const good = vectorProof(c, 2);
  const chain = chainOf(c);
  const set = (path, value) => {
    const p = clone(good);
    let o = p;
    for (const k of path.slice(0, -1)) o = o[k];
    o[path[path.length - 1]] = value;
    return p;
  };
  const cases = [
    ["not an object", null, "format"],
    ["a string", "proof", "format"],
    ["an array", [good], "format"],
    ["another version", set(["version"], "solvency/v2"), "format"],
    ["bad hex in the salt", set(["salt"], "0x" + "zz".repeat(32)), "format"],
    ["a 31-byte salt", set(["salt"], good.salt.slice(0, -2)), "format"],
    ["a salt without 0x", set(["salt"], good.salt.slice(2)), "format"],
    ["a 19-byte user", set(["user"], good.user.slice(0, -2)), "format"],
    ["a 21-byte contract", set(["contract"], good.contract + "00"), "format"],
    ["a token that is not hex", set(["token"], "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"), "format"],
    ["a 33-byte sibling hash", set(["siblings", 0, "hash"], good.siblings[0].hash + "00"), "format"],
    ["a fractional amount", set(["balances", "held"], "1.5"), "format"],
    ["a negative amount", set(["balances", "held"], "-1"), "format"],
    ["a hex amount", set(["balances", "held"], "0x10"), "format"],
    ["an amount as a JSON number", set(["balances", "held"], 5), "format"],
    ["an empty amount", set(["balances", "held"], ""), "format"],
    ["a missing balance", set(["balances"], { reserved: "0", held: "0" }), "format"],
    ["a sibling sum in exponent form", set(["siblings", 0, "sum"], "1e3"), "format"],
    ["a fractional index", set(["index"], 1.5), "format"],
    ["a negative epoch", set(["epoch"], -1), "format"],
    ["an index as a string", set(["index"], "1"), "format"],
    ["siblings not a list", set(["siblings"], {}), "format"],
    ["a total of 2^128", set(["total"], U128_LIMIT.toString()), "range"],
    ["a balance of 2^128", set(["balances", "claimable"], U128_LIMIT.toString()), "range"],
    ["a sibling sum of 2^129", set(["siblings", 3, "sum"], (U128_LIMIT * 2n).toString()), "range"],
    ["one sibling too few", set(["siblings"], good.siblings.slice(1)), "shape"],
    ["one sibling too many", set(["siblings"], [...good.siblings, good.siblings[0]]), "shape"],
    ["index = leaf_count", set(["index"], c.leaf_count), "shape"],
    ["index past the padding", set(["index"], 2 ** c.depth), "shape"],
    ["leaf_count > 2^depth", set(["leaf_count"], 2 ** c.depth + 1), "shape"],
    ["a depth larger than needed", { ...set(["depth"], c.depth + 1), siblings: [...good.siblings, good.siblings[0]] }, "shape"],
    ["no users", set(["leaf_count"], 0), "shape"],
    ["depth 33", { ...set(["depth"], 33), leaf_count: 2 ** 33, siblings: Array(33).fill(good.siblings[0]) }, "shape"],
    ["depth 40", { ...set(["depth"], 40), siblings: Array(40).fill(good.siblings[0]) }, "shape"],
  ];
  for (const [why, proof, id] of cases) {
    let r;
    assert.doesNotThrow(() => (r = verifyProof(proof, chain)), why);
    const check = refused(r, id, why);
    assert.equal(r.computedRoot, null, why);
    assert.ok(check.detail.startsWith("The proof"), `${why}: ${check.detail}`);
  }
  // The verifier's own expectations: the chain, contract and token it read (the build's Settlement of the wallet's
  // chain), which the API must name too; whether the contract allowed the token; the user and the leaf count.
  const elsewhere = caseNamed("three-users-anvil-native").contract;
  for (const [why, extra, id] of [
    ["another chain", { chainId: 728126428 }, "contract"],
    ["another contract", { contract: elsewhere }, "contract"],
    ["another token", { token: "0x0000000000000000000000000000000000000000" }, "contract"],
    ["the API naming another contract", { contract: c.contract, servedContract: elsewhere }, "contract"],
    ["a token never allowed", { tokenEverAllowed: false }, "allowed"],
    ["another user", { user: c.users[0].user }, "context"],
    ["another leaf count", { leafCount: c.leaf_count + 1 }, "context"],
  ])
    refused(verifyProof(good, chainOf(c, extra)), id, why);
  assert.equal(verifyProof(good, chainOf(c, { chainId: c.chain_id, contract: c.contract, servedContract: c.contract, token: c.token, tokenEverAllowed: true })).ok, true);
  // A malformed commitment is the caller's bug: refused, not thrown.
  refused(verifyProof(good, { ...chain, root: "0x12" }), "commitment", "a malformed commitment");
  refused(verifyProof(good, { ...chain, total: 5 }), "commitment", "a total that is not a bigint");
});

test("the builder: sorting, padding, one leaf per user, and the empty tree", () => {
  const c = caseNamed("nine-users-tron-nile-token");
  // Input order does not matter.
  const input = inputsOf(c);
  const reversed = buildTree({ ...input, leaves: [...input.leaves].reverse() });
  assert.equal(reversed.root, c.root);
  assert.deepEqual(reversed.levels.map((l) => l.map((n) => ({ hash: n.hash, sum: n.sum.toString() }))), c.levels);
  for (let i = 1; i < reversed.leafCount; i++) assert.ok(BigInt(reversed.leaves[i - 1].hash) < BigInt(reversed.leaves[i].hash));
  // One leaf per user.
  assert.throws(() => buildTree({ ...input, leaves: [...input.leaves, input.leaves[0]] }), /twice/);
  // The empty tree, and a single zero leaf.
  const empty = caseNamed("no-users");
  assert.deepEqual({ depth: empty.depth, total: empty.total, levels: empty.levels.length }, { depth: 0, total: "0", levels: 1 });
  const one = caseNamed("one-user-all-zero");
  assert.equal(one.root, one.users[0].leaf);
  const r = verifyProof(vectorProof(one, 0), chainOf(one, { custody: 0n }));
  assert.equal(r.ok, true);
  assert.equal(r.solvent, true);
});

// ── the forged proof of issue 42 ─────────────────────────────────────────────────────────────────────────────────

test("a one-leaf tree committed under another contract verifies only against that contract, never the build's", () => {
  const c = caseNamed("nine-users-tron-nile-token");
  const u = c.users[3];
  const fake = "0x" + "fa".repeat(20);
  // The attacker's tree: this user alone, their true balances, under the attacker's contract.
  const forged = buildTree({ chainId: c.chain_id, contract: fake, token: c.token, epoch: c.epoch, leaves: [{ user: u.user, balances: balancesOf(u), salt: u.salt }] });
  const proof = proofJson(forged, 0, AS_OF);
  // Read at the contract it names (what the verifier did when it took the API's contract_hex), it holds together…
  assert.equal(verifyProof(proof, chainOf(forged, { chainId: c.chain_id, contract: fake, token: c.token, user: u.user })).ok, true);
  // …but the page reads the build's contract: its root, and the proof naming another contract, refuse it.
  const r = verifyProof(proof, chainOf(c, { chainId: c.chain_id, contract: c.contract, servedContract: fake, token: c.token, tokenEverAllowed: true, user: u.user }));
  refused(r, "contract", "a proof of the attacker's contract");
  refused(r, "root", "a proof of the attacker's contract");
  assert.match(checkOf(r, "contract").detail, new RegExp(`the proof names contract ${fake}, but this network's Settlement contract, whose commitment was read, is ${c.contract}`));
  assert.match(checkOf(r, "contract").detail, new RegExp(`the operator's server names contract ${fake} for this asset`));
  // Even if the attacker got the same root committed at the build's contract, the proof's contract is not its.
  const atBuild = verifyProof(proof, chainOf(forged, { chainId: c.chain_id, contract: c.contract, token: c.token }));
  refused(atBuild, "contract", "the forged root committed at the build's contract");
});

// ── what the build carries from the deployment records ───────────────────────────────────────────────────────────

test("the build's networks: the repository's records, the devnet's at its deterministic addresses, and every bad record refused", () => {
  const networks = buildNetworks();
  const byName = Object.fromEntries(networks.map((n) => [n.name, n]));
  // The devnet deploys from anvil's account 0 in a fixed order: test USDT, two spare tokens, then Settlement on the
  // anvil chain (nonce 3); test USDT then Settlement on the TRON stand-in (nonce 1). scripts/devnet.sh checks each start.
  const deployer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  assert.equal(byName["devnet-anvil"].chain_id, 31337);
  assert.equal(byName["devnet-anvil"].settlement, getContractAddress({ from: deployer, nonce: 3n }).toLowerCase());
  assert.equal(byName["devnet-anvil"].settlement_base58, null);
  assert.equal(byName["devnet-tron"].chain_id, 3448148188);
  assert.equal(byName["devnet-tron"].settlement, getContractAddress({ from: deployer, nonce: 1n }).toLowerCase());
  assert.equal(byName["devnet-tron"].settlement_base58, "TX7cLPN5XdNGBzyF9ti4nsHCPZhq7qqJ7C");
  // The devnet's maximum: a healthy devnet commits every 60 blocks; four intervals.
  for (const n of networks.filter((x) => x.name.startsWith("devnet-"))) assert.equal(n.proof_max_age_blocks, 240);
  for (const n of networks) assert.deepEqual(Object.keys(n).sort(), ["chain_id", "name", "proof_max_age_blocks", "settlement", "settlement_base58"]);
  assert.ok(existsSync(DEPLOYMENTS_DIR));

  // A scratch directory of records.
  const dir = mkdtempSync(join(tmpdir(), "deployments-"));
  const record = JSON.parse(readFileSync(join(DEPLOYMENTS_DIR, "devnet-tron.json"), "utf8"));
  const write = (name, r) => writeFileSync(join(dir, `${name}.json`), typeof r === "string" ? r : JSON.stringify(r));
  const clear = () => rmSync(dir, { recursive: true, force: true });
  const fails = (re, why, only = null) => assert.throws(() => buildNetworks({ dir, only }), re, why);
  try {
    write("nile", record);
    assert.equal(buildNetworks({ dir }).length, 1);
    // Two records of one chain: refused until one is chosen.
    write("devnet-tron", record);
    fails(/chain 3448148188 has 2 deployment records \(devnet-tron, nile\).*WEB_DEPLOYMENTS/, "two records of one chain");
    assert.deepEqual(buildNetworks({ dir, only: chosenByEnvironment("nile") }).map((n) => n.name), ["nile"]);
    fails(/WEB_DEPLOYMENTS names mainnet, which is no record/, "an unknown name", ["mainnet"]);
    rmSync(join(dir, "devnet-tron.json"));
    for (const [why, change, re] of [
      ["no maximum age", { proof_max_age_blocks: undefined }, /proof_max_age_blocks is not a positive whole number/],
      ["a zero maximum age", { proof_max_age_blocks: 0 }, /proof_max_age_blocks/],
      ["a TRON record without its T… form", { settlement_base58: null }, /settlement_base58 is not a T… address/],
      ["a T… form of another contract", { settlement_base58: "TJhSSbZ8dVqtEiLYgva1WWcV4R4NkRCARH" }, /is 0x5fbdb2315678afecb367f032d93f642f64180aa3, not the settlement/],
      ["a bad checksum", { settlement_base58: "TX7cLPN5XdNGBzyF9ti4nsHCPZhq7qqJ7D" }, /not a T… address/],
      ["a settlement that is no address", { settlement: "0x12" }, /settlement is not a 0x address/],
      ["the zero address", { settlement: "0x" + "0".repeat(40) }, /zero address/],
      ["no chain id", { chain_id: "31337" }, /chain_id is not a chain id/],
      ["a T… form on an EVM chain", { chain_id: 56 }, /settlement_base58 on chain 56, which is not TRON's/],
    ]) {
      write("nile", { ...record, ...change });
      fails(re, why);
    }
    write("nile", "{ not json");
    fails(/not JSON/, "a file that is not JSON");
    rmSync(join(dir, "nile.json"));
    fails(/no deployment records/, "no record at all");
  } finally {
    clear();
  }
  assert.equal(chosenByEnvironment(""), null);
  assert.deepEqual(chosenByEnvironment(" bsc-mainnet , tron-mainnet "), ["bsc-mainnet", "tron-mainnet"]);
});

// ── the contract's pending changes, decoded ──────────────────────────────────────────────────────────────────────

test("pendingChanges() answers decode to each change in plain figures; malformed answers are refused", () => {
  const address = (label) => `0x${keccak256(stringToHex(label)).slice(-40)}`;
  const role = (name) => keccak256(stringToHex(name));
  const [signer, account, token] = ["signer", "account", "token"].map(address);
  const changes = [
    { kind: 0, args: encodeAbiParameters([{ type: "address" }], [signer]), readyAt: 1_800_000_000n },
    { kind: 1, args: encodeAbiParameters([{ type: "bytes32" }, { type: "address" }], [role("TREASURER_ROLE"), account]), readyAt: 1_800_000_100n },
    { kind: 2, args: encodeAbiParameters([{ type: "bytes32" }, { type: "address" }], [role("OPERATOR_ROLE"), account]), readyAt: 2n },
    { kind: 3, args: encodeAbiParameters([{ type: "address" }], [token]), readyAt: 3n },
    { kind: 4, args: encodeAbiParameters([{ type: "uint256" }, { type: "uint256" }], [20_000n, 300_000n]), readyAt: (1n << 64n) - 1n },
    { kind: 1, args: encodeAbiParameters([{ type: "bytes32" }, { type: "address" }], [role("MINTER_ROLE"), account]), readyAt: 5n },
    { kind: 0, args: "0x1234", readyAt: 6n },
  ].map((ch, i) => ({ ...ch, id: keccak256(stringToHex(`change ${i}`)) }));
  const answer = encodeFunctionResult({ abi: settlementPendingChangesAbi, functionName: "pendingChanges", result: changes });
  const decoded = decodePendingChanges(answer, "the contract");
  assert.deepEqual(decoded.map((d) => d.id), changes.map((ch) => ch.id));
  assert.deepEqual(decoded.map((d) => d.readyAt), changes.map((ch) => ch.readyAt));
  const lower = (x) => JSON.parse(JSON.stringify(x, (_, v) => (typeof v === "bigint" ? v.toString() : typeof v === "string" ? v.toLowerCase() : v)));
  assert.deepEqual(lower(decoded.map((d) => d.what)), lower([
    { kind: "signer", signer },
    { kind: "grant", role: "treasurer", roleHash: role("TREASURER_ROLE"), account },
    { kind: "revoke", role: "operator", roleHash: role("OPERATOR_ROLE"), account },
    { kind: "token", token },
    { kind: "push_gas", native: 20_000n, token: 300_000n },
    { kind: "grant", role: null, roleHash: role("MINTER_ROLE"), account },
    { kind: "unknown", code: 0, args: "0x1234" },
  ]));
  // None pending.
  assert.deepEqual(decodePendingChanges(encodeFunctionResult({ abi: settlementPendingChangesAbi, functionName: "pendingChanges", result: [] }), "c"), []);
  // Answers that are not the contract's: never a crash, an error naming the contract.
  const words = answer.slice(2);
  for (const [why, raw] of [
    ["empty", "0x"],
    ["not hex", "0xzz"],
    ["half a word", answer.slice(0, -2)],
    ["cut short", `0x${words.slice(0, words.length - 64 * 4)}`],
    ["an offset past the end", `0x${words.slice(0, 128)}${(BigInt(words.length) * 4n).toString(16).padStart(64, "0")}${words.slice(192)}`],
    ["the array elsewhere", `0x${"40".padStart(64, "0")}${words.slice(64)}`],
    ["a count past the end", `0x${words.slice(0, 64)}${"f".repeat(64)}${words.slice(128)}`],
    ["latestLiabilities' answer", `0x${"00".repeat(192)}`],
  ])
    assert.throws(() => decodePendingChanges(raw, "0xabc"), /the contract 0xabc did not answer pendingChanges as the Settlement contract does/, why);
});
