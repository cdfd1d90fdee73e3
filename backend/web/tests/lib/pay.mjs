// What the never-charged-twice browser tests share: a gate in front of the test wallet (a dialog left open, receipts
// held back), the page's payment records, and the payment's phase and steps as the page shows them.
import { CHAIN } from "./stack.mjs";

/**
 * Puts a gate in front of the test wallet: `holdSend(n)` leaves the n-th next `eth_sendTransaction` unanswered (the
 * wallet's dialog stays open) until `release()` — which then sends it, as a wallet whose user confirms late does —
 * and `holdReceipts` answers "not mined yet" for the payments' hashes until it is set back. `sent` lists what the
 * wallet actually broadcast.
 */
export function gate(wallet) {
  const original = wallet.handle.bind(wallet);
  const g = {
    sent: [],
    payments: new Set(),
    held: [],
    holdAt: null,
    seen: 0,
    holdReceipts: false,
    holdSend(nth = 1) {
      g.holdAt = g.seen + nth;
    },
    /** Answers the held requests: sends them now (the old page is gone; whatever the node says is the outcome). */
    async release() {
      const out = [];
      for (const h of g.held.splice(0)) out.push(await h.go());
      return out;
    },
  };
  const send = async (params) => {
    const hash = await original("eth_sendTransaction", params);
    g.sent.push(hash);
    if (params[0].to?.toLowerCase() === CHAIN.settlement.toLowerCase()) g.payments.add(hash.toLowerCase());
    return hash;
  };
  wallet.handle = async (method, params) => {
    if (method === "eth_sendTransaction") {
      g.seen += 1;
      if (g.seen === g.holdAt) {
        return new Promise((resolve, reject) => {
          g.held.push({
            params,
            go: () =>
              send(params).then(
                (hash) => (resolve(hash), { hash }),
                (error) => (reject(error), { error: error.shortMessage ?? error.message }),
              ),
          });
        });
      }
      return send(params);
    }
    if (method === "eth_getTransactionReceipt" && g.holdReceipts && g.payments.has(String(params[0]).toLowerCase())) return null;
    return original(method, params);
  };
  return g;
}

/** The page's payment records (what it keeps in localStorage across reloads and tabs). */
export const records = (page) =>
  page.evaluate(() =>
    Object.keys(localStorage)
      .filter((k) => k.startsWith("referral.payment."))
      .map((k) => JSON.parse(localStorage.getItem(k))),
  );

/** After a reload (or in another tab): the session comes back through the cookie and the wallet without a prompt. */
export async function backAfterReload(page) {
  await page.getByTestId("sign-out").waitFor({ timeout: 30_000 });
}

export const stepState = (scope, id) => scope.getByTestId(`step-${id}`).getAttribute("data-state");
export const phase = (scope, kind) => scope.getByTestId(`payment-${kind}`).getAttribute("data-phase");
