// Money in words on the member's dashboard (issue 47, items 2, 3, 7 and 9; findings 2, 6 and 7): a generation-plan
// member paid less the withdrawal fee sees what they paid in, what reached their wallet and the fee kept, their net
// result, each credit with its date and transaction and each payment with its gross, fee and net, and downloads the
// same as a CSV statement; a withdraw request shows when the next batch is expected and is cancelled from the page;
// on a 390 px phone the dashboard of a wallet in three assets fits in three screens, and every asset's primary action is
// within 40 tab stops of the top through the skip links.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, BASE, openBrowser, payBatch, registerDirectly, signInThroughPage, test, until } from "./lib/stack.mjs";
import { memberWithCredit } from "./lib/generation.mjs";
import { assertAccessible, speak } from "./lib/page-checks.mjs";
import { readCsv } from "./lib/csv.mjs";

const GEN = 4;
const PHONE = { width: 390, height: 844 };

test("a member paid less the withdrawal fee reads it in words: summary, tiles, history with dates, fee and net, and the CSV statement", async () => {
  const { key, member, pkg, owed } = await memberWithCredit();
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const build = await admin.post("/v1/admin/payouts/batches", { asset_id: GEN, max_entries: 100 });
  await payBatch(admin, build.id);
  const me = await until("the payout settled", async () => {
    const s = await member.standing(GEN);
    return s.balances.settled === owed.toString() && s;
  });
  const b = me.balances;
  assert.ok(BigInt(b.fees) > 0n, "the generation plan kept a fee");
  assert.equal(BigInt(b.received) + BigInt(b.fees), owed, "received + fee = what the credit paid");

  const browser = await openBrowser({ key });
  const { page } = browser;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const row = page.getByTestId("summary").locator(`[data-testid=summary-row][data-asset="${GEN}"]`);
  await row.waitFor();
  assert.equal(await row.getByTestId("sum-paid-in").getAttribute("data-base"), pkg);
  assert.equal(await row.getByTestId("sum-received").getAttribute("data-base"), b.received);
  assert.equal(await row.getByTestId("sum-fees").getAttribute("data-base"), b.fees);
  assert.equal(await row.getByTestId("sum-owed").getAttribute("data-base"), "0");
  assert.equal(await row.getByTestId("sum-net").getAttribute("data-base"), (BigInt(b.received) - BigInt(pkg)).toString());
  assert.match(await row.innerText(), /a loss so far/);

  // The tile says what the wallet received and the fee kept, not only "paid out".
  const card = page.getByTestId("asset-GUSDT");
  assert.equal(await card.getByTestId("bal-settled").getAttribute("data-base"), owed.toString());
  assert.equal(await card.getByTestId("bal-received").getAttribute("data-base"), b.received);
  assert.equal(await card.getByTestId("bal-fees").getAttribute("data-base"), b.fees);

  // The history: when (a date, not a block), what happened in words, its transaction; the payment's gross, fee, net.
  const history = (await member.get(`/v1/users/history?asset_id=${GEN}`)).items[0];
  const reward = card.locator(`[data-testid=reward][data-reward="${history.reward_no}"]`);
  await reward.waitFor();
  assert.match(await reward.getByTestId("reward-what").innerText(), /^Generation income, level 1/);
  const when = await reward.getByTestId("reward-when").innerText();
  const credited = new Date(history.credited_at);
  assert.ok(when.includes(String(credited.getFullYear())), `a date: ${when}`);
  assert.equal(await reward.getByTestId("reward-tx").getAttribute("data-tx"), history.tx_hash);
  const part = history.payments[0];
  const pay = reward.getByTestId("reward-payment");
  assert.equal(await pay.getByTestId("payment-net").getAttribute("data-base"), part.net.base);
  assert.equal(await pay.getByTestId("payment-fee").getAttribute("data-base"), part.fee.base);
  assert.equal(await pay.getByTestId("payment-gross").getAttribute("data-base"), part.amount.base);
  assert.equal(BigInt(part.net.base) + BigInt(part.fee.base), BigInt(part.amount.base));

  // The statement: downloaded from the page with the session, its payout row carrying the same fee and net.
  const [download] = await Promise.all([page.waitForEvent("download"), card.getByTestId("statement-download").click()]);
  assert.match(download.suggestedFilename(), /^statement-GUSDT-(devnet-anvil|chain-31337)-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await download.path(), "utf8");
  const rows = readCsv(csv);
  const payout = rows.find((r) => r.type === "payout");
  assert.ok(payout, csv);
  assert.equal(payout.fee_base, b.fees);
  assert.equal(payout.net_base, b.received);
  assert.ok(rows.some((r) => r.type === "payment" && r.amount_base === pkg), "the package paid in");
  await assertAccessible(page, "the dashboard");
  await browser.screenshot("30-money-in-words");
  await browser.close();
});

