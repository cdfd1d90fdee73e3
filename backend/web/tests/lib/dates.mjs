// Times as every page shows them (src/lib/format.ts, issue 66): in the reader's own time zone, that zone named, in one
// shape per language — Intl's with the options below, in the page's format tag (the browser's tag of the page's
// language, else the language's default, as src/i18n/locales.ts `formatTagFor` picks it). A browser's zone is set
// with `liveIn` (Chromium's time zone override); the page's shapes are read in the page itself (its Intl, its zone),
// and every date-like text on it is checked against them (`datesOnPage`). No devnet needed at import.

/** src/lib/format.ts's shapes: a date and time, a date alone, a time of day. */
export const DATE_TIME = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
const DATE_ONLY = { year: "numeric", month: "short", day: "numeric" };
const CLOCK = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
/** src/i18n/locales.ts `LOCALES[].format`: a language's tag when the browser names none of it. */
const FALLBACK = { en: "en-US", es: "es-ES", pt: "pt-BR", hi: "hi-IN", id: "id-ID", ar: "ar" };

/** Makes `b`'s browser live in `timezoneId` (an IANA zone): its Intl and Date read local time there. */
export async function liveIn(b, timezoneId) {
  const cdp = await b.context.newCDPSession(b.page);
  await cdp.send("Emulation.setTimezoneOverride", { timezoneId });
}

/** `instants` (ms since 1970 or RFC 3339 texts) as the page shows a date and time: its language's tag, its zone. */
export function shownAs(page, instants) {
  return page.evaluate(
    ([list, options, fallback]) => {
      const lang = document.documentElement.lang;
      const tag = (navigator.languages ?? [navigator.language]).find((t) => t.toLowerCase().split("-")[0] === lang) ?? fallback[lang];
      return list.map((at) => new Date(at).toLocaleString(tag, options));
    },
    [instants, DATE_TIME, FALLBACK],
  );
}

/**
 * Every date and time the page shows inside `selector` (every `<details>` opened when `open`; raw data in `<pre>` left
 * out: the console's JSON of an audit entry is data, not a date shown), read against the page's shapes:
 *  - `zone`: the reader's zone as the page's language names it (Intl, now);
 *  - `full`: each date and time of the canonical shape found, with the zone it names; `clocks`: each time of day
 *    (canonical, zone named); `days`: each date alone (canonical);
 *  - `strays`: anything else that looks like a date or a time — an ISO date ("2026-11-29"), a numeric one
 *    ("29/11/2026", toLocaleString's), a month's name beside a number, a clock ("14:05", "2:05:09") — none of
 *    which is part of a canonical one: another shape, or a time without its zone.
 * Texts are compared with whitespace as one space and without direction marks (Arabic's dates carry some).
 */
