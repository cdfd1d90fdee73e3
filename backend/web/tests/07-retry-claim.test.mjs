// Recovery paths against the real chain. A submitted payout batch whose transaction is dropped from the node's
// pool, then reverted: the admin's Retry first finds it still pending (nothing sent), then dropped, then
// reverted, and each time resends the same signed batch (same nonce, same signature) until it executes. One recipient's wallet refuses the payment (an
// account delegated through EIP-7702 to a contract that reverts on every call, as a smart wallet can): its push
// fails, the contract keeps the amount claimable, and the user — with nothing pending, so no withdrawal request —
// claims it from the dashboard through the contract (`GET /v1/users/claim`), to another address. A user with
// nothing claimable is offered no claim.
//
// Last file on purpose: pausing block production needs anvil's mining mode changed, and anvil cannot return to
// its "mixed" mode (a block at once per transaction and one every second) over RPC; it goes back to a block every
// second, which the listener and the pages handle the same way, only a little slower.
import assert from "node:assert/strict";
import { decodeFunctionData, getAddress, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  ANVIL_KEYS,
  Api,
  BASE,
  BNB,
  CHAIN,
  CHAIN_ID,
  RPC,
  SETTLEMENT_ABI,
  chain,
  freshKey,
  openBrowser,
  proposeAndApprove,
  registerDirectly,
  rpc,
  signInThroughPage,
  test,
  until,
} from "./lib/stack.mjs";
import { TestWallet } from "./lib/wallet.mjs";

const NATIVE = "0x0000000000000000000000000000000000000000";
const claimableOf = (account) =>
  chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "claimable", args: [NATIVE, account] });

/** Shared by the two tests: the wallet that refuses payments and what the batch owed it. */
const refuser = { key: null, address: null, amount: null, human: null };

/** Delegates `key`'s account (EIP-7702, signed by the account itself) to a fresh contract that reverts on any call. */
async function refusePayments(key) {
  const w = new TestWallet({ key, rpcUrl: RPC, chainId: CHAIN_ID });
  // Runtime `PUSH1 0 PUSH1 0 REVERT`, behind a constructor that returns it.
  const deploy = await w.client.sendTransaction({ data: "0x600580600b6000396000f360006000fd" });
  const reverter = (await chain.waitForTransactionReceipt({ hash: deploy })).contractAddress;
  const authorization = await w.client.signAuthorization({ contractAddress: reverter, executor: "self" });
  const hash = await w.client.sendTransaction({ authorizationList: [authorization], to: "0x000000000000000000000000000000000000dEaD", value: 0n });
  assert.equal((await chain.waitForTransactionReceipt({ hash })).status, "success");
  assert.equal((await chain.getCode({ address: w.address }))?.slice(0, 8), "0xef0100", "the account is delegated");
  // It still refuses a plain payment, as the contract's push will find.
  await assert.rejects(chain.call({ account: privateKeyToAccount(ANVIL_KEYS[0]).address, to: w.address, value: 1n }));
}

