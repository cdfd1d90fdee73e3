// Amounts, numbers and times as people read them, in the member's language (src/i18n): separators and digits from
// Intl; amounts exact to the last of their up to 18 decimals (never through a JavaScript number); the exact figure
// is always one hover or focus away.

import { formatUnits } from "viem";
import { formatLocale } from "../i18n/tag";

/** Exact decimal form of a base-unit integer, locale-neutral: `human("20500000000000000000", 18) === "20.5"`. */
export function human(base: string | bigint, decimals: number): string {
  return formatUnits(BigInt(base), decimals);
}

/** `0x1234…cdef` */
export function shortAddress(a: string): string {
  return a.length > 12 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}

// Grouping from five integer digits ("1000", "10,000"; Spanish style guides ask the same).
const GROUPING = { useGrouping: "min2" } as unknown as Intl.NumberFormatOptions;
const formats = new Map<string, Intl.NumberFormat>();
function numberFormat(options: Intl.NumberFormatOptions = GROUPING, key = "n"): Intl.NumberFormat {
  const id = `${formatLocale()}|${key}`;
  let f = formats.get(id);
  if (!f) formats.set(id, (f = new Intl.NumberFormat(formatLocale(), options)));
  return f;
}

/** A count or other quantity in the locale's digits and separators. */
export function num(n: number | bigint): string {
  return numberFormat().format(n);
}

/** A block number, an epoch or another identifier in the locale's digits, never grouped ("12345"; "١٢٣٤٥" in Arabic). */
export function plain(n: number | bigint): string {
  return numberFormat({ useGrouping: false }, "g").format(n);
}

/**
 * An exact decimal string (`-1234.000000000000000001`) in the locale's form (`-1234,000000000000000001`): the
 * integer part grouped by Intl on a bigint, the fraction's digits kept one by one. Anything else comes back as is.
 */
export function localDecimal(decimal: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (!m) return decimal;
  const [, minus, int, frac] = m;
  const f = numberFormat();
  // The sign's place and form (Arabic puts a mark before it) from a formatted ±1: a bigint has no -0.
  const template = f.formatToParts(minus ? -1n : 1n);
  const at = template.findIndex((p) => p.type === "integer");
  const prefix = template.slice(0, at).map((p) => p.value).join("");
  const suffix = template.slice(at + 1).map((p) => p.value).join("");
  let out = prefix + f.format(BigInt(int));
  if (frac) out += decimalSeparator() + localDigits(frac);
  return out + suffix;
}

function decimalSeparator(): string {
  return numberFormat({ minimumFractionDigits: 1 }, "d").formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
}

/** ASCII digits in the locale's digits (the same for Latin-digit locales). */
function localDigits(digits: string): string {
  const f = numberFormat({ useGrouping: false }, "g");
  if (f.format(0) === "0") return digits;
  return digits.replace(/\d/g, (d) => f.format(Number(d)));
}

/** Base units as a localised exact amount: `amount(20500000000000000000n, 18, "BNB")` is "20.5 BNB", "20,5 BNB" in Spanish. */
export function amount(base: string | bigint, decimals: number, symbol?: string): string {
  const n = localDecimal(human(base, decimals));
  return symbol ? `${n} ${symbol}` : n;
}

/** The server's human form of an amount (`"20.5 BNB"`, `"-2 USDT"`) in the locale's form. */
export function localHuman(text: string): string {
  const m = /^(-?\d+(?:\.\d+)?)(\s.*)?$/.exec(text);
  return m ? localDecimal(m[1]) + (m[2] ?? "") : text;
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return percentText(0);
  return percentText(Math.round((part / whole) * 1000) / 10);
}

/** Basis points as a percentage: 2500 → "25 %". */
export function bps(v: number): string {
  return percentText(v / 100);
}

/** A percentage figure (25 → "25 %"), its number and sign in the locale's form. */
function percentText(p: number): string {
  const parts = numberFormat({ style: "percent", maximumFractionDigits: 2 }, "p").formatToParts(p / 100);
  // English keeps its "25 %" with a space, as the pages always wrote it; the other languages take Intl's form.
  if (formatLocale().startsWith("en")) return `${parts.filter((x) => x.type !== "percentSign" && x.type !== "literal").map((x) => x.value).join("")} %`;
  return parts.map((x) => x.value).join("");
}

export function sum(values: (string | bigint)[]): bigint {
  return values.reduce<bigint>((a, v) => a + BigInt(v), 0n);
}

