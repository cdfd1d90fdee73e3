// TRON through TronLink: the page uses what the extension injects (`window.tronLink`, `window.tronWeb`) and
// bundles no TronWeb. TronLink's own node reads the chain (balances, receipts, blocks), so the page still talks to
// no RPC node itself. Also the `T…` form of addresses (base58check of 0x41 ‖ the 20 bytes), which the API and
// the ledger treat as the same account as its 0x form.

import { type Address, type Hex, encodeFunctionData, hexToBytes } from "viem";
import { fromTronAddress, parseAnyAddress, toTronAddress } from "./tron-address";
import { isTronNetwork, networkLabel } from "./networks";
import { amount } from "./format";
import { type Connection, WalletError, actionText } from "./wallet";
import { formatLocale, t } from "../i18n";
import type { Schema } from "../generated/api";
import type { ApiCall, Wallet } from "./any-wallet";
import { settlementIsNonceUsedAbi, settlementIsNonceUsedSignature } from "../generated/contracts";

/** Whether the chain id is one of TRON's networks (the last four bytes of the genesis block id). */
export const isTronChain = (chainId: number) => isTronNetwork(chainId);

/** "TRON Nile (chain 3448148188)", "Devnet (anvil) (chain 31337)": every network by name, from one table (lib/networks). */
export const networkText = (chainId: number): string => networkLabel(chainId);

/** What tells two assets of one symbol apart in test ids: `USDT`, `USDT-TRON`. */
export const assetKey = (symbol: string, chainId: number) => (isTronChain(chainId) ? `${symbol}-TRON` : symbol);

export { fromTronAddress, parseAnyAddress, toTronAddress };

/** An address in its chain's own form: `T…` on a TRON chain, EIP-55 elsewhere (unparseable text as it is). */
export function chainAddress(chainId: number, text: string): string {
  const a = parseAnyAddress(text);
  if (!a) return text;
  return isTronChain(chainId) ? toTronAddress(a) : a;
}

/** Whether a token field (0x or `T…`) is the zero address, i.e. the chain's native coin. */
export const isNative = (token: string) => /^0x0{40}$/.test(parseAnyAddress(token) ?? "");

/** The call a TRON wallet sends, in TronWeb's terms (the API's `tron` answers). */
export type TronCall = Schema<"TronCall">;

// What the page uses of TronLink's injected objects.
interface TronTransaction {
  txID: string;
  [k: string]: unknown;
}
interface TronBlock {
  blockID?: string;
  block_header?: { raw_data?: { number?: number } };
}
interface TronWebLike {
  ready?: boolean;
  defaultAddress?: { base58?: string | false; hex?: string | false };
  trx: {
    signMessageV2(message: string): Promise<string>;
    _signTypedData?(domain: object, types: object, value: object): Promise<string>;
    sign(tx: TronTransaction): Promise<TronTransaction>;
    sendRawTransaction(tx: TronTransaction): Promise<{ result?: boolean; txid?: string; code?: string; message?: string }>;
    getTransactionInfo(txid: string): Promise<{ blockNumber?: number; result?: string; receipt?: { result?: string }; resMessage?: string }>;
    getCurrentBlock(): Promise<TronBlock>;
    getBlockByNumber(n: number): Promise<TronBlock>;
    getBalance(address: string): Promise<number>;
    /** The full node's account: `{}` when it does not exist (never received TRX). */
    getUnconfirmedAccount(address: string): Promise<{ address?: string; balance?: number }>;
    getAccountResources(address: string): Promise<{ freeNetLimit?: number; freeNetUsed?: number; NetLimit?: number; NetUsed?: number }>;
    getChainParameters(): Promise<{ key: string; value?: number }[]>;
  };
  transactionBuilder: {
    triggerSmartContract(
      contract: string,
      selector: string,
      options: Record<string, unknown>,
      parameters: unknown[],
      issuer: string,
    ): Promise<{ result?: { result?: boolean; message?: string }; transaction?: TronTransaction }>;
    triggerConstantContract(
      contract: string,
      selector: string,
      options: Record<string, unknown>,
      parameters: unknown[],
      issuer: string,
    ): Promise<{
      result?: { result?: boolean; code?: string; message?: string };
      constant_result?: string[];
      energy_used?: number;
      transaction?: { ret?: { ret?: string }[] };
    }>;
  };
}
interface TronLinkLike {
  ready?: boolean;
  tronWeb?: TronWebLike | false;
  request?(args: { method: string; params?: unknown }): Promise<unknown>;
}
type TronWindow = Window & { tronLink?: TronLinkLike; tronWeb?: TronWebLike };

