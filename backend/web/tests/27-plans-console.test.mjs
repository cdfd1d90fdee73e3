// Every console page works for every plan an asset may run (issue 47, finding 1: the console listed only the
// auto-pool assets, so the generation plan's members could not be paid from it). The pages take their assets from
// one registry (src/plans): each tab lists every asset, and what only one plan has (plan versions, periods, a manual
// pool placement) comes from the asset's plan room. Then the admin's staff pay a generation-plan member (the devnet's
// asset 4, GUSDT) from the console, through the two-person lifecycle, and the member's wallet receives the entry
// less the plan's withdrawal fee.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { erc20Abi } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  ANVIL_KEYS,
  Api,
  BASE,
  BNB,
  CHAIN,
  STAFF,
  approveWithStaff,
  chain,
  openBrowser,
  registerDirectly,
  signInThroughPage,
  test,
  until,
} from "./lib/stack.mjs";
import { freshGenerationKey, freshTokenKey } from "./lib/generation.mjs";
import { readCsv } from "./lib/csv.mjs";

const GEN = 4;
const BIN = 5;

const publicAssets = async () => {
  const p = (await Api.raw("GET", "/v1/public/plan")).body;
  return { auto: p.assets.map((a) => a.asset_id), generation: p.generation.map((g) => g.asset_id), binary: p.binary.map((b) => b.asset_id) };
};

test("every console tab lists every asset whatever its plan, and shows each plan's own views from its room", async () => {
  const { auto, generation, binary } = await publicAssets();
  assert.ok(auto.includes(BNB) && generation.includes(GEN), "the devnet runs both plans");
  const all = [...auto, ...generation, ...binary].map(String).sort();
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const p = b.page;
  await p.goto(BASE + "/admin#payouts");
  await signInThroughPage(p);
  for (const tab of ["payouts", "treasury", "users", "plan"]) {
    await p.getByTestId(`tab-${tab}`).click();
    // The tab's own picker (the previous tab's stays drawn for a moment after the click, and a tab loaded on demand
    // draws its picker only once loaded): read once it lists as many assets as there are.
    const root = { payouts: "payouts", treasury: "treasury", users: "users-admin", plan: "plan" }[tab];
    const picker = p.getByTestId(root).getByTestId("asset-picker").first();
    await picker.waitFor();
    const ids = await until(`the ${tab} tab's assets`, async () => {
      const values = (await picker.locator("option").evaluateAll((os) => os.map((o) => o.value))).sort();
      return values.length >= all.length && values;
    });
    assert.deepEqual(ids, all, `the ${tab} tab lists every asset`);
  }

  // Plan versions: each plan's own table and form.
  const picker = p.getByTestId("asset-picker");
  await picker.selectOption(String(GEN));
  await until("the generation plan's versions", async () => (await p.getByTestId("plan-version-packages").count()) > 0);
  assert.match(await p.getByTestId("plan-kind").innerText(), /GUSDT runs the generation plan/);
  await picker.selectOption(String(BNB));
  await p.getByTestId("plan-registration_fee").waitFor();
  assert.match(await p.getByTestId("plan-kind").innerText(), /BNB runs the auto-pool plan/);
  assert.equal(await p.getByTestId("plan-version-packages").count(), 0);

  // Users: the manual pool placement is the auto-pool plan's alone.
  await p.getByTestId("tab-users").click();
  await p.getByTestId("asset-picker").selectOption(String(BNB));
  await p.getByTestId("placement-panel").waitFor();
  await p.getByTestId("asset-picker").selectOption(String(GEN));
  await until("no pool placement for a generation asset", async () => (await p.getByTestId("placement-panel").count()) === 0);
  await p.getByTestId("withdrawals").waitFor();

  // Treasury of the generation asset: the API's figures.
  const t = await admin.get(`/v1/admin/treasury?asset_id=${GEN}`);
  await p.getByTestId("tab-treasury").click();
  await p.getByTestId("asset-picker").selectOption(String(GEN));
  await until("the GUSDT treasury", async () => (await p.getByTestId("t-company").getAttribute("data-base")) === t.company_total.base);
  assert.equal(await p.getByTestId("t-liabilities").getAttribute("data-base"), t.liabilities.base);

  // Monitoring names GUSDT and shows its reconciliation in GUSDT, not a bare token address in base units.
  await p.getByTestId("tab-monitoring").click();
  const row = p.getByTestId("recon-GUSDT");
  await row.waitFor();
  const onchain = row.getByTestId("recon-onchain");
  assert.match(await onchain.innerText(), /GUSDT$/);
  const base = await onchain.getAttribute("data-base");
  const shown = (await onchain.innerText()).replace(/[^\d.]/g, "");
  assert.equal(shown.split(".")[0], (BigInt(base) / 10n ** 6n).toString(), "in whole GUSDT, not base units");

  // Periods: the generation plan's week closes.
  await p.getByTestId("tab-periods").click();
  await p.getByTestId("weeks").waitFor();
  assert.match(await p.getByTestId("weeks").innerText(), /GUSDT/);
  await b.screenshot("27-console-plans");
  await b.close();
});

