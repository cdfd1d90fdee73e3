// A member leaves before a change of power takes effect, end to end on the devnet (issue 65, contracts/EXIT.md §12):
// a fresh GUSDT member owed a level-1 credit waits for a commitment holding their leaf; the admin schedules a change
// at the Settlement; the member opens the static exit page from its file:// URL, loads their proof, and leaves with
// their own wallet — paid by the contract, with nobody's signature, exactly what `previewLeave` priced (their leaf's
// pending, nothing having been paid since). Then the operator's side follows the chain: the listener applies the
// `MemberLeft` (the API says the member exited, at the leave's block, and counts the leave as received), the member
// is told (a `member.left` notification naming what was paid), and a second leave is refused by the contract. The
// change is cancelled afterwards; only this fresh member's standing changes for good.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { erc20Abi, getAddress, parseEventLogs } from "viem";
import { CHAIN, SETTLEMENT_ABI, asSettlementAdmin, chain, openBrowser, test, until } from "./lib/stack.mjs";
import { EXIT_ABI, EXIT_PAGE_ALLOW, downloads, exitOf, openExitPage } from "./lib/exit.mjs";
import { GEN, memberWithCredit } from "./lib/generation.mjs";

const TOKEN = getAddress(CHAIN.generation_token);

const asAdmin = asSettlementAdmin;

const latestEpoch = async () => (await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [TOKEN] }))[2];
const balanceOf = (address) => chain.readContract({ address: TOKEN, abi: erc20Abi, functionName: "balanceOf", args: [address] });

test("a member leaves through the exit page while a change is pending: paid by the contract, the ledger follows, the member is told", async () => {
  for (const c of await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "pendingChanges" })) await asAdmin("cancelChange", [c.id]);
  const { key, member, owed } = await memberWithCredit();
  const address = getAddress(member.address);
  const dir = downloads();

  // A commitment holding the member's leaf: the solvency worker commits about once a minute.
  let proof;
  await until(
    "a committed proof of the member's level-1 credit",
    async () => {
      const p = await member.get(`/v1/users/solvency-proof?asset_id=${GEN}`);
      if (BigInt(p.epoch) !== (await latestEpoch()) || BigInt(p.balances.pending) !== owed) return false;
      proof = p;
      return true;
    },
    { timeout: 240_000, every: 3_000 },
  );
  const file = join(dir, `leave-proof-${proof.epoch}.json`);
  writeFileSync(file, JSON.stringify(proof));

  const receipt = await asAdmin("schedulePushGas", [61_000n, 251_000n]);
  const [scheduled] = parseEventLogs({ abi: SETTLEMENT_ABI, eventName: "ChangeScheduled", logs: receipt.logs });
  const b = await openBrowser({ key });
  const { page } = b;
  try {
    await openExitPage(page, "evm");
    await page.getByLabel("Proof file").setInputFiles(file);
    await page.getByTestId("exit-member").waitFor({ timeout: 30_000 });
    const offer = page.getByTestId("exit-leave");
    await offer.waitFor({ timeout: 60_000 });
    assert.equal(await offer.getAttribute("data-pending"), "1");
    await page.getByTestId("exit-leave-check").click();
    const preview = page.getByTestId("exit-leave-preview");
    await preview.waitFor({ timeout: 60_000 });
    // Nothing was paid to the member since the commitment: the whole leaf's pending, as previewLeave prices it.
    assert.equal(BigInt(await preview.getAttribute("data-entitlement")), owed);
    assert.equal(BigInt(await preview.getAttribute("data-subtracted")), 0n);
    assert.equal(BigInt(await preview.getAttribute("data-amount")), owed);

    // The member leaves with their own wallet; a double click sends once.
    const before = await balanceOf(address);
    const fromBlock = await chain.getBlockNumber();
    await page.getByTestId("exit-leave-send").dblclick();
    await page.getByTestId("exit-done").waitFor({ timeout: 90_000 });
    assert.equal((await balanceOf(address)) - before, owed, "the wallet received exactly the leaf's due");
    const left = await chain.getContractEvents({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, eventName: "MemberLeft", args: { member: address }, fromBlock });
    assert.equal(left.length, 1, "one leave on the chain");
    assert.equal(left[0].args.amount, owed);
    assert.equal(left[0].args.due, owed);
    assert.equal(left[0].args.token, TOKEN);
    assert.equal(await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "hasLeft", args: [address, TOKEN] }), true);
    await b.screenshot("39-left");

    // A second leave is refused by the exit contract itself.
    const { exits } = await exitOf(chain, CHAIN.settlement);
    const [, exited] = await chain.readContract({ address: exits, abi: EXIT_ABI, functionName: "memberExit", args: [TOKEN, address] });
    assert.equal(exited, true);

    // The operator's ledger follows the chain: exited from the leave's block, the leave counted as received.
    const standing = await until(
      "the ledger applied the leave",
      async () => {
        const s = await member.standing(GEN);
        return s?.status === "exited" ? s : false;
      },
      { timeout: 120_000 },
    );
    assert.equal(BigInt(standing.exited_block), left[0].blockNumber);
    assert.equal(standing.balances.pending, "0");
    // The member is told: what was paid, for which due.
    const told = await until(
      "the member.left notification",
      async () => (await member.get("/v1/users/notifications?groups=money,account&limit=20")).items.find((n) => n.kind === "member.left") ?? false,
      { timeout: 120_000 },
    );
    assert.equal(told.data.amount, owed.toString(), "the notification says what the leave paid");
    assert.equal(told.data.due, owed.toString());
    assert.equal(told.data.forfeited, "0", "nothing forfeited: the leave paid everything the ledger owed");
    assert.equal(getAddress(told.data.to), address);
  } finally {
    await asAdmin("cancelChange", [scheduled.args.id]);
    await b.close(EXIT_PAGE_ALLOW);
  }
});
