// The public proof of solvency (SOLVENCY.md, version "solvency/v1"): the Merkle-sum tree of every user's liabilities
// of one asset and epoch, and the dApp's verifier of one user's proof against the commitment read from the chain.
// Plain JavaScript (checked by tsc through JSDoc) and pure: no I/O, no fetch, no window, no clock; the same module is
// imported by the page, by the golden-vector generator (scripts/solvency-vectors.mjs) and by its node test.
//
// Integers are fixed-width big-endian, ‖ is concatenation:
//   salt    = HMAC-SHA256(K, "solvency/v1" ‖ chainId u64 ‖ token 20B ‖ epoch u64 ‖ user 20B)   (saltInput(); K stays
//             on the backend, so the HMAC itself is the caller's: node:crypto in the generator)
//   leaf    = keccak256(0x00 ‖ chainId u64 ‖ contract 20B ‖ token 20B ‖ epoch u64 ‖ user 20B ‖ reserved u128 ‖
//             held u128 ‖ pending u128 ‖ batched u128 ‖ claimable u128 ‖ salt 32B), value = the five's sum < 2^128
//   sales   = keccak256(0x03 ‖ the same up to claimable ‖ maturing u128 ‖ salt 32B), value = the six's sum < 2^128:
//             the leaf of an asset on the sales plan, whose balances carry a sixth figure, `maturing` (retail
//             commissions whose sale the buyer can still take back). Its own first byte, so that a five-component
//             verifier refuses such a leaf instead of misreading it. Which leaf a user has is decided by whether
//             their balances HAVE `maturing` (a key of the JSON, a property of the object), never by its value:
//             `maturing: "0"` is still a 0x03 leaf.
//   parent  = keccak256(0x01 ‖ hashL ‖ sumL u128 ‖ hashR ‖ sumR u128), sum = sumL + sumR < 2^128
//   padding = keccak256(0x02 ‖ chainId u64 ‖ token 20B ‖ epoch u64 ‖ index u32), value 0
// Leaves ascend by hash (as unsigned 256-bit integers), padding fills indexes leafCount .. 2^depth − 1, depth is the
// least d with 2^d ≥ leafCount (one leaf: depth 0, the root is that leaf). A proof lists the siblings bottom-up; at
// level k the path's node is the left child when bit k of the index is 0.

import { concat, keccak256, numberToHex, stringToHex } from "viem";
import en from "../i18n/solvency/en.js";
import { wordsOf } from "../i18n/words.js";

/** The verifier's findings in words: English here and in Node, the reader's language in the page (src/i18n/words.js). */
const t = wordsOf(en);

/** @typedef {`0x${string}`} Hex */
/** The five ledger figures of one user (base units), PLAN.md §7 invariant 4's liabilities; on the sales plan also
 * `maturing`, the sixth (its presence makes the leaf a 0x03 one, whatever its value).
 * @typedef {{ reserved: bigint, held: bigint, pending: bigint, batched: bigint, claimable: bigint, maturing?: bigint }} Balances */
/** A node of the tree: its hash and the sum of the values below it.
 * @typedef {{ hash: Hex, sum: bigint }} TreeNode */
/** What every leaf and padding of one tree shares.
 * @typedef {{ chainId: bigint | number, contract: Hex, token: Hex, epoch: bigint | number }} TreeScope */
/** One user's input to the tree.
 * @typedef {{ user: Hex, balances: Balances, salt: Hex }} LeafInput */
/** Everything a leaf hash commits to.
 * @typedef {TreeScope & LeafInput} LeafFields */
/** A leaf of a built tree, at its sorted position `index`.
 * @typedef {{ user: Hex, balances: Balances, salt: Hex, hash: Hex, value: bigint, index: number }} TreeLeaf */
/** The siblings of the leaf at `index`, bottom-up.
 * @typedef {{ user: Hex, index: number, siblings: TreeNode[] }} TreeProof */
/**
 * A built tree. `leaves` are sorted (leaves[i].index === i) and `proofs[i]` is leaves[i]'s proof; `levels[0]` is the
 * sorted leaves then the padding, each next level the parents, and the last level is `[root]`.
 * @typedef {{ chainId: bigint, contract: Hex, token: Hex, epoch: bigint, leaves: TreeLeaf[], levels: TreeNode[][],
 *   root: Hex, total: bigint, depth: number, leafCount: number, proofs: TreeProof[] }} SolvencyTree
 */
/** @typedef {{ reserved: string, held: string, pending: string, batched: string, claimable: string, maturing?: string }} BalanceStrings */
/**
 * One user's proof as the API serves it (`GET /v1/users/solvency-proof`); amounts are decimal strings.
 * @typedef {{ version: "solvency/v1", chain_id: number, contract: Hex, token: Hex, epoch: number,
 *   as_of_block: number, user: Hex, balances: BalanceStrings, salt: Hex, index: number, depth: number,
 *   leaf_count: number, siblings: { hash: Hex, sum: string }[], root: Hex, total: string }} SolvencyProof
 */
