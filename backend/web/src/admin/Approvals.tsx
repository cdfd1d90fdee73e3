// Approvals (backend/STAFF.md §3): outflows — payout batches, treasury transfers, refunds — proposed by finance and
// waiting for a second person. Each shows what an approver needs to decide — every recipient and amount, the total,
// the withdrawal fee and the net, the estimated network fee, the asset's committed liabilities and custody, who
// proposed it and when, its deadline, the signatures given and what is still missing — and is approved by signing the
// typed data in the approver's own wallet (the signer checks that signature itself), or rejected with a reason. The API
// refuses the proposer's own approval; the page does not offer it. Once approved, finance has it signed from here.
// A forfeit (a member's held rewards moved to the company: proposed on the Users tab) is decided the same way but moves
// nothing out of custody and is never signed or sent: the API applies it as soon as the approval that completes it
// lands, and finance applies one approved but not applied yet from here.

import { useState } from "preact/hooks";
import { ApiError, get, post } from "../lib/api";
import { Addr, AssetAmt, Loading, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed, errorText, useSignedIn } from "../ui/account";
import { time } from "./common";
import { ConfirmAction, unixTime, useCan } from "../ui/console";
import { type ConsoleKey, t, tx } from "../i18n";
import { localHuman } from "../lib/format";
import { roughUpHuman } from "../lib/money";
import type { Schema } from "../generated/api";

import { type AuthorisationView, STAGES, missingWords, stageWord } from "./authorisation";

type AuthorisationPage = Schema<"AuthorisationPage">;

/** Each kind of outflow in words. */
const KIND: Record<string, ConsoleKey> = {
  payout_batch: "approvals.kind_payout_batch",
  treasury_transfer: "approvals.kind_treasury_transfer",
  refund: "approvals.kind_refund",
  forfeit: "approvals.kind_forfeit",
};
const kindText = (kind: string) => (KIND[kind] ? t(KIND[kind]) : kind);

/**
 * Where a signed outflow is sent from. A forfeit has no such page: it is never signed or sent (no transaction, no
 * network fee) but applied by the API once approved — its approved step is "Apply the forfeit" and its stages' titles
 * say "applied" (FORFEIT_TITLES) — so it is left out here.
 */
const SENT_FROM: Record<string, ConsoleKey> = {
  payout_batch: "console.tab_payouts",
  treasury_transfer: "console.tab_treasury",
  refund: "console.tab_treasury",
};
/** The kind that moves nothing out of custody: a member's held rewards go to the company. */
const FORFEIT = "forfeit";
const sentFrom = (kind: string) => t(SENT_FROM[kind] ?? "approvals.its_page");

/** A forfeit's stages whose explanation is its own (it is applied, never signed, sent or executed on chain). */
const FORFEIT_TITLES: Record<string, ConsoleKey> = {
  approved: "approvals.stage_approved_title_forfeit",
  executed: "approvals.stage_executed_title_forfeit",
  expired: "approvals.stage_expired_title_forfeit",
  failed: "approvals.stage_failed_title_forfeit",
};
const stageText = (s: string, kind: string) =>
  kind === FORFEIT && FORFEIT_TITLES[s] ? t(FORFEIT_TITLES[s]) : STAGES.includes(s) ? t(`approvals.stage_${s}_title` as ConsoleKey) : s;

/**
 * A forfeit's refusals in words: its apply failed because the member's held rewards changed (it is `failed` now,
 * nothing moved), the signer's own list does not count its approvals (the API's message says why), or it is not ready;
 * `null` for any other error (the plain notice).
 */
function forfeitRefusal(e: unknown) {
  if (!(e instanceof ApiError)) return null;
  const key = (
    {
      forfeit_failed: "approvals.forfeit_failed",
      approvals_missing: "approvals.forfeit_approvals_missing",
      forfeit_not_ready: "approvals.forfeit_not_ready",
    } as Record<string, ConsoleKey>
  )[e.code];
  if (!key) return null;
  return (
    <Notice kind="error" testid="authorisation-forfeit-error">
      {t(key, { message: e.message })}
    </Notice>
  );
}

/** The kinds staff may filter the queue by (the API's `kind`). */
const KINDS = ["payout_batch", "treasury_transfer", "refund", "forfeit"];
/** The stages that still wait for a person (to approve, to have it signed, to send it): the others are decided or on
 *  their way, and shown folded. */
const OPEN_STAGES = ["proposed", "approved", "signed"];
const WALLET = /^0x[0-9a-fA-F]{40}$/;

