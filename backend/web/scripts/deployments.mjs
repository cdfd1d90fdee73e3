// The networks the dApp's build carries (vite.config.ts embeds them; src/lib/networks-build.ts reads them): from each
// deployment record `referral-deploy` writes and the repository keeps under deployments/ (deployments/README.md),
// the chain id, its Settlement contract (and the contract's T… form on TRON), the contracts it replaced on the chain
// after an upgrade (`previous`, contracts/UPGRADES.md) and the proof of solvency's maximum age in blocks. The members'
// verifier reads the commitments at these contracts — never at one the operator's API names — and judges age with this
// maximum — never the API's. A record that cannot be read whole fails the build.
//
//   WEB_DEPLOYMENTS=bsc-mainnet,tron-mainnet npm run build   (default: every deployments/*.json)
//   WEB_DEPLOYMENTS_DIR=/elsewhere npm run build              (default: the repository's deployments/)
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";

/** The repository's deployment records. */
export const DEPLOYMENTS_DIR = new URL("../../../deployments/", import.meta.url).pathname;

/** The directory `WEB_DEPLOYMENTS_DIR` names, or the repository's records. */
export const deploymentsDirByEnvironment = (value = process.env.WEB_DEPLOYMENTS_DIR) => (value && value.trim() ? value.trim() : DEPLOYMENTS_DIR);

/** At most this many replaced contracts per chain (the chain spec's and `referral-deploy`'s limit). */
export const MAX_PREVIOUS = 4;

/** TRON's networks (mainnet, Nile, Shasta): the last four bytes of their genesis block ids. */
const TRON_CHAIN_IDS = new Set([728126428, 3448148188, 2494104990]);
const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** The 20 bytes (0x, lower case) a `T…` address stands for, or null when it is not one (characters, length, checksum). */
function tronHex(text) {
  if (typeof text !== "string" || !/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(text)) return null;
  let n = 0n;
  for (const ch of text) n = n * 58n + BigInt(ALPHABET.indexOf(ch));
  const hex = n.toString(16).padStart(50, "0");
  if (hex.length !== 50 || !hex.startsWith("41")) return null;
  const sha = (b) => createHash("sha256").update(b).digest();
  const sum = sha(sha(Buffer.from(hex.slice(0, 42), "hex"))).subarray(0, 4).toString("hex");
  return sum === hex.slice(42) ? `0x${hex.slice(2, 42)}` : null;
}

/**
 * One record, checked and reduced to what the build carries; throws naming the file and the field.
 * @param {string} file
 * @param {unknown} record
 */
export function networkOf(file, record) {
  const fail = (why) => {
    throw new Error(`${file}: ${why} (deployments/README.md)`);
  };
  if (typeof record !== "object" || record === null || Array.isArray(record)) fail("not a JSON object");
  const r = /** @type {Record<string, unknown>} */ (record);
  const chainId = r.chain_id;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) fail(`chain_id is not a chain id: ${JSON.stringify(chainId)}`);
  const tron = TRON_CHAIN_IDS.has(chainId);
  /** A contract's 0x address (lower case) and its T… form (TRON only), checked; `what` names the field. */
  const contractOf = (what, hexValue, base58Value) => {
    if (typeof hexValue !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(hexValue)) fail(`${what}settlement is not a 0x address: ${JSON.stringify(hexValue)}`);
    const address = hexValue.toLowerCase();
    if (/^0x0{40}$/.test(address)) fail(`${what}settlement is the zero address`);
    let base58 = null;
    if (tron) {
      const hex = tronHex(base58Value);
      if (!hex) fail(`${what}settlement_base58 is not a T… address: ${JSON.stringify(base58Value)} (chain ${chainId} is TRON's)`);
      if (hex !== address) fail(`${what}settlement_base58 ${base58Value} is ${hex}, not the ${what}settlement ${address}`);
      base58 = base58Value;
    } else if (base58Value != null) {
      fail(`${what}settlement_base58 on chain ${chainId}, which is not TRON's`);
    }
    return { settlement: address, settlement_base58: base58 };
  };
  const { settlement, settlement_base58: base58 } = contractOf("", r.settlement, r.settlement_base58);
  const maxAge = r.proof_max_age_blocks;
  if (typeof maxAge !== "number" || !Number.isSafeInteger(maxAge) || maxAge <= 0)
    fail(`proof_max_age_blocks is not a positive whole number of blocks: ${JSON.stringify(maxAge)} (a record from an older referral-deploy: add it, about a day of the chain's blocks)`);
  // The contracts this deployment replaced on the chain (an upgrade), oldest first: the verifier reads them too.
  const previous = [];
  if (r.previous != null) {
    if (!Array.isArray(r.previous)) fail(`previous is not a list of the contracts this deployment replaced: ${JSON.stringify(r.previous)}`);
    if (r.previous.length > MAX_PREVIOUS) fail(`previous lists ${r.previous.length} contracts; at most ${MAX_PREVIOUS} are followed on a chain at once`);
    r.previous.forEach((entry, i) => {
      const what = `previous[${i}].`;
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) fail(`${what.slice(0, -1)} is not a JSON object with settlement and settlement_base58`);
      const p = contractOf(what, entry.settlement, entry.settlement_base58);
      if (p.settlement === settlement) fail(`${what}settlement ${p.settlement} is the deployment's own settlement: a contract does not replace itself`);
      if (previous.some((q) => q.settlement === p.settlement)) fail(`${what}settlement ${p.settlement} is listed twice in previous`);
      previous.push(p);
    });
  }
  assetsOf(file, r.assets);
  return {
    name: basename(file, ".json"),
    chain_id: chainId,
    settlement,
    settlement_base58: base58,
    proof_max_age_blocks: maxAge,
    // Only after an upgrade: a record without one carries exactly what it always did.
    ...(previous.length ? { previous } : {}),
  };
}

