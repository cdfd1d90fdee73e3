// The member's watch over their leaf: every drop of their entitlement in an asset from one kept proof to the next
// that what they were paid between the two does not explain (lib/leaf-watch.js), with both proofs to download
// (lib/leaf-evidence.ts); read from this browser alone.

import { useEffect, useState } from "preact/hooks";
import { t, tx } from "../../i18n";
// The leaf watch's words (a surface of its own, so that the dApp's first load does not carry them).
import "../../i18n/member";
import { cannotReadText } from "../../lib/solvency-chain";
import { downloadJson, savedFileName } from "../../lib/proof-store";
import { EVIDENCE_EVENT, type LeafEvidence, type LeafWhy, downloadEvidence, forgetEvidence, judgeEvidence, leafEvidence } from "../../lib/leaf-evidence";
import { type LeafPayment, leafPoint } from "../../lib/leaf-watch.js";
import type { AnyConnection } from "../../lib/tron";
import { errorText } from "../../ui/account";
import { Amount, Notice } from "../../ui/bits";
import { Experts } from "./common";

/**
 * Why the payments between two proofs could not be read, or a leave not counted (lib/leaf-evidence.ts), in the
 * reader's language; a reason kept in words by an earlier build as it is.
 */
function leafWhyText(why: LeafWhy | string | null): string {
  if (why === null) return "";
  if (typeof why === "string") return why;
  switch (why.reason) {
    case "history_too_long":
      return t("solvency.leaf_why_history_too_long", { max: why.max });
    case "history_unreadable":
      return t("solvency.leaf_why_history_unreadable");
    case "notes_too_long":
      return t("solvency.leaf_why_notes_too_long", { max: why.max });
    case "leave_unnamed":
      return t("solvency.leaf_why_leave_unnamed");
    case "cannot_read":
      return cannotReadText(why.problem, why.chainId);
    case "tx_unknown":
      return t("solvency.leaf_why_tx_unknown", { wallet: why.wallet, tx: why.tx });
    case "tx_failed":
      return t("solvency.leaf_why_tx_failed", { tx: why.tx });
    case "no_tronlink":
      return t("solvency.leaf_why_no_tronlink");
    case "leave_unreadable":
      return t("solvency.leaf_why_leave_unreadable", { tx: why.tx });
    case "no_leave_there":
      return t("solvency.leaf_why_no_leave_there", { tx: why.tx });
    case "said":
      return why.text;
  }
}

/** The line of each kind of payment that explains a drop. */
const PAYMENT_LINE = {
  payout: "solvency.leaf_payment_payout",
  deferred: "solvency.leaf_payment_deferred",
  left: "solvency.leaf_payment_left",
} as const satisfies Record<LeafPayment["kind"], string>;

/**
 * Every drop of the member's entitlement in this asset from one kept proof to the next that what they were paid
 * between the two does not explain (lib/leaf-watch.js), with both proofs to download (lib/leaf-evidence.ts). Read from
 * this browser alone, whatever the badge's own check says and whether or not the operator's servers answer; it stays
 * as long as the evidence is kept — the member may delete it, nothing else does. A drop whose payments could not be
 * read yet is said as such, and read again on each check (`round`: the badge's).
 */
export function LeafWatch(props: { assetId: number; chainId: number; address: string; connection: AnyConnection; round: number }) {
  const [list, setList] = useState<LeafEvidence[]>([]);
  useEffect(() => {
    let alive = true;
    // Each piece judged once per check: a judgement that fails writes why, which fires the event again.
    const tried = new Set<string>();
    const read = () =>
      leafEvidence().then(
        (all) => {
          if (!alive) return;
          const mine = all.filter((e) => e.assetId === props.assetId && e.chainId === props.chainId && e.member === props.address.toLowerCase());
          setList(mine);
          for (const e of mine) {
            if (e.finding || tried.has(e.id)) continue;
            tried.add(e.id);
            void judgeEvidence(props.connection, e, errorText).catch(() => undefined);
          }
        },
        () => undefined,
      );
    void read();
    window.addEventListener(EVIDENCE_EVENT, read);
    return () => {
      alive = false;
      window.removeEventListener(EVIDENCE_EVENT, read);
    };
  }, [props.assetId, props.chainId, props.address, props.connection, props.round]);
  // A drop neither judged nor failed to be is having its payments read: nothing to say yet.
  const shown = list.filter((e) => e.finding || e.unread);
  if (shown.length === 0) return null;
  return (
    <div class="leaf-watch" data-testid="leaf-watch">
      {shown.map((e) => (
        <LeafLowered key={e.id} e={e} />
      ))}
    </div>
  );
}

