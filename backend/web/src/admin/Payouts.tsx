// Payouts: pending rewards (filtered, paged, with totals), building a batch within caps (the admin's and the
// signer's: per entry, per batch, rolling daily outflow), and each batch from signing to its on-chain outcome:
// sign, submit, retry, cancel once the chain proves it expired; with who was paid in part or left out, and why.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post } from "../lib/api";
import type { AssetAmount } from "../lib/types";
import { Addr, Amount, AssetAmt, Loading, Notice, Pager, TxHash, useLoad, usePager } from "../ui/bits";
import { LoadFailed, useSignedIn } from "../ui/account";
import { proposeSigned, type AuthorisationView } from "./Approvals";
import { networkLabel } from "../lib/networks";
import { type Asset, AssetPicker, ConfirmAction, IfCan, time, toBase, unixTime } from "./common";
import type { Schema } from "../generated/api";

type PendingPage = Schema<"PendingPage">;
export type BatchView = Schema<"BatchView">;
/** The limits a build applied: the request's caps and the signer's policy at that moment (only in the build's answer). */
type BuildLimits = Schema<"BuildLimitsView">;
type BuildAnswer = Schema<"BuildAnswer">;
type SendResult = Schema<"SendResult">;

const PAGE = 20;

/** What a follow-up found of the batch's previous transaction, as the send result's `previous` says it. */
const PREVIOUS: Record<string, string> = {
  expired: "the previous transaction is provably dead",
  unseen: "the previous transaction is in no block yet: its signed bytes were broadcast again",
  stuck: "the previous transaction stayed unmined too long: replaced with the same nonce and higher fees",
  at_fee_ceiling:
    "the transaction has stayed unmined too long, but the fee ceiling leaves no room for a higher fee: it waits",
};

export function Payouts(props: { assets: Asset[] }) {
  const [assetId, setAssetId] = useState(props.assets[0]?.asset_id ?? 1);
  const asset = props.assets.find((a) => a.asset_id === assetId)!;
  const [selected, setSelected] = useState<number | null>(null);
  const [built, setBuilt] = useState<BuildAnswer | null>(null);
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return (
    <section aria-labelledby="payouts-title" data-testid="payouts">
      <h2 id="payouts-title">Payouts</h2>
      <AssetPicker assets={props.assets} value={assetId} onChange={(id) => { setAssetId(id); setSelected(null); }} />
      <Pending asset={asset} version={version} onBuilt={(b) => { setBuilt(b); setSelected(b.id); changed(); }} />
      <Batches asset={asset} version={version} selected={selected} onSelect={setSelected} />
      {selected !== null && (
        <BatchDetail id={selected} asset={asset} onChange={changed} version={version} limits={built?.id === selected ? built.limits : undefined} />
      )}
    </section>
  );
}

