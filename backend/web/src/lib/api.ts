// The one way the pages talk to the backend: same-origin JSON, the session's bearer token, silent renewal.
//
// No script here ever holds the refresh token. Sign-in asks the server for a cookie session: the refresh token
// is an `HttpOnly; Secure; SameSite=Strict` cookie sent only to /v1/auth/, which the browser keeps and sends and
// no page (nor an injected script) can read. The access token lives in this page's memory only; a page loaded
// with a session (a reload, a second tab) gets its own at once by a renewal through the cookie. localStorage
// keeps nothing secret: which wallet is signed in and its role, so that pages know there is a session to renew
// and tabs follow each other's sign-in and sign-out.
//
// Refresh tokens rotate and a reused one revokes the whole session, so renewals must never overlap. They go
// through a service worker (session-worker.js) that outlives a reload and sends one at a time: whoever asks while
// one is in flight — this page reloaded meanwhile, another tab — gets that answer instead of presenting the
// cookie the answer is about to replace, and since the request is the worker's, the browser stores the rotated
// cookie even when the page that asked is gone. A reload mid-renewal therefore never presents a used token: the
// reloaded page's renewal joins the one in flight (or, once it is answered, uses the cookie it set). Renewals,
// sign-ins and sign-outs also take a cross-tab Web Lock, which is all there is where service workers are not.

import type { ErrorBody, Role, TokenPair } from "./types";
import WORKER from "./session-worker.js?worker&url";
import { saveFile } from "./save-file";
import { t } from "../i18n";

const STORAGE_KEY = "referral.session";
/** Written by versions that kept the tokens in localStorage; dropped (and that session ended) on load. */
const LEGACY_RENEWING_KEY = "referral.session.renewing";
/** How long a read may take before the page says the service did not answer (and offers to retry). */
export const API_TIMEOUT_MS = 15_000;
/**
 * An action's limit: longer than the server's own for a chain call (30 s), so that the page never gives up on a
 * payout submit or a signature the server is still making, and then offers to do it again.
 */
export const API_ACTION_TIMEOUT_MS = 60_000;
/** Renew this long before the access token expires. */
const RENEW_MARGIN_MS = 60_000;

/** Who is signed in: no token, nothing secret. */
export interface Session {
  address: string;
  role: Role;
}

/** This page's access token (memory only). */
interface Access {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * A refusal by the API: the stable code, the server's message and its `Retry-After` (seconds), if any. The client's own
 * failures (`timeout`, `offline`, `network`, `renewal_timeout`, and `http_<status>` for a 5xx without the API's error
 * body) carry a message of this page's, in the reader's language when it was made; `errorText` (ui/account) words them
 * again from their code, in the language of the moment.
 */
export class ApiError extends Error {
  /** When the answer came (epoch ms): `retryAfter` counts from here. */
  readonly at = Date.now();
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
    /** The message's facts as data, for the codes that give them (`error.details`: e.g. payment_outstanding's). */
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
  }
}

type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();
let current: Session | null = load();
let access: Access | null = null;
let renewTimer: ReturnType<typeof setTimeout> | undefined;

function load(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    const s = raw ? (JSON.parse(raw) as Partial<Session> & Record<string, unknown>) : null;
    if (!s || "refreshToken" in s || "accessToken" in s) return null;
    return typeof s.address === "string" && (s.role === "user" || s.role === "admin") ? { address: s.address, role: s.role } : null;
  } catch {
    return null;
  }
}

function store(s: Session | null, a: Access | null = null) {
  current = s;
  access = s ? a : null;
  if (s) localStorage.setItem(STORAGE_KEY, JSON.stringify({ address: s.address, role: s.role }));
  else localStorage.removeItem(STORAGE_KEY);
  schedule();
  for (const l of listeners) l(s);
}

// Another tab signed in (perhaps as another wallet) or signed out: this page's access token is no longer the
// session's; the next call renews through the cookie.
window.addEventListener("storage", (e) => {
  if (e.key !== STORAGE_KEY && e.key !== null) return;
  current = load();
  access = null;
  schedule();
  for (const l of listeners) l(current);
});

function schedule() {
  clearTimeout(renewTimer);
  if (!current || !access) return;
  const wait = Math.max(0, access.expiresAt - Date.now() - RENEW_MARGIN_MS);
  renewTimer = setTimeout(() => void renew().catch(() => undefined), wait);
}

export function session(): Session | null {
  return current;
}

export function onSession(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function fromPair(p: TokenPair): [Session, Access] {
  return [
    { address: p.address, role: p.role },
    { token: p.access_token, expiresAt: Date.now() + p.expires_in * 1000 },
  ];
}

async function withLock<T>(f: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? locks.request("referral.session.renew", f) : f();
}

/**
 * Signs in with a signed EIP-4361 message as a cookie session (the refresh token only in the HttpOnly cookie).
 * Under the lock, so that no renewal of this browser is in flight meanwhile to overwrite the new cookie.
 */
export async function signIn(message: string, signature: string): Promise<Session> {
  const pair = await withLock(() =>
    request<TokenPair>("POST", "/v1/auth/signin", { message, signature, refresh_token_in: "cookie" }, false),
  );
  const [s, a] = fromPair(pair);
  store(s, a);
  void renewer();
  return s;
}

let renewing: Promise<Session | null> | null = null;

/** A new access token through the refresh cookie (the cookie rotates); signs out when the server refuses it. */
export function renew(): Promise<Session | null> {
  renewing ??= withLock(async () => {
    // Signed out meanwhile (another tab): nothing to renew.
    if (!load()) {
      store(null);
      return null;
    }
    try {
      const [s, a] = fromPair(await exchange());
      store(s, a);
      return s;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) store(null);
      throw e;
    }
  }).finally(() => {
    renewing = null;
  });
  return renewing;
}

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

