// Renews the session for the pages (src/lib/api.ts) through the refresh cookie: HttpOnly, so neither this worker
// nor any page can read it; the browser sends it with the request and stores the next one from the answer's
// Set-Cookie. Refresh tokens rotate and a reused one revokes the whole session, so two renewals must never
// overlap: the second would present the cookie the first is about to replace. This worker sends one renewal at a
// time, and whoever asks while it is in flight — the page that sent it, reloaded meanwhile, or another tab — gets
// that same answer instead of a second request. The request is the worker's, not a page's: a page reloaded or
// closed mid-renewal does not cancel it, so the browser still stores the rotated cookie when the answer comes.
//
// Built under a content-hashed name (imported with `?worker&url`), so a new version is a new URL and the
// backend may cache it for good.

/** @typedef {{ status: number, statusText: string, text: string, retryAfter: string | null }} Answer */
/** The worker's global scope (the page's DOM typings do not describe it). @type {any} */
const scope = self;
/** The renewal in flight: its answer, shared by everyone who asks until it is settled. @type {Promise<Answer> | null} */
let inflight = null;
let sent = 0;
let joined = 0;

scope.addEventListener("install", () => scope.skipWaiting());

scope.addEventListener("message", (/** @type {any} */ event) => {
  const port = event.ports[0];
  const m = event.data || {};
  if (!port) return;
  if (m.type === "stats") {
    port.postMessage({ sent, joined, inflight: inflight !== null });
    return;
  }
  if (m.type !== "renew") return;
  let answer = inflight;
  if (answer) {
    joined += 1;
  } else {
    sent += 1;
    answer = inflight = fetch("/v1/auth/refresh", {
      method: "POST",
      // JSON, and the token left out: the server takes the cookie's (and checks this origin).
      headers: { accept: "application/json", "content-type": "application/json" },
      body: "{}",
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(
        async (r) => ({ status: r.status, statusText: r.statusText, text: await r.text(), retryAfter: r.headers.get("retry-after") }),
        (e) => ({ status: 0, statusText: "network error", text: String(e), retryAfter: null }),
      )
      .finally(() => {
        inflight = null;
      });
  }
  // Keeps the worker alive until the answer is handed over, even when the asking page is gone.
  event.waitUntil(answer.then((a) => port.postMessage(a)));
});