function Pending(props: { asset: Asset; version: number; onBuilt: (b: BuildAnswer) => void }) {
  const { asset } = props;
  const [user, setUser] = useState("");
  const [min, setMin] = useState("");
  const [requested, setRequested] = useState<"" | "true" | "false">("");
  const [filters, setFilters] = useState<{ user?: string; min_amount?: string; requested?: string }>({});
  const pager = usePager<number>();
  const page = useLoad(
    () => get<PendingPage>("/v1/admin/payouts/pending", { asset_id: asset.asset_id, ...filters, after: pager.cursor, limit: PAGE }),
    [asset.asset_id, filters, pager.cursor, props.version],
  );
  const minBase = min.trim() === "" ? null : toBase(min, asset.decimals);
  const minInvalid = min.trim() !== "" && minBase === null;
  const apply = (e: Event) => {
    e.preventDefault();
    if (minInvalid) return;
    pager.reset();
    setFilters({ user: user.trim() || undefined, min_amount: minBase?.toString(), requested: requested || undefined });
  };

  const [maxEntries, setMaxEntries] = useState("100");
  const [maxTotal, setMaxTotal] = useState("");
  const entriesN = Number(maxEntries);
  const entriesInvalid = !Number.isInteger(entriesN) || entriesN < 1 || entriesN > 500;
  const totalBase = maxTotal.trim() === "" ? null : toBase(maxTotal, asset.decimals);
  const totalInvalid = maxTotal.trim() !== "" && (totalBase === null || totalBase === 0n);

  return (
    <section class="panel" aria-label="Pending rewards" data-testid="pending">
      <h3>Pending rewards</h3>
      <form class="form-grid" onSubmit={apply}>
        <label>
          User (address)
          <input value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} placeholder="0x…" />
        </label>
        <label>
          At least ({asset.symbol})
          <input value={min} onInput={(e) => setMin((e.target as HTMLInputElement).value)} inputMode="decimal" aria-invalid={minInvalid} />
          {minInvalid && <span class="field-error">A number with at most {asset.decimals} decimals.</span>}
        </label>
        <label>
          Withdraw request
          <select value={requested} onChange={(e) => setRequested((e.target as HTMLSelectElement).value as "" | "true" | "false")}>
            <option value="">any</option>
            <option value="true">requested</option>
            <option value="false">not requested</option>
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {page.loading && !page.data && <Loading what="pending rewards" />}
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      {page.data && (
        <>
          <p data-testid="pending-totals">
            <strong>{page.data.totals.users}</strong> users, {page.data.totals.rewards} rewards,{" "}
            <AssetAmt a={page.data.totals.amount} testid="pending-total" /> pending in all.
          </p>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Wallet</th>
                  <th scope="col">Pending</th>
                  <th scope="col">Rewards</th>
                  <th scope="col">Withdraw request</th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.map((u) => (
                  <tr key={u.user_no} data-testid="pending-row">
                    <td>#{u.user_no}</td>
                    <td>
                      <Addr a={u.address} chainId={asset.chain_id} />
                    </td>
                    <td>
                      <AssetAmt a={u.amount} />
                    </td>
                    <td>{u.rewards}</td>
                    <td>{u.withdraw_request ? `#${u.withdraw_request}` : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {page.data.items.length === 0 && (
            <p class="muted" data-testid="empty">
              No pending rewards{min || requested ? " match this filter" : ""}.
            </p>
          )}
          <Pager pager={pager} next={page.data.next_cursor} label="Pending" />
        </>
      )}
      <IfCan need="finance">
      <h4>Build a batch</h4>
      <div class="form-grid">
        <label>
          Most users in the batch (1–500)
          <input value={maxEntries} onInput={(e) => setMaxEntries((e.target as HTMLInputElement).value)} inputMode="numeric" aria-invalid={entriesInvalid} data-testid="max-entries" />
          {entriesInvalid && <span class="field-error">A whole number from 1 to 500.</span>}
        </label>
        <label>
          Most in total ({asset.symbol}, empty: no cap)
          <input value={maxTotal} onInput={(e) => setMaxTotal((e.target as HTMLInputElement).value)} inputMode="decimal" aria-invalid={totalInvalid} data-testid="max-total" />
          {totalInvalid && <span class="field-error">A positive number with at most {asset.decimals} decimals.</span>}
        </label>
        <ConfirmAction
          needs="finance"
          label="Build batch"
          title={`Build a ${asset.symbol} payout batch`}
          testid="build-batch"
          disabled={entriesInvalid || totalInvalid || page.data?.totals.users === 0}
          describe={() => (
            <p>
              Takes the pending rewards of up to {entriesN} users (lowest user number first)
              {totalBase !== null && (
                <>
                  {" "}worth at most <Amount base={totalBase} decimals={asset.decimals} symbol={asset.symbol} />
                </>
              )}{" "}
              out of {page.data?.totals.users ?? "?"} users with <AssetAmt a={page.data?.totals.amount ?? { base: "0", human: "?" }} /> pending.
              Their rewards become <em>batched</em> until the batch executes or is cancelled. Nothing is signed or sent yet.
              The signer's caps apply too: a user owed more than its per-entry cap is paid that much now and the rest later.
            </p>
          )}
          failed={buildRefusal}
          act={() =>
            post<BuildAnswer>("/v1/admin/payouts/batches", {
              asset_id: asset.asset_id,
              max_entries: entriesN,
              ...(totalBase !== null ? { max_total: totalBase.toString() } : {}),
            })
          }
          done={props.onBuilt}
        />
      </div>
      </IfCan>
    </section>
  );
}

const STATUSES = ["", "building", "signed", "submitted", "executed", "failed", "cancelled"];

function Batches(props: { asset: Asset; version: number; selected: number | null; onSelect: (id: number) => void }) {
  const [status, setStatus] = useState("");
  const pager = usePager<number>();
  const page = useLoad(
    () => get<Schema<"Page_BatchView">>("/v1/admin/payouts/batches", { asset_id: props.asset.asset_id, status, cursor: pager.cursor, limit: 10 }),
    [props.asset.asset_id, status, pager.cursor, props.version],
  );
  return (
    <section class="panel" aria-label="Batches" data-testid="batches">
      <h3>Batches</h3>
      <label class="inline">
        Status{" "}
        <select value={status} onChange={(e) => { setStatus((e.target as HTMLSelectElement).value); pager.reset(); }}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s || "any"}
            </option>
          ))}
        </select>
      </label>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Batch</th>
              <th scope="col">Status</th>
              <th scope="col">Entries</th>
              <th scope="col">Total</th>
              <th scope="col">Paid in part / left out</th>
              <th scope="col">Created</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((b) => (
              <tr key={b.id} aria-selected={b.id === props.selected} data-testid="batch-row">
                <td>#{b.id}</td>
                <td data-testid="batch-row-status">{b.status}</td>
                <td>{b.entry_count}</td>
                <td>
                  <AssetAmt a={b.total} />
                </td>
                <td data-testid="batch-row-limits">{shortfall(b)}</td>
                <td>{time(b.created_at)}</td>
                <td>
                  <button type="button" onClick={() => props.onSelect(b.id)}>
                    Open
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          {status ? `No ${status} batches.` : "No batches yet."}
        </p>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label="Batches" />
    </section>
  );
}

