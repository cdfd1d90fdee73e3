// The auto-pool plan on the member's dashboard (PLAN.md): the wallet's pool places with their matrix fill (its
// standing under the plan), and the retopup, at the plan's fixed fee.

import { useState } from "preact/hooks";
import { get, post } from "../../lib/api";
import type { AssetStanding, NodesPage, SignedPayment } from "../../lib/types";
import { AssetAmt, Pager, useLoad, usePager } from "../../ui/bits";
import { Payment } from "../kit/payment";
import { t, tx } from "../../i18n";
import type { AutoPoolAsset } from "../kit/assets";
import type { PayAgainProps, StandingProps } from "../kit/member-props";

const PAGE = 10;
const MATRIX_SLOTS = 14;

/** The wallet's pool places, level by level. */
export function AutoPoolStanding(props: StandingProps<AutoPoolAsset>) {
  return <PoolNodes a={props.a} owner={props.address} />;
}

/** A retopup at the plan's fee (only while the wallet is active in the asset). */
export function Retopup(props: PayAgainProps<AutoPoolAsset>) {
  const { a } = props;
  const plan = props.asset.params;
  return (
    <section aria-label={t("ap.label", { symbol: a.symbol })} data-testid="retopup">
      <h4>{t("d.retopup")}</h4>
      <p>{tx("ap.cost", { fee: <AssetAmt a={plan.retopup_fee} />, count: a.retopups })}</p>
      {a.status === "active" ? (
        <Payment
          connection={props.connection}
          plan={plan}
          kind="retopup"
          actionLabel={t("ap.action", { amount: plan.retopup_fee.human })}
          amount={plan.retopup_fee}
          ask={() => post<SignedPayment>("/v1/users/retopup", { asset_id: a.asset_id })}
          onApplied={props.refresh}
          onRefused={props.refresh}
        />
      ) : (
        <p class="muted">{t("ap.frozen")}</p>
      )}
    </section>
  );
}

function PoolNodes(props: { a: AssetStanding; owner: string }) {
  const levels = props.a.pool_nodes;
  const [level, setLevel] = useState(levels[0]?.level ?? 1);
  const pager = usePager<number>();
  const page = useLoad(
    () =>
      levels.length === 0
        ? Promise.resolve<NodesPage>({ items: [], next_after: null })
        : get<NodesPage>("/v1/pool/nodes", { asset_id: props.a.asset_id, level, owner: props.owner, after: pager.cursor, limit: PAGE }),
    [props.a.asset_id, level, pager.cursor, levels.length],
  );
  return (
    <section aria-label={t("ap.nodes")} data-testid="pool-nodes">
      <h4>{t("ap.places")}</h4>
      {levels.length === 0 && <p class="muted">{t("ap.none")}</p>}
      {levels.length > 0 && (
        <>
          <ul class="levels">
            {levels.map((l) => (
              <li key={l.level}>
                <button type="button" aria-pressed={l.level === level} onClick={() => { setLevel(l.level); pager.reset(); }} data-testid={`level-${l.level}`}>
                  {t("ap.level", { level: l.level, active: l.active, completed: l.completed })}
                </button>
              </li>
            ))}
          </ul>
          <ul class="nodes">
            {page.data?.items.map((n) => (
              <li key={n.q} data-testid="pool-node">
                {t("ap.position", { q: String(n.q) })}{" "}
                <meter min={0} max={MATRIX_SLOTS} value={n.filled_slots} aria-label={t("ap.matrix", { q: String(n.q) })} />{" "}
                <span data-testid="matrix-fill">
                  {n.filled_slots}/{MATRIX_SLOTS}
                </span>{" "}
                {n.status === "completed" ? t("ap.complete", { block: String(n.completed_block) }) : t("ap.filling")}
              </li>
            ))}
          </ul>
          <Pager pager={pager} next={page.data?.next_after} label={t("ap.places")} />
        </>
      )}
    </section>
  );
}
