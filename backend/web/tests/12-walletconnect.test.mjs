// WalletConnect (issue 26, "Phones"): a phone without an injected wallet connects its wallet app through
// WalletConnect. First, in Node alone, the devnet's relay stand-in (scripts/wc-relay.mjs): two real sign-clients pair
// and sign through it, a message waits on its topic for a later subscriber, and malformed requests get JSON-RPC
// errors. Then the dApp at 390 px with no injected wallet: the pairing (QR code, URI, wallet-app links) taken by a
// real WalletConnect wallet in Node (tests/lib/wc-wallet.mjs), sign-in and a BNB registration through a referral link
// paid by it exactly once, a reload that keeps the session, a rejected request in words, and a disconnect — the page
// talking only to its own origin, the configured relay and the chain's public RPC.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, test as nodeTest } from "node:test";
import { formatEther, recoverMessageAddress, stringToHex } from "viem";
import WebSocket from "ws";
import { LIMITS, startRelay } from "../scripts/wc-relay.mjs";
import { until } from "./lib/poll.mjs";
import { assertNoEnglishIn, message, speak } from "./lib/page-checks.mjs";
import { WcWallet, closeSignClient, nodeSignClient } from "./lib/wc-wallet.mjs";

// The clients leave long timers behind (a request's 15-minute expiry, a publish's 60-second limit) that nothing
// cancels: once every test is done, the file's process ends without waiting for them.
after(() => setImmediate(() => process.exit()));

const ANVIL_KEY_3 = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const NAMESPACE = { eip155: { chains: ["eip155:31337"], methods: ["personal_sign", "eth_sendTransaction"], events: ["accountsChanged", "chainChanged"] } };
const topic = (n) => n.toString(16).padStart(64, "0");

/** A raw connection to the relay, authenticated with a JWT signed by a real client's key. */
async function rawSocket(relay, jwtFrom) {
  const auth = await jwtFrom.core.crypto.signJWT(relay.url);
  const ws = new WebSocket(`${relay.url}/?auth=${auth}&projectId=devnet&ua=test`);
  const frames = [];
  ws.on("message", (d) => frames.push(d.toString()));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let next = 0;
  return {
    ws,
    frames,
    /** Sends raw text; the answer to it (by id when there is one, else the next frame). */
    async ask(text, id) {
      const from = frames.length;
      ws.send(text);
      const found = await until(`an answer to ${text.slice(0, 80)}`, () =>
        frames.slice(from).find((f) => (id === undefined ? !JSON.parse(f).method : f.includes(`"id":${id}`))),
      );
      return JSON.parse(found);
    },
    call(method, params) {
      const id = 1_000 + next++;
      return this.ask(JSON.stringify({ id, jsonrpc: "2.0", method, params }), id);
    },
  };
}

