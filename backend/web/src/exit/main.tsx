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

import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Abi, type Address, type Hex, decodeFunctionResult, encodeFunctionData, erc20Abi, formatUnits, getAddress } from "viem";
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
import { buildNetworks } from "../lib/networks-build";
import { KNOWN, isTronNetwork, knownNetworkLabel } from "../lib/chains-known";
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
  spanText,
  utcText,
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
    throw new ExitInputError(
      `The contract ${displayAddress(chainId, s)} has no members' exit (it answers no exits()): it was deployed before the exit existed. ${e instanceof Error ? e.message : ""}`,
    );
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
      view(w, token, erc20("symbol"), "symbol()").catch(() => "tokens"),
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

function amountText(v: bigint, c: { symbol: string; decimals: number }) {
  return `${formatUnits(v, c.decimals)} ${c.symbol}`;
}

/** Any failure in words: a contract's refusal named (its custom error), a wallet's, or the page's own checks. */
function problemText(e: unknown, c?: { symbol: string; decimals: number; chainId: number }): string {
  if (e instanceof Reverted) {
    if (e.data)
      return revertWords(e.data, ERRORS, {
        amount: c ? (v) => amountText(v, c) : undefined,
        address: c ? (a) => displayAddress(c.chainId, a) : undefined,
      }).words;
    return `The contract refused: ${e.message}`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

const errorName = (e: unknown): string | undefined => (e instanceof Reverted && e.data ? revertWords(e.data, ERRORS).name : undefined);

// ── the transactor ──────────────────────────────────────────────────────────────────────────────────────────────

interface Action {
  /** Remembers a sent transaction across a reload: chain, exit contract, token, action (and member). */
  key: string;
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

function App() {
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
  const fromProof =
    proof && chainId !== null ? contractOfProof(buildNetworks(), chainId, proof, knownNetworkLabel) : null;
  const target: Target | null = proof ? (fromProof?.ok ? { contract: fromProof.contract, token: proof.token } : null) : auditTarget;

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

  // Read again whenever the wallet, its network, the proof or the auditor's target changes; resume a transaction a
  // reload left in flight (waited for, never sent again).
  useEffect(() => {
    setFoldInfo(null);
    setLeavePlan(null);
    void refresh().then(resume);
  }, [wallet, chainId, proof, auditTarget?.token, auditTarget?.contract.settlement]);

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
        setMessage({ kind: "info", text: `The ${p.what} sent before this page was reloaded (transaction ${p.id}) is being followed; nothing is sent again.` });
        try {
          await wallet.mined(p.id);
          setMessage({ kind: "ok", text: `The ${p.what} (transaction ${p.id}) is in the chain.` });
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
    setMessage({ kind: "info", text: `Checking the ${a.what} against the chain…` });
    const ctx = read ? { symbol: read.symbol, decimals: read.decimals, chainId: read.chainId } : undefined;
    try {
      if (pendingStore.get(a.key)) {
        setMessage({ kind: "info", text: `A ${a.what} was already sent from this page; it is being followed, not sent again.` });
        return false;
      }
      const done = await a.stillNeeded();
      if (done) {
        setMessage({ kind: "info", text: done });
        return false;
      }
      // A dry run from this account: a refusal is named and nothing is sent.
      await wallet.call(a.to, a.signature, a.data);
      setMessage({ kind: "info", text: `Confirm the ${a.what} in ${wallet.name}…` });
      const id = await wallet.send(a.to, a.signature, a.data, a.what);
      pendingStore.set(a.key, { id, what: a.what, at: Date.now() });
      setMessage({ kind: "info", text: `The ${a.what} was sent (transaction ${id}); waiting for it to be mined…` });
      try {
        await wallet.mined(id);
      } finally {
        pendingStore.clear(a.key);
      }
      setMessage({ kind: "ok", text: `The ${a.what} is in the chain (transaction ${id}).` });
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
      setMessage({ kind: "info", text: `Read ${source}.` });
    } catch (e) {
      setProof(null);
      setProofError(problemText(e));
    }
  };

  const onFile = async (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    loadProof(await file.text(), `the proof file ${file.name}`);
  };

  const readAudit = (e: Event) => {
    e.preventDefault();
    setProof(null);
    setProofError(null);
    if (!contracts) return;
    const text = tokenText.trim();
    const token = text === "" ? NATIVE_TOKEN : parseAnyAddress(text);
    if (!token) {
      setMessage({ kind: "error", text: `"${text}" is not a token address (0x… or T…); leave it empty for the native coin.` });
      return;
    }
    setAuditTarget({ contract: contracts[Math.min(contractChoice, contracts.length - 1)], token: getAddress(token) });
  };

  const openExit = () => {
    if (!read) return;
    void transact({
      key: `${keyBase()}open`,
      what: "opening of the exit",
      to: read.exits,
      signature: settlementExitOpenExitSignature,
      data: callData(settlementExitOpenExitAbi, [read.target.token]),
      stillNeeded: async () => {
        const now = await readExit(wallet!, read.chainId, read.target, null);
        return now.opening.open ? "The exit is already open (someone opened it meanwhile): nothing was sent." : null;
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
    setBusy("reading of the batches since the commitment");
    setMessage({ kind: "info", text: "Reading the payout batches executed since the commitment from the chain, through your wallet…" });
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
        what: chunks.length > 1 ? `fold of the payout batches (part ${i + 1} of ${chunks.length})` : "fold of the payout batches",
        to: read.exits,
        signature: settlementExitFoldBatchesSignature,
        data: callData(settlementExitFoldBatchesAbi, [read.target.token, batches]),
        stillNeeded: async () => {
          const now = await readExit(wallet, read.chainId, read.target, null);
          if (now.opening.batchesToFold.toLowerCase() === ZERO_HASH) return "Every batch is folded already (someone folded meanwhile): nothing was sent.";
          if (now.opening.batchesToFold.toLowerCase() !== first.link.toLowerCase()) return "Someone folded part of the batches meanwhile: read the chain again, then fold the rest.";
          return null;
        },
      });
      if (!ok) return;
    }
  };

  /** The address typed to be paid, or null (the page says why). */
  const payToAddress = () => {
    const to = parseAnyAddress(payTo.trim());
    if (!to) setMessage({ kind: "error", text: `"${payTo}" is not an address to pay to (0x… or T…).` });
    return to;
  };

  /** Whether the member took their due from the exit contract already (an exit or a leave): `said` if so. */
  const paidAlready = async (said: string): Promise<string | null> => {
    if (!read || !proof || !wallet) return null;
    const [, exited] = (await view(wallet, read.exits, settlementExitMemberExitAbi, settlementExitMemberExitSignature, [read.target.token, proof.member])) as [bigint, boolean];
    return exited ? `${displayAddress(read.chainId, proof.member)} ${said}, and nothing was sent.` : null;
  };

  const sendExit = () => {
    if (!read || !proof || !wallet) return;
    const to = payToAddress();
    if (!to) return;
    void transact({
      key: `${keyBase()}exit:${proof.member.toLowerCase()}`,
      what: "exit",
      to: read.exits,
      signature: settlementExitExitSignature,
      data: callData(settlementExitExitAbi, [read.target.token, proof.leaf, proof.index, proof.siblings, getAddress(to)]),
      stillNeeded: () => paidAlready("has already exited this asset: an exit is paid once"),
    });
  };

  const checkLeave = async () => {
    if (!read || !proof || !wallet || inFlight.current) return;
    setBusy("reading of the batches since the commitment");
    setMessage({ kind: "info", text: "Reading the payout batches executed since the latest commitment from the chain, through your wallet…" });
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
      what: "leave",
      to: read.exits,
      signature: settlementExitLeaveSignature,
      data: callData(settlementExitLeaveAbi, [read.target.token, proof.leaf, proof.index, proof.siblings, leavePlan.batches, getAddress(to)]),
      stillNeeded: () => paidAlready("has already left (or exited) this asset: it is paid once"),
    }).then(() => setLeavePlan(null));
  };

  // ── view ──
  const sameMember = !!(wallet && proof && wallet.hex.toLowerCase() === proof.member.toLowerCase());
  const payToHex = parseAnyAddress(payTo.trim());
  const toOther = !!(proof && payToHex && payToHex.toLowerCase() !== proof.member.toLowerCase());

  return (
    <main id="main" class="exit-page" aria-labelledby="exit-title">
      <h1 id="exit-title">Members' exit</h1>
      <p>
        If the operator of the referral plan stops — no commitment of what members are owed for the contract's exit period (fixed when it was deployed,
        at least 7 days on a real network; this page reads it from the contract below), or the contract stays paused that long — anyone may open the exit
        of an asset, and each member then takes from the contract what the latest
        commitment says the plan owes them. This page needs nothing from the operator: it reads the chain and sends only through your own wallet, and it
        acts only at the Settlement contracts it was built with.
      </p>

      <section aria-labelledby="exit-wallet-title">
        <h2 id="exit-wallet-title">1. Your wallet</h2>
        {!wallet && (
          <div class="actions-row">
            {found.map((f) => (
              <button type="button" key={f.info.uuid} onClick={() => connect(() => connectEvm(f))} data-testid="exit-connect-evm" data-wallet={f.info.name}>
                Connect {f.info.name}
              </button>
            ))}
            {tron && (
              <button type="button" onClick={() => connect(connectTron)} data-testid="exit-connect-tron">
                Connect TronLink
              </button>
            )}
            {found.length === 0 && !tron && <p data-testid="exit-no-wallet">No wallet found in this browser: install MetaMask (BNB Smart Chain) or TronLink (TRON), then reload this page.</p>}
          </div>
        )}
        {wallet && (
          <div data-testid="exit-wallet" data-chain={chainId ?? ""} data-account={wallet.hex}>
            <p>
              {wallet.name}: <code>{wallet.account}</code> on {chainId === null ? "a network it does not name" : knownNetworkLabel(chainId)}.{" "}
              <button type="button" onClick={async () => setChainId(await wallet.network())}>
                Read the network again
              </button>
            </p>
            {chainId !== null && contracts && (
              <p class="muted" data-testid="exit-contracts">
                This page was built with {contracts.length === 1 ? "the Settlement contract" : "these Settlement contracts"} for this network:{" "}
                {contracts.map((c, i) => (
                  <span key={c.settlement}>
                    {i > 0 && ", "}
                    <code>{displayAddress(chainId, c.settlement)}</code> ({c.live ? "live" : "replaced by an upgrade; its own exit"})
                  </span>
                ))}
                .
              </p>
            )}
            {chainId !== null && !contracts && (
              <p class="field-error" role="alert" data-testid="exit-unsupported">
                This page was built without a Settlement contract on {knownNetworkLabel(chainId)}: switch your wallet to the network of your proof, then read
                the network again.
              </p>
            )}
          </div>
        )}
      </section>

      <section aria-labelledby="exit-proof-title">
        <h2 id="exit-proof-title">2. Your proof</h2>
        <p>
          The proof file the dApp let you download after it checked your balance (<code>solvency-proof-….json</code>). Only a proof of the commitment the
          exit opens on can take it.
        </p>
        <label for="exit-proof-file">Proof file</label>
        <input id="exit-proof-file" type="file" accept=".json,application/json" onChange={onFile} data-testid="exit-proof-file" />
        {saved.length > 0 && (
          <div data-testid="exit-saved">
            <p>Or a proof the dApp saved in this browser:</p>
            <ul>
              {saved.map((s) => (
                <li key={s.key}>
                  <button type="button" onClick={() => loadProof(s.proof, `the proof saved ${new Date(s.savedAt).toLocaleString()}`)} data-testid="exit-use-saved">
                    Use {s.symbol} epoch {s.epoch} of {s.member}
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
              The balances of <code>{displayAddress(proof.chainId, proof.member)}</code> in {proof.symbol ?? "the asset"} (token{" "}
              <code>{proof.token === NATIVE_TOKEN ? "the native coin" : displayAddress(proof.chainId, proof.token)}</code>) in epoch {proof.epoch.toString()} (block{" "}
              {proof.asOfBlock.toString()}) of the contract <code>{displayAddress(proof.chainId, proof.contract)}</code> on {knownNetworkLabel(proof.chainId)}.
            </p>
            {proof.decimals !== null && proof.symbol && (
              <p>
                The exit counts reserved + held + pending + batched:{" "}
                <strong data-testid="exit-entitlement">{amountText(proof.entitlement, { symbol: proof.symbol, decimals: proof.decimals })}</strong>. Your claimable
                balance ({amountText(proof.leaf.claimable, { symbol: proof.symbol, decimals: proof.decimals })}) is not part of it: it stays yours to claim from the
                contract, as before.
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
            <p>No proof? Anyone (an auditor, a friend) can read an asset's exit and open it once it is due.</p>
            {contracts.length > 1 && (
              <>
                <label for="exit-contract">Contract</label>
                <select id="exit-contract" value={contractChoice} onChange={(e) => setContractChoice(Number((e.currentTarget as HTMLSelectElement).value))} data-testid="exit-contract">
                  {contracts.map((c, i) => (
                    <option key={c.settlement} value={i}>
                      {displayAddress(chainId!, c.settlement)} ({c.live ? "live" : "replaced"})
                    </option>
                  ))}
                </select>
              </>
            )}
            <label for="exit-token">Token address (0x… or T…; empty for the native coin)</label>
            <input id="exit-token" value={tokenText} onInput={(e) => setTokenText((e.currentTarget as HTMLInputElement).value)} data-testid="exit-token" />
            <button type="submit" data-testid="exit-read">
              Read this asset's exit
            </button>
          </form>
        )}
      </section>

      {wallet && target && (
        <section aria-labelledby="exit-state-title">
          <h2 id="exit-state-title">3. The exit</h2>
          {reading && !read && (
            <p class="muted" aria-busy="true">
              Reading the chain through {wallet.name}…
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
              Read the chain again
            </button>
          </div>
        </section>
      )}

      {wallet && read && proof && (
        <section aria-labelledby="exit-member-title">
          <h2 id="exit-member-title">4. Your exit</h2>
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

function ExitState(props: { r: ExitRead; busy: string | null; onOpen: () => void; onFold: () => void; foldInfo: { count: number; entries: number } | null }) {
  const { r } = props;
  const o = r.opening;
  const amount = (v: bigint) => amountText(v, r);
  const due = r.clock.time >= r.opensAt;
  const toFold = o.open && o.batchesToFold.toLowerCase() !== ZERO_HASH;
  const fraction = fractionOf(o.custody, o.owed);
  const tokenName = r.target.token === NATIVE_TOKEN ? `The native coin (${r.symbol})` : `${r.symbol} (${displayAddress(r.chainId, r.target.token)})`;
  return (
    <div
      data-testid="exit-state"
      data-open={String(o.open)}
      data-due={String(due)}
      data-opens-at={r.opensAt.toString()}
      data-batches-to-fold={o.batchesToFold}
      data-owed={o.owed.toString()}
      data-custody={o.custody.toString()}
      data-epoch={(o.open ? o.epoch : r.latest.epoch).toString()}
    >
      <p>
        {tokenName} at the {r.target.contract.live ? "live" : "replaced"} contract <code>{displayAddress(r.chainId, r.target.contract.settlement)}</code>, whose exit
        contract is <code>{displayAddress(r.chainId, r.exits)}</code>.
      </p>
      {!r.allowed && <p class="field-error">This contract never allowed this token: nothing of it is held for members here, and it has no exit.</p>}
      <p>
        {r.latest.epoch > 0n
          ? `The latest commitment is epoch ${r.latest.epoch} (the balances of block ${r.latest.asOfBlock}), committed at block ${r.latest.commitBlock} on ${utcText(r.commitTime)}.`
          : "Nothing was ever committed for this token."}{" "}
        The exit period is {spanText(r.exitAfter)}
        {r.pausedSince > 0n && `; the contract has been paused since ${utcText(r.pausedSince)}`}. The chain's clock reads {utcText(r.clock.time)} (block {r.clock.block.toString()}).
      </p>
      {o.open ? (
        <div data-testid="exit-open-facts">
          <p>
            <strong>The exit is open</strong>, on epoch {o.epoch.toString()} (root <code title={o.root}>{o.root.slice(0, 10)}…</code>, a total of {amount(o.total)}). The
            exits may pay {amount(o.owed)} in all, from the {amount(o.custody)} the contract handed over;{" "}
            {fraction.full ? (
              "custody covers it: every member is paid in full."
            ) : (
              <span data-testid="exit-fraction">
                custody is short: every member is paid <strong>{fraction.text}</strong> of what they are owed (rounded down).
              </span>
            )}{" "}
            Paid so far: {amount(o.paid)}.
          </p>
          {toFold ? (
            <>
              <p data-testid="exit-to-fold">
                Payout batches were executed after the commitment: before anyone exits, they must be folded (anyone may), so that the exit subtracts what they paid
                each member. The page rebuilds them from the chain's logs and their transactions, checks that they chain to the hash the exit waits for, and sends
                them.
              </p>
              <button type="button" class="primary" onClick={props.onFold} disabled={!!props.busy} data-testid="exit-fold">
                Fold the payout batches since the commitment
              </button>
            </>
          ) : (
            <p data-testid="exit-folded">Every payout batch since the commitment is folded: members can exit.</p>
          )}
          {props.foldInfo && (
            <p class="muted" data-testid="exit-fold-plan" data-count={props.foldInfo.count} data-entries={props.foldInfo.entries}>
              Rebuilt from the chain: {props.foldInfo.count} payout batch{props.foldInfo.count === 1 ? "" : "es"} ({props.foldInfo.entries}{" "}
              {props.foldInfo.entries === 1 ? "entry" : "entries"}) executed since the commitment, chaining to the hash the exit waited for.
            </p>
          )}
        </div>
      ) : (
        <div data-testid="exit-closed-facts">
          <p>
            <strong>The exit is not open.</strong>{" "}
            {due
              ? `It has been due since ${utcText(r.opensAt)}: anyone may open it now. Opening is for good: the contract then takes no registration, payout, treasury transfer or commitment in this token, and hands its custody (less what members can claim) to the exit.`
              : `It can be opened from ${utcText(r.opensAt)} (in ${spanText(r.opensAt - r.clock.time)}), if the operator commits nothing more for this token until then. While the operator keeps committing, it never opens.`}
          </p>
          <button type="button" class="primary" onClick={props.onOpen} disabled={!due || !!props.busy || !r.allowed} data-testid="exit-open">
            Open the exit
          </button>
        </div>
      )}
    </div>
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
          ✓ {member} has {r.leave?.left ? "left" : "exited"} this asset{props.paid ? ` (transaction ${props.paid.id})` : ""}. It is paid once: nothing more can be taken
          with this proof.
        </p>
      </div>
    );
  const check = r.proofCheck;
  const epochWords =
    check && !check.matches ? (
      <p class="field-error" role="alert" data-testid="exit-proof-stale">
        {proof.epoch !== check.epoch
          ? `Your proof is of epoch ${proof.epoch}, but the exit ${o.open ? "opened" : "would open"} on epoch ${check.epoch}: only a proof of epoch ${check.epoch} can exit. The dApp saves your latest checked proof each time you sign in; a proof of an older epoch cannot be used.`
          : `Your proof does not fold to the root of epoch ${check.epoch} the chain holds: it was altered, or it is of another tree.`}
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
        <p>
          Once the exit is open (and the batches since the commitment folded), you will receive {amount(proof.entitlement)} from your leaf, less what payout batches
          executed after the commitment paid you{r.batches.lastBatchBlock > 0n ? " (there were some)" : ""}, times the share custody covers.
        </p>
      </div>
    );
  const preview = r.preview;
  const fraction = fractionOf(o.custody, o.owed);
  return (
    <div {...attrs}>
      {epochWords}
      {o.batchesToFold.toLowerCase() !== ZERO_HASH && <p>Fold the payout batches first (above): the exit waits for them.</p>}
      {preview && "refused" in preview && (
        <p class="field-error" role="alert" data-testid="exit-preview-refused">
          {preview.refused}
        </p>
      )}
      {preview && !("refused" in preview) && (
        <>
          <dl class="exit-figures" data-testid="exit-preview" data-entitlement={preview.entitlement.toString()} data-subtracted={preview.subtracted.toString()} data-amount={preview.amount.toString()}>
            <dt>Your leaf owes you (reserved + held + pending + batched)</dt>
            <dd>{amount(preview.entitlement)}</dd>
            <dt>Paid to you by payout batches after the commitment</dt>
            <dd>− {amount(preview.subtracted)}</dd>
            {!fraction.full && (
              <>
                <dt>Share custody covers</dt>
                <dd>{fraction.text}</dd>
              </>
            )}
            <dt>You will receive</dt>
            <dd>
              <strong data-testid="exit-amount">{amount(preview.amount)}</strong>
            </dd>
          </dl>
          <label for="exit-to">Pay to</label>
          <input id="exit-to" value={props.payTo} onInput={(e) => props.setPayTo((e.currentTarget as HTMLInputElement).value)} data-testid="exit-to" />
          <p class="muted">
            Your own address {member} by default. Anyone may send your exit to you (a friend paying the fee); only you, from your own wallet, may send it to another
            address.
          </p>
          {props.toOther && !props.sameMember && (
            <p class="field-error" role="alert">
              Only the member may send their exit to another address: connect {member}'s wallet, or pay to {member}.
            </p>
          )}
          <button type="button" class="primary" onClick={props.onExit} disabled={!!props.busy || (props.toOther && !props.sameMember) || !!epochWords || preview.amount === 0n} data-testid="exit-send">
            Exit: receive {amount(preview.amount)}
          </button>
        </>
      )}
    </div>
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
  return (
    <div data-testid="exit-leave" data-pending={pending.toString()}>
      <p>
        <strong>
          {pending === 1n ? "A change" : pending > 1n ? `${pending} changes` : "A change"} to who can move this contract's money {pending > 1n ? "are" : "is"} scheduled
        </strong>{" "}
        (a new signer, a money role, an allowed token, new push gas, the end of a pause, or a new admin). Until {pending > 1n ? "they take" : "it takes"} effect, every member may
        leave now, alone, with nobody's permission: the contract pays you what the exit would pay you — your leaf of the latest commitment, less what payout
        batches since that commitment paid you, in full unless custody is short. Leaving is for good in this asset: afterwards nothing more is paid to you in it, and
        what the plan would credit you goes to the company.
      </p>
      {stale ? (
        <p class="muted">Only a proof of the latest commitment (epoch {r.latest.epoch.toString()}) can leave: sign in to the dApp to get it, or load it above.</p>
      ) : !plan ? (
        <button type="button" onClick={props.onCheckLeave} disabled={!!props.busy} data-testid="exit-leave-check">
          Work out what leaving pays me
        </button>
      ) : "refused" in plan ? (
        <p class="field-error" role="alert" data-testid="exit-leave-refused">
          {plan.refused}
        </p>
      ) : (
        <>
          <dl class="exit-figures" data-testid="exit-leave-preview" data-entitlement={plan.entitlement.toString()} data-subtracted={plan.subtracted.toString()} data-amount={plan.amount.toString()}>
            <dt>Your leaf owes you (reserved + held + pending + batched)</dt>
            <dd>{amount(plan.entitlement)}</dd>
            <dt>Paid to you by payout batches since the commitment ({plan.batches.length} {plan.batches.length === 1 ? "batch" : "batches"})</dt>
            <dd>− {amount(plan.subtracted)}</dd>
            <dt>You will receive</dt>
            <dd>
              <strong data-testid="exit-leave-amount">{amount(plan.amount)}</strong>
            </dd>
          </dl>
          <label for="exit-leave-to">Pay to</label>
          <input id="exit-leave-to" value={props.payTo} onInput={(e) => props.setPayTo((e.currentTarget as HTMLInputElement).value)} data-testid="exit-leave-to" />
          {props.toOther && !props.sameMember && (
            <p class="field-error" role="alert">
              Only the member may send their leave to another address: connect {member}'s wallet, or pay to {member}.
            </p>
          )}
          <button
            type="button"
            class="primary"
            onClick={props.onLeave}
            disabled={!!props.busy || (props.toOther && !props.sameMember) || plan.amount === 0n}
            data-testid="exit-leave-send"
          >
            Leave now: receive {amount(plan.amount)}
          </button>
        </>
      )}
    </div>
  );
}

render(<App />, document.getElementById("app")!);
