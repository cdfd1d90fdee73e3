// Types of scripts/deployments.mjs for vite.config.ts (a Node module: the page's type check has no Node types).

/** One network the build carries: what src/lib/networks-build.ts reads. */
export interface BuildNetwork {
  /** The record's file name, without `.json`. */
  name: string;
  chain_id: number;
  /** 0x, lower case. */
  settlement: string;
  /** The contract's T… form on a TRON chain, null elsewhere. */
  settlement_base58: string | null;
  proof_max_age_blocks: number;
  /**
   * The contracts this deployment replaced on the chain (an upgrade), oldest first, each in the same forms; absent
   * when it replaced none.
   */
  previous?: { settlement: string; settlement_base58: string | null }[];
}

export declare const DEPLOYMENTS_DIR: string;
export declare const MAX_PREVIOUS: number;
export declare const MAX_ASSETS: number;
/** A record's further assets (`assets`), checked: tokens 0x, lower case. */
export declare function assetsOf(file: string, value: unknown): { token: string; symbol: string }[];
export declare function deploymentsDirByEnvironment(value?: string): string;
export declare function networkOf(file: string, record: unknown): BuildNetwork;
export declare function buildNetworks(options?: { dir?: string; only?: string[] | null }): BuildNetwork[];
/** Each chosen record's USDT (0x, lower case; null when it names none) and further assets, per chain: the exit page's asset buttons. */
export declare function buildTokens(options?: { dir?: string; only?: string[] | null }): { chain_id: number; usdt: string | null; assets: { token: string; symbol: string }[] }[];
export declare function chosenByEnvironment(value?: string): string[] | null;
