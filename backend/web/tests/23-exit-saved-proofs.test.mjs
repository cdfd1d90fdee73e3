// The members' exit without the operator (contracts/EXIT.md §7), the part that leaves the devnet as it found it:
// - the dApp keeps each member's latest verified proof in their browser (IndexedDB, per chain, contract, token and
//   member) once the badge has checked it — the same JSON as the API's `download=true` — says when, lists it on the
//   "Proof of solvency" page with a download and the exit page, and still does with the API unreachable (every /v1/
//   request refused: the list comes from IndexedDB);
// - the backend serves the exit page at /exit.html: the built file byte for byte, with a policy that allows its one
//   inline script and style by their SHA-256 and loads nothing;
// - the exit page opened from a file:// URL reads the chain through the member's wallet only (EVM through the injected
//   wallet; TRON through TronLink's `triggerConstantContract`), checks that the proof names a contract this build carries,
//   shows when the exit opens (the contract's `exitOpensAt`: the latest commitment plus `exitAfter`) and what the leaf
//   counts, keeps "Open the exit" shut while it is not due; refuses a proof of another contract, a malformed file, and
//   lets anyone read an asset's exit without a proof. No request leaves the page.
// The destructive half — opening, folding and every demo member exiting — is tests/exit/exit-drill.test.mjs, run last
// by scripts/exit-drill.sh.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ANVIL_KEYS, Api, BASE, BNB, CHAIN, SETTLEMENT_ABI, chain, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";
import { TRON_CHAIN, TRON_USDT, signInTron, signInWithTronLink, tronChain, tronLinkFor } from "./lib/tron.mjs";
import { shownAs } from "./lib/dates.mjs";
import { EXIT_FILE, EXIT_PAGE_ALLOW, downloadKept, downloads, exitOf, exitState, keptByBadge, keptInBrowser, keptKey, openExitPage } from "./lib/exit.mjs";

/** When the exit of `token` opens, read from the chain: the latest commitment's time plus the exit period. */
async function opensAt(client, settlement, token) {
  const { exitAfter } = await exitOf(client, settlement);
  const committed = await client.readContract({ address: settlement, abi: SETTLEMENT_ABI, functionName: "latestCommitTime", args: [token] });
  const contract = await client.readContract({ address: settlement, abi: SETTLEMENT_ABI, functionName: "exitOpensAt", args: [token] });
  assert.equal(contract, committed + exitAfter, "exitOpensAt is the latest commitment plus exitAfter");
  return contract;
}

// The page read exitOpensAt at some moment between `before` and now; a commitment a minute may have moved it meanwhile,
// so what it shows is the chain's value before or after its read, never anything else.
async function assertOpensAtAsRead(shown, before, client, settlement, token) {
  const after = await opensAt(client, settlement, token);
  assert.ok(shown === before || shown === after, `the page shows exitOpensAt ${shown}; the chain's was ${before} before its read, ${after} after`);
}

