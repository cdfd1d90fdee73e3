// Sharing a referral link: its QR code (drawn when first opened; the encoder loads then) and the system's share sheet
// where the browser has one (phones, some desktops). The link itself and its copy button stay beside it.

import type { ComponentType } from "preact";
import { useState } from "preact/hooks";
import { Loading } from "../ui/bits";
import { t } from "../i18n";

type Qr = ComponentType<{ text: string; label: string; class?: string; testid?: string }>;

export function ReferralShare(props: { link: string; symbol: string }) {
  const [Qr, setQr] = useState<Qr | null>(null);
  const [shared, setShared] = useState<string | null>(null);
  const canShare = typeof navigator.share === "function";
  const open = (e: Event) => {
    if ((e.currentTarget as HTMLDetailsElement).open && !Qr) void import("../ui/qr").then((m) => setQr(() => m.QrCode));
  };
  const share = async () => {
    try {
      await navigator.share({ title: t("sh.title", { symbol: props.symbol }), text: t("sh.text", { symbol: props.symbol }), url: props.link });
      setShared(t("sh.shared"));
    } catch (e) {
      // Closing the sheet is not an error worth showing.
      setShared(e instanceof DOMException && e.name === "AbortError" ? null : t("sh.failed"));
    }
  };
  return (
    <div class="share" data-testid="ref-share">
      {canShare && (
        <button type="button" onClick={share} data-testid="ref-share-sheet">
          {t("sh.share")}
        </button>
      )}
      <details onToggle={open} data-testid="ref-qr-fold">
        <summary>{t("sh.qr")}</summary>
        {Qr ? <Qr text={props.link} label={t("sh.qr_label", { symbol: props.symbol })} class="ref-qr" testid="ref-qr" /> : <Loading what={t("sh.qr_what")} />}
      </details>
      {shared && (
        <span class="muted" role="status">
          {shared}
        </span>
      )}
    </div>
  );
}
