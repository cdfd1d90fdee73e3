// The public proof of solvency (SOLVENCY.md) in the dApp, loaded on demand (its own chunk, with the verifier):
// - the "Proof of solvency" page (`/#solvency`): per asset, the latest commitment as the operator's server reports it
//   — its claim, labelled so — and, with a wallet connected, the commitment read from the chain THROUGH THAT WALLET
//   at the Settlement contract this build carries for the wallet's network (lib/solvency-chain.ts,
//   lib/networks-build.ts), beside it: custody against the total (a red INSOLVENT banner), the liabilities' age (the
//   head against their as-of block) against the build's maximum (a red STALE banner), and a red banner when the
//   server's contract, epoch, root or total are not the chain's, or when the contract never allowed the server's
//   token; the contract's pending changes (signer rotations, money roles, tokens, push gas) with their countdown;
// - the badge of a signed-in user, per asset the wallet is registered in (the dashboard's cards, and this page): the
//   user's proof of the chain's latest epoch, folded by lib/solvency.js's verifier against the commitment read through
//   the wallet, "✓ your balance … is in epoch N's committed root; custody covers the total" or a red banner naming
//   the failed check, with the proof to download; whether the user was in that epoch is judged by the block of their
//   registration as the contract records it (`registeredAt`), never the server's;
// - the banner of pending changes after sign-in (`PendingChanges`, on the dashboard).
// After an upgrade (contracts/UPGRADES.md §7) the build carries the contracts the live one replaced too: each commits
// every round in its own tree, the page reads each through the wallet, the badge checks the user's proof in every
// contract's tree, and solvency is the custody of every contract of the round together against the one total
// (lib/solvency-round.js). Without an upgrade nothing of that shows and nothing more is read.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, publicCall } from "../lib/api";
import { dateTime, human } from "../lib/format";
import { formatLocale, t, tx } from "../i18n";
// The leaf watch's words (a surface of its own, so that the dApp's first load does not carry them).
import "../i18n/member";
import { networkLabel } from "../lib/networks";
import { type Check, type VerifyResult, verifyProof } from "../lib/solvency.js";
import { type ContractCommitment, type RoundCheck, type RoundResult, type RoundVerdict, contractsText, custodyText, mergeRound } from "../lib/solvency-round.js";
import {
  type ChainCommitmentRead,
  type PendingChange,
  type PendingChangesRead,
  CannotReadError,
  ageOf,
  cannotReadText,
  commitAgeOf,
  type ExitClock,
  readCommitment,
  readExitClock,
  readHolding,
  readPendingChanges,
  readerProblem,
  registrationOf,
  roundOf,
  servedContractMatches,
} from "../lib/solvency-chain";
import { buildNetwork } from "../lib/networks-build";
import { type AnyConnection, assetKey, chainAddress, isTronChain, networkText } from "../lib/tron";
import type { AssetSolvency, Balances, ContractSolvency, EpochView, Profile, SolvencyOverview, SolvencyProofAnswer } from "../lib/types";
import { type Verdict, badgeId, publishVerdict, withdrawVerdict } from "./solvency-verdict";
import { type SavedProof, SAVED_EVENT, downloadJson, saveProof, savedFileName, savedProofs } from "../lib/proof-store";
import { EVIDENCE_EVENT, type LeafEvidence, downloadEvidence, forgetEvidence, judgeEvidence, keepIfLowered, leafEvidence } from "../lib/leaf-evidence";
import { type LeafPayment, leafPoint } from "../lib/leaf-watch.js";
import { LoadFailed, errorText, useConnection, useSignedIn } from "../ui/account";
import { Addr, Amount, AssetAmt, Loading, Notice, TxHash, useLoad } from "../ui/bits";

/** A chain epoch the server has not reported yet is "not recorded yet" this many blocks after its commit; past it, a mismatch. */
const RECORD_GRACE_BLOCKS = 40n;
/** How often, and how many times, the page asks again while the server has not recorded the chain's epoch. */
const RECORD_POLL_MS = 3_000;
const RECORD_POLLS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ── the server's overview, shared by the page's parts ──────────────────────────────────────────────────────────────

let overviewCache: { at: number; answer: Promise<SolvencyOverview> } | null = null;

/** `GET /v1/public/solvency`, shared by every part of the page for a few seconds (`fresh`: asked again now). */
function overview(fresh = false): Promise<SolvencyOverview> {
  if (fresh || !overviewCache || Date.now() - overviewCache.at > 5_000) {
    const answer = publicCall<SolvencyOverview>("GET", "/v1/public/solvency");
    overviewCache = { at: Date.now(), answer };
    answer.catch(() => {
      if (overviewCache?.answer === answer) overviewCache = null;
    });
  }
  return overviewCache.answer;
}

const where = (a: { symbol: string; chain_id: number }) => (isTronChain(a.chain_id) ? `${a.symbol} on ${networkText(a.chain_id)}` : a.symbol);
const shortHex = (h: string) => (h.length > 20 ? `${h.slice(0, 10)}…${h.slice(-8)}` : h);

/** A 32-byte hash, shortened, the whole of it on hover and focus. */
function Hash(props: { h: string; testid?: string }) {
  return (
    <code title={props.h} data-hash={props.h} data-testid={props.testid} tabIndex={0}>
      {shortHex(props.h)}
    </code>
  );
}


const proofFileName = (p: { symbol?: string; epoch?: number; user?: string }) =>
  `solvency-proof-${p.symbol ?? "asset"}-epoch${p.epoch ?? "latest"}-${(p.user ?? "").toLowerCase()}.json`;

/** After an upgrade each contract's proof is a file of its own, named with its contract (as the API's download names it). */
const contractProofFileName = (p: { symbol?: string; epoch?: number; user?: string; contract?: string }) =>
  `solvency-proof-${p.symbol ?? "asset"}-epoch${p.epoch ?? "latest"}-${(p.contract ?? "").toLowerCase()}-${(p.user ?? "").toLowerCase()}.json`;

// ── after an upgrade: every contract of the build ─────────────────────────────────────────────────────────────────

/**
 * Whether the build carries contracts the live one replaced on the asset's chain that ever allowed the asset's token
 * (then their commitments count with the live one's). A replaced contract that never allowed it holds no commitment
 * and no member's money in it: the asset is shown as with one contract.
 */
const upgraded = (read: ChainCommitmentRead) => read.previous.some((p) => p.tokenEverAllowed);

/** One contract's commitment (the live one, or one it replaced), in the shape of the live contract's read. */
function readAt(read: ChainCommitmentRead, hex: string): ChainCommitmentRead {
  const p = read.previous.find((x) => x.contractHex.toLowerCase() === hex.toLowerCase());
  if (!p) return read;
  const { root, total, epoch, asOfBlock, commitBlock, custody, contract, contractHex, tokenEverAllowed, registeredAt } = p;
  return { ...read, root, total, epoch, asOfBlock, commitBlock, custody, contract, contractHex, tokenEverAllowed, registeredAt, previous: [] };
}

/** "the live contract 0x12…" / "the replaced contract 0x34…", in the chain's form. */
function contractWords(chainId: number, c: { contract: string; live: boolean }, testid?: string) {
  return (
    <>
      the {c.live ? "live" : "replaced"} contract <Addr a={chainAddress(chainId, c.contract)} chainId={chainId} testid={testid} />
    </>
  );
}
const contractText = (chainId: number, c: { contract: string; live: boolean }) => `the ${c.live ? "live" : "replaced"} contract ${chainAddress(chainId, c.contract)}`;

/** The contracts a verdict names (on the round, lagging, conflicting), the live one first. */
const contractsOf = (v: RoundVerdict) => [...v.members, ...v.conflicts, ...v.behind].sort((x, y) => Number(y.live) - Number(x.live));

/** What a contract's latest commitment holds, in words: "epoch 3, the balances of block 120" or "nothing committed yet". */
const commitmentText = (c: ContractCommitment) => (c.epoch > 0n ? `epoch ${c.epoch}, the balances of block ${c.asOfBlock}` : "nothing committed yet");

/** A replaced contract the operator's server no longer lists and that did not commit the round, with what it still holds (null: unreadable). */
type Dropped = { contract: string; held: bigint | null };

/** What each contract in `verdict.dropped` holds now, read through the wallet; only those that hold something (or could not be read). */
async function droppedHoldings(c: AnyConnection, read: ChainCommitmentRead, verdict: RoundVerdict): Promise<Dropped[]> {
  const all = await Promise.all(
    verdict.dropped.map(async (d) => {
      const held = await readHolding(c, read, d.contract).catch(() => null);
      return { contract: d.contract, held };
    }),
  );
  return all.filter((d) => d.held === null || d.held > 0n);
}

/** The warning for replaced contracts that stopped committing while they still hold money. */
function DroppedWarning(props: { a: { chain_id: number; decimals: number; symbol: string }; dropped: Dropped[] }) {
  const { a, dropped } = props;
  if (dropped.length === 0) return null;
  return (
    <Notice kind="warn" testid="solvency-dropped">
      <p class="banner-title">A replaced contract no longer commits the rounds, yet still holds money</p>
      <ul>
        {dropped.map((d) => (
          <li key={d.contract} data-contract={d.contract}>
            {contractWords(a.chain_id, { contract: d.contract, live: false })} has not committed the latest round, and the operator's server no longer lists it;
            it holds {d.held === null ? "an amount your wallet could not read" : <Amount base={d.held} decimals={a.decimals} symbol={a.symbol} />} now. Its custody is
            not counted: money members are owed should be paid out of it before it stops committing.
          </li>
        ))}
      </ul>
    </Notice>
  );
}

/** The round's custody, each contract's and together, in plain words. */
function roundCustodyText(a: { chain_id: number; decimals: number; symbol: string }, verdict: RoundVerdict) {
  const amount = (v: bigint, testid?: string) => <Amount base={v} decimals={a.decimals} symbol={a.symbol} testid={testid} />;
  return (
    <>
      {verdict.members.map((m, i) => (
        <span key={m.contract} data-contract={m.contract} data-custody={m.custody.toString()}>
          {i > 0 && (i === verdict.members.length - 1 ? " and " : ", ")}
          {contractWords(a.chain_id, m)} held {amount(m.custody)}
        </span>
      ))}
    </>
  );
}

// ── the user's badge ───────────────────────────────────────────────────────────────────────────────────────────────

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
type RoundCheckState = {
  verdict: RoundVerdict;
  parts: { hex: string; live: boolean; read: ChainCommitmentRead; proof: SolvencyProofAnswer; result: VerifyResult }[];
  merged: RoundResult;
  dropped: Dropped[];
};

type Status =
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

/** What became of keeping a verified proof in this browser (lib/proof-store.ts). */
type Saved = { ok: true; record: SavedProof } | { ok: false; why: string } | null;

/**
 * Whether a checked proof is one to keep for the exit: every check of the leaf passed (it is in the root the chain
 * holds, of the chain's latest epoch, of this build's contract) — a stale or an insolvent commitment included: that is
 * when the exit nears, and the exit rests on that very root (contracts/EXIT.md §7).
 */
