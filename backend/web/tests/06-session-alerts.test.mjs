// The session survives a reload in the middle of a renewal through the refresh cookie (held in flight by a locked
// database row), without the server ever seeing a used refresh token again; and an admin acknowledges a real open alert: a treasury transfer executed on-chain that
// no one asked the API for (signed with the devnet signer's key outside the signer service, as a leaked key
// would be), which the listener reports as `treasury_transfer_unknown`.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeFunctionData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { howEnded, runSync } from "./lib/child.mjs";
import { ANVIL_KEYS, Api, BASE, CHAIN, CHAIN_ID, DEVNET, RPC, SETTLEMENT_ABI, assertOutOfScriptReach, chain, freshKey, openBrowser, refreshCookie, signInThroughPage, test, until } from "./lib/stack.mjs";
import { TestWallet } from "./lib/wallet.mjs";

/**
 * What the session worker did since it started: `sent` renewals, `joined` askers given the answer of the renewal
 * in flight instead of a request of their own, and whether one is `inflight` now.
 */
const workerStats = (page) =>
  page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration("/assets/session-worker/");
    if (!reg?.active) return null;
    const ch = new MessageChannel();
    const answer = new Promise((r) => (ch.port1.onmessage = (e) => r(e.data)));
    reg.active.postMessage({ type: "stats" }, [ch.port2]);
    return answer;
  });

/** The devnet's database (scripts/devnet.sh writes it into the backend's config), or WEB_TEST_DATABASE_URL. */
function databaseUrl() {
  if (process.env.WEB_TEST_DATABASE_URL) return process.env.WEB_TEST_DATABASE_URL;
  const toml = readFileSync(join(DEVNET, "backend.toml"), "utf8");
  return toml.slice(toml.indexOf("[database]")).match(/^url\s*=\s*"([^"]+)"/m)[1];
}

/**
 * Holds the database row of a refresh token locked (psql, in an open transaction): the API's renewal of that
 * token waits for it — a slow database, nothing else changed. `release()` commits and lets it through.
 */
async function holdRefreshToken(token) {
  const digest = createHash("sha256").update(token).digest("hex");
  const psql = spawn("psql", [databaseUrl(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  psql.stdout.on("data", (d) => (out += d));
  psql.stderr.on("data", (d) => (out += d));
  const ended = new Promise((r) => psql.on("exit", (code, signal) => r({ code, signal })));
  psql.stdin.write(`BEGIN;\nSELECT 'locked ' || count(*) FROM (SELECT 1 FROM refresh_tokens WHERE token_hash = decode('${digest}', 'hex') FOR UPDATE) t;\n`);
  await until("the refresh token's row locked", () => /locked 1/.test(out) || (/locked 0|ERROR/.test(out) && Promise.reject(new Error(out))), { timeout: 15_000 });
  return {
    async release() {
      psql.stdin.end("COMMIT;\n");
      const { code, signal } = await ended;
      assert.equal(code, 0, `psql holding the refresh token's row ended with ${howEnded(code, signal)}: ${out}`);
    },
  };
}

/** The session (family) of refresh token `token` in the database: its tokens, how many were used, how many revoked. */
function family(token) {
  const digest = createHash("sha256").update(token).digest("hex");
  const sql = `SELECT count(*) || ' ' || count(used_at) || ' ' || count(revoked_at) FROM refresh_tokens
    WHERE family = (SELECT family FROM refresh_tokens WHERE token_hash = decode('${digest}', 'hex'))`;
  const [tokens, used, revoked] = runSync("psql", [databaseUrl(), "-X", "-q", "-t", "-A", "-c", sql], { encoding: "utf8" }).trim().split(" ").map(Number);
  return { tokens, used, revoked };
}

/** How many API connections wait for a row lock on refresh_tokens right now (a renewal in flight at the server). */
function renewalsWaiting() {
  const sql = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%FROM refresh_tokens WHERE token_hash%'";
  return Number(runSync("psql", [databaseUrl(), "-X", "-q", "-t", "-A", "-c", sql], { encoding: "utf8" }).trim());
}

test("a reload while the session is being renewed keeps the user signed in; no refresh token is presented twice", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, context } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  await page.getByTestId("not-registered").waitFor();
  const first = await refreshCookie(context);
  await until("the session worker active", async () => (await workerStats(page)) !== null, { timeout: 15_000 });

  // The database holds the refresh token's row: the renewal the page starts stays in flight at the server.
  const lock = await holdRefreshToken(first.value);
  try {
    // A page loaded with a session renews at once (its access token is in memory only).
    await page.reload();
    await until("the renewal in flight at the server", async () => renewalsWaiting() === 1, { timeout: 15_000 });
    // Reloaded now: the page that sent the renewal is gone before its answer exists.
    await page.reload();
    await page.getByTestId("connected-address").waitFor();
    // The reloaded page's renewal joins the one in flight instead of presenting the same cookie again.
    const joined = await until("the reloaded page joined the renewal in flight", async () => {
      const s = await workerStats(page);
      return s && s.joined >= 1 && s;
    }, { timeout: 15_000 });
    assert.deepEqual(joined, { sent: 1, joined: 1, inflight: true });
    assert.equal(renewalsWaiting(), 1, "still one renewal at the server");
    assert.equal((await refreshCookie(context)).value, first.value, "nothing renewed yet");
  } finally {
    await lock.release();
  }
  // The answer of the request already sent sets the rotated cookie (the request was the worker's, not the reloaded
  // page's) and gives the page its access token.
  const renewed = await until("the rotated cookie stored", async () => {
    const c = await refreshCookie(context);
    return c && c.value !== first.value && c;
  }, { timeout: 30_000 });
  await page.getByTestId("sign-out").waitFor();
  await page.getByTestId("not-registered").waitFor();
  assert.equal(await page.getByTestId("role").innerText(), "user");
  assert.deepEqual(await workerStats(page), { sent: 1, joined: 1, inflight: false }, "one request for both pages");
  // One rotation, nothing revoked: the server never saw the used token again.
  assert.deepEqual(family(renewed.value), { tokens: 2, used: 1, revoked: 0 });
  await assertOutOfScriptReach(page, [first.value, renewed.value]);

  // Another reload keeps it (and rotates once more).
  await page.reload();
  await page.getByTestId("not-registered").waitFor();
  const last = await until("the cookie rotated again", async () => {
    const c = await refreshCookie(context);
    return c && c.value !== renewed.value && c;
  });
  assert.deepEqual(family(last.value), { tokens: 3, used: 2, revoked: 0 });
  await b.screenshot("06-session-after-interrupted-renewal");
  await b.close();

  // The session is alive: the browser's last token works at the API.
  const r = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: last.value });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const me = await Api.raw("GET", "/v1/users/me", undefined, r.body.access_token);
  assert.equal(me.status, 200);
  // And the first token was really used by the renewal the first page sent: presenting it now is refused.
  const reused = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: first.value });
  assert.equal(reused.status, 401);
});


