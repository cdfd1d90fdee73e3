// The contract's pending changes (contracts/src/DelayedChanges.sol): `pendingChanges()`' answer decoded, each change's
// arguments read by its kind. Plain JavaScript (checked by tsc through JSDoc) and pure, like lib/solvency.js: the
// page imports it (lib/solvency-chain.ts reads the answer through the wallet) and so does its node test
// (tests/16-solvency-vectors.test.mjs). Decoded by hand, every offset and length checked: viem's decoder would add its
// code and errors to the page.

import { getAddress, keccak256, stringToHex } from "viem";
import en from "../i18n/solvency/en.js";
import { wordsOf } from "../i18n/words.js";

/** A malformed answer in words: English here and in Node, the reader's language in the page (src/i18n/words.js). */
const t = wordsOf(en);

/** @typedef {`0x${string}`} Hex */
/** The money roles a change may grant or revoke.
 * @typedef {"operator" | "treasurer" | "pauser"} MoneyRole */
/**
 * What a pending change does, decoded from its kind (ChangeKind's order: SignerRotation, RoleGrant, RoleRevocation,
 * TokenAllowance, PushGas, Unpause) and its ABI-encoded arguments; `unknown` for a kind or arguments this page does not know.
 * @typedef {{ kind: "signer", signer: Hex }
 *   | { kind: "grant" | "revoke", role: MoneyRole | null, roleHash: Hex, account: Hex }
 *   | { kind: "token", token: Hex }
 *   | { kind: "push_gas", native: bigint, token: bigint }
 *   | { kind: "unpause" }
 *   | { kind: "unknown", code: number, args: Hex }} ChangeWhat
 */
/** One change `pendingChanges()` lists: it may be applied from `readyAt` (unix seconds of the chain's clock).
 * @typedef {{ id: Hex, what: ChangeWhat, readyAt: bigint }} PendingChange */

/** The role hashes (`keccak256("OPERATOR_ROLE")`…), as AccessControl names roles. */
export const ROLE_HASHES = /** @type {const} */ ({
  operator: keccak256(stringToHex("OPERATOR_ROLE")),
  treasurer: keccak256(stringToHex("TREASURER_ROLE")),
  pauser: keccak256(stringToHex("PAUSER_ROLE")),
});

/**
 * What a change of kind `code` with ABI-encoded `args` does.
 * @param {number} code
 * @param {Hex} args
 * @returns {ChangeWhat}
 */
export function changeWhat(code, args) {
  const words = (args.length - 2) / 64;
  /** @param {number} i */
  const w = (i) => /** @type {Hex} */ (`0x${args.slice(2 + 64 * i, 66 + 64 * i)}`);
  /** @param {number} i */
  const addressAt = (i) => getAddress(`0x${w(i).slice(26)}`);
  /** Exactly `n` words, those in `addresses` with 12 zero bytes before their 20.
   * @param {number} n @param {number[]} addresses */
  const fits = (n, addresses) => words === n && addresses.every((i) => /^0x0{24}/.test(w(i)));
  switch (code) {
    case 0:
      if (fits(1, [0])) return { kind: "signer", signer: addressAt(0) };
      break;
    case 1:
    case 2:
      if (fits(2, [1])) {
        const roleHash = w(0);
        const role = /** @type {MoneyRole[]} */ (Object.keys(ROLE_HASHES)).find((r) => ROLE_HASHES[r] === roleHash) ?? null;
        return { kind: code === 1 ? "grant" : "revoke", role, roleHash, account: addressAt(1) };
      }
      break;
    case 3:
      if (fits(1, [0])) return { kind: "token", token: addressAt(0) };
      break;
    case 4:
      if (fits(2, [])) return { kind: "push_gas", native: BigInt(w(0)), token: BigInt(w(1)) };
      break;
    case 5:
      if (words === 0) return { kind: "unpause" };
      break;
  }
  return { kind: "unknown", code, args };
}

/**
 * `pendingChanges()`' answer — `PendingChange[]`, `PendingChange = (bytes32 id, uint8 kind, bytes args, uint64
 * readyAt)` — decoded; a malformed answer (not the Settlement contract's) throws, naming `contract`.
 * @param {string} raw the call's return data, 0x hex
 * @param {string} contract
 * @returns {PendingChange[]}
 */
export function decodePendingChanges(raw, contract) {
  /** @param {string} why */
  const bad = (why) => new Error(t("scg.bad", { contract, why }));
  if (typeof raw !== "string" || !/^0x([0-9a-fA-F]{64})*$/.test(raw)) throw bad(t("scg.not_words"));
  const hex = raw.slice(2).toLowerCase();
  const words = hex.length / 64;
  const bytes = BigInt(hex.length / 2);
  /** @param {number} i */
  const word = (i) => {
    if (!Number.isSafeInteger(i) || i < 0 || i >= words) throw bad(t("scg.no_word", { i, words }));
    return BigInt(`0x${hex.slice(64 * i, 64 * i + 64)}`);
  };
  /** A byte offset from the word `base` on, as a word index.
   * @param {bigint} offset @param {number} base */
  const at = (offset, base) => {
    if (offset % 32n !== 0n || offset >= bytes) throw bad(t("scg.offset", { offset }));
    return base + Number(offset / 32n);
  };
  // One dynamic value returned: its offset is the first word's end.
  if (word(0) !== 32n) throw bad(t("scg.array_at", { offset: word(0) }));
  const array = 1;
  const count = word(array);
  if (count > BigInt(words)) throw bad(t("scg.changes", { n: count }));
  /** @type {PendingChange[]} */
  const changes = [];
  for (let i = 0; i < Number(count); i++) {
    const tuple = at(word(array + 1 + i), array + 1);
    const id = /** @type {Hex} */ (`0x${hex.slice(64 * tuple, 64 * tuple + 64)}`);
    const code = word(tuple + 1);
    if (code > 255n) throw bad(t("scg.kind", { code }));
    const readyAt = word(tuple + 3);
    if (readyAt >= 1n << 64n) throw bad(t("scg.ready_at", { at: readyAt }));
    const argsAt = at(word(tuple + 2), tuple);
    const length = word(argsAt);
    const start = 64 * (argsAt + 1);
    if (length > bytes || start + 2 * Number(length) > hex.length) throw bad(t("scg.args_past", { length }));
    const args = /** @type {Hex} */ (`0x${hex.slice(start, start + 2 * Number(length))}`);
    changes.push({ id, what: changeWhat(Number(code), args), readyAt });
  }
  return changes;
}
