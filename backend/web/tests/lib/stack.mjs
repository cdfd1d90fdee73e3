// The running system the browser tests drive (scripts/devnet.sh, or the URLs in the environment), a fresh
// Chromium context per browser a test opens, the API as a second opinion, and polling with deadlines (never
// sleep-then-assert).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test as nodeTest } from "node:test";
import { chromium } from "playwright-core";
import { createPublicClient, encodeFunctionData, erc20Abi, http, toHex } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { TestWallet } from "./wallet.mjs";

const ROOT = new URL("../../../../", import.meta.url).pathname;
/** The devnet's state directory: scripts/devnet.sh's (`.devnet/`), or another one's (`DEVNET_STATE`, as the
 *  devnet script takes it: a second devnet beside the first, where the test command runs half the files). */
export const DEVNET = process.env.DEVNET_STATE || join(ROOT, ".devnet");
export const ARTIFACTS = new URL("../../test-results/", import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

// anvil's well-known development keys and mnemonic (public knowledge; test chains only).
export const ANVIL_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  // #2: the devnet demo's account 2 (its generation-plan standing, `devnet-demo generation`).
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];
const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

function devnetPorts() {
  const file = join(DEVNET, "ports.env");
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => l.split("=")),
  );
}

const ports = devnetPorts();
/**
 * A port the devnet wrote (`.devnet/ports.env`), for a URL the environment does not give: never a default port,
 * which another devnet (or another system) may hold — the devnet script moves to free ports when one is taken.
 */
function devnetUrl(env, key, url) {
  if (process.env[env]) return process.env[env];
  if (!ports[key]) throw new Error(`${env} is not set and .devnet/ports.env names no ${key}: start the devnet (scripts/devnet.sh) first`);
  return url(ports[key]);
}
/** The API and pages, as the sign-in message's domain names them (localhost). */
export const BASE = devnetUrl("WEB_TEST_BASE", "API_PORT", (p) => `http://localhost:${p}`);
export const RPC = devnetUrl("WEB_TEST_RPC", "ANVIL_PORT", (p) => `http://127.0.0.1:${p}`);
/** The devnet reconciler's metrics (Prometheus text): what it pages on. */
export const RECONCILER_METRICS = devnetUrl("WEB_TEST_RECONCILER_METRICS", "RECONCILER_METRICS_PORT", (p) => `http://127.0.0.1:${p}/metrics`);
/** The TRON test node's HTTP API (java-tron's `/wallet/*`), TronLink's node in the tests. */
export const TRON_HTTP = devnetUrl("WEB_TEST_TRON_HTTP", "TRON_HTTP_PORT", (p) => `http://127.0.0.1:${p}`);
/**
 * The TRON test node's JSON-RPC (its full node port: TRON transaction ids in logs and transactions), where the TronLink
 * stand-in finds what TronLink's event server (TronGrid) and `trx.getTransaction` answer; null when the devnet names none.
 */
export const TRON_JSONRPC = process.env.WEB_TEST_TRON_JSONRPC ?? (ports.TRON_FULL_PORT ? `http://127.0.0.1:${ports.TRON_FULL_PORT}` : null);
export const CHAIN = JSON.parse(readFileSync(process.env.WEB_TEST_CHAIN_JSON ?? join(DEVNET, "chain.json"), "utf8"));
export const CHAIN_ID = 31337;
/** The contracts' ABIs as the build made them (abi/artifacts, the source the page's types are generated from). */
const artifact = (name) => JSON.parse(readFileSync(join(ROOT, "abi/artifacts", `${name}.json`), "utf8")).abi;
export const SETTLEMENT_ABI = artifact("Settlement");
export const TOKEN_ABI = artifact("TestUSDT");
/** One event of the Settlement's ABI, by name. */
export const settlementEvent = (name) => SETTLEMENT_ABI.find((e) => e.type === "event" && e.name === name);

