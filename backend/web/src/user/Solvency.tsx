// The public proof of solvency (SOLVENCY.md) in the dApp, loaded on demand (its own chunk, with the verifier):
// - the "Proof of solvency" page (`/#solvency`): per asset, the latest commitment as the operator's server reports it
//   — its claim, labelled so — and, with a wallet connected, the commitment read from the chain THROUGH THAT WALLET
//   (lib/solvency-chain.ts), beside it: custody against the total (a red INSOLVENT banner), the age against the
//   largest allowed (a red STALE banner), and a red banner when the server's epoch, root or total are not the chain's;
// - the badge of a signed-in user, per asset the wallet is registered in (the dashboard's cards, and this page): the
//   user's proof of the chain's latest epoch, folded by lib/solvency.js's verifier against the commitment read through
//   the wallet, "✓ your balance … is in epoch N's committed root; custody covers the total" or a red banner naming
//   the failed check, with the proof to download.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, publicCall } from "../lib/api";
import { human } from "../lib/format";
import { networkLabel } from "../lib/networks";
import { type Check, type VerifyResult, verifyProof } from "../lib/solvency.js";
import { type ChainCommitmentRead, CannotReadError, ageOf, cannotReadText, readCommitment, readerProblem } from "../lib/solvency-chain";
import { type AnyConnection, assetKey, chainAddress, isTronChain, networkText } from "../lib/tron";
import type { AssetSolvency, EpochView, Profile, SolvencyOverview, SolvencyProofAnswer } from "../lib/types";
import { LoadFailed, errorText, useConnection, useSignedIn } from "../ui/account";
import { Addr, Amount, AssetAmt, Loading, Notice, TxHash, useLoad } from "../ui/bits";

/** A chain epoch the server has not reported yet is "not recorded yet" this many blocks after its commit; past it, a mismatch. */
const RECORD_GRACE_BLOCKS = 40n;
/** How often, and how many times, the page asks again while the server has not recorded the chain's epoch. */
const RECORD_POLL_MS = 3_000;
const RECORD_POLLS = 30;
/** No interval configured for the asset: no age is too old. */
const NO_MAX_AGE = (1n << 63n) - 1n;

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

type NoteReason = "wallet" | "network" | "walletconnect" | "no_asset" | "no_epoch" | "next_epoch" | "not_recorded";

type Status =
  | { kind: "checking"; text: string }
  | { kind: "note"; reason: NoteReason; text: string; asset?: AssetSolvency; read?: ChainCommitmentRead }
  | { kind: "excluded"; read: ChainCommitmentRead; asset: AssetSolvency }
  | { kind: "verified"; proof: SolvencyProofAnswer; result: VerifyResult; read: ChainCommitmentRead; asset: AssetSolvency }
  | { kind: "error"; text: string };

export interface BadgeProps {
  assetId: number;
  symbol: string;
  chainId: number;
  /** The profile's registration block in this asset (null: the genesis user, there from the start). */
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
    read = await readCommitment(c, asset);
  } catch (e) {
    if (e instanceof CannotReadError) set({ kind: "note", reason: e.problem.reason, text: e.message, asset });
    else set({ kind: "error", text: `Could not read the commitment through ${c.name}: ${errorText(e)}` });
    return;
  }
  if (!live()) return;
  if (read.epoch === 0n) {
    set({ kind: "note", reason: "no_epoch", text: `Nothing is committed on the chain for ${name} yet: the first epoch will include your balance.`, asset, read });
    return;
  }
  // Joined after the epoch's balances were read: not a leaf of it (nothing to ask the server).
  if (p.registeredBlock != null && BigInt(p.registeredBlock) > read.asOfBlock) {
    set({
      kind: "note",
      reason: "next_epoch",
      text: `You joined at block ${p.registeredBlock}, after the balances of epoch ${read.epoch} (block ${read.asOfBlock}) were read: you will be in the next epoch.`,
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
    if (e instanceof ApiError && e.code === "not_in_epoch") set({ kind: "excluded", read, asset });
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
    maxAgeBlocks: asset.max_age_blocks != null ? BigInt(asset.max_age_blocks) : NO_MAX_AGE,
    chainId: read.chainId ?? undefined,
    contract: asset.contract_hex as `0x${string}`,
    token: asset.token_hex as `0x${string}`,
    user: p.address as `0x${string}`,
  });
  set({ kind: "verified", proof, result, read, asset });
}

