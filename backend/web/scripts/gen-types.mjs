#!/usr/bin/env node
// TypeScript from the sources of truth, so that the front restates neither the contract's ABI nor the API's types:
//   src/generated/contracts.ts  from ../../abi/artifacts/<Contract>.json (written by `cargo run -p abi-codegen`):
//                               each contract's ABI `as const` (viem infers the calls' argument types from it), and
//                               per function a one-item ABI, its signature and its selector (what the pages import:
//                               a bundle keeps only what it uses, never the whole ABI), per event a one-item ABI and
//                               its topic, and the contract's custom errors as one ABI;
//   src/generated/api.ts        from openapi.json (the backend's OpenAPI document, as `/api-docs/openapi.json` serves
//                               it): `components["schemas"][Name]`, in openapi-typescript's shape.
//
//   node scripts/gen-types.mjs                 regenerate both from the committed inputs
//   node scripts/gen-types.mjs --fetch [URL]   first replace openapi.json with what the backend at URL serves
//                                              (default: this checkout's devnet, .devnet/ports.env, else :8000)
//   node scripts/gen-types.mjs --check         fail when a generated file differs from what its inputs give now
//   node scripts/gen-types.mjs --check-api URL fail when openapi.json differs (as normalised JSON) from URL's document
//
// `npm run gen [-- URL]` is `--fetch`. No dependency beyond viem (already the page's), and no network but --fetch's.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { toEventSelector, toFunctionSelector, toFunctionSignature } from "viem";

const WEB = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = join(WEB, "..", "..");
const ARTIFACTS = join(ROOT, "abi", "artifacts");
const OPENAPI = join(WEB, "openapi.json");
const OUT = join(WEB, "src", "generated");
/** The contracts the front calls: the Settlement, its members' exit (contracts/EXIT.md; the static exit page) and its sales
 *  (contracts/SALES.md: the shop and its take-back page). */
const CONTRACTS = ["Settlement", "SettlementExit", "SettlementSales"];
const REGEN = "cd backend/web && npm run gen";

// ── contracts ───────────────────────────────────────────────────────────────────────────────────────────────────
const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);
const upperFirst = (s) => s[0].toUpperCase() + s.slice(1);

function contractsTs() {
  const out = contractsSource();
  // Two contracts' names can meet (Settlement's `exitOpensAt` and a SettlementExit function `opensAt` would both be
  // `settlementExitOpensAt…`): refuse rather than emit a file that does not compile.
  const seen = new Set();
  for (const [, id] of out.matchAll(/^export const (\w+)/gm)) {
    if (seen.has(id)) throw new Error(`two ABI items would both be generated as ${id}: rename one, or name them apart here`);
    seen.add(id);
  }
  return out;
}

function contractsSource() {
  let out = header("../../abi/artifacts/*.json (`cargo run -p abi-codegen`)");
  for (const name of CONTRACTS) {
    const { abi } = JSON.parse(readFileSync(join(ARTIFACTS, `${name}.json`), "utf8"));
    const base = lowerFirst(name);
    out += `\n/** \`${name}\`'s whole ABI. */\nexport const ${base}Abi = ${JSON.stringify(abi, null, 2)} as const;\n`;
    const fns = new Map();
    for (const item of abi) if (item.type === "function") fns.set(item.name, [...(fns.get(item.name) ?? []), item]);
    for (const [fn, items] of [...fns].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const id = `${base}${upperFirst(fn.replace(/^[A-Z0-9_]+$/, (c) => c.toLowerCase().replace(/_([a-z0-9])/g, (_, x) => x.toUpperCase())))}`;
      out += `\n/** \`${name}.${fn}\` alone (for \`encodeFunctionData\` without the whole ABI in the bundle). */\n`;
      out += `export const ${id}Abi = ${JSON.stringify(items)} as const;\n`;
      if (items.length === 1) {
        out += `export const ${id}Signature = ${JSON.stringify(toFunctionSignature(items[0]))};\n`;
        out += `export const ${id}Selector = ${JSON.stringify(toFunctionSelector(items[0]))};\n`;
      }
    }
    // Events: a one-item ABI and the topic (what a log's topics[0] is) each; errors: all of them as one ABI, what
    // viem's `decodeErrorResult` takes to name a revert.
    const events = abi.filter((item) => item.type === "event").sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const item of events) {
      const id = `${base}Event${upperFirst(item.name)}`;
      out += `\n/** The event \`${name}.${item.name}\` alone (for decoding its logs). */\n`;
      out += `export const ${id}Abi = ${JSON.stringify([item])} as const;\n`;
      out += `export const ${id}Topic = ${JSON.stringify(toEventSelector(item))};\n`;
    }
    const errors = abi.filter((item) => item.type === "error");
    out += `\n/** Every custom error of \`${name}\` (for \`decodeErrorResult\`: a revert named in words). */\n`;
    out += `export const ${base}ErrorsAbi = ${JSON.stringify(errors)} as const;\n`;
  }
  return out;
}

