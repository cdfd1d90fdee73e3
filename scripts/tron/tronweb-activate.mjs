// A TRX transfer that activates a new account, driven by TronWeb (npm `tronweb`, pinned) against a TRON node's HTTP
// API: the independence check of the test node's account model. TronWeb builds the transfer
// (`/wallet/createtransaction`), checks what the node built against what it asked for, signs it and broadcasts it,
// then reads the recipient's account (the full node's view: it is not solidified yet) and bandwidth as a dApp does before
// any wallet prompt.
//
// stdin:  {"full_host": "http://…", "key": "<hex>", "to": "T…", "amount": <sun>}
// stdout: {"before": <getAccount>, "sent": {"result": …, "txid": …}, "after": <getAccount>,
//          "resources": <getAccountResources>, "info": {"fee": …}}
import { TronWeb } from "tronweb";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const tronWeb = new TronWeb({ fullHost: input.full_host, privateKey: input.key });
const owner = tronWeb.address.fromPrivateKey(input.key);

const before = await tronWeb.trx.getUnconfirmedAccount(input.to);
const built = await tronWeb.transactionBuilder.sendTrx(input.to, input.amount, owner);
const signed = await tronWeb.trx.sign(built);
const sent = await tronWeb.trx.sendRawTransaction(signed);
let info = {};
for (let i = 0; i < 100 && info.blockNumber === undefined; i++) {
  info = await tronWeb.trx.getUnconfirmedTransactionInfo(signed.txID);
  if (info.blockNumber === undefined) await new Promise((r) => setTimeout(r, 50));
}
const after = await tronWeb.trx.getUnconfirmedAccount(input.to);
const resources = await tronWeb.trx.getAccountResources(input.to);
process.stdout.write(
  JSON.stringify({
    before,
    sent: { result: sent.result === true, txid: sent.txid ?? signed.txID, code: sent.code ?? null },
    after,
    resources,
    info: { fee: info.fee ?? null },
  }),
);