/** Sends `functionName(args)` to the devnet's Settlement as its admin (anvil account 0); the receipt, checked. */
export async function asSettlementAdmin(functionName, args) {
  const admin = new TestWallet({ key: ANVIL_KEYS[0], rpcUrl: RPC, chainId: CHAIN_ID });
  const hash = await admin.client.writeContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName, args });
  const receipt = await chain.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success", `${functionName} as the admin`);
  return receipt;
}
export const BNB = 1;
export const USDT = 2;

export const chain = createPublicClient({ transport: http(RPC) });

/**
 * Now, in ms, by the later of this machine's clock and the devnet chain's head: deadlines are the chain's time, and
 * anvil's clock may run ahead of the machine's (the generation demo moves it on to close a week). A page clock set
 * "two hours from now" is set from here, never from the machine's clock alone.
 */
export async function chainNow() {
  const block = await chain.getBlock({ blockTag: "latest" });
  return Math.max(Date.now(), Number(block.timestamp) * 1000);
}

import { until } from "./poll.mjs";

export { until };

/** anvil's mnemonic account `index`'s private key (hex). */
export function anvilKey(index) {
  return toHex(mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index }).getHdKey().privateKey);
}

/**
 * The devnet's staff wallets (`devnet-demo staff`): anvil's accounts 10 (finance), 11 and 12 (approvers) — the
 * signer's `[policy.approvals]` on the devnet (scripts/devnet.sh) counts 11's and 12's approvals.
 */
export const STAFF = { finance: anvilKey(10), approver: anvilKey(11), approver2: anvilKey(12) };

/** `key`'s wallet signature of a staff approval's typed data (`AuthorisationView.typed_data.propose` or `.approve`). */
export async function signStaffTyped(key, typed) {
  const { EIP712Domain: _, ...types } = typed.types;
  const m = typed.message;
  const message = { ...m, total: BigInt(m.total), nonce: BigInt(m.nonce), deadline: BigInt(m.deadline) };
  return privateKeyToAccount(key).signTypedData({ domain: typed.domain, types, primaryType: "StaffApproval", message });
}

/**
 * Signs authorisation `auth` off as the devnet's approvers would, each in its own wallet, until it is approved (a
 * payout batch or refund needs one approval there, a treasury transfer two). Returns the authorisation, approved.
 */
export async function approveWithStaff(auth) {
  let a = auth;
  for (const key of [STAFF.approver, STAFF.approver2]) {
    if (a.stage === "approved") break;
    const approver = await Api.signIn(key);
    const signature = await signStaffTyped(key, a.typed_data.approve);
    a = await approver.post(`/v1/admin/authorisations/${a.id}/signatures`, { action: "approve", signature });
  }
  assert.equal(a.stage, "approved", JSON.stringify({ id: a.id, stage: a.stage, missing: a.missing }));
  return a;
}

/**
 * Takes an outflow through the two-person lifecycle through the API (backend/STAFF.md §3): `proposer` (an `Api`
 * signed in with its key: the admin or finance) proposes `body` (`{ kind, ... }` of `POST /v1/admin/authorisations`)
 * and signs the proposal in its wallet; the devnet's approvers approve it. Returns the authorisation, approved.
 */
export async function proposeAndApprove(proposer, body) {
  const proposed = await proposer.post("/v1/admin/authorisations", body);
  const signature = await signStaffTyped(proposer.key, proposed.typed_data.propose);
  return approveWithStaff(await proposer.post(`/v1/admin/authorisations/${proposed.id}/signatures`, { action: "propose", signature }));
}

/**
 * Gives `wallet` the staff `role` as the console would: the admin proposes it, and the devnet's approver (a second
 * person) approves it unless it applied at once. Returns the change as applied.
 */
export async function grantRole(admin, wallet, role) {
  const change = await admin.post("/v1/admin/staff/changes", { action: "grant", wallet, role, reason: `test: ${role}` });
  if (change.status === "applied") return change;
  assert.equal(change.status, "proposed", JSON.stringify(change));
  const approver = await Api.signIn(STAFF.approver);
  const applied = await approver.post(`/v1/admin/staff/changes/${change.id}/approve`, {});
  assert.equal(applied.status, "applied", JSON.stringify(applied));
  return applied;
}

