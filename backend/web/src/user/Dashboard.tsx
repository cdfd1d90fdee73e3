// The signed-in user's standing per asset: the contract's pending changes (a banner, read through the wallet), balances
// by status, the proof of solvency's check of the wallet's balance against the root the chain holds
// (src/user/Solvency.tsx, loaded on demand), referral link, direct
// referrals, pool nodes with their matrix fill, the sponsor tree, reward history, retopup (a generation asset: buying
// a package again), withdraw request, and the claim of what the contract holds for the wallet (offered whenever the
// ledger shows a claimable balance). Addresses of an asset on a TRON chain are shown, linked and typed as T…; its
// payments and claim go through TronLink.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { getAddress, isAddress } from "viem";
import { download, get, post } from "../lib/api";
import type {
  AssetStanding,
  ClaimAnswer,
  PaymentList,
  PaymentView,
  Profile,
  ReferralPage,
  RewardEntry,
  RewardPage,
  SponsorTree,
  TreeNode,
  WithdrawAnswer,
  Withdrawals,
  WithdrawRequestView,
  BatchRef,
} from "../lib/types";
import { bps, dateTime, human, time } from "../lib/format";
import type { Wallet } from "../lib/any-wallet";
import { type AnyConnection, assetKey, chainAddress, isTronChain, networkText, parseAnyAddress } from "../lib/tron";
import { networkFileSlug } from "../lib/networks";
import { LoadFailed, errorText } from "../ui/account";
import { Addr, Amount, AssetAmt, CopyButton, Loading, Notice, Pager, TxHash, useLoad, usePager } from "../ui/bits";
import { withdrawalFeeBps } from "../plans";
import type { AssetBase, PlannedAsset } from "../plans/kit/assets";
import { memberRoomOf } from "../plans/member";
import { ReferralShare } from "./share";
import { LazyPendingChanges, LazySolvencyBadge } from "./solvency-lazy";
import { WalletMismatch, notAppliedText } from "../plans/kit/payment";
import { t, tx, useLocale } from "../i18n";

const PAGE = 10;

export function Dashboard(props: {
  /** Every asset with its plan (src/plans). */
  assets: PlannedAsset[];
  connection: AnyConnection;
  version: number;
  /** Told each profile loaded (the page puts the dashboard first for a registered wallet). */
  onProfile?: (p: Profile) => void;
  /** The page is a referral link: its registration is on the page, above the dashboard. */
  joining?: boolean;
  /** Beside the title: the way to the folded disclosure, when the dashboard comes first. */
  planLink?: ComponentChildren;
}) {
  const [tick, setTick] = useState(0);
  useLocale();
  const me = useLoad(() => get<Profile>("/v1/users/me"), [props.version, tick]);
  useEffect(() => {
    if (me.data) props.onProfile?.(me.data);
  }, [me.data]);
  if (me.loading && !me.data) return <Loading what={t("m.your_dashboard")} />;
  if (me.error) return <LoadFailed error={me.error} what={t("m.your_dashboard")} retry={me.reload} />;
  const profile = me.data!;
  const unapplied = <NotApplied assets={props.assets} version={props.version + tick} />;
  if (profile.assets.length === 0) {
    return (
      <>
        <section class="panel" data-testid="not-registered">
          <h2>{t("d.title")}</h2>
          <p data-testid="not-registered-next">
            {props.joining
              ? t("d.not_reg_join")
              : t("d.not_reg")}
          </p>
        </section>
        {unapplied}
      </>
    );
  }
  return (
    <section aria-labelledby="dash-title" data-testid="dashboard">
      <div class="dash-head">
        <h2 id="dash-title">{t("d.title")}</h2>
        {props.planLink}
      </div>
      <nav class="skip-links" aria-label={t("d.sections")} data-testid="dash-skip">
        <a href="#dash-summary">{t("d.summary")}</a>
        {profile.assets.map((a) => (
          <a key={a.asset_id} href={`#${cardId(a)}`}>
            {a.symbol}
            {isTronChain(a.chain_id) ? " (TRON)" : ""}
          </a>
        ))}
      </nav>
      <LazyPendingChanges connection={props.connection} />
      {unapplied}
      <Summary assets={profile.assets} version={props.version + tick} />
      {profile.assets.map((a) => {
        const asset = props.assets.find((x) => x.asset_id === a.asset_id);
        return asset ? (
          <AssetDashboard
            key={a.asset_id}
            a={a}
            only={profile.assets.length === 1}
            asset={asset}
            connection={props.connection}
            address={profile.address}
            version={props.version + tick}
            refresh={() => setTick((t) => t + 1)}
          />
        ) : null;
      })}
    </section>
  );
}

