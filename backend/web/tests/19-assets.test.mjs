// Assets from the console (issue 44): the admin lists the devnet's assets, checks a new one on the deployment's
// last spare test token (allowed on the contract, no asset yet) — the decimals read from the token —, is refused
// for an address that is no contract, creates it, and a second tab holding the same checked draft is refused with
// 409: one asset, whatever the clicks. The asset is then in the public plan and its genesis is user 0.
import assert from "node:assert/strict";
import { ANVIL_KEYS, Api, BASE, CHAIN, CHAIN_ID, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";

// The deployment's last spare token: the generation and binary assets take the first two.
const SPARE = CHAIN.spare_tokens[2];

/** Opens the console's Assets tab as the admin (anvil account 0), signed in. */
async function assetsTab(b) {
  await b.page.goto(BASE + "/admin#assets");
  await signInThroughPage(b.page);
  await b.page.getByTestId("new-asset").waitFor();
  return b.page;
}

/** Fills the form for the spare token (the admin's own wallet stays the genesis) and checks it. */
async function checkSpare(page) {
  await page.getByTestId("asset-chain_id").selectOption(String(CHAIN_ID));
  await page.getByTestId("asset-token").fill(SPARE);
  await page.getByTestId("asset-symbol").fill("SPARE");
  await page.getByTestId("asset-check").click();
  const checked = page.getByTestId("asset-checked");
  await checked.waitFor();
  return checked;
}

test("the admin creates an asset from the console: decimals from the token, once whatever the tabs", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const before = await admin.get("/v1/public/plan");
  assert.ok(!before.assets.some((a) => a.token.toLowerCase() === SPARE.toLowerCase()), "the spare token has no asset yet");

  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const page = await assetsTab(b);
  const rows = page.getByTestId("asset-row");
  await until("the devnet's assets listed", async () => (await rows.count()) >= 4);

  // No contract at the address: refused with the API's reason, nothing created.
  await page.getByTestId("asset-chain_id").selectOption(String(CHAIN_ID));
  await page.getByTestId("asset-token").fill("0x" + "42".repeat(20));
  await page.getByTestId("asset-check").click();
  const refused = page.getByTestId("asset-refused");
  await refused.waitFor();
  assert.match(await refused.innerText(), /no contract.*not_a_contract/s);
  assert.equal(await page.getByTestId("asset-create").isDisabled(), true, "nothing to create until a check passes");

  // The spare token: 6 decimals read from it, the auto-pool plan's defaults at 6 decimals.
  const checked = await checkSpare(page);
  assert.match(await checked.innerText(), /SPARE, 6 decimals \(read from the token\), auto_pool plan, registration fee 20 SPARE/);

  // A second tab checks the same draft before the first creates it.
  const second = await openBrowser({ key: ANVIL_KEYS[0] });
  const other = await assetsTab(second);
  await checkSpare(other);

  await page.getByTestId("asset-create").click();
  const dialog = page.locator("dialog.confirm");
  assert.match(await dialog.innerText(), /SPARE \(6 decimals\) on .*31337.*auto-pool plan/s);
  await dialog.getByTestId("confirm-ok").click();
  const created = page.getByTestId("asset-created");
  await created.waitFor();
  const id = Number((await created.innerText()).match(/Asset (\d+)/)[1]);
  const everyAsset = (p) => p.assets.length + p.generation.length + p.binary.length;
  await until("the new asset listed", async () => (await rows.count()) === everyAsset(await admin.get("/v1/public/plan")));
  await b.screenshot("19-assets-created");

  // The second tab's create: refused, the token has its asset.
  await other.getByTestId("asset-create").click();
  await other.locator("dialog.confirm").getByTestId("confirm-ok").click();
  const error = other.getByTestId("asset-create-error");
  await error.waitFor();
  assert.match(await error.innerText(), new RegExp(`is asset ${id} already`));

  const after = await admin.get("/v1/public/plan");
  const mine = after.assets.filter((a) => a.token.toLowerCase() === SPARE.toLowerCase());
  assert.equal(mine.length, 1, "one asset for the token");
  assert.deepEqual([mine[0].asset_id, mine[0].decimals, mine[0].symbol], [id, 6, "SPARE"]);
  const audit = await admin.get("/v1/admin/audit?limit=20");
  const entries = audit.items.filter((e) => e.action === "create_asset" && e.target === `asset ${id}`);
  assert.equal(entries.length, 1, "audited once");
  await b.close([/http 422 POST .*\/v1\/admin\/assets/]);
  await second.close([/http 409 POST .*\/v1\/admin\/assets/]);
});
