// A test wallet with the interface a real browser extension offers: an EIP-1193 provider injected into the
// page (window.ethereum, and announced through EIP-6963) whose requests are answered here, in Node, by signing
// with one of anvil's well-known development keys and sending to anvil. Tests can make the user reject the
// next signature or transaction, put the wallet on another network, switch its account, or have it not know a
// network until the page adds it (wallet_addEthereumChain). Listeners are kept in Sets, as real extensions keep
// them (a listener added while an event is delivered is called for that event too), and counted.
import { createWalletClient, defineChain, http, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const INJECTED = `(() => {
  const listeners = {};
  const provider = {
    isTestWallet: true,
    async request({ method, params }) {
      const answer = await window.__testWalletRequest(method, params ?? []);
      if (answer.error) {
        const e = new Error(answer.error.message);
        e.code = answer.error.code;
        // A node's revert data, passed on as MetaMask passes it (error.data).
        if (answer.error.data !== undefined) e.data = answer.error.data;
        throw e;
      }
      return answer.result;
    },
    on(event, f) { (listeners[event] ??= new Set()).add(f); return provider; },
    removeListener(event, f) { listeners[event]?.delete(f); return provider; },
  };
  window.__testWalletEmit = (event, data) => listeners[event]?.forEach((f) => f(data));
  window.__testWalletListeners = () => Object.fromEntries(Object.entries(listeners).map(([e, l]) => [e, l.size]));
  const info = Object.freeze({ uuid: "6f1c1d2e-0000-4000-8000-7e57a11e7000", name: "Test Wallet",
    icon: "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'/%3E", rdns: "dev.referral.testwallet" });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  window.ethereum = provider;
  announce();
})();`;

export class TestWallet {
  /** @param {{ key: `0x${string}`, rpcUrl: string, chainId: number, walletChainId?: number, unknownChains?: number[] }} o */
  constructor(o) {
    this.rpcUrl = o.rpcUrl;
    /** Networks the wallet answers 4902 for until the page adds them; what the page asked to add. */
    this.unknownChains = new Set(o.unknownChains ?? []);
    this.added = [];
    this.realChainId = o.chainId;
    this.useKey(o.key);
    /** The network the wallet says it is on (a test may start it on another one). */
    this.chainId = o.walletChainId ?? o.chainId;
    this.connected = false;
    this.rejectNextSignature = false;
    /** Every typed data the page had signed (`eth_signTypedData_v4`), in order. */
    this.typedSigned = [];
    this.rejectNextTransaction = false;
    /** Every request the page made, in order (method names). */
    this.log = [];
    this.pages = new Set();
  }

  useKey(key) {
    this.account = privateKeyToAccount(key);
    this.address = this.account.address;
    const chain = defineChain({
      id: this.realChainId,
      name: "anvil",
      nativeCurrency: { name: "BNB", symbol: "BNB", decimals: 18 },
      rpcUrls: { default: { http: [this.rpcUrl] } },
    });
    this.client = createWalletClient({ account: this.account, chain, transport: http(this.rpcUrl) });
  }

  /** The user picks another account in the extension: `accountsChanged` with it. */
  async switchAccount(key) {
    this.useKey(key);
    await this.emit("accountsChanged", [this.address]);
  }

  /** How many listeners the page holds on the provider, per event (`{accountsChanged: 1, chainChanged: 1}`). */
  async listenerCounts(page) {
    return page.evaluate(() => window.__testWalletListeners?.() ?? {});
  }

  /** Injects the provider into every document the page loads. */
  async attach(page) {
    this.pages.add(page);
    await page.exposeBinding("__testWalletRequest", (_source, method, params) => this.answer(method, params));
    await page.addInitScript(INJECTED);
  }

  async emit(event, data) {
    for (const page of this.pages) {
      await page.evaluate(([e, d]) => window.__testWalletEmit?.(e, d), [event, data]).catch(() => undefined);
    }
  }

  async switchTo(chainId) {
    this.chainId = chainId;
    await this.emit("chainChanged", toHex(chainId));
  }

  async answer(method, params) {
    this.log.push(method);
    try {
      return { result: await this.handle(method, params) };
    } catch (e) {
      return { error: { code: e.code ?? -32603, message: e.message ?? String(e), ...(e.data !== undefined ? { data: e.data } : {}) } };
    }
  }

  async handle(method, params) {
    const refuse = (code, message) => Object.assign(new Error(message), { code });
    switch (method) {
      case "eth_requestAccounts":
        this.connected = true;
        return [this.address];
      case "eth_accounts":
        return this.connected ? [this.address] : [];
      case "eth_chainId":
        return toHex(this.chainId);
      case "net_version":
        return String(this.chainId);
      case "personal_sign": {
        if (this.rejectNextSignature) {
          this.rejectNextSignature = false;
          throw refuse(4001, "User rejected the request.");
        }
        const [message, from] = params;
        if (from.toLowerCase() !== this.address.toLowerCase()) throw refuse(4100, "Unknown account");
        return this.account.signMessage({ message: { raw: message } });
      }
      case "eth_signTypedData_v4": {
        // As MetaMask: the typed data as JSON, integers as decimal strings; signed with the account's key.
        if (this.rejectNextSignature) {
          this.rejectNextSignature = false;
          throw refuse(4001, "User rejected the request.");
        }
        const [from, json] = params;
        if (from.toLowerCase() !== this.address.toLowerCase()) throw refuse(4100, "Unknown account");
        const typed = typeof json === "string" ? JSON.parse(json) : json;
        const { EIP712Domain: _, ...types } = typed.types;
        const int = (type) => /^u?int\d*$/.test(type);
        const fields = types[typed.primaryType] ?? [];
        const message = Object.fromEntries(
          Object.entries(typed.message).map(([k, v]) => [k, int(fields.find((f) => f.name === k)?.type ?? "") ? BigInt(v) : v]),
        );
        const domain = { ...typed.domain, chainId: BigInt(typed.domain.chainId) };
        this.typedSigned.push(typed);
        return this.account.signTypedData({ domain, types, primaryType: typed.primaryType, message });
      }
      case "eth_sendTransaction": {
        if (this.rejectNextTransaction) {
          this.rejectNextTransaction = false;
          throw refuse(4001, "User rejected the request.");
        }
        if (this.chainId !== this.realChainId) throw refuse(-32603, `Test wallet cannot send on chain ${this.chainId}`);
        const [tx] = params;
        return this.client.sendTransaction({
          to: tx.to,
          value: tx.value ? BigInt(tx.value) : 0n,
          data: tx.data,
          gas: tx.gas ? BigInt(tx.gas) : undefined,
        });
      }
      case "wallet_addEthereumChain": {
        const p = params[0];
        this.added.push(p);
        const id = Number(BigInt(p.chainId));
        if (!p.rpcUrls?.length || !p.nativeCurrency?.symbol || !p.chainName) throw refuse(-32602, "Invalid chain parameters");
        this.unknownChains.delete(id);
        return null;
      }
      case "wallet_switchEthereumChain": {
        const want = Number(BigInt(params[0].chainId));
        if (want !== this.realChainId || this.unknownChains.has(want)) throw refuse(4902, `Unrecognized chain ID ${params[0].chainId}`);
        await this.switchTo(want);
        return null;
      }
      default:
        return this.rpc(method, params);
    }
  }

  /** Reads go to the node, as an extension's would. */
  async rpc(method, params) {
    const res = await fetch(this.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = await res.json();
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, ...(body.error.data !== undefined ? { data: body.error.data } : {}) });
    return body.result;
  }
}
