// The proof of solvency's own strings (src/user/Solvency.tsx and its parts in src/user/solvency/ — the page, the badge
// on the dashboard's cards, the banner of pending changes — and the helpers that word its findings: src/lib/solvency.js,
// solvency-round.js, solvency-chain.ts), a surface beside the dApp's (src/i18n/index.ts `addSurface`): English bundled
// with the page's lazy chunk, the other languages each a chunk loaded when picked; the first page never carries any of
// it. Importing this module adds them, and makes the pure helpers (src/i18n/words.js) speak the reader's language, their
// block numbers and epochs in the reader's digits.

import { type SolvencyKey, addSurface, t } from "..";
import { plain } from "../../lib/format";
import { type Vars, setTranslator } from "../words.js";
import en from "./en.js";

/** Resolves once the current language's strings of the proof of solvency are in (the page waits for it). */
export const solvencyWordsReady = addSurface(en, {
  es: () => import("./es.js"),
  pt: () => import("./pt.js"),
  hi: () => import("./hi.js"),
  id: () => import("./id.js"),
  ar: () => import("./ar.js"),
});

// A pure helper's figures are identifiers (blocks, epochs, positions) or base units: the reader's digits, never
// grouped; its `count` stays a number for the plural form.
setTranslator((key, vars) => {
  if (!vars) return t(key as SolvencyKey);
  const local: Vars = {};
  for (const [k, v] of Object.entries(vars)) local[k] = typeof v === "string" || k === "count" ? v : plain(v);
  return t(key as SolvencyKey, local);
});
