// Monitoring: the reconciler's latest results per asset (custody variance, solvency), charts over recent
// runs, open alerts (acknowledge), quarantined events (a refused payment refunded to its payer), each chain's
// listener lag and halt, and requests for a replay or a reconciliation run.

import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post } from "../lib/api";
import { human, shortAddress } from "../lib/format";
import { Addr, Amount, Loading, Notice, Pager, TxHash, useLoad, usePager } from "../ui/bits";
import { errorText, LoadFailed, useSignedIn } from "../ui/account";
import { networkLabel, networkName } from "../lib/networks";
import { assetKey, chainAddress, isTronChain, parseAnyAddress } from "../lib/tron";
import { type Asset, ConfirmAction, time, useCan } from "./common";
import { BarChart, LineChart, type Series } from "./charts";
import { sendTransfer, type TransferView } from "./Treasury";
import { proposeSigned } from "./Approvals";
import type { Schema } from "../generated/api";

type Reconciliation = Schema<"Reconciliation">;
type QuarantinedEvent = Schema<"QuarantinedEvent">;
type OpsRequest = Schema<"OpsRequest">;

/** Runs shown in the charts. */
const HISTORY_RUNS = 20;

/** The asset of a result: its token is 0x here, the plan's is in the chain's own form (`T…` on TRON). */
function assetOf(assets: Asset[], r: { chain_id: number; token: string }): Asset | undefined {
  const token = parseAnyAddress(r.token);
  return assets.find((a) => a.chain_id === r.chain_id && parseAnyAddress(a.token) === token);
}

/** "BNB", "USDT on TRON Nile"; an asset the console does not know by its network and token. */
function assetName(a: Asset | undefined, r: { chain_id: number; token: string }): string {
  if (!a) return `token ${shortAddress(chainAddress(r.chain_id, r.token))} on ${networkName(r.chain_id)}`;
  return isTronChain(a.chain_id) ? `${a.symbol} on ${networkName(a.chain_id)}` : a.symbol;
}

export function Monitoring(props: { assets: Asset[] }) {
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return (
    <section aria-labelledby="monitoring-title" data-testid="monitoring">
      <h2 id="monitoring-title">Monitoring</h2>
      <Listeners version={version} />
      <Reconcile assets={props.assets} version={version} />
      <Alerts version={version} onChange={changed} />
      <Quarantine assets={props.assets} />
      <Requests onChange={changed} />
    </section>
  );
}

