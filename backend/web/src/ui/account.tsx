// The wallet connection and the signed-in session, shared by the dApp and the admin console: connect an
// EIP-1193 wallet (or, in the dApp, TronLink for TRON assets), sign the server's EIP-4361 message, keep the
// session (renewed silently), sign out.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getAddress } from "viem";
import { ApiError, type Session, onSession, publicCall, session, signIn as signInWith, signOut } from "../lib/api";
import { type AnyConnection, TronConnection, connectTronLink, onTronLink, quietTronLink, tronLinkPresent } from "../lib/tron";
import { loadChains, networkName, signinElsewhere } from "../lib/networks";
import type { NonceResponse } from "../lib/types";
import { Connection, type DiscoveredWallet, WALLETCONNECT_SESSION, WalletError, connect, discover, wallets } from "../lib/wallet";
import { Addr, Notice, useChainTable } from "./bits";
import { phrase, t, tx } from "../i18n";

type Listener = (c: AnyConnection | null) => void;
let connection: AnyConnection | null = null;
const connectionListeners = new Set<Listener>();

function setConnection(c: AnyConnection | null) {
  connection = c;
  // Only the connected EVM wallet is followed: one listener of each kind, none once it is gone.
  if (c instanceof Connection) watch(c);
  else unwatch();
  for (const l of connectionListeners) l(c);
}

export function useConnection(): AnyConnection | null {
  const [c, setC] = useState(connection);
  useEffect(() => {
    connectionListeners.add(setC);
    // A change between the first render and this subscription would otherwise be missed.
    setC(connection);
    return () => connectionListeners.delete(setC);
  }, []);
  return c;
}

export function useSession(): Session | null {
  const [s, setS] = useState(session());
  useEffect(() => {
    const off = onSession(setS);
    setS(session());
    return off;
  }, []);
  return s;
}

export function useWallets(): DiscoveredWallet[] {
  const [list, setList] = useState(wallets());
  useEffect(() => discover(() => setList(wallets())), []);
  return list;
}

/** Whether TronLink is in the page, and a counter that moves whenever it says something changed. */
export function useTronLink(): { present: boolean; changes: number } {
  const [state, setState] = useState({ present: tronLinkPresent(), changes: 0 });
  useEffect(() => {
    const update = () => setState((s) => ({ present: tronLinkPresent(), changes: s.changes + 1 }));
    // It may have injected itself between the first render and this subscription.
    update();
    return onTronLink(update);
  }, []);
  return state;
}

// TronLink's account and node changes, for a TronLink connection: another account (or none: locked or
// disconnected), or another node (the payment reads the network again).
onTronLink((e) => {
  if (!(connection instanceof TronConnection)) return;
  if (e.action === "disconnect" || ((e.action === "accountsChanged" || e.action === "setAccount") && e.data && !e.data.address)) {
    setConnection(null);
  } else if (e.action === "accountsChanged" || e.action === "setAccount" || e.action === "setNode") {
    const next = quietTronLink();
    if (!next) setConnection(null);
    else if (e.action === "setNode" || next.account !== connection.account) setConnection(next);
  }
});

/** Connects TronLink (its prompt) and makes it the page's wallet. */
export async function connectTronLinkWallet(): Promise<void> {
  setConnection(await connectTronLink());
}

/** Connects an EVM wallet (its prompt) and makes it the page's wallet. */
export async function connectEvmWallet(w: DiscoveredWallet): Promise<void> {
  setConnection(await connect(w));
}

/** WalletConnect's pairing panel and client (the dApp's), loaded only when asked for. */
const walletConnectUi = () => import("./walletconnect-pairing");

/** The WalletConnect session a reload finds (only where one was opened: nothing of it loads otherwise). */
async function quietWalletConnect(): Promise<Connection | null> {
  const table = localStorage.getItem(WALLETCONNECT_SESSION) ? await loadChains() : null;
  return table?.walletconnect ? (await walletConnectUi()).restoreConnection(table.walletconnect, table.chains).catch(() => null) : null;
}

