// The proof of solvency after an upgrade (contracts/UPGRADES.md §7): a chain then has a live Settlement contract and
// the contracts it replaced, and every round — one ledger snapshot, one block and one total — is committed on each of
// them, each in its own tree (a leaf names its contract) and under its own epoch number. Solvency is the custody of
// every contract of the round together against the one total; the member's balance must be a leaf of every
// contract's tree, with the same balances in each.
//
// Pure (no I/O, no clock), like lib/solvency.js, whose per-contract verdicts it merges: the page reads each contract's
// `latestLiabilities(token)` through the member's wallet at the contracts THE BUILD carries (lib/networks-build.ts),
// never at one the operator's API names; the API's list of contracts is only compared with the build's
// (`listedProblems`). Its node test is tests/20-solvency-upgrade.test.mjs.

/** @typedef {`0x${string}`} Hex */
/** @typedef {import("./solvency.js").Check} Check */
/** @typedef {import("./solvency.js").VerifyResult} VerifyResult */
/** @typedef {import("./solvency.js").Balances} Balances */
/**
 * One contract's latest commitment of the asset as read from the chain through the member's wallet (all zero before
 * its first), with what the page knows of it: whether it is the live contract, whether the operator's API lists it,
 * whether it ever allowed the asset's token.
 * @typedef {{ contract: Hex, live: boolean, listed: boolean, tokenEverAllowed: boolean, root: Hex, total: bigint,
 *   epoch: bigint, asOfBlock: bigint, commitBlock: bigint, custody: bigint }} ContractCommitment
 */
/**
 * How the contracts' latest commitments stand together:
 *  - "none": no contract that is expected to commit (below) has committed anything;
 *  - "complete": every expected contract's latest commitment is of the round's block and total: solvency is judged on
 *    `custody`, the sum of the members' custody (`solvent`); `stale` when the round's balances are older than allowed;
 *  - "split": an expected contract is on another round (one is being committed: check again in a minute);
 *  - "stale": the same, but the contract that lags holds balances older than allowed (one that never committed: the
 *    round's first commitment is older than that): it is not being committed;
 *  - "conflict": two contracts hold commitments of the same block with different totals: not one snapshot.
 * The round is the newest block an expected contract committed. Expected: the live contract, and every replaced one
 * the operator's API lists (it commits every round on each). A replaced contract the API does not list counts when it
 * committed the round all the same (`members`), otherwise it is `dropped` (its custody is not counted: the sum can
 * only understate). A replaced contract that never allowed the token has no part in the asset (`idle`).
 * @typedef {{ kind: "none" | "complete" | "split" | "stale" | "conflict", asOfBlock: bigint, total: bigint,
 *   members: ContractCommitment[], behind: ContractCommitment[], dropped: ContractCommitment[],
 *   idle: ContractCommitment[], conflicts: ContractCommitment[], custody: bigint, solvent: boolean, age: bigint,
 *   lag: bigint, stale: boolean }} RoundVerdict
 */
/** A contract's check, named by the contract it is about (null: the round's, about every contract).
 * @typedef {Check & { contract: Hex | null, live: boolean }} RoundCheck */
/**
 * One member's proofs on every contract of a complete round, merged: `ok` when every contract's proof passed (the
 * information-only checks aside), `solvent` the round's (every contract's custody together against the total).
 * @typedef {{ ok: boolean, checks: RoundCheck[], solvent: boolean, stale: boolean, leafValue: bigint | null }} RoundResult
 */

import en from "../i18n/solvency/en.js";
import { wordsOf } from "../i18n/words.js";

/** The round's findings in words: English here and in Node, the reader's language in the page (src/i18n/words.js). */
const t = wordsOf(en);

const BALANCE_KEYS = /** @type {const} */ (["reserved", "held", "pending", "batched", "claimable"]);
/** A sales-plan leaf's (0x03) sixth figure, after `claimable` (lib/solvency.js). */
const SALES_BALANCE_KEYS = /** @type {const} */ ([...BALANCE_KEYS, "maturing"]);

/** @param {string} s */
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
/** @param {string} a */
const low = (a) => /** @type {Hex} */ (a.toLowerCase());

