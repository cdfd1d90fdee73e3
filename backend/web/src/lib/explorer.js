// Links to a chain's block explorer, per chain family; plain JavaScript (checked by tsc through JSDoc) so that
// the browser tests' unit check imports the very function the pages use.

/**
 * The explorer's page of a transaction or an address, or null without a usable (http/https) explorer base.
 * EVM explorers (BscScan and its kind): `{base}/tx/{0x hash}`, `{base}/address/{0x…}`. TRONSCAN:
 * `{base}/#/transaction/{id}` (the id without 0x) and `{base}/#/address/{T…}` (the caller gives the address in
 * its chain's form).
 * @param {string | null | undefined} base
 * @param {"evm" | "tron"} family
 * @param {"tx" | "address"} kind
 * @param {string} value
 * @returns {string | null}
 */
export function explorerUrl(base, family, kind, value) {
  const root = (base ?? "").trim().replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/i.test(root)) return null;
  const v = encodeURIComponent(value.trim());
  if (!v) return null;
  if (family === "tron") {
    return kind === "tx" ? `${root}/#/transaction/${v.replace(/^0x/i, "")}` : `${root}/#/address/${v}`;
  }
  return kind === "tx" ? `${root}/tx/${v}` : `${root}/address/${v}`;
}