type Watchable = Connection["provider"] & {
  on?: (e: string, f: (x: unknown) => void) => unknown;
  removeListener?: (e: string, f: (x: unknown) => void) => unknown;
};
/** The provider followed now and how to stop following it. */
let watched: { provider: Connection["provider"]; stop: () => void } | null = null;

function unwatch() {
  watched?.stop();
  watched = null;
}

/**
 * Follows the wallet's account and chain changes: exactly one `accountsChanged` and one `chainChanged` listener
 * on the connected provider, whatever the connection object of the moment (each change makes a new one), removed
 * when another wallet is connected or none. A change of account makes the page's wallet the new account; the
 * AccountBar then ends the old account's session and offers the new one to sign in.
 */
function watch(c: Connection) {
  if (watched?.provider === c.provider) return;
  unwatch();
  const p = c.provider as Watchable;
  const current = () => (connection instanceof Connection && connection.provider === p ? connection : null);
  const onAccounts = (accounts: unknown) => {
    const now = current();
    if (!now) return;
    const list = accounts as string[] | undefined;
    if (!list?.length) {
      setConnection(null);
      return;
    }
    const account = getAddress(list[0]);
    if (account !== now.account) setConnection(new Connection(p, account, now.name));
  };
  const onChain = () => {
    const now = current();
    if (now) setConnection(new Connection(p, now.account, now.name));
  };
  p.on?.("accountsChanged", onAccounts);
  p.on?.("chainChanged", onChain);
  watched = {
    provider: p,
    stop: () => {
      p.removeListener?.("accountsChanged", onAccounts);
      p.removeListener?.("chainChanged", onChain);
    },
  };
}

/**
 * Reconnects without a prompt when a wallet already allows this site (`eth_accounts`; TronLink's default
 * address; in the dApp, a WalletConnect session opened here): the one the stored session belongs to, else
 * WalletConnect when no session is stored, else the first EVM wallet, else WalletConnect, else TronLink.
 */
let quiet: Promise<void> = Promise.resolve();
async function reconnectQuietly(list: DiscoveredWallet[], tron: boolean, dapp: boolean) {
  if (connection) return;
  const tl = tron ? quietTronLink() : null;
  const stored = session()?.address.toLowerCase();
  if (tl && stored === tl.hex.toLowerCase()) {
    setConnection(tl);
    return;
  }
  const wc = dapp ? await quietWalletConnect().catch(() => null) : null;
  if (wc && !connection && (!stored || stored === wc.hex.toLowerCase())) {
    setConnection(wc);
    return;
  }
  for (const w of list) {
    try {
      const accounts = (await w.provider.request({ method: "eth_accounts" })) as string[];
      if (accounts?.length && !connection) {
        setConnection(new Connection(w.provider, getAddress(accounts[0]), w.info.name));
        return;
      }
    } catch {
      // A wallet that refuses the quiet check is connected by a click instead.
    }
  }
  if (wc && !connection) setConnection(wc);
  if (tl && !connection) setConnection(tl);
}

async function signIn(c: AnyConnection): Promise<void> {
  const nonce = await publicCall<NonceResponse>("POST", "/v1/auth/nonce", { address: c.account, chain: c.kind });
  const signature = await c.signMessage(nonce.message);
  await signInWith(nonce.message, signature);
}

