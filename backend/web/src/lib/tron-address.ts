// TRON's `T…` form of an address (base58check of 0x41 ‖ the 20 bytes), which the API and the ledger treat as the
// same account as its 0x form. Pure, with no import but viem's hashing: the static exit page (src/exit/) uses it
// without the dApp's wallet and API modules; lib/tron.ts re-exports it.

import { type Address, type Hex, getAddress, isAddress, sha256 } from "viem";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const checksum = (raw: Hex) => sha256(sha256(raw)).slice(2, 10);

/** `T…` form of a 0x address. */
export function toTronAddress(address: string): string {
  const raw = `0x41${address.slice(2).toLowerCase()}` as Hex;
  let n = BigInt(`${raw}${checksum(raw)}`);
  let text = "";
  while (n > 0n) {
    text = ALPHABET[Number(n % 58n)] + text;
    n /= 58n;
  }
  return text;
}

/** The 0x (EIP-55) form of a `T…` address; null when it is not one (bad character, length or checksum). */
export function fromTronAddress(text: string): Address | null {
  if (!/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(text)) return null;
  let n = 0n;
  for (const ch of text) n = n * 58n + BigInt(ALPHABET.indexOf(ch));
  const hex = n.toString(16).padStart(50, "0");
  if (hex.length !== 50 || !hex.startsWith("41")) return null;
  if (checksum(`0x${hex.slice(0, 42)}`) !== hex.slice(42)) return null;
  return getAddress(`0x${hex.slice(2, 42)}`);
}

/** A 0x or `T…` address as its 0x form, or null. */
export const parseAnyAddress = (text: string): Address | null =>
  isAddress(text.trim()) ? getAddress(text.trim()) : fromTronAddress(text.trim());
