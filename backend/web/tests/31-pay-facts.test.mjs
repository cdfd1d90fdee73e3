// Beside every pay button (issue 47, item 5; finding 5): the amount in the asset and in US dollars from the on-chain
// price feed, the network fee estimate, "you can lose what you pay", and one click away the operator's identity, the
// terms and the plan's rules; a stale feed shows no price but its age; the sponsor of a referral link is a member with
// a number, a date and referrals, and a link naming a non-member offers no payment. Staff look a member up by wallet in
// the console (finding 8). In English on a desktop and in Arabic (right to left) on a 390 px phone.
import assert from "node:assert/strict";
import { encodeFunctionData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, BASE, CHAIN, CHAIN_ID, RPC, USDT, chain, chainNow, freshKey, openBrowser, registerDirectly, signInThroughPage, test, until } from "./lib/stack.mjs";
import { TestWallet } from "./lib/wallet.mjs";
import { assertAccessible, speak } from "./lib/page-checks.mjs";
import { readFileSync } from "node:fs";

const PHONE = { width: 390, height: 844 };
const FEED_ABI = JSON.parse(readFileSync(new URL("../../../abi/artifacts/StandInAggregator.json", import.meta.url), "utf8")).abi;
const GENESIS = privateKeyToAccount(ANVIL_KEYS[0]).address;

/** A sponsor of this run: a fresh wallet registered in USDT under the genesis user. */
let sponsorMember = null;
const sponsor = () => (sponsorMember ??= freshKey().then((key) => registerDirectly(key, GENESIS, USDT)));

/** What the page should write for `base` units of a 6-decimal asset at the feed's `price`, in `locale`. */
function dollars(base, decimals, price, locale) {
  const [whole, frac = ""] = price.split(".");
  const scaled = (BigInt(base) * BigInt(whole + frac) * 10_000n + 10n ** BigInt(decimals + frac.length) / 2n) / 10n ** BigInt(decimals + frac.length);
  return new Intl.NumberFormat(locale, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(scaled) / 10_000);
}

/** Sends a call to the USDT stand-in feed as its owner (anvil account 0, who deployed it). */
async function feedCall(functionName, args) {
  const w = new TestWallet({ key: ANVIL_KEYS[0], rpcUrl: RPC, chainId: CHAIN_ID });
  const hash = await w.client.sendTransaction({ to: CHAIN.price_feeds.usdt_usd, data: encodeFunctionData({ abi: FEED_ABI, functionName, args }) });
  assert.equal((await chain.waitForTransactionReceipt({ hash })).status, "success");
}

