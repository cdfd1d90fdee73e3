// The append-only audit log: who did what, with the values before and after.

import { get } from "../lib/api";
import { Loading, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed } from "../ui/account";
import { time } from "./common";
import { t } from "../i18n";
import type { Schema } from "../generated/api";

export function Audit() {
  const pager = usePager<number>();
  const page = useLoad(() => get<Schema<"Page_AuditEntry">>("/v1/admin/audit", { cursor: pager.cursor, limit: 20 }), [pager.cursor]);
  return (
    <section aria-labelledby="audit-title" data-testid="audit">
      <h2 id="audit-title">{t("console.tab_audit")}</h2>
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
                <td data-testid="audit-action">{e.action}</td>
                <td>
                  {e.target}
                  {e.asset_id != null && ` ${t("audit.of_asset", { id: String(e.asset_id) })}`}
                </td>
                <td>
                  <details>
                    <summary>{t("audit.values")}</summary>
                    <pre>{JSON.stringify({ before: e.before, after: e.after }, null, 1)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          {t("audit.empty")}
        </p>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label={t("audit.pager")} />
    </section>
  );
}