nodeTest("relay stand-in: two sign-clients pair, sign and disconnect through it; stored messages reach a later subscriber", async () => {
  const relay = await startRelay();
  const dapp = await nodeSignClient({ relayUrl: relay.url, name: "dApp" });
  const wallet = await WcWallet.create({ key: ANVIL_KEY_3, rpcUrl: "http://127.0.0.1:1", chainId: 31337, relayUrl: relay.url });
  try {
    const { uri, approval } = await dapp.connect({ optionalNamespaces: NAMESPACE });
    assert.match(uri, /^wc:[0-9a-f]{64}@2\?/);
    // The proposal waits on the pairing topic: the wallet subscribes after it was published.
    await wallet.pair(uri);
    const session = await approval();
    assert.deepEqual(session.namespaces.eip155.accounts, [`eip155:31337:${wallet.address}`]);
    const message = "Sign in through the relay stand-in";
    const signature = await dapp.request({
      topic: session.topic,
      chainId: "eip155:31337",
      request: { method: "personal_sign", params: [stringToHex(message), wallet.address] },
    });
    assert.equal(await recoverMessageAddress({ message, signature }), wallet.address);
    assert.deepEqual(wallet.log.map((r) => [r.method, r.answered]), [["personal_sign", "result"]]);

    // A rejected request comes back as the SDK's "User rejected." (5000).
    wallet.rejectNextRequest = true;
    await assert.rejects(
      dapp.request({ topic: session.topic, chainId: "eip155:31337", request: { method: "personal_sign", params: ["0x00", wallet.address] } }),
      (e) => e.code === 5000,
    );

    await dapp.disconnect({ topic: session.topic, reason: { code: 6000, message: "User disconnected." } });
    await until("the wallet hears session_delete", () => wallet.deleted.includes(session.topic));

    // What the client sent: the proposal and the approval through the relay's composite methods.
    const methods = new Set(relay.log.filter((l) => !l.error).map((l) => l.method));
    for (const m of ["wc_proposeSession", "wc_approveSession", "irn_subscribe", "irn_publish", "irn_unsubscribe"]) assert.ok(methods.has(m), `${m} used`);
    assert.deepEqual(relay.log.filter((l) => l.error), [], "the real client sent nothing the relay refused");

    // A message is kept on its topic for a later subscriber, never echoed to its publisher.
    const a = await rawSocket(relay, dapp);
    const b = await rawSocket(relay, wallet.client);
    const t = topic(0xabc);
    assert.equal((await a.call("irn_subscribe", { topic: t })).result.length, 64);
    assert.equal((await a.call("irn_publish", { topic: t, message: "hello", ttl: 300, tag: 1108, prompt: true })).result, true);
    assert.equal(relay.stored(t), 1);
    const sub = await b.call("irn_subscribe", { topic: t });
    const delivered = await until("the stored message delivered", () => b.frames.map((f) => JSON.parse(f)).find((f) => f.method === "irn_subscription"));
    assert.equal(delivered.params.id, sub.result);
    assert.deepEqual({ ...delivered.params.data, publishedAt: 0 }, { topic: t, message: "hello", publishedAt: 0, tag: 1108 });
    assert.ok(!a.frames.some((f) => f.includes('"irn_subscription"')), "not echoed to the publisher");
    // Acknowledged: a second subscription of the same client gets it no more; fetching finds nothing left for it.
    b.ws.send(JSON.stringify({ id: delivered.id, jsonrpc: "2.0", result: true }));
    await until("the acknowledgement", async () => (await b.call("irn_batchFetchMessages", { topics: [t] })).result.messages.length === 0);
    a.ws.close();
    b.ws.close();
  } finally {
    await wallet.close();
    await closeSignClient(dapp);
    await relay.close();
  }
});

