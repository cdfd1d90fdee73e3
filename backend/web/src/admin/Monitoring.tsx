// Monitoring: the reconciler's latest results per asset (custody variance, solvency), charts over recent
// runs, open alerts (acknowledge), quarantined events (a refused payment refunded to its payer), each chain's
// listener lag and halt, and requests for a replay or a reconciliation run.

import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post } from "../lib/api";
import { amount, human, shortAddress } from "../lib/format";
import { type ConsoleKey, t, tx } from "../i18n";
import { Addr, Amount, Loading, Notice, Pager, TxHash, useLoad, usePager } from "../ui/bits";
import { errorText, LoadFailed, useSignedIn } from "../ui/account";
import { networkLabel, networkName } from "../lib/networks";
import { assetKey, chainAddress, isTronChain, parseAnyAddress } from "../lib/tron";
import { type Asset, time } from "./common";
import { ConfirmAction, useCan } from "../ui/console";
import { BarChart, LineChart, type Series } from "./charts";
import { sendTransfer, type TransferView } from "./Treasury";
import { missingWords, proposeSigned } from "./authorisation";
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
  if (!a) return t("mon.unknown_token", { token: shortAddress(chainAddress(r.chain_id, r.token)), network: networkName(r.chain_id) });
  return isTronChain(a.chain_id) ? t("mon.symbol_on", { symbol: a.symbol, network: networkName(a.chain_id) }) : a.symbol;
}

