// The wallet connection and the signed-in session, shared by the dApp and the admin console: connect an
// EIP-1193 wallet, sign the server's EIP-4361 message, keep the session (renewed silently), sign out.

import { useEffect, useState } from "preact/hooks";
import { getAddress } from "viem";
import { ApiError, type Session, onSession, publicCall, session, signOut, startSession } from "../lib/api";
import type { NonceResponse, TokenPair } from "../lib/types";
import { Connection, type DiscoveredWallet, WalletError, connect, discover, wallets } from "../lib/wallet";
import { Addr, Notice } from "./bits";

type Listener = (c: Connection | null) => void;
let connection: Connection | null = null;
const connectionListeners = new Set<Listener>();

function setConnection(c: Connection | null) {
  connection = c;
  for (const l of connectionListeners) l(c);
}

export function useConnection(): Connection | null {
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

function useWallets(): DiscoveredWallet[] {
  const [list, setList] = useState(wallets());
  useEffect(() => discover(() => setList(wallets())), []);
  return list;
}

/** Follows the wallet's account and chain changes. */
function watch(c: Connection) {
  const p = c.provider as Connection["provider"] & {
    on?: (e: string, f: (x: unknown) => void) => void;
  };
  p.on?.("accountsChanged", (accounts) => {
    const list = accounts as string[];
    if (connection !== c) return;
    if (!list?.length) {
      setConnection(null);
      return;
    }
    const next = new Connection(c.provider, getAddress(list[0]), c.name);
    watch(next);
    setConnection(next);
  });
  p.on?.("chainChanged", () => {
    if (connection === c) setConnection(new Connection(c.provider, c.account, c.name));
  });
}

/** Reconnects without a prompt when the wallet already allows this site (`eth_accounts`). */
async function reconnectQuietly(list: DiscoveredWallet[]) {
  if (connection) return;
  for (const w of list) {
    try {
      const accounts = (await w.provider.request({ method: "eth_accounts" })) as string[];
      if (accounts?.length && !connection) {
        const c = new Connection(w.provider, getAddress(accounts[0]), w.info.name);
        watch(c);
        setConnection(c);
        return;
      }
    } catch {
      // A wallet that refuses the quiet check is connected by a click instead.
    }
  }
}

async function signIn(c: Connection): Promise<void> {
  const nonce = await publicCall<NonceResponse>("POST", "/v1/auth/nonce", { address: c.account, chain: "evm" });
  const signature = await c.signMessage(nonce.message);
  const pair = await publicCall<TokenPair>("POST", "/v1/auth/signin", { message: nonce.message, signature });
  startSession(pair);
}

export function errorText(e: unknown): string {
  if (e instanceof WalletError) return e.message;
  if (e instanceof ApiError) {
    switch (e.code) {
      case "signin_expired":
      case "signin_nonce_invalid":
        return "The sign-in message expired or was used already: sign in again.";
      case "rate_limited":
        return `Too many attempts: ${e.message}`;
      default:
        return `${e.message} (${e.code})`;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

/** The header's wallet and session controls. */
export function AccountBar(props: { purpose: string }) {
  const list = useWallets();
  const c = useConnection();
  const s = useSession();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void reconnectQuietly(list);
  }, [list.length]);

  // A session of another wallet than the connected one is not used.
  const signedIn = s && c && s.address.toLowerCase() === c.account.toLowerCase() ? s : null;
  useEffect(() => {
    if (s && c && s.address.toLowerCase() !== c.account.toLowerCase()) void signOut();
  }, [s?.address, c?.account]);

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

  const connectTo = (w: DiscoveredWallet) =>
    run("Connecting…", async () => {
      const conn = await connect(w);
      watch(conn);
      setConnection(conn);
    });

  return (
    <div class="account" data-testid="account">
      {!c && list.length === 0 && (
        <p class="muted" data-testid="no-wallet">
          No browser wallet found. Install an EVM wallet extension to {props.purpose}.
        </p>
      )}
      {!c &&
        list.map((w) => (
          <button key={w.info.uuid} type="button" class="primary" onClick={() => connectTo(w)} disabled={!!busy} data-testid="connect">
            {list.length > 1 ? `Connect ${w.info.name}` : "Connect wallet"}
          </button>
        ))}
      {c && (
        <span class="who">
          <Addr a={c.account} testid="connected-address" />
          {signedIn && (
            <span class="badge" data-testid="role">
              {signedIn.role}
            </span>
          )}
        </span>
      )}
      {c && !signedIn && (
        <button type="button" class="primary" onClick={() => run("Waiting for your signature…", () => signIn(c))} disabled={!!busy} data-testid="sign-in">
          Sign in
        </button>
      )}
      {signedIn && (
        <button type="button" onClick={() => run("Signing out…", signOut)} disabled={!!busy} data-testid="sign-out">
          Sign out
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
export function useSignedIn(): { session: Session; connection: Connection } | null {
  const c = useConnection();
  const s = useSession();
  if (!c || !s || s.address.toLowerCase() !== c.account.toLowerCase()) return null;
  return { session: s, connection: c };
}
