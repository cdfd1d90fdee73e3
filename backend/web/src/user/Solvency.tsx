// The public proof of solvency (SOLVENCY.md) in the dApp, loaded on demand (its own chunk, with the verifier): this
// module, the chunk's entry and the page, and its parts in ./solvency/, a file each:
// - the "Proof of solvency" page (`/#solvency`, below): per asset (solvency/card.tsx), the latest commitment as the
//   operator's server reports it — its claim, labelled so — and, with a wallet connected, the commitment read from the
//   chain THROUGH THAT WALLET at the Settlement contract this build carries for the wallet's network
//   (lib/solvency-chain.ts, lib/networks-build.ts), beside it: custody against the total (a red INSOLVENT banner), the
//   liabilities' age (the head against their as-of block) against the build's maximum (a red STALE banner), and a red
//   banner when the server's contract, epoch, root or total are not the chain's (solvency/compare.ts), or when the
//   contract never allowed the server's token; the contract's pending changes (signer rotations, money roles, tokens,
//   push gas) with their countdown (solvency/pending.tsx); the proofs this browser keeps for the members' exit
//   (solvency/saved.tsx);
// - the badge of a signed-in user, per asset the wallet is registered in (the dashboard's cards, and this page;
//   solvency/badge.tsx): the user's proof of the chain's latest epoch, folded by lib/solvency.js's verifier against the
//   commitment read through the wallet (solvency/check.ts), "✓ your balance … is in epoch N's committed root; custody
//   covers the total" or a red banner naming the failed check (solvency/badge-words.tsx), with the proof to download;
//   whether the user was in that epoch is judged by the block of their registration as the contract records it
//   (`registeredAt`), never the server's; above it, the member's watch over their leaf (solvency/leaf-watch.tsx);
// - the banner of pending changes after sign-in (`PendingChanges`, on the dashboard).
// After an upgrade (contracts/UPGRADES.md §7) the build carries the contracts the live one replaced too: each commits
// every round in its own tree, the page reads each through the wallet, the badge checks the user's proof in every
// contract's tree, and solvency is the custody of every contract of the round together against the one total
// (lib/solvency-round.js, solvency/upgrade.tsx). Without an upgrade nothing of that shows and nothing more is read.
// What the parts share (the server's overview, a hash, a block number in words) is in solvency/common.tsx.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { get } from "../lib/api";
import { t, tx } from "../i18n";
// The page's own words, and those of the helpers that word its findings (lib/solvency*.js); a reader's language other
// than English is in once `solvencyWordsReady` resolves (./solvency-lazy.tsx waits for it: a check words its findings once).
export { solvencyWordsReady } from "../i18n/solvency";
import type { Profile } from "../lib/types";
import { LoadFailed, useConnection, useSignedIn } from "../ui/account";
import { Loading, Notice, useLoad } from "../ui/bits";
import { SolvencyBadge } from "./solvency/badge";
import { AssetCard } from "./solvency/card";
import { overview } from "./solvency/common";
import { PendingChanges } from "./solvency/pending";
import { SavedProofs } from "./solvency/saved";

// What the dashboard loads of this chunk besides the page (./solvency-lazy.tsx).
export { PendingChanges, SolvencyBadge };

/** The "Proof of solvency" page: every asset's commitment, the server's claim beside the chain's, and the user's badges. */
export function SolvencySection() {
  const [tick, setTick] = useState(0);
  const data = useLoad(() => overview(tick > 0), [tick]);
  const connection = useConnection();
  const signed = useSignedIn();
  const profile = useLoad(() => (signed ? get<Profile>("/v1/users/me") : Promise.resolve(null)), [signed?.session.address, signed?.connection]);
  const title = useRef<HTMLHeadingElement>(null);
  // Opened from the navigation: the reader lands on the page's title.
  useEffect(() => title.current?.focus(), []);
  const reload = () => setTick((t) => t + 1);
  return (
    <section class="solvency" aria-labelledby="solvency-title" data-testid="solvency">
      <h2 id="solvency-title" tabIndex={-1} ref={title}>
        {t("sv.title")}
      </h2>
      <p>{t("sv.intro")}</p>
      <p>{tx("sv.intro_chain", { through: <strong>{t("sv.through_wallet")}</strong> })}</p>
      <PendingChanges connection={connection} />
      <SavedProofs />
      {!connection && (
        <Notice kind="info" testid="solvency-connect">
          {t("sv.connect")}
        </Notice>
      )}
      {data.loading && !data.data && <Loading what="the proof of solvency" />}
      {data.error && <LoadFailed error={data.error} what="the proof of solvency" retry={reload} />}
      {data.data && (
        <div class="cards solvency-cards">
          {data.data.assets.map((a) => {
            const mine = profile.data?.assets.find((s) => s.asset_id === a.asset_id);
            return (
              <AssetCard
                key={a.asset_id}
                a={a}
                connection={connection}
                tick={tick}
                reload={reload}
                mine={
                  signed &&
                  mine && (
                    <BadgeSection>
                      <SolvencyBadge
                        assetId={a.asset_id}
                        symbol={a.symbol}
                        chainId={a.chain_id}
                        registeredBlock={mine.registered_block}
                        connection={signed.connection}
                        address={signed.session.address}
                      />
                    </BadgeSection>
                  )
                }
              />
            );
          })}
        </div>
      )}
    </section>
  );
}

function BadgeSection(props: { children: ComponentChildren }) {
  return (
    <section class="solvency-mine" aria-label={t("sv.your_balance")} data-testid="solvency-mine">
      <h4>{t("sv.your_balance")}</h4>
      {props.children}
    </section>
  );
}
