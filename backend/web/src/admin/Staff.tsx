// Staff: who holds which role, and changes of roles. An admin proposes a grant or a revocation with a reason; an
// approver other than the proposer approves or rejects it (with a reason); the proposer may withdraw it. The API
// checks every rule (the last admin, the proposer never deciding), so the page shows each refusal in its words.

import { useState } from "preact/hooks";
import { isAddress } from "viem";
import { get, post } from "../lib/api";
import { Addr, Loading, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed, useSignedIn } from "../ui/account";
import { time } from "./common";
import { ConfirmAction, IfCan, type StaffRole, useCan } from "../ui/console";
import { type ConsoleKey, t, tx } from "../i18n";
import type { Schema } from "../generated/api";

type StaffList = Schema<"StaffList">;
type RoleChangeView = Schema<"RoleChangeView">;
type ChangesPage = Schema<"ChangesPage">;

const ROLES: { role: StaffRole; text: ConsoleKey }[] = [
  { role: "viewer", text: "staff.role_viewer" },
  { role: "support", text: "staff.role_support" },
  { role: "finance", text: "staff.role_finance" },
  { role: "approver", text: "staff.role_approver" },
  { role: "admin", text: "staff.role_admin" },
  { role: "catalogue", text: "staff.role_catalogue" },
];

