// The evidence of a lowered leaf (lib/leaf-watch.js), kept in the member's own browser (IndexedDB, a database of its
// own beside the proofs of lib/proof-store.ts). Before the badge saves a newly verified proof over the member's
// previous one (src/user/solvency/check.ts), a lower entitlement keeps BOTH proofs here, as they were verified: the
// previous one would otherwise be overwritten, and it is half of the evidence. What the member was paid between the
// two proofs is read next (`judgeEvidence`); a drop the payments explain leaves nothing behind, any other stays here —
// and the badge's warning with it — until the member deletes it, across reloads and later epochs.
//
// Where the payments come from:
//  - the payout entries: the operator's server's word (`GET /v1/users/history`, each part of a reward a batch carried,
//    gross, at the batch's executed block). The chain holds each entry's net amount only, in its batch's calldata; the
//    fee, and so the gross the leaf lost, is the ledger's. Each counted entry names its batch's transaction in the
//    evidence, for anyone to look up. A server that left a payout out could only raise a false warning, never hide one;
//  - the member's leave: the CHAIN's. The server only names the transaction (the member's `member.left`
//    notification); its `MemberLeft` log, read through the member's wallet from this build's contracts, says what it
//    settled and at which block.

import type { Hex } from "viem";
import type { Schema } from "../generated/api";
import { get, publicCall } from "./api";
import { type LeafPayment, compareLeaves, leafPoint, memberLeftOf, payoutsOfHistory } from "./leaf-watch.js";
import { buildNetwork } from "./networks-build";
import { type SavedProof, type StoreName, downloadJson, recordOf, runIn, savedProof } from "./proof-store";
import { type CannotRead, readerProblem } from "./solvency-chain";
import type { AnyConnection } from "./tron";
import type { RewardPage, SolvencyProofAnswer } from "./types";

/**
 * Why the payments between two proofs could not be read, or a leave not counted, as data: the page words it in the
 * reader's language whenever it shows it (src/user/solvency/leaf-watch.tsx `leafWhyText`), since the evidence outlives
 * a change of language. `said`: the operator's server's or the wallet's own words, as the page's errorText gave them.
 */
export type LeafWhy =
  | { reason: "history_too_long"; max: number }
  | { reason: "history_unreadable" }
  | { reason: "notes_too_long"; max: number }
  | { reason: "leave_unnamed" }
  | { reason: "cannot_read"; problem: CannotRead; chainId: number }
  | { reason: "tx_unknown"; wallet: string; tx: string }
  | { reason: "tx_failed"; tx: string }
  | { reason: "no_tronlink" }
  | { reason: "leave_unreadable"; tx: string }
  | { reason: "no_leave_there"; tx: string }
  | { reason: "said"; text: string };

/** A failure of this module's reads, its reason as data. */
class LeafReadError extends Error {
  constructor(readonly why: LeafWhy) {
    super(why.reason);
  }
}

/** The transaction the server names as the member's leave holds none from this build's contracts: a finding. */
class NoLeaveThere extends LeafReadError {}

/** A payment the comparison counted; amounts and blocks as decimal strings (the record downloads as JSON). */
export interface CountedPayment {
  kind: LeafPayment["kind"];
  block: string;
  amount: string;
  tx: string | null;
  batch: number | null;
}

/** What the comparison found once the payments were read (amounts in base units, decimal strings). */
export interface LeafFinding {
  /** When (ms since 1970). */
  at: number;
  /** How much the entitlement fell, what was paid between the two blocks, and the rest: the unexplained drop. */
  drop: string;
  paid: string;
  unexplained: string;
  counted: CountedPayment[];
  /**
   * The member's leave: none the server knows of, or none between the two blocks (`none`); counted from the chain
   * (`counted`); named by the server in a transaction that holds no leave of theirs (`unproven`, with why): then it
   * counts nothing. (A `why` in words: a record kept by an earlier build.)
   */
  leave: { state: "none" | "counted" } | { state: "unproven"; why: LeafWhy | string };
}

/** Two verified proofs of one leaf, the newer one lower than the previous. */
export interface LeafEvidence {
  /** `chain:contract:token:member:previousEpoch:nextEpoch`. */
  id: string;
  assetId: number;
  chainId: number;
  member: string;
  symbol: string;
  decimals: number;
  /** The proof the newer one replaced in lib/proof-store.ts, exactly as it was kept, and the newer one. */
  previous: SavedProof;
  next: SavedProof;
  /** When the drop was seen (ms since 1970). */
  foundAt: number;
  /** Null until the payments between the two proofs were read. */
  finding: LeafFinding | null;
  /** Why they could not be read the last time (null: not tried yet, or read; in words: a record of an earlier build). */
  unread: LeafWhy | string | null;
}

