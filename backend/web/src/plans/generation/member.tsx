// The generation plan on the member's side (PLAN-GENERATION.md): the wallet's standing (paid in, cap, earned, legs,
// rank, weekly bonuses), the package picker with its pay button (joining and buying again), and the dashboard's
// room views built on them.

import { useState } from "preact/hooks";
import { ApiError, get, post } from "../../lib/api";
import { bps } from "../../lib/format";
import type { AnyConnection } from "../../lib/tron";
import type { GenerationStanding as Standing, SignedPayment } from "../../lib/types";
import type { GenerationAssetPlan } from "../../lib/types";
import { Amount, AssetAmt, Loading, Notice, useLoad } from "../../ui/bits";
import { load as inFlight } from "../../user/inflight";
import { type Applied, type Phase, Payment } from "../../user/payment";
import type { GenerationAsset } from "..";
import type { PayAgainProps, StandingProps } from "../member";

/** The signed-in wallet's standing under a generation-plan asset; nothing when it is not in it. */
export function GenerationStandingCard(props: { plan: GenerationAssetPlan; address: string; version: number }) {
  const p = props.plan;
  const load = useLoad(
    () =>
      get<Standing>("/v1/users/generation", { asset_id: p.asset_id }).catch((e) => {
        if (e instanceof ApiError && e.code === "not_registered") return null;
        throw e;
      }),
    [p.asset_id, props.address, props.version],
  );
  if (load.loading && !load.data) return <Loading what={`your ${p.symbol} standing`} />;
  if (load.error) return <Notice kind="error">Your {p.symbol} standing could not be loaded: {load.error.message}</Notice>;
  const s = load.data;
  if (!s) return null;
  return (
    <section class="plan-standing" data-testid={`generation-standing-${p.asset_id}`} aria-label={`Your ${p.symbol} standing`}>
      <h4>Your standing in the generation plan</h4>
      <dl class="figures">
        <dt>Paid in</dt>
        <dd><AssetAmt a={s.paid_in} testid="gen-paid-in" /></dd>
        <dt>The most you can receive (cap)</dt>
        <dd>{s.cap ? <AssetAmt a={s.cap} testid="gen-cap" /> : "none (operator)"}</dd>
        <dt>Earned</dt>
        <dd><AssetAmt a={s.earned} testid="gen-earned" /></dd>
        <dt>Room left</dt>
        <dd>{s.room ? <AssetAmt a={s.room} testid="gen-room" /> : "no cap"}</dd>
        <dt>Direct referrals</dt>
        <dd data-testid="gen-directs">{s.directs}</dd>
        <dt>Levels paying you</dt>
        <dd data-testid="gen-levels">{s.open_levels.length === 0 ? "none yet" : `1–${Math.max(...s.open_levels)}`}</dd>
        <dt>Rank</dt>
        <dd data-testid="gen-rank">{s.rank_name ?? "none yet"}</dd>
      </dl>
      {s.room?.base === "0" && (
        <Notice kind="warn" testid="gen-at-cap">
          You have earned your whole cap: you earn nothing more until your next purchase raises it.
        </Notice>
      )}
      <h5>Your legs</h5>
      {s.legs.length === 0 ? (
        <p class="muted">No direct referrals yet.</p>
      ) : (
        <table data-testid="gen-legs">
          <thead>
            <tr>
              <th>Direct referral</th>
              <th>Leg volume</th>
            </tr>
          </thead>
          <tbody>
            {s.legs.map((l, i) => (
              <tr key={l.direct}>
                <td>
                  <code>{l.direct}</code> {i === 0 && <span class="muted">(main leg)</span>}
                </td>
                <td><AssetAmt a={l.volume} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        Main leg <AssetAmt a={s.main_leg} testid="gen-main" />, other legs <AssetAmt a={s.other_legs} testid="gen-other" />.
      </p>
      <h5>Weekly bonuses</h5>
      {s.bonuses.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <table data-testid="gen-bonuses">
          <thead>
            <tr>
              <th>Week</th>
              <th>Rank</th>
              <th>Bonus</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {s.bonuses.map((b) => (
              <tr key={b.week}>
                <td>{b.week}</td>
                <td>{p.ranks.find((r) => r.rank === b.rank)?.name ?? b.rank}</td>
                <td><AssetAmt a={b.amount} /></td>
                <td>{b.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * A package picker and the pay button (a registration or a purchase). While a payload is out (asked for, sent,
 * followed in another tab) the picker holds its amount and cannot change: paying again pays the SAME payload, and
 * the API refuses another amount until it is paid or expired (409 `payment_outstanding`).
 */
export function PackagePay(props: {
  plan: GenerationAssetPlan;
  connection: AnyConnection;
  kind: "register" | "retopup";
  /** "Register and pay", "Buy". */
  verb: string;
  ask: (pkg: string) => Promise<SignedPayment>;
  onApplied: (a: Applied) => void;
  onRefused?: () => void;
}) {
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
        <legend>Package</legend>
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
          The package of {stored.payment.amount.human} is being paid: another can be chosen once it is applied or its
          authorisation expires.
        </p>
      )}
      {chosen && (
        <p data-testid="package-cost">
          You pay <AssetAmt a={chosen} testid="package-amount" />. It raises the most you can ever receive (your cap) by{" "}
          <Amount base={(BigInt(chosen.base) * BigInt(p.cap_bps)) / 10000n} decimals={p.decimals} symbol={p.symbol} testid="package-cap" />{" "}
          before the {bps(p.withdrawal_fee_bps)} withdrawal fee — a limit, not a promise: you receive only what people who
          buy after you pay, and most participants receive less than they paid (see the odds above). You can lose all of it.
        </p>
      )}
      <Payment
        connection={props.connection}
        plan={p}
        kind={props.kind}
        actionLabel={`${props.verb} ${chosen?.human ?? ""}`.trim()}
        ask={() => props.ask(pick)}
        onApplied={props.onApplied}
        onRefused={props.onRefused}
        onPhase={onPhase}
      />
    </div>
  );
}

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
