// Proofs kept for the members' exit (lib/proof-store.ts): the note under a verified proof that it is kept, every
// proof this browser keeps (read from the browser alone, so it shows whether or not the operator's servers answer),
// what the browser's storage could not do, in words, and the links to the members' exit page.

import { useEffect, useState } from "preact/hooks";
import { dateTime } from "../../lib/format";
import { t, tx } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import { networkLabel } from "../../lib/networks";
import { chainAddress } from "../../lib/tron";
import { ProofStoreError, type SavedProof, SAVED_EVENT, type StoreProblem, downloadJson, savedFileName, savedProofs } from "../../lib/proof-store";
import { errorText } from "../../ui/account";
import { nb } from "./common";

/** What became of keeping a verified proof in this browser (lib/proof-store.ts). */
export type Saved = { ok: true; record: SavedProof } | { ok: false; why: string } | null;

/** What this browser's storage of proofs (lib/proof-store.ts) could not do, in words. */
const STORE_PROBLEM = {
  unavailable: "sv.store_unavailable",
  would_not_open: "sv.store_would_not_open",
  blocked: "sv.store_blocked",
  full: "sv.store_full",
  refused: "sv.store_refused",
} as const satisfies Record<StoreProblem, string>;

/** An error of keeping or reading the proofs kept in this browser, in the reader's language. */
export const storeErrorText = (e: unknown) => (e instanceof ProofStoreError ? t(STORE_PROBLEM[e.problem]) : errorText(e));

/** The members' exit page: served here, and a file to keep (it runs opened from the disk, or from any host). */
const EXIT_PAGE = "/exit.html";

function ExitLinks() {
  return (
    <>
      {tx("sv.exit_links", {
        page: (
          <a href={EXIT_PAGE} target="_blank" rel="noopener" data-testid="exit-page-link">
            {t("sv.exit_page")}
          </a>
        ),
        download: (
          <a href={EXIT_PAGE} download="members-exit.html" data-testid="exit-page-download">
            {t("sv.exit_download_it")}
          </a>
        ),
      })}
    </>
  );
}

/** The members' exit page, linked (opens in a new tab) and to download (it runs from a file too). */
export function ExitPageLink() {
  return (
    <>
      <a href={EXIT_PAGE} target="_blank" rel="noopener" data-testid="advice-exit-link">
        {t("solvency.exit_link")}
      </a>{" "}
      (
      <a href={EXIT_PAGE} download="members-exit.html" data-testid="advice-exit-download">
        {t("solvency.exit_download")}
      </a>
      )
    </>
  );
}

/** Under a verified proof: it is kept in this browser (when), for the exit. */
export function SavedNote(props: { saved?: Saved }) {
  const saved = props.saved;
  if (!saved) return null;
  if (!saved.ok)
    return (
      <p class="muted" data-testid="solvency-saved" data-saved="false">
        {t("sv.saved_failed", { why: saved.why })}
      </p>
    );
  return (
    <p class="muted" data-testid="solvency-saved" data-saved="true" data-epoch={saved.record.epoch} data-saved-at={saved.record.savedAt}>
      {tx("sv.saved_note", { date: dateTime(saved.record.savedAt), epoch: nb(saved.record.epoch), links: <ExitLinks />, when: t("sv.exit_when") })}
    </p>
  );
}

/**
 * Every proof this browser keeps (IndexedDB, lib/proof-store.ts), with when it was kept, a download and the exit page:
 * read from the browser alone, so it shows whether or not the operator's servers answer.
 */
export function SavedProofs() {
  const [list, setList] = useState<SavedProof[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const read = () => savedProofs().then(setList, (e) => setError(storeErrorText(e)));
    void read();
    window.addEventListener(SAVED_EVENT, read);
    return () => window.removeEventListener(SAVED_EVENT, read);
  }, []);
  if (error || !list || list.length === 0) return null;
  return (
    <section class="solvency-saved" aria-labelledby="solvency-saved-title" data-testid="saved-proofs">
      <h3 id="solvency-saved-title">{t("sv.saved_title")}</h3>
      <p>{tx("sv.saved_intro", { when: t("sv.exit_when"), links: <ExitLinks /> })}</p>
      <ul>
        {list.map((x) => (
          <li key={x.key} data-testid="saved-proof" data-key={x.key} data-epoch={x.epoch} data-member={x.member} data-saved-at={x.savedAt}>
            {tx("sv.saved_line", {
              asset: x.symbol || t("sv.an_asset"),
              network: networkLabel(x.chainId),
              epoch: nb(x.epoch),
              contract: <code>{chainAddress(x.chainId, x.contract)}</code>,
              member: <code>{chainAddress(x.chainId, x.member)}</code>,
              date: dateTime(x.savedAt),
            })}{" "}
            <button type="button" onClick={() => downloadJson(savedFileName(x), x.proof)} data-testid="saved-proof-download">
              {t("solvency.download_proof")}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
