#!/usr/bin/env node
// The language catalogues against English's and against the code, for each surface: the dApp's (src/i18n/*.js), the
// console's own (src/i18n/console/*.js) and the members' own (src/i18n/member/*.js, used by the modules that import it: src/user/pay-facts.tsx, src/plans/binary/member.tsx, src/user/Notifications.tsx, src/user/notes-link.tsx,
// src/user/sponsor.tsx). Fails, listing every key a catalogue misses or has extra, every message
// whose {placeholders} differ from English's, every plural message without its `other` form, a key both surfaces
// define, and every key used in src (t("…"), tx("…")) that no English the page loads has: the console (src/admin, and
// the plans' console views in src/plans) loads both surfaces, every other page only the dApp's.
//   node scripts/check-catalogues.mjs        (npm run i18n:check)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const web = fileURLToPath(new URL("..", import.meta.url));
const LANGUAGES = ["en", "es", "pt", "hi", "id", "ar"];
const SURFACES = [
  { name: "dApp", dir: "src/i18n" },
  { name: "console", dir: "src/i18n/console" },
  { name: "member", dir: "src/i18n/member" },
];
const problems = [];

async function load(dir) {
  const catalogues = {};
  for (const code of LANGUAGES) catalogues[code] = (await import(pathToFileURL(join(web, dir, `${code}.js`)).href)).default;
  return catalogues;
}

const forms = (m) => (typeof m === "string" ? [m] : Object.values(m ?? {}));
const placeholders = (text) => new Set([...text.matchAll(/\{(\w+)\}/g)].map((x) => x[1]));
/** The placeholders of a message: every name any of its forms uses. */
const names = (m) => new Set(forms(m).flatMap((f) => [...placeholders(f)]));
const same = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

/** Every catalogue of a surface against its English. */
function check(dir, catalogues) {
  const en = catalogues.en;
  for (const [code, cat] of Object.entries(catalogues)) {
    const file = `${dir}/${code}.js`;
    for (const [key, m] of Object.entries(cat)) {
      if (typeof m !== "string" && (typeof m !== "object" || typeof m.other !== "string")) problems.push(`${file}: "${key}" is neither a string nor plural forms with "other"`);
    }
    if (code === "en") continue;
    for (const key of Object.keys(en)) if (!(key in cat)) problems.push(`${file} misses "${key}"`);
    for (const key of Object.keys(cat)) if (!(key in en)) problems.push(`${file} has "${key}", which ${dir}/en.js has not`);
    for (const key of Object.keys(en)) {
      if (!(key in cat)) continue;
      const want = names(en[key]);
      const have = names(cat[key]);
      // A plural form may name its number in words ("one participant"): the forms together use English's names.
      if (!same(want, have)) problems.push(`${file} "${key}": placeholders {${[...have].join("}, {")}} where ${dir}/en.js has {${[...want].join("}, {")}}`);
    }
  }
}

const [dapp, consoleOwn, memberOwn] = await Promise.all(SURFACES.map((s) => load(s.dir)));
SURFACES.forEach((s, i) => check(s.dir, [dapp, consoleOwn, memberOwn][i]));
const en = dapp.en;
const consoleEn = consoleOwn.en;
const memberEn = memberOwn.en;
// A key is found in the first surface that has it: one defined twice would hide the other's message.
for (const key of Object.keys(consoleEn)) if (key in en) problems.push(`src/i18n/console/en.js has "${key}", which the dApp's en.js has too`);
for (const key of Object.keys(memberEn)) if (key in en || key in consoleEn) problems.push(`src/i18n/member/en.js has "${key}", which another surface has too`);

function* sources(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (/\.(tsx?|jsx?|mjs)$/.test(name)) yield p;
  }
}
/** A file of the console (src/admin, and src/plans but for the members' views the dApp loads): it may use console keys. */
const inConsole = (path) => path.startsWith("src/admin/") || (path.startsWith("src/plans/") && !/\/(member|rules)\.tsx$/.test(path));
const used = /\b(?:t|tx)\(\s*"([^"]+)"/g;
for (const file of sources(join(web, "src"))) {
  const text = readFileSync(file, "utf8");
  const path = relative(web, file);
  const ofConsole = inConsole(path);
  const ofMember = /^import "(\.\.\/)+i18n\/member";$/m.test(text);
  for (const m of text.matchAll(used)) {
    if (m[1] in en || (ofConsole && m[1] in consoleEn) || (ofMember && m[1] in memberEn)) continue;
    const line = text.slice(0, m.index).split("\n").length;
    problems.push(
      m[1] in consoleEn
        ? `${path}:${line} uses "${m[1]}", a console key, outside the console`
        : `${path}:${line} uses "${m[1]}", which ${ofConsole ? "neither en.js nor console/en.js has" : "en.js has not"}`,
    );
  }
}

if (problems.length) {
  console.error(`Language catalogues: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(
  `Language catalogues: ${LANGUAGES.length} languages; the dApp's ${Object.keys(en).length} keys, the console's ${Object.keys(consoleEn).length} and the pay facts' ${Object.keys(memberEn).length} in each; every key used in src present`,
);