function BatchDetail(props: { id: number; asset: Asset; version: number; onChange: () => void; limits?: BuildLimits }) {
  const [tick, setTick] = useState(0);
  const [sent, setSent] = useState<SendResult | null>(null);
  const [proposed, setProposed] = useState<AuthorisationView | null>(null);
  const signed = useSignedIn();
  const batch = useLoad(() => get<BatchView>(`/v1/admin/payouts/batches/${props.id}`), [props.id, props.version, tick]);
  const refresh = () => {
    setTick((t) => t + 1);
    props.onChange();
  };
  // A sent batch settles from the chain's confirmed events: look again until it has.
  const status = batch.data?.status;
  useEffect(() => {
    if (status !== "submitted") return;
    const timer = setTimeout(refresh, 2000);
    return () => clearTimeout(timer);
  }, [status, tick]);
  if (batch.loading && !batch.data) return <Loading what={`batch ${props.id}`} />;
  if (batch.error) return <LoadFailed error={batch.error} retry={batch.reload} />;
  const b = batch.data!;
  const expired = b.deadline != null && b.deadline * 1000 < Date.now();
  return (
    <section class="panel" aria-label={`Batch ${b.id}`} data-testid="batch-detail">
      <h3>
        Batch #{b.id}: <span data-testid="batch-status">{b.status}</span>
      </h3>
      <dl class="balances">
        <div>
          <dt>Total</dt>
          <dd>
            <AssetAmt a={b.total} testid="batch-total" />
          </dd>
        </div>
        <div>
          <dt>Entries</dt>
          <dd>{b.entry_count}</dd>
        </div>
        <div>
          <dt>Paid in part</dt>
          <dd data-testid="batch-partial">{b.partial_count}</dd>
        </div>
        <div>
          <dt>Users left out</dt>
          <dd data-testid="batch-left-out">{b.left_out_count}</dd>
        </div>
        <div>
          <dt>Nonce</dt>
          <dd>
            {b.nonce ? (
              <code title={b.nonce} data-testid="batch-nonce" data-nonce={b.nonce}>
                {b.nonce.length > 16 ? `${b.nonce.slice(0, 8)}…${b.nonce.slice(-6)}` : b.nonce}
              </code>
            ) : (
              "—"
            )}
          </dd>
        </div>
        <div>
          <dt>Deadline</dt>
          <dd data-testid="batch-deadline">{unixTime(b.deadline)}{expired && b.status !== "executed" ? " (passed)" : ""}</dd>
        </div>
        <div>
          <dt>Transaction</dt>
          <dd data-testid="batch-tx">{b.tx_hash ? <TxHash chainId={b.chain_id} hash={b.tx_hash} /> : "—"}</dd>
        </div>
        <div>
          <dt>Executed in block</dt>
          <dd data-testid="batch-block">{b.executed_block ?? "—"}</dd>
        </div>
      </dl>
      <div class="actions-row">
        <button type="button" class="primary" onClick={() => setTick((t) => t + 1)} data-testid="batch-refresh">
          Refresh
        </button>{" "}
        {b.status === "building" && (
          <ConfirmAction
            needs="finance"
            label="Propose for approval"
            title={`Propose batch #${b.id} for approval`}
            testid="batch-propose"
            describe={() => (
              <>
                <p>
                  Fixes the batch's nonce and deadline and asks your wallet to sign that you prepared it: <AssetAmt a={b.total} /> to
                  these wallets. Another approver then approves it in the Approvals tab.
                </p>
                <Recipients b={b} />
              </>
            )}
            act={() => proposeSigned(signed, { kind: "payout_batch", subject: b.id })}
            done={(p) => {
              setProposed(p);
              refresh();
            }}
          />
        )}{" "}
        {b.status === "building" && (
          <ConfirmAction
            needs="finance"
            label="Sign"
            title={`Sign batch #${b.id}`}
            testid="batch-sign"
            describe={() => (
              <>
                <p>
                  The signer authorises paying <AssetAmt a={b.total} /> to {b.entry_count} wallets with one fixed nonce. It is
                  not sent yet. Where the signer requires staff approvals, it signs only once the batch's proposal is approved.
                </p>
                <Recipients b={b} />
              </>
            )}
            act={() => post<BatchView>(`/v1/admin/payouts/batches/${b.id}/sign`, {})}
            done={refresh}
          />
        )}
        {b.status === "signed" && (
          <ConfirmAction
            needs="finance"
            label="Submit"
            title={`Send batch #${b.id}`}
            testid="batch-submit"
            describe={() => (
              <>
                <p>
                  Sends the signed batch on {networkLabel(b.chain_id)} with the operator key: <AssetAmt a={b.total} /> leaves the contract to{" "}
                  {b.entry_count} wallets once mined.
                </p>
                <Recipients b={b} />
              </>
            )}
            act={() => post<SendResult>(`/v1/admin/payouts/batches/${b.id}/submit`, {})}
            done={(r) => {
              setSent(r);
              refresh();
            }}
          />
        )}
        {b.status === "submitted" && (
          <ConfirmAction
            needs="finance"
            label="Retry"
            title={`Retry batch #${b.id}`}
            testid="batch-retry"
            describe={() => (
              <p>
                Checks the last transaction on-chain. If it was dropped or reverted, the same signed batch (same nonce) is sent
                again, so it can still execute at most once. If it is pending or executed, nothing is sent.
              </p>
            )}
            act={() => post<SendResult>(`/v1/admin/payouts/batches/${b.id}/retry`, {})}
            done={(r) => {
              setSent(r);
              refresh();
            }}
          />
        )}
        {["building", "signed", "submitted", "failed"].includes(b.status) && (
          <ConfirmAction
            needs="finance"
            label="Cancel batch"
            danger
            title={`Cancel batch #${b.id}`}
            testid="batch-cancel"
            describe={() => (
              <p>
                Allowed only when the chain proves the batch can no longer execute (never signed, or its deadline{" "}
                {unixTime(b.deadline)} is below a confirmed block's time with its nonce unused). Its {b.entry_count} users'
                rewards (<AssetAmt a={b.total} />) become pending again for a new batch.
              </p>
            )}
            act={() => post<BatchView>(`/v1/admin/payouts/batches/${b.id}/cancel`, {})}
            done={refresh}
          />
        )}
      </div>
      {proposed && (
        <Notice kind="info" testid="batch-proposed">
          Proposal #{proposed.id} is {proposed.stage}
          {proposed.missing.length > 0 ? `: still missing ${proposed.missing.join("; ")}` : ""}. <a href="#approvals">Approvals</a>
        </Notice>
      )}
      {sent && (
        <Notice kind="info" testid="send-result">
          {sent.sent ? "Sent" : "Nothing sent"}: {sent.outcome}
          {sent.previous && ` (${PREVIOUS[sent.previous] ?? `the previous transaction was ${sent.previous}`})`}, transaction <TxHash chainId={b.chain_id} hash={sent.tx_hash} full />
          {sent.executed_block != null && `, executed in block ${sent.executed_block}`}.
        </Notice>
      )}
      {b.status === "submitted" && <p class="muted">Executed once the listener sees the confirmed event; press Refresh.</p>}
      {props.limits && <Limits l={props.limits} />}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Wallet</th>
              <th scope="col">Amount</th>
              <th scope="col">On-chain outcome</th>
            </tr>
          </thead>
          <tbody>
            {b.entries.map((e) => (
              <tr key={e.position} data-testid="batch-entry">
                <td>{e.position}</td>
                <td>
                  <Addr a={e.address} chainId={b.chain_id} />
                </td>
                <td>
                  <AssetAmt a={e.amount} />
                  {e.limited_by && (
                    <div class="muted" data-testid="entry-partial" data-limited-by={e.limited_by}>
                      Paid in part: {e.amount.human} now of {e.owed.human} owed, limited by {limitText(e.limited_by)}; the
                      rest stays pending.
                    </div>
                  )}
                </td>
                <td data-testid="entry-outcome">{e.outcome ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {b.left_out_count > 0 && <LeftOut b={b} />}
    </section>
  );
}

/** The limits the build applied (known only from the build's answer, so shown after a build in this session). */
/** Who a batch pays, for a confirmation: every recipient and amount (the first 50, then how many more). */
function Recipients(props: { b: BatchView }) {
  const shown = props.b.entries.slice(0, 50);
  return (
    <ul class="plain recipients" data-testid="confirm-recipients">
      {shown.map((e) => (
        <li key={e.position}>
          <Addr a={e.address} />: <AssetAmt a={e.amount} />
        </li>
      ))}
      {props.b.entries.length > shown.length && <li>…and {props.b.entries.length - shown.length} more</li>}
    </ul>
  );
}

function Limits(props: { l: BuildLimits }) {
  const { l } = props;
  const rows: [string, string, ComponentChildren][] = [
    ["Most users", "limit-entries", l.max_entries],
    ["Batch total cap", "limit-total", <Cap a={l.max_total} />],
    ["Per-entry cap (signer)", "limit-entry", <Cap a={l.max_entry} />],
    ["Signed in the rolling 24 h", "limit-used", <AssetAmt a={l.daily_outflow_used} />],
    ["Daily outflow cap", "limit-daily", <Cap a={l.daily_outflow_cap} />],
    ["Daily room before this build", "limit-room", <Cap a={l.daily_room} />],
    ["Room grows at", "limit-grows", l.daily_room_grows_at ? unixTime(l.daily_room_grows_at) : "no signed outflow in the window"],
  ];
  return (
    <div data-testid="build-limits">
      <h4>Limits this build applied</h4>
      <dl class="balances">
        {rows.map(([dt, id, dd]) => (
          <div key={id}>
            <dt>{dt}</dt>
            <dd data-testid={id}>{dd}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function LeftOut(props: { b: BatchView }) {
  const { b } = props;
  const more = b.left_out_count - b.left_out.length;
  return (
    <div data-testid="left-out">
      <h4>
        Left out: {b.left_out_count} user{b.left_out_count === 1 ? "" : "s"} with payable rewards (they stay pending)
      </h4>
      <ul>
        {b.left_out_by_reason.map((r) => (
          <li key={r.reason} data-testid="left-out-reason" data-reason={r.reason}>
            {leftOutText(r.reason)}: {r.users} user{r.users === 1 ? "" : "s"}, <AssetAmt a={r.owed} /> owed
          </li>
        ))}
      </ul>
      <details open={b.left_out.length <= 10}>
        <summary>{more > 0 ? `The first ${b.left_out.length} by user number` : "Who"}</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Wallet</th>
                <th scope="col">Owed</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {b.left_out.map((l) => (
                <tr key={l.address} data-testid="left-out-row">
                  <td>
                    <Addr a={l.address} chainId={b.chain_id} />
                  </td>
                  <td>
                    <AssetAmt a={l.owed} />
                  </td>
                  <td data-reason={l.reason}>{leftOutText(l.reason)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
      {more > 0 && <p data-testid="left-out-more">… and {more} more not listed.</p>}
    </div>
  );
}

/** 2^128 - 1 base units: the ledger's "no cap". */
const NO_CAP = (1n << 128n) - 1n;

function Cap(props: { a: AssetAmount }) {
  return BigInt(props.a.base) >= NO_CAP ? <>no cap</> : <AssetAmt a={props.a} />;
}

/** Why an entry pays less than owed. */
function limitText(limitedBy: string): string {
  return (
    { per_entry_cap: "the signer's per-entry cap", batch_total: "the batch's total cap", daily_outflow_cap: "the signer's daily outflow room" }[
      limitedBy
    ] ?? limitedBy
  );
}

/** Why a user with payable rewards is not in the batch. */
function leftOutText(reason: string): string {
  return (
    {
      max_entries: "batch full (most users reached)",
      batch_total: "batch total cap reached",
      daily_outflow_cap: "daily outflow room used up",
      recipient_not_allowed: "recipient refused by the signer",
    }[reason] ?? reason
  );
}

function shortfall(b: BatchView): string {
  const parts = [b.partial_count > 0 && `${b.partial_count} in part`, b.left_out_count > 0 && `${b.left_out_count} left out`].filter(Boolean);
  return parts.length ? parts.join(", ") : "—";
}

/** "in about 2 h 5 min" from seconds. */
function about(secs: number): string {
  if (secs < 60) return `${secs} s`;
  const m = Math.ceil(secs / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ""}`;
}

/** A build's refusals that are not errors of the page: no room today, nothing to pay, the signer unreachable. */
function buildRefusal(e: unknown) {
  if (!(e instanceof ApiError)) return null;
  if (e.code === "daily_outflow_cap_reached") {
    return (
      <Notice kind="warn" testid="build-cap-reached">
        <p>
          <strong>Daily outflow cap reached: no batch was built.</strong> {e.message}.
        </p>
        {e.retryAfter !== null && (
          <p data-testid="build-retry-at" data-retry-after={e.retryAfter}>
            Room returns in about {about(e.retryAfter)}, at {new Date(e.at + e.retryAfter * 1000).toLocaleString()}.
          </p>
        )}
      </Notice>
    );
  }
  if (e.code === "nothing_payable") {
    return (
      <Notice kind="info" testid="build-nothing-payable">
        Nothing to pay: {e.message}.
      </Notice>
    );
  }
  if (e.code === "signer_unavailable" || e.code === "signer_refused") {
    return (
      <Notice kind="error" testid="build-batch-error">
        The signer could not be asked for its limits, so nothing was built: {e.message} ({e.code}).
      </Notice>
    );
  }
  return null;
}
