// Payouts: pending rewards (filtered, paged, with totals), building a batch within caps (the admin's and the
// signer's: per entry, per batch, rolling daily outflow), and each batch from signing to its on-chain outcome:
// sign, submit, retry, cancel once the chain proves it expired; with who was paid in part or left out, and why.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post, publicCall } from "../lib/api";
import { fiat, mulPrice, roughUp } from "../lib/money";
import type { AssetAmount } from "../lib/types";
import { Addr, Amount, AssetAmt, Loading, Notice, Pager, TxHash, useLoad, usePager } from "../ui/bits";
import { LoadFailed, useSignedIn } from "../ui/account";
import { missingWords, proposeSigned, stageWord, type AuthorisationView } from "./authorisation";
import { networkLabel } from "../lib/networks";
import { type ConsoleKey, t, tx } from "../i18n";
import { localHuman } from "../lib/format";
import { type Asset, AssetPicker, time } from "./common";
import { ConfirmAction, IfCan, toBase, unixTime } from "../ui/console";
import type { Schema } from "../generated/api";

type PendingPage = Schema<"PendingPage">;
export type BatchView = Schema<"BatchView">;
/** The limits a build applied: the request's caps and the signer's policy at that moment (only in the build's answer). */
type BuildLimits = Schema<"BuildLimitsView">;
type BuildAnswer = Schema<"BuildAnswer">;
type SendResult = Schema<"SendResult">;

const PAGE = 20;

