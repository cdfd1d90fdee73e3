// A member leaves before a change of power takes effect, on the TRON stand-in, through the dApp (issue 65; the EVM
// half, from the exit page's file, is tests/39-leave-drill.test.mjs; contracts/EXIT.md §12):
// - a fresh TronLink member in TRON USDT (asset 3) is owed a direct reward (a referral of their own), and the chain
//   commits an epoch whose proof holds it;
// - the admin (anvil account 0, the TRON Settlement's admin on the stand-in) schedules a signer rotation there — to
//   the signer key the contract already has, so applying it changes nobody's power and the devnet's signer keeps
//   signing;
// - the member signs in to the dApp with TronLink; the dashboard's badge verifies and keeps their proof in the
//   browser, the pending-change banner says what is scheduled, and its link opens the exit page the backend serves
//   (/exit.html, same origin: it offers the dApp's kept proofs); the member picks the kept proof and leaves with
//   TronLink: paid by the contract exactly what the page priced with `previewLeave` (the leaf's due, nothing having
//   been paid since); the listener applies the `MemberLeft` (the API says the member exited at that block), the member
//   is told (`member.left`), and a second leave is refused (the page offers none; the exit contract: AlreadyExited);
// - then the rotation applies: once its delay has passed by the chain's clock the admin applies it; `signer()` is the
//   rotated key, nothing is pending, and the next commitment still lands on TRON.
// The devnet commits an epoch about once a minute and the API serves it about 18 s later (TRON's solidified lag), while
// only a proof of the latest commitment can leave: the member signs in to the dApp right after the API serves a new
// epoch, and goes back to the dApp for a fresh proof if the chain committed the next one meanwhile (the page says the
// proof is stale, or the leave reverts). Only this fresh member's standing changes for good; no change is left pending.
import assert from "node:assert/strict";
import { getAddress, parseEventLogs } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, BASE, SETTLEMENT_ABI, openBrowser, test, until } from "./lib/stack.mjs";
import { TestWallet } from "./lib/wallet.mjs";
import { EXIT_ABI, exitOf, keptByBadge } from "./lib/exit.mjs";
import {
  TRON_CHAIN,
  TRON_RPC,
  TRON_USDT,
  evmAddress,
  freshTronKey,
  registerTronDirectly,
  signInWithTronLink,
  tronAddress,
  tronChain,
  tronLinkFor,
  tronUsdtBalance,
} from "./lib/tron.mjs";

const SETTLEMENT = getAddress(TRON_CHAIN.settlement);
const TOKEN = getAddress(TRON_CHAIN.usdt);
/** The devnet's change delay (abi::deployment::Bounds::development). */
const DELAY = 120n;

const read = (functionName, args = []) => tronChain.readContract({ address: SETTLEMENT, abi: SETTLEMENT_ABI, functionName, args });
const latest = async () => {
  const [, , epoch, asOfBlock] = await read("latestLiabilities", [TOKEN]);
  return { epoch, asOfBlock };
};
/** What a leaf of the proof counts towards leaving (reserved + held + pending + batched; claimable stays claimable). */
const entitlementOf = (b) => BigInt(b.reserved) + BigInt(b.held) + BigInt(b.pending) + BigInt(b.batched);

/** Sends `functionName(args)` to the TRON Settlement as its admin (anvil account 0, as test 18 does); the receipt. */
async function asAdmin(functionName, args) {
  const admin = new TestWallet({ key: ANVIL_KEYS[0], rpcUrl: TRON_RPC, chainId: TRON_CHAIN.chain_id });
  const hash = await admin.client.writeContract({ address: SETTLEMENT, abi: SETTLEMENT_ABI, functionName, args });
  const receipt = await tronChain.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success", `${functionName} as the admin`);
  return receipt;
}

/** `f` reverts with the custom error `name` (viem's error chain). */
async function revertsWith(f, name) {
  try {
    await f();
  } catch (e) {
    const found = e.walk?.((c) => c.data?.errorName === name);
    assert.ok(found, `expected ${name}, got: ${e.shortMessage ?? e.message}`);
    return;
  }
  assert.fail(`expected ${name}, but it went through`);
}

