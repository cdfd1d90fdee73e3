// Without a wallet in the page (a phone that opened a referral link from a chat app): links that open this same
// page in a wallet app's own browser, where its wallet is injected (and, when configured, WalletConnect beside them).

import type { ComponentChildren } from "preact";
import { phrase, t, tx } from "../i18n";

/**
 * Links that open this same page (path and query: a referral link survives) in a wallet app's own browser, for a
 * phone without an injected wallet. Plain links to the wallets' documented deep links; nothing is loaded from them.
 */
export function walletAppLinks(href: string): { name: string; id: string; href: string }[] {
  const u = new URL(href);
  const full = u.origin + u.pathname + u.search;
  return [
    // MetaMask: the URL without its scheme, not encoded (https://docs.metamask.io, "Use deeplinks").
    { name: "MetaMask", id: "metamask", href: `https://link.metamask.io/dapp/${u.host}${u.pathname}${u.search}` },
    // Trust Wallet's dApp browser on BNB Smart Chain (coin 20000714), the URL encoded.
    { name: "Trust Wallet", id: "trust", href: `https://link.trustwallet.com/open_url?coin_id=20000714&url=${encodeURIComponent(full)}` },
    // TronLink's "open DApp" deep link: its JSON parameter, encoded.
    {
      name: "TronLink",
      id: "tronlink",
      href: `tronlinkoutside://pull.activity?param=${encodeURIComponent(JSON.stringify({ url: full, action: "open", protocol: "TronLink", version: "1.0" }))}`,
    },
  ];
}

/**
 * `walletConnect`: the WalletConnect button, shown beside the links (null while its pairing is open); undefined when
 * the API configures no WalletConnect.
 */
export function OpenInWallet(props: { purpose: string; walletConnect?: ComponentChildren }) {
  return (
    <div class="open-in" data-testid="open-in-wallet">
      <p class="muted" data-testid="no-wallet">
        {tx("openin.no_wallet", {
          open: <span id="open-in-title">{t("openin.open")}</span>,
          walletconnect: props.walletConnect !== undefined ? t("openin.walletconnect") : "",
          purpose: phrase(props.purpose),
        })}
      </p>
      <ul class="open-in-links" aria-labelledby="open-in-title">
        {walletAppLinks(location.href).map((l) => (
          <li key={l.id}>
            <a class="button-link" href={l.href} rel="noopener noreferrer" data-testid={`open-in-${l.id}`}>
              {l.name}
            </a>
          </li>
        ))}
        {props.walletConnect && <li>{props.walletConnect}</li>}
      </ul>
    </div>
  );
}