export function Monitoring(props: { assets: Asset[] }) {
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return (
    <section aria-labelledby="monitoring-title" data-testid="monitoring">
      <h2 id="monitoring-title">{t("console.tab_monitoring")}</h2>
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
    <section class="panel" aria-label={t("mon.listeners")} data-testid="listeners">
      <h3>{t("mon.listeners")}</h3>
      {list.error && <LoadFailed error={list.error} retry={list.reload} />}
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t("assets.chain")}</th>
              <th scope="col">{t("mon.confirmed_block")}</th>
              <th scope="col">{t("mon.head")}</th>
              <th scope="col">{t("mon.lag")}</th>
              <th scope="col">{t("mon.head_seen")}</th>
              <th scope="col">{t("mon.state")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((l) => (
              <tr key={l.chain_id} data-testid="listener-row">
                <td>{networkLabel(l.chain_id)}</td>
                <td>{l.confirmed_block ?? "—"}</td>
                <td>{l.chain_head ?? "—"}</td>
                <td data-testid="listener-lag">{l.lag_blocks ?? "—"}</td>
                <td>{l.head_age_seconds == null ? t("mon.never") : t("mon.seconds_ago", { s: Math.round(l.head_age_seconds) })}</td>
                <td data-testid="listener-state">{l.halted_reason ? <strong class="field-error">{t("mon.halted", { reason: l.halted_reason })}</strong> : t("mon.running")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          {t("mon.no_listener")}
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
  if (runs.loading && !runs.data) return <Loading what={t("mon.loading_recon")} />;
  if (runs.error) return <LoadFailed error={runs.error} retry={runs.reload} />;
  const all = runs.data ?? [];
  const latest = all[all.length - 1];
  if (!latest) return <Notice kind="info">{t("mon.not_run")}</Notice>;
  return (
    <section class="panel" aria-label={t("mon.reconciliation")} data-testid="reconciliation">
      <h3>
        {t("mon.run", { id: String(latest.run.id) })} <span class="muted">({time(latest.run.finished_at ?? latest.run.started_at)})</span>
      </h3>
      {latest.run.errors.length > 0 && <Notice kind="error">{t("mon.chains_not_read", { errors: latest.run.errors.join("; ") })}</Notice>}
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t("common.asset")}</th>
              <th scope="col">{t("mon.block")}</th>
              <th scope="col">{t("mon.contract_balance")}</th>
              <th scope="col">{t("mon.ledger_expects")}</th>
              <th scope="col">{t("mon.variance")}</th>
              <th scope="col">{t("mon.owed")}</th>
              <th scope="col">{t("mon.solvency_margin")}</th>
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
                    {r.variance === "0" ? t("mon.none") : amt(r.variance)}
                  </td>
                  <td>{amt(r.liabilities)}</td>
                  <td class={r.solvency_margin.startsWith("-") ? "field-error" : ""} data-testid="recon-solvency">
                    {amt(r.solvency_margin)} {r.solvency_margin.startsWith("-") ? t("mon.insolvent") : t("mon.solvent")}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {latest.firing.length > 0 && (
        <Notice kind="error" testid="firing">
          {t("mon.firing", { list: latest.firing.map((f) => t("mon.firing_item", { key: f.dedup_key, since: time(f.since) })).join("; ") })}
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
          { name: t("mon.series_chain"), cls: "c-chain", values: points.map((p) => Number(human(p.r.onchain_balance, d))) },
          { name: t("mon.ledger_expects"), cls: "c-ledger", values: points.map((p) => Number(human(p.r.expected_balance, d))), dashed: true },
          { name: t("mon.owed"), cls: "c-owed", values: points.map((p) => Number(human(p.r.liabilities, d))) },
        ];
        return (
          <figure class="chart" key={k} data-testid={`chart-${a ? assetKey(a.symbol, a.chain_id) : k}`}>
            <figcaption>
              {t("mon.chart_caption", { name, count: points.length })}
            </figcaption>
            <LineChart series={series} labels={points.map((p) => `#${p.run}`)} unit={a?.symbol ?? ""} />
          </figure>
        );
      })}
      <figure class="chart" data-testid="chart-liabilities">
        <figcaption>{t("mon.chart_owed")}</figcaption>
        <BarChart
          bars={(props.runs[props.runs.length - 1]?.results ?? []).map((r) => {
            const a = assetOf(props.assets, r);
            return { label: a ? assetKey(a.symbol, a.chain_id) : shortAddress(r.token), value: Number(human(r.liabilities, a?.decimals ?? 0)), text: `${amount(r.liabilities, a?.decimals ?? 0)} ${a?.symbol ?? ""}` };
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
    <section class="panel" aria-label={t("mon.alerts")} data-testid="alerts">
      <h3>{t("mon.alerts")}</h3>
      <label class="inline">
        <input type="checkbox" checked={all} onChange={() => { setAll(!all); pager.reset(); }} /> {t("mon.include_acknowledged")}
      </label>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      {page.data?.alerts.length === 0 && <p class="muted">{t("mon.no_alerts")}</p>}
      <ul class="alerts">
        {page.data?.alerts.map((a) => (
          <li key={a.id} data-testid="alert">
            <strong data-testid="alert-title" title={a.kind}>
              {alertTitle(a.kind)}
            </strong>
            : {a.message} <span class="muted">({time(a.created_at)})</span>{" "}
            {a.acknowledged_at ? (
              <span class="muted">{t("mon.acknowledged", { at: time(a.acknowledged_at) })}</span>
            ) : (
              <ConfirmAction
                needs="acting"
                label={t("mon.acknowledge")}
                title={t("mon.acknowledge_title", { id: String(a.id) })}
                testid="ack"
                describe={() => <p>{t("mon.acknowledge_describe", { message: a.message })}</p>}
                act={() => post(`/v1/admin/alerts/${a.id}/ack`, {})}
                done={props.onChange}
              />
            )}
          </li>
        ))}
      </ul>
      <Pager pager={pager} next={page.data?.next_cursor} label={t("mon.alerts")} />
    </section>
  );
}

/** What an alert's kind means, in words (the kind itself stays on hover: it is what the runbooks are filed under). */
const ALERTS = ["event_quarantined", "listener_halted", "treasury_transfer_unknown", "treasury_transfer_expired_executed", "refund_of_resolved_event"];
function alertTitle(kind: string): string {
  if (ALERTS.includes(kind)) return t(`mon.alert_${kind}` as ConsoleKey);
  return kind.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** `chain:tx:log`, a quarantined event's key. */
function eventKey(q: QuarantinedEvent): string {
  return `${q.chain_id}:${q.tx_hash}:${q.log_index}`;
}

/** Where a quarantined event stands: open, a refund on its way, refunded. */
function quarantineState(q: QuarantinedEvent): string {
  const r = q.refund;
  const id = String(r?.transfer_id);
  if (r?.status === "executed") return t("mon.q_refunded", { id, block: String(r.executed_block) });
  if (r?.status === "signed") return t("mon.q_signed", { id });
  if (r?.status === "proposed") return t("mon.q_proposed", { id });
  if (r?.status === "rejected") return t("mon.q_rejected", { id });
  if (q.resolved_at) return t("mon.q_resolved", { at: time(q.resolved_at) });
  return r?.status === "expired" ? t("mon.q_expired", { id }) : t("mon.q_open");
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
    <section class="panel" aria-label={t("mon.quarantined")} data-testid="quarantine">
      <h3>{t("mon.quarantined")}</h3>
      <label class="inline">
        <input type="checkbox" checked={all} onChange={() => { setAll(!all); pager.reset(); }} /> {t("mon.include_resolved")}
      </label>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      {page.data?.quarantined.length === 0 && <p class="muted" data-testid="empty">{t("mon.no_quarantined")}</p>}
      <ul>
        {page.data?.quarantined.map((q) => {
          const asset = props.assets.find((a) => a.asset_id === q.asset_id);
          const paid = q.amount != null && asset ? <Amount base={q.amount} decimals={asset.decimals} symbol={asset.symbol} /> : q.amount;
          const key = eventKey(q);
          return (
            <li key={key} data-testid="quarantined-event" data-event={key}>
              {tx("mon.q_event", {
                network: networkName(q.chain_id),
                block: String(q.block),
                tx: <><TxHash chainId={q.chain_id} hash={q.tx_hash} />#{q.log_index}</>,
                code: q.reason_code,
                reason: q.reason,
              })}
              {q.payer && <>{tx("mon.q_paid", { amount: paid, payer: <Addr a={q.payer} chainId={q.chain_id} /> })}</>}{" "}
              <strong data-testid="quarantine-state">{quarantineState(q)}</strong>{" "}
              {q.refundable && q.payer && (
                <ConfirmAction
                  needs="finance"
                  label={t("mon.refund")}
                  title={t("mon.refund_title")}
                  testid="refund"
                  danger
                  describe={() => (
                    <p>
                      {tx("mon.refund_describe", { amount: paid, payer: <code data-testid="refund-payer">{q.payer}</code>, code: q.reason_code })}
                    </p>
                  )}
                  act={() => proposeSigned(signed, { kind: "refund", chain_id: q.chain_id, tx_hash: q.tx_hash, log_index: q.log_index })}
                  done={(a) => {
                    setTick((x) => x + 1);
                    setProposal({
                      key: eventKey(q),
                      text:
                        missingWords(a) !== ""
                          ? t("payouts.proposal_missing", { id: String(a.id), stage: a.stage, missing: missingWords(a) })
                          : t("payouts.proposal", { id: String(a.id), stage: a.stage }),
                    });
                  }}
                />
              )}
              {q.refund?.status === "signed" && can("finance") && !(sending?.key === key && !sending.error) && (
                <button type="button" class="danger" onClick={() => sendSigned(q)} data-testid="refund-send">
                  {t("mon.refund_send")}
                </button>
              )}
              {proposal?.key === key && q.refund?.status === "proposed" && (
                <Notice kind="info" testid="refund-proposed">
                  {proposal.text} <a href="#approvals">{t("console.tab_approvals")}</a>
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
      <Pager pager={pager} next={page.data?.next_cursor} label={t("mon.quarantine")} />
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
  const toN = Number(to);
  const rangeInvalid =
    from !== "" && to !== "" && (!Number.isInteger(f) || !Number.isInteger(toN) || f < 0 || toN < f || toN - f + 1 > 10_000);
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
    <section class="panel" aria-label={t("mon.requests")} data-testid="ops-requests">
      <h3>{t("mon.replay_reconcile")}</h3>
      <div class="form-grid">
        <label>
          {t("mon.chain_id")}{chainId && /^\d+$/.test(chainId) ? ` (${networkName(Number(chainId))})` : ""}
          <input value={chainId} onInput={(e) => setChainId((e.target as HTMLInputElement).value)} inputMode="numeric" />
        </label>
        <label>
          {t("mon.from_block")}
          <input value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} inputMode="numeric" data-testid="replay-from" />
        </label>
        <label>
          {t("mon.to_block")}
          <input value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} inputMode="numeric" aria-invalid={rangeInvalid} data-testid="replay-to" />
          {rangeInvalid && <span class="field-error">{t("mon.range_error")}</span>}
        </label>
        <ConfirmAction
          needs="acting"
          label={t("mon.replay")}
          title={t("mon.replay_title")}
          testid="replay"
          disabled={rangeInvalid || from === "" || to === ""}
          describe={() => (
            <p>{t("mon.replay_describe", { network: networkLabel(Number(chainId)), from, to })}</p>
          )}
          act={() => post<OpsRequest>("/v1/admin/monitoring/replay", { chain_id: Number(chainId), from_block: f, to_block: toN })}
          done={setRequest}
        />
        <ConfirmAction
          needs="acting"
          label={t("mon.reconcile")}
          title={t("mon.reconcile_title")}
          testid="reconcile"
          describe={() => <p>{t("mon.reconcile_describe")}</p>}
          act={() => post<OpsRequest>("/v1/admin/monitoring/reconcile", {})}
          done={setRequest}
        />
      </div>
      {request && (
        <Notice kind={request.status === "failed" ? "error" : "info"} testid="ops-request">
          {tx("mon.request", { id: String(request.id), kind: request.kind, status: <strong data-testid="ops-status">{request.status}</strong> })}
          {request.error && ` — ${request.error}`}
          {request.result !== null && request.result !== undefined && <pre>{JSON.stringify(request.result, null, 1)}</pre>}
        </Notice>
      )}
    </section>
  );
}
