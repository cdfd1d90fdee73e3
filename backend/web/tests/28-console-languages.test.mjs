// The admin console in a Spanish and an Arabic browser (issue 47 item 6), on a desktop and a 390 px phone, signed in as
// the devnet's admin: every tab's heading in the language, amounts in the language's form equal to the API's base
// units, dates in the language, nothing wider than the phone, axe finding no serious violation; the console's own
// catalogue is fetched only once a language other than English is picked.
import assert from "node:assert/strict";
import { ANVIL_KEYS, Api, BASE, openBrowser, signInThroughPage, test } from "./lib/stack.mjs";
import { assertAccessible, speak } from "./lib/page-checks.mjs";
import { DATE_TIME } from "./lib/dates.mjs";
import enConsole from "../src/i18n/console/en.js";
import esConsole from "../src/i18n/console/es.js";
import arConsole from "../src/i18n/console/ar.js";

const CONSOLE = { es: esConsole, ar: arConsole };

const PHONE = { width: 390, height: 844 };


/** Each tab's heading (its first h2) in the language. */
const HEADINGS = {
  es: {
    payouts: "Pagos",
    approvals: "Aprobaciones",
    treasury: "Tesorería",
    monitoring: "Monitorización",
    users: "Usuarios",
    plan: "Versiones del plan",
    periods: "Cierres semanales",
    catalogue: "Catálogo",
    assets: "Activos",
    staff: "Personal",
    audit: "Registro de auditoría",
    webhooks: "Webhooks",
  },
  ar: {
    payouts: "المدفوعات",
    approvals: "الموافقات",
    treasury: "الخزينة",
    monitoring: "المراقبة",
    users: "المستخدمون",
    plan: "نسخ الخطة",
    periods: "إغلاقات الأسابيع",
    catalogue: "الكتالوج",
    assets: "الأصول",
    staff: "الموظفون",
    audit: "سجل التدقيق",
    webhooks: "الويب هوك",
  },
};

/** The server's "1234.5 BNB" the Spanish way: "1234,5 BNB", "12.345,5 BNB" (groups from five digits). */
function spanish(human) {
  const [number, ...symbol] = human.split(" ");
  const [int, frac] = number.replace("-", "").split(".");
  const grouped = int.length >= 5 ? int.replace(/\B(?=(\d{3})+(?!\d))/g, ".") : int;
  return `${number.startsWith("-") ? "-" : ""}${grouped}${frac ? `,${frac}` : ""} ${symbol.join(" ")}`.trim();
}

/** An Arabic amount read back in ASCII: Arabic-Indic digits and separators to "0-9" and ".", direction marks dropped. */
function fromArabic(text) {
  return text
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x660))
    .replace(/\u066b/g, ".")
    .replace(/[\u066c\u200e\u200f\u061c]/g, "")
    .replace(/(\d),(?=\d{3})/g, "$1");
}

const overflow = (page) => page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);