const tronLink = () => (window as TronWindow).tronLink;
const tronWeb = (): TronWebLike | undefined => tronLink()?.tronWeb || (window as TronWindow).tronWeb || undefined;

/** Whether TronLink (or a wallet offering its interface) is in the page. */
export const tronLinkPresent = () => !!(tronLink() || tronWeb());

// TronLink says what changes by `window.postMessage({ message: { action, data }, isTronLink: true })` and fires
// `tronLink#initialized` once it has injected itself (possibly after the page loaded).
type TronEvent = { action: string; data?: { address?: string | false } };
const tronListeners = new Set<(e: TronEvent) => void>();
window.addEventListener("tronLink#initialized", () => tronListeners.forEach((l) => l({ action: "initialized" })));
window.addEventListener("message", (e: MessageEvent) => {
  const m = (e.data as { message?: TronEvent } | null)?.message;
  if (e.source === window && m && typeof m.action === "string" && m.action !== "tabReply") tronListeners.forEach((l) => l(m));
});

export function onTronLink(l: (e: TronEvent) => void): () => void {
  tronListeners.add(l);
  return () => tronListeners.delete(l);
}

/** Text TRON nodes return hex-encoded (error messages), readable. */
function readable(message: string | undefined): string {
  if (!message) return t("tron.no_reason");
  if (/^(0x)?([0-9a-f]{2})+$/i.test(message)) {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(hexToBytes(`0x${message.replace(/^0x/, "")}`));
    } catch {
      return message;
    }
  }
  return message;
}

/** A TronLink refusal or failure in words (TronLink rejects with a plain string when the user declines). */
export function tronError(e: unknown, what: string): WalletError {
  if (e instanceof WalletError) return e;
  const text = typeof e === "string" ? e : ((e as { message?: string })?.message ?? String(e));
  if (/declined|rejected|denied|cancel/i.test(text)) {
    return new WalletError("rejected", t("tron.rejected", { what: actionText(what) }));
  }
  if (/balance is not sufficient|insufficient|not enough/i.test(text)) {
    return new WalletError("insufficient_funds", t("tron.insufficient", { what: actionText(what) }));
  }
  // TronLink's (or its node's) own words, as they are.
  return new WalletError("other", t("wallet.failed", { what: actionText(what), detail: text }));
}

/** TRX from SUN, exact (never rounded below what is needed), in the reader's number form: "4.271 TRX", "4,271 TRX". */
export const trxText = (sun: bigint) => amount(sun, 6, "TRX");

/**
 * Bytes of bandwidth a contract call costs (java-tron's `BandwidthProcessor`: the transaction without its results,
 * plus 64 for its one result): its parameter, and about 215 bytes of envelope, addresses and one signature.
 */
export const callBytes = (call: { parameter: string }) => Math.ceil(call.parameter.length / 2) + 4 + 215 + 64;

/** One transaction the page is about to ask TronLink for: what it does and what TronLink's node estimates it burns. */
export interface TronCost {
  what: string;
  /** Energy (the node's `triggerconstantcontract` estimate); null when the node cannot estimate it yet. */
  energy: bigint | null;
  bytes: number;
}

/**
 * What a TRON account must hold in TRX to send `costs` in order: each call's energy at `getEnergyFee`, and its bytes
 * at `getTransactionFee` unless the free (600 bytes a day) or staked bandwidth left covers them (java-tron uses
 * one or the other for all of a transaction's bytes).
 */
export function trxNeeded(costs: TronCost[], energyFee: bigint, byteFee: bigint, free: number, staked: number): bigint {
  let total = 0n;
  for (const c of costs) {
    total += (c.energy ?? 0n) * energyFee;
    if (c.bytes <= staked) staked -= c.bytes;
    else if (c.bytes <= free) free -= c.bytes;
    else total += BigInt(c.bytes) * byteFee;
  }
  return total;
}