function Listeners(props: { version: number }) {
  const list = useLoad(() => get<Schema<"ListenersPage">>("/v1/admin/monitoring/listeners"), [props.version]);
  return (
    <section class="panel" aria-label="Listeners" data-testid="listeners">
      <h3>Listeners</h3>
      {list.error && <LoadFailed error={list.error} retry={list.reload} />}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Chain</th>
              <th scope="col">Confirmed block</th>
              <th scope="col">Head</th>
              <th scope="col">Lag (blocks)</th>
              <th scope="col">Head seen</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((l) => (
              <tr key={l.chain_id} data-testid="listener-row">
                <td>{networkLabel(l.chain_id)}</td>
                <td>{l.confirmed_block ?? "—"}</td>
                <td>{l.chain_head ?? "—"}</td>
                <td data-testid="listener-lag">{l.lag_blocks ?? "—"}</td>
                <td>{l.head_age_seconds == null ? "never" : `${Math.round(l.head_age_seconds)} s ago`}</td>
                <td data-testid="listener-state">{l.halted_reason ? <strong class="field-error">halted: {l.halted_reason}</strong> : "running"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          No listener has reported yet.
        </p>
      )}
    </section>
  );
}

/** The latest run and up to HISTORY_RUNS before it (run ids are consecutive). */
async function loadRuns(): Promise<Reconciliation[]> {
  let latest: Reconciliation;
  try {
    latest = await get<Reconciliation>("/v1/admin/monitoring/reconciliation");
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return [];
    throw e;
  }
  const ids = Array.from({ length: Math.min(HISTORY_RUNS - 1, latest.run.id - 1) }, (_, i) => latest.run.id - 1 - i);
  const older = await Promise.all(
    ids.map((id) => get<Reconciliation>("/v1/admin/monitoring/reconciliation", { run_id: id }).catch(() => null)),
  );
  return [...older.filter((r): r is Reconciliation => r !== null).reverse(), latest];
}

function Reconcile(props: { assets: Asset[]; version: number }) {
  const runs = useLoad(loadRuns, [props.version]);
  if (runs.loading && !runs.data) return <Loading what="reconciliation results" />;
  if (runs.error) return <LoadFailed error={runs.error} retry={runs.reload} />;
  const all = runs.data ?? [];
  const latest = all[all.length - 1];
  if (!latest) return <Notice kind="info">The reconciler has not run yet.</Notice>;
  return (
    <section class="panel" aria-label="Reconciliation" data-testid="reconciliation">
      <h3>
        Reconciliation run #{latest.run.id} <span class="muted">({time(latest.run.finished_at ?? latest.run.started_at)})</span>
      </h3>
      {latest.run.errors.length > 0 && <Notice kind="error">Chains not read: {latest.run.errors.join("; ")}</Notice>}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Asset</th>
              <th scope="col">Block</th>
              <th scope="col">Contract balance</th>
              <th scope="col">Ledger expects</th>
              <th scope="col">Variance</th>
              <th scope="col">Owed to users</th>
              <th scope="col">Solvency margin</th>
            </tr>
          </thead>
          <tbody>
            {latest.results.map((r) => {
              const a = assetOf(props.assets, r);
              const d = a?.decimals ?? 0;
              const sym = a?.symbol ?? "";
              const amt = (v: string, id?: string) => <Amount base={v} decimals={d} symbol={sym} testid={id} />;
              return (
                <tr key={`${r.chain_id}-${r.token}`} data-testid={`recon-${a ? assetKey(a.symbol, a.chain_id) : r.token}`}>
                  <td>{assetName(a, r)}</td>
                  <td>{r.block_number}</td>
                  <td>{amt(r.onchain_balance, "recon-onchain")}</td>
                  <td>{amt(r.expected_balance, "recon-expected")}</td>
                  <td class={r.variance === "0" ? "" : "field-error"} data-testid="recon-variance">
                    {r.variance === "0" ? "none" : amt(r.variance)}
                  </td>
                  <td>{amt(r.liabilities)}</td>
                  <td class={r.solvency_margin.startsWith("-") ? "field-error" : ""} data-testid="recon-solvency">
                    {amt(r.solvency_margin)} {r.solvency_margin.startsWith("-") ? "INSOLVENT" : "solvent"}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {latest.firing.length > 0 && (
        <Notice kind="error" testid="firing">
          Firing now: {latest.firing.map((f) => `${f.dedup_key} (since ${time(f.since)})`).join("; ")}
        </Notice>
      )}
      <Charts runs={all} assets={props.assets} />
    </section>
  );
}

function Charts(props: { runs: Reconciliation[]; assets: Asset[] }) {
  const keys = [...new Set(props.runs.flatMap((r) => r.results.map((x) => `${x.chain_id}:${x.token.toLowerCase()}`)))];
  return (
    <div class="grid2">
      {keys.map((k) => {
        const [chain, token] = k.split(":");
        const a = assetOf(props.assets, { chain_id: Number(chain), token });
        const name = assetName(a, { chain_id: Number(chain), token });
        const d = a?.decimals ?? 0;
        const points = props.runs.flatMap((run) => {
          const r = run.results.find((x) => `${x.chain_id}:${x.token.toLowerCase()}` === k);
          return r ? [{ run: run.run.id, r }] : [];
        });
        const series: Series[] = [
          { name: "Contract balance (chain)", cls: "c-chain", values: points.map((p) => Number(human(p.r.onchain_balance, d))) },
          { name: "Ledger expects", cls: "c-ledger", values: points.map((p) => Number(human(p.r.expected_balance, d))), dashed: true },
          { name: "Owed to users", cls: "c-owed", values: points.map((p) => Number(human(p.r.liabilities, d))) },
        ];
        return (
          <figure class="chart" key={k} data-testid={`chart-${a ? assetKey(a.symbol, a.chain_id) : k}`}>
            <figcaption>
              {name}: custody vs ledger over the last {points.length} runs
            </figcaption>
            <LineChart series={series} labels={points.map((p) => `#${p.run}`)} unit={a?.symbol ?? ""} />
          </figure>
        );
      })}
      <figure class="chart" data-testid="chart-liabilities">
        <figcaption>Owed to users now, per asset (latest run)</figcaption>
        <BarChart
          bars={(props.runs[props.runs.length - 1]?.results ?? []).map((r) => {
            const a = assetOf(props.assets, r);
            return { label: a ? assetKey(a.symbol, a.chain_id) : shortAddress(r.token), value: Number(human(r.liabilities, a?.decimals ?? 0)), text: `${human(r.liabilities, a?.decimals ?? 0)} ${a?.symbol ?? ""}` };
          })}
        />
      </figure>
    </div>
  );
}

function Alerts(props: { version: number; onChange: () => void }) {
  const [all, setAll] = useState(false);
  const pager = usePager<string>();
  const page = useLoad(
    () => get<Schema<"LogPage">>("/v1/admin/logs", { kind: "alerts", all, cursor: pager.cursor, limit: 10 }),
    [all, pager.cursor, props.version],
  );
  return (
    <section class="panel" aria-label="Alerts" data-testid="alerts">
      <h3>Alerts</h3>
      <label class="inline">
        <input type="checkbox" checked={all} onChange={() => { setAll(!all); pager.reset(); }} /> include acknowledged
      </label>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      {page.data?.alerts.length === 0 && <p class="muted">No open alerts.</p>}
      <ul class="alerts">
        {page.data?.alerts.map((a) => (
          <li key={a.id} data-testid="alert">
            <strong data-testid="alert-title" title={a.kind}>
              {alertTitle(a.kind)}
            </strong>
            : {a.message} <span class="muted">({time(a.created_at)})</span>{" "}
            {a.acknowledged_at ? (
              <span class="muted">acknowledged {time(a.acknowledged_at)}</span>
            ) : (
              <ConfirmAction
                needs="acting"
                label="Acknowledge"
                title={`Acknowledge alert ${a.id}`}
                testid="ack"
                describe={() => <p>Marks “{a.message}” as seen by you (audited). The condition itself is not changed.</p>}
                act={() => post(`/v1/admin/alerts/${a.id}/ack`, {})}
                done={props.onChange}
              />
            )}
          </li>
        ))}
      </ul>
      <Pager pager={pager} next={page.data?.next_cursor} label="Alerts" />
    </section>
  );
}

/** What an alert's kind means, in words (the kind itself stays on hover: it is what the runbooks are filed under). */
function alertTitle(kind: string): string {
  switch (kind) {
    case "event_quarantined":
      return "A payment was not applied (quarantined)";
    case "listener_halted":
      return "The chain listener stopped";
    case "treasury_transfer_unknown":
      return "Funds left custody without a transfer signed here";
    case "treasury_transfer_expired_executed":
      return "A transfer marked expired was executed after all";
    case "refund_of_resolved_event":
      return "A refund paid an event already resolved";
    default:
      return kind.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  }
}

/** `chain:tx:log`, a quarantined event's key. */
function eventKey(q: QuarantinedEvent): string {
  return `${q.chain_id}:${q.tx_hash}:${q.log_index}`;
}

/** Where a quarantined event stands: open, a refund on its way, refunded. */
function quarantineState(q: QuarantinedEvent): string {
  const r = q.refund;
  if (r?.status === "executed") return `refunded (transfer #${r.transfer_id}, block ${r.executed_block})`;
  if (r?.status === "signed") return `refund #${r.transfer_id} signed, not executed yet`;
  if (r?.status === "proposed") return `refund #${r.transfer_id} proposed: waiting for approval (Approvals)`;
  if (r?.status === "rejected") return `open (refund #${r.transfer_id} rejected)`;
  if (q.resolved_at) return `resolved ${time(q.resolved_at)}`;
  return r?.status === "expired" ? `open (refund #${r.transfer_id} expired unexecuted)` : "open";
}

function Quarantine(props: { assets: Asset[] }) {
  const signed = useSignedIn();
  const can = useCan();
  const [all, setAll] = useState(true);
  const [tick, setTick] = useState(0);
  const pager = usePager<string>();
  const page = useLoad(
    () => get<Schema<"LogPage">>("/v1/admin/logs", { kind: "quarantine", all, cursor: pager.cursor, limit: 10 }),
    [all, pager.cursor, tick],
  );
  const [sending, setSending] = useState<{ key: string; text: string; error?: boolean } | null>(null);
  const [proposal, setProposal] = useState<{ key: string; text: string } | null>(null);
  // A refund sent from this wallet executes once the listener confirms its event: look again until it has.
  const waiting =
    sending !== null && !sending.error && page.data?.quarantined.find((q) => eventKey(q) === sending.key)?.refund?.status === "signed";
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(() => setTick((t) => t + 1), 1500);
    return () => clearTimeout(timer);
  }, [waiting, tick]);
  // Sent the way every treasury transfer is (`sendTransfer`).
  const send = async (q: QuarantinedEvent, t: TransferView) => {
    if (!signed) return;
    const report = (text: string, error?: boolean) => setSending({ key: eventKey(q), text, error });
    if (await sendTransfer(signed.connection, q.chain_id, t, report)) setTick((x) => x + 1);
  };
  // A refund signed before (another visit): its transaction, from the transfer list.
  const sendSigned = async (q: QuarantinedEvent) => {
    if (!q.refund || q.asset_id == null) return;
    try {
      const list = await get<Schema<"Page_TreasuryTransferView">>("/v1/admin/treasury/transfers", { asset_id: q.asset_id, cursor: q.refund.transfer_id + 1, limit: 1 });
      const t = list.items.find((x) => x.id === q.refund?.transfer_id);
      if (t) await send(q, t);
    } catch (e) {
      setSending({ key: eventKey(q), text: errorText(e), error: true });
    }
  };
  return (
    <section class="panel" aria-label="Quarantined events" data-testid="quarantine">
      <h3>Quarantined events</h3>
      <label class="inline">
        <input type="checkbox" checked={all} onChange={() => { setAll(!all); pager.reset(); }} /> include resolved (refunded)
      </label>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      {page.data?.quarantined.length === 0 && <p class="muted" data-testid="empty">No quarantined events.</p>}
      <ul>
        {page.data?.quarantined.map((q) => {
          const asset = props.assets.find((a) => a.asset_id === q.asset_id);
          const paid = q.amount != null && asset ? <Amount base={q.amount} decimals={asset.decimals} symbol={asset.symbol} /> : q.amount;
          const key = eventKey(q);
          return (
            <li key={key} data-testid="quarantined-event" data-event={key}>
              {networkName(q.chain_id)}, block {q.block}, <TxHash chainId={q.chain_id} hash={q.tx_hash} />#{q.log_index}: {q.reason_code} — {q.reason}
              {q.payer && (
                <>
                  . Paid {paid} by <Addr a={q.payer} chainId={q.chain_id} />.
                </>
              )}{" "}
              <strong data-testid="quarantine-state">{quarantineState(q)}</strong>{" "}
              {q.refundable && q.payer && (
                <ConfirmAction
                  needs="finance"
                  label="Propose refund to payer"
                  title="Propose refunding a quarantined payment"
                  testid="refund"
                  danger
                  describe={() => (
                    <p>
                      You propose returning {paid} to <code data-testid="refund-payer">{q.payer}</code>, the wallet that paid it
                      ({q.reason_code}), and your wallet signs the proposal. It is not company money: the company's available share
                      does not change. Once another approver approves it (Approvals) and it is signed there, a wallet holding the
                      contract's treasurer role sends it from here; the event is resolved once the listener confirms it.
                    </p>
                  )}
                  act={() => proposeSigned(signed, { kind: "refund", chain_id: q.chain_id, tx_hash: q.tx_hash, log_index: q.log_index })}
                  done={(a) => {
                    setTick((x) => x + 1);
                    setProposal({ key: eventKey(q), text: `Proposal #${a.id} is ${a.stage}${a.missing.length > 0 ? `: still missing ${a.missing.join("; ")}` : ""}.` });
                  }}
                />
              )}
              {q.refund?.status === "signed" && can("finance") && !(sending?.key === key && !sending.error) && (
                <button type="button" class="danger" onClick={() => sendSigned(q)} data-testid="refund-send">
                  Send refund from this wallet
                </button>
              )}
              {proposal?.key === key && q.refund?.status === "proposed" && (
                <Notice kind="info" testid="refund-proposed">
                  {proposal.text} <a href="#approvals">Approvals</a>
                </Notice>
              )}
              {sending?.key === key && (sending.error || q.refund?.status !== "executed") && (
                <Notice kind={sending.error ? "error" : "info"} testid="refund-sending">
                  {sending.text}
                </Notice>
              )}
            </li>
          );
        })}
      </ul>
      <Pager pager={pager} next={page.data?.next_cursor} label="Quarantine" />
    </section>
  );
}

function Requests(props: { onChange: () => void }) {
  const can = useCan();
  const [chainId, setChainId] = useState("31337");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [request, setRequest] = useState<OpsRequest | null>(null);
  const f = Number(from);
  const t = Number(to);
  const rangeInvalid =
    from !== "" && to !== "" && (!Number.isInteger(f) || !Number.isInteger(t) || f < 0 || t < f || t - f + 1 > 10_000);
  // Follow the request until its service reports it done.
  useEffect(() => {
    if (!request || request.status === "done" || request.status === "failed") return;
    const timer = setTimeout(async () => {
      try {
        const next = await get<OpsRequest>(`/v1/admin/monitoring/requests/${request.id}`);
        setRequest(next);
        if (next.status === "done") props.onChange();
      } catch {
        // Shown as still queued; the next look may succeed.
      }
    }, 1000);
    return () => clearTimeout(timer);
  }, [request]);
  if (!can("acting")) return null;
  return (
    <section class="panel" aria-label="Requests" data-testid="ops-requests">
      <h3>Replay and reconcile</h3>
      <div class="form-grid">
        <label>
          Chain id{chainId && /^\d+$/.test(chainId) ? ` (${networkName(Number(chainId))})` : ""}
          <input value={chainId} onInput={(e) => setChainId((e.target as HTMLInputElement).value)} inputMode="numeric" />
        </label>
        <label>
          From block
          <input value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} inputMode="numeric" data-testid="replay-from" />
        </label>
        <label>
          To block
          <input value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} inputMode="numeric" aria-invalid={rangeInvalid} data-testid="replay-to" />
          {rangeInvalid && <span class="field-error">A range of at most 10 000 blocks, from ≤ to.</span>}
        </label>
        <ConfirmAction
          needs="acting"
          label="Request replay"
          title="Replay a block range"
          testid="replay"
          disabled={rangeInvalid || from === "" || to === ""}
          describe={() => (
            <p>
              The listener of {networkLabel(Number(chainId))} re-reads blocks {from}–{to} (capped at its confirmed block) and reports what the
              ledger already has; a missing event is quarantined with an alert, never applied out of order.
            </p>
          )}
          act={() => post<OpsRequest>("/v1/admin/monitoring/replay", { chain_id: Number(chainId), from_block: f, to_block: t })}
          done={setRequest}
        />
        <ConfirmAction
          needs="acting"
          label="Reconcile now"
          title="Run the reconciler now"
          testid="reconcile"
          describe={() => <p>The reconciler runs once more now, for every asset, and stores the results shown above.</p>}
          act={() => post<OpsRequest>("/v1/admin/monitoring/reconcile", {})}
          done={setRequest}
        />
      </div>
      {request && (
        <Notice kind={request.status === "failed" ? "error" : "info"} testid="ops-request">
          Request #{request.id} ({request.kind}): <strong data-testid="ops-status">{request.status}</strong>
          {request.error && ` — ${request.error}`}
          {request.result !== null && request.result !== undefined && <pre>{JSON.stringify(request.result, null, 1)}</pre>}
        </Notice>
      )}
    </section>
  );
}
