// The auto-pool plan's own action on members (console, Users tab): a pool node placed by hand for a user, paid from
// the company's share (PLAN.md §3), admin only.

import { useState } from "preact/hooks";
import { isAddress } from "viem";
import { get, post } from "../../lib/api";
import { Amount, AssetAmt, Notice, useLoad } from "../../ui/bits";
import { ConfirmAction, IfCan } from "../../ui/console";
import type { AssetBase } from "../kit/assets";
import type { Schema } from "../../generated/api";
import { t, tx } from "../../i18n";

type Placed = Schema<"ManualPlacement">;

export function ManualPlacement(props: { asset: AssetBase }) {
  return (
    <IfCan need="admin">
      <Placement asset={props.asset} />
    </IfCan>
  );
}

function Placement(props: { asset: AssetBase }) {
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
    <section class="panel" aria-label={t("pool.placement_label")} data-testid="placement-panel">
      <h3>{t("pool.placement_title")}</h3>
      <div class="form-grid">
        <label>
          {t("pool.owner")}
          <input value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} aria-invalid={userInvalid} placeholder="0x…" />
          {userInvalid && <span class="field-error">{t("staff.not_address")}</span>}
        </label>
        <label>
          {t("pool.level")}
          <input value={level} onInput={(e) => setLevel((e.target as HTMLInputElement).value)} inputMode="numeric" aria-invalid={levelInvalid} />
          {levelInvalid && <span class="field-error">{t("pool.level_error", { max: prices.length || 15 })}</span>}
        </label>
        <ConfirmAction
          needs="admin"
          label={t("pool.place")}
          danger
          title={t("pool.place_title")}
          testid="place"
          disabled={u === "" || userInvalid || levelInvalid}
          describe={() => (
            <p>
              {tx("pool.place_describe", {
                level: l,
                owner: <code>{u}</code>,
                price: prices[l - 1] ? <Amount base={prices[l - 1]} decimals={props.asset.decimals} symbol={props.asset.symbol} /> : t("pool.level_price"),
              })}
            </p>
          )}
          act={() => post<Placed>("/v1/admin/pool/placements", { asset_id: props.asset.asset_id, user: u, level: l })}
          done={setResult}
        />
      </div>
      {result && (
        <Notice kind="ok" testid="placement-result">
          {tx("pool.placed", {
            level: result.level,
            q: String(result.q),
            no: String(result.placement_no),
            price: <AssetAmt a={result.price} />,
            placements: result.placements,
            credits: result.credits,
          })}
        </Notice>
      )}
    </section>
  );
}
