// The member's check of one asset, the badge's: the commitment the chain holds, read through their own wallet at the
// build's contract, then the server's proof OF THAT EPOCH, folded by the verifier (lib/solvency.js) — after an
// upgrade, their proof in every contract's tree of the round, merged (lib/solvency-round.js); a proof in the chain's
// root kept in this browser for the exit; what the check found (`Status`), its failed checks most telling first, and
// the verdict the pay buttons read.

import { ApiError, get } from "../../lib/api";
import { amount as fmtAmount } from "../../lib/format";
import { t } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import { networkLabel } from "../../lib/networks";
import { type Balances, type Check, type VerifyResult, verifyProof } from "../../lib/solvency.js";
import { type ContractCommitment, type RoundResult, type RoundVerdict, contractsText, mergeRound } from "../../lib/solvency-round.js";
import {
  type ChainCommitmentRead,
  CannotReadError,
  ageOf,
  cannotReadText,
  readCommitment,
  readerProblem,
  registrationOf,
  roundOf,
  servedContractMatches,
} from "../../lib/solvency-chain";
import { type AnyConnection, chainAddress } from "../../lib/tron";
import type { AssetSolvency, SolvencyProofAnswer } from "../../lib/types";
import type { Verdict } from "../../ui/solvency-verdict";
import { saveProof } from "../../lib/proof-store";
import { keepIfLowered } from "../../lib/leaf-evidence";
import { errorText } from "../../ui/account";
import { nb, overview, where } from "./common";
import { type Saved, storeErrorText } from "./saved";
import { type Dropped, commitmentText, contractText, contractsOf, droppedHoldings, readAt, upgraded } from "./upgrade";

/** How often, and how many times, the page asks again while the server has not recorded the chain's epoch. */
const RECORD_POLL_MS = 3_000;
const RECORD_POLLS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type NoteReason =
  | "round_pending"
  | "wallet"
  | "network"
  | "unknown_network"
  | "unsupported"
  | "walletconnect"
  | "no_asset"
  | "no_epoch"
  | "next_epoch"
  | "not_registered"
  | "not_recorded";

/** After an upgrade: the user's proof in each contract's tree of the round, each verified against its contract's commitment, merged. */
export type RoundCheckState = {
  verdict: RoundVerdict;
  parts: { hex: string; live: boolean; read: ChainCommitmentRead; proof: SolvencyProofAnswer; result: VerifyResult }[];
  merged: RoundResult;
  dropped: Dropped[];
};

export type Status =
  | { kind: "checking"; text: string }
  | { kind: "note"; reason: NoteReason; text: string; asset?: AssetSolvency; read?: ChainCommitmentRead }
  /**
   * The server names a contract other than the build's, lists one the build does not carry, gives no proof for one of
   * the build's that committed the round ("disowned", `contract`), or names a token the contract never allowed:
   * nothing it serves is checked.
   */
  | { kind: "untrusted"; check: "contract" | "allowed" | "listed" | "disowned"; read: ChainCommitmentRead; asset: AssetSolvency; contract?: string }
  /** The server has no leaf for a user the contract registered before the epoch's block (null: the genesis user); after an upgrade, in `contract`'s tree. */
  | { kind: "excluded"; read: ChainCommitmentRead; asset: AssetSolvency; joined: bigint | null; contract?: { contract: string; live: boolean } }
  | {
      kind: "verified";
      proof: SolvencyProofAnswer;
      result: VerifyResult;
      read: ChainCommitmentRead;
      asset: AssetSolvency;
      round?: RoundCheckState;
      /** The proof kept in this browser for the members' exit (null: it is not in the chain's root, or could not be kept). */
      saved?: Saved;
    }
  /** After an upgrade: the contracts' commitments cannot be one round (different totals of one block), or one lags past the maximum age. */
  | { kind: "round"; verdict: RoundVerdict; read: ChainCommitmentRead; asset: AssetSolvency }
  | { kind: "error"; text: string };

/**
 * Whether a checked proof is one to keep for the exit: every check of the leaf passed (it is in the root the chain
 * holds, of the chain's latest epoch, of this build's contract) — a stale or an insolvent commitment included: that is
 * when the exit nears, and the exit rests on that very root (contracts/EXIT.md §7).
 */
