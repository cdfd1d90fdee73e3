// A payment in flight, kept across reloads and tabs: per (wallet, asset, kind) in localStorage, the payload as the
// API gave it (its nonce and deadline: the contract executes a nonce at most once) once received, the approval's
// hash once sent and the payment's hash (TRON: txid) once sent, and the block it was mined in. A reloaded page, or
// another tab, reads it and follows that payment instead of offering a fresh one; the record goes on a final
// outcome (applied, quarantined, failed on-chain, expired unused). The same record serves EVM wallets and
// TronLink. Nothing in it is secret: a payload only lets its own wallet pay its own fee, once.
//
// While a tab drives a payment (asks its wallet to sign and send) it holds a Web Lock named after the record, so
// that another tab (or the same one reloaded, once the lock is gone with the old page) can tell "a wallet is being
// asked right now" from "the page that asked is gone".

import type { SignedPayment } from "../../lib/types";

export type PaymentKind = "register" | "retopup";

export interface InFlight {
  v: 1;
  /** 0x, lower case (the session's account; a TRON account's 0x twin). */
  wallet: string;
  asset_id: number;
  kind: PaymentKind;
  /** The payload the API gave (nonce, deadline, the transaction and, on TRON, the TronWeb call). */
  payment: SignedPayment;
  /** The approval's hash (TRON: txid) once sent. */
  approve?: string;
  /** The payment's hash (TRON: txid) once sent. */
  tx?: string;
  /** The block the payment was mined in (decimal), once seen. */
  mined?: string;
  /** Epoch ms of the last change. */
  at: number;
}

const PREFIX = "referral.payment.";

export interface Slot {
  wallet: string;
  asset_id: number;
  kind: PaymentKind;
}

export const slotKey = (s: Slot) => `${PREFIX}${s.wallet.toLowerCase()}.${s.asset_id}.${s.kind}`;
/** The Web Lock a tab holds while it drives this slot's payment. */
export const lockName = (s: Slot) => `${slotKey(s)}.driving`;

function valid(r: unknown, s: Slot): r is InFlight {
  const x = r as Partial<InFlight> | null;
  return (
    !!x &&
    x.v === 1 &&
    x.wallet === s.wallet.toLowerCase() &&
    x.asset_id === s.asset_id &&
    x.kind === s.kind &&
    !!x.payment &&
    typeof x.payment.nonce === "string" &&
    typeof x.payment.deadline === "number" &&
    x.payment.asset_id === s.asset_id &&
    x.payment.kind === s.kind
  );
}

/** The slot's record, or null (none, or unreadable). */
export function load(s: Slot): InFlight | null {
  try {
    const raw = localStorage.getItem(slotKey(s));
    const r = raw ? (JSON.parse(raw) as unknown) : null;
    return valid(r, s) ? r : null;
  } catch {
    return null;
  }
}

/** A new record for a payload just received. */
export function begin(s: Slot, payment: SignedPayment): InFlight {
  const r: InFlight = { v: 1, wallet: s.wallet.toLowerCase(), asset_id: s.asset_id, kind: s.kind, payment, at: Date.now() };
  save(r);
  return r;
}

/** Adds what happened (approval sent, payment sent, mined) to the record of the same payload. */
export function update(r: InFlight, change: Partial<Pick<InFlight, "approve" | "tx" | "mined">>): InFlight {
  // Another tab may have written meanwhile: keep what it knows of this payload too.
  const stored = load(r);
  const base = stored && stored.payment.nonce === r.payment.nonce ? { ...r, ...stored } : r;
  const next = { ...base, ...change, at: Date.now() };
  save(next);
  return next;
}

function save(r: InFlight) {
  try {
    localStorage.setItem(slotKey(r), JSON.stringify(r));
  } catch {
    // Storage full or refused: the payment goes on; only a reload would not find it.
  }
}

/** Forgets the slot's payment (a final outcome), if it is still `nonce`'s. */
export function clear(s: Slot, nonce: string) {
  const r = load(s);
  if (r && r.payment.nonce !== nonce) return;
  localStorage.removeItem(slotKey(s));
}

const noticeKey = (s: Slot) => `referral.notice.${s.wallet.toLowerCase()}.${s.asset_id}.${s.kind}`;

/**
 * Lets go of the slot's payment with what became of it (its authorisation expired, nothing charged): the record goes,
 * the sentence stays until the slot's next payment starts, so a reload or a re-rendered panel still tells the payer.
 */
export function letGo(s: Slot, nonce: string, text: string) {
  clear(s, nonce);
  try {
    localStorage.setItem(noticeKey(s), text);
  } catch {
    // Storage full or refused: the page still shows it now.
  }
}

/** What became of the slot's last payment the page let go, if nothing started since. */
export function lastNotice(s: Slot): string | null {
  try {
    return localStorage.getItem(noticeKey(s));
  } catch {
    return null;
  }
}

/** A new payment of the slot starts: the last one's notice is done with. */
export function forgetNotice(s: Slot) {
  try {
    localStorage.removeItem(noticeKey(s));
  } catch {
    // Nothing kept.
  }
}

/** Follows the slot's record as other tabs write it (the `storage` event fires in every tab but the writer). */
export function watch(s: Slot, f: (r: InFlight | null) => void): () => void {
  const key = slotKey(s);
  const on = (e: StorageEvent) => {
    if (e.key === key || e.key === null) f(load(s));
  };
  window.addEventListener("storage", on);
  return () => window.removeEventListener("storage", on);
}

type Locks = LockManager | undefined;
const locks = (): Locks => (navigator as Navigator & { locks?: LockManager }).locks;

/**
 * Runs `f` holding the slot's lock; returns `null` without running it when another tab (or page) holds it. Where
 * Web Locks are missing, `f` just runs.
 */
export async function driving<T>(s: Slot, f: () => Promise<T>): Promise<T | null> {
  const l = locks();
  if (!l) return f();
  let ran = false;
  const out = await l.request(lockName(s), { ifAvailable: true }, async (lock) => {
    if (!lock) return null;
    ran = true;
    return f();
  });
  return ran ? (out as T) : null;
}

/** Whether another page holds the slot's lock now (a wallet is being asked there). */
export async function drivenElsewhere(s: Slot): Promise<boolean> {
  const l = locks();
  if (!l) return false;
  const q = await l.query();
  return (q.held ?? []).some((h) => h.name === lockName(s));
}

/** Resolves once no page holds the slot's lock (taking and releasing it at once). */
export async function whenReleased(s: Slot, signal: AbortSignal): Promise<void> {
  const l = locks();
  if (!l) return;
  await l.request(lockName(s), { signal }, async () => undefined);
}
