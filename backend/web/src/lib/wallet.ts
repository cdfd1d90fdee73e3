// EVM wallets through the standard interfaces only: EIP-6963 discovery (several extensions side by side), the
// legacy injected `window.ethereum` as a fallback, and EIP-1193 requests. The chain is read through the wallet
// too, so the page never talks to an RPC node itself (the CSP's connect-src stays 'self').

import { type Address, type EIP1193Provider, type Hex, createClient, custom, encodeFunctionData, erc20Abi, getAddress } from "viem";
// Single actions on a bare client, not the `createPublicClient` bundle of every action: a much smaller page.
import {
  getBalance,
  getBlockNumber,
  readContract,
  sendTransaction,
  signMessage,
  waitForTransactionReceipt,
} from "viem/actions";

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
    list.push({ info: { uuid: "injected", name: "Browser wallet", icon: "", rdns: "injected" }, provider: injected });
  }
  return list;
}

/** What went wrong, in words a user can act on; `code` is the EIP-1193 / JSON-RPC code when there is one. */
export class WalletError extends Error {
  constructor(
    readonly kind: "rejected" | "unknown_chain" | "insufficient_funds" | "no_wallet" | "reverted" | "other",
    message: string,
  ) {
    super(message);
  }
}

/** Maps a provider error to a [`WalletError`]. */
export function walletError(e: unknown, what: string): WalletError {
  if (e instanceof WalletError) return e;
  const err = e as { code?: number; cause?: { code?: number }; message?: string; shortMessage?: string };
  const code = err?.code ?? err?.cause?.code;
  const text = `${err?.shortMessage ?? ""} ${err?.message ?? ""}`;
  if (code === 4001 || /user rejected|user denied/i.test(text)) {
    return new WalletError("rejected", `You rejected the ${what} in your wallet. Nothing was sent.`);
  }
  if (code === 4902) return new WalletError("unknown_chain", "Your wallet does not know this network yet.");
  if (/insufficient funds/i.test(text)) {
    return new WalletError("insufficient_funds", `Your balance is too low for the ${what} and its gas.`);
  }
  return new WalletError("other", `The ${what} failed: ${err?.shortMessage ?? err?.message ?? String(e)}`);
}

/** One connected wallet account. */
export class Connection {
  readonly client;

  constructor(
    readonly provider: EIP1193Provider,
    readonly account: Address,
    readonly name: string,
  ) {
    this.client = createClient({ account, transport: custom(provider), pollingInterval: 500 });
  }

  async chainId(): Promise<number> {
    return Number(BigInt(await this.provider.request({ method: "eth_chainId" })));
  }

  async switchChain(chainId: number) {
    try {
      await this.provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: `0x${chainId.toString(16)}` }] });
    } catch (e) {
      throw walletError(e, "network switch");
    }
  }

  /** `personal_sign` of a text message (EIP-191), as the sign-in message asks. */
  async signMessage(message: string): Promise<Hex> {
    try {
      return await signMessage(this.client, { account: this.account, message });
    } catch (e) {
      throw walletError(e, "signature");
    }
  }

  async nativeBalance(): Promise<bigint> {
    return getBalance(this.client, { address: this.account });
  }

  async tokenBalance(token: Address): Promise<bigint> {
    return readContract(this.client, { address: token, abi: erc20Abi, functionName: "balanceOf", args: [this.account] });
  }

  async allowance(token: Address, spender: Address): Promise<bigint> {
    return readContract(this.client, {
      address: token,
      abi: erc20Abi,
      functionName: "allowance",
      args: [this.account, spender],
    });
  }

  /** Sends a transaction from this account; the wallet fills gas and nonce. */
  async send(tx: { to: string; value?: string | bigint; data?: string }, what: string): Promise<Hex> {
    try {
      return await sendTransaction(this.client, {
        account: this.account,
        chain: null,
        to: getAddress(tx.to),
        value: tx.value === undefined ? 0n : BigInt(tx.value),
        data: tx.data as Hex | undefined,
      });
    } catch (e) {
      throw walletError(e, what);
    }
  }

  approve(token: Address, spender: Address, amount: bigint): Promise<Hex> {
    const data = encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [spender, amount] });
    return this.send({ to: token, data }, "approval");
  }

  /** The receipt once mined; throws a `reverted` [`WalletError`] for a failed transaction. */
  async mined(hash: Hex): Promise<{ blockNumber: bigint }> {
    const receipt = await waitForTransactionReceipt(this.client, { hash, pollingInterval: 500, timeout: 180_000 });
    if (receipt.status !== "success") {
      throw new WalletError("reverted", `The transaction ${hash} was mined in block ${receipt.blockNumber} but reverted.`);
    }
    return receipt;
  }

  blockNumber(): Promise<bigint> {
    return getBlockNumber(this.client, { cacheTime: 0 });
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
  if (!accounts?.length) throw new WalletError("no_wallet", "The wallet offered no account.");
  return new Connection(w.provider, getAddress(accounts[0]), w.info.name);
}
