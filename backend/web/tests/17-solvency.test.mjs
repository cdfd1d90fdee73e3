// The dApp's proof of solvency (SOLVENCY.md) against the devnet, where each asset's epoch is committed every ~60
// blocks: the public page (`/#solvency`) shows the server's figures as its claim, then, with a wallet connected, the
// commitment read through the wallet beside them; after sign-in, each registered asset's badge verifies the user's
// proof against the chain (an EVM user through the injected wallet, a TRON user through TronLink), and the proof
// file downloads. Then the tamper suite, the API's answers changed in flight (Playwright's page.route): a user left
// out (also when the API says the user joined after the epoch: the registration block is the contract's), a lowered
// balance, the max(vL, vR) sibling, a sum of 2^128 (and one that overflows when added), a swapped order, a stale root
// (an older epoch's proof served as the latest), a stale commitment (the chain's head past the as-of block by more
// than the build's maximum; the API's max_age_blocks changes nothing), a root served only by the API, issue 42's
// forged proof (a one-leaf tree under the attacker's contract, served with the API naming that contract, or alone),
// a token the contract never allowed — each a red banner naming the failed check, never the ✓ — and a network this
// build has no contract on (the proof cannot be checked there).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { concat, formatUnits, getAddress, numberToHex, toHex } from "viem";
import { buildTree } from "../src/lib/solvency.js";
import {
  ANVIL_KEYS,
  Api,
  BASE,
  BNB,
  CHAIN,
  CHAIN_ID,
  SETTLEMENT_ABI,
  USDT,
  chain,
  freshKey,
  openBrowser,
  registerDirectly,
  rpc,
  signInThroughPage,
  test,
  until,
} from "./lib/stack.mjs";
import { TRON_CHAIN, TRON_USDT, signInTron, signInWithTronLink, tronChain, tronLinkFor } from "./lib/tron.mjs";

const GUSDT = 4;
const U128 = 1n << 128n;
/** Every 0x hex form compared in lower case. */
const lower = (h) => h.toLowerCase();

/** The server's overview entry of one asset. */
async function served(assetId) {
  const r = await Api.raw("GET", "/v1/public/solvency");
  assert.equal(r.status, 200);
  return r.body.assets.find((a) => a.asset_id === assetId);
}

/** The chain (client and addresses) an asset's commitment is on: anvil, or the TRON stand-in anvil. */
function chainOf(asset) {
  return asset.chain_id === TRON_CHAIN.chain_id ? tronChain : chain;
}

/** `latestLiabilities(token)` read in the test, straight from the chain. */
async function latestOnChain(asset) {
  const [root, total, epoch, asOfBlock, commitBlock, custody] = await chainOf(asset).readContract({
    address: asset.contract_hex,
    abi: SETTLEMENT_ABI,
    functionName: "latestLiabilities",
    args: [asset.token_hex],
  });
  return { root, total, epoch, asOfBlock, commitBlock, custody };
}

/** The chain's `LiabilitiesCommitted` of one epoch (the latest may have moved on since the page read it). */
async function committedOnChain(asset, epoch) {
  const logs = await chainOf(asset).getContractEvents({
    address: asset.contract_hex,
    abi: SETTLEMENT_ABI,
    eventName: "LiabilitiesCommitted",
    args: { token: asset.token_hex, epoch: BigInt(epoch) },
    fromBlock: 0n,
  });
  assert.equal(logs.length, 1, `one commitment of epoch ${epoch} of asset ${asset.asset_id}`);
  return logs[0].args;
}

/**
 * No sideways scrolling (a phone at 390 px included): long hashes wrap, and so does every amount, also at its
 * longest (a million units with every decimal of an 18-decimal asset: the figures grow over a run), tried with
 * the page's own nodes put back afterwards.
 */
async function fits(page, what) {
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= inner, `${what}: the page is ${scroll} px wide on a ${inner} px screen`);
  const longest = await page.evaluate(() => {
    const shown = [...document.querySelectorAll(".amount")].map((a) => [a, [...a.childNodes]]);
    for (const [a] of shown) a.textContent = `1000000.${"9".repeat(18)} GUSDT`;
    const width = document.documentElement.scrollWidth;
    for (const [a, kids] of shown) a.replaceChildren(...kids);
    return width;
  });
  assert.ok(longest <= inner, `${what}, every amount at its longest: the page is ${longest} px wide on a ${inner} px screen`);
}

/** Until the server reports (has recorded) an epoch of the asset at least `epoch`. */
const recorded = (assetId, epoch) =>
  until(`the server records epoch ${epoch} of asset ${assetId}`, async () => {
    const a = await served(assetId);
    return a.latest && a.latest.epoch >= epoch && a;
  }, { timeout: 120_000 });

/** The badge of an asset's dashboard card once the check has settled (not "checking"). */
async function settledBadge(page, cardId, { timeout = 150_000 } = {}) {
  const badge = page.getByTestId(cardId).getByTestId("solvency-check");
  await until(`the ${cardId} check settled`, async () => {
    const state = (await badge.count()) ? await badge.getAttribute("data-state") : null;
    return state && state !== "checking" && state;
  }, { timeout });
  return badge;
}

/**
 * Asserts a red banner naming `check` (and each of `also` among the failed checks), and no ✓ in the asset's card: the
 * plain sentence first, the technical headline (`title`) in the folded details for experts. A stale commitment is an
 * amber banner (`stale`: role status), anything else red (role alert).
 */
async function assertFailed(card, badge, check, { also = [], title, stale = false }) {
  assert.equal(await badge.getAttribute("data-state"), "failed", await badge.innerText());
  assert.equal(await badge.getAttribute("data-check"), check, await badge.innerText());
  assert.equal(await badge.getAttribute("data-verdict"), stale ? "stale" : "failed");
  const banner = badge.getByTestId("solvency-failed");
  assert.equal(await banner.getAttribute("role"), stale ? "status" : "alert", stale ? "an amber banner (role status)" : "a red banner (role alert)");
  assert.match(await banner.getByTestId("solvency-sentence").innerText(), stale ? /^⚠ Out of date: / : /^✗ The check failed: /);
  assert.match(await badge.getByTestId("solvency-failed-title").textContent(), title);
  const failed = await badge.getByTestId("solvency-failed-check").evaluateAll((els) => els.map((e) => e.getAttribute("data-check")));
  for (const id of also) assert.ok(failed.includes(id), `${id} among the failed checks ${failed}`);
  assert.equal(await card.getByTestId("solvency-ok").count(), 0, "never the ✓");
}