test("TRON: a member leaves through the dApp's exit page while a signer rotation is pending, paid exactly their due and told; the rotation then applies", async (t) => {
  // Nothing pending before (a run that failed half-way cancels its own change; this clears any other).
  for (const c of await read("pendingChanges")) await asAdmin("cancelChange", [c.id]);
  const pendingBefore = await read("pendingCount");
  assert.equal(pendingBefore, 0n);

  // A fresh TronLink member under the demo's account 2, owed a direct reward: their referrals until the ledger owes
  // them something (the plan may place a referral's fee in the auto-pool instead).
  const key = await freshTronKey();
  const sponsor = tronAddress(privateKeyToAccount(ANVIL_KEYS[2]).address);
  const member = await registerTronDirectly(key, sponsor);
  const address = evmAddress(member.tron);
  const owedNow = async () => entitlementOf((await member.standing(TRON_USDT)).balances);
  for (let n = 0; (await owedNow()) === 0n; n++) {
    assert.ok(n < 4, `the fresh member is owed nothing after ${n} referrals`);
    await registerTronDirectly(await freshTronKey(), member.tron);
  }
  const owed = await owedNow();
  const registeredBy = await tronChain.getBlockNumber();

  // A commitment holding the member's leaf (the worker commits about once a minute on TRON).
  await until(
    "a committed proof of the member's reward at the TRON Settlement's latest epoch",
    async () => {
      const p = await member.get(`/v1/users/solvency-proof?asset_id=${TRON_USDT}`);
      const l = await latest();
      return BigInt(p.epoch) === l.epoch && l.asOfBlock >= registeredBy && entitlementOf(p.balances) === owed;
    },
    { timeout: 240_000, every: 2_000 },
  );

  // The admin schedules a signer rotation to the key the contract already has (the contract accepts any non-zero
  // key): a real change of the signer, announced and waiting its delay, that leaves the devnet's signer signing.
  const signer = await read("signer");
  assert.equal(signer.toLowerCase(), TRON_CHAIN.signer.toLowerCase(), "the devnet's signer key");
  const receipt = await asAdmin("scheduleSignerRotation", [signer]);
  const [scheduled] = parseEventLogs({ abi: SETTLEMENT_ABI, eventName: "ChangeScheduled", logs: receipt.logs });
  assert.ok(scheduled, "a ChangeScheduled event");
  const { id, readyAt } = scheduled.args;
  let applied = false;
  const tronLink = tronLinkFor(key);
  const b = await openBrowser({ tronLink });
  const { page } = b;
  try {
    assert.equal(await read("pendingCount"), pendingBefore + 1n);
    assert.equal(await read("leaveOpen"), true, "a change pending: members may leave");
    const scheduledAt = (await tronChain.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
    assert.equal(readyAt, scheduledAt + DELAY, "ready after the devnet's delay by the chain's clock");

    // The member in the dApp with TronLink: the banner says what is scheduled.
    await page.goto(BASE + "/");
    await signInWithTronLink(page);
    const banner = page.getByTestId("dashboard").getByTestId("pending-changes");
    await banner.waitFor({ timeout: 45_000 });
    const item = banner.getByTestId("pending-change");
    assert.equal(await item.count(), 1, await banner.innerText());
    assert.equal(await item.getAttribute("data-id"), id);
    assert.equal(await item.getAttribute("data-kind"), "signer");
    assert.match(await item.innerText(), new RegExp(`^The operator has scheduled a new signer key ${tronAddress(signer)}.*; it can take effect in \\d`, "i"));
    await b.screenshot("41-leave-tron-banner");

    // Only a proof of the latest commitment can leave, and the next one lands about a minute after the last (the API
    // serves each ~18 s after it lands): the member takes a proof the API has just begun to serve, and tries again
    // with the next one if the chain committed meanwhile.
    const { exits } = await exitOf(tronChain, SETTLEMENT);
    let done = null;
    for (let attempt = 1; !done; attempt++) {
      assert.ok(attempt <= 3, "the member could not leave before the next commitment in 3 tries");
      const served = BigInt((await member.get(`/v1/users/solvency-proof?asset_id=${TRON_USDT}`)).epoch);
      const proof = await until(
        `the API serving a new epoch after ${served}, the chain's latest`,
        async () => {
          const p = await member.get(`/v1/users/solvency-proof?asset_id=${TRON_USDT}`);
          return BigInt(p.epoch) > served && BigInt(p.epoch) === (await latest()).epoch && p;
        },
        { timeout: 150_000, every: 1_000 },
      );
      assert.equal(entitlementOf(proof.balances), owed, "the leaf holds what the ledger owes the member");

      // The dashboard's badge verifies the proof through TronLink and keeps it in this browser.
      await page.goto(BASE + "/");
      await page.getByTestId("sign-out").waitFor({ timeout: 30_000 });
      const kept = await keptByBadge(page, "asset-USDT-TRON");
      if (BigInt(kept.epoch) !== (await latest()).epoch) continue;
      assert.equal(BigInt(kept.epoch), BigInt(proof.epoch), "the badge kept the proof the API serves");

      // The banner's link: the exit page the backend serves, which offers the proofs the dApp kept here.
      await banner.waitFor({ timeout: 45_000 });
      await banner.locator('a[href="/exit.html"]').click();
      await page.waitForURL(`${BASE}/exit.html`);
      await page.getByRole("heading", { name: "Members' exit" }).waitFor();
      await page.getByTestId("exit-connect-tron").click();
      await page.getByTestId("exit-wallet").waitFor({ timeout: 10_000 });
      assert.equal(await page.getByTestId("exit-wallet").getAttribute("data-chain"), String(TRON_CHAIN.chain_id));
      await page.getByTestId("exit-saved").getByTestId("exit-use-saved").filter({ hasText: `epoch ${kept.epoch} of ${address.toLowerCase()}` }).click();
      assert.equal((await page.getByTestId("exit-proof").getAttribute("data-member")).toLowerCase(), address.toLowerCase());
      const memberPart = page.getByTestId("exit-member");
      await memberPart.waitFor({ timeout: 60_000 });
      const offer = page.getByTestId("exit-leave");
      await offer.waitFor({ timeout: 60_000 });
      assert.equal(await offer.getAttribute("data-pending"), "1", "one change pending, as the page read it through TronLink");
      if ((await memberPart.getAttribute("data-epoch-matches")) !== "true") continue; // committed meanwhile: a fresh proof
      await page.getByTestId("exit-leave-check").click();
      const preview = page.getByTestId("exit-leave-preview");
      await preview.or(page.getByTestId("exit-leave-refused")).waitFor({ timeout: 60_000 });
      if (!(await preview.count())) {
        assert.ok((await latest()).epoch > BigInt(kept.epoch), `refused on the latest commitment: ${await page.getByTestId("exit-leave-refused").innerText()}`);
        continue;
      }
      // Nothing was paid to the member since the commitment: the leaf's whole due, as previewLeave prices it.
      assert.equal(BigInt(await preview.getAttribute("data-entitlement")), owed);
      assert.equal(BigInt(await preview.getAttribute("data-subtracted")), 0n);
      const amount = BigInt(await preview.getAttribute("data-amount"));
      assert.equal(amount, owed);
      assert.match(await page.getByTestId("exit-leave-send").innerText(), /^Leave now: receive [\d.,]+ USDT$/);

      // The member leaves with TronLink; a double click sends once.
      const before = await tronUsdtBalance(address);
      const fromBlock = await tronChain.getBlockNumber();
      const sent = tronLink.broadcast.length;
      await page.getByTestId("exit-leave-send").dblclick();
      await page.getByTestId("exit-done").or(page.getByTestId("exit-error")).waitFor({ timeout: 90_000 });
      if (!(await page.getByTestId("exit-done").count())) {
        // The leave reverted: only because the chain committed the next epoch after the page read it.
        assert.ok((await latest()).epoch > BigInt(kept.epoch), `the leave failed on the latest commitment: ${await page.getByTestId("exit-error").innerText()}`);
        assert.equal((await exitMember(exits, address)).exited, false);
        continue;
      }
      assert.equal(tronLink.broadcast.length - sent, 1, "one transaction broadcast");
      done = { amount, fromBlock, before, epoch: BigInt(kept.epoch), proof };
      t.diagnostic(`left on try ${attempt}, on epoch ${kept.epoch}`);
    }

    // Paid exactly what the page priced, by the contract, to the member's own address.
    assert.equal((await tronUsdtBalance(address)) - done.before, done.amount, "the wallet received exactly previewLeave's amount");
    const left = await tronChain.getContractEvents({ address: SETTLEMENT, abi: SETTLEMENT_ABI, eventName: "MemberLeft", args: { member: address }, fromBlock: done.fromBlock });
    assert.equal(left.length, 1, "one leave on the chain");
    assert.equal(left[0].args.amount, owed);
    assert.equal(left[0].args.due, owed);
    assert.equal(getAddress(left[0].args.token), TOKEN);
    assert.equal(getAddress(left[0].args.to), address);
    const exitLeft = await tronChain.getContractEvents({ address: exits, abi: EXIT_ABI, eventName: "Left", args: { member: address }, fromBlock: done.fromBlock });
    assert.equal(exitLeft.length, 1);
    assert.equal(exitLeft[0].args.epoch, done.epoch, "left on the commitment of the kept proof");
    assert.equal(await read("hasLeft", [address, TOKEN]), true);
    assert.equal((await exitMember(exits, address)).exited, true);
    await b.screenshot("41-left-tron");

    // A second leave is refused: the page, read again, offers none; the exit contract refuses it (AlreadyExited).
    await page.getByTestId("exit-refresh").click();
    await until("the page read the chain again", async () => (await page.getByTestId("exit-refresh").isEnabled()) && (await page.getByTestId("exit-done").count()) === 1, { timeout: 30_000 });
    assert.equal(await page.getByTestId("exit-leave-send").count(), 0, "no second leave offered");
    const p = done.proof;
    const leaf = { member: address, reserved: BigInt(p.balances.reserved), held: BigInt(p.balances.held), pending: BigInt(p.balances.pending), batched: BigInt(p.balances.batched), claimable: BigInt(p.balances.claimable), salt: p.salt };
    const siblings = p.siblings.map((x) => ({ hash: x.hash, sum: BigInt(x.sum) }));
    await revertsWith(
      () => tronChain.simulateContract({ account: address, address: exits, abi: EXIT_ABI, functionName: "leave", args: [TOKEN, leaf, BigInt(p.index), siblings, [], address] }),
      "AlreadyExited",
    );

    // The operator's ledger follows the chain: exited from the leave's block, nothing left pending.
    const standing = await until(
      "the ledger applied the leave",
      async () => {
        const s = await member.standing(TRON_USDT);
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
    assert.equal(told.data.to.startsWith("T") ? evmAddress(told.data.to) : getAddress(told.data.to), address);

    // Then the rotation applies: once its delay has passed by the chain's clock (the contract agrees: applying it no
    // longer reverts ChangeNotReady), the admin applies it.
    const admin = privateKeyToAccount(ANVIL_KEYS[0]).address;
    await until(
      "the rotation's delay passed by the TRON chain's clock",
      async () => {
        if ((await tronChain.getBlock()).timestamp < readyAt) return false;
        await tronChain.simulateContract({ account: admin, address: SETTLEMENT, abi: SETTLEMENT_ABI, functionName: "applyChange", args: [id] });
        return true;
      },
      { timeout: Number(DELAY) * 1000 + 120_000, every: 2_000 },
    );
    const before = await latest();
    const appliedReceipt = await asAdmin("applyChange", [id]);
    applied = true;
    const [change] = parseEventLogs({ abi: SETTLEMENT_ABI, eventName: "ChangeApplied", logs: appliedReceipt.logs });
    assert.equal(change?.args.id, id, "the change applied");
    const [rotated] = parseEventLogs({ abi: SETTLEMENT_ABI, eventName: "SignerRotated", logs: appliedReceipt.logs });
    assert.ok(rotated, "SignerRotated");
    assert.equal(rotated.args.newSigner, signer);
    assert.equal(await read("signer"), signer, "signer() is the rotated key");
    assert.equal(await read("pendingCount"), pendingBefore, "nothing left pending");
    assert.equal(await read("leaveOpen"), false, "no change pending: leaving alone is closed again");
    // The signer service signs on: the next commitment lands on TRON.
    await until("a commitment on TRON after the rotation", async () => (await latest()).epoch > before.epoch, { timeout: 180_000, every: 2_000 });
    await b.screenshot("41-leave-tron-end");
    await b.close();
  } finally {
    // A failure half-way leaves no change pending (the browser, left open, is screenshot and closed by `test`).
    if (!applied && (await read("pendingChanges")).some((c) => c.id === id)) await asAdmin("cancelChange", [id]);
  }
});

/** `memberExit(token, member)` of the exit contract, by name. */
async function exitMember(exits, address) {
  const [paidAfterCommitment, exited] = await tronChain.readContract({ address: exits, abi: EXIT_ABI, functionName: "memberExit", args: [TOKEN, address] });
  return { paidAfterCommitment, exited };
}
