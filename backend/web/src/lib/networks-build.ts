// The networks this build of the dApp was made for: each one's chain id, Settlement contract, the contracts it replaced
// after an upgrade (contracts/UPGRADES.md) and the proof of solvency's maximum age, from the deployment records under
// deployments/ (embedded by vite.config.ts, read and checked by scripts/deployments.mjs). These are the member's own
// sources: the verifier reads the commitments, the pending changes and the member's registration at THESE contracts,
// through the member's wallet, and judges age with THIS maximum — what the operator's API names (its `contract_hex`,
// its list of `contracts`, `max_age_blocks`) is only compared with them.

import { type Hex, getAddress } from "viem";

/** Replaced at build time by the records' figures (vite.config.ts). */
declare const __BUILD_NETWORKS__: readonly {
  name: string;
  chain_id: number;
  settlement: string;
  settlement_base58: string | null;
  proof_max_age_blocks: number;
  previous?: { settlement: string; settlement_base58: string | null }[];
}[];

/** A Settlement contract of the build: its 0x form (EIP-55) and, on TRON, its `T…` form. */
export interface BuildContract {
  settlement: Hex;
  settlementTron: string | null;
}

/** One network of the build. */
export interface BuildNetwork {
  /** The deployment record's name (`deployments/<name>.json`). */
  name: string;
  chainId: number;
  /** The Settlement contract, 0x (EIP-55). */
  settlement: Hex;
  /** On TRON, its `T…` form (what TronLink calls); null elsewhere. */
  settlementTron: string | null;
  /** The most blocks a commitment's liabilities (its `asOfBlock`) may trail the chain's head before it is stale. */
  proofMaxAgeBlocks: bigint;
  /**
   * The contracts the live one replaced on this chain (an upgrade), oldest first: wound down, still holding money
   * members are owed, and committing every round like the live one. Empty without an upgrade.
   */
  previous: readonly BuildContract[];
}

const NETWORKS: readonly BuildNetwork[] = __BUILD_NETWORKS__.map((n) => ({
  name: n.name,
  chainId: n.chain_id,
  settlement: getAddress(n.settlement),
  settlementTron: n.settlement_base58,
  proofMaxAgeBlocks: BigInt(n.proof_max_age_blocks),
  previous: (n.previous ?? []).map((p) => ({ settlement: getAddress(p.settlement), settlementTron: p.settlement_base58 })),
}));

/** The build's network of `chainId`, or null when this build knows no Settlement there. */
export const buildNetwork = (chainId: number): BuildNetwork | null => NETWORKS.find((n) => n.chainId === chainId) ?? null;

/** Every network of the build, by chain id. */
export const buildNetworks = (): readonly BuildNetwork[] => NETWORKS;