nodeTest("relay stand-in: malformed or refused requests get JSON-RPC errors; no auth, no connection", async () => {
  const relay = await startRelay();
  const client = await nodeSignClient({ relayUrl: relay.url, name: "probe" });
  try {
    const s = await rawSocket(relay, client);
    const t = topic(1);
    const publish = (p) => s.call("irn_publish", { topic: t, message: "m", ttl: 300, tag: 1, ...p });
    const refused = async (answer, code, tag) => {
      assert.ok(answer.error, `an error: ${JSON.stringify(answer)}`);
      assert.equal(answer.error.code, code, JSON.stringify(answer));
      assert.equal(answer.error.data, tag, JSON.stringify(answer));
    };
    await refused(await s.ask("{not json"), -32700, "Serialization");
    await refused(await s.ask("[1,2]"), -32600, "Serialization");
    await refused(await s.ask(JSON.stringify({ id: 7, jsonrpc: "1.0", method: "irn_subscribe", params: { topic: t } }), 7), -32600, "InvalidJsonRpcVersion");
    await refused(await s.ask(JSON.stringify({ jsonrpc: "2.0", method: "irn_subscribe", params: { topic: t } })), -32600, "InvalidRequestId");
    await refused(await s.call("irn_teleport", { topic: t }), -32600, "InvalidMethod");
    await refused(await s.call("irn_subscribe", { topic: "abc" }), -32600, "InvalidTopic");
    await refused(await s.call("irn_subscribe", { topic: t.toUpperCase().slice(1) }), -32600, "InvalidTopic");
    await refused(await s.call("irn_subscribe", {}), -32600, "InvalidParams");
    await refused(await publish({ ttl: LIMITS.MIN_TTL - 1 }), -32000, "TtlTooShort");
    await refused(await publish({ ttl: LIMITS.MAX_TTL + 1 }), -32000, "TtlTooLong");
    await refused(await publish({ ttl: 300.5 }), -32600, "InvalidParams");
    await refused(await publish({ message: 42 }), -32600, "InvalidParams");
    await refused(await publish({ message: "" }), -32600, "InvalidParams");
    await refused(await publish({ message: "x".repeat(LIMITS.MAX_MESSAGE + 1) }), -32600, "PayloadSizeExceeded");
    await refused(await publish({ tag: "1100" }), -32600, "InvalidParams");
    await refused(await publish({ tag: -1 }), -32600, "InvalidParams");
    await refused(await s.call("irn_publish", { topic: t, message: "m", ttl: 300 }), -32600, "InvalidParams");
    await refused(await publish({ sneaky: true }), -32600, "InvalidParams");
    await refused(await s.call("irn_batchSubscribe", { topics: [] }), -32600, "BatchEmpty");
    await refused(await s.call("irn_batchSubscribe", { topics: Array.from({ length: LIMITS.MAX_BATCH + 1 }, (_, i) => topic(i)) }), -32600, "BatchLimitExceeded");
    await refused(await s.call("irn_batchUnsubscribe", { subscriptions: [{ topic: t }] }), -32600, "InvalidParams");
    await refused(await s.call("wc_proposeSession", { pairingTopic: t, sessionProposal: 5, ttl: 300 }), -32600, "InvalidParams");
    await refused(
      await s.call("wc_approveSession", { pairingTopic: t, sessionTopic: t, sessionProposalResponse: "a", sessionSettlementRequest: "b", ttl: 300 }),
      -32600,
      "InvalidParams",
    );
    // Subscriptions per connection are bounded.
    const batch = (from) => Array.from({ length: LIMITS.MAX_BATCH }, (_, i) => topic(10_000 + from + i));
    assert.equal((await s.call("irn_batchSubscribe", { topics: batch(0) })).result.length, LIMITS.MAX_BATCH);
    assert.equal((await s.call("irn_batchSubscribe", { topics: batch(LIMITS.MAX_BATCH) })).result.length, LIMITS.MAX_BATCH);
    await refused(await s.call("irn_subscribe", { topic: topic(99_999) }), -32000, "SubscriberLimitExceeded");
    // A 19-digit id comes back exactly as sent (JavaScript's numbers would round it).
    const big = "1687239522123456789";
    s.ws.send(`{"id":${big},"jsonrpc":"2.0","method":"irn_unsubscribe","params":{"topic":"${t}","id":"x"}}`);
    await until("the big id answered", () => s.frames.some((f) => f.includes(`"id":${big},`) || f.includes(`"id":${big}}`)));
    // A well-formed publish still works on the same connection.
    assert.equal((await publish({})).result, true);
    s.ws.close();

    // The relay accepts only clients with a project id and a valid JWT for it.
    const status = (url) =>
      new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode));
        ws.on("open", () => {
          ws.close();
          resolve(101);
        });
        ws.on("error", () => undefined);
      });
    const auth = await client.core.crypto.signJWT(relay.url);
    assert.equal(await status(`${relay.url}/?projectId=devnet`), 401, "no JWT");
    assert.equal(await status(`${relay.url}/?auth=${auth}`), 401, "no project id");
    assert.equal(await status(`${relay.url}/?auth=${auth.slice(0, -4)}AAAA&projectId=devnet`), 401, "a forged signature");
    const elsewhere = await client.core.crypto.signJWT("wss://relay.example");
    assert.equal(await status(`${relay.url}/?auth=${elsewhere}&projectId=devnet`), 401, "a JWT for another relay");
    assert.equal(await status(`${relay.url}/?auth=${auth}&projectId=devnet`), 101);
  } finally {
    await closeSignClient(client);
    await relay.close();
  }
});

// ── the dApp in a browser, on the devnet ─────────────────────────────────────────────────────────────────────────