export function Staff() {
  const [tick, setTick] = useState(0);
  const list = useLoad(() => get<StaffList>("/v1/admin/staff"), [tick]);
  const changed = () => setTick((t) => t + 1);
  return (
    <section aria-labelledby="staff-title" data-testid="staff">
      <h2 id="staff-title">{t("console.tab_staff")}</h2>
      {list.loading && !list.data && <Loading what={t("staff.loading")} />}
      {list.error && <LoadFailed error={list.error} retry={list.reload} />}
      {list.data && (
        <>
          <div class="table-wrap panel" tabIndex={0}>
            <table>
              <caption>{t("staff.who_holds")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("payouts.col_wallet")}</th>
                  <th scope="col">{t("staff.roles")}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.members.map((m) => (
                  <tr key={m.wallet} data-testid="staff-member">
                    <td>
                      <Addr a={m.wallet} />
                    </td>
                    <td data-testid="staff-roles">
                      {m.roles.map((r) => (
                        <span key={r.role} class="badge" title={t("staff.granted", { at: time(r.granted_at), id: String(r.change_id) })}>
                          {r.role}
                        </span>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Open changes={list.data.open_changes} changed={changed} />
        </>
      )}
      <IfCan need="admin">
        <Propose changed={changed} />
      </IfCan>
      <History tick={tick} />
      <dl class="muted">
        {ROLES.map((r) => (
          <div key={r.role}>
            <dt>{r.role}</dt>
            <dd>{t(r.text)}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function changeText(c: RoleChangeView) {
  return (
    <>
      {tx(c.action === "grant" ? "staff.grant_to" : "staff.revoke_from", { role: <strong>{c.role}</strong>, wallet: <Addr a={c.wallet} /> })}
    </>
  );
}

function Open(props: { changes: RoleChangeView[]; changed: () => void }) {
  if (props.changes.length === 0) {
    return (
      <p class="muted" data-testid="no-open-changes">
        {t("staff.no_open")}
      </p>
    );
  }
  return (
    <section class="panel" aria-label={t("staff.waiting")} data-testid="open-changes">
      <h3>{t("staff.waiting")}</h3>
      {props.changes.map((c) => (
        <OpenChange key={c.id} change={c} changed={props.changed} />
      ))}
    </section>
  );
}

function OpenChange(props: { change: RoleChangeView; changed: () => void }) {
  const c = props.change;
  const signed = useSignedIn();
  const can = useCan();
  const [reason, setReason] = useState("");
  const mine = signed?.session.address.toLowerCase() === c.proposer?.toLowerCase();
  return (
    <div class="change" data-testid="open-change">
      <p>
        {tx("staff.open_change", {
          id: String(c.id),
          change: changeText(c),
          reason: c.reason,
          proposer: c.proposer ? <Addr a={c.proposer} /> : t("staff.the_configuration"),
          at: time(c.proposed_at),
        })}
      </p>
      {mine && (
        <p class="muted" data-testid="own-change">
          {t("staff.own")}
        </p>
      )}
      {!mine && can("approver") && (
        <div class="form-grid">
          <ConfirmAction
            needs="approver"
            label={t("approvals.approve")}
            title={t("staff.approve_title", { id: String(c.id) })}
            testid="change-approve"
            describe={() => <p>{tx("staff.approve_describe", { change: changeText(c) })}</p>}
            act={() => post<RoleChangeView>(`/v1/admin/staff/changes/${c.id}/approve`, {})}
            done={props.changed}
          />
          <label>
            {t("staff.reject_reason")}
            <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid="change-reject-reason" />
          </label>
          <ConfirmAction
            needs="approver"
            label={t("approvals.reject")}
            danger
            title={t("staff.reject_title", { id: String(c.id) })}
            testid="change-reject"
            disabled={reason.trim() === ""}
            describe={() => (
              <p>{tx("staff.reject_describe", { change: changeText(c), reason: reason.trim() })}</p>
            )}
            act={() => post<RoleChangeView>(`/v1/admin/staff/changes/${c.id}/reject`, { reason: reason.trim() })}
            done={props.changed}
          />
        </div>
      )}
      {mine && (
        <ConfirmAction
          needs="admin"
          label={t("staff.withdraw")}
          danger
          title={t("staff.withdraw_title", { id: String(c.id) })}
          testid="change-withdraw"
          describe={() => <p>{tx("staff.withdraw_describe", { change: changeText(c) })}</p>}
          act={() => post<RoleChangeView>(`/v1/admin/staff/changes/${c.id}/withdraw`, {})}
          done={props.changed}
        />
      )}
    </div>
  );
}

function Propose(props: { changed: () => void }) {
  const [action, setAction] = useState<"grant" | "revoke">("grant");
  const [wallet, setWallet] = useState("");
  const [role, setRole] = useState<StaffRole>("viewer");
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<RoleChangeView | null>(null);
  const w = wallet.trim();
  const invalid = w !== "" && !isAddress(w);
  return (
    <section class="panel" aria-label={t("staff.propose_title")} data-testid="propose-change">
      <h3>{t("staff.propose_title")}</h3>
      <div class="form-grid">
        <label>
          {t("staff.change")}
          <select value={action} onChange={(e) => setAction((e.target as HTMLSelectElement).value as "grant" | "revoke")} data-testid="change-action">
            <option value="grant">{t("staff.grant")}</option>
            <option value="revoke">{t("staff.revoke")}</option>
          </select>
        </label>
        <label>
          {t("payouts.col_wallet")}
          <input value={wallet} onInput={(e) => setWallet((e.target as HTMLInputElement).value)} aria-invalid={invalid} placeholder="0x…" data-testid="change-wallet" />
          {invalid && <span class="field-error">{t("staff.not_address")}</span>}
        </label>
        <label>
          {t("staff.role")}
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as StaffRole)} data-testid="change-role">
            {ROLES.map((r) => (
              <option key={r.role} value={r.role}>
                {r.role}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("approvals.reason")}
          <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid="change-reason" />
        </label>
        <ConfirmAction
          needs="admin"
          label={t("staff.propose")}
          title={t("staff.propose_title")}
          testid="change-propose"
          disabled={w === "" || invalid || reason.trim() === ""}
          describe={() => (
            <p>
              {tx(action === "grant" ? "staff.propose_grant" : "staff.propose_revoke", { role: <strong>{role}</strong>, wallet: <code>{w}</code> })}
            </p>
          )}
          act={() => post<RoleChangeView>("/v1/admin/staff/changes", { action, wallet: w, role, reason: reason.trim() })}
          done={(c) => {
            setResult(c);
            props.changed();
          }}
        />
      </div>
      {result && (
        <Notice kind="ok" testid="change-proposed">
          {result.decision_reason
            ? t("staff.change_is_reason", { id: String(result.id), status: result.status, reason: result.decision_reason })
            : t("staff.change_is", { id: String(result.id), status: result.status })}
        </Notice>
      )}
    </section>
  );
}

function History(props: { tick: number }) {
  const pager = usePager<number>();
  const page = useLoad(() => get<ChangesPage>("/v1/admin/staff/changes", { cursor: pager.cursor, limit: 10 }), [pager.cursor, props.tick]);
  return (
    <section class="panel" aria-label={t("staff.history")} data-testid="change-history">
      <h3>{t("staff.history")}</h3>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t("staff.change")}</th>
              <th scope="col">{t("payouts.why")}</th>
              <th scope="col">{t("staff.proposed")}</th>
              <th scope="col">{t("payouts.status")}</th>
              <th scope="col">{t("staff.decided")}</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((c) => (
              <tr key={c.id} data-testid="change-row">
                <td>{c.id}</td>
                <td>{changeText(c)}</td>
                <td>{c.reason}</td>
                <td>
                  {c.proposer ? <Addr a={c.proposer} /> : t("staff.configuration")} {time(c.proposed_at)}
                </td>
                <td data-testid="change-status">{c.status}</td>
                <td>
                  {c.decided_by && <Addr a={c.decided_by} />} {c.decided_at ? time(c.decided_at) : ""}
                  {c.decision_reason && <div class="muted">{c.decision_reason}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager pager={pager} next={page.data?.next_cursor} label={t("staff.history")} />
    </section>
  );
}
