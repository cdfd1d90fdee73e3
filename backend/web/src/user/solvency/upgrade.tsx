// After an upgrade (contracts/UPGRADES.md §7): every contract of the build on the asset's chain — whether the asset
// has more than one, one contract's commitment in the shape of the live one's read, the contracts in words, and the
// replaced contracts that stopped committing while they still hold money.

import { t, tx } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import type { ContractCommitment, RoundVerdict } from "../../lib/solvency-round.js";
import { type ChainCommitmentRead, readHolding } from "../../lib/solvency-chain";
import { type AnyConnection, chainAddress } from "../../lib/tron";
import { Addr, Amount, Notice } from "../../ui/bits";
import { nb } from "./common";

/**
 * Whether the build carries contracts the live one replaced on the asset's chain that ever allowed the asset's token
 * (then their commitments count with the live one's). A replaced contract that never allowed it holds no commitment
 * and no member's money in it: the asset is shown as with one contract.
 */
export const upgraded = (read: ChainCommitmentRead) => read.previous.some((p) => p.tokenEverAllowed);

/** One contract's commitment (the live one, or one it replaced), in the shape of the live contract's read. */
export function readAt(read: ChainCommitmentRead, hex: string): ChainCommitmentRead {
  const p = read.previous.find((x) => x.contractHex.toLowerCase() === hex.toLowerCase());
  if (!p) return read;
  const { root, total, epoch, asOfBlock, commitBlock, custody, contract, contractHex, tokenEverAllowed, registeredAt } = p;
  return { ...read, root, total, epoch, asOfBlock, commitBlock, custody, contract, contractHex, tokenEverAllowed, registeredAt, previous: [] };
}

/** "the live contract 0x12…" / "the replaced contract 0x34…", in the chain's form. */
export function contractWords(chainId: number, c: { contract: string; live: boolean }, testid?: string) {
  return <>{tx(c.live ? "sv.contract_live" : "sv.contract_replaced", { address: <Addr a={chainAddress(chainId, c.contract)} chainId={chainId} testid={testid} /> })}</>;
}
export const contractText = (chainId: number, c: { contract: string; live: boolean }) => t(c.live ? "sv.contract_live" : "sv.contract_replaced", { address: chainAddress(chainId, c.contract) });

/** The contracts a verdict names (on the round, lagging, conflicting), the live one first. */
export const contractsOf = (v: RoundVerdict) => [...v.members, ...v.conflicts, ...v.behind].sort((x, y) => Number(y.live) - Number(x.live));

/** What a contract's latest commitment holds, in words: "epoch 3, the balances of block 120" or "nothing committed yet". */
export const commitmentText = (c: ContractCommitment) => (c.epoch > 0n ? t("sv.commitment_of", { epoch: nb(c.epoch), block: nb(c.asOfBlock) }) : t("sv.commitment_none"));

/** A replaced contract the operator's server no longer lists and that did not commit the round, with what it still holds (null: unreadable). */
export type Dropped = { contract: string; held: bigint | null };

/** What each contract in `verdict.dropped` holds now, read through the wallet; only those that hold something (or could not be read). */
export async function droppedHoldings(c: AnyConnection, read: ChainCommitmentRead, verdict: RoundVerdict): Promise<Dropped[]> {
  const all = await Promise.all(
    verdict.dropped.map(async (d) => {
      const held = await readHolding(c, read, d.contract).catch(() => null);
      return { contract: d.contract, held };
    }),
  );
  return all.filter((d) => d.held === null || d.held > 0n);
}

/** The warning for replaced contracts that stopped committing while they still hold money. */
export function DroppedWarning(props: { a: { chain_id: number; decimals: number; symbol: string }; dropped: Dropped[] }) {
  const { a, dropped } = props;
  if (dropped.length === 0) return null;
  return (
    <Notice kind="warn" testid="solvency-dropped">
      <p class="banner-title">{t("sv.dropped_title")}</p>
      <ul>
        {dropped.map((d) => (
          <li key={d.contract} data-contract={d.contract}>
            {tx("sv.dropped_line", {
              contract: contractWords(a.chain_id, { contract: d.contract, live: false }),
              amount: d.held === null ? t("sv.dropped_unread") : <Amount base={d.held} decimals={a.decimals} symbol={a.symbol} />,
            })}
          </li>
        ))}
      </ul>
    </Notice>
  );
}

/** The round's custody, each contract's and together, in plain words. */
export function roundCustodyText(a: { chain_id: number; decimals: number; symbol: string }, verdict: RoundVerdict) {
  const amount = (v: bigint, testid?: string) => <Amount base={v} decimals={a.decimals} symbol={a.symbol} testid={testid} />;
  return (
    <>
      {verdict.members.map((m, i) => (
        <span key={m.contract} data-contract={m.contract} data-custody={m.custody.toString()}>
          {i > 0 && (i === verdict.members.length - 1 ? t("sv.list_and") : t("sv.list_comma"))}
          {tx("sv.contract_held", { contract: contractWords(a.chain_id, m), amount: amount(m.custody) })}
        </span>
      ))}
    </>
  );
}
