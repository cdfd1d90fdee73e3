// The one way the pages talk to the backend: same-origin JSON, the session's bearer token, silent renewal.
//
// The session (access token, its expiry, the rotating refresh token) is kept in localStorage so a reload or a
// second tab stays signed in. Refresh tokens rotate and a reused one revokes the whole session, so renewal
// runs under a cross-tab Web Lock and first re-reads storage: a tab that lost the race takes the winner's pair.
// The exchange itself goes through a service worker (public/assets/session-worker.js) that outlives a reload:
// a page reloaded while its renewal was in flight asks again with the same token and gets the same answer,
// never presenting the used token to the server. A marker in storage says a renewal was sent, so the reloaded
// page finishes it at once; the new pair is stored before anything uses it.

import type { ErrorBody, Role, TokenPair } from "./types";

const STORAGE_KEY = "referral.session";
/** The refresh token of a renewal sent and not yet stored (a reload in between finishes it at once). */
const RENEWING_KEY = "referral.session.renewing";
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

/** A refusal by the API: the stable code, the server's message and its `Retry-After` (seconds), if any. */
export class ApiError extends Error {
  /** When the answer came (epoch ms): `retryAfter` counts from here. */
  readonly at = Date.now();
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
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
  const interrupted = localStorage.getItem(RENEWING_KEY) === current.refreshToken;
  const wait = interrupted ? 0 : Math.max(0, current.expiresAt - Date.now() - RENEW_MARGIN_MS);
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
  void renewer();
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
      const pair = await exchange(stored.refreshToken);
      const next = fromPair(pair);
      store(next);
      return next;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) store(null);
      throw e;
    } finally {
      if (localStorage.getItem(RENEWING_KEY) === stored.refreshToken) localStorage.removeItem(RENEWING_KEY);
    }
  }).finally(() => {
    renewing = null;
  });
  return renewing;
}

const WORKER = "/assets/session-worker.js";
let worker: Promise<ServiceWorker | null> | undefined;

/** The renewal worker, once active; `null` where service workers are not available (then the page renews itself). */
function renewer(): Promise<ServiceWorker | null> {
  worker ??= (async () => {
    const sw = navigator.serviceWorker;
    if (!sw) return null;
    try {
      // Its own scope: it controls no page, it only answers messages.
      const reg = await sw.register(WORKER, { scope: "/assets/session-worker/" });
      const w = reg.active ?? reg.waiting ?? reg.installing;
      if (!w) return null;
      while (w.state !== "activated") {
        if (w.state === "redundant") return reg.active;
        await new Promise((r) => w.addEventListener("statechange", r, { once: true }));
      }
      return w;
    } catch {
      return null;
    }
  })();
  return worker;
}

interface Answer {
  status: number;
  statusText: string;
  text: string;
  retryAfter: string | null;
}

/** Refresh token → new pair, through the worker when there is one; the marker is written just before it is sent. */
async function exchange(refreshToken: string): Promise<TokenPair> {
  const w = await renewer();
  localStorage.setItem(RENEWING_KEY, refreshToken);
  if (!w) return request<TokenPair>("POST", "/v1/auth/refresh", { refresh_token: refreshToken }, false);
  const a = await new Promise<Answer>((resolve, reject) => {
    const ch = new MessageChannel();
    const timer = setTimeout(() => reject(new ApiError(0, "renewal_timeout", "the session renewal did not answer")), 30_000);
    ch.port1.onmessage = (e) => {
      clearTimeout(timer);
      resolve(e.data as Answer);
    };
    w.postMessage({ type: "renew", refreshToken }, [ch.port2]);
  });
  if (a.status === 0) throw new ApiError(0, "network", a.text);
  return answer<TokenPair>(a.status, a.statusText, a.text, a.retryAfter);
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
  return answer<T>(res.status, res.statusText, await res.text(), res.headers.get("retry-after"));
}

function answer<T>(status: number, statusText: string, text: string, retryAfter: string | null): T {
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's page): reported below by status.
  }
  if (status < 200 || status > 299) {
    const err = (json as ErrorBody | undefined)?.error;
    const retry = Number(retryAfter ?? NaN);
    throw new ApiError(
      status,
      err?.code ?? `http_${status}`,
      err?.message ?? `${status} ${statusText}`,
      Number.isFinite(retry) && retry >= 0 ? retry : null,
    );
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
// Ready before the first renewal is due.
if (current) void renewer();
