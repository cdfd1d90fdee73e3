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
import { chainTime, dateTime, amount as fmtAmount, plain, span } from "../lib/format";
import { locale, t, tx, useLocale } from "../i18n";
// The leaf watch's words (a surface of its own, so that the dApp's first load does not carry them).
import "../i18n/member";
// The page's own words, and those of the helpers that word its findings (lib/solvency*.js); a reader's language other
// than English is in once `solvencyWordsReady` resolves (./solvency-lazy.tsx waits for it: a check words its findings once).
export { solvencyWordsReady } from "../i18n/solvency";
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
import { ProofStoreError, type SavedProof, SAVED_EVENT, type StoreProblem, downloadJson, saveProof, savedFileName, savedProofs } from "../lib/proof-store";
import { EVIDENCE_EVENT, type LeafEvidence, type LeafWhy, downloadEvidence, forgetEvidence, judgeEvidence, keepIfLowered, leafEvidence } from "../lib/leaf-evidence";
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

const where = (a: { symbol: string; chain_id: number }) => (isTronChain(a.chain_id) ? t("sv.on_network", { symbol: a.symbol, network: networkText(a.chain_id) }) : a.symbol);
/** A block number, an epoch, a count of blocks in a sentence: the reader's digits, never grouped. */
const nb = (v: bigint | number | string) => plain(BigInt(v));
/** A commitment's status as the server names it (`built`, `signed`, `sent`, `committed`, `failed`), in words. */
const STATUS = { built: "sv.status_built", signed: "sv.status_signed", sent: "sv.status_sent", committed: "sv.status_committed", failed: "sv.status_failed" } as const;
const statusText = (s: string) => (s in STATUS ? t(STATUS[s as keyof typeof STATUS]) : s);
/** A sentence's first letter in capitals (a phrase that opens one), in the reader's language (no change where there are none). */
const cap = (s: string) => s.charAt(0).toLocaleUpperCase(locale()) + s.slice(1);
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
  return <>{tx(c.live ? "sv.contract_live" : "sv.contract_replaced", { address: <Addr a={chainAddress(chainId, c.contract)} chainId={chainId} testid={testid} /> })}</>;
}
const contractText = (chainId: number, c: { contract: string; live: boolean }) => t(c.live ? "sv.contract_live" : "sv.contract_replaced", { address: chainAddress(chainId, c.contract) });

/** The contracts a verdict names (on the round, lagging, conflicting), the live one first. */
const contractsOf = (v: RoundVerdict) => [...v.members, ...v.conflicts, ...v.behind].sort((x, y) => Number(y.live) - Number(x.live));