/**
 * The latest commitment as read from the CHAIN through the user's own wallet provider (`latestLiabilities(token)`),
 * never from the API, together with the verifier's context: the chain's head block and the largest age allowed (the
 * build's, never the API's): the commitment's liabilities (its asOfBlock) may trail the head by at most that many
 * blocks. The optional fields, when given, are compared with the proof too: the chain the wallet is on, the contract
 * the commitment was read from (the build's Settlement of that chain) and the token asked for ("contract"), whether
 * that contract ever allowed the token ("allowed"), the contract the operator's server names for the asset (it must
 * be the build's), the signed-in user, the committed leaf count, the balances the user's dashboard shows ("context").
 * @typedef {{ root: Hex, total: bigint, epoch: bigint | number, asOfBlock: bigint | number,
 *   commitBlock: bigint | number, custody: bigint, headBlock: bigint | number, maxAgeBlocks: bigint | number,
 *   chainId?: bigint | number, contract?: Hex, token?: Hex, tokenEverAllowed?: boolean, servedContract?: Hex,
 *   user?: Hex, leafCount?: bigint | number, balances?: Balances, money?: (base: bigint) => string }} ChainCommitment
 * `money` words an amount of the asset in the checks' texts ("300 BNB", in the reader's language); without it they
 * give base units (the pure verifier's tests, a command line without the asset's decimals).
 */
/**
 * What each check looks at:
 *  - "commitment": the chain's figures given to the verifier are well-formed (a caller's bug otherwise);
 *  - "format": the proof is well-formed (version, hex and its lengths, whole numbers, decimal amounts);
 *  - "range": every amount of the proof (each balance, the leaf's value, each sibling's sum) is below 2^128;
 *  - "shape": depth ≤ 32 and minimal for leaf_count, index < leaf_count, one sibling per level;
 *  - "contract": the proof is of the wallet's chain, of the contract the commitment was read from and of the token
 *    asked for, and the operator's server names that contract too (a tree committed under a contract of the operator's
 *    choosing, or on another chain, proves nothing);
 *  - "allowed": the contract ever allowed the token (only such a token's liabilities can be committed);
 *  - "context": the proof's leaf count, user and balances are the ones the verifier expects;
 *  - "fold": no sum reaches 2^128 while folding the siblings;
 *  - "layout": the bottom neighbour is in order (or is the padding it must be), padding subtrees sum to zero;
 *  - "root": the computed root equals the chain's root;
 *  - "total": the computed total equals the chain's total;
 *  - "epoch": the proof is of the chain's latest epoch and block;
 *  - "fresh": the chain's commitment's liabilities (its asOfBlock) are not more blocks behind the head than allowed;
 *  - "served" (information only): the proof's own root and total equal the chain's;
 *  - "solvent" (information only): the chain's custody covers the chain's total;
 *  - "balances" (lib/solvency-round.js, after an upgrade): the user's leaf holds the same balances in every contract's
 *    tree of the round.
 * @typedef {"commitment" | "format" | "range" | "shape" | "contract" | "allowed" | "context" | "fold" | "layout" | "root" |
 *   "total" | "epoch" | "fresh" | "served" | "solvent" | "balances"} CheckId
 */
/** `info` checks are shown but do not decide `ok`.
 * @typedef {{ id: CheckId, ok: boolean, detail: string, info?: boolean }} Check */
/**
 * The verdict. `ok`: every check but the information-only ones passed (the user's balance is a leaf of the chain's
 * current root and the sums add up). `solvent`: the chain's custody ≥ the chain's total, whatever the proof (an
 * insolvency is a red banner of its own, not a malformed proof). `stale`: the proof is not of the chain's latest
 * epoch, or the chain's commitment's liabilities are older than allowed. The computed figures are null when the proof could not be
 * folded.
 * @typedef {{ ok: boolean, checks: Check[], leafValue: bigint | null, computedRoot: Hex | null,
 *   computedTotal: bigint | null, solvent: boolean, stale: boolean }} VerifyResult
 */

/** The version string, in the proof and as the salt's prefix. */
export const SOLVENCY_VERSION = "solvency/v1";
/** Every amount and every sum must stay below this. */
export const U128_LIMIT = 1n << 128n;
/** The deepest tree (2^32 leaves: the on-chain leafCount is a uint32). */
export const MAX_DEPTH = 32;
/** The native coin's token address. */
export const NATIVE_TOKEN = /** @type {Hex} */ ("0x0000000000000000000000000000000000000000");
/** The five figures, in the leaf's order. */
export const BALANCE_KEYS = /** @type {const} */ (["reserved", "held", "pending", "batched", "claimable"]);
/** The six figures of a sales-plan leaf (tag 0x03), in the leaf's order: `maturing` after `claimable`. */
export const SALES_BALANCE_KEYS = /** @type {const} */ ([...BALANCE_KEYS, "maturing"]);
/** @typedef {(typeof SALES_BALANCE_KEYS)[number]} BalanceKey */