test("a withdraw request shows its expected batch and is cancelled from the page; the API says the member cancelled it", async () => {
  const { key, member } = await memberWithCredit();
  const b = await openBrowser({ key });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const card = page.getByTestId("asset-GUSDT");
  await card.getByTestId("withdraw-request").click();
  const open = card.locator("[data-testid=withdraw-request-row][data-status=open]");
  await open.waitFor();
  const cadence = (await member.get(`/v1/users/withdrawals?asset_id=${GEN}`)).payouts;
  assert.ok(cadence.expected_next_batch_at, "the devnet announces a weekly payout");
  assert.match(await open.innerText(), /expected in the batch due/);
  assert.match(await card.getByTestId("withdraw-fee").innerText(), /withdrawal fee/);
  await open.getByTestId("withdraw-cancel").click();
  const cancelled = card.locator("[data-testid=withdraw-request-row][data-status=cancelled]");
  await cancelled.waitFor();
  assert.match(await cancelled.innerText(), /cancelled by you/);
  const listed = (await member.get(`/v1/users/withdrawals?asset_id=${GEN}`)).items[0];
  assert.equal(listed.status, "cancelled");
  assert.equal(listed.cancelled_by, "member");
  // Asked again: the request button is back.
  assert.equal(await card.getByTestId("withdraw-request").isDisabled(), false);
  await b.close();
});

test("390 px phone: a wallet in three assets gets a summary and folded cards within three screens; skip links reach every primary action within 40 tab stops", async () => {
  // The devnet demo's account 2 is in BNB, USDT on TRON and GUSDT.
  const b = await openBrowser({ key: ANVIL_KEYS[2], viewport: PHONE });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  await page.getByTestId("summary").waitFor();
  const rows = await page.getByTestId("summary-row").count();
  assert.ok(rows >= 3, `${rows} assets`);
  await until("every card rendered", async () => (await page.getByTestId("asset-body").count()) === rows);
  const height = await page.evaluate(() => document.scrollingElement.scrollHeight);
  assert.ok(height <= 3 * PHONE.height, `the dashboard is ${height} px tall on a ${PHONE.height} px screen`);
  const width = await page.evaluate(() => [document.scrollingElement.scrollWidth, innerWidth]);
  assert.ok(width[0] <= width[1], `no sideways scrolling: ${width}`);
  assert.deepEqual(await page.getByTestId("asset-body").evaluateAll((els) => els.map((e) => e.open)), Array(rows).fill(false), "cards folded");

  // From the top, by keyboard only: Tab to the asset's skip link, Enter, then Tab to its pay button.
  for (const symbol of ["BNB", "GUSDT"]) {
    await page.goto(BASE + "/");
    await page.getByTestId("summary").waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    let presses = 0;
    const focused = () => page.evaluate(() => [document.activeElement?.getAttribute("href"), document.activeElement?.dataset.testid]);
    while (presses < 40 && (await focused())[0] !== `#asset-${symbol}`) {
      await page.keyboard.press("Tab");
      presses++;
    }
    await page.keyboard.press("Enter");
    presses++;
    await until(`${symbol}'s card opened`, () => page.getByTestId(`asset-${symbol}`).getByTestId("asset-body").evaluate((e) => e.open));
    while (presses < 40 && (await focused())[1] !== "pay-retopup") {
      await page.keyboard.press("Tab");
      presses++;
    }
    assert.equal((await focused())[1], "pay-retopup", `${symbol}'s pay button within 40 key presses`);
    console.log(`${symbol}: the pay button after ${presses} key presses from the top`);
  }
  await assertAccessible(page, "the phone dashboard");
  await b.screenshot("30-phone-dashboard");
  await b.close();
});


