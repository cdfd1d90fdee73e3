// The members' exit (contracts/EXIT.md §7): one self-contained page (exit.html, built into dist/exit.html with every
// script and style inlined: it runs from a file:// URL or from any host, and the backend serves it at /exit.html). It
// takes the member's proof file, reads the chain and sends through the member's own wallet only (src/exit/wallets.ts:
// MetaMask-like EIP-1193 wallets, TronLink), and acts only at a Settlement contract this build carries for the
// wallet's network (the deployment records, lib/networks-build.ts — the dApp's verifier's rule: never a contract the
// proof or an operator's server names; after an upgrade each replaced contract too, each with its own exit). It shows
// when the exit opens, lets anyone open it once due and fold the payout batches since the commitment (rebuilt from the
// chain's logs and calldata, checked against the running hash the exit waits for), then follows the exit's two steps
// (contracts/EXIT.md §13): during the claim window the member claims (`exit`: records the due, pays nothing; the most it
// can pay from `previewExit`, a ceiling that falls as others claim; a member who does not claim before the window's end
// gets nothing), may have the payout sent elsewhere (`redirect`, the member only), and from the window's end anyone
// sends the payout (`payOut`), the same share for every member. Every write goes through one transactor (`transact`):
// a dry run first, one action at a time, a transaction being confirmed or sent remembered across a reload and a second
// tab (never sent twice), the state read again after each.
// In the member's language (src/i18n/exit: all six bundled, a picker at the top, the pick kept as the dApp keeps it);
// the plan's assets on the wallet's network offered as buttons (the native coin, the build's USDT, the kept proofs'
// tokens: each one the contract ever allowed), a token address typed only by an expert; the exit period only as the
// contract states it (`exitAfter`).

import { type ComponentChildren, render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Abi, type Address, type Hex, decodeFunctionResult, encodeFunctionData, erc20Abi, getAddress } from "viem";
import {
  settlementBatchesSinceCommitmentAbi,
  settlementBatchesSinceCommitmentSignature,
  settlementErrorsAbi,
  settlementEventPayoutBatchExecutedTopic,
  settlementExecutePayoutBatchAbi,
  settlementExitAfterAbi,
  settlementExitAfterSignature,
  settlementExitClaimOfAbi,
  settlementExitClaimOfSignature,
  settlementExitClaimWindowAbi,
  settlementExitClaimWindowSignature,
  settlementExitErrorsAbi,
  settlementExitExitAbi,
  settlementExitExitSignature,
  settlementExitFoldBatchesAbi,
  settlementExitFoldBatchesSignature,
  settlementExitFoldProofAbi,
  settlementExitFoldProofSignature,
  settlementExitLeaveAbi,
  settlementExitLeaveSignature,
  settlementExitMemberExitAbi,
  settlementExitMemberExitSignature,
  settlementExitMinClaimWindowAbi,
  settlementExitMinClaimWindowSignature,
  settlementExitOpenExitAbi,
  settlementExitOpenExitSignature,
  settlementExitOpeningAbi,
  settlementExitOpeningSignature,
  settlementExitOpensAtAbi,
  settlementExitOpensAtSignature,
  settlementExitPayOutAbi,
  settlementExitPayOutSignature,
  settlementExitPreviewExitAbi,
  settlementExitPreviewExitSignature,
  settlementExitPreviewLeaveAbi,
  settlementExitPreviewLeaveSignature,
  settlementExitRedirectAbi,
  settlementExitRedirectSignature,
  settlementExitsAbi,
  settlementExitsSignature,
  settlementHasLeftAbi,
  settlementHasLeftSignature,
  settlementLatestCommitTimeAbi,
  settlementLatestCommitTimeSignature,
  settlementLatestLiabilitiesAbi,
  settlementLatestLiabilitiesSignature,
  settlementLeaveOpenAbi,
  settlementLeaveOpenSignature,
  settlementPausedSinceAbi,
  settlementPausedSinceSignature,
  settlementPendingCountAbi,
  settlementPendingCountSignature,
  settlementWasEverAllowedAbi,
  settlementWasEverAllowedSignature,
} from "../generated/contracts";
import { LOCALES, type LocaleCode, exitLocale, setExitLocale, startExitLocale, t, tx } from "../i18n/exit";
import { amount as formatAmount, chainTime, dateTime, localDecimal, plain, span } from "../lib/format";
import { buildNetworks } from "../lib/networks-build";
import { KNOWN, isTronNetwork } from "../lib/chains-known";
import { parseAnyAddress, toTronAddress } from "../lib/tron-address";
import { type SavedProof, savedProofs } from "../lib/proof-store";
import {
  type BuildContractRef,
  type ExitProof,
  type ExecutedBatch,
  type FoldedBatch,
  ExitInputError,
  NATIVE_TOKEN,
  ZERO_HASH,
  batchLogOf,
  buildContracts,
  contractOfProof,
  executedBatch,
  foldChunks,
  foldPlan,
  fractionOf,
  memberStage,
  readProof,
  recipientRefusal,
  revertWords,
  shareOf,
} from "./logic.js";
import {
  type DiscoveredWallet,
  type ExitWallet,
  EvmExitWallet,
  Reverted,
  WalletProblem,
  connectEvm,
  connectTron,
  discoverWallets,
  evmWallets,
  tronLinkPresent,
} from "./wallets";
import "../styles.css";
import "./exit.css";

/** Every custom error a call here may revert with (the Settlement's, through `openExit`, and the exit's). */
const ERRORS = [...settlementErrorsAbi, ...settlementExitErrorsAbi] as unknown as Abi;
/** The most entries one `foldBatches` call replays (~23,000 gas each: well inside a block). */
const FOLD_CHUNK_ENTRIES = 300;
const PENDING_PREFIX = "referral-exit:pending:";
/**
 * How long a transaction handed to the wallet but not yet confirmed there holds its action in every tab: a reload or
 * another tab could otherwise have the wallet send it a second time (a wallet may keep a request whose page went away).
 */
const CONFIRMING_HOLD_MS = 10 * 60_000;

// ── reads ───────────────────────────────────────────────────────────────────────────────────────────────────────

type OneFunction = readonly [{ readonly name: string; readonly type: "function" }, ...unknown[]];

/** A view of `contract` through the wallet, encoded and decoded with the generated one-item ABI. */
async function view(w: ExitWallet, contract: Address, abi: OneFunction, signature: string, args: readonly unknown[] = []): Promise<any> {
  const functionName = abi[0].name;
  const data = encodeFunctionData({ abi: abi as unknown as Abi, functionName, args } as never);
  const raw = await w.call(contract, signature, data);
  return decodeFunctionResult({ abi: abi as unknown as Abi, functionName, data: raw } as never);
}

const callData = (abi: OneFunction, args: readonly unknown[]): Hex => encodeFunctionData({ abi: abi as unknown as Abi, functionName: abi[0].name, args } as never);

interface Target {
  contract: BuildContractRef;
  token: Address;
}

interface ExitRead {
  chainId: number;
  target: Target;
  exits: Address;
  exitAfter: bigint;
  opensAt: bigint;
  pausedSince: bigint;
  commitTime: bigint;
  latest: { root: Hex; total: bigint; epoch: bigint; asOfBlock: bigint; commitBlock: bigint };
  batches: { head: Hex; lastBatchBlock: bigint };
  allowed: boolean;
  clock: { block: bigint; time: bigint };
  opening: { open: boolean; epoch: bigint; root: Hex; total: bigint; owed: bigint; custody: bigint; batchesToFold: Hex; paid: bigint };
  /**
   * The claim window (contracts/EXIT.md §13): its end (0 before the exit opens), whether it has closed by the chain's
   * clock, what the claims add up to, the surplus (custody beyond the claims: as it would be if the window closed now,
   * until it has) and whether it went back to the Settlement's admin.
   */
  window: { end: bigint; closed: boolean; proven: bigint; surplus: bigint; surplusReturned: boolean };
  /** How long the claim window will run once the exit opens: the longer of the exit period and MIN_CLAIM_WINDOW. */
  claimSpan: bigint | null;
  /** The proof's member's claim, once the exit is open: the due recorded (0: none), where it is paid, whether it was. */
  claim: { due: bigint; to: Address; paid: boolean } | null;
  symbol: string;
  decimals: number;
  member: { hex: Address; paidAfterCommitment: bigint; exited: boolean } | null;
  /** The proof folded by the exit contract's own `foldProof`, against the commitment the exit rests on (or would). */
  proofCheck: { epoch: bigint; matches: boolean } | null;
  preview: { entitlement: bigint; subtracted: bigint; amount: bigint } | { refused: string } | null;
  /**
   * Leaving alone before a change of power takes effect (contracts/EXIT.md §12): whether the contract lets members
   * leave now (a change pending), how many changes are pending, and whether the proof's member has left; null for a
   * contract from before leaving existed.
   */
  leave: { open: boolean; pending: bigint; left: boolean } | null;
}

