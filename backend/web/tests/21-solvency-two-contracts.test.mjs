// The proof of solvency after an upgrade (contracts/UPGRADES.md §7), in Chromium against the devnet: a build of the
// dApp whose devnet-anvil record names a replaced contract (`previous`, deployments/README.md) reads the commitments of
// both contracts through the wallet, checks the member's proof in each contract's tree and judges the custody of both
// together against the one total.
//
// The replaced contract is a real Settlement the test deploys on the devnet's anvil (from the contract's build,
// abi/artifacts) with a signer key of its own, funds with 5 test USDT, and on which it commits every round the devnet
// commits on the live contract — the same block and total, its own epoch numbers — in a tree of its own: the member's
// leaf (the balances and salt of the member's proof from the API, the leaf naming this contract) and a filler leaf
// making up the total. The second build (`vite build --outDir` to a temporary folder, its records from
// WEB_DEPLOYMENTS_DIR) is served to the browser by page.route at the devnet's own origin; the API answers as the
// devnet's backend does, but for what it cannot know of the test's contract: the overview lists it with its latest
// epoch read from the chain (and the round of both), and its proofs are the test's tree's (page.route, as a server
// that runs both contracts would answer).
//
// Then the tamper cases: the replaced contract's proof with a lowered balance (red, named by that contract), the API
// listing a contract the build does not carry (red, like a served contract that is not the build's), the API no
// longer listing the replaced contract (still read, its custody counted since it committed the round), and the
// replaced contract committing another block than the live one's (a round being committed: a note, not red; past the
// build's maximum age: STALE; no longer listed while it still holds money: the live contract's round alone, and a
// warning).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { after } from "node:test";
import { encodeFunctionData, formatUnits, getAddress, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { buildTree, proofJson } from "../src/lib/solvency.js";
import { runSync } from "./lib/child.mjs";
import {
  ANVIL_KEYS,
  Api,
  BASE,
  CHAIN,
  CHAIN_ID,
  RPC,
  SETTLEMENT_ABI,
  TOKEN_ABI,
  USDT,
  chain,
  freshKey,
  openBrowser,
  registerDirectly,
  signInThroughPage,
  test,
  until,
} from "./lib/stack.mjs";
import { TestWallet } from "./lib/wallet.mjs";

const WEB = new URL("../", import.meta.url).pathname;
const ROOT = new URL("../../../", import.meta.url).pathname;
const ARTIFACT = JSON.parse(readFileSync(join(ROOT, "abi/artifacts/Settlement.json"), "utf8"));
const ZERO32 = `0x${"00".repeat(32)}`;
/** The filler leaf's owner in the replaced contract's trees (no one's wallet). */
const FILLER = "0x00000000000000000000000000000000000f111e";
const lower = (h) => h.toLowerCase();
const usdt = (base) => `${formatUnits(BigInt(base), 6)} USDT`;

/** `latestLiabilities(USDT)` of a contract, straight from the chain. */
async function latestAt(address) {
  const [root, total, epoch, asOfBlock, commitBlock, custody] = await chain.readContract({
    address,
    abi: SETTLEMENT_ABI,
    functionName: "latestLiabilities",
    args: [CHAIN.usdt],
  });
  return { root, total, epoch, asOfBlock, commitBlock, custody };
}

/** A contract's `LiabilitiesCommitted` of the balances of `asOfBlock` (USDT). */
async function committedAt(address, asOfBlock) {
  const logs = await chain.getContractEvents({ address, abi: SETTLEMENT_ABI, eventName: "LiabilitiesCommitted", args: { token: CHAIN.usdt }, fromBlock: 0n });
  const found = logs.find((l) => l.args.asOfBlock === BigInt(asOfBlock));
  assert.ok(found, `${address} committed the balances of block ${asOfBlock}`);
  return found.args;
}

// ── the upgraded deployment: the test's replaced contract, its rounds and the second build ────────────────────────

let setup = null;
let following = false;
let follower = null;

/**
 * Made once: a USDT member with a non-zero balance (a fresh sponsor with one referral), the replaced contract X
 * deployed and funded, X following the live contract's rounds, and the build whose devnet-anvil record names X.
 */
function upgraded() {
  setup ??= (async () => {
    // The member, and their proof of an epoch that holds their reward (its balances and salt go into X's trees).
    const genesis = await Api.signIn(ANVIL_KEYS[0]);
    const key = await freshKey();
    const member = await registerDirectly(key, genesis.address, USDT);
    const referral = await registerDirectly(await freshKey(), member.address, USDT);
    const joined = (await referral.standing(USDT)).registered_block;
    const epoch = await until("an epoch of USDT that holds the member's reward", async () => {
      const c = await latestAt(CHAIN.settlement);
      return c.asOfBlock >= BigInt(joined) && c.epoch;
    }, { timeout: 180_000 });
    const proof = await until(`the server records epoch ${epoch}`, async () => {
      const r = await Api.raw("GET", `/v1/users/solvency-proof?asset_id=${USDT}&epoch=${epoch}`, undefined, member.token);
      return r.status === 200 && r.body;
    }, { timeout: 120_000 });
    assert.ok(BigInt(proof.value.base) > 0n, "the member's leaf holds its reward");

    // X: a Settlement of the contract's build, from a fresh key (its admin and operator), with a signer of its own.
    const operatorKey = await freshKey();
    const operator = new TestWallet({ key: operatorKey, rpcUrl: RPC, chainId: CHAIN_ID });
    const signer = privateKeyToAccount(generatePrivateKey());
    const admin = operator.address;
    const known = {
      admin,
      signer: signer.address,
      operators: [admin],
      treasurers: [admin],
      pausers: [admin],
      tokens: [CHAIN.usdt],
      nativePushGas: 10_000n,
      tokenPushGas: 100_000n,
      delay: 120,
      maxAsOfLag: 1_000n,
      treasuryCommitmentMaxAge: 3_600n,
      exitAfter: 14n * 86_400n,
    };
    const fields = ARTIFACT.abi.find((x) => x.type === "constructor").inputs[0].components;
    const config = Object.fromEntries(
      fields.map((f) => {
        assert.ok(f.name in known, `a value for the constructor's ${f.name}`);
        return [f.name, known[f.name]];
      }),
    );
    const deployed = await chain.waitForTransactionReceipt({
      hash: await operator.client.deployContract({ abi: ARTIFACT.abi, bytecode: ARTIFACT.bytecode.object ?? ARTIFACT.bytecode, args: [config] }),
    });
    assert.equal(deployed.status, "success");
    const x = getAddress(deployed.contractAddress);
    // 5 test USDT in its custody (the test token lets anyone mint).
    const minted = await operator.client.sendTransaction({ to: CHAIN.usdt, data: encodeFunctionData({ abi: TOKEN_ABI, functionName: "mint", args: [x, 5_000_000n] }) });
    assert.equal((await chain.waitForTransactionReceipt({ hash: minted })).status, "success");

    // The build whose devnet-anvil record names X as the contract the live one replaced.
    const tmp = mkdtempSync(join(tmpdir(), "referral-upgraded-"));
    const records = join(tmp, "deployments");
    mkdirSync(records);
    for (const name of ["devnet-anvil", "devnet-tron"]) {
      const r = JSON.parse(readFileSync(join(ROOT, "deployments", `${name}.json`), "utf8"));
      if (name === "devnet-anvil") r.previous = [{ settlement: x, settlement_base58: null }];
      writeFileSync(join(records, `${name}.json`), JSON.stringify(r, null, 2));
    }
    const dist = join(tmp, "dist");
    runSync(join(WEB, "node_modules/.bin/vite"), ["build", "--outDir", dist, "--emptyOutDir", "--logLevel", "warn"], {
      cwd: WEB,
      env: { ...process.env, WEB_DEPLOYMENTS_DIR: records, WEB_DEPLOYMENTS: "" },
      stdio: "inherit",
    });
    // The build carries X (its records' figures are embedded in the verifier's chunk).
    assert.ok(
      readdirSync(join(dist, "assets")).some((f) => f.endsWith(".js") && readFileSync(join(dist, "assets", f), "utf8").includes(lower(x))),
      "the second build embeds the replaced contract",
    );

    const state = { key, member, proof, x, operator, signer, dist, tmp, rounds: new Map() };
    following = true;
    follower = (async () => {
      while (following) {
        await follow(state).catch((e) => console.error(`following the live contract: ${e.message}`));
        await new Promise((r) => setTimeout(r, 1_000));
      }
    })();
    await until("X committed the live contract's round", async () => {
      const [live, mine] = await Promise.all([latestAt(CHAIN.settlement), latestAt(x)]);
      return live.asOfBlock === mine.asOfBlock && mine.epoch > 0n;
    }, { timeout: 60_000 });
    return state;
  })();
  return setup;
}

after(async () => {
  following = false;
  await follower;
  const s = setup && (await setup.catch(() => null));
  if (s) rmSync(s.tmp, { recursive: true, force: true });
});

/** The member's leaf and a filler leaf making up `total`, as X's tree of epoch `epoch` (its own numbering). */
function treeOfX(s, epoch, total) {
  const balances = Object.fromEntries(Object.entries(s.proof.balances).map(([k, v]) => [k, BigInt(v)]));
  const value = Object.values(balances).reduce((a, b) => a + b, 0n);
  assert.ok(total >= value, "the total covers the member's leaf");
  const leaves = [{ user: lower(s.member.address), balances, salt: s.proof.salt }];
  if (total > value) leaves.push({ user: FILLER, balances: { reserved: 0n, held: total - value, pending: 0n, batched: 0n, claimable: 0n }, salt: `0x${"f1".repeat(32)}` });
  return buildTree({ chainId: CHAIN_ID, contract: lower(s.x), token: lower(CHAIN.usdt), epoch, leaves });
}

/** Commits on X the balances of `asOfBlock` with `total` (its next epoch), signed by X's signer, sent by its operator. */
async function commitOnX(s, asOfBlock, total) {
  const mine = await latestAt(s.x);
  const epoch = mine.epoch + 1n;
  const tree = treeOfX(s, Number(epoch), total);
  assert.equal(tree.total, total);
  const block = await chain.getBlock();
  const c = {
    token: CHAIN.usdt,
    epoch,
    asOfBlock,
    root: tree.root,
    total,
    leafCount: tree.leafCount,
    planHash: ZERO32,
    nonce: BigInt(Math.floor(Math.random() * 2 ** 48)) + (epoch << 64n),
    deadline: block.timestamp + 600n,
  };
  const commit = SETTLEMENT_ABI.find((f) => f.type === "function" && f.name === "commitLiabilities");
  const signature = await s.signer.signTypedData({
    domain: { name: "ReferralSettlement", version: "1", chainId: CHAIN_ID, verifyingContract: s.x },
    types: { LiabilityRoot: commit.inputs[0].components.map(({ name, type }) => ({ name, type })) },
    primaryType: "LiabilityRoot",
    message: c,
  });
  const hash = await s.operator.client.sendTransaction({ to: s.x, data: encodeFunctionData({ abi: SETTLEMENT_ABI, functionName: "commitLiabilities", args: [c, signature] }) });
  // Known to "the server running both contracts" from the moment it is sent, as a real server records its epoch
  // before the chain confirms it: a page that reads the mined commitment before this test has seen the receipt (the
  // receipt is polled) must find its proof, not a 404.
  s.rounds.set(Number(epoch), { tree, asOfBlock: Number(asOfBlock), tx: hash });
  const receipt = await chain.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success", "X took the commitment");
  return { epoch, tree };
}

/** One step of X following the live contract: a round the live contract committed and X not yet, committed on X. */
async function follow(s) {
  const [live, mine] = await Promise.all([latestAt(CHAIN.settlement), latestAt(s.x)]);
  if (live.epoch > 0n && live.asOfBlock > mine.asOfBlock) await commitOnX(s, live.asOfBlock, live.total);
}

/** X's latest epoch as the API shows an epoch (read from the chain: what a server running both contracts reports). */
async function xEpochView(s, round) {
  const l = await latestAt(s.x);
  if (l.epoch === 0n) return undefined;
  const r = s.rounds.get(Number(l.epoch));
  return {
    contract: lower(s.x),
    epoch: Number(l.epoch),
    round,
    as_of_block: Number(l.asOfBlock),
    root: l.root,
    total: { base: l.total.toString(), human: usdt(l.total) },
    custody: { base: l.custody.toString(), human: usdt(l.custody) },
    committed_block: Number(l.commitBlock),
    committed_tx: r?.tx,
    leaf_count: r?.tree.leafCount ?? 0,
    depth: r?.tree.depth ?? 0,
    plan_hash: ZERO32,
    status: "committed",
    built_at: new Date().toISOString(),
  };
}

/**
 * The overview as a server running both contracts answers it: the devnet's answer, with X listed after the live
 * contract (its latest epoch from the chain) and the round of both when X holds the live one's. `list: false` leaves X
 * out (a server that no longer lists it); `change(asset)` changes the USDT entry afterwards.
 */
const overviewWithX = (s, { list = true, change } = {}) => async (route) => {
  const response = await route.fetch();
  const json = await response.json();
  for (const a of json.assets) {
    if (a.asset_id !== USDT) continue;
    a.contracts ??= [{ contract: a.contract, contract_hex: a.contract_hex, live: true, ...(a.latest ? { latest: a.latest } : {}) }];
    const round = a.latest?.round ?? a.latest?.epoch;
    const x = await xEpochView(s, round);
    if (list) a.contracts.push({ contract: s.x, contract_hex: lower(s.x), live: false, ...(x ? { latest: x } : {}) });
    delete a.round;
    if (list && a.latest && x && x.as_of_block === a.latest.as_of_block) {
      const custody = BigInt(a.latest.custody.base) + BigInt(x.custody.base);
      a.round = {
        round,
        as_of_block: a.latest.as_of_block,
        total: a.latest.total,
        custody: { base: custody.toString(), human: usdt(custody) },
        covered: custody >= BigInt(a.latest.total.base),
        epochs: [a.latest, x],
      };
    }
    change?.(a);
  }
  await route.fulfill({ response, json });
};

/** X's proof of the member as a server running both contracts serves it (`contract=X`); others go to the devnet. */
const proofWithX = (s, change = (p) => p) => async (route) => {
  const url = new URL(route.request().url());
  const contract = url.searchParams.get("contract");
  if (Number(url.searchParams.get("asset_id")) !== USDT || !contract || lower(contract) !== lower(s.x)) return route.continue();
  const epoch = Number(url.searchParams.get("epoch") ?? (await latestAt(s.x)).epoch);
  const r = s.rounds.get(epoch);
  if (!r) return route.fulfill({ status: 404, json: { error: { code: "no_epoch", message: "no such epoch" } } });
  const index = r.tree.leaves.findIndex((l) => l.user === lower(s.member.address));
  const proof = {
    ...proofJson(r.tree, index, r.asOfBlock),
    asset_id: USDT,
    symbol: "USDT",
    decimals: 6,
    committed_tx: r.tx,
    value: s.proof.value,
  };
  await route.fulfill({ status: 200, json: change(structuredClone(proof)) });
};

const CONTENT_TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json" };
const ORIGIN = new URL(BASE).origin;

/**
 * A browser signed in as the member on the upgraded build: the pages and their assets from the second build (the
 * API, and everything the second build lacks, from the devnet), the overview and X's proofs as above.
 */
async function upgradedBrowser(s, { overview = overviewWithX(s), proof = proofWithX(s), wallet, path = "/" } = {}) {
  const b = await openBrowser({ key: s.key });
  const { page } = b;
  if (wallet) wallet(b.wallet);
  await page.route(
    (url) => url.origin === ORIGIN && !url.pathname.startsWith("/v1/") && !url.pathname.startsWith("/api-docs"),
    async (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = join(s.dist, path === "/" ? "index.html" : path.slice(1));
      if (!file.startsWith(s.dist) || !existsSync(file) || (path !== "/" && path.endsWith("/"))) return route.continue();
      await route.fulfill({ status: 200, contentType: CONTENT_TYPES[extname(file)] ?? "application/octet-stream", body: readFileSync(file) });
    },
  );
  await page.route((url) => url.pathname === "/v1/public/solvency", overview);
  await page.route((url) => url.pathname === "/v1/users/solvency-proof", proof);
  await page.goto(BASE + path);
  await signInThroughPage(page);
  return b;
}

/** The badge of an asset's card once settled; a round being committed (X a moment behind the live contract) is checked again. */
async function settled(page, cardId, { recheck = true, timeout = 150_000 } = {}) {
  const badge = page.getByTestId(cardId).getByTestId("solvency-check");
  return until(`the ${cardId} check settled`, async () => {
    if (!(await badge.count())) return false;
    const state = await badge.getAttribute("data-state");
    if (!state || state === "checking") return false;
    if (recheck && state === "note" && ["round_pending", "not_recorded"].includes(await badge.getAttribute("data-reason"))) {
      await badge.getByTestId("solvency-recheck").click();
      return false;
    }
    return badge;
  }, { timeout });
}

// ── the round on both contracts ──────────────────────────────────────────────────────────────────────────────────

test("two contracts, one round: the member's balance in both trees, the custody of both contracts together against the total", async () => {
  const s = await upgraded();
  const b = await upgradedBrowser(s);
  const { page } = b;
  const badge = await settled(page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "ok", await badge.innerText());
  assert.equal(await badge.getAttribute("data-contracts"), "2");
  const asOf = Number(await badge.getAttribute("data-as-of"));
  // Both contracts' commitments of that block, from the chain: the sum is theirs.
  const [live, x] = await Promise.all([committedAt(CHAIN.settlement, asOf), committedAt(s.x, asOf)]);
  assert.equal(live.total, x.total, "one total");
  assert.ok(x.custody >= 5_000_000n, "X holds its 5 USDT");
  assert.equal(await badge.getAttribute("data-custody"), (live.custody + x.custody).toString());
  assert.equal(await badge.getAttribute("data-value"), s.proof.value.base);
  assert.equal(
    await badge.getByTestId("solvency-ok-text").textContent(),
    `✓ Your balance of ${s.proof.value.human} is in the committed root of both contracts (the balances of block ${asOf}); the custody of both contracts together covers the total.`,
  );
  // Each contract's commitment, as read: its own epoch and root.
  const contracts = await badge.getByTestId("solvency-contract").evaluateAll((els) => els.map((e) => [e.dataset.contract, e.dataset.epoch, e.dataset.root]));
  assert.deepEqual(
    contracts.map(([c]) => c),
    [lower(CHAIN.settlement), lower(s.x)],
  );
  assert.equal(lower(contracts[0][2]), lower(live.root));
  assert.equal(lower(contracts[1][2]), lower(x.root));
  assert.equal(contracts[1][1], x.epoch.toString(), "X's own epoch number");
  assert.match(await badge.getByTestId("solvency-sum").textContent(), /^the custody of both contracts together: [\d.]+ USDT, for [\d.]+ USDT owed to all users\.$/);
  // Every check of both proofs passed, and the round's: one "solvent" (both contracts together), the same balances.
  const checks = await badge.getByTestId("solvency-checks").locator("li").evaluateAll((els) => els.map((e) => [e.dataset.check, e.dataset.ok, e.dataset.contract ?? null]));
  assert.deepEqual(checks.filter(([, ok]) => ok !== "true"), [], "every check passed");
  for (const c of [lower(CHAIN.settlement), lower(s.x)]) assert.ok(checks.some(([id, , at]) => id === "root" && at === c), `the root of ${c}`);
  assert.deepEqual(checks.filter(([id]) => id === "solvent"), [["solvent", "true", null]]);
  assert.deepEqual(checks.filter(([id]) => id === "balances"), [["balances", "true", null]]);
  await b.screenshot("21-two-contracts-badge");

  // One file per contract; how to check them with the command-line verifier.
  const buttons = badge.getByTestId("solvency-download");
  assert.equal(await buttons.count(), 2);
  const [download] = await Promise.all([page.waitForEvent("download"), badge.locator(`[data-testid=solvency-download][data-contract="${lower(s.x)}"]`).click()]);
  assert.equal(download.suggestedFilename(), `solvency-proof-USDT-epoch${x.epoch}-${lower(s.x)}-${lower(s.member.address)}.json`);
  const file = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(lower(file.contract), lower(s.x));
  assert.equal(file.root, x.root);
  assert.match(await badge.getByTestId("solvency-cli").textContent(), /solvency-verify FILE --rpc URL --contract C --previous D…/);
  assert.match(await badge.getByTestId("solvency-cli").textContent(), new RegExp(`${getAddress(s.x)}`));

  // The public page: both contracts' figures, and their custody together.
  await page.getByTestId("nav-solvency").click();
  const card = page.getByTestId("solvency-USDT");
  const round = card.getByTestId("chain-round");
  await until("the page's round is complete", async () => {
    if (!(await round.count())) return false;
    if ((await round.getAttribute("data-kind")) === "split") await card.getByTestId("chain-recheck").click();
    return (await round.getAttribute("data-kind")) === "complete";
  }, { timeout: 90_000 });
  const previous = card.getByTestId("chain-figures-previous");
  assert.equal(await previous.count(), 1);
  assert.equal(await previous.getAttribute("data-contract"), lower(s.x));
  assert.equal(await previous.getAttribute("data-listed"), "true");
  const shownAsOf = Number(await round.getAttribute("data-as-of"));
  const [liveNow, xNow] = await Promise.all([committedAt(CHAIN.settlement, shownAsOf), committedAt(s.x, shownAsOf)]);
  assert.equal(await round.getAttribute("data-custody"), (liveNow.custody + xNow.custody).toString());
  assert.equal(lower(await previous.getAttribute("data-root")), lower(xNow.root));
  const solvent = card.getByTestId("chain-solvent");
  assert.match(
    await solvent.innerText(),
    new RegExp(
      `^Solvent: the custody of both contracts together, [\\d.]+ USDT, covers the [\\d.]+ USDT owed to all users — the live contract 0x\\w+…\\w+\\s*Copy held [\\d.]+ USDT and the replaced contract 0x\\w+…\\w+\\s*Copy held 5(\\.\\d+)? USDT when each committed the round of block ${shownAsOf}\\.$`,
    ),
  );
  assert.equal(await card.getByTestId("solvent-custody").getAttribute("data-base"), (liveNow.custody + xNow.custody).toString());
  assert.match(await card.getByTestId("chain-upgrade-note").innerText(), /^After an upgrade the money of USDT is held by both contracts/);
  await card.getByTestId("chain-fresh").waitFor();
  // The server's round (as a server running both contracts reports it) matches the chain's.
  await until("the server's figures match the chain's", async () => (await card.getByTestId("api-match").count()) === 1, { timeout: 60_000 });
  assert.equal(await card.getByTestId("claim-label").innerText(), "matches the chain");
  assert.equal(await card.getByTestId("api-round-figures").count(), 1);
  // BNB: the replaced contract never allowed the native coin, so nothing changes for it (one contract, as ever).
  const bnb = page.getByTestId("solvency-BNB");
  await bnb.getByTestId("chain-figures").waitFor({ timeout: 30_000 });
  assert.equal(await bnb.getByTestId("chain-round").count(), 0);
  assert.match(await bnb.getByTestId("chain-solvent").innerText(), /^Solvent: the contract held .* when it committed/);
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= inner, `no sideways scroll (${scroll} > ${inner})`);
  await b.screenshot("21-two-contracts-page");
  await page.setViewportSize({ width: 390, height: 844 });
  const [scroll390] = await page.evaluate(() => [document.documentElement.scrollWidth]);
  assert.ok(scroll390 <= 390, `no sideways scroll at 390 px (${scroll390})`);
  await b.screenshot("21-two-contracts-page-390");
  await b.close();
});