for (const [locale, code, dir, viewport] of [
  ["en-US", "en", "ltr", { width: 1280, height: 900 }],
  ["ar", "ar", "rtl", PHONE],
]) {
  test(`${code} at ${viewport.width} px: a referral link's sponsor in words, and beside the pay button the dollars, the network fee, the risk, the operator, the terms and the rules`, async () => {
    const prices = await Api.raw("GET", "/v1/public/prices");
    assert.equal(prices.status, 200);
    assert.equal(prices.body.currency, "USD");
    const usdt = prices.body.assets.find((a) => a.asset_id === USDT);
    assert.equal(usdt.price.state, "current", JSON.stringify(usdt.price));
    const fee = usdt.first_payment_fee;
    assert.ok(fee && BigInt(fee.fee.base) > 0n, `a network fee estimate: ${JSON.stringify(usdt)}`);
    const SPONSOR = (await sponsor()).address;
    const card = (await Api.raw("GET", `/v1/public/sponsor?asset_id=${USDT}&address=${SPONSOR}`)).body;
    assert.equal(card.registered, true);
    assert.ok(card.user_no > 0 && card.registered_at, JSON.stringify(card));

    const b = await openBrowser({ key: await freshKey(), viewport });
    const { page } = b;
    await speak(b, locale);
    await page.goto(`${BASE}/?ref=${SPONSOR}&asset=${USDT}`);
    await signInThroughPage(page);
    assert.equal(await page.evaluate(() => document.documentElement.dir), dir);

    // The sponsor: a member with a number, since a date, with referrals (the API's figures).
    const facts = page.getByTestId("sponsor-facts");
    await facts.waitFor();
    const sponsorText = await facts.innerText();
    if (code === "ar") assert.match(sponsorText, /[\u0600-\u06FF]/, `in Arabic: ${sponsorText}`);
    else assert.ok(sponsorText.includes(String(card.user_no)) && sponsorText.includes(String(new Date(card.registered_at).getFullYear())), sponsorText);
    if (code === "en") assert.match(sponsorText, /· member no\. \d+ in USDT since .+, 0 direct referrals$/);

    // Beside the pay button: the amount, its dollars, the fee, the risk.
    const facts2 = page.getByTestId("pay-facts");
    await facts2.getByTestId("pay-fiat").waitFor();
    const plan = (await Api.raw("GET", "/v1/public/plan")).body.assets.find((a) => a.asset_id === USDT);
    const want = dollars(plan.registration_fee.base, plan.decimals, usdt.price.value, code);
    assert.ok((await facts2.getByTestId("pay-fiat").innerText()).includes(want), `${want} in ${await facts2.getByTestId("pay-fiat").innerText()}`);
    const feeText = await facts2.getByTestId("pay-fee").innerText();
    assert.ok(feeText.includes("BNB"), `the fee in the chain's coin: ${feeText}`);
    assert.ok(feeText.includes(dollars(BigInt(fee.fiat.replace(".", "")), 4, "1", code)) || feeText.includes("<"), `the fee in dollars: ${feeText}`);
    assert.ok((await facts2.getByTestId("pay-risk").innerText()).length > 20);
    if (code === "en") assert.match(await facts2.getByTestId("pay-risk").innerText(), /You can lose what you pay/);

    // One click: the operator, the terms, the rules.
    await facts2.getByTestId("pay-operator").locator("summary").click();
    assert.ok((await facts2.getByTestId("operator-legal").innerText()).includes("Example Rewards Ltd"));
    const terms = facts2.getByTestId("operator-terms");
    assert.equal(await terms.getAttribute("href"), "/terms.html");
    const termsPage = await fetch(BASE + "/terms.html");
    assert.equal(termsPage.status, 200);
    assert.match(await termsPage.text(), /You can lose everything you pay/);
    assert.equal(await facts2.getByTestId("pay-rules").getAttribute("href"), `#plan-${USDT}`);
    assert.equal(await page.locator(`#plan-${USDT}`).count(), 1, "the rules the link points at are on the page");
    if (viewport.width === PHONE.width) {
      const [width, screen] = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
      assert.ok(width <= screen, `the page is ${width} px wide on a ${screen} px screen`);
    }
    await assertAccessible(page, `the ${code} registration with its pay facts`);
    await b.close();
  });
}

test("every page names who runs the service and links its terms, before anyone signs in", async () => {
  const b = await openBrowser({ key: await freshKey(), viewport: PHONE });
  const { page } = b;
  await speak(b, "ar");
  await page.goto(BASE + "/");
  const line = page.getByTestId("foot-operator");
  await line.waitFor();
  assert.ok((await line.innerText()).includes("Example Rewards Ltd"), await line.innerText());
  assert.equal(await line.getByTestId("foot-terms").getAttribute("href"), "/terms.html");
  assert.equal(await page.getByTestId("foot-terms").innerText(), "الشروط");
  await b.close();
});

test("a referral link naming a wallet that is not a member says so and offers no payment", async () => {
  const stranger = privateKeyToAccount(await freshKey()).address;
  const api = await Api.raw("GET", `/v1/public/sponsor?asset_id=${USDT}&address=${stranger}`);
  assert.equal(api.status, 200);
  assert.equal(api.body.registered, false);
  assert.equal((await Api.raw("GET", `/v1/public/sponsor?asset_id=999&address=${stranger}`)).status, 404);
  assert.equal((await Api.raw("GET", `/v1/public/sponsor?asset_id=${USDT}&address=${"x".repeat(200)}`)).status, 422);
  const b = await openBrowser({ key: await freshKey() });
  const { page } = b;
  await page.goto(`${BASE}/?ref=${stranger}&asset=${USDT}`);
  await signInThroughPage(page);
  await page.getByTestId("sponsor-unknown").waitFor();
  assert.equal(await page.getByTestId("pay-register").count(), 0, "no pay button under a sponsor who is not a member");
  await b.close();
});

