#!/usr/bin/env node
// The devnet's notifications (issue 49), end to end:
//   node scripts/devnet-notify.mjs webhook-sink PORT STATE_DIR
//       the devnet's own webhook endpoint on 127.0.0.1:PORT: every delivery is checked with the Standard Webhooks
//       reference library (npm `standardwebhooks`, pinned in package.json) under the secret in
//       STATE_DIR/secrets/webhook-secret, and logged to STATE_DIR/webhooks.jsonl (answered 204 when it verifies,
//       400 when it does not); GET /summary answers the log's counts.
//   node scripts/devnet-notify.mjs setup API SINK_URL STATE_DIR
//       the admin (anvil 0) creates the endpoint SINK_URL (its secret kept for the sink), and demo account 2 sets its
//       e-mail address and confirms it from the link the local mail server delivered — before it pays.
//   node scripts/devnet-notify.mjs check API SINK_URL STATE_DIR
//       waits until account 2's mailbox holds the e-mails of its registration and of its payout, and the sink has
//       received, verified, every event type the devnet's notifications hold; prints what arrived.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { Webhook } = require("standardwebhooks");
const webRequire = createRequire(new URL("../backend/web/package.json", import.meta.url));
const { privateKeyToAccount } = webRequire("viem/accounts");

// anvil's well-known development keys (accounts 0 and 2): devnet only.
const ADMIN_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const MEMBER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const MEMBER_EMAIL = "account2@devnet.example";
const MAIL_DIR = process.env.REFERRAL_MAIL_DIR ?? "/var/lib/referral-mail/boxes";

const [command, ...args] = process.argv.slice(2);
const fail = (message) => {
  console.error(`devnet-notify: ${message}`);
  process.exit(1);
};

async function call(api, method, path, token, body) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  if (!res.ok) fail(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return json;
}

async function signIn(api, key) {
  const account = privateKeyToAccount(key);
  const { message } = await call(api, "POST", "/v1/auth/nonce", null, { address: account.address, chain: "evm" });
  const signature = await account.signMessage({ message });
  return (await call(api, "POST", "/v1/auth/signin", null, { message, signature })).access_token;
}

/** The text of a MIME message with its base64 and quoted-printable parts decoded. */
export function decodeMessage(raw) {
  const out = [];
  let encoding = null;
  let inBody = false;
  let chunk = [];
  const flush = () => {
    if (!chunk.length) return;
    const text = chunk.join("\n");
    if (encoding === "base64") out.push(Buffer.from(text.replace(/\s+/g, ""), "base64").toString("utf8"));
    else if (encoding === "quoted-printable")
      out.push(
        Buffer.from(
          text.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
          "latin1",
        ).toString("utf8"),
      );
    else out.push(text);
    chunk = [];
  };
  for (const line of raw.split(/\r?\n/)) {
    if (line.startsWith("--")) {
      flush();
      encoding = null;
      inBody = false;
      out.push(line);
      continue;
    }
    const cte = /^content-transfer-encoding:\s*(\S+)/i.exec(line);
    if (cte && !inBody) encoding = cte[1].toLowerCase();
    if (encoding && !inBody && line === "") {
      inBody = true;
      continue;
    }
    if (inBody) chunk.push(line);
    else out.push(line);
  }
  flush();
  return out.join("\n");
}

function mailbox(address) {
  const dir = join(MAIL_DIR, address.toLowerCase(), "new");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((f) => decodeMessage(readFileSync(join(dir, f), "utf8")));
}

