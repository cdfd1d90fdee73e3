// Approvals (backend/STAFF.md §3): outflows — payout batches, treasury transfers, refunds — proposed by finance and
// waiting for a second person. Each shows what an approver needs to decide — every recipient and amount, the total,
// the withdrawal fee and the net, the estimated network fee, the asset's committed liabilities and custody, who
// proposed it and when, its deadline, the signatures given and what is still missing — and is approved by signing the
// typed data in the approver's own wallet (the signer checks that signature itself), or rejected with a reason. The API
// refuses the proposer's own approval; the page does not offer it. Once approved, finance has it signed from here.

import { useState } from "preact/hooks";
import { get, post } from "../lib/api";
import { Addr, AssetAmt, Loading, Notice, useLoad } from "../ui/bits";
import { LoadFailed, errorText, useSignedIn } from "../ui/account";
import { ConfirmAction, time, unixTime, useCan } from "./common";
import type { Schema } from "../generated/api";

export type AuthorisationView = Schema<"AuthorisationView">;
type AuthorisationPage = Schema<"AuthorisationPage">;

/**
 * Proposes an outflow (`body`: `POST /v1/admin/authorisations`'s) and signs the proposal in the signed-in staff wallet;
 * a proposal retried after its signature went in is answered as it stands (the API answers the open one again).
 */
export async function proposeSigned(signed: ReturnType<typeof useSignedIn>, body: object): Promise<AuthorisationView> {
  const proposal = await post<AuthorisationView>("/v1/admin/authorisations", body);
  if (!signed) throw new Error("Sign in with your staff wallet first.");
  if (proposal.signatures.some((s) => s.action === "propose")) return proposal;
  const signature = await signed.connection.signTypedData((proposal.typed_data as Record<string, object>).propose);
  return post<AuthorisationView>(`/v1/admin/authorisations/${proposal.id}/signatures`, { action: "propose", signature });
}

/** Each kind of outflow in words. */
const KIND: Record<string, string> = {
  payout_batch: "payout batch",
  treasury_transfer: "treasury transfer",
  refund: "refund",
};

/** Where a signed outflow is sent from. */
const SENT_FROM: Record<string, string> = {
  payout_batch: "Payouts",
  treasury_transfer: "Treasury",
  refund: "Treasury",
};

/** Each stage in words, for the badge and its title. */
const STAGE: Record<string, string> = {
  proposed: "waiting for signatures",
  approved: "approved: ready to be signed by the signer",
  signed: "signed by the signer, not sent yet",
  sent: "sent, waiting for the chain",
  executed: "executed on chain",
  rejected: "rejected",
  expired: "expired before it was signed",
  failed: "failed on chain",
  cancelled: "cancelled",
};

export function Approvals() {
  const [tick, setTick] = useState(0);
  const [all, setAll] = useState(false);
  const list = useLoad(() => get<AuthorisationPage>(`/v1/admin/authorisations?limit=50${all ? "" : "&open=true"}`), [tick, all]);
  const changed = () => setTick((t) => t + 1);
  return (
    <section aria-labelledby="approvals-title" data-testid="approvals">
      <h2 id="approvals-title">Approvals</h2>
      <p class="muted">
        Every payout batch, treasury transfer and refund is proposed by finance and approved by another person, each
        signing in their own wallet; the signer service checks those signatures against its own list before it signs
        anything.
      </p>
      <label class="inline">
        <input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} data-testid="approvals-all" />{" "}
        Show decided ones too
      </label>
      {list.loading && !list.data && <Loading what="the proposals" />}
      {list.error && <LoadFailed error={list.error} retry={list.reload} />}
      {list.data && list.data.items.length === 0 && (
        <Notice kind="info" testid="approvals-empty">
          Nothing is waiting for approval.
        </Notice>
      )}
      {list.data?.items.map((a) => <Proposal key={a.id} a={a} changed={changed} />)}
    </section>
  );
}

