// The plans an asset may run, in one place. `plannedAssets` turns `GET /v1/public/plan` (one list per plan) into one
// list of assets, each tagged with its plan and carrying that plan's public parameters; `roomOf` gives the plan's
// room: the views only that plan has, each in the plan's own folder beside this file and loaded when first shown.
// Pages ask the asset's room ("what are this plan's periods?"), never "is this a generation asset?": a new plan adds
// its folder and one entry in ROOMS, not a branch in every page. The rooms are built from the plans' kit (./kit: an
// asset with its plan, paying, the console's new-version form), never from this registry, which loads them.

import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { PublicPlans } from "../lib/types";
import { t } from "../i18n";
import type { AssetBase, PlanKind, PlannedAsset } from "./kit/assets";
import type { VersionsProps } from "./kit/versions";

/** Every asset of the public plan list, each with its plan, by asset id. */
export function plannedAssets(p: PublicPlans | null | undefined): PlannedAsset[] {
  if (!p) return [];
  const base = (a: AssetBase): AssetBase => ({ asset_id: a.asset_id, chain_id: a.chain_id, symbol: a.symbol, decimals: a.decimals, token: a.token });
  const all: PlannedAsset[] = [
    ...p.assets.map((a): PlannedAsset => ({ ...base(a), plan: "auto_pool", params: a })),
    ...(p.generation ?? []).map((g): PlannedAsset => ({ ...base(g), plan: "generation", params: g })),
    ...(p.binary ?? []).map((b): PlannedAsset => ({ ...base(b), plan: "binary", params: b })),
  ];
  return all.sort((a, b) => a.asset_id - b.asset_id);
}

/** A view loaded on demand (keeps the console's and the dApp's first load light). */
export type Lazy<P> = () => Promise<ComponentType<P>>;

/** What a plan shows beyond what every plan shares. */
export interface PlanRoom {
  kind: PlanKind;
  /** "auto-pool plan": how the console names it, in the reader's language (a console string: the console calls it). */
  name: () => string;
  /** "Binary (PLAN-BINARY.md)": the plan as the console's new-asset form offers it. */
  choice: () => string;
  /** Console, Plan tab: every version of the plan's parameters and the form for a new one. */
  versions: Lazy<VersionsProps>;
  /** Console, Periods tab: the plan's period closes (generation: weeks), for its assets. */
  periods?: { view: Lazy<{ assets: PlannedAsset[] }> };
  /** Console, Users tab: actions on members only this plan has (auto-pool: a manual pool placement). */
  userTools?: Lazy<{ asset: AssetBase }>;
}

const ROOMS: Record<PlanKind, PlanRoom> = {
  auto_pool: {
    kind: "auto_pool",
    name: () => t("plan.name_auto_pool"),
    choice: () => t("assets.plan_auto_pool"),
    versions: () => import("./auto-pool/versions").then((m) => m.AutoPoolVersions as ComponentType<VersionsProps>),
    userTools: () => import("./auto-pool/placement").then((m) => m.ManualPlacement),
  },
  generation: {
    kind: "generation",
    name: () => t("plan.name_generation"),
    choice: () => t("assets.plan_generation"),
    versions: () => import("./generation/versions").then((m) => m.GenerationVersions as ComponentType<VersionsProps>),
    periods: { view: () => import("./generation/weeks").then((m) => m.Weeks) },
  },
  binary: {
    kind: "binary",
    name: () => t("plan.name_binary"),
    choice: () => t("assets.plan_binary"),
    versions: () => import("./binary/versions").then((m) => m.BinaryVersions as ComponentType<VersionsProps>),
    periods: { view: () => import("./binary/closes").then((m) => m.BinaryCloses) },
  },
};

/** Every plan an asset may run, in the registry's order. */
export const PLAN_KINDS = Object.keys(ROOMS) as PlanKind[];

export function roomOf(kind: PlanKind): PlanRoom {
  return ROOMS[kind];
}

/** The share of each payout the plan keeps as a withdrawal fee, in basis points (0 on a plan without one). */
export function withdrawalFeeBps(asset: PlannedAsset): number {
  return "withdrawal_fee_bps" in asset.params ? asset.params.withdrawal_fee_bps : 0;
}

/** The rooms of the plans the assets run, each once, in the order of their first asset. */
export function roomsOf(assets: PlannedAsset[]): PlanRoom[] {
  return [...new Set(assets.map((a) => a.plan))].map(roomOf);
}

const loaded = new Map<Lazy<never>, ComponentType<never>>();

/** The view `load` gives, once loaded (`null` until then, or with no `load`); loaded once per page. */
export function useLazyView<P>(load: Lazy<P> | undefined): ComponentType<P> | null {
  const known = load ? (loaded.get(load as Lazy<never>) as ComponentType<P> | undefined) : undefined;
  const [view, setView] = useState<{ load?: Lazy<P>; c: ComponentType<P> } | null>(null);
  useEffect(() => {
    if (!load || known) return;
    let live = true;
    void load().then((c) => {
      loaded.set(load as Lazy<never>, c as ComponentType<never>);
      if (live) setView({ load, c });
    });
    return () => {
      live = false;
    };
  }, [load]);
  if (known) return known;
  return view && view.load === load ? view.c : null;
}
