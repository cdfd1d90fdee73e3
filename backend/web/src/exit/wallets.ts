// The exit page's two wallets, after the dApp's (lib/wallet.ts, lib/tron.ts, lib/any-wallet.ts) but on their own: the
// page is one self-contained file that must never load the dApp's API client (lib/api.ts), so it reads and sends ONLY
// through the member's wallet — an EIP-1193 wallet (EIP-6963 discovery, else `window.ethereum`: `eth_call`,
// `eth_getLogs`, `eth_getTransactionByHash`, `eth_sendTransaction`, receipts, blocks) or TronLink (its injected
// TronWeb: `triggerConstantContract`, `triggerSmartContract` → `trx.sign` → `trx.sendRawTransaction`, transaction
// infos, `trx.getTransaction`, blocks, and its event server's `event.getEventsByContractAddress` to find the payout
// batches since the commitment). No node, API or host of anyone's is asked by the page itself.

import { type Address, type EIP1193Provider, type Hex, getAddress, hexToBigInt, toHex } from "viem";
import { t } from "../i18n/exit";
import { fromTronAddress, toTronAddress } from "../lib/tron-address";
import { revertDataOf } from "./logic.js";

/** A call the contract refused: its revert data when the wallet passed it on. */
export class Reverted extends Error {
  constructor(
    message: string,
    readonly data: Hex | null,
  ) {
    super(message);
  }
}

/** The user declined in the wallet (nothing was sent), or another wallet failure, in words. */
export class WalletProblem extends Error {
  constructor(
    message: string,
    readonly rejected = false,
  ) {
    super(message);
  }
}

/** A log of the chain as the page reads it. */
export interface ChainLog {
  topics: string[];
  data: string;
  blockNumber: bigint;
  /** Its index in the block; null when the wallet's node does not tell it (TronLink's transaction infos). */
  logIndex: number | null;
  txid: string;
}

export interface ExitWallet {
  readonly kind: "evm" | "tron";
  readonly name: string;
  /** The account in its chain's form (0x EIP-55, `T…`). */
  readonly account: string;
  /** The same account, 0x. */
  readonly hex: Address;
  /** The chain the wallet is on (an EVM chain id; a TRON network's id from its genesis block), null if unknown. */
  network(): Promise<number | null>;
  /** A read-only call from this account at the latest block: what it returns; a refusal throws `Reverted`. */
  call(contract: Address, signature: string, data: Hex): Promise<Hex>;
  /** Has the user sign and send the call (after the page's own dry run); the transaction's id. */
  send(contract: Address, signature: string, data: Hex, what: string): Promise<string>;
  /** The block `id` was mined in (polled); a failed transaction throws `Reverted`. */
  mined(id: string): Promise<{ blockNumber: bigint }>;
  /** The latest block's number and time (unix seconds): the chain's clock. */
  clock(): Promise<{ block: bigint; time: bigint }>;
  /** Block `n`'s time (unix seconds). */
  blockTime(n: bigint): Promise<bigint>;
  /**
   * The logs of `contract`'s event `eventName` (its `topic`) with `token` as its second indexed field, in blocks
   * [from, to] (`fromTime`: block `from`'s time, for a wallet that finds events by time).
   */
  tokenLogs(contract: Address, topic: Hex, eventName: string, token: Address, from: bigint, to: bigint, fromTime: bigint): Promise<ChainLog[]>;
  /** A transaction's calldata. */
  input(txid: string): Promise<Hex>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const word = (a: string) => `0x${a.slice(2).toLowerCase().padStart(64, "0")}` as Hex;

// ── EIP-1193 ────────────────────────────────────────────────────────────────────────────────────────────────────────

export interface DiscoveredWallet {
  info: { uuid: string; name: string; icon: string; rdns: string };
  provider: EIP1193Provider;
}

const discovered = new Map<string, DiscoveredWallet>();
const discoveryListeners = new Set<() => void>();
window.addEventListener("eip6963:announceProvider", ((e: CustomEvent<DiscoveredWallet>) => {
  const d = e.detail;
  if (!d?.info?.uuid || !d.provider) return;
  discovered.set(d.info.uuid, d);
  for (const l of discoveryListeners) l();
}) as EventListener);

/** Asks extensions to announce themselves (EIP-6963); `onChange` on each announcement. */
export function discoverWallets(onChange: () => void): () => void {
  discoveryListeners.add(onChange);
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  return () => discoveryListeners.delete(onChange);
}

/** Every EVM wallet found: EIP-6963 announcements, else the injected `window.ethereum`. */
export function evmWallets(): DiscoveredWallet[] {
  const list = [...discovered.values()];
  const injected = (window as Window & { ethereum?: EIP1193Provider }).ethereum;
  if (list.length === 0 && injected) list.push({ info: { uuid: "injected", name: t("exw.browser_wallet"), icon: "", rdns: "injected" }, provider: injected });
  return list;
}

/** A wallet's refusal in words (`what`: "the exit", "the read"… in the page's language). */
function evmProblem(e: unknown, what: string): Error {
  if (e instanceof Reverted || e instanceof WalletProblem) return e;
  const err = e as { code?: number; message?: string };
  const text = err?.message ?? String(e);
  if (err?.code === 4001 || /user rejected|user denied/i.test(text)) return new WalletProblem(t("exw.rejected", { what }), true);
  if (/insufficient funds/i.test(text)) return new WalletProblem(t("exw.no_gas", { what }));
  return new WalletProblem(t("exw.failed", { what: cap(what), error: text }));
}

/** A phrase that opens a sentence, its first letter in capitals (none where the script has none). */
const cap = (s: string) => s.charAt(0).toLocaleUpperCase(document.documentElement.lang || undefined) + s.slice(1);

export class EvmExitWallet implements ExitWallet {
  readonly kind = "evm" as const;
  constructor(
    readonly provider: EIP1193Provider,
    readonly hex: Address,
    readonly name: string,
  ) {}

