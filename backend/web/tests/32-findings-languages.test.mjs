// Issue 47's findings, each once more in Spanish and in Arabic (right to left), on a desktop and on a 390 px phone: a
// generation-plan member paid less the withdrawal fee reads their summary and tiles (received, fee kept; finding 2),
// the proof of solvency in words (3), the cap as "the most you can receive" beside the odds (4), the pay facts beside
// the pay button (5), skip links and a page that fits the screen's width (6), history in words with its transaction
// (7), a referral QR and a statement to download (9) — and staff find the generation asset on every console tab (1),
// look the member up and read a confirmation whose way out says "go back" (8). English is tested in tests 27–31.
import assert from "node:assert/strict";
import { ANVIL_KEYS, Api, BASE, openBrowser, payBatch, signInThroughPage, test, until } from "./lib/stack.mjs";
import { GEN, memberWithCredit } from "./lib/generation.mjs";
import { assertAccessible, speak } from "./lib/page-checks.mjs";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const WORDS = {
  es: { cap: "lo máximo que puedes recibir", risk: "Puedes perder lo que pagas", back: "Volver", lookup: "Buscar un miembro" },
  ar: { cap: "أقصى ما يمكنك استلامه", risk: "قد تخسر ما تدفعه", back: "رجوع", lookup: "البحث عن عضو" },
};

let subject = null;
/** One GUSDT member with a credit paid out less the fee, shared by the four runs. */
function paidMember() {
  subject ??= (async () => {
    const m = await memberWithCredit();
    const admin = await Api.signIn(ANVIL_KEYS[0]);
    const build = await admin.post("/v1/admin/payouts/batches", { asset_id: GEN, max_entries: 100 });
    await payBatch(admin, build.id);
    await until("the payout settled", async () => (await m.member.standing(GEN)).balances.settled === m.owed.toString());
    return m;
  })();
  return subject;
}

const fitsWidth = (page) => page.evaluate(() => document.scrollingElement.scrollWidth <= window.innerWidth);