/**
 * Staff pay a member of `asset` (a plan with a withdrawal fee) from the console: a fresh member under the demo's account
 * 2, and a referral of theirs buying a package, so that the member is owed `owedOf(plan, pkg)`; built, proposed,
 * approved, signed and sent; the ledger, the batch, the console, the wallet and the payouts statement all keep the
 * plan's fee of the version in force (issue 66, item 1: a test per plan's asset).
 */
async function payFromConsole({ asset, token, plan, freshMemberKey, owedOf, shot }) {
  const pkg = plan.packages[0].base;
  const demo = privateKeyToAccount(ANVIL_KEYS[2]).address;
  const member = await registerDirectly(await freshMemberKey(), demo, asset, pkg);
  await registerDirectly(await freshMemberKey(), member.address, asset, pkg);
  const owed = owedOf(plan, pkg);
  await until("the member's credit pending", async () => {
    const me = await member.get("/v1/users/me");
    return me.assets.find((a) => a.asset_id === asset)?.balances.pending === owed.toString();
  });
  await member.post("/v1/users/withdraw", { asset_id: asset });

  // Finance builds the asset's batch and proposes it in the console.
  const finance = await Api.signIn(STAFF.finance);
  const f = await openBrowser({ key: STAFF.finance });
  const p = f.page;
  await p.goto(BASE + "/admin#payouts");
  await signInThroughPage(p);
  await p.getByTestId("asset-picker").selectOption(String(asset));
  await p.getByTestId("build-batch").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  const detail = p.getByTestId("batch-detail");
  await detail.waitFor();
  const id = Number((await detail.locator("h3").innerText()).match(/Batch #(\d+)/)[1]);
  const built = await finance.get(`/v1/admin/payouts/batches/${id}`);
  assert.equal(built.asset_id, asset);
  const entry = built.entries.find((e) => e.address.toLowerCase() === member.address.toLowerCase());
  assert.ok(entry, `the member is in batch ${id}`);
  // The fee of the version in force (the public plan shows the newest version, which may start at a later block).
  const head = await chain.getBlockNumber();
  const inForce = (await finance.get(`/v1/admin/plan?asset_id=${asset}`)).versions.filter((v) => BigInt(v.effective_from_block) <= head).at(-1);
  const fee = (owed * BigInt(inForce.params.withdrawal_fee_bps) + 9999n) / 10000n;
  assert.equal(entry.owed.base, owed.toString());
  assert.equal(entry.amount.base, (owed - fee).toString(), "the entry pays what is owed less ⌈fee⌉");
  assert.equal(entry.fee.base, fee.toString());
  // The console shows the fee kept beside what the entry pays.
  const shown = detail.getByTestId("batch-entry").filter({ has: p.locator(`code[data-address="${entry.address}"]`) });
  assert.equal(await shown.getByTestId("entry-amount").getAttribute("data-base"), entry.amount.base);
  assert.equal(await shown.getByTestId("entry-fee").locator(".amount").getAttribute("data-base"), fee.toString());
  await detail.getByTestId("batch-propose").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  const notice = detail.getByTestId("batch-proposed");
  await notice.waitFor();
  const auth = Number((await notice.innerText()).match(/Proposal #(\d+)/)[1]);
  await approveWithStaff(await finance.get(`/v1/admin/authorisations/${auth}`));

  // Signed and sent from the console; the listener settles it.
  const before = await chain.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [member.address] });
  await p.reload();
  await p.getByTestId("asset-picker").selectOption(String(asset));
  await p.getByTestId("batch-row").filter({ hasText: new RegExp(`#${id}(?!\\d)`) }).first().getByRole("button", { name: "Open" }).click();
  await detail.getByTestId("batch-sign").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the batch signed", async () => (await detail.getByTestId("batch-status").innerText()) === "signed");
  await detail.getByTestId("batch-submit").click();
  await p.locator("dialog.confirm").getByTestId("confirm-ok").click();
  await until("the batch executed", async () => (await detail.getByTestId("batch-status").innerText()) === "executed", { timeout: 120_000 });
  const after = await chain.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [member.address] });
  assert.equal(after - before, owed - fee, "the wallet received the entry less the withdrawal fee");
  await until("the member's credit settled", async () => {
    const me = await member.get("/v1/users/me");
    const b = me.assets.find((a) => a.asset_id === asset).balances;
    return b.pending === "0" && b.batched === "0" && b.settled === owed.toString();
  });
  await f.screenshot(shot);

  // The payouts statement of this period, downloaded from the Treasury tab: the member's entry, gross, fee and net.
  await p.getByTestId("tab-treasury").click();
  await p.getByTestId("asset-picker").selectOption(String(asset));
  const statements = p.getByTestId("statements");
  await statements.waitFor();
  const [download] = await Promise.all([p.waitForEvent("download"), statements.getByTestId("statements-payouts").click()]);
  const csv = readFileSync(await download.path(), "utf8");
  const rows = readCsv(csv);
  const mine = rows.find((r) => r.batch_id === String(id) && r.recipient.toLowerCase() === member.address.toLowerCase());
  assert.ok(mine, `the member's entry of batch ${id} in ${rows.length} rows`);
  assert.equal(mine.gross_base, owed.toString());
  assert.equal(mine.fee_base, fee.toString());
  assert.equal(mine.net_base, (owed - fee).toString());
  assert.equal(mine.outcome, "paid");
  // A period the API would refuse is refused here first.
  await statements.getByTestId("statements-to").fill(await statements.getByTestId("statements-from").inputValue());
  await statements.getByTestId("statements-invalid").waitFor();
  assert.equal(await statements.getByTestId("statements-payouts").isDisabled(), true);
  await f.close();
}