/** A fresh wallet (an anvil mnemonic account far above the demo ones) with 100 BNB and 1 000 test USDT. */
export async function freshKey() {
  const index = 1000 + Math.floor(Math.random() * 1_000_000);
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
  const key = toHex(account.getHdKey().privateKey);
  await rpc("anvil_setBalance", [account.address, toHex(100n * 10n ** 18n)]);
  const w = new TestWallet({ key, rpcUrl: RPC, chainId: CHAIN_ID });
  // The test token lets anyone mint; the wallet pays its own gas.
  const hash = await w.client.sendTransaction({
    to: CHAIN.usdt,
    data: encodeFunctionData({ abi: TOKEN_ABI, functionName: "mint", args: [account.address, 1_000_000_000n] }),
  });
  await chain.waitForTransactionReceipt({ hash });
  return key;
}

/** A JSON-RPC call to the devnet's anvil. */
export const rpc = (method, params) => jsonRpc(RPC, method, params);

/** A JSON-RPC call to the node at `url`; its error becomes an exception naming the method. */
export async function jsonRpc(url, method, params) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export const usdtBalance = (address) =>
  chain.readContract({ address: CHAIN.usdt, abi: erc20Abi, functionName: "balanceOf", args: [address] });

/** The API as the test's second opinion: sign in with a key, call with the token. */
export class Api {
  static async signIn(key) {
    const account = privateKeyToAccount(key);
    const nonce = await Api.raw("POST", "/v1/auth/nonce", { address: account.address, chain: "evm" });
    const signature = await account.signMessage({ message: nonce.body.message });
    const pair = await Api.raw("POST", "/v1/auth/signin", { message: nonce.body.message, signature });
    assert.equal(pair.status, 200, JSON.stringify(pair.body));
    return new Api(pair.body.access_token, account.address, key);
  }

  constructor(token, address, key) {
    this.token = token;
    this.address = address;
    /** The wallet's key (test wallets only): it signs staff approvals (`proposeAndApprove`). */
    this.key = key;
  }