// ── a USDT user with a balance in the latest epoch (the tamper suite's subject) ────────────────────────────────────

let subject = null;
/**
 * A fresh USDT sponsor with one referral: its pending direct reward is a non-zero leaf value. Made once, then waited
 * for until an epoch the chain committed after both registrations is recorded by the server.
 */
function withBalance() {
  subject ??= (async () => {
    const genesis = await Api.signIn(ANVIL_KEYS[0]);
    const key = await freshKey();
    const api = await registerDirectly(key, genesis.address, USDT);
    const referral = await registerDirectly(await freshKey(), api.address, USDT);
    const joined = (await referral.standing(USDT)).registered_block;
    const registered = (await api.standing(USDT)).registered_block;
    const asset = await served(USDT);
    // An epoch whose balances are read after the referral's block holds the sponsor's reward.
    const epoch = await until("an epoch of USDT that holds the new sponsor's reward", async () => {
      const c = await latestOnChain(asset);
      return c.asOfBlock >= BigInt(joined) && c.epoch;
    }, { timeout: 180_000 });
    await recorded(USDT, Number(epoch));
    const proof = await api.get(`/v1/users/solvency-proof?asset_id=${USDT}&epoch=${epoch}`);
    assert.ok(BigInt(proof.value.base) > 0n, "the sponsor's leaf holds its reward");
    return { key, api, asset, registered, epoch: Number(epoch), proof };
  })();
  return subject;
}

/**
 * A browser signed in as `key` with the proof route (and, optionally, the overview and the profile) changed in flight;
 * `wallet(w)` may change what the test wallet answers before the page loads.
 */
async function tampered(key, { proof, overview, me, wallet, path = "/" } = {}) {
  const b = await openBrowser({ key });
  const { page } = b;
  if (wallet) wallet(b.wallet);
  if (proof) await page.route((url) => url.pathname === "/v1/users/solvency-proof", proof);
  if (overview) await page.route((url) => url.pathname === "/v1/public/solvency", overview);
  if (me) await page.route((url) => url.pathname === "/v1/users/me", me);
  await page.goto(BASE + path);
  await signInThroughPage(page);
  return b;
}

/** A route handler that changes the real proof's JSON with `change(proof)`. */
const changeProof = (change) => async (route) => {
  const response = await route.fetch();
  const json = await response.json();
  if (response.status() !== 200) return route.fulfill({ response, json });
  await route.fulfill({ response, json: change(structuredClone(json)) });
};

/** A route handler that changes the overview's entry of `assetId` with `change(asset)`. */
const changeAsset = (assetId, change) => async (route) => {
  const response = await route.fetch();
  const json = await response.json();
  for (const a of json.assets) if (a.asset_id === assetId) change(a);
  await route.fulfill({ response, json });
};

/** The devnet's deployment record (deployments/<name>.json), what the dApp was built with. */
const record = (name) => JSON.parse(readFileSync(new URL(`../../../deployments/${name}.json`, import.meta.url), "utf8"));

/**
 * Issue 42's forgery: a one-leaf tree of `user` with `balances` (the API's proof form) under the attacker's own
 * contract, and that contract deployed on anvil answering `latestLiabilities` with the tree's root as the commitment of
 * `epoch` as of `asOfBlock` (custody covering it) — everything a verifier that reads the contract the API names would
 * accept. Returns the contract and the proof.
 */
async function forgery({ user, token, balances, epoch, asOfBlock }) {
  const fake = getAddress(`0x${Math.floor(Math.random() * 2 ** 48).toString(16).padStart(12, "0")}${"fa".repeat(14)}`);
  const tree = buildTree({
    chainId: CHAIN_ID,
    contract: fake,
    token,
    epoch,
    leaves: [{ user, balances: Object.fromEntries(Object.entries(balances).map(([k, v]) => [k, BigInt(v)])), salt: `0x${"5a".repeat(32)}` }],
  });
  const head = await chain.getBlockNumber();
  // latestLiabilities' six words, returned to any call: root, total, epoch, asOfBlock, commitBlock, custody.
  const answer = concat([tree.root, ...[tree.total, epoch, asOfBlock, head, tree.total].map((v) => numberToHex(BigInt(v), { size: 32 }))]);
  // CODECOPY the answer (after these 12 bytes) to memory and RETURN it.
  await rpc("anvil_setCode", [fake, concat(["0x60c0600c600039" + "60c06000f3", answer])]);
  const proof = {
    version: "solvency/v1",
    chain_id: CHAIN_ID,
    contract: lower(fake),
    token: lower(token),
    epoch,
    as_of_block: asOfBlock,
    user: lower(user),
    balances,
    salt: `0x${"5a".repeat(32)}`,
    index: 0,
    depth: 0,
    leaf_count: 1,
    siblings: [],
    root: tree.root,
    total: tree.total.toString(),
    value: { base: tree.total.toString(), human: formatUnits(tree.total, 6) },
  };
  return { fake, proof, tree };
}

// ── the public page ────────────────────────────────────────────────────────────────────────────────────────────────

