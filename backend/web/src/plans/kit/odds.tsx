// How an asset's participants have fared (PLAN.md §9), for every plan's card: the live figures from the disclosure.

import { t, tx } from "../../i18n";
import { num, percent } from "../../lib/format";
import type { AssetDisclosure } from "../../lib/types";
import { AssetAmt } from "../../ui/bits";

/** How the participants of an asset have fared; with `atCap`, how many have reached their cap (generation plan). */
export function Odds(props: { d: AssetDisclosure; symbol: string; atCap?: boolean }) {
  const { d } = props;
  return (
    <div class="odds" data-testid="odds">
      {d.participants === 0 ? (
        <p>{t("odds.nobody", { symbol: props.symbol })}</p>
      ) : (
        <>
          <p class="big" data-testid="odds-got-back">
            {tx("odds.got_back", {
              got: <strong>{num(d.received_at_least_paid_in)}</strong>,
              count: d.participants,
              total: <strong>{num(d.participants)}</strong>,
              percent: percent(d.received_at_least_paid_in, d.participants),
            })}
          </p>
          {props.atCap && (
            <p data-testid="odds-at-cap">
              {tx("odds.at_cap", { count: d.users_at_cap ?? 0, n: <strong data-testid="users-at-cap">{num(d.users_at_cap ?? 0)}</strong> })}
            </p>
          )}
          {d.median_net && (
            <p data-testid="odds-median">
              {tx(d.median_net.base.startsWith("-") ? "odds.median_loss" : "odds.median", { amount: <AssetAmt a={d.median_net} testid="median-net" /> })}
            </p>
          )}
        </>
      )}
      <p class="muted">
        {tx("odds.operator", { amount: <AssetAmt a={d.company_total} /> })}
      </p>
    </div>
  );
}
