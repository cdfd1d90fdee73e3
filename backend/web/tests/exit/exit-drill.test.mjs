// The members' exit drill on the devnet, on both chains (issue 46; contracts/EXIT.md §7, and §13's claim window).
// DESTRUCTIVE: it stops the operator's services and opens the exits of BNB and test USDT on anvil and of test USDT on
// the TRON stand-in for good, so it is not among backend/web/tests/*.test.mjs: scripts/exit-drill.sh runs it last
// (scripts/test.sh's final step), then starts a fresh devnet. In order:
//  1. fresh members register under each demo member until the ledger owes it something (the demo paid most rewards
//     out) and an epoch holding them is committed; the signer stops (nothing more can be committed); every demo
//     member — anvil accounts 2–5 in BNB and 6–9 in test USDT through the injected EVM wallet, accounts 2–5 in TRON
//     USDT through the TronLink stand-in — signs in to the dApp, whose badge verifies and keeps their proof in the
//     browser; each downloads it from the kept list;
//  2. the operator's last act: payout batches after that commitment (BNB: two, TRON USDT: one), signed with the devnet
//     signer's key and sent by the operator — what the exits must subtract;
//  3. the backend, listener and reconciler stop too: the API is unreachable (asserted);
//  4. both chains' clocks move past the exit period (`exitAfter`, a day on the devnet: evm_increaseTime + evm_mine);
//  5. an outside wallet (neither a member nor the operator) opens each exit through the static page loaded from its
//     file:// URL, without a proof, and folds the batches since the commitment — the test rebuilds their running hash
//     itself from the chain's logs and calldata first and checks it is the exit's `batchesToFold`; the claim window
//     ends at the opening's time plus the longer of `exitAfter` and MIN_CLAIM_WINDOW (30 days), as the page says;
//  6. during the window every demo member but one (test USDT's account 9, who never claims) claims through the page
//     from the file:// URL with their downloaded proof: the claim records exactly their leaf (reserved + held +
//     pending + batched from the proof file) less what the batches since the commitment paid them (from the chain's
//     logs and calldata), and pays nothing (the balance moves by the gas only); the page's "at most" is that due times
//     min(1, custody/(the claims so far + this one)); a double click sends once; a reload while the claim is in flight
//     follows it instead of sending again; a second claim is refused (the page, and the contract: AlreadyExited); one
//     member (test USDT's account 6) has the payout sent to another address through the page, bad addresses refused
//     in words first;
//  7. both chains' clocks move past the window's end;
//  8. every claim is paid through the page's "Receive payout", by the member or (each asset's last) by an outside
//     wallet: each recipient's balance rises by exactly due × min(1, custody/proven) (less gas when they sent it
//     themselves in BNB), `proven` summed by the test from the Claimed events and checked against claimWindow and
//     claimOf; a double click, and a second tab while the payout is in flight, send once; a second payout is refused
//     (AlreadyPaid); for the member who never claimed the page says the window closed without a claim, and the
//     contract refuses a late claim (ClaimWindowClosed);
//  9. returnSurplus, sent by an outside wallet, sends the Settlement's admin exactly custody − min(custody, proven),
//     once (a second: SurplusAlreadyReturned);
// 10. nothing else can move those tokens: register, retopup, a signed payout batch, a treasury transfer and a
//     commitment all revert ExitOpen; claims stay in the Settlement; the exit contract holds custody less the payouts
//     and the surplus.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  concat,
  decodeFunctionData,
  encodeAbiParameters,
  encodeFunctionData,
  encodePacked,
  erc20Abi,
  getAddress,
  keccak256,
  stringToHex,
  toFunctionSignature,
  toHex,
} from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, BASE, BNB, CHAIN, CHAIN_ID, DEVNET, RPC, USDT, chain, freshKey, jsonRpc, openBrowser, registerDirectly, signInThroughPage, test, until } from "../lib/stack.mjs";
import { TestWallet } from "../lib/wallet.mjs";
import { TRON_CHAIN, TRON_RPC, TRON_USDT, freshTronKey, registerTronDirectly, signInTron, signInWithTronLink, tronAddress, tronChain, tronLinkFor } from "../lib/tron.mjs";
import {
  EXIT_ABI,
  EXIT_PAGE_ALLOW,
  SETTLEMENT_ABI,
  claimOf,
  claimWindowOf,
  downloadKept,
  downloads,
  exitOf,
  exitState,
  keptByBadge,
  keptKey,
  openExitPage,
  openingOf,
  untilState,
} from "../lib/exit.mjs";

const RUN = join(DEVNET, "run");
const MNEMONIC = "test test test test test test test test test test test junk";
const NATIVE = "0x0000000000000000000000000000000000000000";
const DAY = 86_400n;
const keyOf = (i) => toHex(mnemonicToAccount(MNEMONIC, { addressIndex: i }).getHdKey().privateKey);
const lower = (h) => h.toLowerCase();

/**
 * The three exits of the drill: where, which token, whose; in test USDT, the member who never claims (`unclaimed`: the
 * window closes without a claim for them, their due is surplus) and the one who has the payout sent elsewhere
 * (`redirects`).
 */
const ASSETS = [
  { name: "BNB", assetId: BNB, kind: "evm", client: chain, rpc: RPC, settlement: CHAIN.settlement, token: NATIVE, card: "asset-BNB", members: [2, 3, 4, 5] },
  {
    name: "USDT",
    assetId: USDT,
    kind: "evm",
    client: chain,
    rpc: RPC,
    settlement: CHAIN.settlement,
    token: getAddress(CHAIN.usdt),
    card: "asset-USDT",
    members: [6, 7, 8, 9],
    unclaimed: 9,
    redirects: 6,
  },
  {
    name: "TRON USDT",
    assetId: TRON_USDT,
    kind: "tron",
    client: tronChain,
    rpc: TRON_RPC,
    settlement: TRON_CHAIN.settlement,
    token: getAddress(TRON_CHAIN.usdt),
    card: "asset-USDT-TRON",
    members: [2, 3, 4, 5],
  },
];
/**
 * Per asset: each member's kept proof file and its JSON; the epoch kept; the opening and its claim window's end; the
 * claims made (by member, lower case: the account index, the due and its figures, where it is paid); the members for
 * whom no claim was made; the claims' sum; what the payouts paid; the surplus returned.
 */
const state = new Map(
  ASSETS.map((a) => [a.name, { proofs: new Map(), epoch: null, exits: null, windowEnd: null, claims: new Map(), missed: [], proven: null, paidByExits: 0n, surplus: 0n }]),
);
const dir = downloads();

// ── the operator's services ─────────────────────────────────────────────────────────────────────────────────────

