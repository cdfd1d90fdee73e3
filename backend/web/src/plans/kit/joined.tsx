// What a registration did once the ledger applied it, per kind of price: a fixed fee's split (the auto-pool plan,
// PLAN.md §2) or the package bought (the generation and binary plans). The plans' member rooms (src/plans/member.tsx)
// name which one their registration shows.

import { tx } from "../../i18n";
import { amount, localHuman } from "../../lib/format";
import type { AssetPlan } from "../../lib/types";
import { Notice, TxHash } from "../../ui/bits";
import type { Applied, PayPlan } from "./payment";

/** What the fee did (PLAN.md §2): the sponsor's pool entry, or the direct reward and the operator's part. */
export function FeeOutcome(props: { plan: AssetPlan; applied: Applied }) {
  const { plan, applied } = props;
  const s = applied.status!;
  const fee = BigInt(plan.registration_fee.base);
  const direct = BigInt(plan.direct_amount.base);
  const d = plan.decimals;
  return (
    <Notice kind="ok" testid="register-outcome">
      <p>
        <Registered symbol={plan.symbol} chainId={plan.chain_id} applied={applied} />
      </p>
      {s.sponsor_pool_entry ? (
        <p data-testid="reward-split">
          {tx("register.split_pool", {
            fee: (
              <span data-testid="split-pool" dir="ltr">
                {amount(fee, d, plan.symbol)}
              </span>
            ),
            level: String(s.sponsor_pool_entry.level),
            position: String(s.sponsor_pool_entry.q),
          })}
        </p>
      ) : (
        <p data-testid="reward-split">
          {tx("register.split_direct", {
            direct: (
              <span data-testid="split-direct" dir="ltr">
                {amount(direct, d, plan.symbol)}
              </span>
            ),
            company: (
              <span data-testid="split-company" dir="ltr">
                {amount(fee - direct, d, plan.symbol)}
              </span>
            ),
          })}
        </p>
      )}
    </Notice>
  );
}

/** What a package plan's registration did: the user, and the package paid. */
export function PackageOutcome(props: { plan: PayPlan; applied: Applied }) {
  const { plan, applied } = props;
  const s = applied.status!;
  return (
    <Notice kind="ok" testid="register-outcome">
      <p>
        <Registered symbol={plan.symbol} chainId={plan.chain_id} applied={applied} />
      </p>
      <p data-testid="reward-split">
        {tx("register.split_package", {
          amount: (
            <span data-testid="split-package" dir="ltr">
              {localHuman(s.amount.human)}
            </span>
          ),
        })}
      </p>
    </Notice>
  );
}

/** "Registered: you are user #12 in USDT, since block 42 (transaction 0x…)." */
function Registered(props: { symbol: string; chainId: number; applied: Applied }) {
  const s = props.applied.status!;
  return (
    <>
      {tx("register.registered", {
        user: <strong data-testid="user-no">#{s.user?.user_no}</strong>,
        symbol: props.symbol,
        block: <span data-testid="registered-block">{s.user?.registered_block}</span>,
        tx: s.event ? <TxHash chainId={props.chainId} hash={s.event.tx_hash} /> : "—",
      })}
    </>
  );
}
