// The binary plan's rules and odds on the public page (PLAN-BINARY.md), before anyone pays: the packages and what
// they carry up the tree, the pair and its bonus, the limits, the retention rule, the budget, the withdrawal fee,
// and what its members have had so far.

import { bps, num } from "../../lib/format";
import type { AssetDisclosure, BinaryAssetPlan } from "../../lib/types";
import { AssetAmt } from "../../ui/bits";
import { Odds } from "../kit/odds";
import { t, tx } from "../../i18n";

/** What the plan is and how its members have fared, before anyone pays. */
export function BinaryRules(props: { plan: BinaryAssetPlan; d?: AssetDisclosure }) {
  const { plan: p, d } = props;
  const o = p.odds;
  return (
    <article class="card" id={`plan-${p.asset_id}`} data-testid={`binary-rules-${p.asset_id}`} aria-label={t("br.label", { symbol: p.symbol })}>
      <h3>
        {p.symbol} <span class="muted">{t("br.plan")}</span>
      </h3>
      {d && <Odds d={d} symbol={p.symbol} />}
      <p data-testid="binary-odds">
        {o.periods_closed === 0
          ? t("br.odds_none")
          : tx("br.odds", {
              count: o.periods_closed,
              paid: <strong>{num(o.members_paid_pairs)}</strong>,
              members: num(o.members),
              bonuses: <AssetAmt a={o.pair_bonuses} testid="binary-odds-bonuses" />,
              reserved: <AssetAmt a={o.reserved} />,
            })}
        {o.periods_closed > 0 && (
          <>
            {" "}
            <span data-testid="binary-odds-scaled">{t("br.odds_scaled", { count: o.periods_scaled })}</span>
          </>
        )}
      </p>
      <h4>
        {t("r.rules", { version: String(p.version), from: p.effective_from_block > 0 ? t("r.from", { block: String(p.effective_from_block) }) : "" })}
      </h4>
      <ul class="rules">
        <li data-testid="binary-packages">
          {tx("r.packages", {
            list: p.packages.map((a, i) => (
              <span key={a.base}>
                {i > 0 && ", "}
                <AssetAmt a={a} />
              </span>
            )),
          })}
        </li>
        <li>{t("br.place")}</li>
        <li>{t("br.volume", { pv: bps(p.pv_bps), direct: bps(p.direct_bps) })}</li>
        <li data-testid="binary-pair">
          {tx("br.pair", { volume: <AssetAmt a={p.pair_volume} />, bonus: <AssetAmt a={p.pair_bonus} testid="binary-pair-bonus" /> })}
        </li>
        <li data-testid="binary-period">
          {p.period === "week" ? t("br.period_week", { max: p.max_pairs }) : t("br.period_month", { max: p.max_pairs })}
        </li>
        <li data-testid="binary-retention">
          {tx("br.retention", { free: p.free_pairs, share: bps(p.retention_bps), needed: <AssetAmt a={p.active_paid_in} /> })}
        </li>
        <li data-testid="binary-budget">{t("br.budget", { share: bps(p.max_payout_bps) })}</li>
        <li data-testid="fee">{t("r.fee", { fee: bps(p.withdrawal_fee_bps) })}</li>
        <li>{t("r.only")}</li>
      </ul>
    </article>
  );
}