const U64_LIMIT = 1n << 64n;
const U32_LIMIT = 1n << 32n;
const LEAF_TAG = /** @type {Hex} */ ("0x00");
const PARENT_TAG = /** @type {Hex} */ ("0x01");
const PADDING_TAG = /** @type {Hex} */ ("0x02");
const SALES_LEAF_TAG = /** @type {Hex} */ ("0x03");
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL_RE = /^[0-9]{1,78}$/;

/** The other child's position at the same level (arithmetic, not `^`: positions reach 2^32 − 1).
 * @param {number} position
 * @returns {number} */
const siblingOf = (position) => (position % 2 === 0 ? position + 1 : position - 1);

// ── encoding ─────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A whole number of `bytes` bytes, big-endian; throws a RangeError when it is not a non-negative integer below
 * 2^(8·bytes).
 * @param {bigint | number} value
 * @param {number} bytes
 * @param {string} what
 * @returns {Hex}
 */
function uint(value, bytes, what) {
  if (typeof value === "number" && !Number.isSafeInteger(value)) throw new RangeError(`${what} is not a whole number: ${value}`);
  if (typeof value !== "number" && typeof value !== "bigint") throw new TypeError(`${what} is not a number`);
  const v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * bytes)) throw new RangeError(`${what} is out of range for ${8 * bytes} bits: ${v}`);
  return numberToHex(v, { size: bytes });
}

/**
 * @param {string} value
 * @param {string} what
 * @returns {Hex}
 */
function address(value, what) {
  if (typeof value !== "string" || !ADDRESS_RE.test(value)) throw new TypeError(`${what} is not a 20-byte 0x address: ${value}`);
  return /** @type {Hex} */ (value.toLowerCase());
}

/**
 * @param {string} value
 * @param {string} what
 * @returns {Hex}
 */
function bytes32(value, what) {
  if (typeof value !== "string" || !BYTES32_RE.test(value)) throw new TypeError(`${what} is not 32 bytes of 0x hex: ${value}`);
  return /** @type {Hex} */ (value.toLowerCase());
}

/**
 * The message whose HMAC-SHA256 under the backend's 32-byte key K is the user's salt:
 * "solvency/v1" ‖ chainId u64 ‖ token 20B ‖ epoch u64 ‖ user 20B (59 bytes). The HMAC is left to the caller (the key
 * never reaches the browser; node:crypto in the generator).
 * @param {bigint | number} chainId
 * @param {Hex} token
 * @param {bigint | number} epoch
 * @param {Hex} user
 * @returns {Hex}
 */
export function saltInput(chainId, token, epoch, user) {
  return concat([
    stringToHex(SOLVENCY_VERSION),
    uint(chainId, 8, "chain id"),
    address(token, "token"),
    uint(epoch, 8, "epoch"),
    address(user, "user"),
  ]);
}

/**
 * Whether `balances` are a sales-plan leaf's (tag 0x03): they have `maturing`, whatever its value (0 included).
 * @param {Balances} balances
 * @returns {boolean}
 */
export const isSalesLeaf = (balances) => balances.maturing !== undefined;

/**
 * The figures a leaf of these balances commits to, in the leaf's order: the five, or the six of a sales-plan leaf.
 * @param {Balances} balances
 * @returns {readonly BalanceKey[]}
 */
export const balanceKeysOf = (balances) => (isSalesLeaf(balances) ? SALES_BALANCE_KEYS : BALANCE_KEYS);

/**
 * A leaf's value: the sum of the five figures (six with `maturing`). Throws a RangeError when a figure is negative
 * or ≥ 2^128, or the sum is ≥ 2^128.
 * @param {Balances} balances
 * @returns {bigint}
 */
export function leafValue(balances) {
  let sum = 0n;
  for (const key of balanceKeysOf(balances)) {
    const v = balances[key];
    if (typeof v !== "bigint") throw new TypeError(`${key} is not a bigint`);
    if (v < 0n || v >= U128_LIMIT) throw new RangeError(`${key} is out of range for 128 bits: ${v}`);
    sum += v;
  }
  if (sum >= U128_LIMIT) throw new RangeError(`the balances sum to 2^128 or more: ${sum}`);
  return sum;
}

/**
 * A user's leaf hash: keccak256(0x00 ‖ chainId u64 ‖ contract ‖ token ‖ epoch u64 ‖ user ‖ reserved u128 ‖ held u128 ‖
 * pending u128 ‖ batched u128 ‖ claimable u128 ‖ salt); with `maturing`, keccak256(0x03 ‖ … ‖ claimable u128 ‖
 * maturing u128 ‖ salt). Throws on an out-of-range figure (see leafValue).
 * @param {LeafFields} fields
 * @returns {Hex}
 */
export function leafHash(fields) {
  leafValue(fields.balances);
  const sales = isSalesLeaf(fields.balances);
  return keccak256(
    concat([
      sales ? SALES_LEAF_TAG : LEAF_TAG,
      uint(fields.chainId, 8, "chain id"),
      address(fields.contract, "contract"),
      address(fields.token, "token"),
      uint(fields.epoch, 8, "epoch"),
      address(fields.user, "user"),
      ...balanceKeysOf(fields.balances).map((key) => uint(/** @type {bigint} */ (fields.balances[key]), 16, key)),
      bytes32(fields.salt, "salt"),
    ]),
  );
}

