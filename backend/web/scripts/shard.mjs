// The files of one share of the browser tests (scripts/web-test.sh, WEB_TEST_SHARD=K/N): every tests/*.test.mjs file,
// shared out longest first, each to the share that would end soonest (the longest-processing-time rule), by the
// seconds each file took in a measured run (tests/durations.json; a file it does not know counts as the median).
// Deterministic: the same files and figures give the same shares, whichever share asks. WEB_TEST_SHARE_LATE=S says
// the last share starts S seconds after the others (its devnet starts after the first one), so it gets less.
//   node scripts/shard.mjs K N      prints share K's files, one per line (paths relative to backend/web)
//   node scripts/shard.mjs --self-test
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Shares `files` ({ name: seconds }) into `n` lists; `late` seconds are added to the last share's start. */
export function shares(files, n, late = 0) {
  const known = Object.values(files).filter((s) => s != null).sort((a, b) => a - b);
  const median = known.length ? known[Math.floor(known.length / 2)] : 1;
  const order = Object.entries(files)
    .map(([name, s]) => [name, s ?? median])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const load = Array.from({ length: n }, (_, i) => (i === n - 1 ? late : 0));
  const out = Array.from({ length: n }, () => []);
  for (const [name, s] of order) {
    let k = 0;
    for (let i = 1; i < n; i++) if (load[i] < load[k]) k = i;
    load[k] += s;
    out[k].push(name);
  }
  return out.map((list) => list.sort());
}

function selfTest() {
  const files = { a: 100, b: 60, c: 50, d: 10, e: null };
  const [one, two] = shares(files, 2);
  const total = (list) => list.reduce((s, f) => s + (files[f] ?? 60), 0); // e: the median of the known, 60
  const ok = (cond, what) => {
    console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
    return cond;
  };
  const results = [
    ok([...one, ...two].sort().join() === "a,b,c,d,e", "every file in exactly one share"),
    ok(Math.abs(total(one) - total(two)) <= 20, `balanced: ${total(one)} s and ${total(two)} s`),
    ok(JSON.stringify(shares(files, 2)) === JSON.stringify([one, two]), "the same shares every time"),
    ok(shares(files, 2, 1000)[1].length === 0, "a share that starts very late gets nothing"),
    ok(shares(files, 1)[0].length === 5, "one share holds every file"),
  ];
  const failed = results.filter((r) => !r).length;
  console.log(`shard: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[2] === "--self-test") selfTest();
else {
  const [k, n] = process.argv.slice(2).map(Number);
  if (!(n >= 1 && k >= 1 && k <= n)) {
    console.error("usage: node scripts/shard.mjs K N   (1 <= K <= N)");
    process.exit(2);
  }
  const durations = JSON.parse(readFileSync(join(WEB, "tests/durations.json"), "utf8"));
  const names = readdirSync(join(WEB, "tests")).filter((f) => f.endsWith(".test.mjs"));
  const files = Object.fromEntries(names.map((f) => [f, durations[f] ?? null]));
  const late = Number(process.env.WEB_TEST_SHARE_LATE ?? 0);
  for (const f of shares(files, n, late)[k - 1]) console.log(`tests/${f}`);
}
