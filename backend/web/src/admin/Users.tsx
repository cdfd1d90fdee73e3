// Users: freeze and unfreeze a wallet in one asset, the actions on members only the asset's plan has (its room's
// `userTools`: the auto-pool plan's manual pool placement), and the users' withdraw requests.

import { useState } from "preact/hooks";
import { isAddress } from "viem";
import { get, post } from "../lib/api";
import { Addr, Amount, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed } from "../ui/account";
import { type Asset, AssetPicker, ConfirmAction, IfCan, time } from "./common";
import type { Schema } from "../generated/api";
import { type PlannedAsset, roomOf, useLazyView } from "../plans";

type FrozenState = Schema<"FrozenState">;

export function UsersAdmin(props: { assets: PlannedAsset[] }) {
  const [assetId, setAssetId] = useState(props.assets[0]?.asset_id ?? 1);
  const asset = props.assets.find((a) => a.asset_id === assetId) ?? props.assets[0];
  const UserTools = useLazyView(roomOf(asset.plan).userTools);
  return (
    <section aria-labelledby="users-title" data-testid="users-admin">
      <h2 id="users-title">Users</h2>
      <AssetPicker assets={props.assets} value={assetId} onChange={setAssetId} />
      <IfCan need="support">
        <Freeze asset={asset} />
      </IfCan>
      {UserTools && <UserTools asset={asset} />}
      <Withdrawals asset={asset} />
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
      label={freeze ? "Freeze" : "Unfreeze"}
      danger={freeze}
      title={`${freeze ? "Freeze" : "Unfreeze"} ${a} in ${props.asset.symbol}`}
      testid={freeze ? "freeze" : "unfreeze"}
      disabled={a === "" || invalid || why === ""}
      describe={() =>
        freeze ? (
          <p>
            New {props.asset.symbol} credits of <code>{a}</code> are <em>held</em> instead of payable, and no payload is signed
            for this wallet, until it is unfrozen. Audited with your reason: “{why}”.
          </p>
        ) : (
          <p>
            <code>{a}</code>'s held {props.asset.symbol} rewards become <em>pending</em> (payable) again, and payloads are signed
            for it again. Audited with your reason: “{why}”.
          </p>
        )
      }
      act={() => post<FrozenState>(`/v1/admin/users/${a}/${freeze ? "freeze" : "unfreeze"}`, { asset_id: props.asset.asset_id, reason: why })}
      done={setResult}
    />
  );
  return (
    <section class="panel" aria-label="Freeze" data-testid="freeze-panel">
      <h3>Freeze or unfreeze</h3>
      <div class="form-grid">
        <label>
          Wallet
          <input value={address} onInput={(e) => setAddress((e.target as HTMLInputElement).value)} aria-invalid={invalid} placeholder="0x…" data-testid="freeze-address" />
          {invalid && <span class="field-error">Not an address.</span>}
        </label>
        <label>
          Reason (kept in the audit log)
          <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} placeholder="ticket, finding…" data-testid="freeze-reason" />
        </label>
        {action(true)}
        {action(false)}
      </div>
      {result && (
        <Notice kind="ok" testid="freeze-result">
          <Addr a={result.address} chainId={props.asset.chain_id} /> is now {result.frozen ? "frozen" : "active"} in asset {result.asset_id}.
        </Notice>
      )}
    </section>
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
    <section class="panel" aria-label="Withdraw requests" data-testid="withdrawals">
      <h3>Withdraw requests</h3>
      <label class="inline">
        Status{" "}
        <select value={status} onChange={(e) => { setStatus((e.target as HTMLSelectElement).value); pager.reset(); }}>
          <option value="open">open</option>
          <option value="batched">batched</option>
          <option value="cancelled">cancelled</option>
          <option value="">any</option>
        </select>
      </label>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">User</th>
              <th scope="col">Asked</th>
              <th scope="col">Pending now</th>
              <th scope="col">Status</th>
              <th scope="col">When</th>
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
                <td>{w.status}</td>
                <td>{time(w.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          {status ? `No ${status} withdraw requests.` : "No withdraw requests yet."}
        </p>
      )}
      <Pager pager={pager} next={page.data?.next_cursor} label="Withdraw requests" />
    </section>
  );
}
