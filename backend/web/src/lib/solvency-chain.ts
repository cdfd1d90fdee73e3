// The proof of solvency's commitment as the CHAIN holds it, read through the user's own wallet — never from the
// API, never from an RPC node of the operator's: `latestLiabilities(token)` by `eth_call` through the connected
// EIP-1193 wallet (and its head by `eth_blockNumber`), or by `triggerConstantContract` through TronLink's node (and
// its head by `trx.getCurrentBlock`). A WalletConnect wallet answers no reads (lib/walletconnect.ts sends them to
// the public RPC the API configures), so it cannot be used for this.

import { type Hex, getAddress } from "viem";
import { type settlementLatestLiabilitiesAbi, settlementLatestLiabilitiesSelector, settlementLatestLiabilitiesSignature } from "../generated/contracts";
import { networkLabel } from "./networks";
import { type AnyConnection, isTronChain } from "./tron";
import type { AssetSolvency } from "./types";

/** `latestLiabilities(token)` as read from the chain, with the chain's head block just after. */
export interface ChainCommitmentRead {
  root: Hex;
  total: bigint;
  /** 0 while nothing is committed for the token. */
  epoch: bigint;
  asOfBlock: bigint;
  commitBlock: bigint;
  /** The contract's own balance of the asset, read by the commit transaction itself. */
  custody: bigint;
  head: bigint;
  /** The chain the wallet reads (an EVM chain id; a TRON network's from its genesis block), null if unknown. */
  chainId: number | null;
  /** The contract read, in the chain's form (0x, or T… on TRON). */
  contract: string;
  /** Who read it: "Test Wallet", "TronLink". */
  via: string;
}

/**
 * What `latestLiabilities(token)` returns, word by word: six static values, one 32-byte word each. Decoded here by
 * hand (viem's decoder would add its code and errors to every page's shared chunk); the list is checked against the
 * generated ABI at compile time, so an ABI that changes its outputs fails `tsc` here.
 */
const OUTPUTS = [
  ["root", "bytes32"],
  ["total", "uint128"],
  ["epoch", "uint64"],
  ["asOfBlock", "uint64"],
  ["commitBlock", "uint64"],
  ["custody", "uint256"],
] as const;
type NamesAndTypes<T> = { -readonly [K in keyof T]: T[K] extends { name: infer N; type: infer Y } ? readonly [N, Y] : never };
type Outputs = NamesAndTypes<(typeof settlementLatestLiabilitiesAbi)[0]["outputs"]>;
/** `true` only when the ABI's outputs are `OUTPUTS` (names, types and order); the constant below then compiles. */
type SameLayout = [typeof OUTPUTS, Outputs] extends [Readonly<Outputs>, typeof OUTPUTS] ? true : never;
export const LATEST_LIABILITIES_LAYOUT_MATCHES_ABI: SameLayout = true;

/** The call's data: its selector and the token as one word. */
const callData = (token: string): Hex => `${settlementLatestLiabilitiesSelector}${getAddress(token).slice(2).toLowerCase().padStart(64, "0")}`;

/** The six words of `latestLiabilities`' answer; a malformed answer (not that contract's) throws. */
function decodeLatest(raw: Hex, contract: string) {
  if (!/^0x[0-9a-fA-F]*$/.test(raw) || raw.length !== 2 + 64 * OUTPUTS.length) {
    throw new Error(`the contract ${contract} did not answer latestLiabilities as the Settlement contract does (${raw.length > 20 ? `${raw.slice(0, 20)}…` : raw})`);
  }
  const word = (name: (typeof OUTPUTS)[number][0]) => {
    const i = OUTPUTS.findIndex(([n]) => n === name);
    return `0x${raw.slice(2 + 64 * i, 66 + 64 * i)}` as Hex;
  };
  return {
    root: word("root"),
    total: BigInt(word("total")),
    epoch: BigInt(word("epoch")),
    asOfBlock: BigInt(word("asOfBlock")),
    commitBlock: BigInt(word("commitBlock")),
    custody: BigInt(word("custody")),
  };
}

/** Why the connected wallet cannot read an asset's chain now (not a failure of the proof: a note). */
export type CannotRead =
  /** The asset is on the other kind of chain (a TRON asset with an EVM wallet, or the reverse). */
  | { reason: "wallet"; need: "TronLink" | "an EVM wallet" }
  /** The wallet is on another network than the asset's. */
  | { reason: "network"; have: number; want: number }
  /** WalletConnect: the phone wallet answers no reads; the page would ask the operator's configured RPC. */
  | { reason: "walletconnect" };

/** Thrown by `readCommitment` when the wallet cannot read the asset's chain (shown as a note, not a failure). */
export class CannotReadError extends Error {
  constructor(
    readonly problem: CannotRead,
    chainId: number,
  ) {
    super(cannotReadText(problem, chainId));
  }
}

/** Whether `c` can read `asset`'s chain at all (without asking it anything); null when it can. */
export function readerProblem(c: AnyConnection, asset: { chain_id: number }): CannotRead | null {
  const tron = isTronChain(asset.chain_id);
  if (tron !== (c.kind === "tron")) return { reason: "wallet", need: tron ? "TronLink" : "an EVM wallet" };
  if (c.kind === "evm" && c.name === "WalletConnect") return { reason: "walletconnect" };
  return null;
}

/** The note for a wallet that cannot read the chain, in words. */
export function cannotReadText(p: CannotRead, chainId: number): string {
  switch (p.reason) {
    case "wallet":
      return `This is on ${networkLabel(chainId)}: connect ${p.need} to read its commitment from the chain.`;
    case "network":
      return `Your wallet is on ${networkLabel(p.have)}; this commitment is on ${networkLabel(p.want)}. Switch your wallet to that network to read it from the chain.`;
    case "walletconnect":
      return "A wallet connected by WalletConnect answers no reads, so the page cannot read the commitment through it (it will not ask a node of the operator's instead). Download your proof and check it with the command-line verifier against a node you trust, or use a browser wallet.";
  }
}

/**
 * Reads the asset's latest commitment through the wallet: the network first (`CannotReadError` when the wallet
 * cannot read this chain, or is on another network), then `latestLiabilities(token)`, then the head block.
 */
export async function readCommitment(c: AnyConnection, asset: AssetSolvency): Promise<ChainCommitmentRead> {
  const problem = readerProblem(c, asset);
  if (problem) throw new CannotReadError(problem, asset.chain_id);
  const chainId = await c.network();
  if (chainId !== null && chainId !== asset.chain_id) throw new CannotReadError({ reason: "network", have: chainId, want: asset.chain_id }, asset.chain_id);
  // The contract in the wallet's form (T… for TronLink); the token always as 0x in the calldata.
  const contract = c.kind === "tron" ? asset.contract : getAddress(asset.contract_hex);
  const raw = await c.view(contract, settlementLatestLiabilitiesSignature, callData(asset.token_hex));
  const { root, total, epoch, asOfBlock, commitBlock, custody } = decodeLatest(raw, contract);
  // After the commitment: the head is never below its block.
  const head = await c.blockNumber();
  return { root, total, epoch, asOfBlock, commitBlock, custody, head, chainId, contract, via: c.name };
}

/** Blocks since the commit (0 when the head is not past it). */
export const ageOf = (r: ChainCommitmentRead): bigint => (r.head > r.commitBlock ? r.head - r.commitBlock : 0n);
