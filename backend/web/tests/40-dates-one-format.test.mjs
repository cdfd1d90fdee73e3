// One date format per language, the time zone said, everywhere (issue 66: "mixed date formats and time zones in one
// sentence or table"; src/lib/format.ts). In English, Hindi and Arabic, each browser living in a zone that is not UTC
// (Tokyo, Kolkata, Dubai: none keeps summer time, so one zone has one name all year), the pages that show dates — the
// member's dashboard (its history, payouts and requests), the notification centre, the proof of solvency page, the
// members' exit page read from its file, and the console's audit log, approvals and payout batches — show every date
// and time in one shape, Intl's for the page's language, every one naming the reader's zone: no UTC beside local time,
// no ISO or numeric date, no time without its zone. Where the API says what a date is (an audit entry, a notification,
// a reward, a batch, a proposal, a kept proof), the page's text is that instant in that shape and zone.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ANVIL_KEYS, Api, BASE, BNB, CHAIN, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";
import { speak } from "./lib/page-checks.mjs";
import { datesOnPage, liveIn, shownAs } from "./lib/dates.mjs";
import { EXIT_PAGE_ALLOW, EXIT_URL, downloads } from "./lib/exit.mjs";

const LANGUAGES = [
  { code: "en", locale: "en-US", zone: "Asia/Tokyo" },
  { code: "hi", locale: "hi-IN", zone: "Asia/Kolkata" },
  { code: "ar", locale: "ar", zone: "Asia/Dubai" },
];

/**
 * Fails unless `found` (`datesOnPage`) holds at least `min` dates and times of the page's one shape, every date and
 * time of day naming the reader's zone, and nothing else that looks like a date or a time.
 */
function assertOneShape(found, what, min = 1) {
  assert.ok(!found.missing, `${what}: ${found.missing} is not on the page`);
  assert.ok(!/^(UTC|GMT)$/.test(found.zone), `${what}: the browser lives in a zone of its own, not ${found.zone}`);
  const times = [...found.full, ...found.clocks];
  assert.ok(found.full.length >= min, `${what}: ${found.full.length} dates in the ${found.tag} shape, at least ${min} expected`);
  const other = times.filter((f) => f.zone !== found.zone);
  assert.deepEqual(other.map((f) => f.text), [], `${what}: every time names the reader's zone (${found.zone}), none UTC or another`);
  assert.deepEqual(found.strays, [], `${what}: dates or times not in the ${found.tag} shape with the zone named`);
}

/** Reads `selector`'s dates until at least `min` are shown (the page fills in as its reads come back), then checks them. */
async function checkDates(page, selector, what, min = 1) {
  const found = await until(`${what}: ${min} date(s) shown`, async () => {
    const f = await datesOnPage(page, { selector });
    return !f.missing && f.full.length >= min && f;
  });
  assertOneShape(found, what, min);
  return found;
}

/** The page's text of `locator`, whitespace as one space and no direction marks (as `datesOnPage` reads it). */
const textOf = async (locator) => (await locator.innerText()).replace(/[\u200e\u200f\u061c\u2066-\u2069]/g, "").replace(/[\s\u00a0\u202f]+/g, " ");
const clean = (s) => s.replace(/[\u200e\u200f\u061c\u2066-\u2069]/g, "").replace(/[\s\u00a0\u202f]+/g, " ");

async function inLanguage(page, code) {
  await until(`the page in ${code}`, async () => (await page.evaluate(() => document.documentElement.lang)) === code);
}

/** The "Proof of solvency" page once every card was read from the chain and every badge checked (as test 38 waits). */
async function settledSolvencyPage(page) {
  await page.getByTestId("nav-solvency").click();
  const section = page.getByTestId("solvency");
  await section.waitFor();
  await until(
    "every card read from the chain and every badge checked",
    async () => {
      if ((await section.locator("article.card").count()) === 0) return false;
      const read = await section.locator("[data-testid=chain-read]").evaluateAll((els) =>
        els.every((el) => el.querySelector("[data-testid=chain-figures], [data-testid=chain-cannot], [data-testid=chain-error]")),
      );
      const checked = await section.getByTestId("solvency-check").evaluateAll((els) => els.length > 0 && els.every((el) => el.dataset.state !== "checking"));
      return read && checked && (await section.locator("[aria-busy=true]").count()) === 0;
    },
    { timeout: 180_000, every: 1000 },
  );
  await section.getByTestId("saved-proofs").waitFor({ timeout: 60_000 });
  return section;
}