/** Stops one devnet service by its pid file (scripts/devnet.sh's), only if the pid is still that service. */
async function stopService(name) {
  const file = join(RUN, `${name}.pid`);
  if (!existsSync(file)) throw new Error(`${file} is missing: the devnet's ${name} is not running`);
  const pid = Number(readFileSync(file, "utf8").trim());
  const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, "utf8") : "";
  assert.ok(cmdline.includes(name), `pid ${pid} of ${file} is not the devnet's ${name} (${cmdline.replaceAll("\0", " ")})`);
  process.kill(pid, "SIGTERM");
  const alive = () => {
    try {
      process.kill(pid, 0);
      return !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2].startsWith("Z");
    } catch {
      return false;
    }
  };
  await until(`${name} (pid ${pid}) stopped`, () => !alive(), { timeout: 20_000 }).catch(() => process.kill(pid, "SIGKILL"));
}

/** The signer's key (the devnet's: anvil account #1) signs `structHash` under the contract's EIP-712 domain. */
async function signerSignature(client, settlement, structHash) {
  const signer = privateKeyToAccount(ANVIL_KEYS[1]);
  assert.equal(lower(await client.readContract({ address: settlement, abi: SETTLEMENT_ABI, functionName: "signer" })), lower(signer.address), "the devnet's signer key");
  const digest = await client.readContract({ address: settlement, abi: SETTLEMENT_ABI, functionName: "hashTypedData", args: [structHash] });
  return signer.sign({ hash: digest });
}

const PAYOUT_TYPEHASH = keccak256(stringToHex("Payout(address recipient,uint256 amount)"));
const BATCH_TYPEHASH = keccak256(
  stringToHex("PayoutBatch(address token,uint256 total,Payout[] payouts,uint256 nonce,uint256 deadline)Payout(address recipient,uint256 amount)"),
);
const entriesHash = (payouts) =>
  keccak256(concat(payouts.map((p) => keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "address" }, { type: "uint256" }], [PAYOUT_TYPEHASH, p.recipient, p.amount])))));

/** A payout batch of `token` signed by the devnet's signer: the arguments of executePayoutBatch. */
async function signedBatch(asset, payouts) {
  const now = (await asset.client.getBlock()).timestamp;
  const total = payouts.reduce((s, p) => s + p.amount, 0n);
  const batch = { token: asset.token, total, payouts, nonce: (1n << 200n) + BigInt(Math.floor(Math.random() * 1e12)), deadline: now + 3600n };
  const structHash = keccak256(
    encodeAbiParameters(
      ["bytes32", "address", "uint256", "bytes32", "uint256", "uint256"].map((type) => ({ type })),
      [BATCH_TYPEHASH, batch.token, batch.total, entriesHash(payouts), batch.nonce, batch.deadline],
    ),
  );
  return [batch, await signerSignature(asset.client, asset.settlement, structHash)];
}

/** The operator (anvil account #0) executes a payout batch: on anvil with its own key, on TRON as TronLink sends it. */
async function operatorPays(asset, payouts) {
  const args = await signedBatch(asset, payouts);
  const data = encodeFunctionData({ abi: SETTLEMENT_ABI, functionName: "executePayoutBatch", args });
  if (asset.kind === "tron") {
    const item = SETTLEMENT_ABI.find((x) => x.type === "function" && x.name === "executePayoutBatch");
    await tronLinkFor(ANVIL_KEYS[0]).pay({
      contract: TRON_CHAIN.settlement_base58,
      function_selector: toFunctionSignature(item),
      parameter: data.slice(10),
      fee_limit: 1_000_000_000,
      call_value: "0",
    });
    return args[0];
  }
  const operator = new TestWallet({ key: ANVIL_KEYS[0], rpcUrl: asset.rpc, chainId: CHAIN_ID });
  const hash = await operator.client.sendTransaction({ to: asset.settlement, data });
  const receipt = await asset.client.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success", "the operator's batch executed");
  return args[0];
}

/**
 * The payout batches of `token` since its latest commitment, read by the test straight from the chain (its own RPC,
 * not the page's wallet): the PayoutBatchExecuted logs from the commitment's block on, each one's entries from its
 * transaction's calldata; their running hash, and what they paid each recipient.
 */
async function batchesSinceCommitment(asset) {
  const [, , , , commitBlock] = await asset.client.readContract({ address: asset.settlement, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [asset.token] });
  const logs = await asset.client.getContractEvents({ address: asset.settlement, abi: SETTLEMENT_ABI, eventName: "PayoutBatchExecuted", args: { token: asset.token }, fromBlock: commitBlock });
  logs.sort((a, b) => (a.blockNumber !== b.blockNumber ? Number(a.blockNumber - b.blockNumber) : a.logIndex - b.logIndex));
  let head = `0x${"0".repeat(64)}`;
  const paid = new Map();
  for (const log of logs) {
    const tx = await asset.client.getTransaction({ hash: log.transactionHash });
    const { args } = decodeFunctionData({ abi: SETTLEMENT_ABI, data: tx.input });
    const [batch] = args;
    assert.equal(batch.nonce, log.args.nonce);
    assert.equal(entriesHash(batch.payouts), log.args.payoutsHash, "the calldata's entries are the log's");
    head = keccak256(encodePacked(["bytes32", "uint256", "bytes32"], [head, batch.nonce, log.args.payoutsHash]));
    for (const p of batch.payouts) paid.set(lower(p.recipient), (paid.get(lower(p.recipient)) ?? 0n) + p.amount);
  }
  return { count: logs.length, head, paid, commitBlock };
}

const balanceOf = (asset, who) =>
  asset.token === NATIVE ? asset.client.getBalance({ address: who }) : asset.client.readContract({ address: asset.token, abi: erc20Abi, functionName: "balanceOf", args: [who] });

/** What a member's claim must record, computed by the test from the proof file and the chain's batches since. */
function expectedDue(proof, since) {
  const b = proof.balances;
  const entitlement = BigInt(b.reserved) + BigInt(b.held) + BigInt(b.pending) + BigInt(b.batched);
  const paidAfter = since.paid.get(lower(proof.user)) ?? 0n;
  const subtracted = paidAfter < entitlement ? paidAfter : entitlement;
  return { entitlement, subtracted, due: entitlement - subtracted };
}

/** What a claim of `due` is paid: due × min(1, custody/proven), rounded down (EXIT.md §13), computed here. */
const shareOf = (due, custody, proven) => (custody >= proven ? due : (due * custody) / proven);

