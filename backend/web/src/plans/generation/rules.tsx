// The generation plan's rules and odds on the public page (PLAN-GENERATION.md), before anyone pays: packages, the 20
// levels and who they are open to, the cap, the weekly ranks, the withdrawal fee.

import { bps } from "../../lib/format";
import type { AssetDisclosure, GenerationAssetPlan } from "../../lib/types";
import { AssetAmt } from "../../ui/bits";
import { Odds } from "../../user/Odds";

/** Levels with the same share and requirement, as one line: "levels 6–10: 1 % each, open with 4–5 directs". */
function levelRuns(p: GenerationAssetPlan): string[] {
  return p.levels.map((l) => `L${l.level} ${bps(l.bps)}${l.directs_required > 0 ? ` (${l.directs_required} directs)` : ""}`);
}

/** What the plan is and how its participants have fared, before anyone pays. */
export function GenerationRules(props: { plan: GenerationAssetPlan; d?: AssetDisclosure }) {
  const { plan: p, d } = props;
  const total = p.levels.reduce((s, l) => s + l.bps, 0);
  return (
    <article class="card" data-testid={`generation-rules-${p.asset_id}`} aria-label={`${p.symbol} generation plan`}>
      <h3>
        {p.symbol} <span class="muted">— generation plan</span>
      </h3>
      {d && <Odds d={d} symbol={p.symbol} atCap />}
      <h4>
        The rules (plan version {p.version}
        {p.effective_from_block > 0 && `, for events from block ${p.effective_from_block}`})
      </h4>
      <ul class="rules">
        <li data-testid="packages">
          You join, and buy again, with one of these packages only:{" "}
          {p.packages.map((a, i) => (
            <span key={a.base}>
              {i > 0 && ", "}
              <AssetAmt a={a} />
            </span>
          ))}
          . Any other amount is held until it is refunded.
        </li>
        <li data-testid="levels">
          Each purchase pays {bps(total)} of its amount to up to {p.levels.length} sponsors above the buyer, level by level,
          each only if they have enough direct referrals: {levelRuns(p).join(", ")}. The rest goes to the operator.
        </li>
        <li data-testid="cap">
          Nobody earns more than {bps(p.cap_bps)} of what they paid in (their cap); a new purchase raises it. Past the cap,
          the share stays with the operator.
        </li>
        <li data-testid="ranks">
          Weekly rank bonuses, paid from the operator's balance (scaled down when it cannot pay them all), within the cap:{" "}
          {p.ranks.map((r, i) => (
            <span key={r.rank}>
              {i > 0 && "; "}
              {r.name} (largest leg <AssetAmt a={r.main_leg} />, other legs <AssetAmt a={r.other_legs} />) <AssetAmt a={r.weekly_bonus} /> a week
            </span>
          ))}
          .
        </li>
        <li data-testid="fee">Each payout keeps a {bps(p.withdrawal_fee_bps)} withdrawal fee for the operator.</li>
        <li>You get money only from people who buy after you.</li>
      </ul>
    </article>
  );
}
