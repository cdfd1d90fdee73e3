// Catalogue: the products a sales-plan asset sells (PLAN-SALES.md; issue 69). Every staff role reads each product —
// inactive ones too, which the public catalogue leaves out — and the catalogue's newest changes (who, why, when); the
// `catalogue` role adds or changes a product (`PUT /v1/admin/catalogue/{asset_id}/products/{sku}`), each change a new
// catalogue version with its reason. The price is typed in the asset's human units and sent as exact base units
// (`toBase`: text, never a float), so what staff confirm is what orders are priced at. The API checks every bound; the
// form checks the same first so that a refusal is rare, and says each one in words when it comes.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, call, get } from "../lib/api";
import { human, num } from "../lib/format";
import { Addr, Amount, AssetAmt, Loading, Notice, useLoad } from "../ui/bits";
import { LoadFailed, errorText, useSignedIn } from "../ui/account";
import { type Asset, AssetPicker } from "./common";
import { ConfirmAction, IfCan, toBase, unixTime, useCan } from "../ui/console";
import { type ConsoleKey, t, tx } from "../i18n";
import type { Schema } from "../generated/api";

type AdminCatalogueView = Schema<"AdminCatalogueView">;
type ProductView = Schema<"ProductView">;
type SigningView = Schema<"SigningView">;

/** A SKU as the API takes it: 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit. */
const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
/** Longest name, in characters (code points, as the API counts them). */
const MAX_NAME = 120;
/** Most PV a product may carry. */
const MAX_PV = 1_000_000_000;
/** A price is 1 to 2^112 − 1 base units (the API's bound, `PRICE_LIMIT` of ledger::plan::sales::catalogue). */
const PRICE_LIMIT = 1n << 112n;

/** The fields of the API's `invalid_product` message ("price: …"), by the form's words for them. */
const FIELDS: Record<string, ConsoleKey> = {
  sku: "catalogue.sku",
  name: "catalogue.name",
  price: "catalogue.price_col",
  pv: "catalogue.pv",
};

