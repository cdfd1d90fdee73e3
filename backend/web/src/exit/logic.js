// The members' exit page's pure logic (contracts/EXIT.md §7, the page in src/exit/main.tsx): a proof file read into
// `exit`'s arguments, the build's contract the proof names, the payout batches since the commitment rebuilt from their
// logs and calldata into `foldBatches`' argument (checked against the running hash the exit waits for), the claim
// window's figures (each claim's share, the member's stage, a payout's recipient checked as the contract checks it;
// contracts/EXIT.md §13) and a revert named in plain words. Plain JavaScript (checked by tsc through JSDoc) and pure:
// no I/O, no window, no clock; the ABIs it decodes with are its callers' (the page passes the generated ones, the node
// test abi/artifacts'), so that the same module is what `tests/22-exit-logic.test.mjs` checks.
import { concat, decodeErrorResult, decodeFunctionData, encodeAbiParameters, getAddress, keccak256, numberToHex, stringToHex } from "viem";
import en from "../i18n/exit/en.js";
import { wordsOf } from "../i18n/words.js";

/** The exit's findings in words: English here and in Node, the picked language in the page (src/i18n/words.js). */
const t = wordsOf(en);

/** @typedef {`0x${string}`} Hex */
/**
 * `SettlementExit`'s `ExitLeaf`: the member's leaf of the latest commitment (SOLVENCY.md), its five figures and salt.
 * @typedef {{ member: Hex, reserved: bigint, held: bigint, pending: bigint, batched: bigint, claimable: bigint, salt: Hex }} ExitLeaf
 */
/** A sibling of the proof (`SumNode`): its hash and its subtree's sum.
 * @typedef {{ hash: Hex, sum: bigint }} SumNode */
/**
 * A proof file read for the exit: where it is from (chain, contract, token, epoch, block) and `exit`'s arguments.
 * @typedef {{ chainId: number, contract: Hex, token: Hex, epoch: bigint, asOfBlock: bigint, member: Hex,
 *   symbol: string | null, decimals: number | null, leaf: ExitLeaf, index: bigint, siblings: SumNode[],
 *   entitlement: bigint, value: bigint }} ExitProof
 */
/** One payout entry (`Payout`).
 * @typedef {{ recipient: Hex, amount: bigint }} Payout */
/** `FoldedBatch`: a batch as `foldBatches` replays it.
 * @typedef {{ previous: Hex, nonce: bigint, payouts: Payout[] }} FoldedBatch */
/**
 * A `PayoutBatchExecuted` log of the token, as the wallet's node gave it: its block, its index in the block (null
 * when the node does not tell it: TronLink's transaction infos), the transaction and the event's fields.
 * @typedef {{ block: bigint, logIndex: number | null, txid: string, nonce: bigint, token: Hex, payoutsHash: Hex }} BatchLog
 */
/** An executed batch: its log, and its entries from its transaction's calldata (checked against the log).
 * @typedef {BatchLog & { payouts: Payout[] }} ExecutedBatch */
/** A network of the build (lib/networks-build.ts's `BuildNetwork`, the fields read here).
 * @typedef {{ name: string, chainId: number, settlement: Hex, settlementTron: string | null,
 *   previous: readonly { settlement: Hex, settlementTron: string | null }[] }} BuildNetworkLike */
/** One of the build's contracts on the wallet's chain.
 * @typedef {{ settlement: Hex, settlementTron: string | null, live: boolean }} BuildContractRef */

/** An all-zero 32-byte word: `previous` of the first batch since a commitment, and "nothing left to fold". */
export const ZERO_HASH = /** @type {Hex} */ (`0x${"0".repeat(64)}`);
/** The native coin's token address. */
export const NATIVE_TOKEN = /** @type {Hex} */ ("0x0000000000000000000000000000000000000000");
const U128_LIMIT = 1n << 128n;
const MAX_DEPTH = 32;
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL_RE = /^[0-9]{1,78}$/;

/** What a proof file or the chain gave that the exit cannot use; its message says why in plain words. */
export class ExitInputError extends Error {}