export const inTheRoot = (r: { checks: Check[] }) => failures(r).every((c) => c.id === "fresh" || c.id === "solvent");

/**
 * Keeps the proof in this browser when it is in the chain's root; what became of it. A leaf lower than the one of the
 * proof it replaces keeps both first, as evidence (lib/leaf-evidence.ts): saved over, the previous proof would be lost
 * — and when the evidence cannot be kept, neither is the newer proof, so the previous one stays to compare with.
 */
async function keep(proof: SolvencyProofAnswer, result: VerifyResult): Promise<Saved> {
  if (!inTheRoot(result)) return null;
  try {
    await keepIfLowered(proof);
    return { ok: true, record: await saveProof(proof) };
  } catch (e) {
    return { ok: false, why: storeErrorText(e) };
  }
}

export interface BadgeProps {
  assetId: number;
  symbol: string;
  chainId: number;
  /**
   * The server's registration block in this asset (null: the genesis user, there from the start). Only tells the
   * genesis user apart (the contract records no registration of theirs): the block compared with an epoch's is the
   * one the contract records (`registeredAt`), read through the wallet.
   */
  registeredBlock?: number | null;
  connection: AnyConnection;
  /** The signed-in account, 0x (the session's). */
  address: string;
}

/**
 * Checks the signed-in user's balance of one asset against the commitment the chain holds, read through their own
 * wallet: the chain first (its latest epoch and block), then the server's proof OF THAT EPOCH, folded by the
 * verifier. Runs by itself once mounted (after each sign-in), and again on "Check again" or another wallet network.
 */
