// The binary plan on the member's side (PLAN-BINARY.md): the wallet's standing (both legs' volumes and carries, the
// pairs the open period would match, lifetime pairs, what is reserved and why, the closes' lines), the binary tree
// below them (paged by depth: a node with more below opens as the next page's root), and buying another package.

import { useState } from "preact/hooks";
import { ApiError, get } from "../../lib/api";
import { bps, dateTime } from "../../lib/format";
import type { BinaryAssetPlan, BinaryStanding as Standing, BinaryTreePage } from "../../lib/types";
import { Addr, AssetAmt, Loading, Notice, useLoad } from "../../ui/bits";
import { BuyAnother, PackagePay, type PackagePayProps } from "../kit/packages";
import type { BinaryAsset } from "../kit/assets";
import type { PayAgainProps, StandingProps } from "../kit/member-props";
import { t, tx } from "../../i18n";
import { errorText } from "../../ui/account";
import "../../i18n/member";

/** The binary plan's package picker: the cost says what the package carries up the tree. */
export function BinaryPackagePay(props: Omit<PackagePayProps, "plan" | "cost"> & { plan: BinaryAssetPlan }) {
  const p = props.plan;
  return (
    <PackagePay
      {...props}
      cost={(chosen) =>
        tx("b.cost", {
          amount: <AssetAmt a={chosen} testid="package-amount" />,
          pv: bps(p.pv_bps),
          fee: bps(p.withdrawal_fee_bps),
        })
      }
    />
  );
}

/** Why part of a member's pair bonuses is reserved, or would be (PLAN-BINARY.md §3), in the reader's language. */
function reservedWhy(s: Standing, p: BinaryAssetPlan) {
  if (s.active_buyer) return t("b.why_active", { needed: p.active_paid_in.human });
  const rule = t("b.why_rule", { free: p.free_pairs, share: bps(p.retention_bps), needed: p.active_paid_in.human });
  const left = tx("b.why_missing", { amount: <AssetAmt a={s.to_active_buyer} testid="bin-to-active" /> });
  return (
    <>
      {rule} {left}
    </>
  );
}

