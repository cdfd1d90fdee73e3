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

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, publicCall } from "../lib/api";
import { human } from "../lib/format";
import { networkLabel } from "../lib/networks";
import { type Check, type VerifyResult, verifyProof } from "../lib/solvency.js";
import {
  type ChainCommitmentRead,
  type PendingChange,
  type PendingChangesRead,
  CannotReadError,
  ageOf,
  cannotReadText,
  commitAgeOf,
  readCommitment,
  readPendingChanges,
  readerProblem,
  servedContractMatches,
} from "../lib/solvency-chain";
import { type AnyConnection, assetKey, chainAddress, isTronChain, networkText } from "../lib/tron";
import type { AssetSolvency, EpochView, Profile, SolvencyOverview, SolvencyProofAnswer } from "../lib/types";
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

/** Saves `value` as a JSON file (a download the browser makes from the page's memory: nothing is fetched). */
function saveJson(name: string, value: unknown) {
  const url = URL.createObjectURL(new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const proofFileName = (p: { symbol?: string; epoch?: number; user?: string }) =>
  `solvency-proof-${p.symbol ?? "asset"}-epoch${p.epoch ?? "latest"}-${(p.user ?? "").toLowerCase()}.json`;

// ── the user's badge ───────────────────────────────────────────────────────────────────────────────────────────────

type NoteReason =
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

type Status =
  | { kind: "checking"; text: string }
  | { kind: "note"; reason: NoteReason; text: string; asset?: AssetSolvency; read?: ChainCommitmentRead }
  /** The server names a contract other than the build's, or a token the contract never allowed: nothing it serves is checked. */
  | { kind: "untrusted"; check: "contract" | "allowed"; read: ChainCommitmentRead; asset: AssetSolvency }
  /** The server has no leaf for a user the contract registered before the epoch's block (null: the genesis user). */
  | { kind: "excluded"; read: ChainCommitmentRead; asset: AssetSolvency; joined: bigint | null }
  | { kind: "verified"; proof: SolvencyProofAnswer; result: VerifyResult; read: ChainCommitmentRead; asset: AssetSolvency }
  | { kind: "error"; text: string };

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
  if (!read.tokenEverAllowed) {
    set({ kind: "untrusted", check: "allowed", read, asset });
    return;
  }
  // The registration as the contract records it; the genesis user has none (the server says so: registeredBlock null).
  const joined = read.registeredAt !== null && read.registeredAt > 0n ? read.registeredAt : null;
  if (joined === null && p.registeredBlock != null) {
    set({
      kind: "note",
      reason: "not_registered",
      text: `The operator's server shows your registration in ${name} at block ${p.registeredBlock}, but the contract ${chainAddress(asset.chain_id, read.contract)} on ${networkLabel(read.chainId)} records none of yours: there is nothing of yours on this contract to check.`,
      asset,
      read,
    });
    return;
  }
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
  set({ kind: "verified", proof, result, read, asset });
}

/** The order in which a failed check is named first: the cause before its consequences. */
const PRIORITY: Check["id"][] = ["commitment", "format", "range", "shape", "contract", "allowed", "context", "fold", "epoch", "layout", "root", "total", "fresh", "solvent"];

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
    default:
      return c.detail;
  }
}

/**
 * The failed checks, most telling first (the information-only "solvent" counts here: an insolvency is a failure). A
 * leaf out of order whose sums still add up is a swapped order; when the sums do not add up either, the order broke
 * because the leaf itself changed (a lowered balance): then the root and the total come first.
 */
function failures(r: VerifyResult): Check[] {
  const failed = r.checks.filter((c) => !c.ok && (c.info !== true || c.id === "solvent"));
  const totalFailed = failed.some((c) => c.id === "total");
  const rank = (id: Check["id"]) => (id === "layout" && totalFailed ? PRIORITY.indexOf("total") + 0.5 : PRIORITY.indexOf(id));
  return failed.sort((a, b) => rank(a.id) - rank(b.id));
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
  return <BadgeView status={status} p={props} again={again} />;
}

