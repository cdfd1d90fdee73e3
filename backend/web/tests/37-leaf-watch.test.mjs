// Each member's own watch over their leaf (src/lib/leaf-watch.js; issue 65, item 4), without browser or devnet: real
// proofs (the page's tree module, as the API serves them) of two epochs of one leaf compared —
// - a leaf lowered without a payment is flagged by exactly the drop; one lowered by a payout is not, counting the
//   entry's gross (its fee included, whether pushed or left claimable); partly explained, flagged by exactly the rest;
// - a higher leaf is never flagged; proofs of another chain, contract, token or member are never compared, nor an
//   older epoch with a newer one (backwards);
// - payments count only between the two proofs' blocks (after the previous one's, up to the newer one's), payout
//   batches not executed never; what is claimable is not part of the entitlement, nor (on the sales plan) what is
//   maturing: a buyer's take-back lowers it with nothing paid;
// - the member's leave read from its `MemberLeft` log (encoded here with viem, its topic computed from the
//   signature), counting its `due`;
// - every amount a bigint of base units: a number or a decimal string out of form is refused, a drop of one base unit
//   on amounts far beyond 2^53 is found exactly.
//   cd backend/web && node --test tests/37-leaf-watch.test.mjs
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { encodeAbiParameters, toEventSelector } from "viem";
import { buildTree, proofJson } from "../src/lib/solvency.js";
import { MEMBER_LEFT_TOPIC, baseUnits, compareLeaves, leafPoint, memberLeftOf, payoutsOfHistory } from "../src/lib/leaf-watch.js";

const CHAIN = 31337;
const CONTRACT = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";
const OTHER_CONTRACT = "0x1111111111111111111111111111111111111111";
const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const OTHER_TOKEN = "0x2222222222222222222222222222222222222222";
const addr = (n) => `0x${n.toString(16).padStart(40, "0")}`;
const ME = addr(0xa003);
const NEIGHBOUR = addr(0xa007);

/**
 * The proof of `user`'s leaf in a real tree of a few members for one epoch, as the API serves it (`proofJson`);
 * `mine` the member's five balances (bigints), the other members' fixed.
 */
function proofOf({ epoch, asOfBlock, mine, user = ME, chainId = CHAIN, contract = CONTRACT, token = TOKEN }) {
  const users = [ME, NEIGHBOUR, addr(0xa00b)];
  const salt = (u) => `0x${createHmac("sha256", "key").update(`${u}:${epoch}`).digest("hex")}`;
  const zero = { reserved: 0n, held: 0n, pending: 0n, batched: 0n, claimable: 0n };
  const tree = buildTree({
    chainId,
    contract: contract.toLowerCase(),
    token: token.toLowerCase(),
    epoch,
    // On the sales plan (the member's figures with `maturing`) every leaf of the tree has it: one asset, one plan.
    leaves: users.map((u) => ({
      user: u,
      salt: salt(u),
      balances: u === user ? { ...zero, ...mine } : { ...zero, pending: 500n, reserved: 70n, ...("maturing" in mine ? { maturing: 20n } : {}) },
    })),
  });
  const index = tree.leaves.findIndex((l) => l.user === user);
  return { ...proofJson(tree, index, asOfBlock), symbol: "USDT", decimals: 6, asset_id: 2 };
}

const point = (o) => leafPoint(proofOf(o));

/** A reward of the history (`GET /v1/users/history`) with one part per `parts` entry: gross, fee, batch, outcome. */
function reward(rewardNo, parts) {
  return {
    reward_no: rewardNo,
    kind: "DIRECT",
    amount: { base: "0", human: "0", symbol: "USDT" },
    payments: parts.map((p) => ({
      amount: { base: String(p.gross), human: "", symbol: "USDT" },
      fee: { base: String(p.fee ?? 0n), human: "", symbol: "USDT" },
      net: { base: String(p.gross - (p.fee ?? 0n)), human: "", symbol: "USDT" },
      batch: { id: p.batch ?? 1, status: p.status ?? "executed", tx_hash: `0x${"ab".repeat(32)}`, executed_block: p.status && p.status !== "executed" ? null : p.block },
      outcome: p.outcome ?? (p.status && p.status !== "executed" ? null : "paid"),
    })),
  };
}

