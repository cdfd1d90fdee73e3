// Treasury: the company's share of each asset, what left or may leave custody, the users' liabilities and the
// contract's balance; transfers of company funds (never more than available) and refunds of quarantined payments,
// proposed for approval (Approvals) or signed at once when the signer asks for no approvals, each sent from the admin's
// wallet the same way (`sendTransfer`).

import { useEffect, useState } from "preact/hooks";
import { isAddress } from "viem";
import { get, post } from "../lib/api";
import { Addr, Amount, AssetAmt, Loading, Notice, Pager, TxHash, useLoad, usePager } from "../ui/bits";
import { errorText, LoadFailed, useSignedIn } from "../ui/account";
import type { AnyConnection } from "../lib/tron";
import { networkLabel } from "../lib/networks";
import { type Asset, AssetPicker, time } from "./common";
import { ConfirmAction, IfCan, unixTime, toBase, useCan } from "../ui/console";
import { t, t as tr, tx } from "../i18n";
import { Statements } from "./Statements";
import { localHuman } from "../lib/format";
import type { Schema } from "../generated/api";

export type TreasurySummary = Schema<"TreasurySummary">;
export type TransferView = Schema<"TreasuryTransferView">;

/**
 * Sends a signed treasury transfer — a company transfer or a refund — from the signed-in admin's wallet on
 * `chainId`, saying each step through `report`: the one way the console sends one. True once mined (it counts as
 * executed when the listener confirms its event).
 */
export async function sendTransfer(
  connection: AnyConnection,
  chainId: number,
  transfer: TransferView,
  report: (text: string, error?: boolean) => void,
): Promise<boolean> {
  if (!transfer.transaction) return false;
  if (connection.kind !== "evm") {
    report(t("treasury.evm_only"), true);
    return false;
  }
  try {
    if ((await connection.chainId()) !== chainId) {
      report(t("treasury.switch", { network: networkLabel(chainId) }), true);
      return false;
    }
    report(t("treasury.confirm_in_wallet"));
    const hash = await connection.send({ to: transfer.transaction.to, data: transfer.transaction.data }, transfer.refund_of ? "refund" : "treasury transfer");
    report(t("treasury.sent_waiting", { hash }));
    const r = await connection.mined(hash);
    report(t("treasury.mined", { block: String(r.blockNumber) }));
    return true;
  } catch (e) {
    report(errorText(e), true);
    return false;
  }
}