export async function checkBalance(p: BadgeProps, set: (s: Status) => void, live: () => boolean): Promise<void> {
  const c = p.connection;
  const name = where({ symbol: p.symbol, chain_id: p.chainId });
  set({ kind: "checking", text: t("sv.checking_asset", { name }) });
  const asset = (await overview()).assets.find((a) => a.asset_id === p.assetId);
  if (!asset) {
    set({ kind: "note", reason: "no_asset", text: t("sv.no_asset", { name }) });
    return;
  }
  const problem = readerProblem(c, asset);
  if (problem) {
    set({ kind: "note", reason: problem.reason, text: cannotReadText(problem, asset.chain_id), asset });
    return;
  }
  set({ kind: "checking", text: t("sv.reading_commitment", { name, wallet: c.name }) });
  let read: ChainCommitmentRead;
  try {
    read = await readCommitment(c, asset, p.address);
  } catch (e) {
    if (e instanceof CannotReadError) set({ kind: "note", reason: e.problem.reason, text: e.message, asset });
    else set({ kind: "error", text: t("sv.read_failed", { wallet: c.name, error: errorText(e) }) });
    return;
  }
  if (!live()) return;
  // The server must name this network's contract (the build's) and a token that contract knows: otherwise whatever
  // it serves is about something else.
  if (!servedContractMatches(read)) {
    set({ kind: "untrusted", check: "contract", read, asset });
    return;
  }
  // Every contract the server lists must be one of the build's (after an upgrade, the replaced ones are in its records).
  if (!read.listed.ok) {
    set({ kind: "untrusted", check: "listed", read, asset });
    return;
  }
  if (!read.tokenEverAllowed) {
    set({ kind: "untrusted", check: "allowed", read, asset });
    return;
  }
  // The registration as the contract records it (after an upgrade, whichever of the build's contracts took it); the
  // genesis user has none (the server says so: registeredBlock null).
  const joined = registrationOf(read);
  if (joined === null && p.registeredBlock != null) {
    const where = upgraded(read)
      ? t("sv.unregistered_all", {
          network: networkLabel(read.chainId),
          contracts: [read.contract, ...read.previous.map((x) => x.contract)].map((x) => chainAddress(asset.chain_id, x)).join(", "),
        })
      : t("sv.unregistered_one", { contract: chainAddress(asset.chain_id, read.contract), network: networkLabel(read.chainId) });
    set({
      kind: "note",
      reason: "not_registered",
      text: t("sv.unregistered", { name, block: nb(p.registeredBlock), where }),
      asset,
      read,
    });
    return;
  }
  if (upgraded(read)) return checkRound(p, set, live, { read, asset, joined, name });
  if (read.epoch === 0n) {
    set({ kind: "note", reason: "no_epoch", text: t("sv.no_epoch", { name }), asset, read });
    return;
  }
  // Joined after the epoch's balances were read: not a leaf of it (nothing to ask the server).
  if (joined !== null && joined > read.asOfBlock) {
    set({
      kind: "note",
      reason: "next_epoch",
      text: t("sv.next_epoch", { joined: nb(joined), epoch: nb(read.epoch), block: nb(read.asOfBlock) }),
      asset,
      read,
    });
    return;
  }
  // The server records an epoch once its block is confirmed: until it reports the chain's, its proof cannot be asked.
  for (let i = 0; ; i++) {
    const latest = (await overview(i > 0)).assets.find((a) => a.asset_id === p.assetId)?.latest;
    if (!live()) return;
    if (latest && BigInt(latest.epoch) >= read.epoch) break;
    if (i >= RECORD_POLLS) {
      set({
        kind: "note",
        reason: "not_recorded",
        text: t("sv.not_reported", { epoch: nb(read.epoch), block: nb(read.commitBlock) }),
        asset,
        read,
      });
      return;
    }
    set({ kind: "checking", text: t("sv.waiting_record", { name, epoch: nb(read.epoch), block: nb(read.commitBlock) }) });
    await sleep(RECORD_POLL_MS);
    if (!live()) return;
  }
  let proof: SolvencyProofAnswer;
  try {
    proof = await get<SolvencyProofAnswer>("/v1/users/solvency-proof", { asset_id: p.assetId, epoch: read.epoch.toString() });
  } catch (e) {
    if (e instanceof ApiError && e.code === "not_in_epoch") set({ kind: "excluded", read, asset, joined });
    else if (e instanceof ApiError && e.code === "no_epoch")
      set({
        kind: "note",
        reason: "not_recorded",
        text: t("sv.no_proof_of_epoch", { epoch: nb(read.epoch), block: nb(read.commitBlock) }),
        asset,
        read,
      });
    else set({ kind: "error", text: t("sv.proof_failed", { error: errorText(e) }) });
    return;
  }
  const result = verifyProof(proof, {
    root: read.root,
    total: read.total,
    epoch: read.epoch,
    asOfBlock: read.asOfBlock,
    commitBlock: read.commitBlock,
    custody: read.custody,
    headBlock: read.head,
    // The build's maximum, never the server's.
    maxAgeBlocks: read.network.proofMaxAgeBlocks,
    chainId: read.chainId,
    contract: read.contractHex,
    token: read.token,
    tokenEverAllowed: read.tokenEverAllowed,
    servedContract: read.servedContract as `0x${string}`,
    user: p.address as `0x${string}`,
    // Amounts in the checks' words as members read them, never in base units (issue 66).
    money: (v: bigint) => fmtAmount(v, asset.decimals, asset.symbol),
  });
  const saved = await keep(proof, result);
  if (!live()) return;
  set({ kind: "verified", proof, result, read, asset, saved });
}

/**
 * After an upgrade: judges every contract's latest commitment together (lib/solvency-round.js). A complete round: the
 * user's proof in each contract's tree (`contract=` and that contract's own epoch), each verified against its own
 * contract's commitment, then merged — the custody of every contract together against the total, the same balances in
 * every tree. Contracts on different rounds (one being committed): a note, unless one lags past the build's maximum
 * age (STALE) or two hold different totals for one block.
 */