async function until(what, seconds, probe) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) fail(`not within ${seconds} s: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function sink(port, state) {
  const log = join(state, "webhooks.jsonl");
  const secretFile = join(state, "secrets", "webhook-secret");
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/summary") {
      const lines = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
      const entries = lines.map((l) => JSON.parse(l));
      const byType = {};
      for (const e of entries) if (e.verified) byType[e.type] = (byType[e.type] ?? 0) + 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ received: entries.length, unverified: entries.filter((e) => !e.verified).length, byType }));
      return;
    }
    const parts = [];
    req.on("data", (c) => parts.push(c));
    req.on("end", () => {
      const body = Buffer.concat(parts).toString("utf8");
      let entry;
      try {
        if (!existsSync(secretFile)) throw new Error("no secret yet");
        const payload = new Webhook(readFileSync(secretFile, "utf8").trim()).verify(body, req.headers);
        entry = { id: req.headers["webhook-id"], type: payload.type, verified: true };
      } catch (e) {
        entry = { id: req.headers["webhook-id"] ?? null, verified: false, error: String(e.message ?? e) };
      }
      appendFileSync(log, `${JSON.stringify(entry)}\n`);
      res.writeHead(entry.verified ? 204 : 400);
      res.end();
    });
  });
  server.listen(Number(port), "127.0.0.1", () => console.log(`webhook sink on 127.0.0.1:${port}`));
}

async function setup(api, sinkUrl, state) {
  const admin = await signIn(api, ADMIN_KEY);
  const created = await call(api, "POST", "/v1/admin/webhooks", admin, {
    url: sinkUrl,
    description: "the devnet's own endpoint (scripts/devnet-notify.mjs sink)",
  });
  mkdirSync(join(state, "secrets"), { recursive: true });
  writeFileSync(join(state, "secrets", "webhook-secret"), `${created.secret}\n`, { mode: 0o600 });
  console.log(`webhooks: endpoint ${created.endpoint.id} → ${sinkUrl} (every event type), secret in secrets/webhook-secret`);

  const member = await signIn(api, MEMBER_KEY);
  const settings = await call(api, "GET", "/v1/users/email", member);
  // A fresh devnet starts with an empty mailbox for account 2 (an earlier devnet's messages would satisfy `check`).
  rmSync(join(MAIL_DIR, MEMBER_EMAIL), { recursive: true, force: true });
  const before = 0;
  // Every kind about the member (the asset's proofs of solvency come every minute here: the centre shows them).
  const kinds = settings.all_kinds.filter((k) => k !== "solvency.committed");
  await call(api, "PUT", "/v1/users/email", member, { email: MEMBER_EMAIL, language: "en", kinds });
  const confirmation = await until("account 2's confirmation e-mail", 60, () => {
    const box = mailbox(MEMBER_EMAIL);
    return box.length > before ? box[box.length - 1] : null;
  });
  const token = /#email-confirm=([0-9a-f.]+)/.exec(confirmation)?.[1] ?? fail("no confirmation link in the e-mail");
  const done = await call(api, "POST", "/v1/public/email/confirm", null, { token });
  console.log(`e-mail: account 2 confirmed ${done.address} from its link (${MAIL_DIR}/${MEMBER_EMAIL}/new)`);
}

async function check(api, sinkUrl) {
  const wanted = ["payment.applied", "payout.paid"];
  const box = await until("account 2's registration and payout e-mails", 90, () => {
    const messages = mailbox(MEMBER_EMAIL);
    const ids = messages.map((m) => /^Message-ID:\s*<([^@>]+)@/im.exec(m)?.[1] ?? "");
    return wanted.every((k) => ids.some((id) => id.startsWith(`${k}.`))) ? ids : null;
  });
  console.log(`e-mail: account 2's mailbox holds ${box.length} messages, among them its registration and its payout`);
  const admin = await signIn(api, ADMIN_KEY);
  // Every event type the notifications hold, delivered to the sink and verified there.
  const kinds = await until("every delivery to the devnet's endpoint", 90, async () => {
    const { endpoints } = await call(api, "GET", "/v1/admin/webhooks", admin);
    const endpoint = endpoints[0];
    if (!endpoint || endpoint.pending > 0) return null;
    const summary = await (await fetch(new URL("/summary", sinkUrl))).json();
    if (summary.unverified > 0) fail(`${summary.unverified} deliveries did not verify with the reference library`);
    const types = new Set();
    let cursor = null;
    do {
      const page = await call(
        api,
        "GET",
        `/v1/admin/webhooks/${endpoint.id}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
        admin,
      );
      for (const d of page.items) types.add(d.kind);
      cursor = page.next_cursor;
    } while (cursor);
    return [...types].every((t) => summary.byType[t] > 0) ? summary : null;
  });
  const list = Object.entries(kinds.byType)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  console.log(`webhooks: ${kinds.received} deliveries, every one verified by the reference library: ${list}`);
}

switch (command) {
  case "webhook-sink":
    sink(args[0], args[1]);
    break;
  case "setup":
    await setup(args[0], args[1], args[2]);
    break;
  case "check":
    await check(args[0], args[1]);
    break;
  default:
    fail("usage: devnet-notify.mjs webhook-sink PORT STATE | setup API SINK_URL STATE | check API SINK_URL");
}
