// What the exit page's tests share (tests/23-exit-saved-proofs.test.mjs, tests/exit/exit-drill.test.mjs): the built
// page as a file:// URL, the dApp's kept proof downloaded from the "Proof of solvency" page, the exit page driven
// through its labels and test ids, and the exit contract read straight from the chain (its opening, claim window and
// claims).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { until } from "./poll.mjs";

const ROOT = new URL("../../../../", import.meta.url).pathname;
/** The built exit page, one self-contained file (vite.exit.config.ts). */
export const EXIT_FILE = new URL("../../dist/exit.html", import.meta.url).pathname;
export const EXIT_URL = pathToFileURL(EXIT_FILE).href;
if (!existsSync(EXIT_FILE)) throw new Error(`${EXIT_FILE} is missing: build the web front (cd backend/web && npm run build)`);

const artifact = (name) => JSON.parse(readFileSync(join(ROOT, "abi/artifacts", `${name}.json`), "utf8")).abi;
export const SETTLEMENT_ABI = artifact("Settlement");
export const EXIT_ABI = artifact("SettlementExit");

/** What a test's `close()` lets through on the exit page: the page's own file:// URL, and nothing else. */
export const EXIT_PAGE_ALLOW = [new RegExp(`^other origin: ${EXIT_URL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`)];

/** A folder for the proof files a test downloads, removed when the test process ends. */
export function downloads() {
  const dir = mkdtempSync(join(tmpdir(), "referral-exit-proofs-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The Settlement's exit contract and its exit period, read from the chain. */
export async function exitOf(client, settlement) {
  const exits = await client.readContract({ address: settlement, abi: SETTLEMENT_ABI, functionName: "exits" });
  const exitAfter = await client.readContract({ address: settlement, abi: SETTLEMENT_ABI, functionName: "exitAfter" });
  return { exits, exitAfter };
}

/** `opening(token)` of the exit contract, by name. */
export async function openingOf(client, exits, token) {
  const [open, epoch, root, total, owed, custody, batchesToFold, paid] = await client.readContract({ address: exits, abi: EXIT_ABI, functionName: "opening", args: [token] });
  return { open, epoch, root, total, owed, custody, batchesToFold, paid };
}

/** `claimWindow(token)` of the exit contract, by name (contracts/EXIT.md §13). */
export async function claimWindowOf(client, exits, token) {
  const [end, closed, proven, surplus, surplusReturned] = await client.readContract({ address: exits, abi: EXIT_ABI, functionName: "claimWindow", args: [token] });
  return { end: BigInt(end), closed, proven, surplus, surplusReturned };
}

/** `claimOf(token, member)` of the exit contract, by name: the due recorded (0: no claim), where it is paid, whether it was. */
export async function claimOf(client, exits, token, member) {
  const [due, to, paid] = await client.readContract({ address: exits, abi: EXIT_ABI, functionName: "claimOf", args: [token, member] });
  return { due, to, paid };
}

/** The badge of a dashboard card once settled; it kept the proof in the browser (`solvency-saved`). */
export async function keptByBadge(page, cardId, { timeout = 150_000 } = {}) {
  const badge = page.getByTestId(cardId).getByTestId("solvency-check");
  await until(`the ${cardId} check settled`, async () => {
    const state = (await badge.count()) ? await badge.getAttribute("data-state") : null;
    return state && state !== "checking" && state;
  }, { timeout });
  const saved = badge.getByTestId("solvency-saved");
  assert.equal(await saved.count(), 1, `the ${cardId} badge kept its proof: ${await badge.innerText()}`);
  assert.equal(await saved.getAttribute("data-saved"), "true", await saved.innerText());
  assert.equal(await saved.getAttribute("data-epoch"), await badge.getAttribute("data-epoch"), "the proof of the epoch checked");
  return { badge, epoch: Number(await badge.getAttribute("data-epoch")), savedAt: Number(await saved.getAttribute("data-saved-at")) };
}

/** The dApp's IndexedDB of kept proofs, as page script reads it. */
export const keptInBrowser = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const r = indexedDB.open("referral-proofs", 1);
        r.onupgradeneeded = () => r.result.createObjectStore("proofs", { keyPath: "key" });
        r.onerror = () => reject(r.error);
        r.onsuccess = () => {
          const all = r.result.transaction("proofs").objectStore("proofs").getAll();
          all.onsuccess = () => {
            resolve(all.result);
            r.result.close();
          };
          all.onerror = () => reject(all.error);
        };
      }),
  );

/** The key a proof is kept under (lib/proof-store.ts). */
export const keptKey = (p) => `${p.chain_id}:${p.contract}:${p.token}:${p.user}`.toLowerCase();

/**
 * On the dApp's "Proof of solvency" page: the kept proof of `key` downloaded from the list of kept proofs (no API
 * asked); its file's path and JSON.
 */
export async function downloadKept(page, key, dir) {
  const row = page.getByTestId("saved-proofs").locator(`[data-key="${key}"]`);
  await row.waitFor({ timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent("download"), row.getByTestId("saved-proof-download").click()]);
  const json = JSON.parse(readFileSync(await download.path(), "utf8"));
  const file = join(dir, download.suggestedFilename());
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return { file, json, name: download.suggestedFilename() };
}

/** The exit page from its file, a wallet connected (`evm`: the injected test wallet; `tron`: the TronLink stand-in). */
export async function openExitPage(page, kind) {
  await page.goto(EXIT_URL);
  await page.getByRole("heading", { name: "Members' exit" }).waitFor();
  const button = kind === "tron" ? page.getByTestId("exit-connect-tron") : page.getByTestId("exit-connect-evm").first();
  await button.waitFor({ timeout: 10_000 });
  await button.click();
  await page.getByTestId("exit-wallet").waitFor({ timeout: 10_000 });
}

/** The state the page shows once it has read the chain. */
export async function exitState(page) {
  const state = page.getByTestId("exit-state");
  await state.waitFor({ timeout: 60_000 });
  const attr = async (name) => state.getAttribute(`data-${name}`);
  return {
    open: (await attr("open")) === "true",
    due: (await attr("due")) === "true",
    opensAt: BigInt(await attr("opens-at")),
    batchesToFold: await attr("batches-to-fold"),
    owed: BigInt(await attr("owed")),
    custody: BigInt(await attr("custody")),
    epoch: BigInt(await attr("epoch")),
    paid: BigInt(await attr("paid")),
    windowEnd: BigInt(await attr("window-end")),
    windowClosed: (await attr("window-closed")) === "true",
    proven: BigInt(await attr("proven")),
    surplus: BigInt(await attr("surplus")),
    surplusReturned: (await attr("surplus-returned")) === "true",
    text: await state.innerText(),
  };
}

/** Until the page's state says `what` (re-read by its own button after each try). */
export async function untilState(page, what, f, { timeout = 90_000 } = {}) {
  return until(what, async () => {
    const s = await exitState(page);
    if (f(s)) return s;
    const again = page.getByTestId("exit-refresh");
    if (await again.isEnabled()) await again.click();
    return false;
  }, { timeout, every: 1000 });
}
