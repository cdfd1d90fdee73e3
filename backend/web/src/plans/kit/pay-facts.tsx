// What a member reads beside every pay button before paying (issue 47, finding 5): the amount in the asset and, where
// the operator configures a price feed, in a fiat currency; the network fee the wallet charges on top (the chain's gas
// price now × the gas the payment takes); that they can lose what they pay; and, one click away, who runs the service,
// the plan's rules and the terms. Prices come from `/v1/public/prices` (on-chain feeds, read by the API; a stale feed
// shows no price, only its age), the operator from `/v1/public/operator`.

import { useEffect, useState } from "preact/hooks";
import "../../i18n/member";
import { t, tx } from "../../i18n";
import { publicCall } from "../../lib/api";
import { dateTime, localHuman } from "../../lib/format";
import { decimalToScaled, fiat, mulPrice, rough } from "../../lib/money";
import type { AssetAmount, PriceQuote, PublicOperator, PublicPrices } from "../../lib/types";

/** How long the page keeps an answer before asking again (the API keeps its own for `[prices] cache_secs`). */
const KEEP_MS = 60_000;

type Facts = { prices: PublicPrices | null; operator: PublicOperator | null };
let cached: { at: number; facts: Promise<Facts> } | null = null;

/** Both answers, asked once for every button on the page; a failure leaves that half out (the button still works). */
function facts(): Promise<Facts> {
  if (!cached || Date.now() - cached.at > KEEP_MS) {
    const prices = publicCall<PublicPrices>("GET", "/v1/public/prices").catch(() => null);
    const operator = publicCall<PublicOperator>("GET", "/v1/public/operator").catch(() => null);
    cached = { at: Date.now(), facts: Promise.all([prices, operator]).then(([p, o]) => ({ prices: p, operator: o })) };
  }
  return cached.facts;
}

function useFacts(): Facts | null {
  const [f, setF] = useState<Facts | null>(null);
  useEffect(() => {
    let live = true;
    void facts().then((x) => live && setF(x));
    return () => {
      live = false;
    };
  }, []);
  return f;
}

/** The facts beside a pay button of `asset_id` paying `amount` (`first`: a registration, else a later payment). */
export function PayFacts(props: { assetId: number; symbol: string; decimals: number; amount: AssetAmount | null; first: boolean }) {
  const f = useFacts();
  if (!f) return null;
  const p = f.prices;
  const asset = p?.assets.find((a) => a.asset_id === props.assetId);
  const currency = p?.currency ?? null;
  const quote = asset?.price;
  const fee = props.first ? asset?.first_payment_fee : asset?.later_payment_fee;
  const chain = asset ? p?.chains.find((c) => c.chain_id === asset.chain_id) : undefined;
  const token = !!chain && chain.native_symbol !== props.symbol;
  const assetFiat = currency && quote?.value && props.amount ? fiat(mulPrice(BigInt(props.amount.base), props.decimals, quote.value), currency) : null;
  const feeText = fee && chain ? rough(BigInt(fee.fee.base), chain.native_decimals, chain.native_symbol) + (currency && fee.fiat ? ` (${t("pf.approx", { fiat: fiat(decimalToScaled(fee.fiat), currency) })})` : "") : null;
  const op = f.operator?.operator;
  return (
    <div class="pay-facts" data-testid="pay-facts" data-asset={props.assetId}>
      {props.amount && (
        <p data-testid="pay-amount-line">
          <span data-testid="pay-amount">{t("pf.you_pay", { amount: localHuman(props.amount.human) })}</span>
          {assetFiat && (
            <>
              {" "}
              <span data-testid="pay-fiat">({t("pf.approx", { fiat: assetFiat })})</span>
            </>
          )}{" "}
          <span data-testid="pay-fee">{feeText ? t(token ? "pf.fee_token" : "pf.fee_native", { fee: feeText }) : t("pf.fee_unknown")}</span>
        </p>
      )}
      {currency && quote && quote.state !== "current" && <PriceNote quote={quote} symbol={props.symbol} />}
      <p class="pay-risk" data-testid="pay-risk">
        <strong>{t("pf.risk")}</strong>
      </p>
      <details class="pay-who" data-testid="pay-operator">
        <summary>{t("pf.who")}</summary>
        {op ? (
          <div data-testid="operator">
            <p data-testid="operator-legal">{t("pf.operator", { legal: op.legal_name, name: op.name })}</p>
            <ul class="plain">
              {op.registration && <li>{t("pf.registration", { text: op.registration })}</li>}
              <li>{t("pf.address", { text: op.address })}</li>
              <li>{tx("pf.contact", { email: <a href={`mailto:${op.contact_email}`}>{op.contact_email}</a> })}</li>
              <li>{t("pf.jurisdiction", { text: op.jurisdiction })}</li>
            </ul>
          </div>
        ) : (
          <p class="notice warn" data-testid="operator-missing">
            {t("pf.no_operator")}
          </p>
        )}
        <p class="links">
          {op && (
            <a href={op.terms_url} target="_blank" rel="noopener noreferrer" data-testid="operator-terms">
              {t("pf.terms")}
            </a>
          )}
          {op?.privacy_url && (
            <>
              {" · "}
              <a href={op.privacy_url} target="_blank" rel="noopener noreferrer">
                {t("pf.privacy")}
              </a>
            </>
          )}
          {op && " · "}
          <a href={`#plan-${props.assetId}`} data-testid="pay-rules">
            {t("pf.rules")}
          </a>
        </p>
        {currency && quote?.state === "current" && quote.updated_at != null && (
          <p class="muted" data-testid="price-source">
            {t("pf.source", { currency, when: dateTime(quote.updated_at * 1000) })}
          </p>
        )}
      </details>
    </div>
  );
}

/** Why no price is shown: stale (with the answer's date), not usable, or not readable now. */
function PriceNote(props: { quote: PriceQuote; symbol: string }) {
  const q = props.quote;
  const text =
    q.state === "stale" && q.updated_at != null
      ? t("pf.price_stale", { symbol: props.symbol, when: dateTime(q.updated_at * 1000) })
      : t(q.state === "invalid" ? "pf.price_invalid" : "pf.price_unavailable", { symbol: props.symbol });
  return (
    <p class="muted" data-testid="pay-price-note" data-state={q.state}>
      {text}
    </p>
  );
}
