// The one wallet interface every flow is written over (sign-in, payment, claim): the EVM connection (an injected
// wallet or WalletConnect, lib/wallet.ts) and TronLink's (lib/tron.ts) implement it. The API builds every call a
// wallet sends in both forms (`transaction` for an EIP-1193 wallet, `tron` for TronLink); each wallet picks its own.

import type { Address, Hex } from "viem";
import type { Schema } from "../generated/api";

/** A call the API built: what an EIP-1193 wallet sends and, on a TRON chain, what TronLink sends. */
export interface ApiCall {
  transaction: Schema<"WalletTransaction">;
  tron?: Schema<"TronCall"> | null;
}

export interface Wallet {
  readonly kind: "evm" | "tron";
  /** The wallet's name ("Test Wallet", "WalletConnect", "TronLink"). */
  readonly name: string;
  /** How the page refers to it in a sentence: "your wallet", "TronLink". */
  readonly where: string;
  /** The network fee's unit ("gas", "energy") and what to say when the account has nothing to pay it with. */
  readonly fee: { unit: string; none: string };
  /** The account in its chain's form (0x EIP-55, `T…`). */
  readonly account: string;
  /** The same account as 0x (what the API's session names). */
  readonly hex: Address;
  /** The chain the wallet is on (EVM chain id; a TRON network's id from its genesis block), null if unknown. */
  network(): Promise<number | null>;
  /** Puts the wallet on `chainId` (an EVM wallet switches, adding the chain if needed), or says why it cannot. */
  ensureNetwork(chainId: number): Promise<void>;
  signMessage(message: string): Promise<Hex>;
  /**
   * EIP-712 typed data signed by the wallet itself (`eth_signTypedData_v4`): a staff approval of an outflow
   * (backend/STAFF.md §3). `typed` is what the API gives, integers as decimal strings.
   */
  signTypedData(typed: object): Promise<Hex>;
  nativeBalance(): Promise<bigint>;
  /** Token and spender in this wallet's form ([`Wallet.target`] of a call). */
  tokenBalance(token: string): Promise<bigint>;
  allowance(token: string, spender: string): Promise<bigint>;
  /** The contract `call` calls, in this wallet's form. */
  target(call: ApiCall): string;
  /** Whether `call` would succeed now: the node's refusal in words, or null. */
  refusalOf(call: ApiCall): Promise<string | null>;
  /** Has the user sign and send `call`; the transaction's id. */
  sendCall(call: ApiCall, what: string): Promise<string>;
  /** The block `id` was mined in; a reverted transaction throws. */
  mined(id: string): Promise<{ blockNumber: bigint }>;
  blockNumber(): Promise<bigint>;
  /** Whether the contract (this wallet's form) has spent `nonce`. */
  nonceUsed(contract: string, nonce: string): Promise<boolean>;
  /**
   * A read-only call of `contract` (this wallet's form) through the wallet's own node (`eth_call`; TronLink's
   * `triggerConstantContract`): the bytes it returns. `signature` is the function's (`latestLiabilities(address)`),
   * `data` the whole calldata, selector included (TRON sends it without, as `rawParameter`).
   */
  view(contract: string, signature: string, data: Hex): Promise<Hex>;
  /**
   * A wallet whose fees its node can estimate before any prompt (TronLink): whether the account can pay for
   * `sends` in order, the problem in words, or null. Without it, a zero balance is the only fee check.
   */
  feeProblem?(sends: { what: string; call: ApiCall }[]): Promise<string | null>;
}

/** A token payment's approve, in both forms (absent for the native coin). */
export function approveOf(p: { approve?: Schema<"WalletTransaction"> | null; tron?: Schema<"TronCall"> | null }): ApiCall | null {
  if (!p.approve) return null;
  const tron = p.tron?.approve;
  return { transaction: p.approve, tron: tron ? { ...tron, call_value: "0" } : null };
}
