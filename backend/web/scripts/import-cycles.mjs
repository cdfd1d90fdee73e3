#!/usr/bin/env node
// No module of the web front imports another in a circle, and none imports up a floor. The modules of src/ (.ts, .tsx,
// .js, .mjs) and the relative imports each one names — `import … from "…"`, `export … from "…"`, `import "…"` and
// `import("…")`, types too: a type import is a dependency all the same — form a graph, and this fails on any cycle in
// it (each printed, with one path round it).
//
// The folders stand on floors, and a module imports only from its own floor or below: the pages (src/user, src/admin,
// src/exit, src/docs) over the plans (src/plans: their registry, rooms and kit) over the shared kit (src/ui, src/lib,
// src/i18n, src/generated). A plan that reaches into a page, or the kit into a plan, fails; so does a folder on no
// floor. Comments are left out (a JSDoc type's `import("…")` with them); an import that names no file fails too (the
// graph would miss it).
//
//   node scripts/import-cycles.mjs [src]    checks src/ (default: this front's) after the self-test (npm run cycles)
//   node scripts/import-cycles.mjs --self-test
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const SOURCE = /\.(tsx?|jsx?|mjs)$/;
/** What an import without its extension may name, in the order the bundler tries them. */
const EXTENSIONS = [".ts", ".tsx", ".js", ".jsx", ".mjs"];
/** Each folder of src/ and its floor: a module may import from its own floor and those below. */
const FLOORS = { user: 2, admin: 2, exit: 2, docs: 2, plans: 1, ui: 0, lib: 0, i18n: 0, generated: 0 };
const FLOOR_NAMES = ["the shared kit", "the plans", "the pages"];

function* sources(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (SOURCE.test(name)) yield p;
  }
}

/**
 * `text` with its comments blanked (newlines kept), and where its strings are: strings and template literals are kept
 * whole, so that "//" in a URL is no comment, and an import named inside one is none either. A quote ends at the end
 * of its line, so that an apostrophe in JSX text costs at most that line; a backslash outside a string escapes the
 * next character (a regular expression's `\/`).
 */
function scan(text) {
  let code = "";
  const strings = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && (next === "/" || next === "*")) {
      const close = text.indexOf(next === "/" ? "\n" : "*/", i + 2);
      const stop = close < 0 ? text.length : next === "/" ? close : close + 2;
      code += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && (c === "`" || text[j] !== "\n")) j += text[j] === "\\" ? 2 : 1;
      strings.push([i, j]);
      code += text.slice(i, j + 1);
      i = j + 1;
    } else {
      const step = c === "\\" ? 2 : 1;
      code += text.slice(i, i + step);
      i += step;
    }
  }
  return { code, inString: (at) => strings.some(([from, to]) => at > from && at <= to) };
}