  static async raw(method, path, body, token) {
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  async get(path) {
    const r = await Api.raw("GET", path, undefined, this.token);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async post(path, body) {
    const r = await Api.raw("POST", path, body, this.token);
    assert.ok(r.status < 300, `${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async standing(assetId) {
    const me = await this.get("/v1/users/me");
    return me.assets.find((a) => a.asset_id === assetId) ?? null;
  }
}

/** Browsers a test opened and has not closed. */
const live = new Set();

/**
 * `node:test`'s `test`, plus: when the test fails, a screenshot of every page it left open
 * (`test-results/FAILED-<name>.png`) and those browsers closed, so no Chromium outlives its test.
 */
export function test(name, fn) {
  return nodeTest(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
      let i = 0;
      for (const b of live) {
        await b.page.screenshot({ path: join(ARTIFACTS, `FAILED-${slug}-${i++}.png`), fullPage: true }).catch(() => undefined);
      }
      throw e;
    } finally {
      for (const b of [...live]) await b.dispose();
    }
  });
}

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The test file's one Chromium (launched at the first `openBrowser`, closed when the file's tests end, launched
 * again should it have died): each `openBrowser` is a context of its own in it — cookies, storage, service workers
 * and caches apart, as a fresh profile's — so a file pays for one Chromium start, not one per browser it opens.
 */
let chromiumProcess = null;
function sharedChromium() {
  if (chromiumProcess === null) {
    const launching = chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS, headless: true });
    chromiumProcess = launching;
    launching.then(
      (b) => b.on("disconnected", () => { if (chromiumProcess === launching) chromiumProcess = null; }),
      () => { if (chromiumProcess === launching) chromiumProcess = null; },
    );
  }
  return chromiumProcess;
}
after(async () => {
  const launching = chromiumProcess;
  chromiumProcess = null;
  if (launching) await (await launching.catch(() => null))?.close().catch(() => undefined);
});

/**
 * A fresh Chromium context (a profile of its own) with the test wallet injected (`key`; and/or `tronLink`, a
 * TronLink stand-in from tests/lib/tron.mjs). Console errors, page errors and CSP violations are collected; `close()` fails the test on
 * any that `allow` does not name.
 */
export async function openBrowser({ key, walletChainId, unknownChains, tronLink, viewport = { width: 1280, height: 900 } } = {}) {
  const context = await (await sharedChromium()).newContext({ viewport });
  const page = await context.newPage();
  const wallet = key ? new TestWallet({ key, rpcUrl: RPC, chainId: CHAIN_ID, walletChainId, unknownChains }) : null;
  if (wallet) await wallet.attach(page);
  if (tronLink) await tronLink.attach(page);
  const problems = [];
  page.on("console", (m) => {
    // Chromium logs every 4xx/5xx as "Failed to load resource" without the URL: recorded below, with it.
    if (m.text().startsWith("Failed to load resource")) return;
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`http ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // A reload or navigation aborts requests in flight: that is the test's doing, not the page's.
  page.on("requestfailed", (r) => {
    if (r.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  // Anything not from this origin would break offline use (and the CSP): record it.
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(BASE) && !url.startsWith("data:")) problems.push(`other origin: ${url}`);
  });
  const browser = {
    context,
    page,
    wallet,
    tronLink,
    problems,
    async dispose() {
      live.delete(browser);
      await context.close().catch(() => undefined);
    },
    async screenshot(name) {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
    /** Closes the browser; fails on console errors or foreign requests other than those `allow` matches. */
    async close(allow = []) {
      await browser.dispose();
      const unexpected = problems.filter((p) => !allow.some((a) => a.test(p)));
      assert.deepEqual(unexpected, [], "the page logged errors or fetched from elsewhere");
    },
  };
  live.add(browser);
  return browser;
}

/**
 * The browser's refresh cookie (read through the DevTools protocol, as no page script can: it is HttpOnly), or
 * null.
 */
export async function refreshCookie(context) {
  return (await context.cookies()).find((c) => c.name === "referral_refresh") ?? null;
}

/** All that page script can see of a session: both storages and `document.cookie`. */
export const scriptView = (page) =>
  page.evaluate(() => {
    const all = (s) => Object.fromEntries(Object.keys(s).map((k) => [k, s.getItem(k)]));
    return { localStorage: all(localStorage), sessionStorage: all(sessionStorage), cookie: document.cookie };
  });

/** Fails when page script can read any of `secrets` (tokens): in either storage or in `document.cookie`. */
export async function assertOutOfScriptReach(page, secrets) {
  const view = await scriptView(page);
  const text = JSON.stringify(view);
  for (const secret of secrets) {
    assert.ok(secret && secret.length >= 32, "a real token to look for");
    assert.ok(!text.includes(secret), `a token is readable by page script: ${text}`);
  }
  assert.equal(view.cookie, "", "document.cookie shows nothing");
  return view;
}

/** Connects the injected wallet and signs in through the page. */
export async function signInThroughPage(page) {
  await page.getByTestId("connect").click();
  await page.getByTestId("sign-in").click();
  await page.getByTestId("sign-out").waitFor({ timeout: 15_000 });
}

/**
 * Registers `key` under `sponsor` the way the demo users do, without a browser (to set up a tree quickly):
 * payload from the API, approve (token), the user's own transaction, then the ledger's confirmation. `pkg`: the
 * package's base units, for an asset whose plan sells packages (the generation plan).
 */
export async function registerDirectly(key, sponsor, assetId, pkg) {
  const api = await Api.signIn(key);
  const p = await api.post("/v1/users/register", { asset_id: assetId, sponsor, ...(pkg ? { package: pkg } : {}) });
  const w = new TestWallet({ key, rpcUrl: RPC, chainId: CHAIN_ID });
  if (p.transaction.value === "0") {
    const approve = await w.client.sendTransaction({
      to: p.payload.token,
      data: encodeFunctionData({ abi: erc20Abi, functionName: "approve", args: [p.contract, BigInt(p.amount.base)] }),
    });
    await chain.waitForTransactionReceipt({ hash: approve });
  }
  const hash = await w.client.sendTransaction({ to: p.transaction.to, value: BigInt(p.transaction.value), data: p.transaction.data });
  const receipt = await chain.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success");
  await until(`registration of ${api.address} applied`, async () => {
    const s = await api.post("/v1/users/register/confirm", { nonce: p.nonce });
    return s.status === "applied";
  }, { timeout: 90_000 });
  return api;
}

export async function plans() {
  return (await Api.raw("GET", "/v1/public/plan")).body.assets;
}

/** 1 test USDT in base units (6 decimals). */
export const USDT_UNIT = 10n ** 6n;

/** What `address` held of test USDT at `block`. */
export const usdtBalanceAt = (address, block) =>
  chain.readContract({ address: CHAIN.usdt, abi: erc20Abi, functionName: "balanceOf", args: [address], blockNumber: BigInt(block) });

/** A fresh sponsor under `sponsor` and a first referral under it: the fresh sponsor is owed a direct reward. */
export async function newPendingReward(sponsor, assetId) {
  const fresh = await registerDirectly(await freshKey(), sponsor, assetId);
  await registerDirectly(await freshKey(), fresh.address, assetId);
  return fresh;
}

/**
 * Has a built batch proposed by `admin` (the admin or finance), approved by the devnet's approver, signed and submitted
 * through the admin API, then waits until the listener has settled it.
 */
export async function payBatch(admin, id) {
  await proposeAndApprove(admin, { kind: "payout_batch", subject: id });
  await admin.post(`/v1/admin/payouts/batches/${id}/sign`, {});
  await admin.post(`/v1/admin/payouts/batches/${id}/submit`, {});
  return until(`batch ${id} executed`, async () => {
    const b = await admin.get(`/v1/admin/payouts/batches/${id}`);
    if (b.status === "failed" || b.status === "cancelled") throw new Error(`batch ${id} ${b.status}`);
    return b.status === "executed" && b;
  }, { timeout: 120_000 });
}

/**
 * Pays test USDT out through the admin API until the signer's rolling daily outflow cap (30 USDT on the devnet)
 * refuses the next build: build, sign, submit, wait until executed, and read what each recipient received on-chain.
 * When nothing is payable while room is left, a fresh sponsor is given a direct reward to pay. USDT batches left
 * building by an interrupted run are cancelled first (the ledger counts them against the room). Works whether or
 * not earlier runs already used the room: then the first build is refused. Returns `fresh` (no USDT batch existed
 * before, as on a devnet just started), the batches paid (`built`: the build's answer, `executed`, `received`:
 * what each entry's wallet received in the batch's block) and the refusal (`message`, `retryAfter` in seconds).
 */
export async function payUsdtUntilCapReached(admin) {
  const fresh = (await admin.get(`/v1/admin/payouts/batches?asset_id=${USDT}&limit=1`)).items.length === 0;
  for (const b of (await admin.get(`/v1/admin/payouts/batches?asset_id=${USDT}&status=building&limit=100`)).items) {
    await admin.post(`/v1/admin/payouts/batches/${b.id}/cancel`, {});
  }
  const paid = [];
  for (let round = 0; round < 10; round++) {
    const r = await Api.raw("POST", "/v1/admin/payouts/batches", { asset_id: USDT }, admin.token);
    if (r.status === 409 && r.body.error.code === "daily_outflow_cap_reached") {
      return { fresh, paid, refusal: { message: r.body.error.message, retryAfter: r.headers.get("retry-after") } };
    }
    if (r.status === 409 && r.body.error.code === "nothing_payable") {
      await newPendingReward(admin.address, USDT);
      continue;
    }
    assert.equal(r.status, 201, `USDT build: ${r.status} ${JSON.stringify(r.body)}`);
    const built = r.body;
    const executed = await payBatch(admin, built.id);
    const received = await Promise.all(
      executed.entries.map(
        async (e) => (await usdtBalanceAt(e.address, executed.executed_block)) - (await usdtBalanceAt(e.address, executed.executed_block - 1)),
      ),
    );
    paid.push({ built, executed, received });
  }
  throw new Error(`the USDT daily outflow cap was not reached after 10 builds (${paid.length} batches paid)`);
}
