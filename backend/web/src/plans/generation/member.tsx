// The generation plan on the member's dashboard (PLAN-GENERATION.md): the wallet's standing (paid in, cap, earned,
// legs, rank, weekly bonuses) and buying another package.

import { post } from "../../lib/api";
import type { SignedPayment } from "../../lib/types";
import { GenerationStandingCard, PackagePay } from "../../user/Generation";
import type { GenerationAsset } from "..";
import type { PayAgainProps, StandingProps } from "../member";

export function GenerationStanding(props: StandingProps<GenerationAsset>) {
  return <GenerationStandingCard plan={props.asset.params} address={props.address} version={props.version} />;
}

/** Another package (only while the wallet is active in the asset). */
export function BuyPackage(props: PayAgainProps<GenerationAsset>) {
  const { a } = props;
  return (
    <section aria-label={`${a.symbol} buy a package`} data-testid="buy-package">
      <h4>Buy a package</h4>
      <p>Each package you buy raises your cap and is shared out to the sponsors above you; you have bought {a.retopups} since joining.</p>
      {a.status === "active" ? (
        <PackagePay
          key={`${a.asset_id}-${props.connection.kind}-${props.connection.hex}`}
          connection={props.connection}
          plan={props.asset.params}
          kind="retopup"
          verb="Buy"
          ask={(pkg) => post<SignedPayment>("/v1/users/retopup", { asset_id: a.asset_id, package: pkg })}
          onApplied={props.refresh}
          onRefused={props.refresh}
        />
      ) : (
        <p class="muted">Not possible while frozen.</p>
      )}
    </section>
  );
}