const ROOT = new URL("../../../", import.meta.url).pathname;
/** The devnet's helpers (they read .devnet/, or DEVNET_STATE, at import: only where a devnet runs, as under scripts/web-test.sh). */
const stack = process.env.WEB_TEST_CHAIN_JSON || existsSync(join(process.env.DEVNET_STATE || join(ROOT, ".devnet"), "chain.json")) ? await import("./lib/stack.mjs") : null;
const browserTest = (name, fn) => (stack ? stack.test(name, fn) : nodeTest(name, { skip: "no devnet: scripts/web-test.sh starts one" }, () => undefined));
const PHONE = { width: 390, height: 844 };

/** What the API configures: the relay and project id, and the devnet chain's public RPC. */
async function configured() {
  const chains = (await stack.Api.raw("GET", "/v1/public/chains")).body;
  assert.ok(chains.walletconnect, "the devnet configures WalletConnect (scripts/devnet.sh)");
  const rpc = chains.chains.find((c) => c.chain_id === stack.CHAIN_ID).public_rpc_url;
  return { ...chains.walletconnect, rpc };
}

/** Every origin the page sent an HTTP request to, and every WebSocket it opened. */
function watchOrigins(page) {
  const seen = { http: new Set(), ws: new Set() };
  page.on("request", (r) => {
    if (/^https?:/.test(r.url())) seen.http.add(new URL(r.url()).origin);
  });
  page.on("websocket", (w) => seen.ws.add(new URL(w.url()).origin));
  return seen;
}

