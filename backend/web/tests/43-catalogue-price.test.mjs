// A price typed in the console into exact base units (src/lib/units.js, `humanToBase`; the console's `toBase` in
// src/ui/console.tsx passes it the language's decimal separator), without browser or devnet — the conversion the
// Catalogue tab (src/admin/Catalogue.tsx) sends a product's price by, and every other console form its amounts:
// - exact: "12.5" with 6 decimals is 12500000, digit for digit, also where a float would round ("4.35" with 2 decimals
//   is 435, not 434.99…; "1.1" with 18 is 1100000000000000000) and far past 2^53 (a price of 2^112 − 1 base units);
// - more places than the asset has are refused, never rounded; so is anything but a plain non-negative decimal (a sign,
//   an exponent, a lone point, grouping, digits of another script);
// - the language's decimal separator ("," in Spanish, "٫" in Arabic) read as the point, unless the text has a "." (what
//   the form fills in from the API's figures, whatever the language), so "1,234.5" is refused rather than misread.
//   cd backend/web && node --test tests/43-catalogue-price.test.mjs
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { humanToBase } from "../src/lib/units.js";

test("human units to base units, exactly", () => {
  assert.equal(humanToBase("12.5", 6), 12_500_000n);
  assert.equal(String(humanToBase("12.5", 6)), "12500000");
  assert.equal(humanToBase("12.500000", 6), 12_500_000n, "trailing zeros up to the asset's places are the same price");
  assert.equal(humanToBase("7", 6), 7_000_000n);
  assert.equal(humanToBase("  7 ", 6), 7_000_000n, "spaces around are left out");
  assert.equal(humanToBase("0.000001", 6), 1n, "the smallest unit");
  assert.equal(humanToBase("0", 6), 0n, "zero is an amount (the Catalogue form refuses a price of 0 itself)");
  assert.equal(humanToBase("3", 0), 3n, "an asset without decimals");
  // Where a JavaScript number would have rounded: 4.35 * 100 is 434.99999999999994, 1.1 * 1e18 is 1100000000000000100.
  assert.equal(humanToBase("4.35", 2), 435n);
  assert.equal(humanToBase("1.1", 18), 1_100_000_000_000_000_000n);
  assert.equal(humanToBase("123456789012345678.123456789012345678", 18), 123456789012345678123456789012345678n);
  // The highest price the API takes, 2^112 − 1 base units, through its human form and back.
  const top = (1n << 112n) - 1n;
  const human = `${top / 10n ** 6n}.${String(top % 10n ** 6n).padStart(6, "0")}`;
  assert.equal(humanToBase(human, 6), top);
});

test("more places than the asset has are refused, not rounded", () => {
  assert.equal(humanToBase("12.5000001", 6), null);
  assert.equal(humanToBase("0.0000001", 6), null);
  assert.equal(humanToBase("12.50000000", 6), null, "even zeros past the asset's places: the form says how many it takes");
  assert.equal(humanToBase("3.0", 0), null);
  assert.equal(humanToBase("1.0000000000000000001", 18), null);
});

test("only a plain non-negative decimal", () => {
  for (const text of ["", " ", ".5", "5.", "-1", "+1", "1e6", "0x10", "1 000", "1_000", "12.5.1", "١٢", "12.5 USDT", "NaN", "Infinity"]) {
    assert.equal(humanToBase(text, 6), null, JSON.stringify(text));
  }
  for (const decimals of [-1, 1.5, Number.NaN]) assert.equal(humanToBase("1", decimals), null, `decimals ${decimals}`);
});

test("the language's decimal separator", () => {
  assert.equal(humanToBase("12,5", 6, ","), 12_500_000n, "Spanish");
  assert.equal(humanToBase("12٫5", 6, "٫"), 12_500_000n, "Arabic");
  assert.equal(humanToBase("12.5", 6, ","), 12_500_000n, "a point is a point in every language (the form fills it in)");
  assert.equal(humanToBase("12,5", 6), null, "a comma where the language has none is not a decimal point");
  assert.equal(humanToBase("1,234.5", 6, ","), null, "grouping with a point: refused rather than misread");
  assert.equal(humanToBase("12,5000001", 6, ","), null, "too many places with a comma too");
});

test("the console converts with it, and the Catalogue tab sends what it gives", () => {
  // The page files are TSX (no node test imports them): the wiring is read from their text.
  const consoleTsx = readFileSync(new URL("../src/ui/console.tsx", import.meta.url), "utf8");
  assert.match(consoleTsx, /export function toBase\(text: string, decimals: number\): bigint \| null \{\s*return humanToBase\(text, decimals, decimalSeparator\(\)\);/);
  const catalogue = readFileSync(new URL("../src/admin/Catalogue.tsx", import.meta.url), "utf8");
  assert.match(catalogue, /const base = toBase\(price, asset\.decimals\);/);
  assert.match(catalogue, /price: \(base \?\? 0n\)\.toString\(\)/);
  assert.doesNotMatch(catalogue, /parseFloat|Number\(price|\* 10 \*\*/, "no float on the way");
});