export function Treasury(props: { assets: Asset[] }) {
  const [assetId, setAssetId] = useState(props.assets[0]?.asset_id ?? 1);
  const asset = props.assets.find((a) => a.asset_id === assetId)!;
  const [version, setVersion] = useState(0);
  const summary = useLoad(() => get<TreasurySummary>("/v1/admin/treasury", { asset_id: assetId }), [assetId, version]);
  const s = summary.data;
  const [to, setTo] = useState("");
  const [amount, setAmount] = useState("");
  const base = toBase(amount, asset.decimals);
  const toInvalid = to.trim() !== "" && !isAddress(to.trim());
  const tooMuch = base !== null && s !== undefined && base > BigInt(s.available.base);
  const amountInvalid = amount.trim() !== "" && (base === null || base === 0n || tooMuch);
  return (
    <section aria-labelledby="treasury-title" data-testid="treasury">
      <h2 id="treasury-title">{t("console.tab_treasury")}</h2>
      <AssetPicker assets={props.assets} value={assetId} onChange={setAssetId} />
      {summary.loading && !s && <Loading what={t("treasury.loading")} />}
      {summary.error && <LoadFailed error={summary.error} retry={summary.reload} />}
      {s && (
        <dl class="balances panel" data-testid="treasury-summary">
          <div>
            <dt>{t("treasury.company_total")}</dt>
            <dd><AssetAmt a={s.company_total} testid="t-company" /></dd>
          </div>
          <div>
            <dt>{t("treasury.transferred")}</dt>
            <dd><AssetAmt a={s.transferred} testid="t-transferred" /></dd>
          </div>
          <div>
            <dt>{t("treasury.reserved")}</dt>
            <dd><AssetAmt a={s.reserved} /></dd>
          </div>
          <div>
            <dt>{t("treasury.available")}</dt>
            <dd><AssetAmt a={s.available} testid="t-available" /></dd>
          </div>
          <div>
            <dt>{t("treasury.refunded")}</dt>
            <dd>
              <AssetAmt a={s.refunded} testid="t-refunded" />
              {s.refunds_reserved.base !== "0" && (
                <>
                  {" "}{tx("treasury.plus_signed", { amount: <AssetAmt a={s.refunds_reserved} /> })}
                </>
              )}
            </dd>
          </div>
          <div>
            <dt>{t("mon.owed")}</dt>
            <dd><AssetAmt a={s.liabilities} testid="t-liabilities" /></dd>
          </div>
          <div>
            <dt>{t("mon.series_chain")}</dt>
            <dd>{s.contract_balance ? <AssetAmt a={s.contract_balance} testid="t-balance" /> : s.chain_note}</dd>
          </div>
          <div>
            <dt>{t("treasury.contract_available")}</dt>
            <dd>{s.contract_available ? <AssetAmt a={s.contract_available} /> : "—"}</dd>
          </div>
        </dl>
      )}
      <IfCan need="finance">
      <section class="panel" aria-label={t("treasury.new_transfer")}>
        <h3>{t("treasury.transfer_title")}</h3>
        <div class="form-grid">
          <label>
            {t("treasury.to_allowlisted")}
            <input value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} aria-invalid={toInvalid} placeholder="0x…" data-testid="transfer-to" />
            {toInvalid && <span class="field-error">{t("staff.not_address")}</span>}
          </label>
          <label>
            {t("treasury.amount", { symbol: asset.symbol })}
            <input value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} inputMode="decimal" aria-invalid={amountInvalid} data-testid="transfer-amount" />
            {amountInvalid && (
              <span class="field-error">{tooMuch ? t("treasury.too_much", { available: localHuman(s?.available.human ?? "") }) : t("payouts.positive_decimals", { decimals: asset.decimals })}</span>
            )}
          </label>
          <ConfirmAction
            needs="finance"
            label={t("payouts.propose")}
            title={t("treasury.propose_title")}
            testid="transfer-propose"
            disabled={!s || base === null || base === 0n || tooMuch || !isAddress(to.trim())}
            describe={() => (
              <p>
                {tx("treasury.propose_describe", {
                  amount: <Amount base={base ?? 0n} decimals={asset.decimals} symbol={asset.symbol} />,
                  to: <code>{to}</code>,
                  left: <Amount base={BigInt(s?.available.base ?? "0") - (base ?? 0n)} decimals={asset.decimals} symbol={asset.symbol} />,
                })}
              </p>
            )}
            act={() =>
              post<Schema<"AuthorisationView">>("/v1/admin/authorisations", {
                kind: "treasury_transfer",
                asset_id: assetId,
                to: to.trim(),
                amount: (base ?? 0n).toString(),
              })
            }
            done={() => {
              setAmount("");
              setVersion((v) => v + 1);
            }}
          />
          <ConfirmAction
            needs="finance"
            label={t("treasury.sign")}
            title={t("treasury.sign_title")}
            testid="transfer"
            disabled={!s || base === null || base === 0n || tooMuch || !isAddress(to.trim())}
            describe={() => (
              <p>
                {tx("treasury.sign_describe", {
                  amount: <Amount base={base ?? 0n} decimals={asset.decimals} symbol={asset.symbol} />,
                  to: <code>{to}</code>,
                  available: localHuman(s?.available.human ?? ""),
                  left: <Amount base={BigInt(s?.available.base ?? "0") - (base ?? 0n)} decimals={asset.decimals} symbol={asset.symbol} />,
                })}
              </p>
            )}
            act={() => post<TransferView>("/v1/admin/treasury/transfers", { asset_id: assetId, to: to.trim(), amount: (base ?? 0n).toString() })}
            done={() => {
              setAmount("");
              setVersion((v) => v + 1);
            }}
          />
        </div>
      </section>
      </IfCan>
      <Transfers asset={asset} version={version} onChange={() => setVersion((v) => v + 1)} />
      <Statements asset={asset} />
    </section>
  );
}

