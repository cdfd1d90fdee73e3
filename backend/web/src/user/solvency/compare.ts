// The public page's comparison of the server's report with the chain's: the live contract's latest epoch against the
// server's; after an upgrade also each replaced contract's the server lists, and the server's round against the
// chain's complete one (its custody summed).

import { amount as fmtAmount } from "../../lib/format";
import { t } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import { type ChainCommitmentRead, commitAgeOf, roundOf } from "../../lib/solvency-chain";
import type { AssetSolvency, EpochView } from "../../lib/types";
import { blocksAgo, cap, nb } from "./common";
import { contractText, readAt, upgraded } from "./upgrade";

/** A chain epoch the server has not reported yet is "not recorded yet" this many blocks after its commit; past it, a mismatch. */
const RECORD_GRACE_BLOCKS = 40n;

/** How the server's latest epoch stands against the chain's. */
export type Comparison =
  | { kind: "none" }
  | { kind: "match" }
  /** After an upgrade, `contract` names the contract whose epoch the server has not recorded yet. */
  | { kind: "behind"; server: number | null; contract?: { contract: string; live: boolean; epoch: bigint; commitAge: bigint } }
  | { kind: "mismatch"; what: string; details: string[] };

/**
 * How the server's report stands against the chain's: the live contract's latest epoch; after an upgrade also each
 * replaced contract's the server lists, and the server's round against the chain's complete one (its custody summed).
 */
export function compare(a: AssetSolvency, read: ChainCommitmentRead): Comparison {
  const live = compareEpoch(a, a.latest, read);
  if (!upgraded(read) || !a.contracts) return live;
  const results: { c: Comparison; who: { contract: string; live: boolean }; at: ChainCommitmentRead }[] = [{ c: live, who: { contract: read.contract, live: true }, at: read }];
  for (const p of read.previous) {
    const served = a.contracts.find((x) => x.contract_hex.toLowerCase() === p.contractHex.toLowerCase());
    if (!served) continue;
    const at = readAt(read, p.contractHex);
    results.push({ c: compareEpoch(a, served.latest, at), who: { contract: p.contract, live: false }, at });
  }
  const label = (w: { contract: string; live: boolean }) => `${cap(contractText(a.chain_id, w))}: `;
  const mismatched = results.filter((r) => r.c.kind === "mismatch");
  const details = mismatched.flatMap((r) => (r.c.kind === "mismatch" ? r.c.details.map((d) => label(r.who) + d) : []));
  // The server's round (the custody of every contract together) against the chain's complete round of the same block.
  const verdict = roundOf(read);
  const round = a.round;
  const roundParts: string[] = [];
  if (round && verdict.kind === "complete" && BigInt(round.as_of_block) === verdict.asOfBlock) {
    const amount = (v: bigint | string) => fmtAmount(v, a.decimals, a.symbol);
    if (BigInt(round.total.base) !== verdict.total) {
      roundParts.push(t("sv.what_round_total"));
      details.push(t("sv.diff_round_total", { block: nb(round.as_of_block), server: amount(round.total.base), chain: amount(verdict.total) }));
    }
    if (BigInt(round.custody.base) !== verdict.custody) {
      roundParts.push(t("sv.what_round_custody"));
      details.push(t("sv.diff_round_custody", { block: nb(round.as_of_block), server: amount(round.custody.base), chain: amount(verdict.custody) }));
    }
  }
  if (details.length) {
    const first = mismatched[0]?.c;
    return { kind: "mismatch", what: first?.kind === "mismatch" ? first.what : roundParts[0], details };
  }
  const behind = results.find((r) => r.c.kind === "behind");
  if (behind && behind.c.kind === "behind")
    return { kind: "behind", server: behind.c.server, contract: { ...behind.who, epoch: behind.at.epoch, commitAge: commitAgeOf(behind.at) } };
  if (results.every((r) => r.c.kind === "none")) return { kind: "none" };
  return results.some((r) => r.c.kind === "match") ? { kind: "match" } : live;
}

/** How the server's epoch of one contract (`api`) stands against that contract's read from the chain. */
function compareEpoch(a: AssetSolvency, api: EpochView | undefined, read: ChainCommitmentRead): Comparison {
  const amount = (v: bigint | string) => fmtAmount(v, a.decimals, a.symbol);
  if (read.epoch === 0n) {
    return api ? { kind: "mismatch", what: t("sv.what_epoch"), details: [t("sv.diff_no_commitment", { epoch: nb(api.epoch) })] } : { kind: "none" };
  }
  if (!api || BigInt(api.epoch) < read.epoch) {
    if (commitAgeOf(read) <= RECORD_GRACE_BLOCKS) return { kind: "behind", server: api?.epoch ?? null };
    return {
      kind: "mismatch",
      what: t("sv.what_old_epoch"),
      details: [
        t("sv.diff_old_epoch", {
          epoch: nb(read.epoch),
          block: nb(read.commitBlock),
          ago: blocksAgo(commitAgeOf(read)),
          server: api ? t("sv.epoch_n", { epoch: nb(api.epoch) }) : t("sv.none"),
        }),
      ],
    };
  }
  if (BigInt(api.epoch) > read.epoch)
    return { kind: "mismatch", what: t("sv.what_epoch"), details: [t("sv.diff_ahead", { server: nb(api.epoch), chain: nb(read.epoch) })] };
  const details: string[] = [];
  const parts: string[] = [];
  if (api.root.toLowerCase() !== read.root.toLowerCase()) {
    parts.push(t("sv.what_root"));
    details.push(t("sv.diff_root", { server: api.root, chain: read.root }));
  }
  if (BigInt(api.total.base) !== read.total) {
    parts.push(t("sv.what_total"));
    details.push(t("sv.diff_total", { server: amount(api.total.base), chain: amount(read.total) }));
  }
  if (BigInt(api.as_of_block) !== read.asOfBlock) {
    parts.push(t("sv.what_block"));
    details.push(t("sv.diff_block", { server: nb(api.as_of_block), chain: nb(read.asOfBlock) }));
  }
  if (api.custody && BigInt(api.custody.base) !== read.custody) {
    parts.push(t("sv.what_custody"));
    details.push(t("sv.diff_custody", { server: amount(api.custody.base), chain: amount(read.custody) }));
  }
  if (api.committed_block != null && BigInt(api.committed_block) !== read.commitBlock) {
    parts.push(t("sv.what_commit_block"));
    details.push(t("sv.diff_commit_block", { server: nb(api.committed_block), chain: nb(read.commitBlock) }));
  }
  return details.length ? { kind: "mismatch", what: parts[0], details } : { kind: "match" };
}
