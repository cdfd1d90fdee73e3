// The auto-pool plan's own action on members (console, Users tab): a pool node placed by hand for a user, paid from
// the company's share (PLAN.md §3), admin only.

import { useState } from "preact/hooks";
import { isAddress } from "viem";
import { get, post } from "../../lib/api";
import { Amount, AssetAmt, Notice, useLoad } from "../../ui/bits";
import { type Asset, ConfirmAction, IfCan } from "../../admin/common";
import type { Schema } from "../../generated/api";

type Placed = Schema<"ManualPlacement">;

export function ManualPlacement(props: { asset: Asset }) {
  return (
    <IfCan need="admin">
      <Placement asset={props.asset} />
    </IfCan>
  );
}

function Placement(props: { asset: Asset }) {
  const [user, setUser] = useState("");
  const [level, setLevel] = useState("1");
  const [result, setResult] = useState<Placed | null>(null);
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
          act={() => post<Placed>("/v1/admin/pool/placements", { asset_id: props.asset.asset_id, user: u, level: l })}
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
