// Every page in every language, checked (issue 66 item 4): for each of Spanish, Portuguese, Hindi, Indonesian and
// Arabic, the "Proof of solvency" page of a member with a proof (the devnet demo's account 2: its badges settled, its
// proof kept in the browser, every folded detail opened) and the members' exit page opened from its file (its
// language picked with its own picker and kept across a reload, a wallet connected, the plan's assets offered as
// buttons and one picked, then the member's proof file loaded) show no string of the English catalogues — every
// surface's English (src/i18n/{,member/,solvency/,exit/,console/}en.js), each message cut at its {placeholders}, every
// piece of 12 characters or more — but for a piece the language's own catalogues carry as well (a brand, a command, a
// field name kept as it is). `<html lang dir>` follows the language: right to left in Arabic, on both pages.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ANVIL_KEYS, Api, BASE, BNB, CHAIN, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";
import { EXIT_PAGE_ALLOW, EXIT_URL, downloads, exitState } from "./lib/exit.mjs";
import { englishPieces, normal, ownText } from "./lib/page-checks.mjs";

const LANGUAGES = ["es", "pt", "hi", "id", "ar"];
const NATIVE = "0x0000000000000000000000000000000000000000";

/** What the page shows, every `<details>` opened, with the labels a screen reader reads (aria-label, title, placeholder). */
const visibleText = (page) =>
  page.evaluate(() => {
    for (const d of document.querySelectorAll("details")) d.open = true;
    const labels = [...document.querySelectorAll("[aria-label], [title], [placeholder]")].flatMap((e) =>
      ["aria-label", "title", "placeholder"].map((a) => e.getAttribute(a)).filter(Boolean),
    );
    return [document.body.innerText, ...labels].join("\n");
  });

/** Fails naming every English piece `page` shows in `code` (and the key it comes from). */
async function assertNoEnglish(page, code, what, pieces, own) {
  const shown = normal(await visibleText(page));
  const english = [...pieces].filter(([piece]) => shown.includes(piece) && !own.includes(piece)).map(([piece, from]) => `"${piece}" (${from})`);
  assert.deepEqual(english, [], `${what} in ${code} shows English: ${english.join("; ")}`);
}

async function assertLanguage(page, code, what) {
  const [lang, dir] = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
  assert.equal(lang, code, `${what}: <html lang>`);
  assert.equal(dir, code === "ar" ? "rtl" : "ltr", `${what}: <html dir>`);
}

/** The "Proof of solvency" page once everything on it has settled: each card read from the chain, each badge checked. */
async function settledSolvencyPage(page) {
  await page.getByTestId("nav-solvency").click();
  const section = page.getByTestId("solvency");
  await section.waitFor();
  await until(
    "every card read from the chain and every badge checked",
    async () => {
      const cards = await section.locator("article.card").count();
      if (cards === 0) return false;
      const read = await section.locator("[data-testid=chain-read]").evaluateAll((els) =>
        els.every((el) => el.querySelector("[data-testid=chain-figures], [data-testid=chain-cannot], [data-testid=chain-error]")),
      );
      const checked = await section.getByTestId("solvency-check").evaluateAll((els) => els.length > 0 && els.every((el) => el.dataset.state !== "checking"));
      const busy = await section.locator("[aria-busy=true]").count();
      return read && checked && busy === 0;
    },
    { timeout: 180_000, every: 1000 },
  );
  // The member's proof, checked, is kept in this browser and listed for the exit.
  await section.getByTestId("saved-proofs").waitFor({ timeout: 60_000 });
  return section;
}

/** The build's test USDT on the devnet's anvil chain (deployments/devnet-anvil.json `usdt`). */
const USDT_TOKEN = CHAIN.usdt.toLowerCase();

let english = null;

