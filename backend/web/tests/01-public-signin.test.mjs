// The dApp's first screen: the plan and the disclosure figures, before any wallet, equal to the API's; then
// wallet sign-in into a cookie session whose tokens page script cannot read, a session that survives a reload
// (renewed through the cookie), sign-out, a rejected signature, two tabs at once, and another site's page that
// cannot use the cookie.
import assert from "node:assert/strict";
import { Api, BASE, assertOutOfScriptReach, freshKey, openBrowser, refreshCookie, signInThroughPage, test, until } from "./lib/stack.mjs";

test("plan and disclosure come first, in plain words, equal to the API", async () => {
  const b = await openBrowser();
  const { page } = b;
  const response = await page.goto(BASE + "/");
  assert.equal(response.status(), 200);
  const csp = response.headers()["content-security-policy"];
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self';/);
  assert.equal(response.headers()["cache-control"], "no-cache");

  const disclosure = (await Api.raw("GET", "/v1/public/disclosure")).body.assets;
  const publicPlans = (await Api.raw("GET", "/v1/public/plan")).body;
  const plans = publicPlans.assets;
  await page.getByTestId("disclosure").waitFor();
  // Nothing comes before it in the page's content.
  const firstSection = await page.locator("main > *").first().getAttribute("data-testid");
  assert.equal(firstSection, "disclosure");
  // A TRON asset's card is told apart from another chain's asset of the same symbol.
  const TRON_CHAIN_IDS = [728126428, 3448148188, 2494104990];
  for (const d of disclosure) {
    // A generation-plan (PLAN-GENERATION.md) or binary-plan (PLAN-BINARY.md) asset has a card of its own.
    const generation = publicPlans.generation.some((g) => g.asset_id === d.asset_id);
    const binary = publicPlans.binary.some((g) => g.asset_id === d.asset_id);
    const chainId = [...publicPlans.generation, ...publicPlans.binary, ...plans].find((p) => p.asset_id === d.asset_id).chain_id;
    const card = generation
      ? page.getByTestId(`generation-rules-${d.asset_id}`)
      : binary
        ? page.getByTestId(`binary-rules-${d.asset_id}`)
        : page.getByTestId(`disclosure-${d.symbol}${TRON_CHAIN_IDS.includes(chainId) ? "-TRON" : ""}`);
    const text = await card.innerText();
    // An asset nobody has joined yet (the devnet's TRON asset until a TRON test registers) says so.
    const expected =
      d.participants === 0
        ? `Nobody has joined with ${d.symbol} yet.`
        : `${d.received_at_least_paid_in} of ${d.participants} participants`;
    assert.ok(text.includes(expected), `${d.symbol}: expected "${expected}" in: ${text}`);
    if (d.median_net) {
      assert.equal(await card.getByTestId("median-net").innerText(), d.median_net.human);
      assert.equal(await card.getByTestId("median-net").getAttribute("title"), `${d.median_net.base} base units`);
    }
    if (generation) {
      if (d.participants > 0) assert.equal(await card.getByTestId("users-at-cap").innerText(), String(d.users_at_cap));
      continue;
    }
    if (binary) {
      const b = publicPlans.binary.find((p) => p.asset_id === d.asset_id);
      assert.equal(await card.getByTestId("binary-pair-bonus").getAttribute("data-base"), b.pair_bonus.base);
      continue;
    }
    const plan = plans.find((p) => p.asset_id === d.asset_id);
    assert.equal(await card.getByTestId("registration-fee").innerText(), plan.registration_fee.human);
  }
  // Hashed assets are immutable for a year.
  const script = await page.locator("script[type=module]").first().getAttribute("src");
  const asset = await fetch(BASE + script);
  assert.equal(asset.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.match(asset.headers.get("content-type"), /javascript/);
  await b.screenshot("01-home-disclosure");
  await b.close();
});

test("sign in with the wallet: no token within script's reach; the session survives a reload and ends at sign-out", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, wallet, context } = b;
  await page.goto(BASE + "/");
  const signinAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/auth/signin");
  await signInThroughPage(page);
  assert.equal(await page.getByTestId("role").innerText(), "user");
  assert.equal(await page.getByTestId("connected-address").getAttribute("data-address"), wallet.address);
  assert.ok(wallet.log.includes("personal_sign"), "the wallet was asked to sign");
  await page.getByTestId("not-registered").waitFor();
  await b.screenshot("01-signed-in-unregistered");

  // The answer carries the access token only, kept by no cache; the refresh token is an HttpOnly cookie.
  const answer = await signinAnswer;
  const pair = await answer.json();
  assert.equal(answer.status(), 200);
  assert.equal(pair.refresh_token, undefined, "no refresh token in the sign-in answer");
  assert.equal(answer.headers()["cache-control"], "no-store");
  const first = await refreshCookie(context);
  assert.ok(first, "the refresh cookie is set");
  assert.match(first.value, /^[0-9a-f]{64}$/);
  // Secure is kept on http://localhost (a secure context), and the cookie goes to the auth routes only.
  assert.deepEqual(
    { httpOnly: first.httpOnly, secure: first.secure, sameSite: first.sameSite, path: first.path, domain: first.domain },
    { httpOnly: true, secure: true, sameSite: "Strict", path: "/v1/auth/", domain: new URL(BASE).hostname },
  );
  // Page script sees neither token: not in localStorage, not in sessionStorage, not in document.cookie. What
  // localStorage keeps is who is signed in.
  const view = await assertOutOfScriptReach(page, [first.value, pair.access_token]);
  assert.deepEqual(JSON.parse(view.localStorage["referral.session"]), { address: wallet.address, role: "user" });
  assert.deepEqual(Object.keys(view.sessionStorage), []);

  // The session worker is served under a content-hashed name, so it may be immutable (a new version is a new URL).
  const workerUrl = await until("the session worker registered", () =>
    page.evaluate(async () => (await navigator.serviceWorker.getRegistration("/assets/session-worker/"))?.active?.scriptURL),
  );
  assert.match(workerUrl, /\/assets\/session-worker-[A-Za-z0-9_-]{8}\.js$/);
  assert.equal((await fetch(workerUrl)).headers.get("cache-control"), "public, max-age=31536000, immutable");

  // Reload: the wallet reconnects without a prompt, and the page gets a new access token through the cookie (which
  // rotates): still signed in, its authenticated calls answered.
  await page.reload();
  await page.getByTestId("sign-out").waitFor();
  await page.getByTestId("not-registered").waitFor();
  const renewed = await until("the cookie rotated by the reloaded page's renewal", async () => {
    const c = await refreshCookie(context);
    return c && c.value !== first.value && c;
  });
  assert.equal(renewed.httpOnly && renewed.secure && renewed.sameSite === "Strict", true);
  await assertOutOfScriptReach(page, [first.value, renewed.value, pair.access_token]);
  assert.equal(await page.getByTestId("role").innerText(), "user");

  await page.getByTestId("sign-out").click();
  await page.getByTestId("sign-in").waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("referral.session")), null);
  await until("the refresh cookie removed", async () => (await refreshCookie(context)) === null);
  const after = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: renewed.value });
  assert.equal(after.status, 401, "sign-out ends the session on the server");
  assert.equal(after.body.error.code, "refresh_token_revoked");
  // And the token rotated away at the reload was dead already.
  const stale = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: first.value });
  assert.equal(stale.status, 401);
  // Signed out stays signed out across a reload.
  await page.reload();
  await page.getByTestId("sign-in").waitFor();
  assert.equal(await page.getByTestId("sign-out").count(), 0);
  await b.close();
});

