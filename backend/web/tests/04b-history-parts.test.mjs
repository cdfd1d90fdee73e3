// A reward paid in parts in the dApp's history: the devnet signer pays at most 10 test USDT a payout entry, so
// the 18 USDT direct rewards are paid across batches. After the admin tests paid USDT until the daily outflow cap
// (done here too when this file runs alone), genesis's history shows what is paid and what is in a batch, as the
// API's history says.
import assert from "node:assert/strict";
import { formatUnits } from "viem";
import { ANVIL_KEYS, Api, BASE, USDT, chain, openBrowser, payUsdtUntilCapReached, signInThroughPage, test, until } from "./lib/stack.mjs";

/** The API's history of the caller in `assetId`, newest first, every page. */
async function wholeHistory(api, assetId) {
  const items = [];
  let cursor = null;
  do {
    const page = await api.get(`/v1/users/history?asset_id=${assetId}&limit=100${cursor === null ? "" : `&cursor=${cursor}`}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return items;
}

/** What the page says of a reward paid in parts, from the API's figures; `null` when it is not paid in parts. */
function partsText(r, decimals, symbol) {
  const amount = BigInt(r.amount.base);
  const paid = BigInt(r.paid.base);
  const inFlight = BigInt(r.in_flight.base);
  if (!((paid > 0n && paid < amount) || (inFlight > 0n && inFlight < amount))) return null;
  const flight = inFlight > 0n ? `, ${formatUnits(inFlight, decimals)} in a batch` : "";
  return `${formatUnits(paid, decimals)} of ${formatUnits(amount, decimals)} ${symbol} paid${flight}`;
}

test("history: a USDT reward paid in parts says how much is paid and how much is in a batch, as the API's history", async () => {
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  // USDT paid out up to the daily cap (refused at once when the admin tests did it already).
  await payUsdtUntilCapReached(genesis);
  const standing = await genesis.standing(USDT);
  assert.ok(standing, "genesis is a USDT user");
  const history = await wholeHistory(genesis, USDT);
  const inParts = history.filter((r) => partsText(r, standing.decimals, standing.symbol) !== null);
  assert.ok(
    inParts.length > 0,
    `a genesis USDT reward paid in parts: ${JSON.stringify(history.map((r) => [r.reward_no, r.amount.human, r.paid.human, r.in_flight.human]))}`,
  );
  const target = inParts[0];

  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  // Genesis's USDT dashboard, its history paged (10 a page, newest first) until the reward's row is shown.
  const card = page.getByTestId("asset-USDT");
  await card.waitFor();
  const historyPanel = card.getByTestId("history");
  const rows = historyPanel.getByTestId("reward");
  const shownNos = async () => rows.evaluateAll((els) => els.map((e) => Number(e.dataset.reward)));
  await until("the USDT history", async () => (await rows.count()) > 0);
  const next = historyPanel.getByRole("button", { name: "Next →" });
  for (let p = 1; !(await shownNos()).includes(target.reward_no); p++) {
    assert.ok(p * 10 < history.length, `reward #${target.reward_no} not found in the page's history`);
    const first = (await shownNos())[0];
    await next.click();
    await until(`history page ${p + 1}`, async () => (await shownNos())[0] !== first);
  }
  // Every reward on that page: the same amount, and "paid in parts" exactly where the API's figures say so.
  const nos = await shownNos();
  for (const [i, no] of nos.entries()) {
    const r = history.find((h) => h.reward_no === no);
    assert.ok(r, `reward #${no} is the API's`);
    const row = rows.nth(i);
    assert.equal(await row.getByTestId("reward-amount").getAttribute("data-base"), r.amount.base);
    const expected = partsText(r, standing.decimals, standing.symbol);
    const parts = row.getByTestId("reward-parts");
    if (expected === null) assert.equal(await parts.count(), 0, `reward #${no} is not paid in parts`);
    else assert.equal(await parts.innerText(), expected, `reward #${no}`);
    // Each part names its batch, where it stands, and the transaction that carried it, as the API's history says.
    const pays = row.getByTestId("reward-payment");
    assert.equal(await pays.count(), r.payments.length, `reward #${no}'s batches`);
    for (const [k, p] of r.payments.entries()) {
      const shown = pays.nth(k);
      assert.equal(await shown.getAttribute("data-batch"), String(p.batch.id));
      // What reached the wallet (USDT keeps no withdrawal fee: the whole part).
      assert.equal(await shown.getByTestId("payment-net").getAttribute("data-base"), p.net.base);
      assert.equal(p.net.base, p.amount.base);
      assert.match(await shown.innerText(), new RegExp(`batch #${p.batch.id}, ${p.batch.status}`));
      if (p.batch.tx_hash) assert.equal(await shown.getByTestId("batch-tx").getAttribute("data-tx"), p.batch.tx_hash);
      // An executed batch says when: its block's time, as the API gives it.
      const at = await shown.getByTestId("batch-ref").getAttribute("data-executed-at");
      assert.equal(at, p.batch.status === "executed" ? p.batch.executed_at : null, `batch #${p.batch.id}'s time`);
      if (at) assert.match(await shown.innerText(), new RegExp(`executed in block ${p.batch.executed_block} on `));
    }
  }
  // The reward paid in parts: its paid parts are in executed batches, each with the transaction that paid it.
  const executed = target.payments.filter((p) => p.batch.status === "executed");
  assert.equal(
    executed.reduce((sum, p) => sum + BigInt(p.amount.base), 0n),
    BigInt(target.paid.base),
    `reward #${target.reward_no}: what executed batches carried is what is paid`,
  );
  assert.ok(executed.every((p) => p.batch.tx_hash && p.batch.executed_block != null), "each executed part names its transaction");
  // Its time is its block's, on this devnet's chain: within the last day and not in the future.
  for (const p of executed) {
    const block = await chain.getBlock({ blockNumber: BigInt(p.batch.executed_block) });
    assert.equal(Date.parse(p.batch.executed_at), Number(block.timestamp) * 1000, `batch #${p.batch.id} executed when its block was made`);
  }
  const row = rows.nth(nos.indexOf(target.reward_no));
  assert.equal(await row.getByTestId("reward-parts").innerText(), partsText(target, standing.decimals, standing.symbol));
  await row.scrollIntoViewIfNeeded();
  await b.screenshot("04b-history-parts");
  await b.close();
});
