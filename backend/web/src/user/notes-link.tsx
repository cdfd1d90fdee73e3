// The header's link to the member's notifications (`/#notifications`) with the unread count, and the way to their
// pages: a small chunk of its own, loaded once a wallet signs in or one of those pages is opened (never with a
// visitor's first page). The count is read on sign-in, every 30 s while the page is seen and whenever it regains focus
// or is shown again; the notifications page tells it at once of what it marks read (the `notes-unread` event,
// src/user/Notifications.tsx).

import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import "../i18n/member";
import { get } from "../lib/api";
import { num } from "../lib/format";
import { useLazyView } from "../plans";
import type { PlannedAsset } from "../plans/kit/assets";
import { Loading } from "../ui/bits";

const loadNotes = () => import("./Notifications").then((m) => m.NotesPage);

/** The notifications' pages (src/user/Notifications.tsx), loaded when one is opened. */
export function NotesView(props: { assets: PlannedAsset[] }) {
  const View = useLazyView<{ assets: PlannedAsset[] }>(loadNotes);
  return View ? <View assets={props.assets} /> : <Loading what={t("nt.what")} />;
}

/** "Notifications", with the unread count as a badge while there is any. */
export function NotesLink(props: { current: boolean }) {
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    const load = () => {
      if (!document.hidden) get<{ unread: number }>("/v1/users/notifications", { limit: 1 }).then((p) => live && setN(p.unread), () => undefined);
    };
    const told = (e: Event) => setN((e as CustomEvent<number>).detail);
    load();
    const timer = setInterval(load, 30_000);
    addEventListener("focus", load);
    document.addEventListener("visibilitychange", load);
    addEventListener("notes-unread", told);
    return () => {
      live = false;
      clearInterval(timer);
      removeEventListener("focus", load);
      document.removeEventListener("visibilitychange", load);
      removeEventListener("notes-unread", told);
    };
  }, []);
  return (
    <a href="#notifications" aria-current={props.current ? "page" : undefined} data-testid="nav-notifications">
      {t("nt.title")}
      {n > 0 && (
        <>
          {" "}
          <span class="badge" title={t("nt.unread", { count: n })} data-testid="notification-badge" data-count={n}>
            {num(n)}
          </span>
        </>
      )}
    </a>
  );
}
