// The proof of solvency's verdict per asset, as the signed-in member's badge judged it (src/user/solvency/badge.tsx),
// for the pay buttons (src/plans/kit/payment.tsx) to read: the badge computes it once; a payment only asks. Small and
// in the main chunk (the badge's own chunk loads on demand); a page without a badge (the public plan page) has no
// verdict.

import { useEffect, useState } from "preact/hooks";

/**
 * `verified`: the member's balance is in the chain's committed root and custody covered the total; `stale`: only the
 * commitment's age failed; `failed`: anything else did not match (insolvency included); `unknown`: not checked (yet).
 */
export type Verdict = "verified" | "stale" | "failed" | "unknown";

const verdicts = new Map<number, { verdict: Verdict; owner: object }>();
const listeners = new Set<() => void>();
const changed = () => {
  for (const l of listeners) l();
};

/**
 * Records `assetId`'s verdict from one badge (`owner`, any object of that badge). A second badge of the same asset
 * (the dashboard's and the proof-of-solvency page's) computes the same verdict: the latest one stands.
 */
export function publishVerdict(assetId: number, verdict: Verdict, owner: object): void {
  const now = verdicts.get(assetId);
  if (now?.verdict === verdict && now.owner === owner) return;
  verdicts.set(assetId, { verdict, owner });
  changed();
}

/** Forgets `assetId`'s verdict when the badge that gave it goes (another account, signing out). */
export function withdrawVerdict(assetId: number, owner: object): void {
  if (verdicts.get(assetId)?.owner !== owner) return;
  verdicts.delete(assetId);
  changed();
}

/** The element id of `assetId`'s badge (the pay notice's "See the check" leads there). */
export const badgeId = (assetId: number): string => `solvency-badge-${assetId}`;

/** The verdict of `assetId` now (null: no badge judged it). */
export const verdictOf = (assetId: number): Verdict | null => verdicts.get(assetId)?.verdict ?? null;

/** The verdict of `assetId`, re-rendering the caller when a badge changes it. */
export function useVerdict(assetId: number): Verdict | null {
  const [verdict, setVerdict] = useState(() => verdictOf(assetId));
  useEffect(() => {
    const read = () => setVerdict(verdictOf(assetId));
    read();
    listeners.add(read);
    return () => {
      listeners.delete(read);
    };
  }, [assetId]);
  return verdict;
}