test("a rejected signature says so and signs nobody in", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, wallet } = b;
  await page.goto(BASE + "/");
  await page.getByTestId("connect").click();
  wallet.rejectNextSignature = true;
  await page.getByTestId("sign-in").click();
  const error = page.getByTestId("account-error");
  await error.waitFor();
  assert.match(await error.innerText(), /You rejected the signature in your wallet/);
  assert.equal(await page.evaluate(() => localStorage.getItem("referral.session")), null);
  await b.screenshot("01-rejected-signature");
  // A second try works.
  await page.getByTestId("sign-in").click();
  await page.getByTestId("sign-out").waitFor();
  await b.close();
});

test("two tabs loading at once keep one live session (refresh tokens rotate; a reuse would revoke it)", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, wallet, context } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  await page.getByTestId("not-registered").waitFor();
  const first = await refreshCookie(context);
  // Both tabs load together and each renews through the one cookie.
  const second = await context.newPage();
  await wallet.attach(second);
  await Promise.all([page.reload(), second.goto(BASE + "/")]);
  // Each shows the wallet's data: each got an access token.
  for (const p of [page, second]) {
    await p.getByTestId("sign-out").waitFor();
    await p.getByTestId("not-registered").waitFor();
  }
  const last = await refreshCookie(context);
  assert.notEqual(last.value, first.value, "the cookie rotated");
  // The session is alive on the server: the browser's current token works (it would be revoked after a reuse).
  const check = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: last.value });
  assert.equal(check.status, 200, JSON.stringify(check.body));
  await b.close();
});