/**
 * A well-formed proof of a sales-plan leaf (0x03, with `maturing`), which this version of the exit contract cannot
 * take (its `ExitLeaf` has five figures): refused before any call, in words of its own.
 */
export class SalesLeafError extends ExitInputError {}

// ── the proof file ───────────────────────────────────────────────────────────────────────────────────────────────

/**
 * A proof file — the JSON of `GET /v1/users/solvency-proof?download=true`, or the dApp's saved proof (the same JSON)
 * — read into the exit's arguments and checked for form: the version, the addresses, each balance a whole number
 * below 2^128 (their sum too), the salt, one sibling per level (at most 32) with its hash and sum, and the index
 * within the tree. `ExitLeaf.member` is the proof's user; what counts for the exit (`entitlement`) is reserved + held
 * + pending + batched — `claimable` stays the member's to `claim` from the Settlement (EXIT.md §4).
 * A proof of an asset on the sales plan (balances with `maturing`, SOLVENCY.md's 0x03 leaf, whatever its value) is
 * checked for form like any other, then refused: `ExitLeaf` has five figures and the exit contract hashes a 0x00 leaf,
 * so such a proof could only make `exit` or `leave` revert with InvalidProof — which would read as an altered proof
 * (contracts/SALES.md §6: the exit's 0x03 leaves are not built yet).
 * @param {unknown} input the parsed JSON, or its text
 * @returns {ExitProof}
 */
export function readProof(input) {
  let json = input;
  if (typeof input === "string") {
    try {
      json = JSON.parse(input);
    } catch {
      throw new ExitInputError(t("exl.not_json"));
    }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ExitInputError(t("exl.no_object"));
  const p = /** @type {Record<string, unknown>} */ (json);
  const bad = (/** @type {string} */ why) => {
    throw new ExitInputError(t("exl.unusable", { why }));
  };
  if (p.version !== "solvency/v1") bad(t("exl.version", { found: String(JSON.stringify(p.version)) }));
  const whole = (/** @type {unknown} */ v, /** @type {string} */ what) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(t("exl.not_whole", { what, value: String(JSON.stringify(v)) }));
    return /** @type {number} */ (v);
  };
  const address = (/** @type {unknown} */ v, /** @type {string} */ what) => {
    if (typeof v !== "string" || !ADDRESS_RE.test(v)) bad(t("exl.not_address", { what, value: String(JSON.stringify(v)) }));
    return /** @type {Hex} */ (getAddress(/** @type {string} */ (v)));
  };
  const bytes32 = (/** @type {unknown} */ v, /** @type {string} */ what) => {
    if (typeof v !== "string" || !BYTES32_RE.test(v)) bad(t("exl.not_bytes32", { what }));
    return /** @type {Hex} */ (/** @type {string} */ (v).toLowerCase());
  };
  const amount = (/** @type {unknown} */ v, /** @type {string} */ what) => {
    if (typeof v !== "string" || !DECIMAL_RE.test(v)) bad(t("exl.not_amount", { what, value: String(JSON.stringify(v)) }));
    const n = BigInt(/** @type {string} */ (v));
    if (n >= U128_LIMIT) bad(t("exl.amount_range", { what }));
    return n;
  };
  const chainId = whole(p.chain_id, "chain_id");
  const contract = address(p.contract, "contract");
  const token = address(p.token, "token");
  const member = address(p.user, "user");
  const epoch = BigInt(whole(p.epoch, "epoch"));
  if (epoch === 0n) bad(t("exl.epoch_zero"));
  const asOfBlock = BigInt(whole(p.as_of_block, "as_of_block"));
  const b = /** @type {Record<string, unknown>} */ (typeof p.balances === "object" && p.balances !== null ? p.balances : bad(t("exl.no_balances")));
  const leaf = {
    member,
    reserved: amount(b.reserved, "balances.reserved"),
    held: amount(b.held, "balances.held"),
    pending: amount(b.pending, "balances.pending"),
    batched: amount(b.batched, "balances.batched"),
    claimable: amount(b.claimable, "balances.claimable"),
    salt: bytes32(p.salt, "salt"),
  };
  // A sales-plan leaf's sixth figure: its key makes the leaf a 0x03 one, whatever it holds.
  const maturing = Object.hasOwn(b, "maturing") ? amount(b.maturing, "balances.maturing") : null;
  const value = leaf.reserved + leaf.held + leaf.pending + leaf.batched + leaf.claimable + (maturing ?? 0n);
  if (value >= U128_LIMIT) bad(t("exl.sum_range"));
  if (!Array.isArray(p.siblings)) bad(t("exl.siblings_not_list"));
  const list = /** @type {unknown[]} */ (p.siblings);
  if (list.length > MAX_DEPTH) bad(t("exl.too_deep", { siblings: list.length, max: MAX_DEPTH }));
  if (p.depth !== undefined && p.depth !== list.length) bad(t("exl.depth", { depth: String(JSON.stringify(p.depth)), siblings: list.length }));
  const siblings = list.map((s, i) => {
    const node = /** @type {Record<string, unknown>} */ (typeof s === "object" && s !== null ? s : bad(t("exl.sibling_not_object", { i })));
    return { hash: bytes32(node.hash, t("exl.sibling_hash", { i })), sum: amount(node.sum, t("exl.sibling_sum", { i })) };
  });
  const index = BigInt(whole(p.index, "index"));
  if (index >> BigInt(siblings.length) !== 0n) bad(t("exl.index", { index, levels: siblings.length }));
  // A well-formed proof all the same: said apart from a malformed one, before any call is made with it.
  if (maturing !== null) throw new SalesLeafError(t("exl.sales_leaf"));
  return {
    chainId,
    contract,
    token,
    epoch,
    asOfBlock,
    member,
    symbol: typeof p.symbol === "string" && p.symbol ? p.symbol : null,
    decimals: typeof p.decimals === "number" && Number.isSafeInteger(p.decimals) && p.decimals >= 0 && p.decimals <= 36 ? p.decimals : null,
    leaf,
    index,
    siblings,
    entitlement: leaf.reserved + leaf.held + leaf.pending + leaf.batched,
    value,
  };
}

