#!/usr/bin/env node
// A stand-in for the WalletConnect v2 relay, for the devnet and the tests (no relay on the internet can be reached
// from here). One WebSocket endpoint on 127.0.0.1 speaking the relay's JSON-RPC 2.0 as published
// (WalletConnect's specs, "Relay Server RPC" and "Relay Server API") and as the pinned client
// (@walletconnect/core 2.25.0, its relayer, publisher and subscriber; sign-client's engine) actually sends it:
//
//   irn_subscribe {topic}                              → subscription id (sha256 hex of topic ‖ client id, the id
//                                                        the client computes itself); stored messages follow
//   irn_batchSubscribe {topics: [1..500]}              → [subscription id]
//   irn_unsubscribe {topic, id}                        → true
//   irn_batchUnsubscribe {subscriptions: [{topic, id}]} → true
//   irn_publish {topic, message, ttl, tag, prompt?, attestation?, TVF fields}  → true
//   irn_batchPublish {messages: [publish params]}      → true
//   irn_fetchMessages {topic}                          → {messages, hasMore}
//   irn_batchFetchMessages {topics: [1..500]}          → {messages, hasMore}
//   wc_proposeSession {pairingTopic, sessionProposal, ttl, …}  → true: the proposal is kept on the pairing topic
//       (tag 1100) and the proposer is subscribed to it (the client passes `skipSubscribe` and relies on that)
//   wc_approveSession {pairingTopic, sessionTopic, sessionProposalResponse, sessionSettlementRequest, ttl, …} → true:
//       the response goes to the pairing topic (tag 1101), the settlement to the session topic (tag 1102), and the
//       approver is subscribed to the session topic
//   irn_subscription {id, data: {topic, message, publishedAt, tag, attestation?}}  relay → client, acknowledged
//       by the client's `result: true`
//
// Strict: the connection needs `projectId` and a valid `auth` (the client's EdDSA JWT: did:key issuer, signature,
// audience = this relay's URL, not expired), else the upgrade is refused with 401. Every request is checked: JSON-RPC
// 2.0, an integer or string id, a known method, its exact parameters (topic = 64 hex characters, message a non-empty
// string, ttl an integer within [MIN_TTL, MAX_TTL] seconds, tag an integer, no unknown field). Errors are the
// relay's (relay_rpc): -32600 "Invalid payload: …" for a malformed request, -32000 "Request handler error: …" for a
// refused one (TTL too short/long, mailbox or subscriber limit), 3001 too many requests, with the reason's tag
// in `data`. A message is kept on its topic until its TTL and delivered to every subscriber but its publisher,
// also to one that subscribes later, until that client acknowledges it. Sizes are bounded (below). The relay pings
// every connection every 30 s (a Node client closes a connection that has not been pinged for 35 s).
//
//   node scripts/wc-relay.mjs --port N [--host 127.0.0.1] [--project-id ID]… [--quiet]
// prints one line once listening, then one per connection and request, and runs until SIGTERM/SIGINT
// (`WC_RELAY_TRACE=1` also prints every frame's start). `startRelay()` runs it in a test's process.
import { createHash, createPublicKey, verify } from "node:crypto";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { WebSocketServer } from "ws";

export const LIMITS = {
  /** Seconds: the client's shortest is 30 (wc_pairingPing), its longest 30 days (a pairing). */
  MIN_TTL: 10,
  MAX_TTL: 30 * 24 * 3600,
  /** Characters of one message (an encrypted, base64 envelope). */
  MAX_MESSAGE: 128 * 1024,
  /** Bytes of one WebSocket frame. */
  MAX_FRAME: 512 * 1024,
  /** Items in one batch (relay_rpc's MAX_SUBSCRIPTION_BATCH_SIZE, MAX_FETCH_BATCH_SIZE). */
  MAX_BATCH: 500,
  /** Messages one fetch answers (then `hasMore`). */
  MAX_FETCH: 500,
  MAX_SUBSCRIPTIONS_PER_CONNECTION: 1000,
  /** Messages kept on one topic. */
  MAX_MAILBOX: 256,
  MAX_TOPICS: 20_000,
  MAX_CONNECTIONS: 256,
  /** Requests one connection may send per RATE_WINDOW_MS. */
  MAX_REQUESTS: 500,
  RATE_WINDOW_MS: 10_000,
  PING_MS: 30_000,
};

