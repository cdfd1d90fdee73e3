// Languages (issue 47 item 6): a browser in Spanish gets the dApp in Spanish with amounts in the Spanish form; one in
// Arabic gets it right to left with addresses still left to right, and nothing wider than a 390 px phone; the header's
// picker is reached by keyboard, changes the page, loads only the catalogue picked and survives a reload.
import assert from "node:assert/strict";
import { ANVIL_KEYS, Api, BASE, USDT, openBrowser, plans, test, until } from "./lib/stack.mjs";
import { assertNoEnglishIn, message, speak } from "./lib/page-checks.mjs";

const PHONE = { width: 390, height: 844 };


/** The server's "1234.5 BNB" the Spanish way: "1234,5 BNB", "12.345,5 BNB" (groups from five digits). */
function spanish(human) {
  const [number, ...symbol] = human.split(" ");
  const [int, frac] = number.replace("-", "").split(".");
  const grouped = int.length >= 5 ? int.replace(/\B(?=(\d{3})+(?!\d))/g, ".") : int;
  return `${number.startsWith("-") ? "-" : ""}${grouped}${frac ? `,${frac}` : ""} ${symbol.join(" ")}`.trim();
}

/** Requests for a language's catalogue chunk (dist/assets/<code>-<hash>.js). */
const catalogueRequests = (b) => {
  const seen = [];
  b.page.on("request", (r) => {
    const m = /\/assets\/(es|pt|hi|id|ar)-[\w-]+\.js$/.exec(r.url());
    if (m) seen.push(m[1]);
  });
  return seen;
};

test("a browser in Spanish gets the dApp in Spanish, amounts with a decimal comma", async () => {
  const all = await plans();
  const b = await openBrowser();
  const { page } = b;
  await speak(b, "es-ES");
  const loaded = catalogueRequests(b);
  await page.goto(BASE + "/");
  await page.getByTestId("disclosure").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "es");
  assert.equal(await page.evaluate(() => document.documentElement.dir), "ltr");
  assert.equal(await page.locator("#disclosure-title").innerText(), "Antes de pagar: el plan y cómo les ha ido a los participantes");
  assert.equal(await page.getByTestId("can-lose").innerText(), "Puedes perder lo que pagas: nada garantiza que recuperes ni una parte.");
  assert.equal(await page.getByTestId("language-picker").inputValue(), "es");
  assert.deepEqual(loaded, ["es"], "only the Spanish catalogue is fetched");
  for (const p of all) {
    const fee = page.getByTestId(`disclosure-${p.symbol}${p.chain_id === 31337 ? "" : "-TRON"}`).getByTestId("registration-fee");
    if ((await fee.count()) === 0) continue;
    assert.equal(await fee.innerText(), spanish(p.registration_fee.human), `${p.symbol}'s fee in the Spanish form`);
    // The exact figure stays one hover away, in base units.
    assert.equal(await fee.getAttribute("title"), `${p.registration_fee.base} unidades base`);
  }
  const odds = page.getByTestId("odds-got-back").first();
  if ((await odds.count()) > 0) assert.match(await odds.innerText(), /participantes? \(\d+(,\d+)?\s%\) ha(n)? recuperado/);
  await b.screenshot("26-spanish");
  await b.close();
});

test("a browser in Arabic gets the dApp right to left; the sponsor's address reads left to right; nothing overflows at 390 px", async () => {
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  const b = await openBrowser({ viewport: PHONE });
  const { page } = b;
  await speak(b, "ar");
  await page.goto(`${BASE}/?ref=${genesis.address}&asset=${USDT}`);
  await page.getByTestId("register").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dir), "rtl");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "ar");
  assert.equal(await page.locator("#disclosure-title").innerText(), "قبل أن تدفع: الاحتمالات والقواعد");
  assert.equal(await page.locator("#register-title").innerText(), "الانضمام عبر رابط إحالة");
  const sponsor = page.getByTestId("sponsor");
  assert.equal(await sponsor.getAttribute("data-address"), genesis.address);
  assert.equal(await sponsor.evaluate((el) => getComputedStyle(el).direction), "ltr", "the address is laid out left to right");
  assert.match(await sponsor.innerText(), /^0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}$/);
  assert.equal(await page.getByTestId("register-amount").evaluate((el) => getComputedStyle(el).direction), "ltr", "the amount too");
  const overflow = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
  assert.ok(overflow[0] <= overflow[1], `the page is ${overflow[0]} px wide on a ${overflow[1]} px screen`);
  // The other assets, opened, fit too.
  await page.getByTestId("disclosure-others").locator("summary").click();
  const opened = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
  assert.ok(opened[0] <= opened[1], `opened, the page is ${opened[0]} px wide on a ${opened[1]} px screen`);
  await b.screenshot("26-arabic-390");
  await b.close();
});