test("a page of another site cannot use the session cookie: it is not sent, and nothing rotates", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, context } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  await page.getByTestId("not-registered").waitFor();
  const cookie = await refreshCookie(context);
  // The same server under another host name is another site (localhost vs 127.0.0.1).
  const port = new URL(BASE).port;
  const other = await context.newPage();
  await other.goto(`http://127.0.0.1:${port}/api-docs/openapi.json`);
  const sent = [];
  other.on("request", (r) => {
    if (!r.url().startsWith(BASE + "/v1/auth/")) return;
    // Read off the event: a request still in flight when the page closes below has no headers left to show, and
    // its rejection must not end the test (the requests asserted on are the ones collected before).
    r.allHeaders().then(
      (headers) => sent.push({ url: r.url(), headers }),
      () => {},
    );
  });
  const refresh = BASE + "/v1/auth/refresh";
  const outcome = await other.evaluate(async (url) => {
    const out = {};
    // JSON, as the real renewal: needs a CORS preflight, which the API never grants.
    try {
      const r = await fetch(url, { method: "POST", credentials: "include", headers: { "content-type": "application/json" }, body: "{}" });
      out.json = `answered ${r.status}`;
    } catch (e) {
      out.json = `refused: ${e.name}`;
    }
    // What needs no preflight: a form-like text/plain POST (its answer is opaque to the page).
    const r = await fetch(url, { method: "POST", mode: "no-cors", credentials: "include", headers: { "content-type": "text/plain" }, body: "{}" });
    out.form = r.type;
    return out;
  }, refresh);
  assert.equal(outcome.json, "refused: TypeError", "the cross-site JSON request never reaches the API");
  assert.equal(outcome.form, "opaque");
  // A real form posted cross-site (a top-level navigation): SameSite=Strict keeps the cookie home here too.
  const formAnswer = other.waitForResponse((r) => r.url() === refresh);
  await other.evaluate((url) => {
    const f = document.createElement("form");
    f.method = "POST";
    f.action = url;
    f.enctype = "text/plain";
    const i = document.createElement("input");
    i.name = "{}";
    f.append(i);
    document.body.append(f);
    f.submit();
  }, refresh);
  assert.equal((await formAnswer).status(), 415, "not JSON: refused before anything is read");
  const posts = await until("the forged requests seen", async () => sent.length >= 2 && sent);
  for (const r of posts) assert.equal(r.headers.cookie, undefined, `the cookie went with ${JSON.stringify(r)}`);
  await other.close();
  // Nothing rotated: the browser's cookie is unchanged and still the session's live token.
  assert.equal((await refreshCookie(context)).value, cookie.value);
  await page.reload();
  await page.getByTestId("not-registered").waitFor();
  const renewed = await until("the cookie rotated by the page's own renewal", async () => {
    const c = await refreshCookie(context);
    return c && c.value !== cookie.value && c;
  });
  const check = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: renewed.value });
  assert.equal(check.status, 200, JSON.stringify(check.body));
  await b.close();
});
