// Assets: the ledger's assets, and a new one (POST /v1/admin/assets, the path `referral-asset` takes too). The
// admin names the chain, the token, the genesis wallet and the plan; the API reads the token's decimals and symbol,
// checks the token is allowed on the chain's Settlement contract and the parameters by the plan's rules. "Check"
// shows what would be created (a dry run); "Create" creates it, once: a second click or tab is refused with 409.

import { useState } from "preact/hooks";
import { ApiError, post } from "../lib/api";
import { networkLabel } from "../lib/networks";
import { Addr, Notice, useChainTable } from "../ui/bits";
import { errorText } from "../ui/account";
import type { Asset } from "./common";
import { ConfirmAction, IfCan } from "../ui/console";
import { t, tx } from "../i18n";
import { amount } from "../lib/format";
import type { Schema } from "../generated/api";
import { PLAN_KINDS, roomOf } from "../plans";
import type { PlanKind } from "../plans/kit/assets";

type CreatedAsset = Schema<"CreatedAsset">;
type Plan = PlanKind;

/** The form as typed. */
interface Draft {
  chain_id: string;
  token: string;
  native: boolean;
  genesis: string;
  plan: Plan;
  symbol: string;
  id: string;
  params: string;
}

/** The request body of a draft, or why not (per field). */
function bodyOf(d: Draft, dryRun: boolean): { body?: Record<string, unknown>; errors: Partial<Record<keyof Draft, string>> } {
  const errors: Partial<Record<keyof Draft, string>> = {};
  const address = (t: string) => /^0x[0-9a-fA-F]{40}$/.test(t) || /^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(t);
  if (!/^\d{1,19}$/.test(d.chain_id)) errors.chain_id = t("assets.err_chain");
  if (!d.native && !address(d.token.trim())) errors.token = t("assets.err_token");
  if (!address(d.genesis.trim())) errors.genesis = t("assets.err_genesis");
  if (d.symbol.trim() !== "" && !/^[A-Za-z0-9._-]{1,16}$/.test(d.symbol.trim())) errors.symbol = t("assets.err_symbol");
  if (d.id.trim() !== "" && !/^[1-9]\d{0,8}$/.test(d.id.trim())) errors.id = t("assets.err_id");
  let params: unknown = undefined;
  if (d.params.trim() !== "") {
    try {
      params = JSON.parse(d.params);
      if (typeof params !== "object" || params === null || Array.isArray(params)) errors.params = t("assets.err_params_object");
    } catch {
      errors.params = t("assets.err_params_json");
    }
  }
  if (Object.keys(errors).length > 0) return { errors };
  const body: Record<string, unknown> = {
    chain_id: Number(d.chain_id),
    token: d.native ? "native" : d.token.trim(),
    genesis: d.genesis.trim(),
    plan: d.plan,
    dry_run: dryRun,
  };
  if (d.symbol.trim() !== "") body.symbol = d.symbol.trim();
  if (d.id.trim() !== "") body.id = Number(d.id.trim());
  if (params !== undefined) body.params = params;
  return { body, errors };
}

