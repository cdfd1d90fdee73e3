// Never charged twice (issue 26): a payment in flight survives a reload at every step — payload received (the
// wallet's dialog open), approval sent, transaction sent, mined — and a second tab, and the wallet pays once. For a
// BNB registration, a test-USDT registration (approve first) and a BNB retopup, each test reloads the page at one
// step and checks what the user sees (the steps reached, the button showing the payment in flight instead of a
// new one, "Applied" at the end) and what the chain and the ledger say: exactly one Registered/Retopped event of
// the wallet, the fee left the wallet once, one payload handed out and applied. A wallet request left open by the
// reloaded page and answered afterwards cannot charge again either. The same for a test-USDT registration on
// the TRON chain paid with TronLink (the same record and code path).
import assert from "node:assert/strict";
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
  settlementEvent,
  signInThroughPage,
  test,
  until,
  usdtBalance,
} from "./lib/stack.mjs";
import {
  TRON_CHAIN,
  TRON_USDT,
  evmAddress,
  freshTronKey,
  signInTron,
  signInWithTronLink,
  tronAddress,
  tronChain,
  tronLinkFor,
  tronUsdtBalance,
} from "./lib/tron.mjs";
import { backAfterReload, gate, phase, records, stepState } from "./lib/pay.mjs";

const REGISTERED = settlementEvent("Registered");
const RETOPPED = settlementEvent("Retopped");

/** The wallet's Registered / Retopped events on the chain (anvil). */
async function events(kind, user) {
  return chain.getLogs({ address: CHAIN.settlement, event: kind === "register" ? REGISTERED : RETOPPED, args: { user }, fromBlock: 0n });
}

/** What the wallet paid in gas for `hashes` (the BNB fee is the balance change less this). */
async function gasPaid(hashes) {
  let total = 0n;
  for (const hash of hashes) {
    const r = await chain.getTransactionReceipt({ hash });
    total += r.gasUsed * r.effectiveGasPrice;
  }
  return total;
}

const assetName = (assetId) => (assetId === BNB ? "BNB" : "USDT");

/**
 * A page ready to pay: for `register`, a fresh wallet on a referral link of the genesis user, signed in; for
 * `retopup`, a fresh wallet registered (without a browser) on its dashboard.
 */
async function ready(kind, assetId) {
  const key = await freshKey();
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  if (kind === "retopup") await registerDirectly(key, genesis.address, assetId);
  const b = await openBrowser({ key });
  const g = gate(b.wallet);
  const url = kind === "register" ? `${BASE}/?ref=${genesis.address}&asset=${assetId}` : `${BASE}/`;
  await b.page.goto(url);
  await signInThroughPage(b.page);
  const scope = () => (kind === "register" ? b.page.getByTestId("register") : b.page.getByTestId(`asset-${assetName(assetId)}`).getByTestId("retopup"));
  await scope().getByTestId(`pay-${kind}`).waitFor();
  const before = {
    native: await chain.getBalance({ address: b.wallet.address }),
    usdt: await usdtBalance(b.wallet.address),
  };
  return { key, b, g, url, scope, before, api: await Api.signIn(key) };
}