test("admin: Retry finds a submitted batch pending, then dropped, then reverted, and resends the same signed batch until executed", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  refuser.key = await freshKey();
  const api = await registerDirectly(refuser.key, admin.address, BNB);
  refuser.address = api.address;
  await registerDirectly(await freshKey(), refuser.address, BNB); // its direct reward
  await refusePayments(refuser.key);
  // Build, propose, approve and sign through the API (the page's build and sign are covered by 04-admin).
  for (const old of (await admin.get(`/v1/admin/payouts/batches?asset_id=${BNB}&status=building&limit=100`)).items) {
    await admin.post(`/v1/admin/payouts/batches/${old.id}/cancel`, {});
  }
  const built = await admin.post("/v1/admin/payouts/batches", { asset_id: BNB, max_entries: 500 });
  const entry = built.entries.find((e) => e.address === refuser.address);
  assert.ok(entry, "the refusing wallet is in the batch");
  refuser.amount = BigInt(entry.amount.base);
  refuser.human = entry.amount.human;
  // Proposed and approved first: the devnet's signer signs no outflow without a second person's approval.
  await proposeAndApprove(admin, { kind: "payout_batch", subject: built.id });
  const signed = await admin.post(`/v1/admin/payouts/batches/${built.id}/sign`, {});

  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/admin");
  await signInThroughPage(page);
  await page.getByTestId("batch-row").filter({ hasText: `#${built.id}` }).getByRole("button", { name: "Open" }).click();
  const detail = page.getByTestId("batch-detail");
  await until("the batch shown signed", async () => (await detail.getByTestId("batch-status").innerText()) === "signed");
  const dialog = page.locator("dialog.confirm");
  const result = detail.getByTestId("send-result");
  let first;
  let resent;
  // No block is produced from here until the finally: what is sent waits in the node's pool.
  await rpc("evm_setIntervalMining", [0]);
  try {
    await detail.getByTestId("batch-submit").click();
    await dialog.getByTestId("confirm-ok").click();
    await until("the submit's answer", async () => /^Sent: sent/.test(await result.innerText().catch(() => "")));
    first = (await admin.get(`/v1/admin/payouts/batches/${built.id}`)).tx_hash;
    assert.ok(first);
    assert.ok((await result.innerText()).includes(first));
    assert.equal(await rpc("eth_getTransactionReceipt", [first]), null, "not mined");

    // Retry while it waits in the pool: the API finds it pending and sends nothing.
    await detail.getByTestId("batch-retry").click();
    assert.match(await dialog.innerText(), /If it was dropped or reverted, the same signed batch \(same nonce\) is sent\s+again/);
    await dialog.getByTestId("confirm-ok").click();
    await until("retry answers pending", async () => /^Nothing sent: pending/.test(await result.innerText()));
    assert.ok((await result.innerText()).includes(first), "the same transaction, still pending");
    assert.equal((await admin.get(`/v1/admin/payouts/batches/${built.id}`)).tx_hash, first);

    // The node drops it (as a node under load or a restarted one may): Retry resends the same signed batch.
    await rpc("anvil_dropTransaction", [first]);
    assert.equal(await rpc("eth_getTransactionByHash", [first]), null, "gone from the pool");
    await detail.getByTestId("batch-retry").click();
    await dialog.getByTestId("confirm-ok").click();
    await until("retry resends", async () => /^Sent: sent \(the previous transaction was dropped\)/.test(await result.innerText()));
    const after = await admin.get(`/v1/admin/payouts/batches/${built.id}`);
    resent = after.tx_hash;
    assert.ok((await result.innerText()).includes(resent));
    // Back in the pool: the same signed call from the same account nonce (so here even the same hash).
    assert.ok(await rpc("eth_getTransactionByHash", [resent]), "in the pool again");
    assert.equal(await rpc("eth_getTransactionReceipt", [resent]), null, "not mined yet");
    // The same signed batch: nonce and signature unchanged, and so is what the transaction carries.
    assert.equal(after.nonce, signed.nonce);
    assert.equal(after.signature, signed.signature);
    const tx = await chain.getTransaction({ hash: resent });
    assert.ok(tx.input.includes(signed.signature.slice(2).toLowerCase()), "the resent transaction carries the same signature");
    await b.screenshot("07-retry-resent-dropped");

    // Custody drained before it is mined (anvil sets the contract's balance to 0 for that one block): the
    // transaction reverts (InsufficientFunds). Custody as it was, two more blocks to confirm the revert, and
    // Retry resends the same signed batch once more, from the operator's next account nonce.
    const custody = await chain.getBalance({ address: CHAIN.settlement });
    await rpc("anvil_setBalance", [CHAIN.settlement, "0x0"]);
    await rpc("anvil_mine", ["0x1"]);
    await rpc("anvil_setBalance", [CHAIN.settlement, toHex(custody)]);
    await rpc("anvil_mine", ["0x2"]);
    assert.equal((await chain.getTransactionReceipt({ hash: resent })).status, "reverted");
    assert.equal(await chain.getBalance({ address: CHAIN.settlement }), custody, "custody restored");
    await detail.getByTestId("batch-retry").click();
    await dialog.getByTestId("confirm-ok").click();
    await until("retry resends after the revert", async () => /^Sent: sent \(the previous transaction was reverted\)/.test(await result.innerText()));
    const third = await admin.get(`/v1/admin/payouts/batches/${built.id}`);
    assert.notEqual(third.tx_hash, resent, "a new transaction (the reverted one used its account nonce)");
    assert.ok((await result.innerText()).includes(third.tx_hash));
    assert.equal(third.nonce, signed.nonce);
    assert.equal(third.signature, signed.signature);
    resent = third.tx_hash;
    await b.screenshot("07-retry-resent-reverted");
  } finally {
    await rpc("evm_setIntervalMining", [1]);
  }

  // Mined now: the page follows it to executed, in the resent transaction's block.
  await until("the batch executed", async () => (await detail.getByTestId("batch-status").innerText()) === "executed", { timeout: 120_000 });
  const executed = await admin.get(`/v1/admin/payouts/batches/${built.id}`);
  assert.equal(executed.tx_hash, resent);
  const receipt = await chain.getTransactionReceipt({ hash: resent });
  assert.equal(receipt.status, "success");
  assert.equal(Number(receipt.blockNumber), executed.executed_block);
  assert.equal(await detail.getByTestId("batch-block").innerText(), String(executed.executed_block));
  // Every entry paid but the refusing wallet's, which the contract keeps claimable for it.
  // (Any other wallet that refuses payments, such as one left by an earlier run on this devnet, is claimable too.)
  for (const e of executed.entries) {
    const refuses = e.address === refuser.address || ((await chain.getCode({ address: e.address })) ?? "0x").startsWith("0xef0100");
    assert.equal(e.outcome, refuses ? "claimable" : "paid", e.address);
  }
  assert.equal(await claimableOf(refuser.address), refuser.amount);
  const outcomes = await detail.getByTestId("entry-outcome").allInnerTexts();
  assert.deepEqual(outcomes, executed.entries.map((e) => e.outcome), "the page shows each entry's on-chain outcome");
  await b.screenshot("07-retry-executed");
  await b.close();
});

