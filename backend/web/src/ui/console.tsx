// The admin console's pieces below its tabs, shared with the plans' console views (src/plans): the signed-in wallet's
// staff roles and what they let it do, actions that ask for confirmation and report the API's answer, amounts typed in
// human units, and unix times as every time is shown. Its words are the console's (src/i18n/console).

import { type ComponentChildren, createContext } from "preact";
import { useContext, useState } from "preact/hooks";
import { t } from "../i18n";
import { formatLocale } from "../i18n/tag";
import { chainTime } from "../lib/format";
import { humanToBase } from "../lib/units.js";
import { errorText } from "./account";
import { Confirm, Notice } from "./bits";

/**
 * A staff role (backend/STAFF.md §2). Any of them opens every console page read-only. `catalogue` keeps the sales plan's
 * products (a role of its own, not the admin's: merchandising moves no money).
 */
export type StaffRole = "viewer" | "support" | "finance" | "approver" | "admin" | "catalogue";
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
 * never a JavaScript number: lib/units.js); `null` when it is not a non-negative decimal with at most `decimals` places.
 */
export function toBase(text: string, decimals: number): bigint | null {
  return humanToBase(text, decimals, decimalSeparator());
}

/** The language's decimal separator ("," in Spanish, "٫" in Arabic). */
function decimalSeparator(): string {
  return new Intl.NumberFormat(formatLocale()).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
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

/** Unix seconds as every time is shown (lib/format: the reader's zone, named); "—" when there is none. */
export function unixTime(secs: number | null | undefined): string {
  return secs ? chainTime(secs) : "—";
}