/** The order in which a failed check is named first: the cause before its consequences. */
const PRIORITY: Check["id"][] = ["commitment", "format", "range", "shape", "context", "fold", "epoch", "layout", "root", "total", "fresh", "solvent"];

/** A failed check, in plain words, as the banner's title. */
function headline(c: Check, read: ChainCommitmentRead, maxAge: bigint | null): string {
  switch (c.id) {
    case "commitment":
      return "The commitment read from the chain is unreadable";
    case "format":
      return "The server's proof file is malformed";
    case "range":
      return "The proof holds an amount of 2^128 or more, which no balance or sum can be";
    case "shape":
      return "The proof's tree does not hold together";
    case "context":
      return "The proof is not about your wallet, this chain or this token";
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
      return `STALE: the chain's latest commitment is ${ageOf(read)} blocks old, more than the ${maxAge ?? "?"} allowed`;
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
    case "excluded": {
      const when = p.registeredBlock == null ? "You have been a user since the start" : `You joined at block ${p.registeredBlock}`;
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
      const maxAge = asset.max_age_blocks != null ? BigInt(asset.max_age_blocks) : null;
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
          Balances as of block {read.asOfBlock.toString()}; root <Hash h={read.root} testid="solvency-root" /> committed at block{" "}
          {read.commitBlock.toString()} ({ageOf(read).toString()} blocks ago) with {amount(read.custody)} in custody for {amount(read.total)} owed
          to all users — read through {read.via} from the contract <Addr a={chainAddress(asset.chain_id, read.contract)} chainId={asset.chain_id} /> on{" "}
          {networkLabel(asset.chain_id)}.
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
            {headline(first, read, maxAge)}
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
    if (ageOf(read) <= RECORD_GRACE_BLOCKS) return { kind: "behind", server: api?.epoch ?? null };
    return {
      kind: "mismatch",
      what: "an old epoch",
      details: [
        `The chain committed epoch ${read.epoch} at block ${read.commitBlock}, ${ageOf(read)} blocks ago; the server still reports ${api ? `epoch ${api.epoch}` : "none"}.`,
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
        its own) and compares.
      </p>
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
  const claim = !read || !cmp ? "the operator's claim, not checked" : cmp.kind === "match" ? "matches the chain" : cmp.kind === "mismatch" ? "differs from the chain" : "not checked yet";
  return (
    <article class="card" data-testid={`solvency-${key}`} data-asset-id={a.asset_id} aria-labelledby={`solvency-${key}-title`}>
      <h3 id={`solvency-${key}-title`}>
        {a.symbol}
        <span class="muted"> on {networkText(a.chain_id)}</span>
      </h3>
      <section aria-label={`${a.symbol}: what the operator's server says`} data-testid="api-claim">
        <h4>
          What the operator's server says{" "}
          <span class={`badge claim ${cmp?.kind ?? "unchecked"}`} data-testid="claim-label">
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
  const age = ageOf(read);
  const maxAge = a.max_age_blocks != null ? BigInt(a.max_age_blocks) : null;
  const stale = maxAge !== null && age > maxAge;
  const solvent = read.custody >= read.total;
  const committed = read.epoch > 0n;
  return (
    <>
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
            <Figure label="Age" testid="chain-age" age={age.toString()}>
              {age.toString()} blocks <span class="muted">(block {read.commitBlock.toString()}; head {read.head.toString()})</span>
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
            The latest commitment was made {age.toString()} blocks ago (block {read.commitBlock.toString()}), more than the {String(maxAge)} allowed: the
            operator has not committed a recent one, so it may no longer reflect what is owed.
          </Notice>
        ) : (
          <Notice kind="ok" testid="chain-fresh">
            Committed {age.toString()} blocks ago{maxAge !== null ? `, within the ${maxAge} allowed` : ""}.
          </Notice>
        ))}
      {cmp.kind === "match" && (
        <Notice kind="ok" testid="api-match">
          The server's epoch, block, root, total and custody are the chain's.
        </Notice>
      )}
      {cmp.kind === "behind" && (
        <Notice kind="info" testid="api-behind">
          The chain holds epoch {read.epoch.toString()}, committed {age.toString()} blocks ago; the server reports{" "}
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
