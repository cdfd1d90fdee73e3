// The words of the pure modules that Node's tests import as they are (src/lib/solvency.js, src/lib/solvency-round.js,
// src/exit/logic.js): each says its sentences by key from the English catalogue it imports, in plain digits — what it
// always said — until the page it runs in installs the reader's language (`setTranslator`: the proof of solvency's
// surface, src/i18n/solvency; the exit page's catalogues, src/i18n/exit). Plain JavaScript, no import.

/** @typedef {string | Partial<Record<Intl.LDMLPluralRule, string>>} Message */
/** @typedef {Record<string, string | number | bigint>} Vars */
/** @typedef {(key: string, vars?: Vars) => string} Translator */

/** @type {Translator | null} */
let translator = null;

/**
 * Makes every pure module speak through `f` (the page's t(), numbers in the reader's digits); null: English again.
 * @param {Translator | null} f
 */
export function setTranslator(f) {
  translator = f;
}

const english = new Intl.PluralRules("en");

/**
 * `message` with its {placeholders} filled, its plural form picked by `count`.
 * @param {Message | undefined} message
 * @param {Vars} [vars]
 */
function fillEnglish(message, vars) {
  const m = message ?? "";
  const text = typeof m === "string" ? m : (m[vars?.count === undefined ? "other" : english.select(Number(vars.count))] ?? m.other ?? "");
  return vars ? text.replace(/\{(\w+)\}/g, (whole, name) => (vars[name] === undefined ? whole : String(vars[name]))) : text;
}

/**
 * A pure module's t(): the reader's language once a page installed it, else `catalogue`'s English.
 * @template {string} K
 * @param {Record<K, Message>} catalogue
 * @returns {(key: K, vars?: Vars) => string}
 */
export function wordsOf(catalogue) {
  return (key, vars) => (translator ? translator(key, vars) : fillEnglish(catalogue[key], vars));
}