export function datesOnPage(page, { selector = "body", open = true } = {}) {
  return page.evaluate(
    ([sel, openAll, shapes, fallback]) => {
      const lang = document.documentElement.lang;
      const tag = (navigator.languages ?? [navigator.language]).find((t) => t.toLowerCase().split("-")[0] === lang) ?? fallback[lang];
      const clean = (s) => s.replace(/[\u200e\u200f\u061c\u2066-\u2069]/g, "").replace(/[\s\u00a0\u202f]+/g, " ");
      const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      // Latin, Arabic-Indic, extended Arabic-Indic and Devanagari digits.
      const D = "[0-9\u0660-\u0669\u06f0-\u06f9\u0966-\u096f]";
      const alternatives = (set) => `(?:${[...set].sort((a, b) => b.length - a.length).map(esc).join("|")})`;
      const months = new Set();
      const periods = new Set();
      /** A shape's pattern from Intl's own parts: every month's name and day period it writes, digits as digits. */
      const pattern = (options) => {
        const f = new Intl.DateTimeFormat(tag, options);
        const seen = { month: new Set(), dayPeriod: new Set() };
        for (let m = 0; m < 12; m++)
          for (const h of [3, 15]) for (const p of f.formatToParts(new Date(2026, m, 15, h, 5))) if (p.type in seen) seen[p.type].add(clean(p.value).trim());
        for (const m of seen.month) months.add(m);
        for (const p of seen.dayPeriod) periods.add(p);
        let separator = null;
        const parts = f.formatToParts(new Date(2026, 10, 29, 14, 5));
        const source = parts
          .map((p, i) => {
            if (p.type === "hour" && parts[i + 1]?.type === "literal") separator = clean(parts[i + 1].value);
            switch (p.type) {
              case "day":
                return `${D}{1,2}`;
              case "year":
                return `${D}{4}`;
              case "hour":
              case "minute":
                return `${D}{2}`;
              case "month":
                return alternatives(seen.month);
              case "dayPeriod":
                return alternatives(seen.dayPeriod);
              case "timeZoneName":
                // One word, not ending in a sentence's full stop or colon ("GMT+9.", "IST।", "GMT+9:").
                return "(?<zone>[^\\s,،;()\\[\\]]*[^\\s,،;()\\[\\].।۔:])";
              default:
                return esc(clean(p.value));
            }
          })
          .join("");
        // Not the tail of a longer number or clock ("5:35:09 PM" holds no "35:09 PM").
        return { re: new RegExp(`(?<!${D}|[:.])${source}`, "gu"), separator };
      };
      const full = pattern(shapes.full);
      const day = pattern(shapes.day);
      const clock = pattern(shapes.clock);
      const zoneNow = clean(new Intl.DateTimeFormat(tag, shapes.full).formatToParts(new Date()).find((p) => p.type === "timeZoneName").value).trim();

      const scope = document.querySelector(sel);
      if (!scope) return { missing: sel };
      if (openAll) for (const d of scope.querySelectorAll("details")) d.open = true;
      const raw = [...scope.querySelectorAll("pre")];
      for (const p of raw) p.style.display = "none";
      let text = clean(scope.innerText);
      for (const p of raw) p.style.display = "";

      const found = { full: [], clocks: [], days: [] };
      const mask = (m) => m.replace(/./gsu, "\u2063");
      const take = (shape, into) => {
        text = text.replace(shape.re, (...args) => {
          const m = args[0];
          const groups = args[args.length - 1];
          const zone = typeof groups === "object" && groups?.zone ? groups.zone : null;
          into.push({ text: m, zone });
          return mask(m);
        });
      };
      take(full, found.full);
      take(clock, found.clocks);
      take(day, found.days);

      const monthNames = alternatives(months);
      const strays = [];
      const detectors = [
        /\d{4}-\d{2}-\d{2}/gu,
        new RegExp(`${D}{1,2}/${D}{1,2}/${D}{2,4}`, "gu"),
        // Whole words only: "…c829b6 Mark read" is a hash and a word, not "6 Mar".
        new RegExp(`(?<![\\p{L}\\p{N}\\p{M}])${D}{1,4} ?${monthNames}(?![\\p{L}\\p{M}])|(?<![\\p{L}\\p{M}])${monthNames}(?![\\p{L}\\p{M}])\\.? ?${D}{1,4}(?![\\p{N}])`, "gu"),
      ];
      // A clock by the language's own separator of hours and minutes (Indonesian's "14.05" would be any decimal).
      if (full.separator && full.separator !== ".") detectors.push(new RegExp(`${D}{1,2}${esc(full.separator)}${D}{2}`, "gu"));
      for (const re of detectors) for (const m of text.matchAll(re)) strays.push(text.slice(Math.max(0, m.index - 30), m.index + m[0].length + 30));
      return { tag, zone: zoneNow, ...found, strays };
    },
    [selector, open, { full: DATE_TIME, day: DATE_ONLY, clock: CLOCK }, FALLBACK],
  );
}