/** One proposal with everything the decision needs and the steps the signed-in wallet may take. */
export function Proposal(props: { a: AuthorisationView; changed: () => void }) {
  const { a } = props;
  const signed = useSignedIn();
  const can = useCan();
  const me = signed?.session.address.toLowerCase();
  const mine = a.proposer.toLowerCase() === me;
  const gave = (action: string) => a.signatures.some((s) => s.action === action && s.wallet.toLowerCase() === me);
  const open = a.stage === "proposed" || a.stage === "approved";
  const kind = KIND[a.kind] ?? a.kind;
  const signWith = async (action: "propose" | "approve") => {
    if (!signed) throw new Error("Sign in with your staff wallet first.");
    const typed = (a.typed_data as Record<string, object>)[action];
    const signature = await signed.connection.signTypedData(typed);
    return post<AuthorisationView>(`/v1/admin/authorisations/${a.id}/signatures`, { action, signature });
  };
  return (
    <article class="panel" data-testid="authorisation" data-id={a.id} aria-label={`Proposal ${a.id}`}>
      <h3>
        #{a.id}: {kind} #{a.subject} —{" "}
        <span class="badge" data-testid="authorisation-stage" title={STAGE[a.stage] ?? a.stage}>
          {a.stage}
        </span>
      </h3>
      <dl class="balances">
        <div>
          <dt>Total leaving custody</dt>
          <dd>
            <AssetAmt a={a.total} testid="authorisation-total" />
          </dd>
        </div>
        <div>
          <dt>Withdrawal fee kept</dt>
          <dd>
            <AssetAmt a={a.fee} />
          </dd>
        </div>
        <div>
          <dt>Recipients receive</dt>
          <dd>
            <AssetAmt a={a.net} />
          </dd>
        </div>
        <div>
          <dt>Estimated network fee</dt>
          <dd data-testid="authorisation-network-fee" title={a.network_fee ? `${a.network_fee.gas} gas at ${a.network_fee.gas_price} per gas` : undefined}>
            {a.network_fee ? <>at most <AssetAmt a={a.network_fee.fee} /></> : "—"}
          </dd>
        </div>
        <div>
          <dt>Committed liabilities</dt>
          <dd data-testid="authorisation-committed">
            {a.custody ? (
              <>
                <AssetAmt a={a.custody.committed_liabilities} /> (epoch {a.custody.committed_epoch})
              </>
            ) : (
              a.chain_note ?? "—"
            )}
          </dd>
        </div>
        <div>
          <dt>Custody (contract balance)</dt>
          <dd data-testid="authorisation-custody">{a.custody ? <AssetAmt a={a.custody.contract_balance} /> : "—"}</dd>
        </div>
        <div>
          <dt>Proposed by</dt>
          <dd>
            <Addr a={a.proposer} /> {time(a.proposed_at)}
          </dd>
        </div>
        <div>
          <dt>Deadline</dt>
          <dd data-testid="authorisation-deadline">{unixTime(a.deadline)}</dd>
        </div>
        <div>
          <dt>Approvals</dt>
          <dd data-testid="authorisation-approvals">
            {a.signatures.filter((s) => s.action === "approve").length} of {a.approvals_required} required
          </dd>
        </div>
      </dl>
      <div class="table-wrap">
        <table>
          <caption>
            {a.entries.length} recipient{a.entries.length === 1 ? "" : "s"}
          </caption>
          <thead>
            <tr>
              <th scope="col">Recipient</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody>
            {a.entries.map((e) => (
              <tr key={e.position} data-testid="authorisation-entry">
                <td>
                  <Addr a={e.address} />
                </td>
                <td>
                  <AssetAmt a={e.amount} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ul class="plain" data-testid="authorisation-signatures">
        {a.signatures.map((s) => (
          <li key={`${s.wallet}-${s.action}`}>
            {s.action === "propose" ? "Proposed" : "Approved"} by <Addr a={s.wallet} /> {time(s.signed_at)}
          </li>
        ))}
        {a.decision_reason && (
          <li data-testid="authorisation-reason">
            {a.stage === "rejected" ? "Rejected" : "Closed"}
            {a.decided_by ? <> by <Addr a={a.decided_by} /></> : null}: “{a.decision_reason}”
          </li>
        )}
      </ul>
      {open && a.missing.length > 0 && (
        <Notice kind="info" testid="authorisation-missing">
          Still missing: {a.missing.join("; ")}.
        </Notice>
      )}
      {open && (
        <div class="actions-row">
          {mine && !gave("propose") && (
            <ConfirmAction
              needs="finance"
              label="Sign the proposal"
              title={`Sign proposal #${a.id}`}
              testid="authorisation-propose"
              describe={() => (
                <p>
                  Your wallet signs that you prepared this {kind} of {a.total.human} to {a.entries.length} recipient{a.entries.length === 1 ? "" : "s"}.
                </p>
              )}
              act={() => signWith("propose")}
              done={props.changed}
            />
          )}
          {mine && can("approver") && (
            <span class="muted" data-testid="own-proposal">
              You proposed this: another approver decides it.
            </span>
          )}
          {!mine && !gave("approve") && (
            <ConfirmAction
              needs="approver"
              label="Approve"
              title={`Approve proposal #${a.id}`}
              testid="authorisation-approve"
              describe={() => (
                <p>
                  Your wallet signs that you checked this {kind}: {a.total.human} leaves custody, {a.net.human} to the {a.entries.length}{" "}
                  recipient{a.entries.length === 1 ? "" : "s"} listed, by {unixTime(a.deadline)}.
                </p>
              )}
              act={() => signWith("approve")}
              done={props.changed}
            />
          )}
          {a.stage === "approved" && (
            <ConfirmAction
              needs="finance"
              label="Have it signed"
              title={`Sign ${kind} #${a.subject}`}
              testid="authorisation-sign"
              describe={() => (
                <p>
                  The signer service signs this {kind} with the approvals above (it checks each one itself). Then send it from{" "}
                  {SENT_FROM[a.kind] ?? "its page"}.
                </p>
              )}
              act={() => post<AuthorisationView>(`/v1/admin/authorisations/${a.id}/sign`, {})}
              done={props.changed}
              failed={(e) => <Notice kind="error">{errorText(e)}</Notice>}
            />
          )}
          {!mine && <Reject a={a} changed={props.changed} />}
        </div>
      )}
      {a.stage === "signed" && (
        <Notice kind="info" testid="authorisation-signed">
          Signed: send it from {SENT_FROM[a.kind] ?? "its page"}.
        </Notice>
      )}
    </article>
  );
}

function Reject(props: { a: AuthorisationView; changed: () => void }) {
  const [reason, setReason] = useState("");
  const can = useCan();
  if (!can("approver")) return null;
  return (
    <span>
      <label class="inline">
        Reason{" "}
        <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid="authorisation-reason-input" />
      </label>{" "}
      <ConfirmAction
        needs="approver"
        label="Reject"
        danger
        disabled={reason.trim() === ""}
        title={`Reject proposal #${props.a.id}`}
        testid="authorisation-reject"
        describe={() => (
          <p>
            The {KIND[props.a.kind] ?? props.a.kind} will never be signed through this proposal. Your reason: “{reason.trim()}”.
          </p>
        )}
        act={() => post<AuthorisationView>(`/v1/admin/authorisations/${props.a.id}/reject`, { reason: reason.trim() })}
        done={props.changed}
        failed={(e) => <Notice kind="error">{errorText(e)}</Notice>}
      />
    </span>
  );
}
