// Members' notifications (issue 49): a demo member who was paid sees the unread badge in the header, opens the
// notification centre (loaded on demand) and finds the payout with what was owed, the fee and what was sent and its
// transaction on the chain's explorer; opening one marks it read, "mark all read" clears the badge. E-mail, double
// opt-in: a member sets an address, the confirmation e-mail arrives in the devnet's Maildir, its link confirms it in
// the browser; a notification of a kind they chose is then e-mailed, and its unsubscribe link unsubscribes only when
// the page's button is pressed (RFC 8058), in a browser with no wallet.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ANVIL_KEYS, Api, BASE, BNB, freshKey, openBrowser, registerDirectly, signInThroughPage, test, until } from "./lib/stack.mjs";
import { delivered, linkTo, waitForMail } from "./lib/mail.mjs";
import { assertAccessible, speak } from "./lib/page-checks.mjs";

/** An explorer for the devnet's chains (it configures none), so that transactions link somewhere to check. */
const EXPLORER = "https://explorer.example";

/** Serves `/v1/public/chains` with an explorer on every chain, as a deployment configures it. */
async function withExplorer(page) {
  await page.route("**/v1/public/chains", async (route) => {
    const res = await route.fetch();
    const table = await res.json();
    for (const c of table.chains) c.explorer_url = EXPLORER;
    await route.fulfill({ response: res, json: table });
  });
}