/** What leaving would pay, worked out from the batches since the commitment (rebuilt from the chain) and previewLeave. */
type LeavePlan = { batches: FoldedBatch[]; entitlement: bigint; subtracted: bigint; amount: bigint } | { refused: string };

/** The native coin's symbol and decimals on a chain (the page's own table; the devnet's anvil names none). */
const nativeOf = (chainId: number) => KNOWN[chainId]?.currency ?? { symbol: isTronNetwork(chainId) ? "TRX" : "BNB", decimals: isTronNetwork(chainId) ? 6 : 18 };

async function readExit(w: ExitWallet, chainId: number, target: Target, proof: ExitProof | null): Promise<ExitRead> {
  const s = target.contract.settlement;
  const token = target.token;
  let exits: Address;
  try {
    exits = getAddress(await view(w, s, settlementExitsAbi, settlementExitsSignature));
  } catch (e) {
    throw new ExitInputError(`${t("ex.no_exits", { contract: displayAddress(chainId, s) })} ${e instanceof Error ? e.message : ""}`.trim());
  }
  const [exitAfter, opensAt, pausedSince, commitTime, latestRaw, batchesRaw, allowed, openingRaw, windowRaw, minWindow, clock] = await Promise.all([
    view(w, s, settlementExitAfterAbi, settlementExitAfterSignature),
    view(w, s, settlementExitOpensAtAbi, settlementExitOpensAtSignature, [token]),
    view(w, s, settlementPausedSinceAbi, settlementPausedSinceSignature),
    view(w, s, settlementLatestCommitTimeAbi, settlementLatestCommitTimeSignature, [token]),
    view(w, s, settlementLatestLiabilitiesAbi, settlementLatestLiabilitiesSignature, [token]),
    view(w, s, settlementBatchesSinceCommitmentAbi, settlementBatchesSinceCommitmentSignature, [token]),
    view(w, s, settlementWasEverAllowedAbi, settlementWasEverAllowedSignature, [token]),
    view(w, exits, settlementExitOpeningAbi, settlementExitOpeningSignature, [token]),
    // An exit contract from before the claim window answers neither: the page cannot take its exit.
    view(w, exits, settlementExitClaimWindowAbi, settlementExitClaimWindowSignature, [token]).catch((e: unknown) => {
      throw new ExitInputError(`${t("ex.no_window", { exits: displayAddress(chainId, exits) })} ${e instanceof Error ? e.message : ""}`.trim());
    }),
    view(w, exits, settlementExitMinClaimWindowAbi, settlementExitMinClaimWindowSignature).catch(() => null),
    w.clock(),
  ]);
  const [root, total, epoch, asOfBlock, commitBlock] = latestRaw as [Hex, bigint, bigint, bigint, bigint, bigint];
  const [head, lastBatchBlock] = batchesRaw as [Hex, bigint];
  const [open, oEpoch, oRoot, oTotal, owed, custody, batchesToFold, paid] = openingRaw as [boolean, bigint, Hex, bigint, bigint, bigint, Hex, bigint];
  const [end, closed, proven, surplus, surplusReturned] = windowRaw as [bigint | number, boolean, bigint, bigint, boolean];
  const claimWindow = { end: BigInt(end), closed, proven, surplus, surplusReturned };
  const claimSpan = minWindow === null ? null : BigInt(exitAfter) > BigInt(minWindow) ? BigInt(exitAfter) : BigInt(minWindow);
  let symbol: string;
  let decimals: number;
  if (proof?.symbol && proof.decimals !== null) {
    symbol = proof.symbol;
    decimals = proof.decimals;
  } else if (token === NATIVE_TOKEN) {
    ({ symbol, decimals } = nativeOf(chainId));
  } else {
    const erc20 = (fn: "symbol" | "decimals") => erc20Abi.filter((x) => x.type === "function" && x.name === fn) as unknown as OneFunction;
    [symbol, decimals] = await Promise.all([
      view(w, token, erc20("symbol"), "symbol()").catch(() => t("ex.tokens")),
      view(w, token, erc20("decimals"), "decimals()").then(Number, () => 0),
    ]);
  }
  // Leaving alone (EXIT.md §12): a contract from before it answers none of these.
  const [leaveOpen, pendingCount] = await Promise.all([
    view(w, s, settlementLeaveOpenAbi, settlementLeaveOpenSignature).catch(() => null),
    view(w, s, settlementPendingCountAbi, settlementPendingCountSignature).catch(() => null),
  ]);
  let leave: ExitRead["leave"] = null;
  if (leaveOpen !== null && pendingCount !== null) {
    const left = proof ? Boolean(await view(w, s, settlementHasLeftAbi, settlementHasLeftSignature, [proof.member, token]).catch(() => false)) : false;
    leave = { open: Boolean(leaveOpen), pending: BigInt(pendingCount), left };
  }
  let member: ExitRead["member"] = null;
  let proofCheck: ExitRead["proofCheck"] = null;
  let preview: ExitRead["preview"] = null;
  let claim: ExitRead["claim"] = null;
  if (proof) {
    const [paidAfterCommitment, exited] = (await view(w, exits, settlementExitMemberExitAbi, settlementExitMemberExitSignature, [token, proof.member])) as [bigint, boolean];
    member = { hex: proof.member, paidAfterCommitment, exited };
    if (open) {
      const [due, to, paidOut] = (await view(w, exits, settlementExitClaimOfAbi, settlementExitClaimOfSignature, [token, proof.member])) as [bigint, Address, boolean];
      claim = { due, to: getAddress(to), paid: paidOut };
    }
    // The exit rests on the commitment of its opening; before it, on the latest one.
    const against = open ? { epoch: oEpoch, root: oRoot, total: oTotal } : { epoch, root, total };
    if (against.epoch > 0n) {
      const [, provenRoot, provenTotal] = (await view(w, exits, settlementExitFoldProofAbi, settlementExitFoldProofSignature, [
        BigInt(chainId),
        s,
        token,
        against.epoch,
        proof.leaf,
        proof.index,
        proof.siblings,
      ]).catch(() => [null, null, null])) as [Hex | null, Hex | null, bigint | null];
      proofCheck = {
        epoch: against.epoch,
        matches: proof.epoch === against.epoch && provenRoot?.toLowerCase() === against.root.toLowerCase() && provenTotal === against.total,
      };
    }
    // What payOut would pay: a ceiling while the window runs (it falls as others claim), final once it has closed; a
    // member who left, or did not claim before the end, has nothing to preview.
    const stage = memberStage({ open, left: !!leave?.left, window: claimWindow, claim });
    if (batchesToFold.toLowerCase() === ZERO_HASH && (stage === "claim" || stage === "claimed" || stage === "payable" || stage === "paid")) {
      try {
        const [entitlement, subtracted, amount] = (await view(w, exits, settlementExitPreviewExitAbi, settlementExitPreviewExitSignature, [
          token,
          proof.leaf,
          proof.index,
          proof.siblings,
        ])) as [bigint, bigint, bigint];
        preview = { entitlement, subtracted, amount };
      } catch (e) {
        preview = { refused: problemText(e, { symbol, decimals, chainId }) };
      }
    }
  }
  return {
    chainId,
    target,
    exits,
    exitAfter,
    opensAt,
    pausedSince: BigInt(pausedSince),
    commitTime,
    latest: { root, total, epoch: BigInt(epoch), asOfBlock: BigInt(asOfBlock), commitBlock: BigInt(commitBlock) },
    batches: { head, lastBatchBlock },
    allowed,
    clock,
    opening: { open, epoch: BigInt(oEpoch), root: oRoot, total: oTotal, owed, custody, batchesToFold, paid },
    window: claimWindow,
    claimSpan,
    claim,
    symbol,
    decimals,
    member,
    proofCheck,
    preview,
    leave,
  };
}

/**
 * What leaving would pay `proof`'s member now: every payout batch executed since the latest commitment, rebuilt from
 * the chain as the fold rebuilds them and checked against the running hash the Settlement holds
 * (`batchesSinceCommitment`), then the exit contract's own `previewLeave` with them.
 */
async function planLeave(w: ExitWallet, r: ExitRead, proof: ExitProof, ctx: { symbol: string; decimals: number; chainId: number }): Promise<LeavePlan> {
  let batches: FoldedBatch[] = [];
  if (r.batches.lastBatchBlock > 0n) {
    const from = r.latest.commitBlock;
    const fromTime = await w.blockTime(from);
    const logs = await w.tokenLogs(r.target.contract.settlement, settlementEventPayoutBatchExecutedTopic, "PayoutBatchExecuted", r.target.token, from, r.batches.lastBatchBlock, fromTime);
    const executed: ExecutedBatch[] = [];
    for (const l of logs) {
      const log = batchLogOf(l, settlementEventPayoutBatchExecutedTopic);
      if (!log || log.token.toLowerCase() !== r.target.token.toLowerCase()) continue;
      executed.push(executedBatch(log, await w.input(l.txid), settlementExecutePayoutBatchAbi));
    }
    batches = foldPlan(executed, r.batches.head).batches.map(({ previous, nonce, payouts }) => ({ previous, nonce, payouts }));
  }
  try {
    const [entitlement, subtracted, amount] = (await view(w, r.exits, settlementExitPreviewLeaveAbi, settlementExitPreviewLeaveSignature, [
      r.target.token,
      proof.leaf,
      proof.index,
      proof.siblings,
      batches,
    ])) as [bigint, bigint, bigint];
    return { batches, entitlement, subtracted, amount };
  } catch (e) {
    return { refused: problemText(e, ctx) };
  }
}

