// TRON through TronLink (a stand-in injected into the page with the extension's interface; see
// tests/lib/tronlink.mjs): sign-in with the server's message signed by `signMessageV2`, a rejected signature,
// a locked wallet; registration through a referral link in test USDT on the TRON chain (approve first) up to
// "applied" with the fee's exact split; the dashboard in T… addresses with the API's figures, and a retopup;
// TronLink on another TRON network, a rejected transaction, and no TronLink at all.
import assert from "node:assert/strict";
import { formatUnits } from "viem";
import { ANVIL_KEYS, Api, BASE, assertOutOfScriptReach, openBrowser, plans, refreshCookie, test, until } from "./lib/stack.mjs";
import {
  TRON_CHAIN,
  TRON_CHAIN_ID,
  TRON_MAINNET,
  TRON_USDT,
  freshTronKey,
  registerTronDirectly,
  signInTron,
  signInWithTronLink,
  tronAddress,
  tronLinkFor,
  tronTransactionInfo,
  tronUsdtBalance,
} from "./lib/tron.mjs";

const plan = async () => {
  const p = (await plans()).find((x) => x.asset_id === TRON_USDT);
  assert.ok(p, `asset ${TRON_USDT} is in the public plan`);
  assert.equal(p.chain_id, TRON_CHAIN_ID);
  return p;
};
/** The dashboard card's test id of a TRON asset (symbols may repeat across chains). */
const cardId = (p) => `asset-${p.symbol}-TRON`;

/** The genesis user of the TRON asset (anvil #0, as on the EVM chain), as a T… address. */
async function tronGenesis() {
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  const standing = await genesis.standing(TRON_USDT);
  assert.ok(standing && standing.user_no === 0, `anvil #0 is the genesis user of asset ${TRON_USDT}`);
  return tronAddress(genesis.address);
}

test("TRON sign-in with TronLink: the T… account, signMessageV2, a session that survives a reload", async () => {
  const key = await freshTronKey();
  const tronLink = tronLinkFor(key);
  const b = await openBrowser({ tronLink });
  const { page } = b;
  await page.goto(BASE + "/");
  // TronLink is the only wallet here: no EVM button, no "no wallet" text.
  await page.getByTestId("connect-tron").waitFor();
  assert.equal(await page.getByTestId("connect").count(), 0);
  assert.equal(await page.getByTestId("no-wallet").count(), 0);
  await b.screenshot("08-tron-connect");

  const profileAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/users/me");
  await signInWithTronLink(page);
  assert.equal(await page.getByTestId("connected-address").getAttribute("data-address"), tronLink.address);
  assert.match(tronLink.address, /^T[1-9A-HJ-NP-Za-km-z]{33}$/);
  assert.equal(await page.getByTestId("role").innerText(), "user");
  assert.deepEqual(
    tronLink.log.filter((m) => m === "tron_requestAccounts" || m === "signMessageV2"),
    ["tron_requestAccounts", "signMessageV2"],
    "TronLink was asked for the account, then for the signature",
  );
  // The session is the wallet's 20-byte account (the API names it 0x), as the page's own profile call shows; what
  // the page keeps in storage names it and holds no token (the refresh token is an HttpOnly cookie).
  const profile = await profileAnswer;
  assert.equal(profile.status(), 200);
  assert.equal((await profile.json()).address, tronLink.evmAddress);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("referral.session")));
  assert.deepEqual(stored, { address: tronLink.evmAddress, role: "user" });
  await assertOutOfScriptReach(page, [(await refreshCookie(b.context)).value]);
  await page.getByTestId("not-registered").waitFor();
  await b.screenshot("08-tron-signed-in");

  // Reload: TronLink (which allows this site now) reconnects without a prompt and the session is used.
  const asked = tronLink.log.filter((m) => m === "tron_requestAccounts").length;
  await page.reload();
  await page.getByTestId("sign-out").waitFor();
  assert.equal(await page.getByTestId("connected-address").getAttribute("data-address"), tronLink.address);
  assert.equal(tronLink.log.filter((m) => m === "tron_requestAccounts").length, asked, "no second connection prompt");

  // Locking TronLink drops the connection; the session is not used without it.
  await tronLink.lock();
  await page.getByTestId("connect-tron").waitFor();
  assert.equal(await page.getByTestId("sign-out").count(), 0);
  await b.close();
});