// ── OpenAPI → TypeScript ────────────────────────────────────────────────────────────────────────────────────────
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k) => (IDENT.test(k) ? k : JSON.stringify(k));
const pad = (n) => "  ".repeat(n);

function doc(s, depth) {
  if (!s?.description) return "";
  const lines = s.description.replace(/\*\//g, "*\\/").split("\n");
  if (lines.length === 1) return `${pad(depth)}/** ${lines[0]} */\n`;
  return `${pad(depth)}/**\n${lines.map((l) => `${pad(depth)} *${l ? ` ${l}` : ""}`).join("\n")}\n${pad(depth)} */\n`;
}

const union = (parts) => {
  const uniq = [...new Set(parts)];
  return uniq.length === 1 ? uniq[0] : uniq.map((p) => (p.includes("\n") || /[&]/.test(p) ? `(${p})` : p)).join(" | ");
};

/** The TypeScript type of a schema; `depth` is the indentation of the line it starts on. */
function tsType(s, depth) {
  if (s === true || s === undefined || (typeof s === "object" && Object.keys(s).every((k) => k === "description"))) return "unknown";
  if (s === false) return "never";
  if (s.$ref) {
    const m = /^#\/components\/schemas\/(.+)$/.exec(s.$ref);
    if (!m) throw new Error(`unsupported $ref ${s.$ref}`);
    return `components["schemas"][${JSON.stringify(m[1])}]`;
  }
  if (s.oneOf || s.anyOf) return union((s.oneOf ?? s.anyOf).map((x) => tsType(x, depth)));
  if (s.allOf) return s.allOf.map((x) => tsType(x, depth)).map((p) => (p.includes(" | ") ? `(${p})` : p)).join(" & ");
  if ("const" in s) return JSON.stringify(s.const);
  if (s.enum) return union(s.enum.map((v) => (v === null ? "null" : JSON.stringify(v))));
  if (Array.isArray(s.type)) return union(s.type.map((t) => tsType({ ...s, type: t }, depth)));
  switch (s.type) {
    case "null":
      return "null";
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array": {
      const item = tsType(s.items, depth);
      const i = s.items ?? {};
      const compound = i.oneOf || i.anyOf || i.allOf || i.enum?.length > 1 || (Array.isArray(i.type) && i.type.length > 1);
      return compound ? `(${item})[]` : `${item}[]`;
    }
    case "object":
    case undefined:
      return objectType(s, depth);
    default:
      throw new Error(`unsupported schema type ${JSON.stringify(s.type)}`);
  }
}

function objectType(s, depth) {
  const props = Object.entries(s.properties ?? {});
  const extra = s.additionalProperties;
  if (props.length === 0) {
    if (extra && extra !== true) return `{\n${pad(depth + 1)}[key: string]: ${tsType(extra, depth + 1)};\n${pad(depth)}}`;
    return "{\n" + pad(depth + 1) + "[key: string]: unknown;\n" + pad(depth) + "}";
  }
  const required = new Set(s.required ?? []);
  let out = "{\n";
  for (const [name, p] of props) {
    const d = p.description ? p : (p.oneOf ?? p.anyOf ?? []).find((x) => x.description);
    out += doc(d, depth + 1);
    out += `${pad(depth + 1)}${key(name)}${required.has(name) ? "" : "?"}: ${tsType(p, depth + 1)};\n`;
  }
  if (extra) out += `${pad(depth + 1)}[key: string]: ${extra === true ? "unknown" : tsType(extra, depth + 1)};\n`;
  return out + pad(depth) + "}";
}

