// The generation plan's periods (console, Periods tab): the week closes of its assets (PLAN-GENERATION.md §3): who was ranked, the bonuses B, the operator's
// balance C they were scaled to, and what was credited, newest first.

import { useState } from "preact/hooks";
import { get } from "../../lib/api";
import { LoadFailed } from "../../ui/account";
import { AssetAmt, Loading, Notice, useLoad } from "../../ui/bits";
import type { WeekCloses } from "../../lib/types";
import type { GenerationAsset, PlannedAsset } from "..";

/** The week closes of the generation-plan assets among `assets`. */
export function Weeks(props: { assets: PlannedAsset[] }) {
  const assets = props.assets.filter((a): a is GenerationAsset => a.plan === "generation");
  const [assetId, setAssetId] = useState(assets[0]?.asset_id);
  const plan = assets.find((a) => a.asset_id === assetId)?.params;
  const weeks = useLoad(
    () => (assetId === undefined ? Promise.resolve(null) : get<WeekCloses>("/v1/admin/weeks", { asset_id: assetId, limit: 52 })),
    [assetId],
  );
  if (assets.length === 0) return <Notice kind="info">No asset runs the generation plan.</Notice>;
  return (
    <section class="panel" data-testid="weeks" aria-labelledby="weeks-title">
      <h2 id="weeks-title">Week closes</h2>
      <label class="inline">
        Asset{" "}
        <select value={assetId} onChange={(e) => setAssetId(Number((e.target as HTMLSelectElement).value))} data-testid="weeks-asset">
          {assets.map((a) => (
            <option key={a.asset_id} value={a.asset_id}>
              {a.symbol} (asset {a.asset_id})
            </option>
          ))}
        </select>
      </label>
      <p class="muted">
        A week closes on block time, once a confirmed block at or after its end is known; each ranked user is credited
        their rank's bonus, scaled down when the bonuses B exceed the operator's balance C, and never above their cap.
      </p>
      {weeks.loading && <Loading what="week closes" />}
      {weeks.error && <LoadFailed error={weeks.error} retry={weeks.reload} />}
      {weeks.data && weeks.data.weeks.length === 0 && <p data-testid="weeks-none">No week has closed yet.</p>}
      {weeks.data && weeks.data.weeks.length > 0 && (
        <table data-testid="weeks-table">
          <thead>
            <tr>
              <th>Week</th>
              <th>Ended</th>
              <th>Closing block</th>
              <th>Ranked</th>
              <th>Bonuses (B)</th>
              <th>Operator balance (C)</th>
              <th>Credited</th>
            </tr>
          </thead>
          <tbody>
            {weeks.data.weeks.map((w) => {
              const ranked = w.ranked;
              return (
                <tr key={w.week} data-testid={`week-${w.week}`}>
                  <td>{w.week}</td>
                  <td>{new Date(w.week_end * 1000).toISOString().replace(".000Z", "Z")}</td>
                  <td>{w.closing_block}</td>
                  <td data-testid="week-ranked">
                    {ranked.length === 0
                      ? "nobody"
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