/** Every notification of `api`'s wallet, newest first (all pages). */
async function allNotifications(api) {
  const items = [];
  let cursor;
  for (;;) {
    const page = await api.get(`/v1/users/notifications?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    items.push(...page.items);
    if (page.next_cursor == null) return { items, unread: page.unread };
    cursor = page.next_cursor;
  }
}

test("a paid member sees the unread badge, the payout with its figures and explorer link, and mark all read clears it", async () => {
  // Account 2 of the devnet's demo: registered, rewarded and paid in BNB (`devnet-demo payout`).
  const member = await Api.signIn(ANVIL_KEYS[2]);
  let { items, unread } = await allNotifications(member);
  const paid = items.find((n) => n.kind === "payout.paid" && n.asset_id === BNB);
  assert.ok(paid, `the demo paid account 2 in BNB: ${items.map((n) => n.kind).join(", ")}`);
  if (unread === 0) {
    // An earlier run read everything: the admin freezes and unfreezes the member for a moment (two notifications).
    const admin = await Api.signIn(ANVIL_KEYS[0]);
    await admin.post(`/v1/admin/users/${member.address}/freeze`, { asset_id: BNB, reason: "test 34: a notification to read" });
    await admin.post(`/v1/admin/users/${member.address}/unfreeze`, { asset_id: BNB, reason: "test 34" });
    unread = await until("the member has unread notifications", async () => (await member.get("/v1/users/notifications?limit=1")).unread);
  }

  const b = await openBrowser({ key: ANVIL_KEYS[2] });
  const { page } = b;
  await withExplorer(page);
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(BASE + "/");
  await page.getByTestId("disclosure").first().waitFor();
  assert.ok(!requests.some((u) => /\/Notifications-[\w-]+\.js$/.test(u)), "a visitor's page loads none of the notifications");
  await signInThroughPage(page);
  const badge = page.getByTestId("notification-badge");
  await badge.waitFor();
  assert.ok(Number(await badge.getAttribute("data-count")) >= 1, "the badge counts the unread");
  assert.equal(await badge.innerText(), String(await badge.getAttribute("data-count")));

  // The centre, loaded on demand.
  await page.getByTestId("nav-notifications").click();
  await page.getByTestId("notifications").waitFor();
  assert.ok(requests.some((u) => /\/Notifications-[\w-]+\.js$/.test(u)), "the centre's chunk is loaded when opened");
  await page.getByTestId("notification").first().waitFor();
  // Newest first: the page's order is the API's (which may have more by now: the proof of solvency's news).
  const shownIds = await page.getByTestId("notification").evaluateAll((els) => els.map((e) => e.dataset.id));
  const apiIds = (await allNotifications(member)).items.map((n) => n.id);
  const positions = shownIds.map((id) => apiIds.indexOf(id));
  assert.ok(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])), `newest first: ${positions.join(",")}`);

  // The BNB payout, perhaps a few pages down ("load more").
  const row = page.locator(`[data-testid=notification][data-id="${paid.id}"]`);
  await until("the payout notification shown", async () => {
    if ((await row.count()) > 0) return true;
    await page.getByTestId("notes-more").click();
    return false;
  }, { timeout: 60_000, every: 500 });
  await row.scrollIntoViewIfNeeded();
  // Whole BNB of a base-unit amount (which payout this is depends on the tests before: its figures come from the API).
  const bnb = (base) => {
    const v = BigInt(base);
    const fraction = (v % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
    return `${v / 10n ** 18n}${fraction ? `.${fraction}` : ""} BNB`;
  };
  const [gross, fee, net] = [bnb(paid.data.gross), bnb(paid.data.fee), bnb(paid.data.net)];
  const text = await row.getByTestId("notification-text").innerText();
  assert.ok(text.includes(`Payout batch ${paid.data.batch_id} paid ${net} to your wallet at block ${paid.data.block_number}.`), text);
  assert.equal(await row.getByTestId("notification-gross").getAttribute("data-base"), paid.data.gross);
  assert.equal(await row.getByTestId("notification-fee").getAttribute("data-base"), paid.data.fee);
  assert.equal(await row.getByTestId("notification-net").getAttribute("data-base"), paid.data.net);
  assert.equal(await row.getByTestId("notification-payout").innerText(), `Owed ${gross}, fee ${fee}, sent ${net}.`);
  const link = row.getByTestId("notification-link");
  assert.equal(await link.getAttribute("href"), `${EXPLORER}/tx/${paid.data.tx_hash}`);
  assert.equal(await link.getAttribute("target"), "_blank");
  assert.match(await link.getAttribute("rel"), /noopener/);
  await b.screenshot("34-notifications");
  await assertAccessible(page, "the notification centre");

  // Opening it marks it read (if an earlier run had not).
  if ((await row.getAttribute("data-read")) === "false") {
    const before = Number(await badge.getAttribute("data-count"));
    await row.getByTestId("notification-text").click();
    await until("the payout marked read", async () => (await row.getAttribute("data-read")) === "true");
    const after = (await allNotifications(member)).items.find((n) => n.id === paid.id);
    assert.equal(after.read, true, "the API has it read");
    if (before > 1) await until("the badge counts one less", async () => Number(await badge.getAttribute("data-count")) <= before - 1);
  }

  // Mark all read: the badge goes, every notification shown is read, and the API agrees.
  await page.getByTestId("mark-all-read").click();
  await until("the badge cleared", async () => (await badge.count()) === 0);
  await until("every notification shown read", async () => (await page.locator("[data-testid=notification][data-read=false]").count()) === 0);
  const seen = new Set(await page.getByTestId("notification").evaluateAll((els) => els.map((e) => e.dataset.id)));
  const after = await allNotifications(member);
  assert.deepEqual(after.items.filter((n) => seen.has(n.id) && !n.read).map((n) => n.id), [], "the API has every one shown read");
  await b.close();
});

test("news is off by default: one line names each asset's latest proof, the filters bring news back, the badge never counts it", async () => {
  const member = await Api.signIn(ANVIL_KEYS[2]);
  // The devnet commits a proof of solvency every few blocks: news of every asset account 2 holds.
  const first = await until("a proof of solvency committed", async () => {
    const p = await member.get("/v1/users/notifications?limit=100");
    return p.latest_news.length > 0 ? p : null;
  });
  assert.deepEqual(first.items.filter((n) => n.kind === "solvency.committed"), [], "no news among the default groups");
  assert.ok(first.latest_news.every((n) => n.kind === "solvency.committed" && n.news), JSON.stringify(first.latest_news));
  assert.equal(new Set(first.latest_news.map((n) => n.asset_id)).size, first.latest_news.length, "one line per asset");
  assert.equal(first.unread, first.unread_by_group.money + first.unread_by_group.account);
  const news = await member.get("/v1/users/notifications?limit=5&groups=news");
  assert.ok(news.items.length > 0 && news.items.every((n) => n.kind === "solvency.committed"), JSON.stringify(news.items.map((n) => n.kind)));
  assert.equal(news.unread, news.unread_by_group.news);
  // An unknown group is a bad query; a list longer than any real one is refused for its length, before it is read.
  for (const [bad, status] of [["gossip", 400], ["money,", 400], ["x".repeat(40), 422]]) {
    const r = await Api.raw("GET", `/v1/users/notifications?groups=${encodeURIComponent(bad)}`, undefined, member.token);
    assert.equal(r.status, status, bad);
    assert.equal(r.body.error.code, "invalid_query", bad);
  }

  for (const locale of ["en", "ar"]) {
    const b = await openBrowser({ key: ANVIL_KEYS[2] });
    const { page } = b;
    await speak(b, locale);
    await page.goto(BASE + "/#notifications");
    await signInThroughPage(page);
    const latest = page.getByTestId("latest-proof");
    await latest.first().waitFor();
    const answer = await member.get("/v1/users/notifications?limit=1");
    assert.ok((await latest.count()) >= 1 && (await latest.count()) <= answer.latest_news.length + 1);
    const line = await latest.first().innerText();
    // The asset with its network ("BNB · Devnet (anvil)"): one symbol may be on two networks.
    assert.match(line, / · \S/, line);
    if (locale === "ar") {
      assert.equal(await page.locator("html").getAttribute("dir"), "rtl");
      assert.ok(!/Latest proof|epoch/.test(line), `Arabic, not English: ${line}`);
    }
    await page.getByTestId("notification").first().waitFor();
    assert.equal(await page.locator('[data-testid=notification][data-kind="solvency.committed"]').count(), 0, "news off");
    // The header's badge: money and account only, whatever news arrives.
    const badge = page.getByTestId("notification-badge");
    if ((await badge.count()) > 0) {
      const counted = Number(await badge.getAttribute("data-count"));
      const now = await member.get("/v1/users/notifications?limit=1");
      assert.ok(counted <= now.unread_by_group.money + now.unread_by_group.account + 1, `${counted} vs ${JSON.stringify(now.unread_by_group)}`);
    }
    // News on: the proofs are listed, and the one line goes.
    await page.getByTestId("notes-group-news").check();
    await until("news listed", async () => (await page.locator('[data-testid=notification][data-kind="solvency.committed"]').count()) > 0);
    assert.equal(await page.getByTestId("notes-latest-news").count(), 0);
    // Money off: no payout, payment or reward is listed.
    await page.getByTestId("notes-group-money").uncheck();
    await until("only account and news", async () => {
      const kinds = await page.getByTestId("notification").evaluateAll((els) => els.map((e) => e.dataset.kind));
      return kinds.length > 0 && kinds.every((k) => ["solvency.committed", "rank.reached", "account.frozen", "account.unfrozen"].includes(k));
    });
    await b.screenshot(`34-notifications-filters-${locale}`);
    await b.close();
  }
});

test("e-mail: set in the dApp, confirmed from the e-mail's link, a chosen kind e-mailed, unsubscribed only by the button", async () => {
  const admin = await Api.signIn(ANVIL_KEYS[0]);
  const key = await freshKey();
  const member = await registerDirectly(key, admin.address, BNB);
  const address = `member-${randomBytes(5).toString("hex")}@example.test`;

  const b = await openBrowser({ key });
  const { page } = b;
  await page.goto(BASE + "/#notifications");
  await signInThroughPage(page);
  const settings = page.getByTestId("email-settings");
  await settings.getByTestId("email-status").waitFor();
  assert.equal(await settings.getByTestId("email-status").getAttribute("data-state"), "none");
  // The member's registration is there already.
  await page.locator("[data-testid=notification][data-kind='payment.applied']").first().waitFor();

  // The address, the e-mails' language and two kinds: the account frozen and unfrozen.
  await settings.getByTestId("email-input").fill("not an address");
  assert.ok(await settings.getByTestId("email-save").isDisabled(), "no save with an invalid address");
  await settings.getByTestId("email-input").fill(address);
  const languages = await settings.getByTestId("email-language").locator("option").evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual([...languages].sort(), ["ar", "en", "es", "hi", "id", "pt"]);
  await settings.getByTestId("email-language").selectOption("es");
  const kinds = settings.getByTestId("email-kind");
  for (const box of await kinds.all()) {
    const kind = await box.getAttribute("value");
    if (["account.frozen", "account.unfrozen"].includes(kind)) await box.check();
    else await box.uncheck();
  }
  assert.match(await settings.getByTestId("email-kinds").innerText(), /My account frozen/);
  await settings.getByTestId("email-save").click();
  const inbox = settings.getByTestId("email-check-inbox");
  await inbox.waitFor();
  assert.match(await inbox.innerText(), new RegExp(`Check your inbox at ${address.replace(/[.+]/g, "\\$&")}`));
  await until("the address shown unconfirmed", async () => (await settings.getByTestId("email-status").getAttribute("data-state")) === "unconfirmed");
  assert.match(await settings.getByTestId("email-address").innerText(), /•/, "the address is shown masked");
  const set = await member.get("/v1/users/email");
  assert.deepEqual({ confirmed: set.confirmed, language: set.language, kinds: [...set.kinds].sort() }, {
    confirmed: false,
    language: "es",
    kinds: ["account.frozen", "account.unfrozen"],
  });

  // The confirmation e-mail, in Spanish, and its link opened in the browser.
  const confirmation = await waitForMail(address, "the confirmation e-mail", (m) => linkTo(m, "email-confirm") !== null);
  assert.equal(confirmation.subject, "Confirma tu dirección de correo");
  const confirm = linkTo(confirmation, "email-confirm");
  assert.ok(confirm.url.startsWith(`${BASE}/#email-confirm=`), confirm.url);
  await page.goto(confirm.url);
  const result = page.getByTestId("email-confirm-result");
  await result.waitFor();
  assert.match(await result.innerText(), /^Confirmed: .+ will receive the notifications you chose\.$/);
  assert.equal(await result.locator("[data-state]").getAttribute("data-state"), "done");
  await page.getByTestId("to-notifications").click();
  await until("the settings show the address confirmed", async () => (await page.getByTestId("email-status").getAttribute("data-state")) === "confirmed");
  assert.equal((await member.get("/v1/users/email")).confirmed, true);
  await b.screenshot("34-email-confirmed");
  await b.close();

  // A chosen kind happens: the admin freezes the member; its e-mail arrives (in Spanish), with an unsubscribe link.
  const seen = delivered(address);
  await admin.post(`/v1/admin/users/${member.address}/freeze`, { asset_id: BNB, reason: "test 34: an e-mailed notification" });
  let notice;
  try {
    notice = await waitForMail(address, "the account.frozen e-mail", (m) => linkTo(m, "email-unsubscribe") !== null, { seen });
  } finally {
    await admin.post(`/v1/admin/users/${member.address}/unfreeze`, { asset_id: BNB, reason: "test 34" });
  }
  assert.equal(notice.subject, "Tu cuenta fue congelada");
  assert.match(notice.headers["list-unsubscribe"] ?? "", /\/v1\/public\/email\/unsubscribe\?token=/);
  assert.equal(notice.headers["list-unsubscribe-post"], "List-Unsubscribe=One-Click");
  const unsubscribe = linkTo(notice, "email-unsubscribe");
  assert.ok(unsubscribe.url.startsWith(`${BASE}/#email-unsubscribe=`), unsubscribe.url);

  // Opened in a browser with no wallet: the page alone unsubscribes nothing; the button does.
  const reader = await openBrowser();
  const r = reader.page;
  await r.goto(unsubscribe.url);
  const button = r.getByTestId("email-unsubscribe");
  await button.waitFor();
  assert.equal((await member.get("/v1/users/email")).unsubscribed, false, "loading the page unsubscribes nothing");
  await button.click();
  const done = r.getByTestId("email-unsubscribe-result");
  await done.waitFor();
  assert.match(await done.innerText(), /^Done: no more e-mails are sent to .+\.$/);
  const after = await member.get("/v1/users/email");
  assert.equal(after.unsubscribed, true);
  await reader.screenshot("34-unsubscribed");

  // A link that is not one: said so, without a wallet either.
  await r.goto(`${BASE}/#email-confirm=not-a-token`);
  const invalid = r.getByTestId("email-confirm-result");
  await invalid.waitFor();
  assert.equal(await invalid.locator("[data-state]").getAttribute("data-state"), "invalid");
  await reader.close([/http (400|422) POST .*\/v1\/public\/email\/confirm/]);
});
