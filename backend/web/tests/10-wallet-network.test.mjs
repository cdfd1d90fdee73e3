// The dApp as its users expect it: the page follows every account and chain change of the wallet with one
// listener of each kind; a wallet that does not know the network is asked to add it, with the chain's name,
// coin, RPC and explorer from the API; every network by name; explorer links only where one is configured; a
// stalled API says so and can be retried; a page opened under another host name than the sign-in site says
// where to sign in instead of having the wallet sign a message naming another site; every page of the dApp and
// the console fits a 390 px screen; the console's buttons say what they do by colour; empty tables say so.
import assert from "node:assert/strict";
import { ANVIL_KEYS, Api, BASE, BNB, CHAIN_ID, RPC, freshKey, openBrowser, plans, refreshCookie, registerDirectly, signInThroughPage, test, until } from "./lib/stack.mjs";
import { explorerUrl } from "../src/lib/explorer.js";

const address = (page) => page.getByTestId("connected-address").getAttribute("data-address");
const signedInAs = async (page) => ((await page.getByTestId("sign-out").count()) > 0 ? await address(page) : null);

test("the page follows chain then account switches, many times, with one listener of each kind", async () => {
  const keys = [await freshKey(), await freshKey()];
  const b = await openBrowser({ key: keys[0] });
  const { page, wallet, context } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const first = wallet.address;
  assert.equal(await signedInAs(page), first);
  assert.ok(await refreshCookie(context), "a cookie session");
  assert.deepEqual(await wallet.listenerCounts(page), { accountsChanged: 1, chainChanged: 1 });

  for (let i = 1; i <= 12; i++) {
    const before = wallet.address;
    // A network change first (the page makes a new connection object for it), then another account.
    await wallet.switchTo(i % 2 ? 56 : CHAIN_ID);
    await wallet.switchAccount(keys[i % 2]);
    const now = wallet.address;
    assert.notEqual(now, before);
    await until(`the page showing ${now} (round ${i})`, async () => (await address(page)) === now, { timeout: 10_000 });
    // The wallet's network by name, read again after the switch.
    const network = i % 2 ? "BNB Smart Chain" : "Devnet (anvil)";
    await until(`"on ${network}" shown`, async () => (await page.getByTestId("wallet-network").innerText()) === `on ${network}`, { timeout: 10_000 });
    // The old account's session ended; the new account is asked to sign in.
    await page.getByTestId("sign-in").waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId("sign-out").count(), 0, `round ${i}: still signed in as ${before}`);
    assert.equal(await page.getByTestId("role").count(), 0);
    await until("the old session's cookie removed", async () => (await refreshCookie(context)) === null, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => localStorage.getItem("referral.session")), null);
    assert.deepEqual(await wallet.listenerCounts(page), { accountsChanged: 1, chainChanged: 1 }, `round ${i}`);
    // Every third round the new account signs in, so that the next switch has a session to end.
    if (i % 3 === 0) {
      await page.getByTestId("sign-in").click();
      await page.getByTestId("sign-out").waitFor({ timeout: 15_000 });
      assert.equal(await signedInAs(page), now);
    }
  }
  // Disconnected (no account): no wallet shown, no listener left behind.
  await wallet.emit("accountsChanged", []);
  await page.getByTestId("connect").waitFor();
  assert.deepEqual(await wallet.listenerCounts(page), { accountsChanged: 0, chainChanged: 0 });
  await page.getByTestId("connect").click();
  await page.getByTestId("connected-address").waitFor();
  assert.deepEqual(await wallet.listenerCounts(page), { accountsChanged: 1, chainChanged: 1 });
  await b.close();
});

test("a wallet that does not know the chain (4902) is asked to add it, by name and with the API's RPC, and the payment proceeds", async () => {
  const chains = (await Api.raw("GET", "/v1/public/chains")).body;
  const devnet = chains.chains.find((c) => c.chain_id === CHAIN_ID);
  assert.equal(devnet.public_rpc_url, RPC, "the devnet hands wallets its anvil RPC");
  assert.equal(devnet.explorer_url, undefined, "no explorer on the devnet");
  const plan = (await plans()).find((p) => p.asset_id === BNB);
  const key = await freshKey();
  const b = await openBrowser({ key, walletChainId: 56, unknownChains: [CHAIN_ID] });
  const { page, wallet } = b;
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  await page.goto(`${BASE}/?ref=${genesis.address}&asset=${BNB}`);
  const register = page.getByTestId("register");
  await register.waitFor();
  // Networks by name.
  assert.match(await register.innerText(), /Devnet \(anvil\) \(chain 31337\)/);
  await signInThroughPage(page);
  await page.getByTestId("wrong-network").waitFor();
  await page.getByTestId("switch-network").click();
  await until("the wallet on the devnet", () => wallet.chainId === CHAIN_ID, { timeout: 15_000 });
  assert.equal(wallet.added.length, 1, "asked once to add the chain");
  assert.deepEqual(wallet.added[0], {
    chainId: "0x7a69",
    chainName: "Devnet (anvil)",
    nativeCurrency: { name: "BNB", symbol: "BNB", decimals: 18 },
    rpcUrls: [RPC],
  });
  const switches = wallet.log.filter((m) => m === "wallet_switchEthereumChain").length;
  assert.ok(switches >= 1 && wallet.log.indexOf("wallet_addEthereumChain") > wallet.log.indexOf("wallet_switchEthereumChain"));
  await page.getByTestId("wrong-network").waitFor({ state: "detached" });
  await page.getByTestId("pay-register").click();
  const applied = register.getByTestId("step-applied");
  await until("the registration applied", async () => (await applied.getAttribute("data-state")) === "done", { timeout: 120_000 });
  const me = await (await Api.signIn(key)).standing(BNB);
  assert.equal(me.sponsor, genesis.address);
  assert.equal(me.balances.paid_in, plan.registration_fee.base);
  await b.screenshot("10-added-chain-paid");
  await b.close();
});

