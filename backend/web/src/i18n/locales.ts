// The six languages and how a page picks one, with no catalogue in it: the dApp's i18n (./index.ts) and the members'
// exit page (./exit, which bundles its own catalogues and never the dApp's) both read this.

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

/** Where the member's pick is kept (nothing else of the language is stored). */
export const LOCALE_KEY = "referral.locale";

export const isLocaleCode = (c: string | null | undefined): c is LocaleCode => LOCALES.some((l) => l.code === c);
const base = (tag: string) => tag.toLowerCase().split("-")[0];

/** The saved pick, else the first of the browser's languages we have, else English. */
export function preferredLocale(): LocaleCode {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(LOCALE_KEY);
  } catch {
    // Storage refused: the browser's languages decide.
  }
  if (isLocaleCode(saved)) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const b = base(tag);
    if (isLocaleCode(b)) return b;
  }
  return "en";
}

/** Keeps the member's pick (a browser that keeps nothing: the pick holds until the page is left). */
export function saveLocale(code: LocaleCode): void {
  try {
    localStorage.setItem(LOCALE_KEY, code);
  } catch {
    // Not kept.
  }
}

/** The browser's own tag for `code` (es-MX keeps Mexican formats), else the language's default. */
export function formatTagFor(code: LocaleCode): string {
  const own = (navigator.languages ?? [navigator.language]).find((tag) => base(tag) === code);
  const fallback = LOCALES.find((l) => l.code === code)!.format;
  if (!own) return fallback;
  try {
    return Intl.NumberFormat.supportedLocalesOf([own]).length ? own : fallback;
  } catch {
    return fallback;
  }
}

/** The writing direction of `code`. */
export const directionOf = (code: LocaleCode): "ltr" | "rtl" => LOCALES.find((l) => l.code === code)!.dir;