/**
 * The batches still to fold, rebuilt from the chain through the wallet: the token's `PayoutBatchExecuted` logs from the
 * commitment's block to the last batch's (a batch in the commitment's block before the commitment would have made the
 * commitment revert), each one's entries from its transaction's calldata, linked and checked against the running hash
 * the exit waits for (`foldPlan` throws when they do not reach it).
 */
async function planFold(w: ExitWallet, r: ExitRead) {
  const from = r.latest.commitBlock;
  const to = r.batches.lastBatchBlock >= from ? r.batches.lastBatchBlock : r.clock.block;
  const fromTime = await w.blockTime(from);
  const logs = await w.tokenLogs(r.target.contract.settlement, settlementEventPayoutBatchExecutedTopic, "PayoutBatchExecuted", r.target.token, from, to, fromTime);
  const executed: ExecutedBatch[] = [];
  for (const l of logs) {
    const log = batchLogOf(l, settlementEventPayoutBatchExecutedTopic);
    if (!log || log.token.toLowerCase() !== r.target.token.toLowerCase()) continue;
    executed.push(executedBatch(log, await w.input(l.txid), settlementExecutePayoutBatchAbi));
  }
  return foldPlan(executed, r.opening.batchesToFold);
}

// ── words ───────────────────────────────────────────────────────────────────────────────────────────────────────

const displayAddress = (chainId: number, a: string) => (isTronNetwork(chainId) ? toTronAddress(a) : a);

/** "TRON Nile (chain 3448148188)" from the page's own table, in the picked language. */
const networkName = (chainId: number): string => {
  const id = t("ex.chain_id", { id: plain(chainId) });
  return KNOWN[chainId] ? `${KNOWN[chainId].name} (${id})` : id;
};

/** An amount in base units as the picked language writes it, exact to its last decimal: "1234,5 BNB". */
function amountText(v: bigint, c: { symbol: string; decimals: number }) {
  return formatAmount(v, c.decimals, c.symbol);
}

/** A time of the chain's clock, as every time is shown (lib/format: the reader's zone, named). */
const when = (unix: bigint | number) => chainTime(unix);

/** The share custody covers ("87.5431 %", from `fractionOf`) in the picked language's digits and percent sign. */
const percentText = (text: string) => t("ex.percent", { n: localDecimal(text.replace(/\s*%$/, "")) });

