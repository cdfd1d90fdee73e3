// The append-only audit log: who did what, with the values before and after. Filters (issue 66, item 6): who acted —
// people (staff wallets) by default, the services' automatic actions (the solvency worker's approvals, the payout
// worker's) on request —, one action, one actor; each action in words, its code kept beside it for experts.

import { useState } from "preact/hooks";
import { get } from "../lib/api";
import { Loading, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed } from "../ui/account";
import { time } from "./common";
import { type ConsoleKey, t } from "../i18n";
import en from "../i18n/console/en.js";
import type { Schema } from "../generated/api";

/** An action in words: its catalogue's, else its code with spaces (a service may add codes the console does not know). */
export function actionText(code: string): string {
  const key = `audit.action_${code}`;
  return key in en ? t(key as ConsoleKey) : code.replaceAll("_", " ");
}

const ACTOR = /^(0x[0-9a-fA-F]{40}|[a-z][a-z0-9_-]{0,63})$/;

export function Audit() {
  const pager = usePager<number>();
  const [by, setBy] = useState<"staff" | "services" | "">("staff");
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const who = actor.trim();
  const actorValid = who === "" || ACTOR.test(who);
  const actions = useLoad(() => get<Schema<"AuditActions">>("/v1/admin/audit/actions", by ? { by } : {}), [by]);
  const page = useLoad(
    () =>
      get<Schema<"Page_AuditEntry">>("/v1/admin/audit", {
        cursor: pager.cursor,
        limit: 20,
        by: by || undefined,
        action: action || undefined,
        actor: actorValid && who ? who : undefined,
      }),
    [pager.cursor, by, action, actorValid ? who : ""],
  );
  const filter = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    pager.reset();
  };
  const filtered = by !== "" || action !== "" || who !== "";
  return (
    <section aria-labelledby="audit-title" data-testid="audit">
      <h2 id="audit-title">{t("console.tab_audit")}</h2>
      <form class="filters" data-testid="audit-filters" onSubmit={(e) => e.preventDefault()}>
        <label class="inline">
          {t("audit.filter_by")}{" "}
          <select value={by} onChange={(e) => filter(setBy)((e.target as HTMLSelectElement).value as typeof by)} data-testid="audit-by">
            <option value="staff">{t("audit.by_staff")}</option>
            <option value="services">{t("audit.by_services")}</option>
            <option value="">{t("audit.by_anyone")}</option>
          </select>
        </label>{" "}
        <label class="inline">
          {t("audit.action")}{" "}
          <select value={action} onChange={(e) => filter(setAction)((e.target as HTMLSelectElement).value)} data-testid="audit-action-filter">
            <option value="">{t("audit.any_action")}</option>
            {(actions.data?.actions ?? []).map((a) => (
              <option key={a.action} value={a.action}>
                {actionText(a.action)} ({a.count})
              </option>
            ))}
          </select>
        </label>{" "}
        <label class="inline">
          {t("audit.who")}{" "}
          <input
            value={actor}
            maxLength={64}
            placeholder={t("audit.actor_placeholder")}
            spellcheck={false}
            aria-invalid={!actorValid}
            onInput={(e) => filter(setActor)((e.target as HTMLInputElement).value)}
            data-testid="audit-actor"
          />
        </label>
        {!actorValid && (
          <Notice kind="error" testid="audit-actor-invalid">
            {t("audit.actor_invalid")}
          </Notice>
        )}
      </form>
      {page.loading && !page.data && <Loading what={t("audit.loading")} />}
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t("audit.when")}</th>
              <th scope="col">{t("audit.who")}</th>
              <th scope="col">{t("audit.action")}</th>
              <th scope="col">{t("audit.target")}</th>
              <th scope="col">{t("audit.before_after")}</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((e) => (
              <tr key={e.id} data-testid="audit-row">
                <td>{e.id}</td>
                <td>{time(e.created_at)}</td>
                <td>
                  <code>{e.actor}</code>
                </td>
                <td data-testid="audit-action" data-action={e.action} title={e.action}>
                  {actionText(e.action)}
                </td>
                <td>
                  {e.target}
                  {e.asset_id != null && ` ${t("audit.of_asset", { id: String(e.asset_id) })}`}
                </td>
                <td>
                  <details>
                    <summary>{t("audit.values")}</summary>
                    <pre>{JSON.stringify({ action: e.action, before: e.before, after: e.after }, null, 1)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          {filtered ? t("audit.none_match") : t("audit.empty")}
        </p>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label={t("audit.pager")} />
    </section>
  );
}
