// The admin console: a user is refused (and so is the API); the admin builds a payout batch, signs and
// submits it, and sees it executed, with every recipient's balance on-chain grown by its entry; the other
// tabs show what the API says.
import assert from "node:assert/strict";
import { ANVIL_KEYS, Api, BASE, BNB, CHAIN, chain, freshKey, openBrowser, registerDirectly, signInThroughPage, test, until } from "./lib/stack.mjs";

test("a user opening /admin is refused, and so is the admin API", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  const refusal = page.getByTestId("not-admin");
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /This wallet is not an admin/);
  assert.equal(await page.getByTestId("role").innerText(), "user");
  assert.equal(await page.getByTestId("tab-payouts").count(), 0, "no console for a user");
  await b.screenshot("04-admin-refused");
  const user = await Api.signIn(key);
  const r = await Api.raw("GET", "/v1/admin/payouts/pending?asset_id=1", undefined, user.token);
  assert.equal(r.status, 403);
  await b.close();
});

test("admin: build, sign and submit a payout batch until executed, balances checked on-chain", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  // Something to pay: a fresh user registered under genesis gives genesis a direct reward or a pool entry,
  // and one under that user gives it a direct reward.
  const first = await freshKey();
  const firstApi = await registerDirectly(first, admin.address, BNB);
  await registerDirectly(await freshKey(), firstApi.address, BNB);
  const pending = await admin.get("/v1/admin/payouts/pending?asset_id=1&limit=100");
  assert.ok(pending.totals.users >= 1);

  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  assert.equal(await page.getByTestId("role").innerText(), "admin");
  const totals = page.getByTestId("pending-totals");
  await until("pending totals equal to the API", async () => (await totals.getByTestId("pending-total").getAttribute("data-base")) === pending.totals.amount.base);
  assert.match(await totals.innerText(), new RegExp(`^${pending.totals.users} users, ${pending.totals.rewards} rewards`));
  await b.screenshot("04-admin-payouts");

  // Build: at most 3 users; the confirmation says what will change.
  await page.getByTestId("max-entries").fill("3");
  await page.getByTestId("build-batch").click();
  const dialog = page.locator("dialog.confirm");
  assert.match(await dialog.innerText(), /Takes the pending rewards of up to 3 users/);
  await dialog.getByTestId("confirm-ok").click();
  const detail = page.getByTestId("batch-detail");
  await detail.waitFor();
  assert.equal(await detail.getByTestId("batch-status").innerText(), "building");
  const id = Number((await detail.locator("h3").innerText()).match(/Batch #(\d+)/)[1]);
  const built = await admin.get(`/v1/admin/payouts/batches/${id}`);
  assert.equal(built.entries.length, Math.min(3, pending.totals.users));
  assert.equal(await detail.getByTestId("batch-total").getAttribute("data-base"), built.total.base);
  assert.equal(await detail.getByTestId("batch-entry").count(), built.entries.length);

  await detail.getByTestId("batch-sign").click();
  await dialog.getByTestId("confirm-ok").click();
  await until("the batch signed", async () => (await detail.getByTestId("batch-status").innerText()) === "signed");
  const signed = await admin.get(`/v1/admin/payouts/batches/${id}`);
  assert.equal(await detail.getByTestId("batch-nonce").getAttribute("data-nonce"), signed.nonce);

  const heldBefore = Object.fromEntries(
    await Promise.all(built.entries.map(async (e) => [e.address, await chain.getBalance({ address: e.address })])),
  );
  await detail.getByTestId("batch-submit").click();
  assert.match(await dialog.innerText(), /Sends the signed batch on chain 31337/);
  await dialog.getByTestId("confirm-ok").click();
  await page.getByTestId("send-result").waitFor({ timeout: 60_000 });
  await until("the batch executed", async () => (await detail.getByTestId("batch-status").innerText()) === "executed", { timeout: 120_000 });
  await b.screenshot("04-admin-batch-executed");

  const executed = await admin.get(`/v1/admin/payouts/batches/${id}`);
  assert.equal(executed.status, "executed");
  assert.equal(await detail.getByTestId("batch-block").innerText(), String(executed.executed_block));
  const receipt = await chain.getTransactionReceipt({ hash: executed.tx_hash });
  assert.equal(Number(receipt.blockNumber), executed.executed_block);
  const gas = receipt.gasUsed * receipt.effectiveGasPrice;
  for (const e of executed.entries) {
    assert.equal(e.outcome, "paid");
    const now = await chain.getBalance({ address: e.address });
    // The operator (genesis) paid the gas of the batch transaction.
    const paidGas = e.address.toLowerCase() === CHAIN.admin.toLowerCase() ? gas : 0n;
    assert.equal(now - heldBefore[e.address] + paidGas, BigInt(e.amount.base), `${e.address} received its entry`);
  }
  const outcomes = await detail.getByTestId("entry-outcome").allInnerTexts();
  assert.deepEqual(outcomes, executed.entries.map(() => "paid"));
  await b.close();
});

test("admin tabs: treasury, monitoring with charts, users, plan and audit show what the API says", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);

  await page.getByTestId("tab-treasury").click();
  const t = await admin.get("/v1/admin/treasury?asset_id=1");
  const summary = page.getByTestId("treasury-summary");
  await summary.waitFor();
  assert.equal(await summary.getByTestId("t-company").getAttribute("data-base"), t.company_total.base);
  assert.equal(await summary.getByTestId("t-available").getAttribute("data-base"), t.available.base);
  assert.equal(await summary.getByTestId("t-balance").getAttribute("data-base"), t.contract_balance.base);
  // A transfer of 1 BNB of company funds to the (allowlisted) admin: signed here, sent from the wallet.
  await page.getByTestId("transfer-to").fill(CHAIN.admin);
  await page.getByTestId("transfer-amount").fill("1");
  await page.getByTestId("transfer").click();
  assert.match(await page.locator("dialog.confirm").innerText(), /moving 1 BNB of company funds/);
  await page.locator("dialog.confirm").getByTestId("confirm-ok").click();
  const transferRow = page.getByTestId("transfer-row").first();
  await until("the signed transfer listed", async () => (await transferRow.getByTestId("transfer-status").innerText()).startsWith("signed"));
  await transferRow.getByTestId("transfer-send").click();
  await until("the transfer executed", async () => (await transferRow.getByTestId("transfer-status").innerText()).startsWith("executed"), { timeout: 90_000 });
  const transfer = (await admin.get("/v1/admin/treasury/transfers?asset_id=1&limit=1")).items[0];
  assert.equal(transfer.status, "executed");
  assert.equal(transfer.amount, (10n ** 18n).toString());
  assert.equal(await transferRow.getByTestId("transfer-block").innerText(), String(transfer.executed_block));
  const block = BigInt(transfer.executed_block);
  const custodyDelta =
    (await chain.getBalance({ address: CHAIN.settlement, blockNumber: block })) -
    (await chain.getBalance({ address: CHAIN.settlement, blockNumber: block - 1n }));
  assert.equal(custodyDelta, -(10n ** 18n), "exactly 1 BNB left custody");
  const after = await admin.get("/v1/admin/treasury?asset_id=1");
  assert.equal(BigInt(after.transferred.base) - BigInt(t.transferred.base), 10n ** 18n);
  await until("the summary shows the transfer", async () => (await summary.getByTestId("t-transferred").getAttribute("data-base")) === after.transferred.base);
  assert.match(await page.getByTestId("transfer-sending").innerText(), new RegExp(`Executed in block ${transfer.executed_block}`));
  await b.screenshot("04-admin-treasury");

  await page.getByTestId("tab-monitoring").click();
  const row = page.getByTestId("recon-BNB");
  await row.waitFor();
  // The page's run, as the API reports it.
  const runId = Number((await page.getByTestId("reconciliation").locator("h3").innerText()).match(/run #(\d+)/)[1]);
  const recon = await admin.get(`/v1/admin/monitoring/reconciliation?run_id=${runId}`);
  const bnb = recon.results.find((r) => r.token === "0x0000000000000000000000000000000000000000");
  assert.equal(await row.getByTestId("recon-onchain").getAttribute("data-base"), bnb.onchain_balance);
  assert.equal(await row.getByTestId("recon-expected").getAttribute("data-base"), bnb.expected_balance);
  assert.equal(bnb.variance, "0", "custody and ledger agree on the devnet");
  assert.equal(await row.getByTestId("recon-variance").innerText(), "none");
  assert.match(await row.getByTestId("recon-solvency").innerText(), /solvent/);
  await page.getByTestId("chart-BNB").locator("svg polyline").first().waitFor();
  assert.equal(await page.getByTestId("chart-liabilities").locator("rect").count(), recon.results.length);
  const listeners = await admin.get("/v1/admin/monitoring/listeners");
  assert.equal(await page.getByTestId("listener-row").count(), listeners.items.length);
  assert.equal(await page.getByTestId("listener-state").first().innerText(), listeners.items[0].halted_reason ? `halted: ${listeners.items[0].halted_reason}` : "running");
  // A reconcile request runs and reports done.
  await page.getByTestId("reconcile").click();
  await page.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the reconcile request done", async () => (await page.getByTestId("ops-status").innerText()) === "done", { timeout: 60_000 });
  await b.screenshot("04-admin-monitoring");

  await page.getByTestId("tab-plan").click();
  const versions = await admin.get("/v1/admin/plan?asset_id=1");
  await page.getByTestId("plan-version").first().waitFor();
  assert.equal(await page.getByTestId("plan-version").count(), versions.versions.length);
  // The form refuses what the API would: a direct reward above the fee.
  await page.getByTestId("plan-direct_amount").fill("25");
  assert.match(await page.getByTestId("plan-error-direct_amount").innerText(), /cannot exceed the registration fee/);
  assert.equal(await page.getByTestId("plan-create").isDisabled(), true);
  await page.getByTestId("plan-layer_bps").fill("5000, 5000, 1");
  assert.match(await page.getByTestId("plan-error-layer_bps").innerText(), /at most 10000/);
  await b.screenshot("04-admin-plan");

  await page.getByTestId("tab-users").click();
  await page.getByTestId("freeze-panel").waitFor();
  await b.screenshot("04-admin-users");

  await page.getByTestId("tab-audit").click();
  const audit = await admin.get("/v1/admin/audit?limit=20");
  await page.getByTestId("audit-row").first().waitFor();
  assert.deepEqual(await page.getByTestId("audit-action").allInnerTexts(), audit.items.map((i) => i.action));
  await b.screenshot("04-admin-audit");
  await b.close();
});

test("admin actions ask first: filter, build and cancel, freeze and unfreeze, placement, plan version, replay", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const userKey = await freshKey();
  const user = await registerDirectly(userKey, admin.address, BNB);
  const underUser = await registerDirectly(await freshKey(), user.address, BNB); // the user's direct reward
  assert.ok(underUser);
  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  const dialog = page.locator("dialog.confirm");

  // Pending, filtered to one user, equals the API's answer for that filter.
  const pending = page.getByTestId("pending");
  await pending.getByTestId("pending-total").waitFor();
  await pending.getByPlaceholder("0x…").fill(user.address);
  await pending.getByRole("button", { name: "Filter" }).click();
  const filtered = await admin.get(`/v1/admin/payouts/pending?asset_id=1&user=${user.address}`);
  assert.equal(filtered.totals.users, 1);
  await until("the filtered totals", async () => (await pending.getByTestId("pending-total").getAttribute("data-base")) === filtered.totals.amount.base);
  assert.equal(await pending.getByTestId("pending-row").count(), 1);

  // A batch that was never signed is cancelled at once, and its rewards are pending again.
  const allBefore = await admin.get("/v1/admin/payouts/pending?asset_id=1");
  await pending.getByTestId("max-entries").fill("1");
  await pending.getByTestId("build-batch").click();
  await dialog.getByTestId("confirm-ok").click();
  const detail = page.getByTestId("batch-detail");
  await until("a new batch", async () => (await detail.getByTestId("batch-status").innerText()) === "building");
  const whileBatched = await admin.get("/v1/admin/payouts/pending?asset_id=1");
  assert.ok(BigInt(whileBatched.totals.amount.base) < BigInt(allBefore.totals.amount.base), "the batch took rewards");
  await detail.getByTestId("batch-cancel").click();
  assert.match(await dialog.innerText(), /become pending again/);
  await dialog.getByTestId("confirm-ok").click();
  await until("the batch cancelled", async () => (await detail.getByTestId("batch-status").innerText()) === "cancelled");
  const restored = await admin.get("/v1/admin/payouts/pending?asset_id=1");
  assert.equal(restored.totals.amount.base, allBefore.totals.amount.base);

  // Freeze and unfreeze, each confirmed, each visible through the API.
  await page.getByTestId("tab-users").click();
  await page.getByTestId("freeze-address").fill(user.address);
  await page.getByTestId("freeze").click();
  assert.match(await dialog.innerText(), /are held instead of payable/);
  await dialog.getByTestId("confirm-ok").click();
  await page.getByTestId("freeze-result").waitFor();
  assert.match(await page.getByTestId("freeze-result").innerText(), /is now frozen in asset 1/);
  assert.equal((await user.standing(BNB)).status, "frozen");
  await page.getByTestId("unfreeze").click();
  await dialog.getByTestId("confirm-ok").click();
  await until("unfrozen", async () => /is now active/.test(await page.getByTestId("freeze-result").innerText()));
  assert.equal((await user.standing(BNB)).status, "active");

  // A manual placement at level 1, priced and audited.
  await page.getByTestId("placement-panel").getByPlaceholder("0x…").fill(user.address);
  await page.getByTestId("place").click();
  assert.match(await dialog.innerText(), /A new level-1 node .* paid from the company's share: 20 BNB/);
  await dialog.getByTestId("confirm-ok").click();
  await page.getByTestId("placement-result").waitFor();
  const nodes = await user.get(`/v1/pool/nodes?asset_id=1&level=1&owner=${user.address}`);
  assert.equal(nodes.items.length, 1);
  assert.match(await page.getByTestId("placement-result").innerText(), new RegExp(`Placed at level 1, position ${nodes.items[0].q} `));

  // A plan version with the same parameters from a later block (changes nothing the devnet reaches).
  await page.getByTestId("tab-plan").click();
  const versions = await admin.get("/v1/admin/plan?asset_id=1");
  await page.getByTestId("plan-version").first().waitFor();
  await page.getByTestId("plan-create").click();
  assert.match(await dialog.innerText(), /No parameter changes \(only the start block\)/);
  await dialog.getByTestId("confirm-ok").click();
  await until("the new version listed", async () => (await page.getByTestId("plan-version").count()) === versions.versions.length + 1);
  assert.equal((await admin.get("/v1/admin/plan?asset_id=1")).versions.length, versions.versions.length + 1);

  // A replay of the last confirmed blocks reports what the ledger already had.
  await page.getByTestId("tab-monitoring").click();
  const listener = (await admin.get("/v1/admin/monitoring/listeners")).items[0];
  await page.getByTestId("replay-from").fill(String(listener.confirmed_block - 20));
  await page.getByTestId("replay-to").fill(String(listener.confirmed_block));
  await page.getByTestId("replay").click();
  await dialog.getByTestId("confirm-ok").click();
  await until("the replay done", async () => (await page.getByTestId("ops-status").innerText()) === "done", { timeout: 60_000 });

  // Each of these is in the audit log, newest first.
  await page.getByTestId("tab-audit").click();
  await page.getByTestId("audit-row").first().waitFor();
  const actions = await page.getByTestId("audit-action").allInnerTexts();
  const audit = await admin.get("/v1/admin/audit?limit=20");
  assert.deepEqual(actions, audit.items.map((i) => i.action));
  await b.screenshot("04-admin-audit-after-actions");
  await b.close();
});
