// Registration through a referral link (`/?ref=<sponsor>&asset=<id>`; the sponsor as 0x… or, on TRON, T…): who
// the sponsor is, in which asset, what it costs (an auto-pool asset's fixed fee, or a generation asset's package
// picked here), and what the payment did once the ledger applied it.

import { useState } from "preact/hooks";
import { get, post } from "../lib/api";
import { t, tx } from "../i18n";
import { amount, localHuman } from "../lib/format";
import { chainAddress, isTronChain, networkText, parseAnyAddress } from "../lib/tron";
import type { AssetPlan, GenerationAssetPlan, PaymentList, Profile, SignedPayment } from "../lib/types";
import { useSignedIn, useTronLink } from "../ui/account";
import { Addr, AssetAmt, Notice, TxHash, useLoad } from "../ui/bits";
import { load as inFlight } from "./inflight";
import { PackagePay } from "../plans/generation/member";
import { type Applied, Payment, notAppliedText } from "./payment";
import { SponsorFacts, SponsorRefusal, useSponsor } from "./sponsor";

export function Register(props: {
  sponsor: string;
  plans: AssetPlan[];
  /** The generation-plan assets (PLAN-GENERATION.md): paid with a package picked here. */
  generation: GenerationAssetPlan[];
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
  const pool = props.plans.find((p) => p.asset_id === assetId);
  const gen = pool ? undefined : props.generation.find((p) => p.asset_id === assetId);
  const plan = pool ?? gen;
  const choices = [
    ...props.plans.map((p) => ({ ...p, price: localHuman(p.registration_fee.human) })),
    ...props.generation.map((p) => ({ ...p, price: t("register.packages_from", { amount: p.packages[0] ? localHuman(p.packages[0].human) : "—" }) })),
  ];
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
              {tx(pool ? "register.cost_fee" : "register.cost_package", {
                asset: <strong data-testid="register-asset">{plan.symbol}</strong>,
                network: networkText(plan.chain_id),
                amount: pool && <AssetAmt a={pool.registration_fee} testid="register-amount" />,
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
          {signed && gen && !registered && !refused && !sponsorRefused && !me.loading && !payments.loading && (
            <PackagePay
              key={`${gen.asset_id}-${signed.connection.kind}-${signed.connection.account}`}
              connection={signed.connection}
              plan={gen}
              kind="register"
              verb={t("register.register_and_pay")}
              ask={(pkg) => post<SignedPayment>("/v1/users/register", { asset_id: gen.asset_id, sponsor: props.sponsor, package: pkg })}
              onApplied={(a) => {
                setApplied(a);
                props.onDone();
              }}
              onRefused={props.onDone}
            />
          )}
          {signed && pool && !registered && !refused && !sponsorRefused && !me.loading && !payments.loading && (
            <Payment
              key={`${pool.asset_id}-${signed.connection.kind}-${signed.connection.account}`}
              connection={signed.connection}
              plan={pool}
              kind="register"
              actionLabel={t("register.register_and_pay_amount", { amount: localHuman(pool.registration_fee.human) })}
              amount={pool.registration_fee}
              ask={() => post<SignedPayment>("/v1/users/register", { asset_id: pool.asset_id, sponsor: props.sponsor })}
              onApplied={(a) => {
                setApplied(a);
                props.onDone();
              }}
              onRefused={props.onDone}
            />
          )}
          {applied?.status && pool && <Outcome plan={pool} applied={applied} />}
          {applied?.status && gen && <PurchaseOutcome plan={gen} applied={applied} />}
        </>
      )}
    </section>
  );
}

/** What the fee did (PLAN.md §2): the sponsor's pool entry, or the direct reward and the operator's part. */
function Outcome(props: { plan: AssetPlan; applied: Applied }) {
  const { plan, applied } = props;
  const s = applied.status!;
  const fee = BigInt(plan.registration_fee.base);
  const direct = BigInt(plan.direct_amount.base);
  const d = plan.decimals;
  return (
    <Notice kind="ok" testid="register-outcome">
      <p>
        <Registered symbol={plan.symbol} chainId={plan.chain_id} applied={applied} />
      </p>
      {s.sponsor_pool_entry ? (
        <p data-testid="reward-split">
          {tx("register.split_pool", {
            fee: (
              <span data-testid="split-pool" dir="ltr">
                {amount(fee, d, plan.symbol)}
              </span>
            ),
            level: String(s.sponsor_pool_entry.level),
            position: String(s.sponsor_pool_entry.q),
          })}
        </p>
      ) : (
        <p data-testid="reward-split">
          {tx("register.split_direct", {
            direct: (
              <span data-testid="split-direct" dir="ltr">
                {amount(direct, d, plan.symbol)}
              </span>
            ),
            company: (
              <span data-testid="split-company" dir="ltr">
                {amount(fee - direct, d, plan.symbol)}
              </span>
            ),
          })}
        </p>
      )}
    </Notice>
  );
}

/** What a generation plan's registration did (PLAN-GENERATION.md §2): the user, and where the package went. */
function PurchaseOutcome(props: { plan: GenerationAssetPlan; applied: Applied }) {
  const { plan, applied } = props;
  const s = applied.status!;
  return (
    <Notice kind="ok" testid="register-outcome">
      <p>
        <Registered symbol={plan.symbol} chainId={plan.chain_id} applied={applied} />
      </p>
      <p data-testid="reward-split">
        {tx("register.split_package", {
          amount: (
            <span data-testid="split-package" dir="ltr">
              {localHuman(s.amount.human)}
            </span>
          ),
        })}
      </p>
    </Notice>
  );
}

/** "Registered: you are user #12 in USDT, since block 42 (transaction 0x…)." */
function Registered(props: { symbol: string; chainId: number; applied: Applied }) {
  const s = props.applied.status!;
  return (
    <>
      {tx("register.registered", {
        user: <strong data-testid="user-no">#{s.user?.user_no}</strong>,
        symbol: props.symbol,
        block: <span data-testid="registered-block">{s.user?.registered_block}</span>,
        tx: s.event ? <TxHash chainId={props.chainId} hash={s.event.tx_hash} /> : "—",
      })}
    </>
  );
}
