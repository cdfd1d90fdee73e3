// The public page's half of the plans' registry: per plan, its rules-and-odds card (the disclosure, before anyone
// pays). Light on purpose: the first page a visitor loads carries it.

import type { ComponentType } from "preact";
import type { AssetDisclosure } from "../lib/types";
import { PLAN_KINDS } from ".";
import type { PlanKind, PlannedAsset } from "./kit/assets";
import { AutoPoolRules } from "./auto-pool/rules";
import { BinaryRules } from "./binary/rules";
import { GenerationRules } from "./generation/rules";

type RulesProps<A extends PlannedAsset> = { plan: A["params"]; d?: AssetDisclosure };

const RULES: { [K in PlanKind]: ComponentType<RulesProps<Extract<PlannedAsset, { plan: K }>>> } = {
  auto_pool: AutoPoolRules,
  generation: GenerationRules,
  binary: BinaryRules,
};

/** The assets' cards, one group per plan in the registry's order, each asset once. */
export function RulesCards(props: { assets: PlannedAsset[]; disclosures: AssetDisclosure[] }) {
  return (
    <>
      {PLAN_KINDS.map((kind) => {
        const of = props.assets.filter((a) => a.plan === kind);
        if (of.length === 0) return null;
        const Rules = RULES[kind] as ComponentType<RulesProps<PlannedAsset>>;
        return (
          <div class="cards" key={kind}>
            {of.map((a) => (
              <Rules key={a.asset_id} plan={a.params} d={props.disclosures.find((x) => x.asset_id === a.asset_id)} />
            ))}
          </div>
        );
      })}
    </>
  );
}
