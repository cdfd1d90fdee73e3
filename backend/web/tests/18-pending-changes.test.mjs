// The contract's pending changes (issue 42: every change of a power over money waits the contract's delay, announced
// and cancellable) shown to every member, read through their own wallet at the Settlement this build carries
// (`pendingChanges()`): the admin (anvil account 0, the devnet's contract admin) schedules a signer rotation from
// this test; the public proof-of-solvency page and the signed-in dashboard show it in plain words with a countdown
// against the chain's clock (the devnet's delay is 120 s), then the admin cancels it and it is gone. The same on the
// TRON stand-in through TronLink, a money role granted to a T… account. Nothing is shown while nothing is pending.
import assert from "node:assert/strict";
import { keccak256, parseEventLogs, stringToHex } from "viem";
import { ANVIL_KEYS, BASE, CHAIN, CHAIN_ID, RECONCILER_METRICS, RPC, SETTLEMENT_ABI, chain, freshKey, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";
import { TestWallet } from "./lib/wallet.mjs";
import { shownAs } from "./lib/dates.mjs";
import { TRON_CHAIN, TRON_RPC, signInWithTronLink, tronAddress, tronChain, tronLinkFor } from "./lib/tron.mjs";

/** The devnet's change delay (abi::deployment::Bounds::development). */
const DELAY = 120;

/** The contract admin's wallet on `rpc` (anvil account 0). */
const admin = (rpcUrl, chainId) => new TestWallet({ key: ANVIL_KEYS[0], rpcUrl, chainId });

/** Sends `functionName(args)` to the Settlement at `address` as the admin; the receipt's logs. */
async function asAdmin(client, publicClient, address, functionName, args) {
  const hash = await admin(client.rpc, client.chainId).client.writeContract({ address, abi: SETTLEMENT_ABI, functionName, args });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success", `${functionName} as the admin`);
  return receipt;
}

/** Schedules a change as the admin; its id (from `ChangeScheduled`) and `readyAt`. */
async function schedule(on, functionName, args) {
  const receipt = await asAdmin(on, on.public, on.settlement, functionName, args);
  const [event] = parseEventLogs({ abi: SETTLEMENT_ABI, eventName: "ChangeScheduled", logs: receipt.logs });
  assert.ok(event, "a ChangeScheduled event");
  return { id: event.args.id, readyAt: event.args.readyAt };
}

/** Cancels every change still pending (a test that failed half-way leaves none behind for the others). */
async function cancelAll(on) {
  const pending = await on.public.readContract({ address: on.settlement, abi: SETTLEMENT_ABI, functionName: "pendingChanges" });
  for (const c of pending) await asAdmin(on, on.public, on.settlement, "cancelChange", [c.id]);
}

const ANVIL = { rpc: RPC, chainId: CHAIN_ID, public: chain, settlement: CHAIN.settlement };
const TRON = { rpc: TRON_RPC, chainId: TRON_CHAIN.chain_id, public: tronChain, settlement: TRON_CHAIN.settlement };

/** The devnet reconciler's `reconciler_pending_changes` for the anvil chain and `kind` (0 when it shows none). */
async function reconcilerPending(kind) {
  const text = await (await fetch(RECONCILER_METRICS)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith("reconciler_pending_changes{") && l.includes(`chain_id="${CHAIN_ID}"`) && l.includes(`kind="${kind}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** The chain's clock: the latest block's timestamp. */
const chainNow = async (on) => (await on.public.getBlock()).timestamp;

/** Asserts `banner` lists one change of `kind` with `text` and a countdown of at most the delay; returns its seconds left. */
async function shown(banner, { kind, text, readyAt }) {
  await banner.waitFor({ timeout: 45_000 });
  assert.equal(await banner.getAttribute("role"), null, "the section itself is no alert");
  const items = banner.getByTestId("pending-change");
  assert.equal(await items.count(), 1, await banner.innerText());
  const item = items.first();
  assert.equal(await item.getAttribute("data-kind"), kind);
  assert.equal(await item.getAttribute("data-ready-at"), readyAt.toString());
  const line = await item.innerText();
  assert.match(line, text);
  // When it takes effect, by the chain's clock, as every time is shown: the reader's zone, named (src/lib/format.ts).
  const [on] = await shownAs(banner.page(), [Number(readyAt) * 1000]);
  assert.ok(line.includes(`(on ${on})`), `${line}: on ${on}`);
  const left = Number(await item.getAttribute("data-left"));
  assert.ok(left > 0 && left <= DELAY, `${left} s left of a ${DELAY} s delay`);
  assert.match(await item.getByTestId("pending-countdown").innerText(), /^(\d+ min( \d+ s)?|\d+ s)$/);
  return left;
}

test("nothing pending: no banner, on the public page nor after sign-in", async () => {
  await cancelAll(ANVIL);
  const b = await openBrowser({ key: ANVIL_KEYS[2] });
  const { page, wallet } = b;
  await page.goto(BASE + "/#solvency");
  await page.getByTestId("solvency").waitFor();
  await signInThroughPage(page);
  // The pending changes were read (then the chain's clock): none.
  await until("the wallet was asked for the pending changes and the chain's clock", async () => wallet.log.includes("eth_getBlockByNumber"), { timeout: 30_000 });
  await page.getByTestId("solvency-BNB").getByTestId("chain-figures").waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId("pending-changes").count(), 0);
  await page.getByTestId("nav-main").click();
  await page.getByTestId("dashboard").waitFor();
  assert.equal(await page.getByTestId("pending-changes").count(), 0);
  await b.close();
});

test("a signer rotation scheduled by the admin: shown with its countdown on the public page and after sign-in, gone once cancelled", async () => {
  await cancelAll(ANVIL);
  assert.equal(Number(await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "changeDelay" })), DELAY);
  const newSigner = `0x${keccak256(stringToHex(`signer ${Date.now()}`)).slice(-40)}`;
  const { id, readyAt } = await schedule(ANVIL, "scheduleSignerRotation", [newSigner]);
  try {
    const now = await chainNow(ANVIL);
    assert.ok(readyAt - now <= BigInt(DELAY) && readyAt > now, "readyAt is the chain's clock plus the delay");

    // The public page, a visitor's wallet (not signed in): read through it, at the build's contract.
    const visitor = await openBrowser({ key: await freshKey() });
    await visitor.page.goto(BASE + "/#solvency");
    await visitor.page.getByTestId("connect").click();
    const banner = visitor.page.getByTestId("pending-changes");
    const text = new RegExp(`^The operator has scheduled a new signer key ${newSigner}.*; it can take effect in \\d`, "i");
    const first = await shown(banner, { kind: "signer", text, readyAt });
    assert.ok(visitor.wallet.log.includes("eth_getBlockByNumber"), "the chain's clock, through the wallet");
    assert.match(await banner.innerText(), new RegExp(`contract ${CHAIN.settlement.slice(0, 6)}`, "i"));
    // The countdown runs.
    await until("the countdown moved on", async () => Number(await banner.getByTestId("pending-change").getAttribute("data-left")) < first, { timeout: 10_000 });
    await visitor.screenshot("18-pending-public");
    await visitor.close();

    // A member after sign-in: the banner on the dashboard.
    const member = await openBrowser({ key: ANVIL_KEYS[2] });
    await member.page.goto(BASE + "/");
    await signInThroughPage(member.page);
    await member.page.getByTestId("dashboard").waitFor();
    const dash = member.page.getByTestId("dashboard").getByTestId("pending-changes");
    await shown(dash, { kind: "signer", text, readyAt });
    assert.equal(await dash.getByTestId("pending-change").getAttribute("data-id"), id);
    await member.screenshot("18-pending-dashboard");
    await member.page.setViewportSize({ width: 390, height: 844 });
    const [scroll, inner] = await member.page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= inner, `the banner fits a 390 px screen (${scroll} px)`);

    // The reconciler pages it (SettlementChangePending, from this gauge) while it waits.
    await until("the reconciler counts the pending signer rotation", async () => (await reconcilerPending("signer_rotation")) === 1, { timeout: 45_000 });

    // Cancelled by the admin: gone (the page reads again by itself), and the reconciler's page resolves.
    await asAdmin(ANVIL, chain, CHAIN.settlement, "cancelChange", [id]);
    await until("the cancelled change gone from the dashboard", async () => (await dash.count()) === 0, { timeout: 45_000 });
    await until("the reconciler no longer counts it", async () => (await reconcilerPending("signer_rotation")) === 0, { timeout: 45_000 });
    await member.close();
  } finally {
    await cancelAll(ANVIL);
  }
});

test("TRON: a money role granted to a T… account, read through TronLink with the chain's clock, gone once cancelled", async () => {
  await cancelAll(TRON);
  const pauser = await tronChain.readContract({ address: TRON.settlement, abi: SETTLEMENT_ABI, functionName: "PAUSER_ROLE" });
  const account = `0x${keccak256(stringToHex(`pauser ${Date.now()}`)).slice(-40)}`;
  const { id, readyAt } = await schedule(TRON, "scheduleRoleChange", [pauser, account, true]);
  try {
    const tronLink = tronLinkFor(ANVIL_KEYS[2]);
    const b = await openBrowser({ tronLink });
    const { page } = b;
    await page.goto(BASE + "/");
    await signInWithTronLink(page);
    const banner = page.getByTestId("dashboard").getByTestId("pending-changes");
    const text = new RegExp(`^The operator has scheduled granting the pauser role \\(it can pause the contract\\) to ${tronAddress(account)}; it can take effect in \\d`);
    await shown(banner, { kind: "grant", text, readyAt });
    assert.ok(tronLink.log.includes("triggerConstantContract") && tronLink.log.includes("getCurrentBlock"), `TronLink was asked: ${tronLink.log}`);
    assert.ok((await banner.innerText()).includes(TRON_CHAIN.settlement_base58.slice(0, 6)), "the contract in its T… form");
    await b.screenshot("18-pending-tron");
    await asAdmin(TRON, tronChain, TRON.settlement, "cancelChange", [id]);
    await until("the cancelled change gone", async () => (await banner.count()) === 0, { timeout: 45_000 });
    await b.close();
  } finally {
    await cancelAll(TRON);
  }
});