function apiTs(document) {
  const schemas = document.components?.schemas ?? {};
  let out = header("openapi.json (the backend's `/api-docs/openapi.json`)");
  out += `// ${document.info?.title ?? "API"} ${document.info?.version ?? ""}: ${Object.keys(document.paths ?? {}).length} paths.\n`;
  out += "\nexport interface components {\n  schemas: {\n";
  for (const [name, s] of Object.entries(schemas)) {
    out += doc(s, 2);
    out += `${pad(2)}${key(name)}: ${tsType(s, 2)};\n`;
  }
  out += "  };\n}\n";
  out += '\n/** One schema of the API by name: `Schema<"AssetPlan">`. */\nexport type Schema<N extends keyof components["schemas"]> = components["schemas"][N];\n';
  return out;
}

const header = (from) =>
  `// Generated by backend/web/scripts/gen-types.mjs from ${from}.\n// Do not edit: \`${REGEN}\` regenerates it (scripts/test.sh fails when it is stale).\n/* eslint-disable */\n`;

// ── OpenAPI document: fetch, normalise, compare ───────────────────────────────────────────────────────────────────
function devnetApi() {
  const ports = join(ROOT, ".devnet", "ports.env");
  const port = existsSync(ports) ? /^API_PORT=(\d+)$/m.exec(readFileSync(ports, "utf8"))?.[1] : undefined;
  return `http://127.0.0.1:${port ?? 8000}`;
}

async function fetchDocument(base) {
  const url = `${base.replace(/\/+$/, "")}/api-docs/openapi.json`;
  const res = await fetch(url).catch((e) => {
    throw new Error(`cannot reach ${url}: ${e.cause?.message ?? e.message} (is the backend up? scripts/devnet.sh)`);
  });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

/** Keys sorted at every level: two documents are equal when their normal forms are. */
function normal(v) {
  if (Array.isArray(v)) return v.map(normal);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, normal(v[k])]));
  return v;
}
const stable = (v) => `${JSON.stringify(normal(v), null, 2)}\n`;

// ── main ────────────────────────────────────────────────────────────────────────────────────────────────────────
function outputs() {
  const document = JSON.parse(readFileSync(OPENAPI, "utf8"));
  return { [join(OUT, "contracts.ts")]: contractsTs(), [join(OUT, "api.ts")]: apiTs(document) };
}

async function main(args) {
  const [mode, arg] = args;
  if (mode === "--check-api") {
    const base = arg ?? devnetApi();
    const served = stable(await fetchDocument(base));
    const committed = stable(JSON.parse(readFileSync(OPENAPI, "utf8")));
    if (served !== committed) {
      const a = committed.split("\n");
      const b = served.split("\n");
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      console.error(`backend/web/openapi.json differs from the document ${base} serves (first difference at normalised line ${i + 1}:`);
      console.error(`  committed: ${a[i] ?? "(end)"}\n  served:    ${b[i] ?? "(end)"})`);
      console.error(`The API changed: run \`${REGEN} -- ${base}\` and commit openapi.json and src/generated/.`);
      return 1;
    }
    console.log(`openapi.json is what ${base} serves`);
    return 0;
  }
  if (mode === "--fetch") {
    const base = arg ?? devnetApi();
    writeFileSync(OPENAPI, stable(await fetchDocument(base)));
    console.log(`openapi.json ← ${base}/api-docs/openapi.json`);
  } else if (mode !== undefined && mode !== "--check") {
    console.error("usage: gen-types.mjs [--fetch [URL] | --check | --check-api [URL]]");
    return 2;
  }
  const files = outputs();
  if (mode === "--check") {
    const stale = Object.entries(files).filter(([f, text]) => !existsSync(f) || readFileSync(f, "utf8") !== text);
    for (const [f] of stale) console.error(`stale: backend/web/${relative(WEB, f)} is not what its inputs give now`);
    if (stale.length) {
      console.error(`Run \`${REGEN}\` (or, without a backend, \`cd backend/web && node scripts/gen-types.mjs\`) and commit the result.`);
      return 1;
    }
    console.log("generated types match the ABI artifacts and openapi.json");
    return 0;
  }
  mkdirSync(OUT, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    writeFileSync(f, text);
    console.log(`wrote backend/web/${relative(WEB, f)}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`gen-types: ${e.message}`);
    process.exit(1);
  },
);
