// The binary plan (PLAN-BINARY.md) on the devnet's asset 5 (BUSDT), after `devnet-demo binary`: the rules and the
// odds are on the public page before anyone pays; a member (anvil account 2: both legs filled, 10 pairs paid, the
// last 5 with part reserved) sees the same figures as the API, with their binary tree; a fresh wallet joins under
// them through a referral link with the package it picks and a double click, paid once; and the admin console lists
// the period closes and creates a plan version whose period stays the same.
import assert from "node:assert/strict";
import { encodeFunctionData, erc20Abi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, BASE, CHAIN, CHAIN_ID, RPC, TOKEN_ABI, chain, freshKey, openBrowser, settlementEvent, signInThroughPage, test, until } from "./lib/stack.mjs";
import { assertFiguresPaired, speak } from "./lib/page-checks.mjs";
import { stepState } from "./lib/pay.mjs";
import { TestWallet } from "./lib/wallet.mjs";

const BIN = 5;
const BUSDT = 10n ** 6n;
const TOKEN = CHAIN.binary_token;

/** A fresh wallet with 10 000 BUSDT (the test token lets anyone mint; the wallet pays its own gas). */
async function freshBinaryKey() {
  const key = await freshKey();
  const w = new TestWallet({ key, rpcUrl: RPC, chainId: CHAIN_ID });
  const address = privateKeyToAccount(key).address;
  const hash = await w.client.sendTransaction({
    to: TOKEN,
    data: encodeFunctionData({ abi: TOKEN_ABI, functionName: "mint", args: [address, 10_000n * BUSDT] }),
  });
  await chain.waitForTransactionReceipt({ hash });
  return key;
}

const binaryPlan = async () => (await Api.raw("GET", "/v1/public/plan")).body.binary.find((b) => b.asset_id === BIN);
const base = (locator) => locator.getAttribute("data-base");