/** What a follow-up found of the batch's previous transaction, as the send result's `previous` says it. */
const PREVIOUS: Record<string, ConsoleKey> = {
  expired: "payouts.previous_expired",
  unseen: "payouts.previous_unseen",
  stuck: "payouts.previous_stuck",
  at_fee_ceiling: "payouts.previous_at_fee_ceiling",
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
      <h2 id="payouts-title">{t("console.tab_payouts")}</h2>
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
    <section class="panel" aria-label={t("payouts.pending")} data-testid="pending">
      <h3>{t("payouts.pending")}</h3>
      <form class="form-grid" onSubmit={apply}>
        <label>
          {t("payouts.user_address")}
          <input value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} placeholder="0x…" />
        </label>
        <label>
          {t("payouts.at_least", { symbol: asset.symbol })}
          <input value={min} onInput={(e) => setMin((e.target as HTMLInputElement).value)} inputMode="decimal" aria-invalid={minInvalid} />
          {minInvalid && <span class="field-error">{t("payouts.number_decimals", { decimals: asset.decimals })}</span>}
        </label>
        <label>
          {t("payouts.withdraw_request")}
          <select value={requested} onChange={(e) => setRequested((e.target as HTMLSelectElement).value as "" | "true" | "false")}>
            <option value="">{t("payouts.any")}</option>
            <option value="true">{t("payouts.requested")}</option>
            <option value="false">{t("payouts.not_requested")}</option>
          </select>
        </label>
        <button type="submit">{t("payouts.filter")}</button>
      </form>
      {page.loading && !page.data && <Loading what={t("payouts.loading_pending")} />}
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      {page.data && (
        <>
          <p data-testid="pending-totals">
            {tx("payouts.totals", {
              users: <strong>{page.data.totals.users}</strong>,
              rewards: page.data.totals.rewards,
              amount: <AssetAmt a={page.data.totals.amount} testid="pending-total" />,
            })}
          </p>
          <div class="table-wrap" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("payouts.col_user")}</th>
                  <th scope="col">{t("payouts.col_wallet")}</th>
                  <th scope="col">{t("payouts.col_pending")}</th>
                  <th scope="col">{t("payouts.col_rewards")}</th>
                  <th scope="col">{t("payouts.withdraw_request")}</th>
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
              {t(min || requested ? "payouts.none_match" : "payouts.none")}
            </p>
          )}
          <Pager pager={pager} next={page.data.next_cursor} label={t("payouts.col_pending")} />
        </>
      )}
      <IfCan need="finance">
      <h4>{t("payouts.build_title")}</h4>
      <div class="form-grid">
        <label>
          {t("payouts.max_entries")}
          <input value={maxEntries} onInput={(e) => setMaxEntries((e.target as HTMLInputElement).value)} inputMode="numeric" aria-invalid={entriesInvalid} data-testid="max-entries" />
          {entriesInvalid && <span class="field-error">{t("payouts.max_entries_error")}</span>}
        </label>
        <label>
          {t("payouts.max_total", { symbol: asset.symbol })}
          <input value={maxTotal} onInput={(e) => setMaxTotal((e.target as HTMLInputElement).value)} inputMode="decimal" aria-invalid={totalInvalid} data-testid="max-total" />
          {totalInvalid && <span class="field-error">{t("payouts.positive_decimals", { decimals: asset.decimals })}</span>}
        </label>
        <ConfirmAction
          needs="finance"
          label={t("payouts.build")}
          title={t("payouts.build_confirm_title", { symbol: asset.symbol })}
          testid="build-batch"
          disabled={entriesInvalid || totalInvalid || page.data?.totals.users === 0}
          describe={() => (
            <p>
              {tx(totalBase !== null ? "payouts.build_describe_capped" : "payouts.build_describe", {
                entries: entriesN,
                cap: totalBase !== null ? <Amount base={totalBase} decimals={asset.decimals} symbol={asset.symbol} /> : null,
                users: page.data?.totals.users ?? "?",
                amount: <AssetAmt a={page.data?.totals.amount ?? { base: "0", human: "?" }} />,
                batched: <em>{t("payouts.batched")}</em>,
              })}
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
    <section class="panel" aria-label={t("payouts.batches")} data-testid="batches">
      <h3>{t("payouts.batches")}</h3>
      <label class="inline">
        {t("payouts.status")}{" "}
        <select value={status} onChange={(e) => { setStatus((e.target as HTMLSelectElement).value); pager.reset(); }}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s ? batchStatus(s) : t("payouts.any")}
            </option>
          ))}
        </select>
      </label>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t("payouts.col_batch")}</th>
              <th scope="col">{t("payouts.status")}</th>
              <th scope="col">{t("payouts.entries")}</th>
              <th scope="col">{t("payouts.total")}</th>
              <th scope="col">{t("payouts.col_shortfall")}</th>
              <th scope="col">{t("payouts.created")}</th>
              <th scope="col"><span class="sr-only">{t("payouts.open")}</span></th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((b) => (
              <tr key={b.id} aria-selected={b.id === props.selected} data-testid="batch-row">
                <td>#{b.id}</td>
                <td data-testid="batch-row-status" data-status={b.status}>{batchStatus(b.status)}</td>
                <td>{b.entry_count}</td>
                <td>
                  <AssetAmt a={b.total} />
                </td>
                <td data-testid="batch-row-limits">{shortfall(b)}</td>
                <td>{time(b.created_at)}</td>
                <td>
                  <button type="button" onClick={() => props.onSelect(b.id)}>
                    {t("payouts.open")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          {status ? t("payouts.no_batches_status", { status: batchStatus(status) }) : t("payouts.no_batches")}
        </p>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label={t("payouts.batches")} />
    </section>
  );
}

function BatchDetail(props: { id: number; asset: Asset; version: number; onChange: () => void; limits?: BuildLimits }) {
  const [tick, setTick] = useState(0);
  const [sent, setSent] = useState<SendResult | null>(null);
  const [proposed, setProposed] = useState<AuthorisationView | null>(null);
  const signed = useSignedIn();
  const batch = useLoad(() => get<BatchView>(`/v1/admin/payouts/batches/${props.id}`), [props.id, props.version, tick]);
  // The batch's proposal for approval, if any: its stage decides the page's next step (issue 66, item 6).
  const [proposalTick, setProposalTick] = useState(0);
  const proposal = useLoad(
    () =>
      get<Schema<"AuthorisationPage">>("/v1/admin/authorisations", { kind: "payout_batch", subject: props.id, limit: 1 }).then(
        (p) => p.items[0] ?? null,
      ),
    [props.id, props.version, tick, proposalTick],
  );
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
  // A proposal waiting for its approver: look again, so that the clerk is told once it is approved.
  const stage = proposal.data?.stage;
  useEffect(() => {
    if (stage !== "proposed" || status !== "building") return;
    const timer = setTimeout(() => setProposalTick((n) => n + 1), 3000);
    return () => clearTimeout(timer);
  }, [stage, status, proposalTick]);
  if (batch.loading && !batch.data) return <Loading what={t("payouts.loading_batch", { id: String(props.id) })} />;
  if (batch.error) return <LoadFailed error={batch.error} retry={batch.reload} />;
  const b = batch.data!;
  const expired = b.deadline != null && b.deadline * 1000 < Date.now();
  // The latest word on the proposal: the one just made here, else the one loaded.
  const current = proposal.data ?? proposed;
  const approved = current?.stage === "approved";
  // Open proposals take the batch's next step: none proposed → propose; proposed → wait; approved → sign.
  const waiting = current?.stage === "proposed";
  // (one proposal per batch: a rejected or expired one closes it, and the batch is cancelled and built again)
  const canPropose = b.status === "building" && current == null;
  return (
    <section class="panel" aria-label={t("payouts.batch_label", { id: String(b.id) })} data-testid="batch-detail">
      <h3>
        {tx("payouts.batch_heading", { id: String(b.id), status: <span data-testid="batch-status" data-status={b.status}>{batchStatus(b.status)}</span> })}
      </h3>
      <dl class="balances">
        <div>
          <dt>{t("payouts.total")}</dt>
          <dd>
            <AssetAmt a={b.total} testid="batch-total" />
          </dd>
        </div>
        <div>
          <dt>{t("payouts.entries")}</dt>
          <dd>{b.entry_count}</dd>
        </div>
        <div>
          <dt>{t("payouts.paid_in_part")}</dt>
          <dd data-testid="batch-partial">{b.partial_count}</dd>
        </div>
        <div>
          <dt>{t("payouts.users_left_out")}</dt>
          <dd data-testid="batch-left-out">{b.left_out_count}</dd>
        </div>
        <div>
          <dt>{t("payouts.nonce")}</dt>
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
          <dt>{t("payouts.deadline")}</dt>
          <dd data-testid="batch-deadline">{unixTime(b.deadline)}{expired && b.status !== "executed" ? ` ${t("payouts.passed")}` : ""}</dd>
        </div>
        <div>
          <dt>{t("payouts.transaction")}</dt>
          <dd data-testid="batch-tx">{b.tx_hash ? <TxHash chainId={b.chain_id} hash={b.tx_hash} /> : "—"}</dd>
        </div>
        <div>
          <dt>{t("payouts.executed_in_block")}</dt>
          <dd data-testid="batch-block">{b.executed_block ?? "—"}</dd>
        </div>
      </dl>
      <div class="actions-row">
        <button type="button" onClick={() => setTick((t) => t + 1)} data-testid="batch-refresh">
          {t("payouts.refresh")}
        </button>{" "}
        {canPropose && (
          <ConfirmAction
            needs="finance"
            label={t("payouts.propose")}
            title={t("payouts.propose_title", { id: String(b.id) })}
            testid="batch-propose"
            describe={() => (
              <>
                <p>{tx("payouts.propose_describe", { amount: <AssetAmt a={b.total} /> })}</p>
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
        {b.status === "building" && !waiting && (
          <ConfirmAction
            needs="finance"
            secondary={!approved}
            label={t("payouts.sign")}
            title={t("payouts.sign_title", { id: String(b.id) })}
            testid="batch-sign"
            describe={() => (
              <>
                <p>{tx("payouts.sign_describe", { amount: <AssetAmt a={b.total} />, count: b.entry_count })}</p>
                <Recipients b={b} />
                <BatchFee b={b} />
              </>
            )}
            act={() => post<BatchView>(`/v1/admin/payouts/batches/${b.id}/sign`, {})}
            done={refresh}
          />
        )}
        {b.status === "signed" && (
          <ConfirmAction
            needs="finance"
            label={t("payouts.submit")}
            title={t("payouts.submit_title", { id: String(b.id) })}
            testid="batch-submit"
            describe={() => (
              <>
                <p>{tx("payouts.submit_describe", { network: networkLabel(b.chain_id), amount: <AssetAmt a={b.total} />, count: b.entry_count })}</p>
                <Recipients b={b} />
                <BatchFee b={b} />
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
            label={t("payouts.retry")}
            title={t("payouts.retry_title", { id: String(b.id) })}
            testid="batch-retry"
            describe={() => (
              <p>{t("payouts.retry_describe")}</p>
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
            label={t("payouts.cancel")}
            danger
            title={t("payouts.cancel_title", { id: String(b.id) })}
            testid="batch-cancel"
            describe={() => (
              <p>{tx("payouts.cancel_describe", { deadline: unixTime(b.deadline), count: b.entry_count, amount: <AssetAmt a={b.total} /> })}</p>
            )}
            act={() => post<BatchView>(`/v1/admin/payouts/batches/${b.id}/cancel`, {})}
            done={refresh}
          />
        )}
      </div>
      {current && b.status === "building" && (
        <Notice kind={approved ? "ok" : "info"} testid="batch-proposed">
          <span data-stage={current.stage}>{proposalText(current)}</span> <a href="#approvals">{t("console.tab_approvals")}</a>
        </Notice>
      )}
      {sent && (
        <Notice kind="info" testid="send-result">
          {tx(sent.executed_block != null ? "payouts.sent_executed" : "payouts.sent", {
            sent: t(sent.sent ? "payouts.sent_yes" : "payouts.sent_no"),
            outcome: sent.outcome,
            previous: sent.previous ? ` (${PREVIOUS[sent.previous] ? t(PREVIOUS[sent.previous]) : t("payouts.previous_other", { state: sent.previous })})` : "",
            tx: <TxHash chainId={b.chain_id} hash={sent.tx_hash} full />,
            block: String(sent.executed_block),
          })}
        </Notice>
      )}
      {b.status === "submitted" && <p class="muted">{t("payouts.submitted_hint")}</p>}
      {props.limits && <Limits l={props.limits} />}
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t("payouts.col_wallet")}</th>
              <th scope="col">{t("payouts.amount")}</th>
              <th scope="col">{t("payouts.outcome")}</th>
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
                  <AssetAmt a={e.amount} testid="entry-amount" />
                  {e.fee.base !== "0" && (
                    <div class="muted" data-testid="entry-fee">
                      {tx("payouts.entry_fee", { fee: <AssetAmt a={e.fee} /> })}
                    </div>
                  )}
                  {e.limited_by && (
                    <div class="muted" data-testid="entry-partial" data-limited-by={e.limited_by}>
                      {t("payouts.entry_partial", { now: localHuman(e.amount.human), owed: localHuman(e.owed.human), limit: limitText(e.limited_by) })}
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
          {e.fee.base !== "0" && <> ({tx("payouts.entry_fee", { fee: <AssetAmt a={e.fee} /> })})</>}
        </li>
      ))}
      {props.b.entries.length > shown.length && <li>{t("payouts.and_more", { count: props.b.entries.length - shown.length })}</li>}
    </ul>
  );
}

/**
 * What sending the batch costs the operator's account in network fees, at most (finding 8): the API's per-batch and
 * per-entry gas × the chain's gas price now, in its coin and, with a current price, in the operator's currency.
 */
function BatchFee(props: { b: BatchView }) {
  const prices = useLoad(() => publicCall<Schema<"PublicPrices">>("GET", "/v1/public/prices"), []);
  const chain = prices.data?.chains.find((c) => c.chain_id === props.b.chain_id);
  if (!chain?.gas_price) return null;
  const gas = BigInt(chain.payout_base_gas) + BigInt(chain.payout_entry_gas) * BigInt(props.b.entry_count);
  const fee = gas * BigInt(chain.gas_price);
  const price = chain.native_price?.state === "current" ? chain.native_price.value : undefined;
  const currency = prices.data?.currency;
  const inFiat = price && currency ? ` (≈ ${fiat(mulPrice(fee, chain.native_decimals, price), currency)})` : "";
  return (
    <p data-testid="batch-network-fee" data-gas={gas.toString()} data-fee={fee.toString()}>
      {t("payouts.network_fee", { fee: roughUp(fee, chain.native_decimals, chain.native_symbol) + inFiat })}
    </p>
  );
}

function Limits(props: { l: BuildLimits }) {
  const { l } = props;
  const rows: [string, string, ComponentChildren][] = [
    [t("payouts.limit_entries"), "limit-entries", l.max_entries],
    [t("payouts.limit_total"), "limit-total", <Cap a={l.max_total} />],
    [t("payouts.limit_entry"), "limit-entry", <Cap a={l.max_entry} />],
    [t("payouts.limit_used"), "limit-used", <AssetAmt a={l.daily_outflow_used} />],
    [t("payouts.limit_daily"), "limit-daily", <Cap a={l.daily_outflow_cap} />],
    [t("payouts.limit_room"), "limit-room", <Cap a={l.daily_room} />],
    [t("payouts.limit_grows"), "limit-grows", l.daily_room_grows_at ? unixTime(l.daily_room_grows_at) : t("payouts.limit_grows_none")],
  ];
  return (
    <div data-testid="build-limits">
      <h4>{t("payouts.limits_title")}</h4>
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
        {t("payouts.left_out_title", { count: b.left_out_count })}
      </h4>
      <ul>
        {b.left_out_by_reason.map((r) => (
          <li key={r.reason} data-testid="left-out-reason" data-reason={r.reason}>
            {tx("payouts.left_out_reason", { reason: leftOutText(r.reason), count: r.users, amount: <AssetAmt a={r.owed} /> })}
          </li>
        ))}
      </ul>
      <details open={b.left_out.length <= 10}>
        <summary>{more > 0 ? t("payouts.left_out_first", { count: b.left_out.length }) : t("payouts.who")}</summary>
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t("payouts.col_wallet")}</th>
                <th scope="col">{t("payouts.owed")}</th>
                <th scope="col">{t("payouts.why")}</th>
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
      {more > 0 && <p data-testid="left-out-more">{t("payouts.left_out_more", { count: more })}</p>}
    </div>
  );
}

/** 2^128 - 1 base units: the ledger's "no cap". */
const NO_CAP = (1n << 128n) - 1n;

function Cap(props: { a: AssetAmount }) {
  return BigInt(props.a.base) >= NO_CAP ? <>{t("payouts.no_cap")}</> : <AssetAmt a={props.a} />;
}

/** Why an entry pays less than owed. */
function limitText(limitedBy: string): string {
  const key = ({ per_entry_cap: "payouts.limited_entry", batch_total: "payouts.limited_total", daily_outflow_cap: "payouts.limited_daily" } as Record<string, ConsoleKey>)[limitedBy];
  return key ? t(key) : limitedBy;
}

/** Why a user with payable rewards is not in the batch. */
function leftOutText(reason: string): string {
  const key = (
    {
      max_entries: "payouts.left_max_entries",
      batch_total: "payouts.left_batch_total",
      daily_outflow_cap: "payouts.left_daily",
      recipient_not_allowed: "payouts.left_recipient",
    } as Record<string, ConsoleKey>
  )[reason];
  return key ? t(key) : reason;
}

function shortfall(b: BatchView): string {
  const parts = [b.partial_count > 0 && t("payouts.in_part", { count: b.partial_count }), b.left_out_count > 0 && t("payouts.left_out", { count: b.left_out_count })].filter(Boolean);
  return parts.length ? parts.join(", ") : "—";
}

/** A batch's status in words (the API's own word stays in `data-status`). */
function batchStatus(s: string): string {
  return s && STATUSES.includes(s) ? t(`payouts.status_${s}` as ConsoleKey) : s;
}

/** A proposal's stage and the batch's next step, in words: who approved it and that it is to be signed now, or what it
 *  still misses. */
function proposalText(p: AuthorisationView): string {
  const stage = stageWord(p.stage);
  if (p.stage === "approved") {
    const by = p.signatures.filter((s) => s.action === "approve");
    const last = by[by.length - 1];
    return t("payouts.proposal_approved", {
      id: String(p.id),
      wallets: by.map((s) => s.wallet).join(", "),
      at: last ? time(last.signed_at) : "",
    });
  }
  if (p.stage === "rejected" || p.stage === "expired") return t("payouts.proposal_closed", { id: String(p.id), stage, reason: p.decision_reason ?? "" });
  return missingWords(p) !== ""
    ? t("payouts.proposal_missing", { id: String(p.id), stage, missing: missingWords(p) })
    : t("payouts.proposal", { id: String(p.id), stage });
}

/** "in about 2 h 5 min" from seconds. */
function about(secs: number): string {
  if (secs < 60) return t("payouts.about_s", { s: secs });
  const m = Math.ceil(secs / 60);
  return m < 60 ? t("payouts.about_min", { m }) : m % 60 ? t("payouts.about_h_min", { h: Math.floor(m / 60), m: m % 60 }) : t("payouts.about_h", { h: Math.floor(m / 60) });
}

/** A build's refusals that are not errors of the page: no room today, nothing to pay, the signer unreachable. */
function buildRefusal(e: unknown) {
  if (!(e instanceof ApiError)) return null;
  if (e.code === "daily_outflow_cap_reached") {
    return (
      <Notice kind="warn" testid="build-cap-reached">
        <p>
          <strong>{t("payouts.cap_reached")}</strong> {e.message}.
        </p>
        {e.retryAfter !== null && (
          <p data-testid="build-retry-at" data-retry-after={e.retryAfter}>
            {t("payouts.room_returns", { about: about(e.retryAfter), at: time(new Date(e.at + e.retryAfter * 1000).toISOString()) })}
          </p>
        )}
      </Notice>
    );
  }
  if (e.code === "nothing_payable") {
    return (
      <Notice kind="info" testid="build-nothing-payable">
        {t("payouts.nothing_payable", { message: e.message })}
      </Notice>
    );
  }
  if (e.code === "signer_unavailable" || e.code === "signer_refused") {
    return (
      <Notice kind="error" testid="build-batch-error">
        {t("payouts.signer_unavailable", { message: e.message, code: e.code })}
      </Notice>
    );
  }
  return null;
}
