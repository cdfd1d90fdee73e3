// The admin console: a user is refused (and so is the API); the admin builds a payout batch, signs and
// submits it, and sees it executed, with every recipient's balance on-chain grown by its entry, the limits the
// build applied and who it left out; the other tabs show what the API says. In test USDT the devnet signer's
// caps are small (10 a payout entry, 30 a rolling day): USDT is paid through the API until a build is refused
// for the daily cap, then the page shows that refusal and the rewards paid in part; and a build that finds
// nothing to pay because another build took every pending reward first.
import assert from "node:assert/strict";
import {
  ANVIL_KEYS,
  Api,
  BASE,
  BNB,
  approveWithStaff,
  assertOutOfScriptReach,
  CHAIN,
  CHAIN_ID,
  RPC,
  USDT,
  USDT_UNIT,
  chain,
  freshKey,
  newPendingReward,
  openBrowser,
  payUsdtUntilCapReached,
  refreshCookie,
  registerDirectly,
  signInThroughPage,
  signStaffTyped,
  test,
  until,
} from "./lib/stack.mjs";
import { TestWallet } from "./lib/wallet.mjs";
import { shownAs } from "./lib/dates.mjs";

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
  assert.equal(await page.getByTestId("role").innerText(), "staff");
  // The console keeps no token where page script can read it: the refresh token is the HttpOnly cookie, and a
  // reload gets a new access token through it.
  const cookie = await refreshCookie(b.context);
  assert.equal(cookie?.httpOnly, true);
  await assertOutOfScriptReach(page, [cookie.value]);
  await page.reload();
  await page.getByTestId("sign-out").waitFor();
  assert.equal(await page.getByTestId("role").innerText(), "staff");
  const totals = page.getByTestId("pending-totals");
  await until("pending totals equal to the API", async () => (await totals.getByTestId("pending-total").getAttribute("data-base")) === pending.totals.amount.base);
  assert.match(await totals.innerText(), new RegExp(`^${pending.totals.users} users, ${pending.totals.rewards} rewards`));
  await b.screenshot("04-admin-payouts");

  // Build: at most 3 users; the confirmation says what will change.
  await page.getByTestId("max-entries").fill("3");
  await page.getByTestId("build-batch").click();
  const dialog = page.locator("dialog.confirm");
  assert.match(await dialog.innerText(), /Takes the pending rewards of up to 3 users/);
  // The build's answer as the page received it (only it carries the limits applied), read, not replaced.
  const answer = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/v1/admin/payouts/batches");
  await dialog.getByTestId("confirm-ok").click();
  const answered = await (await answer).json();
  const detail = page.getByTestId("batch-detail");
  await detail.waitFor();
  assert.equal(await detail.getByTestId("batch-status").innerText(), "building");
  const id = Number((await detail.locator("h3").innerText()).match(/Batch #(\d+)/)[1]);
  const built = await admin.get(`/v1/admin/payouts/batches/${id}`);
  assert.equal(built.entries.length, Math.min(3, pending.totals.users));
  assert.equal(await detail.getByTestId("batch-total").getAttribute("data-base"), built.total.base);
  assert.equal(await detail.getByTestId("batch-entry").count(), built.entries.length);
  // The limits the build applied: the 3 asked for and the devnet signer's caps (scripts/devnet.sh: 1 000 BNB
  // per entry, 50 000 per batch, 100 000 a day).
  const limits = detail.getByTestId("build-limits");
  assert.equal(await limits.getByTestId("limit-entries").innerText(), "3");
  assert.equal(await limits.getByTestId("limit-entry").locator(".amount").getAttribute("data-base"), (1000n * 10n ** 18n).toString());
  assert.equal(await limits.getByTestId("limit-entry").innerText(), "1000 BNB");
  assert.equal(await limits.getByTestId("limit-total").locator(".amount").getAttribute("data-base"), (50_000n * 10n ** 18n).toString());
  assert.equal(await limits.getByTestId("limit-daily").locator(".amount").getAttribute("data-base"), (100_000n * 10n ** 18n).toString());
  // The rolling day as the signer reported it at this build: used, the room left, when it grows.
  assert.equal(answered.id, id);
  assert.equal(await limits.getByTestId("limit-used").locator(".amount").getAttribute("data-base"), answered.limits.daily_outflow_used.base);
  assert.equal(await limits.getByTestId("limit-room").locator(".amount").getAttribute("data-base"), answered.limits.daily_room.base);
  assert.equal(
    BigInt(answered.limits.daily_room.base),
    BigInt(answered.limits.daily_outflow_cap.base) - BigInt(answered.limits.daily_outflow_used.base),
  );
  const grows = answered.limits.daily_room_grows_at;
  assert.equal(
    await limits.getByTestId("limit-grows").innerText(),
    grows ? (await shownAs(page, [grows * 1000]))[0] : "no signed outflow in the window",
  );
  // Paid in part and left out, as the API says (users beyond the 3 are left out for max_entries).
  assert.equal(await detail.getByTestId("batch-partial").innerText(), String(built.partial_count));
  assert.equal(await detail.getByTestId("entry-partial").count(), built.partial_count);
  assert.equal(await detail.getByTestId("batch-left-out").innerText(), String(built.left_out_count));
  assert.equal(await detail.getByTestId("left-out-row").count(), built.left_out.length);
  if (built.left_out_count > 0) {
    const reasons = detail.getByTestId("left-out-reason");
    assert.deepEqual(await reasons.evaluateAll((els) => els.map((e) => e.dataset.reason)), built.left_out_by_reason.map((r) => r.reason));
    const full = built.left_out_by_reason.find((r) => r.reason === "max_entries");
    assert.ok(full, "users beyond the 3 are left out for the entry limit");
    assert.match(await reasons.filter({ hasText: "batch full" }).innerText(), new RegExp(`: ${full.users} users?, ${full.owed.human} owed`));
    const row = page.getByTestId("batch-row").first();
    await until("the batch list shows the left-out count", async () => (await row.getByTestId("batch-row-limits").innerText()).includes(`${built.left_out_count} left out`));
  }

  // Two people for every payout: signed at once, the signer refuses it (the page says why); the admin proposes it here,
  // its wallet signing the proposal, and the devnet's approver approves it; then it is signed.
  await detail.getByTestId("batch-sign").click();
  await dialog.getByTestId("confirm-ok").click();
  const refusal = detail.getByTestId("batch-sign-error");
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /approval/i);
  assert.equal((await admin.get(`/v1/admin/payouts/batches/${id}`)).status, "building");
  await detail.getByTestId("batch-propose").click();
  await dialog.getByTestId("confirm-ok").click();
  const proposal = detail.getByTestId("batch-proposed");
  await proposal.waitFor();
  const auth = Number((await proposal.innerText()).match(/Proposal #(\d+)/)[1]);
  await approveWithStaff(await admin.get(`/v1/admin/authorisations/${auth}`));
  await detail.getByTestId("batch-sign").click();
  await dialog.getByTestId("confirm-ok").click();
  await until("the batch signed", async () => (await detail.getByTestId("batch-status").innerText()) === "signed");
  const signed = await admin.get(`/v1/admin/payouts/batches/${id}`);
  assert.equal(await detail.getByTestId("batch-nonce").getAttribute("data-nonce"), signed.nonce);

  // Balances at a block read now; the operator (genesis) also sends the solvency worker's commitments, so its
  // gas from here to the batch's block is counted transaction by transaction below.
  const before = await chain.getBlockNumber();
  const heldBefore = Object.fromEntries(
    await Promise.all(built.entries.map(async (e) => [e.address, await chain.getBalance({ address: e.address, blockNumber: before })])),
  );
  await detail.getByTestId("batch-submit").click();
  assert.match(await dialog.innerText(), /Sends the signed batch on Devnet \(anvil\) \(chain 31337\)/);
  await dialog.getByTestId("confirm-ok").click();
  await page.getByTestId("send-result").waitFor({ timeout: 60_000 });
  await until("the batch executed", async () => (await detail.getByTestId("batch-status").innerText()) === "executed", { timeout: 120_000 });
  await b.screenshot("04-admin-batch-executed");

  const executed = await admin.get(`/v1/admin/payouts/batches/${id}`);
  assert.equal(executed.status, "executed");
  assert.equal(await detail.getByTestId("batch-block").innerText(), String(executed.executed_block));
  const receipt = await chain.getTransactionReceipt({ hash: executed.tx_hash });
  assert.equal(Number(receipt.blockNumber), executed.executed_block);
  // Every fee the operator paid after `before` up to the batch's block: the batch's own and any commitment's.
  let gas = 0n;
  for (let n = before + 1n; n <= receipt.blockNumber; n++) {
    const block = await chain.getBlock({ blockNumber: n, includeTransactions: true });
    for (const tx of block.transactions.filter((t) => t.from.toLowerCase() === CHAIN.admin.toLowerCase())) {
      const r = await chain.getTransactionReceipt({ hash: tx.hash });
      gas += r.gasUsed * r.effectiveGasPrice;
    }
  }
  assert.ok(gas >= receipt.gasUsed * receipt.effectiveGasPrice, "the batch's own fee is among the operator's");
  for (const e of executed.entries) {
    assert.equal(e.outcome, "paid");
    const now = await chain.getBalance({ address: e.address, blockNumber: receipt.blockNumber });
    const paidGas = e.address.toLowerCase() === CHAIN.admin.toLowerCase() ? gas : 0n;
    assert.equal(now - heldBefore[e.address] + paidGas, BigInt(e.amount.base), `${e.address} received its entry`);
  }
  const outcomes = await detail.getByTestId("entry-outcome").allInnerTexts();
  assert.deepEqual(outcomes, executed.entries.map(() => "paid"));
  // The one-step signing refused above is the one error the page saw.
  await b.close([/^http 409 POST .*\/v1\/admin\/payouts\/batches\/\d+\/sign$/]);
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
  // A transfer of 1 BNB of company funds to the (allowlisted) admin: proposed here, approved by the devnet's two
  // approvers (a treasury transfer needs two there) and signed, then sent from the wallet.
  // (The newest transfer before this one: the proposal is the one after it, whatever earlier runs left proposed.)
  const newestBefore = (await admin.get("/v1/admin/treasury/transfers?asset_id=1&limit=1")).items[0]?.id ?? 0;
  await page.getByTestId("transfer-to").fill(CHAIN.admin);
  await page.getByTestId("transfer-amount").fill("1");
  await page.getByTestId("transfer-propose").click();
  assert.match(await page.locator("dialog.confirm").innerText(), /moving 1 BNB of company funds/);
  await page.locator("dialog.confirm").getByTestId("confirm-ok").click();
  let proposedTransfer;
  await until("the proposal recorded", async () => {
    proposedTransfer = (await admin.get("/v1/admin/treasury/transfers?asset_id=1&limit=1")).items[0];
    return proposedTransfer && proposedTransfer.id > newestBefore;
  });
  const transferRow = page.getByTestId("transfer-row").first();
  await until("the proposed transfer listed", async () => (await transferRow.innerText()).startsWith(String(proposedTransfer.id)) && (await transferRow.getByTestId("transfer-status").innerText()).startsWith("proposed"));
  let proposal = await admin.get(`/v1/admin/authorisations/${proposedTransfer.authorisation_id}`);
  const signature = await signStaffTyped(ANVIL_KEYS[0], proposal.typed_data.propose);
  proposal = await admin.post(`/v1/admin/authorisations/${proposal.id}/signatures`, { action: "propose", signature });
  assert.equal(proposal.approvals_required, 2, "a treasury transfer needs two approvals on the devnet");
  await approveWithStaff(proposal);
  await admin.post(`/v1/admin/authorisations/${proposal.id}/sign`, {});
  await page.reload();
  await page.getByTestId("tab-treasury").click();
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
  // The start block: the form offers the API's first allowed block (after the confirmed head) and refuses a block
  // the chain has already confirmed (issue 43: "from block 302" was accepted with 364 applied).
  const offered = Number(await page.getByTestId("plan-first-allowed").getAttribute("data-block"));
  assert.ok(offered >= versions.first_allowed_block, `offers ${offered}, the API said ${versions.first_allowed_block}`);
  assert.ok(Number(await page.getByTestId("plan-from_block").inputValue()) > offered, "proposes a block after it");
  await page.getByTestId("plan-use-first-allowed").click();
  assert.equal(Number(await page.getByTestId("plan-from_block").inputValue()), offered);
  await page.getByTestId("plan-from_block").fill(String(offered - 1));
  assert.match(await page.getByTestId("plan-error-from_block").innerText(), new RegExp(`A block from ${offered} on`));
  await b.screenshot("04-admin-plan");

  await page.getByTestId("tab-users").click();
  await page.getByTestId("freeze-panel").waitFor();
  await b.screenshot("04-admin-users");

  // The console shows people's actions by default (the services' automatic ones on request), each in words with its
  // code kept for experts.
  await page.getByTestId("tab-audit").click();
  const audit = await admin.get("/v1/admin/audit?limit=20&by=staff");
  await page.getByTestId("audit-row").first().waitFor();
  const cells = page.getByTestId("audit-action");
  assert.deepEqual(await cells.evaluateAll((els) => els.map((e) => e.dataset.action)), audit.items.map((i) => i.action));
  for (const text of await cells.allInnerTexts()) assert.doesNotMatch(text, /_/, `an action in words, not a code: ${text}`);
  // The services' automatic actions on request; one action; one actor. Each read back from the API with the same
  // filter, and each row of the page is of that filter.
  await page.getByTestId("audit-by").selectOption("services");
  await until("the services' actions listed", async () => {
    const actors = await page.getByTestId("audit-row").locator("td:nth-child(3)").allInnerTexts();
    return actors.length > 0 && actors.every((a) => !/^0x[0-9a-fA-F]{40}$/.test(a));
  });
  const options = await page.getByTestId("audit-action-filter").locator("option").evaluateAll((els) => els.map((e) => e.value).filter(Boolean));
  const listed = (await admin.get("/v1/admin/audit/actions?by=services")).actions.map((a) => a.action);
  assert.deepEqual(options, listed);
  await page.getByTestId("audit-action-filter").selectOption(listed[0]);
  await until(`only ${listed[0]} listed`, async () => {
    const shown = await page.getByTestId("audit-action").evaluateAll((els) => els.map((e) => e.dataset.action));
    return shown.length > 0 && shown.every((a) => a === listed[0]);
  });
  await page.getByTestId("audit-actor").fill("Not A Wallet!");
  await page.getByTestId("audit-actor-invalid").waitFor();
  await page.getByTestId("audit-actor").fill("");
  await page.getByTestId("audit-by").selectOption("staff");
  await page.getByTestId("audit-action-filter").selectOption("");
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
  // One user taken, every other pending user left out for the entry limit, listed with what they are owed.
  assert.equal(await detail.getByTestId("build-limits").getByTestId("limit-entries").innerText(), "1");
  const oneId = Number((await detail.locator("h3").innerText()).match(/Batch #(\d+)/)[1]);
  const one = await admin.get(`/v1/admin/payouts/batches/${oneId}`);
  assert.equal(one.entries.length, 1);
  assert.equal(one.left_out_count, allBefore.totals.users - 1);
  assert.equal(await detail.getByTestId("batch-left-out").innerText(), String(one.left_out_count));
  assert.equal(await detail.getByTestId("left-out-row").count(), one.left_out.length);
  if (one.left_out_count > 0) {
    const first = detail.getByTestId("left-out-row").first();
    assert.equal(await first.locator("code[data-address]").getAttribute("data-address"), one.left_out[0].address);
    assert.equal(await first.locator(".amount").getAttribute("data-base"), one.left_out[0].owed.base);
    assert.match(await first.innerText(), /batch full/);
  }
  await b.screenshot("04-admin-batch-left-out");
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
  assert.ok(await page.getByTestId("freeze").isDisabled(), "no freeze without a reason");
  await page.getByTestId("freeze-reason").fill("support ticket 4711");
  await page.getByTestId("freeze").click();
  assert.match(await dialog.innerText(), /are held instead of payable/);
  assert.match(await dialog.innerText(), /support ticket 4711/);
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
  const actions = await page.getByTestId("audit-action").evaluateAll((els) => els.map((e) => e.dataset.action));
  const audit = await admin.get("/v1/admin/audit?limit=20&by=staff");
  assert.deepEqual(actions, audit.items.map((i) => i.action));
  await b.screenshot("04-admin-audit-after-actions");
  await b.close();
});

/** The page's "in about 1 h 30 min" for a Retry-After in seconds. */
function about(secs) {
  if (secs < 60) return `${secs} s`;
  const m = Math.ceil(secs / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ""}`;
}
const LIMITED_BY = {
  per_entry_cap: "the signer's per-entry cap",
  batch_total: "the batch's total cap",
  daily_outflow_cap: "the signer's daily outflow room",
};
const LEFT_OUT = {
  max_entries: "batch full (most users reached)",
  batch_total: "batch total cap reached",
  daily_outflow_cap: "daily outflow room used up",
  recipient_not_allowed: "recipient refused by the signer",
};
const newestBatch = async (admin) => (await admin.get("/v1/admin/payouts/batches?limit=1")).items[0]?.id ?? null;

test("admin: USDT paid in parts within the signer's caps until the daily outflow cap refuses a build, as the page shows", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  // Through the API: build, sign, submit and wait until executed, until a build is refused for the daily cap
  // (at once when an earlier run on this devnet used the room already).
  const { fresh, paid, refusal } = await payUsdtUntilCapReached(admin);
  const entryCap = 10n * USDT_UNIT;
  const min = (a, b) => (a < b ? a : b);
  for (const { built, executed, received } of paid) {
    const { limits } = built;
    assert.equal(limits.max_entry.base, entryCap.toString(), "the signer's per-entry cap: 10 USDT");
    assert.equal(limits.daily_outflow_cap.base, (30n * USDT_UNIT).toString(), "the signer's daily outflow cap: 30 USDT");
    // The room before this build: the cap less what the signer signed in the window (no batch was left unsigned).
    const room = BigInt(limits.daily_room.base);
    assert.equal(room, BigInt(limits.daily_outflow_cap.base) - BigInt(limits.daily_outflow_used.base));
    const maxTotal = BigInt(limits.max_total.base);
    const totalCap = min(room, maxTotal);
    const totalLimit = room < maxTotal ? "daily_outflow_cap" : "batch_total";
    // Users lowest number first, each paid what it is owed, the per-entry cap or the room left, whichever is
    // least, and told why when it is less than owed.
    let sum = 0n;
    for (const e of built.entries) {
      const amount = BigInt(e.amount.base);
      const owed = BigInt(e.owed.base);
      assert.ok(amount > 0n && amount <= entryCap, `batch ${built.id} entry ${e.position}: ${e.amount.human} is within the per-entry cap`);
      assert.ok(amount <= owed, `batch ${built.id} entry ${e.position}: ${e.amount.human} is no more than the ${e.owed.human} owed`);
      const left = totalCap - sum;
      const expected = owed <= min(entryCap, left) ? [owed, null] : entryCap <= left ? [entryCap, "per_entry_cap"] : [left, totalLimit];
      assert.deepEqual([amount, e.limited_by], expected, `batch ${built.id} entry ${e.position} (${e.address}, ${e.owed.human} owed)`);
      sum += amount;
    }
    assert.equal(BigInt(built.total.base), sum);
    assert.ok(sum <= room, "within the daily room");
    assert.equal(built.partial_count, built.entries.filter((e) => e.limited_by).length);
    if (built.left_out_by_reason.some((r) => r.reason === "daily_outflow_cap")) {
      assert.equal(sum, room, "users are left out for the daily cap only once the room is used up");
    }
    // Executed: every wallet received exactly its entry, on-chain, in the batch's block.
    assert.equal(executed.status, "executed");
    executed.entries.forEach((e, i) => {
      assert.equal(e.outcome, "paid");
      assert.equal(received[i], BigInt(e.amount.base), `${e.address} received its entry`);
    });
  }
  if (fresh) {
    // On a devnet just started the room was unused and rewards of 18 USDT (direct rewards) were pending.
    assert.ok(paid.length > 0, "a fresh devnet had room to pay USDT");
    assert.ok(paid[0].built.entries.some((e) => e.limited_by === "per_entry_cap"), "an 18 USDT reward is paid in parts");
  }
  const retryAfter = Number(refusal.retryAfter);
  assert.ok(refusal.retryAfter !== null && retryAfter >= 1 && retryAfter <= 86_400, `Retry-After ${refusal.retryAfter}`);
  assert.match(refusal.message, /rolling 24 h outflow cap of 30 USDT is used/);

  // Something pending in USDT, so that the page offers a build (the room stays used all the same).
  if ((await admin.get(`/v1/admin/payouts/pending?asset_id=${USDT}`)).totals.users === 0) await newPendingReward(admin.address, USDT);
  const pending = await admin.get(`/v1/admin/payouts/pending?asset_id=${USDT}`);
  const newestBefore = await newestBatch(admin);

  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  const picker = page.getByTestId("asset-picker");
  await picker.selectOption(String(USDT));
  const panel = page.getByTestId("pending");
  await until("the USDT pending totals", async () => (await panel.getByTestId("pending-total").getAttribute("data-base")) === pending.totals.amount.base);
  assert.match(await panel.getByTestId("pending-total").innerText(), / USDT$/);

  // The page's build is refused: the server's reason and when room returns (its Retry-After), not an error.
  await panel.getByTestId("build-batch").click();
  const dialog = page.locator("dialog.confirm");
  assert.match(await dialog.innerText(), /USDT pending/);
  await dialog.getByTestId("confirm-ok").click();
  const capped = panel.getByTestId("build-cap-reached");
  await capped.waitFor();
  // The API's answer to the same build right after: the same refusal, about the same Retry-After.
  const again = await Api.raw("POST", "/v1/admin/payouts/batches", { asset_id: USDT, max_entries: 100 }, admin.token);
  assert.equal(again.status, 409, JSON.stringify(again.body));
  assert.equal(again.body.error.code, "daily_outflow_cap_reached");
  const notice = await capped.innerText();
  assert.ok(notice.includes(`Daily outflow cap reached: no batch was built. ${again.body.error.message}.`), notice);
  const retry = capped.getByTestId("build-retry-at");
  const shown = Number(await retry.getAttribute("data-retry-after"));
  const apiRetry = Number(again.headers.get("retry-after"));
  assert.ok(Math.abs(shown - apiRetry) <= 5, `the page's Retry-After ${shown} s, the API's ${apiRetry} s`);
  const retryText = await retry.innerText();
  const at = retryText.match(/^Room returns in about (.+), at (.+)\.$/);
  assert.ok(at, retryText);
  assert.equal(at[1], about(shown));
  // "at" is when the oldest signed outflow leaves the window, as the server's message names it (unix seconds).
  const growsAt = Number(again.body.error.message.match(/\(unix (\d+)\)/)[1]);
  const near = await shownAs(page, [-3, -2, -1, 0, 1, 2, 3].map((d) => (growsAt + d) * 1000));
  assert.ok(near.includes(at[2]), `room returns at ${at[2]}, the server says ${near[3]}`);
  assert.equal(await panel.getByTestId("build-batch-error").count(), 0, "not shown as an error");
  assert.equal(await page.getByTestId("batch-detail").count(), 0, "no batch opened");
  assert.equal(await newestBatch(admin), newestBefore, "no batch was built");
  await b.screenshot("04-admin-build-cap-reached");

  // A USDT batch paid in part, opened from the page's list: on a fresh devnet one paid above, preferably one that
  // met the daily room (an entry cut or users left out for it); else the newest listed paid in part. Either way
  // one with an entry cut by the per-entry cap.
  const listed = (await admin.get(`/v1/admin/payouts/batches?asset_id=${USDT}&limit=10`)).items;
  const metRoom = (x) => x.entries.some((e) => e.limited_by === "daily_outflow_cap") || x.left_out_by_reason.some((r) => r.reason === "daily_outflow_cap");
  const candidates = fresh
    ? [...paid.filter((p) => metRoom(p.built)), ...paid.filter((p) => !metRoom(p.built))].map((p) => p.built.id)
    : listed.filter((x) => x.partial_count > 0).map((x) => x.id);
  let chosen = null;
  for (const id of candidates) {
    const d = await admin.get(`/v1/admin/payouts/batches/${id}`);
    if (d.entries.some((e) => e.limited_by === "per_entry_cap")) {
      chosen = d;
      break;
    }
  }
  assert.ok(chosen, `a USDT batch paid in part among ${JSON.stringify(listed.map((x) => [x.id, x.partial_count]))}`);
  assert.ok(listed.some((x) => x.id === chosen.id), "on the list's first page");
  const row = page.getByTestId("batch-row").filter({ has: page.getByRole("cell", { name: `#${chosen.id}`, exact: true }) });
  await row.waitFor();
  assert.equal(await row.getByTestId("batch-row-status").innerText(), chosen.status);
  const shortfall = [chosen.partial_count > 0 && `${chosen.partial_count} in part`, chosen.left_out_count > 0 && `${chosen.left_out_count} left out`].filter(Boolean);
  assert.equal(await row.getByTestId("batch-row-limits").innerText(), shortfall.join(", "));
  await row.getByRole("button", { name: "Open" }).click();
  const detail = page.getByTestId("batch-detail");
  await until(`batch #${chosen.id} open`, async () => (await detail.locator("h3").innerText()).startsWith(`Batch #${chosen.id}:`));
  assert.equal(await detail.getByTestId("batch-status").innerText(), "executed");
  assert.equal(await detail.getByTestId("batch-total").getAttribute("data-base"), chosen.total.base);
  assert.equal(await detail.getByTestId("batch-entry").count(), chosen.entries.length);
  assert.deepEqual(await detail.getByTestId("entry-outcome").allInnerTexts(), chosen.entries.map((e) => e.outcome));
  // Each entry paid in part says how much now, of how much owed, and which limit cut it: the API's figures.
  assert.equal(await detail.getByTestId("batch-partial").innerText(), String(chosen.partial_count));
  const partials = chosen.entries.filter((e) => e.limited_by);
  const parts = detail.getByTestId("entry-partial");
  assert.deepEqual(await parts.evaluateAll((els) => els.map((el) => el.dataset.limitedBy)), partials.map((e) => e.limited_by));
  assert.deepEqual(
    await parts.allInnerTexts(),
    partials.map((e) => `Paid in part: ${e.amount.human} now of ${e.owed.human} owed, limited by ${LIMITED_BY[e.limited_by]}; the rest stays pending.`),
  );
  const perEntry = partials.find((e) => e.limited_by === "per_entry_cap");
  assert.equal(perEntry.amount.base, entryCap.toString());
  const perEntryShown = parts.filter({ hasText: "limited by the signer's per-entry cap" }).first();
  assert.match(await perEntryShown.innerText(), new RegExp(`^Paid in part: 10 USDT now of ${perEntry.owed.human.replace(".", "\\.")} owed,`));
  // Who was left out, and why, as the API says.
  assert.equal(await detail.getByTestId("batch-left-out").innerText(), String(chosen.left_out_count));
  assert.equal(await detail.getByTestId("left-out-row").count(), chosen.left_out.length);
  if (chosen.left_out_count > 0) {
    assert.deepEqual(
      await detail.getByTestId("left-out-reason").allInnerTexts(),
      chosen.left_out_by_reason.map((r) => `${LEFT_OUT[r.reason]}: ${r.users} user${r.users === 1 ? "" : "s"}, ${r.owed.human} owed`),
    );
    const rows = detail.getByTestId("left-out-row");
    assert.deepEqual(await rows.locator("code[data-address]").evaluateAll((els) => els.map((el) => el.dataset.address)), chosen.left_out.map((l) => l.address));
    assert.deepEqual(await rows.locator(".amount").evaluateAll((els) => els.map((el) => el.dataset.base)), chosen.left_out.map((l) => l.owed.base));
    assert.deepEqual(await rows.locator("td[data-reason]").evaluateAll((els) => els.map((el) => el.dataset.reason)), chosen.left_out.map((l) => l.reason));
  }
  if (fresh) {
    // Whoever the room did not reach is cut or left out for it, as shown.
    const cut = chosen.entries.filter((e) => e.limited_by === "daily_outflow_cap");
    const out = chosen.left_out_by_reason.find((r) => r.reason === "daily_outflow_cap");
    if (cut.length > 0) assert.equal(await parts.filter({ hasText: "limited by the signer's daily outflow room" }).count(), cut.length);
    if (out) assert.equal(await detail.locator('[data-testid="left-out-reason"][data-reason="daily_outflow_cap"]').count(), 1);
    console.log(`fresh devnet: batch #${chosen.id} has ${cut.length} entries cut and ${out?.users ?? 0} users left out for the daily room`);
  }
  await b.screenshot("04-admin-batch-partial");
  await b.close([/^http 409 POST .*\/v1\/admin\/payouts\/batches$/]);
});

test("admin: a build finds nothing to pay when another build took every pending reward first", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  if ((await admin.get(`/v1/admin/payouts/pending?asset_id=${BNB}`)).totals.users === 0) await newPendingReward(admin.address, BNB);
  const before = await admin.get(`/v1/admin/payouts/pending?asset_id=${BNB}`);
  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  const panel = page.getByTestId("pending");
  await until("the BNB pending totals", async () => (await panel.getByTestId("pending-total").getAttribute("data-base")) === before.totals.amount.base);

  // Meanwhile, another admin (the API) builds batches until nothing payable is left.
  const taken = [];
  try {
    let refusal = null;
    for (let i = 0; i < 20 && !refusal; i++) {
      const r = await Api.raw("POST", "/v1/admin/payouts/batches", { asset_id: BNB, max_entries: 500 }, admin.token);
      if (r.status === 201) taken.push(r.body.id);
      else refusal = r;
    }
    assert.ok(taken.length > 0, "the other build took the pending rewards");
    assert.equal(refusal?.status, 409, JSON.stringify(refusal?.body));
    assert.equal(refusal.body.error.code, "nothing_payable");
    assert.equal((await admin.get(`/v1/admin/payouts/pending?asset_id=${BNB}`)).totals.users, 0);

    // The page still shows what was pending when it loaded; its build finds nothing to pay, and says so.
    assert.equal(await panel.getByTestId("build-batch").isEnabled(), true);
    await panel.getByTestId("build-batch").click();
    await page.locator("dialog.confirm").getByTestId("confirm-ok").click();
    const nothing = panel.getByTestId("build-nothing-payable");
    await nothing.waitFor();
    assert.equal(await nothing.innerText(), `Nothing to pay: ${refusal.body.error.message}.`);
    assert.equal(await panel.getByTestId("build-cap-reached").count(), 0);
    assert.equal(await panel.getByTestId("build-batch-error").count(), 0, "not shown as an error");
    assert.equal(await newestBatch(admin), taken.at(-1), "no batch was built");
    await b.screenshot("04-admin-build-nothing-payable");
  } finally {
    // The other admin's batches were never signed: cancelled at once, their rewards pending again.
    for (const id of taken) assert.equal((await admin.post(`/v1/admin/payouts/batches/${id}/cancel`, {})).status, "cancelled");
  }
  const after = await admin.get(`/v1/admin/payouts/pending?asset_id=${BNB}`);
  assert.equal(after.totals.amount.base, before.totals.amount.base);
  assert.equal(after.totals.users, before.totals.users);
  await b.close([/^http 409 POST .*\/v1\/admin\/payouts\/batches$/]);
});

test("admin: a payment the plan refused is refunded to its payer from the quarantine list, sent from the wallet", async () => {
  // A real refusal (as 09 makes one): the retopup is signed at the plan's fee, then a plan version with another
  // retopup fee takes effect before it is mined (wrong_amount). The plan is restored from the next block on.
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const key = await freshKey();
  const user = await registerDirectly(key, admin.address, BNB);
  const p = await user.post("/v1/users/retopup", { asset_id: BNB });
  const plan = await admin.get(`/v1/admin/plan?asset_id=${BNB}`);
  const latest = plan.versions.at(-1);
  const params = latest.params;
  // After the chain's head and at or after the API's first allowed block (after the confirmed head and the latest
  // version, which an earlier test may have set some blocks ahead).
  const after = (block) => (block >= BigInt(plan.first_allowed_block) ? block : BigInt(plan.first_allowed_block));
  // The chain's head as it is now (viem caches the block number for seconds by default).
  const blockNumber = () => chain.getBlockNumber({ cacheTime: 0 });
  const head = await blockNumber();
  const from = after(head + 3n);
  await admin.post("/v1/admin/plan", {
    asset_id: BNB,
    from_block: Number(from),
    params: { ...params, retopup_fee: (BigInt(params.retopup_fee) + 1n).toString() },
  });
  let hash;
  try {
    // A block a second: up to ~100 blocks when the plan test's version (100 blocks ahead) is the latest.
    const timeout = Number(from - head + 30n) * 1000;
    await until("the new fee in force", async () => (await blockNumber()) >= from, { timeout });
    const w = new TestWallet({ key, rpcUrl: RPC, chainId: CHAIN_ID });
    hash = await w.client.sendTransaction({ to: p.transaction.to, value: BigInt(p.transaction.value), data: p.transaction.data });
    const receipt = await chain.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success");
    assert.ok(receipt.blockNumber >= from, "mined under the new fee");
  } finally {
    // From the block after the head, which is after the retopup's block.
    const restore = (await blockNumber()) + 1n;
    await admin.post("/v1/admin/plan", { asset_id: BNB, from_block: Number(restore > from ? restore : from + 1n), params });
  }
  const event = await until("the retopup quarantined", async () =>
    (await admin.get("/v1/admin/logs?kind=quarantine&limit=100")).quarantined.find((q) => q.tx_hash === hash), { timeout: 90_000 });
  assert.equal(event.reason_code, "wrong_amount");
  assert.equal(event.refundable, true);
  assert.equal(event.payer, user.address);
  assert.equal(event.amount, p.amount.base);
  const before = await admin.get(`/v1/admin/treasury?asset_id=${BNB}`);

  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  await page.getByTestId("tab-monitoring").click();
  const row = page.locator(`[data-testid="quarantined-event"][data-event="${CHAIN_ID}:${hash}:${event.log_index}"]`);
  await row.waitFor();
  assert.equal(await row.getByTestId("quarantine-state").innerText(), "open");
  // Refunded in one step, the signer refuses: a refund needs a second person's approval on the devnet.
  const key3 = `${CHAIN_ID}/${hash}/${event.log_index}`;
  const oneStep = await Api.raw("POST", `/v1/admin/quarantine/${key3}/refund`, {}, admin.token);
  assert.equal(oneStep.status, 409, JSON.stringify(oneStep.body));
  assert.equal(oneStep.body.error.code, "approvals_missing");
  // The confirmation names the payer and the amount; confirmed, the refund is proposed and the proposal signed in this
  // wallet.
  await row.getByTestId("refund").click();
  const dialog = page.locator("dialog.confirm");
  assert.equal(await dialog.getByTestId("refund-payer").innerText(), user.address);
  assert.match(await dialog.innerText(), new RegExp(`returning ${p.amount.human}`));
  await dialog.getByTestId("confirm-ok").click();
  const proposed = row.getByTestId("refund-proposed");
  await proposed.waitFor();
  assert.match(await proposed.innerText(), /Proposal #\d+ is proposed: still missing 1 more approval/);
  assert.match(await row.getByTestId("quarantine-state").innerText(), /^refund #\d+ proposed: waiting for approval/);
  assert.equal(b.wallet.typedSigned.at(-1).message.action, "propose");
  assert.equal(b.wallet.typedSigned.at(-1).message.kind, "refund");
  // The devnet's approver approves it, it is signed, and this wallet (the contract's treasurer) sends it.
  const auth = Number((await proposed.innerText()).match(/Proposal #(\d+)/)[1]);
  await approveWithStaff(await admin.get(`/v1/admin/authorisations/${auth}`));
  await admin.post(`/v1/admin/authorisations/${auth}/sign`, {});
  await page.reload();
  await page.getByTestId("tab-monitoring").click();
  await row.getByTestId("refund-send").click();
  await until("the event refunded", async () => (await row.getByTestId("quarantine-state").innerText()).startsWith("refunded"), { timeout: 90_000 });
  const [refund] = (await admin.get(`/v1/admin/treasury/transfers?asset_id=${BNB}&limit=1`)).items;
  assert.equal(refund.authorisation_id, auth);
  assert.deepEqual(refund.refund_of, { chain_id: CHAIN_ID, tx_hash: hash, log_index: event.log_index });
  assert.equal(refund.status, "executed");
  assert.equal(refund.to, user.address);
  assert.equal(refund.amount, p.amount.base);
  assert.equal(await row.getByTestId("quarantine-state").innerText(), `refunded (transfer #${refund.id}, block ${refund.executed_block})`);
  // Exactly the payment went back to its payer, and none of it was the company's.
  const block = BigInt(refund.executed_block);
  const received =
    (await chain.getBalance({ address: user.address, blockNumber: block })) -
    (await chain.getBalance({ address: user.address, blockNumber: block - 1n }));
  assert.equal(received, BigInt(p.amount.base));
  const now = await admin.get(`/v1/admin/treasury?asset_id=${BNB}`);
  assert.equal(now.available.base, before.available.base);
  assert.equal(BigInt(now.refunded.base) - BigInt(before.refunded.base), BigInt(p.amount.base));
  const logged = (await admin.get("/v1/admin/logs?kind=quarantine&all=true&limit=100")).quarantined.find((q) => q.tx_hash === hash);
  assert.deepEqual(logged.refund, { transfer_id: refund.id, status: "executed", executed_block: refund.executed_block });
  await b.screenshot("04-admin-refund");
  await b.close();
});
