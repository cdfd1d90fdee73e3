// The dApp's half of the plans' registry (src/plans/index.ts has the console's, loaded on demand): per plan, what a
// member sees of it (on their dashboard, inside the asset's card) and how a visitor joins it through a referral
// link. Imported only by the dApp's dashboard and registration, so the console does not carry members' views.

import type { ComponentType } from "preact";
import { post } from "../lib/api";
import { localHuman } from "../lib/format";
import type { AssetAmount, SignedPayment } from "../lib/types";
import { t } from "../i18n";
import type { AutoPoolAsset, BinaryAsset, GenerationAsset, PlanKind, PlannedAsset } from "./kit/assets";
import { FeeOutcome, PackageOutcome } from "./kit/joined";
import type { JoinProps, PayAgainProps, StandingProps } from "./kit/member-props";
import type { PlanPackagePay } from "./kit/packages";
import { type Applied, Payment } from "./kit/payment";
import { AutoPoolStanding, Retopup } from "./auto-pool/member";
import { BinaryPackagePay, BinaryStanding, BuyBinaryPackage } from "./binary/member";
import { BuyPackage, GenerationPackagePay, GenerationStanding } from "./generation/member";

export interface MemberRoom<A extends PlannedAsset = PlannedAsset> {
  /** The wallet's standing under the plan. */
  Standing: ComponentType<StandingProps<A>>;
  /** Paying again under the plan. */
  PayAgain: ComponentType<PayAgainProps<A>>;
  /** Joining: the payment a referral link asks for (a fixed fee, or a package picked). */
  Join: ComponentType<JoinProps<A>>;
  /** What the registration did, once applied. */
  Joined: ComponentType<{ asset: A; applied: Applied }>;
  /** The price beside the asset in the link's asset picker ("10", "packages from 100"). */
  price: (asset: A) => string;
  /** The registration's cost line: the fixed fee, or none (a package is picked below). */
  fee: (asset: A) => AssetAmount | null;
}

const register = (asset: PlannedAsset, sponsor: string, pkg?: string) =>
  post<SignedPayment>("/v1/users/register", { asset_id: asset.asset_id, sponsor, ...(pkg === undefined ? {} : { package: pkg }) });

/** Registration by a fixed fee (the auto-pool plan). */
function JoinByFee(props: JoinProps<AutoPoolAsset>) {
  const plan = props.asset.params;
  return (
    <Payment
      connection={props.connection}
      plan={plan}
      kind="register"
      actionLabel={t("register.register_and_pay_amount", { amount: localHuman(plan.registration_fee.human) })}
      amount={plan.registration_fee}
      ask={() => register(props.asset, props.sponsor)}
      onApplied={props.onApplied}
      onRefused={props.onRefused}
    />
  );
}

/** The price of a package plan in the asset picker. */
const packagesFrom = (a: { params: { packages: AssetAmount[] } }): string =>
  t("register.packages_from", { amount: a.params.packages[0] ? localHuman(a.params.packages[0].human) : "—" });

/** The member room of a plan that sells packages: joining with a package picked, its outcome the package paid. */
function packageRoom<A extends GenerationAsset | BinaryAsset>(
  Standing: ComponentType<StandingProps<A>>,
  PayAgain: ComponentType<PayAgainProps<A>>,
  Pay: PlanPackagePay<A["params"]>,
): MemberRoom<A> {
  return {
    Standing,
    PayAgain,
    Join: (p) => (
      <Pay
        connection={p.connection}
        plan={p.asset.params}
        kind="register"
        verb={t("register.register_and_pay")}
        ask={(pkg) => register(p.asset, p.sponsor, pkg)}
        onApplied={p.onApplied}
        onRefused={p.onRefused}
      />
    ),
    Joined: (p) => <PackageOutcome plan={p.asset} applied={p.applied} />,
    price: packagesFrom,
    fee: () => null,
  };
}

const ROOMS: { [K in PlanKind]: MemberRoom<Extract<PlannedAsset, { plan: K }>> } = {
  auto_pool: {
    Standing: AutoPoolStanding,
    PayAgain: Retopup,
    Join: JoinByFee,
    Joined: (p) => <FeeOutcome plan={p.asset.params} applied={p.applied} />,
    price: (a) => localHuman(a.params.registration_fee.human),
    fee: (a) => a.params.registration_fee,
  },
  generation: packageRoom(GenerationStanding, BuyPackage, GenerationPackagePay),
  binary: packageRoom(BinaryStanding, BuyBinaryPackage, BinaryPackagePay),
};

/** The member's views of the asset's plan. */
export function memberRoomOf(asset: PlannedAsset): MemberRoom {
  return ROOMS[asset.plan] as MemberRoom;
}
