// A real WalletConnect wallet in Node, for the tests: @walletconnect/sign-client (the version the page bundles) in
// the wallet role, through the devnet's relay stand-in (scripts/wc-relay.mjs). It pairs with a `wc:` URI, approves
// the proposal with `eip155:<chain>:<address>`, and answers the page's requests by signing with one of anvil's
// development keys and sending to anvil, as tests/lib/wallet.mjs's TestWallet does for an injected wallet. A test
// can make it reject the next proposal or request (the SDK's "User rejected.", code 5000, as WalletConnect wallets
// answer); `log` holds every request the page sent it, in order.
//
// Node 20 has no global WebSocket: the client's connection (@walletconnect/jsonrpc-ws-connection) then uses the `ws`
// package (pinned in devDependencies). Its storage here is memory (a wallet lives as long as its test); no Verify API
// and no telemetry are asked, as in the page.
import { Core } from "@walletconnect/core";
import { SignClient } from "@walletconnect/sign-client";
import { createWalletClient, defineChain, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** The client's key-value storage (IKeyValueStorage) in memory. */
class MemoryStorage {
  #m = new Map();
  async getKeys() {
    return [...this.#m.keys()];
  }
  async getEntries() {
    return [...this.#m.entries()];
  }
  async getItem(k) {
    return structuredClone(this.#m.get(k));
  }
  async setItem(k, v) {
    this.#m.set(k, structuredClone(v));
  }
  async removeItem(k) {
    this.#m.delete(k);
  }
}

const USER_REJECTED = { code: 5000, message: "User rejected." };
let instances = 0;

/**
 * A sign-client in Node with memory storage, no Verify API and no telemetry; `name` tells two apart in one process
 * (each gets its own core: the client would otherwise share one global core per process).
 */
export async function nodeSignClient({ relayUrl, projectId = "devnet", name, logger = process.env.WC_LOG ?? "silent" }) {
  process.env.DISABLE_GLOBAL_CORE = "true";
  const core = new Core({ projectId, relayUrl, storage: new MemoryStorage(), telemetryEnabled: false, logger, customStoragePrefix: `${name}-${++instances}` });
  core.verify.register = async () => undefined;
  core.verify.resolve = async () => undefined;
  return SignClient.init({ core, logger, metadata: { name, description: `${name} (tests)`, url: "http://localhost", icons: [] } });
}

export class WcWallet {
  /** @param {{ key: `0x${string}`, rpcUrl: string, chainId: number, relayUrl: string, projectId?: string }} o */
  static async create(o) {
    const w = new WcWallet(o);
    w.client = await nodeSignClient({ relayUrl: o.relayUrl, projectId: o.projectId, name: "Test WalletConnect wallet" });
    w.client.on("session_proposal", (p) => void w.onProposal(p));
    w.client.on("session_request", (r) => void w.onRequest(r));
    w.client.on("session_delete", ({ topic }) => w.deleted.push(topic));
    return w;
  }

  constructor(o) {
    this.account = privateKeyToAccount(o.key);
    this.address = this.account.address;
    this.chainId = o.chainId;
    const chain = defineChain({
      id: o.chainId,
      name: "anvil",
      nativeCurrency: { name: "BNB", symbol: "BNB", decimals: 18 },
      rpcUrls: { default: { http: [o.rpcUrl] } },
    });
    this.chain = chain;
    this.wallet = createWalletClient({ account: this.account, chain, transport: http(o.rpcUrl) });
    /** Every request the page sent, in order: `{method, params, answered}` (`answered`: "result" or "rejected"). */
    this.log = [];
    /** Proposals seen (`{id, proposer, approved}`), sessions the page ended (topics), transactions sent (hashes). */
    this.proposals = [];
    this.deleted = [];
    this.sent = [];
    this.rejectNextProposal = false;
    this.rejectNextRequest = false;
  }

  /** Pairs with the page's `wc:` URI; the proposal that follows is approved (or rejected, when asked). */
  async pair(uri) {
    await this.client.pair({ uri });
  }

  /** The sessions this wallet holds now. */
  sessions() {
    return this.client.session.getAll();
  }

  async onProposal(p) {
    const record = { id: p.id, proposer: p.params.proposer.metadata, approved: false };
    this.proposals.push(record);
    if (this.rejectNextProposal) {
      this.rejectNextProposal = false;
      await this.client.reject({ id: p.id, reason: USER_REJECTED });
      return;
    }
    const asked = { ...p.params.requiredNamespaces?.eip155, ...p.params.optionalNamespaces?.eip155 };
    const chain = `eip155:${this.chainId}`;
    if (!(asked.chains ?? []).includes(chain)) {
      await this.client.reject({ id: p.id, reason: { code: 5100, message: `Unsupported chains: only ${chain}` } });
      return;
    }
    const { acknowledged } = await this.client.approve({
      id: p.id,
      namespaces: {
        eip155: { chains: [chain], accounts: [`${chain}:${this.address}`], methods: asked.methods ?? [], events: asked.events ?? [] },
      },
    });
    await acknowledged();
    record.approved = true;
  }

  async onRequest({ id, topic, params }) {
    const { method, params: args } = params.request;
    const entry = { method, params: args, chainId: params.chainId, answered: "pending" };
    this.log.push(entry);
    let response;
    if (this.rejectNextRequest) {
      this.rejectNextRequest = false;
      entry.answered = "rejected";
      response = { id, jsonrpc: "2.0", error: USER_REJECTED };
    } else {
      try {
        response = { id, jsonrpc: "2.0", result: await this.handle(method, args ?? [], params.chainId) };
        entry.answered = "result";
      } catch (e) {
        entry.answered = "error";
        response = { id, jsonrpc: "2.0", error: { code: e.code ?? -32603, message: e.message ?? String(e) } };
      }
    }
    await this.client.respond({ topic, response });
  }

  async handle(method, args, chainId) {
    const refuse = (code, message) => Object.assign(new Error(message), { code });
    if (chainId !== `eip155:${this.chainId}`) throw refuse(4901, `This wallet is not on ${chainId}`);
    switch (method) {
      case "personal_sign": {
        const [message, from] = args;
        if (from.toLowerCase() !== this.address.toLowerCase()) throw refuse(4100, "Unknown account");
        return this.account.signMessage({ message: { raw: message } });
      }
      case "eth_sendTransaction": {
        const [tx] = args;
        if (tx.from && tx.from.toLowerCase() !== this.address.toLowerCase()) throw refuse(4100, "Unknown account");
        const hash = await this.wallet.sendTransaction({
          to: tx.to,
          value: tx.value ? BigInt(tx.value) : 0n,
          data: tx.data,
          gas: tx.gas ? BigInt(tx.gas) : undefined,
        });
        this.sent.push(hash);
        return hash;
      }
      case "wallet_switchEthereumChain":
        if (Number(BigInt(args[0].chainId)) !== this.chainId) throw refuse(4902, `Unrecognized chain ID ${args[0].chainId}`);
        return null;
      case "wallet_addEthereumChain":
        return null;
      default:
        throw refuse(4200, `Unsupported method ${method}`);
    }
  }

  /** The wallet moves to another account of the session's chain and says so (`accountsChanged`). */
  async emitAccounts(addresses) {
    for (const s of this.sessions()) {
      await this.client.emit({ topic: s.topic, chainId: `eip155:${this.chainId}`, event: { name: "accountsChanged", data: addresses } });
    }
  }

  /** Ends every session from the wallet's side (the page hears `session_delete`). */
  async disconnectAll() {
    for (const s of this.sessions()) await this.client.disconnect({ topic: s.topic, reason: { code: 6000, message: "User disconnected." } });
  }

  async close() {
    await closeSignClient(this.client);
  }
}

/** Stops a client's connection and timers, so that a test's process can end. */
export async function closeSignClient(client) {
  await client.core.relayer.transportClose().catch(() => undefined);
  client.core.heartbeat.stop();
}

