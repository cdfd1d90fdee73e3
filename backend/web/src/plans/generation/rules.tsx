// The generation plan's rules and odds on the public page (PLAN-GENERATION.md), before anyone pays: packages, the 20
// levels and who they are open to, the cap, the weekly ranks, the withdrawal fee.

import { bps } from "../../lib/format";
import type { AssetDisclosure, GenerationAssetPlan } from "../../lib/types";
import { AssetAmt } from "../../ui/bits";
import { Odds } from "../kit/odds";
import { t, tx } from "../../i18n";

/** Levels with the same share and requirement, as one line: "levels 6–10: 1 % each, open with 4–5 directs". */
function levelRuns(p: GenerationAssetPlan): string[] {
  return p.levels.map((l) => `L${l.level} ${bps(l.bps)}${l.directs_required > 0 ? t("r.directs", { count: l.directs_required }) : ""}`);
}

/** What the plan is and how its participants have fared, before anyone pays. */
export function GenerationRules(props: { plan: GenerationAssetPlan; d?: AssetDisclosure }) {
  const { plan: p, d } = props;
  const total = p.levels.reduce((s, l) => s + l.bps, 0);
  return (
    <article class="card" id={`plan-${p.asset_id}`} data-testid={`generation-rules-${p.asset_id}`} aria-label={t("r.label", { symbol: p.symbol })}>
      <h3>
        {p.symbol} <span class="muted">{t("r.plan")}</span>
      </h3>
      {d && <Odds d={d} symbol={p.symbol} atCap />}
      <h4>
        {t("r.rules", { version: String(p.version), from: p.effective_from_block > 0 ? t("r.from", { block: String(p.effective_from_block) }) : "" })}
      </h4>
      <ul class="rules">
        <li data-testid="packages">
          {tx("r.packages", {
            list: p.packages.map((a, i) => (
              <span key={a.base}>
                {i > 0 && ", "}
                <AssetAmt a={a} />
              </span>
            )),
          })}
        </li>
        <li data-testid="levels">
          {t("r.levels", { share: bps(total), count: p.levels.length, runs: levelRuns(p).join(", ") })}
        </li>
        <li data-testid="cap">
          {t("r.cap", { cap: bps(p.cap_bps) })}
        </li>
        <li data-testid="ranks">
          {tx("r.ranks", {
            list: p.ranks.map((r, i) => (
              <span key={r.rank}>
                {i > 0 && "; "}
                {tx("r.rank", { name: r.name, main: <AssetAmt a={r.main_leg} />, other: <AssetAmt a={r.other_legs} />, bonus: <AssetAmt a={r.weekly_bonus} /> })}
              </span>
            )),
          })}
        </li>
        <li data-testid="fee">{t("r.fee", { fee: bps(p.withdrawal_fee_bps) })}</li>
        <li>{t("r.only")}</li>
      </ul>
    </article>
  );
}
