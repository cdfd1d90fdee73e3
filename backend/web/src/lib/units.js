// Amounts typed in an asset's human units ("12.5") into its exact base units (12500000 with 6 decimals): the one
// conversion every console form uses (through src/ui/console.tsx's `toBase`, which passes the language's decimal
// separator). Parsed as text, digit by digit — never through a JavaScript number, which rounds past 2^53 and would
// turn 0.1 + 0.2 into a price nobody typed. More places than the asset has are refused, not rounded: a price is what the
// staff member typed or nothing.
//
// Plain JavaScript (checked by tsc through JSDoc) and pure: no I/O, no locale lookup, no dependency, so that node tests
// it as the page runs it (tests/43-catalogue-price.test.mjs).

/**
 * `text` (a non-negative decimal: "20.5", or "20,5" where the language writes `separator`) as base units of an asset
 * with `decimals` places, exactly; `null` when it is not such a decimal or has more than `decimals` places. A text with
 * a "." keeps it as the decimal point whatever the language (what the console fills in, and what staff paste).
 * @param {string} text
 * @param {number} decimals
 * @param {string} [separator] the language's decimal separator ("," in Spanish, "٫" in Arabic)
 * @returns {bigint | null}
 */
export function humanToBase(text, decimals, separator = ".") {
  if (!Number.isInteger(decimals) || decimals < 0) return null;
  let s = text.trim();
  if (separator !== "." && !s.includes(".")) s = s.replace(separator, ".");
  const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(s);
  if (!m) return null;
  const fraction = m[2] ?? "";
  if (fraction.length > decimals) return null;
  return BigInt(m[1] + fraction.padEnd(decimals, "0"));
}
