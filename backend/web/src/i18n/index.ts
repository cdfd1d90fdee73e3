// The pages' language: English is bundled; the other catalogues load on demand (each its own chunk) only once
// picked. The choice comes from the member's saved pick (localStorage), else the browser's languages; `<html lang
// dir>` follows it. `t(key, { name })` gives a string, `tx(key, { name: <b/> })` the same with elements in it;
// a `count` picks the plural form by Intl.PluralRules. Catalogues: src/i18n/{en,es,pt,hi,id,ar}.js, checked by
// scripts/check-catalogues.mjs (npm run i18n:check). A page with strings of its own (the console: src/i18n/console/;
// the members' pages that pay: src/i18n/member/; the proof of solvency: src/i18n/solvency/) adds them as a surface of
// its own (`addSurface`), so that the dApp's first load never carries them; t() and tx() find a key in whichever
// surface's English has it. The languages and how a pick is kept are in ./locales.ts, which the members' exit page
// (src/i18n/exit/, all six languages bundled in one file) shares without any of these catalogues.

import type { ComponentChildren, VNode } from "preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { num } from "../lib/format";
import en from "./en.js";
import type consoleEn from "./console/en.js";
import type memberEn from "./member/en.js";
import type solvencyEn from "./solvency/en.js";
import { LOCALES, LOCALE_KEY, type LocaleCode, directionOf, formatTagFor, preferredLocale, saveLocale } from "./locales";
import { formatLocale, setFormatLocale } from "./tag";

export { formatLocale };

/** A message: plain, or one form per plural category (`other` always there). */
export type Message = string | Partial<Record<Intl.LDMLPluralRule, string>>;
export type MessageKey = keyof typeof en;
/** A key of the console's own catalogues (src/i18n/console), there only once the console added them. */
export type ConsoleKey = keyof typeof consoleEn;
/** A key of the members' pay-facts catalogues (src/i18n/member), there only once a paying page added them. */
export type MemberKey = keyof typeof memberEn;
/** A key of the proof of solvency's catalogues (src/i18n/solvency), there once its page's chunk added them. */
export type SolvencyKey = keyof typeof solvencyEn;
/** What t() and tx() take: a key some English catalogue has. */
type AnyKey = MessageKey | ConsoleKey | MemberKey | SolvencyKey;
type Catalogue = Record<MessageKey, Message>;

export { LOCALES, LOCALE_KEY, type LocaleCode };

const loaders: Record<Exclude<LocaleCode, "en">, () => Promise<{ default: Catalogue }>> = {
  es: () => import("./es.js"),
  pt: () => import("./pt.js"),
  hi: () => import("./hi.js"),
  id: () => import("./id.js"),
  ar: () => import("./ar.js"),
};

let current: LocaleCode = "en";
let catalogue: Catalogue = en;
const listeners = new Set<() => void>();

/** A page's own catalogues beside the dApp's: its English (bundled with the page) and the others' loaders. */
interface Surface {
  en: Record<string, Message>;
  loaders: Record<Exclude<LocaleCode, "en">, () => Promise<{ default: Record<string, Message> }>>;
  /** The current language's catalogue of this surface. */
  catalogue: Record<string, Message>;
}
const surfaces: Surface[] = [];

const surfaceCatalogue = async (s: Surface, code: LocaleCode) => (code === "en" ? s.en : (await s.loaders[code]()).default);

/**
 * Adds a page's own catalogues (call it before `renderLocalised`): from then on `setLocale` loads its catalogue of the
 * picked language beside the dApp's, and t()/tx() find its keys. Resolves once the current language's catalogue of
 * the surface is in (at once in English; a catalogue that fails to load leaves the surface in English), so that a page
 * that words things once (a check's findings) can wait for it.
 */
export function addSurface<K extends string>(english: Record<K, Message>, loaders: Record<Exclude<LocaleCode, "en">, () => Promise<{ default: Record<K, Message> }>>): Promise<void> {
  const s: Surface = { en: english, loaders, catalogue: english };
  surfaces.push(s);
  if (current === "en") return Promise.resolve();
  // Added after a language was picked: its catalogue follows, and the page re-renders.
  const code = current;
  return surfaceCatalogue(s, code).then(
    (c) => {
      if (current !== code) return;
      s.catalogue = c;
      for (const l of listeners) l();
    },
    () => undefined,
  );
}