const EVIDENCE: StoreName = { db: "referral-leaf-evidence", store: "lowered", keyPath: "id" };
/** Fired on `window` when the evidence changed, so that the badges read it again. */
export const EVIDENCE_EVENT = "referral:leaf-evidence";
/** Pages of the member's history or notifications read at most (100 items each). */
const MAX_PAGES = 200;

const changed = () => window.dispatchEvent(new Event(EVIDENCE_EVENT));
const put = async (e: LeafEvidence) => {
  await runIn(EVIDENCE, "readwrite", (s) => s.put(e));
  changed();
};
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
/** Why `e` stopped a read: this module's reason, else the error in `explain`'s words. */
const whyOf = (e: unknown, explain: (e: unknown) => string): LeafWhy => (e instanceof LeafReadError ? e.why : { reason: "said", text: explain(e) });

/** Every piece of evidence kept in this browser, the newest drop first. */
export async function leafEvidence(): Promise<LeafEvidence[]> {
  const all = await runIn<LeafEvidence[]>(EVIDENCE, "readonly", (s) => s.getAll());
  return all.sort((a, b) => b.foundAt - a.foundAt);
}

/** Deletes one piece of evidence (the member's choice: the warning goes with it). */
export async function forgetEvidence(id: string): Promise<void> {
  await runIn(EVIDENCE, "readwrite", (s) => s.delete(id));
  changed();
}

/**
 * Call before saving `proof` (verified against the chain) over the member's previous one: when its entitlement is
 * lower than the previous proof's, of an earlier epoch of the same leaf, both are kept here. A previous record this
 * build cannot read is not compared. Throws when the evidence cannot be written: then the newer proof must not replace
 * the previous one either.
 */
export async function keepIfLowered(proof: SolvencyProofAnswer): Promise<void> {
  const next = recordOf(proof);
  const previous = await savedProof(next.key);
  if (!previous) return;
  let lowered: boolean;
  try {
    lowered = compareLeaves(leafPoint(previous.proof), leafPoint(proof), []).kind === "lowered";
  } catch {
    return;
  }
  if (!lowered) return;
  await put({
    id: `${next.key}:${previous.epoch}:${next.epoch}`,
    assetId: proof.asset_id,
    chainId: proof.chain_id,
    member: next.member,
    symbol: proof.symbol,
    decimals: proof.decimals,
    previous,
    next,
    foundAt: Date.now(),
    finding: null,
    unread: null,
  });
}

const judging = new Map<string, Promise<void>>();

/**
 * Reads what the member was paid between the two proofs of `e` and judges the drop (once at a time per piece): a
 * drop the payments explain is deleted; otherwise the finding is kept with the evidence, or why the payments could not
 * be read (tried again on the next call). `c`: the member's wallet, to read a leave from the chain; `explain`: an
 * error of the server or the wallet in words (the page's errorText).
 */
export function judgeEvidence(c: AnyConnection, e: LeafEvidence, explain: (e: unknown) => string = message): Promise<void> {
  let running = judging.get(e.id);
  if (!running) {
    running = judge(c, e, explain).finally(() => judging.delete(e.id));
    judging.set(e.id, running);
  }
  return running;
}

