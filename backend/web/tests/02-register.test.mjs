// Registration through a referral link, in BNB and in test USDT, from the user's own wallet up to "applied",
// with the block numbers of each step and the exact split of the fee; and the ways it can go wrong: a wrong
// network (switched from the page), a rejected transaction, a balance too low.
import assert from "node:assert/strict";
import { formatUnits, toHex } from "viem";
import {
  ANVIL_KEYS,
  Api,
  BASE,
  BNB,
  CHAIN,
  USDT,
  chain,
  chainNow,
  freshKey,
  openBrowser,
  plans,
  registerDirectly,
  rpc,
  signInThroughPage,
  test,
  until,
  usdtBalance,
} from "./lib/stack.mjs";

const custody = (assetId) => (assetId === BNB ? chain.getBalance({ address: CHAIN.settlement }) : usdtBalance(CHAIN.settlement));

for (const [assetId, name] of [
  [BNB, "BNB"],
  [USDT, "USDT"],
]) {
  test(`registration in ${name} through a referral link, up to applied, with the fee's split`, async () => {
    const plan = (await plans()).find((p) => p.asset_id === assetId);
    const sponsorKey = await freshKey();
    // A fresh sponsor with no referral yet: this one is its first, so the sponsor gets the direct reward.
    const genesis = await Api.signIn(ANVIL_KEYS[0]);
    const sponsor = await registerDirectly(sponsorKey, genesis.address, assetId);
    const before = await sponsor.standing(assetId);
    assert.equal(before.direct_referrals, 0);

    const key = await freshKey();
    const b = await openBrowser({ key });
    const { page, wallet } = b;
    await page.goto(`${BASE}/?ref=${sponsor.address}&asset=${assetId}`);
    const register = page.getByTestId("register");
    await register.waitFor();
    assert.equal(await register.getByTestId("sponsor").getAttribute("data-address"), sponsor.address);
    assert.equal(await register.getByTestId("register-asset").innerText(), name);
    assert.equal(await register.getByTestId("register-amount").innerText(), plan.registration_fee.human);
    assert.equal(await register.getByTestId("register-amount").getAttribute("data-base"), plan.registration_fee.base);
    await b.screenshot(`02-register-${name}-link`);

    await signInThroughPage(page);
    const custodyBefore = await custody(assetId);
    await page.getByTestId("pay-register").click();
    const applied = register.getByTestId("step-applied");
    await until("the registration applied", async () => (await applied.getAttribute("data-state")) === "done", { timeout: 120_000 });
    await b.screenshot(`02-register-${name}-applied`);

    // Every step is done, with the block numbers the chain and the ledger report.
    const api = await Api.signIn(key);
    const me = await api.standing(assetId);
    assert.ok(me, "the API knows the new user");
    const sent = wallet.log.filter((m) => m === "eth_sendTransaction").length;
    assert.equal(sent, assetId === USDT ? 2 : 1, "approve first for USDT, then the registration");
    const minedText = await register.getByTestId("step-mined").innerText();
    assert.match(minedText, new RegExp(`Block ${me.registered_block}\\b`));
    assert.match(await register.getByTestId("step-confirmed").innerText(), new RegExp(`Event in block ${me.registered_block} confirmed`));
    assert.match(await applied.innerText(), new RegExp(`You are user #${me.user_no} `));
    if (assetId === USDT) assert.match(await register.getByTestId("step-approve").innerText(), /Approved in block \d+/);
    assert.equal(me.sponsor, sponsor.address);

    // The split shown is what the ledger did: the sponsor's pending grew by exactly the direct reward.
    const outcome = register.getByTestId("register-outcome");
    assert.equal(await outcome.getByTestId("user-no").innerText(), `#${me.user_no}`);
    assert.equal(await outcome.getByTestId("split-direct").innerText(), plan.direct_amount.human);
    const company = BigInt(plan.registration_fee.base) - BigInt(plan.direct_amount.base);
    assert.equal(await outcome.getByTestId("split-company").innerText(), `${formatUnits(company, plan.decimals)} ${name}`);
    const after = await sponsor.standing(assetId);
    assert.equal(after.direct_referrals, 1);
    assert.equal(BigInt(after.balances.pending) - BigInt(before.balances.pending), BigInt(plan.direct_amount.base));
    // The fee is in custody.
    assert.equal((await custody(assetId)) - custodyBefore, BigInt(plan.registration_fee.base));
    // And the new user's dashboard appeared below.
    await page.getByTestId(`asset-${name}`).waitFor();
    assert.equal(await page.getByTestId(`asset-${name}`).getByTestId("bal-paid-in").getAttribute("data-base"), plan.registration_fee.base);
    await b.close();
  });
}