/** A span of seconds in the reader's language, by its two largest units ("3 days 4 hours", "45 seconds"). */
export function span(seconds: bigint | number): string {
  const units = [
    [86_400n, "day"],
    [3_600n, "hour"],
    [60n, "minute"],
    [1n, "second"],
  ] as const;
  let rest = BigInt(seconds) > 0n ? BigInt(seconds) : 0n;
  const parts: string[] = [];
  for (const [size, unit] of units) {
    const n = rest / size;
    rest %= size;
    if (n > 0n || (parts.length === 0 && size === 1n)) parts.push(numberFormat({ style: "unit", unit, unitDisplay: "long" }, `u-${unit}`).format(Number(n)));
    else if (parts.length) break;
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

// Times: one rule for every instant a page shows — the dApp, the console (src/admin, src/plans), the proof of
// solvency and the members' exit page (issue 66: "mixed date formats and time zones in one sentence or table"):
//  - in the reader's own time zone (the browser's), and that zone is always named: a reader never has to guess
//    whether a time is theirs, UTC or the server's;
//  - in one shape per language, Intl's in formatLocale() (its digits too), to the minute:
//      dateTime / time / chainTime  "Nov 29, 2026, 02:05 PM GMT+1" (en-US), "29 nov 2026, 14:05 CET" (es-ES),
//                                   "29 नव॰ 2026, 02:05 pm IST" (hi-IN), "29 نوفمبر 2026، 02:05 م غرينتش+1" (ar)
//      dateOnly                     "Nov 29, 2026": only where a day, not an instant, is meant (member since …)
//      clock                        "02:05 PM GMT+1": a time of day, where the day goes without saying (a deadline
//                                   within the hour); the zone named all the same
//  - a time of a chain's clock (a block's timestamp, a contract's deadline, in unix seconds) is an instant like any
//    other: the same shape in the same zone, so that one page, table or sentence never mixes UTC and local time.
// No page writes a time in UTC, in ISO form or through toLocaleString()/toLocaleTimeString() of its own: every time
// goes through these functions. (The console's statement periods are typed as whole UTC days, and their fields say so:
// an input, not a time shown.)

const DATE = { year: "numeric", month: "short", day: "numeric" } as const;
const CLOCK = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" } as const;
const SHAPES = { dateTime: { ...DATE, ...CLOCK }, date: DATE, clock: CLOCK } satisfies Record<string, Intl.DateTimeFormatOptions>;
const dateFormats = new Map<string, Intl.DateTimeFormat>();
/** The shape's Intl format in the page's language and the reader's time zone (cached per language and zone). */
function dateFormat(shape: keyof typeof SHAPES): Intl.DateTimeFormat {
  // The zone is part of the key: a browser's zone may change while a page stays open.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const id = `${formatLocale()}|${zone}|${shape}`;
  let f = dateFormats.get(id);
  if (!f) dateFormats.set(id, (f = new Intl.DateTimeFormat(formatLocale(), SHAPES[shape])));
  return f;
}

function instant(at: Date | number | string): Date {
  return at instanceof Date ? at : new Date(at);
}

/** An instant (a Date, ms since 1970, or an RFC 3339 text) as the reader's date and time, zone named: "29 Nov 2026, 14:05 CET". */
export function dateTime(at: Date | number | string): string {
  const d = instant(at);
  return Number.isNaN(d.getTime()) ? String(at) : dateFormat("dateTime").format(d);
}

/** An RFC 3339 time from the API as `dateTime` shows it; "—" when there is none. */
export function time(rfc3339: string | null | undefined): string {
  return rfc3339 ? dateTime(rfc3339) : "—";
}

/** The day of an instant, in the reader's zone and the language's shape ("29 Nov 2026"): where only a day is meant. */
export function dateOnly(at: Date | number | string): string {
  const d = instant(at);
  return Number.isNaN(d.getTime()) ? String(at) : dateFormat("date").format(d);
}

/** A time of day in the reader's zone, named ("14:05 CET"): a deadline within the hour, where the day goes without saying. */
export function clock(at: Date | number): string {
  const d = instant(at);
  return Number.isNaN(d.getTime()) ? String(at) : dateFormat("clock").format(d);
}

/**
 * A time of a chain's clock (unix seconds) as `dateTime` shows any instant: the reader's zone, named. `roundUp` for a
 * moment from which something becomes possible (an exit opens): shown to the minute, it is the next whole minute, never
 * a minute at which it is still refused.
 */
export function chainTime(unix: bigint | number, opts: { roundUp?: boolean } = {}): string {
  let ms = Number(unix) * 1000;
  if (Number.isNaN(ms)) return String(unix);
  if (opts.roundUp) ms = Math.ceil(ms / 60_000) * 60_000;
  return dateTime(ms);
}