// ── the build's contracts ────────────────────────────────────────────────────────────────────────────────────────

/**
 * The contracts this build carries for `chainId` (the deployment records: the live one first, then those it
 * replaced, each with its own exit), or null when it carries none there.
 * @param {readonly BuildNetworkLike[]} networks
 * @param {number} chainId
 * @returns {BuildContractRef[] | null}
 */
export function buildContracts(networks, chainId) {
  const n = networks.find((x) => x.chainId === chainId);
  if (!n) return null;
  return [{ settlement: n.settlement, settlementTron: n.settlementTron, live: true }, ...n.previous.map((p) => ({ ...p, live: false }))];
}

/**
 * Whether the exit may be taken where the proof says: the proof is of the wallet's chain and names a Settlement this
 * build carries for it (the live one or one it replaced) — never a contract the proof or an operator's server names
 * alone. The build's contract, or why not in words.
 * @param {readonly BuildNetworkLike[]} networks
 * @param {number} walletChainId
 * @param {{ chainId: number, contract: Hex }} proof
 * @param {(chainId: number) => string} label a network's name in words
 * @returns {{ ok: true, contract: BuildContractRef } | { ok: false, why: string }}
 */
export function contractOfProof(networks, walletChainId, proof, label) {
  if (proof.chainId !== walletChainId)
    return { ok: false, why: t("exl.other_chain", { proof: label(proof.chainId), wallet: label(walletChainId) }) };
  const contracts = buildContracts(networks, walletChainId);
  if (!contracts)
    return {
      ok: false,
      why: t("exl.unsupported", { network: label(walletChainId) }),
    };
  const found = contracts.find((c) => c.settlement.toLowerCase() === proof.contract.toLowerCase());
  if (!found) {
    const known = contracts.map((c) => t(c.live ? "exl.known_live" : "exl.known_replaced", { contract: c.settlementTron ?? c.settlement })).join(", ");
    return {
      ok: false,
      why: t("exl.other_contract", { contract: proof.contract, network: label(walletChainId), known }),
    };
  }
  return { ok: true, contract: found };
}