export function Approvals() {
  const [tick, setTick] = useState(0);
  // Filters (issue 66, item 6): the state (waiting for a person, or every one), the kind, and a wallet that proposed,
  // approved or decided it.
  const [all, setAll] = useState(false);
  const [kind, setKind] = useState("");
  const [actor, setActor] = useState("");
  const pager = usePager<number>();
  const wallet = actor.trim();
  const actorValid = wallet === "" || WALLET.test(wallet);
  const query = {
    limit: 20,
    cursor: pager.cursor,
    ...(all ? {} : { open: true }),
    ...(kind ? { kind } : {}),
    ...(wallet && actorValid ? { actor: wallet } : {}),
  };
  const list = useLoad(() => get<AuthorisationPage>("/v1/admin/authorisations", query), [tick, all, kind, actorValid ? wallet : "", pager.cursor]);
  const changed = () => setTick((t) => t + 1);
  // A new filter starts at the first page.
  const filter = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    pager.reset();
  };
  const items = list.data?.items ?? [];
  // A proposal whose outflow was sent, executed, rejected or expired waits for no one: only the stages waiting for a
  // person are shown in full, the rest folded to one line.
  return (
    <section aria-labelledby="approvals-title" data-testid="approvals">
      <h2 id="approvals-title">{t("console.tab_approvals")}</h2>
      <p class="muted">
        {t("approvals.intro")} {t("approvals.intro_forfeit")}
      </p>
      <form class="filters" data-testid="approvals-filters" onSubmit={(e) => e.preventDefault()}>
        <label class="inline">
          {t("approvals.filter_state")}{" "}
          <select value={all ? "all" : "open"} onChange={(e) => filter(setAll)((e.target as HTMLSelectElement).value === "all")} data-testid="approvals-state">
            <option value="open">{t("approvals.filter_open")}</option>
            <option value="all">{t("approvals.filter_all")}</option>
          </select>
        </label>{" "}
        <label class="inline">
          {t("approvals.filter_kind")}{" "}
          <select value={kind} onChange={(e) => filter(setKind)((e.target as HTMLSelectElement).value)} data-testid="approvals-kind">
            <option value="">{t("approvals.filter_any_kind")}</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {kindText(k)}
              </option>
            ))}
          </select>
        </label>{" "}
        <label class="inline">
          {t("approvals.filter_actor")}{" "}
          <input
            value={actor}
            maxLength={42}
            placeholder="0x…"
            spellcheck={false}
            aria-invalid={!actorValid}
            onInput={(e) => filter(setActor)((e.target as HTMLInputElement).value)}
            data-testid="approvals-actor"
          />
        </label>
        {!actorValid && (
          <Notice kind="error" testid="approvals-actor-invalid">
            {t("approvals.filter_actor_invalid")}
          </Notice>
        )}
      </form>
      {list.loading && !list.data && <Loading what={t("approvals.loading")} />}
      {list.error && <LoadFailed error={list.error} retry={list.reload} />}
      {list.data && items.length === 0 && (
        <Notice kind="info" testid="approvals-empty">
          {all || kind || wallet ? t("approvals.none_match") : t("approvals.empty")}
        </Notice>
      )}
      {items.map((a) =>
        OPEN_STAGES.includes(a.stage) ? (
          <Proposal key={a.id} a={a} changed={changed} />
        ) : (
          <details key={a.id} class="fold" data-testid="authorisation-folded" data-id={a.id} data-stage={a.stage}>
            <summary>
              #{a.id}: {kindText(a.kind)} #{a.subject} — {stageWord(a.stage)} — <AssetAmt a={a.total} /> — {time(a.proposed_at)}
            </summary>
            <Proposal a={a} changed={changed} />
          </details>
        ),
      )}
      <Pager pager={pager} next={list.data?.next_cursor} label={t("console.tab_approvals")} />
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
  const kind = kindText(a.kind);
  // A forfeit: its one entry is the member whose held rewards go to the company; nothing leaves custody.
  const forfeit = a.kind === FORFEIT;
  const member = forfeit ? a.entries[0] : undefined;
  const signWith = async (action: "propose" | "approve") => {
    if (!signed) throw new Error(t("approvals.sign_in_first"));
    const typed = (a.typed_data as Record<string, object>)[action];
    const signature = await signed.connection.signTypedData(typed);
    return post<AuthorisationView>(`/v1/admin/authorisations/${a.id}/signatures`, { action, signature });
  };
  return (
    <article class="panel" data-testid="authorisation" data-id={a.id} aria-label={t("approvals.label", { id: String(a.id) })}>
      <h3>
        #{a.id}: {kind} #{a.subject} —{" "}
        <span class="badge" data-testid="authorisation-stage" data-stage={a.stage} title={stageText(a.stage, a.kind)}>
          {stageWord(a.stage)}
        </span>
      </h3>
      <dl class="balances">
        <div>
          <dt>{t(forfeit ? "approvals.forfeited" : "approvals.total")}</dt>
          <dd>
            <AssetAmt a={a.total} testid="authorisation-total" />
          </dd>
        </div>
        {forfeit ? (
          <div>
            <dt>{t("approvals.member")}</dt>
            <dd data-testid="authorisation-member">{member ? <Addr a={member.address} /> : "—"}</dd>
          </div>
        ) : (
          <>
            <div>
              <dt>{t("approvals.fee")}</dt>
              <dd>
                <AssetAmt a={a.fee} />
              </dd>
            </div>
            <div>
              <dt>{t("approvals.net")}</dt>
              <dd>
                <AssetAmt a={a.net} />
              </dd>
            </div>
          </>
        )}
        <div>
          <dt>{t("approvals.network_fee")}</dt>
          <dd
            data-testid="authorisation-network-fee"
            title={a.network_fee && !forfeit ? t("approvals.gas", { gas: String(a.network_fee.gas), price: String(a.network_fee.gas_price) }) : undefined}
          >
            {forfeit ? (
              t("approvals.nothing_sent")
            ) : a.network_fee ? (
              <span data-fee={a.network_fee.fee.base} data-gas={String(a.network_fee.gas)} title={a.network_fee.fee.human}>
                {t("approvals.at_most", { amount: roughUpHuman(a.network_fee.fee.human) })}
              </span>
            ) : (
              "—"
            )}
          </dd>
        </div>
        <div>
          <dt>{t("approvals.committed")}</dt>
          <dd data-testid="authorisation-committed">
            {a.custody ? (
              <>
                <AssetAmt a={a.custody.committed_liabilities} /> {t("approvals.epoch", { epoch: String(a.custody.committed_epoch) })}
              </>
            ) : (
              a.chain_note ?? "—"
            )}
          </dd>
        </div>
        <div>
          <dt>{t("approvals.custody")}</dt>
          <dd data-testid="authorisation-custody">{a.custody ? <AssetAmt a={a.custody.contract_balance} /> : "—"}</dd>
        </div>
        <div>
          <dt>{t("approvals.proposed_by")}</dt>
          <dd>
            <Addr a={a.proposer} /> {time(a.proposed_at)}
          </dd>
        </div>
        <div>
          <dt>{t("payouts.deadline")}</dt>
          <dd data-testid="authorisation-deadline">{unixTime(a.deadline)}</dd>
        </div>
        <div>
          <dt>{t("console.tab_approvals")}</dt>
          <dd data-testid="authorisation-approvals">
            {t("approvals.of_required", { count: a.signatures.filter((s) => s.action === "approve").length, required: a.approvals_required })}
          </dd>
        </div>
      </dl>
      <div class="table-wrap" tabIndex={0}>
        <table>
          <caption>{forfeit ? t("approvals.forfeit_caption") : t("approvals.recipients", { count: a.entries.length })}</caption>
          <thead>
            <tr>
              <th scope="col">{t(forfeit ? "approvals.member" : "approvals.recipient")}</th>
              <th scope="col">{t(forfeit ? "approvals.forfeited" : "payouts.amount")}</th>
            </tr>
          </thead>
          <tbody>
            {a.entries.map((e) => (
              <tr key={e.position} data-testid="authorisation-entry">
                <td>
                  <Addr a={e.address} />
                </td>
                <td>
                  <AssetAmt a={e.amount} testid="authorisation-entry-amount" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ul class="plain" data-testid="authorisation-signatures">
        {a.signatures.map((s) => (
          <li key={`${s.wallet}-${s.action}`}>
            {tx(s.action === "propose" ? "approvals.proposed_by_at" : "approvals.approved_by_at", { wallet: <Addr a={s.wallet} />, at: time(s.signed_at) })}
          </li>
        ))}
        {a.decision_reason && (
          <li data-testid="authorisation-reason">
            {tx(`approvals.${a.stage === "rejected" ? "rejected" : "closed"}${a.decided_by ? "_by" : ""}` as ConsoleKey, {
              wallet: a.decided_by ? <Addr a={a.decided_by} /> : null,
              reason: a.decision_reason,
            })}
          </li>
        )}
      </ul>
      {open && missingWords(a) !== "" && (
        <Notice kind="info" testid="authorisation-missing">
          {t("approvals.missing", { missing: missingWords(a) })}
        </Notice>
      )}
      {open && (
        <div class="actions-row">
          {mine && !gave("propose") && (
            <ConfirmAction
              needs="finance"
              label={t("approvals.sign_proposal")}
              title={t("approvals.sign_proposal_title", { id: String(a.id) })}
              testid="authorisation-propose"
              describe={() => (
                <p>
                  {forfeit
                    ? tx("approvals.sign_forfeit_describe", { amount: localHuman(a.total.human), wallet: <code>{member?.address ?? "—"}</code> })
                    : t("approvals.sign_proposal_describe", { kind, amount: localHuman(a.total.human), count: a.entries.length })}
                </p>
              )}
              act={() => signWith("propose")}
              done={props.changed}
            />
          )}
          {mine && can("approver") && (
            <span class="muted" data-testid="own-proposal">
              {t("approvals.own")}
            </span>
          )}
          {!mine && !gave("approve") && (
            <ConfirmAction
              needs="approver"
              label={t("approvals.approve")}
              title={t("approvals.approve_title", { id: String(a.id) })}
              testid="authorisation-approve"
              describe={() => (
                <p>
                  {forfeit
                    ? tx("approvals.approve_forfeit_describe", {
                        amount: localHuman(a.total.human),
                        wallet: <code>{member?.address ?? "—"}</code>,
                        deadline: unixTime(a.deadline),
                      })
                    : t("approvals.approve_describe", {
                        kind,
                        total: localHuman(a.total.human),
                        net: localHuman(a.net.human),
                        count: a.entries.length,
                        deadline: unixTime(a.deadline),
                      })}
                </p>
              )}
              act={() => signWith("approve")}
              done={props.changed}
              // The approval that completes a forfeit applies it at once: a refusal to apply it is said in words.
              failed={forfeit ? forfeitRefusal : undefined}
            />
          )}
          {a.stage === "approved" && forfeit && (
            <ConfirmAction
              needs="finance"
              label={t("approvals.apply_forfeit")}
              title={t("approvals.apply_forfeit_title", { id: String(a.subject) })}
              testid="authorisation-apply"
              describe={() => (
                <p>
                  {tx("approvals.apply_forfeit_describe", { amount: localHuman(a.total.human), wallet: <code>{member?.address ?? "—"}</code> })}
                </p>
              )}
              act={() => post<AuthorisationView>(`/v1/admin/authorisations/${a.id}/sign`, {})}
              done={props.changed}
              failed={forfeitRefusal}
            />
          )}
          {a.stage === "approved" && !forfeit && (
            <ConfirmAction
              needs="finance"
              label={t("approvals.have_signed")}
              title={t("approvals.have_signed_title", { kind, id: String(a.subject) })}
              testid="authorisation-sign"
              describe={() => (
                <p>{t("approvals.have_signed_describe", { kind, page: sentFrom(a.kind) })}</p>
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
          {t("approvals.signed_send", { page: sentFrom(a.kind) })}
        </Notice>
      )}
      {forfeit && a.stage === "executed" && (
        <Notice kind="ok" testid="authorisation-applied">
          {tx("approvals.forfeit_applied", { amount: <AssetAmt a={a.total} />, wallet: member ? <Addr a={member.address} /> : "—" })}
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
        {t("approvals.reason")}{" "}
        <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid="authorisation-reason-input" />
      </label>{" "}
      <ConfirmAction
        needs="approver"
        label={t("approvals.reject")}
        danger
        disabled={reason.trim() === ""}
        title={t("approvals.reject_title", { id: String(props.a.id) })}
        testid="authorisation-reject"
        describe={() => (
          <p>
            {props.a.kind === FORFEIT
              ? t("approvals.reject_forfeit_describe", { reason: reason.trim() })
              : t("approvals.reject_describe", { kind: kindText(props.a.kind), reason: reason.trim() })}
          </p>
        )}
        act={() => post<AuthorisationView>(`/v1/admin/authorisations/${props.a.id}/reject`, { reason: reason.trim() })}
        done={props.changed}
        failed={(e) => <Notice kind="error">{errorText(e)}</Notice>}
      />
    </span>
  );
}
