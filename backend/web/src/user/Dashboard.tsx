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
import { LoadFailed, errorText } from "../ui/account";
import { Addr, Amount, AssetAmt, CopyButton, Loading, Notice, Pager, TxHash, useLoad, usePager } from "../ui/bits";
import { type AssetBase, type PlannedAsset, withdrawalFeeBps } from "../plans";
import { memberRoomOf } from "../plans/member";
import { ReferralShare } from "./share";
import { LazyPendingChanges, LazySolvencyBadge } from "./solvency-lazy";
import { WalletMismatch, notAppliedText } from "./payment";

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
  const me = useLoad(() => get<Profile>("/v1/users/me"), [props.version, tick]);
  useEffect(() => {
    if (me.data) props.onProfile?.(me.data);
  }, [me.data]);
  if (me.loading && !me.data) return <Loading what="your dashboard" />;
  if (me.error) return <LoadFailed error={me.error} what="your dashboard" retry={me.reload} />;
  const profile = me.data!;
  const unapplied = <NotApplied assets={props.assets} version={props.version + tick} />;
  if (profile.assets.length === 0) {
    return (
      <>
        <section class="panel" data-testid="not-registered">
          <h2>Dashboard</h2>
          <p data-testid="not-registered-next">
            {props.joining
              ? "This wallet is not registered yet: join with the registration above."
              : "This wallet is not registered yet. Open a sponsor's referral link to join."}
          </p>
        </section>
        {unapplied}
      </>
    );
  }
  return (
    <section aria-labelledby="dash-title" data-testid="dashboard">
      <div class="dash-head">
        <h2 id="dash-title">Dashboard</h2>
        {props.planLink}
      </div>
      <nav class="skip-links" aria-label="Sections of your dashboard" data-testid="dash-skip">
        <a href="#dash-summary">Summary</a>
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
      <h3 id="dash-summary-title">Summary</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Asset</th>
              <th scope="col">You paid in</th>
              <th scope="col">You received</th>
              <th scope="col">Still owed to you</th>
              <th scope="col">Next payout</th>
              <th scope="col">Net result so far</th>
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
                  <td data-label="You paid in">{amt(b.paid_in, "sum-paid-in")}</td>
                  <td data-label="You received">
                    {amt(b.received, "sum-received")}
                    {b.fees !== "0" && (
                      <div class="muted">
                        after {amt(b.fees, "sum-fees")} in withdrawal fees
                      </div>
                    )}
                  </td>
                  <td data-label="Still owed to you">{amt(b.owed, "sum-owed")}</td>
                  <td data-label="Next payout" data-testid="sum-next">
                    {b.owed === "0" ? "nothing owed" : next ? `expected ${dateTime(next)}` : "when the operator next pays (no fixed schedule)"}
                  </td>
                  <td data-label="Net result so far" class={net < 0n ? "loss" : ""}>
                    {amt(net, "sum-net")} <span class="muted">{net < 0n ? "(a loss so far)" : net > 0n ? "(a gain so far)" : ""}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="muted">
        Received is what reached your wallet, after the plan's withdrawal fee where it has one. What you are owed is
        not guaranteed to be paid: it depends on the operator and on the custody (see the proof of solvency on each
        asset).
      </p>
    </section>
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
    <article class="panel asset" id={cardId(a)} data-testid={cardId(a)} aria-label={`${a.symbol} dashboard`}>
      <details class="asset-body" open={wide || props.only} ref={body} data-testid="asset-body">
      <summary class="asset-head">
        <h3>
          {a.symbol}
          {tron && <span class="muted"> on {networkText(a.chain_id)}</span>}
        </h3>
        <span class={`badge ${a.status}`} data-testid="status">
          {a.status}
        </span>
        <span class="muted">
          user #{a.user_no}
          {a.registered_block != null && `, since block ${a.registered_block}`}
        </span>
      </summary>
      {(tron || a.sponsor) && (
        <p class="asset-who muted">
          {tron && (
            <span>
              as <Addr a={chainAddress(a.chain_id, props.address)} testid="asset-address" chainId={a.chain_id} />{" "}
            </span>
          )}
          {a.sponsor && (
            <span>
              sponsor <Addr a={a.sponsor} chainId={a.chain_id} />
            </span>
          )}
        </p>
      )}
      {a.status === "frozen" && <Notice kind="warn">This wallet is frozen in {a.symbol}: new rewards are held.</Notice>}
      <dl class="balances" data-testid="balances">
        <div>
          <dt>Pending (payable)</dt>
          <dd>{amt(a.balances.pending, "bal-pending")}</dd>
        </div>
        <div>
          <dt>In a payout batch</dt>
          <dd>{amt(a.balances.batched, "bal-batched")}</dd>
        </div>
        <div>
          <dt>Paid out</dt>
          <dd>
            {amt(a.balances.settled, "bal-settled")}
            {a.balances.fees !== "0" && (
              <div class="muted small" data-testid="bal-net">
                you received {amt(a.balances.received, "bal-received")}; {amt(a.balances.fees, "bal-fees")} withdrawal fee kept
              </div>
            )}
          </dd>
        </div>
        <div>
          <dt>Held (frozen)</dt>
          <dd>{amt(a.balances.held, "bal-held")}</dd>
        </div>
        <div>
          <dt>Reserved for the next level</dt>
          <dd>{amt(a.balances.reserved, "bal-reserved")}</dd>
        </div>
        <div>
          <dt>Claimable from the contract</dt>
          <dd>{amt(a.balances.claimable, "bal-claimable")}</dd>
        </div>
        <div>
          <dt>You paid in</dt>
          <dd>{amt(a.balances.paid_in, "bal-paid-in")}</dd>
        </div>
      </dl>
      <section class="solvency-mine" aria-label={`${a.symbol}: your balance in the proof of solvency`} data-testid="solvency-badge">
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
          Your referral link: <code data-testid="ref-link">{link}</code> <CopyButton text={link} label={`Copy your ${a.symbol} referral link`} />
        </p>
        <ReferralShare link={link} symbol={a.symbol} />
      </div>
      <Fold title={`Direct referrals (${a.direct_referrals})`} testid="referrals" label={`${a.symbol} direct referrals`}>
        <Referrals a={a} />
      </Fold>
      <Fold title="Referral tree" testid="tree" label={`${a.symbol} referral tree`}>
        <Tree a={a} />
      </Fold>
      <Fold title="History and statement" testid="history" label={`${a.symbol} history`}>
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
  if (list.error) return <Notice kind="error">Could not load your payments: {errorText(list.error)}</Notice>;
  const items = list.data ?? [];
  if (items.length === 0) return null;
  return (
    <section class="panel" aria-labelledby="not-applied-title" data-testid="not-applied">
      <h3 id="not-applied-title">Payments not applied</h3>
      <p>
        These payments reached the contract but the ledger did not apply them: the amount is held in custody and not
        credited to you. An admin can refund it.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Payment</th>
            <th scope="col">Amount</th>
            <th scope="col">Reason</th>
            <th scope="col">Transaction</th>
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
        {x.kind === "register" ? "Registration" : "Retopup"} in {plan.symbol}
        {isTronChain(plan.chain_id) && ` on ${networkText(plan.chain_id)}`}
      </td>
      <td>
        <AssetAmt a={x.amount} testid="not-applied-amount" />
      </td>
      <td data-testid="not-applied-reason">{x.quarantine_reason ?? "refused by the ledger"}</td>
      <td>
        {x.event ? (
          <>
            <TxHash chainId={plan.chain_id} hash={x.event.tx_hash} testid="not-applied-tx" />{" "}
            <span class="muted">block {x.event.block}</span>
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
    <section aria-label="Direct referrals" data-testid="referrals">
      {page.error && <Notice kind="error">{errorText(page.error)}</Notice>}
      {page.data && page.data.items.length === 0 && <p class="muted">None yet: share your link.</p>}
      {page.data && page.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Wallet</th>
              <th scope="col">Block</th>
              <th scope="col">Their referrals</th>
              <th scope="col">Retopup</th>
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
                <td>{r.has_retopup ? "yes" : "no"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label="Referrals" />
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
          #{n.user_no} <Addr a={n.address} chainId={props.a.chain_id} /> <span class="muted">({n.direct_referrals} direct)</span>
        </span>
        {kids.length > 0 && <ul>{kids.map((k) => render(k, nodes))}</ul>}
      </li>
    );
  };
  return (
    <section aria-label="Referral tree" data-testid="tree">
      <p>
        <label class="inline">
          Depth{" "}
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
      {tree.data?.truncated && <p class="muted">Cut at 1000 people; lower the depth to see the top.</p>}
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
    <section aria-label="Reward history" data-testid="history">
      <Statement a={a} />
      {page.error && <LoadFailed error={page.error} what="your history" retry={page.reload} />}
      {page.data && page.data.items.length === 0 && <p class="muted">No rewards yet.</p>}
      {page.data && page.data.items.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What happened</th>
                <th scope="col">Amount</th>
                <th scope="col">Where it is</th>
                <th scope="col">Paid to you</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((r) => (
                <tr key={r.reward_no} data-testid="reward" data-reward={r.reward_no}>
                  <td data-testid="reward-when">
                    {r.credited_at ? dateTime(r.credited_at) : "—"}
                    {r.block != null && <div class="muted small">block {r.block}</div>}
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
                  <td>
                    {statusText(r.status)}
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
                                  (of <AssetAmt a={p.amount} testid="payment-gross" />, fee <AssetAmt a={p.fee} testid="payment-fee" />)
                                </span>
                              </>
                            )}{" "}
                            in <BatchText b={p.batch} chainId={a.chain_id} />
                            {p.outcome === "claimable" && " — the push failed: claim it from the contract"}
                          </div>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label="History" />
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
      await download("/v1/users/statement.csv", { asset_id: props.a.asset_id }, `statement-${props.a.symbol}-${new Date().toISOString().slice(0, 10)}.csv`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <p>
      <button type="button" onClick={save} disabled={busy} data-testid="statement-download">
        Download your {props.a.symbol} statement (CSV)
      </button>{" "}
      <span class="muted">every payment, credit and payout, with fees, dates and transactions</span>
      {error && <Notice kind="error" testid="statement-error">{error}</Notice>}
    </p>
  );
}

/** What a credit was, in words: "Direct reward", "Generation income, level 3", "Weekly rank bonus (rank 2)". */
function rewardText(r: RewardEntry): string {
  switch (r.kind) {
    case "DIRECT":
      return "Direct reward for a referral";
    case "POOL_L1":
    case "POOL_L2":
    case "POOL_L3":
      return `Pool reward, layer ${r.kind.slice(-1)} of a level-${r.level} place`;
    case "LEVEL":
      return `Retopup share, sponsor level ${r.level}`;
    case "GENERATION":
      return `Generation income, level ${r.level}`;
    case "RANK_BONUS":
      return `Weekly rank bonus (rank ${r.level})`;
    default:
      return `${r.kind} ${r.level}`;
  }
}

/** Where a credit's unpaid rest is, in words. */
function statusText(status: string): string {
  switch (status) {
    case "pending":
      return "payable";
    case "batched":
      return "in a payout batch";
    case "settled":
      return "paid";
    case "held":
      return "held (account frozen)";
    case "reserved":
      return "reserved for your next pool level";
    case "forfeited":
      return "forfeited";
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
  const flight = inFlight > 0n ? `, ${human(inFlight, a.decimals)} in a batch` : "";
  return `${human(paid, a.decimals)} of ${human(amount, a.decimals)} ${a.symbol} paid${flight}`;
}

/** "batch #12, executed in block 240 on 24 Nov 2026, 21:05 (transaction 0x…)" — or where it stands before that. */
function BatchText(props: { b: BatchRef; chainId: number }) {
  const { b } = props;
  const where =
    b.status === "executed"
      ? `, executed${b.executed_block != null ? ` in block ${b.executed_block}` : ""}${b.executed_at ? ` on ${time(b.executed_at)}` : ""}`
      : b.status === "failed"
        ? ", failed (the operator retries it)"
        : `, ${b.status}`;
  return (
    <span data-testid="batch-ref" data-batch-id={b.id} data-executed-at={b.executed_at ?? undefined}>
      batch #{b.id}
      {where}
      {b.tx_hash != null && (
        <>
          {" "}
          (transaction <TxHash chainId={props.chainId} hash={b.tx_hash} testid="batch-tx" />)
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
  if (record.error) return <LoadFailed error={record.error} what="your withdraw requests" retry={record.reload} />;
  if (!record.data) return null;
  const { items, payouts } = record.data;
  const last = payouts.last_executed;
  return (
    <>
      <p class="muted" data-testid="payout-cadence">
        {last == null
          ? `No ${a.symbol} payout batch has run yet.`
          : `${payouts.executed_last_30_days} ${a.symbol} payout ${payouts.executed_last_30_days === 1 ? "batch" : "batches"} ran in the last 30 days; the last, `}
        {last != null && (
          <>
            <BatchText
              b={{ id: last.id, status: "executed", tx_hash: last.tx_hash, executed_block: last.executed_block, executed_at: last.executed_at }}
              chainId={a.chain_id}
            />, was
            built {time(last.built_at)}.
          </>
        )}
        {payouts.in_progress > 0 && ` ${payouts.in_progress} in progress now.`}
      </p>
      {items.length > 0 && (
        <ul class="requests" aria-label="Your withdraw requests">
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
      Request #{w.id} for <AssetAmt a={w.amount} />, {dateTime(w.created_at)}: {requestText(w)}
      {w.status === "open" && props.expected && <> — expected in the batch due {dateTime(props.expected)}</>}
      {w.batch != null && (
        <>
          {" "}
          — <BatchText b={w.batch} chainId={a.chain_id} />
        </>
      )}
      {w.status === "open" && (
        <>
          {" "}
          <button type="button" onClick={cancel} disabled={busy} data-testid="withdraw-cancel" aria-label={`Cancel withdraw request #${w.id}`}>
            Cancel request
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
      return "waiting for the next batch";
    case "batched":
      return "taken by";
    case "cancelled":
      return `cancelled by ${w.cancelled_by === "member" ? "you" : "the operator"}${w.cancelled_at ? ` on ${dateTime(w.cancelled_at)}` : ""}`;
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
    <section aria-label={`${a.symbol} withdraw`} data-testid="withdraw">
      <h4>Get paid</h4>
      <p>
        Ask to be paid your pending <Amount base={a.balances.pending} decimals={a.decimals} symbol={a.symbol} testid="withdraw-amount" /> in
        the next payout batch
        {props.feeBps > 0 && (
          <span data-testid="withdraw-fee">
            {" "}
            — the plan keeps a {bps(props.feeBps)} withdrawal fee, so about{" "}
            <Amount
              base={(BigInt(a.balances.pending) - (BigInt(a.balances.pending) * BigInt(props.feeBps) + 9999n) / 10000n).toString()}
              decimals={a.decimals}
              symbol={a.symbol}
              testid="withdraw-net"
            />{" "}
            reaches your wallet
          </span>
        )}
        .
      </p>
      <p class="muted">
        The operator sends payout batches from the contract to each wallet; what a batch paid moves from "Pending" to
        "Paid out" above, and the reward history marks it settled. Batches pay every member's pending rewards, asked
        for or not: a request makes sure the operator knows, and cancelling it does not hold your rewards back.
      </p>
      <button type="button" class="primary" onClick={request} disabled={busy || !!answer || a.status !== "active" || a.balances.pending === "0"} data-testid="withdraw-request">
        Request withdrawal
      </button>
      {answer && (
        <Notice kind="ok" testid="withdraw-answer">
          Request #{answer.request.id} for <AssetAmt a={answer.request.amount} /> is {answer.request.status}. Claimable from
          the contract: <AssetAmt a={answer.claimable} />.
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
      if (call.to !== shown) throw new Error(`The API's claim pays ${call.to}, not ${shown}; nothing was sent.`);
      await c.ensureNetwork(call.chain_id);
      // Asked of the node first: a destination that refuses the payment would only cost gas.
      const refused = await c.refusalOf(call);
      if (refused) {
        setError(
          dest === c.hex
            ? `The contract cannot pay this wallet: it refuses the payment, as it refused the payout. Claim to another address you control. (${refused})`
            : `The contract cannot pay ${shown} now: ${refused}`,
        );
        return;
      }
      const id = await c.sendCall(call, "claim");
      setStatus(`Claim sent (${id.slice(0, 10)}…); waiting for it to be mined`);
      const r = await c.mined(id);
      setStatus(`Claimed ${call.claimable.human} to ${shown} in block ${r.blockNumber}; the dashboard updates once the block is confirmed.`);
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
    <section aria-label={`${a.symbol} claim`} data-testid="claim-section">
      <h4>Claim</h4>
      {offered && (
        <>
          <p data-testid="claimable-note">
            The contract holds <AssetAmt a={answer.claimable} /> for you (a payout it could not push to this wallet). Claim it to
            this or another address you control.
          </p>
          {fits ? (
            <>
              <label class="claim-to">
                Pay to
                <input value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} aria-invalid={!dest} spellcheck={false} data-testid="claim-to" />
                {!dest && <span class="field-error">{tron ? "A T… address." : "An 0x address (40 hex digits)."}</span>}
              </label>{" "}
              <button type="button" class="primary" onClick={doClaim} disabled={busy || !dest} data-testid="claim">
                Claim {answer.claimable.human}
              </button>
            </>
          ) : (
            <WalletMismatch symbol={a.symbol} chainId={a.chain_id} />
          )}
        </>
      )}
      {offer.error && claimable !== "0" && <Notice kind="error">Could not load the claim: {errorText(offer.error)}</Notice>}
      {status && <Notice kind="info" testid="claim-status">{status}</Notice>}
      {error && <Notice kind="error" testid="claim-error">{error}</Notice>}
    </section>
  );
}