export function Assets(props: { assets: Asset[]; wallet: string; created: () => void }) {
  const chains = useChainTable()?.chains ?? [];
  const [draft, setDraft] = useState<Draft>({
    chain_id: "",
    token: "",
    native: false,
    genesis: props.wallet,
    plan: "auto_pool",
    symbol: "",
    id: "",
    params: "",
  });
  const chainId = draft.chain_id || (chains[0] ? String(chains[0].chain_id) : "");
  const current = { ...draft, chain_id: chainId };
  // The checked asset is shown for exactly the draft it was checked for; any edit asks for a new check.
  const [checked, setChecked] = useState<{ for: string; answer: CreatedAsset } | null>(null);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<CreatedAsset | null>(null);
  const { body, errors } = bodyOf(current, true);
  const key = JSON.stringify(body ?? null);
  const valid = checked && checked.for === key ? checked.answer : null;
  const set = (k: keyof Draft) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setDraft({ ...current, [k]: t.type === "checkbox" ? t.checked : t.value });
    setCreated(null);
    setError(null);
  };
  const check = async () => {
    if (!body) return;
    setChecking(true);
    setError(null);
    try {
      setChecked({ for: key, answer: await post<CreatedAsset>("/v1/admin/assets", body) });
    } catch (e) {
      setChecked(null);
      setError(e);
    } finally {
      setChecking(false);
    }
  };
  const field = (k: keyof Draft) => ({
    value: current[k] as string,
    onInput: set(k),
    "aria-invalid": errors[k] !== undefined,
    "aria-describedby": errors[k] ? `asset-err-${k}` : undefined,
    "data-testid": `asset-${k}`,
  });
  const fieldError = (k: keyof Draft) =>
    errors[k] && (current[k] as string) !== "" ? (
      <span class="field-error" id={`asset-err-${k}`} data-testid={`asset-error-${k}`}>
        {errors[k]}
      </span>
    ) : null;
  return (
    <section aria-labelledby="assets-title" data-testid="assets-admin">
      <h2 id="assets-title">{t("console.tab_assets")}</h2>
      {props.assets.length === 0 ? (
        <Notice kind="info" testid="no-assets">
          {t("assets.none")}
        </Notice>
      ) : (
        <table data-testid="asset-list">
          <thead>
            <tr>
              <th>{t("common.asset")}</th>
              <th>{t("assets.symbol")}</th>
              <th>{t("assets.chain")}</th>
              <th>{t("assets.token")}</th>
              <th>{t("assets.decimals")}</th>
            </tr>
          </thead>
          <tbody>
            {[...props.assets].sort((x, y) => x.asset_id - y.asset_id).map((a) => (
              <tr key={a.asset_id} data-testid="asset-row">
                <td>{a.asset_id}</td>
                <td>{a.symbol}</td>
                <td>{networkLabel(a.chain_id)}</td>
                <td>{/^(0x)?0{40}$/.test(a.token) ? t("assets.native_coin") : <Addr a={a.token} chainId={a.chain_id} />}</td>
                <td>{a.decimals}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <IfCan need="admin">
      <section class="panel" aria-label={t("assets.new")} data-testid="new-asset">
        <h3>{t("assets.new")}</h3>
        <p class="muted">{t("assets.new_intro")}</p>
        <div class="form-grid">
          <label>
            {t("assets.chain")}
            <select value={chainId} onChange={set("chain_id")} data-testid="asset-chain_id">
              {chains.map((c) => (
                <option key={c.chain_id} value={c.chain_id}>
                  {networkLabel(c.chain_id)}
                </option>
              ))}
            </select>
          </label>
          <label class="inline">
            <input type="checkbox" checked={current.native} onChange={set("native")} data-testid="asset-native" /> {t("assets.native")}
          </label>
          {!current.native && (
            <label>
              {t("assets.token")}
              <input {...field("token")} placeholder={t("assets.address_placeholder")} autocomplete="off" />
              {fieldError("token")}
            </label>
          )}
          <label>
            {t("assets.genesis")}
            <input {...field("genesis")} placeholder={t("assets.address_placeholder")} autocomplete="off" />
            {fieldError("genesis")}
          </label>
          <label>
            {t("console.tab_plan")}
            <select value={current.plan} onChange={set("plan")} data-testid="asset-plan">
              {PLAN_KINDS.map((k) => (
                <option key={k} value={k}>
                  {roomOf(k).choice()}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("assets.symbol_optional")}
            <input {...field("symbol")} placeholder={t("assets.symbol_placeholder")} />
            {fieldError("symbol")}
          </label>
          <label>
            {t("assets.id_optional")}
            <input {...field("id")} inputMode="numeric" placeholder={t("assets.id_placeholder")} />
            {fieldError("id")}
          </label>
        </div>
        <div class="form-grid">
          <label>
            {t("assets.params")}
            <textarea {...field("params")} rows={4} placeholder={t("assets.params_placeholder")} />
            {fieldError("params")}
          </label>
        </div>
        <div class="actions">
          <button type="button" disabled={!body || checking} onClick={check} data-testid="asset-check">
            {checking ? t("assets.checking") : t("assets.check")}
          </button>
          <ConfirmAction
            needs="admin"
            label={t("assets.create")}
            title={t("assets.create_title")}
            testid="asset-create"
            disabled={!valid}
            describe={() =>
              valid && (
                <p>
                  {tx("assets.create_describe", {
                    id: String(valid.asset.id),
                    symbol: valid.asset.symbol,
                    decimals: valid.asset.decimals,
                    network: networkLabel(valid.asset.chain_id),
                    plan: PLAN_KINDS.includes(valid.asset.plan as PlanKind) ? roomOf(valid.asset.plan as PlanKind).name() : valid.asset.plan,
                    genesis: <code>{valid.asset.genesis}</code>,
                  })}
                </p>
              )
            }
            act={() => post<CreatedAsset>("/v1/admin/assets", { ...bodyOf(current, false).body })}
            done={(r) => {
              setCreated(r);
              setChecked(null);
              props.created();
            }}
          />
        </div>
        {error !== null && (
          <Notice kind="error" testid="asset-refused">
            {error instanceof ApiError ? `${errorText(error)} (${error.code})` : errorText(error)}
          </Notice>
        )}
        {valid && !created && <CheckedView a={valid} />}
        {created && (
          <Notice kind="ok" testid="asset-created">
            {t("assets.created", { id: String(created.asset.id), symbol: created.asset.symbol, decimals: created.asset.decimals })}
          </Notice>
        )}
      </section>
      </IfCan>
    </section>
  );
}

function CheckedView(props: { a: CreatedAsset }) {
  const a = props.a.asset;
  const fee = (a.params as Record<string, unknown>)["registration_fee"];
  return (
    <div data-testid="asset-checked">
      <Notice kind="info">
        {t(typeof fee === "string" ? "assets.would_create_fee" : "assets.would_create", {
          id: String(a.id),
          symbol: a.symbol,
          decimals: a.decimals,
          plan: a.plan,
          fee: typeof fee === "string" ? amount(fee, a.decimals, a.symbol) : "",
        })}
      </Notice>
      <details>
        <summary>{t("assets.parameters")}</summary>
        <pre data-testid="asset-checked-params">{JSON.stringify(a.params, null, 2)}</pre>
      </details>
    </div>
  );
}