// Epoch 4 at block 100: 1,000 pending + 200 in a batch + 300 reserved + 50 held (claimable 40 apart): owed 1,550.
const BEFORE = { epoch: 4, asOfBlock: 100, mine: { pending: 1000n, batched: 200n, reserved: 300n, held: 50n, claimable: 40n } };

// ── reading a proof ─────────────────────────────────────────────────────────────────────────────────────────────

test("a proof is read as its leaf's chain, contract, token, member, epoch, block and entitlement, claimable left out", () => {
  const p = point(BEFORE);
  assert.equal(p.chainId, CHAIN);
  assert.equal(p.contract, CONTRACT.toLowerCase());
  assert.equal(p.token, TOKEN.toLowerCase());
  assert.equal(p.member, ME);
  assert.equal(p.epoch, 4n);
  assert.equal(p.asOfBlock, 100n);
  // reserved + held + pending + batched; the 40 claimable are the contract's own (EXIT.md §4).
  assert.equal(p.entitlement, 1550n);
  assert.equal(typeof p.entitlement, "bigint");
  // A claimable that grows while the rest falls does not hide the fall.
  const after = point({ epoch: 5, asOfBlock: 120, mine: { pending: 1000n, batched: 200n, reserved: 300n, held: 0n, claimable: 90n } });
  const v = compareLeaves(p, after, []);
  assert.equal(v.kind, "lowered");
  assert.equal(v.unexplained, 50n);
});

test("on the sales plan maturing is read apart from the entitlement: a take-back lowers it with nothing paid, and is no drop", () => {
  // The same figures and 500 of retail commissions still maturing (a 0x03 leaf); a five-figure leaf has none.
  const SALES = { ...BEFORE, mine: { ...BEFORE.mine, maturing: 500n } };
  const p = point(SALES);
  assert.equal(p.maturing, 500n);
  assert.equal(p.entitlement, 1550n, "maturing is not part of the entitlement");
  assert.equal(point(BEFORE).maturing, null);
  assert.equal(point({ ...BEFORE, mine: { ...BEFORE.mine, maturing: 0n } }).maturing, 0n);
  // A buyer took a sale back: 200 of maturing reversed, nothing paid, nothing else moved: kept.
  const takenBack = compareLeaves(p, point({ ...SALES, epoch: 5, asOfBlock: 130, mine: { ...SALES.mine, maturing: 300n } }), []);
  assert.equal(takenBack.kind, "kept");
  assert.equal(takenBack.drop, 0n);
  // A sale became final: 200 moved from maturing to pending; the entitlement rises by what maturing lost.
  const matured = compareLeaves(p, point({ ...SALES, epoch: 5, asOfBlock: 130, mine: { ...SALES.mine, maturing: 300n, pending: 1200n } }), []);
  assert.equal(matured.kind, "kept");
  assert.equal(matured.next.entitlement - matured.previous.entitlement, 200n);
  // …and was paid in the same interval: pending back where it was, the payout counted, nothing flagged.
  const paid = compareLeaves(p, point({ ...SALES, epoch: 5, asOfBlock: 130, mine: { ...SALES.mine, maturing: 300n } }), [
    { kind: "payout", block: 120n, amount: 200n, tx: null, batch: 1 },
  ]);
  assert.equal(paid.kind, "kept");
  // Owed money moved back into maturing (pending cut, maturing raised by as much): the cut is flagged whole.
  const hidden = compareLeaves(p, point({ ...SALES, epoch: 5, asOfBlock: 130, mine: { ...SALES.mine, pending: 700n, maturing: 800n } }), []);
  assert.equal(hidden.kind, "lowered");
  assert.equal(hidden.unexplained, 300n);
  // Its form is checked like every amount.
  const bad = proofOf(SALES);
  assert.throws(() => leafPoint({ ...bad, balances: { ...bad.balances, maturing: "1.5" } }), TypeError);
  assert.throws(() => leafPoint({ ...bad, balances: { ...bad.balances, maturing: null } }), TypeError);
  assert.throws(() => compareLeaves({ ...p, maturing: -1n }, p, []), RangeError);
});

// ── the comparison ──────────────────────────────────────────────────────────────────────────────────────────────