/** The cookie's refresh token → a new pair (and a new cookie), through the worker when there is one. */
async function exchange(): Promise<TokenPair> {
  const w = await renewer();
  if (!w) return request<TokenPair>("POST", "/v1/auth/refresh", {}, false, true);
  const a = await new Promise<Answer>((resolve, reject) => {
    const ch = new MessageChannel();
    const timer = setTimeout(() => reject(new ApiError(0, "renewal_timeout", t("api.renewal_timeout"))), 30_000);
    ch.port1.onmessage = (e) => {
      clearTimeout(timer);
      resolve(e.data as Answer);
    };
    w.postMessage({ type: "renew" }, [ch.port2]);
  });
  // The worker's fetch failed (its text is the browser's TypeError): the service could not be reached.
  if (a.status === 0) throw new ApiError(0, "network", t("api.network"));
  return answer<TokenPair>(a.status, a.statusText, a.text, a.retryAfter);
}

/** Ends the session on the server (the cookie's family) and removes the cookie. */
export async function signOut() {
  const had = current;
  store(null);
  if (!had) return;
  // Requests the session already sent are answered before it is revoked (at most a few seconds' wait), so none of
  // them meets a 401 for a session the page itself just ended.
  await Promise.race([Promise.allSettled([...authed]), new Promise((r) => setTimeout(r, 3_000))]);
  await request("POST", "/v1/auth/logout", {}, false).catch(() => undefined);
}

/** Requests in flight with the session's token. */
const authed = new Set<Promise<unknown>>();

/** `keepalive`: the request outlives the page (a renewal without the worker, whose answer sets the cookie). */
async function request<T>(method: string, path: string, body: unknown, auth: boolean, keepalive = false): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (auth && access) headers.authorization = `Bearer ${access.token}`;
  // A stalled API is an error the page can offer to retry, never "Loading…" forever.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), method === "GET" ? API_TIMEOUT_MS : API_ACTION_TIMEOUT_MS);
  try {
    const sent = fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
      signal: abort.signal,
    });
    if (headers.authorization) {
      authed.add(sent);
      void sent.then(
        () => authed.delete(sent),
        () => authed.delete(sent),
      );
    }
    const res = await sent;
    if (res.status === 204) return undefined as T;
    return answer<T>(res.status, res.statusText, await res.text(), res.headers.get("retry-after"));
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (abort.signal.aborted) throw new ApiError(0, "timeout", t("api.timeout"));
    // Only the browser knows whether it is offline; otherwise the service is down or restarting, not the member's line.
    if (typeof navigator !== "undefined" && navigator.onLine === false)
      throw new ApiError(0, "offline", t("api.offline"));
    throw new ApiError(0, "network", t("api.network"));
  } finally {
    clearTimeout(timer);
  }
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
    // A failure of the service itself: say so, and that the page changed nothing (the API's writes are all-or-nothing).
    if (status >= 500 && !err)
      throw new ApiError(status, `http_${status}`, t("api.failed", { status: String(status) }), Number.isFinite(retry) && retry >= 0 ? retry : null);
    throw new ApiError(
      status,
      err?.code ?? `http_${status}`,
      err?.message ?? `${status} ${statusText}`,
      Number.isFinite(retry) && retry >= 0 ? retry : null,
      err?.details && typeof err.details === "object" ? (err.details as Record<string, unknown>) : null,
    );
  }
  return json as T;
}

/** A call as the signed-in wallet: renews first when this page has no (or a nearly expired) access token, and once more on a 401. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (current && (!access || access.expiresAt - Date.now() < 5_000)) await renew().catch(() => undefined);
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

/**
 * Saves what a GET answers (a CSV statement) as a file named `filename`, fetched with the session (a plain link would
 * carry no token). The API streams it; the browser keeps it in memory only until it is saved.
 */
export async function download(path: string, query: Record<string, string | number | undefined>, filename: string): Promise<void> {
  if (current && (!access || access.expiresAt - Date.now() < 5_000)) await renew().catch(() => undefined);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") q.set(k, String(v));
  const headers: Record<string, string> = { accept: "text/csv" };
  if (access) headers.authorization = `Bearer ${access.token}`;
  let res: Response;
  try {
    res = await fetch(`${path}?${q}`, { headers });
  } catch {
    throw new ApiError(0, "network", t("api.network"));
  }
  if (!res.ok) answer<never>(res.status, res.statusText, await res.text(), res.headers.get("retry-after"));
  saveFile(filename, await res.blob());
}
/** Without the session (public endpoints, sign-in). */
export const publicCall = <T>(method: string, path: string, body?: unknown) => request<T>(method, path, body, false);

/**
 * A session kept by an older version of this page (its tokens in localStorage, readable by script): ended on the
 * server with the token it held, and forgotten; the wallet signs in again into a cookie session.
 */
function dropLegacySession() {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    const old = raw ? (JSON.parse(raw) as { refreshToken?: unknown }) : null;
    if (old && typeof old === "object" && ("refreshToken" in old || "accessToken" in old)) {
      localStorage.removeItem(STORAGE_KEY);
      if (typeof old.refreshToken === "string") {
        void request("POST", "/v1/auth/logout", { refresh_token: old.refreshToken }, false).catch(() => undefined);
      }
    }
  } catch {
    localStorage.removeItem(STORAGE_KEY);
  }
  localStorage.removeItem(LEGACY_RENEWING_KEY);
}

dropLegacySession();
// A page loaded with a session gets its access token now, through the cookie (and the worker, ready for later).
if (current) void renew().catch(() => undefined);