test("the language picker is reached by keyboard, changes the page, loads only what is picked and survives a reload", async () => {
  const b = await openBrowser();
  const { page } = b;
  const loaded = catalogueRequests(b);
  await page.goto(BASE + "/");
  await page.getByTestId("disclosure").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  assert.equal(await page.locator("#disclosure-title").innerText(), "Before you pay: the plan and how participants have fared");
  assert.deepEqual(loaded, [], "an English page fetches no catalogue");

  // Tab from the top of the page to the picker.
  const picker = page.getByTestId("language-picker");
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await picker.evaluate((el) => el === document.activeElement);
  }
  assert.ok(reached, "the picker is among the first tab stops");
  assert.equal(await page.getByRole("combobox", { name: "Language", exact: true }).count(), 1, "the picker's accessible name");
  assert.deepEqual(
    await picker.locator("option").evaluateAll((os) => os.map((o) => [o.value, o.textContent, o.lang])),
    [
      ["en", "English", "en"],
      ["es", "Español", "es"],
      ["pt", "Português (Brasil)", "pt"],
      ["hi", "हिन्दी", "hi"],
      ["id", "Bahasa Indonesia", "id"],
      ["ar", "العربية", "ar"],
    ],
  );
  await picker.selectOption("pt");
  await page.locator("#disclosure-title", { hasText: "Antes de pagar: o plano e como os participantes se saíram" }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "pt");
  assert.deepEqual(loaded, ["pt"]);

  await page.reload();
  await page.locator("#disclosure-title", { hasText: "Antes de pagar: o plano" }).waitFor();
  assert.equal(await page.getByTestId("language-picker").inputValue(), "pt");

  await page.getByTestId("language-picker").selectOption("hi");
  await page.locator("#disclosure-title", { hasText: "भुगतान से पहले" }).waitFor();
  await page.getByTestId("language-picker").selectOption("en");
  await page.locator("#disclosure-title", { hasText: "Before you pay" }).waitFor();
  assert.equal(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir].join(" ")), "en ltr");
  await b.close();
});

test("the console and the docs page carry the picker; the console in Arabic is right to left", async () => {
  const b = await openBrowser({ viewport: PHONE });
  const { page } = b;
  await speak(b, "ar");
  await page.goto(BASE + "/admin");
  await page.getByTestId("language-picker").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dir), "rtl");
  assert.equal(await page.getByTestId("language-picker").inputValue(), "ar");
  const overflow = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
  assert.ok(overflow[0] <= overflow[1], `the console is ${overflow[0]} px wide on a ${overflow[1]} px screen`);
  await page.goto(BASE + "/docs");
  await page.getByTestId("operation").first().waitFor();
  // The try-it buttons sit in folded operations: counted whether shown or not.
  assert.ok((await page.locator("button", { hasText: "إرسال" }).count()) > 0, "the docs' try-it button in Arabic");
  await b.close();
});

test("the API client's own failures are said in the reader's language: the service unreachable, failing (503), the device offline", async () => {
  for (const code of ["es", "ar"]) {
    const b = await openBrowser({ viewport: PHONE });
    const { page, context } = b;
    await speak(b, code);
    // Every API request refused at the network, as when the service is down: the page's own fetches fail.
    const api = (url) => new URL(url).pathname.startsWith("/v1/");
    await page.route(api, (route) => route.abort("connectionrefused"));
    await page.goto(BASE + "/");
    const failed = page.getByTestId("load-failed");
    /** The notice once it says `key` (the status filled in), checked for English. */
    const says = async (key, vars, what) => {
      const want = await message(code, key, vars);
      await until(`${what} said in ${code}`, async () => (await failed.innerText().catch(() => "")).includes(want), { timeout: 20_000 });
      assert.equal(await page.evaluate(() => document.documentElement.lang), code);
      await assertNoEnglishIn(failed, code, what);
    };
    await says("api.network", {}, "the service unreachable");
    assert.equal(await failed.getByTestId("retry").innerText(), await message(code, "account.retry"));

    // A proxy's 503 without the API's answer: the service failed, its status named, nothing changed.
    await page.unroute(api);
    await page.route(api, (route) => route.fulfill({ status: 503, contentType: "text/html", body: "<h1>Service Unavailable</h1>" }));
    await failed.getByTestId("retry").click();
    await says("api.failed", { status: 503 }, "the service failing");

    // The device offline: the browser says so, and so does the page.
    await page.unroute(api);
    await context.setOffline(true);
    await failed.getByTestId("retry").click();
    await says("api.offline", {}, "the device offline");
    await b.screenshot(`26-offline-${code}`);

    // Back online: the retry loads the page.
    await context.setOffline(false);
    await failed.getByTestId("retry").click();
    await page.getByTestId("disclosure").waitFor();
    await b.close([
      /^request failed: .*\/v1\/.* net::ERR_(CONNECTION_REFUSED|INTERNET_DISCONNECTED)$/,
      /^http 503 GET .*\/v1\//,
      /^console\.error: .*(ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED)/,
    ]);
  }
});
