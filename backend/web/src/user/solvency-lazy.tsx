// The proof of solvency's page, badge and the banner of the contract's pending changes load on demand, in their own
// chunk with the verifier (src/user/Solvency.tsx and its parts in src/user/solvency/, src/lib/solvency.js): the first
// screen of a visitor carries none of it; a signed-in dashboard, or the "Proof of solvency" page, loads it once.

import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import { LoadFailed } from "../ui/account";
import type { AnyConnection } from "../lib/tron";
import type { BadgeProps } from "./solvency/check";

type SolvencyModule = typeof import("./Solvency");

let loading: Promise<SolvencyModule> | null = null;
// The module, once the proof of solvency's strings of the reader's language are in too (a check words its findings
// once: it must not word them in English while the catalogue is on its way).
const load = () =>
  (loading ??= import("./Solvency")
    .then(async (m) => {
      await m.solvencyWordsReady;
      return m;
    })
    .catch((e) => {
      loading = null;
      throw e;
    }));

function useSolvencyModule() {
  const [state, setState] = useState<{ m?: SolvencyModule; error?: unknown }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    load().then(
      (m) => alive && setState({ m }),
      (error) => alive && setState({ error }),
    );
    return () => {
      alive = false;
    };
  }, [tick]);
  return { ...state, retry: () => setTick((t) => t + 1) };
}

/** The signed-in user's check of one asset (`Solvency.SolvencyBadge`). */
export function LazySolvencyBadge(props: BadgeProps) {
  const { m, error, retry } = useSolvencyModule();
  if (error) return <LoadFailed error={error} what="the proof of solvency" retry={retry} />;
  if (!m) return <p class="muted" aria-busy="true">{t("solvency.checking")}</p>;
  return <m.SolvencyBadge {...props} />;
}

/** The "Proof of solvency" page (`Solvency.SolvencySection`). */
export function LazySolvencySection() {
  const { m, error, retry } = useSolvencyModule();
  if (error) return <LoadFailed error={error} what="the proof of solvency" retry={retry} />;
  if (!m) return <p class="muted" aria-busy="true">{t("solvency.loading")}</p>;
  return <m.SolvencySection />;
}

/** The contract's pending changes with their countdown, after sign-in (`Solvency.PendingChanges`); nothing while none. */
export function LazyPendingChanges(props: { connection: AnyConnection | null }) {
  const { m } = useSolvencyModule();
  // The badges below say when the module fails to load; nothing is pending until it is read.
  if (!m) return null;
  return <m.PendingChanges connection={props.connection} />;
}
