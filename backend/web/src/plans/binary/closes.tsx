// The binary plan's periods (console, Periods tab; PLAN-BINARY.md §3): each closed period of its assets, newest
// first: the volume V, the bonuses B before scaling, the company's balance C, the budget min(C, V × max_payout_bps),
// what was credited and what of it is reserved, the members' lines, and the block whose time closed it.

import { useState } from "preact/hooks";
import { get } from "../../lib/api";
import { LoadFailed } from "../../ui/account";
import { AssetAmt, Loading, Notice, useLoad } from "../../ui/bits";
import type { BinaryCloses as Closes } from "../../lib/types";
import type { BinaryAsset, PlannedAsset } from "../kit/assets";
import { t } from "../../i18n";
import { dateTime } from "../../lib/format";

/** The period closes of the binary-plan assets among `assets`. */
export function BinaryCloses(props: { assets: PlannedAsset[] }) {
  const assets = props.assets.filter((a): a is BinaryAsset => a.plan === "binary");
  const [assetId, setAssetId] = useState(assets[0]?.asset_id);
  const closes = useLoad(
    () => (assetId === undefined ? Promise.resolve(null) : get<Closes>("/v1/admin/binary/closes", { asset_id: assetId, limit: 24 })),
    [assetId],
  );
  if (assets.length === 0) return <Notice kind="info">{t("closes.no_asset")}</Notice>;
  return (
    <section class="panel" data-testid="binary-closes" aria-labelledby="binary-closes-title">
      <h2 id="binary-closes-title">{t("closes.title")}</h2>
      <label class="inline">
        {t("common.asset")}{" "}
        <select value={assetId} onChange={(e) => setAssetId(Number((e.target as HTMLSelectElement).value))} data-testid="binary-closes-asset">
          {assets.map((a) => (
            <option key={a.asset_id} value={a.asset_id}>
              {t("weeks.asset_option", { symbol: a.symbol, id: String(a.asset_id) })}
            </option>
          ))}
        </select>
      </label>
      <p class="muted">{t("closes.intro")}</p>
      {closes.loading && <Loading what={t("closes.loading")} />}
      {closes.error && <LoadFailed error={closes.error} retry={closes.reload} />}
      {closes.data && closes.data.closes.length === 0 && <p data-testid="binary-closes-none">{t("closes.none")}</p>}
      {closes.data && closes.data.closes.length > 0 && (
        <div class="table-wrap" tabIndex={0}>
          <table data-testid="binary-closes-table">
            <thead>
              <tr>
                <th scope="col">{t("closes.period")}</th>
                <th scope="col">{t("weeks.ended")}</th>
                <th scope="col">{t("weeks.closing_block")}</th>
                <th scope="col">{t("closes.version")}</th>
                <th scope="col">{t("closes.volume")}</th>
                <th scope="col">{t("weeks.bonuses")}</th>
                <th scope="col">{t("weeks.operator_balance")}</th>
                <th scope="col">{t("closes.budget")}</th>
                <th scope="col">{t("weeks.credited")}</th>
                <th scope="col">{t("closes.reserved")}</th>
                <th scope="col">{t("closes.lines")}</th>
              </tr>
            </thead>
            <tbody>
              {closes.data.closes.map((c) => (
                <tr key={c.period} data-testid={`binary-close-${c.period}`}>
                  <td>{c.period}</td>
                  <td>{dateTime(c.period_end * 1000)}</td>
                  <td>{c.closing_block}</td>
                  <td>{c.plan_version}</td>
                  <td><AssetAmt a={c.volume} testid="close-volume" /></td>
                  <td><AssetAmt a={c.bonuses} testid="close-bonuses" /></td>
                  <td><AssetAmt a={c.company_before} /></td>
                  <td><AssetAmt a={c.budget} testid="close-budget" /></td>
                  <td><AssetAmt a={c.credited} testid="close-credited" /></td>
                  <td><AssetAmt a={c.reserved} testid="close-reserved" /></td>
                  <td>{c.lines}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
