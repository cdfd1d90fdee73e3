// Renews the session for the pages (src/lib/api.ts). Refresh tokens rotate and a reused one revokes the whole
// session, so the answer to a renewal must never be lost: a page that reloads while its renewal is in flight
// would otherwise keep the old, now used, token. This worker outlives the page: it sends the renewal, keeps the
// answer by the refresh token it was asked for, and gives that same answer to whoever asks again with that
// token (the reloaded page) instead of presenting the token a second time. Answers are kept in memory while the
// worker lives (at least ~30 s after its last event; a reload takes well under that).
const answers = new Map();
let replayed = 0;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("message", (event) => {
  const port = event.ports[0];
  const m = event.data || {};
  if (!port) return;
  if (m.type === "stats") {
    port.postMessage({ replayed, kept: answers.size });
    return;
  }
  if (m.type !== "renew" || typeof m.refreshToken !== "string") return;
  let answer = answers.get(m.refreshToken);
  if (answer) {
    replayed += 1;
  } else {
    answer = fetch("/v1/auth/refresh", {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: m.refreshToken }),
      cache: "no-store",
    }).then(
      async (r) => ({ status: r.status, statusText: r.statusText, text: await r.text(), retryAfter: r.headers.get("retry-after") }),
      (e) => ({ status: 0, statusText: "network error", text: String(e), retryAfter: null }),
    );
    answers.set(m.refreshToken, answer);
    void answer.then((a) => {
      // A network failure may be retried with the same token; an answer is kept for a while, then forgotten.
      if (a.status === 0) answers.delete(m.refreshToken);
      else setTimeout(() => answers.delete(m.refreshToken), 120_000);
    });
  }
  event.waitUntil(answer.then((a) => port.postMessage(a)));
});