test("a leaf lowered without any payment is flagged by exactly the drop", () => {
  const after = point({ epoch: 5, asOfBlock: 130, mine: { ...BEFORE.mine, pending: 700n } });
  const v = compareLeaves(point(BEFORE), after, []);
  assert.equal(v.kind, "lowered");
  assert.equal(v.drop, 300n);
  assert.equal(v.paid, 0n);
  assert.equal(v.unexplained, 300n);
  assert.deepEqual(v.counted, []);
  assert.equal(v.previous.epoch, 4n);
  assert.equal(v.next.epoch, 5n);
});

test("on the auto-pool plan a reserve spent by auto-progression explains its fall; elsewhere, and beyond it, it does not", () => {
  // 240 of the 300 reserved spent on the member's next pool level between the proofs, and 50 of pending cut.
  const after = point({ epoch: 5, asOfBlock: 130, mine: { ...BEFORE.mine, reserved: 60n, pending: 950n } });
  const pool = compareLeaves(point(BEFORE), after, [], true);
  assert.equal(pool.kind, "lowered");
  assert.equal(pool.drop, 290n);
  assert.equal(pool.spent, 240n);
  assert.equal(pool.unexplained, 50n, "the reserve's fall is the plan's; the pending cut is not");
  const spentOnly = point({ epoch: 5, asOfBlock: 130, mine: { ...BEFORE.mine, reserved: 60n } });
  assert.equal(compareLeaves(point(BEFORE), spentOnly, [], true).kind, "kept");
  // On the binary plan a reserve is released to pending, never spent: the same fall is flagged whole.
  const binary = compareLeaves(point(BEFORE), spentOnly, []);
  assert.equal(binary.kind, "lowered");
  assert.equal(binary.spent, 0n);
  assert.equal(binary.unexplained, 240n);
  // A reserve that rose counts nothing.
  const rose = point({ epoch: 5, asOfBlock: 130, mine: { ...BEFORE.mine, reserved: 400n, pending: 800n } });
  const v = compareLeaves(point(BEFORE), rose, [], true);
  assert.equal(v.spent, 0n);
  assert.equal(v.unexplained, 100n);
});

test("a drop fully explained by a payout, gross with its fee, pushed or left claimable, is not flagged", () => {
  // The batch of 200 executed at block 110: 190 reached the wallet, 10 the company's fee; the leaf lost all 200.
  const after = point({ epoch: 5, asOfBlock: 130, mine: { ...BEFORE.mine, batched: 0n, claimable: 40n } });
  const history = [reward(7, [{ gross: 200n, fee: 10n, block: 110 }])];
  const payments = payoutsOfHistory(history);
  assert.deepEqual(payments, [{ kind: "payout", block: 110n, amount: 200n, tx: `0x${"ab".repeat(32)}`, batch: 1 }]);
  const v = compareLeaves(point(BEFORE), after, payments);
  assert.equal(v.kind, "kept");
  assert.equal(v.drop, 200n);
  assert.equal(v.paid, 200n);
  assert.equal(v.unexplained, 0n);
  // Counting the net alone would have flagged the fee: the gross is what left the leaf.
  const netOnly = compareLeaves(point(BEFORE), after, [{ ...payments[0], amount: 190n }]);
  assert.equal(netOnly.kind, "lowered");
  assert.equal(netOnly.unexplained, 10n);

  // The same entry deferred (the push failed): it left the entitlement for the contract's claimable, and counts too.
  const deferred = payoutsOfHistory([reward(7, [{ gross: 200n, fee: 10n, block: 110, outcome: "claimable" }])]);
  assert.equal(deferred[0].kind, "deferred");
  const afterDeferred = point({ epoch: 5, asOfBlock: 130, mine: { ...BEFORE.mine, batched: 0n, claimable: 230n } });
  assert.equal(compareLeaves(point(BEFORE), afterDeferred, deferred).kind, "kept");
});

test("a drop partly explained by payouts is flagged by exactly the rest", () => {
  // Owed 1,550 → 1,000: a drop of 550, of which two parts of one entry (120 + 80, fee included) were paid at block 115.
  const after = point({ epoch: 6, asOfBlock: 140, mine: { pending: 650n, batched: 0n, reserved: 300n, held: 50n, claimable: 40n } });
  const payments = payoutsOfHistory([reward(8, [{ gross: 120n, fee: 6n, block: 115, batch: 3 }]), reward(9, [{ gross: 80n, fee: 4n, block: 115, batch: 3 }])]);
  const v = compareLeaves(point(BEFORE), after, payments);
  assert.equal(v.kind, "lowered");
  assert.equal(v.drop, 550n);
  assert.equal(v.paid, 200n);
  assert.equal(v.unexplained, 350n);
  assert.equal(v.counted.length, 2);
});