const fits = async (page, what) => {
  const [w, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(w <= inner, `${what}: the page is ${w} px wide on a ${inner} px screen`);
};

browserTest("390 px, no injected wallet: WalletConnect pairs a wallet app that signs in, pays a referral registration once, survives a reload, is refused in words and disconnects", async () => {
  const { Api, BASE, BNB, CHAIN_ID, RPC, ANVIL_KEYS, chain, freshKey, openBrowser, plans, registerDirectly } = stack;
  const wc = await configured();
  const plan = (await plans()).find((p) => p.asset_id === BNB);
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  const sponsor = await registerDirectly(await freshKey(), genesis.address, BNB);
  const key = await freshKey();
  const wallet = await WcWallet.create({ key, rpcUrl: RPC, chainId: CHAIN_ID, relayUrl: wc.relay_url, projectId: wc.project_id });
  const b = await openBrowser({ viewport: PHONE });
  const { page } = b;
  const seen = watchOrigins(page);
  try {
    // No wallet in the page: the wallet-app links, and WalletConnect beside them.
    await page.goto(`${BASE}/?ref=${sponsor.address}&asset=${BNB}`);
    const button = page.getByTestId("open-in-wallet").getByTestId("connect-walletconnect");
    await button.waitFor();
    assert.match(await page.getByTestId("no-wallet").innerText(), /connect your wallet app with WalletConnect/);
    assert.equal(await page.getByTestId("connect").count(), 0, "no injected wallet");
    await fits(page, "no wallet, WalletConnect offered");

    // The pairing: a QR code drawn by the page, the URI to copy, and the wallets' own wc links.
    await button.click();
    const pairing = page.getByTestId("wc-pairing");
    await pairing.getByTestId("wc-uri").waitFor({ timeout: 30_000 });
    const uri = await pairing.getByTestId("wc-uri").getAttribute("data-uri");
    assert.match(uri, /^wc:[0-9a-f]{64}@2\?.*symKey=[0-9a-f]{64}/);
    assert.equal(await pairing.getByTestId("wc-uri").inputValue(), uri);
    const qr = pairing.getByTestId("wc-qr");
    assert.equal(await qr.evaluate((el) => el.tagName.toLowerCase()), "svg");
    const box = await qr.boundingBox();
    assert.ok(box.width >= 150 && box.x >= 0 && box.x + box.width <= PHONE.width, `the QR code fits: ${JSON.stringify(box)}`);
    assert.ok((await qr.locator("path").getAttribute("d")).length > 500, "the QR code has modules");
    assert.equal(await pairing.getByTestId("wc-open-metamask").getAttribute("href"), `https://link.metamask.io/wc?uri=${encodeURIComponent(uri)}`);
    assert.equal(await pairing.getByTestId("wc-open-trust").getAttribute("href"), `https://link.trustwallet.com/wc?uri=${encodeURIComponent(uri)}`);
    await fits(page, "the pairing");
    await b.screenshot("12-walletconnect-pairing-390");

    // The wallet pairs and approves: the page's wallet is it, on the devnet.
    await wallet.pair(uri);
    await until("the page showing the wallet's address", async () => (await page.getByTestId("connected-address").count()) > 0, { timeout: 30_000 });
    assert.equal(await page.getByTestId("connected-address").getAttribute("data-address"), wallet.address);
    assert.equal(await page.getByTestId("wallet-network").getAttribute("data-chain-id"), String(CHAIN_ID));
    assert.equal(await page.getByTestId("wc-pairing").count(), 0, "the pairing panel closed");
    assert.equal(wallet.proposals.length, 1);
    assert.equal(wallet.sessions().length, 1);

    // Sign-in: the message signed by the wallet over WalletConnect.
    await page.getByTestId("sign-in").click();
    await page.getByTestId("sign-out").waitFor({ timeout: 30_000 });
    assert.deepEqual(wallet.log.map((r) => [r.method, r.answered]), [["personal_sign", "result"]]);
    assert.match(Buffer.from(wallet.log[0].params[0].slice(2), "hex").toString("utf8"), new RegExp(`wants you to sign in with your Ethereum account:\\n${wallet.address}`));

    // A referral registration paid in BNB by the wallet, once.
    const balanceBefore = await chain.getBalance({ address: wallet.address });
    const nonceBefore = await chain.getTransactionCount({ address: wallet.address });
    const register = page.getByTestId("register");
    await page.getByTestId("pay-register").click();
    await until("the registration applied", async () => (await register.getByTestId("step-applied").getAttribute("data-state")) === "done", { timeout: 120_000 });
    assert.deepEqual(wallet.log.map((r) => r.method), ["personal_sign", "eth_sendTransaction"]);
    assert.equal(wallet.sent.length, 1, "one transaction");
    assert.equal((await chain.getTransactionCount({ address: wallet.address })) - nonceBefore, 1, "one transaction on chain");
    const receipt = await chain.getTransactionReceipt({ hash: wallet.sent[0] });
    const paid = balanceBefore - (await chain.getBalance({ address: wallet.address }));
    const gas = receipt.gasUsed * receipt.effectiveGasPrice;
    assert.equal(paid, BigInt(plan.registration_fee.base) + gas, `paid ${formatEther(paid)} BNB: the fee and gas exactly`);
    const api = await Api.signIn(key);
    const me = await api.standing(BNB);
    assert.ok(me, "the API knows the registration");
    assert.equal(me.sponsor, sponsor.address);
    assert.equal(me.registered_block, Number(receipt.blockNumber));
    await b.screenshot("12-walletconnect-registered-390");

    // A reload: the session is still there (no new pairing), signed in; the dashboard shows.
    await page.reload();
    await until("the wallet back after the reload", async () => (await page.getByTestId("connected-address").count()) > 0, { timeout: 30_000 });
    assert.equal(await page.getByTestId("connected-address").getAttribute("data-address"), wallet.address);
    await page.getByTestId("sign-out").waitFor({ timeout: 15_000 });
    await page.goto(`${BASE}/`);
    const card = page.getByTestId("dashboard").getByTestId("asset-BNB");
    await card.waitFor({ timeout: 30_000 });
    assert.equal(await card.getByTestId("bal-paid-in").getAttribute("data-base"), plan.registration_fee.base);
    assert.equal(wallet.proposals.length, 1, "no new pairing");
    assert.equal(await page.getByTestId("connect-walletconnect").count(), 0);
    await fits(page, "the dashboard over WalletConnect");

    // A request the wallet rejects: said in words, nothing sent.
    wallet.rejectNextRequest = true;
    const retopup = card.getByTestId("retopup");
    await retopup.getByTestId("pay-retopup").click();
    const rejected = retopup.getByTestId("problem-rejected");
    await rejected.waitFor({ timeout: 30_000 });
    assert.match(await rejected.innerText(), /You rejected the transaction in your wallet\. Nothing was sent\./);
    assert.deepEqual(wallet.log.at(-1).answered, "rejected");
    assert.equal(wallet.log.at(-1).method, "eth_sendTransaction");
    assert.equal(wallet.sent.length, 1, "nothing more sent");
    assert.equal((await chain.getTransactionCount({ address: wallet.address })) - nonceBefore, 1);
    await b.screenshot("12-walletconnect-rejected-390");

    // Disconnect: the session ends in the wallet too, and a reload does not bring it back.
    const topic = wallet.sessions()[0].topic;
    await page.getByTestId("wc-disconnect").click();
    await page.getByTestId("connect-walletconnect").waitFor({ timeout: 15_000 });
    assert.equal(await page.getByTestId("connected-address").count(), 0);
    await until("the wallet told the session ended", () => wallet.deleted.includes(topic) && wallet.sessions().length === 0);
    await page.reload();
    await page.getByTestId("connect-walletconnect").waitFor();
    await page.getByTestId("disclosure").waitFor();
    assert.equal(await page.getByTestId("connected-address").count(), 0, "no session restored");

    // Only this origin, the configured relay and the configured RPC.
    assert.deepEqual([...seen.ws], [new URL(wc.relay_url).origin], "WebSockets: the relay only");
    assert.deepEqual([...seen.http].sort(), [new URL(BASE).origin, new URL(wc.rpc).origin].sort(), "HTTP: this origin and the chain's RPC");
    const rpcOrigin = new URL(wc.rpc).origin.replace(/[.]/g, "\\.");
    await b.close([new RegExp(`^other origin: ${rpcOrigin}/`)]);
  } finally {
    await wallet.close();
  }
});

browserTest("a pairing can be cancelled; a wallet that rejects it is named in words, and starting again pairs; the admin console offers no WalletConnect", async () => {
  const { BASE, CHAIN_ID, RPC, freshKey, openBrowser } = stack;
  const wc = await configured();
  const wallet = await WcWallet.create({ key: await freshKey(), rpcUrl: RPC, chainId: CHAIN_ID, relayUrl: wc.relay_url, projectId: wc.project_id });
  const b = await openBrowser({ viewport: PHONE });
  const { page } = b;
  const uri = page.getByTestId("wc-uri");
  try {
    await page.goto(`${BASE}/`);
    // Cancel: the panel goes, the button comes back.
    await page.getByTestId("connect-walletconnect").click();
    await uri.waitFor({ timeout: 30_000 });
    await page.getByTestId("wc-cancel").click();
    await page.getByTestId("connect-walletconnect").waitFor();
    assert.equal(await page.getByTestId("wc-pairing").count(), 0);

    // The wallet rejects the proposal.
    await page.getByTestId("connect-walletconnect").click();
    await uri.waitFor({ timeout: 30_000 });
    wallet.rejectNextProposal = true;
    await wallet.pair(await uri.getAttribute("data-uri"));
    const error = page.getByTestId("wc-error-rejected");
    await error.waitFor({ timeout: 30_000 });
    assert.equal(await error.innerText(), "Your wallet rejected the connection. Nothing was shared.");
    assert.equal(await uri.count(), 0, "the rejected code is gone");
    assert.equal(await page.getByTestId("connected-address").count(), 0);
    await b.screenshot("12-walletconnect-rejected-pairing-390");

    // Start again: a new code, which the wallet approves.
    await page.getByTestId("wc-retry").click();
    await uri.waitFor({ timeout: 30_000 });
    await wallet.pair(await uri.getAttribute("data-uri"));
    await page.getByTestId("connected-address").waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId("connected-address").getAttribute("data-address"), wallet.address);
    assert.deepEqual(wallet.proposals.map((p) => p.approved), [false, true]);

    // The console (EVM wallets in the browser only) offers no WalletConnect and loads none of it.
    await page.goto(`${BASE}/admin`);
    await page.getByTestId("no-wallet").waitFor();
    assert.equal(await page.getByTestId("connect-walletconnect").count(), 0);
    const rpcOrigin = new URL(wc.rpc).origin.replace(/[.]/g, "\\.");
    await b.close([new RegExp(`^other origin: ${rpcOrigin}/`)]);
  } finally {
    await wallet.close();
  }
});

