// The members' exit (contracts/EXIT.md §7): one self-contained page (exit.html, built into dist/exit.html with every
// script and style inlined: it runs from a file:// URL or from any host, and the backend serves it at /exit.html). It
// takes the member's proof file, reads the chain and sends through the member's own wallet only (src/exit/wallets.ts:
// MetaMask-like EIP-1193 wallets, TronLink), and acts only at a Settlement contract this build carries for the
// wallet's network (the deployment records, lib/networks-build.ts — the dApp's verifier's rule: never a contract the
// proof or an operator's server names; after an upgrade each replaced contract too, each with its own exit). It shows
// when the exit opens, lets anyone open it once due and fold the payout batches since the commitment (rebuilt from the
// chain's logs and calldata, checked against the running hash the exit waits for), shows what the member will receive
// (`previewExit`) and sends `exit`. Every write goes through one transactor (`transact`): a dry run first, one action
// at a time, a sent transaction remembered across a reload (never sent twice), the state read again after each.
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
  settlementExitOpenExitAbi,
  settlementExitOpenExitSignature,
  settlementExitOpeningAbi,
  settlementExitOpeningSignature,
  settlementExitOpensAtAbi,
  settlementExitOpensAtSignature,
  settlementExitPreviewExitAbi,
  settlementExitPreviewExitSignature,
  settlementExitPreviewLeaveAbi,
  settlementExitPreviewLeaveSignature,
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
  readProof,
  revertWords,
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
  const [exitAfter, opensAt, pausedSince, commitTime, latestRaw, batchesRaw, allowed, openingRaw, clock] = await Promise.all([
    view(w, s, settlementExitAfterAbi, settlementExitAfterSignature),
    view(w, s, settlementExitOpensAtAbi, settlementExitOpensAtSignature, [token]),
    view(w, s, settlementPausedSinceAbi, settlementPausedSinceSignature),
    view(w, s, settlementLatestCommitTimeAbi, settlementLatestCommitTimeSignature, [token]),
    view(w, s, settlementLatestLiabilitiesAbi, settlementLatestLiabilitiesSignature, [token]),
    view(w, s, settlementBatchesSinceCommitmentAbi, settlementBatchesSinceCommitmentSignature, [token]),
    view(w, s, settlementWasEverAllowedAbi, settlementWasEverAllowedSignature, [token]),
    view(w, exits, settlementExitOpeningAbi, settlementExitOpeningSignature, [token]),
    w.clock(),
  ]);
  const [root, total, epoch, asOfBlock, commitBlock] = latestRaw as [Hex, bigint, bigint, bigint, bigint, bigint];
  const [head, lastBatchBlock] = batchesRaw as [Hex, bigint];
  const [open, oEpoch, oRoot, oTotal, owed, custody, batchesToFold, paid] = openingRaw as [boolean, bigint, Hex, bigint, bigint, bigint, Hex, bigint];
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
  if (proof) {
    const [paidAfterCommitment, exited] = (await view(w, exits, settlementExitMemberExitAbi, settlementExitMemberExitSignature, [token, proof.member])) as [bigint, boolean];
    member = { hex: proof.member, paidAfterCommitment, exited };
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
    if (open && batchesToFold.toLowerCase() === ZERO_HASH && !exited) {
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

/** Replaced at build time (vite.exit.config.ts): each network's USDT, from the deployment records. */
declare const __BUILD_TOKENS__: readonly { chain_id: number; usdt: string | null }[];

/** An asset offered as a button: a token this build knows on the wallet's network (or the native coin). */
interface AssetChoice {
  token: Address;
  symbol: string;
  native: boolean;
}

const erc20Fn = (fn: "symbol" | "decimals") => erc20Abi.filter((x) => x.type === "function" && x.name === fn) as unknown as OneFunction;

/**
 * The plan's assets on the wallet's network, to pick from instead of typing a token address: the network's native
 * coin, the USDT of the build's deployment record, and the token of every proof the dApp kept in this browser — each
 * only when the contract ever allowed it (`wasEverAllowed`, read through the wallet; kept when that read fails), its
 * symbol from the proof, the page's table or the token itself.
 */
async function assetChoices(w: ExitWallet, chainId: number, contract: BuildContractRef, saved: SavedProof[]): Promise<AssetChoice[]> {
  const candidates = new Map<string, string | null>([[NATIVE_TOKEN, nativeOf(chainId).symbol]]);
  for (const r of __BUILD_TOKENS__) if (r.chain_id === chainId && r.usdt) candidates.set(getAddress(r.usdt), candidates.get(getAddress(r.usdt)) ?? null);
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
}

interface Pending {
  id: string;
  what: string;
  at: number;
}

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
  const [paid, setPaid] = useState<{ id: string } | null>(null);
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
      if (pendingStore.get(a.key)) {
        setMessage({ kind: "info", text: t("ex.already_sent", { what: cap(a.what) }) });
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
      const id = await wallet.send(a.to, a.signature, a.data, a.what);
      pendingStore.set(a.key, { id, what: a.what, at: Date.now() });
      setMessage({ kind: "info", text: t("ex.sent", { what: cap(a.what), id }) });
      try {
        await wallet.mined(id);
      } finally {
        pendingStore.clear(a.key);
      }
      setMessage({ kind: "ok", text: t("ex.mined", { what: cap(a.what), id }) });
      if (a.key.includes(":exit:") || a.key.includes(":leave:")) setPaid({ id });
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
    setPaid(null);
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

  /** The address typed to be paid, or null (the page says why). */
  const payToAddress = () => {
    const to = parseAnyAddress(payTo.trim());
    if (!to) setMessage({ kind: "error", text: t("ex.not_pay_to", { text: payTo }) });
    return to;
  };

  /** Whether the member took their due from the exit contract already (an exit or a leave): `said` if so. */
  const paidAlready = async (said: "ex.exited_already" | "ex.left_already"): Promise<string | null> => {
    if (!read || !proof || !wallet) return null;
    const [, exited] = (await view(wallet, read.exits, settlementExitMemberExitAbi, settlementExitMemberExitSignature, [read.target.token, proof.member])) as [bigint, boolean];
    return exited ? t(said, { member: displayAddress(read.chainId, proof.member) }) : null;
  };

  const sendExit = () => {
    if (!read || !proof || !wallet) return;
    const to = payToAddress();
    if (!to) return;
    void transact({
      key: `${keyBase()}exit:${proof.member.toLowerCase()}`,
      what: t("ex.what_exit"),
      to: read.exits,
      signature: settlementExitExitSignature,
      data: callData(settlementExitExitAbi, [read.target.token, proof.leaf, proof.index, proof.siblings, getAddress(to)]),
      stillNeeded: () => paidAlready("ex.exited_already"),
    });
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
    const to = payToAddress();
    if (!to) return;
    void transact({
      key: `${keyBase()}leave:${proof.member.toLowerCase()}`,
      what: t("ex.what_leave"),
      to: read.exits,
      signature: settlementExitLeaveSignature,
      data: callData(settlementExitLeaveAbi, [read.target.token, proof.leaf, proof.index, proof.siblings, leavePlan.batches, getAddress(to)]),
      stillNeeded: () => paidAlready("ex.left_already"),
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
            onExit={sendExit}
            paid={paid}
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
  const fraction = fractionOf(o.custody, o.owed);
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
            {tx("ex.open_facts", {
              open: <strong>{t("ex.open_is")}</strong>,
              epoch: plain(o.epoch),
              root: <code title={o.root}>{o.root.slice(0, 10)}…</code>,
              total: amount(o.total),
              owed: amount(o.owed),
              custody: amount(o.custody),
            })}{" "}
            {fraction.full ? (
              t("ex.covered")
            ) : (
              <span data-testid="exit-fraction">{tx("ex.short", { share: <strong>{percentText(fraction.text)}</strong> })}</span>
            )}{" "}
            {t("ex.paid_so_far", { paid: amount(o.paid) })}
          </p>
          {toFold ? (
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
        </div>
      ) : (
        <div data-testid="exit-closed-facts">
          <p>
            <strong>{t("ex.not_open")}</strong>{" "}
            {due ? t("ex.due", { since: when(r.opensAt) }) : t("ex.not_due", { from: chainTime(r.opensAt, { roundUp: true }), left: span(r.opensAt - r.clock.time) })}
          </p>
          <button type="button" class="primary" onClick={props.onOpen} disabled={!due || !!props.busy || !r.allowed} data-testid="exit-open">
            {t("ex.open")}
          </button>
        </div>
      )}
    </div>
  );
}

/** The figures of what an exit or a leave pays: the leaf, less what batches paid, the share custody covers, the sum. */
function Figures(props: { testid: string; entitlement: bigint; subtracted: bigint; amount: bigint; amountTestid: string; paidLabel: string; share?: string; r: ExitRead }) {
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
          <dt>{t("ex.f_share")}</dt>
          <dd>{props.share}</dd>
        </>
      )}
      <dt>{t("ex.f_receive")}</dt>
      <dd>
        <strong data-testid={props.amountTestid}>{amount(props.amount)}</strong>
      </dd>
    </dl>
  );
}

function MemberExit(props: {
  r: ExitRead;
  proof: ExitProof;
  busy: string | null;
  payTo: string;
  setPayTo: (s: string) => void;
  toOther: boolean;
  sameMember: boolean;
  onExit: () => void;
  paid: { id: string } | null;
  leavePlan: LeavePlan | null;
  onCheckLeave: () => void;
  onLeave: () => void;
}) {
  const { r, proof } = props;
  const amount = (v: bigint) => amountText(v, r);
  const o = r.opening;
  const m = r.member;
  const member = displayAddress(r.chainId, proof.member);
  const attrs = {
    "data-testid": "exit-member",
    "data-exited": String(!!m?.exited),
    "data-epoch-matches": String(!!r.proofCheck?.matches),
    // The commitment the page read: the chain may commit the next one a moment later.
    "data-against-epoch": r.proofCheck ? r.proofCheck.epoch.toString() : "",
  };
  if (m?.exited)
    return (
      <div {...attrs}>
        <p class="ok" data-testid="exit-done">
          {props.paid
            ? t(r.leave?.left ? "ex.done_left_tx" : "ex.done_exited_tx", { member, id: props.paid.id })
            : t(r.leave?.left ? "ex.done_left" : "ex.done_exited", { member })}
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
  if (!o.open && r.leave?.open)
    return (
      <div {...attrs}>
        {epochWords}
        <LeaveNow {...props} />
      </div>
    );
  if (!o.open)
    return (
      <div {...attrs}>
        {epochWords}
        <p>{t(r.batches.lastBatchBlock > 0n ? "ex.will_receive_batches" : "ex.will_receive", { amount: amount(proof.entitlement) })}</p>
      </div>
    );
  const preview = r.preview;
  const fraction = fractionOf(o.custody, o.owed);
  return (
    <div {...attrs}>
      {epochWords}
      {o.batchesToFold.toLowerCase() !== ZERO_HASH && <p>{t("ex.fold_first")}</p>}
      {preview && "refused" in preview && (
        <p class="field-error" role="alert" data-testid="exit-preview-refused">
          {preview.refused}
        </p>
      )}
      {preview && !("refused" in preview) && (
        <>
          <Figures
            testid="exit-preview"
            amountTestid="exit-amount"
            r={r}
            entitlement={preview.entitlement}
            subtracted={preview.subtracted}
            amount={preview.amount}
            paidLabel={t("ex.f_paid_after")}
            share={fraction.full ? undefined : percentText(fraction.text)}
          />
          <PayTo {...props} id="exit-to" member={member} what="exit" />
          <button type="button" class="primary" onClick={props.onExit} disabled={!!props.busy || (props.toOther && !props.sameMember) || !!epochWords || preview.amount === 0n} data-testid="exit-send">
            {t("ex.exit_send", { amount: amount(preview.amount) })}
          </button>
        </>
      )}
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
