// Registration through a referral link (`/?ref=<sponsor>&asset=<id>`; the sponsor as 0x… or, on TRON, T…): who
// the sponsor is, in which asset, what it costs (an auto-pool asset's fixed fee, or a generation asset's package
// picked here), and what the payment did once the ledger applied it.

import { useState } from "preact/hooks";
import { get, post } from "../lib/api";
import { human } from "../lib/format";
import { chainAddress, isNative, isTronChain, networkText, parseAnyAddress } from "../lib/tron";
import type { AssetPlan, GenerationAssetPlan, PaymentList, Profile, SignedPayment } from "../lib/types";
import { useSignedIn, useTronLink } from "../ui/account";
import { Addr, AssetAmt, Notice, TxHash, useLoad } from "../ui/bits";
import { load as inFlight } from "./inflight";
import { PackagePay } from "./Generation";
import { type Applied, Payment, notAppliedText } from "./payment";

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
    ...props.plans.map((p) => ({ ...p, price: p.registration_fee.human })),
    ...props.generation.map((p) => ({ ...p, price: `packages from ${p.packages[0]?.human ?? "—"}` })),
  ];
  const valid = parseAnyAddress(props.sponsor) !== null;
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
      <h2 id="register-title">Join through a referral link</h2>
      {!valid && (
        <Notice kind="error" testid="bad-ref">
          This link's sponsor ({props.sponsor}) is not a valid address.
        </Notice>
      )}
      {valid && (
        <>
          <p>
            Sponsor: <Addr a={plan ? chainAddress(plan.chain_id, props.sponsor) : props.sponsor} testid="sponsor" chainId={plan?.chain_id} />
          </p>
          {props.assetId === null && choices.length > 1 && (
            <fieldset class="choice">
              <legend>Pay in</legend>
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
                  {p.symbol}
                  {isTronChain(p.chain_id) && ` on ${networkText(p.chain_id)}`} ({p.price})
                </label>
              ))}
            </fieldset>
          )}
          {plan && (
            <p data-testid="register-cost">
              Asset <strong data-testid="register-asset">{plan.symbol}</strong> on {networkText(plan.chain_id)};{" "}
              {pool ? (
                <>
                  the fee is <AssetAmt a={pool.registration_fee} testid="register-amount" />
                </>
              ) : (
                "you pay the package you pick below"
              )}
              {!isNative(plan.token) && " (your wallet first approves the contract to take it)"}.
              {tron && " It is paid with TronLink."} Read the odds and rules above before you pay.
            </p>
          )}
          {!signed && tron && !tronLink.present && (
            <Notice kind="error" testid="no-tronlink">
              TronLink was not found: install the TronLink extension to pay in {plan!.symbol} on {networkText(plan!.chain_id)}.
            </Notice>
          )}
          {!signed && (!tron || tronLink.present) && (
            <Notice kind="info">Connect your {tron ? "TronLink" : "wallet"} and sign in to register.</Notice>
          )}
          {signed && plan && registered && (
            <Notice kind="ok" testid="already-registered">
              This wallet is registered in {plan.symbol} as user #{standing!.user_no}
              {standing!.registered_block != null && ` since block ${standing!.registered_block}`}: its dashboard is below.
            </Notice>
          )}
          {signed && plan && refused && (
            <Notice kind="error" testid="register-refused">
              {notAppliedText(refused)}
            </Notice>
          )}
          {signed && gen && !registered && !refused && !me.loading && !payments.loading && (
            <PackagePay
              key={`${gen.asset_id}-${signed.connection.kind}-${signed.connection.account}`}
              connection={signed.connection}
              plan={gen}
              kind="register"
              verb="Register and pay"
              ask={(pkg) => post<SignedPayment>("/v1/users/register", { asset_id: gen.asset_id, sponsor: props.sponsor, package: pkg })}
              onApplied={(a) => {
                setApplied(a);
                props.onDone();
              }}
              onRefused={props.onDone}
            />
          )}
          {signed && pool && !registered && !refused && !me.loading && !payments.loading && (
            <Payment
              key={`${pool.asset_id}-${signed.connection.kind}-${signed.connection.account}`}
              connection={signed.connection}
              plan={pool}
              kind="register"
              actionLabel={`Register and pay ${pool.registration_fee.human}`}
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
        Registered: you are user <strong data-testid="user-no">#{s.user?.user_no}</strong> in {plan.symbol}, since block{" "}
        <span data-testid="registered-block">{s.user?.registered_block}</span> (transaction{" "}
        {s.event ? <TxHash chainId={plan.chain_id} hash={s.event.tx_hash} /> : "—"}).
      </p>
      {s.sponsor_pool_entry ? (
        <p data-testid="reward-split">
          Your whole fee of <span data-testid="split-pool">{human(fee, d)} {plan.symbol}</span> bought your sponsor a
          place in pool level {s.sponsor_pool_entry.level} (position {s.sponsor_pool_entry.q}); the places above it
          were credited their shares.
        </p>
      ) : (
        <p data-testid="reward-split">
          Your sponsor was credited <span data-testid="split-direct">{human(direct, d)} {plan.symbol}</span> as a direct
          reward; <span data-testid="split-company">{human(fee - direct, d)} {plan.symbol}</span> went to the operator.
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
        Registered: you are user <strong data-testid="user-no">#{s.user?.user_no}</strong> in {plan.symbol}, since block{" "}
        <span data-testid="registered-block">{s.user?.registered_block}</span> (transaction{" "}
        {s.event ? <TxHash chainId={plan.chain_id} hash={s.event.tx_hash} /> : "—"}).
      </p>
      <p data-testid="reward-split">
        Your package of <span data-testid="split-package">{s.amount.human}</span> was shared out to the sponsors above you
        whose levels are open to them, within their caps; the rest went to the operator. Your standing is below.
      </p>
    </Notice>
  );
}