test("a higher leaf is never flagged, with or without payments", () => {
  const higher = point({ epoch: 5, asOfBlock: 130, mine: { ...BEFORE.mine, pending: 5000n } });
  for (const payments of [[], payoutsOfHistory([reward(7, [{ gross: 900n, block: 120 }])])]) {
    const v = compareLeaves(point(BEFORE), higher, payments);
    assert.equal(v.kind, "kept");
    assert.equal(v.drop, 0n);
    assert.equal(v.unexplained, 0n);
  }
  // The same leaf again: no drop either.
  assert.equal(compareLeaves(point(BEFORE), point({ ...BEFORE, epoch: 5, asOfBlock: 130 }), []).kind, "kept");
});

test("proofs of another chain, contract, token or member are never compared, however much lower", () => {
  const low = { epoch: 5, asOfBlock: 130, mine: { pending: 1n } };
  for (const other of [{ chainId: 56 }, { contract: OTHER_CONTRACT }, { token: OTHER_TOKEN }, { user: NEIGHBOUR }]) {
    const v = compareLeaves(point(BEFORE), point({ ...low, ...other }), []);
    assert.deepEqual(v, { kind: "unrelated" }, JSON.stringify(other));
  }
  // The same leaf, for contrast, is flagged.
  assert.equal(compareLeaves(point(BEFORE), point(low), []).kind, "lowered");
});

test("an older epoch arriving after a newer one is never compared backwards, nor an epoch with itself", () => {
  const newer = point({ epoch: 9, asOfBlock: 300, mine: { pending: 5000n } });
  const older = point(BEFORE);
  assert.deepEqual(compareLeaves(newer, older, []), { kind: "not_newer" });
  assert.deepEqual(compareLeaves(newer, point({ epoch: 9, asOfBlock: 300, mine: { pending: 1n } }), []), { kind: "not_newer" });
  // A later epoch whose block is not later is not a newer proof either.
  assert.deepEqual(compareLeaves(older, point({ epoch: 5, asOfBlock: 100, mine: { pending: 1n } }), []), { kind: "not_newer" });
});

test("only payments between the two proofs' blocks count: after the previous one's, up to the newer one's; batches not executed never", () => {
  const after = point({ epoch: 5, asOfBlock: 130, mine: { ...BEFORE.mine, pending: 0n } });
  const payments = payoutsOfHistory([
    reward(1, [{ gross: 1000n, block: 100 }]), // in the previous proof's block: already out of its leaf
    reward(2, [{ gross: 1000n, block: 131 }]), // after the newer proof's block: not yet out of its leaf
    reward(3, [{ gross: 1000n, block: 120, status: "submitted" }]), // never executed
    reward(4, [{ gross: 1000n, block: 125, status: "failed" }]),
  ]);
  assert.equal(payments.length, 2, "batches not executed are no payment");
  const v = compareLeaves(point(BEFORE), after, payments);
  assert.equal(v.kind, "lowered");
  assert.equal(v.paid, 0n);
  assert.equal(v.unexplained, 1000n);
  // In the newer proof's own block: counted.
  const atTheBlock = compareLeaves(point(BEFORE), after, payoutsOfHistory([reward(5, [{ gross: 1000n, block: 130 }])]));
  assert.equal(atTheBlock.kind, "kept");
  assert.equal(atTheBlock.paid, 1000n);
});

// ── the member's leave ──────────────────────────────────────────────────────────────────────────────────────────