// ── the payout batches since the commitment ──────────────────────────────────────────────────────────────────────

/** EIP-712's type hash of one entry: keccak256("Payout(address recipient,uint256 amount)"). */
export const PAYOUT_TYPEHASH = keccak256(stringToHex("Payout(address recipient,uint256 amount)"));

/**
 * `payoutsHash` of a batch, as the contract and its `PayoutBatchExecuted` event have it: keccak256 of the entries'
 * EIP-712 struct hashes, concatenated.
 * @param {readonly Payout[]} payouts
 * @returns {Hex}
 */
export function payoutsHash(payouts) {
  const hashes = payouts.map((p) =>
    keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "address" }, { type: "uint256" }], [PAYOUT_TYPEHASH, p.recipient, p.amount])),
  );
  return keccak256(concat(hashes));
}

/**
 * The running hash of a token's batches since its commitment after one more batch: keccak256(previous ‖ nonce ‖
 * payoutsHash), 32 bytes each (SettlementHashes.chainBatch).
 * @param {Hex} previous
 * @param {bigint} nonce
 * @param {Hex} hash
 * @returns {Hex}
 */
export const chainBatch = (previous, nonce, hash) => keccak256(concat([previous, numberToHex(nonce, { size: 32 }), hash]));

/**
 * A raw `PayoutBatchExecuted` log (`topics[0]` the event's topic, `topics[1]` the nonce, `topics[2]` the token; the
 * data's first word `payoutsHash`) as a `BatchLog`; null when it is another event.
 * @param {{ topics: readonly string[], data: string, blockNumber: bigint, logIndex: number | null, txid: string }} log
 * @param {string} topic the event's topic (the page's generated `settlementEventPayoutBatchExecutedTopic`)
 * @returns {BatchLog | null}
 */
export function batchLogOf(log, topic) {
  if (log.topics[0]?.toLowerCase() !== topic.toLowerCase() || log.topics.length < 3) return null;
  const data = log.data.replace(/^0x/, "");
  if (data.length < 64) throw new ExitInputError(t("exl.log_short", { tx: log.txid }));
  return {
    block: log.blockNumber,
    logIndex: log.logIndex,
    txid: log.txid,
    nonce: BigInt(log.topics[1]),
    token: /** @type {Hex} */ (getAddress(`0x${log.topics[2].slice(-40)}`)),
    payoutsHash: /** @type {Hex} */ (`0x${data.slice(0, 64).toLowerCase()}`),
  };
}

/**
 * A batch's entries from its transaction's calldata (`executePayoutBatch(batch, signature)` sent to the Settlement),
 * checked against its log: the same nonce and token, and entries that hash to the log's `payoutsHash`. A transaction
 * that is not a direct `executePayoutBatch` call (an operator calling through another contract) cannot be read here.
 * @param {BatchLog} log
 * @param {Hex} input the transaction's calldata
 * @param {readonly unknown[]} abi the one-item ABI of `executePayoutBatch`
 * @returns {ExecutedBatch}
 */
export function executedBatch(log, input, abi) {
  let decoded;
  try {
    decoded = decodeFunctionData({ abi: /** @type {any} */ (abi), data: input });
  } catch {
    throw new ExitInputError(t("exl.not_direct", { tx: log.txid, nonce: log.nonce }));
  }
  const batch = /** @type {{ token: string, payouts: readonly { recipient: string, amount: bigint }[], nonce: bigint }} */ (/** @type {readonly unknown[]} */ (decoded.args)[0]);
  const payouts = batch.payouts.map((p) => ({ recipient: /** @type {Hex} */ (getAddress(p.recipient)), amount: p.amount }));
  if (batch.nonce !== log.nonce || batch.token.toLowerCase() !== log.token.toLowerCase())
    throw new ExitInputError(t("exl.other_batch", { tx: log.txid, nonce: batch.nonce, token: batch.token, log: log.nonce }));
  if (payoutsHash(payouts).toLowerCase() !== log.payoutsHash.toLowerCase()) throw new ExitInputError(t("exl.bad_hash", { tx: log.txid }));
  return { ...log, payouts };
}

