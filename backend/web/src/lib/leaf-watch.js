// Each member's own watch over their leaf (issue 65, item 4; backend/SOLVENCY.md §3): the signer refuses a root whose
// TOTAL falls beyond what the chain explains, but a root may still lower one member's leaf within the daily allowance,
// or move it to another member's with the total unchanged; only that member can tell. So the dApp compares each newly
// verified proof with the member's previous verified proof of the same chain, contract, token and member: what they
// are owed — reserved + held + pending + batched, the leaf's entitlement (contracts/EXIT.md §4; `claimable` is the
// contract's own, outside it) — may fall only by what left the leaf between the two proofs' `as_of_block`s:
//  - each executed payout entry to the member, gross (fee included: the leaf lost the whole entry), whether the push
//    paid it or left it claimable (deferred: it left the entitlement for the contract's `claimable`);
//  - the member's own leave (`MemberLeft`'s `due`: the contract settled their leaf by it, EXIT.md §12).
// A payment counts when its block is after the previous proof's block and at or before the newer one's: the ledger at
// block B already counts what block B paid (EXIT.md §11), and the contract commits no block older than a batch or a
// leave it has seen. On the auto-pool plan a fall of `reserved` is the plan's own move too: auto-progression spends
// the reserve on the member's next pool level (PLAN.md §3.6), so it is counted as `spent` there (and only there: on
// the binary plan a reserve is released to `pending`, the entitlement unchanged). Whatever else lowered the leaf is the
// drop the badge flags (src/user/solvency/leaf-watch.tsx), with its evidence kept (lib/leaf-evidence.ts) — an admin's forfeit
// (SOLVENCY.md §2) included: the API tells the member of none with its block.
// On the sales plan a leaf has a sixth figure, `maturing` (retail commissions whose sale the buyer can still take back;
// SOLVENCY.md's 0x03 leaf). It stays out of the entitlement compared, as `claimable` does: it falls with nothing paid to
// the member whenever a buyer takes a sale back inside its window (PLAN-SALES.md §4: the commission is reversed), a
// fall only the chain's refunds could explain and no proof lists, so a fall of `maturing` is never flagged. When a sale
// becomes final its commission moves from `maturing` to `pending` (or `held`): the six-figure value is unchanged and the
// entitlement rises by as much, so the commission counts once, and is compared from then on. Owed money moved the other
// way (pending cut, maturing raised) is a fall of the entitlement, and is flagged. The point keeps `maturing` (null for
// a five-figure leaf) for the evidence to show.
//
// Plain JavaScript (checked by tsc through JSDoc) and pure: no I/O, no clock, no dependency. Every amount and block is
// a bigint of base units (a float would round a drop away); a number where one is expected throws. Its node test is
// tests/37-leaf-watch.test.mjs.

/**
 * One verified proof, as the watch compares it: whose leaf it is (chain, contract, token and member, lower case), of
 * which epoch and block, and the member's entitlement in it.
 * @typedef {{ chainId: number, contract: string, token: string, member: string, epoch: bigint, asOfBlock: bigint,
 *   entitlement: bigint, reserved: bigint, maturing?: bigint | null }} LeafPoint
 * `maturing`: a sales-plan leaf's sixth figure, never part of the entitlement (see above); null (or absent) for a
 * five-figure leaf.
 */
/**
 * What left the member's leaf at a block: a payout entry pushed (`payout`) or left claimable (`deferred`), gross; or
 * what the member's leave settled (`left`). `tx` and `batch` name it for the evidence (null when unknown).
 * @typedef {{ kind: "payout" | "deferred" | "left", block: bigint, amount: bigint, tx: string | null,
 *   batch: number | null }} LeafPayment
 */
/**
 * The comparison of a newer proof with the previous one:
 *  - "unrelated": not the same chain, contract, token and member (never compared);
 *  - "not_newer": the newer proof's epoch (or block) is not past the previous one's (never compared backwards);
 *  - "kept": the entitlement did not fall by more than what was paid between the two blocks;
 *  - "lowered": it fell by `unexplained` more than that.
 * `drop` is how much the entitlement fell (0 when it rose), `paid` the sum of `counted`, the payments between the two
 * blocks, `spent` what auto-progression took of the reserve (0 off the auto-pool plan).
 * @typedef {{ kind: "unrelated" | "not_newer" }
 *   | { kind: "kept" | "lowered", previous: LeafPoint, next: LeafPoint, drop: bigint, paid: bigint, spent: bigint,
 *       unexplained: bigint, counted: LeafPayment[] }} LeafVerdict
 */

