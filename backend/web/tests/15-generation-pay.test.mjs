// Buying the generation plan's packages (PLAN-GENERATION.md §2) from the dApp's own pay button, on the devnet's
// asset 4 (GUSDT): a fresh wallet joins through a referral link with the package it picks and a reload while the
// payment's dialog is open; buys again from its dashboard with a double click, then with a second tab open; and is
// told which payment is out when another device asked for another package (409 payment_outstanding), then pays
// that one. Each payment is checked on the chain (one event of exactly the package, the tokens left the wallet
// once), in the ledger (one payload handed out per payment, applied) and on the page (the standing's paid in and
// cap).
import assert from "node:assert/strict";
import { erc20Abi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  ANVIL_KEYS,
  Api,
  BASE,
  CHAIN,
  chain,
  openBrowser,
  settlementEvent,
  signInThroughPage,
  test,
  until,
} from "./lib/stack.mjs";
import { backAfterReload, gate, phase, records, stepState } from "./lib/pay.mjs";
import { GUSDT, freshGenerationKey } from "./lib/generation.mjs";
import { shownAs } from "./lib/dates.mjs";

const GEN = 4;
const GUSDT_TOKEN = CHAIN.generation_token;

const gusdtBalance = (address) => chain.readContract({ address: GUSDT_TOKEN, abi: erc20Abi, functionName: "balanceOf", args: [address] });

/** The wallet's Registered / Retopped events of GUSDT on the chain. */
async function events(name, user) {
  const logs = await chain.getLogs({ address: CHAIN.settlement, event: settlementEvent(name), args: { user }, fromBlock: 0n });
  return logs.filter((l) => l.args.token.toLowerCase() === GUSDT_TOKEN.toLowerCase());
}

/** The ledger's payloads of `kind` for the wallet in GUSDT. */
const payloads = async (api, kind) => (await api.get(`/v1/users/payments?asset_id=${GEN}`)).payments.filter((p) => p.kind === kind);

/** Exactly `want` events of `name` on the chain, the last one of `amount`; every payload of `kind` applied. */
async function assertPaid(api, address, name, kind, want, amount) {
  const seen = await events(name, address);
  assert.equal(seen.length, want, `${want} ${name} event(s) of the wallet in GUSDT`);
  assert.equal(seen[seen.length - 1].args.amount, amount, "the event pays exactly the package");
  const list = await payloads(api, kind);
  assert.equal(list.length, want, `one ${kind} payload per payment: ${JSON.stringify(list)}`);
  assert.ok(list.every((p) => p.status === "applied"), "each applied");
}