test("public page: the server's figures as its claim; after connecting, the chain's read through the wallet beside them", async () => {
  const b = await openBrowser({ key: await freshKey() });
  const { page, wallet } = b;
  await page.goto(BASE + "/");
  // Reached from the header's navigation.
  await page.getByTestId("nav-solvency").click();
  const section = page.getByTestId("solvency");
  await section.waitFor();
  assert.equal(new URL(page.url()).hash, "#solvency");
  assert.equal(await page.getByTestId("nav-solvency").getAttribute("aria-current"), "page");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "solvency-title", "focus on the page's title");
  await section.getByTestId("solvency-connect").waitFor();

  const overview = (await Api.raw("GET", "/v1/public/solvency")).body.assets;
  for (const a of overview) {
    const key = a.chain_id === TRON_CHAIN.chain_id ? `${a.symbol}-TRON` : a.symbol;
    const card = section.getByTestId(`solvency-${key}`);
    await card.waitFor();
    assert.equal(await card.getByTestId("claim-label").innerText(), "the operator's claim, not checked");
    // The page's figures are the server's for the epoch it shows (the server may have recorded a newer one since).
    const shown = Number(await card.getByTestId("api-epoch").innerText());
    const e = (await Api.raw("GET", `/v1/public/solvency/${a.asset_id}/epochs?limit=5`)).body.items.find((x) => x.epoch === shown);
    assert.ok(e, `epoch ${shown} of asset ${a.asset_id} in the server's history`);
    assert.equal(await card.getByTestId("api-as-of").innerText(), String(e.as_of_block));
    assert.equal(await card.getByTestId("api-total").getAttribute("data-base"), e.total.base);
    assert.equal(await card.getByTestId("api-custody").getAttribute("data-base"), e.custody.base);
    assert.equal(await card.getByTestId("api-users").innerText(), String(e.leaf_count));
    assert.equal(await card.getByTestId("api-root").getAttribute("data-hash"), e.root);
    assert.equal(await card.getByTestId("chain-figures").count(), 0, "nothing read from the chain without a wallet");
    // The server's cadence, not a second "at most" beside the one the member's check holds a proof to (issue 66).
    if (a.interval_blocks != null) assert.equal((await card.getByTestId("api-interval").innerText()).trim(), `(committed every ${a.interval_blocks} blocks)`);
    assert.doesNotMatch(await card.innerText(), /at most/, "the server's figures name no bound of their own");
  }
  await b.screenshot("17-solvency-public-before");
  assert.ok(!wallet.log.includes("eth_call"), "no read before the wallet is connected");

  await page.getByTestId("connect").click();
  for (const a of overview) {
    if (a.chain_id === TRON_CHAIN.chain_id) {
      // TRON's commitment is read with TronLink only.
      const note = section.getByTestId("solvency-USDT-TRON").getByTestId("chain-cannot");
      await note.waitFor();
      assert.match(await note.innerText(), /connect TronLink to read its commitment from the chain/);
      continue;
    }
    const card = section.getByTestId(`solvency-${a.symbol}`);
    const figures = card.getByTestId("chain-figures");
    await figures.waitFor({ timeout: 30_000 });
    // What the page read equals the chain's commitment of that epoch.
    const epoch = Number(await figures.getAttribute("data-epoch"));
    const onChain = await committedOnChain(a, epoch);
    assert.equal(lower(await figures.getAttribute("data-root")), lower(onChain.root));
    assert.equal(await card.getByTestId("chain-total").getAttribute("data-base"), onChain.total.toString());
    assert.equal(await card.getByTestId("chain-custody").getAttribute("data-base"), onChain.custody.toString());
    assert.equal(await card.getByTestId("chain-as-of").innerText(), onChain.asOfBlock.toString());
    assert.equal(lower(await card.getByTestId("chain-contract").getAttribute("data-address")), lower(a.contract_hex));
    // Custody covers the total on the devnet, the commitment is fresh, and the server agrees with the chain (once it
    // has recorded the chain's latest epoch).
    assert.ok(onChain.custody >= onChain.total);
    assert.match(await card.getByTestId("chain-solvent").innerText(), /^Solvent: the contract held .* when it committed, covering the .* owed to all users\.$/);
    await card.getByTestId("chain-fresh").waitFor();
    await until(`${a.symbol}: the server's figures match the chain's`, async () => (await card.getByTestId("api-match").count()) === 1, { timeout: 60_000 });
    assert.equal(await card.getByTestId("claim-label").innerText(), "matches the chain");
    assert.equal(await card.getByTestId("api-mismatch").count(), 0);
    assert.equal(await card.getByTestId("chain-stale").count(), 0);
    assert.equal(await card.getByTestId("chain-insolvent").count(), 0);
  }
  // Read through the wallet: its eth_call and eth_blockNumber (the page itself talked to no node: `close` fails on
  // any request to another origin).
  assert.ok(wallet.log.includes("eth_call") && wallet.log.includes("eth_blockNumber"), `the wallet was asked: ${wallet.log}`);
  await fits(page, "the proof-of-solvency page");
  await b.screenshot("17-solvency-public-after");
  await page.setViewportSize({ width: 390, height: 844 });
  await fits(page, "the proof-of-solvency page at 390 px");
  await b.screenshot("17-solvency-public-after-390");
  await b.close();
});

// ── the badge: good proofs ─────────────────────────────────────────────────────────────────────────────────────────