/** `MemberLeft(address,address,address,uint256,uint256)`'s topic (the test computes it from the signature). */
export const MEMBER_LEFT_TOPIC = "0x092feb87943af4899ac3769fa94e21ccc9ae6711669783c53336ae96e096c5d8";

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const DECIMAL_RE = /^[0-9]{1,78}$/;
const HEX_RE = /^0x[0-9a-fA-F]*$/;
/** The four parts of the leaf a member is owed by the plan (EXIT.md §4), `claimable` left out. */
const OWED = /** @type {const} */ (["reserved", "held", "pending", "batched"]);

/** @param {unknown} v @returns {v is Record<string, unknown>} */
const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A decimal string of base units (the API's form) as a bigint; throws on anything else (a float, a sign, an exponent).
 * @param {unknown} v
 * @param {string} what
 * @returns {bigint}
 */
export function baseUnits(v, what) {
  if (typeof v !== "string" || !DECIMAL_RE.test(v)) throw new TypeError(`${what} is not a whole number of base units: ${JSON.stringify(v)}`);
  return BigInt(v);
}

/**
 * @param {unknown} v
 * @param {string} what
 * @returns {bigint}
 */
function whole(v, what) {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new TypeError(`${what} is not a whole number: ${JSON.stringify(v)}`);
  return BigInt(v);
}

/**
 * @param {unknown} v
 * @param {string} what
 * @returns {string}
 */
function address(v, what) {
  if (typeof v !== "string" || !ADDRESS_RE.test(v)) throw new TypeError(`${what} is not a 0x address: ${JSON.stringify(v)}`);
  return v.toLowerCase();
}

/**
 * @param {unknown} v
 * @param {string} what
 */
function amount(v, what) {
  if (typeof v !== "bigint") throw new TypeError(`${what} is not a bigint of base units: ${typeof v}`);
  if (v < 0n) throw new RangeError(`${what} is negative: ${v}`);
}

/**
 * A proof as the server gave it (`GET /v1/users/solvency-proof`, the JSON the dApp saves) read into a `LeafPoint`;
 * throws a TypeError on a field out of form.
 * @param {unknown} proof
 * @returns {LeafPoint}
 */
export function leafPoint(proof) {
  if (!isObject(proof) || !isObject(proof.balances)) throw new TypeError("not a proof of solvency: no balances");
  const b = proof.balances;
  const chainId = whole(proof.chain_id, "chain_id");
  return {
    chainId: Number(chainId),
    contract: address(proof.contract, "contract"),
    token: address(proof.token, "token"),
    member: address(proof.user, "user"),
    epoch: whole(proof.epoch, "epoch"),
    asOfBlock: whole(proof.as_of_block, "as_of_block"),
    entitlement: OWED.reduce((sum, k) => sum + baseUnits(b[k], `balances.${k}`), 0n),
    reserved: baseUnits(b.reserved, "balances.reserved"),
    // Read (and its form checked) for the evidence only: the comparison leaves it out.
    maturing: Object.hasOwn(b, "maturing") ? baseUnits(b.maturing, "balances.maturing") : null,
  };
}

/**
 * Whether two points are of one leaf: the same chain, contract, token and member.
 * @param {LeafPoint} a
 * @param {LeafPoint} b
 */
export const sameLeaf = (a, b) => a.chainId === b.chainId && a.contract === b.contract && a.token === b.token && a.member === b.member;

/**
 * @param {LeafPoint} p
 * @param {string} what
 */
function checkPoint(p, what) {
  amount(p.entitlement, `${what}'s entitlement`);
  amount(p.reserved, `${what}'s reserve`);
  if (p.maturing != null) amount(p.maturing, `${what}'s maturing commissions`);
  if (typeof p.epoch !== "bigint" || typeof p.asOfBlock !== "bigint") throw new TypeError(`${what}'s epoch and block must be bigints`);
}

/**
 * The newer proof `next` against the member's `previous` one, less what `payments` took out of the leaf between
 * their blocks (payments at other blocks are ignored: the caller may pass the member's whole history) and, when the
 * plan spends reserves (`spendsReserve`: the auto-pool plan's auto-progression), what the reserve fell by.
 * @param {LeafPoint} previous
 * @param {LeafPoint} next
 * @param {LeafPayment[]} payments
 * @param {boolean} [spendsReserve]
 * @returns {LeafVerdict}
 */
export function compareLeaves(previous, next, payments, spendsReserve = false) {
  checkPoint(previous, "the previous proof");
  checkPoint(next, "the newer proof");
  for (const p of payments) {
    amount(p.amount, `a payment's amount`);
    if (typeof p.block !== "bigint") throw new TypeError(`a payment's block must be a bigint`);
  }
  if (!sameLeaf(previous, next)) return { kind: "unrelated" };
  if (next.epoch <= previous.epoch || next.asOfBlock <= previous.asOfBlock) return { kind: "not_newer" };
  const counted = payments.filter((p) => p.block > previous.asOfBlock && p.block <= next.asOfBlock);
  const paid = counted.reduce((sum, p) => sum + p.amount, 0n);
  // `maturing` is not compared: a buyer's take-back lowers it with nothing paid, and that is no drop (see above).
  const drop = previous.entitlement > next.entitlement ? previous.entitlement - next.entitlement : 0n;
  const spent = spendsReserve && previous.reserved > next.reserved ? previous.reserved - next.reserved : 0n;
  const unexplained = drop > paid + spent ? drop - paid - spent : 0n;
  return { kind: unexplained > 0n ? "lowered" : "kept", previous, next, drop, paid, spent, unexplained, counted };
}

/**
 * The executed payout entries in the member's history (`GET /v1/users/history`'s items: each reward with the parts of
 * it payout batches carried), one payment per part: its gross `amount` at its batch's `executed_block`, `deferred`
 * when the push left it claimable. Parts of batches not executed (building, signed, submitted, failed) left nothing.
 * @param {unknown[]} rewards
 * @returns {LeafPayment[]}
 */
export function payoutsOfHistory(rewards) {
  /** @type {LeafPayment[]} */
  const out = [];
  for (const r of rewards) {
    if (!isObject(r) || !Array.isArray(r.payments)) throw new TypeError("not a reward of the history: no payments");
    for (const p of r.payments) {
      if (!isObject(p) || !isObject(p.batch) || !isObject(p.amount)) throw new TypeError("not a payment of the history");
      const batch = p.batch;
      if (batch.status !== "executed" || batch.executed_block == null) continue;
      out.push({
        kind: p.outcome === "claimable" ? "deferred" : "payout",
        block: whole(batch.executed_block, "executed_block"),
        amount: baseUnits(p.amount.base, "a payment's amount"),
        tx: typeof batch.tx_hash === "string" ? batch.tx_hash : null,
        batch: typeof batch.id === "number" ? batch.id : null,
      });
    }
  }
  return out;
}

/**
 * The member's leave in a transaction's receipt, as the chain recorded it: the `MemberLeft` log of one of `contracts`
 * (the build's, lower-case 0x) for `member` and `token`, read as a payment of its `due` at the receipt's block; null
 * when the receipt holds none.
 * @param {{ tx: string, block: bigint, logs: { address: string, topics: string[], data: string }[] }} receipt
 * @param {{ contracts: string[], member: string, token: string }} at
 * @returns {LeafPayment | null}
 */
export function memberLeftOf(receipt, at) {
  const word = (/** @type {string} */ a) => `0x${address(a, "address").slice(2).padStart(64, "0")}`;
  const contracts = at.contracts.map((c) => address(c, "contract"));
  const [member, token] = [word(at.member), word(at.token)];
  for (const l of receipt.logs) {
    const topics = l.topics.map((t) => t.toLowerCase());
    if (!contracts.includes(l.address.toLowerCase()) || topics[0] !== MEMBER_LEFT_TOPIC || topics[1] !== member || topics[2] !== token) continue;
    // Three words: to, amount (what custody paid), due (what the leave settled of the leaf).
    if (!HEX_RE.test(l.data) || l.data.length !== 2 + 3 * 64) throw new TypeError(`a MemberLeft log of ${receipt.tx} is not three words`);
    return { kind: "left", block: receipt.block, amount: BigInt(`0x${l.data.slice(2 + 128)}`), tx: receipt.tx, batch: null };
  }
  return null;
}
