// WalletConnect v2 as an EIP-1193 provider, so that a phone wallet (or any WalletConnect wallet) becomes the page's
// `Connection` like an injected one. Loaded only through a dynamic `import()` when the user picks WalletConnect (or a
// reload finds a session they opened), from this origin: nothing comes from a CDN. The client talks to the relay the
// API configures and to no other service: no telemetry (`telemetryEnabled: false`) and no Verify API (its iframe and
// fetches are replaced by answers of "unknown"; wallets then show the dApp as unverified, as for any site without it).
//
// What goes where: the wallet is asked (`session.request`) for what needs its keys or its consent — accounts
// (`eth_requestAccounts`/`eth_accounts` answer from the session), `personal_sign`, `eth_sendTransaction`,
// `wallet_switchEthereumChain`, `wallet_addEthereumChain`; the page reads the chain itself (`eth_call`,
// `eth_getBalance`, receipts, the block number, …) by JSON-RPC to the chain's `public_rpc_url` from
// `/v1/public/chains`, since a phone wallet offers no reads over WalletConnect. `eth_chainId` is the session's current
// chain, followed through the wallet's `chainChanged` events.

import { SignClient } from "@walletconnect/sign-client";
import { t } from "../i18n";
import type { PublicChain } from "./networks";
import { WALLETCONNECT_SESSION as WC_FLAG } from "./wallet";

type Client = Awaited<ReturnType<typeof SignClient.init>>;
type Session = ReturnType<Client["session"]["getAll"]>[number];

export interface WalletConnectSettings {
  project_id: string;
  relay_url: string;
}

/** The methods the session asks the wallet for. */
const WALLET_METHODS = ["personal_sign", "eth_signTypedData_v4", "eth_sendTransaction", "wallet_switchEthereumChain", "wallet_addEthereumChain"];
/** Reads answered by the chain's public RPC. */
const READS = new Set([
  "eth_blockNumber",
  "eth_call",
  "eth_estimateGas",
  "eth_feeHistory",
  "eth_gasPrice",
  "eth_getBalance",
  "eth_getBlockByNumber",
  "eth_getCode",
  "eth_getLogs",
  "eth_getTransactionByHash",
  "eth_getTransactionCount",
  "eth_getTransactionReceipt",
  "eth_maxPriorityFeePerGas",
  "net_version",
]);
const EVENTS = ["accountsChanged", "chainChanged"];
/** How long a read of the chain may take. */
const READ_TIMEOUT_MS = 15_000;
/** How long the relay has to take the proposal before the page says it cannot be reached. */
const RELAY_TIMEOUT_MS = 20_000;
/** localStorage: the session's current chain (named as WALLETCONNECT_SESSION is, for the same reason). */
const CHAIN_KEY = (topic: string) => `referral:wc-chain:${topic}`;

/** An error as EIP-1193 providers throw them (`walletError` in wallet.ts reads `code`). */
class ProviderRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/**
 * What went wrong with the pairing: `kind` (the page words it from its catalogue, in the reader's language, and offers
 * the right next step); `relay`, the relay's host (for "relay"); `detail`, the client's or the wallet's own words when
 * they say more than the kind (for "other"), shown as they are. `message` is the English, for the console.
 */
export class PairingError extends Error {
  constructor(
    readonly kind: "relay" | "expired" | "rejected" | "other",
    message: string,
    readonly extra: { relay?: string; detail?: string } = {},
  ) {
    super(message);
  }
}

let clientPromise: Promise<Client> | null = null;

/** The one client of the page (its sessions and keys in the browser's IndexedDB, so a reload finds them). */
function client(settings: WalletConnectSettings): Promise<Client> {
  clientPromise ??= SignClient.init({
    projectId: settings.project_id,
    relayUrl: settings.relay_url,
    telemetryEnabled: false,
    // Failures reach the user through the page's own words; the client's logger would print to the console.
    logger: "silent",
    metadata: {
      name: "Referral rewards",
      // What the wallet app shows of this site, in the language the page had when the client started.
      description: t("wc.app_description"),
      url: location.origin,
      icons: [...document.querySelectorAll<HTMLLinkElement>("link[rel~=icon]")].map((l) => l.href),
    },
  }).then((c) => {
    // No Verify API: no attestation iframe for our proposals, no lookups for requests (we receive none).
    const verify = c.core.verify as unknown as Record<string, unknown>;
    verify.register = async () => undefined;
    verify.resolve = async () => undefined;
    return c;
  });
  clientPromise.catch(() => (clientPromise = null));
  return clientPromise;
}

