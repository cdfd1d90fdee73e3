// Webhooks in the console (issue 49): the admin creates an endpoint pointing at a receiver this test runs on loopback
// (the devnet allows it), sees its secret once, and — once something notifies (the admin freezes a member) — the
// delivery log shows the delivery delivered with its attempt; a replay from the console delivers it again under the same
// `webhook-id`; every delivery's signature checks out with the Standard Webhooks algorithm (HMAC-SHA256 over
// `id.timestamp.body`, keyed by the secret after `whsec_`); a rotation shows a new secret once and both sign meanwhile.
import assert from "node:assert/strict";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { ANVIL_KEYS, Api, BASE, BNB, freshKey, openBrowser, registerDirectly, signInThroughPage, test, until } from "./lib/stack.mjs";
import { assertAccessible } from "./lib/page-checks.mjs";

/** A webhook receiver on 127.0.0.1: every request kept (headers and raw body), answered 200. */
async function receiver() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { received, port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

/** Whether one of the `v1,<base64>` signatures in `header` is the HMAC-SHA256 of `id.timestamp.body` under `secret`. */
function signedBy(secret, { headers, body }) {
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`).digest();
  return (headers["webhook-signature"] ?? "").split(" ").some((s) => {
    const [version, b64] = s.split(",");
    const got = Buffer.from(b64 ?? "", "base64");
    return version === "v1" && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

test("the admin creates a webhook endpoint, sees its secret once, and its deliveries are logged, signed and replayed", async () => {
  const hook = await receiver();
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const member = await registerDirectly(await freshKey(), admin.address, BNB);
  const path = `/hook-${randomBytes(4).toString("hex")}`;
  const url = `http://127.0.0.1:${hook.port}${path}`;
  const b = await openBrowser({ key: ANVIL_KEYS[0] });
  const { page } = b;
  try {
    await page.goto(BASE + "/admin#webhooks");
    await signInThroughPage(page);
    const section = page.getByTestId("webhooks");
    await section.waitFor();
    assert.equal(await page.locator("main h2").first().innerText(), "Webhooks");

    // Create: the URL, a note and two kinds (the account frozen and unfrozen), confirmed.
    const form = page.getByTestId("webhook-new");
    await form.getByTestId("webhook-url-input").fill(url);
    await form.getByTestId("webhook-description-input").fill("test 35 receiver");
    for (const kind of ["account.frozen", "account.unfrozen"]) await form.locator(`[data-testid=webhook-kind][value="${kind}"]`).check();
    await form.getByTestId("webhook-create").click();
    await page.locator("dialog.confirm").getByTestId("confirm-ok").click();

    // The secret, once, with a copy button and the warning.
    const panel = page.getByTestId("webhook-secret-panel");
    await panel.waitFor();
    const secret = await panel.getByTestId("webhook-secret").innerText();
    assert.match(secret, /^whsec_/);
    assert.match(await panel.innerText(), /shown only this once/);
    assert.equal(await panel.getByRole("button", { name: "Copy the secret" }).count(), 1);
    const id = Number(await panel.getAttribute("data-endpoint"));
    const row = page.locator(`[data-testid=webhook-row][data-id="${id}"]`);
    await row.waitFor();
    assert.equal(await row.getByTestId("webhook-url").innerText(), url);
    assert.equal(await row.getAttribute("data-enabled"), "true");
    await b.screenshot("35-secret-once");
    await panel.getByTestId("webhook-secret-done").click();
    await until("the secret gone from the page", async () => !(await page.content()).includes(secret));
    const listed = await admin.get("/v1/admin/webhooks");
    assert.ok(!JSON.stringify(listed).includes(secret), "the API never lists the secret");
    assert.deepEqual(listed.endpoints.find((e) => e.id === id).kinds, ["account.frozen", "account.unfrozen"]);

    // Something notifies: the admin freezes the member (and unfreezes them again).
    await admin.post(`/v1/admin/users/${member.address}/freeze`, { asset_id: BNB, reason: "test 35: a webhook delivery" });
    await admin.post(`/v1/admin/users/${member.address}/unfreeze`, { asset_id: BNB, reason: "test 35" });
    const frozen = await until("the member's account.frozen notification", async () =>
      (await member.get("/v1/users/notifications?limit=20")).items.find((n) => n.kind === "account.frozen"),
    );
    const first = await until("the receiver got the account.frozen delivery", async () =>
      hook.received.find((r) => r.url === path && r.headers["webhook-id"] === frozen.id),
    );
    assert.equal(first.method, "POST");
    assert.equal(first.headers["content-type"], "application/json");
    assert.ok(signedBy(secret, first), `the signature ${first.headers["webhook-signature"]} checks out`);
    const body = JSON.parse(first.body);
    assert.equal(body.type, "account.frozen");
    assert.ok(Math.abs(Number(first.headers["webhook-timestamp"]) - Date.now() / 1000) < 600, "a current timestamp");

    // The delivery log shows it delivered, with its attempt.
    await row.getByTestId("webhook-log-toggle").click();
    const log = page.getByTestId("webhook-log");
    await log.waitFor();
    const delivery = log.locator(`[data-testid=webhook-delivery][data-id="${frozen.id}"]`);
    await until("the delivery logged as delivered", async () => (await delivery.getAttribute("data-status").catch(() => null)) === "delivered", { timeout: 30_000 });
    assert.match(await delivery.getByTestId("webhook-delivery-status").innerText(), /delivered/);
    await delivery.getByTestId("webhook-attempts-toggle").click();
    const attempt = log.getByTestId("webhook-attempt").first();
    await attempt.waitFor();
    assert.equal(await attempt.getAttribute("data-status"), "200");
    assert.match(await attempt.innerText(), /HTTP 200 in \d+ ms/);
    await b.screenshot("35-delivery-log");
    await assertAccessible(page, "the Webhooks tab with a delivery log");

    // Replay: the same webhook-id again, signed again.
    const before = hook.received.filter((r) => r.headers["webhook-id"] === frozen.id).length;
    await delivery.getByTestId("webhook-replay").click();
    await page.locator("dialog.confirm").getByTestId("confirm-ok").click();
    await log.getByTestId("webhook-replayed").waitFor();
    const again = await until("the replayed delivery received", async () => {
      const all = hook.received.filter((r) => r.headers["webhook-id"] === frozen.id);
      return all.length > before && all[all.length - 1];
    });
    assert.equal(again.headers["webhook-id"], first.headers["webhook-id"]);
    assert.equal(JSON.parse(again.body).type, "account.frozen");
    assert.ok(signedBy(secret, again), "the replay is signed too");
    await until("the log shows two attempts", async () => Number(await delivery.getByTestId("webhook-delivery-attempts").innerText().catch(() => "0")) >= 2, { timeout: 30_000 });

    // Rotate: a new secret, shown once; during the overlap a delivery carries both signatures.
    await row.getByTestId("webhook-rotate").click();
    await page.locator("dialog.confirm").getByTestId("confirm-ok").click();
    await panel.waitFor();
    const rotated = await panel.getByTestId("webhook-secret").innerText();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    assert.match(await panel.innerText(), new RegExp(`New signing secret of endpoint ${id}`));
    await panel.getByTestId("webhook-secret-done").click();
    const count = hook.received.filter((r) => r.headers["webhook-id"] === frozen.id).length;
    await delivery.getByTestId("webhook-replay").click();
    await page.locator("dialog.confirm").getByTestId("confirm-ok").click();
    const third = await until("the delivery after the rotation received", async () => {
      const all = hook.received.filter((r) => r.headers["webhook-id"] === frozen.id);
      return all.length > count && all[all.length - 1];
    });
    assert.ok(signedBy(rotated, third), "signed with the new secret");
    assert.ok(signedBy(secret, third), "and with the previous one during the overlap");

    // Disable it (the devnet keeps no endpoint of a finished test enabled).
    await row.getByTestId("webhook-toggle").click();
    await page.locator("dialog.confirm").getByTestId("confirm-ok").click();
    await until("the endpoint disabled", async () => (await row.getAttribute("data-enabled")) === "false");
    assert.match(await row.getByTestId("webhook-state").innerText(), /disabled/);
    await b.close();
  } finally {
    await hook.close();
    // Whatever happened, no endpoint of this test stays enabled.
    const left = (await admin.get("/v1/admin/webhooks")).endpoints.filter((e) => e.url === url && e.enabled);
    for (const e of left) await Api.raw("PATCH", `/v1/admin/webhooks/${e.id}`, { enabled: false }, admin.token);
  }
});
