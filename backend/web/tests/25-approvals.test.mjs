// Two people for every payout (backend/STAFF.md §3): the devnet's finance wallet builds a batch and proposes it,
// signing the typed data in its own wallet; it cannot approve its own proposal (no button, and the API refuses it);
// the devnet's approver, in another browser, sees every recipient and approves by signing in its wallet; finance then
// has the batch signed and sent, and it executes on chain.
import assert from "node:assert/strict";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, BASE, BNB, STAFF, newPendingReward, openBrowser, signInThroughPage, signStaffTyped, test, until } from "./lib/stack.mjs";

test("finance proposes a batch, another approver approves it in another browser, and it is signed, sent and executed", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  await newPendingReward(admin.address, BNB);
  const finance = await Api.signIn(STAFF.finance);
  const financeAddress = privateKeyToAccount(STAFF.finance).address;
  const approverAddress = privateKeyToAccount(STAFF.approver).address;

  // Finance builds and proposes in the console; its wallet signs the proposal's typed data.
  const f = await openBrowser({ key: STAFF.finance });
  const p = f.page;
  await p.goto(BASE + "/admin#payouts");
  await signInThroughPage(p);
  await p.getByTestId("max-entries").fill("3");
  await p.getByTestId("build-batch").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  const detail = p.getByTestId("batch-detail");
  await detail.waitFor();
  const id = Number((await detail.locator("h3").innerText()).match(/Batch #(\d+)/)[1]);
  const built = await finance.get(`/v1/admin/payouts/batches/${id}`);
  await detail.getByTestId("batch-propose").click();
  const dialog = p.locator("dialog.confirm");
  // The confirmation lists every recipient, not only a total.
  assert.equal(await dialog.getByTestId("confirm-recipients").locator("li").count(), built.entries.length);
  await dialog.getByTestId("confirm-ok").click();
  const notice = detail.getByTestId("batch-proposed");
  await notice.waitFor();
  assert.match(await notice.innerText(), /Proposal #\d+ is proposed: still missing 1 more approval/);
  const auth = Number((await notice.innerText()).match(/Proposal #(\d+)/)[1]);
  // While it waits for its approver, the batch offers no next step: not "Propose" again, not "Sign" (the signer would
  // refuse it), no primary button at all.
  await until("the proposal's stage loaded", async () => (await notice.locator("[data-stage]").getAttribute("data-stage")) === "proposed");
  assert.equal(await detail.getByTestId("batch-propose").count(), 0);
  assert.equal(await detail.getByTestId("batch-sign").count(), 0);
  assert.equal(await detail.locator("button.primary").count(), 0);
  assert.equal(f.wallet.typedSigned.length, 1, "the proposal was signed in the wallet");
  assert.equal(f.wallet.typedSigned[0].message.action, "propose");

  // The proposer sees it waiting, without an approve button; the API refuses its own approval too.
  await p.goto(BASE + "/admin#approvals");
  const mine = p.locator(`[data-testid=authorisation][data-id="${auth}"]`);
  await mine.waitFor();
  assert.equal(await mine.getByTestId("authorisation-approve").count(), 0);
  const view = await finance.get(`/v1/admin/authorisations/${auth}`);
  const own = await signStaffTyped(STAFF.finance, view.typed_data.approve);
  const refused = await Api.raw("POST", `/v1/admin/authorisations/${auth}/signatures`, { action: "approve", signature: own }, finance.token);
  assert.equal(refused.status, 403, JSON.stringify(refused.body));
  // What is missing is said in the reader's language (the API's words are English; its data are not words): in
  // Arabic, the one approval still missing, with no English left in the notice.
  const missing = mine.getByTestId("authorisation-missing");
  assert.match(await missing.innerText(), /Still missing: 1 more approval from an approver other than the proposer/);
  await p.getByTestId("language-picker").selectOption("ar");
  await until("the notice in Arabic", async () => /موافقة واحدة أخرى من موافِق غير صاحب الاقتراح/.test(await missing.innerText()));
  assert.doesNotMatch(await missing.innerText(), /[A-Za-z]{3,}/, "no English word in the Arabic notice");
  await p.getByTestId("language-picker").selectOption("en");
  await until("the notice in English again", async () => /Still missing/.test(await missing.innerText()));
  await f.screenshot("25-proposed");

  // The approver, in a browser of its own, sees what it approves and approves by signing.
  const a = await openBrowser({ key: STAFF.approver });
  const q = a.page;
  await q.goto(BASE + "/admin#approvals");
  await signInThroughPage(q);
  const waiting = q.locator(`[data-testid=authorisation][data-id="${auth}"]`);
  await waiting.waitFor();
  assert.equal(await waiting.getByTestId("authorisation-entry").count(), built.entries.length);
  assert.equal(await waiting.getByTestId("authorisation-total").getAttribute("data-base"), built.total.base);
  await waiting.getByTestId("authorisation-approve").click();
  await q.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the proposal approved", async () => (await waiting.getByTestId("authorisation-stage").innerText()) === "approved");
  assert.equal(a.wallet.typedSigned[0].message.action, "approve");
  await a.screenshot("25-approved");

  // Finance has it signed and sent; the listener settles it.
  await p.goto(BASE + "/admin#payouts");
  await p.getByTestId("batch-row").filter({ hasText: new RegExp(`#${id}(?!\\d)`) }).first().getByRole("button", { name: "Open" }).click();
  // The clerk is told: approved by whom, sign it now; Sign is the one primary action.
  await until("the batch says it was approved", async () => /approved by 0x[0-9a-fA-F]{40} .+: sign it now/.test(await detail.getByTestId("batch-proposed").innerText()));
  assert.equal(await detail.getByTestId("batch-propose").count(), 0);
  assert.deepEqual(await detail.locator("button.primary").evaluateAll((els) => els.map((e) => e.dataset.testid)), ["batch-sign"]);
  await detail.getByTestId("batch-sign").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the batch signed", async () => (await detail.getByTestId("batch-status").innerText()) === "signed");
  await detail.getByTestId("batch-submit").click();
  assert.equal(await p.locator("dialog.confirm").getByTestId("confirm-recipients").locator("li").count(), built.entries.length);
  // The network fee the operator's account pays to send it, at most: the API's batch gas × the chain's gas price now.
  const fees = (await Api.raw("GET", "/v1/public/prices")).body.chains.find((c) => c.chain_id === built.chain_id);
  const fee = p.locator("dialog.confirm").getByTestId("batch-network-fee");
  await fee.waitFor();
  const gas = BigInt(fees.payout_base_gas) + BigInt(fees.payout_entry_gas) * BigInt(built.entries.length);
  assert.equal(await fee.getAttribute("data-gas"), gas.toString());
  assert.ok(BigInt(await fee.getAttribute("data-fee")) >= gas, "gas × a gas price of at least 1");
  assert.match(await fee.innerText(), /^Network fee: at most [\d.]+ BNB \(≈ (\$[\d.,]+|< \$0\.01)\)/);
  // One network fee per batch (issue 66): the approval card counts the same gas and, at the same gas price, shows the
  // same figure, rounded up to two digits in both places (checked on the card once the batch executed, below).
  const dialogFee = { base: await fee.getAttribute("data-fee"), shown: (await fee.innerText()).match(/at most ([\d.]+ BNB)/)[1] };
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the batch executed", async () => (await detail.getByTestId("batch-status").innerText()) === "executed", { timeout: 120_000 });

  const done = await admin.get(`/v1/admin/authorisations/${auth}`);
  assert.equal(done.stage, "executed");
  // Decided proposals are folded to one line in the queue; the card keeps the batch's network fee as the dialog gave it.
  await p.goto(BASE + "/admin#approvals");
  await p.getByTestId("approvals-state").selectOption("all");
  const folded = p.locator(`[data-testid=authorisation-folded][data-id="${auth}"]`);
  await folded.waitFor();
  assert.equal(await folded.getAttribute("open"), null, "an executed proposal is folded");
  assert.match(await folded.locator("summary").innerText(), new RegExp(`#${auth}: payout batch #${id} — executed`));
  const cardFee = folded.getByTestId("authorisation-network-fee").locator("span");
  assert.equal(BigInt(await cardFee.getAttribute("data-gas")), gas, "the approval card and the submit dialog count the same gas");
  if ((await cardFee.getAttribute("data-fee")) === dialogFee.base) assert.equal(await cardFee.textContent(), `at most ${dialogFee.shown}`);
  assert.deepEqual(
    done.signatures.map((s) => [s.action, s.wallet]),
    [
      ["propose", financeAddress],
      ["approve", approverAddress],
    ],
  );
  const audit = await admin.get("/v1/admin/audit?limit=50");
  const steps = audit.items.filter((e) => e.target === `authorisation:${auth}`).map((e) => [e.action, e.actor]);
  assert.ok(steps.some(([action, actor]) => action === "authorisation_approve_signature" && actor === approverAddress), JSON.stringify(steps));
  assert.ok(steps.some(([action, actor]) => action === "authorisation_propose" && actor === financeAddress), JSON.stringify(steps));
  await f.close();
  await a.close();
});

test("finance proposes a treasury transfer, two approvers approve it in their own browsers, finance has it signed and it is sent and executed", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const approverAddress = privateKeyToAccount(STAFF.approver).address;
  const before = await admin.get("/v1/admin/treasury?asset_id=1");
  assert.ok(BigInt(before.available.base) >= 10n ** 18n, `1 BNB of company funds to move: ${before.available.human}`);
  const adminAddress = privateKeyToAccount(ANVIL_KEYS[0]).address;

  // Finance proposes 1 BNB to the (allowlisted) admin in the Treasury tab; its wallet signs the proposal in Approvals.
  const f = await openBrowser({ key: STAFF.finance });
  const p = f.page;
  await p.goto(BASE + "/admin#treasury");
  await signInThroughPage(p);
  await p.getByTestId("transfer-to").fill(adminAddress);
  await p.getByTestId("transfer-amount").fill("1");
  await p.getByTestId("transfer-propose").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  const row = p.getByTestId("transfer-row").first();
  await until("the proposed transfer listed", async () => (await row.getByTestId("transfer-status").innerText()).startsWith("proposed"));
  const transfer = (await admin.get("/v1/admin/treasury/transfers?asset_id=1&limit=1")).items[0];
  assert.equal(transfer.status, "proposed");
  assert.equal(transfer.signature, null, "nothing signed before its approvals");
  const auth = transfer.authorisation_id;
  const reserved = await admin.get("/v1/admin/treasury?asset_id=1");
  assert.equal(BigInt(before.available.base) - BigInt(reserved.available.base), 10n ** 18n, "reserved at once");
  await p.goto(BASE + "/admin#approvals");
  const mine = p.locator(`[data-testid=authorisation][data-id="${auth}"]`);
  await mine.waitFor();
  assert.match(await mine.locator("h3").innerText(), new RegExp(`treasury transfer #${transfer.id}`));
  await mine.getByTestId("authorisation-propose").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the proposal signed", async () => (await mine.getByTestId("authorisation-signatures").innerText()).includes("Proposed by"));

  // The approver sees the recipient, the amount, the estimated network fee and the asset's committed liabilities and
  // custody as the chain has them, and approves by signing.
  const a = await openBrowser({ key: STAFF.approver });
  const q = a.page;
  // The chain's commitment may move on while the page reads it (an epoch a minute): the page shows one of these two.
  const earlier = await admin.get(`/v1/admin/authorisations/${auth}`);
  await q.goto(BASE + "/admin#approvals");
  await signInThroughPage(q);
  const waiting = q.locator(`[data-testid=authorisation][data-id="${auth}"]`);
  await waiting.waitFor();
  assert.equal(await waiting.getByTestId("authorisation-entry").count(), 1);
  assert.equal((await waiting.getByTestId("authorisation-entry").innerText()).includes("1 BNB"), true, await waiting.innerText());
  const view = await admin.get(`/v1/admin/authorisations/${auth}`);
  const epochs = [earlier.custody.committed_epoch, view.custody.committed_epoch];
  assert.equal(view.kind, "treasury_transfer");
  assert.equal(view.network_fee.gas, 142173, "a treasury transfer's gas as benchmarked");
  assert.equal(BigInt(view.network_fee.fee.base), BigInt(view.network_fee.gas_price) * 142173n);
  assert.match(await waiting.getByTestId("authorisation-network-fee").innerText(), /^at most .* BNB$/);
  assert.equal(await waiting.getByTestId("authorisation-custody").locator("[data-base]").getAttribute("data-base"), view.custody.contract_balance.base);
  const shown = Number((await waiting.getByTestId("authorisation-committed").innerText()).match(/\(epoch (\d+)\)/)[1]);
  assert.ok(epochs.includes(shown), `the page's epoch ${shown}, the chain's ${epochs}`);
  assert.ok(view.custody.committed_epoch > 0, "the devnet commits an epoch a minute");
  await waiting.getByTestId("authorisation-approve").click();
  await q.locator("dialog.confirm").getByTestId("confirm-ok").click();
  // A treasury transfer needs two approvals on the devnet (its signer's [policy.approvals]): one is not enough.
  await until("the first approval in", async () => (await waiting.getByTestId("authorisation-signatures").innerText()).includes("Approved by"));
  assert.deepEqual((await admin.get(`/v1/admin/authorisations/${auth}`)).signatures.map((s) => [s.action, s.wallet]).at(-1), ["approve", approverAddress]);
  assert.equal(await waiting.getByTestId("authorisation-stage").innerText(), "proposed");
  assert.match(await waiting.getByTestId("authorisation-missing").innerText(), /1 more approval/);
  assert.equal((await admin.get(`/v1/admin/authorisations/${auth}`)).approvals_required, 2);
  // Signed now, the signer refuses it, and says why.
  const early = await Api.raw("POST", `/v1/admin/authorisations/${auth}/sign`, {}, (await Api.signIn(STAFF.finance)).token);
  assert.equal(early.status, 409, JSON.stringify(early.body));
  // The second approver approves in its own browser.
  const a2 = await openBrowser({ key: STAFF.approver2 });
  await a2.page.goto(BASE + "/admin#approvals");
  await signInThroughPage(a2.page);
  const second = a2.page.locator(`[data-testid=authorisation][data-id="${auth}"]`);
  await second.getByTestId("authorisation-approve").click();
  await a2.page.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the proposal approved", async () => (await second.getByTestId("authorisation-stage").innerText()) === "approved");
  await a2.screenshot("25-transfer-approved");
  await a2.close();

  // Finance has it signed from the queue; the admin (the contract's treasurer) sends it from the Treasury tab.
  await p.reload();
  await mine.waitFor();
  await until("the approval seen", async () => (await mine.getByTestId("authorisation-stage").innerText()) === "approved");
  await mine.getByTestId("authorisation-sign").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await mine.getByTestId("authorisation-signed").waitFor();
  assert.match(await mine.getByTestId("authorisation-signed").innerText(), /send it from Treasury/);
  const t = await openBrowser({ key: ANVIL_KEYS[0] });
  await t.page.goto(BASE + "/admin#treasury");
  await signInThroughPage(t.page);
  const sent = t.page.getByTestId("transfer-row").filter({ has: t.page.locator("td:first-child", { hasText: new RegExp(`^${transfer.id}$`) }) });
  await until("the signed transfer listed", async () => (await sent.getByTestId("transfer-status").innerText()).startsWith("signed"));
  await sent.getByTestId("transfer-send").click();
  await until("the transfer executed", async () => (await sent.getByTestId("transfer-status").innerText()).startsWith("executed"), { timeout: 90_000 });
  const done = await admin.get(`/v1/admin/authorisations/${auth}`);
  assert.equal(done.stage, "executed");
  const after = await admin.get("/v1/admin/treasury?asset_id=1");
  assert.equal(BigInt(after.transferred.base) - BigInt(before.transferred.base), 10n ** 18n);
  await f.close();
  await a.close();
  await t.close();
});
