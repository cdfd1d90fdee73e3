// The binary plan's versions (console, Plan tab; PLAN-BINARY.md §0): every version's packages, pair, limits,
// retention, budget and withdrawal fee, and a new version from a future block, checked here by the API's own rules
// (`BinaryParams::validate`) before it is sent. The period (months or weeks) and the weeks' origin never change
// between versions: they are shown, not edited.

import { useState } from "preact/hooks";
import { bps, human, time } from "../../lib/format";
import { Amount } from "../../ui/bits";
import { toBase, unixTime } from "../../ui/console";
import type { AssetBase } from "../kit/assets";
import { CreateVersion, DraftField, FirstAllowed, firstAllowedText, proposedFrom } from "../kit/version-form";
import type { Schema } from "../../generated/api";
import { VersionsFrame, type VersionsProps } from "../kit/versions";
import { t } from "../../i18n";

/** The API keeps every amount at most (2^128 − 1) / 10^4 / 10^9 so that its sums and products stay exact. */
const MAX_AMOUNT = (2n ** 128n - 1n) / 10_000n / 1_000_000_000n;

/** As stored: amounts are base-unit decimal strings. */
interface BinaryParams {
  packages: string[];
  pv_bps: number;
  direct_bps: number;
  pair_volume: string;
  pair_bonus: string;
  max_pairs: number;
  free_pairs: number;
  active_paid_in: string;
  retention_bps: number;
  max_payout_bps: number;
  period: "month" | "week";
  week_origin: number;
  withdrawal_fee_bps: number;
}
type Version = Schema<"PlanVersionView"> & { params: BinaryParams };

/** The form's text fields: amounts in human units, packages comma-separated. */
interface Draft {
  from_block: string;
  packages: string;
  pv_bps: string;
  direct_bps: string;
  pair_volume: string;
  pair_bonus: string;
  max_pairs: string;
  free_pairs: string;
  active_paid_in: string;
  retention_bps: string;
  max_payout_bps: string;
  withdrawal_fee_bps: string;
}

function draftOf(p: BinaryParams, decimals: number, fromBlock: number): Draft {
  return {
    from_block: String(fromBlock),
    packages: p.packages.map((x) => human(x, decimals)).join(", "),
    pv_bps: String(p.pv_bps),
    direct_bps: String(p.direct_bps),
    pair_volume: human(p.pair_volume, decimals),
    pair_bonus: human(p.pair_bonus, decimals),
    max_pairs: String(p.max_pairs),
    free_pairs: String(p.free_pairs),
    active_paid_in: human(p.active_paid_in, decimals),
    retention_bps: String(p.retention_bps),
    max_payout_bps: String(p.max_payout_bps),
    withdrawal_fee_bps: String(p.withdrawal_fee_bps),
  };
}

/** The parameters to send, or the reasons per field why not. */
export function checkBinaryDraft(
  d: Draft,
  decimals: number,
  minFromBlock: number,
  latest: BinaryParams,
): { params?: BinaryParams; from?: number; errors: Partial<Record<keyof Draft, string>> } {
  const errors: Partial<Record<keyof Draft, string>> = {};
  const whole = (text: string, min: number, max: number): number | null => {
    const v = Number(text.trim());
    return /^\d+$/.test(text.trim()) && v >= min && v <= max ? v : null;
  };
  const amount = (text: string) => {
    const v = toBase(text.trim(), decimals);
    return v !== null && v >= 1n && v <= MAX_AMOUNT ? v : null;
  };
  const from = whole(d.from_block, minFromBlock, Number.MAX_SAFE_INTEGER);
  if (from === null) errors.from_block = firstAllowedText(minFromBlock);
  const packages = d.packages.split(",").map((x) => x.trim()).filter((x) => x !== "").map(amount);
  if (packages.length < 1 || packages.length > 32 || packages.some((p) => p === null)) {
    errors.packages = t("gen.err_packages", { decimals });
  } else if (packages.some((p, i) => i > 0 && p! <= packages[i - 1]!)) {
    errors.packages = t("gen.err_increase");
  }
  const pv = whole(d.pv_bps, 1, 10000);
  if (pv === null) errors.pv_bps = t("bin.err_bps", { min: 1, max: 10000 });
  const direct = whole(d.direct_bps, 0, 5000);
  if (direct === null) errors.direct_bps = t("bin.err_bps", { min: 0, max: 5000 });
  const pairVolume = amount(d.pair_volume);
  if (pairVolume === null) errors.pair_volume = t("bin.err_amount", { decimals });
  const pairBonus = amount(d.pair_bonus);
  if (pairBonus === null) errors.pair_bonus = t("bin.err_amount", { decimals });
  const maxPairs = whole(d.max_pairs, 1, 1000000);
  if (maxPairs === null) errors.max_pairs = t("bin.err_count", { min: 1, max: 1000000 });
  const freePairs = whole(d.free_pairs, 0, 1000000);
  if (freePairs === null) errors.free_pairs = t("bin.err_count", { min: 0, max: 1000000 });
  const active = amount(d.active_paid_in);
  if (active === null) errors.active_paid_in = t("bin.err_amount", { decimals });
  const retention = whole(d.retention_bps, 0, 10000);
  if (retention === null) errors.retention_bps = t("bin.err_bps", { min: 0, max: 10000 });
  const budget = whole(d.max_payout_bps, 0, 10000);
  if (budget === null) errors.max_payout_bps = t("bin.err_bps", { min: 0, max: 10000 });
  const fee = whole(d.withdrawal_fee_bps, 0, 2000);
  if (fee === null) errors.withdrawal_fee_bps = t("gen.err_fee");
  if (Object.keys(errors).length > 0) return { errors };
  return {
    errors,
    from: from!,
    params: {
      packages: packages.map((p) => p!.toString()),
      pv_bps: pv!,
      direct_bps: direct!,
      pair_volume: pairVolume!.toString(),
      pair_bonus: pairBonus!.toString(),
      max_pairs: maxPairs!,
      free_pairs: freePairs!,
      active_paid_in: active!.toString(),
      retention_bps: retention!,
      max_payout_bps: budget!,
      period: latest.period,
      week_origin: latest.week_origin,
      withdrawal_fee_bps: fee!,
    },
  };
}

