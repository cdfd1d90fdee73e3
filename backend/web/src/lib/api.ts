// The one way the pages talk to the backend: same-origin JSON, the session's bearer token, silent renewal.
//
// The session (access token, its expiry, the rotating refresh token) is kept in localStorage so a reload or a
// second tab stays signed in. Refresh tokens rotate and a reused one revokes the whole session, so renewal
// runs under a cross-tab Web Lock and first re-reads storage: a tab that lost the race takes the winner's pair.

import type { ErrorBody, Role, TokenPair } from "./types";

const STORAGE_KEY = "referral.session";
/** Renew this long before the access token expires. */
const RENEW_MARGIN_MS = 60_000;

export interface Session {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  refreshToken: string;
  address: string;
  role: Role;
}

/** A refusal by the API: the stable code and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();
let current: Session | null = load();
let renewTimer: ReturnType<typeof setTimeout> | undefined;

function load(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function store(s: Session | null) {
  current = s;
  if (s) localStorage.setItem(STORAGE_KEY, JSON.stringify(s));
  else localStorage.removeItem(STORAGE_KEY);
  schedule();
  for (const l of listeners) l(s);
}

// Another tab signed in, renewed or signed out.
window.addEventListener("storage", (e) => {
  if (e.key !== STORAGE_KEY) return;
  current = load();
  schedule();
  for (const l of listeners) l(current);
});

function schedule() {
  clearTimeout(renewTimer);
  if (!current) return;
  const wait = Math.max(0, current.expiresAt - Date.now() - RENEW_MARGIN_MS);
  renewTimer = setTimeout(() => void renew().catch(() => undefined), wait);
}

export function session(): Session | null {
  return current;
}

export function onSession(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function startSession(pair: TokenPair) {
  store(fromPair(pair));
}

function fromPair(p: TokenPair): Session {
  return {
    accessToken: p.access_token,
    expiresAt: Date.now() + p.expires_in * 1000,
    refreshToken: p.refresh_token,
    address: p.address,
    role: p.role,
  };
}

async function withLock<T>(f: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? locks.request("referral.session.renew", f) : f();
}

let renewing: Promise<Session | null> | null = null;

/**
 * Exchanges the refresh token for a new pair; signs out when the server refuses it. Inside the lock the stored
 * session is read again: when it is no longer the one this tab wanted to renew, another tab has renewed it
 * meanwhile, and that pair is taken instead of rotating once more (which the server would see as a reuse).
 */
export function renew(): Promise<Session | null> {
  const asked = current?.refreshToken;
  renewing ??= withLock(async () => {
    const stored = load();
    if (!stored) {
      store(null);
      return null;
    }
    if (stored.refreshToken !== asked) {
      store(stored);
      return stored;
    }
    try {
      const pair = await request<TokenPair>("POST", "/v1/auth/refresh", { refresh_token: stored.refreshToken }, false);
      const next = fromPair(pair);
      store(next);
      return next;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) store(null);
      throw e;
    }
  }).finally(() => {
    renewing = null;
  });
  return renewing;
}

export async function signOut() {
  const s = current;
  store(null);
  if (s) await request("POST", "/v1/auth/logout", { refresh_token: s.refreshToken }, false).catch(() => undefined);
}

async function request<T>(method: string, path: string, body: unknown, auth: boolean): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (auth && current) headers.authorization = `Bearer ${current.accessToken}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's page): reported below by status.
  }
  if (!res.ok) {
    const err = (json as ErrorBody | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? `${res.status} ${res.statusText}`);
  }
  return json as T;
}

/** A call as the signed-in wallet: renews first when the token is (nearly) expired, and once more on a 401. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (current && current.expiresAt - Date.now() < 5_000) await renew().catch(() => undefined);
  try {
    return await request<T>(method, path, body, true);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && current) {
      await renew();
      return request<T>(method, path, body, true);
    }
    throw e;
  }
}

export const get = <T>(path: string, query?: Record<string, string | number | boolean | null | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return call<T>("GET", s ? `${path}?${s}` : path);
};
export const post = <T>(path: string, body: unknown) => call<T>("POST", path, body);
/** Without the session (public endpoints, sign-in). */
export const publicCall = <T>(method: string, path: string, body?: unknown) => request<T>(method, path, body, false);

schedule();