const inTheRoot = (r: { checks: Check[] }) => failures(r).every((c) => c.id === "fresh" || c.id === "solvent");

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
    return { ok: false, why: errorText(e) };
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
async function checkBalance(p: BadgeProps, set: (s: Status) => void, live: () => boolean): Promise<void> {
  const c = p.connection;
  const name = where({ symbol: p.symbol, chain_id: p.chainId });
  set({ kind: "checking", text: `Checking your ${name} balance against the chain…` });
  const asset = (await overview()).assets.find((a) => a.asset_id === p.assetId);
  if (!asset) {
    set({ kind: "note", reason: "no_asset", text: `The operator's server publishes no proof of solvency for ${name}.` });
    return;
  }
  const problem = readerProblem(c, asset);
  if (problem) {
    set({ kind: "note", reason: problem.reason, text: cannotReadText(problem, asset.chain_id), asset });
    return;
  }
  set({ kind: "checking", text: `Reading ${name}'s commitment from the chain through ${c.name}…` });
  let read: ChainCommitmentRead;
  try {
    read = await readCommitment(c, asset, p.address);
  } catch (e) {
    if (e instanceof CannotReadError) set({ kind: "note", reason: e.problem.reason, text: e.message, asset });
    else set({ kind: "error", text: `Could not read the commitment through ${c.name}: ${errorText(e)}` });
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
      ? `none of the contracts this page was built with on ${networkLabel(read.chainId)} (${[read.contract, ...read.previous.map((x) => x.contract)].map((x) => chainAddress(asset.chain_id, x)).join(", ")}) records one of yours: there is nothing of yours on them to check.`
      : `the contract ${chainAddress(asset.chain_id, read.contract)} on ${networkLabel(read.chainId)} records none of yours: there is nothing of yours on this contract to check.`;
    set({
      kind: "note",
      reason: "not_registered",
      text: `The operator's server shows your registration in ${name} at block ${p.registeredBlock}, but ${where}`,
      asset,
      read,
    });
    return;
  }
  if (upgraded(read)) return checkRound(p, set, live, { read, asset, joined, name });
  if (read.epoch === 0n) {
    set({ kind: "note", reason: "no_epoch", text: `Nothing is committed on the chain for ${name} yet: the first epoch will include your balance.`, asset, read });
    return;
  }
  // Joined after the epoch's balances were read: not a leaf of it (nothing to ask the server).
  if (joined !== null && joined > read.asOfBlock) {
    set({
      kind: "note",
      reason: "next_epoch",
      text: `You joined at block ${joined}, after the balances of epoch ${read.epoch} (block ${read.asOfBlock}) were read: you will be in the next epoch.`,
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
        text: `The chain committed epoch ${read.epoch} at block ${read.commitBlock}, but the operator's server does not report it yet, so it has no proof of it to give. Check again in a minute.`,
        asset,
        read,
      });
      return;
    }
    set({ kind: "checking", text: `The chain committed ${name}'s epoch ${read.epoch} at block ${read.commitBlock}; waiting for the operator's server to record it…` });
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
        text: `The operator's server has no proof of epoch ${read.epoch}, which the chain committed at block ${read.commitBlock}. Check again in a minute.`,
        asset,
        read,
      });
    else set({ kind: "error", text: `Could not get your proof from the server: ${errorText(e)}` });
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
    set({ kind: "note", reason: "no_epoch", text: `Nothing is committed on the chain for ${name} yet: the first epoch will include your balance.`, asset, read });
    return;
  }
  if (verdict.kind === "conflict" || verdict.kind === "stale") {
    set({ kind: "round", verdict, read, asset });
    return;
  }
  if (verdict.kind === "split") {
    const where = contractsOf(verdict).map((c) => `${contractText(asset.chain_id, c)} holds ${commitmentText(c)}`).join("; ");
    set({
      kind: "note",
      reason: "round_pending",
      text: `A round is being committed: the ${n} contracts of ${name} do not hold the same balances yet (${where}). Their custody can be added up once each has committed the round of block ${verdict.asOfBlock}. Check again in a minute.`,
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
      text: `You joined at block ${joined}, after the balances of the latest round (block ${verdict.asOfBlock}) were read: you will be in the next one.`,
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
        text: `The chain holds the round of block ${verdict.asOfBlock} on ${contractsText(verdict.members.length)}, but the operator's server does not report it yet for ${missing.map((m) => contractText(asset.chain_id, m)).join(" and ")}, so it has no proof of it to give. Check again in a minute.`,
        asset,
        read,
      });
      return;
    }
    set({ kind: "checking", text: `The chain holds ${name}'s round of block ${verdict.asOfBlock} on ${contractsText(verdict.members.length)}; waiting for the operator's server to record it…` });
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
          text: `The operator's server has no proof of epoch ${m.epoch} of ${contractText(asset.chain_id, m)}, which the chain committed at block ${m.commitBlock}. Check again in a minute.`,
          asset,
          read,
        });
      else set({ kind: "error", text: `Could not get your proof from the server: ${errorText(e)}` });
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

/** The five balances of a proof as the page folded them, or null when they do not parse. */
function balancesOf(proof: SolvencyProofAnswer) {
  try {
    const b = proof.balances as Record<string, string>;
    return { reserved: BigInt(b.reserved), held: BigInt(b.held), pending: BigInt(b.pending), batched: BigInt(b.batched), claimable: BigInt(b.claimable) };
  } catch {
    return null;
  }
}

/** The order in which a failed check is named first: the cause before its consequences. */
const PRIORITY: Check["id"][] = ["commitment", "format", "range", "shape", "contract", "allowed", "context", "fold", "epoch", "layout", "root", "total", "balances", "fresh", "solvent"];

/** A failed check, in plain words, as the banner's title. */
function headline(c: Check, read: ChainCommitmentRead): string {
  switch (c.id) {
    case "commitment":
      return "The commitment read from the chain is unreadable";
    case "format":
      return "The server's proof file is malformed";
    case "range":
      return "The proof holds an amount of 2^128 or more, which no balance or sum can be";
    case "shape":
      return "The proof's tree does not hold together";
    case "contract":
      return "The proof is not of this network's Settlement contract: a tree committed elsewhere proves nothing";
    case "allowed":
      return "The contract never allowed this token: no commitment of it can be real";
    case "context":
      return "The proof is not about your wallet or the balances shown to you";
    case "fold":
      return "The proof's sums reach 2^128 when added up: such a tree is invalid";
    case "epoch":
      return `The server gave a proof of another epoch than the chain's latest (epoch ${read.epoch}): a stale root`;
    case "layout":
      return "Your place in the proof's tree is out of order: not how the tree is built";
    case "root":
      return "Your balance is not in the root committed on the chain";
    case "total":
      return "The sums do not add up to the total committed on the chain";
    case "fresh":
      return `STALE: the chain's latest commitment holds balances ${ageOf(read)} blocks old, more than the ${read.network.proofMaxAgeBlocks} allowed`;
    case "solvent":
      return "INSOLVENT: the custody does not cover what is owed to all users";
    case "balances":
      return "Your balances are not the same in every contract's tree";
    default:
      return c.detail;
  }
}

/**
 * The failed checks, most telling first (the information-only "solvent" counts here: an insolvency is a failure). A
 * leaf out of order whose sums still add up is a swapped order; when the sums do not add up either, the order broke
 * because the leaf itself changed (a lowered balance): then the root and the total come first.
 */
function failures<C extends Check>(r: { checks: C[] }): C[] {
  const failed = r.checks.filter((c) => !c.ok && (c.info !== true || c.id === "solvent"));
  const totalFailed = failed.some((c) => c.id === "total");
  const rank = (id: Check["id"]) => (id === "layout" && totalFailed ? PRIORITY.indexOf("total") + 0.5 : PRIORITY.indexOf(id));
  return failed.sort((a, b) => rank(a.id) - rank(b.id));
}

// ── the badge in plain words: one sentence, the leaf as the sum of the tiles, what a member can do ─────────────────