  get account(): string {
    return this.hex;
  }

  private request<T>(method: string, params?: unknown[]): Promise<T> {
    return (this.provider.request as (a: { method: string; params?: unknown[] }) => Promise<T>)({ method, params });
  }

  async network(): Promise<number | null> {
    try {
      return Number(BigInt(await this.request<string>("eth_chainId")));
    } catch {
      return null;
    }
  }

  async call(contract: Address, _signature: string, data: Hex): Promise<Hex> {
    try {
      return await this.request<Hex>("eth_call", [{ from: this.hex, to: contract, data }, "latest"]);
    } catch (e) {
      const message = (e as { message?: string })?.message ?? String(e);
      const revert = revertDataOf(e);
      if (revert || /revert/i.test(message)) throw new Reverted(message, revert);
      throw evmProblem(e, t("exw.what_read"));
    }
  }

  async send(contract: Address, _signature: string, data: Hex, what: string): Promise<string> {
    try {
      return await this.request<Hex>("eth_sendTransaction", [{ from: this.hex, to: contract, value: "0x0", data }]);
    } catch (e) {
      throw evmProblem(e, what);
    }
  }

  async mined(id: string): Promise<{ blockNumber: bigint }> {
    for (;;) {
      const r = await this.request<{ status: Hex; blockNumber: Hex } | null>("eth_getTransactionReceipt", [id]);
      if (r?.blockNumber) {
        const blockNumber = hexToBigInt(r.blockNumber);
        if (r.status !== "0x1") throw new Reverted(t("exw.reverted", { id, block: blockNumber.toString() }), null);
        return { blockNumber };
      }
      await sleep(500);
    }
  }

  async clock(): Promise<{ block: bigint; time: bigint }> {
    const b = await this.request<{ number?: Hex; timestamp?: Hex } | null>("eth_getBlockByNumber", ["latest", false]);
    if (!b?.number || !b.timestamp) throw new WalletProblem(t("exw.no_latest_block", { wallet: this.name }));
    return { block: BigInt(b.number), time: BigInt(b.timestamp) };
  }

  async blockTime(n: bigint): Promise<bigint> {
    const b = await this.request<{ timestamp?: Hex } | null>("eth_getBlockByNumber", [toHex(n), false]);
    if (!b?.timestamp) throw new WalletProblem(t("exw.no_block", { wallet: this.name, block: n.toString() }));
    return BigInt(b.timestamp);
  }

