// Staff: who holds which role, and changes of roles. An admin proposes a grant or a revocation with a reason; an
// approver other than the proposer approves or rejects it (with a reason); the proposer may withdraw it. The API
// checks every rule (the last admin, the proposer never deciding), so the page shows each refusal in its words.

import { useState } from "preact/hooks";
import { isAddress } from "viem";
import { get, post } from "../lib/api";
import { Addr, Loading, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed, useSignedIn } from "../ui/account";
import { ConfirmAction, IfCan, type StaffRole, time, useCan } from "./common";
import type { Schema } from "../generated/api";

type StaffList = Schema<"StaffList">;
type RoleChangeView = Schema<"RoleChangeView">;
type ChangesPage = Schema<"ChangesPage">;

const ROLES: { role: StaffRole; text: string }[] = [
  { role: "viewer", text: "reads every console page" },
  { role: "support", text: "freezes and unfreezes members, with a reason" },
  { role: "finance", text: "proposes payout batches, treasury transfers and refunds" },
  { role: "approver", text: "approves or rejects what another proposed" },
  { role: "admin", text: "plan versions, assets, placements, staff roles" },
];

export function Staff() {
  const [tick, setTick] = useState(0);
  const list = useLoad(() => get<StaffList>("/v1/admin/staff"), [tick]);
  const changed = () => setTick((t) => t + 1);
  return (
    <section aria-labelledby="staff-title" data-testid="staff">
      <h2 id="staff-title">Staff</h2>
      {list.loading && !list.data && <Loading what="the staff" />}
      {list.error && <LoadFailed error={list.error} retry={list.reload} />}
      {list.data && (
        <>
          <div class="table-wrap panel">
            <table>
              <caption>Who holds which role</caption>
              <thead>
                <tr>
                  <th scope="col">Wallet</th>
                  <th scope="col">Roles</th>
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
                        <span key={r.role} class="badge" title={`granted ${time(r.granted_at)} by change #${r.change_id}`}>
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
            <dd>{r.text}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function changeText(c: RoleChangeView) {
  return (
    <>
      {c.action === "grant" ? "Grant" : "Revoke"} <strong>{c.role}</strong> {c.action === "grant" ? "to" : "from"} <Addr a={c.wallet} />
    </>
  );
}

function Open(props: { changes: RoleChangeView[]; changed: () => void }) {
  if (props.changes.length === 0) {
    return (
      <p class="muted" data-testid="no-open-changes">
        No role change is waiting for an approver.
      </p>
    );
  }
  return (
    <section class="panel" aria-label="Waiting for an approver" data-testid="open-changes">
      <h3>Waiting for an approver</h3>
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
        #{c.id}: {changeText(c)} — “{c.reason}”, proposed by {c.proposer ? <Addr a={c.proposer} /> : "the configuration"} {time(c.proposed_at)}.
      </p>
      {mine && (
        <p class="muted" data-testid="own-change">
          You proposed it: another approver decides.
        </p>
      )}
      {!mine && can("approver") && (
        <div class="form-grid">
          <ConfirmAction
            needs="approver"
            label="Approve"
            title={`Approve role change #${c.id}`}
            testid="change-approve"
            describe={() => <p>{changeText(c)}. It applies at once, and is audited under your wallet.</p>}
            act={() => post<RoleChangeView>(`/v1/admin/staff/changes/${c.id}/approve`, {})}
            done={props.changed}
          />
          <label>
            Reason to reject
            <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid="change-reject-reason" />
          </label>
          <ConfirmAction
            needs="approver"
            label="Reject"
            danger
            title={`Reject role change #${c.id}`}
            testid="change-reject"
            disabled={reason.trim() === ""}
            describe={() => (
              <p>
                {changeText(c)} will not happen. Your reason, “{reason.trim()}”, is shown to the proposer and kept in the audit log.
              </p>
            )}
            act={() => post<RoleChangeView>(`/v1/admin/staff/changes/${c.id}/reject`, { reason: reason.trim() })}
            done={props.changed}
          />
        </div>
      )}
      {mine && (
        <ConfirmAction
          needs="admin"
          label="Withdraw"
          danger
          title={`Withdraw role change #${c.id}`}
          testid="change-withdraw"
          describe={() => <p>{changeText(c)} is withdrawn; nothing changes.</p>}
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
    <section class="panel" aria-label="Propose a role change" data-testid="propose-change">
      <h3>Propose a role change</h3>
      <div class="form-grid">
        <label>
          Change
          <select value={action} onChange={(e) => setAction((e.target as HTMLSelectElement).value as "grant" | "revoke")} data-testid="change-action">
            <option value="grant">grant</option>
            <option value="revoke">revoke</option>
          </select>
        </label>
        <label>
          Wallet
          <input value={wallet} onInput={(e) => setWallet((e.target as HTMLInputElement).value)} aria-invalid={invalid} placeholder="0x…" data-testid="change-wallet" />
          {invalid && <span class="field-error">Not an address.</span>}
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as StaffRole)} data-testid="change-role">
            {ROLES.map((r) => (
              <option key={r.role} value={r.role}>
                {r.role}
              </option>
            ))}
          </select>
        </label>
        <label>
          Reason
          <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid="change-reason" />
        </label>
        <ConfirmAction
          needs="admin"
          label="Propose"
          title="Propose a role change"
          testid="change-propose"
          disabled={w === "" || invalid || reason.trim() === ""}
          describe={() => (
            <p>
              {action === "grant" ? "Grant" : "Revoke"} <strong>{role}</strong> {action === "grant" ? "to" : "from"} <code>{w}</code>. An approver
              other than you must approve it before it applies (while nobody else holds the approver role, it applies at once).
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
          Change #{result.id} is {result.status}
          {result.decision_reason ? ` (${result.decision_reason})` : ""}.
        </Notice>
      )}
    </section>
  );
}

function History(props: { tick: number }) {
  const pager = usePager<number>();
  const page = useLoad(() => get<ChangesPage>("/v1/admin/staff/changes", { cursor: pager.cursor, limit: 10 }), [pager.cursor, props.tick]);
  return (
    <section class="panel" aria-label="Role changes" data-testid="change-history">
      <h3>Role changes</h3>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Change</th>
              <th scope="col">Why</th>
              <th scope="col">Proposed</th>
              <th scope="col">Status</th>
              <th scope="col">Decided</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((c) => (
              <tr key={c.id} data-testid="change-row">
                <td>{c.id}</td>
                <td>{changeText(c)}</td>
                <td>{c.reason}</td>
                <td>
                  {c.proposer ? <Addr a={c.proposer} /> : "configuration"} {time(c.proposed_at)}
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
      <Pager pager={pager} next={page.data?.next_cursor} label="Role changes" />
    </section>
  );
}