test("tamper: a lowered balance in the replaced contract's proof is a red banner naming that contract", async () => {
  const s = await upgraded();
  const b = await upgradedBrowser(s, {
    proof: proofWithX(s, (p) => {
      assert.ok(BigInt(p.balances.pending) > 0n);
      p.balances.pending = (BigInt(p.balances.pending) - 1n).toString();
      return p;
    }),
  });
  const badge = await settled(b.page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "failed", await badge.innerText());
  assert.equal(await badge.getAttribute("data-check"), "root");
  assert.equal(await badge.getAttribute("data-contract"), lower(s.x));
  const banner = badge.getByTestId("solvency-failed");
  assert.equal(await banner.getAttribute("role"), "alert");
  assert.match(await banner.getByTestId("solvency-failed-title").textContent(), new RegExp(`^Your balance is not in the root committed on the chain \\(the replaced contract ${getAddress(s.x)}\\)$`));
  const failed = await badge.getByTestId("solvency-failed-check").evaluateAll((els) => els.map((e) => [e.dataset.check, e.dataset.contract ?? null]));
  assert.ok(failed.some(([id, c]) => id === "root" && c === lower(s.x)));
  assert.ok(failed.some(([id, c]) => id === "balances" && c === null), "not the balances of the live contract's tree");
  assert.ok(!failed.some(([, c]) => c === lower(CHAIN.settlement)), "the live contract's proof passed");
  assert.equal(await b.page.getByTestId("asset-USDT").getByTestId("solvency-ok").count(), 0, "never the ✓");
  await b.screenshot("21-tamper-lowered-in-replaced");
  await b.close();
});