test("explorer links: none on the devnet (none configured), and the link builder's forms per chain family", async () => {
  // EVM explorers and TRONSCAN.
  assert.equal(explorerUrl("https://bscscan.com/", "evm", "tx", "0xabc"), "https://bscscan.com/tx/0xabc");
  assert.equal(explorerUrl("https://bscscan.com", "evm", "address", "0xAbC"), "https://bscscan.com/address/0xAbC");
  assert.equal(explorerUrl("https://nile.tronscan.org", "tron", "tx", "0xdeadbeef"), "https://nile.tronscan.org/#/transaction/deadbeef");
  assert.equal(explorerUrl("https://tronscan.org", "tron", "address", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"), "https://tronscan.org/#/address/TJRabPrwbZy45sbavfcjinPJC18kjpRTv8");
  // No explorer, or not a web URL: plain text.
  for (const base of [undefined, null, "", "javascript:alert(1)", "ftp://x", "https://"]) {
    assert.equal(explorerUrl(base, "evm", "tx", "0xabc"), null, String(base));
  }
  assert.equal(explorerUrl("https://x.example", "evm", "tx", "0x<script>"), "https://x.example/tx/0x%3Cscript%3E");

  // The devnet configures none: its pages show hashes and addresses as text.
  const key = await freshKey();
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  await registerDirectly(key, genesis.address, BNB);
  const b = await openBrowser({ key });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  await page.getByTestId("dashboard").waitFor();
  assert.equal(await page.getByTestId("explorer-link").count(), 0);
  await b.close();
});

test("a stalled API says so instead of loading forever, and retry works", async () => {
  const b = await openBrowser();
  const { page } = b;
  let held = 0;
  // The first plan request never gets an answer (the page gives up after its timeout); later ones go through.
  await page.route("**/v1/public/plan", async (route) => {
    if (held++ === 0) return; // left hanging
    await route.continue();
  });
  const started = Date.now();
  await page.goto(BASE + "/");
  const failed = page.getByTestId("load-failed");
  await failed.waitFor({ timeout: 25_000 });
  const waited = Date.now() - started;
  assert.ok(waited >= 14_000, `gave up after ${waited} ms, not the 15 s timeout`);
  assert.match(await failed.innerText(), /Could not load the plan: The service did not answer in time; retry in a moment\./);
  await b.screenshot("10-api-stalled");
  await failed.getByTestId("retry").click();
  await page.getByTestId("disclosure").waitFor({ timeout: 15_000 });
  assert.equal(await page.getByTestId("load-failed").count(), 0);
  assert.equal(held, 2);
  await b.close();
});

test("from 127.0.0.1 the page names the sign-in site instead of having the wallet sign for localhost; the API refuses the nonce", async () => {
  const key = await freshKey();
  const wrong = BASE.replace("//localhost", "//127.0.0.1");
  assert.notEqual(wrong, BASE);
  const b = await openBrowser({ key });
  const { page, wallet } = b;
  await page.goto(wrong + "/?x=1");
  await page.getByTestId("connect").click();
  const notice = page.getByTestId("wrong-host");
  await notice.waitFor();
  assert.match(await notice.innerText(), new RegExp(`Sign-in works only at ${new URL(BASE).host}, not at ${new URL(wrong).host}`));
  assert.equal(await notice.getByTestId("right-site").getAttribute("href"), `${BASE}/?x=1`);
  assert.equal(await page.getByTestId("sign-in").count(), 0, "no sign-in offered here");
  assert.ok(!wallet.log.includes("personal_sign"), "nothing was signed");
  await b.screenshot("10-wrong-host");
  // The API refuses a nonce asked from that origin (as a page's fetch would send it), and serves its own site.
  const ask = (origin) =>
    fetch(`${BASE}/v1/auth/nonce`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ address: wallet.address, chain: "evm" }),
    });
  const refused = await ask(wrong);
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error.code, "origin_refused");
  assert.equal((await ask(BASE)).status, 200);
  await b.close([/other origin: http:\/\/127\.0\.0\.1/]);

  // At localhost: no notice, sign-in works.
  const ok = await openBrowser({ key });
  await ok.page.goto(BASE + "/");
  await signInThroughPage(ok.page);
  assert.equal(await ok.page.getByTestId("wrong-host").count(), 0);
  await ok.close();
});