browserTest("a pairing code nobody scans expires after 5 minutes, and the page says so", async () => {
  const { BASE, openBrowser } = stack;
  const b = await openBrowser({ viewport: PHONE });
  const { page } = b;
  await page.clock.install();
  await page.goto(`${BASE}/`);
  await page.getByTestId("connect-walletconnect").click();
  await page.getByTestId("wc-uri").waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId("wc-waiting").innerText(), /Waiting for your wallet to approve \(this code works until .+\)/);
  await page.clock.runFor(301_000);
  const expired = page.getByTestId("wc-error-expired");
  await expired.waitFor({ timeout: 30_000 });
  assert.equal(await expired.innerText(), "The pairing code expired before a wallet approved it: start again for a new one.");
  assert.equal(await page.getByTestId("wc-uri").count(), 0);
  await b.screenshot("12-walletconnect-expired-390");
  await b.close();
});

browserTest("the pairing panel in Arabic and in Hindi: every word from the language's catalogue, none of English's, a rejected pairing too", async () => {
  const { BASE, CHAIN_ID, RPC, freshKey } = stack;
  const wc = await configured();
  const rpcOrigin = new URL(wc.rpc).origin.replace(/[.]/g, "\\.");
  for (const code of ["ar", "hi"]) {
    const wallet = await WcWallet.create({ key: await freshKey(), rpcUrl: RPC, chainId: CHAIN_ID, relayUrl: wc.relay_url, projectId: wc.project_id });
    const b = await stack.openBrowser({ viewport: PHONE });
    const { page } = b;
    try {
      await speak(b, code);
      await page.goto(`${BASE}/`);
      await until(`the page in ${code}`, async () => (await page.evaluate(() => document.documentElement.lang)) === code);
      await page.getByTestId("connect-walletconnect").first().click();
      const pairing = page.getByTestId("wc-pairing");
      const uri = pairing.getByTestId("wc-uri");
      await uri.waitFor({ timeout: 30_000 });
      assert.equal(await pairing.locator("#wc-title").innerText(), await message(code, "wc.title"));
      assert.equal(await pairing.getByTestId("wc-qr").getAttribute("aria-label"), await message(code, "wc.qr_label"));
      assert.equal(await pairing.locator("label[for=wc-uri]").innerText(), await message(code, "wc.paste"));
      assert.equal(await pairing.locator("button.copy").getAttribute("aria-label"), await message(code, "wc.copy"));
      const [before, after] = (await message(code, "wc.waiting")).split("{time}");
      const waiting = await pairing.getByTestId("wc-waiting").innerText();
      assert.ok(waiting.startsWith(before) && waiting.endsWith(after), `the wait in ${code}: ${waiting}`);
      assert.equal(await pairing.getByTestId("wc-cancel").innerText(), await message(code, "wc.cancel"));
      await assertNoEnglishIn(pairing, code, "the pairing panel");
      await fits(page, `the pairing in ${code}`);
      await b.screenshot(`12-walletconnect-pairing-${code}-390`);

      // The wallet rejects the proposal: said in the language, with the way to start again.
      wallet.rejectNextProposal = true;
      await wallet.pair(await uri.getAttribute("data-uri"));
      const rejected = pairing.getByTestId("wc-error-rejected");
      await rejected.waitFor({ timeout: 30_000 });
      assert.equal(await rejected.innerText(), await message(code, "wc.err_rejected"));
      assert.equal(await pairing.getByTestId("wc-retry").innerText(), await message(code, "wc.start_again"));
      await assertNoEnglishIn(pairing, code, "the rejected pairing");
      await page.getByTestId("wc-cancel").click();
      await page.getByTestId("connect-walletconnect").first().waitFor();
      await b.close([new RegExp(`^other origin: ${rpcOrigin}/`)]);
    } finally {
      await wallet.close();
    }
  }
});