const IMPORTS = [
  // import x from "…", import type { X } from "…", export { x } from "…", export * from "…"
  /(?<![\w$.])(?:import|export)\s[\w\s{},*$]*?\bfrom\s*(["'])([^"'\n]+)\1/g,
  // import "…" (for its effects)
  /(?<![\w$.])import\s*(["'])([^"'\n]+)\1/g,
  // import("…"), typeof import("…")
  /(?<![\w$.])import\s*\(\s*(["'])([^"'\n]+)\1/g,
];

/** The relative module names `text` imports, outside comments and strings. */
function specifiers(text) {
  const { code, inString } = scan(text);
  const found = new Set();
  for (const re of IMPORTS) {
    for (const m of code.matchAll(re)) {
      const spec = m[2];
      if (!inString(m.index) && (spec === "." || spec === ".." || /^\.\.?\//.test(spec))) found.add(spec);
    }
  }
  return [...found];
}

/** The file `spec` (without its `?query`) names from `file`: itself, with an extension, or its folder's index. */
function resolveImport(file, spec) {
  const base = resolve(dirname(file), spec.replace(/\?.*$/, ""));
  const isFile = (p) => existsSync(p) && statSync(p).isFile();
  if (isFile(base)) return base;
  for (const ext of EXTENSIONS) if (isFile(base + ext)) return base + ext;
  for (const ext of EXTENSIONS) if (isFile(join(base, `index${ext}`))) return join(base, `index${ext}`);
  return null;
}

/** The import graph of the sources under `src` (paths relative to it, with "/"), and what does not resolve. */
function graph(src) {
  const name = (p) => relative(src, p).split(sep).join("/");
  const edges = new Map();
  const unresolved = [];
  for (const file of sources(src)) {
    const to = new Set();
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      const target = resolveImport(file, spec);
      if (target === null) unresolved.push(`${name(file)}: "${spec}" names no file`);
      else if (SOURCE.test(target)) to.add(name(target));
    }
    edges.set(name(file), to);
  }
  return { edges, unresolved };
}

/** Tarjan's strongly connected components of `edges` (a Map of module → Set of modules). */
function stronglyConnected(edges) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  let counter = 0;
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** The shortest way from `start` back to itself within `members`, as the list of modules passed. */
function cycleThrough(start, members, edges) {
  const came = new Map();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of edges.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(came.get(path[0]));
        return [...path, start];
      }
      if (!came.has(w)) {
        came.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/**
 * Every circle (a group of modules each reaching the others), with one path round it; every import up a floor, and
 * every folder on none.
 */
function check(src) {
  const { edges, unresolved } = graph(src);
  const cycles = stronglyConnected(edges)
    .filter((c) => c.length > 1 || edges.get(c[0]).has(c[0]))
    .map((members) => ({ members, path: cycleThrough(members[0], new Set(members), edges) }));
  const floors = [];
  const floorOf = (module) => (module.includes("/") ? FLOORS[module.split("/")[0]] : undefined);
  const folders = new Set([...edges.keys()].filter((m) => m.includes("/")).map((m) => m.split("/")[0]));
  for (const folder of folders) if (!(folder in FLOORS)) floors.push(`no floor: src/${folder}/ (add it to FLOORS in scripts/import-cycles.mjs)`);
  for (const [from, to] of edges) {
    for (const target of to) {
      const [a, b] = [floorOf(from), floorOf(target)];
      if (a !== undefined && b !== undefined && b > a) floors.push(`up a floor: ${from} (${FLOOR_NAMES[a]}) imports ${target} (${FLOOR_NAMES[b]})`);
    }
  }
  return { modules: edges.size, cycles, floors, unresolved };
}

/** Builds a tiny src/ in a temporary folder per case and checks what is found in it. */
function selfTest() {
  const base = {
    "lib/a.ts": 'import { b } from "./b";\nexport const a = b;\n',
    "lib/b.ts": "export const b = 1;\n",
    "ui/c.tsx": 'import { a } from "../lib/a";\nexport const c = () => import("../lib/dir").then((m) => m.d + a);\n',
    "lib/dir/index.ts": 'export const d = 2;\n',
    "user/page.tsx": 'import { c } from "../ui/c";\nimport "./page.css";\nexport { c };\n',
    "user/page.css": "",
  };
  const cases = [
    ["no cycle", {}, { cycles: 0, floors: 0, unresolved: 0 }],
    ["two modules importing each other", { "lib/b.ts": 'import type { a } from "./a";\nexport const b = 1;\n' }, { cycles: 1, floors: 0, unresolved: 0 }],
    ["a circle through import() and a folder's index", { "lib/dir/index.ts": 'export * from "../../ui/c.tsx";\n' }, { cycles: 1, floors: 0, unresolved: 0 }],
    ["a module importing itself", { "lib/b.ts": 'export { b as x } from "./b.ts";\nexport const b = 1;\n' }, { cycles: 1, floors: 0, unresolved: 0 }],
    ["a comment or a string names no module", { "lib/b.ts": '// import { a } from "./a";\n/* import("./a") */\nexport const b = "import(\'./x\') // ";\n' }, { cycles: 0, floors: 0, unresolved: 0 }],
    ["the kit importing a page", { "lib/b.ts": 'import type { c } from "../user/page";\nexport const b = 1;\n' }, { cycles: 1, floors: 1, unresolved: 0 }],
    ["a plan importing a page", { "plans/p.tsx": 'import { c } from "../user/page";\nexport const p = c;\n' }, { cycles: 0, floors: 1, unresolved: 0 }],
    ["a folder on no floor", { "misc/m.ts": 'export const m = 1;\n' }, { cycles: 0, floors: 1, unresolved: 0 }],
    ["an import naming no file", { "lib/b.ts": 'import { z } from "./z";\nexport const b = z;\n' }, { cycles: 0, floors: 0, unresolved: 1 }],
  ];
  let failed = 0;
  for (const [name, change, want] of cases) {
    const root = mkdtempSync(join(tmpdir(), "import-cycles-"));
    try {
      for (const [path, text] of Object.entries({ ...base, ...change })) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      }
      const found = check(root);
      const have = { cycles: found.cycles.length, floors: found.floors.length, unresolved: found.unresolved.length };
      const ok = Object.keys(want).every((k) => have[k] === want[k]);
      failed += ok ? 0 : 1;
      console.log(
        `import-cycles self-test ${ok ? "ok" : "FAILED"}: ${name} (${have.cycles} cycles, ${have.floors} off their floor, ${have.unresolved} unresolved; ` +
          `want ${want.cycles}, ${want.floors}, ${want.unresolved})`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  return { passed: cases.length - failed, failed };
}

const args = process.argv.slice(2);
if (args[0] === "--self-test") {
  process.exit(selfTest().failed ? 1 : 0);
}
const src = resolve(args[0] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "src"));
const test = selfTest();
const found = check(src);
for (const c of found.cycles) {
  console.log(`cycle: ${c.path.join(" → ")}`);
  if (c.members.length > c.path.length - 1) console.log(`  (one circle of ${c.members.length} modules: ${c.members.join(", ")})`);
}
for (const f of found.floors) console.log(f);
for (const u of found.unresolved) console.log(`unresolved: ${u}`);
console.log(`${found.modules} modules, ${found.cycles.length} cycles, ${found.floors.length} off their floor, ${found.unresolved.length} unresolved`);
// One check per self-test case, and three for the tree: no cycle, every module on its floor, every import resolved.
const treeFailed = [found.cycles, found.floors, found.unresolved].filter((x) => x.length > 0).length;
console.log(`import-cycles: ${test.passed + 3 - treeFailed} passed, ${test.failed + treeFailed} failed`);
process.exit(test.failed + treeFailed ? 1 : 0);