test("binary plan: the rules and odds before paying, a member's legs, carries, pairs, reserved and tree as the API gives them", async () => {
  const plan = await binaryPlan();
  assert.ok(plan, "the devnet runs a binary asset");
  assert.ok(plan.odds.periods_closed >= 1, "the demo closed a period");

  // Before paying, no wallet: packages, pair, limits, retention, budget, fee and the odds.
  const visitor = await openBrowser({});
  await visitor.page.goto(BASE + "/");
  const rules = visitor.page.getByTestId(`binary-rules-${BIN}`);
  await rules.waitFor();
  const packages = await rules.getByTestId("binary-packages").locator("[data-base]").evaluateAll((els) => els.map((e) => e.getAttribute("data-base")));
  assert.deepEqual(packages, plan.packages.map((p) => p.base));
  assert.equal(await base(rules.getByTestId("binary-pair-bonus")), plan.pair_bonus.base);
  assert.match(await rules.getByTestId("binary-retention").innerText(), /first 5 pairs, 20 ?% of each pair bonus is reserved until they have paid in 500 BUSDT/);
  assert.match(await rules.getByTestId("binary-period").innerText(), /each week closes; at most 10 pairs/);
  assert.match(await rules.getByTestId("binary-budget").innerText(), /50 ?% of its volume/);
  assert.match(await rules.getByTestId("fee").innerText(), /5 ?% withdrawal fee/);
  assert.equal(await base(rules.getByTestId("binary-odds-bonuses")), plan.odds.pair_bonuses.base);
  // The count of periods in its grammatical number ("In 1 closed period", never "In 1 closed periods").
  const n = plan.odds.periods_closed;
  assert.match(await rules.getByTestId("binary-odds").innerText(), new RegExp(`^In ${n} closed ${n === 1 ? "period," : "periods,"}`));
  // The scaled closes have a plural of their own ("1 close was", not "1 closes were").
  const scaled = plan.odds.periods_scaled;
  assert.equal(await rules.getByTestId("binary-odds-scaled").innerText(), `${scaled} ${scaled === 1 ? "close was" : "closes were"} scaled down to the budget.`);
  await visitor.screenshot("33-binary-rules");
  await visitor.close();

  // Account 2's standing, figure by figure as the API gives it.
  const member = await Api.signIn(ANVIL_KEYS[2]);
  const s = await member.get(`/v1/users/binary?asset_id=${BIN}`);
  assert.equal(s.active_buyer, false, "the demo's account 2 paid in the smallest package only");
  assert.notEqual(s.reserved.base, "0", "part of its pair bonuses is reserved");
  const b = await openBrowser({ key: ANVIL_KEYS[2] });
  await b.page.goto(BASE + "/");
  await signInThroughPage(b.page);
  const card = b.page.getByTestId(`binary-standing-${BIN}`);
  await card.waitFor();
  for (const [id, field] of [
    ["bin-paid-in", "paid_in"],
    ["bin-left-leg", "left_leg"],
    ["bin-right-leg", "right_leg"],
    ["bin-left-carry", "left_carry"],
    ["bin-right-carry", "right_carry"],
    ["bin-reserved", "reserved"],
    ["bin-to-active", "to_active_buyer"],
  ]) {
    assert.equal(await base(card.getByTestId(id)), s[field].base, field);
  }
  assert.match(await card.getByTestId("bin-pairs-lifetime").innerText(), new RegExp(`^${s.pairs_lifetime} pairs; ${s.free_pairs_left} more`));
  assert.match(await card.getByTestId("bin-reserved-why").innerText(), /reserved until you have paid in 500 BUSDT\. Pay in 400 BUSDT more/);
  assert.match(await card.getByTestId("bin-place").innerText(), new RegExp(`Member #${s.user_no}, on the ${s.side} of`));
  assert.equal(await card.getByTestId("bin-closes").locator("tbody tr").count(), s.closes.length);
  const line = card.getByTestId(`bin-close-${s.closes[0].period}`);
  assert.equal(await line.getByTestId("bin-close-paid").innerText(), String(s.closes[0].paid));
  assert.equal(await base(line.getByTestId("bin-close-bonus")), s.closes[0].bonus.base);
  assert.equal(await base(line.getByTestId("bin-close-reserved")), s.closes[0].reserved.base);

  // The tree below account 2: as many nodes as the API's page, each child on its side.
  const tree = await member.get(`/v1/users/binary/tree?asset_id=${BIN}&depth=3`);
  const shown = card.getByTestId("bin-tree");
  await until("the tree drawn", async () => (await shown.locator("li[data-testid^=bin-node-]").count()) === tree.nodes.length);
  for (const n of tree.nodes.filter((n) => n.side)) {
    assert.match(await shown.getByTestId(`bin-node-${n.user_no}`).locator(".node").first().innerText(), new RegExp(`^${n.side === "left" ? "Left" : "Right"}: #${n.user_no}`));
  }
  assert.ok((await assertFiguresPaired(card, "binary standing, 1280 px, English")) >= 6);

  // The history in words: a pair bonus names its period and its date; its retained part is retained, not "for a level".
  const history = (await member.get(`/v1/users/history?asset_id=${BIN}&limit=100`)).items;
  const pair = history.find((r) => r.kind === "BINARY_PAIR" && r.status === "reserved");
  assert.ok(pair, `a retained pair bonus in the history: ${history.map((r) => `${r.kind}/${r.status}`).join(", ")}`);
  assert.ok(pair.period != null && pair.credited_at, JSON.stringify(pair));
  const assetCard = b.page.getByTestId("asset-BUSDT");
  const row = assetCard.locator(`[data-testid=reward][data-reward="${pair.reward_no}"]`);
  await until("the pair bonus in the history", async () => {
    if ((await row.count()) > 0) return true;
    const next = assetCard.getByTestId("history").locator("nav.pager button").last();
    if ((await next.count()) > 0 && (await next.isEnabled())) await next.click();
    return false;
  });
  assert.match(await row.getByTestId("reward-what").innerText(), new RegExp(`^Binary pair bonus, period ${pair.period}`));
  assert.doesNotMatch(await row.innerText(), /BINARY_PAIR|pool level/);
  assert.ok((await row.getByTestId("reward-when").innerText()).includes(String(new Date(pair.credited_at).getFullYear())));
  assert.match(await row.getByTestId("reward-status").innerText(), /^retained until you are an active buyer/);
  await b.screenshot("33-binary-standing");
  await b.close();

  // On a phone, in Arabic (right to left): every figure still under its own label.
  const phone = await openBrowser({ key: ANVIL_KEYS[2], viewport: { width: 390, height: 844 } });
  await speak(phone, "ar");
  await phone.page.goto(BASE + "/");
  await signInThroughPage(phone.page);
  // A phone shows the asset cards and their sections folded: opened as a member would, by tapping them.
  await phone.page.getByTestId(`binary-standing-${BIN}`).waitFor({ state: "attached" });
  await phone.page.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
  const narrow = phone.page.getByTestId(`binary-standing-${BIN}`);
  await narrow.waitFor();
  assert.equal(await phone.page.locator("html").getAttribute("dir"), "rtl");
  assert.equal(await base(narrow.getByTestId("bin-paid-in")), s.paid_in.base);
  assert.ok((await assertFiguresPaired(narrow, "binary standing, 390 px, Arabic")) >= 6);
  await phone.screenshot("33-binary-standing-ar-390");
  await phone.close();
});

