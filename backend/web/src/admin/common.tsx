// Pieces the admin console's tabs share: the assets and their picker, and times as every tab shows them. What the
// plans' console views share with the tabs (staff roles, confirmed actions, amounts in human units) is in
// src/ui/console.tsx.

import { t } from "../i18n";
import { time } from "../lib/format";
import { networkName } from "../lib/networks";
import type { AssetBase } from "../plans/kit/assets";

/** An asset as the console's tabs need it, whatever its plan. */
export type Asset = AssetBase;

export function AssetPicker(props: { assets: Asset[]; value: number; onChange: (id: number) => void; id?: string }) {
  return (
    <label class="inline">
      {t("common.asset")}{" "}
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange(Number((e.target as HTMLSelectElement).value))}
        data-testid="asset-picker"
      >
        {props.assets.map((a) => (
          <option key={a.asset_id} value={a.asset_id}>
            {t("common.asset_option", { symbol: a.symbol, network: networkName(a.chain_id), id: String(a.asset_id) })}
          </option>
        ))}
      </select>
    </label>
  );
}

export { time };