test("a user whose payout push failed, with nothing pending, claims the claimable balance through the contract, to another address", async () => {
  assert.ok(refuser.key && refuser.amount, "set up by the test before");
  const user = await Api.signIn(refuser.key);
  await until("the ledger records the claimable amount", async () => (await user.standing(BNB)).balances.claimable === refuser.amount.toString(), {
    timeout: 60_000,
  });
  // Claimable only: its one reward went into the batch, so nothing is pending and a withdrawal request is
  // refused; the claim does not need one.
  const standing = await user.standing(BNB);
  assert.equal(standing.balances.pending, "0");
  assert.equal(standing.balances.batched, "0");
  const refusedWithdraw = await Api.raw("POST", "/v1/users/withdraw", { asset_id: BNB }, user.token);
  assert.equal(refusedWithdraw.status, 422);
  assert.equal(refusedWithdraw.body.error.code, "nothing_pending");
  const offer = await user.get(`/v1/users/claim?asset_id=${BNB}`);
  assert.equal(offer.claimable.base, refuser.amount.toString());
  assert.equal(offer.claimable.human, refuser.human);
  assert.equal(offer.chain_id, CHAIN_ID);
  assert.equal(getAddress(offer.transaction.to), getAddress(CHAIN.settlement));
  assert.equal(offer.transaction.value, "0");
  const call = decodeFunctionData({ abi: SETTLEMENT_ABI, data: offer.transaction.data });
  assert.equal(call.functionName, "claim");
  assert.deepEqual(call.args, [NATIVE, refuser.address]);

  const b = await openBrowser({ key: refuser.key });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const card = page.getByTestId("asset-BNB");
  await card.waitFor();
  assert.equal(await card.getByTestId("bal-claimable").getAttribute("data-base"), refuser.amount.toString());
  assert.equal(await card.getByTestId("bal-pending").getAttribute("data-base"), "0");
  assert.equal(await card.getByTestId("withdraw-request").isDisabled(), true, "nothing pending to request");
  // A failed push is not "paid out": it waits for the member's claim, and no payout date is promised for it (issue 66).
  assert.equal(await card.getByTestId("bal-settled").getAttribute("data-base"), "0", "nothing reached the wallet yet");
  const row = page.getByTestId("summary").locator(`[data-testid=summary-row][data-asset="${BNB}"]`);
  const next = await row.getByTestId("sum-next").innerText();
  assert.equal(next, `${refuser.human} waits for your claim: Claim now`);
  assert.doesNotMatch(next, /expected|operator next pays/);
  const rewardStatus = await card.getByTestId("history").getByTestId("reward-status").first().innerText();
  assert.match(rewardStatus, /^waiting for your claim/, rewardStatus);
  await card.getByTestId("claim-now").click();
  await until("the claim in view", async () => await card.getByTestId("claim-section").isVisible());
  const claim = card.getByTestId("claim-section");
  await claim.getByTestId("claim").waitFor();
  assert.ok((await claim.getByTestId("claimable-note").innerText()).includes(`The contract holds ${refuser.human} for you`), await claim.innerText());
  assert.equal(await claim.getByTestId("claim").innerText(), `Claim ${refuser.human}`);
  assert.equal(await claim.getByTestId("claim-to").inputValue(), refuser.address);
  assert.equal(await card.getByTestId("withdraw-answer").count(), 0, "no withdrawal request was made");

  // Claimed to the wallet itself, the contract's payment would be refused again: the page asks the node first,
  // says so, and sends nothing.
  const sentBefore = b.wallet.log.filter((m) => m === "eth_sendTransaction").length;
  await claim.getByTestId("claim").click();
  const refusal = claim.getByTestId("claim-error");
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /cannot pay this wallet: it refuses the payment.*Claim to another address/s);
  assert.equal(b.wallet.log.filter((m) => m === "eth_sendTransaction").length, sentBefore, "nothing sent");
  assert.equal(await claimableOf(refuser.address), refuser.amount);

  // To another address: mined, paid there exactly the amount, nothing left claimable on-chain or in the ledger.
  const dest = privateKeyToAccount(await freshKey()).address;
  const before = await chain.getBalance({ address: dest });
  await claim.getByTestId("claim-to").fill("0x1234");
  assert.equal(await claim.getByTestId("claim").isDisabled(), true, "not an address");
  await claim.getByTestId("claim-to").fill(dest);
  await claim.getByTestId("claim").click();
  const status = claim.getByTestId("claim-status");
  await until("the claim mined", async () => /^Claimed .* to .* in block \d+/.test(await status.innerText().catch(() => "")), { timeout: 60_000 });
  assert.ok((await status.innerText()).includes(dest));
  assert.equal(await claim.getByTestId("claim-error").count(), 0, "the refusal is gone");
  assert.equal(await claim.getByTestId("claim").count(), 0, "not offered again once claimed");
  assert.equal(await chain.getBalance({ address: dest }), before + refuser.amount);
  assert.equal(await claimableOf(refuser.address), 0n);
  await until("the ledger's claimable back to 0", async () => (await user.standing(BNB)).balances.claimable === "0", { timeout: 60_000 });
  const none = await Api.raw("GET", `/v1/users/claim?asset_id=${BNB}`, undefined, user.token);
  assert.equal(none.status, 422);
  assert.equal(none.body.error.code, "nothing_claimable");
  assert.equal(await chain.getBalance({ address: dest }), before + refuser.amount, "paid once");
  await until("the dashboard's claimable back to 0", async () => {
    await page.reload();
    await signInIfNeeded(page);
    return (await page.getByTestId("asset-BNB").getByTestId("bal-claimable").getAttribute("data-base", { timeout: 10_000 })) === "0";
  }, { timeout: 60_000 });
  assert.equal(await page.getByTestId("asset-BNB").getByTestId("claim").count(), 0, "no claim offered with nothing claimable");
  // Claimed: paid out now, and nothing owed.
  assert.equal(await page.getByTestId("asset-BNB").getByTestId("bal-settled").getAttribute("data-base"), refuser.amount.toString());
  assert.equal(await page.getByTestId("asset-BNB").getByTestId("claim-now").count(), 0);
  assert.equal(
    await page.getByTestId("summary").locator(`[data-testid=summary-row][data-asset="${BNB}"]`).getByTestId("sum-next").innerText(),
    "nothing owed",
  );
  await b.screenshot("07-claimed");
  await b.close();
});

