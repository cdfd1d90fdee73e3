// Each member's latest VERIFIED proof of solvency, kept in their own browser (IndexedDB) per chain, contract, token and
// member — written by the badge once it has checked the proof against the chain (src/user/solvency/check.ts), read by
// "Proof of solvency" page's list of saved proofs and by the exit page when it is served from the same site
// (src/exit/): what a member needs to take their exit (contracts/EXIT.md §7) if the operator's servers are gone. The
// proof is kept exactly as the server gave it (the JSON of `download=true`, what the exit page and the command-line
// tool read). A proof replaced by a newer one whose leaf is lower is kept beside it as evidence (lib/leaf-evidence.ts).
// Loaded only with the proof of solvency's chunk (or the exit page): nothing of it weighs on `/`.

import { saveFile } from "./save-file";

/** One saved proof: the server's JSON as it was verified, and when. */
export interface SavedProof {
  /** `chain:contract:token:member`, lower case. */
  key: string;
  chainId: number;
  contract: string;
  token: string;
  member: string;
  symbol: string;
  epoch: number;
  /** When the badge verified and saved it (ms since 1970). */
  savedAt: number;
  /** The proof as the server gave it (`GET /v1/users/solvency-proof`). */
  proof: unknown;
}

/**
 * An IndexedDB database of one object store, at version 1: another store is a database of its own, never an upgrade
 * of this one (an upgrade would lock out whatever opens it at version 1 meanwhile: another tab, the exit page).
 */
export interface StoreName {
  db: string;
  store: string;
  keyPath: string;
}

const PROOFS: StoreName = { db: "referral-proofs", store: "proofs", keyPath: "key" };
/** Fired on `window` after a save, so that a list on screen reads again. */
export const SAVED_EVENT = "referral:proof-saved";

/**
 * Why this browser could not keep or read what is kept here: it offers no IndexedDB (`unavailable`: a private window of
 * some browsers), the database would not open (`would_not_open`), another tab holds it (`blocked`), it has no room left
 * (`full`) or it refused the request (`refused`).
 */
export type StoreProblem = "unavailable" | "would_not_open" | "blocked" | "full" | "refused";

/**
 * What this module and lib/leaf-evidence.ts throw when IndexedDB fails them: the problem as data, which the page words
 * in the reader's language (src/user/solvency/saved.tsx `storeErrorText`); the browser's own error, if any, as
 * `cause`.
 */
export class ProofStoreError extends Error {
  constructor(
    readonly problem: StoreProblem,
    cause?: unknown,
  ) {
    super(`IndexedDB: ${problem}`, { cause });
  }
}

/** A browser's error of a request or transaction as the problem it is. */
const refusal = (e: unknown) => new ProofStoreError(e instanceof DOMException && e.name === "QuotaExceededError" ? "full" : "refused", e ?? undefined);

function open(at: StoreName): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") return reject(new ProofStoreError("unavailable"));
    let r: IDBOpenDBRequest;
    try {
      r = indexedDB.open(at.db, 1);
    } catch (e) {
      // Firefox's private windows, a sandboxed frame: opening throws.
      return reject(new ProofStoreError("unavailable", e));
    }
    r.onupgradeneeded = () => r.result.createObjectStore(at.store, { keyPath: at.keyPath });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error?.name === "QuotaExceededError" ? refusal(r.error) : new ProofStoreError("would_not_open", r.error));
    r.onblocked = () => reject(new ProofStoreError("blocked"));
  });
}

/** One request on the store `at`, in a transaction of its own; its result once the transaction completed. */
export async function runIn<T>(at: StoreName, mode: IDBTransactionMode, f: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open(at);
  try {
    return await new Promise<T>((resolve, reject) => {
      let tx: IDBTransaction;
      let request: IDBRequest<T>;
      try {
        tx = db.transaction(at.store, mode);
        request = f(tx.objectStore(at.store));
      } catch (e) {
        // A value that cannot be stored, a database closed under us: the request never started.
        return reject(refusal(e));
      }
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(refusal(tx.error));
      tx.onabort = () => reject(refusal(tx.error));
    });
  } finally {
    db.close();
  }
}

const run = <T>(mode: IDBTransactionMode, f: (store: IDBObjectStore) => IDBRequest<T>) => runIn(PROOFS, mode, f);

/** What a proof is kept by: its chain, contract, token and member, epoch and symbol. */
export type ProofToKeep = { chain_id: number; contract: string; token: string; user: string; symbol?: string; epoch: number };

/** The key a proof is kept under. */
export const proofKey = (p: { chain_id: number; contract: string; token: string; user: string }) =>
  `${p.chain_id}:${p.contract}:${p.token}:${p.user}`.toLowerCase();

/** The record `proof` is kept as, saved now. */
export const recordOf = (proof: ProofToKeep): SavedProof => ({
  key: proofKey(proof),
  chainId: proof.chain_id,
  contract: proof.contract.toLowerCase(),
  token: proof.token.toLowerCase(),
  member: proof.user.toLowerCase(),
  symbol: proof.symbol ?? "",
  epoch: proof.epoch,
  savedAt: Date.now(),
  proof,
});

/** The proof kept under `key`, if any. */
export const savedProof = (key: string): Promise<SavedProof | undefined> => run<SavedProof | undefined>("readonly", (s) => s.get(key));

/**
 * Keeps `proof` (already verified against the chain) as the member's latest for its chain, contract, token and member;
 * an older epoch never replaces a newer one. The record kept (the newer one when `proof` was older).
 */
export async function saveProof(proof: ProofToKeep): Promise<SavedProof> {
  const record = recordOf(proof);
  const was = await savedProof(record.key);
  if (was && was.epoch > record.epoch) return was;
  await run("readwrite", (s) => s.put(record));
  window.dispatchEvent(new Event(SAVED_EVENT));
  return record;
}

/** Every proof saved in this browser, newest first; none when IndexedDB cannot be read. */
export async function savedProofs(): Promise<SavedProof[]> {
  const all = await run<SavedProof[]>("readonly", (s) => s.getAll());
  return all.sort((a, b) => b.savedAt - a.savedAt);
}

/** The file name a saved proof is downloaded as (the badge's own form, with the contract: one file per contract). */
export const savedFileName = (p: SavedProof) => `solvency-proof-${p.symbol || "asset"}-epoch${p.epoch}-${p.contract}-${p.member}.json`;

/** Saves `value` as a JSON file (a download the browser makes from the page's memory: nothing is fetched). */
export function downloadJson(name: string, value: unknown) {
  saveFile(name, new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: "application/json" }));
}
