// Before anything else (PLAN.md §9): what the plan is and how its participants have fared, per asset, in
// plain words, from the public endpoints (no wallet needed).

import { bps } from "../lib/format";
import { assetKey, isTronChain, networkText } from "../lib/tron";
import type { AssetDisclosure, AssetPlan, GenerationAssetPlan } from "../lib/types";
import { AssetAmt } from "../ui/bits";
import { GenerationRules } from "./Generation";
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
  return (
    <section class="disclosure" aria-labelledby="disclosure-title" data-testid="disclosure">
      {props.only === undefined ? (
        <>
          <h2 id="disclosure-title">Before you pay: the plan and how participants have fared</h2>
          <p>
            Joining costs a fee paid from your own wallet to the settlement contract. Most of it goes to the people above
            you and to the operator; you get money back only from people who join after you. The figures below are
            live, from the ledger.
          </p>
        </>
      ) : (
        <>
          <h2 id="disclosure-title">Before you pay: odds and rules</h2>
          <p>
            Your fee goes mostly to the people above you and to the operator; you get money back only from people who
            join after you. Live figures from the ledger:
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
  const names = [...others, ...generation].map((p) => (isTronChain(p.chain_id) ? `${p.symbol} on ${networkText(p.chain_id)}` : p.symbol)).join(", ");
  return (
    <details class="fold panel" data-testid="disclosure-others">
      <summary>
        <h2 class="fold-title">The other assets' plans and odds</h2> <span class="muted">({names})</span>
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
    <article class="card" data-testid={`disclosure-${assetKey(p.symbol, p.chain_id)}`} aria-label={`${p.symbol} plan`}>
      <h3>
        {p.symbol}
        {isTronChain(p.chain_id) && <span class="muted"> on {networkText(p.chain_id)}</span>}
      </h3>
      {d && <Odds d={d} symbol={p.symbol} />}
      <h4>
        The rules (plan version {p.version}
        {p.effective_from_block > 0 && `, for events from block ${p.effective_from_block}`})
      </h4>
      <ul class="rules">
        <li>
          Joining costs <AssetAmt a={p.registration_fee} testid="registration-fee" />. Your sponsor gets{" "}
          <AssetAmt a={p.direct_amount} /> of it, except for every {ordinal(p.pool_entry_every)} person they bring in:
          then the whole fee buys the sponsor a place in the level-1 pool.
        </li>
        <li>
          A pool place pays its owner only when later places are filled below it: {layer} of each new place's price to
          the three places above it.
        </li>
        <li>
          A retopup costs <AssetAmt a={p.retopup_fee} />; it is shared among up to {p.level_bps.length} sponsors above
          you who have retopped up themselves.
        </li>
        <li>Whatever is not paid to a participant goes to the operator.</li>
      </ul>
    </article>
  );
}

function ordinal(n: number): string {
  if (n === 2) return "second";
  if (n === 3) return "third";
  return `${n}th`;
}
