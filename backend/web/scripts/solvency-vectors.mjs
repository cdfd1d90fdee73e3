#!/usr/bin/env node
// Golden vectors of the proof-of-solvency tree (SOLVENCY.md, solvency/v1): leaves → nodes → root, from fixed inputs,
// for the Rust, TypeScript and Solidity tests to check alike.
//
//   node scripts/solvency-vectors.mjs           (re)write ../../abi/vectors/solvency-tree.json
//   node scripts/solvency-vectors.mjs --check   fail (exit 1) when the file differs from what the inputs give now
//
// Deterministic: every address, contract, token and salt key is the last 20 (or all 32) bytes of keccak256 of a
// label; salts are HMAC-SHA256 (node:crypto) under the case's key; the tree is src/lib/solvency.js's buildTree.
// Schema: { spec, cases: [{ name, chain_id, contract, token, epoch, salt_key, users: [{ user, reserved, held,
// pending, batched, claimable, maturing?, salt, leaf, value }] (input order), levels: [[{ hash, sum }]] (levels[0]:
// sorted leaves then padding; last: [root]), root, total, depth, leaf_count, proofs: [{ user, index, siblings }]
// (input order) }] }. Amounts and sums are decimal strings, hex is lowercase.
// `maturing` is there exactly for the users of the sales-plan cases (names "sales-…"): each such user's leaf is a 0x03
// one, keccak256(0x03 ‖ … ‖ claimable u128 ‖ maturing u128 ‖ salt), 205 bytes, its value the sum of the six — a
// user with "maturing": "0" included (the key decides the leaf, not its value). Every user of a case has it or none
// does (one asset, one plan). A reader that knows only five components must refuse a user with `maturing`, never skip
// the key: its leaf would not be the one it computes.
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { keccak256, stringToHex } from "viem";
import { NATIVE_TOKEN, U128_LIMIT, buildTree, saltInput } from "../src/lib/solvency.js";

const WEB = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = join(WEB, "..", "..");
/** Where the vectors live (others read them from here). */
export const VECTORS_PATH = join(ROOT, "abi", "vectors", "solvency-tree.json");
export const SPEC = "SOLVENCY.md solvency/v1";

/** A fixed 20-byte address: the last 20 bytes of keccak256(label). */
export const labelAddress = (label) => `0x${keccak256(stringToHex(label)).slice(-40)}`;
/** A fixed 32-byte key: keccak256(label). */
export const labelKey = (label) => keccak256(stringToHex(label));

/** salt = HMAC-SHA256(key, "solvency/v1" ‖ chainId u64 ‖ token ‖ epoch u64 ‖ user), as 0x hex. */
export function hmacSalt(key, chainId, token, epoch, user) {
  const mac = createHmac("sha256", Buffer.from(key.slice(2), "hex"));
  mac.update(Buffer.from(saltInput(chainId, token, epoch, user).slice(2), "hex"));
  return `0x${mac.digest("hex")}`;
}

const b = (reserved, held, pending, batched, claimable) => ({ reserved, held, pending, batched, claimable });
/** A sales-plan user's six figures (a 0x03 leaf, even when `maturing` is 0). */
const sales = (reserved, held, pending, batched, claimable, maturing) => ({ ...b(reserved, held, pending, batched, claimable), maturing });
const ZERO = b(0n, 0n, 0n, 0n, 0n);
const E18 = 10n ** 18n;
const P = (n) => 1n << BigInt(n);

