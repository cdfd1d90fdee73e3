// The contract's pending changes — a new signer, a money role granted or revoked, a new token, new push gas — each in
// plain words with its countdown, read through the member's wallet: on the proof of solvency's page, and on the
// dashboard after sign-in.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { chainTime, plain } from "../../lib/format";
import { t, tx } from "../../i18n";
// The proof of solvency's words (src/i18n/solvency).
import "../../i18n/solvency";
import { networkLabel } from "../../lib/networks";
import { type PendingChange, type PendingChangesRead, CannotReadError, readPendingChanges } from "../../lib/solvency-chain";
import { type AnyConnection, chainAddress } from "../../lib/tron";
import { errorText } from "../../ui/account";
import { Addr, Notice } from "../../ui/bits";
import { nb } from "./common";

/** How often the pending changes are read again (a change scheduled or cancelled meanwhile shows). */
const PENDING_POLL_MS = 15_000;

/** "1 day 3 h", "2 h 5 min", "1 min 30 s", "45 s": a duration in seconds by its two largest units (a zero second one left out). */
export function durationText(seconds: bigint): string {
  const units: [bigint, "sv.dur_day" | "sv.dur_h" | "sv.dur_min" | "sv.dur_s"][] = [
    [86_400n, "sv.dur_day"],
    [3_600n, "sv.dur_h"],
    [60n, "sv.dur_min"],
    [1n, "sv.dur_s"],
  ];
  let rest = seconds > 0n ? seconds : 0n;
  const counts = units.map(([size]) => {
    const n = rest / size;
    rest %= size;
    return n;
  });
  const first = counts.findIndex((n) => n > 0n);
  if (first < 0) return t("sv.dur_s", { count: 0 });
  const text = (i: number) => t(units[i][1], { count: Number(counts[i]) });
  return first + 1 < units.length && counts[first + 1] > 0n ? `${text(first)} ${text(first + 1)}` : text(first);
}

/** A unix time (seconds) of the chain's clock, as every time is shown (lib/format's `chainTime`: the reader's zone, named). */
export const chainDateText = (unix: bigint): string => chainTime(unix);

const ROLE_TEXT = {
  operator: "sv.role_operator",
  treasurer: "sv.role_treasurer",
  pauser: "sv.role_pauser",
} as const;

/** What a pending change does, in plain words (addresses in the chain's own form). */
function changeText(change: PendingChange, chainId: number): ComponentChildren {
  const addr = (a: string) => <code data-address={chainAddress(chainId, a)}>{chainAddress(chainId, a)}</code>;
  const w = change.what;
  switch (w.kind) {
    case "signer":
      return <>{tx("sv.change_signer", { signer: addr(w.signer) })}</>;
    case "grant":
    case "revoke": {
      const role = w.role ? t(ROLE_TEXT[w.role]) : t("sv.role_hash", { hash: w.roleHash });
      return <>{tx(w.kind === "grant" ? "sv.change_grant" : "sv.change_revoke", { role, account: addr(w.account) })}</>;
    }
    case "token":
      return <>{tx("sv.change_token", { token: addr(w.token) })}</>;
    case "push_gas":
      return <>{t("sv.change_push_gas", { native: plain(w.native), token: plain(w.token) })}</>;
    case "unpause":
      return <>{t("sv.change_unpause")}</>;
    case "unknown":
      return <>{tx("sv.change_unknown", { code: plain(w.code), args: <code>{w.args}</code> })}</>;
  }
}

/**
 * The contract's pending changes — a new signer, a money role granted or revoked, a new token, new push gas — read
 * through the member's wallet at the build's Settlement of the wallet's network (`pendingChanges()`), each in plain
 * words with its countdown against the chain's clock (the latest block's timestamp, run on by the page's clock since
 * it was read). Nothing is shown when none is pending, or when the wallet cannot read (WalletConnect, a network this
 * build has no contract on: the solvency page says so).
 */
export function PendingChanges(props: { connection: AnyConnection | null }) {
  const c = props.connection;
  const [state, setState] = useState<{ read?: PendingChangesRead; error?: string }>({});
  const [poll, setPoll] = useState(0);
  const [, setSecond] = useState(0);
  useEffect(() => {
    if (!c) {
      setState({});
      return;
    }
    let alive = true;
    readPendingChanges(c).then(
      (read) => alive && setState({ read }),
      (e) => alive && setState(e instanceof CannotReadError ? {} : { error: errorText(e) }),
    );
    const t = setTimeout(() => setPoll((n) => n + 1), PENDING_POLL_MS);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [c, poll]);
  const pending = Math.max(state.read?.changes.length ?? 0, Number(state.read?.count ?? 0n));
  // The countdown, every second while something is pending.
  useEffect(() => {
    if (pending === 0) return;
    const t = setInterval(() => setSecond((n) => n + 1), 1_000);
    return () => clearInterval(t);
  }, [pending]);
  if (state.error)
    return (
      <Notice kind="error" testid="pending-changes-error">
        {t("sv.pending_error", { error: state.error })}{" "}
        <button type="button" onClick={() => setPoll((n) => n + 1)}>
          {t("account.retry")}
        </button>
      </Notice>
    );
  const read = state.read;
  if (!read || pending === 0) return null;
  // The chain's clock now: its latest block's time, run on since it was read.
  const now = read.chainTime + BigInt(Math.max(0, Math.floor((Date.now() - read.readAtMs) / 1000)));
  const changes = [...read.changes].sort((x, y) => (x.readyAt < y.readyAt ? -1 : x.readyAt > y.readyAt ? 1 : 0));
  return (
    <section class="pending-changes" aria-label={t("sv.pending_label")} data-testid="pending-changes" data-count={changes.length}>
      <Notice kind="warn">
        <p class="banner-title">{t("sv.pending_title", { count: pending })}</p>
        {read.listError && <p data-testid="pending-changes-unlisted">{t("sv.pending_unlisted", { count: pending, error: read.listError })}</p>}
        <ul>
          {changes.map((change) => {
            const left = change.readyAt - now;
            return (
              <li key={change.id} data-testid="pending-change" data-id={change.id} data-kind={change.what.kind} data-ready-at={change.readyAt.toString()} data-left={left.toString()}>
                {tx(left > 0n ? "sv.pending_in" : "sv.pending_now", {
                  change: changeText(change, read.chainId),
                  left: <strong data-testid="pending-countdown">{left > 0n ? durationText(left) : t("sv.now")}</strong>,
                  date: chainDateText(change.readyAt),
                })}
              </li>
            );
          })}
        </ul>
        <p class="muted">
          {tx("sv.pending_source", {
            via: read.via,
            contract: <Addr a={read.contract} chainId={read.chainId} />,
            network: networkLabel(read.chainId),
            block: nb(read.block),
            date: chainDateText(read.chainTime),
            exit: <a href="/exit.html">{t("sv.pending_exit_link")}</a>,
          })}
        </p>
      </Notice>
    </section>
  );
}
