// The members' exit page's words (src/exit/): its own catalogues, all six bundled into the one self-contained file
// dist/exit.html — it runs from a file:// URL with no request at all, so no catalogue can be fetched when picked. It
// never loads the dApp's catalogues (src/i18n/index.ts), only the languages' list and how a pick is kept
// (src/i18n/locales.ts, the same `referral.locale` the dApp saves). `t(key, { name })` and `tx(key, { name: <b/> })`
// as the dApp's; a `count` picks the plural form. Importing this module also makes the exit's pure helpers
// (src/exit/logic.js, through src/i18n/words.js) speak the picked language, their figures in its digits.

import type { ComponentChildren } from "preact";
import { num, plain } from "../../lib/format";
import { LOCALES, type LocaleCode, directionOf, formatTagFor, preferredLocale, saveLocale } from "../locales";
import { formatLocale, setFormatLocale } from "../tag";
import { type Vars, setTranslator } from "../words.js";
import ar from "./ar.js";
import en from "./en.js";
import es from "./es.js";
import hi from "./hi.js";
import id from "./id.js";
import pt from "./pt.js";

export { LOCALES, type LocaleCode };
export type ExitKey = keyof typeof en;
type Message = string | Partial<Record<Intl.LDMLPluralRule, string>>;

const CATALOGUES: Record<LocaleCode, Record<string, Message>> = { en, es, pt, hi, id, ar };

let current: LocaleCode = "en";

export const exitLocale = (): LocaleCode => current;

/** Makes `code` the page's language: its catalogue, its number and date formats, `<html lang dir>` and the title. */
export function setExitLocale(code: LocaleCode, opts: { save?: boolean } = {}): void {
  current = code;
  setFormatLocale(formatTagFor(code));
  if (opts.save !== false) saveLocale(code);
  const html = document.documentElement;
  html.lang = code;
  html.dir = directionOf(code);
  document.title = t("ex.title");
}

/** The member's saved pick, else the browser's languages, else English (no save: nothing was picked yet). */
export const startExitLocale = () => setExitLocale(preferredLocale(), { save: false });

const plurals = new Map<string, Intl.PluralRules>();
function message(key: ExitKey, count: unknown): string {
  const m = CATALOGUES[current][key] ?? en[key] ?? key;
  if (typeof m === "string") return m;
  const tag = formatLocale();
  let rules = plurals.get(tag);
  if (!rules) plurals.set(tag, (rules = new Intl.PluralRules(tag)));
  const category = typeof count === "number" || typeof count === "bigint" ? rules.select(Number(count)) : "other";
  return m[category] ?? m.other ?? "";
}

const PLACEHOLDER = /\{(\w+)\}/g;

/** The message `key` with its `{name}` placeholders filled (numbers in the page's digits); a `count` picks the form. */
export function t(key: ExitKey, vars?: Record<string, string | number | bigint>): string {
  const text = message(key, vars?.count);
  if (!vars) return text;
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) return whole;
    return typeof v === "string" ? v : num(v);
  });
}

/** As `t`, with elements in the placeholders: for JSX. */
export function tx(key: ExitKey, vars: Record<string, ComponentChildren>): ComponentChildren[] {
  const text = message(key, vars.count);
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index! > last) out.push(text.slice(last, m.index));
    const v = vars[m[1]];
    out.push(v === undefined ? m[0] : typeof v === "number" || typeof v === "bigint" ? num(v) : v);
    last = m.index! + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// The pure helpers' figures are identifiers (blocks, batches, positions): the page's digits, never grouped.
setTranslator((key, vars) => {
  if (!vars) return t(key as ExitKey);
  const local: Vars = {};
  for (const [k, v] of Object.entries(vars)) local[k] = typeof v === "string" || k === "count" ? v : plain(v);
  return t(key as ExitKey, local);
});