test("a stale price feed shows no dollars, only how old its last answer is; a fresh one brings them back", async () => {
  const price = (await Api.raw("GET", "/v1/public/prices")).body.assets.find((a) => a.asset_id === USDT).price;
  const answer = BigInt(price.value.replace(".", ""));
  const old = BigInt(Math.floor((await chainNow()) / 1000) - 100_000);
  await feedCall("setAnswerAt", [answer, old]);
  try {
    await until("the API reports the USDT price stale", async () => {
      const p = (await Api.raw("GET", "/v1/public/prices")).body.assets.find((a) => a.asset_id === USDT).price;
      return p.state === "stale" && p.value === undefined && p.updated_at === Number(old);
    }, { timeout: 30_000 });
    const b = await openBrowser({ key: await freshKey() });
    const { page } = b;
    await page.goto(`${BASE}/?ref=${(await sponsor()).address}&asset=${USDT}`);
    await signInThroughPage(page);
    const note = page.getByTestId("pay-price-note");
    await note.waitFor();
    assert.equal(await note.getAttribute("data-state"), "stale");
    assert.match(await note.innerText(), /No current USDT price/);
    assert.equal(await page.getByTestId("pay-fiat").count(), 0, "no dollars from a stale feed");
    // The amount and the fee are still there: only the price is withheld.
    assert.match(await page.getByTestId("pay-amount").innerText(), /You pay/);
    await b.close();
  } finally {
    await feedCall("setAnswer", [answer]);
  }
  await until("the API reports the USDT price current again", async () => {
    const p = (await Api.raw("GET", "/v1/public/prices")).body.assets.find((a) => a.asset_id === USDT).price;
    return p.state === "current";
  }, { timeout: 30_000 });
});

for (const [locale, code, viewport] of [
  ["en-US", "en", { width: 1280, height: 900 }],
  ["ar", "ar", PHONE],
]) {
  test(`staff look a member up by wallet in the console (${code}, ${viewport.width} px): every asset's standing as the API gives it`, async () => {
    const member = await sponsor();
    const SPONSOR = member.address;
    const admin = await Api.signIn(ANVIL_KEYS[0]);
    const profile = await admin.get(`/v1/admin/users/${SPONSOR}`);
    assert.ok(profile.assets.length > 0);
    assert.deepEqual(profile, await member.get("/v1/users/me"), "staff see what the member's own dashboard reads");
    assert.equal((await Api.raw("GET", "/v1/admin/users/not-an-address", undefined, admin.token)).status, 422);
    assert.equal((await Api.raw("GET", `/v1/admin/users/${SPONSOR}`, undefined, member.token)).status, 403, "a member cannot look others up");

    const b = await openBrowser({ key: ANVIL_KEYS[0], viewport });
    const { page } = b;
    await speak(b, locale);
    await page.goto(BASE + "/admin");
    await signInThroughPage(page);
    await page.getByTestId("tab-users").click();
    await page.getByTestId("lookup-address").fill(SPONSOR);
    await page.getByTestId("lookup-go").click();
    const table = page.getByTestId("lookup-result");
    await table.waitFor();
    for (const s of profile.assets) {
      const row = table.getByTestId(`lookup-asset-${s.asset_id}`);
      assert.equal(await row.getByTestId("lookup-paid-in").locator("[data-base]").getAttribute("data-base"), s.balances.paid_in);
      assert.equal(await row.getByTestId("lookup-owed").locator("[data-base]").getAttribute("data-base"), s.balances.owed);
    }
    await page.getByTestId("lookup-address").fill("0x1234");
    assert.equal(await page.getByTestId("lookup-go").isDisabled(), true, "a partial address is not looked up");
    await assertAccessible(page, `the ${code} console's member look-up`);
    await b.close();
  });
}