async function judge(c: AnyConnection, e: LeafEvidence, explain: (e: unknown) => string): Promise<void> {
  const previous = leafPoint(e.previous.proof);
  const next = leafPoint(e.next.proof);
  let payouts: LeafPayment[];
  try {
    const items = await history(e.assetId);
    try {
      payouts = payoutsOfHistory(items);
    } catch {
      // leaf-watch's own words name a field for developers: the member is told whose history it is.
      throw new LeafReadError({ reason: "history_unreadable" });
    }
  } catch (err) {
    await put({ ...e, unread: whyOf(err, explain) });
    return;
  }
  // Auto-progression spends an auto-pool member's reserve on their next level (PLAN.md §3.6): the asset's plan, from
  // the public plan list, says whether a fall of the reserve is the plan's own.
  let spends: boolean;
  try {
    spends = await spendsReserve(e.assetId);
  } catch (err) {
    await put({ ...e, unread: whyOf(err, explain) });
    return;
  }
  let verdict = compareLeaves(previous, next, payouts, spends);
  let leave: LeafFinding["leave"] = { state: "none" };
  // Only a drop the payouts leave unexplained needs the leave (and a wallet to read it).
  if (verdict.kind === "lowered") {
    let left: LeafPayment | null = null;
    try {
      left = await leaveOf(c, e);
    } catch (err) {
      // A transaction that holds no leave is a finding; anything else (the server, a wallet on another network) is
      // read again on the next check.
      if (!(err instanceof NoLeaveThere)) {
        await put({ ...e, unread: whyOf(err, explain) });
        return;
      }
      leave = { state: "unproven", why: err.why };
    }
    if (left) {
      verdict = compareLeaves(previous, next, [...payouts, left], spends);
      if ((verdict.kind === "kept" || verdict.kind === "lowered") && verdict.counted.includes(left)) leave = { state: "counted" };
    }
  }
  if (verdict.kind !== "lowered") {
    await forgetEvidence(e.id);
    return;
  }
  const counted = verdict.counted.map((p) => ({ kind: p.kind, block: p.block.toString(), amount: p.amount.toString(), tx: p.tx, batch: p.batch }));
  await put({
    ...e,
    unread: null,
    finding: { at: Date.now(), drop: verdict.drop.toString(), paid: verdict.paid.toString(), unexplained: verdict.unexplained.toString(), counted, leave },
  });
}

/** Whether asset `assetId` runs the auto-pool plan, whose auto-progression spends reserves (the public plan list). */
async function spendsReserve(assetId: number): Promise<boolean> {
  const plans = await publicCall<{ assets: { asset_id: number }[] }>("GET", "/v1/public/plan");
  return plans.assets.some((a) => a.asset_id === assetId);
}

/** The member's whole history in the asset (every reward, with the parts payout batches carried): the server's word. */
async function history(assetId: number): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: number | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const p = await get<RewardPage>("/v1/users/history", { asset_id: assetId, cursor, limit: 100 });
    items.push(...p.items);
    if (p.next_cursor == null) return items;
    cursor = p.next_cursor;
  }
  throw new LeafReadError({ reason: "history_too_long", max: MAX_PAGES * 100 });
}

/** The transaction of the member's leave of the asset, as the server names it (their `member.left` notification); null: none. */
async function leaveTransaction(assetId: number): Promise<string | null> {
  let cursor: number | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const p = await get<Schema<"NotificationPage">>("/v1/users/notifications", { cursor, limit: 100 });
    const left = p.items.find((n) => n.kind === "member.left" && n.asset_id === assetId);
    if (left) {
      const tx = (left.data as { tx_hash?: unknown }).tx_hash;
      if (typeof tx !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(tx)) throw new LeafReadError({ reason: "leave_unnamed" });
      return tx;
    }
    if (p.next_cursor == null) return null;
    cursor = p.next_cursor;
  }
  throw new LeafReadError({ reason: "notes_too_long", max: MAX_PAGES * 100 });
}

/**
 * The member's leave of `e`'s asset as the chain recorded it, read through their wallet from the transaction the
 * server names; null when the server knows of none. Throws when it cannot be read, and `NoLeaveThere` when the
 * transaction holds no leave of theirs from this build's contracts of the chain (any of them: every contract's tree
 * holds the same balances).
 */
async function leaveOf(c: AnyConnection, e: LeafEvidence): Promise<LeafPayment | null> {
  const tx = await leaveTransaction(e.assetId);
  if (!tx) return null;
  const cannot = (problem: CannotRead) => new LeafReadError({ reason: "cannot_read", problem, chainId: e.chainId });
  const problem = readerProblem(c, { chain_id: e.chainId });
  if (problem) throw cannot(problem);
  const on = await c.network();
  if (on !== e.chainId) throw cannot(on === null ? { reason: "unknown_network" } : { reason: "network", have: on, want: e.chainId });
  const network = buildNetwork(e.chainId);
  if (!network) throw cannot({ reason: "unsupported", chainId: e.chainId });
  const receipt = await receiptOf(c, tx);
  let left: LeafPayment | null;
  try {
    left = memberLeftOf(receipt, {
      contracts: [network.settlement, ...network.previous.map((p) => p.settlement)],
      member: e.member,
      token: e.next.token,
    });
  } catch {
    // A MemberLeft log of another form than this build's: leaf-watch's words are for developers.
    throw new LeafReadError({ reason: "leave_unreadable", tx });
  }
  if (!left) throw new NoLeaveThere({ reason: "no_leave_there", tx });
  return left;
}