test("EVM user (anvil account 2): the ✓ badge in BNB and GUSDT with the API's and the chain's epoch, root and value; the proof file downloads", async () => {
  const api = await Api.signIn(ANVIL_KEYS[2]);
  const me = await api.get("/v1/users/me");
  const assets = me.assets.map((a) => a.asset_id);
  assert.ok(assets.includes(BNB) && assets.includes(GUSDT) && assets.includes(TRON_USDT), `the demo's account 2 is in ${assets}`);
  const b = await openBrowser({ key: ANVIL_KEYS[2] });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);

  for (const [assetId, cardId] of [
    [BNB, "asset-BNB"],
    [GUSDT, "asset-GUSDT"],
  ]) {
    const badge = await settledBadge(page, cardId);
    assert.equal(await badge.getAttribute("data-state"), "ok", await badge.innerText());
    const epoch = Number(await badge.getAttribute("data-epoch"));
    const asset = await served(assetId);
    // The chain's commitment of that epoch is the one the page verified against.
    const onChain = await committedOnChain(asset, epoch);
    assert.equal(lower(await badge.getAttribute("data-root")), lower(onChain.root));
    assert.equal(await badge.getAttribute("data-as-of"), onChain.asOfBlock.toString());
    // The value is the API's proof's, for that epoch.
    const proof = await api.get(`/v1/users/solvency-proof?asset_id=${assetId}&epoch=${epoch}`);
    assert.equal(await badge.getAttribute("data-value"), proof.value.base);
    assert.equal(lower(proof.root), lower(onChain.root));
    const text = await badge.getByTestId("solvency-ok-text").textContent();
    assert.equal(text, `✓ Your balance of ${formatUnits(BigInt(proof.value.base), proof.decimals)} ${proof.symbol} is in epoch ${epoch}'s committed root; custody covers the total.`);
    assert.equal(await badge.getByTestId("solvency-ok").getAttribute("role"), "status");
    // Every check passed (the information-only ones too: the server's file names the chain's root).
    const checks = await badge.getByTestId("solvency-checks").locator("li").evaluateAll((els) => els.map((e) => [e.dataset.check, e.dataset.ok]));
    assert.deepEqual(
      checks.filter(([, ok]) => ok !== "true"),
      [],
      "every check passed",
    );
    assert.deepEqual(
      checks.map(([id]) => id),
      ["format", "range", "shape", "contract", "allowed", "context", "fold", "layout", "root", "total", "epoch", "fresh", "served", "solvent"],
    );
    // The checks' amounts read as amounts of the asset, never base units (issue 66): the chain's total, as the page
    // writes it, with its symbol.
    const total = `${formatUnits(onChain.total, proof.decimals)} ${proof.symbol}`;
    const checkText = async (id) => (await badge.locator(`[data-testid=solvency-checks] li[data-check=${id}]`).textContent()).replaceAll(",", "");
    assert.ok((await checkText("total")).includes(total), `the total check names ${total}: ${await checkText("total")}`);
    assert.ok((await checkText("solvent")).includes(total), `the solvent check names ${total}: ${await checkText("solvent")}`);
    if (onChain.total >= 10n ** BigInt(proof.decimals)) assert.ok(!(await checkText("total")).includes(onChain.total.toString()), "no base units");
  }
  // The TRON asset cannot be read with an EVM wallet: a neutral note, never a red banner.
  const tronBadge = await settledBadge(page, "asset-USDT-TRON");
  assert.equal(await tronBadge.getAttribute("data-state"), "note");
  assert.equal(await tronBadge.getAttribute("data-reason"), "wallet");
  assert.match(await tronBadge.innerText(), /connect TronLink to read its commitment/);
  await b.screenshot("17-solvency-badge-evm");

  // The proof file: the JSON the page checked, the API's proof of that epoch.
  const badge = page.getByTestId("asset-BNB").getByTestId("solvency-check");
  const epoch = Number(await badge.getAttribute("data-epoch"));
  const [download] = await Promise.all([page.waitForEvent("download"), badge.getByTestId("solvency-download").click()]);
  assert.equal(download.suggestedFilename(), `solvency-proof-BNB-epoch${epoch}-${lower(api.address)}.json`);
  const file = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.deepEqual(file, await api.get(`/v1/users/solvency-proof?asset_id=${BNB}&epoch=${epoch}`));
  const attachment = await Api.raw("GET", `/v1/users/solvency-proof?asset_id=${BNB}&epoch=${epoch}&download=true`, undefined, api.token);
  assert.match(attachment.headers.get("content-disposition"), /^attachment; filename="solvency-proof-BNB-epoch\d+-0x[0-9a-f]{40}\.json"$/);
  assert.deepEqual(file, attachment.body, "the same JSON as the API's download");
  await b.close();
});

test("a USDT user with a balance: the ✓ badge with its non-zero value, on the dashboard and on the proof-of-solvency page", async () => {
  const s = await withBalance();
  const b = await openBrowser({ key: s.key });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const badge = await settledBadge(page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "ok", await badge.innerText());
  const epoch = Number(await badge.getAttribute("data-epoch"));
  assert.ok(epoch >= s.epoch);
  const proof = await s.api.get(`/v1/users/solvency-proof?asset_id=${USDT}&epoch=${epoch}`);
  assert.equal(await badge.getAttribute("data-value"), proof.value.base);
  assert.match(await badge.getByTestId("solvency-ok-text").textContent(), new RegExp(`^✓ Your balance of ${proof.value.human} is in epoch ${epoch}'s committed root`));
  assert.equal(lower(await badge.getAttribute("data-root")), lower((await committedOnChain(s.asset, epoch)).root));

  // The same check on the proof-of-solvency page, in the asset's card.
  await page.getByTestId("nav-solvency").click();
  const mine = page.getByTestId("solvency-USDT").getByTestId("solvency-mine");
  await mine.waitFor();
  const again = await settledBadge(page, "solvency-USDT");
  assert.equal(await again.getAttribute("data-state"), "ok", await again.innerText());
  await b.screenshot("17-solvency-badge-usdt");
  await b.close();
});

test("TRON user through TronLink (anvil account 2's T… account): the ✓ badge, read with triggerConstantContract and getCurrentBlock", async () => {
  const tron = await signInTron(ANVIL_KEYS[2]);
  assert.ok(await tron.standing(TRON_USDT), "the demo registered account 2 in TRON USDT");
  const tronLink = tronLinkFor(ANVIL_KEYS[2]);
  const b = await openBrowser({ tronLink });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInWithTronLink(page);
  const badge = await settledBadge(page, "asset-USDT-TRON");
  assert.equal(await badge.getAttribute("data-state"), "ok", await badge.innerText());
  const epoch = Number(await badge.getAttribute("data-epoch"));
  const asset = await served(TRON_USDT);
  const onChain = await committedOnChain(asset, epoch);
  assert.equal(lower(await badge.getAttribute("data-root")), lower(onChain.root));
  const proof = await tron.get(`/v1/users/solvency-proof?asset_id=${TRON_USDT}&epoch=${epoch}`);
  assert.equal(await badge.getAttribute("data-value"), proof.value.base);
  assert.equal(proof.chain_id, TRON_CHAIN.chain_id);
  assert.match(await badge.getByTestId("solvency-ok-text").textContent(), new RegExp(`^✓ Your balance of ${proof.value.human} is in epoch ${epoch}'s committed root; custody covers the total\\.$`));
  // The contract is named in its T… form, and TronLink's node answered the reads.
  assert.equal(await badge.getByTestId("solvency-facts").locator("code[data-address]").getAttribute("data-address"), TRON_CHAIN.settlement_base58);
  assert.ok(tronLink.log.includes("triggerConstantContract") && tronLink.log.includes("getCurrentBlock"), `TronLink was asked: ${tronLink.log}`);
  // An EVM asset of the same account needs an EVM wallet: a note.
  const bnb = await settledBadge(page, "asset-BNB");
  assert.equal(await bnb.getAttribute("data-reason"), "wallet");
  await b.screenshot("17-solvency-badge-tron");

  // The public page with TronLink: the TRON card's chain figures, the EVM ones need an EVM wallet.
  await page.getByTestId("nav-solvency").click();
  const card = page.getByTestId("solvency-USDT-TRON");
  const figures = card.getByTestId("chain-figures");
  await figures.waitFor({ timeout: 30_000 });
  const shown = Number(await figures.getAttribute("data-epoch"));
  assert.equal(lower(await figures.getAttribute("data-root")), lower((await committedOnChain(asset, shown)).root));
  assert.equal(await card.getByTestId("chain-contract").getAttribute("data-address"), TRON_CHAIN.settlement_base58);
  await card.getByTestId("chain-solvent").waitFor();
  await page.getByTestId("solvency-BNB").getByTestId("chain-cannot").waitFor();
  await b.screenshot("17-solvency-public-tron");
  await b.close();
});

