#!/usr/bin/env node
// The language catalogues (src/i18n/*.js) against English's and against the code: fails, listing every key a
// catalogue misses or has extra, every message whose {placeholders} differ from English's, every plural message
// without its `other` form, and every key used in src (t("…"), tx("…")) that English lacks.
//   node scripts/check-catalogues.mjs        (npm run i18n:check)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const web = fileURLToPath(new URL("..", import.meta.url));
const dir = join(web, "src/i18n");
const LANGUAGES = ["en", "es", "pt", "hi", "id", "ar"];
const problems = [];

const catalogues = {};
for (const code of LANGUAGES) {
  catalogues[code] = (await import(pathToFileURL(join(dir, `${code}.js`)).href)).default;
}
const en = catalogues.en;

const forms = (m) => (typeof m === "string" ? [m] : Object.values(m ?? {}));
const placeholders = (text) => new Set([...text.matchAll(/\{(\w+)\}/g)].map((x) => x[1]));
/** The placeholders of a message: every name any of its forms uses. */
const names = (m) => new Set(forms(m).flatMap((f) => [...placeholders(f)]));
const same = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

for (const [code, cat] of Object.entries(catalogues)) {
  for (const [key, m] of Object.entries(cat)) {
    if (typeof m !== "string" && (typeof m !== "object" || typeof m.other !== "string")) problems.push(`${code}.js: "${key}" is neither a string nor plural forms with "other"`);
  }
  if (code === "en") continue;
  for (const key of Object.keys(en)) if (!(key in cat)) problems.push(`${code}.js misses "${key}"`);
  for (const key of Object.keys(cat)) if (!(key in en)) problems.push(`${code}.js has "${key}", which en.js has not`);
  for (const key of Object.keys(en)) {
    if (!(key in cat)) continue;
    const want = names(en[key]);
    const have = names(cat[key]);
    // A plural form may name its number in words ("one participant"): the forms together use English's names.
    if (!same(want, have)) problems.push(`${code}.js "${key}": placeholders {${[...have].join("}, {")}} where en.js has {${[...want].join("}, {")}}`);
  }
}

function* sources(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (/\.(tsx?|jsx?|mjs)$/.test(name)) yield p;
  }
}
const used = /\b(?:t|tx)\(\s*"([^"]+)"/g;
for (const file of sources(join(web, "src"))) {
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(used)) {
    if (!(m[1] in en)) {
      const line = text.slice(0, m.index).split("\n").length;
      problems.push(`${relative(web, file)}:${line} uses "${m[1]}", which en.js has not`);
    }
  }
}

if (problems.length) {
  console.error(`Language catalogues: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`Language catalogues: ${LANGUAGES.length} languages, ${Object.keys(en).length} keys each, every key used in src present`);
