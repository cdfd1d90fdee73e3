// The auto-pool plan's versions (console, Plan tab): every version of an asset's parameters, and a new version from a
// future block, checked here by the same rules the API applies (PLAN.md §0) before it is sent.

import { useState } from "preact/hooks";
import { human, time } from "../../lib/format";
import { Amount } from "../../ui/bits";
import { IfCan, toBase } from "../../ui/console";
import type { AssetBase } from "../kit/assets";
import { CreateVersion, DraftField, FirstAllowed, firstAllowedText, proposedFrom } from "../kit/version-form";
import type { Schema } from "../../generated/api";
import type { VersionsProps } from "../kit/versions";
import { t } from "../../i18n";

/** As stored: amounts are base-unit decimal strings. */
interface Params {
  registration_fee: string;
  direct_amount: string;
  pool_entry_every: number;
  max_nodes_per_level: number;
  level_price: string[];
  layer_bps: number[];
  reserve_slots: number;
  retopup_fee: string;
  level_bps: number[];
}
/** The API's document leaves `params` untyped (a JSON object): `Params` is what the plan engine stores. */
type Version = Schema<"PlanVersionView"> & { params: Params };

/** The form's text fields: amounts in human units, lists comma-separated. */
interface Draft {
  from_block: string;
  registration_fee: string;
  direct_amount: string;
  pool_entry_every: string;
  max_nodes_per_level: string;
  level_price: string;
  layer_bps: string;
  reserve_slots: string;
  retopup_fee: string;
  level_bps: string;
}

const MAX_AMOUNT = (2n ** 128n - 1n) / 10000n;

function draftOf(p: Params, decimals: number, fromBlock: number): Draft {
  return {
    from_block: String(fromBlock),
    registration_fee: human(p.registration_fee, decimals),
    direct_amount: human(p.direct_amount, decimals),
    pool_entry_every: String(p.pool_entry_every),
    max_nodes_per_level: String(p.max_nodes_per_level),
    level_price: p.level_price.map((x) => human(x, decimals)).join(", "),
    layer_bps: p.layer_bps.join(", "),
    reserve_slots: String(p.reserve_slots),
    retopup_fee: human(p.retopup_fee, decimals),
    level_bps: p.level_bps.join(", "),
  };
}

/** The parameters to send, or the reasons per field why not (the API's own rules). */
export function checkDraft(d: Draft, decimals: number, minFromBlock: number): { params?: Params; from?: number; errors: Partial<Record<keyof Draft, string>> } {
  const errors: Partial<Record<keyof Draft, string>> = {};
  const amount = (k: keyof Draft, text: string): bigint | null => {
    const v = toBase(text, decimals);
    if (v === null || v < 1n || v > MAX_AMOUNT) {
      errors[k] = t("versions.err_amount", { decimals });
      return null;
    }
    return v;
  };
  const int = (k: keyof Draft, min: number, max: number): number | null => {
    const text = d[k].trim();
    const v = Number(text);
    if (!/^\d+$/.test(text) || v < min || v > max) {
      errors[k] = t("versions.err_whole", { min: String(min), max: String(max) });
      return null;
    }
    return v;
  };
  const list = (k: keyof Draft) => d[k].split(",").map((x) => x.trim()).filter((x) => x !== "");
  const fee = amount("registration_fee", d.registration_fee);
  const direct = amount("direct_amount", d.direct_amount);
  const retopup = amount("retopup_fee", d.retopup_fee);
  const every = int("pool_entry_every", 1, 4294967295);
  const maxNodes = int("max_nodes_per_level", 0, 4294967295);
  const reserve = int("reserve_slots", 0, 8);
  const from = int("from_block", minFromBlock, Number.MAX_SAFE_INTEGER);
  if (from === null) errors.from_block = firstAllowedText(minFromBlock);
  const prices = list("level_price").map((x) => toBase(x, decimals));
  if (prices.length < 1 || prices.length > 64 || prices.some((p) => p === null || p < 1n || p > MAX_AMOUNT)) {
    errors.level_price = t("pool.err_prices");
  } else if (fee !== null && prices[0] !== fee) {
    errors.level_price = t("pool.err_level1");
  }
  if (fee !== null && direct !== null && direct > fee) errors.direct_amount = t("pool.err_direct");
  const layer = list("layer_bps").map(Number);
  if (layer.length !== 3 || layer.some((x) => !Number.isInteger(x) || x < 0)) errors.layer_bps = t("pool.err_layers");
  else if (layer.reduce((a, b) => a + b, 0) > 10000) errors.layer_bps = t("versions.err_sum");
  const level = list("level_bps").map(Number);
  if (level.length > 64 || level.some((x) => !Number.isInteger(x) || x < 0)) errors.level_bps = t("pool.err_levels");
  else if (level.reduce((a, b) => a + b, 0) > 10000) errors.level_bps = t("versions.err_sum");
  if (Object.keys(errors).length > 0) return { errors };
  return {
    errors,
    from: from!,
    params: {
      registration_fee: fee!.toString(),
      direct_amount: direct!.toString(),
      pool_entry_every: every!,
      max_nodes_per_level: maxNodes!,
      level_price: prices.map((p) => p!.toString()),
      layer_bps: layer,
      reserve_slots: reserve!,
      retopup_fee: retopup!.toString(),
      level_bps: level,
    },
  };
}