export { preferredLocale };

export const locale = (): LocaleCode => current;
export const direction = (): "ltr" | "rtl" => directionOf(current);

/** Loads `code`'s catalogue (English is already here), makes it the page's language and re-renders. */
export async function setLocale(code: LocaleCode, opts: { save?: boolean } = {}): Promise<void> {
  const [next, ...own] = await Promise.all([code === "en" ? en : loaders[code]().then((m) => m.default), ...surfaces.map((s) => surfaceCatalogue(s, code))]);
  current = code;
  catalogue = next;
  surfaces.forEach((s, i) => (s.catalogue = own[i]));
  setFormatLocale(formatTagFor(code));
  if (opts.save !== false) saveLocale(code);
  applyToDocument();
  for (const l of listeners) l();
}

function applyToDocument() {
  const html = document.documentElement;
  html.lang = current;
  html.dir = direction();
  // The skip link is in the page's HTML, before any script.
  const skip = document.querySelector("a.skip");
  if (skip) skip.textContent = t("page.skip");
}

/** Subscribes to language changes; returns the unsubscribe. */
export function onLocale(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** The current language, re-rendering the caller when it changes. */
export function useLocale(): LocaleCode {
  const [, setTick] = useState(0);
  useEffect(() => onLocale(() => setTick((n) => n + 1)), []);
  return current;
}

/**
 * Renders a page in the member's language: waits for a non-English catalogue first (English renders at once), and
 * renders the whole tree again on every change of language (state is kept: the same components re-render).
 */
export function renderLocalised(view: () => VNode, el: Element): void {
  const draw = () => render(view(), el);
  onLocale(draw);
  const code = preferredLocale();
  if (code === "en") {
    applyToDocument();
    draw();
    return;
  }
  // A catalogue that fails to load leaves the page in English.
  setLocale(code, { save: false }).catch(() => {
    applyToDocument();
    draw();
  });
}

type Vars = Record<string, string | number | bigint>;
type RichVars = Record<string, ComponentChildren>;

const plurals = new Map<string, Intl.PluralRules>();
function pluralForm(m: Message, count: number | bigint | undefined): string {
  if (typeof m === "string") return m;
  const tag = formatLocale();
  let rules = plurals.get(tag);
  if (!rules) plurals.set(tag, (rules = new Intl.PluralRules(tag)));
  const category = count === undefined ? "other" : rules.select(Number(count));
  return m[category] ?? m.other ?? "";
}

function message(key: AnyKey, count: number | bigint | undefined): string {
  // A key a catalogue misses (the check forbids it) falls back to English rather than showing the key.
  if (key in en) return pluralForm(catalogue[key as MessageKey] ?? en[key as MessageKey] ?? key, count);
  const s = surfaces.find((x) => key in x.en);
  return pluralForm(s ? (s.catalogue[key] ?? s.en[key]) : key, count);
}


const PLACEHOLDER = /\{(\w+)\}/g;

/** The message `key` with its `{name}` placeholders filled; a `count` picks the plural form. */
export function t(key: AnyKey, vars?: Vars): string {
  const text = message(key, vars?.count as number | bigint | undefined);
  if (!vars) return text;
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) return whole;
    return typeof v === "string" ? v : num(v);
  });
}

/** As `t`, with elements (amounts, addresses, links) in the placeholders: for JSX. */
export function tx(key: AnyKey, vars: RichVars): ComponentChildren[] {
  const count = vars.count;
  const text = message(key, typeof count === "number" || typeof count === "bigint" ? count : undefined);
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

/**
 * An English phrase that a page not yet converted hands to a shared component (`<Loading what="the plan">`), in the
 * member's language when the catalogue has it as `phrase.<the phrase>`; any other text (already translated) as is.
 */
export function phrase(text: string): string {
  const key = `phrase.${text}`;
  return key in en ? t(key as MessageKey) : text;
}
