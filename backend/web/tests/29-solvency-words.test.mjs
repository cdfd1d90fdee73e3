// The proof of solvency for non-experts (issue 47 item 4), on the dashboard of a fresh USDT sponsor with a pending
// reward: the badge says in one sentence what was checked and what it means; its figures are the member's balances,
// each equal to its tile (the leaf = the sum of the tiles); the technical part (hashes, blocks, every check) is folded
// under "Details for experts". A stale proof (the wallet's head moved past the build's maximum age) and a failing one
// (a lowered balance served in flight) each say what did not match and what a member can do — wait, withhold new
// payments, download the proof, and when the members' exit opens (the contract's own clock, read through the wallet),
// with a link to the exit page — and the retopup button steps back: not the primary action, a notice beside it, and
// paying only once the member ticks that they read it. A verified proof keeps it primary. Phone width and axe too; the
// failing proof once more in Arabic (right to left).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { toHex } from "viem";
import { ANVIL_KEYS, ARTIFACTS, Api, BASE, SETTLEMENT_ABI, USDT, chain, freshKey, openBrowser, registerDirectly, signInThroughPage, test, until } from "./lib/stack.mjs";
import { assertAccessible } from "./lib/page-checks.mjs";

const PARTS = ["pending", "batched", "held", "reserved", "claimable"];
/** The build's maximum age of a commitment on the devnet (deployments/devnet-anvil.json). */
const MAX_AGE = 240;

async function served(assetId) {
  const r = await Api.raw("GET", "/v1/public/solvency");
  return r.body.assets.find((a) => a.asset_id === assetId);
}

let subject = null;
/** A fresh USDT sponsor with one referral (a pending reward), once an epoch holding both is recorded by the server. */
function withBalance() {
  subject ??= (async () => {
    const genesis = await Api.signIn(ANVIL_KEYS[0]);
    const key = await freshKey();
    const api = await registerDirectly(key, genesis.address, USDT);
    const referral = await registerDirectly(await freshKey(), api.address, USDT);
    const joined = (await referral.standing(USDT)).registered_block;
    const asset = await served(USDT);
    await until("an epoch of USDT that holds the new sponsor's reward, recorded by the server", async () => {
      const [, , epoch, asOfBlock] = await chain.readContract({ address: asset.contract_hex, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [asset.token_hex] });
      const latest = (await served(USDT)).latest;
      return asOfBlock >= BigInt(joined) && latest && BigInt(latest.epoch) >= epoch;
    }, { timeout: 180_000 });
    return { key, api, asset };
  })();
  return subject;
}

/** A browser signed in as `key`; `proof` changes the proof route in flight, `wallet(w)` what the wallet answers. */
async function signedIn(key, { proof, wallet, locale } = {}) {
  const b = await openBrowser({ key });
  if (wallet) wallet(b.wallet);
  if (locale) await b.page.addInitScript((l) => localStorage.setItem("referral.locale", l), locale);
  if (proof) await b.page.route((url) => url.pathname === "/v1/users/solvency-proof", proof);
  await b.page.goto(BASE + "/");
  await signInThroughPage(b.page);
  return b;
}

/** The USDT card's badge once its check has settled. */
async function settledBadge(page) {
  const badge = page.getByTestId("asset-USDT").getByTestId("solvency-check");
  await until("the USDT check settled", async () => {
    const state = (await badge.count()) ? await badge.getAttribute("data-state") : null;
    return state && state !== "checking" && state;
  }, { timeout: 150_000 });
  return badge;
}

/**
 * axe's serious and critical findings in `selectors` only (page-checks.mjs' `assertAccessible` takes the whole page):
 * for the Arabic page, whose other parts are not all translated yet (the dashboard's copy button keeps an English label).
 */