/** Calldata as TronWeb's `rawParameter`: without the 4-byte selector and the 0x. */
export const rawParameter = (data: Hex): string => data.slice(10);

const word = (address: string) => (parseAnyAddress(address) ?? "").slice(2).toLowerCase().padStart(64, "0");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One TronLink account (`T…`), with what payments need of it. */
export class TronConnection implements Wallet {
  readonly kind = "tron" as const;
  readonly name = "TronLink";
  readonly where = "TronLink";
  get fee() {
    return { unit: "energy", none: t("tron.no_trx") };
  }

  constructor(
    private readonly tw: TronWebLike,
    /** `T…` */
    readonly account: string,
    /** The same account as 0x (what the API's session names). */
    readonly hex: Address,
  ) {}

  /** The chain id of TronLink's node (from its genesis block id), or null when it cannot be read. */
  async network(): Promise<number | null> {
    try {
      const id = (await this.tw.trx.getBlockByNumber(0))?.blockID;
      return id && /^[0-9a-f]{64}$/i.test(id) ? parseInt(id.slice(-8), 16) : null;
    } catch {
      return null;
    }
  }

  /** A page cannot switch TronLink's node: on another network, the user is told to choose it in TronLink. */
  async ensureNetwork(chainId: number): Promise<void> {
    const have = await this.network();
    if (have !== null && have !== chainId) {
      throw new WalletError("unknown_chain", t("tron.wrong_network", { have: networkLabel(have), want: networkLabel(chainId) }));
    }
  }

  private tronOf(call: ApiCall): TronCall {
    if (!call.tron) throw new WalletError("other", t("tron.no_call"));
    return call.tron;
  }

  target(call: ApiCall): string {
    return this.tronOf(call).contract;
  }

  refusalOf(call: ApiCall): Promise<string | null> {
    return this.refusal(this.tronOf(call));
  }

  sendCall(call: ApiCall, what: string): Promise<string> {
    return this.send(this.tronOf(call), what);
  }

  /** TIP-191 `signMessageV2` of the sign-in text, as the API verifies it for chain "tron". */
  async signMessage(message: string): Promise<Hex> {
    try {
      return (await this.tw.trx.signMessageV2(message)) as Hex;
    } catch (e) {
      throw tronError(e, "signature");
    }
  }

  /** TIP-712 typed data through TronLink's `_signTypedData` (the domain's chain id masked, as the API gives it). */
  async signTypedData(typed: object): Promise<Hex> {
    const td = typed as { domain: object; types: Record<string, unknown>; message: object };
    const { EIP712Domain: _, ...types } = td.types;
    const sign = this.tw.trx._signTypedData;
    if (!sign) throw new WalletError("other", t("tron.no_typed_data"));
    try {
      return (await sign.call(this.tw.trx, td.domain, types, td.message)) as Hex;
    } catch (e) {
      throw tronError(e, "signature");
    }
  }

  /** TRX in SUN. */
  async nativeBalance(): Promise<bigint> {
    return BigInt(await this.tw.trx.getBalance(this.account));
  }

  /** A read-only call through TronLink's node: what it returns (hex, without 0x), or its refusal thrown. */
  private async constantResult(contract: string, selector: string, parameter: string): Promise<string> {
    const r = await this.tw.transactionBuilder.triggerConstantContract(contract, selector, { rawParameter: parameter }, [], this.account);
    if (!r?.result?.result || r.transaction?.ret?.[0]?.ret === "FAILED") throw new Error(readable(r?.result?.message));
    return r.constant_result?.[0] ?? "";
  }

  /** A read-only call through TronLink's node: its first result word, or its refusal thrown. */
  private async constant(contract: string, selector: string, parameter: string): Promise<bigint> {
    return BigInt(`0x${(await this.constantResult(contract, selector, parameter)) || "0"}`);
  }