/**
 * The operator's list of the asset's contracts (`contracts` of `GET /v1/public/solvency`) against the build's: every
 * contract it lists must be one the build carries for the chain, and the one it calls live must be the build's live
 * one. `listed` absent (an API from before upgrades): nothing to compare.
 * @param {{ live: string, previous: readonly string[] }} build the build's contracts, 0x
 * @param {readonly { contract_hex: string, live: boolean }[] | null | undefined} listed
 * @returns {{ ok: boolean, unknown: Hex[], details: string[] }}
 */
export function listedProblems(build, listed) {
  const live = low(build.live);
  const carried = new Set([live, ...build.previous.map(low)]);
  /** @type {Hex[]} */
  const unknown = [];
  /** @type {string[]} */
  const details = [];
  for (const entry of listed ?? []) {
    const contract = low(String(entry?.contract_hex ?? ""));
    if (!carried.has(contract)) {
      if (!unknown.includes(contract)) {
        unknown.push(contract);
        details.push(t("sr.listed_unknown", { contract }));
      }
    } else if (entry.live === true && contract !== live) {
      details.push(t("sr.listed_swapped", { contract, live }));
    }
  }
  return { ok: details.length === 0, unknown, details };
}

/**
 * Judges the contracts' latest commitments together (see RoundVerdict). `contracts` lists the live contract first.
 * @param {readonly ContractCommitment[]} contracts
 * @param {bigint} head the chain's head, read through the wallet
 * @param {bigint} maxAgeBlocks the build's maximum age (never the API's)
 * @returns {RoundVerdict}
 */
export function judgeRound(contracts, head, maxAgeBlocks) {
  const live = contracts.find((c) => c.live);
  if (!live) throw new Error("judgeRound: no live contract");
  /** @param {ContractCommitment} c */
  const ageOf = (c) => (head > c.asOfBlock ? head - c.asOfBlock : 0n);
  const idle = contracts.filter((c) => !c.live && !c.tokenEverAllowed);
  const taking = contracts.filter((c) => c.live || c.tokenEverAllowed);
  const expected = taking.filter((c) => c.live || c.listed);
  const committed = expected.filter((c) => c.epoch > 0n);
  /** @type {RoundVerdict} */
  const verdict = {
    kind: "none",
    asOfBlock: 0n,
    total: 0n,
    members: [],
    behind: [],
    dropped: [],
    idle,
    conflicts: [],
    custody: 0n,
    solvent: false,
    age: 0n,
    lag: 0n,
    stale: false,
  };
  if (committed.length === 0) {
    verdict.dropped = taking.filter((c) => !c.live && !c.listed);
    return verdict;
  }
  // The round: the newest block an expected contract committed; its total that of the live contract when it is on it.
  const asOfBlock = committed.reduce((max, c) => (c.asOfBlock > max ? c.asOfBlock : max), 0n);
  const leader = committed.find((c) => c.live && c.asOfBlock === asOfBlock) ?? /** @type {ContractCommitment} */ (committed.find((c) => c.asOfBlock === asOfBlock));
  const total = leader.total;
  for (const c of taking) {
    const onRound = c.epoch > 0n && c.asOfBlock === asOfBlock;
    if (onRound && c.total === total) verdict.members.push(c);
    else if (onRound) verdict.conflicts.push(c);
    else if (c.live || c.listed) verdict.behind.push(c);
    else verdict.dropped.push(c);
  }
  verdict.asOfBlock = asOfBlock;
  verdict.total = total;
  verdict.custody = verdict.members.reduce((sum, c) => sum + c.custody, 0n);
  verdict.solvent = verdict.custody >= total;
  verdict.age = head > asOfBlock ? head - asOfBlock : 0n;
  // How long a contract has lagged: the age of its own latest balances; for one that never committed (the live
  // contract just after the switch), the blocks since the round's first commitment.
  const firstCommit = verdict.members.reduce((min, c) => (c.commitBlock < min ? c.commitBlock : min), head);
  /** @param {ContractCommitment} c */
  const lagOf = (c) => (c.epoch > 0n ? ageOf(c) : head > firstCommit ? head - firstCommit : 0n);
  verdict.lag = verdict.behind.reduce((max, c) => (lagOf(c) > max ? lagOf(c) : max), 0n);
  if (verdict.conflicts.length) {
    verdict.kind = "conflict";
    verdict.stale = verdict.age > maxAgeBlocks;
  } else if (verdict.behind.length) {
    verdict.stale = verdict.lag > maxAgeBlocks;
    verdict.kind = verdict.stale ? "stale" : "split";
  } else {
    verdict.kind = "complete";
    verdict.stale = verdict.age > maxAgeBlocks;
  }
  return verdict;
}

