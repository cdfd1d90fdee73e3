// The generation plan's versions (console, Plan tab; PLAN-GENERATION.md §0, §6): every version's packages, levels, cap,
// ranks and withdrawal fee, and a new version from a future block, checked here by the API's own rules before it is
// sent. Weeks are numbered from `week_origin`, which no later version may move: it is shown, not edited.

import { useState } from "preact/hooks";
import { bps, human, time } from "../../lib/format";
import { Amount } from "../../ui/bits";
import { toBase, unixTime } from "../../ui/console";
import type { AssetBase } from "../kit/assets";
import { CreateVersion, DraftField, FirstAllowed, firstAllowedText, proposedFrom } from "../kit/version-form";
import type { Schema } from "../../generated/api";
import { VersionsFrame, type VersionsProps } from "../kit/versions";
import { t } from "../../i18n";

const LEVELS = 20;
/** The API keeps every amount below (2^128 − 1) / 10^9 so that its products stay exact. */
const MAX_AMOUNT = (2n ** 128n - 1n) / 1_000_000_000n;

interface Rank {
  name: string;
  main: string;
  other: string;
  bonus: string;
}
/** As stored: amounts are base-unit decimal strings. */
interface GenerationParams {
  packages: string[];
  gen_bps: number[];
  direct_req: number[];
  cap_bps: number;
  ranks: Rank[];
  week_origin: number;
  withdrawal_fee_bps: number;
}
type Version = Schema<"PlanVersionView"> & { params: GenerationParams };

/** The form's text fields: amounts in human units, lists comma-separated, one rank per line. */
interface Draft {
  from_block: string;
  packages: string;
  gen_bps: string;
  direct_req: string;
  cap_bps: string;
  ranks: string;
  withdrawal_fee_bps: string;
}

function draftOf(p: GenerationParams, decimals: number, fromBlock: number): Draft {
  return {
    from_block: String(fromBlock),
    packages: p.packages.map((x) => human(x, decimals)).join(", "),
    gen_bps: p.gen_bps.join(", "),
    direct_req: p.direct_req.join(", "),
    cap_bps: String(p.cap_bps),
    ranks: p.ranks.map((r) => [r.name, human(r.main, decimals), human(r.other, decimals), human(r.bonus, decimals)].join(", ")).join("\n"),
    withdrawal_fee_bps: String(p.withdrawal_fee_bps),
  };
}

/** The parameters to send, or the reasons per field why not (the rules `GenerationParams::validate` applies). */
function checkGenerationDraft(
  d: Draft,
  decimals: number,
  minFromBlock: number,
  weekOrigin: number,
): { params?: GenerationParams; from?: number; errors: Partial<Record<keyof Draft, string>> } {
  const errors: Partial<Record<keyof Draft, string>> = {};
  const whole = (t: string, min: number, max: number): number | null => {
    const v = Number(t.trim());
    return /^\d+$/.test(t.trim()) && v >= min && v <= max ? v : null;
  };
  const list = (t: string) => t.split(",").map((x) => x.trim()).filter((x) => x !== "");
  const amount = (t: string) => {
    const v = toBase(t.trim(), decimals);
    return v !== null && v >= 1n && v <= MAX_AMOUNT ? v : null;
  };

  const from = whole(d.from_block, minFromBlock, Number.MAX_SAFE_INTEGER);
  if (from === null) errors.from_block = firstAllowedText(minFromBlock);
  const packages = list(d.packages).map(amount);
  if (packages.length < 1 || packages.length > 32 || packages.some((p) => p === null)) {
    errors.packages = t("gen.err_packages", { decimals });
  } else if (packages.some((p, i) => i > 0 && p! <= packages[i - 1]!)) {
    errors.packages = t("gen.err_increase");
  }
  const shares = list(d.gen_bps).map((x) => whole(x, 0, 10000));
  if (shares.length !== LEVELS || shares.some((x) => x === null)) errors.gen_bps = t("gen.err_shares", { levels: LEVELS });
  else if (shares.reduce((a, b) => a! + b!, 0)! > 10000) errors.gen_bps = t("versions.err_sum");
  const reqs = list(d.direct_req).map((x) => whole(x, 0, 4294967295));
  if (reqs.length !== LEVELS || reqs.some((x) => x === null)) errors.direct_req = t("gen.err_directs", { levels: LEVELS });
  else if (reqs.some((x, i) => i > 0 && x! < reqs[i - 1]!)) errors.direct_req = t("gen.err_directs_order");
  const cap = whole(d.cap_bps, 10000, 1000000);
  if (cap === null) errors.cap_bps = t("gen.err_cap");
  const fee = whole(d.withdrawal_fee_bps, 0, 2000);
  if (fee === null) errors.withdrawal_fee_bps = t("gen.err_fee");
  const lines = d.ranks.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const ranks: Rank[] = [];
  for (const [i, line] of lines.entries()) {
    const [name, ...figures] = line.split(",").map((x) => x.trim());
    const [main, other, bonus] = figures.map(amount);
    if (figures.length !== 3 || !name || new TextEncoder().encode(name).length > 64 || main == null || other == null || bonus == null) {
      errors.ranks = t("gen.err_rank_line", { line: i + 1 });
      break;
    }
    const last = ranks[ranks.length - 1];
    if (last && (BigInt(last.main) >= main || BigInt(last.other) >= other)) {
      errors.ranks = t("gen.err_rank_order", { line: i + 1 });
      break;
    }
    ranks.push({ name, main: main.toString(), other: other.toString(), bonus: bonus.toString() });
  }
  if (!errors.ranks && ranks.length > 32) errors.ranks = t("gen.err_ranks");
  if (Object.keys(errors).length > 0) return { errors };
  return {
    errors,
    from: from!,
    params: {
      packages: packages.map((p) => p!.toString()),
      gen_bps: shares.map((x) => x!),
      direct_req: reqs.map((x) => x!),
      cap_bps: cap!,
      ranks,
      week_origin: weekOrigin,
      withdrawal_fee_bps: fee!,
    },
  };
}

