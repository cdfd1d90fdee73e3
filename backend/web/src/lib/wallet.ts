// EVM wallets through the standard interfaces only: EIP-6963 discovery (several extensions side by side), the
// legacy injected `window.ethereum` as a fallback, and EIP-1193 requests. The chain is read through the wallet
// too, so the page never talks to an RPC node itself (the CSP's connect-src stays 'self').

import {
  type Address,
  type EIP1193Provider,
  type Hex,
  encodeFunctionData,
  erc20Abi,
  getAddress,
  hexToBigInt,
  stringToHex,
  toHex,
} from "viem";
import { addChainParameters, networkLabel } from "./networks";
import { settlementIsNonceUsedAbi } from "../generated/contracts";
import type { ApiCall, Wallet } from "./any-wallet";
import { t } from "../i18n";

export interface WalletInfo {
  uuid: string;
  name: string;
  icon: string;
  rdns: string;
}

export interface DiscoveredWallet {
  info: WalletInfo;
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

/** Asks extensions to announce themselves (they also announce on their own at load). */
export function discover(onChange: () => void): () => void {
  discoveryListeners.add(onChange);
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  return () => discoveryListeners.delete(onChange);
}

/** Every wallet found: EIP-6963 announcements, else the injected `window.ethereum`. */
export function wallets(): DiscoveredWallet[] {
  const list = [...discovered.values()];
  const injected = (window as Window & { ethereum?: EIP1193Provider }).ethereum;
  if (list.length === 0 && injected) {
    list.push({ info: { uuid: "injected", name: t("wallet.browser_wallet"), icon: "", rdns: "injected" }, provider: injected });
  }
  return list;
}

/**
 * What went wrong, in words a user can act on, in the reader's language (made when it went wrong: the page shows it at
 * once); `kind` lets a page offer the right next step.
 */
export class WalletError extends Error {
  constructor(
    readonly kind: "rejected" | "unknown_chain" | "insufficient_funds" | "no_wallet" | "locked" | "reverted" | "other",
    message: string,
  ) {
    super(message);
  }
}

/**
 * What a wallet was asked for, as a sentence names it ("the transaction"), in the reader's language: the actions the
 * pages ask for by their English name; any other text (already a phrase of the reader's) as it is.
 */
export function actionText(what: string): string {
  switch (what) {
    case "transaction":
      return t("wallet.what_transaction");
    case "payment":
      return t("wallet.what_payment");
    case "approval":
      return t("wallet.what_approval");
    case "claim":
      return t("wallet.what_claim");
    case "signature":
      return t("wallet.what_signature");
    case "connection request":
      return t("wallet.what_connection");
    case "network switch":
      return t("wallet.what_network_switch");
    case "refund":
      return t("wallet.what_refund");
    case "treasury transfer":
      return t("wallet.what_treasury_transfer");
    default:
      return what;
  }
}

/** Maps a provider error to a [`WalletError`]; `what` as [`actionText`] takes it. */
export function walletError(e: unknown, what: string): WalletError {
  if (e instanceof WalletError) return e;
  const err = e as { code?: number; cause?: { code?: number }; message?: string; shortMessage?: string };
  const code = err?.code ?? err?.cause?.code;
  const text = `${err?.shortMessage ?? ""} ${err?.message ?? ""}`;
  if (code === 4001 || /user rejected|user denied/i.test(text)) {
    return new WalletError("rejected", t("wallet.rejected", { what: actionText(what) }));
  }
  if (code === 4902) return new WalletError("unknown_chain", t("wallet.unknown_network"));
  if (/insufficient funds/i.test(text)) {
    return new WalletError("insufficient_funds", t("wallet.insufficient", { what: actionText(what) }));
  }
  // The wallet's own words, as they are.
  return new WalletError("other", t("wallet.failed", { what: actionText(what), detail: err?.shortMessage ?? err?.message ?? String(e) }));
}

/**
 * localStorage: a WalletConnect session was opened in this browser (`lib/walletconnect.ts`, loaded only when asked);
 * a reload restores it only then, so a page that never used WalletConnect loads none of it. (Not named with
 * "walletconnect", "wc@" or "wc_": the client's storage moves such keys out of localStorage into its IndexedDB.)
 */
export const WALLETCONNECT_SESSION = "referral:wc-session";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One connected wallet account. Requests go straight to the EIP-1193 provider (viem only encodes and
 * decodes), which keeps viem's client machinery out of the page.
 */
export class Connection implements Wallet {
  readonly kind = "evm" as const;
  readonly where = "your wallet";
  get fee() {
    return { unit: "gas", none: t("wallet.no_gas") };
  }

  constructor(
    readonly provider: EIP1193Provider,
    readonly account: Address,
    readonly name: string,
  ) {}

  /** The 20-byte account as 0x (what the API's session names). */
  get hex(): Address {
    return this.account;
  }

  private request<T>(method: string, params?: unknown[]): Promise<T> {
    return (this.provider.request as (a: { method: string; params?: unknown[] }) => Promise<T>)({ method, params });
  }

  async chainId(): Promise<number> {
    return Number(BigInt(await this.request<string>("eth_chainId")));
  }

  network(): Promise<number | null> {
    return this.chainId();
  }

  async ensureNetwork(chainId: number): Promise<void> {
    if ((await this.chainId()) !== chainId) await this.switchChain(chainId);
  }

  target(call: ApiCall): Address {
    return getAddress(call.transaction.to);
  }

  refusalOf(call: ApiCall): Promise<string | null> {
    return this.refusal(call.transaction);
  }

  sendCall(call: ApiCall, what: string): Promise<Hex> {
    return this.send(call.transaction, what);
  }