  /** `eth_getLogs` through the wallet, in ranges it accepts (halved on a refusal: nodes cap a query's blocks). */
  async tokenLogs(contract: Address, topic: Hex, _eventName: string, token: Address, from: bigint, to: bigint): Promise<ChainLog[]> {
    const out: ChainLog[] = [];
    let span = to - from + 1n;
    for (let start = from; start <= to; ) {
      const end = start + span - 1n > to ? to : start + span - 1n;
      let logs: { topics: string[]; data: string; blockNumber: Hex; logIndex: Hex; transactionHash: string }[];
      try {
        logs = await this.request("eth_getLogs", [{ address: contract, topics: [topic, null, word(token)], fromBlock: toHex(start), toBlock: toHex(end) }]);
      } catch (e) {
        if (span > 1n) {
          span = span / 2n;
          continue;
        }
        throw evmProblem(e, t("exw.what_read_batches"));
      }
      for (const l of logs) out.push({ topics: l.topics, data: l.data, blockNumber: BigInt(l.blockNumber), logIndex: Number(BigInt(l.logIndex)), txid: l.transactionHash });
      start = end + 1n;
    }
    return out;
  }

  async input(txid: string): Promise<Hex> {
    const tr = await this.request<{ input?: Hex } | null>("eth_getTransactionByHash", [txid]);
    if (!tr?.input) throw new WalletProblem(t("exw.unknown_tx", { wallet: this.name, tx: txid }));
    return tr.input;
  }
}

/** Asks the wallet for its accounts (its own consent prompt). */
export async function connectEvm(w: DiscoveredWallet): Promise<EvmExitWallet> {
  let accounts: string[];
  try {
    accounts = (await w.provider.request({ method: "eth_requestAccounts" })) as string[];
  } catch (e) {
    throw evmProblem(e, t("exw.what_connection"));
  }
  if (!accounts?.length) throw new WalletProblem(t("exw.no_account"));
  return new EvmExitWallet(w.provider, getAddress(accounts[0]), w.info.name);
}

// ── TronLink ────────────────────────────────────────────────────────────────────────────────────────────────────────

interface TronTx {
  txID: string;
  [k: string]: unknown;
}
interface TronConstant {
  result?: { result?: boolean; code?: string; message?: string };
  constant_result?: string[];
  energy_used?: number;
  transaction?: { ret?: { ret?: string }[] };
}
interface TronInfo {
  blockNumber?: number;
  result?: string;
  receipt?: { result?: string };
  resMessage?: string;
  contractResult?: string[];
  log?: { address?: string; topics?: string[]; data?: string }[];
}
interface TronEvents {
  data?: { transaction_id?: string; block_number?: number }[];
  meta?: { fingerprint?: string };
}
interface TronWebLike {
  ready?: boolean;
  defaultAddress?: { base58?: string | false };
  trx: {
    sign(tx: TronTx): Promise<TronTx>;
    sendRawTransaction(tx: TronTx): Promise<{ result?: boolean; txid?: string; code?: string; message?: string }>;
    getTransactionInfo(txid: string): Promise<TronInfo>;
    getTransaction(txid: string): Promise<{ raw_data?: { contract?: { parameter?: { value?: { data?: string } } }[] } }>;
    getCurrentBlock(): Promise<{ block_header?: { raw_data?: { number?: number; timestamp?: number } } }>;
    getBlockByNumber(n: number): Promise<{ blockID?: string; block_header?: { raw_data?: { number?: number; timestamp?: number } } }>;
    getChainParameters(): Promise<{ key: string; value?: number }[]>;
  };
  transactionBuilder: {
    triggerSmartContract(
      contract: string,
      selector: string,
      options: Record<string, unknown>,
      parameters: unknown[],
      issuer: string,
    ): Promise<{ result?: { result?: boolean; message?: string }; transaction?: TronTx }>;
    triggerConstantContract(contract: string, selector: string, options: Record<string, unknown>, parameters: unknown[], issuer: string): Promise<TronConstant>;
  };
  event?: { getEventsByContractAddress(contract: string, options: Record<string, unknown>): Promise<TronEvents> };
}
interface TronLinkLike {
  tronWeb?: TronWebLike | false;
  request?(args: { method: string }): Promise<unknown>;
}
type TronWindow = Window & { tronLink?: TronLinkLike; tronWeb?: TronWebLike };

const tronLink = () => (window as TronWindow).tronLink;
const injectedTronWeb = (): TronWebLike | undefined => tronLink()?.tronWeb || (window as TronWindow).tronWeb || undefined;

/** Whether TronLink (or a wallet with its interface) is in the page. */
export const tronLinkPresent = () => !!(tronLink() || injectedTronWeb());

/** Text TRON nodes give hex-encoded (their messages), readable. */
function readable(message: string | undefined): string {
  if (!message) return "no reason given";
  if (/^(0x)?([0-9a-f]{2})+$/i.test(message)) {
    try {
      const bytes = (message.replace(/^0x/, "").match(/../g) ?? []).map((b) => parseInt(b, 16));
      return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      return message;
    }
  }
  return message;
}

function tronProblem(e: unknown, what: string): Error {
  if (e instanceof Reverted || e instanceof WalletProblem) return e;
  const text = typeof e === "string" ? e : ((e as { message?: string })?.message ?? String(e));
  if (/declined|rejected|denied|cancel/i.test(text)) return new WalletProblem(t("exw.rejected_tron", { what }), true);
  if (/balance is not sufficient|insufficient|not enough/i.test(text)) return new WalletProblem(t("exw.no_energy", { what }));
  return new WalletProblem(t("exw.failed", { what: cap(what), error: text }));
}

const revertHex = (raw: string | undefined): Hex | null => (raw && /^([0-9a-f]{2}){4,}$/i.test(raw) ? (`0x${raw.toLowerCase()}` as Hex) : null);

export class TronExitWallet implements ExitWallet {
  readonly kind = "tron" as const;
  readonly name = "TronLink";
  constructor(
    private readonly tw: TronWebLike,
    readonly account: string,
    readonly hex: Address,
  ) {}

