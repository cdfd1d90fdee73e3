// WalletConnect (issue 26, "Phones"): a phone without an injected wallet connects its wallet app through
// WalletConnect. First, in Node alone, the devnet's relay stand-in (scripts/wc-relay.mjs): two real sign-clients pair
// and sign through it, a message waits on its topic for a later subscriber, and malformed requests get JSON-RPC
// errors. Then the dApp at 390 px with no injected wallet: the pairing (QR code, URI, wallet-app links) taken by a
// real WalletConnect wallet in Node (tests/lib/wc-wallet.mjs), sign-in and a BNB registration through a referral link
// paid by it exactly once, a reload that keeps the session, a rejected request in words, and a disconnect — the page
// talking only to its own origin, the configured relay and the chain's public RPC.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, test as nodeTest } from "node:test";
import { recoverMessageAddress, stringToHex } from "viem";
import WebSocket from "ws";
import { LIMITS, startRelay } from "../scripts/wc-relay.mjs";
import { WcWallet, closeSignClient, nodeSignClient } from "./lib/wc-wallet.mjs";

// The clients leave long timers behind (a request's 15-minute expiry, a publish's 60-second limit) that nothing
// cancels: once every test is done, the file's process ends without waiting for them.
after(() => setImmediate(() => process.exit()));

const ANVIL_KEY_3 = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const NAMESPACE = { eip155: { chains: ["eip155:31337"], methods: ["personal_sign", "eth_sendTransaction"], events: ["accountsChanged", "chainChanged"] } };
const topic = (n) => n.toString(16).padStart(64, "0");

/** Polls `f` until it is truthy (a deadline, never sleep-then-assert). */
async function eventually(what, f, timeout = 20_000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await f();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

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
      const found = await eventually(`an answer to ${text.slice(0, 80)}`, () =>
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
    await eventually("the wallet hears session_delete", () => wallet.deleted.includes(session.topic));

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
    const delivered = await eventually("the stored message delivered", () => b.frames.map((f) => JSON.parse(f)).find((f) => f.method === "irn_subscription"));
    assert.equal(delivered.params.id, sub.result);
    assert.deepEqual({ ...delivered.params.data, publishedAt: 0 }, { topic: t, message: "hello", publishedAt: 0, tag: 1108 });
    assert.ok(!a.frames.some((f) => f.includes('"irn_subscription"')), "not echoed to the publisher");
    // Acknowledged: a second subscription of the same client gets it no more; fetching finds nothing left for it.
    b.ws.send(JSON.stringify({ id: delivered.id, jsonrpc: "2.0", result: true }));
    await eventually("the acknowledgement", async () => (await b.call("irn_batchFetchMessages", { topics: [t] })).result.messages.length === 0);
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
    await eventually("the big id answered", () => s.frames.some((f) => f.includes(`"id":${big},`) || f.includes(`"id":${big}}`)));
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