/**
 * The batches to fold, newest first, as `foldBatches` takes them: the batches executed since the commitment linked in
 * their chain's order (by block, then by index in the block; within a block whose order the node did not tell, every
 * order is tried), each with the running hash before it as `previous`, up to the one whose link is `target` — the
 * exit's `opening().batchesToFold` (the batches before it are what is left when some were folded already). Throws when
 * no order of the batches found reaches `target`: then the wallet's node did not give every batch, and nothing would
 * fold.
 * @param {readonly ExecutedBatch[]} executed
 * @param {Hex} target
 * @returns {{ batches: (FoldedBatch & { link: Hex, block: bigint, txid: string })[], entries: number }}
 */
export function foldPlan(executed, target) {
  if (target.toLowerCase() === ZERO_HASH) return { batches: [], entries: 0 };
  const sorted = [...executed].sort((a, b) => (a.block !== b.block ? (a.block < b.block ? -1 : 1) : (a.logIndex ?? 0) - (b.logIndex ?? 0)));
  // Same-block batches without a known order are the only freedom; a bounded search over those orders.
  /** @type {(FoldedBatch & { link: Hex, block: bigint, txid: string })[]} */
  const chain = [];
  const used = new Set();
  let steps = 0;
  const want = target.toLowerCase();
  /** @returns {boolean} */
  const extend = (/** @type {Hex} */ previous) => {
    if (previous.toLowerCase() === want && chain.length > 0) return true;
    if (++steps > 100_000) return false;
    const next = sorted.findIndex((_, i) => !used.has(i));
    if (next < 0) return false;
    const block = sorted[next].block;
    const unordered = sorted[next].logIndex === null;
    for (let i = next; i < sorted.length && sorted[i].block === block; i++) {
      if (used.has(i)) continue;
      if (!unordered && i !== next) break;
      const b = sorted[i];
      const link = chainBatch(previous, b.nonce, payoutsHash(b.payouts));
      used.add(i);
      chain.push({ previous, nonce: b.nonce, payouts: b.payouts, link, block: b.block, txid: b.txid });
      if (extend(link)) return true;
      chain.pop();
      used.delete(i);
    }
    return false;
  };
  if (!extend(ZERO_HASH))
    throw new ExitInputError(t("exl.no_chain", { count: executed.length, target }));
  return { batches: chain.reverse(), entries: chain.reduce((n, b) => n + b.payouts.length, 0) };
}

/**
 * The fold split into calls of at most `maxEntries` entries each (a batch larger than that goes alone): in the order
 * to send them, each newest first — every call continues where the one before stopped (EXIT.md §10).
 * @template {FoldedBatch} B
 * @param {readonly B[]} newestFirst
 * @param {number} maxEntries
 * @returns {B[][]}
 */