async function checkRound(
  p: BadgeProps,
  set: (s: Status) => void,
  live: () => boolean,
  ctx: { read: ChainCommitmentRead; asset: AssetSolvency; joined: bigint | null; name: string },
): Promise<void> {
  const { read, asset, joined, name } = ctx;
  const verdict = roundOf(read);
  const n = verdict.members.length + verdict.behind.length;
  if (verdict.kind === "none") {
    set({ kind: "note", reason: "no_epoch", text: t("sv.no_epoch", { name }), asset, read });
    return;
  }
  if (verdict.kind === "conflict" || verdict.kind === "stale") {
    set({ kind: "round", verdict, read, asset });
    return;
  }
  if (verdict.kind === "split") {
    const where = contractsOf(verdict)
      .map((c) => t("sv.contract_holds", { contract: contractText(asset.chain_id, c), commitment: commitmentText(c) }))
      .join("; ");
    set({
      kind: "note",
      reason: "round_pending",
      text: t("sv.round_pending", { count: n, name, where, block: nb(verdict.asOfBlock) }),
      asset,
      read,
    });
    return;
  }
  // Joined after the round's balances were read: not a leaf of it.
  if (joined !== null && joined > verdict.asOfBlock) {
    set({
      kind: "note",
      reason: "next_epoch",
      text: t("sv.next_round", { joined: nb(joined), block: nb(verdict.asOfBlock) }),
      asset,
      read,
    });
    return;
  }
  const dropped = await droppedHoldings(p.connection, read, verdict);
  if (!live()) return;
  // The server records a contract's epoch once its block is confirmed: until it reports each, their proofs cannot be asked.
  const listedMembers = verdict.members.filter((m) => m.listed);
  for (let i = 0; ; i++) {
    const a = (await overview(i > 0)).assets.find((x) => x.asset_id === p.assetId);
    if (!live()) return;
    const recorded = (m: ContractCommitment) => {
      const latest = m.live ? a?.latest : a?.contracts?.find((x) => x.contract_hex.toLowerCase() === m.contract)?.latest;
      return !!latest && BigInt(latest.epoch) >= m.epoch;
    };
    const missing = listedMembers.filter((m) => !recorded(m));
    if (missing.length === 0) break;
    if (i >= RECORD_POLLS) {
      set({
        kind: "note",
        reason: "not_recorded",
        text: t("sv.round_not_reported", {
          block: nb(verdict.asOfBlock),
          contracts: contractsText(verdict.members.length),
          missing: missing.map((m) => contractText(asset.chain_id, m)).join(t("sv.list_and")),
        }),
        asset,
        read,
      });
      return;
    }
    set({ kind: "checking", text: t("sv.round_waiting", { name, block: nb(verdict.asOfBlock), contracts: contractsText(verdict.members.length) }) });
    await sleep(RECORD_POLL_MS);
    if (!live()) return;
  }
  const parts: RoundCheckState["parts"] = [];
  for (const m of verdict.members) {
    const at = readAt(read, m.contract);
    let proof: SolvencyProofAnswer;
    try {
      proof = await get<SolvencyProofAnswer>("/v1/users/solvency-proof", { asset_id: p.assetId, contract: m.contract, epoch: m.epoch.toString() });
    } catch (e) {
      if (e instanceof ApiError && e.code === "not_in_epoch") set({ kind: "excluded", read: at, asset, joined, contract: { contract: m.contract, live: m.live } });
      else if (e instanceof ApiError && e.code === "unknown_contract") set({ kind: "untrusted", check: "disowned", read, asset, contract: m.contract });
      else if (e instanceof ApiError && e.code === "no_epoch")
        set({
          kind: "note",
          reason: "not_recorded",
          text: t("sv.no_proof_of_contract", { epoch: nb(m.epoch), contract: contractText(asset.chain_id, m), block: nb(m.commitBlock) }),
          asset,
          read,
        });
      else set({ kind: "error", text: t("sv.proof_failed", { error: errorText(e) }) });
      return;
    }
    if (!live()) return;
    const result = verifyProof(proof, {
      root: at.root,
      total: at.total,
      epoch: at.epoch,
      asOfBlock: at.asOfBlock,
      commitBlock: at.commitBlock,
      custody: at.custody,
      headBlock: read.head,
      // The build's maximum, never the server's.
      maxAgeBlocks: read.network.proofMaxAgeBlocks,
      chainId: read.chainId,
      contract: at.contractHex,
      token: read.token,
      tokenEverAllowed: at.tokenEverAllowed,
      // The server's contract for the asset is the live one's.
      ...(m.live ? { servedContract: read.servedContract as `0x${string}` } : {}),
      user: p.address as `0x${string}`,
      money: (v: bigint) => fmtAmount(v, asset.decimals, asset.symbol),
    });
    parts.push({ hex: m.contract, live: m.live, read: at, proof, result });
  }
  // Each contract's proof is kept on its own: each contract has its own exit.
  const kept = await Promise.all(parts.map((x) => keep(x.proof, x.result)));
  if (!live()) return;
  const merged = mergeRound(
    parts.map((x) => ({ contract: x.hex as `0x${string}`, live: x.live, balances: balancesOf(x.proof), result: x.result })),
    verdict,
  );
  const first = parts.find((x) => x.live) ?? parts[0];
  set({ kind: "verified", proof: first.proof, result: first.result, read: first.read, asset, round: { verdict, parts, merged, dropped }, saved: kept[parts.indexOf(first)] });
}