/**
 * A parent's hash: keccak256(0x01 ‖ hashL ‖ sumL u128 ‖ hashR ‖ sumR u128) — both children's sums are hashed.
 * Throws a RangeError when a child's sum is ≥ 2^128.
 * @param {TreeNode} left
 * @param {TreeNode} right
 * @returns {Hex}
 */
export function parentHash(left, right) {
  return keccak256(
    concat([PARENT_TAG, bytes32(left.hash, "left hash"), uint(left.sum, 16, "left sum"), bytes32(right.hash, "right hash"), uint(right.sum, 16, "right sum")]),
  );
}

/**
 * A parent node: its hash (parentHash) and sum = sumL + sumR. Throws a RangeError when the sum is ≥ 2^128.
 * @param {TreeNode} left
 * @param {TreeNode} right
 * @returns {TreeNode}
 */
export function parentNode(left, right) {
  const hash = parentHash(left, right);
  const sum = left.sum + right.sum;
  if (sum >= U128_LIMIT) throw new RangeError(`a parent's sum reaches 2^128: ${sum}`);
  return { hash, sum };
}

/**
 * The padding leaf at `index` (value 0): keccak256(0x02 ‖ chainId u64 ‖ token ‖ epoch u64 ‖ index u32).
 * @param {bigint | number} chainId
 * @param {Hex} token
 * @param {bigint | number} epoch
 * @param {bigint | number} index
 * @returns {Hex}
 */
export function paddingHash(chainId, token, epoch, index) {
  return keccak256(concat([PADDING_TAG, uint(chainId, 8, "chain id"), address(token, "token"), uint(epoch, 8, "epoch"), uint(index, 4, "index")]));
}

/**
 * The least d with 2^d ≥ leafCount (0 for zero or one leaf).
 * @param {number} leafCount
 * @returns {number}
 */
export function treeDepth(leafCount) {
  if (!Number.isSafeInteger(leafCount) || leafCount < 0 || BigInt(leafCount) > U32_LIMIT) throw new RangeError(`bad leaf count: ${leafCount}`);
  let depth = 0;
  while (2 ** depth < leafCount) depth++;
  return depth;
}

// ── building ─────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Builds the tree of one asset and epoch: one leaf per user (zero balances included), sorted ascending by leaf hash,
 * padded to a power of two, folded up to the root; with every leaf's proof. Throws on a repeated user, on leaves of
 * both kinds (some with `maturing`, some without: an asset's leaves are all of its plan's kind), or an out-of-range
 * figure or sum. No users at all gives depth 0 and the root padding(0) with total 0 (the spec's rule
 * read literally: 2^0 ≥ 0, and padding fills indexes 0 .. 0).
 * @param {TreeScope & { leaves: LeafInput[] }} input
 * @returns {SolvencyTree}
 */
export function buildTree(input) {
  const scope = {
    chainId: BigInt(input.chainId),
    contract: address(input.contract, "contract"),
    token: address(input.token, "token"),
    epoch: BigInt(input.epoch),
  };
  uint(scope.chainId, 8, "chain id");
  uint(scope.epoch, 8, "epoch");
  const seen = new Set();
  // Every leaf of one asset is of its plan's kind: all 0x03 (the sales plan) or all 0x00, as the ledger builds them.
  const sales = input.leaves.length > 0 && isSalesLeaf(input.leaves[0].balances);
  /** @type {{ user: Hex, balances: Balances, salt: Hex, hash: Hex, value: bigint, key: bigint }[]} */
  const made = input.leaves.map((leaf) => {
    const user = address(leaf.user, "user");
    if (seen.has(user)) throw new Error(`user ${user} appears twice: one leaf per user`);
    seen.add(user);
    if (isSalesLeaf(leaf.balances) !== sales) throw new Error(`user ${user}'s leaf is of another kind than the tree's first: ${sales ? "no" : "a"} maturing`);
    // The five, and `maturing` only when the leaf has it (an own property set to undefined is none: a 0x00 leaf).
    /** @type {Balances} */
    const balances = { reserved: leaf.balances.reserved, held: leaf.balances.held, pending: leaf.balances.pending, batched: leaf.balances.batched, claimable: leaf.balances.claimable };
    if (isSalesLeaf(leaf.balances)) balances.maturing = leaf.balances.maturing;
    const salt = bytes32(leaf.salt, "salt");
    const hash = leafHash({ ...scope, user, balances, salt });
    return { user, balances, salt, hash, value: leafValue(balances), key: BigInt(hash) };
  });
  made.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const leafCount = made.length;
  const depth = treeDepth(leafCount);
  /** @type {TreeLeaf[]} */
  const leaves = made.map((m, index) => ({ user: m.user, balances: m.balances, salt: m.salt, hash: m.hash, value: m.value, index }));
  /** @type {TreeNode[]} */
  const bottom = leaves.map((l) => ({ hash: l.hash, sum: l.value }));
  for (let index = leafCount; index < 2 ** depth; index++) bottom.push({ hash: paddingHash(scope.chainId, scope.token, scope.epoch, index), sum: 0n });
  /** @type {TreeNode[][]} */
  const levels = [bottom];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    /** @type {TreeNode[]} */
    const above = [];
    for (let i = 0; i < below.length; i += 2) above.push(parentNode(below[i], below[i + 1]));
    levels.push(above);
  }
  const top = levels[levels.length - 1][0];
  const proofs = leaves.map((leaf) => ({
    user: leaf.user,
    index: leaf.index,
    siblings: levels.slice(0, depth).map((level, k) => level[siblingOf(Math.floor(leaf.index / 2 ** k))]),
  }));
  return { ...scope, leaves, levels, root: top.hash, total: top.sum, depth, leafCount, proofs };
}