test("binary plan: a fresh wallet joins under a member through a referral link with a package, a double click paying once", async () => {
  const sponsor = privateKeyToAccount(ANVIL_KEYS[2]).address;
  const key = await freshBinaryKey();
  const api = await Api.signIn(key);
  const b = await openBrowser({ key });
  const { page, wallet } = b;
  const balance = () => chain.readContract({ address: TOKEN, abi: erc20Abi, functionName: "balanceOf", args: [wallet.address] });
  const start = await balance();

  await page.goto(`${BASE}/?ref=${sponsor}&asset=${BIN}`);
  await page.getByTestId(`binary-rules-${BIN}`).waitFor();
  await signInThroughPage(page);
  const register = page.getByTestId("register");
  await register.getByTestId("package-picker").waitFor();
  assert.match(await register.getByTestId("register-cost").innerText(), /BUSDT .*the package you pick below/);
  await register.getByTestId("package-500000000").check();
  assert.match(await register.getByTestId("package-cost").innerText(), /You pay 500 BUSDT; 100 ?% of it is the volume/);
  assert.equal(await register.getByTestId("pay-register").innerText(), "Register and pay 500 BUSDT");
  await register.getByTestId("pay-register").dblclick();
  await until("the registration applied", async () => (await stepState(register, "applied")) === "done", { timeout: 120_000 });
  assert.match(await register.getByTestId("split-package").innerText(), /^500 BUSDT$/);

  // Once on the chain, once in the ledger.
  const logs = (await chain.getLogs({ address: CHAIN.settlement, event: settlementEvent("Registered"), args: { user: wallet.address }, fromBlock: 0n })).filter(
    (l) => l.args.token.toLowerCase() === TOKEN.toLowerCase(),
  );
  assert.equal(logs.length, 1, "one registration on the chain");
  assert.equal(logs[0].args.amount, 500n * BUSDT);
  assert.equal(start - (await balance()), 500n * BUSDT, "500 BUSDT left the wallet once");
  const payments = (await api.get(`/v1/users/payments?asset_id=${BIN}`)).payments;
  assert.equal(payments.length, 1);
  assert.equal(payments[0].status, "applied");

  // Placed under account 2's tree, an active buyer from the start (500 paid in), nothing reserved.
  const s = await api.get(`/v1/users/binary?asset_id=${BIN}`);
  assert.equal(s.active_buyer, true);
  const standing = page.getByTestId(`binary-standing-${BIN}`);
  await until("the standing shows the package", async () => (await base(standing.getByTestId("bin-paid-in"))) === "500000000");
  assert.match(await standing.getByTestId("bin-active").innerText(), /^yes$/);
  assert.match(await standing.getByTestId("bin-reserved-why").innerText(), /Nothing of your pair bonuses is reserved/);
  const two = await Api.signIn(ANVIL_KEYS[2]);
  const below = await two.get(`/v1/users/binary/tree?asset_id=${BIN}&depth=4`);
  assert.ok(below.nodes.some((n) => n.address.toLowerCase() === wallet.address.toLowerCase()), "the new member is in account 2's tree");
  await b.screenshot("33-binary-joined");
  await b.close();
});

test("binary plan: the admin console lists the period closes and creates a plan version, the period kept", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const closes = await admin.get(`/v1/admin/binary/closes?asset_id=${BIN}`);
  assert.ok(closes.closes.length >= 1);
  const a = await openBrowser({ key: ANVIL_KEYS[0] });
  const p = a.page;
  await p.goto(BASE + "/admin#periods");
  await signInThroughPage(p);
  const table = p.getByTestId("binary-closes-table");
  await table.waitFor();
  await until("every close listed", async () => (await table.locator("tbody tr").count()) === closes.closes.length);
  const first = p.getByTestId(`binary-close-${closes.closes[0].period}`);
  for (const [id, field] of [["close-volume", "volume"], ["close-bonuses", "bonuses"], ["close-budget", "budget"], ["close-credited", "credited"], ["close-reserved", "reserved"]]) {
    assert.equal(await base(first.getByTestId(id)), closes.closes[0][field].base, field);
  }
  await a.screenshot("33-binary-closes");

  const versions = (await admin.get(`/v1/admin/plan?asset_id=${BIN}`)).versions;
  await p.getByTestId("tab-plan").click();
  await p.getByTestId("plan").getByTestId("asset-picker").selectOption(String(BIN));
  await until("the binary versions listed", async () => (await p.getByTestId("plan-pair").count()) === versions.length);
  assert.match(await p.getByTestId("plan-period").innerText(), /Periods are weeks from/);
  await p.getByTestId("plan-retention_bps").fill("20000");
  assert.match(await p.getByTestId("plan-error-retention_bps").innerText(), /from 0 to 10,?000/);
  assert.equal(await p.getByTestId("plan-create").isDisabled(), true);
  await p.getByTestId("plan-retention_bps").fill("2000");
  await p.getByTestId("plan-max_pairs").fill("12");
  const from = Number(await p.getByTestId("plan-from_block").inputValue()) + 1_000_000;
  await p.getByTestId("plan-from_block").fill(String(from));
  await p.getByTestId("plan-create").click();
  const dialog = p.locator("dialog.confirm");
  assert.match(await dialog.innerText(), /Changes: max_pairs\./);
  await dialog.getByTestId("confirm-ok").click();
  await until("the new version listed", async () => (await p.getByTestId("plan-version").count()) === versions.length + 1);
  const now = (await admin.get(`/v1/admin/plan?asset_id=${BIN}`)).versions;
  assert.equal(now.at(-1).effective_from_block, from);
  assert.equal(now.at(-1).params.max_pairs, 12);
  assert.equal(now.at(-1).params.period, "week");
  assert.equal(now.at(-1).params.week_origin, versions.at(-1).params.week_origin, "periods stay numbered from the same origin");
  assert.match(await p.getByTestId("plan-limits").last().innerText(), /^12 a period, first 5 free$/);
  await a.screenshot("33-binary-plan-version");
  await a.close();
});