  /** A read-only call through TronLink's node (`triggerConstantContract`, the calldata as `rawParameter`). */
  async view(contract: string, signature: string, data: Hex): Promise<Hex> {
    return `0x${await this.constantResult(contract, signature, rawParameter(data))}`;
  }

  tokenBalance(token: string): Promise<bigint> {
    return this.constant(token, "balanceOf(address)", word(this.account));
  }

  allowance(token: string, spender: string): Promise<bigint> {
    return this.constant(token, "allowance(address,address)", word(this.account) + word(spender));
  }

  /** Whether the contract has spent `nonce` (`isNonceUsed`): a payload that used it cannot execute again. */
  async nonceUsed(contract: string, nonce: string): Promise<boolean> {
    const data = encodeFunctionData({ abi: settlementIsNonceUsedAbi, functionName: "isNonceUsed", args: [BigInt(nonce)] });
    return (await this.constant(contract, settlementIsNonceUsedSignature, rawParameter(data))) !== 0n;
  }

  /** The node's energy estimate of `call` from this account; null when it would revert now (e.g. before its approval). */
  async energyOf(call: TronCall): Promise<bigint | null> {
    try {
      const r = await this.tw.transactionBuilder.triggerConstantContract(
        call.contract,
        call.function_selector,
        { rawParameter: call.parameter, callValue: Number(call.call_value ?? "0") },
        [],
        this.account,
      );
      if (!r?.result?.result || r.transaction?.ret?.[0]?.ret === "FAILED") return null;
      return BigInt(r.energy_used ?? 0);
    } catch {
      return null;
    }
  }

  /**
   * Before any TronLink prompt: whether this account can pay the network fees of `calls` (sent in this order), as
   * TronLink's node sees it — the account exists (TRON creates it with its first TRX; a wallet that only received
   * USDT cannot send anything), and its TRX covers each call's energy (the node's estimate × `getEnergyFee`) and
   * the bandwidth its free allowance does not. A call the node cannot estimate yet (the payment, before its
   * approval) is checked again before its own prompt. The problem in words with what to do, or null.
   */
  async feeProblem(sends: { what: string; call: ApiCall }[]): Promise<string | null> {
    const calls = sends.map(({ what, call }) => ({ what, call: this.tronOf(call) }));
    const [account, resources, parameters] = await Promise.all([
      this.tw.trx.getUnconfirmedAccount(this.account),
      this.tw.trx.getAccountResources(this.account),
      this.tw.trx.getChainParameters(),
    ]);
    const parameter = (key: string, otherwise: number) => BigInt(parameters.find((p) => p.key === key)?.value ?? otherwise);
    const costs: TronCost[] = [];
    for (const { what, call } of calls) costs.push({ what, energy: await this.energyOf(call), bytes: callBytes(call) });
    const free = (resources.freeNetLimit ?? 0) - (resources.freeNetUsed ?? 0);
    const staked = (resources.NetLimit ?? 0) - (resources.NetUsed ?? 0);
    const value = calls.reduce((sum, { call }) => sum + BigInt(call.call_value ?? "0"), 0n);
    const fees = trxNeeded(costs, parameter("getEnergyFee", 100), parameter("getTransactionFee", 1000), free, staked);
    const needed = fees + value;
    // What the node can estimate now is named; a call it cannot yet (the payment before its approval) is told apart.
    const known = costs.filter((c) => c.energy !== null).map((c) => c.what);
    const later = costs.filter((c) => c.energy === null).map((c) => c.what);
    const listed = known.length ? known : later;
    // "the approval and the payment", in the reader's language and list form.
    const list = (whats: string[]) => new Intl.ListFormat(formatLocale(), { type: "conjunction" }).format(whats.map(actionText));
    const named = list(listed);
    const count = listed.length;
    const about = trxText(needed);
    const more = known.length && later.length ? t("tron.fee_more", { calls: list(later) }) : "";
    if (!account?.address) {
      const needs = value ? t("tron.needs_with_value", { count, calls: named, amount: about }) : t("tron.needs_fees", { count, calls: named, amount: about });
      return t("tron.fee_inactive", { account: this.account, needs, more });
    }
    const balance = BigInt(account.balance ?? 0);
    if (balance < needed) {
      const needs = value
        ? t("tron.needs_split", { count, calls: named, amount: about, value: trxText(value), fees: trxText(fees) })
        : t("tron.needs_burnt", { count, calls: named, amount: about });
      return t("tron.fee_short", { balance: trxText(balance), needs, more, missing: trxText(needed - balance) });
    }
    return null;
  }

