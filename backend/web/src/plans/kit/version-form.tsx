// The pieces of every plan's new-version form (console, Plan tab): one field with its hint and refusal, the first
// block a new version may start from, and the "Create version" action that says what changes before it asks the API.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { t } from "../../i18n";
import { ApiError, post } from "../../lib/api";
import type { Schema } from "../../generated/api";
import { Notice } from "../../ui/bits";
import { ConfirmAction } from "../../ui/console";
import type { AssetBase } from "./assets";

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
  asset: AssetBase;
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