export function errorText(e: unknown): string {
  if (e instanceof WalletError) return e.message;
  if (e instanceof ApiError) {
    switch (e.code) {
      case "signin_expired":
      case "signin_nonce_invalid":
        return t("account.expired");
      case "rate_limited":
        return t("account.rate_limited", { message: e.message });
      // The client's own failures (lib/api), worded here in the reader's language of the moment.
      case "timeout":
        return t("api.timeout");
      case "network":
        return t("api.network");
      case "offline":
        return t("api.offline");
      case "renewal_timeout":
        return t("api.renewal_timeout");
      case "origin_refused":
        return t("account.origin_refused", { message: e.message });
      default:
        // A failure of the service without the API's answer (a proxy's 5xx page): ours to word.
        if (e.status >= 500 && e.code === `http_${e.status}`) return t("api.failed", { status: String(e.status) });
        // The server's own message, with its code once: not again when the message already names it (a refusal in the
        // signer's words: issue 65).
        return e.message.includes(e.code) ? e.message : `${e.message} (${e.code})`;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

/** The network the wallet is on, by name ("on BNB Smart Chain"); read again whenever the connection changes. */
function WalletNetwork(props: { c: AnyConnection }) {
  const [id, setId] = useState<number | null>(null);
  useChainTable();
  useEffect(() => {
    let live = true;
    setId(null);
    const c = props.c;
    (c.kind === "evm" ? c.chainId() : c.network()).then(
      (n) => live && setId(n),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [props.c]);
  if (id === null) return null;
  return (
    <span class="muted" data-testid="wallet-network" data-chain-id={id}>
      {t("account.on_network", { network: networkName(id) })}
    </span>
  );
}

/** A load that failed (the API refused, stalled or could not be reached), in words, with a button to try again. */
export function LoadFailed(props: { error: unknown; what?: string; retry: () => void }) {
  return (
    <Notice kind="error" testid="load-failed">
      {props.what && t("account.could_not_load", { what: phrase(props.what) })}
      {errorText(props.error)}{" "}
      <button type="button" onClick={props.retry} data-testid="retry">
        {t("account.retry")}
      </button>
    </Notice>
  );
}

/** The pairing panel, loaded with the WalletConnect client on the first click. */
type PairingPanel = typeof import("./walletconnect-pairing").WalletConnectPairing;

/**
 * The header's wallet and session controls; `tron` (the dApp) offers TronLink beside the EVM wallets, and
 * WalletConnect when the API configures it (`/v1/public/chains`); `noWallet` replaces the "no browser wallet"
 * sentence (the dApp offers to open the page in a wallet app), given the WalletConnect button to show beside it (null
 * while its pairing is open; undefined when WalletConnect is not configured).
 */
export function AccountBar(props: { purpose: string; tron?: boolean; noWallet?: (walletConnect: ComponentChildren) => ComponentChildren }) {
  const list = useWallets();
  const tronLink = useTronLink();
  const tron = !!props.tron && tronLink.present;
  const c = useConnection();
  const s = useSession();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    // One check at a time: a later one (TronLink injected itself meanwhile) runs after, finding any connection.
    quiet = quiet.then(() => reconnectQuietly(list, tron, !!props.tron)).catch(() => undefined);
  }, [list.length, tron, tronLink.changes]);

  // A session of another wallet than the connected one is not used (a TRON account is its 0x twin).
  const signedIn = s && c && s.address.toLowerCase() === c.hex.toLowerCase() ? s : null;
  useEffect(() => {
    if (s && c && s.address.toLowerCase() !== c.hex.toLowerCase()) void signOut();
  }, [s?.address, c?.hex]);

  const run = async (label: string, f: () => Promise<void>) => {
    setBusy(label);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  const connectTo = (w: DiscoveredWallet) => run(t("account.connecting"), () => connectEvmWallet(w));
  // Opened under another host name than the site sign-in messages name (127.0.0.1 for localhost): the wallet
  // would be asked to sign a message naming a site that is not this page's (wallets warn), and the server refuses
  // it. Say so and link to the right address instead of offering to sign.
  const table = useChainTable();
  const elsewhere = signinElsewhere();

  // WalletConnect (the dApp only: EVM chains, BNB on BSC; TRON stays with TronLink).
  const wc = props.tron ? table?.walletconnect ?? null : null;
  const [Pairing, setPairing] = useState<PairingPanel | null>(null);
  const openPairing = () =>
    run(t("account.loading_walletconnect"), async () => {
      const m = await walletConnectUi();
      setPairing(() => m.WalletConnectPairing);
    });
  // A WalletConnect session ends here and in the wallet (`disconnect` of its provider).
  const wcSession = c instanceof Connection && c.name === "WalletConnect" ? (c.provider as unknown as { disconnect(): Promise<void> }) : null;
  const disconnect = () =>
    run(t("account.disconnecting"), async () => {
      if (signedIn) await signOut();
      await wcSession?.disconnect();
      setConnection(null);
    });
  const wcButton = wc && !c && !Pairing && (
    <button type="button" class="primary" onClick={openPairing} disabled={!!busy} data-testid="connect-walletconnect">
      WalletConnect
    </button>
  );
  const noWallet = !c && list.length === 0 && !tron;

  return (
    <div class="account" data-testid="account">
      {noWallet && props.noWallet?.(wc ? wcButton || null : undefined)}
      {noWallet && !props.noWallet && (
        <p class="muted" data-testid="no-wallet">
          {t(props.tron ? "account.no_wallet_tron" : "account.no_wallet", { purpose: phrase(props.purpose) })}
        </p>
      )}
      {!c &&
        list.map((w) => (
          <button key={w.info.uuid} type="button" class="primary" onClick={() => connectTo(w)} disabled={!!busy} data-testid="connect">
            {list.length > 1 ? t("account.connect_named", { name: w.info.name }) : t("account.connect_wallet")}
          </button>
        ))}
      {!c && tron && (
        <button type="button" class="primary" onClick={() => run(t("account.connecting"), connectTronLinkWallet)} disabled={!!busy} data-testid="connect-tron">
          {t("account.connect_tronlink")}
        </button>
      )}
      {!(noWallet && props.noWallet) && wcButton}
      {Pairing && wc && table && !c && (
        <Pairing
          settings={wc}
          chains={table.chains}
          onConnected={(connected) => {
            setPairing(null);
            setConnection(connected);
          }}
          onClose={() => setPairing(null)}
        />
      )}
      {c && (
        <span class="who">
          <Addr a={c.account} testid="connected-address" />
          <WalletNetwork c={c} />
          {signedIn && (
            <span class="badge" data-testid="role" data-role={signedIn.role} title={signedIn.role === "admin" ? t("account.staff_title") : undefined}>
              {signedIn.role === "admin" ? t("account.role_staff") : signedIn.role === "user" ? t("account.role_user") : signedIn.role}
            </span>
          )}
        </span>
      )}
      {elsewhere && (
        <Notice kind="warn" testid="wrong-host">
          {tx("account.wrong_host", {
            site: (
              <a href={elsewhere} data-testid="right-site" dir="ltr">
                {new URL(elsewhere).host}
              </a>
            ),
            here: <bdi>{location.host}</bdi>,
            link: (
              <a href={elsewhere} dir="ltr">
                {elsewhere}
              </a>
            ),
          })}
        </Notice>
      )}
      {c && !signedIn && !elsewhere && (
        <button type="button" class="primary" onClick={() => run(t("account.waiting_signature"), () => signIn(c))} disabled={!!busy} data-testid="sign-in">
          {t("account.sign_in")}
        </button>
      )}
      {signedIn && (
        <button type="button" onClick={() => run(t("account.signing_out"), signOut)} disabled={!!busy} data-testid="sign-out">
          {t("account.sign_out")}
        </button>
      )}
      {wcSession && (
        <button type="button" onClick={disconnect} disabled={!!busy} data-testid="wc-disconnect" title={t("account.disconnect_title")}>
          {t("account.disconnect")}
        </button>
      )}
      {busy && <span class="muted" aria-live="polite">{busy}</span>}
      {error && (
        <Notice kind="error" testid="account-error">
          {error}
        </Notice>
      )}
    </div>
  );
}

/** The session, only when it belongs to the connected wallet. */
export function useSignedIn(): { session: Session; connection: AnyConnection } | null {
  const c = useConnection();
  const s = useSession();
  if (!c || !s || s.address.toLowerCase() !== c.hex.toLowerCase()) return null;
  return { session: s, connection: c };
}