/** The signed-in wallet's standing under a binary-plan asset; nothing when it is not a member of it. */
export function BinaryStandingCard(props: { plan: BinaryAssetPlan; address: string; version: number }) {
  const p = props.plan;
  const load = useLoad(
    () =>
      get<Standing>("/v1/users/binary", { asset_id: p.asset_id }).catch((e) => {
        if (e instanceof ApiError && e.code === "not_registered") return null;
        throw e;
      }),
    [p.asset_id, props.address, props.version],
  );
  if (load.loading && !load.data) return <Loading what={t("b.your", { symbol: p.symbol })} />;
  if (load.error) return <Notice kind="error">{t("b.load_err", { symbol: p.symbol, message: errorText(load.error) })}</Notice>;
  const s = load.data;
  if (!s) return null;
  const member = (m: Standing["parent"]) => (m ? <Addr a={m.address} chainId={p.chain_id} /> : <span class="muted">{t("b.nobody")}</span>);
  return (
    <section class="plan-standing" data-testid={`binary-standing-${p.asset_id}`} aria-label={t("b.label", { symbol: p.symbol })}>
      <h4>{t("b.title")}</h4>
      <dl class="figures">
        <div>
          <dt>{t("b.place")}</dt>
          <dd data-testid="bin-place">
            {s.parent
              ? tx(s.side === "left" ? "b.place_left" : "b.place_right", { parent: member(s.parent), user: String(s.user_no) })
              : t("b.place_root", { user: String(s.user_no) })}
          </dd>
        </div>
        <div>
          <dt>{t("b.paid_in")}</dt>
          <dd><AssetAmt a={s.paid_in} testid="bin-paid-in" /></dd>
        </div>
        <div>
          <dt>{t("b.active")}</dt>
          <dd data-testid="bin-active">{s.active_buyer ? t("b.yes") : tx("b.not_yet", { amount: <AssetAmt a={s.to_active_buyer} /> })}</dd>
        </div>
        <div>
          <dt>{t("b.pairs_now")}</dt>
          <dd data-testid="bin-pairs-now">{t("b.pairs_now_value", { pairs: s.pairs_this_period, paid: s.pairs_payable_this_period, max: p.max_pairs })}</dd>
        </div>
        <div>
          <dt>{t("b.pairs_lifetime")}</dt>
          <dd data-testid="bin-pairs-lifetime">{t("b.pairs_lifetime_value", { count: s.pairs_lifetime, free: s.free_pairs_left })}</dd>
        </div>
        <div>
          <dt>{t("b.reserved")}</dt>
          <dd><AssetAmt a={s.reserved} testid="bin-reserved" /></dd>
        </div>
      </dl>
      <p class="muted" data-testid="bin-reserved-why" title={s.reserved_why}>
        {reservedWhy(s, p)}
      </p>
      {s.frozen && (
        <Notice kind="warn" testid="bin-frozen">
          {t("b.frozen")}
        </Notice>
      )}
      <h5>{t("b.legs")}</h5>
      <table data-testid="bin-legs">
        <thead>
          <tr>
            <th scope="col">{t("b.leg")}</th>
            <th scope="col">{t("b.child")}</th>
            <th scope="col">{t("b.volume")}</th>
            <th scope="col">{t("b.carry")}</th>
          </tr>
        </thead>
        <tbody>
          <tr data-testid="bin-leg-left">
            <th scope="row">{t("b.left")}</th>
            <td>{member(s.left_child)}</td>
            <td><AssetAmt a={s.left_leg} testid="bin-left-leg" /></td>
            <td><AssetAmt a={s.left_carry} testid="bin-left-carry" /></td>
          </tr>
          <tr data-testid="bin-leg-right">
            <th scope="row">{t("b.right")}</th>
            <td>{member(s.right_child)}</td>
            <td><AssetAmt a={s.right_leg} testid="bin-right-leg" /></td>
            <td><AssetAmt a={s.right_carry} testid="bin-right-carry" /></td>
          </tr>
        </tbody>
      </table>
      <p class="muted">{tx("b.legs_note", { pair: <AssetAmt a={p.pair_volume} />, bonus: <AssetAmt a={p.pair_bonus} /> })}</p>
      <h5>{t("b.closes")}</h5>
      {s.closes.length === 0 ? (
        <p class="muted" data-testid="bin-no-closes">{t("b.no_closes")}</p>
      ) : (
        <table data-testid="bin-closes">
          <thead>
            <tr>
              <th scope="col">{t("b.period_end")}</th>
              <th scope="col">{t("b.pairs")}</th>
              <th scope="col">{t("b.paid_pairs")}</th>
              <th scope="col">{t("b.flushed")}</th>
              <th scope="col">{t("b.bonus")}</th>
              <th scope="col">{t("b.reserved")}</th>
              <th scope="col">{t("b.credited")}</th>
            </tr>
          </thead>
          <tbody>
            {s.closes.map((c) => (
              <tr key={c.period} data-testid={`bin-close-${c.period}`}>
                <td>{dateTime(c.period_end * 1000)}</td>
                <td>{c.pairs}</td>
                <td data-testid="bin-close-paid">{c.paid}</td>
                <td>{c.flushed}</td>
                <td><AssetAmt a={c.bonus} testid="bin-close-bonus" /></td>
                <td><AssetAmt a={c.reserved} testid="bin-close-reserved" /></td>
                <td>
                  <AssetAmt a={c.rest} /> <span class="muted">({c.rest_status === "held" ? t("b.held") : t("b.pending")})</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <BinaryTree plan={p} me={s.user_no} version={props.version} />
    </section>
  );
}

/** The binary tree under the member (or under one of their downline, picked here), a few levels at a time. */
export function BinaryTree(props: { plan: BinaryAssetPlan; me: number; version: number }) {
  const p = props.plan;
  const [root, setRoot] = useState<number>(props.me);
  const depth = 3;
  const load = useLoad(
    () => get<BinaryTreePage>("/v1/users/binary/tree", { asset_id: p.asset_id, root, depth }),
    [p.asset_id, root, props.version],
  );
  const nodes = load.data?.root === root ? load.data.nodes : [];
  const children = (n: number) => nodes.filter((c) => c.parent_no === n).sort((a, b) => (a.side === "left" ? -1 : b.side === "left" ? 1 : 0));
  const top = nodes.find((n) => n.user_no === root);
  const render = (n: BinaryTreePage["nodes"][number]) => {
    const kids = children(n.user_no);
    const more = n.has_children && kids.length === 0;
    return (
      <li key={n.user_no} data-testid={`bin-node-${n.user_no}`}>
        <span class="node">
          {n.side && <span class="muted">{n.side === "left" ? t("b.left") : t("b.right")}: </span>}
          <strong>#{n.user_no}</strong> <Addr a={n.address} chainId={p.chain_id} /> <AssetAmt a={n.own_volume} />{" "}
          {n.active_buyer && <span class="badge" data-testid="bin-node-active">{t("b.active_badge")}</span>}
          {more && (
            <button type="button" onClick={() => setRoot(n.user_no)} data-testid={`bin-open-${n.user_no}`}>
              {t("b.open_below")}
            </button>
          )}
        </span>
        {kids.length > 0 && <ul>{kids.map(render)}</ul>}
      </li>
    );
  };
  return (
    <div class="binary-tree" data-testid="bin-tree">
      <h5>{t("b.tree")}</h5>
      <p class="muted">{t("b.tree_note", { depth })}</p>
      {root !== props.me && (
        <button type="button" onClick={() => setRoot(props.me)} data-testid="bin-tree-back">
          {t("b.back_to_me")}
        </button>
      )}
      {load.loading && !top && <Loading what={t("b.tree_loading")} />}
      {load.error && <Notice kind="error">{t("b.tree_err", { message: errorText(load.error) })}</Notice>}
      {top && <ul class="tree">{render(top)}</ul>}
    </div>
  );
}

export function BinaryStanding(props: StandingProps<BinaryAsset>) {
  return <BinaryStandingCard plan={props.asset.params} address={props.address} version={props.version} />;
}

/** Another package (only while the wallet is active in the asset). */
export function BuyBinaryPackage(props: PayAgainProps<BinaryAsset>) {
  const { a } = props;
  return (
    <BuyAnother a={a} connection={props.connection} plan={props.asset.params} refresh={props.refresh} text={t("b.buy_text", { count: a.retopups })} Pay={BinaryPackagePay} />
  );
}