test("the member's leave is read from its MemberLeft log and counts its due", () => {
  assert.equal(MEMBER_LEFT_TOPIC, toEventSelector("MemberLeft(address,address,address,uint256,uint256)"));
  const word = (a) => `0x${a.slice(2).toLowerCase().padStart(64, "0")}`;
  const to = addr(0xbeef);
  // The leave paid 1,400 (custody short) for a due of 1,550: the leaf was settled by 1,550.
  const data = encodeAbiParameters([{ type: "address" }, { type: "uint256" }, { type: "uint256" }], [to, 1400n, 1550n]);
  const log = (over = {}) => ({ address: CONTRACT, topics: [MEMBER_LEFT_TOPIC, word(ME), word(TOKEN)], data, ...over });
  const receipt = (logs) => ({ tx: `0x${"cd".repeat(32)}`, block: 125n, logs });
  const at = { contracts: [OTHER_CONTRACT, CONTRACT], member: ME, token: TOKEN };
  const left = memberLeftOf(receipt([log()]), at);
  assert.deepEqual(left, { kind: "left", block: 125n, amount: 1550n, tx: `0x${"cd".repeat(32)}`, batch: null });
  // Another member's leave, another token's, another contract's, another event: none of the member's.
  assert.equal(memberLeftOf(receipt([log({ topics: [MEMBER_LEFT_TOPIC, word(NEIGHBOUR), word(TOKEN)] })]), at), null);
  assert.equal(memberLeftOf(receipt([log({ topics: [MEMBER_LEFT_TOPIC, word(ME), word(OTHER_TOKEN)] })]), at), null);
  assert.equal(memberLeftOf(receipt([log({ address: addr(0x3333) })]), at), null);
  assert.equal(memberLeftOf(receipt([log({ topics: [toEventSelector("Claimed(address,address,address,uint256)"), word(ME), word(TOKEN)] })]), at), null);

  // After the leave the leaf is empty: the due explains all of it.
  const afterLeave = point({ epoch: 5, asOfBlock: 130, mine: { claimable: 40n } });
  assert.equal(compareLeaves(point(BEFORE), afterLeave, []).unexplained, 1550n);
  const v = compareLeaves(point(BEFORE), afterLeave, [left]);
  assert.equal(v.kind, "kept");
  assert.equal(v.paid, 1550n);
});

// ── base units ──────────────────────────────────────────────────────────────────────────────────────────────────

test("amounts are bigints of base units: numbers and decimal strings out of form are refused, a one-unit drop on huge amounts is exact", () => {
  const p = point(BEFORE);
  assert.throws(() => compareLeaves({ ...p, entitlement: 1550 }, p, []), TypeError);
  assert.throws(() => compareLeaves(p, { ...p, epoch: 5n, asOfBlock: 130n, entitlement: 1549.5 }, []), TypeError);
  assert.throws(() => compareLeaves(p, { ...p, epoch: 5n, asOfBlock: 130n }, [{ kind: "payout", block: 120n, amount: 10, tx: null, batch: null }]), TypeError);
  assert.throws(() => compareLeaves(p, { ...p, epoch: 5n, asOfBlock: 130n }, [{ kind: "payout", block: 120, amount: 10n, tx: null, batch: null }]), TypeError);
  for (const bad of ["1.5", "1e3", "-5", " 7", "", "0x10"]) assert.throws(() => baseUnits(bad, "x"), TypeError, bad);
  const proof = proofOf(BEFORE);
  assert.throws(() => leafPoint({ ...proof, balances: { ...proof.balances, pending: 1000 } }), TypeError);
  assert.throws(() => leafPoint({ ...proof, balances: { ...proof.balances, pending: "1000.0" } }), TypeError);
  assert.throws(() => payoutsOfHistory([{ payments: [{ amount: { base: "12.5" }, batch: { status: "executed", executed_block: 5 } }] }]), TypeError);

  // 10^30 base units (a trillion of an 18-decimal token) less one: a float cannot tell these apart, the watch does.
  const huge = 10n ** 30n;
  assert.equal(Number(huge) === Number(huge - 1n), true);
  const v = compareLeaves(point({ epoch: 4, asOfBlock: 100, mine: { pending: huge } }), point({ epoch: 5, asOfBlock: 130, mine: { pending: huge - 1n } }), []);
  assert.equal(v.kind, "lowered");
  assert.equal(v.unexplained, 1n);
  assert.equal(typeof v.unexplained, "bigint");
  assert.equal(typeof v.paid, "bigint");
  // Paid all of it but one base unit: that unit is flagged, not rounded away.
  const emptied = point({ epoch: 5, asOfBlock: 130, mine: {} });
  const paidAllButOne = compareLeaves(point({ epoch: 4, asOfBlock: 100, mine: { pending: huge } }), emptied, payoutsOfHistory([reward(1, [{ gross: huge - 1n, block: 120 }])]));
  assert.equal(paidAllButOne.kind, "lowered");
  assert.equal(paidAllButOne.paid, huge - 1n);
  assert.equal(paidAllButOne.unexplained, 1n);
});