export function foldChunks(newestFirst, maxEntries) {
  /** @type {B[][]} */
  const chunks = [];
  let current = /** @type {B[]} */ ([]);
  let size = 0;
  for (const b of newestFirst) {
    if (current.length && size + b.payouts.length > maxEntries) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(b);
    size += b.payouts.length;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

// ── figures ──────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The share of their due every claim is paid (contracts/EXIT.md §13): 1 when custody covers what the claims add up
 * to (`proven`), else custody/proven, in words ("100 %", "87.5431 %"; rounded down, as the contract rounds each
 * payment down). During the claim window it is the share if the window closed now: it can only fall as others claim.
 * @param {bigint} custody
 * @param {bigint} proven
 * @returns {{ full: boolean, text: string }}
 */
export function fractionOf(custody, proven) {
  if (proven === 0n || custody >= proven) return { full: true, text: "100 %" };
  const millionths = (custody * 100_000_000n) / proven;
  const whole = millionths / 1_000_000n;
  const rest = (millionths % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return { full: false, text: `${whole}${rest ? `.${rest}` : ""} %` };
}

/**
 * What `payOut` pays a claim of `due` (SettlementExit's `_share`): all of it when custody covers the claims' sum
 * `proven`, else due × custody / proven, rounded down — the same fraction for every member, whatever the order.
 * @param {bigint} due
 * @param {bigint} custody
 * @param {bigint} proven
 * @returns {bigint}
 */
export const shareOf = (due, custody, proven) => (custody >= proven ? due : (due * custody) / proven);

/**
 * Where a member stands in an asset's exit (contracts/EXIT.md §13), from what the chain says: `left` (they left
 * before the exit opened, §12), `not_open` (no exit yet), `claim` (the window runs and they have not claimed),
 * `claimed` (claimed, the window still runs), `payable` (claimed, the window closed, not paid yet), `paid`, or
 * `missed` (the window closed without a claim for them: the exit pays them nothing).
 * @param {{ open: boolean, left: boolean, window: { closed: boolean } | null, claim: { due: bigint, paid: boolean } | null }} s
 * @returns {"left" | "not_open" | "claim" | "claimed" | "payable" | "paid" | "missed"}
 */
export function memberStage(s) {
  if (s.left) return "left";
  if (!s.open) return "not_open";
  const closed = !!s.window?.closed;
  if (s.claim && s.claim.due > 0n) {
    if (s.claim.paid) return "paid";
    return closed ? "payable" : "claimed";
  }
  return closed ? "missed" : "claim";
}

/**
 * Why the exit contract would refuse to pay `to` for `member` when `sender` sends it (SettlementExit's
 * `_checkRecipient`: anyone may have the member's own address paid, only the member another; never the zero address,
 * the Settlement or the exit contract), or null when it would take it.
 * @param {string} to
 * @param {{ member: string, sender: string, settlement: string, exits: string }} c
 * @returns {"zero" | "contract" | "not_member" | null}
 */
export function recipientRefusal(to, c) {
  const a = to.toLowerCase();
  if (a === NATIVE_TOKEN) return "zero";
  if (a === c.settlement.toLowerCase() || a === c.exits.toLowerCase()) return "contract";
  if (a !== c.member.toLowerCase() && c.sender.toLowerCase() !== c.member.toLowerCase()) return "not_member";
  return null;
}

/**
 * A unix time of the chain's clock as text, in UTC: "2026-11-28 05:12:09 UTC".
 * @param {bigint | number} unix
 * @returns {string}
 */
export function utcText(unix) {
  const d = new Date(Number(unix) * 1000);
  return Number.isNaN(d.getTime()) ? `${unix}` : `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/**
 * A span of seconds in words: "1 day", "14 days", "3 hours 20 minutes", "45 seconds".
 * @param {bigint | number} seconds
 * @returns {string}
 */
export function spanText(seconds) {
  let s = Number(seconds);
  if (s <= 0) return "0 seconds";
  const parts = [];
  for (const [unit, size] of /** @type {const} */ ([
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
    ["second", 1],
  ])) {
    const n = Math.floor(s / size);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? "" : "s"}`);
    s -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

// ── reverts in words ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The revert data an EIP-1193 wallet, TronLink or viem attached to a failed call, wherever it put it (`data`,
 * `data.data`, `error.data`, `cause…`, or a hex blob in the message); null when there is none.
 * @param {unknown} e
 * @returns {Hex | null}
 */
export function revertDataOf(e) {
  const seen = new Set();
  /** @param {unknown} x @param {number} depth @returns {Hex | null} */
  const walk = (x, depth) => {
    if (x === null || x === undefined || depth > 6 || seen.has(x)) return null;
    if (typeof x === "string") return /^0x(?:[0-9a-fA-F]{2}){4,}$/.test(x) ? /** @type {Hex} */ (x.toLowerCase()) : null;
    if (typeof x !== "object") return null;
    seen.add(x);
    const o = /** @type {Record<string, unknown>} */ (x);
    for (const key of ["data", "revertData", "error", "cause", "originalError", "info"]) {
      const found = walk(o[key], depth + 1);
      if (found) return found;
    }
    return null;
  };
  const found = walk(e, 0);
  if (found) return found;
  const text = typeof e === "string" ? e : typeof e === "object" && e !== null ? String(/** @type {{ message?: unknown }} */ (e).message ?? "") : "";
  const m = /(?:data|custom error|reverted with)[^0-9a-fA-Fx]*(0x(?:[0-9a-fA-F]{2}){4,})/.exec(text);
  return m ? /** @type {Hex} */ (m[1].toLowerCase()) : null;
}

/**
 * What to say of amounts, addresses and the chain's times in a revert's words.
 * @typedef {{ amount?: (base: bigint) => string, address?: (a: string) => string, time?: (unix: bigint) => string }} WordsContext
 */

/**
 * A revert of the Settlement or its exit named in plain words: what happened, and what to do when something can be
 * done. Unknown data is named as it is.
 * @param {Hex} data the revert data
 * @param {readonly unknown[]} abi every custom error the call may revert with (both contracts')
 * @param {WordsContext} [ctx]
 * @returns {{ name: string, words: string }}
 */
export function revertWords(data, abi, ctx = {}) {
  const amount = ctx.amount ?? ((/** @type {bigint} */ v) => t("exl.base_units", { v }));
  const address = ctx.address ?? ((/** @type {string} */ a) => a);
  const time = ctx.time ?? utcText;
  let decoded;
  try {
    decoded = decodeErrorResult({ abi: /** @type {any} */ (abi), data });
  } catch {
    return { name: "unknown", words: t("exl.r_unknown", { data: data.length > 74 ? `${data.slice(0, 74)}…` : data }) };
  }
  const name = decoded.errorName;
  const a = /** @type {readonly any[]} */ (decoded.args ?? []);
  /** @type {Record<string, () => string>} */
  const words = {
    ExitNotDue: () => t("exl.r_exit_not_due", { at: time(a[1]) }),
    ExitOpen: () => t("exl.r_exit_open"),
    ExitNotOpen: () => t("exl.r_exit_not_open"),
    BatchesNotFolded: () => t("exl.r_batches_not_folded"),
    NothingToFold: () => t("exl.r_nothing_to_fold"),
    BatchNotInChain: () => t("exl.r_batch_not_in_chain", { batch: a[0], head: a[1], gives: a[2] }),
    AlreadyExited: () => t("exl.r_already_exited", { member: address(a[1]) }),
    InvalidProof: () => t("exl.r_invalid_proof", { root: a[0] }),
    SumOutOfRange: () => t("exl.r_sum_out_of_range", { sum: a[0] }),
    IndexOutOfRange: () => t("exl.r_index_out_of_range", { index: a[0], levels: a[1] }),
    ProofTooDeep: () => t("exl.r_proof_too_deep", { levels: a[0] }),
    NothingToExit: () => t("exl.r_nothing_to_exit", { member: address(a[1]) }),
    ClaimWindowClosed: () => t("exl.r_claim_window_closed", { end: time(a[1]) }),
    ClaimWindowOpen: () => t("exl.r_claim_window_open", { end: time(a[1]) }),
    NotClaimed: () => t("exl.r_not_claimed", { member: address(a[1]) }),
    AlreadyPaid: () => t("exl.r_already_paid", { member: address(a[1]) }),
    SurplusAlreadyReturned: () => t("exl.r_surplus_returned"),
    NoCommitment: () => t("exl.r_no_commitment"),
    BatchesMissing: () => t("exl.r_batches_missing"),
    WrongSender: () => t("exl.r_wrong_sender", { member: address(a[0]), wallet: address(a[1]) }),
    ZeroAddress: () => t("exl.r_zero_address"),
    SelfPayment: () => t("exl.r_self_payment"),
    OutboundTransferFailed: () => t("exl.r_transfer_failed"),
    TokenNeverAllowed: () => t("exl.r_token_never_allowed", { token: address(a[0]) }),
    ReentrancyGuardReentrantCall: () => t("exl.r_reentrant"),
    PayoutSumOverflow: () => t("exl.r_sum_overflow"),
    InsufficientFunds: () => t("exl.r_insufficient", { have: amount(a[0]), need: amount(a[1]) }),
    EnforcedPause: () => t("exl.r_paused"),
    WrongValue: () => t("exl.r_wrong_value"),
  };
  const say = words[name];
  return { name, words: say ? say() : t("exl.r_other", { error: `${name}(${a.map((x) => String(x)).join(", ")})` }) };
}