/** A wallet's status in an asset, in words (the badge's class keeps the API's word). */
const statusWord = (s: string) =>
  s === "active" ? t("d.active") : s === "frozen" ? t("d.frozen_badge") : s === "exited" ? t("d.exited_badge") : s;

/** The id of an asset's card, the target of the summary's and the skip links' anchors. */
const cardId = (a: { symbol: string; chain_id: number }) => `asset-${assetKey(a.symbol, a.chain_id)}`;

/** Whether the screen is wide enough to show every section open (a phone folds them: a few screens, not twenty). */
function useWide(): boolean {
  const query = "(min-width: 40.01rem)";
  const [wide, setWide] = useState(() => typeof matchMedia !== "function" || matchMedia(query).matches);
  useEffect(() => {
    if (typeof matchMedia !== "function") return;
    const m = matchMedia(query);
    const follow = () => setWide(m.matches);
    m.addEventListener("change", follow);
    return () => m.removeEventListener("change", follow);
  }, []);
  return wide;
}

/** A section that a phone shows folded (its title a button) and a wide screen open. */
function Fold(props: { title: ComponentChildren; testid: string; label: string; children: ComponentChildren }) {
  const wide = useWide();
  return (
    <details class="fold-section" open={wide} data-testid={`${props.testid}-fold`} aria-label={props.label}>
      <summary>
        <h4 class="fold-title">{props.title}</h4>
      </summary>
      {props.children}
    </details>
  );
}

/**
 * Per asset, in one table: what the wallet paid in, what it received (net of the withdrawal fees), what it is still
 * owed and when the next payout is expected, and its net result so far (received − paid in). Each row leads to the
 * asset's card.
 */