const TOPIC = /^[0-9a-f]{64}$/i;
/** Fields the pinned client adds to a publish besides the spec's (Transaction Verification Fields, attestation). */
const TVF = {
  correlationId: "integer",
  rpcMethods: "strings",
  chainId: "string",
  txHashes: "strings",
  contractAddresses: "strings",
  approvedChains: "strings",
  approvedMethods: "strings",
  approvedEvents: "strings",
  sessionProperties: "object",
  scopedProperties: "object",
  attestation: "string",
  prompt: "boolean",
};

class RpcError extends Error {
  /** `code`: -32600 payload, -32000 handler, 3001 rate; `tag`: relay_rpc's name of the reason. */
  constructor(code, message, tag) {
    super(message);
    this.code = code;
    this.tag = tag;
  }
}
const payloadError = (tag, what) => new RpcError(-32600, `Invalid payload: ${what}`, tag);
const handlerError = (tag, what) => new RpcError(-32000, `Request handler error: ${what}`, tag);

const sha256hex = (s) => createHash("sha256").update(s, "utf8").digest("hex");

// ── auth: the client's JWT (@walletconnect/relay-auth) ─────────────────────────────────────────────────────────

const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
function base58decode(s) {
  let n = 0n;
  for (const ch of s) {
    const v = B58.indexOf(ch);
    if (v < 0) throw new Error("not base58");
    n = n * 58n + BigInt(v);
  }
  const bytes = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const ch of s) {
    if (ch !== "1") break;
    bytes.unshift(0);
  }
  return Buffer.from(bytes);
}

/** The Ed25519 public key a `did:key:z6Mk…` names (multibase base58btc, multicodec 0xed01). */
function didKeyPublicKey(did) {
  const m = /^did:key:z([1-9A-HJ-NP-Za-km-z]+)$/.exec(did);
  if (!m) throw new Error("issuer is not a did:key");
  const raw = base58decode(m[1]);
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new Error("issuer is not an Ed25519 did:key");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.subarray(2).toString("base64url") }, format: "jwk" });
}

/** The client id (the JWT's issuer) when `jwt` is valid for a relay at `origins`; throws the reason otherwise. */
export function verifyRelayJwt(jwt, origins, now = Date.now() / 1000) {
  const parts = String(jwt).split(".");
  if (parts.length !== 3) throw new Error("not a JWT");
  const json = (p) => JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  const header = json(parts[0]);
  const claims = json(parts[1]);
  if (header.alg !== "EdDSA" || header.typ !== "JWT") throw new Error("not an EdDSA JWT");
  for (const k of ["iss", "sub", "aud"]) if (typeof claims[k] !== "string" || !claims[k]) throw new Error(`no ${k}`);
  for (const k of ["iat", "exp"]) if (!Number.isInteger(claims[k])) throw new Error(`no ${k}`);
  if (claims.exp <= now) throw new Error("expired");
  if (claims.iat > now + 60) throw new Error("issued in the future");
  let aud;
  try {
    aud = new URL(claims.aud);
  } catch {
    throw new Error("audience is not a URL");
  }
  if (!origins.includes(`${aud.protocol}//${aud.host}`)) throw new Error(`audience ${claims.aud} is not this relay`);
  const ok = verify(null, Buffer.from(`${parts[0]}.${parts[1]}`), didKeyPublicKey(claims.iss), Buffer.from(parts[2], "base64url"));
  if (!ok) throw new Error("bad signature");
  return claims.iss;
}

// ── JSON-RPC framing ───────────────────────────────────────────────────────────────────────────────────────────