/**
 * The proof of the leaf at sorted `index` in the API's JSON form (what `verifyProof` takes).
 * @param {SolvencyTree} tree
 * @param {number} index
 * @param {number} asOfBlock
 * @returns {SolvencyProof}
 */
export function proofJson(tree, index, asOfBlock) {
  const leaf = tree.leaves[index];
  if (!leaf) throw new RangeError(`no leaf at index ${index}`);
  /** @type {(v: bigint) => string} */
  const dec = (v) => v.toString(10);
  return {
    version: SOLVENCY_VERSION,
    chain_id: Number(tree.chainId),
    contract: tree.contract,
    token: tree.token,
    epoch: Number(tree.epoch),
    as_of_block: asOfBlock,
    user: leaf.user,
    balances: {
      reserved: dec(leaf.balances.reserved),
      held: dec(leaf.balances.held),
      pending: dec(leaf.balances.pending),
      batched: dec(leaf.balances.batched),
      claimable: dec(leaf.balances.claimable),
      // A sales-plan leaf's sixth figure: present exactly when the leaf is a 0x03 one.
      ...(isSalesLeaf(leaf.balances) ? { maturing: dec(/** @type {bigint} */ (leaf.balances.maturing)) } : {}),
    },
    salt: leaf.salt,
    index,
    depth: tree.depth,
    leaf_count: tree.leafCount,
    siblings: tree.proofs[index].siblings.map((s) => ({ hash: s.hash, sum: dec(s.sum) })),
    root: tree.root,
    total: dec(tree.total),
  };
}

// ── verifying ────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * @typedef {{ chainId: bigint, contract: Hex, token: Hex, epoch: bigint, asOfBlock: bigint, user: Hex,
 *   balances: Balances, salt: Hex, index: number, depth: number, leafCount: number, siblings: TreeNode[], root: Hex,
 *   total: bigint }} ParsedProof
 */

/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads the untrusted proof JSON into typed figures, or says in plain words everything that is wrong with it.
 * @param {unknown} raw
 * @returns {{ proof: ParsedProof | null, format: string[], range: string[], shape: string[] }}
 */