/** Any failure in words: a contract's refusal named (its custom error), a wallet's, or the page's own checks. */
function problemText(e: unknown, c?: { symbol: string; decimals: number; chainId: number }): string {
  if (e instanceof Reverted) {
    if (e.data)
      return revertWords(e.data, ERRORS, {
        amount: c ? (v) => amountText(v, c) : undefined,
        address: c ? (a) => displayAddress(c.chainId, a) : undefined,
        time: when,
      }).words;
    return t("ex.refused", { why: e.message });
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

const errorName = (e: unknown): string | undefined => (e instanceof Reverted && e.data ? revertWords(e.data, ERRORS).name : undefined);

/** A phrase that opens a sentence, its first letter in capitals (none where the script has none). */
const cap = (s: string) => s.charAt(0).toLocaleUpperCase(exitLocale()) + s.slice(1);

// ── the plan's assets ───────────────────────────────────────────────────────────────────────────────────────────

/** Replaced at build time (vite.exit.config.ts): each network's USDT and further assets, from the deployment records. */
declare const __BUILD_TOKENS__: readonly { chain_id: number; usdt: string | null; assets: readonly { token: string; symbol: string }[] }[];

/** An asset offered as a button: a token this build knows on the wallet's network (or the native coin). */
interface AssetChoice {
  token: Address;
  symbol: string;
  native: boolean;
}

const erc20Fn = (fn: "symbol" | "decimals") => erc20Abi.filter((x) => x.type === "function" && x.name === fn) as unknown as OneFunction;

/**
 * The plan's assets on the wallet's network, to pick from instead of typing a token address: the network's native
 * coin, the USDT and the further assets of the build's deployment record, and the token of every proof the dApp kept in this browser — each
 * only when the contract ever allowed it (`wasEverAllowed`, read through the wallet; kept when that read fails), its
 * symbol from the proof, the page's table or the token itself.
 */
async function assetChoices(w: ExitWallet, chainId: number, contract: BuildContractRef, saved: SavedProof[]): Promise<AssetChoice[]> {
  const candidates = new Map<string, string | null>([[NATIVE_TOKEN, nativeOf(chainId).symbol]]);
  for (const r of __BUILD_TOKENS__) {
    if (r.chain_id !== chainId) continue;
    if (r.usdt) candidates.set(getAddress(r.usdt), candidates.get(getAddress(r.usdt)) ?? null);
    for (const a of r.assets) candidates.set(getAddress(a.token), a.symbol);
  }
  for (const s of saved) if (s.chainId === chainId && /^0x[0-9a-fA-F]{40}$/.test(s.token)) candidates.set(getAddress(s.token), s.symbol || null);
  const choices = await Promise.all(
    [...candidates].map(async ([token, known]) => {
      const allowed = await view(w, contract.settlement, settlementWasEverAllowedAbi, settlementWasEverAllowedSignature, [token]).then(Boolean, () => null);
      if (allowed === false) return null;
      const symbol = known ?? (await view(w, token as Address, erc20Fn("symbol"), "symbol()").then(String, () => null));
      return { token: token as Address, symbol: symbol || displayAddress(chainId, token), native: token === NATIVE_TOKEN };
    }),
  );
  return choices.filter((c): c is AssetChoice => c !== null);
}

// ── the transactor ──────────────────────────────────────────────────────────────────────────────────────────────

interface Action {
  /** Remembers a sent transaction across a reload: chain, exit contract, token, action (and member). */
  key: string;
  /** What is sent, in words with its article ("the exit"), in the page's language. */
  what: string;
  to: Address;
  signature: string;
  data: Hex;
  /** Read again just before sending: a reason it is no longer needed (done meanwhile), or null. */
  stillNeeded: () => Promise<string | null>;
  /** What the member's section says once it is mined, with its transaction: a leave or a payout. */
  done?: Done["kind"];
}

/**
 * A transaction of an action, in this browser's storage (shared by its tabs): `id` null while the wallet has it to
 * confirm, then the sent transaction's id, followed until mined.
 */
interface Pending {
  id: string | null;
  what: string;
  at: number;
}

/** The last leave or payout this page saw mined, to name its transaction. */
type Done = { kind: "leave" | "payout"; id: string };

const pendingStore = {
  get(key: string): Pending | null {
    try {
      return JSON.parse(localStorage.getItem(PENDING_PREFIX + key) ?? "null");
    } catch {
      return null;
    }
  },
  set(key: string, p: Pending) {
    try {
      localStorage.setItem(PENDING_PREFIX + key, JSON.stringify(p));
    } catch {
      // A browser that keeps nothing (a file:// page in some): the chain's state still refuses a second exit.
    }
  },
  clear(key: string) {
    try {
      localStorage.removeItem(PENDING_PREFIX + key);
    } catch {
      // idem
    }
  },
  keys(prefix: string): string[] {
    try {
      return Object.keys(localStorage)
        .filter((k) => k.startsWith(PENDING_PREFIX + prefix))
        .map((k) => k.slice(PENDING_PREFIX.length));
    } catch {
      return [];
    }
  },
};

// ── the page ────────────────────────────────────────────────────────────────────────────────────────────────────

type Message = { kind: "info" | "ok" | "error"; text: string; name?: string };

/** The six languages, each named in itself; the pick is kept as the dApp keeps it (`referral.locale`). */
function LanguagePicker(props: { lang: LocaleCode; onPick: (code: LocaleCode) => void }) {
  return (
    <label class="language exit-language" data-testid="language">
      <span class="sr-only">{t("ex.language")}</span>
      <select value={props.lang} onChange={(e) => props.onPick((e.currentTarget as HTMLSelectElement).value as LocaleCode)} data-testid="language-picker">
        {LOCALES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code} dir={l.dir}>
            {l.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function App() {
  const [lang, setLang] = useState<LocaleCode>(exitLocale());
  const [found, setFound] = useState<DiscoveredWallet[]>([]);
  const [tron, setTron] = useState(false);
  const [wallet, setWallet] = useState<ExitWallet | null>(null);
  const [chainId, setChainId] = useState<number | null>(null);
  const [proof, setProof] = useState<ExitProof | null>(null);
  const [proofError, setProofError] = useState<string | null>(null);
  const [saved, setSaved] = useState<SavedProof[]>([]);
  const [tokenText, setTokenText] = useState("");
  const [contractChoice, setContractChoice] = useState(0);
  const [auditTarget, setAuditTarget] = useState<Target | null>(null);
  const [assets, setAssets] = useState<AssetChoice[] | null>(null);
  const [read, setRead] = useState<ExitRead | null>(null);
  const [reading, setReading] = useState(false);
  const [readError, setReadError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<Message | null>(null);
  const [foldInfo, setFoldInfo] = useState<{ count: number; entries: number } | null>(null);
  const [payTo, setPayTo] = useState("");
  const [done, setDone] = useState<Done | null>(null);
  const [redirectTo, setRedirectTo] = useState("");
  const [leavePlan, setLeavePlan] = useState<LeavePlan | null>(null);
  const inFlight = useRef(false);
  const folding = useRef(false);
  const tick = useRef(0);

  const pickLanguage = (code: LocaleCode) => {
    setExitLocale(code);
    setLang(code);
  };

  useEffect(() => {
    const update = () => {
      setFound(evmWallets());
      setTron(tronLinkPresent());
    };
    const stop = discoverWallets(update);
    update();
    window.addEventListener("tronLink#initialized", update);
    // TronLink may inject itself a moment after the page loaded.
    const later = setTimeout(update, 800);
    savedProofs().then(setSaved, () => setSaved([]));
    return () => {
      stop();
      clearTimeout(later);
      window.removeEventListener("tronLink#initialized", update);
    };
  }, []);

  const contracts = chainId !== null ? buildContracts(buildNetworks(), chainId) : null;
  const fromProof = proof && chainId !== null ? contractOfProof(buildNetworks(), chainId, proof, networkName) : null;
  const target: Target | null = proof ? (fromProof?.ok ? { contract: fromProof.contract, token: proof.token } : null) : auditTarget;
  const chosenContract = contracts ? contracts[Math.min(contractChoice, contracts.length - 1)] : null;

  // The plan's assets on the wallet's network, at the contract chosen (each contract has its own exit).
  useEffect(() => {
    setAssets(null);
    if (!wallet || chainId === null || !chosenContract) return;
    let alive = true;
    assetChoices(wallet, chainId, chosenContract, saved).then(
      (list) => alive && setAssets(list),
      () => alive && setAssets([]),
    );
    return () => {
      alive = false;
    };
  }, [wallet, chainId, chosenContract?.settlement, saved]);

  const refresh = async () => {
    if (!wallet || chainId === null || !target) {
      setRead(null);
      return;
    }
    const mine = ++tick.current;
    setReading(true);
    setReadError(null);
    try {
      const r = await readExit(wallet, chainId, target, proof);
      if (mine === tick.current) setRead(r);
    } catch (e) {
      if (mine === tick.current) {
        setRead(null);
        setReadError(problemText(e));
      }
    } finally {
      if (mine === tick.current) setReading(false);
    }
  };

  // Read again whenever the wallet, its network, the proof or the auditor's target changes (and in another language:
  // what a read refuses is worded once); resume a transaction a reload left in flight (waited for, never sent again).
  useEffect(() => {
    setFoldInfo(null);
    setLeavePlan(null);
    void refresh().then(resume);
  }, [wallet, chainId, proof, auditTarget?.token, auditTarget?.contract.settlement, lang]);

  const keyBase = () => (chainId !== null && target ? `${chainId}:${target.contract.settlement}:${target.token}:`.toLowerCase() : null);

  async function resume() {
    const base = keyBase();
    if (!wallet || !base || inFlight.current) return;
    const waiting = pendingStore.keys(base);
    if (waiting.length === 0) return;
    inFlight.current = true;
    try {
      for (const key of waiting) {
        const p = pendingStore.get(key);
        if (!p) continue;
        // Handed to the wallet, not sent yet (in this tab before the reload, or in another): nothing to follow; the
        // hold lapses after a while, in case the wallet dropped it.
        if (p.id === null) {
          if (Date.now() - p.at >= CONFIRMING_HOLD_MS) pendingStore.clear(key);
          continue;
        }
        setBusy(p.what);
        setMessage({ kind: "info", text: t("ex.resumed", { what: cap(p.what), id: p.id }) });
        try {
          await wallet.mined(p.id);
          setMessage({ kind: "ok", text: t("ex.resumed_mined", { what: cap(p.what), id: p.id }) });
        } catch (e) {
          setMessage({ kind: "error", text: problemText(e), name: errorName(e) });
        }
        pendingStore.clear(key);
      }
    } finally {
      inFlight.current = false;
      setBusy(null);
      await refresh();
    }
  }

  /** The one path every write takes. */
  async function transact(a: Action): Promise<boolean> {
    if (!wallet || inFlight.current) return false;
    inFlight.current = true;
    setBusy(a.what);
    setMessage({ kind: "info", text: t("ex.checking", { what: a.what }) });
    const ctx = read ? { symbol: read.symbol, decimals: read.decimals, chainId: read.chainId } : undefined;
    try {
      const pending = pendingStore.get(a.key);
      if (pending && (pending.id !== null || Date.now() - pending.at < CONFIRMING_HOLD_MS)) {
        setMessage({ kind: "info", text: t(pending.id !== null ? "ex.already_sent" : "ex.confirming", { what: cap(a.what) }) });
        return false;
      }
      const done = await a.stillNeeded();
      if (done) {
        setMessage({ kind: "info", text: done });
        return false;
      }
      // A dry run from this account: a refusal is named and nothing is sent.
      await wallet.call(a.to, a.signature, a.data);
      setMessage({ kind: "info", text: t("ex.confirm", { what: a.what, wallet: wallet.name }) });
      // Held in every tab while the wallet asks for confirmation: another tab's click waits instead of sending.
      pendingStore.set(a.key, { id: null, what: a.what, at: Date.now() });
      let id: string;
      try {
        id = await wallet.send(a.to, a.signature, a.data, a.what);
      } catch (e) {
        pendingStore.clear(a.key);
        throw e;
      }
      pendingStore.set(a.key, { id, what: a.what, at: Date.now() });
      setMessage({ kind: "info", text: t("ex.sent", { what: cap(a.what), id }) });
      try {
        await wallet.mined(id);
      } finally {
        pendingStore.clear(a.key);
      }
      setMessage({ kind: "ok", text: t("ex.mined", { what: cap(a.what), id }) });
      if (a.done) setDone({ kind: a.done, id });
      return true;
    } catch (e) {
      setMessage({ kind: "error", text: problemText(e, ctx), name: errorName(e) ?? (e instanceof WalletProblem && e.rejected ? "rejected" : undefined) });
      return false;
    } finally {
      inFlight.current = false;
      setBusy(null);
      await refresh();
    }
  }

  // ── actions ──
  const connect = async (f: () => Promise<ExitWallet>) => {
    setMessage(null);
    try {
      const w = await f();
      setChainId(await w.network());
      setWallet(w);
      // The network the wallet is switched to is followed (an EIP-1193 wallet says so; TronLink: "Read the network again").
      if (w instanceof EvmExitWallet) w.provider.on?.("chainChanged", (id: string) => setChainId(Number(BigInt(id))));
    } catch (e) {
      setMessage({ kind: "error", text: problemText(e) });
    }
  };

  const loadProof = (text: unknown, source: string) => {
    setDone(null);
    setRedirectTo("");
    try {
      const p = readProof(text);
      setProof(p);
      setProofError(null);
      setAuditTarget(null);
      setPayTo(displayAddress(p.chainId, p.member));
      setMessage({ kind: "info", text: t("ex.read_source", { source }) });
    } catch (e) {
      setProof(null);
      setProofError(problemText(e));
    }
  };

  const onFile = async (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    loadProof(await file.text(), t("ex.source_file", { name: file.name }));
  };

  /** Reads the exit of `token` at the contract chosen, without a proof (an auditor, a friend). */
  const readAsset = (token: Address) => {
    setProof(null);
    setProofError(null);
    if (!chosenContract) return;
    setAuditTarget({ contract: chosenContract, token: getAddress(token) });
  };

  const readAudit = (e: Event) => {
    e.preventDefault();
    const text = tokenText.trim();
    const token = text === "" ? NATIVE_TOKEN : parseAnyAddress(text);
    if (!token) {
      setMessage({ kind: "error", text: t("ex.not_token", { text }) });
      return;
    }
    readAsset(token);
  };

  const openExit = () => {
    if (!read) return;
    void transact({
      key: `${keyBase()}open`,
      what: t("ex.what_open"),
      to: read.exits,
      signature: settlementExitOpenExitSignature,
      data: callData(settlementExitOpenExitAbi, [read.target.token]),
      stillNeeded: async () => {
        const now = await readExit(wallet!, read.chainId, read.target, null);
        return now.opening.open ? t("ex.open_already") : null;
      },
    });
  };

  const fold = async () => {
    if (!read || !wallet || inFlight.current || folding.current) return;
    folding.current = true;
    try {
      await foldAll(read, wallet);
    } finally {
      folding.current = false;
    }
  };

  const foldAll = async (read: ExitRead, wallet: ExitWallet) => {
    setBusy(t("exw.what_read_batches"));
    setMessage({ kind: "info", text: t("ex.reading_batches") });
    let plan;
    try {
      plan = await planFold(wallet, read);
    } catch (e) {
      setMessage({ kind: "error", text: problemText(e) });
      return;
    } finally {
      setBusy(null);
    }
    setFoldInfo({ count: plan.batches.length, entries: plan.entries });
    const chunks = foldChunks(plan.batches, FOLD_CHUNK_ENTRIES);
    for (const [i, chunk] of chunks.entries()) {
      const batches: FoldedBatch[] = chunk.map(({ previous, nonce, payouts }) => ({ previous, nonce, payouts }));
      const first = chunk[0];
      const ok = await transact({
        key: `${keyBase()}fold`,
        what: chunks.length > 1 ? t("ex.what_fold_part", { part: i + 1, parts: chunks.length }) : t("ex.what_fold"),
        to: read.exits,
        signature: settlementExitFoldBatchesSignature,
        data: callData(settlementExitFoldBatchesAbi, [read.target.token, batches]),
        stillNeeded: async () => {
          const now = await readExit(wallet, read.chainId, read.target, null);
          if (now.opening.batchesToFold.toLowerCase() === ZERO_HASH) return t("ex.folded_already");
          if (now.opening.batchesToFold.toLowerCase() !== first.link.toLowerCase()) return t("ex.folded_partly");
          return null;
        },
      });
      if (!ok) return;
    }
  };

  /**
   * The address typed to be paid by a claim, a leave or a payout's redirection, checked as the exit contract checks it
   * (not the zero address, the Settlement or the exit contract; another than the member's own only from the member's
   * wallet), or null (the page says why).
   */
  const recipient = (text: string, only: "ex.only_member_exit" | "ex.only_member_leave" | "ex.redirect_only_member"): Address | null => {
    if (!read || !proof || !wallet) return null;
    const to = parseAnyAddress(text.trim());
    if (!to) {
      setMessage({ kind: "error", text: t("ex.not_pay_to", { text }) });
      return null;
    }
    const member = displayAddress(read.chainId, proof.member);
    const why = recipientRefusal(to, { member: proof.member, sender: wallet.hex, settlement: read.target.contract.settlement, exits: read.exits });
    if (why === "zero") setMessage({ kind: "error", text: t("ex.pay_to_zero") });
    else if (why === "contract") setMessage({ kind: "error", text: t("ex.pay_to_contract", { to: displayAddress(read.chainId, to) }) });
    else if (why === "not_member") setMessage({ kind: "error", text: t(only, { member }) });
    return why ? null : to;
  };

  /** The proof's member's claim as the chain has it now. */
  const claimNow = async (r: ExitRead, member: Address) => {
    const [due, to, paidOut] = (await view(wallet!, r.exits, settlementExitClaimOfAbi, settlementExitClaimOfSignature, [r.target.token, member])) as [bigint, Address, boolean];
    return { due, to: getAddress(to), paid: paidOut };
  };

  /** Whether the member claimed (or left) already: `said` if so. */
  const exitedAlready = async (said: "ex.claimed_already" | "ex.left_already"): Promise<string | null> => {
    if (!read || !proof || !wallet) return null;
    const [, exited] = (await view(wallet, read.exits, settlementExitMemberExitAbi, settlementExitMemberExitSignature, [read.target.token, proof.member])) as [bigint, boolean];
    return exited ? t(said, { member: displayAddress(read.chainId, proof.member) }) : null;
  };

  /** The claim (`exit`, contracts/EXIT.md §13): records the member's due, to be paid once the window closes. */
  const sendClaim = () => {
    if (!read || !proof || !wallet) return;
    const to = recipient(payTo, "ex.only_member_exit");
    if (!to) return;
    void transact({
      key: `${keyBase()}claim:${proof.member.toLowerCase()}`,
      what: t("ex.what_claim"),
      to: read.exits,
      signature: settlementExitExitSignature,
      data: callData(settlementExitExitAbi, [read.target.token, proof.leaf, proof.index, proof.siblings, getAddress(to)]),
      stillNeeded: () => exitedAlready("ex.claimed_already"),
    });
  };

  /** The payout of the member's claim, once the window has closed: anyone may send it; it goes where the claim says. */
  const sendPayOut = () => {
    if (!read || !proof || !wallet) return;
    const r = read;
    const member = proof.member;
    void transact({
      key: `${keyBase()}payout:${member.toLowerCase()}`,
      what: t("ex.what_payout"),
      to: r.exits,
      signature: settlementExitPayOutSignature,
      data: callData(settlementExitPayOutAbi, [r.target.token, member]),
      done: "payout",
      stillNeeded: async () => ((await claimNow(r, member)).paid ? t("ex.paid_already", { member: displayAddress(r.chainId, member) }) : null),
    });
  };

  /** Where the member's payout goes, changed by the member (only: the contract takes the sender's own claim). */
  const sendRedirect = () => {
    if (!read || !proof || !wallet) return;
    const r = read;
    const member = proof.member;
    if (wallet.hex.toLowerCase() !== member.toLowerCase()) {
      setMessage({ kind: "error", text: t("ex.redirect_only_member", { member: displayAddress(r.chainId, member) }) });
      return;
    }
    const to = recipient(redirectTo, "ex.redirect_only_member");
    if (!to) return;
    if (r.claim && r.claim.to.toLowerCase() === to.toLowerCase()) {
      setMessage({ kind: "info", text: t("ex.redirect_same", { to: displayAddress(r.chainId, to) }) });
      return;
    }
    void transact({
      key: `${keyBase()}redirect:${member.toLowerCase()}`,
      what: t("ex.what_redirect"),
      to: r.exits,
      signature: settlementExitRedirectSignature,
      data: callData(settlementExitRedirectAbi, [r.target.token, getAddress(to)]),
      stillNeeded: async () => {
        const now = await claimNow(r, member);
        if (now.paid) return t("ex.paid_already", { member: displayAddress(r.chainId, member) });
        return now.to.toLowerCase() === to.toLowerCase() ? t("ex.redirected_already", { to: displayAddress(r.chainId, to) }) : null;
      },
    }).then((ok) => ok && setRedirectTo(""));
  };

  const checkLeave = async () => {
    if (!read || !proof || !wallet || inFlight.current) return;
    setBusy(t("exw.what_read_batches"));
    setMessage({ kind: "info", text: t("ex.reading_batches_latest") });
    try {
      const plan = await planLeave(wallet, read, proof, { symbol: read.symbol, decimals: read.decimals, chainId: read.chainId });
      setLeavePlan(plan);
      setMessage(null);
    } catch (e) {
      setMessage({ kind: "error", text: problemText(e) });
    } finally {
      setBusy(null);
    }
  };

  const sendLeave = () => {
    if (!read || !proof || !wallet || !leavePlan || "refused" in leavePlan) return;
    const to = recipient(payTo, "ex.only_member_leave");
    if (!to) return;
    void transact({
      key: `${keyBase()}leave:${proof.member.toLowerCase()}`,
      what: t("ex.what_leave"),
      to: read.exits,
      signature: settlementExitLeaveSignature,
      data: callData(settlementExitLeaveAbi, [read.target.token, proof.leaf, proof.index, proof.siblings, leavePlan.batches, getAddress(to)]),
      stillNeeded: () => exitedAlready("ex.left_already"),
      done: "leave",
    }).then(() => setLeavePlan(null));
  };

  // ── view ──
  const sameMember = !!(wallet && proof && wallet.hex.toLowerCase() === proof.member.toLowerCase());
  const payToHex = parseAnyAddress(payTo.trim());
  const toOther = !!(proof && payToHex && payToHex.toLowerCase() !== proof.member.toLowerCase());
  const proofAmount = (v: bigint) => (proof?.symbol && proof.decimals !== null ? amountText(v, { symbol: proof.symbol, decimals: proof.decimals }) : "");

  return (
    <main id="main" class="exit-page" aria-labelledby="exit-title">
      <div class="exit-top">
        <LanguagePicker lang={lang} onPick={pickLanguage} />
      </div>
      <h1 id="exit-title">{t("ex.title")}</h1>
      <p>{t("ex.intro")}</p>

      <section aria-labelledby="exit-wallet-title">
        <h2 id="exit-wallet-title">{t("ex.s_wallet")}</h2>
        {!wallet && (
          <div class="actions-row">
            {found.map((f) => (
              <button type="button" key={f.info.uuid} onClick={() => connect(() => connectEvm(f))} data-testid="exit-connect-evm" data-wallet={f.info.name}>
                {t("ex.connect", { wallet: f.info.name })}
              </button>
            ))}
            {tron && (
              <button type="button" onClick={() => connect(connectTron)} data-testid="exit-connect-tron">
                {t("ex.connect", { wallet: "TronLink" })}
              </button>
            )}
            {found.length === 0 && !tron && <p data-testid="exit-no-wallet">{t("ex.no_wallet")}</p>}
          </div>
        )}
        {wallet && (
          <div data-testid="exit-wallet" data-chain={chainId ?? ""} data-account={wallet.hex}>
            <p>
              {tx("ex.wallet_on", { wallet: wallet.name, account: <code>{wallet.account}</code>, network: chainId === null ? t("ex.network_unnamed") : networkName(chainId) })}{" "}
              <button type="button" onClick={async () => setChainId(await wallet.network())}>
                {t("ex.read_network")}
              </button>
            </p>
            {chainId !== null && contracts && (
              <p class="muted" data-testid="exit-contracts">
                {tx("ex.built_with", {
                  count: contracts.length,
                  contracts: contracts.map((c, i) => (
                    <span key={c.settlement}>
                      {i > 0 && ", "}
                      {tx(c.live ? "ex.contract_live" : "ex.contract_replaced", { address: <code>{displayAddress(chainId, c.settlement)}</code> })}
                    </span>
                  )),
                })}
              </p>
            )}
            {chainId !== null && !contracts && (
              <p class="field-error" role="alert" data-testid="exit-unsupported">
                {t("ex.unsupported", { network: networkName(chainId) })}
              </p>
            )}
          </div>
        )}
      </section>

      <section aria-labelledby="exit-proof-title">
        <h2 id="exit-proof-title">{t("ex.s_proof")}</h2>
        <p>{tx("ex.proof_intro", { file: <code>solvency-proof-….json</code> })}</p>
        <label for="exit-proof-file">{t("ex.proof_file")}</label>
        <input id="exit-proof-file" type="file" accept=".json,application/json" onChange={onFile} data-testid="exit-proof-file" />
        {saved.length > 0 && (
          <div data-testid="exit-saved">
            <p>{t("ex.saved_intro")}</p>
            <ul>
              {saved.map((s) => (
                <li key={s.key}>
                  <button type="button" onClick={() => loadProof(s.proof, t("ex.source_saved", { date: dateTime(s.savedAt) }))} data-testid="exit-use-saved">
                    {t("ex.use_saved", { symbol: s.symbol, epoch: plain(s.epoch), member: s.member })}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
        {proofError && (
          <p class="field-error" role="alert" data-testid="exit-proof-error">
            {proofError}
          </p>
        )}
        {proof && (
          <div data-testid="exit-proof" data-member={proof.member} data-epoch={proof.epoch.toString()} data-entitlement={proof.entitlement.toString()}>
            <p>
              {tx("ex.proof_of", {
                member: <code>{displayAddress(proof.chainId, proof.member)}</code>,
                asset: proof.symbol ?? t("ex.the_asset"),
                token: <code>{proof.token === NATIVE_TOKEN ? t("ex.native_coin") : displayAddress(proof.chainId, proof.token)}</code>,
                epoch: plain(proof.epoch),
                block: plain(proof.asOfBlock),
                contract: <code>{displayAddress(proof.chainId, proof.contract)}</code>,
                network: networkName(proof.chainId),
              })}
            </p>
            {proof.decimals !== null && proof.symbol && (
              <p>
                {tx("ex.counts", {
                  entitlement: <strong data-testid="exit-entitlement">{proofAmount(proof.entitlement)}</strong>,
                  claimable: proofAmount(proof.leaf.claimable),
                })}
              </p>
            )}
            {fromProof && !fromProof.ok && (
              <p class="field-error" role="alert" data-testid="exit-proof-contract">
                {fromProof.why}
              </p>
            )}
          </div>
        )}
        {!proof && wallet && contracts && (
          <form onSubmit={readAudit} class="exit-audit" data-testid="exit-audit">
            <p>{t("ex.audit_intro")}</p>
            {contracts.length > 1 && (
              <>
                <label for="exit-contract">{t("ex.contract")}</label>
                <select id="exit-contract" value={contractChoice} onChange={(e) => setContractChoice(Number((e.currentTarget as HTMLSelectElement).value))} data-testid="exit-contract">
                  {contracts.map((c, i) => (
                    <option key={c.settlement} value={i}>
                      {t(c.live ? "exl.known_live" : "exl.known_replaced", { contract: displayAddress(chainId!, c.settlement) })}
                    </option>
                  ))}
                </select>
              </>
            )}
            <fieldset class="exit-assets" data-testid="exit-assets" data-count={assets?.length ?? ""}>
              <legend>{t("ex.assets")}</legend>
              {assets === null ? (
                <p class="muted" aria-busy="true">
                  {t("ex.assets_reading", { wallet: wallet.name })}
                </p>
              ) : assets.length === 0 ? (
                <p class="muted">{t("ex.assets_none")}</p>
              ) : (
                <div class="actions-row">
                  {assets.map((a) => {
                    const picked = auditTarget?.token.toLowerCase() === a.token.toLowerCase() && auditTarget.contract.settlement === chosenContract?.settlement;
                    return (
                      <button
                        type="button"
                        key={a.token}
                        class={picked ? "primary" : undefined}
                        aria-pressed={picked}
                        onClick={() => readAsset(a.token)}
                        data-testid="exit-asset"
                        data-token={a.token.toLowerCase()}
                        data-symbol={a.symbol}
                      >
                        {a.native ? t("ex.asset_native", { symbol: a.symbol }) : tx("ex.asset_token", { symbol: a.symbol, address: <small>{shortAddress(displayAddress(chainId!, a.token))}</small> })}
                      </button>
                    );
                  })}
                </div>
              )}
            </fieldset>
            <div class="exit-expert">
              <p class="muted">{t("ex.expert")}</p>
              <label for="exit-token">{t("ex.token_label")}</label>
              <input id="exit-token" value={tokenText} onInput={(e) => setTokenText((e.currentTarget as HTMLInputElement).value)} data-testid="exit-token" />
              <button type="submit" data-testid="exit-read">
                {t("ex.read_asset")}
              </button>
            </div>
          </form>
        )}
      </section>

      {wallet && target && (
        <section aria-labelledby="exit-state-title">
          <h2 id="exit-state-title">{t("ex.s_exit")}</h2>
          {reading && !read && (
            <p class="muted" aria-busy="true">
              {t("ex.reading", { wallet: wallet.name })}
            </p>
          )}
          {readError && (
            <p class="field-error" role="alert" data-testid="exit-read-error">
              {readError}
            </p>
          )}
          {read && <ExitState r={read} busy={busy} onOpen={openExit} onFold={fold} foldInfo={foldInfo} />}
          <div class="actions-row">
            <button type="button" onClick={() => void refresh()} disabled={reading || !!busy} data-testid="exit-refresh">
              {t("ex.read_again")}
            </button>
          </div>
        </section>
      )}

      {wallet && read && proof && (
        <section aria-labelledby="exit-member-title">
          <h2 id="exit-member-title">{t("ex.s_member")}</h2>
          <MemberExit
            r={read}
            proof={proof}
            busy={busy}
            payTo={payTo}
            setPayTo={setPayTo}
            toOther={toOther}
            sameMember={sameMember}
            onClaim={sendClaim}
            onPayOut={sendPayOut}
            redirectTo={redirectTo}
            setRedirectTo={setRedirectTo}
            onRedirect={sendRedirect}
            done={done}
            leavePlan={leavePlan}
            onCheckLeave={checkLeave}
            onLeave={sendLeave}
          />
        </section>
      )}

      <div aria-live="polite" class="exit-status" data-testid="exit-status" data-busy={busy ?? ""}>
        {message && message.kind !== "error" && <p class={message.kind === "ok" ? "ok" : "muted"}>{message.text}</p>}
      </div>
      {message?.kind === "error" && (
        <p class="field-error" role="alert" data-testid="exit-error" data-error={message.name ?? ""}>
          {message.text}
        </p>
      )}
    </main>
  );
}

/** `0x1234…cdef` (`T…` forms too). */
const shortAddress = (a: string) => (a.length > 14 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a);

function ExitState(props: { r: ExitRead; busy: string | null; onOpen: () => void; onFold: () => void; foldInfo: { count: number; entries: number } | null }) {
  const { r } = props;
  const o = r.opening;
  const amount = (v: bigint) => amountText(v, r);
  const due = r.clock.time >= r.opensAt;
  const toFold = o.open && o.batchesToFold.toLowerCase() !== ZERO_HASH;
  const w = r.window;
  // The share every claim is paid: final once the window has closed, until then as it would be if it closed now.
  const fraction = fractionOf(o.custody, w.proven);
  const tokenName =
    r.target.token === NATIVE_TOKEN ? t("ex.token_native", { symbol: r.symbol }) : t("ex.token_named", { symbol: r.symbol, address: displayAddress(r.chainId, r.target.token) });
  const commitment =
    r.latest.epoch > 0n
      ? t("ex.latest", { epoch: plain(r.latest.epoch), block: plain(r.latest.asOfBlock), commit: plain(r.latest.commitBlock), date: when(r.commitTime) })
      : t("ex.never_committed");
  return (
    <div
      data-testid="exit-state"
      data-open={String(o.open)}
      data-due={String(due)}
      data-opens-at={r.opensAt.toString()}
      data-exit-after={r.exitAfter.toString()}
      data-token={r.target.token.toLowerCase()}
      data-batches-to-fold={o.batchesToFold}
      data-owed={o.owed.toString()}
      data-custody={o.custody.toString()}
      data-paid={o.paid.toString()}
      data-window-end={w.end.toString()}
      data-window-closed={String(w.closed)}
      data-proven={w.proven.toString()}
      data-surplus={w.surplus.toString()}
      data-surplus-returned={String(w.surplusReturned)}
      data-epoch={(o.open ? o.epoch : r.latest.epoch).toString()}
    >
      <p>
        {tx(r.target.contract.live ? "ex.state_live" : "ex.state_replaced", {
          token: tokenName,
          contract: <code>{displayAddress(r.chainId, r.target.contract.settlement)}</code>,
          exits: <code>{displayAddress(r.chainId, r.exits)}</code>,
        })}
      </p>
      {!r.allowed && <p class="field-error">{t("ex.never_allowed")}</p>}
      <p>
        {commitment}{" "}
        {tx(r.pausedSince > 0n ? "ex.period_paused" : "ex.period", {
          period: <strong data-testid="exit-period">{span(r.exitAfter)}</strong>,
          paused: when(r.pausedSince),
          now: when(r.clock.time),
          block: plain(r.clock.block),
        })}
      </p>
      {o.open ? (
        <div data-testid="exit-open-facts">
          <p>
            {tx("ex.open_on", {
              open: <strong>{t("ex.open_is")}</strong>,
              epoch: plain(o.epoch),
              root: <code title={o.root}>{o.root.slice(0, 10)}…</code>,
              total: amount(o.total),
              owed: amount(o.owed),
              custody: amount(o.custody),
            })}
          </p>
          <p data-testid="exit-window">
            <strong>
              {w.closed ? t("ex.window_closed", { end: when(w.end) }) : t("ex.window_open", { end: when(w.end), left: span(w.end - r.clock.time) })}
            </strong>
          </p>
          <p>
            {t("ex.claims_sum", { proven: amount(w.proven) })}{" "}
            {fraction.full ? (
              t(w.closed ? "ex.claims_covered" : "ex.claims_covered_now")
            ) : (
              <span data-testid="exit-fraction">{tx(w.closed ? "ex.claims_short" : "ex.claims_short_now", { share: <strong>{percentText(fraction.text)}</strong> })}</span>
            )}{" "}
            {t("ex.paid_so_far", { paid: amount(o.paid) })}
          </p>
          {/* Folding is for the claims: once the window has closed no claim can be made, so there is nothing to fold for. */}
          {w.closed ? null : toFold ? (
            <>
              <p data-testid="exit-to-fold">{t("ex.to_fold")}</p>
              <button type="button" class="primary" onClick={props.onFold} disabled={!!props.busy} data-testid="exit-fold">
                {t("ex.fold")}
              </button>
            </>
          ) : (
            <p data-testid="exit-folded">{t("ex.folded")}</p>
          )}
          {props.foldInfo && (
            <p class="muted" data-testid="exit-fold-plan" data-count={props.foldInfo.count} data-entries={props.foldInfo.entries}>
              {t("ex.fold_plan", { count: props.foldInfo.count, entries: t("ex.entries", { count: props.foldInfo.entries }) })}
            </p>
          )}
          {/* The surplus is the company's, returned by anyone once the window has closed: no member needs to send it. */}
          <details class="exit-expert" data-testid="exit-surplus">
            <summary>{t("ex.surplus_title")}</summary>
            <p class="muted">
              {t(w.surplusReturned ? "ex.surplus_returned" : w.closed ? "ex.surplus_closed" : "ex.surplus_open", { surplus: amount(w.surplus) })}
            </p>
          </details>
        </div>
      ) : (
        <div data-testid="exit-closed-facts">
          <p>
            <strong>{t("ex.not_open")}</strong>{" "}
            {due ? t("ex.due", { since: when(r.opensAt) }) : t("ex.not_due", { from: chainTime(r.opensAt, { roundUp: true }), left: span(r.opensAt - r.clock.time) })}
          </p>
          {r.claimSpan !== null && <p data-testid="exit-window-after-open">{t("ex.window_after_open", { window: span(r.claimSpan) })}</p>}
          <button type="button" class="primary" onClick={props.onOpen} disabled={!due || !!props.busy || !r.allowed} data-testid="exit-open">
            {t("ex.open")}
          </button>
        </div>
      )}
    </div>
  );
}

/** The figures of what an exit or a leave pays: the leaf, less what batches paid, the share custody covers, the sum. */
function Figures(props: {
  testid: string;
  entitlement: bigint;
  subtracted: bigint;
  amount: bigint;
  amountTestid: string;
  paidLabel: string;
  share?: string;
  shareLabel?: string;
  receiveLabel?: string;
  r: ExitRead;
}) {
  const amount = (v: bigint) => amountText(v, props.r);
  return (
    <dl
      class="exit-figures"
      data-testid={props.testid}
      data-entitlement={props.entitlement.toString()}
      data-subtracted={props.subtracted.toString()}
      data-amount={props.amount.toString()}
    >
      <dt>{t("ex.f_leaf")}</dt>
      <dd>{amount(props.entitlement)}</dd>
      <dt>{props.paidLabel}</dt>
      <dd>− {amount(props.subtracted)}</dd>
      {props.share && (
        <>
          <dt>{props.shareLabel ?? t("ex.f_share")}</dt>
          <dd>{props.share}</dd>
        </>
      )}
      <dt>{props.receiveLabel ?? t("ex.f_receive")}</dt>
      <dd>
        <strong data-testid={props.amountTestid}>{amount(props.amount)}</strong>
      </dd>
    </dl>
  );
}

/**
 * The member's part of the exit, in the stage the chain says (logic.js `memberStage`; contracts/EXIT.md §13): before
 * the opening what it will pay (or leaving alone, §12); during the claim window the claim, the most it can pay and the
 * window's end; once claimed, when it is payable and where it goes (the member may change that); after the window the
 * payout anyone may send, then what was paid; a member for whom no claim was made before the end is told so.
 */
function MemberExit(props: {
  r: ExitRead;
  proof: ExitProof;
  busy: string | null;
  payTo: string;
  setPayTo: (s: string) => void;
  toOther: boolean;
  sameMember: boolean;
  onClaim: () => void;
  onPayOut: () => void;
  redirectTo: string;
  setRedirectTo: (s: string) => void;
  onRedirect: () => void;
  done: Done | null;
  leavePlan: LeavePlan | null;
  onCheckLeave: () => void;
  onLeave: () => void;
}) {
  const { r, proof } = props;
  const amount = (v: bigint) => amountText(v, r);
  const o = r.opening;
  const w = r.window;
  const m = r.member;
  const c = r.claim;
  const member = displayAddress(r.chainId, proof.member);
  const stage = memberStage({ open: o.open, left: !!r.leave?.left, window: w, claim: c });
  const preview = r.preview && !("refused" in r.preview) ? r.preview : null;
  // What the claim pays (or paid): previewExit's figure, which is the contract's own share of the claim's due.
  const payout = preview ? preview.amount : c ? shareOf(c.due, o.custody, w.proven) : 0n;
  const attrs = {
    "data-testid": "exit-member",
    "data-stage": stage,
    "data-exited": String(!!m?.exited),
    "data-epoch-matches": String(!!r.proofCheck?.matches),
    // The commitment the page read: the chain may commit the next one a moment later.
    "data-against-epoch": r.proofCheck ? r.proofCheck.epoch.toString() : "",
    "data-claim-due": c ? c.due.toString() : "",
    "data-claim-to": c && c.due > 0n ? c.to : "",
  };
  if (stage === "left")
    return (
      <div {...attrs}>
        <p class="ok" data-testid="exit-done">
          {props.done?.kind === "leave" ? t("ex.done_left_tx", { member, id: props.done.id }) : t("ex.done_left", { member })}
        </p>
      </div>
    );
  const check = r.proofCheck;
  const epochWords =
    check && !check.matches ? (
      <p class="field-error" role="alert" data-testid="exit-proof-stale">
        {proof.epoch !== check.epoch
          ? t(o.open ? "ex.proof_other_epoch_opened" : "ex.proof_other_epoch", { proof: plain(proof.epoch), epoch: plain(check.epoch) })
          : t("ex.proof_other_tree", { epoch: plain(check.epoch) })}
      </p>
    ) : null;
  if (stage === "not_open")
    return (
      <div {...attrs}>
        {epochWords}
        {r.leave?.open ? (
          <LeaveNow {...props} />
        ) : (
          <p>{t(r.batches.lastBatchBlock > 0n ? "ex.will_receive_batches" : "ex.will_receive", { amount: amount(proof.entitlement) })}</p>
        )}
      </div>
    );
  if (stage === "missed")
    return (
      <div {...attrs}>
        <p class="field-error" data-testid="exit-missed">
          {t("ex.missed", { end: when(w.end), member })}
        </p>
      </div>
    );
  const to = c && c.due > 0n ? displayAddress(r.chainId, c.to) : member;
  if (stage === "paid")
    return (
      <div {...attrs}>
        <p class="ok" data-testid="exit-paid" data-amount={payout.toString()} data-to={c?.to ?? ""}>
          {props.done?.kind === "payout"
            ? t("ex.paid_to_tx", { amount: amount(payout), to, member, id: props.done.id })
            : t("ex.paid_to", { amount: amount(payout), to, member })}
        </p>
      </div>
    );
  const refused =
    r.preview && "refused" in r.preview ? (
      <p class="field-error" role="alert" data-testid="exit-preview-refused">
        {r.preview.refused}
      </p>
    ) : null;
  // The share of the figures: as it stands, with this member's due counted when they have not claimed yet.
  const sharePercent = (due: bigint) => {
    const f = fractionOf(o.custody, c && c.due > 0n ? w.proven : w.proven + due);
    return f.full ? undefined : percentText(f.text);
  };
  const figures = (final: boolean) =>
    preview && (
      <Figures
        testid="exit-preview"
        amountTestid="exit-amount"
        r={r}
        entitlement={preview.entitlement}
        subtracted={preview.subtracted}
        amount={preview.amount}
        paidLabel={t("ex.f_paid_after")}
        share={sharePercent(preview.entitlement - preview.subtracted)}
        shareLabel={final ? undefined : t("ex.f_share_now")}
        receiveLabel={final ? undefined : t("ex.f_at_most")}
      />
    );
  const redirect = <Redirect {...props} member={member} to={to} />;
  if (stage === "claimed")
    return (
      <div {...attrs}>
        <p class="ok" data-testid="exit-claimed">
          {t("ex.claimed", { due: amount(c!.due), member, end: chainTime(w.end, { roundUp: true }), to })}
        </p>
        {refused}
        {figures(false)}
        {preview && (
          <p class="muted" data-testid="exit-at-most">
            {t("ex.at_most", { amount: amount(preview.amount) })}
          </p>
        )}
        {redirect}
      </div>
    );
  if (stage === "payable")
    return (
      <div {...attrs}>
        <p data-testid="exit-payable" data-amount={payout.toString()}>
          {t("ex.payable", { due: amount(c!.due), member, amount: amount(payout), to })}
        </p>
        {refused}
        {figures(true)}
        <p class="muted">{t("ex.payout_anyone")}</p>
        <button type="button" class="primary" onClick={props.onPayOut} disabled={!!props.busy} data-testid="exit-payout">
          {t("ex.payout_send", { amount: amount(payout) })}
        </button>
        {redirect}
      </div>
    );
  // stage "claim": the window runs, no claim yet.
  const dueNow = preview ? preview.entitlement - preview.subtracted : null;
  return (
    <div {...attrs}>
      {epochWords}
      <p data-testid="exit-claim-intro">
        <strong>{t("ex.claim_intro", { end: when(w.end) })}</strong>
      </p>
      {o.batchesToFold.toLowerCase() !== ZERO_HASH && <p>{t("ex.fold_first")}</p>}
      {refused}
      {preview && (
        <>
          {figures(false)}
          <p class="muted" data-testid="exit-at-most">
            {t("ex.at_most", { amount: amount(preview.amount) })}
          </p>
          <PayTo {...props} id="exit-to" member={member} what="exit" />
          <button
            type="button"
            class="primary"
            onClick={props.onClaim}
            disabled={!!props.busy || (props.toOther && !props.sameMember) || !!epochWords || dueNow === 0n}
            data-testid="exit-claim"
          >
            {t("ex.claim_send", { amount: amount(preview.amount) })}
          </button>
        </>
      )}
    </div>
  );
}

/** Where a claim's payout goes, changed by the member from their own wallet, until it is paid (`redirect`). */
function Redirect(props: {
  member: string;
  to: string;
  sameMember: boolean;
  busy: string | null;
  redirectTo: string;
  setRedirectTo: (s: string) => void;
  onRedirect: () => void;
}) {
  return (
    <div class="exit-redirect" data-testid="exit-redirect">
      <label for="exit-redirect-to">{t("ex.redirect_label")}</label>
      <input
        id="exit-redirect-to"
        value={props.redirectTo}
        onInput={(e) => props.setRedirectTo((e.currentTarget as HTMLInputElement).value)}
        placeholder={props.to}
        data-testid="exit-redirect-to"
      />
      <p class="muted">{props.sameMember ? t("ex.redirect_help") : t("ex.redirect_only_member", { member: props.member })}</p>
      <button type="button" onClick={props.onRedirect} disabled={!!props.busy || !props.sameMember || props.redirectTo.trim() === ""} data-testid="exit-redirect-send">
        {t("ex.redirect_send")}
      </button>
    </div>
  );
}

/** Where the exit or the leave pays: the member's own address by default; another only from the member's own wallet. */
function PayTo(props: { id: string; payTo: string; setPayTo: (s: string) => void; toOther: boolean; sameMember: boolean; member: string; what: "exit" | "leave" }) {
  return (
    <>
      <label for={props.id}>{t("ex.pay_to")}</label>
      <input id={props.id} value={props.payTo} onInput={(e) => props.setPayTo((e.currentTarget as HTMLInputElement).value)} data-testid={props.id} />
      {props.what === "exit" && <p class="muted">{t("ex.pay_to_help", { member: props.member })}</p>}
      {props.toOther && !props.sameMember && (
        <p class="field-error" role="alert">
          {t(props.what === "exit" ? "ex.only_member_exit" : "ex.only_member_leave", { member: props.member })}
        </p>
      )}
    </>
  );
}

/**
 * Leaving alone while a change of power is pending (contracts/EXIT.md §12): what it pays, worked out on request (the
 * batches since the commitment are read from the chain), and the one button that sends it.
 */
function LeaveNow(props: {
  r: ExitRead;
  proof: ExitProof;
  busy: string | null;
  payTo: string;
  setPayTo: (s: string) => void;
  toOther: boolean;
  sameMember: boolean;
  leavePlan: LeavePlan | null;
  onCheckLeave: () => void;
  onLeave: () => void;
}) {
  const { r, proof } = props;
  const amount = (v: bigint) => amountText(v, r);
  const member = displayAddress(r.chainId, proof.member);
  const plan = props.leavePlan;
  const stale = !r.proofCheck?.matches;
  const pending = r.leave?.pending ?? 0n;
  const title: ComponentChildren = <strong>{t("ex.leave_title", { count: Number(pending > 1n ? pending : 1n) })}</strong>;
  return (
    <div data-testid="exit-leave" data-pending={pending.toString()}>
      <p>{tx(pending > 1n ? "ex.leave_text_many" : "ex.leave_text", { title })}</p>
      {stale ? (
        <p class="muted">{t("ex.leave_stale", { epoch: plain(r.latest.epoch) })}</p>
      ) : !plan ? (
        <button type="button" onClick={props.onCheckLeave} disabled={!!props.busy} data-testid="exit-leave-check">
          {t("ex.leave_check")}
        </button>
      ) : "refused" in plan ? (
        <p class="field-error" role="alert" data-testid="exit-leave-refused">
          {plan.refused}
        </p>
      ) : (
        <>
          <Figures
            testid="exit-leave-preview"
            amountTestid="exit-leave-amount"
            r={r}
            entitlement={plan.entitlement}
            subtracted={plan.subtracted}
            amount={plan.amount}
            paidLabel={t("ex.f_paid_since", { count: plan.batches.length })}
          />
          <PayTo {...props} id="exit-leave-to" member={member} what="leave" />
          <button
            type="button"
            class="primary"
            onClick={props.onLeave}
            disabled={!!props.busy || (props.toOther && !props.sameMember) || plan.amount === 0n}
            data-testid="exit-leave-send"
          >
            {t("ex.leave_send", { amount: amount(plan.amount) })}
          </button>
        </>
      )}
    </div>
  );
}

startExitLocale();
render(<App />, document.getElementById("app")!);