test("the API lists a contract the build does not carry: a red banner on the badge and on the public page", async () => {
  const s = await upgraded();
  const stranger = getAddress(`0x${"5e".repeat(20)}`);
  const b = await upgradedBrowser(s, {
    overview: overviewWithX(s, { change: (a) => a.contracts.push({ contract: stranger, contract_hex: lower(stranger), live: false }) }),
  });
  const { page } = b;
  const badge = await settled(page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "failed", await badge.innerText());
  assert.equal(await badge.getAttribute("data-check"), "listed");
  assert.equal(await badge.getByTestId("solvency-failed").getAttribute("role"), "alert");
  assert.match(await badge.getByTestId("solvency-failed-title").textContent(), /^The operator's server lists a contract this page was not built with$/);
  assert.match(await badge.getByTestId("solvency-failed-check").textContent(), new RegExp(`The server lists the contract ${lower(stranger)}, which this page was not built with`));
  await page.getByTestId("nav-solvency").click();
  const card = page.getByTestId("solvency-USDT");
  const red = card.getByTestId("api-contract-unknown");
  await red.waitFor({ timeout: 30_000 });
  assert.equal(await red.getAttribute("role"), "alert");
  assert.equal(await card.getByTestId("claim-label").innerText(), "differs from the chain");
  assert.equal(await card.getByTestId("api-match").count(), 0);
  await b.screenshot("21-unknown-contract");
  await b.close();
});

test("a replaced contract the API no longer lists is still read, and its custody counts when it committed the round", async () => {
  const s = await upgraded();
  const b = await upgradedBrowser(s, { overview: overviewWithX(s, { list: false }) });
  const { page } = b;
  const badge = await settled(page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "ok", await badge.innerText());
  assert.equal(await badge.getAttribute("data-contracts"), "2");
  const asOf = Number(await badge.getAttribute("data-as-of"));
  const [live, x] = await Promise.all([committedAt(CHAIN.settlement, asOf), committedAt(s.x, asOf)]);
  assert.equal(await badge.getAttribute("data-custody"), (live.custody + x.custody).toString());
  await page.getByTestId("nav-solvency").click();
  const card = page.getByTestId("solvency-USDT");
  const previous = card.getByTestId("chain-figures-previous");
  await previous.waitFor({ timeout: 30_000 });
  assert.equal(await previous.getAttribute("data-listed"), "false");
  assert.match(await previous.innerText(), /the operator's server no longer lists it/);
  await b.close();
});

test("the replaced contract on another block than the live one: a round being committed is a note, not red; past the build's maximum age it is STALE", async () => {
  const s = await upgraded();
  // X stops following and commits a newer block of its own (the same balances and total): the two contracts are on
  // different rounds until the live contract commits a block after it.
  following = false;
  await follower;
  const live = await latestAt(CHAIN.settlement);
  const head = await chain.getBlockNumber();
  const ahead = head - 2n;
  assert.ok(ahead > live.asOfBlock);
  await commitOnX(s, ahead, live.total);

  const b = await upgradedBrowser(s);
  const { page } = b;
  const badge = await settled(page, "asset-USDT", { recheck: false });
  assert.equal(await badge.getAttribute("data-state"), "note", await badge.innerText());
  assert.equal(await badge.getAttribute("data-reason"), "round_pending");
  const note = badge.getByTestId("solvency-note");
  assert.equal(await note.getAttribute("role"), "status", "neutral, not an alert");
  assert.match(await note.innerText(), /^A round is being committed: the 2 contracts of USDT do not hold the same balances yet \(.*\)\. Their custody can be added up once each has committed the round of block \d+\. Check again in a minute\./);
  assert.match(await note.innerText(), new RegExp(`the replaced contract ${getAddress(s.x)} holds epoch \\d+, the balances of block ${ahead}`));
  assert.equal(await page.getByTestId("asset-USDT").getByTestId("solvency-failed").count(), 0, "not red");
  assert.equal(await page.getByTestId("asset-USDT").getByTestId("solvency-ok").count(), 0, "nor the ✓");
  await b.screenshot("21-round-being-committed");
  await page.getByTestId("nav-solvency").click();
  const pending = page.getByTestId("solvency-USDT").getByTestId("chain-round-pending");
  await pending.waitFor({ timeout: 30_000 });
  assert.equal(await pending.getAttribute("role"), "status");
  assert.equal(await page.getByTestId("solvency-USDT").getByTestId("chain-stale").count(), 0);
  await b.close();

  // The wallet's head as if the lagging contract had not committed for the build's maximum and more.
  const maxAge = JSON.parse(readFileSync(join(ROOT, "deployments/devnet-anvil.json"), "utf8")).proof_max_age_blocks;
  const skip = BigInt(maxAge + 1);
  const late = await upgradedBrowser(s, {
    wallet: (w) => {
      const real = w.rpc.bind(w);
      w.rpc = async (method, params) => {
        const answer = await real(method, params);
        return method === "eth_blockNumber" ? toHex(BigInt(answer) + skip) : answer;
      };
    },
  });
  const stale = await settled(late.page, "asset-USDT", { recheck: false });
  assert.equal(await stale.getAttribute("data-state"), "failed", await stale.innerText());
  assert.equal(await stale.getAttribute("data-check"), "fresh");
  // Stale, not failed: an amber banner (role status) with what to do.
  assert.equal(await stale.getAttribute("data-verdict"), "stale");
  assert.equal(await stale.getByTestId("solvency-failed").getAttribute("role"), "status");
  assert.match(await stale.getByTestId("solvency-sentence").innerText(), /^⚠ Out of date: the latest proof of USDT holds balances [\d,]+ blocks old/);
  await stale.getByTestId("solvency-advice").waitFor();
  assert.match(await stale.getByTestId("solvency-failed-title").textContent(), new RegExp(`^STALE: not every contract has committed the latest round, and one lags \\d+ blocks, more than the ${maxAge} allowed$`));
  await late.page.getByTestId("nav-solvency").click();
  const red = late.page.getByTestId("solvency-USDT").getByTestId("chain-stale");
  await red.waitFor({ timeout: 30_000 });
  assert.equal(await red.getAttribute("role"), "alert");
  await late.screenshot("21-round-stale");
  await late.close();

  // The server no longer lists X (as once it is dropped from the chain spec) while X, off the live contract's round,
  // still holds its 5 USDT: the round is the live contract's alone, and a warning says what X still holds.
  const dropped = await upgradedBrowser(s, { overview: overviewWithX(s, { list: false }) });
  const fine = await settled(dropped.page, "asset-USDT", { recheck: false });
  assert.equal(await fine.getAttribute("data-state"), "ok", await fine.innerText());
  assert.equal(await fine.getAttribute("data-contracts"), "1");
  assert.equal(
    await fine.getByTestId("solvency-ok-text").textContent(),
    `✓ Your balance of ${s.proof.value.human} is in epoch ${await fine.getAttribute("data-epoch")}'s committed root; custody covers the total.`,
  );
  const warning = fine.getByTestId("solvency-dropped");
  assert.equal(await warning.getAttribute("role"), "status", "a warning, not red");
  assert.match(await warning.innerText(), /^A replaced contract no longer commits the rounds, yet still holds money/);
  assert.match(await warning.innerText(), new RegExp(`the replaced contract 0x\\w+…\\w+\\s*Copy has not committed the latest round, and the operator's server no longer lists it; it holds 5 USDT now`));
  await dropped.page.getByTestId("nav-solvency").click();
  const onPage = dropped.page.getByTestId("solvency-USDT").getByTestId("chain-round").getByTestId("solvency-dropped");
  await onPage.waitFor({ timeout: 30_000 });
  assert.equal(await dropped.page.getByTestId("solvency-USDT").getByTestId("chain-round").getAttribute("data-kind"), "complete");
  await dropped.screenshot("21-replaced-contract-dropped");
  await dropped.close();
});
