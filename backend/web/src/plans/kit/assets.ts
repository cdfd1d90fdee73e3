// An asset with its plan: the fields every page needs of an asset, and the asset on each plan with that plan's public
// parameters. What the plans' registry (src/plans/index.ts), their rooms and the pages all say of an asset.

import type { AssetPlan, BinaryAssetPlan, GenerationAssetPlan } from "../../lib/types";

/** The fields every page needs of an asset, whatever its plan. */
export interface AssetBase {
  asset_id: number;
  chain_id: number;
  symbol: string;
  decimals: number;
  /** The token contract in the chain's form; the zero address for the chain's native coin. */
  token: string;
}

/** An asset on the auto-pool plan (PLAN.md): a fixed registration fee, retopups, pools. */
export type AutoPoolAsset = AssetBase & { plan: "auto_pool"; params: AssetPlan };
/** An asset on the generation plan (PLAN-GENERATION.md): packages, levels, a cap, weekly ranks. */
export type GenerationAsset = AssetBase & { plan: "generation"; params: GenerationAssetPlan };
/** An asset on the binary plan (PLAN-BINARY.md): packages, two legs, pairs closed per period. */
export type BinaryAsset = AssetBase & { plan: "binary"; params: BinaryAssetPlan };
export type PlannedAsset = AutoPoolAsset | GenerationAsset | BinaryAsset;
export type PlanKind = PlannedAsset["plan"];
