// Gzip copies of the built assets, served by the backend to clients that accept gzip (smaller pages without
// compressing on every request). Prints the page weights: JS + CSS of each page, raw and gzipped.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const assets = join(dist, "assets");
const gz = new Map();
for (const name of readdirSync(assets)) {
  if (name.endsWith(".gz")) continue;
  const file = join(assets, name);
  const bytes = readFileSync(file);
  const zipped = gzipSync(bytes, { level: 9 });
  gz.set(name, { raw: statSync(file).size, gzip: zipped.length });
  if (/\.(js|css|svg|json|html)$/.test(name) && zipped.length < bytes.length) writeFileSync(`${file}.gz`, zipped);
}
// A page's weight: the scripts and styles its HTML names (entry, preloaded chunks, CSS).
for (const page of ["index.html", "admin.html", "docs.html"]) {
  const html = readFileSync(join(dist, page), "utf8");
  const names = [...new Set([...html.matchAll(/\/assets\/([^"']+\.(?:js|css))/g)].map((m) => m[1]))];
  const raw = names.reduce((a, n) => a + (gz.get(n)?.raw ?? 0), 0);
  const zipped = names.reduce((a, n) => a + (gz.get(n)?.gzip ?? 0), 0);
  console.log(`page weight ${page}: ${(raw / 1024).toFixed(1)} KiB JS+CSS, ${(zipped / 1024).toFixed(1)} KiB gzipped (${names.length} files)`);
}
// The members' exit page is one file, its script and styles inlined (vite.exit.config.ts).
try {
  const exit = readFileSync(join(dist, "exit.html"));
  console.log(`page weight exit.html: ${(exit.length / 1024).toFixed(1)} KiB in one file, ${(gzipSync(exit, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped`);
} catch {
  console.log("page weight exit.html: not built");
}
