// The WalletConnect pairing panel of the dApp's account bar, loaded (with the WalletConnect client and the QR
// encoder) only when the user picks WalletConnect: the `wc:` URI as a QR code drawn here as inline SVG, a copy
// button, links that hand the URI to MetaMask's and Trust Wallet's apps, and what happened, in words.

import { useEffect, useState } from "preact/hooks";
import { type EIP1193Provider, getAddress } from "viem";
import { clock } from "../lib/format";
import type { PublicChain } from "../lib/networks";
import { Connection, WalletError } from "../lib/wallet";
import { type Pairing, PairingError, type WalletConnectProvider, type WalletConnectSettings, pair, restore } from "../lib/walletconnect";
import { t } from "../i18n";
import { CopyButton, Notice } from "./bits";
import { QrCode } from "./qr";
import "./walletconnect-pairing.css";

/**
 * A WalletConnect session as the page's wallet: the same `Connection` as an injected wallet's, over its provider,
 * named "WalletConnect" (the account bar offers to end it by that name).
 */
function connection(p: WalletConnectProvider): Connection {
  const account = p.accounts()[0];
  if (!account) throw new WalletError("no_wallet", t("wc.no_account"));
  return new Connection(p as unknown as EIP1193Provider, getAddress(account), "WalletConnect");
}

/**
 * What went wrong, in the reader's language: the kind from the catalogue (the relay named by its host); for "other",
 * the client's or the wallet's own words after it, as they are. A failure of the connection itself (a WalletError) is
 * already in the reader's words.
 */
function pairingErrorText(e: PairingError | WalletError): { text: string; detail?: string } {
  if (e instanceof WalletError) return { text: e.message };
  switch (e.kind) {
    case "relay":
      return { text: t("wc.err_relay", { relay: e.extra.relay ?? "" }) };
    case "expired":
      return { text: t("wc.err_expired") };
    case "rejected":
      return { text: t("wc.err_rejected") };
    default:
      return { text: t("wc.err_other"), detail: e.extra.detail };
  }
}

/** The session a reload finds, as the page's wallet; null when there is none (or it names no account). */
export async function restoreConnection(settings: WalletConnectSettings, chains: PublicChain[]): Promise<Connection | null> {
  const p = await restore(settings, chains);
  return p && p.accounts().length ? connection(p) : null;
}

/**
 * Apps that take a `wc:` URI by link, in their documented forms: MetaMask's `/wc?uri=` deep link (on
 * `link.metamask.io`, the newer domain of `metamask.app.link`) and Trust Wallet's `/wc?uri=` universal link.
 */
export function walletConnectLinks(uri: string): { name: string; id: string; href: string }[] {
  const u = encodeURIComponent(uri);
  return [
    { name: "MetaMask", id: "metamask", href: `https://link.metamask.io/wc?uri=${u}` },
    { name: "Trust Wallet", id: "trust", href: `https://link.trustwallet.com/wc?uri=${u}` },
  ];
}


export function WalletConnectPairing(props: {
  settings: WalletConnectSettings;
  chains: PublicChain[];
  onConnected: (c: Connection) => void;
  onClose: () => void;
}) {
  const [attempt, setAttempt] = useState(0);
  const [pairing, setPairing] = useState<Pairing | null>(null);
  const [error, setError] = useState<PairingError | WalletError | null>(null);

  useEffect(() => {
    let live = true;
    let current: Pairing | null = null;
    setPairing(null);
    setError(null);
    pair(props.settings, props.chains).then(
      (p) => {
        current = p;
        if (!live) {
          p.cancel();
          return;
        }
        setPairing(p);
        p.approved.then(
          (provider) => {
            if (!live) return;
            try {
              props.onConnected(connection(provider));
            } catch (e) {
              setError(e instanceof WalletError ? e : new PairingError("other", String(e), { detail: (e as Error)?.message ?? String(e) }));
            }
          },
          (e) => live && setError(e instanceof PairingError ? e : new PairingError("other", String(e), { detail: String(e) })),
        );
      },
      (e) => live && setError(e instanceof PairingError ? e : new PairingError("other", String(e), { detail: String(e) })),
    );
    return () => {
      live = false;
      current?.cancel();
    };
  }, [attempt]);

  const words = error ? pairingErrorText(error) : null;
  return (
    <section class="wc-pairing" data-testid="wc-pairing" aria-labelledby="wc-title">
      <h2 id="wc-title">{t("wc.title")}</h2>
      {!pairing && !error && (
        <p class="muted" aria-live="polite" data-testid="wc-asking">
          {t("wc.asking")}
        </p>
      )}
      {pairing && !error && (
        <>
          <p>{t("wc.scan")}</p>
          <QrCode text={pairing.uri} class="wc-qr" testid="wc-qr" label={t("wc.qr_label")} />
          <ul class="open-in-links" aria-label={t("wc.open_in")}>
            {walletConnectLinks(pairing.uri).map((l) => (
              <li key={l.id}>
                <a class="button-link" href={l.href} rel="noopener noreferrer" data-testid={`wc-open-${l.id}`}>
                  {l.name}
                </a>
              </li>
            ))}
          </ul>
          <p class="wc-uri-row">
            <label for="wc-uri">{t("wc.paste")}</label>{" "}
            <input id="wc-uri" readOnly value={pairing.uri} data-testid="wc-uri" data-uri={pairing.uri} onFocus={(e) => e.currentTarget.select()} />
            <CopyButton text={pairing.uri} label={t("wc.copy")} />
          </p>
          <p class="muted" aria-live="polite" data-testid="wc-waiting">
            {t("wc.waiting", { time: clock(pairing.expiresAt) })}
          </p>
        </>
      )}
      {error && (
        <Notice kind="error" testid="wc-error">
          <span data-testid={`wc-error-${error instanceof PairingError ? error.kind : "other"}`}>{words!.text}</span>
          {words!.detail && (
            <>
              {" "}
              <span class="muted" data-testid="wc-error-detail">
                ({words!.detail})
              </span>
            </>
          )}{" "}
          <button type="button" onClick={() => setAttempt((n) => n + 1)} data-testid="wc-retry">
            {t("wc.start_again")}
          </button>
        </Notice>
      )}
      <button type="button" onClick={props.onClose} data-testid="wc-cancel">
        {t("wc.cancel")}
      </button>
    </section>
  );
}