/** The fixed inputs: per case, its chain, contract, token, epoch and users' balances (in input order). */
const CASES = [
  {
    name: "one-user-all-zero",
    chain_id: 31337,
    contract: labelAddress("solvency-vectors/contract/anvil"),
    token: NATIVE_TOKEN,
    epoch: 1,
    users: [ZERO],
  },
  {
    name: "three-users-anvil-native",
    chain_id: 31337,
    contract: labelAddress("solvency-vectors/contract/anvil"),
    token: NATIVE_TOKEN,
    epoch: 2,
    users: [b(0n, 0n, E18 / 10n, 0n, E18 / 20n), b(2n * E18, 3n * (E18 / 10n), 0n, 25n * 10n ** 15n, 1n), b(1n, 2n, 3n, 4n, 5n)],
  },
  {
    // Values 31·2^122, 2^126, 2^125, 2^125, 2^122 − 1: the total is exactly 2^128 − 1, the largest valid root sum.
    name: "five-users-total-max-u128",
    chain_id: 56,
    contract: labelAddress("solvency-vectors/contract/bsc"),
    token: labelAddress("solvency-vectors/token/bsc-usdt"),
    epoch: 3,
    users: [
      b(P(126), P(125), P(124), P(123), P(122)),
      b(0n, 0n, 0n, 0n, P(126)),
      b(0n, P(124), P(124), 0n, 0n),
      b(0n, 0n, 0n, P(125), 0n),
      b(P(121), 0n, 0n, 0n, P(121) - 1n),
    ],
  },
  {
    // An epoch beyond 2^32 (the u64 encoding's upper bytes).
    name: "eight-users-power-of-two",
    chain_id: 56,
    contract: labelAddress("solvency-vectors/contract/bsc"),
    token: labelAddress("solvency-vectors/token/bsc-usdt"),
    epoch: 2 ** 40 + 7,
    users: Array.from({ length: 8 }, (_, i) => {
      const n = BigInt(i + 1);
      return b(n * 10n ** 17n, (n * 7n) % 3n === 0n ? 0n : n * 3n * 10n ** 15n, n * 11n, (n * n) * 10n ** 16n, 9n - n);
    }),
  },
  {
    // A chain id beyond 2^31 and a 6-decimal token, as on TRON Nile (addresses in their 20-byte EVM form).
    name: "nine-users-tron-nile-token",
    chain_id: 3448148188,
    contract: labelAddress("solvency-vectors/contract/tron-nile"),
    token: labelAddress("solvency-vectors/token/tron-nile-usdt"),
    epoch: 5,
    users: Array.from({ length: 9 }, (_, i) => {
      const n = BigInt(i + 1);
      return b(n * 1_000_000n, i % 2 ? 0n : n * 250_000n, i % 3 ? n * 10_000n : 0n, i === 4 ? 123_456_789n : 0n, n * n * 100n);
    }),
  },
  {
    name: "zero-and-nonzero-mixed",
    chain_id: 728126428,
    contract: labelAddress("solvency-vectors/contract/tron-mainnet"),
    token: NATIVE_TOKEN,
    epoch: 6,
    users: [ZERO, b(0n, 0n, 0n, 0n, 7n), ZERO, b(E18, 0n, 0n, 0n, 0n), ZERO, b(0n, 0n, 123_456_789n, 0n, 0n)],
  },
  {
    // No user at all (an asset only the company holds): depth 0, the root is padding(0), the total 0, no proof.
    name: "no-users",
    chain_id: 31337,
    contract: labelAddress("solvency-vectors/contract/anvil"),
    token: NATIVE_TOKEN,
    epoch: 7,
    users: [],
  },
  // ── the sales plan (PLAN-SALES.md): 0x03 leaves with a sixth figure, `maturing`, after `claimable` ──
  {
    // Three sellers of a BSC token: one with only maturing commissions, one with maturing beside pending and
    // reserved, one with maturing 0 (still a 0x03 leaf: its sales are final, or it made none).
    name: "sales-three-users",
    chain_id: 56,
    contract: labelAddress("solvency-vectors/contract/bsc"),
    token: labelAddress("solvency-vectors/token/bsc-sales"),
    epoch: 8,
    users: [
      sales(0n, 0n, 12n * E18, 0n, 0n, 3n * E18),
      sales(5n * (E18 / 10n), 0n, 0n, 2n * E18, 1n, 0n),
      sales(0n, 0n, 0n, 0n, 0n, 60n * E18),
    ],
  },
  {
    // Values 63·2^121 (the six figures 2^126 … 2^121), 2^127 (maturing alone) and 2^121 − 1 (maturing 0): the total
    // is exactly 2^128 − 1, and the sixth figure is what takes it there.
    name: "sales-total-max-u128",
    chain_id: 56,
    contract: labelAddress("solvency-vectors/contract/bsc"),
    token: labelAddress("solvency-vectors/token/bsc-sales"),
    epoch: 9,
    users: [sales(P(126), P(125), P(124), P(123), P(122), P(121)), sales(0n, 0n, 0n, 0n, 0n, P(127)), sales(P(120), 0n, 0n, 0n, P(120) - 1n, 0n)],
  },
  {
    // One seller alone on TRON Nile: depth 0, the root is that 0x03 leaf.
    name: "sales-one-user",
    chain_id: 3448148188,
    contract: labelAddress("solvency-vectors/contract/tron-nile"),
    token: labelAddress("solvency-vectors/token/tron-nile-usdt"),
    epoch: 10,
    users: [sales(1_000_000n, 0n, 250_000n, 0n, 0n, 40_000n)],
  },
];