test("a user who joined after the epoch's balances: a neutral note, 'you will be in the next epoch'", async () => {
  const genesis = await Api.signIn(ANVIL_KEYS[0]);
  const key = await freshKey();
  const api = await registerDirectly(key, genesis.address, BNB);
  const registered = (await api.standing(BNB)).registered_block;
  const b = await openBrowser({ key });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const badge = await settledBadge(page, "asset-BNB");
  const asOf = Number(await badge.getAttribute("data-as-of"));
  if (asOf < registered) {
    assert.equal(await badge.getAttribute("data-state"), "note");
    assert.equal(await badge.getAttribute("data-reason"), "next_epoch");
    assert.match(await badge.innerText(), new RegExp(`You joined at block ${registered}, after the balances of epoch \\d+ \\(block ${asOf}\\) were read: you will be in the next epoch\\.`));
    assert.equal(await badge.getByTestId("solvency-note").getAttribute("role"), "status", "neutral, not an alert");
    // A new member is told there is nothing to check yet, not that it was "neither confirmed nor refuted" (issue 66).
    assert.match(await badge.getByTestId("solvency-new-member").innerText(), /^Nothing to check yet: your balance is not in a proof until the next commitment\./);
    assert.doesNotMatch(await badge.innerText(), /neither confirmed nor refuted/);
  } else {
    // An epoch was committed at or after the registration's block meanwhile: the user is in it.
    assert.equal(await badge.getAttribute("data-state"), "ok", await badge.innerText());
  }
  await b.screenshot("17-solvency-next-epoch");
  await b.close();
});

// ── the tamper suite ───────────────────────────────────────────────────────────────────────────────────────────────

test("tamper: a user left out (not_in_epoch for a user registered before the epoch's block) is a red banner", async () => {
  const s = await withBalance();
  const b = await tampered(s.key, {
    proof: (route) =>
      route.fulfill({
        status: 404,
        json: { error: { code: "not_in_epoch", message: "this wallet has no leaf in this epoch: it was not a user of the asset at its block" } },
      }),
  });
  const badge = await settledBadge(b.page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "failed");
  assert.equal(await badge.getAttribute("data-check"), "excluded");
  assert.ok(Number(await badge.getAttribute("data-as-of")) >= s.registered, "registered before the epoch's block");
  const banner = badge.getByTestId("solvency-failed");
  assert.equal(await banner.getAttribute("role"), "alert");
  assert.match(await banner.getByTestId("solvency-sentence").innerText(), /^✗ The check failed: you are left out of what the operator declared it owes its members\./);
  assert.equal(await banner.getByTestId("solvency-failed-title").textContent(), "You are not in the committed tree");
  assert.match(await banner.getByTestId("solvency-experts").textContent(), new RegExp(`You joined at block ${s.registered}, before the balances of epoch`));
  assert.equal(await b.page.getByTestId("asset-USDT").getByTestId("solvency-ok").count(), 0);
  await b.screenshot("17-tamper-left-out");
  await b.close([/404 GET .*\/v1\/users\/solvency-proof/]);
});

test("tamper: a lowered balance does not fold to the chain's root", async () => {
  const s = await withBalance();
  const b = await tampered(s.key, {
    proof: changeProof((p) => {
      assert.ok(BigInt(p.balances.pending) > 0n);
      p.balances.pending = (BigInt(p.balances.pending) - 1n).toString();
      return p;
    }),
  });
  const badge = await settledBadge(b.page, "asset-USDT");
  await assertFailed(b.page.getByTestId("asset-USDT"), badge, "root", { also: ["total"], title: /^Your balance is not in the root committed on the chain/ });
  // The value the page computed is the lowered one: it never takes the server's figures on trust.
  assert.equal(await badge.getAttribute("data-value"), (BigInt(s.proof.value.base) - 1n).toString());
  await b.screenshot("17-tamper-lowered-balance");
  await b.page.setViewportSize({ width: 390, height: 844 });
  await fits(b.page, "the red banner at 390 px");
  await b.screenshot("17-tamper-lowered-balance-390");
  await b.close();
});

test("tamper: the max(vL, vR) sibling (a parent's sum reported as the larger child's) misses the root and the total", async () => {
  const s = await withBalance();
  let lowered = null;
  const b = await tampered(s.key, {
    proof: changeProof((p) => {
      // Fold the sums up the path; at the first level whose sibling holds something, report the parent's sum as
      // max(vL, vR) instead of vL + vR: the sibling's sum is lowered to max(mine, theirs) − mine.
      let mine = BigInt(p.value.base);
      for (let k = 0; k < p.siblings.length; k++) {
        const theirs = BigInt(p.siblings[k].sum);
        if (theirs > 0n && mine > 0n) {
          const max = mine > theirs ? mine : theirs;
          p.siblings[k].sum = (max - mine).toString();
          lowered = { level: k, from: theirs, to: max - mine };
          break;
        }
        mine += theirs;
      }
      assert.ok(lowered, "a sibling that holds something");
      return p;
    }),
  });
  const badge = await settledBadge(b.page, "asset-USDT");
  await assertFailed(b.page.getByTestId("asset-USDT"), badge, "root", { also: ["total"], title: /^Your balance is not in the root committed on the chain/ });
  assert.ok(lowered.to < lowered.from);
  const total = badge.locator("[data-testid=solvency-failed-check][data-check=total]");
  // In USDT, as members read amounts, never base units (issue 66).
  assert.match(await total.textContent(), /^The sums along your path add up to [\d.,]+ USDT, but the total committed on the chain is [\d.,]+ USDT: the committed total does not add up\.$/);
  await b.screenshot("17-tamper-max-sibling");
  await b.close();
});