/** What a contract's latest commitment holds, in words: "epoch 3, the balances of block 120" or "nothing committed yet". */
const commitmentText = (c: ContractCommitment) => (c.epoch > 0n ? t("sv.commitment_of", { epoch: nb(c.epoch), block: nb(c.asOfBlock) }) : t("sv.commitment_none"));

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
      <p class="banner-title">{t("sv.dropped_title")}</p>
      <ul>
        {dropped.map((d) => (
          <li key={d.contract} data-contract={d.contract}>
            {tx("sv.dropped_line", {
              contract: contractWords(a.chain_id, { contract: d.contract, live: false }),
              amount: d.held === null ? t("sv.dropped_unread") : <Amount base={d.held} decimals={a.decimals} symbol={a.symbol} />,
            })}
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
          {i > 0 && (i === verdict.members.length - 1 ? t("sv.list_and") : t("sv.list_comma"))}
          {tx("sv.contract_held", { contract: contractWords(a.chain_id, m), amount: amount(m.custody) })}
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
    return { ok: false, why: storeErrorText(e) };
  }
}

/** What this browser's storage of proofs (lib/proof-store.ts) could not do, in words. */
const STORE_PROBLEM = {
  unavailable: "sv.store_unavailable",
  would_not_open: "sv.store_would_not_open",
  blocked: "sv.store_blocked",
  full: "sv.store_full",
  refused: "sv.store_refused",
} as const satisfies Record<StoreProblem, string>;

/** An error of keeping or reading the proofs kept in this browser, in the reader's language. */
const storeErrorText = (e: unknown) => (e instanceof ProofStoreError ? t(STORE_PROBLEM[e.problem]) : errorText(e));

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

/** The five balances of a proof as the page folded them, or null when they do not parse. */
function balancesOf(proof: SolvencyProofAnswer) {
  try {
    const b = proof.balances as Record<string, string>;
    return { reserved: BigInt(b.reserved), held: BigInt(b.held), pending: BigInt(b.pending), batched: BigInt(b.batched), claimable: BigInt(b.claimable) };
  } catch {
    return null;
  }
}

/** "12 blocks ago" (one block ago), its count in the reader's digits. */
const blocksAgo = (blocks: bigint) => t("sv.blocks_ago", { count: Number(blocks) });

/** The order in which a failed check is named first: the cause before its consequences. */
const PRIORITY: Check["id"][] = ["commitment", "format", "range", "shape", "contract", "allowed", "context", "fold", "epoch", "layout", "root", "total", "balances", "fresh", "solvent"];

/** A failed check, in plain words, as the banner's title. */
function headline(c: Check, read: ChainCommitmentRead): string {
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
const spanWords = (seconds: bigint): string => span(seconds);

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
/**
 * Why the payments between two proofs could not be read, or a leave not counted (lib/leaf-evidence.ts), in the
 * reader's language; a reason kept in words by an earlier build as it is.
 */
function leafWhyText(why: LeafWhy | string | null): string {
  if (why === null) return "";
  if (typeof why === "string") return why;
  switch (why.reason) {
    case "history_too_long":
      return t("solvency.leaf_why_history_too_long", { max: why.max });
    case "history_unreadable":
      return t("solvency.leaf_why_history_unreadable");
    case "notes_too_long":
      return t("solvency.leaf_why_notes_too_long", { max: why.max });
    case "leave_unnamed":
      return t("solvency.leaf_why_leave_unnamed");
    case "cannot_read":
      return cannotReadText(why.problem, why.chainId);
    case "tx_unknown":
      return t("solvency.leaf_why_tx_unknown", { wallet: why.wallet, tx: why.tx });
    case "tx_failed":
      return t("solvency.leaf_why_tx_failed", { tx: why.tx });
    case "no_tronlink":
      return t("solvency.leaf_why_no_tronlink");
    case "leave_unreadable":
      return t("solvency.leaf_why_leave_unreadable", { tx: why.tx });
    case "no_leave_there":
      return t("solvency.leaf_why_no_leave_there", { tx: why.tx });
    case "said":
      return why.text;
  }
}

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
            void judgeEvidence(props.connection, e, errorText).catch(() => undefined);
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
          <p>{tx("solvency.leaf_unread", { ...figures, why: leafWhyText(e.unread) })}</p>
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
        {f.leave.state === "unproven" && <p data-testid="leaf-leave-unproven">{t("solvency.leaf_leave_unproven", { symbol: e.symbol, why: leafWhyText(f.leave.why) })}</p>}
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
  const [status, setStatus] = useState<Status>({ kind: "checking", text: t("solvency.checking") });
  const [tick, setTick] = useState(0);
  // What a check finds is worded once: another language checks again, in it.
  const lang = useLocale();
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
  }, [props.connection, props.assetId, props.address, props.registeredBlock, tick, lang]);
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
        {t("sv.download_latest_of", { contract: contractText(p.chainId, { contract: x.hex, live: x.live }) })}
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
                {t("sv.switch_to", { network: networkLabel(p.chainId) })}
              </button>
            )}
            {s.reason !== "wallet" && s.reason !== "walletconnect" && recheck}
          </div>
          {downloadError && <p class="field-error">{downloadError}</p>}
          {/* A member who joined after the balances were read has nothing to confirm or refute yet (issue 66). */}
          {s.reason === "next_epoch" ? (
            <p class="muted" data-testid="solvency-new-member">
              {t("solvency.new_member_advice")}
            </p>
          ) : (
            <p class="muted" data-testid="solvency-unknown">
              {t("solvency.unknown_advice")}
            </p>
          )}
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
                {s.check === "listed" ? t("sv.listed_title") : t("sv.disowned_title")}
              </p>
              <p data-testid="solvency-failed-check" data-check={s.check}>
                {s.check === "listed" ? (
                  <>
                    {read.listed.details.join(" ")}{" "}
                    {read.previous.length > 0
                      ? tx("sv.listed_reads_replaced", { network: networkLabel(read.chainId), contract, count: read.previous.length })
                      : tx("sv.listed_reads", { network: networkLabel(read.chainId), contract })}
                  </>
                ) : (
                  tx("sv.disowned_text", {
                    contract: <code data-testid="disowned-contract">{chainAddress(asset.chain_id, s.contract ?? "")}</code>,
                    network: networkLabel(read.chainId),
                    asset: where(asset),
                  })
                )}
              </p>
            </>
          ) : s.check === "contract" ? (
            <>
              <p class="banner-title" data-testid="solvency-failed-title">
                {t("sv.served_other_title")}
              </p>
              <p data-testid="solvency-failed-check" data-check="contract">
                {tx("sv.served_other_badge", {
                  asset: where(asset),
                  served: <code data-testid="served-contract">{chainAddress(asset.chain_id, read.servedContract)}</code>,
                  contract,
                  network: networkLabel(read.chainId),
                })}
              </p>
            </>
          ) : (
            <>
              <p class="banner-title" data-testid="solvency-failed-title">
                {t("sv.token_never_title")}
              </p>
              <p data-testid="solvency-failed-check" data-check="allowed">
                {tx("sv.token_never_badge", {
                  asset: where(asset),
                  token: <code data-testid="served-token">{chainAddress(asset.chain_id, read.token)}</code>,
                  contract,
                  network: networkLabel(read.chainId),
                })}
              </p>
            </>
          )}
          </Experts>
        </Notice>,
        { "data-state": "failed", "data-verdict": "failed", "data-check": s.check },
      );
    }
    case "excluded": {
      const when = s.joined === null ? t("sv.joined_start") : t("sv.joined_at", { block: nb(s.joined) });
      return wrap(
        <Notice kind="error" testid="solvency-failed">
          {failedSentence(whatFailed("excluded", s.asset.symbol))}
          <Advice verdict="failed" symbol={p.symbol} clock={clock} opened={s.asset.exit} />
          <div class="actions-row">{recheck}</div>
          <Experts>
          <p data-testid="solvency-failed-title">
            {s.contract ? t("sv.excluded_title_of", { contract: contractText(s.read.chainId, s.contract) }) : t("sv.excluded_title")}
          </p>
          <p>{t("sv.excluded_text", { when, epoch: nb(s.read.epoch), block: nb(s.read.asOfBlock) })}</p>
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
          {tx("sv.facts", {
            block: nb(read.asOfBlock),
            ago: blocksAgo(ageOf(read)),
            max: nb(read.network.proofMaxAgeBlocks),
            root: <Hash h={read.root} testid="solvency-root" />,
            commit: nb(read.commitBlock),
            custody: amount(read.custody),
            total: amount(read.total),
            via: read.via,
            contract: <Addr a={chainAddress(asset.chain_id, read.contract)} chainId={asset.chain_id} />,
            network: networkLabel(asset.chain_id),
          })}
        </p>
      );
      const checks = (
        <details class="checks">
          <summary>{t("sv.every_check")}</summary>
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
              <p data-testid="solvency-ok-text">{tx("sv.ok_text", { value: amount(value ?? 0n), epoch: nb(read.epoch) })}</p>
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
            {failed.every((c) => c.id === "fresh" || c.id === "solvent") ? <p>{t("sv.in_root_commitment_failed")}</p> : <p>{t("sv.keep_file")}</p>}
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
        {verdict.kind === "stale" ? t("sv.round_stale_title", { lag: nb(verdict.lag), max: nb(maxAge) }) : t("sv.round_conflict_title")}
      </p>
      <ul class="failed-checks">
        {contractsOf(verdict).map((c) => (
          <li key={c.contract} data-testid="solvency-failed-check" data-check={verdict.kind === "stale" ? "fresh" : "round"} data-contract={c.contract}>
            {c.epoch > 0n
              ? tx("sv.round_line_total", {
                  contract: contractWords(asset.chain_id, c),
                  commitment: commitmentText(c),
                  total: <Amount base={c.total} decimals={asset.decimals} symbol={asset.symbol} />,
                })
              : tx("sv.round_line", { contract: contractWords(asset.chain_id, c), commitment: commitmentText(c) })}
          </li>
        ))}
      </ul>
      <p>
        {verdict.kind === "stale"
          ? t("sv.round_stale_text", { asset: where(asset), block: nb(verdict.asOfBlock), max: nb(maxAge) })
          : t("sv.round_conflict_text")}
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
        {t(n > 1 ? "sv.round_facts" : "sv.round_facts_one", {
          block: nb(verdict.asOfBlock),
          ago: blocksAgo(verdict.age),
          max: nb(maxAge),
          contracts: contractsText(n),
          network: networkLabel(asset.chain_id),
          via: read.via,
        })}
      </p>
      <ul>
        {parts.map((x) => (
          <li key={x.hex} data-testid="solvency-contract" data-contract={x.hex} data-epoch={x.read.epoch.toString()} data-root={x.read.root} data-custody={x.read.custody.toString()}>
            {tx("sv.round_facts_line", {
              contract: contractWords(asset.chain_id, { contract: x.read.contract, live: x.live }),
              epoch: nb(x.read.epoch),
              root: <Hash h={x.read.root} />,
              block: nb(x.read.commitBlock),
              custody: amount(x.read.custody),
            })}
          </li>
        ))}
      </ul>
      <p data-testid="solvency-sum">{tx("sv.round_sum", { custody: custodyText(n), amount: amount(verdict.custody), total: amount(verdict.total) })}</p>
    </div>
  );
  const checks = (
    <details class="checks">
      <summary>{t("sv.every_check")}</summary>
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
          {t(x.live ? "sv.download_of_live" : "sv.download_of_replaced", { contract: shortHex(chainAddress(asset.chain_id, x.read.contract)) })}
        </button>
      ))}
      {recheck}
    </div>
  );
  const cli = (
    <p class="muted" data-testid="solvency-cli">
      {tx("sv.cli", {
        command: <code>solvency-verify FILE --rpc URL --contract C --previous D…</code>,
        previous: <code>--previous</code>,
        contracts: parts.map((x) => chainAddress(asset.chain_id, x.read.contract)).join(", "),
        max_age: <code>--max-age-blocks {maxAge.toString()}</code>,
      })}
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
              {n > 1
                ? tx("sv.ok_text_round", { value: amount(value ?? 0n), contracts: contractsText(n), block: nb(verdict.asOfBlock) })
                : tx("sv.ok_text", { value: amount(value ?? 0n), epoch: nb(read.epoch) })}
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
  const title = first.contract
    ? t("sv.title_of_contract", { title: headline(first, firstRead), contract: contractText(asset.chain_id, { contract: first.contract, live: first.live }) })
    : headline(first, read);
  return wrap(
    <>
      <Notice kind={stale ? "warn" : "error"} testid="solvency-failed">
        {stale ? staleSentence(asset.symbol, verdict.age, maxAge) : failedSentence(whatFailed(first.id, asset.symbol))}
        {stale && <CommittedAgo clock={clock} />}
        {leaf}
        <Advice verdict={stale ? "stale" : "failed"} symbol={asset.symbol} clock={clock} opened={asset.exit} />
        {buttons}
        <Experts>
          <p data-testid="solvency-failed-title">{first.id === "solvent" ? t("sv.round_insolvent_title", { custody: custodyText(n) }) : title}</p>
          <ul class="failed-checks">
            {failed.map((c, i) => (
              <li key={`${c.contract}-${c.id}-${i}`} data-testid="solvency-failed-check" data-check={c.id} data-contract={c.contract ?? undefined}>
                {about(c)}
                {c.detail}
              </li>
            ))}
          </ul>
          {failed.every((c) => c.id === "fresh" || c.id === "solvent") ? <p>{t("sv.in_roots_commitment_failed")}</p> : <p>{t("sv.keep_files")}</p>}
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
  const label = (w: { contract: string; live: boolean }) => `${cap(contractText(a.chain_id, w))}: `;
  const mismatched = results.filter((r) => r.c.kind === "mismatch");
  const details = mismatched.flatMap((r) => (r.c.kind === "mismatch" ? r.c.details.map((d) => label(r.who) + d) : []));
  // The server's round (the custody of every contract together) against the chain's complete round of the same block.
  const verdict = roundOf(read);
  const round = a.round;
  const roundParts: string[] = [];
  if (round && verdict.kind === "complete" && BigInt(round.as_of_block) === verdict.asOfBlock) {
    const amount = (v: bigint | string) => fmtAmount(v, a.decimals, a.symbol);
    if (BigInt(round.total.base) !== verdict.total) {
      roundParts.push(t("sv.what_round_total"));
      details.push(t("sv.diff_round_total", { block: nb(round.as_of_block), server: amount(round.total.base), chain: amount(verdict.total) }));
    }
    if (BigInt(round.custody.base) !== verdict.custody) {
      roundParts.push(t("sv.what_round_custody"));
      details.push(t("sv.diff_round_custody", { block: nb(round.as_of_block), server: amount(round.custody.base), chain: amount(verdict.custody) }));
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
  const amount = (v: bigint | string) => fmtAmount(v, a.decimals, a.symbol);
  if (read.epoch === 0n) {
    return api ? { kind: "mismatch", what: t("sv.what_epoch"), details: [t("sv.diff_no_commitment", { epoch: nb(api.epoch) })] } : { kind: "none" };
  }
  if (!api || BigInt(api.epoch) < read.epoch) {
    if (commitAgeOf(read) <= RECORD_GRACE_BLOCKS) return { kind: "behind", server: api?.epoch ?? null };
    return {
      kind: "mismatch",
      what: t("sv.what_old_epoch"),
      details: [
        t("sv.diff_old_epoch", {
          epoch: nb(read.epoch),
          block: nb(read.commitBlock),
          ago: blocksAgo(commitAgeOf(read)),
          server: api ? t("sv.epoch_n", { epoch: nb(api.epoch) }) : t("sv.none"),
        }),
      ],
    };
  }
  if (BigInt(api.epoch) > read.epoch)
    return { kind: "mismatch", what: t("sv.what_epoch"), details: [t("sv.diff_ahead", { server: nb(api.epoch), chain: nb(read.epoch) })] };
  const details: string[] = [];
  const parts: string[] = [];
  if (api.root.toLowerCase() !== read.root.toLowerCase()) {
    parts.push(t("sv.what_root"));
    details.push(t("sv.diff_root", { server: api.root, chain: read.root }));
  }
  if (BigInt(api.total.base) !== read.total) {
    parts.push(t("sv.what_total"));
    details.push(t("sv.diff_total", { server: amount(api.total.base), chain: amount(read.total) }));
  }
  if (BigInt(api.as_of_block) !== read.asOfBlock) {
    parts.push(t("sv.what_block"));
    details.push(t("sv.diff_block", { server: nb(api.as_of_block), chain: nb(read.asOfBlock) }));
  }
  if (api.custody && BigInt(api.custody.base) !== read.custody) {
    parts.push(t("sv.what_custody"));
    details.push(t("sv.diff_custody", { server: amount(api.custody.base), chain: amount(read.custody) }));
  }
  if (api.committed_block != null && BigInt(api.committed_block) !== read.commitBlock) {
    parts.push(t("sv.what_commit_block"));
    details.push(t("sv.diff_commit_block", { server: nb(api.committed_block), chain: nb(read.commitBlock) }));
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
        {t("sv.title")}
      </h2>
      <p>{t("sv.intro")}</p>
      <p>{tx("sv.intro_chain", { through: <strong>{t("sv.through_wallet")}</strong> })}</p>
      <PendingChanges connection={connection} />
      <SavedProofs />
      {!connection && (
        <Notice kind="info" testid="solvency-connect">
          {t("sv.connect")}
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

function ExitLinks() {
  return (
    <>
      {tx("sv.exit_links", {
        page: (
          <a href={EXIT_PAGE} target="_blank" rel="noopener" data-testid="exit-page-link">
            {t("sv.exit_page")}
          </a>
        ),
        download: (
          <a href={EXIT_PAGE} download="members-exit.html" data-testid="exit-page-download">
            {t("sv.exit_download_it")}
          </a>
        ),
      })}
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
        {t("sv.saved_failed", { why: saved.why })}
      </p>
    );
  return (
    <p class="muted" data-testid="solvency-saved" data-saved="true" data-epoch={saved.record.epoch} data-saved-at={saved.record.savedAt}>
      {tx("sv.saved_note", { date: dateTime(saved.record.savedAt), epoch: nb(saved.record.epoch), links: <ExitLinks />, when: t("sv.exit_when") })}
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
    const read = () => savedProofs().then(setList, (e) => setError(storeErrorText(e)));
    void read();
    window.addEventListener(SAVED_EVENT, read);
    return () => window.removeEventListener(SAVED_EVENT, read);
  }, []);
  if (error || !list || list.length === 0) return null;
  return (
    <section class="solvency-saved" aria-labelledby="solvency-saved-title" data-testid="saved-proofs">
      <h3 id="solvency-saved-title">{t("sv.saved_title")}</h3>
      <p>{tx("sv.saved_intro", { when: t("sv.exit_when"), links: <ExitLinks /> })}</p>
      <ul>
        {list.map((x) => (
          <li key={x.key} data-testid="saved-proof" data-key={x.key} data-epoch={x.epoch} data-member={x.member} data-saved-at={x.savedAt}>
            {tx("sv.saved_line", {
              asset: x.symbol || t("sv.an_asset"),
              network: networkLabel(x.chainId),
              epoch: nb(x.epoch),
              contract: <code>{chainAddress(x.chainId, x.contract)}</code>,
              member: <code>{chainAddress(x.chainId, x.member)}</code>,
              date: dateTime(x.savedAt),
            })}{" "}
            <button type="button" onClick={() => downloadJson(savedFileName(x), x.proof)} data-testid="saved-proof-download">
              {t("solvency.download_proof")}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function BadgeSection(props: { children: ComponentChildren }) {
  return (
    <section class="solvency-mine" aria-label={t("sv.your_balance")} data-testid="solvency-mine">
      <h4>{t("sv.your_balance")}</h4>
      {props.children}
    </section>
  );
}

type ReadState = { read?: ChainCommitmentRead; dropped?: Dropped[]; cannot?: CannotReadError; error?: string; loading: boolean };

function AssetCard(props: { a: AssetSolvency; connection: AnyConnection | null; tick: number; reload: () => void; mine?: ComponentChildren }) {
  const { a, connection: c } = props;
  // What a read finds is worded once (the server's list of contracts against the build's): another language reads again.
  const lang = useLocale();
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
  }, [c, a.asset_id, props.tick, again, lang]);
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
  const claim = t(
    !read || !cmp ? "sv.claim_unchecked" : untrusted || cmp.kind === "mismatch" ? "sv.claim_differs" : cmp.kind === "match" ? "sv.claim_matches" : "sv.claim_not_yet",
  );
  const claimKind = untrusted ? "mismatch" : (cmp?.kind ?? "unchecked");
  return (
    <article class="card" data-testid={`solvency-${key}`} data-asset-id={a.asset_id} aria-labelledby={`solvency-${key}-title`}>
      <h3 id={`solvency-${key}-title`}>
        {a.symbol}
        <span class="muted"> {t("sv.card_on", { network: networkText(a.chain_id) })}</span>
      </h3>
      <section aria-label={t("sv.server_says_of", { symbol: a.symbol })} data-testid="api-claim">
        <h4>
          {t("sv.server_says")}{" "}
          <span class={`badge claim ${claimKind}`} data-testid="claim-label">
            {claim}
          </span>
        </h4>
        {a.latest ? <ServerFigures a={a} e={a.latest} /> : <p class="muted" data-testid="api-none">{t("sv.no_epoch_yet")}</p>}
        {a.contracts && a.contracts.length > 1 && <ServerRound a={a} contracts={a.contracts} />}
        {a.in_flight && (
          <p class="muted" data-testid="api-in-flight">
            {t("sv.in_flight", { epoch: nb(a.in_flight.epoch), block: nb(a.in_flight.as_of_block), status: statusText(a.in_flight.status) })}
          </p>
        )}
      </section>
      <section aria-label={t("sv.chain_holds_of", { symbol: a.symbol })} data-testid="chain-read">
        <h4>{read ? t("sv.on_chain_via", { via: read.via }) : t("sv.on_chain")}</h4>
        {!c && <p class="muted">{t("sv.connect_to_read")}</p>}
        {state.cannot && (
          <Notice kind="info" testid="chain-cannot">
            {state.cannot.message}{" "}
            {state.cannot.problem.reason === "network" && (
              <button type="button" onClick={() => c?.ensureNetwork(a.chain_id).catch(() => undefined)} data-testid="chain-switch">
                {t("sv.switch_to", { network: networkLabel(a.chain_id) })}
              </button>
            )}
          </Notice>
        )}
        {state.error && (
          <Notice kind="error" testid="chain-error">
            {t("sv.read_failed_wallet", { error: state.error })}{" "}
            <button type="button" onClick={() => setAgain((n) => n + 1)}>
              {t("account.retry")}
            </button>
          </Notice>
        )}
        {state.loading && !read && <Loading what={t("sv.loading_commitment")} />}
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
      <Figure label={t("sv.f_epoch")} testid="api-epoch">
        {nb(e.epoch)}
      </Figure>
      <Figure label={t("sv.f_as_of")} testid="api-as-of">
        {nb(e.as_of_block)}
      </Figure>
      <Figure label={t("sv.f_total")}>
        <AssetAmt a={e.total} testid="api-total" />
      </Figure>
      <Figure label={t("sv.f_users")} testid="api-users">
        {nb(e.leaf_count)}
      </Figure>
      <Figure label={t("sv.f_custody")}>{e.custody ? <AssetAmt a={e.custody} testid="api-custody" /> : "—"}</Figure>
      <Figure label={t("sv.f_age")} testid="api-age">
        {a.age_blocks != null ? t("sv.blocks", { count: a.age_blocks }) : "—"}
        {/* One bound per page (issue 66): the "at most" a member's check holds a proof to is the deployment's, in the
            chain figures; the server's own staleness (twice its interval) is not a second one, so its cadence is said. */}
        {a.interval_blocks != null && (
          <span class="muted" data-testid="api-interval" data-blocks={a.interval_blocks}>
            {" "}
            {t("sv.committed_every", { count: a.interval_blocks })}
          </span>
        )}
      </Figure>
      <Figure label={t("sv.f_root")} wide>
        <Hash h={e.root} testid="api-root" />
      </Figure>
      <Figure label={t("sv.f_committed")} wide>
        {e.committed_block == null
          ? "—"
          : e.committed_tx
            ? tx("sv.committed_in_tx", { block: nb(e.committed_block), tx: <TxHash chainId={a.chain_id} hash={e.committed_tx} testid="api-tx" /> })
            : t("sv.committed_block", { block: nb(e.committed_block) })}
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
            {tx(x.live ? "sv.server_live" : "sv.server_replaced", {
              contract: <Addr a={x.contract} chainId={a.chain_id} />,
              what: !x.latest
                ? t("sv.server_no_epoch")
                : x.latest.custody
                  ? tx("sv.server_epoch_custody", {
                      epoch: nb(x.latest.epoch),
                      block: nb(x.latest.as_of_block),
                      root: shortHex(x.latest.root),
                      custody: <AssetAmt a={x.latest.custody} />,
                    })
                  : t("sv.server_epoch", { epoch: nb(x.latest.epoch), block: nb(x.latest.as_of_block), root: shortHex(x.latest.root) }),
            })}
          </li>
        ))}
      </ul>
      {r ? (
        <p data-testid="api-round-figures" data-round={r.round} data-as-of={r.as_of_block} data-covered={String(r.covered)}>
          {tx(r.covered ? "sv.server_round_covered" : "sv.server_round_short", {
            contracts: contractsText(r.epochs.length),
            round: nb(r.round),
            block: nb(r.as_of_block),
            custody: <AssetAmt a={r.custody} testid="api-round-custody" />,
            total: <AssetAmt a={r.total} testid="api-round-total" />,
          })}
        </p>
      ) : (
        <p class="muted" data-testid="api-round-none">
          {t("sv.server_round_none")}
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
          <p class="banner-title">{t("sv.served_other_title")}</p>
          <p>
            {tx("sv.served_other_card", {
              asset: where(a),
              served: <code data-testid="api-contract-served">{chainAddress(a.chain_id, read.servedContract)}</code>,
              contract: <Addr a={read.contract} chainId={a.chain_id} testid="api-contract-build" />,
              network: networkLabel(read.chainId),
            })}
          </p>
        </Notice>
      )}
      {!read.listed.ok && (
        <Notice kind="error" testid="api-contract-unknown">
          <p class="banner-title">{t("sv.listed_title")}</p>
          <ul>
            {read.listed.details.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
          <p>
            {tx("sv.listed_card", {
              network: networkLabel(read.chainId),
              contracts: (
                <>
                  <Addr a={read.contract} chainId={a.chain_id} />
                  {read.previous.map((p) => (
                    <span key={p.contractHex}>
                      {t("sv.list_comma")}
                      {tx("sv.replaced_tag", { contract: <Addr a={p.contract} chainId={a.chain_id} /> })}
                    </span>
                  ))}
                </>
              ),
            })}
          </p>
        </Notice>
      )}
      {!read.tokenEverAllowed && (
        <Notice kind="error" testid="chain-token-never-allowed">
          <p class="banner-title">{t("sv.token_never_card_title")}</p>
          <p>{tx("sv.token_never_card", { asset: where(a), token: <code>{chainAddress(a.chain_id, read.token)}</code> })}</p>
        </Notice>
      )}
      {multi && <UpgradeNote a={a} read={read} />}
      <dl class="figures" data-testid="chain-figures" data-epoch={read.epoch.toString()} data-root={read.root} data-head={read.head.toString()}>
        <Figure label={t("sv.f_epoch")} testid="chain-epoch">
          {committed ? nb(read.epoch) : t("sv.none_yet")}
        </Figure>
        {committed && (
          <>
            <Figure label={t("sv.f_as_of")} testid="chain-as-of">
              {nb(read.asOfBlock)}
            </Figure>
            <Figure label={t("sv.f_total")}>{amount(read.total, "chain-total")}</Figure>
            <Figure label={t("sv.f_custody")}>{amount(read.custody, "chain-custody")}</Figure>
            <Figure label={t("sv.f_age_balances")} testid="chain-age" age={age.toString()}>
              {t("sv.blocks", { count: Number(age) })}{" "}
              <span class="muted">{t("sv.age_detail", { max: nb(maxAge), commit: nb(read.commitBlock), head: nb(read.head) })}</span>
            </Figure>
            <Figure label={t("sv.f_root")} wide>
              <Hash h={read.root} testid="chain-root" />
            </Figure>
          </>
        )}
        <Figure label={multi ? t("sv.f_contract_live") : t("sv.f_contract")} wide>
          <Addr a={read.contract} chainId={a.chain_id} testid="chain-contract" />
        </Figure>
      </dl>
      {multi && <PreviousFigures a={a} read={read} />}
      {multi && <RoundFigures a={a} read={read} dropped={props.dropped} />}
      {!multi && !committed && <Notice kind="info">{t("sv.nothing_committed", { asset: where(a) })}</Notice>}
      {!multi &&
        committed &&
        (solvent ? (
          <Notice kind="ok" testid="chain-solvent">
            {tx("sv.solvent_one", { custody: amount(read.custody, "solvent-custody"), total: amount(read.total, "solvent-total") })}
          </Notice>
        ) : (
          <Notice kind="error" testid="chain-insolvent">
            <p class="banner-title">{t("sv.insolvent")}</p>
            {tx("sv.insolvent_one", {
              custody: amount(read.custody, "insolvent-custody"),
              total: amount(read.total, "insolvent-total"),
              short: amount(read.total - read.custody, "insolvent-short"),
            })}
          </Notice>
        ))}
      {!multi &&
        committed &&
        (stale ? (
          <Notice kind="error" testid="chain-stale">
            <p class="banner-title">{t("sv.stale")}</p>
            {t("sv.stale_one", { block: nb(read.asOfBlock), ago: blocksAgo(age), commit: nb(read.commitBlock), max: nb(maxAge) })}
          </Notice>
        ) : (
          <Notice kind="ok" testid="chain-fresh">
            {t("sv.fresh", { count: Number(age), block: nb(read.asOfBlock), max: nb(maxAge) })}
          </Notice>
        ))}
      {cmp.kind === "match" && contractOk && read.listed.ok && read.tokenEverAllowed && (
        <Notice kind="ok" testid="api-match">
          {multi ? t("sv.match_all") : t("sv.match_one")}
        </Notice>
      )}
      {cmp.kind === "behind" &&
        (cmp.contract ? (
          <Notice kind="info" testid="api-behind">
            {t("sv.behind_of", {
              epoch: nb(cmp.contract.epoch),
              contract: contractText(a.chain_id, cmp.contract),
              ago: blocksAgo(cmp.contract.commitAge),
              server: cmp.server === null ? t("sv.none_yet") : t("sv.epoch_n", { epoch: nb(cmp.server) }),
            })}
          </Notice>
        ) : (
          <Notice kind="info" testid="api-behind">
            {t("sv.behind", {
              epoch: nb(read.epoch),
              ago: blocksAgo(commitAgeOf(read)),
              server: cmp.server === null ? t("sv.none_yet") : t("sv.epoch_n", { epoch: nb(cmp.server) }),
            })}
          </Notice>
        ))}
      {cmp.kind === "mismatch" && (
        <Notice kind="error" testid="api-mismatch">
          <p class="banner-title">{t("sv.mismatch_title", { what: cmp.what })}</p>
          <ul>
            {cmp.details.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
          <p>{t("sv.mismatch_text")}</p>
        </Notice>
      )}
      <div class="actions-row">
        <button type="button" onClick={props.recheck} data-testid="chain-recheck">
          {t("solvency.check_again")}
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
      {t("sv.upgrade_note", { count: n, asset: where(a), contracts: contractsText(n + 1) })}
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
            <Figure label={t("sv.f_epoch_own")} testid="chain-epoch">
              {committed ? nb(p.epoch) : t("sv.none_yet")}
            </Figure>
            {committed && (
              <>
                <Figure label={t("sv.f_as_of")} testid="chain-as-of">
                  {nb(p.asOfBlock)}
                </Figure>
                <Figure label={t("sv.f_total")}>{amount(p.total, "chain-total")}</Figure>
                <Figure label={t("sv.f_custody")}>{amount(p.custody, "chain-custody")}</Figure>
                <Figure label={t("sv.f_age_balances")} testid="chain-age" age={ageOf(at).toString()}>
                  {t("sv.blocks", { count: Number(ageOf(at)) })} <span class="muted">{t("sv.committed_at", { block: nb(p.commitBlock) })}</span>
                </Figure>
                <Figure label={t("sv.f_root")} wide>
                  <Hash h={p.root} testid="chain-root" />
                </Figure>
              </>
            )}
            <Figure label={t("sv.f_contract_replaced")} wide>
              <Addr a={p.contract} chainId={a.chain_id} testid="chain-contract" />
              {!p.tokenEverAllowed && <span class="muted"> {t("sv.previous_never_allowed")}</span>}
              {p.tokenEverAllowed && !p.listed && <span class="muted"> {t("sv.previous_unlisted")}</span>}
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
      {tx("sv.contract_colon", { contract: contractWords(a.chain_id, c), what: commitmentText(c) })}
    </li>
  ));
  return (
    <div data-testid="chain-round" {...attrs}>
      {verdict.kind === "none" && <Notice kind="info">{t("sv.nothing_committed", { asset: where(a) })}</Notice>}
      {verdict.kind === "complete" &&
        (verdict.solvent ? (
          <Notice kind="ok" testid="chain-solvent">
            {tx(n > 1 ? "sv.solvent_round" : "sv.solvent_round_one", {
              custody: custodyText(n),
              amount: amount(verdict.custody, "solvent-custody"),
              total: amount(verdict.total, "solvent-total"),
              each: roundCustodyText(a, verdict),
              block: nb(verdict.asOfBlock),
            })}
          </Notice>
        ) : (
          <Notice kind="error" testid="chain-insolvent">
            <p class="banner-title">{t("sv.insolvent")}</p>
            {tx(n > 1 ? "sv.insolvent_round" : "sv.insolvent_round_one", {
              custody: cap(custodyText(n)),
              amount: amount(verdict.custody, "insolvent-custody"),
              total: amount(verdict.total, "insolvent-total"),
              short: amount(verdict.total - verdict.custody, "insolvent-short"),
              each: roundCustodyText(a, verdict),
              block: nb(verdict.asOfBlock),
            })}
          </Notice>
        ))}
      {verdict.kind === "complete" &&
        (verdict.stale ? (
          <Notice kind="error" testid="chain-stale">
            <p class="banner-title">{t("sv.stale")}</p>
            {t("sv.stale_round", { block: nb(verdict.asOfBlock), ago: blocksAgo(verdict.age), max: nb(maxAge) })}
          </Notice>
        ) : (
          <Notice kind="ok" testid="chain-fresh">
            {t("sv.fresh", { count: Number(verdict.age), block: nb(verdict.asOfBlock), max: nb(maxAge) })}
          </Notice>
        ))}
      {verdict.kind === "split" && (
        <Notice kind="info" testid="chain-round-pending">
          <p class="banner-title">{t("sv.split_title")}</p>
          <p>{t("sv.split_text")}</p>
          <ul>{lines}</ul>
          <p>{t("sv.split_after")}</p>
        </Notice>
      )}
      {verdict.kind === "stale" && (
        <Notice kind="error" testid="chain-stale">
          <p class="banner-title">{t("sv.stale")}</p>
          <p>{t("sv.lag_text", { block: nb(verdict.asOfBlock), lag: nb(verdict.lag), max: nb(maxAge) })}</p>
          <ul>{lines}</ul>
        </Notice>
      )}
      {verdict.kind === "conflict" && (
        <Notice kind="error" testid="chain-round-conflict">
          <p class="banner-title">{t("sv.conflict_title")}</p>
          <ul>
            {[...verdict.members, ...verdict.conflicts].map((c) => (
              <li key={c.contract} data-contract={c.contract}>
                {tx("sv.conflict_line", { contract: contractWords(a.chain_id, c), block: nb(c.asOfBlock), total: amount(c.total, "conflict-total") })}
              </li>
            ))}
          </ul>
          <p>{t("sv.conflict_text")}</p>
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
  const units: [bigint, "sv.dur_day" | "sv.dur_h" | "sv.dur_min" | "sv.dur_s"][] = [
    [86_400n, "sv.dur_day"],
    [3_600n, "sv.dur_h"],
    [60n, "sv.dur_min"],
    [1n, "sv.dur_s"],
  ];
  let rest = seconds > 0n ? seconds : 0n;
  const counts = units.map(([size]) => {
    const n = rest / size;
    rest %= size;
    return n;
  });
  const first = counts.findIndex((n) => n > 0n);
  if (first < 0) return t("sv.dur_s", { count: 0 });
  const text = (i: number) => t(units[i][1], { count: Number(counts[i]) });
  return first + 1 < units.length && counts[first + 1] > 0n ? `${text(first)} ${text(first + 1)}` : text(first);
}

/** A unix time (seconds) of the chain's clock, as every time is shown (lib/format's `chainTime`: the reader's zone, named). */
export const chainDateText = (unix: bigint): string => chainTime(unix);

const ROLE_TEXT = {
  operator: "sv.role_operator",
  treasurer: "sv.role_treasurer",
  pauser: "sv.role_pauser",
} as const;

/** What a pending change does, in plain words (addresses in the chain's own form). */
function changeText(change: PendingChange, chainId: number): ComponentChildren {
  const addr = (a: string) => <code data-address={chainAddress(chainId, a)}>{chainAddress(chainId, a)}</code>;
  const w = change.what;
  switch (w.kind) {
    case "signer":
      return <>{tx("sv.change_signer", { signer: addr(w.signer) })}</>;
    case "grant":
    case "revoke": {
      const role = w.role ? t(ROLE_TEXT[w.role]) : t("sv.role_hash", { hash: w.roleHash });
      return <>{tx(w.kind === "grant" ? "sv.change_grant" : "sv.change_revoke", { role, account: addr(w.account) })}</>;
    }
    case "token":
      return <>{tx("sv.change_token", { token: addr(w.token) })}</>;
    case "push_gas":
      return <>{t("sv.change_push_gas", { native: plain(w.native), token: plain(w.token) })}</>;
    case "unpause":
      return <>{t("sv.change_unpause")}</>;
    case "unknown":
      return <>{tx("sv.change_unknown", { code: plain(w.code), args: <code>{w.args}</code> })}</>;
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
        {t("sv.pending_error", { error: state.error })}{" "}
        <button type="button" onClick={() => setPoll((n) => n + 1)}>
          {t("account.retry")}
        </button>
      </Notice>
    );
  const read = state.read;
  if (!read || pending === 0) return null;
  // The chain's clock now: its latest block's time, run on since it was read.
  const now = read.chainTime + BigInt(Math.max(0, Math.floor((Date.now() - read.readAtMs) / 1000)));
  const changes = [...read.changes].sort((x, y) => (x.readyAt < y.readyAt ? -1 : x.readyAt > y.readyAt ? 1 : 0));
  return (
    <section class="pending-changes" aria-label={t("sv.pending_label")} data-testid="pending-changes" data-count={changes.length}>
      <Notice kind="warn">
        <p class="banner-title">{t("sv.pending_title", { count: pending })}</p>
        {read.listError && <p data-testid="pending-changes-unlisted">{t("sv.pending_unlisted", { count: pending, error: read.listError })}</p>}
        <ul>
          {changes.map((change) => {
            const left = change.readyAt - now;
            return (
              <li key={change.id} data-testid="pending-change" data-id={change.id} data-kind={change.what.kind} data-ready-at={change.readyAt.toString()} data-left={left.toString()}>
                {tx(left > 0n ? "sv.pending_in" : "sv.pending_now", {
                  change: changeText(change, read.chainId),
                  left: <strong data-testid="pending-countdown">{left > 0n ? durationText(left) : t("sv.now")}</strong>,
                  date: chainDateText(change.readyAt),
                })}
              </li>
            );
          })}
        </ul>
        <p class="muted">
          {tx("sv.pending_source", {
            via: read.via,
            contract: <Addr a={read.contract} chainId={read.chainId} />,
            network: networkLabel(read.chainId),
            block: nb(read.block),
            date: chainDateText(read.chainTime),
            exit: <a href="/exit.html">{t("sv.pending_exit_link")}</a>,
          })}
        </p>
      </Notice>
    </section>
  );
}