test("a wrong network is named and switched from the page before anything is sent", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key, walletChainId: 56 });
  const { page, wallet } = b;
  const genesis = (await Api.signIn(ANVIL_KEYS[0])).address;
  await page.goto(`${BASE}/?ref=${genesis}&asset=${BNB}`);
  await signInThroughPage(page);
  const warning = page.getByTestId("wrong-network");
  await warning.waitFor();
  assert.match(await warning.innerText(), /Your wallet is on network 56; BNB is paid on chain 31337/);
  assert.equal(await page.getByTestId("pay-register").isDisabled(), true);
  await b.screenshot("02-wrong-network");
  await page.getByTestId("switch-network").click();
  await until("the wallet on chain 31337", () => wallet.chainId === 31337);
  await warning.waitFor({ state: "detached" });
  assert.equal(await page.getByTestId("pay-register").isEnabled(), true);
  assert.ok(!wallet.log.includes("eth_sendTransaction"), "nothing was sent on the wrong network");
  await b.close();
});

test("a rejected transaction and a balance too low are explained, and nothing is registered", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, wallet } = b;
  const genesis = (await Api.signIn(ANVIL_KEYS[0])).address;
  await page.goto(`${BASE}/?ref=${genesis}&asset=${BNB}`);
  await signInThroughPage(page);
  wallet.rejectNextTransaction = true;
  await page.getByTestId("pay-register").click();
  const rejected = page.getByTestId("problem-rejected");
  await rejected.waitFor({ timeout: 30_000 });
  assert.match(await rejected.innerText(), /You rejected the transaction in your wallet\. Nothing was sent\./);
  assert.equal(await page.getByTestId("register").getByTestId("step-sent").getAttribute("data-state"), "failed");
  await b.screenshot("02-rejected-transaction");

  await rpc("anvil_setBalance", [wallet.address, toHex(10n ** 18n)]);
  await page.getByTestId("pay-register").click();
  const low = page.getByTestId("problem-insufficient");
  await low.waitFor({ timeout: 30_000 });
  assert.match(await low.innerText(), /Your balance is 1 BNB; this needs 20 BNB plus gas\./);
  const api = await Api.signIn(key);
  assert.equal(await api.standing(BNB), null, "not registered");
  await b.close();
});

test("an authorisation already expired is not sent, and says so", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, wallet } = b;
  await page.clock.install();
  const genesis = (await Api.signIn(ANVIL_KEYS[0])).address;
  await page.goto(`${BASE}/?ref=${genesis}&asset=${BNB}`);
  await signInThroughPage(page);
  // The page's clock runs two hours ahead of the signer's deadline (the tab was left open that long).
  await page.clock.setSystemTime((await chainNow()) + 2 * 3600_000);
  await page.getByTestId("pay-register").click();
  const expired = page.getByTestId("problem-expired");
  await expired.waitFor({ timeout: 30_000 });
  assert.match(await expired.innerText(), /The authorisation for this payment expired at .*; nothing was sent\./);
  assert.ok(!wallet.log.includes("eth_sendTransaction"), "nothing was sent");
  await b.screenshot("02-expired-authorisation");
  await b.close();
});