/** The outside wallet of an asset (neither a member nor the operator): it opens, folds, pays one claim out, returns the surplus. */
const outsiderKey = (a) => keyOf(7_000_000 + ASSETS.indexOf(a));

/** The exit leaf and proof of a kept proof file, as `exit` and `previewExit` take them. */
function exitArgs(p) {
  const leaf = { member: getAddress(p.user), reserved: BigInt(p.balances.reserved), held: BigInt(p.balances.held), pending: BigInt(p.balances.pending), batched: BigInt(p.balances.batched), claimable: BigInt(p.balances.claimable), salt: p.salt };
  return [leaf, BigInt(p.index), p.siblings.map((x) => ({ hash: x.hash, sum: BigInt(x.sum) }))];
}

/** `e` (viem's) is a revert with the custom error `name`. */
const reverts = (name) => (e) => e.walk((c) => c.data?.errorName === name) !== null;

/** Anyone (the outside wallet of `key`) sends `functionName(args)` to the exit contract: on anvil with its key, on TRON through TronLink. */
async function outsiderSends(a, key, functionName, args) {
  const exits = state.get(a.name).exits;
  const data = encodeFunctionData({ abi: EXIT_ABI, functionName, args });
  if (a.kind === "tron") {
    const item = EXIT_ABI.find((x) => x.type === "function" && x.name === functionName);
    return tronLinkFor(key).pay({ contract: tronAddress(exits), function_selector: toFunctionSignature(item), parameter: data.slice(10), fee_limit: 1_000_000_000, call_value: "0" });
  }
  const sender = new TestWallet({ key, rpcUrl: a.rpc, chainId: CHAIN_ID });
  const hash = await sender.client.sendTransaction({ to: exits, data });
  const receipt = await a.client.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success", `${functionName} went through`);
  return hash;
}

// ── 1. the members keep their proofs ────────────────────────────────────────────────────────────────────────────