const dec = (v) => v.toString(10);
const node = (n) => ({ hash: n.hash, sum: dec(n.sum) });

/** One case's vector (and its tree, for tests). */
export function buildCase(input) {
  const salt_key = labelKey(`solvency-vectors/salt-key/${input.name}`);
  const users = input.users.map((balances, i) => {
    const user = labelAddress(`solvency-vectors/user/${input.name}/${i}`);
    return { user, balances, salt: hmacSalt(salt_key, input.chain_id, input.token, input.epoch, user) };
  });
  const tree = buildTree({ chainId: input.chain_id, contract: input.contract, token: input.token, epoch: input.epoch, leaves: users });
  if (tree.total >= U128_LIMIT) throw new Error(`${input.name}: total out of range`);
  const byUser = new Map(tree.leaves.map((l) => [l.user, l]));
  const vector = {
    name: input.name,
    chain_id: input.chain_id,
    contract: input.contract.toLowerCase(),
    token: input.token.toLowerCase(),
    epoch: input.epoch,
    salt_key,
    users: users.map(({ user, balances, salt }) => {
      const leaf = byUser.get(user);
      return {
        user,
        reserved: dec(balances.reserved),
        held: dec(balances.held),
        pending: dec(balances.pending),
        batched: dec(balances.batched),
        claimable: dec(balances.claimable),
        ...(balances.maturing !== undefined ? { maturing: dec(balances.maturing) } : {}),
        salt,
        leaf: leaf.hash,
        value: dec(leaf.value),
      };
    }),
    levels: tree.levels.map((level) => level.map(node)),
    root: tree.root,
    total: dec(tree.total),
    depth: tree.depth,
    leaf_count: tree.leafCount,
    proofs: users.map(({ user }) => {
      const { index } = byUser.get(user);
      return { user, index, siblings: tree.proofs[index].siblings.map(node) };
    }),
  };
  return { vector, tree };
}

/** The whole vector document. */
export function buildVectors() {
  return { spec: SPEC, cases: CASES.map((c) => buildCase(c).vector) };
}

/** The file's exact text. */
export const renderVectors = () => JSON.stringify(buildVectors(), null, 2) + "\n";

function main(args) {
  const text = renderVectors();
  const shown = relative(process.cwd(), VECTORS_PATH) || VECTORS_PATH;
  if (args.includes("--check")) {
    const current = existsSync(VECTORS_PATH) ? readFileSync(VECTORS_PATH, "utf8") : null;
    if (current !== text) {
      console.error(`${shown} is ${current === null ? "missing" : "out of date"}: run \`cd backend/web && node scripts/solvency-vectors.mjs\``);
      process.exit(1);
    }
    console.log(`${shown} is current`);
    return;
  }
  mkdirSync(dirname(VECTORS_PATH), { recursive: true });
  writeFileSync(VECTORS_PATH, text);
  console.log(`wrote ${shown}`);
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) main(process.argv.slice(2));