const relayHost = (settings: WalletConnectSettings) => {
  try {
    return new URL(settings.relay_url).host;
  } catch {
    return settings.relay_url;
  }
};

/** `eip155:56:0xabc…` → [56, "0xabc…"]. */
function parseAccount(caip10: string): [number, string] | null {
  const m = /^eip155:(\d+):(0x[0-9a-fA-F]{40})$/.exec(caip10);
  return m ? [Number(m[1]), m[2]] : null;
}

/**
 * An EIP-1193 provider over one WalletConnect session. `on`/`removeListener` as extensions offer them; a session the
 * wallet ends (or that expires) is announced as `accountsChanged` with no account, then `disconnect`.
 */
export class WalletConnectProvider {
  private listeners = new Map<string, Set<(x: unknown) => void>>();
  private chain: number;
  private ended = false;
  private readonly off: () => void;

  constructor(
    private readonly client: Client,
    private session: Session,
    private readonly chains: PublicChain[],
  ) {
    const stored = Number(localStorage.getItem(CHAIN_KEY(session.topic)));
    this.chain = this.sessionChains().includes(stored) ? stored : this.sessionChains()[0];
    const mine = (topic: string) => topic === this.session.topic && !this.ended;
    const onEvent = (e: { topic: string; params: { event: { name: string; data: unknown }; chainId: string } }) => {
      if (!mine(e.topic)) return;
      if (e.params.event.name === "chainChanged") this.setChain(Number(e.params.event.data));
      else if (e.params.event.name === "accountsChanged") {
        const list = (Array.isArray(e.params.event.data) ? e.params.event.data : []).map((a) => String(a).split(":").pop()!);
        this.emit("accountsChanged", list);
      }
    };
    const onUpdate = (e: { topic: string }) => {
      if (!mine(e.topic)) return;
      const before = this.accounts().join();
      this.session = this.client.session.get(e.topic);
      if (!this.sessionChains().includes(this.chain) && this.sessionChains().length) this.setChain(this.sessionChains()[0]);
      if (this.accounts().join() !== before) this.emit("accountsChanged", this.accounts());
    };
    const onEnd = (e: { topic: string }) => {
      if (mine(e.topic)) this.end();
    };
    this.client.on("session_event", onEvent);
    this.client.on("session_update", onUpdate);
    this.client.on("session_delete", onEnd);
    this.client.on("session_expire", onEnd);
    this.off = () => {
      this.client.off("session_event", onEvent);
      this.client.off("session_update", onUpdate);
      this.client.off("session_delete", onEnd);
      this.client.off("session_expire", onEnd);
    };
  }

  /** The wallet's name as it introduced itself ("MetaMask Wallet"). */
  get peerName(): string {
    return this.session.peer.metadata.name;
  }

  private sessionChains(): number[] {
    const accounts = this.session.namespaces.eip155?.accounts ?? [];
    return [...new Set(accounts.map(parseAccount).filter((a) => a !== null).map((a) => a[0]))];
  }

  /** The session's addresses on the current chain (every one it names when none is for that chain). */
  accounts(): string[] {
    const parsed = (this.session.namespaces.eip155?.accounts ?? []).map(parseAccount).filter((a) => a !== null);
    const here = parsed.filter(([c]) => c === this.chain).map(([, a]) => a);
    return [...new Set(here.length ? here : parsed.map(([, a]) => a))];
  }

  private setChain(id: number) {
    if (!Number.isSafeInteger(id) || id <= 0 || id === this.chain) return;
    this.chain = id;
    localStorage.setItem(CHAIN_KEY(this.session.topic), String(id));
    this.emit("chainChanged", `0x${id.toString(16)}`);
  }

