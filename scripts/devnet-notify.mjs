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
//   node scripts/devnet-notify.mjs tron-usdt TRON_RPC STATE_DIR pause|unpause
//       the TRON chain's test USDT paused (as Tether can pause USDT) or running again, by its owner the admin: the TRON
//       payout made while it is paused defers every share to a claim (payout.deferred), which its members can make
//       from the dApp once it runs again.
//   node scripts/devnet-notify.mjs events API RPC
//       the rest of the event types: anvil's account 3 frozen and unfrozen in BNB by the admin, and a registration
//       payload of a fresh wallet left unpaid while anvil's clock moves past its deadline (the signer's 900 s;
//       payment.expired).
//   node scripts/devnet-notify.mjs rearm API SINK_URL STATE_DIR
//       before the exit drill: every endpoint disabled, a fresh one for exit.opened to the sink (its secret the sink's).
//   node scripts/devnet-notify.mjs check-exit SINK_URL
//       after the exit drill (scripts/exit-drill.sh) and the listener's return: waits until the sink has received and
//       verified exit.opened.
//   node scripts/devnet-notify.mjs check API SINK_URL STATE_DIR
//       waits until account 2's mailbox holds the e-mails of its registration and of its payout, and the sink has
//       received, verified, every event type the devnet's demo causes (all but exit.opened: the exit drill's); prints
//       what arrived.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { Webhook } = require("standardwebhooks");
const webRequire = createRequire(new URL("../backend/web/package.json", import.meta.url));
const { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } = webRequire("viem/accounts");

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
    if (Date.now() > deadline) fail(`not within ${seconds} s: ${typeof what === "function" ? what() : what}`);
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

async function rpc(url, method, params) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const answer = await res.json();
  if (answer.error) fail(`${method}: ${JSON.stringify(answer.error)}`);
  return answer.result;
}

// anvil's well-known development mnemonic: devnet only.
const MNEMONIC = "test test test test test test test test test test test junk";

async function tronUsdt(tronRpc, state, action) {
  const chain = JSON.parse(readFileSync(join(state, "tron-chain.json"), "utf8"));
  // pause() and unpause() of TestUSDT (its owner: the admin that deployed it).
  const data = { pause: "0x8456cb59", unpause: "0x3f4ba83a" }[action] ?? fail(`pause or unpause, not ${action}`);
  const hash = await rpc(tronRpc, "eth_sendTransaction", [{ from: chain.admin, to: chain.usdt, data }]);
  const receipt = await until(`the TRON USDT ${action} mined`, 30, () => rpc(tronRpc, "eth_getTransactionReceipt", [hash]));
  if (receipt.status !== "0x1") fail(`TRON USDT ${action} reverted`);
  console.log(
    action === "pause"
      ? `payouts: the TRON chain's test USDT (${chain.usdt_base58}) paused: its payout defers every share to a claim`
      : `payouts: the TRON chain's test USDT runs again: the deferred shares are claimable in the dApp`,
  );
}