/** The versions of an auto-pool asset's parameters, and a new version (admin only). */
export function AutoPoolVersions(props: VersionsProps) {
  const { asset } = props;
  const versions = props.versions as Version[];
  return (
    <>
      <div class="table-wrap panel" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t("versions.version")}</th>
              <th scope="col">{t("mon.from_block")}</th>
              <th scope="col">{t("versions.fee")}</th>
              <th scope="col">{t("pool.direct")}</th>
              <th scope="col">{t("pool.retopup")}</th>
              <th scope="col">{t("pool.levels")}</th>
              <th scope="col">{t("payouts.created")}</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} data-testid="plan-version">
                <td>{v.version}</td>
                <td>{v.effective_from_block}</td>
                <td><Amount base={v.params.registration_fee} decimals={asset.decimals} symbol={asset.symbol} /></td>
                <td><Amount base={v.params.direct_amount} decimals={asset.decimals} symbol={asset.symbol} /></td>
                <td><Amount base={v.params.retopup_fee} decimals={asset.decimals} symbol={asset.symbol} /></td>
                <td>{v.params.level_price.length}</td>
                <td>{time(v.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {versions.length === 0 && (
          <p class="muted" data-testid="empty">
            {t("versions.none")}
          </p>
        )}
      </div>
      {versions.length > 0 && (
        <IfCan need="admin">
          <NewVersion
            key={`${asset.asset_id}-${versions.length}`}
            asset={asset}
            latest={versions[versions.length - 1]}
            minFrom={props.minFrom}
            onCreated={props.onCreated}
            onStale={props.onStale}
          />
        </IfCan>
      )}
    </>
  );
}

function NewVersion(props: {
  asset: AssetBase;
  latest: Version;
  /** The API's `first_allowed_block`: after the confirmed head, every applied event and the latest version's start. */
  minFrom: number;
  onCreated: () => void;
  /** The API refused the block as already passed: read the first allowed block again. */
  onStale: () => void;
}) {
  const { asset, latest, minFrom } = props;
  const [draft, setDraft] = useState<Draft>(() => draftOf(latest.params, asset.decimals, proposedFrom(minFrom)));
  const checked = checkDraft(draft, asset.decimals, minFrom);
  const field = (k: keyof Draft, label: string, hint?: string) => (
    <DraftField k={k} label={label} hint={hint} value={draft[k]} error={checked.errors[k]} onInput={(v) => setDraft({ ...draft, [k]: v })} />
  );
  return (
    <section class="panel" aria-label={t("versions.new_label")}>
      <h3>{t("versions.new_title")}</h3>
      <div class="form-grid">
        {field("from_block", t("versions.from_block"), t("versions.from_on", { block: String(minFrom) }))}
        <FirstAllowed minFrom={minFrom} use={(b) => setDraft({ ...draft, from_block: String(b) })} />
        {field("registration_fee", t("pool.f_fee", { symbol: asset.symbol }))}
        {field("direct_amount", t("pool.f_direct", { symbol: asset.symbol }))}
        {field("pool_entry_every", t("pool.f_every"))}
        {field("max_nodes_per_level", t("pool.f_max_nodes"))}
        {field("reserve_slots", t("pool.f_reserve"))}
        {field("retopup_fee", t("pool.f_retopup", { symbol: asset.symbol }))}
        {field("layer_bps", t("pool.f_layers"))}
        {field("level_bps", t("pool.f_levels"))}
        {field("level_price", t("pool.f_prices", { symbol: asset.symbol }))}
      </div>
      <CreateVersion
        asset={asset}
        latest={latest}
        params={checked.params}
        from={checked.from}
        effect={t("pool.effect", { block: String(checked.from), symbol: asset.symbol, version: latest.version + 1 })}
        onCreated={props.onCreated}
        onStale={props.onStale}
      />
    </section>
  );
}
