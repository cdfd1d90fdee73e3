// The signed-in user's standing per asset: balances by status, referral link, direct referrals, pool nodes
// with their matrix fill, the sponsor tree, reward history, retopup, withdraw request and claim.

import { useState } from "preact/hooks";
import { get, post } from "../lib/api";
import type {
  AssetPlan,
  AssetStanding,
  NodesPage,
  Page,
  Profile,
  Referral,
  RewardEntry,
  SignedPayment,
  SponsorTree,
  TreeNode,
  WithdrawAnswer,
} from "../lib/types";
import type { Connection } from "../lib/wallet";
import { errorText } from "../ui/account";
import { Addr, Amount, AssetAmt, CopyButton, Loading, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { Payment } from "./payment";

const PAGE = 10;
const MATRIX_SLOTS = 14;

export function Dashboard(props: { plans: AssetPlan[]; connection: Connection; version: number }) {
  const [tick, setTick] = useState(0);
  const me = useLoad(() => get<Profile>("/v1/users/me"), [props.version, tick]);
  if (me.loading && !me.data) return <Loading what="your dashboard" />;
  if (me.error) return <Notice kind="error">Could not load your dashboard: {errorText(me.error)}</Notice>;
  const profile = me.data!;
  if (profile.assets.length === 0) {
    return (
      <section class="panel" data-testid="not-registered">
        <h2>Dashboard</h2>
        <p>This wallet is not registered yet. Open a sponsor's referral link to join.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="dash-title" data-testid="dashboard">
      <h2 id="dash-title">Dashboard</h2>
      {profile.assets.map((a) => (
        <AssetDashboard
          key={a.asset_id}
          a={a}
          plan={props.plans.find((p) => p.asset_id === a.asset_id)}
          connection={props.connection}
          address={profile.address}
          refresh={() => setTick((t) => t + 1)}
        />
      ))}
    </section>
  );
}

function AssetDashboard(props: {
  a: AssetStanding;
  plan?: AssetPlan;
  connection: Connection;
  address: string;
  refresh: () => void;
}) {
  const { a } = props;
  const amt = (base: string, testid: string) => <Amount base={base} decimals={a.decimals} symbol={a.symbol} testid={testid} />;
  const link = `${location.origin}/?ref=${props.address}&asset=${a.asset_id}`;
  return (
    <article class="panel asset" data-testid={`asset-${a.symbol}`} aria-label={`${a.symbol} dashboard`}>
      <header class="asset-head">
        <h3>{a.symbol}</h3>
        <span class={`badge ${a.status}`} data-testid="status">
          {a.status}
        </span>
        <span class="muted">
          user #{a.user_no}
          {a.registered_block !== null && `, since block ${a.registered_block}`}
        </span>
        {a.sponsor && (
          <span class="muted">
            sponsor <Addr a={a.sponsor} />
          </span>
        )}
      </header>
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
          <dd>{amt(a.balances.settled, "bal-settled")}</dd>
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
      <p class="reflink">
        Your referral link: <code data-testid="ref-link">{link}</code> <CopyButton text={link} label={`Copy your ${a.symbol} referral link`} />
      </p>
      <div class="grid2">
        <Referrals a={a} />
        <PoolNodes a={a} owner={props.address} />
      </div>
      <Tree a={a} />
      <History a={a} />
      <div class="grid2">
        {props.plan && (
          <section aria-label={`${a.symbol} retopup`} data-testid="retopup">
            <h4>Retopup</h4>
            <p>
              A retopup costs <AssetAmt a={props.plan.retopup_fee} />; you have made {a.retopups}.
            </p>
            {a.status === "active" ? (
              <Payment
                connection={props.connection}
                plan={props.plan}
                kind="retopup"
                actionLabel={`Retopup ${props.plan.retopup_fee.human}`}
                ask={() => post<SignedPayment>("/v1/users/retopup", { asset_id: a.asset_id })}
                onApplied={props.refresh}
              />
            ) : (
              <p class="muted">Not possible while frozen.</p>
            )}
          </section>
        )}
        <Withdraw a={a} connection={props.connection} refresh={props.refresh} />
      </div>
    </article>
  );
}

function Referrals(props: { a: AssetStanding }) {
  const pager = usePager<number>();
  const page = useLoad(
    () => get<Page<Referral>>("/v1/users/referrals", { asset_id: props.a.asset_id, cursor: pager.cursor, limit: PAGE }),
    [props.a.asset_id, pager.cursor, props.a.direct_referrals],
  );
  return (
    <section aria-label="Direct referrals" data-testid="referrals">
      <h4>Direct referrals ({props.a.direct_referrals})</h4>
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
                  <Addr a={r.address} />
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

function PoolNodes(props: { a: AssetStanding; owner: string }) {
  const levels = props.a.pool_nodes;
  const [level, setLevel] = useState(levels[0]?.level ?? 1);
  const pager = usePager<number>();
  const page = useLoad(
    () =>
      levels.length === 0
        ? Promise.resolve<NodesPage>({ items: [], next_after: null })
        : get<NodesPage>("/v1/pool/nodes", { asset_id: props.a.asset_id, level, owner: props.owner, after: pager.cursor, limit: PAGE }),
    [props.a.asset_id, level, pager.cursor, levels.length],
  );
  return (
    <section aria-label="Pool nodes" data-testid="pool-nodes">
      <h4>Pool places</h4>
      {levels.length === 0 && <p class="muted">No pool place yet (every second referral buys you one).</p>}
      {levels.length > 0 && (
        <>
          <ul class="levels">
            {levels.map((l) => (
              <li key={l.level}>
                <button type="button" aria-pressed={l.level === level} onClick={() => { setLevel(l.level); pager.reset(); }} data-testid={`level-${l.level}`}>
                  Level {l.level}: {l.active} open, {l.completed} complete
                </button>
              </li>
            ))}
          </ul>
          <ul class="nodes">
            {page.data?.items.map((n) => (
              <li key={n.q} data-testid="pool-node">
                Position {n.q}: <meter min={0} max={MATRIX_SLOTS} value={n.filled_slots} aria-label={`matrix of position ${n.q}`} />{" "}
                <span data-testid="matrix-fill">
                  {n.filled_slots}/{MATRIX_SLOTS}
                </span>{" "}
                {n.status === "completed" ? `complete (block ${n.completed_block})` : "filling"}
              </li>
            ))}
          </ul>
          <Pager pager={pager} next={page.data?.next_after} label="Pool places" />
        </>
      )}
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
          #{n.user_no} <Addr a={n.address} /> <span class="muted">({n.direct_referrals} direct)</span>
        </span>
        {kids.length > 0 && <ul>{kids.map((k) => render(k, nodes))}</ul>}
      </li>
    );
  };
  return (
    <section aria-label="Referral tree" data-testid="tree">
      <h4>
        Referral tree{" "}
        <label class="inline">
          depth{" "}
          <select value={depth} onChange={(e) => setDepth(Number((e.target as HTMLSelectElement).value))}>
            {[1, 2, 3, 4, 5].map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
      </h4>
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
  const pager = usePager<number>();
  const page = useLoad(
    () => get<Page<RewardEntry>>("/v1/users/history", { asset_id: props.a.asset_id, cursor: pager.cursor, limit: PAGE }),
    [props.a.asset_id, pager.cursor, props.a.balances.pending, props.a.balances.settled],
  );
  return (
    <section aria-label="Reward history" data-testid="history">
      <h4>Reward history</h4>
      {page.data && page.data.items.length === 0 && <p class="muted">No rewards yet.</p>}
      {page.data && page.data.items.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Kind</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">Block</th>
            </tr>
          </thead>
          <tbody>
            {page.data.items.map((r) => (
              <tr key={r.reward_no} data-testid="reward">
                <td>{r.reward_no}</td>
                <td>
                  {kindText(r.kind)}
                  {r.kind !== "DIRECT" && ` ${r.level}`}
                </td>
                <td>
                  <AssetAmt a={r.amount} />
                </td>
                <td>{r.status}</td>
                <td>{r.block ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label="History" />
    </section>
  );
}

function kindText(kind: string): string {
  switch (kind) {
    case "DIRECT":
      return "Direct";
    case "POOL_L1":
    case "POOL_L2":
    case "POOL_L3":
      return `Pool layer ${kind.slice(-1)}, level`;
    case "LEVEL":
      return "Retopup, sponsor level";
    default:
      return kind;
  }
}

function Withdraw(props: { a: AssetStanding; connection: Connection; refresh: () => void }) {
  const { a } = props;
  const [answer, setAnswer] = useState<WithdrawAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [claim, setClaim] = useState<string | null>(null);
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
  const doClaim = async () => {
    const tx = answer?.claim_transaction;
    if (!tx) return;
    setBusy(true);
    setError(null);
    try {
      const hash = await props.connection.send(tx, "claim");
      setClaim(`Claim sent (${hash.slice(0, 10)}…); waiting for it to be mined`);
      const r = await props.connection.mined(hash);
      setClaim(`Claimed in block ${r.blockNumber}; the dashboard updates once the block is confirmed.`);
      props.refresh();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-label={`${a.symbol} withdraw`} data-testid="withdraw">
      <h4>Withdraw</h4>
      <p>
        Ask to be paid your pending <Amount base={a.balances.pending} decimals={a.decimals} symbol={a.symbol} /> in the next payout batch.
      </p>
      <button type="button" onClick={request} disabled={busy || !!answer || a.status !== "active" || a.balances.pending === "0"} data-testid="withdraw-request">
        Request withdrawal
      </button>
      {answer && (
        <Notice kind="ok" testid="withdraw-answer">
          Request #{answer.request.id} for <AssetAmt a={answer.request.amount} /> is {answer.request.status}. Claimable from
          the contract: <AssetAmt a={answer.claimable} />.
          {answer.claim_transaction && (
            <>
              {" "}
              <button type="button" class="primary" onClick={doClaim} disabled={busy} data-testid="claim">
                Claim {answer.claimable.human}
              </button>
            </>
          )}
        </Notice>
      )}
      {a.balances.claimable !== "0" && !answer && (
        <p class="muted">
          The contract holds <Amount base={a.balances.claimable} decimals={a.decimals} symbol={a.symbol} /> for you (a payout it could
          not push): request a withdrawal to get the claim transaction.
        </p>
      )}
      {claim && <Notice kind="info">{claim}</Notice>}
      {error && <Notice kind="error" testid="withdraw-error">{error}</Notice>}
    </section>
  );
}
