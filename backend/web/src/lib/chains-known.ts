// Every network the pages know by name, from one table, with no I/O: lib/networks.ts adds what the API configures
// (its `name` for a chain takes precedence there); the static exit page (src/exit/), which never asks the API, reads
// this table alone.

import type { Schema } from "../generated/api";

export type NativeCurrency = Schema<"NativeCurrency">;

export type Family = "evm" | "tron";

export const KNOWN: Record<number, { name: string; family: Family; currency?: NativeCurrency }> = {
  56: { name: "BNB Smart Chain", family: "evm", currency: { name: "BNB", symbol: "BNB", decimals: 18 } },
  97: { name: "BSC Testnet", family: "evm", currency: { name: "tBNB", symbol: "tBNB", decimals: 18 } },
  31337: { name: "Devnet (anvil)", family: "evm" },
  728126428: { name: "TRON mainnet", family: "tron", currency: { name: "TRX", symbol: "TRX", decimals: 6 } },
  3448148188: { name: "TRON Nile", family: "tron", currency: { name: "TRX", symbol: "TRX", decimals: 6 } },
  2494104990: { name: "TRON Shasta", family: "tron", currency: { name: "TRX", symbol: "TRX", decimals: 6 } },
};

/** Whether the chain id is one of TRON's networks (the last four bytes of its genesis block id). */
export const isTronNetwork = (chainId: number) => KNOWN[chainId]?.family === "tron";

/** "TRON Nile (chain 3448148188)" from the table alone; "chain 1234" for a network it does not name. */
export const knownNetworkLabel = (chainId: number): string => (KNOWN[chainId] ? `${KNOWN[chainId].name} (chain ${chainId})` : `chain ${chainId}`);