function Transfers(props: { asset: Asset; version: number; onChange: () => void }) {
  const { asset } = props;
  const signed = useSignedIn();
  const can = useCan();
  const pager = usePager<number>();
  const [tick, setTick] = useState(0);
  const [sending, setSending] = useState<{ id: number; text: string; error?: boolean; done?: boolean } | null>(null);
  const page = useLoad(
    () => get<Schema<"Page_TreasuryTransferView">>("/v1/admin/treasury/transfers", { asset_id: asset.asset_id, cursor: pager.cursor, limit: 10 }),
    [asset.asset_id, pager.cursor, props.version, tick],
  );
  // A sent transfer is marked executed from the chain's confirmed event: look again until it is.
  const waiting = sending !== null && !sending.error && page.data?.items.find((t) => t.id === sending.id)?.status === "signed";
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(() => setTick((t) => t + 1), 1500);
    return () => clearTimeout(timer);
  }, [waiting, tick]);
  // Executed: the summary above changes too.
  const executed = sending && !sending.done ? page.data?.items.find((t) => t.id === sending.id && t.status === "executed") : undefined;
  useEffect(() => {
    if (!executed || !sending) return;
    setSending({ ...sending, text: t("treasury.executed", { block: String(executed.executed_block) }), done: true });
    props.onChange();
  }, [executed?.id]);
  const send = async (t: TransferView) => {
    if (!signed || !t.transaction) return;
    const report = (text: string, error?: boolean) => setSending({ id: t.id, text, error });
    if (await sendTransfer(signed.connection, asset.chain_id, t, report)) {
      setTick((x) => x + 1);
      props.onChange();
    }
  };
  return (
    <section class="panel" aria-label={t("treasury.transfers")} data-testid="transfers">
      <h3>{t("treasury.transfers")}</h3>
      {page.error && <LoadFailed error={page.error} retry={page.reload} />}
      <div class="table-wrap" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">{t("treasury.to")}</th>
              <th scope="col">{t("payouts.amount")}</th>
              <th scope="col">{t("payouts.status")}</th>
              <th scope="col">{t("treasury.nonce_deadline")}</th>
              <th scope="col">{t("mon.block")}</th>
              <th scope="col">{t("payouts.created")}</th>
              <th scope="col">
                <span class="sr-only">{t("treasury.send")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((t) => (
              <tr key={t.id} data-testid="transfer-row">
                <td>{t.id}</td>
                <td><Addr a={t.to} chainId={asset.chain_id} /></td>
                <td><Amount base={t.amount} decimals={asset.decimals} symbol={asset.symbol} /></td>
                <td data-testid="transfer-status">
                  {t.status} ({t.refund_of ? tr("approvals.kind_refund") : t.origin})
                  {t.status === "proposed" && t.authorisation_id != null && <div class="muted">{tr("treasury.awaiting", { id: String(t.authorisation_id) })}</div>}
                </td>
                <td>
                  <code title={t.nonce}>{t.nonce.length > 12 ? `${t.nonce.slice(0, 12)}…` : t.nonce}</code> / {unixTime(t.deadline)}
                </td>
                <td>
                  <span data-testid="transfer-block">{t.executed_block ?? "—"}</span>
                  {t.tx_hash && (
                    <div>
                      <TxHash chainId={asset.chain_id} hash={t.tx_hash} testid="transfer-tx" />
                    </div>
                  )}
                </td>
                <td>{time(t.created_at)}</td>
                <td>
                  {t.status === "signed" && t.transaction && can("finance") && (
                    <button type="button" class="danger" onClick={() => send(t)} disabled={sending?.id === t.id && !sending.error} data-testid="transfer-send">
                      {tr("treasury.send_from_wallet")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data?.items.length === 0 && (
        <p class="muted" data-testid="empty">
          {t("treasury.none")}
        </p>
      )}
      {sending && (
        <Notice kind={sending.error ? "error" : "info"} testid="transfer-sending">
          {t("treasury.sending", { id: String(sending.id), text: sending.text })}
        </Notice>
      )}
      <p class="muted">{t("treasury.treasurer_hint")}</p>
      <Pager pager={pager} next={page.data?.next_cursor} label={t("treasury.transfers")} />
    </section>
  );
}
