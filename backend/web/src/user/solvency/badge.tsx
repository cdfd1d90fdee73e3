// The badge of a signed-in member, per asset the wallet is registered in (the dashboard's cards, and the proof of
// solvency's page): runs the check (./check.ts) once mounted and again on "Check again", publishes its verdict for the
// pay buttons (src/ui/solvency-verdict.ts), and shows what it found — "✓ your balance … is in epoch N's committed
// root; custody covers the total" or a banner naming the failed check; after an upgrade, every contract's tree of the
// round — with the proof to download.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { get } from "../../lib/api";
import { t, tx, useLocale } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import { networkLabel } from "../../lib/networks";
import { type RoundCheck, contractsText, custodyText } from "../../lib/solvency-round.js";
import { type ExitClock, ageOf, readExitClock } from "../../lib/solvency-chain";
import { buildNetwork } from "../../lib/networks-build";
import { chainAddress } from "../../lib/tron";
import type { Balances, Profile, SolvencyProofAnswer } from "../../lib/types";
import { badgeId, publishVerdict, withdrawVerdict } from "../../ui/solvency-verdict";
import { downloadJson } from "../../lib/proof-store";
import { errorText } from "../../ui/account";
import { Addr, Amount, Notice } from "../../ui/bits";
import { Advice, CommittedAgo, LeafParts, failedSentence, staleSentence, whatFailed } from "./badge-words";
import { type BadgeProps, type RoundCheckState, type Status, checkBalance, failures, headline, inTheRoot, verdictOfStatus } from "./check";
import { Experts, Hash, blocksAgo, nb, shortHex, where } from "./common";
import { LeafWatch } from "./leaf-watch";
import { SavedNote } from "./saved";
import { DroppedWarning, contractText, contractWords, contractsOf, commitmentText } from "./upgrade";

const proofFileName = (p: { symbol?: string; epoch?: number; user?: string }) =>
  `solvency-proof-${p.symbol ?? "asset"}-epoch${p.epoch ?? "latest"}-${(p.user ?? "").toLowerCase()}.json`;

/** After an upgrade each contract's proof is a file of its own, named with its contract (as the API's download names it). */
const contractProofFileName = (p: { symbol?: string; epoch?: number; user?: string; contract?: string }) =>
  `solvency-proof-${p.symbol ?? "asset"}-epoch${p.epoch ?? "latest"}-${(p.contract ?? "").toLowerCase()}-${(p.user ?? "").toLowerCase()}.json`;

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
  // The verdict, computed here once, for the asset's pay buttons (src/ui/solvency-verdict.ts); kept while checking
  // again.
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
