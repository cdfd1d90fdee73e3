// The dApp's half of the plans' registry (src/plans/index.ts has the console's, loaded on demand): per plan, what a
// member sees of it on their dashboard, inside the asset's card. Imported only by the dApp, so the console does not
// carry members' views.

import type { ComponentType } from "preact";
import type { AnyConnection } from "../lib/tron";
import type { AssetStanding } from "../lib/types";
import type { PlanKind, PlannedAsset } from ".";
import { AutoPoolStanding, Retopup } from "./auto-pool/member";
import { BuyPackage, GenerationStanding } from "./generation/member";

/** What a plan's standing view gets: the asset with its plan, the wallet's profile in it, and a reload counter. */
export interface StandingProps<A extends PlannedAsset = PlannedAsset> {
  asset: A;
  a: AssetStanding;
  /** The signed-in wallet (0x). */
  address: string;
  /** Changes whenever the dashboard reloads (after a payment): the standing reads the API again. */
  version: number;
}

/** What a plan's "pay again" view gets (a retopup, another package). */
export interface PayAgainProps<A extends PlannedAsset = PlannedAsset> {
  asset: A;
  a: AssetStanding;
  connection: AnyConnection;
  /** Reload the dashboard (the payment was applied or refused). */
  refresh: () => void;
}

export interface MemberRoom<A extends PlannedAsset = PlannedAsset> {
  /** The wallet's standing under the plan. */
  Standing: ComponentType<StandingProps<A>>;
  /** Paying again under the plan. */
  PayAgain: ComponentType<PayAgainProps<A>>;
}

const ROOMS: { [K in PlanKind]: MemberRoom<Extract<PlannedAsset, { plan: K }>> } = {
  auto_pool: { Standing: AutoPoolStanding, PayAgain: Retopup },
  generation: { Standing: GenerationStanding, PayAgain: BuyPackage },
};

/** The member's views of the asset's plan. */
export function memberRoomOf(asset: PlannedAsset): MemberRoom {
  return ROOMS[asset.plan] as MemberRoom;
}
