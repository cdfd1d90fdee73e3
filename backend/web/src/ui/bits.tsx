// Small pieces every page uses: amounts with their exact base units, addresses with a copy button, pagers,
// notices and confirmations. Amounts, addresses and hashes read left to right in a right-to-left page too.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { phrase, t } from "../i18n";
import { amount, localHuman, shortAddress } from "../lib/format";
import { type PublicChains, chainsLoaded, explorerLink, onChains } from "../lib/networks";
import { chainAddress } from "../lib/tron";
import type { AssetAmount } from "../lib/types";

/** A human amount in the member's language, exact; hover or focus shows the exact base units. */
/**
 * An amount in the asset's units; its exact base units on hover (`title`) and, tapped or clicked, beside it. Not a tab
 * stop: a page of amounts would bury its buttons under hundreds of them (the statement CSV carries base units).
 */
function AmountText(props: { base: string; testid?: string; children: string }) {
  const [open, setOpen] = useState(false);
  return (
    <span
      class="amount"
      dir="ltr"
      title={t("bits.base_units", { base: props.base })}
      data-base={props.base}
      data-open={open ? "" : undefined}
      data-testid={props.testid}
      onClick={() => setOpen(!open)}
    >
      {props.children}
    </span>
  );
}

export function Amount(props: { base: string | bigint; decimals: number; symbol: string; testid?: string }) {
  const base = String(props.base);
  return (
    <AmountText base={base} testid={props.testid}>
      {amount(base, props.decimals, props.symbol)}
    </AmountText>
  );
}

/** The server's `AssetAmount` (it already carries the human form). */
export function AssetAmt(props: { a: AssetAmount; testid?: string }) {
  return (
    <AmountText base={props.a.base} testid={props.testid}>
      {localHuman(props.a.human)}
    </AmountText>
  );
}

export function CopyButton(props: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    } catch {
      // No clipboard permission: select-and-copy still works on the visible text.
    }
  };
  return (
    <button type="button" class="copy" onClick={copy} aria-label={props.label}>
      {done ? t("bits.copied") : t("bits.copy")}
    </button>
  );
}

/** Re-renders once the API's chain table (names, explorers, the sign-in site) is in. */
export function useChainTable(): PublicChains | null {
  const [t, setT] = useState(chainsLoaded());
  useEffect(() => onChains(() => setT(chainsLoaded())), []);
  return t;
}

/** Text that links to the chain's explorer when one is configured for it, plain otherwise. */
function ExplorerText(props: { href: string | null; children: ComponentChildren; what: string }) {
  if (!props.href) return <>{props.children}</>;
  return (
    <a href={props.href} target="_blank" rel="noopener noreferrer" class="explorer" title={t("bits.open_in_explorer", { what: props.what })} data-testid="explorer-link">
      {props.children}
    </a>
  );
}

/**
 * `0x1234…cdef` with the full address on hover and a copy button; with `chainId`, a link to the address on that
 * chain's explorer when one is configured (the address in its chain's form: `T…` on TRON).
 */
export function Addr(props: { a: string; testid?: string; chainId?: number }) {
  useChainTable();
  const href = props.chainId === undefined ? null : explorerLink(props.chainId, "address", chainAddress(props.chainId, props.a));
  return (
    <span class="addr">
      <ExplorerText href={href} what={t("bits.explorer_address", { address: props.a })}>
        <code dir="ltr" title={props.a} data-address={props.a} data-testid={props.testid} tabIndex={0}>
          {shortAddress(props.a)}
        </code>
      </ExplorerText>
      <CopyButton text={props.a} label={t("bits.copy_address", { address: props.a })} />
    </span>
  );
}

/** A transaction hash, shortened (the whole one on hover), linked to the chain's explorer when one is configured. */
export function TxHash(props: { chainId: number; hash: string; testid?: string; full?: boolean }) {
  useChainTable();
  const h = props.hash;
  return (
    <ExplorerText href={explorerLink(props.chainId, "tx", h)} what={t("bits.explorer_tx", { hash: h })}>
      <code dir="ltr" title={h} data-tx={h} data-testid={props.testid}>
        {props.full || h.length <= 20 ? h : `${h.slice(0, 12)}…${h.slice(-6)}`}
      </code>
    </ExplorerText>
  );
}

export function Notice(props: { kind: "error" | "info" | "ok" | "warn"; children: ComponentChildren; testid?: string }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === "error" ? "alert" : "status"} data-testid={props.testid}>
      {props.children}
    </div>
  );
}

/** Keyset paging: the cursors of the pages seen so far, so "previous" works too. */
export function usePager<C>() {
  const [stack, setStack] = useState<(C | null)[]>([null]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next: (c: C) => setStack([...stack, c]),
    prev: () => setStack(stack.length > 1 ? stack.slice(0, -1) : stack),
    reset: () => setStack([null]),
  };
}

export function Pager<C>(props: { pager: ReturnType<typeof usePager<C>>; next: C | null | undefined; label: string }) {
  const { pager } = props;
  return (
    <nav class="pager" aria-label={t("bits.pages", { label: phrase(props.label) })}>
      <button type="button" disabled={pager.page <= 1} onClick={pager.prev}>
        {t("bits.previous")}
      </button>
      <span>{t("bits.page", { page: pager.page })}</span>
      <button type="button" disabled={props.next === null || props.next === undefined} onClick={() => props.next != null && pager.next(props.next)}>
        {t("bits.next")}
      </button>
    </nav>
  );
}

/** A modal confirmation that says what will change; Escape or "Cancel" closes it. */
export function Confirm(props: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  /** Irreversible (a cancellation, a freeze, funds sent): the confirm button says so in red; else it is the primary action. */
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={(e) => { e.preventDefault(); props.onCancel(); }}>
      <h3 id="confirm-title">{props.title}</h3>
      <div class="confirm-body">{props.children}</div>
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          {t("bits.cancel")}
        </button>
        <button type="button" class={props.danger ? "danger" : "primary"} onClick={props.onConfirm} data-testid="confirm-ok">
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Runs an async loader; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    // A retry after an error shows "Loading…" again, not the old error.
    setState((s) => ({ data: s.data, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Loading(props: { what: string }) {
  return <p class="muted" aria-busy="true">{t("bits.loading", { what: phrase(props.what) })}</p>;
}
