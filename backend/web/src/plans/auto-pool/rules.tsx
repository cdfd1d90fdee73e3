// The auto-pool plan's rules and odds on the public page (PLAN.md §9), before anyone pays: the registration fee and
// its direct reward, the pools' layers, the retopup and its levels.

import { t, tx } from "../../i18n";
import { bps } from "../../lib/format";
import { assetKey, isTronChain, networkText } from "../../lib/tron";
import type { AssetDisclosure, AssetPlan } from "../../lib/types";
import { AssetAmt } from "../../ui/bits";
import { Odds } from "../kit/odds";

export function AutoPoolRules(props: { plan: AssetPlan; d?: AssetDisclosure }) {
  const { plan: p, d } = props;
  const layer = p.layer_bps.map(bps).join(", ");
  return (
    <article class="card" id={`plan-${p.asset_id}`} data-testid={`disclosure-${assetKey(p.symbol, p.chain_id)}`} aria-label={t("disclosure.card_label", { symbol: p.symbol })}>
      <h3>
        {isTronChain(p.chain_id)
          ? tx("asset.on_network", { symbol: p.symbol, network: <span class="muted">{networkText(p.chain_id)}</span> })
          : p.symbol}
      </h3>
      {d && <Odds d={d} symbol={p.symbol} />}
      <h4>
        {p.effective_from_block > 0
          ? t("disclosure.rules_from", { version: String(p.version), block: String(p.effective_from_block) })
          : t("disclosure.rules", { version: String(p.version) })}
      </h4>
      <ul class="rules">
        <li>
          {tx("disclosure.rule_join", {
            fee: <AssetAmt a={p.registration_fee} testid="registration-fee" />,
            direct: <AssetAmt a={p.direct_amount} />,
            nth: ordinal(p.pool_entry_every),
          })}
        </li>
        <li>{t("disclosure.rule_pool", { layers: layer })}</li>
        <li>{tx("disclosure.rule_retopup", { fee: <AssetAmt a={p.retopup_fee} />, count: p.level_bps.length })}</li>
        <li>{t("disclosure.rule_operator")}</li>
      </ul>
    </article>
  );
}

function ordinal(n: number): string {
  if (n === 2) return t("disclosure.nth_2");
  if (n === 3) return t("disclosure.nth_3");
  return t("disclosure.nth", { n: String(n) });
}
