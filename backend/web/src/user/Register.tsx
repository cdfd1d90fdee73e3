// Registration through a referral link (`/?ref=<sponsor>&asset=<id>`; the sponsor as 0x… or, on TRON, T…): who
// the sponsor is, in which asset, what it costs (its plan's: a fixed fee, or a package picked here), and what the
// payment did once the ledger applied it. What differs between plans comes from their member rooms (plans/member).

import { useState } from "preact/hooks";
import { get } from "../lib/api";
import { t, tx } from "../i18n";
import { chainAddress, isTronChain, networkText, parseAnyAddress } from "../lib/tron";
import type { PaymentList, Profile } from "../lib/types";
import { useSignedIn, useTronLink } from "../ui/account";
import { Addr, AssetAmt, Notice, useLoad } from "../ui/bits";
import { load as inFlight } from "../plans/kit/inflight";
import type { PlannedAsset } from "../plans/kit/assets";
import { memberRoomOf } from "../plans/member";
import { type Applied, notAppliedText } from "../plans/kit/payment";
import { SponsorFacts, SponsorRefusal, useSponsor } from "./sponsor";

export function Register(props: {
  sponsor: string;
  /** Every asset, with its plan. */
  assets: PlannedAsset[];
  /** The link's asset, or null when it names none (then the visitor picks one). */
  assetId: number | null;
  /** The asset paid in now (the page shows its card above), and how the visitor picks another. */
  selected: number;
  onSelect: (assetId: number) => void;
  onDone: () => void;
}) {
  const signed = useSignedIn();
  const assetId = props.selected;
  const setAssetId = props.onSelect;
  const [applied, setApplied] = useState<Applied | null>(null);
  const plan = props.assets.find((p) => p.asset_id === assetId);
  const room = plan && memberRoomOf(plan);
  const fee = plan && room ? room.fee(plan) : null;
  const choices = props.assets.map((p) => ({ ...p, price: memberRoomOf(p).price(p) }));
  const valid = parseAnyAddress(props.sponsor) !== null;
  // Who the link names in the chosen asset: a registration naming a non-member or a frozen sponsor is refused, so none
  // is offered.
  const sponsor = useSponsor(plan?.asset_id, props.sponsor, valid);
  const sponsorRefused = !!sponsor.data && (!sponsor.data.registered || sponsor.data.frozen);
  const tron = !!plan && isTronChain(plan.chain_id);
  const tronLink = useTronLink();
  // A wallet registered in this asset already (and with no payment of it in flight here) is not offered another.
  const me = useLoad(() => (signed ? get<Profile>("/v1/users/me") : Promise.resolve(null)), [signed?.session.address]);
  const standing = plan && me.data?.assets.find((a) => a.asset_id === plan.asset_id);
  const registered =
    !!standing && !applied && !!signed && !inFlight({ wallet: signed.session.address, asset_id: standing.asset_id, kind: "register" });
  // A registration fee the contract took but the ledger refused (quarantined): the contract counts the wallet as
  // registered in this asset, so another registration would only be refused; the payer is told what happened.
  const payments = useLoad(
    () => (signed && plan ? get<PaymentList>("/v1/users/payments", { asset_id: plan.asset_id }) : Promise.resolve(null)),
    [signed?.session.address, plan?.asset_id],
  );
  const refused =
    !standing && !applied && !!signed && !!plan && !inFlight({ wallet: signed.session.address, asset_id: plan.asset_id, kind: "register" })
      ? payments.data?.payments.find((x) => x.kind === "register" && x.status === "quarantined")
      : undefined;

  return (
    <section class="panel register" aria-labelledby="register-title" data-testid="register">
      <h2 id="register-title">{t("register.title")}</h2>
      {!valid && (
        <Notice kind="error" testid="bad-ref">
          {tx("register.bad_ref", { sponsor: <bdi>{props.sponsor}</bdi> })}
        </Notice>
      )}
      {valid && (
        <>
          <p>
            {tx("register.sponsor", {
              address: <Addr a={plan ? chainAddress(plan.chain_id, props.sponsor) : props.sponsor} testid="sponsor" chainId={plan?.chain_id} />,
            })}
            {sponsor.data && plan && <SponsorFacts s={sponsor.data} symbol={plan.symbol} />}
          </p>
          {sponsor.data && plan && <SponsorRefusal s={sponsor.data} symbol={plan.symbol} />}
          {props.assetId === null && choices.length > 1 && (
            <fieldset class="choice">
              <legend>{t("register.pay_in")}</legend>
              {choices.map((p) => (
                <label key={p.asset_id}>
                  <input
                    type="radio"
                    name="asset"
                    value={p.asset_id}
                    checked={p.asset_id === assetId}
                    onChange={() => setAssetId(p.asset_id)}
                    disabled={!!applied}
                  />{" "}
                  {isTronChain(p.chain_id) ? t("asset.on_network", { symbol: p.symbol, network: networkText(p.chain_id) }) : p.symbol} ({p.price})
                </label>
              ))}
            </fieldset>
          )}
          {plan && (
            <p data-testid="register-cost">
              {tx(fee ? "register.cost_fee" : "register.cost_package", {
                asset: <strong data-testid="register-asset">{plan.symbol}</strong>,
                network: networkText(plan.chain_id),
                amount: fee && <AssetAmt a={fee} testid="register-amount" />,
              })}
              .{tron && t("register.paid_tronlink")}
            </p>
          )}
          {!signed && tron && !tronLink.present && (
            <Notice kind="error" testid="no-tronlink">
              {t("register.no_tronlink", { symbol: plan!.symbol, network: networkText(plan!.chain_id) })}
            </Notice>
          )}
          {!signed && (!tron || tronLink.present) && (
            <Notice kind="info">{t(tron ? "register.connect_tronlink" : "register.connect_wallet")}</Notice>
          )}
          {signed && plan && registered && (
            <Notice kind="ok" testid="already-registered">
              {standing!.registered_block != null
                ? t("register.already_since", { symbol: plan.symbol, user: String(standing!.user_no), block: String(standing!.registered_block) })
                : t("register.already", { symbol: plan.symbol, user: String(standing!.user_no) })}
            </Notice>
          )}
          {signed && plan && refused && (
            <Notice kind="error" testid="register-refused">
              {notAppliedText(refused)}
            </Notice>
          )}
          {signed && plan && room && !registered && !refused && !sponsorRefused && !me.loading && !payments.loading && (
            <room.Join
              key={`${plan.asset_id}-${signed.connection.kind}-${signed.connection.account}`}
              asset={plan}
              connection={signed.connection}
              sponsor={props.sponsor}
              onApplied={(a) => {
                setApplied(a);
                props.onDone();
              }}
              onRefused={props.onDone}
            />
          )}
          {applied?.status && plan && room && <room.Joined asset={plan} applied={applied} />}
        </>
      )}
    </section>
  );
}

