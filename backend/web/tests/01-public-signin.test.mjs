// The dApp's first screen: the plan and the disclosure figures, before any wallet, equal to the API's; then
// wallet sign-in, a session that survives a reload and renews itself, sign-out, and a rejected signature.
import assert from "node:assert/strict";
import { Api, BASE, freshKey, openBrowser, signInThroughPage, test, until } from "./lib/stack.mjs";

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
  const plans = (await Api.raw("GET", "/v1/public/plan")).body.assets;
  await page.getByTestId("disclosure").waitFor();
  // Nothing comes before it in the page's content.
  const firstSection = await page.locator("main > *").first().getAttribute("data-testid");
  assert.equal(firstSection, "disclosure");
  // A TRON asset's card is told apart from another chain's asset of the same symbol.
  const TRON_CHAIN_IDS = [728126428, 3448148188, 2494104990];
  for (const d of disclosure) {
    const chainId = plans.find((p) => p.asset_id === d.asset_id).chain_id;
    const card = page.getByTestId(`disclosure-${d.symbol}${TRON_CHAIN_IDS.includes(chainId) ? "-TRON" : ""}`);
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

test("sign in with the wallet; the session survives a reload, renews itself and ends at sign-out", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, wallet } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  assert.equal(await page.getByTestId("role").innerText(), "user");
  assert.equal(await page.getByTestId("connected-address").getAttribute("data-address"), wallet.address);
  assert.ok(wallet.log.includes("personal_sign"), "the wallet was asked to sign");
  await page.getByTestId("not-registered").waitFor();
  await b.screenshot("01-signed-in-unregistered");

  // Reload: the wallet reconnects without a prompt and the stored session is used.
  const first = await page.evaluate(() => JSON.parse(localStorage.getItem("referral.session")));
  await page.reload();
  await page.getByTestId("sign-out").waitFor();

  // An access token about to expire is renewed silently (the refresh token rotates).
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("referral.session"));
    s.expiresAt = Date.now() + 1000;
    localStorage.setItem("referral.session", JSON.stringify(s));
  });
  await page.reload();
  const renewed = await until("a renewed session", () =>
    page.evaluate((old) => {
      const s = JSON.parse(localStorage.getItem("referral.session") ?? "null");
      return s && s.refreshToken !== old && s.expiresAt > Date.now() + 60_000 ? s : null;
    }, first.refreshToken),
  );
  assert.equal(renewed.address, wallet.address);
  await page.getByTestId("not-registered").waitFor();

  await page.getByTestId("sign-out").click();
  await page.getByTestId("sign-in").waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem("referral.session")), null);
  const after = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: renewed.refreshToken });
  assert.equal(after.status, 401, "sign-out ends the session on the server");
  assert.equal(after.body.error.code, "refresh_token_revoked");
  // And the token rotated away at renewal was dead already.
  const stale = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: first.refreshToken });
  assert.equal(stale.status, 401);
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

test("two tabs renewing at once keep one live session (refresh tokens rotate; a reuse would revoke it)", async () => {
  const key = await freshKey();
  const b = await openBrowser({ key });
  const { page, wallet, context } = b;
  await page.goto(BASE + "/");
  await signInThroughPage(page);
  // No page of the app is open while the session is made to look nearly expired (an open one would renew
  // at once); then two tabs open together and both want to renew.
  await page.goto(BASE + "/api-docs/openapi.json");
  const first = await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("referral.session"));
    s.expiresAt = Date.now() + 1000;
    localStorage.setItem("referral.session", JSON.stringify(s));
    return s;
  });
  const second = await context.newPage();
  await wallet.attach(second);
  await Promise.all([page.goto(BASE + "/"), second.goto(BASE + "/")]);
  const renewed = await until("both tabs on one renewed session", async () => {
    const [a, c] = await Promise.all([page, second].map((p) => p.evaluate(() => localStorage.getItem("referral.session"))));
    const s = JSON.parse(a ?? "null");
    return a === c && s && s.refreshToken !== first.refreshToken && s.expiresAt > Date.now() + 60_000 ? s : null;
  });
  // The session is alive on the server: its refresh token works (it would be revoked after a reuse).
  const check = await Api.raw("POST", "/v1/auth/refresh", { refresh_token: renewed.refreshToken });
  assert.equal(check.status, 200, JSON.stringify(check.body));
  // The JSON page (not the app) made Chromium ask for /favicon.ico, which the backend does not serve.
  await b.close([/http 404 GET .*\/favicon\.ico$/]);
});