test("the dashboard in Arabic on a 390 px phone (right to left, the summary in Arabic, amounts equal to the API's) and in Spanish at 1280 px (the history's words and dates)", async () => {
  const api = await Api.signIn(ANVIL_KEYS[2]);
  const me = await api.get("/v1/users/me");
  assert.ok(me.assets.length >= 3, `account 2 is in ${me.assets.length} assets`);

  const ar = await openBrowser({ key: ANVIL_KEYS[2], viewport: PHONE });
  await speak(ar, "ar");
  await ar.page.goto(BASE + "/");
  await signInThroughPage(ar.page);
  const summary = ar.page.getByTestId("summary");
  await summary.waitFor();
  assert.equal(await ar.page.evaluate(() => [document.documentElement.lang, document.documentElement.dir].join(" ")), "ar rtl");
  assert.equal(await summary.locator("h3").innerText(), "الملخص");
  const heads = await summary.locator("thead th").allInnerTexts();
  assert.deepEqual(heads.slice(1, 3), ["ما دفعته", "ما استلمته"], heads.join(" | "));
  for (const a of me.assets) {
    const row = summary.locator(`[data-testid=summary-row][data-asset="${a.asset_id}"]`);
    assert.equal(await row.getByTestId("sum-paid-in").getAttribute("data-base"), a.balances.paid_in, `${a.symbol} paid in`);
    assert.equal(await row.getByTestId("sum-owed").getAttribute("data-base"), a.balances.owed, `${a.symbol} owed`);
    // The phone's table shows each cell's label beside it: in Arabic too.
    assert.equal(await row.locator("td").first().getAttribute("data-label"), "ما دفعته");
  }
  await until("every card rendered", async () => (await ar.page.getByTestId("asset-body").count()) === me.assets.length);
  const width = await ar.page.evaluate(() => [document.scrollingElement.scrollWidth, innerWidth]);
  assert.ok(width[0] <= width[1], `no sideways scrolling in Arabic: ${width}`);
  await assertAccessible(ar.page, "the dashboard in Arabic");
  await ar.screenshot("30-dashboard-ar");
  await ar.close();

  // An asset in which account 2 has a credit: its history in Spanish.
  let credit = null;
  for (const a of me.assets) {
    const r = (await api.get(`/v1/users/history?asset_id=${a.asset_id}`)).items.find((x) => x.credited_at);
    if (r) {
      credit = { a, r };
      break;
    }
  }
  assert.ok(credit, "account 2 has a credit in some asset");
  const es = await openBrowser({ key: ANVIL_KEYS[2] });
  await speak(es, "es-ES");
  await es.page.goto(BASE + "/");
  await signInThroughPage(es.page);
  const reward = es.page.locator(`[data-testid=reward][data-reward="${credit.r.reward_no}"]`).first();
  await reward.waitFor();
  const history = es.page.locator(`[data-testid=history]`, { has: reward });
  assert.ok((await history.locator("thead th").allInnerTexts()).includes("Qué pasó"), "the history's column in Spanish");
  assert.doesNotMatch(await reward.getByTestId("reward-what").innerText(), /reward|income|bonus|share/i);
  const when = await reward.getByTestId("reward-when").innerText();
  const spanishDate = await es.page.evaluate(
    (at) => new Date(at).toLocaleString("es-ES", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" }),
    credit.r.credited_at,
  );
  assert.ok(when.startsWith(spanishDate), `a Spanish date: ${when} (${spanishDate})`);
  await es.close();
});
