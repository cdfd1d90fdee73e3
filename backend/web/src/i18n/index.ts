// The pages' language: English is bundled; the other catalogues load on demand (each its own chunk) only once
// picked. The choice comes from the member's saved pick (localStorage), else the browser's languages; `<html lang
// dir>` follows it. `t(key, { name })` gives a string, `tx(key, { name: <b/> })` the same with elements in it;
// a `count` picks the plural form by Intl.PluralRules. Catalogues: src/i18n/{en,es,pt,hi,id,ar}.js, checked by
// scripts/check-catalogues.mjs (npm run i18n:check). A page with strings of its own (the console: src/i18n/console/)
// adds them as a second surface (`addSurface`), so that the dApp's first load never carries them; t() and tx() find a
// key in whichever surface's English has it.

import type { ComponentChildren, VNode } from "preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { num } from "../lib/format";
import en from "./en.js";
import type consoleEn from "./console/en.js";
import type memberEn from "./member/en.js";
import { formatLocale, setFormatLocale } from "./tag";

export { formatLocale };

/** A message: plain, or one form per plural category (`other` always there). */
export type Message = string | Partial<Record<Intl.LDMLPluralRule, string>>;
export type MessageKey = keyof typeof en;
/** A key of the console's own catalogues (src/i18n/console), there only once the console added them. */
export type ConsoleKey = keyof typeof consoleEn;
/** A key of the members' pay-facts catalogues (src/i18n/member), there only once a paying page added them. */
export type MemberKey = keyof typeof memberEn;
/** What t() and tx() take: a key some English catalogue has. */
type AnyKey = MessageKey | ConsoleKey | MemberKey;
type Catalogue = Record<MessageKey, Message>;

export const LOCALES = [
  // `format`: the tag numbers and dates follow when the browser names no region of this language.
  { code: "en", name: "English", format: "en-US", dir: "ltr" },
  { code: "es", name: "Español", format: "es-ES", dir: "ltr" },
  { code: "pt", name: "Português (Brasil)", format: "pt-BR", dir: "ltr" },
  { code: "hi", name: "हिन्दी", format: "hi-IN", dir: "ltr" },
  { code: "id", name: "Bahasa Indonesia", format: "id-ID", dir: "ltr" },
  { code: "ar", name: "العربية", format: "ar", dir: "rtl" },
] as const;
export type LocaleCode = (typeof LOCALES)[number]["code"];

const loaders: Record<Exclude<LocaleCode, "en">, () => Promise<{ default: Catalogue }>> = {
  es: () => import("./es.js"),
  pt: () => import("./pt.js"),
  hi: () => import("./hi.js"),
  id: () => import("./id.js"),
  ar: () => import("./ar.js"),
};

/** Where the member's pick is kept (nothing else of the language is stored). */
export const LOCALE_KEY = "referral.locale";

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
 * picked language beside the dApp's, and t()/tx() find its keys.
 */
export function addSurface<K extends string>(english: Record<K, Message>, loaders: Record<Exclude<LocaleCode, "en">, () => Promise<{ default: Record<K, Message> }>>): void {
  const s: Surface = { en: english, loaders, catalogue: english };
  surfaces.push(s);
  // Added after a language was picked: its catalogue follows, and the page re-renders.
  if (current !== "en") {
    const code = current;
    void surfaceCatalogue(s, code).then((c) => {
      if (current !== code) return;
      s.catalogue = c;
      for (const l of listeners) l();
    });
  }
}

const isCode = (c: string | null | undefined): c is LocaleCode => LOCALES.some((l) => l.code === c);
const base = (tag: string) => tag.toLowerCase().split("-")[0];

/** The saved pick, else the first of the browser's languages we have, else English. */
export function preferredLocale(): LocaleCode {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(LOCALE_KEY);
  } catch {
    // Storage refused: the browser's languages decide.
  }
  if (isCode(saved)) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const b = base(tag);
    if (isCode(b)) return b;
  }
  return "en";
}

/** The browser's own tag for `code` (es-MX keeps Mexican formats), else the language's default. */
function formatTagFor(code: LocaleCode): string {
  const own = (navigator.languages ?? [navigator.language]).find((tag) => base(tag) === code);
  const fallback = LOCALES.find((l) => l.code === code)!.format;
  if (!own) return fallback;
  try {
    return Intl.NumberFormat.supportedLocalesOf([own]).length ? own : fallback;
  } catch {
    return fallback;
  }
}

export const locale = (): LocaleCode => current;
export const direction = (): "ltr" | "rtl" => LOCALES.find((l) => l.code === current)!.dir;

/** Loads `code`'s catalogue (English is already here), makes it the page's language and re-renders. */
export async function setLocale(code: LocaleCode, opts: { save?: boolean } = {}): Promise<void> {
  const [next, ...own] = await Promise.all([code === "en" ? en : loaders[code]().then((m) => m.default), ...surfaces.map((s) => surfaceCatalogue(s, code))]);
  current = code;
  catalogue = next;
  surfaces.forEach((s, i) => (s.catalogue = own[i]));
  setFormatLocale(formatTagFor(code));
  if (opts.save !== false) {
    try {
      localStorage.setItem(LOCALE_KEY, code);
    } catch {
      // Not kept: the pick holds until the page is left.
    }
  }
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
