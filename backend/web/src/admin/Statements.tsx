// Statements for staff (issue 47 item 7): an asset's payout entries, reward credits or the company's ledger over a
// period, as CSV streamed from the API (GET /v1/admin/statements/{payouts,rewards,company}.csv), saved with the
// session. Periods are whole UTC days, the end not included, at most 366 days (the API refuses more).

import { useState } from "preact/hooks";
import { download } from "../lib/api";
import { networkFileSlug } from "../lib/networks";
import { t } from "../i18n";
import { errorText } from "../ui/account";
import { Notice } from "../ui/bits";
import type { Asset } from "./common";

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The period's days between `from` and `to` (the end not included), or null when it is not a valid period. */
function days(from: string, to: string): number | null {
  const a = Date.parse(`${from}T00:00:00Z`);
  const b = Date.parse(`${to}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !/^\d{4}-\d{2}-\d{2}$/.test(to) || Number.isNaN(a) || Number.isNaN(b)) return null;
  const n = (b - a) / DAY;
  return n >= 1 && n <= 366 ? n : null;
}

export function Statements(props: { asset: Asset }) {
  const now = Date.now();
  // This month so far, through today.
  const [from, setFrom] = useState(iso(Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1)));
  const [to, setTo] = useState(iso(now + DAY));
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const valid = days(from, to) !== null;
  const save = async (kind: "payouts" | "rewards" | "company") => {
    setBusy(kind);
    setError(null);
    try {
      await download(`/v1/admin/statements/${kind}.csv`, { asset_id: props.asset.asset_id, from, to }, `${kind}-${props.asset.symbol}-${networkFileSlug(props.asset.chain_id)}-${from}-${to}.csv`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <section class="panel" aria-labelledby="statements-title" data-testid="statements">
      <h3 id="statements-title">{t("statements.title")}</h3>
      <p class="muted">{t("statements.intro", { symbol: props.asset.symbol })}</p>
      <div class="form-grid">
        <label>
          {t("statements.from")}
          <input type="date" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} aria-invalid={!valid} data-testid="statements-from" />
        </label>
        <label>
          {t("statements.to")}
          <input type="date" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} aria-invalid={!valid} data-testid="statements-to" />
        </label>
      </div>
      {!valid && <p class="field-error" data-testid="statements-invalid">{t("statements.invalid")}</p>}
      <p>
        {(["payouts", "rewards", "company"] as const).map((kind) => (
          <button key={kind} type="button" onClick={() => save(kind)} disabled={!valid || busy !== null} data-testid={`statements-${kind}`}>
            {t(`statements.${kind}`)}
          </button>
        ))}
      </p>
      {error && <Notice kind="error" testid="statements-error">{error}</Notice>}
    </section>
  );
}
