// Users: look a member up by wallet (their standing in every asset, as their dashboard reads it), freeze and unfreeze
// a wallet in one asset, propose forfeiting a frozen member's held rewards (a two-person action: a second approver
// signs it off on the Approvals tab), the actions on members only the asset's plan has (its room's
// `userTools`: the auto-pool plan's manual pool placement), and the users' withdraw requests.

import { useState } from "preact/hooks";
import { isAddress } from "viem";
import { ApiError, get, post } from "../lib/api";
import { parseAnyAddress } from "../lib/tron";
import { Addr, Amount, AssetAmt, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed, useSignedIn } from "../ui/account";
import { type Asset, AssetPicker, time } from "./common";
import { ConfirmAction, IfCan } from "../ui/console";
import { type AuthorisationView, proposeSigned } from "./authorisation";
import { type ConsoleKey, t, tx } from "../i18n";
import type { Schema } from "../generated/api";
import { roomOf, useLazyView } from "../plans";
import type { PlannedAsset } from "../plans/kit/assets";

type FrozenState = Schema<"FrozenState">;

export function UsersAdmin(props: { assets: PlannedAsset[] }) {
  const [assetId, setAssetId] = useState(props.assets[0]?.asset_id ?? 1);
  const asset = props.assets.find((a) => a.asset_id === assetId) ?? props.assets[0];
  const UserTools = useLazyView(roomOf(asset.plan).userTools);
  return (
    <section aria-labelledby="users-title" data-testid="users-admin">
      <h2 id="users-title">{t("console.tab_users")}</h2>
      <Lookup assets={props.assets} />
      <AssetPicker assets={props.assets} value={assetId} onChange={setAssetId} />
      <IfCan need="support">
        <Freeze asset={asset} />
      </IfCan>
      <IfCan need="finance">
        <Forfeit asset={asset} />
      </IfCan>
      {UserTools && <UserTools asset={asset} />}
      <Withdrawals asset={asset} />
    </section>
  );
}

type Profile = Schema<"Profile">;

