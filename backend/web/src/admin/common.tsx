// Pieces the admin console's tabs share: the assets, amount inputs in human units, and actions that ask
// for confirmation and report the API's answer.

import { type ComponentChildren, createContext } from "preact";
import { useContext, useState } from "preact/hooks";
import { parseUnits } from "viem";
import { t } from "../i18n";
import { formatLocale } from "../i18n/tag";
import { chainTime, time } from "../lib/format";
import { errorText } from "../ui/account";
import { Confirm, Notice } from "../ui/bits";
import { ApiError, post } from "../lib/api";
import { networkName } from "../lib/networks";
import type { Schema } from "../generated/api";
import type { AssetBase } from "../plans";

/** An asset as the console's tabs need it, whatever its plan. */
export type Asset = AssetBase;

/** A staff role (backend/STAFF.md §2). Any of them opens every console page read-only. */
export type StaffRole = "viewer" | "support" | "finance" | "approver" | "admin";
/**
 * What an action needs: a role, or `acting` — any role but a viewer's alone (acknowledging an alert, a replay). The API
 * checks the same on every route; the console only leaves out what the signed-in wallet would be refused.
 */
export type Need = Exclude<StaffRole, "viewer"> | "acting";

/** The signed-in wallet's staff roles, as `GET /v1/admin/ping` said when the console opened. */
export const StaffRoles = createContext<readonly StaffRole[]>([]);

/** Whether the signed-in wallet may do what `need` names. */
export function allowed(roles: readonly StaffRole[], need: Need): boolean {
  return need === "acting" ? roles.some((r) => r !== "viewer") : roles.includes(need);
}

/** [`allowed`] for the signed-in wallet. */
export function useCan(): (need: Need) => boolean {
  const roles = useContext(StaffRoles);
  return (need) => allowed(roles, need);
}

/** Its children only when the signed-in wallet may do what `need` names. */
export function IfCan(props: { need: Need; children: ComponentChildren }) {
  return useCan()(props.need) ? <>{props.children}</> : null;
}

/**
 * A human amount ("20.5"; "20,5" too where the language writes a decimal comma) as base units, exactly (parsed as text,
 * never a JavaScript number); `null` when it is not a non-negative decimal with at most `decimals` places.
 */
export function toBase(text: string, decimals: number): bigint | null {
  let t = text.trim();
  const comma = decimalSeparator();
  if (comma !== "." && !t.includes(".")) t = t.replace(comma, ".");
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  const places = t.split(".")[1]?.length ?? 0;
  if (places > decimals) return null;
  try {
    return parseUnits(t, decimals);
  } catch {
    return null;
  }
}

/** The language's decimal separator ("," in Spanish, "٫" in Arabic). */
function decimalSeparator(): string {
  return new Intl.NumberFormat(formatLocale()).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
}