/** One drop: the two epochs, the two amounts, what was paid between them and what is gone without a payment. */
function LeafLowered(props: { e: LeafEvidence }) {
  const { e } = props;
  const f = e.finding;
  const before = leafPoint(e.previous.proof);
  const after = leafPoint(e.next.proof);
  const amount = (v: bigint | string, testid?: string) => <Amount base={v} decimals={e.decimals} symbol={e.symbol} testid={testid} />;
  const figures = {
    symbol: e.symbol,
    before_epoch: e.previous.epoch,
    before_block: before.asOfBlock,
    before: amount(before.entitlement, "leaf-before"),
    after_epoch: e.next.epoch,
    after_block: after.asOfBlock,
    after: amount(after.entitlement, "leaf-after"),
  };
  const forget = () => {
    if (window.confirm(t("solvency.leaf_delete_confirm"))) void forgetEvidence(e.id).catch(() => undefined);
  };
  const buttons = (
    <div class="actions-row">
      <button type="button" onClick={() => downloadEvidence(e)} data-testid="leaf-evidence-download">
        {t("solvency.leaf_download")}
      </button>
      {[e.previous, e.next].map((r) => (
        <button type="button" key={r.epoch} onClick={() => downloadJson(savedFileName(r), r.proof)} data-testid="leaf-proof-download" data-epoch={r.epoch}>
          {t("solvency.leaf_download_proof", { epoch: r.epoch })}
        </button>
      ))}
      <button type="button" onClick={forget} data-testid="leaf-evidence-delete">
        {t("solvency.leaf_delete")}
      </button>
    </div>
  );
  const attrs = {
    "data-contract": e.next.contract,
    "data-before-epoch": String(e.previous.epoch),
    "data-after-epoch": String(e.next.epoch),
    "data-before": before.entitlement.toString(),
    "data-after": after.entitlement.toString(),
  };
  if (!f) {
    return (
      <div data-testid="leaf-unread" {...attrs}>
        <Notice kind="warn">
          <p>{tx("solvency.leaf_unread", { ...figures, why: leafWhyText(e.unread) })}</p>
          {buttons}
        </Notice>
      </div>
    );
  }
  return (
    <div data-testid="leaf-lowered" {...attrs} data-paid={f.paid} data-missing={f.unexplained} data-leave={f.leave.state}>
      <Notice kind="error">
        <p class="banner-title">{t("solvency.leaf_lowered_title", { symbol: e.symbol })}</p>
        <p data-testid="leaf-lowered-text">{tx("solvency.leaf_lowered", { ...figures, paid: amount(f.paid, "leaf-paid"), missing: amount(f.unexplained, "leaf-missing") })}</p>
        {f.leave.state === "unproven" && <p data-testid="leaf-leave-unproven">{t("solvency.leaf_leave_unproven", { symbol: e.symbol, why: leafWhyText(f.leave.why) })}</p>}
        <p>{t("solvency.leaf_advice")}</p>
        {buttons}
        <Experts>
          <p>{t("solvency.leaf_what")}</p>
          {/* A sales-plan leaf: its maturing commissions may fall with nothing paid (a buyer's take-back), so they are not compared. */}
          {(before.maturing != null || after.maturing != null) && <p data-testid="leaf-what-maturing">{t("solvency.leaf_what_maturing")}</p>}
          {f.counted.length > 0 && (
            <>
              <p>{t("solvency.leaf_payments", { before_block: before.asOfBlock, after_block: after.asOfBlock })}</p>
              <ul>
                {f.counted.map((x, i) => (
                  <li key={i} data-testid="leaf-payment" data-kind={x.kind} data-block={x.block} data-amount={x.amount} data-tx={x.tx ?? undefined}>
                    {tx(PAYMENT_LINE[x.kind], { block: BigInt(x.block), amount: amount(x.amount) })}
                  </li>
                ))}
              </ul>
            </>
          )}
          <p class="muted">{t("solvency.leaf_sources")}</p>
        </Experts>
      </Notice>
    </div>
  );
}
