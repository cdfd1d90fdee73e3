// Webhooks: the operator's endpoints that receive every notification (or the kinds chosen) as a signed POST (Standard
// Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`). The admin creates an endpoint (its `whsec_` secret
// shown this once), enables or disables it and rotates its secret (the new one shown once; the old one keeps signing
// for the overlap); every staff role reads the endpoints and each one's delivery log, each delivery's attempts, and an
// admin replays a delivery (the same `webhook-id`, a fresh retry window).

import { useEffect, useState } from "preact/hooks";
import { call, get, post } from "../lib/api";
import { CopyButton, Loading, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed } from "../ui/account";
import { time } from "./common";
import { ConfirmAction, IfCan } from "../ui/console";
import { t, tx } from "../i18n";
import type { Schema } from "../generated/api";

type Endpoints = Schema<"Endpoints">;
type EndpointView = Schema<"EndpointView">;
type WithSecret = Schema<"WithSecret">;
type DeliveryPage = Schema<"Page_DeliveryView">;
type DeliveryView = Schema<"DeliveryView">;
type AttemptView = Schema<"AttemptView">;

/** How often an open delivery log reads its page again. */
const LOG_REFRESH_MS = 5_000;

export function Webhooks() {
  const [tick, setTick] = useState(0);
  const list = useLoad(() => get<Endpoints>("/v1/admin/webhooks"), [tick]);
  const [secret, setSecret] = useState<{ s: WithSecret; rotated: boolean } | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const changed = () => setTick((x) => x + 1);
  const endpoints = list.data?.endpoints ?? [];
  const shown = endpoints.find((e) => e.id === open);
  return (
    <section aria-labelledby="webhooks-title" data-testid="webhooks">
      <h2 id="webhooks-title">{t("console.tab_webhooks")}</h2>
      <p class="muted">{t("webhooks.intro")}</p>
      {secret && <SecretOnce s={secret.s} rotated={secret.rotated} dismiss={() => setSecret(null)} />}
      {list.loading && !list.data && <Loading what={t("webhooks.loading")} />}
      {list.error && <LoadFailed error={list.error} retry={list.reload} />}
      {list.data && endpoints.length === 0 && (
        <p class="muted" data-testid="webhooks-none">
          {t("webhooks.none")}
        </p>
      )}
      {endpoints.length > 0 && (
        <div class="table-wrap panel" tabIndex={0}>
          <table>
            <caption>{t("webhooks.endpoints")}</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t("webhooks.url")}</th>
                <th scope="col">{t("webhooks.kinds")}</th>
                <th scope="col">{t("webhooks.state")}</th>
                <th scope="col">{t("webhooks.pending")}</th>
                <th scope="col">{t("webhooks.dead")}</th>
                <th scope="col">{t("webhooks.created")}</th>
                <th scope="col">{t("webhooks.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((e) => (
                <EndpointRow
                  key={e.id}
                  e={e}
                  open={open === e.id}
                  toggle={() => setOpen(open === e.id ? null : e.id)}
                  changed={changed}
                  rotated={(s) => {
                    setSecret({ s, rotated: true });
                    changed();
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {shown && <DeliveryLog key={shown.id} endpoint={shown} changed={changed} />}
      <IfCan need="admin">
        <NewEndpoint
          kinds={list.data?.kinds ?? []}
          created={(s) => {
            setSecret({ s, rotated: false });
            changed();
          }}
        />
      </IfCan>
    </section>
  );
}

/** The secret of a new endpoint or of a rotation, shown this once, with a copy button and a warning. */
function SecretOnce(props: { s: WithSecret; rotated: boolean; dismiss: () => void }) {
  const { s } = props;
  return (
    <div class="notice warn" role="status" data-testid="webhook-secret-panel" data-endpoint={s.endpoint.id}>
      <p class="banner-title">{t(props.rotated ? "webhooks.secret_rotated" : "webhooks.secret_new", { id: String(s.endpoint.id), url: s.endpoint.url })}</p>
      <p>
        <code dir="ltr" style={{ overflowWrap: "anywhere" }} data-testid="webhook-secret">
          {s.secret}
        </code>
        <CopyButton text={s.secret} label={t("webhooks.copy_secret")} />
      </p>
      <p>
        <strong>{t("webhooks.secret_once")}</strong>
      </p>
      <button type="button" onClick={props.dismiss} data-testid="webhook-secret-done">
        {t("webhooks.secret_stored")}
      </button>
    </div>
  );
}

function EndpointRow(props: { e: EndpointView; open: boolean; toggle: () => void; changed: () => void; rotated: (s: WithSecret) => void }) {
  const { e } = props;
  return (
    <tr data-testid="webhook-row" data-id={e.id} data-enabled={e.enabled ? "true" : "false"}>
      <td>{e.id}</td>
      <td>
        <code dir="ltr" style={{ overflowWrap: "anywhere" }} data-testid="webhook-url">
          {e.url}
        </code>
        {e.description && <div class="muted">{e.description}</div>}
      </td>
      <td>{e.kinds.length === 0 ? t("webhooks.all_kinds") : e.kinds.join(", ")}</td>
      <td data-testid="webhook-state">
        {e.enabled ? t("webhooks.enabled") : t("webhooks.disabled")}
        {!e.enabled && e.disabled_reason && <div class="muted">{e.disabled_reason}</div>}
        {e.previous_secret_until && <div class="muted">{t("webhooks.overlap", { until: time(e.previous_secret_until) })}</div>}
      </td>
      <td data-testid="webhook-pending">{e.pending}</td>
      <td data-testid="webhook-dead">{e.dead}</td>
      <td>{time(e.created_at)}</td>
      <td>
        <div class="actions-row">
          <button type="button" aria-expanded={props.open} onClick={props.toggle} data-testid="webhook-log-toggle">
            {props.open ? t("webhooks.hide_log") : t("webhooks.show_log")}
          </button>
          <ConfirmAction
            needs="admin"
            label={e.enabled ? t("webhooks.disable") : t("webhooks.enable")}
            danger={e.enabled}
            title={t(e.enabled ? "webhooks.disable_title" : "webhooks.enable_title", { id: String(e.id) })}
            testid="webhook-toggle"
            describe={() => <p>{t(e.enabled ? "webhooks.disable_describe" : "webhooks.enable_describe", { url: e.url })}</p>}
            act={() => call<EndpointView>("PATCH", `/v1/admin/webhooks/${e.id}`, { enabled: !e.enabled })}
            done={props.changed}
          />
          <ConfirmAction
            needs="admin"
            label={t("webhooks.rotate")}
            title={t("webhooks.rotate_title", { id: String(e.id) })}
            testid="webhook-rotate"
            describe={() => <p>{t("webhooks.rotate_describe", { url: e.url })}</p>}
            act={() => post<WithSecret>(`/v1/admin/webhooks/${e.id}/rotate`, {})}
            done={props.rotated}
          />
        </div>
      </td>
    </tr>
  );
}

function NewEndpoint(props: { kinds: string[]; created: (s: WithSecret) => void }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [kinds, setKinds] = useState<string[]>([]);
  const u = url.trim();
  const invalid = u !== "" && !/^https?:\/\/\S+$/i.test(u);
  return (
    <section class="panel" aria-labelledby="webhook-new-title" data-testid="webhook-new">
      <h3 id="webhook-new-title">{t("webhooks.new_title")}</h3>
      <div class="form-grid">
        <label>
          {t("webhooks.url")}
          <input
            value={url}
            maxLength={2000}
            placeholder="https://…"
            dir="ltr"
            onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
            aria-invalid={invalid}
            data-testid="webhook-url-input"
          />
          {invalid && <span class="field-error">{t("webhooks.url_invalid")}</span>}
        </label>
        <label>
          {t("webhooks.description")}
          <input value={description} maxLength={200} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} data-testid="webhook-description-input" />
        </label>
      </div>
      <fieldset data-testid="webhook-kinds">
        <legend>{t("webhooks.kinds_pick")}</legend>
        {props.kinds.map((k) => (
          <label key={k} class="inline">
            <input
              type="checkbox"
              value={k}
              checked={kinds.includes(k)}
              onChange={(e) => setKinds((old) => ((e.target as HTMLInputElement).checked ? [...old, k] : old.filter((x) => x !== k)))}
              data-testid="webhook-kind"
            />{" "}
            <code>{k}</code>
          </label>
        ))}
      </fieldset>
      <ConfirmAction
        needs="admin"
        label={t("webhooks.create")}
        title={t("webhooks.new_title")}
        testid="webhook-create"
        disabled={u === "" || invalid}
        describe={() => (
          <p>
            {tx("webhooks.create_describe", {
              url: <code dir="ltr">{u}</code>,
              kinds: kinds.length === 0 ? t("webhooks.all_kinds") : kinds.join(", "),
            })}
          </p>
        )}
        act={() => post<WithSecret>("/v1/admin/webhooks", { url: u, description: description.trim() || undefined, kinds })}
        done={(s) => {
          setUrl("");
          setDescription("");
          setKinds([]);
          props.created(s);
        }}
      />
    </section>
  );
}

/** One endpoint's deliveries, newest first, read again every few seconds while open. */
function DeliveryLog(props: { endpoint: EndpointView; changed: () => void }) {
  const e = props.endpoint;
  const pager = usePager<number>();
  const [tick, setTick] = useState(0);
  const page = useLoad(() => get<DeliveryPage>(`/v1/admin/webhooks/${e.id}/deliveries`, { cursor: pager.cursor, limit: 20 }), [pager.cursor, tick]);
  useEffect(() => {
    const timer = setInterval(() => setTick((x) => x + 1), LOG_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const [replayed, setReplayed] = useState<string | null>(null);
  return (
    <section class="panel" aria-labelledby="webhook-log-title" data-testid="webhook-log" data-endpoint={e.id}>
      <h3 id="webhook-log-title">{t("webhooks.log_title", { id: String(e.id), url: e.url })}</h3>
      <p>
        <button type="button" onClick={() => setTick((x) => x + 1)} data-testid="webhook-log-refresh">
          {t("webhooks.refresh")}
        </button>
      </p>
      {page.loading && !page.data && <Loading what={t("webhooks.log_loading")} />}
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      {replayed && (
        <Notice kind="ok" testid="webhook-replayed">
          {t("webhooks.replayed", { id: replayed })}
        </Notice>
      )}
      {page.data?.items.length === 0 && (
        <p class="muted" data-testid="webhook-log-empty">
          {t("webhooks.log_empty")}
        </p>
      )}
      {page.data && page.data.items.length > 0 && (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("webhooks.notification")}</th>
                <th scope="col">{t("webhooks.kind")}</th>
                <th scope="col">{t("webhooks.status")}</th>
                <th scope="col">{t("webhooks.attempts")}</th>
                <th scope="col">{t("webhooks.last_error")}</th>
                <th scope="col">{t("webhooks.when")}</th>
                <th scope="col">{t("webhooks.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {page.data.items.map((d) => (
                <Delivery
                  key={d.notification_id}
                  endpoint={e.id}
                  d={d}
                  replayed={(id) => {
                    setReplayed(id);
                    setTick((x) => x + 1);
                    props.changed();
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label={t("webhooks.log_pager")} />
    </section>
  );
}

function statusText(s: string): string {
  return s === "delivered" ? t("webhooks.s_delivered") : s === "dead" ? t("webhooks.s_dead") : s === "pending" ? t("webhooks.s_pending") : s;
}

function Delivery(props: { endpoint: number; d: DeliveryView; replayed: (id: string) => void }) {
  const { d } = props;
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr data-testid="webhook-delivery" data-id={d.notification_id} data-status={d.status}>
        <td>
          <code dir="ltr" style={{ overflowWrap: "anywhere" }}>
            {d.notification_id}
          </code>
        </td>
        <td>
          <code>{d.kind}</code>
        </td>
        <td data-testid="webhook-delivery-status">{statusText(d.status)}</td>
        <td data-testid="webhook-delivery-attempts">{d.attempts}</td>
        <td>{d.last_error ?? "—"}</td>
        <td>
          {d.delivered_at
            ? t("webhooks.delivered_at", { at: time(d.delivered_at) })
            : d.next_attempt_at
              ? t("webhooks.next_at", { at: time(d.next_attempt_at) })
              : t("webhooks.queued_at", { at: time(d.created_at) })}
        </td>
        <td>
          <div class="actions-row">
            <button type="button" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="webhook-attempts-toggle">
              {open ? t("webhooks.hide_attempts") : t("webhooks.show_attempts")}
            </button>
            <ConfirmAction
              needs="admin"
              label={t("webhooks.replay")}
              title={t("webhooks.replay_title", { id: d.notification_id })}
              testid="webhook-replay"
              describe={() => <p>{t("webhooks.replay_describe", { id: d.notification_id })}</p>}
              act={() => post<Schema<"Replayed">>(`/v1/admin/webhooks/${props.endpoint}/deliveries/${encodeURIComponent(d.notification_id)}/replay`, {})}
              done={(r) => props.replayed(r.notification_id)}
            />
          </div>
        </td>
      </tr>
      {open && (
        <tr data-testid="webhook-attempts-row">
          <td colSpan={7}>
            <Attempts endpoint={props.endpoint} id={d.notification_id} attempts={d.attempts} />
          </td>
        </tr>
      )}
    </>
  );
}

function Attempts(props: { endpoint: number; id: string; attempts: number }) {
  // Read again when the count of attempts changes (the log refreshes while open).
  const list = useLoad(
    () => get<AttemptView[]>(`/v1/admin/webhooks/${props.endpoint}/deliveries/${encodeURIComponent(props.id)}/attempts`),
    [props.endpoint, props.id, props.attempts],
  );
  if (list.loading && !list.data) return <Loading what={t("webhooks.attempts_loading")} />;
  if (list.error) return <LoadFailed error={list.error} retry={list.reload} />;
  if (!list.data || list.data.length === 0) return <p class="muted">{t("webhooks.no_attempts")}</p>;
  return (
    <ol class="attempts" data-testid="webhook-attempts">
      {list.data.map((a, i) => (
        <li key={i} data-testid="webhook-attempt" data-status={a.status_code ?? ""}>
          {t("webhooks.attempt", {
            at: time(a.at),
            status: a.status_code != null ? String(a.status_code) : "—",
            ms: a.duration_ms,
          })}
          {a.error && <span class="field-error"> {a.error}</span>}
        </li>
      ))}
    </ol>
  );
}