for (const [locale, code, dir] of [
  ["es-ES", "es", "ltr"],
  ["ar", "ar", "rtl"],
]) {
  for (const viewport of [{ width: 1280, height: 900 }, PHONE]) {
    test(`the console in ${code} at ${viewport.width} px: every tab's heading, an amount and a date in the language`, async () => {
      const admin = await Api.signIn(ANVIL_KEYS[0]);
      const b = await openBrowser({ key: ANVIL_KEYS[0], viewport });
      const { page } = b;
      await speak(b, locale);
      const catalogues = [];
      page.on("request", (r) => {
        if (new RegExp(`/assets/${code}-[\\w-]+\\.js$`).test(r.url())) catalogues.push(r.url());
      });
      await page.goto(BASE + "/admin");
      await signInThroughPage(page);
      assert.equal(await page.evaluate(() => document.documentElement.lang), code);
      assert.equal(await page.evaluate(() => document.documentElement.dir), dir);
      // The dApp's catalogue (the shared parts) and the console's own.
      assert.equal(new Set(catalogues).size, 2, `two ${code} catalogues: ${catalogues.join(", ")}`);
      const tag = await page.evaluate(() => navigator.language);

      for (const [tab, heading] of Object.entries(HEADINGS[code])) {
        await page.getByTestId(`tab-${tab}`).click();
        const h2 = page.locator("main h2").first();
        await page.locator("main h2", { hasText: heading }).first().waitFor();
        assert.equal(await h2.innerText(), heading, `the ${tab} tab's heading`);
        if (viewport.width === PHONE.width) {
          const [width, screen] = await overflow(page);
          assert.ok(width <= screen, `${tab}: the console is ${width} px wide on a ${screen} px screen`);
        }
        if (tab === "assets") {
          // The new-asset form's intro (what the defaults are sized to) reads in the language, not in English.
          const intro = page.getByTestId("new-asset").locator("p.muted").first();
          assert.equal(await intro.innerText(), CONSOLE[code]["assets.new_intro"], "the new asset form's intro");
          assert.notEqual(CONSOLE[code]["assets.new_intro"], enConsole["assets.new_intro"]);
        }
        if (tab === "payouts") await assertAccessible(page, `the ${code} console's Payouts tab`);
        if (tab === "staff") await assertAccessible(page, `the ${code} console's Staff tab`);
      }

      // An amount: the treasury's available share of asset 1, in the language's form, equal to the API's base units.
      const summary = await admin.get("/v1/admin/treasury?asset_id=1");
      await page.getByTestId("tab-treasury").click();
      const available = page.getByTestId("t-available");
      await available.waitFor();
      assert.equal(await available.getAttribute("data-base"), summary.available.base);
      const shown = await available.innerText();
      if (code === "es") assert.equal(shown, spanish(summary.available.human));
      else assert.equal(fromArabic(shown), summary.available.human);
      assert.equal(await available.evaluate((el) => getComputedStyle(el).direction), "ltr", "an amount reads left to right");
      assert.match(await page.locator("dl[data-testid=treasury-summary] dt").first().innerText(), code === "es" ? /empresa/ : /شركة/);

      // A date: the audit log's newest entry, in the browser's language (the one shape of src/lib/format.ts: the
      // reader's zone, named), not in English. The devnet's services may add entries while the page loads, so the
      // page's newest is looked for among the API's newest five, read after.
      await page.getByTestId("tab-audit").click();
      const when = page.getByTestId("audit-row").first().locator("td").nth(1);
      await when.waitFor();
      const shownAt = await when.innerText();
      const audit = await admin.get("/v1/admin/audit?limit=5&by=staff");
      // The audit log's filters and its actions are in the language too, not English (issue 66).
      const filters = await page.getByTestId("audit-filters").innerText();
      for (const english of ["Done by", "people (staff wallets)", "any action"]) assert.ok(!filters.includes(english), `"${english}" in ${code}: ${filters}`);
      const action = page.getByTestId("audit-action").first();
      const words = await action.innerText();
      if (["freeze", "unfreeze", "staff_seed", "payout_batch_build", "authorisation_propose"].includes(await action.getAttribute("data-action")))
        assert.notEqual(words, enConsole[`audit.action_${await action.getAttribute("data-action")}`], `the action in ${code}, not English`);
      const forms = await page.evaluate(
        ([items, t, o]) => items.map((i) => [new Date(i.created_at).toLocaleString(t, o), new Date(i.created_at).toLocaleString("en-US", o)]),
        [audit.items, tag, DATE_TIME],
      );
      const match = forms.find(([local]) => local === shownAt);
      assert.ok(match, `the page's newest entry ${shownAt} is one of the API's newest: ${forms.map((f) => f[0]).join(" | ")}`);
      assert.notEqual(match[0], match[1]);

      await b.screenshot(`28-console-${code}-${viewport.width}`);
      if (code === "es" && viewport.width !== PHONE.width) {
        // The picker changes the console too: back to English, the headings are the ones every other test reads.
        await page.getByTestId("language-picker").selectOption("en");
        await page.locator("main h2", { hasText: "Audit log" }).waitFor();
        await page.getByTestId("tab-payouts").click();
        // The tab's content renders after the click returns: wait for its heading, then it must be the first.
        await page.locator("main h2", { hasText: "Payouts" }).first().waitFor();
        assert.equal(await page.locator("main h2").first().innerText(), "Payouts");
        assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
      }
      await b.close();
    });
  }
}

test("an English console fetches no catalogue", async () => {
  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  const fetched = [];
  page.on("request", (r) => {
    if (/\/assets\/(es|pt|hi|id|ar)-[\w-]+\.js$/.test(r.url())) fetched.push(r.url());
  });
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  await page.getByTestId("tab-monitoring").click();
  await page.locator("main h2", { hasText: "Monitoring" }).waitFor();
  assert.deepEqual(fetched, []);
  await b.close();
});