test("admin acknowledges a real open alert (a treasury transfer no one asked the API for); the API shows it acknowledged", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  // The devnet signer's key (anvil #1) signs a transfer of 1 000 wei to a fresh wallet, outside the signer
  // service; the admin, who holds the treasurer role, sends it. A nonce far from the API's own transfers.
  const signerKey = privateKeyToAccount(ANVIL_KEYS[1]);
  const to = privateKeyToAccount(await freshKey()).address;
  const nonce = (3n << 254n) + (1n << 200n) + BigInt(Math.floor(Math.random() * 1e9));
  const block = await chain.getBlock();
  const t = { token: "0x0000000000000000000000000000000000000000", to, amount: 1000n, nonce, deadline: block.timestamp + 600n };
  const signature = await signerKey.signTypedData({
    domain: { name: "ReferralSettlement", version: "1", chainId: CHAIN_ID, verifyingContract: CHAIN.settlement },
    types: {
      TreasuryTransfer: [
        { name: "token", type: "address" },
        { name: "to", type: "address" },
        { name: "amount", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    primaryType: "TreasuryTransfer",
    message: t,
  });
  const treasurer = new TestWallet({ key: ANVIL_KEYS[0], rpcUrl: RPC, chainId: CHAIN_ID });
  const held = await chain.getBalance({ address: to });
  const hash = await treasurer.client.sendTransaction({
    to: CHAIN.settlement,
    data: encodeFunctionData({ abi: SETTLEMENT_ABI, functionName: "transferTreasury", args: [t, signature] }),
  });
  assert.equal((await chain.waitForTransactionReceipt({ hash })).status, "success");
  assert.equal(await chain.getBalance({ address: to }), held + 1000n);

  // The listener applies it (2 confirmations) and raises the alert.
  const alert = await until("the listener's treasury_transfer_unknown alert", async () => {
    const logs = await admin.get("/v1/admin/logs?kind=alerts&limit=50");
    return logs.alerts.find((a) => a.kind === "treasury_transfer_unknown" && a.message.includes(nonce.toString()));
  }, { timeout: 90_000 });
  assert.equal(alert.acknowledged_at, null);
  assert.match(alert.message, new RegExp(`of 1000 to ${to}`, "i"));

  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  await page.getByTestId("tab-monitoring").click();
  const item = page.getByTestId("alerts").getByTestId("alert").filter({ hasText: nonce.toString() });
  await item.waitFor();
  // Named in words; its kind (what the runbooks are filed under) on hover.
  assert.equal(await item.getByTestId("alert-title").innerText(), "Funds left custody without a transfer signed here");
  assert.equal(await item.getByTestId("alert-title").getAttribute("title"), "treasury_transfer_unknown");
  await b.screenshot("06-alert-open");
  await item.getByTestId("ack").click();
  const dialog = page.locator("dialog.confirm");
  assert.match(await dialog.innerText(), new RegExp(`Acknowledge alert ${alert.id}`));
  assert.match(await dialog.innerText(), /as seen by you \(audited\)/);
  await dialog.getByTestId("confirm-ok").click();
  // Gone from the open alerts in the page…
  await until("the alert left the open list", async () => (await item.count()) === 0);
  // …acknowledged in the API, and audited under this admin.
  const all = await admin.get("/v1/admin/logs?kind=alerts&all=true&limit=50");
  const acked = all.alerts.find((a) => a.id === alert.id);
  assert.ok(acked?.acknowledged_at, JSON.stringify(acked));
  const open = await admin.get("/v1/admin/logs?kind=alerts&limit=50");
  assert.equal(open.alerts.some((a) => a.id === alert.id), false);
  const audit = await admin.get("/v1/admin/audit?limit=5");
  const entry = audit.items.find((e) => e.action === "ack_alert" && e.target === `alert ${alert.id}`);
  assert.ok(entry, JSON.stringify(audit.items.slice(0, 3)));
  assert.equal(entry.actor.toLowerCase(), admin.address.toLowerCase());
  // With acknowledged ones included, the page shows when.
  await page.getByTestId("alerts").getByLabel("include acknowledged").check();
  await until("the acknowledged alert listed as such", async () => /acknowledged/.test(await item.innerText().catch(() => "")));
  await b.screenshot("06-alert-acknowledged");
  // A second acknowledgement is refused (409): the state really changed.
  const again = await Api.raw("POST", `/v1/admin/alerts/${alert.id}/ack`, {}, admin.token);
  assert.equal(again.status, 409);
  await b.close();
});