test("generation packages from the pay button: join with a reload mid-payment, buy again with a double click and with a second tab, never charged twice", async () => {
  const plan = (await Api.raw("GET", "/v1/public/plan")).body.generation.find((g) => g.asset_id === GEN);
  assert.deepEqual(
    plan.packages.map((p) => p.base),
    ["100000000", "500000000", "1000000000", "5000000000"],
  );
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  const key = await freshGenerationKey();
  const api = await Api.signIn(key);
  const b = await openBrowser({ key });
  const { page, wallet } = b;
  const g = gate(wallet);
  const start = await gusdtBalance(wallet.address);

  // The referral link names asset 4: its rules first, then the package picker.
  await page.goto(`${BASE}/?ref=${genesis.address}&asset=${GEN}`);
  await page.getByTestId(`generation-rules-${GEN}`).waitFor();
  await signInThroughPage(page);
  const register = page.getByTestId("register");
  await register.getByTestId("package-picker").waitFor();
  assert.match(await register.getByTestId("register-cost").innerText(), /GUSDT .*the package you pick below/);
  await register.getByTestId("package-500000000").check();
  assert.equal(await register.getByTestId("package-amount").getAttribute("data-base"), "500000000");
  assert.equal(await register.getByTestId("package-cap").getAttribute("data-base"), "1500000000", "the cap grows by 3 × 500");
  assert.equal(await register.getByTestId("pay-register").innerText(), "Register and pay 500 GUSDT");

  // Reload while the payment's dialog is open (the approval went through): the page resumes the SAME payload, with
  // its package held in the picker.
  g.holdSend(2);
  await register.getByTestId("pay-register").click();
  await until("the payment's dialog open", () => g.held.length === 1, { timeout: 60_000 });
  const [out] = await records(page);
  assert.equal(out.payment.amount.base, "500000000");
  await page.reload();
  await backAfterReload(page);
  await until("the page offers to continue the same payment", async () => (await phase(register, "register")) === "resume", { timeout: 30_000 });
  assert.equal(await register.getByTestId("package-500000000").isChecked(), true, "the picker shows the package out");
  assert.equal(await register.getByTestId("package-100000000").isDisabled(), true, "and cannot change while it is out");
  await register.getByTestId("package-held").waitFor();
  await b.screenshot("15-generation-register-resume");
  await register.getByTestId("pay-register").click();
  await until("the registration applied", async () => (await stepState(register, "applied")) === "done", { timeout: 120_000 });
  assert.equal((await records(page)).length, 0);
  assert.match(await register.getByTestId("split-package").innerText(), /^500 GUSDT$/);
  // The dialog the reloaded page left open, confirmed now, is refused by the contract: the nonce is spent.
  for (const r of await g.release()) {
    if (r.hash) assert.equal((await chain.waitForTransactionReceipt({ hash: r.hash })).status, "reverted");
  }
  await assertPaid(api, wallet.address, "Registered", "register", 1, 500n * GUSDT);
  assert.equal(start - (await gusdtBalance(wallet.address)), 500n * GUSDT, "500 GUSDT left the wallet once");
  const standing = page.getByTestId(`generation-standing-${GEN}`);
  await until("the standing shows the purchase", async () => (await standing.getByTestId("gen-paid-in").getAttribute("data-base")) === "500000000");
  assert.equal(await standing.getByTestId("gen-cap").getAttribute("data-base"), "1500000000");

  // Buy again from the dashboard: a double click pays once.
  await page.goto(`${BASE}/`);
  const buy = page.getByTestId("asset-GUSDT").getByTestId("buy-package");
  await buy.getByTestId("package-picker").waitFor();
  await buy.getByTestId("package-100000000").check();
  assert.equal(await buy.getByTestId("pay-retopup").innerText(), "Buy 100 GUSDT");
  await buy.getByTestId("pay-retopup").dblclick();
  await until("the purchase applied", async () => (await stepState(buy, "applied")) === "done", { timeout: 120_000 });
  await until("the button back to a new purchase", async () => (await phase(buy, "retopup")) === "idle");
  await assertPaid(api, wallet.address, "Retopped", "retopup", 1, 100n * GUSDT);
  assert.equal(start - (await gusdtBalance(wallet.address)), 600n * GUSDT, "100 GUSDT more left the wallet, once");
  await until("the standing shows 600 paid in", async () => (await standing.getByTestId("gen-paid-in").getAttribute("data-base")) === "600000000");
  assert.equal(await standing.getByTestId("gen-cap").getAttribute("data-base"), "1800000000");

  // A second tab opened while the wallet is asked for the approval follows that payment and offers none.
  await buy.getByTestId("package-1000000000").check();
  g.holdSend(1);
  await buy.getByTestId("pay-retopup").click();
  await until("the approval's dialog open", () => g.held.length === 1, { timeout: 60_000 });
  const second = await b.context.newPage();
  const problems = [];
  second.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  second.on("response", (r) => r.status() >= 400 && problems.push(`http ${r.status()} ${r.url()}`));
  await wallet.attach(second);
  await second.goto(`${BASE}/`);
  await backAfterReload(second);
  const other = second.getByTestId("asset-GUSDT").getByTestId("buy-package");
  await until("the second tab sees the purchase being paid elsewhere", async () => (await phase(other, "retopup")) === "elsewhere", { timeout: 30_000 });
  assert.equal(await other.getByTestId("pay-retopup").isDisabled(), true, "the second tab offers no payment");
  assert.equal(await other.getByTestId("package-1000000000").isChecked(), true, "it shows the package being paid");
  assert.equal(await other.getByTestId("package-500000000").isDisabled(), true);
  await second.screenshot({ path: new URL("../test-results/15-generation-second-tab.png", import.meta.url).pathname });
  await g.release();
  await until("the first tab applies it", async () => (await stepState(buy, "applied")) === "done", { timeout: 120_000 });
  await until("the second tab shows it applied", async () => (await stepState(other, "applied")) === "done", { timeout: 120_000 });
  await assertPaid(api, wallet.address, "Retopped", "retopup", 2, 1000n * GUSDT);
  assert.equal(start - (await gusdtBalance(wallet.address)), 1600n * GUSDT, "1 000 GUSDT more left the wallet, once");
  assert.deepEqual(problems, [], "the second tab logged no errors");
  await second.close();

  // Another device asked for 500 (its payload is out, unknown to this browser): asking here for 100 is refused,
  // naming the 500 out; nothing is sent. Picking 500 then pays THAT payload (the same nonce), once.
  const elsewhere = await api.post("/v1/users/retopup", { asset_id: GEN, package: "500000000" });
  await until("the button back to a new purchase", async () => (await phase(buy, "retopup")) === "idle");
  await buy.getByTestId("package-100000000").check();
  const sentBefore = g.sent.length;
  await buy.getByTestId("pay-retopup").click();
  const refusal = buy.getByTestId("problem-error");
  await refusal.waitFor({ timeout: 30_000 });
  // The amount out and its deadline, in the page's words and its one date shape in the reader's zone (issue 66): the
  // API's details, not its English message with a UTC time.
  const [deadlineShown] = await shownAs(page, [elsewhere.deadline * 1000]);
  const oneLine = (s) => s.replace(/[\u200e\u200f\u061c\u2066-\u2069]/g, "").replace(/[\s\u00a0\u202f]+/g, " ");
  assert.equal(
    oneLine(await refusal.innerText()),
    oneLine(`Another amount is already authorised for this wallet and not yet paid: a payment of 500 GUSDT, until ${deadlineShown}. Pay it, or wait until then before asking for another amount.`),
  );
  // In Arabic: the same refusal, its words, digits and date the language's.
  await page.getByTestId("language-picker").selectOption("ar");
  await until("the page in Arabic", async () => (await page.evaluate(() => document.documentElement.lang)) === "ar");
  await buy.getByTestId("package-100000000").check();
  await buy.getByTestId("pay-retopup").click();
  const [untilAr] = await shownAs(page, [elsewhere.deadline * 1000]);
  await until("the refusal in Arabic", async () => oneLine(await refusal.innerText()).includes(oneLine(untilAr)) && /هناك مبلغ آخر مُصرَّح به/.test(await refusal.innerText()));
  assert.doesNotMatch(await refusal.innerText(), /outstanding|\d{4}-\d\d-\d\d/, "no English, not the server's ISO time");
  await page.getByTestId("language-picker").selectOption("en");
  await until("the page in English again", async () => (await page.evaluate(() => document.documentElement.lang)) === "en");
  assert.equal(g.sent.length, sentBefore, "nothing was sent to the wallet");
  assert.equal(await phase(buy, "retopup"), "idle");
  await b.screenshot("15-generation-payment-outstanding");
  await buy.getByTestId("package-500000000").check();
  await buy.getByTestId("pay-retopup").click();
  await until("the outstanding purchase applied", async () => (await stepState(buy, "applied")) === "done", { timeout: 120_000 });
  await assertPaid(api, wallet.address, "Retopped", "retopup", 3, 500n * GUSDT);
  const list = await payloads(api, "retopup");
  assert.ok(list.some((p) => p.nonce === elsewhere.nonce), "the payload the other device was given is the one paid");
  assert.equal(start - (await gusdtBalance(wallet.address)), 2100n * GUSDT);
  await until("the standing shows 2 100 paid in", async () => (await standing.getByTestId("gen-paid-in").getAttribute("data-base")) === "2100000000");
  await b.close([/http 409 POST .*\/v1\/users\/retopup$/]);
});