for (const [locale, code, dir] of [
  ["es-ES", "es", "ltr"],
  ["ar", "ar", "rtl"],
]) {
  for (const viewport of [DESKTOP, PHONE]) {
    test(`${code} at ${viewport.width} px: a member's findings 2-7 and 9 in words`, async () => {
      const { key, member } = await paidMember();
      const me = await member.standing(GEN);
      const b = await openBrowser({ key, viewport });
      const { page } = b;
      await speak(b, locale);
      await page.goto(BASE + "/");
      await signInThroughPage(page);
      assert.equal(await page.evaluate(() => document.documentElement.dir), dir);
      assert.equal(await page.getByTestId("language").inputValue(), code);

      // 6: a summary first, skip links to each section.
      const row = page.getByTestId("summary").locator(`[data-testid=summary-row][data-asset="${GEN}"]`);
      await row.waitFor();
      assert.ok(await page.getByTestId("dash-skip").count(), "skip links");
      // 2: what reached the wallet and the fee kept, equal to the API's.
      assert.equal(await row.getByTestId("sum-received").getAttribute("data-base"), me.balances.received);
      assert.equal(await row.getByTestId("sum-fees").getAttribute("data-base"), me.balances.fees);
      const card = page.getByTestId("asset-GUSDT");
      if (viewport === PHONE) await row.click();
      await card.getByTestId("bal-received").waitFor();
      assert.equal(await card.getByTestId("bal-received").getAttribute("data-base"), me.balances.received);
      assert.equal(await card.getByTestId("bal-fees").getAttribute("data-base"), me.balances.fees);

      // A phone folds the card's sections under their titles: open them all.
      for (const fold of await card.locator("details.fold-section").all()) {
        if (!(await fold.evaluate((e) => e.open))) await fold.locator("summary").first().click();
      }
      // 7: history in words — no raw kinds — with the crediting transaction.
      const history = (await member.get(`/v1/users/history?asset_id=${GEN}`)).items[0];
      const reward = card.locator(`[data-testid=reward][data-reward="${history.reward_no}"]`);
      await reward.waitFor();
      const what = await reward.getByTestId("reward-what").innerText();
      assert.doesNotMatch(what, /GENERATION|RANK_BONUS|_/, `in words: ${what}`);
      assert.equal(await reward.getByTestId("reward-tx").getAttribute("data-tx"), history.tx_hash);
      // 9: a statement to download.
      assert.equal(await card.getByTestId("statement-download").count(), 1);

      // 4 and 5: buying again says the cap is the most they can receive, and beside the button the risk and the facts.
      const cost = card.getByTestId("package-cost");
      await cost.waitFor();
      assert.ok((await cost.innerText()).includes(WORDS[code].cap), await cost.innerText());
      const facts = card.getByTestId("pay-facts");
      await facts.waitFor();
      assert.ok((await facts.getByTestId("pay-risk").innerText()).includes(WORDS[code].risk), await facts.getByTestId("pay-risk").innerText());
      await facts.getByTestId("pay-fiat").waitFor();

      // 3: the proof of solvency in words.
      const check = card.getByTestId("solvency-check");
      await check.waitFor();
      assert.ok((await check.innerText()).length > 20);

      // 9: the referral QR.
      await card.getByTestId("ref-qr-fold").locator("summary").click();
      await card.getByTestId("ref-qr").waitFor();

      assert.ok(await fitsWidth(page), "nothing wider than the screen");
      await assertAccessible(page, `the ${code} dashboard at ${viewport.width} px`);
      await b.close();
    });

    test(`${code} at ${viewport.width} px: the console's findings 1 and 8 in words`, async () => {
      const { member } = await paidMember();
      const b = await openBrowser({ key: ANVIL_KEYS[0], viewport });
      const { page } = b;
      await speak(b, locale);
      await page.goto(BASE + "/admin");
      await signInThroughPage(page);
      // 1: every tab with an asset picker offers the generation asset.
      const ROOTS = { payouts: "payouts", treasury: "treasury", users: "users-admin" };
      for (const tab of ["payouts", "treasury", "users", "monitoring"]) {
        await page.getByTestId(`tab-${tab}`).click();
        if (tab === "monitoring") {
          await page.getByTestId("recon-GUSDT").waitFor();
          continue;
        }
        // The tab's own picker (the previous tab's stays drawn for a moment after the click, and a tab loaded on
        // demand draws its picker only once loaded): read once the generation asset is offered.
        const picker = page.getByTestId(ROOTS[tab]).getByTestId("asset-picker").first();
        await picker.waitFor();
        const options = await until(`${tab}: the generation asset offered`, async () => {
          const texts = await picker.locator("option").allInnerTexts();
          return texts.some((o) => o.includes("GUSDT")) && texts;
        });
        assert.ok(options.some((o) => o.includes("GUSDT")), `${tab}: ${options.join(", ")}`);
      }
      // 8: the member looked up, and a confirmation's way out.
      await page.getByTestId("tab-users").click();
      assert.equal(await page.locator("#lookup-title").innerText(), WORDS[code].lookup);
      await page.getByTestId("lookup-address").fill(member.address);
      await page.getByTestId("lookup-go").click();
      const row = page.getByTestId(`lookup-asset-${GEN}`);
      await row.waitFor();
      assert.equal(await row.getByTestId("lookup-received").locator("[data-base]").getAttribute("data-base"), (await member.standing(GEN)).balances.received);
      await page.getByTestId("freeze-address").fill(member.address);
      await page.getByTestId("freeze-reason").fill("test 32");
      await page.getByTestId("freeze").click();
      const dialog = page.locator("dialog.confirm");
      await dialog.waitFor();
      await dialog.getByRole("button", { name: WORDS[code].back, exact: true }).click();
      await dialog.waitFor({ state: "detached" });
      assert.equal((await member.standing(GEN)).status, "active", "going back froze nobody");
      assert.ok(await fitsWidth(page), "nothing wider than the screen");
      await assertAccessible(page, `the ${code} console's Users tab at ${viewport.width} px`);
      await b.close();
    });
  }
}
