// Before anything else (PLAN.md §9): what the plan is and how its participants have fared, per asset, in
// plain words, from the public endpoints (no wallet needed).

import { t, tx } from "../i18n";
import { bps } from "../lib/format";
import { assetKey, isTronChain, networkText } from "../lib/tron";
import type { AssetDisclosure, AssetPlan, GenerationAssetPlan } from "../lib/types";
import { AssetAmt } from "../ui/bits";
import { GenerationRules } from "../plans/generation/rules";
import { Odds } from "./Odds";

/**
 * The disclosure section. `only` (a referral link's asset) shows that asset's card alone: the link's odds and
 * rules come first, the other assets' cards follow, folded, in `OtherPlans`.
 */
export function Disclosure(props: {
  plans: AssetPlan[];
  disclosures: AssetDisclosure[];
  only?: number;
  /** The generation-plan assets (PLAN-GENERATION.md): shown with the full disclosure. */
  generation?: GenerationAssetPlan[];
}) {
  const shown = props.only === undefined ? props.plans : props.plans.filter((p) => p.asset_id === props.only);
  const generation = (props.generation ?? []).filter((g) => props.only === undefined || g.asset_id === props.only);
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
      <Cards plans={shown} disclosures={props.disclosures} />
      {generation.length > 0 && <GenerationCards plans={generation} disclosures={props.disclosures} />}
    </section>
  );
}

/** The assets a referral link does not use, folded (odds first once opened). */
export function OtherPlans(props: {
  plans: AssetPlan[];
  generation?: GenerationAssetPlan[];
  disclosures: AssetDisclosure[];
  except: number;
}) {
  const others = props.plans.filter((p) => p.asset_id !== props.except);
  const generation = (props.generation ?? []).filter((g) => g.asset_id !== props.except);
  if (others.length + generation.length === 0) return null;
  const names = [...others, ...generation].map((p) => (isTronChain(p.chain_id) ? t("asset.on_network", { symbol: p.symbol, network: networkText(p.chain_id) }) : p.symbol)).join(", ");
  return (
    <details class="fold panel" data-testid="disclosure-others">
      <summary>
        <h2 class="fold-title">{t("disclosure.others")}</h2> <span class="muted">({names})</span>
      </summary>
      <Cards plans={others} disclosures={props.disclosures} />
      {generation.length > 0 && <GenerationCards plans={generation} disclosures={props.disclosures} />}
    </details>
  );
}

function GenerationCards(props: { plans: GenerationAssetPlan[]; disclosures: AssetDisclosure[] }) {
  return (
    <div class="cards">
      {props.plans.map((g) => (
        <GenerationRules key={g.asset_id} plan={g} d={props.disclosures.find((x) => x.asset_id === g.asset_id)} />
      ))}
    </div>
  );
}

function Cards(props: { plans: AssetPlan[]; disclosures: AssetDisclosure[] }) {
  return (
    <div class="cards">
      {props.plans.map((p) => {
        const d = props.disclosures.find((x) => x.asset_id === p.asset_id);
        return <AssetCard key={p.asset_id} plan={p} d={d} />;
      })}
    </div>
  );
}

function AssetCard(props: { plan: AssetPlan; d?: AssetDisclosure }) {
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