/** The page ends in "Applied" and no second payment is offered; the chain and the ledger saw one payment. */
async function assertPaidOnce(t, kind, assetId) {
  const { b, g, scope, before, api } = t;
  const plan = (await plans()).find((p) => p.asset_id === assetId);
  const fee = BigInt(kind === "register" ? plan.registration_fee.base : plan.retopup_fee.base);
  await until("the payment applied on the page", async () => (await stepState(scope(), "applied")) === "done", { timeout: 120_000 });
  if (kind === "register") {
    assert.match(await scope().getByTestId("step-applied").innerText(), /You are user #\d+/);
    assert.equal(await scope().getByTestId("pay-register").count(), 0, "no second registration is offered");
  } else {
    assert.match(await scope().getByTestId("step-applied").innerText(), /Recorded in the ledger \(block \d+\)/);
    // What the button offers now is a new retopup, not this one again.
    await until("the retopup button back to a new retopup", async () => (await phase(scope(), "retopup")) === "idle");
  }
  assert.deepEqual(await records(b.page), [], "the record of the payment is gone once it is applied");

  // A request the reloaded page left open in the wallet, answered now, charges nothing more.
  const late = await g.release();
  for (const r of late) {
    if (r.hash) {
      const receipt = await chain.waitForTransactionReceipt({ hash: r.hash });
      if (g.payments.has(r.hash.toLowerCase())) assert.equal(receipt.status, "reverted", "a second use of the payload is refused");
    }
  }

  // The chain: exactly one event of the wallet, and the fee left it once.
  const seen = await events(kind, b.wallet.address);
  assert.equal(seen.length, 1, `one ${kind} event of the wallet on the chain`);
  assert.equal(seen[0].args.amount, fee);
  const token = assetId === USDT;
  if (token) {
    assert.equal(before.usdt - (await usdtBalance(b.wallet.address)), fee, "the USDT fee left the wallet once");
  } else {
    const spent = before.native - (await chain.getBalance({ address: b.wallet.address }));
    assert.equal(spent - (await gasPaid(g.sent)), fee, "the BNB fee left the wallet once (the rest is gas)");
  }
  const payments = g.sent.filter((h) => g.payments.has(h.toLowerCase()));
  assert.ok(payments.length >= 1, "the wallet sent the payment");

  // The ledger: one payload of this kind handed out, applied, with that event.
  const list = (await api.get(`/v1/users/payments?asset_id=${assetId}`)).payments.filter((p) => p.kind === kind);
  assert.equal(list.length, 1, `one ${kind} payload handed out: ${JSON.stringify(list)}`);
  assert.equal(list[0].status, "applied");
  assert.equal(list[0].event.tx_hash.toLowerCase(), seen[0].transactionHash.toLowerCase());
  assert.equal(list[0].nonce, String(seen[0].args.nonce));
  if (kind === "retopup") assert.equal((await api.standing(assetId)).retopups, 1);
  else assert.ok(await api.standing(assetId), "registered");
}

/** Clicks the pay button and reloads the page once the payment reached `step`; then the page resumes it. */
async function reloadAt(kind, assetId, step) {
  const t = await ready(kind, assetId);
  const { b, g, scope } = t;
  const { page } = b;
  const token = assetId === USDT;
  if (step === "payload") g.holdSend(1); // the first dialog: the approval (USDT) or the payment
  if (step === "approval") g.holdSend(2); // the approval went through; the payment's dialog is open
  if (step === "sent") g.holdReceipts = true;
  await scope().getByTestId(`pay-${kind}`).click();

  if (step === "payload" || step === "approval") {
    await until("the wallet's dialog open", () => g.held.length === 1, { timeout: 60_000 });
    const [r] = await records(page);
    assert.ok(r?.payment?.nonce, "the payload is recorded once received");
    assert.equal(r.tx, undefined);
    if (step === "approval") assert.ok(r.approve, "the approval's hash is recorded once sent");
    const nonce = r.payment.nonce;
    await page.reload();
    await backAfterReload(page);
    // The payment is still out: the button pays the SAME payload, and says so.
    await until("the page offers to continue the same payment", async () => (await phase(scope(), kind)) === "resume", { timeout: 30_000 });
    const button = scope().getByTestId(`pay-${kind}`);
    assert.match(await button.innerText(), /Continue paying .* \(the same authorisation: it cannot be charged twice\)/);
    assert.equal(await button.isEnabled(), true);
    await scope().getByTestId("payment-resume").waitFor();
    if (step === "approval") assert.match(await scope().getByTestId("step-approve").innerText(), /Approval sent/);
    await b.screenshot(`09-${kind}-${assetName(assetId)}-${step}-reloaded`);
    await button.click();
    await until("the same payload paid", async () => (await records(page))[0]?.tx, { timeout: 60_000 });
    assert.equal((await records(page))[0].payment.nonce, nonce, "the same nonce");
  } else if (step === "sent") {
    await until("the transaction's hash recorded", async () => (await records(page))[0]?.tx, { timeout: 60_000 });
    await page.reload();
    await backAfterReload(page);
    await until("the page follows the sent payment", async () => (await phase(scope(), kind)) === "following", { timeout: 30_000 });
    assert.equal(await stepState(scope(), "sent"), "done");
    if (token) assert.equal(await stepState(scope(), "approve"), "done");
    const button = scope().getByTestId(`pay-${kind}`);
    assert.equal(await button.isDisabled(), true, "no payment offered while one is in flight");
    assert.match(await button.innerText(), /Payment sent: waiting/);
    await b.screenshot(`09-${kind}-${assetName(assetId)}-sent-reloaded`);
    g.holdReceipts = false;
  } else if (step === "mined") {
    await until("the payment mined", async () => (await stepState(scope(), "mined")) === "done", { timeout: 60_000 });
    await page.reload();
    await backAfterReload(page);
    await until("the page shows the mined step again", async () => (await stepState(scope(), "mined")) === "done", { timeout: 30_000 });
  }
  await assertPaidOnce(t, kind, assetId);
  await b.screenshot(`09-${kind}-${assetName(assetId)}-${step}-applied`);
  await b.close();
}

for (const step of ["payload", "sent", "mined"]) {
  test(`BNB registration: a reload once the ${step === "payload" ? "payload is received" : `transaction is ${step}`} resumes it, paid once`, () =>
    reloadAt("register", BNB, step));
}

for (const step of ["payload", "approval", "sent", "mined"]) {
  test(`USDT registration (approve first): a reload at "${step}" resumes it, paid once`, () => reloadAt("register", USDT, step));
}

for (const step of ["payload", "sent", "mined"]) {
  test(`BNB retopup: a reload at "${step}" resumes it, paid once`, () => reloadAt("retopup", BNB, step));
}

test("a wallet that sends the payment after the page was reloaded: the page finds it on-chain and pays nothing more", async () => {
  const t = await ready("register", BNB);
  const { b, g, scope } = t;
  const { page } = b;
  g.holdSend(1);
  await scope().getByTestId("pay-register").click();
  await until("the wallet's dialog open", () => g.held.length === 1, { timeout: 60_000 });
  await page.reload();
  await backAfterReload(page);
  await until("the page offers to continue the same payment", async () => (await phase(scope(), "register")) === "resume", { timeout: 30_000 });
  // The user confirms the old dialog now: the wallet sends the payload the reloaded page no longer waits for.
  const [late] = await g.release();
  assert.ok(late.hash, `the late transaction was sent: ${JSON.stringify(late)}`);
  assert.equal((await chain.waitForTransactionReceipt({ hash: late.hash })).status, "success");
  // "Continue" finds the payload used on-chain and follows it instead of sending it again.
  await scope().getByTestId("pay-register").click();
  await until("the payment applied on the page", async () => (await stepState(scope(), "applied")) === "done", { timeout: 120_000 });
  assert.match(await scope().getByTestId("step-sent").innerText(), /The authorisation was used on-chain/);
  assert.equal(g.sent.length, 1, "the wallet sent one transaction");
  await assertPaidOnce(t, "register", BNB);
  await b.close();
});

test("a second tab opened mid-payment follows the same payment and offers none", async () => {
  const t = await ready("register", BNB);
  const { b, g, scope, url } = t;
  g.holdSend(1);
  await scope().getByTestId("pay-register").click();
  await until("the wallet's dialog open", () => g.held.length === 1, { timeout: 60_000 });

  // A second tab of the same browser, with the same wallet.
  const second = await b.context.newPage();
  const problems = [];
  second.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  second.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  second.on("response", (r) => r.status() >= 400 && problems.push(`http ${r.status()} ${r.url()}`));
  second.on("request", (r) => !r.url().startsWith(BASE) && !r.url().startsWith("data:") && problems.push(`other origin: ${r.url()}`));
  await b.wallet.attach(second);
  await second.goto(url);
  await backAfterReload(second);
  const other = second.getByTestId("register");
  await until("the second tab sees the payment being paid elsewhere", async () => (await phase(other, "register")) === "elsewhere", { timeout: 30_000 });
  await other.getByTestId("paying-elsewhere").waitFor();
  assert.equal(await other.getByTestId("pay-register").isDisabled(), true, "the second tab offers no payment");
  assert.match(await other.getByTestId("pay-register").innerText(), /Being paid in another tab/);
  await second.screenshot({ path: new URL("../test-results/09-second-tab-elsewhere.png", import.meta.url).pathname });

  // The user confirms in the first tab's dialog: both tabs follow it to "Applied".
  const [sent] = await g.release();
  assert.ok(sent.hash);
  await until("the second tab follows the sent payment", async () => (await stepState(other, "sent")) === "done", { timeout: 30_000 });
  await until("the second tab shows it applied", async () => (await stepState(other, "applied")) === "done", { timeout: 120_000 });
  assert.equal(await other.getByTestId("pay-register").count(), 0);
  assert.equal(g.sent.length, 1, "one transaction from the wallet");
  await assertPaidOnce(t, "register", BNB);
  assert.deepEqual(problems, [], "the second tab logged no errors");
  await b.close();
});

/**
 * A gate in front of the TronLink stand-in: `holdSign = n` leaves the n-th `trx.sign` (TronLink's prompt) open;
 * `holdInfo` answers "not mined yet" for the payment's txid (the second broadcast, after the approval).
 */
function tronGate(tronLink) {
  const original = tronLink.handle.bind(tronLink);
  const g = { signs: 0, holdSign: null, held: [], holdInfo: false };
  tronLink.handle = async (method, args) => {
    if (method === "sign" && ++g.signs === g.holdSign) return new Promise((resolve) => g.held.push(resolve));
    if (method === "getTransactionInfo" && g.holdInfo && tronLink.broadcast.length >= 2 && args[0] === tronLink.broadcast[1]) return {};
    return original(method, args);
  };
  return g;
}

for (const step of ["payload", "approval", "sent", "mined"]) {
  test(`TRON USDT registration with TronLink: a reload at "${step}" resumes it, paid once`, async () => {
    const plan = (await plans()).find((p) => p.asset_id === TRON_USDT);
    const genesis = tronAddress((await Api.signIn(ANVIL_KEYS[0])).address);
    const key = await freshTronKey();
    const tronLink = tronLinkFor(key);
    const b = await openBrowser({ tronLink });
    const { page } = b;
    const g = tronGate(tronLink);
    await page.goto(`${BASE}/?ref=${genesis}&asset=${TRON_USDT}`);
    await signInWithTronLink(page);
    const scope = page.getByTestId("register");
    await scope.getByTestId("pay-register").waitFor();
    const user = evmAddress(tronLink.address);
    const before = await tronUsdtBalance(user);
    if (step === "payload") g.holdSign = 1; // TronLink's prompt for the approval open
    if (step === "approval") g.holdSign = 2; // the approval went through; the payment's prompt open
    if (step === "sent") g.holdInfo = true;
    await scope.getByTestId("pay-register").click();
    if (step === "payload" || step === "approval") {
      await until("TronLink's prompt open", () => g.held.length === 1, { timeout: 60_000 });
      const [r] = await records(page);
      assert.ok(r?.payment?.nonce && !r.tx, "the payload is recorded, no payment");
      assert.equal(!!r.approve, step === "approval", "the approval's txid is recorded once sent");
      await page.reload();
      await backAfterReload(page);
      await until("the page offers to continue the same payment", async () => (await phase(scope, "register")) === "resume", { timeout: 30_000 });
      await b.screenshot(`09-tron-${step}-reloaded`);
      await scope.getByTestId("pay-register").click();
    } else if (step === "mined") {
      await until("the payment mined", async () => (await stepState(scope, "mined")) === "done", { timeout: 60_000 });
      await page.reload();
      await backAfterReload(page);
      await until("the page shows the mined step again", async () => (await stepState(scope, "mined")) === "done", { timeout: 30_000 });
    } else {
      await until("the payment's txid recorded", async () => (await records(page))[0]?.tx, { timeout: 60_000 });
      await page.reload();
      await backAfterReload(page);
      await until("the page follows the sent payment", async () => (await phase(scope, "register")) === "following", { timeout: 30_000 });
      assert.equal(await scope.getByTestId("pay-register").isDisabled(), true);
      await b.screenshot("09-tron-sent-reloaded");
      g.holdInfo = false;
    }
    await until("the registration applied", async () => {
      const failed = await scope.getByTestId("problem-error").count();
      if (failed) throw new Error(await scope.getByTestId("problem-error").innerText());
      return (await stepState(scope, "applied")) === "done";
    }, { timeout: 150_000 });
    assert.equal(await scope.getByTestId("pay-register").count(), 0, "no second registration is offered");
    assert.deepEqual(await records(page), []);
    // One approval and one payment broadcast; one Registered event; the fee left the account once.
    assert.equal(tronLink.broadcast.length, 2, `broadcasts: ${tronLink.broadcast}`);
    const seen = await tronChain.getLogs({ address: TRON_CHAIN.settlement, event: REGISTERED, args: { user }, fromBlock: 0n });
    assert.equal(seen.length, 1);
    assert.equal(before - (await tronUsdtBalance(user)), BigInt(plan.registration_fee.base));
    const api = await signInTron(key);
    const list = (await api.get(`/v1/users/payments?asset_id=${TRON_USDT}`)).payments;
    assert.equal(list.length, 1, JSON.stringify(list));
    assert.equal(list[0].status, "applied");
    assert.equal(list[0].nonce, String(seen[0].args.nonce));
    await b.close();
  });
}

for (const kind of ["retopup", "register"]) {
  test(`a ${kind} the ledger refuses is shown to its payer with the amount and the reason, never as applied`, async () => {
    // A real refusal: the payload is signed at the plan's fee, then a plan version with another fee takes effect
    // before the transaction is mined (wrong_amount). The plan is restored from the next block on.
    const fee = kind === "register" ? "registration_fee" : "retopup_fee";
    const t = await ready(kind, BNB);
    const { b, g, scope, api } = t;
    const { page } = b;
    const plan = (await plans()).find((p) => p.asset_id === BNB);
    g.holdSend(1);
    await scope().getByTestId(`pay-${kind}`).click();
    await until("the wallet's dialog open", () => g.held.length === 1, { timeout: 60_000 });
    const admin = await Api.signIn(ANVIL_KEYS[0]);
    const versions = (await admin.get(`/v1/admin/plan?asset_id=${BNB}`)).versions;
    const params = versions[versions.length - 1].params;
    // The node's head as it is now (viem's client caches the block number for seconds).
    const head = async () => BigInt(await rpc("eth_blockNumber", []));
    const from = (await head()) + 3n;
    const other = { ...params, [fee]: (BigInt(params[fee]) + 1n).toString() };
    // The first level's price is the registration fee (the plan's rule): it moves with it.
    if (kind === "register") other.level_price = [other[fee], ...params.level_price.slice(1)];
    await admin.post("/v1/admin/plan", { asset_id: BNB, from_block: Number(from), params: other });
    let hash;
    let restoreFrom = null;
    try {
      await until("the new fee in force", async () => (await head()) >= from, { timeout: 30_000 });
      [{ hash }] = await g.release();
      assert.ok(hash, "the payment was sent");
      const receipt = await chain.waitForTransactionReceipt({ hash });
      assert.equal(receipt.status, "success");
      assert.ok(receipt.blockNumber >= from, "mined under the new fee");
      restoreFrom = receipt.blockNumber + 1n;
    } finally {
      const next = (await head()) + 1n;
      await admin.post("/v1/admin/plan", { asset_id: BNB, from_block: Number(restoreFrom && restoreFrom > next ? restoreFrom : next), params });
    }
    const amount = plan[fee];

    const problem = scope().getByTestId("problem-quarantined");
    await problem.waitFor({ timeout: 120_000 });
    const text = await problem.innerText();
    assert.match(text, new RegExp(`Your payment of ${amount.human} \\(transaction ${hash.slice(0, 10)}…`));
    assert.match(text, /was not applied: wrong_amount: /);
    assert.match(text, /an admin can refund it/);
    assert.equal(await stepState(scope(), "applied"), "failed");
    assert.match(await scope().getByTestId("step-applied").innerText(), /Not applied: wrong_amount/);
    assert.deepEqual(await records(page), [], "a final outcome: the record is gone");
    if (kind === "register") assert.equal(await scope().getByTestId("pay-register").count(), 0, "no second registration offered");
    await b.screenshot(`09-quarantined-${kind}-steps`);

    // The dashboard lists it with the amount, the reason and the transaction, after a reload too.
    for (const reload of [false, true]) {
      if (reload) {
        await page.reload();
        await backAfterReload(page);
      }
      const row = page.getByTestId("not-applied").getByTestId("not-applied-payment");
      await row.first().waitFor({ timeout: 30_000 });
      assert.equal(await row.count(), 1);
      assert.match(await row.innerText(), new RegExp(`^${kind === "register" ? "Registration" : "Retopup"} in BNB`));
      assert.equal(await row.getByTestId("not-applied-amount").getAttribute("data-base"), amount.base);
      assert.match(await row.getByTestId("not-applied-reason").innerText(), /^wrong_amount: /);
      assert.equal(await row.getByTestId("not-applied-tx").getAttribute("data-tx"), hash);
    }
    if (kind === "register") {
      // After the reload the registration page says what happened instead of offering a payment the contract refuses.
      const refused = scope().getByTestId("register-refused");
      await refused.waitFor();
      assert.match(await refused.innerText(), new RegExp(`Your payment of ${amount.human} .* was not applied: wrong_amount: .*an admin can refund it`));
      assert.equal(await scope().getByTestId("pay-register").count(), 0);
    }
    await b.screenshot(`09-quarantined-${kind}-dashboard`);
    assert.equal(await page.getByTestId("step-applied").count(), 0, "after the reload nothing says applied");
    const [p] = (await api.get(`/v1/users/payments?asset_id=${BNB}`)).payments.filter((x) => x.kind === kind);
    assert.equal(p.status, "quarantined");
    if (kind === "retopup") assert.equal((await api.standing(BNB)).retopups, 0, "not credited");
    else assert.equal(await api.standing(BNB), null, "not a user");
    await b.close();
  });
}

test("a sent transaction that never executed and whose authorisation expired is let go: nothing was charged, a new payment is offered", async () => {
  const t = await ready("register", BNB);
  const { b, g, scope } = t;
  const { page } = b;
  g.holdSend(1);
  await scope().getByTestId("pay-register").click();
  await until("the wallet's dialog open", () => g.held.length === 1, { timeout: 60_000 });
  // As if the wallet had answered a hash and the network had then dropped the transaction: a hash nothing mined.
  const dropped = `0x${"d0".repeat(32)}`;
  await page.evaluate((tx) => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("referral.payment."));
    localStorage.setItem(key, JSON.stringify({ ...JSON.parse(localStorage.getItem(key)), tx }));
  }, dropped);
  // The page comes back two hours later: past the payload's deadline.
  await page.clock.install({ time: new Date((await chainNow()) + 2 * 3600_000) });
  await page.reload();
  await backAfterReload(page);
  const expired = scope().getByTestId("problem-expired");
  await expired.waitFor({ timeout: 30_000 });
  assert.match(await expired.innerText(), /The transaction 0xd0d0d0d0…d0d0d0 was not executed before its authorisation expired at .*; nothing was charged for it\./);
  assert.equal(await phase(scope(), "register"), "idle");
  assert.match(await scope().getByTestId("pay-register").innerText(), /^Register and pay /);
  assert.deepEqual(await records(page), [], "the record is gone");
  assert.equal((await events("register", b.wallet.address)).length, 0, "nothing on the chain");
  // The page re-rendered or reloaded after letting it go still says what became of it, until a new payment starts.
  await page.reload();
  await backAfterReload(page);
  await scope().getByTestId("problem-expired").waitFor({ timeout: 30_000 });
  assert.match(await scope().getByTestId("problem-expired").innerText(), /The transaction 0xd0d0d0d0…d0d0d0 was not executed/);
  assert.equal(await phase(scope(), "register"), "idle");
  await b.screenshot("09-expired-unsent");
  await b.close();
});
