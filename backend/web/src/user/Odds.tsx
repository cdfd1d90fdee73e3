// How an asset's participants have fared (PLAN.md §9), for every plan's card: the live figures from the disclosure.

import { percent } from "../lib/format";
import type { AssetDisclosure } from "../lib/types";
import { AssetAmt } from "../ui/bits";

/** How the participants of an asset have fared; with `atCap`, how many have reached their cap (generation plan). */
export function Odds(props: { d: AssetDisclosure; symbol: string; atCap?: boolean }) {
  const { d } = props;
  return (
    <div class="odds" data-testid="odds">
      {d.participants === 0 ? (
        <p>Nobody has joined with {props.symbol} yet.</p>
      ) : (
        <>
          <p class="big" data-testid="odds-got-back">
            <strong>{d.received_at_least_paid_in}</strong> of <strong>{d.participants}</strong> participants (
            {percent(d.received_at_least_paid_in, d.participants)}) have got back at least what they paid.
          </p>
          {props.atCap && (
            <p data-testid="odds-at-cap">
              <strong data-testid="users-at-cap">{d.users_at_cap ?? 0}</strong> of them have earned their whole cap.
            </p>
          )}
          {d.median_net && (
            <p data-testid="odds-median">
              The median participant's net result is <AssetAmt a={d.median_net} testid="median-net" />{" "}
              {d.median_net.base.startsWith("-") ? "(a loss)" : "(received minus paid)"}.
            </p>
          )}
        </>
      )}
      <p class="muted">
        The operator has been credited <AssetAmt a={d.company_total} /> in total.
      </p>
    </div>
  );
}