/** A member by wallet (0x or T…): their standing in every asset, one row each, with what reached them and what is owed. */
function Lookup(props: { assets: PlannedAsset[] }) {
  const [address, setAddress] = useState("");
  const [asked, setAsked] = useState<string | null>(null);
  const a = address.trim();
  const invalid = a !== "" && parseAnyAddress(a) === null;
  const found = useLoad(() => (asked ? get<Profile>(`/v1/admin/users/${encodeURIComponent(asked)}`) : Promise.resolve(null)), [asked]);
  const submit = (e: Event) => {
    e.preventDefault();
    if (a !== "" && !invalid) setAsked(a);
  };
  return (
    <section class="panel" aria-labelledby="lookup-title" data-testid="member-lookup">
      <h3 id="lookup-title">{t("users.lookup")}</h3>
      <form class="form-grid" onSubmit={submit}>
        <label>
          {t("payouts.col_wallet")}
          <input value={address} onInput={(e) => setAddress((e.target as HTMLInputElement).value)} aria-invalid={invalid} placeholder="0x… / T…" data-testid="lookup-address" />
          {invalid && <span class="field-error">{t("staff.not_address")}</span>}
        </label>
        <button type="submit" disabled={a === "" || invalid} data-testid="lookup-go">
          {t("users.lookup_go")}
        </button>
      </form>
      {found.error && <LoadFailed error={found.error} retry={found.reload} />}
      {found.data && found.data.assets.length === 0 && (
        <p data-testid="lookup-none">{t("users.lookup_none", { wallet: found.data.address })}</p>
      )}
      {found.data && found.data.assets.length > 0 && (
        <div class="table-wrap" tabIndex={0}>
          <table data-testid="lookup-result">
            <caption>{tx("users.lookup_caption", { wallet: <Addr a={found.data.address} /> })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("users.col_asset")}</th>
                <th scope="col">{t("payouts.col_user")}</th>
                <th scope="col">{t("users.col_status")}</th>
                <th scope="col">{t("users.col_sponsor")}</th>
                <th scope="col">{t("users.col_referrals")}</th>
                <th scope="col">{t("users.col_paid_in")}</th>
                <th scope="col">{t("users.col_received")}</th>
                <th scope="col">{t("users.col_fees")}</th>
                <th scope="col">{t("users.col_owed")}</th>
              </tr>
            </thead>
            <tbody>
              {found.data.assets.map((s) => (
                <tr key={s.asset_id} data-testid={`lookup-asset-${s.asset_id}`}>
                  <th scope="row">{props.assets.find((x) => x.asset_id === s.asset_id)?.symbol ?? s.symbol}</th>
                  <td>{s.user_no}</td>
                  <td data-testid="lookup-status">{t(s.status === "frozen" ? "users.frozen" : "users.active")}</td>
                  <td>{s.sponsor ? <Addr a={s.sponsor} chainId={s.chain_id} /> : "—"}</td>
                  <td>{s.direct_referrals}</td>
                  <td data-testid="lookup-paid-in"><Amount base={s.balances.paid_in} decimals={s.decimals} symbol={s.symbol} /></td>
                  <td data-testid="lookup-received"><Amount base={s.balances.received} decimals={s.decimals} symbol={s.symbol} /></td>
                  <td data-testid="lookup-fees"><Amount base={s.balances.fees} decimals={s.decimals} symbol={s.symbol} /></td>
                  <td data-testid="lookup-owed"><Amount base={s.balances.owed} decimals={s.decimals} symbol={s.symbol} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Freeze(props: { asset: Asset }) {
  const [address, setAddress] = useState("");
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<FrozenState | null>(null);
  const a = address.trim();
  const why = reason.trim();
  const invalid = a !== "" && !isAddress(a);
  const action = (freeze: boolean) => (
    <ConfirmAction
      needs="support"
      label={t(freeze ? "users.freeze" : "users.unfreeze")}
      danger={freeze}
      title={t(freeze ? "users.freeze_title" : "users.unfreeze_title", { wallet: a, symbol: props.asset.symbol })}
      testid={freeze ? "freeze" : "unfreeze"}
      disabled={a === "" || invalid || why === ""}
      describe={() =>
        freeze ? (
          <p>{tx("users.freeze_describe", { symbol: props.asset.symbol, wallet: <code>{a}</code>, held: <em>{t("users.held")}</em>, reason: why })}</p>
        ) : (
          <p>{tx("users.unfreeze_describe", { symbol: props.asset.symbol, wallet: <code>{a}</code>, pending: <em>{t("users.pending")}</em>, reason: why })}</p>
        )
      }
      act={() => post<FrozenState>(`/v1/admin/users/${a}/${freeze ? "freeze" : "unfreeze"}`, { asset_id: props.asset.asset_id, reason: why })}
      done={setResult}
    />
  );
  return (
    <section class="panel" aria-label={t("users.freeze")} data-testid="freeze-panel">
      <h3>{t("users.freeze_or_unfreeze")}</h3>
      <div class="form-grid">
        <label>
          {t("payouts.col_wallet")}
          <input value={address} onInput={(e) => setAddress((e.target as HTMLInputElement).value)} aria-invalid={invalid} placeholder="0x…" data-testid="freeze-address" />
          {invalid && <span class="field-error">{t("staff.not_address")}</span>}
        </label>
        <label>
          {t("users.reason")}
          <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} placeholder={t("users.reason_placeholder")} data-testid="freeze-reason" />
        </label>
        {action(true)}
        {action(false)}
      </div>
      {result && (
        <Notice kind="ok" testid="freeze-result">
          {tx(result.frozen ? "users.now_frozen" : "users.now_active", { wallet: <Addr a={result.address} chainId={props.asset.chain_id} />, id: String(result.asset_id) })}
        </Notice>
      )}
    </section>
  );
}

/**
 * Proposes forfeiting a member's held rewards in the asset (their pending ones become held when they are frozen, above):
 * `POST /v1/admin/authorisations` with `kind: forfeit`, the proposal signed in this wallet. The rewards and their sum
 * are fixed then; they go to the company once a second approver signs it off on the Approvals tab.
 */
function Forfeit(props: { asset: Asset }) {
  const signed = useSignedIn();
  const [address, setAddress] = useState("");
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<AuthorisationView | null>(null);
  const a = address.trim();
  const why = reason.trim();
  const invalid = a !== "" && parseAnyAddress(a) === null;
  const symbol = props.asset.symbol;
  // The refusals staff act on, in words: nothing held (freeze first), not a member, a part of a held reward in flight.
  const refusal = (e: unknown) => {
    if (!(e instanceof ApiError)) return null;
    const key = (
      {
        no_change: "users.forfeit_no_held",
        unknown_user: "users.forfeit_unknown",
        parts_in_flight: "users.forfeit_in_flight",
      } as Record<string, ConsoleKey>
    )[e.code];
    return key ? (
      <Notice kind="error" testid="forfeit-error">
        {tx(key, { wallet: <code>{a}</code>, symbol })}
      </Notice>
    ) : null;
  };
  return (
    <section class="panel" aria-labelledby="forfeit-title" data-testid="forfeit-panel">
      <h3 id="forfeit-title">{t("users.forfeit_heading")}</h3>
      <p class="muted">{t("users.forfeit_intro", { symbol })}</p>
      <div class="form-grid">
        <label>
          {t("payouts.col_wallet")}
          <input
            value={address}
            onInput={(e) => {
              setAddress((e.target as HTMLInputElement).value);
              setResult(null);
            }}
            aria-invalid={invalid}
            placeholder="0x… / T…"
            spellcheck={false}
            data-testid="forfeit-address"
          />
          {invalid && <span class="field-error">{t("staff.not_address")}</span>}
        </label>
        <label>
          {t("users.forfeit_reason")}
          <input
            value={reason}
            maxLength={500}
            required
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
            placeholder={t("users.reason_placeholder")}
            data-testid="forfeit-reason"
          />
        </label>
        <ConfirmAction
          needs="finance"
          label={t("users.forfeit_propose")}
          danger
          title={t("users.forfeit_title", { wallet: a, symbol })}
          testid="forfeit"
          disabled={a === "" || invalid || why === ""}
          describe={() => (
            <>
              <p>{tx("users.forfeit_describe", { symbol, wallet: <code>{a}</code>, reason: why })}</p>
              <HeldNow asset={props.asset} wallet={a} />
            </>
          )}
          act={() => proposeSigned(signed, { kind: "forfeit", asset_id: props.asset.asset_id, wallet: a, reason: why })}
          done={setResult}
          failed={refusal}
        />
      </div>
      {result && (
        <Notice kind="ok" testid="forfeit-result">
          <span data-stage={result.stage} data-id={result.id}>
            {tx("users.forfeit_proposed", {
              id: String(result.id),
              amount: <AssetAmt a={result.total} testid="forfeit-amount" />,
              wallet: result.entries[0] ? <Addr a={result.entries[0].address} chainId={props.asset.chain_id} /> : <code>{a}</code>,
              tab: <a href="#approvals">{t("console.tab_approvals")}</a>,
            })}
          </span>
        </Notice>
      )}
    </section>
  );
}

/** What `wallet` holds in the asset now (the admin lookup's `held`), for the forfeit's confirmation. */
function HeldNow(props: { asset: Asset; wallet: string }) {
  const found = useLoad(() => get<Profile>(`/v1/admin/users/${encodeURIComponent(props.wallet)}`), [props.wallet]);
  const standing = found.data?.assets.find((s) => s.asset_id === props.asset.asset_id);
  if (found.loading || found.error) return null;
  return (
    <p data-testid="forfeit-held">
      {standing
        ? tx("users.forfeit_held_now", { amount: <Amount base={standing.balances.held} decimals={standing.decimals} symbol={standing.symbol} /> })
        : t("users.forfeit_not_member", { symbol: props.asset.symbol })}
    </p>
  );
}

function Withdrawals(props: { asset: Asset }) {
  const [status, setStatus] = useState("open");
  const pager = usePager<number>();
  const page = useLoad(
    () => get<Schema<"Page_WithdrawalEntry">>("/v1/admin/withdrawals", { asset_id: props.asset.asset_id, status, cursor: pager.cursor, limit: 10 }),
    [props.asset.asset_id, status, pager.cursor],
  );
  const d = props.asset.decimals;
  const s = props.asset.symbol;
  return (
    <section class="panel" aria-label={t("users.withdrawals")} data-testid="withdrawals">
      <h3>{t("users.withdrawals")}</h3>
      <label class="inline">
        {t("payouts.status")}{" "}
        <select value={status} onChange={(e) => { setStatus((e.target as HTMLSelectElement).value); pager.reset(); }}>
          <option value="open">{t("users.status_open")}</option>
          <option value="batched">{t("users.status_batched")}</option>
          <option value="cancelled">{t("users.status_cancelled")}</option>
          <option value="">{t("payouts.any")}</option>
        </select>
      </label>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t("payouts.col_user")}</th>
              <th scope="col">{t("users.asked")}</th>
              <th scope="col">{t("users.pending_now")}</th>
              <th scope="col">{t("payouts.status")}</th>
              <th scope="col">{t("audit.when")}</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((w) => (
              <tr key={w.id}>
                <td>{w.id}</td>
                <td>
                  #{w.user_no} <Addr a={w.address} chainId={props.asset.chain_id} />
                </td>
                <td><Amount base={w.amount} decimals={d} symbol={s} /></td>
                <td><Amount base={w.pending_now} decimals={d} symbol={s} /></td>
                <td data-status={w.status}>{withdrawalStatus(w.status)}</td>
                <td>{time(w.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          {status ? t("users.none_status", { status: withdrawalStatus(status) }) : t("users.none")}
        </p>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label={t("users.withdrawals")} />
    </section>
  );
}

/** A withdraw request's status in words (the API's word otherwise). */
function withdrawalStatus(s: string): string {
  return ["open", "batched", "cancelled"].includes(s) ? t(`users.status_${s}` as ConsoleKey) : s;
}
