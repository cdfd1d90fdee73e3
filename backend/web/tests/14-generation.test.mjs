// The generation plan (PLAN-GENERATION.md) on the devnet's asset 4 (GUSDT), after `devnet-demo generation`: the
// rules and odds are on the public page before anyone pays, a member (anvil account 2: at its cap, then a purchase,
// a Connector bonus) sees the same figures as the API, and the admin console lists the week closes.
import assert from "node:assert/strict";
import { assertFiguresPaired, speak } from "./lib/page-checks.mjs";
import { ANVIL_KEYS, Api, BASE, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";

const GEN = 4;

test("generation plan: the rules before paying, a member's cap, legs, rank and bonuses, and the admin's week closes", async () => {
  const plan = (await Api.raw("GET", "/v1/public/plan")).body.generation.find((g) => g.asset_id === GEN);
  assert.ok(plan, "the devnet runs a generation asset");
  const disclosure = (await Api.raw("GET", "/v1/public/disclosure")).body.assets.find((a) => a.asset_id === GEN);

  // Before paying, no wallet: packages, levels, cap, ranks, fee and the users at their cap.
  const visitor = await openBrowser({});
  await visitor.page.goto(BASE + "/");
  const rules = visitor.page.getByTestId(`generation-rules-${GEN}`);
  await rules.waitFor();
  const packages = await rules.getByTestId("packages").locator("[data-base]").evaluateAll((els) => els.map((e) => e.getAttribute("data-base")));
  assert.deepEqual(packages, plan.packages.map((p) => p.base));
  assert.match(await rules.getByTestId("levels").innerText(), /L3 3 ?% \(2 directs\)/);
  assert.match(await rules.getByTestId("cap").innerText(), /300 ?%/);
  assert.match(await rules.getByTestId("ranks").innerText(), /Connector/);
  assert.match(await rules.getByTestId("fee").innerText(), /5 ?% withdrawal fee/);
  assert.equal(await rules.getByTestId("users-at-cap").innerText(), String(disclosure.users_at_cap));
  await visitor.screenshot("14-generation-rules");
  await visitor.close();

  // Account 2's standing, figure by figure as the API gives it.
  const member = await Api.signIn(ANVIL_KEYS[2]);
  const s = await member.get(`/v1/users/generation?asset_id=${GEN}`);
  assert.equal(s.rank_name, "Connector", "the demo ranked account 2");
  const b = await openBrowser({ key: ANVIL_KEYS[2] });
  await b.page.goto(BASE + "/");
  await signInThroughPage(b.page);
  const card = b.page.getByTestId(`generation-standing-${GEN}`);
  await card.waitFor();
  for (const [id, field] of [["gen-paid-in", "paid_in"], ["gen-cap", "cap"], ["gen-earned", "earned"], ["gen-room", "room"], ["gen-main", "main_leg"], ["gen-other", "other_legs"]]) {
    assert.equal(await card.getByTestId(id).getAttribute("data-base"), s[field].base, field);
  }
  assert.equal(await card.getByTestId("gen-rank").innerText(), "Connector");
  assert.equal(await card.getByTestId("gen-directs").innerText(), String(s.directs));
  assert.equal(await card.getByTestId("gen-legs").locator("tbody tr").count(), s.legs.length);
  assert.equal(await card.getByTestId("gen-bonuses").locator("tbody tr").count(), s.bonuses.length);
  assert.ok(s.bonuses.length >= 1, "a week closed with a bonus");
  assert.ok((await assertFiguresPaired(card, "generation standing, 1280 px, English")) >= 7);
  await b.screenshot("14-generation-standing");
  await b.close();

  // On a phone, in Hindi and in Arabic (right to left): every figure still under its own label.
  for (const locale of ["hi", "ar"]) {
    const phone = await openBrowser({ key: ANVIL_KEYS[2], viewport: { width: 390, height: 844 } });
    await speak(phone, locale);
    await phone.page.goto(BASE + "/");
    await signInThroughPage(phone.page);
    // A phone shows the asset cards and their sections folded: opened as a member would, by tapping them.
    await phone.page.getByTestId(`generation-standing-${GEN}`).waitFor({ state: "attached" });
    await phone.page.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
    const narrow = phone.page.getByTestId(`generation-standing-${GEN}`);
    await narrow.waitFor();
    assert.equal(await narrow.getByTestId("gen-paid-in").getAttribute("data-base"), s.paid_in.base);
    assert.ok((await assertFiguresPaired(narrow, `generation standing, 390 px, ${locale}`)) >= 7);
    await phone.screenshot(`14-generation-standing-${locale}-390`);
    await phone.close();
  }

  // The admin's week closes.
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const weeks = await admin.get(`/v1/admin/weeks?asset_id=${GEN}`);
  const a = await openBrowser({ key: ANVIL_KEYS[0] });
  await a.page.goto(BASE + "/admin#periods");
  await signInThroughPage(a.page);
  const table = a.page.getByTestId("weeks-table");
  await table.waitFor();
  await until("every week close listed", async () => (await table.locator("tbody tr").count()) === weeks.weeks.length);
  const first = a.page.getByTestId(`week-${weeks.weeks[0].week}`);
  assert.equal(await first.getByTestId("week-credited").getAttribute("data-base"), weeks.weeks[0].credited.base);
  assert.match(await first.getByTestId("week-ranked").innerText(), /Connector/);
  await a.screenshot("14-generation-weeks");

  // The admin's plan versions of the generation asset: its own table and form, checked before sending; a new
  // version (the fee at 3 %, from a block the devnet does not reach) keeps week_origin and is audited.
  const versions = (await admin.get(`/v1/admin/plan?asset_id=${GEN}`)).versions;
  await a.page.getByTestId("tab-plan").click();
  await a.page.getByTestId("asset-picker").selectOption(String(GEN));
  await until("the generation versions listed", async () => (await a.page.getByTestId("plan-version-packages").count()) === versions.length);
  const last = a.page.getByTestId("plan-version").last();
  assert.match(await last.getByTestId("plan-version-packages").innerText(), /^100 GUSDT, 500 GUSDT, 1[ ,]?000 GUSDT, 5[ ,]?000 GUSDT$/);
  assert.equal(await last.getByTestId("plan-fee").innerText(), `${versions.at(-1).params.withdrawal_fee_bps / 100} %`);
  await a.page.getByTestId("plan-withdrawal_fee_bps").fill("2500");
  assert.match(await a.page.getByTestId("plan-error-withdrawal_fee_bps").innerText(), /From 0 to 2000 basis points/);
  await a.page.getByTestId("plan-packages").fill("500, 100");
  assert.match(await a.page.getByTestId("plan-error-packages").innerText(), /increase strictly/);
  assert.equal(await a.page.getByTestId("plan-create").isDisabled(), true);
  await a.page.getByTestId("plan-packages").fill("100, 500, 1000, 5000");
  await a.page.getByTestId("plan-withdrawal_fee_bps").fill("300");
  const from = Number(await a.page.getByTestId("plan-from_block").inputValue()) + 1_000_000;
  await a.page.getByTestId("plan-from_block").fill(String(from));
  await a.page.getByTestId("plan-create").click();
  const dialog = a.page.locator("dialog.confirm");
  assert.match(await dialog.innerText(), /Changes: withdrawal_fee_bps\./);
  await dialog.getByTestId("confirm-ok").click();
  await until("the new version listed", async () => (await a.page.getByTestId("plan-version").count()) === versions.length + 1);
  const now = (await admin.get(`/v1/admin/plan?asset_id=${GEN}`)).versions;
  assert.equal(now.length, versions.length + 1);
  assert.equal(now.at(-1).effective_from_block, from);
  assert.equal(now.at(-1).params.withdrawal_fee_bps, 300);
  assert.equal(now.at(-1).params.week_origin, versions.at(-1).params.week_origin, "weeks stay numbered from the same origin");
  assert.deepEqual(now.at(-1).params.packages, versions.at(-1).params.packages);
  assert.equal(await a.page.getByTestId("plan-fee").last().innerText(), "3 %");
  await a.screenshot("14-generation-plan-version");
  await a.close();
});
