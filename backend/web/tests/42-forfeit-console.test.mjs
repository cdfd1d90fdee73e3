// Forfeits as two-person approved actions in the console (backend/STAFF.md §3, issue 65 item 4): the admin freezes a
// devnet member with a pending reward on the Users tab (their pending rewards become held); the devnet's finance wallet,
// in its own browser, proposes forfeiting those held rewards on the same tab, its wallet signing the proposal; the
// Approvals tab shows it proposed, with the member and the amount forfeited to the company, nothing sent; the devnet's
// approver, in a third browser, approves it by signing in its wallet, and the approval that completes it applies it at
// once: the stage reads executed and the member holds nothing any more, the company has it.
import assert from "node:assert/strict";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, BASE, BNB, STAFF, newPendingReward, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";

/** `wallet`'s standing in `assetId` as the Users tab's lookup reads it (`GET /v1/admin/users/{address}`). */
async function standing(api, wallet, assetId) {
  const profile = await api.get(`/v1/admin/users/${encodeURIComponent(wallet)}`);
  const s = profile.assets.find((a) => a.asset_id === assetId);
  assert.ok(s, `${wallet} is registered in asset ${assetId}: ${JSON.stringify(profile)}`);
  return s;
}

test("finance proposes a forfeit of a frozen member's held rewards on the Users tab, an approver approves it and it is applied", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const financeAddress = privateKeyToAccount(STAFF.finance).address;
  const approverAddress = privateKeyToAccount(STAFF.approver).address;
  // A member of our own with a pending reward (a fresh sponsor owed a direct reward): no other test pays or freezes it.
  const member = (await newPendingReward(admin.address, BNB)).address;
  const before = await until("the member's pending reward", async () => {
    const s = await standing(admin, member, BNB);
    return BigInt(s.balances.pending) > 0n && s;
  });
  assert.equal(before.status, "active");

  // The admin (who holds support) freezes the member on the Users tab: their pending rewards become held.
  const m = await openBrowser({ key: ANVIL_KEYS[0] });
  const mp = m.page;
  await mp.goto(BASE + "/admin#users");
  await signInThroughPage(mp);
  await mp.getByTestId("users-admin").getByTestId("asset-picker").first().selectOption(String(BNB));
  await mp.getByTestId("freeze-address").fill(member);
  await mp.getByTestId("freeze-reason").fill("test 42: finding to forfeit");
  await mp.getByTestId("freeze").click();
  await mp.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await mp.getByTestId("freeze-result").waitFor();
  assert.match(await mp.getByTestId("freeze-result").innerText(), new RegExp(`is now frozen in asset ${BNB}`));
  const frozen = await until("the member frozen, their rewards held", async () => {
    const s = await standing(admin, member, BNB);
    return s.status === "frozen" && BigInt(s.balances.held) > 0n && s;
  });
  assert.equal(frozen.balances.pending, "0", "every pending reward is held now");
  const held = BigInt(frozen.balances.held);
  await m.close();

  // Finance proposes the forfeit on the Users tab, in its own browser: it may not freeze (no support role), only propose.
  const f = await openBrowser({ key: STAFF.finance });
  const p = f.page;
  await p.goto(BASE + "/admin#users");
  await signInThroughPage(p);
  const panel = p.getByTestId("forfeit-panel");
  await panel.waitFor();
  assert.equal(await p.getByTestId("freeze-panel").count(), 0, "finance does not freeze");
  await p.getByTestId("users-admin").getByTestId("asset-picker").first().selectOption(String(BNB));
  await p.getByTestId("forfeit-address").fill(member);
  assert.ok(await p.getByTestId("forfeit").isDisabled(), "no forfeit without a reason");
  await p.getByTestId("forfeit-reason").fill("test 42: finding 4711 confirmed");
  await p.getByTestId("forfeit").click();
  const dialog = p.locator("dialog.confirm");
  // The confirmation says what happens, with what the member holds now.
  assert.match(await dialog.innerText(), /go to the company/);
  assert.match(await dialog.innerText(), /second approver/);
  assert.match(await dialog.innerText(), /proof of solvency fall by them once/);
  assert.match(await dialog.innerText(), /test 42: finding 4711 confirmed/);
  const heldShown = dialog.getByTestId("forfeit-held").locator("[data-base]");
  await heldShown.waitFor();
  assert.equal(await heldShown.getAttribute("data-base"), held.toString());
  await dialog.getByTestId("confirm-ok").click();
  const result = p.getByTestId("forfeit-result");
  await result.waitFor();
  assert.match(await result.innerText(), /It now waits for an approver on the Approvals tab/);
  assert.equal(await result.getByTestId("forfeit-amount").getAttribute("data-base"), held.toString());
  const auth = Number(await result.locator("[data-id]").getAttribute("data-id"));
  assert.equal(f.wallet.typedSigned.length, 1, "the proposal was signed in the wallet");
  assert.equal(f.wallet.typedSigned[0].message.action, "propose");
  assert.equal(f.wallet.typedSigned[0].message.kind, "forfeit");

  const proposed = await admin.get(`/v1/admin/authorisations/${auth}`);
  assert.equal(proposed.kind, "forfeit");
  assert.equal(proposed.stage, "proposed");
  assert.equal(proposed.proposer, financeAddress);
  assert.equal(proposed.total.base, held.toString());
  assert.equal(proposed.fee.base, "0");
  assert.equal(proposed.entries.length, 1);
  assert.equal(proposed.entries[0].address.toLowerCase(), member.toLowerCase());
  assert.equal(proposed.missing_approvals, 1, "a forfeit needs one approval on the devnet");

  // The Approvals tab (the forfeits alone): proposed, the member and the amount forfeited to the company, nothing sent;
  // no approve button for the proposer.
  await p.goto(BASE + "/admin#approvals");
  await p.getByTestId("approvals-kind").selectOption("forfeit");
  const mine = p.locator(`[data-testid=authorisation][data-id="${auth}"]`);
  await mine.waitFor();
  assert.match(await mine.locator("h3").innerText(), new RegExp(`#${auth}: forfeit #${proposed.subject}`));
  assert.equal(await mine.getByTestId("authorisation-stage").getAttribute("data-stage"), "proposed");
  assert.equal(await mine.getByTestId("authorisation-stage").innerText(), "proposed");
  assert.equal((await mine.getByTestId("authorisation-member").locator("code[data-address]").getAttribute("data-address")).toLowerCase(), member.toLowerCase());
  assert.equal(await mine.getByTestId("authorisation-total").getAttribute("data-base"), held.toString());
  assert.match(await mine.innerText(), /Forfeited to the company/);
  assert.equal(await mine.getByTestId("authorisation-network-fee").innerText(), "none: nothing is sent");
  assert.equal(await mine.getByTestId("authorisation-entry").count(), 1);
  assert.equal(await mine.getByTestId("authorisation-entry-amount").getAttribute("data-base"), held.toString());
  assert.match(await mine.getByTestId("authorisation-missing").innerText(), /Still missing: 1 more approval/);
  assert.equal(await mine.getByTestId("authorisation-approve").count(), 0);
  assert.equal(await mine.getByTestId("authorisation-sign").count(), 0, "a forfeit is never signed or sent");
  await f.screenshot("42-forfeit-proposed");

  // The approver, in a browser of its own: proposing a forfeit is not its to do; it sees the forfeit in the queue and
  // approves it by signing, and its approval applies it at once.
  const a = await openBrowser({ key: STAFF.approver });
  const q = a.page;
  await q.goto(BASE + "/admin#users");
  await signInThroughPage(q);
  await q.getByTestId("member-lookup").waitFor();
  assert.equal(await q.getByTestId("forfeit-panel").count(), 0, "only finance proposes a forfeit");
  await q.goto(BASE + "/admin#approvals");
  const waiting = q.locator(`[data-testid=authorisation][data-id="${auth}"]`);
  await waiting.waitFor();
  assert.equal(await waiting.getByTestId("authorisation-total").getAttribute("data-base"), held.toString());
  assert.equal((await waiting.getByTestId("authorisation-member").locator("code[data-address]").getAttribute("data-address")).toLowerCase(), member.toLowerCase());
  await waiting.getByTestId("authorisation-approve").click();
  const approve = q.locator("dialog.confirm");
  assert.match(await approve.innerText(), /held rewards go to the company/);
  assert.match(await approve.innerText(), /Nothing leaves custody/);
  await approve.getByTestId("confirm-ok").click();
  const done = await until("the forfeit applied", async () => {
    const v = await admin.get(`/v1/admin/authorisations/${auth}`);
    if (v.stage === "failed" || v.stage === "rejected" || v.stage === "expired") throw new Error(`forfeit ${auth} ${v.stage}: ${v.decision_reason}`);
    return v.stage === "executed" && v;
  });
  assert.equal(a.wallet.typedSigned.at(-1).message.action, "approve");
  assert.equal(a.wallet.typedSigned.at(-1).message.kind, "forfeit");
  assert.deepEqual(
    done.signatures.map((s) => [s.action, s.wallet]),
    [
      ["propose", financeAddress],
      ["approve", approverAddress],
    ],
  );
  // Applied, it waits for no one: the queue folds it; opened, it reads executed, and applied.
  await q.getByTestId("approvals-state").selectOption("all");
  const folded = q.locator(`[data-testid=authorisation-folded][data-id="${auth}"]`);
  await folded.waitFor();
  assert.equal(await folded.getAttribute("data-stage"), "executed");
  assert.match(await folded.locator("summary").innerText(), new RegExp(`#${auth}: forfeit #${proposed.subject} — executed`));
  await folded.locator("summary").click();
  const card = folded.getByTestId("authorisation");
  await until("the applied forfeit's card", async () => (await card.getByTestId("authorisation-stage").innerText()) === "executed");
  assert.match(await card.getByTestId("authorisation-applied").innerText(), /^Applied: [\s\S]* held rewards are the company's/);
  await a.screenshot("42-forfeit-executed");

  // The member's held balance is the company's now: 0 held, as much more forfeited.
  const after = await standing(admin, member, BNB);
  assert.equal(after.balances.held, "0");
  assert.equal(BigInt(after.balances.forfeited) - BigInt(before.balances.forfeited), held);
  assert.equal(after.status, "frozen", "the forfeit leaves the member frozen");
  // Both steps audited: finance's proposal, and the forfeit applied by the approval that completed it.
  for (const [action, actor] of [
    ["forfeit_propose", financeAddress],
    ["forfeit_held", approverAddress],
  ]) {
    const entries = (await admin.get(`/v1/admin/audit?action=${action}&limit=20`)).items.filter((e) => e.target.toLowerCase() === member.toLowerCase());
    assert.deepEqual(entries.map((e) => e.actor), [actor], `${action} of ${member}: ${JSON.stringify(entries)}`);
  }

  await f.close();
  await a.close();
});