async function events(api, rpcUrl) {
  const admin = await signIn(api, ADMIN_KEY);
  const address = mnemonicToAccount(MNEMONIC, { addressIndex: 3 }).address;
  const reason = { asset_id: 1, reason: "devnet demo of account.frozen and account.unfrozen" };
  await call(api, "POST", `/v1/admin/users/${address.toLowerCase()}/freeze`, admin, reason);
  await call(api, "POST", `/v1/admin/users/${address.toLowerCase()}/unfreeze`, admin, reason);
  console.log(`accounts: ${address} frozen and unfrozen in asset 1 by the admin`);

  const strangerKey = generatePrivateKey();
  const stranger = privateKeyToAccount(strangerKey);
  const token = await signIn(api, strangerKey);
  const genesis = privateKeyToAccount(ADMIN_KEY).address;
  const payload = await call(api, "POST", "/v1/users/register", token, { asset_id: 1, sponsor: genesis });
  const deadline = Number(payload.payload?.deadline ?? payload.deadline);
  if (!Number.isFinite(deadline)) fail(`no deadline in the payload: ${JSON.stringify(payload).slice(0, 300)}`);
  const head = await rpc(rpcUrl, "eth_getBlockByNumber", ["latest", false]);
  const now = Number(BigInt(head.timestamp));
  if (deadline >= now) {
    await rpc(rpcUrl, "evm_increaseTime", [deadline - now + 1]);
    await rpc(rpcUrl, "evm_mine", []);
  }
  console.log(
    `payments: ${stranger.address} asked to register and never paid; anvil's clock moved ${Math.max(0, deadline - now + 1)} s ` +
      "past the payload's deadline",
  );
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
  // Every event type the notifications hold, delivered to the sink and verified there — and every type there is but
  // exit.opened (the exit drill's) and member.left (a member's leave during a pending change): the demo causes each.
  const { all_kinds } = await call(api, "GET", "/v1/users/email", await signIn(api, MEMBER_KEY));
  const demoTypes = all_kinds.filter((k) => k !== "exit.opened" && k !== "member.left");
  let missing = [];
  const kinds = await until(() => `every event type delivered to the devnet's endpoint; missing: ${missing}`, 90, async () => {
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
    missing = [...new Set([...types, ...demoTypes])].filter((t) => !(summary.byType[t] > 0));
    return missing.length === 0 ? summary : null;
  });
  const list = Object.entries(kinds.byType)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  console.log(`webhooks: ${kinds.received} deliveries, every one verified by the reference library: ${list}`);
}

// Before the exit drill, while the API is up: every endpoint there is disabled (the generated requests of
// scripts/api-check.sh create endpoints and rotate secrets on this devnet) and a fresh one for exit.opened points at
// the sink, whose secret file now holds its secret.
async function rearm(api, sinkUrl, state) {
  const admin = await signIn(api, ADMIN_KEY);
  const { endpoints } = await call(api, "GET", "/v1/admin/webhooks", admin);
  for (const e of endpoints.filter((e) => e.enabled)) {
    await call(api, "PATCH", `/v1/admin/webhooks/${e.id}`, admin, { enabled: false });
  }
  const created = await call(api, "POST", "/v1/admin/webhooks", admin, {
    url: sinkUrl,
    description: "the devnet's endpoint for the exit drill",
    kinds: ["exit.opened"],
  });
  writeFileSync(join(state, "secrets", "webhook-secret"), `${created.secret}\n`, { mode: 0o600 });
  console.log(`webhooks: ${endpoints.length} endpoints disabled; endpoint ${created.endpoint.id} → ${sinkUrl} for exit.opened`);
}

async function checkExit(sinkUrl) {
  const summary = await until("exit.opened at the devnet's endpoint", 120, async () => {
    const summary = await (await fetch(new URL("/summary", sinkUrl))).json();
    return summary.byType["exit.opened"] > 0 ? summary : null;
  });
  console.log(`webhooks: exit.opened ×${summary.byType["exit.opened"]} at the devnet's endpoint, verified by the reference library`);
}

switch (command) {
  case "webhook-sink":
    sink(args[0], args[1]);
    break;
  case "setup":
    await setup(args[0], args[1], args[2]);
    break;
  case "tron-usdt":
    await tronUsdt(args[0], args[1], args[2]);
    break;
  case "events":
    await events(args[0], args[1]);
    break;
  case "check":
    await check(args[0], args[1]);
    break;
  case "rearm":
    await rearm(args[0], args[1], args[2]);
    break;
  case "check-exit":
    await checkExit(args[0]);
    break;
  default:
    fail(
      "usage: devnet-notify.mjs webhook-sink PORT STATE | setup API SINK_URL STATE | tron-usdt TRON_RPC STATE pause|unpause | " +
        "events API RPC | check API SINK_URL | rearm API SINK_URL STATE | check-exit SINK_URL",
    );
}