/** Every version of a binary asset's parameters, oldest first. */
function BinaryVersionTable(props: { asset: AssetBase; versions: Version[] }) {
  const { asset } = props;
  const amt = (base: string) => <Amount base={base} decimals={asset.decimals} symbol={asset.symbol} />;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t("versions.version")}</th>
          <th scope="col">{t("mon.from_block")}</th>
          <th scope="col">{t("gen.packages")}</th>
          <th scope="col">{t("bin.pair")}</th>
          <th scope="col">{t("bin.limits")}</th>
          <th scope="col">{t("bin.retention")}</th>
          <th scope="col">{t("bin.budget")}</th>
          <th scope="col">{t("versions.fee")}</th>
          <th scope="col">{t("payouts.created")}</th>
        </tr>
      </thead>
      <tbody>
        {props.versions.map((v) => (
          <tr key={v.version} data-testid="plan-version">
            <td>{v.version}</td>
            <td>{v.effective_from_block}</td>
            <td data-testid="plan-version-packages">
              {v.params.packages.map((p, i) => (
                <span key={p}>
                  {i > 0 && ", "}
                  {amt(p)}
                </span>
              ))}
            </td>
            <td data-testid="plan-pair">
              {amt(v.params.pair_bonus)} / {amt(v.params.pair_volume)}
            </td>
            <td data-testid="plan-limits">{t("bin.limits_value", { max: v.params.max_pairs, free: v.params.free_pairs })}</td>
            <td data-testid="plan-retention">
              {bps(v.params.retention_bps)} &lt; {amt(v.params.active_paid_in)}
            </td>
            <td data-testid="plan-budget">{bps(v.params.max_payout_bps)}</td>
            <td data-testid="plan-fee">{bps(v.params.withdrawal_fee_bps)}</td>
            <td>{time(v.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A new version from a future block; the period and the weeks' origin carried over from the latest. */
function NewBinaryVersion(props: { asset: AssetBase; latest: Version; minFrom: number; onCreated: () => void; onStale: () => void }) {
  const { asset, latest, minFrom } = props;
  const [draft, setDraft] = useState<Draft>(() => draftOf(latest.params, asset.decimals, proposedFrom(minFrom)));
  const checked = checkBinaryDraft(draft, asset.decimals, minFrom, latest.params);
  const field = (k: keyof Draft, label: string, hint?: string) => (
    <DraftField k={k} label={label} hint={hint} value={draft[k]} error={checked.errors[k]} onInput={(v) => setDraft({ ...draft, [k]: v })} />
  );
  return (
    <section class="panel" aria-label={t("versions.new_label")}>
      <h3>{t("versions.new_title")}</h3>
      <p class="muted" data-testid="plan-period">
        {latest.params.period === "week" ? t("bin.period_week", { at: unixTime(latest.params.week_origin) }) : t("bin.period_month")}
      </p>
      <div class="form-grid">
        {field("from_block", t("versions.from_block"), t("versions.from_on", { block: String(minFrom) }))}
        <FirstAllowed minFrom={minFrom} use={(b) => setDraft({ ...draft, from_block: String(b) })} />
        {field("packages", t("gen.f_packages", { symbol: asset.symbol }))}
        {field("pv_bps", t("bin.f_pv"))}
        {field("direct_bps", t("bin.f_direct"))}
        {field("pair_volume", t("bin.f_pair_volume", { symbol: asset.symbol }))}
        {field("pair_bonus", t("bin.f_pair_bonus", { symbol: asset.symbol }))}
        {field("max_pairs", t("bin.f_max_pairs"))}
        {field("free_pairs", t("bin.f_free_pairs"))}
        {field("active_paid_in", t("bin.f_active", { symbol: asset.symbol }))}
        {field("retention_bps", t("bin.f_retention"))}
        {field("max_payout_bps", t("bin.f_budget"))}
        {field("withdrawal_fee_bps", t("gen.f_fee"))}
      </div>
      <CreateVersion
        asset={asset}
        latest={latest}
        params={checked.params}
        from={checked.from}
        effect={t("bin.effect", { block: String(checked.from), symbol: asset.symbol, version: latest.version + 1 })}
        onCreated={props.onCreated}
        onStale={props.onStale}
      />
    </section>
  );
}

/** The versions of a binary asset's parameters, and a new version (admin only). */
export function BinaryVersions(props: VersionsProps) {
  return <VersionsFrame {...props} Table={BinaryVersionTable} New={NewBinaryVersion} />;
}
