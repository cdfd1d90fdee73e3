#!/usr/bin/env node
// The language catalogues against English's and against the code, for each surface: the dApp's (src/i18n/*.js), the
// console's own (src/i18n/console/*.js), the members' own (src/i18n/member/*.js), the proof of solvency's
// (src/i18n/solvency/*.js) and the members' exit page's (src/i18n/exit/*.js, all six bundled into dist/exit.html).
// Fails, listing every key a catalogue misses or has extra, every message whose {placeholders} differ from English's,
// every plural message without its `other` form, a key two surfaces define, and every key used in src (t("…"),
// tx("…")) that no English the file may use has. Which file may use which keys: every page file the dApp's (the exit
// page's files, src/exit/, none of them: that page carries only its own catalogues); the console (src/admin, its pieces
// in src/ui/console.tsx, and the plans' console views in src/plans) the console's too; a file that imports a surface
// (its index, `import "../i18n/member"`, or its English, `import en from "../i18n/solvency/en.js"`, as the pure
// helpers do) that surface's.
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
  { name: "solvency", dir: "src/i18n/solvency" },
  { name: "exit", dir: "src/i18n/exit" },
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

const loaded = await Promise.all(SURFACES.map((s) => load(s.dir)));
SURFACES.forEach((s, i) => check(s.dir, loaded[i]));
/** Each surface's English, by name. */
const english = Object.fromEntries(SURFACES.map((s, i) => [s.name, loaded[i].en]));
// A key is found in the first surface that has it: one defined twice would hide the other's message.
SURFACES.forEach((s, i) => {
  for (const key of Object.keys(english[s.name]))
    for (const other of SURFACES.slice(0, i)) if (key in english[other.name]) problems.push(`${s.dir}/en.js has "${key}", which ${other.dir}/en.js has too`);
});

function* sources(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (/\.(tsx?|jsx?|mjs)$/.test(name)) yield p;
  }
}
/** What the dApp loads of src/plans: each plan's member and rules views, and the kit's pieces of paying and joining. */
const DAPP_PLANS = /\/(member|rules)\.tsx$|^src\/plans\/kit\/(payment|pay-facts|inflight|joined|odds|packages|member-props)\.tsx?$/;
/**
 * A file of the console (src/admin, its pieces in src/ui/console.tsx, and src/plans but for what the dApp loads): it may
 * use console keys.
 */
const inConsole = (path) => path.startsWith("src/admin/") || path === "src/ui/console.tsx" || (path.startsWith("src/plans/") && !DAPP_PLANS.test(path));
/**
 * Whether `text` (the file at `path`) imports surface `name`: its index (`import "../i18n/member"`, or a re-export from
 * it, which runs it too) or its English.
 */
const importsSurface = (text, path, name) =>
  path.startsWith(`src/i18n/${name}/`) || new RegExp(`^(?:import|export) (?:[\\w{}\\s,]+ from )?"(?:\\.\\.?/)+(?:i18n/)?${name}(?:/en\\.js)?";$`, "m").test(text);
const used = /\b(?:t|tx)\(\s*"([^"]+)"/g;
for (const file of sources(join(web, "src"))) {
  const text = readFileSync(file, "utf8");
  const path = relative(web, file);
  // The surfaces this file may use, in the order t() looks them up.
  const allowed = SURFACES.filter(
    (s) =>
      (s.name === "dApp" && !path.startsWith("src/exit/") && !path.startsWith("src/i18n/exit/")) ||
      (s.name === "console" && inConsole(path)) ||
      (s.name !== "dApp" && s.name !== "console" && importsSurface(text, path, s.name)),
  );
  for (const m of text.matchAll(used)) {
    if (allowed.some((s) => m[1] in english[s.name])) continue;
    const line = text.slice(0, m.index).split("\n").length;
    const owner = SURFACES.find((s) => m[1] in english[s.name]);
    problems.push(
      owner
        ? `${path}:${line} uses "${m[1]}", a key of ${owner.dir}, which this file may not use (it may use ${allowed.map((s) => s.dir).join(", ") || "none"})`
        : `${path}:${line} uses "${m[1]}", which no English catalogue has`,
    );
  }
}

if (problems.length) {
  console.error(`Language catalogues: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(
  `Language catalogues: ${LANGUAGES.length} languages; ${SURFACES.map((s) => `the ${s.name}'s ${Object.keys(english[s.name]).length} keys`).join(", ")} in each; every key used in src present`,
);
