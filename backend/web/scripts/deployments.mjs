// The networks the dApp's build carries (vite.config.ts embeds them; src/lib/networks-build.ts reads them): from each
// deployment record `referral-deploy` writes and the repository keeps under deployments/ (deployments/README.md),
// the chain id, its Settlement contract (and the contract's T… form on TRON) and the proof of solvency's maximum age
// in blocks. The members' verifier reads the commitment at this contract — never at one the operator's API names —
// and judges age with this maximum — never the API's. A record that cannot be read whole fails the build.
//
//   WEB_DEPLOYMENTS=bsc-mainnet,tron-mainnet npm run build   (default: every deployments/*.json)
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";

/** The repository's deployment records. */
export const DEPLOYMENTS_DIR = new URL("../../../deployments/", import.meta.url).pathname;

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
  if (typeof r.settlement !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(r.settlement)) fail(`settlement is not a 0x address: ${JSON.stringify(r.settlement)}`);
  const settlement = r.settlement.toLowerCase();
  if (/^0x0{40}$/.test(settlement)) fail("settlement is the zero address");
  const maxAge = r.proof_max_age_blocks;
  if (typeof maxAge !== "number" || !Number.isSafeInteger(maxAge) || maxAge <= 0)
    fail(`proof_max_age_blocks is not a positive whole number of blocks: ${JSON.stringify(maxAge)} (a record from an older referral-deploy: add it, about a day of the chain's blocks)`);
  let base58 = null;
  if (TRON_CHAIN_IDS.has(chainId)) {
    const hex = tronHex(r.settlement_base58);
    if (!hex) fail(`settlement_base58 is not a T… address: ${JSON.stringify(r.settlement_base58)} (chain ${chainId} is TRON's)`);
    if (hex !== settlement) fail(`settlement_base58 ${r.settlement_base58} is ${hex}, not the settlement ${settlement}`);
    base58 = r.settlement_base58;
  } else if (r.settlement_base58 != null) {
    fail(`settlement_base58 on chain ${chainId}, which is not TRON's`);
  }
  return { name: basename(file, ".json"), chain_id: chainId, settlement, settlement_base58: base58, proof_max_age_blocks: maxAge };
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

/** What `WEB_DEPLOYMENTS` chooses (a comma-separated list of record names), or null for every record. */
export const chosenByEnvironment = (value = process.env.WEB_DEPLOYMENTS) =>
  value && value.trim()
    ? value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : null;