test("a rejected TronLink signature says so and signs nobody in; a locked TronLink is named", async () => {
  const key = await freshTronKey();
  const tronLink = tronLinkFor(key);
  const b = await openBrowser({ tronLink });
  const { page } = b;
  await page.goto(BASE + "/");

  tronLink.locked = true;
  await page.getByTestId("connect-tron").click();
  const error = page.getByTestId("account-error");
  await error.waitFor();
  assert.match(await error.innerText(), /TronLink is locked: unlock it in the extension, then connect again\./);
  await b.screenshot("08-tron-locked");
  tronLink.locked = false;

  await page.getByTestId("connect-tron").click();
  tronLink.rejectNextSignature = true;
  await page.getByTestId("sign-in").click();
  await until("the rejection shown", async () => /You rejected the signature in TronLink\. Nothing was sent\./.test(await error.innerText()));
  assert.equal(await page.evaluate(() => localStorage.getItem("referral.session")), null);
  assert.equal(await page.getByTestId("sign-out").count(), 0);
  await b.screenshot("08-tron-rejected-signature");
  // A second try works.
  await page.getByTestId("sign-in").click();
  await page.getByTestId("sign-out").waitFor();
  await b.close();
});

test("registration in USDT on TRON through a referral link: approve, then sent → mined → confirmed → applied", async () => {
  const p = await plan();
  // A fresh sponsor with no referral yet: this one is its first, so the sponsor gets the direct reward.
  const sponsor = await registerTronDirectly(await freshTronKey(), await tronGenesis());
  const before = await sponsor.standing(TRON_USDT);
  assert.equal(before.direct_referrals, 0);

  const key = await freshTronKey();
  const tronLink = tronLinkFor(key);
  const b = await openBrowser({ tronLink });
  const { page } = b;
  // The link names the sponsor as T… (the form the dashboard hands out for a TRON asset).
  await page.goto(`${BASE}/?ref=${sponsor.tron}&asset=${TRON_USDT}`);
  const register = page.getByTestId("register");
  await register.waitFor();
  assert.equal(await register.getByTestId("sponsor").getAttribute("data-address"), sponsor.tron);
  assert.equal(await register.getByTestId("register-asset").innerText(), p.symbol);
  assert.equal(await register.getByTestId("register-amount").innerText(), p.registration_fee.human);
  assert.equal(await register.getByTestId("register-amount").getAttribute("data-base"), p.registration_fee.base);
  assert.match(await register.getByTestId("register-cost").innerText(), /on TRON Nile \(chain 3448148188\).*paid with TronLink/s);
  await b.screenshot("08-tron-register-link");

  await signInWithTronLink(page);
  // Beside the pay button: the approval comes first, and the network fee is in TRX (energy × the chain's energy price).
  const fee = await register.getByTestId("pay-fee").innerText();
  assert.match(fee, /about [\d.]+ TRX .*with the token's approval/s, fee);
  const custodyBefore = await tronUsdtBalance(TRON_CHAIN.settlement);
  await page.getByTestId("pay-register").click();
  const applied = register.getByTestId("step-applied");
  await until("the registration applied", async () => {
    const failed = await register.getByTestId("problem-error").count();
    if (failed) throw new Error(await register.getByTestId("problem-error").innerText());
    return (await applied.getAttribute("data-state")) === "done";
  }, { timeout: 150_000 });
  await b.screenshot("08-tron-register-applied");

  // Approve first, then the registration: two TronLink transactions, each built, signed and broadcast.
  assert.deepEqual(
    tronLink.log.filter((m) => ["triggerSmartContract", "sign", "sendRawTransaction"].includes(m)),
    ["triggerSmartContract", "sign", "sendRawTransaction", "triggerSmartContract", "sign", "sendRawTransaction"],
  );
  assert.equal(tronLink.broadcast.length, 2);
  const api = await signInTron(key);
  const me = await api.standing(TRON_USDT);
  assert.ok(me, "the API knows the new user");
  assert.equal(me.sponsor, sponsor.tron, "the sponsor in its T… form");
  // The registration's txid is the TRON transaction the node executed: mined in the block the page and the ledger
  // name.
  const info = await tronTransactionInfo(tronLink.broadcast[1]);
  assert.equal(info.receipt.result, "SUCCESS");
  assert.equal(info.contract_address, `41${TRON_CHAIN.settlement.slice(2).toLowerCase()}`);
  assert.equal(info.blockNumber, me.registered_block);
  assert.match(await register.getByTestId("step-approve").innerText(), /Approved in block \d+/);
  assert.match(await register.getByTestId("step-sent").innerText(), new RegExp(`Transaction ${tronLink.broadcast[1].slice(0, 10)}…`));
  assert.match(await register.getByTestId("step-mined").innerText(), new RegExp(`Block ${me.registered_block}\\b`));
  assert.match(await register.getByTestId("step-confirmed").innerText(), new RegExp(`Event in block ${me.registered_block} confirmed`));
  assert.match(await applied.innerText(), new RegExp(`You are user #${me.user_no} `));

  // The split shown is what the ledger did: the sponsor's pending grew by exactly the direct reward.
  const outcome = register.getByTestId("register-outcome");
  assert.equal(await outcome.getByTestId("user-no").innerText(), `#${me.user_no}`);
  assert.equal(await outcome.getByTestId("split-direct").innerText(), p.direct_amount.human);
  const company = BigInt(p.registration_fee.base) - BigInt(p.direct_amount.base);
  assert.equal(await outcome.getByTestId("split-company").innerText(), `${formatUnits(company, p.decimals)} ${p.symbol}`);
  const after = await sponsor.standing(TRON_USDT);
  assert.equal(after.direct_referrals, 1);
  assert.equal(BigInt(after.balances.pending) - BigInt(before.balances.pending), BigInt(p.direct_amount.base));
  // The fee is in custody on the TRON chain.
  assert.equal((await tronUsdtBalance(TRON_CHAIN.settlement)) - custodyBefore, BigInt(p.registration_fee.base));
  // And the new user's dashboard appeared below, in T… form.
  const card = page.getByTestId(cardId(p));
  await card.waitFor();
  assert.equal(await card.getByTestId("bal-paid-in").getAttribute("data-base"), p.registration_fee.base);
  assert.equal(await card.getByTestId("asset-address").getAttribute("data-address"), tronLink.address);
  await b.close();
});

test("the TRON dashboard shows T… addresses and the API's figures; a retopup paid with TronLink", async () => {
  const p = await plan();
  const sponsorKey = await freshTronKey();
  const genesis = await tronGenesis();
  const sponsor = await registerTronDirectly(sponsorKey, genesis);
  const r1 = await registerTronDirectly(await freshTronKey(), sponsor.tron);
  // The API takes the sponsor in either form.
  const r2 = await registerTronDirectly(await freshTronKey(), sponsor.address);

  const tronLink = tronLinkFor(sponsorKey);
  const b = await openBrowser({ tronLink });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInWithTronLink(page);
  const card = page.getByTestId(cardId(p));
  await card.waitFor();
  const me = await sponsor.standing(TRON_USDT);
  for (const status of ["pending", "batched", "settled", "held", "reserved", "claimable", "paid_in"]) {
    assert.equal(await card.getByTestId(`bal-${status.replace("_", "-")}`).getAttribute("data-base"), me.balances[status], status);
  }
  assert.equal(await card.getByTestId("bal-pending").innerText(), p.direct_amount.human, "the first referral's direct reward");
  // Every address in the asset's chain's own form: the wallet, its sponsor, its referral link.
  assert.equal(await card.getByTestId("asset-address").getAttribute("data-address"), sponsor.tron);
  assert.equal(me.sponsor, genesis);
  assert.equal(await card.locator(".asset-who code[data-address]").nth(1).getAttribute("data-address"), genesis);
  assert.equal(await card.getByTestId("ref-link").innerText(), `${BASE}/?ref=${sponsor.tron}&asset=${TRON_USDT}`);

  // Direct referrals, in registration order, as T….
  const referrals = card.getByTestId("referrals");
  await until("two referrals listed", async () => (await referrals.locator("tbody tr").count()) === 2);
  const shown = await referrals.locator("code[data-address]").evaluateAll((els) => els.map((e) => e.getAttribute("data-address")));
  assert.deepEqual(shown, [r1.tron, r2.tron]);
  const listed = await sponsor.get(`/v1/users/referrals?asset_id=${TRON_USDT}&limit=10`);
  assert.deepEqual(listed.items.map((r) => r.address), shown, "the API lists the same T… addresses");

  // The second referral bought the sponsor a level-1 place; its matrix fill is the API's.
  const nodes = await sponsor.get(`/v1/pool/nodes?asset_id=${TRON_USDT}&level=1&owner=${sponsor.tron}`);
  assert.equal(nodes.items.length, 1);
  assert.equal(nodes.items[0].owner, sponsor.tron);
  const pool = card.getByTestId("pool-nodes");
  await pool.getByTestId("pool-node").first().waitFor();
  assert.equal(await pool.getByTestId("matrix-fill").first().innerText(), `${nodes.items[0].filled_slots}/14`);
  assert.match(await pool.getByTestId("level-1").innerText(), /Level 1: 1 open, 0 complete/);

  // The tree: the API's nodes, all T….
  const tree = await sponsor.get(`/v1/users/tree?asset_id=${TRON_USDT}&depth=3`);
  const treeAddresses = await card.getByTestId("tree").locator("code[data-address]").evaluateAll((els) => els.map((e) => e.getAttribute("data-address")));
  assert.deepEqual(treeAddresses, [tree.root.address, ...tree.nodes.map((n) => n.address)]);
  assert.ok(treeAddresses.every((a) => /^T/.test(a)), `tree addresses: ${treeAddresses.join(", ")}`);

  // History: the same rewards, amounts and statuses.
  const history = await sponsor.get(`/v1/users/history?asset_id=${TRON_USDT}&limit=10`);
  const rows = card.getByTestId("history").getByTestId("reward");
  assert.equal(await rows.count(), history.items.length);
  for (let i = 0; i < history.items.length; i++) {
    assert.equal(await rows.nth(i).getByTestId("reward-amount").getAttribute("data-base"), history.items[i].amount.base);
  }
  // Every address on the card is T… (none in 0x form).
  const all = await card.locator("code[data-address]").evaluateAll((els) => els.map((e) => e.getAttribute("data-address")));
  assert.ok(all.length >= 5 && all.every((a) => /^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(a)), `addresses on the card: ${all.join(", ")}`);
  await b.screenshot("08-tron-dashboard");

  // Retopup from the page with TronLink (approve, then retopup), followed to applied.
  const sentBefore = tronLink.broadcast.length;
  const retopup = card.getByTestId("retopup");
  await retopup.getByTestId("pay-retopup").click();
  await until("the retopup applied", async () => {
    if (await retopup.getByTestId("problem-error").count()) throw new Error(await retopup.getByTestId("problem-error").innerText());
    return (await retopup.getByTestId("step-applied").getAttribute("data-state")) === "done";
  }, { timeout: 150_000 });
  assert.equal(tronLink.broadcast.length - sentBefore, 2, "approve, then the retopup");
  const afterRetopup = await sponsor.standing(TRON_USDT);
  assert.equal(afterRetopup.retopups, 1);
  assert.equal(BigInt(afterRetopup.balances.paid_in) - BigInt(me.balances.paid_in), BigInt(p.retopup_fee.base));
  await until("the dashboard shows the new paid-in figure", async () => (await card.getByTestId("bal-paid-in").getAttribute("data-base")) === afterRetopup.balances.paid_in);
  await b.screenshot("08-tron-dashboard-after-retopup");
  await b.close();
});

test("TronLink on another TRON network, a rejected transaction, and no TronLink: named, nothing sent", async () => {
  const p = await plan();
  const genesis = await tronGenesis();

  // No wallet at all: the link says TronLink is needed.
  const none = await openBrowser();
  await none.page.goto(`${BASE}/?ref=${genesis}&asset=${TRON_USDT}`);
  const missing = none.page.getByTestId("no-tronlink");
  await missing.waitFor();
  assert.match(await missing.innerText(), new RegExp(`TronLink was not found: install the TronLink extension to pay in ${p.symbol} on TRON Nile`));
  await none.screenshot("08-tron-no-tronlink");
  await none.close();

  // TronLink on TRON mainnet: the page says which network the asset needs and sends nothing.
  const key = await freshTronKey();
  const tronLink = tronLinkFor(key, { network: TRON_MAINNET });
  const b = await openBrowser({ tronLink });
  const { page } = b;
  await page.goto(`${BASE}/?ref=${genesis}&asset=${TRON_USDT}`);
  await signInWithTronLink(page);
  const warning = page.getByTestId("wrong-network");
  await warning.waitFor();
  assert.match(await warning.innerText(), new RegExp(`TronLink is on TRON mainnet \\(chain ${TRON_MAINNET}\\); ${p.symbol} is paid on TRON Nile \\(chain ${TRON_CHAIN_ID}\\)`));
  assert.equal(await page.getByTestId("pay-register").isDisabled(), true);
  await b.screenshot("08-tron-wrong-network");
  // The user picks Nile in TronLink: the page hears TronLink's setNode and reads the network again.
  await tronLink.switchTo(TRON_CHAIN_ID);
  await warning.waitFor({ state: "detached" });
  assert.equal(await page.getByTestId("pay-register").isEnabled(), true);
  assert.equal(tronLink.broadcast.length, 0, "nothing was sent on the wrong network");

  // The user declines the approval in TronLink.
  tronLink.rejectNextTransaction = true;
  await page.getByTestId("pay-register").click();
  const rejected = page.getByTestId("problem-rejected");
  await rejected.waitFor({ timeout: 30_000 });
  assert.match(await rejected.innerText(), /You rejected the approval in TronLink\. Nothing was sent\./);
  assert.equal(await page.getByTestId("register").getByTestId("step-approve").getAttribute("data-state"), "failed");
  assert.equal(tronLink.broadcast.length, 0);
  await b.screenshot("08-tron-rejected-transaction");
  const api = await signInTron(key);
  assert.equal(await api.standing(TRON_USDT), null, "not registered");
  await b.close();
});