for (const code of LANGUAGES) {
  test(`${code}: the proof of solvency page and the exit page show no English, <html lang dir> follow the language, the plan's assets are buttons`, async () => {
    english ??= await englishPieces();
    const own = await ownText(code);
    const api = await Api.signIn(ANVIL_KEYS[2]);
    const b = await openBrowser({ key: ANVIL_KEYS[2] });
    const { page } = b;
    // The member's pick, as the dApp keeps it (on the dApp's site only: the exit page's file has its own storage, where
    // the member picks again below).
    await page.addInitScript(
      ([l, origin]) => {
        if (location.origin === origin) localStorage.setItem("referral.locale", l);
      },
      [code, new URL(BASE).origin],
    );
    await page.goto(BASE + "/");
    await signInThroughPage(page);
    await page.getByTestId("dashboard").waitFor({ timeout: 30_000 });

    // The proof of solvency page, everything settled and every detail opened.
    await settledSolvencyPage(page);
    await assertLanguage(page, code, "the proof of solvency page");
    await assertNoEnglish(page, code, "the proof of solvency page", english, own);
    await b.screenshot(`38-solvency-${code}`);

    // The member's latest proof of BNB, as a file (the same JSON the dApp downloads).
    const proof = await api.get(`/v1/users/solvency-proof?asset_id=${BNB}`);
    const file = join(downloads(), `proof-${code}.json`);
    writeFileSync(file, JSON.stringify(proof));

    // The exit page from its file: the browser speaks English, the member picks the language on the page itself; the
    // pick is kept (localStorage, as the dApp keeps it) and a reload keeps it.
    await page.goto(EXIT_URL);
    await page.getByRole("heading", { name: "Members' exit" }).waitFor();
    await assertLanguage(page, "en", "the exit page before the pick");
    await page.getByTestId("language-picker").selectOption(code);
    await until("the exit page in the picked language", async () => (await page.evaluate(() => document.documentElement.lang)) === code);
    await page.reload();
    await page.locator("#exit-title").waitFor();
    assert.equal(await page.getByTestId("language-picker").inputValue(), code, "the pick survives a reload");
    await assertLanguage(page, code, "the exit page");
    assert.notEqual(await page.locator("#exit-title").innerText(), "Members' exit", "the title in the picked language");
    assert.notEqual(await page.title(), "Members' exit", "the document's title too");

    // A wallet connected: the plan's assets on its network, as buttons (the native coin and the build's USDT, each one
    // the contract allowed); picking USDT reads its exit.
    await page.getByTestId("exit-connect-evm").first().click();
    await page.getByTestId("exit-wallet").waitFor({ timeout: 10_000 });
    const assets = page.getByTestId("exit-assets");
    await until("the plan's assets offered", async () => Number((await assets.getAttribute("data-count")) || 0) > 0, { timeout: 30_000 });
    const tokens = await assets.getByTestId("exit-asset").evaluateAll((els) => els.map((e) => e.dataset.token));
    assert.ok(tokens.includes(NATIVE), `the native coin is offered: ${tokens}`);
    assert.ok(tokens.includes(USDT_TOKEN), `the build's USDT is offered: ${tokens}`);
    // The plans' further assets the deployment record names (GUSDT, BUSDT), each by its symbol: a member of those
    // plans never types a token address either.
    for (const [token, symbol] of [[CHAIN.generation_token.toLowerCase(), "GUSDT"], [CHAIN.binary_token.toLowerCase(), "BUSDT"]]) {
      const button = assets.locator(`[data-testid=exit-asset][data-token="${token}"]`);
      assert.equal(await button.count(), 1, `${symbol} is offered: ${tokens}`);
      assert.equal(await button.getAttribute("data-symbol"), symbol);
    }
    const usdt = assets.locator(`[data-testid=exit-asset][data-token="${USDT_TOKEN}"]`);
    assert.equal(await usdt.getAttribute("data-symbol"), "USDT");
    await usdt.click();
    await until("the USDT exit read", async () => (await page.getByTestId("exit-state").count()) > 0 && (await page.getByTestId("exit-state").getAttribute("data-token")) === USDT_TOKEN, {
      timeout: 60_000,
    });
    assert.equal(await usdt.getAttribute("aria-pressed"), "true", "the picked asset is marked");
    const state = await exitState(page);
    assert.ok(BigInt(await page.getByTestId("exit-state").getAttribute("data-exit-after")) > 0n, "the exit period, read from the contract");
    assert.ok(state.text.length > 0);
    await assertNoEnglish(page, code, "the exit page (an asset picked)", english, own);

    // The member's proof file: the page reads the member's exit.
    await page.getByTestId("exit-proof-file").setInputFiles(file);
    await page.getByTestId("exit-proof").waitFor();
    await page.getByTestId("exit-member").waitFor({ timeout: 60_000 });
    assert.equal((await exitState(page)).open, false);
    await assertLanguage(page, code, "the exit page with a proof");
    await assertNoEnglish(page, code, "the exit page (a proof loaded)", english, own);
    await b.screenshot(`38-exit-${code}`);
    await b.close(EXIT_PAGE_ALLOW);
  });
}
