// Before anything else (PLAN.md §9): what the plan is and how its participants have fared, per asset, in
// plain words, from the public endpoints (no wallet needed). Each plan's card comes from its room (plans/rules).

import { t } from "../i18n";
import { isTronChain, networkText } from "../lib/tron";
import type { AssetDisclosure } from "../lib/types";
import type { PlannedAsset } from "../plans/kit/assets";
import { RulesCards } from "../plans/rules";

/**
 * The disclosure section. `only` (a referral link's asset) shows that asset's card alone: the link's odds and
 * rules come first, the other assets' cards follow, folded, in `OtherPlans`.
 */
export function Disclosure(props: { assets: PlannedAsset[]; disclosures: AssetDisclosure[]; only?: number }) {
  const shown = props.only === undefined ? props.assets : props.assets.filter((p) => p.asset_id === props.only);
  const canLose = <strong data-testid="can-lose">{t("disclosure.can_lose")}</strong>;
  return (
    <section class="disclosure" aria-labelledby="disclosure-title" data-testid="disclosure">
      {props.only === undefined ? (
        <>
          <h2 id="disclosure-title">{t("disclosure.title_all")}</h2>
          <p>
            {t("disclosure.intro_all")} {canLose}
          </p>
        </>
      ) : (
        <>
          <h2 id="disclosure-title">{t("disclosure.title_one")}</h2>
          <p>
            {t("disclosure.intro_one")} {canLose}
          </p>
        </>
      )}
      <RulesCards assets={shown} disclosures={props.disclosures} />
    </section>
  );
}

/** The assets a referral link does not use, folded (odds first once opened). */
export function OtherPlans(props: { assets: PlannedAsset[]; disclosures: AssetDisclosure[]; except: number }) {
  const others = props.assets.filter((p) => p.asset_id !== props.except);
  if (others.length === 0) return null;
  const names = others.map((p) => (isTronChain(p.chain_id) ? t("asset.on_network", { symbol: p.symbol, network: networkText(p.chain_id) }) : p.symbol)).join(", ");
  return (
    <details class="fold panel" data-testid="disclosure-others">
      <summary>
        <h2 class="fold-title">{t("disclosure.others")}</h2> <span class="muted">({names})</span>
      </summary>
      <RulesCards assets={others} disclosures={props.disclosures} />
    </details>
  );
}
