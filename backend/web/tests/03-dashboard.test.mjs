// The dashboard of a sponsor with two referrals (a direct reward, then a pool place): every figure equals the
// API's; then a retopup paid from the page up to applied, and a withdraw request.
import assert from "node:assert/strict";
import { ANVIL_KEYS, Api, BASE, BNB, freshKey, openBrowser, plans, registerDirectly, signInThroughPage, test, until } from "./lib/stack.mjs";
import { decodeQr } from "./lib/page-checks.mjs";

test("dashboard figures equal the API's; retopup and withdraw request from the page", async () => {
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  const sponsorKey = await freshKey();
  const sponsor = await registerDirectly(sponsorKey, genesis.address, BNB);
  const r1 = await registerDirectly(await freshKey(), sponsor.address, BNB);
  const r2 = await registerDirectly(await freshKey(), sponsor.address, BNB);
  const plan = (await plans()).find((p) => p.asset_id === BNB);

  const b = await openBrowser({ key: sponsorKey });
  const { page } = b;
  // Headless Chromium has no share sheet: this one records what the page hands it.
  await b.context.addInitScript(() => {
    navigator.share = async (data) => {
      window.__shared = data;
    };
  });
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const card = page.getByTestId("asset-BNB");
  await card.waitFor();
  const me = await sponsor.standing(BNB);
  for (const status of ["pending", "batched", "settled", "held", "reserved", "claimable"]) {
    assert.equal(await card.getByTestId(`bal-${status}`).getAttribute("data-base"), me.balances[status], status);
  }
  assert.equal(await card.getByTestId("bal-pending").innerText(), `${plan.direct_amount.human}`, "the first referral's direct reward");
  const link = `${BASE}/?ref=${sponsor.address}&asset=${BNB}`;
  assert.equal(await card.getByTestId("ref-link").innerText(), link);
  // Its QR code, opened by keyboard, scans (from its pixels) to the same link.
  await card.getByTestId("ref-qr-fold").locator("summary").focus();
  await page.keyboard.press("Enter");
  await card.getByTestId("ref-qr").waitFor();
  assert.equal(await decodeQr(page, card.getByTestId("ref-qr")), link);
  // Where the browser has a share sheet, the link goes to it.
  await card.getByTestId("ref-share-sheet").click();
  assert.equal(await page.evaluate(() => window.__shared?.url), link);

  // Direct referrals, in registration order.
  const referrals = card.getByTestId("referrals");
  await until("two referrals listed", async () => (await referrals.locator("tbody tr").count()) === 2);
  const shown = await referrals.locator("code[data-address]").evaluateAll((els) => els.map((e) => e.getAttribute("data-address")));
  assert.deepEqual(shown, [r1.address, r2.address]);

  // The second referral bought the sponsor a level-1 place; its matrix fill is the API's.
  const nodes = await sponsor.get(`/v1/pool/nodes?asset_id=${BNB}&level=1&owner=${sponsor.address}`);
  assert.equal(nodes.items.length, 1);
  const pool = card.getByTestId("pool-nodes");
  await pool.getByTestId("pool-node").first().waitFor();
  assert.equal(await pool.getByTestId("matrix-fill").first().innerText(), `${nodes.items[0].filled_slots}/14`);
  assert.match(await pool.getByTestId("level-1").innerText(), /Level 1: 1 open, 0 complete/);

  // The tree holds both referrals under the sponsor.
  const tree = await sponsor.get(`/v1/users/tree?asset_id=${BNB}&depth=3`);
  const treeAddresses = await card.getByTestId("tree").locator("code[data-address]").evaluateAll((els) => els.map((e) => e.getAttribute("data-address")));
  assert.deepEqual(treeAddresses, [tree.root.address, ...tree.nodes.map((n) => n.address)]);

  // History: the same rewards, amounts and statuses.
  const history = await sponsor.get(`/v1/users/history?asset_id=${BNB}&limit=10`);
  const rows = card.getByTestId("history").getByTestId("reward");
  assert.equal(await rows.count(), history.items.length);
  assert.equal(await rows.first().getByTestId("reward-amount").getAttribute("data-base"), history.items[0].amount.base);
  await b.screenshot("03-dashboard");

  // Retopup from the page, followed to applied.
  const retopup = card.getByTestId("retopup");
  await retopup.getByTestId("pay-retopup").click();
  await until("the retopup applied", async () => (await retopup.getByTestId("step-applied").getAttribute("data-state")) === "done", { timeout: 120_000 });
  const afterRetopup = await sponsor.standing(BNB);
  assert.equal(afterRetopup.retopups, 1);
  assert.equal(BigInt(afterRetopup.balances.paid_in) - BigInt(me.balances.paid_in), BigInt(plan.retopup_fee.base));
  await until("the dashboard shows the new paid-in figure", async () => (await card.getByTestId("bal-paid-in").getAttribute("data-base")) === afterRetopup.balances.paid_in);

  // Withdraw request for the pending balance.
  await card.getByTestId("withdraw-request").click();
  const answer = card.getByTestId("withdraw-answer");
  await answer.waitFor();
  const open = await genesis.get(`/v1/admin/withdrawals?asset_id=${BNB}&status=open`);
  const mine = open.items.find((w) => w.address === sponsor.address);
  assert.ok(mine, "the request is recorded");
  assert.match(await answer.innerText(), new RegExp(`Request #${mine.id} for ${plan.direct_amount.human.replace(".", "\\.")} is open`));
  // The request is listed as the API lists it, waiting for a batch, beside the asset's record of batches.
  const record = await sponsor.get(`/v1/users/withdrawals?asset_id=${BNB}`);
  assert.equal(record.items[0].id, mine.id);
  assert.equal(record.items[0].status, "open");
  assert.equal(record.items[0].batch ?? null, null);
  const row = card.getByTestId("withdraw-request-row").first();
  await until("the request listed", async () => (await row.count()) > 0 && (await row.innerText()).includes(`Request #${mine.id}`));
  assert.equal(await row.getAttribute("data-status"), "open");
  assert.match(await row.innerText(), /waiting for the next batch/);
  const cadence = await card.getByTestId("payout-cadence").innerText();
  const last = record.payouts.last_executed;
  if (last == null) assert.match(cadence, /No BNB payout batch has run yet/);
  else {
    assert.match(cadence, new RegExp(`^${record.payouts.executed_last_30_days} BNB payout batch(es)? ran in the last 30 days; the last, batch #${last.id}, executed`));
    if (last.tx_hash) assert.equal(await card.getByTestId("payout-cadence").getByTestId("batch-tx").getAttribute("data-tx"), last.tx_hash);
  }
  await b.screenshot("03-dashboard-after-retopup-withdraw");
  await b.close();
});

test("phone width: no sideways scrolling; keyboard alone connects the wallet", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key, viewport: { width: 390, height: 844 } });
  const { page } = b;
  await page.goto(BASE + "/");
  await page.getByTestId("disclosure").waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await b.screenshot("03-phone-home");
  // Tab past the skip link to the connect button, press Enter.
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press("Tab");
    if ((await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))) === "connect") break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "connect");
  await page.keyboard.press("Enter");
  await page.getByTestId("sign-in").waitFor();
  await page.getByTestId("sign-in").focus();
  await page.keyboard.press("Enter");
  await page.getByTestId("sign-out").waitFor();
  await page.goto(BASE + "/admin");
  await page.getByTestId("not-admin").waitFor();
  const adminOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(adminOverflow <= 0, `/admin is ${adminOverflow}px wider than the screen`);
  await b.close();
});
