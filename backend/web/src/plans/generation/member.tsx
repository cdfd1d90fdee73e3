// The generation plan on the member's side (PLAN-GENERATION.md): the wallet's standing (paid in, cap, earned, legs,
// rank, weekly bonuses), its package picker (joining and buying again), and the dashboard's room views built on them.

import { ApiError, get } from "../../lib/api";
import { bps } from "../../lib/format";
import type { GenerationStanding as Standing } from "../../lib/types";
import type { GenerationAssetPlan } from "../../lib/types";
import { Amount, AssetAmt, Loading, Notice, useLoad } from "../../ui/bits";
import { BuyAnother, PackagePay, type PackagePayProps } from "../kit/packages";
import type { GenerationAsset } from "../kit/assets";
import type { PayAgainProps, StandingProps } from "../kit/member-props";
import { t, tx } from "../../i18n";
import { errorText } from "../../ui/account";

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
  if (load.loading && !load.data) return <Loading what={t("g.your", { symbol: p.symbol })} />;
  if (load.error) return <Notice kind="error">{t("g.load_err", { symbol: p.symbol, message: errorText(load.error) })}</Notice>;
  const s = load.data;
  if (!s) return null;
  return (
    <section class="plan-standing" data-testid={`generation-standing-${p.asset_id}`} aria-label={t("g.label", { symbol: p.symbol })}>
      <h4>{t("g.title")}</h4>
      <dl class="figures">
        <div>
          <dt>{t("g.paid_in")}</dt>
          <dd><AssetAmt a={s.paid_in} testid="gen-paid-in" /></dd>
        </div>
        <div>
          <dt>{t("g.cap")}</dt>
          <dd>{s.cap ? <AssetAmt a={s.cap} testid="gen-cap" /> : t("g.none_op")}</dd>
        </div>
        <div>
          <dt>{t("g.earned")}</dt>
          <dd><AssetAmt a={s.earned} testid="gen-earned" /></dd>
        </div>
        <div>
          <dt>{t("g.room")}</dt>
          <dd>{s.room ? <AssetAmt a={s.room} testid="gen-room" /> : t("g.no_cap")}</dd>
        </div>
        <div>
          <dt>{t("d.referrals")}</dt>
          <dd data-testid="gen-directs">{s.directs}</dd>
        </div>
        <div>
          <dt>{t("g.levels")}</dt>
          <dd data-testid="gen-levels">{s.open_levels.length === 0 ? t("g.none_yet") : `1–${Math.max(...s.open_levels)}`}</dd>
        </div>
        <div>
          <dt>{t("g.rank")}</dt>
          <dd data-testid="gen-rank">{s.rank_name ?? t("g.none_yet")}</dd>
        </div>
      </dl>
      {s.room?.base === "0" && (
        <Notice kind="warn" testid="gen-at-cap">
          {t("g.at_cap")}
        </Notice>
      )}
      <h5>{t("g.legs")}</h5>
      {s.legs.length === 0 ? (
        <p class="muted">{t("g.no_directs")}</p>
      ) : (
        <table data-testid="gen-legs">
          <thead>
            <tr>
              <th>{t("g.direct")}</th>
              <th>{t("g.volume")}</th>
            </tr>
          </thead>
          <tbody>
            {s.legs.map((l, i) => (
              <tr key={l.direct}>
                <td>
                  <code>{l.direct}</code> {i === 0 && <span class="muted">{t("g.main")}</span>}
                </td>
                <td><AssetAmt a={l.volume} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        {tx("g.legs_sum", { main: <AssetAmt a={s.main_leg} testid="gen-main" />, other: <AssetAmt a={s.other_legs} testid="gen-other" /> })}
      </p>
      <h5>{t("g.bonuses")}</h5>
      {s.bonuses.length === 0 ? (
        <p class="muted">{t("g.none")}</p>
      ) : (
        <table data-testid="gen-bonuses">
          <thead>
            <tr>
              <th>{t("g.week")}</th>
              <th>{t("g.rank")}</th>
              <th>{t("g.bonus")}</th>
              <th>{t("g.status")}</th>
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

/** The generation plan's package picker: the cost says how far the package raises the member's cap. */
export function GenerationPackagePay(props: Omit<PackagePayProps, "plan" | "cost"> & { plan: GenerationAssetPlan }) {
  const p = props.plan;
  return (
    <PackagePay
      {...props}
      cost={(chosen) =>
        tx("g.cost", {
          amount: <AssetAmt a={chosen} testid="package-amount" />,
          cap: <Amount base={(BigInt(chosen.base) * BigInt(p.cap_bps)) / 10000n} decimals={p.decimals} symbol={p.symbol} testid="package-cap" />,
          fee: bps(p.withdrawal_fee_bps),
        })
      }
    />
  );
}

export function GenerationStanding(props: StandingProps<GenerationAsset>) {
  return <GenerationStandingCard plan={props.asset.params} address={props.address} version={props.version} />;
}

/** Another package (only while the wallet is active in the asset). */
export function BuyPackage(props: PayAgainProps<GenerationAsset>) {
  const { a } = props;
  return (
    <BuyAnother a={a} connection={props.connection} plan={props.asset.params} refresh={props.refresh} text={t("g.buy_text", { count: a.retopups })} Pay={GenerationPackagePay} />
  );
}
