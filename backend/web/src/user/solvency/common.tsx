// What the parts of the proof of solvency share: the server's overview (`GET /v1/public/solvency`), asked once for
// all of them, and the small marks they all write — an asset's name (with its network on TRON), block numbers and
// epochs, ages in blocks, hashes, and the experts' fold.

import type { ComponentChildren } from "preact";
import { publicCall } from "../../lib/api";
import { plain } from "../../lib/format";
import { locale, t } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import { isTronChain, networkText } from "../../lib/tron";
import type { SolvencyOverview } from "../../lib/types";

let overviewCache: { at: number; answer: Promise<SolvencyOverview> } | null = null;

/** `GET /v1/public/solvency`, shared by every part of the page for a few seconds (`fresh`: asked again now). */
export function overview(fresh = false): Promise<SolvencyOverview> {
  if (fresh || !overviewCache || Date.now() - overviewCache.at > 5_000) {
    const answer = publicCall<SolvencyOverview>("GET", "/v1/public/solvency");
    overviewCache = { at: Date.now(), answer };
    answer.catch(() => {
      if (overviewCache?.answer === answer) overviewCache = null;
    });
  }
  return overviewCache.answer;
}

export const where = (a: { symbol: string; chain_id: number }) => (isTronChain(a.chain_id) ? t("sv.on_network", { symbol: a.symbol, network: networkText(a.chain_id) }) : a.symbol);

/** A block number, an epoch, a count of blocks in a sentence: the reader's digits, never grouped. */
export const nb = (v: bigint | number | string) => plain(BigInt(v));

/** A sentence's first letter in capitals (a phrase that opens one), in the reader's language (no change where there are none). */
export const cap = (s: string) => s.charAt(0).toLocaleUpperCase(locale()) + s.slice(1);

export const shortHex = (h: string) => (h.length > 20 ? `${h.slice(0, 10)}…${h.slice(-8)}` : h);

/** A 32-byte hash, shortened, the whole of it on hover and focus. */
export function Hash(props: { h: string; testid?: string }) {
  return (
    <code title={props.h} data-hash={props.h} data-testid={props.testid} tabIndex={0}>
      {shortHex(props.h)}
    </code>
  );
}

/** "12 blocks ago" (one block ago), its count in the reader's digits. */
export const blocksAgo = (blocks: bigint) => t("sv.blocks_ago", { count: Number(blocks) });

/** The technical part, folded: hashes, blocks, base units, every check. */
export function Experts(props: { children: ComponentChildren }) {
  return (
    <details class="solvency-experts" data-testid="solvency-experts">
      <summary>{t("solvency.experts")}</summary>
      {props.children}
    </details>
  );
}