  /**
   * Switches the wallet to the chain; a wallet that does not know it (4902) is asked to add it, with the name,
   * native coin, public RPC and explorer the API configures for it (EIP-3085), then to switch.
   */
  async switchChain(chainId: number) {
    try {
      await this.request("wallet_switchEthereumChain", [{ chainId: toHex(chainId) }]);
      return;
    } catch (e) {
      const err = walletError(e, "network switch");
      if (err.kind !== "unknown_chain") throw err;
      const add = await addChainParameters(chainId);
      if (!add) throw new WalletError("unknown_chain", t("wallet.add_network", { network: networkLabel(chainId) }));
      try {
        await this.request("wallet_addEthereumChain", [add]);
        if ((await this.chainId()) !== chainId) await this.request("wallet_switchEthereumChain", [{ chainId: toHex(chainId) }]);
      } catch (e2) {
        throw walletError(e2, t("wallet.what_add_network", { network: networkLabel(chainId) }));
      }
    }
  }

  /** `personal_sign` of a text message (EIP-191), as the sign-in message asks. */
  async signMessage(message: string): Promise<Hex> {
    try {
      return await this.request<Hex>("personal_sign", [stringToHex(message), this.account]);
    } catch (e) {
      throw walletError(e, "signature");
    }
  }

  async signTypedData(typed: object): Promise<Hex> {
    try {
      return await this.request<Hex>("eth_signTypedData_v4", [this.account, JSON.stringify(typed)]);
    } catch (e) {
      throw walletError(e, "signature");
    }
  }

  async nativeBalance(): Promise<bigint> {
    return hexToBigInt(await this.request<Hex>("eth_getBalance", [this.account, "latest"]));
  }

  /** An ERC-20 view returning one uint256. */
  private async uintCall(token: Address, data: Hex): Promise<bigint> {
    return hexToBigInt(await this.request<Hex>("eth_call", [{ to: token, data }, "latest"]));
  }

  tokenBalance(token: Address): Promise<bigint> {
    return this.uintCall(token, encodeFunctionData({ abi: erc20Abi, functionName: "balanceOf", args: [this.account] }));
  }

  allowance(token: Address, spender: Address): Promise<bigint> {
    return this.uintCall(token, encodeFunctionData({ abi: erc20Abi, functionName: "allowance", args: [this.account, spender] }));
  }

  /** Sends a transaction from this account; the wallet fills gas and nonce. */
  async send(tx: { to: string; value?: string | bigint; data?: string }, what: string): Promise<Hex> {
    const value = tx.value === undefined ? 0n : BigInt(tx.value);
    try {
      return await this.request<Hex>("eth_sendTransaction", [
        { from: this.account, to: getAddress(tx.to), value: toHex(value), ...(tx.data ? { data: tx.data } : {}) },
      ]);
    } catch (e) {
      throw walletError(e, what);
    }
  }

  /** Whether the call would succeed now (`eth_call` from this account): the node's refusal, or null. */
  async refusal(tx: { to: string; data: string }): Promise<string | null> {
    try {
      await this.request("eth_call", [{ from: this.account, to: getAddress(tx.to), data: tx.data }, "latest"]);
      return null;
    } catch (e) {
      const err = e as { shortMessage?: string; message?: string };
      return err?.shortMessage ?? err?.message ?? String(e);
    }
  }

  /** Whether the contract has spent `nonce` (`isNonceUsed`): a payload that used it cannot execute again. */
  async nonceUsed(contract: string, nonce: string): Promise<boolean> {
    const data = encodeFunctionData({ abi: settlementIsNonceUsedAbi, functionName: "isNonceUsed", args: [BigInt(nonce)] });
    return (await this.uintCall(getAddress(contract), data)) !== 0n;
  }

  /** A read-only call through the wallet (`eth_call` at the latest block): the bytes it returns. */
  view(contract: string, _signature: string, data: Hex): Promise<Hex> {
    return this.request<Hex>("eth_call", [{ to: getAddress(contract), data }, "latest"]);
  }

  approve(token: Address, spender: Address, amount: bigint): Promise<Hex> {
    const data = encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [spender, amount] });
    return this.send({ to: token, data }, "approval");
  }

  /** The receipt once mined (polled every half second, for up to 3 minutes); a failed one throws `reverted`. */
  async mined(hash: Hex): Promise<{ blockNumber: bigint }> {
    const until = Date.now() + 180_000;
    while (Date.now() < until) {
      const receipt = await this.request<{ status: Hex; blockNumber: Hex } | null>("eth_getTransactionReceipt", [hash]);
      if (receipt?.blockNumber) {
        const blockNumber = hexToBigInt(receipt.blockNumber);
        if (receipt.status !== "0x1") {
          throw new WalletError("reverted", t("wallet.reverted", { hash, block: String(blockNumber) }));
        }
        return { blockNumber };
      }
      await sleep(500);
    }
    throw new WalletError("other", t("wallet.not_mined", { hash }));
  }

  async blockNumber(): Promise<bigint> {
    return hexToBigInt(await this.request<Hex>("eth_blockNumber"));
  }
}

/** Asks the wallet for its accounts (the wallet shows its own consent prompt). */
export async function connect(w: DiscoveredWallet): Promise<Connection> {
  let accounts: string[];
  try {
    accounts = (await w.provider.request({ method: "eth_requestAccounts" })) as string[];
  } catch (e) {
    throw walletError(e, "connection request");
  }
  if (!accounts?.length) throw new WalletError("no_wallet", t("wallet.no_account"));
  return new Connection(w.provider, getAddress(accounts[0]), w.info.name);
}