/**
 * The balances of a proof as the page folded them — the five, and `maturing` when the leaf is a sales-plan one (0x03:
 * the key is there, whatever its value) — or null when they do not parse.
 */
export function balancesOf(proof: SolvencyProofAnswer): Balances | null {
  try {
    // The API's type may predate `maturing`: the proof's JSON is read as it came.
    const b = proof.balances as Record<string, string | undefined>;
    const five: Balances = {
      reserved: BigInt(b.reserved as string),
      held: BigInt(b.held as string),
      pending: BigInt(b.pending as string),
      batched: BigInt(b.batched as string),
      claimable: BigInt(b.claimable as string),
    };
    return Object.hasOwn(b, "maturing") ? { ...five, maturing: BigInt(b.maturing as string) } : five;
  } catch {
    return null;
  }
}

/** The order in which a failed check is named first: the cause before its consequences. */
const PRIORITY: Check["id"][] = ["commitment", "format", "range", "shape", "contract", "allowed", "context", "fold", "epoch", "layout", "root", "total", "balances", "fresh", "solvent"];

/** A failed check, in plain words, as the banner's title. */
export function headline(c: Check, read: ChainCommitmentRead): string {
  switch (c.id) {
    case "commitment":
      return t("sv.h_commitment");
    case "format":
      return t("sv.h_format");
    case "range":
      return t("sv.h_range");
    case "shape":
      return t("sv.h_shape");
    case "contract":
      return t("sv.h_contract");
    case "allowed":
      return t("sv.h_allowed");
    case "context":
      return t("sv.h_context");
    case "fold":
      return t("sv.h_fold");
    case "epoch":
      return t("sv.h_epoch", { epoch: nb(read.epoch) });
    case "layout":
      return t("sv.h_layout");
    case "root":
      return t("sv.h_root");
    case "total":
      return t("sv.h_total");
    case "fresh":
      return t("sv.h_fresh", { age: nb(ageOf(read)), max: nb(read.network.proofMaxAgeBlocks) });
    case "solvent":
      return t("sv.h_solvent");
    case "balances":
      return t("sv.h_balances");
    default:
      return c.detail;
  }
}

/**
 * The failed checks, most telling first (the information-only "solvent" counts here: an insolvency is a failure). A
 * leaf out of order whose sums still add up is a swapped order; when the sums do not add up either, the order broke
 * because the leaf itself changed (a lowered balance): then the root and the total come first.
 */
export function failures<C extends Check>(r: { checks: C[] }): C[] {
  const failed = r.checks.filter((c) => !c.ok && (c.info !== true || c.id === "solvent"));
  const totalFailed = failed.some((c) => c.id === "total");
  const rank = (id: Check["id"]) => (id === "layout" && totalFailed ? PRIORITY.indexOf("total") + 0.5 : PRIORITY.indexOf(id));
  return failed.sort((a, b) => rank(a.id) - rank(b.id));
}

/** The verdict the pay buttons read (src/ui/solvency-verdict.ts); null while checking (the previous one stands). */
export function verdictOfStatus(s: Status): Verdict | null {
  switch (s.kind) {
    case "checking":
      return null;
    case "note":
    case "error":
      return "unknown";
    case "untrusted":
    case "excluded":
      return "failed";
    case "round":
      return s.verdict.kind === "stale" ? "stale" : "failed";
    case "verified": {
      const failed = failures<Check>(s.round ? s.round.merged : s.result);
      if (failed.length === 0) return "verified";
      return failed.every((c) => c.id === "fresh") ? "stale" : "failed";
    }
  }
}