test("the dApp keeps the verified proof in the browser, lists it with the exit page, and still does with the API unreachable; /exit.html is the built file under a hash-only policy", async () => {
  const api = await Api.signIn(ANVIL_KEYS[2]);
  const b = await openBrowser({ key: ANVIL_KEYS[2] });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  const { badge, epoch, savedAt } = await keptByBadge(page, "asset-BNB");
  assert.equal(await badge.getAttribute("data-state"), "ok", await badge.innerText());
  assert.ok(Math.abs(savedAt - Date.now()) < 300_000, "kept just now");
  assert.match(await badge.getByTestId("solvency-saved").innerText(), /Kept in this browser on .*for the members' exit: the exit page \(download it\)\. If the operator ever stops/);
  assert.equal(await badge.getByTestId("exit-page-link").getAttribute("href"), "/exit.html");
  assert.equal(await badge.getByTestId("exit-page-download").getAttribute("download"), "members-exit.html");

  // What IndexedDB holds: the API's proof of that epoch, under (chain, contract, token, member).
  const proof = await api.get(`/v1/users/solvency-proof?asset_id=${BNB}&epoch=${epoch}`);
  const attachment = await Api.raw("GET", `/v1/users/solvency-proof?asset_id=${BNB}&epoch=${epoch}&download=true`, undefined, api.token);
  assert.deepEqual(attachment.body, proof, "the download is the same JSON");
  const kept = await keptInBrowser(page);
  const mine = kept.find((k) => k.key === keptKey(proof));
  assert.ok(mine, `kept under ${keptKey(proof)}: ${kept.map((k) => k.key)}`);
  assert.deepEqual(mine.proof, proof);
  assert.equal(mine.epoch, epoch);
  assert.equal(mine.key, `31337:${CHAIN.settlement}:0x0000000000000000000000000000000000000000:${api.address}`.toLowerCase());

  // Listed on the "Proof of solvency" page, downloadable as the same file.
  const dir = downloads();
  await page.getByTestId("nav-solvency").click();
  const row = page.getByTestId("saved-proofs").locator(`[data-key="${mine.key}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-epoch"), String(epoch));
  assert.match(await page.getByTestId("saved-proofs").innerText(), /open the members' exit page with your proof file and your wallet/);
  const first = await downloadKept(page, mine.key, dir);
  assert.deepEqual(first.json, proof);
  assert.equal(first.name, `solvency-proof-BNB-epoch${epoch}-${CHAIN.settlement.toLowerCase()}-${api.address.toLowerCase()}.json`);

  // The API unreachable: every /v1/ request refused (the session worker's too: routed for the whole browser). The page
  // still lists the kept proof and downloads it.
  const refused = [];
  await b.context.route(/\/v1\//, (route) => {
    refused.push(route.request().url());
    return route.abort("connectionrefused");
  });
  await page.reload();
  await page.getByTestId("saved-proofs").waitFor({ timeout: 30_000 });
  const offline = await downloadKept(page, mine.key, dir);
  assert.deepEqual(offline.json, proof, "the same proof, from IndexedDB alone");
  await until("the page asked the API and was refused", () => refused.length > 0);
  await page.getByTestId("saved-proofs").getByTestId("exit-page-link").waitFor();
  await b.screenshot("23-exit-kept-proofs-offline");
  await b.context.unroute(/\/v1\//);

  // The backend serves the exit page: the built file, its inline script and style allowed by hash, nothing loaded.
  const served = await fetch(`${BASE}/exit.html`);
  assert.equal(served.status, 200);
  assert.match(served.headers.get("content-type"), /^text\/html/);
  const html = await served.text();
  assert.equal(html, readFileSync(EXIT_FILE, "utf8"), "the built file, byte for byte");
  const csp = served.headers.get("content-security-policy");
  const hash = (body) => `'sha256-${createHash("sha256").update(body).digest("base64")}'`;
  const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)[1];
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)[1];
  assert.ok(csp.includes(`script-src ${hash(script)}`), csp);
  assert.ok(csp.includes(`style-src ${hash(style)}`), csp);
  assert.ok(!/unsafe-inline|script-src 'self'/.test(csp), csp);
  assert.equal(/<(script|link|img|iframe)[^>]*\s(src|href)="(?!data:)/i.exec(html), null, "the page loads nothing");
  // It runs under that policy (a violation is a console error, which fails the test), and, served from the dApp's own
  // site, offers the proofs the dApp kept in this browser.
  const servedRequests = [];
  const onRequest = (r) => servedRequests.push(r.url());
  page.on("request", onRequest);
  await page.goto(`${BASE}/exit.html`);
  await page.getByRole("heading", { name: "Members' exit" }).waitFor();
  await page.getByTestId("exit-connect-evm").first().click();
  await page.getByTestId("exit-saved").getByTestId("exit-use-saved").filter({ hasText: `BNB epoch ${epoch}` }).click();
  assert.equal((await page.getByTestId("exit-proof").getAttribute("data-member")).toLowerCase(), api.address.toLowerCase());
  assert.equal((await exitState(page)).open, false);
  page.off("request", onRequest);
  assert.deepEqual(servedRequests, [`${BASE}/exit.html`], "the served page asked nothing more");

  // The exit page from its file, with that file: it reads the chain through the wallet and says when the exit opens.
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await openExitPage(page, "evm");
  const bnbBefore = await opensAt(chain, CHAIN.settlement, "0x0000000000000000000000000000000000000000");
  await page.getByLabel("Proof file").setInputFiles(offline.file);
  const shown = page.getByTestId("exit-proof");
  await shown.waitFor();
  assert.equal((await shown.getAttribute("data-member")).toLowerCase(), api.address.toLowerCase());
  const balances = proof.balances;
  const entitlement = BigInt(balances.reserved) + BigInt(balances.held) + BigInt(balances.pending) + BigInt(balances.batched);
  assert.equal(await shown.getAttribute("data-entitlement"), entitlement.toString(), "reserved + held + pending + batched; claimable stays for claim");
  const state = await exitState(page);
  assert.equal(state.open, false);
  assert.equal(state.due, false);
  await assertOpensAtAsRead(state.opensAt, bnbBefore, chain, CHAIN.settlement, "0x0000000000000000000000000000000000000000");
  assert.ok(await page.getByTestId("exit-open").isDisabled(), "no opening before it is due");
  // When it opens, by the chain's clock, as every time is shown (the reader's zone, named): to the minute, rounded up
  // (never a minute at which the contract still refuses).
  const [from] = await shownAs(page, [Math.ceil(Number(state.opensAt) / 60) * 60_000]);
  assert.ok(state.text.includes(`It can be opened from ${from} (in `), `${state.text}: from ${from}`);
  assert.match(state.text, /\(in \d+ (hours?|minutes?)/);
  // The chain's latest commitment may have moved past the kept proof meanwhile (a commit a minute): then the page says
  // so. The page's verdict is judged against the commitment it read (the chain may commit the next one while the test
  // reads), which is no older than the kept proof's nor newer than the chain's latest now.
  const member = page.getByTestId("exit-member");
  const latest = (await chain.readContract({ address: CHAIN.settlement, abi: SETTLEMENT_ABI, functionName: "latestLiabilities", args: ["0x0000000000000000000000000000000000000000"] }))[2];
  const against = BigInt(await member.getAttribute("data-against-epoch"));
  assert.ok(against >= BigInt(epoch) && against <= latest, `read epoch ${against}, kept ${epoch}, latest ${latest}`);
  assert.equal(await member.getAttribute("data-epoch-matches"), String(BigInt(epoch) === against), await member.innerText());
  assert.deepEqual(
    requests.filter((u) => !u.startsWith("file:")),
    [],
    "the exit page asked no host anything",
  );
  await b.screenshot("23-exit-page-evm");

  // A proof naming a contract this build does not carry, and a file that is no proof: refused in words.
  const forged = join(dir, "forged.json");
  writeFileSync(forged, JSON.stringify({ ...proof, contract: "0x000000000000000000000000000000000000bEEF" }));
  await page.getByLabel("Proof file").setInputFiles(forged);
  await page.getByTestId("exit-proof-contract").waitFor();
  assert.match(await page.getByTestId("exit-proof-contract").innerText(), /not one this page was built with for Devnet \(anvil\) \(chain 31337\)/);
  assert.equal(await page.getByTestId("exit-state").count(), 0, "nothing read at a contract the build does not carry");
  const broken = join(dir, "broken.json");
  writeFileSync(broken, JSON.stringify({ ...proof, salt: "0x1234" }));
  await page.getByLabel("Proof file").setInputFiles(broken);
  assert.match(await page.getByTestId("exit-proof-error").innerText(), /salt is not 32 bytes/);

  // Without a proof (an auditor): an asset's exit read by its token.
  await page.reload();
  await page.getByTestId("exit-connect-evm").first().click();
  await page.getByLabel(/Token address/).fill(CHAIN.usdt);
  const usdtBefore = await opensAt(chain, CHAIN.settlement, CHAIN.usdt);
  await page.getByTestId("exit-read").click();
  const usdt = await exitState(page);
  assert.equal(usdt.open, false);
  await assertOpensAtAsRead(usdt.opensAt, usdtBefore, chain, CHAIN.settlement, CHAIN.usdt);
  assert.equal(await page.getByTestId("exit-member").count(), 0, "no member without a proof");
  await b.close([...EXIT_PAGE_ALLOW, /^request failed: http:\/\/localhost:\d+\/v1\/.* net::ERR_CONNECTION_REFUSED$/]);
});

test("TRON: the badge keeps the TronLink member's proof; the exit page reads it through TronLink from a file:// URL", async () => {
  const tron = await signInTron(ANVIL_KEYS[2]);
  const tronLink = tronLinkFor(ANVIL_KEYS[2]);
  const b = await openBrowser({ tronLink });
  const { page } = b;
  await page.goto(BASE + "/");
  await signInWithTronLink(page);
  const { epoch } = await keptByBadge(page, "asset-USDT-TRON");
  const proof = await tron.get(`/v1/users/solvency-proof?asset_id=${TRON_USDT}&epoch=${epoch}`);
  assert.equal(proof.chain_id, TRON_CHAIN.chain_id);
  await page.getByTestId("nav-solvency").click();
  const kept = await downloadKept(page, keptKey(proof), downloads());
  assert.deepEqual(kept.json, proof);

  tronLink.log.length = 0;
  await openExitPage(page, "tron");
  assert.equal(await page.getByTestId("exit-wallet").getAttribute("data-chain"), String(TRON_CHAIN.chain_id));
  assert.match(await page.getByTestId("exit-contracts").innerText(), new RegExp(TRON_CHAIN.settlement_base58));
  const tronBefore = await opensAt(tronChain, TRON_CHAIN.settlement, TRON_CHAIN.usdt);
  await page.getByLabel("Proof file").setInputFiles(kept.file);
  const state = await exitState(page);
  assert.equal(state.open, false);
  await assertOpensAtAsRead(state.opensAt, tronBefore, tronChain, TRON_CHAIN.settlement, TRON_CHAIN.usdt);
  assert.ok(await page.getByTestId("exit-open").isDisabled());
  assert.match(state.text, new RegExp(`contract ${TRON_CHAIN.settlement_base58}`), "the contract in its T… form");
  assert.ok(tronLink.log.includes("triggerConstantContract") && tronLink.log.includes("getCurrentBlock"), `read through TronLink: ${tronLink.log}`);
  await b.screenshot("23-exit-page-tron");
  await b.close(EXIT_PAGE_ALLOW);
});