/** `assets`: the sales-plan assets (`GET /v1/public/plan`'s `sales`): only they have a catalogue. */
export function Catalogue(props: { assets: Asset[] }) {
  const [assetId, setAssetId] = useState(props.assets[0]?.asset_id ?? 0);
  const asset = props.assets.find((a) => a.asset_id === assetId) ?? props.assets[0];
  const [tick, setTick] = useState(0);
  // Which product the form was last filled from (a row's Edit), and how often: the same row again starts it afresh.
  const [editing, setEditing] = useState<{ from: ProductView | null; n: number }>({ from: null, n: 0 });
  const can = useCan();
  const list = useLoad(
    () => (asset ? get<AdminCatalogueView>(`/v1/admin/catalogue/${asset.asset_id}`) : Promise.resolve(null)),
    [asset?.asset_id, tick],
  );
  if (!asset) {
    return (
      <section aria-labelledby="catalogue-title" data-testid="catalogue">
        <h2 id="catalogue-title">{t("console.tab_catalogue")}</h2>
        <Notice kind="info" testid="catalogue-no-asset">
          {t("catalogue.no_sales_asset")}
        </Notice>
      </section>
    );
  }
  // The data of another asset (the picker changed, its load not back yet) is not shown under this one's name.
  const c = list.data && list.data.asset_id === asset.asset_id ? list.data : null;
  const edit = (p: ProductView) => setEditing((e) => ({ from: p, n: e.n + 1 }));
  return (
    <section aria-labelledby="catalogue-title" data-testid="catalogue">
      <h2 id="catalogue-title">{t("console.tab_catalogue")}</h2>
      <p class="muted">{t("catalogue.intro")}</p>
      <AssetPicker
        assets={props.assets}
        value={asset.asset_id}
        onChange={(id) => {
          setAssetId(id);
          setEditing((e) => ({ from: null, n: e.n + 1 }));
        }}
      />
      {list.loading && !c && <Loading what={t("catalogue.loading")} />}
      {list.error && <LoadFailed error={list.error} retry={list.reload} />}
      {c && (
        <>
          <p data-testid="catalogue-version" data-version={c.version}>
            {c.version === 0 ? t("catalogue.version_none") : t("catalogue.version", { version: String(c.version) })}
          </p>
          {c.products.length === 0 ? (
            <p class="muted" data-testid="catalogue-empty">
              {t("catalogue.empty")}
            </p>
          ) : (
            <div class="table-wrap panel" tabIndex={0}>
              <table>
                <caption>{t("catalogue.products", { symbol: c.symbol })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("catalogue.sku")}</th>
                    <th scope="col">{t("catalogue.name")}</th>
                    <th scope="col">{t("catalogue.price_col")}</th>
                    <th scope="col">{t("catalogue.pv")}</th>
                    <th scope="col">{t("catalogue.state")}</th>
                    <th scope="col">{t("catalogue.col_version")}</th>
                    {can("catalogue") && <th scope="col">{t("webhooks.actions")}</th>}
                  </tr>
                </thead>
                <tbody>
                  {c.products.map((p) => (
                    <tr key={p.sku} data-testid="catalogue-product" data-sku={p.sku} data-active={p.active ? "true" : "false"}>
                      <td>
                        <code dir="ltr">{p.sku}</code>
                      </td>
                      <td>{p.name}</td>
                      <td>
                        <AssetAmt a={p.price} testid="catalogue-price" />
                      </td>
                      <td data-testid="catalogue-pv">{num(p.pv)}</td>
                      <td>{p.active ? t("catalogue.active") : t("catalogue.inactive")}</td>
                      <td>{p.version}</td>
                      {can("catalogue") && (
                        <td>
                          <button type="button" onClick={() => edit(p)} data-testid="catalogue-edit">
                            {t("catalogue.edit")}
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {c.version > 0 && <Signing asset={asset} version={c.version} />}
          <IfCan need="catalogue">
            <ProductForm
              key={`${asset.asset_id}:${editing.n}`}
              asset={asset}
              products={c.products}
              from={editing.from}
              saved={() => setTick((x) => x + 1)}
            />
          </IfCan>
          <History history={c.history} />
        </>
      )}
    </section>
  );
}

/**
 * Which catalogue version orders are priced from (every staff role reads it), and the catalogue wallet's signature of
 * the newest one (the `catalogue` role): the wallet shows every product and price it signs (`CatalogueVersion`, EIP-712), the API checks
 * the signature is this wallet's, and the signer prices each sale again from the signed version — only if its policy
 * lists the wallet (contracts/SALES.md §7).
 */
function Signing(props: { asset: Asset; version: number }) {
  const signed = useSignedIn();
  const [tick, setTick] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const view = useLoad(
    () => get<SigningView>(`/v1/admin/catalogue/${props.asset.asset_id}/signing`),
    [props.asset.asset_id, props.version, tick],
  );
  const v = view.data;
  const sign = async () => {
    if (!v || !signed) return;
    setBusy(true);
    setError(null);
    try {
      const signature = await signed.connection.signTypedData(v.typed_data as object);
      await call("POST", `/v1/admin/catalogue/${props.asset.asset_id}/signatures`, { version: v.version, signature });
      setTick((x) => x + 1);
    } catch (e) {
      setError(e instanceof ApiError ? errorText(e) : String((e as Error)?.message ?? e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="panel" data-testid="catalogue-signing" aria-labelledby="catalogue-signing-title">
      <h3 id="catalogue-signing-title">{t("catalogue.signing_title")}</h3>
      {view.loading && !v && <Loading what={t("catalogue.loading")} />}
      {view.error && <LoadFailed error={view.error} retry={view.reload} />}
      {v && (
        <>
          {v.signed ? (
            <p data-testid="catalogue-signed" data-version={v.signed.version}>
              {tx("catalogue.signed", {
                version: String(v.signed.version),
                wallet: <Addr a={v.signed.wallet} />,
                at: unixTime(v.signed.signed_at),
              })}
            </p>
          ) : (
            <Notice kind="warn" testid="catalogue-unsigned">
              {t("catalogue.unsigned")}
            </Notice>
          )}
          {v.signed?.version !== v.version && (
            <>
              <p data-testid="catalogue-sign-needed">{t("catalogue.sign_needed", { version: String(v.version) })}</p>
              <IfCan need="catalogue">
                <p class="muted">{t("catalogue.sign_note")}</p>
                <button type="button" onClick={sign} disabled={busy || !signed} data-testid="catalogue-sign">
                  {t("catalogue.sign", { version: String(v.version) })}
                </button>
              </IfCan>
            </>
          )}
          {error && (
            <Notice kind="error" testid="catalogue-sign-error">
              {error}
            </Notice>
          )}
        </>
      )}
    </div>
  );
}

/**
 * The form that adds a product or changes one (the `catalogue` role only): filled from `from` when a row's Edit opened
 * it. A SKU the catalogue has already is a change of that product, shown against what it is now; a new SKU adds one.
 */
function ProductForm(props: { asset: Asset; products: ProductView[]; from: ProductView | null; saved: () => void }) {
  const { asset, from } = props;
  const [sku, setSku] = useState(from?.sku ?? "");
  const [name, setName] = useState(from?.name ?? "");
  // The price in human units as the API's exact base units read ("12.5"): a "." is taken in every language.
  const [price, setPrice] = useState(from ? human(from.price.base, asset.decimals) : "");
  const [pv, setPv] = useState(from ? String(from.pv) : "");
  const [active, setActive] = useState(from?.active ?? true);
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<ProductView | null>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  // Opened from a row's Edit (below the table, perhaps off screen): the form comes into view with its name to edit.
  useEffect(() => {
    if (!from) return;
    nameInput.current?.scrollIntoView({ block: "center" });
    nameInput.current?.focus({ preventScroll: true });
  }, []);
  /** A field's input handler: a saved notice stays only until the form is changed again. */
  const field = (set: (v: string) => void) => (e: Event) => {
    set((e.target as HTMLInputElement).value);
    setResult(null);
  };

  const s = sku.trim();
  const skuInvalid = s !== "" && !SKU.test(s);
  const current = props.products.find((p) => p.sku === s) ?? null;
  const n = name.trim();
  const nameLength = [...n].length;
  const nameInvalid = name !== "" && (nameLength === 0 || nameLength > MAX_NAME || /\p{Cc}/u.test(n));
  const base = toBase(price, asset.decimals);
  const priceInvalid = price.trim() !== "" && (base === null || base === 0n || base >= PRICE_LIMIT);
  const pvNumber = /^[0-9]{1,10}$/.test(pv.trim()) ? Number(pv.trim()) : null;
  const pvInvalid = pv.trim() !== "" && (pvNumber === null || pvNumber > MAX_PV);
  const why = reason.trim();
  const complete = s !== "" && n !== "" && base !== null && pvNumber !== null;
  const invalid = skuInvalid || nameInvalid || priceInvalid || pvInvalid;
  // Exactly what the product is already: the API would make no version (409 no_change), so the form says so first.
  const unchanged =
    current !== null && complete && current.name === n && current.price.base === base.toString() && current.pv === pvNumber && current.active === active;
  const amount = (b: string | bigint) => <Amount base={b} decimals={asset.decimals} symbol={asset.symbol} />;
  const state = (on: boolean) => (on ? t("catalogue.active") : t("catalogue.inactive"));

  /** What the change does, field by field, for the confirmation. */
  const describe = () => {
    if (!complete) return null;
    const tail = <p>{t("catalogue.describe_tail", { reason: why })}</p>;
    if (!current) {
      return (
        <>
          <p>
            {tx("catalogue.describe_new", {
              sku: <code dir="ltr">{s}</code>,
              symbol: asset.symbol,
              name: n,
              price: amount(base),
              pv: num(pvNumber),
              state: state(active),
            })}
          </p>
          {tail}
        </>
      );
    }
    const changes: ComponentChildren[] = [];
    if (current.name !== n) changes.push(tx("catalogue.change_name", { from: current.name, to: n }));
    if (current.price.base !== base.toString()) changes.push(tx("catalogue.change_price", { from: <AssetAmt a={current.price} />, to: amount(base) }));
    if (current.pv !== pvNumber) changes.push(tx("catalogue.change_pv", { from: num(current.pv), to: num(pvNumber) }));
    if (current.active !== active) changes.push(tx("catalogue.change_state", { from: state(current.active), to: state(active) }));
    return (
      <>
        <p>{tx("catalogue.describe_change", { sku: <code dir="ltr">{s}</code>, symbol: asset.symbol })}</p>
        <ul data-testid="catalogue-changes">
          {changes.map((x, i) => (
            <li key={i}>{x}</li>
          ))}
        </ul>
        {tail}
      </>
    );
  };

  /**
   * The API's refusals in words: the form's own checks make most of them rare (another tab, a role just revoked). Any
   * other code falls back to ConfirmAction's plain notice (`errorText`).
   */
  const refusal = (e: unknown) => {
    if (!(e instanceof ApiError)) return null;
    let text: ComponentChildren = null;
    switch (e.code) {
      case "no_change":
        text = tx("catalogue.err_no_change", { sku: <code dir="ltr">{s}</code> });
        break;
      case "catalogue_full":
        text = t("catalogue.err_full", { symbol: asset.symbol });
        break;
      case "invalid_product": {
        // "price: 1 to 2^112 − 1 base units": the field in the form's words, the API's bound after it.
        const m = /^(\w+):\s*(.*)$/s.exec(e.message);
        const field = m && FIELDS[m[1]];
        text = field ? t("catalogue.err_invalid_field", { field: t(field), message: m[2] }) : t("catalogue.err_invalid", { message: e.message });
        break;
      }
      case "invalid_amount":
        text = t("catalogue.err_amount", { message: e.message });
        break;
      case "reason_required":
        text = t("catalogue.err_reason");
        break;
      case "forbidden":
        text = t("catalogue.err_forbidden");
        break;
      case "no_catalogue":
        text = t("catalogue.err_no_catalogue", { symbol: asset.symbol, id: String(asset.asset_id) });
        break;
      default:
        return null;
    }
    return (
      <Notice kind="error" testid="catalogue-save-error">
        {text}
      </Notice>
    );
  };

  return (
    <section class="panel" aria-labelledby="catalogue-form-title" data-testid="catalogue-form">
      <h3 id="catalogue-form-title">{current ? t("catalogue.form_edit", { sku: s }) : t("catalogue.form_new")}</h3>
      {current && (
        <p class="muted" data-testid="catalogue-now">
          {tx("catalogue.now", {
            name: current.name,
            price: <AssetAmt a={current.price} />,
            pv: num(current.pv),
            state: state(current.active),
            version: String(current.version),
          })}
        </p>
      )}
      <div class="form-grid">
        <label>
          {t("catalogue.sku")}
          <input
            value={sku}
            maxLength={32}
            dir="ltr"
            spellcheck={false}
            onInput={field(setSku)}
            aria-invalid={skuInvalid}
            data-testid="catalogue-sku"
          />
          {skuInvalid && <span class="field-error">{t("catalogue.sku_invalid")}</span>}
        </label>
        <label>
          {t("catalogue.name")}
          <input ref={nameInput} value={name} onInput={field(setName)} aria-invalid={nameInvalid} data-testid="catalogue-name" />
          {nameInvalid && <span class="field-error">{t("catalogue.name_invalid", { max: String(MAX_NAME) })}</span>}
        </label>
        <label>
          {t("catalogue.price", { symbol: asset.symbol })}
          <input
            value={price}
            inputMode="decimal"
            dir="ltr"
            onInput={field(setPrice)}
            aria-invalid={priceInvalid}
            data-testid="catalogue-price-input"
          />
          {priceInvalid && (
            <span class="field-error">
              {base !== null && base >= PRICE_LIMIT ? t("catalogue.price_too_high") : t("payouts.positive_decimals", { decimals: asset.decimals })}
            </span>
          )}
        </label>
        <label>
          {t("catalogue.pv")}
          <input value={pv} inputMode="numeric" dir="ltr" onInput={field(setPv)} aria-invalid={pvInvalid} data-testid="catalogue-pv-input" />
          {pvInvalid && <span class="field-error">{t("catalogue.pv_invalid", { max: num(MAX_PV) })}</span>}
        </label>
        <label class="inline">
          <input
            type="checkbox"
            checked={active}
            onChange={(e) => {
              setActive((e.target as HTMLInputElement).checked);
              setResult(null);
            }}
            data-testid="catalogue-active"
          />{" "}
          {t("catalogue.active_label")}
        </label>
        <label>
          {t("approvals.reason")}
          <input
            value={reason}
            maxLength={500}
            required
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
            placeholder={t("users.reason_placeholder")}
            data-testid="catalogue-reason"
          />
        </label>
        {/* ConfirmAction sends once per confirmation and stays disabled while the request is out: a double click sends one PUT. */}
        <ConfirmAction
          needs="catalogue"
          label={current ? t("catalogue.save_change") : t("catalogue.add")}
          title={current ? t("catalogue.form_edit", { sku: s }) : t("catalogue.form_new")}
          testid="catalogue-save"
          disabled={!complete || invalid || unchanged || why === ""}
          describe={describe}
          act={() =>
            call<ProductView>("PUT", `/v1/admin/catalogue/${asset.asset_id}/products/${encodeURIComponent(s)}`, {
              name: n,
              price: (base ?? 0n).toString(),
              pv: pvNumber,
              active,
              reason: why,
            })
          }
          done={(p) => {
            setResult(p);
            setReason("");
            props.saved();
          }}
          failed={refusal}
        />
      </div>
      {unchanged && !result && (
        <p class="muted" data-testid="catalogue-unchanged">
          {t("catalogue.unchanged")}
        </p>
      )}
      {result && (
        <Notice kind="ok" testid="catalogue-saved">
          {tx("catalogue.saved", { sku: <code dir="ltr">{result.sku}</code>, version: String(result.version), price: <AssetAmt a={result.price} /> })}
        </Notice>
      )}
    </section>
  );
}

/** The catalogue's newest changes (the API keeps 50 here; the audit log keeps each with the product before and after). */
function History(props: { history: AdminCatalogueView["history"] }) {
  return (
    <section class="panel" aria-labelledby="catalogue-history-title" data-testid="catalogue-history">
      <h3 id="catalogue-history-title">{t("catalogue.history")}</h3>
      {props.history.length === 0 ? (
        <p class="muted">{t("catalogue.history_none")}</p>
      ) : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <caption class="muted">{t("catalogue.history_caption")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("catalogue.col_version")}</th>
                <th scope="col">{t("catalogue.sku")}</th>
                <th scope="col">{t("audit.who")}</th>
                <th scope="col">{t("payouts.why")}</th>
                <th scope="col">{t("audit.when")}</th>
              </tr>
            </thead>
            <tbody>
              {props.history.map((v) => (
                <tr key={v.version} data-testid="catalogue-change" data-version={v.version}>
                  <td>{v.version}</td>
                  <td>
                    <code dir="ltr">{v.sku}</code>
                  </td>
                  <td>
                    <Addr a={v.actor} />
                  </td>
                  <td>{v.reason}</td>
                  <td>{unixTime(v.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
