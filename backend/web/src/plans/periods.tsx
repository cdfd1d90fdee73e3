// The asset picker every plan's periods view shares (console, Periods tab): the plan's assets, by symbol and id.

import type { PlannedAsset } from ".";
import { t } from "../i18n";

export function PeriodAssetPicker(props: { assets: PlannedAsset[]; value: number | undefined; onChange: (id: number) => void; testid: string }) {
  return (
    <label class="inline">
      {t("common.asset")}{" "}
      <select value={props.value} onChange={(e) => props.onChange(Number((e.target as HTMLSelectElement).value))} data-testid={props.testid}>
        {props.assets.map((a) => (
          <option key={a.asset_id} value={a.asset_id}>
            {t("weeks.asset_option", { symbol: a.symbol, id: String(a.asset_id) })}
          </option>
        ))}
      </select>
    </label>
  );
}