function parseProof(raw) {
  /** @type {string[]} */
  const format = [];
  /** @type {string[]} */
  const range = [];
  /** @type {string[]} */
  const shape = [];
  if (!isObject(raw)) return { proof: null, format: [t("sc.not_object")], range, shape };
  if (raw.version !== SOLVENCY_VERSION) format.push(t("sc.version", { found: JSON.stringify(raw.version), want: SOLVENCY_VERSION }));
  /** @type {(name: string, max: bigint) => bigint} */
  const whole = (name, max) => {
    const v = raw[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      format.push(t("sc.not_whole", { name: `"${name}"`, value: String(JSON.stringify(v)) }));
      return 0n;
    }
    if (BigInt(v) >= max) format.push(t("sc.too_large", { name: `"${name}"`, value: String(v) }));
    return BigInt(v);
  };
  /** @type {(name: string, v: unknown, re: RegExp, what: string) => Hex} */
  const hex = (name, v, re, what) => {
    if (typeof v !== "string" || !re.test(v)) {
      format.push(t("sc.not_hex", { name, what, value: String(JSON.stringify(v)) }));
      return /** @type {Hex} */ ("0x");
    }
    return /** @type {Hex} */ (v.toLowerCase());
  };
  /** @type {(name: string, v: unknown) => bigint} */
  const amount = (name, v) => {
    if (typeof v !== "string" || !DECIMAL_RE.test(v)) {
      format.push(t("sc.not_decimal", { name, value: String(JSON.stringify(v)) }));
      return 0n;
    }
    const n = BigInt(v);
    if (n >= U128_LIMIT) range.push(t("sc.amount_range", { name, value: v }));
    return n;
  };
  const chainId = whole("chain_id", U64_LIMIT);
  const epoch = whole("epoch", U64_LIMIT);
  const asOfBlock = whole("as_of_block", U64_LIMIT);
  const index = Number(whole("index", U32_LIMIT));
  const depth = Number(whole("depth", 1n << 53n));
  const leafCount = Number(whole("leaf_count", 1n << 53n));
  const contract = hex('"contract"', raw.contract, ADDRESS_RE, t("sc.what_address"));
  const token = hex('"token"', raw.token, ADDRESS_RE, t("sc.what_address"));
  const user = hex('"user"', raw.user, ADDRESS_RE, t("sc.what_address"));
  const salt = hex('"salt"', raw.salt, BYTES32_RE, t("sc.what_bytes32"));
  const root = hex('"root"', raw.root, BYTES32_RE, t("sc.what_bytes32"));
  const total = amount('"total"', raw.total);
  /** @type {Balances} */
  const balances = { reserved: 0n, held: 0n, pending: 0n, batched: 0n, claimable: 0n };
  if (!isObject(raw.balances)) format.push(t("sc.balances_not_object"));
  else {
    for (const key of BALANCE_KEYS) balances[key] = amount(t("sc.name_balance", { key }), raw.balances[key]);
    // The key's presence makes the leaf a sales-plan one (0x03), whatever it holds: a `maturing` that is not a decimal
    // amount (null included) is malformed, never read as absent.
    if (Object.hasOwn(raw.balances, "maturing")) balances.maturing = amount(t("sc.name_balance", { key: "maturing" }), raw.balances.maturing);
  }
  if (range.length === 0 && format.length === 0) {
    const sum = balanceKeysOf(balances).reduce((s, key) => s + /** @type {bigint} */ (balances[key]), 0n);
    if (sum >= U128_LIMIT) range.push(t("sc.sum_range", { sum }));
  }
  /** @type {TreeNode[]} */
  const siblings = [];
  if (!Array.isArray(raw.siblings)) format.push(t("sc.siblings_not_list"));
  else
    raw.siblings.forEach((/** @type {unknown} */ s, k) => {
      if (!isObject(s)) {
        format.push(t("sc.sibling_not_object", { k }));
        return;
      }
      siblings.push({ hash: hex(t("sc.name_sibling_hash", { k }), s.hash, BYTES32_RE, t("sc.what_bytes32")), sum: amount(t("sc.name_sibling_sum", { k }), s.sum) });
    });
  if (format.length === 0) {
    if (depth > MAX_DEPTH) shape.push(t("sc.too_deep", { depth, max: MAX_DEPTH }));
    else {
      if (leafCount < 1) shape.push(t("sc.no_user"));
      else if (leafCount > 2 ** depth) shape.push(t("sc.too_many", { users: leafCount, depth, max: 2 ** depth }));
      else if (depth > 0 && leafCount <= 2 ** (depth - 1)) shape.push(t("sc.too_shallow", { depth, users: leafCount, less: depth - 1 }));
      if (index >= leafCount) shape.push(t("sc.past_last", { index, users: leafCount }));
    }
    if (siblings.length !== depth) shape.push(t("sc.siblings_count", { siblings: siblings.length, depth }));
  }
  if (format.length || range.length || shape.length) return { proof: null, format, range, shape };
  return {
    proof: { chainId, contract, token, epoch, asOfBlock, user, balances, salt, index, depth, leafCount, siblings, root, total },
    format,
    range,
    shape,
  };
}

/**
 * @param {unknown} v
 * @returns {bigint | null}
 */
function chainInt(v) {
  if (typeof v === "bigint") return v >= 0n ? v : null;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return null;
}

/**
 * Verifies one user's proof (the API's JSON, untrusted) against the latest commitment read from the chain (trusted:
 * the caller read it through the user's own wallet provider). The proof's own "root" and "total" are only compared
 * for information, never used. Never throws on a bad proof: every refusal is a failed check with a plain-words detail.
 * @param {unknown} proof the SolvencyProof JSON as served by the API
 * @param {ChainCommitment} commitment
 * @returns {VerifyResult}
 */