const fits = async (page, what) => {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= 390, `${what}: the page is ${w} px wide on a 390 px screen`);
};

test("every page fits a 390 px screen; the console's buttons by consequence, empty tables said, the TRON asset by name", async () => {
  const viewport = { width: 390, height: 844 };
  // The user pages: disclosure, a referral link, the dashboard.
  const key = await freshKey();
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  await registerDirectly(key, genesis.address, BNB);
  const u = await openBrowser({ key, viewport });
  await u.page.goto(BASE + "/");
  await u.page.getByTestId("disclosure").waitFor();
  await fits(u.page, "the disclosure");
  await u.page.goto(`${BASE}/?ref=${genesis.address}&asset=${BNB}`);
  await u.page.getByTestId("register").waitFor();
  await fits(u.page, "a referral link");
  await signInThroughPage(u.page);
  await u.page.getByTestId("dashboard").waitFor();
  // A phone shows the history folded: opened, it still fits.
  await u.page.getByTestId("history-fold").locator("summary").click();
  await u.page.getByTestId("history").waitFor();
  await fits(u.page, "the dashboard");
  await u.screenshot("10-dashboard-390");
  await u.close();

  const a = await openBrowser({ key: ANVIL_KEYS[0], viewport });
  const { page } = a;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  for (const [tab, section] of [
    ["payouts", "pending"],
    ["treasury", "transfers"],
    ["monitoring", "listeners"],
    ["users", "withdrawals"],
    ["plan", "plan"],
    ["audit", "audit"],
  ]) {
    await page.getByTestId(`tab-${tab}`).click();
    await page.getByTestId(section).waitFor();
    await until(`the ${tab} tab loaded`, async () => (await page.locator("[aria-busy=true]").count()) === 0, { timeout: 20_000 });
    await fits(page, `the console's ${tab} tab`);
    await a.screenshot(`10-admin-${tab}-390`);
  }

  // Monitoring: the TRON asset by its symbol and network, never by a raw token address.
  await page.getByTestId("tab-monitoring").click();
  const tronPlan = (await plans()).find((p) => p.chain_id === 3448148188);
  if (tronPlan && (await page.getByTestId("reconciliation").count()) > 0) {
    const row = page.getByTestId(`recon-${tronPlan.symbol}-TRON`);
    if ((await row.count()) > 0) assert.match(await row.innerText(), new RegExp(`^${tronPlan.symbol} on TRON Nile`));
    const text = await page.getByTestId("monitoring").innerText();
    assert.ok(!/0x[0-9a-fA-F]{40}/.test(text) && !text.includes(tronPlan.token), "no raw token address in Monitoring");
  }

  // Buttons by consequence: building a batch is the primary action, cancelling one and freezing are red.
  await page.getByTestId("tab-payouts").click();
  const build = page.getByTestId("build-batch");
  assert.match(await build.getAttribute("class"), /\bprimary\b/);
  if (await build.isEnabled()) {
    await build.click();
    const dialog = page.locator("dialog.confirm");
    assert.match(await dialog.getByTestId("confirm-ok").getAttribute("class"), /\bprimary\b/);
    await dialog.getByRole("button", { name: "Go back" }).click();
  }
  await page.getByTestId("tab-users").click();
  await page.getByTestId("freeze-address").fill(genesis.address);
  await page.getByTestId("freeze-reason").fill("a look at the buttons");
  await page.getByTestId("freeze").click();
  const dialog = page.locator("dialog.confirm");
  assert.match(await dialog.getByTestId("confirm-ok").getAttribute("class"), /\bdanger\b/);
  await dialog.getByRole("button", { name: "Go back" }).click();
  assert.match(await page.getByTestId("unfreeze").getAttribute("class"), /\bprimary\b/);

  // An empty table says so: batches of a status none has.
  await page.getByTestId("tab-payouts").click();
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  for (const status of ["failed", "cancelled", "building"]) {
    const list = await admin.get(`/v1/admin/payouts/batches?asset_id=${BNB}&status=${status}&limit=1`);
    if (list.items.length > 0) continue;
    await page.getByTestId("batches").locator("select").selectOption(status);
    const empty = page.getByTestId("batches").getByTestId("empty");
    await empty.waitFor();
    assert.equal(await empty.innerText(), `No ${status} batches.`);
    break;
  }
  await a.close();
});