test("staff pay a generation-plan member from the console: built, proposed, approved, signed, sent; the wallet receives the entry less the fee", async () => {
  const plan = (await Api.raw("GET", "/v1/public/plan")).body.generation.find((g) => g.asset_id === GEN);
  // Level 1 of the referral's package.
  const owedOf = (p, pkg) => (BigInt(pkg) * BigInt(p.levels[0].bps)) / 10000n;
  await payFromConsole({ asset: GEN, token: CHAIN.generation_token, plan, freshMemberKey: freshGenerationKey, owedOf, shot: "27-generation-paid" });
});

test("staff pay a binary-plan member from the console: the entry keeps the plan's 5 % withdrawal fee on the chain, in the ledger and the statement", async () => {
  const plan = (await Api.raw("GET", "/v1/public/plan")).body.binary.find((b) => b.asset_id === BIN);
  assert.ok(plan.withdrawal_fee_bps > 0, "the devnet's binary plan publishes a withdrawal fee");
  // The sponsor's DIRECT on the referral's package (PLAN-BINARY.md §3.3).
  const owedOf = (p, pkg) => (BigInt(pkg) * BigInt(p.direct_bps)) / 10000n;
  await payFromConsole({ asset: BIN, token: CHAIN.binary_token, plan, freshMemberKey: () => freshTokenKey(CHAIN.binary_token), owedOf, shot: "27-binary-paid" });
});
