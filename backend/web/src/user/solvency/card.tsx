// One asset's card on the public page: the server's claim, labelled so, beside the commitment read from the chain
// through the wallet at the build's contract — custody against the total (a red INSOLVENT banner), the liabilities'
// age against the build's maximum (a red STALE banner), a red banner when the server's contract, epoch, root or total
// are not the chain's or the contract never allowed the server's token; after an upgrade, every contract's figures and
// the round's.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { t, tx, useLocale } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import { networkLabel } from "../../lib/networks";
import { contractsText, custodyText } from "../../lib/solvency-round.js";
import { type ChainCommitmentRead, CannotReadError, ageOf, commitAgeOf, readCommitment, roundOf, servedContractMatches } from "../../lib/solvency-chain";
import { type AnyConnection, assetKey, chainAddress, networkText } from "../../lib/tron";
import type { AssetSolvency, ContractSolvency, EpochView } from "../../lib/types";
import { errorText } from "../../ui/account";
import { Addr, Amount, AssetAmt, Loading, Notice, TxHash } from "../../ui/bits";
import { Hash, blocksAgo, cap, nb, shortHex, where } from "./common";
import { type Comparison, compare } from "./compare";
import { type Dropped, DroppedWarning, commitmentText, contractText, contractWords, contractsOf, droppedHoldings, readAt, roundCustodyText, upgraded } from "./upgrade";

/** A commitment's status as the server names it (`built`, `signed`, `sent`, `committed`, `failed`), in words. */
const STATUS = { built: "sv.status_built", signed: "sv.status_signed", sent: "sv.status_sent", committed: "sv.status_committed", failed: "sv.status_failed" } as const;
const statusText = (s: string) => (s in STATUS ? t(STATUS[s as keyof typeof STATUS]) : s);

type ReadState = { read?: ChainCommitmentRead; dropped?: Dropped[]; cannot?: CannotReadError; error?: string; loading: boolean };

export function AssetCard(props: { a: AssetSolvency; connection: AnyConnection | null; tick: number; reload: () => void; mine?: ComponentChildren }) {
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