/**
 * The raw text of the top-level `id` of a JSON object (`1687239522123456789` keeps all its digits: JSON.parse would
 * round it, and the answer must carry the id exactly as asked), or undefined.
 */
function rawTopLevelId(text) {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      if (depth === 1 && text.slice(start, i + 1) === '"id"') {
        let j = i + 1;
        while (/\s/.test(text[j] ?? "")) j++;
        if (text[j] !== ":") continue;
        j++;
        while (/\s/.test(text[j] ?? "")) j++;
        const m = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\]|\\.)*"|null|true|false)/.exec(text.slice(j));
        return m?.[1];
      }
    } else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return undefined;
}

const ID_PLACEHOLDER = "wc-relay:id";
const frame = (rawId, body) => JSON.stringify({ jsonrpc: "2.0", id: ID_PLACEHOLDER, ...body }).replace(`"${ID_PLACEHOLDER}"`, () => rawId ?? "null");

// ── parameter checks ───────────────────────────────────────────────────────────────────────────────────────────

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

function expectFields(params, required, optional = {}) {
  if (!isObject(params)) throw payloadError("InvalidParams", "Invalid request parameters");
  for (const k of Object.keys(params)) {
    if (!(k in required) && !(k in optional)) throw payloadError("InvalidParams", `Invalid request parameters: unknown field ${k}`);
  }
  for (const [k, type] of Object.entries(required)) {
    if (!(k in params)) throw payloadError("InvalidParams", `Invalid request parameters: missing ${k}`);
    checkType(k, params[k], type);
  }
  for (const [k, type] of Object.entries(optional)) if (k in params && params[k] !== undefined) checkType(k, params[k], type);
}

function checkType(k, v, type) {
  const ok = {
    topic: () => typeof v === "string" && TOPIC.test(v),
    topics: () => Array.isArray(v),
    message: () => typeof v === "string",
    ttl: () => Number.isInteger(v),
    tag: () => Number.isInteger(v) && v >= 0 && v <= 0xffffffff,
    integer: () => Number.isInteger(v),
    string: () => typeof v === "string" && v.length <= 4096,
    strings: () => Array.isArray(v) && v.length <= 1000 && v.every((s) => typeof s === "string" && s.length <= 4096),
    object: () => isObject(v),
    boolean: () => typeof v === "boolean",
    array: () => Array.isArray(v),
    subscriptionId: () => typeof v === "string" && v.length > 0 && v.length <= 128,
  }[type]();
  if (ok) return;
  if (type === "topic") throw payloadError("InvalidTopic", `Topic decoding failed (${k})`);
  if (type === "tag") throw payloadError("InvalidParams", `Invalid request parameters: ${k} must be an unsigned 32-bit integer`);
  if (type === "ttl") throw payloadError("InvalidParams", `Invalid request parameters: ${k} must be an integer number of seconds`);
  throw payloadError("InvalidParams", `Invalid request parameters: ${k} must be ${type === "message" ? "a string" : `a${/^[aeiou]/.test(type) ? "n" : ""} ${type}`}`);
}

function checkMessage(k, message) {
  if (message.length === 0) throw payloadError("InvalidParams", `Invalid request parameters: ${k} is empty`);
  if (message.length > LIMITS.MAX_MESSAGE) throw payloadError("PayloadSizeExceeded", `Payload size exceeded (${k}: ${message.length} characters, at most ${LIMITS.MAX_MESSAGE})`);
}

function checkTtl(ttl) {
  if (ttl < LIMITS.MIN_TTL) throw handlerError("TtlTooShort", `TTL too short (${ttl} s, at least ${LIMITS.MIN_TTL})`);
  if (ttl > LIMITS.MAX_TTL) throw handlerError("TtlTooLong", `TTL too long (${ttl} s, at most ${LIMITS.MAX_TTL})`);
}

function checkBatch(list) {
  if (list.length === 0) throw payloadError("BatchEmpty", "The batch contains no items");
  if (list.length > LIMITS.MAX_BATCH) throw payloadError("BatchLimitExceeded", "The batch contains too many items");
}