export function AssetPicker(props: { assets: Asset[]; value: number; onChange: (id: number) => void; id?: string }) {
  return (
    <label class="inline">
      {t("common.asset")}{" "}
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange(Number((e.target as HTMLSelectElement).value))}
        data-testid="asset-picker"
      >
        {props.assets.map((a) => (
          <option key={a.asset_id} value={a.asset_id}>
            {t("common.asset_option", { symbol: a.symbol, network: networkName(a.chain_id), id: String(a.asset_id) })}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * A button that first shows what will change and asks; on confirmation runs `act` and reports the outcome.
 * `describe` may be async (it can look things up to say exactly what will change); `failed`, when given,
 * renders a refusal instead of the plain error notice (return `null` to keep the plain one).
 */
export function ConfirmAction<T>(props: {
  /** The role the action needs: without it the button is not shown at all (the API would refuse it). */
  needs: Need;
  label: string;
  title: string;
  describe: () => ComponentChildren;
  act: () => Promise<T>;
  done: (r: T) => void;
  disabled?: boolean;
  testid?: string;
  danger?: boolean;
  /** Not the page's next step (one primary action per state): a plain button. */
  secondary?: boolean;
  failed?: (e: unknown) => ComponentChildren | null;
}) {
  const can = useCan();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ e: unknown } | null>(null);
  if (!can(props.needs)) return null;
  const go = async () => {
    setOpen(false);
    setBusy(true);
    setError(null);
    try {
      props.done(await props.act());
    } catch (e) {
      setError({ e });
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="confirm-action">
      <button
        type="button"
        class={props.danger ? "danger" : props.secondary ? undefined : "primary"}
        disabled={busy || props.disabled}
        onClick={() => {
          setError(null);
          setOpen(true);
        }}
        data-testid={props.testid}
      >
        {busy ? t("common.working") : props.label}
      </button>
      {open && (
        <Confirm title={props.title} confirmLabel={props.label} danger={props.danger} onConfirm={go} onCancel={() => setOpen(false)}>
          {props.describe()}
        </Confirm>
      )}
      {error &&
        (props.failed?.(error.e) ?? (
          <Notice kind="error" testid={props.testid ? `${props.testid}-error` : undefined}>
            {errorText(error.e)}
          </Notice>
        ))}
    </span>
  );
}

export { time };

/** Unix seconds as every time is shown (lib/format: the reader's zone, named); "—" when there is none. */
export function unixTime(secs: number | null | undefined): string {
  return secs ? chainTime(secs) : "—";
}

/** JSON with object keys sorted: stored parameters come back from Postgres' jsonb with its own key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}

/** The parameters of `next` that differ from `latest`'s (compared key-order-free). */
export function changedKeys<P extends object>(next: P, latest: P): (keyof P)[] {
  return (Object.keys(next) as (keyof P)[]).filter((k) => canonical(next[k]) !== canonical(latest[k]));
}

/** Blocks the form proposes after the first allowed one: the chain confirms more while the admin fills it in. */
const FROM_MARGIN = 100;

/** The start block a new-version form proposes: the API's first allowed block plus a margin for the time to fill it. */
export function proposedFrom(firstAllowed: number): number {
  return firstAllowed + FROM_MARGIN;
}

/** Why a start block is refused, naming the first allowed one (the API's own rule). */
export function firstAllowedText(firstAllowed: number): string {
  return t("common.first_allowed_text", { block: String(firstAllowed) });
}

/**
 * The first block a new version may start from, as the API says (`first_allowed_block`: after the listener's
 * confirmed head, every applied event and the latest version's start), with a button that puts it in the form.
 */
export function FirstAllowed(props: { minFrom: number; use: (block: number) => void }) {
  return (
    <p class="muted" data-testid="plan-first-allowed" data-block={props.minFrom}>
      {t("common.first_allowed_now", { block: String(props.minFrom), margin: FROM_MARGIN })}{" "}
      <button type="button" class="copy" onClick={() => props.use(props.minFrom)} data-testid="plan-use-first-allowed">
        {t("common.use_block", { block: String(props.minFrom) })}
      </button>
    </p>
  );
}

/**
 * The "Create version" action of a plan's new-version form, for every plan kind: the confirmation says from which
 * block the version governs (`effect`) and which parameters change, then `POST /v1/admin/plan`. A start block the
 * chain passed meanwhile is refused (422 `from_block_too_early`, naming the first allowed block): `onStale` then
 * reads the first allowed block again.
 */
export function CreateVersion<P extends object>(props: {
  asset: Asset;
  latest: { version: number; params: P };
  /** The checked parameters and block, absent while the form has errors. */
  params?: P;
  from?: number;
  /** What the version governs from its block on, in words. */
  effect: ComponentChildren;
  onCreated: () => void;
  onStale?: () => void;
}) {
  const { asset, latest } = props;
  const [created, setCreated] = useState<string | null>(null);
  const changes = props.params ? changedKeys(props.params, latest.params) : [];
  return (
    <>
      <ConfirmAction
        needs="admin"
        label={t("common.create_version")}
        title={t("common.create_version_title", { version: latest.version + 1, symbol: asset.symbol })}
        testid="plan-create"
        disabled={!props.params}
        describe={() => (
          <>
            <p>{props.effect}</p>
            <p>{changes.length === 0 ? t("common.no_changes") : t("common.changes", { list: changes.join(", ") })}</p>
          </>
        )}
        act={async () => {
          try {
            return await post<Schema<"CreatedPlanVersion">>("/v1/admin/plan", { asset_id: asset.asset_id, from_block: props.from, params: props.params });
          } catch (e) {
            if (e instanceof ApiError && e.code === "from_block_too_early") props.onStale?.();
            throw e;
          }
        }}
        done={(r) => {
          setCreated(t("common.version_created", { version: r.version }));
          props.onCreated();
        }}
      />
      {created && <Notice kind="ok">{created}</Notice>}
    </>
  );
}

/**
 * One field of a plan version's form: its label, the text as typed, a hint, and the reason it is refused (tied to
 * the input for screen readers). `area` for a multi-line field.
 */
export function DraftField(props: { k: string; label: string; hint?: string; value: string; error?: string; onInput: (v: string) => void; area?: boolean }) {
  const { k, error } = props;
  const common = {
    value: props.value,
    onInput: (e: Event) => props.onInput((e.target as HTMLInputElement).value),
    "aria-invalid": !!error,
    "aria-describedby": error ? `err-${k}` : undefined,
    "data-testid": `plan-${k}`,
  };
  return (
    <label>
      {props.label}
      {props.area ? <textarea rows={4} {...common} /> : <input {...common} />}
      {props.hint && <span class="muted">{props.hint}</span>}
      {error && (
        <span class="field-error" id={`err-${k}`} data-testid={`plan-error-${k}`}>
          {error}
        </span>
      )}
    </label>
  );
}