/** The verdict the pay buttons read (./solvency-verdict.ts); null while checking (the previous one stands). */
function verdictOfStatus(s: Status): Verdict | null {
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

let profileCache: { at: number; answer: Promise<Profile> } | null = null;

/** `GET /v1/users/me`, shared by every badge of the page for a few seconds (the tiles' figures). */
function profile(): Promise<Profile> {
  if (!profileCache || Date.now() - profileCache.at > 5_000) {
    const answer = get<Profile>("/v1/users/me");
    profileCache = { at: Date.now(), answer };
    answer.catch(() => {
      if (profileCache?.answer === answer) profileCache = null;
    });
  }
  return profileCache.answer;
}

/** A span of seconds in the member's language, its two largest units ("3 days 4 hours"). */
function spanWords(seconds: bigint): string {
  const units: [bigint, "day" | "hour" | "minute" | "second"][] = [
    [86_400n, "day"],
    [3_600n, "hour"],
    [60n, "minute"],
    [1n, "second"],
  ];
  let rest = seconds > 0n ? seconds : 0n;
  const parts: string[] = [];
  for (const [size, unit] of units) {
    const n = rest / size;
    rest %= size;
    if (n > 0n || (parts.length === 0 && size === 1n)) parts.push(new Intl.NumberFormat(formatLocale(), { style: "unit", unit, unitDisplay: "long" }).format(Number(n)));
    else if (parts.length) break;
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** The five parts of a leaf, in the order of the dashboard's tiles, with the tile each equals. */
const LEAF_PARTS = [
  ["pending", "solvency.part_pending"],
  ["batched", "solvency.part_batched"],
  ["held", "solvency.part_held"],
  ["reserved", "solvency.part_reserved"],
  ["claimable", "solvency.part_claimable"],
] as const;

/**
 * "Your 54 BNB in this proof = 42 BNB pending + 12 BNB reserved." — the leaf's value as the sum of the balances it is
 * made of (SOLVENCY.md: reserved + held + pending + batched + claimable), each named as its tile on the dashboard, and
 * whether the tiles show the same figures now (`tiles`: the member's balances now; null while unknown).
 */
function LeafParts(props: { proof: SolvencyProofAnswer; value: bigint; asset: { decimals: number; symbol: string }; tiles: Balances | null }) {
  const { asset, tiles } = props;
  const balances = balancesOf(props.proof);
  if (!balances) return null;
  const amount = (v: bigint, testid?: string) => <Amount base={v} decimals={asset.decimals} symbol={asset.symbol} testid={testid} />;
  const shown = LEAF_PARTS.filter(([k]) => balances[k] > 0n);
  const same = tiles ? LEAF_PARTS.every(([k]) => BigInt(tiles[k]) === balances[k]) : null;
  return (
    <div class="solvency-parts" data-testid="solvency-parts" data-tiles={same === null ? "unknown" : same ? "same" : "changed"}>
      <p>
        {shown.length === 0
          ? tx("solvency.parts_none", { value: amount(props.value, "solvency-parts-value") })
          : tx("solvency.parts", {
              value: amount(props.value, "solvency-parts-value"),
              parts: shown.map(([k, key], i) => (
                <span key={k} data-testid="solvency-part" data-part={k} data-base={balances[k].toString()}>
                  {i > 0 && " + "}
                  {tx(key, { amount: amount(balances[k]) })}
                </span>
              )),
            })}
      </p>
      {same !== null && (
        <p class="muted" data-testid="solvency-tiles">
          {t(same ? "solvency.tiles_same" : "solvency.tiles_changed", { block: BigInt(props.proof.as_of_block) })}
        </p>
      )}
    </div>
  );
}

/** The members' exit page, linked (opens in a new tab) and to download (it runs from a file too). */
function ExitPageLink() {
  return (
    <>
      <a href={EXIT_PAGE} target="_blank" rel="noopener" data-testid="advice-exit-link">
        {t("solvency.exit_link")}
      </a>{" "}
      (
      <a href={EXIT_PAGE} download="members-exit.html" data-testid="advice-exit-download">
        {t("solvency.exit_download")}
      </a>
      )
    </>
  );
}

/**
 * What a member can do while the proof is stale or failing: wait (or check again), withhold new payments, download
 * the proof file (the button is beside it), and when and how to exit — from the contract's own exit clock, read
 * through the wallet (`clock`; null: not read, a general sentence then), or that the exit is open (`opened`).
 */
function Advice(props: { verdict: "stale" | "failed"; symbol: string; clock: ExitClock | null; opened?: AssetSolvency["exit"] }) {
  const { verdict, symbol, clock, opened } = props;
  const link = <ExitPageLink />;
  let exit: ComponentChildren;
  if (opened) exit = tx("solvency.advice_exit_open", { symbol, block: opened.opened_block, link });
  else if (clock && clock.commitTime > 0n && clock.chainTime >= clock.opensAt) exit = tx("solvency.advice_exit_due", { symbol, period: spanWords(clock.exitAfter), link });
  else if (clock && clock.commitTime > 0n)
    exit = tx("solvency.advice_exit_when", { symbol, date: dateTime(Number(clock.opensAt) * 1000), left: spanWords(clock.opensAt - clock.chainTime), link });
  else exit = tx("solvency.advice_exit_generic", { link });
  return (
    <div class="solvency-advice" data-testid="solvency-advice" data-verdict={verdict} data-exit-opens-at={clock?.opensAt.toString()}>
      <p class="advice-title">{t("solvency.advice_title")}</p>
      <ul>
        <li data-advice="wait">{t(verdict === "stale" ? "solvency.advice_wait_stale" : "solvency.advice_wait_failed")}</li>
        <li data-advice="withhold">{t("solvency.advice_withhold", { symbol })}</li>
        <li data-advice="download">{t("solvency.advice_download")}</li>
        <li data-advice="exit">{exit}</li>
      </ul>
    </div>
  );
}

/** How old the latest commitment is in time, by the chain's clock (nothing when it was not read). */
function CommittedAgo(props: { clock: ExitClock | null }) {
  const c = props.clock;
  if (!c || c.commitTime === 0n) return null;
  return (
    <p data-testid="solvency-age" data-commit-time={c.commitTime.toString()}>
      {t("solvency.committed_ago", { ago: spanWords(c.chainTime - c.commitTime), date: dateTime(Number(c.commitTime) * 1000) })}
    </p>
  );
}

/** The technical part, folded: hashes, blocks, base units, every check. */
function Experts(props: { children: ComponentChildren }) {
  return (
    <details class="solvency-experts" data-testid="solvency-experts">
      <summary>{t("solvency.experts")}</summary>
      {props.children}
    </details>
  );
}

/** What did not match, in plain words (the first failed check's, or the badge's own finding). */
function whatFailed(id: Check["id"] | "excluded" | "untrusted-contract" | "untrusted-token" | "round", symbol: string): string {
  switch (id) {
    case "format":
    case "range":
    case "shape":
    case "fold":
    case "layout":
      return t("solvency.what_malformed");
    case "contract":
    case "untrusted-contract":
      return t("solvency.what_contract");
    case "allowed":
    case "untrusted-token":
      return t("solvency.what_token");
    case "context":
      return t("solvency.what_context");
    case "epoch":
      return t("solvency.what_epoch");
    case "root":
      return t("solvency.what_root");
    case "total":
      return t("solvency.what_total");
    case "balances":
      return t("solvency.what_balances");
    case "solvent":
      return t("solvency.what_insolvent", { symbol });
    case "excluded":
      return t("solvency.what_excluded");
    case "round":
      return t("solvency.what_round");
    default:
      return t("solvency.what_commitment");
  }
}

/** The one sentence of a failed check. */
const failedSentence = (what: string) => <p class="banner-title" data-testid="solvency-sentence">{t("solvency.sentence_failed", { what })}</p>;

/** The one sentence of a stale commitment: its age in blocks against the build's maximum. */
const staleSentence = (symbol: string, blocks: bigint, max: bigint) => (
  <p class="banner-title" data-testid="solvency-sentence">
    {t("solvency.sentence_stale", { symbol, blocks, max })}
  </p>
);

// ── the member's watch over their leaf: a balance lowered without a payment ──────────────────────────────────────

/** The line of each kind of payment that explains a drop. */
const PAYMENT_LINE = {
  payout: "solvency.leaf_payment_payout",
  deferred: "solvency.leaf_payment_deferred",
  left: "solvency.leaf_payment_left",
} as const satisfies Record<LeafPayment["kind"], string>;

/**
 * Every drop of the member's entitlement in this asset from one kept proof to the next that what they were paid
 * between the two does not explain (lib/leaf-watch.js), with both proofs to download (lib/leaf-evidence.ts). Read from
 * this browser alone, whatever the badge's own check says and whether or not the operator's servers answer; it stays
 * as long as the evidence is kept — the member may delete it, nothing else does. A drop whose payments could not be
 * read yet is said as such, and read again on each check (`round`: the badge's).
 */
function LeafWatch(props: { assetId: number; chainId: number; address: string; connection: AnyConnection; round: number }) {
  const [list, setList] = useState<LeafEvidence[]>([]);
  useEffect(() => {
    let alive = true;
    // Each piece judged once per check: a judgement that fails writes why, which fires the event again.
    const tried = new Set<string>();
    const read = () =>
      leafEvidence().then(
        (all) => {
          if (!alive) return;
          const mine = all.filter((e) => e.assetId === props.assetId && e.chainId === props.chainId && e.member === props.address.toLowerCase());
          setList(mine);
          for (const e of mine) {
            if (e.finding || tried.has(e.id)) continue;
            tried.add(e.id);
            void judgeEvidence(props.connection, e).catch(() => undefined);
          }
        },
        () => undefined,
      );
    void read();
    window.addEventListener(EVIDENCE_EVENT, read);
    return () => {
      alive = false;
      window.removeEventListener(EVIDENCE_EVENT, read);
    };
  }, [props.assetId, props.chainId, props.address, props.connection, props.round]);
  // A drop neither judged nor failed to be is having its payments read: nothing to say yet.
  const shown = list.filter((e) => e.finding || e.unread);
  if (shown.length === 0) return null;
  return (
    <div class="leaf-watch" data-testid="leaf-watch">
      {shown.map((e) => (
        <LeafLowered key={e.id} e={e} />
      ))}
    </div>
  );
}

/** One drop: the two epochs, the two amounts, what was paid between them and what is gone without a payment. */
function LeafLowered(props: { e: LeafEvidence }) {
  const { e } = props;
  const f = e.finding;
  const before = leafPoint(e.previous.proof);
  const after = leafPoint(e.next.proof);
  const amount = (v: bigint | string, testid?: string) => <Amount base={v} decimals={e.decimals} symbol={e.symbol} testid={testid} />;
  const figures = {
    symbol: e.symbol,
    before_epoch: e.previous.epoch,
    before_block: before.asOfBlock,
    before: amount(before.entitlement, "leaf-before"),
    after_epoch: e.next.epoch,
    after_block: after.asOfBlock,
    after: amount(after.entitlement, "leaf-after"),
  };
  const forget = () => {
    if (window.confirm(t("solvency.leaf_delete_confirm"))) void forgetEvidence(e.id).catch(() => undefined);
  };
  const buttons = (
    <div class="actions-row">
      <button type="button" onClick={() => downloadEvidence(e)} data-testid="leaf-evidence-download">
        {t("solvency.leaf_download")}
      </button>
      {[e.previous, e.next].map((r) => (
        <button type="button" key={r.epoch} onClick={() => downloadJson(savedFileName(r), r.proof)} data-testid="leaf-proof-download" data-epoch={r.epoch}>
          {t("solvency.leaf_download_proof", { epoch: r.epoch })}
        </button>
      ))}
      <button type="button" onClick={forget} data-testid="leaf-evidence-delete">
        {t("solvency.leaf_delete")}
      </button>
    </div>
  );
  const attrs = {
    "data-contract": e.next.contract,
    "data-before-epoch": String(e.previous.epoch),
    "data-after-epoch": String(e.next.epoch),
    "data-before": before.entitlement.toString(),
    "data-after": after.entitlement.toString(),
  };
  if (!f) {
    return (
      <div data-testid="leaf-unread" {...attrs}>
        <Notice kind="warn">
          <p>{tx("solvency.leaf_unread", { ...figures, why: e.unread ?? "" })}</p>
          {buttons}
        </Notice>
      </div>
    );
  }
  return (
    <div data-testid="leaf-lowered" {...attrs} data-paid={f.paid} data-missing={f.unexplained} data-leave={f.leave.state}>
      <Notice kind="error">
        <p class="banner-title">{t("solvency.leaf_lowered_title", { symbol: e.symbol })}</p>
        <p data-testid="leaf-lowered-text">{tx("solvency.leaf_lowered", { ...figures, paid: amount(f.paid, "leaf-paid"), missing: amount(f.unexplained, "leaf-missing") })}</p>
        {f.leave.state === "unproven" && <p data-testid="leaf-leave-unproven">{t("solvency.leaf_leave_unproven", { symbol: e.symbol, why: f.leave.why })}</p>}
        <p>{t("solvency.leaf_advice")}</p>
        {buttons}
        <Experts>
          <p>{t("solvency.leaf_what")}</p>
          {f.counted.length > 0 && (
            <>
              <p>{t("solvency.leaf_payments", { before_block: before.asOfBlock, after_block: after.asOfBlock })}</p>
              <ul>
                {f.counted.map((x, i) => (
                  <li key={i} data-testid="leaf-payment" data-kind={x.kind} data-block={x.block} data-amount={x.amount} data-tx={x.tx ?? undefined}>
                    {tx(PAYMENT_LINE[x.kind], { block: BigInt(x.block), amount: amount(x.amount) })}
                  </li>
                ))}
              </ul>
            </>
          )}
          <p class="muted">{t("solvency.leaf_sources")}</p>
        </Experts>
      </Notice>
    </div>
  );
}

export function SolvencyBadge(props: BadgeProps) {
  const [status, setStatus] = useState<Status>({ kind: "checking", text: "Checking your balance against the chain…" });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    checkBalance(
      props,
      (s) => alive && setStatus(s),
      () => alive,
    ).catch((e) => alive && setStatus({ kind: "error", text: errorText(e) }));
    return () => {
      alive = false;
    };
  }, [props.connection, props.assetId, props.address, props.registeredBlock, tick]);
  const again = () => setTick((t) => t + 1);
  // The verdict, computed here once, for the asset's pay buttons (./solvency-verdict.ts); kept while checking again.
  const [owner] = useState(() => ({}));
  const verdict = verdictOfStatus(status);
  useEffect(() => {
    if (verdict) publishVerdict(props.assetId, verdict, owner);
  }, [verdict, props.assetId]);
  useEffect(() => () => withdrawVerdict(props.assetId, owner), [props.assetId]);
  // The tiles' figures now, to say whether the proof's balances are the ones the dashboard shows.
  const [tiles, setTiles] = useState<Balances | null>(null);
  useEffect(() => {
    if (status.kind !== "verified") return;
    let alive = true;
    profile().then(
      (me) => alive && setTiles(me.assets.find((a) => a.asset_id === props.assetId)?.balances ?? null),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [status]);
  // Stale or failing: how old the commitment is and when the members' exit can open, by the contract's own clock.
  const [clock, setClock] = useState<ExitClock | null>(null);
  const read = "read" in status ? status.read : undefined;
  useEffect(() => {
    setClock(null);
    if ((verdict !== "stale" && verdict !== "failed") || !read) return;
    let alive = true;
    readExitClock(props.connection, read).then(
      (c) => alive && setClock(c),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [verdict, read]);
  return (
    <>
      <LeafWatch assetId={props.assetId} chainId={props.chainId} address={props.address} connection={props.connection} round={tick} />
      <BadgeView status={status} p={props} again={again} tiles={tiles} clock={clock} />
    </>
  );
}

function BadgeView(props: { status: Status; p: BadgeProps; again: () => void; tiles: Balances | null; clock: ExitClock | null }) {
  const { status: s, p, tiles, clock } = props;
  const [busy, setBusy] = useState(false);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const recheck = (
    <button type="button" onClick={props.again} disabled={s.kind === "checking"} data-testid="solvency-recheck">
      {t("solvency.check_again")}
    </button>
  );
  // The proof as it was checked, byte for byte the JSON the server gave (for the command-line verifier, or as evidence).
  const save = (proof: SolvencyProofAnswer) => downloadJson(proofFileName(proof), proof);
  const download = (proof: SolvencyProofAnswer) => (
    <button type="button" onClick={() => save(proof)} data-testid="solvency-download">
      {t("solvency.download_proof")}
    </button>
  );
  // After an upgrade: one file per contract, named with it (the command-line verifier takes one proof per file).
  const saveOf = (proof: SolvencyProofAnswer) => downloadJson(contractProofFileName(proof), proof);
  // Without a check (a wallet that cannot read the chain): the latest proof, fetched when asked for (after an upgrade,
  // the latest of the contract asked for, one of the build's).
  const fetchAndSave = async (contract?: string) => {
    setBusy(true);
    setDownloadError(null);
    try {
      if (contract === undefined) save(await get<SolvencyProofAnswer>("/v1/users/solvency-proof", { asset_id: p.assetId }));
      else saveOf(await get<SolvencyProofAnswer>("/v1/users/solvency-proof", { asset_id: p.assetId, contract }));
    } catch (e) {
      setDownloadError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  // The build's contracts of the asset's chain, when it carries replaced ones (nothing otherwise: one file, as ever).
  const built = buildNetwork(p.chainId);
  const builtContracts = built && built.previous.length ? [{ hex: built.settlement, live: true }, ...built.previous.map((x) => ({ hex: x.settlement, live: false }))] : null;
  // The latest proof file(s) as the server gives them, fetched when asked for (after an upgrade, one per contract).
  const downloadLatest = builtContracts ? (
    builtContracts.map((x) => (
      <button type="button" key={x.hex} onClick={() => fetchAndSave(x.hex)} disabled={busy} data-testid="solvency-download" data-contract={x.hex.toLowerCase()}>
        Download your latest proof file of {contractText(p.chainId, { contract: x.hex, live: x.live })}
      </button>
    ))
  ) : (
    <button type="button" onClick={() => fetchAndSave()} disabled={busy} data-testid="solvency-download">
      {t("solvency.download_latest")}
    </button>
  );
  const wrap = (children: ComponentChildren, attrs: Record<string, string | undefined> = {}) => (
    <div class="solvency-check" id={badgeId(p.assetId)} tabIndex={-1} data-testid="solvency-check" data-state={s.kind} {...attrs}>
      {children}
    </div>
  );
  switch (s.kind) {
    case "checking":
      return wrap(
        <p class="muted" aria-busy="true" aria-live="polite">
          {s.text}
        </p>,
      );
    case "error":
      return wrap(
        <Notice kind="error" testid="solvency-error">
          {s.text} {recheck}
          <p class="muted" data-testid="solvency-unknown">
            {t("solvency.unknown_advice")}
          </p>
        </Notice>,
        { "data-verdict": "unknown" },
      );
    case "note":
      return wrap(
        <Notice kind="info" testid="solvency-note">
          <p>{s.text}</p>
          <div class="actions-row">
            {(s.reason === "walletconnect" || s.reason === "wallet") && downloadLatest}
            {s.reason === "network" && (
              <button type="button" onClick={() => p.connection.ensureNetwork(p.chainId).catch((e) => setDownloadError(errorText(e)))} data-testid="solvency-switch">
                Switch to {networkLabel(p.chainId)}
              </button>
            )}
            {s.reason !== "wallet" && s.reason !== "walletconnect" && recheck}
          </div>
          {downloadError && <p class="field-error">{downloadError}</p>}
          <p class="muted" data-testid="solvency-unknown">
            {t("solvency.unknown_advice")}
          </p>
        </Notice>,
        { "data-verdict": "unknown", "data-reason": s.reason, "data-epoch": s.read?.epoch.toString(), "data-as-of": s.read?.asOfBlock.toString() },
      );
    case "untrusted": {
      const { read, asset } = s;
      const contract = <Addr a={chainAddress(asset.chain_id, read.contract)} chainId={asset.chain_id} testid="untrusted-contract" />;
      return wrap(
        <Notice kind="error" testid="solvency-failed">
          {failedSentence(whatFailed(s.check === "allowed" ? "untrusted-token" : "untrusted-contract", asset.symbol))}
          <Advice verdict="failed" symbol={p.symbol} clock={clock} opened={asset.exit} />
          <div class="actions-row">
            {downloadLatest}
            {recheck}
          </div>
          {downloadError && <p class="field-error">{downloadError}</p>}
          <Experts>
          {s.check === "listed" || s.check === "disowned" ? (
            <>
              <p class="banner-title" data-testid="solvency-failed-title">
                {s.check === "listed"
                  ? "The operator's server lists a contract this page was not built with"
                  : "The operator's server gives no proof for a contract of this network that committed the round"}
              </p>
              <p data-testid="solvency-failed-check" data-check={s.check}>
                {s.check === "listed" ? (
                  <>
                    {read.listed.details.join(" ")} This page reads only the contracts it was built with for {networkLabel(read.chainId)} ({contract}
                    {read.previous.length > 0 && <> and the {read.previous.length === 1 ? "contract" : "contracts"} it replaced</>}): nothing the server gives is checked against
                    another.
                  </>
                ) : (
                  <>
                    The contract <code data-testid="disowned-contract">{chainAddress(asset.chain_id, s.contract ?? "")}</code>, one this page was built with for{" "}
                    {networkLabel(read.chainId)}, committed the latest round of {where(asset)}, yet the operator's server says it is no contract of the chain and
                    gives no proof of your balance in its tree.
                  </>
                )}
              </p>
            </>
          ) : s.check === "contract" ? (
            <>
              <p class="banner-title" data-testid="solvency-failed-title">
                The operator's server names another contract than this network's Settlement
              </p>
              <p data-testid="solvency-failed-check" data-check="contract">
                For {where(asset)} the server names the contract <code data-testid="served-contract">{chainAddress(asset.chain_id, read.servedContract)}</code>, but
                this page was built with {contract} as the Settlement contract of {networkLabel(read.chainId)}. A commitment or a proof of another contract
                proves nothing about the custody of this one: nothing the server gives is checked against it.
              </p>
            </>
          ) : (
            <>
              <p class="banner-title" data-testid="solvency-failed-title">
                The contract never allowed the token the server names: no commitment of it can be real
              </p>
              <p data-testid="solvency-failed-check" data-check="allowed">
                For {where(asset)} the server names the token <code data-testid="served-token">{chainAddress(asset.chain_id, read.token)}</code>, which {contract} on{" "}
                {networkLabel(read.chainId)} has never allowed: nobody can have paid into it in that token, and the contract takes no commitment of its liabilities.
              </p>
            </>
          )}
          </Experts>
        </Notice>,
        { "data-state": "failed", "data-verdict": "failed", "data-check": s.check },
      );
    }
    case "excluded": {
      const when = s.joined === null ? "You have been a user since the start" : `You joined at block ${s.joined}`;
      return wrap(
        <Notice kind="error" testid="solvency-failed">
          {failedSentence(whatFailed("excluded", s.asset.symbol))}
          <Advice verdict="failed" symbol={p.symbol} clock={clock} opened={s.asset.exit} />
          <div class="actions-row">{recheck}</div>
          <Experts>
          <p data-testid="solvency-failed-title">You are not in the committed tree{s.contract && ` of ${contractText(s.read.chainId, s.contract)}`}</p>
          <p>
            {when}, before the balances of epoch {s.read.epoch.toString()} were read (block {s.read.asOfBlock.toString()}), yet the operator's server
            says that epoch has no leaf for you. Every user must be a leaf, zero balances included: what you are owed is left out of
            the total the chain holds.
          </p>
          </Experts>
        </Notice>,
        { "data-state": "failed", "data-verdict": "failed", "data-check": "excluded", "data-epoch": s.read.epoch.toString(), "data-as-of": s.read.asOfBlock.toString() },
      );
    }
    case "round":
      return wrap(<RoundFailed s={s} recheck={recheck} clock={clock} download={downloadLatest} />, { "data-state": "failed", "data-verdict": s.verdict.kind === "stale" ? "stale" : "failed", "data-check": s.verdict.kind === "stale" ? "fresh" : "round", "data-as-of": s.verdict.asOfBlock.toString() });
    case "verified": {
      if (s.round) return <RoundVerified s={s} round={s.round} p={p} recheck={recheck} save={saveOf} wrap={wrap} tiles={tiles} clock={clock} />;
      const { proof, result, read, asset } = s;
      const failed = failures(result);
      const value = result.leafValue;
      const amount = (v: bigint) => <Amount base={v} decimals={asset.decimals} symbol={asset.symbol} />;
      const attrs = {
        "data-epoch": read.epoch.toString(),
        "data-as-of": read.asOfBlock.toString(),
        "data-root": read.root,
        "data-value": value?.toString(),
        "data-age": ageOf(read).toString(),
      };
      const served = result.checks.find((c) => c.id === "served");
      const facts = (
        <p class="muted" data-testid="solvency-facts">
          Balances as of block {read.asOfBlock.toString()} ({ageOf(read).toString()} blocks ago, at most {read.network.proofMaxAgeBlocks.toString()}); root{" "}
          <Hash h={read.root} testid="solvency-root" /> committed at block {read.commitBlock.toString()} with {amount(read.custody)} in custody for{" "}
          {amount(read.total)} owed to all users — read through {read.via} from the contract{" "}
          <Addr a={chainAddress(asset.chain_id, read.contract)} chainId={asset.chain_id} /> on {networkLabel(asset.chain_id)}, the one this page was built with.
        </p>
      );
      const checks = (
        <details class="checks">
          <summary>Every check</summary>
          <ul data-testid="solvency-checks">
            {result.checks.map((c) => (
              <li key={c.id} data-check={c.id} data-ok={String(c.ok)}>
                {c.ok ? "✓" : "✗"} {c.detail}
              </li>
            ))}
          </ul>
        </details>
      );
      const actions = (
        <div class="actions-row">
          {download(proof)}
          {recheck}
        </div>
      );
      // The leaf's parts are worth stating only when the leaf is the one in the chain's root.
      const parts = inTheRoot(result) && value !== null && value !== undefined && <LeafParts proof={proof} value={value} asset={asset} tiles={tiles} />;
      if (failed.length === 0) {
        return wrap(
          <Notice kind="ok" testid="solvency-ok">
            <p class="banner-title" data-testid="solvency-sentence">
              {tx("solvency.sentence_verified", { value: amount(value ?? 0n), symbol: asset.symbol })}
            </p>
            {parts}
            <SavedNote saved={s.saved} />
            {actions}
            <Experts>
              <p data-testid="solvency-ok-text">
                ✓ Your balance of {amount(value ?? 0n)} is in epoch {read.epoch.toString()}'s committed root; custody covers the total.
              </p>
              {facts}
              {served && !served.ok && <p data-testid="solvency-served">{served.detail}</p>}
              {checks}
            </Experts>
          </Notice>,
          { ...attrs, "data-state": "ok", "data-verdict": "verified" },
        );
      }
      const first = failed[0];
      const stale = failed.every((c) => c.id === "fresh");
      return wrap(
        <Notice kind={stale ? "warn" : "error"} testid="solvency-failed">
          {stale ? staleSentence(asset.symbol, ageOf(read), read.network.proofMaxAgeBlocks) : failedSentence(whatFailed(first.id, asset.symbol))}
          {stale && <CommittedAgo clock={clock} />}
          {parts}
          <Advice verdict={stale ? "stale" : "failed"} symbol={asset.symbol} clock={clock} opened={asset.exit} />
          {actions}
          <Experts>
            <p data-testid="solvency-failed-title">{headline(first, read)}</p>
            <ul class="failed-checks">
              {failed.map((c) => (
                <li key={c.id} data-testid="solvency-failed-check" data-check={c.id}>
                  {c.detail}
                </li>
              ))}
            </ul>
            {failed.every((c) => c.id === "fresh" || c.id === "solvent") ? (
              <p>Your balance is in the root the chain holds; what failed is the commitment itself.</p>
            ) : (
              <p>Keep the proof file: it is what the operator's server gave you, and the chain's figures below are what it must match.</p>
            )}
            <SavedNote saved={s.saved} />
            {facts}
            {checks}
          </Experts>
        </Notice>,
        { ...attrs, "data-state": "failed", "data-verdict": stale ? "stale" : "failed", "data-check": first.id },
      );
    }
  }
}

/** After an upgrade: the contracts' commitments are not one round (two totals for one block), or one lags past the maximum age. */
function RoundFailed(props: { s: Extract<Status, { kind: "round" }>; recheck: ComponentChildren; clock: ExitClock | null; download: ComponentChildren }) {
  const { verdict, read, asset } = props.s;
  const maxAge = read.network.proofMaxAgeBlocks;
  const stale = verdict.kind === "stale";
  return (
    <Notice kind={stale ? "warn" : "error"} testid="solvency-failed">
      {stale ? staleSentence(asset.symbol, verdict.lag, maxAge) : failedSentence(whatFailed("round", asset.symbol))}
      {stale && <CommittedAgo clock={props.clock} />}
      <Advice verdict={stale ? "stale" : "failed"} symbol={asset.symbol} clock={props.clock} opened={asset.exit} />
      <div class="actions-row">
        {props.download}
        {props.recheck}
      </div>
      <Experts>
      <p data-testid="solvency-failed-title">
        {verdict.kind === "stale"
          ? `STALE: not every contract has committed the latest round, and one lags ${verdict.lag} blocks, more than the ${maxAge} allowed`
          : "The contracts hold different totals for the same balances: their commitments are not one snapshot of the ledger"}
      </p>
      <ul class="failed-checks">
        {contractsOf(verdict).map((c) => (
          <li key={c.contract} data-testid="solvency-failed-check" data-check={verdict.kind === "stale" ? "fresh" : "round"} data-contract={c.contract}>
            {contractWords(asset.chain_id, c)}: {commitmentText(c)}
            {c.epoch > 0n && (
              <>
                , a total of <Amount base={c.total} decimals={asset.decimals} symbol={asset.symbol} />
              </>
            )}
            .
          </li>
        ))}
      </ul>
      <p>
        {verdict.kind === "stale"
          ? `Every round is committed on each contract of ${where(asset)}; the round of block ${verdict.asOfBlock} has not reached every one in the ${maxAge} blocks allowed, so the custody of the contracts cannot be added up against a recent total: the operator has not committed recent balances everywhere.`
          : `Every round commits one snapshot of the ledger, the same block and total, on each contract; these name one block with different totals, so no sum of their custody means anything.`}
      </p>
      </Experts>
    </Notice>
  );
}

/** After an upgrade: the user's proof checked in every contract's tree of the round, and the custody of every contract together. */
function RoundVerified(props: {
  s: Extract<Status, { kind: "verified" }>;
  round: RoundCheckState;
  p: BadgeProps;
  recheck: ComponentChildren;
  save: (proof: SolvencyProofAnswer) => void;
  wrap: (children: ComponentChildren, attrs?: Record<string, string | undefined>) => ComponentChildren;
  tiles: Balances | null;
  clock: ExitClock | null;
}) {
  const { s, round, recheck, wrap, tiles, clock } = props;
  const { read, asset } = s;
  const { verdict, parts, merged, dropped } = round;
  const n = parts.length;
  const failed = failures<RoundCheck>(merged);
  const value = merged.leafValue;
  const amount = (v: bigint) => <Amount base={v} decimals={asset.decimals} symbol={asset.symbol} />;
  const maxAge = read.network.proofMaxAgeBlocks;
  const attrs = {
    "data-epoch": read.epoch.toString(),
    "data-as-of": verdict.asOfBlock.toString(),
    "data-root": read.root,
    "data-value": value?.toString(),
    "data-age": verdict.age.toString(),
    "data-contracts": String(n),
    "data-custody": verdict.custody.toString(),
  };
  // Which contract a check is about, in words (nothing for the round's own checks).
  const about = (c: RoundCheck) => (c.contract ? `${contractText(asset.chain_id, { contract: c.contract, live: c.live })}: ` : "");
  const facts = (
    <div class="muted" data-testid="solvency-facts">
      <p>
        Balances as of block {verdict.asOfBlock.toString()} ({verdict.age.toString()} blocks ago, at most {maxAge.toString()}),{" "}
        {n > 1 ? `committed as one round on ${contractsText(n)} of ${networkLabel(asset.chain_id)}, each in its own tree` : `committed on one contract of ${networkLabel(asset.chain_id)}`}{" "}
        — read through {read.via} from the contracts this page was built with:
      </p>
      <ul>
        {parts.map((x) => (
          <li key={x.hex} data-testid="solvency-contract" data-contract={x.hex} data-epoch={x.read.epoch.toString()} data-root={x.read.root} data-custody={x.read.custody.toString()}>
            {contractWords(asset.chain_id, { contract: x.read.contract, live: x.live })}: epoch {x.read.epoch.toString()}, root <Hash h={x.read.root} /> committed at block{" "}
            {x.read.commitBlock.toString()} with {amount(x.read.custody)} in custody;
          </li>
        ))}
      </ul>
      <p data-testid="solvency-sum">
        {custodyText(n)}: {amount(verdict.custody)}, for {amount(verdict.total)} owed to all users.
      </p>
    </div>
  );
  const checks = (
    <details class="checks">
      <summary>Every check</summary>
      <ul data-testid="solvency-checks">
        {merged.checks.map((c, i) => (
          <li key={`${c.contract}-${c.id}-${i}`} data-check={c.id} data-ok={String(c.ok)} data-contract={c.contract ?? undefined}>
            {c.ok ? "✓" : "✗"} {about(c)}
            {c.detail}
          </li>
        ))}
      </ul>
    </details>
  );
  const buttons = (
    <div class="actions-row">
      {parts.map((x) => (
        <button type="button" key={x.hex} onClick={() => props.save(x.proof)} data-testid="solvency-download" data-contract={x.hex}>
          Download the proof file of the {x.live ? "live" : "replaced"} contract {shortHex(chainAddress(asset.chain_id, x.read.contract))}
        </button>
      ))}
      {recheck}
    </div>
  );
  const cli = (
    <p class="muted" data-testid="solvency-cli">
      One file per contract. To check one yourself against a node you trust: <code>solvency-verify FILE --rpc URL --contract C --previous D…</code>, with C the
      file's contract and each other contract as <code>--previous</code> ({parts.map((x) => chainAddress(asset.chain_id, x.read.contract)).join(", ")}), and{" "}
      <code>--max-age-blocks {maxAge.toString()}</code>: it checks your balance in C's tree and the custody of every contract together against the total.
    </p>
  );
  // The live contract's leaf, as the sum of the tiles (the same balances are in every contract's tree of the round).
  const live = parts.find((x) => x.live) ?? parts[0];
  const leaf =
    inTheRoot(merged) && value !== null && value !== undefined && <LeafParts proof={live.proof} value={value} asset={asset} tiles={tiles} />;
  if (failed.length === 0) {
    return wrap(
      <>
        <Notice kind="ok" testid="solvency-ok">
          <p class="banner-title" data-testid="solvency-sentence">
            {tx(n > 1 ? "solvency.sentence_verified_contracts" : "solvency.sentence_verified", { value: amount(value ?? 0n), symbol: asset.symbol })}
          </p>
          {leaf}
          <SavedNote saved={s.saved} />
          {buttons}
          <Experts>
            <p data-testid="solvency-ok-text">
              {n > 1 ? (
                <>
                  ✓ Your balance of {amount(value ?? 0n)} is in the committed root of {contractsText(n)} (the balances of block {verdict.asOfBlock.toString()}); the custody of{" "}
                  {contractsText(n)} together covers the total.
                </>
              ) : (
                <>
                  ✓ Your balance of {amount(value ?? 0n)} is in epoch {read.epoch.toString()}'s committed root; custody covers the total.
                </>
              )}
            </p>
            {facts}
            {checks}
            {cli}
          </Experts>
        </Notice>
        <DroppedWarning a={asset} dropped={dropped} />
      </>,
      { ...attrs, "data-state": "ok", "data-verdict": "verified" },
    );
  }
  const first = failed[0];
  const stale = failed.every((c) => c.id === "fresh");
  const firstRead = first.contract ? (parts.find((x) => x.hex === first.contract)?.read ?? read) : read;
  const title = first.contract ? `${headline(first, firstRead)} (${contractText(asset.chain_id, { contract: first.contract, live: first.live })})` : headline(first, read);
  return wrap(
    <>
      <Notice kind={stale ? "warn" : "error"} testid="solvency-failed">
        {stale ? staleSentence(asset.symbol, verdict.age, maxAge) : failedSentence(whatFailed(first.id, asset.symbol))}
        {stale && <CommittedAgo clock={clock} />}
        {leaf}
        <Advice verdict={stale ? "stale" : "failed"} symbol={asset.symbol} clock={clock} opened={asset.exit} />
        {buttons}
        <Experts>
          <p data-testid="solvency-failed-title">{first.id === "solvent" ? `INSOLVENT: ${custodyText(n)} does not cover what is owed to all users` : title}</p>
          <ul class="failed-checks">
            {failed.map((c, i) => (
              <li key={`${c.contract}-${c.id}-${i}`} data-testid="solvency-failed-check" data-check={c.id} data-contract={c.contract ?? undefined}>
                {about(c)}
                {c.detail}
              </li>
            ))}
          </ul>
          {failed.every((c) => c.id === "fresh" || c.id === "solvent") ? (
            <p>Your balance is in the root each contract holds; what failed is the commitment itself.</p>
          ) : (
            <p>Keep the proof files: they are what the operator's server gave you, and the chain's figures below are what they must match.</p>
          )}
          {facts}
          {checks}
          {cli}
        </Experts>
      </Notice>
      <DroppedWarning a={asset} dropped={dropped} />
    </>,
    { ...attrs, "data-state": "failed", "data-verdict": stale ? "stale" : "failed", "data-check": first.id, "data-contract": first.contract ?? undefined },
  );
}

// ── the public page ────────────────────────────────────────────────────────────────────────────────────────────────

/** How the server's latest epoch stands against the chain's. */
type Comparison =
  | { kind: "none" }
  | { kind: "match" }
  /** After an upgrade, `contract` names the contract whose epoch the server has not recorded yet. */
  | { kind: "behind"; server: number | null; contract?: { contract: string; live: boolean; epoch: bigint; commitAge: bigint } }
  | { kind: "mismatch"; what: string; details: string[] };

/**
 * How the server's report stands against the chain's: the live contract's latest epoch; after an upgrade also each
 * replaced contract's the server lists, and the server's round against the chain's complete one (its custody summed).
 */
function compare(a: AssetSolvency, read: ChainCommitmentRead): Comparison {
  const live = compareEpoch(a, a.latest, read);
  if (!upgraded(read) || !a.contracts) return live;
  const results: { c: Comparison; who: { contract: string; live: boolean }; at: ChainCommitmentRead }[] = [{ c: live, who: { contract: read.contract, live: true }, at: read }];
  for (const p of read.previous) {
    const served = a.contracts.find((x) => x.contract_hex.toLowerCase() === p.contractHex.toLowerCase());
    if (!served) continue;
    const at = readAt(read, p.contractHex);
    results.push({ c: compareEpoch(a, served.latest, at), who: { contract: p.contract, live: false }, at });
  }
  const label = (w: { contract: string; live: boolean }) => `${contractText(a.chain_id, w).replace(/^t/, "T")}: `;
  const mismatched = results.filter((r) => r.c.kind === "mismatch");
  const details = mismatched.flatMap((r) => (r.c.kind === "mismatch" ? r.c.details.map((d) => label(r.who) + d) : []));
  // The server's round (the custody of every contract together) against the chain's complete round of the same block.
  const verdict = roundOf(read);
  const round = a.round;
  const roundParts: string[] = [];
  if (round && verdict.kind === "complete" && BigInt(round.as_of_block) === verdict.asOfBlock) {
    const amount = (v: bigint | string) => `${human(v, a.decimals)} ${a.symbol}`;
    if (BigInt(round.total.base) !== verdict.total) {
      roundParts.push("a round's total");
      details.push(`The round of block ${round.as_of_block}: the server says a total of ${amount(round.total.base)}, the chain ${amount(verdict.total)}.`);
    }
    if (BigInt(round.custody.base) !== verdict.custody) {
      roundParts.push("a custody of the contracts together");
      details.push(`The round of block ${round.as_of_block}: the server says the contracts held ${amount(round.custody.base)} together, the chain ${amount(verdict.custody)}.`);
    }
  }
  if (details.length) {
    const first = mismatched[0]?.c;
    return { kind: "mismatch", what: first?.kind === "mismatch" ? first.what : roundParts[0], details };
  }
  const behind = results.find((r) => r.c.kind === "behind");
  if (behind && behind.c.kind === "behind")
    return { kind: "behind", server: behind.c.server, contract: { ...behind.who, epoch: behind.at.epoch, commitAge: commitAgeOf(behind.at) } };
  if (results.every((r) => r.c.kind === "none")) return { kind: "none" };
  return results.some((r) => r.c.kind === "match") ? { kind: "match" } : live;
}

/** How the server's epoch of one contract (`api`) stands against that contract's read from the chain. */
function compareEpoch(a: AssetSolvency, api: EpochView | undefined, read: ChainCommitmentRead): Comparison {
  const amount = (v: bigint | string) => `${human(v, a.decimals)} ${a.symbol}`;
  if (read.epoch === 0n) {
    return api ? { kind: "mismatch", what: "an epoch", details: [`The server reports epoch ${api.epoch}; the chain holds no commitment at all.`] } : { kind: "none" };
  }
  if (!api || BigInt(api.epoch) < read.epoch) {
    if (commitAgeOf(read) <= RECORD_GRACE_BLOCKS) return { kind: "behind", server: api?.epoch ?? null };
    return {
      kind: "mismatch",
      what: "an old epoch",
      details: [
        `The chain committed epoch ${read.epoch} at block ${read.commitBlock}, ${commitAgeOf(read)} blocks ago; the server still reports ${api ? `epoch ${api.epoch}` : "none"}.`,
      ],
    };
  }
  if (BigInt(api.epoch) > read.epoch)
    return { kind: "mismatch", what: "an epoch", details: [`The server reports epoch ${api.epoch}; the chain's latest is epoch ${read.epoch}.`] };
  const details: string[] = [];
  const parts: string[] = [];
  if (api.root.toLowerCase() !== read.root.toLowerCase()) {
    parts.push("a root");
    details.push(`Root: the server says ${api.root}, the chain holds ${read.root}.`);
  }
  if (BigInt(api.total.base) !== read.total) {
    parts.push("a total");
    details.push(`Total owed: the server says ${amount(api.total.base)}, the chain holds ${amount(read.total)}.`);
  }
  if (BigInt(api.as_of_block) !== read.asOfBlock) {
    parts.push("a block");
    details.push(`Balances as of block: the server says ${api.as_of_block}, the chain ${read.asOfBlock}.`);
  }
  if (api.custody && BigInt(api.custody.base) !== read.custody) {
    parts.push("a custody");
    details.push(`Custody at commit: the server says ${amount(api.custody.base)}, the chain ${amount(read.custody)}.`);
  }
  if (api.committed_block != null && BigInt(api.committed_block) !== read.commitBlock) {
    parts.push("a commit block");
    details.push(`Committed at block: the server says ${api.committed_block}, the chain ${read.commitBlock}.`);
  }
  return details.length ? { kind: "mismatch", what: parts[0], details } : { kind: "match" };
}

/** The "Proof of solvency" page: every asset's commitment, the server's claim beside the chain's, and the user's badges. */
export function SolvencySection() {
  const [tick, setTick] = useState(0);
  const data = useLoad(() => overview(tick > 0), [tick]);
  const connection = useConnection();
  const signed = useSignedIn();
  const profile = useLoad(() => (signed ? get<Profile>("/v1/users/me") : Promise.resolve(null)), [signed?.session.address, signed?.connection]);
  const title = useRef<HTMLHeadingElement>(null);
  // Opened from the navigation: the reader lands on the page's title.
  useEffect(() => title.current?.focus(), []);
  const reload = () => setTick((t) => t + 1);
  return (
    <section class="solvency" aria-labelledby="solvency-title" data-testid="solvency">
      <h2 id="solvency-title" tabIndex={-1} ref={title}>
        Proof of solvency
      </h2>
      <p>
        For each asset, the operator commits on the chain, every few minutes, the root of a tree of what every user is owed
        (an "epoch"), and the contract records the custody it holds in the same transaction. Anyone can check that custody
        covers the total; each user can check that their own balance is in the tree.
      </p>
      <p>
        The figures under "What the operator's server says" are only its claim. With a wallet connected, this page reads
        the commitment from the chain <strong>through your wallet</strong> (never from the operator's server or a node of
        its own), at the Settlement contract this page was built with for your wallet's network, and compares.
      </p>
      <PendingChanges connection={connection} />
      <SavedProofs />
      {!connection && (
        <Notice kind="info" testid="solvency-connect">
          Connect a wallet (above) to check these figures against the chain yourself: an EVM wallet for the assets on an EVM
          chain, TronLink for those on TRON.
        </Notice>
      )}
      {data.loading && !data.data && <Loading what="the proof of solvency" />}
      {data.error && <LoadFailed error={data.error} what="the proof of solvency" retry={reload} />}
      {data.data && (
        <div class="cards solvency-cards">
          {data.data.assets.map((a) => {
            const mine = profile.data?.assets.find((s) => s.asset_id === a.asset_id);
            return (
              <AssetCard
                key={a.asset_id}
                a={a}
                connection={connection}
                tick={tick}
                reload={reload}
                mine={
                  signed &&
                  mine && (
                    <BadgeSection>
                      <SolvencyBadge
                        assetId={a.asset_id}
                        symbol={a.symbol}
                        chainId={a.chain_id}
                        registeredBlock={mine.registered_block}
                        connection={signed.connection}
                        address={signed.session.address}
                      />
                    </BadgeSection>
                  )
                }
              />
            );
          })}
        </div>
      )}
    </section>
  );
}

// ── proofs kept for the members' exit ───────────────────────────────────────────────────────────────────────────

/** The members' exit page: served here, and a file to keep (it runs opened from the disk, or from any host). */
const EXIT_PAGE = "/exit.html";

/** When to use the exit page, in one sentence. */
const EXIT_WHEN =
  "If the operator ever stops — no new commitment of an asset for the contract's exit period (14 days on a real network), or the contract left paused that long — open the members' exit page with your proof file and your wallet: it opens the exit and pays you what the proof says you are owed, from the contract alone, without the operator's servers.";

function ExitLinks() {
  return (
    <>
      <a href={EXIT_PAGE} target="_blank" rel="noopener" data-testid="exit-page-link">
        the exit page
      </a>{" "}
      (
      <a href={EXIT_PAGE} download="members-exit.html" data-testid="exit-page-download">
        download it
      </a>
      )
    </>
  );
}

/** Under a verified proof: it is kept in this browser (when), for the exit. */
function SavedNote(props: { saved?: Saved }) {
  const saved = props.saved;
  if (!saved) return null;
  if (!saved.ok)
    return (
      <p class="muted" data-testid="solvency-saved" data-saved="false">
        This browser could not keep the proof ({saved.why}): download the file and keep it; it is what you would need to take your exit if the operator stops.
      </p>
    );
  return (
    <p class="muted" data-testid="solvency-saved" data-saved="true" data-epoch={saved.record.epoch} data-saved-at={saved.record.savedAt}>
      Kept in this browser on {new Date(saved.record.savedAt).toLocaleString()} (epoch {saved.record.epoch}), for the members' exit: <ExitLinks />. {EXIT_WHEN}
    </p>
  );
}

/**
 * Every proof this browser keeps (IndexedDB, lib/proof-store.ts), with when it was kept, a download and the exit page:
 * read from the browser alone, so it shows whether or not the operator's servers answer.
 */
function SavedProofs() {
  const [list, setList] = useState<SavedProof[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const read = () => savedProofs().then(setList, (e) => setError(errorText(e)));
    void read();
    window.addEventListener(SAVED_EVENT, read);
    return () => window.removeEventListener(SAVED_EVENT, read);
  }, []);
  if (error || !list || list.length === 0) return null;
  return (
    <section class="solvency-saved" aria-labelledby="solvency-saved-title" data-testid="saved-proofs">
      <h3 id="solvency-saved-title">Your proofs kept in this browser</h3>
      <p>
        {EXIT_WHEN} Keep the files: <ExitLinks />.
      </p>
      <ul>
        {list.map((x) => (
          <li key={x.key} data-testid="saved-proof" data-key={x.key} data-epoch={x.epoch} data-member={x.member} data-saved-at={x.savedAt}>
            {x.symbol || "An asset"} on {networkLabel(x.chainId)}, epoch {x.epoch} of the contract <code>{chainAddress(x.chainId, x.contract)}</code>, for{" "}
            <code>{chainAddress(x.chainId, x.member)}</code> — kept on {new Date(x.savedAt).toLocaleString()}.{" "}
            <button type="button" onClick={() => downloadJson(savedFileName(x), x.proof)} data-testid="saved-proof-download">
              Download the proof file
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function BadgeSection(props: { children: ComponentChildren }) {
  return (
    <section class="solvency-mine" aria-label="Your balance" data-testid="solvency-mine">
      <h4>Your balance</h4>
      {props.children}
    </section>
  );
}

type ReadState = { read?: ChainCommitmentRead; dropped?: Dropped[]; cannot?: CannotReadError; error?: string; loading: boolean };

function AssetCard(props: { a: AssetSolvency; connection: AnyConnection | null; tick: number; reload: () => void; mine?: ComponentChildren }) {
  const { a, connection: c } = props;
  const [state, setState] = useState<ReadState>({ loading: false });
  const [again, setAgain] = useState(0);
  useEffect(() => {
    if (!c) {
      setState({ loading: false });
      return;
    }
    let alive = true;
    setState((s) => ({ read: s.read, loading: true }));
    readCommitment(c, a)
      // After an upgrade: what the replaced contracts that stopped committing still hold.
      .then(async (read) => ({ read, dropped: upgraded(read) ? await droppedHoldings(c, read, roundOf(read)) : undefined }))
      .then(
        ({ read, dropped }) => alive && setState({ read, dropped, loading: false }),
        (e) => alive && setState(e instanceof CannotReadError ? { cannot: e, loading: false } : { error: errorText(e), loading: false }),
      );
    return () => {
      alive = false;
    };
  }, [c, a.asset_id, props.tick, again]);
  const read = state.read;
  const cmp = read ? compare(a, read) : null;
  // While the server has not recorded the chain's newest epoch (it does once its block is confirmed), ask both again.
  useEffect(() => {
    if (cmp?.kind !== "behind") return;
    const t = setTimeout(props.reload, 5_000);
    return () => clearTimeout(t);
  }, [cmp?.kind, read?.epoch, a.latest?.epoch, props.tick]);
  const key = assetKey(a.symbol, a.chain_id);
  // The server's contract and token are the first things that must agree with the chain.
  const untrusted = read && (!servedContractMatches(read) || !read.listed.ok || !read.tokenEverAllowed);
  const claim =
    !read || !cmp
      ? "the operator's claim, not checked"
      : untrusted || cmp.kind === "mismatch"
        ? "differs from the chain"
        : cmp.kind === "match"
          ? "matches the chain"
          : "not checked yet";
  const claimKind = untrusted ? "mismatch" : (cmp?.kind ?? "unchecked");
  return (
    <article class="card" data-testid={`solvency-${key}`} data-asset-id={a.asset_id} aria-labelledby={`solvency-${key}-title`}>
      <h3 id={`solvency-${key}-title`}>
        {a.symbol}
        <span class="muted"> on {networkText(a.chain_id)}</span>
      </h3>
      <section aria-label={`${a.symbol}: what the operator's server says`} data-testid="api-claim">
        <h4>
          What the operator's server says{" "}
          <span class={`badge claim ${claimKind}`} data-testid="claim-label">
            {claim}
          </span>
        </h4>
        {a.latest ? <ServerFigures a={a} e={a.latest} /> : <p class="muted" data-testid="api-none">No epoch committed yet.</p>}
        {a.contracts && a.contracts.length > 1 && <ServerRound a={a} contracts={a.contracts} />}
        {a.in_flight && (
          <p class="muted" data-testid="api-in-flight">
            Epoch {a.in_flight.epoch} (balances as of block {a.in_flight.as_of_block}) is being committed: {a.in_flight.status}.
          </p>
        )}
      </section>
      <section aria-label={`${a.symbol}: what the chain holds`} data-testid="chain-read">
        <h4>On the chain{read ? `, read through ${read.via}` : ""}</h4>
        {!c && <p class="muted">Connect a wallet to read it.</p>}
        {state.cannot && (
          <Notice kind="info" testid="chain-cannot">
            {state.cannot.message}{" "}
            {state.cannot.problem.reason === "network" && (
              <button type="button" onClick={() => c?.ensureNetwork(a.chain_id).catch(() => undefined)} data-testid="chain-switch">
                Switch to {networkLabel(a.chain_id)}
              </button>
            )}
          </Notice>
        )}
        {state.error && (
          <Notice kind="error" testid="chain-error">
            Could not read the commitment through your wallet: {state.error}{" "}
            <button type="button" onClick={() => setAgain((n) => n + 1)}>
              Retry
            </button>
          </Notice>
        )}
        {state.loading && !read && <Loading what="the commitment from the chain" />}
        {read && cmp && <ChainFigures a={a} read={read} cmp={cmp} dropped={state.dropped ?? []} recheck={props.reload} />}
      </section>
      {props.mine}
    </article>
  );
}

/** One figure of a `dl.figures`: its label over its value; `wide` spans the row; `testid` and `age` go on the value. */
function Figure(props: { label: string; wide?: boolean; testid?: string; age?: string; children: ComponentChildren }) {
  return (
    <div class={props.wide ? "wide" : undefined}>
      <dt>{props.label}</dt>
      <dd data-testid={props.testid} data-age={props.age}>
        {props.children}
      </dd>
    </div>
  );
}

function ServerFigures(props: { a: AssetSolvency; e: EpochView }) {
  const { a, e } = props;
  return (
    <dl class="figures" data-testid="api-figures" data-epoch={e.epoch} data-root={e.root}>
      <Figure label="Epoch" testid="api-epoch">
        {e.epoch}
      </Figure>
      <Figure label="Balances as of block" testid="api-as-of">
        {e.as_of_block}
      </Figure>
      <Figure label="Owed to all users (total)">
        <AssetAmt a={e.total} testid="api-total" />
      </Figure>
      <Figure label="Users in the tree" testid="api-users">
        {e.leaf_count}
      </Figure>
      <Figure label="Custody at commit">{e.custody ? <AssetAmt a={e.custody} testid="api-custody" /> : "—"}</Figure>
      <Figure label="Age" testid="api-age">
        {a.age_blocks != null ? `${a.age_blocks} blocks` : "—"}
        {a.max_age_blocks != null && <span class="muted"> (at most {a.max_age_blocks})</span>}
      </Figure>
      <Figure label="Root" wide>
        <Hash h={e.root} testid="api-root" />
      </Figure>
      <Figure label="Committed" wide>
        {e.committed_block != null ? `block ${e.committed_block}` : "—"}
        {e.committed_tx && (
          <>
            , transaction <TxHash chainId={a.chain_id} hash={e.committed_tx} testid="api-tx" />
          </>
        )}
      </Figure>
    </dl>
  );
}

/** After an upgrade, the server's other contracts and its latest round: its claim, like the rest of its figures. */
function ServerRound(props: { a: AssetSolvency; contracts: ContractSolvency[] }) {
  const { a, contracts } = props;
  const r = a.round;
  return (
    <div data-testid="api-round">
      <ul class="muted">
        {contracts.map((x) => (
          <li key={x.contract_hex} data-testid="api-contract-entry" data-contract={x.contract_hex.toLowerCase()} data-live={String(x.live)} data-epoch={x.latest?.epoch}>
            {x.live ? "Live contract" : "Replaced contract"} <Addr a={x.contract} chainId={a.chain_id} />:{" "}
            {x.latest ? `epoch ${x.latest.epoch}, the balances of block ${x.latest.as_of_block}, root ${shortHex(x.latest.root)}` : "no epoch committed yet"}
            {x.latest?.custody && (
              <>
                , <AssetAmt a={x.latest.custody} /> in custody
              </>
            )}
            .
          </li>
        ))}
      </ul>
      {r ? (
        <p data-testid="api-round-figures" data-round={r.round} data-as-of={r.as_of_block} data-covered={String(r.covered)}>
          Latest round committed on {contractsText(r.epochs.length)}: round {r.round}, the balances of block {r.as_of_block}: custody of {contractsText(r.epochs.length)}{" "}
          together <AssetAmt a={r.custody} testid="api-round-custody" /> for a total of <AssetAmt a={r.total} testid="api-round-total" /> (
          {r.covered ? "covered" : "not covered"}).
        </p>
      ) : (
        <p class="muted" data-testid="api-round-none">
          No round is committed on every contract yet.
        </p>
      )}
    </div>
  );
}

function ChainFigures(props: { a: AssetSolvency; read: ChainCommitmentRead; cmp: Comparison; dropped: Dropped[]; recheck: () => void }) {
  const { a, read, cmp } = props;
  const multi = upgraded(read);
  const amount = (v: bigint, testid: string) => <Amount base={v} decimals={a.decimals} symbol={a.symbol} testid={testid} />;
  // The liabilities' age (the head against their as-of block) against the build's maximum, never the server's.
  const age = ageOf(read);
  const maxAge = read.network.proofMaxAgeBlocks;
  const stale = age > maxAge;
  const solvent = read.custody >= read.total;
  const committed = read.epoch > 0n;
  const contractOk = servedContractMatches(read);
  return (
    <>
      {!contractOk && (
        <Notice kind="error" testid="api-contract">
          <p class="banner-title">The operator's server names another contract than this network's Settlement</p>
          <p>
            For {where(a)} the server names the contract <code data-testid="api-contract-served">{chainAddress(a.chain_id, read.servedContract)}</code>; this
            page was built with <Addr a={read.contract} chainId={a.chain_id} testid="api-contract-build" /> as the Settlement contract of{" "}
            {networkLabel(read.chainId)}, and reads only that one. A commitment at another contract proves nothing about the custody of this one.
          </p>
        </Notice>
      )}
      {!read.listed.ok && (
        <Notice kind="error" testid="api-contract-unknown">
          <p class="banner-title">The operator's server lists a contract this page was not built with</p>
          <ul>
            {read.listed.details.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
          <p>
            This page reads only the contracts it was built with for {networkLabel(read.chainId)}: <Addr a={read.contract} chainId={a.chain_id} />
            {read.previous.map((p) => (
              <span key={p.contractHex}>
                , <Addr a={p.contract} chainId={a.chain_id} /> (replaced)
              </span>
            ))}
            . A commitment at another contract proves nothing about the custody of these.
          </p>
        </Notice>
      )}
      {!read.tokenEverAllowed && (
        <Notice kind="error" testid="chain-token-never-allowed">
          <p class="banner-title">The contract never allowed the token the server names</p>
          <p>
            For {where(a)} the server names the token <code>{chainAddress(a.chain_id, read.token)}</code>, which the contract has never allowed: nobody can have
            paid into it in that token, and no commitment of its liabilities can be the contract's.
          </p>
        </Notice>
      )}
      {multi && <UpgradeNote a={a} read={read} />}
      <dl class="figures" data-testid="chain-figures" data-epoch={read.epoch.toString()} data-root={read.root} data-head={read.head.toString()}>
        <Figure label="Epoch" testid="chain-epoch">
          {committed ? read.epoch.toString() : "none yet"}
        </Figure>
        {committed && (
          <>
            <Figure label="Balances as of block" testid="chain-as-of">
              {read.asOfBlock.toString()}
            </Figure>
            <Figure label="Owed to all users (total)">{amount(read.total, "chain-total")}</Figure>
            <Figure label="Custody at commit">{amount(read.custody, "chain-custody")}</Figure>
            <Figure label="Age of the balances" testid="chain-age" age={age.toString()}>
              {age.toString()} blocks{" "}
              <span class="muted">
                (at most {maxAge.toString()}; committed at block {read.commitBlock.toString()}; head {read.head.toString()})
              </span>
            </Figure>
            <Figure label="Root" wide>
              <Hash h={read.root} testid="chain-root" />
            </Figure>
          </>
        )}
        <Figure label={multi ? "Contract (live)" : "Contract"} wide>
          <Addr a={read.contract} chainId={a.chain_id} testid="chain-contract" />
        </Figure>
      </dl>
      {multi && <PreviousFigures a={a} read={read} />}
      {multi && <RoundFigures a={a} read={read} dropped={props.dropped} />}
      {!multi && !committed && <Notice kind="info">Nothing is committed on the chain for {where(a)} yet.</Notice>}
      {!multi &&
        committed &&
        (solvent ? (
          <Notice kind="ok" testid="chain-solvent">
            Solvent: the contract held {amount(read.custody, "solvent-custody")} when it committed, covering the {amount(read.total, "solvent-total")} owed to all
            users.
          </Notice>
        ) : (
          <Notice kind="error" testid="chain-insolvent">
            <p class="banner-title">INSOLVENT</p>
            The contract held {amount(read.custody, "insolvent-custody")} when it committed, less than the {amount(read.total, "insolvent-total")} owed to all users
            (short by {amount(read.total - read.custody, "insolvent-short")}).
          </Notice>
        ))}
      {!multi &&
        committed &&
        (stale ? (
          <Notice kind="error" testid="chain-stale">
            <p class="banner-title">STALE</p>
            The latest commitment holds the balances of block {read.asOfBlock.toString()}, {age.toString()} blocks ago (committed at block{" "}
            {read.commitBlock.toString()}), more than the {maxAge.toString()} allowed: the operator has not committed recent balances, so it may no longer
            reflect what is owed.
          </Notice>
        ) : (
          <Notice kind="ok" testid="chain-fresh">
            The committed balances are {age.toString()} blocks old (block {read.asOfBlock.toString()}), within the {maxAge.toString()} allowed.
          </Notice>
        ))}
      {cmp.kind === "match" && contractOk && read.listed.ok && read.tokenEverAllowed && (
        <Notice kind="ok" testid="api-match">
          {multi
            ? "The server's epochs, blocks, roots, totals and custody of every contract are the chain's."
            : "The server's epoch, block, root, total and custody are the chain's."}
        </Notice>
      )}
      {cmp.kind === "behind" &&
        (cmp.contract ? (
          <Notice kind="info" testid="api-behind">
            The chain holds epoch {cmp.contract.epoch.toString()} of {contractText(a.chain_id, cmp.contract)}, committed {cmp.contract.commitAge.toString()} blocks ago;
            the server reports {cmp.server === null ? "none yet" : `epoch ${cmp.server}`} until it records it (once its block is confirmed). Checking again…
          </Notice>
        ) : (
          <Notice kind="info" testid="api-behind">
            The chain holds epoch {read.epoch.toString()}, committed {commitAgeOf(read).toString()} blocks ago; the server reports{" "}
            {cmp.server === null ? "none yet" : `epoch ${cmp.server}`} until it records it (once its block is confirmed). Checking again…
          </Notice>
        ))}
      {cmp.kind === "mismatch" && (
        <Notice kind="error" testid="api-mismatch">
          <p class="banner-title">The operator's server reports {cmp.what} the chain does not hold</p>
          <ul>
            {cmp.details.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
          <p>Only the chain's figures count: the server may be showing you, or others, something else than what was committed.</p>
        </Notice>
      )}
      <div class="actions-row">
        <button type="button" onClick={props.recheck} data-testid="chain-recheck">
          Check again
        </button>
      </div>
    </>
  );
}

/** After an upgrade: what the contracts are, in plain words (before their figures). */
function UpgradeNote(props: { a: AssetSolvency; read: ChainCommitmentRead }) {
  const { a, read } = props;
  const n = read.previous.filter((p) => p.tokenEverAllowed).length;
  return (
    <p class="muted" data-testid="chain-upgrade-note">
      After an upgrade the money of {where(a)} is held by {contractsText(n + 1)}: the live one, which new payments go to, and the replaced {n === 1 ? "one" : "ones"},
      which {n === 1 ? "pays" : "pay"} members until empty. Every round is committed on each, in its own tree, with the same balances and total; the custody that counts
      is theirs together.
    </p>
  );
}

/** After an upgrade: each replaced contract's latest commitment, read through the wallet like the live one's. */
function PreviousFigures(props: { a: AssetSolvency; read: ChainCommitmentRead }) {
  const { a, read } = props;
  const amount = (v: bigint, testid: string) => <Amount base={v} decimals={a.decimals} symbol={a.symbol} testid={testid} />;
  return (
    <>
      {read.previous.map((p) => {
        const at = readAt(read, p.contractHex);
        const committed = p.epoch > 0n;
        return (
          <dl
            class="figures"
            key={p.contractHex}
            data-testid="chain-figures-previous"
            data-contract={p.contractHex.toLowerCase()}
            data-epoch={p.epoch.toString()}
            data-root={p.root}
            data-listed={String(p.listed)}
          >
            <Figure label="Epoch (its own)" testid="chain-epoch">
              {committed ? p.epoch.toString() : "none yet"}
            </Figure>
            {committed && (
              <>
                <Figure label="Balances as of block" testid="chain-as-of">
                  {p.asOfBlock.toString()}
                </Figure>
                <Figure label="Owed to all users (total)">{amount(p.total, "chain-total")}</Figure>
                <Figure label="Custody at commit">{amount(p.custody, "chain-custody")}</Figure>
                <Figure label="Age of the balances" testid="chain-age" age={ageOf(at).toString()}>
                  {ageOf(at).toString()} blocks <span class="muted">(committed at block {p.commitBlock.toString()})</span>
                </Figure>
                <Figure label="Root" wide>
                  <Hash h={p.root} testid="chain-root" />
                </Figure>
              </>
            )}
            <Figure label="Contract (replaced)" wide>
              <Addr a={p.contract} chainId={a.chain_id} testid="chain-contract" />
              {!p.tokenEverAllowed && <span class="muted"> — it never allowed this token: no part in this asset</span>}
              {p.tokenEverAllowed && !p.listed && <span class="muted"> — the operator's server no longer lists it</span>}
            </Figure>
          </dl>
        );
      })}
    </>
  );
}

/** After an upgrade: the contracts' commitments together — the round's custody summed against its total, or why not. */
function RoundFigures(props: { a: AssetSolvency; read: ChainCommitmentRead; dropped: Dropped[] }) {
  const { a, read } = props;
  const verdict = roundOf(read);
  const amount = (v: bigint, testid: string) => <Amount base={v} decimals={a.decimals} symbol={a.symbol} testid={testid} />;
  const maxAge = read.network.proofMaxAgeBlocks;
  const n = verdict.members.length;
  const attrs = { "data-kind": verdict.kind, "data-as-of": verdict.asOfBlock.toString(), "data-custody": verdict.custody.toString(), "data-contracts": String(n) };
  const lines = contractsOf(verdict).map((c) => (
    <li key={c.contract} data-contract={c.contract}>
      {contractWords(a.chain_id, c)}: {commitmentText(c)}
    </li>
  ));
  return (
    <div data-testid="chain-round" {...attrs}>
      {verdict.kind === "none" && <Notice kind="info">Nothing is committed on the chain for {where(a)} yet.</Notice>}
      {verdict.kind === "complete" &&
        (verdict.solvent ? (
          <Notice kind="ok" testid="chain-solvent">
            Solvent: {custodyText(n)}, {amount(verdict.custody, "solvent-custody")}, covers the {amount(verdict.total, "solvent-total")} owed to all users —{" "}
            {roundCustodyText(a, verdict)} when {n > 1 ? "each" : "it"} committed the round of block {verdict.asOfBlock.toString()}.
          </Notice>
        ) : (
          <Notice kind="error" testid="chain-insolvent">
            <p class="banner-title">INSOLVENT</p>
            {custodyText(n).replace(/^t/, "T")}, {amount(verdict.custody, "insolvent-custody")}, is less than the {amount(verdict.total, "insolvent-total")} owed to all users
            (short by {amount(verdict.total - verdict.custody, "insolvent-short")}) — {roundCustodyText(a, verdict)} when {n > 1 ? "each" : "it"} committed the round of
            block {verdict.asOfBlock.toString()}.
          </Notice>
        ))}
      {verdict.kind === "complete" &&
        (verdict.stale ? (
          <Notice kind="error" testid="chain-stale">
            <p class="banner-title">STALE</p>
            The latest round holds the balances of block {verdict.asOfBlock.toString()}, {verdict.age.toString()} blocks ago, more than the {maxAge.toString()} allowed: the
            operator has not committed recent balances, so it may no longer reflect what is owed.
          </Notice>
        ) : (
          <Notice kind="ok" testid="chain-fresh">
            The committed balances are {verdict.age.toString()} blocks old (block {verdict.asOfBlock.toString()}), within the {maxAge.toString()} allowed.
          </Notice>
        ))}
      {verdict.kind === "split" && (
        <Notice kind="info" testid="chain-round-pending">
          <p class="banner-title">A round is being committed</p>
          <p>The contracts do not hold the same round yet, so their custody cannot be added up:</p>
          <ul>{lines}</ul>
          <p>Each round reaches every contract in its own transaction; check again in a minute.</p>
        </Notice>
      )}
      {verdict.kind === "stale" && (
        <Notice kind="error" testid="chain-stale">
          <p class="banner-title">STALE</p>
          <p>
            Not every contract has committed the round of block {verdict.asOfBlock.toString()}, and one lags {verdict.lag.toString()} blocks, more than the{" "}
            {maxAge.toString()} allowed: the operator has not committed recent balances everywhere, so the contracts' custody cannot be added up against a recent total.
          </p>
          <ul>{lines}</ul>
        </Notice>
      )}
      {verdict.kind === "conflict" && (
        <Notice kind="error" testid="chain-round-conflict">
          <p class="banner-title">The contracts hold different totals for the same balances</p>
          <ul>
            {[...verdict.members, ...verdict.conflicts].map((c) => (
              <li key={c.contract} data-contract={c.contract}>
                {contractWords(a.chain_id, c)}: the balances of block {c.asOfBlock.toString()}, a total of {amount(c.total, "conflict-total")}
              </li>
            ))}
          </ul>
          <p>Every round commits one snapshot of the ledger, the same block and total, on each contract: these are not one snapshot.</p>
        </Notice>
      )}
      <DroppedWarning a={a} dropped={props.dropped} />
    </div>
  );
}

// ── pending changes of the contract ────────────────────────────────────────────────────────────────────────────────

/** How often the pending changes are read again (a change scheduled or cancelled meanwhile shows). */
const PENDING_POLL_MS = 15_000;

/** "1 day 3 h", "2 h 5 min", "1 min 30 s", "45 s": a duration in seconds by its two largest units (a zero second one left out). */
export function durationText(seconds: bigint): string {
  const units: [bigint, string, string][] = [
    [86_400n, "day", "days"],
    [3_600n, "h", "h"],
    [60n, "min", "min"],
    [1n, "s", "s"],
  ];
  let rest = seconds > 0n ? seconds : 0n;
  const counts = units.map(([size]) => {
    const n = rest / size;
    rest %= size;
    return n;
  });
  const first = counts.findIndex((n) => n > 0n);
  if (first < 0) return "0 s";
  const text = (i: number) => `${counts[i]} ${counts[i] === 1n ? units[i][1] : units[i][2]}`;
  return first + 1 < units.length && counts[first + 1] > 0n ? `${text(first)} ${text(first + 1)}` : text(first);
}

/** A unix time (seconds) as "2026-11-29 10:00 UTC". */
export function chainDateText(unix: bigint): string {
  const iso = new Date(Number(unix) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

const ROLE_TEXT = {
  operator: "operator role (it sends payout batches and commits the proof of solvency)",
  treasurer: "treasurer role (it moves the company's share)",
  pauser: "pauser role (it can pause the contract)",
} as const;

/** What a pending change does, in plain words (addresses in the chain's own form). */
function changeText(change: PendingChange, chainId: number): ComponentChildren {
  const addr = (a: string) => <code data-address={chainAddress(chainId, a)}>{chainAddress(chainId, a)}</code>;
  const w = change.what;
  switch (w.kind) {
    case "signer":
      return <>The operator has scheduled a new signer key {addr(w.signer)} (the key that authorises every payment, payout and transfer)</>;
    case "grant":
    case "revoke": {
      const role = w.role ? ROLE_TEXT[w.role] : `role ${w.roleHash}`;
      return w.kind === "grant" ? (
        <>
          The operator has scheduled granting the {role} to {addr(w.account)}
        </>
      ) : (
        <>
          The operator has scheduled revoking the {role} from {addr(w.account)}
        </>
      );
    }
    case "token":
      return <>The operator has scheduled allowing a new token, {addr(w.token)}, for registrations and retopups</>;
    case "push_gas":
      return (
        <>
          The operator has scheduled new gas caps for payouts: {w.native.toString()} per native payment, {w.token.toString()} per token payment
        </>
      );
    case "unpause":
      return <>The operator has scheduled ending the contract's pause (a pauser stopped payouts and payments; the admin can resume them only after the delay)</>;
    case "unknown":
      return (
        <>
          The operator has scheduled a change of kind {w.code} (arguments <code>{w.args}</code>)
        </>
      );
  }
}

/**
 * The contract's pending changes — a new signer, a money role granted or revoked, a new token, new push gas — read
 * through the member's wallet at the build's Settlement of the wallet's network (`pendingChanges()`), each in plain
 * words with its countdown against the chain's clock (the latest block's timestamp, run on by the page's clock since
 * it was read). Nothing is shown when none is pending, or when the wallet cannot read (WalletConnect, a network this
 * build has no contract on: the solvency page says so).
 */
export function PendingChanges(props: { connection: AnyConnection | null }) {
  const c = props.connection;
  const [state, setState] = useState<{ read?: PendingChangesRead; error?: string }>({});
  const [poll, setPoll] = useState(0);
  const [, setSecond] = useState(0);
  useEffect(() => {
    if (!c) {
      setState({});
      return;
    }
    let alive = true;
    readPendingChanges(c).then(
      (read) => alive && setState({ read }),
      (e) => alive && setState(e instanceof CannotReadError ? {} : { error: errorText(e) }),
    );
    const t = setTimeout(() => setPoll((n) => n + 1), PENDING_POLL_MS);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [c, poll]);
  const pending = Math.max(state.read?.changes.length ?? 0, Number(state.read?.count ?? 0n));
  // The countdown, every second while something is pending.
  useEffect(() => {
    if (pending === 0) return;
    const t = setInterval(() => setSecond((n) => n + 1), 1_000);
    return () => clearInterval(t);
  }, [pending]);
  if (state.error)
    return (
      <Notice kind="error" testid="pending-changes-error">
        Could not read the contract's pending changes through your wallet: {state.error}{" "}
        <button type="button" onClick={() => setPoll((n) => n + 1)}>
          Retry
        </button>
      </Notice>
    );
  const read = state.read;
  if (!read || pending === 0) return null;
  // The chain's clock now: its latest block's time, run on since it was read.
  const now = read.chainTime + BigInt(Math.max(0, Math.floor((Date.now() - read.readAtMs) / 1000)));
  const changes = [...read.changes].sort((x, y) => (x.readyAt < y.readyAt ? -1 : x.readyAt > y.readyAt ? 1 : 0));
  return (
    <section class="pending-changes" aria-label="Changes scheduled on the contract" data-testid="pending-changes" data-count={changes.length}>
      <Notice kind="warn">
        <p class="banner-title">
          {pending === 1 ? "A change" : `${pending} changes`} to who can move the contract's money, or how, {pending === 1 ? "is" : "are"}{" "}
          scheduled
        </p>
        {read.listError && (
          <p data-testid="pending-changes-unlisted">
            The contract says {pending} {pending === 1 ? "change is" : "changes are"} pending, but the list could not be read through your wallet ({read.listError}).
          </p>
        )}
        <ul>
          {changes.map((change) => {
            const left = change.readyAt - now;
            return (
              <li key={change.id} data-testid="pending-change" data-id={change.id} data-kind={change.what.kind} data-ready-at={change.readyAt.toString()} data-left={left.toString()}>
                {changeText(change, read.chainId)};{" "}
                {left > 0n ? (
                  <>
                    it can take effect in <strong data-testid="pending-countdown">{durationText(left)}</strong> (on {chainDateText(change.readyAt)}).
                  </>
                ) : (
                  <>
                    its delay is over: it can take effect <strong data-testid="pending-countdown">now</strong> (since {chainDateText(change.readyAt)}).
                  </>
                )}
              </li>
            );
          })}
        </ul>
        <p class="muted">
          Read through {read.via} from the contract <Addr a={read.contract} chainId={read.chainId} /> on {networkLabel(read.chainId)} (the chain's clock: block{" "}
          {read.block.toString()}, {chainDateText(read.chainTime)}). Until then the admin can cancel it; the delay is there so that every member sees it coming —
          and can leave before it takes effect: on the <a href="/exit.html">members' exit page</a>, with the proof this page keeps, you may take out now what the
          latest commitment says you are owed.
        </p>
      </Notice>
    </section>
  );
}
