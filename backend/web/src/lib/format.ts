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

/** An RFC 3339 time as the reader's local date and time; "—" when there is none. */
export function time(rfc3339: string | null | undefined): string {
  if (!rfc3339) return "—";
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? rfc3339 : d.toLocaleString();
}
