// Leaving before a change of power takes effect (issue 65, contracts/EXIT.md §12), the part that leaves the devnet as
// it found it: while a change is pending at the Settlement, the exit page (from its file:// URL, reading the chain
// through the member's own wallet) offers the member to leave now and works out what leaving pays — their leaf of the
// latest commitment, less what the payout batches since paid them, rebuilt from the chain and priced by the exit
// contract's own `previewLeave` — beside how many changes are pending; nothing is offered while none is. The leave
// itself (money moving for good) is the drill's, run last.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEventLogs } from "viem";
import { ANVIL_KEYS, Api, BNB, CHAIN, SETTLEMENT_ABI, asSettlementAdmin, chain, openBrowser, test, until } from "./lib/stack.mjs";
import { EXIT_ABI, EXIT_PAGE_ALLOW, downloads, exitOf, openExitPage } from "./lib/exit.mjs";

const NATIVE = "0x0000000000000000000000000000000000000000";

const asAdmin = asSettlementAdmin;

const pendingCount = () => chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "pendingCount" });

/** Cancels every pending change (a test that failed half-way leaves none behind). */
async function cancelAll() {
  const pending = await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "pendingChanges" });
  for (const c of pending) await asAdmin("cancelChange", [c.id]);
}

test("while a change is pending the exit page offers leaving and prices it with previewLeave; nothing while none is", async () => {
  await cancelAll();
  const api = await Api.signIn(ANVIL_KEYS[2]);
  const dir = downloads();
  const b = await openBrowser({ key: ANVIL_KEYS[2] });
  const { page } = b;
  const { exits } = await exitOf(chain, CHAIN.settlement);
  const latestEpoch = async () => (await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [NATIVE] }))[2];

  // The member's proof of the latest commitment, loaded into the page from a file (the devnet commits about once a
  // minute: tried again until the page reads the epoch the proof is of).
  await openExitPage(page, "evm");
  let proof;
  await until(
    "the page holds a proof of the latest commitment",
    async () => {
      proof = await api.get(`/v1/users/solvency-proof?asset_id=${BNB}`);
      if (BigInt(proof.epoch) !== (await latestEpoch())) return false;
      const file = join(dir, `proof-${proof.epoch}.json`);
      writeFileSync(file, JSON.stringify(proof));
      await page.getByLabel("Proof file").setInputFiles(file);
      const member = page.getByTestId("exit-member");
      await member.waitFor({ timeout: 30_000 });
      await until("the page read the chain", async () => (await page.getByTestId("exit-state").count()) > 0);
      return (await member.getAttribute("data-epoch-matches")) === "true";
    },
    { timeout: 240_000, every: 2_000 },
  );
  // Nothing pending: no leaving offered.
  assert.equal(await pendingCount(), 0n);
  assert.equal(await page.getByTestId("exit-leave").count(), 0, "no change pending: nothing offered");

  // The admin schedules a change (push gas): the page, read again, offers leaving and says how many are pending.
  const receipt = await asAdmin("schedulePushGas", [60_000n, 250_000n]);
  const [scheduled] = parseEventLogs({ abi: SETTLEMENT_ABI, eventName: "ChangeScheduled", logs: receipt.logs });
  try {
    assert.equal(await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "leaveOpen" }), true);
    await page.getByTestId("exit-refresh").click();
    const leave = page.getByTestId("exit-leave");
    await leave.waitFor({ timeout: 30_000 });
    assert.equal(await leave.getAttribute("data-pending"), "1");
    assert.match(await leave.innerText(), /A change to who can move this contract's money is scheduled .* every member may leave now, alone, with nobody's permission/s);

    // What leaving pays, worked out by the page: the leaf, less what batches since paid, priced by previewLeave.
    if ((await page.getByTestId("exit-member").getAttribute("data-epoch-matches")) === "true") {
      await page.getByTestId("exit-leave-check").click();
      const shown = page.getByTestId("exit-leave-preview").or(page.getByTestId("exit-leave-refused"));
      await shown.waitFor({ timeout: 60_000 });
      const preview = page.getByTestId("exit-leave-preview");
      if (await preview.count()) {
        const leaf = proof.balances;
        const entitlement = BigInt(leaf.reserved) + BigInt(leaf.held) + BigInt(leaf.pending) + BigInt(leaf.batched);
        assert.equal(BigInt(await preview.getAttribute("data-entitlement")), entitlement, "the leaf's reserved + held + pending + batched");
        const subtracted = BigInt(await preview.getAttribute("data-subtracted"));
        assert.ok(subtracted <= entitlement, "never more than the leaf is subtracted");
        // The devnet's custody covers what members are owed: the whole rest is paid, and the exit contract agrees.
        assert.equal(BigInt(await preview.getAttribute("data-amount")), entitlement - subtracted);
        assert.match(await page.getByTestId("exit-leave-send").innerText(), /^Leave now: receive [\d.]+ BNB$/);
      } else {
        // The latest commitment moved on while the page worked it out: the exit contract refuses the old leaf, in words.
        assert.match(await page.getByTestId("exit-leave-refused").innerText(), /proof|root/i);
      }
    }
    await b.screenshot("36-leave-window");
  } finally {
    await asAdmin("cancelChange", [scheduled.args.id]);
  }
  // Cancelled: nothing pending, nothing offered.
  assert.equal(await pendingCount(), 0n);
  await page.getByTestId("exit-refresh").click();
  await until("the offer gone", async () => (await page.getByTestId("exit-leave").count()) === 0, { timeout: 30_000 });
  // The member has not left: the exit contract says so.
  const [, exited] = await chain.readContract({ address: exits, abi: EXIT_ABI, functionName: "memberExit", args: [NATIVE, proof.user] });
  assert.equal(exited, false);
  await b.close(EXIT_PAGE_ALLOW);
});