// ── the relay ──────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Starts a relay on `host:port` (0: any free port). Returns `{url, port, log, close()}`; `log` holds one entry per
 * request: `{conn, client, method, error?}` (`error`: the code).
 */
export async function startRelay({ port = 0, host = "127.0.0.1", projectIds = [], quiet = true } = {}) {
  /** topic → messages kept on it, oldest first. */
  const topics = new Map();
  /** topic → connections subscribed. */
  const subscribers = new Map();
  const connections = new Set();
  const log = [];
  let seq = 0;
  let lastRequestId = 0;
  let nextConn = 1;
  const say = (line) => {
    if (!quiet) console.log(`wc-relay: ${line}`);
  };
  /** Our requests' ids: within JavaScript's exact integers (a client parses them as numbers and answers with them). */
  const requestId = () => (lastRequestId = Math.max(lastRequestId + 1, Date.now() * 1000));

  const http = createServer((req, res) => {
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "text/plain" }).end("OK\n");
      return;
    }
    res.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" }).end("WebSocket only\n");
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.MAX_FRAME });

  http.on("upgrade", (req, socket, head) => {
    const refuse = (status, reason) => {
      say(`refused a connection: ${reason}`);
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Service Unavailable"}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${reason}\n`);
    };
    const address = http.address();
    const origins = [`ws://${host}:${address.port}`, `ws://localhost:${address.port}`, `ws://127.0.0.1:${address.port}`];
    const url = new URL(req.url ?? "/", `ws://${req.headers.host ?? host}`);
    const projectId = url.searchParams.get("projectId");
    if (!projectId) return refuse(401, "Auth error: Project ID not specified");
    if (projectIds.length && !projectIds.includes(projectId)) return refuse(401, "Auth error: Project not found");
    const jwt = url.searchParams.get("auth");
    if (!jwt) return refuse(401, "Auth error: Missing JWT");
    let client;
    try {
      client = verifyRelayJwt(jwt, origins);
    } catch (e) {
      return refuse(401, `Auth error: Invalid JWT (${e.message})`);
    }
    if (connections.size >= LIMITS.MAX_CONNECTIONS) return refuse(503, "Too many connections");
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, client, projectId, req.headers.origin));
  });

  function onConnection(ws, client, projectId, origin) {
    const conn = { n: nextConn++, ws, client, topics: new Set(), inflight: new Map(), alive: true, window: [] };
    connections.add(conn);
    say(`#${conn.n} connected: project ${projectId}, client ${client.slice(0, 20)}…${origin ? `, origin ${origin}` : ""}`);
    ws.on("pong", () => (conn.alive = true));
    ws.on("message", (data, isBinary) => onFrame(conn, isBinary ? null : data.toString("utf8")));
    ws.on("close", () => {
      connections.delete(conn);
      for (const t of conn.topics) subscribers.get(t)?.delete(conn);
      say(`#${conn.n} closed`);
    });
    ws.on("error", () => undefined);
  }

  const send = (conn, text) => {
    if (process.env.WC_RELAY_TRACE) console.log(`>> #${conn.n} ${text.slice(0, 300)}`);
    if (conn.ws.readyState === 1) conn.ws.send(text);
  };

  function onFrame(conn, text) {
    if (process.env.WC_RELAY_TRACE) console.log(`<< #${conn.n} ${text?.slice(0, 300)}`);
    if (text === null) return send(conn, frame(null, { error: { code: -32600, message: "Invalid payload: Failed to deserialize request", data: "Serialization" } }));
    let payload;
    try {
      payload = JSON.parse(text);
    } catch {
      return send(conn, frame(null, { error: { code: -32700, message: "Parse error", data: "Serialization" } }));
    }
    const rawId = isObject(payload) ? rawTopLevelId(text) : undefined;
    // A response: the client acknowledging one of our irn_subscription requests.
    if (isObject(payload) && !("method" in payload) && ("result" in payload || "error" in payload)) {
      const delivery = conn.inflight.get(rawId);
      if (!delivery) return;
      conn.inflight.delete(rawId);
      if (payload.result === true) delivery.acked.add(conn.client);
      return;
    }
    let method = "?";
    try {
      if (!isObject(payload)) throw payloadError("Serialization", "Failed to deserialize request");
      if (payload.jsonrpc !== "2.0") throw payloadError("InvalidJsonRpcVersion", "Invalid JSON RPC version");
      const idOk = (Number.isInteger(payload.id) && payload.id > 0) || (typeof payload.id === "string" && /^\d{1,20}$/.test(payload.id));
      if (!idOk) throw payloadError("InvalidRequestId", "Invalid request ID");
      if (typeof payload.method !== "string") throw payloadError("InvalidMethod", "Invalid request method");
      method = payload.method;
      for (const k of Object.keys(payload)) {
        if (!["jsonrpc", "id", "method", "params"].includes(k)) throw payloadError("Serialization", `Failed to deserialize request (unknown member ${k})`);
      }
      const now = Date.now();
      conn.window = conn.window.filter((t) => t > now - LIMITS.RATE_WINDOW_MS);
      if (conn.window.length >= LIMITS.MAX_REQUESTS) throw new RpcError(3001, "Too many requests", "TooManyRequests");
      conn.window.push(now);
      const handler = methods[method];
      if (!handler) throw payloadError("InvalidMethod", `Invalid request method ${method}`);
      const result = handler(conn, payload.params);
      log.push({ conn: conn.n, client: conn.client, method });
      say(`#${conn.n} ${method}${describe(payload.params)}`);
      send(conn, frame(rawId, { result }));
      after.splice(0).forEach((f) => f());
    } catch (e) {
      after.length = 0;
      if (!(e instanceof RpcError)) throw e;
      log.push({ conn: conn.n, client: conn.client, method, error: e.code, tag: e.tag });
      say(`#${conn.n} ${method} refused: ${e.message}`);
      send(conn, frame(rawId, { error: { code: e.code, message: e.message, data: e.tag } }));
    }
  }

  const describe = (p) => {
    if (!isObject(p)) return "";
    const bits = [];
    for (const k of ["topic", "pairingTopic", "sessionTopic"]) if (typeof p[k] === "string") bits.push(`${k}=${p[k].slice(0, 8)}…`);
    if (Array.isArray(p.topics)) bits.push(`${p.topics.length} topic(s)`);
    if (p.tag !== undefined) bits.push(`tag=${p.tag}`);
    if (p.ttl !== undefined) bits.push(`ttl=${p.ttl}`);
    return bits.length ? ` ${bits.join(" ")}` : "";
  };

  /** Work to do once the answer is sent (deliveries come after the answer that caused them). */
  const after = [];

  const subscriptionId = (conn, topic) => sha256hex(topic + conn.client);

  function subscribe(conn, topic) {
    if (!conn.topics.has(topic)) {
      if (conn.topics.size >= LIMITS.MAX_SUBSCRIPTIONS_PER_CONNECTION) throw handlerError("SubscriberLimitExceeded", "Subscriber limit exceeded");
      conn.topics.add(topic);
      if (!subscribers.has(topic)) subscribers.set(topic, new Set());
      subscribers.get(topic).add(conn);
    }
    after.push(() => deliverStored(conn, topic));
    return subscriptionId(conn, topic);
  }

  function unsubscribe(conn, topic) {
    conn.topics.delete(topic);
    subscribers.get(topic)?.delete(conn);
  }

  const live = (m) => m.expiresAt > Date.now();
  const pending = (conn, m) => live(m) && m.publisher !== conn.client && !m.acked.has(conn.client) && ![...conn.inflight.values()].includes(m);

  function deliver(conn, m) {
    const id = String(requestId());
    conn.inflight.set(id, m);
    const data = { topic: m.topic, message: m.message, publishedAt: m.publishedAt, tag: m.tag, ...(m.attestation ? { attestation: m.attestation } : {}) };
    send(conn, JSON.stringify({ id: Number(id), jsonrpc: "2.0", method: "irn_subscription", params: { id: subscriptionId(conn, m.topic), data } }));
  }

  function deliverStored(conn, topic) {
    if (!conn.topics.has(topic)) return;
    for (const m of topics.get(topic) ?? []) if (pending(conn, m)) deliver(conn, m);
  }

  /** Keeps a message on its topic until its TTL and hands it to the topic's subscribers. */
  function publish(conn, { topic, message, ttl, tag, attestation }) {
    let kept = topics.get(topic);
    if (!kept) {
      if (topics.size >= LIMITS.MAX_TOPICS) throw handlerError("MailboxLimitExceeded", "Mailbox limit exceeded (topics)");
      kept = [];
    }
    const liveOnes = kept.filter(live);
    if (liveOnes.length >= LIMITS.MAX_MAILBOX) throw handlerError("MailboxLimitExceeded", "Mailbox limit exceeded");
    const now = Date.now();
    const m = { seq: ++seq, topic, message, tag, attestation, publishedAt: now, expiresAt: now + ttl * 1000, publisher: conn.client, acked: new Set() };
    liveOnes.push(m);
    topics.set(topic, liveOnes);
    after.push(() => {
      for (const other of subscribers.get(topic) ?? []) if (pending(other, m)) deliver(other, m);
    });
  }

  function fetchMessages(conn, list) {
    const messages = [];
    let hasMore = false;
    for (const topic of list) {
      for (const m of topics.get(topic) ?? []) {
        if (!pending(conn, m)) continue;
        if (messages.length >= LIMITS.MAX_FETCH) {
          hasMore = true;
          break;
        }
        // Handed out: the client has it, as if it had acknowledged an irn_subscription.
        m.acked.add(conn.client);
        messages.push({ topic: m.topic, message: m.message, publishedAt: m.publishedAt, tag: m.tag, ...(m.attestation ? { attestation: m.attestation } : {}) });
      }
    }
    return { messages, hasMore };
  }

  const PUBLISH = { topic: "topic", message: "message", ttl: "ttl", tag: "tag" };
  const checkPublish = (p) => {
    expectFields(p, PUBLISH, TVF);
    checkMessage("message", p.message);
    checkTtl(p.ttl);
  };

  const methods = {
    irn_subscribe(conn, p) {
      expectFields(p, { topic: "topic" }, { ttl: "ttl" });
      if (p.ttl !== undefined) checkTtl(p.ttl);
      return subscribe(conn, p.topic);
    },
    irn_batchSubscribe(conn, p) {
      expectFields(p, { topics: "topics" });
      checkBatch(p.topics);
      p.topics.forEach((t, i) => checkType(`topics[${i}]`, t, "topic"));
      if (new Set([...conn.topics, ...p.topics]).size > LIMITS.MAX_SUBSCRIPTIONS_PER_CONNECTION) {
        throw handlerError("SubscriberLimitExceeded", "Subscriber limit exceeded");
      }
      return p.topics.map((t) => subscribe(conn, t));
    },
    irn_unsubscribe(conn, p) {
      expectFields(p, { topic: "topic", id: "subscriptionId" });
      unsubscribe(conn, p.topic);
      return true;
    },
    irn_batchUnsubscribe(conn, p) {
      expectFields(p, { subscriptions: "array" });
      checkBatch(p.subscriptions);
      p.subscriptions.forEach((s) => expectFields(s, { topic: "topic", id: "subscriptionId" }));
      p.subscriptions.forEach((s) => unsubscribe(conn, s.topic));
      return true;
    },
    irn_publish(conn, p) {
      checkPublish(p);
      publish(conn, p);
      return true;
    },
    irn_batchPublish(conn, p) {
      expectFields(p, { messages: "array" });
      checkBatch(p.messages);
      p.messages.forEach(checkPublish);
      p.messages.forEach((m) => publish(conn, m));
      return true;
    },
    irn_fetchMessages(conn, p) {
      expectFields(p, { topic: "topic" });
      return fetchMessages(conn, [p.topic]);
    },
    irn_batchFetchMessages(conn, p) {
      expectFields(p, { topics: "topics" });
      checkBatch(p.topics);
      p.topics.forEach((t, i) => checkType(`topics[${i}]`, t, "topic"));
      return fetchMessages(conn, p.topics);
    },
    wc_proposeSession(conn, p) {
      expectFields(p, { pairingTopic: "topic", sessionProposal: "message", ttl: "ttl" }, { ...TVF, tag: "tag" });
      checkMessage("sessionProposal", p.sessionProposal);
      checkTtl(p.ttl);
      subscribe(conn, p.pairingTopic);
      publish(conn, { topic: p.pairingTopic, message: p.sessionProposal, ttl: p.ttl, tag: 1100, attestation: p.attestation });
      return true;
    },
    wc_approveSession(conn, p) {
      expectFields(
        p,
        { pairingTopic: "topic", sessionTopic: "topic", sessionProposalResponse: "message", sessionSettlementRequest: "message", ttl: "ttl" },
        { ...TVF, tag: "tag" },
      );
      checkMessage("sessionProposalResponse", p.sessionProposalResponse);
      checkMessage("sessionSettlementRequest", p.sessionSettlementRequest);
      checkTtl(p.ttl);
      if (p.pairingTopic === p.sessionTopic) throw payloadError("InvalidParams", "Invalid request parameters: the session topic is the pairing topic");
      subscribe(conn, p.sessionTopic);
      publish(conn, { topic: p.pairingTopic, message: p.sessionProposalResponse, ttl: p.ttl, tag: 1101 });
      publish(conn, { topic: p.sessionTopic, message: p.sessionSettlementRequest, ttl: p.ttl, tag: 1102 });
      return true;
    },
  };

  // Expired messages go; a connection that answered no ping since the last one is closed.
  const sweep = setInterval(() => {
    for (const [topic, kept] of topics) {
      const liveOnes = kept.filter(live);
      if (liveOnes.length) topics.set(topic, liveOnes);
      else topics.delete(topic);
    }
  }, 1000);
  const ping = setInterval(() => {
    for (const conn of connections) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }, LIMITS.PING_MS);

  await new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, host, resolve);
  });
  const actual = http.address().port;
  return {
    url: `ws://${host}:${actual}`,
    port: actual,
    log,
    /** Stored messages per topic (for tests). */
    stored: (topic) => (topics.get(topic) ?? []).filter(live).length,
    connections: () => connections.size,
    async close() {
      clearInterval(sweep);
      clearInterval(ping);
      for (const conn of connections) conn.ws.terminate();
      await new Promise((resolve) => wss.close(() => http.close(() => resolve())));
    },
  };
}

// ── command line ───────────────────────────────────────────────────────────────────────────────────────────────

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opts = { port: 0, host: "127.0.0.1", projectIds: [], quiet: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      if (i + 1 >= args.length) throw new Error(`${a} needs a value`);
      return args[++i];
    };
    if (a === "--port") opts.port = Number(value());
    else if (a === "--host") opts.host = value();
    else if (a === "--project-id") opts.projectIds.push(value());
    else if (a === "--quiet") opts.quiet = true;
    else {
      console.error(`usage: wc-relay.mjs --port N [--host 127.0.0.1] [--project-id ID]… [--quiet]  (unknown: ${a})`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    console.error(`wc-relay: --port must be 0..65535`);
    process.exit(2);
  }
  const relay = await startRelay(opts);
  console.log(
    `wc-relay: WalletConnect relay stand-in listening on ${relay.url} (projects: ${opts.projectIds.length ? opts.projectIds.join(", ") : "any"})`,
  );
  const stop = async (signal) => {
    console.log(`wc-relay: ${signal}, stopping`);
    await relay.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
