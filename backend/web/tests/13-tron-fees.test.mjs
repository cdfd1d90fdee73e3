// A TronLink user with 0 TRX (issue 28, "TRON users without TRX"): a wallet that has only received USDT does not
// exist on TRON and can neither approve nor pay. Before any TronLink prompt the page asks TronLink's node (the TRON
// test node, through TronLink's tronWeb) for the account, its bandwidth, the chain's prices and the node's energy
// estimates, and says what to do: activate the account with TRX, then hold enough TRX for the fees. Once the TRX is
// there the same registration goes through, approved and paid once, and the fees the node burnt are what left the
// account.
import assert from "node:assert/strict";
import { ANVIL_KEYS, Api, BASE, openBrowser, plans, test, until } from "./lib/stack.mjs";
import {
  TRON_USDT,
  evmAddress,
  sendTrx,
  signInTron,
  signInWithTronLink,
  tronAccount,
  tronAddress,
  tronLinkFor,
  tronTransactionInfo,
  tronUsdtBalance,
  usdtOnlyTronKey,
} from "./lib/tron.mjs";

const TRX = 1_000_000;

test("a USDT-only TronLink wallet is told to activate it and add TRX before any prompt, then registers once", async () => {
  const p = (await plans()).find((x) => x.asset_id === TRON_USDT);
  assert.ok(p, `asset ${TRON_USDT} is in the public plan`);
  const genesis = tronAddress((await Api.signIn(ANVIL_KEYS[0])).address);
  const key = await usdtOnlyTronKey();
  const tronLink = tronLinkFor(key);
  assert.deepEqual(await tronAccount(tronLink.address), {}, "TRON does not know the account: it has only received USDT");
  const usdtBefore = await tronUsdtBalance(evmAddress(tronLink.address));

  const b = await openBrowser({ tronLink });
  const { page } = b;
  await page.goto(`${BASE}/?ref=${genesis}&asset=${TRON_USDT}`);
  const register = page.getByTestId("register");
  await register.waitFor();
  // Signing in is a message signature: no transaction, no TRX needed.
  await signInWithTronLink(page);
  const prompts = () => tronLink.log.filter((m) => m === "sign").length;

  // Not activated: said before any transaction prompt, nothing sent.
  await page.getByTestId("pay-register").click();
  const problem = register.getByTestId("problem-insufficient");
  await problem.waitFor({ timeout: 60_000 });
  const inactive = await problem.innerText();
  assert.match(inactive, new RegExp(`Your TRON account ${tronLink.address} is not activated yet`));
  assert.match(inactive, /creates an account when it first receives TRX.*Send TRX to it.*the approval needs about [\d.]+ TRX in network fees, and the payment after it more/s);
  assert.match(inactive, /Nothing was sent\./);
  assert.equal(prompts(), 0, "TronLink was never asked to sign a transaction");
  assert.equal(tronLink.broadcast.length, 0);
  await b.screenshot("13-tron-not-activated");

  // 1 TRX from an exchange: the account exists now, but cannot pay the approval's energy.
  await sendTrx(tronLink.address, 1 * TRX);
  assert.equal((await tronAccount(tronLink.address)).balance, 1 * TRX);
  await page.getByTestId("pay-register").click();
  await until("the page to tell what the fees need", async () => /holds 1 TRX/.test(await problem.innerText().catch(() => "")), {
    timeout: 60_000,
  });
  const short = await problem.innerText();
  const needed = Number(/needs about ([\d.,]+) TRX/.exec(short)?.[1].replace(/,/g, ""));
  assert.ok(needed > 1, `the approval alone needs more than 1 TRX: ${short}`);
  assert.match(short, /energy and bandwidth, burnt in TRX.*Add at least [\d.]+ TRX to it.*Nothing was sent\./s);
  assert.equal(prompts(), 0, "still no prompt");
  await b.screenshot("13-tron-too-little-trx");

  // Enough TRX: approved and paid, each prompt once, and the registration applies.
  await sendTrx(tronLink.address, 200 * TRX);
  const trxBefore = BigInt((await tronAccount(tronLink.address)).balance);
  await page.getByTestId("pay-register").click();
  const applied = register.getByTestId("step-applied");
  await until("the registration applied", async () => {
    for (const kind of ["error", "insufficient"]) {
      if (await register.getByTestId(`problem-${kind}`).count()) throw new Error(await register.getByTestId(`problem-${kind}`).innerText());
    }
    return (await applied.getAttribute("data-state")) === "done";
  }, { timeout: 150_000 });
  await b.screenshot("13-tron-registered");
  assert.equal(prompts(), 2, "the approval, then the registration");
  assert.equal(tronLink.broadcast.length, 2);
  const fees = [];
  for (const txid of tronLink.broadcast) {
    const info = await tronTransactionInfo(txid);
    assert.equal(info.receipt.result, "SUCCESS", JSON.stringify(info));
    fees.push(BigInt(info.fee));
  }
  const spent = fees.reduce((a, f) => a + f, 0n);
  assert.equal(trxBefore - BigInt((await tronAccount(tronLink.address)).balance), spent, "exactly the fees the node burnt left the account");
  assert.equal(usdtBefore - (await tronUsdtBalance(evmAddress(tronLink.address))), BigInt(p.registration_fee.base), "paid once");
  const me = await (await signInTron(key)).standing(TRON_USDT);
  assert.ok(me && me.user_no > 0, "the API knows the new user");
  await b.close();
});