  /** Whether the call would succeed now: the node's refusal, or null. */
  async refusal(call: TronCall): Promise<string | null> {
    try {
      await this.constant(call.contract, call.function_selector, call.parameter);
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  /**
   * Builds the call with TronLink (`triggerSmartContract`), has the user sign it (`trx.sign`, TronLink's prompt)
   * and broadcasts it (`sendRawTransaction`); the txid the network answers.
   */
  async send(call: TronCall, what: string): Promise<string> {
    try {
      const built = await this.tw.transactionBuilder.triggerSmartContract(
        call.contract,
        call.function_selector,
        { feeLimit: call.fee_limit, callValue: Number(call.call_value ?? "0"), rawParameter: call.parameter },
        [],
        this.account,
      );
      if (!built?.result?.result || !built.transaction) {
        throw new WalletError("other", t("tron.build_failed", { what: actionText(what), detail: readable(built?.result?.message) }));
      }
      const signed = await this.tw.trx.sign(built.transaction);
      const sent = await this.tw.trx.sendRawTransaction(signed);
      if (!sent?.result) {
        throw new WalletError("other", t("tron.refused", { what: actionText(what), detail: `${sent?.code ?? ""} ${readable(sent?.message)}`.trim() }));
      }
      return sent.txid ?? signed.txID;
    } catch (e) {
      throw tronError(e, what);
    }
  }

  /** The block it was mined in (polled every second, for up to 3 minutes); a failed one throws `reverted`. */
  async mined(txid: string): Promise<{ blockNumber: bigint }> {
    const until = Date.now() + 180_000;
    while (Date.now() < until) {
      const info = await this.tw.trx.getTransactionInfo(txid).catch(() => null);
      if (info?.blockNumber !== undefined) {
        const blockNumber = BigInt(info.blockNumber);
        if (info.result === "FAILED" || (info.receipt?.result && info.receipt.result !== "SUCCESS")) {
          const detail = `${info.receipt?.result ?? info.result}${info.resMessage ? `: ${readable(info.resMessage)}` : ""}`;
          throw new WalletError("reverted", t("tron.reverted", { hash: txid, block: String(blockNumber), detail }));
        }
        return { blockNumber };
      }
      await sleep(1000);
    }
    throw new WalletError("other", t("tron.not_mined", { hash: txid }));
  }

  async blockNumber(): Promise<bigint> {
    return BigInt((await this.tw.trx.getCurrentBlock())?.block_header?.raw_data?.number ?? 0);
  }
}

export type AnyConnection = Connection | TronConnection;

function fromDefault(tw: TronWebLike | undefined): TronConnection | null {
  const base58 = tw?.defaultAddress?.base58;
  const hex = base58 ? fromTronAddress(base58) : null;
  return tw && base58 && hex ? new TronConnection(tw, base58, hex) : null;
}

/** The TronLink account this site may already use (no prompt), or null. */
export const quietTronLink = (): TronConnection | null => (tronWeb()?.ready === false ? null : fromDefault(tronWeb()));

/** Asks TronLink for the account (its own consent prompt): missing, rejected and locked are told apart. */
export async function connectTronLink(): Promise<TronConnection> {
  if (!tronLinkPresent()) throw new WalletError("no_wallet", t("tron.not_found"));
  const tl = tronLink();
  if (tl?.request) {
    let answer: unknown;
    try {
      answer = await tl.request({ method: "tron_requestAccounts" });
    } catch (e) {
      throw tronError(e, "connection request");
    }
    const code = (answer as { code?: number } | null)?.code;
    if (code === 4001) throw new WalletError("rejected", t("tron.rejected_connection"));
    if (code === 4000) throw new WalletError("other", t("tron.already_asking"));
  }
  const c = fromDefault(tronWeb());
  if (!c) throw new WalletError("locked", t("tron.locked"));
  return c;
}