  async network(): Promise<number | null> {
    try {
      const id = (await this.tw.trx.getBlockByNumber(0))?.blockID;
      return id && /^[0-9a-f]{64}$/i.test(id) ? parseInt(id.slice(-8), 16) : null;
    } catch {
      return null;
    }
  }

  private constant(contract: Address, signature: string, data: Hex): Promise<TronConstant> {
    return this.tw.transactionBuilder.triggerConstantContract(toTronAddress(contract), signature, { rawParameter: data.slice(10) }, [], this.account);
  }

  async call(contract: Address, signature: string, data: Hex): Promise<Hex> {
    let r: TronConstant;
    try {
      r = await this.constant(contract, signature, data);
    } catch (e) {
      throw tronProblem(e, t("exw.what_read"));
    }
    // java-tron answers a refused constant call with the revert data as its constant result.
    if (!r?.result?.result || r.transaction?.ret?.[0]?.ret === "FAILED") throw new Reverted(readable(r?.result?.message), revertHex(r?.constant_result?.[0]));
    return `0x${r.constant_result?.[0] ?? ""}`;
  }

  /** The fee limit: twice the node's energy estimate at the chain's energy price, at least 50 TRX, at most the chain's cap. */
  private async feeLimit(contract: Address, signature: string, data: Hex): Promise<number> {
    const [estimate, parameters] = await Promise.all([
      this.constant(contract, signature, data).catch(() => null),
      this.tw.trx.getChainParameters().catch(() => [] as { key: string; value?: number }[]),
    ]);
    const parameter = (key: string, otherwise: number) => parameters.find((p) => p.key === key)?.value ?? otherwise;
    const limit = Math.max(50_000_000, 2 * (estimate?.energy_used ?? 0) * parameter("getEnergyFee", 420));
    return Math.min(limit, parameter("getMaxFeeLimit", 15_000_000_000));
  }

  async send(contract: Address, signature: string, data: Hex, what: string): Promise<string> {
    try {
      const feeLimit = await this.feeLimit(contract, signature, data);
      const built = await this.tw.transactionBuilder.triggerSmartContract(
        toTronAddress(contract),
        signature,
        { feeLimit, callValue: 0, rawParameter: data.slice(10) },
        [],
        this.account,
      );
      if (!built?.result?.result || !built.transaction) throw new WalletProblem(t("exw.not_built", { what, error: readable(built?.result?.message) }));
      const signed = await this.tw.trx.sign(built.transaction);
      const sent = await this.tw.trx.sendRawTransaction(signed);
      if (!sent?.result) throw new WalletProblem(t("exw.refused", { what, error: `${sent?.code ?? ""} ${readable(sent?.message)}`.trim() }));
      return sent.txid ?? signed.txID;
    } catch (e) {
      throw tronProblem(e, what);
    }
  }

  async mined(id: string): Promise<{ blockNumber: bigint }> {
    for (;;) {
      const info = await this.tw.trx.getTransactionInfo(id).catch(() => null);
      if (info?.blockNumber !== undefined) {
        const blockNumber = BigInt(info.blockNumber);
        if (info.result === "FAILED" || (info.receipt?.result && info.receipt.result !== "SUCCESS"))
          throw new Reverted(t("exw.failed_tron", { id, block: String(blockNumber), result: String(info.receipt?.result ?? info.result) }), revertHex(info.contractResult?.[0]));
        return { blockNumber };
      }
      await sleep(1000);
    }
  }