// TronLink's injected TronWeb: a transaction's info carries its block and logs.
type TronTxInfo = { blockNumber?: number; receipt?: { result?: string }; log?: { address?: string; topics?: string[]; data?: string }[] };
type TronInfoWindow = Window & {
  tronLink?: { tronWeb?: { trx: { getTransactionInfo(txid: string): Promise<TronTxInfo> } } | false };
  tronWeb?: { trx: { getTransactionInfo(txid: string): Promise<TronTxInfo> } };
};

/** A mined transaction's block and logs, read through the wallet (`eth_getTransactionReceipt`; TronLink's transaction info). */
async function receiptOf(c: AnyConnection, tx: string): Promise<{ tx: string; block: bigint; logs: { address: string; topics: string[]; data: string }[] }> {
  if (c.kind === "evm") {
    const r = (await c.provider.request({ method: "eth_getTransactionReceipt", params: [tx as Hex] })) as {
      blockNumber?: Hex;
      status?: Hex;
      logs?: { address: string; topics: string[]; data: string }[];
    } | null;
    if (!r?.blockNumber || !r.logs) throw new LeafReadError({ reason: "tx_unknown", wallet: c.name, tx });
    if (r.status !== "0x1") throw new LeafReadError({ reason: "tx_failed", tx });
    return { tx, block: BigInt(r.blockNumber), logs: r.logs };
  }
  const w = window as TronInfoWindow;
  const tw = w.tronLink?.tronWeb || w.tronWeb;
  if (!tw) throw new LeafReadError({ reason: "no_tronlink" });
  const info = await tw.trx.getTransactionInfo(tx.replace(/^0x/, ""));
  if (info?.blockNumber === undefined) throw new LeafReadError({ reason: "tx_unknown", wallet: "TronLink", tx });
  if (info.receipt?.result !== undefined && info.receipt.result !== "SUCCESS") throw new LeafReadError({ reason: "tx_failed", tx });
  // TronLink gives a log's address as 20 bytes of hex (or 21, with TRON's 41 first), its topics and data without 0x.
  const logs = (info.log ?? []).map((l) => ({
    address: `0x${(l.address ?? "").slice(-40)}`,
    topics: (l.topics ?? []).map((t) => `0x${t.replace(/^0x/, "")}`),
    data: `0x${(l.data ?? "").replace(/^0x/, "")}`,
  }));
  return { tx, block: BigInt(info.blockNumber), logs };
}

/** The evidence file's name: the asset, both epochs, the contract and the member. */
export const evidenceFileName = (e: LeafEvidence) =>
  `leaf-lowered-${e.symbol || "asset"}-epoch${e.previous.epoch}-epoch${e.next.epoch}-${e.next.contract}-${e.member}.json`;

/**
 * Saves the evidence as one JSON file: both proofs exactly as the server gave them (each checks against the root its
 * epoch committed on the chain), the entitlements compared and what was counted as paid between them.
 */
export function downloadEvidence(e: LeafEvidence) {
  const point = (p: SavedProof) => {
    const l = leafPoint(p.proof);
    return {
      epoch: p.epoch,
      as_of_block: l.asOfBlock.toString(),
      entitlement: l.entitlement.toString(),
      // A sales-plan leaf's maturing commissions, shown beside the entitlement but not part of it (lib/leaf-watch.js).
      ...(l.maturing != null ? { maturing: l.maturing.toString() } : {}),
      saved_at: new Date(p.savedAt).toISOString(),
    };
  };
  const file = {
    version: "leaf-watch/v1",
    what: "A newer proof of solvency gives this member less than the previous one, less what they were paid between the two proofs' blocks. Entitlement: reserved + held + pending + batched (claimable is the contract's own; maturing, on the sales plan, is not compared: it falls with nothing paid when a buyer takes a sale back). Payouts: the operator's server's record, gross (fee included); a leave: read from the chain.",
    chain_id: e.chainId,
    contract: e.next.contract,
    token: e.next.token,
    member: e.member,
    symbol: e.symbol,
    decimals: e.decimals,
    previous: point(e.previous),
    next: point(e.next),
    finding: e.finding,
    previous_proof: e.previous.proof,
    next_proof: e.next.proof,
  };
  downloadJson(evidenceFileName(e), file);
}
