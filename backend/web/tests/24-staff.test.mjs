// Staff roles in the console (backend/STAFF.md §2): a viewer reads every tab and sees no button that moves anything
// (and the API refuses it the same); a role change proposed by the admin in one browser is approved by the devnet's
// approver in another, and the proposer cannot approve their own.
import assert from "node:assert/strict";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, BASE, STAFF, freshKey, grantRole, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";

const TABS = ["payouts", "approvals", "treasury", "monitoring", "users", "plan", "periods", "catalogue", "assets", "staff", "audit", "webhooks"];
/** What each tab shows once loaded (its section). */
const SECTION = {
  payouts: "payouts",
  approvals: "approvals",
  treasury: "treasury",
  monitoring: "monitoring",
  users: "users-admin",
  plan: "plan",
  periods: "weeks",
  catalogue: "catalogue",
  assets: "assets-admin",
  staff: "staff",
  audit: "audit",
  webhooks: "webhooks",
};
/** Anything that moves money, changes the ledger or a role: none of it may be on a viewer's page. */
const MOVERS = [
  ".confirm-action",
  "[data-testid=transfer-send]",
  "[data-testid=refund-send]",
  "[data-testid=freeze-panel]",
  "[data-testid=placement-panel]",
  "[data-testid=max-entries]",
  "[data-testid=transfer-to]",
  "[data-testid=ops-requests]",
  "[data-testid=new-asset]",
  "[data-testid=propose-change]",
  "[data-testid=change-approve]",
  "[data-testid=authorisation-reason-input]",
  "[data-testid=webhook-new]",
  "[data-testid=catalogue-form]",
  "[data-testid=catalogue-edit]",
];

test("a viewer reads every console page and is offered nothing that moves anything", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const key = await freshKey();
  const viewer = privateKeyToAccount(key).address;
  await grantRole(admin, viewer, "viewer");

  const b = await openBrowser({ key });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  await page.getByTestId("staff-roles-mine").waitFor();
  assert.match(await page.getByTestId("staff-roles-mine").innerText(), /Your roles: viewer — you can read every page/);
  for (const tab of TABS) {
    await page.getByTestId(`tab-${tab}`).click();
    const section = page.getByTestId(SECTION[tab]);
    await section.waitFor();
    // Let the tab's reads answer (its loading notices gone) before looking for what it offers.
    await until(`the ${tab} tab loaded`, async () => (await page.locator("[aria-busy=true]").count()) === 0);
    for (const mover of MOVERS) {
      assert.equal(await page.locator(mover).count(), 0, `${tab}: a viewer is offered ${mover}`);
    }
    await b.screenshot(`24-viewer-${tab}`);
  }
  // The page leaves out what the API refuses: the API refuses the viewer every change, and says which role it needs.
  const api = await Api.signIn(key);
  const build = await Api.raw("POST", "/v1/admin/payouts/batches", { asset_id: 1 }, api.token);
  assert.equal(build.status, 403, JSON.stringify(build.body));
  assert.match(build.body.error.message, /needs the finance role; this wallet's staff roles: viewer/);
  const freeze = await Api.raw("POST", `/v1/admin/users/${admin.address}/freeze`, { asset_id: 1, reason: "x" }, api.token);
  assert.equal(freeze.status, 403);
  await b.close();
});

test("a role change proposed by the admin is approved by another approver in another browser, never by its proposer", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const newcomer = privateKeyToAccount(await freshKey()).address;

  // The admin proposes in the console.
  const proposer = await openBrowser({ key: ANVIL_KEYS[0] });
  const p = proposer.page;
  await p.goto(BASE + "/admin#staff");
  await signInThroughPage(p);
  await p.getByTestId("propose-change").waitFor();
  await p.getByTestId("change-wallet").fill(newcomer);
  await p.getByTestId("change-role").selectOption("support");
  await p.getByTestId("change-reason").fill("new support hire");
  await p.getByTestId("change-propose").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await p.getByTestId("change-proposed").waitFor();
  const proposed = await p.getByTestId("change-proposed").innerText();
  assert.match(proposed, /is proposed/, "the devnet has a second approver: the change waits for it");
  const id = Number(proposed.match(/Change #(\d+)/)[1]);
  // The proposer sees it waiting, with no button to approve it; the API refuses it too.
  const mine = p.getByTestId("open-change").filter({ hasText: `#${id}:` });
  await mine.getByTestId("own-change").waitFor();
  assert.equal(await mine.getByTestId("change-approve").count(), 0);
  const own = await Api.raw("POST", `/v1/admin/staff/changes/${id}/approve`, {}, admin.token);
  assert.equal(own.status, 403);
  assert.equal(own.body.error.code, "own_proposal");
  assert.deepEqual((await Api.raw("GET", "/v1/admin/ping", undefined, (await Api.signIn(await freshKey())).token)).status, 403);

  // The devnet's approver, in a browser of its own, approves it.
  const approver = await openBrowser({ key: STAFF.approver });
  const a = approver.page;
  await a.goto(BASE + "/admin#staff");
  await signInThroughPage(a);
  const waiting = a.getByTestId("open-change").filter({ hasText: `#${id}:` });
  await waiting.waitFor();
  assert.match(await waiting.innerText(), /Grant support to .* “new support hire”/s);
  await waiting.getByTestId("change-approve").click();
  await a.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the change applied", async () => (await a.getByTestId("open-change").filter({ hasText: `#${id}:` }).count()) === 0);
  const member = a.getByTestId("staff-member").filter({ has: a.locator(`code[data-address="${newcomer}"]`) });
  await until("the newcomer listed as support", async () => /support/.test(await member.innerText().catch(() => "")));
  await approver.screenshot("24-approved");

  // The API agrees: applied, decided by the approver, and audited under its wallet.
  const changes = await admin.get("/v1/admin/staff/changes?limit=20");
  const change = changes.items.find((c) => c.id === id);
  assert.equal(change.status, "applied");
  assert.equal(change.decided_by, privateKeyToAccount(STAFF.approver).address);
  const audit = await admin.get("/v1/admin/audit?limit=20");
  assert.ok(audit.items.some((e) => e.action === "staff_role_apply" && e.actor === change.decided_by && e.target.endsWith(":support")));
  await proposer.close();
  await approver.close();
});