  async clock(): Promise<{ block: bigint; time: bigint }> {
    const raw = (await this.tw.trx.getCurrentBlock())?.block_header?.raw_data;
    if (raw?.number === undefined || raw.timestamp === undefined) throw new WalletProblem(t("exw.no_latest_block", { wallet: "TronLink" }));
    return { block: BigInt(raw.number), time: BigInt(Math.floor(raw.timestamp / 1000)) };
  }

  async blockTime(n: bigint): Promise<bigint> {
    const raw = (await this.tw.trx.getBlockByNumber(Number(n)))?.block_header?.raw_data;
    if (raw?.timestamp === undefined) throw new WalletProblem(t("exw.no_block", { wallet: "TronLink", block: n.toString() }));
    return BigInt(Math.floor(raw.timestamp / 1000));
  }

  /**
   * TronLink's event server (`event.getEventsByContractAddress`, TronGrid's `/v1/contracts/{address}/events`) names
   * the transactions of the event since `fromTime`; each one's logs are then read from its transaction info (its
   * node's), so that nothing of the event server's own decoding is trusted: only which transactions to look at.
   */
  async tokenLogs(contract: Address, topic: Hex, eventName: string, token: Address, from: bigint, to: bigint, fromTime: bigint): Promise<ChainLog[]> {
    if (!this.tw.event?.getEventsByContractAddress)
      throw new WalletProblem(t("exw.no_event_server"));
    const txids = new Set<string>();
    let fingerprint: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const r = await this.tw.event.getEventsByContractAddress(toTronAddress(contract), {
        eventName,
        minBlockTimestamp: Number(fromTime) * 1000,
        orderBy: "block_timestamp,asc",
        limit: 200,
        ...(fingerprint ? { fingerprint } : {}),
      });
      for (const e of r?.data ?? []) if (e.transaction_id) txids.add(e.transaction_id.replace(/^0x/, ""));
      fingerprint = r?.meta?.fingerprint;
      if (!fingerprint) break;
    }
    const out: ChainLog[] = [];
    for (const txid of txids) {
      const info = await this.tw.trx.getTransactionInfo(txid);
      if (info?.blockNumber === undefined) continue;
      const blockNumber = BigInt(info.blockNumber);
      if (blockNumber < from || blockNumber > to) continue;
      for (const l of info.log ?? []) {
        const address = `0x${(l.address ?? "").slice(-40)}`.toLowerCase();
        const topics = (l.topics ?? []).map((t) => `0x${t.replace(/^0x/, "")}`);
        if (address !== contract.toLowerCase() || topics[0]?.toLowerCase() !== topic.toLowerCase() || topics[2]?.toLowerCase() !== word(token)) continue;
        out.push({ topics, data: `0x${(l.data ?? "").replace(/^0x/, "")}`, blockNumber, logIndex: null, txid });
      }
    }
    return out;
  }

  async input(txid: string): Promise<Hex> {
    const data = (await this.tw.trx.getTransaction(txid))?.raw_data?.contract?.[0]?.parameter?.value?.data;
    if (!data) throw new WalletProblem(t("exw.unknown_tx_tron", { tx: txid }));
    return `0x${data.replace(/^0x/, "")}`;
  }
}

/** Asks TronLink for the account (its own consent prompt). */
export async function connectTron(): Promise<TronExitWallet> {
  if (!tronLinkPresent()) throw new WalletProblem(t("exw.no_tronlink"));
  const tl = tronLink();
  if (tl?.request) {
    let answer: unknown;
    try {
      answer = await tl.request({ method: "tron_requestAccounts" });
    } catch (e) {
      throw tronProblem(e, t("exw.what_connection"));
    }
    if ((answer as { code?: number } | null)?.code === 4001) throw new WalletProblem(t("exw.rejected_tron", { what: t("exw.what_connection") }), true);
  }
  const tw = injectedTronWeb();
  const base58 = tw?.defaultAddress?.base58;
  const hex = base58 ? fromTronAddress(base58) : null;
  if (!tw || !base58 || !hex) throw new WalletProblem(t("exw.tron_locked"));
  return new TronExitWallet(tw, base58, hex);
}