test("a user with nothing claimable sees no claim action, and the page does not ask for one", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const key = await freshKey();
  const user = await registerDirectly(key, admin.address, BNB);
  await registerDirectly(await freshKey(), user.address, BNB); // a pending direct reward, and nothing claimable
  const standing = await user.standing(BNB);
  assert.notEqual(standing.balances.pending, "0");
  assert.equal(standing.balances.claimable, "0");
  const none = await Api.raw("GET", `/v1/users/claim?asset_id=${BNB}`, undefined, user.token);
  assert.equal(none.status, 422);
  assert.equal(none.body.error.code, "nothing_claimable");

  const b = await openBrowser({ key });
  const { page } = b;
  const claimRequests = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/v1/users/claim") claimRequests.push(r.url());
  });
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const card = page.getByTestId("asset-BNB");
  await card.getByTestId("history").getByTestId("reward").first().waitFor();
  assert.equal(await card.getByTestId("bal-claimable").getAttribute("data-base"), "0");
  assert.equal(await card.getByTestId("bal-pending").getAttribute("data-base"), standing.balances.pending);
  assert.equal(await card.getByTestId("withdraw-request").isDisabled(), false, "the withdrawal is offered");
  assert.equal(await card.getByTestId("claim-section").count(), 0);
  assert.equal(await card.getByTestId("claim").count(), 0);
  assert.equal(await card.getByTestId("claim-to").count(), 0);
  assert.deepEqual(claimRequests, [], "no claim asked of the API");
  // A withdrawal request does not bring a claim either.
  await card.getByTestId("withdraw-request").click();
  await card.getByTestId("withdraw-answer").waitFor();
  assert.ok((await card.getByTestId("withdraw-answer").innerText()).includes("Claimable from the contract: 0 BNB."));
  assert.equal(await card.getByTestId("claim").count(), 0);
  assert.deepEqual(claimRequests, []);
  await b.screenshot("07-nothing-claimable");
  await b.close();
});

async function signInIfNeeded(page) {
  if ((await page.getByTestId("sign-out").count()) === 0 && (await page.getByTestId("sign-in").count()) > 0) await signInThroughPage(page);
}

