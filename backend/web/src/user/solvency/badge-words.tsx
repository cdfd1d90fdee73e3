// The badge in plain words: one sentence (verified, stale, or what did not match), the leaf as the sum of the
// dashboard's tiles, how old the commitment is by the chain's clock, and what a member can do while it is stale or
// failing.

import type { ComponentChildren } from "preact";
import { dateTime, span } from "../../lib/format";
import { t, tx } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import type { Check } from "../../lib/solvency.js";
import type { ExitClock } from "../../lib/solvency-chain";
import type { AssetSolvency, Balances, SolvencyProofAnswer } from "../../lib/types";
import { Amount } from "../../ui/bits";
import { balancesOf } from "./check";
import { ExitPageLink } from "./saved";

/** A span of seconds in the member's language, its two largest units ("3 days 4 hours"). */
const spanWords = (seconds: bigint): string => span(seconds);

/** The five parts of a leaf, in the order of the dashboard's tiles, with the tile each equals. */
const TILE_PARTS = [
  ["pending", "solvency.part_pending"],
  ["batched", "solvency.part_batched"],
  ["held", "solvency.part_held"],
  ["reserved", "solvency.part_reserved"],
  ["claimable", "solvency.part_claimable"],
] as const;
/**
 * Every part a leaf may have: the tiles' five, then a sales-plan leaf's sixth, `maturing` (retail commissions whose
 * sale the buyer can still take back; SOLVENCY.md's 0x03 leaf). It has no tile of its own among the balances, so it is
 * not compared with the tiles.
 */
const LEAF_PARTS = [...TILE_PARTS, ["maturing", "solvency.part_maturing"]] as const;

/**
 * "Your 54 BNB in this proof = 42 BNB pending + 12 BNB reserved." — the leaf's value as the sum of the balances it is
 * made of (SOLVENCY.md: reserved + held + pending + batched + claimable, + maturing on the sales plan), each named as
 * its tile on the dashboard, and whether the tiles show the same figures now (`tiles`: the member's balances now; null
 * while unknown).
 */
export function LeafParts(props: { proof: SolvencyProofAnswer; value: bigint; asset: { decimals: number; symbol: string }; tiles: Balances | null }) {
  const { asset, tiles } = props;
  const balances = balancesOf(props.proof);
  if (!balances) return null;
  const amount = (v: bigint, testid?: string) => <Amount base={v} decimals={asset.decimals} symbol={asset.symbol} testid={testid} />;
  const part = (k: (typeof LEAF_PARTS)[number][0]) => balances[k] ?? 0n;
  const shown = LEAF_PARTS.filter(([k]) => part(k) > 0n);
  const same = tiles ? TILE_PARTS.every(([k]) => BigInt(tiles[k]) === balances[k]) : null;
  const sales = balances.maturing !== undefined;
  return (
    <div class="solvency-parts" data-testid="solvency-parts" data-tiles={same === null ? "unknown" : same ? "same" : "changed"}>
      <p>
        {shown.length === 0
          ? tx(sales ? "solvency.parts_none_sales" : "solvency.parts_none", { value: amount(props.value, "solvency-parts-value") })
          : tx("solvency.parts", {
              value: amount(props.value, "solvency-parts-value"),
              parts: shown.map(([k, key], i) => (
                <span key={k} data-testid="solvency-part" data-part={k} data-base={part(k).toString()}>
                  {i > 0 && " + "}
                  {tx(key, { amount: amount(part(k)) })}
                </span>
              )),
            })}
      </p>
      {same !== null && (
        <p class="muted" data-testid="solvency-tiles">
          {t(same ? "solvency.tiles_same" : "solvency.tiles_changed", { block: BigInt(props.proof.as_of_block) })}
        </p>
      )}
    </div>
  );
}

/**
 * What a member can do while the proof is stale or failing: wait (or check again), withhold new payments, download
 * the proof file (the button is beside it), and when and how to exit — from the contract's own exit clock, read
 * through the wallet (`clock`; null: not read, a general sentence then), or that the exit is open (`opened`).
 */
export function Advice(props: { verdict: "stale" | "failed"; symbol: string; clock: ExitClock | null; opened?: AssetSolvency["exit"] }) {
  const { verdict, symbol, clock, opened } = props;
  const link = <ExitPageLink />;
  let exit: ComponentChildren;
  if (opened) exit = tx("solvency.advice_exit_open", { symbol, block: opened.opened_block, link });
  else if (clock && clock.commitTime > 0n && clock.chainTime >= clock.opensAt) exit = tx("solvency.advice_exit_due", { symbol, period: spanWords(clock.exitAfter), link });
  else if (clock && clock.commitTime > 0n)
    exit = tx("solvency.advice_exit_when", { symbol, date: dateTime(Number(clock.opensAt) * 1000), left: spanWords(clock.opensAt - clock.chainTime), link });
  else exit = tx("solvency.advice_exit_generic", { link });
  return (
    <div class="solvency-advice" data-testid="solvency-advice" data-verdict={verdict} data-exit-opens-at={clock?.opensAt.toString()}>
      <p class="advice-title">{t("solvency.advice_title")}</p>
      <ul>
        <li data-advice="wait">{t(verdict === "stale" ? "solvency.advice_wait_stale" : "solvency.advice_wait_failed")}</li>
        <li data-advice="withhold">{t("solvency.advice_withhold", { symbol })}</li>
        <li data-advice="download">{t("solvency.advice_download")}</li>
        <li data-advice="exit">{exit}</li>
      </ul>
    </div>
  );
}

/** How old the latest commitment is in time, by the chain's clock (nothing when it was not read). */
export function CommittedAgo(props: { clock: ExitClock | null }) {
  const c = props.clock;
  if (!c || c.commitTime === 0n) return null;
  return (
    <p data-testid="solvency-age" data-commit-time={c.commitTime.toString()}>
      {t("solvency.committed_ago", { ago: spanWords(c.chainTime - c.commitTime), date: dateTime(Number(c.commitTime) * 1000) })}
    </p>
  );
}

/** What did not match, in plain words (the first failed check's, or the badge's own finding). */
export function whatFailed(id: Check["id"] | "excluded" | "untrusted-contract" | "untrusted-token" | "round", symbol: string): string {
  switch (id) {
    case "format":
    case "range":
    case "shape":
    case "fold":
    case "layout":
      return t("solvency.what_malformed");
    case "contract":
    case "untrusted-contract":
      return t("solvency.what_contract");
    case "allowed":
    case "untrusted-token":
      return t("solvency.what_token");
    case "context":
      return t("solvency.what_context");
    case "epoch":
      return t("solvency.what_epoch");
    case "root":
      return t("solvency.what_root");
    case "total":
      return t("solvency.what_total");
    case "balances":
      return t("solvency.what_balances");
    case "solvent":
      return t("solvency.what_insolvent", { symbol });
    case "excluded":
      return t("solvency.what_excluded");
    case "round":
      return t("solvency.what_round");
    default:
      return t("solvency.what_commitment");
  }
}

/** The one sentence of a failed check. */
export const failedSentence = (what: string) => <p class="banner-title" data-testid="solvency-sentence">{t("solvency.sentence_failed", { what })}</p>;

/** The one sentence of a stale commitment: its age in blocks against the build's maximum. */
export const staleSentence = (symbol: string, blocks: bigint, max: bigint) => (
  <p class="banner-title" data-testid="solvency-sentence">
    {t("solvency.sentence_stale", { symbol, blocks, max })}
  </p>
);