/**
 * "both contracts", "the 3 contracts" (and "the one contract"): how many contracts a sentence counts.
 * @param {number} n
 */
export const contractsText = (n) => (n === 1 ? t("sr.contracts_one") : n === 2 ? t("sr.contracts_two") : t("sr.contracts", { count: n }));

/**
 * "the custody of both contracts together" (or, when only one contract is on the round, "the custody of the one
 * contract on the round").
 * @param {number} n
 */
export const custodyText = (n) => (n === 1 ? t("sr.custody_one") : t("sr.custody", { contracts: contractsText(n) }));

/**
 * Merges one member's proofs, each verified (lib/solvency.js's `verifyProof`) against its own contract's commitment,
 * over a complete round: every contract's checks, named by contract, but for each contract's own "solvent" — its
 * custody alone against the whole total, which after an upgrade no single contract covers — replaced by the round's
 * (every member's custody together); plus "balances": the leaf holds the same five balances in every tree (one
 * ledger snapshot), and the same `maturing` on the sales plan — a tree whose leaf has it beside one whose leaf has
 * not differs too ("—": no such figure).
 * @param {readonly { contract: Hex, live: boolean, balances: Balances | null, result: VerifyResult }[]} parts
 * @param {RoundVerdict} verdict
 * @returns {RoundResult}
 */
export function mergeRound(parts, verdict) {
  /** @type {RoundCheck[]} */
  const checks = [];
  for (const part of parts)
    for (const c of part.result.checks) if (c.id !== "solvent") checks.push({ ...c, contract: low(part.contract), live: part.live });
  // The same balances in every tree.
  const known = parts.filter((p) => p.balances !== null);
  const first = known[0];
  /** @type {string[]} */
  const differ = [];
  if (first)
    for (const p of known.slice(1)) {
      const mine = /** @type {Balances} */ (first.balances);
      const theirs = /** @type {Balances} */ (p.balances);
      const all = mine.maturing !== undefined || theirs.maturing !== undefined ? SALES_BALANCE_KEYS : BALANCE_KEYS;
      const keys = all.filter((k) => theirs[k] !== mine[k]);
      /** @param {Balances} b */
      const listOf = (b) => keys.map((k) => t("sr.balance", { key: k, value: b[k] ?? "—" })).join(", ");
      if (keys.length)
        differ.push(
          t("sr.tree_differs", {
            contract: low(p.contract),
            theirs: listOf(theirs),
            first: low(first.contract),
            mine: listOf(mine),
          }),
        );
    }
  if (known.length > 1)
    checks.push({
      id: "balances",
      ok: differ.length === 0,
      detail: differ.length === 0 ? t("sr.balances_same", { contracts: contractsText(known.length) }) : t("sr.balances_differ", { why: differ.join("; ") }),
      contract: null,
      live: false,
    });
  const n = verdict.members.length;
  const each = verdict.members.map((c) => t("sr.each", { contract: low(c.contract), custody: c.custody })).join(", ");
  const figures = { amount: verdict.custody, each, block: verdict.asOfBlock, total: verdict.total };
  checks.push({
    id: "solvent",
    ok: verdict.solvent,
    info: true,
    detail: verdict.solvent
      ? t(n === 1 ? "sr.solvent_one" : "sr.solvent", { ...figures, custody: cap(custodyText(n)) })
      : t(n === 1 ? "sr.insolvent_one" : "sr.insolvent", { ...figures, custody: custodyText(n), short: verdict.total - verdict.custody }),
    contract: null,
    live: false,
  });
  const values = parts.map((p) => p.result.leafValue);
  return {
    ok: checks.every((c) => c.ok || c.info === true),
    checks,
    solvent: verdict.solvent,
    stale: parts.some((p) => p.result.stale),
    leafValue: values.find((v) => v !== null) ?? null,
  };
}