test("tamper: a sibling sum of 2^128 is refused, and so is one that reaches 2^128 when added", async () => {
  const s = await withBalance();
  for (const [label, sum, check, title] of [
    ["2^128", U128, "range", /^The proof holds an amount of 2\^128 or more/],
    ["2^128 − 1", U128 - 1n, "fold", /^The proof's sums reach 2\^128 when added up/],
  ]) {
    const b = await tampered(s.key, {
      proof: changeProof((p) => {
        p.siblings[0].sum = sum.toString();
        return p;
      }),
    });
    const badge = await settledBadge(b.page, "asset-USDT");
    await assertFailed(b.page.getByTestId("asset-USDT"), badge, check, { title });
    assert.match(await badge.getByTestId("solvency-failed-check").first().textContent(), /2\^128/, label);
    await b.screenshot(`17-tamper-sum-${check}`);
    await b.close();
  }
});

test("tamper: a swapped order (the index's lowest bit flipped) is refused", async () => {
  const s = await withBalance();
  let flipped = null;
  const b = await tampered(s.key, {
    proof: changeProof((p) => {
      flipped = { index: p.index ^ 1, leafCount: p.leaf_count };
      p.index ^= 1;
      return p;
    }),
  });
  const badge = await settledBadge(b.page, "asset-USDT");
  const card = b.page.getByTestId("asset-USDT");
  if (flipped.index < flipped.leafCount) {
    await assertFailed(card, badge, "layout", { also: ["root"], title: /^Your place in the proof's tree is out of order/ });
    assert.match(await badge.locator("[data-testid=solvency-failed-check][data-check=layout]").textContent(), /your neighbouring leaf is out of order/);
  } else {
    // The last user's flipped position is past the last leaf.
    await assertFailed(card, badge, "shape", { title: /^The proof's tree does not hold together/ });
  }
  await b.screenshot("17-tamper-swapped-order");
  await b.close();
});

test("tamper: a stale root (an older epoch's proof served as the latest) is refused", async () => {
  // Account 2 is in every BNB epoch: its proof of the epoch before the chain's latest is a real, older proof.
  const api = await Api.signIn(ANVIL_KEYS[2]);
  const asset = await served(BNB);
  const latest = await latestOnChain(asset);
  assert.ok(latest.epoch >= 2n, "two BNB epochs exist");
  await recorded(BNB, Number(latest.epoch));
  let older = null;
  const b = await tampered(ANVIL_KEYS[2], {
    proof: async (route) => {
      const url = new URL(route.request().url());
      const asked = Number(url.searchParams.get("epoch"));
      if (Number(url.searchParams.get("asset_id")) !== BNB) return route.continue();
      url.searchParams.set("epoch", String(asked - 1));
      const response = await route.fetch({ url: url.href });
      older = await response.json();
      await route.fulfill({ response, json: older });
    },
  });
  const badge = await settledBadge(b.page, "asset-BNB");
  const epoch = Number(await badge.getAttribute("data-epoch"));
  assert.equal(older.epoch, epoch - 1);
  await assertFailed(b.page.getByTestId("asset-BNB"), badge, "epoch", {
    also: ["root"],
    title: new RegExp(`^The server gave a proof of another epoch than the chain's latest \\(epoch ${epoch}\\): a stale root`),
  });
  assert.match(
    await badge.locator("[data-testid=solvency-failed-check][data-check=epoch]").textContent(),
    new RegExp(`^The proof is of epoch ${epoch - 1}, but the chain's latest commitment is epoch ${epoch}: it is out of date`),
  );
  // The older proof was genuine: the API's own answer for that epoch.
  assert.deepEqual(older, await api.get(`/v1/users/solvency-proof?asset_id=${BNB}&epoch=${epoch - 1}`));
  await b.screenshot("17-tamper-stale-root");
  await b.close();
});

test("tamper: a stale commitment — the chain's head past the as-of block by more than the build's maximum — is STALE; the API's max_age_blocks changes nothing", async () => {
  const s = await withBalance();
  const maxAge = record("devnet-anvil").proof_max_age_blocks;
  assert.equal(maxAge, 240);
  // The API's maximum is no source: a maximum of 0 from it leaves a fresh commitment fresh.
  const zero = changeAsset(USDT, (a) => (a.max_age_blocks = 0));
  const honest = await tampered(s.key, { overview: zero });
  const fine = await settledBadge(honest.page, "asset-USDT");
  assert.equal(await fine.getAttribute("data-state"), "ok", await fine.innerText());
  assert.ok(Number(await fine.getAttribute("data-age")) <= maxAge);
  assert.match(await fine.getByTestId("solvency-facts").textContent(), new RegExp(`blocks ago, at most ${maxAge}\\)`));
  await honest.close();

  // The chain's head as the wallet reads it, as if no commitment had come for the build's maximum and one block more:
  // the liabilities (the as-of block) are then older than allowed, however recently they were committed.
  const ahead = BigInt(maxAge + 1);
  const b = await tampered(s.key, {
    overview: zero,
    wallet: (w) => {
      const real = w.rpc.bind(w);
      w.rpc = async (method, params) => {
        const answer = await real(method, params);
        return method === "eth_blockNumber" ? toHex(BigInt(answer) + ahead) : answer;
      };
    },
  });
  const { page } = b;
  const badge = await settledBadge(page, "asset-USDT");
  const age = Number(await badge.getAttribute("data-age"));
  assert.ok(age > maxAge, `age ${age}`);
  await assertFailed(page.getByTestId("asset-USDT"), badge, "fresh", {
    stale: true,
    title: new RegExp(`^STALE: the chain's latest commitment holds balances ${age} blocks old, more than the ${maxAge} allowed`),
  });
  assert.match(
    await badge.locator("[data-testid=solvency-failed-check][data-check=fresh]").textContent(),
    new RegExp(`^The chain's latest commitment holds the balances of block \\d+, ${age} blocks ago \\(committed at block \\d+\\), more than the ${maxAge} allowed`),
  );

  await page.getByTestId("nav-solvency").click();
  const card = page.getByTestId("solvency-USDT");
  const stale = card.getByTestId("chain-stale");
  await stale.waitFor({ timeout: 30_000 });
  assert.equal(await stale.getAttribute("role"), "alert");
  assert.match(await stale.innerText(), new RegExp(`^STALE\\s+The latest commitment holds the balances of block \\d+, \\d+ blocks ago \\(committed at block \\d+\\), more than the ${maxAge} allowed`));
  assert.match(await card.getByTestId("chain-age").innerText(), new RegExp(`blocks \\(at most ${maxAge};`));
  // One bound for one commitment: every "at most" on the card is the deployment's.
  const bounds = [...(await card.innerText()).matchAll(/at most ([\d,]+)/g)].map((m) => m[1].replaceAll(",", ""));
  assert.ok(bounds.length >= 1 && bounds.every((x) => x === String(maxAge)), `one bound, ${maxAge}: ${bounds}`);
  await b.screenshot("17-tamper-stale-commitment");
  await b.close();
});

test("tamper: a root served only by the API — the page shows the chain's figures and the mismatch; the user's proof still verifies", async () => {
  const s = await withBalance();
  const fake = `0x${"5a".repeat(32)}`;
  const overview = async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    for (const a of json.assets) {
      if (a.asset_id !== USDT || !a.latest) continue;
      a.latest.root = fake;
      a.latest.total = { base: (BigInt(a.latest.total.base) + 1_000_000n).toString(), human: "whatever the server says" };
    }
    await route.fulfill({ response, json });
  };
  const b = await tampered(s.key, { overview, path: "/#solvency" });
  const { page } = b;
  const card = page.getByTestId("solvency-USDT");
  await card.getByTestId("chain-figures").waitFor({ timeout: 30_000 });
  const mismatch = card.getByTestId("api-mismatch");
  await until("the mismatch banner", async () => (await mismatch.count()) === 1, { timeout: 90_000 });
  assert.equal(await mismatch.getAttribute("role"), "alert");
  assert.match(await mismatch.innerText(), /^The operator's server reports a root the chain does not hold/);
  assert.match(await mismatch.innerText(), new RegExp(`Root: the server says ${fake}, the chain holds 0x[0-9a-f]{64}\\.`));
  assert.match(await mismatch.innerText(), /Total owed: the server says/);
  assert.equal(await card.getByTestId("claim-label").innerText(), "differs from the chain");
  assert.equal(await card.getByTestId("api-match").count(), 0);
  // The server's claim is shown as it came; the chain's figures are the chain's.
  assert.equal(await card.getByTestId("api-root").getAttribute("data-hash"), fake);
  const epoch = Number(await card.getByTestId("chain-figures").getAttribute("data-epoch"));
  const onChain = await committedOnChain(s.asset, epoch);
  assert.equal(lower(await card.getByTestId("chain-root").getAttribute("data-hash")), lower(onChain.root));
  assert.equal(await card.getByTestId("chain-total").getAttribute("data-base"), onChain.total.toString());
  // The user's own proof verifies against the chain's root, whatever the server's overview says.
  const mine = await settledBadge(page, "solvency-USDT");
  assert.equal(await mine.getAttribute("data-state"), "ok", await mine.innerText());
  assert.equal(lower(await mine.getAttribute("data-root")), lower((await committedOnChain(s.asset, Number(await mine.getAttribute("data-epoch")))).root));
  await fits(page, "the mismatch banner");
  await b.screenshot("17-tamper-root-only-api");
  await page.setViewportSize({ width: 390, height: 844 });
  await fits(page, "the mismatch banner at 390 px");
  await page.getByTestId("nav-main").click();
  const badge = await settledBadge(page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "ok");
  await b.close();
});

test("no proof of the chain's epoch from the server (no_epoch) is a neutral note, never the ✓ nor a red banner", async () => {
  const s = await withBalance();
  const b = await tampered(s.key, {
    proof: (route) => route.fulfill({ status: 404, json: { error: { code: "no_epoch", message: "no committed epoch of the proof of solvency for this asset (yet)" } } }),
  });
  const badge = await settledBadge(b.page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "note");
  assert.equal(await badge.getAttribute("data-reason"), "not_recorded");
  assert.equal(await badge.getByTestId("solvency-note").getAttribute("role"), "status");
  assert.equal(await b.page.getByTestId("asset-USDT").getByTestId("solvency-ok").count(), 0);
  assert.equal(await b.page.getByTestId("asset-USDT").getByTestId("solvency-failed").count(), 0);
  await b.close([/404 GET .*\/v1\/users\/solvency-proof/]);
});

// ── issue 42: only the member's own sources ────────────────────────────────────────────────────────────────────────

test("forged: the API names the attacker's contract, holding a one-leaf tree of the user — a red banner, never the ✓; the chain's figures are the build's contract's", async () => {
  const s = await withBalance();
  const built = record("devnet-anvil").settlement;
  assert.equal(lower(built), lower(CHAIN.settlement), "the devnet deployed what the build carries");
  const onChain = await latestOnChain(s.asset);
  const { fake, proof } = await forgery({ user: s.api.address, token: s.asset.token_hex, balances: s.proof.balances, epoch: Number(onChain.epoch), asOfBlock: Number(onChain.asOfBlock) });
  // The attacker's contract answers as a commitment of the forged tree would: what the page read before.
  const [root] = await chain.readContract({ address: fake, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: [s.asset.token_hex] });
  assert.equal(lower(root), lower(proof.root));
  const overview = changeAsset(USDT, (a) => {
    a.contract = fake;
    a.contract_hex = lower(fake);
  });
  const served = (route) => {
    const url = new URL(route.request().url());
    if (Number(url.searchParams.get("asset_id")) !== USDT) return route.continue();
    return route.fulfill({ status: 200, json: { ...proof, epoch: Number(url.searchParams.get("epoch") ?? proof.epoch) } });
  };
  const b = await tampered(s.key, { overview, proof: served });
  const { page } = b;
  const badge = await settledBadge(page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "failed", await badge.innerText());
  assert.equal(await badge.getAttribute("data-check"), "contract");
  const banner = badge.getByTestId("solvency-failed");
  assert.equal(await banner.getAttribute("role"), "alert");
  assert.match(await banner.getByTestId("solvency-sentence").innerText(), /^✗ The check failed: the operator's server points to another contract than the one that holds the money\./);
  assert.match(await banner.getByTestId("solvency-failed-title").textContent(), /^The operator's server names another contract than this network's Settlement/);
  assert.equal(lower(await badge.getByTestId("served-contract").textContent()), lower(fake));
  assert.equal(lower(await badge.getByTestId("untrusted-contract").getAttribute("data-address")), lower(built));
  assert.equal(await page.getByTestId("asset-USDT").getByTestId("solvency-ok").count(), 0, "never the ✓");
  // Nothing was read at the attacker's contract: the wallet's reads went to the build's (checked on the public page).
  await b.screenshot("17-forged-contract-badge");

  await page.getByTestId("nav-solvency").click();
  const card = page.getByTestId("solvency-USDT");
  await card.getByTestId("chain-figures").waitFor({ timeout: 30_000 });
  const red = card.getByTestId("api-contract");
  await red.waitFor();
  assert.equal(await red.getAttribute("role"), "alert");
  assert.match(await red.innerText(), /^The operator's server names another contract than this network's Settlement/);
  assert.equal(lower(await card.getByTestId("api-contract-served").innerText()), lower(fake));
  assert.equal(lower(await card.getByTestId("chain-contract").getAttribute("data-address")), lower(built));
  assert.equal(lower(await card.getByTestId("chain-figures").getAttribute("data-root")), lower((await committedOnChain(s.asset, Number(await card.getByTestId("chain-figures").getAttribute("data-epoch")))).root));
  assert.equal(await card.getByTestId("claim-label").innerText(), "differs from the chain");
  assert.equal(await card.getByTestId("api-match").count(), 0);
  await fits(page, "the forged-contract banner");
  await b.screenshot("17-forged-contract-page");
  await b.close();
});

test("forged: the attacker's one-leaf proof alone (the overview honest) is refused by the contract check and the root", async () => {
  const s = await withBalance();
  let forged = null;
  const b = await tampered(s.key, {
    proof: async (route) => {
      const url = new URL(route.request().url());
      if (Number(url.searchParams.get("asset_id")) !== USDT) return route.continue();
      const real = await (await route.fetch()).json();
      // The same epoch and block as the chain's latest: nothing but the contract gives it away.
      forged = (await forgery({ user: s.api.address, token: s.asset.token_hex, balances: real.balances, epoch: real.epoch, asOfBlock: real.as_of_block })).proof;
      await route.fulfill({ status: 200, json: forged });
    },
  });
  const badge = await settledBadge(b.page, "asset-USDT");
  await assertFailed(b.page.getByTestId("asset-USDT"), badge, "contract", {
    also: ["root"],
    title: /^The proof is not of this network's Settlement contract: a tree committed elsewhere proves nothing/,
  });
  assert.match(
    await badge.locator("[data-testid=solvency-failed-check][data-check=contract]").textContent(),
    new RegExp(`the proof names contract ${forged.contract}, but this network's Settlement contract, whose commitment was read, is ${lower(CHAIN.settlement)}`),
  );
  await b.screenshot("17-forged-proof");
  await b.close();
});

test("the API names a token the contract never allowed: a red banner on the badge and on the public page", async () => {
  const s = await withBalance();
  const never = getAddress(`0x${"7e".repeat(20)}`);
  assert.equal(await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "wasEverAllowed", args: [never] }), false);
  const overview = changeAsset(USDT, (a) => {
    a.token = never;
    a.token_hex = lower(never);
  });
  const b = await tampered(s.key, { overview });
  const { page } = b;
  const badge = await settledBadge(page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "failed", await badge.innerText());
  assert.equal(await badge.getAttribute("data-check"), "allowed");
  assert.match(await badge.getByTestId("solvency-failed").getByTestId("solvency-sentence").innerText(), /^✗ The check failed: the operator's server names a token the contract never accepted\./);
  assert.match(await badge.getByTestId("solvency-failed-title").textContent(), /^The contract never allowed the token the server names: no commitment of it can be real/);
  assert.equal(lower(await badge.getByTestId("served-token").textContent()), lower(never));
  await page.getByTestId("nav-solvency").click();
  const red = page.getByTestId("solvency-USDT").getByTestId("chain-token-never-allowed");
  await red.waitFor({ timeout: 30_000 });
  assert.equal(await red.getAttribute("role"), "alert");
  assert.equal(await page.getByTestId("solvency-USDT").getByTestId("claim-label").innerText(), "differs from the chain");
  await b.screenshot("17-token-never-allowed");
  await b.close();
});

test("the registration block is the contract's: a user the API says joined after the epoch, left out of it, is a red banner", async () => {
  const s = await withBalance();
  const onChain = await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "registeredAt", args: [s.api.address, s.asset.token_hex] });
  assert.equal(Number(onChain), s.registered, "the contract records the registration's block");
  // The API hides an exclusion: it says the user joined long after any epoch, and has no leaf for them.
  const me = async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    for (const a of json.assets ?? []) if (a.asset_id === USDT) a.registered_block = 999_999_999;
    await route.fulfill({ response, json });
  };
  const proof = (route) =>
    route.fulfill({ status: 404, json: { error: { code: "not_in_epoch", message: "this wallet has no leaf in this epoch: it was not a user of the asset at its block" } } });
  const b = await tampered(s.key, { me, proof });
  const badge = await settledBadge(b.page, "asset-USDT");
  assert.equal(await badge.getAttribute("data-state"), "failed", await badge.innerText());
  assert.equal(await badge.getAttribute("data-check"), "excluded");
  assert.equal(await badge.getByTestId("solvency-failed-title").textContent(), "You are not in the committed tree");
  assert.match(await badge.getByTestId("solvency-experts").textContent(), new RegExp(`You joined at block ${s.registered}, before the balances of epoch`));
  await b.screenshot("17-registration-from-chain");
  await b.close([/404 GET .*\/v1\/users\/solvency-proof/]);
});

test("a network this build has no Settlement contract on: the proof cannot be checked there", async () => {
  const s = await withBalance();
  // The API puts BNB on BSC testnet (97), which the devnet's build carries no record of.
  const overview = changeAsset(BNB, (a) => (a.chain_id = 97));
  const b = await tampered(s.key, { overview, path: "/#solvency" });
  const note = b.page.getByTestId("solvency-BNB").getByTestId("chain-cannot");
  await note.waitFor({ timeout: 30_000 });
  assert.match(await note.innerText(), /^This dApp was built without a Settlement contract on BSC Testnet \(chain 97\), so the proof cannot be checked on this network/);
  assert.equal(await note.getAttribute("role"), "status");
  await b.close();
});