function BadgeView(props: { status: Status; p: BadgeProps; again: () => void }) {
  const { status: s, p } = props;
  const [busy, setBusy] = useState(false);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const recheck = (
    <button type="button" onClick={props.again} disabled={s.kind === "checking"} data-testid="solvency-recheck">
      Check again
    </button>
  );
  // The proof as it was checked, byte for byte the JSON the server gave (for the command-line verifier, or as evidence).
  const save = (proof: SolvencyProofAnswer) => saveJson(proofFileName(proof), proof);
  const download = (proof: SolvencyProofAnswer) => (
    <button type="button" onClick={() => save(proof)} data-testid="solvency-download">
      Download the proof file
    </button>
  );
  // Without a check (a wallet that cannot read the chain): the latest proof, fetched when asked for.
  const fetchAndSave = async () => {
    setBusy(true);
    setDownloadError(null);
    try {
      save(await get<SolvencyProofAnswer>("/v1/users/solvency-proof", { asset_id: p.assetId }));
    } catch (e) {
      setDownloadError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const wrap = (children: ComponentChildren, attrs: Record<string, string | undefined> = {}) => (
    <div class="solvency-check" data-testid="solvency-check" data-state={s.kind} {...attrs}>
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
        </Notice>,
      );
    case "note":
      return wrap(
        <Notice kind="info" testid="solvency-note">
          <p>{s.text}</p>
          <div class="actions-row">
            {(s.reason === "walletconnect" || s.reason === "wallet") && (
              <button type="button" onClick={fetchAndSave} disabled={busy} data-testid="solvency-download">
                Download your latest proof file
              </button>
            )}
            {s.reason === "network" && (
              <button type="button" onClick={() => p.connection.ensureNetwork(p.chainId).catch((e) => setDownloadError(errorText(e)))} data-testid="solvency-switch">
                Switch to {networkLabel(p.chainId)}
              </button>
            )}
            {s.reason !== "wallet" && s.reason !== "walletconnect" && recheck}
          </div>
          {downloadError && <p class="field-error">{downloadError}</p>}
        </Notice>,
        { "data-reason": s.reason, "data-epoch": s.read?.epoch.toString(), "data-as-of": s.read?.asOfBlock.toString() },
      );
    case "untrusted": {
      const { read, asset } = s;
      const contract = <Addr a={chainAddress(asset.chain_id, read.contract)} chainId={asset.chain_id} testid="untrusted-contract" />;
      return wrap(
        <Notice kind="error" testid="solvency-failed">
          {s.check === "contract" ? (
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
          <div class="actions-row">{recheck}</div>
        </Notice>,
        { "data-state": "failed", "data-check": s.check },
      );
    }
    case "excluded": {
      const when = s.joined === null ? "You have been a user since the start" : `You joined at block ${s.joined}`;
      return wrap(
        <Notice kind="error" testid="solvency-failed">
          <p class="banner-title">You are not in the committed tree</p>
          <p>
            {when}, before the balances of epoch {s.read.epoch.toString()} were read (block {s.read.asOfBlock.toString()}), yet the operator's server
            says that epoch has no leaf for you. Every user must be a leaf, zero balances included: what you are owed is left out of
            the total the chain holds.
          </p>
          <div class="actions-row">{recheck}</div>
        </Notice>,
        { "data-state": "failed", "data-check": "excluded", "data-epoch": s.read.epoch.toString(), "data-as-of": s.read.asOfBlock.toString() },
      );
    }
    case "verified": {
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
      if (failed.length === 0) {
        return wrap(
          <Notice kind="ok" testid="solvency-ok">
            <p class="banner-title" data-testid="solvency-ok-text">
              ✓ Your balance of {amount(value ?? 0n)} is in epoch {read.epoch.toString()}'s committed root; custody covers the total.
            </p>
            {facts}
            {served && !served.ok && <p data-testid="solvency-served">{served.detail}</p>}
            {checks}
            <div class="actions-row">
              {download(proof)}
              {recheck}
            </div>
          </Notice>,
          { ...attrs, "data-state": "ok" },
        );
      }
      const first = failed[0];
      return wrap(
        <Notice kind="error" testid="solvency-failed">
          <p class="banner-title" data-testid="solvency-failed-title">
            {headline(first, read)}
          </p>
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
          {facts}
          {checks}
          <div class="actions-row">
            {download(proof)}
            {recheck}
          </div>
        </Notice>,
        { ...attrs, "data-state": "failed", "data-check": first.id },
      );
    }
  }
}

// ── the public page ────────────────────────────────────────────────────────────────────────────────────────────────

/** How the server's latest epoch stands against the chain's. */
type Comparison =
  | { kind: "none" }
  | { kind: "match" }
  | { kind: "behind"; server: number | null }
  | { kind: "mismatch"; what: string; details: string[] };

function compare(a: AssetSolvency, read: ChainCommitmentRead): Comparison {
  const api = a.latest;
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

function BadgeSection(props: { children: ComponentChildren }) {
  return (
    <section class="solvency-mine" aria-label="Your balance" data-testid="solvency-mine">
      <h4>Your balance</h4>
      {props.children}
    </section>
  );
}

type ReadState = { read?: ChainCommitmentRead; cannot?: CannotReadError; error?: string; loading: boolean };

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
    readCommitment(c, a).then(
      (read) => alive && setState({ read, loading: false }),
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
  const untrusted = read && (!servedContractMatches(read) || !read.tokenEverAllowed);
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
        {read && cmp && <ChainFigures a={a} read={read} cmp={cmp} recheck={props.reload} />}
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

function ChainFigures(props: { a: AssetSolvency; read: ChainCommitmentRead; cmp: Comparison; recheck: () => void }) {
  const { a, read, cmp } = props;
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
      {!read.tokenEverAllowed && (
        <Notice kind="error" testid="chain-token-never-allowed">
          <p class="banner-title">The contract never allowed the token the server names</p>
          <p>
            For {where(a)} the server names the token <code>{chainAddress(a.chain_id, read.token)}</code>, which the contract has never allowed: nobody can have
            paid into it in that token, and no commitment of its liabilities can be the contract's.
          </p>
        </Notice>
      )}
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
        <Figure label="Contract" wide>
          <Addr a={read.contract} chainId={a.chain_id} testid="chain-contract" />
        </Figure>
      </dl>
      {!committed && <Notice kind="info">Nothing is committed on the chain for {where(a)} yet.</Notice>}
      {committed &&
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
      {committed &&
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
      {cmp.kind === "match" && contractOk && read.tokenEverAllowed && (
        <Notice kind="ok" testid="api-match">
          The server's epoch, block, root, total and custody are the chain's.
        </Notice>
      )}
      {cmp.kind === "behind" && (
        <Notice kind="info" testid="api-behind">
          The chain holds epoch {read.epoch.toString()}, committed {commitAgeOf(read).toString()} blocks ago; the server reports{" "}
          {cmp.server === null ? "none yet" : `epoch ${cmp.server}`} until it records it (once its block is confirmed). Checking again…
        </Notice>
      )}
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
  const pending = state.read?.changes.length ?? 0;
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
  if (!read || read.changes.length === 0) return null;
  // The chain's clock now: its latest block's time, run on since it was read.
  const now = read.chainTime + BigInt(Math.max(0, Math.floor((Date.now() - read.readAtMs) / 1000)));
  const changes = [...read.changes].sort((x, y) => (x.readyAt < y.readyAt ? -1 : x.readyAt > y.readyAt ? 1 : 0));
  return (
    <section class="pending-changes" aria-label="Changes scheduled on the contract" data-testid="pending-changes" data-count={changes.length}>
      <Notice kind="warn">
        <p class="banner-title">
          {changes.length === 1 ? "A change" : `${changes.length} changes`} to who can move the contract's money, or how, {changes.length === 1 ? "is" : "are"}{" "}
          scheduled
        </p>
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
          {read.block.toString()}, {chainDateText(read.chainTime)}). Until then the admin can cancel it; the delay is there so that every member sees it coming.
        </p>
      </Notice>
    </section>
  );
}