async function assertAccessibleIn(page, selectors, what) {
  const axe = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(`${axe}\n;0`);
  const violations = await page.evaluate(async (include) => {
    const r = await window.axe.run({ include }, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({ id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  }, selectors);
  assert.deepEqual(violations, [], `${what}: axe found ${JSON.stringify(violations)}`);
}

/** Nothing wider than the screen. */
async function fits(page, what) {
  const [scroll, inner] = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= inner, `${what}: the page is ${scroll} px wide on a ${inner} px screen`);
}

/** The leaf's parts shown in the badge ({part: base}) and the value they add up to. */
async function leafParts(badge) {
  const parts = await badge.getByTestId("solvency-part").evaluateAll((els) => els.map((e) => [e.dataset.part, e.dataset.base]));
  const value = await badge.getByTestId("solvency-parts-value").getAttribute("data-base");
  return { parts: Object.fromEntries(parts), value };
}

/** Asserts the parts are the tiles' figures: each shown part equals its tile, every tile not shown is 0, and they sum to the leaf. */
async function assertPartsAreTiles(page, badge) {
  const card = page.getByTestId("asset-USDT");
  await until("the badge compared its figures with the tiles", async () => (await badge.getByTestId("solvency-parts").getAttribute("data-tiles")) !== "unknown");
  assert.equal(await badge.getByTestId("solvency-parts").getAttribute("data-tiles"), "same", await badge.innerText());
  const { parts, value } = await leafParts(badge);
  assert.equal(value, await badge.getAttribute("data-value"), "the sentence's value is the leaf's");
  let sum = 0n;
  for (const k of PARTS) {
    const tile = await card.getByTestId(`bal-${k}`).getAttribute("data-base");
    sum += BigInt(tile);
    if (k in parts) assert.equal(parts[k], tile, `${k}: the badge's figure is the tile's`);
    else assert.equal(tile, "0", `${k}: a tile the sum leaves out is 0`);
  }
  assert.equal(sum.toString(), value, "the leaf is the sum of the tiles");
  assert.ok(Object.keys(parts).length > 0 && BigInt(value) > 0n, "a sponsor with a reward");
  assert.match(await badge.getByTestId("solvency-tiles").innerText(), /^These are your balances of block [\d,]+: the same as the figures above show now\.$/);
  return { parts, value };
}

/** Asserts the four pieces of advice, the exit link and the download button. */
async function assertAdvice(badge, verdict, asset) {
  const advice = badge.getByTestId("solvency-advice");
  assert.equal(await advice.getAttribute("data-verdict"), verdict);
  const items = await advice.locator("li").evaluateAll((els) => els.map((e) => e.dataset.advice));
  assert.deepEqual(items, ["wait", "withhold", "download", "exit"]);
  assert.match(await advice.locator("[data-advice=withhold]").innerText(), /^Withhold new payments into USDT until the proof passes again/);
  assert.match(await advice.locator("[data-advice=download]").innerText(), /^Download your proof file and keep it/);
  assert.equal(await advice.getByTestId("advice-exit-link").getAttribute("href"), "/exit.html");
  // When the exit opens is the contract's own clock, read through the wallet.
  await until("the exit's clock read through the wallet", async () => (await advice.getAttribute("data-exit-opens-at")) !== null);
  const opensAt = await chain.readContract({ address: asset.contract_hex, abi: SETTLEMENT_ABI, functionName: "exitOpensAt", args: [asset.token_hex] });
  // The operator commits again meanwhile (every ~60 blocks): the page's reading is at most the chain's latest.
  assert.ok(BigInt(await advice.getAttribute("data-exit-opens-at")) <= opensAt);
  assert.match(
    await advice.locator("[data-advice=exit]").innerText(),
    /^If the operator commits no new proof of USDT before .+ \(in .+\), anyone may open the members' exit, which pays you what your proof file says from the contract alone, without the operator: the members' exit page \(download the page\)\.$/,
  );
  assert.ok((await badge.getByTestId("solvency-download").count()) >= 1, "the proof file downloads from the badge");
}

/** The retopup: not primary, the notice beside it, and enabled only once the member ticks that they read it. */
async function assertPayStepsBack(page, verdict) {
  const retopup = page.getByTestId("asset-USDT").getByTestId("retopup");
  const button = retopup.getByTestId("pay-retopup");
  await until("the retopup steps back", async () => (await retopup.getByTestId("pay-solvency-notice").count()) === 1);
  const notice = retopup.getByTestId("pay-solvency-notice");
  assert.equal(await notice.getAttribute("data-verdict"), verdict);
  assert.match(
    await notice.innerText(),
    new RegExp(`^The proof of solvency of USDT ${verdict === "stale" ? "is out of date" : "failed"}: we advise you to withhold new payments until it passes again\\.`),
  );
  assert.ok(!(await button.getAttribute("class") ?? "").includes("primary"), "the retopup is not the primary action");
  assert.equal(await button.getAttribute("aria-describedby"), await notice.getAttribute("id"));
  assert.ok(await button.isDisabled(), "not before the member says they read it");
  await retopup.getByTestId("pay-solvency-confirm").check();
  assert.ok(await button.isEnabled(), "the member may still pay");
  assert.ok(!(await button.getAttribute("class") ?? "").includes("primary"));
  // "See the check" takes the member to the badge.
  await notice.getByTestId("pay-solvency-why").click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "solvency-badge-2");
}

test("verified: one sentence, the leaf as the sum of the tiles, the details folded; the retopup stays primary", async () => {
  const s = await withBalance();
  const b = await signedIn(s.key);
  const { page } = b;
  const badge = await settledBadge(page);
  assert.equal(await badge.getAttribute("data-verdict"), "verified", await badge.innerText());
  const sentence = await badge.getByTestId("solvency-sentence").innerText();
  assert.match(
    sentence,
    /^✓ Checked through your own wallet: your [\d.,]+ USDT is counted in what the operator declared on the chain that it owes its members, and the contract held enough USDT to pay them all\.$/,
  );
  const { value } = await assertPartsAreTiles(page, badge);
  assert.match(await badge.getByTestId("solvency-parts").locator("p").first().innerText(), /^Your [\d.,]+ USDT in this proof = [\d.,]+ USDT pending( \+ [\d.,]+ USDT (in a payout batch|held|reserved|claimable))*\.$/);
  assert.equal(await badge.getByTestId("solvency-sentence").locator(".amount").getAttribute("data-base"), value);
  // No hash, base units or 2^128 before the folded details; they are in them.
  const experts = badge.getByTestId("solvency-experts");
  assert.equal(await experts.evaluate((d) => d.open), false);
  const visible = await badge.innerText();
  assert.ok(!/0x[0-9a-f]{8}|2\^128|base units/.test(visible), `nothing technical before the details: ${visible}`);
  await experts.locator(":scope > summary").click();
  await experts.getByTestId("solvency-facts").waitFor();
  assert.equal(await badge.getByTestId("solvency-advice").count(), 0, "no advice needed");
  // The retopup stays the primary action, without a notice.
  const retopup = page.getByTestId("asset-USDT").getByTestId("retopup");
  assert.match(await retopup.getByTestId("pay-retopup").getAttribute("class"), /\bprimary\b/);
  assert.equal(await retopup.getByTestId("pay-solvency-notice").count(), 0);
  await assertAccessible(page, "the verified badge");
  await b.screenshot("29-verified");
  await badge.screenshot({ path: `${ARTIFACTS}29-verified-badge.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await fits(page, "the verified badge at 390 px");
  await b.close();
});

test("stale: how old, what it means and what to do (wait, withhold, download, the exit); the retopup steps back", async () => {
  const s = await withBalance();
  // The wallet's head as if no commitment had come for the build's maximum and one block more.
  const ahead = BigInt(MAX_AGE + 1);
  const b = await signedIn(s.key, {
    wallet: (w) => {
      const real = w.rpc.bind(w);
      w.rpc = async (method, params) => {
        const answer = await real(method, params);
        return method === "eth_blockNumber" ? toHex(BigInt(answer) + ahead) : answer;
      };
    },
  });
  const { page } = b;
  const badge = await settledBadge(page);
  assert.equal(await badge.getAttribute("data-verdict"), "stale", await badge.innerText());
  const banner = badge.getByTestId("solvency-failed");
  assert.match(await banner.getAttribute("class"), /\bwarn\b/, "amber, not red: nothing is known to be missing");
  const age = await badge.getAttribute("data-age");
  assert.equal(
    await badge.getByTestId("solvency-sentence").innerText(),
    `⚠ Out of date: the latest proof of USDT holds balances ${Number(age).toLocaleString("en-US")} blocks old, more than the ${MAX_AGE} a proof may be, so it no longer shows that the contract holds what members are owed now.`,
  );
  await badge.getByTestId("solvency-age").waitFor();
  assert.match(await badge.getByTestId("solvency-age").innerText(), /^The operator's latest proof was committed .+ ago \(.+\)\.$/);
  // The balances are still the member's leaf in the chain's root: the sum of the tiles.
  await assertPartsAreTiles(page, badge);
  await assertAdvice(badge, "stale", s.asset);
  assert.match(await badge.getByTestId("solvency-advice").locator("[data-advice=wait]").innerText(), /^Wait: the operator commits a new proof regularly/);
  await assertPayStepsBack(page, "stale");
  await assertAccessible(page, "the stale badge and the stepped-back retopup");
  await b.screenshot("29-stale");
  // The badge and the retopup beside it, close up.
  await badge.screenshot({ path: `${ARTIFACTS}29-stale-badge.png` });
  await page.getByTestId("asset-USDT").getByTestId("retopup").screenshot({ path: `${ARTIFACTS}29-stale-retopup.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await fits(page, "the stale badge at 390 px");
  await b.screenshot("29-stale-390");
  await b.close();
});

/** The proof route with the member's pending balance lowered by one base unit: it no longer folds to the chain's root. */
const lowered = async (route) => {
  const response = await route.fetch();
  const json = await response.json();
  if (response.status() === 200 && json.asset_id === USDT) json.balances.pending = (BigInt(json.balances.pending) - 1n).toString();
  await route.fulfill({ response, json });
};

test("failed: what did not match in plain words, what to do, the retopup steps back; in Arabic too, at 390 px", async () => {
  const s = await withBalance();
  const b = await signedIn(s.key, { proof: lowered });
  const { page } = b;
  const badge = await settledBadge(page);
  assert.equal(await badge.getAttribute("data-verdict"), "failed", await badge.innerText());
  assert.equal(await badge.getAttribute("data-check"), "root");
  assert.equal(await badge.getByTestId("solvency-failed").getAttribute("role"), "alert");
  assert.equal(
    await badge.getByTestId("solvency-sentence").innerText(),
    "✗ The check failed: your balance in the proof is not the one the operator committed on the chain. Until it passes, nothing shows that the contract holds what you are owed.",
  );
  // The server's figures are not the chain's: no sum of them is offered as the member's balance.
  assert.equal(await badge.getByTestId("solvency-parts").count(), 0);
  await assertAdvice(badge, "failed", s.asset);
  assert.match(await badge.getByTestId("solvency-advice").locator("[data-advice=wait]").innerText(), /^Check again in a few minutes/);
  // The technical headline is in the folded details.
  assert.equal(await badge.getByTestId("solvency-failed-title").textContent(), "Your balance is not in the root committed on the chain");
  await assertPayStepsBack(page, "failed");
  await assertAccessible(page, "the failed badge and the stepped-back retopup");
  await b.screenshot("29-failed");
  await b.close();

  // The same in Arabic, right to left, on a phone.
  const ar = await signedIn(s.key, { proof: lowered, locale: "ar" });
  await ar.page.setViewportSize({ width: 390, height: 844 });
  const red = await settledBadge(ar.page);
  assert.equal(await ar.page.evaluate(() => document.documentElement.dir), "rtl");
  assert.match(await red.getByTestId("solvency-sentence").innerText(), /^✗ فشل التحقق: رصيدك في الإثبات ليس الرصيد الذي سجّله المشغّل على السلسلة\./);
  assert.match(await red.getByTestId("solvency-advice").innerText(), /ما يمكنك فعله/);
  const notice = ar.page.getByTestId("asset-USDT").getByTestId("pay-solvency-notice");
  await notice.waitFor();
  assert.match(await notice.innerText(), /^فشل إثبات الملاءة لـ USDT/);
  await fits(ar.page, "the failed badge in Arabic at 390 px");
  await assertAccessibleIn(ar.page, ["[data-testid=asset-USDT] [data-testid=solvency-check]", "[data-testid=asset-USDT] [data-testid=retopup]"], "the failed badge and the retopup in Arabic");
  await ar.screenshot("29-failed-ar-390");
  await red.screenshot({ path: `${ARTIFACTS}29-failed-ar-390-badge.png` });
  await ar.close();
});
