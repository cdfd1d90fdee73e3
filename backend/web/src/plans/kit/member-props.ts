// What each of a plan's member views gets from the dApp's half of the plans' registry (src/plans/member.tsx): its
// standing on the dashboard, paying again, joining through a referral link.

import type { AnyConnection } from "../../lib/tron";
import type { AssetStanding } from "../../lib/types";
import type { PlannedAsset } from "./assets";
import type { Applied } from "./payment";

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

/** What a plan's registration view gets (a referral link's payment). */
export interface JoinProps<A extends PlannedAsset = PlannedAsset> {
  asset: A;
  connection: AnyConnection;
  /** The link's sponsor, as the link gives it (0x… or T…). */
  sponsor: string;
  onApplied: (a: Applied) => void;
  onRefused: () => void;
}