export function verifyProof(proof, commitment) {
  /** @type {Check[]} */
  const checks = [];
  /** @type {(id: CheckId, ok: boolean, detail: string, info?: boolean) => void} */
  const add = (id, ok, detail, info) => checks.push(info ? { id, ok, detail, info } : { id, ok, detail });

  // The chain's side: a malformed one is the caller's bug, and nothing can be verified against it.
  const c = {
    root: typeof commitment?.root === "string" && BYTES32_RE.test(commitment.root) ? /** @type {Hex} */ (commitment.root.toLowerCase()) : null,
    total: typeof commitment?.total === "bigint" && commitment.total >= 0n ? commitment.total : null,
    epoch: chainInt(commitment?.epoch),
    asOfBlock: chainInt(commitment?.asOfBlock),
    commitBlock: chainInt(commitment?.commitBlock),
    custody: typeof commitment?.custody === "bigint" && commitment.custody >= 0n ? commitment.custody : null,
    headBlock: chainInt(commitment?.headBlock),
    maxAgeBlocks: chainInt(commitment?.maxAgeBlocks),
  };
  /** @type {(base: bigint) => string} */
  const money = typeof commitment?.money === "function" ? commitment.money : (v) => String(v);
  const missing = Object.entries(c)
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  if (missing.length) {
    add("commitment", false, t("sc.commitment", { missing: missing.join(", ") }));
    return { ok: false, checks, leafValue: null, computedRoot: null, computedTotal: null, solvent: false, stale: true };
  }
  const root = /** @type {Hex} */ (c.root);
  const total = /** @type {bigint} */ (c.total);
  const chainEpoch = /** @type {bigint} */ (c.epoch);
  const chainAsOf = /** @type {bigint} */ (c.asOfBlock);
  const commitBlock = /** @type {bigint} */ (c.commitBlock);
  const custody = /** @type {bigint} */ (c.custody);
  const head = /** @type {bigint} */ (c.headBlock);
  const maxAge = /** @type {bigint} */ (c.maxAgeBlocks);

  // Chain-only verdicts, whatever the proof. Age is the liabilities' (the head against asOfBlock), not the commit's: a
  // fresh commitment of old balances is old.
  const age = head > chainAsOf ? head - chainAsOf : 0n;
  const fresh = age <= maxAge;
  const freshCheck = () =>
    add(
      "fresh",
      fresh,
      t(fresh ? "sc.fresh_ok" : "sc.fresh_stale", { block: chainAsOf, age, commit: commitBlock, max: maxAge }),
    );
  const solvent = custody >= total;
  const solventCheck = () =>
    add(
      "solvent",
      solvent,
      solvent
        ? t("sc.solvent_ok", { custody: money(custody), total: money(total) })
        : t("sc.solvent_short", { custody: money(custody), total: money(total), short: money(total - custody) }),
      true,
    );

  const parsed = parseProof(proof);
  if (!parsed.proof) {
    if (parsed.format.length) add("format", false, t("sc.format_failed", { why: parsed.format.join(" ") }));
    if (parsed.range.length) add("range", false, t("sc.range_failed", { why: parsed.range.join(" ") }));
    if (parsed.shape.length) add("shape", false, t("sc.shape_failed", { why: parsed.shape.join(" ") }));
    freshCheck();
    solventCheck();
    return { ok: false, checks, leafValue: null, computedRoot: null, computedTotal: null, solvent, stale: !fresh };
  }
  const p = parsed.proof;
  add("format", true, t("sc.format_ok"));
  add("range", true, t("sc.range_ok"));
  add("shape", true, t("sc.shape_ok", { index: p.index, users: p.leafCount, depth: p.depth }));

  // Where the proof says it belongs: the wallet's chain, the contract read and the token asked for, when given.
  /** @type {string[]} */
  const source = [];
  const expectedChain = commitment.chainId === undefined ? undefined : chainInt(commitment.chainId);
  if (expectedChain !== undefined && expectedChain !== p.chainId)
    source.push(t("sc.src_chain", { proof: p.chainId, wallet: expectedChain === null ? "?" : expectedChain }));
  if (commitment.contract !== undefined && commitment.contract.toLowerCase() !== p.contract)
    source.push(t("sc.src_contract", { proof: p.contract, contract: commitment.contract.toLowerCase() }));
  if (commitment.contract !== undefined && commitment.servedContract !== undefined && commitment.servedContract.toLowerCase() !== commitment.contract.toLowerCase())
    source.push(t("sc.src_served", { served: commitment.servedContract.toLowerCase(), contract: commitment.contract.toLowerCase() }));
  if (commitment.token !== undefined && commitment.token.toLowerCase() !== p.token)
    source.push(t("sc.src_token", { proof: p.token, token: commitment.token.toLowerCase() }));
  if ([commitment.chainId, commitment.contract, commitment.token].some((v) => v !== undefined))
    add(
      "contract",
      source.length === 0,
      source.length === 0 ? t("sc.contract_ok") : t("sc.contract_failed", { why: source.join("; ") }),
    );
  if (commitment.tokenEverAllowed !== undefined)
    add(
      "allowed",
      commitment.tokenEverAllowed === true,
      commitment.tokenEverAllowed === true ? t("sc.allowed_ok") : t("sc.allowed_failed", { token: p.token }),
    );

  // What else the verifier expects, when it says.
  /** @type {string[]} */
  const context = [];
  const expectedCount = commitment.leafCount === undefined ? undefined : chainInt(commitment.leafCount);
  if (commitment.user !== undefined && commitment.user.toLowerCase() !== p.user)
    context.push(t("sc.ctx_user", { proof: p.user, you: commitment.user.toLowerCase() }));
  if (expectedCount !== undefined && expectedCount !== BigInt(p.leafCount))
    context.push(t("sc.ctx_count", { proof: p.leafCount, chain: expectedCount === null ? "?" : expectedCount }));
  if (commitment.balances !== undefined) {
    const shown = commitment.balances;
    // `maturing` is compared whenever either side has it: a sales-plan leaf where five figures are shown (or the
    // reverse) is not the leaf the verifier expects, whatever the figures. "—": that side has no such figure.
    const keys = isSalesLeaf(shown) || isSalesLeaf(p.balances) ? SALES_BALANCE_KEYS : BALANCE_KEYS;
    const differ = keys.filter((key) => shown[key] !== p.balances[key]);
    if (differ.length)
      context.push(
        t("sc.ctx_balances", {
          list: differ
            .map((key) => {
              const inProof = p.balances[key];
              const inShown = shown[key];
              return t("sc.ctx_balance", {
                key,
                proof: inProof === undefined ? "—" : inProof,
                shown: typeof inShown === "bigint" ? inShown : inShown === undefined && key === "maturing" ? "—" : "?",
              });
            })
            .join(", "),
        }),
      );
  }
  const compared = [commitment.user, commitment.leafCount, commitment.balances].some((v) => v !== undefined);
  if (compared)
    add("context", context.length === 0, context.length === 0 ? t("sc.context_ok") : t("sc.context_failed", { why: context.join("; ") }));

  // The leaf, then the fold.
  const value = leafValue(p.balances);
  const leaf = leafHash({ chainId: p.chainId, contract: p.contract, token: p.token, epoch: p.epoch, user: p.user, balances: p.balances, salt: p.salt });
  /** @type {TreeNode} */
  let node = { hash: leaf, sum: value };
  /** @type {string | null} */
  let overflow = null;
  for (let k = 0; k < p.depth; k++) {
    const sibling = p.siblings[k];
    const onLeft = Math.floor(p.index / 2 ** k) % 2 === 0;
    const [left, right] = onLeft ? [node, sibling] : [sibling, node];
    const sum = left.sum + right.sum;
    if (sum >= U128_LIMIT) {
      overflow = t("sc.fold_failed", { level: k + 1, sum });
      break;
    }
    node = { hash: parentHash(left, right), sum };
  }
  if (overflow) {
    add("fold", false, overflow);
    freshCheck();
    solventCheck();
    return { ok: false, checks, leafValue: value, computedRoot: null, computedTotal: null, solvent, stale: !fresh || p.epoch !== chainEpoch };
  }
  add("fold", true, t("sc.fold_ok"));

  // The neighbours' layout: the bottom sibling is the next leaf in hash order, or the padding it must be; a sibling
  // subtree made only of padding sums to zero.
  /** @type {string[]} */
  const layout = [];
  if (p.depth > 0) {
    const sibIndex = siblingOf(p.index);
    const sib = p.siblings[0];
    if (sibIndex < p.leafCount) {
      const mine = BigInt(leaf);
      const theirs = BigInt(sib.hash);
      if (sibIndex > p.index ? !(mine < theirs) : !(theirs < mine))
        layout.push(t(sibIndex > p.index ? "sc.layout_first" : "sc.layout_second"));
    } else if (sib.hash !== paddingHash(p.chainId, p.token, p.epoch, sibIndex) || sib.sum !== 0n) {
      layout.push(t("sc.layout_padding", { position: sibIndex }));
    }
    for (let k = 1; k < p.depth; k++) {
      const first = siblingOf(Math.floor(p.index / 2 ** k)) * 2 ** k;
      if (first >= p.leafCount && p.siblings[k].sum !== 0n) layout.push(t("sc.layout_sum", { level: k + 1, sum: p.siblings[k].sum }));
    }
  }
  add("layout", layout.length === 0, layout.length === 0 ? t("sc.layout_ok") : t("sc.layout_failed", { why: layout.join("; ") }));

  // The chain's root and total: the only ones that count.
  const rootOk = node.hash === root;
  add(
    "root",
    rootOk,
    rootOk ? t("sc.root_ok", { root }) : t("sc.root_failed", { computed: node.hash, root }),
  );
  const totalOk = node.sum === total;
  add(
    "total",
    totalOk,
    totalOk ? t("sc.total_ok", { total: money(total) }) : t("sc.total_failed", { sum: money(node.sum), total: money(total) }),
  );
  const epochOk = p.epoch === chainEpoch && p.asOfBlock === chainAsOf;
  add(
    "epoch",
    epochOk,
    epochOk
      ? t("sc.epoch_ok", { epoch: chainEpoch, block: chainAsOf })
      : p.epoch < chainEpoch
        ? t("sc.epoch_old", { proof: p.epoch, chain: chainEpoch })
        : p.epoch > chainEpoch
          ? t("sc.epoch_ahead", { proof: p.epoch, chain: chainEpoch })
          : t("sc.epoch_block", { proof: p.asOfBlock, epoch: chainEpoch, block: chainAsOf }),
  );
  freshCheck();
  const servedOk = p.root === root && p.total === total;
  add(
    "served",
    servedOk,
    servedOk ? t("sc.served_ok") : t("sc.served_failed", { root: p.root, total: money(p.total), chain_root: root, chain_total: money(total) }),
    true,
  );
  solventCheck();
  return {
    ok: checks.every((ch) => ch.ok || ch.info === true),
    checks,
    leafValue: value,
    computedRoot: node.hash,
    computedTotal: node.sum,
    solvent,
    stale: !fresh || p.epoch !== chainEpoch,
  };
}