for (const { code, locale, zone } of LANGUAGES) {
  test(`${code} in ${zone}: the member's dashboard, notifications, proof of solvency and exit page write every date one way, in the reader's zone`, async () => {
    const member = await Api.signIn(ANVIL_KEYS[2]);
    const me = await member.get("/v1/users/me");
    // A reward with a credit date, in some asset of account 2 (the devnet demo's), among the 10 its card shows first.
    let credit = null;
    for (const a of me.assets) {
      const r = (await member.get(`/v1/users/history?asset_id=${a.asset_id}&limit=10`)).items.find((x) => x.credited_at);
      if (r) {
        credit = r;
        break;
      }
    }
    assert.ok(credit, "account 2 has a credited reward in some asset");

    const b = await openBrowser({ key: ANVIL_KEYS[2] });
    const { page } = b;
    await speak(b, locale);
    await liveIn(b, zone);
    await page.goto(BASE + "/");
    await signInThroughPage(page);
    await page.getByTestId("dashboard").waitFor({ timeout: 30_000 });
    await inLanguage(page, code);

    // The dashboard: the history's dates, the payouts' and the requests'.
    const reward = page.locator(`[data-testid=reward][data-reward="${credit.reward_no}"]`).first();
    await reward.waitFor({ timeout: 30_000 });
    const [rewardAt] = await shownAs(page, [credit.credited_at]);
    assert.ok(clean(rewardAt).length > 0);
    assert.ok((await textOf(reward.getByTestId("reward-when"))).startsWith(clean(rewardAt)), `the reward's date: ${await reward.getByTestId("reward-when").innerText()}, expected ${rewardAt}`);
    const dashboard = await checkDates(page, "[data-testid=dashboard]", `the ${code} dashboard`, 2);
    assert.ok(dashboard.full.some((f) => f.text === clean(rewardAt)), `the reward's date is one of the dashboard's: ${dashboard.full.map((f) => f.text).join(" | ")}`);
    await b.screenshot(`40-dashboard-${code}`);

    // The notification centre: each date is its notification's instant (the API's, in the page's <time datetime>).
    await page.getByTestId("nav-notifications").click();
    await page.getByTestId("notifications").waitFor();
    await page.getByTestId("notification").first().waitFor({ timeout: 30_000 });
    const stamps = await page.locator("[data-testid=notifications] time[datetime]").evaluateAll((els) => els.map((e) => [e.getAttribute("datetime"), e.innerText]));
    assert.ok(stamps.length > 0, "the notifications carry their dates");
    const expected = await shownAs(page, stamps.map(([at]) => at));
    assert.deepEqual(stamps.map(([, text]) => clean(text)), expected.map(clean), "each notification's date, as the page's one shape writes its instant");
    await checkDates(page, "[data-testid=notifications]", `the ${code} notification centre`, 1);

    // The proof of solvency page: commitments read from the chain (block times) beside the proofs this browser kept.
    const solvency = await settledSolvencyPage(page);
    const kept = solvency.getByTestId("saved-proof").first();
    const [keptAt] = await shownAs(page, [Number(await kept.getAttribute("data-saved-at"))]);
    assert.ok((await textOf(kept)).includes(clean(keptAt)), `the kept proof's date: ${await kept.innerText()}, expected ${keptAt}`);
    await checkDates(page, "[data-testid=solvency]", `the ${code} proof of solvency page`, 2);
    await b.screenshot(`40-solvency-${code}`);

    // The exit page from its file, in the browser's language: a wallet connected, the plan's USDT picked (its latest
    // commitment's time and when its exit opens, both of the chain's clock), then the member's proof loaded.
    const proof = await member.get(`/v1/users/solvency-proof?asset_id=${BNB}`);
    const file = join(downloads(), `proof-40-${code}.json`);
    writeFileSync(file, JSON.stringify(proof));
    await page.goto(EXIT_URL);
    await page.locator("#exit-title").waitFor();
    await inLanguage(page, code);
    await page.getByTestId("exit-connect-evm").first().click();
    await page.getByTestId("exit-wallet").waitFor({ timeout: 10_000 });
    const assets = page.getByTestId("exit-assets");
    await until("the plan's assets offered", async () => Number((await assets.getAttribute("data-count")) || 0) > 0, { timeout: 30_000 });
    const usdt = CHAIN.usdt.toLowerCase();
    await assets.locator(`[data-testid=exit-asset][data-token="${usdt}"]`).click();
    await until("the USDT exit read", async () => (await page.getByTestId("exit-state").count()) > 0 && (await page.getByTestId("exit-state").getAttribute("data-token")) === usdt, {
      timeout: 60_000,
    });
    await page.getByTestId("exit-proof-file").setInputFiles(file);
    await page.getByTestId("exit-member").waitFor({ timeout: 60_000 });
    await checkDates(page, "body", `the ${code} exit page`, 1);
    await b.screenshot(`40-exit-${code}`);
    await b.close(EXIT_PAGE_ALLOW);
  });

  test(`${code} in ${zone}: the console's audit log, approvals and payout batches write every date one way, in the reader's zone`, async () => {
    const admin = await Api.signIn(ANVIL_KEYS[0]);
    const b = await openBrowser({ key: ANVIL_KEYS[0] });
    const { page } = b;
    await speak(b, locale);
    await liveIn(b, zone);
    await page.goto(BASE + "/admin");
    await signInThroughPage(page);
    await inLanguage(page, code);

    // The audit log: its newest entry (people's, the default) is one of the API's newest, in the one shape. The devnet's
    // services may add entries while the page loads: the page's newest is looked for among the API's newest five.
    await page.getByTestId("tab-audit").click();
    const when = page.getByTestId("audit-row").first().locator("td").nth(1);
    await when.waitFor({ timeout: 30_000 });
    const shownAt = clean(await when.innerText());
    const audit = await admin.get("/v1/admin/audit?limit=5&by=staff");
    const forms = (await shownAs(page, audit.items.map((i) => i.created_at))).map(clean);
    assert.ok(forms.includes(shownAt), `the newest entry's date ${shownAt} is one of the API's newest: ${forms.join(" | ")}`);
    await checkDates(page, "main", `the ${code} audit log`, 1);

    // Approvals, every state: a proposal's date is its proposal's instant.
    const proposals = (await admin.get("/v1/admin/authorisations?limit=20")).items;
    assert.ok(proposals.length > 0, "the devnet's payouts were proposed and approved");
    await page.getByTestId("tab-approvals").click();
    await page.getByTestId("approvals-state").selectOption("all");
    const first = page.locator(`[data-testid=approvals] [data-id="${proposals[0].id}"]`).first();
    await first.waitFor({ timeout: 30_000 });
    const [proposedAt] = await shownAs(page, [proposals[0].proposed_at]);
    assert.ok((await textOf(first)).includes(clean(proposedAt)), `proposal #${proposals[0].id}: ${await first.innerText()}, expected ${proposedAt}`);
    await checkDates(page, "main", `the ${code} approvals`, 1);

    // Payout batches: a row's date is its batch's creation.
    await page.getByTestId("tab-payouts").click();
    const row = page.getByTestId("batch-row").first();
    await row.waitFor({ timeout: 30_000 });
    const id = Number((await row.locator("td").first().innerText()).replace(/\D/g, ""));
    const batch = await admin.get(`/v1/admin/payouts/batches/${id}`);
    const [createdAt] = await shownAs(page, [batch.created_at]);
    assert.ok((await textOf(row)).includes(clean(createdAt)), `batch #${id}: ${await row.innerText()}, expected ${createdAt}`);
    await checkDates(page, "main", `the ${code} payout batches`, 1);
    await b.screenshot(`40-console-${code}`);
    await b.close();
  });
}
