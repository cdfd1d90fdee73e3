// Money the pages estimate rather than count: an amount at a feed's price in a fiat currency (10^-4 units, rounded half
// up, shown as the locale writes money), and a network fee to two significant digits. Exact amounts stay in
// lib/format.ts; these are for "about" and "≈" only.

import { formatLocale } from "../i18n/tag";
import { amount } from "./format";

/** `base` base units of a `decimals` asset at `price` (an exact decimal string) per whole unit, in 10^-4 of the currency. */
export function mulPrice(base: bigint, decimals: number, price: string): bigint {
  const [whole, frac = ""] = price.split(".");
  const units = BigInt(whole + frac);
  const scale = 10n ** BigInt(decimals + frac.length);
  return (base * units * 10_000n + scale / 2n) / scale;
}

/** An estimate to two significant digits, in the locale's form: 340000002380000 wei is "0.00034 BNB". */
export function rough(base: bigint, decimals: number, symbol: string): string {
  const digits = base.toString().length;
  const drop = BigInt(Math.max(0, digits - 2));
  const kept = drop > 0n ? ((base + 5n * 10n ** (drop - 1n)) / 10n ** drop) * 10n ** drop : base;
  return amount(kept, decimals, symbol);
}

/** A bound to two significant digits, rounded up so that it stays a bound: 352003002464021 wei "at most" is
 *  "0.00036 BNB". The one form every page gives a network fee "at most" in (issue 66: one fee per batch). */
export function roughUp(base: bigint, decimals: number, symbol: string): string {
  const digits = base.toString().length;
  const drop = BigInt(Math.max(0, digits - 2));
  const unit = 10n ** drop;
  const kept = drop > 0n ? ((base + unit - 1n) / unit) * unit : base;
  return amount(kept, decimals, symbol);
}

/** `roughUp` of an API amount's exact human form ("0.000352003002464021 BNB"). */
export function roughUpHuman(human: string): string {
  const [value, symbol = ""] = human.split(" ");
  const [whole, frac = ""] = value.split(".");
  return roughUp(BigInt(whole + frac), frac.length, symbol);
}

/** A decimal string ("0.2082") in 10^-4 of the currency. */
export function decimalToScaled(decimal: string): bigint {
  const [whole, frac = ""] = decimal.split(".");
  return BigInt(whole + (frac + "0000").slice(0, 4));
}

/** 10^-4 of `currency` as the locale writes money: "US$0.21", "0,21 US$"; a positive amount under a cent as "< US$0.01". */
export function fiat(scaled: bigint, currency: string): string {
  const f = new Intl.NumberFormat(formatLocale(), { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (scaled > 0n && scaled < 100n) return `< ${f.format(0.01)}`;
  return f.format(Number(scaled) / 10_000);
}