function Summary(props: { assets: AssetStanding[]; version: number }) {
  const schedules = useLoad(
    () => Promise.all(props.assets.map((a) => get<Withdrawals>("/v1/users/withdrawals", { asset_id: a.asset_id, limit: 1 }).catch(() => null))),
    [props.assets.map((a) => a.asset_id).join(","), props.version],
  );
  return (
    <section class="panel summary" id="dash-summary" aria-labelledby="dash-summary-title" data-testid="summary">
      <h3 id="dash-summary-title">{t("d.summary")}</h3>
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t("d.asset")}</th>
              <th scope="col">{t("d.paid_in")}</th>
              <th scope="col">{t("d.received")}</th>
              <th scope="col">{t("d.owed")}</th>
              <th scope="col">{t("d.next")}</th>
              <th scope="col">{t("d.net")}</th>
            </tr>
          </thead>
          <tbody>
            {props.assets.map((a, i) => {
              const b = a.balances;
              const net = BigInt(b.received) - BigInt(b.paid_in);
              const next = schedules.data?.[i]?.payouts.expected_next_batch_at;
              const amt = (base: string | bigint, testid: string) => <Amount base={base.toString()} decimals={a.decimals} symbol={a.symbol} testid={testid} />;
              return (
                <tr key={a.asset_id} data-testid="summary-row" data-asset={a.asset_id}>
                  <th scope="row">
                    <a href={`#${cardId(a)}`}>
                      {a.symbol}
                      {isTronChain(a.chain_id) ? ` (${networkText(a.chain_id)})` : ""}
                    </a>
                  </th>
                  <td data-label={t("d.paid_in")}>{amt(b.paid_in, "sum-paid-in")}</td>
                  <td data-label={t("d.received")}>
                    {amt(b.received, "sum-received")}
                    {b.fees !== "0" && (
                      <div class="muted">
                        {tx("d.after_fees", { amount: amt(b.fees, "sum-fees") })}
                      </div>
                    )}
                  </td>
                  <td data-label={t("d.owed")}>{amt(b.owed, "sum-owed")}</td>
                  <td data-label={t("d.next")} data-testid="sum-next">
                    {nextPayout(a, next)}
                  </td>
                  <td data-label={t("d.net")} class={net < 0n ? "loss" : ""}>
                    {amt(net, "sum-net")} <span class="muted">{net < 0n ? t("d.loss") : net > 0n ? t("d.gain") : ""}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="muted">{t("d.summary_note")}</p>
    </section>
  );
}

/**
 * When what is owed reaches the wallet: a payout batch pays what is pending, held or batched — on the operator's next
 * run — but what a failed push left claimable waits for the member's own claim, whatever the schedule (issue 66).
 */
function nextPayout(a: AssetStanding, next: string | null | undefined): ComponentChildren {
  const b = a.balances;
  if (b.owed === "0") return t("d.nothing_owed");
  const payable = BigInt(b.owed) - BigInt(b.claimable);
  const claim =
    b.claimable === "0" ? null : (
      <span data-testid="sum-claim">
        {tx("d.claim_waiting", {
          amount: <Amount base={b.claimable} decimals={a.decimals} symbol={a.symbol} />,
          claim: <a href={`#${cardId(a)}`}>{t("d.claim_now")}</a>,
        })}
      </span>
    );
  if (payable === 0n) return claim;
  const scheduled = next ? t("d.expected", { date: dateTime(next) }) : t("d.no_schedule");
  return claim ? (
    <>
      {scheduled}
      <div>{claim}</div>
    </>
  ) : (
    scheduled
  );
}

function AssetDashboard(props: {
  a: AssetStanding;
  /** The wallet's only asset: its card stays open on a phone (with several, each folds under its heading). */
  only: boolean;
  /** The asset with its plan: its room gives the plan's standing and how to pay again. */
  asset: PlannedAsset;
  connection: AnyConnection;
  address: string;
  /** Changes on every reload of the dashboard. */
  version: number;
  refresh: () => void;
}) {
  const { a } = props;
  const { Standing, PayAgain } = memberRoomOf(props.asset);
  const wide = useWide();
  const body = useRef<HTMLDetailsElement>(null);
  // A summary row or skip link naming this card opens it (a phone shows the cards folded).
  useEffect(() => {
    const follow = () => {
      if (location.hash === `#${cardId(a)}` && body.current) body.current.open = true;
    };
    follow();
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, [a.symbol, a.chain_id]);
  const tron = isTronChain(a.chain_id);
  const amt = (base: string, testid: string) => <Amount base={base} decimals={a.decimals} symbol={a.symbol} testid={testid} />;
  // The link names this wallet in the asset's chain's own form.
  const link = `${location.origin}/?ref=${chainAddress(a.chain_id, props.address)}&asset=${a.asset_id}`;
  return (
    <article class="panel asset" id={cardId(a)} data-testid={cardId(a)} aria-label={t("d.card", { symbol: a.symbol })}>
      <details class="asset-body" open={wide || props.only} ref={body} data-testid="asset-body">
      <summary class="asset-head">
        <h3>
          {a.symbol}
          {tron && <span class="muted"> {t("account.on_network", { network: networkText(a.chain_id) })}</span>}
        </h3>
        <span class={`badge ${a.status}`} data-testid="status">
          {statusWord(a.status)}
        </span>
        <span class="muted">
          {t("d.user_no", { no: String(a.user_no) })}
          {a.registered_block != null && t("d.since", { block: String(a.registered_block) })}
        </span>
      </summary>
      {(tron || a.sponsor) && (
        <p class="asset-who muted">
          {tron && (
            <span>
              {tx("d.as", { address: <Addr a={chainAddress(a.chain_id, props.address)} testid="asset-address" chainId={a.chain_id} /> })}{" "}
            </span>
          )}
          {a.sponsor && (
            <span>
              {tx("d.sponsor", { address: <Addr a={a.sponsor} chainId={a.chain_id} /> })}
            </span>
          )}
        </p>
      )}
      {a.status === "frozen" && <Notice kind="warn">{t("d.frozen", { symbol: a.symbol })}</Notice>}
      {a.status === "exited" && (
        <Notice kind="info" testid="exited">
          {t("d.exited", { symbol: a.symbol, block: String(a.exited_block ?? "") })}
        </Notice>
      )}
      <dl class="balances" data-testid="balances">
        <div>
          <dt>{t("d.pending")}</dt>
          <dd>{amt(a.balances.pending, "bal-pending")}</dd>
        </div>
        <div>
          <dt>{t("d.batched")}</dt>
          <dd>{amt(a.balances.batched, "bal-batched")}</dd>
        </div>
        <div>
          <dt>{t("d.settled")}</dt>
          <dd>
            {/* What left for the wallet: a failed push's entry is not paid out until it is claimed (below). */}
            {amt((BigInt(a.balances.settled) - BigInt(a.balances.claimable)).toString(), "bal-settled")}
            {a.balances.fees !== "0" && (
              <div class="muted small" data-testid="bal-net">
                {tx("d.you_received", { received: amt(a.balances.received, "bal-received"), fees: amt(a.balances.fees, "bal-fees") })}
              </div>
            )}
          </dd>
        </div>
        <div>
          <dt>{t("d.held")}</dt>
          <dd>{amt(a.balances.held, "bal-held")}</dd>
        </div>
        <div>
          <dt>{t("d.reserved")}</dt>
          <dd>{amt(a.balances.reserved, "bal-reserved")}</dd>
        </div>
        <div>
          <dt>{t("d.claimable")}</dt>
          <dd>
            {amt(a.balances.claimable, "bal-claimable")}
            {a.balances.claimable !== "0" && (
              <div class="small">
                <button
                  type="button"
                  data-testid="claim-now"
                  onClick={() => document.getElementById(`claim-${cardId(a)}`)?.scrollIntoView({ block: "center" })}
                >
                  {t("d.claim_now")}
                </button>
              </div>
            )}
          </dd>
        </div>
        <div>
          <dt>{t("d.paid_in")}</dt>
          <dd>{amt(a.balances.paid_in, "bal-paid-in")}</dd>
        </div>
      </dl>
      <section class="solvency-mine" aria-label={t("d.solvency", { symbol: a.symbol })} data-testid="solvency-badge">
        <LazySolvencyBadge
          assetId={a.asset_id}
          symbol={a.symbol}
          chainId={a.chain_id}
          registeredBlock={a.registered_block}
          connection={props.connection}
          address={props.address}
        />
      </section>
      <Standing asset={props.asset} a={a} address={props.address} version={props.version} />
      <div class="grid2 money">
        <Withdraw a={a} feeBps={withdrawalFeeBps(props.asset)} refresh={props.refresh} />
        <PayAgain asset={props.asset} a={a} connection={props.connection} refresh={props.refresh} />
      </div>
      <Claim a={a} connection={props.connection} refresh={props.refresh} />
      <div class="reflink">
        <p>
          {tx("d.ref_link", { link: <code data-testid="ref-link">{link}</code> })}{" "}
          <CopyButton text={link} label={t("d.copy_link", { symbol: a.symbol })} />
        </p>
        <ReferralShare link={link} symbol={a.symbol} />
      </div>
      <Fold title={t("d.direct_title", { count: a.direct_referrals })} testid="referrals" label={t("d.direct_label", { symbol: a.symbol })}>
        <Referrals a={a} />
      </Fold>
      <Fold title={t("d.tree")} testid="tree" label={t("d.tree_label", { symbol: a.symbol })}>
        <Tree a={a} />
      </Fold>
      <Fold title={t("d.history_title")} testid="history" label={t("d.history_label", { symbol: a.symbol })}>
        <History a={a} />
      </Fold>
      </details>
    </article>
  );
}

/**
 * The wallet's payments that reached the contract but were not applied (quarantined by the ledger), in every
 * asset: the amount, the reason and the transaction. The money is in custody, not credited; an admin can refund it.
 */
function NotApplied(props: { assets: PlannedAsset[]; version: number }) {
  const list = useLoad(
    () =>
      Promise.all(
        props.assets.map((p) =>
          get<PaymentList>("/v1/users/payments", { asset_id: p.asset_id }).then((l) => l.payments.map((x) => ({ plan: p, x }))),
        ),
      ).then((all) => all.flat().filter(({ x }) => x.status === "quarantined")),
    [props.assets.length, props.version],
  );
  if (list.error) return <Notice kind="error">{t("d.payments_err", { message: errorText(list.error) })}</Notice>;
  const items = list.data ?? [];
  if (items.length === 0) return null;
  return (
    <section class="panel" aria-labelledby="not-applied-title" data-testid="not-applied">
      <h3 id="not-applied-title">{t("d.na_title")}</h3>
      <p>{t("d.na_text")}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">{t("d.payment")}</th>
            <th scope="col">{t("d.amount")}</th>
            <th scope="col">{t("d.reason")}</th>
            <th scope="col">{t("d.tx")}</th>
          </tr>
        </thead>
        <tbody>
          {items.map(({ plan, x }) => (
            <NotAppliedRow key={x.transaction_id} plan={plan} x={x} />
          ))}
        </tbody>
      </table>
    </section>
  );
}

function NotAppliedRow(props: { plan: AssetBase; x: PaymentView }) {
  const { plan, x } = props;
  return (
    <tr data-testid="not-applied-payment" data-nonce={x.nonce} title={notAppliedText(x)}>
      <td>
        {t(x.kind === "register" ? "d.reg_in" : "d.retopup_in", { symbol: plan.symbol })}
        {isTronChain(plan.chain_id) && ` ${t("account.on_network", { network: networkText(plan.chain_id) })}`}
      </td>
      <td>
        <AssetAmt a={x.amount} testid="not-applied-amount" />
      </td>
      <td data-testid="not-applied-reason">{x.quarantine_reason ?? t("d.refused")}</td>
      <td>
        {x.event ? (
          <>
            <TxHash chainId={plan.chain_id} hash={x.event.tx_hash} testid="not-applied-tx" />{" "}
            <span class="muted">{t("d.block", { block: String(x.event.block) })}</span>
          </>
        ) : (
          "—"
        )}
      </td>
    </tr>
  );
}

function Referrals(props: { a: AssetStanding }) {
  const pager = usePager<number>();
  const page = useLoad(
    () => get<ReferralPage>("/v1/users/referrals", { asset_id: props.a.asset_id, cursor: pager.cursor, limit: PAGE }),
    [props.a.asset_id, pager.cursor, props.a.direct_referrals],
  );
  return (
    <section aria-label={t("d.referrals")} data-testid="referrals">
      {page.error && <Notice kind="error">{errorText(page.error)}</Notice>}
      {page.data && page.data.items.length === 0 && <p class="muted">{t("d.none_share")}</p>}
      {page.data && page.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("d.user")}</th>
              <th scope="col">{t("d.wallet")}</th>
              <th scope="col">{t("d.block_h")}</th>
              <th scope="col">{t("d.their_refs")}</th>
              <th scope="col">{t("d.retopup")}</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((r) => (
              <tr key={r.user_no}>
                <td>#{r.user_no}</td>
                <td>
                  <Addr a={r.address} chainId={props.a.chain_id} />
                </td>
                <td>{r.registered_block}</td>
                <td>{r.direct_referrals}</td>
                <td>{r.has_retopup ? t("d.yes") : t("d.no")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label={t("d.referrals_pager")} />
    </section>
  );
}

function Tree(props: { a: AssetStanding }) {
  const [depth, setDepth] = useState(3);
  const tree = useLoad(() => get<SponsorTree>("/v1/users/tree", { asset_id: props.a.asset_id, depth }), [props.a.asset_id, depth, props.a.direct_referrals]);
  const children = (no: number, nodes: TreeNode[]) => nodes.filter((n) => n.sponsor_no === no);
  const render = (n: TreeNode, nodes: TreeNode[]) => {
    const kids = children(n.user_no, nodes);
    return (
      <li key={n.user_no}>
        <span>
          #{n.user_no} <Addr a={n.address} chainId={props.a.chain_id} /> <span class="muted">{t("d.n_direct", { count: n.direct_referrals })}</span>
        </span>
        {kids.length > 0 && <ul>{kids.map((k) => render(k, nodes))}</ul>}
      </li>
    );
  };
  return (
    <section aria-label={t("d.tree")} data-testid="tree">
      <p>
        <label class="inline">
          {t("d.depth")}{" "}
          <select value={depth} onChange={(e) => setDepth(Number((e.target as HTMLSelectElement).value))}>
            {[1, 2, 3, 4, 5].map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
      </p>
      {tree.data?.root && (
        <ul class="tree">
          {render(tree.data.root, tree.data.nodes)}
        </ul>
      )}
      {tree.data?.truncated && <p class="muted">{t("d.cut")}</p>}
    </section>
  );
}

function History(props: { a: AssetStanding }) {
  const { a } = props;
  const pager = usePager<number>();
  const page = useLoad(
    () => get<RewardPage>("/v1/users/history", { asset_id: a.asset_id, cursor: pager.cursor, limit: PAGE }),
    [a.asset_id, pager.cursor, a.balances.pending, a.balances.settled],
  );
  return (
    <section aria-label={t("d.reward_history")} data-testid="history">
      <Statement a={a} />
      {page.error && <LoadFailed error={page.error} what={t("d.your_history")} retry={page.reload} />}
      {page.data && page.data.items.length === 0 && <p class="muted">{t("d.no_rewards")}</p>}
      {page.data && page.data.items.length > 0 && (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("d.when")}</th>
                <th scope="col">{t("d.what")}</th>
                <th scope="col">{t("d.amount")}</th>
                <th scope="col">{t("d.where")}</th>
                <th scope="col">{t("d.paid_to_you")}</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((r) => (
                <tr key={r.reward_no} data-testid="reward" data-reward={r.reward_no}>
                  <td data-testid="reward-when">
                    {r.credited_at ? dateTime(r.credited_at) : "—"}
                    {r.block != null && <div class="muted small">{t("d.block", { block: String(r.block) })}</div>}
                  </td>
                  <td data-testid="reward-what">
                    {rewardText(r)}
                    {r.tx_hash && (
                      <div class="small">
                        <TxHash chainId={a.chain_id} hash={r.tx_hash} testid="reward-tx" />
                      </div>
                    )}
                  </td>
                  <td>
                    <AssetAmt a={r.amount} testid="reward-amount" />
                  </td>
                  <td data-testid="reward-status">
                    {/* Settled by a push that failed: the money waits in the contract for the member's claim. */}
                    {r.status === "settled" && a.balances.claimable !== "0" && r.payments.some((p) => p.outcome === "claimable")
                      ? t("d.s_claimable")
                      : statusText(r.status, r.kind)}
                    {parts(r, a) && (
                      <div class="muted" data-testid="reward-parts">
                        {parts(r, a)}
                      </div>
                    )}
                  </td>
                  <td>
                    {r.payments.length === 0
                      ? "—"
                      : r.payments.map((p) => (
                          <div key={p.batch.id} data-testid="reward-payment" data-batch={p.batch.id}>
                            <AssetAmt a={p.net} testid="payment-net" />
                            {p.fee.base !== "0" && (
                              <>
                                {" "}
                                <span class="muted">
                                  {tx("d.of_fee", { gross: <AssetAmt a={p.amount} testid="payment-gross" />, fee: <AssetAmt a={p.fee} testid="payment-fee" /> })}
                                </span>
                              </>
                            )}{" "}
                            {tx("d.in_batch", { batch: <BatchText b={p.batch} chainId={a.chain_id} /> })}
                            {p.outcome === "claimable" && t("d.push_failed")}
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label={t("d.history")} />
    </section>
  );
}

/** The member's statement of the asset as CSV (every payment in, credit and payout), fetched with the session. */
function Statement(props: { a: AssetStanding }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await download("/v1/users/statement.csv", { asset_id: props.a.asset_id }, `statement-${props.a.symbol}-${networkFileSlug(props.a.chain_id)}-${new Date().toISOString().slice(0, 10)}.csv`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <p>
      <button type="button" onClick={save} disabled={busy} data-testid="statement-download">
        {t("d.download", { symbol: props.a.symbol })}
      </button>{" "}
      <span class="muted">{t("d.statement_note")}</span>
      {error && <Notice kind="error" testid="statement-error">{error}</Notice>}
    </p>
  );
}

/** What a credit was, in words: "Direct reward", "Generation income, level 3", "Weekly rank bonus (rank 2)". */
function rewardText(r: RewardEntry): string {
  switch (r.kind) {
    case "DIRECT":
      return t("d.r_direct");
    case "POOL_L1":
    case "POOL_L2":
    case "POOL_L3":
      return t("d.r_pool", { layer: r.kind.slice(-1), level: r.level });
    case "LEVEL":
      return t("d.r_level", { level: r.level });
    case "GENERATION":
      return t("d.r_gen", { level: r.level });
    case "RANK_BONUS":
      return t("d.r_rank", { level: r.level });
    case "BINARY_PAIR":
      return r.period == null ? t("d.r_pair_any") : t("d.r_pair", { period: r.period });
    default:
      return `${r.kind} ${r.level}`;
  }
}

/** Where a credit's unpaid rest is, in words (`kind`: a binary pair bonus's reserve is retained, not saved for a level). */
function statusText(status: string, kind?: string): string {
  switch (status) {
    case "pending":
      return t("d.s_pending");
    case "batched":
      return t("d.s_batched");
    case "settled":
      return t("d.s_settled");
    case "held":
      return t("d.s_held");
    case "reserved":
      return kind === "BINARY_PAIR" ? t("d.s_retained") : t("d.s_reserved");
    case "forfeited":
      return t("d.s_forfeited");
    default:
      return status;
  }
}

/**
 * A reward paid in parts (above the signer's per-entry cap): "12 of 18 BNB paid, 5 in a batch"; `null` when it is
 * not paid in parts (nothing paid or batched yet, or all of it at once).
 */
function parts(r: RewardEntry, a: AssetStanding): string | null {
  const amount = BigInt(r.amount.base);
  const paid = BigInt(r.paid?.base ?? "0");
  const inFlight = BigInt(r.in_flight?.base ?? "0");
  if (!((paid > 0n && paid < amount) || (inFlight > 0n && inFlight < amount))) return null;
  const flight = inFlight > 0n ? t("d.parts_flight", { amount: human(inFlight, a.decimals) }) : "";
  return t("d.parts", { paid: human(paid, a.decimals), amount: human(amount, a.decimals), symbol: a.symbol, flight });
}

/** "batch #12, executed in block 240 on 24 Nov 2026, 21:05 (transaction 0x…)" — or where it stands before that. */
function BatchText(props: { b: BatchRef; chainId: number }) {
  const { b } = props;
  const where =
    b.status === "executed"
      ? t("d.executed", {
          block: b.executed_block != null ? t("d.in_block", { block: String(b.executed_block) }) : "",
          on: b.executed_at ? t("d.on_date", { date: time(b.executed_at) }) : "",
        })
      : b.status === "failed"
        ? t("d.failed")
        : `, ${b.status}`;
  return (
    <span data-testid="batch-ref" data-batch-id={b.id} data-executed-at={b.executed_at ?? undefined}>
      {t("d.batch", { id: String(b.id) })}
      {where}
      {b.tx_hash != null && (
        <>
          {" "}
          {tx("d.tx_paren", { tx: <TxHash chainId={props.chainId} hash={b.tx_hash} testid="batch-tx" /> })}
        </>
      )}
    </span>
  );
}

/** The caller's withdraw requests in the asset, and when its payout batches have run. */
function WithdrawRecord(props: { a: AssetStanding; version: unknown; changed: () => void }) {
  const { a } = props;
  const record = useLoad(() => get<Withdrawals>("/v1/users/withdrawals", { asset_id: a.asset_id, limit: 5 }), [
    a.asset_id,
    props.version,
    a.balances.pending,
    a.balances.settled,
  ]);
  if (record.error) return <LoadFailed error={record.error} what={t("d.your_requests")} retry={record.reload} />;
  if (!record.data) return null;
  const { items, payouts } = record.data;
  const last = payouts.last_executed;
  return (
    <>
      <p class="muted" data-testid="payout-cadence">
        {last == null
          ? t("d.no_batch", { symbol: a.symbol })
          : t("d.ran", { count: payouts.executed_last_30_days, symbol: a.symbol })}
        {last != null && (
          <>
            <BatchText
              b={{ id: last.id, status: "executed", tx_hash: last.tx_hash, executed_block: last.executed_block, executed_at: last.executed_at }}
              chainId={a.chain_id}
            />
            {t("d.built", { date: time(last.built_at) })}
          </>
        )}
        {payouts.in_progress > 0 && t("d.in_progress", { count: payouts.in_progress })}
      </p>
      {items.length > 0 && (
        <ul class="requests" aria-label={t("d.requests")}>
          {items.map((w) => (
            <WithdrawRow
              key={w.id}
              a={a}
              w={w}
              expected={payouts.expected_next_batch_at ?? null}
              changed={() => {
                record.reload();
                props.changed();
              }}
            />
          ))}
        </ul>
      )}
    </>
  );
}

/** One withdraw request: when, how much, where it stands (and when it is expected to be paid), cancelled while open. */
function WithdrawRow(props: { a: AssetStanding; w: WithdrawRequestView; expected: string | null; changed: () => void }) {
  const { a, w } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(`/v1/users/withdrawals/${w.id}/cancel`, {});
      props.changed();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li data-testid="withdraw-request-row" data-status={w.status} data-id={w.id}>
      {tx("d.request", { id: String(w.id), amount: <AssetAmt a={w.amount} />, date: dateTime(w.created_at), state: requestText(w) })}
      {w.status === "open" && props.expected && t("d.expected_in", { date: dateTime(props.expected) })}
      {w.batch != null && (
        <>
          {" "}
          — <BatchText b={w.batch} chainId={a.chain_id} />
        </>
      )}
      {w.status === "open" && (
        <>
          {" "}
          <button type="button" onClick={cancel} disabled={busy} data-testid="withdraw-cancel" aria-label={t("d.cancel_label", { id: String(w.id) })}>
            {t("d.cancel")}
          </button>
        </>
      )}
      {error && <Notice kind="error" testid="withdraw-cancel-error">{error}</Notice>}
    </li>
  );
}

function requestText(w: WithdrawRequestView): string {
  switch (w.status) {
    case "open":
      return t("d.w_open");
    case "batched":
      return t("d.w_batched");
    case "cancelled":
      return t(w.cancelled_by === "member" ? "d.w_by_you" : "d.w_by_op") + (w.cancelled_at ? t("d.on_date", { date: dateTime(w.cancelled_at) }) : "");
    default:
      return w.status;
  }
}

/** The withdraw request: the pending balance paid in the next payout batch. The claim is beside it, on its own. */
function Withdraw(props: { a: AssetStanding; feeBps: number; refresh: () => void }) {
  const { a } = props;
  const [answer, setAnswer] = useState<WithdrawAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const request = async () => {
    setBusy(true);
    setError(null);
    try {
      setAnswer(await post<WithdrawAnswer>("/v1/users/withdraw", { asset_id: a.asset_id }));
      props.refresh();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-label={t("d.withdraw_label", { symbol: a.symbol })} data-testid="withdraw">
      <h4>{t("d.get_paid")}</h4>
      <p>
        {tx("d.ask", {
          amount: <Amount base={a.balances.pending} decimals={a.decimals} symbol={a.symbol} testid="withdraw-amount" />,
          fee: props.feeBps > 0 && (
            <span data-testid="withdraw-fee">
              {tx("d.fee", {
                fee: bps(props.feeBps),
                net: (
                  <Amount
                    base={(BigInt(a.balances.pending) - (BigInt(a.balances.pending) * BigInt(props.feeBps) + 9999n) / 10000n).toString()}
                    decimals={a.decimals}
                    symbol={a.symbol}
                    testid="withdraw-net"
                  />
                ),
              })}
            </span>
          ),
        })}
      </p>
      <p class="muted">{t("d.withdraw_note")}</p>
      <button type="button" class="primary" onClick={request} disabled={busy || !!answer || a.status !== "active" || a.balances.pending === "0"} data-testid="withdraw-request">
        {t("d.request_btn")}
      </button>
      {answer && (
        <Notice kind="ok" testid="withdraw-answer">
          {tx("d.answer", { id: String(answer.request.id), amount: <AssetAmt a={answer.request.amount} />, status: answer.request.status, claimable: <AssetAmt a={answer.claimable} /> })}
        </Notice>
      )}
      {error && <Notice kind="error" testid="withdraw-error">{error}</Notice>}
      <WithdrawRecord
        a={a}
        version={answer}
        changed={() => {
          setAnswer(null);
          props.refresh();
        }}
      />
    </section>
  );
}

/**
 * The claim of what the contract holds for this wallet (payouts it could not push), offered whenever the ledger
 * shows a claimable balance — pending rewards or not: the transaction comes from `GET /v1/users/claim`, asked
 * only then (with nothing claimable the API answers 422, and the page shows no claim at all).
 */
function Claim(props: { a: AssetStanding; connection: Wallet; refresh: () => void }) {
  const { a, connection: c } = props;
  // A TRON asset is claimed with TronLink, any other from an EVM wallet.
  const tron = isTronChain(a.chain_id);
  const fits = tron === (c.kind === "tron");
  const claimable = a.balances.claimable;
  const offer = useLoad(
    () => (claimable === "0" ? Promise.resolve(null) : get<ClaimAnswer>("/v1/users/claim", { asset_id: a.asset_id })),
    [a.asset_id, claimable],
  );
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The ledger's claimable figure when a claim was mined: the claim is not offered again until that figure
  // changes (it drops to 0 once the claim's block is confirmed).
  const [claimedFrom, setClaimedFrom] = useState<string | null>(null);
  // A push fails when this wallet cannot receive the payment (a contract wallet that refuses it): claiming to
  // the same wallet would fail the same way, so the funds can go to another address.
  const [to, setTo] = useState<string>(chainAddress(a.chain_id, c.account));
  const dest = tron ? parseAnyAddress(to) : isAddress(to.trim()) ? getAddress(to.trim()) : null;
  const answer = claimable === "0" ? null : offer.data;
  const doClaim = async () => {
    if (!answer || !dest) return;
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      // The API builds the call for the destination named here; the wallet sends it in its own form.
      const shown = chainAddress(a.chain_id, dest);
      const call = await get<ClaimAnswer>("/v1/users/claim", { asset_id: a.asset_id, to: shown });
      if (call.to !== shown) throw new Error(t("d.c_mismatch", { to: call.to, shown }));
      await c.ensureNetwork(call.chain_id);
      // Asked of the node first: a destination that refuses the payment would only cost gas.
      const refused = await c.refusalOf(call);
      if (refused) {
        setError(
          dest === c.hex
            ? t("d.c_refuses", { reason: refused })
            : t("d.c_cannot", { to: shown, reason: refused }),
        );
        return;
      }
      const id = await c.sendCall(call, "claim");
      setStatus(t("d.c_sent", { id: id.slice(0, 10) }));
      const r = await c.mined(id);
      setStatus(t("d.c_done", { amount: call.claimable.human, to: shown, block: String(r.blockNumber) }));
      setClaimedFrom(claimable);
      props.refresh();
    } catch (e) {
      setStatus(null);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const offered = answer && claimedFrom !== claimable;
  if (!offered && !status && !error && !offer.error) return null;
  return (
    <section aria-label={t("d.claim_label", { symbol: a.symbol })} data-testid="claim-section" id={`claim-${cardId(a)}`}>
      <h4>{t("d.claim")}</h4>
      {offered && (
        <>
          <p data-testid="claimable-note">
            {tx("d.claim_note", { amount: <AssetAmt a={answer.claimable} /> })}
          </p>
          {fits ? (
            <>
              <label class="claim-to">
                {t("d.pay_to")}
                <input value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} aria-invalid={!dest} spellcheck={false} data-testid="claim-to" />
                {!dest && <span class="field-error">{tron ? t("d.t_addr") : t("d.hex_addr")}</span>}
              </label>{" "}
              <button type="button" class="primary" onClick={doClaim} disabled={busy || !dest} data-testid="claim">
                {t("d.claim_btn", { amount: answer.claimable.human })}
              </button>
            </>
          ) : (
            <WalletMismatch symbol={a.symbol} chainId={a.chain_id} />
          )}
        </>
      )}
      {offer.error && claimable !== "0" && <Notice kind="error">{t("d.claim_err", { message: errorText(offer.error) })}</Notice>}
      {status && <Notice kind="info" testid="claim-status">{status}</Notice>}
      {error && <Notice kind="error" testid="claim-error">{error}</Notice>}
    </section>
  );
}