/** Every version of a generation asset's parameters, oldest first. */
function GenerationVersionTable(props: { asset: AssetBase; versions: Version[] }) {
  const { asset } = props;
  const amt = (base: string) => <Amount base={base} decimals={asset.decimals} symbol={asset.symbol} />;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t("versions.version")}</th>
          <th scope="col">{t("mon.from_block")}</th>
          <th scope="col">{t("gen.packages")}</th>
          <th scope="col">{t("gen.shares")}</th>
          <th scope="col">{t("gen.cap")}</th>
          <th scope="col">{t("gen.ranks")}</th>
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
            <td>{bps(v.params.gen_bps.reduce((a, b) => a + b, 0))}</td>
            <td data-testid="plan-cap">{bps(v.params.cap_bps)}</td>
            <td>{v.params.ranks.map((r) => r.name).join(", ")}</td>
            <td data-testid="plan-fee">{bps(v.params.withdrawal_fee_bps)}</td>
            <td>{time(v.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A new version from a future block; `week_origin` carried over from the latest. `minFrom` is the API's
 * `first_allowed_block`; `onStale` reads it again after the API refused a block as already passed.
 */
function NewGenerationVersion(props: { asset: AssetBase; latest: Version; minFrom: number; onCreated: () => void; onStale: () => void }) {
  const { asset, latest, minFrom } = props;
  const [draft, setDraft] = useState<Draft>(() => draftOf(latest.params, asset.decimals, proposedFrom(minFrom)));
  const checked = checkGenerationDraft(draft, asset.decimals, minFrom, latest.params.week_origin);
  const field = (k: keyof Draft, label: string, hint?: string, area = false) => (
    <DraftField k={k} label={label} hint={hint} area={area} value={draft[k]} error={checked.errors[k]} onInput={(v) => setDraft({ ...draft, [k]: v })} />
  );
  return (
    <section class="panel" aria-label={t("versions.new_label")}>
      <h3>{t("versions.new_title")}</h3>
      <p class="muted" data-testid="plan-week-origin">
        {t("gen.week_origin", { at: unixTime(latest.params.week_origin) })}
      </p>
      <div class="form-grid">
        {field("from_block", t("versions.from_block"), t("versions.from_on", { block: String(minFrom) }))}
        <FirstAllowed minFrom={minFrom} use={(b) => setDraft({ ...draft, from_block: String(b) })} />
        {field("packages", t("gen.f_packages", { symbol: asset.symbol }))}
        {field("gen_bps", t("gen.f_shares", { levels: LEVELS }))}
        {field("direct_req", t("gen.f_directs", { levels: LEVELS }))}
        {field("cap_bps", t("gen.f_cap"))}
        {field("withdrawal_fee_bps", t("gen.f_fee"))}
        {field("ranks", t("gen.f_ranks", { symbol: asset.symbol }), undefined, true)}
      </div>
      <CreateVersion
        asset={asset}
        latest={latest}
        params={checked.params}
        from={checked.from}
        effect={t("gen.effect", { block: String(checked.from), symbol: asset.symbol, version: latest.version + 1 })}
        onCreated={props.onCreated}
        onStale={props.onStale}
      />
    </section>
  );
}

/** The versions of a generation asset's parameters, and a new version (admin only). */
export function GenerationVersions(props: VersionsProps) {
  return <VersionsFrame {...props} Table={GenerationVersionTable} New={NewGenerationVersion} />;
}