/**
 * Every record of `dir` (or those `only` names: file names without `.json`), one per chain: two records of one chain
 * (the devnet's TRON stand-in has Nile's id) fail the build until `only` chooses.
 * @param {{ dir?: string, only?: string[] | null }} [options]
 */
export function buildNetworks({ dir = DEPLOYMENTS_DIR, only = null } = {}) {
  if (!existsSync(dir)) throw new Error(`${dir}: no deployment records: the dApp could verify nothing (deployments/README.md)`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  const names = files.map((f) => basename(f, ".json"));
  for (const name of only ?? []) if (!names.includes(name)) throw new Error(`WEB_DEPLOYMENTS names ${name}, which is no record in ${dir} (${names.join(", ")})`);
  const chosen = files.filter((f) => !only || only.includes(basename(f, ".json")));
  if (chosen.length === 0) throw new Error(`no deployment records in ${dir}: the dApp could verify nothing (deployments/README.md)`);
  const networks = chosen.map((f) => {
    const path = join(dir, f);
    let record;
    try {
      record = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new Error(`${path}: not JSON: ${e instanceof Error ? e.message : e}`);
    }
    return networkOf(path, record);
  });
  for (const n of networks) {
    const same = networks.filter((m) => m.chain_id === n.chain_id);
    if (same.length > 1)
      throw new Error(
        `chain ${n.chain_id} has ${same.length} deployment records (${same.map((m) => m.name).join(", ")}): a build carries one Settlement per chain; choose with WEB_DEPLOYMENTS=name,name…`,
      );
  }
  return networks.sort((a, b) => a.chain_id - b.chain_id);
}

/** At most this many further assets a record may name (`assets`). */
export const MAX_ASSETS = 16;

/**
 * The further assets a record names (`assets`: `[{ "token": "0x…", "symbol": "GUSDT" }]`, optional: tokens the plans
 * pay in beyond `usdt`, such as an asset a later change allowed), checked; throws naming the file and the field. The
 * exit page still offers one only if the contract ever allowed it (`wasEverAllowed`, read through the member's
 * wallet): a record cannot make the page act on a token the contract never held.
 * @param {string} file
 * @param {unknown} value
 * @returns {{ token: string, symbol: string }[]}
 */
export function assetsOf(file, value) {
  const fail = (why) => {
    throw new Error(`${file}: ${why} (deployments/README.md)`);
  };
  if (value == null) return [];
  if (!Array.isArray(value)) fail(`assets is not a list of { token, symbol }: ${JSON.stringify(value).slice(0, 80)}`);
  if (value.length > MAX_ASSETS) fail(`assets lists ${value.length} tokens; at most ${MAX_ASSETS}`);
  const out = [];
  value.forEach((entry, i) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) fail(`assets[${i}] is not a JSON object with token and symbol`);
    const { token, symbol } = entry;
    if (typeof token !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(token) || /^0x0{40}$/.test(token)) fail(`assets[${i}].token is not a non-zero 0x address: ${JSON.stringify(token)}`);
    if (typeof symbol !== "string" || !/^[A-Za-z0-9.\-]{1,16}$/.test(symbol)) fail(`assets[${i}].symbol is not 1 to 16 letters or digits: ${JSON.stringify(symbol)}`);
    const lower = token.toLowerCase();
    if (out.some((a) => a.token === lower)) fail(`assets[${i}].token ${lower} is listed twice`);
    out.push({ token: lower, symbol });
  });
  return out;
}

/**
 * The plan's assets each chosen record names beyond the native coin — the USDT `referral-deploy` allowed (`usdt`,
 * 0x, lower case; null when a record names none) and the further `assets` it lists — per chain, for the members' exit
 * page's asset buttons (vite.exit.config.ts): the records `buildNetworks` accepts, read again.
 * @param {{ dir?: string, only?: string[] | null }} [options]
 */
export function buildTokens({ dir = DEPLOYMENTS_DIR, only = null } = {}) {
  return buildNetworks({ dir, only }).map((n) => {
    const path = join(dir, `${n.name}.json`);
    const record = JSON.parse(readFileSync(path, "utf8"));
    const usdt = typeof record.usdt === "string" && /^0x[0-9a-fA-F]{40}$/.test(record.usdt) && !/^0x0{40}$/.test(record.usdt) ? record.usdt.toLowerCase() : null;
    return { chain_id: n.chain_id, usdt, assets: assetsOf(path, record.assets).filter((a) => a.token !== usdt) };
  });
}

/** What `WEB_DEPLOYMENTS` chooses (a comma-separated list of record names), or null for every record. */
export const chosenByEnvironment = (value = process.env.WEB_DEPLOYMENTS) =>
  value && value.trim()
    ? value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : null;
