// Checks of a page as people and their tools see it (and the browser's language, as its settings would give it): axe-core's accessibility rules (serious and critical findings
// fail), and a QR code decoded from its pixels by jsQR (what a phone's camera would read). Both scripts come from
// node_modules and are evaluated in the page under test (through the DevTools protocol, so the page's CSP allows them);
// nothing is fetched.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const JSQR = readFileSync(require.resolve("jsqr/dist/jsQR.js"), "utf8");

/** Runs axe on the page as it is now; fails listing every serious or critical violation. */
export async function assertAccessible(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(`${AXE}\n;0`);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  assert.deepEqual(violations, [], `${what}: axe found ${JSON.stringify(violations)}`);
}

/** The text the QR code drawn by `svg` (a locator of an <svg>) encodes, read from its pixels. */
export async function decodeQr(page, svg) {
  if (!(await page.evaluate(() => typeof window.jsQR === "function"))) await page.evaluate(`${JSQR}\n;0`);
  return svg.evaluate(async (el) => {
    const xml = new XMLSerializer().serializeToString(el);
    const img = new Image();
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(xml);
    await img.decode();
    const size = 400;
    const canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, size, size);
    ctx.drawImage(img, 0, 0, size, size);
    const data = ctx.getImageData(0, 0, size, size);
    return window.jsQR(data.data, size, size)?.data ?? null;
  });
}

/** The browser's language, as its settings would give it: Intl's default locale and navigator.languages. */
export async function speak(b, locale) {
  const cdp = await b.context.newCDPSession(b.page);
  await cdp.send("Emulation.setLocaleOverride", { locale });
  const userAgent = await b.page.evaluate(() => navigator.userAgent);
  await cdp.send("Network.setUserAgentOverride", { userAgent, acceptLanguage: locale });
}

/**
 * Every label of the figure grids inside `scope` (`dl.figures`, `dl.balances`) with its value(s) in one cell: the
 * grid flows cells, so a `dt` and its `dd` that are cells of their own land in different columns at some width (issue
 * 66: "2950 GUSDT" under "Paid in"). Checks the DOM (one `dt` per cell, its `dd` beside it in the cell) and the
 * geometry (the value drawn inside its label's cell, under the label). Returns the number of pairs checked.
 */
export async function assertFiguresPaired(scope, what) {
  const found = await scope.locator("dl.figures, dl.balances").evaluateAll((lists) =>
    lists.flatMap((dl) =>
      [...dl.querySelectorAll("dt")].map((dt) => {
        const cell = dt.parentElement;
        const dds = cell === dl ? [] : [...cell.children].filter((c) => c.tagName === "DD");
        const box = (e) => e.getBoundingClientRect();
        const c = box(cell);
        const inside = dds.every((dd) => {
          const d = box(dd);
          return d.left >= c.left - 1 && d.right <= c.right + 1 && d.top >= box(dt).bottom - 1 && d.bottom <= c.bottom + 1;
        });
        return { label: dt.textContent, own: cell !== dl && cell.querySelectorAll("dt").length === 1, dds: dds.length, inside };
      }),
    ),
  );
  const wrong = found.filter((f) => !f.own || f.dds === 0 || !f.inside);
  if (found.length === 0 || wrong.length) {
    throw new Error(`${what}: ${found.length} labels; not beside their values: ${JSON.stringify(wrong)}`);
  }
  return found.length;
}

// ── No English in another language (as test 38 checks whole pages, here for a part of one) ──────────────────────────

/** Every surface's catalogues (src/i18n/{,member/,solvency/,exit/,console/}<code>.js). */
const SURFACES = ["", "member/", "solvency/", "exit/", "console/"];
/** The shortest piece of an English message looked for: shorter ones ("Retry", "Cancel") may be a language's own word. */
const MIN_PIECE = 12;
const catalogue = async (surface, code) => (await import(new URL(`../../src/i18n/${surface}${code}.js`, import.meta.url).href)).default;
const forms = (m) => (typeof m === "string" ? [m] : Object.values(m));
/** Whitespace as one space, case folded: `innerText` collapses spaces and follows `text-transform`. */
export const normal = (s) => s.replace(/\s+/g, " ").trim().toLowerCase();

/** A message of `code`'s catalogues, as the page words it (its `{name}`s filled from `vars`; `count` picks the form). */
export async function message(code, key, vars = {}) {
  for (const surface of SURFACES) {
    const all = await catalogue(surface, code);
    if (!(key in all)) continue;
    let m = all[key];
    if (typeof m !== "string") m = m[new Intl.PluralRules(code).select(Number(vars.count ?? 0))] ?? m.other;
    return m.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  }
  throw new Error(`no catalogue has "${key}"`);
}

let pieces = null;
/** Every piece (between placeholders) of every English message, of MIN_PIECE characters or more, with its key. */
export async function englishPieces() {
  if (pieces) return pieces;
  pieces = new Map();
  for (const surface of SURFACES) {
    for (const [key, m] of Object.entries(await catalogue(surface, "en"))) {
      for (const form of forms(m))
        for (const part of form.split(/\{\w+\}/)) {
          const piece = normal(part);
          if (piece.length >= MIN_PIECE && !pieces.has(piece)) pieces.set(piece, `${surface}en.js "${key}"`);
        }
    }
  }
  return pieces;
}

/** Every message of `code`'s catalogues as one text: a piece found in it is the language's own too (a brand, a name). */
export async function ownText(code) {
  const all = [];
  for (const surface of SURFACES) for (const m of Object.values(await catalogue(surface, code))) all.push(...forms(m));
  return normal(all.join("\n"));
}

/**
 * Fails naming every piece of an English catalogue message (12 characters or more, and not one the language's own
 * catalogues carry too) that `scope` (a locator) shows in `code`: its text, and the labels a screen reader reads inside
 * it (aria-label, title, placeholder). Returns the text it read.
 */
export async function assertNoEnglishIn(scope, code, what) {
  const text = await scope.evaluate((root) => {
    const labels = [root, ...root.querySelectorAll("[aria-label], [title], [placeholder]")].flatMap((e) =>
      ["aria-label", "title", "placeholder"].map((a) => e.getAttribute(a)).filter(Boolean),
    );
    return [root.innerText, ...labels].join("\n");
  });
  const shown = normal(text);
  const [english, own] = [await englishPieces(), await ownText(code)];
  const found = [...english].filter(([piece]) => shown.includes(piece) && !own.includes(piece)).map(([piece, from]) => `"${piece}" (${from})`);
  assert.deepEqual(found, [], `${what} in ${code} shows English: ${found.join("; ")}\n${text}`);
  return text;
}
