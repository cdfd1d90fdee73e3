// Users: freeze and unfreeze a wallet in one asset, place a pool node by hand (paid from the company's
// share), and the users' withdraw requests.

import { useState } from "preact/hooks";
import { isAddress } from "viem";
import { get, post } from "../lib/api";
import type { AssetPlan } from "../lib/types";
import { Addr, Amount, AssetAmt, Notice, Pager, useLoad, usePager } from "../ui/bits";
import { LoadFailed } from "../ui/account";
import { type Asset, AssetPicker, ConfirmAction, IfCan, time } from "./common";
import type { Schema } from "../generated/api";

type FrozenState = Schema<"FrozenState">;
type ManualPlacement = Schema<"ManualPlacement">;

export function UsersAdmin(props: { assets: Asset[] }) {
  const [assetId, setAssetId] = useState(props.assets[0]?.asset_id ?? 1);
  const asset = props.assets.find((a) => a.asset_id === assetId)!;
  return (
    <section aria-labelledby="users-title" data-testid="users-admin">
      <h2 id="users-title">Users</h2>
      <AssetPicker assets={props.assets} value={assetId} onChange={setAssetId} />
      <IfCan need="support">
        <Freeze asset={asset} />
      </IfCan>
      <IfCan need="admin">
        <Placement asset={asset as Asset & Partial<AssetPlan>} />
      </IfCan>
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

function Placement(props: { asset: Asset }) {
  const [user, setUser] = useState("");
  const [level, setLevel] = useState("1");
  const [result, setResult] = useState<ManualPlacement | null>(null);
  const plan = useLoad(() => get<{ versions: { params: { level_price: string[] } }[] }>("/v1/admin/plan", { asset_id: props.asset.asset_id }), [props.asset.asset_id]);
  const prices = plan.data?.versions[plan.data.versions.length - 1]?.params.level_price ?? [];
  const l = Number(level);
  const levelInvalid = !Number.isInteger(l) || l < 1 || (prices.length > 0 && l > prices.length);
  const u = user.trim();
  const userInvalid = u !== "" && !isAddress(u);
  return (
    <section class="panel" aria-label="Manual placement" data-testid="placement-panel">
      <h3>Manual pool placement</h3>
      <div class="form-grid">
        <label>
          Owner (a user of the asset)
          <input value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} aria-invalid={userInvalid} placeholder="0x…" />
          {userInvalid && <span class="field-error">Not an address.</span>}
        </label>
        <label>
          Level
          <input value={level} onInput={(e) => setLevel((e.target as HTMLInputElement).value)} inputMode="numeric" aria-invalid={levelInvalid} />
          {levelInvalid && <span class="field-error">A level from 1 to {prices.length || 15}.</span>}
        </label>
        <ConfirmAction
          needs="admin"
          label="Place node"
          danger
          title="Place a pool node by hand"
          testid="place"
          disabled={u === "" || userInvalid || levelInvalid}
          describe={() => (
            <p>
              A new level-{l} node for <code>{u}</code>, paid from the company's share:{" "}
              {prices[l - 1] ? <Amount base={prices[l - 1]} decimals={props.asset.decimals} symbol={props.asset.symbol} /> : "the level's price"}, credited up
              the tree like any placement (and any auto-progression it triggers). Audited; it cannot be undone.
            </p>
          )}
          act={() => post<ManualPlacement>("/v1/admin/pool/placements", { asset_id: props.asset.asset_id, user: u, level: l })}
          done={setResult}
        />
      </div>
      {result && (
        <Notice kind="ok" testid="placement-result">
          Placed at level {result.level}, position {result.q} (placement #{result.placement_no}) for <AssetAmt a={result.price} />:{" "}
          {result.placements} placement(s), {result.credits} credit(s).
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