  on(event: string, f: (x: unknown) => void) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(f);
    return this;
  }

  removeListener(event: string, f: (x: unknown) => void) {
    this.listeners.get(event)?.delete(f);
    return this;
  }

  private emit(event: string, data: unknown) {
    for (const f of [...(this.listeners.get(event) ?? [])]) f(data);
  }

  private end() {
    if (this.ended) return;
    this.ended = true;
    this.off();
    localStorage.removeItem(WC_FLAG);
    localStorage.removeItem(CHAIN_KEY(this.session.topic));
    this.emit("accountsChanged", []);
    this.emit("disconnect", new ProviderRpcError(4900, t("wc.session_ended")));
  }

  /** Ends the session (the wallet is told) and forgets it here. */
  async disconnect(): Promise<void> {
    if (this.ended) return;
    const topic = this.session.topic;
    try {
      await this.client.disconnect({ topic, reason: { code: 6000, message: "User disconnected." } });
    } finally {
      this.end();
    }
  }

  async request(args: { method: string; params?: unknown[] | object }): Promise<unknown> {
    const { method } = args;
    const params = (args.params ?? []) as unknown[];
    if (this.ended) throw new ProviderRpcError(4900, t("wc.session_ended"));
    switch (method) {
      case "eth_chainId":
        return `0x${this.chain.toString(16)}`;
      case "eth_accounts":
      case "eth_requestAccounts":
        return this.accounts();
    }
    if (WALLET_METHODS.includes(method)) return this.ask(method, params);
    if (READS.has(method)) return this.read(method, params);
    throw new ProviderRpcError(4200, t("wc.not_offered", { method }));
  }

  /** Asks the wallet, on the session's current chain; a refusal becomes EIP-1193's 4001. */
  private async ask(method: string, params: unknown[]): Promise<unknown> {
    let result: unknown;
    try {
      result = await this.client.request({ topic: this.session.topic, chainId: `eip155:${this.chain}`, request: { method, params } });
    } catch (e) {
      const err = e as { code?: number; message?: string; data?: unknown };
      const message = err?.message ?? String(e);
      // The SDK's "user rejected" is 5000 (its USER_REJECTED family 5000–5002); wallets also answer 4001.
      if (err?.code === 4001 || (err?.code !== undefined && err.code >= 5000 && err.code <= 5002) || /reject|denied|declined|cancel/i.test(message)) {
        throw new ProviderRpcError(4001, `User rejected the request. (${message})`);
      }
      if (err?.code === 4902 || /unrecognized chain|unknown chain/i.test(message)) throw new ProviderRpcError(4902, message);
      throw new ProviderRpcError(typeof err?.code === "number" ? err.code : -32603, message, err?.data);
    }
    if (method === "wallet_switchEthereumChain") {
      const target = Number(BigInt((params[0] as { chainId: string }).chainId));
      this.setChain(target);
    }
    return result;
  }

  /** A read of the current chain through its public RPC, with a time limit. */
  private async read(method: string, params: unknown[]): Promise<unknown> {
    const url = this.chains.find((c) => c.chain_id === this.chain)?.public_rpc_url;
    if (!url) throw new ProviderRpcError(4901, t("wc.no_rpc", { chain: String(this.chain) }));
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        signal: AbortSignal.timeout(READ_TIMEOUT_MS),
        credentials: "omit",
      });
    } catch (e) {
      const timeout = (e as Error)?.name === "TimeoutError";
      const host = new URL(url).host;
      throw new ProviderRpcError(-32603, timeout ? t("wc.rpc_timeout", { host, seconds: READ_TIMEOUT_MS / 1000 }) : t("wc.rpc_unreachable", { host }));
    }
    let body: { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    try {
      body = await res.json();
    } catch {
      throw new ProviderRpcError(-32603, t("wc.rpc_no_json", { host: new URL(url).host, status: String(res.status) }));
    }
    if (body.error) throw new ProviderRpcError(body.error.code, body.error.message, body.error.data);
    if (!("result" in body)) throw new ProviderRpcError(-32603, t("wc.rpc_no_result", { host: new URL(url).host, status: String(res.status) }));
    return body.result;
  }
}

const evmChains = (chains: PublicChain[]) => chains.filter((c) => c.chain_id !== undefined && !TRON_IDS.has(c.chain_id));
/** TRON networks have no WalletConnect path here (TronLink pays them). */
const TRON_IDS = new Set([728126428, 3448148188, 2494104990]);

