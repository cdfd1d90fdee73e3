// Amounts and addresses as people read them; the exact figure is always one hover or focus away.

import { formatUnits } from "viem";

/** Exact decimal form of a base-unit integer: `human("20500000000000000000", 18) === "20.5"`. */
export function human(base: string | bigint, decimals: number): string {
  return formatUnits(BigInt(base), decimals);
}

/** `0x1234…cdef` */
export function shortAddress(a: string): string {
  return a.length > 12 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return "0 %";
  return `${Math.round((part / whole) * 1000) / 10} %`;
}

/** Basis points as a percentage: 2500 → "25 %". */
export function bps(v: number): string {
  return `${v / 100} %`;
}

export function sum(values: (string | bigint)[]): bigint {
  return values.reduce<bigint>((a, v) => a + BigInt(v), 0n);
}