test("every demo member is owed something; the signer stops; each one's badge verifies and keeps their proof, downloaded from the dApp's kept list", async () => {
  for (const a of ASSETS) {
    const { exits } = await exitOf(a.client, a.settlement);
    state.get(a.name).exits = exits;
    assert.equal((await openingOf(a.client, exits, a.token)).open, false, `${a.name}'s exit is not open yet: this drill needs a fresh devnet`);
  }
  // The API check runs before this drill on the same devnet, and its generated requests freeze and unfreeze demo
  // members at random: one left frozen could sponsor nobody (422 sponsor_frozen). Support unfreezes them first.
  const support = await Api.signIn(ANVIL_KEYS[0]);
  for (const a of ASSETS) {
    for (const i of a.members) {
      const address = privateKeyToAccount(keyOf(i)).address;
      const body = { asset_id: a.assetId, reason: "exit drill: undo the API check's random freezes" };
      const r = await Api.raw("POST", `/v1/admin/users/${address}/unfreeze`, body, support.token);
      assert.ok([200, 409].includes(r.status), `unfreeze ${a.name} member ${i}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
  // The demo paid most rewards out: fresh members register under each demo member until the ledger owes it something
  // (a direct reward, pending; the plan may place a referral's fee in the auto-pool instead), and an epoch is
  // committed that holds them all. Every asset's registrations first, then one wait for all their epochs (an epoch
  // a minute on each chain: waiting asset by asset took a minute each).
  const heads = new Map();
  for (const a of ASSETS) {
    for (const i of a.members) {
      const key = keyOf(i);
      const sponsor = privateKeyToAccount(key).address;
      const api = a.kind === "tron" ? await signInTron(key) : await Api.signIn(key);
      const owed = async () => {
        const b = (await api.standing(a.assetId)).balances;
        return BigInt(b.reserved) + BigInt(b.held) + BigInt(b.pending) + BigInt(b.batched);
      };
      for (let n = 0; (await owed()) === 0n; n++) {
        assert.ok(n < 4, `${a.name} member ${i} is owed nothing after ${n} referrals`);
        if (a.kind === "tron") await registerTronDirectly(await freshTronKey(), tronAddress(sponsor));
        else await registerDirectly(await freshKey(), sponsor, a.assetId);
      }
    }
    heads.set(a.name, await a.client.getBlockNumber());
  }
  await Promise.all(ASSETS.map((a) => until(`an epoch of ${a.name} with the new registrations`, async () => {
    const [, , , asOfBlock] = await a.client.readContract({ address: a.settlement, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [a.token] });
    return asOfBlock >= heads.get(a.name);
  }, { timeout: 300_000, every: 2000 })));
  await stopService("signer");
  // A commitment already signed may still land: wait until every latest epoch holds still for 20 s.
  const latest = async () => Promise.all(ASSETS.map(async (a) => (await a.client.readContract({ address: a.settlement, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [a.token] }))[2]));
  let seen = await latest();
  let since = Date.now();
  await until("every asset's latest commitment holds still", async () => {
    const now = await latest();
    if (now.some((e, i) => e !== seen[i])) {
      seen = now;
      since = Date.now();
    }
    return Date.now() - since > 20_000;
  }, { timeout: 180_000, every: 2000 });
  ASSETS.forEach((a, i) => {
    assert.ok(seen[i] > 0n, `${a.name} has a commitment`);
    state.get(a.name).epoch = Number(seen[i]);
  });

  for (const a of ASSETS) {
    for (const i of a.members) {
      const key = keyOf(i);
      const address = privateKeyToAccount(key).address;
      const tronLink = a.kind === "tron" ? tronLinkFor(key) : null;
      const b = await openBrowser(tronLink ? { tronLink } : { key });
      const { page } = b;
      await page.goto(BASE + "/");
      if (tronLink) await signInWithTronLink(page);
      else await signInThroughPage(page);
      const { epoch } = await keptByBadge(page, a.card);
      assert.equal(epoch, state.get(a.name).epoch, `${a.name} member ${i}'s proof is of the latest epoch`);
      const api = tronLink ? await signInTron(key) : await Api.signIn(key);
      const served = await api.get(`/v1/users/solvency-proof?asset_id=${a.assetId}&epoch=${epoch}&download=true`);
      await page.getByTestId("nav-solvency").click();
      const kept = await downloadKept(page, keptKey(served), dir);
      assert.deepEqual(kept.json, served, "the kept file is the API's download");
      assert.equal(lower(kept.json.user), lower(address));
      state.get(a.name).proofs.set(i, kept);
      await b.close();
    }
  }
});

// ── 2. the operator's last batches, 3. the operator gone ────────────────────────────────────────────────────────

test("the operator's last payout batches after the commitment, then the backend, listener and reconciler stop: the API is unreachable", async () => {
  const entitlementOf = (p) => BigInt(p.balances.reserved) + BigInt(p.balances.held) + BigInt(p.balances.pending) + BigInt(p.balances.batched);
  const richest = (a) =>
    [...state.get(a.name).proofs.entries()].map(([i, k]) => ({ i, address: getAddress(k.json.user), owed: entitlementOf(k.json) })).sort((x, y) => (y.owed > x.owed ? 1 : -1));
  const bnb = ASSETS[0];
  const [m1, m2] = richest(bnb);
  assert.ok(m1.owed > 3n && m2.owed > 4n, "two BNB members are owed something");
  await operatorPays(bnb, [{ recipient: m1.address, amount: m1.owed / 3n }]);
  await operatorPays(bnb, [
    { recipient: m2.address, amount: m2.owed / 4n },
    { recipient: privateKeyToAccount(keyOf(9_000_001)).address, amount: 10n ** 15n },
  ]);
  const tron = ASSETS[2];
  const [t1] = richest(tron);
  assert.ok(t1.owed > 3n, "a TRON member is owed something");
  await operatorPays(tron, [{ recipient: t1.address, amount: t1.owed / 3n }]);

  for (const name of ["backend", "listener", "reconciler"]) await stopService(name);
  await assert.rejects(fetch(`${BASE}/health`), /fetch failed/, "the API is unreachable");
  await assert.rejects(fetch(`${BASE}/v1/public/solvency`), /fetch failed/);
  // Nothing was committed since the members kept their proofs.
  for (const a of ASSETS) {
    const [, , epoch] = await a.client.readContract({ address: a.settlement, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [a.token] });
    assert.equal(Number(epoch), state.get(a.name).epoch, `${a.name}: no commitment after the kept proofs`);
  }
});

// ── 4. time passes ──────────────────────────────────────────────────────────────────────────────────────────────

test("both chains' clocks move past the exit period", async () => {
  for (const rpc of [RPC, TRON_RPC]) {
    await jsonRpc(rpc, "evm_increaseTime", [Number(DAY + 120n)]);
    await jsonRpc(rpc, "evm_mine", []);
  }
  for (const a of ASSETS) {
    const { exitAfter } = await exitOf(a.client, a.settlement);
    assert.equal(exitAfter, DAY, "the devnet's contracts are deployed with a day");
    const opensAt = await a.client.readContract({ address: a.settlement, abi: SETTLEMENT_ABI, functionName: "exitOpensAt", args: [a.token] });
    const now = (await a.client.getBlock()).timestamp;
    assert.ok(now >= opensAt, `${a.name}: due (${now} ≥ ${opensAt})`);
  }
});

// ── 5. an outsider opens and folds ──────────────────────────────────────────────────────────────────────────────

test("an outside wallet opens each exit through the static page from its file:// URL, without a proof, and folds the batches since the commitment; the claim window runs 30 days", async () => {
  for (const a of ASSETS) {
    const key = outsiderKey(a);
    const outsider = privateKeyToAccount(key).address;
    await jsonRpc(a.rpc, "anvil_setBalance", [outsider, toHex(10n ** 20n)]);
    for (const who of [privateKeyToAccount(ANVIL_KEYS[0]).address, ...[...state.get(a.name).proofs.values()].map((k) => k.json.user)])
      assert.notEqual(lower(outsider), lower(who), "neither the operator nor a member");
    const since = await batchesSinceCommitment(a);
    state.get(a.name).since = since;
    const tronLink = a.kind === "tron" ? tronLinkFor(key) : null;
    const b = await openBrowser(tronLink ? { tronLink } : { key });
    const { page } = b;
    await openExitPage(page, a.kind);
    await page.getByLabel(/Token address/).fill(a.kind === "tron" ? TRON_CHAIN.usdt_base58 : a.token === NATIVE ? "" : a.token);
    await page.getByTestId("exit-read").click();
    const before = await exitState(page);
    assert.equal(before.open, false);
    assert.equal(before.due, true, before.text);
    assert.match(await page.getByTestId("exit-window-after-open").innerText(), /Once it is open, members have 30 days to claim .* A member who does not claim in that time gets nothing/);
    await page.getByTestId("exit-open").click();
    const opened = await untilState(page, `${a.name}'s exit open`, (s) => s.open);
    const exits = state.get(a.name).exits;
    const opening = await openingOf(a.client, exits, a.token);
    assert.ok(opening.open);
    assert.equal(Number(opening.epoch), state.get(a.name).epoch, "the exit rests on the commitment the members kept");
    assert.equal(opened.owed, opening.owed);
    assert.equal(opened.custody, opening.custody);
    const events = await a.client.getContractEvents({ address: exits, abi: EXIT_ABI, eventName: "Opened", args: { token: a.token }, fromBlock: since.commitBlock });
    assert.equal(events.length, 1);
    // The claim window: from the opening's block time, the longer of the exit period and MIN_CLAIM_WINDOW (30 days).
    const minWindow = await a.client.readContract({ address: exits, abi: EXIT_ABI, functionName: "MIN_CLAIM_WINDOW" });
    assert.equal(minWindow, 30n * DAY);
    const { exitAfter } = await exitOf(a.client, a.settlement);
    const openedAt = (await a.client.getBlock({ blockNumber: events[0].blockNumber })).timestamp;
    const window = await claimWindowOf(a.client, exits, a.token);
    assert.equal(window.end, openedAt + (exitAfter > minWindow ? exitAfter : minWindow), `${a.name}: the window's end`);
    assert.equal(window.closed, false);
    assert.equal(window.proven, 0n);
    const windowEvents = await a.client.getContractEvents({ address: exits, abi: EXIT_ABI, eventName: "ClaimWindowOpened", args: { token: a.token }, fromBlock: since.commitBlock });
    assert.equal(windowEvents.length, 1);
    assert.equal(windowEvents[0].args.end, window.end);
    assert.equal(opened.windowEnd, window.end, "the page shows the window's end");
    assert.equal(opened.windowClosed, false);
    assert.match(opened.text, /Members claim until .* Then every claim is paid the same share/);
    state.get(a.name).windowEnd = window.end;
    // The test's own rebuild of the batches since the commitment is the hash the exit waits for.
    assert.equal(lower(opening.batchesToFold), lower(since.head), `${a.name}: ${since.count} batches since the commitment`);
    state.get(a.name).opening = opening;
    if (since.count > 0) {
      const fold = page.getByTestId("exit-fold");
      // A double click folds once.
      await fold.dblclick();
      await untilState(page, `${a.name}'s batches folded`, (s) => /^0x0+$/.test(s.batchesToFold));
      assert.equal(await page.getByTestId("exit-fold-plan").getAttribute("data-count"), String(since.count));
      const folded = await a.client.getContractEvents({ address: exits, abi: EXIT_ABI, eventName: "BatchesFolded", args: { token: a.token }, fromBlock: since.commitBlock });
      assert.equal(folded.length, 1, "one fold transaction, whatever the clicks");
      assert.equal(folded[0].args.count, BigInt(since.count));
      for (const [recipient, amount] of since.paid) {
        const [paidAfter] = await a.client.readContract({ address: exits, abi: EXIT_ABI, functionName: "memberExit", args: [a.token, recipient] });
        assert.equal(paidAfter, amount, `the fold credited ${recipient} what the batches paid`);
      }
    } else {
      await page.getByTestId("exit-folded").waitFor();
    }
    if (tronLink) assert.ok(tronLink.log.includes("sendRawTransaction"), "sent through TronLink");
    await b.screenshot(`exit-drill-opened-${a.name.replace(" ", "-")}`);
    await b.close(EXIT_PAGE_ALLOW);
  }
  assert.ok(state.get("BNB").since.count >= 2 && state.get("TRON USDT").since.count >= 1, "the operator's batches are among those folded");
});

// ── 6. the members claim ────────────────────────────────────────────────────────────────────────────────────────

test("during the claim window every demo member but one claims through the static page with their kept proof: their leaf less what was paid since is recorded, nothing is paid, once", async (t) => {
  let doubleClicked = false;
  let reloaded = false;
  let redirected = false;
  for (const a of ASSETS) {
    const s = state.get(a.name);
    for (const [i, kept] of s.proofs) {
      const member = getAddress(kept.json.user);
      if (i === a.unclaimed) {
        // Never claims: once the window has closed, the exit pays this member nothing (step 8).
        s.missed.push(i);
        continue;
      }
      const key = keyOf(i);
      const expected = expectedDue(kept.json, s.since);
      const proven = [...s.claims.values()].reduce((x, c) => x + c.due, 0n);
      const window = await claimWindowOf(a.client, s.exits, a.token);
      assert.equal(window.closed, false, `${a.name}: the window still runs`);
      assert.equal(window.proven, proven, `${a.name}: the claims so far, as the test counted them`);
      // The most the claim can pay: its due's share were the window to close now, with it counted.
      const ceiling = shareOf(expected.due, s.opening.custody, proven + expected.due);
      const tronLink = a.kind === "tron" ? tronLinkFor(key) : null;
      const b = await openBrowser(tronLink ? { tronLink } : { key });
      const { page, wallet } = b;
      await openExitPage(page, a.kind);
      await page.getByLabel("Proof file").setInputFiles(kept.file);
      const st = await exitState(page);
      assert.ok(st.open && /^0x0+$/.test(st.batchesToFold), st.text);
      assert.equal(st.windowEnd, s.windowEnd);
      assert.equal(st.windowClosed, false);
      assert.equal(st.proven, proven);
      const box = page.getByTestId("exit-member");
      await box.waitFor();
      assert.equal(await box.getAttribute("data-epoch-matches"), "true", await box.innerText());
      assert.equal(await box.getAttribute("data-stage"), "claim", await box.innerText());
      // Plainly: claim before the end or get nothing; anyone may claim for the member, to the member.
      const intro = await page.getByTestId("exit-claim-intro").innerText();
      assert.match(intro, /^Claim before .+\. A member who does not claim before then gets nothing/, intro);
      assert.match(intro, /Anyone may claim for a member .*, paid to the member's own address/, intro);
      const preview = page.getByTestId("exit-preview");
      await preview.waitFor({ timeout: 30_000 });
      assert.equal(await preview.getAttribute("data-entitlement"), expected.entitlement.toString(), `${a.name} member ${i}: entitlement`);
      assert.equal(await preview.getAttribute("data-subtracted"), expected.subtracted.toString(), `${a.name} member ${i}: subtracted`);
      assert.equal(await preview.getAttribute("data-amount"), ceiling.toString(), `${a.name} member ${i}: at most`);
      assert.match(await page.getByTestId("exit-at-most").innerText(), /^At most .+: the final share is fixed when the window closes \(it falls if custody is short and others claim\)\.$/);
      const send = page.getByTestId("exit-claim");
      assert.ok(expected.entitlement > 0n, `${a.name} member ${i} is owed something`);
      t.diagnostic(`${a.name} member ${i} (${member}): leaf ${expected.entitlement}, paid since the commitment ${expected.subtracted}, claim ${expected.due}, at most ${ceiling}`);
      if (i === a.members[0]) await b.screenshot(`exit-drill-claim-${a.name.replace(" ", "-")}`);
      if (expected.due === 0n) {
        // Everything the leaf owed was paid since the commitment: nothing to claim.
        assert.ok(await send.isDisabled(), "nothing to claim for a member owed nothing");
        s.missed.push(i);
        await b.close(EXIT_PAGE_ALLOW);
        continue;
      }
      const before = await balanceOf(a, member);
      const sends = () => (tronLink ? tronLink.broadcast.length : wallet.log.filter((m) => m === "eth_sendTransaction").length);
      if (a.kind === "evm" && !reloaded && doubleClicked) {
        // A reload while the claim is in flight: the page follows the transaction it sent, and never sends it again.
        reloaded = true;
        await jsonRpc(a.rpc, "evm_setIntervalMining", [0]);
        await jsonRpc(a.rpc, "evm_setAutomine", [false]);
        try {
          await send.click();
          await until("the claim sent, not mined", async () => /was sent \(transaction/.test(await page.getByTestId("exit-status").innerText()));
          await page.reload();
          await page.getByTestId("exit-connect-evm").first().click();
          await page.getByLabel("Proof file").setInputFiles(kept.file);
          await until("the reloaded page follows the claim in flight", async () => /sent from this page before a reload or in another tab/.test(await page.getByTestId("exit-status").innerText()));
          // A click meanwhile sends nothing either.
          if (await send.isVisible().catch(() => false)) await send.click({ force: true, timeout: 2000 }).catch(() => undefined);
        } finally {
          await jsonRpc(a.rpc, "evm_mine", []);
          await jsonRpc(a.rpc, "evm_setAutomine", [true]);
          await jsonRpc(a.rpc, "evm_setIntervalMining", [1]);
        }
      } else if (!doubleClicked || a.kind === "tron") {
        // A double click sends one claim.
        doubleClicked = true;
        await send.dblclick();
      } else {
        await send.click();
      }
      await page.getByTestId("exit-claimed").waitFor({ timeout: 90_000 });
      assert.equal(sends(), 1, `${a.name} member ${i}: one transaction sent`);
      const claimed = await a.client.getContractEvents({ address: s.exits, abi: EXIT_ABI, eventName: "Claimed", args: { member, token: a.token }, fromBlock: s.since.commitBlock });
      assert.equal(claimed.length, 1, "one claim");
      assert.equal(claimed[0].args.due, expected.due);
      assert.equal(claimed[0].args.entitlement, expected.entitlement);
      assert.equal(claimed[0].args.subtracted, expected.subtracted);
      assert.equal(claimed[0].args.to, member);
      // A claim pays nothing: the member's balance moved by the claim's gas only (BNB), or not at all.
      let gas = 0n;
      if (a.token === NATIVE) {
        const receipt = await a.client.getTransactionReceipt({ hash: claimed[0].transactionHash });
        gas = receipt.gasUsed * receipt.effectiveGasPrice;
      }
      assert.equal(await balanceOf(a, member), before - gas, `${a.name} member ${i}: nothing paid by the claim`);
      assert.deepEqual(await claimOf(a.client, s.exits, a.token, member), { due: expected.due, to: member, paid: false });
      assert.equal((await claimWindowOf(a.client, s.exits, a.token)).proven, proven + expected.due);
      assert.equal(
        (await a.client.getContractEvents({ address: s.exits, abi: EXIT_ABI, eventName: "Exited", args: { member, token: a.token }, fromBlock: s.since.commitBlock })).length,
        0,
        "nothing paid out during the window",
      );
      s.claims.set(lower(member), { i, ...expected, to: member });

      // A second claim: the page reads that the member claimed and offers no claim; the contract refuses it.
      await page.reload();
      await page.getByTestId(a.kind === "tron" ? "exit-connect-tron" : "exit-connect-evm").first().click();
      await page.getByLabel("Proof file").setInputFiles(kept.file);
      const claimedText = page.getByTestId("exit-claimed");
      await claimedText.waitFor({ timeout: 30_000 });
      assert.match(await claimedText.innerText(), /^✓ You claimed .+; payable from .+, to .+\.$/);
      assert.equal(await page.getByTestId("exit-member").getAttribute("data-claim-due"), expected.due.toString());
      assert.equal(await page.getByTestId("exit-claim").count(), 0);
      await assert.rejects(
        a.client.simulateContract({ account: member, address: s.exits, abi: EXIT_ABI, functionName: "exit", args: [a.token, ...exitArgs(kept.json), member] }),
        reverts("AlreadyExited"),
        "the contract refuses a second claim",
      );

      if (i === a.redirects) {
        // The member has the payout sent elsewhere: bad addresses refused in words, nothing sent; then the change.
        redirected = true;
        const field = page.getByTestId("exit-redirect-to");
        const go = page.getByTestId("exit-redirect-send");
        const refused = async (text, pattern) => {
          await field.fill(text);
          await go.click();
          await until(`"${text}" refused`, async () => {
            const error = page.getByTestId("exit-error");
            return (await error.count()) > 0 && pattern.test(await error.innerText());
          });
        };
        await refused("not an address", /"not an address" is not an address to pay to/);
        await refused(s.exits, /is the Settlement or its exit contract: it cannot be paid/);
        await refused(NATIVE, /The zero address cannot be paid/);
        assert.equal(sends(), 1, "nothing sent for a refused address");
        const elsewhere = privateKeyToAccount(keyOf(8_000_000 + i)).address;
        await field.fill(elsewhere);
        await go.dblclick();
        await until("the payout redirected", async () => lower((await claimOf(a.client, s.exits, a.token, member)).to) === lower(elsewhere), { timeout: 90_000 });
        await until("the page reads the claim again", async () => lower((await page.getByTestId("exit-member").getAttribute("data-claim-to")) ?? "") === lower(elsewhere));
        assert.equal(sends(), 2, "one redirection sent, whatever the clicks");
        const moved = await a.client.getContractEvents({ address: s.exits, abi: EXIT_ABI, eventName: "Redirected", args: { member, token: a.token }, fromBlock: s.since.commitBlock });
        assert.equal(moved.length, 1);
        assert.equal(moved[0].args.to, elsewhere);
        assert.match(await page.getByTestId("exit-claimed").innerText(), new RegExp(`to ${elsewhere}\\.$`));
        s.claims.get(lower(member)).to = elsewhere;
      }
      await b.close(EXIT_PAGE_ALLOW);
    }
  }
  assert.ok(doubleClicked && reloaded && redirected, "the double click, the reload and the redirection were all tried");
});

// ── 7. the window closes ────────────────────────────────────────────────────────────────────────────────────────

test("both chains' clocks move past the claim window's end", async () => {
  for (const [rpc, client] of [
    [RPC, chain],
    [TRON_RPC, tronChain],
  ]) {
    const ends = ASSETS.filter((a) => a.rpc === rpc).map((a) => state.get(a.name).windowEnd);
    const end = ends.reduce((x, y) => (y > x ? y : x));
    const now = (await client.getBlock()).timestamp;
    if (now < end) await jsonRpc(rpc, "evm_increaseTime", [Number(end - now + 120n)]);
    await jsonRpc(rpc, "evm_mine", []);
  }
  for (const a of ASSETS) {
    const window = await claimWindowOf(a.client, state.get(a.name).exits, a.token);
    assert.ok(window.closed, `${a.name}: the window closed (${window.end})`);
  }
});

// ── 8. every claim is paid out ──────────────────────────────────────────────────────────────────────────────────

test("after the window every claim is paid through the page, by the member or by anyone: exactly due × min(1, custody/proven), once; no claim, nothing", async (t) => {
  let doubleClicked = false;
  let secondTab = false;
  for (const a of ASSETS) {
    const s = state.get(a.name);
    const custody = s.opening.custody;
    // The claims' sum, from the chain's Claimed events: what every share is taken of.
    const claimedEvents = await a.client.getContractEvents({ address: s.exits, abi: EXIT_ABI, eventName: "Claimed", args: { token: a.token }, fromBlock: s.since.commitBlock });
    assert.equal(claimedEvents.length, s.claims.size, `${a.name}: one Claimed a claim`);
    for (const e of claimedEvents) assert.equal(e.args.due, s.claims.get(lower(e.args.member)).due);
    const proven = claimedEvents.reduce((x, e) => x + e.args.due, 0n);
    const window = await claimWindowOf(a.client, s.exits, a.token);
    assert.ok(window.closed);
    assert.equal(window.proven, proven, `${a.name}: claimWindow's proven is the Claimed events' sum`);
    assert.equal(window.surplus, custody > proven ? custody - proven : 0n);
    s.proven = proven;
    t.diagnostic(`${a.name}: custody ${custody}, claims ${proven} (${s.claims.size}), share ${custody >= proven ? "100 %" : `${(custody * 10_000n) / proven} bp`}`);
    const claimers = [...s.claims.entries()];
    for (const [n, [memberLower, c]] of claimers.entries()) {
      const member = getAddress(memberLower);
      const kept = s.proofs.get(c.i);
      const claim = await claimOf(a.client, s.exits, a.token, member);
      assert.deepEqual(claim, { due: c.due, to: getAddress(c.to), paid: false });
      const expected = shareOf(c.due, custody, proven);
      // Anyone may send the payout: each asset's last claim is paid out by the outside wallet.
      const key = n === claimers.length - 1 ? outsiderKey(a) : keyOf(c.i);
      const sender = privateKeyToAccount(key).address;
      const tronLink = a.kind === "tron" ? tronLinkFor(key) : null;
      const b = await openBrowser(tronLink ? { tronLink } : { key });
      const { page, wallet } = b;
      await openExitPage(page, a.kind);
      await page.getByLabel("Proof file").setInputFiles(kept.file);
      const st = await exitState(page);
      assert.ok(st.windowClosed, st.text);
      assert.equal(st.proven, proven);
      assert.equal(st.surplus, window.surplus);
      assert.match(st.text, /The claim window closed on .+: no claim can be made any more, and every claim can be paid now/);
      const box = page.getByTestId("exit-member");
      await box.waitFor();
      assert.equal(await box.getAttribute("data-stage"), "payable", await box.innerText());
      const payable = page.getByTestId("exit-payable");
      assert.equal(await payable.getAttribute("data-amount"), expected.toString(), `${a.name} member ${c.i}: the payout`);
      assert.equal(await page.getByTestId("exit-preview").getAttribute("data-amount"), expected.toString(), "previewExit's figure");
      assert.match(await box.innerText(), /Anyone may send the payout/);
      const send = page.getByTestId("exit-payout");
      const before = await balanceOf(a, c.to);
      const sends = () => (tronLink ? tronLink.broadcast.length : wallet.log.filter((m) => m === "eth_sendTransaction").length);
      t.diagnostic(`${a.name} member ${c.i}: claim ${c.due}, payout ${expected} to ${c.to}, sent by ${lower(sender) === memberLower ? "the member" : "an outside wallet"}`);
      if (a.kind === "evm" && !secondTab && doubleClicked) {
        // A second tab while the payout is in flight: it follows the transaction the first sent, and sends nothing.
        secondTab = true;
        await jsonRpc(a.rpc, "evm_setIntervalMining", [0]);
        await jsonRpc(a.rpc, "evm_setAutomine", [false]);
        let tab;
        try {
          await send.click();
          await until("the payout sent, not mined", async () => /was sent \(transaction/.test(await page.getByTestId("exit-status").innerText()));
          tab = await b.context.newPage();
          await wallet.attach(tab);
          await openExitPage(tab, "evm");
          await tab.getByLabel("Proof file").setInputFiles(kept.file);
          await until("the second tab follows the payout in flight", async () => /sent from this page before a reload or in another tab/.test(await tab.getByTestId("exit-status").innerText()));
          const other = tab.getByTestId("exit-payout");
          if (await other.isVisible().catch(() => false)) await other.click({ force: true, timeout: 2000 }).catch(() => undefined);
        } finally {
          await jsonRpc(a.rpc, "evm_mine", []);
          await jsonRpc(a.rpc, "evm_setAutomine", [true]);
          await jsonRpc(a.rpc, "evm_setIntervalMining", [1]);
        }
        await tab.getByTestId("exit-paid").waitFor({ timeout: 90_000 });
        await tab.close();
      } else if (!doubleClicked || a.kind === "tron") {
        // A double click sends one payout.
        doubleClicked = true;
        await send.dblclick();
      } else {
        await send.click();
      }
      const paid = page.getByTestId("exit-paid");
      await paid.waitFor({ timeout: 90_000 });
      assert.equal(sends(), 1, `${a.name} member ${c.i}: one transaction sent`);
      assert.equal(await paid.getAttribute("data-amount"), expected.toString());
      assert.match(await paid.innerText(), new RegExp(`^✓ Paid .+ to ${a.kind === "tron" ? tronAddress(c.to) : getAddress(c.to)}`));
      const exited = await a.client.getContractEvents({ address: s.exits, abi: EXIT_ABI, eventName: "Exited", args: { member, token: a.token }, fromBlock: s.since.commitBlock });
      assert.equal(exited.length, 1, "one payout");
      assert.equal(exited[0].args.amount, expected);
      assert.equal(exited[0].args.to, getAddress(c.to));
      assert.equal(exited[0].args.entitlement, c.entitlement);
      assert.equal(exited[0].args.subtracted, c.subtracted);
      let gas = 0n;
      if (a.token === NATIVE && lower(sender) === lower(c.to)) {
        const receipt = await a.client.getTransactionReceipt({ hash: exited[0].transactionHash });
        gas = receipt.gasUsed * receipt.effectiveGasPrice;
      }
      assert.equal((await balanceOf(a, c.to)) - before + gas, expected, `${a.name} member ${c.i}: ${c.to} received exactly ${expected}`);
      assert.equal((await claimOf(a.client, s.exits, a.token, member)).paid, true);
      s.paidByExits += expected;

      // A second payout: the page reads that the claim was paid and offers nothing; the contract refuses it.
      await page.reload();
      await page.getByTestId(a.kind === "tron" ? "exit-connect-tron" : "exit-connect-evm").first().click();
      await page.getByLabel("Proof file").setInputFiles(kept.file);
      await page.getByTestId("exit-paid").waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId("exit-payout").count(), 0);
      await assert.rejects(
        a.client.simulateContract({ account: sender, address: s.exits, abi: EXIT_ABI, functionName: "payOut", args: [a.token, member] }),
        reverts("AlreadyPaid"),
        "the contract refuses a second payout",
      );
      if (n === 0) await b.screenshot(`exit-drill-paid-${a.name.replace(" ", "-")}`);
      await b.close(EXIT_PAGE_ALLOW);
    }

    // The members for whom no claim was made: the page says so and offers nothing; a late claim is refused.
    for (const i of s.missed) {
      const kept = s.proofs.get(i);
      const member = getAddress(kept.json.user);
      const key = keyOf(i);
      const tronLink = a.kind === "tron" ? tronLinkFor(key) : null;
      const b = await openBrowser(tronLink ? { tronLink } : { key });
      const { page } = b;
      await openExitPage(page, a.kind);
      await page.getByLabel("Proof file").setInputFiles(kept.file);
      const missed = page.getByTestId("exit-missed");
      await missed.waitFor({ timeout: 60_000 });
      assert.match(await missed.innerText(), /^The claim window closed on .+: no claim was made for this member \(.+\), so the exit pays them nothing\.$/);
      for (const id of ["exit-claim", "exit-payout", "exit-redirect"]) assert.equal(await page.getByTestId(id).count(), 0, `no ${id}`);
      assert.deepEqual(await claimOf(a.client, s.exits, a.token, member), { due: 0n, to: NATIVE, paid: false });
      await assert.rejects(
        a.client.simulateContract({ account: member, address: s.exits, abi: EXIT_ABI, functionName: "exit", args: [a.token, ...exitArgs(kept.json), member] }),
        reverts("ClaimWindowClosed"),
        "the contract refuses a claim after the window",
      );
      await b.screenshot(`exit-drill-missed-${a.name.replace(" ", "-")}`);
      await b.close(EXIT_PAGE_ALLOW);
    }
    const opening = await openingOf(a.client, s.exits, a.token);
    assert.equal(opening.paid, s.paidByExits, `${a.name}: the payouts paid ${s.paidByExits} in all`);
    assert.ok(opening.paid <= (custody < proven ? custody : proven), "never more than custody, nor than the claims");
  }
  assert.ok(doubleClicked && secondTab, "the double click and the second tab were both tried");
  assert.ok(state.get("USDT").missed.includes(9), "test USDT's member 9 never claimed");
});

// ── 9. the surplus ──────────────────────────────────────────────────────────────────────────────────────────────

test("the surplus goes to the Settlement's admin once, exactly custody − min(custody, proven), sent by anyone", async (t) => {
  for (const a of ASSETS) {
    const s = state.get(a.name);
    const custody = s.opening.custody;
    const expected = custody > s.proven ? custody - s.proven : 0n;
    const window = await claimWindowOf(a.client, s.exits, a.token);
    assert.equal(window.surplus, expected, `${a.name}: the surplus`);
    assert.equal(window.surplusReturned, false);
    const admin = await a.client.readContract({ address: a.settlement, abi: SETTLEMENT_ABI, functionName: "defaultAdmin" });
    const key = outsiderKey(a);
    assert.notEqual(lower(admin), lower(privateKeyToAccount(key).address), "the admin pays no gas here");
    const before = await balanceOf(a, admin);
    await outsiderSends(a, key, "returnSurplus", [a.token]);
    assert.equal((await balanceOf(a, admin)) - before, expected, `${a.name}: the admin received exactly the surplus`);
    const returned = await a.client.getContractEvents({ address: s.exits, abi: EXIT_ABI, eventName: "SurplusReturned", args: { token: a.token }, fromBlock: s.since.commitBlock });
    assert.equal(returned.length, 1);
    assert.equal(returned[0].args.amount, expected);
    assert.equal(lower(returned[0].args.to), lower(admin));
    assert.equal((await claimWindowOf(a.client, s.exits, a.token)).surplusReturned, true);
    await assert.rejects(
      a.client.simulateContract({ account: privateKeyToAccount(key).address, address: s.exits, abi: EXIT_ABI, functionName: "returnSurplus", args: [a.token] }),
      reverts("SurplusAlreadyReturned"),
      "once",
    );
    s.surplus = expected;
    t.diagnostic(`${a.name}: surplus ${expected} to ${admin}`);
  }
  // Test USDT's member 9 never claimed: their due is part of the surplus (custody covers the claims there).
  const usdt = state.get("USDT");
  if (usdt.opening.custody >= usdt.opening.owed) assert.ok(usdt.surplus > 0n, "the unclaimed due went back with the surplus");
});

// ── 10. nothing else moves ──────────────────────────────────────────────────────────────────────────────────────

test("nothing else can move the exited tokens: register, retopup, a signed batch, a treasury transfer and a commitment revert ExitOpen; claims stay", async () => {
  const operator = privateKeyToAccount(ANVIL_KEYS[0]).address;
  for (const a of ASSETS) {
    const s = state.get(a.name);
    const now = (await a.client.getBlock()).timestamp;
    const user = privateKeyToAccount(keyOf(a.members[0])).address;
    const exitOpen = (e) => e.walk((c) => c.data?.errorName === "ExitOpen" && lower(c.data.args[0]) === lower(a.token)) !== null;
    const refuses = (account, functionName, args, value) =>
      assert.rejects(a.client.simulateContract({ account, address: a.settlement, abi: SETTLEMENT_ABI, functionName, args, value }), exitOpen, `${a.name}: ${functionName} reverts ExitOpen`);
    await refuses(user, "register", [{ user, sponsor: operator, token: a.token, amount: 1n, nonce: 1n << 201n, deadline: now + 600n }, "0x"], a.token === NATIVE ? 1n : undefined);
    await refuses(user, "retopup", [{ user, token: a.token, amount: 1n, nonce: (1n << 201n) + 1n, deadline: now + 600n }, "0x"], a.token === NATIVE ? 1n : undefined);
    await refuses(operator, "executePayoutBatch", await signedBatch(a, [{ recipient: user, amount: 1n }]));
    await refuses(operator, "transferTreasury", [{ token: a.token, to: operator, amount: 1n, nonce: (1n << 201n) + 2n, deadline: now + 600n }, "0x"]);
    const [, , epoch, asOfBlock] = await a.client.readContract({ address: a.settlement, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [a.token] });
    await refuses(operator, "commitLiabilities", [
      { token: a.token, epoch: epoch + 1n, asOfBlock: asOfBlock + 1n, root: `0x${"11".repeat(32)}`, total: 1n, leafCount: 1, planHash: `0x${"22".repeat(32)}`, nonce: (1n << 201n) + 3n, deadline: now + 600n },
      "0x",
    ]);
    // The payouts paid what the test computed in all, the surplus went back; what members can claim stayed in the
    // Settlement.
    const opening = await openingOf(a.client, s.exits, a.token);
    assert.equal(opening.paid, s.paidByExits, `${a.name}: the payouts paid ${s.paidByExits} in all`);
    assert.equal(await balanceOf(a, s.exits), opening.custody - opening.paid - s.surplus, `${a.name}: the exit contract holds its custody less the payouts and the surplus (the rounding's dust)`);
    const claimable = await a.client.readContract({ address: a.settlement, abi: SETTLEMENT_ABI, functionName: "totalClaimable", args: [a.token] });
    assert.ok((await balanceOf(a, a.settlement)) >= claimable, `${a.name}: what members can claim is still in the Settlement`);
  }
});
