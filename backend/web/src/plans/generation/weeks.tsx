// The generation plan's periods (console, Periods tab): the week closes of its assets (PLAN-GENERATION.md §3): who was ranked, the bonuses B, the operator's
// balance C they were scaled to, and what was credited, newest first.

import { useState } from "preact/hooks";
import { get } from "../../lib/api";
import { LoadFailed } from "../../ui/account";
import { AssetAmt, Loading, Notice, useLoad } from "../../ui/bits";
import type { WeekCloses } from "../../lib/types";
import type { GenerationAsset, PlannedAsset } from "../kit/assets";
import { t } from "../../i18n";
import { dateTime } from "../../lib/format";

/** The week closes of the generation-plan assets among `assets`. */
export function Weeks(props: { assets: PlannedAsset[] }) {
  const assets = props.assets.filter((a): a is GenerationAsset => a.plan === "generation");
  const [assetId, setAssetId] = useState(assets[0]?.asset_id);
  const plan = assets.find((a) => a.asset_id === assetId)?.params;
  const weeks = useLoad(
    () => (assetId === undefined ? Promise.resolve(null) : get<WeekCloses>("/v1/admin/weeks", { asset_id: assetId, limit: 52 })),
    [assetId],
  );
  if (assets.length === 0) return <Notice kind="info">{t("weeks.no_asset")}</Notice>;
  return (
    <section class="panel" data-testid="weeks" aria-labelledby="weeks-title">
      <h2 id="weeks-title">{t("weeks.title")}</h2>
      <label class="inline">
        {t("common.asset")}{" "}
        <select value={assetId} onChange={(e) => setAssetId(Number((e.target as HTMLSelectElement).value))} data-testid="weeks-asset">
          {assets.map((a) => (
            <option key={a.asset_id} value={a.asset_id}>
              {t("weeks.asset_option", { symbol: a.symbol, id: String(a.asset_id) })}
            </option>
          ))}
        </select>
      </label>
      <p class="muted">{t("weeks.intro")}</p>
      {weeks.loading && <Loading what={t("weeks.loading")} />}
      {weeks.error && <LoadFailed error={weeks.error} retry={weeks.reload} />}
      {weeks.data && weeks.data.weeks.length === 0 && <p data-testid="weeks-none">{t("weeks.none")}</p>}
      {weeks.data && weeks.data.weeks.length > 0 && (
        <table data-testid="weeks-table">
          <thead>
            <tr>
              <th>{t("weeks.week")}</th>
              <th>{t("weeks.ended")}</th>
              <th>{t("weeks.closing_block")}</th>
              <th>{t("weeks.ranked")}</th>
              <th>{t("weeks.bonuses")}</th>
              <th>{t("weeks.operator_balance")}</th>
              <th>{t("weeks.credited")}</th>
            </tr>
          </thead>
          <tbody>
            {weeks.data.weeks.map((w) => {
              const ranked = w.ranked;
              return (
                <tr key={w.week} data-testid={`week-${w.week}`}>
                  <td>{w.week}</td>
                  <td>{dateTime(w.week_end * 1000)}</td>
                  <td>{w.closing_block}</td>
                  <td data-testid="week-ranked">
                    {ranked.length === 0
                      ? t("weeks.nobody")
                      : ranked.map((r) => `#${r.user} ${plan?.ranks.find((k) => k.rank === r.rank)?.name ?? r.rank}`).join(", ")}
                  </td>
                  <td><AssetAmt a={w.bonuses} /></td>
                  <td><AssetAmt a={w.company_before} /></td>
                  <td><AssetAmt a={w.credited} testid="week-credited" /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
