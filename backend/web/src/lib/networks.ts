// Networks by name, from one table, and what the API says of each configured chain (`GET /v1/public/chains`):
// its name, a public RPC and native coin for wallets that do not know it (EIP-3085 `wallet_addEthereumChain`),
// and its block explorer, which every transaction and address the pages show links to. Also where sign-in works
// (the site the sign-in message names).

import { publicCall } from "./api";
import { explorerUrl } from "./explorer.js";
import type { Schema } from "../generated/api";
import { KNOWN, type NativeCurrency, isTronNetwork } from "./chains-known";

/** A configured chain as `GET /v1/public/chains` describes it (only `chain_id` is always there). */
export type PublicChain = Schema<"PublicChain">;

export type PublicChains = Schema<"PublicChains">;

export { isTronNetwork };
export type { NativeCurrency };

let loaded: PublicChains | null = null;
let loading: Promise<PublicChains | null> | null = null;
const listeners = new Set<() => void>();

/** The API's chain table, asked once (again after a failure); null when it could not be had. */
export function loadChains(): Promise<PublicChains | null> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= publicCall<PublicChains>("GET", "/v1/public/chains").then(
    (c) => {
      loaded = c;
      for (const l of listeners) l();
      return c;
    },
    () => {
      loading = null;
      return null;
    },
  );
  return loading;
}

/** Re-renders a component once the chain table is in (names and explorer links then appear). */
export function onChains(l: () => void): () => void {
  listeners.add(l);
  void loadChains();
  return () => listeners.delete(l);
}

export const chainsLoaded = () => loaded;

const configured = (chainId: number) => loaded?.chains.find((c) => c.chain_id === chainId);

/** "BNB Smart Chain", "TRON Nile", "chain 1234" for a network nobody named. */
export function networkName(chainId: number): string {
  return configured(chainId)?.name ?? KNOWN[chainId]?.name ?? `chain ${chainId}`;
}

/** "TRON Nile (chain 3448148188)", "Devnet (anvil) (chain 31337)"; "chain 1234" when it has no name. */
export function networkLabel(chainId: number): string {
  const name = configured(chainId)?.name ?? KNOWN[chainId]?.name;
  return name ? `${name} (chain ${chainId})` : `chain ${chainId}`;
}

/** The network's name as a file name's part: "bnb-smart-chain", "tron-nile", "chain-1234" — so that two assets of
 *  one symbol on two networks (USDT on BSC and on TRON) never download under one name. */
export function networkFileSlug(chainId: number): string {
  const slug = networkName(chainId)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug || `chain-${chainId}`;
}

/** What `wallet_addEthereumChain` needs (EIP-3085), or null when no public RPC is configured for the chain. */
export async function addChainParameters(chainId: number): Promise<Record<string, unknown> | null> {
  await loadChains();
  const c = configured(chainId);
  if (!c?.public_rpc_url) return null;
  const currency = c.native_currency ?? KNOWN[chainId]?.currency ?? { name: "Ether", symbol: "ETH", decimals: 18 };
  return {
    chainId: `0x${chainId.toString(16)}`,
    chainName: networkName(chainId),
    nativeCurrency: currency,
    rpcUrls: [c.public_rpc_url],
    ...(c.explorer_url ? { blockExplorerUrls: [c.explorer_url] } : {}),
  };
}

/** The explorer's page of a transaction or an address on the chain; null when the chain has no explorer configured. */
export function explorerLink(chainId: number, kind: "tx" | "address", value: string): string | null {
  return explorerUrl(configured(chainId)?.explorer_url, isTronNetwork(chainId) ? "tron" : "evm", kind, value);
}

/**
 * Where sign-in works when this page is not there (opened as `127.0.0.1` while messages name `localhost`): the
 * same path at the configured site; null when this page is at it (or the table is not in yet).
 */
export function signinElsewhere(): string | null {
  if (!loaded) return null;
  let site: URL;
  try {
    site = new URL(loaded.signin_uri);
  } catch {
    return null;
  }
  if (site.origin === location.origin) return null;
  return `${site.origin}${location.pathname}${location.search}${location.hash}`;
}

