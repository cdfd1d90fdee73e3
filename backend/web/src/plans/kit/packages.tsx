// A package picker and its pay button, for every plan that sells packages (the generation and binary plans):
// joining and buying again, with the same never-charged-twice flow as every payment (./payment.tsx).

import type { ComponentChildren, ComponentType } from "preact";
import { useState } from "preact/hooks";
import { post } from "../../lib/api";
import type { AnyConnection } from "../../lib/tron";
import type { AssetAmount, AssetStanding, SignedPayment } from "../../lib/types";
import { load as inFlight } from "./inflight";
import { type Applied, type PayPlan, type Phase, Payment } from "./payment";
import { t } from "../../i18n";

export interface PackagePayProps {
  /** The asset and the packages its plan sells. */
  plan: PayPlan & { packages: AssetAmount[] };
  connection: AnyConnection;
  kind: "register" | "retopup";
  /** "Register and pay", "Buy". */
  verb: string;
  ask: (pkg: string) => Promise<SignedPayment>;
  onApplied: (a: Applied) => void;
  onRefused?: () => void;
  /** What the chosen package costs and does, in the plan's words. */
  cost: (chosen: AssetAmount) => ComponentChildren;
}

/**
 * A package picker and the pay button (a registration or a purchase). While a payload is out (asked for, sent,
 * followed in another tab) the picker holds its amount and cannot change: paying again pays the SAME payload, and
 * the API refuses another amount until it is paid or expired (409 `payment_outstanding`).
 */
export function PackagePay(props: PackagePayProps) {
  const p = props.plan;
  const wallet = props.connection.hex;
  const stored = inFlight({ wallet, asset_id: p.asset_id, kind: props.kind });
  const [pick, setPick] = useState<string>(stored?.payment.amount.base ?? p.packages[0]?.base ?? "0");
  const [phase, setPhase] = useState<Phase>(stored ? "checking" : "idle");
  const locked = phase !== "idle";
  const chosen = p.packages.find((a) => a.base === pick);
  const onPhase = (ph: Phase, out: string | null) => {
    setPhase(ph);
    if (out !== null) setPick(out);
  };
  return (
    <div class="packages" data-testid={`package-pay-${props.kind}`}>
      <fieldset class="choice" data-testid="package-picker" disabled={locked}>
        <legend>{t("g.package")}</legend>
        {p.packages.map((a) => (
          <label key={a.base}>
            <input
              type="radio"
              name={`package-${props.kind}-${p.asset_id}`}
              value={a.base}
              checked={a.base === pick}
              onChange={() => setPick(a.base)}
              data-testid={`package-${a.base}`}
            />{" "}
            {a.human}
          </label>
        ))}
      </fieldset>
      {locked && phase !== "done" && stored && (
        <p class="muted" data-testid="package-held">
          {t("g.held", { amount: stored.payment.amount.human })}
        </p>
      )}
      {chosen && (
        <p data-testid="package-cost">
          {props.cost(chosen)}
        </p>
      )}
      <Payment
        connection={props.connection}
        plan={p}
        kind={props.kind}
        actionLabel={`${props.verb} ${chosen?.human ?? ""}`.trim()}
        amount={chosen ?? null}
        ask={() => props.ask(pick)}
        onApplied={props.onApplied}
        onRefused={props.onRefused}
        onPhase={onPhase}
      />
    </div>
  );
}


/** A plan's own package picker: `PackagePay` with the plan's words for what a package costs and does. */
export type PlanPackagePay<P> = ComponentType<Omit<PackagePayProps, "plan" | "cost"> & { plan: P }>;

/** Buying another package from the dashboard, with the plan's own picker (only while the wallet is active in the asset). */
export function BuyAnother<P extends PackagePayProps["plan"]>(props: {
  a: AssetStanding;
  connection: AnyConnection;
  plan: P;
  refresh: () => void;
  /** What buying again does under the plan. */
  text: string;
  Pay: PlanPackagePay<P>;
}) {
  const { a, Pay } = props;
  return (
    <section aria-label={t("g.buy_label", { symbol: a.symbol })} data-testid="buy-package">
      <h4>{t("g.buy_title")}</h4>
      <p>{props.text}</p>
      {a.status === "active" ? (
        <Pay
          key={`${a.asset_id}-${props.connection.kind}-${props.connection.hex}`}
          connection={props.connection}
          plan={props.plan}
          kind="retopup"
          verb={t("g.buy")}
          ask={(pkg) => post<SignedPayment>("/v1/users/retopup", { asset_id: a.asset_id, package: pkg })}
          onApplied={props.refresh}
          onRefused={props.refresh}
        />
      ) : (
        <p class="muted">{t("ap.frozen")}</p>
      )}
    </section>
  );
}
