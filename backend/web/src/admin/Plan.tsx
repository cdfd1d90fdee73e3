// Plan versions: the picked asset's versions, shown and extended by its plan's room (`versions`, in
// src/plans/<plan>/versions.tsx): every plan's parameters differ, the loading, the asset picker and the first
// allowed block do not.

import { useState } from "preact/hooks";
import { get } from "../lib/api";
import { Loading, useLoad } from "../ui/bits";
import { LoadFailed } from "../ui/account";
import { AssetPicker } from "./common";
import { t } from "../i18n";
import type { Schema } from "../generated/api";
import { roomOf, useLazyView } from "../plans";
import type { PlannedAsset } from "../plans/kit/assets";
import type { PlanVersionView } from "../plans/kit/versions";

type Versions = Omit<Schema<"PlanVersions">, "versions"> & { versions: PlanVersionView[] };

/** Every asset's plan versions, whatever its plan. */
export function PlanVersions(props: { assets: PlannedAsset[] }) {
  const [assetId, setAssetId] = useState(props.assets[0]?.asset_id ?? 1);
  const asset = props.assets.find((a) => a.asset_id === assetId) ?? props.assets[0];
  const [version, setVersion] = useState(0);
  const versions = useLoad(() => get<Versions>("/v1/admin/plan", { asset_id: asset.asset_id }), [asset.asset_id, version]);
  const View = useLazyView(roomOf(asset.plan).versions);
  // The versions shown are the picked asset's (the previous asset's stay in `versions` while the new ones load).
  const data = versions.data?.asset_id === asset.asset_id ? versions.data : undefined;
  return (
    <section aria-labelledby="plan-title" data-testid="plan">
      <h2 id="plan-title">{t("plan.title")}</h2>
      <AssetPicker assets={props.assets} value={asset.asset_id} onChange={setAssetId} />{" "}
      <span class="muted" data-testid="plan-kind">
        {t("plan.runs", { symbol: asset.symbol, plan: roomOf(asset.plan).name() })}
      </span>
      {(versions.loading && !data) || (data && !View) ? <Loading what={t("plan.loading")} /> : null}
      {versions.error && <LoadFailed error={versions.error} retry={versions.reload} />}
      {data && View && (
        <View
          key={asset.asset_id}
          asset={asset}
          versions={data.versions}
          minFrom={data.first_allowed_block}
          onCreated={() => setVersion((v) => v + 1)}
          onStale={versions.reload}
        />
      )}
    </section>
  );
}