/** The session a reload finds (the latest one with EVM accounts, unexpired), as a provider; null when none. */
export async function restore(settings: WalletConnectSettings, chains: PublicChain[]): Promise<WalletConnectProvider | null> {
  const c = await client(settings);
  const now = Date.now() / 1000;
  const sessions = c.session
    .getAll()
    .filter((s) => s.expiry > now && (s.namespaces.eip155?.accounts.length ?? 0) > 0)
    .sort((a, b) => a.expiry - b.expiry);
  const session = sessions.at(-1);
  if (!session) {
    localStorage.removeItem(WC_FLAG);
    return null;
  }
  return new WalletConnectProvider(c, session, evmChains(chains));
}

export interface Pairing {
  /** The `wc:` URI a wallet pairs with (QR code, copy, deep links). */
  uri: string;
  /** Until when the proposal stands (ms since the epoch). */
  expiresAt: number;
  /** The wallet's approval: the session as a provider; rejects with a [`PairingError`]. */
  approved: Promise<WalletConnectProvider>;
  /** Gives up this proposal: a late approval is ended at once. */
  cancel(): void;
}

/** Proposes a session for the EVM chains the API configures; the URI is for the wallet to pair with. */
export async function pair(settings: WalletConnectSettings, chains: PublicChain[]): Promise<Pairing> {
  const evm = evmChains(chains);
  let c: Client;
  try {
    c = await client(settings);
  } catch (e) {
    const detail = String((e as Error)?.message ?? e);
    throw new PairingError("other", `WalletConnect could not start: ${detail}`, { detail });
  }
  const unreachable = () =>
    new PairingError("relay", `The WalletConnect relay (${relayHost(settings)}) cannot be reached right now; check your connection and try again.`, {
      relay: relayHost(settings),
    });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let connected: Awaited<ReturnType<Client["connect"]>>;
  try {
    connected = await Promise.race([
      c.connect({
        optionalNamespaces: {
          eip155: { chains: evm.map((ch) => `eip155:${ch.chain_id}`), methods: WALLET_METHODS, events: EVENTS },
        },
      }),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(unreachable()), RELAY_TIMEOUT_MS))),
    ]);
  } catch (e) {
    if (e instanceof PairingError) throw e;
    const message = (e as Error)?.message ?? String(e);
    if (/publish|socket|relay|connection|internet/i.test(message)) throw unreachable();
    throw new PairingError("other", `WalletConnect could not start a pairing: ${message}`, { detail: message });
  } finally {
    clearTimeout(timer);
  }
  if (!connected.uri) throw new PairingError("other", "WalletConnect gave no pairing URI.");
  const expiry = Number(new URL(connected.uri.replace(/^wc:/, "wc://")).searchParams.get("expiryTimestamp"));
  let cancelled = false;
  const approved = connected.approval().then(
    async (session) => {
      if (cancelled) {
        await c.disconnect({ topic: session.topic, reason: { code: 6000, message: "User disconnected." } }).catch(() => undefined);
        throw new PairingError("other", "The pairing was cancelled.");
      }
      localStorage.setItem(WC_FLAG, "1");
      return new WalletConnectProvider(c, session, evm);
    },
    (e: { message?: string; code?: number }) => {
      const message = e?.message ?? String(e);
      if (/expired/i.test(message)) throw new PairingError("expired", "The pairing code expired before a wallet approved it: start again for a new one.");
      if (e?.code === 5000 || e?.code === 5001 || e?.code === 5002 || /reject/i.test(message)) {
        throw new PairingError("rejected", "Your wallet rejected the connection. Nothing was shared.");
      }
      throw new PairingError("other", `The wallet did not connect: ${message}`, { detail: message });
    },
  );
  return {
    uri: connected.uri,
    expiresAt: expiry > 0 ? expiry * 1000 : Date.now() + 300_000,
    approved,
    cancel: () => {
      cancelled = true;
      // Nobody waits for it any more: its end (expiry, or the session ended at once) is not an error to report.
      approved.catch(() => undefined);
    },
  };
}
